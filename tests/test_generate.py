"""Stochastic inflow generator (waterdesk/generate.py) and ensemble members in scenarios.

Tolerances, for 20 members x 50 years = 1000 values per calendar month and site, fitted
to the 30-year Chu-Talas series: a monthly mean's standard error is about CV/sqrt(1000)
< 1 % (monthly CV <= 0.3), so 3 %; a standard deviation's is 2-3 % for lognormal flows
of that CV, so 10 %; a correlation's is about (1 - rho^2)/sqrt(1000) <= 0.032, so 0.10
(about three standard errors for the largest of 60 lag-1 and 120 cross-site values).
Measured with this seed: 0.9 %, 6.0 %, 0.028 and 0.040 (docs/ENSEMBLES.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import waterdesk as wd
from waterdesk.cli.main import cli
from waterdesk.errors import InputError
from waterdesk.generate import generate_inflows
from waterdesk.io.inflows import write_inflows

ROOT = Path(__file__).resolve().parents[1]
HISTORICAL = ROOT / "basins" / "chu-talas" / "inflows.nc"


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> tuple[xr.DataArray, xr.DataArray]:
    """(generated inflow(member, time, node) read back from NetCDF, historical inflow)"""
    path = tmp_path_factory.mktemp("gen") / "chu-talas-20x50.nc"
    write_inflows(generate_inflows("chu-talas", years=50, members=20, seed=20261126), path)
    with xr.open_dataset(path) as gen, xr.open_dataset(HISTORICAL) as hist:
        return gen["inflow"].load(), hist["inflow"].load()


def _by_month(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """(values as (member, time, node), calendar month 1..12 of each time)"""
    values = da.transpose(..., "time", "node").values
    if values.ndim == 2:
        values = values[None]
    return values, da["time"].dt.month.values


def test_monthly_mean_and_std_of_flows(ensemble):
    (gen, gm), (hist, hm) = _by_month(ensemble[0]), _by_month(ensemble[1])
    for m in range(1, 13):
        g = gen[:, gm == m].reshape(-1, gen.shape[2])
        h = hist[:, hm == m].reshape(-1, hist.shape[2])
        np.testing.assert_allclose(g.mean(axis=0), h.mean(axis=0), rtol=0.03, err_msg=f"month {m}")
        np.testing.assert_allclose(g.std(axis=0, ddof=1), h.std(axis=0, ddof=1), rtol=0.10,
                                   err_msg=f"month {m}")


def _lag1(values: np.ndarray, month: np.ndarray, m: int) -> np.ndarray:
    t = np.flatnonzero(month[1:] == m) + 1
    x = np.log(values)
    return np.array([np.corrcoef(x[:, t, j].ravel(), x[:, t - 1, j].ravel())[0, 1]
                     for j in range(values.shape[2])])


def test_lag1_autocorrelation_of_log_flows(ensemble):
    (gen, gm), (hist, hm) = _by_month(ensemble[0]), _by_month(ensemble[1])
    for m in range(1, 13):
        np.testing.assert_allclose(_lag1(gen, gm, m), _lag1(hist, hm, m), atol=0.10, err_msg=f"month {m}")


def test_cross_site_correlation_of_log_flows(ensemble):
    (gen, gm), (hist, hm) = _by_month(ensemble[0]), _by_month(ensemble[1])
    for m in range(1, 13):
        g = np.corrcoef(np.log(gen[:, gm == m].reshape(-1, gen.shape[2])), rowvar=False)
        h = np.corrcoef(np.log(hist[:, hm == m].reshape(-1, hist.shape[2])), rowvar=False)
        assert h.min() > 0.3            # the historical sites are strongly correlated
        np.testing.assert_allclose(g, h, atol=0.10, err_msg=f"month {m}")


def test_time_axis_and_attributes():
    ds = generate_inflows(ROOT / "basins" / "syr-darya", years=2, members=3, seed=1, start="2031-01")
    assert ds["inflow"].dims == ("member", "time", "node")
    assert ds["inflow"].dtype == np.float64 and ds["inflow"].attrs["units"] == "m3 s-1"
    time = ds["time"].values.astype("datetime64[M]")
    assert time[0] == np.datetime64("2031-01") and np.all(np.diff(time).astype(int) == 1) and len(time) == 24
    assert ds.attrs["Conventions"] == "CF-1.10" and ds.attrs["synthetic"] == "yes"
    assert ds.attrs["random_seed"] == 1 and "generation_method" in ds.attrs and "history" in ds.attrs
    assert (ds["inflow"] > 0).all()
    default = generate_inflows("chu-talas", years=1, members=1, seed=1)
    assert default["time"].values[0].astype("datetime64[M]") == np.datetime64("1990-10")


def test_same_seed_same_output_and_independent_members(tmp_path):
    a = generate_inflows("chu-talas", years=5, members=4, seed=7)
    b = generate_inflows("chu-talas", years=5, members=4, seed=7)
    xr.testing.assert_identical(a, b)
    write_inflows(a, tmp_path / "a.nc")
    write_inflows(b, tmp_path / "b.nc")
    assert (tmp_path / "a.nc").read_bytes() == (tmp_path / "b.nc").read_bytes()
    c = generate_inflows("chu-talas", years=5, members=4, seed=8)
    assert not np.allclose(a["inflow"].values, c["inflow"].values)
    assert not np.allclose(a["inflow"].values[0], a["inflow"].values[1])     # members differ
    two = generate_inflows("chu-talas", years=5, members=2, seed=7)        # member k does not
    np.testing.assert_array_equal(two["inflow"].values, a["inflow"].values[:2])   # depend on M


def test_bad_arguments_are_input_errors():
    with pytest.raises(InputError) as err:
        generate_inflows("no-such-basin", years=0, members=0, seed=-1, start="2020-13")
    wheres = {p.where for p in err.value.problems}
    assert wheres == {"basin", "years", "members", "seed", "start"}


def _scenario(tmp_path: Path, member: int, inflow_file: str = "gen.nc") -> Path:
    path = tmp_path / f"member{member}.toml"
    path.write_text(f"""
