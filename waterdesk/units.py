"""Unit suffixes of file keys and conversions. Pure functions, no state."""
from __future__ import annotations

SECONDS_PER_DAY = 86_400.0
#: file-key suffix -> unit, as in SPEC §3
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


def m3s_to_mcm(flow_m3s: float, days: float) -> float:
    """Volume [mcm] of a steady flow [m3 s-1] over `days` days."""
    return flow_m3s * days * SECONDS_PER_DAY * 1e-6


def mcm_to_m3s(volume_mcm: float, days: float) -> float:
    """Mean flow [m3 s-1] that moves `volume_mcm` [mcm] in `days` days."""
    return volume_mcm * 1e6 / (days * SECONDS_PER_DAY)


def evaporation_mcm(evap_mm: float, area_km2: float) -> float:
    """Open-water evaporation [mcm] of `evap_mm` [mm] over `area_km2` [km2]."""
    return evap_mm * 1e-3 * area_km2  # mm * 1e-3 m/mm * km2 * 1e6 m2/km2 * 1e-6 mcm/m3
