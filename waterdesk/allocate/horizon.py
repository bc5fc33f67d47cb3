r"""Horizon mode: one perfect-foresight LP per window, built from the one-step LP.

The one-step LP (declared in Pyomo, extracted once, `formulation.py`) is repeated
for the n steps of a window as diagonal blocks of a sparse matrix, and the blocks
are linked where time links them:

* storage: step t's reservoir balance holds ``v[t-1] - evap[t] - v[t]`` where the
  one-step LP had the known start storage; evaporation is a known volume per step,
  not a function of ``v[t-1]`` (the ``a1`` coefficient is 0): step 0's from the start
  storage, the others' from the area at the window's start storage (an area linear
  in storage made some windows numerically fragile in HiGHS), or, in a second pass,
  along the first pass's storage;
* routing: a reach delivers at step s ``Σ_j W[s, j]·q[j] + init[s]`` (its impulse
  response from `kernels.routing.impulse_response`; init is what the state at the
  window start still carries);
* clauses over a window: one row summing the clause's expression over the steps of
  each accounting window (exact, not spread as in step mode); `min_flow` and `split`
  stay one row per step;
* equal fractions: all claims of a priority level, over all steps, share one M.

Strict priorities are solved by the same lexicographic stages as step mode
(`solve.StepSolver`), on this matrix. Build and load cost is measured against the
solve in `benchmarks/bench_horizon.py`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from waterdesk.allocate.clauses import ClauseBook, ClauseRow
from waterdesk.allocate.formulation import StepLP
from waterdesk.allocate.operations import curve_release
from waterdesk.kernels import realise, routing
from waterdesk.model.network import Network

INF = float("inf")


@dataclass
class HorizonLP:
    """The window LP in the shape `StepSolver` drives, plus bounds and the block map."""

    lp: StepLP
    col_lower: NDArray[np.float64]
    col_upper: NDArray[np.float64]
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    claim_request: NDArray[np.float64]
    n_step: int
    n_col1: int
    exit_init: NDArray[np.float64]       # (n_step, n_reach) mcm delivered by the start state
    exit_w: sparse.csr_matrix            # exits (n_step*n_reach) = exit_w @ q (n_step*n_reach) + init
    level_scale: NDArray[np.float64]     # request scale S of each level (M is held in mcm)
    evap_a0: NDArray[np.float64]         # (n_step, n_res) evaporation = a0 + a1 * v[t-1]; a1 is 0 today
    evap_a1: NDArray[np.float64]
    window_rows: list[tuple[int, int, int]]   # (clause, window, LP row) of window clause rows
    step_rows: list[tuple[int, int, int]]     # (clause, step in window, LP row) of per-step rows
    hard_rows: dict[int, list[int]]


@dataclass
class _Parts:
    """The window LP while it is built: COO triplets, bounds per block, claims."""

    lp1: StepLP
    net: Network
    n: int
    steps: NDArray[np.int64]
    dl: NDArray[np.float64]
    inf: float
    rr: list[NDArray[np.int64]]
    cc: list[NDArray[np.int64]]
    vv: list[NDArray[np.float64]]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]
    claim_req: NDArray[np.float64]          # (n * n_claim1,)

    def add(self, r: NDArray[np.int64], c: NDArray[np.int64], v: NDArray[np.float64]) -> None:
        self.rr.append(np.asarray(r, dtype=np.int64))
        self.cc.append(np.asarray(c, dtype=np.int64))
        self.vv.append(np.asarray(v, dtype=np.float64))


def window_lp(lp1: StepLP, net: Network, rows1: list[ClauseRow], book: ClauseBook,
              t0: int, n: int, delta: NDArray[np.float64], local: NDArray[np.float64],
              requests: NDArray[np.float64], storage0: NDArray[np.float64],
              evap_mm: NDArray[np.float64], edges: NDArray[np.float64],
              state: tuple[NDArray[np.float64], ...], inf: float,
              energy_target: NDArray[np.float64] | None = None,
              energy_coef: NDArray[np.float64] | None = None,
              evaporation: NDArray[np.float64] | None = None,
              carry_over: NDArray[np.float64] | None = None,
              storage_targets: NDArray[np.float64] | None = None) -> HorizonLP:
    """Assemble the LP of steps t0 .. t0+n-1 (see the module docstring).

    `carry_over` (n_res,): storage wanted at the end of the window [mcm], NaN where free
    (`carry_over_volumes`); `storage_targets` (T, n_res): operating targets per step."""
    parts = _tile(lp1, net, t0, n, delta, inf)
    exit_w, exit_init = _link_routing(parts, t0, edges, state)
    evap_a0, evap_a1 = _link_storage(parts, storage0, evap_mm, evaporation)
    _block_bounds(parts, t0, local, requests, storage0, exit_init, evap_a0)
    _energy_and_rules(parts, t0, storage0, energy_target, energy_coef, storage_targets)
    hard_rows, step_rows = _step_clause_rows(parts, rows1, book, t0)
    extra = _window_clause_rows(parts, book, t0)
    extra += _carry_over_rows(parts, carry_over, storage0)
    return _assemble(parts, book, extra, hard_rows, step_rows, exit_init, exit_w, evap_a0, evap_a1)


def carry_over_volumes(setting: "str | float | dict[str, str | float] | None", net: Network,
                       storage0: NDArray[np.float64]) -> NDArray[np.float64]:
    """Storage each reservoir should hold at the end of a window [mcm], NaN where free:
    "initial" (the default) = the window's start storage, a number = that volume (at most
    the capacity), "free" = no condition. `setting` is one value or {reservoir id: value}."""
    out = np.full(len(net.res_ids), np.nan)
    for k, rid in enumerate(net.res_ids):
        value = setting.get(rid, setting.get("*", "initial")) if isinstance(setting, dict) else setting
        if value is None or value == "initial":
            out[k] = storage0[k]
        elif value != "free":
            out[k] = min(float(value), float(net.res_capacity_mcm[k]))
    return out


def _tile(lp1: StepLP, net: Network, t0: int, n: int, delta: NDArray[np.float64], inf: float) -> _Parts:
    """The one-step matrix repeated over the window's steps, without the entries that
    change per block (routing coefficients, equal-fraction and energy coefficients)."""
    nc, nr = lp1.n_col, lp1.n_row
    a1 = lp1.a_matrix.tocoo()
    changing = set(zip(lp1.row_balance[net.reach_to].tolist(), lp1.col_q.tolist()))
    changing |= set(zip(lp1.row_share.tolist(), lp1.col_m[lp1.claim_level].tolist()))
    changing |= set(zip(lp1.row_energy.tolist(), lp1.col_rel[lp1.energy_res].tolist()))
    keep = np.array([(i, j) not in changing for i, j in zip(a1.row.tolist(), a1.col.tolist())], dtype=bool)
    base_r, base_c, base_v = a1.row[keep], a1.col[keep], a1.data[keep]
    steps = np.arange(t0, t0 + n)
    return _Parts(
        lp1=lp1, net=net, n=n, steps=steps, dl=delta[steps], inf=inf,
        rr=[np.concatenate([base_r + t * nr for t in range(n)])],
        cc=[np.concatenate([base_c + t * nc for t in range(n)])],
        vv=[np.tile(base_v, n)],
        col_lo=np.zeros(n * nc), col_hi=np.full(n * nc, inf),
        row_lo=np.zeros(n * nr), row_hi=np.zeros(n * nr),
        claim_req=np.zeros(n * len(lp1.claim_col)))


def _link_routing(p: _Parts, t0: int, edges: NDArray[np.float64],
                  state: tuple[NDArray[np.float64], ...]) -> tuple[sparse.csr_matrix, NDArray[np.float64]]:
    """Routing: exit volume at s of reach r = Σ_j W[s,j]·Δ_s/Δ_j·q_vol[j] + init[s]·Δ_s."""
    lp1, net, n, dl = p.lp1, p.net, p.n, p.dl
    cum, q0, mi, mo = state
    r_idx, s_idx, j_idx, w, init = routing.impulse_response(
        t0, n, net.reach_routing, net.reach_k_days, net.reach_x, net.reach_loss, edges, cum, q0, mi, mo,
        1e-8)  # weights below this are dropped: tiny entries make the LP ill-conditioned
    coef = w * dl[s_idx] / dl[j_idx]
    p.add(s_idx * lp1.n_row + lp1.row_balance[net.reach_to[r_idx]], j_idx * lp1.n_col + lp1.col_q[r_idx], coef)
    exit_w = sparse.csr_matrix((coef, (s_idx * net.n_reach + r_idx, j_idx * net.n_reach + r_idx)),
                               shape=(n * net.n_reach, n * net.n_reach))
    exit_init = np.where(np.abs(init) > 1e-12, init, 0.0) * dl[:, None]   # drop traces of old water
    return exit_w, exit_init


def _link_storage(p: _Parts, storage0: NDArray[np.float64], evap_mm: NDArray[np.float64],
                  evaporation: NDArray[np.float64] | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Storage: v[t-1] enters step t's balance; evaporation from the area at the window's
    start storage (a linear-in-storage area made some windows numerically fragile in
    HiGHS), or, in a second pass, along the first pass's storage path."""
    lp1, net, n = p.lp1, p.net, p.n
    n_res = len(net.res_ids)
    t0 = int(p.steps[0])
    evap_a1 = np.zeros((n, n_res))
    area_now = np.array([realise.interp_curve(storage0[k], net.res_area_s[k], net.res_area_a[k],
                                              int(net.res_area_n[k])) for k in range(n_res)])
    evap_a0 = (evap_mm[:, p.steps].T * 1e-3 * area_now[None, :]) if n_res else np.zeros((n, 0))
    evap_a0[0] = realise.evaporation(storage0, evap_mm[:, t0], net.res_area_s, net.res_area_a, net.res_area_n)
    if evaporation is not None:
        evap_a0 = evaporation.copy()
    if n > 1:
        t_idx = np.repeat(np.arange(1, n), n_res)
        k_idx = np.tile(np.arange(n_res), n - 1)
        p.add(t_idx * lp1.n_row + lp1.row_balance[net.res_node[k_idx]], (t_idx - 1) * lp1.n_col + lp1.col_v[k_idx],
              1.0 - evap_a1[t_idx, k_idx])
    return evap_a0, evap_a1


