"""`waterdesk run SCENARIO... [-o OUT]`: run, write the result, print a summary."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.model.scenario import Scenario

from waterdesk.cli import _options
from waterdesk.units import mcm_per_m3s


def _output_path(scenario: "Scenario", output: str | None, several: bool) -> Path:
    name = scenario.name
    if output:
        out = Path(output)
        if several or out.is_dir() or output.endswith(("/", "\\")):
            return out / f"{name}.nc"
        return out
    configured = scenario.output_path
    return Path(configured) if configured else Path("out") / f"{name}.nc"


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_options.output
@_options.quiet
@click.pass_context
def run(ctx: click.Context, scenarios: tuple[str, ...], output: str | None, quiet: bool) -> None:
    """Run SCENARIO files and write their results as NetCDF.

    The result goes to -o, else the scenario's [output].path, else out/<name>.nc.
    With several scenarios, -o names a directory.
    """
    import waterdesk as wd

    quiet = _options.is_quiet(ctx, quiet)
    loaded = [wd.load_scenario(path) for path in scenarios]   # check all before running any
    several = len(loaded) > 1
    for scenario in loaded:
        target = _output_path(scenario, output, several)
        started = time.perf_counter()
        n_steps = len(scenario.steps)
        show_bar = not quiet and sys.stderr.isatty()
        if show_bar:
            with click.progressbar(length=n_steps, label=f"{scenario.name}", file=sys.stderr,
                                   show_pos=True) as bar:
                result = wd.run(scenario, output=target, progress=bar.update)
        else:
            result = wd.run(scenario, output=target)
        if not quiet:
            click.echo(summary(result, target, time.perf_counter() - started))


def summary(result: "xr.Dataset", target: Path, seconds: float) -> str:
    """A short per-country table: requested, supplied, % met."""
    ds = result
    steps = ds.sizes["time"]
    lines = [
        f"{ds.attrs['scenario']} ({ds.attrs['basin']}): {steps} {ds.attrs['timestep']} steps "
        f"from {str(ds.time.values[0])[:10]}, {seconds:.2f} s -> {target}",
        "",
        f"{'country':<8}{'requested mcm':>15}{'supplied mcm':>15}{'met %':>8}{'short steps':>13}",
    ]
    countries = [str(c) for c in ds.country.values]
    dem_country = ds["demand_country"].values
    for country in countries:
        mine = dem_country == country
        req = float(ds["requested"].values[:, mine].sum())
        sup = float(ds["supplied"].values[:, mine].sum())
        short_steps = int(np.sum((ds["shortage"].values[:, mine] > 1e-6).any(axis=1)))
        met = f"{100.0 * sup / req:.1f}" if req > 0 else "-"
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
        lines += ["", clause_table(ds)]
    worst = float(np.abs(ds["mass_balance_error"].values).max())
    lines += ["", f"largest mass-balance error: {worst:.1e} mcm"]
    return "\n".join(lines)


def clause_table(ds: "xr.Dataset") -> str:
    """Each clause: met or violated, windows, worst window and its violation [mcm]."""
    width = max([len(str(c)) for c in ds.clause.values] + [6]) + 2
    head = (f"{'clause':<{width}}{'kind':<16}{'type':<8}{'windows met':>12}{'worst window':>14}"
            f"{'violation mcm':>15}{'total mcm':>11}{'price':>9}")
    lines = [head]
    for c, cid in enumerate(ds.clause.values):
        violation = ds["clause_violation"].values[:, c]
        valid = ~np.isnan(violation)
        n = int(valid.sum())
        met = int((violation[valid] <= 1e-6).sum())
        kind = str(ds["clause_kind"].values[c])
        typ = "hard" if int(ds["clause_hard"].values[c]) else f"soft p{int(ds['clause_priority'].values[c])}"
        prices = ds["clause_shadow_price"].values[:, c]
        price = f"{float(np.nanmax(prices)):>9.3g}" if np.isfinite(prices).any() else f"{'-':>9}"
        if n and float(np.nanmax(violation)) > 1e-6:
            w = int(np.nanargmax(violation))
            worst = str(ds["window_start"].values[w, c])[:10]
            lines.append(f"{str(cid):<{width}}{kind:<16}{typ:<8}{f'{met}/{n}':>12}{worst:>14}"
                         f"{float(violation[w]):>15,.1f}{float(np.nansum(violation)):>11,.1f}{price}")
        else:
            lines.append(f"{str(cid):<{width}}{kind:<16}{typ:<8}{f'{met}/{n}':>12}{'-':>14}"
                         f"{0.0:>15,.1f}{0.0:>11,.1f}{price}")
    lines.append("price: largest shadow price over the windows, priority-weighted shortage per mcm "
                 "(horizon mode; '-' in step mode)")
    return "\n".join(lines)
