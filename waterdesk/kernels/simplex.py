"""A bounded-variable primal simplex in numba, for the small step LPs (numpy + numba only).

The LP is ``min c·x  s.t.  A x - r = 0,  lo <= (x, r) <= hi`` over the n structural
columns x and one logical r per row (its activity), so row bounds are plain variable
bounds. The basis inverse is held dense and transposed (``bt[i, p] = B^-1[p, i]``) and
updated by one elimination per pivot; it is rebuilt by Gauss-Jordan with partial
pivoting (no LAPACK, so the result does not depend on a BLAS's thread count) every
REFACTOR pivots. A solve starts from the basis the previous one ended with (warm start):
when only bounds change the basis stays a good guess and a step typically needs zero to
a few pivots. Phase 1 minimises the sum of the basic variables' bound violations
(composite; nonbasic variables always sit at a bound or hold their value).

Every solve is certified before it is reported optimal: the basic solution is recomputed
from a fresh inverse, the rows' residuals, the bounds (primal feasibility) and the reduced
costs' signs (dual feasibility, i.e. optimality) are checked to tolerance. Anything else
(infeasible, unbounded, singular, iteration cap, a failed check) returns a status other
than OK and the caller hands the LP to HiGHS.
"""
from __future__ import annotations

import numpy as np
from numba import njit

OK, INFEASIBLE, UNBOUNDED, ITERATIONS, SINGULAR, UNCERTIFIED = 0, 1, 2, 3, 4, 5
BASIC, AT_LO, AT_HI, BETWEEN = 0, 1, 2, 3

PRIMAL_TOL = 1e-9      # bound violation [mcm] read as none (relative to 1 + |bound|)
DUAL_TOL = 1e-9        # reduced cost read as zero (costs range 1e-5 .. 1e4)
CERT_PRIMAL = 1e-7     # certification: bounds and row residuals (HiGHS's own default)
CERT_DUAL = 1e-7       # certification: reduced-cost signs
PIVOT_TOL = 1e-9       # smallest |alpha| accepted as a pivot
REFACTOR = 2000        # pivots between rebuilds of the inverse (each solve is certified, and an
                       # inverse that fails the check is rebuilt then)
DEGENERATE_SWITCH = 30  # consecutive zero-length steps before Bland's rule


@njit(cache=True, no_cpython_wrapper=True)
def invert(start, index, value, head, n, bt):
    """bt = (B^-1)^T for the basic columns `head` (structural j < n from the CSC arrays,
    logical n + i = -e_i); Gauss-Jordan with partial pivoting. False if singular."""
    m = head.shape[0]
    b = np.zeros((m, 2 * m))
    for p in range(m):
        j = head[p]
        if j < n:
            for k in range(start[j], start[j + 1]):
                b[index[k], p] = value[k]
        else:
            b[j - n, p] = -1.0
        b[p, m + p] = 1.0
    for c in range(m):
        piv = c
        best = abs(b[c, c])
        for r in range(c + 1, m):
            if abs(b[r, c]) > best:
                best = abs(b[r, c])
                piv = r
        if best < 1e-11:
            return False
        if piv != c:
            for k in range(2 * m):
                tmp = b[c, k]
                b[c, k] = b[piv, k]
                b[piv, k] = tmp
        inv = 1.0 / b[c, c]
        for k in range(c, 2 * m):
            b[c, k] *= inv
        for r in range(m):
            if r != c:
                f = b[r, c]
                if f != 0.0:
                    for k in range(c, 2 * m):
                        b[r, k] -= f * b[c, k]
    # b[:, m:] is B^-1 (rows = basis positions); store its transpose
    for p in range(m):
        for i in range(m):
            bt[i, p] = b[p, m + i]
    return True


