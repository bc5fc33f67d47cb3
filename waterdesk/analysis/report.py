"""One self-contained HTML page of one or more results (docs/REPORT.md; docs/REFERENCE.md §9
`waterdesk report`).

The page opens on the basin schematic (widths: the first result's mean flows), then,
with several results (named A, B, C), a comparison against A; then, for each result, a
header with its provenance, the supply per country, the reservoirs, the deliveries (a
mean seasonal cycle with its year-to-year range and the annual totals for long runs), the
clauses with a compliance calendar, the ledger as country x water year, and flows at the
gauges with each minimum-flow clause drawn only inside its windows.

Every text comes from the language's message catalogue (waterdesk.i18n, ``lang``), every
number is formatted by its convention, the volume unit is a parameter (``units``). The
report reads nothing but the result Datasets: the nodes of clauses, the network and the
reach kinds are coordinates of the result. Figures are `matplotlib.figure.Figure`
objects saved to PNG (the schematic to SVG) and embedded as ``data:`` URIs; the CSS is
inline, with print rules for A4. The page needs no JavaScript and no network, and is a
function of its inputs (fixed sizes and DPI, no timestamp of its own).
"""
from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from waterdesk.analysis import tables as tx
from waterdesk.analysis.accounts import TOL_MCM, UNITS, clause_table, country_table
from waterdesk.i18n import Catalogue, catalogue

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["report", "render", "Page"]

DPI = 100
WIDTH_IN = 9.0
MCM_PER_M3S_DAY = 0.0864
COLOURS = {"met": "#4daf4a", "violated": "#e41a1c", "n.a.": "#d9d9d9"}
#: runs longer than this many months show a seasonal cycle and annual totals instead of monthly bars
MONTHLY_BARS_UP_TO = 36

_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans", "font.size": 9.0, "axes.titlesize": 10.0,
    "axes.labelsize": 9.0, "legend.fontsize": 8.0, "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0, "figure.dpi": DPI, "savefig.dpi": DPI,
    "axes.grid": True, "grid.alpha": 0.3, "svg.hashsalt": "waterdesk", "svg.fonttype": "path",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:1em auto;
