"""`waterdesk run SCENARIO... [-o OUT]`: run, write the result, print a summary."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

import waterdesk as wd
from waterdesk.cli import _options

if TYPE_CHECKING:
    from waterdesk import Scenario


def _output_path(scenario: "Scenario", output: str | None, several: bool) -> Path:
    name = scenario.name
    if output:
        out = Path(output)
        if several or out.is_dir() or output.endswith(("/", "\\")):
            return out / f"{name}.nc"
        return out
    configured = scenario.output_path
    return Path(configured) if configured else Path("out") / f"{name}.nc"


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path())
@_options.output
@_options.lang
@_options.quiet
@click.pass_context
def run(ctx: click.Context, scenarios: tuple[str, ...], output: str | None, lang: str, quiet: bool) -> None:
    """Run SCENARIO files and write their results as NetCDF.

    The result goes to -o, else the scenario's [output].path, else out/<name>.nc.
    With several scenarios, -o names a directory.
    """
    quiet = _options.is_quiet(ctx, quiet)
    loaded = [wd.load_scenario(path) for path in scenarios]   # check all before running any
    several = len(loaded) > 1
    for scenario in loaded:
        target = _output_path(scenario, output, several)
        started = time.perf_counter()
        n_steps = len(scenario.steps) * max(1, len(scenario.members))
        show_bar = not quiet and sys.stderr.isatty()
        if show_bar:
            with click.progressbar(length=n_steps, label=f"{scenario.name}", file=sys.stderr,
                                   show_pos=True) as bar:
                result = wd.run(scenario, output=target, progress=bar.update)
        else:
            result = wd.run(scenario, output=target)
        if not quiet:
            click.echo(wd.run_summary(result, target, time.perf_counter() - started, lang=lang))
