"""Reservoir operating rules, foresight, cap reservation, accounting year (issue 12).
Every expected value is computed by hand (or by a conservation law) in the test."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.allocate.test_priorities import node, reach
from tests.test_reservoirs import reservoir
from waterdesk.analysis import accounts
from waterdesk.testing import assert_mass_balance

DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)   # 2001
MCM_PER_M3S = DAYS * 0.0864


def irrigation(monthly: list[float], priority: int = 2, dem_id: str = "user", country: str = "AA") -> str:
    return f"""
[[node]]
id = "{dem_id}"
kind = "demand"
country = "{country}"
sector = "irrigation"
priority = {priority}
monthly_mcm = {monthly}
consumptive_fraction = 1.0
"""


def below(res: str, demands: str, users: list[str]) -> str:
    """src -> res -> j -> sea; the users hang off j by canals."""
    return (node("src", "inflow") + res + node("j", "junction") + node("sea", "sink") + demands
            + reach("src", "res") + reach("res", "j") + reach("j", "sea")
            + "".join(reach("j", u, "canal") for u in users))


def test_storage_follows_its_monthly_target_and_the_demand_gets_the_rest(case):
    """Target priority 1 above an irrigation demand at priority 2, no evaporation:
    storage[t] = min(target[t], storage[t-1] + inflow[t]) (refilled or drawn down toward the
    target) and the demand gets min(request, what the reservoir lets go)."""
    target = [60, 80, 100, 100, 90, 70, 50, 40, 40, 50, 60, 60]
    inflow_mcm = np.array([5, 30, 50, 40, 20, 10, 5, 5, 5, 10, 5, 10], dtype=float)
    request = [0, 0, 10, 20, 40, 60, 60, 50, 20, 0, 0, 0]
    res = reservoir(f"target_storage_mcm = {target}\ntarget_priority = 1", capacity=120.0, dead=5.0,
                    initial=50.0)
    ds = case(below(res, irrigation(request), ["user"]), {"src": list(inflow_mcm / MCM_PER_M3S)})
    storage, supplied = [], []
    before = 50.0
    for t in range(12):
        now = min(target[t], before + inflow_mcm[t])
        storage.append(now)
        supplied.append(min(request[t], before + inflow_mcm[t] - now))
        before = now
    np.testing.assert_allclose(ds["storage"].values[:, 0], storage, atol=1e-5)
    np.testing.assert_allclose(ds["supplied"].values[:, 0], supplied, atol=1e-5)
    np.testing.assert_allclose(ds["target_deviation"].values[:, 0], np.array(storage) - target, atol=1e-5)
    assert min(np.array(storage) - target) < -1.0       # the target was not always reachable
    assert_mass_balance(ds)
    # the ledger's reservoir table: mean deviation per water year (Jan-Sep 2001, Oct-Dec 2001)
    rows = accounts.reservoirs(ds).rows
    dev = np.array(storage) - target
    assert [r[1] for r in rows] == [2001, 2002]
    np.testing.assert_allclose([r[5] for r in rows], [dev[:9].mean(), dev[9:].mean()], atol=1e-5)


def test_a_higher_priority_demand_draws_below_the_target(case):
    """Demand priority 1, target priority 2: the demand takes what it asks even when that
    leaves the reservoir below its target; the target takes what is left."""
    target = [100.0] * 12
    inflow_mcm = np.full(12, 10.0)
    request = [30.0] * 12
    res = reservoir(f"target_storage_mcm = {target}\ntarget_priority = 2", capacity=120.0, dead=5.0,
                    initial=100.0)
    ds = case(below(res, irrigation(request, priority=1), ["user"]), {"src": list(inflow_mcm / MCM_PER_M3S)})
    expected = [max(100.0 + 10.0 * (t + 1) - 30.0 * (t + 1), 5.0) for t in range(12)]
    # the demand gets 30 while storage + inflow allows it above dead storage
    before = 100.0
    storage, supplied = [], []
    for t in range(12):
        give = min(30.0, before + 10.0 - 5.0)
        before = before + 10.0 - give
        storage.append(before)
        supplied.append(give)
    np.testing.assert_allclose(ds["storage"].values[:, 0], storage, atol=1e-5)
    np.testing.assert_allclose(ds["supplied"].values[:, 0], supplied, atol=1e-5)
    assert expected[-1] == 5.0


def test_buffer_zone_limits_the_release_of_stored_water(case):
    """Below the buffer level (80 mcm) the step may release at most 0.25 of the storage
    above dead storage (10 mcm); inflow passes. Hand: from 100 with no inflow and a
    demand of 40 a month: 100 -> 60 (above the buffer: free) -> 60 - 0.25*50 = 47.5 ->
    47.5 - 0.25*37.5 = 38.125 ..."""
    request = [40.0] * 6 + [0.0] * 6
    res = reservoir("buffer_mcm = 80.0\nbuffer_coefficient = 0.25", capacity=120.0, dead=10.0, initial=100.0)
    ds = case(below(res, irrigation(request, priority=1), ["user"]), {"src": [0.0] * 6})
    storage, supplied = [], []
    before = 100.0
    for t in range(6):
        room = before - 10.0 if before >= 80.0 else 0.25 * (before - 10.0)
        give = min(40.0, room)
        before -= give
        storage.append(before)
        supplied.append(give)
    np.testing.assert_allclose(ds["storage"].values[:, 0], storage, atol=1e-5)
    np.testing.assert_allclose(ds["supplied"].values[:, 0], supplied, atol=1e-5)
    assert_mass_balance(ds)


def test_release_curve_releases_what_the_storage_asks(case):
    """release_curve [[0, 0], [100, 10], [200, 30]] m3/s at target priority 1, nobody
    downstream asks: each month releases f(start storage) (piecewise linear) and keeps the
    rest. From 150 mcm with 20 mcm inflow a month: f(150) = 20 m3/s, ..."""
    inflow_mcm = np.full(6, 20.0)
    res = reservoir("release_curve = [[0.0, 0.0], [100.0, 10.0], [200.0, 30.0]]\ntarget_priority = 1",
                    capacity=200.0, dead=0.0, initial=150.0)
    ds = case(below(res, irrigation([0.0] * 12), ["user"]), {"src": list(inflow_mcm / MCM_PER_M3S[:6])})
    before = 150.0
    storage, release = [], []
    for t in range(6):
        f = np.interp(before, [0.0, 100.0, 200.0], [0.0, 10.0, 30.0])
        out = min(f * MCM_PER_M3S[t], before + 20.0)
        before = before + 20.0 - out
        storage.append(before)
        release.append(out / MCM_PER_M3S[t])
    np.testing.assert_allclose(ds["storage"].values[:, 0], storage, atol=1e-5)
    np.testing.assert_allclose((ds["release"] + ds["spill"]).values[:, 0], release, atol=1e-6)


def cap_case(case, mode: str, hard: bool = True):
    """Country AA: a city (priority 1) asking 30 mcm a month Sep-Dec, irrigation (priority
    2) asking 60 a month Apr-Aug, a reservoir holding plenty; AA's withdrawals are capped at
    260 mcm a calendar year."""
    city = irrigation([0] * 8 + [30.0] * 4, priority=1, dem_id="city").replace("irrigation", "municipal", 1)
    irr = irrigation([0, 0, 0] + [60.0] * 5 + [0] * 4, priority=2, dem_id="irr")
    res = reservoir(capacity=2000.0, dead=0.0, initial=1500.0)
    soft = "" if hard else "priority = 1\n"
    extra = (('mode = "horizon"\nhorizon = "year"\n' if mode == "horizon" else "")
             + f'\n[[clause]]\nid = "cap"\nkind = "max_withdrawal"\ncountry = "AA"\nmax_mcm = 260.0\n'
               f'period = "year"\nhard = {str(hard).lower()}\n{soft}')
    return case(below(res, city + irr, ["city", "irr"]), {"src": [5.0] * 12}, scenario_extra=extra)


def test_a_cap_keeps_the_rest_of_its_window_for_the_higher_priority(case):
    """Without reservation the irrigation (priority 2) would use the 260 mcm cap by August
    and the city (priority 1) would get nothing Sep-Dec. The cap holds back the city's 120
    mcm still to come: irrigation gets 60, 60, 20 (Apr-Jun) and nothing after, the city
    all it asks; the window total is exactly the cap."""
    ds = cap_case(case, "step")
    city = ds["supplied"].sel(demand="city").values
    irr = ds["supplied"].sel(demand="irr").values
    np.testing.assert_allclose(city, [0] * 8 + [30.0] * 4, atol=1e-5)
    np.testing.assert_allclose(irr, [0, 0, 0, 60, 60, 20, 0, 0, 0, 0, 0, 0], atol=1e-5)
    assert float(ds["clause_actual"].values[0, 0]) == pytest.approx(260.0, abs=1e-5)
    assert float(ds["clause_violation"].values[0, 0]) == pytest.approx(0.0, abs=1e-6)
    assert_mass_balance(ds)


def test_step_and_horizon_agree_on_a_cap_when_foresight_does_not_matter(case):
    """The same cap in horizon mode (a calendar-year window sees the whole year): the city
    gets the same every month and the irrigation the same year total as in step mode, for
    a hard and for a soft cap."""
    for hard in (True, False):
        step = cap_case(case, "step", hard)
        hz = cap_case(case, "horizon", hard)
        np.testing.assert_allclose(hz["supplied"].sel(demand="city").values,
                                   step["supplied"].sel(demand="city").values, atol=1e-4)
        assert float(hz["supplied"].sel(demand="irr").sum()) == pytest.approx(
            float(step["supplied"].sel(demand="irr").sum()), abs=1e-4)
        assert float(step["supplied"].sel(demand="irr").sum()) == pytest.approx(140.0, abs=1e-4)


def test_accounting_by_january_and_by_october_give_the_same_totals(case, tmp_path):
    """Eighteen months from April 2001 with a shortage in some months: the ledger, demand
    and reservoir tables grouped by Jan-Dec and by Oct-Sep years hold the same totals
    over the run, group the steps as the calendar says, and name the partial years."""
    request = [0, 0, 10, 20, 40, 60, 60, 50, 20, 0, 0, 0]
    res = reservoir(capacity=120.0, dead=5.0, initial=60.0)
    inflow = list(np.tile([5.0, 5.0, 8.0, 10.0, 12.0, 10.0, 5.0, 3.0, 3.0, 4.0, 5.0, 5.0], 2)[3:21])
    basin = below(res, irrigation(request, priority=1), ["user"])
    by = {}
    for first in ("jan", "oct"):
        ds = case(basin, {"src": inflow}, start="2001-04-01", scenario_extra=f'accounting_year = "{first}"\n')
        assert ds.attrs["accounting_year"] == first
        by[first] = {**accounts.ledger(ds), **accounts.outcomes(ds)}
    jan, oct_ = by["jan"], by["oct"]
    assert float(by["jan"]["parties"].rows[0][3]) > 0
    for name, col in (("parties", "delivered_mcm"), ("parties", "entitlement_mcm"), ("demand_met", "requested_mcm"),
                      ("demand_met", "supplied_mcm"), ("reservoirs", "spill_mcm"), ("reservoirs", "energy_GWh")):
        assert sum(jan[name].column(col)) == pytest.approx(sum(oct_[name].column(col)), abs=1e-6), (name, col)
    # Apr 2001 - Sep 2002: calendar years 2001 (Apr-Dec) and 2002 (Jan-Sep), both partial;
    # water years 2001 (Apr-Sep) partial and 2002 (Oct 2001 - Sep 2002) whole
    assert jan["parties"].column("water_year")[:2] == [2001, 2002]
    assert oct_["parties"].column("water_year")[:2] == [2001, 2002]
    assert "partial (the run does not fill them): 2001, 2002" in jan["parties"].notes[-1]
    assert "partial (the run does not fill them): 2001" in oct_["parties"].notes[-1]
    assert "2002" not in oct_["parties"].notes[-1].split("partial")[1]
    # the groups follow the calendar: Jan-Dec 2001 holds Apr-Dec 2001
    dem = jan["demand_met"]
    rows = [r for r in dem.rows if r[0] == "country"]
    ds = case(basin, {"src": inflow}, start="2001-04-01", scenario_extra='accounting_year = "jan"\n')
    req = ds["requested"].values[:, 0]
    assert rows[0][3] == pytest.approx(req[:9].sum()) and rows[1][3] == pytest.approx(req[9:].sum())


def test_horizon_mode_serves_the_target_at_its_priority_too(case):
    """The target toy in horizon mode (one calendar-year window): the target (priority 1)
    is never further below than in step mode, the demand (priority 2) gets at least as much
    in total (foresight can keep water above the target for it), and the balance closes."""
    target = [60, 80, 100, 100, 90, 70, 50, 40, 40, 50, 60, 60]
    inflow_mcm = np.array([5, 30, 50, 40, 20, 10, 5, 5, 5, 10, 5, 10], dtype=float)
    request = [0, 0, 10, 20, 40, 60, 60, 50, 20, 0, 0, 0]
    res = reservoir(f"target_storage_mcm = {target}\ntarget_priority = 1", capacity=120.0, dead=5.0,
                    initial=50.0)
    basin = below(res, irrigation(request), ["user"])
    inflow = {"src": list(inflow_mcm / MCM_PER_M3S)}
    step = case(basin, inflow)
    hz = case(basin, inflow, scenario_extra='mode = "horizon"\nhorizon = "year"\n')
    short_step = np.maximum(-step["target_deviation"].values, 0.0).sum()
    short_hz = np.maximum(-hz["target_deviation"].values, 0.0).sum()
    assert short_step > 1.0
    assert short_hz <= short_step + 1e-6
    assert float(hz["supplied"].sum()) >= float(step["supplied"].sum()) - 1e-6
    assert_mass_balance(hz)


# ----------------------------------------------------------------- basin reference tables
# Each basin README has a "how well does it reproduce what happened" table whose rows carry a
# key; every modelled figure is recomputed here from a run of the named scenario.

ROOT = Path(__file__).resolve().parents[1]
LOWER_AMU = ["uz_khorezm_irrigation", "tm_dashoguz_irrigation", "uz_lower_sanitary", "tm_dashoguz_sanitary",
             "uz_karakalpakstan_irrigation"]


def _mcm_per_m3s(ds) -> np.ndarray:
    bounds = ds["time_bounds"].values
    return (bounds[:, 1] - bounds[:, 0]) / np.timedelta64(1, "D") * 0.0864


def _reach(ds, a: str, b: str) -> int:
    return [k for k in range(ds.sizes["reach"]) if ds.reach_from.values[k] == a and ds.reach_to.values[k] == b][0]


def _years(ds) -> tuple[np.ndarray, np.ndarray]:
    wy = accounts.step_water_year(ds)
    return wy, np.unique(wy)


def reach_loss_km3(ds, a: str, b: str) -> float:
    """Mean channel loss of a reach [km3/yr]: entry minus exit."""
    k = _reach(ds, a, b)
    lost = (ds["reach_flow"].values[:, k] - ds["reach_outflow"].values[:, k]) * _mcm_per_m3s(ds)
    return float(lost.sum()) / len(_years(ds)[1]) / 1000.0


def reach_exit_km3(ds, a: str, b: str) -> float:
    """Mean volume a reach delivers [km3/yr]."""
    k = _reach(ds, a, b)
    return float((ds["reach_outflow"].values[:, k] * _mcm_per_m3s(ds)).sum()) / len(_years(ds)[1]) / 1000.0


def node_flow_km3(ds, node_id: str) -> float:
    n = list(ds.node.values).index(node_id)
    return float((ds["node_flow"].values[:, n] * _mcm_per_m3s(ds)).sum()) / len(_years(ds)[1]) / 1000.0


def driest_year_met(ds, demands: list[str], months: tuple[int, ...] = tuple(range(1, 13))) -> float:
    """Lowest share of the demands' request delivered in a water year [%] (in `months`)."""
    wy, years = _years(ds)
    inside = np.isin(ds["time"].dt.month.values, months)
    req = ds["requested"].sel(demand=demands).sum("demand").values
    sup = ds["supplied"].sel(demand=demands).sum("demand").values
    return min(100.0 * sup[(wy == y) & inside].sum() / req[(wy == y) & inside].sum() for y in years)


