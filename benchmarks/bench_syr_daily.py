"""Syr Darya, 30 years daily (10,958 steps): the compiled engine against the HiGHS path.

    python benchmarks/bench_syr_daily.py [--years 30] [--repeat 1] [--engines compiled highs]

The shipped baseline (scenarios/syr-darya/baseline.toml: ICWC limits, Small Aral inflow,
Toktogul regime) run daily from 1991-10-01 over ``--years`` water years, on monthly inflows
generated from the basin's own series (``waterdesk.generate.generate_inflows``, seed 11,
one member; daily steps read them as piecewise constant). Each engine runs ``--repeat``
times in this process after one untimed warm-up run of each on the first year; quoted
are medians of ``wd.run`` wall time and of the allocation loop (the result's
``allocation_seconds``). Agreement: the largest difference of every delivery and storage
between the engines [mcm], and the largest mass-balance error. The run is ill-conditioned
(a Muskingum reach below Chardara passes on 13 % of a day's entry: `waterdesk.testing.
well_conditioned`), so the script also runs the HiGHS path on inflows scaled by 1 + 1e-12
(``--no-nudged`` skips it): how far two HiGHS runs part is the yardstick for how far the
engines may part. The report is written to
``benchmarks/results/syr-daily-<UTC date>.txt`` unless ``--no-save``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import bench_allocation as ba  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--years", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--engines", nargs="+", default=["compiled", "highs"], choices=["compiled", "highs"])
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--no-nudged", action="store_true", help="skip the HiGHS run on inflows x (1 + 1e-12)")
    args = ap.parse_args(argv)

    import waterdesk as wd
    from waterdesk.generate import generate_inflows
    from waterdesk.io.inflows import write_inflows
    from waterdesk.testing import well_conditioned

    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    g = ba.git_state()
    say(f"command: python benchmarks/bench_syr_daily.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    say(f"date: {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}; commit: {g['commit']}"
        f"{' (dirty tree)' if g['dirty'] else ''}; load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    start = "1991-10-01"
    end = str(np.datetime64(f"{1991 + args.years}-10-01") - np.timedelta64(1, "D"))
    with tempfile.TemporaryDirectory(prefix="wd-syr-daily-") as tmp:
        path = Path(tmp) / "inflows.nc"
        write_inflows(generate_inflows("syr-darya", years=args.years, members=1, seed=11, start=start[:7]), path)
        base = ROOT / "scenarios" / "syr-darya" / "baseline.toml"
        over = {"inflows.file": str(path), "scenario.start": start, "scenario.timestep": "day"}
        warm = wd.load_scenario(base, {**over, "scenario.end": "1992-09-30"})
        sc = wd.load_scenario(base, {**over, "scenario.end": end})
        n = len(sc.steps)
        say(f"Syr Darya baseline, daily {start} to {end}: {n} steps")
        results: dict[str, list[tuple[float, float, object]]] = {}
        for engine in args.engines:
            os.environ["WATERDESK_ENGINE"] = engine
            wd.run(warm)
        for _ in range(args.repeat):
            for engine in args.engines:
                os.environ["WATERDESK_ENGINE"] = engine
                t0 = time.perf_counter()
                ds = wd.run(sc)
                wall = time.perf_counter() - t0
                results.setdefault(engine, []).append((wall, float(ds.attrs["allocation_seconds"]), ds))
        say(f"| engine | wd.run wall s | allocation s | steps/s (allocation) | LP solves/step | handed to HiGHS |")
        say("|---|---|---|---|---|---|")
        rate = {}
        for engine, runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            alloc = statistics.median(r[1] for r in runs)
            ds = runs[-1][2]
            rate[engine] = (wall, alloc)
            say(f"| {engine} | {wall:.2f} | {alloc:.2f} | {n / alloc:,.0f} | "
                f"{int(ds.attrs['lp_solves']) / n:.2f} | {int(ds.attrs.get('engine_fallback_steps', 0))} |")
        if len(results) == 2:
            a, b = results["compiled"][-1][2], results["highs"][-1][2]
            gap = max(float(np.abs(a[v].values - b[v].values).max()) for v in ("supplied", "storage"))
            say(f"compiled vs HiGHS path: wd.run {rate['highs'][0] / rate['compiled'][0]:.1f}x faster, "
                f"allocation {rate['highs'][1] / rate['compiled'][1]:.1f}x faster; "
                f"max |difference| (supplied, storage) {gap:.1e} mcm")
        if not args.no_nudged and "highs" in results:
            os.environ["WATERDESK_ENGINE"] = "highs"
            nudged = wd.run(sc.replace(inflows=sc.inflows.__class__(
                sc.inflows.node, sc.inflows.start, sc.inflows.end, sc.inflows.values_m3s * (1.0 + 1e-12))))
            b = results["highs"][-1][2]
            gap = max(float(np.abs(nudged[v].values - b[v].values).max()) for v in ("supplied", "storage"))
            say(f"HiGHS path vs HiGHS path on inflows x (1 + 1e-12): max |difference| (supplied, storage) "
                f"{gap:.1e} mcm (the run is ill-conditioned: well_conditioned = {well_conditioned(sc)})")
        for engine, runs in results.items():
            say(f"{engine}: max |mass balance error| {float(np.abs(runs[-1][2]['mass_balance_error'].values).max()):.1e} mcm")
    if not args.no_save:
        out = HERE / "results" / f"syr-daily-{dt.date.today().isoformat()}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
