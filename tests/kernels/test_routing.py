"""Routing kernels against analytic answers (compiled with numba, not JIT-disabled)."""
from __future__ import annotations

import numpy as np
import pytest

from waterdesk.kernels import routing


def test_kernels_are_compiled():
    assert hasattr(routing.muskingum_series, "signatures")  # a numba dispatcher, not plain Python
    routing.muskingum_series(np.ones(3), 1.0, 1.0, 0.2)
    assert routing.muskingum_series.signatures


def test_x_half_and_k_equal_dt_is_a_one_step_lag(rng):
    c0, c1, c2 = routing.muskingum_coefficients(1.0, 1.0, 0.5)
    assert (c0, c1, c2) == (0.0, 1.0, 0.0)
    inflow = rng.uniform(1, 100, 50)
    out = routing.muskingum_series(inflow, 1.0, 1.0, 0.5)
    assert out[0] == inflow[0]
    np.testing.assert_allclose(out[1:], inflow[:-1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("k, x, dt", [(1.0, 0.2, 1.0), (2.0, 0.1, 1.0), (5.0, 0.3, 30.0), (0.4, 0.0, 31.0)])
def test_pulse_keeps_its_volume(k, x, dt):
    inflow = np.full(400, 10.0)
    inflow[5] = 110.0                      # a 100 m3/s-step pulse on a base flow
    out = routing.muskingum_series(inflow, dt, k, x)
    assert np.sum(out - 10.0) * dt == pytest.approx(100.0 * dt, rel=1e-9)
    assert out.min() >= 10.0 - 1e-9        # no negative dip below the base flow


def test_substeps_bring_dt_into_the_stable_range():
    n = routing.muskingum_substeps(30.0, 2.0, 0.2)       # 2K(1-x) = 3.2 days
    assert n == 10
    h = 30.0 / n
    assert 2 * 2.0 * 0.2 <= h <= 2 * 2.0 * 0.8
    assert routing.muskingum_substeps(1.0, 2.0, 0.2) == 1


def test_substepped_step_equals_routing_at_the_fine_step_and_averaging(rng):
    """A long step split into n sub-steps must equal routing the step-constant
    inflow at dt/n with the textbook recursion, then averaging each step."""
    k, x, dt = 2.0, 0.2, 30.0
    n = routing.muskingum_substeps(dt, k, x)
    inflow = rng.uniform(5, 50, 24)
    coarse = routing.muskingum_series(inflow, dt, k, x)
    fine = routing.muskingum_series(np.repeat(inflow, n), dt / n, k, x)
    np.testing.assert_allclose(coarse, fine.reshape(-1, n).mean(axis=1), rtol=1e-12)


def _chain(routing_code: int, k: float, x: float = 0.2, loss: float = 0.0):
    """inflow(0) -> reach -> sink(1)"""
    return dict(order=np.array([0, 1]), river_out=np.array([0, -1]), reach_to=np.array([1]),
                routing=np.array([routing_code]), k_days=np.array([k]), x=np.array([x]),
                loss=np.array([loss]))


def test_lag_of_whole_steps_shifts_the_series(rng):
    inflow = rng.uniform(1, 9, 30)
    local = np.zeros((30, 2))
    local[:, 0] = inflow
    edges = np.arange(31, dtype=float)
    flow, _ = routing.natural_flow(edges=edges, local_m3s=local, **_chain(routing.LAG, 3.0))
    np.testing.assert_allclose(flow[3:, 1], inflow[:-3], atol=1e-12)
    np.testing.assert_allclose(flow[:3, 1], inflow[0])   # steady state before the start


def test_fractional_lag_on_uneven_steps_conserves_volume():
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] * 3, dtype=float)
    edges = np.concatenate([[0.0], np.cumsum(days)])
    local = np.zeros((len(days), 2))
    local[:, 0] = 2.0
    local[4, 0] = 50.0
    flow, _ = routing.natural_flow(edges=edges, local_m3s=local, **_chain(routing.LAG, 45.5))
    assert np.sum(flow[:, 1] * days) == pytest.approx(np.sum(local[:, 0] * days), rel=1e-12)
    # 45.5 days after May starts is mid-June .. mid-July: the pulse splits over Jun and Jul
    assert flow[5, 1] > 2 and flow[6, 1] > 2 and flow[4, 1] == pytest.approx(2.0)


def test_natural_flow_adds_tributaries_and_takes_losses():
    """a(0) -> c(2) <- b(1); c -> sink(3) with 10 % loss on a's reach"""
    kw = dict(order=np.array([0, 1, 2, 3]), river_out=np.array([0, 1, 2, -1]),
              reach_to=np.array([2, 2, 3]), routing=np.zeros(3, dtype=np.int64),
              k_days=np.zeros(3), x=np.zeros(3), loss=np.array([0.1, 0.0, 0.0]))
    local = np.array([[10.0, 5.0, 0.0, 0.0]] * 4)
    flow, entry = routing.natural_flow(edges=np.arange(5.0), local_m3s=local, **kw)
    np.testing.assert_allclose(flow[:, 2], 9.0 + 5.0)
    np.testing.assert_allclose(flow[:, 3], 14.0)
    np.testing.assert_allclose(entry[:, 0], 10.0)


def test_compiled_and_pure_python_kernels_agree(rng):
    """The same kernel run compiled and as plain Python (what NUMBA_DISABLE_JIT runs)."""
    days = rng.integers(28, 32, 24).astype(float)
    edges = np.concatenate([[0.0], np.cumsum(days)])
    local = np.zeros((24, 2))
    local[:, 0] = rng.uniform(1, 50, 24)
    for code, k in ((routing.LAG, 40.0), (routing.MUSKINGUM, 3.0)):
        args = dict(edges=edges, local_m3s=local, **_chain(code, k, x=0.25, loss=0.05))
        compiled, _ = routing.natural_flow(**args)
        python, _ = routing.natural_flow.py_func(**args)
        np.testing.assert_allclose(compiled, python, rtol=1e-12)
