"""`waterdesk inflows generate BASIN --years N --members M --seed S -o FILE`."""
from __future__ import annotations

from pathlib import Path

import click

import waterdesk as wd
from waterdesk.cli import _options


@click.group()
def inflows() -> None:
    """Inflow data: stochastic ensembles."""


@inflows.command()
@click.argument("basin")
@click.option("--years", type=int, required=True, help="Length of each member [years of 12 months].")
@click.option("--members", type=int, default=1, show_default=True, help="Number of members.")
@click.option("--seed", type=int, required=True, help="Random seed: the same seed gives the same file.")
@click.option("--start", default=None, help="First month, YYYY-MM (default: the historical start).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="NetCDF file to write, inflow(member, time, node) [m3 s-1].")
@_options.quiet
@click.pass_context
def generate(ctx: click.Context, basin: str, years: int, members: int, seed: int,
             start: str | None, output: str, quiet: bool) -> None:
    """Generate MEMBERS stochastic monthly inflow series for BASIN (a basin directory, its
    basin.toml, an inflow file or a shipped basin's name) keeping its monthly means and
    standard deviations, lag-1 autocorrelation and cross-site correlation (lognormal
    multi-site AR(1), docs/ENSEMBLES.md). A scenario picks one with ``inflows.member``."""
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds = wd.generate_inflows(basin, years=years, members=members, seed=seed, start=start, output=out)
    if not _options.is_quiet(ctx, quiet):
        click.echo(f"{out}: {members} members x {years} years x {ds.sizes['node']} inflow nodes "
                   f"from {ds['time'].values[0].astype('datetime64[M]')} (seed {seed})")
