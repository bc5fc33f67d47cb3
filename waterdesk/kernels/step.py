"""Per-step array work around the allocation LP: bounds in, realised step out.

Plain arrays only (numpy + numba). `assemble` writes the step's column and row
bounds and changing coefficients into preallocated arrays; `record` turns the
LP's column values into the realised step (flows, storage, energy, mass
balance) and advances the storage. See `allocate/formulation.py` for the LP.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from waterdesk.kernels.realise import evaporation, hydropower, mass_balance

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]




class StepNet(NamedTuple):
    """The network arrays the per-step kernels read (model/network.py names)."""

    reach_from: I64
    reach_to: I64
    dem_node: I64
    dem_return: I64
    dem_consumptive: F64
    res_node: I64
    sink_node: I64
    hydro: NDArray[np.bool_]
    head_s: F64
    head_h: F64
    head_n: I64
    efficiency: F64
    installed_mw: F64
    area_s: F64
    area_a: F64
    area_n: I64
    dead_mcm: F64
    q_cap_m3s: F64
    rel_max_m3s: F64


class StepCols(NamedTuple):
    """Where the step LP keeps each quantity (formulation.StepLP, one member's block)."""

    col_q: I64
    col_x: I64
    col_surplus: I64
    col_v: I64
    col_rel: I64
    col_spill: I64
    col_out: I64
    row_balance: I64
    row_share: I64


class StepBounds(NamedTuple):
    """The step's bounds and changing coefficients, written by `assemble`."""

    col_lo: F64
    col_hi: F64
    row_lo: F64
    row_hi: F64
    coef: F64


class StepOut(NamedTuple):
    """Outputs, (T, ·) for one member or (M, T, ·) for members."""

    node_flow: F64
    reach_flow: F64
    reach_outflow: F64
    storage: F64
    release: F64
    spill: F64
    evaporation: F64
    energy: F64
    supplied: F64
    mass_balance_error: F64


@njit(cache=True, no_cpython_wrapper=True)
def assemble(dl: float, local_m3s: F64, request_mcm: F64, storage_mcm: F64, evap_mm: F64,
             a: F64, b_m3s: F64, net: StepNet, cols: StepCols, lagged_demand: bool, inf: float,
             bounds: StepBounds, evap_mcm: F64, b_mcm: F64) -> None:
    """Fill the step's bounds (dl = mcm per m3 s-1 over the step)."""
    reach_to, res_node, dem_node = net.reach_to, net.res_node, net.dem_node
    col_lo, col_hi, row_lo, row_hi, coef = bounds
    n_node = local_m3s.shape[0]
    n_reach = reach_to.shape[0]
    evap_now = evaporation(storage_mcm, evap_mm, net.area_s, net.area_a, net.area_n)
    for k in range(evap_now.shape[0]):    # element by element: a slice assignment of an
        evap_mcm[k] = evap_now[k]         # array costs numba ~2 s compiling its shape checks
    rhs = np.empty(n_node)
    for n in range(n_node):
        rhs[n] = -local_m3s[n] * dl
    for r in range(n_reach):
        b_mcm[r] = b_m3s[r] * dl
        rhs[reach_to[r]] -= b_mcm[r]
        col_hi[cols.col_q[r]] = net.q_cap_m3s[r] * dl if net.q_cap_m3s[r] < inf else inf
        coef[r] = a[r]
    for k in range(res_node.shape[0]):
        rhs[res_node[k]] -= storage_mcm[k] - evap_mcm[k]
        col_lo[cols.col_v[k]] = min(net.dead_mcm[k], max(0.0, storage_mcm[k] - evap_mcm[k]))
        col_hi[cols.col_rel[k]] = net.rel_max_m3s[k] * dl if net.rel_max_m3s[k] < inf else inf
    for n in range(n_node):
        row_lo[cols.row_balance[n]] = rhs[n]
        row_hi[cols.row_balance[n]] = rhs[n]
    for d in range(dem_node.shape[0]):
        col_hi[cols.col_x[d]] = request_mcm[d]
        row_lo[cols.row_share[d]] = request_mcm[d] if request_mcm[d] > 0.0 else -inf
        coef[n_reach + d] = request_mcm[d]
    if lagged_demand:
        # only water already travelling in a lagged reach may arrive beyond the request
        forced = np.zeros(n_node)
        for r in range(n_reach):
            forced[reach_to[r]] += b_mcm[r]
        for d in range(dem_node.shape[0]):
            col_hi[cols.col_surplus[d]] = forced[dem_node[d]]


@njit(cache=True, no_cpython_wrapper=True)
def record(t: int, x: F64, dl: float, hours: float, local_m3s: F64, a: F64, b_mcm: F64,
           net: StepNet, cols: StepCols, storage_mcm: F64, evap_mcm: F64, out: StepOut,
           q_m3s: F64) -> None:
    """Write row t of every output from the LP solution x and advance the storage.

    Values within the solver's tolerance below zero (> -1e-6 mcm) are read as zero;
    the mass balance is computed from the values as recorded."""
    reach_from, reach_to, dem_node, res_node = net.reach_from, net.reach_to, net.dem_node, net.res_node
    for j in range(x.shape[0]):
        if -1e-6 < x[j] < 0.0:
            x[j] = 0.0
    n_node = local_m3s.shape[0]
    n_reach = reach_from.shape[0]
    n_res = res_node.shape[0]
    n_dem = dem_node.shape[0]
    q = np.empty(n_reach)
    exits = np.empty(n_reach)
    node_out = np.zeros(n_node)
    for r in range(n_reach):
        q[r] = x[cols.col_q[r]]
        exits[r] = a[r] * q[r] + b_mcm[r]
        q_m3s[r] = q[r] / dl
        node_out[reach_from[r]] += q[r]
        out.reach_flow[t, r] = q[r] / dl
        out.reach_outflow[t, r] = exits[r] / dl
    delivered = np.empty(n_dem)
    surplus = np.empty(n_dem)
    for d in range(n_dem):
        delivered[d] = x[cols.col_x[d]]
        surplus[d] = x[cols.col_surplus[d]]
        out.supplied[t, d] = delivered[d]
        node_out[dem_node[d]] += delivered[d] + surplus[d]
    sink_out = np.zeros(n_node)
    for s in net.sink_node:
        sink_out[s] = x[cols.col_out[s]]
        node_out[s] += sink_out[s]
    new_storage = np.empty(n_res)
    turbine = np.empty(n_res)
    for k in range(n_res):
        new_storage[k] = x[cols.col_v[k]]
        turbine[k] = x[cols.col_rel[k]] / dl
        out.release[t, k] = turbine[k]
        out.spill[t, k] = x[cols.col_spill[k]] / dl
        out.evaporation[t, k] = evap_mcm[k]
    local_mcm = local_m3s * dl
    error = mass_balance(local_mcm, reach_from, reach_to, q, exits, dem_node, net.dem_return,
                         net.dem_consumptive, delivered, surplus, res_node, storage_mcm, new_storage,
                         evap_mcm, sink_out)
    energy = hydropower(turbine, storage_mcm, new_storage, net.hydro, net.head_s, net.head_h,
                        net.head_n, net.efficiency, net.installed_mw, hours)
    for n in range(error.shape[0]):       # element by element (see `assemble`)
        out.mass_balance_error[t, n] = error[n]
    for k in range(energy.shape[0]):
        out.energy[t, k] = energy[k]
    for n in range(n_node):
        out.node_flow[t, n] = node_out[n] / dl
    for k in range(n_res):
        out.storage[t, k] = new_storage[k]
        storage_mcm[k] = new_storage[k]


@njit(cache=True)
def assemble_members(dl: float, local_m3s: F64, request_mcm: F64, storage_mcm: F64, evap_mm: F64,
                     a: F64, b_m3s: F64, net: StepNet, cols: StepCols, lagged_demand: bool,
                     inf: float, bounds: StepBounds, evap_mcm: F64, b_mcm: F64) -> None:
    """`assemble` for each member of a stacked LP: arrays that differ by member carry a
    leading member axis (local (M, N), storage (M, K), a and b (M, R), bounds (M, ·),
    evap (M, K), b_mcm (M, R)); the index arrays are those of one member's block."""
    for m in range(local_m3s.shape[0]):
        assemble(dl, local_m3s[m], request_mcm, storage_mcm[m], evap_mm, a[m], b_m3s[m], net, cols,
                 lagged_demand, inf, StepBounds(bounds.col_lo[m], bounds.col_hi[m], bounds.row_lo[m],
                                                bounds.row_hi[m], bounds.coef[m]),
                 evap_mcm[m], b_mcm[m])


@njit(cache=True)
def record_members(t: int, x: F64, dl: float, hours: float, local_m3s: F64, a: F64, b_mcm: F64,
                   net: StepNet, cols: StepCols, storage_mcm: F64, evap_mcm: F64, out: StepOut,
                   q_m3s: F64) -> None:
    """`record` for each member: x is (M, n_col), outputs are (M, T, ·), state (M, ·)."""
    for m in range(x.shape[0]):
        record(t, x[m], dl, hours, local_m3s[m], a[m], b_mcm[m], net, cols, storage_mcm[m],
               evap_mcm[m], StepOut(out.node_flow[m], out.reach_flow[m], out.reach_outflow[m],
                                    out.storage[m], out.release[m], out.spill[m],
                                    out.evaporation[m], out.energy[m], out.supplied[m],
                                    out.mass_balance_error[m]), q_m3s[m])
