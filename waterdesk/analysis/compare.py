"""Side-by-side totals of several results per item and water year, and their
differences against the first result (docs/REFERENCE.md §9-10). Definitions: docs/ANALYSIS.md."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from waterdesk.analysis.accounts import (
    MCM_PER_M3S_DAY,
    TOL_MCM,
    Column,
    Table,
    accounting_year,
    check_units,
    first_month,
    step_days,
    step_water_year,
    water_years,
    year_note,
)
from waterdesk.errors import InputError, Problem

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["compare", "to_dataset", "BY"]

BY = ("country", "demand", "clause", "reservoir", "salinity")

#: by -> metrics: (name, unit: "vol" for the volume unit, else literal; kind)
METRICS: dict[str, list[tuple[str, str, str]]] = {
    "country": [("requested", "vol", "float"), ("delivered", "vol", "float"), ("shortage", "vol", "float")],
    "demand": [("requested", "vol", "float"), ("supplied", "vol", "float"), ("shortage", "vol", "float")],
    "reservoir": [("end_storage", "vol", "float"), ("spill", "vol", "float"), ("energy", "GWh", "float")],
    "clause": [("windows_met", "", "int"), ("windows_violated", "", "int"),
               ("total_violation", "vol", "float")],
    # issue 14: at gauges and max_salinity nodes (waterdesk.analysis.salinity)
    "salinity": [("mean_salinity", "mg/L", "float"), ("max_salinity", "mg/L", "float"),
                 ("salt_load", "kt", "float")],
}


def _load(results: "Mapping[str, xr.Dataset] | Sequence[str | Path]") -> dict[str, tuple[str, "xr.Dataset"]]:
    """name -> (source for messages, Dataset); every unreadable input reported at once."""
    from waterdesk.io.netcdf import open_result
    from waterdesk.analysis.ensemble import member_problem

    problems: list[Problem] = []
    loaded: dict[str, tuple[str, xr.Dataset]] = {}
    if isinstance(results, Mapping):
        for name, ds in results.items():
            if "waterdesk_version" not in getattr(ds, "attrs", {}):
                problems.append(Problem(str(name), None, "", "not a waterdesk result (no waterdesk_version attribute)"))
            elif "member" in ds.dims:
                problems.append(member_problem(str(name), ds))
            else:
                loaded[str(name)] = (str(name), ds)
    else:
        paths = [Path(p) for p in results]
        stems = [p.stem for p in paths]
        for p, stem in zip(paths, stems):
            name = stem if stems.count(stem) == 1 else str(p)
            try:
                ds = open_result(p)
            except InputError as err:
                problems.extend(err.problems)
                continue
            if "member" in ds.dims:
                problems.append(member_problem(p, ds))
            else:
                loaded[name] = (str(p), ds)
    if problems:
        raise InputError(problems)
    return loaded


def _check_basins(loaded: dict[str, tuple[str, "xr.Dataset"]], force: bool) -> None:
    if force or not loaded:
        return
    first_name, (first_src, first) = next(iter(loaded.items()))
    basin = first.attrs.get("basin")
    problems = [Problem(src, None, "", f"basin {ds.attrs.get('basin')!r} is not the basin {basin!r} of "
                        f"{first_src}; compare results of one basin, or use --force")
                for src, ds in list(loaded.values())[1:] if ds.attrs.get("basin") != basin]
    if problems:
        raise InputError(problems)


def _items(ds: "xr.Dataset", by: str) -> list[str]:
    if not ds.sizes.get(by, 0):
        return []
    return [str(v) for v in np.asarray(ds[by].values)]


def _totals(ds: "xr.Dataset", by: str) -> dict[tuple[str, int], list[float]]:
    """(item, water year) -> metric values in mcm (GWh for energy; counts for clauses)."""
    wy = step_water_year(ds)
    years = water_years(ds)
    out: dict[tuple[str, int], list[float]] = {}
    if by in ("country", "demand"):
        req = np.asarray(ds["requested"].values, dtype=float)
        short = np.asarray(ds["shortage"].values, dtype=float)
        sup = np.asarray(ds["supplied"].values, dtype=float)
        dem_country = np.asarray(ds["demand_country"].values).astype(str)
        for k, item in enumerate(_items(ds, by)):
            mask = dem_country == item if by == "country" else np.arange(req.shape[1]) == k
            got = np.asarray(ds["withdrawal_by_country"].values, dtype=float)[:, k] if by == "country" \
                else sup[:, k]
            for year in years:
                s = wy == year
                out[(item, year)] = [float(req[s][:, mask].sum()), float(got[s].sum()),
                                     float(short[s][:, mask].sum())]
    elif by == "salinity":
        from waterdesk.analysis.salinity import compare_totals

        out = compare_totals(ds)
    elif by == "reservoir":
        spill = np.asarray(ds["spill"].values, dtype=float) * (step_days(ds) * MCM_PER_M3S_DAY)[:, None]
        for k, item in enumerate(_items(ds, by)):
            for year in years:
                s = np.flatnonzero(wy == year)
                out[(item, year)] = [float(ds["storage"].values[s[-1], k]), float(spill[s, k].sum()),
                                     float(np.asarray(ds["energy"].values)[s, k].sum())]
    else:  # clause: windows counted in the water year of their start
        from waterdesk.analysis.salinity import SALINITY_KINDS

        for c, item in enumerate(_items(ds, by)):
            if str(ds["clause_kind"].values[c]) in SALINITY_KINDS:
                continue   # mg/L, not volumes: --by salinity
            starts = ds["window_start"].values[:, c]
            violation = np.asarray(ds["clause_violation"].values[:, c], dtype=float)
            valid = ~np.isnat(starts) & ~np.isnan(violation)
            win_wy = np.zeros(len(starts), dtype=np.int64)
            win_wy[valid] = step_water_year_of(starts[valid], first_month(ds))
            for year in sorted(set(win_wy[valid].tolist())):
                w = valid & (win_wy == year)
                bad = w & (violation > TOL_MCM)
                out[(item, int(year))] = [float((w & ~bad).sum()), float(bad.sum()), float(violation[w].sum())]
    return out


def step_water_year_of(days: np.ndarray, first: int = 9) -> np.ndarray:
    """Accounting year of each date (first month `first`, 0 = January; 9: water year)."""
    return accounting_year(days.astype("datetime64[D]"), first)


def compare(results: "Mapping[str, xr.Dataset] | Sequence[str | Path]", by: str = "country",
            units: str = "mcm", force: bool = False) -> Table:
    """Side-by-side totals per item (country, demand, clause or reservoir) and water year,
    and each result's difference against the first.

    Parameters
    ----------
    results : {name: Dataset} or result file paths (named by file stem)
    by : "country" | "demand" | "clause" | "reservoir"
    units : "mcm" | "km3" for volumes (energy stays in GWh)
    force : compare results of different basins (refused otherwise)

    Raises `InputError` for inputs that are not waterdesk results, results of different
    basins (unless `force`), an unknown `by` or unit, or fewer than two results.
    """
    per = check_units(units)
    if by not in BY:
        raise InputError([Problem("by", None, "", f"unknown --by {by!r}; use one of {', '.join(BY)}")])
    loaded = _load(results)
    if len(loaded) < 2:
        raise InputError([Problem("compare", None, "", f"needs at least two results, got {len(loaded)}")])
    _check_basins(loaded, force)
    names = list(loaded)
    totals = {name: _totals(ds, by) for name, (_, ds) in loaded.items()}
    keys: dict[tuple[str, int], None] = {}
    for name in names:
        keys.update(dict.fromkeys(totals[name]))
    items = list(dict.fromkeys(k[0] for k in keys))
    rows_keys = sorted(keys, key=lambda k: (items.index(k[0]), k[1]))
    metrics = METRICS[by]
    columns = [Column(by, kind="str"), Column("water_year", kind="int")]
    for metric, unit, kind in metrics:
        u = units if unit == "vol" else unit
        columns += [Column(metric, u, kind, result=n) for n in names]
        columns += [Column(metric, u, kind, result=f"{n}-{names[0]}", difference=True) for n in names[1:]]
    if by == "clause":
        columns += [Column("status", kind="str", result=n) for n in names]
    table = Table(f"compare_{by}", f"Comparison by {by} and water year [{units}"
                  + (", GWh]" if by == "reservoir" else "]") + f"; differences against {names[0]}",
                  columns)
    for key in rows_keys:
        row: list[Any] = [key[0], key[1]]
        for m, (metric, unit, kind) in enumerate(metrics):
            scale = per if unit == "vol" else 1.0
            vals = [totals[n][key][m] / scale if key in totals[n] else math.nan for n in names]
            row += [int(v) if kind == "int" and not math.isnan(v) else v for v in vals]
            diffs = [vals[i] - vals[0] for i in range(1, len(names))]
            row += [int(d) if kind == "int" and not math.isnan(d) else d for d in diffs]
        if by == "clause":
            for n in names:
                t = totals[n].get(key)
                row.append(None if t is None else ("violated" if t[1] > 0 else "met")
                           + f" {int(t[0])}/{int(t[0] + t[1])}")
        table.rows.append(row)
    table.notes.append(f"results: {', '.join(f'{n} = {loaded[n][0]}' for n in names)}")
    table.notes += list(dict.fromkeys(year_note(ds) for _, ds in loaded.values()))
    if by == "clause":
        table.notes.append(f"windows counted in the water year they start; violated: > {TOL_MCM:g} mcm")
    return table


def to_dataset(table: Table) -> "xr.Dataset":
    """A comparison table as a Dataset: dims (item, water_year, result); one variable per
    metric value and one `<metric>_difference` per metric (against the first result)."""
    import xarray as xr

    item_col = table.columns[0]
    items = list(dict.fromkeys(r[0] for r in table.rows))
    years = sorted(set(int(r[1]) for r in table.rows))
    results = list(dict.fromkeys(c.result for c in table.columns[2:] if not c.difference and c.kind != "str"))
    data_vars = {}
    for diff in (False, True):
        for col_i, col in enumerate(table.columns):
            if col_i < 2 or col.kind == "str" or col.difference != diff:
                continue
            var = f"{col.name}_difference" if diff else col.name
            if var not in data_vars:
                data_vars[var] = xr.Variable(
                    (item_col.name, "water_year", "result"),
                    np.full((len(items), len(years), len(results)), np.nan),
                    {"units": col.unit or "1",
                     "long_name": f"{col.name.replace('_', ' ')}" + (f" minus that of {results[0]}" if diff else "")})
            if diff:   # the k-th difference column of a metric is result k+1 minus result 0
                r = 1 + sum(1 for c in table.columns[:col_i] if c.difference and c.name == col.name)
            else:
                r = results.index(col.result)
            for row in table.rows:
                v = row[col_i]
                if v is not None and not (isinstance(v, float) and math.isnan(v)):
                    data_vars[var].values[items.index(row[0]), years.index(int(row[1])), r] = float(v)
    coords = {item_col.name: items, "water_year": np.array(years, dtype=np.int32), "result": results}
    return xr.Dataset(data_vars, coords=coords,
                      attrs={"Conventions": "CF-1.10", "title": table.title, "comment": " ".join(table.notes)})
