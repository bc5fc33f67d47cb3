"""Horizon mode: perfect foresight over a window, against step mode and hand answers."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import waterdesk as wd
from waterdesk.testing import node, reach
from tests.test_mass_balance import random_basin
from tests.test_reservoirs import reservoir
from waterdesk.cli.main import cli
from waterdesk.testing import assert_mass_balance, write_case

DAYS = np.array([31, 28, 31, 30, 31, 30], dtype=float)   # Jan..Jun 2001
MCM = DAYS * 0.0864                                        # mcm per m3 s-1 in each month


def demand(node_id: str, priority: int, monthly: list[float]) -> str:
    return (f'\n[[node]]\nid = "{node_id}"\nkind = "demand"\ncountry = "AA"\nsector = "irrigation"\n'
            f"priority = {priority}\nmonthly_mcm = {monthly + [0.0] * (12 - len(monthly))}\n")


def basin() -> str:
    """src -> res (empty, 100 mcm) -> j -> sea; 'winter' (priority 2) and 'summer'
    (priority 1) hang off j by canals."""
    return (node("src", "inflow") + reservoir(capacity=100.0, dead=0.0, initial=0.0) + node("j", "junction")
            + node("sea", "sink") + demand("winter", 2, [50.0]) + demand("summer", 1, [0, 0, 0, 0, 0, 40.0])
            + reach("src", "res") + reach("res", "j") + reach("j", "sea")
            + reach("j", "winter", "canal") + reach("j", "summer", "canal"))


def run(tmp_path, mode: str, extra: str = "", name: str = "m"):
    inflow = [60.0 / MCM[0], 0, 0, 0, 0, 0]
    horizon = '\nmode = "horizon"\nhorizon = 6\n' if mode == "horizon" else ""
    path = write_case(tmp_path / name, basin(), {"src": inflow})
    text = path.read_text().replace('timestep = "month"\n', 'timestep = "month"' + horizon + "\n")
    path.write_text(text + extra)
    return wd.run(path)


def test_horizon_stores_winter_water_for_a_summer_demand_that_step_mode_cannot(tmp_path):
    """60 mcm arrive in January. Step mode serves the January demand (priority 2, 50)
    with water that is there, keeps 10, and the June demand (priority 1, 40) gets 10.
    Seeing the whole half-year, horizon mode keeps 40 for June: June 40, January 20."""
    step = run(tmp_path, "step", name="step")
    hz = run(tmp_path, "horizon", name="hz")
    assert step["supplied"].sel(demand="winter").values[0] == pytest.approx(50.0, abs=1e-6)
    assert step["supplied"].sel(demand="summer").values[5] == pytest.approx(10.0, abs=1e-6)
    assert hz["supplied"].sel(demand="summer").values[5] == pytest.approx(40.0, abs=1e-6)
    assert hz["supplied"].sel(demand="winter").values[0] == pytest.approx(20.0, abs=1e-6)
    np.testing.assert_allclose(hz["storage"].values[:, 0], [40, 40, 40, 40, 40, 0], atol=1e-6)
    assert_mass_balance(hz)
    assert hz.attrs["mode"] == "horizon"


def test_a_window_cap_holds_in_both_modes(tmp_path):
    """A hard cap of 45 mcm on AA's withdrawals over Jan-Mar. Step mode: January's
    demand takes what the cap allows (45), 15 are kept, June gets 15. Horizon mode:
    June (priority 1) is served first, 40 kept from January, so January gets the 20
    left - below the cap, which then does not bind."""
    extra = """
