"""The basin schematic: rivers and canals, reservoirs, demands, gauges and sinks, drawn
as a layered, downhill layout of the network's DAG (issue 15).

The layout is grandalf's Sugiyama layout (layers by longest path from the sources,
crossings reduced by barycentre ordering, long edges routed through dummy vertices), so
water always flows down the page. Demands are coloured by country and marked by sector;
a reach whose ends lie in different countries is a border crossing and carries a bar
across its middle. With a result, each reach's width shows its mean flow (m3 s-1).

Pure functions of a `Basin` or a result Dataset: the figure is a
`matplotlib.figure.Figure` (no pyplot, no backend switching); the caller saves it.
Every node and edge artist has a ``gid`` (``node:ID``, ``reach:ID``, ``return:DEMAND``),
so the SVG names what it draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

    from waterdesk.i18n import Catalogue
    from waterdesk.model.basin import Basin

__all__ = ["Net", "net_of_basin", "net_of_result", "mean_flows", "layout", "schematic_figure"]

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), by country order
COUNTRY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")
KIND_MARKERS = {"inflow": ("o", 7.0), "junction": ("o", 3.5), "gauge": ("D", 7.5), "sink": ("s", 10.0),
                "reservoir": ("v", 13.0)}
SECTOR_MARKERS = {"irrigation": "o", "municipal": "P", "industry": "X", "environment": "h"}
OTHER_SECTOR_MARKER = "p"
RIVER_COLOUR, CANAL_COLOUR, RETURN_COLOUR = "#2b6a99", "#7f7f7f", "#9e9e9e"


@dataclass(frozen=True)
class Net:
    """What the schematic draws: nodes (id, kind, country, sector or ""), reaches
    (id, from, to, kind: river | canal), return flows (demand, node) and the countries."""

    title: str
    countries: tuple[str, ...]
    nodes: tuple[tuple[str, str, str, str], ...]
    reaches: tuple[tuple[str, str, str, str], ...]
    returns: tuple[tuple[str, str], ...]


def net_of_basin(basin: "Basin") -> Net:
    """The schematic's network of a basin."""
    nodes = tuple((n.id, n.kind, n.country, str(getattr(n, "sector", "")) if n.kind == "demand" else "")
                  for n in basin.nodes)
    reaches = tuple((r.id, r.from_node, r.to_node, r.kind) for r in basin.reaches)
    returns = tuple((d.id, d.return_to) for d in basin.demands if d.return_to)
    return Net(basin.title or basin.name, tuple(basin.countries), nodes, reaches, returns)


def net_of_result(ds: "xr.Dataset") -> Net:
    """The schematic's network as a result records it (its node, reach and demand coordinates)."""
    ids = [str(v) for v in ds["node"].values]
    kinds = [str(v) for v in ds["node_kind"].values]
    countries = [str(v) for v in ds["node_country"].values]
    sector = dict(zip((str(v) for v in ds["demand"].values), (str(v) for v in ds["demand_sector"].values)))
    nodes = tuple((i, k, c, sector.get(i, "") if k == "demand" else "") for i, k, c in zip(ids, kinds, countries))
    reach_kind = ([str(v) for v in ds["reach_kind"].values] if "reach_kind" in ds.coords
                  else ["river"] * ds.sizes["reach"])
    reaches = tuple((str(r), str(a), str(b), k) for r, a, b, k in zip(
        ds["reach"].values, ds["reach_from"].values, ds["reach_to"].values, reach_kind))
    returns = tuple((str(d), str(t)) for d, t in zip(ds["demand"].values, ds["demand_return_to"].values) if str(t))
    return Net(str(ds.attrs.get("basin", "")), tuple(str(c) for c in ds["country"].values), nodes, reaches, returns)


def mean_flows(ds: "xr.Dataset") -> dict[str, float]:
    """Each reach's mean inflow over the run [m3 s-1], weighted by step length; an
    ensemble result is averaged over its members first."""
    flow = ds["reach_flow"]
    if "member" in flow.dims:
        flow = flow.mean("member")
    bounds = ds["time_bounds"].values
    days = np.asarray((bounds[:, 1] - bounds[:, 0]) / np.timedelta64(1, "D"), dtype=float)
    values = np.asarray(flow.transpose("time", "reach").values, dtype=float)
    mean = (values * days[:, None]).sum(axis=0) / days.sum()
    return {str(r): float(q) for r, q in zip(ds["reach"].values, mean)}


# ------------------------------------------------------------------------------ layout

class _View:
    """grandalf's vertex/edge view: size in, position (and edge path) out."""

    def __init__(self, w: float = 1.0, h: float = 1.0) -> None:
        self.w, self.h = w, h
        self.xy: tuple[float, float] = (0.0, 0.0)
        self.path: list[tuple[float, float]] = []

    def setpath(self, pts: list[tuple[float, float]]) -> None:
        self.path = [(float(x), float(y)) for x, y in pts]


