"""`waterdesk basins`: list shipped basins and their scenarios."""
from __future__ import annotations

import tomllib
from pathlib import Path

import click


def _roots(root: str | None) -> Path:
    if root:
        return Path(root)
    here = Path.cwd()
    if (here / "basins").is_dir():
        return here
    return Path(__file__).resolve().parents[2]   # source checkout / editable install


@click.command()
@click.option("--root", type=click.Path(file_okay=False, exists=True),
              help="Folder holding basins/ and scenarios/ (default: here, else the waterdesk checkout).")
def basins(root: str | None) -> None:
    """List shipped basins and, under each, its scenarios with the question each answers."""
    base = _roots(root)
    basin_files = sorted((base / "basins").glob("*/basin.toml"))
    if not basin_files:
        raise click.ClickException(f"no basins found under {base / 'basins'}")
    for basin_file in basin_files:
        data = tomllib.loads(basin_file.read_text("utf-8"))
        info = data.get("basin", {})
        countries = ", ".join(info.get("countries", []))
        click.echo(f"{info.get('name', basin_file.parent.name)}: {info.get('title', '')} "
                   f"[{countries}; {len(data.get('node', []))} nodes]  {basin_file.relative_to(base)}")
        for scen in sorted((base / "scenarios" / basin_file.parent.name).glob("*.toml")):
            whole = tomllib.loads(scen.read_text("utf-8"))
            sdata = whole.get("scenario", whole.get("sweep", {}))
            question = sdata.get("description") or sdata.get("title", "")
            if "sweep" in whole:
                question = f"(sweep, `waterdesk batch`) {question}"
            click.echo(f"  {scen.relative_to(base)}: {question}")
