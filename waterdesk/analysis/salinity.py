"""Salinity in the ledger, compare and the report (issue 14; docs/SALINITY.md).

Works on result Datasets that have the salinity variables (`salinity`, `salt_load`, ...);
every function returns nothing (None, {} or an empty table) for a result without them.
Concentrations in mg L-1, loads in t (1 mcm x 1 mg/L = 1 t), kt = 1,000 t.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from waterdesk.analysis.accounts import MCM_PER_M3S_DAY, Column, Table, step_days, step_water_year, water_years

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.i18n import Catalogue

#: clause kinds whose required / actual / violation are concentrations [mg L-1], not volumes
SALINITY_KINDS = ("max_salinity",)
#: a salinity window is violated when its flow-weighted mean exceeds the limit by more [mg L-1]
TOL_MG_L = 1e-3


def has_salinity(ds: "xr.Dataset") -> bool:
    return "salinity" in ds.data_vars


def salinity_nodes(ds: "xr.Dataset") -> list[str]:
    """Gauges, then the other nodes a max_salinity clause limits, in node order."""
    kinds = np.asarray(ds["node_kind"].values).astype(str)
    nodes = [str(n) for n in ds["node"].values]
    limited = set(clause_limits(ds))
    return [n for n, k in zip(nodes, kinds) if k == "gauge" or n in limited]


def clause_limits(ds: "xr.Dataset") -> dict[str, float]:
    """node -> the lowest max_salinity limit on it [mg L-1]."""
    out: dict[str, float] = {}
    if not ds.sizes.get("clause", 0):
        return out
    for c in range(ds.sizes["clause"]):
        if str(ds["clause_kind"].values[c]) in SALINITY_KINDS:
            node = str(ds["clause_node"].values[c])
            limit = float(np.nanmax(ds["clause_required"].values[:, c]))
            out[node] = min(out.get(node, math.inf), limit)
    return out


def _flow_mcm(ds: "xr.Dataset", node: str) -> np.ndarray:
    return np.asarray(ds["node_flow"].sel(node=node).values, dtype=float) * step_days(ds) * MCM_PER_M3S_DAY


def yearly(ds: "xr.Dataset", node: str) -> dict[int, tuple[float, float, float, int]]:
    """water year -> (flow-weighted mean [mg/L], largest step value [mg/L], salt passing
    [kt], steps above the node's max_salinity limit or, without one, 1,000 mg/L)."""
    c = np.asarray(ds["salinity"].sel(node=node).values, dtype=float)
    load = np.asarray(ds["salt_load"].sel(node=node).values, dtype=float)
    flow = _flow_mcm(ds, node)
    limit = clause_limits(ds).get(node, 1000.0)
    wy = step_water_year(ds)
    out = {}
    for year in water_years(ds):
        s = wy == year
        wet = s & np.isfinite(c) & (flow > 0)
        mean = float(load[wet].sum() / flow[wet].sum()) if wet.any() and flow[wet].sum() > 0 else math.nan
        top = float(np.nanmax(c[s])) if np.isfinite(c[s]).any() else math.nan
        out[year] = (mean, top, float(load[s].sum()) / 1e3, int((c[s] > limit + TOL_MG_L).sum()))
    return out


def salinity_table(ds: "xr.Dataset") -> Table:
    """Ledger table: per gauge (and clause node) and water year, the flow-weighted mean and
    the largest step salinity, the salt passing, the steps above the limit; then each
    max_salinity clause's compliance."""
    table = Table("salinity", "Salinity at gauges and limited nodes per water year [mg/L, kt]", [
        Column("node", kind="str"), Column("water_year", kind="int"), Column("mean_salinity", "mg/L"),
        Column("max_salinity", "mg/L"), Column("salt_load", "kt"), Column("limit", "mg/L"),
        Column("steps_above_limit", kind="int")])
    if not has_salinity(ds):
        table.notes.append("this result has no salinity")
        return table
    limits = clause_limits(ds)
    for node in salinity_nodes(ds):
        for year, (mean, top, kt, above) in yearly(ds, node).items():
            table.rows.append([node, year, mean, top, kt, limits.get(node, 1000.0), above])
    for c in range(ds.sizes.get("clause", 0)):
        if str(ds["clause_kind"].values[c]) not in SALINITY_KINDS:
            continue
        viol = np.asarray(ds["clause_violation"].values[:, c], dtype=float)
        valid = ~np.isnan(viol)
        bad = valid & (viol > TOL_MG_L)
        typ = "hard" if int(ds["clause_hard"].values[c]) else f"soft p{int(ds['clause_priority'].values[c])}"
        worst = float(np.nanmax(viol)) if valid.any() else 0.0
        table.notes.append(
            f"clause {ds['clause'].values[c]} ({typ}, {ds['clause_node'].values[c]} <= "
            f"{float(np.nanmax(ds['clause_required'].values[:, c])):g} mg/L): {int((valid & ~bad).sum())}/"
            f"{int(valid.sum())} windows met, worst excess {worst:.3f} mg/L")
    table.notes.append("mean: salt / water passing over the water year; limit: the node's max_salinity "
                       f"clause or the 1,000 mg/L basin standard (KARIMOV2019); above: by more than {TOL_MG_L:g} mg/L")
    return table


def compare_totals(ds: "xr.Dataset") -> dict[tuple[str, int], list[float]]:
    """(gauge, water year) -> [mean salinity mg/L, max salinity mg/L, salt load kt] for
    `waterdesk compare --by salinity`; {} without salinity."""
    if not has_salinity(ds):
        return {}
    return {(node, year): [mean, top, kt] for node in salinity_nodes(ds)
            for year, (mean, top, kt, _) in yearly(ds, node).items()}


def figure(ds: "xr.Dataset", new_figure: Any, cat: "Catalogue | None" = None) -> Any | None:
    """Salinity at the gauges and limited nodes over time with their limits (dashed), one
    panel per node; `new_figure(height)` makes the matplotlib Figure; texts from `cat`
    (default English). None without salinity."""
    cat = cat or _english()
    mg = cat.unit("mg/L")
    if not has_salinity(ds):
        return None
    nodes = salinity_nodes(ds)
    if not nodes:
        return None
    limits = clause_limits(ds)
    fig = new_figure(0.8 + 1.7 * len(nodes))
    axes = fig.subplots(len(nodes), 1, sharex=True, squeeze=False)[:, 0]
    time = ds["time"].values
    for ax, node in zip(axes, nodes):
        ax.plot(time, ds["salinity"].sel(node=node).values, lw=1.0, color="tab:brown",
                label=cat("sal.fig_salinity"))
        limit = limits.get(node)
        if limit is not None:
            ax.axhline(limit, ls="--", lw=1.0, color="tab:red",
                       label=cat("sal.fig_limit", limit=cat.num(limit, 0), unit=mg))
        else:
            ax.axhline(1000.0, ls=":", lw=0.8, color="0.4",
                       label=cat("sal.fig_standard", limit=cat.num(1000.0, 0), unit=mg))
        ax.set_ylabel(mg)
        ax.set_title(node, fontsize=9, loc="left")
        ax.legend(loc="upper right", fontsize=7)
    return fig


def report_section(ds: "xr.Dataset", label: str, new_figure: Any, png: Any, img: Any, escape: Any,
                   cat: "Catalogue | None" = None) -> str:
    """The report's salinity part: the ledger table and the figure (HTML) in the language
    of `cat` (default English), or '' without salinity."""
    from waterdesk.analysis import tables as tx

    if not has_salinity(ds):
        return ""
    cat = cat or _english()
    mg = cat.unit("mg/L")
    fig = figure(ds, new_figure, cat)
    table = salinity_table(ds)
    head = "".join(f"<th>{escape(cat('col.' + c.name) + (' (' + cat.unit(c.unit) + ')' if c.unit else ''))}</th>"
                   for c in table.columns)
    rows = "".join("<tr>" + "".join(
        f"<td>{escape(tx.cell(v, col, cat))}</td>" for v, col in zip(row, table.columns)) + "</tr>"
        for row in table.rows)
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in tx.notes(table, cat))
    out = (f"<h3>{escape(cat('sal.heading', unit=mg))}</h3>"
           + (img(png(fig), cat("sal.alt", result=label, unit=mg), cat("sal.caption", unit=mg), "salinity")
              if fig is not None else "")
           + f'<table class="salinity"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>' + notes)
    return out


