"""Commission accounts from a result Dataset (docs/REFERENCE.md §8): the compliance ledger, equity and
outcome measures. Pure functions of the Dataset; nothing is read or written here.

Every number is a plain sum (or max, min) of the result variables over the steps of a
water year (Oct-Sep, named by the calendar year it ends in; a step belongs to the water
year of its start date) or over a clause's windows. Definitions: docs/ANALYSIS.md.
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from waterdesk.errors import InputError, Problem

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.model.scenario import Scenario

__all__ = ["Column", "Table", "ledger", "outcomes", "jain_index", "UNITS", "TOL_MCM",
           "country_table", "clause_table"]

#: volume unit -> mcm per unit
UNITS = {"mcm": 1.0, "km3": 1000.0}
#: the one accounting tolerance [mcm]: a window is violated, a step or month short, a
#: water year not fully supplied when the volume exceeds it (ledger, compare, report,
#: run summary and batch summaries alike)
TOL_MCM = 1e-6
MCM_PER_M3S_DAY = 0.0864


@dataclass(frozen=True)
class Column:
    """One column: `name` (a key word), `unit` ("" if none); `result` and `difference`
    tag the columns of a comparison (value of result X, or X minus the first result)."""

    name: str
    unit: str = ""
    kind: str = "float"          # str | int | float | pct | index | price
    result: str | None = None
    difference: bool = False

    @property
    def key(self) -> str:
        """Explicit key: name, unit suffix, result tag (`delivered_mcm`, `delivered_mcm:B-A`)."""
        key = f"{self.name}_{self.unit}" if self.unit else self.name
        if self.result is not None:
            key += f":{self.result}"
        return key

    @property
    def header(self) -> str:
        """Human header with its unit: `delivered (mcm)`, `delivered (mcm) B-A`."""
        text = f"{self.name.replace('_', ' ')} ({self.unit})" if self.unit else self.name.replace("_", " ")
        if self.result is not None:
            text += f" {self.result}"
        return text


@dataclass
class Table:
    """A titled table: columns and rows (lists of values; NaN or None where there is none)."""

    name: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def column(self, key: str) -> list[Any]:
        """All values of the column with this key (`Column.key`)."""
        i = [c.key for c in self.columns].index(key)
        return [row[i] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by `Column.key`, NaN as None (JSON-ready)."""
        return [{c.key: _plain(v) for c, v in zip(self.columns, row)} for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.name, "title": self.title,
                "columns": [{"key": c.key, "name": c.name, "unit": c.unit,
                             **({"result": c.result, "difference": c.difference} if c.result is not None else {})}
                            for c in self.columns],
                "rows": self.records(), "notes": list(self.notes)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def to_csv(self) -> str:
        """Header row with units, one row per line; full precision, empty cell for none."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([c.header for c in self.columns])
        for row in self.rows:
            writer.writerow(["" if _missing(v) else (repr(float(v) + 0.0) if isinstance(v, float) else v)
                             for v in row])
        return out.getvalue()

    def to_text(self) -> str:
        """An aligned table with its title, units in every header, and notes."""
        cells = [[_fmt(v, c) for c, v in zip(self.columns, row)] for row in self.rows]
        heads = [c.header for c in self.columns]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]
        left = [c.kind == "str" for c in self.columns]

        def line(values: Sequence[str]) -> str:
            return "  ".join(v.ljust(w) if lf else v.rjust(w)
                             for v, w, lf in zip(values, widths, left)).rstrip()

        lines = [self.title, line(heads)] + [line(r) for r in cells]
        if not self.rows:
            lines.append("(none)")
        return "\n".join(lines + self.notes)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _plain(v: Any) -> Any:
    if _missing(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v) + 0.0          # no negative zero in JSON
    return v


def _fmt(v: Any, col: Column) -> str:
    if _missing(v):
        return "-"
    if col.kind == "str":
        return str(v)
    if col.kind == "int":
        return f"{int(v):d}"
    if col.kind == "pct":
        return f"{float(v):.1f}"
    if col.kind in ("index", "price"):
        return f"{float(v):.3g}" if col.kind == "price" else f"{float(v):.3f}"
    decimals = 3 if col.unit == "km3" else 1
    rounded = round(float(v), decimals) + 0.0      # no negative zero ("-0.0")
    return f"{rounded:,.{decimals}f}"


# --------------------------------------------------------------------------- helpers

def check_units(units: str) -> float:
    """mcm per unit, or InputError."""
    if units not in UNITS:
        raise InputError([Problem("units", None, "", f"unknown units {units!r}; use mcm or km3")])
    return UNITS[units]


MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def first_month(ds: "xr.Dataset") -> int:
    """First month (0 = January) of the result's accounting year (attribute
    `accounting_year`, "oct" when absent: Oct-Sep as the ICWC counts)."""
    return MONTHS.index(str(ds.attrs.get("accounting_year", "oct")).lower())


def accounting_year(days: NDArray[np.datetime64], first: int = 9) -> NDArray[np.int64]:
    """Accounting year of each date, named by the calendar year it ends in (first month
    `first`, 0 = January; 9 = October gives the water year)."""
    months = days.astype("datetime64[M]").astype(np.int64)
    return months // 12 + 1970 + ((months % 12 >= first) & (first > 0))


def year_label(ds: "xr.Dataset") -> str:
    """The accounting year's months, e.g. "Oct-Sep" or "Jan-Dec"."""
    first = first_month(ds)
    return f"{MONTHS[first].title()}-{MONTHS[(first - 1) % 12].title()}"


