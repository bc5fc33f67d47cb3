"""The compiled step engine: a step's whole lexicographic, equal-fraction allocation in numba.

Same LP (the Pyomo-declared one, extracted by `formulation.extract`), same stages, costs
and water-filling as `solve.StepSolver` (HiGHS, the reference), solved by the certified
bounded-variable simplex of `kernels/simplex.py`, warm-started from the basis the member's
previous step ended with. Each member of an ensemble is its own block (its own basis and
inverse), solved in parallel over members (`prange`); nothing a member computes depends on
another or on the number of threads, so results are the same on any core count.

A step the engine cannot certify (a stage infeasible, unbounded, singular, past the
iteration cap, or failing the optimality check) is reported per member; the caller hands
that member's step to the HiGHS path and counts it (`Engine.fallbacks`).

Select with ``WATERDESK_ENGINE=compiled|highs`` or `simulate(..., engine=...)`; the compiled
engine is the default. Where the step LP has one optimum the two engines give the same
allocation to 1e-6 mcm (the four basins, every shipped scenario, random networks:
tests/allocate/test_engine.py). Two cases part them, and part HiGHS from itself just as much:
- an ill-conditioned network (`waterdesk.testing.well_conditioned`: a routed reach passing on
  a small share of a step's entry, e.g. the Syr Darya baseline run daily, Muskingum K = 2 d,
  x = 0.1): serving a flow below it needs 1/a of it upstream and tolerance-level noise grows
  from step to step. Over 30 daily years the engines end 100 mcm of Chardara storage apart,
  and so do two HiGHS runs whose inflows differ by one part in 10^12
  (benchmarks/bench_syr_daily.py prints both);
- a stage optimum that is flat to 1e-8 in objective: on one random network (seed 4260,
  monthly, with clauses) HiGHS's dual and primal simplex give a canal's surplus 1.2e-5 mcm
  apart on the same LPs; the engine lands within that spread (an earlier version of it at
  the primal end).
"""
from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from waterdesk.allocate.formulation import StepLP
from waterdesk.allocate.solve import FIX_SLACK, SATURATED, TOL, stage_costs
from waterdesk.kernels import simplex as sx
from waterdesk.kernels.realise import interp_curve
from waterdesk.kernels.routing import reach_advance, reach_coefficients
from waterdesk.kernels.step import StepBounds, StepOut, assemble, record

ENGINES = ("compiled", "highs")
FAILED = -1


DEFAULT = "compiled"


def default_engine() -> str:
    """The engine of `simulate` when none is named: ``$WATERDESK_ENGINE``, else DEFAULT."""
    name = os.environ.get("WATERDESK_ENGINE", DEFAULT).strip().lower() or DEFAULT
    if name not in ENGINES:
        raise ValueError(f"WATERDESK_ENGINE={name!r}: expected one of {', '.join(ENGINES)}")
    return name


class EngineLP(NamedTuple):
    """What the compiled driver needs of the step LP (one member's block)."""

    start: NDArray[np.int64]        # CSC column starts of A (n + 1,)
    index: NDArray[np.int64]        # CSC row indices
    n: int                          # structural columns
    m: int                          # rows
    costs: NDArray[np.float64]      # (2 L, n): stage k, guard 0 at 2k, guard k at 2k + 1
    claim_col: NDArray[np.int64]
    claim_slack: NDArray[np.bool_]
    claim_level: NDArray[np.int64]
    row_share: NDArray[np.int64]
    claim_m: NDArray[np.int64]
    level_start: NDArray[np.int64]  # claims of level k: level_claims[level_start[k]:level_start[k+1]]
    level_claims: NDArray[np.int64]
    m_scale: NDArray[np.float64]    # (L,)
    max_iter: int


class MemberState(NamedTuple):
    """Per member (leading axis): basis, inverse, values and the guessed first stage."""

    value: NDArray[np.float64]      # (M, nnz) matrix entries (coefficients differ by member)
    head: NDArray[np.int64]         # (M, m)
    status: NDArray[np.int8]        # (M, n + m)
    bt: NDArray[np.float64]         # (M, m, m)
    x: NDArray[np.float64]          # (M, n + m)
    y: NDArray[np.float64]          # (M, m)
    work: NDArray[np.int64]         # (M, 1)
    guess: NDArray[np.int64]        # (M,)


@njit(cache=True, no_cpython_wrapper=True)
def _run(E, key, value, lo, hi, head, status, x, bt, y, work, count):
    code, iters = sx.solve(E.start, E.index, value, E.n, E.costs[key], lo, hi, head, status, x, bt,
                           y, work, E.max_iter)
    count[0] += 1
    count[1] += iters
    return code == sx.OK