@njit(cache=True, no_cpython_wrapper=True)
def _column(start, index, value, n, bt, j, out):
    """out = B^-1 a_j."""
    for i in range(out.shape[0]):
        out[i] = 0.0
    if j < n:
        for k in range(start[j], start[j + 1]):
            v = value[k]
            row = bt[index[k]]
            for p in range(out.shape[0]):
                out[p] += v * row[p]
    else:
        row = bt[j - n]
        for p in range(out.shape[0]):
            out[p] = -row[p]


@njit(cache=True, no_cpython_wrapper=True)
def _pivot_update(bt, alpha, p):
    """B^-1 after basis position p takes the column whose B^-1 a is alpha."""
    m = alpha.shape[0]
    inv = 1.0 / alpha[p]
    # alpha's nonzeros other than p: the only entries of a row that change (B^-1 and
    # alpha are sparse in network LPs, so this is a small fraction of m)
    nz = np.empty(m, np.int64)
    cnt = 0
    for i in range(m):
        if alpha[i] != 0.0 and i != p:
            nz[cnt] = i
            cnt += 1
    for k in range(m):
        piv = bt[k, p] * inv
        if piv != 0.0:
            row = bt[k]
            for q in range(cnt):
                i = nz[q]
                row[i] -= alpha[i] * piv
        bt[k, p] = piv


@njit(cache=True, no_cpython_wrapper=True)
def _place_nonbasic(n, m, status, x, lo, hi):
    """Nonbasic variables at their bounds (a bound that is infinite: the other one, or
    their value kept, BETWEEN); a BETWEEN variable at or past a bound goes to it."""
    for j in range(n + m):
        s = status[j]
        if s == BASIC:
            continue
        if s == AT_LO and lo[j] == -np.inf:
            s = AT_HI if hi[j] < np.inf else BETWEEN
        elif s == AT_HI and hi[j] == np.inf:
            s = AT_LO if lo[j] > -np.inf else BETWEEN
        elif s == BETWEEN:
            if lo[j] > -np.inf and x[j] <= lo[j]:
                s = AT_LO
            elif hi[j] < np.inf and x[j] >= hi[j]:
                s = AT_HI
        status[j] = s
        if s == AT_LO:
            x[j] = lo[j]
        elif s == AT_HI:
            x[j] = hi[j]


@njit(cache=True, no_cpython_wrapper=True)
def _basic_update(start, index, value, n, head, status, x, lo, hi, bt):
    """As `basic_solution`, by correcting the basic values x holds: with the nonbasic ones
    at their bounds, x_B -= B^-1 (A x - r), only over the rows whose residual is above
    roundoff (1e-12 of the row's terms). Where only a few bounds changed since x_B was
    last solved for (a stage after the last one) this reads a few rows of B^-1 instead
    of all; from any x_B (a stale one, after a change of basis or coefficients) it gives
    the same solution to roundoff."""
    m = head.shape[0]
    _place_nonbasic(n, m, status, x, lo, hi)
    for p in range(m):
        if not np.isfinite(x[head[p]]):
            x[head[p]] = 0.0
    buf = np.zeros(3 * m)
    res, size, xb = buf[:m], buf[m:2 * m], buf[2 * m:]
    for j in range(n):
        v = x[j]
        if v != 0.0:
            for k in range(start[j], start[j + 1]):
                t = value[k] * v
                res[index[k]] += t
                size[index[k]] += abs(t)
    touched = False
    for i in range(m):
        r = res[i] - x[n + i]
        if not abs(r) <= 1e-12 * (1.0 + size[i] + abs(x[n + i])):
            row = bt[i]
            for p in range(m):
                xb[p] += r * row[p]
            touched = True
    if touched:
        for p in range(m):
            x[head[p]] -= xb[p]


