"""`waterdesk schematic`: every shipped basin is drawn, with as many nodes, reaches and
return flows in the SVG as its basin file declares, laid out downhill (issue 15)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import waterdesk as wd
from waterdesk.analysis.schematic import layout, net_of_basin, net_of_result, svg_counts
from waterdesk.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
BASINS = sorted((ROOT / "basins").glob("*/basin*.toml"))


def _declared(path: Path) -> dict[str, int]:
    """Counts straight from the TOML tables, independently of the loader."""
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    nodes = doc.get("node", [])
    return {"node": len(nodes), "reach": len(doc.get("reach", [])),
            "return": sum(1 for n in nodes if n.get("kind") == "demand" and n.get("return_to"))}


@pytest.mark.parametrize("path", BASINS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_schematic_of_each_shipped_basin_has_its_nodes_and_reaches(path, tmp_path):
    out = wd.schematic(path, tmp_path / "s.svg")
    svg = out.read_text(encoding="utf-8")
    declared = _declared(path)
    counts = svg_counts(svg)
    assert counts["node"] == declared["node"] and declared["node"] > 5
    assert counts["reach"] == declared["reach"]
    assert counts["return"] == declared["return"]
    # a border mark on exactly the reaches whose two ends lie in different countries
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    country = {n["id"]: n["country"] for n in doc["node"]}
    assert counts["border"] == sum(1 for r in doc["reach"] if country[r["from"]] != country[r["to"]])


@pytest.mark.parametrize("path", BASINS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_layout_flows_downhill(path):
    """Every river and canal runs from a higher to a lower layer of the page."""
    net = net_of_basin(wd.load_basin(path))
    pos, paths = layout(net)
    assert set(pos) == {n[0] for n in net.nodes}
    for _, a, b, _ in net.reaches:
        assert pos[a][1] > pos[b][1], (a, b)
        assert paths[(a, b)][0] == pos[a] and paths[(a, b)][-1] == pos[b]


def test_the_layout_is_deterministic():
    net = net_of_basin(wd.load_basin(ROOT / "basins" / "syr-darya" / "basin.toml"))
    assert layout(net) == layout(net)


def test_widths_from_a_result_and_the_cli(tmp_path):
    scenario = wd.load_scenario(ROOT / "scenarios" / "chu-talas" / "baseline.toml").replace(end="2001-09-30")
    result = wd.run(scenario, output=tmp_path / "r.nc")
    # the result records the same network as the basin file (node, reach and their kinds)
    from_result, from_basin = net_of_result(result), net_of_basin(scenario.basin)
    assert from_result.nodes == from_basin.nodes and from_result.reaches == from_basin.reaches
    assert from_result.returns == from_basin.returns and from_result.countries == from_basin.countries
    runner = CliRunner()
    res = runner.invoke(cli, ["schematic", str(ROOT / "basins" / "chu-talas" / "basin.toml"), "-o",
                              str(tmp_path / "s.png"), "--result", str(tmp_path / "r.nc"), "--lang", "ru"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a result of another network, or another suffix: exit 2, one line, nothing written
    res = runner.invoke(cli, ["schematic", str(ROOT / "basins" / "syr-darya" / "basin.toml"), "-o",
                              str(tmp_path / "t.svg"), "--result", str(tmp_path / "r.nc")])
    assert res.exit_code == 2 and "another network" in res.output and not (tmp_path / "t.svg").exists()
    res = runner.invoke(cli, ["schematic", str(ROOT / "basins" / "chu-talas" / "basin.toml"), "-o",
                              str(tmp_path / "t.pdf")])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.part"))
