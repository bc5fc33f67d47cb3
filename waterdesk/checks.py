"""Cross-checks on a basin and a scenario, after each file passed its schema (the
checks behind `waterdesk.validate` and every load).

Every check runs and appends `Problem` records; the caller raises once. None of
this touches the file system (the loader passes in what it read).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from waterdesk.calendar import NOMINAL_DAYS, is_step_start, make_steps
from waterdesk.errors import Problem
from waterdesk.model.basin import Basin, Demand, Reservoir, Sink
from waterdesk.model.clauses import closest
from waterdesk.model.scenario import InflowData, Scenario
from waterdesk.units import mcm_per_m3s

#: (kind, id or index, key) -> (path, line)
Locator = Callable[[str, str | int, str | None], tuple[Path | str, int | None]]


def _node_where(node_id: str, key: str | None = None) -> str:
    return f'node "{node_id}"' + (f".{key}" if key else "")


def validate_basin(basin: Basin, locate: Locator, placeholders: frozenset[str] = frozenset()) -> list[Problem]:
    """Structure and physical consistency of a basin.

    `placeholders` are nodes that failed their schema and stand in only so the
    network can be checked; their own fields are not checked again.
    """
    problems: list[Problem] = []

    def add(kind: str, ident: str | int, key: str | None, where: str, message: str) -> None:
        path, line = locate(kind, ident, key)
        problems.append(Problem(path, line, where, message))

    seen: dict[str, int] = {}
    for i, node in enumerate(basin.nodes):
        if node.id in seen:
            add("node", i, "id", _node_where(node.id), f"duplicate id (first defined as node #{seen[node.id] + 1})")
        seen.setdefault(node.id, i)
        if node.country not in basin.countries and node.id not in placeholders:
            add("node", i, "country", _node_where(node.id, "country"),
                f"country {node.country} is not in [basin].countries {list(basin.countries)}")
    ids = set(seen)
    # salinity (issue 14): once any node has a salinity key, every inflow needs salinity_mg_l
    if any(getattr(n, k, None) is not None for n in basin.nodes
           for k in ("salinity_mg_l", "return_salinity_mg_l", "initial_salinity_mg_l")):
        for i, node in enumerate(basin.nodes):
            if node.kind == "inflow" and getattr(node, "salinity_mg_l", None) is None and node.id not in placeholders:
                add("node", i, "kind", _node_where(node.id, "salinity_mg_l"),
                    "the basin uses salinity, so every inflow node needs salinity_mg_l "
                    "(one value or 12 monthly values, mg/L)")

    reported: set[str] = set(placeholders)   # problems that make "never drains" redundant
    reach_ids: dict[str, int] = {}
    out_reaches: dict[str, list[int]] = {n: [] for n in ids}
    in_reaches: dict[str, list[int]] = {n: [] for n in ids}
    for r, reach in enumerate(basin.reaches):
        where = f'reach "{reach.id}"'
        if reach.id in reach_ids:
            add("reach", r, "id", where, "duplicate reach id")
        reach_ids.setdefault(reach.id, r)
        for end, key in ((reach.from_node, "from"), (reach.to_node, "to")):
            if end not in ids:
                close = _closest(end, ids)
                add("reach", r, key, f"{where}.{key}", f"unknown node {end!r}{close}")
                reported.add(reach.from_node)
        if reach.from_node == reach.to_node:
            add("reach", r, "to", where, "a reach cannot start and end at the same node")
        if reach.from_node in ids:
            out_reaches[reach.from_node].append(r)
        if reach.to_node in ids:
            in_reaches[reach.to_node].append(r)
        if reach.routing in ("lag", "muskingum") and reach.k_days <= 0:
            add("reach", r, "k_days", f"{where}.k_days",
                f"routing {reach.routing!r} needs k_days > 0, got {reach.k_days}")

    for i, node in enumerate(basin.nodes):
        if node.id not in out_reaches or seen[node.id] != i:
            continue
        outs = [basin.reaches[r] for r in out_reaches[node.id]]
        rivers = [x for x in outs if x.kind == "river"]
        if node.id in placeholders:
            continue
        if isinstance(node, (Demand, Sink)):
            if outs:
                add("node", i, None, _node_where(node.id),
                    f"a {node.kind} node cannot have outgoing reaches (found {len(outs)})")
        elif len(rivers) != 1:
            reported.add(node.id)
            if not rivers:
                detail = "; water here has nowhere to go" if not outs else \
                    f"; only canals ({', '.join(x.id for x in outs)}) leave it"
            else:
                detail = (f" ({', '.join(x.id for x in rivers)}); mark all but the natural course "
                          'kind = "canal"')
            add("node", i, None, _node_where(node.id),
                f"needs exactly one outgoing river reach (its natural course), found {len(rivers)}{detail}")
        if isinstance(node, Demand):
            if not in_reaches[node.id]:
                add("node", i, None, _node_where(node.id), "no reach delivers water to this demand")
            if node.return_to is not None:
                if node.return_to not in ids:
                    add("node", i, "return_to", _node_where(node.id, "return_to"),
                        f"unknown node {node.return_to!r}{_closest(node.return_to, ids)}")
                elif isinstance(basin.node(node.return_to), Demand):
                    add("node", i, "return_to", _node_where(node.id, "return_to"),
                        "return flows must go to a non-demand node")
        if isinstance(node, Reservoir):
            problems += _check_reservoir(node, i, locate)

    problems += _check_graph(basin, ids, reported, locate)
    return problems


_closest = closest


def _check_reservoir(res: Reservoir, i: int, locate: Locator) -> list[Problem]:
    problems: list[Problem] = []

    def add(key: str | None, message: str) -> None:
        path, line = locate("node", i, key)
        problems.append(Problem(path, line, _node_where(res.id, key), message))

    if res.dead_storage_mcm > res.capacity_mcm:
        add("dead_storage_mcm", f"must be <= capacity_mcm ({res.capacity_mcm}), got {res.dead_storage_mcm}")
    if res.initial_storage_mcm > res.capacity_mcm:
        add("initial_storage_mcm", f"must be <= capacity_mcm ({res.capacity_mcm}), got {res.initial_storage_mcm}")
    for key, curve in (("area_curve", res.area_curve), ("head_curve", res.head_curve)):
        if not curve:
            continue
        s = [p[0] for p in curve]
        y = [p[1] for p in curve]
        if s[0] != 0.0:
            add(key, f"must start at storage 0, starts at {s[0]}")
        bad = [(a, b) for a, b in zip(s, s[1:]) if b <= a]
        if bad:
            add(key, f"storage values must increase ({bad[0][1]:g} after {bad[0][0]:g})")
        if any(v < 0 for v in y):
            add(key, "values must be >= 0")
        if s[-1] < res.capacity_mcm:
            add(key, f"must reach capacity_mcm ({res.capacity_mcm}), ends at {s[-1]}")
    if any(res.evaporation_mm) and not res.area_curve:
        add("evaporation_mm", "evaporation needs area_curve (the water surface it evaporates from)")
    if res.installed_mw is not None:
        missing = [k for k in ("turbine_max_m3s", "efficiency", "head_curve") if getattr(res, k) is None]
        if missing:
            add("installed_mw", f"hydropower also needs {', '.join(missing)}")
    elif res.turbine_max_m3s is not None:
        add("turbine_max_m3s", "turbines need installed_mw, efficiency and head_curve")
    if res.energy_target_gwh is not None:
        if res.installed_mw is None:
            add("energy_target_gwh", "an energy target needs hydropower (installed_mw, turbine_max_m3s, "
                                     "efficiency, head_curve)")
        if res.energy_priority is None:
            add("energy_target_gwh", "an energy target needs energy_priority (1 is served first)")
    elif res.energy_priority is not None:
        add("energy_priority", "energy_priority without energy_target_gwh")
    problems += _check_operation(res, add)
    return problems


def without_evaporation(basin: Basin) -> list[str]:
    """Reservoirs that lose nothing to evaporation: no area_curve, or no (or all-zero)
    evaporation_mm. Not a problem; `waterdesk validate` notes them once."""
    return [r.id for r in basin.reservoirs if not r.area_curve or not any(r.evaporation_mm)]


def _check_operation(res: Reservoir, add: Callable[[str | None, str], None]) -> list[Problem]:
    """Operating rules: target storage, buffer zone, release curve (docs/REFERENCE.md §12)."""
    if (res.target_storage_mcm is not None or res.release_curve is not None) and res.target_priority is None:
        add("target_priority" if res.target_storage_mcm is None else "target_storage_mcm",
            "an operating target or release curve needs target_priority (1 is served first)")
    if res.target_priority is not None and res.target_storage_mcm is None and res.release_curve is None:
        add("target_priority", "target_priority without target_storage_mcm or release_curve")
    for value in res.target_storage_mcm or ():
        if value > res.capacity_mcm:
            add("target_storage_mcm", f"targets must be <= capacity_mcm ({res.capacity_mcm}), got {value}")
            break
    if (res.buffer_mcm is None) != (res.buffer_coefficient is None):
        add("buffer_mcm" if res.buffer_mcm is not None else "buffer_coefficient",
            "a buffer zone needs both buffer_mcm and buffer_coefficient")
    for value in res.buffer_mcm or ():
        if value > res.capacity_mcm:
            add("buffer_mcm", f"must be <= capacity_mcm ({res.capacity_mcm}), got {value}")
            break
    if res.release_curve is not None:
        s = [p[0] for p in res.release_curve]
        if any(b <= a for a, b in zip(s, s[1:])):
            add("release_curve", "storage values must increase")
        if any(p[1] < 0 for p in res.release_curve):
            add("release_curve", "releases must be >= 0 m3/s")
    return []


def _check_graph(basin: Basin, ids: set[str], reported: set[str], locate: Locator) -> list[Problem]:
    problems: list[Problem] = []
    down: dict[str, list[str]] = {n: [] for n in ids}
    for reach in basin.reaches:
        if reach.from_node in ids and reach.to_node in ids:
            down[reach.from_node].append(reach.to_node)
    # cycles: iterative DFS with colours
    colour = dict.fromkeys(ids, 0)
    cycles_seen: set[frozenset[str]] = set()
    for root in sorted(ids):
        if colour[root]:
            continue
        stack = [(root, iter(down[root]))]
        path = [root]
        colour[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour[child] == 1:
                cycle = path[path.index(child):] + [child]
                if frozenset(cycle) not in cycles_seen:
                    cycles_seen.add(frozenset(cycle))
                    where, line = locate("node", basin.node_index[child], None)
                    problems.append(Problem(where, line, _node_where(child),
                                            "reaches form a cycle: " + " -> ".join(cycle)))
            elif colour[child] == 0:
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(down[child])))
    if problems:
        return problems
    # drains to a sink: walk upstream from sinks
    up: dict[str, list[str]] = {n: [] for n in ids}
    for a, bs in down.items():
        for b in bs:
            up[b].append(a)
    # walk upstream from sinks, and from nodes already reported (their upstream
    # "never drains" only because of that problem)
    drains = {n.id for n in basin.nodes if isinstance(n, Sink)} | (reported & ids)
    frontier = list(drains)
    while frontier:
        node = frontier.pop()
        for a in up[node]:
            if a not in drains:
                drains.add(a)
                frontier.append(a)
    if not any(isinstance(n, Sink) for n in basin.nodes):
        file, _ = locate("node", 0, None)
        problems.append(Problem(file, None, "basin", "has no sink node; every river must end in one"))
        return problems
    for i, item in enumerate(basin.nodes):
        if (not isinstance(item, (Demand, Sink)) and item.id not in drains and item.id not in reported
                and basin.node_index[item.id] == i):
            file, line = locate("node", i, None)
            problems.append(Problem(file, line, _node_where(item.id), "never drains to a sink"))
    return problems


def inflow_coverage(basin: Basin, data: InflowData) -> list[Problem]:
    """Every inflow node of the basin has a series in the inflow data, and every series
    (CSV column, NetCDF ``node`` entry) is one of the basin's inflow nodes."""
    from waterdesk.io.inflows import csv_line

    inflow_ids = [n.id for n in basin.nodes if n.kind == "inflow"]
    line = csv_line(data.source)
    problems = []
    missing = [n for n in inflow_ids if n not in data.node]
    if missing:
        have = ", ".join(data.node) if data.node else "none"
        problems.append(Problem(data.source, line, "inflow",
                                f"no series for inflow node(s) {', '.join(missing)} (the file has: {have})"))
    entry = "column" if line is not None else "node entry"
    others = {n.id: n.kind for n in basin.nodes}
    for name in data.node:
        if name in inflow_ids:
            continue
        if name in others:
            why = f"is a {others[name]} node, not an inflow node"
        else:
            why = f"matches no inflow node of the basin (its water would be ignored){_closest(name, set(inflow_ids))}"
        problems.append(Problem(data.source, line, f"inflow[{name}]", f"{entry} {name!r} {why}"))
    return problems


