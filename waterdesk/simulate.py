"""The pipeline: route natural flows -> allocate each step -> realise. Returns arrays.

`simulate` checks array shapes once and never hands dataclasses or xarray
objects to the kernels.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from waterdesk.allocate.formulation import StepLP, extract
from waterdesk.allocate.solve import StepSolver
from waterdesk.calendar import Steps
from waterdesk.errors import InfeasibleError
from waterdesk.kernels import realise, routing
from waterdesk.model.network import KIND_CODE, Network, compile_network
from waterdesk.model.scenario import Scenario

F64 = NDArray[np.float64]


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
    timings: dict[str, float] = field(default_factory=dict)
    solves: int = 0
    simplex_iterations: int = 0


def demand_requests(scenario: Scenario, net: Network, steps: Steps) -> F64:
    """Requested volume per step [mcm], shape (T, D): the calendar month's
    volume times the share of the month the step covers, times the scenario scale."""
    month = steps.month_index
    share = steps.days / steps.days_in_month
    factor = np.array([scenario.demand_factor(d) for d in net.dem_ids])
    return net.dem_monthly_mcm[:, month].T * share[:, None] * factor[None, :]


def local_inflows(scenario: Scenario, net: Network, steps: Steps) -> F64:
    """External inflow at every node [m3 s-1], shape (T, N)."""
    local = np.zeros((len(steps), net.n_node))
    ids = [net.node_ids[i] for i in net.inflow_node]
    if ids:
        series = scenario.inflows.on_steps(steps, ids)
        local[:, net.inflow_node] = series * scenario.inflow_factor(steps.month_index)[:, None]
    return local


def simulate(scenario: Scenario, progress: Callable[[int], None] | None = None) -> Simulation:
    """Run a validated scenario in step mode.

    Parameters
    ----------
    scenario : Scenario
    progress : callable, optional
        called with the number of steps just completed.
    """
    t0 = time.perf_counter()
    net = compile_network(scenario.basin)
    steps = scenario.steps
    n_t, n_n, n_r = len(steps), net.n_node, net.n_reach
    n_k, n_d = len(net.res_ids), len(net.dem_ids)
    days = steps.days
    delta = days * 86_400.0 * 1e-6           # mcm per (m3 s-1) over each step
    edges = np.concatenate([[0.0], np.cumsum(days)])
    local = local_inflows(scenario, net, steps)
    requests = demand_requests(scenario, net, steps)
    natural, _ = routing.natural_flow(net.order, net.river_out, net.reach_to, net.reach_routing,
                                      net.reach_k_days, net.reach_x, net.reach_loss, edges, local)
    t1 = time.perf_counter()
    lp = extract(net)
    solver = StepSolver(lp)
    t2 = time.perf_counter()

    out = {name: np.zeros((n_t, size)) for name, size in (
        ("node_flow", n_n), ("reach_flow", n_r), ("reach_outflow", n_r), ("storage", n_k),
        ("release", n_k), ("spill", n_k), ("evaporation", n_k), ("energy", n_k),
        ("supplied", n_d), ("mass_balance_error", n_n))}
    # routing state
    cum = np.zeros((n_t + 1, n_r))
    q0 = np.zeros(n_r)
    musk_i = np.zeros(n_r)
    musk_o = np.zeros(n_r)
    a = np.zeros(n_r)
    b = np.zeros(n_r)
    storage = net.res_initial_mcm.copy()
    month = steps.month_index
    month_share = days / steps.days_in_month
    sink = net.node_kind == KIND_CODE["sink"]
    res_at = np.full(n_n, -1)
    res_at[net.res_node] = np.arange(n_k)
    rel_max = np.where(net.res_hydro, net.res_turbine_m3s, net.res_outlet_m3s)
    inf = solver.inf
    coef_rows = np.concatenate([lp.row_balance[net.reach_to], lp.row_share])
    coef_cols = np.concatenate([lp.col_q, lp.col_m[lp.dem_level]])
    coef_values = np.empty(len(coef_rows))
    # bounds: what does not change between steps is set once
    col_lo = np.zeros(lp.n_col)
    col_hi = np.full(lp.n_col, inf)
    col_hi[lp.col_v] = net.res_capacity_mcm
    col_hi[lp.col_surplus] = 0.0
    row_lo = np.zeros(lp.n_row)
    row_hi = np.zeros(lp.n_row)
    row_hi[lp.row_share] = inf
    lagged_demand = np.isin(net.dem_node, net.reach_to[net.reach_routing != routing.NONE])
    q_cap = net.reach_max_m3s
    capped_q = np.isfinite(q_cap)
    capped_rel = np.isfinite(rel_max)

    for t in range(n_t):
        dl = delta[t]
        routing.reach_coefficients(t, net.reach_routing, net.reach_k_days, net.reach_x,
                                   net.reach_loss, edges, cum, q0, musk_i, musk_o, a, b)
        evap = realise.evaporation(storage, net.res_evap_mm[:, month[t]] * month_share[t],
                                   net.res_area_s, net.res_area_a, net.res_area_n)
        req = requests[t]
        col_hi[lp.col_q[capped_q]] = q_cap[capped_q] * dl
        col_hi[lp.col_x] = req
        col_lo[lp.col_v] = np.minimum(net.res_dead_mcm, np.maximum(0.0, storage - evap))
        col_hi[lp.col_rel[capped_rel]] = rel_max[capped_rel] * dl
        # only water already travelling in a lagged reach may arrive beyond the request
        bdl = b * dl
        if lagged_demand.any():
            forced = np.bincount(net.reach_to, weights=bdl, minlength=n_n)
            col_hi[lp.col_surplus] = forced[net.dem_node]
        rhs = -local[t] * dl - np.bincount(net.reach_to, weights=bdl, minlength=n_n)
        rhs[net.res_node] -= storage - evap
        row_lo[lp.row_balance] = rhs
        row_hi[lp.row_balance] = rhs
        row_lo[lp.row_share] = np.where(req > 0, req, -inf)
        coef_values[:n_r] = a
        coef_values[n_r:] = req
        solver.set_coefficients(coef_rows, coef_cols, coef_values)
        try:
            x = solver.solve_step(col_lo, col_hi, row_lo, row_hi, req)
        except InfeasibleError as err:
            raise InfeasibleError(f"step {steps.start[t]}: {err}", err.clauses, err.bounds) from None
        q = x[lp.col_q]
        exits = a * q + bdl
        routing.reach_advance(t, q / dl, net.reach_routing, net.reach_k_days, net.reach_x,
                              edges, cum, q0, musk_i, musk_o)
        delivered = x[lp.col_x]
        surplus = x[lp.col_surplus]
        new_storage = x[lp.col_v] if n_k else storage
        rel = x[lp.col_rel]
        spill = x[lp.col_spill]
        sink_out = np.zeros(n_n)
        sink_out[sink] = x[lp.col_out[sink]]
        out["mass_balance_error"][t] = realise.mass_balance(
            local[t] * dl, net.reach_from, net.reach_to, q, exits, net.dem_node, net.dem_return_node,
            net.dem_consumptive, delivered, surplus, net.res_node, storage, new_storage, evap, sink_out)
        out["energy"][t] = realise.hydropower(rel / dl, storage, new_storage, net.res_hydro,
                                              net.res_head_s, net.res_head_h, net.res_head_n,
                                              net.res_efficiency, net.res_installed_mw, days[t] * 24.0)
        node_out = np.bincount(net.reach_from, weights=q, minlength=n_n)
        node_out[net.dem_node] += delivered + surplus
        node_out += sink_out
        out["node_flow"][t] = node_out / dl
        out["reach_flow"][t] = q / dl
        out["reach_outflow"][t] = exits / dl
        out["storage"][t] = new_storage
        out["release"][t] = rel / dl
        out["spill"][t] = spill / dl
        out["evaporation"][t] = evap
        out["supplied"][t] = delivered
        storage = new_storage.copy()
        if progress is not None:
            progress(1)
    t3 = time.perf_counter()
    return Simulation(
        scenario=scenario, network=net, steps=steps, local_inflow=local, natural_flow=natural,
        requested=requests, timings={"route_s": t1 - t0, "build_s": t2 - t1, "allocate_s": t3 - t2},
        solves=solver.solves, simplex_iterations=solver.iterations, **out,
    )


__all__ = ["simulate", "Simulation", "StepLP"]
