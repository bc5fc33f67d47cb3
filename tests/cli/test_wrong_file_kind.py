"""A file of the wrong kind given to a command says which command (or file) to use, in one
line at the table that tells the kinds apart (issue 10)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from waterdesk.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _line_of(path: str, header: str) -> int:
    return (ROOT / path).read_text(encoding="utf-8").splitlines().index(header) + 1


def test_sweep_given_to_run(tmp_path: Path) -> None:
    sweep = "scenarios/syr-darya/sweep-scale.toml"
    result = CliRunner().invoke(cli, ["run", sweep, "-o", str(tmp_path / "x.nc")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{sweep}:{_line_of(sweep, '[sweep]')}: sweep: this is a sweep file, not a scenario: "
        f"run it with `waterdesk batch {sweep} -o DIR`"]
    assert list(tmp_path.iterdir()) == []


def test_scenario_given_to_batch(tmp_path: Path) -> None:
    scenario = "scenarios/chu-talas/baseline.toml"
    result = CliRunner().invoke(cli, ["batch", scenario, "-o", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{scenario}:{_line_of(scenario, '[scenario]')}: scenario: this is a scenario file, not a sweep: "
        f"run it with `waterdesk run {scenario}`"]
    assert list(tmp_path.iterdir()) == []


def test_basin_given_to_run(tmp_path: Path) -> None:
    basin = "basins/chu-talas/basin.toml"
    result = CliRunner().invoke(cli, ["run", basin, "-o", str(tmp_path / "x.nc")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{basin}:{_line_of(basin, '[basin]')}: basin: this is a basin file, not a scenario: "
        "run a scenario whose [scenario].basin names it"]


def test_validate_checks_a_sweep_and_its_scenario() -> None:
    result = CliRunner().invoke(cli, ["validate", "scenarios/syr-darya/sweep-scale.toml"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["scenarios/syr-darya/sweep-scale.toml: ok"]