[[clause]]
id = "cap"
kind = "max_withdrawal"
country = "AA"
period = "season"
months = [1, 2, 3]
max_mcm = 45.0
hard = true
"""
    step = run(tmp_path, "step", extra, name="s")
    hz = run(tmp_path, "horizon", extra, name="h")
    for ds, jan, june in ((step, 45.0, 15.0), (hz, 20.0, 40.0)):
        assert ds["supplied"].values[:3].sum() == pytest.approx(jan, abs=1e-6)
        assert ds["supplied"].sel(demand="summer").values[5] == pytest.approx(june, abs=1e-6)
        assert float(ds["clause_actual"].sel(clause="cap").values[0]) == pytest.approx(jan, abs=1e-6)
        assert float(ds["clause_required"].sel(clause="cap").values[0]) == pytest.approx(45.0, abs=1e-6)
        assert float(ds["clause_violation"].sel(clause="cap").values[0]) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_mass_balance_closes_in_horizon_mode_with_routing_lags(tmp_path, seed):
    basin_toml, inflows = random_basin(seed, "month")
    path = write_case(tmp_path, basin_toml, inflows, timestep="month")
    path.write_text(path.read_text().replace('timestep = "month"\n', 'timestep = "month"\nmode = "horizon"\nhorizon = 6\n'))
    ds = wd.run(path)
    assert_mass_balance(ds, tol_mcm=1e-6)
    assert (ds["supplied"].values <= ds["requested"].values + 1e-6).all()
    assert (ds["storage"].values <= ds["reservoir_capacity"].values + 1e-6).all()


def test_horizon_infeasible_names_the_clauses(tmp_path):
    """Hard: June storage >= 50 (window of one month) and withdrawals in June >= ...
    impossible with 60 mcm in all: keeping 50 in the reservoir at the end of June
    while releasing at least 40 for the June demand (a hard release minimum)."""
    extra = """
[[clause]]
id = "keep-50"
kind = "storage"
node = "res"
period = "month"
min_mcm = 50.0
hard = true

[[clause]]
id = "june-release"
kind = "release"
node = "res"
period = "season"
months = [6]
min_mcm = 40.0
hard = true

[[clause]]
id = "innocent"
kind = "max_withdrawal"
country = "AA"
period = "year"
max_mcm = 1000.0
hard = true
"""
    path = write_case(tmp_path / "inf", basin(), {"src": [60.0 / MCM[0], 0, 0, 0, 0, 0]})
    path.write_text(path.read_text().replace('timestep = "month"\n', 'timestep = "month"\nmode = "horizon"\nhorizon = 6\n')
                    + extra)
    with pytest.raises(wd.InfeasibleError) as err:
        wd.run(path)
    assert sorted(err.value.clauses) == ["june-release", "keep-50"]
    res = CliRunner().invoke(cli, ["run", str(path), "-o", str(tmp_path / "o.nc")])
    assert res.exit_code == 3
    assert "keep-50" in res.stderr and "june-release" in res.stderr and "innocent" not in res.stderr
    assert not (tmp_path / "o.nc").exists()


def test_an_impossible_hard_minimum_is_named_before_any_solve(tmp_path):
    """A hard min_flow of 1000 m3/s on a river that brings at most ~22 m3/s and
    stores 100 mcm: `validate` and `run` both exit 3 and name it, before solving."""
    extra = """
[[clause]]
id = "absurd"
kind = "min_flow"
node = "j"
min_m3s = 1000.0
hard = true
"""
    path = write_case(tmp_path / "abs", basin(), {"src": [60.0 / MCM[0], 0, 0, 0, 0, 0]})
    path.write_text(path.read_text() + extra)
    for args in (["validate", str(path)], ["run", str(path), "-o", str(tmp_path / "o.nc")]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 3, res.output
        assert f'{path}:' in res.stderr and 'clause "absurd" (hard)' in res.stderr and "more than all the water" in res.stderr
    assert not (tmp_path / "o.nc").exists()


def _weighted_shortage(ds) -> float:
    """Σ_levels 100^-k · shortage of level k (k = 0 for the top priority) [mcm]."""
    priorities = sorted(set(int(p) for p in ds["demand_priority"].values))
    weight = {p: 100.0 ** -k for k, p in enumerate(priorities)}
    w = np.array([weight[int(p)] for p in ds["demand_priority"].values])
    return float((ds["shortage"].values * w).sum())


@pytest.mark.parametrize("min_mcm, expected", [(5.0, 0.01), (30.0, 1.0)])
def test_shadow_price_agrees_with_finite_differences(tmp_path, min_mcm, expected):
    """A hard min_volume of water reaching the sea over Jan-Jun. With 5 mcm, each
    more mcm is taken from the January demand (priority 2): +0.01 weighted shortage;
    with 30 mcm the January demand already gets nothing and each more mcm is taken
    from June's priority-1 demand: +1. The dual-based price equals the change of
    the weighted shortage when the requirement is raised by 1 mcm and rerun."""
    def scenario(requirement: float, name: str):
        extra = f"""