def april_storage_km3(ds, reservoir: str, year: int) -> float:
    """Storage on 1 April of `year` (end of the March step) [km3]."""
    t = ds["time"].values.astype("datetime64[M]")
    i = int(np.flatnonzero(t == np.datetime64(f"{year}-03", "M"))[0])
    return float(ds["storage"].sel(reservoir=reservoir).values[i]) / 1000.0


def lowest_country_met(ds) -> float:
    """Lowest share of a country's request delivered in a water year [%]."""
    wy, years = _years(ds)
    out = []
    for country in ds.country.values:
        mine = ds.demand_country.values == country
        req = ds["requested"].values[:, mine].sum(axis=1)
        sup = ds["supplied"].values[:, mine].sum(axis=1)
        out += [100.0 * sup[wy == y].sum() / req[wy == y].sum() for y in years if req[wy == y].sum() > 0]
    return min(out)


#: key -> (scenario, figure from its result)
REFERENCE = {
    "amu.dry.tuyamuyun_inflow": ("amu-darya/dry-2021", lambda ds: reach_exit_km3(ds, "middle_amu", "tuyamuyun")),
    "amu.dry.lower_amu_year": ("amu-darya/dry-2021", lambda ds: driest_year_met(ds, LOWER_AMU)),
    "amu.dry.lower_amu_growing": ("amu-darya/dry-2021", lambda ds: driest_year_met(ds, LOWER_AMU, (4, 5, 6, 7, 8, 9))),
    "amu.dry.middle_loss": ("amu-darya/dry-2021", lambda ds: reach_loss_km3(ds, "middle_amu", "tuyamuyun")),
    "amu.base.middle_loss": ("amu-darya/baseline", lambda ds: reach_loss_km3(ds, "middle_amu", "tuyamuyun")),
    "amu.dry.kerki": ("amu-darya/dry-2021", lambda ds: node_flow_km3(ds, "kerki")),
    "syr.energy.toktogul_2006": ("syr-darya/drought-3yr-energy", lambda ds: april_storage_km3(ds, "toktogul", 2006)),
    "syr.energy.toktogul_2008": ("syr-darya/drought-3yr-energy", lambda ds: april_storage_km3(ds, "toktogul", 2008)),
    "syr.energy.toktogul_2009": ("syr-darya/drought-3yr-energy", lambda ds: april_storage_km3(ds, "toktogul", 2009)),
    "syr.irrigation.toktogul_2009": ("syr-darya/drought-3yr", lambda ds: april_storage_km3(ds, "toktogul", 2009)),
    "syr.energy.lowest_country": ("syr-darya/drought-3yr-energy", lowest_country_met),
    "syr.dry2021.lowest_country": ("syr-darya/dry-2021", lowest_country_met),
}


