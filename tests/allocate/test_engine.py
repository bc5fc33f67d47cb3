"""The compiled step engine (allocate/engine.py, kernels/simplex.py) against the HiGHS path.

The independent answer is the HiGHS path (engine="highs"): the same Pyomo-declared LP and
the same lexicographic stages, solved by HiGHS. The engine must give the same allocation
to 1e-6 mcm, close the mass balance, hand what it cannot certify to HiGHS (counted), and
give bit-identical results whatever the number of threads."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

import waterdesk as wd
from waterdesk.allocate import engine as engine_mod
from waterdesk.kernels import simplex as sx
from waterdesk.model.scenario import InflowData
from waterdesk.simulate import simulate, simulate_members
from waterdesk.testing import well_conditioned, write_case

from ..test_mass_balance import random_basin
from .test_clauses import clause

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ("supplied", "storage", "node_flow", "reach_flow", "release", "spill", "energy")
TOL_MCM = 1e-6


def _assert_same(a: "object", b: "object", what: str) -> None:
    """Same allocation in mcm: flows [m3 s-1] are compared as volumes over each step."""
    dl = a.steps.days * 86400.0 * 1e-6           # mcm per m3 s-1
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if name in ("node_flow", "reach_flow", "release", "spill"):
            x, y = x * dl[:, None], y * dl[:, None]
        np.testing.assert_allclose(x, y, rtol=0, atol=TOL_MCM, err_msg=f"{what}: {name}")
    assert np.abs(a.mass_balance_error).max() <= 1e-6
    if a.clauses is not None and a.clauses.rows:
        np.testing.assert_allclose(a.clauses.actual, b.clauses.actual, rtol=0, atol=TOL_MCM,
                                   equal_nan=True, err_msg=f"{what}: clause actual")


# ----------------------------------------------------------------------------- the simplex


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_simplex_matches_highs_on_random_bounded_lps(seed: int) -> None:
    """Random LPs with ranged, one-sided and equality rows: optimal objective as HiGHS
    (scipy's linprog), again after the bounds change and the solve starts warm."""
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(2, 25)), int(rng.integers(2, 30))
    a = sparse.random(m, n, density=0.35, random_state=seed, format="csc")
    a.data = rng.normal(size=a.nnz)
    x0 = rng.uniform(0, 1, n)
    act = a @ x0
    row_lo = np.where(rng.random(m) < 0.5, act - rng.uniform(0, 1, m), -np.inf)
    row_hi = np.where(rng.random(m) < 0.7, act + rng.uniform(0, 1, m), np.inf)
    eq = rng.random(m) < 0.2
    row_lo[eq] = row_hi[eq] = act[eq]
    col_hi = np.where(rng.random(n) < 0.5, 2.0, 10.0)
    c = rng.normal(size=n)
    head, status = np.zeros(m, np.int64), np.zeros(n + m, np.int8)
    bt, work, x, y = np.zeros((m, m)), np.zeros(1, np.int64), np.zeros(n + m), np.zeros(m)
    sx.reset_basis(n, m, head, status, bt, work)
    for upper in (col_hi, np.minimum(col_hi, rng.uniform(0.3, 10, n))):
        fin_hi, fin_lo = np.isfinite(row_hi), np.isfinite(row_lo)
        ref = linprog(c, A_ub=sparse.vstack([a[fin_hi], -a[fin_lo]]).toarray(),
                      b_ub=np.concatenate([row_hi[fin_hi], -row_lo[fin_lo]]),
                      bounds=list(zip(np.zeros(n), upper)), method="highs")
        code, _ = sx.solve(a.indptr.astype(np.int64), a.indices.astype(np.int64), a.data.copy(), n, c,
                           np.concatenate([np.zeros(n), row_lo]), np.concatenate([upper, row_hi]),
                           head, status, x, bt, y, work, 2000)
        if ref.status == 2:
            assert code == sx.INFEASIBLE
            continue
        assert code == sx.OK
        assert c @ x[:n] == pytest.approx(ref.fun, abs=1e-7 * (1 + abs(ref.fun)))
        np.testing.assert_allclose(a @ x[:n], x[n:], atol=1e-8)


