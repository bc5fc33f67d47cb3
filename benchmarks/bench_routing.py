"""Routing core over inflow members: reach-steps per second, one member at a time against
all members in one numba call (parallel over members).

    python benchmarks/bench_routing.py [--days 3650] [--members 1 8 64] [--repeat 5]

Networks: the shipped Syr Darya basin (real lag and Muskingum reaches) and the 200-node
synthetic network of bench_allocation.py (netgen.py, seed 2001). Daily steps; every
inflow node gets the same gamma-distributed series for every member times a member factor
(the values do not change the work). Paths, each timed after a warm-up, medians of
--repeat:

- **one at a time**: ``kernels.routing.natural_flow`` called once per member;
- **members, 1 thread**: ``kernels.routing.natural_flow_members`` with
  ``numba.set_num_threads(1)``;
- **members, all threads**: the same with numba's default thread count (the machine's cores).

Reach-steps per second = reaches x steps x members / wall time. The members path must give
exactly the arrays of the one-at-a-time path (exit 1 otherwise). docs/REFERENCE.md §11 asks that the
cost be linear in reaches x steps x members: the ratio column shows it (per-member time at
M members over the time at 1 member).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import netgen  # noqa: E402


def networks() -> list[tuple[str, "object"]]:
    import waterdesk as wd
    from waterdesk.model.network import compile_network

    out = [("syr-darya (shipped)", compile_network(wd.load_basin(ROOT / "basins/syr-darya/basin.toml")))]
    with tempfile.TemporaryDirectory() as tmp:
        scen = netgen.write_waterdesk(netgen.generate_for_nodes(200, days=365, seed=2001), tmp)
        out.append(("netgen 200 nodes", compile_network(wd.load_scenario(scen).basin)))
    return out


def timed(fn: "object", repeat: int) -> float:
    fn()  # type: ignore[operator]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    import numba

    from waterdesk.kernels import routing

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=3650)
    ap.add_argument("--members", type=int, nargs="+", default=[1, 8, 64])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    threads = numba.get_num_threads()
    ok = True
    print(f"# routing core over members: {args.days} daily steps, medians of {args.repeat}, "
          f"numba {numba.__version__}, {threads} threads by default")
    for name, net in networks():
        rng = np.random.default_rng(1)
        edges = np.arange(args.days + 1, dtype=np.float64)
        kinds = np.bincount(net.reach_routing, minlength=3)  # type: ignore[attr-defined]
        print(f"\n## {name}: {net.n_reach} reaches ({kinds[1]} lag, {kinds[2]} Muskingum), "  # type: ignore[attr-defined]
              f"{net.n_node} nodes")  # type: ignore[attr-defined]
        print("| members | one at a time, reach-steps/s | members 1 thread | members all threads | "
              "all threads / one at a time | per-member time vs M = 1 |")
        print("|---|---|---|---|---|---|")
        base = None
        for m in args.members:
            local = np.zeros((m, args.days, net.n_node))  # type: ignore[attr-defined]
            series = rng.gamma(2.0, 50.0, (args.days, len(net.inflow_node)))  # type: ignore[attr-defined]
            local[:, :, net.inflow_node] = series[None] * rng.uniform(0.5, 1.5, (m, 1, 1))  # type: ignore[attr-defined]
            route = (net.order, net.river_out, net.reach_to, net.reach_routing, net.reach_k_days,  # type: ignore[attr-defined]
                     net.reach_x, net.reach_loss, edges)  # type: ignore[attr-defined]

            def one() -> list[tuple[np.ndarray, np.ndarray]]:
                return [routing.natural_flow(*route, local[k]) for k in range(m)]

            def together() -> tuple[np.ndarray, np.ndarray]:
                return routing.natural_flow_members(*route, local)

            t_one = timed(one, args.repeat)
            numba.set_num_threads(1)
            t_1 = timed(together, args.repeat)
            numba.set_num_threads(threads)
            t_all = timed(together, args.repeat)
            flow, entry = together()
            same = all(np.array_equal(flow[k], f) and np.array_equal(entry[k], e) for k, (f, e) in enumerate(one()))
            ok = ok and same
            work = net.n_reach * args.days * m  # type: ignore[attr-defined]
            base = base or t_all / m
            print(f"| {m} | {work / t_one:,.0f} | {work / t_1:,.0f} | {work / t_all:,.0f} | "
                  f"{t_one / t_all:.2f}x | {t_all / m / base:.2f} |" + ("" if same else " (DIFFERENT)"))
    print("\nresult: " + ("members path identical to one at a time" if ok else "FAIL: results differ"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
