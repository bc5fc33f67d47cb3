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
from waterdesk.kernels import realise, routing
from waterdesk.model.network import KIND_CODE, Network

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


def window_lp(lp1: StepLP, net: Network, rows1: list[ClauseRow], book: ClauseBook,
              t0: int, n: int, delta: NDArray[np.float64], local: NDArray[np.float64],
              requests: NDArray[np.float64], storage0: NDArray[np.float64],
              evap_mm: NDArray[np.float64], edges: NDArray[np.float64],
              state: tuple[NDArray[np.float64], ...], inf: float,
              energy_target: NDArray[np.float64] | None = None,
              energy_coef: NDArray[np.float64] | None = None,
              evaporation: NDArray[np.float64] | None = None) -> HorizonLP:
    """Assemble the LP of steps t0 .. t0+n-1 (see the module docstring)."""
    clauses = book.clauses
    nc, nr = lp1.n_col, lp1.n_row
    n_reach, n_res, n_dem = net.n_reach, len(net.res_ids), len(net.dem_ids)
    steps = np.arange(t0, t0 + n)
    dl = delta[steps]
    # ---- tile the one-step matrix; drop the entries that change per block
    a1 = lp1.a_matrix.tocoo()
    changing = set(zip(lp1.row_balance[net.reach_to].tolist(), lp1.col_q.tolist()))
    changing |= set(zip(lp1.row_share.tolist(), lp1.col_m[lp1.claim_level].tolist()))
    e_res = lp1.energy_res
    changing |= set(zip(lp1.row_energy.tolist(), lp1.col_rel[e_res].tolist()))
    keep = np.array([(i, j) not in changing for i, j in zip(a1.row.tolist(), a1.col.tolist())], dtype=bool)
    base_r, base_c, base_v = a1.row[keep], a1.col[keep], a1.data[keep]
    rr = [np.concatenate([base_r + t * nr for t in range(n)])]
    cc = [np.concatenate([base_c + t * nc for t in range(n)])]
    vv = [np.tile(base_v, n)]

    def add(r: NDArray[np.int64], c: NDArray[np.int64], v: NDArray[np.float64]) -> None:
        rr.append(np.asarray(r, dtype=np.int64))
        cc.append(np.asarray(c, dtype=np.int64))
        vv.append(np.asarray(v, dtype=np.float64))

    # ---- routing: exit volume at s of reach r = Σ_j W[s,j]·Δ_s/Δ_j·q_vol[j] + init[s]·Δ_s
    cum, q0, mi, mo = state
    r_idx, s_idx, j_idx, w, init = routing.impulse_response(
        t0, n, net.reach_routing, net.reach_k_days, net.reach_x, net.reach_loss, edges, cum, q0, mi, mo,
        1e-8)  # weights below this are dropped: tiny entries make the LP ill-conditioned
    coef = w * dl[s_idx] / dl[j_idx]
    add(s_idx * nr + lp1.row_balance[net.reach_to[r_idx]], j_idx * nc + lp1.col_q[r_idx], coef)
    exit_w = sparse.csr_matrix((coef, (s_idx * n_reach + r_idx, j_idx * n_reach + r_idx)),
                               shape=(n * n_reach, n * n_reach))
    exit_init = np.where(np.abs(init) > 1e-12, init, 0.0) * dl[:, None]   # drop traces of old water
    # ---- storage linking; evaporation from the area at the window's start storage
    # (a linear-in-storage area made some windows numerically fragile in HiGHS)
    evap_a1 = np.zeros((n, n_res))
    area_now = np.array([realise.interp_curve(storage0[k], net.res_area_s[k], net.res_area_a[k],
                                              int(net.res_area_n[k])) for k in range(n_res)])
    evap_a0 = (evap_mm[:, steps].T * 1e-3 * area_now[None, :]) if n_res else np.zeros((n, 0))
    first_evap = realise.evaporation(storage0, evap_mm[:, t0], net.res_area_s, net.res_area_a, net.res_area_n)
    evap_a0[0] = first_evap
    if evaporation is not None:        # a second pass: evaporation along the first pass's storage
        evap_a0 = evaporation.copy()
    # releases may not draw below dead storage; evaporation (known here) may: storage at
    # step t stays above dead storage less the evaporation of the window so far
    evap_room = np.cumsum(np.maximum(evap_a0, 0.0), axis=0) if n_res else np.zeros((n, 0))
    if n > 1:
        t_idx = np.repeat(np.arange(1, n), n_res)
        k_idx = np.tile(np.arange(n_res), n - 1)
        add(t_idx * nr + lp1.row_balance[net.res_node[k_idx]], (t_idx - 1) * nc + lp1.col_v[k_idx],
            1.0 - evap_a1[t_idx, k_idx])
    # ---- claims: demands of every step, then soft per-step clause rows; one M per level
    n_claim1 = len(lp1.claim_col)
    claim_t = np.repeat(np.arange(n), n_claim1)
    claim_j = np.tile(np.arange(n_claim1), n)
    m_col = lp1.col_m[lp1.claim_level[claim_j]]                       # block 0's M
    claim_req = np.zeros(n * n_claim1)
    claim_req_dem = requests[steps]                                   # (n, n_dem)
    for t in range(n):
        claim_req[t * n_claim1: t * n_claim1 + n_dem] = claim_req_dem[t]
    # ---- bounds per block
    col_lo = np.zeros(n * nc)
    col_hi = np.full(n * nc, inf)
    row_lo = np.zeros(n * nr)
    row_hi = np.zeros(n * nr)
    sink = np.flatnonzero(net.node_kind == KIND_CODE["sink"])
    rel_max = np.where(net.res_hydro, net.res_turbine_m3s, net.res_outlet_m3s)
    for t in range(n):
        c0, r0 = t * nc, t * nr
        col_hi[c0 + lp1.col_q] = np.where(np.isfinite(net.reach_max_m3s), net.reach_max_m3s * dl[t], inf)
        col_hi[c0 + lp1.col_x] = requests[t0 + t]
        col_lo[c0 + lp1.col_v] = np.maximum(0.0, np.minimum(net.res_dead_mcm, storage0) - evap_room[t])
        col_hi[c0 + lp1.col_v] = net.res_capacity_mcm
        col_hi[c0 + lp1.col_rel] = np.where(np.isfinite(rel_max), rel_max * dl[t], inf)
        forced = np.bincount(net.reach_to, weights=exit_init[t], minlength=net.n_node)
        col_hi[c0 + lp1.col_surplus] = forced[net.dem_node]
        col_hi[c0 + lp1.col_m] = 0.0 if t else inf                    # only block 0's M is used
        rhs = -local[t0 + t] * dl[t] - np.bincount(net.reach_to, weights=exit_init[t], minlength=net.n_node)
        if t == 0:
            rhs[net.res_node] -= storage0 - evap_a0[0]
        else:
            rhs[net.res_node] += evap_a0[t]
        row_lo[r0 + lp1.row_balance] = rhs
        row_hi[r0 + lp1.row_balance] = rhs
        row_lo[r0 + lp1.row_outlet] = 0.0
        row_hi[r0 + lp1.row_outlet] = 0.0
        req = claim_req[t * n_claim1: (t + 1) * n_claim1]
        row_lo[r0 + lp1.row_share] = np.where(req > 0, np.where(lp1.claim_slack, 0.0, req), -inf)
        row_hi[r0 + lp1.row_share] = inf
        # one-step clause rows: per-step kinds keep their bound, window kinds are off here
        row_lo[r0 + lp1.row_clause] = -inf
        row_hi[r0 + lp1.row_clause] = inf
        col_hi[c0 + lp1.col_slack] = 0.0
    del sink
    # energy targets: GWh per mcm with the head at the window's start storage
    if len(e_res):
        assert energy_target is not None and energy_coef is not None
        n_e = len(e_res)
        t_e = np.repeat(np.arange(n), n_e)
        k_e = np.tile(np.arange(n_e), n)
        add(t_e * nr + lp1.row_energy[k_e], t_e * nc + lp1.col_rel[e_res[k_e]], energy_coef[k_e])
        first_energy_claim = n_claim1 - n_e
        for t in range(n):
            target = energy_target[t0 + t]
            row_lo[t * nr + lp1.row_energy] = np.where(target > 0, target, -inf)
            row_hi[t * nr + lp1.row_energy] = inf
            claim_req[t * n_claim1 + first_energy_claim: (t + 1) * n_claim1] = target
            row_lo[t * nr + lp1.row_share[first_energy_claim:]] = np.where(target > 0, 0.0, -inf)
    # per-step clause rows (min_flow, split)
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
            row_lo[lp_row], row_hi[lp_row] = clause.horizon_step_bound(book, row, t0 + t, float(dl[t]))
            col_hi[t * nc + lp1.col_slack[i]] = 0.0 if clause.hard else inf
            if clause.hard:
                hard_rows.setdefault(row.clause, []).append(lp_row)
    # soft per-step clause claims carry their requirement
    for j in range(n_dem, n_claim1):
        i = int(lp1.claim_row[j])
        if i < 0:
            continue                       # an energy target, set above
        clause = clauses[rows1[i].clause]
        for t in range(n):
            req = clause.horizon_step_claim(float(row_lo[t * nr + lp1.row_clause[i]]))
            active = np.isfinite(req) and col_hi[t * nc + lp1.col_slack[i]] > 0
            claim_req[t * n_claim1 + j] = max(float(req), 0.0) if active else 0.0
            row_lo[t * nr + lp1.row_share[j]] = 0.0 if claim_req[t * n_claim1 + j] > 0 else -inf
    levels = lp1.levels
    # ---- window clause rows: Σ over the window's steps in this horizon
    extra_rows: list[tuple[list[int], list[float], float, float, int, int, bool]] = []
    for c, clause in enumerate(clauses):
        if clause.per_step:
            continue
        win_of = book.windows[c].index[steps]
        for win in sorted(set(win_of[win_of >= 0].tolist())):
            ts = np.flatnonzero(win_of == win)
            summed = clause.window_steps(ts)
            for terms, lo, hi in clause.window_terms(book, c, win, t0 + int(ts[-1]), net):
                cols = [int(t * nc + _col(lp1, fam, j)) for t in summed for fam, j, _ in terms]
                vals = [float(k) for _ in summed for _, _, k in terms]
                extra_rows.append((cols, vals, lo, hi, c, win, clause.hard))
    n_extra = len(extra_rows)
    base_cols = n * nc
    base_rows = n * nr
    window_rows: list[tuple[int, int, int]] = []
    extra_lo, extra_hi, slack_hi, extra_claim = [], [], [], []
    soft_extra = []
    for e, (cols, vals, lo, hi, c, win, hard) in enumerate(extra_rows):
        row = base_rows + e
        add(np.full(len(cols), row), np.array(cols), np.array(vals))
        slack_col = base_cols + e
        add(np.array([row]), np.array([slack_col]), np.array([1.0 if np.isfinite(lo) else -1.0]))
        extra_lo.append(lo)
        extra_hi.append(hi)
        slack_hi.append(0.0 if hard else inf)
        window_rows.append((c, win, row))
        if hard:
            hard_rows.setdefault(c, []).append(row)
        else:
            soft_extra.append(e)
            # the claim sets the scale of the shortfall fraction: a minimum's requirement,
            # a cap's whole window limit (what is left of it can be nil or negative)
            clause = clauses[c]
            cover = book.windows[c].covered[win]
            limit = clause.window_cap_scale(float(cover))
            extra_claim.append(max(lo, 1e-3) if np.isfinite(lo) else max(limit, abs(hi), 1.0))
    # request scale of each level over the window (demands, soft clauses, energy)
    soft_level_of = [int(np.searchsorted(levels, clauses[extra_rows[e][4]].priority or 0)) for e in soft_extra]
    level_scale = np.bincount(lp1.claim_level[claim_j], weights=claim_req, minlength=len(levels))
    level_scale += np.bincount(np.array(soft_level_of, dtype=np.int64), weights=np.array(extra_claim),
                               minlength=len(levels)) if soft_extra else 0.0
    level_scale = np.maximum(level_scale, 1.0)
    add(claim_t * nr + lp1.row_share[claim_j], m_col, claim_req / level_scale[lp1.claim_level[claim_j]])
    # equal-fraction rows of soft window rows: (claim/S)·M - slack >= 0
    share_rows = []
    for s_i, e in enumerate(soft_extra):
        row = base_rows + n_extra + s_i
        c = extra_rows[e][4]
        level = int(np.searchsorted(levels, clauses[c].priority or 0))
        add(np.array([row, row]), np.array([int(lp1.col_m[level]), base_cols + e]),
            np.array([extra_claim[s_i] / level_scale[level], -1.0]))
        share_rows.append(row)
    n_col = base_cols + n_extra
    n_row = base_rows + n_extra + len(soft_extra)
    matrix = sparse.csc_matrix((np.concatenate(vv), (np.concatenate(rr), np.concatenate(cc))),
                               shape=(n_row, n_col))
    matrix.sum_duplicates()
    # ---- the StepLP view for the solver
    def tile(cols1: NDArray[np.int64]) -> NDArray[np.int64]:
        return (np.arange(n)[:, None] * nc + cols1[None, :]).ravel()

    def tile_rows(rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return (np.arange(n)[:, None] * nr + rows[None, :]).ravel()

    soft_levels = np.array([np.searchsorted(levels, clauses[extra_rows[e][4]].priority or 0)
                            for e in soft_extra], dtype=np.int64)
    lp = StepLP(
        a_matrix=matrix,
        row_sense=np.concatenate([np.tile(lp1.row_sense, n), np.where(np.isfinite(extra_lo), -1, 1)
                                  if n_extra else np.zeros(0, np.int64), np.full(len(soft_extra), -1)]).astype(np.int64),
        col_q=tile(lp1.col_q), col_x=tile(lp1.col_x), col_surplus=tile(lp1.col_surplus),
        col_v=tile(lp1.col_v)[-n_res:] if n_res else np.zeros(0, np.int64),
        col_rel=tile(lp1.col_rel), col_spill=tile(lp1.col_spill), col_out=tile(lp1.col_out),
        col_m=lp1.col_m, col_slack=np.concatenate([tile(lp1.col_slack), base_cols + np.arange(n_extra)]),
        row_balance=tile_rows(lp1.row_balance), row_outlet=tile_rows(lp1.row_outlet),
        row_clause=np.concatenate([tile_rows(lp1.row_clause), base_rows + np.arange(n_extra)]),
        levels=levels, dem_level=np.tile(lp1.dem_level, n),
        claim_col=np.concatenate([tile(lp1.claim_col), base_cols + np.array(soft_extra, dtype=np.int64)]),
        claim_slack=np.concatenate([np.tile(lp1.claim_slack, n), np.ones(len(soft_extra), dtype=bool)]),
        claim_level=np.concatenate([np.tile(lp1.claim_level, n), soft_levels]),
        claim_row=np.concatenate([np.tile(lp1.claim_row, n), np.full(len(soft_extra), -1)]),
        row_share=np.concatenate([tile_rows(lp1.row_share), np.array(share_rows, dtype=np.int64)]),
        n_col=n_col, n_row=n_row, storage_weight=lp1.storage_weight, col_divert=tile(lp1.col_divert),
        divert_weight=np.tile(lp1.divert_weight, n),
    )
    col_lower = np.concatenate([col_lo, np.zeros(n_extra)])
    col_upper = np.concatenate([col_hi, np.array(slack_hi)])
    row_lower = np.concatenate([row_lo, np.array(extra_lo), np.zeros(len(soft_extra))])
    row_upper = np.concatenate([row_hi, np.array(extra_hi), np.full(len(soft_extra), inf)])
    return HorizonLP(lp, col_lower, col_upper, row_lower, row_upper,
                     np.concatenate([claim_req, np.array(extra_claim)]), n, nc, exit_init, exit_w, level_scale,
                     evap_a0, evap_a1, window_rows, step_rows, hard_rows)


def _col(lp1: StepLP, fam: str, j: int) -> int:
    return int({"q": lp1.col_q, "x": lp1.col_x, "surplus": lp1.col_surplus, "v": lp1.col_v,
                "rel": lp1.col_rel, "spill": lp1.col_spill, "out": lp1.col_out}[fam][j])