max-width:1000px;color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.5em;border-bottom:2px solid #2c7fb8;margin:.2em 0 .4em 0}
h2{font-size:1.3em;margin-top:1.6em;border-bottom:1px solid #ccc}h3{font-size:1.05em;margin-top:1.2em}
table{border-collapse:collapse;margin:.5em 0 1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.2em .5em}th{background:#f0f4f8;text-align:left;vertical-align:bottom}
th.group{text-align:center}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:bold}td.violated{color:#b00}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;font-size:.85em}
dl.meta dt{font-weight:bold}dl.meta dd{margin:0;overflow-wrap:anywhere}
figure{margin:.5em 0 1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#444}p.note{font-size:.85em;color:#444}
ul.legend{list-style:none;padding:0;margin:.2em 0}ul.legend li{margin:.1em 0}
figure.schematic{margin-top:0}figure.schematic img{border:none}
table.ledger{font-size:.82em}
@page{size:A4;margin:12mm 11mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9.5pt}
h1{font-size:15pt}h2{font-size:12.5pt;break-before:page}h2,h3{break-after:avoid}
section.first h2{break-before:auto}
figure,table,dl.meta,tr{break-inside:avoid}
table{font-size:8pt}table.ledger{font-size:7.5pt}
figure img{max-width:100%;max-height:245mm}
a{color:inherit;text-decoration:none}
}
"""


@dataclass(frozen=True)
class Page:
    """What every part of the page is written in: language and volume unit."""

    cat: Catalogue
    units: str = "mcm"

    @property
    def per(self) -> float:
        """mcm per volume unit."""
        return UNITS[self.units]

    @property
    def tol(self) -> float:
        """The accounting tolerance (TOL_MCM) in the page's volume unit."""
        return TOL_MCM / self.per

    @property
    def u(self) -> str:
        return self.cat.unit(self.units)

    @property
    def tol_text(self) -> str:
        """The accounting tolerance as the page writes it, in its volume unit."""
        return self.cat.num(self.tol, 9 if self.units == "km3" else 6)

    def vol(self, mcm: float | None, sign: bool = False) -> str:
        """A volume given in mcm, in the page's unit and language."""
        if mcm is None:
            return "-"
        return self.cat.num(mcm / self.per, 3 if self.units == "km3" else 1, sign=sign)


# ----------------------------------------------------------------------------- inputs

def _label(ds: "xr.Dataset") -> str:
    return str(ds.attrs.get("report_label") or ds.attrs.get("scenario", "result"))


def _prepare(results: Sequence["xr.Dataset"]) -> list[tuple[str, "xr.Dataset"]]:
    """(unique label, dataset), an ensemble reduced to its member mean."""
    seen: dict[str, int] = {}
    out = []
    for ds in results:
        label = _label(ds)
        seen[label] = seen.get(label, 0) + 1
        out.append((label if seen[label] == 1 else f"{label} ({seen[label]})", _reduce_members(ds)))
    return out


def _reduce_members(ds: "xr.Dataset") -> "xr.Dataset":
    """An ensemble result (dim `member`) is reported by its member mean."""
    if "member" not in ds.dims:
        return ds
    n = ds.sizes["member"]
    reduced = ds.mean("member", keep_attrs=True)
    reduced.attrs["report_members"] = n
    return reduced


# ----------------------------------------------------------------------------- numbers

def _step_days(ds: "xr.Dataset") -> np.ndarray:
    tb = ds["time_bounds"].values
    return np.asarray((tb[:, 1] - tb[:, 0]) / np.timedelta64(1, "D"), dtype=float)


def _period(ds: "xr.Dataset") -> tuple[np.datetime64, np.datetime64]:
    """First day and the day after the last step (exclusive, like `time_bounds`)."""
    tb = ds["time_bounds"].values
    return tb[0, 0], tb[-1, 1]


def min_flow_nodes(ds: "xr.Dataset") -> dict[str, str]:
    """clause id -> node of each `min_flow` clause, from the result's ``clause_node``."""
    if not ds.sizes.get("clause", 0) or "clause_node" not in ds.coords:
        return {}
    return {str(cid): str(node) for cid, kind, node in zip(ds["clause"].values, ds["clause_kind"].values,
                                                          ds["clause_node"].values)
            if str(kind) == "min_flow" and str(node)}


# ----------------------------------------------------------------------------- figures

def _png(fig: "Figure") -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _svg(fig: "Figure") -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(height: float) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")


def _numbers(ax: Any, page: Page, axis: str = "y") -> None:
    """Tick labels of a numeric axis by the page's language (decimal comma in Russian)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=6))
    ticks = target.get_major_locator()()
    step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
    decimals = 0 if step >= 1 else int(np.ceil(-np.log10(step)))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: page.cat.num(v, decimals)))


def fig_storage(ds: "xr.Dataset", page: Page) -> "Figure":
    cat = page.cat
    fig = _figure(3.6)
    ax = fig.add_subplot()
    start = ds["time_bounds"].values[:, 0]
    ends = ds["time_bounds"].values[:, 1]
    times = np.concatenate([start[:1], ends])
    for k, name in enumerate(ds["reservoir"].values):
        initial = (float(ds["reservoir_initial_storage"].values[k])
                   if "reservoir_initial_storage" in ds.coords else float(ds["storage"].values[0, k]))
        colour = f"C{k % 10}"
        ax.plot(times, np.concatenate([[initial], ds["storage"].values[:, k]]) / page.per, color=colour,
                label=str(name))
        if "reservoir_capacity" in ds.coords:
            cap = float(ds["reservoir_capacity"].values[k]) / page.per
            ax.hlines(cap, times[0], times[-1], colors=colour, linestyles="--", linewidth=0.9,
                      label=cat("fig.capacity_of", name=name))
    ax.set_ylabel(cat("fig.storage_axis", unit=page.u))
    ax.set_xlabel(cat("fig.date_axis"))
    ax.set_title(cat("fig.storage_title", unit=page.u))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _numbers(ax, page)
    return fig


def _monthly(ds: "xr.Dataset", values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of a (time, k) volume array per calendar month of the step start."""
    months = ds["time"].values.astype("datetime64[M]")
    labels = np.unique(months)
    out = np.zeros((len(labels), values.shape[1]))
    np.add.at(out, np.searchsorted(labels, months), values)
    return labels, out


def _country_volumes(ds: "xr.Dataset") -> tuple[list[str], np.ndarray, np.ndarray]:
    """countries, supplied (time, country), requested (time, country) in mcm."""
    countries = [str(c) for c in ds["country"].values]
    dem_country = np.asarray(ds["demand_country"].values).astype(str)
    req = np.asarray(ds["requested"].values, dtype=float)
    requested = np.stack([req[:, dem_country == c].sum(axis=1) for c in countries], axis=1)
    return countries, np.asarray(ds["withdrawal_by_country"].values, dtype=float), requested


def fig_deliveries(ds: "xr.Dataset", page: Page) -> "Figure":
    """Monthly stacked bars for a short run; for a long one, the mean seasonal cycle per
    country with its year-to-year range, beside the annual totals."""
    countries, supplied_t, requested_t = _country_volumes(ds)
    months, supplied = _monthly(ds, supplied_t)
    _, requested = _monthly(ds, requested_t)
    if len(months) <= MONTHLY_BARS_UP_TO:
        return _fig_deliveries_monthly(months, countries, supplied, requested, page)
    return _fig_deliveries_cycle(ds, months, countries, supplied, requested, page)


def _fig_deliveries_monthly(months: np.ndarray, countries: list[str], supplied: np.ndarray,
                            requested: np.ndarray, page: Page) -> "Figure":
    cat = page.cat
    fig = _figure(3.6)
    ax = fig.add_subplot()
    x = np.arange(len(months))
    bottom = np.zeros(len(months))
    for k, country in enumerate(countries):
        ax.bar(x, supplied[:, k] / page.per, bottom=bottom, width=0.8, color=f"C{k % 10}",
               label=cat("fig.supplied_to", country=country))
        bottom += supplied[:, k] / page.per
    total = requested.sum(axis=1) / page.per
    ax.step(np.concatenate([x - 0.5, x[-1:] + 0.5]), np.concatenate([total, total[-1:]]), where="post",
            color="black", linewidth=1.0, label=cat("fig.requested_all"))
    step = max(1, len(months) // 24)
    ax.set_xticks(x[::step], [str(m) for m in months[::step]], rotation=60, ha="right")
    ax.set_xlim(-0.6, len(months) - 0.4)
    ax.set_xlabel(cat("fig.month_axis"))
    ax.set_ylabel(cat("fig.volume_per_month", unit=page.u))
    ax.set_title(cat("fig.deliveries_monthly_title", unit=page.u))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _numbers(ax, page)
    return fig


def _fig_deliveries_cycle(ds: "xr.Dataset", months: np.ndarray, countries: list[str], supplied: np.ndarray,
                          requested: np.ndarray, page: Page) -> "Figure":
    from waterdesk.calendar import water_year

    cat = page.cat
    fig = _figure(3.9)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.0, 1.25])
    month_no = months.astype(int) % 12 + 1                  # 1..12
    order = [10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9]           # the water year, Oct-Sep
    x = np.arange(12)
    for k, country in enumerate(countries):
        per_month = [supplied[month_no == m, k] / page.per for m in order]
        mean = np.array([v.mean() if len(v) else np.nan for v in per_month])
        lo = np.array([v.min() if len(v) else np.nan for v in per_month])
        hi = np.array([v.max() if len(v) else np.nan for v in per_month])
        colour = f"C{k % 10}"
        ax1.fill_between(x, lo, hi, color=colour, alpha=0.18, linewidth=0)
        ax1.plot(x, mean, color=colour, linewidth=1.6, marker="o", markersize=2.5, label=country)
        req = np.array([requested[month_no == m, k].mean() / page.per for m in order])
        ax1.plot(x, req, color=colour, linewidth=0.9, linestyle="--")
    ax1.set_xticks(x, [cat(f"month.{m}") for m in order])
    ax1.set_xlim(-0.3, 11.3)
    ax1.set_ylim(bottom=0.0)
    ax1.set_ylabel(cat("fig.volume_per_month", unit=page.u))
    ax1.set_title(cat("fig.cycle_title", unit=page.u), loc="left")
    ax1.legend(loc="upper left", ncols=2)
    _numbers(ax1, page)
    wy = water_year(months.astype("datetime64[D]"))
    years = np.unique(wy)
    bottom = np.zeros(len(years))
    for k, country in enumerate(countries):
        annual = np.array([supplied[wy == y, k].sum() for y in years]) / page.per
        ax2.bar(years, annual, bottom=bottom, width=0.8, color=f"C{k % 10}", label=country)
        bottom += annual
    req_total = np.array([requested[wy == y].sum() for y in years]) / page.per
    ax2.step(np.concatenate([years - 0.5, years[-1:] + 0.5]), np.concatenate([req_total, req_total[-1:]]),
             where="post", color="black", linewidth=1.0, label=cat("fig.requested_all"))
    ax2.set_xlabel(cat("fig.water_year_axis"))
    ax2.set_ylabel(cat("fig.volume_per_year", unit=page.u))
    ax2.set_title(cat("fig.annual_title", unit=page.u), loc="left")
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=7.0)
    _numbers(ax2, page)
    return fig


