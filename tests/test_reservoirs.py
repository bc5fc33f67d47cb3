"""Reservoirs: fill, spill, drain to dead storage; evaporation; hydropower. Hand answers."""
from __future__ import annotations

import numpy as np
import pytest

from waterdesk.testing import node, reach
from waterdesk.testing import assert_mass_balance

DAYS = np.array([31, 28, 31, 30, 31, 30], dtype=float)   # Jan..Jun 2001
MCM_PER_M3S = DAYS * 0.0864


def reservoir(extra: str = "", capacity: float = 100.0, dead: float = 10.0, initial: float = 50.0,
              area_top: float = 1.0, evap: str = str([0.0] * 12)) -> str:
    return f"""
[[node]]
id = "res"
kind = "reservoir"
country = "AA"
capacity_mcm = {capacity}
dead_storage_mcm = {dead}
initial_storage_mcm = {initial}
area_curve = [[0.0, 0.0], [{capacity}, {area_top}]]
evaporation_mm = {evap}
{extra}
"""


def user(monthly: list[float]) -> str:
    return f"""
[[node]]
id = "user"
kind = "demand"
country = "AA"
sector = "irrigation"
priority = 1
monthly_mcm = {monthly}
consumptive_fraction = 1.0
"""


def network(res: str, monthly: list[float]) -> str:
    """src -> res -> j -> sea; user hangs off j by a canal."""
    return (node("src", "inflow") + res + node("j", "junction") + node("sea", "sink") + user(monthly)
            + reach("src", "res") + reach("res", "j") + reach("j", "sea") + reach("j", "user", "canal"))


def test_reservoir_fills_spills_and_drains_to_dead_storage(case):
    """Outlets pass 20 m3/s; Jan-Feb bring 150 mcm a month and nobody asks, so the
    reservoir fills (50 -> 100) and passes the rest: up to the outlet capacity as
    release, above it as spill. Mar-Jun bring nothing and the user asks 40 a month:
    100 -> 60 -> 20 -> 10 (dead storage: only 10 more can go) -> 10."""
    inflow_mcm = np.array([150, 150, 0, 0, 0, 0], dtype=float)
    demand = [0.0, 0.0, 40.0, 40.0, 40.0, 40.0] + [0.0] * 6
    ds = case(network(reservoir("outlet_max_m3s = 20.0"), demand), {"src": list(inflow_mcm / MCM_PER_M3S)})
    np.testing.assert_allclose(ds["storage"].values[:, 0], [100, 100, 60, 20, 10, 10], atol=1e-6)
    np.testing.assert_allclose(ds["supplied"].values[:, 0], [0, 0, 40, 40, 10, 0], atol=1e-6)
    outlet_mcm = 20.0 * MCM_PER_M3S
    release_mcm = ds["release"].values[:, 0] * MCM_PER_M3S
    spill_mcm = ds["spill"].values[:, 0] * MCM_PER_M3S
    np.testing.assert_allclose(release_mcm, [outlet_mcm[0], outlet_mcm[1], 40, 40, 10, 0], atol=1e-6)
    np.testing.assert_allclose(spill_mcm, [100 - outlet_mcm[0], 150 - outlet_mcm[1], 0, 0, 0, 0], atol=1e-6)
    assert ds["shortage"].values[4:, 0] == pytest.approx([30.0, 40.0], abs=1e-6)
    assert_mass_balance(ds)


def test_storage_with_no_outflow_gains_inflow_minus_evaporation(case):
    """500 mcm stored over a 10 km2 surface (area curve 0..1000 mcm -> 0..20 km2),
    100 mm evaporate in January: 1.0 mcm; 30 mcm flow in; nothing is asked."""
    evap = str([100.0] + [0.0] * 11)
    res = reservoir(capacity=1000.0, dead=0.0, initial=500.0, area_top=20.0, evap=evap)
    ds = case(network(res, [0.0] * 12), {"src": [30.0 / MCM_PER_M3S[0]]})
    assert float(ds["evaporation"].values[0, 0]) == pytest.approx(1.0, rel=1e-12)
    assert float(ds["storage"].values[0, 0]) == pytest.approx(500.0 + 30.0 - 1.0, abs=1e-6)
    assert float(ds["node_flow"].sel(node="sea").values[0]) == pytest.approx(0.0, abs=1e-9)
    assert_mass_balance(ds)


@pytest.mark.parametrize("installed_mw", [100.0, 5.0])
def test_hydropower_energy_from_release_head_and_efficiency(case, installed_mw):
    """100 mcm released in January (31 days) through the turbines; storage goes
    500 -> 400, head at the mean storage 450 is 40 + 20*0.45 = 49 m; efficiency 0.9.
    P = rho*g*eta*Q*H, capped at the installed power; E = P * 744 h."""
    hydro = f"""installed_mw = {installed_mw}
turbine_max_m3s = 500.0
efficiency = 0.9
head_curve = [[0.0, 40.0], [1000.0, 60.0]]"""
    res = reservoir(hydro, capacity=1000.0, dead=0.0, initial=500.0, area_top=20.0)
    ds = case(network(res, [100.0] + [0.0] * 11), {"src": [0.0]})
    q = 100.0 / MCM_PER_M3S[0]
    power_mw = min(1000 * 9.81 * 0.9 * q * 49.0 / 1e6, installed_mw)
    assert float(ds["energy"].values[0, 0]) == pytest.approx(power_mw * 744 / 1000, rel=1e-9)
    assert float(ds["release"].values[0, 0]) == pytest.approx(q, rel=1e-9)
    assert float(ds["spill"].values[0, 0]) == pytest.approx(0.0, abs=1e-9)


def test_a_basin_without_demands_fills_its_reservoir_and_passes_the_rest(case):
    """src -> res -> sea, nobody asks: 50 + 80 fills the 100 mcm reservoir, 30 go on."""
    basin = (node("src", "inflow") + reservoir() + node("sea", "sink")
             + reach("src", "res") + reach("res", "sea"))
    ds = case(basin, {"src": [80.0 / MCM_PER_M3S[0]]})
    assert float(ds["storage"].values[0, 0]) == pytest.approx(100.0, abs=1e-6)
    assert float(ds["node_flow"].sel(node="sea").values[0]) * MCM_PER_M3S[0] == pytest.approx(30.0, abs=1e-6)
    assert ds.sizes["demand"] == 0
    assert_mass_balance(ds)