def step_water_year(ds: "xr.Dataset") -> NDArray[np.int64]:
    """Accounting year of each step (of its start date); the water year (Oct-Sep) unless
    the result says otherwise (`[scenario] accounting_year`)."""
    return accounting_year(ds["time"].values.astype("datetime64[D]"), first_month(ds))


def water_years(ds: "xr.Dataset") -> list[int]:
    return [int(y) for y in np.unique(step_water_year(ds))]


def partial_years(ds: "xr.Dataset") -> list[int]:
    """Accounting years the run does not cover from their first to their last day."""
    bounds = ds["time_bounds"].values.astype("datetime64[D]")
    first = first_month(ds)
    out = []
    for year in water_years(ds):
        start = np.datetime64(f"{year - (1 if first > 0 else 0)}-{first + 1:02d}-01", "D")
        end = np.datetime64(f"{year + (0 if first > 0 else 1)}-{first + 1:02d}-01", "D")
        if bounds[0, 0] > start or bounds[-1, 1] < end:
            out.append(year)
    return out


def year_note(ds: "xr.Dataset") -> str:
    """The tables' note on the accounting year and the years the run covers in part."""
    partial = partial_years(ds)
    text = f"years: accounting years {year_label(ds)}, named by the calendar year they end in"
    if partial:
        text += "; partial (the run does not fill them): " + ", ".join(str(y) for y in partial)
    return text


def step_days(ds: "xr.Dataset") -> NDArray[np.float64]:
    bounds = ds["time_bounds"].values
    return np.asarray((bounds[:, 1] - bounds[:, 0]) / np.timedelta64(1, "D"), dtype=np.float64)


def _strs(values: Any) -> list[str]:
    return [str(v) for v in np.asarray(values)]


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > TOL_MCM else math.nan


# --------------------------------------------------------------------------- totals

def country_table(ds: "xr.Dataset", tol: float = TOL_MCM
                  ) -> list[tuple[str, float, float, float | None, int]]:
    """Per country: requested, supplied (in the Dataset's volume unit), % met (None if
    nothing requested), steps short by more than `tol` (TOL_MCM, in the same unit)."""
    rows = []
    dem_country = np.asarray(ds["demand_country"].values).astype(str)
    requested = np.asarray(ds["requested"].values, dtype=float)
    supplied = np.asarray(ds["supplied"].values, dtype=float)
    shortage = np.asarray(ds["shortage"].values, dtype=float) if "shortage" in ds else requested - supplied
    for country in [str(c) for c in ds["country"].values]:
        mine = dem_country == country
        req = float(requested[:, mine].sum())
        sup = float(supplied[:, mine].sum())
        short = int(np.sum((shortage[:, mine] > tol).any(axis=1)))
        rows.append((country, req, sup, 100.0 * sup / req if req > 0 else None, short))
    return rows


