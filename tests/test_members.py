"""Inflow members through the pipeline together (`simulate_members`, `wd.run(members=)`):
the routing kernel over all members, the stacked LP per step, the `member` dimension.

The independent answer for every member is the run of that member alone: the stacked
LP holds one block per member and no row joins two, so each member's allocation must
be the one its own run finds."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from click.testing import CliRunner

import waterdesk as wd
from waterdesk.cli.main import cli
from waterdesk.calendar import water_year as wd_water_year
from waterdesk.generate import generate_inflows
from waterdesk.io.inflows import read_inflows, write_inflows
from waterdesk.kernels import routing
from waterdesk.model.network import compile_network
from waterdesk.model.scenario import InflowData
from waterdesk.simulate import simulate, simulate_members
from waterdesk.testing import assert_mass_balance, shipped_scenario, well_conditioned, write_case

from .test_mass_balance import random_basin

ROOT = Path(__file__).resolve().parents[1]
BASINS = ["chu-talas", "syr-darya", "amu-darya", "kura-araks"]
FIELDS = ("supplied", "storage", "node_flow", "release", "energy")


def _ensemble(tmp_path: Path, basin: str, members: int = 3, years: int = 3) -> wd.Scenario:  # type: ignore[name-defined]
    """The basin's baseline over `years` water years on a generated ensemble file."""
    base = wd.load_scenario(ROOT / "scenarios" / basin / "baseline.toml")
    path = tmp_path / f"{basin}-members.nc"
    write_inflows(generate_inflows(basin, years=years, members=members, seed=17, start=base.start[:7]), path)
    end = f"{int(base.start[:4]) + years}-{base.start[5:7]}-01"
    end = str(np.datetime64(end) - np.timedelta64(1, "D"))
    return wd.load_scenario(ROOT / "scenarios" / basin / "baseline.toml",
                            {"inflows.file": str(path), "scenario.end": end})


def test_natural_flow_of_all_members_equals_one_member_at_a_time() -> None:
    """The member-parallel kernel computes exactly what the one-member kernel does."""
    sc = wd.load_scenario(ROOT / "scenarios" / "syr-darya" / "baseline.toml")
    net = compile_network(sc.basin)
    rng = np.random.default_rng(3)
    n_t = 40
    local = np.zeros((5, n_t, net.n_node))
    local[:, :, net.inflow_node] = rng.gamma(2.0, 50.0, (5, n_t, len(net.inflow_node)))
    edges = np.concatenate([[0.0], np.cumsum(rng.choice([28.0, 30.0, 31.0], n_t))])
    args = (net.order, net.river_out, net.reach_to, net.reach_routing, net.reach_k_days, net.reach_x,
            net.reach_loss, edges)
    assert (net.reach_routing != routing.NONE).any()      # the case routes something
    flow, entry = routing.natural_flow_members(*args, local)
    for m in range(5):
        one_flow, one_entry = routing.natural_flow(*args, local[m])
        np.testing.assert_array_equal(flow[m], one_flow)
        np.testing.assert_array_equal(entry[m], one_entry)
    assert not np.array_equal(flow[0], flow[1])


@pytest.mark.parametrize("basin", BASINS)
def test_stacked_members_equal_their_own_runs(tmp_path: Path, basin: str) -> None:
    sc = _ensemble(tmp_path, basin)
    members = [read_inflows(Path(sc.inflows.source), member=m)[0] for m in range(3)]
    together = simulate_members(sc, members)
    alone = [simulate(sc.replace(inflows=data)) for data in members]
    for m, (a, b) in enumerate(zip(together, alone)):
        for name in FIELDS:
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-5,
                                       err_msg=f"{basin} member {m}: {name}")
        assert np.abs(a.mass_balance_error).max() <= 1e-6
        if a.clauses is not None and a.clauses.rows:
            np.testing.assert_allclose(a.clauses.actual, b.clauses.actual, rtol=0, atol=1e-4)
    # the members really differ (else the test would prove little)
    assert np.abs(together[0].supplied - together[1].supplied).max() + \
        np.abs(together[0].storage - together[1].storage).max() > 1.0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), timestep=st.sampled_from(["day", "dekad", "month"]))