# ----------------------------------------------------------------------------- the engine


def _clauses(seed: int, basin: str) -> str:
    """Soft clauses of every kind on a random_basin network (reservoirs and splits only
    where the network has them)."""
    rng = np.random.default_rng(seed + 1)
    nodes = [line.split('"')[1] for line in basin.splitlines() if line.startswith("id = ")]
    rivers = [n for n in nodes if n.startswith("n")]
    reservoirs = [n for n in rivers if f'id = "{n}"\nkind = "reservoir"' in basin]
    text = (clause("eco", "min_flow", hard=False, priority=1, node=str(rng.choice(rivers)),
                   min_m3s=float(rng.uniform(0.5, 5)))
            + clause("sea", "min_volume", hard=False, priority=2, node="sea",
                     min_mcm=float(rng.uniform(5, 50)))
            + clause("half", "share", hard=False, priority=2, of="natural_flow:" + str(rng.choice(rivers)),
                     shares={"AA": 0.5, "BB": 0.5}, mode="cap")
            + clause("aa-cap", "max_withdrawal", hard=False, priority=3, country="AA",
                     max_mcm=float(rng.uniform(5, 40))))
    if reservoirs:
        res = str(rng.choice(reservoirs))
        text += (clause("res-cap", "release", hard=False, priority=2, node=res,
                        max_mcm=float(rng.uniform(5, 50)))
                 + clause("carry", "storage", hard=False, priority=3, node=res,
                          min_mcm=float(rng.uniform(1, 20))))
    canal = [line for line in basin.split("[[reach]]") if 'kind = "canal"' in line]
    if canal:
        src = canal[0].split('from = "')[1].split('"')[0]
        dst = canal[0].split('to = "')[1].split('"')[0]
        down = [r.split('to = "')[1].split('"')[0] for r in basin.split("[[reach]]")[1:]
                if f'from = "{src}"' in r and 'kind = "canal"' not in r]
        if down:
            text += clause("split", "split", period="step", hard=False, priority=3, node=src,
                           ratios={f"{src}->{down[0]}": 0.7, f"{src}->{dst}": 0.3})
    return text


# derandomize: the same 15 networks every run, so CI cannot turn red on a new draw. A random
# draw found seed 4260 / "month" / with clauses, where a stage optimum is flat and HiGHS's own
# two simplex methods disagree (test_a_flat_optimum_parts_highs_from_itself_more_than_from_the_engine)
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), timestep=st.sampled_from(["day", "dekad", "month"]),
       with_clauses=st.booleans())
def test_engine_equals_highs_on_random_networks(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                                timestep: str, with_clauses: bool) -> None:
    """Random trees (every routing kind, lags, losses, reservoirs, returns, canals), with
    or without soft clauses of every kind: one member, then three members stacked."""
    basin, inflows = random_basin(seed, timestep)
    extra = _clauses(seed, basin) if with_clauses else ""
    path = write_case(tmp_path_factory.mktemp("engine"), basin, inflows, timestep=timestep,
                      scenario_extra=extra)
    sc = wd.load_scenario(path)
    assume(well_conditioned(sc))
    reference = simulate(sc, engine="highs")
    compiled = simulate(sc, engine="compiled")
    assert compiled.engine == "compiled" and reference.engine == "highs"
    _assert_same(compiled, reference, f"seed {seed} {timestep}")
    rng = np.random.default_rng(seed)
    members = [InflowData(sc.inflows.node, sc.inflows.start, sc.inflows.end,
                          sc.inflows.values_m3s * rng.uniform(0.2, 1.5, sc.inflows.values_m3s.shape))
               for _ in range(3)]
    stacked = simulate_members(sc, members, engine="compiled")
    for m, data in enumerate(members):
        _assert_same(stacked[m], simulate(sc.replace(inflows=data), engine="highs"), f"seed {seed} member {m}")


