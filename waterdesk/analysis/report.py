"""One self-contained HTML page of one or more results (docs/REFERENCE.md §9 `waterdesk report`).

The page holds, for each result: a header with its provenance, the per-country supply
table (as `waterdesk run` prints it), the reservoir and clause tables, and matplotlib
figures (storage, deliveries per month, the clause compliance calendar, flows at border
gauges against their minimum-flow clauses); with several results, a comparison panel.
Figures are PNG embedded as ``data:`` URIs and the CSS is inline: the page needs no
JavaScript and no network. The file is written atomically (``<path>.part``, then rename).
Fixed figure sizes and DPI and no timestamp of its own make the page a function of its
inputs. See docs/REPORT.md.
"""
from __future__ import annotations

import base64
import html
import io
import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from waterdesk.analysis.accounts import TOL_MCM, clause_table, country_table

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["report"]

#: a window or step counts as short / violated above this (mcm), as in `waterdesk run`
TOL = TOL_MCM
DPI = 100
WIDTH_IN = 9.0
MCM_PER_M3S_DAY = 0.0864
COLOURS = {"met": "#4daf4a", "violated": "#e41a1c", "n.a.": "#d9d9d9"}

_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans", "font.size": 9.0, "axes.titlesize": 10.0,
    "axes.labelsize": 9.0, "legend.fontsize": 8.0, "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0, "figure.dpi": DPI, "savefig.dpi": DPI,
    "axes.grid": True, "grid.alpha": 0.3, "svg.hashsalt": "waterdesk",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;
