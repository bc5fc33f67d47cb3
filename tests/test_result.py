"""The result file: docs/REFERENCE.md §8 variables with units, CF metadata, provenance, atomic writes."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import xarray as xr

import waterdesk as wd
from waterdesk.testing import assert_mass_balance, assert_result_equal

SPEC_VARIABLES = {
    "natural_flow": (("time", "node"), "m3 s-1"),
    "node_flow": (("time", "node"), "m3 s-1"),
    "reach_flow": (("time", "reach"), "m3 s-1"),
    "storage": (("time", "reservoir"), "mcm"),
    "release": (("time", "reservoir"), "m3 s-1"),
    "spill": (("time", "reservoir"), "m3 s-1"),
    "evaporation": (("time", "reservoir"), "mcm"),
    "energy": (("time", "reservoir"), "GWh"),
    "requested": (("time", "demand"), "mcm"),
    "supplied": (("time", "demand"), "mcm"),
    "shortage": (("time", "demand"), "mcm"),
    "withdrawal_by_country": (("time", "country"), "mcm"),
    "mass_balance_error": (("time", "node"), "mcm"),
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    scenario = wd.load_scenario("scenarios/chu-talas/baseline.toml")
    path = tmp_path_factory.mktemp("out") / "r.nc"
    ds = wd.run(scenario, output=path)
    return scenario, ds, path


def test_file_has_the_spec_variables_with_units(written):
    _, _, path = written
    with xr.open_dataset(path) as ds:
        for name, (dims, units) in SPEC_VARIABLES.items():
            assert ds[name].dims == dims, name
            assert ds[name].attrs["units"] == units, name
        for coord in ("demand_country", "demand_sector", "demand_priority", "node_kind", "node_country"):
            assert coord in ds.coords
        for attr in ("Conventions", "title", "basin", "scenario", "scenario_sha256", "waterdesk_version",
                     "timestep", "mode", "solver", "history"):
            assert ds.attrs[attr], attr
        assert ds.attrs["Conventions"] == "CF-1.10"
        assert str(ds.time.values[0])[:10] == "2000-10-01"
        assert ds.time.attrs["bounds"] == "time_bounds"


def test_the_file_reads_back_equal_and_balanced(written):
    _, ds, path = written
    back = wd.open_result(path)
    assert_result_equal(ds, back)
    assert_mass_balance(back)


def test_scenario_sha256_hashes_the_three_input_files(written):
    scenario, ds, _ = written
    parts = [open(p, "rb").read() for p in (scenario.path, scenario.basin.path, scenario.basin.inflows_path)]
    digest = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).hexdigest()
    assert ds.attrs["scenario_sha256"] == digest


def test_withdrawal_by_country_sums_the_country_demands(written):
    _, ds, _ = written
    for country in ds.country.values:
        mine = ds["supplied"].where(ds["demand_country"] == country).sum("demand")
        np.testing.assert_allclose(ds["withdrawal_by_country"].sel(country=country), mine)


def test_a_failed_write_leaves_no_file(tmp_path, written, monkeypatch):
    _, ds, _ = written
    target = tmp_path / "r.nc"

    def half_then_fail(self, path, *args, **kwargs):
        open(path, "wb").write(b"CDF partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half_then_fail)
    with pytest.raises(OSError):
        wd.write_result(ds, target)
    assert list(tmp_path.iterdir()) == []


def test_progress_reports_every_step(written):
    scenario, ds, _ = written
    seen = []
    wd.run(scenario, progress=seen.append)
    assert sum(seen) == ds.sizes["time"]


def test_open_result_refuses_other_files(tmp_path):
    other = tmp_path / "x.nc"
    xr.Dataset({"a": ("x", [1.0])}).to_netcdf(other)
    with pytest.raises(wd.InputError, match="not a waterdesk result"):
        wd.open_result(other)


def test_scaling_inflows_and_demands_by_country(case):
    """src -> j -> sea with a KZ and a KG demand (40 each in January), 100 mcm of
    inflow scaled by 0.5 and the KZ demand by 1.5: 50 arrive, KZ asks 60, KG 40;
    one priority, so both get 50/100 = 50 %."""
    from waterdesk.testing import demand, inflow, node, reach

    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink")
             + demand("kz", 1, 40, country="BB") + demand("kg", 1, 40, country="AA")
             + reach("src", "j") + reach("j", "sea") + reach("j", "kz", "canal") + reach("j", "kg", "canal"))
    ds = case(basin, {"src": inflow(100)}, scenario_extra="""
[inflows]
scale = 0.5
[demands]
scale = { BB = 1.5 }
""")
    assert float(ds["requested"].sel(demand="kz")[0]) == pytest.approx(60.0)
    assert float(ds["supplied"].sel(demand="kz")[0]) == pytest.approx(30.0, abs=1e-6)
    assert float(ds["supplied"].sel(demand="kg")[0]) == pytest.approx(20.0, abs=1e-6)
    assert ds.attrs["inflow_scale"] == "0.5"


def _reference_section(n: int) -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "REFERENCE.md").read_text("utf-8")
    return text.split(f"\n## {n}. ", 1)[1].split("\n## ", 1)[0]


OPTIONAL_SALINITY = {"salinity", "salt_load", "salt_balance_error", "delivered_salinity", "return_salt",
                     "salt_storage"}


def test_the_reference_lists_every_variable_and_coordinate_of_a_result(written):
    """docs/REFERENCE.md §8 is the contract of the result file: every variable and
    coordinate a result holds is named there, and every variable its table lists
    (those of an [exchange] account aside) is in the result, with the dims given."""
    import re

    _, ds, _ = written
    section = _reference_section(8)
    named = set(re.findall(r"`([a-z_]+)`", section))
    missing = sorted(str(v) for v in (set(ds.variables) - set(ds.dims)) if str(v) not in named)
    assert not missing, f"not in docs/REFERENCE.md §8: {missing}"
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")]
    for names, dims in rows:
        for name in re.findall(r"`([a-z_]+)`", names):
            if name.startswith("exchange_") or name in OPTIONAL_SALINITY:
                continue       # only in a run with an [exchange] account / with salinity keys
            assert name in ds, name
            assert ds[name].dims == tuple(d.strip() for d in dims.split(",")), name
