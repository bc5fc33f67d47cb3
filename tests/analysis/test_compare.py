"""compare(): totals and differences are sums of the result variables; mismatched inputs refused."""
from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr

import waterdesk as wd
from tests.analysis.test_accounts import ROOT, toy_path, wy_of
from waterdesk.analysis import compare
from waterdesk.analysis.compare import to_dataset


@pytest.fixture(scope="module")
def chu_files(tmp_path_factory):
    """Chu-Talas baseline and agreement-2000 over two water years, written to files."""
    folder = tmp_path_factory.mktemp("chu")
    paths = []
    for name in ("baseline", "agreement-2000"):
        scenario = wd.load_scenario(ROOT / "scenarios" / "chu-talas" / f"{name}.toml")
        wd.run(scenario.replace(end="2002-09-30"), output=folder / f"{name}.nc")
        paths.append(folder / f"{name}.nc")
    return paths


@pytest.fixture(scope="module")
def toy_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    out = folder / "toy.nc"
    wd.run(toy_path(folder), output=out)
    return out


def by_key(table):
    return {(r[table.columns[0].key], r["water_year"]): r for r in table.records()}


def test_by_country_values_and_differences_are_sums(chu_files):
    base, agreement = (wd.open_result(p) for p in chu_files)
    table = by_key(compare(chu_files, by="country"))
    for country in ("KG", "KZ"):
        for year in (2001, 2002):
            got = {}
            for name, ds in (("baseline", base), ("agreement-2000", agreement)):
                steps = wy_of(ds) == year
                got[name] = float(ds["withdrawal_by_country"].sel(country=country).isel(time=steps).sum())
                short = float(ds["shortage"].where(ds["demand_country"] == country).isel(time=steps).sum())
                assert table[(country, year)][f"delivered_mcm:{name}"] == pytest.approx(got[name])
                assert table[(country, year)][f"shortage_mcm:{name}"] == pytest.approx(short)
            assert table[(country, year)]["delivered_mcm:agreement-2000-baseline"] == pytest.approx(
                got["agreement-2000"] - got["baseline"])
    # the Talas cap cuts KG: the difference is visible
    assert table[("KG", 2001)]["delivered_mcm:agreement-2000-baseline"] < -1.0


def test_by_demand_and_reservoir_in_km3(chu_files):
    base, agreement = (wd.open_result(p) for p in chu_files)
    demand = by_key(compare({"base": base, "agr": agreement}, by="demand", units="km3"))
    res = by_key(compare({"base": base, "agr": agreement}, by="reservoir", units="km3"))
    steps = wy_of(agreement) == 2002
    for d in agreement.demand.values:
        sup = float(agreement["supplied"].sel(demand=d).isel(time=steps).sum())
        assert demand[(str(d), 2002)]["supplied_km3:agr"] == pytest.approx(sup / 1000.0)
    for r in agreement.reservoir.values:
        end = float(agreement["storage"].sel(reservoir=r).isel(time=steps)[-1])
        before = float(base["storage"].sel(reservoir=r).isel(time=wy_of(base) == 2002)[-1])
        assert res[(str(r), 2002)]["end_storage_km3:agr-base"] == pytest.approx((end - before) / 1000.0)
        assert res[(str(r), 2002)]["energy_GWh:agr"] == pytest.approx(
            float(agreement["energy"].sel(reservoir=r).isel(time=steps).sum()))


def test_by_clause_gives_each_clauses_status_in_each_result(chu_files, toy_file):
    toy = wd.open_result(toy_file)
    table = by_key(compare({"a": toy, "b": toy}, by="clause"))
    v = toy["clause_violation"].sel(clause="sea-min-flow").values
    year_of_window = wy_of(toy)   # monthly windows = steps here
    for year in (2001, 2002):
        w = v[year_of_window == year]
        row = table[("sea-min-flow", year)]
        assert row["windows_violated:a"] == int((w > 1e-6).sum()) == 12
        assert row["total_violation_mcm:b"] == pytest.approx(float(w.sum()))
        assert row["total_violation_mcm:b-a"] == pytest.approx(0.0)
        assert row["status:a"] == "violated 0/12"
        assert table[("aa-cap", year)]["status:b"] == "met 1/1"
    # a clause only one result has: the other's cells are empty
    chu = by_key(compare(chu_files, by="clause"))
    assert chu[("talas-kg-cap", 2001)]["status:baseline"] is None
    assert chu[("talas-kg-cap", 2001)]["status:agreement-2000"] == "met 1/1"


def test_refuses_files_that_are_not_results(chu_files, tmp_path):
    plain = tmp_path / "plain.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(plain)
    text = tmp_path / "notes.nc"
    text.write_text("not netcdf")
    with pytest.raises(wd.InputError) as err:
        compare([chu_files[0], plain, text])
    assert [str(p.path) for p in err.value.problems] == [str(text), str(plain)]
    assert "not a waterdesk result" in str(err.value)
    with pytest.raises(wd.InputError, match="not a waterdesk result"):
        compare({"a": wd.open_result(chu_files[0]), "b": xr.Dataset()})