def test_stacked_members_on_random_networks(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                            timestep: str) -> None:
    """Random trees with every routing kind and reservoirs: three members (the case's
    inflows times random factors per member and step) stacked give each member's own
    run, and close their mass balance."""
    basin, inflows = random_basin(seed, timestep)
    path = write_case(tmp_path_factory.mktemp("members"), basin, inflows, timestep=timestep)
    sc = wd.load_scenario(path)
    assume(well_conditioned(sc))   # ill-conditioned lagged reaches are not this test's
    rng = np.random.default_rng(seed)
    members = [InflowData(sc.inflows.node, sc.inflows.start, sc.inflows.end,
                          sc.inflows.values_m3s * rng.uniform(0.2, 1.5, sc.inflows.values_m3s.shape))
               for _ in range(3)]
    together = simulate_members(sc, members)
    for m, data in enumerate(members):
        alone = simulate(sc.replace(inflows=data))
        for name in FIELDS:
            np.testing.assert_allclose(getattr(together[m], name), getattr(alone, name), rtol=0, atol=1e-4,
                                       err_msg=f"member {m}: {name}")
        assert np.abs(together[m].mass_balance_error).max() <= 1e-6


def test_run_members_gives_a_member_dimension_that_round_trips(tmp_path: Path) -> None:
    sc = _ensemble(tmp_path, "chu-talas", members=4, years=2)
    out = tmp_path / "ensemble.nc"
    ds = wd.run(sc, members=[3, 1], output=out)
    back = wd.open_result(out)
    assert list(back["member"].values) == [3, 1]
    assert back["supplied"].dims == ("member", "time", "demand")
    assert back["requested"].dims == ("time", "demand")         # shared by the members
    for k in (3, 1):
        alone = wd.run(wd.load_scenario(ROOT / "scenarios" / "chu-talas" / "baseline.toml",
                                        {"inflows.file": sc.inflows.source, "inflows.member": k,
                                         "scenario.end": sc.end}))
        one = back.sel(member=k)
        assert_mass_balance(one)                                  # recomputed from the file alone
        np.testing.assert_allclose(one["supplied"].values, alone["supplied"].values, atol=1e-6)
        np.testing.assert_allclose(one["storage"].values, alone["storage"].values, atol=1e-6)
    np.testing.assert_array_equal(ds["supplied"].values, back["supplied"].values)


def test_stacked_result_equals_the_members_results_joined_by_xarray() -> None:
    """`result.members_dataset` stacks the members' arrays itself; the independent answer
    is xarray's own concat of one Dataset per member (Syr Darya: clauses, salinity, energy)."""
    from waterdesk import result

    sc = wd.load_scenario(ROOT / "scenarios" / "syr-darya" / "baseline.toml",
                          {"inflows.generate": {"years": 2, "members": 3, "seed": 5}, "scenario.end": "2002-09-30"})
    sims = simulate_members(sc, list(sc.members))
    stacked = result.members_dataset(sims, [0, 1, 2], "test")
    parts = [result.to_dataset(sim, "test") for sim in sims]
    varying = [n for n in parts[0].data_vars if n not in result.MEMBER_SHARED]
    joined = xr.concat(parts, dim="member", data_vars=varying, coords="minimal", compat="equals",
                       combine_attrs="override")
    joined = joined.assign_coords(member=("member", np.arange(3, dtype=np.int32),
                                          {"long_name": "member of the inflow ensemble"}))
    xr.testing.assert_identical(stacked.drop_attrs(), joined.drop_attrs())
    assert stacked["supplied"].dims == ("member", "time", "demand") and "salinity" in stacked


