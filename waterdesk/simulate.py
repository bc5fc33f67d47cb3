"""The pipeline: route natural flows -> allocate each step -> realise. Returns arrays.

The kernels get plain numpy arrays only (never dataclasses or xarray objects),
built here from the compiled `Network` and the scenario; their shapes follow from
the network and the step count and are not checked again here (the scenario's
checks, `waterdesk.checks`, run before).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from waterdesk.allocate.clauses import ClauseBook, compile_rows
from waterdesk.allocate import horizon
from waterdesk.allocate.formulation import StepLP, extract, stack
from waterdesk.allocate.operations import OperatingRules
from waterdesk.allocate.solve import StepSolver
from waterdesk.calendar import Steps
from waterdesk.errors import InfeasibleError, SolverError
from waterdesk import salinity
from waterdesk.kernels import realise, routing, step
from waterdesk.model.network import KIND_CODE, Network, compile_network
from waterdesk.model.scenario import InflowData, Scenario
from waterdesk.units import mcm_per_m3s

F64 = NDArray[np.float64]
log = logging.getLogger("waterdesk")
#: horizon mode: exact equal-fraction rounds per priority level (see DESIGN.md)
HORIZON_FAIR_ROUNDS = 8
#: members solved together in one stacked LP per step (`simulate_members`); fixed, so that
#: a member's stack and its result do not depend on how many members a run has beside it
#: when they are counted from the same first member (benchmarks/README.md, ensembles)
MEMBERS_PER_STACK = 32


@dataclass
class Simulation:
    """Arrays of one run; flows [m3 s-1], volumes [mcm], energy [GWh]."""

    scenario: Scenario
    network: Network
    steps: Steps
    local_inflow: F64        # (T, N)
    natural_flow: F64        # (T, N)
    node_flow: F64           # (T, N)
    reach_flow: F64          # (T, R) entry
    reach_outflow: F64       # (T, R) delivered at the downstream end
    storage: F64             # (T, K) end of step
    release: F64             # (T, K)
    spill: F64               # (T, K)
    evaporation: F64         # (T, K) mcm
    energy: F64              # (T, K) GWh
    requested: F64           # (T, D) mcm
    supplied: F64            # (T, D) mcm
    mass_balance_error: F64  # (T, N) mcm
    clauses: ClauseBook | None = None
    energy_target: F64 | None = None   # (T, K) GWh wanted (0 where none)
    timings: dict[str, float] = field(default_factory=dict)
    solves: int = 0
    simplex_iterations: int = 0
    #: members solved together with this one (its stack); timings, solves and iterations
    #: are the stack's
    stack_members: int = 1
    #: salinity results (waterdesk.salinity.SaltArrays), None when the run has no salinity
    salt: "salinity.SaltArrays | None" = None


def demand_requests(scenario: Scenario, net: Network, steps: Steps) -> F64:
    """Requested volume per step [mcm], shape (T, D): the calendar month's
    volume times the share of the month the step covers, times the scenario scale."""
    month = steps.month_index
    share = steps.days / steps.days_in_month
    factor = np.array([scenario.demand_factor(d) for d in net.dem_ids])
    return net.dem_monthly_mcm[:, month].T * share[:, None] * factor[None, :]


def local_inflows(scenario: Scenario, net: Network, steps: Steps, data: InflowData | None = None) -> F64:
    """External inflow at every node [m3 s-1], shape (T, N), from `data` (default: the
    scenario's inflows) times the scenario's inflow scale."""
    data = scenario.inflows if data is None else data
    local = np.zeros((len(steps), net.n_node))
    ids = [net.node_ids[i] for i in net.inflow_node]
    if ids:
        series = data.on_steps(steps, ids)
        local[:, net.inflow_node] = series * scenario.inflow_factor(steps.month_index)[:, None]
    return local


def simulate(scenario: Scenario, progress: Callable[[int], None] | None = None) -> Simulation:
    """Run a validated scenario (step or horizon mode) with its own inflows.

    Parameters
    ----------
    scenario : Scenario
    progress : callable, optional
        called with the number of steps just completed.
    """
    return _simulate(scenario, [scenario.inflows], progress)[0]


def simulate_members(scenario: Scenario, members: Sequence[InflowData],
                     progress: Callable[[int], None] | None = None) -> list[Simulation]:
    """Run a scenario once per inflow member; one Simulation per member, in order.

    In step mode all members go through the pipeline together: natural flows are routed
    for every member in one numba call (parallel over members), and each step is one
    stacked LP holding a block per member (`formulation.stack`), so every lexicographic
    stage is one HiGHS solve for all members. Member m's answer is the one its own run
    gives (the blocks share nothing); ties between equally good allocations may be
    broken differently. Members go in stacks of MEMBERS_PER_STACK (32); horizon mode runs
    them one after another.

    `progress` is called with member-steps completed.
    """
    members = list(members)
    if not members:
        return []
    if scenario.mode == "horizon":
        out = []
        for data in members:
            out.extend(_simulate(scenario.replace(inflows=data), [data], progress))
        return out
    # stacks of at most MEMBERS_PER_STACK: HiGHS's work per solve grows with the LP, and a
    # step needs the union of its members' stages, so larger stacks stop paying
    sims: list[Simulation] = []
    for first in range(0, len(members), MEMBERS_PER_STACK):
        sims.extend(_simulate(scenario, members[first:first + MEMBERS_PER_STACK], progress))
    return sims


def _simulate(scenario: Scenario, members: list[InflowData],
              progress: Callable[[int], None] | None = None) -> list[Simulation]:
    """The pipeline for one or more inflow members (see `simulate_members`); arrays that
    differ by member carry a leading member axis here and are split at the end."""
    t0 = time.perf_counter()
    net = compile_network(scenario.basin)
    steps = scenario.steps
    n_m = len(members)
    if scenario.mode == "horizon" and n_m != 1:
        raise ValueError("horizon mode runs one member at a time (simulate_members)")
    n_t, n_n, n_r = len(steps), net.n_node, net.n_reach
    n_k, n_d = len(net.res_ids), len(net.dem_ids)
    days = steps.days
    delta = mcm_per_m3s(days)                # mcm per (m3 s-1) over each step
    edges = np.concatenate([[0.0], np.cumsum(days)])
    local = np.stack([local_inflows(scenario, net, steps, data) for data in members])   # (M, T, N)
    requests = demand_requests(scenario, net, steps)
    route_args = (net.order, net.river_out, net.reach_to, net.reach_routing, net.reach_k_days,
                  net.reach_x, net.reach_loss, edges)
    if n_m == 1:
        natural = routing.natural_flow(*route_args, local[0])[0][None]
    else:
        natural = routing.natural_flow_members(*route_args, local)[0]
    t1 = time.perf_counter()
    rows = compile_rows(scenario.clauses, scenario.basin, net)
    lp = extract(net, rows, scenario.clauses)
    col_of = {"q": lp.col_q, "x": lp.col_x, "surplus": lp.col_surplus, "v": lp.col_v,
              "rel": lp.col_rel, "spill": lp.col_spill, "out": lp.col_out}
    book = ClauseBook(scenario.clauses, rows, net, steps, delta, natural[0] * delta[:, None], requests, col_of)
    books = [book] + [ClauseBook(scenario.clauses, rows, net, steps, delta, natural[m] * delta[:, None],
                                 requests, col_of, windows=book.windows) for m in range(1, n_m)]
    clause_claim = lp.claim_row >= 0                   # claims of soft clause rows
    energy_claim = lp.claim_row == -2                  # claims of energy targets
    soft = lp.claim_row[clause_claim]                  # their clause rows
    n_soft = int(clause_claim.sum())
    e_res = lp.energy_res                              # reservoirs with an energy target
    hours = days * 24.0
    energy_target = (net.res_energy_target_gwh[e_res][:, steps.month_index]
                     * (days / steps.days_in_month)[None, :]).T                            # (T, E)
    energy_target = np.minimum(energy_target, net.res_installed_mw[e_res][None, :] * hours[:, None] / 1e3)
    level_total = np.zeros((n_t, len(lp.levels)))
    for d, level in enumerate(lp.dem_level):
        level_total[:, level] += requests[:, d]
    level_scale = level_total.max(axis=0) if n_t else np.ones(len(lp.levels))
    for j, row in zip(np.flatnonzero(clause_claim), soft):
        level_scale[lp.claim_level[j]] += max(b.claim_scale(int(row)) for b in books)
    for j, target in zip(np.flatnonzero(energy_claim), energy_target.T):
        level_scale[lp.claim_level[j]] += float(target.max(initial=0.0))
    rules = OperatingRules(net, lp, steps, delta)       # reservoir operating rules (hook)
    rules.add_scale(level_scale)
    slp = stack(lp, n_m)                                 # one block per member
    solver = StepSolver(slp, level_scale=level_scale)
    claim_m_scale = solver.m_scale[lp.claim_level]
    row_block = (np.arange(n_m) * lp.n_row)[:, None]
    col_block = (np.arange(n_m) * lp.n_col)[:, None]
    solver.set_hard_clauses({c: (lp.row_clause[[i for i, r in enumerate(rows) if r.clause == c]][None, :]
                                 + row_block).ravel()
                             for c, clause in enumerate(scenario.clauses) if clause.hard})
    # salinity (issue 14): salt carried by the realised water; None without salinity keys
    salt = salinity.tracker(scenario, net, steps, delta, local, natural, lp, solver, rows, books)
    t2 = time.perf_counter()

    out = {name: np.zeros((n_m, n_t, size)) for name, size in (
        ("node_flow", n_n), ("reach_flow", n_r), ("reach_outflow", n_r), ("storage", n_k),
        ("release", n_k), ("spill", n_k), ("evaporation", n_k), ("energy", n_k),
        ("supplied", n_d), ("mass_balance_error", n_n))}
    # routing state, per member
    cum = np.zeros((n_m, n_t + 1, n_r))
    q0, musk_i, musk_o, a, b = (np.zeros((n_m, n_r)) for _ in range(5))
    storage = np.tile(net.res_initial_mcm, (n_m, 1))
    month = steps.month_index
    month_share = days / steps.days_in_month
    sink = net.node_kind == KIND_CODE["sink"]
    rel_max = np.where(net.res_hydro, net.res_turbine_m3s, net.res_outlet_m3s)
    inf = solver.inf
    coef_rows = np.concatenate([lp.row_balance[net.reach_to], lp.row_share])
    coef_cols = np.concatenate([lp.col_q, lp.claim_m])
    n_claim = len(lp.claim_col)
    claim_request = np.zeros((n_m, n_claim))
    share_soft = lp.row_share[clause_claim]
    share_energy = lp.row_share[energy_claim]
    # energy rows: GWh per mcm through the turbines, from the head at the start storage
    coef_rows = np.concatenate([coef_rows, lp.row_energy])
    coef_cols = np.concatenate([coef_cols, lp.col_rel[e_res]])
    stacked_coef_rows = (coef_rows[None, :] + row_block).ravel()
    stacked_coef_cols = (coef_cols[None, :] + col_block).ravel()
    n_coef_claims = n_r + n_claim
    n_e = len(e_res)
    out_energy_target = np.zeros((n_t, n_k))
    out_energy_target[:, e_res] = energy_target
    coef_values = np.empty((n_m, len(coef_rows)))
    # bounds, one row per member: what does not change between steps is set once, the
    # rest by `step.assemble`
    col_lo = np.zeros((n_m, lp.n_col))
    col_hi = np.full((n_m, lp.n_col), inf)
    col_hi[:, lp.col_v] = net.res_capacity_mcm
    col_hi[:, lp.col_surplus] = 0.0
    row_lo = np.zeros((n_m, lp.n_row))
    row_hi = np.zeros((n_m, lp.n_row))
    row_hi[:, lp.row_share] = inf
    row_hi[:, lp.row_energy] = inf
    lagged_demand = bool(np.isin(net.dem_node, net.reach_to[net.reach_routing != routing.NONE]).any())
    sink_node = np.flatnonzero(sink).astype(np.int64)
    evap_mm = net.res_evap_mm[:, month] * month_share[None, :]     # (K, T)
    evap = np.zeros((n_m, n_k))
    b_mcm = np.zeros((n_m, n_r))
    q_m3s = np.zeros((n_m, n_r))
    horizon_stats: list[tuple[int, int, float, float]] = []

    def realise_step(t: int, x: F64, a_now: F64, b_now_mcm: F64) -> None:
        """Book step t from the LP columns x (M, n_col) (reaches deliver a·q + b):
        outputs, clause accounts, storage and the routing state."""
        if salt is not None:   # salinity (issue 14): the step's salt, before storage advances
            salt.record(t, x, a_now, b_now_mcm, evap)
        step.record_members(
            t, x, delta[t], days[t] * 24.0, local[:, t], a_now, b_now_mcm, net.reach_from,
            net.reach_to, net.dem_node, net.dem_return_node, net.dem_consumptive, net.res_node,
            sink_node, lp.col_q, lp.col_x, lp.col_surplus, lp.col_v, lp.col_rel, lp.col_spill,
            lp.col_out, net.res_hydro, net.res_head_s, net.res_head_h, net.res_head_n,
            net.res_efficiency, net.res_installed_mw, storage, evap, out["node_flow"],
            out["reach_flow"], out["reach_outflow"], out["storage"], out["release"], out["spill"],
            out["evaporation"], out["energy"], out["supplied"], out["mass_balance_error"], q_m3s)
        if rows:
            for m in range(n_m):
                books[m].record(t, x[m])
        routing.reach_advance_members(t, q_m3s, net.reach_routing, net.reach_k_days, net.reach_x,
                                      edges, cum, q0, musk_i, musk_o)

    if scenario.mode == "horizon":
        # one member: the window LP works on that member's arrays
        state = (cum[0], q0[0], musk_i[0], musk_o[0])
        for t_start, n_win in horizon_windows(steps, scenario.horizon or "water_year"):
            tb = time.perf_counter()
            carry = horizon.carry_over_volumes(scenario.carry_over, net, storage[0])   # hook
            hz = horizon.window_lp(lp, net, rows, book, t_start, n_win, delta, local[0], requests,
                                   storage[0], evap_mm, edges, state, inf, energy_target,
                                   energy_per_mcm(net, e_res, storage[0]), carry_over=carry,
                                   storage_targets=rules.targets)
            if n_k:
                # evaporation depends on storage: solve once with the area at the window's
                # start, then again with the evaporation along that first storage path
                first = StepSolver(hz.lp, level_scale=hz.level_scale, fair_rounds=HORIZON_FAIR_ROUNDS)
                try:
                    xs0 = first.solve_step(hz.col_lower, hz.col_upper, hz.row_lower, hz.row_upper,
                                           hz.claim_request)
                    path = np.array([xs0[s_ * hz.n_col1 + lp.col_v] for s_ in range(n_win)])
                    before = np.vstack([storage[0][None, :], path[:-1]])
                    evap_path = np.array([realise.evaporation(before[s_], evap_mm[:, t_start + s_],
                                                              net.res_area_s, net.res_area_a, net.res_area_n)
                                          for s_ in range(n_win)])
                    solver.solves += first.solves
                    hz = horizon.window_lp(lp, net, rows, book, t_start, n_win, delta, local[0], requests,
                                           storage[0], evap_mm, edges, state, inf,
                                           energy_target, energy_per_mcm(net, e_res, storage[0]), evap_path,
                                           carry_over=carry, storage_targets=rules.targets)
                except (InfeasibleError, SolverError):
                    pass                       # the second solve reports what is wrong
            hsolver = StepSolver(hz.lp, level_scale=hz.level_scale, fair_rounds=HORIZON_FAIR_ROUNDS)
            hsolver.set_hard_clauses({c: np.asarray(r, dtype=np.int64) for c, r in hz.hard_rows.items()})
            hz_build = time.perf_counter() - tb
            try:
                xs = hsolver.solve_step(hz.col_lower, hz.col_upper, hz.row_lower, hz.row_upper,
                                        hz.claim_request)
            except InfeasibleError as err:
                raise InfeasibleError(
                    f"window {steps.start[t_start]} to {steps.end[t_start + n_win - 1] - np.timedelta64(1, 'D')}: "
                    f"{err}" + _conflict_words(err.clauses, scenario, book, t_start),
                    [scenario.clauses[c].id for c in err.clauses], err.bounds) from None
            if rows:
                duals = hsolver.price(hz.col_lower, hz.col_upper, hz.row_lower, hz.row_upper)
                book.book_prices(t_start, hz, duals)
            solver.solves += hsolver.solves
            solver.iterations += hsolver.iterations
            horizon_stats.append((hz.lp.n_row, hz.lp.n_col, hz_build, hsolver.run_seconds))
            q_all = np.concatenate([xs[t * hz.n_col1 + lp.col_q] for t in range(n_win)])
            exits_all = (hz.exit_w @ q_all).reshape(n_win, n_r) + hz.exit_init
            zeros_a = np.zeros((1, n_r))
            for s_ in range(n_win):
                t = t_start + s_
                x = xs[s_ * hz.n_col1:(s_ + 1) * hz.n_col1].copy()
                evap[0] = hz.evap_a0[s_] + (hz.evap_a1[s_] * storage[0] if s_ else 0.0)
                realise_step(t, x[None, :], zeros_a, exits_all[s_][None, :])
            if progress is not None:
                progress(n_win)
    for t in range(n_t if scenario.mode == "step" else 0):
        dl = delta[t]
        routing.reach_coefficients_members(t, net.reach_routing, net.reach_k_days, net.reach_x,
                                           net.reach_loss, edges, cum, q0, musk_i, musk_o, a, b)
        step.assemble_members(dl, local[:, t], requests[t], storage, evap_mm[:, t], net.res_area_s,
                              net.res_area_a, net.res_area_n, net.res_dead_mcm, net.reach_to,
                              net.res_node, net.dem_node, net.reach_max_m3s, rel_max, a, b, lp.col_q,
                              lp.col_x, lp.col_v, lp.col_rel, lp.col_surplus, lp.row_balance,
                              lp.row_share, lagged_demand, inf, col_lo, col_hi, row_lo, row_hi,
                              coef_values, evap, b_mcm)
        claim_request[:, :n_d] = requests[t]
        if rows:
            for m in range(n_m):
                lo, hi, slack_hi, claim = books[m].bounds(t, requests[t])
                row_lo[m, lp.row_clause] = lo
                row_hi[m, lp.row_clause] = hi
                col_hi[m, lp.col_slack] = slack_hi
                claim_request[m, n_d:n_d + n_soft] = claim[soft]
                row_lo[m, share_soft] = np.where(claim[soft] > 0, 0.0, -inf)
                coef_values[m, n_r + n_d:n_r + n_d + n_soft] = claim[soft]
        if len(e_res):
            target = energy_target[t]
            claim_request[:, n_d + n_soft:n_d + n_soft + n_e] = target
            row_lo[:, lp.row_energy] = np.where(target > 0, target, -inf)
            row_lo[:, share_energy] = np.where(target > 0, 0.0, -inf)
            coef_values[:, n_r + n_d + n_soft:n_r + n_d + n_soft + n_e] = target
            for m in range(n_m):
                coef_values[m, n_coef_claims:] = energy_per_mcm(net, e_res, storage[m])
        if rules.active:
            rules.apply(t, storage, evap, col_lo, row_lo, row_hi, claim_request, coef_values, n_r)
        coef_values[:, n_r:n_coef_claims] /= claim_m_scale      # M is held in mcm (solve.py)
        solver.set_coefficients(stacked_coef_rows, stacked_coef_cols, coef_values.ravel())
        try:
            def solve() -> F64:
                return solver.solve_step(col_lo.ravel(), col_hi.ravel(), row_lo.ravel(), row_hi.ravel(),
                                         claim_request.ravel())
            # salinity (issue 14): max_salinity rows re-solve the step until the mixing is exact
            x = solve() if salt is None else salt.solve(t, solve, row_hi, a, b_mcm, evap)
        except InfeasibleError as err:
            which = "" if n_m == 1 else f" (in at least one of {n_m} inflow members)"
            raise InfeasibleError(f"step {steps.start[t]}{which}: {err}"
                                  + _conflict_words(err.clauses, scenario, book, t),
                                  [scenario.clauses[c].id for c in err.clauses], err.bounds) from None
        realise_step(t, x.reshape(n_m, lp.n_col), a, b_mcm)
        if progress is not None:
            progress(n_m)
    t3 = time.perf_counter()
    if horizon_stats:
        log.info("%s: %d horizon windows; largest LP %d rows x %d columns; build+load %.3f s, HiGHS %.3f s",
                 scenario.name, len(horizon_stats), max(h[0] for h in horizon_stats),
                 max(h[1] for h in horizon_stats), sum(h[2] for h in horizon_stats),
                 sum(h[3] for h in horizon_stats))
    log.info("%s: routed natural flows in %.3f s; LP %d rows x %d columns extracted in %.3f s",
             scenario.name, t1 - t0, slp.n_row, slp.n_col, t2 - t1)
    log.info("%s: %d steps x %d members allocated in %.3f s (%.0f member-steps/s, %.2f LP solves per step)",
             scenario.name, n_t, n_m, t3 - t2, n_t * n_m / max(t3 - t2, 1e-12),
             solver.solves / max(n_t, 1))
    timings = {"route_s": t1 - t0, "build_s": t2 - t1, "allocate_s": t3 - t2,
               "horizon_build_s": sum(h[2] for h in horizon_stats),
               "horizon_solve_s": sum(h[3] for h in horizon_stats)}
    return [Simulation(
        scenario=scenario if n_m == 1 else scenario.replace(inflows=members[m]), network=net,
        steps=steps, local_inflow=local[m], natural_flow=natural[m], requested=requests,
        timings=timings, solves=solver.solves, simplex_iterations=solver.iterations,
        clauses=books[m], energy_target=out_energy_target, stack_members=n_m,
        salt=salt.out[m] if salt is not None else None,
        **{name: values[m] for name, values in out.items()},
    ) for m in range(n_m)]


def energy_per_mcm(net: Network, res: NDArray[np.int64], storage: F64) -> F64:
    """GWh generated per mcm through the turbines, with the head at `storage`:
    rho*g*eta*H [W per m3/s] * 1e6 m3 / 3600 s/h / 1e9 Wh/GWh = rho*g*eta*H / 3.6e6."""
    out = np.zeros(len(res))
    for i, k in enumerate(res.tolist()):
        head = realise.interp_curve(storage[k], net.res_head_s[k], net.res_head_h[k], int(net.res_head_n[k]))
        out[i] = 1000.0 * 9.81 * net.res_efficiency[k] * head / 3.6e6
    return out


def horizon_windows(steps: Steps, horizon: str) -> list[tuple[int, int]]:
    """(first step, number of steps) of each perfect-foresight window."""
    from waterdesk.calendar import make_windows

    if horizon in ("water_year", "year"):
        index = make_windows(steps, horizon).index
        bounds = np.flatnonzero(np.diff(index)) + 1
    else:
        size = int(horizon)
        bounds = np.arange(size, len(steps), size)
    starts = np.concatenate([[0], bounds]).astype(int)
    ends = np.concatenate([bounds, [len(steps)]]).astype(int)
    return [(int(a), int(b - a)) for a, b in zip(starts, ends) if b > a]


def _conflict_words(conflict: list[int], scenario: Scenario, book: ClauseBook, t: int) -> str:
    """The conflicting clauses in treaty words: id, kind, where, parties, window."""
    if not conflict:
        return "; the physical bounds alone (capacities, storage limits) leave no solution"
    parts = []
    for c in conflict:
        clause = scenario.clauses[c]
        w = book.windows[c]
        win = int(w.index[t])
        window = (f"window {w.start[win]} to {w.end[win] - np.timedelta64(1, 'D')}" if win >= 0 else "")
        parties = f", parties {'/'.join(clause.parties)}" if clause.parties else ""
        where = clause.where() if hasattr(clause, "where") else ""
        parts.append(f"{clause.id!r} ({clause.kind.replace('_', ' ')}, {where}{parties}, {window})")
    return "; these hard clauses conflict: " + " and ".join(parts)


__all__ = ["simulate", "simulate_members", "Simulation", "StepLP"]