max-width:1000px;color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;border-bottom:2px solid #2c7fb8}h2{font-size:1.3em;margin-top:1.6em;
border-bottom:1px solid #ccc}h3{font-size:1.05em;margin-top:1.2em}
table{border-collapse:collapse;margin:.5em 0 1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em}th{background:#f0f4f8;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:bold}
td.violated{color:#b00}dl.meta{display:grid;grid-template-columns:max-content auto;
gap:.15em 1em;font-size:.9em}dl.meta dt{font-weight:bold}dl.meta dd{margin:0;
word-break:break-all}figure{margin:.5em 0 1.2em 0}figure img{max-width:100%;height:auto;
border:1px solid #eee}figcaption{font-size:.85em;color:#555}p.note{font-size:.85em;color:#555}
nav ul{columns:2;font-size:.9em}
"""


# ----------------------------------------------------------------------------- inputs

def _load(results: Sequence[Any]) -> list[tuple[str, "xr.Dataset"]]:
    """(label, dataset) for each item: a Dataset or a path opened with `open_result`."""
    import xarray as xr

    from waterdesk.io.netcdf import open_result

    out: list[tuple[str, xr.Dataset]] = []
    for item in results:
        if isinstance(item, xr.Dataset):
            ds = item
            label = str(item.attrs.get("report_label") or item.attrs.get("scenario", "result"))
        else:
            ds, label = open_result(item), Path(item).stem
        out.append((label, _reduce_members(ds)))
    seen: dict[str, int] = {}
    labelled = []
    for label, ds in out:   # unique labels: a second "baseline" becomes "baseline (2)"
        seen[label] = seen.get(label, 0) + 1
        labelled.append((label if seen[label] == 1 else f"{label} ({seen[label]})", ds))
    return labelled


def _reduce_members(ds: "xr.Dataset") -> "xr.Dataset":
    """An ensemble result (dim `member`) is reported by its member mean."""
    if "member" not in ds.dims:
        return ds
    n = ds.sizes["member"]
    reduced = ds.mean("member", keep_attrs=True)
    reduced.attrs["report_members"] = f"mean of {n} members"
    return reduced


# ----------------------------------------------------------------------------- numbers

def _step_days(ds: "xr.Dataset") -> np.ndarray:
    tb = ds["time_bounds"].values
    return np.asarray((tb[:, 1] - tb[:, 0]) / np.timedelta64(1, "D"), dtype=float)


def _period(ds: "xr.Dataset") -> tuple[np.datetime64, np.datetime64]:
    """First day and the day after the last step (exclusive, like `time_bounds`)."""
    if "time_bounds" in ds:
        tb = ds["time_bounds"].values
        return tb[0, 0], tb[-1, 1]
    t = ds["time"].values
    return t[0], t[-1] + (t[-1] - t[-2] if len(t) > 1 else np.timedelta64(1, "D"))


def _min_flow_nodes(ds: "xr.Dataset") -> dict[str, str]:
    """clause id -> node of each `min_flow` clause.

    From a ``clause_node`` coordinate when the result has one; else from the scenario file
    named in the attributes (when it can still be read); else a gauge whose id the clause id
    contains (``talas-border-min-flow`` -> ``talas_border``).
    """
    if not ds.sizes.get("clause", 0) or "clause_kind" not in ds.coords:
        return {}
    ids = [str(c) for c in ds["clause"].values]
    kinds = [str(k) for k in ds["clause_kind"].values]
    wanted = {cid for cid, kind in zip(ids, kinds) if kind == "min_flow"}
    if not wanted:
        return {}
    if "clause_node" in ds.coords:
        return {cid: str(node) for cid, node in zip(ids, ds["clause_node"].values) if cid in wanted}
    found: dict[str, str] = {}
    scenario_file = str(ds.attrs.get("scenario_file", ""))
    if scenario_file and Path(scenario_file).is_file():
        try:
            with open(scenario_file, "rb") as fh:
                tables = tomllib.load(fh).get("clause", [])
            for table in tables:
                if isinstance(table, dict) and table.get("id") in wanted and "node" in table:
                    found[str(table["id"])] = str(table["node"])
        except (OSError, tomllib.TOMLDecodeError):
            found = {}
    nodes = [str(n) for n in ds["node"].values]
    for cid in sorted(wanted - set(found)):
        key = cid.replace("-", "_")
        matches = [n for n in nodes if n in key]
        if matches:
            found[cid] = max(matches, key=len)
    return found


# ----------------------------------------------------------------------------- figures

_VOLUME_UNIT = "mcm"      # the page's volume unit while `render` runs ("mcm" or "km3")


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    if _VOLUME_UNIT != "mcm":   # figures are labelled in mcm; say the page's unit instead
        for text in fig.findobj(Text):
            text.set_text(text.get_text().replace("mcm", _VOLUME_UNIT))
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")


def _fig_storage(ds: "xr.Dataset") -> str:
    fig = _figure(3.6)
    ax = fig.add_subplot()
    start = ds["time_bounds"].values[:, 0]
    ends = ds["time_bounds"].values[:, 1]
    times = np.concatenate([start[:1], ends])
    colours = [f"C{k % 10}" for k in range(ds.sizes["reservoir"])]
    for k, name in enumerate(ds["reservoir"].values):
        initial = (float(ds["reservoir_initial_storage"].values[k])
                   if "reservoir_initial_storage" in ds.coords else float(ds["storage"].values[0, k]))
        ax.plot(times, np.concatenate([[initial], ds["storage"].values[:, k]]), color=colours[k],
                label=f"{name}")
        if "reservoir_capacity" in ds.coords:
            cap = float(ds["reservoir_capacity"].values[k])
            ax.hlines(cap, times[0], times[-1], colors=colours[k], linestyles="--", linewidth=0.9,
                      label=f"{name} capacity")
    ax.set_ylabel("storage (mcm)")
    ax.set_xlabel("end of step (date)")
    ax.set_title("Reservoir storage at the end of each step (mcm); dashed: capacity (mcm)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def _monthly(ds: "xr.Dataset", var: str, dim: str) -> tuple[np.ndarray, np.ndarray]:
    """Sum of a (time, dim) volume variable per calendar month of the step start."""
    months = ds["time"].values.astype("datetime64[M]")
    labels = np.unique(months)
    values = np.asarray(ds[var].values, dtype=float)
    out = np.zeros((len(labels), values.shape[1]))
    np.add.at(out, np.searchsorted(labels, months), values)
    return labels, out


def _fig_deliveries(ds: "xr.Dataset") -> str:
    months, supplied = _monthly(ds, "withdrawal_by_country", "country")
    countries = [str(c) for c in ds["country"].values]
    dem_country = np.asarray(ds["demand_country"].values).astype(str)
    _, req_dem = _monthly(ds, "requested", "demand")
    requested = np.stack([req_dem[:, dem_country == c].sum(axis=1) for c in countries], axis=1)
    fig = _figure(3.6)
    ax = fig.add_subplot()
    x = np.arange(len(months))
    bottom = np.zeros(len(months))
    for k, country in enumerate(countries):
        ax.bar(x, supplied[:, k], bottom=bottom, width=0.8, color=f"C{k % 10}", label=f"{country} supplied")
        bottom += supplied[:, k]
    ax.step(np.concatenate([x - 0.5, x[-1:] + 0.5]), np.concatenate([requested.sum(axis=1),
            requested.sum(axis=1)[-1:]]), where="post", color="black", linewidth=1.0,
            label="all countries requested")
    step = max(1, len(months) // 24)
    ax.set_xticks(x[::step], [str(m) for m in months[::step]], rotation=60, ha="right")
    ax.set_xlim(-0.6, len(months) - 0.4)
    ax.set_xlabel("month")
    ax.set_ylabel("volume (mcm per month)")
    ax.set_title("Deliveries by country per month (mcm), stacked; line: total requested (mcm)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def _fig_calendar(ds: "xr.Dataset") -> str:
    from matplotlib.patches import Patch

    clauses = [str(c) for c in ds["clause"].values]
    first, last = _period(ds)
    viol = np.asarray(ds["clause_violation"].values, dtype=float)
    starts = ds["window_start"].values
    ends = ds["window_end"].values
    fig = _figure(0.9 + 0.32 * len(clauses))
    ax = fig.add_subplot()
    t0 = first.astype("datetime64[D]")
    span = float((last - first) / np.timedelta64(1, "D"))
    for c in range(len(clauses)):
        y = len(clauses) - 1 - c
        ax.broken_barh([(0.0, span)], (y - 0.4, 0.8), facecolors=COLOURS["n.a."])
        for w in range(viol.shape[0]):
            if np.isnat(starts[w, c]):
                continue
            a = max(starts[w, c], first)
            b = min(ends[w, c], last) if not np.isnat(ends[w, c]) else last
            if b <= a:
                continue
            v = viol[w, c]
            colour = COLOURS["n.a."] if np.isnan(v) else COLOURS["violated" if v > TOL else "met"]
            day = np.timedelta64(1, "D")
            ax.broken_barh([(float((a - t0) / day), float((b - a) / day))],
                           (y - 0.4, 0.8), facecolors=colour, edgecolors="white", linewidth=0.6)
    ax.set_yticks(np.arange(len(clauses)), clauses[::-1])
    ax.set_ylim(-0.6, len(clauses) - 0.4)
    ax.set_xlim(0.0, span)
    years = np.arange(first.astype("datetime64[Y]"), last.astype("datetime64[Y]") + 1)
    ticks = [(np.datetime64(y, "D") - t0) / np.timedelta64(1, "D") for y in years]
    keep = [(t, str(y)) for t, y in zip(ticks, years) if 0 <= t <= span]
    keep = keep[::max(1, -(-len(keep) // 12))]   # at most 12 labels
    if keep:
        ax.set_xticks([t for t, _ in keep], [s for _, s in keep])
    ax.grid(False)
    ax.set_xlabel("window (date; ticks at 1 January)")
    ax.set_title(f"Clause compliance per window: violated if violation > {TOL:g} mcm")
    ax.legend(handles=[Patch(color=COLOURS[k], label=k) for k in ("met", "violated", "n.a.")],
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def _min_flow_series(ds: "xr.Dataset", c: int) -> tuple[list[np.datetime64], list[float]]:
    """Step-line (x, y) of a min_flow clause in m3 s-1: each window's requirement / its days."""
    first, last = _period(ds)
    xs: list[np.datetime64] = []
    ys: list[float] = []
    for w in range(ds.sizes["window"]):
        a, b = ds["window_start"].values[w, c], ds["window_end"].values[w, c]
        req = float(ds["clause_required"].values[w, c])
        if np.isnat(a) or np.isnat(b) or np.isnan(req):
            continue
        a, b = max(a, first), min(b, last)
        days = float((b - a) / np.timedelta64(1, "D"))
        if days <= 0:
            continue
        xs += [a, b]
        ys += [req / (days * MCM_PER_M3S_DAY)] * 2
    return xs, ys


def _fig_gauges(ds: "xr.Dataset", gauges: list[int], min_flows: dict[str, str]) -> str:
    fig = _figure(0.8 + 1.9 * len(gauges))
    axes = fig.subplots(len(gauges), 1, sharex=True, squeeze=False)[:, 0]
    times = np.concatenate([ds["time_bounds"].values[:, 0], ds["time_bounds"].values[-1:, 1]])
    clause_ids = [str(c) for c in ds["clause"].values] if ds.sizes.get("clause", 0) else []
    for ax, g in zip(axes, gauges):
        name = str(ds["node"].values[g])
        flow = ds["node_flow"].values[:, g]
        ax.stairs(flow, times, baseline=None, color="C0", linewidth=1.2, label="managed flow (m3 s-1)")
        if "natural_flow" in ds:
            ax.stairs(ds["natural_flow"].values[:, g], times, baseline=None, color="C7", linewidth=0.9,
                      linestyle=":", label="natural flow (m3 s-1)")
        for cid, node in min_flows.items():
            if node == name and cid in clause_ids:
                xs, ys = _min_flow_series(ds, clause_ids.index(cid))
                if xs:
                    ax.plot(xs, ys, color="C3", linestyle="--", linewidth=1.0,
                            label=f"{cid} minimum (m3 s-1)")
        country = str(ds["node_country"].values[g]) if "node_country" in ds.coords else ""
        ax.set_title(f"{name} ({country}): flow (m3 s-1)" if country else f"{name}: flow (m3 s-1)",
                     loc="left")
        ax.set_ylabel("flow (m3 s-1)")
        ax.set_ylim(bottom=0.0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[-1].set_xlabel("date")
    return _png(fig)


def _fig_comparison(labelled: list[tuple[str, "xr.Dataset"]], countries: list[str],
                    supply: np.ndarray) -> str:
    fig = _figure(3.2 + 0.15 * len(labelled))
    ax1, ax2 = fig.subplots(1, 2)
    x = np.arange(len(countries))
    n = len(labelled)
    width = 0.8 / n
    for r, (label, _) in enumerate(labelled):
        ax1.bar(x - 0.4 + width * (r + 0.5), supply[r], width=width, color=f"C{r % 10}", label=label)
    ax1.set_xticks(x, countries)
    ax1.set_xlabel("country")
    ax1.set_ylabel("supplied (mcm over the run)")
    ax1.set_title("Supply per country (mcm)")
    ax1.legend(loc="upper left", bbox_to_anchor=(0.0, -0.15), ncols=min(n, 3))
    diff = supply[1:] - supply[0]
    width2 = 0.8 / max(1, n - 1)
    for r in range(1, n):
        ax2.bar(x - 0.4 + width2 * (r - 0.5), diff[r - 1], width=width2, color=f"C{r % 10}",
                label=f"{labelled[r][0]} − {labelled[0][0]}")
    ax2.axhline(0.0, color="black", linewidth=0.8)
    ax2.set_xticks(x, countries)
    ax2.set_xlabel("country")
    ax2.set_ylabel("difference in supply (mcm)")
    ax2.set_title(f"Difference from {labelled[0][0]} (mcm)")
    ax2.legend(loc="upper left", bbox_to_anchor=(0.0, -0.15), ncols=1)
    return _png(fig)


# ----------------------------------------------------------------------------- HTML

def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | None, fmt: str = "") -> str:
    """A number for a table cell: one decimal in mcm, three in km3."""
    fmt = fmt or (",.3f" if _VOLUME_UNIT == "km3" else ",.1f")
    return "-" if value is None or not np.isfinite(value) else format(value, fmt)


def _img(b64: str, alt: str, caption: str, kind: str) -> str:
    return (f'<figure><img class="figure" data-figure="{_e(kind)}" alt="{_e(alt)}" '
            f'src="data:image/png;base64,{b64}"><figcaption>{_e(caption)}</figcaption></figure>')


def _table(head: list[str], rows: list[list[tuple[str, str]]], cls: str, extra: str = "") -> str:
    """rows: lists of (text, css class); head: header texts (with units)."""
    out = [f'<table class="{cls}"{extra}><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    for row in rows:
        tr_cls = ' class="total"' if row and row[0][0] == "total" else ""
        out.append(f"<tr{tr_cls}>" + "".join(f'<td class="{c}">{_e(t)}</td>' if c else f"<td>{_e(t)}</td>"
                                             for t, c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _header(ds: "xr.Dataset") -> str:
    first, last = _period(ds)
    last_day = (last - np.timedelta64(1, "D")).astype("datetime64[D]")
    a = ds.attrs
    items = [
        ("basin", a.get("basin", "")), ("scenario", a.get("scenario", "")),
        ("description", a.get("scenario_description", "")), ("mode", a.get("mode", "")),
        ("timestep", a.get("timestep", "")),
        ("period", f"{str(first)[:10]} to {last_day} ({ds.sizes['time']} steps)"),
        ("scenario_sha256", a.get("scenario_sha256", "")),
        ("waterdesk_version", a.get("waterdesk_version", "")), ("solver", a.get("solver", "")),
        ("history", a.get("history", "")),
    ]
    if "report_members" in a:
        items.append(("ensemble", a["report_members"]))
    cells = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items if v != "")
    return f'<dl class="meta">{cells}</dl>'


def _country_html(ds: "xr.Dataset", r: int) -> str:
    rows = country_table(ds, TOL)
    body = [[(c, ""), (_num(req), "num"), (_num(sup), "num"), (_num(met), "num"), (str(short), "num")]
            for c, req, sup, met, short in rows]
    req_t = float(np.asarray(ds["requested"].values).sum())
    sup_t = float(np.asarray(ds["supplied"].values).sum())
    body.append([("total", ""), (_num(req_t), "num"), (_num(sup_t), "num"),
                 (_num(100.0 * sup_t / req_t if req_t > 0 else None), "num"), ("", "num")])
    return _table(["country", "requested (mcm)", "supplied (mcm)", "met (%)", "short steps (count)"],
                  body, "countries", f' data-result="{r}"')


def _reservoir_html(ds: "xr.Dataset") -> str:
    days = _step_days(ds)
    body = []
    for k, name in enumerate(ds["reservoir"].values):
        cap = float(ds["reservoir_capacity"].values[k]) if "reservoir_capacity" in ds.coords else None
        spill = float((ds["spill"].values[:, k] * days * MCM_PER_M3S_DAY).sum())
        body.append([(str(name), ""), (_num(cap), "num"), (_num(float(ds["storage"].values[-1, k])), "num"),
                     (_num(float(ds["storage"].values[:, k].min())), "num"), (_num(spill), "num"),
                     (_num(float(ds["energy"].values[:, k].sum())), "num"),
                     (_num(_mean_deviation(ds, k)), "num")])
    return _table(["reservoir", "capacity (mcm)", "end storage (mcm)", "lowest storage (mcm)",
                   "spill (mcm)", "energy (GWh)", "mean target deviation (mcm)"], body, "reservoirs")


def _mean_deviation(ds: "xr.Dataset", k: int) -> float | None:
    """Mean of storage minus the operating target [mcm]; None without a target."""
    if "target_deviation" not in ds:
        return None
    values = np.asarray(ds["target_deviation"].values[:, k], dtype=float)
    return float(values.mean()) if np.isfinite(values).all() and len(values) else None


def _clause_html(ds: "xr.Dataset") -> str:
    body = []
    for row in clause_table(ds, TOL):
        bad = "num violated" if row["met"] < row["windows"] else "num"
        body.append([(row["clause"], ""), (row["kind"], ""), (row["type"], ""),
                     (f"{row['met']}/{row['windows']}", bad), (_num(row["worst_mcm"]), "num"),
                     (row["worst_window"] or "-", ""), (_num(row["total_mcm"]), "num"),
                     (_num(row["price"], ".3g"), "num")])
    return _table(["clause", "kind", "hard/soft", "windows met/total (count)", "worst violation (mcm)",
                   "worst window (start date)", "total violation (mcm)",
                   "largest shadow price (mcm mcm-1)"], body, "clauses")


def _ledger_html(ds: "xr.Dataset") -> str:
    """The ledger's party table (waterdesk.analysis.accounts) as an HTML table."""
    from waterdesk.analysis.accounts import ledger

    table = ledger(ds)["parties"]
    head = [c.header for c in table.columns]
    rows = [[(_num(v) if isinstance(v, float) else str(v), "num" if isinstance(v, float) else "")
             for v in row] for row in table.rows]
    return _table(head, rows, "ledger")


def _exchange_html(ds: "xr.Dataset", label: str) -> str:
    """The exchange account (waterdesk.analysis.exchange) as an HTML table, or ''."""
    from waterdesk.analysis.exchange import exchange_table

    table = exchange_table(ds, label)
    if table is None:
        return ""
    head = [c.header for c in table.columns]
    rows = [[(_num(v) if isinstance(v, float) else str(v), "num" if isinstance(v, float) else "")
             for v in row] for row in table.rows]
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in table.notes)
    return f'<p class="note">{_e(ds.attrs.get("exchange", ""))}</p>' + _table(head, rows, "exchange") + notes


def _section(label: str, ds: "xr.Dataset", r: int) -> str:
    title = ds.attrs.get("title", label)
    anchor = f"result-{r}"
    parts = [f'<section class="result" id="{anchor}"><h2>{_e(label)}: {_e(title)}</h2>', _header(ds),
             "<h3>Supply per country (mcm over the run)</h3>", _country_html(ds, r),
             '<p class="note">short steps: steps in which some demand of the country got less than it '
             f"requested (by more than {TOL:g} mcm).</p>"]
    if ds.sizes.get("reservoir", 0):
        parts += ["<h3>Reservoirs (mcm; energy in GWh)</h3>", _reservoir_html(ds),
                  _img(_fig_storage(ds), f"{label}: reservoir storage (mcm)",
                       "Storage trajectories (mcm) with capacity (mcm, dashed).", "storage")]
    parts += ["<h3>Deliveries by country per month (mcm)</h3>",
              _img(_fig_deliveries(ds), f"{label}: deliveries by country per month (mcm)",
                   "Volume delivered to each country's demands per calendar month (mcm).", "deliveries")]
    if ds.sizes.get("clause", 0):
        parts += ["<h3>Clauses (volumes in mcm)</h3>", _clause_html(ds),
                  '<p class="note">largest shadow price: priority-weighted shortage (mcm) per mcm of '
                  "requirement, largest over the windows; horizon mode only ('-' in step mode).</p>",
                  _img(_fig_calendar(ds), f"{label}: clause compliance calendar",
                       f"Each clause's windows: met, violated (violation > {TOL:g} mcm), or n.a. "
                       "(outside every window or no value).", "calendar")]
    else:
        parts.append('<h3>Clauses (mcm)</h3><p class="note">This result has no agreement clauses.</p>')
    from waterdesk.analysis import salinity   # issue 14: salinity at gauges vs limits ('' without)

    parts.append(salinity.report_section(ds, label, _figure, _png, _img, _e))
    parts += ["<h3>Ledger per party and water year (mcm)</h3>", _ledger_html(ds),
              '<p class="note">entitlement: requested volume, capped by the max_withdrawal clauses of '
              "the country; balance: deviations carried over the water years (docs/ANALYSIS.md).</p>"]
    exchange = _exchange_html(ds, label)
    if exchange:
        parts += ["<h3>Energy-water exchange account</h3>", exchange]
    kinds = np.asarray(ds["node_kind"].values).astype(str) if "node_kind" in ds.coords else np.array([])
    gauges = [int(i) for i in np.flatnonzero(kinds == "gauge")]
    if gauges:
        min_flows = _min_flow_nodes(ds)
        parts += ["<h3>Flows at border gauges (m3 s-1)</h3>",
                  _img(_fig_gauges(ds, gauges, min_flows), f"{label}: flows at gauges (m3 s-1)",
                       "Managed and natural flow at each gauge (m3 s-1) and the minimum of any "
                       "min_flow clause on that node (m3 s-1, dashed).", "gauges")]
    parts.append("</section>")
    return "".join(parts)


def _comparison_html(labelled: list[tuple[str, "xr.Dataset"]]) -> str:
    countries: list[str] = []
    for _, ds in labelled:
        countries += [str(c) for c in ds["country"].values if str(c) not in countries]
    supply = np.zeros((len(labelled), len(countries)))
    for r, (_, ds) in enumerate(labelled):
        for country, _req, sup, _met, _short in country_table(ds, TOL):
            supply[r, countries.index(country)] = sup
    head = ["country"] + [f"{label} supplied (mcm)" for label, _ in labelled] + \
           [f"{label} − {labelled[0][0]} (mcm)" for label, _ in labelled[1:]]
    body = []
    for k, country in enumerate(countries):
        body.append([(country, "")] + [(_num(supply[r, k]), "num") for r in range(len(labelled))]
                    + [(_num(supply[r, k] - supply[0, k], "+,.1f"), "num") for r in range(1, len(labelled))])
    totals = supply.sum(axis=1)
    body.append([("total", "")] + [(_num(t), "num") for t in totals]
                + [(_num(t - totals[0], "+,.1f"), "num") for t in totals[1:]])
    basins = sorted({str(ds.attrs.get("basin", "")) for _, ds in labelled})
    note = ('<p class="note">These results come from different basins: '
            + _e(", ".join(basins)) + ".</p>") if len(basins) > 1 else ""
    return ('<section id="comparison"><h2>Comparison: supply per country (mcm over each run)</h2>'
            + note + _table(head, body, "comparison")
            + _img(_fig_comparison(labelled, countries, supply), "comparison of supply per country (mcm)",
                   f"Left: supply per country in each result (mcm). Right: difference from "
                   f"{labelled[0][0]} (mcm).", "comparison")
            + "</section>")


def _in_km3(ds: "xr.Dataset") -> "xr.Dataset":
    """The result with every variable and coordinate in mcm converted to km3."""
    out = ds.copy()
    for name in list(out.data_vars) + list(out.coords):
        var = out[name]
        if var.attrs.get("units") == "mcm" and var.dtype.kind == "f":
            converted = var * 1e-3
            converted.attrs = {**var.attrs, "units": "km3"}
            if name in out.coords:
                out = out.assign_coords({name: converted})
            else:
                out[name] = converted
    return out


def render(results: Sequence[Any], units: str = "mcm") -> str:
    """The report page as a string (see `report`); volumes in `units` (mcm or km3)."""
    global TOL, _VOLUME_UNIT

    if units not in ("mcm", "km3"):
        raise ValueError(f"units must be mcm or km3, got {units!r}")
    if units == "mcm":
        return _render(results)
    saved = TOL, _VOLUME_UNIT
    TOL, _VOLUME_UNIT = TOL * 1e-3, "km3"        # the same 1e-6 mcm threshold, in km3
    try:
        labelled = [(label, _in_km3(ds)) for label, ds in _load(results)]
        for label, ds in labelled:
            ds.attrs["report_label"] = label
        page = _render([ds for _, ds in labelled])
    finally:
        TOL, _VOLUME_UNIT = saved
    # headings and notes outside the embedded images speak of the page's unit
    pieces = page.split("data:image/png;base64,")
    head = [pieces[0]] + [p[p.index('"'):] if '"' in p else p for p in pieces[1:]]
    data = [""] + [p[: p.index('"')] if '"' in p else "" for p in pieces[1:]]
    fixed = [h.replace("mcm (million m³)", "km3 (10⁹ m³)").replace("mcm", "km3") for h in head]
    return fixed[0] + "".join("data:image/png;base64," + d + h for d, h in zip(data[1:], fixed[1:]))


def _render(results: Sequence[Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    labelled = _load(results)
    if not labelled:
        raise ValueError("report needs at least one result")
    rc: Any = _RC   # matplotlib types its keys as a Literal of every rcParam name
    with matplotlib.rc_context(rc):
        sections = [_section(label, ds, r) for r, (label, ds) in enumerate(labelled)]
        comparison = _comparison_html(labelled) if len(labelled) > 1 else ""
    names = ", ".join(label for label, _ in labelled)
    basins = ", ".join(dict.fromkeys(str(ds.attrs.get("basin", "")) for _, ds in labelled))
    nav = ""
    if len(labelled) > 1:
        links = [f'<li><a href="#result-{r}">{_e(label)}</a></li>' for r, (label, _) in enumerate(labelled)]
        links.append('<li><a href="#comparison">Comparison (mcm)</a></li>')
        nav = "<nav><ul>" + "".join(links) + "</ul></nav>"
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>waterdesk report: {_e(basins)}: {_e(names)}</title>"
            f"<style>{_CSS}</style></head><body>"
            f"<h1>waterdesk report: {_e(basins)} ({_e(names)})</h1>"
            '<p class="note">Volumes in mcm (million m³), flows in m3 s-1, energy in GWh. '
            "Generated by waterdesk from the result files; all figures are embedded.</p>"
            + nav + "".join(sections) + comparison + "</body></html>\n")


def report(results: Sequence[Any], path: str | os.PathLike[str], units: str = "mcm") -> Path:
    """Write one self-contained HTML report of `results` to `path`; returns the path.

    Parameters
    ----------
    results : list of xarray.Dataset or of paths to result files
        A Dataset is labelled by its ``report_label`` attribute, else its scenario name; a
        file by its name without suffix. Files are opened with `waterdesk.open_result`
        (`waterdesk.InputError` for a file that is not a waterdesk result). With several
        results, the page ends with a comparison against the first.
    path : where to write the page; written to ``<path>.part`` first, then renamed.
    """
    if not isinstance(results, (list, tuple)):
        results = [results]
    page = render(results, units)
    from waterdesk.io.atomic import write_text

    return write_text(path, page)
