"""Salt (total dissolved solids) carried by the realised water of a step. numpy + numba only.

Units: volumes in mcm, concentrations in mg L-1, salt in tonnes (1 mcm x 1 mg/L = 1 t).
Salt is a conservative tracer: it enters with local inflows and with demands' return flows
(drainage water at its own concentration), mixes fully at every node, is routed through a
reach exactly as the water is (the same lag / Muskingum recursion run on the salt load, so a
reach's salt state is the water's state times the concentrations it carried), leaves with
losses at the reach's outflow concentration (the loss factor multiplies both), and stays in a
reservoir when water evaporates. See docs/SALINITY.md.

Node mixing (one step, in the salt order: upstream first, return flows included)::

    S_in[n] = local[n]·c_local[n] + Σ_{r→n} salt_out[r] + Σ_{d returns to n} salt_ret[d]
    W_in[n] = local[n]            + Σ_{r→n} exit[r]     + Σ_{d returns to n} ret[d]
    c[n]    = S_in / W_in                                          (not a reservoir)
    c[k]    = (S0[k] + S_in) / (V0[k] + W_in - evap[k])            (reservoir: fully mixed,
              evaporated, then released: implicit in the step, so salt is never negative)
    salt_in[r]  = c[from r]·q[r];   salt_out[r] = a[r]·salt_in[r] + b_salt[r]·Δ
    salt_ret[d] = (1 - cf[d])·x[d]·c_ret[d] + surplus[d]·c[demand node]
                  (c_ret = the demand's return_salinity_mg_l, or its delivered c when omitted)

`salt_gradient` differentiates F = S_avail[g] - c_max·W_avail[g] at a node g with respect to
every LP column (reach entries q, deliveries x, surpluses), by one reverse sweep; the
max_salinity clause rows are F's tangent plane (waterdesk/salinity.py).
"""
from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
#: volumes below this [mcm] carry no concentration (a dry node)
DRY_MCM = 1e-12


@njit(cache=True)
def mix(order: I64, sweeps: int, local_mcm: F64, c_local: F64, reach_from: I64, reach_to: I64,
        entry_mcm: F64, exit_mcm: F64, a: F64, b_salt_t: F64, dem_node: I64, dem_return: I64,
        dem_consumptive: F64, c_return: F64, delivered_mcm: F64, surplus_mcm: F64,
        node_res: I64, storage0: F64, salt0: F64, evap_mcm: F64,
        conc: F64, w_avail: F64, s_avail: F64, reach_salt_in: F64, reach_salt_out: F64,
        dem_salt_return: F64) -> None:
    """Concentrations and salt flows of one step from its realised water (see module doc).

    `c_return[d] < 0` means the demand returns its delivered concentration. `order` puts
    every node after the nodes that feed it by reaches and returns; with a return flow to
    an upstream node there is no such order and `sweeps` > 1 repeats the sweep (each pass
    uses the returns of the one before). Writes conc, w_avail and s_avail (water and salt
    that mix at each node: for reservoirs including the start storage, less evaporation),
    reach salt in/out and the demands' returned salt [t]."""
    n_node = local_mcm.shape[0]
    n_reach = reach_from.shape[0]
    n_dem = dem_node.shape[0]
    dem_of = np.full(n_node, -1, np.int64)
    for d in range(n_dem):
        dem_of[dem_node[d]] = d
    pos = np.empty(n_node, np.int64)
    for i in range(order.shape[0]):
        pos[order[i]] = i
    for d in range(n_dem):
        dem_salt_return[d] = 0.0
    for _ in range(sweeps):
        s_in = np.zeros(n_node)
        w_in = np.zeros(n_node)
        for n in range(n_node):
            s_in[n] = local_mcm[n] * c_local[n]
            w_in[n] = local_mcm[n]
        for d in range(n_dem):
            ret = dem_return[d]
            if ret >= 0 and pos[ret] <= pos[dem_node[d]]:
                # a return upstream of its demand: the previous sweep's salt
                s_in[ret] += dem_salt_return[d]
                w_in[ret] += (1.0 - dem_consumptive[d]) * delivered_mcm[d] + surplus_mcm[d]
        for n in order:
            k = node_res[n]
            w = w_in[n]
            s = s_in[n]
            if k >= 0:
                w += storage0[k] - evap_mcm[k]
                s += salt0[k]
            # reaches into n were filled when their upstream node was visited
            w_avail[n] = w
            s_avail[n] = s
            c = s / w if w > DRY_MCM else 0.0
            conc[n] = c
            for r in range(n_reach):
                if reach_from[r] == n:
                    reach_salt_in[r] = c * entry_mcm[r]
                    reach_salt_out[r] = a[r] * reach_salt_in[r] + b_salt_t[r]
                    s_in[reach_to[r]] += reach_salt_out[r]
                    w_in[reach_to[r]] += exit_mcm[r]
            d = dem_of[n]
            if d >= 0:
                c_ret = c_return[d] if c_return[d] >= 0.0 else c
                dem_salt_return[d] = ((1.0 - dem_consumptive[d]) * delivered_mcm[d] * c_ret
                                      + surplus_mcm[d] * c)
                ret = dem_return[d]
                if ret >= 0 and pos[ret] > pos[n]:
                    s_in[ret] += dem_salt_return[d]
                    w_in[ret] += (1.0 - dem_consumptive[d]) * delivered_mcm[d] + surplus_mcm[d]
        # (a later sweep restarts from the returns just computed)


