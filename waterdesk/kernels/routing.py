"""Routing kernels: lag, Muskingum and natural-flow accumulation. numpy + numba only.

All flows are step means [m3 s-1]; step lengths are in days.

Muskingum (standard recursion on step values, Chow et al. 1988, eq. 8.4.6)::

    O[t] = C0*I[t] + C1*I[t-1] + C2*O[t-1]
    C0 = (dt - 2Kx) / D,  C1 = (dt + 2Kx) / D,  C2 = (2K(1-x) - dt) / D,  D = 2K(1-x) + dt

starting from steady state (O[0] = I[0]). When dt > 2K(1-x) the step is split
into n equal sub-steps h = dt/n with 2Kx <= h <= 2K(1-x); inflow is constant
within the step and the step's outflow is the mean of the sub-step outflows, so
for n = 1 the textbook recursion is reproduced exactly. Written per sub-step j,
O_j = alpha_j*I[t] + beta_j with

    alpha_1 = C0,                 beta_1 = C1*I[t-1] + C2*O_prev
    alpha_j = C0 + C1 + C2*alpha_{j-1},  beta_j = C2*beta_{j-1}

so the step outflow is a*I[t] + b: `a` is the current-step coefficient the
allocation LP uses, `b` comes from the routing state.

Lag (pure translation by k days, in continuous time over piecewise-constant
inflow)::

    O[t] = (1/dt_t) * integral of I over [start_t - k, end_t - k]

which is O[t] = I[t - k/dt] when k is a whole number of equal steps, conserves
volume exactly for any k, and gives a = max(0, dt - k)/dt for the current step.
Before the first step the inflow is taken as I[0] (steady state).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

NONE, LAG, MUSKINGUM = 0, 1, 2


@njit(cache=True)
def muskingum_substeps(dt_days: float, k_days: float, x: float) -> int:
    """Number of sub-steps that brings dt inside 2Kx <= h <= 2K(1-x)."""
    upper = 2.0 * k_days * (1.0 - x)
    if upper <= 0.0 or dt_days <= upper:
        return 1
    return int(np.ceil(dt_days / upper - 1e-12))


@njit(cache=True)
def muskingum_coefficients(h_days: float, k_days: float, x: float) -> tuple[float, float, float]:
    """C0, C1, C2 for a (sub-)step of h days."""
    d = 2.0 * k_days * (1.0 - x) + h_days
    return ((h_days - 2.0 * k_days * x) / d,
            (h_days + 2.0 * k_days * x) / d,
            (2.0 * k_days * (1.0 - x) - h_days) / d)


@njit(cache=True)
def muskingum_step(dt_days: float, k_days: float, x: float,
                   i_prev: float, o_prev: float) -> tuple[float, float, float, float]:
    """Current-step coefficient and constant of one Muskingum step.

    Returns (a, b, a_end, b_end): step-mean outflow = a*I + b and the
    outflow at the end of the last sub-step = a_end*I + b_end (the new state).
    """
    n = muskingum_substeps(dt_days, k_days, x)
    c0, c1, c2 = muskingum_coefficients(dt_days / n, k_days, x)
    alpha = c0
    beta = c1 * i_prev + c2 * o_prev
    sum_a = alpha
    sum_b = beta
    for _ in range(1, n):
        alpha = c0 + c1 + c2 * alpha
        beta = c2 * beta
        sum_a += alpha
        sum_b += beta
    return sum_a / n, sum_b / n, alpha, beta


@njit(cache=True)
def muskingum_series(inflow_m3s: NDArray[np.float64], dt_days: float, k_days: float,
                     x: float) -> NDArray[np.float64]:
    """Route a series of step-mean inflows through one Muskingum reach.

    Examples
    --------
    >>> import numpy as np
    >>> muskingum_series(np.array([1.0, 5.0, 1.0, 1.0]), 1.0, 1.0, 0.5).tolist()
    [1.0, 1.0, 5.0, 1.0]
    """
    n = inflow_m3s.shape[0]
    out = np.empty(n)
    if n == 0:
        return out
    out[0] = inflow_m3s[0]
    o_end = inflow_m3s[0]
    for t in range(1, n):
        a, b, a_end, b_end = muskingum_step(dt_days, k_days, x, inflow_m3s[t - 1], o_end)
        out[t] = a * inflow_m3s[t] + b
        o_end = a_end * inflow_m3s[t] + b_end
    return out


@njit(cache=True, no_cpython_wrapper=True)
def _integral(edges: NDArray[np.float64], cum: NDArray[np.float64], q0: float,
              lo: float, hi: float, t: int) -> float:
    """Integral of piecewise-constant inflow over [lo, hi] with lo <= hi <= edges[t].

    edges[0..t] are step edges (days), cum[j] the integral up to edges[j];
    before edges[0] the inflow is q0 (steady state).
    """
    total = 0.0
    if lo < edges[0]:
        total += q0 * (min(hi, edges[0]) - lo)
        lo = edges[0]
    if hi <= lo:
        return total
    return total + _cum_at(edges, cum, hi, t) - _cum_at(edges, cum, lo, t)


@njit(cache=True, no_cpython_wrapper=True)
def _cum_at(edges: NDArray[np.float64], cum: NDArray[np.float64], s: float, t: int) -> float:
    # j: the last edge <= s among edges[0..t] (a bisection written out: numba's generic
    # np.searchsorted costs a second of compilation on a first run)
    lo, hi = 0, t + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if edges[mid] <= s:
            lo = mid + 1
        else:
            hi = mid
    j = lo - 1
    if j >= t:
        return cum[t]
    if j < 0:
        return 0.0
    rate = (cum[j + 1] - cum[j]) / (edges[j + 1] - edges[j])
    return cum[j] + rate * (s - edges[j])


@njit(cache=True, no_cpython_wrapper=True)
def lag_step(t: int, edges: NDArray[np.float64], cum: NDArray[np.float64], q0: float,
             k_days: float) -> tuple[float, float]:
    """(a, b) of step t for a lag of k days; cum holds the reach's inflow integral."""
    dt = edges[t + 1] - edges[t]
    if t == 0:
        return 1.0, 0.0
    a = max(0.0, dt - k_days) / dt
    lo = edges[t] - k_days
    hi = min(edges[t + 1] - k_days, edges[t])
    return a, _integral(edges, cum, q0, lo, hi, t) / dt


