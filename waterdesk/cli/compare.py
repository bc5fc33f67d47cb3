"""`waterdesk compare A.nc B.nc [C.nc ...] --by ... --format ... [--units ...] [-o diff.nc] [--force]`."""
from __future__ import annotations

from pathlib import Path

import click

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
    from waterdesk.analysis.compare import compare as _compare, to_dataset
    from waterdesk.errors import InputError, Problem

    if len(results) < 2:
        raise InputError([Problem("compare", None, "", f"needs at least two result files, got {len(results)}")])
    table = _compare(list(results), by=by, units=units, force=force)
    if output:
        _write(to_dataset(table), Path(output))
    tables = [table]
    if fmt == "text":   # results of runs with an [exchange] account show it below the comparison
        import waterdesk as wd
        from waterdesk.analysis.exchange import exchange_table

        for path in results:
            extra = exchange_table(wd.open_result(path), Path(path).stem)
            if extra is not None:
                tables.append(extra)
    click.echo(render(tables, fmt, units))


def _write(ds: "object", path: Path) -> None:
    """Write atomically (a comparison is not a result file)."""
    from waterdesk.io.atomic import atomic_path

    with atomic_path(path) as part:
        ds.to_netcdf(part, engine="netcdf4", format="NETCDF4")  # type: ignore[attr-defined]
