"""Time steps: days, dekads (1-10, 11-20, 21-end), months; demand and inflow per step."""
from __future__ import annotations

import numpy as np
import pytest

from waterdesk.calendar import make_steps, water_year


def test_dekads_of_a_leap_february():
    s = make_steps("2004-02-01", "2004-02-29", "dekad")
    assert [str(d) for d in s.start] == ["2004-02-01", "2004-02-11", "2004-02-21"]
    assert s.days.tolist() == [10.0, 10.0, 9.0]


def test_a_year_has_36_dekads_and_12_months_of_365_days():
    dek = make_steps("2001-01-01", "2001-12-31", "dekad")
    mon = make_steps("2001-01-01", "2001-12-31", "month")
    assert len(dek) == 36 and dek.days.sum() == 365
    assert len(mon) == 12 and mon.days.tolist()[:3] == [31.0, 28.0, 31.0]


def test_water_year_starts_in_october():
    days = np.array(["2000-09-30", "2000-10-01", "2001-09-01"], dtype="datetime64[D]")
    assert water_year(days).tolist() == [2000, 2001, 2001]


def test_monthly_request_splits_by_days_over_dekads(case):
    """A demand asking 31 mcm in January asks 10, 10 and 11 over its dekads;
    monthly inflow data are spread as constant flow over the month."""
    basin = """
[[node]]
id = "src"
kind = "inflow"
country = "AA"
[[node]]
id = "sea"
kind = "sink"
country = "AA"
[[node]]
id = "d"
kind = "demand"
country = "AA"
sector = "municipal"
priority = 1
monthly_mcm = [31.0, 28.0, 31.0, 30.0, 31.0, 30.0, 31.0, 31.0, 30.0, 31.0, 30.0, 31.0]
[[reach]]
from = "src"
to = "sea"
[[reach]]
from = "src"
to = "d"
kind = "canal"
"""
    ds = case(basin, {"src": [100.0, 100.0, 100.0]}, timestep="dekad")
    np.testing.assert_allclose(ds["requested"].values[:, 0], [10.0, 10.0, 11.0])
    np.testing.assert_allclose(ds["supplied"].values[:, 0], [10.0, 10.0, 11.0], atol=1e-6)


def test_monthly_inflow_data_on_daily_steps_and_back():
    from waterdesk.model.scenario import InflowData

    start = np.array(["2001-01-01", "2001-02-01"], dtype="datetime64[D]")
    end = np.array(["2001-02-01", "2001-03-01"], dtype="datetime64[D]")
    data = InflowData(("a",), start, end, np.array([[10.0], [40.0]]))
    days = make_steps("2001-01-30", "2001-02-02", "day")
    np.testing.assert_allclose(data.on_steps(days, ["a"])[:, 0], [10, 10, 40, 40])
    months = make_steps("2001-01-01", "2001-02-01", "month")
    np.testing.assert_allclose(data.on_steps(months, ["a"])[:, 0], [10, 40])
    # a dekad straddling nothing, and a time-weighted mean across the month edge
    daily = InflowData(("a",), make_steps("2001-01-01", "2001-02-28", "day").start,
                       make_steps("2001-01-01", "2001-02-28", "day").end,
                       np.arange(59, dtype=float)[:, None])
    dek = make_steps("2001-01-21", "2001-01-21", "dekad")
    assert data.on_steps(dek, ["a"])[0, 0] == pytest.approx(10.0)
    assert daily.on_steps(dek, ["a"])[0, 0] == pytest.approx(np.mean(np.arange(20, 31)))
