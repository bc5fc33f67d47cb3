"""Seeded synthetic river networks for the allocation benchmark.

One generator feeds both sides of the comparison: :func:`write_waterdesk`
writes the waterdesk basin, inflow CSV and scenario files, and
:func:`build_pywr` builds the same network as a Pywr model in code.

The network (perf-baseline §0):

- a random recursive tree of ``R`` river reaches that drains to one ``sink``;
- an ``inflow`` node on every leaf, plus a lateral ``inflow`` node feeding about
  20 % of the interior junctions; daily inflows are seasonal x AR(1) x lognormal,
  in m3/s;
- ``K ~ R/10`` reservoirs at interior junctions (capacity 60 days of the mean
  natural flow there, 50 % full at the start, no dead storage, no evaporation);
- ``D ~ R/5`` demands (at least 2), each hanging off a junction (or reservoir) by
  a canal, with an irrigation-shaped monthly request of 15-60 % of the mean
  annual natural flow at its junction (so that demands stacked along a river run
  short in the dry late summer and autumn), priority 1, 2 or 3 (levels shared),
  fully consumptive, no losses.

Placement rule that keeps the comparison well posed
---------------------------------------------------
Both models are myopic step LPs: serve demands by priority, then keep water in
reservoirs, then let it go to the sink.  That fixes the per-priority totals and the
*total* storage of each step, but not which reservoir holds the water when two
reservoirs could do the same job (store upstream or downstream; release from A or
from B for a demand below both).  Pywr (GLPK) and waterdesk (HiGHS) would break such
ties differently, and the split then changes what later steps can deliver, so the
trajectories drift apart although each step is optimal.  The generator therefore

- places reservoirs so that none is upstream of another (an antichain), and
- hangs demands only off junctions with at most one reservoir upstream (inclusive),

which makes every reservoir's storage unique at every step.  Within one priority
level the split between competing demands is still not unique (Pywr picks a
vertex, waterdesk shares by equal fraction); in a tree it changes neither storage
nor the other levels, so the benchmark compares per-level totals.

Determinism: the topology of an ``R``-reach network depends only on ``(seed, R)``,
and each inflow series has its own random stream ``(seed, R, site)``, so a longer
horizon extends the series without changing the network or the first days.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Network",
    "generate",
    "generate_for_nodes",
    "write_waterdesk",
    "build_pywr",
    "PRIORITY_COST",
    "M3S_TO_MCM_PER_DAY",
]

#: m3/s held for one day, in million m3.
M3S_TO_MCM_PER_DAY = 0.0864
#: Pywr cost of a demand's delivery by waterdesk priority level.
PRIORITY_COST = {1: -1000.0, 2: -100.0, 3: -10.0}
#: Pywr cost of net inflow to a reservoir (keep water, lowest priority).
STORAGE_COST = -1.0
START = dt.date(2001, 1, 1)
#: Relative monthly shape of an irrigation-type request, Jan..Dec.
DEMAND_SHAPE = np.array([0.35, 0.35, 0.45, 0.7, 1.1, 1.5, 1.8, 1.7, 1.2, 0.6, 0.4, 0.35])


@dataclass
class Network:
    """A generated network, in waterdesk terms (volumes mcm, flows m3/s)."""

    reaches_river: int  # R, reaches of the river tree (canals and lateral inflows excluded)
    seed: int
    days: int
    start: dt.date
    nodes: list[dict[str, Any]]  # waterdesk [[node]] tables, in topological order (upstream first)
    reaches: list[dict[str, Any]]  # waterdesk [[reach]] tables
    inflow_ids: list[str]
    inflow_m3s: np.ndarray  # (days, n_inflow), m3/s
    mean_flow_m3s: dict[str, float] = field(default_factory=dict)  # natural mean flow at each node

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def name(self) -> str:
        return f"bench-r{self.reaches_river}-n{self.n_nodes}-s{self.seed}"

    def ids(self, kind: str) -> list[str]:
        return [n["id"] for n in self.nodes if n["kind"] == kind]

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def end(self) -> dt.date:
        """Last day of the horizon (inclusive)."""
        return self.start + dt.timedelta(days=self.days - 1)

    def demand_per_day_mcm(self) -> dict[str, np.ndarray]:
        """Request of each demand per daily step: monthly_mcm / days in that month."""
        dates = self.dates()
        month = np.array([d.month for d in dates]) - 1
        ndays = np.array([calendar.monthrange(d.year, d.month)[1] for d in dates], dtype=float)
        out = {}
        for n in self.nodes:
            if n["kind"] == "demand":
                out[n["id"]] = np.asarray(n["monthly_mcm"], dtype=float)[month] / ndays
        return out

    def summary(self) -> dict[str, int]:
        kinds = ("inflow", "junction", "reservoir", "demand", "sink")
        out = {"nodes": self.n_nodes, "reaches": len(self.reaches), "river_reaches_R": self.reaches_river}
        out.update({k: len(self.ids(k)) for k in kinds})
        return out


# ----------------------------------------------------------------------------- topology


def _topology(R: int, seed: int) -> dict[str, Any]:
    """Random recursive tree on river nodes 0..R (0 = sink) plus placements."""
    if R < 2:
        raise ValueError(f"need at least 2 river reaches, got R={R}")
    rng = np.random.default_rng([seed, R, 0])
    parent = np.full(R + 1, -1)
    parent[1] = 0  # outlet reach drains to the sink
    for i in range(2, R + 1):
        parent[i] = rng.integers(1, i)  # attach below any earlier non-sink node
    children: list[list[int]] = [[] for _ in range(R + 1)]
    for i in range(1, R + 1):
        children[parent[i]].append(i)
    leaves = [i for i in range(1, R + 1) if not children[i]]
    interior = [i for i in range(1, R + 1) if children[i]]

    # ancestors (downstream path, excluding the sink) of every river node
    def path_down(i: int) -> list[int]:
        out = []
        while i > 0:
            out.append(i)
            i = parent[i]
        return out

    down = {i: path_down(i) for i in range(1, R + 1)}

    # lateral inflow on ~20 % of interior junctions
    lateral = sorted(int(i) for i in interior if rng.random() < 0.2)

    # reservoirs: antichain (none upstream of another), preferring nodes below the outlet
    K = max(1, round(R / 10))
    cand = [i for i in interior if i != 1] or list(interior)
    order = list(rng.permutation(cand))
    reservoirs: list[int] = []
    for c in order:
        c = int(c)
        if len(reservoirs) == K:
            break
        # c must be neither upstream nor downstream of a chosen reservoir
        if any(r in down[c] or c in down[r] for r in reservoirs):
            continue
        reservoirs.append(c)
    reservoirs.sort()

    # demand sites: interior nodes with at most one reservoir at or upstream of them
    res_set = set(reservoirs)
    n_res_up = {j: sum(1 for r in res_set if j in down[r]) for j in interior}
    sites = [j for j in interior if n_res_up[j] <= 1]
    D = max(2, round(R / 5))  # at least two, so that a priority level can be shared
    site_of_demand = [int(s) for s in rng.choice(sites, size=D, replace=len(sites) < D)]
    priority = [int(p) for p in rng.integers(1, 4, size=D)]
    if D >= 2 and len(set(priority)) == D:  # make sure at least one level is shared
        priority[-1] = priority[0]
    frac = rng.uniform(0.15, 0.6, size=D)  # annual request / mean annual natural flow at the site

    mean_leaf = np.exp(rng.normal(np.log(10.0), 0.7, size=R + 1))  # m3/s
    mean_lat = np.exp(rng.normal(np.log(4.0), 0.7, size=R + 1))
    return dict(
        parent=parent, children=children, leaves=leaves, interior=interior, lateral=lateral,
        reservoirs=reservoirs, sites=site_of_demand, priority=priority, frac=frac,
        mean_leaf=mean_leaf, mean_lat=mean_lat,
    )


def _count_nodes(R: int, seed: int) -> int:
    t = _topology(R, seed)
    # river nodes (incl. sink) + lateral inflow nodes + demands
    return (R + 1) + len(t["lateral"]) + len(t["sites"])


def reaches_for_nodes(target: int, seed: int) -> int:
    """The R whose network has the node count closest to ``target`` (smaller R on ties)."""
    best = None
    for R in range(2, max(3, target) + 1):
        n = _count_nodes(R, seed)
        key = (abs(n - target), R)
        if best is None or key < best[0]:
            best = (key, R)
    assert best is not None
    return best[1]


# ----------------------------------------------------------------------------- inflows


def _seasonal(doy: np.ndarray) -> np.ndarray:
    """Snow-melt regime: peak early June (1.8x), low in December (0.2x)."""
    return 1.0 + 0.8 * np.cos(2.0 * np.pi * (doy - 160.0) / 365.0)


def _inflow_series(mean: float, days: int, seed: int, R: int, site: int, start: dt.date) -> np.ndarray:
    rng = np.random.default_rng([seed, R, 1, site])
    phi, sigma = 0.9, 0.45
    eps = rng.standard_normal(days)
    z = np.empty(days)
    z[0] = sigma * eps[0]
    s = sigma * np.sqrt(1.0 - phi * phi)
    for t in range(1, days):
        z[t] = phi * z[t - 1] + s * eps[t]
    doy = np.array([(start + dt.timedelta(days=i)).timetuple().tm_yday for i in range(days)], dtype=float)
    phase = rng.uniform(-15.0, 15.0)  # sites peak a little apart
    return mean * _seasonal(doy - phase) * np.exp(z - 0.5 * sigma * sigma)


# ----------------------------------------------------------------------------- network


def generate(R: int, days: int = 365, seed: int = 2001) -> Network:
    """Build the network with ``R`` river reaches, ``days`` daily steps from 2001-01-01."""
    t = _topology(R, seed)
    parent, children = t["parent"], t["children"]
    res = set(t["reservoirs"])
    lat = set(t["lateral"])

    def rid(i: int) -> str:
        if i == 0:
            return "sink"
        if not children[i]:
            return f"in_{i:03d}"
        return f"res_{i:03d}" if i in res else f"j_{i:03d}"

    # natural mean flow at each river node (sum of upstream inflow means)
    mean_at = np.zeros(R + 1)
    for i in range(R, 0, -1):  # children have larger indices than parents
        if not children[i]:
            mean_at[i] += t["mean_leaf"][i]
        if i in lat:
            mean_at[i] += t["mean_lat"][i]
        mean_at[parent[i]] += mean_at[i]

    nodes: list[dict[str, Any]] = []
    reaches: list[dict[str, Any]] = []
    inflow_ids: list[str] = []
    inflow_cols: list[np.ndarray] = []
    mean_flow: dict[str, float] = {}

    def river(a: str, b: str) -> None:
        reaches.append({"from": a, "to": b, "kind": "river", "routing": "none", "loss_fraction": 0.0})

    # river nodes upstream first (largest index first), each preceded by its lateral inflow
    for i in range(R, 0, -1):
        nid = rid(i)
        if i in lat:
            lid = f"lat_{i:03d}"
            nodes.append({"id": lid, "kind": "inflow", "country": "XX"})
            inflow_ids.append(lid)
            inflow_cols.append(_inflow_series(float(t["mean_lat"][i]), days, seed, R, 1000 + i, START))
            mean_flow[lid] = float(t["mean_lat"][i])
            river(lid, nid)
        if not children[i]:
            nodes.append({"id": nid, "kind": "inflow", "country": "XX"})
            inflow_ids.append(nid)
            inflow_cols.append(_inflow_series(float(t["mean_leaf"][i]), days, seed, R, i, START))
        elif i in res:
            cap = 60.0 * mean_at[i] * M3S_TO_MCM_PER_DAY
            nodes.append({
                "id": nid, "kind": "reservoir", "country": "XX",
                "capacity_mcm": cap,
                "dead_storage_mcm": 0.0,
                "initial_storage_mcm": 0.5 * cap,
                "area_curve": [[0.0, 0.0], [cap, 1.0]],
                "evaporation_mm": [0.0] * 12,
            })
        else:
            nodes.append({"id": nid, "kind": "junction", "country": "XX"})
        mean_flow[nid] = float(mean_at[i])
        river(nid, rid(int(parent[i])))

    # demands, hanging off their junction by a canal
    for k, (site, prio, frac) in enumerate(zip(t["sites"], t["priority"], t["frac"])):
        did = f"dem_{k + 1:02d}"
        annual = frac * mean_at[site] * 365.0 * M3S_TO_MCM_PER_DAY
        monthly = annual * DEMAND_SHAPE / DEMAND_SHAPE.sum()
        nodes.append({
            "id": did, "kind": "demand", "country": "XX", "sector": "irrigation",
            "priority": prio, "monthly_mcm": [float(v) for v in monthly],
            "consumptive_fraction": 1.0,
        })
        reaches.append({"from": rid(site), "to": did, "kind": "canal", "routing": "none", "loss_fraction": 0.0})
    nodes.append({"id": "sink", "kind": "sink", "country": "XX"})
    mean_flow["sink"] = float(mean_at[0])

    return Network(
        reaches_river=R, seed=seed, days=days, start=START, nodes=nodes, reaches=reaches,
        inflow_ids=inflow_ids, inflow_m3s=np.column_stack(inflow_cols), mean_flow_m3s=mean_flow,
    )


def generate_for_nodes(target_nodes: int, days: int = 365, seed: int = 2001) -> Network:
    """The network whose total node count is closest to ``target_nodes``."""
    return generate(reaches_for_nodes(target_nodes, seed), days=days, seed=seed)


# ----------------------------------------------------------------------------- waterdesk files


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not np.isfinite(f):
            raise ValueError(f"cannot write {f} to TOML")
        return repr(f)  # shortest round-trip repr, valid TOML
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {type(v).__name__}")


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else _toml_value(k)


def write_waterdesk(net: Network, directory: str | Path) -> Path:
    """Write ``basin.toml``, ``inflows.csv`` and ``scenario.toml``; return the scenario path."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    lines = [
        "# generated by benchmarks/netgen.py -- synthetic benchmark network",
        "[basin]",
        f"name = {_toml_value(net.name)}",
        f"title = {_toml_value(f'Synthetic tree, R={net.reaches_river}, {net.n_nodes} nodes, seed {net.seed}')}",
        'countries = ["XX"]',
        'inflows = "inflows.csv"',
        "",
    ]
    for n in net.nodes:
        lines.append("[[node]]")
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in n.items()]
        lines.append("")
    for r in net.reaches:
        lines.append("[[reach]]")
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in r.items()]
        lines.append("")
    (d / "basin.toml").write_text("\n".join(lines), encoding="utf-8")

    # inflow CSV: time (ISO dates, period starts), one column per inflow node, m3/s.
    # repr() round-trips float64 exactly, so both models see bit-identical inflows.
    with open(d / "inflows.csv", "w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(["time"] + net.inflow_ids) + "\n")
        for day, row in zip(net.dates(), net.inflow_m3s):
            fh.write(day.isoformat() + "," + ",".join(repr(float(x)) for x in row) + "\n")

    scen = [
        "[scenario]",
        f"name = {_toml_value(net.name)}",
        'basin = "basin.toml"',
        f'start = "{net.start.isoformat()}"',
        f'end = "{net.end().isoformat()}"',
        'timestep = "day"',
        'mode = "step"',
        "",
    ]
    (d / "scenario.toml").write_text("\n".join(scen), encoding="utf-8")
    return d / "scenario.toml"


# ----------------------------------------------------------------------------- Pywr model


def build_pywr(net: Network, solver: str = "glpk-edge", record: bool = True,
               member_flows: np.ndarray | None = None) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The same network as a Pywr model (flows Mm3/day, volumes Mm3).

    Returns ``(model, demand_recorders, storage_recorders)``, recorders keyed by node id
    (empty when ``record`` is false). With ``member_flows`` (members, days, inflow sites)
    [m3 s-1], the model has a ``Scenario`` of that many members and every inflow is an
    ``ArrayIndexedScenarioParameter`` (Pywr's ensemble mechanism; recorders then hold
    (days, members)).
    Pywr is imported here only: it is an optional benchmark dependency.
    """
    import pandas as pd
    from pywr.core import Model, Scenario
    from pywr.nodes import Catchment, Link, Output, Storage
    from pywr.parameters import ArrayIndexedParameter, ArrayIndexedScenarioParameter, MonthlyProfileParameter
    from pywr.recorders import NumpyArrayNodeRecorder, NumpyArrayStorageRecorder

    model = Model(
        solver=solver,
        start=pd.Timestamp(net.start.isoformat()),
        end=pd.Timestamp(net.end().isoformat()),
        timestep=1,
    )
    scenario = Scenario(model, "members", size=member_flows.shape[0]) if member_flows is not None else None
    dates = net.dates()
    # A monthly profile of per-day values is exact only when no February in the horizon has 29 days.
    leap_feb = any(d.month == 2 and calendar.isleap(d.year) for d in dates)
    per_day = net.demand_per_day_mcm() if leap_feb else None
    ndays_2001 = np.array([calendar.monthrange(2001, m)[1] for m in range(1, 13)], dtype=float)

    inflow_col = {nid: k for k, nid in enumerate(net.inflow_ids)}
    pnodes: dict[str, Any] = {}
    dem_rec: dict[str, Any] = {}
    sto_rec: dict[str, Any] = {}
    for n in net.nodes:
        nid, kind = n["id"], n["kind"]
        if kind == "inflow" and member_flows is not None:
            per_member = np.ascontiguousarray(member_flows[:, :, inflow_col[nid]].T * M3S_TO_MCM_PER_DAY)
            pnodes[nid] = Catchment(model, nid, flow=ArrayIndexedScenarioParameter(model, scenario, per_member))
        elif kind == "inflow":
            flow = net.inflow_m3s[:, inflow_col[nid]] * M3S_TO_MCM_PER_DAY
            pnodes[nid] = Catchment(model, nid, flow=ArrayIndexedParameter(model, flow))
        elif kind == "junction":
            pnodes[nid] = Link(model, nid)
        elif kind == "reservoir":
            pnodes[nid] = Storage(
                model, nid, max_volume=n["capacity_mcm"], min_volume=n["dead_storage_mcm"],
                initial_volume=n["initial_storage_mcm"],
                initial_volume_pc=n["initial_storage_mcm"] / n["capacity_mcm"],
                cost=STORAGE_COST,
            )
            if record:
                sto_rec[nid] = NumpyArrayStorageRecorder(model, pnodes[nid], name=f"rec_{nid}")
        elif kind == "demand":
            if per_day is not None:
                mf = ArrayIndexedParameter(model, per_day[nid])
            else:
                mf = MonthlyProfileParameter(model, np.asarray(n["monthly_mcm"], dtype=float) / ndays_2001)
            pnodes[nid] = Output(model, nid, max_flow=mf, cost=PRIORITY_COST[n["priority"]])
            if record:
                dem_rec[nid] = NumpyArrayNodeRecorder(model, pnodes[nid], name=f"rec_{nid}")
        elif kind == "sink":
            pnodes[nid] = Output(model, nid, cost=0.0)
        else:
            raise ValueError(f"unsupported node kind {kind!r}")
    for r in net.reaches:
        pnodes[r["from"]].connect(pnodes[r["to"]])
    return model, dem_rec, sto_rec