def layout(net: Net) -> tuple[dict[str, tuple[float, float]], dict[tuple[str, str], list[tuple[float, float]]]]:
    """Positions of the nodes (x right, y up; sources at the top, water flows down) and a
    polyline per edge (from, to), in layout units; separate components side by side."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    vertices = {n[0]: Vertex(n[0]) for n in net.nodes}
    pairs = list(dict.fromkeys([(a, b) for _, a, b, _ in net.reaches] + list(net.returns)))
    edges = {p: Edge(vertices[p[0]], vertices[p[1]]) for p in pairs}
    graph = Graph(list(vertices.values()), list(edges.values()))
    kind_of = {n[0]: n[1] for n in net.nodes}
    for nid, v in vertices.items():     # a labelled node's box holds the marker and its label, to the right
        v.view = _View(_box_width(nid, kind_of[nid]), 14.0)
    for e in edges.values():
        e.view = _View()
    pos: dict[str, tuple[float, float]] = {}
    offset = 0.0
    for comp in graph.C:
        sug = SugiyamaLayout(comp)
        sug.xspace, sug.yspace = 6.0, 22.0
        roots = [v for v in comp.sV if not v.e_in()]
        sug.init_all(roots=roots)
        sug.draw(N=6)
        xs = [v.view.xy[0] for v in comp.sV]
        shift = offset - min(xs)
        for v in comp.sV:   # the marker sits at the left of its box
            pos[v.data] = (v.view.xy[0] + shift - v.view.w / 2.0 + MARKER_PT, -v.view.xy[1])
        for e in comp.sE:
            key = (e.v[0].data, e.v[1].data)
            if key in edges and edges[key] is e:
                e.view.path = [(x + shift, -y) for x, y in e.view.path]
        offset += max(v.view.xy[0] + v.view.w / 2 for v in comp.sV) - min(xs) + 2 * LABEL_GAP_PT
    paths = {}
    for p, e in edges.items():
        mid = e.view.path[1:-1] if len(e.view.path) > 2 else []
        paths[p] = [pos[p[0]], *mid, pos[p[1]]]
    return pos, paths


#: layout units are points of the drawn figure: a label of n characters at LABEL_PT is
#: about n x CHAR_PT wide
LABEL_PT, CHAR_PT, MARKER_PT, LABEL_GAP_PT = 6.5, 3.75, 6.0, 10.0


def label(nid: str) -> str:
    """A node's label: its id, broken at the underscore nearest the middle when long."""
    if len(nid) <= 12 or "_" not in nid:
        return nid
    cuts = [i for i, ch in enumerate(nid) if ch == "_"]
    cut = min(cuts, key=lambda i: abs(i - len(nid) / 2))
    return nid[:cut + 1] + "\n" + nid[cut + 1:]


def _box_width(nid: str, kind: str) -> float:
    if kind == "junction":
        return 2 * MARKER_PT
    return 2 * MARKER_PT + CHAR_PT * max(len(line) for line in label(nid).split("\n")) + LABEL_GAP_PT


# ------------------------------------------------------------------------------ figure

def _country_colour(net: Net, country: str) -> str:
    k = net.countries.index(country) if country in net.countries else len(net.countries)
    return COUNTRY_COLOURS[k % len(COUNTRY_COLOURS)]