def _block_bounds(p: _Parts, t0: int, local: NDArray[np.float64], requests: NDArray[np.float64],
                  storage0: NDArray[np.float64], exit_init: NDArray[np.float64],
                  evap_a0: NDArray[np.float64]) -> None:
    """Column and row bounds of every block, and the demands' claims."""
    lp1, net, n, dl, inf = p.lp1, p.net, p.n, p.dl, p.inf
    nc, nr, n_claim1, n_dem = lp1.n_col, lp1.n_row, len(lp1.claim_col), len(net.dem_ids)
    # releases may not draw below dead storage; evaporation (known here) may: storage at
    # step t stays above dead storage less the evaporation of the window so far
    evap_room = np.cumsum(np.maximum(evap_a0, 0.0), axis=0) if len(net.res_ids) else np.zeros((n, 0))
    rel_max = np.where(net.res_hydro, net.res_turbine_m3s, net.res_outlet_m3s)
    for t in range(n):
        c0, r0 = t * nc, t * nr
        p.claim_req[t * n_claim1: t * n_claim1 + n_dem] = requests[t0 + t]
        p.col_hi[c0 + lp1.col_q] = np.where(np.isfinite(net.reach_max_m3s), net.reach_max_m3s * dl[t], inf)
        p.col_hi[c0 + lp1.col_x] = requests[t0 + t]
        p.col_lo[c0 + lp1.col_v] = np.maximum(0.0, np.minimum(net.res_dead_mcm, storage0) - evap_room[t])
        p.col_hi[c0 + lp1.col_v] = net.res_capacity_mcm
        p.col_hi[c0 + lp1.col_rel] = np.where(np.isfinite(rel_max), rel_max * dl[t], inf)
        forced = np.bincount(net.reach_to, weights=exit_init[t], minlength=net.n_node)
        p.col_hi[c0 + lp1.col_surplus] = forced[net.dem_node]
        p.col_hi[c0 + lp1.col_m] = 0.0 if t else inf                  # only block 0's M is used
        rhs = -local[t0 + t] * dl[t] - forced
        if t == 0:
            rhs[net.res_node] -= storage0 - evap_a0[0]
        else:
            rhs[net.res_node] += evap_a0[t]
        p.row_lo[r0 + lp1.row_balance] = rhs
        p.row_hi[r0 + lp1.row_balance] = rhs
        req = p.claim_req[t * n_claim1: (t + 1) * n_claim1]
        p.row_lo[r0 + lp1.row_share] = np.where(req > 0, np.where(lp1.claim_slack, 0.0, req), -inf)
        p.row_hi[r0 + lp1.row_share] = inf
        # one-step clause rows: per-step kinds keep their bound, window kinds are off here
        p.row_lo[r0 + lp1.row_clause] = -inf
        p.row_hi[r0 + lp1.row_clause] = inf
        p.col_hi[c0 + lp1.col_slack] = 0.0


