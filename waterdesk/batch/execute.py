"""Run a sweep: one result file per run, a record per failed run, one summary.

Every run is computed by `_run_one` from its scenario path and overrides alone, so the
result does not depend on where it runs (this process, a process pool or a Dask
worker). The summary is built afterwards, in run order, from the files.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from waterdesk.batch.sweep import MEMBER_KEY, Sweep
from waterdesk.errors import InfeasibleError, InputError, Problem, SolverError
from waterdesk.simulate import MEMBERS_PER_STACK

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.model.scenario import Scenario

__all__ = ["run_sweep", "summary_of_members", "STATUSES"]

#: status of a run in the summary
STATUSES = ("ok", "invalid", "infeasible", "solver_error")

#: a window is held when its violation is at most this [mcm] (as in `waterdesk ledger`)
_HELD_TOL_MCM = 1e-6

#: a task: scenario path, [(run id, overrides)], out dir; with members, one task holds up
#: to MEMBERS_PER_TASK members of one combination, run together as a stacked LP
RunTask = tuple[str, list[tuple[str, dict[str, Any]]], str]

#: members of one combination solved together (`waterdesk.simulate.simulate_members`, one
#: stack). Fixed, not derived from the worker count, so the stacks and the results are the
#: same whatever executes them; a resumed task recomputes its whole stack and writes only
#: the files that are missing.
MEMBERS_PER_TASK = MEMBERS_PER_STACK


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    os.replace(part, path)


def _failure(err: Exception) -> tuple[str, str]:
    if isinstance(err, InputError):
        return "invalid", "; ".join(str(p) for p in err.problems)
    if isinstance(err, InfeasibleError):
        return "infeasible", str(err)
    return "solver_error", str(err)


def _record_failure(out: Path, run_id: str, overrides: dict[str, Any], err: Exception) -> tuple[str, str, str]:
    status, reason = _failure(err)
    record = {"run": run_id, "status": status, "reason": reason, "overrides": overrides}
    _atomic_write_bytes(out / f"{run_id}.failed.json", json.dumps(record, indent=2, sort_keys=True).encode())
    return run_id, status, reason


def _write_run(out: Path, run_id: str, overrides: dict[str, Any], ds: "xr.Dataset") -> tuple[str, str, str]:
    from waterdesk.io.netcdf import write_result

    ds.attrs["batch_run"] = run_id
    ds.attrs["batch_overrides"] = json.dumps(overrides, sort_keys=True)
    write_result(ds, out / f"{run_id}.nc")
    (out / f"{run_id}.failed.json").unlink(missing_ok=True)
    return run_id, "ok", ""


def _run_one(scenario: str, run_id: str, overrides: dict[str, Any], out_dir: str) -> tuple[str, str, str]:
    """Run one run of the sweep unless its file exists; (run id, status, reason)."""
    import waterdesk as wd

    out = Path(out_dir)
    if (out / f"{run_id}.nc").exists():
        return run_id, "ok", ""
    try:
        sc = wd.load_scenario(scenario, overrides)
        sc = sc.replace(name=f"{sc.name}-{run_id}")
        return _write_run(out, run_id, overrides, wd.run(sc))
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
    if len(runs) == 1 or all((out / f"{run_id}.nc").exists() for run_id, _ in runs):
        return [_run_one(scenario, run_id, overrides, out_dir) for run_id, overrides in runs]
    import waterdesk as wd
    from waterdesk.result import to_dataset
    from waterdesk.simulate import simulate_members

    def one_by_one() -> list[tuple[str, str, str]]:
        return [_run_one(scenario, run_id, overrides, out_dir) for run_id, overrides in runs]

    try:
        # each member loaded as its own run would be (same checks, same input digest)
        scenarios = [wd.load_scenario(scenario, overrides) for _, overrides in runs]
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
        if (out / f"{run_id}.nc").exists():
            results.append((run_id, "ok", ""))
            continue
        sim.scenario = sc.replace(name=f"{sc.name}-{run_id}")
        results.append(_write_run(out, run_id, overrides, to_dataset(sim, wd.__version__)))
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
            if not all((out / f"{run_id}.nc").exists() for run_id, _ in group)]


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
    text = json.dumps(record, indent=2, sort_keys=True, default=str)
    path = out / "sweep.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old != json.loads(text):
            raise InputError([Problem(path, None, "runs",
                                      "this directory holds the runs of a different sweep; "
                                      "use another directory or empty this one")])
        return
    _atomic_write_bytes(path, text.encode())


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
    import waterdesk as wd

    if not isinstance(sweep, Sweep):
        sweep = Sweep.from_file(sweep)
    if workers < 1:
        raise InputError([Problem(Path(out_dir), None, "workers", f"must be >= 1, got {workers}")])
    if sweep.members is not None and MEMBER_KEY in sweep.vary:
        raise InputError([Problem(sweep.path or sweep.scenario, None, "sweep.members",
                                  "members vary inflows.member already; do not vary it as well")])
    base = wd.load_scenario(sweep.scenario)    # the scenario itself must be valid
    if base.members:
        raise InputError([Problem(sweep.path or sweep.scenario, None, "sweep.scenario",
                                  f"{sweep.scenario} runs an inflow ensemble itself (inflows.members or "
                                  "inflows.generate); give the members in [sweep] (members = M) instead")])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
    _write_summary(summary, out / "summary.nc")
    return summary


def _write_summary(ds: "xr.Dataset", path: Path) -> None:
    part = path.with_name(path.name + ".part")
    try:
        ds.to_netcdf(part, engine="netcdf4", format="NETCDF4")
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _coordinate(values: list[Any]) -> Any:
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int8)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=float)
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=object)
    return np.array([json.dumps(v) for v in values], dtype=object)


def _run_scalars(ds: "xr.Dataset") -> dict[str, Any]:
    from waterdesk.analysis.accounts import step_water_year

    countries = [str(c) for c in ds["country"].values]
    demand_country = [str(c) for c in ds["demand_country"].values]
    shortage = np.asarray(ds["shortage"].values, dtype=float)
    wy = step_water_year(ds)
    out: dict[str, Any] = {"delivered": {}, "shortage": {}, "supply_reliability": {},
                           "clause_compliance": {}, "clause_windows": {}, "held": {}, "met": {}}
    delivered = np.asarray(ds["withdrawal_by_country"].values, dtype=float)
    for i, country in enumerate(countries):
        mask = np.array([c == country for c in demand_country], dtype=bool)
        short = shortage[:, mask].sum(axis=1) if mask.any() else np.zeros(len(wy))
        out["delivered"][country] = float(delivered[:, i].sum())
        out["shortage"][country] = float(short.sum())
        years = np.unique(wy)
        met = [float(short[wy == y].sum()) <= _HELD_TOL_MCM for y in years]
        out["supply_reliability"][country] = float(np.mean(met)) if len(years) else float("nan")
        out["met"][country] = {int(y): float(m) for y, m in zip(years, met)}
    violation = np.asarray(ds["clause_violation"].values, dtype=float)
    for c, clause in enumerate(str(x) for x in ds["clause"].values):
        column = violation[:, c] if violation.size else np.zeros(0)
        valid = column[~np.isnan(column)]
        out["clause_windows"][clause] = float(len(valid))
        out["held"][clause] = np.where(np.isnan(column), np.nan, (column <= _HELD_TOL_MCM).astype(float))
        out["clause_compliance"][clause] = float(np.mean(valid <= _HELD_TOL_MCM)) if len(valid) else float("nan")
    return out


def _union(lists: Iterable[list[str]]) -> list[str]:
    seen: list[str] = []
    for items in lists:
        seen += [x for x in items if x not in seen]
    return seen


def summarise(out: Path, sweep: Sweep, runs: list[tuple[str, dict[str, Any]]]) -> "xr.Dataset":
    """The summary Dataset of a sweep's runs, read from the files in `out`."""
    import xarray as xr

    from waterdesk.io.netcdf import open_result

    status: list[str] = []
    reason: list[str] = []
    scalars: list[dict[str, Any] | None] = []
    for run_id, _ in runs:
        target = out / f"{run_id}.nc"
        failed = out / f"{run_id}.failed.json"
        if target.exists():
            scalars.append(_run_scalars(open_result(target)))
            status.append("ok")
            reason.append("")
        elif failed.exists():
            record = json.loads(failed.read_text())
            scalars.append(None)
            status.append(str(record["status"]))
            reason.append(str(record["reason"]))
        else:   # cannot happen after a complete batch; kept honest for a partial summary
            scalars.append(None)
            status.append("missing")
            reason.append("no result file")
    return _summary(sweep, runs, status, reason, scalars)