@njit(cache=True, no_cpython_wrapper=True)
def _shortage(E, x, request, c):
    got = x[E.claim_col[c]]
    return got if E.claim_slack[c] else request[c] - got


@njit(cache=True, no_cpython_wrapper=True)
def _first_short(E, x, request, stage):
    """The highest-priority level >= stage with a claim short by more than TOL (-1: none)."""
    best = -1
    for c in range(E.claim_col.shape[0]):
        k = E.claim_level[c]
        if k >= stage and (best < 0 or k < best) and _shortage(E, x, request, c) > TOL:
            best = k
    return best


@njit(cache=True, no_cpython_wrapper=True)
def _freeze(E, c, x, lo, hi):
    """Claim c keeps what it gets: a delivery may not fall (less FIX_SLACK, relative), a
    soft clause's shortfall may not grow; its equal-fraction row no longer binds M."""
    col = E.claim_col[c]
    slack = FIX_SLACK * max(1.0, x[col])
    if E.claim_slack[c]:
        hi[col] = x[col] + slack
    else:
        lo[col] = max(0.0, x[col] - slack)
    row = E.n + E.row_share[c]
    lo[row] = -np.inf
    hi[row] = np.inf


@njit(cache=True, no_cpython_wrapper=True)
def _fix_levels(E, first, last, x, lo, hi):
    for k in range(first, last):
        for i in range(E.level_start[k], E.level_start[k + 1]):
            _freeze(E, E.level_claims[i], x, lo, hi)


@njit(cache=True, no_cpython_wrapper=True)
def _water_fill(E, level, request, value, lo, hi, head, status, x, bt, y, work, count):
    """Max-min fairness within `level` (as `StepSolver._water_fill` with no round limit)."""
    first, last = E.level_start[level], E.level_start[level + 1]
    free = np.empty(last - first, np.int64)
    n_free = 0
    for i in range(first, last):
        c = E.level_claims[i]
        if request[c] > 0.0:
            free[n_free] = c
            n_free += 1
    scale = E.m_scale[level]
    frac = np.zeros(request.shape[0])
    at_max = np.empty(n_free, np.int64)
    keep = np.empty(n_free, np.bool_)
    while n_free:
        total = 0.0
        for i in range(first, last):
            c = E.level_claims[i]
            total += x[E.claim_m[c]] / scale * request[c]
        if total <= TOL:
            return True
        for i in range(n_free):
            c = free[i]
            frac[c] = _shortage(E, x, request, c) / request[c]
        n_at = 0
        for i in range(n_free):
            c = free[i]
            if frac[c] >= x[E.claim_m[c]] / scale * (1.0 - 1e-7) - 1e-9:
                at_max[n_at] = c
                n_at += 1
        if n_at == 0:                   # M not tight (numerics): the worst-off claim
            worst = 0
            for i in range(1, n_free):
                if frac[free[i]] > frac[free[worst]]:
                    worst = i
            at_max[0] = free[worst]
            n_at = 1
        n_bottle = 0
        strongest = 0
        for i in range(n_at):
            dual = abs(y[E.row_share[at_max[i]]])
            if dual > abs(y[E.row_share[at_max[strongest]]]):
                strongest = i
            if dual > SATURATED:
                n_bottle += 1
        if n_bottle == n_free:
            return True                 # every undecided claim is saturated: max-min fair
        frozen = np.zeros(request.shape[0], np.bool_)
        if n_bottle == 0:
            frozen[at_max[strongest]] = True
            if n_free == 1:
                return True
        else:
            for i in range(n_at):
                if abs(y[E.row_share[at_max[i]]]) > SATURATED:
                    frozen[at_max[i]] = True
        for i in range(n_free):
            keep[i] = not frozen[free[i]]
            if frozen[free[i]]:
                _freeze(E, free[i], x, lo, hi)
        n_new = 0
        for i in range(n_free):
            if keep[i]:
                free[n_new] = free[i]
                n_new += 1
        n_free = n_new
        rest = True
        for i in range(n_free):
            if frac[free[i]] * request[free[i]] > TOL:
                rest = False
        if rest:
            return True                 # the rest are fully served already
        if not _run(E, 2 * level, value, lo, hi, head, status, x, bt, y, work, count):
            return False
    return True


