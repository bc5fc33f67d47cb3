"""`waterdesk ledger RESULT.nc [--format text|csv|json] [--units mcm|km3] [--table NAME]`."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from waterdesk.analysis.accounts import Table

TABLES = ("parties", "clauses", "demand_met", "equity", "reservoirs")

format_option = click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text",
                             show_default=True, help="text: aligned tables; csv: one table for a spreadsheet; "
                                                     "json: explicit keys and units.")
units_option = click.option("--units", type=click.Choice(["mcm", "km3"]), default="mcm", show_default=True,
                            help="Unit of volumes (energy stays in GWh).")


def render(tables: "list[Table]", fmt: str, units: str) -> str:
    """Tables as text (blank line between), CSV (the first table) or one JSON document."""
    if fmt == "json":
        return json.dumps({"units": {"volume": units, "energy": "GWh"},
                           "tables": {t.name: t.to_dict() for t in tables}}, indent=2, allow_nan=False)
    if fmt == "csv":
        return tables[0].to_csv().rstrip("\n")
    return "\n\n".join(t.to_text() for t in tables)


@click.command()
@click.argument("result", type=click.Path(dir_okay=False))
@format_option
@units_option
@click.option("--table", "which", type=click.Choice(("all",) + TABLES), default=None,
              help="Only this table (default: all; with --format csv: parties).")
def ledger(result: str, fmt: str, units: str, which: str | None) -> None:
    """Compliance ledger of RESULT: per party and water year entitlement, delivered,
    deviation and running balance; per clause compliance; demand met, equity and
    reservoir outcomes."""
    import waterdesk as wd
    from waterdesk.analysis import accounts

    ds = wd.open_result(result)
    tables = {**accounts.ledger(ds, units), **accounts.outcomes(ds, units)}
    if which is None:
        which = "parties" if fmt == "csv" else "all"
    if fmt == "csv" and which == "all":
        raise click.BadParameter("csv holds one table: choose one with --table", param_hint="--table")
    chosen = list(tables.values()) if which == "all" else [tables[which]]
    click.echo(render(chosen, fmt, units))