@njit(cache=True, no_cpython_wrapper=True)
def basic_solution(start, index, value, n, head, status, x, lo, hi, bt):
    """Put nonbasic variables at their bounds (or keep their value where they have
    none) and solve for the basic ones."""
    m = head.shape[0]
    _place_nonbasic(n, m, status, x, lo, hi)
    rhs = np.zeros(m)
    for j in range(n + m):
        if status[j] == BASIC:
            continue
        v = x[j]
        if v != 0.0:
            if j < n:
                for k in range(start[j], start[j + 1]):
                    rhs[index[k]] -= value[k] * v
            else:
                rhs[j - n] += v
    # x_B = B^-1 rhs, accumulated in basis order (contiguous, so it vectorises) and then
    # scattered to the basic variables
    xb = np.zeros(m)
    for i in range(m):
        r = rhs[i]
        if r != 0.0:
            row = bt[i]
            for p in range(m):
                xb[p] += r * row[p]
    for p in range(m):
        x[head[p]] = xb[p]


@njit(cache=True, no_cpython_wrapper=True)
def _duals(bt, cb, y):
    """y = B^-T c_B, from scratch: the basic positions with a nonzero cost only (the same
    sums in the same order as the dense product, without its zero terms), each added to
    every row independently (no chain of dependent additions, unlike a row dot product)."""
    m = cb.shape[0]
    for i in range(y.shape[0]):
        y[i] = 0.0
    for p in range(m):
        c = cb[p]
        if c != 0.0:
            for i in range(m):
                y[i] += bt[i, p] * c


@njit(cache=True, no_cpython_wrapper=True)
def _rows(start, index, n, m):
    """The matrix by rows (the structure only): row i's entries are row_col[q] (column) and
    row_k[q] (position in the CSC arrays) for q in row_start[i]:row_start[i + 1]."""
    nnz = start[n]
    row_start = np.zeros(m + 1, np.int64)
    for k in range(nnz):
        row_start[index[k] + 1] += 1
    for i in range(m):
        row_start[i + 1] += row_start[i]
    fill = row_start[:m].copy()
    row_col = np.empty(nnz, np.int64)
    row_k = np.empty(nnz, np.int64)
    for j in range(n):
        for k in range(start[j], start[j + 1]):
            q = fill[index[k]]
            row_col[q] = j
            row_k[q] = k
            fill[index[k]] += 1
    return row_start, row_col, row_k


@njit(cache=True, no_cpython_wrapper=True)
def _dual_step(bt, p, delta, rows, n_rows, value, n, row_start, row_col, row_k, y, reduced):
    """y += delta * (row p of B^-1) and the reduced costs with it (d_j = c_j - y·a_j, the
    logical n + i's is y_i): only the rows rows[:n_rows] where that row of B^-1 is
    nonzero, and the columns with an entry in them."""
    for r in range(n_rows):
        i = rows[r]
        dy = delta * bt[i, p]
        y[i] += dy
        reduced[n + i] = y[i]
        for q in range(row_start[i], row_start[i + 1]):
            reduced[row_col[q]] -= dy * value[row_k[q]]


@njit(cache=True, no_cpython_wrapper=True)
def _pivot_rows(bt, alpha, p, nz, cnt, rows):
    """`_pivot_update` given alpha's nonzeros nz[:cnt]; also puts in rows the rows k where
    the new bt[k, p] (row p of the new B^-1) is nonzero and returns how many."""
    inv = 1.0 / alpha[p]
    n_rows = 0
    for k in range(bt.shape[0]):
        piv = bt[k, p] * inv
        if piv != 0.0:
            row = bt[k]
            for q in range(cnt):
                i = nz[q]
                if i != p:
                    row[i] -= alpha[i] * piv
            rows[n_rows] = k
            n_rows += 1
        bt[k, p] = piv
    return n_rows


@njit(cache=True, no_cpython_wrapper=True)
def _dual_changes(bt, cb, cb_y, value, n, row_start, row_col, row_k, y, reduced, rows):
    """Bring y = B^-T cb_y (and the reduced costs) up to the basic costs cb: each changed
    cost adds its change times a row of B^-1. True when so many changed that computing
    them from scratch is cheaper. `rows` is room for m row indices."""
    m = cb.shape[0]
    changed = 0
    for p in range(m):
        if cb[p] != cb_y[p]:
            changed += 1
    if 8 * changed > m:
        return True
    if changed:
        for p in range(m):
            dc = cb[p] - cb_y[p]
            if dc != 0.0:
                n_rows = 0
                for i in range(m):
                    if bt[i, p] != 0.0:
                        rows[n_rows] = i
                        n_rows += 1
                _dual_step(bt, p, dc, rows, n_rows, value, n, row_start, row_col, row_k, y, reduced)
                cb_y[p] = cb[p]
    return False


