"""Shipped basins: every figure cited, every node reached and draining, inflow totals
matching the published natural flow, and baseline headline numbers pinned.

Regenerate the snapshots after an intended change with
``python tests/test_basins.py --update`` and review the diff.
"""
from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
BASINS = sorted((ROOT / "basins").glob("*/basin.toml"))
BASIN_FILES = sorted((ROOT / "basins").glob("*/basin*.toml"))   # variants too (e.g. basin-rogun.toml)
SNAPSHOTS = ROOT / "tests" / "data" / "snapshots"

#: published mean annual natural inflow of each basin [km3/yr], and where it comes from
PUBLISHED_KM3 = {
    "chu-talas": (8.0, "ZOI: Chu + Talas total annual discharge ~8 km3"),
    "syr-darya": (37.2, "UNESCO2003: natural surface flow formation 37.203 km3/yr"),
    "amu-darya": (79.3, "UNESCO2003: natural surface flow formation 79.280 km3/yr"),
}

#: keys whose values are figures and must carry a source or an ASSUMPTION label
FIGURE_KEY = re.compile(r"^\s*(\w+_(mcm|m3s|km2|mw|gwh|m|mm|days)|area_curve|head_curve|efficiency|"
                        r"consumptive_fraction|loss_fraction|k_days|x|monthly_mcm)\s*=")


def _source_keys() -> set[str]:
    text = (ROOT / "basins" / "SOURCES.md").read_text("utf-8")
    keys = set()
    for line in text.splitlines():
        if line.startswith("- "):
            for part in line[2:].split(";"):
                match = re.match(r"\s*([A-Z][A-Z0-9\-]+)\s", part.strip() + " ")
                if match:
                    keys.add(match.group(1))
    return keys


def _ids(paths: list[Path]) -> list[str]:
    return [p.parent.name for p in paths]


