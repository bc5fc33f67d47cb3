"""Probability of compliance from a sweep's summary (`waterdesk batch` -> DIR/summary.nc).

`waterdesk ledger DIR/summary.nc` and `waterdesk report DIR/summary.nc` read a summary
with this module: per combination of the varied values (the members of a stochastic
sweep are the repetitions), the probability that each clause held in each window, its
minimum and mean over the windows, the probability that each country was fully supplied
in each water year, and the status of every run. Probabilities are in %, volumes in the
chosen unit. Nothing is re-simulated: every number is a variable of the summary (the
window start dates, when the run files are next to it, come from the first run of each
combination that ran). Definitions: docs/BATCH.md, docs/ANALYSIS.md.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from waterdesk.analysis.accounts import Column, Table, check_units
from waterdesk.errors import Problem
from waterdesk.io.summary import SUMMARY_TITLE, is_summary

if TYPE_CHECKING:
    from collections.abc import Callable

    import xarray as xr

__all__ = ["is_summary", "ensemble_tables", "report_summary", "render_summary", "ENSEMBLE_TABLES",
           "STATUS_ORDER", "SUMMARY_TITLE"]

#: the tables of `ensemble_tables`, in order
ENSEMBLE_TABLES = ("status", "clause_probability", "window_probability", "supply_probability", "runs")
#: run statuses, in the order of the status table's columns
STATUS_ORDER = ("ok", "invalid", "infeasible", "solver_error", "missing")


# ----------------------------------------------------------------------------- inputs

def member_problem(where: "str | os.PathLike[str]", ds: "xr.Dataset") -> Problem:
    """The problem of giving an ensemble result (a ``member`` dimension) to a tool that
    reads one run."""
    return Problem(where if isinstance(where, str) else Path(where), None, "member",
                   f"holds {ds.sizes['member']} inflow members; compare reads single runs: select one "
                   "(ds.sel(member=K) in Python); `waterdesk ledger` and `report` give probabilities "
                   "across the members")


# ----------------------------------------------------------------------------- structure

def _strs(values: Any) -> list[str]:
    return [str(v) for v in np.asarray(values)]


def _value(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    return str(v)


def _has_members(ds: "xr.Dataset") -> bool:
    return "compliance_probability" in ds and "combination" in ds.dims


def _varied(ds: "xr.Dataset") -> list[str]:
    keys = json.loads(str(ds.attrs.get("varied_keys", "[]")))
    return [str(k) for k in keys]


def combinations(ds: "xr.Dataset") -> list[tuple[str, str, list[int]]]:
    """(combination id, its varied values as text, indices of its runs).

    With members, the summary's combinations of the other varied values; without, each
    run is its own combination (id = run id)."""
    runs = _strs(ds["run"].values)
    if _has_members(ds):
        ids = _strs(ds["combination"].values)
        keys = [k for k in _varied(ds) if f"combination_{k}" in ds.coords]
        index = np.asarray(ds["run_combination"].values, dtype=int)
        out = []
        for c, cid in enumerate(ids):
            text = ", ".join(f"{k}={_value(ds[f'combination_{k}'].values[c])}" for k in keys)
            out.append((cid, text or "-", [int(i) for i in np.flatnonzero(index == c)]))
        return out
    keys = [k for k in _varied(ds) if k in ds.coords]
    return [(rid, ", ".join(f"{k}={_value(ds[k].values[r])}" for k in keys) or "-", [r])
            for r, rid in enumerate(runs)]


def window_starts(ds: "xr.Dataset", open_run: "Callable[[str], xr.Dataset | None] | None" = None
                  ) -> dict[tuple[str, str], list[str]]:
    """(combination, clause) -> start date of each window: an ensemble result's own
    windows, else those of the first run of each combination that ran, as `open_run`
    (run id -> its result Dataset or None; `waterdesk.io.summary.run_opener`) gives it;
    {} without `open_run`."""
    if "window_start_date" in ds:       # an ensemble result's own windows (summary_of_members)
        cid = _strs(ds["combination"].values)[0]
        return {(cid, clause): _strs(ds["window_start_date"].values[:, c])
                for c, clause in enumerate(_strs(ds["clause"].values))}
    if open_run is None:
        return {}
    runs = _strs(ds["run"].values)
    status = _strs(ds["status"].values)
    out: dict[tuple[str, str], list[str]] = {}
    for cid, _, members in combinations(ds):
        run = None
        for r in members:
            if status[r] == "ok":
                run = open_run(runs[r])
                if run is not None:
                    break
        if run is None or not run.sizes.get("clause", 0):
            continue
        for c, clause in enumerate(_strs(run["clause"].values)):
            out[(cid, clause)] = [("" if np.isnat(t) else str(t)[:10]) for t in run["window_start"].values[:, c]]
    return out


# ----------------------------------------------------------------------------- tables

def _pct(share: float) -> float:
    return 100.0 * share if np.isfinite(share) else math.nan


def ensemble_tables(ds: "xr.Dataset", units: str = "mcm",
                    starts: dict[tuple[str, str], list[str]] | None = None,
                    open_run: "Callable[[str], xr.Dataset | None] | None" = None) -> dict[str, Table]:
    """The probability-of-compliance tables of a sweep summary (see ENSEMBLE_TABLES).

    status : per combination, its varied values, members that ran and runs per status.
    clause_probability : per combination and clause, the windows and the minimum and mean
        over the windows of the probability (%) that the clause held (violation <= 1e-6 mcm)
        in the window, across the members. Without members, each run is a combination and
        the mean is the share of its windows held.
    window_probability : per combination, clause and window, that probability (%).
    supply_probability : per combination, country and water year, the probability (%) that
        the country's demands were fully met (shortage <= 1e-6 mcm).
    runs : per run, its combination, values, status and reason, delivered and shortage.

    Window start dates come from `starts`, else `window_starts(ds, open_run)`.
    """
    per = check_units(units)
    if starts is None:
        starts = window_starts(ds, open_run)
    combos = combinations(ds)
    members = _has_members(ds)
    runs = _strs(ds["run"].values)
    status = _strs(ds["status"].values)
    reason = _strs(ds["reason"].values) if "reason" in ds else [""] * len(runs)
    clauses = _strs(ds["clause"].values) if "clause" in ds.dims else []
    countries = _strs(ds["country"].values) if "country" in ds.dims else []
    unit_note = "probability: share of the members (%); held: violation <= 1e-6 mcm; fully supplied: " \
                "shortage <= 1e-6 mcm; failed members are left out (members ok)"

    st = Table("status", "Runs per combination of the varied values and status", [
        Column("combination", kind="str"), Column("values", kind="str"), Column("runs", "count", kind="int"),
        Column("members_ok", "count", kind="int")]
        + [Column(s, "count", kind="int") for s in STATUS_ORDER])
    for c, (cid, text, idx) in enumerate(combos):
        counts = [sum(status[r] == s for r in idx) for s in STATUS_ORDER]
        ok = int(ds["members_ok"].values[c]) if members else counts[0]
        st.rows.append([cid, text, len(idx), ok] + counts)
    st.notes.append("status: ok, invalid (bad input or override), infeasible, solver_error, missing (no file)")

    cp = Table("clause_probability", "Probability of compliance per clause over its windows [%]", [
        Column("combination", kind="str"), Column("values", kind="str"), Column("clause", kind="str"),
        Column("windows", "count", kind="int"), Column("min_probability", "%", kind="pct"),
        Column("mean_probability", "%", kind="pct"), Column("worst_window_start", kind="str")])
    wp = Table("window_probability", "Probability of compliance per clause and window [%]", [
        Column("combination", kind="str"), Column("values", kind="str"), Column("clause", kind="str"),
        Column("window", kind="int"), Column("window_start", kind="str"),
        Column("probability", "%", kind="pct"), Column("members_ok", "count", kind="int")])
    sp = Table("supply_probability", "Probability of full supply per country and water year (Oct-Sep) [%]", [
        Column("combination", kind="str"), Column("values", kind="str"), Column("country", kind="str"),
        Column("water_year", kind="int"), Column("probability", "%", kind="pct"),
        Column("members_ok", "count", kind="int")])
    if members:
        prob = np.asarray(ds["compliance_probability"].values, dtype=float)
        supply = np.asarray(ds["supply_probability"].values, dtype=float)
        years = [int(y) for y in ds["water_year"].values]
        for c, (cid, text, _) in enumerate(combos):
            ok = int(ds["members_ok"].values[c])
            for k, clause in enumerate(clauses):
                row = prob[c, k]
                dates = starts.get((cid, clause), [])
                valid = np.flatnonzero(np.isfinite(row))
                # the clause's windows: those with a value, or with a start date (when known)
                shown = [w for w in range(len(row))
                         if np.isfinite(row[w]) or (w < len(dates) and dates[w])]
                n = len(shown)
                for w in shown:
                    date = dates[w] if w < len(dates) and dates[w] else None
                    wp.rows.append([cid, text, clause, w, date, _pct(float(row[w])), ok])
                if len(valid):
                    worst = int(valid[np.argmin(row[valid])])
                    cp.rows.append([cid, text, clause, n, _pct(float(row[valid].min())),
                                    _pct(float(row[valid].mean())),
                                    dates[worst] if worst < len(dates) and dates[worst] else None])
                else:
                    cp.rows.append([cid, text, clause, n, math.nan, math.nan, None])
            for k, country in enumerate(countries):
                for y, year in enumerate(years):
                    sp.rows.append([cid, text, country, year, _pct(float(supply[c, k, y])), ok])
        cp.notes.append(unit_note + "; worst window: the window of the minimum")
        wp.notes.append(unit_note)
        sp.notes.append(unit_note)
    else:
        share = np.asarray(ds["clause_compliance"].values, dtype=float) if clauses else np.zeros((len(runs), 0))
        nwin = np.asarray(ds["clause_windows"].values, dtype=float) if clauses else np.zeros((len(runs), 0))
        for cid, text, idx in combos:
            r = idx[0]
            for k, clause in enumerate(clauses):
                s = float(share[r, k])
                n = int(nwin[r, k]) if np.isfinite(nwin[r, k]) else 0
                low = math.nan if not np.isfinite(s) else (100.0 if s >= 1.0 else 0.0)
                cp.rows.append([cid, text, clause, n, low, _pct(s), None])
        note = ("no members: each run is one combination; min: 100 if the clause held in every window, "
                "else 0; mean: share of its windows held (%). Per-window values are in the run files "
                "(waterdesk ledger DIR/<run>.nc)")
        cp.notes.append(note)
        wp.notes.append("no members: see the run files (waterdesk ledger DIR/<run>.nc)")
        sp.notes.append("no members: see supply_reliability per run in the summary, or the run files")

    cols = [Column("run", kind="str"), Column("combination", kind="str"), Column("values", kind="str")]
    if "inflows.member" in ds.coords:
        cols.append(Column("member", kind="int"))
    cols += [Column("status", kind="str"), Column("reason", kind="str"),
             Column("delivered", units), Column("shortage", units)]
    rt = Table("runs", f"Runs [{units}]", cols)
    owner = {r: cid for cid, _, idx in combos for r in idx}
    keys = [k for k in _varied(ds) if k in ds.coords]
    delivered = np.asarray(ds["delivered"].values, dtype=float).reshape(len(runs), -1)
    shortage = np.asarray(ds["shortage"].values, dtype=float).reshape(len(runs), -1)
    for r, rid in enumerate(runs):
        text = ", ".join(f"{k}={_value(ds[k].values[r])}" for k in keys) or "-"
        line: list[Any] = [rid, owner.get(r), text]
        if "inflows.member" in ds.coords:
            line.append(int(ds["inflows.member"].values[r]))
        d = float(delivered[r].sum()) if np.isfinite(delivered[r]).all() and delivered.shape[1] else math.nan
        s = float(shortage[r].sum()) if np.isfinite(shortage[r]).all() and shortage.shape[1] else math.nan
        rt.rows.append(line + [status[r], reason[r] or None, d / per, s / per])
    rt.notes.append("delivered, shortage: totals over the period and the countries (per country: summary.nc)")
    return {t.name: t for t in (st, cp, wp, sp, rt)}


# ----------------------------------------------------------------------------- report

def _fig_heatmap(ds: "xr.Dataset", c: int, cid: str, starts: dict[tuple[str, str], list[str]]) -> str:
    from matplotlib import colormaps

    from waterdesk.analysis import report as rp

    clauses = _strs(ds["clause"].values)
    prob = 100.0 * np.asarray(ds["compliance_probability"].values, dtype=float)[c]
    fig = rp._figure(2.2 + 0.35 * len(clauses))
    ax = fig.add_subplot()
    cmap = colormaps["RdYlGn"].with_extremes(bad=rp.COLOURS["n.a."])
    image = ax.imshow(np.ma.masked_invalid(prob), aspect="auto", cmap=cmap, vmin=0.0, vmax=100.0,
                      interpolation="nearest")
    ax.set_yticks(np.arange(len(clauses)), clauses)
    n = prob.shape[1]
    dates = next((v for (cc, _), v in starts.items() if cc == cid), [])
    step = max(1, -(-n // 24))
    ticks = np.arange(0, n, step)
    ax.set_xticks(ticks, [dates[t] if t < len(dates) and dates[t] else str(t) for t in ticks],
                  rotation=60 if dates else 0, ha="right" if dates else "center")
    ax.grid(False)
    ax.set_xlabel("window (start date)" if dates else "window (index)")
    ax.set_title("Probability of compliance per clause and window (%); grey: no window")
    fig.colorbar(image, ax=ax, label="probability of compliance (%)")
    return rp._png(fig)


def _fig_supply(ds: "xr.Dataset", c: int) -> str:
    from waterdesk.analysis import report as rp

    countries = _strs(ds["country"].values)
    years = [int(y) for y in ds["water_year"].values]
    prob = 100.0 * np.asarray(ds["supply_probability"].values, dtype=float)[c]
    fig = rp._figure(3.0)
    ax = fig.add_subplot()
    x = np.arange(len(years))
    width = 0.8 / max(1, len(countries))
    for k, country in enumerate(countries):
        ax.bar(x - 0.4 + width * (k + 0.5), np.nan_to_num(prob[k], nan=0.0), width=width,
               color=f"C{k % 10}", label=country)
    ax.set_xticks(x, [str(y) for y in years], rotation=60 if len(years) > 12 else 0)
    ax.set_ylim(0.0, 105.0)
    ax.set_xlabel("water year (Oct-Sep, named by the year it ends)")
    ax.set_ylabel("probability of full supply (%)")
    ax.set_title("Probability that each country's demands were fully met (%)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return rp._png(fig)


def _html_table(table: Table) -> str:
    from waterdesk.analysis import report as rp
    from waterdesk.analysis.accounts import _fmt, _missing

    rows = [[(_fmt(v, col), "num" if col.kind not in ("str",) and not _missing(v) else "")
             for col, v in zip(table.columns, row)] for row in table.rows]
    notes = "".join(f'<p class="note">{rp._e(n)}</p>' for n in table.notes)
    return rp._table([c.header for c in table.columns], rows, table.name) + notes


def render_summary(ds: "xr.Dataset", units: str = "mcm", label: str = "summary",
                   open_run: "Callable[[str], xr.Dataset | None] | None" = None) -> str:
    """The HTML page of a sweep summary (see `report_summary`)."""
    import matplotlib

    from waterdesk.analysis import report as rp

    matplotlib.use("Agg")
    starts = window_starts(ds, open_run)
    tables = ensemble_tables(ds, units, starts)
    e = rp._e
    members = _has_members(ds)
    combos = combinations(ds)
    parts: list[str] = []
    meta = [("scenario", ds.attrs.get("scenario", "")), ("varied keys", ", ".join(_varied(ds))),
            ("members", ds.attrs.get("members", 0)), ("seed", ds.attrs.get("seed", "")),
            ("runs", ds.sizes["run"]), ("combinations", len(combos))]
    parts.append('<dl class="meta">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in meta) + "</dl>")
    parts += ["<h2>Runs per combination (count)</h2>", _html_table(tables["status"]),
              "<h2>Probability of compliance per clause (%)</h2>", _html_table(tables["clause_probability"])]
    rc: Any = rp._RC
    with matplotlib.rc_context(rc):
        if members:
            for c, (cid, text, _) in enumerate(combos):
                parts.append(f'<section class="combination" id="{e(cid)}"><h2>{e(cid)}: {e(text)}</h2>'
                             f'<p class="note">members ok: {int(ds["members_ok"].values[c])} (count)</p>')
                if not int(ds["members_ok"].values[c]):
                    parts.append('<p class="note">No member of this combination ran; see the run '
                                 "table for why.</p></section>")
                    continue
                if ds.sizes.get("clause", 0) and ds.sizes.get("window", 0):
                    parts.append(rp._img(_fig_heatmap(ds, c, cid, starts),
                                         f"{cid}: probability of compliance per clause and window (%)",
                                         "Share of the members (%) in which each clause held "
                                         "(violation <= 1e-6 mcm) in each window.", "compliance"))
                if ds.sizes.get("country", 0) and ds.sizes.get("water_year", 0):
                    parts.append(rp._img(_fig_supply(ds, c),
                                         f"{cid}: probability of full supply per country (%)",
                                         "Share of the members (%) in which each country's demands "
                                         "were fully met (shortage <= 1e-6 mcm) in each water year.",
                                         "supply"))
                parts.append("</section>")
    if members:
        parts += ["<h2>Probability of full supply per country and water year (%)</h2>",
                  _html_table(tables["supply_probability"])]
    parts += [f"<h2>Runs ({e(units)})</h2>", _html_table(tables["runs"])]
    title = f"waterdesk ensemble report: {label}"
    source = ("the ensemble result (one scenario, its inflow members)"
              if str(ds.attrs.get("source", "")).startswith("ensemble") else "the batch summary")
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{rp._CSS}</style></head><body>"
            f"<h1>{e(title)}</h1>"
            f'<p class="note">Probabilities in % of the members; volumes in {e(units)}. Generated by '
            f"waterdesk from {e(source)}; all figures are embedded.</p>"
            + "".join(parts) + "</body></html>\n")


def report_summary(summary: "xr.Dataset", path: str | os.PathLike[str], units: str = "mcm",
                   open_run: "Callable[[str], xr.Dataset | None] | None" = None) -> Path:
    """Write a self-contained HTML page of a sweep summary Dataset: runs per status, the
    probability of compliance per clause and window (a heatmap per combination), of full
    supply per country and water year, and a run table. Window dates come from the runs
    `open_run` gives (`window_starts`). Written atomically (`waterdesk.io.atomic`);
    `waterdesk.report` opens a summary file and calls this."""
    from waterdesk.io.atomic import write_text

    label = str(summary.attrs.get("report_label", "summary"))
    return write_text(path, render_summary(summary, units, label, open_run))
