"""Read inflow data (docs/REFERENCE.md §4): NetCDF ``inflow(time, node)`` or CSV, in m3 s-1.

A NetCDF file may carry an ensemble, ``inflow(member, time, node)`` (as written by
``waterdesk inflows generate``); one member is read, chosen by the scenario's
``inflows.member`` (default 0)."""
from __future__ import annotations

import csv
import io
import re
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
    data, problems = read_inflow_members(path, [member], where, member_at)
    return (data[0] if data else None), problems


def read_inflow_members(path: Path, members: "list[int]", where: str = "inflows",
                        member_at: tuple[Path, int | None] | None = None,
                        ) -> tuple[list[InflowData] | None, list[Problem]]:
    """`read_inflows` for several members of one file, opened once (an ensemble scenario's
    ``inflows.members``). Returns the members in the order given, or None and the problems."""
    from waterdesk.io.toml import file_problem

    why = file_problem(path)
    if why is not None:
        return None, [Problem(path, None, where, f"file {why}" if why == "not found" else why)]
    suffix = path.suffix.lower()
    try:
        if suffix in (".nc", ".nc4", ".netcdf"):
            data, problems = _read_netcdf(path, members, member_at or (path, None))
        elif suffix == ".csv":
            one, problems = _read_csv(path)
            data = None if one is None else [one for _ in members]
            wrong = [m for m in members if m != 0]
            if wrong:
                at = member_at or (path, None)
                return None, [Problem(at[0], at[1], "inflows.member",
                                      f"member {wrong[0]} requested but {path} (CSV) has only member 0")]
        else:
            return None, [Problem(path, None, where, "inflow file must be NetCDF (.nc) or CSV (.csv)")]
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError) as err:
        what = "not a readable NetCDF file" if suffix != ".csv" else "cannot read inflow data"
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        return None, [Problem(path, None, where, f"{what}: {first[:200]}")]
    if data is not None:
        # every member shares the time axis: its dates are checked once, each member's values
        problems += _check_values(path, data[0])
        for one in data[1:]:
            if problems:
                break
            problems += _check_values(path, one, dates=False)
    return (data if not problems else None), problems


def _read_netcdf(path: Path, members: "list[int]", member_at: tuple[Path, int | None] | None = None,
                 ) -> tuple[list[InflowData] | None, list[Problem]]:
    import xarray as xr

    with xr.open_dataset(path) as ds:
        if "inflow" not in ds:
            return None, [Problem(path, None, "inflow", "variable 'inflow(time, node)' not found")]
        da = ds["inflow"]
        problems = []
        units = str(da.attrs.get("units", ""))
        if not _units_ok(units):
            problems.append(Problem(path, None, "inflow.units", f"must be 'm3 s-1', got {units!r}"))
        if set(da.dims) - {"time", "node", "member"}:
            problems.append(Problem(path, None, "inflow",
                                    f"dimensions must be (time, node) or (member, time, node), got {da.dims}"))
        count = int(da.sizes.get("member", 1))
        bad = [m for m in members if not 0 <= m < count]
        if bad:
            at = member_at or (path, None)
            has = f"{count} members (0 to {count - 1})" if "member" in da.dims else "no member dimension (only member 0)"
            problems.append(Problem(at[0], at[1], "inflows.member",
                                    f"member {max(bad)} out of range: {path} has {has}"))
        if problems:
            return None, problems
        if "member" not in da.dims:
            da = da.expand_dims("member")
        wanted = sorted(set(members))                   # only these are read, in one go
        da = da.isel(member=wanted).transpose("member", "time", "node")
        start = np.asarray(da["time"].values).astype("datetime64[D]")
        nodes = tuple(str(n) for n in da["node"].values)
        values = np.asarray(da.values, dtype=np.float64)
    ends = _period_ends(start)
    row = {m: i for i, m in enumerate(wanted)}
    return [InflowData(nodes, start, ends, values[row[m]], source=str(path)) for m in members], []


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
    data, problems = read_inflow_members(path, members, member_at=(path, None))
    if data is None:
        raise InputError(problems)
    return data


