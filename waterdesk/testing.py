"""Helpers for tests and for users checking their own runs.

`write_case` builds a small basin + scenario + CSV inflows in a folder, so a
test is a few lines of TOML (written with `node`, `demand` and `reach`; `jan` and
`inflow` give one January's request and inflow); `assert_mass_balance` recomputes every node's
balance from the result variables alone (independently of the model's own
`mass_balance_error`); `assert_result_equal` compares two results.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from waterdesk.calendar import make_steps
from waterdesk.units import mcm_per_m3s

if TYPE_CHECKING:
    from waterdesk.model.scenario import Scenario


#: m3 s-1 that carry 1 mcm over January (31 days)
JAN_M3S_PER_MCM = 1.0 / (31 * 0.0864)


def jan(volume_mcm: float) -> str:
    """A 12-month request list with `volume_mcm` in January only."""
    return str([float(volume_mcm)] + [0.0] * 11)


def demand(node_id: str, priority: int, request: float, country: str = "AA",
           consumptive: float = 1.0, return_to: str | None = None) -> str:
    """A ``[[node]]`` table of an irrigation demand asking `request` mcm in January."""
    ret = f'\nreturn_to = "{return_to}"' if return_to else ""
    return f"""
[[node]]
id = "{node_id}"
kind = "demand"
country = "{country}"
sector = "irrigation"
priority = {priority}
monthly_mcm = {jan(request)}
consumptive_fraction = {consumptive}{ret}
"""


def node(node_id: str, kind: str, country: str = "AA") -> str:
    """A ``[[node]]`` table of `kind` (inflow, junction, gauge, sink; reservoirs add keys after it)."""
    return f'\n[[node]]\nid = "{node_id}"\nkind = "{kind}"\ncountry = "{country}"\n'


def reach(a: str, b: str, kind: str = "river", **extra: float) -> str:
    """A ``[[reach]]`` table from `a` to `b`, with `extra` keys (``k_days=2.0``...)."""
    more = "".join(f"\n{k} = {v}" for k, v in extra.items())
    return f'\n[[reach]]\nfrom = "{a}"\nto = "{b}"\nkind = "{kind}"{more}\n'


def inflow(volume_mcm: float) -> list[float]:
    """One January's inflow series [m3 s-1] carrying `volume_mcm`."""
    return [volume_mcm * JAN_M3S_PER_MCM]


def write_case(folder: str | Path, basin_toml: str, inflows: dict[str, list[float]],
               start: str = "2001-01-01", timestep: str = "month", scenario_extra: str = "",
               countries: tuple[str, ...] = ("AA", "BB"), name: str = "case") -> Path:
    """Write basin.toml, inflows.csv and scenario.toml; return the scenario path.

    `basin_toml` holds the [[node]] and [[reach]] tables; inflows give one value
    per step (m3 s-1) for each inflow node, and fix the number of steps.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(next(iter(inflows.values())))
    steps = make_steps(start, np.datetime64(start) + np.timedelta64(400 * n, "D"), timestep)
    starts = steps.start[: n + 1]  # one more row, so the last period's end is known
    end = starts[-2]
    header = textwrap.dedent(f"""\
        [basin]
        name = "{name}"
        countries = {list(countries)!r}
        inflows = "inflows.csv"
        """).replace("'", '"')
    (folder / "basin.toml").write_text(header + textwrap.dedent(basin_toml), "utf-8")
    lines = ["time," + ",".join(inflows)]
    for i, day in enumerate(starts):
        lines.append(f"{day}," + ",".join(repr(float(v[min(i, n - 1)])) for v in inflows.values()))
    (folder / "inflows.csv").write_text("\n".join(lines) + "\n", "utf-8")
    scenario = textwrap.dedent(f"""\
        [scenario]
        name = "{name}"
        basin = "basin.toml"
        start = "{start}"
        end = "{end}"
        timestep = "{timestep}"
        """) + textwrap.dedent(scenario_extra)
    path = folder / "scenario.toml"
    path.write_text(scenario, "utf-8")
    return path


def shipped_scenario(path: str | Path, basin: str, name: str, start: str, end: str,
                     body: str = "", timestep: str = "month") -> Path:
    """Write a scenario file at `path` on a shipped basin (``basins/<basin>/basin.toml``
    of this source tree) with `body` (TOML tables: clauses, inflows...) after the
    ``[scenario]`` table; return the path."""
    basin_file = (Path(__file__).resolve().parents[1] / "basins" / basin / "basin.toml").as_posix()
    path = Path(path)
    path.write_text(textwrap.dedent(f"""\
        [scenario]
        name = "{name}"
        basin = "{basin_file}"
        start = "{start}"
        end = "{end}"
        timestep = "{timestep}"
        """) + textwrap.dedent(body))
    return path


def step_days(ds: xr.Dataset) -> np.ndarray:
    """Length of each step [days]."""
    bounds = ds["time_bounds"].values
    return (bounds[:, 1] - bounds[:, 0]) / np.timedelta64(1, "D")


def node_balance(ds: xr.Dataset) -> np.ndarray:
    """Inflow - outflow - Δstorage - evaporation - consumption at every node and
    step [mcm], recomputed from the result's flows and storages only."""
    dl = mcm_per_m3s(step_days(ds))  # mcm per m3 s-1 over the step
    nodes = [str(n) for n in ds.node.values]
    idx = {n: i for i, n in enumerate(nodes)}
    bal = ds["local_inflow"].values * dl[:, None]
    frm = [idx[str(n)] for n in ds["reach_from"].values]
    to = [idx[str(n)] for n in ds["reach_to"].values]
    entry = ds["reach_flow"].values * dl[:, None]
    exit_ = ds["reach_outflow"].values * dl[:, None]
    for r in range(len(frm)):
        bal[:, frm[r]] -= entry[:, r]
        bal[:, to[r]] += exit_[:, r]
    kinds = ds["node_kind"].values
    for i, kind in enumerate(kinds):
        if kind == "sink":
            bal[:, i] -= ds["node_flow"].values[:, i] * dl
    for d, dem in enumerate(ds.demand.values):
        i = idx[str(dem)]
        arrived = ds["node_flow"].values[:, i] * dl
        consumed = ds["demand_consumptive_fraction"].values[d] * ds["supplied"].values[:, d]
        bal[:, i] -= arrived
        ret = str(ds["demand_return_to"].values[d])
        if ret:
            bal[:, idx[ret]] += arrived - consumed
    for k, res in enumerate(ds.reservoir.values):
        i = idx[str(res)]
        storage = ds["storage"].values[:, k]
        before = np.concatenate([[float(ds["reservoir_initial_storage"].values[k])], storage[:-1]])
        bal[:, i] -= storage - before + ds["evaporation"].values[:, k]
    return bal