def clause_table(ds: "xr.Dataset", tol: float = TOL_MCM) -> list[dict[str, Any]]:
    """Per clause: kind, type, windows met / total (violated: violation > `tol`), worst
    violation and its window, total violation (the Dataset's volume unit), largest price."""
    rows: list[dict[str, Any]] = []
    if not ds.sizes.get("clause", 0):
        return rows
    viol_all = np.asarray(ds["clause_violation"].values, dtype=float)
    price_all = (np.asarray(ds["clause_shadow_price"].values, dtype=float)
                 if "clause_shadow_price" in ds else np.full_like(viol_all, np.nan))
    for c, cid in enumerate(ds["clause"].values):
        if _concentration_clause(ds, c):
            continue   # salinity limits are in mg/L: analysis.salinity (issue 14)
        viol = viol_all[:, c]
        valid = ~np.isnan(viol)
        n = int(valid.sum())
        met = int((viol[valid] <= tol).sum())
        worst = float(np.nanmax(viol)) if n else 0.0
        worst_window = ""
        if n and worst > tol:
            worst_window = str(ds["window_start"].values[int(np.nanargmax(viol)), c])[:10]
        prices = price_all[:, c]
        hard = bool(int(ds["clause_hard"].values[c])) if "clause_hard" in ds.coords else False
        prio = int(ds["clause_priority"].values[c]) if "clause_priority" in ds.coords else 0
        rows.append({
            "clause": str(cid),
            "kind": str(ds["clause_kind"].values[c]) if "clause_kind" in ds.coords else "",
            "type": "hard" if hard else f"soft p{prio}",
            "met": met, "windows": n,
            "worst_mcm": worst if worst > tol else 0.0,
            "worst_window": worst_window,
            "total_mcm": float(np.nansum(viol)),
            "price": float(np.nanmax(prices)) if np.isfinite(prices).any() else None,
        })
    return rows


# --------------------------------------------------------------------------- ledger

def country_caps(scenario: "Scenario") -> dict[str, str]:
    """clause id -> country, for the `max_withdrawal` clauses that cap a whole country
    (a country and no sector). The result file does not record a clause's country, so the
    ledger applies such caps only when it is told them (from the scenario)."""
    return {c.id: country for c in scenario.clauses if (country := c.caps_country()) is not None}


def entitlement_steps(ds: "xr.Dataset", country: str, caps: Mapping[str, str] | None = None
                      ) -> NDArray[np.float64]:
    """A country's entitlement per step [mcm]: its demands' requested volume, scaled down in
    each window of a `max_withdrawal` clause of the country (`caps`: clause id -> country)
    whose requests exceed the window's limit (`clause_required`), so the window sums to it."""
    mine = np.asarray(ds["demand_country"].values).astype(str) == country
    requested = np.asarray(ds["requested"].values, dtype=np.float64)
    ent: NDArray[np.float64] = np.asarray(requested[:, mine].sum(axis=1), dtype=np.float64)
    start = ds["time"].values
    if "clause_party_required" in ds and ds.sizes.get("clause", 0) and country in _strs(ds["country"].values):
        # where a share clause allots the country water, that allotment replaces the requests
        # of the demands it covers, spread over the window in proportion to those requests
        k = _strs(ds["country"].values).index(country)
        for c in range(ds.sizes["clause"]):
            if str(ds["clause_kind"].values[c]) != "share":
                continue
            covered = mine & (np.asarray(ds["clause_covers"].values[c]) > 0)
            if not covered.any():
                continue
            for w in range(ds.sizes["window"]):
                allotted = float(ds["clause_party_required"].values[w, c, k])
                ws, we = ds["window_start"].values[w, c], ds["window_end"].values[w, c]
                if np.isnan(allotted) or np.isnat(ws):
                    continue
                inside = (start >= ws) & (start < we)
                asked = requested[inside][:, covered].sum(axis=1)
                ent[inside] -= asked
                total = float(asked.sum())
                if str(ds["clause_mode"].values[c]) == "cap" if "clause_mode" in ds.coords else False:
                    allotted = min(allotted, total)      # a cap allows, it does not entitle beyond the ask
                ent[inside] += asked * (allotted / total) if total > 0 else allotted / max(int(inside.sum()), 1)
    if not caps or not ds.sizes.get("clause", 0):
        return ent
    clause_ids = _strs(ds["clause"].values)
    for c, cid in enumerate(clause_ids):
        if caps.get(cid) != country or str(ds["clause_kind"].values[c]) != "max_withdrawal":
            continue
        for w in range(ds.sizes["window"]):
            ws, we = ds["window_start"].values[w, c], ds["window_end"].values[w, c]
            if np.isnat(ws):
                continue
            inside = (start >= ws) & (start < we)
            limit = float(ds["clause_required"].values[w, c])
            total = float(ent[inside].sum())
            if total > limit and total > 0:
                ent[inside] *= max(limit, 0.0) / total
    return ent


