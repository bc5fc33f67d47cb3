"""Per-step allocation throughput: waterdesk against Pywr on the same networks.

    python benchmarks/bench_allocation.py [--nodes 10 50 200] [--days 365] [--repeat 3]

For each target size, ``netgen`` builds one seeded random river network, writes it as
waterdesk files (basin TOML, inflow CSV, scenario TOML) into a temporary directory and
builds the identical Pywr model in code.  Both run side by side in this process:

- waterdesk: ``wd.load_scenario`` + ``wd.run``; throughput is
  ``allocation_steps / allocation_seconds`` (the per-step allocation loop only), and the
  wall time of ``wd.run`` is reported as well;
- Pywr: build, ``model.setup()`` and ``model.run()`` timed separately; throughput is
  days / ``model.run()`` time, for the solvers ``glpk-edge`` and ``glpk``.

Quoted numbers are medians over ``--repeat`` runs after one untimed warm-up of every
path in the process (imports, numba JIT).  The ratio is waterdesk steps/s over the
faster Pywr solver's steps/s.

Agreement (waterdesk against each Pywr solver):
(a) per step, the total delivered per priority level;
(b) per step, the total storage of all reservoirs;
(c) per demand, deliveries on steps where that demand's priority level is fully met
    in both models (within a level Pywr's split between competing demands is
    arbitrary, waterdesk's is by equal fraction, so only met levels are comparable).
The run fails (exit 1) when (a) or (b) differ by more than 1e-6 relative to the
largest total.  One JSON line per network is appended to
``benchmarks/results/allocation.jsonl``.

Pywr is imported only here (it is the optional ``bench`` extra); waterdesk never
imports it.  ``--pywr-only`` skips waterdesk, for use before its code exists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import netgen  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "allocation.jsonl"
TOL_REL = 1e-6  # (a) and (b): max abs difference / largest total


# ----------------------------------------------------------------------------- environment


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "mem_gib": mem_gib,
        "python": platform.python_version(),
    }


def versions() -> dict[str, str | None]:
    names = ["pywr", "numpy", "pandas", "xarray", "highspy", "numba", "scipy", "pyomo", "waterdesk"]
    return {n: _version(n) for n in names}


def git_state() -> dict[str, Any]:
    def git(*a: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(HERE.parent), *a], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


# ----------------------------------------------------------------------------- runners


def run_pywr(net: netgen.Network, solver: str, prebuilt: bool = True) -> dict[str, Any]:
    """Build, set up and run the Pywr model once; return timings and recorded series."""
    gc.collect()
    t0 = time.perf_counter()
    model, dem_rec, sto_rec = netgen.build_pywr(net, solver)
    t1 = time.perf_counter()
    model.setup()
    t2 = time.perf_counter()
    model.run()
    t3 = time.perf_counter()
    supplied = {k: np.asarray(r.data)[:, 0].copy() for k, r in dem_rec.items()}
    storage = {k: np.asarray(r.data)[:, 0].copy() for k, r in sto_rec.items()}
    out = {
        "build_s": t1 - t0, "setup_s": t2 - t1, "run_s": t3 - t2,
        "steps": net.days, "supplied": supplied, "storage": storage,
    }
    if prebuilt:
        out.update(_pywr_prebuilt_loop(model, dem_rec, sto_rec, supplied, storage))
    return out


def _pywr_prebuilt_loop(model: Any, dem_rec: dict[str, Any], sto_rec: dict[str, Any],
                        supplied: dict[str, np.ndarray], storage: dict[str, np.ndarray]) -> dict[str, Any]:
    """Re-run the set-up model with its Timestep objects built beforehand.

    Pywr 1.31's timestepper builds each ``Timestep`` from a pandas ``Period`` (with
    ``np.isclose`` checks) inside ``model.run()``; on this software stack that costs
    tens of microseconds per step, which is not allocation work.  This loop does what
    ``model.run()`` does (reset, ``before``/solve/``after`` per step, ``finish``) but
    iterates over a prebuilt list, so the time is Pywr's allocation step alone.  The
    recorded series must equal those of ``model.run()``.
    """
    model.reset()
    t0 = time.perf_counter()
    steps = list(model.timestepper)
    t1 = time.perf_counter()
    model.reset()
    gc.collect()
    tsr = model.timestepper  # recorders read tsr.current, which next() would have set
    t2 = time.perf_counter()
    for ts in steps:
        tsr._current = ts
        model.timestep = ts
        model._step()
    t3 = time.perf_counter()
    model.finish()
    same = all(np.array_equal(np.asarray(r.data)[:, 0], supplied[k]) for k, r in dem_rec.items()) and all(
        np.array_equal(np.asarray(r.data)[:, 0], storage[k]) for k, r in sto_rec.items())
    if not same:
        raise RuntimeError("Pywr prebuilt-timestep loop does not reproduce model.run()")
    return {"loop_s": t3 - t2, "timestepper_s": t1 - t0}


def run_waterdesk(wd: Any, scenario_path: Path, engine: str = "compiled") -> dict[str, Any]:
    """One ``wd.run`` on the given step engine (``WATERDESK_ENGINE``: compiled or highs)."""
    os.environ["WATERDESK_ENGINE"] = engine
    gc.collect()
    t0 = time.perf_counter()
    scenario = wd.load_scenario(scenario_path)
    t1 = time.perf_counter()
    result = wd.run(scenario)
    t2 = time.perf_counter()
    alloc_s = float(result.attrs["allocation_seconds"])
    steps = int(result.attrs["allocation_steps"])
    dem = [str(d) for d in result["supplied"]["demand"].values]
    res = [str(r) for r in result["storage"]["reservoir"].values] if "storage" in result else []
    sup = np.asarray(result["supplied"].transpose("time", "demand").values, dtype=float)
    req = np.asarray(result["requested"].transpose("time", "demand").values, dtype=float)
    sto = np.asarray(result["storage"].transpose("time", "reservoir").values, dtype=float) if res else None
    prio = [int(p) for p in result["demand_priority"].values]
    return {
        "load_s": t1 - t0, "run_wall_s": t2 - t1, "allocation_s": alloc_s, "steps": steps,
        "supplied": {d: sup[:, k] for k, d in enumerate(dem)},
        "requested": {d: req[:, k] for k, d in enumerate(dem)},
        "storage": {r: sto[:, k] for k, r in enumerate(res)} if sto is not None else {},
        "priority": dict(zip(dem, prio)),
        "n_time": int(result.sizes["time"]),
        # optional solver counters, recorded when waterdesk provides them
        **{k: int(result.attrs[k]) for k in ("lp_solves", "simplex_iterations", "engine_fallback_steps")
           if k in result.attrs},
        "engine": str(result.attrs.get("allocation_engine", engine)),
    }


# ----------------------------------------------------------------------------- comparison


def _level_totals(supplied: dict[str, np.ndarray], prio: dict[str, int], n: int) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    for d, p in prio.items():
        out[p] = out.get(p, np.zeros(n)) + supplied[d]
    return out


def _priorities(net: netgen.Network) -> dict[str, int]:
    return {nd["id"]: int(nd["priority"]) for nd in net.nodes if nd["kind"] == "demand"}


def _level_met(net: netgen.Network, supplied: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """Per level, the steps on which the level's total request is delivered."""
    prio = _priorities(net)
    got = _level_totals(supplied, prio, net.days)
    req = _level_totals(net.demand_per_day_mcm(), prio, net.days)
    return {p: got[p] >= req[p] - 1e-9 * np.maximum(1.0, req[p]) for p in req}


