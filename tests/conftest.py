"""Shared fixtures: factories that write tiny cases, and a seeded generator."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import waterdesk as wd
from waterdesk.testing import JAN_M3S_PER_MCM, write_case

ROOT = Path(__file__).resolve().parents[1]
__all__ = ["ROOT", "JAN_M3S_PER_MCM"]


@pytest.fixture(autouse=True, scope="session")
def _lp_cache_in_tmp(tmp_path_factory):
    """Runs keep their extracted step LPs in a temporary directory, not the user's cache
    (waterdesk.allocate.lpcache); subprocesses inherit it."""
    old = os.environ.get("WATERDESK_CACHE_DIR")
    os.environ["WATERDESK_CACHE_DIR"] = str(tmp_path_factory.mktemp("waterdesk-cache"))
    yield
    if old is None:
        os.environ.pop("WATERDESK_CACHE_DIR", None)
    else:
        os.environ["WATERDESK_CACHE_DIR"] = old


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
