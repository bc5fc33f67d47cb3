"""Ledger, equity and outcomes: every number recomputed from the result variables."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import waterdesk as wd
from waterdesk.testing import node, reach
from waterdesk.analysis import accounts
from waterdesk.testing import write_case

ROOT = Path(__file__).resolve().parents[2]
MONTHS = 24   # Oct 2000 - Sep 2002: two water years


def user(node_id: str, country: str, monthly: float, sector: str = "irrigation") -> str:
    return f"""
[[node]]
id = "{node_id}"
kind = "demand"
country = "{country}"
sector = "{sector}"
priority = 1
monthly_mcm = {[float(monthly)] * 12}
consumptive_fraction = 1.0
"""


TOY = (node("src", "inflow") + node("j", "junction") + node("sea", "sink", "BB")
       + user("farm_aa", "AA", 30.0) + user("town_bb", "BB", 20.0, "municipal")
       + reach("src", "j") + reach("j", "sea") + reach("j", "farm_aa", "canal") + reach("j", "town_bb", "canal"))

CLAUSES = """
[[clause]]
id = "aa-cap"
kind = "max_withdrawal"
country = "AA"
max_mcm = 200.0
period = "water_year"
hard = true

[[clause]]
id = "sea-min-flow"
kind = "min_flow"
node = "sea"
min_m3s = 50.0
period = "month"
hard = false
priority = 2
"""


def toy_path(folder: Path, name: str = "toy", clauses: str = CLAUSES) -> Path:
    """src -> j -> sea; AA's farm asks 30 mcm a month, BB's town 20; 15 m3/s (~39 mcm a
    month) arrive, so both are short; AA is capped at 200 mcm a water year."""
    inflow = [15.0 + 5.0 * np.sin(i / 2.0) for i in range(MONTHS)]
    return write_case(folder, TOY, {"src": inflow}, start="2000-10-01", scenario_extra=clauses, name=name)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    path = toy_path(tmp_path_factory.mktemp("toy"))
    return wd.load_scenario(path), wd.run(path)


@pytest.fixture(scope="module")
def chu_agreement():
    scenario = wd.load_scenario(ROOT / "scenarios" / "chu-talas" / "agreement-2000.toml")
    return wd.run(scenario.replace(end="2002-09-30"))


def wy_of(ds) -> np.ndarray:
    """Water year of each step, from the time coordinate's calendar fields."""
    return (ds["time"].dt.year + (ds["time"].dt.month >= 10)).values


def rows(table, *key_cols):
    """Records of a table keyed by the values of some columns."""
    return {tuple(r[k] for k in key_cols): r for r in table.records()}


def test_party_ledger_is_sums_of_the_result(toy):
    """Without caps (caps={}), entitlement is the requested volume."""
    _, ds = toy
    parties = rows(accounts.ledger(ds, caps={})["parties"], "country", "water_year")
    wy = wy_of(ds)
    assert sorted(set(wy)) == [2001, 2002]
    for country in ("AA", "BB"):
        for year in (2001, 2002):
            req = float(ds["requested"].where(ds["demand_country"] == country).isel(time=wy == year).sum())
            got = float(ds["withdrawal_by_country"].sel(country=country).isel(time=wy == year).sum())
            row = parties[(country, year)]
            assert row["entitlement_mcm"] == pytest.approx(req, abs=1e-9)
            assert row["delivered_mcm"] == pytest.approx(got, abs=1e-9)
            assert row["deviation_mcm"] == pytest.approx(got - req, abs=1e-9)


def test_the_result_file_says_whose_limit_a_cap_is(toy):
    """Results carry `clause_country`: the ledger caps AA's entitlement at its 200 mcm
    water-year limit from the file alone, as with the scenario in hand."""
    scenario, ds = toy
    from_file = rows(accounts.ledger(ds)["parties"], "country", "water_year")
    with_scenario = rows(accounts.ledger(ds, scenario=scenario)["parties"], "country", "water_year")
    for key, row in with_scenario.items():
        assert from_file[key]["entitlement_mcm"] == pytest.approx(row["entitlement_mcm"], abs=1e-9)
    assert from_file[("AA", 2001)]["entitlement_mcm"] == pytest.approx(200.0, abs=1e-6)