def _horizon_ok(horizon: str | int | None) -> bool:
    if horizon in ("water_year", "year"):
        return True
    try:
        return int(str(horizon)) >= 1
    except ValueError:
        return False


def validate_scenario(scenario: Scenario, locate: Locator) -> list[Problem]:
    """Checks that need the basin, the scenario and the inflow data together."""
    problems: list[Problem] = []

    def add(key: str, where: str, message: str, section: str = "scenario") -> None:
        path, line = locate(section, 0, key)
        problems.append(Problem(path, line, where, message))

    start, end = np.datetime64(scenario.start, "D"), np.datetime64(scenario.end, "D")
    if end < start:
        add("end", "scenario.end", f"must not be before start ({scenario.start}), got {scenario.end}")
        return problems
    if not is_step_start(start, scenario.timestep):
        days = {"month": "the 1st of a month", "dekad": "the 1st, 11th or 21st of a month"}
        add("start", "scenario.start",
            f"{scenario.timestep} steps start on {days[scenario.timestep]}, got {scenario.start}")
        return problems
    if scenario.mode == "horizon" and not _horizon_ok(scenario.horizon):
        add("horizon", "scenario.horizon",
            f'with mode = "horizon" must be "water_year", "year" or a number of steps, got {scenario.horizon!r}')
    if isinstance(scenario.carry_over, dict):
        reservoirs = {r.id for r in scenario.basin.reservoirs}
        for rid in scenario.carry_over:
            if rid != "*" and rid not in reservoirs:
                add(rid, f"carry_over.{rid}", f"no reservoir {rid!r} in the basin", "carry_over")
    steps = make_steps(start, end, scenario.timestep)
    data = scenario.inflows
    problems += inflow_coverage(scenario.basin, data)
    problems += validate_clauses(scenario, locate)
    if scenario.exchange and scenario.members:
        add("clause", "exchange", "the exchange account compares two runs of one inflow series; "
            "an ensemble scenario (inflows.members / inflows.generate) cannot have one", "exchange")
    if scenario.exchange:
        ids = {c.id for c in scenario.clauses}
        hydro = {r.id for r in scenario.basin.reservoirs if r.has_hydropower}
        if scenario.exchange["clause"] not in ids:
            add("clause", "exchange.clause", f"no clause {scenario.exchange['clause']!r} in this scenario", "exchange")
        if scenario.exchange["reservoir"] not in hydro:
            add("reservoir", "exchange.reservoir",
                f"{scenario.exchange['reservoir']!r} is not a reservoir with hydropower", "exchange")
    if len(data.start) == 0 or data.start[0] > steps.start[0] or data.end[-1] < steps.end[-1]:
        have = f"{data.start[0]} to {data.end[-1] - np.timedelta64(1, 'D')}" if len(data.start) else "nothing"
        need = f"{steps.start[0]} to {steps.end[-1] - np.timedelta64(1, 'D')}"
        if data.source.startswith("generated"):     # inflows.generate: said at that key
            add("generate", "inflows.generate", f"generated inflows cover {have}; the scenario needs "
                f"{need} (more years)", "inflows")
        else:
            problems.append(Problem(data.source, None, "time",
                                    f"inflow data cover {have}; the scenario needs {need}"))
    if isinstance(scenario.demand_scale, dict):
        known = {n.id for n in scenario.basin.demands} | {n.sector for n in scenario.basin.demands} \
            | set(scenario.basin.countries)
        for key in scenario.demand_scale:
            if key not in known:
                add("scale", f"demands.scale.{key}",
                    f"not a demand id, sector or country of the basin{_closest(key, known)}", "demands")
    min_days = float(steps.days.min()) if len(steps) else NOMINAL_DAYS[scenario.timestep]
    for r, reach in enumerate(scenario.basin.reaches):
        if reach.routing == "muskingum" and reach.k_days > 0 and min_days < 2 * reach.k_days * reach.x - 1e-12:
            path, line = locate("reach", r, "x")
            problems.append(Problem(path, line, f'reach "{reach.id}".x',
                                    f"Muskingum is unstable for {min_days:g}-day steps: needs "
                                    f"2*k_days*x <= step ({2 * reach.k_days * reach.x:g} > {min_days:g} days); "
                                    "lower x or k_days"))
    return problems


