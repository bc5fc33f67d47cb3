"""Energy demands of a hydropower reservoir, served like a demand at their priority.

res (100 mcm, empty inflow, flat 50 m head, efficiency 0.9) -> j -> sea; 'summer'
demand (priority 2) asks 80 mcm in June from j. One mcm through the turbines gives
rho*g*eta*H/3.6e6 = 9810*0.9*50/3.6e6 = 0.122625 GWh. January energy target
6.13125 GWh = 50 mcm of release.
"""
from __future__ import annotations

import numpy as np
import pytest

import waterdesk as wd
from waterdesk.testing import node, reach
from waterdesk.testing import assert_mass_balance, write_case

GWH_PER_MCM = 1000 * 9.81 * 0.9 * 50 / 3.6e6


def basin(energy_priority: int) -> str:
    res = f"""
[[node]]
id = "res"
kind = "reservoir"
country = "AA"
capacity_mcm = 100.0
dead_storage_mcm = 0.0
initial_storage_mcm = 100.0
area_curve = [[0.0, 0.0], [100.0, 1.0]]
installed_mw = 500.0
turbine_max_m3s = 1000.0
efficiency = 0.9
head_curve = [[0.0, 50.0], [100.0, 50.0]]
energy_target_gwh = [{50 * GWH_PER_MCM}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
energy_priority = {energy_priority}
"""
    summer = """
[[node]]
id = "summer"
kind = "demand"
country = "AA"
sector = "irrigation"
priority = 2
monthly_mcm = [0, 0, 0, 0, 0, 80.0, 0, 0, 0, 0, 0, 0]
"""
    return (node("src", "inflow") + res + node("j", "junction") + node("sea", "sink") + summer
            + reach("src", "res") + reach("res", "j") + reach("j", "sea") + reach("j", "summer", "canal"))


def run(tmp_path, energy_priority: int, mode: str):
    path = write_case(tmp_path / f"{mode}{energy_priority}", basin(energy_priority), {"src": [0.0] * 6})
    if mode == "horizon":
        path.write_text(path.read_text().replace('timestep = "month"\n',
                                                 'timestep = "month"\nmode = "horizon"\nhorizon = 6\n'))
    return wd.run(path)


@pytest.mark.parametrize("mode", ["step", "horizon"])
def test_energy_first_releases_in_winter_and_summer_gets_the_rest(tmp_path, mode):
    """Energy at priority 1: January releases 50 mcm through the turbines (6.13 GWh),
    June's irrigation gets the remaining 50 of its 80."""
    ds = run(tmp_path, 1, mode)
    assert float(ds["energy"].values[0, 0]) == pytest.approx(50 * GWH_PER_MCM, rel=1e-6)
    assert float(ds["energy_shortfall"].values[0, 0]) == pytest.approx(0.0, abs=1e-6)
    assert float(ds["supplied"].values[5, 0]) == pytest.approx(50.0, abs=1e-6)
    assert_mass_balance(ds)


def test_irrigation_first_with_foresight_keeps_water_for_june(tmp_path):
    """Energy at priority 3, below June's irrigation: with foresight the reservoir keeps
    80 for June and releases only 20 in January (2.45 GWh, 3.68 short)."""
    ds = run(tmp_path, 3, "horizon")
    assert float(ds["supplied"].values[5, 0]) == pytest.approx(80.0, abs=1e-6)
    assert float(ds["energy"].values[0, 0]) == pytest.approx(20 * GWH_PER_MCM, rel=1e-6)
    assert float(ds["energy_shortfall"].values[0, 0]) == pytest.approx(30 * GWH_PER_MCM, rel=1e-6)
    np.testing.assert_allclose(ds["energy_target"].values[:, 0], [50 * GWH_PER_MCM, 0, 0, 0, 0, 0])


def test_step_mode_cannot_see_june_and_generates_in_january(tmp_path):
    """Same priorities, step mode: in January nobody else asks, so the energy target is
    met (50 mcm) and June gets 50."""
    ds = run(tmp_path, 3, "step")
    assert float(ds["energy"].values[0, 0]) == pytest.approx(50 * GWH_PER_MCM, rel=1e-6)
    assert float(ds["supplied"].values[5, 0]) == pytest.approx(50.0, abs=1e-6)
