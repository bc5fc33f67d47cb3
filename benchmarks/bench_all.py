"""Every row of issue 11's table, waterdesk against Pywr side by side, in one command.

    python benchmarks/bench_all.py            # full: medians of 3 (about 30-40 min here)
    python benchmarks/bench_all.py --quick    # smoke: 1 repeat, smaller cases (a few minutes)

Needs Pywr (``pip install -e '.[bench]'``; pywr 1.31.1 pins pandas < 3, so a separate
environment with ``--system-site-packages`` keeps the main one intact). Rows:

1. cold process: ``python -m waterdesk -q run`` of a netgen network (365 daily steps,
   result written as NetCDF) against a fresh ``python`` that imports Pywr, builds the same
   model and runs it. The Pywr child regenerates the network with ``netgen`` and reports
   that time, which is subtracted (it is not Pywr's work). waterdesk is measured in the
   state a user meets from the second run on (numba and step-LP caches filled), and, for
   the step-LP cache, also on a network it has never seen (the LP declared in Pyomo).
   Wall time and CPU time (user + system of the child) are both given: CPU time is the
   steadier one on a shared machine.
2. per step at 10 / 50 / 200 nodes: `bench_allocation.bench_network` (the allocation loop
   against Pywr ``model.run()`` and against Pywr's core with prebuilt timesteps, with the
   agreement check of that script).
3. ensembles of 32 and 128 members at 10 and 50 nodes: `bench_ensemble.run_wd_ensemble`, the
   product's ensemble path (a scenario with ``inflows.members = M`` on one NetCDF file,
   ``wd.run``: load + run + result Dataset, and its allocation loop) against Pywr with a
   ``Scenario`` of that size (`bench_ensemble.run_pywr_ensemble`), every member checked with
   `bench_allocation.compare`.
4. the Syr Darya baseline daily over 30 water years (10,958 steps), in process after a
   warm-up; compared with the issue's 29.5 s.
5. first run after install: the Chu-Talas baseline by the command line with empty numba
   and step-LP caches (``NUMBA_CACHE_DIR``, ``WATERDESK_CACHE_DIR`` pointed at empty
   directories), against the same command with both caches filled; the issue's 24 s.
6. ``waterdesk report`` of two 30-year daily Syr Darya results (cold process), and cold
   ``validate`` and ``ledger`` for reference.
7. growth: time and peak memory (max RSS of a fresh process) of load + run against network
   size (10 to 1,000 nodes) and members (1 to 256, stacked, 50-node network), Pywr beside.

Numbers are medians over ``--repeat`` runs, the paths interleaved so drift hits all alike.
The printed table and a JSON record (commit, machine, versions, every sample) go to
``benchmarks/results/all-<date>-<commit>.{txt,json}`` unless ``--no-save``. Exit 1 when an
agreement check fails.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import bench_allocation as ba  # noqa: E402
import bench_ensemble as be  # noqa: E402
import netgen  # noqa: E402

SYR = ROOT / "scenarios" / "syr-darya" / "baseline.toml"
CHU = ROOT / "scenarios" / "chu-talas" / "baseline.toml"
SYR_30Y = {"scenario.start": "1990-10-01", "scenario.end": "2020-09-30", "scenario.timestep": "day"}
SYR_3Y = {"scenario.start": "1990-10-01", "scenario.end": "1993-09-30", "scenario.timestep": "day"}
#: the issue's "today" figures (issue 11 table, same machine kind)
ISSUE = {"syr30_s": 29.5, "first_run_s": 24.0}
SEED, DAYS = 2001, 365


def med(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


class Out:
    """Print and keep every line for the results file."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, *parts: Any) -> None:
        line = " ".join(str(p) for p in parts)
        print(line, flush=True)
        self.lines.append(line)


