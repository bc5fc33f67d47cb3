"""Helpers of the basins' ``make_inflows.py`` scripts: their shared command line and
printout. The scripts build their inflow Dataset with `waterdesk.io.inflows.inflow_dataset`
and write it with `waterdesk.io.inflows.write_inflows`."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import argparse

    import xarray as xr

__all__ = ["script_arguments", "annual_table"]


def script_arguments(doc: str | None, script: str, seed: int, **outputs: str) -> "argparse.Namespace":
    """Command line of a basin's ``make_inflows.py``: ``-o/--output`` (default
    ``inflows.nc`` beside the script), ``--seed`` (default `seed`) and one ``--<name>``
    path option per extra output (``drought_output="inflows-drought-2008.nc"`` gives
    ``--drought-output``), defaults beside the script."""
    import argparse

    here = Path(script).resolve().parent
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0] if doc else None)
    parser.add_argument("-o", "--output", type=Path, default=here / "inflows.nc")
    for name, default in outputs.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=Path, default=here / default)
    parser.add_argument("--seed", type=int, default=seed)
    return parser.parse_args()


def annual_table(ds: "xr.Dataset", n_years: int, width: int) -> tuple[list[str], "xr.DataArray", "xr.DataArray"]:
    """A basin script's printout of a monthly inflow Dataset: per node the mean annual
    volume [km3/yr], the mean flow [m3 s-1] and the driest and wettest water year [km3]
    (years counted in blocks of 12 months from the first). Returns the lines, the mean
    annual volume per node and the volume per node and year, for the script's own total."""
    import xarray as xr

    seconds_per_year = 365.25 * 86400.0
    seconds = ds["time"].dt.days_in_month * 86400.0
    volume = ds["inflow"].astype("float64") * seconds / 1e9
    annual = volume.sum("time") / n_years
    per_year = volume.groupby(xr.DataArray(np.arange(ds.sizes["time"]) // 12, dims="time",
                                           name="water_year")).sum()
    lines = [f"{'node':<{width}}{'km3/yr':>9}{'m3/s':>9}{'min yr':>9}{'max yr':>9}"]
    for node in ds["node"].values:
        km3 = float(annual.sel(node=node))
        years = per_year.sel(node=node)
        lines.append(f"{node:<{width}}{km3:9.3f}{km3 * 1e9 / seconds_per_year:9.1f}"
                     f"{float(years.min()):9.3f}{float(years.max()):9.3f}")
    return lines, annual, per_year