@pytest.mark.parametrize("basin", ["chu-talas", "syr-darya", "amu-darya", "kura-araks"])
def test_engine_equals_highs_on_the_basins(basin: str) -> None:
    """Each basin's shipped baseline (clauses, energy targets, lags, reservoirs)."""
    sc = wd.load_scenario(ROOT / "scenarios" / basin / "baseline.toml")
    compiled, reference = simulate(sc, engine="compiled"), simulate(sc, engine="highs")
    _assert_same(compiled, reference, basin)
    assert compiled.engine_fallbacks < len(sc.steps) // 10   # the engine does the work


def test_a_step_handed_to_highs_gives_the_same_answer_and_is_counted(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every third step handed over unsolved (and, with no pivot allowed, any step the
    engine cannot finish, which it leaves uncertified): those member steps go to HiGHS,
    the run still equals the HiGHS path, and the count is exact and in the result's
    attributes."""
    sc = wd.load_scenario(ROOT / "scenarios" / "syr-darya" / "baseline.toml")
    reference = simulate(sc, engine="highs")
    handed_steps = tuple(range(0, len(sc.steps), 3))
    monkeypatch.setattr(engine_mod.Engine, "handover", handed_steps)
    handed = simulate(sc, engine="compiled")
    assert handed.engine_fallbacks == len(handed_steps)
    _assert_same(handed, reference, "handed over")
    monkeypatch.setattr(engine_mod.Engine, "handover", ())
    monkeypatch.setattr(engine_mod.Engine, "max_iter", 0)
    capped = simulate(sc, engine="compiled")
    assert capped.engine_fallbacks == len(sc.steps)      # monthly steps all need pivots
    _assert_same(capped, reference, "uncertified")
    from waterdesk.result import to_dataset

    ds = to_dataset(handed, "test")
    assert ds.attrs["allocation_engine"] == "compiled"
    assert ds.attrs["engine_fallback_steps"] == handed.engine_fallbacks


def test_engine_choice_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATERDESK_ENGINE", raising=False)
    assert engine_mod.default_engine() == engine_mod.DEFAULT == "compiled"
    assert simulate(wd.load_scenario(ROOT / "scenarios" / "chu-talas" / "baseline.toml")).engine == "compiled"
    monkeypatch.setenv("WATERDESK_ENGINE", "highs")
    assert engine_mod.default_engine() == "highs"
    monkeypatch.setenv("WATERDESK_ENGINE", "compiled")
    assert engine_mod.default_engine() == "compiled"
    monkeypatch.setenv("WATERDESK_ENGINE", "simplex")
    with pytest.raises(ValueError, match="WATERDESK_ENGINE"):
        engine_mod.default_engine()


def _gap(a: "object", b: "object") -> float:
    """Largest difference of any FIELDS entry between two runs, in mcm."""
    dl = a.steps.days * 86400.0 * 1e-6
    gap = 0.0
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if name in ("node_flow", "reach_flow", "release", "spill"):
            x, y = x * dl[:, None], y * dl[:, None]
        if x.size:
            gap = max(gap, float(np.abs(x - y).max()))
    return gap


def test_a_flat_optimum_parts_highs_from_itself_more_than_from_the_engine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random network 4260 (monthly, clauses of every kind): a stage optimum is flat there,
    so HiGHS's primal simplex parts from its dual simplex (the reference) by about 1e-5 mcm
    in a canal's surplus on the same sequence of LPs. The engine may sit anywhere in that
    spread (an earlier version parted from the reference by as much): it must deliver the
    same to 1e-6 mcm and be no further from the reference than HiGHS is from itself."""
    from waterdesk.allocate import solve as solve_mod

    basin, inflows = random_basin(4260, "month")
    sc = wd.load_scenario(write_case(tmp_path, basin, inflows, timestep="month",
                                     scenario_extra=_clauses(4260, basin)))
    assert well_conditioned(sc)
    dual, compiled = simulate(sc, engine="highs"), simulate(sc, engine="compiled")
    plain = solve_mod._highs

    def primal() -> "object":
        h = plain()
        h.setOptionValue("simplex_strategy", 4)      # HiGHS's primal simplex
        return h

    monkeypatch.setattr(solve_mod, "_highs", primal)
    other = simulate(sc, engine="highs")
    flat = _gap(other, dual)
    assert flat > TOL_MCM                              # HiGHS parts from itself: the optimum is flat
    np.testing.assert_allclose(compiled.supplied, dual.supplied, rtol=0, atol=TOL_MCM)
    assert _gap(compiled, dual) <= flat                # the engine no further than that
    assert np.abs(compiled.mass_balance_error).max() <= 1e-6


@pytest.mark.slow
def test_the_syr_darya_run_daily_is_ill_conditioned_for_every_solver(tmp_path: Path) -> None:
    """The Syr Darya baseline run daily (Muskingum K = 2 d, x = 0.1 below Chardara: a reach
    passes on 13 % of a step's entry) is not well conditioned: two HiGHS runs whose inflows
    differ by one part in 10^12 end more than 1 mcm of storage apart within 7 months. Over its
    first 100 days, before the growth, the engine equals HiGHS to 1e-6 mcm."""
    over = {"scenario.start": "2000-10-01", "scenario.end": "2001-04-30", "scenario.timestep": "day"}
    sc = wd.load_scenario(ROOT / "scenarios" / "syr-darya" / "baseline.toml", over)
    assert not well_conditioned(sc)
    reference = simulate(sc, engine="highs")
    nudged = sc.replace(inflows=InflowData(sc.inflows.node, sc.inflows.start, sc.inflows.end,
                                           sc.inflows.values_m3s * (1.0 + 1e-12)))
    apart = np.abs(simulate(nudged, engine="highs").storage - reference.storage).max(axis=1)
    assert apart.max() > 1.0
    compiled = simulate(sc, engine="compiled")
    both = np.abs(compiled.storage - reference.storage).max(axis=1)
    assert both[:100].max() <= TOL_MCM and apart[:100].max() <= TOL_MCM
    assert np.abs(compiled.mass_balance_error).max() <= 1e-6


_THREADS_SCRIPT = """
import sys, numpy as np, numba, waterdesk as wd
from waterdesk.io.inflows import read_inflows
from waterdesk.simulate import simulate_members
sc = wd.load_scenario(sys.argv[1])
rng = np.random.default_rng(5)
base = sc.inflows
members = [type(base)(base.node, base.start, base.end, base.values_m3s * rng.uniform(0.3, 1.4, base.values_m3s.shape))
           for _ in range(6)]
sims = simulate_members(sc, members, engine="compiled")
np.savez(sys.argv[2], threads=numba.get_num_threads(),
         **{f"{name}{m}": getattr(s, name) for m, s in enumerate(sims) for name in ("supplied", "storage", "node_flow")})
"""


def test_identical_results_on_one_and_two_threads(tmp_path: Path) -> None:
    """Members run in parallel; each member's arithmetic is its own, so the results are
    bit-identical with one thread and with two."""
    scenario = ROOT / "scenarios" / "chu-talas" / "baseline.toml"
    script = tmp_path / "members.py"
    script.write_text(_THREADS_SCRIPT, "utf-8")
    out = {}
    for threads in (1, 2):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
        subprocess.run([sys.executable, str(script), str(scenario), str(tmp_path / f"t{threads}.npz")],
                       check=True, env=env, cwd=ROOT)
        out[threads] = np.load(tmp_path / f"t{threads}.npz")
    assert int(out[1]["threads"]) == 1 and int(out[2]["threads"]) == 2
    for key in (k for k in out[1].files if k != "threads"):
        np.testing.assert_array_equal(out[1][key], out[2][key], err_msg=key)
