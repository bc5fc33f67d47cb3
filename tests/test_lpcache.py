"""The on-disk cache of the extracted step LP (waterdesk.allocate.lpcache)."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import waterdesk as wd
from waterdesk.allocate import lpcache
from waterdesk.allocate.clauses import compile_rows
from waterdesk.allocate.formulation import declare_and_extract, extract
from waterdesk.model.network import compile_network

ROOT = Path(__file__).resolve().parents[1]
CHU = ROOT / "scenarios" / "chu-talas" / "agreement-2000.toml"      # has clause rows
SYR = ROOT / "scenarios" / "syr-darya" / "baseline.toml"


def _declaration(path: Path):
    scenario = wd.load_scenario(path)
    net = compile_network(scenario.basin)
    return net, compile_rows(scenario.clauses, scenario.basin, net), scenario.clauses


class Counting:
    """`declare_and_extract`, counting the Pyomo declarations."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, net, rows, clauses):
        self.calls += 1
        return declare_and_extract(net, rows, clauses)


def _same_lp(a, b) -> None:
    assert (a.a_matrix != b.a_matrix).nnz == 0 and a.a_matrix.shape == b.a_matrix.shape
    for f in dataclasses.fields(a):
        if f.name != "a_matrix":
            x, y = getattr(a, f.name), getattr(b, f.name)
            assert np.array_equal(np.asarray(x), np.asarray(y)), f.name
            assert np.asarray(x).dtype == np.asarray(y).dtype, f.name


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("WATERDESK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "lp"


def test_a_stored_lp_is_the_declared_one_and_is_reused(cache):
    net, rows, clauses = _declaration(CHU)
    assert rows, "the case must exercise clause rows"
    build = Counting()
    first = lpcache.cached(net, rows, clauses, build)
    second = lpcache.cached(net, rows, clauses, build)
    assert build.calls == 1 and len(list(cache.glob("*.npz"))) == 1
    _same_lp(second, declare_and_extract(net, rows, clauses))
    _same_lp(first, second)


def _changed_declarations(net, rows, clauses):
    """Declarations that differ from (net, rows, clauses) in one thing that shapes the LP."""
    prio = net.dem_priority.copy()
    prio[0] += 1
    yield "a demand's priority", dataclasses.replace(net, dem_priority=prio), rows, clauses
    cons = net.dem_consumptive.copy()
    cons[0] = 0.5 * cons[0] + 0.25
    yield "a demand's consumptive share", dataclasses.replace(net, dem_consumptive=cons), rows, clauses
    to = net.reach_to.copy()
    to[0] = (to[0] + 1) % net.n_node
    yield "where a reach ends", dataclasses.replace(net, reach_to=to), rows, clauses
    fam, j, coef = rows[0].terms[0]
    row0 = dataclasses.replace(rows[0], terms=((fam, j, coef * 0.5),) + tuple(rows[0].terms[1:]))
    yield "a clause row coefficient", net, [row0] + rows[1:], clauses
    yield "one clause row fewer", net, rows[:-1], clauses
    c0 = dataclasses.replace(clauses[0], hard=not clauses[0].hard)
    yield "a clause made hard or soft", net, rows, (c0,) + tuple(clauses[1:])


def test_a_changed_declaration_is_declared_again(cache):
    net, rows, clauses = _declaration(CHU)
    build = Counting()
    lpcache.cached(net, rows, clauses, build)
    keys = {lpcache.declaration_key(net, rows, clauses)}
    for what, n2, r2, c2 in _changed_declarations(net, rows, clauses):
        before = build.calls
        got = lpcache.cached(n2, r2, c2, build)
        assert build.calls == before + 1, f"{what}: the stored LP was reused"
        _same_lp(got, declare_and_extract(n2, r2, c2))
        keys.add(lpcache.declaration_key(n2, r2, c2))
    assert len(keys) == 1 + len(list(_changed_declarations(net, rows, clauses)))
    # and the original declaration still finds its own LP
    before = build.calls
    _same_lp(lpcache.cached(net, rows, clauses, build), declare_and_extract(net, rows, clauses))
    assert build.calls == before


def test_a_change_of_the_declaring_code_gives_a_new_key(cache, tmp_path, monkeypatch):
    net, rows, clauses = _declaration(CHU)
    key = lpcache.declaration_key(net, rows, clauses)
    edited = tmp_path / "formulation.py"
    edited.write_bytes(lpcache._CODE[0].read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(lpcache, "_CODE", (edited, lpcache._CODE[1]))
    assert lpcache.declaration_key(net, rows, clauses) != key


def test_never_reused_across_basins(cache):
    chu, syr = _declaration(CHU), _declaration(SYR)
    build = Counting()
    lp_chu = lpcache.cached(*chu, build)
    lp_syr = lpcache.cached(*syr, build)
    assert build.calls == 2
    assert lp_chu.n_col != lp_syr.n_col or lp_chu.n_row != lp_syr.n_row
    # a file stored under one basin's key but holding another's LP is not used either
    key_chu = lpcache.declaration_key(*chu)
    key_syr = lpcache.declaration_key(*syr)
    shutil.copy(cache / f"{key_syr}.npz", cache / f"{key_chu}.npz")
    assert lpcache.load(cache / f"{key_chu}.npz", key_chu, chu[0]) is None
    _same_lp(lpcache.cached(*chu, build), declare_and_extract(*chu))
    assert build.calls == 3


def test_a_damaged_file_is_declared_again(cache):
    net, rows, clauses = _declaration(CHU)
    build = Counting()
    lpcache.cached(net, rows, clauses, build)
    (path,) = cache.glob("*.npz")
    path.write_bytes(path.read_bytes()[:100])
    _same_lp(lpcache.cached(net, rows, clauses, build), declare_and_extract(net, rows, clauses))
    assert build.calls == 2


def test_cached_and_uncached_runs_give_identical_results(cache, monkeypatch):
    stored = wd.run(CHU)                      # declares and stores
    assert len(list(cache.glob("*.npz"))) == 1
    hit = wd.run(CHU)                         # from the file
    monkeypatch.setenv("WATERDESK_CACHE_DIR", "")
    assert lpcache.cache_dir() is None
    fresh = wd.run(CHU)                       # cache off: declared in Pyomo
    for other in (hit, fresh):
        assert set(other.data_vars) == set(stored.data_vars)
        for name in stored.data_vars:
            np.testing.assert_array_equal(other[name].values, stored[name].values, err_msg=name)


def test_the_stepwise_extract_uses_the_cache_unless_told_not_to(cache):
    net, rows, clauses = _declaration(SYR)
    _same_lp(extract(net, rows, clauses, cache=False), extract(net, rows, clauses))
    assert len(list(cache.glob("*.npz"))) == 1


def test_a_run_from_the_cache_does_not_import_pyomo(cache, tmp_path):
    code = ("import sys, json, waterdesk as wd; ds = wd.run(sys.argv[1]); "
            "print(json.dumps({'pyomo': 'pyomo' in sys.modules, 'stats': 'scipy.stats' in sys.modules,"
            " 'supplied': float(ds['supplied'].sum())}))")
    env = {**os.environ, "WATERDESK_CACHE_DIR": str(cache.parent), "PYTHONPATH": str(ROOT)}
    runs = [json.loads(subprocess.run([sys.executable, "-c", code, str(SYR)], env=env, check=True,
                                      capture_output=True, text=True, cwd=tmp_path).stdout) for _ in range(2)]
    assert runs[0]["pyomo"] and not runs[1]["pyomo"]
    assert not runs[0]["stats"] and not runs[1]["stats"]     # Pyomo's SciPy finaliser not triggered
    assert runs[0]["supplied"] == runs[1]["supplied"] > 0
