"""`waterdesk run`: exit codes, output file, summary, nothing half-written."""
from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

from waterdesk.testing import demand, inflow, node, reach
from waterdesk.cli.main import cli
from waterdesk.testing import write_case


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_run_writes_the_result_and_prints_a_country_summary(chu_talas, tmp_path):
    out = tmp_path / "out.nc"
    res = invoke("run", str(chu_talas), "-o", str(out))
    assert res.exit_code == 0, res.output
    with xr.open_dataset(out) as ds:
        assert ds.attrs["scenario"] == "baseline"
        req_kg = float(ds["requested"].where(ds["demand_country"] == "KG").sum())
    assert "KG" in res.stdout and "KZ" in res.stdout and "met %" in res.stdout
    assert f"{req_kg:,.1f}" in res.stdout
    assert not list(tmp_path.glob("*.part"))


def test_quiet_prints_nothing(chu_talas, tmp_path):
    res = invoke("-q", "run", str(chu_talas), "-o", str(tmp_path / "o.nc"))
    assert res.exit_code == 0
    assert res.output == ""


def test_bad_input_exits_2_with_one_line_per_problem_and_writes_nothing(tmp_path):
    basin = node("src", "inflow") + node("lake", "junction") + node("sea", "sink") + reach("src", "sae")
    path = write_case(tmp_path, basin, {"src": [1.0]})
    out = tmp_path / "out.nc"
    res = invoke("run", str(path), "-o", str(out))
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        f"{tmp_path / 'basin.toml'}:11: node \"lake\": needs exactly one outgoing river reach "
        "(its natural course), found 0; water here has nowhere to go",
        f"{tmp_path / 'basin.toml'}:23: reach \"src->sae\".to: unknown node 'sae'; did you mean 'sea'?",
    ]
    assert "Traceback" not in res.output
    assert not out.exists()


def test_infeasible_exits_3_and_writes_nothing(tmp_path):
    """The only way out of j is a river capped far below what arrives."""
    basin = (node("src", "inflow") + node("j", "junction") + node("sea", "sink") + demand("d", 1, 1.0)
             + reach("src", "j") + reach("j", "sea", max_flow_m3s=0.1) + reach("j", "d", "canal"))
    path = write_case(tmp_path, basin, {"src": inflow(100.0)})
    out = tmp_path / "out.nc"
    res = invoke("run", str(path), "-o", str(out))
    assert res.exit_code == 3, res.output
    assert res.stderr.startswith("infeasible: step 2001-01-01")
    assert "Traceback" not in res.output
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_internal_error_exits_1_without_traceback_unless_debug(chu_talas, tmp_path, monkeypatch):
    import waterdesk.simulate

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(waterdesk.simulate, "simulate", broken)
    res = invoke("run", str(chu_talas), "-o", str(tmp_path / "o.nc"))
    assert res.exit_code == 1
    assert res.stderr.strip() == "internal error (rerun with --debug for a traceback)"
    res = invoke("--debug", "run", str(chu_talas), "-o", str(tmp_path / "o.nc"))
    assert res.exit_code == 1
    assert isinstance(res.exception, RuntimeError)
    assert not (tmp_path / "o.nc").exists()


def test_usage_error_exits_2():
    assert invoke("run").exit_code == 2
    assert invoke("schema", "pond").exit_code == 2


def test_missing_scenario_file_exits_2(tmp_path):
    res = invoke("run", str(tmp_path / "nope.toml"))
    assert res.exit_code == 2
    assert res.stderr.strip() == f"{tmp_path / 'nope.toml'}: file not found"


def test_several_scenarios_go_to_a_directory(chu_talas, tmp_path):
    res = invoke("-q", "run", str(chu_talas), str(chu_talas), "-o", str(tmp_path / "dir"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "dir" / "baseline.nc").exists()


@pytest.mark.parametrize("kind", ["basin", "scenario"])
def test_schema_is_json_schema_of_the_file(kind):
    import json

    res = invoke("schema", kind)
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert kind in schema["properties"]


def test_basins_lists_chu_talas_with_its_question():
    res = invoke("basins")
    assert res.exit_code == 0
    assert "chu-talas" in res.stdout
    assert "scenarios/chu-talas/baseline.toml" in res.stdout.replace("\\", "/")


def test_validate_ok_file_exits_0(chu_talas):
    res = invoke("validate", str(chu_talas))
    assert res.exit_code == 0
    assert res.stdout.strip() == f"{chu_talas}: ok"


def test_version():
    res = invoke("--version")
    assert res.exit_code == 0 and "waterdesk" in res.stdout


def test_relative_paths_in_the_scenario_are_relative_to_its_file(tmp_path, monkeypatch, chu_talas):
    monkeypatch.chdir(tmp_path)
    res = invoke("-q", "run", str(chu_talas), "-o", "here.nc")
    assert res.exit_code == 0, res.output
    assert Path("here.nc").exists()