def rate(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ") if x == x else "-"


# ----------------------------------------------------------------------------- children

#: peak resident memory of this process: VmHWM (ru_maxrss would carry the parent's peak over exec)
HWM = "int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) / 1024"

PYWR_CHILD = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
sys.path.insert(0, {here!r})
import netgen
net = netgen.generate_for_nodes({nodes}, days={days}, seed={seed})
{members_code}
t1, c1 = time.perf_counter(), time.process_time()
model, dem, sto = netgen.build_pywr(net, "glpk-edge", member_flows=flows)
t2 = time.perf_counter()
model.run()
t3 = time.perf_counter()
print(json.dumps({{"gen_wall": t1 - t0, "gen_cpu": c1 - c0, "build_s": t2 - t1, "run_s": t3 - t2,
                  "maxrss_mb": {hwm}}}))
"""

WD_CHILD = """
import json, sys, time
sys.path.insert(0, {here!r})
t0 = time.perf_counter()
import waterdesk as wd
t1 = time.perf_counter()
members_nc, members = {members_nc!r}, {members!r}
if members_nc:
    import bench_ensemble as be
    r = be.run_wd_ensemble({scen!r}, members_nc, members)
    load_run, alloc = r["wall_s"], r["allocation_s"]
else:
    sc = wd.load_scenario({scen!r})
    t2 = time.perf_counter()
    ds = wd.run(sc)
    load_run, alloc = time.perf_counter() - t1, float(ds.attrs["allocation_seconds"])
print(json.dumps({{"import_s": t1 - t0, "load_run_s": load_run, "allocation_s": alloc,
                  "maxrss_mb": {hwm}}}))
"""


def child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a fresh process; (wall s, CPU s of user + system, stdout). Raises on failure."""
    r0, t0 = os.times(), time.perf_counter()
    # cwd outside the checkout: `python -m waterdesk` and `-c` put the cwd first on sys.path,
    # which would shadow a PYTHONPATH pointing at another tree (a "before" measurement)
    # bytecode caching on, as in a user's shell: with PYTHONDONTWRITEBYTECODE set, modules
    # that have no .pyc yet (an editable install's own) are compiled from source every run
    child_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env, cwd=tempfile.gettempdir())
    wall, r1 = time.perf_counter() - t0, os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed:\n{proc.stderr[-3000:]}")
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return wall, cpu, proc.stdout


def pywr_child(nodes: int, members: int = 0) -> tuple[float, float, dict[str, Any]]:
    """A fresh Pywr process (import + build + run); wall and CPU without network generation."""
    mcode = (f"import bench_ensemble as be; flows = be.member_inflows(net, {members}, {SEED}, 0.3)"
             if members else "flows = None")
    code = PYWR_CHILD.format(here=str(HERE), nodes=nodes, days=DAYS, seed=SEED, members_code=mcode, hwm=HWM)
    wall, cpu, out = child([sys.executable, "-c", code])
    info = json.loads(out.strip().splitlines()[-1])
    return wall - info["gen_wall"], cpu - info["gen_cpu"], info


