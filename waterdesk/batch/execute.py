"""Run a sweep: one result file per run, a record per failed run, one summary.

Every run is computed by `_run_one` from its scenario path and overrides alone, so the
result does not depend on where it runs (this process, a process pool or a Dask
worker). The summary is built afterwards, in run order, from the files.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from waterdesk.analysis.summary import run_scalars, summary_table
from waterdesk.model.sweep import MEMBER_KEY, Sweep
from waterdesk.pipeline import load_scenario, run as run_scenario
from waterdesk._version import __version__
from waterdesk.io import batch as files
from waterdesk.io.sweep import load_sweep
from waterdesk.errors import InfeasibleError, InputError, Problem, SolverError
from waterdesk.simulate import MEMBERS_PER_STACK

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.model.scenario import Scenario

__all__ = ["run_sweep", "STATUSES"]

#: status of a run in the summary
STATUSES = ("ok", "invalid", "infeasible", "solver_error")

#: a task: scenario path, [(run id, overrides)], out dir; with members, one task holds up
#: to MEMBERS_PER_TASK members of one combination, run together as a stacked LP
RunTask = tuple[str, list[tuple[str, dict[str, Any]]], str]

#: members of one combination solved together (`waterdesk.simulate.simulate_members`, one
#: stack). Fixed, not derived from the worker count, so the stacks and the results are the
#: same whatever executes them; a resumed task recomputes its whole stack and writes only
#: the files that are missing.
MEMBERS_PER_TASK = MEMBERS_PER_STACK


def _failure(err: Exception) -> tuple[str, str]:
    if isinstance(err, InputError):
        return "invalid", "; ".join(str(p) for p in err.problems)
    if isinstance(err, InfeasibleError):
        return "infeasible", str(err)
    return "solver_error", str(err)


def _record_failure(out: Path, run_id: str, overrides: dict[str, Any], err: Exception) -> tuple[str, str, str]:
    status, reason = _failure(err)
    files.write_failure(out, run_id, {"run": run_id, "status": status, "reason": reason, "overrides": overrides})
    return run_id, status, reason


def _write_run(out: Path, run_id: str, overrides: dict[str, Any], ds: "xr.Dataset") -> tuple[str, str, str]:
    ds.attrs["batch_run"] = run_id
    ds.attrs["batch_overrides"] = json.dumps(overrides, sort_keys=True)
    files.write_run(ds, out, run_id)
    return run_id, "ok", ""


def _run_one(scenario: str, run_id: str, overrides: dict[str, Any], out_dir: str) -> tuple[str, str, str]:
    """Run one run of the sweep unless its file exists; (run id, status, reason)."""
    out = Path(out_dir)
    if files.has_run(out, run_id):
        return run_id, "ok", ""
    try:
        sc = load_scenario(scenario, overrides)
        sc = sc.replace(name=f"{sc.name}-{run_id}")
        return _write_run(out, run_id, overrides, run_scenario(sc))
    except (InputError, InfeasibleError, SolverError) as err:
        return _record_failure(out, run_id, overrides, err)


def _undo_dask_malloc_trim() -> None:
    """Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also makes
    glibc map and unmap every allocation above 128 KiB: the per-step arrays of a stacked
    LP are that big, and a task then takes about twice as long (measured: 32 Syr Darya
    members x 30 years, 11.4 s; 21.6 s with the setting; 13.3 s after this). When the
    setting is there, raise the mmap threshold to 32 MiB and the trim threshold to 64 MiB
    for this process (glibc ``mallopt``); elsewhere do nothing."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    libc.mallopt(m_trim_threshold, 64 * 1024 * 1024)


