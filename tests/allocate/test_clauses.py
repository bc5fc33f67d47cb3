"""Agreement clauses in step mode (docs/REFERENCE.md §6, docs/AGREEMENTS.md) on tiny networks, hand answers.

Conventions used throughout (the contract is docs/AGREEMENTS.md):

- inflows and requests are worked in mcm per step; a step of d days carries
  d * 0.0864 mcm per m3/s (January: 2.6784 mcm per m3/s);
- "flow at node n" is what leaves n through its reaches (what arrives, for sinks);
- in step mode a minimum over a window asks, in each step, (requirement - used so far)
  * d / D_rem (D_rem: days of the window left, this step included); a cap allows
  limit - used so far;
- window coordinates: `window_start` is the window's first day and `window_end` its end
  as a period end (exclusive, like `time_bounds`: the next window's start); a window cut by
  the start or end of the run keeps its calendar bounds, and its volume requirement is
  scaled by the share of its days that the run covers.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import waterdesk as wd
from waterdesk.testing import node, reach
from waterdesk.testing import JAN_M3S_PER_MCM
from tests.test_reservoirs import reservoir
from waterdesk.cli.main import cli
from waterdesk.testing import assert_mass_balance, step_days, write_case

DAY_MCM = 0.0864          # mcm carried by 1 m3/s over one day
ONE_MCM_PER_DAY = 1.0 / DAY_MCM   # m3/s that carry exactly 1 mcm per day
TOL = 1e-6


# ----------------------------------------------------------------------------- helpers
def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def clause(clause_id: str, kind: str, period: str = "month", hard: bool = True,
           priority: int | None = None, **keys: object) -> str:
    """One [[clause]] table; keys exactly as in docs/AGREEMENTS.md."""
    lines = ["", "[[clause]]", f'id = "{clause_id}"', f'kind = "{kind}"', f'period = "{period}"',
             f"hard = {toml_value(hard)}"]
    if priority is not None:
        lines.append(f"priority = {priority}")
    lines += [f"{k} = {toml_value(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def dem(node_id: str, priority: int, monthly: list[float], country: str = "AA",
        sector: str = "irrigation") -> str:
    """A fully consumptive demand with 12 monthly requests [mcm] (January first)."""
    monthly = [float(v) for v in monthly] + [0.0] * (12 - len(monthly))
    return f"""
