"""Fuzz: seeded mutations of every shipped basin and scenario file and of their inflow files,
through `waterdesk validate` (in-process): the answer is always exit 0, 2 or 3 -- never an
internal error or a traceback -- and a mutation that certainly breaks a file is refused
where it was made (issue 10).

CI runs ``WATERDESK_FUZZ_N`` mutations (default 100, about half a minute); by hand:

    WATERDESK_FUZZ_N=1000 python -m pytest tests/test_fuzz.py -q

``WATERDESK_FUZZ_SEED`` (default 10) changes the whole sequence; a failure names the
mutation's index, kind, file and line, and the same seed and index give it again.
"""
from __future__ import annotations

import os
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from waterdesk.cli.main import cli
from waterdesk.units import SUFFIX_UNITS

ROOT = Path(__file__).resolve().parents[1]
N = int(os.environ.get("WATERDESK_FUZZ_N", "100"))
SEED = int(os.environ.get("WATERDESK_FUZZ_SEED", "10"))

_KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_\-]+)(\s*=\s*)(.*?)(\s*#.*)?$")
_NUMBER = re.compile(r"^[+-]?\d[\d_]*(\.\d+)?([eE][+-]?\d+)?$")


@dataclass
class Mutation:
    """One mutation: which file changed, which file to validate, and where it must be
    refused (`line` None: anywhere in `at`) when it certainly breaks the file."""

    kind: str
    changed: Path
    validate: Path
    certain: bool = False
    at: Path | None = None
    line: int | None = None


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of basins/, scenarios/ and the CSV helpers, so relative paths still hold."""
    root = tmp_path_factory.mktemp("fuzz")
    for part in ("basins", "scenarios"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("*.py", "*.md"))
    support = root / "csv"
    support.mkdir()
    for name in ("mini.basin.toml", "mini.scenario.toml", "mini.inflows.csv"):
        shutil.copy(ROOT / "tests" / "data" / "invalid" / "support" / name, support / name)
    return root


def _toml_files(root: Path) -> list[Path]:
    return sorted([*root.glob("basins/*/*.toml"), *root.glob("scenarios/*/*.toml"),
                   root / "csv" / "mini.basin.toml", root / "csv" / "mini.scenario.toml"])


def _inflow_users(root: Path) -> dict[Path, Path]:
    """Inflow file -> a basin or scenario file that reads it."""
    users = {p.parent / "inflows.nc": p for p in root.glob("basins/*/basin.toml")}
    users[root / "basins" / "syr-darya" / "inflows-drought-2008.nc"] = root / "scenarios" / "syr-darya" / "drought-3yr.toml"
    users[root / "csv" / "mini.inflows.csv"] = root / "csv" / "mini.scenario.toml"
    return users


# ----------------------------------------------------------------------------- TOML

def _unit_key(key: str) -> bool:
    return any(key.endswith(sfx) for sfx in SUFFIX_UNITS)


def _mutate_toml(path: Path, rng: random.Random) -> Mutation:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    keyed = [i for i, line in enumerate(lines) if _KEY_LINE.match(line) and not line.lstrip().startswith("#")]
    sweep = "[sweep]" in text
    kind = rng.choice(["type_swap", "type_swap", "non_finite", "delete", "duplicate", "truncate",
                       "nesting", "big_int", "binary", "typo"])
    mutation = Mutation(kind, path, path)
    i = rng.choice(keyed) if keyed else 0
    match = _KEY_LINE.match(lines[i]) if keyed else None
    if kind in ("type_swap", "non_finite", "big_int", "nesting", "typo") and match:
        indent, key, eq, value, comment = match.groups()
        numeric = bool(_NUMBER.match(value)) and _unit_key(key) and not sweep
        if kind == "type_swap":
            if _NUMBER.match(value):
                new = rng.choice([f'"{value}"', "true", "false", '"yes"', "{ a = 1 }"])
            elif value in ("true", "false"):
                new = rng.choice(['"yes"', "1", "0", '"true"'])
            elif value.startswith('"'):
                new = rng.choice(["7", "true", "2.5", "[1, 2]"])
            else:
                new = rng.choice(['"x"', "true", "3"])
            mutation.certain = numeric      # a number of unit key given as text, bool or table
        elif kind == "non_finite":
            new = rng.choice(["nan", "inf", "-inf", "+nan"])
            mutation.certain = numeric
        elif kind == "big_int":
            new = str(rng.choice([2**63, -(2**63) - 1, 10**30, 2**64 + 7]))
            mutation.certain = numeric
        elif kind == "nesting":
            depth = rng.choice([20, 100, 800, 3000])
            new = "[" * depth + value + "]" * depth if rng.random() < 0.7 else "{a = " * depth + "1" + "}" * depth
            mutation.certain = not sweep or depth > 16
        else:
            key = key[:-1] + "x" if len(key) > 1 else key + "x"
            new = value
        lines[i] = f"{indent}{key}{eq}{new}{comment or ''}"
        mutation.at, mutation.line = (path, i + 1) if mutation.certain else (None, None)
        text = "\n".join(lines)
    elif kind == "delete" and lines:
        del lines[rng.randrange(len(lines))]
        text = "\n".join(lines)
    elif kind == "duplicate" and lines:
        j = rng.randrange(len(lines))
        lines.insert(j, lines[j])
        text = "\n".join(lines)
    elif kind == "truncate":
        text = text[: rng.randrange(len(text) + 1)]
    elif kind == "binary":
        cut = rng.randrange(len(text) + 1)
        raw = text.encode()[:cut] + bytes(rng.randrange(256) for _ in range(8)) + text.encode()[cut:]
        path.write_bytes(raw)
        return mutation
    path.write_text(text, encoding="utf-8")
    return mutation


# ----------------------------------------------------------------------------- inflows

def _mutate_netcdf(path: Path, user: Path, rng: random.Random) -> Mutation:
    kind = rng.choice(["gap", "duplicate", "extra_node", "non_finite", "negative", "units",
                       "truncate", "rename"])
    mutation = Mutation(f"nc_{kind}", path, user, certain=kind != "truncate", at=path)
    if kind == "truncate":
        raw = path.read_bytes()
        path.write_bytes(raw[: rng.randrange(len(raw))])
        mutation.certain = True
        return mutation
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    n_time = ds.sizes["time"]
    t = rng.randrange(1, n_time - 1)
    if kind == "gap":
        ds = ds.isel(time=[k for k in range(n_time) if k != t])
    elif kind == "duplicate":
        ds = ds.isel(time=list(range(t + 1)) + list(range(t, n_time)))
    elif kind == "extra_node":
        extra = ds.isel(node=[0]).assign_coords(node=["not_a_node"])
        ds = xr.concat([ds, extra], dim="node")
    elif kind in ("non_finite", "negative"):
        values = ds["inflow"].values.copy()
        values[t, rng.randrange(values.shape[1])] = rng.choice([np.nan, np.inf]) if kind == "non_finite" else -1.5
        ds["inflow"].values[:] = values
    elif kind == "units":
        ds["inflow"].attrs["units"] = rng.choice(["l s-1", "mcm", ""])
    elif kind == "rename":
        nodes = [str(n) for n in ds["node"].values]
        nodes[rng.randrange(len(nodes))] += "_x"
        ds = ds.assign_coords(node=nodes)
    ds.to_netcdf(path)
    return mutation


def _mutate_csv(path: Path, user: Path, rng: random.Random) -> Mutation:
    lines = path.read_text(encoding="utf-8").split("\n")
    rows = [i for i, line in enumerate(lines) if re.match(r"^\d{4}-", line)]
    kind = rng.choice(["gap", "duplicate", "extra_column", "non_finite", "negative", "truncate", "text"])
    mutation = Mutation(f"csv_{kind}", path, user, certain=kind != "truncate", at=path)
    i = rng.choice(rows[1:-1])
    if kind == "gap":
        del lines[i]
        mutation.line = i + 1            # the row after the gap, now on the deleted row's line
    elif kind == "duplicate":
        lines.insert(i, lines[i])
        mutation.line = i + 2
    elif kind == "extra_column":
        lines = [line + (",upp" if j == 0 else ",1.0") if line else line for j, line in enumerate(lines)]
        mutation.line = 1
    elif kind in ("non_finite", "negative", "text"):
        date = lines[i].split(",")[0]
        lines[i] = date + "," + {"non_finite": rng.choice(["nan", "inf"]), "negative": "-2.5",
                                 "text": rng.choice(["abc", "1_0", "", "0x10", "true"])}[kind]
        mutation.line = i + 1
    else:
        text = "\n".join(lines)
        path.write_text(text[: rng.randrange(len(text))], encoding="utf-8")
        return mutation
    path.write_text("\n".join(lines), encoding="utf-8")
    return mutation


# ----------------------------------------------------------------------------- the test

def _plan(root: Path) -> list[tuple[Path, Callable[[random.Random], Mutation]]]:
    """(file to mutate, how) for every shipped basin and scenario and their inflow files."""
    plans: list[tuple[Path, Callable[[random.Random], Mutation]]] = []
    for path in _toml_files(root):
        plans.append((path, lambda rng, p=path: _mutate_toml(p, rng)))
    for inflow, user in _inflow_users(root).items():
        mutate = _mutate_csv if inflow.suffix == ".csv" else _mutate_netcdf
        plans.append((inflow, lambda rng, p=inflow, u=user, m=mutate: m(p, u, rng)))
    return plans


def _check(mutation: Mutation, exit_code: int, output: str) -> str | None:
    """Why the answer to a mutation is wrong, or None."""
    if exit_code not in (0, 2, 3) or "Traceback" in output or "internal error" in output:
        return f"exit {exit_code}: {output.strip()[-300:]}"
    if mutation.certain:
        if exit_code != 2:
            return f"not refused (exit {exit_code}): {output.strip()[-300:]}"
        prefix = f"{mutation.at}:{mutation.line}:" if mutation.line else f"{mutation.at}:"
        # paths print as the files named them (scenarios/x/../../basins/...): compare them normalised
        said = [os.path.normpath(line.split(":", 1)[0]) + ":" + line.split(":", 1)[1]
                for line in output.splitlines() if ":" in line]
        if not any(line.startswith(prefix) for line in said):
            return f"refused, but not at {prefix}: {output.strip()[-300:]}"
    return None


def test_mutations_of_shipped_files_never_give_an_internal_error(tree: Path) -> None:
    plans = _plan(tree)
    runner = CliRunner()
    failures: list[str] = []
    exits = {0: 0, 2: 0, 3: 0}
    certain = 0
    for index in range(N):
        rng = random.Random(f"{SEED}:{index}")
        path, plan = plans[index % len(plans)]
        original = path.read_bytes()
        mutation = plan(rng)
        result = runner.invoke(cli, ["validate", str(mutation.validate)])
        output = result.output
        why = _check(mutation, result.exit_code, output)
        if why:
            failures.append(f"#{index} {mutation.kind} {mutation.changed.relative_to(tree)}"
                            f"{':' + str(mutation.line) if mutation.line else ''}: {why}")
        exits[result.exit_code] = exits.get(result.exit_code, 0) + 1
        certain += mutation.certain
        path.write_bytes(original)
    print(f"\n{N} mutations (seed {SEED}): exit 0: {exits[0]}, exit 2: {exits[2]}, exit 3: {exits[3]}; "
          f"{certain} certain breaks; {len(failures)} wrong")
    assert not failures, "\n".join(failures[:20])
