"""`waterdesk compare A.nc B.nc [C.nc ...] --by ... --format ... [--units ...] [-o diff.nc] [--force]`."""
from __future__ import annotations

from pathlib import Path

import click

import waterdesk as wd
from waterdesk.cli.ledger import format_option, render, units_option


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--by", type=click.Choice(["country", "demand", "clause", "reservoir", "salinity"]), default="country",
              show_default=True, help="What each row is.")
@format_option
@units_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Also write the values and differences as NetCDF.")
@click.option("--force", is_flag=True, help="Compare results of different basins.")
def compare(results: tuple[str, ...], by: str, fmt: str, units: str, output: str | None, force: bool) -> None:
    """Side-by-side totals of RESULTS per item and water year, and differences against the first."""
    if len(results) < 2:
        raise wd.InputError([wd.Problem("compare", None, "",
                                        f"needs at least two result files, got {len(results)}")])
    table = wd.compare(list(results), by=by, units=units, force=force, output=output)
    tables = [table]
    if fmt == "text":   # results of runs with an [exchange] account show it below the comparison
        for path in results:
            extra = wd.exchange_table(path, Path(path).stem)
            if extra is not None:
                tables.append(extra)
    click.echo(render(tables, fmt, units))