def difficulty(net: netgen.Network, run: dict[str, Any]) -> dict[str, Any]:
    """How much the case exercises priorities: short steps per level, and shared-level shortages."""
    prio = _priorities(net)
    met = _level_met(net, run["supplied"])
    per_level = {p: sum(1 for d in prio if prio[d] == p) for p in sorted(met)}
    short = {p: int(np.sum(~met[p])) for p in sorted(met)}
    req = net.demand_per_day_mcm()
    delivered = sum(float(run["supplied"][d].sum()) for d in prio)
    requested = sum(float(req[d].sum()) for d in prio)
    return {
        "demands_per_level": per_level,
        "short_steps_per_level": short,
        "shared_level_short_steps": sum(short[p] for p in short if per_level[p] >= 2),
        "delivered_fraction": delivered / requested if requested else 1.0,
    }


def compare(net: netgen.Network, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Agreement of run ``b`` with the reference run ``a``; both hold supplied/storage by id.

    Requests and priorities come from the network definition (what both models were given).
    """
    n = net.days
    demands = net.ids("demand")
    reservoirs = net.ids("reservoir")
    prio = _priorities(net)
    for side in (a, b):
        missing = [d for d in demands if d not in side["supplied"]] + [r for r in reservoirs if r not in side["storage"]]
        if missing:
            raise KeyError(f"result lacks ids {missing[:5]}")
        for d in demands:
            if len(side["supplied"][d]) != n:
                raise ValueError(f"{d}: {len(side['supplied'][d])} steps, expected {n}")

    # (a) per-level totals per step
    la, lb = _level_totals(a["supplied"], prio, n), _level_totals(b["supplied"], prio, n)
    a_abs = max(float(np.max(np.abs(la[p] - lb[p]))) for p in la)
    a_scale = max(1.0, max(float(np.max(np.abs(la[p]))) for p in la))
    # (b) total storage per step (and, for information, per reservoir)
    if reservoirs:
        sa = np.sum([a["storage"][r] for r in reservoirs], axis=0)
        sb = np.sum([b["storage"][r] for r in reservoirs], axis=0)
        b_abs = float(np.max(np.abs(sa - sb)))
        b_scale = max(1.0, float(np.max(np.abs(sa))))
        per_res = max(float(np.max(np.abs(a["storage"][r] - b["storage"][r]))) for r in reservoirs)
    else:
        b_abs, b_scale, per_res = 0.0, 1.0, 0.0
    # (c) per-demand deliveries on steps where the demand's level is fully met in both runs
    ma, mb = _level_met(net, a["supplied"]), _level_met(net, b["supplied"])
    c_abs, c_steps = 0.0, 0
    for d in demands:
        m = ma[prio[d]] & mb[prio[d]]
        c_steps += int(m.sum())
        if m.any():
            c_abs = max(c_abs, float(np.max(np.abs(a["supplied"][d][m] - b["supplied"][d][m]))))
    # first step where (a) or (b) goes wrong, to locate a discrepancy
    bad = np.zeros(n, dtype=bool)
    for p in la:
        bad |= np.abs(la[p] - lb[p]) > TOL_REL * a_scale
    if reservoirs:
        bad |= np.abs(sa - sb) > TOL_REL * b_scale
    return {
        "a_level_total_abs": a_abs, "a_rel": a_abs / a_scale,
        "b_storage_total_abs": b_abs, "b_rel": b_abs / b_scale,
        "c_demand_met_abs": c_abs, "c_demand_steps": c_steps,
        "per_reservoir_abs": per_res,
        "first_bad_step": int(np.argmax(bad)) if bad.any() else None,
        "bad_steps": int(bad.sum()),
        "ok": bool(a_abs <= TOL_REL * a_scale and b_abs <= TOL_REL * b_scale),
    }


def check_requests(net: netgen.Network, wdr: dict[str, Any]) -> float:
    """Max |waterdesk requested - Pywr max_flow| over demands and steps (mcm)."""
    req = net.demand_per_day_mcm()
    return max(float(np.max(np.abs(wdr["requested"][d] - req[d]))) for d in req)


# ----------------------------------------------------------------------------- driver


def _med(xs: list[float]) -> float:
    return float(statistics.median(xs))


def _fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}".replace(",", " ")


def load_waterdesk() -> Any:
    import waterdesk as wd

    for name in ("load_scenario", "run"):
        if not hasattr(wd, name):
            raise ImportError(f"waterdesk has no {name}()")
    return wd


def warm_up(days: int, seed: int, solvers: list[str], wd: Any | None) -> None:
    """One untimed run of every path on a small network: imports, numba JIT, caches."""
    net = netgen.generate_for_nodes(10, days=days, seed=seed + 1)
    for s in solvers:
        run_pywr(net, s)
    if wd is not None:
        with tempfile.TemporaryDirectory(prefix="wd-bench-warm-") as tmp:
            scen = netgen.write_waterdesk(net, tmp)
            run_waterdesk(wd, scen, "highs")
            run_waterdesk(wd, scen, "compiled")


def _strip(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if k not in ("supplied", "storage", "requested", "priority")}


def bench_network(target: int, args: argparse.Namespace, wd: Any | None) -> dict[str, Any]:
    net = netgen.generate_for_nodes(target, days=args.days, seed=args.seed)
    rec: dict[str, Any] = {"target_nodes": target, "network": net.summary(), "name": net.name}
    pyw: dict[str, list[dict[str, Any]]] = {s: [] for s in args.solvers}
    wdr: list[dict[str, Any]] = []
    wdh: list[dict[str, Any]] = []     # the HiGHS path (engine="highs"), the reference
    wd_error = None
    with tempfile.TemporaryDirectory(prefix="wd-bench-") as tmp:
        scen = netgen.write_waterdesk(net, args.keep / net.name if args.keep else tmp)
        for _ in range(args.repeat):  # interleave the paths so that drift hits all alike
            for s in args.solvers:
                pyw[s].append(run_pywr(net, s))
            if wd is not None and wd_error is None:
                try:
                    wdr.append(run_waterdesk(wd, scen, "compiled"))
                    if not args.no_highs:
                        wdh.append(run_waterdesk(wd, scen, "highs"))
                except Exception:  # report, and keep benchmarking the other networks
                    wd_error = traceback.format_exc()

    rec["pywr"] = {}
    for s, runs in pyw.items():
        p = {k: [r[k] for r in runs] for k in ("build_s", "setup_s", "run_s", "loop_s", "timestepper_s")}
        p["steps"] = net.days
        p["steps_per_s"] = net.days / _med(p["run_s"])
        p["loop_steps_per_s"] = net.days / _med(p["loop_s"])
        p["timestepper_us_per_step"] = 1e6 * _med(p["timestepper_s"]) / net.days
        rec["pywr"][s] = p
    best = max(rec["pywr"], key=lambda s: rec["pywr"][s]["steps_per_s"])
    best_loop = max(rec["pywr"], key=lambda s: rec["pywr"][s]["loop_steps_per_s"])
    rec["pywr_best_solver"] = best
    ref = pyw[best][-1]
    rec["difficulty"] = difficulty(net, ref)
    if len(args.solvers) > 1:  # the two Pywr formulations must agree with each other too
        other = [s for s in args.solvers if s != best][0]
        rec["pywr_solver_agreement"] = compare(net, ref, pyw[other][-1])

    rec["ok"] = True
    problems: list[str] = []
    g = rec.get("pywr_solver_agreement")
    if g is not None and not g["ok"]:  # the network's answer is not unique: a generator bug
        problems.append("Pywr glpk and glpk-edge disagree: the network does not have a unique answer")
    if wd is not None:
        if wd_error is not None:
            rec["waterdesk_error"] = wd_error
            problems.append("wd.run raised (traceback below)")
        if wdr:
            steps = wdr[0]["steps"]
            w = {k: [r[k] for r in wdr] for k in ("load_s", "run_wall_s", "allocation_s")}
            for k in ("lp_solves", "simplex_iterations"):
                if k in wdr[0]:
                    w[k + "_per_step"] = wdr[0][k] / steps
            w.update(steps=steps, n_time=wdr[0]["n_time"],
                     steps_per_s=steps / _med(w["allocation_s"]),
                     wall_steps_per_s=steps / _med(w["run_wall_s"]))
            rec["waterdesk"] = w
            rec["ratio_vs_best"] = w["steps_per_s"] / rec["pywr"][best]["steps_per_s"]
            rec["ratio_vs"] = {s: w["steps_per_s"] / p["steps_per_s"] for s, p in rec["pywr"].items()}
            rec["ratio_vs_best_loop"] = w["steps_per_s"] / rec["pywr"][best_loop]["loop_steps_per_s"]
            rec["ratio_wall_vs_best"] = w["wall_steps_per_s"] / rec["pywr"][best]["steps_per_s"]
            last = wdr[-1]
            if steps != net.days or last["n_time"] != net.days:
                problems.append(f"waterdesk ran {steps} allocation steps over {last['n_time']} times, "
                                f"expected {net.days}")
            want = _priorities(net)
            bad_prio = {d: (last["priority"].get(d), p) for d, p in want.items() if last["priority"].get(d) != p}
            if bad_prio:
                problems.append(f"demand_priority (waterdesk, basin file) differs: {bad_prio}")
            try:
                rec["requested_abs"] = check_requests(net, last)
                if rec["requested_abs"] > 1e-9:
                    problems.append(f"waterdesk requested differs from monthly_mcm / days in month by up to "
                                    f"{rec['requested_abs']:.3g} mcm")
                rec["agreement"] = {s: compare(net, pyw[s][-1], last) for s in args.solvers}
                for s, g in rec["agreement"].items():
                    if not g["ok"]:
                        problems.append(f"waterdesk vs pywr {s}: (a)/(b) beyond {TOL_REL:g} relative on "
                                        f"{g['bad_steps']} steps, first on step {g['first_bad_step']} "
                                        f"({net.dates()[g['first_bad_step']]})")
            except (KeyError, ValueError) as exc:
                problems.append(f"cannot compare: {exc}")
            rec["waterdesk_timings"] = [_strip(r) for r in wdr]
            rec["engine_fallback_steps"] = wdr[-1].get("engine_fallback_steps")
            if wdh:
                h = {k: [r[k] for r in wdh] for k in ("run_wall_s", "allocation_s")}
                h["steps_per_s"] = steps / _med(h["allocation_s"])
                h["lp_solves_per_step"] = wdh[0].get("lp_solves", 0) / steps
                rec["waterdesk_highs"] = h
                rec["engine_vs_highs_path"] = w["steps_per_s"] / h["steps_per_s"]
                rec["highs_ratio_vs_best"] = h["steps_per_s"] / rec["pywr"][best]["steps_per_s"]
                rec["highs_ratio_vs_best_loop"] = h["steps_per_s"] / rec["pywr"][best_loop]["loop_steps_per_s"]
                diff = max([float(np.abs(last["supplied"][d] - wdh[-1]["supplied"][d]).max()) for d in last["supplied"]]
                           + [float(np.abs(last["storage"][r] - wdh[-1]["storage"][r]).max()) for r in last["storage"]]
                           + [0.0])
                rec["engine_vs_highs_abs_mcm"] = diff
                if diff > 1e-6:
                    problems.append(f"compiled engine and HiGHS path differ by {diff:.3g} mcm")
    if problems:
        rec["problems"] = problems
        rec["ok"] = False
    return rec


def print_record(rec: dict[str, Any], args: argparse.Namespace) -> None:
    n = rec["network"]
    print(f"\n== {rec['name']}: {n['nodes']} nodes ({n['inflow']} inflow, {n['junction']} junction, "
          f"{n['reservoir']} reservoir, {n['demand']} demand, 1 sink), {n['reaches']} reaches; "
          f"{args.days} daily steps; medians of {args.repeat}")
    print(f"  {'path':<34} {'steps/s':>9} {'s (min-max)':>25} {'setup s':>8} {'build s':>8}")
    for s, p in rec["pywr"].items():
        r, lp = p["run_s"], p["loop_s"]
        print(f"  {'pywr ' + s + ' model.run()':<34} {_fmt_rate(p['steps_per_s']):>9} "
              f"{_med(r):>8.4f} ({min(r):.4f}-{max(r):.4f}) {_med(p['setup_s']):>8.4f} {_med(p['build_s']):>8.4f}")
        print(f"  {'pywr ' + s + ' prebuilt timesteps':<34} {_fmt_rate(p['loop_steps_per_s']):>9} "
              f"{_med(lp):>8.4f} ({min(lp):.4f}-{max(lp):.4f})   (timestepper {p['timestepper_us_per_step']:.0f} us/step)")
    w = rec.get("waterdesk")
    if w:
        a, rw = w["allocation_s"], w["run_wall_s"]
        print(f"  {'waterdesk compiled engine':<34} {_fmt_rate(w['steps_per_s']):>9} "
              f"{_med(a):>8.4f} ({min(a):.4f}-{max(a):.4f})")
        if "lp_solves_per_step" in w:
            print(f"  {'':<34} {'':>9} {1e6 * _med(a) / w['steps']:>8.0f} us/step, "
                  f"{w['lp_solves_per_step']:.2f} LP solves/step, "
                  f"{w.get('simplex_iterations_per_step', float('nan')):.2f} simplex iterations/step")
        h = rec.get("waterdesk_highs")
        if h:
            ha = h["allocation_s"]
            print(f"  {'waterdesk HiGHS path (reference)':<34} {_fmt_rate(h['steps_per_s']):>9} "
                  f"{_med(ha):>8.4f} ({min(ha):.4f}-{max(ha):.4f})  {h['lp_solves_per_step']:.2f} LP solves/step")
            print(f"  compiled engine vs HiGHS path: {rec['engine_vs_highs_path']:.1f}x faster, max |difference| "
                  f"{rec['engine_vs_highs_abs_mcm']:.1e} mcm (supplied, storage), "
                  f"{rec.get('engine_fallback_steps', 0)} steps handed to HiGHS; HiGHS path vs Pywr "
                  f"{rec['highs_ratio_vs_best']:.2f}x model.run, {rec['highs_ratio_vs_best_loop']:.2f}x core")
        print(f"  {'waterdesk wd.run() wall':<34} {_fmt_rate(w['wall_steps_per_s']):>9} "
              f"{_med(rw):>8.4f} ({min(rw):.4f}-{max(rw):.4f}) {'':>8} {_med(w['load_s']):>8.4f} (load_scenario)")
        ratios = ", ".join(f"{v:.2f}x vs {s}" for s, v in rec["ratio_vs"].items())
        print(f"  RATIO waterdesk (compiled engine)/Pywr = {rec['ratio_vs_best']:.2f}x (faster Pywr solver, {rec['pywr_best_solver']}; "
              f"{ratios}); vs Pywr with prebuilt timesteps {rec['ratio_vs_best_loop']:.2f}x; "
              f"wd.run wall vs model.run {rec['ratio_wall_vs_best']:.2f}x")
    d = rec["difficulty"]
    print(f"  case (Pywr {rec['pywr_best_solver']}): delivered {100 * d['delivered_fraction']:.1f} % of requests; "
          f"short steps per level {d['short_steps_per_level']} with demands per level {d['demands_per_level']}; "
          f"shared-level short steps {d['shared_level_short_steps']}")
    if "pywr_solver_agreement" in rec:
        g = rec["pywr_solver_agreement"]
        print(f"  pywr glpk vs glpk-edge   : (a) {g['a_level_total_abs']:.1e}  (b) {g['b_storage_total_abs']:.1e}  "
              f"(c) {g['c_demand_met_abs']:.1e}  per reservoir {g['per_reservoir_abs']:.1e} mcm")
    for s, g in rec.get("agreement", {}).items():
        flag = "OK" if g["ok"] else "FAIL"
        print(f"  waterdesk vs pywr {s:<9}: (a) level totals {g['a_level_total_abs']:.1e} mcm (rel {g['a_rel']:.1e})  "
              f"(b) storage total {g['b_storage_total_abs']:.1e} mcm (rel {g['b_rel']:.1e})  "
              f"(c) met-level demands {g['c_demand_met_abs']:.1e} mcm over {g['c_demand_steps']} demand-steps  "
              f"per reservoir {g['per_reservoir_abs']:.1e} mcm  [{flag}]")
    if "requested_abs" in rec:
        print(f"  waterdesk requested vs Pywr max_flow: {rec['requested_abs']:.1e} mcm")
    for p in rec.get("problems", []):
        print(f"  PROBLEM: {p}")
    if "waterdesk_error" in rec:
        print("  waterdesk FAILED:\n" + "\n".join("    " + ln for ln in rec["waterdesk_error"].splitlines()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[10, 50, 200], help="target node counts")
    ap.add_argument("--days", type=int, default=365, help="daily steps from 2001-01-01")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per path; medians are quoted")
    ap.add_argument("--seed", type=int, default=2001)
    ap.add_argument("--solvers", nargs="+", default=["glpk-edge", "glpk"])
    ap.add_argument("--pywr-only", action="store_true", help="skip waterdesk (before its code exists)")
    ap.add_argument("--no-highs", action="store_true", help="skip waterdesk's HiGHS path (engine='highs')")
    ap.add_argument("--keep", type=Path, default=None, help="write the waterdesk files under this directory")
    ap.add_argument("--results", type=Path, default=RESULTS, help="JSON-lines file to append to")
    ap.add_argument("--no-save", action="store_true", help="do not append to the results file")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.days < 1:
        ap.error("--repeat and --days must be >= 1")

    wd = None
    if not args.pywr_only:
        try:
            wd = load_waterdesk()
        except Exception as exc:
            print(f"waterdesk is not usable ({type(exc).__name__}: {exc}); run with --pywr-only", file=sys.stderr)
            return 2

    info = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])),
        "machine": machine_info(), "versions": versions(), "git": git_state(),
        "days": args.days, "repeat": args.repeat, "seed": args.seed, "pywr_only": args.pywr_only,
        "engines": ["compiled"] + ([] if args.no_highs else ["highs"]),
    }
    print(f"$ python benchmarks/{info['command']}")
    print(f"{info['date']}  {info['machine']['cpu']} x{info['machine']['cpus']}  Python {info['machine']['python']}  "
          + "  ".join(f"{k} {v}" for k, v in info["versions"].items() if v))
    t0 = time.perf_counter()
    warm_up(args.days, args.seed, args.solvers, wd)
    print(f"warm-up done in {time.perf_counter() - t0:.2f} s")

    ok = True
    for target in args.nodes:
        rec = bench_network(target, args, wd)
        print_record(rec, args)
        ok &= rec["ok"]
        if not args.no_save:
            args.results.parent.mkdir(parents=True, exist_ok=True)
            with open(args.results, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({**info, **rec}, sort_keys=False) + "\n")
    if not args.no_save:
        print(f"\nappended {len(args.nodes)} line(s) to {args.results}")
    if not ok:
        print("\nFAILED: waterdesk and Pywr disagree or waterdesk did not run (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