#: largest CSV inflow file read [bytes]: 100 years of daily flows at 60 nodes is ~25 MiB
MAX_CSV_BYTES = 64 * 1024 * 1024
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|nan|inf|infinity)$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: units an inflow file may declare (NetCDF ``units`` attribute, CSV ``# units: ...``)
M3S = ("m3 s-1", "m3/s", "m3.s-1", "m3s-1")
MAX_ROW_PROBLEMS = 20


def _units_ok(units: str) -> bool:
    return units.strip().replace("^", "").replace("**", "") in M3S


def _read_csv(path: Path) -> tuple[InflowData | None, list[Problem]]:
    """A CSV inflow file: ``time,<node>,...`` then one row per period start; lines
    starting with ``#`` are comments, ``# units: m3 s-1`` declares the units."""
    from waterdesk.errors import InputError
    from waterdesk.io.toml import read_file_bytes

    try:
        raw = read_file_bytes(path, "inflow file", MAX_CSV_BYTES)
    except InputError as err:
        return None, list(err.problems)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return None, [Problem(path, line, "", f"not UTF-8 text ({err.reason} at byte {err.start}); "
                                              "inflow CSV files are text")]
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        return None, [Problem(path, line, "", "binary data (a NUL byte) in a CSV file")]
    numbered: list[tuple[int, list[str]]] = []
    problems: list[Problem] = []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if not row or not "".join(row).strip():
            continue
        if row[0].lstrip().startswith("#"):
            comment = ",".join(row).lstrip()[1:].strip()
            if comment.lower().startswith("units"):
                units = comment[5:].lstrip(" :=").strip()
                if not _units_ok(units):
                    problems.append(Problem(path, number, "units", f"must be 'm3 s-1', got {units!r}"))
            continue
        numbered.append((number, row))
    if not numbered or numbered[0][1][0].strip() != "time":
        return None, [Problem(path, numbered[0][0] if numbered else 1, "time",
                              "first column must be 'time' (ISO dates, period starts)")]
    header_line, header_row = numbered[0]
    header = [h.strip() for h in header_row]
    seen: dict[str, int] = {}
    for j, name in enumerate(header[1:], start=1):
        if not name:
            problems.append(Problem(path, header_line, f"column {j + 1}", "has no node name"))
        elif name in seen:
            problems.append(Problem(path, header_line, name, f"column named twice (columns {seen[name] + 1} and {j + 1})"))
        seen.setdefault(name, j)
    starts, values, lines = [], [], []
    row_problems: list[Problem] = []
    for number, row in numbered[1:]:
        cells = [c.strip() for c in row]
        day = None
        if not _DATE.match(cells[0]):
            row_problems.append(Problem(path, number, "time", f"must be a date YYYY-MM-DD, got {cells[0]!r}"))
        else:
            try:
                day = np.datetime64(cells[0], "D")
                if str(day) != cells[0]:
                    raise ValueError
            except ValueError:
                row_problems.append(Problem(path, number, "time", f"no such day: {cells[0]!r}"))
                day = None
        row_values = [0.0] * (len(header) - 1)  # a bad cell stands in as 0 (said already)
        if len(cells) != len(header):
            row_problems.append(Problem(path, number, "", f"has {len(cells)} columns, header (line {header_line}) "
                                                          f"has {len(header)}"))
        else:
            for j, (name, cell) in enumerate(zip(header[1:], cells[1:])):
                if not _NUMBER.match(cell):
                    what = "missing value" if not cell else f"must be a number, got {cell!r}"
                    row_problems.append(Problem(path, number, f"inflow[{name}]", what))
                else:
                    row_values[j] = float(cell)
        if day is not None:        # the row counts for the checks of dates and values
            starts.append(day)
            values.append(row_values)
            lines.append(number)
    if len(row_problems) > MAX_ROW_PROBLEMS:
        extra = len(row_problems) - MAX_ROW_PROBLEMS
        last = row_problems[MAX_ROW_PROBLEMS - 1]
        row_problems = row_problems[:MAX_ROW_PROBLEMS] + [
            Problem(path, last.line, "", f"and {extra} more problem(s) in the lines after this one")]
    problems += row_problems
    if not starts and not problems:
        problems.append(Problem(path, header_line, "time", "no data rows"))
    if not starts or any(p.line == header_line for p in problems):
        return None, problems
    start = np.array(starts, dtype="datetime64[D]")
    data = InflowData(tuple(header[1:]), start, _period_ends(start),
                      np.array(values, dtype=np.float64).reshape(len(starts), len(header) - 1),
                      source=str(path))
    _CSV_LINES[str(path)] = (header_line, lines)
    return data, problems


#: source -> (header line, line of each data row) of the CSV files read, for messages
_CSV_LINES: dict[str, tuple[int, list[int]]] = {}


def csv_line(source: str, row: int | None = None) -> int | None:
    """Line of a CSV inflow file's data row `row` (0-based) or, with None, of its header;
    None for a NetCDF file."""
    known = _CSV_LINES.get(source)
    if known is None:
        return None
    if row is None:
        return known[0]
    return known[1][row] if 0 <= row < len(known[1]) else None


def _at(data: InflowData, row: int) -> str:
    """The date of a row (a CSV problem's line is the row's line)."""
    return f"{data.start[row]}"


def _frequency(start: np.ndarray) -> str | None:
    """'day', 'dekad' or 'month' from period starts, or None if they are none of these."""
    if len(start) < 2:
        return "month"
    days = start.astype("datetime64[D]")
    dom = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    gaps = np.diff(days.astype(np.int64))
    step = float(np.median(gaps[gaps > 0])) if np.any(gaps > 0) else 0.0
    if step >= 28 and np.all(dom == 1):
        return "month"
    if 8 <= step <= 11 and np.all(np.isin(dom, (1, 11, 21))):
        return "dekad"
    if step == 1:
        return "day"
    return None


def _check_values(path: Path, data: InflowData, dates: bool = True) -> list[Problem]:
    """The inflow data as data: every period present once, in order, without gaps (unless
    `dates` is False); values finite and not negative. CSV problems name the line."""
    from waterdesk.calendar import make_steps

    problems = []
    def line(row: int) -> int | None:
        return csv_line(data.source, row)

    days = data.start.astype("datetime64[D]") if dates else data.start[:0].astype("datetime64[D]")
    order_ok = True
    first_row: dict[np.datetime64, int] = {}
    for row, day in enumerate(days):
        if day in first_row:
            other = first_row[day]
            lines = (f" (lines {line(other)} and {line(row)})" if line(row) else
                     f" (time steps {other + 1} and {row + 1})")
            problems.append(Problem(path, line(row), "time", f"date {day} appears twice{lines}"))
            order_ok = False
            continue
        first_row[day] = row
        if row and day < days[row - 1]:
            problems.append(Problem(path, line(row), "time",
                                    f"dates must increase: {day} comes after {days[row - 1]}"))
            order_ok = False
    if order_ok and len(days):
        freq = _frequency(days)
        if freq is None:
            problems.append(Problem(path, line(0), "time", "dates are not the starts of days, dekads "
                                    "(1st, 11th, 21st) or months, one after the other"))
        else:
            expected = make_steps(days[0], days[-1], freq).start
            missing = np.setdiff1d(expected, days)
            stray = np.setdiff1d(days, expected)
            if len(missing):
                shown = ", ".join(str(d) for d in missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
                row = int(np.searchsorted(days, missing[0]))
                problems.append(Problem(path, line(row), "time",
                                        f"gap in the {freq}ly series: {len(missing)} period(s) missing: {shown}"
                                        .replace("dayly", "daily")))
            for day in stray[:5]:
                row = int(np.searchsorted(days, day))
                problems.append(Problem(path, line(row), "time", f"{day} is not the start of a {freq}"))
    bad = ~np.isfinite(data.values_m3s)
    for j in np.flatnonzero(bad.any(axis=0)):
        t = int(np.flatnonzero(bad[:, j])[0])
        value = data.values_m3s[t, j]
        what = "missing value" if np.isnan(value) else f"must be a finite number, got {value}"
        problems.append(Problem(path, line(t), f"inflow[{data.node[j]}]",
                                f"{what} at {_at(data, t)} ({int(bad[:, j].sum())} in all)"))
    neg = data.values_m3s < 0
    for j in np.flatnonzero(neg.any(axis=0)):
        t = int(np.flatnonzero(neg[:, j])[0])
        problems.append(Problem(path, line(t), f"inflow[{data.node[j]}]",
                                f"negative inflow {data.values_m3s[t, j]} m3 s-1 at {_at(data, t)} "
                                f"({int(neg[:, j].sum())} in all): inflow node {data.node[j]!r} does not "
                                "allow net losses"))
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
