"""Probability of compliance of a batch summary in `waterdesk ledger` and `waterdesk report`
(waterdesk.analysis.ensemble), checked against an independent recomputation from the
per-run result files."""
from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import waterdesk as wd
from waterdesk import open_result_or_summary
from waterdesk.analysis.ensemble import ensemble_tables
from waterdesk.batch import Sweep, run_sweep
from waterdesk.calendar import water_year
from waterdesk.cli.main import cli
from tests.analysis.test_report import _Page
from tests.test_batch import FLOOR, _scenario

TOL = 1e-6
SCALES = [-1.0, 0.35, 1.0]     # -1: every member invalid; 0.35: shortages in some members
MEMBERS = 3
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ensemble")
    sweep = Sweep(_scenario(tmp), vary={"inflows.scale": SCALES, f"clause.{FLOOR}.min_m3s": [13.0]},
                  members=MEMBERS, seed=5)
    run_sweep(sweep, tmp / "out")
    return tmp / "out"


def invoke(*args: object) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _expected(out: Path) -> tuple[dict, dict, dict]:
    """From the run files alone: (combination, clause, window) -> %, (combination, country,
    water year) -> %, combination -> {status: count}."""
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    window: dict[tuple[str, str, int], float] = {}
    supply: dict[tuple[str, str, int], float] = {}
    status: dict[str, dict[str, int]] = {}
    for c, scale in enumerate(SCALES):
        cid = f"c{c:04d}"
        ids = [rid for rid, o in sorted(runs.items()) if o["inflows.scale"] == scale]
        assert len(ids) == MEMBERS
        files = [out / f"{rid}.nc" for rid in ids]
        ok = [wd.open_result(f) for f in files if f.exists()]
        status[cid] = {"ok": len(ok), "invalid": sum((out / f"{rid}.failed.json").exists() for rid in ids)}
        if not ok:
            continue
        held = np.array([ds["clause_violation"].sel(clause=FLOOR).values <= TOL for ds in ok], dtype=float)
        for w in range(held.shape[1]):
            window[(cid, FLOOR, w)] = 100.0 * held[:, w].mean()
        for country in [str(k) for k in ok[0]["country"].values]:
            years = water_year(ok[0]["time"].values.astype("datetime64[D]"))
            for year in np.unique(years):
                full = []
                for ds in ok:
                    mine = np.asarray(ds["demand_country"].values).astype(str) == country
                    short = float(np.asarray(ds["shortage"].values)[years == year][:, mine].sum())
                    full.append(short <= TOL)
                supply[(cid, country, int(year))] = 100.0 * float(np.mean(full))
    return window, supply, status


