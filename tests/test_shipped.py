"""Every shipped scenario validates, runs, closes its balance and keeps its hard clauses."""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

import waterdesk as wd
from waterdesk.testing import assert_mass_balance

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*/*.toml")
                   if "sweep" not in tomllib.loads(p.read_text("utf-8")))   # sweeps: tests/test_batch.py


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_scenario_runs_with_a_closed_balance(path):
    scenario = wd.load_scenario(path)
    assert scenario.description, "a shipped scenario says which question it answers"
    ds = wd.run(scenario)
    assert_mass_balance(ds)
    hard = np.flatnonzero(ds["clause_hard"].values.astype(bool))
    if hard.size:
        assert float(ds["clause_violation"].isel(clause=hard).max()) <= 1e-6


def test_foresight_spreads_the_same_cut_over_more_months():
    """The agreement's Talas cap fixes how much KG may take each water year; month by
    month (step mode) the cap is used up early, with foresight (horizon mode) the same
    total is spread: KG's total supply is equal, its months short are more, its worst
    month less short."""
    step = wd.run(ROOT / "scenarios/chu-talas/agreement-2000.toml")
    hz = wd.run(ROOT / "scenarios/chu-talas/agreement-2000-foresight.toml")
    kg = (step["demand_country"] == "KG").values
    total = [float(ds["supplied"].values[:, kg].sum()) for ds in (step, hz)]
    assert total[1] == pytest.approx(total[0], rel=1e-6)
    worst = [float((ds["shortage"] / ds["requested"]).values[:, kg].max()) for ds in (step, hz)]
    assert worst[1] < worst[0]
