"""Options shared by several commands, defined once."""
from __future__ import annotations

import click

quiet = click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
output = click.option("-o", "--output", type=click.Path(dir_okay=True, writable=True),
                      help="Result file (or directory when several scenarios are run).")

lang = click.option("--lang", type=click.Choice(["en", "ru"]), default="en", show_default=True,
                    help="Language of headings, notes and numbers (CSV and JSON keep their keys).")


def is_quiet(ctx: click.Context, local: bool) -> bool:
    """Quiet if asked on the command or the group."""
    return local or bool((ctx.find_root().obj or {}).get("quiet"))
