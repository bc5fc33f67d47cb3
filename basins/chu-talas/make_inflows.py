"""Write the synthetic monthly inflow file ``inflows.nc`` of the chu-talas basin.

The file holds ``inflow(time, node)`` in m3 s-1 for the five ``inflow`` nodes of
``basin.toml``, one value per calendar month (the mean flow of that month), for
the water years 1990/91 to 2019/20 (time = period starts, 1990-10-01 .. 2020-09-01).

THESE ARE NOT OBSERVATIONS. No monthly Chu or Talas record is in the fact sheet
(shared/data/basin-facts.md §4.2: border-gauge means "NF"). The series only
reproduces published annual totals, with an assumed seasonal regime and an
assumed year-to-year variability, so that the basin can be run end to end.

Method (every number is defined once below, with its source key or ASSUMPTION):

1. Long-run annual volume per inflow node (km3/yr) from the fact-sheet totals:
   KG-generated Chu + Talas = AQUASTAT-KG 6.74 km3 (Chu/Talas/Assa) minus the
   Kurkureu-Suu (Assa basin, not modelled; 7.11 m3/s) = 6.516 km3; the
   Chu + Talas total of ZOI (8 km3) minus that = 1.484 km3 generated in KZ.
   The Chu/Talas split and the Chu split above/below Orto-Tokoy are assumptions.
2. Monthly regime: fractions derived for the Toktogul inflow (TOK1992, grade C),
   transferred to every node (assumption: same snow/glacier regime, peak Jun-Jul).
3. Interannual variability: one annual factor per river and water year,
   F = exp(sigma*z - sigma^2/2) with z a stationary AR(1) standard normal
   (lag-1 correlation PHI), Chu and Talas innovations correlated (RHO);
   the coefficient of variation of F is CV_ANNUAL. Nodes on one river share F.
4. Month-to-month noise: an independent lognormal factor with mean 1 and
   coefficient of variation CV_MONTHLY.
5. Each node's series is finally rescaled so that its 30-water-year mean
   annual volume equals the target of step 1 exactly (the "norm").

Everything is drawn from ``numpy.random.default_rng(SEED)``; the same seed and the
same library versions give a byte-identical file (no timestamps are written).

Usage::

    python basins/chu-talas/make_inflows.py            # writes inflows.nc next to this file
    python basins/chu-talas/make_inflows.py -o other.nc --seed 7
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import xarray as xr

from waterdesk.io.inflows import inflow_dataset, write_inflows
from waterdesk.scripts import annual_table, script_arguments

SEED = 20000121  # date of the KZ-KG Chu-Talas facilities agreement (CT-2000); any fixed seed would do

# ---------------------------------------------------------------- published figures
TOTAL_CHU_TALAS_KM3 = 8.0       # ZOI (B): Chu + Talas total annual discharge "some 8 km3"
KG_CHU_TALAS_ASSA_KM3 = 6.74    # AQUASTAT-KG (A): KG-generated Chu/Talas/Assa resources
KURKUREU_M3S = 7.11             # KURKUREU (B): Kurkureu-Suu (Assa basin) mean flow 2001-17
SECONDS_PER_YEAR = 365.25 * 86400.0

# ---------------------------------------------------------------- assumptions
# ASSUMPTION: Chu share of the KG-generated volume. Not in the fact sheet. 5.0 km3
# (about 77 %) is taken because the Great Soviet Encyclopedia (article "Chu", not a
# fact-sheet source) gives 130 m3/s (4.1 km3/yr) where the Chu leaves the mountains
# (Boom gorge), to which the Kyrgyz Ala-Too tributaries of the Chu valley add more;
# the Talas gets the remainder (1.516 km3 = 48 m3/s).
CHU_KG_KM3 = 5.0
# ASSUMPTION: inflow to Orto-Tokoy (Kochkor + Joon-Aryk headwaters) 0.9 km3/yr
# (28.5 m3/s), i.e. about twice the 450 mcm storage, so the reservoir regulates
# seasonally. Not in the fact sheet.
CHU_UPPER_KM3 = 0.9
# ASSUMPTION: the KZ-generated volume is split between Chu and Talas in the same
# proportion as the KG-generated volume.

# Monthly regime, fraction of annual volume, Jan..Dec.
# TOK1992 (C), derived Toktogul inflow fractions: Apr 7.4 %, May 12.8 %, Jun 17.3 %,
# Jul 18.3 %, Aug 11.2 %, Sep 7.9 %, Oct-Mar together 25.1 % spread flat (fact-sheet
# placeholder, 4.183 %/month). ASSUMPTION: the Naryn (Toktogul) snow/glacier regime
# is transferred to all Chu and Talas inflow nodes.
_WINTER = 25.1 / 6.0
REGIME_PCT = np.array(
    [_WINTER, _WINTER, _WINTER, 7.4, 12.8, 17.3, 18.3, 11.2, 7.9, _WINTER, _WINTER, _WINTER]
)
REGIME = REGIME_PCT / REGIME_PCT.sum()  # sums to 100.0 already; normalised for safety

CV_ANNUAL = 0.18   # ASSUMPTION: CV of annual flow of snow/glacier-fed Tien Shan rivers (not in fact sheet)
PHI = 0.3          # ASSUMPTION: lag-1 autocorrelation of annual flow (glacier/groundwater carry-over)
RHO = 0.8          # ASSUMPTION: correlation of Chu and Talas annual anomalies (neighbouring ranges)
CV_MONTHLY = 0.10  # ASSUMPTION: month-to-month noise around the regime

FIRST_WATER_YEAR = 1990  # water year 1990/91 starts 1990-10-01
N_YEARS = 30             # ... to 2019/20, ending 2020-09 (brief: at least 1990-10 .. 2020-09)


def annual_targets_km3() -> dict[str, float]:
    """Long-run mean annual volume of each inflow node, km3/yr (step 1 above)."""
    kurkureu_km3 = KURKUREU_M3S * SECONDS_PER_YEAR / 1e9          # 0.224 km3
    kg_chu_talas = KG_CHU_TALAS_ASSA_KM3 - kurkureu_km3            # 6.516 km3
    kz_generated = TOTAL_CHU_TALAS_KM3 - kg_chu_talas              # 1.484 km3
    talas_kg = kg_chu_talas - CHU_KG_KM3                           # 1.516 km3
    chu_share = CHU_KG_KM3 / kg_chu_talas                          # 0.767
    return {
        "chu_upper": CHU_UPPER_KM3,                                # 0.900
        "chu_lateral_kg": CHU_KG_KM3 - CHU_UPPER_KM3,              # 4.100
        "chu_lateral_kz": kz_generated * chu_share,                # 1.139
        "talas_upper": talas_kg,                                   # 1.516
        "talas_lateral_kz": kz_generated * (1.0 - chu_share),      # 0.345
    }


RIVER = {"chu_upper": 0, "chu_lateral_kg": 0, "chu_lateral_kz": 0,
         "talas_upper": 1, "talas_lateral_kz": 1}


def annual_factors(rng: np.random.Generator, n_years: int) -> np.ndarray:
    """Lognormal AR(1) factors, shape (n_years, 2) for (Chu, Talas), mean 1, CV = CV_ANNUAL."""
    sigma = np.sqrt(np.log1p(CV_ANNUAL**2))
    cov = np.array([[1.0, RHO], [RHO, 1.0]])
    chol = np.linalg.cholesky(cov)
    z = np.empty((n_years, 2))
    z[0] = chol @ rng.standard_normal(2)                       # stationary start
    for t in range(1, n_years):
        eps = chol @ rng.standard_normal(2)
        z[t] = PHI * z[t - 1] + np.sqrt(1.0 - PHI**2) * eps     # stays N(0, 1)
    return np.exp(sigma * z - 0.5 * sigma**2)


def generate(seed: int = SEED) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    targets = annual_targets_km3()
    nodes = list(targets)
    time = pd.date_range(f"{FIRST_WATER_YEAR}-10-01", periods=12 * N_YEARS, freq="MS")
    seconds = time.days_in_month.to_numpy() * 86400.0
    month_index = time.month.to_numpy() - 1                    # 0 = January
    water_year = np.arange(time.size) // 12                    # 0 .. N_YEARS-1

    factors = annual_factors(rng, N_YEARS)                     # (year, river)
    sigma_m = np.sqrt(np.log1p(CV_MONTHLY**2))
    noise = np.exp(sigma_m * rng.standard_normal((time.size, len(nodes))) - 0.5 * sigma_m**2)

    flow = np.empty((time.size, len(nodes)))
    for j, node in enumerate(nodes):
        volume_m3 = (targets[node] * 1e9 * REGIME[month_index]
                     * factors[water_year, RIVER[node]] * noise[:, j])
        flow[:, j] = volume_m3 / seconds
        # step 5: rescale so the 30-year mean annual volume equals the target exactly
        mean_km3 = (flow[:, j] * seconds).sum() / N_YEARS / 1e9
        flow[:, j] *= targets[node] / mean_km3

    ds = inflow_dataset(flow, time.to_numpy(), nodes)
    targets_txt = "; ".join(f"{n}={v:.3f}" for n, v in targets.items())
    ds.attrs = {
        "Conventions": "CF-1.10",
        "title": "Chu and Talas rivers: SYNTHETIC monthly natural inflows for waterdesk",
        "institution": "waterdesk project",
        "source": "synthetic series generated by basins/chu-talas/make_inflows.py; not observed data",
        "synthetic": "yes",
        "generation_method": (
            "long-run annual volume per node (target) x monthly regime fraction x annual factor "
            "(lognormal, AR(1) lag-1 correlation %.2f, CV %.2f, Chu-Talas correlation %.2f, shared by "
            "the nodes of one river, per water year Oct-Sep) x monthly lognormal noise (CV %.2f); "
            "each node rescaled so its %d-year mean annual volume equals the target"
            % (PHI, CV_ANNUAL, RHO, CV_MONTHLY, N_YEARS)
        ),
        "random_generator": "numpy.random.default_rng (PCG64)",
        "random_seed": int(seed),
        "target_annual_mean_km3": targets_txt,
        "published_figures": (
            "Chu+Talas total ~8 km3/yr (ZOI, grade B); KG-generated Chu/Talas/Assa 6.74 km3/yr "
            "(AQUASTAT-KG, A); Kurkureu-Suu 7.11 m3/s 2001-17, subtracted as Assa (KURKUREU, B); "
            "monthly regime = derived Toktogul inflow fractions (TOK1992, C). Keys refer to "
            "shared/data/basin-facts.md"
        ),
        "assumptions": (
            "Chu KG-generated 5.0 km3/yr (Talas gets the remainder); Orto-Tokoy inflow 0.9 km3/yr; "
            "KZ-generated volume split as the KG-generated; Toktogul regime transferred to all "
            "nodes; annual CV, persistence, cross-correlation and monthly noise as in "
            "generation_method. See basins/chu-talas/README.md"
        ),
        "history": f"make_inflows.py --seed {seed}",
    }
    return ds


def main() -> None:
    args = script_arguments(__doc__, __file__, SEED)
    ds = generate(args.seed)
    write_inflows(ds, args.output, dtype="float64")   # waterdesk.io.inflows: atomic, CF encoding
    lines, annual_km3, _ = annual_table(ds, N_YEARS, 18)
    print(f"wrote {args.output}  ({ds.sizes['time']} months x {ds.sizes['node']} nodes, seed {args.seed})")
    print("\n".join(lines))
    total = float(annual_km3.sum())
    kg = float(annual_km3.sel(node=["chu_upper", "chu_lateral_kg", "talas_upper"]).sum())
    print(f"{'total':<18}{total:9.3f}   (KG-generated {kg:.3f}, KZ-generated {total - kg:.3f})")


if __name__ == "__main__":
    main()