@njit(cache=True, no_cpython_wrapper=True)
def lexicographic(E, request, value, lo, hi, head, status, x, bt, y, work, guess, count):
    """One member's step (as `StepSolver._solve_step`): lo and hi hold the step's column
    then row bounds and are changed in place as levels are decided. True when every
    stage was certified; x[:n] is then the allocation."""
    n_level = E.m_scale.shape[0]
    stage = guess[0] if 0 < guess[0] < n_level else 0
    if not _run(E, 2 * stage + (1 if stage > 0 else 0), value, lo, hi, head, status, x, bt, y,
                work, count):
        return False
    while stage:
        above = _first_short(E, x, request, 0)
        if above < 0 or above >= stage:
            _fix_levels(E, 0, stage, x, lo, hi)
            break
        stage = above                   # a level above the guess is short
        if not _run(E, 2 * stage + (1 if stage > 0 else 0), value, lo, hi, head, status, x, bt,
                    y, work, count):
            return False
    first_short = -1
    while True:
        level = _first_short(E, x, request, stage)
        if level < 0:
            guess[0] = max(first_short, 0)
            return True
        if first_short < 0:
            first_short = level
        if level != stage:
            _fix_levels(E, stage, level, x, lo, hi)
            if not _run(E, 2 * level, value, lo, hi, head, status, x, bt, y, work, count):
                return False
            short = False
            for i in range(E.level_start[level], E.level_start[level + 1]):
                if _shortage(E, x, request, E.level_claims[i]) > TOL:
                    short = True
            if not short:
                stage = level + 1
                _fix_levels(E, level, level + 1, x, lo, hi)
                continue
        if not _water_fill(E, level, request, value, lo, hi, head, status, x, bt, y, work, count):
            return False
        _fix_levels(E, level, level + 1, x, lo, hi)
        stage = level + 1
        if stage >= n_level or _first_short(E, x, request, stage) < 0:
            guess[0] = first_short
            return True
        if not _run(E, 2 * stage, value, lo, hi, head, status, x, bt, y, work, count):
            return False


@njit(cache=True, no_cpython_wrapper=True)
def solve_member(E, S, mm, coef_index, coef_values, col_lo, col_hi, row_lo, row_hi, request,
                 x_out, ok, count):
    """Member mm's step: the changed matrix entries coef_values (M, n_coef) at CSC positions
    coef_index, bounds (M, n) and (M, m), requests (M, n_claim); writes x_out[mm] and ok[mm];
    count[mm] accumulates solves and pivots."""
    n, m = E.n, E.m
    value = S.value[mm]
    head, status, bt, work = S.head[mm], S.status[mm], S.bt[mm], S.work[mm]
    # changed coefficients: a basic column is replaced in the inverse
    alpha = np.empty(m)
    refactor = False
    for i in range(coef_index.shape[0]):
        k = coef_index[i]
        if value[k] != coef_values[mm, i]:
            value[k] = coef_values[mm, i]
            j = 0
            while E.start[j + 1] <= k:
                j += 1
            if status[j] == sx.BASIC and not refactor:
                p = 0
                while head[p] != j:
                    p += 1
                sx._column(E.start, E.index, value, n, bt, j, alpha)
                # B^-1 a_new: replace column p (a near-zero pivot means rebuild instead)
                if abs(alpha[p]) > 1e-7:
                    sx._pivot_update(bt, alpha, p)
                    work[0] += 1
                else:
                    refactor = True
    if refactor:
        if not sx.invert(E.start, E.index, value, head, n, bt):
            sx.reset_basis(n, m, head, status, bt, work)
        work[0] = 0
    lo = np.empty(n + m)
    hi = np.empty(n + m)
    for j in range(n):          # loops, not slice copies: cheaper to compile
        lo[j] = col_lo[mm, j]
        hi[j] = col_hi[mm, j]
    for i in range(m):
        lo[n + i] = row_lo[mm, i]
        hi[n + i] = row_hi[mm, i]
    x = S.x[mm]
    ok[mm] = lexicographic(E, request[mm], value, lo, hi, head, status, x, bt, S.y[mm], work,
                           S.guess[mm:mm + 1], count[mm])
    for j in range(n):
        x_out[mm, j] = x[j]


class RunData(NamedTuple):
    """What the compiled step loop reads of a run (simulate._Run), unchanged by it."""

    delta: NDArray[np.float64]          # (T,) mcm per m3 s-1
    days: NDArray[np.float64]           # (T,)
    edges: NDArray[np.float64]          # (T + 1,) days since the start
    local: NDArray[np.float64]          # (M, T, N) m3 s-1
    requests: NDArray[np.float64]       # (T, D) mcm
    evap_mm: NDArray[np.float64]        # (K, T)
    energy_target: NDArray[np.float64]  # (T, E) GWh
    e_res: NDArray[np.int64]            # (E,)
    row_energy: NDArray[np.int64]       # (E,)
    share_energy: NDArray[np.int64]     # (E,) equal-fraction rows of the energy claims
    claim_m_scale: NDArray[np.float64]  # (n_claim,) M's scale of each claim's level
    n_soft: int
    routing: NDArray[np.int64]
    k_days: NDArray[np.float64]
    x: NDArray[np.float64]
    loss: NDArray[np.float64]
    lagged_demand: bool
    handover: NDArray[np.bool_]         # (T,) steps handed to HiGHS unsolved (tests, debugging)


