"""Write the synthetic monthly inflow file ``inflows.nc`` of the kura-araks basin.

The file holds ``inflow(time, node)`` in m3 s-1 for the 15 ``inflow`` nodes of
``basin.toml``, one value per calendar month (the mean flow of that month), for the
water years 1990/91 to 2019/20 (time = period starts, 1990-10-01 .. 2020-09-01).

THESE ARE NOT OBSERVATIONS. The fact sheet (shared/data/basin-facts.md §3.3) gives
long-run mean flows of the Kura, the Araks and their main tributaries and one
published monthly regime (Kura at Tbilisi). The series reproduces those means, with
the Tbilisi regime and an assumed year-to-year variability, so the basin can be run.

Method (every number is defined once below, with its source key or ASSUMPTION):

1. Long-run mean flow per inflow node (m3/s), ``TARGET_M3S``: published means where
   the fact sheet has one (UNECE-DRAFT, ARM-ENC, ALAZANI, UBILAVA...), ASSUMPTION for the
   ungauged parts, which are chosen so that
     - Kura at Tbilisi (natural) = 204 m3/s (UNECE-DRAFT, A): kura_tr + kura_ge_upper + aragvi;
     - Araks at the Kura confluence (natural) = 210 m3/s (UBILAVA, B): the Araks nodes sum to 210;
     - the Kura side is built bottom-up from the gauged tributaries (Tbilisi 204, Debed 37.0,
       Aghstev 9.18, Alazani 103) plus two ungauged terms (khrami_algeti, iori_upper).
   WHICH TOTAL IS MATCHED: the Araks total (210, UBILAVA) and the Kura-at-Tbilisi total
   (204, UNECE-DRAFT, grade A) are matched exactly; the basin-outlet total 575 m3/s
   (UBILAVA, B) is NOT forced. The natural outlet flow comes out at 628.2 m3/s (+9 %):
   forcing 575 would leave only 365 m3/s for the Kura above the Araks, less than the
   gauged tributaries alone (204 + 37.0 + 9.18 + 103 + 11.6 = 364.8 m3/s with nothing
   for the Khrami, Algeti or the natural Iori), and it would contradict the border gauge
   (276 m3/s, UNECE-DRAFT). 575 is therefore read as a (partly managed) Soviet water-balance
   figure and compared with the modelled managed outlet flow in README.md.
2. Monthly regime: fractions of the annual volume of the Kura at Tbilisi 1930-90
   (UNECE-DRAFT, A, monthly means weighted by days). ASSUMPTION: the same regime for every
   inflow node (Araks, Armenian, Georgian and Azerbaijani tributaries, Lake Sevan).
3. Interannual variability: one annual factor per river (Kura, Araks) and water year,
   F = exp(sigma*z - sigma^2/2), z a stationary AR(1) standard normal (lag-1 PHI), Kura
   and Araks innovations correlated (RHO). sigma = 0.19 is derived (grade C) from the
   Tbilisi annual extremes Qmax 325 / Qmin 133 m3/s in 55 years (UNECE-DRAFT, A):
   ln(325/133) = 0.893 = the expected range of 55 normal draws (~4.6 sigma).
4. Month-to-month noise: independent lognormal factor, mean 1, CV_MONTHLY.
5. Each node's series is rescaled so that its 30-water-year mean flow equals the target
   of step 1 exactly.

Everything is drawn from ``numpy.random.default_rng(SEED)``; the same seed and library
versions give the same file (no timestamps are written).

Usage::

    python basins/kura-araks/make_inflows.py            # writes inflows.nc next to this file
    python basins/kura-araks/make_inflows.py -o other.nc --seed 7
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import xarray as xr

from waterdesk.io.inflows import inflow_dataset, write_inflows
from waterdesk.scripts import script_arguments

SEED = 19570811  # date of the USSR-Iran Aras/Atrek protocol (ARAS-DAM); any fixed seed would do

# ---------------------------------------------------------------- published figures (m3/s)
KURA_TBILISI = 204.0     # UNECE-DRAFT (A): Qav 1936-90
ARAKS_MOUTH = 210.0      # UBILAVA (B): Araks, Soviet water balance
ARAKS_ARARAT = 86.2      # ARM-ENC (B): Araks in the Ararat plain
AKHURIAN = 31.8          # ARM-ENC (B)
HRAZDAN = 22.6           # ARM-ENC (B): ~714 mcm/yr, includes the Sevan outflow
SEVAN_OUTFLOW_MCM = 170.0  # ECOLUR-10627/11027 (B): statutory Sevan outflow, mcm/yr
ARPA = 21.5              # ARM-ENC (B)
VOROTAN = 21.5           # ARM-ENC (B)
DEBED = 37.0             # ARM-ENC (B)
AGHSTEV = 9.18           # ARM-ENC (B)
ALAZANI = 103.0          # ALAZANI (B): lower reach
SECONDS_PER_YEAR = 365.25 * 86400.0

# ---------------------------------------------------------------- assumptions (m3/s)
KURA_TR = 20.0           # ASSUMPTION: Kura leaving Turkey (NF); 10 % of Tbilisi, 174 of 1,515 km in TR
ARAGVI = 22.0            # ASSUMPTION: Aragvi at Zhinvali (NF); 0.69 km3/yr = 1.3 x Zhinvali's 520 mcm
KHRAMI_ALGETI = 45.0     # ASSUMPTION: Khrami (own) + Algeti + small GE tributaries below Tbilisi (NF),
                         # chosen so that the managed border flow is near 276 m3/s (UNECE-DRAFT, C)
IORI = 20.0              # ASSUMPTION: natural Iori at Sioni (NF); observed 11.6 at Salahly (IORI, B) is
                         # after Georgian irrigation from Sioni
AM_ARARAT_OTHER = 15.0   # ASSUMPTION: Metsamor, Kasakh, Azat, Vedi together (NF)
SEVAN_NET = SEVAN_OUTFLOW_MCM * 1e6 / SECONDS_PER_YEAR   # ASSUMPTION: lake in balance at the statutory outflow


def targets_m3s() -> dict[str, float]:
    """Long-run mean natural inflow of each inflow node, m3/s (step 1 above)."""
    araks_tr = ARAKS_ARARAT - AKHURIAN                     # 54.4: ASSUMPTION 86.2 includes Akhurian
    hrazdan_below_sevan = HRAZDAN - SEVAN_NET              # 17.21
    t = {
        # Kura
        "kura_tr": KURA_TR,
        "kura_ge_upper": KURA_TBILISI - KURA_TR - ARAGVI,  # 162.0: closes Tbilisi at 204
        "aragvi": ARAGVI,
        "khrami_algeti": KHRAMI_ALGETI,
        "debed": DEBED,
        "aghstev": AGHSTEV,
        "alazani": ALAZANI,
        "iori_upper": IORI,
        # Araks
        "araks_tr": araks_tr,
        "akhurian_in": AKHURIAN,
        "sevan_net": SEVAN_NET,                            # 5.39
        "hrazdan_ararat": hrazdan_below_sevan + AM_ARARAT_OTHER,   # 32.21
        "arpa": ARPA,
        "vorotan": VOROTAN,
    }
    araks_known = sum(t[n] for n in ("araks_tr", "akhurian_in", "sevan_net", "hrazdan_ararat",
                                     "arpa", "vorotan"))
    t["araks_ir_lateral"] = ARAKS_MOUTH - araks_known      # 43.2: closes Araks at 210
    return t


KURA_NODES = {"kura_tr", "kura_ge_upper", "aragvi", "khrami_algeti", "debed", "aghstev",
              "alazani", "iori_upper"}

# Monthly regime, Kura at Tbilisi 1930-90, m3/s Jan..Dec (UNECE-DRAFT, A)
TBILISI_MONTHLY = np.array([83.2, 91.3, 165, 456, 567, 353, 182, 110, 102, 114, 111, 95.8])
_DAYS = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
REGIME = TBILISI_MONTHLY * _DAYS / (TBILISI_MONTHLY * _DAYS).sum()   # fraction of annual volume
# = 3.5 3.5 6.9 18.5 23.7 14.3 7.6 4.6 4.1 4.8 4.5 4.0 % (basin-facts §3.3 "our calc")

SIGMA_ANNUAL = np.log(325.0 / 133.0) / 4.6   # 0.194, derived (C) from UNECE-DRAFT Qmax/Qmin
PHI = 0.3          # ASSUMPTION: lag-1 autocorrelation of annual flow (snowmelt + groundwater carry-over)
RHO = 0.7          # ASSUMPTION: correlation of Kura and Araks annual anomalies (neighbouring ranges)
CV_MONTHLY = 0.10  # ASSUMPTION: month-to-month noise around the regime

FIRST_WATER_YEAR = 1990
N_YEARS = 30


def annual_factors(rng: np.random.Generator, n_years: int) -> np.ndarray:
    """Lognormal AR(1) factors, shape (n_years, 2) for (Kura, Araks), mean 1."""
    chol = np.linalg.cholesky(np.array([[1.0, RHO], [RHO, 1.0]]))
    z = np.empty((n_years, 2))
    z[0] = chol @ rng.standard_normal(2)
    for t in range(1, n_years):
        z[t] = PHI * z[t - 1] + np.sqrt(1.0 - PHI**2) * (chol @ rng.standard_normal(2))
    return np.exp(SIGMA_ANNUAL * z - 0.5 * SIGMA_ANNUAL**2)


def generate(seed: int = SEED) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    targets = targets_m3s()
    nodes = list(targets)
    time = pd.date_range(f"{FIRST_WATER_YEAR}-10-01", periods=12 * N_YEARS, freq="MS")
    seconds = time.days_in_month.to_numpy() * 86400.0
    month_index = time.month.to_numpy() - 1
    water_year = np.arange(time.size) // 12

    factors = annual_factors(rng, N_YEARS)
    sigma_m = np.sqrt(np.log1p(CV_MONTHLY**2))
    noise = np.exp(sigma_m * rng.standard_normal((time.size, len(nodes))) - 0.5 * sigma_m**2)

    flow = np.empty((time.size, len(nodes)), dtype=np.float32)
    for j, node in enumerate(nodes):
        river = 0 if node in KURA_NODES else 1
        volume_m3 = (targets[node] * SECONDS_PER_YEAR * REGIME[month_index]
                     * factors[water_year, river] * noise[:, j])
        q = volume_m3 / seconds
        mean_m3s = (q * seconds).sum() / (N_YEARS * SECONDS_PER_YEAR)
        flow[:, j] = q * targets[node] / mean_m3s          # step 5

    ds = inflow_dataset(flow, time.to_numpy(), nodes)
    ds.attrs = {
        "Conventions": "CF-1.10",
        "title": "Kura-Araks: SYNTHETIC monthly natural inflows for waterdesk",
        "institution": "waterdesk project",
        "source": "synthetic series generated by basins/kura-araks/make_inflows.py; not observed data",
        "synthetic": "yes",
        "method": (
            "long-run mean flow per node x monthly regime fraction (Kura at Tbilisi, UNECE-DRAFT) x "
            "annual factor (lognormal, sigma %.3f from Tbilisi Qmax/Qmin, AR(1) lag-1 %.2f, Kura-Araks "
            "correlation %.2f, per water year Oct-Sep, shared by the nodes of one river) x monthly "
            "lognormal noise (CV %.2f); each node rescaled so its %d-year mean equals the target"
            % (SIGMA_ANNUAL, PHI, RHO, CV_MONTHLY, N_YEARS)),
        "random_generator": "numpy.random.default_rng (PCG64)",
        "seed": int(seed),
        "target_mean_m3s": "; ".join(f"{n}={v:.2f}" for n, v in targets.items()),
        "totals_matched": ("natural Kura at Tbilisi 204 m3/s (UNECE-DRAFT, A) and natural Araks at "
                           "the confluence 210 m3/s (UBILAVA, B) matched exactly; natural outlet "
                           "628.2 m3/s, not forced to 575 (UBILAVA) - see make_inflows.py docstring"),
        "figures_used": (
            "Kura Tbilisi 204 m3/s and monthly means 1930-90, Qmax 325 / Qmin 133 (UNECE-DRAFT, A); "
            "Araks 210 m3/s (UBILAVA, B); Araks Ararat plain 86.2, Akhurian 31.8, Hrazdan 22.6, "
            "Arpa 21.5, Vorotan 21.5, Debed 37.0, Aghstev 9.18 m3/s (ARM-ENC, B); Alazani 103 m3/s "
            "(ALAZANI, B); Sevan statutory outflow 170 mcm/yr (ECOLUR, B). Keys refer to "
            "shared/data/basin-facts.md"),
        "assumptions": (
            "Kura leaving TR 20, Aragvi at Zhinvali 22, Khrami+Algeti 45, natural Iori 20, "
            "Metsamor/Kasakh/Azat/Vedi 15 m3/s; Araks 86.2 includes Akhurian; Sevan net inflow = "
            "170 mcm/yr; Tbilisi regime for every node; PHI, RHO, CV_MONTHLY. See README.md"),
        "history": f"make_inflows.py --seed {seed}",
    }
    return ds


def main() -> None:
    args = script_arguments(__doc__, __file__, SEED)
    ds = generate(args.seed)
    write_inflows(ds, args.output, dtype="float32")   # waterdesk.io.inflows: atomic, CF encoding

    seconds = ds["time"].dt.days_in_month * 86400.0
    mean = (ds["inflow"].astype("float64") * seconds).sum("time") / (N_YEARS * SECONDS_PER_YEAR)
    print(f"wrote {args.output}  ({ds.sizes['time']} months x {ds.sizes['node']} nodes, seed {args.seed})")
    for node in ds["node"].values:
        print(f"  {node:<18}{float(mean.sel(node=node)):9.2f} m3/s")
    kura = float(mean.sel(node=sorted(KURA_NODES)).sum())
    total = float(mean.sum())
    print(f"  Kura side {kura:.1f}  Araks side {total - kura:.1f}  natural outlet {total:.1f} m3/s "
          f"({total * SECONDS_PER_YEAR / 1e9:.2f} km3/yr)")


if __name__ == "__main__":
    main()
