"""`waterdesk schematic BASIN.toml -o FILE.svg|png [--result RUN.nc] [--lang en|ru]`."""
from __future__ import annotations

import click

from waterdesk.cli import _options


@click.command()
@click.argument("basin", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Figure to write: .svg or .png (written atomically).")
@click.option("--result", "result", type=click.Path(dir_okay=False),
              help="A result of this basin: reach widths show its mean flows (m3 s-1).")
@_options.lang
@_options.quiet
@click.pass_context
def schematic(ctx: click.Context, basin: str, output: str, result: str | None, lang: str, quiet: bool) -> None:
    """Draw the schematic of BASIN (a basin or scenario file): rivers and canals, reservoirs,
    demands by country (colour) and sector (marker), gauges, sinks and border crossings,
    laid out downhill. Exit 2 for a bad file or a result of another network."""
    import waterdesk as wd

    target = wd.schematic(basin, output, result=result, lang=lang)
    if not _options.is_quiet(ctx, quiet):
        click.echo(f"wrote {target}")