def summary_of_members(ds: "xr.Dataset") -> "xr.Dataset":
    """The summary `waterdesk batch` would make of an ensemble result (a ``member``
    dimension, from `wd.run` of an ensemble scenario): one combination whose runs are
    the members (run ids ``m<member>``), with `compliance_probability` and
    `supply_probability`; the clauses' window start dates ride along as
    ``window_start_date`` (window, clause)."""
    members = [int(m) for m in ds["member"].values]
    runs = [(f"m{m:04d}", {MEMBER_KEY: m}) for m in members]
    sweep = Sweep(Path(str(ds.attrs.get("scenario_file") or ds.attrs.get("scenario", ""))), vary={},
                  members=len(members))
    scalars: list[dict[str, Any] | None] = [_run_scalars(ds.isel(member=i)) for i in range(len(members))]
    summary = _summary(sweep, runs, ["ok"] * len(members), [""] * len(members), scalars)
    summary.attrs.pop("seed", None)
    summary.attrs.update(source="ensemble result of one scenario (member dimension)",
                         scenario=str(ds.attrs.get("scenario", "")),
                         inflow_source=str(ds.attrs.get("inflow_source", "")))
    if ds.sizes.get("clause", 0):
        starts = [[("" if np.isnat(t) else str(t)[:10]) for t in row] for row in ds["window_start"].values]
        summary["window_start_date"] = (("window_of_clause", "clause"), np.array(starts, dtype=object),
                                        {"long_name": "start of each clause window"})
    return summary