class RunState(NamedTuple):
    """Per member (leading axis) state the loop advances, bounds it writes and outputs."""

    cum: NDArray[np.float64]
    q0: NDArray[np.float64]
    musk_i: NDArray[np.float64]
    musk_o: NDArray[np.float64]
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    storage: NDArray[np.float64]
    evap: NDArray[np.float64]
    b_mcm: NDArray[np.float64]
    q_m3s: NDArray[np.float64]
    claim_request: NDArray[np.float64]


@njit(cache=True, no_cpython_wrapper=True)
def _energy_per_mcm(storage, k, net):
    """GWh per mcm through reservoir k's turbines at the head of `storage` (as
    simulate.energy_per_mcm)."""
    head = interp_curve(storage, net.head_s[k], net.head_h[k], int(net.head_n[k]))
    return 1000.0 * 9.81 * net.efficiency[k] * head / 3.6e6


@njit(cache=True)
def member_steps(E, S, mm, t0, t1, coef_index, D, R, net, cols, bounds, out, x_out, ok, count):
    """Member mm from step t0 up to t1: routing coefficients, bounds, the allocation and
    the realised step, in compiled code. Returns the first step not done (t1 when all
    were; else the step the engine could not certify, assembled and left for HiGHS)."""
    n_d = D.requests.shape[1]
    n_r = D.routing.shape[0]
    n_e = D.e_res.shape[0]
    n_claims = n_r + R.claim_request.shape[1]
    inf = np.inf
    one = StepBounds(bounds.col_lo[mm], bounds.col_hi[mm], bounds.row_lo[mm], bounds.row_hi[mm],
                     bounds.coef[mm])
    mine = StepOut(out.node_flow[mm], out.reach_flow[mm], out.reach_outflow[mm], out.storage[mm],
                   out.release[mm], out.spill[mm], out.evaporation[mm], out.energy[mm],
                   out.supplied[mm], out.mass_balance_error[mm])
    for t in range(t0, t1):
        reach_coefficients(t, D.routing, D.k_days, D.x, D.loss, D.edges, R.cum[mm], R.q0[mm],
                           R.musk_i[mm], R.musk_o[mm], R.a[mm], R.b[mm])
        assemble(D.delta[t], D.local[mm, t], D.requests[t], R.storage[mm], D.evap_mm[:, t], R.a[mm],
                 R.b[mm], net, cols, D.lagged_demand, inf, one, R.evap[mm], R.b_mcm[mm])
        request = R.claim_request[mm]
        for i in range(n_d):
            request[i] = D.requests[t, i]
        for i in range(n_e):
            target = D.energy_target[t, i]
            request[n_d + D.n_soft + i] = target
            one.row_lo[D.row_energy[i]] = target if target > 0 else -inf
            one.row_lo[D.share_energy[i]] = 0.0 if target > 0 else -inf
            one.coef[n_r + n_d + D.n_soft + i] = target
            one.coef[n_claims + i] = _energy_per_mcm(R.storage[mm, D.e_res[i]], D.e_res[i], net)
        for i in range(n_r, n_claims):
            one.coef[i] /= D.claim_m_scale[i - n_r]          # M is held in mcm
        if D.handover[t]:
            ok[mm] = False
            return t
        solve_member(E, S, mm, coef_index, bounds.coef, bounds.col_lo, bounds.col_hi,
                     bounds.row_lo, bounds.row_hi, R.claim_request, x_out, ok, count)
        if not ok[mm]:
            return t
        record(t, x_out[mm], D.delta[t], D.days[t] * 24.0, D.local[mm, t], R.a[mm], R.b_mcm[mm], net,
               cols, R.storage[mm], R.evap[mm], mine, R.q_m3s[mm])
        reach_advance(t, R.q_m3s[mm], D.routing, D.k_days, D.x, D.edges, R.cum[mm], R.q0[mm],
                      R.musk_i[mm], R.musk_o[mm])
    return t1