def _energy_and_rules(p: _Parts, t0: int, storage0: NDArray[np.float64],
                      energy_target: NDArray[np.float64] | None, energy_coef: NDArray[np.float64] | None,
                      storage_targets: NDArray[np.float64] | None) -> None:
    """Energy targets (GWh per mcm with the head at the window's start storage) and the
    reservoirs' operating rules: storage targets per step, release curves at the window's
    start storage (operations.py). Each is a claim at its priority."""
    lp1, n, inf = p.lp1, p.n, p.inf
    nc, nr, n_claim1 = lp1.n_col, lp1.n_row, len(lp1.claim_col)
    claims = {code: np.flatnonzero(lp1.claim_row == code) for code in (-2, -3, -4)}

    def claim(t: int, code: int, want: NDArray[np.float64]) -> None:
        js = claims[code]
        p.claim_req[t * n_claim1 + js] = want
        p.row_lo[t * nr + lp1.row_share[js]] = np.where(want > 0, 0.0, -inf)

    e_res = lp1.energy_res
    if len(e_res):
        assert energy_target is not None and energy_coef is not None
        n_e = len(e_res)
        t_e = np.repeat(np.arange(n), n_e)
        k_e = np.tile(np.arange(n_e), n)
        p.add(t_e * nr + lp1.row_energy[k_e], t_e * nc + lp1.col_rel[e_res[k_e]], energy_coef[k_e])
    for t in range(n):
        if len(e_res):
            target = energy_target[t0 + t]  # type: ignore[index]
            p.row_lo[t * nr + lp1.row_energy] = np.where(target > 0, target, -inf)
            p.row_hi[t * nr + lp1.row_energy] = inf
            claim(t, -2, target)
        if len(lp1.target_res):
            assert storage_targets is not None
            want = storage_targets[t0 + t, lp1.target_res]
            p.row_lo[t * nr + lp1.row_target] = want
            p.row_hi[t * nr + lp1.row_target] = want
            claim(t, -3, want)
        if len(lp1.curve_res):
            want = np.array([curve_release(p.net, k, float(storage0[k])) for k in lp1.curve_res.tolist()]) * p.dl[t]
            p.row_lo[t * nr + lp1.row_curve] = want
            p.row_hi[t * nr + lp1.row_curve] = inf
            claim(t, -4, want)