def _run_task(scenario: str, runs: list[tuple[str, dict[str, Any]]], out_dir: str) -> list[tuple[str, str, str]]:
    """Run a task: one run, or members of one combination together (one stacked LP per
    step). Members that differ only in ``inflows.member`` share the scenario; if the
    stack fails (one member infeasible), each member runs alone so the others still land."""
    _undo_dask_malloc_trim()
    out = Path(out_dir)
    if len(runs) == 1 or all(files.has_run(out, run_id) for run_id, _ in runs):
        return [_run_one(scenario, run_id, overrides, out_dir) for run_id, overrides in runs]
    from waterdesk.result import to_dataset
    from waterdesk.simulate import simulate_members

    def one_by_one() -> list[tuple[str, str, str]]:
        return [_run_one(scenario, run_id, overrides, out_dir) for run_id, overrides in runs]

    try:
        # each member loaded as its own run would be (same checks, same input digest)
        scenarios = [load_scenario(scenario, overrides) for _, overrides in runs]
    except InputError:
        return one_by_one()          # each bad member recorded with its own problems
    if any(sc.exchange or sc.mode != "step" for sc in scenarios):
        return one_by_one()          # exchange accounts and horizon windows are per run
    try:
        sims = simulate_members(scenarios[0], [sc.inflows for sc in scenarios])
    except (InfeasibleError, SolverError):
        return one_by_one()          # only the failing members are recorded as failed
    results = []
    for (run_id, overrides), sc, sim in zip(runs, scenarios, sims):
        if files.has_run(out, run_id):
            results.append((run_id, "ok", ""))
            continue
        sim.scenario = sc.replace(name=f"{sc.name}-{run_id}")
        results.append(_write_run(out, run_id, overrides, to_dataset(sim, __version__)))
    return results


def _tasks(scenario: str, runs: list[tuple[str, dict[str, Any]]], out: Path,
           members: bool) -> list[RunTask]:
    """Group the runs into tasks (members of a combination in stacks of MEMBERS_PER_TASK,
    counted from member 0), leaving out tasks whose every run has its file."""
    groups: list[list[tuple[str, dict[str, Any]]]] = []
    for run_id, overrides in runs:
        member = overrides.get(MEMBER_KEY) if members else None
        if member is not None and int(member) % MEMBERS_PER_TASK != 0 and groups:
            groups[-1].append((run_id, overrides))
        else:
            groups.append([(run_id, overrides)])
    return [(scenario, group, str(out.resolve())) for group in groups
            if not all(files.has_run(out, run_id) for run_id, _ in group)]


def _serial(tasks: list[RunTask], done: Callable[[int], None]) -> None:
    for task in tasks:
        done(len(_run_task(*task)))


def _pool(tasks: list[RunTask], workers: int, done: Callable[[int], None]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: numba and the solver start threads, which fork does not copy safely
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run_task, *task) for task in tasks]
        for future in as_completed(futures):
            done(len(future.result()))


def _dask(tasks: list[RunTask], scheduler: str, done: Callable[[int], None]) -> None:
    from distributed import Client, as_completed

    with Client(scheduler) as client:  # type: ignore[no-untyped-call]  # closes the client, not the cluster
        futures = [client.submit(_run_task, *task, pure=False)
                   for task in tasks]
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            done(len(future.result()))


