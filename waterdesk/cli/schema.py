"""`waterdesk schema basin|scenario|sweep`: print the JSON Schema of a file kind."""
from __future__ import annotations

import json

import click

import waterdesk as wd


@click.command()
@click.argument("kind", type=click.Choice(["basin", "scenario", "sweep"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a KIND of file, for editors that check TOML as you type."""
    click.echo(json.dumps(wd.json_schema(kind), indent=2))