def validate_clauses(scenario: Scenario, locate: Locator) -> list[Problem]:
    """References and consistency of the agreement clauses (docs/AGREEMENTS.md)."""
    problems: list[Problem] = []
    basin = scenario.basin
    seen: dict[str, int] = {}
    for i, clause in enumerate(scenario.clauses):
        where = f'clause "{clause.id}"'

        def add(key: str | None, message: str) -> None:
            path, line = locate("clause", i, key)
            problems.append(Problem(path, line, f"{where}.{key}" if key else where, message))

        if clause.id in seen:
            add("id", f"duplicate clause id (first is clause #{seen[clause.id] + 1})")
        seen.setdefault(clause.id, i)
        if clause.hard and clause.priority is not None:
            add("priority", "a hard clause is a constraint and takes no priority; remove it or set hard = false")
        if not clause.hard and clause.priority is None:
            add("priority", "a soft clause needs a priority (1 is served first), or set hard = true")
        if clause.period == "season" and not clause.months:
            add("period", 'period "season" needs months = [..] or season = "summer" (etc.)')
        if clause.period != "season" and clause.months:
            add("months", f'months only apply with period = "season", not {clause.period!r}')
        for country in clause.parties:
            if country not in basin.countries:
                add("parties", f"{country} is not a country of the basin {list(basin.countries)}")
        for key, message in clause.check(basin) + clause.check_mode(scenario.mode):
            add(key, message)
        only = getattr(clause, "demands", None)
        if only is not None:
            demand_ids = {d.id for d in basin.demands}
            for d in only:
                if d not in demand_ids:
                    add("demands", f"{d!r} is not a demand of the basin{_closest(d, demand_ids)}")
    return problems


