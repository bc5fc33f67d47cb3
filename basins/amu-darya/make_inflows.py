"""Write the synthetic monthly inflow file ``inflows.nc`` of the amu-darya basin.

The file holds ``inflow(time, node)`` in m3 s-1 for the eight ``inflow`` nodes of
``basin.toml`` (and ``basin-rogun.toml``, which has the same inflow nodes), one value
per calendar month (the mean flow of that month), for the water years 1990/91 to
2019/20 (time = period starts, 1990-10-01 .. 2020-09-01).

THESE ARE NOT OBSERVATIONS. The fact sheet (shared/data/basin-facts.md) has no monthly
Amu Darya record (§2.3: "month-by-month fractions: NF"). The series reproduce the
published long-run annual total and its split by tributary, with an assumed seasonal
regime and assumed year-to-year variability, so that the basin can be run end to end.

What "natural inflow" means here
    Flow formed in the basin with no withdrawals and no reservoirs. Return water
    (collector-drainage flow) is NOT in it: it is produced by the model itself from the
    demands' ``consumptive_fraction`` / ``return_to`` (basin.toml), so counting it here
    would count it twice.

Method (every number is defined once below, with its source key or ASSUMPTION):

1. Basin total 79.28 km3/yr = natural multi-year flow formed in the Amu Darya basin
   (UNESCO2003, grade A, basin-facts §0.1). It covers the whole basin in the wide sense,
   including the Zeravshan and other rivers that no longer reach the Amu.
2. ZERAVSHAN: kept as its own inflow node ``zeravshan_in`` that drains to its own
   terminal sink (``zeravshan_terminal``), NOT joined to the Amu network: it "does not
   reach the Amu" (§2.1). Its volume 5.36 km3/yr is the 1981-2011 mean (ZERAV, B). It is
   in the 79.3 km3 total, but none of it reaches the Amu or the Aral in the model.
3. The remaining 79.28 - 5.36 = 73.92 km3/yr (cf. "Amu Darya 74 km3", WATERUNITES) is
   split by the Termez breakdown (TERMEZ, A): Panj 51 %, Vakhsh 29.8 %, Kafirnigan 8.2 %,
   Surkhandarya 5.3 %, Kunduz 5.4 % (sum 99.7 %, renormalised to 100 %). ASSUMPTION: the
   small rivers that are in the UNESCO total but not in the Termez breakdown (Sherabad,
   Kashkadarya, Murghab/Tejen parts, ~2-3 km3) are folded into these five by the scaling;
   this overstates the main-stem flow by a few percent.
4. Panj split by country of formation (ASSUMPTION, C, derived): AF forms 14.50 km3 of
   the Amu (UNESCO2003, A); minus the Kunduz (4.00 km3 from step 3) leaves 10.50 km3 for
   the AF (left-bank) Panj tributaries (Kokcha, Wakhan) -> ``panj_af_in``; the rest of the
   Panj -> ``panj_tj_in``.
   Vakhsh split: KG forms 1.604 km3 of the Amu (UNESCO2003, A); ASSUMPTION: all of it on
   the Kyzyl-Suu/Surkhob (upper Vakhsh) -> ``vakhsh_kg_in``; rest -> ``vakhsh_tj_in``.
5. Monthly regime, fraction of the annual volume (ASSUMPTION, grade C: month-by-month NF,
   §2.3). Glacier/snow rivers (Panj, Vakhsh, Kafirnigan, Zeravshan) use REGIME_GLACIER,
   built so that Apr-Sep = 80 % (Nurek inflow, YB2021/YB2023, A), January ~150-170 m3/s
   and July > 1,500 m3/s on the Vakhsh (VAKHSH, B: winter ~150, summer > 1,500 m3/s).
   Lower snow-fed rivers (Kunduz, Surkhandarya) use REGIME_SNOW with an earlier (Apr-Jun)
   peak, Apr-Sep 77.5 % (ASSUMPTION).
6. Interannual variability: one annual factor per node and water year,
   F = exp(sigma*z - sigma^2/2); z = sqrt(RHO)*common + sqrt(1-RHO)*own, both stationary
   AR(1) standard normal series (lag-1 PHI); coefficient of variation CV_ANNUAL.
7. Month-to-month noise: independent lognormal factor, mean 1, CV CV_MONTHLY.
8. Each node's series is rescaled so that its 30-water-year mean annual volume equals
   its target exactly (the "norm").

Everything is drawn from ``numpy.random.default_rng(SEED)``; the same seed and library
versions give a byte-identical file (no timestamps are written).

Usage::

    python basins/amu-darya/make_inflows.py            # writes inflows.nc next to this file
    python basins/amu-darya/make_inflows.py -o other.nc --seed 7
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import xarray as xr

from waterdesk.io.inflows import inflow_dataset, write_inflows
from waterdesk.scripts import annual_table, script_arguments

SEED = 19960116  # date of the UZ-TM Amu Darya agreement (UZTM1996); any fixed seed would do

# ---------------------------------------------------------------- published figures
BASIN_TOTAL_KM3 = 79.28      # UNESCO2003 (A), basin-facts §0.1: Amu Darya natural flow formation
ZERAVSHAN_KM3 = 5.36         # ZERAV (B), §2.3: Zeravshan 1981-2011 mean
AF_FORMED_KM3 = 14.50        # UNESCO2003 (A), §0.1: Amu Darya flow formed in Afghanistan
KG_FORMED_KM3 = 1.604        # UNESCO2003 (A), §0.1: Amu Darya flow formed in Kyrgyzstan
TERMEZ_PCT = {               # TERMEZ (A), §2.3: breakdown of the 63.6 km3 at Termez
    "panj": 51.0, "vakhsh": 29.8, "kafirnigan": 8.2, "surkhandarya": 5.3, "kunduz": 5.4,
}
SECONDS_PER_YEAR = 365.25 * 86400.0

# ---------------------------------------------------------------- assumptions
# Monthly regimes, % of annual volume, Jan..Dec (ASSUMPTION, see step 5).
#                        Jan  Feb  Mar  Apr   May   Jun   Jul   Aug   Sep  Oct  Nov  Dec
REGIME_GLACIER_PCT = [2.0, 2.0, 4.5, 6.0, 12.0, 20.0, 22.0, 14.0, 6.0, 5.5, 3.5, 2.5]  # Apr-Sep 80.0
REGIME_SNOW_PCT = [3.0, 3.5, 7.0, 14.0, 19.0, 17.5, 13.5, 8.5, 5.0, 3.0, 3.0, 3.0]     # Apr-Sep 77.5
CV_ANNUAL = 0.13   # ASSUMPTION: Amu Darya annual extremes 52.8-96.3 km3 around ~79 (WATERUNITES) ~ +-2.5 sigma
PHI = 0.3          # ASSUMPTION: lag-1 autocorrelation of annual flow (glacier / groundwater carry-over)
RHO = 0.8          # ASSUMPTION: share of the annual anomaly common to all tributaries (one climate)
CV_MONTHLY = 0.10  # ASSUMPTION: month-to-month noise around the regime

FIRST_WATER_YEAR = 1990  # water year 1990/91 starts 1990-10-01
N_YEARS = 30             # ... to 2019/20, ending 2020-09


def annual_targets_km3() -> dict[str, float]:
    """Long-run mean annual volume of each inflow node, km3/yr (steps 1-4 above)."""
    amu = BASIN_TOTAL_KM3 - ZERAVSHAN_KM3                          # 73.92
    tot = sum(TERMEZ_PCT.values())                                  # 99.7
    trib = {k: amu * v / tot for k, v in TERMEZ_PCT.items()}
    return {
        "panj_tj_in": trib["panj"] - (AF_FORMED_KM3 - trib["kunduz"]),   # 27.31
        "panj_af_in": AF_FORMED_KM3 - trib["kunduz"],                    # 10.50
        "vakhsh_kg_in": KG_FORMED_KM3,                                   # 1.604
        "vakhsh_tj_in": trib["vakhsh"] - KG_FORMED_KM3,                  # 20.49
        "kafirnigan_in": trib["kafirnigan"],                             # 6.08
        "kunduz_in": trib["kunduz"],                                     # 4.00
        "surkhandarya_in": trib["surkhandarya"],                         # 3.93
        "zeravshan_in": ZERAVSHAN_KM3,                                   # 5.36
    }


REGIME_OF = {"kunduz_in": REGIME_SNOW_PCT, "surkhandarya_in": REGIME_SNOW_PCT}


def _ar1(rng: np.random.Generator, n: int) -> np.ndarray:
    z = np.empty(n)
    z[0] = rng.standard_normal()
    for t in range(1, n):
        z[t] = PHI * z[t - 1] + np.sqrt(1.0 - PHI**2) * rng.standard_normal()
    return z


def generate(seed: int = SEED) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    targets = annual_targets_km3()
    nodes = list(targets)
    time = pd.date_range(f"{FIRST_WATER_YEAR}-10-01", periods=12 * N_YEARS, freq="MS")
    seconds = time.days_in_month.to_numpy() * 86400.0
    month_index = time.month.to_numpy() - 1
    water_year = np.arange(time.size) // 12

    sigma = np.sqrt(np.log1p(CV_ANNUAL**2))
    common = _ar1(rng, N_YEARS)
    sigma_m = np.sqrt(np.log1p(CV_MONTHLY**2))
    flow = np.empty((time.size, len(nodes)))
    for j, node in enumerate(nodes):
        z = np.sqrt(RHO) * common + np.sqrt(1.0 - RHO) * _ar1(rng, N_YEARS)
        factor = np.exp(sigma * z - 0.5 * sigma**2)
        noise = np.exp(sigma_m * rng.standard_normal(time.size) - 0.5 * sigma_m**2)
        regime = np.asarray(REGIME_OF.get(node, REGIME_GLACIER_PCT)) / 100.0
        volume_m3 = targets[node] * 1e9 * regime[month_index] * factor[water_year] * noise
        flow[:, j] = volume_m3 / seconds
        mean_km3 = (flow[:, j] * seconds).sum() / N_YEARS / 1e9
        flow[:, j] *= targets[node] / mean_km3                      # step 8

    ds = inflow_dataset(flow, time.to_numpy(), nodes)
    ds.attrs = {
        "Conventions": "CF-1.10",
        "title": "Amu Darya: SYNTHETIC monthly natural inflows for waterdesk",
        "institution": "waterdesk project",
        "source": "synthetic series generated by basins/amu-darya/make_inflows.py; not observed data",
        "synthetic": "yes",
        "generation_method": (
            "long-run annual volume per node (target) x monthly regime fraction x annual factor "
            "(lognormal, CV %.2f; z = sqrt(%.2f) common + sqrt(1-%.2f) own, both AR(1) with lag-1 "
            "correlation %.2f; per water year Oct-Sep) x monthly lognormal noise (CV %.2f); each node "
            "rescaled so its %d-year mean annual volume equals the target"
            % (CV_ANNUAL, RHO, RHO, PHI, CV_MONTHLY, N_YEARS)
        ),
        "random_generator": "numpy.random.default_rng (PCG64)",
        "random_seed": int(seed),
        "target_annual_mean_km3": "; ".join(f"{n}={v:.3f}" for n, v in targets.items()),
        "total_annual_mean_km3": f"{sum(targets.values()):.3f} (UNESCO2003 basin total 79.28)",
        "published_figures": (
            "basin total 79.28 km3/yr and AF 14.50 / KG 1.604 km3/yr formed (UNESCO2003, A); "
            "Termez breakdown Panj 51 / Vakhsh 29.8 / Kafirnigan 8.2 / Surkhandarya 5.3 / Kunduz 5.4 %% "
            "(TERMEZ, A); Zeravshan 5.36 km3/yr 1981-2011 (ZERAV, B); Nurek inflow 80 %% in Apr-Sep "
            "(YB2021, YB2023, A); Vakhsh winter ~150 / summer >1,500 m3/s (VAKHSH, B). Keys refer to "
            "shared/data/basin-facts.md"
        ).replace("%%", "%"),
        "zeravshan": ("included as node zeravshan_in draining to its own terminal sink; does not "
                      "reach the Amu Darya (basin-facts §2.1)"),
        "return_water": "excluded: natural flow only; return flows are computed by the model",
        "assumptions": (
            "month-by-month regimes (glacier: Apr-Sep 80 %, snow: 77.5 %); Panj split TJ/AF and Vakhsh "
            "split KG/TJ by country of formation; small rivers outside the Termez breakdown folded "
            "in by scaling; annual CV, persistence, common share and monthly noise as in "
            "generation_method. See basins/amu-darya/README.md"
        ),
        "history": f"make_inflows.py --seed {seed}",
    }
    return ds


def main() -> None:
    args = script_arguments(__doc__, __file__, SEED)
    ds = generate(args.seed)
    write_inflows(ds, args.output, dtype="float64")   # waterdesk.io.inflows: atomic, CF encoding
    lines, annual_km3, per_year = annual_table(ds, N_YEARS, 17)
    print(f"wrote {args.output}  ({ds.sizes['time']} months x {ds.sizes['node']} nodes, seed {args.seed})")
    print("\n".join(lines))
    tot = per_year.sum("node")
    print(f"{'total':<17}{float(annual_km3.sum()):9.3f}   (UNESCO2003 79.28; "
          f"driest water year {float(tot.min()):.1f}, wettest {float(tot.max()):.1f} km3)")


if __name__ == "__main__":
    main()