def ledger(ds: "xr.Dataset", units: str = "mcm", caps: Mapping[str, str] | None = None,
           scenario: "Scenario | None" = None) -> dict[str, Table]:
    """The compliance ledger of a result.

    Returns ``{"parties": Table, "clauses": Table}``:

    parties : per country and water year, entitlement (requested volume of the country's
        demands, capped by its `max_withdrawal` clauses when `caps` or `scenario` name
        them), delivered (`withdrawal_by_country`), deviation = delivered - entitlement,
        and the running balance (deviations summed over the water years so far).
    clauses : per clause, windows met and violated (violation > TOL_MCM = 1e-6 mcm), the worst
        violation and the start of its window, the total violation, and the largest
        shadow price over the windows (NaN in step mode).
    """
    per = check_units(units)
    if scenario is not None and caps is None:
        caps = country_caps(scenario)
    if caps is None and "clause_country" in ds.coords:
        # results record whose limit a max_withdrawal clause is
        caps = {str(c): str(k) for c, k, kind in zip(ds.clause.values, ds["clause_country"].values,
                                                       ds["clause_kind"].values)
                if kind == "max_withdrawal" and str(k)}
    wy = step_water_year(ds)
    years = water_years(ds)
    delivered_all = np.asarray(ds["withdrawal_by_country"].values, dtype=float)
    parties = Table("parties", f"Ledger per party and accounting year ({year_label(ds)}) [{units}]", [
        Column("country", kind="str"), Column("water_year", kind="int"),
        Column("entitlement", units), Column("delivered", units), Column("deviation", units),
        Column("balance", units)])
    for k, country in enumerate(_strs(ds["country"].values)):
        ent = entitlement_steps(ds, country, caps)
        balance = 0.0
        for year in years:
            steps = wy == year
            e = float(ent[steps].sum())
            d = float(delivered_all[steps, k].sum())
            balance += d - e
            parties.rows.append([country, year, e / per, d / per, (d - e) / per, balance / per])
    parties.notes.append("entitlement: requested volume of the country's demands"
                         + (", capped by its max_withdrawal clauses" if caps else "")
                         + "; deviation = delivered - entitlement; balance: deviations carried over the water years")
    parties.notes.append(year_note(ds))
    tables = {"parties": parties, "clauses": clause_ledger(ds, units)}
    if "salinity" in ds.data_vars:   # issue 14
        from waterdesk.analysis.salinity import salinity_table

        tables["salinity"] = salinity_table(ds)
    return tables


def _concentration_clause(ds: "xr.Dataset", c: int) -> bool:
    """Whether clause c books concentrations [mg/L] (max_salinity), not volumes."""
    from waterdesk.analysis.salinity import SALINITY_KINDS

    return "clause_kind" in ds.coords and str(ds["clause_kind"].values[c]) in SALINITY_KINDS


