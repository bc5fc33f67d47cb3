"""`waterdesk ledger` and `waterdesk compare`: exit codes, and text/CSV/JSON that parse back
to the numbers of the Python API (which tests/analysis checks against the result variables)."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import waterdesk as wd
from tests.analysis.test_compare import chu_files, toy_file  # noqa: F401  (fixtures)
from waterdesk.analysis import accounts, compare as api_compare
from waterdesk.cli.compare import compare
from waterdesk.cli.ledger import ledger
from waterdesk.cli.main import cli as main_cli

# the waterdesk group (options, exit codes) with the two commands added, without touching it
cli = type(main_cli)(name="waterdesk", params=main_cli.params, callback=main_cli.callback,
                     commands={**main_cli.commands, "ledger": ledger, "compare": compare},
                     context_settings=main_cli.context_settings)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_ledger_text_has_every_table_with_units(chu_files):
    res = invoke("ledger", chu_files[1])
    assert res.exit_code == 0, res.output
    for head in ("KG (mcm)", "KZ (mcm)", "entitlement", "delivered", "deviation", "balance",
                 "worst violation (mcm)", "met (%)", "Jain's index", "end storage (mcm)", "energy (GWh)"):
        assert head in res.stdout
    assert "docs/" not in res.stdout                  # footnotes are self-contained
    ds = wd.open_result(chu_files[1])
    kg = float(ds["withdrawal_by_country"].sel(country="KG").isel(time=slice(0, 12)).sum())
    assert f"{kg:,.1f}" in res.stdout


def test_ledger_csv_parses_back_to_the_same_numbers(chu_files):
    res = invoke("ledger", chu_files[1], "--format", "csv", "--units", "km3")
    assert res.exit_code == 0, res.output
    header, *body = list(csv.reader(io.StringIO(res.stdout)))
    assert header == ["country", "water year", "entitlement (km3)", "delivered (km3)", "deviation (km3)",
                      "balance (km3)"]
    expected = accounts.ledger(wd.open_result(chu_files[1]), "km3")["parties"].rows
    assert len(body) == len(expected) == 4
    for got, want in zip(body, expected):
        assert got[:2] == [want[0], str(want[1])]
        assert [float(x) for x in got[2:]] == pytest.approx(want[2:], abs=1e-12)


def test_ledger_csv_of_one_other_table_and_csv_of_all_is_a_usage_error(chu_files):
    res = invoke("ledger", chu_files[1], "--format", "csv", "--table", "clauses")
    assert res.exit_code == 0
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0][:3] == ["clause", "kind", "type"] and len(rows) == 1 + 9
    res = invoke("ledger", chu_files[1], "--format", "csv", "--table", "all")
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_ledger_json_has_explicit_keys_and_units(chu_files):
    res = invoke("ledger", chu_files[0], "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["units"] == {"volume": "mcm", "energy": "GWh"}
    assert set(doc["tables"]) == {"parties", "clauses", "demand_met", "equity", "reservoirs"}
    ds = wd.open_result(chu_files[0])
    want = accounts.outcomes(ds)["reservoirs"].records()
    assert doc["tables"]["reservoirs"]["rows"] == want
    units = {c["key"]: c["unit"] for c in doc["tables"]["parties"]["columns"]}
    assert units["delivered_mcm"] == "mcm"


def test_ledger_of_a_non_result_exits_2_with_one_line(tmp_path):
    plain = tmp_path / "plain.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(plain)
    res = invoke("ledger", plain)
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        f"{plain}: not a waterdesk result (no waterdesk_version attribute) nor a batch summary (no run dimension)"]
    assert "Traceback" not in res.output


def test_compare_csv_and_json_parse_back(chu_files):
    table = api_compare(chu_files, by="country")
    res = invoke("compare", *chu_files, "--by", "country", "--format", "csv")
    assert res.exit_code == 0, res.output
    header, *body = list(csv.reader(io.StringIO(res.stdout)))
    assert header[2:5] == ["requested (mcm) baseline", "requested (mcm) agreement-2000",
                           "requested (mcm) agreement-2000-baseline"]
    for got, want in zip(body, table.rows):
        assert [float(x) for x in got[2:]] == pytest.approx(want[2:], abs=1e-12)
    res = invoke("compare", *chu_files, "--by", "country", "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["tables"]["compare_country"]["rows"] == table.records()


def test_compare_text_by_clause_and_reservoir(chu_files):
    res = invoke("compare", *chu_files, "--by", "clause")
    assert res.exit_code == 0, res.output
    # results are columns A, B named in a legend; differences are B−A (issue 15)
    assert "A = baseline" in res.stdout and "B = agreement-2000" in res.stdout
    assert "status" in res.stdout and "met 12/12" in res.stdout
    res = invoke("compare", *chu_files, "--by", "reservoir", "--units", "km3")
    assert "end storage (km3)" in res.stdout and "B\u2212A" in res.stdout and "energy (GWh)" in res.stdout


def test_compare_writes_the_differences_atomically(chu_files, tmp_path):
    out = tmp_path / "diff.nc"
    res = invoke("compare", *chu_files, "--by", "demand", "-o", out)
    assert res.exit_code == 0, res.output
    assert out.exists() and not list(tmp_path.glob("*.part"))
    table = api_compare(chu_files, by="demand")
    with xr.open_dataset(out) as ds:
        for r in table.records():
            cell = dict(demand=r["demand"], water_year=r["water_year"], result="agreement-2000")
            assert float(ds["supplied_difference"].sel(**cell)) == pytest.approx(
                r["supplied_mcm:agreement-2000-baseline"])


def test_compare_refuses_mismatched_files_with_exit_2(chu_files, toy_file, tmp_path):
    out = tmp_path / "diff.nc"
    res = invoke("compare", chu_files[0], toy_file, "-o", out)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{toy_file}: basin 'toy'") and "--force" in lines[0]
    assert "Traceback" not in res.output and not out.exists()
    res = invoke("compare", chu_files[0], toy_file, "--force")
    assert res.exit_code == 0 and "AA" in res.stdout

    text = tmp_path / "a.nc"
    text.write_text("hello")
    res = invoke("compare", chu_files[0], text, tmp_path / "missing.nc")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{text}: not a readable NetCDF file")
    assert lines[1] == f"{tmp_path / 'missing.nc'}: file not found"
    assert "Traceback" not in res.output


def test_compare_usage_errors_exit_2(chu_files):
    res = invoke("compare", chu_files[0])
    assert res.exit_code == 2 and "at least two" in res.stderr
    res = invoke("compare", *chu_files, "--by", "river")
    assert res.exit_code == 2 and "Traceback" not in res.output
