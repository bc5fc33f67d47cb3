"""Simulation arrays -> an xarray.Dataset with CF-1.10 metadata (docs/REFERENCE.md §8). Does not write."""
from __future__ import annotations

import datetime as _dt
import functools
from typing import Any

import numpy as np
import xarray as xr

from waterdesk.allocate.operations import step_targets
from waterdesk import salinity
from waterdesk.model.network import KIND_CODE
from waterdesk.simulate import Simulation

_KIND_NAME = {v: k for k, v in KIND_CODE.items()}

#: name -> (dims, units, long_name)
VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "natural_flow": (("time", "node"), "m3 s-1", "natural (unmanaged) flow leaving the node"),
    "node_flow": (("time", "node"), "m3 s-1", "managed flow leaving the node (arriving, for demands and sinks)"),
    "local_inflow": (("time", "node"), "m3 s-1", "external inflow entering at the node"),
    "reach_flow": (("time", "reach"), "m3 s-1", "flow entering the reach"),
    "reach_outflow": (("time", "reach"), "m3 s-1", "flow leaving the reach after routing and losses"),
    "storage": (("time", "reservoir"), "mcm", "reservoir storage at the end of the step"),
    "release": (("time", "reservoir"), "m3 s-1", "release through turbines and outlets"),
    "spill": (("time", "reservoir"), "m3 s-1", "release over the spillway"),
    "evaporation": (("time", "reservoir"), "mcm", "open-water evaporation over the step"),
    "energy": (("time", "reservoir"), "GWh", "hydropower energy generated over the step"),
    "requested": (("time", "demand"), "mcm", "volume requested over the step"),
    "supplied": (("time", "demand"), "mcm", "volume delivered over the step"),
    "shortage": (("time", "demand"), "mcm", "requested minus supplied"),
    "withdrawal_by_country": (("time", "country"), "mcm", "volume delivered to the demands of each country"),
    "energy_target": (("time", "reservoir"), "GWh", "energy wanted from the turbines over the step"),
    "energy_shortfall": (("time", "reservoir"), "GWh", "energy target minus energy generated, if positive"),
    "target_storage": (("time", "reservoir"), "mcm",
                       "operating target of the storage at the end of the step (NaN where none)"),
    "target_deviation": (("time", "reservoir"), "mcm", "storage minus its operating target (NaN where none)"),
    "mass_balance_error": (("time", "node"), "mcm",
                           "inflow - outflow - storage change - evaporation - consumption"),
}


#: variables every member of an ensemble shares (they do not depend on the inflows)
MEMBER_SHARED = ("requested", "energy_target", "target_storage", "time_bounds", "clause_covers")


def members_dataset(sims: list[Simulation], members: list[int], version: str) -> xr.Dataset:
    """The result of an ensemble run: each member's Dataset stacked along ``member``
    (docs/REFERENCE.md §8). Variables the members share (requests, coordinates) keep their dims."""
    parts = [_parts(sim, version, full=m == 0) for m, sim in enumerate(sims)]
    first, coords, attrs = parts[0]
    # the members' arrays stacked in numpy and one Dataset made (what xr.concat of one
    # Dataset per member gives, without building and aligning M Datasets); coordinates and
    # attributes are the first member's, as concat's "minimal" and "override" take them
    data_vars = {name: var if name in MEMBER_SHARED else
                 xr.Variable(("member",) + var.dims, np.stack([_values(p[0][name]) for p in parts]), var.attrs)
                 for name, var in first.items()}
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    ds = ds.assign_coords(member=("member", np.asarray(members, dtype=np.int32),
                                  {"long_name": "member of the inflow ensemble"}))
    ds.attrs["members"] = len(parts)
    ds.attrs["history"] = ds.attrs["history"] + f" with {len(parts)} inflow members"
    return ds


def _values(var: "xr.Variable | np.ndarray") -> np.ndarray:
    return var.values if isinstance(var, xr.Variable) else var


