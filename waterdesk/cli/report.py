"""`waterdesk report RESULT.nc [B.nc ...] -o report.html`: one self-contained HTML page."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

import waterdesk as wd
from waterdesk.cli import _options

if TYPE_CHECKING:
    import xarray as xr


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="report.html",
              show_default=True, help="HTML file to write (atomically).")
@click.option("--units", type=click.Choice(["mcm", "km3"]), default="mcm", show_default=True,
              help="Volume unit of the page's tables and figures.")
@_options.lang
@_options.quiet
@click.pass_context
def report(ctx: click.Context, results: tuple[str, ...], output: str, units: str, lang: str, quiet: bool) -> None:
    """Write an HTML report of RESULT files (NetCDF written by `waterdesk run`).

    One page, figures embedded, no network needed, printable on A4: the basin schematic,
    then (several files, named A, B, C) a comparison against A, then per result its
    provenance, supply per country, reservoirs, deliveries, clauses with a compliance
    calendar, the ledger per country and water year, and flows at the gauges. Exit 2 (one
    line per problem) when a file is not a readable waterdesk result.

    Given one batch summary (DIR/summary.nc or DIR) instead: the probability of compliance
    per clause and window, of full supply per country, and a run table (in English).
    """
    opened: list[xr.Dataset] = []
    problems = []
    summaries: list[xr.Dataset] = []
    for path in results:   # open all first, so every bad file is named at once
        try:
            kind, ds = wd.open_result_or_summary(path)
            (summaries if kind == "summary" else opened).append(ds)
        except wd.InputError as err:
            problems += err.problems
    if summaries and len(results) > 1 and not problems:
        problems.append(wd.Problem(Path(results[0]), None, "",
                                   "a batch summary is reported on its own; give it alone"))
    if problems:
        for problem in wd.InputError(problems).problems:
            click.echo(str(problem), err=True)
        raise SystemExit(2)
    if summaries:
        target = wd.report(summaries[0], output, units=units)
        if not _options.is_quiet(ctx, quiet):
            what = ("ensemble result" if str(summaries[0].attrs.get("source", "")).startswith("ensemble")
                    else "batch summary")
            click.echo(f"wrote {target} ({what}, {summaries[0].sizes['run']} runs)")
        return
    labelled = [ds.assign_attrs(report_label=Path(p).stem) for ds, p in zip(opened, results)]
    target = wd.report(labelled, output, units=units, lang=lang)
    if not _options.is_quiet(ctx, quiet):
        click.echo(f"wrote {target} ({len(opened)} result{'s' if len(opened) > 1 else ''})")
