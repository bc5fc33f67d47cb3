"""What salinity costs (issue 14): the same scenario with and without the basin's salinity
keys (salt tracking on the realised water), and with max_salinity clauses (the fixed point on
the mixing re-solves binding steps). Medians of --repeat runs, in one process, after a
warm-up run (numba compiled).

    python benchmarks/bench_salinity.py [--repeat 3] [--scenario scenarios/amu-darya/baseline.toml]
        [--limited scenarios/amu-darya/salinity-border.toml]

Prints seconds per run (median), LP solves, and the ratios. Not a timed test.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _strip_salinity(scenario: Path, folder: Path) -> Path:
    """A copy of the scenario on a copy of its basin without any salinity key."""
    text = scenario.read_text("utf-8")
    basin_rel = re.search(r'^basin = "([^"]+)"', text, re.M).group(1)  # type: ignore[union-attr]
    basin = (scenario.parent / basin_rel).resolve()
    target = folder / "basin"
    shutil.copytree(basin.parent, target)
    lines = [ln for ln in (target / basin.name).read_text("utf-8").splitlines()
             if not re.match(r"^(return_|initial_)?salinity_mg_l\s*=", ln)]
    (target / basin.name).write_text("\n".join(lines) + "\n", "utf-8")
    out = folder / scenario.name
    out.write_text(text.replace(f'basin = "{basin_rel}"', f'basin = "{(target / basin.name).as_posix()}"'), "utf-8")
    return out


def _time(path: Path, repeat: int) -> tuple[float, int, bool]:
    import waterdesk as wd

    wd.run(path)            # warm-up (numba compile, file cache)
    seconds = []
    ds = None
    for _ in range(repeat):
        t = time.perf_counter()
        ds = wd.run(path)
        seconds.append(time.perf_counter() - t)
    assert ds is not None
    return statistics.median(seconds), int(ds.attrs["lp_solves"]), "salinity" in ds.data_vars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenario", default="scenarios/amu-darya/baseline.toml")
    parser.add_argument("--limited", default="scenarios/amu-darya/salinity-border.toml")
    args = parser.parse_args()
    scenario = (ROOT / args.scenario).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        plain = _strip_salinity(scenario, Path(tmp))
        rows = [("without salinity keys", *_time(plain, args.repeat)),
                ("with salinity keys", *_time(scenario, args.repeat)),
                ("with max_salinity clauses", *_time((ROOT / args.limited).resolve(), args.repeat))]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    print(f"bench_salinity.py --repeat {args.repeat} --scenario {args.scenario} --limited {args.limited}"
          f" (commit {commit})")
    base = rows[0][1]
    for name, sec, solves, salt in rows:
        print(f"  {name:<28} {sec:8.2f} s (median)  {solves:6d} LP solves  x{sec / base:5.2f}"
              f"  salinity variables: {'yes' if salt else 'no'}")


if __name__ == "__main__":
    main()