def test_members_out_of_range_and_ensemble_results_in_the_commission_tools(tmp_path: Path) -> None:
    """An ensemble result: `waterdesk ledger` gives the probability of compliance per clause
    and window, equal to the share of members whose violation is nil in the file; `report`
    writes its page; `compare` (single runs) says why not, in one line."""
    sc = _ensemble(tmp_path, "syr-darya", members=6, years=2)
    with pytest.raises(wd.InputError) as err:
        wd.run(sc, members=[0, 6])
    assert "member 6 out of range" in str(err.value) and sc.inflows.source in str(err.value)
    out = tmp_path / "ens.nc"
    ds = wd.run(sc.replace(inflow_scale=0.6), members=range(6), output=out)   # a dry river: members differ
    res = CliRunner().invoke(cli, ["ledger", str(out), "--format", "json", "--table", "window_probability"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)["tables"]["window_probability"]["rows"]
    clauses = [str(c) for c in ds["clause"].values]
    held = (ds["clause_violation"] <= 1e-6).mean("member").values          # (window, clause)
    assert len(rows) == int(np.isfinite(ds["clause_violation"].values[0]).sum())
    for row in rows:
        assert row["probability_%"] == pytest.approx(100 * held[row["window"], clauses.index(row["clause"])])
        assert row["members_ok_count"] == 6
    assert any(0 < row["probability_%"] < 100 for row in rows)
    page = tmp_path / "r.html"
    res = CliRunner().invoke(cli, ["report", str(out), "-o", str(page)])
    assert res.exit_code == 0 and "ensemble result, 6 runs" in res.output and page.exists()
    res = CliRunner().invoke(cli, ["compare", str(out), str(out)])
    assert res.exit_code == 2
    assert f"{out}: member: holds 6 inflow members; compare reads single runs" in res.output
    assert "Traceback" not in res.output


def test_one_infeasible_member_is_named_and_batch_keeps_the_others(tmp_path: Path) -> None:
    """A hard minimum flow at an inflow node that one member's inflow cannot reach: the
    stacked run is infeasible (exit 3 material: the clause is named), and a batch records
    that member as infeasible while the members stacked with it land."""
    scenario = shipped_scenario(tmp_path / "scenario.toml", "chu-talas", "floor", "2000-10-01", "2001-09-30", """
        [[clause]]
        id = "hard-floor"
        kind = "min_flow"
        node = "chu_upper"
        min_m3s = 1.0
        period = "month"
        hard = true
        """)
    sc = wd.load_scenario(scenario)
    dry = InflowData(sc.inflows.node, sc.inflows.start, sc.inflows.end, sc.inflows.values_m3s * 0.0)
    with pytest.raises(wd.InfeasibleError) as err:
        simulate_members(sc, [sc.inflows, dry, sc.inflows])
    assert err.value.clauses == ["hard-floor"] and "in at least one of 3 inflow members" in str(err.value)

    import xarray as xr

    from waterdesk.batch import Sweep, run_sweep

    out = tmp_path / "batch"
    out.mkdir()
    values = np.stack([sc.inflows.values_m3s, sc.inflows.values_m3s * 0.0, sc.inflows.values_m3s * 0.9])
    ens = xr.Dataset({"inflow": (("member", "time", "node"), values, {"units": "m3 s-1"})},
                     coords={"time": sc.inflows.start.astype("datetime64[ns]"),
                             "node": np.array(sc.inflows.node, dtype=object)})
    write_inflows(ens, out / "inflows-members.nc")      # the batch's ensemble file, made beforehand
    summary = run_sweep(Sweep(scenario, vary={}, members=3, seed=1), out)
    assert [str(s) for s in summary["status"].values] == ["ok", "infeasible", "ok"]
    assert "hard-floor" in str(summary["reason"].values[1])
    for run in ("r0000", "r0002"):
        alone = wd.run(wd.load_scenario(scenario, {"inflows.file": str(out / "inflows-members.nc"),
                                                   "inflows.member": int(run[-1])}))
        np.testing.assert_allclose(wd.open_result(out / f"{run}.nc")["supplied"].values,
                                   alone["supplied"].values, atol=1e-6)


def _generated_scenario(tmp_path: Path, extra: str = "") -> Path:
    return shipped_scenario(tmp_path / "ensemble.toml", "chu-talas", "chu-talas-ensemble", "2000-10-01",
                            "2002-09-30", f"""
        [inflows]
        generate = {{ years = 2, members = 5, seed = 7 }}
        {extra}
        """)


def test_scenario_generating_its_ensemble_runs_every_member(tmp_path: Path) -> None:
    """`inflows.generate` in a scenario (docs/REFERENCE.md §5): member k of the result is the run of
    member k of the same generated file read by `inflows.file` + `inflows.member`."""
    path = _generated_scenario(tmp_path)
    sc = wd.load_scenario(path)
    assert len(sc.members) == 5
    out = tmp_path / "ens.nc"
    res = CliRunner().invoke(cli, ["run", str(path), "-o", str(out)])
    assert res.exit_code == 0, res.output
    ds = wd.open_result(out)
    assert ds.sizes["member"] == 5
    ens = tmp_path / "same.nc"
    write_inflows(generate_inflows(ROOT / "basins" / "chu-talas", years=2, members=5, seed=7, start="2000-10"), ens)
    for k in (0, 4):
        single = tmp_path / "single.toml"
        single.write_text(path.read_text().replace("generate = { years = 2, members = 5, seed = 7 }",
                                                   f'file = "{ens.as_posix()}"\nmember = {k}'))
        alone = wd.run(single)
        np.testing.assert_allclose(ds["supplied"].sel(member=k).values, alone["supplied"].values, atol=1e-6)
        np.testing.assert_allclose(ds["storage"].sel(member=k).values, alone["storage"].values, atol=1e-6)
    # the printed share of member-water-years fully supplied follows from the file
    kg = ds["shortage"].where(ds["demand_country"] == "KG").sum("demand")
    year = xr.DataArray(wd_water_year(ds["time"].values.astype("datetime64[D]")), dims="time")
    share = float((kg.groupby(year).sum() <= 1e-6).mean())
    line = next(x for x in res.output.splitlines() if x.startswith("KG "))
    assert line.split()[-1] == f"{100 * share:.1f}", line
    assert "5 inflow members" in res.output


def test_ensemble_scenario_keys_are_checked(tmp_path: Path) -> None:
    bad = _generated_scenario(tmp_path, "member = 2")
    res = CliRunner().invoke(cli, ["validate", str(bad)])
    assert res.exit_code == 2
    line = bad.read_text().splitlines().index("generate = { years = 2, members = 5, seed = 7 }") + 1
    assert f"{bad}:{line}: inflows.generate: generate makes the inflows; remove inflows.member" in res.output
    ens = tmp_path / "three.nc"
    write_inflows(generate_inflows(ROOT / "basins" / "chu-talas", years=2, members=3, seed=1, start="2000-10"), ens)
    too_many = tmp_path / "many.toml"
    too_many.write_text(bad.read_text().replace("generate = { years = 2, members = 5, seed = 7 }\nmember = 2",
                                                f'file = "{ens.as_posix()}"\nmembers = 4'))
    res = CliRunner().invoke(cli, ["validate", str(too_many)])
    assert res.exit_code == 2
    line = too_many.read_text().splitlines().index("members = 4") + 1
    assert f"{too_many}:{line}: inflows.members: member 3 out of range: {ens} has 3 members (0 to 2)" in res.output
    short = tmp_path / "short.toml"
    short.write_text(bad.read_text().replace("years = 2, members = 5, seed = 7 }\nmember = 2",
                                             "years = 1, members = 5, seed = 7 }"))
    res = CliRunner().invoke(cli, ["validate", str(short)])
    line = short.read_text().splitlines().index("generate = { years = 1, members = 5, seed = 7 }") + 1
    assert res.exit_code == 2
    assert (f"{short}:{line}: inflows.generate: generated inflows cover 2000-10-01 to 2001-09-30; "
            "the scenario needs 2000-10-01 to 2002-09-30 (more years)") in res.output
    with pytest.raises(wd.InputError) as err:
        wd.load_scenario(ROOT / "scenarios/syr-darya/toktogul-exchange.toml",
                         {"inflows.generate": {"years": 30, "members": 2, "seed": 1}})
    assert "exchange: the exchange account compares two runs of one inflow series" in str(err.value)
    from waterdesk.batch import Sweep, run_sweep

    with pytest.raises(wd.InputError) as err:
        run_sweep(Sweep(_generated_scenario(tmp_path), vary={"inflows.scale": [1.0]}), tmp_path / "b")
    assert "runs an inflow ensemble itself" in str(err.value)


def test_a_resumed_stack_rewrites_only_its_missing_member_identically(tmp_path: Path) -> None:
    """Members of a combination are one stack in `waterdesk batch`: after a member's file
    is lost, the rerun recomputes the stack and writes only that file, equal to the lost one."""
    from waterdesk.batch import Sweep, run_sweep
    from waterdesk.testing import assert_result_equal

    scenario = shipped_scenario(tmp_path / "scenario.toml", "chu-talas", "stacked", "2000-10-01", "2002-09-30")
    sweep = Sweep(scenario, vary={"inflows.scale": [0.7]}, members=4, seed=3)
    out = tmp_path / "batch"
    run_sweep(sweep, out)
    lost = out / "r0002.nc"
    before = wd.open_result(lost)
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("r*.nc") if p != lost}
    assert before.attrs["allocation_stack_members"] == 4
    lost.unlink()
    run_sweep(sweep, out)
    again = wd.open_result(lost)
    for ds in (before, again):
        ds.attrs.pop("history")
    assert_result_equal(before, again)
    assert {name: (out / name).stat().st_mtime_ns for name in kept} == kept