@njit(cache=True)
def balance(local_mcm: F64, c_local: F64, reach_from: I64, reach_to: I64, reach_salt_in: F64,
            reach_salt_out: F64, dem_node: I64, dem_return: I64, dem_salt_return: F64,
            delivered_mcm: F64, surplus_mcm: F64, conc: F64, node_res: I64, salt0: F64,
            salt1: F64, sink_node: I64, sink_out_mcm: F64) -> F64:
    """Salt in - out - Δstored at every node [t], from the booked salt flows.

    A demand node's salt leaves with what it receives (x + surplus at its concentration):
    the returned part re-enters at the return node, the rest leaves with the consumed
    water, or (drainage saltier than the delivery) the difference is salt picked up from
    the irrigated land, booked as entering at the return node with the return flow."""
    err = local_mcm * c_local
    for r in range(reach_from.shape[0]):
        err[reach_from[r]] -= reach_salt_in[r]
        err[reach_to[r]] += reach_salt_out[r]
    for d in range(dem_node.shape[0]):
        n = dem_node[d]
        err[n] -= (delivered_mcm[d] + surplus_mcm[d]) * conc[n]
        if dem_return[d] >= 0:
            err[dem_return[d]] += dem_salt_return[d]
    for n in range(node_res.shape[0]):
        k = node_res[n]
        if k >= 0:
            err[n] -= salt1[k] - salt0[k]
    for s in sink_node:
        err[s] -= sink_out_mcm[s] * conc[s]
    return err


@njit(cache=True)
def water_columns(x: F64, a_now: F64, b_mcm: F64, col_q: I64, col_x: I64, col_surplus: I64, col_out: I64,
                  sink_node: I64, n_node: int) -> tuple[F64, F64, F64, F64, F64]:
    """A step's realised water from one member's LP columns x [mcm]: reach entries q and
    exits a·q + b, deliveries, surpluses and sink outflows (values within solver tolerance
    below zero read as zero, as kernels.step.record reads them)."""
    v = np.empty(x.shape[0])
    for j in range(x.shape[0]):
        v[j] = 0.0 if -1e-6 < x[j] < 0.0 else x[j]
    n_reach, n_dem = col_q.shape[0], col_x.shape[0]
    q, exits = np.empty(n_reach), np.empty(n_reach)
    for r in range(n_reach):
        q[r] = v[col_q[r]]
        exits[r] = a_now[r] * q[r] + b_mcm[r]
    delivered, surplus = np.empty(n_dem), np.empty(n_dem)
    for d in range(n_dem):
        delivered[d] = v[col_x[d]]
        surplus[d] = v[col_surplus[d]]
    sink_out = np.zeros(n_node)
    for s in sink_node:
        sink_out[s] = v[col_out[s]]
    return q, exits, delivered, surplus, sink_out