@njit(cache=True, parallel=True)
def run_members(E, S, pos, t1, coef_index, D, R, net, cols, bounds, out, x_out, ok, count):
    """Every member from its own step pos[m] up to t1, in parallel over members; pos[m]
    becomes the first step member m did not do (see `member_steps`)."""
    for mm in prange(pos.shape[0]):
        if pos[mm] < t1:
            pos[mm] = member_steps(E, S, mm, pos[mm], t1, coef_index, D, R, net, cols, bounds, out,
                                   x_out, ok, count)


class Engine:
    """The compiled engine for `members` copies of one step LP.

    `coef_rows`, `coef_cols`: the matrix positions that change between steps (one
    member's block), as `StepSolver.set_coefficients` receives them."""

    #: pivots allowed per stage solve (None: 20 (n + m) + 200)
    max_iter: int | None = None
    #: steps (indices) the engine hands to HiGHS without trying (tests, debugging)
    handover: tuple[int, ...] = ()

    def __init__(self, lp: StepLP, members: int, m_scale: NDArray[np.float64],
                 coef_rows: NDArray[np.int64], coef_cols: NDArray[np.int64]) -> None:
        a = lp.a_matrix.tocsc()
        a.sort_indices()
        n, m = lp.n_col, lp.n_row
        n_level = len(lp.levels)
        costs = np.zeros((max(2 * n_level, 1), n))
        for k in range(n_level):
            costs[2 * k] = stage_costs(lp, k, 0)
            costs[2 * k + 1] = stage_costs(lp, k, k)
        if not n_level:
            costs[0] = stage_costs(lp, 0, 0)
        order = np.argsort(lp.claim_level, kind="stable")
        level_start = np.searchsorted(lp.claim_level[order], np.arange(n_level + 1)).astype(np.int64)
        self.lp_data = EngineLP(
            start=a.indptr.astype(np.int64), index=a.indices.astype(np.int64), n=n, m=m,
            costs=costs, claim_col=lp.claim_col.astype(np.int64), claim_slack=lp.claim_slack,
            claim_level=lp.claim_level.astype(np.int64), row_share=lp.row_share.astype(np.int64),
            claim_m=lp.claim_m.astype(np.int64), level_start=level_start,
            level_claims=order.astype(np.int64), m_scale=np.asarray(m_scale, np.float64),
            max_iter=int(20 * (n + m) + 200 if self.max_iter is None else self.max_iter))
        self.coef_index = np.array([_csc_position(a, int(r), int(c)) for r, c in zip(coef_rows, coef_cols)],
                                   dtype=np.int64)
        value = np.tile(a.data.astype(np.float64), (members, 1))
        self.state = MemberState(
            value=value, head=np.zeros((members, m), np.int64),
            status=np.zeros((members, n + m), np.int8), bt=np.zeros((members, m, m)),
            x=np.zeros((members, n + m)), y=np.zeros((members, m)),
            work=np.zeros((members, 1), np.int64), guess=np.zeros(members, np.int64))
        for mm in range(members):
            sx.reset_basis(n, m, self.state.head[mm], self.state.status[mm], self.state.bt[mm],
                           self.state.work[mm])
        self.members = members
        self.count = np.zeros((members, 2), np.int64)
        self.x = np.zeros((members, n))
        self.ok = np.zeros(members, np.bool_)
        self.fallbacks = 0          # member-steps handed to HiGHS

    def run(self, pos: NDArray[np.int64], t1: int, data: RunData, state: RunState,
            net: "object", cols: "object", bounds: StepBounds, out: StepOut) -> None:
        """Every member from step pos[m] up to t1 in compiled code (`member_steps`); where
        pos[m] < t1 after the call, member m's step pos[m] is assembled in `bounds` and
        waits for the HiGHS path."""
        args = (pos, t1, self.coef_index, data, state, net, cols, bounds, out, self.x, self.ok,
                self.count)
        if self.members == 1:      # no thread pool for one member
            pos[0] = member_steps(self.lp_data, self.state, 0, pos[0], t1, *args[2:])
        else:
            run_members(self.lp_data, self.state, *args)

    @property
    def solves(self) -> int:
        return int(self.count[:, 0].sum())

    @property
    def iterations(self) -> int:
        return int(self.count[:, 1].sum())


def _csc_position(a: "object", row: int, col: int) -> int:
    """Index in a CSC matrix's data of entry (row, col), which must be stored."""
    lo, hi = a.indptr[col], a.indptr[col + 1]   # type: ignore[attr-defined]
    hits = np.flatnonzero(a.indices[lo:hi] == row)   # type: ignore[attr-defined]
    if not hits.size:
        raise ValueError(f"coefficient ({row}, {col}) is not in the step LP's pattern")
    return int(lo + hits[0])