def physical_conflicts(scenario: Scenario) -> list[tuple[str, str]]:
    """Hard minimums no operation could meet: more than all the water that enters the
    clause node's river system in a step (or window), plus all of its reservoirs' capacity.
    Returns (clause id, explanation) pairs; seen before any solve (each kind's
    `physical_conflict`)."""

    basin = scenario.basin
    steps = scenario.steps
    days = steps.days
    inflow_ids = [n.id for n in basin.nodes if n.kind == "inflow"]
    if not inflow_ids or not len(steps):
        return []
    volume = scenario.inflows.on_steps(steps, inflow_ids) * scenario.inflow_factor(steps.month_index)[:, None]
    volume = volume * mcm_per_m3s(days)[:, None]                     # mcm per step
    system_of = _river_systems(basin)
    out: list[tuple[str, str]] = []
    per_step = mcm_per_m3s(days)
    for clause in scenario.clauses:
        if not clause.hard:
            continue
        system = system_of.get(str(getattr(clause, "node", "")), set())
        cols = [j for j, nid in enumerate(inflow_ids) if nid in system]
        water = volume[:, cols].sum(axis=1) if cols else np.zeros(len(steps))
        stored = sum(r.capacity_mcm for r in basin.reservoirs if r.id in system)
        why = clause.physical_conflict(water, stored, steps, per_step)
        if why is not None:
            out.append((clause.id, why))
    return out


def _river_systems(basin: Basin) -> dict[str, set[str]]:
    from waterdesk.model.network import components

    pairs = [(r.from_node, r.to_node) for r in basin.reaches]
    pairs += [(d.id, d.return_to) for d in basin.demands if d.return_to]
    return components(pairs)
