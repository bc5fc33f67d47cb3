"""Write and read result files. Writes go through `waterdesk.io.atomic` (``<path>.part``
renamed into place only when complete), so a failed run never leaves a half-written file."""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import xarray as xr

from waterdesk.errors import InputError, Problem
from waterdesk.io.atomic import atomic_path


def _local_locks() -> "contextlib.AbstractContextManager[object]":
    """Inside a Dask worker xarray guards NetCDF writes with a *distributed* lock (a round
    trip to the scheduler for each variable): a batch task spent 2.9 of its 8 s waiting on
    them. The data are in memory, so the synchronous scheduler, whose locks are local, is
    the right one; outside Dask nothing changes. A process that has not loaded Dask is not
    inside a Dask worker, so Dask is not imported just to say so."""
    dask = sys.modules.get("dask")
    if dask is None:
        return contextlib.nullcontext()
    synchronous: contextlib.AbstractContextManager[object] = dask.config.set(scheduler="synchronous")
    return synchronous


def write_result(ds: xr.Dataset, path: str | Path) -> Path:
    """Write a result Dataset as NetCDF-4 (compressed), atomically.

    zlib level 1 with the shuffle filter: on a 30-year daily Syr Darya result (24 variables,
    36 MB in memory) it takes 0.54 s of CPU against 0.76 s at level 4 for a file 6 % larger
    (8.1 against 7.6 MB)."""
    path = Path(path)
    encoding: dict[str, dict[str, Any]] = {
        str(name): {"zlib": True, "complevel": 1, "shuffle": True}
        for name, var in ds.data_vars.items() if var.dtype.kind == "f"
    }
    encoding["time"] = {"units": "days since 1900-01-01", "calendar": "proleptic_gregorian",
                        "dtype": "float64"}
    encoding["time_bounds"] = {"units": "days since 1900-01-01", "calendar": "proleptic_gregorian",
                               "dtype": "float64"}
    with atomic_path(path) as part, _local_locks():
        ds.to_netcdf(part, engine="netcdf4", format="NETCDF4", encoding=encoding)
    return path


def write_dataset(ds: xr.Dataset, path: str | Path) -> Path:
    """Write any other Dataset (a comparison, a batch summary) as NetCDF-4, atomically."""
    path = Path(path)
    with atomic_path(path) as part:
        ds.to_netcdf(part, engine="netcdf4", format="NETCDF4")
    return path


def open_result(path: str | Path) -> xr.Dataset:
    """Open a waterdesk result file (loaded into memory, file closed)."""
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(path, None, "", "file not found")])
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            loaded = ds.load()
    except (OSError, ValueError) as err:
        raise InputError([Problem(path, None, "", f"not a readable NetCDF file ({err})")]) from None
    if "waterdesk_version" not in loaded.attrs:
        raise InputError([Problem(path, None, "", "not a waterdesk result (no waterdesk_version attribute)")])
    return loaded