@njit(cache=True)
def reach_coefficients(t: int, routing: NDArray[np.int64], k_days: NDArray[np.float64],
                       x: NDArray[np.float64], loss: NDArray[np.float64],
                       edges: NDArray[np.float64], cum: NDArray[np.float64],
                       q0: NDArray[np.float64], musk_i: NDArray[np.float64],
                       musk_o: NDArray[np.float64],
                       a_out: NDArray[np.float64], b_out: NDArray[np.float64]) -> None:
    """Fill a_out, b_out: at step t, reach r delivers (1-loss)*(a*q + b) [m3 s-1]
    for an entry flow q [m3 s-1]. cum has shape (n_step+1, n_reach)."""
    dt = edges[t + 1] - edges[t]
    for r in range(routing.shape[0]):
        if routing[r] == NONE or t == 0 or k_days[r] <= 0.0:
            a, b = 1.0, 0.0
        elif routing[r] == LAG:
            a, b = lag_step(t, edges, cum[:, r], q0[r], k_days[r])
        else:
            a, b, _, _ = muskingum_step(dt, k_days[r], x[r], musk_i[r], musk_o[r])
        keep = 1.0 - loss[r]
        a_out[r] = keep * a
        b_out[r] = keep * b


@njit(cache=True)
def reach_advance(t: int, q_m3s: NDArray[np.float64], routing: NDArray[np.int64],
                  k_days: NDArray[np.float64], x: NDArray[np.float64],
                  edges: NDArray[np.float64], cum: NDArray[np.float64],
                  q0: NDArray[np.float64], musk_i: NDArray[np.float64],
                  musk_o: NDArray[np.float64]) -> None:
    """Record step t's entry flows q [m3 s-1] in the routing state."""
    dt = edges[t + 1] - edges[t]
    for r in range(routing.shape[0]):
        cum[t + 1, r] = cum[t, r] + q_m3s[r] * dt
        if t == 0:
            q0[r] = q_m3s[r]
            musk_i[r] = q_m3s[r]
            musk_o[r] = q_m3s[r]
        elif routing[r] == MUSKINGUM and k_days[r] > 0.0:
            _, _, a_end, b_end = muskingum_step(dt, k_days[r], x[r], musk_i[r], musk_o[r])
            musk_o[r] = a_end * q_m3s[r] + b_end
            musk_i[r] = q_m3s[r]


