"""Bad-input cases stored as data (STYLE §3.4).

Each ``tests/data/invalid/<case>.toml`` is a basin or scenario file with one kind of
mistake (or, for the ``many_problems*`` cases, several); ``<case>.expected`` holds the
exact stderr lines of ``waterdesk validate tests/data/invalid/<case>.toml`` run from the
repository root (exit 2; exit 3 for the ``infeasible_*`` cases). The ``hostile_*`` cases
are not TOML at all: a directory, a symlink loop, binary bytes, nesting hundreds deep. Helper files the scenario cases refer to (valid basins, inflow CSVs)
live in ``tests/data/invalid/support/`` and are not cases.

Where the current output is wrong or unclear, ``<case>.expected`` holds the output we
want and the case is listed in `WRONG` (strict xfail), so it shows in every test run
and turns into a failure -- a reminder to drop it from `WRONG` -- once fixed.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from waterdesk.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "data" / "invalid"
SUPPORT = INVALID / "support"
CASES = sorted(path.stem for path in INVALID.glob("*.toml"))

#: case -> why the current output differs from <case>.expected
WRONG: dict[str, str] = {}


def _cases() -> list[object]:
    return [
        pytest.param(case, id=case,
                     marks=[pytest.mark.xfail(reason=WRONG[case], strict=True)] if case in WRONG else [])
        for case in CASES
    ]


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root, so paths print as given: tests/data/invalid/..."""
    monkeypatch.chdir(ROOT)


def validate(*paths: str) -> Result:
    return CliRunner().invoke(cli, ["validate", *paths])


def stderr_of(result: Result) -> str:
    try:
        return result.stderr          # click >= 8.2 always keeps stderr apart
    except ValueError:                # older click mixes it into output
        return result.output


def test_cases_are_complete() -> None:
    """Every case has its .expected, every .expected its case, every WRONG entry a case."""
    expected = sorted(path.stem for path in INVALID.glob("*.expected"))
    assert len(CASES) >= 20
    assert expected == CASES
    assert set(WRONG) <= set(CASES)


@pytest.mark.parametrize("case", _cases())
@pytest.mark.usefixtures("at_root")
def test_invalid_case(case: str) -> None:
    expected = (INVALID / f"{case}.expected").read_text(encoding="utf-8").splitlines()
    result = validate(f"tests/data/invalid/{case}.toml")
    assert "Traceback" not in result.output
    # infeasible_* cases: hard clauses no operation could meet, said before any solve (exit 3)
    assert result.exit_code == (3 if case.startswith("infeasible_") else 2), result.output
    assert stderr_of(result).splitlines() == expected


@pytest.mark.parametrize("path", [
    "basins/chu-talas/basin.toml",
    "scenarios/chu-talas/baseline.toml",
    # the valid helpers of the scenario cases: each case must fail for its own reason only
    "tests/data/invalid/support/mini.basin.toml",
    "tests/data/invalid/support/mini.scenario.toml",
    "tests/data/invalid/support/slow.basin.toml",
])
@pytest.mark.usefixtures("at_root")
def test_valid_file(path: str) -> None:
    result = validate(path)
    assert result.exit_code == 0, result.output
    assert f"{path}: ok" in result.output


@pytest.mark.usefixtures("at_root")
def test_problems_of_several_files_are_listed_together() -> None:
    """`validate A B` lists the problems of both files, and 'ok' for the good one."""
    good = "tests/data/invalid/support/mini.basin.toml"
    bad = ["tests/data/invalid/negative_capacity.toml", "tests/data/invalid/bad_country_code.toml"]
    result = validate(bad[0], good, bad[1])
    expected = [  # problems are sorted by file, then line
        line for case in sorted(bad)
        for line in (ROOT / case).with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    ]
    assert result.exit_code == 2, result.output
    assert stderr_of(result).splitlines() == expected
    assert f"{good}: ok" in result.output


@pytest.mark.parametrize("make, expected", [
    (lambda p: p.write_bytes(b"# big\n" + b"x = 1\n" * 900_000), "file too large: 5.1 MiB (at most 1 MiB)"),
    (lambda p: None, "file not found"),
    (lambda p: p.write_text("a = " + "{b = " * 5000 + "1" + "}" * 5000 + "\n"),
     "arrays or tables nested more than 16 deep"),
])
def test_hostile_file(tmp_path: Path, make: object, expected: str) -> None:
    """Huge, missing and deeply nested files: one line, exit 2, no traceback (the
    stored cases cover binary, directory, symlink loop and nesting by headers)."""

    path = tmp_path / "hostile.toml"
    make(path)  # type: ignore[operator]
    result = validate(str(path))
    assert result.exit_code == 2, result.output
    lines = stderr_of(result).splitlines()
    assert len(lines) == 1 and lines[0].endswith(expected), lines
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", ["five_problems_basin", "five_problems_scenario"])
@pytest.mark.usefixtures("at_root")
def test_five_different_problems_give_five_lines(case: str) -> None:
    """A missing required key, a wrong type, an unknown key or table and cross-file
    problems in one file: five lines, none hidden by another (issue 10, 'done when')."""
    result = validate(f"tests/data/invalid/{case}.toml")
    lines = stderr_of(result).splitlines()
    assert result.exit_code == 2
    assert len(lines) == 5, lines
    assert len({line.split(":")[1] for line in lines}) == 5          # five different lines
    assert any(line.endswith("required key is missing") for line in lines)


def test_thousands_of_problems_are_listed_up_to_a_limit(tmp_path: Path) -> None:
    """A file with 5,000 unknown keys is no basin: the first 200 problems, one line each,
    then how many there were -- not 5,000 lines."""
    path = tmp_path / "many.toml"
    path.write_text("[basin]\n" + "".join(f"k{i} = {i}\n" for i in range(5000)))
    result = validate(str(path))
    lines = stderr_of(result).splitlines()
    assert result.exit_code == 2
    assert lines[0] == f"{path}: 5004 problems; the first 200 are listed"   # + name, countries, inflows, node
    assert len(lines) == 201
    assert lines[1] == f"{path}:1: basin.countries: required key is missing"