def to_dataset(sim: Simulation, version: str) -> xr.Dataset:
    """Build the result Dataset of a run."""
    data_vars, coords, attrs = _parts(sim, version)
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _parts(sim: Simulation, version: str, full: bool = True
           ) -> tuple[dict[str, xr.Variable], dict[str, xr.Variable], dict[str, Any]]:
    """The variables, coordinates and attributes of a run's result Dataset (not `full`: the
    variables only, for the members after the first of a stacked result)."""
    net = sim.network
    sc = sim.scenario
    countries = list(sc.basin.countries)
    by_country = np.zeros((len(sim.steps), len(countries)))
    for d, country in enumerate(net.dem_country):
        by_country[:, countries.index(country)] += sim.supplied[:, d]
    values = {
        "natural_flow": sim.natural_flow, "node_flow": sim.node_flow, "local_inflow": sim.local_inflow,
        "reach_flow": sim.reach_flow, "reach_outflow": sim.reach_outflow, "storage": sim.storage,
        "release": sim.release, "spill": sim.spill, "evaporation": sim.evaporation,
        "energy": sim.energy, "requested": sim.requested, "supplied": sim.supplied,
        "shortage": sim.requested - sim.supplied, "withdrawal_by_country": by_country,
        "mass_balance_error": sim.mass_balance_error,
        "energy_target": sim.energy_target if sim.energy_target is not None else np.zeros_like(sim.energy),
    }
    values["energy_shortfall"] = np.maximum(values["energy_target"] - sim.energy, 0.0)
    values["target_storage"] = step_targets(net, sim.steps)
    values["target_deviation"] = sim.storage - values["target_storage"]
    if not full:      # a later member of a stacked result: its arrays (xr.Variable costs 40 us)
        rest: dict[str, Any] = {name: values[name] for name in VARIABLES}
        rest.update(_clause_variables(sim, None))
        rest.update(salinity.result_variables(sim.salt))
        return rest, {}, {}
    data_vars = {}
    for name, (dims, units, long_name) in VARIABLES.items():
        data_vars[name] = xr.Variable(dims, values[name], {"units": units, "long_name": long_name})
    nodes = sc.basin.nodes
    coords = {
        "time": xr.Variable("time", sim.steps.start.astype("datetime64[ns]"),
                            {"standard_name": "time", "long_name": "start of the time step",
                             "bounds": "time_bounds"}),
        "node": xr.Variable("node", list(net.node_ids), {"long_name": "node id"}),
        "reach": xr.Variable("reach", list(net.reach_ids), {"long_name": "reach id"}),
        "reservoir": xr.Variable("reservoir", list(net.res_ids), {"long_name": "reservoir node id"}),
        "demand": xr.Variable("demand", list(net.dem_ids), {"long_name": "demand node id"}),
        "country": xr.Variable("country", countries, {"long_name": "ISO 3166 alpha-2 country code"}),
        "node_kind": xr.Variable("node", [_KIND_NAME[int(k)] for k in net.node_kind]),
        "node_country": xr.Variable("node", [n.country for n in nodes]),
        "reach_from": xr.Variable("reach", [net.node_ids[i] for i in net.reach_from]),
        "reach_to": xr.Variable("reach", [net.node_ids[i] for i in net.reach_to]),
        "reach_kind": xr.Variable("reach", [{r.id: r.kind for r in sc.basin.reaches}[rid] for rid in net.reach_ids],
                                  {"long_name": "river or canal"}),
        "reservoir_capacity": xr.Variable("reservoir", net.res_capacity_mcm, {"units": "mcm"}),
        "reservoir_initial_storage": xr.Variable("reservoir", net.res_initial_mcm, {"units": "mcm"}),
        "demand_country": xr.Variable("demand", list(net.dem_country)),
        "demand_sector": xr.Variable("demand", list(net.dem_sector)),
        "demand_priority": xr.Variable("demand", net.dem_priority.astype(np.int32)),
        "demand_return_to": xr.Variable("demand", [net.node_ids[i] if i >= 0 else "" for i in net.dem_return_node]),
        "demand_consumptive_fraction": xr.Variable("demand", net.dem_consumptive, {"units": "1"}),
    }
    data_vars.update(_clause_variables(sim, coords))
    data_vars.update(salinity.result_variables(sim.salt))   # salinity (issue 14), when the run has it
    bounds = np.stack([sim.steps.start, sim.steps.end], axis=1).astype("datetime64[ns]")
    data_vars["time_bounds"] = xr.Variable(("time", "nv"), bounds)
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    attrs = {
        "Conventions": "CF-1.10",
        "title": sc.title or f"waterdesk run of {sc.name}",
        "basin": sc.basin.name,
        "scenario": sc.name,
        "scenario_description": sc.description,
        "scenario_file": str(sc.path or ""),
        "scenario_sha256": sc.inputs_sha256,
        "waterdesk_version": version,
        "timestep": sc.timestep,
        "mode": sc.mode,
        "solver": _solver_name(),
        "inflow_source": sc.inflows.source,
        "inflow_scale": str(sc.inflow_scale),
        "demand_scale": str(sc.demand_scale),
        "history": f"{now} waterdesk {version}: run {sc.path or sc.name}",
        "horizon": str(sc.horizon or ""),
        "accounting_year": getattr(sc, "accounting_year", "oct"),
        "carry_over": str(getattr(sc, "carry_over", "initial")) if sc.mode == "horizon" else "",
        "source": "waterdesk river-basin allocation model",
        "allocation_seconds": float(sim.timings.get("allocate_s", 0.0)),
        "allocation_steps": int(len(sim.steps)),
        "lp_solves": int(sim.solves),
        "horizon_build_seconds": float(sim.timings.get("horizon_build_s", 0.0)),
        "horizon_solve_seconds": float(sim.timings.get("horizon_solve_s", 0.0)),
        "simplex_iterations": int(sim.simplex_iterations),
        # members allocated together in one stacked LP per step: the timings, solves and
        # iterations above are theirs together
        "allocation_stack_members": int(sim.stack_members),
        # who allocated the steps (allocate/engine.py) and how many member-steps the
        # compiled engine could not certify and handed to HiGHS
        "allocation_engine": str(getattr(sim, "engine", "highs")),
        "engine_fallback_steps": int(getattr(sim, "engine_fallbacks", 0)),
    }
    return data_vars, coords, attrs


