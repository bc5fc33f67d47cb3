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


def summary(result: "xr.Dataset", target: Path, seconds: float, lang: str = "en") -> str:
    """A short per-country table: requested, supplied, % met (texts and numbers in `lang`)."""
    from waterdesk.i18n import catalogue

    ds = result
    if "member" in ds.dims:
        return ensemble_summary(ds, target, seconds)
    c = catalogue(lang)
    mcm, n = c.unit("mcm"), c.num
    steps = ds.sizes["time"]
    lines = [
        c("run.header", scenario=ds.attrs["scenario"], basin=ds.attrs["basin"], steps=steps,
          timestep=c.term("timestep", ds.attrs["timestep"]), start=str(ds.time.values[0])[:10],
          seconds=n(seconds, 2), target=target),
        "",
        f"{c('col.country'):<8}{c('col.requested') + ' ' + mcm:>18}{c('col.supplied') + ' ' + mcm:>18}"
        f"{c('col.met') + ' %':>21}{c('col.short_steps'):>18}",
    ]
    for country, req, sup, pct, short_steps in country_table(ds):
        lines.append(f"{country:<8}{n(req):>18}{n(sup):>18}{n(pct):>21}{short_steps:>18}")
    req = float(ds["requested"].values.sum())
    sup = float(ds["supplied"].values.sum())
    lines.append(f"{c('word.total'):<8}{n(req):>18}{n(sup):>18}{n(100 * sup / req if req else 0):>21}")
    if ds.sizes.get("reservoir", 0):
        w = max(len(str(r)) for r in ds.reservoir.values) + 2
        lines += ["", f"{c('col.reservoir'):<{w}}{c('col.end_storage') + ' ' + mcm:>24}"
                  f"{c('col.spill') + ' ' + mcm:>24}{c('col.energy') + ' ' + c.unit('GWh'):>18}"]
        days = (ds["time_bounds"].values[:, 1] - ds["time_bounds"].values[:, 0]) / np.timedelta64(1, "D")
        for k, name in enumerate(ds.reservoir.values):
            spill_mcm = float((ds["spill"].values[:, k] * mcm_per_m3s(days)).sum())
            lines.append(f"{str(name):<{w}}{n(float(ds['storage'].values[-1, k])):>24}"
                         f"{n(spill_mcm):>24}{n(float(ds['energy'].values[:, k].sum())):>18}")
    if ds.sizes.get("clause", 0):
        lines += ["", clause_text(ds, lang)]
    if "salinity" in ds.data_vars:   # issue 14 (in English: its table is not yet in the catalogues)
        from waterdesk.analysis.salinity import run_summary

        lines += ["", run_summary(ds, c)]
    worst = float(np.abs(ds["mass_balance_error"].values).max())
    lines += ["", c("run.mass_balance", error=c.sci(worst))]
    if "salt_balance_error" in ds.data_vars:
        lines.append(c("run.salt_balance", error=c.sci(float(np.abs(ds["salt_balance_error"].values).max()))))
    return "\n".join(lines)


def clause_text(ds: "xr.Dataset", lang: str = "en") -> str:
    """Each clause: met or violated, windows, worst window and its violation [mcm]."""
    from waterdesk.i18n import catalogue

    c = catalogue(lang)
    mcm = c.unit("mcm")
    width = max([len(str(cid)) for cid in ds.clause.values] + [6]) + 2
    kinds = [c.term("kind", str(k)) for k in ds["clause_kind"].values]
    kw = max(len(k) for k in kinds + [c("col.kind")]) + 2
    types = [c("word.hard") if r["type"] == "hard" else c("word.soft_p", p=r["type"].rsplit("p", 1)[-1])
             for r in clause_table(ds)]
    tw = max(len(t) for t in types + [c("col.type")]) + 2
    head = (f"{c('col.clause'):<{width}}{c('col.kind'):<{kw}}{c('col.type'):<{tw}}{c('col.windows_met_of'):>19}"
            f"{c('col.worst_window'):>15}{c('col.violation') + ' ' + mcm:>18}{c('col.total') + ' ' + mcm:>14}"
            f"{c('col.price'):>9}")
    lines = [head]
    for row, kind, typ in zip(clause_table(ds), kinds, types):
        price = f"{c.num(row['price'], 3):>9}"
        worst = row["worst_window"] or "-"
        lines.append(f"{row['clause']:<{width}}{kind:<{kw}}{typ:<{tw}}"
                     f"{str(row['met']) + '/' + str(row['windows']):>19}{worst:>15}"
                     f"{c.num(row['worst_mcm']):>18}{c.num(row['total_mcm'] if row['worst_window'] else 0.0):>14}{price}")
    lines.append(c("run.price_note"))
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
