"""Salinity (total dissolved solids) of a run: salt carried by the realised water, and the
max_salinity clauses' rows in the step LP. Method: docs/SALINITY.md.

`tracker` returns None for a basin and scenario without salinity keys, so such a run
computes nothing and costs nothing. Otherwise `SaltTracker` is driven by simulate.py at
two marked places:

- `solve(t, solve_fn, row_hi)` in step mode wraps the step's solve. Without max_salinity
  clauses it just solves. With them, it writes each clause row as the tangent plane of
  F = S - c_max·W (salt minus the limit times the water at the node) at a trial point (the
  previous step's flows, or the step solved without the rows), solves, mixes the salt of the
  solution exactly, and re-linearises at the solution until the row's prediction and the
  realised mixing agree to 1e-3 mg/L (a fixed point of the mixing; then the LP's answer is
  exact), at most MAX_ITERATIONS times.
- `record(t, x, a, b_mcm)` books the realised step's salt (both modes), before the water is
  recorded (it reads the start-of-step storage).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from waterdesk.errors import InfeasibleError, InputError, Problem
from waterdesk.kernels import routing
from waterdesk.kernels.salt import mix, record_step, salt_gradient, water_columns
from waterdesk.model.basin import Demand, Inflow, Reservoir
from waterdesk.model.network import KIND_CODE, Network

F64 = NDArray[np.float64]
log = logging.getLogger("waterdesk")
#: fixed-point iterations of a step with max_salinity rows before the clause is reported
#: violated by what the realised mixing gives
MAX_ITERATIONS = 30
#: agreement of the linearised row with the realised mixing [mg L-1]
TOL_MG_L = 1e-3


def has_salinity(scenario: Any) -> bool:
    """Whether the basin or the scenario's clauses use salinity at all."""
    basin = scenario.basin
    return (any(getattr(n, "salinity_mg_l", None) is not None for n in basin.nodes)
            or any(getattr(n, "return_salinity_mg_l", None) is not None for n in basin.nodes)
            or any(getattr(n, "initial_salinity_mg_l", None) is not None for n in basin.nodes)
            or any(getattr(c, "limits_salinity", False) for c in scenario.clauses))


def salt_order(net: Network) -> tuple[NDArray[np.int64], int]:
    """Nodes ordered so that reaches and return flows run forward (Kahn, ties by the
    network's order), and the sweeps the mixing needs: 1, or 50 when a return flow goes
    back upstream (no such order; the sweeps then converge on the loop)."""
    n = net.n_node
    succ: list[list[int]] = [[] for _ in range(n)]
    indeg = np.zeros(n, dtype=np.int64)
    for a, b in zip(net.reach_from.tolist(), net.reach_to.tolist()):
        succ[a].append(b)
        indeg[b] += 1
    for a, b in zip(net.dem_node.tolist(), net.dem_return_node.tolist()):
        if b >= 0:
            succ[a].append(b)
            indeg[b] += 1
    rank = {int(node): i for i, node in enumerate(net.order.tolist())}

    def by_rank(node: int) -> int:
        return rank[node]

    ready = sorted((i for i in range(n) if indeg[i] == 0), key=by_rank)
    out: list[int] = []
    while ready:
        node = ready.pop(0)
        out.append(node)
        for b in succ[node]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
                ready.sort(key=by_rank)
    if len(out) < n:
        return net.order.astype(np.int64), 50
    return np.array(out, dtype=np.int64), 1


@dataclass
class SaltArrays:
    """Salinity results of one run (member), time first."""

    salinity: F64             # (T, N) mg L-1 of the water leaving the node (NaN: dry)
    salt_load: F64            # (T, N) t per step leaving the node
    salt_balance_error: F64   # (T, N) t
    delivered_salinity: F64   # (T, D) mg L-1
    return_salt: F64          # (T, D) t per step returned with the demand's return flow
    salt_storage: F64         # (T, K) t at the end of the step


@dataclass
class _Row:
    clause: int               # index into the scenario's clauses
    row: int                  # index into the clause rows
    node: int
    c_max: float
    hard: bool


