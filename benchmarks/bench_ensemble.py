"""Ensemble throughput: members x steps per second, waterdesk against Pywr's scenarios.

    python benchmarks/bench_ensemble.py [--nodes 10 50] [--members 8] [--days 365] [--repeat 3]

For each target size, ``netgen`` builds the same seeded synthetic network as
``bench_allocation.py``.  M stochastic inflow members are made from the network's inflows
by a multiplicative lognormal perturbation, exp(z - sigma^2/2) with z an AR(1) process in
time (phi = 0.9, sigma = --sigma) per member and inflow site, from a fixed seed.  The very
same float64 arrays go to both tools (waterdesk reads them from per-member CSV files
written with ``repr``, which round-trips exactly).  Paths timed, interleaved per repeat:

- **Pywr**: one model with a ``Scenario`` of size M, each inflow an
  ``ArrayIndexedScenarioParameter``; one ``model.run()``.  Pywr loops over the scenarios
  inside each timestep and solves one GLPK LP per scenario per step (one problem object,
  its bounds rewritten and each scenario's basis restored per scenario); scenarios share the Python/Cython per-step overhead,
  not an LP.
- **waterdesk serial**: ``wd.load_scenario(scenario, {"inflows.file": member_csv})`` and
  ``wd.run`` per member, one after another in this process.
- **waterdesk pool (2)**: the same per-member function on a ``concurrent.futures``
  ``ProcessPoolExecutor`` of 2 spawned workers (as ``waterdesk.batch`` uses), already
  started and warmed up; results come back as arrays.
- **waterdesk batch (2)**: ``waterdesk.batch.run_sweep(Sweep(scenario,
  vary={"inflows.file": [...]}), DIR, workers=2)``: the real batch path, end to end,
  including spawning the pool (each worker imports waterdesk and compiles its numba
  kernels), writing one NetCDF per member and ``summary.nc``.

Throughput is M x days / wall time.  Quoted numbers are medians over ``--repeat``.
Agreement: for every member, waterdesk serial against Pywr's scenario by the criteria of
``bench_allocation.compare`` (per-level totals and total storage per step, 1e-6 relative);
the pool results must equal the serial ones bit for bit, and member 0 of the batch run's
NetCDF must agree with Pywr too.  Exit 1 when anything disagrees.

The printed report is also written to ``benchmarks/results/ensemble-<UTC date>.txt``
(with the command line and commit), unless ``--no-save``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import multiprocessing
import shlex
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_allocation as ba  # noqa: E402
import netgen  # noqa: E402


# ----------------------------------------------------------------------------- members


def member_inflows(net: netgen.Network, members: int, seed: int, sigma: float, phi: float = 0.9) -> np.ndarray:
    """(members, days, sites) inflows in m3/s: the network's inflows times a lognormal factor.

    Member k has its own random stream (seed, R, 6, k), so it does not depend on ``members``.
    """
    days, sites = net.inflow_m3s.shape
    out = np.empty((members, days, sites))
    s = sigma * np.sqrt(1.0 - phi * phi)
    for k in range(members):
        eps = np.random.default_rng([seed, net.reaches_river, 6, k]).standard_normal((days, sites))
        z = np.empty((days, sites))
        z[0] = sigma * eps[0]
        for t in range(1, days):
            z[t] = phi * z[t - 1] + s * eps[t]
        out[k] = net.inflow_m3s * np.exp(z - 0.5 * sigma * sigma)
    return out


def write_member_csvs(net: netgen.Network, flows: np.ndarray, directory: Path) -> list[Path]:
    paths = []
    for k in range(flows.shape[0]):
        p = directory / f"inflows-m{k:03d}.csv"
        with open(p, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(",".join(["time"] + net.inflow_ids) + "\n")
            for day, row in zip(net.dates(), flows[k]):
                fh.write(day.isoformat() + "," + ",".join(repr(float(x)) for x in row) + "\n")
        paths.append(p.resolve())
    return paths


def write_member_netcdf(net: netgen.Network, flows: np.ndarray, directory: Path) -> Path:
    """All members in one CF NetCDF file, ``inflow(member, time, node)`` [m3 s-1]: what an
    ensemble scenario (``inflows.members = M``) reads."""
    import xarray as xr

    from waterdesk.io.inflows import write_inflows

    ds = xr.Dataset({"inflow": (("member", "time", "node"), flows, {"units": "m3 s-1"})},
                    coords={"member": np.arange(flows.shape[0], dtype=np.int32),
                            "time": np.array([np.datetime64(d.isoformat()) for d in net.dates()],
                                             dtype="datetime64[ns]"),
                            "node": np.array(net.inflow_ids, dtype=object)})
    return write_inflows(ds, directory / "inflows-members.nc").resolve()


# ----------------------------------------------------------------------------- Pywr


def build_pywr_ensemble(net: netgen.Network, flows: np.ndarray, solver: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """``netgen.build_pywr`` with a Scenario of size M driving every inflow."""
    return netgen.build_pywr(net, solver, member_flows=flows)


def run_pywr_ensemble(net: netgen.Network, flows: np.ndarray, solver: str) -> dict[str, Any]:
    gc.collect()
    t0 = time.perf_counter()
    model, dem_rec, sto_rec = build_pywr_ensemble(net, flows, solver)
    t1 = time.perf_counter()
    model.setup()
    t2 = time.perf_counter()
    model.run()
    t3 = time.perf_counter()
    M = flows.shape[0]
    dem = {k: np.asarray(r.data) for k, r in dem_rec.items()}
    sto = {k: np.asarray(r.data) for k, r in sto_rec.items()}
    if any(a.shape != (net.days, M) for a in [*dem.values(), *sto.values()]):
        raise RuntimeError("unexpected Pywr recorder shape")
    members = [{"supplied": {d: a[:, m].copy() for d, a in dem.items()},
                "storage": {r: a[:, m].copy() for r, a in sto.items()}} for m in range(M)]
    return {"build_s": t1 - t0, "setup_s": t2 - t1, "run_s": t3 - t2, "members": members}


# ----------------------------------------------------------------------------- waterdesk


def wd_member(scenario: str, inflow_file: str) -> dict[str, Any]:
    """Load and run one member; top level so that spawned workers can run it."""
    import waterdesk as wd

    t0 = time.perf_counter()
    sc = wd.load_scenario(scenario, {"inflows.file": inflow_file})
    t1 = time.perf_counter()
    res = wd.run(sc)
    t2 = time.perf_counter()
    dem = [str(d) for d in res["supplied"]["demand"].values]
    sup = np.asarray(res["supplied"].transpose("time", "demand").values, dtype=float)
    out: dict[str, Any] = {
        "load_s": t1 - t0, "run_s": t2 - t1,
        "allocation_s": float(res.attrs["allocation_seconds"]),
        "steps": int(res.attrs["allocation_steps"]),
        "supplied": {d: sup[:, k].copy() for k, d in enumerate(dem)},
        "storage": {},
    }
    if "storage" in res:
        rs = [str(r) for r in res["storage"]["reservoir"].values]
        sto = np.asarray(res["storage"].transpose("time", "reservoir").values, dtype=float)
        out["storage"] = {r: sto[:, k].copy() for k, r in enumerate(rs)}
    return out


def _warm_worker() -> int:
    import os

    import waterdesk  # noqa: F401

    time.sleep(0.2)  # hold the worker so that the other warm-up task lands on the other one
    return os.getpid()


def run_wd_serial(scen: Path, files: list[Path]) -> dict[str, Any]:
    gc.collect()
    t0 = time.perf_counter()
    runs = [wd_member(str(scen), str(f)) for f in files]
    t1 = time.perf_counter()
    return {"wall_s": t1 - t0, "runs": runs,
            "run_s": sum(r["run_s"] for r in runs), "allocation_s": sum(r["allocation_s"] for r in runs)}


def run_wd_stacked(scen: Path, files: list[Path], engine: str = "compiled") -> dict[str, Any]:
    """All members through ``waterdesk.simulate.simulate_members``: natural flows routed
    for all members in one numba call; per step, on the compiled engine every member's
    block in parallel (prange), on the HiGHS path one stacked LP (a block per member)."""
    import waterdesk as wd
    from waterdesk.simulate import simulate_members

    gc.collect()
    t0 = time.perf_counter()
    scs = [wd.load_scenario(str(scen), {"inflows.file": str(f)}) for f in files]
    t1 = time.perf_counter()
    sims = simulate_members(scs[0], [sc.inflows for sc in scs], engine=engine)
    t2 = time.perf_counter()
    runs = [{"steps": len(sim.steps),
             "supplied": {d: sim.supplied[:, k].copy() for k, d in enumerate(sim.network.dem_ids)},
             "storage": {r: sim.storage[:, k].copy() for k, r in enumerate(sim.network.res_ids)}}
            for sim in sims]
    return {"wall_s": t2 - t0, "run_s": t2 - t1, "allocation_s": sims[0].timings["allocate_s"], "runs": runs,
            "solves_per_step": sims[0].solves / max(len(sims[0].steps), 1),
            "fallbacks": sum(sim.engine_fallbacks for sim in sims[::32])}


def run_wd_ensemble(scen: Path, members_nc: Path, members: int) -> dict[str, Any]:
    """The product's ensemble path: one scenario with ``inflows.members = M`` on one NetCDF
    file, ``wd.run`` (load, every member on the compiled engine, the result Dataset with a
    member dimension)."""
    import waterdesk as wd

    gc.collect()
    t0 = time.perf_counter()
    res = wd.run(wd.load_scenario(str(scen), {"inflows.file": str(members_nc), "inflows.members": members}))
    t1 = time.perf_counter()
    dem = [str(d) for d in res["supplied"]["demand"].values]
    sup = np.asarray(res["supplied"].transpose("member", "time", "demand").values, dtype=float)
    runs = []
    for m in range(members):
        one: dict[str, Any] = {"supplied": {d: sup[m, :, k].copy() for k, d in enumerate(dem)}, "storage": {}}
        if "storage" in res:
            rs = [str(r) for r in res["storage"]["reservoir"].values]
            sto = np.asarray(res["storage"].transpose("member", "time", "reservoir").values, dtype=float)
            one["storage"] = {r: sto[m, :, k].copy() for k, r in enumerate(rs)}
        runs.append(one)
    return {"wall_s": t1 - t0, "runs": runs, "allocation_s": float(res.attrs["allocation_seconds"])}


def run_wd_pool(pool: ProcessPoolExecutor, scen: Path, files: list[Path]) -> dict[str, Any]:
    gc.collect()
    t0 = time.perf_counter()
    runs = list(pool.map(wd_member, [str(scen)] * len(files), [str(f) for f in files]))
    t1 = time.perf_counter()
    return {"wall_s": t1 - t0, "runs": runs}


def run_wd_batch(scen: Path, files: list[Path], out_dir: Path, workers: int) -> dict[str, Any]:
    from waterdesk.batch import Sweep, run_sweep

    gc.collect()
    t0 = time.perf_counter()
    summary = run_sweep(Sweep(scen, vary={"inflows.file": [str(f) for f in files]}), out_dir, workers=workers)
    t1 = time.perf_counter()
    status = [str(s) for s in summary["status"].values]
    return {"wall_s": t1 - t0, "status": status, "dir": out_dir}


def read_batch_run(path: Path) -> dict[str, Any]:
    import xarray as xr

    with xr.open_dataset(path) as res:
        dem = [str(d) for d in res["supplied"]["demand"].values]
        sup = np.asarray(res["supplied"].transpose("time", "demand").values, dtype=float)
        out = {"supplied": {d: sup[:, k].copy() for k, d in enumerate(dem)}, "storage": {}}
        if "storage" in res:
            rs = [str(r) for r in res["storage"]["reservoir"].values]
            sto = np.asarray(res["storage"].transpose("time", "reservoir").values, dtype=float)
            out["storage"] = {r: sto[:, k].copy() for k, r in enumerate(rs)}
    return out


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(np.array_equal(a[key][k], b[key][k]) for key in ("supplied", "storage") for k in a[key]) and \
        all(set(a[key]) == set(b[key]) for key in ("supplied", "storage"))


# ----------------------------------------------------------------------------- driver


class Report:
    def __init__(self) -> None:
        self.buf = io.StringIO()

    def __call__(self, *a: Any) -> None:
        line = " ".join(str(x) for x in a)
        print(line, flush=True)
        self.buf.write(line + "\n")


def _med(xs: list[float]) -> float:
    return float(statistics.median(xs))


def _rate(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ")


def bench_network(target: int, args: argparse.Namespace, pool: ProcessPoolExecutor, say: Report) -> bool:
    net = netgen.generate_for_nodes(target, days=args.days, seed=args.seed)
    M, T = args.members, args.days
    flows = member_inflows(net, M, args.seed, args.sigma)
    s = net.summary()
    say(f"\n## {s['nodes']} nodes (target {target}): {s['inflow']} inflows, {s['reservoir']} reservoirs, "
        f"{s['demand']} demands; {M} members x {T} days = {M * T} member-steps")
    ok = True
    times: dict[str, list[float]] = {k: [] for k in
                                     ("pywr_run", "pywr_total", "wd_serial", "wd_serial_run", "wd_serial_alloc",
                                      "wd_pool", "wd_batch", "wd_stacked", "wd_stacked_run",
                                      "wd_stacked_alloc", "wd_highs", "wd_highs_run", "wd_ensemble")}
    with tempfile.TemporaryDirectory(prefix="wd-bench-ens-") as tmp:
        tmpd = Path(tmp)
        scen = netgen.write_waterdesk(net, tmpd / "net")
        files = write_member_csvs(net, flows, tmpd / "net")
        members_nc = write_member_netcdf(net, flows, tmpd / "net")
        last: dict[str, Any] = {}
        for rep in range(args.repeat):
            p = run_pywr_ensemble(net, flows, args.solver)
            times["pywr_run"].append(p["run_s"])
            times["pywr_total"].append(p["build_s"] + p["setup_s"] + p["run_s"])
            w = run_wd_serial(scen, files)
            times["wd_serial"].append(w["wall_s"])
            times["wd_serial_run"].append(w["run_s"])
            times["wd_serial_alloc"].append(w["allocation_s"])
            k = run_wd_stacked(scen, files)
            times["wd_stacked"].append(k["wall_s"])
            times["wd_stacked_run"].append(k["run_s"])
            times["wd_stacked_alloc"].append(k["allocation_s"])
            last["stacked"] = k
            e = run_wd_ensemble(scen, members_nc, M)
            times["wd_ensemble"].append(e["wall_s"])
            last["ensemble"] = e
            if not args.no_highs:
                kh = run_wd_stacked(scen, files, "highs")
                times["wd_highs"].append(kh["wall_s"])
                times["wd_highs_run"].append(kh["run_s"])
                last["highs"] = kh
            q = run_wd_pool(pool, scen, files)
            times["wd_pool"].append(q["wall_s"])
            if not args.no_batch:
                b = run_wd_batch(scen, files, tmpd / f"batch-{rep}", args.workers)
                times["wd_batch"].append(b["wall_s"])
                last["batch"] = b
            last.update(pywr=p, serial=w, pool=q)

        # agreement
        p, w, q = last["pywr"], last["serial"], last["pool"]
        worst = {"a_level_total_abs": 0.0, "a_rel": 0.0, "b_storage_total_abs": 0.0, "b_rel": 0.0,
                 "per_reservoir_abs": 0.0, "c_demand_met_abs": 0.0}
        bad_members = []
        for m in range(M):
            if w["runs"][m]["steps"] != T:
                bad_members.append(m)
                continue
            c = ba.compare(net, p["members"][m], w["runs"][m])
            for k in worst:
                worst[k] = max(worst[k], c[k])
            if not c["ok"]:
                bad_members.append(m)
        pool_same = all(_same(w["runs"][m], q["runs"][m]) for m in range(M))
        say(f"agreement, waterdesk serial vs Pywr scenario, all {M} members (worst): "
            f"(a) level totals {worst['a_level_total_abs']:.1e} mcm ({worst['a_rel']:.1e} rel.), "
            f"(b) total storage {worst['b_storage_total_abs']:.1e} mcm ({worst['b_rel']:.1e} rel.), "
            f"per reservoir {worst['per_reservoir_abs']:.1e} mcm, "
            f"(c) met demands {worst['c_demand_met_abs']:.1e} mcm -> "
            + ("OK" if not bad_members else f"FAIL on members {bad_members}"))
        say(f"pool results identical to serial (bit for bit): {pool_same}")
        k = last["stacked"]
        worst_k = {"a_level_total_abs": 0.0, "b_storage_total_abs": 0.0}
        bad_k = []
        for m in range(M):
            c = ba.compare(net, p["members"][m], k["runs"][m])
            for key in worst_k:
                worst_k[key] = max(worst_k[key], c[key])
            if not c["ok"]:
                bad_k.append(m)
        say(f"agreement, waterdesk stacked ({M} members, {k['solves_per_step']:.2f} stacked LP solves per step) "
            f"vs Pywr: level totals {worst_k['a_level_total_abs']:.1e} mcm, total storage "
            f"{worst_k['b_storage_total_abs']:.1e} mcm -> " + ("OK" if not bad_k else f"FAIL on members {bad_k}"))
        ok = ok and not bad_k
        e = last["ensemble"]
        bad_e = [m for m in range(M) if not ba.compare(net, p["members"][m], e["runs"][m])["ok"]]
        e_same = all(_same(k["runs"][m], e["runs"][m]) for m in range(M))
        say(f"agreement, waterdesk ensemble scenario (inflows.members = {M}, one NetCDF file) vs Pywr: "
            + ("OK" if not bad_e else f"FAIL on members {bad_e}") + f"; identical to members together: {e_same}")
        ok = ok and not bad_e and e_same
        say(f"compiled engine: {k['fallbacks']} member-steps handed to HiGHS")
        if "highs" in last:
            kh = last["highs"]
            gap = max([float(np.abs(k["runs"][m][f][key] - kh["runs"][m][f][key]).max())
                       for m in range(M) for f in ("supplied", "storage") for key in k["runs"][m][f]] + [0.0])
            say(f"agreement, compiled engine vs HiGHS path (stacked, {kh['solves_per_step']:.2f} stacked LP "
                f"solves per step), all {M} members: max |difference| {gap:.1e} mcm -> "
                + ("OK" if gap <= 1e-6 else "FAIL"))
            ok = ok and gap <= 1e-6
        ok = ok and not bad_members and pool_same
        if not args.no_batch:
            b = last["batch"]
            b_ok = all(st == "ok" for st in b["status"])
            c0 = ba.compare(net, p["members"][0], read_batch_run(b["dir"] / "r0000.nc")) if b_ok else {"ok": False}
            bsame = b_ok and _same(w["runs"][0], read_batch_run(b["dir"] / "r0000.nc"))
            say(f"batch: all runs ok: {b_ok}; member 0 agrees with Pywr: {c0['ok']}; "
                f"identical to serial: {bsame}")
            ok = ok and b_ok and c0["ok"]
        diff = ba.difficulty(net, {"supplied": p["members"][0]["supplied"]})
        say(f"member 0: delivered {diff['delivered_fraction']:.3f} of requests; short steps per level "
            f"{diff['short_steps_per_level']}")

    ms = M * T
    pywr_rate = ms / _med(times["pywr_run"])
    rows = [
        (f"Pywr, Scenario of {M}, model.run() [{args.solver}]", times["pywr_run"]),
        ("Pywr, build + setup + run", times["pywr_total"]),
        ("waterdesk serial, load + run per member", times["wd_serial"]),
        ("waterdesk serial, wd.run only", times["wd_serial_run"]),
        ("waterdesk serial, allocation loop only", times["wd_serial_alloc"]),
        (f"waterdesk members together, compiled engine, load + run", times["wd_stacked"]),
        ("waterdesk members together, compiled engine, simulate_members only", times["wd_stacked_run"]),
        ("waterdesk members together, compiled engine, allocation loop only", times["wd_stacked_alloc"]),
        (f"waterdesk ensemble scenario (inflows.members = {M}, one NetCDF file), wd.run: load + run + Dataset",
         times["wd_ensemble"]),
        (f"waterdesk pool ({args.workers} spawned workers, warm), load + run", times["wd_pool"]),
    ]
    if times["wd_highs"]:
        rows.append((f"waterdesk stacked HiGHS path ({M} members in one LP per step), simulate_members only",
                     times["wd_highs_run"]))
    if times["wd_batch"]:
        rows.append((f"waterdesk.batch.run_sweep(workers={args.workers}), end to end", times["wd_batch"]))
    say("")
    say(f"| path | wall s (median of {args.repeat}) | members x steps / s | ratio / Pywr model.run |")
    say("|---|---|---|---|")
    for name, ts in rows:
        r = ms / _med(ts)
        say(f"| {name} | {_med(ts):.3f} | {_rate(r)} | {r / pywr_rate:.3f}x |")
    say("(all wall times: min-max per path: " + "; ".join(
        f"{name.split(',')[0] if name.startswith('Pywr') else name}: {min(ts):.3f}-{max(ts):.3f}"
        for name, ts in rows[:1] + rows[2:3] + rows[5:6] + rows[8:]) + ")")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See benchmarks/README.md, section 'Ensembles'.")
    ap.add_argument("--nodes", type=int, nargs="+", default=[10, 50], help="target node counts (default 10 50)")
    ap.add_argument("--members", type=int, default=8, help="inflow members M (default 8)")
    ap.add_argument("--days", type=int, default=365, help="daily steps (default 365)")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats per network (default 3)")
    ap.add_argument("--seed", type=int, default=2001, help="network, inflow and member seed (default 2001)")
    ap.add_argument("--sigma", type=float, default=0.3, help="sigma of the lognormal member factor (default 0.3)")
    ap.add_argument("--workers", type=int, default=2, help="processes of the pool and batch paths (default 2)")
    ap.add_argument("--solver", default="glpk-edge", choices=["glpk-edge", "glpk"], help="Pywr solver")
    ap.add_argument("--no-batch", action="store_true", help="skip the waterdesk.batch.run_sweep path")
    ap.add_argument("--no-highs", action="store_true", help="skip the stacked HiGHS path (engine='highs')")
    ap.add_argument("--results", type=Path, default=None,
                    help="report file (default benchmarks/results/ensemble-<UTC date>.txt)")
    ap.add_argument("--no-save", action="store_true", help="do not write the report file")
    args = ap.parse_args(argv)
    if args.members < 1 or args.repeat < 1 or args.days < 2 or args.workers < 1:
        ap.error("--members, --repeat, --workers must be >= 1 and --days >= 2")

    say = Report()
    now = dt.datetime.now(dt.timezone.utc)
    g = ba.git_state()
    say("# waterdesk ensemble benchmark (benchmarks/bench_ensemble.py)")
    say(f"command: python {shlex.join(['benchmarks/bench_ensemble.py', *(sys.argv[1:] if argv is None else argv)])}")
    say(f"date: {now.isoformat(timespec='seconds')}; commit: {g['commit']}{' (dirty tree)' if g['dirty'] else ''}")
    mi = ba.machine_info()
    say(f"machine: {mi['cpu']}, {mi['cpus']} cpus, {mi['mem_gib']} GiB, {mi['platform']}, Python {mi['python']}")
    try:
        say("load average at start (1, 5, 15 min): " + " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    except OSError:
        pass
    say("versions: " + ", ".join(f"{k} {v}" for k, v in ba.versions().items()))
    say(f"members: lognormal factor exp(z - sigma^2/2), z AR(1) phi 0.9 sigma {args.sigma}, per member and site; "
        f"seed {args.seed}")

    # warm-up: imports, numba JIT, HiGHS and GLPK, in this process and in the pool
    t0 = time.perf_counter()
    warm = netgen.generate_for_nodes(10, days=args.days, seed=args.seed + 1)
    wflows = member_inflows(warm, 2, args.seed + 1, args.sigma)
    run_pywr_ensemble(warm, wflows, args.solver)
    pool = ProcessPoolExecutor(max_workers=args.workers, mp_context=multiprocessing.get_context("spawn"))
    ok = True
    try:
        with tempfile.TemporaryDirectory(prefix="wd-bench-ens-warm-") as tmp:
            scen = netgen.write_waterdesk(warm, Path(tmp))
            files = write_member_csvs(warm, wflows, Path(tmp))
            wd_member(str(scen), str(files[0]))
            ts = time.perf_counter()
            pids = set(pool.map(lambda_free_warm, range(2 * args.workers)))
            list(pool.map(wd_member, [str(scen)] * (2 * args.workers), [str(files[0])] * (2 * args.workers)))
            say(f"warm-up {time.perf_counter() - t0:.1f} s (pool start + import + first runs in "
                f"{len(pids)} workers: {time.perf_counter() - ts:.1f} s)")
        for target in args.nodes:
            ok = bench_network(target, args, pool, say) and ok
    finally:
        pool.shutdown()
    try:
        say("\nload average at end (1, 5, 15 min): " + " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    except OSError:
        pass
    say("")
    say("result: " + ("all paths agree" if ok else "DISAGREEMENT (see above)"))
    if not args.no_save:
        path = args.results or HERE / "results" / f"ensemble-{now.date().isoformat()}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(say.buf.getvalue(), encoding="utf-8")
        print(f"written {path}")
    return 0 if ok else 1


def lambda_free_warm(_: int) -> int:
    return _warm_worker()


if __name__ == "__main__":
    sys.exit(main())