CLAUSE_VARIABLES = {
    "clause_required": "what the clause asked over the window (a cap: its limit)",
    "clause_actual": "what happened over the window",
    "clause_violation": "shortfall below a minimum or excess over a cap (>= 0)",
}


def _clause_variables(sim: Simulation, coords: dict[str, xr.Variable] | None) -> dict[str, xr.Variable]:
    """Per window and clause (docs/REFERENCE.md §8); `window` counts the windows of each clause.
    Adds the clause and window coordinates to `coords` (unless None)."""
    clauses = sim.scenario.clauses
    book = sim.clauses
    n_win = book.required.shape[1] if book is not None and clauses else 0
    dims = ("window", "clause")
    out: dict[str, xr.Variable] = {}
    for name, long_name in CLAUSE_VARIABLES.items():
        values = getattr(book, name.removeprefix("clause_")).T if n_win else np.zeros((0, len(clauses)))
        out[name] = xr.Variable(dims, values, {"units": "mcm", "long_name": long_name})
    prices = book.shadow_price.T if n_win and book is not None else np.zeros((0, len(clauses)))
    out["clause_shadow_price"] = xr.Variable(dims, prices, {
        "units": "mcm mcm-1",
        "long_name": "priority-weighted shortage added per mcm more that the clause asks "
                     "(per mcm less that a cap allows)",
        "comment": "horizon mode only (NaN in step mode); shortage of the top priority level counts "
                   "1, each level below 1/100 of the one above; 0 when the clause does not bind"})
    countries = list(sim.scenario.basin.countries)
    party = np.full((n_win, len(clauses), len(countries)), np.nan)
    if book is not None:
        for (c, win, country), value in book.party_required.items():
            party[win, c, countries.index(country)] = value
    out["clause_party_required"] = xr.Variable(("window", "clause", "country"), party, {
        "units": "mcm", "long_name": "what a share clause allots each party over the window "
                                     "(entitlement mode: at most what the party asked)"})
    covers = np.zeros((len(clauses), len(sim.network.dem_ids)), dtype=np.int8)
    if book is not None:
        for row in book.rows:
            for fam, d, coef in row.terms:
                if fam == "x" and coef > 0 and clauses[row.clause].counts_withdrawals:
                    covers[row.clause, d] = 1
    out["clause_covers"] = xr.Variable(("clause", "demand"), covers, {
        "long_name": "1 where the demand's deliveries count in the share or max_withdrawal clause"})
    if coords is None:
        return out
    start = np.full((n_win, len(clauses)), np.datetime64("NaT"), dtype="datetime64[ns]")
    end = start.copy()
    if book is not None:
        for c, w in enumerate(book.windows):
            start[: len(w), c] = w.start.astype("datetime64[ns]")
            end[: len(w), c] = w.end.astype("datetime64[ns]")
    coords["clause"] = xr.Variable("clause", [c.id for c in clauses], {"long_name": "clause id"})
    coords["clause_kind"] = xr.Variable("clause", [c.kind for c in clauses])
    coords["clause_period"] = xr.Variable("clause", [c.period for c in clauses])
    coords["clause_mode"] = xr.Variable("clause", [str(getattr(c, "mode", "")) for c in clauses],
                                        {"long_name": "share clauses: cap, entitlement or exact"})
    coords["clause_node"] = xr.Variable("clause", [str(getattr(c, "node", None) or "") for c in clauses],
                                        {"long_name": "node a clause applies to (empty if none)"})
    coords["clause_country"] = xr.Variable("clause", [str(getattr(c, "country", None) or "") for c in clauses],
                                           {"long_name": "country whose withdrawals a max_withdrawal clause limits"})
    coords["clause_hard"] = xr.Variable("clause", np.array([c.hard for c in clauses], dtype=np.int8),
                                        {"long_name": "1 for a hard clause (a constraint)"})
    coords["clause_priority"] = xr.Variable("clause", np.array([c.priority or 0 for c in clauses],
                                                               dtype=np.int32),
                                            {"long_name": "priority of a soft clause (0 if hard)"})
    coords["window"] = xr.Variable("window", np.arange(n_win, dtype=np.int32),
                                   {"long_name": "window number within each clause"})
    coords["window_start"] = xr.Variable(dims, start, {"long_name": "first day of the window"})
    coords["window_end"] = xr.Variable(dims, end, {"long_name": "day after the window ends"})
    return out


@functools.lru_cache(maxsize=1)
def _solver_name() -> str:
    from importlib.metadata import version

    return f"HiGHS (highspy {version('highspy')}); LP declared in Pyomo {version('pyomo')}"
