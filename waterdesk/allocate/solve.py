"""Drive HiGHS in place: one LP per step, changed by bounds, costs and a few coefficients.

Strict priorities and equal fractions are solved lexicographically:

1. stage k = the highest priority level not yet decided; costs as in
   `formulation` (level k first, lower levels discounted 10^-2 per level);
2. water-filling within level k: the demands whose shortage fraction equals
   M[k] and whose equal-fraction row is saturated (|dual| > SATURATED = 1.0, not
   merely non-zero: a binding row whose freed water is worth < 1 per mcm elsewhere is
   not a bottleneck; if none exceeds it, the largest dual's) cannot do better;
   their deliveries are fixed and M[k] is minimised again over the others, until
   none is left (max-min fairness, exact "where the network allows");
3. level k is fixed (each delivery's lower bound set to what it got) and the
   next level that is short in the current solution becomes stage k+1.

A step where no demand is short costs one warm-started solve; each extra short
level costs one more. HiGHS keeps its basis between calls (hot start), runs with
threads=1 (set before the first run in the process) and without presolve.
"""
from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from waterdesk.allocate.formulation import StepLP
from waterdesk.errors import InfeasibleError, SolverError

ALPHA = 10.0           # cost of M (largest shortage fraction x the level's request scale)
LOWER_LEVEL = 1e-2     # discount per level below the one being decided
OWN_LEVEL = 0.1        # per mcm to the level being decided, beside ALPHA on its M
FLOOR = 1e-3           # smallest weight a demand gets (stays above storage value)
STORAGE_VALUE = 1e-4   # per mcm kept in a reservoir
SPILL_COST = 1e-4      # per mcm over the spillway
SURPLUS_COST = 5e-4    # per mcm of canal water passing a demand unconsumed (forced by a lagged
                       # canal): below every claim's weight, so a lower priority can let it
                       # pass to a higher one downstream, and above the storage value
DIVERT_COST = 1e-5     # per mcm entering a reach off a node's natural course (a canal), x 1
                       # to 3 by how far upstream (formulation.diversion_weights), so the LP
                       # has one answer, not one per pivoting order
OVER_TARGET_COST = 3e-4  # per mcm stored above a reservoir's operating target: above the storage
                         # value plus the spill cost (the excess is released) and below every
                         # claim's weight (horizon mode may keep it for a later demand)
TOL = 1e-7             # a shortage below this [mcm] is none
FIX_SLACK = 1e-9       # relative slack when a decided delivery becomes a lower bound
PRICE_BASE = 100.0     # pricing LP: weight of a level against the level above it
GUARD = 1e4            # per mcm, for levels above a guessed first stage
SATURATED = 1.0        # dual above which an equal-fraction row cannot improve

_threads_set = False


def _highs() -> "object":
    import highspy

    global _threads_set
    h = _quiet(highspy.Highs)
    h.setOptionValue("output_flag", False)
    if not _threads_set:
        # must precede the first run() in the process, or HiGHS errors (perf-baseline §2)
        highspy.Highs.resetGlobalScheduler(True)
        _threads_set = True
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")
    return h


