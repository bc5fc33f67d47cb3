"""`demands = [...]` limits a share or max_withdrawal clause to some of a country's demands."""
from __future__ import annotations

import pytest

from waterdesk.testing import demand, inflow, node, reach


def basin() -> str:
    """src -> j -> sea; AA demands a (main stem) and b (a side offtake) ask 20 each."""
    return (node("src", "inflow") + node("j", "junction") + node("sea", "sink")
            + demand("a", 1, 20) + demand("b", 1, 20)
            + reach("src", "j") + reach("j", "sea") + reach("j", "a", "canal") + reach("j", "b", "canal"))


@pytest.mark.parametrize("only, a_gets, b_gets", [('["a"]', 10.0, 20.0), (None, 5.0, 5.0)])
def test_a_cap_counts_only_the_listed_demands(case, only, a_gets, b_gets):
    """A hard cap of 10 mcm on AA's withdrawals in January. Over demand a only: a gets
    10 and b, outside the limit, its 20. Over all of AA: 10 shared by equal fraction."""
    scope = f"\ndemands = {only}" if only else ""
    ds = case(basin(), {"src": inflow(100)}, scenario_extra=f"""
[[clause]]
id = "cap"
kind = "max_withdrawal"
country = "AA"
max_mcm = 10.0
period = "month"
hard = true{scope}
""")
    assert float(ds["supplied"].sel(demand="a")[0]) == pytest.approx(a_gets, abs=1e-6)
    assert float(ds["supplied"].sel(demand="b")[0]) == pytest.approx(b_gets, abs=1e-6)
    assert float(ds["clause_actual"].sel(clause="cap")[0]) == pytest.approx(10.0, abs=1e-6)


def test_an_unknown_demand_in_the_scope_is_a_problem(case):
    path = case(basin(), {"src": inflow(100)}, run=False, scenario_extra="""
[[clause]]
id = "cap"
kind = "max_withdrawal"
country = "AA"
max_mcm = 10.0
demands = ["aa"]
hard = true
""")
    import waterdesk as wd

    with pytest.raises(wd.InputError, match=r"clause \"cap\".demands: 'aa' is not a demand of the basin; did you mean 'a'\?"):
        wd.load_scenario(path)
