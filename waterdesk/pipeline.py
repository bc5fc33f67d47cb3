"""One run of a scenario, from its file (or loaded `Scenario`) to its result Dataset:
load, simulate (one inflow series or a stack of members), the exchange account when the
scenario asks for one, and the optional atomic write. `waterdesk.run` and the batch
executor both call `run`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waterdesk._version import __version__
from waterdesk.errors import InputError, Problem

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.model.basin import Basin
    from waterdesk.model.scenario import Scenario


def generate_inflows(*args: Any, **kwargs: Any) -> Any:
    """`waterdesk.generate.generate_inflows`, imported when a scenario asks for generated
    inflows (it pulls in pandas and scipy.stats, which a plain run does not need)."""
    from waterdesk.generate import generate_inflows as generate

    return generate(*args, **kwargs)


def load_scenario(path: str | Path, overrides: "Mapping[str, Any] | None" = None) -> "Scenario":
    """Read and check a scenario file (`waterdesk.io.load.load_scenario`), generating the
    members of ``inflows.generate`` with `waterdesk.generate.generate_inflows`."""
    from waterdesk.io.load import load_scenario as _load

    return _load(path, overrides, generator=generate_inflows)


def load_any(path: str | Path) -> "Basin | Scenario":
    """A basin or a scenario file, loaded and checked (scenarios as `load_scenario`)."""
    from waterdesk.io.load import load_any as _load

    return _load(path, generator=generate_inflows)


def run(scenario: "Scenario | str | Path", output: str | Path | None = None,
        progress: Callable[[int], None] | None = None,
        members: "Sequence[int] | None" = None) -> "xr.Dataset":
    """See `waterdesk.run`."""
    from waterdesk.io.netcdf import write_result
    from waterdesk.result import members_dataset, to_dataset
    from waterdesk.simulate import simulate, simulate_members

    if not hasattr(scenario, "basin"):
        scenario = load_scenario(scenario)  # type: ignore[arg-type]
    ensemble = getattr(scenario, "members", ())
    if members is None and ensemble:
        members = range(len(ensemble))
    if members is not None:
        from waterdesk.io.inflows import read_members

        numbers = [int(m) for m in members]
        if getattr(scenario, "exchange", None):
            raise InputError([Problem(getattr(scenario, "path", None) or "scenario", None, "exchange",
                                      "the exchange account is made per run; run the members one by one")])
        data = read_members(scenario, numbers)  # type: ignore[arg-type]
        sims = simulate_members(scenario, data, progress=progress)  # type: ignore[arg-type]
        ds = members_dataset(sims, numbers, __version__)
    else:
        sim = simulate(scenario, progress=progress)  # type: ignore[arg-type]
        ds = to_dataset(sim, __version__)
        if getattr(scenario, "exchange", None):
            from waterdesk.analysis.exchange import with_exchange_account

            ds = with_exchange_account(scenario, ds, lambda sc: to_dataset(simulate(sc), __version__))  # type: ignore[arg-type]
    if output is not None:
        write_result(ds, output)
    return ds
