"""Model time: day, dekad and month steps; water years and seasons.

Time coordinates are period starts (SPEC §3). A dekad is days 1-10, 11-20 or
21-end of a month, as ICWC plans.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

TIMESTEPS = ("day", "dekad", "month")
#: nominal step length [days], used only where a constant is needed
NOMINAL_DAYS = {"day": 1.0, "dekad": 365.25 / 36.0, "month": 365.25 / 12.0}


@dataclass(frozen=True)
class Steps:
    """The model's time steps.

    start : datetime64[D], shape (n,)  period starts
    end : datetime64[D], shape (n,)    period ends (exclusive; next start)
    """

    timestep: str
    start: NDArray[np.datetime64]
    end: NDArray[np.datetime64]

    def __len__(self) -> int:
        return len(self.start)

    @property
    def days(self) -> NDArray[np.float64]:
        """Step length [days], shape (n,)."""
        return (self.end - self.start).astype("timedelta64[D]").astype(np.float64)

    @property
    def month_index(self) -> NDArray[np.int64]:
        """Calendar month of each step, 0 = January."""
        return self.start.astype("datetime64[M]").astype(np.int64) % 12

    @property
    def days_in_month(self) -> NDArray[np.float64]:
        """Length [days] of the calendar month holding each step."""
        m = self.start.astype("datetime64[M]")
        return ((m + 1).astype("datetime64[D]") - m.astype("datetime64[D]")).astype(np.float64)


def is_step_start(day: np.datetime64, timestep: str) -> bool:
    """True when `day` starts a step of `timestep`."""
    if timestep == "day":
        return True
    dom = int((day - day.astype("datetime64[M]").astype("datetime64[D]")).astype(int)) + 1
    if timestep == "month":
        return dom == 1
    return dom in (1, 11, 21)


def _next_start(day: np.datetime64, timestep: str) -> np.datetime64:
    if timestep == "day":
        return day + np.timedelta64(1, "D")
    month = day.astype("datetime64[M]")
    next_month = (month + 1).astype("datetime64[D]")
    if timestep == "month":
        return next_month
    dom = int((day - month.astype("datetime64[D]")).astype(int)) + 1
    if dom < 11:
        return month.astype("datetime64[D]") + np.timedelta64(10, "D")
    if dom < 21:
        return month.astype("datetime64[D]") + np.timedelta64(20, "D")
    return next_month


def make_steps(start: str | np.datetime64, end: str | np.datetime64, timestep: str) -> Steps:
    """Steps of `timestep` whose start lies in [start, end].

    Examples
    --------
    >>> s = make_steps("2001-01-01", "2001-01-31", "dekad")
    >>> [str(d) for d in s.start], s.days.tolist()
    (['2001-01-01', '2001-01-11', '2001-01-21'], [10.0, 10.0, 11.0])
    """
    if timestep not in TIMESTEPS:
        raise ValueError(f"timestep must be one of {', '.join(TIMESTEPS)}, got {timestep!r}")
    first = np.datetime64(start, "D")
    last = np.datetime64(end, "D")
    if timestep == "day":
        starts = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
        return Steps(timestep, starts, starts + np.timedelta64(1, "D"))
    starts_list = []
    day = first
    while day <= last:
        starts_list.append(day)
        day = _next_start(day, timestep)
    starts_arr = np.array(starts_list, dtype="datetime64[D]")
    ends = np.array([_next_start(d, timestep) for d in starts_arr], dtype="datetime64[D]")
    return Steps(timestep, starts_arr, ends)


def water_year(start: NDArray[np.datetime64]) -> NDArray[np.int64]:
    """Water year (Oct-Sep) of each date, named by the calendar year it ends in."""
    months = start.astype("datetime64[M]").astype(np.int64)
    year = months // 12 + 1970
    return year + (months % 12 >= 9)
