"""A reservoir without area_curve (and without evaporation_mm) runs, loses nothing to
evaporation and conserves mass (issue 10: many users have no bathymetry)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import waterdesk as wd
from waterdesk.cli.main import cli
from waterdesk.testing import assert_mass_balance, write_case

NETWORK = """\
[[node]]
id = "up"
kind = "inflow"
country = "AA"

[[node]]
id = "res"
kind = "reservoir"
country = "AA"
capacity_mcm = 60.0
dead_storage_mcm = 5.0
initial_storage_mcm = 30.0
{curve}

[[node]]
id = "farm"
kind = "demand"
country = "BB"
sector = "irrigation"
priority = 1
monthly_mcm = [0, 0, 10, 30, 45, 60, 60, 45, 30, 10, 0, 0]
consumptive_fraction = 0.6
return_to = "sea"

[[node]]
id = "sea"
kind = "sink"
country = "BB"

[[reach]]
from = "up"
to = "res"

[[reach]]
from = "res"
to = "farm"
kind = "canal"

[[reach]]
from = "res"
to = "sea"
"""
FLOWS = {"up": [3.0, 3.5, 6.0, 12.0, 9.0, 4.0, 2.0, 1.5, 1.5, 2.0, 2.5, 3.0] * 2}


@pytest.mark.parametrize("mode", ["step", "horizon"])
def test_reservoir_without_area_curve_conserves_mass(tmp_path: Path, mode: str) -> None:
    bare = write_case(tmp_path / "bare", NETWORK.format(curve=""), FLOWS,
                      scenario_extra=f'mode = "{mode}"\n')
    ds = wd.run(wd.load_scenario(bare))
    assert_mass_balance(ds)
    assert float(np.abs(ds["evaporation"].values).max()) == 0.0
    # whole system, independently of the per-node balance: what came in is what went to
    # the sea, what the farm consumed and what the reservoir gained [mcm]
    days = (ds["time_bounds"].values[:, 1] - ds["time_bounds"].values[:, 0]) / np.timedelta64(1, "D")
    inflow = float((np.array(FLOWS["up"]) * days * 0.0864).sum())
    consumed = 0.6 * float(ds["supplied"].values.sum())
    gained = float(ds["storage"].values[-1, 0]) - 30.0
    river = float((ds["reach_outflow"].sel(reach="res->sea").values * days * 0.0864).sum())
    returned = 0.4 * float(ds["supplied"].values.sum())        # return_to = "sea"
    assert inflow - consumed - gained == pytest.approx(river + returned, abs=1e-6)
    assert float(ds["shortage"].values.sum()) > 0      # dry enough that storage is used
    # same answer as a reservoir with a curve but no evaporation depth: the defaults are "none"
    flat = write_case(tmp_path / "flat", NETWORK.format(curve="area_curve = [[0.0, 0.0], [60.0, 8.0]]"),
                      FLOWS, scenario_extra=f'mode = "{mode}"\n')
    other = wd.run(wd.load_scenario(flat))
    for name in ("storage", "supplied", "release", "spill"):
        np.testing.assert_allclose(ds[name].values, other[name].values, atol=1e-9)


def test_validate_notes_reservoirs_without_evaporation(tmp_path: Path) -> None:
    path = write_case(tmp_path, NETWORK.format(curve=""), FLOWS)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    note = f"{path}: note: no evaporation (no area_curve or evaporation_mm) at reservoir(s) res"
    assert result.output.splitlines() == [f"{path}: ok", note]


def test_evaporation_without_area_curve_is_refused(tmp_path: Path) -> None:
    curve = "evaporation_mm = [10, 12, 25, 50, 90, 130, 150, 140, 100, 55, 25, 12]"
    path = write_case(tmp_path, NETWORK.format(curve=curve), FLOWS)
    with pytest.raises(wd.InputError) as err:
        wd.load_scenario(path)
    assert [str(p) for p in err.value.problems] == [
        f"{tmp_path / 'basin.toml'}:17: node \"res\".evaporation_mm: evaporation needs area_curve "
        "(the water surface it evaporates from)"]
