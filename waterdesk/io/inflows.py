"""Read inflow data (docs/REFERENCE.md §4): NetCDF ``inflow(time, node)`` or CSV, in m3 s-1.

A NetCDF file may carry an ensemble, ``inflow(member, time, node)`` (as written by
``waterdesk inflows generate``); one member is read, chosen by the scenario's
``inflows.member`` (default 0)."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from waterdesk.errors import Problem
from waterdesk.io.atomic import atomic_path
from waterdesk.model.scenario import InflowData

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.model.scenario import Scenario


def _period_ends(start: np.ndarray) -> np.ndarray:
    """Ends of periods given their starts; the last one repeats the spacing
    (a whole calendar month when the data are monthly)."""
    start = start.astype("datetime64[D]")
    if len(start) == 1:
        return start + np.timedelta64(1, "D")
    ends = np.empty_like(start)
    ends[:-1] = start[1:]
    gap = (start[-1] - start[-2]).astype(int)
    if 28 <= gap <= 31:
        ends[-1] = (start[-1].astype("datetime64[M]") + 1).astype("datetime64[D]")
    else:
        ends[-1] = start[-1] + (start[-1] - start[-2])
    return ends


def read_inflows(path: Path, where: str = "inflows", member: int = 0,
                 member_at: tuple[Path, int | None] | None = None,
                 ) -> tuple[InflowData | None, list[Problem]]:
    """Read an inflow file. Returns the data, or None and the problems found.

    ``member`` selects one member of a file with a ``member`` dimension; a file without
    one has only member 0. A member out of range is reported at ``member_at`` (the
    scenario file and the line of its ``inflows.member`` key), else at the inflow file."""
    if not path.exists():
        return None, [Problem(path, None, where, "file not found")]
    suffix = path.suffix.lower()
    try:
        if suffix in (".nc", ".nc4", ".netcdf"):
            data, problems = _read_netcdf(path, member, member_at or (path, None))
        elif suffix == ".csv":
            data, problems = _read_csv(path)
            if member != 0:
                at = member_at or (path, None)
                return None, [Problem(at[0], at[1], "inflows.member",
                                      f"member {member} requested but {path} (CSV) has only member 0")]
        else:
            return None, [Problem(path, None, where, "inflow file must be NetCDF (.nc) or CSV (.csv)")]
    except (OSError, ValueError, KeyError) as err:
        return None, [Problem(path, None, where, f"cannot read inflow data: {err}")]
    if data is not None:
        problems += _check_values(path, data)
    return (data if not problems else None), problems


def _read_netcdf(path: Path, member: int = 0, member_at: tuple[Path, int | None] | None = None,
                 ) -> tuple[InflowData | None, list[Problem]]:
    import xarray as xr

    with xr.open_dataset(path) as ds:
        if "inflow" not in ds:
            return None, [Problem(path, None, "inflow", "variable 'inflow(time, node)' not found")]
        da = ds["inflow"]
        problems = []
        units = da.attrs.get("units", "")
        if units.replace("^", "").replace("**", "") not in ("m3 s-1", "m3/s", "m3.s-1"):
            problems.append(Problem(path, None, "inflow.units", f"must be 'm3 s-1', got {units!r}"))
        if set(da.dims) - {"time", "node", "member"}:
            problems.append(Problem(path, None, "inflow",
                                    f"dimensions must be (time, node) or (member, time, node), got {da.dims}"))
        count = int(da.sizes.get("member", 1))
        if not 0 <= member < count:
            at = member_at or (path, None)
            has = f"{count} members (0 to {count - 1})" if "member" in da.dims else "no member dimension (only member 0)"
            problems.append(Problem(at[0], at[1], "inflows.member",
                                    f"member {member} out of range: {path} has {has}"))
        if problems:
            return None, problems
        if "member" in da.dims:
            da = da.isel(member=member)
        da = da.transpose("time", "node")
        start = np.asarray(da["time"].values).astype("datetime64[D]")
        nodes = tuple(str(n) for n in da["node"].values)
        values = np.asarray(da.values, dtype=np.float64)
    return InflowData(nodes, start, _period_ends(start), values, source=str(path)), []


def read_members(scenario: "Scenario", members: list[int]) -> list[InflowData]:
    """Members of the scenario's inflow ensemble, in the order given: of its own
    (``inflows.generate`` / ``inflows.members``), else of the NetCDF file its inflows came
    from. Raises InputError saying where when one is out of range."""
    from waterdesk.errors import InputError

    if scenario.members:
        count = len(scenario.members)
        bad = [m for m in members if not 0 <= m < count]
        if bad:
            raise InputError([Problem(scenario.path or scenario.name, None, "members",
                                      f"member {bad[0]} out of range: the scenario has {count} "
                                      f"members (0 to {count - 1})")])
        return [scenario.members[m] for m in members]
    path = Path(scenario.inflows.source)
    out: list[InflowData] = []
    for m in members:
        data, problems = read_inflows(path, member=m, member_at=(path, None))
        if data is None:
            raise InputError(problems)
        out.append(data)
    return out


def _read_csv(path: Path) -> tuple[InflowData | None, list[Problem]]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    rows = [r for r in rows if r and not r[0].startswith("#")]
    if not rows or rows[0][0].strip() != "time":
        return None, [Problem(path, 1, "time", "first column must be 'time' (ISO dates, period starts)")]
    header = [h.strip() for h in rows[0]]
    problems = []
    starts, values = [], []
    for number, row in enumerate(rows[1:], start=2):
        try:
            starts.append(np.datetime64(row[0].strip(), "D"))
            values.append([float(v) for v in row[1:]])
        except ValueError as err:
            problems.append(Problem(path, number, "", f"cannot read row: {err}"))
        if len(row) != len(header):
            problems.append(Problem(path, number, "", f"has {len(row)} columns, header has {len(header)}"))
    if problems:
        return None, problems[:10]
    start = np.array(starts, dtype="datetime64[D]")
    return InflowData(tuple(header[1:]), start, _period_ends(start),
                      np.array(values, dtype=np.float64).reshape(len(starts), len(header) - 1),
                      source=str(path)), []


def _check_values(path: Path, data: InflowData) -> list[Problem]:
    problems = []
    if len(data.start) and np.any(np.diff(data.start.astype(np.int64)) <= 0):
        problems.append(Problem(path, None, "time", "times must increase"))
    bad = ~np.isfinite(data.values_m3s)
    for j in np.flatnonzero(bad.any(axis=0)):
        t = int(np.flatnonzero(bad[:, j])[0])
        problems.append(Problem(path, None, f"inflow[{data.node[j]}]",
                                f"missing value at {data.start[t]} ({int(bad[:, j].sum())} in all)"))
    neg = data.values_m3s < 0
    for j in np.flatnonzero(neg.any(axis=0)):
        t = int(np.flatnonzero(neg[:, j])[0])
        problems.append(Problem(path, None, f"inflow[{data.node[j]}]",
                                f"negative inflow {data.values_m3s[t, j]} m3 s-1 at {data.start[t]}"))
    return problems


def inflow_dataset(flow_m3s: np.ndarray, time: np.ndarray, nodes: "list[str] | tuple[str, ...]") -> "object":
    """An inflow Dataset ``inflow(time, node)`` [m3 s-1] with the CF attributes of the
    variable and its coordinates, for the basins' data scripts (which add the dataset's
    own attributes: title, source, method, seed)."""
    import xarray as xr

    ds = xr.Dataset({"inflow": (("time", "node"), flow_m3s)},
                    coords={"time": time, "node": np.array(nodes, dtype=object)})
    ds["inflow"].attrs = {
        "long_name": "natural inflow at inflow node (monthly mean)",
        "standard_name": "water_volume_transport_in_river_channel",
        "units": "m3 s-1",
        "cell_methods": "time: mean",
    }
    ds["time"].attrs = {"long_name": "start of monthly period", "axis": "T"}
    ds["node"].attrs = {"long_name": "inflow node id (basin.toml)", "cf_role": "timeseries_id"}
    return ds


def write_inflows(ds: "object", path: Path, dtype: str = "float64") -> Path:
    """Write an inflow Dataset (variable ``inflow(time, node)`` in m3 s-1) as CF NetCDF,
    atomically (`waterdesk.io.atomic`), for the basins' data
    scripts and generators. Same inputs give the same bytes."""
    encoding = {
        "time": {"units": "days since 1990-01-01", "calendar": "standard", "dtype": "int32",
                 "_FillValue": None},
        "inflow": {"dtype": dtype, "zlib": True, "complevel": 4, "_FillValue": None},
    }
    path = Path(path)
    with atomic_path(path) as part:
        ds.to_netcdf(part, engine="netcdf4", format="NETCDF4", encoding=encoding)  # type: ignore[attr-defined]
    return path