def readme_rows(basin: str) -> dict[str, str]:
    """key -> the model figure as printed in the basin README's reference table."""
    text = (ROOT / "basins" / basin / "README.md").read_text("utf-8")
    section = text.split("## How well does it reproduce what happened", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows[cells[0].strip("`")] = cells[2]
    return rows


@pytest.mark.parametrize("basin", ["amu-darya", "syr-darya"])
def test_basin_reference_table_matches_a_fresh_run(basin):
    """Every modelled figure of the README's "how well does it reproduce what happened"
    table is what a run of the named scenario gives, to the printed decimals."""
    import waterdesk as wd

    rows = readme_rows(basin)
    keys = [k for k in REFERENCE if k.startswith(basin[:3])]
    assert sorted(rows) == sorted(keys)
    runs: dict[str, object] = {}
    for key in keys:
        scenario, figure = REFERENCE[key]
        if scenario not in runs:
            runs[scenario] = wd.run(ROOT / "scenarios" / f"{scenario}.toml")
        printed = rows[key]
        decimals = len(printed.split(".")[1]) if "." in printed else 0
        assert round(figure(runs[scenario]), decimals) == pytest.approx(float(printed), abs=1e-9), key


def test_bad_operating_rules_are_named_with_file_and_line(case):
    """A target without its priority, a buffer without its coefficient, a target above the
    capacity and a [carry_over] entry for no reservoir: one problem each, file:line."""
    import waterdesk as wd
    from waterdesk.errors import InputError

    res = reservoir("target_storage_mcm = [50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 500.0]\n"
                    "buffer_mcm = 40.0", capacity=120.0)
    path = case(below(res, irrigation([1.0] * 12), ["user"]), {"src": [1.0] * 3}, run=False,
                scenario_extra='mode = "horizon"\n\n[carry_over]\nnowhere = "free"\n')
    with pytest.raises(InputError) as err:
        wd.load_scenario(path)
    text = str(err.value)
    assert "needs target_priority" in text
    assert "needs both buffer_mcm and buffer_coefficient" in text
    assert "targets must be <= capacity_mcm (120.0), got 500.0" in text
    assert "no reservoir 'nowhere'" in text
    assert "basin.toml:" in text and "scenario.toml:" in text


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_report_and_the_ledger_text_show_the_target_deviation_and_the_accounting_year(case, tmp_path, lang):
    """After merging issue 15 (translated report and tables): the report's reservoir table
    keeps the mean target deviation (storage minus target, over all steps, computed here by
    hand as in the test above), and the ledger text keeps the accounting-year note, both in
    the page's language."""
    from tests.analysis.test_report import _parse
    import waterdesk as wd
    from waterdesk.i18n import catalogue

    target = [60, 80, 100, 100, 90, 70, 50, 40, 40, 50, 60, 60]
    inflow_mcm = np.array([5, 30, 50, 40, 20, 10, 5, 5, 5, 10, 5, 10], dtype=float)
    res = reservoir(f"target_storage_mcm = {target}\ntarget_priority = 1", capacity=120.0, dead=5.0,
                    initial=50.0)
    ds = case(below(res, irrigation([0, 0, 10, 20, 40, 60, 60, 50, 20, 0, 0, 0]), ["user"]),
              {"src": list(inflow_mcm / MCM_PER_M3S)})
    storage, before = [], 50.0
    for t in range(12):
        before = min(target[t], before + inflow_mcm[t])
        storage.append(before)
    mean_dev = float(np.mean(np.array(storage) - target))
    cat = catalogue(lang)
    page = _parse(wd.report([ds], tmp_path / "page.html", lang=lang).read_text("utf-8"))
    (attrs, rows), = [t for t in page.tables if t[0].get("class") == "reservoirs"]
    assert rows[0][-1] == f"{cat('col.mean_target_deviation')} ({cat.unit('mcm')})"
    assert cat.parse(rows[1][-1]) == pytest.approx(mean_dev, abs=0.05)
    text = wd.to_text(list(wd.ledger(ds).values()), lang=lang)
    months = "-".join(cat(f"month.{m}") for m in ("oct", "sep"))
    assert cat("note.years", months=months) in text
    assert cat("note.target_deviation") in text
