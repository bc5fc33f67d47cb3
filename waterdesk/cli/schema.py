"""`waterdesk schema basin|scenario|sweep`: print the JSON Schema of a file kind."""
from __future__ import annotations

import json

import click


@click.command()
@click.argument("kind", type=click.Choice(["basin", "scenario", "sweep"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a KIND of file, for editors that check TOML as you type."""
    from waterdesk.io.schema import json_schema
    from waterdesk.io.sweep import sweep_json_schema

    click.echo(json.dumps(sweep_json_schema() if kind == "sweep" else json_schema(kind), indent=2))
