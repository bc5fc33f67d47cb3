"""A scenario: a basin, a period, inflows and demand settings. Never opens a file."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from waterdesk.calendar import Steps, make_steps
from waterdesk.model.basin import Basin
from waterdesk.model.clauses import Clause


@dataclass(frozen=True)
class InflowData:
    """External inflows at inflow nodes, as read from a file.

    start, end : datetime64[D], shape (n_time,)   data periods
    values_m3s : float64, shape (n_time, n_node)  step-mean flows [m3 s-1]
    """

    node: tuple[str, ...]
    start: NDArray[np.datetime64]
    end: NDArray[np.datetime64]
    values_m3s: NDArray[np.float64]
    source: str = ""

    def on_steps(self, steps: Steps, node_ids: list[str]) -> NDArray[np.float64]:
        """Mean inflow [m3 s-1] over each model step, shape (n_step, len(node_ids)).

        The data are taken as piecewise constant over their periods, so any
        model step (day, dekad, month) gets the exact time-weighted mean.
        """
        cols = [self.node.index(n) for n in node_ids]
        edges = np.concatenate([self.start, self.end[-1:]]).astype("datetime64[D]").astype(np.float64)
        cum = np.zeros((len(edges), len(cols)))
        widths = np.diff(edges)
        cum[1:] = np.cumsum(self.values_m3s[:, cols] * widths[:, None], axis=0)
        a = steps.start.astype(np.float64)
        b = steps.end.astype(np.float64)
        vol = np.stack([np.interp(b, edges, cum[:, j]) - np.interp(a, edges, cum[:, j])
                        for j in range(len(cols))], axis=1) if cols else np.zeros((len(a), 0))
        return vol / (b - a)[:, None]


@dataclass(frozen=True)
class Scenario:
    """Everything a run needs. Change it in code with `replace`.

    Examples
    --------
    >>> import waterdesk as wd
    >>> sc = wd.load_scenario("scenarios/chu-talas/baseline.toml")
    >>> dry = sc.replace(inflow_scale=0.84, name="dry")
    >>> (dry.name, dry.inflow_scale), (sc.name, sc.inflow_scale)
    (('dry', 0.84), ('baseline', 1.0))
    """

    name: str
    basin: Basin
    inflows: InflowData
    start: str
    end: str
    timestep: str = "month"
    mode: str = "step"
    horizon: str | None = None
    title: str = ""
    description: str = ""
    inflow_scale: float | tuple[float, ...] = 1.0
    demand_scale: float | dict[str, float] = 1.0
    output_path: Path | None = None
    clauses: tuple[Clause, ...] = ()
    exchange: dict[str, Any] | None = None   # [exchange]: clause, reservoir, price_per_gwh, currency
    path: Path | None = None
    inputs_sha256: str = ""
    #: an ensemble scenario's inflow members (`inflows.members` / `inflows.generate`); the
    #: run takes them all together and the result has a member dimension. Empty: one run.
    members: tuple[InflowData, ...] = ()
    #: horizon mode: storage wanted at the end of each window, "initial" (default: the
    #: window's start storage), "free", a volume [mcm], or {reservoir id: one of those}
    carry_over: str | float | dict[str, str | float] = "initial"
    #: first month of the accounting year of ledgers, summaries and reports ("oct": Oct-Sep)
    accounting_year: str = "oct"

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with some fields changed (the result records the new values)."""
        return dataclasses.replace(self, **changes)

    @property
    def steps(self) -> Steps:
        return make_steps(self.start, self.end, self.timestep)

    def demand_factor(self, demand_id: str) -> float:
        """Demand scale for one demand: by node id, else sector, else country."""
        if not isinstance(self.demand_scale, dict):
            return float(self.demand_scale)
        node = self.basin.node(demand_id)
        for key in (node.id, getattr(node, "sector", None), node.country):
            if key in self.demand_scale:
                return float(self.demand_scale[key])
        return 1.0

    def inflow_factor(self, month_index: NDArray[np.int64]) -> NDArray[np.float64]:
        """Inflow scale for steps in the given calendar months (0 = January)."""
        if isinstance(self.inflow_scale, (int, float)):
            return np.full(len(month_index), float(self.inflow_scale))
        return np.asarray(self.inflow_scale, dtype=np.float64)[month_index]