def test_running_balance_carries_over_water_years(toy):
    _, ds = toy
    table = accounts.ledger(ds)["parties"]
    for country in ("AA", "BB"):
        mine = [r for r in table.records() if r["country"] == country]
        assert [r["water_year"] for r in mine] == [2001, 2002]
        assert mine[0]["balance_mcm"] == pytest.approx(mine[0]["deviation_mcm"])
        assert mine[1]["balance_mcm"] == pytest.approx(mine[0]["deviation_mcm"] + mine[1]["deviation_mcm"])
        assert mine[1]["balance_mcm"] < mine[0]["balance_mcm"] < 0   # short both years: the debt grows


def test_a_country_cap_limits_the_entitlement(toy):
    """AA asks 360 mcm a water year under a 200 mcm cap: entitled to 200, and the run
    delivered at most that."""
    scenario, ds = toy
    assert accounts.country_caps(scenario) == {"aa-cap": "AA"}
    parties = rows(accounts.ledger(ds, scenario=scenario)["parties"], "country", "water_year")
    for year in (2001, 2002):
        assert parties[("AA", year)]["entitlement_mcm"] == pytest.approx(200.0, abs=1e-9)
        assert parties[("AA", year)]["delivered_mcm"] <= 200.0 + 1e-6
        assert parties[("BB", year)]["entitlement_mcm"] == pytest.approx(240.0, abs=1e-9)


def test_km3_is_mcm_over_1000(toy):
    _, ds = toy
    mcm, km3 = accounts.ledger(ds, "mcm"), accounts.ledger(ds, "km3")
    for a, b in zip(mcm["parties"].records(), km3["parties"].records()):
        assert b["delivered_km3"] == pytest.approx(a["delivered_mcm"] / 1000.0)
        assert b["balance_km3"] == pytest.approx(a["balance_mcm"] / 1000.0)
    with pytest.raises(wd.InputError, match="unknown units"):
        accounts.ledger(ds, "acre-feet")


@pytest.mark.parametrize("which", ["toy", "chu_agreement"])
def test_clause_ledger_is_sums_of_the_clause_variables(which, request):
    got = request.getfixturevalue(which)
    ds = got[1] if which == "toy" else got
    table = rows(accounts.ledger(ds)["clauses"], "clause")
    assert list(table) == [(str(c),) for c in ds.clause.values]
    for c, cid in enumerate(ds.clause.values):
        v = ds["clause_violation"].values[:, c]
        v = v[~np.isnan(v)]
        row = table[(str(cid),)]
        assert row["windows"] == len(v)
        assert row["windows_violated"] == int((v > 1e-6).sum())
        assert row["windows_met"] == len(v) - row["windows_violated"]
        assert row["total_violation_mcm"] == pytest.approx(float(v.sum()))
        assert row["worst_violation_mcm"] == pytest.approx(float(v.max()) if (v > 1e-6).any() else 0.0)
        assert row["largest_shadow_price_mcm/mcm"] is None   # step mode
    if which == "toy":   # the sea minimum is missed every month; its worst month is named
        row = table[("sea-min-flow",)]
        assert row["windows_violated"] == MONTHS
        w = int(np.nanargmax(ds["clause_violation"].sel(clause="sea-min-flow").values))
        assert row["worst_window_start"] == str(ds["window_start"].sel(clause="sea-min-flow").values[w])[:10]
        assert table[("aa-cap",)]["windows_met"] == 2


def test_demand_met_worst_month_and_shortage_months(toy):
    _, ds = toy
    table = rows(accounts.demand_met(ds), "group", "item", "water_year")
    wy = wy_of(ds)
    for group, coord in (("country", "demand_country"), ("sector", "demand_sector")):
        for item in sorted(set(ds[coord].values.tolist())):
            for year in (2001, 2002):
                sel = (ds[coord] == item)
                req = ds["requested"].where(sel).isel(time=wy == year).sum("demand")
                sup = ds["supplied"].where(sel).isel(time=wy == year).sum("demand")
                short = ds["shortage"].where(sel).isel(time=wy == year).sum("demand")
                pct = 100.0 * sup / req
                row = table[(group, item, year)]
                assert row["met_%"] == pytest.approx(100.0 * float(sup.sum()) / float(req.sum()))
                assert row["worst_month_met_%"] == pytest.approx(float(pct.min()))
                assert row["worst_month"] == str(pct.idxmin().values)[:7]
                assert row["shortage_months"] == int((short > 1e-6).sum())


