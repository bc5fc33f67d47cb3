"""`waterdesk report RESULT.nc [B.nc ...] -o report.html`: one self-contained HTML page."""
from __future__ import annotations

from pathlib import Path

import click

from waterdesk.cli import _options


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="report.html",
              show_default=True, help="HTML file to write (atomically).")
@click.option("--units", type=click.Choice(["mcm", "km3"]), default="mcm", show_default=True,
              help="Volume unit of the page's tables and figures.")
@_options.quiet
@click.pass_context
def report(ctx: click.Context, results: tuple[str, ...], output: str, units: str, quiet: bool) -> None:
    """Write an HTML report of RESULT files (NetCDF written by `waterdesk run`).

    One page, figures embedded, no network needed: provenance, supply per country,
    reservoirs, clauses with a compliance calendar, flows at border gauges; with several
    files, a comparison against the first. Exit 2 (one line per problem) when a file is
    not a readable waterdesk result.
    """
    import waterdesk as wd
    from waterdesk.analysis.report import report as write_report

    opened = []
    problems = []
    for path in results:   # open all first, so every bad file is named at once
        try:
            opened.append(wd.open_result(path))
        except wd.InputError as err:
            problems += err.problems
    if problems:
        for problem in wd.InputError(problems).problems:
            click.echo(str(problem), err=True)
        raise SystemExit(2)
    labelled = [ds.assign_attrs(report_label=Path(p).stem) for ds, p in zip(opened, results)]
    target = write_report(labelled, output, units=units)
    if not _options.is_quiet(ctx, quiet):
        click.echo(f"wrote {target} ({len(opened)} result{'s' if len(opened) > 1 else ''})")