def wd_cli(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    wall, cpu, _ = child([sys.executable, "-m", "waterdesk", "-q", *args], env)
    return wall, cpu


# ----------------------------------------------------------------------------- sections


def cold_process(nodes_list: list[int], repeat: int, tmp: Path, say: Out) -> list[dict[str, Any]]:
    say("\n## 1. Cold process: `python -m waterdesk -q run` (365 days, NetCDF written) vs a fresh "
        "Pywr process (import + build + run)")
    say(f"{'nodes':>5} | {'waterdesk wall / CPU s':>22} | {'new network (LP declared)':>26} | "
        f"{'Pywr wall / CPU s':>18} | {'ratio wall':>10} | {'ratio CPU':>9} | target 1.5")
    rows = []
    for nodes in nodes_list:
        net = netgen.generate_for_nodes(nodes, days=DAYS, seed=SEED)
        scen = netgen.write_waterdesk(net, tmp / f"cold-{nodes}")
        cache = tmp / f"cold-{nodes}-cache"
        out = tmp / f"cold-{nodes}.nc"
        wd_cli(["run", str(scen), "-o", str(out)], {"WATERDESK_CACHE_DIR": str(cache)})   # fill caches
        pywr_child(nodes)                                                                  # page cache
        s: dict[str, list[float]] = {k: [] for k in ("wd_wall", "wd_cpu", "new_wall", "new_cpu", "py_wall", "py_cpu")}
        for rep in range(repeat):
            w, c = wd_cli(["run", str(scen), "-o", str(out)], {"WATERDESK_CACHE_DIR": str(cache)})
            s["wd_wall"].append(w)
            s["wd_cpu"].append(c)
            w, c = wd_cli(["run", str(scen), "-o", str(out)], {"WATERDESK_CACHE_DIR": str(tmp / f"new-{nodes}-{rep}")})
            s["new_wall"].append(w)
            s["new_cpu"].append(c)
            w, c, _ = pywr_child(nodes)
            s["py_wall"].append(w)
            s["py_cpu"].append(c)
        m = {k: med(v) for k, v in s.items()}
        row = {"nodes": net.n_nodes, "target_nodes": nodes, **m, "samples": s,
               "ratio_wall": m["py_wall"] / m["wd_wall"], "ratio_cpu": m["py_cpu"] / m["wd_cpu"],
               "ratio_new_wall": m["py_wall"] / m["new_wall"]}
        rows.append(row)
        say(f"{net.n_nodes:>5} | {m['wd_wall']:>10.2f} / {m['wd_cpu']:>8.2f} | {m['new_wall']:>12.2f} / "
            f"{m['new_cpu']:>8.2f}    | {m['py_wall']:>8.2f} / {m['py_cpu']:>6.2f} | {row['ratio_wall']:>9.2f}x | "
            f"{row['ratio_cpu']:>8.2f}x | {'met' if min(row['ratio_wall'], row['ratio_cpu']) >= 1.5 else 'not met'}")
    return rows


def per_step(nodes_list: list[int], repeat: int, say: Out) -> list[dict[str, Any]]:
    say("\n## 2. Allocation loop, steps/s (365 daily steps): waterdesk vs Pywr model.run() and Pywr's core "
        "(prebuilt timesteps); bench_allocation.py")
    import waterdesk as wd

    args = argparse.Namespace(days=DAYS, repeat=repeat, seed=SEED, solvers=["glpk-edge", "glpk"], keep=None,
                              no_highs=False)
    ba.warm_up(DAYS, SEED, args.solvers, wd)
    say(f"{'nodes':>5} | {'waterdesk':>9} | {'LP/step':>7} | {'Pywr run':>8} | {'Pywr core':>9} | "
        f"{'vs run (2x)':>11} | {'vs core (1x)':>12} | agreement")
    rows = []
    for nodes in nodes_list:
        rec = ba.bench_network(nodes, args, wd)
        w = rec.get("waterdesk", {})
        best = rec["pywr_best_solver"]
        core = max(p["loop_steps_per_s"] for p in rec["pywr"].values())
        run = rec["pywr"][best]["steps_per_s"]
        wsp = w.get("steps_per_s", float("nan"))
        agree = rec.get("agreement", {})
        worst = max((g["a_level_total_abs"] for g in agree.values()), default=float("nan"))
        row = {"nodes": rec["network"]["nodes"], "waterdesk_steps_per_s": wsp, "pywr_run": run, "pywr_core": core,
               "ratio_run": wsp / run, "ratio_core": wsp / core, "ok": rec["ok"],
               "lp_per_step": w.get("lp_solves_per_step"), "problems": rec.get("problems", []),
               "worst_level_total_abs": worst}
        rows.append(row)
        lp = f"{row['lp_per_step']:.2f}" if row["lp_per_step"] is not None else "-"
        say(f"{row['nodes']:>5} | {rate(wsp):>9} | {lp:>7} | {rate(run):>8} | {rate(core):>9} | "
            f"{row['ratio_run']:>10.2f}x | {row['ratio_core']:>11.2f}x | "
            f"{'ok' if rec['ok'] else 'FAIL'} (level totals within {worst:.1e} mcm)")
        for p in rec.get("problems", []):
            say(f"      problem: {p}")
    return rows


def ensembles(nodes_list: list[int], members_list: list[int], repeat: int, tmp: Path, say: Out) -> list[dict[str, Any]]:
    say("\n## 3. Ensembles, member-steps/s (365 days): waterdesk ensemble scenario (inflows.members = M on "
        "one NetCDF file; wd.run = load + run + result Dataset; and its allocation loop) vs Pywr Scenario(M) "
        "model.run()")
    say(f"{'nodes':>5} | {'M':>4} | {'wd load+run':>11} | {'wd alloc loop':>13} | {'Pywr':>8} | "
        f"{'ratio (2x)':>10} | {'alloc ratio':>11} | agreement")
    rows = []
    for nodes in nodes_list:
        net = netgen.generate_for_nodes(nodes, days=DAYS, seed=SEED)
        for M in members_list:
            flows = be.member_inflows(net, M, SEED, 0.3)
            d = tmp / f"ens-{nodes}-{M}"
            scen = netgen.write_waterdesk(net, d)
            members_nc = be.write_member_netcdf(net, flows, d)
            be.run_wd_ensemble(scen, members_nc, 2)                     # warm-up
            s: dict[str, list[float]] = {"pywr": [], "wd": [], "wd_alloc": []}
            for _ in range(repeat):
                p = be.run_pywr_ensemble(net, flows, "glpk-edge")
                k = be.run_wd_ensemble(scen, members_nc, M)
                s["pywr"].append(p["run_s"])
                s["wd"].append(k["wall_s"])
                s["wd_alloc"].append(k["allocation_s"])
            bad = [m for m in range(M) if not ba.compare(net, p["members"][m], k["runs"][m])["ok"]]
            worst = max(ba.compare(net, p["members"][m], k["runs"][m])["a_level_total_abs"] for m in range(M))
            ms = M * DAYS
            row = {"nodes": net.n_nodes, "members": M, "wd": ms / med(s["wd"]), "wd_alloc": ms / med(s["wd_alloc"]),
                   "pywr": ms / med(s["pywr"]), "samples": s, "bad_members": bad,
                   "worst_level_total_abs": worst}
            row["ratio"] = row["wd"] / row["pywr"]
            row["ratio_alloc"] = row["wd_alloc"] / row["pywr"]
            rows.append(row)
            say(f"{net.n_nodes:>5} | {M:>4} | {rate(row['wd']):>11} | {rate(row['wd_alloc']):>13} | "
                f"{rate(row['pywr']):>8} | {row['ratio']:>9.2f}x | {row['ratio_alloc']:>10.2f}x | "
                f"{'ok' if not bad else f'FAIL members {bad[:5]}'} (within {worst:.1e} mcm)")
    return rows


def syr_daily(overrides: dict[str, str], repeat: int, tmp: Path, say: Out) -> dict[str, Any]:
    import waterdesk as wd

    say(f"\n## 4. Syr Darya baseline, daily {overrides['scenario.start']} .. {overrides['scenario.end']} "
        f"(in process, after a warm-up run)")
    sc = wd.load_scenario(SYR, overrides)
    first = wd.run(sc, tmp / "syr-a.nc")          # warm-up, and the first result for the report
    wd.run(wd.load_scenario(SYR, {**overrides, "inflows.scale": 0.9}), tmp / "syr-b.nc")
    s: dict[str, list[float]] = {"load": [], "run": [], "alloc": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        sc = wd.load_scenario(SYR, overrides)
        t1 = time.perf_counter()
        ds = wd.run(sc)
        s["load"].append(t1 - t0)
        s["run"].append(time.perf_counter() - t1)
        s["alloc"].append(float(ds.attrs["allocation_seconds"]))
    same = bool(np.array_equal(ds["supplied"].values, first["supplied"].values))
    steps = int(ds.sizes["time"])
    solves = ds.attrs.get("lp_solves")
    row = {"steps": steps, **{k: med(v) for k, v in s.items()}, "samples": s, "same_as_first": same,
           "lp_solves_per_step": (int(solves) / steps) if solves is not None else None,
           "mass_balance_max": float(np.abs(ds["mass_balance_error"].values).max())}
    row["steps_per_s"] = steps / row["run"]
    full = steps > 10000
    row["vs_issue"] = ISSUE["syr30_s"] / row["run"] if full else None
    lps = f"{row['lp_solves_per_step']:.2f}" if row["lp_solves_per_step"] is not None else "-"
    say(f"steps {steps}: load {row['load']:.2f} s, run {row['run']:.2f} s ({rate(row['steps_per_s'])} steps/s), "
        f"allocation {row['alloc']:.2f} s, LP solves/step {lps}, largest mass-balance error "
        f"{row['mass_balance_max']:.1e} mcm; repeat identical: {same}")
    if full:
        say(f"vs the issue's 29.5 s: {row['vs_issue']:.2f}x faster (target 5x: "
            f"{'met' if row['vs_issue'] >= 5 else 'not met'})")
    return row


def first_run(repeat: int, tmp: Path, say: Out) -> dict[str, Any]:
    say("\n## 5. First run after install: `waterdesk run` Chu-Talas baseline, empty numba and step-LP caches "
        "vs both filled")
    out = str(tmp / "chu.nc")
    warm_env = {"WATERDESK_CACHE_DIR": str(tmp / "chu-cache")}
    wd_cli(["run", str(CHU), "-o", out], warm_env)
    s: dict[str, list[float]] = {"first_wall": [], "first_cpu": [], "warm_wall": [], "warm_cpu": []}
    for rep in range(repeat):
        env = {"NUMBA_CACHE_DIR": str(tmp / f"numba-empty-{rep}"), "WATERDESK_CACHE_DIR": str(tmp / f"lp-empty-{rep}")}
        w, c = wd_cli(["run", str(CHU), "-o", out], env)
        s["first_wall"].append(w)
        s["first_cpu"].append(c)
        w, c = wd_cli(["run", str(CHU), "-o", out], warm_env)
        s["warm_wall"].append(w)
        s["warm_cpu"].append(c)
    m = {k: med(v) for k, v in s.items()}
    row = {**m, "samples": s, "compile_cpu": m["first_cpu"] - m["warm_cpu"],
           "vs_issue_cpu": ISSUE["first_run_s"] / m["first_cpu"]}
    say(f"first run {m['first_wall']:.2f} s wall / {m['first_cpu']:.2f} s CPU; with caches {m['warm_wall']:.2f} s wall / "
        f"{m['warm_cpu']:.2f} s CPU; compilation and declaration {row['compile_cpu']:.2f} s CPU. The issue's 24 s "
        f"-> {m['first_cpu']:.1f} s CPU = 1/{row['vs_issue_cpu']:.2f} (target 1/3: "
        f"{'met' if row['vs_issue_cpu'] >= 3 else 'not met'})")
    return row


def commands(repeat: int, tmp: Path, say: Out) -> dict[str, Any]:
    say("\n## 6. Cold commands on the two Syr Darya daily results of section 4")
    a, b = str(tmp / "syr-a.nc"), str(tmp / "syr-b.nc")
    env = {"WATERDESK_CACHE_DIR": str(tmp / "cmd-cache")}
    cmds = {"report": ["report", a, b, "-o", str(tmp / "report.html")], "ledger": ["ledger", a],
            "compare": ["compare", a, b], "validate": ["validate", str(SYR)]}
    s: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for k, args in cmds.items():
            s[k].append(wd_cli(args, env))
    row: dict[str, Any] = {}
    for k, v in s.items():
        row[k] = {"wall": med([x[0] for x in v]), "cpu": med([x[1] for x in v]), "samples": v}
        say(f"waterdesk {k:<8} {row[k]['wall']:6.2f} s wall / {row[k]['cpu']:6.2f} s CPU")
    return row


def growth(sizes: list[int], members: list[int], member_nodes: int, tmp: Path, say: Out) -> dict[str, Any]:
    say("\n## 7. Growth: load + run of 365 daily steps in a fresh process (caches filled), peak memory (max RSS)")
    say(f"{'nodes':>5} | {'M':>4} | {'wd load+run s':>13} | {'wd alloc s':>10} | {'wd RSS MB':>9} | "
        f"{'Pywr build+run s':>16} | {'Pywr RSS MB':>11}")
    rows = []
    cache = {"WATERDESK_CACHE_DIR": str(tmp / "growth-cache")}

    def one(nodes: int, M: int) -> None:
        net = netgen.generate_for_nodes(nodes, days=DAYS, seed=SEED)
        d = tmp / f"growth-{nodes}-{M}"
        scen = netgen.write_waterdesk(net, d)
        members_nc = str(be.write_member_netcdf(net, be.member_inflows(net, M, SEED, 0.3), d)) if M > 1 else ""
        code = WD_CHILD.format(here=str(HERE), scen=str(scen), members_nc=members_nc, members=M, hwm=HWM)
        child([sys.executable, "-c", code], cache)                       # fill the LP cache
        w = json.loads(child([sys.executable, "-c", code], cache)[2].strip().splitlines()[-1])
        _, _, p = pywr_child(nodes, M if M > 1 else 0)
        row = {"nodes": net.n_nodes, "members": M, "wd": w, "pywr": p}
        rows.append(row)
        say(f"{net.n_nodes:>5} | {M:>4} | {w['load_run_s']:>13.2f} | {w['allocation_s']:>10.2f} | "
            f"{w['maxrss_mb']:>9.0f} | {p['build_s'] + p['run_s']:>16.2f} | {p['maxrss_mb']:>11.0f}")

    for n in sizes:
        one(n, 1)
    for M in members:
        if M > 1:
            one(member_nodes, M)
    return {"rows": rows}


# ----------------------------------------------------------------------------- driver


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 repeat and smaller cases (a smoke run)")
    ap.add_argument("--repeat", type=int, default=None, help="repeats per row (default 3, --quick 1)")
    ap.add_argument("--only", nargs="+", default=None,
                    choices=["cold", "step", "ensemble", "syr", "first", "commands", "growth"])
    ap.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = ap.parse_args(argv)
    try:
        import pywr  # noqa: F401
    except ImportError:
        print("bench_all needs Pywr: pip install -e '.[bench]' (pywr 1.31.1)", file=sys.stderr)
        return 2
    quick = args.quick
    repeat = args.repeat or (1 if quick else 3)
    only = set(args.only or ["cold", "step", "ensemble", "syr", "first", "commands", "growth"])
    if "commands" in only:
        only.add("syr")                    # the commands read section 4's results
    say = Out()
    git = ba.git_state()
    record: dict[str, Any] = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "git": git, "machine": ba.machine_info(), "versions": ba.versions(),
                              "quick": quick, "repeat": repeat, "load_avg": os.getloadavg()}
    say(f"# bench_all {'--quick ' if quick else ''}at {(git['commit'] or '?')[:10]}{' (dirty)' if git['dirty'] else ''}, "
        f"{record['date']}, medians of {repeat}; load average {record['load_avg'][0]:.1f} on "
        f"{record['machine']['cpus']} CPUs")
    ok = True
    with tempfile.TemporaryDirectory(prefix="wd-bench-all-") as tmpdir:
        tmp = Path(tmpdir)
        os.environ.setdefault("WATERDESK_CACHE_DIR", str(tmp / "inproc-cache"))
        if "cold" in only:
            record["cold"] = cold_process([50] if quick else [50, 200], repeat, tmp, say)
        if "step" in only:
            record["per_step"] = per_step([10, 50] if quick else [10, 50, 200], repeat, say)
            ok &= all(r["ok"] for r in record["per_step"])
        if "ensemble" in only:
            record["ensembles"] = ensembles([10] if quick else [10, 50], [32] if quick else [32, 128], repeat, tmp, say)
            ok &= all(not r["bad_members"] for r in record["ensembles"])
        if "syr" in only:
            record["syr_daily"] = syr_daily(SYR_3Y if quick else SYR_30Y, repeat, tmp, say)
            ok &= record["syr_daily"]["same_as_first"]
        if "first" in only:
            record["first_run"] = first_run(repeat, tmp, say)
        if "commands" in only:
            record["commands"] = commands(repeat, tmp, say)
        if "growth" in only:
            record["growth"] = growth([10, 50, 200] if quick else [10, 20, 50, 100, 200, 500, 1000],
                                      [1, 8, 32] if quick else [1, 4, 16, 64, 256], 50, tmp, say)
    record["ok"] = ok
    say(f"\nagreement checks: {'all passed' if ok else 'FAILED'}")
    if not args.no_save:
        results = HERE / "results"
        results.mkdir(exist_ok=True)
        stem = (f"all-{record['date'][:10]}-{(git['commit'] or 'nocommit')[:7]}{'-quick' if quick else ''}"
                + (f"-{'-'.join(args.only)}" if args.only else ""))
        (results / f"{stem}.txt").write_text("\n".join(say.lines) + "\n", "utf-8")
        (results / f"{stem}.json").write_text(json.dumps(record, indent=1, default=float) + "\n", "utf-8")
        print(f"\nwritten: benchmarks/results/{stem}.txt and .json")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
