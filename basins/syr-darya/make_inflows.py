"""Write the synthetic monthly inflow file ``inflows.nc`` of the syr-darya basin.

The file holds ``inflow(time, node)`` in m3 s-1 for the ten ``inflow`` nodes of
``basin.toml``, one value per calendar month (the mean flow of that month), for
the water years 1990/91 to 2019/20 (time = period starts, 1990-10-01 .. 2020-09-01).

THESE ARE NOT OBSERVATIONS. The fact sheet (shared/data/basin-facts.md §0, §1.3, §1.4)
gives long-run annual volumes at a few points and a monthly regime for the Toktogul
inflow only. The series reproduce those published figures, with an assumed
year-to-year variability, so that the basin can be run end to end.

NATURAL FLOW, RETURN WATER. The total is the basin's natural (multi-year) surface
flow formation, 37.203 km3/yr (UNESCO2003, grade A, fact sheet §0.1). Natural flow
excludes return water: the 40.8 km3 "with return flow" figure (CAW-SYR, B) and the
6.7 km3/yr of usable return water are NOT in this file. Return water is produced
inside the model by the demands (basin.toml: consumptive_fraction, return_to).

Method (every number is defined once below, with its source key or ASSUMPTION):

1. Long-run annual volume per inflow node (km3/yr) from the point flows of §1.3:
   Toktogul inflow 11.9 (TOK1992 + ICWC-2025-26, C derived), Naryn near mouth 13.7
   (WIKI-NARYN, B), Kara Darya at Kempirabad 121 m3/s and at Uchtepa 136 m3/s
   (WIKI-KARADARYA, B), Chirchik 7.2 at the mouth and 6.6 at Charvak dam
   (RYSBEKOV-CHAB, CHARVAK, A), Akhangaran 0.72 (RYSBEKOV-CHAB, A). Arys + Keles are NF:
   ASSUMPTION, they carry Kazakhstan's 2.426 km3 (UNESCO2003, A), split 70:30.
   The Fergana valley small rivers (Sokh, Isfara, Isfayram, Akbura, Kasansay, Chadak...,
   lumped) get the residual, so that the total equals 37.203 km3 exactly.
2. Monthly regime: the Toktogul inflow fractions of §1.4 (TOK1992, C): Apr 7.4, May
   12.8, Jun 17.3, Jul 18.3, Aug 11.2, Sep 7.9 %, Oct-Mar together 25.1 % spread flat
   (the monthly split of the winter is NF: flat placeholder, as the fact sheet says).
   Andijan and Charvak keep the Apr-Sep shape but take their own non-vegetation share
   from the ICWC non-vegetation norms of §1.3 (C derived): Andijan 0.93 / 3.818 = 24.4 %,
   Charvak 1.43 / 6.6 = 21.7 %. ASSUMPTION: all other nodes use the Toktogul regime.
3. Interannual variability (ASSUMPTION, not in the fact sheet): one basin-wide annual
   factor per water year, lognormal with CV_ANNUAL and AR(1) persistence PHI, times a
   node-specific annual factor with CV_NODE (independent), times monthly lognormal
   noise with CV_MONTHLY. All factors have mean 1.
4. Each node's series is finally rescaled so that its 30-water-year mean annual volume
   equals the target of step 1 exactly (the "norm"); the total is then 37.203 km3/yr.

Everything is drawn from ``numpy.random.default_rng(SEED)``; the same seed and the same
library versions give a byte-identical file (no timestamps are written).

Usage::

    python basins/syr-darya/make_inflows.py            # writes inflows.nc next to this file
    python basins/syr-darya/make_inflows.py -o other.nc --seed 7
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from waterdesk.io.inflows import inflow_dataset, write_inflows
from waterdesk.scripts import annual_table, script_arguments

SEED = 19980317  # date of the 1998 Syr Darya water-energy agreement (IEA-4763); any fixed seed would do
SECONDS_PER_YEAR = 365.25 * 86400.0


def km3(m3s: float) -> float:
    return m3s * SECONDS_PER_YEAR / 1e9


# ---------------------------------------------------------------- published figures
TOTAL_KM3 = 37.203            # UNESCO2003 (A): Syr Darya natural flow formation, all countries
KZ_FORMED_KM3 = 2.426         # UNESCO2003 (A): formed in Kazakhstan
TOKTOGUL_VEG_1992_KM3 = 8.923  # TOK1992 (C): Apr-Sep 1992 inflow, dekad-weighted sum
TOKTOGUL_WINTER_NORM_KM3 = 2.99  # ICWC-2025-26 (C derived): Oct-Mar inflow norm
NARYN_MOUTH_KM3 = 13.7        # WIKI-NARYN (B): Naryn near its mouth, 429 m3/s
KARADARYA_KEMPIRABAD_M3S = 121.0  # WIKI-KARADARYA (B): at Kempirabad (= Andijan dam)
KARADARYA_UCHTEPA_M3S = 136.0     # WIKI-KARADARYA (B): at Uchtepa (near the confluence)
CHIRCHIK_KM3 = 7.2            # RYSBEKOV-CHAB (A): Chirchik
CHARVAK_KM3 = 6.6             # CHARVAK (A): 208 m3/s at Charvak dam
AKHANGARAN_KM3 = 0.72         # RYSBEKOV-CHAB (A)
ANDIJAN_NONVEG_NORM_KM3 = 0.93  # ICWC-2025-26 (C derived): 884 mcm = 95 % of norm
CHARVAK_NONVEG_NORM_KM3 = 1.43  # ICWC-2025-26 (C derived): 1.07 km3 = 75 % of norm

# ---------------------------------------------------------------- assumptions
ARYS_SHARE_OF_KZ = 0.70   # ASSUMPTION: Arys (with the Karatau streams) vs Keles split of KZ-formed flow; NF
CV_ANNUAL = 0.18          # ASSUMPTION: CV of annual flow (snow/glacier-fed Tien Shan rivers); NF
PHI = 0.3                 # ASSUMPTION: lag-1 autocorrelation of annual flow; NF
CV_NODE = 0.05            # ASSUMPTION: node-specific annual deviation from the basin factor; NF
CV_MONTHLY = 0.10         # ASSUMPTION: month-to-month noise around the regime; NF

FIRST_WATER_YEAR = 1990
N_YEARS = 30

VEG_PCT = {4: 7.4, 5: 12.8, 6: 17.3, 7: 18.3, 8: 11.2, 9: 7.9}  # TOK1992 (C), sum 74.9


def regime(nonveg_share: float) -> np.ndarray:
    """Fractions Jan..Dec: Apr-Sep shaped as Toktogul, Oct-Mar flat (NF placeholder)."""
    veg = np.array([VEG_PCT[m] for m in range(4, 10)])
    veg = veg / veg.sum() * (1.0 - nonveg_share)
    out = np.full(12, nonveg_share / 6.0)
    out[3:9] = veg
    return out


TOKTOGUL_REGIME = regime(1.0 - sum(VEG_PCT.values()) / 100.0)     # winter 25.1 %


def annual_targets_km3() -> dict[str, float]:
    """Long-run mean annual volume of each inflow node, km3/yr (step 1 above)."""
    toktogul = TOKTOGUL_VEG_1992_KM3 + TOKTOGUL_WINTER_NORM_KM3        # 11.913
    t = {
        "naryn_toktogul_inflow": toktogul,
        "naryn_lateral": NARYN_MOUTH_KM3 - toktogul,                    # 1.787
        "karadarya_andijan_inflow": km3(KARADARYA_KEMPIRABAD_M3S),      # 3.818
        "karadarya_lateral": km3(KARADARYA_UCHTEPA_M3S - KARADARYA_KEMPIRABAD_M3S),  # 0.473
        "chirchik_charvak_inflow": CHARVAK_KM3,                         # 6.600
        "chirchik_lateral": CHIRCHIK_KM3 - CHARVAK_KM3,                 # 0.600
        "akhangaran_inflow": AKHANGARAN_KM3,                            # 0.720
        "arys_inflow": KZ_FORMED_KM3 * ARYS_SHARE_OF_KZ,                # 1.698
        "keles_inflow": KZ_FORMED_KM3 * (1.0 - ARYS_SHARE_OF_KZ),       # 0.728
    }
    t["fergana_small_rivers"] = TOTAL_KM3 - sum(t.values())             # residual, 8.866
    return t


def regimes() -> dict[str, np.ndarray]:
    r = {n: TOKTOGUL_REGIME for n in annual_targets_km3()}
    r["karadarya_andijan_inflow"] = regime(ANDIJAN_NONVEG_NORM_KM3 / km3(KARADARYA_KEMPIRABAD_M3S))
    r["chirchik_charvak_inflow"] = regime(CHARVAK_NONVEG_NORM_KM3 / CHARVAK_KM3)
    return r


def annual_factors(rng: np.random.Generator, n_years: int, n_nodes: int) -> np.ndarray:
    """(n_years, n_nodes) lognormal factors: basin AR(1) factor x node factor, mean ~1."""
    s = np.sqrt(np.log1p(CV_ANNUAL**2))
    z = np.empty(n_years)
    z[0] = rng.standard_normal()
    for t in range(1, n_years):
        z[t] = PHI * z[t - 1] + np.sqrt(1.0 - PHI**2) * rng.standard_normal()
    basin = np.exp(s * z - 0.5 * s**2)
    sn = np.sqrt(np.log1p(CV_NODE**2))
    node = np.exp(sn * rng.standard_normal((n_years, n_nodes)) - 0.5 * sn**2)
    return basin[:, None] * node


def generate(seed: int = SEED, years_scale: dict[int, float] | None = None) -> xr.Dataset:
    """years_scale: optional {water-year index: factor} applied AFTER the norm rescaling
    (used for the drought variant; the norm file passes None)."""
    rng = np.random.default_rng(seed)
    targets = annual_targets_km3()
    reg = regimes()
    nodes = list(targets)
    time = pd.date_range(f"{FIRST_WATER_YEAR}-10-01", periods=12 * N_YEARS, freq="MS")
    seconds = time.days_in_month.to_numpy() * 86400.0
    month_index = time.month.to_numpy() - 1
    water_year = np.arange(time.size) // 12

    factors = annual_factors(rng, N_YEARS, len(nodes))
    sm = np.sqrt(np.log1p(CV_MONTHLY**2))
    noise = np.exp(sm * rng.standard_normal((time.size, len(nodes))) - 0.5 * sm**2)

    flow = np.empty((time.size, len(nodes)))
    for j, node in enumerate(nodes):
        vol = targets[node] * 1e9 * reg[node][month_index] * factors[water_year, j] * noise[:, j]
        flow[:, j] = vol / seconds
        mean_km3 = (flow[:, j] * seconds).sum() / N_YEARS / 1e9
        flow[:, j] *= targets[node] / mean_km3
    if years_scale:
        for wy, f in years_scale.items():
            flow[water_year == wy, :] *= f

    ds = inflow_dataset(flow, time.to_numpy(), nodes)
    ds.attrs = {
        "Conventions": "CF-1.10",
        "title": "Syr Darya: SYNTHETIC monthly natural inflows for waterdesk",
        "institution": "waterdesk project",
        "source": "synthetic series generated by basins/syr-darya/make_inflows.py; not observed data",
        "synthetic": "yes",
        "generation_method": (
            "long-run annual volume per node (target) x monthly regime fraction x basin-wide annual "
            "factor (lognormal, AR(1) lag-1 %.2f, CV %.2f, per water year Oct-Sep) x node annual factor "
            "(CV %.2f) x monthly lognormal noise (CV %.2f); each node rescaled so that its %d-year mean "
            "annual volume equals the target" % (PHI, CV_ANNUAL, CV_NODE, CV_MONTHLY, N_YEARS)),
        "random_generator": "numpy.random.default_rng (PCG64)",
        "random_seed": int(seed),
        "natural_flow": ("natural flow formation: excludes return water (40.8 km3 'with return flow', "
                         "6.7 km3/yr usable return water CAW-SYR are NOT included; returns are made "
                         "by the model's demands)"),
        "target_total_km3": f"{sum(targets.values()):.3f}",
        "target_annual_mean_km3": "; ".join(f"{n}={v:.3f}" for n, v in targets.items()),
        "published_figures": (
            "Syr Darya natural flow 37.203 km3/yr, KZ-formed 2.426 (UNESCO2003, A); Toktogul inflow "
            "8.923 km3 Apr-Sep 1992 (TOK1992, C) + 2.99 km3 Oct-Mar norm (ICWC-2025-26, C); Naryn near "
            "mouth 13.7 km3 (WIKI-NARYN, B); Kara Darya 121 m3/s Kempirabad, 136 m3/s Uchtepa "
            "(WIKI-KARADARYA, B); Chirchik 7.2 km3 (RYSBEKOV-CHAB, A), 6.6 km3 at Charvak (CHARVAK, A); "
            "Akhangaran 0.72 km3 (RYSBEKOV-CHAB, A); non-vegetation norms Andijan 0.93, Charvak 1.43 km3 "
            "(ICWC-2025-26, C); monthly regime Toktogul Apr-Sep % (TOK1992, C). Keys refer to "
            "shared/data/basin-facts.md"),
        "assumptions": (
            "Arys:Keles = 70:30 of the KZ-formed 2.426 km3; Fergana small rivers = residual to 37.203; "
            "Oct-Mar flat; Toktogul regime transferred to all nodes except the Apr-Sep/Oct-Mar split "
            "of Andijan and Charvak; variability parameters as in generation_method. "
            "See basins/syr-darya/README.md"),
        "history": f"make_inflows.py --seed {seed}",
    }
    if years_scale:
        ds.attrs["title"] += " (DROUGHT VARIANT)"
        ds.attrs["drought_variant"] = "; ".join(
            f"water year {FIRST_WATER_YEAR + k}/{(FIRST_WATER_YEAR + k + 1) % 100:02d} x {f}"
            for k, f in years_scale.items())
    return ds


# ASSUMPTION (drought variant): the synthetic flows of the three water years 2007/08-2009/10 are
# multiplied by 0.84 (the 2021 Aral-basin ratio to norm, YB2021 (0.2), applied three years running;
# no multi-year drought figure is in the fact sheet). With this seed the three years become 28.0,
# 33.2 and 28.2 km3 (75 %, 89 %, 76 % of the 37.2 km3 norm). Written to inflows-drought-2008.nc for
# scenarios/syr-darya/drought-3yr.toml; the other 27 years equal inflows.nc.
DROUGHT_YEARS = {17: 0.84, 18: 0.84, 19: 0.84}   # indices: 1990/91 = 0 -> 2007/08 = 17


def write(ds: xr.Dataset, path: Path) -> None:
    write_inflows(ds, path, dtype="float32")   # waterdesk.io.inflows: atomic, CF encoding


def main() -> None:
    args = script_arguments(__doc__, __file__, SEED, drought_output="inflows-drought-2008.nc")
    ds = generate(args.seed)
    write(ds, args.output)
    write(generate(args.seed, DROUGHT_YEARS), args.drought_output)
    lines, annual, per_year = annual_table(ds, N_YEARS, 26)
    print(f"wrote {args.output} and {args.drought_output} "
          f"({ds.sizes['time']} months x {ds.sizes['node']} nodes, seed {args.seed})")
    print("\n".join(lines))
    tot = per_year.sum("node")
    print(f"{'total':<26}{float(annual.sum()):9.3f}   (target {TOTAL_KM3}; "
          f"driest year {float(tot.min()):.2f}, wettest {float(tot.max()):.2f} km3)")


if __name__ == "__main__":
    main()