def test_ledger_json_equals_recomputation_from_run_files(batch: Path) -> None:
    window, supply, status = _expected(batch)
    # the case is not trivial: some windows are uncertain, some supply is short
    assert any(0 < v < 100 for v in window.values())
    assert any(v < 100 for v in supply.values())
    res = invoke("ledger", batch / "summary.nc", "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    tables = doc["tables"]
    assert set(tables) == {"status", "clause_probability", "window_probability", "supply_probability", "runs"}

    rows = tables["window_probability"]["rows"]
    got = {(r["combination"], r["clause"], r["window"]): r["probability_%"] for r in rows}
    assert got.keys() == window.keys()
    for key, value in window.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key
    dates = [r["window_start"] for r in rows if r["combination"] == "c0001"]
    assert dates[0] == "2000-10-01" and dates[-1] == "2002-09-01"

    clause_rows = {r["combination"]: r for r in tables["clause_probability"]["rows"]}
    for cid in ("c0001", "c0002"):
        values = [v for (c, _, _), v in window.items() if c == cid]
        assert clause_rows[cid]["windows_count"] == 24
        assert clause_rows[cid]["min_probability_%"] == pytest.approx(min(values))
        assert clause_rows[cid]["mean_probability_%"] == pytest.approx(np.mean(values))
    assert clause_rows["c0000"]["min_probability_%"] is None   # no member ran

    got_supply = {(r["combination"], r["country"], r["water_year"]): r["probability_%"]
                  for r in tables["supply_probability"]["rows"] if r["probability_%"] is not None}
    assert got_supply.keys() == supply.keys()
    for key, value in supply.items():
        assert got_supply[key] == pytest.approx(value, abs=1e-9), key

    for row in tables["status"]["rows"]:
        assert row["ok_count"] == status[row["combination"]]["ok"]
        assert row["invalid_count"] == status[row["combination"]]["invalid"]
        assert row["runs_count"] == MEMBERS and row["members_ok_count"] == row["ok_count"]
    assert [r["status"] for r in tables["runs"]["rows"]] == ["invalid"] * 3 + ["ok"] * 6
    assert "must be >= 0" in tables["runs"]["rows"][0]["reason"]
    # units on every number
    for table in tables.values():
        for column in table["columns"]:
            numeric = any(isinstance(r[column["key"]], (int, float)) for r in table["rows"])
            if numeric and column["key"] not in ("window", "water_year", "member"):
                assert column["unit"] in ("%", "count", "mcm"), (table["table"], column)


def test_ledger_csv_text_and_directory_agree_with_json(batch: Path) -> None:
    doc = json.loads(invoke("ledger", batch, "--format", "json").stdout)   # the directory itself
    for name in ("window_probability", "supply_probability", "clause_probability", "status"):
        res = invoke("ledger", batch, "--format", "csv", "--table", name)
        assert res.exit_code == 0, res.stderr
        rows = list(csv.reader(io.StringIO(res.stdout)))
        head, body = rows[0], rows[1:]
        table = doc["tables"][name]
        assert len(body) == len(table["rows"])
        assert head == [f"{c['name'].replace('_', ' ')} ({c['unit']})" if c["unit"] else c["name"].replace("_", " ")
                        for c in table["columns"]]
        for line, record in zip(body, table["rows"]):
            for cell, column in zip(line, table["columns"]):
                value = record[column["key"]]
                if value is None:
                    assert cell == ""
                elif isinstance(value, float):
                    assert float(cell) == pytest.approx(value)
                else:
                    assert cell == str(value)
    default = invoke("ledger", batch, "--format", "csv")
    assert default.stdout.splitlines()[0].startswith("combination,values,clause,window,window start,probability (%)")
    text = invoke("ledger", batch)
    assert text.exit_code == 0
    assert "probability (%)" in text.stdout and "Runs per combination" in text.stdout
    km3 = json.loads(invoke("ledger", batch, "--format", "json", "--units", "km3").stdout)
    mcm_rows, km3_rows = doc["tables"]["runs"]["rows"], km3["tables"]["runs"]["rows"]
    assert km3_rows[5]["delivered_km3"] == pytest.approx(mcm_rows[5]["delivered_mcm"] / 1000.0)


def test_sweep_without_members(tmp_path: Path) -> None:
    sweep = Sweep(_scenario(tmp_path, end="2001-09-30"),
                  vary={f"clause.{FLOOR}.min_m3s": [0.0, 1e6]})
    summary = run_sweep(sweep, tmp_path / "out")
    kind, summary_ds = open_result_or_summary(tmp_path / "out")
    assert kind == "summary"
    tables = ensemble_tables(summary_ds)
    rows = tables["clause_probability"].records()
    assert [r["combination"] for r in rows] == ["r0000", "r0001"]
    assert [r["mean_probability_%"] for r in rows] == [100.0, 0.0]
    assert rows[0]["windows_count"] == int(summary["clause_windows"].values[0, 0]) == 12
    assert [r["ok_count"] for r in tables["status"].records()] == [1, 1]


def test_report_of_a_summary_is_self_contained_and_holds_the_numbers(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    res = invoke("report", batch / "summary.nc", "-o", out)
    assert res.exit_code == 0, res.stderr
    assert "batch summary, 9 runs" in res.stdout
    page = _Page()
    page.feed(out.read_text(encoding="utf-8"))
    assert page.scripts == 0
    assert all(r.startswith("data:image/png;base64,") or r.startswith("#") for r in page.refs), page.refs
    kinds = [img["data-figure"] for img in page.images]
    assert kinds == ["compliance", "supply"] * 2     # c0000 has no member that ran
    for img in page.images:
        data = base64.b64decode(img["src"].split(",", 1)[1])
        assert data.startswith(PNG_MAGIC)
        assert int.from_bytes(data[16:20], "big") == 900
    text = " ".join(page.text)
    window, _, _ = _expected(batch)
    for cid in ("c0001", "c0002"):
        values = [v for (c, _, _), v in window.items() if c == cid]
        assert f"{min(values):.1f}" in text and f"{np.mean(values):.1f}" in text
    assert "min probability (%)" in text and "probability (%)" in text and "delivered (mcm)" in text
    assert "inflows.scale: must be >= 0" in text
    assert not list(tmp_path.glob("*.part"))


def test_files_that_are_neither_result_nor_summary_exit_2(batch: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(plain)
    for command in ("ledger", "report"):
        res = invoke(command, plain, *(["-o", tmp_path / "x.html"] if command == "report" else []))
        assert res.exit_code == 2
        assert res.stderr.strip().splitlines() == [
            f"{plain}: not a waterdesk result (no waterdesk_version attribute) nor a batch summary (no run dimension)"]
        assert "Traceback" not in res.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    res = invoke("ledger", empty)
    assert res.exit_code == 2 and "no summary.nc in this directory" in res.stderr
    res = invoke("report", batch, batch / "r0003.nc", "-o", tmp_path / "y.html")
    assert res.exit_code == 2 and "reported on its own" in res.stderr
    assert not (tmp_path / "y.html").exists()
    res = invoke("ledger", batch / "r0003.nc", "--table", "status")
    assert res.exit_code == 2
    assert open_result_or_summary(batch / "r0003.nc")[0] == "result"
