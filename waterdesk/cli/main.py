"""The `waterdesk` command group: logging, --debug, and exceptions -> exit codes.

Exit codes (SPEC §9): 0 success; 2 bad input or usage (one line per problem,
``file: location: message``, no traceback); 3 infeasible; 1 internal error.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click

from waterdesk import __version__
from waterdesk.errors import InfeasibleError, InputError


@contextmanager
def exit_codes(debug: bool) -> Iterator[None]:
    """Map waterdesk's exceptions to exit codes in one place."""
    try:
        yield
    except InputError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(2) from None
    except InfeasibleError as err:
        click.echo(f"infeasible: {err}", err=True)
        raise SystemExit(3) from None
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
        raise
    except KeyboardInterrupt:
        click.echo("interrupted; no result written", err=True)
        raise SystemExit(130) from None
    except Exception:
        if debug:
            raise
        click.echo("internal error (rerun with --debug for a traceback)", err=True)
        raise SystemExit(1) from None


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        with exit_codes(bool(ctx.params.get("debug"))):
            return super().invoke(ctx)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="waterdesk")
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bar or summary.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, debug: bool) -> None:
    """waterdesk: route, store and divide a shared river's water under its agreements."""
    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    ctx.obj = {"quiet": quiet, "verbose": verbose, "debug": debug}


from waterdesk.cli import basins, compare, ledger, report, run, schema, validate  # noqa: E402  (register commands)
from waterdesk.cli import inflows as _inflows  # noqa: E402
from waterdesk.cli import batch as _batch  # noqa: E402
from waterdesk.cli import schematic as _schematic  # noqa: E402

cli.add_command(run.run)
cli.add_command(compare.compare)
cli.add_command(ledger.ledger)
cli.add_command(report.report)
cli.add_command(validate.validate)
cli.add_command(basins.basins)
cli.add_command(schema.schema)
cli.add_command(_inflows.inflows)
cli.add_command(_batch.batch)
cli.add_command(_schematic.schematic)