[[node]]
id = "{node_id}"
kind = "demand"
country = "{country}"
sector = "{sector}"
priority = {priority}
monthly_mcm = {monthly}
consumptive_fraction = 1.0
"""


def m3s(volume_mcm: float, days: float) -> float:
    """Step-mean flow [m3/s] that carries `volume_mcm` over `days`."""
    return volume_mcm / (days * DAY_MCM)


def mcm(ds, var: str, label: str, dim: str) -> np.ndarray:
    """A flow variable [m3/s] of one node/reach/reservoir as volumes per step [mcm]."""
    return ds[var].sel({dim: label}).values * step_days(ds) * DAY_MCM


def supplied(ds, dem_id: str) -> np.ndarray:
    return ds["supplied"].sel(demand=dem_id).values


def windows(ds, clause_id: str) -> dict[str, list]:
    """The windows of one clause (padding, NaT/NaN, dropped): bounds as 'YYYY-MM-DD'."""
    start = ds["window_start"].sel(clause=clause_id).values
    end = ds["window_end"].sel(clause=clause_id).values
    keep = ~np.isnat(start)

    def day(v: np.ndarray) -> list[str]:
        return [str(d) for d in np.datetime_as_string(v[keep].astype("datetime64[D]"), unit="D")]

    out: dict[str, list] = {"start": day(start), "end": day(end)}
    for name in ("required", "actual", "violation"):
        out[name] = [float(v) for v in ds[f"clause_{name}"].sel(clause=clause_id).values[keep]]
    return out


def run_case(case, basin: str, inflows: dict[str, list[float]], clauses: str, **kw):
    return case(basin, inflows, scenario_extra=clauses, **kw)


# A river crossing a border:  src(AA) -> j(AA) -> border(BB, gauge) -> sea(BB)
#                                        |
#                                        +--canal--> up (AA demand)
def border_river(*demands: str) -> str:
    return (node("src", "inflow") + node("j", "junction") + node("border", "gauge", "BB")
            + node("sea", "sink", "BB") + "".join(demands)
            + reach("src", "j") + reach("j", "border") + reach("border", "sea")
            + reach("j", "up", "canal"))


# ============================================================================ 1. kinds, hard
@pytest.mark.parametrize("min_m3s, feb_min", [(5.0, 5.0), ([5.0, 6.0] + [0.0] * 10, 6.0)],
                         ids=["scalar", "monthly"])
def test_hard_min_flow_forces_water_past_an_upstream_demand(case, min_m3s, feb_min):
    """src -> j -> border -> sea;  j --canal--> up (AA, priority 1, asks 30 a month).
    40 mcm arrive in January (31 d) and in February (28 d). Without the clause up takes 30
    and 10 pass the border. Hard min_flow at border, period = step:
      Jan: 5 m3/s * 31 * 0.0864 = 13.392 mcm must pass -> up gets 40 - 13.392 = 26.608
      Feb: scalar 5 m3/s * 28 * 0.0864 = 12.096 -> up 27.904;
           monthly [5, 6, ...]: 6 * 28 * 0.0864 = 14.5152 -> up 25.4848
    The border flow is exactly the minimum (up wants all the rest)."""
    feb_req = feb_min * 28 * DAY_MCM
    ds = run_case(case, border_river(dem("up", 1, [30, 30])),
                  {"src": [m3s(40, 31), m3s(40, 28)]},
                  clause("border-flow", "min_flow", period="step", node="border", min_m3s=min_m3s))
    np.testing.assert_allclose(supplied(ds, "up"), [40 - 13.392, 40 - feb_req], atol=TOL)
    np.testing.assert_allclose(ds["node_flow"].sel(node="border").values, [5.0, feb_min], atol=TOL)
    w = windows(ds, "border-flow")
    assert w["start"] == ["2001-01-01", "2001-02-01"]
    assert w["end"] == ["2001-02-01", "2001-03-01"]
    assert w["required"] == pytest.approx([13.392, feb_req], abs=TOL)
    assert w["actual"] == pytest.approx([13.392, feb_req], abs=TOL)
    assert w["violation"] == pytest.approx([0.0, 0.0], abs=TOL)
    assert_mass_balance(ds)


def test_hard_min_volume_spreads_the_remainder_as_the_natural_flow_comes(case):
    """src -> j -> sea;  j --canal--> irr (priority 1). Dekads of January: 10, 10, 11 days.
    irr asks 62 in January -> 20, 20, 22 by dekad. Inflow (= natural flow at sea) 60, 20, 33 mcm.
    Hard min_volume at sea (arrivals), 62 mcm per month. Each dekad asks the remainder
    in proportion to the natural flow still to come, (62 - U) * N_t / ΣN_rest:
      dekad 1: 62 * 60/113 = 32.92; irr takes its 20, the other 40 reach the sea (U = 40)
      dekad 2: (62 - 40) * 20/53 = 440/53 = 8.301887; irr 20 - 440/53 = 620/53 = 11.698113
      dekad 3: (22 - 440/53) * 33/33 = 726/53 = 13.698113 (all still missing);
               irr 33 - 726/53 = 1023/53 = 19.301887 (asks 22)
    The sea gets 40 + 440/53 + 726/53 = 62 exactly."""
    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink") + dem("irr", 1, [62])
             + reach("src", "j") + reach("j", "sea") + reach("j", "irr", "canal"))
    ds = run_case(case, basin, {"src": [m3s(60, 10), m3s(20, 10), m3s(33, 11)]},
                  clause("aral", "min_volume", period="month", node="sea", min_mcm=62.0),
                  timestep="dekad")
    np.testing.assert_allclose(supplied(ds, "irr"), [20.0, 620 / 53, 1023 / 53], atol=TOL)
    np.testing.assert_allclose(mcm(ds, "node_flow", "sea", "node"), [40.0, 440 / 53, 726 / 53], atol=TOL)
    w = windows(ds, "aral")
    assert (w["start"], w["end"]) == (["2001-01-01"], ["2001-02-01"])
    assert w["required"] == pytest.approx([62.0], abs=TOL)
    assert w["actual"] == pytest.approx([62.0], abs=TOL)
    assert w["violation"] == pytest.approx([0.0], abs=TOL)
    assert_mass_balance(ds)


# Two countries on one river:
#   src(AA) -> aj(AA) -> border(BB, gauge) -> bj(BB) -> sea(BB)
#                |                              |
#                +--> aa (AA demand)            +--> bb (BB demand)
def two_countries(aa_priority: int, aa_ask: float, bb_priority: int, bb_ask: float) -> str:
    return (node("src", "inflow") + node("aj", "junction") + node("border", "gauge", "BB")
            + node("bj", "junction", "BB") + node("sea", "sink", "BB")
            + dem("aa", aa_priority, [aa_ask]) + dem("bb", bb_priority, [bb_ask], country="BB")
            + reach("src", "aj") + reach("aj", "border") + reach("border", "bj") + reach("bj", "sea")
            + reach("aj", "aa", "canal") + reach("bj", "bb", "canal"))


@pytest.mark.parametrize("of, expected", [("natural_flow:border", (30.0, 25.0)),
                                          ("flow:border", (20.0, 20.0))])
def test_hard_share_cap(case, of, expected):
    """Two countries (picture above), one January; 60 mcm arrive. aa (AA, priority 1)
    asks 40, bb (BB, priority 2) asks 25. Without the clause: aa 40, bb 20.
    Hard share cap 50:50, period month:
      of = natural_flow:border: V = 60 (natural flow, known before the run), each
           country <= 30 -> aa 30; bb gets its 25 (<= 30); 5 go to the sea.
      of = flow:border (decided in the step): aa <= 0.5 * (60 - aa) -> aa <= 20;
           bb <= 0.5 * 40 = 20 -> aa 20, bb 20, 20 to the sea."""
    ds = run_case(case, two_countries(1, 40, 2, 25), {"src": [60 * JAN_M3S_PER_MCM]},
                  clause("half-half", "share", of=of, shares={"AA": 0.5, "BB": 0.5}, mode="cap"))
    assert float(supplied(ds, "aa")[0]) == pytest.approx(expected[0], abs=TOL)
    assert float(supplied(ds, "bb")[0]) == pytest.approx(expected[1], abs=TOL)
    assert windows(ds, "half-half")["violation"] == pytest.approx([0.0], abs=TOL)
    assert_mass_balance(ds)


@pytest.mark.parametrize("bb_ask, expected", [(40.0, (24.0, 36.0)), (30.0, (30.0, 30.0))])
def test_hard_share_entitlement_holds_against_an_upstream_first_priority(case, bb_ask, expected):
    """Two countries, one January; natural flow at the border 60 mcm. aa (AA, priority 1,
    upstream) asks 50; bb (BB, priority 2, downstream) asks 40 or 30. Without the clause
    aa takes 50. Hard entitlement AA 0.4 / BB 0.6 of natural_flow:border:
      bb asks 40: bb >= min(0.6 * 60, 40) = 36 -> aa 60 - 36 = 24 (>= min(24, 50))
      bb asks 30: bb >= min(36, 30) = 30 (up to its demand) -> aa 30."""
    ds = run_case(case, two_countries(1, 50, 2, bb_ask), {"src": [60 * JAN_M3S_PER_MCM]},
                  clause("entitled", "share", of="natural_flow:border", shares={"AA": 0.4, "BB": 0.6},
                         mode="entitlement"))
    assert float(supplied(ds, "aa")[0]) == pytest.approx(expected[0], abs=TOL)
    assert float(supplied(ds, "bb")[0]) == pytest.approx(expected[1], abs=TOL)
    assert windows(ds, "entitled")["violation"] == pytest.approx([0.0], abs=TOL)


@pytest.mark.parametrize("tolerance, expected", [(0.1, (33.0, 27.0)), (0.2, (36.0, 24.0))])
def test_hard_share_exact_within_tolerance(case, tolerance, expected):
    """Two countries, one January; V = natural flow at the border = 60, shares 50:50 ->
    each 30 +- tolerance * 30. aa (priority 1) asks 50, bb (priority 2) asks 40.
      tolerance 0.1: aa takes the top of its band, 33; bb the rest, 27 (= bottom of its band)
      tolerance 0.2: aa 36, bb 24."""
    ds = run_case(case, two_countries(1, 50, 2, 40), {"src": [60 * JAN_M3S_PER_MCM]},
                  clause("exact", "share", of="natural_flow:border", shares={"AA": 0.5, "BB": 0.5},
                         mode="exact", tolerance=tolerance))
    assert float(supplied(ds, "aa")[0]) == pytest.approx(expected[0], abs=TOL)
    assert float(supplied(ds, "bb")[0]) == pytest.approx(expected[1], abs=TOL)
    assert windows(ds, "exact")["violation"] == pytest.approx([0.0], abs=TOL)


@pytest.mark.parametrize("who, limit, expected_march", [
    ({"country": "AA"}, 60.0, {"aa_irr": 8.0, "aa_city": 2.0, "bb_irr": 20.0}),
    ({"country": "AA", "sector": "irrigation"}, 50.0, {"aa_irr": 10.0, "aa_city": 5.0, "bb_irr": 20.0}),
    ({"sector": "irrigation"}, 100.0, {"aa_irr": 10.0, "aa_city": 5.0, "bb_irr": 10.0}),
], ids=["country", "country+sector", "sector"])
def test_hard_max_withdrawal_is_a_cumulative_cap_over_the_window(case, who, limit, expected_march):
    """src -> j -> sea; aa_irr (AA irrigation, asks 20/month), aa_city (AA municipal, 5/month),
    bb_irr (BB irrigation, 20/month) hang off j, all priority 1; 100 mcm arrive each month.
    Hard max_withdrawal over the season January-March (months = [1, 2, 3]); April is in no
    window. January and February use the allowance in full, March gets what remains:
      AA <= 60:             25 + 25 used, 10 left for aa_irr + aa_city (asking 20 + 5):
                            equal fraction 10/25 = 40 % -> 8 and 2; bb_irr 20
      AA irrigation <= 50:  20 + 20 used, aa_irr 10; aa_city 5 and bb_irr 20 untouched
      irrigation <= 100:    40 + 40 used, 20 left for aa_irr and bb_irr -> 10 each (50 %)
    April: everybody in full again."""
    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink")
             + dem("aa_irr", 1, [20] * 4) + dem("aa_city", 1, [5] * 4, sector="municipal")
             + dem("bb_irr", 1, [20] * 4, country="BB")
             + reach("src", "j") + reach("j", "sea") + reach("j", "aa_irr", "canal")
             + reach("j", "aa_city", "canal") + reach("j", "bb_irr", "canal"))
    days = [31, 28, 31, 30]
    ds = run_case(case, basin, {"src": [m3s(100, d) for d in days]},
                  clause("icwc-limit", "max_withdrawal", period="season", months=[1, 2, 3],
                         max_mcm=limit, **who))
    full = {"aa_irr": 20.0, "aa_city": 5.0, "bb_irr": 20.0}
    for name, march in expected_march.items():
        np.testing.assert_allclose(supplied(ds, name), [full[name], full[name], march, full[name]],
                                   atol=TOL, err_msg=name)
    w = windows(ds, "icwc-limit")
    assert (w["start"], w["end"]) == (["2001-01-01"], ["2001-04-01"])
    assert w["required"] == pytest.approx([limit], abs=TOL)
    assert w["actual"] == pytest.approx([limit], abs=TOL)
    assert w["violation"] == pytest.approx([0.0], abs=TOL)


@pytest.mark.parametrize("inflow_mcm, expected", [(100.0, (30.0, 20.0, 50.0)), (40.0, (24.0, 16.0, 0.0))])
def test_hard_split_divides_the_canals_in_fixed_ratios(case, inflow_mcm, expected):
    """src -> j -> sea (river);  j --canal--> a (AA, asks 30),  j --canal--> b (BB, asks 30),
    both priority 1, one January. Hard split at j: "j->a" 0.6, "j->b" 0.4 of the two canals.
      100 mcm: a is full at 30 -> b = 30 * 0.4/0.6 = 20 (not 30, although water is left);
               50 go down the river
      40 mcm:  canals carry T <= 40: a = 0.6 T <= 24, b = 0.4 T <= 16 -> 24 and 16
               (equal fraction cannot do better for b; a then gets all the split allows)
    Without the clause both would get 30 (100 mcm) or 20 each (40 mcm)."""
    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink")
             + dem("a", 1, [30]) + dem("b", 1, [30], country="BB")
             + reach("src", "j") + reach("j", "sea") + reach("j", "a", "canal") + reach("j", "b", "canal"))
    ds = run_case(case, basin, {"src": [inflow_mcm * JAN_M3S_PER_MCM]},
                  clause("canal-split", "split", period="step", node="j", ratios={"j->a": 0.6, "j->b": 0.4}))
    a, b, sea = expected
    assert float(supplied(ds, "a")[0]) == pytest.approx(a, abs=TOL)
    assert float(supplied(ds, "b")[0]) == pytest.approx(b, abs=TOL)
    assert float(mcm(ds, "node_flow", "sea", "node")[0]) == pytest.approx(sea, abs=TOL)
    ja = float(mcm(ds, "reach_flow", "j->a", "reach")[0])
    jb = float(mcm(ds, "reach_flow", "j->b", "reach")[0])
    assert ja == pytest.approx(0.6 * (ja + jb), abs=TOL)
    assert windows(ds, "canal-split")["violation"] == pytest.approx([0.0], abs=TOL)
    assert_mass_balance(ds)


# Reservoir network:  src -> res -> j -> sea;  j --canal--> user (AA, priority 1)
def reservoir_river(monthly: list[float], initial: float = 100.0) -> str:
    return (node("src", "inflow") + reservoir(capacity=200.0, dead=0.0, initial=initial)
            + node("j", "junction") + node("sea", "sink") + dem("user", 1, monthly)
            + reach("src", "res") + reach("res", "j") + reach("j", "sea") + reach("j", "user", "canal"))


RES_DAYS = [31, 28, 31, 30]   # January to April 2001


def test_hard_release_maximum_over_a_season(case):
    """Reservoir network; 100 mcm stored, nothing flows in; user asks 20 a month.
    Hard release max 50 mcm over January-March (months = [1, 2, 3]):
      Jan 20, Feb 20 (30 left), Mar 10 (the rest of the allowance), Apr 20 (no window)
    storage 100 -> 80 -> 60 -> 50 -> 30."""
    ds = run_case(case, reservoir_river([20] * 4), {"src": [0.0] * 4},
                  clause("winter-cap", "release", period="season", months=[1, 2, 3], node="res",
                         max_mcm=50.0))
    np.testing.assert_allclose(mcm(ds, "release", "res", "reservoir") + mcm(ds, "spill", "res", "reservoir"),
                               [20, 20, 10, 20], atol=TOL)
    np.testing.assert_allclose(supplied(ds, "user"), [20, 20, 10, 20], atol=TOL)
    np.testing.assert_allclose(ds["storage"].sel(reservoir="res").values, [80, 60, 50, 30], atol=TOL)
    w = windows(ds, "winter-cap")
    assert (w["start"], w["end"]) == (["2001-01-01"], ["2001-04-01"])
    assert w["required"] == pytest.approx([50.0], abs=TOL)
    assert w["actual"] == pytest.approx([50.0], abs=TOL)
    assert w["violation"] == pytest.approx([0.0], abs=TOL)


def test_hard_release_minimum_spreads_the_remainder(case):
    """Reservoir network; 100 mcm stored, nothing flows in; user asks 30 in January only.
    Hard release min 60 mcm over January-March (31 + 28 + 31 = 90 days). The reservoir
    keeps water nobody needs unless the clause asks:
      Jan: asks 60 * 31/90 = 20.67; the user takes 30 anyway -> release 30
      Feb: (60 - 30) * 28/59 = 840/59 = 14.237288 -> to the sea
      Mar: (60 - 30 - 840/59) * 31/31 = 930/59 = 15.762712
      Apr: no window, nobody asks -> 0
    storage 100 -> 70 -> 70 - 840/59 = 55.762712 -> 40 -> 40."""
    ds = run_case(case, reservoir_river([30]), {"src": [0.0] * 4},
                  clause("summer-min", "release", period="season", months=[1, 2, 3], node="res",
                         min_mcm=60.0))
    released = mcm(ds, "release", "res", "reservoir") + mcm(ds, "spill", "res", "reservoir")
    np.testing.assert_allclose(released, [30, 840 / 59, 930 / 59, 0], atol=TOL)
    np.testing.assert_allclose(ds["storage"].sel(reservoir="res").values, [70, 70 - 840 / 59, 40, 40],
                               atol=TOL)
    np.testing.assert_allclose(supplied(ds, "user"), [30, 0, 0, 0], atol=TOL)
    w = windows(ds, "summer-min")
    assert w["required"] == pytest.approx([60.0], abs=TOL)
    assert w["actual"] == pytest.approx([60.0], abs=TOL)
    assert w["violation"] == pytest.approx([0.0], abs=TOL)
    assert_mass_balance(ds)


def test_hard_storage_minimum_binds_at_the_window_end_only(case):
    """Reservoir network; 100 mcm stored; user asks 30 a month; 20 mcm flow in in March only.
    Hard storage >= 50 at the end of the season January-March (its last step, March):
      Jan: user 30 -> 70;  Feb: user 30 -> 40 (below 50 is allowed: not the window's end)
      Mar: 40 + 20 - x >= 50 -> user gets 10 of 30 (carry-over), storage 50
      Apr: no window: user 30 -> 20."""
    ds = run_case(case, reservoir_river([30] * 4), {"src": [0.0, 0.0, m3s(20, 31), 0.0]},
                  clause("carry-over", "storage", period="season", months=[1, 2, 3], node="res",
                         min_mcm=50.0))
    np.testing.assert_allclose(supplied(ds, "user"), [30, 30, 10, 30], atol=TOL)
    np.testing.assert_allclose(ds["storage"].sel(reservoir="res").values, [70, 40, 50, 20], atol=TOL)
    w = windows(ds, "carry-over")
    assert (w["start"], w["end"]) == (["2001-01-01"], ["2001-04-01"])
    assert w["required"] == pytest.approx([50.0], abs=TOL)
    assert w["actual"] == pytest.approx([50.0], abs=TOL)
    assert w["violation"] == pytest.approx([0.0], abs=TOL)
    assert_mass_balance(ds)


def test_hard_min_volume_in_a_window_cut_by_the_start_of_the_run(case):
    """src -> j -> sea; j --canal--> irr (priority 1, asks 100 a month); 50 mcm flow in each
    month. The run covers July-September 2001 (31 + 31 + 30 = 92 days) of the water year
    2000-10-01..2001-10-01 (365 days). Hard min_volume at sea 365 mcm per water year ->
    this run owes 365 * 92/365 = 92, spread as the natural flow comes (50 each month):
      Jul: 92 * 50/150 = 30.667 -> irr 19.333;  Aug: (92 - 30.667) * 50/100 = 30.667;
      Sep: the remaining 30.667 -> irr 19.333."""
    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink")
             + dem("irr", 1, [100] * 12)
             + reach("src", "j") + reach("j", "sea") + reach("j", "irr", "canal"))
    ds = run_case(case, basin, {"src": [m3s(50, 31), m3s(50, 31), m3s(50, 30)]},
                  clause("aral", "min_volume", period="water_year", node="sea", min_mcm=365.0),
                  start="2001-07-01")
    np.testing.assert_allclose(mcm(ds, "node_flow", "sea", "node"), [92 / 3] * 3, atol=TOL)
    np.testing.assert_allclose(supplied(ds, "irr"), [50 - 92 / 3] * 3, atol=TOL)
    w = windows(ds, "aral")
    assert (w["start"], w["end"]) == (["2000-10-01"], ["2001-10-01"])
    assert w["required"] == pytest.approx([92.0], abs=TOL)
    assert w["actual"] == pytest.approx([92.0], abs=TOL)


# ============================================================================ 2. soft clauses
@pytest.mark.parametrize("clause_priority, up_priority, up_gets, border_gets", [
    (1, 1, 24.0, 16.0),    # same level: 30 f + 20 f = 40 -> f = 0.8
    (2, 1, 30.0, 10.0),    # below the demand: the demand wins
    (1, 2, 20.0, 20.0),    # above the demand: the clause wins
], ids=["same-priority", "lower-priority", "higher-priority"])
def test_soft_min_flow_competes_like_a_demand(case, clause_priority, up_priority, up_gets, border_gets):
    """src -> j -> border -> sea; j --canal--> up (AA, asks 30); one January, 40 mcm arrive.
    Soft min_flow at border of 20 mcm (20/2.6784 m3/s), period = step: its slack counts like
    a shortage with the requirement 20 as its "request".
      clause and up both priority 1: equal fraction f: 30 f + 20 f = 40 -> f = 0.8:
                                     up 24, border 16, violation 4
      clause 2 below up 1:           up 30, border 10, violation 10
      clause 1 above up 2:           border 20, up 20, violation 0."""
    ds = run_case(case, border_river(dem("up", up_priority, [30])), {"src": [40 * JAN_M3S_PER_MCM]},
                  clause("eco-flow", "min_flow", period="step", hard=False, priority=clause_priority,
                         node="border", min_m3s=20 * JAN_M3S_PER_MCM))
    assert float(supplied(ds, "up")[0]) == pytest.approx(up_gets, abs=TOL)
    assert float(mcm(ds, "node_flow", "border", "node")[0]) == pytest.approx(border_gets, abs=TOL)
    w = windows(ds, "eco-flow")
    assert w["required"] == pytest.approx([20.0], abs=TOL)
    assert w["actual"] == pytest.approx([border_gets], abs=TOL)
    assert w["violation"] == pytest.approx([20.0 - border_gets], abs=TOL)


# ============================================================================ 3. window kinds
# Inflow 1 mcm a day straight into the sea, no demand: a soft min_volume at the sea (priority 1)
# sees exactly the number of days in each window (actual), asks min_mcm scaled by the covered
# share of the window (required), and falls short by max(0, required - actual) (violation).
WINDOW_CASES = [
    # id, period keys, start, timestep, steps, min_mcm, [(start, end, covered days, window days)]
    ("step", {"period": "step"}, "2001-01-01", "month", 3, 30.0,
     [("2001-01-01", "2001-02-01", 31, 31), ("2001-02-01", "2001-03-01", 28, 28),
      ("2001-03-01", "2001-04-01", 31, 31)]),
    ("month-on-dekads", {"period": "month"}, "2001-01-01", "dekad", 6, 30.0,
     [("2001-01-01", "2001-02-01", 31, 31), ("2001-02-01", "2001-03-01", 28, 28)]),
    ("season-months", {"period": "season", "months": [4, 5, 6]}, "2001-01-01", "month", 8, 100.0,
     [("2001-04-01", "2001-07-01", 91, 91)]),
    ("season-summer", {"period": "season", "season": "summer"}, "2001-01-01", "month", 12, 100.0,
     [("2001-06-01", "2001-09-01", 92, 92)]),
    ("season-winter", {"period": "season", "season": "winter"}, "2000-11-01", "month", 14, 100.0,
     [("2000-12-01", "2001-03-01", 90, 90), ("2001-12-01", "2002-03-01", 31, 90)]),
    ("vegetation", {"period": "vegetation"}, "2000-10-01", "month", 12, 200.0,
     [("2001-04-01", "2001-10-01", 183, 183)]),
    ("non_vegetation", {"period": "non_vegetation"}, "2000-10-01", "month", 12, 200.0,
     [("2000-10-01", "2001-04-01", 182, 182)]),
    ("water_year", {"period": "water_year"}, "2000-10-01", "month", 24, 400.0,
     [("2000-10-01", "2001-10-01", 365, 365), ("2001-10-01", "2002-10-01", 365, 365)]),
    ("year", {"period": "year"}, "2001-01-01", "month", 24, 360.0,
     [("2001-01-01", "2002-01-01", 365, 365), ("2002-01-01", "2003-01-01", 365, 365)]),
    ("water_year-partial-start", {"period": "water_year"}, "2001-02-01", "month", 8, 400.0,
     [("2000-10-01", "2001-10-01", 242, 365)]),
    ("year-partial-days", {"period": "year"}, "2001-12-22", "day", 20, 730.0,
     [("2001-01-01", "2002-01-01", 10, 365), ("2002-01-01", "2003-01-01", 10, 365)]),
    ("non_vegetation-partial-dekads", {"period": "non_vegetation"}, "2001-03-21", "dekad", 3, 182.0,
     [("2000-10-01", "2001-04-01", 11, 182)]),
]


@pytest.mark.parametrize("period_keys, start, timestep, n_steps, min_mcm, expected",
                         [c[1:] for c in WINDOW_CASES], ids=[c[0] for c in WINDOW_CASES])
def test_window_kinds(case, period_keys, start, timestep, n_steps, min_mcm, expected):
    """src -> sea, 1 mcm a day, soft min_volume at sea. Worked windows (covered/window days):
      step, monthly Jan-Mar 2001: each step its own window; 31, 28, 31 vs 30 -> Feb short by 2
      month on dekads Jan-Feb: three dekads per window; 31 and 28 vs 30
      season months [4,5,6], Jan-Aug: one window Apr-Jun = 30+31+30 = 91 vs 100; Jan-Mar and
          Jul-Aug belong to no window
      season "summer" (JJA) in 2001: 30+31+31 = 92 vs 100
      season "winter" (DJF) Nov 2000-Dec 2001: Dec-Feb = 31+31+28 = 90; then Dec 2001 opens
          the next winter, cut by the end of the run: 31 of 90 days -> asks 100*31/90 = 34.44
      vegetation (Apr-Sep) 30+31+30+31+31+30 = 183; non_vegetation (Oct-Mar) 31+30+31+31+28+31 = 182
      water_year from Oct 2000, two windows of 365; year from Jan 2001, two of 365
      water_year from 2001-02-01 to Sep: Feb-Sep = 28+31+30+31+31+30+31+30 = 242 of 365 days
          -> asks 400 * 242/365 = 265.205, gets 242
      year on days 2001-12-22..2002-01-10: 10 days in each year -> asks 730*10/365 = 20, gets 10
      non_vegetation on dekads from 2001-03-21: only Mar 21-31 (11 of 182 days) is in a window
          -> asks 182*11/182 = 11, gets 11; the April dekads are in no window."""
    basin = node("src", "inflow") + node("sea", "sink") + reach("src", "sea")
    ds = run_case(case, basin, {"src": [ONE_MCM_PER_DAY] * n_steps},
                  clause("w", "min_volume", hard=False, priority=1, node="sea", min_mcm=min_mcm,
                         **period_keys),
                  start=start, timestep=timestep)
    assert ds.sizes["time"] == n_steps
    w = windows(ds, "w")
    assert w["start"] == [e[0] for e in expected]
    assert w["end"] == [e[1] for e in expected]
    required = [min_mcm * covered / length for _, _, covered, length in expected]
    actual = [float(covered) for _, _, covered, _ in expected]
    assert w["required"] == pytest.approx(required, abs=TOL)
    assert w["actual"] == pytest.approx(actual, abs=TOL)
    assert w["violation"] == pytest.approx([max(0.0, r - a) for r, a in zip(required, actual)], abs=TOL)
    assert str(ds["clause_kind"].sel(clause="w").values) == "min_volume"


# ============================================================================ 4. dekads, monthly clause
def test_monthly_cap_on_dekads_resets_each_month(case):
    """src -> j -> sea; j --canal--> irr (AA, priority 1) asks 62 in January (dekads of
    10, 10, 11 days: 20, 20, 22) and 56 in February (10, 10, 8 days: 20, 20, 16); water is
    plentiful (100 m3/s). Hard max_withdrawal AA 50 mcm per month:
      Jan: 20, 20, then 50 - 40 = 10 (asks 22)
      Feb: the window starts again: 20, 20, then 10 (asks 16)."""
    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink") + dem("irr", 1, [62, 56])
             + reach("src", "j") + reach("j", "sea") + reach("j", "irr", "canal"))
    ds = run_case(case, basin, {"src": [100.0] * 6},
                  clause("aa-monthly", "max_withdrawal", period="month", country="AA", max_mcm=50.0),
                  timestep="dekad")
    np.testing.assert_allclose(ds["requested"].sel(demand="irr").values, [20, 20, 22, 20, 20, 16], atol=TOL)
    np.testing.assert_allclose(supplied(ds, "irr"), [20, 20, 10, 20, 20, 10], atol=TOL)
    w = windows(ds, "aa-monthly")
    assert w["start"] == ["2001-01-01", "2001-02-01"]
    assert w["end"] == ["2001-02-01", "2001-03-01"]
    assert w["required"] == pytest.approx([50.0, 50.0], abs=TOL)
    assert w["actual"] == pytest.approx([50.0, 50.0], abs=TOL)
    assert w["violation"] == pytest.approx([0.0, 0.0], abs=TOL)


# ============================================================================ 5. infeasibility
# src -> res (100 mcm stored, nothing flows in) -> border (BB) -> sea (BB), one January.
#   "winter-cap"  hard release of res <= 10 mcm over the month
#   "border-flow" hard min_flow at border >= 20 mcm (20/2.6784 m3/s)
#   "carry-over"  hard storage of res >= 10 at the month's end   (innocent)
# Each of the first two alone is feasible (release 0 <= 10; release 20 -> storage 80); together
# they are not (20 must leave, 10 may). The innocent clause holds in both, so the deletion
# filter leaves it out of the conflicting set.
CONFLICT = {
    "winter-cap": clause("winter-cap", "release", node="res", max_mcm=10.0),
    "border-flow": clause("border-flow", "min_flow", period="step", node="border",
                          min_m3s=20 * JAN_M3S_PER_MCM),
    "carry-over": clause("carry-over", "storage", node="res", min_mcm=10.0),
}
CONFLICT_BASIN = (node("src", "inflow") + reservoir(capacity=200.0, dead=0.0, initial=100.0)
                  + node("border", "gauge", "BB") + node("sea", "sink", "BB")
                  + reach("src", "res") + reach("res", "border") + reach("border", "sea"))


def test_two_conflicting_hard_clauses_exit_3_and_name_only_themselves(tmp_path):
    path = write_case(tmp_path, CONFLICT_BASIN, {"src": [0.0]}, scenario_extra="".join(CONFLICT.values()))
    out = tmp_path / "out.nc"
    res = CliRunner().invoke(cli, ["run", str(path), "-o", str(out)])
    assert res.exit_code == 3, res.output
    assert "winter-cap" in res.stderr and "border-flow" in res.stderr
    assert "carry-over" not in res.stderr
    assert "Traceback" not in res.output and "Traceback" not in res.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_infeasible_error_lists_exactly_the_conflicting_clauses(tmp_path):
    path = write_case(tmp_path, CONFLICT_BASIN, {"src": [0.0]}, scenario_extra="".join(CONFLICT.values()))
    with pytest.raises(wd.InfeasibleError) as info:
        wd.run(path)
    assert sorted(info.value.clauses) == ["border-flow", "winter-cap"]


@pytest.mark.parametrize("left_out", ["winter-cap", "border-flow"])
def test_each_conflicting_clause_alone_is_feasible(case, left_out):
    """The premise of the two tests above: without either one the run goes through.
    Without winter-cap: 20 released, storage 80. Without border-flow: nothing released."""
    extra = "".join(text for cid, text in CONFLICT.items() if cid != left_out)
    ds = case(CONFLICT_BASIN, {"src": [0.0]}, scenario_extra=extra)
    expected_storage = 80.0 if left_out == "winter-cap" else 100.0
    assert float(ds["storage"].values[0, 0]) == pytest.approx(expected_storage, abs=TOL)


# ============================================================================ 6. result variables
def test_clause_results_match_the_flows_they_account(case, rng, tmp_path):
    """Random inflows and requests over 2001 (monthly), seven soft clauses of five kinds:
    src(AA) -> res(AA) -> j(AA) -> border(BB) -> k(BB) -> sea(BB);
    j --> aa_irr (AA irrigation, p1), aa_city (AA municipal, p2);  k --> bb_irr (BB irrigation, p2).
    Whatever the allocation does, each clause's actual must equal the independent sum over
    its window of the result's own variables, and violation = max(0, required - actual) for
    minimums, max(0, actual - required) for caps; dims (window, clause), units mcm."""
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], float)
    inflow_mcm = rng.uniform(10, 80, 12)
    basin = (node("src", "inflow") + reservoir(capacity=500.0, dead=20.0, initial=200.0)
             + node("j", "junction") + node("border", "gauge", "BB") + node("k", "junction", "BB")
             + node("sea", "sink", "BB")
             + dem("aa_irr", 1, list(rng.uniform(5, 40, 12)))
             + dem("aa_city", 2, list(rng.uniform(2, 10, 12)), sector="municipal")
             + dem("bb_irr", 2, list(rng.uniform(5, 40, 12)), country="BB")
             + reach("src", "res") + reach("res", "j") + reach("j", "border") + reach("border", "k")
             + reach("k", "sea") + reach("j", "aa_irr", "canal") + reach("j", "aa_city", "canal")
             + reach("k", "bb_irr", "canal"))
    min_m3s = list(rng.uniform(1, 8, 12))
    clauses = (clause("aa-cap", "max_withdrawal", hard=False, priority=1, country="AA", max_mcm=30.0)
               + clause("irr-cap", "max_withdrawal", period="vegetation", hard=False, priority=2,
                        sector="irrigation", max_mcm=200.0)
               + clause("aral", "min_volume", period="season", months=[7, 8, 9], hard=False, priority=2,
                        node="sea", min_mcm=120.0)
               + clause("border-flow", "min_flow", hard=False, priority=1, node="border", min_m3s=min_m3s)
               + clause("res-min", "release", period="year", hard=False, priority=3, node="res",
                        min_mcm=250.0)
               + clause("summer-cap", "release", period="season", season="summer", hard=False,
                        priority=2, node="res", max_mcm=100.0)
               + clause("carry-over", "storage", hard=False, priority=3, node="res", min_mcm=150.0))
    out = tmp_path / "clauses.nc"
    path = case(basin, {"src": list(inflow_mcm / (days * DAY_MCM))}, run=False, scenario_extra=clauses)
    ds = wd.run(path, output=out)
    back = wd.open_result(out)
    for name in ("clause_required", "clause_actual", "clause_violation"):
        for d in (ds, back):
            assert d[name].dims == ("window", "clause"), name
            assert d[name].attrs["units"] == "mcm", name
        values = ds[name].values
        assert np.all(np.isnan(values) == np.isnat(ds["window_start"].values)), name
        np.testing.assert_allclose(back[name].values, values, equal_nan=True)
    assert np.all(ds["clause_violation"].values[~np.isnan(ds["clause_violation"].values)] >= 0.0)
    assert list(ds["clause"].values) == ["aa-cap", "irr-cap", "aral", "border-flow", "res-min",
                                         "summer-cap", "carry-over"]
    assert list(ds["clause_kind"].values) == ["max_withdrawal", "max_withdrawal", "min_volume", "min_flow",
                                              "release", "release", "storage"]
    assert not any(bool(v) for v in ds["clause_hard"].values)
    assert [int(p) for p in ds["clause_priority"].values] == [1, 2, 2, 1, 3, 2, 3]

    time = ds["time"].values
    dl = step_days(ds) * DAY_MCM
    sup = ds["supplied"]
    aa = (ds["demand_country"] == "AA").values
    irr = (ds["demand_sector"] == "irrigation").values
    per_step = {
        "aa-cap": sup.values[:, aa].sum(axis=1),
        "irr-cap": sup.values[:, irr].sum(axis=1),
        "aral": ds["node_flow"].sel(node="sea").values * dl,
        "border-flow": ds["node_flow"].sel(node="border").values * dl,
        "res-min": (ds["release"] + ds["spill"]).sel(reservoir="res").values * dl,
        "summer-cap": (ds["release"] + ds["spill"]).sel(reservoir="res").values * dl,
    }
    n_windows = {"aa-cap": 12, "irr-cap": 1, "aral": 1, "border-flow": 12, "res-min": 1,
                 "summer-cap": 1, "carry-over": 12}
    caps = {"aa-cap", "irr-cap", "summer-cap"}
    for cid, n in n_windows.items():
        w = windows(ds, cid)
        assert len(w["start"]) == n, cid
        for i in range(n):
            inside = (time >= np.datetime64(w["start"][i])) & (time < np.datetime64(w["end"][i]))
            assert inside.any(), (cid, i)
            if cid == "carry-over":
                actual = float(ds["storage"].sel(reservoir="res").values[np.flatnonzero(inside)[-1]])
            else:
                actual = float(per_step[cid][inside].sum())
            assert w["actual"][i] == pytest.approx(actual, abs=TOL), (cid, i)
            if cid == "border-flow":
                asked = min_m3s[i] * dl[inside]
                assert w["required"][i] == pytest.approx(float(asked.sum()), abs=TOL)
                short = np.maximum(0.0, asked - per_step[cid][inside]).sum()
                assert w["violation"][i] == pytest.approx(float(short), abs=TOL), (cid, i)
                continue
            gap = actual - w["required"][i] if cid in caps else w["required"][i] - actual
            assert w["violation"][i] == pytest.approx(max(0.0, gap), abs=TOL), (cid, i)
    assert windows(ds, "aral")["required"] == pytest.approx([120.0], abs=TOL)
    assert windows(ds, "carry-over")["required"] == pytest.approx([150.0] * 12, abs=TOL)
    irr_window = windows(ds, "irr-cap")
    assert (irr_window["start"], irr_window["end"]) == (["2001-04-01"], ["2001-10-01"])
    assert_mass_balance(ds)


# ============================================================================ 7. routing lags
def test_hard_min_flow_below_a_lagged_reach(case):
    """src -> j ==lag 10 days==> border -> sea; j --canal--> up (AA, priority 1, asks far more
    than arrives). 50 m3/s flow in, January-April 2001 (31, 28, 31, 30 days). Hard min_flow at
    border [5, 10, 5, 5, ...] m3/s per month. With a lag of L = 10 days, the border sees in
    step t (d days) the last 10 days of the previous entry and the first d - 10 of this one:
    border_t = (10 e_{t-1} + (d - 10) e_t) / d; the first step starts from steady state
    (border_0 = e_0). Up takes all the rest, so each step sends just enough:
      Jan: e = 5
      Feb: (10*5 + 18 e)/28 = 10 -> e = 230/18 = 115/9 = 12.777778
      Mar: (10*115/9 + 21 e)/31 = 5 -> e = 35/27 = 1.296296
      Apr: (10*35/27 + 20 e)/30 = 5 -> e = 185/27 = 6.851852
    up gets (50 - e) * d * 0.0864; the border carries exactly the minimum every step."""
    days = np.array(RES_DAYS, float)
    basin = (node("src", "inflow") + node("j", "junction") + node("border", "gauge", "BB")
             + node("sea", "sink", "BB") + dem("up", 1, [1000] * 4)
             + reach("src", "j") + reach("j", "border", routing='"lag"', k_days=10.0)
             + reach("border", "sea") + reach("j", "up", "canal"))
    ds = run_case(case, basin, {"src": [50.0] * 4},
                  clause("border-flow", "min_flow", period="step", node="border",
                         min_m3s=[5.0, 10.0, 5.0, 5.0] + [0.0] * 8))
    entry = np.array([5.0, 115 / 9, 35 / 27, 185 / 27])
    np.testing.assert_allclose(ds["reach_flow"].sel(reach="j->border").values, entry, atol=TOL)
    np.testing.assert_allclose(ds["node_flow"].sel(node="border").values, [5, 10, 5, 5], atol=TOL)
    np.testing.assert_allclose(supplied(ds, "up"), (50 - entry) * days * DAY_MCM, atol=TOL)
    assert windows(ds, "border-flow")["violation"] == pytest.approx([0.0] * 4, abs=TOL)
    assert_mass_balance(ds)


def test_hard_min_flow_below_a_muskingum_reach(case):
    """As above with a Muskingum reach (K = 2 days, x = 0.2, sub-stepped on months) and
    minimums [5, 20, 3, 8, 5, 5] m3/s. Every step the border carries at least the minimum;
    where it carries more, it is water already travelling (the entry is then zero, because
    up takes all it may)."""
    mins = [5.0, 20.0, 3.0, 8.0, 5.0, 5.0]
    basin = (node("src", "inflow") + node("j", "junction") + node("border", "gauge", "BB")
             + node("sea", "sink", "BB") + dem("up", 1, [1000] * 6)
             + reach("src", "j") + reach("j", "border", routing='"muskingum"', k_days=2.0, x=0.2)
             + reach("border", "sea") + reach("j", "up", "canal"))
    ds = run_case(case, basin, {"src": [50.0] * 6},
                  clause("border-flow", "min_flow", period="step", node="border", min_m3s=mins + [0.0] * 6))
    border = ds["node_flow"].sel(node="border").values
    entry = ds["reach_flow"].sel(reach="j->border").values
    assert np.all(border >= np.array(mins) - TOL)
    assert np.all((np.abs(border - np.array(mins)) <= TOL) | (entry <= TOL))
    assert windows(ds, "border-flow")["violation"] == pytest.approx([0.0] * 6, abs=TOL)
    assert_mass_balance(ds)