class SaltTracker:
    """Salt state and results of a run's members; see the module docstring."""

    def __init__(self, scenario: Any, net: Network, steps: Any, delta: F64, local_m3s: F64,
                 natural_m3s: F64, lp: Any, solver: Any, rows: list[Any], books: list[Any]) -> None:
        self.net = net
        self.lp = lp
        self.solver = solver
        self.books = books
        self.delta = delta
        self.edges = np.concatenate([[0.0], np.cumsum(steps.days)])
        n_m, n_t, n_n = local_m3s.shape
        self.local_mcm = local_m3s * delta[None, :, None]
        basin = scenario.basin
        nodes = {n.id: n for n in basin.nodes}
        c_local = np.zeros((12, n_n))
        for i in net.inflow_node.tolist():
            node = nodes[net.node_ids[i]]
            value = getattr(node, "salinity_mg_l", None) if isinstance(node, Inflow) else None
            if value is not None:
                c_local[:, i] = value
        self.c_local = c_local[steps.month_index]                               # (T, N)
        self.c_return = np.array([-1.0 if nodes[d].return_salinity_mg_l is None  # type: ignore[attr-defined]
                                  else float(nodes[d].return_salinity_mg_l)      # type: ignore[attr-defined]
                                  for d in net.dem_ids])
        self.node_res = np.full(n_n, -1, dtype=np.int64)
        self.node_res[net.res_node] = np.arange(len(net.res_ids))
        self.sink_node = np.flatnonzero(net.node_kind == KIND_CODE["sink"]).astype(np.int64)
        self.order, self.sweeps = salt_order(net)
        n_r, n_k, n_d = net.n_reach, len(net.res_ids), len(net.dem_ids)
        # start salt of the reservoirs: initial_salinity_mg_l, or the flow-weighted mean
        # concentration of the natural flow reaching them over the run
        natural_c = _natural_concentration(net, self.order, natural_m3s[0], local_m3s[0], self.c_local)
        self.salt = np.zeros((n_m, n_k))
        for k, rid in enumerate(net.res_ids):
            res = nodes[rid]
            c0 = (res.initial_salinity_mg_l if isinstance(res, Reservoir)
                  and res.initial_salinity_mg_l is not None else natural_c[net.res_node[k]])
            self.salt[:, k] = net.res_initial_mcm[k] * c0
        self.storage = np.tile(net.res_initial_mcm, (n_m, 1))
        self.cum = np.zeros((n_m, n_t + 1, n_r))
        self.q0, self.musk_i, self.musk_o = (np.zeros((n_m, n_r)) for _ in range(3))
        self.out = [SaltArrays(np.full((n_t, n_n), np.nan), np.zeros((n_t, n_n)), np.zeros((n_t, n_n)),
                               np.full((n_t, n_d), np.nan), np.zeros((n_t, n_d)), np.zeros((n_t, n_k)))
                    for _ in range(n_m)]
        self._coef_t = -1
        self._a = np.zeros((n_m, n_r))
        self._b_salt = np.zeros((n_m, n_r))
        self.iterations = 0        # LP solves of steps with max_salinity rows
        self.unconverged = 0       # steps left at MAX_ITERATIONS
        self.rows = [_Row(r.clause, i, net.node_ids.index(scenario.clauses[r.clause].node),
                          float(scenario.clauses[r.clause].max_mg_l), bool(scenario.clauses[r.clause].hard))
                     for i, r in enumerate(rows) if getattr(scenario.clauses[r.clause], "limits_salinity", False)]
        self.windows = books[0].windows if books else []
        self._x_prev: list[F64 | None] = [None] * n_m
        if self.rows:
            # the rows' columns: every reach entry, delivery and surplus, in the order the
            # clause declared them (model.clauses.MaxSalinity.rows)
            self.row_cols = np.concatenate([lp.col_q, lp.col_x, lp.col_surplus]).astype(np.int64)

    # ------------------------------------------------------------------ one step
    def _routing(self, t: int) -> None:
        """a (water's, loss included) and the salt routed in from earlier steps [t], per member."""
        if self._coef_t == t:
            return
        net = self.net
        for m in range(self._a.shape[0]):
            routing.reach_coefficients(t, net.reach_routing, net.reach_k_days, net.reach_x, net.reach_loss,
                                       self.edges, self.cum[m], self.q0[m], self.musk_i[m], self.musk_o[m],
                                       self._a[m], self._b_salt[m])
        self._b_salt *= self.delta[t]
        self._coef_t = t

    def _mix(self, t: int, m: int, q: F64, exits: F64, delivered: F64, surplus: F64,
             evap: F64) -> tuple[F64, F64, F64, F64, F64, F64]:
        net = self.net
        n_n = net.n_node
        conc, w_avail, s_avail = np.zeros(n_n), np.zeros(n_n), np.zeros(n_n)
        salt_in, salt_out = np.zeros(net.n_reach), np.zeros(net.n_reach)
        ret = np.zeros(len(net.dem_ids))
        mix(self.order, self.sweeps, self.local_mcm[m, t], self.c_local[t], net.reach_from, net.reach_to,
            q, exits, self._a[m], self._b_salt[m], net.dem_node, net.dem_return_node, net.dem_consumptive,
            self.c_return, delivered, surplus, self.node_res, self.storage[m], self.salt[m], evap,
            conc, w_avail, s_avail, salt_in, salt_out, ret)
        return conc, w_avail, s_avail, salt_in, salt_out, ret

    def record(self, t: int, x: F64, a_now: F64, b_mcm: F64, evap: F64) -> None:
        """Book step t's salt from the LP columns x (M, n_col) of the realised step (reaches
        deliver a·q + b_mcm); advances the salt in storage and in the reaches
        (`kernels.salt.record_step`, one compiled call per member)."""
        self._routing(t)
        net, lp = self.net, self.lp
        salt_in, w_avail, s_avail = np.zeros(net.n_reach), np.zeros(net.n_node), np.zeros(net.n_node)
        for m in range(x.shape[0]):
            o = self.out[m]
            record_step(x[m], a_now[m], b_mcm[m], evap[m], lp.col_q, lp.col_x, lp.col_surplus, lp.col_v,
                        lp.col_out, self.sink_node, self.order, self.sweeps, self.local_mcm[m, t],
                        self.c_local[t], net.reach_from, net.reach_to, self._a[m], self._b_salt[m],
                        net.dem_node, net.dem_return_node, net.dem_consumptive, self.c_return,
                        self.node_res, net.res_node, self.storage[m], self.salt[m], o.salinity[t],
                        o.salt_load[t], o.salt_balance_error[t], o.delivered_salinity[t], o.return_salt[t],
                        o.salt_storage[t], salt_in, w_avail, s_avail)
            for j in self.rows:
                book = self.books[m]
                book.salt_now[j.clause] = (float(s_avail[j.node]), float(w_avail[j.node]))
            routing.reach_advance(t, salt_in / self.delta[t], net.reach_routing, net.reach_k_days, net.reach_x,
                                  self.edges, self.cum[m], self.q0[m], self.musk_i[m], self.musk_o[m])
            self._x_prev[m] = x[m].copy()
        self._coef_t = -1

    # ------------------------------------------------------------------ max_salinity rows
    def _credit(self, m: int, j: _Row, t: int) -> float:
        """What earlier steps of the clause's window left [t]: -(S - c_max·W) so far."""
        win = int(self.windows[j.clause].index[t])
        if win < 0:
            return np.inf
        s, w = self.books[m].salt_sums.get((j.clause, win), (0.0, 0.0))
        return -(s - j.c_max * w)

    def _linearise(self, t: int, m: int, point: F64, a_now: F64, b_mcm: F64, evap: F64
                   ) -> list[tuple[F64, float, float]]:
        """Per clause row at the trial point: (∂F/∂columns, F, W at the node)."""
        net = self.net
        lp = self.lp
        q, exits, delivered, surplus, _ = water_columns(point, a_now, b_mcm, lp.col_q, lp.col_x, lp.col_surplus,
                                                        lp.col_out, self.sink_node, self.net.n_node)
        conc, w_avail, s_avail, _, _, _ = self._mix(t, m, q, exits, delivered, surplus, evap)
        out = []
        for j in self.rows:
            d_q, d_x, d_s = np.zeros(net.n_reach), np.zeros(len(net.dem_ids)), np.zeros(len(net.dem_ids))
            f = salt_gradient(j.node, j.c_max, self.order, net.reach_from, net.reach_to, q, self._a[m],
                              net.dem_node, net.dem_return_node, net.dem_consumptive, self.c_return, delivered,
                              surplus, conc, w_avail, s_avail, d_q, d_x, d_s)
            out.append((np.concatenate([d_q, d_x, d_s]), f, float(w_avail[j.node])))
        return out

    def solve(self, t: int, solve_fn: Callable[[], F64], row_hi: F64, a_now: F64, b_mcm: F64,
              evap: F64) -> F64:
        """The step's LP solution (M·n_col,) with the max_salinity rows met by the realised
        mixing (see the module docstring); `row_hi` (M, n_row) is the step's row bounds."""
        if not self.rows:
            return solve_fn()
        self._routing(t)
        lp = self.lp
        n_m = row_hi.shape[0]
        h = self.solver.h
        points: list[F64 | None] = list(self._x_prev)
        relaxed_restart = False
        history: list[list[F64]] = [[] for _ in range(n_m)]     # the last two solutions
        x = np.zeros(n_m * lp.n_col)
        best: tuple[tuple[float, float], F64] | None = None   # (hard excess, mismatch), solution
        for _ in range(MAX_ITERATIONS):
            lin: list[list[tuple[F64, float, float]] | None] = []
            for m in range(n_m):
                point = points[m]
                lin.append(None if point is None else self._linearise(t, m, point, a_now[m], b_mcm[m], evap[m]))
                for jj, j in enumerate(self.rows):
                    lp_row = int(lp.row_clause[j.row]) + m * lp.n_row
                    credit = self._credit(m, j, t)
                    if lin[m] is None or not np.isfinite(credit):
                        coef = np.zeros(len(self.row_cols))
                        row_hi[m, lp.row_clause[j.row]] = np.inf
                    else:
                        grad, f, _ = lin[m][jj]  # type: ignore[index]
                        coef = grad / j.c_max
                        base = float(grad @ point[self.row_cols])  # type: ignore[index]
                        row_hi[m, lp.row_clause[j.row]] = (base - f + credit) / j.c_max
                    for col, value in zip((self.row_cols + m * lp.n_col).tolist(), coef.tolist()):
                        h.changeCoeff(lp_row, int(col), float(value))
            try:
                x = solve_fn()
            except InfeasibleError:
                # a tangent plane taken far from the answer may cut off every allocation:
                # start again from the step solved without the rows, once
                if relaxed_restart or all(p is None for p in points):
                    raise
                relaxed_restart = True
                points = [None] * n_m
                continue
            self.iterations += 1
            done = True
            hard_excess = 0.0        # realised excess over the hard limits [t]
            mismatch = 0.0           # |predicted - realised| of binding rows [t]
            for m in range(n_m):
                xm = x[m * lp.n_col:(m + 1) * lp.n_col]
                real = self._linearise(t, m, xm, a_now[m], b_mcm[m], evap[m])
                for jj, j in enumerate(self.rows):
                    _, f_real, w_real = real[jj]
                    tol = TOL_MG_L * max(w_real, 1e-9)
                    credit = self._credit(m, j, t)
                    slack = float(xm[lp.col_slack[j.row]]) * j.c_max if not j.hard else 0.0
                    if j.hard:
                        hard_excess += max(0.0, f_real - credit)
                    if f_real > credit + slack + tol:
                        done = False
                        mismatch += f_real - credit - slack
                    elif lin[m] is not None and np.isfinite(credit):
                        grad, f, _ = lin[m][jj]  # type: ignore[index]
                        start = points[m]
                        assert start is not None          # lin[m] was taken at it
                        predicted = f + float(grad @ (xm[self.row_cols] - start[self.row_cols]))
                        binding = predicted > credit + slack - tol
                        if binding and abs(predicted - f_real) > tol:
                            done = False
                            mismatch += abs(predicted - f_real)
                # the tangent planes at two LP vertices can send the solve back and forth
                # between them (a 2-cycle): then linearise half-way between the solution and
                # the point before, which closes in on the fixed point
                previous = points[m]
                cycle = (len(history[m]) >= 2 and previous is not None
                         and np.abs(xm - history[m][-2]).max() <= 1e-7 * (1.0 + np.abs(xm).max()))
                history[m] = (history[m] + [xm.copy()])[-2:]
                points[m] = 0.5 * (xm + previous) if cycle and previous is not None else xm.copy()
            if done:
                return x
            score = (hard_excess, mismatch)
            if best is None or score < best[0]:
                best = (score, x.copy())
        self.unconverged += 1
        log.warning("step %d: the max_salinity rows and the mixing did not agree within %d solves; "
                    "kept the solve closest to the hard limits; the clauses book the realised excess",
                    t, MAX_ITERATIONS)
        return best[1] if best is not None else x


