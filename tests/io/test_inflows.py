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


# ------------------------------------------------------------ inflow files checked as data

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from waterdesk.cli.main import cli  # noqa: E402
from waterdesk.io.inflows import inflow_dataset, write_inflows  # noqa: E402

SUPPORT = Path(__file__).resolve().parents[1] / "data" / "invalid" / "support"
MONTHS = np.array([f"{y}-{m:02d}-01" for y in (2000, 2001) for m in range(1, 13)], dtype="datetime64[D]")


def _inflow_file(folder: Path, kind: str, suffix: str) -> Path:
    """The 24 months of mini.basin.toml's inflow node 'up', with one month missing
    (kind 'gap') or with a column for a node the basin does not have ('extra')."""
    times, flows, nodes = MONTHS, np.arange(11.0, 35.0)[:, None], ["up"]
    if kind == "gap":
        times, flows = np.delete(times, 5), np.delete(flows, 5, axis=0)      # no 2000-06-01
    else:
        flows, nodes = np.hstack([flows, flows]), ["up", "upp"]
    path = folder / f"in.{suffix}"
    if suffix == "nc":
        write_inflows(inflow_dataset(flows, times.astype("datetime64[ns]"), nodes), path)
    else:
        rows = ["time," + ",".join(nodes)] + [f"{t}," + ",".join(f"{v:g}" for v in row)
                                               for t, row in zip(times, flows)]
        path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("suffix", ["csv", "nc"])
@pytest.mark.parametrize("kind, expected", [
    ("gap", "time: gap in the monthly series: 1 period(s) missing: 2000-06-01"),
    ("extra", "inflow[upp]: {entry} 'upp' matches no inflow node of the basin "
              "(its water would be ignored); did you mean 'up'?"),
])
def test_gap_or_extra_column_is_refused_by_run(tmp_path: Path, suffix: str, kind: str, expected: str) -> None:
    """An inflow file with a missing month or an unknown column is refused by `run` (exit 2,
    one line naming the file and, for CSV, the line) and nothing is written -- before, a
    missing month silently took the previous month's flow and an extra column was ignored."""
    for name in ("mini.basin.toml", "mini.inflows.csv"):
        shutil.copy(SUPPORT / name, tmp_path / name)
    inflows = _inflow_file(tmp_path, kind, suffix)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[scenario]\nname = "s"\nbasin = "mini.basin.toml"\nstart = "2000-01-01"\n'
                        f'end = "2001-12-31"\n\n[inflows]\nfile = "{inflows.name}"\n')
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(cli, ["run", str(scenario), "-o", str(out / "r.nc")])
    assert result.exit_code == 2, result.output
    line = {("gap", "csv"): ":7", ("extra", "csv"): ":1"}.get((kind, suffix), "")
    entry = "column" if suffix == "csv" else "node entry"
    assert result.output.strip() == f"{inflows}{line}: " + expected.format(entry=entry)
    assert list(out.iterdir()) == []