def schematic_figure(net: Net, cat: "Catalogue", flows: dict[str, float] | None = None,
                     width_in: float = 11.0, max_height_in: float = 8.0) -> "Figure":
    """The schematic as a matplotlib Figure (see the module docstring)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    pos, paths = layout(net)
    xs = np.array([p[0] for p in pos.values()])
    ys = np.array([p[1] for p in pos.values()])
    right = max(pos[n[0]][0] + (_box_width(n[0], n[1]) if n[1] != "junction" else 0.0) for n in net.nodes)
    span_x = max(right - float(xs.min()), 1.0)
    layers = len(set(np.round(ys, 3).tolist()))
    # layout units are points: a plot as wide as the layout keeps labels apart; a wider
    # layout is shrunk, and its labels with it (never below 4.5 pt)
    legend_in = 2.3
    scale = min(1.0, (width_in - legend_in) * 72.0 / (span_x + 2 * LABEL_GAP_PT + 60.0))
    fontsize = max(5.5, LABEL_PT * scale)
    plot_w = min(width_in - legend_in, (span_x + 80.0) / 72.0)
    height_in = float(np.clip(0.27 * layers, 3.0, max_height_in))   # layers closer than their points: labels are beside
    fig = Figure(figsize=(plot_w + legend_in, height_in + 0.5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    country_of = {n[0]: n[2] for n in net.nodes}
    qmax = max([q for q in (flows or {}).values() if np.isfinite(q)] + [0.0])

    def width(reach: str, base: float) -> float:
        if not flows or qmax <= 0:
            return base
        q = max(flows.get(reach, 0.0), 0.0)
        return 0.6 + 7.0 * float(np.sqrt(q / qmax))

    for rid, a, b, kind in net.reaches:
        pts = np.array(paths[(a, b)])
        canal = kind == "canal"
        ax.plot(pts[:, 0], pts[:, 1], color=CANAL_COLOUR if canal else RIVER_COLOUR,
                linewidth=width(rid, 1.2 if canal else 2.2), solid_capstyle="round",
                linestyle="-", zorder=1, gid=f"reach:{rid}")
        if country_of.get(a) != country_of.get(b):     # a border crossed: a bar across the middle
            mid = len(pts) // 2
            p, q = (pts[mid - 1], pts[mid]) if len(pts) > 2 else (pts[0], pts[-1])
            cx, cy = (p + q) / 2.0
            ax.plot([cx], [cy], marker="|" if abs(q[1] - p[1]) < abs(q[0] - p[0]) else "_",
                    markersize=14, markeredgewidth=2.4, color="#c00000", zorder=2, gid=f"border:{rid}")
    for demand, target in net.returns:
        pts = np.array(paths[(demand, target)])
        ax.plot(pts[:, 0], pts[:, 1], color=RETURN_COLOUR, linewidth=0.9, linestyle=(0, (2, 2)),
                zorder=0.5, gid=f"return:{demand}")
    for nid, kind, country, sector in net.nodes:
        x, y = pos[nid]
        colour = _country_colour(net, country)
        if kind == "demand":
            marker, size = SECTOR_MARKERS.get(sector, OTHER_SECTOR_MARKER), 8.5
        else:
            marker, size = KIND_MARKERS.get(kind, ("o", 6.0))
        face = "white" if kind == "inflow" else colour
        ax.plot([x], [y], marker=marker, markersize=size, markerfacecolor=face, markeredgecolor="#222222"
                if kind not in ("inflow",) else colour, markeredgewidth=1.4 if kind == "inflow" else 0.7,
                linestyle="none", zorder=3, gid=f"node:{nid}")
        if kind != "junction":
            ax.annotate(label(nid), (x, y), xytext=(size / 2.0 + 1.5, 0), textcoords="offset points",
                        linespacing=0.95, bbox={"boxstyle": "square,pad=0.05", "facecolor": "white",
                                                "edgecolor": "none", "alpha": 0.75},
                        fontsize=fontsize,
                        va="center", ha="left", color="#222222", zorder=4)
    ax.set_xlim(float(xs.min()) - 15.0, right + 5.0)
    ax.set_ylim(float(ys.min()) - 15.0, float(ys.max()) + 15.0)
    handles: list[Any] = [Patch(facecolor=_country_colour(net, c), edgecolor="#222222", label=c)
                          for c in net.countries]
    handles += [Line2D([], [], marker=KIND_MARKERS[k][0], markersize=min(KIND_MARKERS[k][1], 9.0),
                       markerfacecolor="white" if k == "inflow" else "#bbbbbb", markeredgecolor="#222222",
                       linestyle="none", label=cat(f"node.{k}"))
                for k in ("inflow", "reservoir", "gauge", "sink", "junction")
                if any(n[1] == k for n in net.nodes)]
    sectors = list(dict.fromkeys(n[3] for n in net.nodes if n[1] == "demand"))
    handles += [Line2D([], [], marker=SECTOR_MARKERS.get(s, OTHER_SECTOR_MARKER), markersize=8,
                       markerfacecolor="#bbbbbb", markeredgecolor="#222222", linestyle="none",
                       label=cat("schematic.demand_sector", sector=cat.term("sector", s))) for s in sectors]
    handles += [Line2D([], [], color=RIVER_COLOUR, linewidth=2.2, label=cat("schematic.river")),
                Line2D([], [], color=CANAL_COLOUR, linewidth=1.2, label=cat("schematic.canal")),
                Line2D([], [], color=RETURN_COLOUR, linewidth=0.9, linestyle=(0, (2, 2)),
                       label=cat("schematic.return")),
                Line2D([], [], color="#c00000", marker="|", markersize=12, markeredgewidth=2.4,
                       linestyle="none", label=cat("schematic.border"))]
    if flows and qmax > 0:
        for frac in (1.0, 0.25):
            q = qmax * frac
            handles.append(Line2D([], [], color=RIVER_COLOUR, linewidth=0.6 + 7.0 * float(np.sqrt(frac)),
                                  label=cat("schematic.mean_flow", flow=cat.num(q, 0))))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5,
              frameon=False, borderaxespad=0.2)
    title = cat("schematic.title", basin=net.title)
    if flows:
        title += "; " + cat("schematic.title_flows")
    ax.set_title(title, loc="left", fontsize=10)
    return fig


def svg_counts(svg: str) -> dict[str, int]:
    """How many node, reach and return-flow artists an SVG written from `schematic_figure`
    holds (by their ids)."""
    import xml.etree.ElementTree as ET

    counts = {"node": 0, "reach": 0, "return": 0, "border": 0}
    for el in ET.fromstring(svg).iter():
        kind = str(el.get("id", "")).split(":", 1)[0]
        if ":" in str(el.get("id", "")) and kind in counts:
            counts[kind] += 1
    return counts
