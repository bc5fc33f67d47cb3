"""`waterdesk validate FILE...`: check basin and scenario files, list every problem."""
from __future__ import annotations

import click

from waterdesk.errors import InputError


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Check basin or scenario FILES; print every problem as file:line: where: message.

    Exits 2 if any file has a problem.
    """
    from waterdesk.checks import without_evaporation
    from waterdesk.io.load import load_any

    problems = []
    quiet = bool((ctx.find_root().obj or {}).get("quiet"))
    for path in files:
        try:
            loaded = load_any(path)
        except InputError as err:
            problems += err.problems
            continue
        if not quiet:
            click.echo(f"{path}: ok")
            basin = getattr(loaded, "basin", loaded)
            dry = without_evaporation(basin)   # type: ignore[arg-type]
            if dry:
                click.echo(f"{path}: note: no evaporation (no area_curve or evaporation_mm) at "
                           f"reservoir(s) {', '.join(dry)}")
    if problems:
        raise InputError(problems)