def clause_ledger(ds: "xr.Dataset", units: str = "mcm") -> Table:
    """Per clause: windows met/violated, worst violation and its window, total, largest price."""
    per = check_units(units)
    table = Table("clauses", f"Clause compliance [{units}]", [
        Column("clause", kind="str"), Column("kind", kind="str"), Column("type", kind="str"),
        Column("windows", kind="int"), Column("windows_met", kind="int"),
        Column("windows_violated", kind="int"), Column("worst_violation", units),
        Column("worst_window_start", kind="str"), Column("total_violation", units),
        Column("largest_shadow_price", "mcm/mcm", kind="price")])
    for c, cid in enumerate(_strs(ds["clause"].values) if ds.sizes.get("clause", 0) else []):
        if _concentration_clause(ds, c):
            continue   # salinity limits are in mg/L: the salinity table (issue 14)
        violation = np.asarray(ds["clause_violation"].values[:, c], dtype=float)
        valid = ~np.isnan(violation)
        bad = valid & (violation > TOL_MCM)
        hard = int(ds["clause_hard"].values[c])
        typ = "hard" if hard else f"soft p{int(ds['clause_priority'].values[c])}"
        prices = np.asarray(ds["clause_shadow_price"].values[:, c], dtype=float)
        price = float(np.nanmax(prices)) if np.isfinite(prices).any() else math.nan
        if bad.any():
            w = int(np.nanargmax(violation))
            worst, when = float(violation[w]) / per, str(ds["window_start"].values[w, c])[:10]
        else:
            worst, when = 0.0, None
        table.rows.append([cid, str(ds["clause_kind"].values[c]), typ, int(valid.sum()),
                           int((valid & ~bad).sum()), int(bad.sum()), worst, when,
                           float(violation[valid].sum()) / per, price])
    table.notes.append(f"violated: violation > {TOL_MCM:g} mcm; shadow price: priority-weighted "
                       "shortage per mcm (horizon mode; '-' in step mode)")
    return table


# --------------------------------------------------------------------------- outcomes

def jain_index(values: Sequence[float]) -> float:
    """Jain's fairness index J = (Σx)² / (n·Σx²) of the finite values: 1 when all are equal,
    1/n when one has everything. NaN when there are none; 1 when all are 0 (equal)."""
    x = np.asarray([v for v in values if not _missing(v)], dtype=float)
    if not len(x):
        return math.nan
    sq = float((x * x).sum())
    if sq == 0.0:
        return 1.0
    return float(x.sum()) ** 2 / (len(x) * sq)


def _groups(ds: "xr.Dataset") -> list[tuple[str, str, NDArray[np.bool_]]]:
    """(group, item, mask of demands): each country, then each sector."""
    dem_country = np.asarray(ds["demand_country"].values).astype(str)
    dem_sector = np.asarray(ds["demand_sector"].values).astype(str)
    out = [("country", c, dem_country == c) for c in _strs(ds["country"].values)]
    out += [("sector", s, dem_sector == s) for s in dict.fromkeys(dem_sector.tolist())]
    return out


def demand_met(ds: "xr.Dataset", units: str = "mcm") -> Table:
    """Per country and per sector and water year: requested, supplied, % met, the worst
    calendar month (% met) and the number of shortage months."""
    per = check_units(units)
    wy = step_water_year(ds)
    month = ds["time"].values.astype("datetime64[M]")
    req = np.asarray(ds["requested"].values, dtype=float)
    sup = np.asarray(ds["supplied"].values, dtype=float)
    short = np.asarray(ds["shortage"].values, dtype=float)
    table = Table("demand_met", f"Demand met per country and sector and water year [{units}]", [
        Column("group", kind="str"), Column("item", kind="str"), Column("water_year", kind="int"),
        Column("requested", units), Column("supplied", units), Column("met", "%", kind="pct"),
        Column("worst_month", kind="str"), Column("worst_month_met", "%", kind="pct"),
        Column("shortage_months", kind="int")])
    for group, item, mask in _groups(ds):
        for year in water_years(ds):
            steps = wy == year
            r, s = float(req[steps][:, mask].sum()), float(sup[steps][:, mask].sum())
            worst, worst_pct, n_short = None, math.nan, 0
            for m in np.unique(month[steps]):
                in_m = steps & (month == m)
                rm, sm = float(req[in_m][:, mask].sum()), float(sup[in_m][:, mask].sum())
                if float(short[in_m][:, mask].sum()) > TOL_MCM:
                    n_short += 1
                pm = _pct(sm, rm)
                if not math.isnan(pm) and (math.isnan(worst_pct) or pm < worst_pct):
                    worst, worst_pct = str(m), pm
            table.rows.append([group, item, year, r / per, s / per, _pct(s, r), worst, worst_pct, n_short])
    table.notes.append(f"met = supplied / requested; worst month: lowest % met of a calendar month; "
                       f"shortage month: shortage > {TOL_MCM:g} mcm")
    table.notes.append(year_note(ds))
    return table


