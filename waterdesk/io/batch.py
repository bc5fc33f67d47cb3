"""The files of a batch directory (docs/BATCH.md, docs/REFERENCE.md §9): one result per run
(``<run-id>.nc``), a record per failed run (``<run-id>.failed.json``), the manifest
(``sweep.json``) and the summary (``summary.nc``). The executor (`waterdesk.batch.execute`)
decides what to run; every byte it reads or writes goes through here, atomically."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waterdesk.errors import InputError, Problem
from waterdesk.io.atomic import write_bytes

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["prepare_dir", "run_file", "failure_file", "has_run", "write_run", "write_failure", "read_failure",
           "check_manifest", "write_summary"]


def prepare_dir(out: Path) -> Path:
    """Create the batch directory (and its parents) if needed."""
    out.mkdir(parents=True, exist_ok=True)
    return out


def run_file(out: Path, run_id: str) -> Path:
    """Where a run's result goes."""
    return out / f"{run_id}.nc"


def failure_file(out: Path, run_id: str) -> Path:
    """Where a failed run's record goes."""
    return out / f"{run_id}.failed.json"


def has_run(out: Path, run_id: str) -> bool:
    """The run's result file exists (the run is done; a resumed batch skips it)."""
    return run_file(out, run_id).exists()


def write_run(ds: "xr.Dataset", out: Path, run_id: str) -> Path:
    """Write a run's result (`waterdesk.io.netcdf.write_result`) and drop an old failure record."""
    from waterdesk.io.netcdf import write_result

    path = write_result(ds, run_file(out, run_id))
    failure_file(out, run_id).unlink(missing_ok=True)
    return path


def write_failure(out: Path, run_id: str, record: dict[str, Any]) -> Path:
    """Write a failed run's record (status, reason, overrides) as JSON."""
    return write_bytes(failure_file(out, run_id), json.dumps(record, indent=2, sort_keys=True).encode())


def read_failure(out: Path, run_id: str) -> dict[str, Any] | None:
    """A failed run's record, or None when the run has none."""
    path = failure_file(out, run_id)
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def check_manifest(out: Path, record: dict[str, Any]) -> None:
    """Record the runs in DIR/sweep.json; refuse a directory holding another sweep."""
    text = json.dumps(record, indent=2, sort_keys=True, default=str)
    path = out / "sweep.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old != json.loads(text):
            raise InputError([Problem(path, None, "runs",
                                      "this directory holds the runs of a different sweep; "
                                      "use another directory or empty this one")])
        return
    write_bytes(path, text.encode())


def write_summary(ds: "xr.Dataset", out: Path) -> Path:
    """Write the summary to DIR/summary.nc (atomically)."""
    from waterdesk.io.netcdf import write_dataset

    return write_dataset(ds, out / "summary.nc")
