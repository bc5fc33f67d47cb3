r"""The one-step allocation LP, declared in Pyomo and extracted once.

Notation (all volumes in mcm over the step; Δ = step length in seconds × 1e-6)::

    q[r]      entry volume of reach r             0 <= q[r] <= max_flow[r]·Δ
    x[d]      delivery to demand d                0 <= x[d] <= R[d]   (request)
    surplus[d] water reaching demand d beyond x[d] (forced by lagged canal water)
    v[k]      end-of-step storage of reservoir k  lb[k] <= v[k] <= capacity[k]
    rel[k]    release through turbines / outlets  0 <= rel[k] <= rel_max[k]·Δ
    spill[k]  release over the spillway           >= 0
    out[s]    outflow of sink s                   >= 0
    M[p]      largest shortage fraction among the demands of priority level p, >= 0
              (no upper bound: x >= 0 keeps it <= 1, and an unbounded M keeps the
              duals of the equal-fraction rows summing to the objective weight)

Node balance, for every node n (reach r delivers a[r]·q[r] + b[r]·Δ, with
a = (1-loss)·C_now and b = (1-loss)·(routed water already in the reach)):

    Σ_{r→n} a[r] q[r] + Σ_{d returns to n} ((1-c[d]) x[d] + surplus[d])
      - Σ_{n→r} q[r] - [n=d](x[d] + surplus[d]) - [n=s] out[s] - [n=k] v[k]
      = - local[n]·Δ - Σ_{r→n} b[r]·Δ - [n=k](v0[k] - evap[k])

Reservoir outlets: Σ_{k→r} q[r] = rel[k] + spill[k].

Equal fraction within a priority level p (one row per demand):

    x[d] + R[d]·M[p] >= R[d]                  (shortage fraction of d <= M[p])

Objective (stage k of the lexicographic solve, see `solve.py`): for the level
being decided, minimise α·ΣR·M[k] (its largest shortage fraction); lower
levels enter by volume only, -w·x[d] with w = 10^-2 per level below (floor
10^-3); storage is valued at 1e-4 per mcm (x 1 to 1.1, more upstream) and spill
costs 1e-4 per mcm, so reservoirs keep water no demand needs and pass it through
the turbines before the spillway; water entering a canal costs 1e-5 to 3e-5 per
mcm and water passing a demand unconsumed 5e-4 per mcm, so that the LP has one
optimum (constants in `solve.py`, which sets every cost of the LP it solves). The
Pyomo model's own `objective` only documents the first stage's shape, with storage
and spill at 1e-5 per mcm; no solve uses it.

Per step only bounds, right-hand sides and two kinds of coefficient change
(a[r], and R[d] in the equal-fraction rows); the Pyomo model is built once with
placeholder values, passed through Pyomo's standard-form compiler, and the
matrix is then driven directly in HiGHS (Pyomo is never on the per-step path).
The extracted LP is kept on disk (`lpcache`), keyed by everything that shapes it, so a
run whose LP was extracted before does not import Pyomo at all.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from waterdesk.allocate.clauses import ClauseRow
from waterdesk.model.clauses import Clause
from waterdesk.model.network import KIND_CODE, Network

if TYPE_CHECKING:
    import pyomo.environ as pyo


def _pyomo() -> Any:
    """``pyomo.environ``, imported on first use without SciPy's statistics.

    Pyomo registers SciPy as an optional dependency whose first use imports
    ``scipy.stats`` (and integrate, spatial): 1-2 s that this package never needs. It
    defers that import only when SciPy is not yet loaded, so SciPy is hidden from
    ``sys.modules`` while Pyomo's dependency table is created, and the standard-form
    compiler is handed SciPy's sparse classes through its documented class hooks, so the
    deferred import is never triggered."""
    if "pyomo.environ" in sys.modules:
        return sys.modules["pyomo.environ"]
    hidden = {} if "pyomo.common.dependencies" in sys.modules else \
        {name: sys.modules.pop(name) for name in ("scipy",) if name in sys.modules}
    try:
        import pyomo.environ as pyo_env
    finally:
        sys.modules.update(hidden)
    from pyomo.repn.plugins.standard_form import _LinearStandardFormCompiler_impl as impl

    if impl._to_vector is None:
        impl._to_vector = np.fromiter
        impl._csc_matrix = sparse.csc_array
        impl._csr_matrix = sparse.csr_array
    return pyo_env


@dataclass(frozen=True)
class StepLP:
    """The extracted LP and where each quantity lives in it."""

    a_matrix: sparse.csc_matrix     # (n_row, n_col)
    row_sense: NDArray[np.int64]    # -1: >=, 0: ==, 1: <=
    col_q: NDArray[np.int64]        # (n_reach,)
    col_x: NDArray[np.int64]        # (n_dem,)
    col_surplus: NDArray[np.int64]  # (n_dem,)
    col_v: NDArray[np.int64]        # (n_res,)
    col_rel: NDArray[np.int64]
    col_spill: NDArray[np.int64]
    col_out: NDArray[np.int64]      # (n_node,) -1 where the node is not a sink
    col_m: NDArray[np.int64]        # (n_level,)
    col_slack: NDArray[np.int64]    # (n_clause_row,)
    row_balance: NDArray[np.int64]  # (n_node,)
    row_outlet: NDArray[np.int64]   # (n_res,)
    row_clause: NDArray[np.int64]   # (n_clause_row,)
    levels: NDArray[np.int64]       # distinct priorities, highest (smallest number) first
    dem_level: NDArray[np.int64]    # (n_dem,) index into levels
    # claims: demands first, then soft clause rows; each shares by equal fraction in its level
    claim_col: NDArray[np.int64]    # (n_claim,) x of a demand, slack of a soft clause row
    claim_slack: NDArray[np.bool_]  # (n_claim,) True for a soft clause row (shortage = slack)
    claim_level: NDArray[np.int64]  # (n_claim,) index into levels
    claim_row: NDArray[np.int64]    # (n_claim,) clause row of a soft claim, -1 demands, -2 energy
    row_share: NDArray[np.int64]    # (n_claim,) the equal-fraction row of each claim
    col_energy_short: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    row_energy: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    energy_res: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    n_col: int = 0
    n_row: int = 0
    #: (n_claim,) the M column of each claim's equal-fraction row (its level's, or in a
    #: stacked LP its member's level's); empty means col_m[claim_level]
    claim_m_col: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: (n_res,) relative value of water kept in each reservoir, 1 to 1.1, higher upstream
    #: (see `storage_weights`); empty means 1 everywhere
    storage_weight: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    #: q columns of reaches off a node's natural course (canals, side branches), which
    #: carry a tiny cost so that water leaves the river only when someone needs it
    col_divert: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    divert_weight: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))   # 1 to 3
    #: reservoir operating rules (see `operation_reservoirs`): target rows
    #: v + short - over = target, release-curve rows rel + spill + short >= release
    target_res: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    row_target: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    col_target_short: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    col_target_over: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    curve_res: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    row_curve: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    col_curve_short: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: columns with a fixed cost per mcm beside the stage costs (storage above an operating
    #: target, `solve.OVER_TARGET_COST`)
    col_penalty: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def claim_m(self) -> NDArray[np.int64]:
        """The M column of each claim."""
        return self.claim_m_col if len(self.claim_m_col) else self.col_m[self.claim_level]

    def level_m(self, level: int) -> NDArray[np.int64]:
        """The M columns of one priority level (one per member)."""
        return np.atleast_1d(self.col_m[level])


def stack(lp: StepLP, members: int) -> StepLP:
    """The LP of `members` independent copies of `lp` (block diagonal), one per inflow
    member: member m's column j is m·n_col + j, its row i is m·n_row + i.

    Each lexicographic stage of `solve.StepSolver` then minimises the sum over members of
    their level's shortage fraction; the blocks share no row, so the stacked optimum is
    every member's own optimum and freezing the stage's claims freezes each member's
    (see docs/DESIGN.md, "members"). Index arrays are member-major: claim c of member m
    is m·n_claim + c. `col_m` becomes (n_level, members)."""
    if members == 1:
        return lp
    col_off = (np.arange(members, dtype=np.int64) * lp.n_col)[:, None]
    row_off = (np.arange(members, dtype=np.int64) * lp.n_row)[:, None]

    def cols(a: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.where(a[None, :] >= 0, a[None, :] + col_off, -1).ravel()

    def rows(a: NDArray[np.int64]) -> NDArray[np.int64]:
        return (a[None, :] + row_off).ravel()

    def tile(a: NDArray[Any]) -> NDArray[Any]:
        return np.tile(a, members)

    return StepLP(
        a_matrix=sparse.block_diag([lp.a_matrix] * members, format="csc"),
        row_sense=tile(lp.row_sense),
        col_q=cols(lp.col_q), col_x=cols(lp.col_x), col_surplus=cols(lp.col_surplus),
        col_v=cols(lp.col_v), col_rel=cols(lp.col_rel), col_spill=cols(lp.col_spill),
        col_out=cols(lp.col_out),
        col_m=(lp.col_m[None, :] + col_off).T.copy(),
        col_slack=cols(lp.col_slack),
        row_balance=rows(lp.row_balance), row_outlet=rows(lp.row_outlet),
        row_clause=rows(lp.row_clause),
        levels=lp.levels, dem_level=tile(lp.dem_level),
        claim_col=cols(lp.claim_col), claim_slack=tile(lp.claim_slack),
        claim_level=tile(lp.claim_level), claim_row=tile(lp.claim_row),
        row_share=rows(lp.row_share),
        col_energy_short=cols(lp.col_energy_short), row_energy=rows(lp.row_energy),
        energy_res=tile(lp.energy_res),
        n_col=lp.n_col * members, n_row=lp.n_row * members,
        claim_m_col=cols(lp.claim_m),
        storage_weight=tile(lp.storage_weight), col_divert=cols(lp.col_divert),
        divert_weight=tile(lp.divert_weight),
        target_res=tile(lp.target_res), row_target=rows(lp.row_target),
        col_target_short=cols(lp.col_target_short), col_target_over=cols(lp.col_target_over),
        curve_res=tile(lp.curve_res), row_curve=rows(lp.row_curve),
        col_curve_short=cols(lp.col_curve_short), col_penalty=cols(lp.col_penalty),
    )


def storage_weights(net: Network) -> NDArray[np.float64]:
    """Relative value of a mcm kept in each reservoir: 1 + 0.1·(K - rank)/K, ranking
    reservoirs by the number of river reaches between them and the sea (most first), then
    by file order. Without it, where several reservoirs could hold the same water the LP
    has many optima and which one HiGHS returns depends on its pivoting (so a member's run
    alone and the same member stacked with others could part ways); with it, water is
    kept upstream, where it can still serve every demand below, and the answer is unique."""
    n_res = len(net.res_ids)
    depth = _depth(net)
    rank = sorted(range(n_res), key=lambda k: (-int(depth[net.res_node[k]]), k))
    weight = np.empty(n_res)
    for position, k in enumerate(rank):
        weight[k] = 1.0 + 0.1 * (n_res - position) / n_res
    return weight


def _depth(net: Network) -> NDArray[np.int64]:
    """Number of river reaches from each node to the sea along its natural course."""
    depth = np.zeros(net.n_node, dtype=np.int64)
    for node in reversed(net.order.tolist()):           # downstream first
        r = int(net.river_out[node])
        depth[node] = depth[net.reach_to[r]] + 1 if r >= 0 else 0
    return depth


def diversion_weights(net: Network) -> tuple[list[int], NDArray[np.float64]]:
    """Reaches off their node's natural course (canals, side branches) and the relative
    cost of a mcm entering each, 1 to 3: higher the further upstream the diversion (then
    by file order). Water thus leaves the river only for someone who needs it, and as far
    downstream as serves them; where two canals can serve the same demand the LP has one
    answer instead of one per pivoting order."""
    depth = _depth(net)
    off = [r for r in range(net.n_reach) if net.river_out[net.reach_from[r]] != r]
    rank = sorted(off, key=lambda r: (int(depth[net.reach_from[r]]), r))
    weight = np.empty(len(off))
    for position, r in enumerate(rank):
        weight[off.index(r)] = 1.0 + 2.0 * position / max(len(off), 1)
    return off, weight


def energy_reservoirs(net: Network) -> list[int]:
    """Reservoirs with an energy target, in reservoir order."""
    return [k for k in range(len(net.res_ids)) if net.res_energy_priority[k] > 0]


def operation_reservoirs(net: Network) -> tuple[list[int], list[int]]:
    """Reservoirs with a storage target, and with a release curve, in reservoir order."""
    if len(net.res_target_priority) != len(net.res_ids):
        return [], []
    ruled = net.res_target_priority > 0
    target = [k for k in range(len(net.res_ids)) if ruled[k] and np.isfinite(net.res_target_mcm[k]).all()]
    curve = [k for k in range(len(net.res_ids)) if ruled[k] and net.res_curve_n[k] > 0]
    return target, curve


def claim_priorities(net: Network, rows: list[ClauseRow], clauses: tuple[Clause, ...]) -> list[int]:
    """Priority of every claim: demands, the rows of soft clauses, energy targets, then the
    operating rules (storage targets, release curves)."""
    target, curve = operation_reservoirs(net)
    return [int(p) for p in net.dem_priority] + [
        int(clauses[r.clause].priority or 0) for r in rows if not clauses[r.clause].hard] + [
        int(net.res_energy_priority[k]) for k in energy_reservoirs(net)] + [
        int(net.res_target_priority[k]) for k in target + curve]


def _declare_targets(m: pyo.ConcreteModel, net: Network, pyo: Any) -> None:
    """The rows of `declare` that hold a target at a priority: hydropower energy, storage
    operating targets and release curves, each with its equal-fraction row."""
    def energy(model: pyo.ConcreteModel, k: int) -> pyo.Expression:
        # energy from the turbines (head at the start storage) + shortfall >= target
        return model.energy_per_mcm[k] * model.rel[k] + model.energy_short[k] >= model.energy_target[k]

    m.energy = pyo.Constraint(m.E, rule=energy)

    def energy_share(model: pyo.ConcreteModel, k: int) -> pyo.Expression:
        return model.energy_target[k] * model.M[int(net.res_energy_priority[k])] - model.energy_short[k] >= 0.0

    m.energy_equal_fraction = pyo.Constraint(m.E, rule=energy_share)

    # operating rules: storage toward its target (short is a claim at target_priority, over
    # costs OVER_TARGET_COST per mcm); the release curve's release is a claim at the same level
    def target(model: pyo.ConcreteModel, k: int) -> pyo.Expression:
        return model.v[k] + model.target_short[k] - model.target_over[k] == model.storage_target[k]

    m.target = pyo.Constraint(m.TG, rule=target)

    def target_share(model: pyo.ConcreteModel, k: int) -> pyo.Expression:
        return model.storage_target[k] * model.M[int(net.res_target_priority[k])] - model.target_short[k] >= 0.0

    m.target_equal_fraction = pyo.Constraint(m.TG, rule=target_share)

    def curve(model: pyo.ConcreteModel, k: int) -> pyo.Expression:
        return model.rel[k] + model.spill[k] + model.curve_short[k] >= model.curve_release[k]

    m.curve = pyo.Constraint(m.RC, rule=curve)

    def curve_share(model: pyo.ConcreteModel, k: int) -> pyo.Expression:
        return model.curve_release[k] * model.M[int(net.res_target_priority[k])] - model.curve_short[k] >= 0.0

    m.curve_equal_fraction = pyo.Constraint(m.RC, rule=curve_share)


def declare(net: Network, rows: list[ClauseRow] | None = None,
            clauses: tuple[Clause, ...] = ()) -> pyo.ConcreteModel:
    """The one-step LP as a Pyomo model (placeholder data = 1), mirroring the docstring."""
    pyo = _pyomo()
    rows = rows or []
    m = pyo.ConcreteModel(name="waterdesk_step")
    m.N = pyo.Set(initialize=range(net.n_node))
    m.R = pyo.Set(initialize=range(net.n_reach))
    m.D = pyo.Set(initialize=range(len(net.dem_ids)))
    m.K = pyo.Set(initialize=range(len(net.res_ids)))
    sinks = [n for n in range(net.n_node) if net.node_kind[n] == KIND_CODE["sink"]]
    m.S = pyo.Set(initialize=sinks)
    priorities = claim_priorities(net, rows, clauses)
    levels = sorted(set(priorities))
    m.P = pyo.Set(initialize=levels)
    m.C = pyo.Set(initialize=range(len(rows)))                     # clause rows
    soft = [i for i, r in enumerate(rows) if not clauses[r.clause].hard]
    m.SC = pyo.Set(initialize=soft)                                  # soft clause rows
    m.E = pyo.Set(initialize=energy_reservoirs(net))                 # reservoirs with energy targets
    op_target, op_curve = operation_reservoirs(net)
    m.TG = pyo.Set(initialize=op_target)                             # reservoirs with a storage target
    m.RC = pyo.Set(initialize=op_curve)                              # reservoirs with a release curve

    m.a = pyo.Param(m.R, initialize=1.0, mutable=True)        # current-step routing coefficient
    m.request = pyo.Param(m.D, initialize=1.0, mutable=True)  # R[d]
    m.rhs = pyo.Param(m.N, initialize=0.0, mutable=True)
    m.clause_bound = pyo.Param(m.C, initialize=0.0, mutable=True)
    m.claim = pyo.Param(m.SC, initialize=1.0, mutable=True)         # a soft row's "request"
    m.energy_per_mcm = pyo.Param(m.E, initialize=1.0, mutable=True)  # GWh per mcm through turbines
    m.energy_target = pyo.Param(m.E, initialize=1.0, mutable=True)   # GWh wanted this step
    m.storage_target = pyo.Param(m.TG, initialize=1.0, mutable=True)  # mcm at the end of the step
    m.curve_release = pyo.Param(m.RC, initialize=1.0, mutable=True)   # mcm the release curve asks

    m.q = pyo.Var(m.R, within=pyo.NonNegativeReals)
    m.x = pyo.Var(m.D, within=pyo.NonNegativeReals)
    m.surplus = pyo.Var(m.D, within=pyo.NonNegativeReals)
    m.v = pyo.Var(m.K, within=pyo.NonNegativeReals)
    m.rel = pyo.Var(m.K, within=pyo.NonNegativeReals)
    m.spill = pyo.Var(m.K, within=pyo.NonNegativeReals)
    m.out = pyo.Var(m.S, within=pyo.NonNegativeReals)
    m.M = pyo.Var(m.P, within=pyo.NonNegativeReals)
    m.clause_slack = pyo.Var(m.C, within=pyo.NonNegativeReals)
    m.energy_short = pyo.Var(m.E, within=pyo.NonNegativeReals)      # GWh short of the target
    m.target_short = pyo.Var(m.TG, within=pyo.NonNegativeReals)     # mcm below the storage target
    m.target_over = pyo.Var(m.TG, within=pyo.NonNegativeReals)      # mcm above it
    m.curve_short = pyo.Var(m.RC, within=pyo.NonNegativeReals)      # mcm short of the curve's release
    family = {"q": m.q, "x": m.x, "surplus": m.surplus, "v": m.v, "rel": m.rel, "spill": m.spill,
              "out": m.out}

    res_of_node = {int(n): k for k, n in enumerate(net.res_node)}
    dem_of_node = {int(n): d for d, n in enumerate(net.dem_node)}

    def balance(model: pyo.ConcreteModel, n: int) -> pyo.Expression:
        inflow = sum(model.a[r] * model.q[r] for r in model.R if net.reach_to[r] == n)
        returned = sum((1.0 - net.dem_consumptive[d]) * model.x[d] + model.surplus[d]
                       for d in model.D if net.dem_return_node[d] == n)
        outflow = sum(model.q[r] for r in model.R if net.reach_from[r] == n)
        if n in dem_of_node:
            d = dem_of_node[n]
            outflow += model.x[d] + model.surplus[d]
        if n in sinks:
            outflow += model.out[n]
        if n in res_of_node:
            outflow += model.v[res_of_node[n]]
        return inflow + returned - outflow == model.rhs[n]

    m.mass_balance = pyo.Constraint(m.N, rule=balance)

    def outlet(model: pyo.ConcreteModel, k: int) -> pyo.Expression:
        node = net.res_node[k]
        return sum(model.q[r] for r in model.R if net.reach_from[r] == node) \
            - model.rel[k] - model.spill[k] == 0.0

    m.outlet = pyo.Constraint(m.K, rule=outlet)

    def share(model: pyo.ConcreteModel, d: int) -> pyo.Expression:
        return model.x[d] + model.request[d] * model.M[int(net.dem_priority[d])] >= model.request[d]

    m.equal_fraction = pyo.Constraint(m.D, rule=share)

    def clause_row(model: pyo.ConcreteModel, i: int) -> pyo.Expression:
        row = rows[i]
        expr = sum(coef * family[fam][j] for fam, j, coef in row.terms)
        if row.sense > 0:   # a minimum: what happens + shortfall >= required
            return expr + model.clause_slack[i] >= model.clause_bound[i]
        return expr - model.clause_slack[i] <= model.clause_bound[i]   # a cap

    m.clause = pyo.Constraint(m.C, rule=clause_row)

    def clause_share(model: pyo.ConcreteModel, i: int) -> pyo.Expression:
        level = int(clauses[rows[i].clause].priority or 0)
        return model.claim[i] * model.M[level] - model.clause_slack[i] >= 0.0

    m.clause_equal_fraction = pyo.Constraint(m.SC, rule=clause_share)

    _declare_targets(m, net, pyo)
    # documentation objective: the first stage of the lexicographic solve
    m.objective = pyo.Objective(expr=sum(m.M[p] for p in m.P) - 1e-5 * sum(m.v[k] for k in m.K)
                                + 1e-5 * sum(m.spill[k] for k in m.K), sense=pyo.minimize)
    return m


def extract(net: Network, rows: list[ClauseRow] | None = None,
            clauses: tuple[Clause, ...] = (), cache: bool = True) -> StepLP:
    """The step LP: from the on-disk cache when this declaration was extracted before
    (`lpcache`; Pyomo is then not imported), else declared and extracted (`declare_and_extract`)
    and stored. ``cache=False`` always declares and stores nothing."""
    if not cache:
        return declare_and_extract(net, rows, clauses)
    from waterdesk.allocate import lpcache

    return lpcache.cached(net, rows or [], clauses, declare_and_extract)


def declare_and_extract(net: Network, rows: list[ClauseRow] | None = None,
                        clauses: tuple[Clause, ...] = ()) -> StepLP:
    """Declare the model and extract its matrix once (Pyomo's standard-form compiler)."""
    pyo = _pyomo()
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    rows = rows or []
    divert = diversion_weights(net)
    model = declare(net, rows, clauses)
    form = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    col_of = {id(v): j for j, v in enumerate(form.columns)}

    def cols(component: pyo.Var, keys: list[int]) -> NDArray[np.int64]:
        return np.array([col_of[id(component[k])] for k in keys], dtype=np.int64)

    row_sense = np.array([entry.bound_type for entry in form.rows], dtype=np.int64)
    row_of: dict[tuple[str, int], int] = {}
    for i, entry in enumerate(form.rows):
        con = entry.constraint
        row_of[(con.parent_component().local_name, con.index())] = i
    n_dem = len(net.dem_ids)
    n_res = len(net.res_ids)
    priorities = claim_priorities(net, rows, clauses)
    levels = np.array(sorted(set(priorities)), dtype=np.int64)
    soft = [i for i, r in enumerate(rows) if not clauses[r.clause].hard]
    col_slack = cols(model.clause_slack, list(range(len(rows))))
    energy_k = energy_reservoirs(net)
    col_energy = cols(model.energy_short, energy_k)
    op_target, op_curve = operation_reservoirs(net)
    col_tshort = cols(model.target_short, op_target)
    col_cshort = cols(model.curve_short, op_curve)
    n_op = len(op_target) + len(op_curve)
    col_out = np.full(net.n_node, -1, dtype=np.int64)
    for n in model.S:
        col_out[n] = col_of[id(model.out[n])]
    return StepLP(
        a_matrix=sparse.csc_matrix(form.A),
        row_sense=row_sense,
        col_q=cols(model.q, list(range(net.n_reach))),
        col_x=cols(model.x, list(range(n_dem))),
        col_surplus=cols(model.surplus, list(range(n_dem))),
        col_v=cols(model.v, list(range(n_res))),
        col_rel=cols(model.rel, list(range(n_res))),
        col_spill=cols(model.spill, list(range(n_res))),
        col_out=col_out,
        col_m=cols(model.M, [int(p) for p in levels]),
        row_balance=np.array([row_of[("mass_balance", n)] for n in range(net.n_node)], dtype=np.int64),
        row_outlet=np.array([row_of[("outlet", k)] for k in range(n_res)], dtype=np.int64),
        row_clause=np.array([row_of[("clause", i)] for i in range(len(rows))], dtype=np.int64),
        col_slack=col_slack,
        levels=levels,
        dem_level=np.searchsorted(levels, net.dem_priority).astype(np.int64),
        claim_col=np.concatenate([cols(model.x, list(range(n_dem))), col_slack[soft], col_energy,
                                  col_tshort, col_cshort]).astype(np.int64),
        claim_slack=np.array([False] * n_dem + [True] * (len(soft) + len(energy_k) + n_op), dtype=np.bool_),
        claim_level=np.searchsorted(levels, np.array(priorities, dtype=np.int64)).astype(np.int64),
        claim_row=np.array([-1] * n_dem + soft + [-2] * len(energy_k) + [-3] * len(op_target)
                           + [-4] * len(op_curve), dtype=np.int64),
        row_share=np.array([row_of[("equal_fraction", d)] for d in range(n_dem)]
                           + [row_of[("clause_equal_fraction", i)] for i in soft]
                           + [row_of[("energy_equal_fraction", k)] for k in energy_k]
                           + [row_of[("target_equal_fraction", k)] for k in op_target]
                           + [row_of[("curve_equal_fraction", k)] for k in op_curve], dtype=np.int64),
        col_energy_short=col_energy,
        row_energy=np.array([row_of[("energy", k)] for k in energy_k], dtype=np.int64),
        energy_res=np.array(energy_k, dtype=np.int64),
        n_col=len(form.columns),
        n_row=len(form.rows),
        storage_weight=storage_weights(net),
        col_divert=cols(model.q, divert[0]),
        divert_weight=divert[1],
        target_res=np.array(op_target, dtype=np.int64),
        row_target=np.array([row_of[("target", k)] for k in op_target], dtype=np.int64),
        col_target_short=col_tshort,
        col_target_over=cols(model.target_over, op_target),
        curve_res=np.array(op_curve, dtype=np.int64),
        row_curve=np.array([row_of[("curve", k)] for k in op_curve], dtype=np.int64),
        col_curve_short=col_cshort,
        col_penalty=cols(model.target_over, op_target),
    )
