"""The text summary `waterdesk run` prints after a run (docs/REFERENCE.md §9): per country
requested, supplied and % met; per reservoir end storage, spill and energy; per clause
windows met and the worst violation; for an ensemble run the spread over the members.
Formats the tables of `waterdesk.analysis.accounts`; reads and writes nothing."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from waterdesk.analysis.accounts import TOL_MCM, clause_table, country_table, step_water_year
from waterdesk.units import mcm_per_m3s

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["summary", "clause_text", "ensemble_summary"]


def summary(result: "xr.Dataset", target: Path, seconds: float) -> str:
    """A short per-country table: requested, supplied, % met."""
    ds = result
    if "member" in ds.dims:
        return ensemble_summary(ds, target, seconds)
    steps = ds.sizes["time"]
    lines = [
        f"{ds.attrs['scenario']} ({ds.attrs['basin']}): {steps} {ds.attrs['timestep']} steps "
        f"from {str(ds.time.values[0])[:10]}, {seconds:.2f} s -> {target}",
        "",
        f"{'country':<8}{'requested mcm':>15}{'supplied mcm':>15}{'met %':>8}{'short steps':>13}",
    ]
    for country, req, sup, pct, short_steps in country_table(ds):
        met = f"{pct:.1f}" if pct is not None else "-"
        lines.append(f"{country:<8}{req:>15,.1f}{sup:>15,.1f}{met:>8}{short_steps:>13}")
    req = float(ds["requested"].values.sum())
    sup = float(ds["supplied"].values.sum())
    lines.append(f"{'total':<8}{req:>15,.1f}{sup:>15,.1f}{(100 * sup / req if req else 0):>8.1f}")
    if ds.sizes.get("reservoir", 0):
        lines += ["", f"{'reservoir':<16}{'end storage mcm':>17}{'spill mcm':>12}{'energy GWh':>12}"]
        days = (ds["time_bounds"].values[:, 1] - ds["time_bounds"].values[:, 0]) / np.timedelta64(1, "D")
        for k, name in enumerate(ds.reservoir.values):
            spill_mcm = float((ds["spill"].values[:, k] * mcm_per_m3s(days)).sum())
            lines.append(f"{str(name):<16}{float(ds['storage'].values[-1, k]):>17,.1f}"
                         f"{spill_mcm:>12,.1f}{float(ds['energy'].values[:, k].sum()):>12,.1f}")
    if ds.sizes.get("clause", 0):
        lines += ["", clause_text(ds)]
    if "salinity" in ds.data_vars:   # issue 14
        from waterdesk.analysis.salinity import run_summary

        lines += ["", run_summary(ds)]
    worst = float(np.abs(ds["mass_balance_error"].values).max())
    lines += ["", f"largest mass-balance error: {worst:.1e} mcm"]
    if "salt_balance_error" in ds.data_vars:
        lines.append(f"largest salt-balance error: {float(np.abs(ds['salt_balance_error'].values).max()):.1e} t")
    return "\n".join(lines)


def clause_text(ds: "xr.Dataset") -> str:
    """Each clause: met or violated, windows, worst window and its violation [mcm]."""
    width = max([len(str(c)) for c in ds.clause.values] + [6]) + 2
    head = (f"{'clause':<{width}}{'kind':<16}{'type':<8}{'windows met':>12}{'worst window':>14}"
            f"{'violation mcm':>15}{'total mcm':>11}{'price':>9}")
    lines = [head]
    for row in clause_table(ds):
        price = f"{row['price']:>9.3g}" if row["price"] is not None else f"{'-':>9}"
        worst = row["worst_window"] or "-"
        lines.append(f"{row['clause']:<{width}}{row['kind']:<16}{row['type']:<8}"
                     f"{str(row['met']) + '/' + str(row['windows']):>12}{worst:>14}"
                     f"{row['worst_mcm']:>15,.1f}{(row['total_mcm'] if row['worst_window'] else 0.0):>11,.1f}{price}")
    lines.append("price: largest shadow price over the windows, priority-weighted shortage per mcm "
                 "(horizon mode; '-' in step mode)")
    return "\n".join(lines)


def ensemble_summary(ds: "xr.Dataset", target: Path, seconds: float) -> str:
    """An ensemble run: per country the mean over members of what was supplied, the range
    of % met and the share of member-water-years fully supplied; per reservoir the end
    storage (mean, range); per clause the share of member-windows held."""
    n_m, steps = ds.sizes["member"], ds.sizes["time"]
    lines = [
        f"{ds.attrs['scenario']} ({ds.attrs['basin']}): {n_m} inflow members x {steps} "
        f"{ds.attrs['timestep']} steps from {str(ds.time.values[0])[:10]}, {seconds:.2f} s -> {target}",
        "",
        f"{'country':<8}{'requested mcm':>15}{'supplied mcm':>15}{'met %':>8}{'met % range':>14}"
        f"{'years fully supplied %':>24}",
    ]
    wy = step_water_year(ds)
    years = np.unique(wy)
    dem_country = ds["demand_country"].values
    supplied = ds["supplied"].transpose("member", "time", "demand").values
    shortage = ds["shortage"].transpose("member", "time", "demand").values
    for country in [str(c) for c in ds.country.values] + ["total"]:
        mine = dem_country == country if country != "total" else np.ones(len(dem_country), dtype=bool)
        req = float(ds["requested"].values[:, mine].sum())
        sup = supplied[:, :, mine].sum(axis=(1, 2))                       # per member
        short = shortage[:, :, mine].sum(axis=2)                           # (member, time)
        full = float(np.mean([short[:, wy == y].sum(axis=1) <= TOL_MCM for y in years]))
        met = 100.0 * sup / req if req > 0 else np.full(n_m, np.nan)
        span = f"{np.min(met):.1f}-{np.max(met):.1f}" if req > 0 else "-"
        lines.append(f"{country:<8}{req:>15,.1f}{float(sup.mean()):>15,.1f}"
                     f"{(f'{float(np.mean(met)):.1f}' if req > 0 else '-'):>8}{span:>14}{100 * full:>24.1f}")
    lines.append("supplied and met %: mean over the members (requests are the same in every member); "
                 "years fully supplied: share of the member-water-years without shortage")
    if ds.sizes.get("reservoir", 0):
        w = max(len(str(r)) for r in ds.reservoir.values) + 2
        lines += ["", f"{'reservoir':<{w}}{'end storage mcm, mean':>23}{'range':>22}"]
        end = ds["storage"].transpose("member", "time", "reservoir").values[:, -1, :]
        for k, name in enumerate(ds.reservoir.values):
            lines.append(f"{str(name):<{w}}{float(end[:, k].mean()):>23,.1f}"
                         f"{f'{end[:, k].min():,.1f}-{end[:, k].max():,.1f}':>22}")
    if ds.sizes.get("clause", 0):
        w = max(len(str(c)) for c in ds.clause.values) + 2
        lines += ["", f"{'clause':<{w}}{'kind':<16}{'member-windows held':>22}{'worst window held %':>22}"]
        violation = ds["clause_violation"].transpose("member", "window", "clause").values
        for c, cid in enumerate(ds.clause.values):
            v = violation[:, :, c]
            valid = ~np.isnan(v[0])
            held = v[:, valid] <= TOL_MCM
            share = f"{100 * held.mean():.1f} %" if held.size else "-"
            worst = f"{100 * held.mean(axis=0).min():.0f}" if held.size else "-"
            lines.append(f"{str(cid):<{w}}{str(ds['clause_kind'].values[c]):<16}{share:>22}{worst:>22}")
    worst_mb = float(np.abs(ds["mass_balance_error"].values).max())
    lines += ["", f"largest mass-balance error (all members): {worst_mb:.1e} mcm"]
    return "\n".join(lines)
