"""The `waterdesk` command group: logging, --debug, and exceptions -> exit codes.

Exit codes (docs/REFERENCE.md §9): 0 success; 2 bad input or usage (one line per problem,
``file: location: message``, no traceback); 3 infeasible; 1 internal error.

A command's module is imported only when that command runs (`_Group.get_command`), so
``waterdesk validate`` never loads the solver stack. Run as a program, the commands other
than ``batch`` also keep Dask out of the process (`_without_dask`).
"""
from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from waterdesk import InfeasibleError, InputError, __version__


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


class _Formatter(logging.Formatter):
    """``LEVEL: message`` for waterdesk's own lines, ``LEVEL: logger: message`` for the others'."""

    def format(self, record: logging.LogRecord) -> str:
        own = record.name == "waterdesk" or record.name.startswith("waterdesk.")
        self._style._fmt = "%(levelname)s: %(message)s" if own else "%(levelname)s: %(name)s: %(message)s"
        return super().format(record)


def configure_logging(verbose: int, quiet: bool, debug: bool) -> None:
    """Log levels of the command line: waterdesk's own lines at WARNING, INFO (``-v``) or
    DEBUG (``-vv``); other libraries' lines (Pyomo, numba, Dask) at WARNING, and all of
    them only with ``--debug`` (which also shows waterdesk's DEBUG lines). ``-q``: errors only.
    Lines go to stderr through one handler on the root logger (added if there is none)."""
    own = logging.ERROR if quiet else logging.DEBUG if debug else \
        [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    others = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_Formatter())
        root.addHandler(handler)
    root.setLevel(others)
    logging.getLogger("waterdesk").setLevel(own)


class _Group(click.Group):
    """Commands are loaded on first use: name -> (module, attribute) in `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def invoke(self, ctx: click.Context) -> object:
        with exit_codes(bool(ctx.params.get("debug"))):
            return super().invoke(ctx)

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        if args is None:            # run as the program (the script, python -m): argv is ours
            _without_dask(sys.argv[1:])
        return super().main(args, *rest, **kwargs)


#: command name -> (module, attribute); the module is imported when the command runs
COMMANDS = {
    "run": ("waterdesk.cli.run", "run"),
    "compare": ("waterdesk.cli.compare", "compare"),
    "ledger": ("waterdesk.cli.ledger", "ledger"),
    "report": ("waterdesk.cli.report", "report"),
    "validate": ("waterdesk.cli.validate", "validate"),
    "basins": ("waterdesk.cli.basins", "basins"),
    "schema": ("waterdesk.cli.schema", "schema"),
    "inflows": ("waterdesk.cli.inflows", "inflows"),
    "batch": ("waterdesk.cli.batch", "batch"),
    "schematic": ("waterdesk.cli.schematic", "schematic"),
}

#: commands that use Dask (the cluster executor of a sweep)
_DASK_COMMANDS = frozenset({"batch"})


def _without_dask(argv: Sequence[str]) -> None:
    """Mark Dask as absent (``sys.modules[name] = None``, Python's way of blocking an
    import) when the command about to run never uses it. xarray imports ``dask.array``
    whenever it is installed, to recognise dask-backed arrays, and ``distributed`` on every
    ``to_netcdf`` (to choose a write lock): 0.6-0.9 s of a cold `waterdesk run` spent on a
    package the command does not use. Only in a program run, where the process ends with
    the command; in-process callers (tests, notebooks) are not touched."""
    name = next((a for a in argv if not a.startswith("-")), None)
    if name is None or name in _DASK_COMMANDS or name not in COMMANDS:
        return
    for module in ("dask", "distributed"):
        if module not in sys.modules:
            sys.modules[module] = None  # type: ignore[assignment]


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="waterdesk")
@click.option("-v", "--verbose", count=True, help="More of waterdesk's log output (-vv: debug lines).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bar or summary.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors and every library's debug log.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, debug: bool) -> None:
    """waterdesk: route, store and divide a shared river's water under its agreements."""
    configure_logging(verbose, quiet, debug)
    ctx.obj = {"quiet": quiet, "verbose": verbose, "debug": debug}
