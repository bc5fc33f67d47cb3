"""Shared fixtures: factories that write tiny cases, and a seeded generator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import waterdesk as wd
from waterdesk.testing import JAN_M3S_PER_MCM, write_case

ROOT = Path(__file__).resolve().parents[1]
__all__ = ["ROOT", "JAN_M3S_PER_MCM"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261126)


@pytest.fixture
def case(tmp_path: Path):
    """Factory: write a basin + inflows + scenario and run it; returns the result."""
    counter = {"n": 0}

    def make(basin_toml: str, inflows: dict[str, list[float]], run: bool = True, **kw):
        counter["n"] += 1
        path = write_case(tmp_path / f"case{counter['n']}", basin_toml, inflows, **kw)
        return wd.run(path) if run else path

    return make


@pytest.fixture
def chu_talas() -> Path:
    return ROOT / "scenarios" / "chu-talas" / "baseline.toml"