def _quiet(factory: "type") -> "object":
    """Construct without HiGHS's banner on the process's stdout (fd 1)."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return factory()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def stage_costs(lp: StepLP, stage: int, guard: int = 0, m_weight: float = ALPHA) -> NDArray[np.float64]:
    """Objective of a stage: the level decided now counts only by its largest
    shortage fraction (M, held in mcm, at ALPHA); lower levels only by volume,
    at most LOWER_LEVEL per mcm, so no lower level can outbid it (their equal
    fractions are settled in their own stage). Levels above a guessed first
    stage get GUARD per mcm (guard = the stage; -1 settles the stage's level by
    volume after its fairness rounds)."""
    cost = np.zeros(lp.n_col)
    weight = np.zeros(len(lp.levels))
    for k in range(stage + 1, len(lp.levels)):
        weight[k] = max(LOWER_LEVEL ** (k - stage), FLOOR)
    weight[:guard] = GUARD
    if guard < 0:      # settle level `stage` by volume (after its fairness rounds)
        weight[stage] = 1.0
    elif len(lp.levels):
        # the level being decided also earns by volume, far below its M term, so
        # that its claims that are not bottlenecks take what they can already
        # (water-filling then has fewer rounds) rather than stop at M's fraction
        # to save a canal's cost
        weight[stage] = OWN_LEVEL
    sign = np.where(lp.claim_slack, 1.0, -1.0)   # deliveries earn, shortfalls cost
    cost[lp.claim_col] = sign * weight[lp.claim_level]
    if len(lp.levels) and guard >= 0:
        cost[lp.col_m[stage]] = m_weight
    storage_weight = (lp.storage_weight if len(lp.storage_weight) == len(lp.col_v)
                      else np.ones(len(lp.col_v)))
    divert_weight = (lp.divert_weight if len(lp.divert_weight) == len(lp.col_divert)
                     else np.ones(len(lp.col_divert)))
    cost[lp.col_v] = -STORAGE_VALUE * storage_weight
    cost[lp.col_spill] = SPILL_COST
    cost[lp.col_surplus] = SURPLUS_COST
    cost[lp.col_divert] += DIVERT_COST * divert_weight
    cost[lp.col_penalty] += OVER_TARGET_COST
    return cost


class StepSolver:
    """One HiGHS instance holding the step LP; `solve` returns the column values."""

    def __init__(self, lp: StepLP, level_scale: NDArray[np.float64] | None = None,
                 fair_rounds: int | None = None) -> None:
        """`level_scale` [mcm]: the largest total request of each priority level over
        the run; it sets the weight of M so the objective does not change from step
        to step (and HiGHS keeps a dual-feasible basis)."""
        import highspy

        self.lp = lp
        self.h = _highs()
        model = highspy.HighsLp()
        model.num_col_ = lp.n_col
        model.num_row_ = lp.n_row
        inf = highspy.kHighsInf
        self.inf = inf
        model.col_cost_ = np.zeros(lp.n_col)
        model.col_lower_ = np.zeros(lp.n_col)
        model.col_upper_ = np.full(lp.n_col, inf)
        model.row_lower_ = np.where(lp.row_sense <= 0, 0.0, -inf)
        model.row_upper_ = np.where(lp.row_sense >= 0, 0.0, inf)
        a = lp.a_matrix
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = a.indptr.astype(np.int32)
        model.a_matrix_.index_ = a.indices.astype(np.int32)
        model.a_matrix_.value_ = a.data.astype(np.float64)
        model.a_matrix_.num_col_ = lp.n_col
        model.a_matrix_.num_row_ = lp.n_row
        self.h.passModel(model)
        self._all_cols = np.arange(lp.n_col, dtype=np.int32)
        self._all_rows = np.arange(lp.n_row, dtype=np.int32)
        self._coef_values: NDArray[np.float64] | None = None
        scale = np.ones(len(lp.levels)) if level_scale is None else np.asarray(level_scale, float)
        # M is held in mcm (the fraction times the level's request scale S): rows read
        # x + (R/S)·M >= R, so costs and coefficients stay near 1 whatever the volumes
        self.m_scale = np.maximum(scale, 1.0)
        self._m_weight = np.full(len(lp.levels), ALPHA)
        self._cost_cache: dict[tuple[int, int], NDArray[np.float64]] = {}
        self._cost_key: tuple[int, int] | None = None
        self._guess = 0          # first short level of the previous step
        self._claims_of_level = [np.flatnonzero(lp.claim_level == k) for k in range(len(lp.levels))]
        self._demand_claim = ~lp.claim_slack
        self._claim_m = lp.claim_m
        self._divert_weight = (lp.divert_weight if len(lp.divert_weight) == len(lp.col_divert)
                               else np.ones(len(lp.col_divert)))
        self._storage_weight = (lp.storage_weight if len(lp.storage_weight) == len(lp.col_v)
                                else np.ones(len(lp.col_v)))
        self.solves = 0
        self.iterations = 0
        self.run_seconds = 0.0
        self._fix_slack = FIX_SLACK
        self._solved_once = False
        # water-filling rounds per level before the rest of the level is settled by volume
        # (None: exact max-min fairness, however many rounds it takes)
        self.fair_rounds = fair_rounds

    # ------------------------------------------------------------------ updates
    def set_coefficients(self, rows: NDArray[np.int64], cols: NDArray[np.int64],
                         values: NDArray[np.float64]) -> None:
        """Change matrix entries (rows[i], cols[i]) to values[i]; only those that
        differ from the last call reach HiGHS. Always called with the same positions."""
        if self._coef_values is None:
            changed = np.arange(len(values))
        else:
            changed = np.flatnonzero(values != self._coef_values)
        for i in changed.tolist():
            self.h.changeCoeff(int(rows[i]), int(cols[i]), float(values[i]))
        self._coef_values = values.copy()

    def solve_step(self, col_lower: NDArray[np.float64], col_upper: NDArray[np.float64],
                   row_lower: NDArray[np.float64], row_upper: NDArray[np.float64],
                   request: NDArray[np.float64]) -> NDArray[np.float64]:
        """Lexicographic, equal-fraction allocation of one step; returns column values.

        Decided claims are frozen with a relative slack of FIX_SLACK; if the solver's
        tolerances make a later stage infeasible, the step is redone once with a looser
        slack (1e-6) before the failure is reported as numerical (SolverError)."""
        self._fix_slack = FIX_SLACK
        self._solved_once = False
        try:
            return self._solve_step(col_lower, col_upper, row_lower, row_upper, request)
        except InfeasibleError:
            if not self._solved_once:
                raise                       # the step itself is infeasible: the caller names why
        self._fix_slack = 1e-6
        self._solved_once = False
        try:
            return self._solve_step(col_lower, col_upper, row_lower, row_upper, request)
        except InfeasibleError as err:
            if not self._solved_once:
                raise
            raise SolverError("a lexicographic stage became infeasible within the solver's "
                              "tolerances after the step was solved once") from err

    def _solve_step(self, col_lower: NDArray[np.float64], col_upper: NDArray[np.float64],
                    row_lower: NDArray[np.float64], row_upper: NDArray[np.float64],
                    request: NDArray[np.float64]) -> NDArray[np.float64]:
        lp = self.lp
        h = self.h
        self._col_upper = col_upper.copy()
        h.changeColsBounds(lp.n_col, self._all_cols, col_lower, col_upper)
        h.changeRowsBounds(lp.n_row, self._all_rows, row_lower, row_upper)
        n_level = len(lp.levels)
        active = request > 0
        lower = col_lower.copy()
        row_lo = row_lower.copy()
        # start where the previous step first fell short; the levels above are
        # guarded by a large volume weight and must come out fully served, else
        # the step restarts from the top
        stage = self._guess if 0 < self._guess < n_level else 0
        try:
            x = self._run(self._costs(stage, guard=stage))
        except InfeasibleError:
            raise InfeasibleError("the hard clauses and physical bounds of this step cannot all hold",
                                  clauses=self._conflict(row_lower, row_upper)) from None
        while stage:
            above = self._short_levels(x, request, active, 0)
            if not above.size or above[0] >= stage:
                self._fix_levels(x, range(stage), lower, row_lo)
                break
            # a level above the guess is short: the levels above *it* are served
            stage = int(above[0])
            x = self._refine(self._costs(stage, guard=stage), x)
        first_short: int | None = None
        while True:
            short = self._short_levels(x, request, active, stage)
            if short.size == 0:
                self._guess = first_short or 0
                return x
            level = int(short[0])
            if first_short is None:
                first_short = level
            if level != stage:
                # levels between stage and `level` are fully served: keep them so
                self._fix_levels(x, range(stage, level), lower, row_lo)
                x = self._refine(self._costs(level), x)
                if not self._level_short(x, request, active, level):
                    stage = level + 1
                    self._fix_levels(x, [level], lower, row_lo)
                    continue
            x = self._water_fill(x, level, request, active, lower, row_lo)
            self._fix_levels(x, [level], lower, row_lo)
            stage = level + 1
            if stage >= n_level or not self._short_levels(x, request, active, stage).size:
                # nothing below is short: x already serves every lower level in full, and
                # the next stage's costs (which only weigh lower levels more against
                # storage) would return it again
                self._guess = first_short
                return x
            x = self._refine(self._costs(stage), x)

    def price(self, col_lower: NDArray[np.float64], col_upper: NDArray[np.float64],
              row_lower: NDArray[np.float64], row_upper: NDArray[np.float64]) -> NDArray[np.float64]:
        """Row duals of the pricing LP: minimise the priority-weighted shortage
        Σ_k PRICE_BASE^-k · (shortfall of the claims of level k) [mcm of top-priority
        shortage], with the step's original bounds (no level fixed). A row's dual is the
        change of that objective per unit more of its lower bound (less of its upper bound,
        with the sign turned by the caller)."""
        lp = self.lp
        h = self.h
        h.changeColsBounds(lp.n_col, self._all_cols, col_lower, col_upper)
        h.changeRowsBounds(lp.n_row, self._all_rows, row_lower, row_upper)
        weight = PRICE_BASE ** -np.arange(len(lp.levels), dtype=float)
        cost = np.zeros(lp.n_col)
        cost[lp.claim_col] = np.where(lp.claim_slack, 1.0, -1.0) * weight[lp.claim_level]
        cost[lp.col_v] = -STORAGE_VALUE * self._storage_weight * (weight[-1] if len(weight) else 1.0)
        cost[lp.col_spill] = SPILL_COST * (weight[-1] if len(weight) else 1.0)
        cost[lp.col_surplus] = SURPLUS_COST
        cost[lp.col_penalty] += OVER_TARGET_COST * (weight[-1] if len(weight) else 1.0)
        h.changeColsCost(lp.n_col, self._all_cols, cost)
        self._cost_key = None
        h.run()
        return np.asarray(h.getSolution().row_dual)

    def set_hard_clauses(self, rows_of_clause: dict[int, NDArray[np.int64]]) -> None:
        """LP rows of each hard clause (clause index -> row indices), for `_conflict`."""
        self._hard = rows_of_clause

    def _conflict(self, row_lower: NDArray[np.float64], row_upper: NDArray[np.float64]) -> list[int]:
        """A minimal set of hard clauses that cannot hold together with the physical
        bounds (deletion filter): each active clause is relaxed in turn and left out of
        the set if the rest still conflict without it. Empty when the physical bounds
        alone conflict. Each test is a feasibility solve (zero costs)."""
        import highspy

        h = self.h
        hard = getattr(self, "_hard", {})
        active = [c for c, rows in sorted(hard.items())
                  if np.any(np.isfinite(row_lower[rows]) | np.isfinite(row_upper[rows]))]
        h.changeColsCost(self.lp.n_col, self._all_cols, np.zeros(self.lp.n_col))
        self._cost_key = None

        def feasible() -> bool:
            h.clearSolver()                # cold: a hot start's verdict is not trusted here
            h.run()
            return bool(h.getModelStatus() == highspy.HighsModelStatus.kOptimal)

        def set_rows(c: int, relaxed: bool) -> None:
            rows = hard[c]
            lo = np.full(len(rows), -self.inf) if relaxed else row_lower[rows]
            hi = np.full(len(rows), self.inf) if relaxed else row_upper[rows]
            h.changeRowsBounds(len(rows), rows.astype(np.int32), lo, hi)

        for c in active:
            set_rows(c, True)
        if not feasible():
            conflict: list[int] = []       # the physical bounds conflict on their own
        else:
            for c in active:
                set_rows(c, False)
            conflict = list(active)
            for c in active:
                set_rows(c, True)
                if feasible():
                    set_rows(c, False)     # needed: without it the rest can hold
                else:
                    conflict.remove(c)
        h.changeRowsBounds(self.lp.n_row, self._all_rows, row_lower, row_upper)
        return conflict

    # ------------------------------------------------------------------ helpers
    def _costs(self, stage: int, guard: int = 0) -> tuple[int, int]:
        """The cost vector of a stage (`stage_costs`), cached; returns its cache key."""
        key = (stage, guard)
        if key not in self._cost_cache:
            self._cost_cache[key] = stage_costs(self.lp, stage, guard, self._m_weight[stage]
                                                if len(self.lp.levels) else ALPHA)
        return key

    def _refine(self, key: tuple[int, int], x: NDArray[np.float64]) -> NDArray[np.float64]:
        """A solve that refines a solution already found: if HiGHS cannot settle it
        numerically, keep the solution we have (feasible) and say so once."""
        try:
            return self._run(key)
        except SolverError:
            import warnings

            from waterdesk.errors import WaterdeskWarning

            if not getattr(self, "_warned", False):
                warnings.warn("HiGHS could not settle a refinement of the allocation numerically; "
                              "the previous stage's solution was kept", WaterdeskWarning, stacklevel=2)
                self._warned = True
            return x

    def _run(self, key: tuple[int, int]) -> NDArray[np.float64]:
        import highspy

        h = self.h
        if key != self._cost_key:
            h.changeColsCost(self.lp.n_col, self._all_cols, self._cost_cache[key])
            self._cost_key = key
        started = time.perf_counter()
        status = h.run()
        self.run_seconds += time.perf_counter() - started
        self.solves += 1
        model_status = h.getModelStatus()
        if model_status == highspy.HighsModelStatus.kOptimal:
            self.iterations += h.getInfoValue("simplex_iteration_count")[1]
            self._solved_once = True
            return np.fromiter(h.getSolution().col_value, np.float64, self.lp.n_col)
        # a hot start can end in a wrong verdict (HiGHS #3194): retry cold, and with
        # presolve (it settles some degenerate LPs the plain simplex leaves "Unknown")
        for presolve in ("off", "on"):
            h.clearSolver()
            h.setOptionValue("presolve", presolve)
            h.run()
            model_status = h.getModelStatus()
            if model_status == highspy.HighsModelStatus.kOptimal:
                self._solved_once = True
                break
        h.setOptionValue("presolve", "off")
        if model_status == highspy.HighsModelStatus.kOptimal:
            return np.fromiter(h.getSolution().col_value, np.float64, self.lp.n_col)
        if model_status in (highspy.HighsModelStatus.kInfeasible,
                            highspy.HighsModelStatus.kUnboundedOrInfeasible):
            raise InfeasibleError("the physical bounds of this step cannot all hold")
        raise SolverError(f"HiGHS returned {h.modelStatusToString(model_status)} ({status})")

    def _fractions(self, x: NDArray[np.float64], request: NDArray[np.float64],
                   active: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Shortage fraction of each demand (0 where nothing is asked)."""
        frac = np.zeros_like(request)
        frac[active] = self._shortage(x, request)[active] / request[active]
        return frac

    def _shortage(self, x: NDArray[np.float64], request: NDArray[np.float64]) -> NDArray[np.float64]:
        """Shortfall of each claim [mcm]: request - delivery, or a soft clause's slack."""
        got = x[self.lp.claim_col]
        return np.where(self.lp.claim_slack, got, request - got)

    def _level_short(self, x: NDArray[np.float64], request: NDArray[np.float64],
                     active: NDArray[np.bool_], level: int) -> bool:
        dems = self._claims_of_level[level]
        return bool(np.any(self._shortage(x, request)[dems] > TOL))

    def _short_levels(self, x: NDArray[np.float64], request: NDArray[np.float64],
                      active: NDArray[np.bool_], stage: int) -> NDArray[np.int64]:
        """Priority levels (indices >= stage) with a demand short by more than TOL."""
        lp = self.lp
        short = self._shortage(x, request) > TOL
        counts = np.bincount(lp.claim_level[short], minlength=len(lp.levels))
        return np.flatnonzero(counts[stage:]) + stage

    def _fix_levels(self, x: NDArray[np.float64], levels: "range | list[int]",
                    lower: NDArray[np.float64], row_lo: NDArray[np.float64]) -> None:
        """Freeze every demand of the given levels at what it gets in x."""
        if len(levels):
            self._freeze(x, np.concatenate([self._claims_of_level[k] for k in levels]), lower, row_lo)

    def _freeze(self, x: NDArray[np.float64], claims: NDArray[np.int64],
                lower: NDArray[np.float64], row_lo: NDArray[np.float64]) -> None:
        """Claims keep what they get in x: a delivery may not fall (less a relative
        slack of FIX_SLACK), a soft clause's shortfall may not grow; their
        equal-fraction rows no longer bind M."""
        if claims.size == 0:
            return
        lp = self.lp
        cols = lp.claim_col[claims]
        slack = self._fix_slack * np.maximum(1.0, x[cols])
        is_slack = lp.claim_slack[claims]
        lower[cols] = np.where(is_slack, lower[cols], np.maximum(0.0, x[cols] - slack))
        upper = np.where(is_slack, x[cols] + slack, self._col_upper[cols])
        self._col_upper[cols] = upper
        self.h.changeColsBounds(len(cols), cols.astype(np.int32), lower[cols], upper)
        rows = lp.row_share[claims]
        row_lo[rows] = -self.inf
        self.h.changeRowsBounds(len(rows), rows.astype(np.int32), row_lo[rows],
                                np.full(len(rows), self.inf))

    def _water_fill(self, x: NDArray[np.float64], level: int, request: NDArray[np.float64],
                    active: NDArray[np.bool_], lower: NDArray[np.float64],
                    row_lo: NDArray[np.float64]) -> NDArray[np.float64]:
        lp = self.lp
        free = self._claims_of_level[level][active[self._claims_of_level[level]]]
        rounds = 0
        while free.size:
            rounds += 1
            if self.fair_rounds is not None and rounds > self.fair_rounds:
                # the largest shortages are shared exactly; the rest of the level takes
                # all it can without any claim exceeding the last shortage fraction M
                cols = lp.level_m(level)
                m_now = x[cols]
                self.h.changeColsBounds(len(cols), cols.astype(np.int32), np.zeros(len(cols)),
                                        m_now * (1.0 + 1e-7) + 1e-7)
                try:
                    x = self._refine(self._costs(level, guard=-1), x)
                except InfeasibleError:
                    pass                    # tolerances: keep the last solution, which is feasible
                self.h.changeColsBounds(len(cols), cols.astype(np.int32), np.zeros(len(cols)),
                                        np.full(len(cols), self.inf))
                return x
            # the largest shortage fraction of each claim's level (of its member, stacked)
            m = x[self._claim_m] / self.m_scale[level]
            frac = self._fractions(x, request, active)
            claims = self._claims_of_level[level]
            if float((m[claims] * request[claims]).sum()) <= TOL:
                return x
            at_max = free[frac[free] >= m[free] * (1.0 - 1e-7) - 1e-9]
            if at_max.size == 0:        # M not tight (numerics): the worst-off claim is the one
                at_max = free[[int(np.argmax(frac[free]))]]
            # saturated rows carry duals averaging >= ALPHA (Σ y·R = ALPHA·ΣR over them);
            # what lower levels or storage would do with freed water is worth < 1 per mcm
            duals = np.abs(np.asarray(self.h.getSolution().row_dual)[lp.row_share[at_max]])
            bottleneck = at_max[duals > SATURATED]
            if bottleneck.size == 0:
                bottleneck = at_max[[int(np.argmax(duals))]]
            if bottleneck.size == free.size:
                return x     # every undecided demand is saturated: max-min fair
            # freeze the bottleneck demands at what they get, then lift the others
            self._freeze(x, bottleneck, lower, row_lo)
            frozen = np.zeros(len(request), dtype=np.bool_)
            frozen[bottleneck] = True
            free = free[~frozen[free]]       # order kept (setdiff1d sorts and costs ~80 µs)
            if np.all(frac[free] * request[free] <= TOL):
                return x     # the rest are fully served already: nothing left to share
            x = self._refine(self._costs(level), x)
        return x
