"""Unit suffixes of file keys and conversions. Pure functions, no state."""
from __future__ import annotations

import numpy as np

SECONDS_PER_DAY = 86_400.0
#: file-key suffix -> unit, as in docs/REFERENCE.md §3
SUFFIX_UNITS: dict[str, str] = {
    "_m3s": "m3 s-1",
    "_mcm": "mcm",
    "_km2": "km2",
    "_mw": "MW",
    "_gwh": "GWh",
    "_m": "m",
    "_mm": "mm",
    "_days": "days",
}
RHO_G = 1000.0 * 9.81  # water density [kg m-3] x gravity [m s-2]


MCM_PER_M3S_DAY = SECONDS_PER_DAY * 1e-6   # mcm moved by 1 m3 s-1 in one day (0.0864)


def mcm_per_m3s(days: "float | np.ndarray") -> "float | np.ndarray":
    """Volume [mcm] that a steady 1 m3 s-1 moves in `days` days (scalar or array)."""
    return days * MCM_PER_M3S_DAY
