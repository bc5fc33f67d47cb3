"""Inflow files: NetCDF and CSV read the same; bad files give problems, not tracebacks."""
from __future__ import annotations

import numpy as np
import xarray as xr

from waterdesk.io.inflows import read_inflows


def _write_both(tmp_path, values):
    time = np.array(["2001-01-01", "2001-02-01", "2001-03-01"], dtype="datetime64[ns]")
    da = xr.DataArray(values, dims=("time", "node"), coords={"time": time, "node": ["a", "b"]},
                      attrs={"units": "m3 s-1"})
    nc = tmp_path / "in.nc"
    da.to_dataset(name="inflow").to_netcdf(nc)
    csv = tmp_path / "in.csv"
    rows = ["time,a,b"] + [f"{str(t)[:10]},{v[0]},{v[1]}" for t, v in zip(time, values)]
    csv.write_text("\n".join(rows) + "\n")
    return nc, csv


def test_netcdf_and_csv_give_the_same_data(tmp_path):
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    nc, csv = _write_both(tmp_path, values)
    a, pa = read_inflows(nc)
    b, pb = read_inflows(csv)
    assert pa == [] and pb == []
    assert a.node == b.node == ("a", "b")
    np.testing.assert_array_equal(a.values_m3s, b.values_m3s)
    np.testing.assert_array_equal(a.end, b.end)
    assert str(a.end[-1]) == "2001-04-01"   # a monthly series' last period is its month


def test_negative_and_missing_values_are_problems(tmp_path):
    values = np.array([[1.0, -2.0], [np.nan, 4.0], [5.0, 6.0]])
    nc, _ = _write_both(tmp_path, values)
    data, problems = read_inflows(nc)
    assert data is None
    assert [p.where for p in problems] == ["inflow[a]", "inflow[b]"]
    assert "missing value at 2001-02-01" in problems[0].message
    assert "negative inflow -2.0 m3 s-1 at 2001-01-01" in problems[1].message


def test_wrong_units_are_a_problem(tmp_path):
    time = np.array(["2001-01-01", "2001-02-01"], dtype="datetime64[ns]")
    da = xr.DataArray([[1.0], [2.0]], dims=("time", "node"), coords={"time": time, "node": ["a"]},
                      attrs={"units": "l s-1"})
    path = tmp_path / "x.nc"
    da.to_dataset(name="inflow").to_netcdf(path)
    data, problems = read_inflows(path)
    assert data is None and problems[0].message == "must be 'm3 s-1', got 'l s-1'"