def fig_calendar(ds: "xr.Dataset", page: Page) -> "Figure":
    from matplotlib.patches import Patch

    cat = page.cat
    clauses = [str(c) for c in ds["clause"].values]
    first, last = _period(ds)
    viol = np.asarray(ds["clause_violation"].values, dtype=float)
    starts = ds["window_start"].values
    ends = ds["window_end"].values
    fig = _figure(1.0 + 0.32 * len(clauses))
    ax = fig.add_subplot()
    t0 = first.astype("datetime64[D]")
    day = np.timedelta64(1, "D")
    span = float((last - first) / day)
    for c in range(len(clauses)):
        y = len(clauses) - 1 - c
        ax.broken_barh([(0.0, span)], (y - 0.4, 0.8), facecolors=COLOURS["n.a."])
        spans: dict[str, list[tuple[float, float]]] = {}     # one call per colour and clause
        for w in range(viol.shape[0]):
            if np.isnat(starts[w, c]):
                continue
            a = max(starts[w, c], first)
            b = min(ends[w, c], last) if not np.isnat(ends[w, c]) else last
            if b <= a:
                continue
            v = viol[w, c]
            colour = COLOURS["n.a."] if np.isnan(v) else COLOURS["violated" if v > TOL_MCM else "met"]
            spans.setdefault(colour, []).append((float((a - t0) / day), float((b - a) / day)))
        for colour, xranges in spans.items():
            ax.broken_barh(xranges, (y - 0.4, 0.8), facecolors=colour, edgecolors="white", linewidth=0.6)
    ax.set_yticks(np.arange(len(clauses)), clauses[::-1])
    ax.set_ylim(-0.6, len(clauses) - 0.4)
    ax.set_xlim(0.0, span)
    years = np.arange(first.astype("datetime64[Y]"), last.astype("datetime64[Y]") + 1)
    ticks = [(np.datetime64(y, "D") - t0) / day for y in years]
    keep = [(t, str(y)) for t, y in zip(ticks, years) if 0 <= t <= span]
    keep = keep[::max(1, -(-len(keep) // 12))]   # at most 12 labels
    if keep:
        ax.set_xticks([t for t, _ in keep], [s for _, s in keep])
    ax.grid(False)
    ax.set_xlabel(cat("fig.calendar_axis"))
    ax.set_title(cat("fig.calendar_title", tol=page.tol_text, unit=page.u))
    ax.legend(handles=[Patch(color=COLOURS[k], label=cat(f"status.{k}")) for k in ("met", "violated", "n.a.")],
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def limit_segments(ds: "xr.Dataset", c: int) -> list[tuple[np.datetime64, np.datetime64, float]]:
    """A min_flow clause's requirement per window in m3 s-1: (start, end, flow), only
    where the clause has a window inside the run."""
    first, last = _period(ds)
    out = []
    for w in range(ds.sizes["window"]):
        a, b = ds["window_start"].values[w, c], ds["window_end"].values[w, c]
        req = float(ds["clause_required"].values[w, c])
        if np.isnat(a) or np.isnat(b) or np.isnan(req):
            continue
        a, b = max(a, first), min(b, last)
        days = float((b - a) / np.timedelta64(1, "D"))
        if days > 0:
            out.append((a, b, req / (days * MCM_PER_M3S_DAY)))
    return out


def _stairs(ax: Any, values: np.ndarray, edges: np.ndarray, **style: Any) -> None:
    """A step line of values held over each step [edges[i], edges[i+1]): a Line2D with
    steps-post, the same picture as ``ax.stairs(baseline=None)`` without its patch, whose
    limits matplotlib finds vertex by vertex (5.5 s for two 30-year daily gauges)."""
    ax.plot(edges, np.append(values, values[-1:]), drawstyle="steps-post", **style)


def fig_gauges(ds: "xr.Dataset", page: Page, gauges: list[int], min_flows: dict[str, str]) -> "Figure":
    """Managed and natural flow at each gauge; each min_flow clause on the node as a
    dashed line drawn only over its windows (broken between them), gid ``limit:<clause>``."""
    cat = page.cat
    fig = _figure(0.8 + 1.9 * len(gauges))
    axes = fig.subplots(len(gauges), 1, sharex=True, squeeze=False)[:, 0]
    times = np.concatenate([ds["time_bounds"].values[:, 0], ds["time_bounds"].values[-1:, 1]])
    clause_ids = [str(c) for c in ds["clause"].values] if ds.sizes.get("clause", 0) else []
    unit = cat.unit("m3 s-1")
    for ax, g in zip(axes, gauges):
        name = str(ds["node"].values[g])
        _stairs(ax, ds["node_flow"].values[:, g], times, color="C0", linewidth=1.1,
                label=cat("fig.managed_flow", unit=unit))
        if "natural_flow" in ds:
            _stairs(ax, ds["natural_flow"].values[:, g], times, color="C7", linewidth=0.9,
                    linestyle=":", label=cat("fig.natural_flow", unit=unit))
        for cid, node in min_flows.items():
            if node != name or cid not in clause_ids:
                continue
            xs: list[Any] = []
            ys: list[float] = []
            for a, b, q in limit_segments(ds, clause_ids.index(cid)):
                if xs:
                    xs.append(a)              # a break between windows: nothing is required there
                    ys.append(np.nan)
                xs += [a, b]
                ys += [q, q]
            if xs:
                ax.plot(np.array(xs, dtype="datetime64[ns]"), ys, color="C3", linestyle="--", linewidth=1.2,
                        gid=f"limit:{cid}", label=cat("fig.minimum_of", clause=cid, unit=unit))
        country = str(ds["node_country"].values[g]) if "node_country" in ds.coords else ""
        ax.set_title(f"{name} ({country})" if country else name, loc="left")
        ax.set_ylabel(cat("fig.flow_axis", unit=unit))
        ax.set_ylim(bottom=0.0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _numbers(ax, page)
    axes[-1].set_xlabel(cat("fig.date_axis"))
    return fig


def fig_comparison(labelled: list[tuple[str, "xr.Dataset"]], countries: list[str], supply: np.ndarray,
                   page: Page) -> "Figure":
    cat = page.cat
    tags = tx.letters(len(labelled))
    fig = _figure(3.6)
    ax1, ax2 = fig.subplots(1, 2)
    x = np.arange(len(countries))
    n = len(labelled)
    width = 0.8 / n
    for r in range(n):
        ax1.bar(x - 0.4 + width * (r + 0.5), supply[r] / page.per, width=width, color=f"C{r % 10}",
                label=tags[r])
    ax1.set_xticks(x, countries)
    ax1.set_xlabel(cat("col.country"))
    ax1.set_ylabel(cat("fig.supplied_axis", unit=page.u))
    ax1.set_title(cat("fig.supply_title", unit=page.u), loc="left")
    ax1.legend(loc="upper right", ncols=min(n, 3))
    _numbers(ax1, page)
    diff = supply[1:] - supply[0]
    width2 = 0.8 / max(1, n - 1)
    for r in range(1, n):
        ax2.bar(x - 0.4 + width2 * (r - 0.5), diff[r - 1] / page.per, width=width2, color=f"C{r % 10}",
                label=f"{tags[r]}\u2212{tags[0]}")
    ax2.axhline(0.0, color="black", linewidth=0.8)
    ax2.set_xticks(x, countries)
    ax2.set_xlabel(cat("col.country"))
    ax2.set_ylabel(cat("fig.difference_axis", unit=page.u))
    ax2.set_title(cat("fig.difference_title", first=tags[0], unit=page.u), loc="left")
    ax2.legend(loc="best")
    _numbers(ax2, page)
    return fig


# ----------------------------------------------------------------------------- HTML

def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _img(src: str, alt: str, caption: str, kind: str, extra: str = "") -> str:
    cls = f' class="{_e(extra)}"' if extra else ""
    return (f'<figure{cls}><img class="figure" data-figure="{_e(kind)}" alt="{_e(alt)}" '
            f'src="{src}"><figcaption>{_e(caption)}</figcaption></figure>')


def _table(head: list[str], rows: list[list[tuple[str, str]]], cls: str, extra: str = "",
           total: str = "", group_head: str = "") -> str:
    """rows: lists of (text, css class); head: header texts (with units)."""
    out = [f'<table class="{cls}"{extra}><thead>{group_head}<tr>'
           + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for row in rows:
        tr_cls = ' class="total"' if row and total and row[0][0] == total else ""
        out.append(f"<tr{tr_cls}>" + "".join(f'<td class="{c}">{_e(t)}</td>' if c else f"<td>{_e(t)}</td>"
                                             for t, c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _header(ds: "xr.Dataset", page: Page) -> str:
    cat = page.cat
    first, last = _period(ds)
    last_day = (last - np.timedelta64(1, "D")).astype("datetime64[D]")
    a = ds.attrs
    items = [
        ("basin", a.get("basin", "")), ("scenario", a.get("scenario", "")),
        ("description", a.get("scenario_description", "")),
        ("mode", cat.term("mode", str(a.get("mode", ""))) if a.get("mode") else ""),
        ("timestep", cat.term("timestep", str(a.get("timestep", ""))) if a.get("timestep") else ""),
        ("period", cat("meta.period_value", first=str(first)[:10], last=str(last_day),
                       steps=ds.sizes["time"])),
        ("scenario_sha256", a.get("scenario_sha256", "")),
        ("waterdesk_version", a.get("waterdesk_version", "")), ("solver", a.get("solver", "")),
        ("history", a.get("history", "")),
    ]
    if "report_members" in a:
        items.append(("ensemble", cat("meta.ensemble_value", n=a["report_members"])))
    cells = "".join(f"<dt>{_e(cat('meta.' + k))}</dt><dd>{_e(v)}</dd>" for k, v in items if v != "")
    return f'<dl class="meta">{cells}</dl>'


def _country_html(ds: "xr.Dataset", r: int, page: Page) -> str:
    cat = page.cat
    rows = country_table(ds, TOL_MCM)
    body = [[(c, ""), (page.vol(req), "num"), (page.vol(sup), "num"), (cat.num(met, 1), "num"),
             (str(short), "num")] for c, req, sup, met, short in rows]
    req_t = float(np.asarray(ds["requested"].values).sum())
    sup_t = float(np.asarray(ds["supplied"].values).sum())
    total = cat("word.total")
    body.append([(total, ""), (page.vol(req_t), "num"), (page.vol(sup_t), "num"),
                 (cat.num(100.0 * sup_t / req_t if req_t > 0 else None, 1), "num"), ("", "num")])
    head = [cat("col.country"), f"{cat('col.requested')} ({page.u})", f"{cat('col.supplied')} ({page.u})",
            f"{cat('col.met')} (%)", f"{cat('col.short_steps')} ({cat.unit('count')})"]
    return _table(head, body, "countries", f' data-result="{r}"', total=total)


def _reservoir_html(ds: "xr.Dataset", page: Page) -> str:
    cat = page.cat
    days = _step_days(ds)
    body = []
    for k, name in enumerate(ds["reservoir"].values):
        cap = float(ds["reservoir_capacity"].values[k]) if "reservoir_capacity" in ds.coords else None
        spill = float((ds["spill"].values[:, k] * days * MCM_PER_M3S_DAY).sum())
        body.append([(str(name), ""), (page.vol(cap), "num"), (page.vol(float(ds["storage"].values[-1, k])), "num"),
                     (page.vol(float(ds["storage"].values[:, k].min())), "num"), (page.vol(spill), "num"),
                     (cat.num(float(ds["energy"].values[:, k].sum()), 1), "num"),
                     (page.vol(_mean_deviation(ds, k), sign=True), "num")])
    head = [cat("col.reservoir")] + [f"{cat(k)} ({page.u})" for k in
                                     ("col.capacity", "col.end_storage", "col.lowest_storage", "col.spill")]
    head.append(f"{cat('col.energy')} ({cat.unit('GWh')})")
    head.append(f"{cat('col.mean_target_deviation')} ({page.u})")
    return _table(head, body, "reservoirs")


def _mean_deviation(ds: "xr.Dataset", k: int) -> float | None:
    """Mean of storage minus the operating target [mcm]; None without a target."""
    if "target_deviation" not in ds:
        return None
    values = np.asarray(ds["target_deviation"].values[:, k], dtype=float)
    return float(values.mean()) if np.isfinite(values).all() and len(values) else None


def _clause_html(ds: "xr.Dataset", page: Page) -> str:
    cat = page.cat
    body = []
    for row in clause_table(ds, TOL_MCM):
        bad = "num violated" if row["met"] < row["windows"] else "num"
        typ = cat("word.hard") if row["type"] == "hard" else cat("word.soft_p", p=row["type"].split("p")[-1])
        body.append([(row["clause"], ""), (cat.term("kind", row["kind"]), ""), (typ, ""),
                     (f"{row['met']}/{row['windows']}", bad), (page.vol(row["worst_mcm"]), "num"),
                     (row["worst_window"] or "-", ""), (page.vol(row["total_mcm"]), "num"),
                     (cat.num(row["price"], 3), "num")])
    head = [cat("col.clause"), cat("col.kind"), cat("col.type"), cat("col.windows_met_total"),
            f"{cat('col.worst_violation')} ({page.u})", cat("col.worst_window_start"),
            f"{cat('col.total_violation')} ({page.u})", f"{cat('col.largest_shadow_price')} ({cat('unit.per_volume', unit=page.u)})"]
    return _table(head, body, "clauses")


def _ledger_html(ds: "xr.Dataset", page: Page, r: int, per_table: int = 2) -> str:
    """The ledger as water year x country: per country entitlement, delivered, deviation
    and balance; at most `per_table` countries side by side, so it fits an A4 page."""
    from waterdesk.analysis.accounts import ledger

    cat = page.cat
    table = ledger(ds, page.units)["parties"]
    years, countries, fields, values = tx.ledger_pivot(table)
    cols = table.columns[2:]
    out = []
    for start in range(0, len(countries), per_table):
        chunk = countries[start:start + per_table]
        group = ("<tr><th></th>" + "".join(f'<th class="group" colspan="{len(cols)}">{_e(c)} ({_e(page.u)})</th>'
                                           for c in chunk) + "</tr>")
        head = [cat("col.water_year")] + [cat(f"col.{c.name}") for _ in chunk for c in cols]
        body = []
        for y in years:
            row = [(str(y), "")]
            for c in chunk:
                vals = values.get((c, y))
                row += [(tx.cell(vals[f] if vals else None, col, cat), "num") for f, col in enumerate(cols)]
            body.append(row)
        out.append(_table(head, body, "ledger", f' data-result="{r}"', group_head=group))
    return "".join(out)


def _exchange_html(ds: "xr.Dataset", label: str, page: Page) -> str:
    """The exchange account (waterdesk.analysis.exchange) as an HTML table, or ''."""
    from waterdesk.analysis.exchange import exchange_table

    table = exchange_table(ds, label)
    if table is None:
        return ""
    cat = page.cat
    head = [tx.header(c, cat) for c in table.columns]
    rows = [[(tx.cell(v, c, cat), "num" if c.kind != "str" else "") for v, c in zip(row, table.columns)]
            for row in table.rows]
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in tx.notes(table, cat))
    return (f'<p class="note">{_e(ds.attrs.get("exchange", ""))}</p>' + _table(head, rows, "exchange") + notes)


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _section(tag: str, label: str, ds: "xr.Dataset", r: int, page: Page) -> str:
    cat = page.cat
    title = ds.attrs.get("title", label)
    cls = "result first" if r == 0 else "result"
    parts = [f'<section class="{cls}" id="result-{r}"><h2>{_e(tag)}. {_e(label)}: {_e(title)}</h2>',
             _header(ds, page),
             f"<h3>{_e(cat('h.supply', unit=page.u))}</h3>", _country_html(ds, r, page),
             _note(cat("note.short_steps", tol=page.tol_text, unit=page.u))]
    if ds.sizes.get("reservoir", 0):
        parts += [f"<h3>{_e(cat('h.reservoirs', unit=page.u))}</h3>", _reservoir_html(ds, page),
                  _img(_png(fig_storage(ds, page)), cat("alt.storage", result=tag, unit=page.u),
                       cat("cap.storage", unit=page.u), "storage")]
    n_months = len(np.unique(ds["time"].values.astype("datetime64[M]")))
    long_run = n_months > MONTHLY_BARS_UP_TO
    parts += [f"<h3>{_e(cat('h.deliveries', unit=page.u))}</h3>",
              _img(_png(fig_deliveries(ds, page)),
                   cat("alt.deliveries_cycle" if long_run else "alt.deliveries_monthly", result=tag, unit=page.u),
                   cat("cap.deliveries_cycle" if long_run else "cap.deliveries_monthly", unit=page.u),
                   "deliveries")]
    if ds.sizes.get("clause", 0):
        parts += [f"<h3>{_e(cat('h.clauses', unit=page.u))}</h3>", _clause_html(ds, page),
                  _note(cat("note.price", unit=page.u)),
                  _img(_png(fig_calendar(ds, page)), cat("alt.calendar", result=tag),
                       cat("cap.calendar", tol=page.tol_text, unit=page.u), "calendar")]
    else:
        parts.append(f"<h3>{_e(cat('h.clauses', unit=page.u))}</h3>" + _note(cat("note.no_clauses")))
    from waterdesk.analysis import salinity   # issue 14: salinity at gauges vs limits ('' without)

    parts.append(salinity.report_section(ds, label, _figure, _png, _img, _e, cat))
    parts += [f"<h3>{_e(cat('h.ledger', unit=page.u))}</h3>", _ledger_html(ds, page, r),
              _note(tx.entitlement_note(cat)), _note(cat("note.parties"))]
    exchange = _exchange_html(ds, label, page)
    if exchange:
        parts += [f"<h3>{_e(cat('h.exchange'))}</h3>", exchange]
    kinds = np.asarray(ds["node_kind"].values).astype(str) if "node_kind" in ds.coords else np.array([])
    gauges = [int(i) for i in np.flatnonzero(kinds == "gauge")]
    if gauges:
        unit = cat.unit("m3 s-1")
        parts += [f"<h3>{_e(cat('h.gauges', unit=unit))}</h3>",
                  _img(_png(fig_gauges(ds, page, gauges, min_flow_nodes(ds))),
                       cat("alt.gauges", result=tag, unit=unit), cat("cap.gauges", unit=unit), "gauges")]
    parts.append("</section>")
    return "".join(parts)


def _comparison_html(labelled: list[tuple[str, "xr.Dataset"]], page: Page) -> str:
    cat = page.cat
    tags = tx.letters(len(labelled))
    countries: list[str] = []
    for _, ds in labelled:
        countries += [str(c) for c in ds["country"].values if str(c) not in countries]
    supply = np.zeros((len(labelled), len(countries)))
    for r, (_, ds) in enumerate(labelled):
        for country, _req, sup, _met, _short in country_table(ds, TOL_MCM):
            supply[r, countries.index(country)] = sup
    head = [cat("col.country")] + [f"{t} ({page.u})" for t in tags] + \
           [f"{t}\u2212{tags[0]} ({page.u})" for t in tags[1:]]
    body = []
    for k, country in enumerate(countries):
        body.append([(country, "")] + [(page.vol(supply[r, k]), "num") for r in range(len(labelled))]
                    + [(page.vol(supply[r, k] - supply[0, k], sign=True), "num") for r in range(1, len(labelled))])
    totals = supply.sum(axis=1)
    total = cat("word.total")
    body.append([(total, "")] + [(page.vol(t), "num") for t in totals]
                + [(page.vol(t - totals[0], sign=True), "num") for t in totals[1:]])
    basins = sorted({str(ds.attrs.get("basin", "")) for _, ds in labelled})
    note = _note(cat("note.different_basins", basins=", ".join(basins))) if len(basins) > 1 else ""
    return ('<section id="comparison">' + f"<h2>{_e(cat('h.comparison', unit=page.u))}</h2>"
            + note + _table(head, body, "comparison", total=total)
            + _img(_png(fig_comparison(labelled, countries, supply, page)),
                   cat("alt.comparison", unit=page.u), cat("cap.comparison", first=tags[0], unit=page.u),
                   "comparison")
            + "</section>")


def _schematics(labelled: list[tuple[str, "xr.Dataset"]], page: Page) -> str:
    """The schematic of each basin, the first result of that basin giving the widths."""
    from waterdesk.analysis.schematic import mean_flows, net_of_result, schematic_figure

    tags = tx.letters(len(labelled))
    out = []
    done: set[tuple[Any, ...]] = set()
    for r, (_, ds) in enumerate(labelled):
        basin = str(ds.attrs.get("basin", ""))
        net = net_of_result(ds)
        if (net.nodes, net.reaches) in done:     # one drawing per network (variants of a basin share it)
            continue
        done.add((net.nodes, net.reaches))
        fig = schematic_figure(net, page.cat, mean_flows(ds), width_in=WIDTH_IN + 1.5, max_height_in=5.6)
        out.append(_img(_svg(fig), page.cat("alt.schematic", basin=basin, nodes=len(net.nodes),
                                             reaches=len(net.reaches)),
                        page.cat("cap.schematic", result=tags[r]), "schematic", extra="schematic"))
    return "".join(out)


def render(results: Sequence["xr.Dataset"], units: str = "mcm", lang: str = "en") -> str:
    """The report page as a string (see `report`)."""
    import matplotlib

    if units not in UNITS:
        raise ValueError(f"units must be mcm or km3, got {units!r}")
    page = Page(catalogue(lang), units)
    cat = page.cat
    labelled = _prepare(list(results))
    if not labelled:
        raise ValueError("report needs at least one result")
    tags = tx.letters(len(labelled))
    rc: Any = _RC   # matplotlib types its keys as a Literal of every rcParam name
    with matplotlib.rc_context(rc):
        schematic = _schematics(labelled, page)
        comparison = _comparison_html(labelled, page) if len(labelled) > 1 else ""
        sections = [_section(tags[r], label, ds, r, page) for r, (label, ds) in enumerate(labelled)]
    names = ", ".join(label for label, _ in labelled)
    basins = ", ".join(dict.fromkeys(str(ds.attrs.get("basin", "")) for _, ds in labelled))
    legend = "".join(f'<li><a href="#result-{r}"><b>{t}</b></a> = {_e(label)}: {_e(ds.attrs.get("title", ""))}</li>'
                     for r, (t, (label, ds)) in enumerate(zip(tags, labelled)))
    return ("<!DOCTYPE html>\n"
            f'<html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(cat('page.title', basins=basins, names=names))}</title>"
            f"<style>{_CSS}</style></head><body>"
            f"<h1>{_e(cat('page.heading', basins=basins))}</h1>"
            f'<ul class="legend">{legend}</ul>'
            + schematic
            + _note(cat("page.units", unit=page.u, flow=cat.unit("m3 s-1"), energy=cat.unit("GWh")))
            + comparison + "".join(sections) + "</body></html>\n")


def report(results: Sequence[Any], path: str | os.PathLike[str], units: str = "mcm", lang: str = "en") -> Path:
    """Write one self-contained HTML report of `results` to `path`; returns the path.

    Parameters
    ----------
    results : list of xarray.Dataset (or of result file paths, opened by waterdesk.io)
        A Dataset is labelled by its ``report_label`` attribute, else its scenario name; a
        file by its name without suffix. With several results (named A, B, C on the
        page), the page has a comparison against the first.
    path : where to write the page; written to ``<path>.part`` first, then renamed.
    units : "mcm" or "km3", the page's volume unit.
    lang : "en" or "ru", the page's language (waterdesk/i18n catalogues).
    """
    from waterdesk.io.atomic import write_text
    from waterdesk.io.netcdf import open_result

    if not isinstance(results, (list, tuple)):
        results = [results]
    datasets = [item if hasattr(item, "data_vars") else
                open_result(item).assign_attrs(report_label=Path(item).stem) for item in results]
    return write_text(path, render(datasets, units, lang))