@pytest.mark.parametrize("basin", BASIN_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in BASIN_FILES])
def test_every_figure_carries_a_source_or_an_assumption_label(basin):
    """A figure line must have, on the line or in the comment lines just above it, a
    source key from basins/SOURCES.md or the word ASSUMPTION."""
    keys = _source_keys()
    lines = basin.read_text("utf-8").splitlines()
    missing = []
    for number, line in enumerate(lines, start=1):
        if not FIGURE_KEY.match(line):
            continue
        context = [line]
        above = number - 2
        while above >= 0 and lines[above].lstrip().startswith("#"):
            context.append(lines[above])
            above -= 1
        text = " ".join(context)
        cited = "ASSUMPTION" in text or any(re.search(rf"\b{re.escape(k)}\b", text) for k in keys)
        if not cited:
            missing.append(f"{basin.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not missing, "figures without a source key or ASSUMPTION label:\n" + "\n".join(missing)


@pytest.mark.parametrize("basin", BASIN_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in BASIN_FILES])
def test_every_node_is_reached_by_water_and_drains(basin):
    import waterdesk as wd

    b = wd.load_basin(basin)           # validation already checks that nodes drain to a sink
    down: dict[str, set[str]] = {n.id: set() for n in b.nodes}
    for r in b.reaches:
        down[r.from_node].add(r.to_node)
    for d in b.demands:
        if d.return_to:
            down[d.id].add(d.return_to)
    reached = {n.id for n in b.nodes if n.kind == "inflow"}
    frontier = list(reached)
    while frontier:
        for nxt in down[frontier.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    assert reached == set(down), f"no water ever reaches: {sorted(set(down) - reached)}"


@pytest.mark.parametrize("basin", [b for b in BASINS if b.parent.name in PUBLISHED_KM3],
                         ids=_ids([b for b in BASINS if b.parent.name in PUBLISHED_KM3]))
def test_inflow_total_matches_the_published_natural_flow(basin):
    name = basin.parent.name
    published, source = PUBLISHED_KM3[name]
    info = tomllib.loads(basin.read_text("utf-8"))["basin"]
    with xr.open_dataset(basin.parent / info["inflows"]) as ds:
        da = ds["inflow"].load()
    days = (da["time"].dt.days_in_month).values.astype(float)
    km3 = (da.values * days[:, None] * 86400.0).sum() / 1e9
    years = len(days) / 12.0
    mean = km3 / years
    assert abs(mean - published) <= 0.05 * published, f"{mean:.2f} km3/yr vs {published} ({source})"


#: published mean flows at gauges [m3/s]: basin, node, natural or managed (observed with
#: the use upstream), value, source
PUBLISHED_AT = [
    ("kura-araks", "kura_tbilisi", "natural_flow", 204.0, "UNECE-DRAFT: Kura at Tbilisi, Qav 1936-90"),
    ("kura-araks", "kura_border", "node_flow", 276.0, "UNECE-DRAFT: Kura at the GE/AZ border"),
    ("kura-araks", "iori_salahly", "node_flow", 11.6, "IORI: Iori at Salahly, 43 km above the mouth"),
]


@pytest.mark.parametrize("basin, node, variable, published, source", PUBLISHED_AT,
                         ids=[f"{b}/{n}" for b, n, *_ in PUBLISHED_AT])
def test_flow_matches_published_means_at_gauges(basin, node, variable, published, source):
    """Where a basin's total has no single agreed figure (Kura-Araks: the outlet is 575
    m3/s in one source, inconsistent with its gauged tributaries; see its README),
    the natural flow at the published gauges is checked instead."""
    import waterdesk as wd

    scenario = wd.load_scenario(ROOT / "scenarios" / basin / "baseline.toml")
    ds = wd.run(scenario.replace(start="1990-10-01", end="2020-09-30"))
    days = (ds["time_bounds"].values[:, 1] - ds["time_bounds"].values[:, 0]) / np.timedelta64(1, "D")
    mean = float((ds[variable].sel(node=node).values * days).sum() / days.sum())
    assert abs(mean - published) <= 0.05 * published, f"{mean:.1f} m3/s vs {published} ({source})"


def _headline(ds: xr.Dataset) -> dict[str, float]:
    """Per-country supply, inflow to each sink and end storage of each reservoir [mcm]."""
    days = (ds["time_bounds"].values[:, 1] - ds["time_bounds"].values[:, 0]) / np.timedelta64(1, "D")
    out = {f"supplied {c}": float(ds["withdrawal_by_country"].sel(country=c).sum()) for c in ds.country.values}
    for n, kind in zip(ds.node.values, ds["node_kind"].values):
        if kind == "sink":
            out[f"into sink {n}"] = float((ds["node_flow"].sel(node=n).values * days * 0.0864).sum())
    for r in ds.reservoir.values:
        out[f"end storage {r}"] = float(ds["storage"].sel(reservoir=r).values[-1])
    return out


BASELINES = sorted((ROOT / "scenarios").glob("*/baseline.toml"))


@pytest.mark.parametrize("scenario", BASELINES, ids=_ids(BASELINES))
def test_baseline_headline_numbers_match_their_snapshot(scenario):
    """Changes in a baseline's headline numbers show up in review (update with --update)."""
    import waterdesk as wd

    snapshot = SNAPSHOTS / f"{scenario.parent.name}-baseline.json"
    got = _headline(wd.run(scenario))
    assert snapshot.exists(), f"no snapshot {snapshot.name}: run python tests/test_basins.py --update"
    want = json.loads(snapshot.read_text())
    assert set(got) == set(want)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-6, abs=1e-3), key


if __name__ == "__main__" and "--update" in sys.argv:
    import waterdesk as wd

    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for scenario in BASELINES:
        path = SNAPSHOTS / f"{scenario.parent.name}-baseline.json"
        path.write_text(json.dumps(_headline(wd.run(scenario)), indent=1, sort_keys=True) + "\n")
        print("wrote", path)