def assert_mass_balance(ds: xr.Dataset, tol_mcm: float = 1e-6) -> None:
    """Every node and step closes within `tol_mcm`, both as reported and recomputed (for
    every member of an ensemble result)."""
    if "member" in ds.dims:
        for k in range(ds.sizes["member"]):
            assert_mass_balance(ds.isel(member=k), tol_mcm)
        return
    reported = np.abs(ds["mass_balance_error"].values).max(initial=0.0)
    assert reported <= tol_mcm, f"reported mass-balance error {reported:.3g} mcm > {tol_mcm}"
    recomputed = np.abs(node_balance(ds))
    worst = np.unravel_index(np.argmax(recomputed), recomputed.shape) if recomputed.size else (0, 0)
    assert recomputed.max(initial=0.0) <= tol_mcm, (
        f"mass balance does not close: {recomputed.max():.3g} mcm at step {worst[0]}, "
        f"node {ds.node.values[worst[1]]}")


def assert_result_equal(a: xr.Dataset, b: xr.Dataset) -> None:
    """Same variables, coordinates and values (provenance attributes aside)."""
    skip = {"history", "allocation_seconds", "horizon_build_seconds", "horizon_solve_seconds"}
    xr.testing.assert_identical(a.drop_attrs() if hasattr(a, "drop_attrs") else a,
                                b.drop_attrs() if hasattr(b, "drop_attrs") else b)
    for key in set(a.attrs) | set(b.attrs):
        if key not in skip:
            assert a.attrs.get(key) == b.attrs.get(key), f"attribute {key} differs"


def well_conditioned(scenario: "Scenario") -> bool:
    """False where a routed reach passes on only a small share a < 0.5 of a step's entry (a
    lag a little shorter than the step, Muskingum with dt near 2Kx): serving a request below
    it exactly needs 1/a of it upstream, and solver-tolerance noise grows by (1-a)/a per
    step, so two correct solves part ways (docs/DESIGN.md, "members") and no two solvers
    can be held to 1e-6 there. Random-network tests leave such cases out."""
    from waterdesk.kernels import routing
    from waterdesk.model.network import compile_network

    net = compile_network(scenario.basin)
    a, b = np.zeros(net.n_reach), np.zeros(net.n_reach)
    cum, q0, mi, mo = routing.new_state(3, net.n_reach)
    edges = np.concatenate([[0.0], np.cumsum(scenario.steps.days[:2])])
    routing.reach_advance(0, np.ones(net.n_reach), net.reach_routing, net.reach_k_days, net.reach_x,
                          edges, cum, q0, mi, mo)
    routing.reach_coefficients(1, net.reach_routing, net.reach_k_days, net.reach_x, net.reach_loss,
                               edges, cum, q0, mi, mo, a, b)
    share = a / (1.0 - net.reach_loss)
    return not bool(np.any((share > 1e-12) & (share < 0.5)))