def test_refuses_results_of_different_basins_unless_forced(chu_files, toy_file):
    with pytest.raises(wd.InputError) as err:
        compare([chu_files[0], toy_file])
    (problem,) = err.value.problems
    assert str(problem.path) == str(toy_file)
    assert "basin 'toy'" in problem.message and "chu-talas" in problem.message and "--force" in problem.message
    table = compare([chu_files[0], toy_file], force=True)
    countries = {r["country"] for r in table.records()}
    assert countries == {"KG", "KZ", "AA", "BB"}
    aa = by_key(table)[("AA", 2001)]
    assert aa["delivered_mcm:baseline"] is None and aa["delivered_mcm:toy"] > 0


def test_refuses_bad_arguments(chu_files):
    with pytest.raises(wd.InputError, match="unknown --by"):
        compare(chu_files, by="river")
    with pytest.raises(wd.InputError, match="at least two"):
        compare(chu_files[:1])


def test_differences_dataset_matches_the_table(chu_files):
    table = compare(chu_files, by="country")
    ds = to_dataset(table)
    assert list(ds.result.values) == ["baseline", "agreement-2000"]
    for r in table.records():
        cell = dict(country=r["country"], water_year=r["water_year"])
        assert float(ds["delivered"].sel(**cell, result="agreement-2000")) == pytest.approx(
            r["delivered_mcm:agreement-2000"])
        assert float(ds["delivered_difference"].sel(**cell, result="agreement-2000")) == pytest.approx(
            r["delivered_mcm:agreement-2000-baseline"])
        assert np.isnan(float(ds["delivered_difference"].sel(**cell, result="baseline")))
    assert ds["delivered"].attrs["units"] == "mcm"


@pytest.fixture(scope="module")
def three_files(chu_files, tmp_path_factory):
    """The two Chu-Talas files and a third run with 80 % of the inflows."""
    folder = tmp_path_factory.mktemp("chu3")
    scenario = wd.load_scenario(ROOT / "scenarios" / "chu-talas" / "baseline.toml", {"inflows.scale": 0.8})
    wd.run(scenario.replace(end="2002-09-30"), output=folder / "dry.nc")
    return [*chu_files, folder / "dry.nc"]


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_compare_text_fits_132_columns_with_named_results(three_files, n, lang):
    """Results are columns A, B, C named in a legend, differences B−A and C−A, and no
    line is wider than 132 characters: wider content wraps into blocks that repeat the
    country and year columns (issue 15)."""
    from click.testing import CliRunner

    from waterdesk.analysis.tables import WIDTH
    from waterdesk.cli.main import cli
    from waterdesk.i18n import catalogue

    files = three_files[:n]
    tags = "ABC"[:n]
    for by in ("country", "demand", "clause", "reservoir"):
        res = CliRunner().invoke(cli, ["compare", *map(str, files), "--by", by, "--lang", lang])
        assert res.exit_code == 0, res.output
        lines = res.output.splitlines()
        assert max(len(ln) for ln in lines) <= WIDTH == 132, (by, max(lines, key=len))
        for tag, path in zip(tags, files):
            assert f"{tag} = {path.stem}" in res.output
        subheads = [ln.split() for ln in lines if ln.split()[-n:] == list(tags) or "\u2212" in ln]
        assert subheads, res.output[:800]
        assert all(f"{t}\u2212A" in res.output for t in tags[1:])
        assert "-0.0" not in res.output and "-0,0" not in res.output and "+0.0" not in res.output
    # the KG deliveries of 2001 in the first block: A, B, (C), then B−A (, C−A)
    res = CliRunner().invoke(cli, ["compare", *map(str, files), "--lang", lang])
    row = next(ln for ln in res.output.splitlines() if ln.startswith("KG") and " 2001 " in ln)
    table = by_key(compare(files, by="country"))[("KG", 2001)]
    names = [p.stem for p in files]
    cat = catalogue(lang)
    want = [cat.num(table[f"requested_mcm:{m}"]) for m in names]
    want += [cat.num(table[f"requested_mcm:{m}-{names[0]}"], sign=True) for m in names[1:]]
    cells = re.split(" {2,}", row.strip())               # columns are two spaces apart at least
    assert cells[:2] == ["KG", "2001"] and cells[2:2 + len(want)] == want
    if n == 3:      # 3 metrics x (3 values + 2 differences) do not fit one block of 132
        assert sum(1 for ln in res.output.splitlines() if ln.split()[-n:] == list(tags) or
                   (ln.strip() and ln.split()[0] == cat("col.country").split()[0])) >= 2