@njit(cache=True)
def new_state(n_step: int, n_reach: int) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                  NDArray[np.float64], NDArray[np.float64]]:
    """Routing state of `n_reach` reaches over `n_step` steps: the inflow integral
    (n_step+1, n_reach) for lags, the steady-state inflow, and the Muskingum
    (previous inflow, previous sub-step outflow)."""
    return (np.zeros((n_step + 1, n_reach)), np.zeros(n_reach), np.zeros(n_reach),
            np.zeros(n_reach))


@njit(cache=True)
def natural_flow(order: NDArray[np.int64], river_out: NDArray[np.int64],
                 reach_to: NDArray[np.int64], routing: NDArray[np.int64],
                 k_days: NDArray[np.float64], x: NDArray[np.float64],
                 loss: NDArray[np.float64], edges: NDArray[np.float64],
                 local_m3s: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unmanaged flow at every node [m3 s-1], shape (n_step, n_node).

    Water follows each node's natural-course (river) reach only; reservoirs pass
    it through and demands take nothing. Also returns the reach entry flows.
    """
    n_step, n_node = local_m3s.shape
    n_reach = routing.shape[0]
    flow = np.zeros((n_step, n_node))
    entry = np.zeros((n_step, n_reach))
    cum, q0, musk_i, musk_o = new_state(n_step, n_reach)
    a = np.zeros(n_reach)
    b = np.zeros(n_reach)
    for t in range(n_step):
        reach_coefficients(t, routing, k_days, x, loss, edges, cum, q0, musk_i, musk_o, a, b)
        acc = local_m3s[t].copy()
        for node in order:
            flow[t, node] = acc[node]
            r = river_out[node]
            if r >= 0:
                entry[t, r] = acc[node]
                acc[reach_to[r]] += a[r] * acc[node] + b[r]
        reach_advance(t, entry[t], routing, k_days, x, edges, cum, q0, musk_i, musk_o)
    return flow, entry


@njit(cache=True)
def impulse_response(t0: int, n: int, routing: NDArray[np.int64], k_days: NDArray[np.float64],
                     x: NDArray[np.float64], loss: NDArray[np.float64], edges: NDArray[np.float64],
                     cum: NDArray[np.float64], q0: NDArray[np.float64], musk_i: NDArray[np.float64],
                     musk_o: NDArray[np.float64], cutoff: float
                     ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64],
                                NDArray[np.float64], NDArray[np.float64]]:
    """Linear response of every reach over steps t0 .. t0+n-1 [m3 s-1 out per m3 s-1 in].

    Routing is linear in the entry flows, so the outflow of reach r at window step s is
    sum_j W[s, j, r] * q[j, r] + init[s, r]: `init` is what the state at t0 (water
    already in the reach) delivers, W the response to a unit entry at step j. Returns W
    as triplets (reach, s, j, weight) with |weight| > cutoff, and init (n, n_reach).
    The state arrays passed in are not changed.
    """
    n_reach = routing.shape[0]
    a = np.zeros(n_reach)
    b = np.zeros(n_reach)
    init = np.zeros((n, n_reach))
    c1 = cum.copy()
    p0 = q0.copy()
    mi = musk_i.copy()
    mo = musk_o.copy()
    zero = np.zeros(n_reach)
    for s in range(n):
        reach_coefficients(t0 + s, routing, k_days, x, loss, edges, c1, p0, mi, mo, a, b)
        for r in range(n_reach):    # element-wise: an array assignment compiles numba's
            init[s, r] = b[r]       # shape-mismatch error path (seconds on a first run)
        reach_advance(t0 + s, zero, routing, k_days, x, edges, c1, p0, mi, mo)
    rr = []
    ss = []
    jj = []
    ww = []
    unit = np.zeros(n_reach)
    for j in range(n):
        c1 = np.zeros_like(cum)
        p0 = np.zeros(n_reach)
        mi = np.zeros(n_reach)
        mo = np.zeros(n_reach)
        if t0 + j > 0:
            # history before j is empty: the unit entry is the only water in the reach
            c1[: t0 + j + 1] = 0.0
        for s in range(j, n):
            reach_coefficients(t0 + s, routing, k_days, x, loss, edges, c1, p0, mi, mo, a, b)
            unit[:] = 0.0
            if s == j:
                unit[:] = 1.0
            for r in range(n_reach):
                w = (a[r] if s == j else 0.0) + b[r]
                if abs(w) > cutoff:
                    rr.append(r)
                    ss.append(s)
                    jj.append(j)
                    ww.append(w)
            reach_advance(t0 + s, unit, routing, k_days, x, edges, c1, p0, mi, mo)
            if s > j + 1 and np.abs(b).max() <= cutoff and np.abs(mo).max() <= cutoff:
                break
    return (np.array(rr, dtype=np.int64), np.array(ss, dtype=np.int64), np.array(jj, dtype=np.int64),
            np.array(ww), init)


@njit(cache=True, parallel=True)
def natural_flow_members(order: NDArray[np.int64], river_out: NDArray[np.int64],
                         reach_to: NDArray[np.int64], routing: NDArray[np.int64],
                         k_days: NDArray[np.float64], x: NDArray[np.float64],
                         loss: NDArray[np.float64], edges: NDArray[np.float64],
                         local_m3s: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """`natural_flow` for every member of an ensemble at once, in parallel over members.

    local_m3s has shape (n_member, n_step, n_node); returns (n_member, n_step, n_node)
    node flows and (n_member, n_step, n_reach) reach entry flows. Members are independent,
    so each is exactly `natural_flow` of its own inflows."""
    n_member, n_step, n_node = local_m3s.shape
    n_reach = routing.shape[0]
    flow = np.zeros((n_member, n_step, n_node))
    entry = np.zeros((n_member, n_step, n_reach))
    for m in prange(n_member):
        f, e = natural_flow(order, river_out, reach_to, routing, k_days, x, loss, edges, local_m3s[m])
        for t in range(n_step):     # element-wise, see impulse_response
            for j in range(n_node):
                flow[m, t, j] = f[t, j]
            for j in range(n_reach):
                entry[m, t, j] = e[t, j]
    return flow, entry


@njit(cache=True)
def reach_coefficients_members(t: int, routing: NDArray[np.int64], k_days: NDArray[np.float64],
                               x: NDArray[np.float64], loss: NDArray[np.float64],
                               edges: NDArray[np.float64], cum: NDArray[np.float64],
                               q0: NDArray[np.float64], musk_i: NDArray[np.float64],
                               musk_o: NDArray[np.float64],
                               a_out: NDArray[np.float64], b_out: NDArray[np.float64]) -> None:
    """`reach_coefficients` of every member; state and outputs carry a leading member axis."""
    for m in range(a_out.shape[0]):
        reach_coefficients(t, routing, k_days, x, loss, edges, cum[m], q0[m], musk_i[m], musk_o[m],
                           a_out[m], b_out[m])


@njit(cache=True)
def reach_advance_members(t: int, q_m3s: NDArray[np.float64], routing: NDArray[np.int64],
                          k_days: NDArray[np.float64], x: NDArray[np.float64],
                          edges: NDArray[np.float64], cum: NDArray[np.float64],
                          q0: NDArray[np.float64], musk_i: NDArray[np.float64],
                          musk_o: NDArray[np.float64]) -> None:
    """`reach_advance` of every member (q_m3s: (n_member, n_reach))."""
    for m in range(q_m3s.shape[0]):
        reach_advance(t, q_m3s[m], routing, k_days, x, edges, cum[m], q0[m], musk_i[m], musk_o[m])