[scenario]
name = "member{member}"
basin = "{(ROOT / 'basins' / 'chu-talas' / 'basin.toml').as_posix()}"
start = "2000-10-01"
end = "2002-09-30"
timestep = "month"

[inflows]
file = "{inflow_file}"
member = {member}
""", encoding="utf-8")
    return path


def test_cli_generates_a_file_a_scenario_runs_with_member_1(tmp_path):
    runner = CliRunner()
    out = tmp_path / "gen.nc"
    res = runner.invoke(cli, ["inflows", "generate", "chu-talas", "--years", "2", "--members", "3",
                              "--seed", "11", "--start", "2000-10", "-o", str(out)])
    assert res.exit_code == 0, res.output
    result = wd.run(_scenario(tmp_path, member=1))
    with xr.open_dataset(out) as gen:
        member1 = gen["inflow"].isel(member=1).load()
        member0 = gen["inflow"].isel(member=0).load()
    nodes = [str(n) for n in member1["node"].values]
    got = result["local_inflow"].sel(node=nodes).transpose("time", "node").values
    np.testing.assert_allclose(got, member1.transpose("time", "node").values, rtol=1e-9)
    assert not np.allclose(got, member0.transpose("time", "node").values)
    # the CLI run and validate accept it too
    res = runner.invoke(cli, ["-q", "run", str(_scenario(tmp_path, member=2)), "-o", str(tmp_path / "r.nc")])
    assert res.exit_code == 0, res.output


def test_member_out_of_range_exits_2(tmp_path):
    runner = CliRunner()
    out = tmp_path / "gen.nc"
    assert runner.invoke(cli, ["inflows", "generate", "chu-talas", "--years", "2", "--members", "2",
                               "--seed", "3", "--start", "2000-10", "-o", str(out)]).exit_code == 0
    scenario = _scenario(tmp_path, member=5)
    res = runner.invoke(cli, ["run", str(scenario), "-o", str(tmp_path / "r.nc")])
    assert res.exit_code == 2
    line = [ln for ln in res.output.splitlines() if "inflows.member" in ln]
    assert line == [f"{scenario}:11: inflows.member: member 5 out of range: {out} has 2 members (0 to 1)"]
    assert "Traceback" not in res.output
    # a file without a member dimension has only member 0
    res = runner.invoke(cli, ["validate", str(_scenario(tmp_path, member=1, inflow_file=HISTORICAL.as_posix()))])
    assert res.exit_code == 2 and "no member dimension" in res.output, res.output
    assert runner.invoke(cli, ["validate", str(_scenario(tmp_path, member=0,
                                                         inflow_file=HISTORICAL.as_posix()))]).exit_code == 0