def _english() -> "Catalogue":
    from waterdesk.i18n import catalogue

    return catalogue("en")


def run_summary(ds: "xr.Dataset", cat: "Catalogue | None" = None) -> str:
    """Lines for `waterdesk run`'s summary: each max_salinity clause and the largest
    salinity at each gauge, in the language of `cat` (default English); '' without salinity."""
    from waterdesk.analysis import tables as tx

    if not has_salinity(ds):
        return ""
    cat = cat or _english()
    mg, n = cat.unit("mg/L"), cat.num
    lines = [f"{cat('sal.summary_node'):<24}{cat('sal.summary_mean', unit=mg):>18}"
             f"{cat('sal.summary_max', unit=mg):>18}{cat('sal.summary_limit', unit=mg):>18}"
             f"{cat('col.steps_above_limit'):>20}"]
    limits = clause_limits(ds)
    for node in salinity_nodes(ds):
        c = np.asarray(ds["salinity"].sel(node=node).values, dtype=float)
        flow = _flow_mcm(ds, node)
        load = np.asarray(ds["salt_load"].sel(node=node).values, dtype=float)
        wet = np.isfinite(c) & (flow > 0)
        mean = float(load[wet].sum() / flow[wet].sum()) if wet.any() else math.nan
        limit = limits.get(node, 1000.0)
        top = float(np.nanmax(c)) if np.isfinite(c).any() else math.nan
        lines.append(f"{node:<24}{n(mean, 0):>18}{n(top, 0):>18}{n(limit, 0):>18}"
                     f"{int((c > limit + TOL_MG_L).sum()):>20}")
    table = salinity_table(ds)
    lines += [text for note, text in zip(table.notes, tx.notes(table, cat)) if note.startswith("clause ")]
    return "\n".join(lines)


__all__ = ["SALINITY_KINDS", "TOL_MG_L", "has_salinity", "salinity_table", "compare_totals", "figure",
           "report_section", "run_summary", "clause_limits", "salinity_nodes"]
