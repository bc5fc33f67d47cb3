"""Horizon mode: cost of building and loading the window LP against the HiGHS solve.

    python benchmarks/bench_horizon.py [--nodes 10 50 200] [--days 365] [--repeat 3]

The window LP of horizon mode is assembled from the one-step LP that Pyomo declares
and its standard-form compiler extracts once (sparse tiling, storage and routing
links, window clause rows) and passed to HiGHS; the goal (perf-baseline G5) is
build + load <= 0.5 x the HiGHS solve time. Same synthetic networks as
bench_allocation.py (netgen.py), daily steps, one window covering the whole run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import netgen  # noqa: E402


def run_once(scenario_path: Path) -> dict[str, float]:
    import waterdesk as wd

    scenario = wd.load_scenario(scenario_path)
    started = time.perf_counter()
    ds = wd.run(scenario)
    return {"wall_s": time.perf_counter() - started,
            "build_load_s": float(ds.attrs["horizon_build_seconds"]),
            "solve_s": float(ds.attrs["horizon_solve_seconds"]),
            "lp_solves": int(ds.attrs["lp_solves"]),
            "steps": int(ds.sizes["time"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2001)
    parser.add_argument("--results", default=str(Path(__file__).parent / "results" / "horizon.jsonl"))
    args = parser.parse_args(argv)
    print(f"{'nodes':>6}{'steps':>8}{'build+load s':>14}{'HiGHS s':>10}{'ratio':>8}"
          f"{'LP solves':>11}{'wall s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for target in args.nodes:
            net = netgen.generate_for_nodes(target, days=args.days, seed=args.seed)
            path = netgen.write_waterdesk(net, Path(tmp) / f"n{target}")
            text = path.read_text().replace('mode = "step"', f'mode = "horizon"\nhorizon = {args.days}')
            path.write_text(text)
            run_once(path)                                   # warm-up: imports, JIT
            runs = [run_once(path) for _ in range(args.repeat)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            ratio = med["build_load_s"] / med["solve_s"] if med["solve_s"] else float("nan")
            print(f"{target:>6}{med['steps']:>8.0f}{med['build_load_s']:>14.3f}"
                  f"{med['solve_s']:>10.3f}{ratio:>8.3f}{med['lp_solves']:>11.0f}{med['wall_s']:>9.2f}")
            Path(args.results).parent.mkdir(parents=True, exist_ok=True)
            with open(args.results, "a") as fh:
                fh.write(json.dumps({"target_nodes": target, "days": args.days, "repeat": args.repeat,
                                     "seed": args.seed, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                     "median": med, "build_load_over_solve": ratio}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