def _natural_concentration(net: Network, order: NDArray[np.int64], natural_m3s: F64, local_m3s: F64,
                           c_local: F64) -> F64:
    """Flow-weighted mean concentration of the natural flow at every node over the run
    [mg L-1]: local inflows' salt carried down the natural courses (losses take water and
    salt alike, so they do not change it)."""
    salt = local_m3s * c_local                   # (time, node), carried down whole series at once
    water = local_m3s.copy()
    for node in order.tolist():                  # upstream first: a node's column is complete here
        r = int(net.river_out[node])
        if r >= 0:
            salt[:, net.reach_to[r]] += salt[:, node]
            water[:, net.reach_to[r]] += water[:, node]
    salt, water = salt.sum(axis=0), water.sum(axis=0)
    return np.where(water > 0, salt / np.maximum(water, 1e-300), 0.0)


def tracker(scenario: Any, net: Network, steps: Any, delta: F64, local_m3s: F64, natural_m3s: F64,
            lp: Any, solver: Any, rows: list[Any], books: list[Any]) -> SaltTracker | None:
    """The run's SaltTracker, or None when nothing in the basin or scenario is about salt."""
    if not has_salinity(scenario):
        return None
    missing = [n.id for n in scenario.basin.nodes if isinstance(n, Inflow) and n.salinity_mg_l is None]
    if missing:
        raise InputError([Problem(str(scenario.basin.path or "basin"), None, f'node "{i}".salinity_mg_l',
                                  "the basin uses salinity, so every inflow node needs salinity_mg_l "
                                  "(one value or 12 monthly values, mg/L)") for i in missing])
    return SaltTracker(scenario, net, steps, delta, local_m3s, natural_m3s, lp, solver, rows, books)


