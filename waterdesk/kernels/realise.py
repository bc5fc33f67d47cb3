"""Realised step: evaporation, hydropower and the per-node mass balance. numpy + numba only."""
from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

RHO_G = 1000.0 * 9.81  # [kg m-3] * [m s-2]


@njit(cache=True)
def interp_curve(s: float, xs: NDArray[np.float64], ys: NDArray[np.float64], n: int) -> float:
    """Piecewise-linear curve value at s (clamped to the first/last point)."""
    if n == 0:
        return 0.0
    if s <= xs[0]:
        return ys[0]
    for i in range(1, n):
        if s <= xs[i]:
            w = (s - xs[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + w * (ys[i] - ys[i - 1])
    return ys[n - 1]


@njit(cache=True)
def evaporation(storage_mcm: NDArray[np.float64], evap_mm: NDArray[np.float64],
                area_s: NDArray[np.float64], area_a: NDArray[np.float64],
                area_n: NDArray[np.int64]) -> NDArray[np.float64]:
    """Evaporation [mcm] over a step from the area at the start-of-step storage.

    evap = evap_mm * 1e-3 [m] * area [km2] * 1e6 [m2/km2] * 1e-6 [mcm/m3],
    never more than the water stored.
    """
    out = np.empty(storage_mcm.shape[0])
    for k in range(storage_mcm.shape[0]):
        area = interp_curve(storage_mcm[k], area_s[k], area_a[k], area_n[k])
        out[k] = min(evap_mm[k] * 1e-3 * area, max(storage_mcm[k], 0.0))
    return out


@njit(cache=True, no_cpython_wrapper=True)
def hydropower(turbine_m3s: NDArray[np.float64], storage0: NDArray[np.float64],
               storage1: NDArray[np.float64], hydro: NDArray[np.bool_],
               head_s: NDArray[np.float64], head_h: NDArray[np.float64], head_n: NDArray[np.int64],
               efficiency: NDArray[np.float64], installed_mw: NDArray[np.float64],
               hours: float) -> NDArray[np.float64]:
    """Energy [GWh] of a step: P = rho*g*eta*Q*H [W], capped at the installed MW,
    with H from the head curve at the mean of start and end storage."""
    out = np.zeros(turbine_m3s.shape[0])
    for k in range(turbine_m3s.shape[0]):
        if not hydro[k]:
            continue
        head = interp_curve(0.5 * (storage0[k] + storage1[k]), head_s[k], head_h[k], head_n[k])
        power_mw = min(RHO_G * efficiency[k] * turbine_m3s[k] * head * 1e-6, installed_mw[k])
        out[k] = max(power_mw, 0.0) * hours * 1e-3
    return out


@njit(cache=True, no_cpython_wrapper=True)
def mass_balance(local_mcm: NDArray[np.float64], reach_from: NDArray[np.int64],
                 reach_to: NDArray[np.int64], entry_mcm: NDArray[np.float64],
                 exit_mcm: NDArray[np.float64], dem_node: NDArray[np.int64],
                 dem_return: NDArray[np.int64], dem_consumptive: NDArray[np.float64],
                 delivered_mcm: NDArray[np.float64], surplus_mcm: NDArray[np.float64],
                 res_node: NDArray[np.int64], storage0: NDArray[np.float64],
                 storage1: NDArray[np.float64], evap_mcm: NDArray[np.float64],
                 sink_out_mcm: NDArray[np.float64]) -> NDArray[np.float64]:
    """inflow - outflow - Δstorage - evaporation - consumption at every node [mcm].

    A demand node takes in what its reaches bring; of the delivery, the
    consumed part leaves, the rest (and any surplus) goes to its return node.
    """
    err = local_mcm.copy()
    for r in range(reach_from.shape[0]):
        err[reach_from[r]] -= entry_mcm[r]
        err[reach_to[r]] += exit_mcm[r]
    for d in range(dem_node.shape[0]):
        n = dem_node[d]
        consumed = dem_consumptive[d] * delivered_mcm[d]
        returned = delivered_mcm[d] - consumed + surplus_mcm[d]
        err[n] -= consumed + returned  # all that arrived leaves the demand node
        if dem_return[d] >= 0:
            err[dem_return[d]] += returned
    for k in range(res_node.shape[0]):
        err[res_node[k]] -= storage1[k] - storage0[k] + evap_mcm[k]
    err -= sink_out_mcm
    return err
