"""`waterdesk batch SWEEP.toml -o DIR [--workers N] [--scheduler ADDRESS]`: run a sweep."""
from __future__ import annotations

import sys

import click

import waterdesk as wd
from waterdesk.cli import _options


@click.command()
@click.argument("sweep_file", metavar="SWEEP", type=click.Path())
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory of the run files (<run-id>.nc) and summary.nc.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes of a local pool.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Address of a running Dask scheduler (tcp://host:8786); runs go to its workers.")
@_options.quiet
@click.pass_context
def batch(ctx: click.Context, sweep_file: str, out_dir: str, workers: int, scheduler: str | None,
          quiet: bool) -> None:
    """Run every combination of the values a SWEEP file varies (docs/REFERENCE.md §9).

    Each run is written to DIR/<run-id>.nc and the summary to DIR/summary.nc. Rerunning
    skips finished runs; a failed run is recorded in DIR/<run-id>.failed.json and in the
    summary, and the others go on.
    """
    quiet = _options.is_quiet(ctx, quiet)
    if scheduler is not None and workers != 1:
        raise click.BadParameter("give either --workers or --scheduler", param_hint="--workers")
    sweep = wd.load_sweep(sweep_file)
    n_runs = len(sweep.runs())
    if not quiet and sys.stderr.isatty():
        with click.progressbar(length=n_runs, label="runs", file=sys.stderr, show_pos=True) as bar:
            summary = wd.run_sweep(sweep, out_dir, workers=workers, scheduler=scheduler, progress=bar.update)
    else:
        summary = wd.run_sweep(sweep, out_dir, workers=workers, scheduler=scheduler)
    statuses = [str(s) for s in summary["status"].values]
    for run_id, status, reason in zip(summary["run"].values, statuses, summary["reason"].values):
        if status != "ok":
            click.echo(f"{run_id}: {status}: {reason}", err=True)
    if not quiet:
        n_ok = statuses.count("ok")
        click.echo(f"{n_ok} of {len(statuses)} runs ok; summary: {out_dir}/summary.nc")