def salt_dims() -> dict[str, tuple[tuple[str, ...], str, str]]:
    """Result variables of a run with salinity (docs/REFERENCE.md §12): name -> (dims, units, long_name)."""
    return {
        "salinity": (("time", "node"), "mg L-1",
                     "salinity (total dissolved solids) of the water leaving the node; NaN where dry"),
        "salt_load": (("time", "node"), "t", "salt leaving the node over the step"),
        "salt_balance_error": (("time", "node"), "t", "salt in - out - change in stored salt"),
        "delivered_salinity": (("time", "demand"), "mg L-1", "salinity of the water delivered to the demand"),
        "return_salt": (("time", "demand"), "t", "salt in the demand's return (drainage) flow over the step"),
        "salt_storage": (("time", "reservoir"), "t", "salt stored in the reservoir at the end of the step"),
    }


def result_variables(arrays: SaltArrays | None) -> dict[str, Any]:
    """xarray Variables of a run's salinity (empty without salinity)."""
    import xarray as xr

    if arrays is None:
        return {}
    return {name: xr.Variable(dims, getattr(arrays, name), {"units": units, "long_name": long_name})
            for name, (dims, units, long_name) in salt_dims().items()}


__all__ = ["SaltTracker", "SaltArrays", "tracker", "has_salinity", "result_variables", "salt_order",
           "MAX_ITERATIONS", "TOL_MG_L"]
