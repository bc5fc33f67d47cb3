"""The pipeline: route natural flows -> allocate each step -> realise. Returns arrays.

The kernels get plain numpy arrays only (never dataclasses or xarray objects),
built here from the compiled `Network` and the scenario; their shapes follow from
the network and the step count and are not checked again here (the scenario's
checks, `waterdesk.checks`, run before).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from waterdesk.allocate.clauses import ClauseBook, compile_rows
from waterdesk.allocate import horizon
from waterdesk.allocate.engine import Engine, RunData, RunState, default_engine
from waterdesk.allocate.formulation import StepLP, extract, stack
from waterdesk.allocate.operations import OperatingRules
from waterdesk.allocate.solve import StepSolver
from waterdesk.calendar import Steps
from waterdesk.errors import InfeasibleError, SolverError
from waterdesk.kernels import realise, routing, step
from waterdesk.model.network import KIND_CODE, Network, compile_network
from waterdesk.model.scenario import InflowData, Scenario
from waterdesk import salinity
from waterdesk.units import mcm_per_m3s

F64 = NDArray[np.float64]
log = logging.getLogger("waterdesk")
#: horizon mode: exact equal-fraction rounds per priority level (see DESIGN.md)
HORIZON_FAIR_ROUNDS = 8
#: members solved together in one stacked LP per step (`simulate_members`); fixed, so that
#: a member's stack and its result do not depend on how many members a run has beside it
#: when they are counted from the same first member (benchmarks/README.md, ensembles)
MEMBERS_PER_STACK = 32


@dataclass
class Simulation:
    """Arrays of one run; flows [m3 s-1], volumes [mcm], energy [GWh]."""

    scenario: Scenario
    network: Network
    steps: Steps
    local_inflow: F64        # (T, N)
    natural_flow: F64        # (T, N)
    node_flow: F64           # (T, N)
    reach_flow: F64          # (T, R) entry
    reach_outflow: F64       # (T, R) delivered at the downstream end
    storage: F64             # (T, K) end of step
    release: F64             # (T, K)
    spill: F64               # (T, K)
    evaporation: F64         # (T, K) mcm
    energy: F64              # (T, K) GWh
    requested: F64           # (T, D) mcm
    supplied: F64            # (T, D) mcm
    mass_balance_error: F64  # (T, N) mcm
    clauses: ClauseBook | None = None
    energy_target: F64 | None = None   # (T, K) GWh wanted (0 where none)
    timings: dict[str, float] = field(default_factory=dict)
    solves: int = 0
    simplex_iterations: int = 0
    #: members solved together with this one (its stack); timings, solves and iterations
    #: are the stack's
    stack_members: int = 1
    #: the step allocation's engine ("compiled" or "highs"; horizon mode: "highs") and the
    #: member-steps the compiled engine could not certify and handed to HiGHS
    engine: str = "highs"
    engine_fallbacks: int = 0
    #: salinity results (waterdesk.salinity.SaltArrays), None when the run has no salinity
    salt: "salinity.SaltArrays | None" = None


def demand_requests(scenario: Scenario, net: Network, steps: Steps) -> F64:
    """Requested volume per step [mcm], shape (T, D): the calendar month's
    volume times the share of the month the step covers, times the scenario scale."""
    month = steps.month_index
    share = steps.days / steps.days_in_month
    factor = np.array([scenario.demand_factor(d) for d in net.dem_ids])
    return net.dem_monthly_mcm[:, month].T * share[:, None] * factor[None, :]


def local_inflows(scenario: Scenario, net: Network, steps: Steps, data: InflowData | None = None) -> F64:
    """External inflow at every node [m3 s-1], shape (T, N), from `data` (default: the
    scenario's inflows) times the scenario's inflow scale."""
    data = scenario.inflows if data is None else data
    local = np.zeros((len(steps), net.n_node))
    ids = [net.node_ids[i] for i in net.inflow_node]
    if ids:
        series = data.on_steps(steps, ids)
        local[:, net.inflow_node] = series * scenario.inflow_factor(steps.month_index)[:, None]
    return local


def simulate(scenario: Scenario, progress: Callable[[int], None] | None = None,
             engine: str | None = None) -> Simulation:
    """Run a validated scenario (step or horizon mode) with its own inflows.

    Parameters
    ----------
    scenario : Scenario
    progress : callable, optional
        called with the number of steps just completed.
    engine : "compiled" or "highs", optional
        who allocates each step in step mode: the compiled engine (allocate/engine.py,
        steps it cannot certify go to HiGHS) or HiGHS alone, the reference. Default
        ``$WATERDESK_ENGINE``, else the compiled engine.
    """
    return _simulate(scenario, [scenario.inflows], progress, engine)[0]


def simulate_members(scenario: Scenario, members: Sequence[InflowData],
                     progress: Callable[[int], None] | None = None,
                     engine: str | None = None) -> list[Simulation]:
    """Run a scenario once per inflow member; one Simulation per member, in order.

    In step mode all members go through the pipeline together: natural flows are routed
    for every member in one numba call (parallel over members), and each step is one
    stacked LP holding a block per member (`formulation.stack`), so every lexicographic
    stage is one HiGHS solve for all members. Member m's answer is the one its own run
    gives (the blocks share nothing); ties between equally good allocations may be
    broken differently. Members go in stacks of MEMBERS_PER_STACK (32); horizon mode runs
    them one after another.

    `progress` is called with member-steps completed.
    """
    members = list(members)
    if not members:
        return []
    if scenario.mode == "horizon":
        out = []
        for data in members:
            out.extend(_simulate(scenario.replace(inflows=data), [data], progress, engine))
        return out
    # stacks of at most MEMBERS_PER_STACK: HiGHS's work per solve grows with the LP, and a
    # step needs the union of its members' stages, so larger stacks stop paying
    sims: list[Simulation] = []
    for first in range(0, len(members), MEMBERS_PER_STACK):
        sims.extend(_simulate(scenario, members[first:first + MEMBERS_PER_STACK], progress, engine))
    return sims


def _simulate(scenario: Scenario, members: list[InflowData],
              progress: Callable[[int], None] | None = None,
              engine: str | None = None) -> list[Simulation]:
    """The pipeline for one or more inflow members (see `simulate_members`); arrays that
    differ by member carry a leading member axis here and are split at the end."""
    if scenario.mode == "horizon" and len(members) != 1:
        raise ValueError("horizon mode runs one member at a time (simulate_members)")
    t0 = time.perf_counter()
    run = _Run(scenario, members)
    t1 = time.perf_counter()
    if scenario.mode == "horizon":
        _run_horizon(run, progress)
    else:
        _run_steps(run, engine or default_engine(), progress)
    t2 = time.perf_counter()
    n_t, n_m = len(run.steps), run.n_m
    log.info("%s: routed natural flows in %.3f s; LP %d rows x %d columns (x %d members) extracted "
             "in %.3f s", scenario.name, run.route_s, run.lp.n_row, run.lp.n_col, n_m,
             t1 - t0 - run.route_s)
    log.info("%s: %d steps x %d members allocated in %.3f s (%.0f member-steps/s, %.2f LP solves "
             "per step, %s engine, %d member-steps handed to HiGHS)", scenario.name, n_t, n_m, t2 - t1,
             n_t * n_m / max(t2 - t1, 1e-12), run.solves / max(n_t, 1), run.engine, run.fallbacks)
    timings = {"route_s": run.route_s, "build_s": t1 - t0 - run.route_s, "allocate_s": t2 - t1,
               "horizon_build_s": run.horizon_build_s, "horizon_solve_s": run.horizon_solve_s}
    return [Simulation(
        scenario=scenario if n_m == 1 else scenario.replace(inflows=members[m]), network=run.net,
        steps=run.steps, local_inflow=run.local[m], natural_flow=run.natural[m],
        requested=run.requests, timings=timings, solves=run.solves,
        simplex_iterations=run.iterations, clauses=run.books[m],
        energy_target=run.out_energy_target, stack_members=n_m, engine=run.engine,
        engine_fallbacks=run.fallbacks, salt=run.salt.out[m] if run.salt is not None else None,
        **{name: values[m] for name, values in run.out.items()},
    ) for m in range(n_m)]


class _Run:
    """Set-up of one run (one or more members): natural flows, the extracted LP, clause
    books, the bounds arrays every step rewrites, outputs and routing state."""

    def __init__(self, scenario: Scenario, members: list[InflowData]) -> None:
        t0 = time.perf_counter()
        self.scenario = scenario
        self.net = net = compile_network(scenario.basin)
        self.steps = steps = scenario.steps
        self.n_m = n_m = len(members)
        n_t, n_r = len(steps), net.n_reach
        self.days = days = steps.days
        self.delta = mcm_per_m3s(days)                # mcm per (m3 s-1) over each step
        self.edges = np.concatenate([[0.0], np.cumsum(days)])
        self.local = np.stack([local_inflows(scenario, net, steps, data) for data in members])
        self.requests = demand_requests(scenario, net, steps)
        route_args = (net.order, net.river_out, net.reach_to, net.reach_routing, net.reach_k_days,
                      net.reach_x, net.reach_loss, self.edges)
        if n_m == 1:
            self.natural = routing.natural_flow(*route_args, self.local[0])[0][None]
        else:
            self.natural = routing.natural_flow_members(*route_args, self.local)[0]
        self.route_s = time.perf_counter() - t0
        self.rows = rows = compile_rows(scenario.clauses, scenario.basin, net)
        self.lp = lp = extract(net, rows, scenario.clauses)
        clause_claim = lp.claim_row >= 0     # the clauses' soft claims, their rows and count
        self.soft_claims = (lp.claim_row[clause_claim], int(clause_claim.sum()), lp.row_share[clause_claim])
        col_of = {"q": lp.col_q, "x": lp.col_x, "surplus": lp.col_surplus, "v": lp.col_v,
                  "rel": lp.col_rel, "spill": lp.col_spill, "out": lp.col_out}
        natural_mcm = [self.natural[m] * self.delta[:, None] for m in range(n_m)]
        self.book = ClauseBook(scenario.clauses, rows, net, steps, self.delta, natural_mcm[0],
                               self.requests, col_of)
        self.books = [self.book] + [ClauseBook(scenario.clauses, rows, net, steps, self.delta,
                                               natural_mcm[m], self.requests, col_of,
                                               windows=self.book.windows) for m in range(1, n_m)]
        self.e_res = lp.energy_res                    # reservoirs with an energy target
        target = (net.res_energy_target_gwh[self.e_res][:, steps.month_index]
                  * (days / steps.days_in_month)[None, :]).T                        # (T, E)
        self.energy_target = np.minimum(target, net.res_installed_mw[self.e_res][None, :]
                                        * (days * 24.0)[:, None] / 1e3)
        self.out_energy_target = np.zeros((n_t, len(net.res_ids)))
        self.out_energy_target[:, self.e_res] = self.energy_target
        self.level_scale = self._level_scale()
        self.rules = OperatingRules(net, lp, steps, self.delta)   # reservoir operating rules
        self.rules.add_scale(self.level_scale)
        # salinity (issue 14): salt carried by the realised water; None without salinity keys.
        # Its max_salinity rows edit the HiGHS step solver's coefficients: `_run_steps` gives it one.
        self.salt = salinity.tracker(scenario, net, steps, self.delta, self.local, self.natural, lp,
                                     None, self.rows, self.books)
        self.m_scale = np.maximum(self.level_scale, 1.0)   # as StepSolver holds M (in mcm)
        self.inf = float("inf")                       # highspy.kHighsInf
        self.solves = self.iterations = self.fallbacks = 0
        self.engine = "highs"
        self.horizon_build_s = self.horizon_solve_s = 0.0
        self._arrays()

    def _level_scale(self) -> F64:
        """The largest total request of each priority level over the run [mcm]."""
        lp, n_t = self.lp, len(self.steps)
        level_total = np.zeros((n_t, len(lp.levels)))
        for d, level in enumerate(lp.dem_level):
            level_total[:, level] += self.requests[:, d]
        scale = level_total.max(axis=0) if n_t else np.ones(len(lp.levels))
        for j in np.flatnonzero(lp.claim_row >= 0):
            scale[lp.claim_level[j]] += max(b.claim_scale(int(lp.claim_row[j])) for b in self.books)
        for j, target in zip(np.flatnonzero(lp.claim_row == -2), self.energy_target.T):
            scale[lp.claim_level[j]] += float(target.max(initial=0.0))
        return scale

    def _arrays(self) -> None:
        """Outputs, routing state and the bounds arrays (what does not change between
        steps is set here, the rest by `step.assemble` and `_claim_bounds`)."""
        net, lp, n_m, n_t = self.net, self.lp, self.n_m, len(self.steps)
        n_r, n_k = net.n_reach, len(net.res_ids)
        sizes = {"node_flow": net.n_node, "reach_flow": n_r, "reach_outflow": n_r, "storage": n_k,
                 "release": n_k, "spill": n_k, "evaporation": n_k, "energy": n_k,
                 "supplied": len(net.dem_ids), "mass_balance_error": net.n_node}
        self.out = {name: np.zeros((n_m, n_t, size)) for name, size in sizes.items()}
        self.out_tuple = step.StepOut(*(self.out[f] for f in step.StepOut._fields))
        self.cum = np.zeros((n_m, n_t + 1, n_r))
        self.q0, self.musk_i, self.musk_o, self.a, self.b = (np.zeros((n_m, n_r)) for _ in range(5))
        self.storage = np.tile(net.res_initial_mcm, (n_m, 1))
        self.evap = np.zeros((n_m, n_k))
        self.b_mcm = np.zeros((n_m, n_r))
        self.q_m3s = np.zeros((n_m, n_r))
        self.evap_mm = net.res_evap_mm[:, self.steps.month_index] * (self.steps.days / self.steps.days_in_month)[None, :]
        self.step_net = step.StepNet(
            net.reach_from, net.reach_to, net.dem_node, net.dem_return_node, net.dem_consumptive,
            net.res_node, np.flatnonzero(net.node_kind == KIND_CODE["sink"]).astype(np.int64),
            net.res_hydro, net.res_head_s, net.res_head_h, net.res_head_n, net.res_efficiency,
            net.res_installed_mw, net.res_area_s, net.res_area_a, net.res_area_n, net.res_dead_mcm,
            net.reach_max_m3s, np.where(net.res_hydro, net.res_turbine_m3s, net.res_outlet_m3s))
        self.cols = step.StepCols(lp.col_q, lp.col_x, lp.col_surplus, lp.col_v, lp.col_rel,
                                  lp.col_spill, lp.col_out, lp.row_balance, lp.row_share)
        self.lagged_demand = bool(np.isin(net.dem_node, net.reach_to[net.reach_routing != routing.NONE]).any())
        # the matrix entries that change: a of each reach, R of each claim's equal-fraction
        # row (on its M column), GWh per mcm of each energy row
        self.coef_rows = np.concatenate([lp.row_balance[net.reach_to], lp.row_share, lp.row_energy])
        self.coef_cols = np.concatenate([lp.col_q, lp.claim_m, lp.col_rel[self.e_res]])
        inf = self.inf
        self.bounds = step.StepBounds(np.zeros((n_m, lp.n_col)), np.full((n_m, lp.n_col), inf),
                                      np.zeros((n_m, lp.n_row)), np.zeros((n_m, lp.n_row)),
                                      np.empty((n_m, len(self.coef_rows))))
        self.bounds.col_hi[:, lp.col_v] = net.res_capacity_mcm
        self.bounds.col_hi[:, lp.col_surplus] = 0.0
        self.bounds.row_hi[:, lp.row_share] = inf
        self.bounds.row_hi[:, lp.row_energy] = inf
        self.claim_request = np.zeros((n_m, len(lp.claim_col)))

    def assemble(self, t: int) -> None:
        """Routing coefficients, bounds, right-hand sides and coefficients of step t."""
        net, lp, bounds = self.net, self.lp, self.bounds
        routing.reach_coefficients_members(t, net.reach_routing, net.reach_k_days, net.reach_x,
                                           net.reach_loss, self.edges, self.cum, self.q0,
                                           self.musk_i, self.musk_o, self.a, self.b)
        step.assemble_members(self.delta[t], self.local[:, t], self.requests[t], self.storage,
                              self.evap_mm[:, t], self.a, self.b, self.step_net, self.cols,
                              self.lagged_demand, self.inf, bounds, self.evap, self.b_mcm)
        n_d, n_r, inf = len(net.dem_ids), net.n_reach, self.inf
        self.claim_request[:, :n_d] = self.requests[t]
        n_soft = self.clause_bounds(t)
        n_claims, n_e = n_r + len(lp.claim_col), len(self.e_res)
        if n_e:
            target = self.energy_target[t]
            self.claim_request[:, n_d + n_soft:n_d + n_soft + n_e] = target
            bounds.row_lo[:, lp.row_energy] = np.where(target > 0, target, -inf)
            bounds.row_lo[:, lp.row_share[lp.claim_row == -2]] = np.where(target > 0, 0.0, -inf)
            bounds.coef[:, n_r + n_d + n_soft:n_r + n_d + n_soft + n_e] = target
            for m in range(self.n_m):
                bounds.coef[m, n_claims:] = energy_per_mcm(net, self.e_res, self.storage[m])
        if self.rules.active:   # operating targets, buffer zones, release curves (their claims follow energy's)
            self.rules.apply(t, self.storage, self.evap, bounds.col_lo, bounds.row_lo, bounds.row_hi,
                             self.claim_request, bounds.coef, n_r)
        bounds.coef[:, n_r:n_claims] /= self.m_scale[lp.claim_level]   # M is held in mcm

    def clause_bounds(self, t: int) -> int:
        """The clause rows' bounds and soft claims of step t, from each member's book;
        returns the number of soft claims."""
        lp, bounds, inf = self.lp, self.bounds, self.inf
        soft, n_soft, share_rows = self.soft_claims
        if self.rows:
            n_d, n_r = len(self.net.dem_ids), self.net.n_reach
            for m in range(self.n_m):
                lo, hi, slack_hi, claim = self.books[m].bounds(t, self.requests[t])
                bounds.row_lo[m, lp.row_clause] = lo
                bounds.row_hi[m, lp.row_clause] = hi
                bounds.col_hi[m, lp.col_slack] = slack_hi
                asked = claim[soft]
                self.claim_request[m, n_d:n_d + n_soft] = asked
                bounds.row_lo[m, share_rows] = np.where(asked > 0, 0.0, -inf)
                bounds.coef[m, n_r + n_d:n_r + n_d + n_soft] = asked
        return n_soft

    def engine_data(self) -> tuple[RunData, RunState]:
        """The run's arrays as the compiled step loop takes them."""
        net, lp = self.net, self.lp
        data = RunData(self.delta, self.days, self.edges, self.local, self.requests, self.evap_mm,
                       self.energy_target, self.e_res.astype(np.int64), lp.row_energy,
                       lp.row_share[lp.claim_row == -2], self.m_scale[lp.claim_level],
                       int((lp.claim_row >= 0).sum()), net.reach_routing, net.reach_k_days,
                       net.reach_x, net.reach_loss, self.lagged_demand,
                       np.isin(np.arange(len(self.steps)), Engine.handover))
        state = RunState(self.cum, self.q0, self.musk_i, self.musk_o, self.a, self.b, self.storage,
                         self.evap, self.b_mcm, self.q_m3s, self.claim_request)
        return data, state

    def realise_step(self, t: int, x: F64, a_now: F64, b_now_mcm: F64) -> None:
        """Book step t from the LP columns x (M, n_col) (reaches deliver a·q + b):
        outputs, clause accounts, storage and the routing state."""
        net = self.net
        if self.salt is not None:   # salinity (issue 14): the step's salt, before storage advances
            self.salt.record(t, x, a_now, b_now_mcm, self.evap)
        step.record_members(t, x, self.delta[t], self.days[t] * 24.0, self.local[:, t], a_now,
                            b_now_mcm, self.step_net, self.cols, self.storage, self.evap,
                            self.out_tuple, self.q_m3s)
        if self.rows:
            for m in range(self.n_m):
                self.books[m].record(t, x[m])
        routing.reach_advance_members(t, self.q_m3s, net.reach_routing, net.reach_k_days, net.reach_x,
                                      self.edges, self.cum, self.q0, self.musk_i, self.musk_o)

    def step_solver(self, members: int) -> StepSolver:
        """A HiGHS StepSolver for `members` stacked copies of the step LP."""
        lp, n_m = self.lp, members
        solver = StepSolver(stack(lp, n_m), level_scale=self.level_scale)
        row_block = (np.arange(n_m) * lp.n_row)[:, None]
        solver.set_hard_clauses({c: (lp.row_clause[[i for i, r in enumerate(self.rows) if r.clause == c]][None, :]
                                     + row_block).ravel()
                                 for c, clause in enumerate(self.scenario.clauses) if clause.hard})
        return solver

    def infeasible(self, err: InfeasibleError, t: int, which: str = "") -> InfeasibleError:
        """The step's InfeasibleError in treaty words."""
        sc = self.scenario
        return InfeasibleError(f"step {self.steps.start[t]}{which}: {err}"
                               + _conflict_words(err.clauses, sc, self.book, t),
                               [sc.clauses[c].id for c in err.clauses], err.bounds)


def _run_steps(run: _Run, engine: str, progress: Callable[[int], None] | None) -> None:
    """Step mode on the HiGHS path: assemble, allocate (one stacked LP) and realise each step."""
    if engine not in ("compiled", "highs"):
        raise ValueError(f"engine {engine!r}: expected 'compiled' or 'highs'")
    # the compiled loop covers salt carried by the water (booked after each step) but not
    # max_salinity rows (re-solved until the mixing is exact) nor operating rules
    if engine == "compiled" and not run.rules.active and (run.salt is None or not run.salt.rows):
        return _run_compiled(run, progress)
    if engine == "compiled":   # structures the compiled loop does not cover: all steps to HiGHS
        log.info("%s: operating rules or max_salinity clauses: the step allocation runs on the "
                 "HiGHS path", run.scenario.name)
    lp, n_m, bounds = run.lp, run.n_m, run.bounds
    run.engine = engine
    solver = run.step_solver(n_m)
    if run.salt is not None:
        run.salt.solver = solver
    stacked_rows = (run.coef_rows[None, :] + (np.arange(n_m) * lp.n_row)[:, None]).ravel()
    stacked_cols = (run.coef_cols[None, :] + (np.arange(n_m) * lp.n_col)[:, None]).ravel()
    for t in range(len(run.steps)):
        run.assemble(t)
        solver.set_coefficients(stacked_rows, stacked_cols, bounds.coef.ravel())
        def solve() -> F64:
            return solver.solve_step(bounds.col_lo.ravel(), bounds.col_hi.ravel(), bounds.row_lo.ravel(),
                                     bounds.row_hi.ravel(), run.claim_request.ravel())
        try:
            # salinity (issue 14): max_salinity rows re-solve the step until the mixing is exact
            x = (solve() if run.salt is None
                 else run.salt.solve(t, solve, bounds.row_hi, run.a, run.b_mcm, run.evap)).reshape(n_m, lp.n_col)
        except InfeasibleError as err:
            raise run.infeasible(err, t, "" if n_m == 1 else
                                 f" (in at least one of {n_m} inflow members)") from None
        run.realise_step(t, x, run.a, run.b_mcm)
        if progress is not None:
            progress(n_m)
    run.solves, run.iterations = solver.solves, solver.iterations


#: steps the compiled loop runs per call when no clause needs Python between steps
COMPILED_CHUNK = 512


def _run_compiled(run: _Run, progress: Callable[[int], None] | None) -> None:
    """Step mode on the compiled engine: each member runs its steps in compiled code
    (routing coefficients, bounds, allocation, realised step), in parallel over members.
    Clause books are Python, so with clauses the loop returns after every step. A member
    step the engine cannot certify is solved on the HiGHS path (`_fallback`) and counted."""
    lp, n_m, n_t = run.lp, run.n_m, len(run.steps)
    run.engine = "compiled"
    eng = Engine(lp, n_m, run.m_scale, run.coef_rows, run.coef_cols)
    data, state = run.engine_data()
    pos = np.zeros(n_m, np.int64)
    alone: list[StepSolver] = []
    t = 0
    while t < n_t:
        t_end = t + 1 if run.rows or run.salt is not None else min(n_t, t + COMPILED_CHUNK)
        if run.rows:
            run.clause_bounds(t)
        while True:
            eng.run(pos, t_end, data, state, run.step_net, run.cols, run.bounds, run.out_tuple)
            stuck = np.flatnonzero(pos < t_end)
            if not stuck.size:
                break
            for m in stuck.tolist():
                _fallback(run, eng, alone, m, int(pos[m]))
                pos[m] += 1
        if run.rows:
            for m in range(n_m):
                run.books[m].record(t, eng.x[m])
        if run.salt is not None:   # salinity (issue 14): step t's salt from its realised water
            run.salt.record(t, eng.x, run.a, run.b_mcm, run.evap)
        if progress is not None:
            progress(n_m * (t_end - t))
        t = t_end
    run.solves = eng.solves + sum(s.solves for s in alone)
    run.iterations = eng.iterations + sum(s.iterations for s in alone)
    run.fallbacks = eng.fallbacks


def _fallback(run: _Run, eng: Engine, alone: list[StepSolver], m: int, t: int) -> None:
    """Member m's step t (assembled by the compiled loop) on the HiGHS path, realised."""
    if not alone:
        alone.append(run.step_solver(1))
    solver, b = alone[0], run.bounds
    solver.set_coefficients(run.coef_rows, run.coef_cols, b.coef[m])
    try:
        x = solver.solve_step(b.col_lo[m], b.col_hi[m], b.row_lo[m], b.row_hi[m], run.claim_request[m])
    except InfeasibleError as err:
        raise run.infeasible(err, t, "" if run.n_m == 1 else
                           f" (in at least one of {run.n_m} inflow members: member {m})") from None
    eng.fallbacks += 1
    eng.x[m] = x
    net, one = run.net, slice(m, m + 1)
    step.record_members(t, eng.x[one], run.delta[t], run.days[t] * 24.0, run.local[one, t],
                        run.a[one], run.b_mcm[one], run.step_net, run.cols, run.storage[one],
                        run.evap[one], step.StepOut(*(a[one] for a in run.out_tuple)), run.q_m3s[one])
    routing.reach_advance(t, run.q_m3s[m], net.reach_routing, net.reach_k_days, net.reach_x,
                          run.edges, run.cum[m], run.q0[m], run.musk_i[m], run.musk_o[m])


def _run_horizon(run: _Run, progress: Callable[[int], None] | None) -> None:
    """Horizon mode (one member): perfect-foresight windows, then each step realised."""
    lp, net, steps, n_r = run.lp, run.net, run.steps, run.net.n_reach
    state = (run.cum[0], run.q0[0], run.musk_i[0], run.musk_o[0])
    zeros_a = np.zeros((1, n_r))
    n_win_total = 0
    for t_start, n_win in horizon_windows(steps, run.scenario.horizon or "water_year"):
        tb, solved = time.perf_counter(), run.horizon_solve_s
        hz = _window_lp(run, t_start, n_win, state)
        hsolver = StepSolver(hz.lp, level_scale=hz.level_scale, fair_rounds=HORIZON_FAIR_ROUNDS)
        hsolver.set_hard_clauses({c: np.asarray(r, dtype=np.int64) for c, r in hz.hard_rows.items()})
        # build + load: the time not spent in HiGHS's run() (the evaporation pre-solve is a solve)
        run.horizon_build_s += time.perf_counter() - tb - (run.horizon_solve_s - solved)
        try:
            xs = hsolver.solve_step(hz.col_lower, hz.col_upper, hz.row_lower, hz.row_upper,
                                    hz.claim_request)
        except InfeasibleError as err:
            raise InfeasibleError(
                f"window {steps.start[t_start]} to {steps.end[t_start + n_win - 1] - np.timedelta64(1, 'D')}: "
                f"{err}" + _conflict_words(err.clauses, run.scenario, run.book, t_start),
                [run.scenario.clauses[c].id for c in err.clauses], err.bounds) from None
        if run.rows:
            run.book.book_prices(t_start, hz, hsolver.price(hz.col_lower, hz.col_upper,
                                                            hz.row_lower, hz.row_upper))
        run.solves += hsolver.solves
        run.iterations += hsolver.iterations
        run.horizon_solve_s += hsolver.run_seconds
        n_win_total = max(n_win_total, hz.lp.n_row)
        q_all = np.concatenate([xs[t * hz.n_col1 + lp.col_q] for t in range(n_win)])
        exits_all = (hz.exit_w @ q_all).reshape(n_win, n_r) + hz.exit_init
        for s_ in range(n_win):
            x = xs[s_ * hz.n_col1:(s_ + 1) * hz.n_col1].copy()
            run.evap[0] = hz.evap_a0[s_] + (hz.evap_a1[s_] * run.storage[0] if s_ else 0.0)
            run.realise_step(t_start + s_, x[None, :], zeros_a, exits_all[s_][None, :])
        if progress is not None:
            progress(n_win)
    log.info("%s: horizon windows: largest LP %d rows; build+load %.3f s, HiGHS %.3f s",
             run.scenario.name, n_win_total, run.horizon_build_s, run.horizon_solve_s)


def _window_lp(run: _Run, t_start: int, n_win: int, state: tuple[F64, F64, F64, F64]) -> "horizon.HorizonLP":
    """The window's LP; with reservoirs, solved once with the evaporation from the area at
    the window's start storage and rebuilt with the evaporation along that storage path."""
    lp, net, storage = run.lp, run.net, run.storage[0]

    carry = horizon.carry_over_volumes(run.scenario.carry_over, net, storage)

    def build(evap_path: F64 | None = None) -> "horizon.HorizonLP":
        return horizon.window_lp(lp, net, run.rows, run.book, t_start, n_win, run.delta, run.local[0],
                                 run.requests, storage, run.evap_mm, run.edges, state, run.inf,
                                 run.energy_target, energy_per_mcm(net, run.e_res, storage),
                                 *(() if evap_path is None else (evap_path,)), carry_over=carry,
                                 storage_targets=run.rules.targets)

    hz = build()
    if not len(net.res_ids):
        return hz
    first = StepSolver(hz.lp, level_scale=hz.level_scale, fair_rounds=HORIZON_FAIR_ROUNDS)
    try:
        xs0 = first.solve_step(hz.col_lower, hz.col_upper, hz.row_lower, hz.row_upper, hz.claim_request)
    except (InfeasibleError, SolverError):
        return hz                            # the window's solve reports what is wrong
    run.solves += first.solves
    run.horizon_solve_s += first.run_seconds
    path = np.array([xs0[s_ * hz.n_col1 + lp.col_v] for s_ in range(n_win)])
    before = np.vstack([storage[None, :], path[:-1]])
    evap_path = np.array([realise.evaporation(before[s_], run.evap_mm[:, t_start + s_], net.res_area_s,
                                              net.res_area_a, net.res_area_n) for s_ in range(n_win)])
    return build(evap_path)


def energy_per_mcm(net: Network, res: NDArray[np.int64], storage: F64) -> F64:
    """GWh generated per mcm through the turbines, with the head at `storage`:
    rho*g*eta*H [W per m3/s] * 1e6 m3 / 3600 s/h / 1e9 Wh/GWh = rho*g*eta*H / 3.6e6."""
    out = np.zeros(len(res))
    for i, k in enumerate(res.tolist()):
        head = realise.interp_curve(storage[k], net.res_head_s[k], net.res_head_h[k], int(net.res_head_n[k]))
        out[i] = 1000.0 * 9.81 * net.res_efficiency[k] * head / 3.6e6
    return out


def horizon_windows(steps: Steps, horizon: str) -> list[tuple[int, int]]:
    """(first step, number of steps) of each perfect-foresight window."""
    from waterdesk.calendar import make_windows

    if horizon in ("water_year", "year"):
        index = make_windows(steps, horizon).index
        bounds = np.flatnonzero(np.diff(index)) + 1
    else:
        size = int(horizon)
        bounds = np.arange(size, len(steps), size)
    starts = np.concatenate([[0], bounds]).astype(int)
    ends = np.concatenate([bounds, [len(steps)]]).astype(int)
    return [(int(a), int(b - a)) for a, b in zip(starts, ends) if b > a]


def _conflict_words(conflict: list[int], scenario: Scenario, book: ClauseBook, t: int) -> str:
    """The conflicting clauses in treaty words: id, kind, where, parties, window."""
    if not conflict:
        return "; the physical bounds alone (capacities, storage limits) leave no solution"
    parts = []
    for c in conflict:
        clause = scenario.clauses[c]
        w = book.windows[c]
        win = int(w.index[t])
        window = (f"window {w.start[win]} to {w.end[win] - np.timedelta64(1, 'D')}" if win >= 0 else "")
        parties = f", parties {'/'.join(clause.parties)}" if clause.parties else ""
        where = clause.where() if hasattr(clause, "where") else ""
        parts.append(f"{clause.id!r} ({clause.kind.replace('_', ' ')}, {where}{parties}, {window})")
    return "; these hard clauses conflict: " + " and ".join(parts)


__all__ = ["simulate", "simulate_members", "Simulation", "StepLP"]
