"""Each command imports only what it uses (issue 11, cold start): checked on sys.modules of
a fresh `waterdesk` process, run as a program."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHU = ROOT / "scenarios" / "chu-talas" / "baseline.toml"
HEAVY = ("pyomo", "highspy", "numba", "dask", "distributed", "matplotlib", "scipy.stats")

PROGRAM = """
import atexit, json, sys
OUT = sys.argv.pop(1)
def _loaded():
    with open(OUT, "w") as fh:
        json.dump(sorted(m for m, v in sys.modules.items() if v is not None), fh)
atexit.register(_loaded)
sys.argv[0] = "waterdesk"
from waterdesk.cli.main import cli
cli()
"""


def loaded(args: list[str], tmp_path: Path, cache: Path) -> set[str]:
    """Modules loaded by ``waterdesk ARGS`` in a fresh process (which must succeed)."""
    out = tmp_path / "modules.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WATERDESK_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-c", PROGRAM, str(out), *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(out.read_text()))


def heavy(modules: set[str], *allowed: str) -> set[str]:
    return {h for h in HEAVY if h not in allowed and (h in modules or any(m.startswith(h + ".") for m in modules))}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Two result files of the Chu-Talas baseline (the second at 80 % of the inflows), the
    LP cache they filled, and the modules of the first (cache-filling) run."""
    tmp = tmp_path_factory.mktemp("imports")
    cache = tmp / "cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WATERDESK_CACHE_DIR": str(cache)}
    a, b = tmp / "a.nc", tmp / "b.nc"
    subprocess.run([sys.executable, "-m", "waterdesk", "-q", "run", str(CHU), "-o", str(a)],
                   env=env, check=True, timeout=600)
    import waterdesk as wd

    os.environ["WATERDESK_CACHE_DIR"], old = str(cache), os.environ.get("WATERDESK_CACHE_DIR")
    try:
        wd.run(wd.load_scenario(CHU, {"inflows.scale": 0.8}), b)
    finally:
        if old is None:
            os.environ.pop("WATERDESK_CACHE_DIR")
        else:
            os.environ["WATERDESK_CACHE_DIR"] = old
    return a, b, cache


def test_validate_loads_no_solver_kernel_dask_or_plotting(tmp_path):
    mods = loaded(["validate", str(CHU)], tmp_path, tmp_path / "cache")
    assert not heavy(mods), heavy(mods)
    assert "scipy" not in mods and "waterdesk.simulate" not in mods


def test_ledger_and_compare_load_no_solver_kernel_dask_or_plotting(results, tmp_path):
    a, b, cache = results
    for args in (["ledger", str(a)], ["compare", str(a), str(b)]):
        mods = loaded(args, tmp_path, cache)
        assert not heavy(mods), (args, heavy(mods))


def test_report_loads_plotting_only(results, tmp_path):
    a, b, cache = results
    mods = loaded(["-q", "report", str(a), str(b), "-o", str(tmp_path / "r.html")], tmp_path, cache)
    assert not heavy(mods, "matplotlib"), heavy(mods, "matplotlib")
    assert "matplotlib" in mods and (tmp_path / "r.html").stat().st_size > 0


def test_a_run_with_its_lp_cached_loads_no_pyomo_dask_or_plotting(results, tmp_path):
    a, _, cache = results
    out = tmp_path / "again.nc"
    mods = loaded(["-q", "run", str(CHU), "-o", str(out)], tmp_path, cache)
    assert not heavy(mods, "numba", "highspy"), heavy(mods, "numba", "highspy")
    import xarray as xr

    with xr.open_dataset(a) as first, xr.open_dataset(out) as again:   # and the same answer
        assert first["supplied"].equals(again["supplied"]) and first["storage"].equals(again["storage"])


def test_a_first_run_declares_with_pyomo_but_without_scipy_stats(tmp_path):
    mods = loaded(["-q", "run", str(CHU), "-o", str(tmp_path / "x.nc")], tmp_path, tmp_path / "empty")
    assert "pyomo.environ" in mods and "scipy.stats" not in mods


def test_batch_keeps_dask_available(tmp_path):
    """Only the commands that never use Dask block it."""
    code = ("import sys; sys.argv = ['waterdesk', 'batch', '--help']\n"
            "from waterdesk.cli.main import cli\n"
            "try:\n    cli()\nexcept SystemExit:\n    pass\n"
            "import dask; print(dask.__name__)")
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("dask"), proc.stderr
