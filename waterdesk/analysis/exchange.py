"""Energy-water exchange account (issue 5, 1998 Syr Darya framework).

For a hydropower reservoir operated for downstream summer irrigation by a clause,
the account compares the run with a second run of the same scenario without that
clause (the reservoir's energy-optimal regime under the scenario's energy targets):

* energy foregone [GWh] per water year: winter (Oct-Mar) generation without the clause
  minus winter generation with it;
* water gained [mcm] per water year and country: summer (Apr-Sep) deliveries with the
  clause minus without it;
* compensation = energy foregone x `price_per_gwh` (in `currency`: money or fuel).

Positive numbers mean the clause cost the reservoir's owner winter energy and brought
the downstream countries summer water.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    from waterdesk.analysis.accounts import Table

WINTER = (10, 11, 12, 1, 2, 3)


def _water_year(ds: xr.Dataset) -> np.ndarray:
    months = ds["time"].values.astype("datetime64[M]").astype(np.int64)
    return months // 12 + 1970 + (months % 12 >= 9)


def account(with_clause: xr.Dataset, without: xr.Dataset, reservoir: str, price: float,
            currency: str) -> dict[str, xr.Variable]:
    """The account's variables (dims `water_year`, `country`) from the two runs."""
    wy = _water_year(with_clause)
    years = np.unique(wy)
    month = with_clause["time"].dt.month.values
    winter = np.isin(month, WINTER)
    e_with = with_clause["energy"].sel(reservoir=reservoir).values
    e_without = without["energy"].sel(reservoir=reservoir).values
    foregone = np.array([(e_without[(wy == y) & winter] - e_with[(wy == y) & winter]).sum() for y in years])
    w_with = with_clause["withdrawal_by_country"].values
    w_without = without["withdrawal_by_country"].values
    gained = np.array([(w_with[(wy == y) & ~winter] - w_without[(wy == y) & ~winter]).sum(axis=0) for y in years])
    return {
        "exchange_energy_foregone": xr.Variable("water_year", foregone, {
            "units": "GWh", "long_name": f"winter (Oct-Mar) energy of {reservoir} foregone because of the clause"}),
        "exchange_water_gained": xr.Variable(("water_year", "country"), gained, {
            "units": "mcm", "long_name": "summer (Apr-Sep) deliveries gained because of the clause"}),
        "exchange_compensation": xr.Variable("water_year", foregone * price, {
            "units": currency, "long_name": f"compensation owed: energy foregone x {price:g} {currency} per GWh"}),
        "water_year": xr.Variable("water_year", years.astype(np.int32),
                                  {"long_name": "water year (Oct-Sep), named by the year it ends in"}),
    }


def with_exchange_account(scenario: Any, ds: xr.Dataset,
                          run: Callable[[Any], xr.Dataset]) -> xr.Dataset:
    """`ds` with the account of scenario.exchange, from a second run without the clause."""
    ex = scenario.exchange
    without = run(scenario.replace(clauses=tuple(c for c in scenario.clauses if c.id != ex["clause"]),
                                   exchange=None))
    out = ds.copy()
    for name, var in account(ds, without, ex["reservoir"], float(ex["price_per_gwh"]),
                             str(ex["currency"])).items():
        if name == "water_year":
            out = out.assign_coords(water_year=var)
        else:
            out[name] = var
    out.attrs["exchange"] = (f"clause {ex['clause']} at reservoir {ex['reservoir']}, "
                             f"{ex['price_per_gwh']:g} {ex['currency']} per GWh; counterfactual: the same "
                             "scenario without the clause")
    return out


def exchange_table(ds: xr.Dataset, label: str) -> "Table | None":
    """The account of a result as an `accounts.Table` (None if the run had none)."""
    from waterdesk.analysis.accounts import Column, Table

    if "exchange_energy_foregone" not in ds:
        return None
    currency = str(ds["exchange_compensation"].attrs.get("units", ""))
    countries = [str(c) for c in ds.country.values]
    columns = [Column("water_year", kind="int"), Column("energy_foregone", "GWh"),
               Column("compensation", currency)] + [Column(f"water_gained_{c}", "mcm") for c in countries]
    table = Table("exchange", f"Energy-water exchange account of {label} ({ds.attrs.get('exchange', '')})",
                  columns)
    for i, year in enumerate(ds["water_year"].values):
        table.rows.append([int(year), float(ds["exchange_energy_foregone"].values[i]),
                           float(ds["exchange_compensation"].values[i])]
                          + [float(v) for v in ds["exchange_water_gained"].values[i]])
    table.notes.append("energy foregone: winter (Oct-Mar) generation without the clause minus with it; "
                       "water gained: summer (Apr-Sep) deliveries with the clause minus without it")
    return table
