"""waterdesk: route, store and divide a shared river's water between countries.

Examples
--------
>>> import waterdesk as wd
>>> scenario = wd.load_scenario("scenarios/chu-talas/baseline.toml")   # doctest: +SKIP
>>> result = wd.run(scenario)                                          # doctest: +SKIP
>>> result["supplied"].sum("time")                                     # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version as _version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waterdesk.errors import (
    InfeasibleError,
    InputError,
    Problem,
    SolverError,
    WaterdeskError,
    WaterdeskWarning,
)

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.model.basin import Basin
    from waterdesk.model.scenario import Scenario

try:
    __version__ = _version("waterdesk")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "load_basin",
    "load_scenario",
    "run",
    "compare",
    "open_result",
    "write_result",
    "WaterdeskError",
    "InputError",
    "InfeasibleError",
    "SolverError",
    "Problem",
    "WaterdeskWarning",
]


def load_basin(path: str | Path) -> "Basin":
    """Read and check a basin file; raises `InputError` listing every problem."""
    from waterdesk.io.load import load_basin as _load

    return _load(path)


def load_scenario(path: str | Path, overrides: "Mapping[str, Any] | None" = None) -> "Scenario":
    """Read and check a scenario file with its basin and inflows; raises `InputError`.

    `overrides` sets dotted keys (``{"inflows.scale": 0.8}``) before the checks."""
    from waterdesk.io.load import load_scenario as _load

    return _load(path, overrides)


def run(scenario: "Scenario | str | Path", output: str | Path | None = None,
        progress: Callable[[int], None] | None = None,
        members: "Sequence[int] | None" = None) -> "xr.Dataset":
    """Run a scenario and return its result Dataset (SPEC §8).

    Parameters
    ----------
    scenario : Scenario or path to a scenario file
    output : path, optional
        also write the result there (atomically) as NetCDF.
    progress : callable, optional
        called with the number of steps completed since the last call (member-steps
        with `members`).
    members : sequence of int, optional
        members of the scenario's inflow ensemble (a NetCDF file with a ``member``
        dimension, as ``waterdesk inflows generate`` writes) to run together; the result
        then has a ``member`` dimension whose coordinate holds these numbers. A scenario
        with ``inflows.members`` or ``inflows.generate`` runs all its members by default. In step
        mode all members go through one stacked LP per step
        (`waterdesk.simulate.simulate_members`).

    An ensemble run, e.g. the share of members in which some demand falls short::

        sc = wd.load_scenario("baseline.toml", {"inflows.file": "ens.nc"})
        ds = wd.run(sc, members=range(20))
        (ds["shortage"].sum(["time", "demand"]) > 0).mean("member")
    """
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


def compare(results: "object", by: str = "country", units: str = "mcm", force: bool = False) -> "object":
    """Side-by-side totals per item and water year, with differences against the first
    result (docs/ANALYSIS.md). `results`: {name: Dataset} or a list of result paths.

    Raises
    ------
    InputError
        for files that are not waterdesk results, or results of different basins
        (unless ``force=True``).
    """
    from waterdesk.analysis.compare import compare as _compare

    return _compare(results, by=by, units=units, force=force)  # type: ignore[arg-type]


def open_result(path: str | Path) -> "xr.Dataset":
    """Open a result file written by waterdesk."""
    from waterdesk.io.netcdf import open_result as _open

    return _open(path)


def write_result(ds: "xr.Dataset", path: str | Path) -> Path:
    """Write a result Dataset as NetCDF, atomically (``.part`` then rename)."""
    from waterdesk.io.netcdf import write_result as _write

    return _write(ds, path)
