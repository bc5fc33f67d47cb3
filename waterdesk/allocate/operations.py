"""Reservoir operating rules in the step LP (docs/REFERENCE.md §12; docs/DESIGN.md "Reservoir operation").

* **Storage target** (`target_storage_mcm`, 12 end-of-month values, `target_priority`):
  row ``v + short - over = target``. `short` is a claim at `target_priority` (it shares
  by equal fraction with the demands of that level, as energy targets do), so the
  reservoir refills toward its target before lower priorities take water and gives
  way to higher ones. `over` costs `solve.OVER_TARGET_COST` per mcm, more than the
  value of stored water plus the spill cost and less than any claim: water above the
  target is released (drawn down toward it) unless a demand needs it later (horizon
  mode keeps it for them). Within a month, a sub-monthly step's target is interpolated
  linearly in time between the previous and the current end-of-month values.
* **Buffer zone** (`buffer_mcm`, `buffer_coefficient`, WEAP-style): while the start
  storage v0 is below the buffer level, the stored water the step may release is at
  most ``coef·(v0 - dead)``: storage may not fall below ``v0 - evap - coef·(v0 - dead)``
  (inflow still passes). A hard limit on the storage column, step mode only: a hedging
  rule stands in for the foresight horizon mode has, so horizon mode does not apply it.
* **Release curve** (`release_curve = [[storage_mcm, release_m3s], ...]`, Pywr-style):
  the release wanted at the start storage (piecewise linear, held at the end values
  outside the curve), ``rel + spill + short >= f(v0)·Δ``; `short` is a claim at
  `target_priority`. Horizon mode evaluates the curve at the window's start storage.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from waterdesk.allocate.formulation import StepLP
from waterdesk.calendar import Steps
from waterdesk.kernels import realise
from waterdesk.model.network import Network

F64 = NDArray[np.float64]


def step_targets(net: Network, steps: Steps) -> F64:
    """Target storage at the end of every step [mcm], shape (T, K), NaN where none.

    A monthly step takes its month's end-of-month value; a shorter step the value
    interpolated in time between the previous month's end and this month's end."""
    n_k = len(net.res_ids)
    if len(net.res_target_mcm) != n_k:
        return np.full((len(steps), n_k), np.nan)
    month = steps.month_index
    start_of_month = steps.start.astype("datetime64[M]").astype("datetime64[D]")
    elapsed = (steps.end - start_of_month).astype("timedelta64[D]").astype(np.float64)
    frac = np.clip(elapsed / steps.days_in_month, 0.0, 1.0)
    this = net.res_target_mcm[:, month].T                       # (T, K)
    before = net.res_target_mcm[:, (month - 1) % 12].T
    return before + (this - before) * frac[:, None]


def step_buffers(net: Network, steps: Steps) -> F64:
    """Buffer level in every step [mcm], shape (T, K), NaN where none."""
    n_k = len(net.res_ids)
    if len(net.res_buffer_mcm) != n_k:
        return np.full((len(steps), n_k), np.nan)
    return net.res_buffer_mcm[:, steps.month_index].T


def curve_release(net: Network, k: int, storage: float) -> float:
    """Release [m3 s-1] the release curve of reservoir k asks at `storage`."""
    return float(realise.interp_curve(storage, net.res_curve_s[k], net.res_curve_q[k], int(net.res_curve_n[k])))


class OperatingRules:
    """Targets, buffer zones and release curves of one run, applied step by step."""

    def __init__(self, net: Network, lp: StepLP, steps: Steps, delta: F64) -> None:
        self.net = net
        self.lp = lp
        self.delta = delta
        self.targets = step_targets(net, steps)                     # (T, K)
        self.buffers = step_buffers(net, steps)
        first = len(lp.claim_col) - len(lp.target_res) - len(lp.curve_res)
        self.claim_target = np.arange(first, first + len(lp.target_res))
        self.claim_curve = np.arange(first + len(lp.target_res), len(lp.claim_col))
        self.curve_max = np.array([net.res_curve_q[k, :max(int(net.res_curve_n[k]), 1)].max()
                                   for k in lp.curve_res.tolist()])

    @property
    def active(self) -> bool:
        return bool(len(self.lp.target_res) or len(self.lp.curve_res)
                    or np.isfinite(self.buffers).any())

    def add_scale(self, level_scale: F64) -> None:
        """Add the largest claim of each rule to its level's request scale [mcm]."""
        lp = self.lp
        for j, k in zip(self.claim_target, lp.target_res.tolist()):
            level_scale[lp.claim_level[j]] += float(np.nanmax(self.targets[:, k], initial=0.0))
        for j, peak in zip(self.claim_curve, self.curve_max):
            level_scale[lp.claim_level[j]] += float(peak * self.delta.max(initial=0.0))

    def apply(self, t: int, storage: F64, evap: F64, col_lo: F64, row_lo: F64, row_hi: F64,
              claim_request: F64, coef_values: F64, coef_offset: int) -> None:
        """Set step t's rule rows, claims and the buffer's storage floor, for every member
        (arrays with a leading member axis; `storage` and `evap` at the step's start, the
        claims' equal-fraction coefficients at ``coef_values[:, coef_offset + claim]``,
        before they are divided by the level scale)."""
        lp, net = self.lp, self.net
        if len(lp.target_res):
            target = self.targets[t, lp.target_res]
            row_lo[:, lp.row_target] = target
            row_hi[:, lp.row_target] = target
            claim_request[:, self.claim_target] = target
            coef_values[:, coef_offset + self.claim_target] = target
            row_lo[:, lp.row_share[self.claim_target]] = np.where(target > 0, 0.0, -np.inf)
        for i, k in enumerate(lp.curve_res.tolist()):
            want = np.array([curve_release(net, k, float(v)) for v in storage[:, k]]) * self.delta[t]
            row_lo[:, lp.row_curve[i]] = want
            row_hi[:, lp.row_curve[i]] = np.inf
            claim_request[:, self.claim_curve[i]] = want
            coef_values[:, coef_offset + self.claim_curve[i]] = want
            row_lo[:, lp.row_share[self.claim_curve[i]]] = np.where(want > 0, 0.0, -np.inf)
        buffer = self.buffers[t]
        for k in np.flatnonzero(np.isfinite(buffer)).tolist():
            v0 = storage[:, k]
            below = v0 < buffer[k]
            floor = v0 - evap[:, k] - net.res_buffer_coef[k] * np.maximum(v0 - net.res_dead_mcm[k], 0.0)
            col = lp.col_v[k]
            col_lo[:, col] = np.where(below, np.maximum(col_lo[:, col], np.minimum(floor, net.res_capacity_mcm[k])),
                                      col_lo[:, col])