@njit(cache=True)
def record_step(x: F64, a_now: F64, b_mcm: F64, evap_mcm: F64, col_q: I64, col_x: I64, col_surplus: I64,
                col_v: I64, col_out: I64, sink_node: I64, order: I64, sweeps: int, local_mcm: F64,
                c_local: F64, reach_from: I64, reach_to: I64, a: F64, b_salt_t: F64, dem_node: I64,
                dem_return: I64, dem_consumptive: F64, c_return: F64, node_res: I64, res_node: I64,
                storage: F64, salt: F64, salinity: F64, salt_load: F64, balance_error: F64,
                delivered_salinity: F64, return_salt: F64, salt_storage: F64, reach_salt_in: F64,
                w_avail: F64, s_avail: F64) -> None:
    """One member's step booked from its LP columns x (`water_columns`): `mix`, the salt left in each
    reservoir, `balance`, and the step's rows of the outputs (salinity and delivered salinity
    NaN where dry). Advances `salt` and `storage` to the step's end; leaves the reaches' salt
    entries in reach_salt_in and the mixing volumes in w_avail, s_avail [mcm, t]."""
    n_node = local_mcm.shape[0]
    n_reach = reach_from.shape[0]
    n_dem = dem_node.shape[0]
    n_res = res_node.shape[0]
    q, exits, delivered, surplus, sink_out = water_columns(x, a_now, b_mcm, col_q, col_x, col_surplus,
                                                           col_out, sink_node, n_node)
    conc = np.zeros(n_node)
    salt_out = np.zeros(n_reach)
    ret = np.zeros(n_dem)
    w_avail[:] = 0.0
    s_avail[:] = 0.0
    reach_salt_in[:] = 0.0
    mix(order, sweeps, local_mcm, c_local, reach_from, reach_to, q, exits, a, b_salt_t, dem_node,
        dem_return, dem_consumptive, c_return, delivered, surplus, node_res, storage, salt, evap_mcm,
        conc, w_avail, s_avail, reach_salt_in, salt_out, ret)
    out_w = sink_out.copy()
    for r in range(n_reach):
        out_w[reach_from[r]] += q[r]
    for d in range(n_dem):
        out_w[dem_node[d]] += delivered[d] + surplus[d]
    salt1 = np.empty(n_res)
    for k in range(n_res):
        n = res_node[k]
        salt1[k] = s_avail[n] - conc[n] * out_w[n]
    err = balance(local_mcm, c_local, reach_from, reach_to, reach_salt_in, salt_out, dem_node, dem_return,
                  ret, delivered, surplus, conc, node_res, salt, salt1, sink_node, sink_out)
    for n in range(n_node):
        salinity[n] = conc[n] if w_avail[n] > DRY_MCM else np.nan
        salt_load[n] = conc[n] * out_w[n]
        balance_error[n] = err[n]
    for d in range(n_dem):
        delivered_salinity[d] = conc[dem_node[d]] if w_avail[dem_node[d]] > DRY_MCM else np.nan
        return_salt[d] = ret[d]
    for k in range(n_res):
        salt_storage[k] = salt1[k]
        salt[k] = salt1[k]
        storage[k] = x[col_v[k]]


@njit(cache=True)
def salt_gradient(g: int, c_max: float, order: I64, reach_from: I64, reach_to: I64,
                  entry_mcm: F64, a: F64, dem_node: I64, dem_return: I64, dem_consumptive: F64,
                  c_return: F64, delivered_mcm: F64, surplus_mcm: F64, conc: F64, w_avail: F64,
                  s_avail: F64, d_q: F64, d_x: F64, d_surplus: F64) -> float:
    """F = S_avail[g] - c_max·W_avail[g] [t] and its derivative with respect to every reach
    entry q, delivery x and surplus [t per mcm], at the step's realised (or trial) flows.

    Reverse sweep (downstream first) of λ[n] = ∂F/∂S_in[n] and μ[n] = ∂F/∂W_in[n]:
    λ[g] = 1, μ[g] = -c_max; elsewhere a node passes its salt on in proportion to the water
    it sends, so λ[n] = Σ_out λ[to]·a·q / W_avail[n] (+ its returns when they carry its
    concentration) and μ[n] = -c[n]·λ[n]. Then ∂F/∂q[r] = a[r]·(λ[to]·c[from] + μ[to]),
    ∂F/∂x[d] = (1-cf)·(λ[ret]·c_ret + μ[ret]), ∂F/∂surplus[d] = λ[ret]·c[d] + μ[ret]."""
    n_node = conc.shape[0]
    n_reach = reach_from.shape[0]
    n_dem = dem_node.shape[0]
    lam = np.zeros(n_node)
    mu = np.zeros(n_node)
    dem_of = np.full(n_node, -1, np.int64)
    for d in range(n_dem):
        dem_of[dem_node[d]] = d
    for i in range(order.shape[0] - 1, -1, -1):
        n = order[i]
        if n == g:
            lam[n] = 1.0
            mu[n] = -c_max
            continue
        w = w_avail[n]
        if w <= DRY_MCM:
            continue
        acc = 0.0
        for r in range(n_reach):
            if reach_from[r] == n:
                acc += lam[reach_to[r]] * a[r] * entry_mcm[r]
        d = dem_of[n]
        if d >= 0 and dem_return[d] >= 0:
            carried = surplus_mcm[d]
            if c_return[d] < 0.0:
                carried += (1.0 - dem_consumptive[d]) * delivered_mcm[d]
            acc += lam[dem_return[d]] * carried
        lam[n] = acc / w
        mu[n] = -conc[n] * lam[n]
    for r in range(n_reach):
        to = reach_to[r]
        d_q[r] = a[r] * (lam[to] * conc[reach_from[r]] + mu[to])
    for d in range(n_dem):
        ret = dem_return[d]
        if ret < 0:
            d_x[d] = 0.0
            d_surplus[d] = 0.0
            continue
        c_ret = c_return[d] if c_return[d] >= 0.0 else conc[dem_node[d]]
        d_x[d] = (1.0 - dem_consumptive[d]) * (lam[ret] * c_ret + mu[ret])
        d_surplus[d] = lam[ret] * conc[dem_node[d]] + mu[ret]
    return s_avail[g] - c_max * w_avail[g]