@njit(cache=True, no_cpython_wrapper=True)
def _candidates(status, x, lo, hi, move, cand):
    """Every variable's `_moves` code, and cand[:returned] = the variables that may move
    (code != 0), increasing."""
    n_cand = 0
    for j in range(move.shape[0]):
        move[j] = _moves(status[j], x[j], lo[j], hi[j])
        if move[j] != 0:
            cand[n_cand] = j
            n_cand += 1
    return n_cand


@njit(cache=True, no_cpython_wrapper=True)
def _swap_candidate(cand, n_cand, gone, new):
    """The candidate list without `gone` (-1: none) and with `new` (-1: none), still
    increasing. Returns its length."""
    if gone >= 0:
        q = np.searchsorted(cand[:n_cand], gone)
        if q < n_cand and cand[q] == gone:
            for r in range(q, n_cand - 1):
                cand[r] = cand[r + 1]
            n_cand -= 1
    if new >= 0:
        q = np.searchsorted(cand[:n_cand], new)
        if not (q < n_cand and cand[q] == new):
            for r in range(n_cand, q, -1):
                cand[r] = cand[r - 1]
            cand[q] = new
            n_cand += 1
    return n_cand


@njit(cache=True, no_cpython_wrapper=True)
def _move(x, head, status, move, cand, n_cand, lo, hi, alpha, nz, cnt, enter, direction, t, leave,
          leave_to):
    """Move `enter` by t in `direction` (+1 up, -1 down) and the basic variables with it
    (by -t * direction * alpha, at alpha's nonzeros nz[:cnt]); then either its bound
    flips (leave < 0: to the bound it moved to) or it takes basis position `leave`, whose
    variable leaves at leave_to. Keeps the move codes and the candidate list; returns its
    length."""
    for q in range(cnt):
        p = nz[q]
        x[head[p]] -= t * direction * alpha[p]
    if leave < 0:
        if direction > 0.0:
            x[enter] = hi[enter]
            status[enter] = AT_HI
        else:
            x[enter] = lo[enter]
            status[enter] = AT_LO
        move[enter] = _moves(status[enter], x[enter], lo[enter], hi[enter])
        return _swap_candidate(cand, n_cand, enter, -1) if move[enter] == 0 else n_cand
    x[enter] += t * direction
    out = head[leave]
    x[out] = lo[out] if leave_to == AT_LO else hi[out]
    status[out] = leave_to
    move[out] = _moves(leave_to, x[out], lo[out], hi[out])
    head[leave] = enter
    status[enter] = BASIC
    move[enter] = 0
    return _swap_candidate(cand, n_cand, enter, out if move[out] != 0 else -1)


@njit(cache=True, no_cpython_wrapper=True)
def _nonzeros(alpha, nz):
    """nz[:cnt] = the positions where alpha is nonzero, in order; returns cnt."""
    cnt = 0
    for p in range(alpha.shape[0]):
        if alpha[p] != 0.0:
            nz[cnt] = p
            cnt += 1
    return cnt


@njit(cache=True, no_cpython_wrapper=True)
def _out_of_bounds(lo, hi, j, v):
    """v is outside j's bounds by more than the primal tolerance (as `_phase_costs`)."""
    return v < lo[j] - PRIMAL_TOL * (1.0 + abs(lo[j])) or v > hi[j] + PRIMAL_TOL * (1.0 + abs(hi[j]))