def test_jain_index_by_hand():
    assert accounts.jain_index([80.0, 80.0, 80.0]) == pytest.approx(1.0)
    assert accounts.jain_index([100.0, 50.0]) == pytest.approx(150.0 ** 2 / (2 * (100.0 ** 2 + 50.0 ** 2)))
    assert accounts.jain_index([100.0, 0.0, 0.0]) == pytest.approx(1.0 / 3.0)   # all to one: 1/n
    assert math.isnan(accounts.jain_index([]))


def test_equity_table_uses_each_countrys_percent_met(toy):
    _, ds = toy
    table = rows(accounts.equity(ds), "water_year")
    wy = wy_of(ds)
    for label, steps in (("2001", wy == 2001), ("2002", wy == 2002), ("all", wy > 0)):
        met = []
        for country in ("AA", "BB"):
            sel = ds["demand_country"] == country
            met.append(100.0 * float(ds["supplied"].where(sel).isel(time=steps).sum())
                       / float(ds["requested"].where(sel).isel(time=steps).sum()))
        x = np.array(met)
        assert table[(label,)]["jain_index_1"] == pytest.approx(x.sum() ** 2 / (2 * (x ** 2).sum()))
        assert table[(label,)]["lowest_met_%"] == pytest.approx(x.min())


def test_reservoir_outcomes_per_water_year(chu_agreement):
    ds = chu_agreement
    table = rows(accounts.reservoirs(ds), "reservoir", "water_year")
    wy = wy_of(ds)
    days = (ds["time_bounds"][:, 1] - ds["time_bounds"][:, 0]).dt.days
    for name in ds.reservoir.values:
        for year in (2001, 2002):
            steps = wy == year
            last = np.flatnonzero(steps)[-1]
            row = table[(str(name), year)]
            assert str(ds["time"].values[last])[:7] == f"{year}-09"
            assert row["end_storage_mcm"] == pytest.approx(float(ds["storage"].sel(reservoir=name)[last]))
            spill = float((ds["spill"].sel(reservoir=name) * days * 0.0864).isel(time=steps).sum())
            assert row["spill_mcm"] == pytest.approx(spill)
            assert row["energy_GWh"] == pytest.approx(float(ds["energy"].sel(reservoir=name).isel(time=steps).sum()))


def test_text_tables_carry_units_in_every_header(chu_agreement):
    tables = {**accounts.ledger(chu_agreement, "km3"), **accounts.outcomes(chu_agreement, "km3")}
    text = tables["parties"].to_text()
    assert "entitlement (km3)" in text and "delivered (km3)" in text and "balance (km3)" in text
    assert "end storage (km3)" in tables["reservoirs"].to_text() and "energy (GWh)" in tables["reservoirs"].to_text()
    lines = tables["parties"].to_text().splitlines()
    assert len({len(line) for line in lines[1:6]}) == 1   # aligned columns


def test_share_clauses_set_the_entitlement_of_the_parties(chu_agreement):
    """Chu-Talas under the 2000 shares (water-year windows): a party's entitlement is what
    its share clauses allot it — for a cap, at most what the covered demands asked — plus
    the requests of its demands no share clause covers; recomputed here from the result."""
    ds = chu_agreement
    table = rows(accounts.ledger(ds)["parties"], "country", "water_year")
    wy = wy_of(ds)
    countries = [str(c) for c in ds.country.values]
    for (country, year), row in table.items():
        k = countries.index(country)
        mine = (ds["demand_country"].values == country)
        covered_any = np.zeros(ds.sizes["demand"], dtype=bool)
        expected = 0.0
        for c in range(ds.sizes["clause"]):
            if str(ds["clause_kind"].values[c]) != "share":
                continue
            covered = mine & (ds["clause_covers"].values[c] > 0)
            if not covered.any():
                continue
            covered_any |= covered
            w = [i for i in range(ds.sizes["window"])
                 if str(ds["window_start"].values[i, c])[:4] == str(year - 1)][0]
            asked = float(ds["requested"].values[wy == year][:, covered].sum())
            allotted = float(ds["clause_party_required"].values[w, c, k])
            if str(ds["clause_mode"].values[c]) == "cap":
                allotted = min(allotted, asked)
            expected += allotted
        expected += float(ds["requested"].values[wy == year][:, mine & ~covered_any].sum())
        assert row["entitlement_mcm"] == pytest.approx(expected, abs=1e-6), (country, year)
    # under a binding Talas cap, KG gets exactly what it is entitled to
    assert table[("KG", 2001)]["deviation_mcm"] == pytest.approx(0.0, abs=1e-3)
