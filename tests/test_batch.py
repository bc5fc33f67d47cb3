"""Sweeps (`waterdesk batch`, `waterdesk.batch`): overrides, executors, resume, failures,
the summary and its probability of compliance."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import waterdesk as wd
from waterdesk.batch import Sweep, run_sweep
from waterdesk.io.sweep import load_sweep
from waterdesk.cli.main import cli
from waterdesk.testing import shipped_scenario

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "upper-floor"


def _scenario(tmp_path: Path, end: str = "2002-09-30") -> Path:
    """Chu-Talas baseline over two water years with one soft minimum flow on an inflow
    node (``chu_upper``), which the allocation cannot change: the clause holds in
    exactly the months whose inflow reaches ``min_m3s``."""
    return shipped_scenario(tmp_path / "scenario.toml", "chu-talas", "small", "2000-10-01", end, f"""
        mode = "step"

        [[clause]]
        id = "{FLOOR}"
        kind = "min_flow"
        node = "chu_upper"
        min_m3s = 0.0
        period = "month"
        hard = false
        priority = 9
        """)


def _contents(path: Path) -> xr.Dataset:
    ds = wd.open_result(path)
    return ds.drop_attrs() if hasattr(ds, "drop_attrs") else ds.assign_attrs({})


def test_overrides_set_keys_and_report_bad_values(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    sc = wd.load_scenario(path, {"inflows.scale": 0.8, "demands.scale.KG": 1.2,
                                 f"clause.{FLOOR}.min_m3s": 5.0, "scenario.end": "2001-09-30"})
    assert sc.inflow_scale == 0.8 and sc.demand_scale == {"KG": 1.2} and sc.end == "2001-09-30"
    assert sc.clauses[0].min_m3s == (5.0,) * 12   # type: ignore[attr-defined]
    cases = {
        "inflows.scale": (-1, "inflows.scale: must be >= 0, got -1 (override inflows.scale = -1)"),
        "nosuch.key": (1, "override nosuch.key: unknown table 'nosuch'"),
        "clause.nope.min_m3s": (1, "override clause.nope.min_m3s: no clause 'nope'"),
        "inflows.scalex": (1, "inflows.scalex: unknown key scalex; did you mean scale?"),
    }
    for key, (value, message) in cases.items():
        with pytest.raises(wd.InputError) as err:
            wd.load_scenario(path, {key: value})
        assert message in str(err.value), str(err.value)
        assert str(err.value).startswith(str(path))


def test_sweep_runs_are_numbered_in_product_order(tmp_path: Path) -> None:
    sweep = Sweep(_scenario(tmp_path), vary={"inflows.scale": [0.8, 1.0], "demands.scale.KG": [1.0, 1.1, 1.2]})
    runs = sweep.runs()
    assert [r for r, _ in runs] == [f"r{i:04d}" for i in range(6)]
    assert runs[4] == ("r0004", {"inflows.scale": 1.0, "demands.scale.KG": 1.1})


@pytest.mark.slow
def test_identical_results_serial_pool_and_dask(tmp_path: Path) -> None:
    from distributed import LocalCluster

    sweep = Sweep(_scenario(tmp_path), vary={"inflows.scale": [0.7, 1.0], "demands.scale.KZ": [1.0, 1.3]})
    serial = run_sweep(sweep, tmp_path / "serial")
    pool = run_sweep(sweep, tmp_path / "pool", workers=2)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        dask = run_sweep(sweep, tmp_path / "dask", scheduler=cluster.scheduler_address)
    for other in (pool, dask):
        xr.testing.assert_identical(serial.drop_attrs(), other.drop_attrs())
    assert list(serial["status"].values) == ["ok"] * 4
    for run_id, _ in sweep.runs():
        reference = _contents(tmp_path / "serial" / f"{run_id}.nc")
        for name in ("pool", "dask"):
            xr.testing.assert_identical(reference, _contents(tmp_path / name / f"{run_id}.nc"))
    for name in ("serial", "pool", "dask"):
        xr.testing.assert_identical(serial.drop_attrs(), xr.load_dataset(tmp_path / name / "summary.nc").drop_attrs())
    # different inputs give different results (the comparison above is not vacuous)
    assert serial["shortage"].sel(run="r0000").sum() > serial["shortage"].sel(run="r0002").sum()


def test_failed_run_is_recorded_and_others_finish(tmp_path: Path) -> None:
    sweep = Sweep(_scenario(tmp_path, end="2001-09-30"), vary={"inflows.scale": [1.0, -1.0, 0.9]})
    summary = run_sweep(sweep, tmp_path / "out")
    assert list(summary["status"].values) == ["ok", "invalid", "ok"]
    assert "inflows.scale: must be >= 0, got -1.0" in str(summary["reason"].values[1])
    assert summary["reason"].values[0] == ""
    record = json.loads((tmp_path / "out" / "r0001.failed.json").read_text())
    assert record["status"] == "invalid" and "must be >= 0" in record["reason"]
    assert record["overrides"] == {"inflows.scale": -1.0}
    assert (tmp_path / "out" / "r0000.nc").exists() and (tmp_path / "out" / "r0002.nc").exists()
    assert not (tmp_path / "out" / "r0001.nc").exists()
    assert np.isnan(summary["delivered"].sel(run="r0001")).all()
    assert np.isfinite(summary["delivered"].sel(run="r0002")).all()
    # summary coordinates are the varied values
    np.testing.assert_array_equal(summary["inflows.scale"].values, [1.0, -1.0, 0.9])
    on_disk = xr.load_dataset(tmp_path / "out" / "summary.nc")
    np.testing.assert_array_equal(on_disk["inflows.scale"].values, [1.0, -1.0, 0.9])
    assert list(on_disk["status"].values) == ["ok", "invalid", "ok"]


def test_probability_of_compliance_known_answer(tmp_path: Path) -> None:
    """The floor holds in exactly k of the 24 months by construction."""
    path = _scenario(tmp_path)
    flow = wd.run(wd.load_scenario(path))["node_flow"].sel(node="chu_upper").values
    ranked = np.sort(flow)[::-1]
    k = 7
    threshold = float((ranked[k - 1] + ranked[k]) / 2)
    assert ranked[k - 1] - ranked[k] > 0.01
    sweep = Sweep(path, vary={f"clause.{FLOOR}.min_m3s": [0.0, threshold, 1e6]})
    summary = run_sweep(sweep, tmp_path / "out")
    compliance = summary["clause_compliance"].sel(clause=FLOOR).values
    np.testing.assert_allclose(compliance, [1.0, k / 24, 0.0])
    np.testing.assert_array_equal(summary["clause_windows"].sel(clause=FLOOR).values, [24, 24, 24])
    # and it agrees with the run file's own clause accounts
    ds = wd.open_result(tmp_path / "out" / "r0001.nc")
    violation = ds["clause_violation"].sel(clause=FLOOR).values
    assert int((violation <= 1e-6).sum()) == k
    np.testing.assert_array_equal(summary[f"clause.{FLOOR}.min_m3s"].values, [0.0, threshold, 1e6])


def test_sweep_in_another_sweeps_directory_is_refused(tmp_path: Path) -> None:
    path = _scenario(tmp_path, end="2001-09-30")
    run_sweep(Sweep(path, vary={"inflows.scale": [1.0]}), tmp_path / "out")
    with pytest.raises(wd.InputError, match="different sweep"):
        run_sweep(Sweep(path, vary={"inflows.scale": [0.5]}), tmp_path / "out")


def _write_sweep(tmp_path: Path, scenario: Path, body: str) -> Path:
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'[sweep]\nscenario = "{scenario.name}"\nseed = 1\n{body}')
    return sweep


def test_cli_batch_and_bad_sweep_files(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, end="2001-09-30")
    sweep = _write_sweep(tmp_path, scenario, '[[sweep.vary]]\nkey = "inflows.scale"\nvalues = [0.9, 1.0]\n')
    result = CliRunner().invoke(cli, ["batch", str(sweep), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "2 of 2 runs ok" in result.output
    assert (tmp_path / "out" / "summary.nc").exists()

    bad = _write_sweep(tmp_path, scenario, 'workers = 3\n[[sweep.vary]]\nkey = "inflows.scale"\nvalues = []\n')
    result = CliRunner().invoke(cli, ["batch", str(bad), "-o", str(tmp_path / "bad")])
    assert result.exit_code == 2
    assert f"{bad}:4: sweep.workers: unknown key workers" in result.output
    assert f"{bad}:7: sweep.vary[1].values:" in result.output
    assert "Traceback" not in result.output

    members = _write_sweep(tmp_path, scenario, 'members = 3\n[[sweep.vary]]\nkey = "inflows.member"\nvalues = [0]\n')
    result = CliRunner().invoke(cli, ["batch", str(members), "-o", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert f"{members}:4: sweep.members: members vary inflows.member already" in result.output

    result = CliRunner().invoke(cli, ["schema", "sweep"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "waterdesk sweep file"


def test_shipped_sweep_file_is_valid() -> None:
    sweep = load_sweep(ROOT / "scenarios" / "syr-darya" / "sweep-scale.toml")
    assert len(sweep.runs()) == 4
    for _, overrides in sweep.runs():
        wd.load_scenario(sweep.scenario, overrides)


def test_shipped_ensemble_sweep_is_valid(tmp_path: Path) -> None:
    """Every combination of the shipped ensemble sweep loads against a one-member
    ensemble covering its 30 years (the runs themselves take an hour on two cores)."""
    from waterdesk.generate import generate_inflows
    from waterdesk.io.inflows import write_inflows

    sweep = load_sweep(ROOT / "scenarios" / "syr-darya" / "sweep-ensemble.toml")
    runs = sweep.runs()
    assert len(runs) == 3 * 2 * 100
    ensemble = write_inflows(generate_inflows("syr-darya", years=30, members=1, seed=1, start="2000-10"),
                             tmp_path / "ensemble.nc")
    for _, overrides in runs[::100]:
        scenario = wd.load_scenario(sweep.scenario, {**overrides, "inflows.file": str(ensemble),
                                                     "inflows.member": 0})
        assert str(scenario.end)[:7] == "2030-09"


@pytest.mark.slow
def test_resume_after_kill(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, end="2001-09-30")
    sweep = _write_sweep(tmp_path, scenario,
                         '[[sweep.vary]]\nkey = "inflows.scale"\nvalues = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]\n')
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from waterdesk.cli.main import cli; cli()",
               "batch", str(sweep), "-o", str(out), "-q"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("r*.nc")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in out.glob("r*.nc")}
    assert finished, "no run finished before the kill"
    assert len(finished) < 6, "the batch finished before it could be killed"
    assert not (out / "summary.nc").exists()
    for name in finished:   # a file that exists is complete
        wd.open_result(out / name)

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in out.glob("r*.nc")) == [f"r{i:04d}.nc" for i in range(6)]
    assert not list(out.glob("*.part"))
    for name, mtime in finished.items():
        assert (out / name).stat().st_mtime_ns == mtime, f"{name} was rewritten"
    summary = xr.load_dataset(out / "summary.nc")
    assert list(summary["status"].values) == ["ok"] * 6
    for i in range(6):
        ds = wd.open_result(out / f"r{i:04d}.nc")
        assert json.loads(ds.attrs["batch_overrides"]) == {"inflows.scale": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0][i]}


def test_members_probability_of_compliance_known_answer(tmp_path: Path) -> None:
    """With members, the floor on an inflow node holds in a window in exactly the
    members whose generated inflow there reaches it: the probability is known from the
    ensemble file alone."""
    threshold = 13.0
    sweep = Sweep(_scenario(tmp_path), vary={"inflows.scale": [0.9, 1.0],
                                             f"clause.{FLOOR}.min_m3s": [threshold]}, members=3, seed=5)
    assert [o["inflows.member"] for _, o in sweep.runs()] == [0, 1, 2, 0, 1, 2]
    summary = run_sweep(sweep, tmp_path / "out")
    assert list(summary["status"].values) == ["ok"] * 6
    inflow = xr.load_dataset(tmp_path / "out" / "inflows-members.nc")["inflow"].sel(node="chu_upper").values
    assert inflow.shape == (3, 24)
    for c, scale in enumerate([0.9, 1.0]):
        flow = inflow * scale
        assert np.abs(flow - threshold).min() > 1e-3
        expected = (flow >= threshold).mean(axis=0)
        assert 0 < expected.mean() < 1
        np.testing.assert_allclose(summary["compliance_probability"].sel(clause=FLOOR).values[c], expected)
        # and agrees with the run files' own clause accounts
        held = [wd.open_result(tmp_path / "out" / f"r{3 * c + m:04d}.nc")["clause_violation"]
                .sel(clause=FLOOR).values <= 1e-6 for m in range(3)]
        np.testing.assert_allclose(np.mean(held, axis=0), expected)
    np.testing.assert_array_equal(summary["combination_inflows.scale"].values, [0.9, 1.0])
    np.testing.assert_array_equal(summary["inflows.member"].values, [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(summary["members_ok"].values, [3, 3])
    assert summary["supply_probability"].dims == ("combination", "country", "water_year")
    # resume: the ensemble and the runs are not regenerated
    mtimes = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("*.nc") if p.name != "summary.nc"}
    again = run_sweep(sweep, tmp_path / "out")
    xr.testing.assert_identical(summary, again)
    assert mtimes == {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("*.nc") if p.name != "summary.nc"}


def test_members_cover_a_varied_period_beyond_the_historical_series(tmp_path: Path) -> None:
    """A sweep may run a short scenario over a longer stochastic future: the ensemble
    covers every run's period (here to 2025-09, past the basin's series, which ends in
    2020-09), and each run's inflow is its member's slice of the ensemble file."""
    sweep = Sweep(_scenario(tmp_path), vary={"scenario.end": ["2001-09-30", "2025-09-30"]}, members=2, seed=3)
    summary = run_sweep(sweep, tmp_path / "out")
    assert list(summary["status"].values) == ["ok"] * 4
    ensemble = xr.load_dataset(tmp_path / "out" / "inflows-members.nc")["inflow"]
    assert str(ensemble["time"].values[0])[:7] == "2000-10"
    assert str(ensemble["time"].values[-1])[:7] == "2025-09"
    for run_id, overrides in sweep.runs():
        ds = wd.open_result(tmp_path / "out" / f"{run_id}.nc")
        months = 12 if overrides["scenario.end"].startswith("2001") else 300
        assert ds.sizes["time"] == months
        want = ensemble.isel(member=overrides["inflows.member"]).sel(node="chu_upper").values[:months]
        np.testing.assert_allclose(ds["local_inflow"].sel(node="chu_upper").values, want, rtol=1e-12)
