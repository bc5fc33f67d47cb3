"""Batch summaries on disk: open a result or a summary (DIR or DIR/summary.nc) and the run
files next to a summary. The analysis of a summary (`waterdesk.analysis.ensemble`) takes
the Datasets these return and opens nothing itself."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from waterdesk.errors import InputError, Problem

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["SUMMARY_TITLE", "is_summary", "summary_path", "open_result_or_summary", "run_opener"]

#: the title `waterdesk batch` gives its summary.nc
SUMMARY_TITLE = "waterdesk sweep summary"


def is_summary(ds: "xr.Dataset") -> bool:
    """A sweep summary: the title `waterdesk batch` writes, or a `run` dimension with `status`."""
    return ds.attrs.get("title") == SUMMARY_TITLE or ("run" in ds.dims and "status" in ds)


def summary_path(path: str | os.PathLike[str]) -> Path:
    """The summary file a path names: DIR means DIR/summary.nc."""
    p = Path(path)
    return p / "summary.nc" if p.is_dir() else p


def open_result_or_summary(path: str | os.PathLike[str]) -> tuple[str, "xr.Dataset"]:
    """("result", Dataset) or ("summary", Dataset), loaded and closed; a directory means its
    summary.nc. A summary remembers where it was read (attribute ``summary_path``, not
    written back) so that `run_opener` finds its run files. An ensemble result (a
    ``member`` dimension) comes back as a "result": `waterdesk.open_result_or_summary`
    turns it into a summary.

    Raises InputError (one problem naming the file) for a missing or unreadable file,
    or one that is neither a waterdesk result nor a sweep summary.
    """
    import xarray as xr

    p = summary_path(path)
    if not p.exists():
        what = "no summary.nc in this directory (has `waterdesk batch` finished?)" if Path(path).is_dir() \
            else "file not found"
        raise InputError([Problem(Path(path), None, "", what)])
    try:
        with xr.open_dataset(p, engine="netcdf4") as ds:
            loaded = ds.load()
    except (OSError, ValueError) as err:
        raise InputError([Problem(p, None, "", f"not a readable NetCDF file ({err})")]) from None
    if is_summary(loaded):
        loaded.attrs["summary_path"] = str(p)
        return "summary", loaded
    if "waterdesk_version" in loaded.attrs:
        return "result", loaded
    raise InputError([Problem(p, None, "", "not a waterdesk result (no waterdesk_version attribute) "
                                           "nor a batch summary (no run dimension)")])


def run_opener(summary: "xr.Dataset") -> "Callable[[str], xr.Dataset | None]":
    """A function run id -> that run's result Dataset, read from the file next to the
    summary (None when the summary was not read from a file, or the run's file is missing
    or unreadable)."""
    from waterdesk.io.netcdf import open_result

    where = summary.attrs.get("summary_path")
    folder = Path(str(where)).parent if where else None

    def open_run(run_id: str) -> "xr.Dataset | None":
        if folder is None or not (folder / f"{run_id}.nc").exists():
            return None
        try:
            return open_result(folder / f"{run_id}.nc")
        except InputError:
            return None

    return open_run
