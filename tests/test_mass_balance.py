"""Mass balance closes at every node and step on random networks (hypothesis)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import waterdesk as wd
from waterdesk.testing import assert_mass_balance, assert_result_equal, write_case


def _floats(values: np.ndarray) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def random_basin(seed: int, timestep: str) -> tuple[str, dict[str, list[float]]]:
    """A random tree draining to 'sea', with inflows on leaves, reservoirs,
    demands on canals (some returning downstream), all routing kinds and losses."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 12))
    parent = [-1] + [int(rng.integers(0, i)) for i in range(1, n)]
    children = {i: [j for j in range(n) if parent[j] == i] for i in range(n)}
    n_steps = {"day": 40, "dekad": 24, "month": 18}[timestep]
    toml, inflows = [], {}
    for i in range(n):
        leaf = not children[i]
        kind = "inflow" if leaf or rng.random() < 0.2 else ("reservoir" if rng.random() < 0.4 else "junction")
        toml.append(f'[[node]]\nid = "n{i}"\nkind = "{kind}"\ncountry = "{"AA" if i % 2 else "BB"}"')
        if kind == "inflow":
            inflows[f"n{i}"] = list(rng.gamma(2.0, 5.0, n_steps))
        if kind == "reservoir":
            cap = float(rng.uniform(10, 200))
            toml.append(f"capacity_mcm = {cap}\ndead_storage_mcm = {cap * 0.1}\n"
                        f"initial_storage_mcm = {cap * rng.uniform(0, 1)}\n"
                        f"area_curve = [[0.0, 0.0], [{cap}, {rng.uniform(0.5, 10)}]]\n"
                        f"evaporation_mm = {_floats(rng.uniform(0, 150, 12))}")
    toml.append('[[node]]\nid = "sea"\nkind = "sink"\ncountry = "AA"')
    for i in range(n):
        down = "sea" if parent[i] < 0 else f"n{parent[i]}"
        routing = str(rng.choice(["none", "lag", "muskingum"]))
        k = float(rng.uniform(0.3, 6.0))
        x = float(rng.uniform(0, min(0.5, 0.45 / k)))
        toml.append(f'[[reach]]\nfrom = "n{i}"\nto = "{down}"\nrouting = "{routing}"\n'
                    f"k_days = {k}\nx = {x}\nloss_fraction = {rng.uniform(0, 0.2)}")
    for d in range(int(rng.integers(1, 5))):
        src = int(rng.integers(0, n))
        ancestors = []
        p = parent[src]
        while p >= 0:
            ancestors.append(f"n{p}")
            p = parent[p]
        ret = f'\nreturn_to = "{str(rng.choice(ancestors + ["sea"]))}"' if rng.random() < 0.6 else ""
        toml.append(f'[[node]]\nid = "d{d}"\nkind = "demand"\ncountry = "AA"\nsector = "irrigation"\n'
                    f"priority = {int(rng.integers(1, 4))}\nmonthly_mcm = {_floats(rng.uniform(0, 60, 12))}\n"
                    f"consumptive_fraction = {rng.uniform(0.3, 1.0)}{ret}")
        cap = f"\nmax_flow_m3s = {rng.uniform(1, 30)}" if rng.random() < 0.3 else ""
        toml.append(f'[[reach]]\nfrom = "n{src}"\nto = "d{d}"\nkind = "canal"\n'
                    f'routing = "{str(rng.choice(["none", "lag"]))}"\nk_days = {rng.uniform(0.1, 2)}{cap}')
    return "\n".join(toml) + "\n", inflows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), timestep=st.sampled_from(["day", "dekad", "month"]))
def test_mass_balance_closes_on_random_networks(tmp_path_factory, seed, timestep):
    basin, inflows = random_basin(seed, timestep)
    path = write_case(tmp_path_factory.mktemp("mb"), basin, inflows, timestep=timestep)
    ds = wd.run(path)
    assert_mass_balance(ds, tol_mcm=1e-6)
    assert (ds["supplied"].values <= ds["requested"].values + 1e-6).all()
    assert (ds["supplied"].values >= -1e-9).all()
    cap = ds["reservoir_capacity"].values
    assert (ds["storage"].values <= cap + 1e-6).all()


def test_rerun_gives_identical_results(tmp_path):
    basin, inflows = random_basin(7, "dekad")
    path = write_case(tmp_path, basin, inflows, timestep="dekad")
    assert_result_equal(wd.run(path), wd.run(path))


MAX_EXAMPLES = int(__import__("os").environ.get("WATERDESK_EXAMPLES", "15"))


def random_clauses(seed: int, basin_toml: str) -> str:
    """Soft clauses of every kind on the random basin (soft: never infeasible)."""
    rng = np.random.default_rng(seed + 1)
    nodes = [line.split('"')[1] for line in basin_toml.splitlines() if line.startswith("id = ")]
    reservoirs = []
    lines = basin_toml.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("id = ") and i + 1 < len(lines) and 'kind = "reservoir"' in lines[i + 1]:
            reservoirs.append(line.split('"')[1])
    plain = [n for n in nodes if n.startswith("n")]
    out = []
    periods = ["step", "month", "vegetation", "water_year", "year"]

    def clause(cid: str, kind: str, body: str) -> None:
        out.append(f'[[clause]]\nid = "{cid}"\nkind = "{kind}"\nperiod = "{rng.choice(periods)}"\n'
                   f"priority = {int(rng.integers(1, 4))}\n{body}\n")

    clause("mf", "min_flow", f'node = "{rng.choice(plain)}"\nmin_m3s = {rng.uniform(0, 5)}')
    clause("mv", "min_volume", f'node = "{rng.choice(plain)}"\nmin_mcm = {rng.uniform(0, 50)}')
    clause("mw", "max_withdrawal", f'country = "AA"\nmax_mcm = {rng.uniform(0, 100)}')
    clause("sh", "share", f'of = "natural_flow:{rng.choice(plain)}"\nshares = {{ AA = 0.5 }}\n'
                          f'mode = "{rng.choice(["cap", "entitlement", "exact"])}"\ntolerance = 0.1')
    if reservoirs:
        res = str(rng.choice(reservoirs))
        clause("rl", "release", f'node = "{res}"\nmin_mcm = {rng.uniform(0, 20)}\nmax_mcm = {rng.uniform(20, 200)}')
        clause("st", "storage", f'node = "{res}"\nmin_mcm = {rng.uniform(0, 20)}')
    return "\n".join(out)


@pytest.mark.filterwarnings("ignore::waterdesk.errors.WaterdeskWarning")   # balance holds either way
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), mode=st.sampled_from(["step", "horizon"]))
def test_mass_balance_closes_with_soft_clauses_in_both_modes(tmp_path_factory, seed, mode):
    basin, inflows = random_basin(seed, "month")
    extra = ('mode = "horizon"\nhorizon = 6\n' if mode == "horizon" else "") + random_clauses(seed, basin)
    path = write_case(tmp_path_factory.mktemp("mbc"), basin, inflows, timestep="month")
    text = path.read_text().replace('timestep = "month"\n', 'timestep = "month"\n' +
                                    ('mode = "horizon"\nhorizon = 6\n' if mode == "horizon" else ""))
    path.write_text(text + "\n" + random_clauses(seed, basin))
    ds = wd.run(path)
    assert_mass_balance(ds, tol_mcm=1e-6)
    assert np.nanmin(ds["clause_violation"].values) >= -1e-9
    del extra