def _step_clause_rows(p: _Parts, rows1: list[ClauseRow], book: ClauseBook,
                      t0: int) -> tuple[dict[int, list[int]], list[tuple[int, int, int]]]:
    """Per-step clause rows (min_flow, split) and the claims of the soft ones."""
    lp1, n = p.lp1, p.n
    nc, nr, n_claim1, n_dem = lp1.n_col, lp1.n_row, len(lp1.claim_col), len(p.net.dem_ids)
    clauses = book.clauses
    hard_rows: dict[int, list[int]] = {}
    step_rows: list[tuple[int, int, int]] = []
    for i, row in enumerate(rows1):
        clause = clauses[row.clause]
        if not clause.per_step:
            continue
        win = book.windows[row.clause]
        for t in range(n):
            if win.index[t0 + t] < 0:
                continue
            lp_row = t * nr + lp1.row_clause[i]
            step_rows.append((row.clause, t, int(lp_row)))
            p.row_lo[lp_row], p.row_hi[lp_row] = clause.horizon_step_bound(book, row, t0 + t, float(p.dl[t]))
            p.col_hi[t * nc + lp1.col_slack[i]] = 0.0 if clause.hard else p.inf
            if clause.hard:
                hard_rows.setdefault(row.clause, []).append(lp_row)
    for j in range(n_dem, n_claim1):
        i = int(lp1.claim_row[j])
        if i < 0:
            continue                       # an energy target or operating rule, set above
        clause = clauses[rows1[i].clause]
        for t in range(n):
            req = clause.horizon_step_claim(float(p.row_lo[t * nr + lp1.row_clause[i]]))
            active = np.isfinite(req) and p.col_hi[t * nc + lp1.col_slack[i]] > 0
            p.claim_req[t * n_claim1 + j] = max(float(req), 0.0) if active else 0.0
            p.row_lo[t * nr + lp1.row_share[j]] = 0.0 if p.claim_req[t * n_claim1 + j] > 0 else -p.inf
    return hard_rows, step_rows


