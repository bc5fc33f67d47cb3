"""Strict priorities and equal-fraction sharing on tiny networks with hand answers.

All cases run one January (31 days); inflows are given in mcm over the month
and converted to m3 s-1, so every expected number below is worked by hand.
"""
from __future__ import annotations

import numpy as np
import pytest

from waterdesk.testing import JAN_M3S_PER_MCM, assert_mass_balance, demand, inflow, node, reach


def supplied(ds, dem: str) -> float:
    return float(ds["supplied"].sel(demand=dem).values[0])


@pytest.mark.parametrize("high_downstream", [True, False])
def test_higher_priority_is_served_first_wherever_it_sits(case, high_downstream):
    """src -> j1 -> j2 -> sea; one demand hangs off each junction.
    30 mcm arrive; priority 1 asks 20, priority 2 asks 20 -> 20 and 10."""
    first, second = ("low", "high") if high_downstream else ("high", "low")
    basin = (node("src", "inflow") + node("j1", "junction") + node("j2", "junction") + node("sea", "sink")
             + demand("high", 1, 20) + demand("low", 2, 20)
             + reach("src", "j1") + reach("j1", "j2") + reach("j2", "sea")
             + reach("j1", first, "canal") + reach("j2", second, "canal"))
    ds = case(basin, {"src": inflow(30)})
    assert supplied(ds, "high") == pytest.approx(20.0, abs=1e-6)
    assert supplied(ds, "low") == pytest.approx(10.0, abs=1e-6)
    assert_mass_balance(ds)


def test_one_priority_shares_by_equal_fraction(case):
    """src -> j -> sea; a asks 20, b asks 40, same priority; 30 mcm -> 50 % each."""
    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink")
             + demand("a", 1, 20) + demand("b", 1, 40)
             + reach("src", "j") + reach("j", "sea") + reach("j", "a", "canal") + reach("j", "b", "canal"))
    ds = case(basin, {"src": inflow(30)})
    assert supplied(ds, "a") == pytest.approx(10.0, abs=1e-6)
    assert supplied(ds, "b") == pytest.approx(20.0, abs=1e-6)


def test_equal_fraction_where_the_network_allows(case):
    """a's canal carries at most 4 mcm in January; a, b, c each ask 20 at one
    priority; 30 mcm arrive. a is held to 4 (20 %) by its canal; b and c share
    the remaining 26 equally: 13 each (65 %) - not 30/3 = 10 each, and not an
    arbitrary split of the 26."""
    cap_m3s = 4 * JAN_M3S_PER_MCM
    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink")
             + demand("a", 1, 20) + demand("b", 1, 20) + demand("c", 1, 20)
             + reach("src", "j") + reach("j", "sea")
             + reach("j", "a", "canal", max_flow_m3s=cap_m3s)
             + reach("j", "b", "canal") + reach("j", "c", "canal"))
    ds = case(basin, {"src": inflow(30)})
    assert supplied(ds, "a") == pytest.approx(4.0, abs=1e-6)
    assert supplied(ds, "b") == pytest.approx(13.0, abs=1e-6)
    assert supplied(ds, "c") == pytest.approx(13.0, abs=1e-6)


def test_two_pools_each_share_equally(case):
    """Two separate rivers, one priority: river 1 (10 mcm) feeds a1, a2 asking
    10 and 30; river 2 (40 mcm) feeds b asking 20. a1, a2 get 25 % each
    (2.5, 7.5); b, with water of its own, is fully served."""
    basin = (node("s1", "inflow") + node("j1", "junction") + node("sea1", "sink")
             + node("s2", "inflow") + node("j2", "junction") + node("sea2", "sink")
             + demand("a1", 1, 10) + demand("a2", 1, 30) + demand("b", 1, 20)
             + reach("s1", "j1") + reach("j1", "sea1") + reach("j1", "a1", "canal") + reach("j1", "a2", "canal")
             + reach("s2", "j2") + reach("j2", "sea2") + reach("j2", "b", "canal"))
    ds = case(basin, {"s1": inflow(10), "s2": inflow(40)})
    assert supplied(ds, "a1") == pytest.approx(2.5, abs=1e-6)
    assert supplied(ds, "a2") == pytest.approx(7.5, abs=1e-6)
    assert supplied(ds, "b") == pytest.approx(20.0, abs=1e-6)


def test_priority_holds_across_a_lossy_reach(case):
    """low (priority 2) takes upstream; high (priority 1, asks 10) is below a
    reach losing 50 %: 20 must leave j1 for high to get 10, so low gets 30-20."""
    basin = (node("src", "inflow") + node("j1", "junction") + node("j2", "junction") + node("sea", "sink")
             + demand("low", 2, 20) + demand("high", 1, 10)
             + reach("src", "j1") + reach("j1", "j2", loss_fraction=0.5) + reach("j2", "sea")
             + reach("j1", "low", "canal") + reach("j2", "high", "canal"))
    ds = case(basin, {"src": inflow(30)})
    assert supplied(ds, "high") == pytest.approx(10.0, abs=1e-6)
    assert supplied(ds, "low") == pytest.approx(10.0, abs=1e-6)
    assert_mass_balance(ds)


def test_return_flow_serves_a_downstream_demand(case):
    """up (priority 1, asks 20, consumes 50 %) returns 10 to j2; down (priority 2,
    asks 15) below gets the 5 left in the river plus the 10 returned = 15."""
    basin = (node("src", "inflow") + node("j1", "junction") + node("j2", "junction") + node("sea", "sink")
             + demand("up", 1, 20, consumptive=0.5, return_to="j2") + demand("down", 2, 15)
             + reach("src", "j1") + reach("j1", "j2") + reach("j2", "sea")
             + reach("j1", "up", "canal") + reach("j2", "down", "canal"))
    ds = case(basin, {"src": inflow(25)})
    assert supplied(ds, "up") == pytest.approx(20.0, abs=1e-6)
    assert supplied(ds, "down") == pytest.approx(15.0, abs=1e-6)
    assert_mass_balance(ds)


def test_lower_priority_never_takes_what_a_higher_one_could_have(case, rng):
    """Random requests and inflow on a three-level comb: each level gets
    min(request, what is left after the levels above) - the greedy answer."""
    for _ in range(5):
        req = rng.uniform(1, 30, 3)
        water = float(rng.uniform(5, 70))
        basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink")
                 + demand("p1", 1, req[0]) + demand("p2", 2, req[1]) + demand("p3", 3, req[2])
                 + reach("src", "j") + reach("j", "sea")
                 + reach("j", "p3", "canal") + reach("j", "p2", "canal") + reach("j", "p1", "canal"))
        ds = case(basin, {"src": inflow(water)})
        left = water
        for name, r in zip(("p1", "p2", "p3"), req):
            expected = min(r, left)
            assert supplied(ds, name) == pytest.approx(expected, abs=1e-6)
            left -= expected
        np.testing.assert_allclose(ds["shortage"].values, ds["requested"].values - ds["supplied"].values)