@njit(cache=True, no_cpython_wrapper=True)
def _moves(s, v, low, high):
    """Which way a variable may move while it prices: 1 up, 2 down, 3 both, 0 none
    (basic or fixed)."""
    if s == BASIC or low == high:
        return 0
    r = 0
    if s == AT_LO or (s == BETWEEN and v < high):
        r |= 1
    if s == AT_HI or (s == BETWEEN and v > low):
        r |= 2
    return r


@njit(cache=True, no_cpython_wrapper=True)
def _reduced(start, index, value, n, cost, y, j, phase1):
    if j < n:
        d = 0.0 if phase1 else cost[j]
        for k in range(start[j], start[j + 1]):
            d -= y[index[k]] * value[k]
        return d
    return y[j - n]


@njit(cache=True, no_cpython_wrapper=True)
def _reduced_costs(start, index, value, n, cost, y, phase1, d):
    """Every column's reduced cost d_j = c_j - y·a_j (as `_reduced`, in one pass over the
    matrix); phase 1 has no structural costs, a logical n + i has y_i."""
    for j in range(n):
        dj = 0.0 if phase1 else cost[j]
        for k in range(start[j], start[j + 1]):
            dj -= y[index[k]] * value[k]
        d[j] = dj
    for i in range(y.shape[0]):
        d[n + i] = y[i]


@njit(cache=True, no_cpython_wrapper=True)
def _phase_costs(start, index, value, n, cost, lo, hi, head, x, cb):
    """Basic costs cb: phase 1 (+-1 on basic variables out of bounds) while any is, else
    the objective's. Returns whether this is phase 1."""
    m = head.shape[0]
    phase1 = False
    for p in range(m):
        j = head[p]
        v = x[j]
        if v < lo[j] - PRIMAL_TOL * (1.0 + abs(lo[j])):
            cb[p] = -1.0
            phase1 = True
        elif v > hi[j] + PRIMAL_TOL * (1.0 + abs(hi[j])):
            cb[p] = 1.0
            phase1 = True
        else:
            cb[p] = 0.0
    if not phase1:
        for p in range(m):
            j = head[p]
            cb[p] = cost[j] if j < n else 0.0
    return phase1


@njit(cache=True, no_cpython_wrapper=True)
def _price(reduced, move, cand, n_cand, bland):
    """Pricing: Dantzig (largest reduced cost), or Bland's rule (first eligible) when
    stalling, over the variables that may move (cand[:n_cand], increasing: the nonbasic
    ones not fixed), given their reduced costs and the ways they may move (`_moves`).
    Returns (entering variable or -1, direction +1 up / -1 down)."""
    enter = -1
    best = 0.0
    direction = 0.0
    for q in range(n_cand):
        j = cand[q]
        # without branches until a candidate beats the best: the attractiveness of moving
        # j up (-d) or down (d) where it may move that way, else 0
        mv = move[j]
        d = reduced[j]
        up = ((mv & 1) != 0) & (d < -DUAL_TOL)
        down = ((mv & 2) != 0) & (d > DUAL_TOL)
        score = -d if up else (d if down else 0.0)
        if score > best:
            best = score
            enter = j
            direction = 1.0 if up else -1.0
            if bland:
                break
    return enter, direction


@njit(cache=True, no_cpython_wrapper=True)
def _blocking(lo, hi, j, v, g, tol):
    """The bound basic variable j (value v) runs into when it moves by t * g, and which
    (AT_LO or AT_HI); 0 as the third value when it blocks nothing: moving further out of
    bounds from an infeasible side (a phase-1 cost, not a block) or toward an infinite
    bound. A variable infeasible on the side it moves away from becomes feasible there."""
    if g < 0.0:
        if v > hi[j] + tol:
            return hi[j], AT_HI, 1
        if v < lo[j] - tol:
            return 0.0, AT_LO, 0
        return lo[j], AT_LO, 0 if lo[j] == -np.inf else 1
    if v < lo[j] - tol:
        return lo[j], AT_LO, 1
    if v > hi[j] + tol:
        return 0.0, AT_HI, 0
    return hi[j], AT_HI, 0 if hi[j] == np.inf else 1