def equity(ds: "xr.Dataset") -> Table:
    """Jain's index of the countries' % met, per water year and over the whole run."""
    wy = step_water_year(ds)
    req = np.asarray(ds["requested"].values, dtype=float)
    sup = np.asarray(ds["supplied"].values, dtype=float)
    countries = [(item, mask) for group, item, mask in _groups(ds) if group == "country"]
    table = Table("equity", "Equity across countries (Jain's index of % met)", [
        Column("water_year", kind="str"), Column("countries", kind="int"),
        Column("lowest_met", "%", kind="pct"), Column("highest_met", "%", kind="pct"),
        Column("jain_index", "1", kind="index")])
    periods = [(str(y), wy == y) for y in water_years(ds)] + [("all", np.ones(len(wy), dtype=bool))]
    for label, steps in periods:
        met = [_pct(float(sup[steps][:, m].sum()), float(req[steps][:, m].sum())) for _, m in countries]
        met = [v for v in met if not math.isnan(v)]
        table.rows.append([label, len(met), min(met) if met else math.nan, max(met) if met else math.nan,
                           jain_index(met)])
    table.notes.append("J = (sum x)^2 / (n sum x^2) over the n countries with a request, x = % met: "
                       "1 = all equal, 1/n = one country gets everything")
    table.notes.append(year_note(ds))
    return table


def reservoirs(ds: "xr.Dataset", units: str = "mcm") -> Table:
    """Per reservoir and water year: storage at the end of the water year's last step in
    the run, spill volume and energy."""
    per = check_units(units)
    wy = step_water_year(ds)
    spill_mcm = np.asarray(ds["spill"].values, dtype=float) * (step_days(ds) * MCM_PER_M3S_DAY)[:, None]
    table = Table("reservoirs", f"Reservoir outcomes per water year [{units}, GWh]", [
        Column("reservoir", kind="str"), Column("water_year", kind="int"),
        Column("end_storage", units), Column("spill", units), Column("energy", "GWh"),
        Column("target_deviation", units)])
    deviation = (np.asarray(ds["target_deviation"].values, dtype=float) if "target_deviation" in ds
                 else np.full(ds["storage"].shape, np.nan))
    for k, name in enumerate(_strs(ds["reservoir"].values) if ds.sizes.get("reservoir", 0) else []):
        for year in water_years(ds):
            steps = np.flatnonzero(wy == year)
            table.rows.append([name, year, float(ds["storage"].values[steps[-1], k]) / per,
                               float(spill_mcm[steps, k].sum()) / per,
                               float(np.asarray(ds["energy"].values)[steps, k].sum()),
                               float(np.mean(deviation[steps, k])) / per])
    table.notes.append("end storage: at the end of the water year's last step in the run; "
                       "spill = spill flow x step length; target deviation: storage minus the "
                       "operating target, mean over the year's steps (empty without a target)")
    table.notes.append(year_note(ds))
    return table


def outcomes(ds: "xr.Dataset", units: str = "mcm") -> dict[str, Table]:
    """Equity and outcome measures: ``{"demand_met", "equity", "reservoirs"}`` tables."""
    return {"demand_met": demand_met(ds, units), "equity": equity(ds), "reservoirs": reservoirs(ds, units)}
