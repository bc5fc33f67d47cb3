"""The summary statistics of many runs (a sweep's, or an ensemble result's members):
per run, country and clause what was delivered and held; across the members of each
combination, the probabilities of compliance and of full supply (docs/BATCH.md).

Takes Datasets and plain records; the batch executor reads the files.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from waterdesk.analysis.accounts import TOL_MCM, step_water_year
from waterdesk.model.sweep import MEMBER_KEY, Sweep

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["run_scalars", "summary_table", "summary_of_members"]


def _coordinate(values: list[Any]) -> Any:
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int8)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=float)
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=object)
    return np.array([json.dumps(v) for v in values], dtype=object)


def run_scalars(ds: "xr.Dataset") -> dict[str, Any]:
    """What the summary keeps of one run: per country delivered, shortage, the water
    years fully supplied; per clause the windows held and the share held."""
    countries = [str(c) for c in ds["country"].values]
    demand_country = [str(c) for c in ds["demand_country"].values]
    shortage = np.asarray(ds["shortage"].values, dtype=float)
    wy = step_water_year(ds)
    out: dict[str, Any] = {"delivered": {}, "shortage": {}, "supply_reliability": {},
                           "clause_compliance": {}, "clause_windows": {}, "held": {}, "met": {}}
    delivered = np.asarray(ds["withdrawal_by_country"].values, dtype=float)
    for i, country in enumerate(countries):
        mask = np.array([c == country for c in demand_country], dtype=bool)
        short = shortage[:, mask].sum(axis=1) if mask.any() else np.zeros(len(wy))
        out["delivered"][country] = float(delivered[:, i].sum())
        out["shortage"][country] = float(short.sum())
        years = np.unique(wy)
        met = [float(short[wy == y].sum()) <= TOL_MCM for y in years]
        out["supply_reliability"][country] = float(np.mean(met)) if len(years) else float("nan")
        out["met"][country] = {int(y): float(m) for y, m in zip(years, met)}
    violation = np.asarray(ds["clause_violation"].values, dtype=float)
    for c, clause in enumerate(str(x) for x in ds["clause"].values):
        column = violation[:, c] if violation.size else np.zeros(0)
        valid = column[~np.isnan(column)]
        out["clause_windows"][clause] = float(len(valid))
        out["held"][clause] = np.where(np.isnan(column), np.nan, (column <= TOL_MCM).astype(float))
        out["clause_compliance"][clause] = float(np.mean(valid <= TOL_MCM)) if len(valid) else float("nan")
    return out


def _union(lists: Iterable[list[str]]) -> list[str]:
    seen: list[str] = []
    for items in lists:
        seen += [x for x in items if x not in seen]
    return seen


def summary_of_members(ds: "xr.Dataset") -> "xr.Dataset":
    """The summary `waterdesk batch` would make of an ensemble result (a ``member``
    dimension, from `wd.run` of an ensemble scenario): one combination whose runs are
    the members (run ids ``m<member>``), with `compliance_probability` and
    `supply_probability`; the clauses' window start dates ride along as
    ``window_start_date`` (window, clause)."""
    members = [int(m) for m in ds["member"].values]
    runs = [(f"m{m:04d}", {MEMBER_KEY: m}) for m in members]
    sweep = Sweep(Path(str(ds.attrs.get("scenario_file") or ds.attrs.get("scenario", ""))), vary={},
                  members=len(members))
    scalars: list[dict[str, Any] | None] = [run_scalars(ds.isel(member=i)) for i in range(len(members))]
    summary = summary_table(sweep, runs, ["ok"] * len(members), [""] * len(members), scalars)
    summary.attrs.pop("seed", None)
    summary.attrs.update(source="ensemble result of one scenario (member dimension)",
                         scenario=str(ds.attrs.get("scenario", "")),
                         inflow_source=str(ds.attrs.get("inflow_source", "")))
    if ds.sizes.get("clause", 0):
        starts = [[("" if np.isnat(t) else str(t)[:10]) for t in row] for row in ds["window_start"].values]
        summary["window_start_date"] = (("window_of_clause", "clause"), np.array(starts, dtype=object),
                                        {"long_name": "start of each clause window"})
    return summary


def summary_table(sweep: Sweep, runs: list[tuple[str, dict[str, Any]]], status: list[str], reason: list[str],
             scalars: list[dict[str, Any] | None]) -> "xr.Dataset":
    import xarray as xr

    countries = _union(list(s["delivered"]) for s in scalars if s)
    clauses = _union(list(s["clause_compliance"]) for s in scalars if s)

    def table(name: str, items: list[str]) -> Any:
        return np.array([[s[name].get(x, np.nan) if s else np.nan for x in items] for s in scalars],
                        dtype=float).reshape(len(scalars), len(items))

    ids = [run_id for run_id, _ in runs]
    coords: dict[str, Any] = {"run": ("run", np.array(ids, dtype=object)),
                              "country": ("country", np.array(countries, dtype=object)),
                              "clause": ("clause", np.array(clauses, dtype=object))}
    for key in sweep.keys():
        coords[key] = ("run", _coordinate([overrides[key] for _, overrides in runs]),
                       {"long_name": f"value of the scenario key {key} in each run"})
    data = {
        "status": ("run", np.array(status, dtype=object),
                   {"long_name": "ok, invalid (bad input or override), infeasible, solver_error"}),
        "reason": ("run", np.array(reason, dtype=object), {"long_name": "why a run failed (empty if ok)"}),
        "delivered": (("run", "country"), table("delivered", countries),
                      {"units": "mcm", "long_name": "volume delivered to the country's demands over the period"}),
        "shortage": (("run", "country"), table("shortage", countries),
                     {"units": "mcm", "long_name": "requested minus delivered over the period"}),
        "supply_reliability": (("run", "country"), table("supply_reliability", countries),
                               {"units": "1", "long_name": "share of water years in which the country's "
                                                           f"demands were fully met (shortage <= {TOL_MCM:g} mcm)"}),
        "clause_compliance": (("run", "clause"), table("clause_compliance", clauses),
                              {"units": "1", "long_name": "share of the clause's windows in which it held "
                                                          f"(violation <= {TOL_MCM:g} mcm)"}),
        "clause_windows": (("run", "clause"), table("clause_windows", clauses),
                           {"units": "1", "long_name": "number of windows of the clause"}),
    }
    if sweep.members is not None:
        data.update(_member_probabilities(sweep, runs, scalars, countries, clauses, coords))
    attrs = {"title": "waterdesk sweep summary", "scenario": str(sweep.scenario),
             "varied_keys": json.dumps(sweep.keys()), "seed": sweep.seed,
             "members": sweep.members if sweep.members is not None else 0,
             "runs": json.dumps({run_id: overrides for run_id, overrides in runs}, sort_keys=True, default=str)}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _member_probabilities(sweep: Sweep, runs: list[tuple[str, dict[str, Any]]],
                          scalars: list[dict[str, Any] | None], countries: list[str], clauses: list[str],
                          coords: dict[str, Any]) -> dict[str, Any]:
    """Across the members of each combination of the other varied values: the share of
    members in which each clause held in each window, and in which each country's
    demands were fully met in each water year (failed members are left out)."""
    others = list(sweep.vary)
    combos: list[tuple[Any, ...]] = []
    index: list[int] = []
    for _, overrides in runs:
        combo = tuple(json.dumps(overrides[k], sort_keys=True) for k in others)
        if combo not in combos:
            combos.append(combo)
        index.append(combos.index(combo))
    ok = [s for s in scalars if s]
    n_win = max((len(h) for s in ok for h in s["held"].values()), default=0)
    years = sorted({y for s in ok for m in s["met"].values() for y in m})
    held = np.full((len(combos), len(clauses), n_win), np.nan)
    met = np.full((len(combos), len(countries), len(years)), np.nan)
    members = np.zeros(len(combos), dtype=np.int32)
    for c in range(len(combos)):
        group = [s for i, s in enumerate(scalars) if index[i] == c and s is not None]
        members[c] = len(group)
        for k, clause in enumerate(clauses):
            stack = np.full((len(group), n_win), np.nan)
            for g, s in enumerate(group):
                h = s["held"].get(clause, np.zeros(0))
                stack[g, :len(h)] = h
            counted = (~np.isnan(stack)).sum(axis=0)
            total = np.where(np.isnan(stack), 0.0, stack).sum(axis=0)
            held[c, k] = np.where(counted > 0, total / np.maximum(counted, 1), np.nan)
        for k, country in enumerate(countries):
            for y, year in enumerate(years):
                values = [s["met"][country][year] for s in group if year in s["met"].get(country, {})]
                if values:
                    met[c, k, y] = float(np.mean(values))
    coords["combination"] = ("combination", np.array([f"c{c:04d}" for c in range(len(combos))], dtype=object))
    coords["window"] = ("window", np.arange(n_win, dtype=np.int32))
    coords["water_year"] = ("water_year", np.array(years, dtype=np.int32),
                            {"long_name": "accounting year ([scenario] accounting_year, Oct-Sep by default), "
                                          "named by the calendar year it ends in"})
    for k, key in enumerate(others):
        coords[f"combination_{key}"] = ("combination", _coordinate([json.loads(c[k]) for c in combos]),
                                        {"long_name": f"value of {key} in each combination"})
    coords["run_combination"] = ("run", np.array(index, dtype=np.int32),
                                 {"long_name": "index of the run's combination of the other varied values"})
    return {
        "members_ok": ("combination", members, {"long_name": "members of the combination that ran"}),
        "compliance_probability": (
            ("combination", "clause", "window"), held,
            {"units": "1", "long_name": "share of the members in which the clause held in the window "
                                        f"(violation <= {TOL_MCM:g} mcm); NaN past a clause's last window"}),
        "supply_probability": (
            ("combination", "country", "water_year"), met,
            {"units": "1", "long_name": "share of the members in which the country's demands were fully "
                                        f"met in the water year (shortage <= {TOL_MCM:g} mcm)"}),
    }
