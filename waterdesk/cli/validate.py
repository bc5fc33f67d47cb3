"""`waterdesk validate FILE...`: check basin and scenario files, list every problem."""
from __future__ import annotations

import click

import waterdesk as wd


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Check basin or scenario FILES; print every problem as file:line: where: message.

    Exits 2 if any file has a problem. A good file is said to be ok, with a note where it
    deserves one (reservoirs without evaporation).
    """
    problems = []
    quiet = bool((ctx.find_root().obj or {}).get("quiet"))
    for path in files:
        notes: list[str] = []
        found = wd.validate([path], notes=notes)
        problems += found
        if not found and not quiet:
            click.echo(f"{path}: ok")
            for note in notes:
                click.echo(note)
    if problems:
        raise wd.InputError(problems)