[[clause]]
id = "sea"
kind = "min_volume"
node = "sea"
period = "season"
months = [1, 2, 3, 4, 5, 6]
min_mcm = {requirement}
hard = true
"""
        path = write_case(tmp_path / name, basin(), {"src": [60.0 / MCM[0], 0, 0, 0, 0, 0]})
        path.write_text(path.read_text().replace('timestep = "month"\n',
                                                 'timestep = "month"\nmode = "horizon"\nhorizon = 6\n') + extra)
        return wd.run(path)

    base = scenario(min_mcm, "a")
    more = scenario(min_mcm + 1.0, "b")
    price = float(base["clause_shadow_price"].sel(clause="sea").values[0])
    finite_difference = _weighted_shortage(more) - _weighted_shortage(base)
    assert price == pytest.approx(expected, abs=1e-6)
    assert finite_difference == pytest.approx(price, abs=1e-6)


def test_a_cap_that_does_not_bind_has_no_price_and_step_mode_has_none(tmp_path):
    extra = """
[[clause]]
id = "loose"
kind = "max_withdrawal"
country = "AA"
period = "year"
max_mcm = 500.0
hard = true
"""
    hz = run(tmp_path, "horizon", extra, name="h")
    step = run(tmp_path, "step", extra, name="s")
    assert float(hz["clause_shadow_price"].sel(clause="loose").values[0]) == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(step["clause_shadow_price"].sel(clause="loose").values[0])


def hydro_basin() -> str:
    """src -> res (hydropower, 1000 mcm, dead 100, starts at 400) -> j -> sea; two
    countries' irrigation off j, both small enough never to go short."""
    res = reservoir("installed_mw = 200.0\nturbine_max_m3s = 150.0\nefficiency = 0.9\n"
                    "head_curve = [[0.0, 20.0], [1000.0, 80.0]]", capacity=1000.0, dead=100.0, initial=400.0)
    aa = demand("aa", 1, [0, 0, 0, 20, 40, 60, 60, 40, 20, 0, 0, 0])
    bb = demand("bb", 2, [0, 0, 0, 10, 30, 40, 40, 30, 10, 0, 0, 0]).replace('country = "AA"', 'country = "BB"')
    return (node("src", "inflow") + res + node("j", "junction") + node("sea", "sink") + aa + bb
            + reach("src", "res") + reach("res", "j") + reach("j", "sea")
            + reach("j", "aa", "canal") + reach("j", "bb", "canal"))


@pytest.mark.parametrize("carry", ["", 'carry_over = "initial"\n'])
def test_horizon_loses_no_energy_or_storage_against_step_mode_when_nobody_is_short(tmp_path, carry):
    """Three years, seasonal inflow well above the demands: neither mode has a shortage.
    Seeing the window must not throw water away: horizon mode ends no window with less
    than it started unless it must, keeps mean storage and energy at least step mode's
    (within 0.5 %, the evaporation and head linearisation), and the demands get the same."""
    season = [20, 20, 25, 60, 120, 150, 120, 80, 40, 30, 25, 20]
    inflow = [q for _ in range(3) for q in season]
    out = {}
    for mode in ("step", "horizon"):
        path = write_case(tmp_path / mode, hydro_basin(), {"src": inflow}, start="2000-10-01")
        extra = '\nmode = "horizon"\nhorizon = "water_year"\n' + carry if mode == "horizon" else ""
        text = path.read_text().replace('timestep = "month"\n', 'timestep = "month"' + extra + "\n")
        path.write_text(text)
        out[mode] = wd.run(path)
    step, hz = out["step"], out["horizon"]
    assert float(step["shortage"].sum()) < 1e-6 and float(hz["shortage"].sum()) < 1e-6
    np.testing.assert_allclose(hz["supplied"].values, step["supplied"].values, atol=1e-5)
    assert float(hz["storage"].mean()) >= float(step["storage"].mean()) * 0.995
    assert float(hz["energy"].sum()) >= float(step["energy"].sum()) * 0.995
    assert_mass_balance(hz)
