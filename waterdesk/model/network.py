"""Compile a `Basin` into flat integer/float arrays for the kernels and the LP.

The network is a DAG of nodes joined by reaches. Arrays follow the pyflwdir
style: index arrays named for what they index, per-reach `reach_from` and
`reach_to` node indices (no adjacency lists: code that needs a node's reaches
selects them from these), each node's natural-course reach `river_out`, and a
topological `order` (upstream first).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from waterdesk.model.basin import Basin, Reservoir

ROUTING_CODE = {"none": 0, "lag": 1, "muskingum": 2}
KIND_CODE = {"inflow": 0, "junction": 1, "gauge": 2, "reservoir": 3, "demand": 4, "sink": 5}

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Network:
    """Array view of a basin. All volumes in mcm, flows in m3 s-1."""

    node_ids: tuple[str, ...]
    node_kind: I64            # (n_node,) KIND_CODE
    order: I64                # (n_node,) topological, upstream first
    # reaches
    reach_ids: tuple[str, ...]
    reach_from: I64           # (n_reach,)
    reach_to: I64
    reach_routing: I64        # ROUTING_CODE
    reach_k_days: F64
    reach_x: F64
    reach_loss: F64
    reach_max_m3s: F64        # inf when uncapped
    river_out: I64            # (n_node,) the natural-course reach of each node, -1 if none
    # inflow nodes
    inflow_node: I64          # (n_inflow,) node index of each inflow series
    # reservoirs
    res_ids: tuple[str, ...]
    res_node: I64             # (n_res,)
    res_capacity_mcm: F64
    res_dead_mcm: F64
    res_initial_mcm: F64
    res_area_s: F64           # (n_res, n_pts) storage points of the area curve, padded
    res_area_a: F64           # (n_res, n_pts) area [km2]
    res_area_n: I64           # (n_res,) points used
    res_evap_mm: F64          # (n_res, 12)
    res_hydro: NDArray[np.bool_]
    res_installed_mw: F64
    res_turbine_m3s: F64      # inf when no turbines
    res_outlet_m3s: F64       # release capacity without turbines (inf if none)
    res_efficiency: F64
    res_head_s: F64           # (n_res, n_pts)
    res_head_h: F64
    res_head_n: I64
    res_energy_target_gwh: F64    # (n_res, 12), 0 where none
    res_energy_priority: I64      # (n_res,) 0 where no energy target
    # demands
    dem_ids: tuple[str, ...]
    dem_node: I64             # (n_dem,)
    dem_priority: I64
    dem_monthly_mcm: F64      # (n_dem, 12)
    dem_consumptive: F64
    dem_return_node: I64      # -1 if none
    dem_country: tuple[str, ...]
    dem_sector: tuple[str, ...]
    # reservoir operating rules (docs/REFERENCE.md §12), NaN / 0 where a reservoir has none
    res_target_mcm: F64 = field(default_factory=lambda: np.zeros((0, 12)))      # (n_res, 12) end of month
    res_target_priority: I64 = field(default_factory=lambda: np.zeros(0, np.int64))  # 0: no target/curve
    res_buffer_mcm: F64 = field(default_factory=lambda: np.zeros((0, 12)))      # (n_res, 12), NaN: none
    res_buffer_coef: F64 = field(default_factory=lambda: np.zeros(0))
    res_curve_s: F64 = field(default_factory=lambda: np.zeros((0, 2)))          # release curve storage
    res_curve_q: F64 = field(default_factory=lambda: np.zeros((0, 2)))          # and release [m3 s-1]
    res_curve_n: I64 = field(default_factory=lambda: np.zeros(0, np.int64))     # points, 0: none

    @property
    def n_node(self) -> int:
        return len(self.node_ids)

    @property
    def n_reach(self) -> int:
        return len(self.reach_ids)


def _curves(curves: list[tuple[tuple[float, float], ...] | None]) -> tuple[F64, F64, I64]:
    width = max([len(c) for c in curves if c] + [2])
    s = np.zeros((len(curves), width))
    y = np.zeros((len(curves), width))
    n = np.zeros(len(curves), dtype=np.int64)
    for i, c in enumerate(curves):
        if c:
            n[i] = len(c)
            s[i, : len(c)] = [p[0] for p in c]
            y[i, : len(c)] = [p[1] for p in c]
            s[i, len(c):] = s[i, len(c) - 1]
            y[i, len(c):] = y[i, len(c) - 1]
    return s, y, n


def compile_network(basin: Basin) -> Network:
    """Arrays of a validated basin (assumes `validate_basin` found no problem)."""
    index = {n.id: i for i, n in enumerate(basin.nodes)}
    n_node = len(basin.nodes)
    kind = np.array([KIND_CODE[n.kind] for n in basin.nodes], dtype=np.int64)
    frm = np.array([index[r.from_node] for r in basin.reaches], dtype=np.int64)
    to = np.array([index[r.to_node] for r in basin.reaches], dtype=np.int64)
    # topological order (Kahn), ties by file order so it is deterministic
    indeg = np.zeros(n_node, dtype=np.int64)
    np.add.at(indeg, to, 1)
    down: list[list[int]] = [[] for _ in range(n_node)]
    for a, b in zip(frm, to):
        down[a].append(int(b))
    ready = [i for i in range(n_node) if indeg[i] == 0]
    order = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for b in down[node]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    river_out = np.full(n_node, -1, dtype=np.int64)
    for r, reach in enumerate(basin.reaches):
        if reach.kind == "river" and river_out[index[reach.from_node]] < 0:
            river_out[index[reach.from_node]] = r
    res = basin.reservoirs
    dem = basin.demands
    ops = _operations(res)
    area_s, area_a, area_n = _curves([r.area_curve for r in res])
    head_s, head_h, head_n = _curves([r.head_curve for r in res])
    inf = np.inf
    return Network(
        node_ids=tuple(n.id for n in basin.nodes),
        node_kind=kind,
        order=np.array(order, dtype=np.int64),
        reach_ids=tuple(r.id for r in basin.reaches),
        reach_from=frm,
        reach_to=to,
        reach_routing=np.array([ROUTING_CODE[r.routing] for r in basin.reaches], dtype=np.int64),
        reach_k_days=np.array([r.k_days for r in basin.reaches], dtype=np.float64),
        reach_x=np.array([r.x for r in basin.reaches], dtype=np.float64),
        reach_loss=np.array([r.loss_fraction for r in basin.reaches], dtype=np.float64),
        reach_max_m3s=np.array([inf if r.max_flow_m3s is None else r.max_flow_m3s for r in basin.reaches],
                               dtype=np.float64),
        river_out=river_out,
        inflow_node=np.array([i for i, n in enumerate(basin.nodes) if n.kind == "inflow"], dtype=np.int64),
        res_ids=tuple(r.id for r in res),
        res_node=np.array([index[r.id] for r in res], dtype=np.int64),
        res_capacity_mcm=np.array([r.capacity_mcm for r in res], dtype=np.float64),
        res_dead_mcm=np.array([r.dead_storage_mcm for r in res], dtype=np.float64),
        res_initial_mcm=np.array([r.initial_storage_mcm for r in res], dtype=np.float64),
        res_area_s=area_s, res_area_a=area_a, res_area_n=area_n,
        res_evap_mm=np.array([r.evaporation_mm for r in res], dtype=np.float64).reshape(len(res), 12),
        res_hydro=np.array([r.has_hydropower for r in res], dtype=np.bool_),
        res_installed_mw=np.array([r.installed_mw or 0.0 for r in res], dtype=np.float64),
        res_turbine_m3s=np.array([inf if r.turbine_max_m3s is None else r.turbine_max_m3s for r in res],
                                 dtype=np.float64),
        res_outlet_m3s=np.array([inf if r.outlet_max_m3s is None else r.outlet_max_m3s for r in res],
                                dtype=np.float64),
        res_efficiency=np.array([r.efficiency or 0.0 for r in res], dtype=np.float64),
        res_head_s=head_s, res_head_h=head_h, res_head_n=head_n,
        res_energy_target_gwh=np.array([r.energy_target_gwh or (0.0,) * 12 for r in res],
                                       dtype=np.float64).reshape(len(res), 12),
        res_energy_priority=np.array([r.energy_priority or 0 if r.energy_target_gwh else 0 for r in res],
                                     dtype=np.int64),
        dem_ids=tuple(d.id for d in dem),
        dem_node=np.array([index[d.id] for d in dem], dtype=np.int64),
        dem_priority=np.array([d.priority for d in dem], dtype=np.int64),
        dem_monthly_mcm=np.array([d.monthly_mcm for d in dem], dtype=np.float64).reshape(len(dem), 12),
        dem_consumptive=np.array([d.consumptive_fraction for d in dem], dtype=np.float64),
        dem_return_node=np.array([index[d.return_to] if d.return_to else -1 for d in dem], dtype=np.int64),
        dem_country=tuple(d.country for d in dem),
        dem_sector=tuple(d.sector for d in dem),
        res_target_mcm=ops[0], res_target_priority=ops[1], res_buffer_mcm=ops[2], res_buffer_coef=ops[3],
        res_curve_s=ops[4], res_curve_q=ops[5], res_curve_n=ops[6],
    )


def _operations(res: list[Reservoir]) -> tuple[F64, I64, F64, F64, F64, F64, I64]:
    """Arrays of the reservoirs' operating rules: target [mcm] (n_res, 12), its priority,
    buffer level (n_res, 12), buffer coefficient, release curve (storage, release, points)."""
    nan12 = (float("nan"),) * 12
    curve_s, curve_q, curve_n = _curves([r.release_curve for r in res])
    return (
        np.array([r.target_storage_mcm or nan12 for r in res], dtype=np.float64).reshape(len(res), 12),
        np.array([r.target_priority or 0 if (r.target_storage_mcm or r.release_curve) else 0 for r in res],
                 dtype=np.int64),
        np.array([r.buffer_mcm if r.buffer_mcm and r.buffer_coefficient else nan12 for r in res],
                 dtype=np.float64).reshape(len(res), 12),
        np.array([r.buffer_coefficient or 0.0 for r in res], dtype=np.float64),
        curve_s, curve_q, curve_n,
    )




def components(pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Connected parts of an undirected graph given as pairs: item -> its part
    (a river system: the nodes joined by reaches or return flows, in any direction)."""
    links: dict[str, set[str]] = {}
    for a, b in pairs:
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)
    part_of: dict[str, set[str]] = {}
    for start in links:
        if start in part_of:
            continue
        seen = {start}
        frontier = [start]
        while frontier:
            for nxt in links[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        for item in seen:
            part_of[item] = seen
    return part_of
