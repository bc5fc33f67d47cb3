"""Model time: day, dekad and month steps; water years and seasons.

Time coordinates are period starts (docs/REFERENCE.md §3). A dekad is days 1-10, 11-20 or
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


PERIODS = ("step", "month", "season", "vegetation", "non_vegetation", "water_year", "year")
NAMED_SEASONS = {
    "winter": (12, 1, 2), "spring": (3, 4, 5), "summer": (6, 7, 8), "autumn": (9, 10, 11),
    "vegetation": (4, 5, 6, 7, 8, 9), "non_vegetation": (10, 11, 12, 1, 2, 3),
}


@dataclass(frozen=True)
class Windows:
    """Accounting windows of one clause over the model's steps.

    index : int64, shape (n_step,)   window of each step, -1 outside every window
    start, end : datetime64[D], shape (n_window,)   full window bounds (end exclusive)
    covered : float64, shape (n_window,)   share of each window's days inside the run
    last_step : int64, shape (n_window,)   the window's last step in the run
    """

    index: NDArray[np.int64]
    start: NDArray[np.datetime64]
    end: NDArray[np.datetime64]
    covered: NDArray[np.float64]
    last_step: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.start)


def _months(day: NDArray[np.datetime64]) -> NDArray[np.int64]:
    """Calendar month 1..12 of each date."""
    return day.astype("datetime64[M]").astype(np.int64) % 12 + 1


def _window_of(day: np.datetime64, period: str, months: tuple[int, ...]) -> tuple[np.datetime64, np.datetime64] | None:
    """(start, end) of the window holding `day`, or None if the day is outside the season."""
    month0 = day.astype("datetime64[M]")
    m = int(month0.astype(np.int64) % 12) + 1
    year = int(month0.astype(np.int64) // 12) + 1970
    if period == "month":
        return month0.astype("datetime64[D]"), (month0 + 1).astype("datetime64[D]")
    if period == "year":
        return np.datetime64(f"{year}-01-01", "D"), np.datetime64(f"{year + 1}-01-01", "D")
    if period == "water_year":
        first = year if m >= 10 else year - 1
        return np.datetime64(f"{first}-10-01", "D"), np.datetime64(f"{first + 1}-10-01", "D")
    if m not in months:
        return None
    # a season is a run of consecutive calendar months (it may wrap over the new year)
    run = [m]
    prev = (m - 2) % 12 + 1
    while prev in months and len(run) < 12:
        run.insert(0, prev)
        prev = (prev - 2) % 12 + 1
    first_month = month0 - (len(run) - 1)
    length = len(run)
    nxt = m % 12 + 1
    while nxt in months and length < 12:
        length += 1
        nxt = nxt % 12 + 1
    return first_month.astype("datetime64[D]"), (first_month + length).astype("datetime64[D]")


def make_windows(steps: Steps, period: str, months: tuple[int, ...] = ()) -> Windows:
    """Accounting windows of `period` over `steps` (docs/REFERENCE.md §6).

    `period = "step"` makes every step its own window; `season` needs `months`
    (1 = January); `vegetation` and `non_vegetation` are the Apr-Sep and Oct-Mar seasons.

    Examples
    --------
    >>> s = make_steps("2000-09-01", "2001-01-31", "month")
    >>> w = make_windows(s, "water_year")
    >>> w.index.tolist(), [str(d) for d in w.start], w.covered.round(3).tolist()
    ([0, 1, 1, 1, 1], ['1999-10-01', '2000-10-01'], [0.082, 0.337])
    """
    n = len(steps)
    if period == "step":
        idx = np.arange(n, dtype=np.int64)
        return Windows(idx, steps.start.copy(), steps.end.copy(), np.ones(n), idx.copy())
    if period in ("vegetation", "non_vegetation"):
        months = NAMED_SEASONS[period]
        period = "season"
    # the window of a step depends only on its start's calendar month: one lookup per month
    months_of, at = np.unique(steps.start.astype("datetime64[M]"), return_inverse=True)
    found = [_window_of(m.astype("datetime64[D]"), period, months) for m in months_of]
    nat = np.datetime64("NaT", "D")
    w_start = np.array([w[0] if w else nat for w in found], dtype="datetime64[D]")[at.ravel()]
    w_end = np.array([w[1] if w else nat for w in found], dtype="datetime64[D]")[at.ravel()]
    inside = np.flatnonzero(~np.isnat(w_start))           # steps in some window, in time order
    first = np.ones(len(inside), dtype=bool)
    first[1:] = w_start[inside][1:] != w_start[inside][:-1]  # a step that opens a new window
    number = np.cumsum(first) - 1
    index = np.full(n, -1, dtype=np.int64)
    index[inside] = number
    start, end = w_start[inside][first], w_end[inside][first]
    covered_days = np.bincount(number, weights=(steps.end - steps.start).astype(np.float64)[inside],
                               minlength=len(start))
    last = inside[np.append(first[1:], True)] if len(inside) else np.zeros(0, dtype=np.int64)
    length = (end - start).astype(np.float64)
    return Windows(index, start, end, covered_days / np.where(length > 0, length, 1.0),
                   np.asarray(last, dtype=np.int64))
