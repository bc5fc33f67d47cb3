"""`waterdesk ledger RESULT.nc|SUMMARY.nc|DIR [--format text|csv|json] [--units mcm|km3] [--lang en|ru]
[--table NAME]`."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

import waterdesk as wd
from waterdesk.cli import _options

if TYPE_CHECKING:
    from waterdesk.analysis.accounts import Table

TABLES = ("parties", "clauses", "demand_met", "equity", "reservoirs", "salinity")
#: tables of a batch summary (waterdesk.analysis.ensemble.ENSEMBLE_TABLES)
SUMMARY_TABLES = ("status", "clause_probability", "window_probability", "supply_probability", "runs")

format_option = click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text",
                             show_default=True, help="text: aligned tables; csv: one table for a spreadsheet; "
                                                     "json: explicit keys and units.")
units_option = click.option("--units", type=click.Choice(["mcm", "km3"]), default="mcm", show_default=True,
                            help="Unit of volumes (energy stays in GWh).")


def render(tables: "list[Table]", fmt: str, units: str, lang: str = "en",
           sources: "dict[str, str] | None" = None) -> str:
    """Tables as text for a reader in `lang` (blank line between; at most 132 columns),
    CSV (the first table) or one JSON document; CSV and JSON keep their machine keys."""
    if fmt == "json":
        return json.dumps({"units": {"volume": units, "energy": "GWh"},
                           "tables": {t.name: t.to_dict() for t in tables}}, indent=2, allow_nan=False)
    if fmt == "csv":
        return tables[0].to_csv().rstrip("\n")
    return wd.to_text(tables, units, lang, sources)


@click.command()
@click.argument("result", type=click.Path(dir_okay=True))
@format_option
@units_option
@_options.lang
@click.option("--table", "which", type=click.Choice(("all",) + TABLES + SUMMARY_TABLES), default=None,
              help="Only this table (default: all; with --format csv: parties, or "
                   "window_probability for a batch summary).")
def ledger(result: str, fmt: str, units: str, lang: str, which: str | None) -> None:
    """Compliance ledger of RESULT: per party and water year entitlement, delivered,
    deviation and running balance; per clause compliance; demand met, equity and
    reservoir outcomes.

    Given a batch summary (DIR/summary.nc or DIR), per combination of the varied values:
    the probability of compliance of each clause per window (and its minimum and mean),
    the probability of full supply per country and water year, and runs per status."""
    kind, ds = wd.open_result_or_summary(result)
    tables = wd.ledger(ds, units)
    names: tuple[str, ...]
    if kind == "summary":
        default, names = "window_probability", SUMMARY_TABLES
    else:
        default, names = "parties", TABLES
    if which is None:
        which = default if fmt == "csv" else "all"
    if fmt == "csv" and which == "all":
        raise click.BadParameter("csv holds one table: choose one with --table", param_hint="--table")
    if which != "all" and (which not in names or which not in tables):
        raise click.BadParameter(f"{which} is not a table of a {kind}; choose one of {', '.join(names)}",
                                 param_hint="--table")
    chosen = list(tables.values()) if which == "all" else [tables[which]]
    click.echo(render(chosen, fmt, units, lang))