def _summary(sweep: Sweep, runs: list[tuple[str, dict[str, Any]]], status: list[str], reason: list[str],
             scalars: list[dict[str, Any] | None]) -> "xr.Dataset":
    import xarray as xr

    countries = _union(list(s["delivered"]) for s in scalars if s)
    clauses = _union(list(s["clause_compliance"]) for s in scalars if s)

    def table(name: str, items: list[str]) -> Any:
        return np.array([[s[name].get(x, np.nan) if s else np.nan for x in items] for s in scalars],
                        dtype=float).reshape(len(scalars), len(items))

    ids = [run_id for run_id, _ in runs]
    coords: dict[str, Any] = {"run": ("run", np.array(ids, dtype=object)),
                              "country": ("country", np.array(countries, dtype=object)),
                              "clause": ("clause", np.array(clauses, dtype=object))}
    for key in sweep.keys():
        coords[key] = ("run", _coordinate([overrides[key] for _, overrides in runs]),
                       {"long_name": f"value of the scenario key {key} in each run"})
    data = {
        "status": ("run", np.array(status, dtype=object),
                   {"long_name": "ok, invalid (bad input or override), infeasible, solver_error"}),
        "reason": ("run", np.array(reason, dtype=object), {"long_name": "why a run failed (empty if ok)"}),
        "delivered": (("run", "country"), table("delivered", countries),
                      {"units": "mcm", "long_name": "volume delivered to the country's demands over the period"}),
        "shortage": (("run", "country"), table("shortage", countries),
                     {"units": "mcm", "long_name": "requested minus delivered over the period"}),
        "supply_reliability": (("run", "country"), table("supply_reliability", countries),
                               {"units": "1", "long_name": "share of water years in which the country's "
                                                           f"demands were fully met (shortage <= {_HELD_TOL_MCM:g} mcm)"}),
        "clause_compliance": (("run", "clause"), table("clause_compliance", clauses),
                              {"units": "1", "long_name": "share of the clause's windows in which it held "
                                                          f"(violation <= {_HELD_TOL_MCM:g} mcm)"}),
        "clause_windows": (("run", "clause"), table("clause_windows", clauses),
                           {"units": "1", "long_name": "number of windows of the clause"}),
    }
    if sweep.members is not None:
        data.update(_member_probabilities(sweep, runs, scalars, countries, clauses, coords))
    attrs = {"title": "waterdesk sweep summary", "scenario": str(sweep.scenario),
             "varied_keys": json.dumps(sweep.keys()), "seed": sweep.seed,
             "members": sweep.members if sweep.members is not None else 0,
             "runs": json.dumps({run_id: overrides for run_id, overrides in runs}, sort_keys=True, default=str)}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _member_probabilities(sweep: Sweep, runs: list[tuple[str, dict[str, Any]]],
                          scalars: list[dict[str, Any] | None], countries: list[str], clauses: list[str],
                          coords: dict[str, Any]) -> dict[str, Any]:
    """Across the members of each combination of the other varied values: the share of
    members in which each clause held in each window, and in which each country's
    demands were fully met in each water year (failed members are left out)."""
    others = list(sweep.vary)
    combos: list[tuple[Any, ...]] = []
    index: list[int] = []
    for _, overrides in runs:
        combo = tuple(json.dumps(overrides[k], sort_keys=True) for k in others)
        if combo not in combos:
            combos.append(combo)
        index.append(combos.index(combo))
    ok = [s for s in scalars if s]
    n_win = max((len(h) for s in ok for h in s["held"].values()), default=0)
    years = sorted({y for s in ok for m in s["met"].values() for y in m})
    held = np.full((len(combos), len(clauses), n_win), np.nan)
    met = np.full((len(combos), len(countries), len(years)), np.nan)
    members = np.zeros(len(combos), dtype=np.int32)
    for c in range(len(combos)):
        group = [s for i, s in enumerate(scalars) if index[i] == c and s is not None]
        members[c] = len(group)
        for k, clause in enumerate(clauses):
            stack = np.full((len(group), n_win), np.nan)
            for g, s in enumerate(group):
                h = s["held"].get(clause, np.zeros(0))
                stack[g, :len(h)] = h
            counted = (~np.isnan(stack)).sum(axis=0)
            total = np.where(np.isnan(stack), 0.0, stack).sum(axis=0)
            held[c, k] = np.where(counted > 0, total / np.maximum(counted, 1), np.nan)
        for k, country in enumerate(countries):
            for y, year in enumerate(years):
                values = [s["met"][country][year] for s in group if year in s["met"].get(country, {})]
                if values:
                    met[c, k, y] = float(np.mean(values))
    coords["combination"] = ("combination", np.array([f"c{c:04d}" for c in range(len(combos))], dtype=object))
    coords["window"] = ("window", np.arange(n_win, dtype=np.int32))
    coords["water_year"] = ("water_year", np.array(years, dtype=np.int32),
                            {"long_name": "water year (Oct-Sep, named by the calendar year it ends in)"})
    for k, key in enumerate(others):
        coords[f"combination_{key}"] = ("combination", _coordinate([json.loads(c[k]) for c in combos]),
                                        {"long_name": f"value of {key} in each combination"})
    coords["run_combination"] = ("run", np.array(index, dtype=np.int32),
                                 {"long_name": "index of the run's combination of the other varied values"})
    return {
        "members_ok": ("combination", members, {"long_name": "members of the combination that ran"}),
        "compliance_probability": (
            ("combination", "clause", "window"), held,
            {"units": "1", "long_name": "share of the members in which the clause held in the window "
                                        f"(violation <= {_HELD_TOL_MCM:g} mcm); NaN past a clause's last window"}),
        "supply_probability": (
            ("combination", "country", "water_year"), met,
            {"units": "1", "long_name": "share of the members in which the country's demands were fully "
                                        f"met in the water year (shortage <= {_HELD_TOL_MCM:g} mcm)"}),
    }
