"""`waterdesk compare A.nc B.nc [C.nc ...] --by ... --format ... [--units ...] [--lang en|ru] [-o diff.nc] [--force]`."""
from __future__ import annotations

from pathlib import Path

import click

import waterdesk as wd
from waterdesk.cli import _options
from waterdesk.cli.ledger import format_option, render, units_option


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--by", type=click.Choice(["country", "demand", "clause", "reservoir", "salinity"]), default="country",
              show_default=True, help="What each row is.")
@format_option
@units_option
@_options.lang
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Also write the values and differences as NetCDF.")
@click.option("--force", is_flag=True, help="Compare results of different basins.")
def compare(results: tuple[str, ...], by: str, fmt: str, units: str, lang: str, output: str | None,
            force: bool) -> None:
    """Side-by-side totals of RESULTS per item and water year, and differences against the first.

    As text, the results are columns A, B, C (a legend names their files) and the
    differences B−A, C−A; the table fits 132 columns, wider ones wrap into blocks."""
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
    stems = [Path(p).stem for p in results]
    sources = {(stem if stems.count(stem) == 1 else p): p for stem, p in zip(stems, results)}
    click.echo(render(tables, fmt, units, lang, sources))