@njit(cache=True, no_cpython_wrapper=True)
def _ratio_bound(lo, hi, head, x, alpha, direction, nz, cnt):
    """Harris's first pass: the largest step with every basic variable inside its bounds
    widened by the primal tolerance (basic p moves by t * g[p]; only the positions nz[:cnt]
    where alpha is nonzero can block)."""
    theta_max = np.inf
    for q in range(cnt):
        p = nz[q]
        g = -direction * alpha[p]
        if abs(g) <= PIVOT_TOL:
            continue
        j = head[p]
        v = x[j]
        tol = PRIMAL_TOL * (1.0 + abs(v))
        bound, to, blocks = _blocking(lo, hi, j, v, g, tol)
        if not blocks:
            continue
        r = (v - bound + tol) / -g if g < 0.0 else (bound - v + tol) / g
        if r < theta_max:
            theta_max = r
    return theta_max


@njit(cache=True, no_cpython_wrapper=True)
def _ratio_leave(lo, hi, head, x, alpha, direction, theta_max, bland, nz, cnt):
    """Harris's second pass: among the rows blocking within theta_max, the largest pivot
    (Bland: the lowest variable index). Returns (row or -1, the bound it leaves at, step)."""
    leave = -1
    leave_to = 0
    theta = np.inf
    big = 0.0
    for q in range(cnt):
        p = nz[q]
        g = -direction * alpha[p]
        if abs(g) <= PIVOT_TOL:
            continue
        j = head[p]
        v = x[j]
        tol = PRIMAL_TOL * (1.0 + abs(v))
        bound, to, blocks = _blocking(lo, hi, j, v, g, tol)
        if not blocks:
            continue
        r = (v - bound) / -g if g < 0.0 else (bound - v) / g
        if r <= theta_max and (abs(g) > big if not bland else leave < 0 or j < head[leave]):
            big = abs(g)
            leave = p
            leave_to = to
            theta = max(r, 0.0)
    return leave, leave_to, theta


