"""All seven clause kinds, hard, on the shipped Chu-Talas basin, in step and horizon mode."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import waterdesk as wd
from waterdesk.cli.main import cli
from waterdesk.testing import assert_mass_balance

ROOT = Path(__file__).resolve().parents[1]
BASIN = (ROOT / "basins/chu-talas/basin.toml").as_posix()

CLAUSES = {
    "min_flow": 'node = "talas_border"\nmin_m3s = 3.0\nperiod = "month"',
    "min_volume": 'node = "chu_border"\nmin_mcm = 1200.0\nperiod = "water_year"',
    "share": 'of = "natural_flow:talas_border"\nshares = { KG = 0.5 }\nmode = "cap"\nperiod = "water_year"',
    "max_withdrawal": 'country = "KG"\nmax_mcm = 1500.0\nperiod = "vegetation"',
    "split": 'node = "kirov"\nratios = { "kirov->talas_border" = 0.5, "kirov->talas_kg_irrigation" = 0.5 }',
    "release": 'node = "orto_tokoy"\nmin_mcm = 300.0\nperiod = "vegetation"',
    "storage": 'node = "kirov"\nmin_mcm = 200.0\nperiod = "water_year"',
}


def scenario(tmp_path: Path, kind: str, mode: str) -> Path:
    horizon = 'mode = "horizon"\nhorizon = "water_year"' if mode == "horizon" else 'mode = "step"'
    text = f"""[scenario]
name = "{kind}-{mode}"
description = "test"
basin = "{BASIN}"
start = "2000-10-01"
end = "2002-09-30"
timestep = "month"
{horizon}

[[clause]]
id = "{kind}"
kind = "{kind}"
hard = true
{CLAUSES[kind]}
"""
    path = tmp_path / f"{kind}-{mode}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("mode", ["step", "horizon"])
@pytest.mark.parametrize("kind", sorted(CLAUSES))
def test_each_kind_holds_on_chu_talas(tmp_path, kind, mode):
    ds = wd.run(scenario(tmp_path, kind, mode))
    assert_mass_balance(ds)
    violation = ds["clause_violation"].sel(clause=kind).values
    assert np.nanmax(violation) <= 1e-6
    assert np.isfinite(ds["clause_actual"].sel(clause=kind).values).any()


def test_the_run_summary_lists_every_clause(tmp_path):
    res = CliRunner().invoke(cli, ["run", str(ROOT / "scenarios/chu-talas/agreement-2000.toml"),
                                   "-o", str(tmp_path / "a.nc")])
    assert res.exit_code == 0, res.output
    with wd.open_result(tmp_path / "a.nc") as ds:
        ids = [str(c) for c in ds.clause.values]
    header = [line for line in res.stdout.splitlines() if line.startswith("clause ")]
    assert header and "windows met" in header[0] and "violation mcm" in header[0]
    for cid in ids:
        assert any(line.startswith(cid + " ") for line in res.stdout.splitlines()), cid