def _members_file(out: Path, base: "Scenario", sweep: Sweep) -> Path:
    """Generate the inflow ensemble once (``out/inflows-members.nc``), from the basin's
    historical inflows, covering every run's period: from the earliest first month to the
    latest last month, when the sweep varies ``scenario.start`` or ``scenario.end``
    (a 30-year ensemble of a 10-year scenario needs no copy of the scenario)."""
    from waterdesk.generate import generate_inflows
    from waterdesk.io.inflows import write_inflows

    assert sweep.members is not None
    path = out / "inflows-members.nc"
    if path.exists():
        return path
    try:
        starts = [np.datetime64(str(v), "M") for v in sweep.vary.get("scenario.start", [])]
        ends = [np.datetime64(str(v), "M") for v in sweep.vary.get("scenario.end", [])]
    except ValueError as err:
        raise InputError([Problem(sweep.path or sweep.scenario, None, "sweep.vary",
                                  f"scenario.start/end must be dates YYYY-MM-DD: {err}")]) from None
    start = min([np.datetime64(base.start, "M"), *starts])
    end = max([np.datetime64(base.end, "M"), *ends])
    months = int((end - start).astype(int)) + 1
    years = max(1, -(-months // 12))
    basin = base.basin.path if base.basin.path is not None else base.basin.name
    ds = generate_inflows(basin, years=years, members=sweep.members, seed=sweep.seed, start=str(start))
    return write_inflows(ds, path)


def _manifest(out: Path, sweep: Sweep, runs: list[tuple[str, dict[str, Any]]]) -> None:
    """Record the runs in DIR/sweep.json; refuse a directory holding another sweep."""
    record: dict[str, Any] = {"scenario": str(sweep.scenario.resolve()),
                              "runs": {run_id: overrides for run_id, overrides in runs}}
    if sweep.members is not None:
        record.update(members=sweep.members, seed=sweep.seed)
    files.check_manifest(out, record)


def run_sweep(sweep: Sweep | str | Path, out_dir: str | Path, workers: int = 1,
              scheduler: str | None = None,
              progress: Callable[[int], None] | None = None) -> "xr.Dataset":
    """Run every combination of a sweep and return the summary (also written to
    ``out_dir/summary.nc``).

    Each run writes ``out_dir/<run-id>.nc`` (atomically); a run whose file exists is
    skipped, so an interrupted batch resumes where it stopped. A run that fails
    (bad override, infeasible) writes ``out_dir/<run-id>.failed.json`` with its status
    and reason, and the others go on.

    Parameters
    ----------
    sweep : Sweep or path of a sweep file
    out_dir : directory of the run files and the summary
    workers : processes of a local pool (1: in this process)
    scheduler : address of a Dask scheduler (``tcp://host:8786``); overrides `workers`
    progress : called with 1 each time a run is finished or found finished

    Raises
    ------
    InputError
        when the scenario itself is invalid, or the directory holds another sweep.
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    if workers < 1:
        raise InputError([Problem(Path(out_dir), None, "workers", f"must be >= 1, got {workers}")])
    if sweep.members is not None and MEMBER_KEY in sweep.vary:
        raise InputError([Problem(sweep.path or sweep.scenario, None, "sweep.members",
                                  "members vary inflows.member already; do not vary it as well")])
    base = load_scenario(sweep.scenario)    # the scenario itself must be valid
    if base.members:
        raise InputError([Problem(sweep.path or sweep.scenario, None, "sweep.scenario",
                                  f"{sweep.scenario} runs an inflow ensemble itself (inflows.members or "
                                  "inflows.generate); give the members in [sweep] (members = M) instead")])
    out = files.prepare_dir(Path(out_dir))
    runs = sweep.runs()
    _manifest(out, sweep, runs)
    fixed: dict[str, Any] = {}
    if sweep.members is not None:
        fixed["inflows.file"] = str(_members_file(out, base, sweep).resolve())
    scenario = str(sweep.scenario.resolve())
    tasks = _tasks(scenario, [(run_id, {**fixed, **overrides}) for run_id, overrides in runs], out,
                   sweep.members is not None)
    pending = sum(len(task[1]) for task in tasks)
    if progress is not None and len(runs) > pending:
        progress(len(runs) - pending)

    def done(n: int) -> None:
        if progress is not None:
            progress(n)

    if tasks:
        if scheduler is not None:
            _dask(tasks, scheduler, done)
        elif workers > 1 and len(tasks) > 1:
            _pool(tasks, min(workers, len(tasks)), done)
        else:
            _serial(tasks, done)
    summary = summarise(out, sweep, runs)
    files.write_summary(summary, out)
    return summary


def summarise(out: Path, sweep: Sweep, runs: list[tuple[str, dict[str, Any]]]) -> "xr.Dataset":
    """The summary Dataset of a sweep's runs, read from the files in `out`."""

    from waterdesk.io.netcdf import open_result

    status: list[str] = []
    reason: list[str] = []
    scalars: list[dict[str, Any] | None] = []
    for run_id, _ in runs:
        record = None if files.has_run(out, run_id) else files.read_failure(out, run_id)
        if files.has_run(out, run_id):
            scalars.append(run_scalars(open_result(files.run_file(out, run_id))))
            status.append("ok")
            reason.append("")
        elif record is not None:
            scalars.append(None)
            status.append(str(record["status"]))
            reason.append(str(record["reason"]))
        else:   # cannot happen after a complete batch; kept honest for a partial summary
            scalars.append(None)
            status.append("missing")
            reason.append("no result file")
    return summary_table(sweep, runs, status, reason, scalars)