#: an extra row: (columns, coefficients, lower, upper, clause (-1: carry-over), window, hard)
_Extra = tuple[list[int], list[float], float, float, int, int, bool]


def _window_clause_rows(p: _Parts, book: ClauseBook, t0: int) -> list[_Extra]:
    """Window clause rows: Σ over the window's steps in this horizon."""
    lp1, nc = p.lp1, p.lp1.n_col
    extra: list[_Extra] = []
    for c, clause in enumerate(book.clauses):
        if clause.per_step:
            continue
        win_of = book.windows[c].index[p.steps]
        for win in sorted(set(win_of[win_of >= 0].tolist())):
            ts = np.flatnonzero(win_of == win)
            summed = clause.window_steps(ts)
            for terms, lo, hi in clause.window_terms(book, c, win, t0 + int(ts[-1]), p.net):
                cols = [int(t * nc + _col(lp1, fam, j)) for t in summed for fam, j, _ in terms]
                vals = [float(k) for _ in summed for _, _, k in terms]
                extra.append((cols, vals, lo, hi, c, win, clause.hard))
    return extra


def _carry_over_rows(p: _Parts, carry_over: NDArray[np.float64] | None,
                     storage0: NDArray[np.float64]) -> list[_Extra]:
    """End-of-window storage v[n-1] + short >= carry; `short` costs OVER_TARGET_COST per
    mcm (more than the storage is worth, less than any claim): the window ends with its
    carry-over unless a demand, a clause or a target needed the water."""
    if carry_over is None:
        carry_over = carry_over_volumes("initial", p.net, storage0)
    last = (p.n - 1) * p.lp1.n_col
    return [([int(last + p.lp1.col_v[k])], [1.0], float(carry_over[k]), p.inf, -1, -1, False)
            for k in range(len(carry_over)) if np.isfinite(carry_over[k]) and carry_over[k] > 0]