@njit(cache=True, no_cpython_wrapper=True)
def simplex(start, index, value, n, cost, lo, hi, head, status, x, bt, y, work, max_iter):
    """Minimise cost·x from the current basis. Returns (status, pivots).

    `work` holds the pivot count since the last rebuild of bt in work[0] (kept between
    calls). y holds the row duals at the end (dobj / d activity)."""
    m = head.shape[0]
    nt = n + m
    # work arrays, two allocations (a small step LP is solved in microseconds)
    floats = np.empty(3 * m + nt)
    alpha, cb = floats[:m], floats[m:2 * m]
    cb_y = floats[2 * m:3 * m]  # the basic costs y is the solution for (y = B^-T cb_y)
    reduced = floats[3 * m:]    # reduced costs for y (phase 1: without the structural costs)
    ints = np.empty(2 * m + 2 * nt, np.int64)
    nz, rows, cand = ints[:m], ints[m:2 * m], ints[2 * m:2 * m + nt]
    move = ints[2 * m + nt:]
    cnt = 0                 # alpha's nonzeros: the basic positions the last iteration moved
    row_start = row_col = row_k = np.empty(0, np.int64)   # the matrix by rows, once needed
    fresh_y = True
    fresh_cb = True
    phase1 = True
    y_phase1 = False
    # fresh start from the stored inverse; rebuild it when it has seen many updates
    if work[0] >= REFACTOR:
        if not invert(start, index, value, head, n, bt):
            return SINGULAR, 0
        work[0] = 0
    _basic_update(start, index, value, n, head, status, x, lo, hi, bt)
    n_cand = _candidates(status, x, lo, hi, move, cand)
    iters = 0
    degenerate = 0
    while True:
        # phase: 1 while a basic variable is out of bounds
        changed = fresh_cb or phase1
        if not changed:
            # phase 2, and since cb was last computed only the basic variables at nz[:cnt]
            # moved (the one entering at a pivot among them, its cost already in cb): back
            # to phase 1 only if one of them left its bounds
            for q in range(cnt):
                j = head[nz[q]]
                if _out_of_bounds(lo, hi, j, x[j]):
                    changed = True
                    break
        if changed:
            phase1 = _phase_costs(start, index, value, n, cost, lo, hi, head, x, cb)
            fresh_cb = False
        if changed and not fresh_y and phase1 == y_phase1 and row_start.shape[0] == 0:
            row_start, row_col, row_k = _rows(start, index, n, m)
        if changed and not fresh_y:
            fresh_y = phase1 != y_phase1 or _dual_changes(bt, cb, cb_y, value, n, row_start,
                                                          row_col, row_k, y, reduced, rows)
        if fresh_y:
            _duals(bt, cb, y)
            for i in range(cb.shape[0]):
                cb_y[i] = cb[i]
            _reduced_costs(start, index, value, n, cost, y, phase1, reduced)
            y_phase1 = phase1
            fresh_y = False
        bland = degenerate >= DEGENERATE_SWITCH
        enter, direction = _price(reduced, move, cand, n_cand, bland)
        if enter < 0:
            if phase1:
                return INFEASIBLE, iters
            return OK, iters
        if iters >= max_iter:
            return ITERATIONS, iters
        _column(start, index, value, n, bt, enter, alpha)
        cnt = _nonzeros(alpha, nz)
        # ratio test (Harris, two passes)
        theta_max = _ratio_bound(lo, hi, head, x, alpha, direction, nz, cnt)
        leave, leave_to, theta = _ratio_leave(lo, hi, head, x, alpha, direction, theta_max, bland,
                                              nz, cnt)
        # the entering variable's own range
        if direction > 0.0:
            span = hi[enter] - x[enter]
        else:
            span = x[enter] - lo[enter]
        if span < np.inf and (leave < 0 or span <= theta):
            # bound flip: no basis change
            t = max(span, 0.0)
            n_cand = _move(x, head, status, move, cand, n_cand, lo, hi, alpha, nz, cnt, enter,
                           direction, t, -1, 0)
            iters += 1
            degenerate = degenerate + 1 if t == 0.0 else 0
            continue
        if leave < 0:
            return UNBOUNDED, iters
        if abs(alpha[leave]) <= PIVOT_TOL:
            return SINGULAR, iters
        t = theta
        n_cand = _move(x, head, status, move, cand, n_cand, lo, hi, alpha, nz, cnt, enter,
                       direction, t, leave, leave_to)
        d_enter = _reduced(start, index, value, n, cost, y, enter, phase1)   # afresh
        n_rows = _pivot_rows(bt, alpha, leave, nz, cnt, rows)
        if row_start.shape[0] == 0:
            row_start, row_col, row_k = _rows(start, index, n, m)
        # the duals of the new basis, whose position `leave` costs what the entering
        # variable does in this phase: y += d_enter * (row `leave` of the new B^-1)
        _dual_step(bt, leave, d_enter, rows, n_rows, value, n, row_start, row_col, row_k, y,
                   reduced)
        cb_y[leave] = 0.0 if phase1 or enter >= n else cost[enter]
        cb[leave] = cb_y[leave]
        work[0] += 1
        iters += 1
        degenerate = degenerate + 1 if t == 0.0 else 0
        if work[0] >= REFACTOR:
            if not invert(start, index, value, head, n, bt):
                return SINGULAR, iters
            work[0] = 0
            basic_solution(start, index, value, n, head, status, x, lo, hi, bt)
            n_cand = _candidates(status, x, lo, hi, move, cand)
            fresh_y = True
            fresh_cb = True


@njit(cache=True, no_cpython_wrapper=True)
def refresh(start, index, value, n, cost, lo, hi, head, status, x, bt, y, work):
    """The basic solution and the duals recomputed from a rebuilt inverse (before a
    `certify` that must not trust the updated one). False if the basis is singular."""
    m = head.shape[0]
    if not invert(start, index, value, head, n, bt):
        return False
    work[0] = 0
    basic_solution(start, index, value, n, head, status, x, lo, hi, bt)
    cb = np.empty(m)
    for p in range(m):
        j = head[p]
        cb[p] = cost[j] if j < n else 0.0
    _duals(bt, cb, y)
    return True


@njit(cache=True, no_cpython_wrapper=True)
def certify(start, index, value, n, cost, lo, hi, head, status, x, bt, y, work):
    """Check the basic solution x and the duals y independently of the inverse's
    accuracy: every row's residual, every bound (primal feasibility), the basic columns'
    reduced costs (zero: y solves B^T y = c_B) and the nonbasic ones' signs (dual
    feasibility, i.e. optimality). True when the basis is certified optimal (`refresh`
    first to check against a rebuilt inverse; one function per check keeps numba from
    compiling certify once per literal flag)."""
    m = head.shape[0]
    for j in range(n + m):
        tol = CERT_PRIMAL * (1.0 + abs(x[j]))
        if x[j] < lo[j] - tol or x[j] > hi[j] + tol:
            return False
    act = np.zeros(m)
    for j in range(n):
        v = x[j]
        if v != 0.0:
            for k in range(start[j], start[j + 1]):
                act[index[k]] += value[k] * v
    for i in range(m):
        if abs(act[i] - x[n + i]) > CERT_PRIMAL * (1.0 + abs(x[n + i])):
            return False
    cb = np.empty(m)
    for p in range(m):
        j = head[p]
        cb[p] = cost[j] if j < n else 0.0
    reduced = np.empty(n + m)
    _reduced_costs(start, index, value, n, cost, y, False, reduced)
    for p in range(m):
        if abs(reduced[head[p]]) > CERT_DUAL * (1.0 + abs(cb[p])):
            return False
    for j in range(n + m):
        s = status[j]
        if s == BASIC or lo[j] == hi[j]:
            continue
        d = reduced[j]
        if d < -CERT_DUAL and x[j] < hi[j]:
            return False
        if d > CERT_DUAL and x[j] > lo[j]:
            return False
    return True


@njit(cache=True)
def solve(start, index, value, n, cost, lo, hi, head, status, x, bt, y, work, max_iter):
    """`simplex` then `certify`; on a singular basis or a failed check, once more from
    the all-logical basis. Returns (status, pivots)."""
    m = head.shape[0]
    total = 0
    for attempt in range(2):
        code, iters = simplex(start, index, value, n, cost, lo, hi, head, status, x, bt, y, work,
                              max_iter)
        total += iters
        if code == OK:
            if certify(start, index, value, n, cost, lo, hi, head, status, x, bt, y, work):
                return OK, total
            # an inverse worn by updates may be all that is wrong: rebuild it, go on from
            # there and look again
            if invert(start, index, value, head, n, bt):
                work[0] = 0
                code, iters = simplex(start, index, value, n, cost, lo, hi, head, status, x, bt, y,
                                      work, max_iter)
                total += iters
                if (code == OK and refresh(start, index, value, n, cost, lo, hi, head, status, x, bt,
                                           y, work)
                        and certify(start, index, value, n, cost, lo, hi, head, status, x, bt, y, work)):
                    return OK, total
            code = UNCERTIFIED
        if code != SINGULAR and code != UNCERTIFIED and code != ITERATIONS:
            return code, total
        if attempt == 0:
            reset_basis(n, m, head, status, bt, work)
    return code, total


@njit(cache=True)
def reset_basis(n, m, head, status, bt, work):
    """All logicals basic (B = -I), structural columns at their lower bounds."""
    for j in range(n):
        status[j] = AT_LO
    for i in range(m):
        head[i] = n + i
        status[n + i] = BASIC
    for i in range(m):
        for p in range(m):
            bt[i, p] = 0.0
        bt[i, i] = -1.0
    work[0] = 0