def _assemble(p: _Parts, book: ClauseBook, extra_rows: list[_Extra], hard_rows: dict[int, list[int]],
              step_rows: list[tuple[int, int, int]], exit_init: NDArray[np.float64],
              exit_w: sparse.csr_matrix, evap_a0: NDArray[np.float64],
              evap_a1: NDArray[np.float64]) -> HorizonLP:
    """Window rows and their slacks, one M per level, and the StepLP view for the solver."""
    lp1, n, inf, clauses = p.lp1, p.n, p.inf, book.clauses
    nc, nr, n_claim1 = lp1.n_col, lp1.n_row, len(lp1.claim_col)
    levels = lp1.levels
    n_extra, base_cols, base_rows = len(extra_rows), n * nc, n * nr
    window_rows: list[tuple[int, int, int]] = []
    extra_lo, extra_hi, slack_hi, extra_claim, soft_extra, carry_cols = [], [], [], [], [], []
    for e, (cols, vals, lo, hi, c, win, hard) in enumerate(extra_rows):
        row = base_rows + e
        p.add(np.full(len(cols), row), np.array(cols), np.array(vals))
        p.add(np.array([row]), np.array([base_cols + e]), np.array([1.0 if np.isfinite(lo) else -1.0]))
        extra_lo.append(lo)
        extra_hi.append(hi)
        slack_hi.append(0.0 if hard else inf)
        if c < 0:
            carry_cols.append(base_cols + e)       # carry-over: a cost, not a claim
            continue
        window_rows.append((c, win, row))
        if hard:
            hard_rows.setdefault(c, []).append(row)
        else:
            soft_extra.append(e)
            # the claim sets the scale of the shortfall fraction: a minimum's requirement,
            # a cap's whole window limit (what is left of it can be nil or negative)
            limit = clauses[c].window_cap_scale(float(book.windows[c].covered[win]))
            extra_claim.append(max(lo, 1e-3) if np.isfinite(lo) else max(limit, abs(hi), 1.0))
    claim_j = np.tile(np.arange(n_claim1), n)
    soft_levels = np.array([np.searchsorted(levels, clauses[extra_rows[e][4]].priority or 0)
                            for e in soft_extra], dtype=np.int64)
    level_scale = np.bincount(lp1.claim_level[claim_j], weights=p.claim_req, minlength=len(levels))
    if soft_extra:
        level_scale += np.bincount(soft_levels, weights=np.array(extra_claim), minlength=len(levels))
    level_scale = np.maximum(level_scale, 1.0)
    p.add(np.repeat(np.arange(n), n_claim1) * nr + lp1.row_share[claim_j], lp1.col_m[lp1.claim_level[claim_j]],
          p.claim_req / level_scale[lp1.claim_level[claim_j]])
    share_rows = []
    for s_i, e in enumerate(soft_extra):         # (claim/S)·M - slack >= 0
        row = base_rows + n_extra + s_i
        level = int(soft_levels[s_i])
        p.add(np.array([row, row]), np.array([int(lp1.col_m[level]), base_cols + e]),
              np.array([extra_claim[s_i] / level_scale[level], -1.0]))
        share_rows.append(row)
    n_col, n_row = base_cols + n_extra, base_rows + n_extra + len(soft_extra)
    matrix = sparse.csc_matrix((np.concatenate(p.vv), (np.concatenate(p.rr), np.concatenate(p.cc))),
                               shape=(n_row, n_col))
    matrix.sum_duplicates()

    def tile(cols1: NDArray[np.int64]) -> NDArray[np.int64]:
        return (np.arange(n)[:, None] * nc + cols1[None, :]).ravel()

    def tile_rows(rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return (np.arange(n)[:, None] * nr + rows[None, :]).ravel()

    soft_cols = base_cols + np.array(soft_extra, dtype=np.int64)
    lp = StepLP(
        a_matrix=matrix,
        row_sense=np.concatenate([np.tile(lp1.row_sense, n), np.where(np.isfinite(extra_lo), -1, 1)
                                  if n_extra else np.zeros(0, np.int64), np.full(len(soft_extra), -1)]).astype(np.int64),
        col_q=tile(lp1.col_q), col_x=tile(lp1.col_x), col_surplus=tile(lp1.col_surplus),
        # storage is worth the same over a window as over one step in step mode: each
        # step's end storage at 1/n of the one-step value (the window's mean storage)
        col_v=tile(lp1.col_v), storage_weight=np.tile(_weights(lp1), n) / n,
        col_rel=tile(lp1.col_rel), col_spill=tile(lp1.col_spill), col_out=tile(lp1.col_out),
        col_m=lp1.col_m, col_slack=np.concatenate([tile(lp1.col_slack), base_cols + np.arange(n_extra)]),
        row_balance=tile_rows(lp1.row_balance), row_outlet=tile_rows(lp1.row_outlet),
        row_clause=np.concatenate([tile_rows(lp1.row_clause), base_rows + np.arange(n_extra)]),
        levels=levels, dem_level=np.tile(lp1.dem_level, n),
        claim_col=np.concatenate([tile(lp1.claim_col), soft_cols]),
        claim_slack=np.concatenate([np.tile(lp1.claim_slack, n), np.ones(len(soft_extra), dtype=bool)]),
        claim_level=np.concatenate([np.tile(lp1.claim_level, n), soft_levels]),
        claim_row=np.concatenate([np.tile(lp1.claim_row, n), np.full(len(soft_extra), -1)]),
        row_share=np.concatenate([tile_rows(lp1.row_share), np.array(share_rows, dtype=np.int64)]),
        n_col=n_col, n_row=n_row, col_divert=tile(lp1.col_divert), divert_weight=np.tile(lp1.divert_weight, n),
        col_penalty=np.concatenate([tile(lp1.col_penalty), np.array(carry_cols, dtype=np.int64)]),
    )
    return HorizonLP(lp, np.concatenate([p.col_lo, np.zeros(n_extra)]), np.concatenate([p.col_hi, np.array(slack_hi)]),
                     np.concatenate([p.row_lo, np.array(extra_lo), np.zeros(len(soft_extra))]),
                     np.concatenate([p.row_hi, np.array(extra_hi), np.full(len(soft_extra), inf)]),
                     np.concatenate([p.claim_req, np.array(extra_claim)]), n, nc, exit_init, exit_w, level_scale,
                     evap_a0, evap_a1, window_rows, step_rows, hard_rows)


def _weights(lp1: StepLP) -> NDArray[np.float64]:
    return lp1.storage_weight if len(lp1.storage_weight) == len(lp1.col_v) else np.ones(len(lp1.col_v))


def _col(lp1: StepLP, fam: str, j: int) -> int:
    return int({"q": lp1.col_q, "x": lp1.col_x, "surplus": lp1.col_surplus, "v": lp1.col_v,
                "rel": lp1.col_rel, "spill": lp1.col_spill, "out": lp1.col_out}[fam][j])
