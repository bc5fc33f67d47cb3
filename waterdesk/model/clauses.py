"""Agreement clauses (docs/FILES.md, docs/AGREEMENTS.md): one class per kind.

A kind's class carries everything the kind means, so adding a kind is one new class
(plus its schema model in io/schema.py and its tests):

- its fields and its cross-checks against the basin (`check`);
- its rows in the step LP (`rows`: ``expr + slack >= lo`` or ``expr - slack <= hi``);
- what a window requires (`window_required`), each row's bound at a step (`row_target`,
  `step_value`, `active_at`) and the "request" of a soft row (`claim_scale`,
  `per_step_limit`), used by `allocate.clauses.ClauseBook`;
- its window rows over a horizon (`window_terms`, `window_steps`) or its per-step rows
  (`per_step`, `horizon_step_bound`), used by `allocate.horizon`;
- how a step is booked into required / actual / violation (`book`), the numbers the
  ledger reports (`counts_withdrawals`, `caps_country`).

The ``book`` argument of the allocation methods is the run's
`waterdesk.allocate.clauses.ClauseBook` (typed ``Any`` here: the model layer does not
import the solver's). Never opens a file.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from waterdesk.calendar import NAMED_SEASONS
from waterdesk.model.basin import Basin
from waterdesk.model.network import KIND_CODE, Network, components

INF = float("inf")
Term = tuple[str, int, float]          # (column family, index, coefficient)
Check = tuple[str | None, str]         # (key or None, message)


@dataclass(frozen=True)
class ClauseRow:
    """One LP row of a clause."""

    clause: int                 # index into the scenario's clauses
    sense: int                  # +1: expr + slack >= lo;  -1: expr - slack <= hi
    terms: tuple[Term, ...]
    role: str                   # which of the clause's rows it is (e.g. share_cap, release_min)
    party: str = ""             # country of a share row, reach of a split row


# --------------------------------------------------------------------------- expressions

def flow_terms(net: Network, node: int) -> list[Term]:
    """What leaves `node` through its reaches (what arrives, for demands and sinks)."""
    terms: list[Term] = [("q", r, 1.0) for r in range(net.n_reach) if net.reach_from[r] == node]
    for d, n in enumerate(net.dem_node):
        if n == node:
            terms += [("x", d, 1.0), ("surplus", d, 1.0)]
    if net.node_kind[node] == KIND_CODE["sink"]:
        terms.append(("out", node, 1.0))
    return terms


def withdrawal_terms(net: Network, country: str | None, sector: str | None,
                     only: tuple[str, ...] | None = None) -> list[Term]:
    """Deliveries of a country's (and/or sector's) demands; `only` restricts them to ids."""
    return [("x", d, 1.0) for d in range(len(net.dem_ids))
            if (country is None or net.dem_country[d] == country)
            and (sector is None or net.dem_sector[d] == sector)
            and (only is None or net.dem_ids[d] in only)]


def river_system(net: Network, node: int) -> set[int]:
    """Nodes joined to `node` by reaches or return flows, whatever their direction."""
    pairs = [(str(a), str(b)) for a, b in zip(net.reach_from.tolist(), net.reach_to.tolist())]
    pairs += [(str(n), str(r)) for n, r in zip(net.dem_node.tolist(), net.dem_return_node.tolist()) if r >= 0]
    return {int(i) for i in components(pairs).get(str(node), {str(node)})}


def closest(name: str, ids: set[str]) -> str:
    """"; did you mean 'x'?" for the closest of `ids`, or "" when none is close."""
    close = difflib.get_close_matches(name, sorted(ids), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _countries(basin: Basin) -> list[str]:
    return list(basin.countries)


# --------------------------------------------------------------------------- the base

@dataclass(frozen=True)
class Clause:
    """What every clause has: an id, an accounting period, hard or soft at a priority.

    The defaults below are those of a window clause whose rows are bounded by what the
    window still allows; a kind overrides what it means differently.
    """

    id: str
    kind: str
    period: str = "step"
    months: tuple[int, ...] = ()
    hard: bool = False
    priority: int | None = None
    description: str = ""
    parties: tuple[str, ...] = ()

    #: rows bounded step by step (in horizon mode: one row per step, not one per window)
    per_step: ClassVar[bool] = False
    #: deliveries of demands are the clause's expression (the result's clause_covers)
    counts_withdrawals: ClassVar[bool] = False
    #: a salinity limit (its row is written by waterdesk.salinity step by step)
    limits_salinity: ClassVar[bool] = False

    def where(self) -> str:
        return ""

    # -- validation
    def check(self, basin: Basin) -> list[Check]:
        """Problems of the kind's own fields against the basin, as (key, message)."""
        ids = {n.id for n in basin.nodes}
        node = getattr(self, "node", None)
        if node is not None and node not in ids:
            return [("node", f"unknown node {node!r}{closest(node, ids)}")]
        return []

    def check_mode(self, mode: str) -> list[Check]:
        """Problems of the kind with the scenario's mode ("step" or "horizon")."""
        return []

    def physical_conflict(self, water: NDArray[np.float64], stored: float, steps: Any,
                          mcm_per_step: NDArray[np.float64]) -> str | None:
        """Why a hard clause could never be met with all of the river's water (`water`,
        mcm per step) and full reservoirs (`stored`, mcm), or None."""
        return None

    def weight_node(self) -> str | None:
        """Node whose natural flow spreads a window requirement over its steps (None: by days)."""
        return None

    # -- step LP
    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        raise NotImplementedError

    def prepare(self, book: Any, c: int, net: Network, natural_mcm: NDArray[np.float64],
                requests: NDArray[np.float64]) -> None:
        """Per-window quantities the kind needs in `book`, before the first step."""

    def split_reference(self, row: ClauseRow) -> tuple[list[Term], list[Term]] | None:
        """A row counted against a flow seen so far: (withdrawal terms, reference-flow
        terms per mcm of reference), booked apart; None for an ordinary row."""
        return None

    def row_demands(self, net: Network, row: ClauseRow) -> list[int]:
        """Demands whose requests bound a >= row's step value (share floors)."""
        return []

    def window_required(self, book: Any, c: int, win: int) -> float | None:
        """What window `win` requires (None: accumulated step by step in `book`)."""
        return None

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        """(cap for <= rows, remaining need for >= rows) at step t."""
        raise NotImplementedError

    def step_value(self, book: Any, i: int, row: ClauseRow, need: float, spread: float,
                   request: NDArray[np.float64]) -> float:
        """The lower bound of a >= row at this step: a window's remaining need spread over
        its remaining steps by default."""
        return max(0.0, need) * spread

    def active_at(self, book: Any, c: int, win: int, t: int) -> bool:
        """Whether a >= row binds at step t of its window."""
        return True

    def claim_scale(self, book: Any, row: ClauseRow) -> float:
        """A generous estimate of a soft row's largest per-step claim [mcm], to weight M."""
        return 1.0

    def per_step_limit(self, book: Any, c: int, win: int, t: int) -> float:
        """The share of a cap's window limit that falls on step t (a soft cap's 'request')."""
        return 1.0

    def _per_day(self, book: Any, c: int, limit: float, win: int, t: int) -> float:
        return limit * float(book.days[t]) / float(book.window_days[c][win])

    # -- booking
    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        """Book step t into window `win`'s required / actual / violation."""
        raise NotImplementedError

    def caps_country(self) -> str | None:
        """The country whose whole withdrawals the clause caps (the ledger's entitlement)."""
        return None

    # -- horizon
    def window_terms(self, book: Any, c: int, win: int, t_last: int, net: Network
                     ) -> list[tuple[list[Term], float, float]]:
        """Rows (terms per step, lower, upper) of the clause over its window inside a
        horizon; what earlier horizons used of the window is taken off. `t_last` is the
        absolute index of the horizon's last step in the window."""
        return []

    def window_steps(self, ts: NDArray[np.int64]) -> NDArray[np.int64]:
        """The horizon steps (of `ts`, the window's) whose columns a window row sums."""
        return ts

    def window_cap_scale(self, cover: float) -> float:
        """A soft window cap's claim scale in horizon mode [mcm]."""
        return 0.0

    def horizon_step_bound(self, book: Any, row: ClauseRow, t: int, delta: float) -> tuple[float, float]:
        """(lo, hi) of a per-step row at absolute step t in horizon mode."""
        return (0.0 if row.sense > 0 else -INF, 0.0 if row.sense < 0 else INF)

    def horizon_step_claim(self, bound: float) -> float:
        """A soft per-step row's claim in horizon mode, from its lower bound."""
        return 1.0


# --------------------------------------------------------------------------- kinds

@dataclass(frozen=True)
class MinFlow(Clause):
    """Flow at `node` >= `min_m3s` in every step."""

    node: str = ""
    min_m3s: tuple[float, ...] = (0.0,) * 12   # per calendar month

    per_step: ClassVar[bool] = True

    def where(self) -> str:
        return f"node {self.node}"

    def need(self, book: Any, t: int) -> float:
        return self.min_m3s[int(book.month[t])] * float(book.delta[t])

    def physical_conflict(self, water: NDArray[np.float64], stored: float, steps: Any,
                          mcm_per_step: NDArray[np.float64]) -> str | None:
        need = np.array([self.min_m3s[m] for m in steps.month_index]) * mcm_per_step
        bad = np.flatnonzero(need > water.max() + stored + 1e-9)
        if not bad.size:
            return None
        t = int(bad[0])
        last = steps.end[t] - np.timedelta64(1, "D")
        more = f" (and {bad.size - 1} more step(s))" if bad.size > 1 else ""
        return (f"min_flow {need[t] / mcm_per_step[t]:g} m3/s at {self.node} in the step {steps.start[t]} to "
                f"{last}{more} is more than all the water that can reach it "
                f"(at most {(water.max() + stored) / mcm_per_step[t]:.4g} m3/s)")

    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        return [ClauseRow(c, +1, tuple(flow_terms(net, net.node_ids.index(self.node))), "min_flow")]

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        return INF, self.need(book, t)

    def step_value(self, book: Any, i: int, row: ClauseRow, need: float, spread: float,
                   request: NDArray[np.float64]) -> float:
        return need

    def claim_scale(self, book: Any, row: ClauseRow) -> float:
        return max(self.min_m3s) * float(book.delta.max(initial=0.0))

    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        first = book.rows_of[c][0]
        need = self.need(book, t)
        book.required[c, win] += need
        book.actual[c, win] += book.values[first]
        book.violation[c, win] += max(0.0, need - book.values[first])

    def horizon_step_bound(self, book: Any, row: ClauseRow, t: int, delta: float) -> tuple[float, float]:
        return self.min_m3s[int(book.month[t])] * delta, INF

    def horizon_step_claim(self, bound: float) -> float:
        return bound


@dataclass(frozen=True)
class MinVolume(Clause):
    """Volume passing `node` over the window >= `min_mcm`."""

    node: str = ""
    min_mcm: float = 0.0

    def where(self) -> str:
        return f"node {self.node}"

    def weight_node(self) -> str | None:
        return self.node

    def physical_conflict(self, water: NDArray[np.float64], stored: float, steps: Any,
                          mcm_per_step: NDArray[np.float64]) -> str | None:
        from waterdesk.calendar import make_windows

        w = make_windows(steps, self.period, self.months)
        for win in range(len(w)):
            mine = w.index == win
            need = self.min_mcm * w.covered[win]
            if need > water[mine].sum() + stored + 1e-9:
                return (f"min_volume {need:g} mcm at {self.node} in the window {w.start[win]} to "
                        f"{w.end[win] - np.timedelta64(1, 'D')} is more "
                        f"than all the water that enters its river ({water[mine].sum() + stored:.4g} mcm "
                        "with full reservoirs)")
        return None

    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        return [ClauseRow(c, +1, tuple(flow_terms(net, net.node_ids.index(self.node))), "min_volume")]

    def window_required(self, book: Any, c: int, win: int) -> float | None:
        return self.min_mcm * float(book.windows[c].covered[win])

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        return INF, self.min_mcm * float(book.windows[row.clause].covered[win]) - book.used[i]

    def claim_scale(self, book: Any, row: ClauseRow) -> float:
        return self.min_mcm

    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        first = book.rows_of[c][0]
        book.actual[c, win] = book.used[first]
        book.violation[c, win] = max(0.0, book.required[c, win] - book.used[first])

    def window_terms(self, book: Any, c: int, win: int, t_last: int, net: Network
                     ) -> list[tuple[list[Term], float, float]]:
        used = book.used_before(c, win).get("", 0.0)
        need = self.min_mcm * float(book.windows[c].covered[win]) - used
        return [(flow_terms(net, net.node_ids.index(self.node)), need, INF)]


@dataclass(frozen=True)
class Share(Clause):
    """Each country's withdrawals against its share of a reference volume."""

    of: str = ""                      # "natural_flow:<node>" or "flow:<node>"
    shares: dict[str, float] = field(default_factory=dict)
    mode: str = "entitlement"         # cap | entitlement | exact
    tolerance: float = 0.0
    demands: tuple[str, ...] | None = None   # only these demands count

    counts_withdrawals: ClassVar[bool] = True

    @property
    def reference(self) -> tuple[str, str]:
        kind, node = self.of.split(":", 1)
        return kind, node

    def where(self) -> str:
        return f"{self.mode} of {self.of} for " + ", ".join(f"{c} {s:g}" for c, s in self.shares.items())

    def check(self, basin: Basin) -> list[Check]:
        ids = {n.id for n in basin.nodes}
        out: list[Check] = []
        ref = self.reference[1]
        if ref not in ids:
            out.append(("of", f"unknown node {ref!r}{closest(ref, ids)}"))
        for country in self.shares:
            if country not in basin.countries:
                out.append(("shares", f"{country} is not a country of the basin {_countries(basin)}"))
        total = sum(self.shares.values())
        if total > 1.0 + 1e-9:
            out.append(("shares", f"shares add up to {total:g}, more than 1"))
        if not self.shares:
            out.append(("shares", "needs at least one country"))
        return out

    def weight_node(self) -> str | None:
        return self.reference[1]

    def demands_of(self, net: Network, country: str) -> list[int]:
        """Demands of `country` that count: those on the river system of the reference node
        (a basin may hold several rivers, as Chu and Talas)."""
        system = river_system(net, net.node_ids.index(self.reference[1]))
        return [d for d in range(len(net.dem_ids))
                if net.dem_country[d] == country and int(net.dem_node[d]) in system
                and (self.demands is None or net.dem_ids[d] in self.demands)]

    def _terms(self, net: Network, country: str) -> list[Term]:
        share = self.shares[country]
        terms: list[Term] = [("x", d, 1.0) for d in self.demands_of(net, country)]
        if self.reference[0] == "flow":
            terms += [(fam, i, -share * coef)
                      for fam, i, coef in flow_terms(net, net.node_ids.index(self.reference[1]))]
        return terms

    def prepare(self, book: Any, c: int, net: Network, natural_mcm: NDArray[np.float64],
                requests: NDArray[np.float64]) -> None:
        w = book.windows[c]
        inside = w.index >= 0
        kind, ref = self.reference
        if kind == "natural_flow":
            book.reference[c] = np.bincount(w.index[inside], weights=natural_mcm[inside, net.node_ids.index(ref)],
                                            minlength=len(w))
        for country in self.shares:
            mine = self.demands_of(net, country)
            per_step = requests[:, mine].sum(axis=1) if mine else np.zeros(len(w.index))
            book.country_request[(c, country)] = np.bincount(w.index[inside], weights=per_step[inside],
                                                             minlength=len(w))

    def split_reference(self, row: ClauseRow) -> tuple[list[Term], list[Term]] | None:
        if self.reference[0] != "flow":
            return None
        share = self.shares[row.party]
        wd = [(f, j, k) for f, j, k in row.terms if f == "x" and k > 0]
        ref = [(f, j, -k / share) for f, j, k in row.terms if (f, j, k) not in wd]
        return wd, ref

    def row_demands(self, net: Network, row: ClauseRow) -> list[int]:
        return self.demands_of(net, row.party)

    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        rows = []
        for country in self.shares:
            terms = tuple(self._terms(net, country))
            if self.mode in ("cap", "exact"):
                rows.append(ClauseRow(c, -1, terms, "share_cap", country))
            if self.mode in ("entitlement", "exact"):
                rows.append(ClauseRow(c, +1, terms, "share_floor", country))
        return rows

    def target(self, book: Any, c: int, country: str, win: int) -> float:
        """A party's allotment in window `win` (natural_flow reference): its share, and in
        entitlement mode at most what its demands ask."""
        target = self.shares[country] * float(book.reference[c][win])
        if self.mode == "entitlement":
            target = min(target, float(book.country_request[(c, country)][win]))
        return target

    def window_required(self, book: Any, c: int, win: int) -> float | None:
        if c not in book.reference:
            return None
        return sum(self.target(book, c, country, win) for country in self.shares)

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        share = self.shares[row.party]
        used = book.used[i]
        if self.reference[0] == "flow":
            # the row holds withdrawal - share*flow: against what passed so far
            passed = share * book.ref_so_far[i]
            if row.role == "share_cap":
                return passed - used + self.tolerance * passed, None
            return INF, passed - used - self.tolerance * passed
        full = share * float(book.reference[row.clause][win])
        if row.role == "share_cap":
            return full * (1.0 + self.tolerance) - used, None
        target = full
        if self.mode == "entitlement":
            target = min(target, float(book.country_request[(row.clause, row.party)][win]))
        return INF, target * (1.0 - self.tolerance) - used

    def step_value(self, book: Any, i: int, row: ClauseRow, need: float, spread: float,
                   request: NDArray[np.float64]) -> float:
        value = max(0.0, need) * spread
        if row.role == "share_floor" and self.reference[0] == "natural_flow":
            mine = book.share_rows_demands[i]
            value = min(value, float(request[mine].sum()) if mine else 0.0)
        return value

    def claim_scale(self, book: Any, row: ClauseRow) -> float:
        if row.clause in book.reference:
            return self.shares[row.party] * float(book.reference[row.clause].max(initial=0.0))
        return 1.0

    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        rows = book.rows_of[c]
        required = actual = violation = 0.0
        for country, share in self.shares.items():
            mine = [i for i in rows if book.rows[i].party == country]
            used = book.used[mine[0]]
            if self.reference[0] == "natural_flow":
                full = share * float(book.reference[c][win])
                target = self.target(book, c, country, win)
            else:
                full = target = share * book.ref_so_far[mine[0]]
            tolerance = self.tolerance * full
            book.party_required[(c, win, country)] = target
            required += target
            actual += used
            if self.mode in ("cap", "exact"):
                violation += max(0.0, used - full - tolerance)
            if self.mode in ("entitlement", "exact"):
                violation += max(0.0, target - tolerance - used)
        book.required[c, win] = required
        book.actual[c, win] = actual
        book.violation[c, win] = violation

    def window_terms(self, book: Any, c: int, win: int, t_last: int, net: Network
                     ) -> list[tuple[list[Term], float, float]]:
        used = book.used_before(c, win)
        out = []
        for country, share in self.shares.items():
            terms = self._terms(net, country)
            if self.reference[0] == "flow":
                full = floor = 0.0
            else:
                full = share * float(book.reference[c][win])
                floor = self.target(book, c, country, win) if self.mode == "entitlement" else full
            u = used.get(country, 0.0)
            if self.mode in ("cap", "exact"):
                out.append((terms, -INF, full * (1 + self.tolerance) - u))
            if self.mode in ("entitlement", "exact"):
                out.append((terms, floor - self.tolerance * full - u, INF))
        return out


@dataclass(frozen=True)
class MaxWithdrawal(Clause):
    """Withdrawals of a country (and/or sector) over the window <= `max_mcm`."""

    country: str | None = None
    sector: str | None = None
    max_mcm: float = 0.0
    demands: tuple[str, ...] | None = None   # only these demands count

    counts_withdrawals: ClassVar[bool] = True

    def where(self) -> str:
        return " ".join(x for x in (self.country, self.sector) if x) + " withdrawals"

    def check(self, basin: Basin) -> list[Check]:
        out: list[Check] = []
        if self.country is None and self.sector is None:
            out.append((None, "needs country, sector or both"))
        if self.country is not None and self.country not in basin.countries:
            out.append(("country", f"{self.country} is not a country of the basin {_countries(basin)}"))
        if self.sector is not None and self.sector not in {d.sector for d in basin.demands}:
            out.append(("sector", f"no demand of sector {self.sector!r} in the basin"))
        return out

    def caps_country(self) -> str | None:
        return self.country if self.country and not self.sector else None

    def _terms(self, net: Network) -> list[Term]:
        return withdrawal_terms(net, self.country, self.sector, self.demands)

    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        return [ClauseRow(c, -1, tuple(self._terms(net)), "max_withdrawal")]

    def window_required(self, book: Any, c: int, win: int) -> float | None:
        return self.max_mcm * float(book.windows[c].covered[win])

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        return self.max_mcm * float(book.windows[row.clause].covered[win]) - book.used[i], None

    def claim_scale(self, book: Any, row: ClauseRow) -> float:
        return self.max_mcm

    def per_step_limit(self, book: Any, c: int, win: int, t: int) -> float:
        return self._per_day(book, c, self.max_mcm, win, t)

    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        first = book.rows_of[c][0]
        book.actual[c, win] = book.used[first]
        book.violation[c, win] = max(0.0, book.used[first] - book.required[c, win])

    def window_terms(self, book: Any, c: int, win: int, t_last: int, net: Network
                     ) -> list[tuple[list[Term], float, float]]:
        used = book.used_before(c, win).get("", 0.0)
        return [(self._terms(net), -INF, self.max_mcm * float(book.windows[c].covered[win]) - used)]

    def window_cap_scale(self, cover: float) -> float:
        return (self.max_mcm or 0.0) * cover


@dataclass(frozen=True)
class Split(Clause):
    """At `node`, the listed reaches carry fixed `ratios` of their total."""

    node: str = ""
    ratios: dict[str, float] = field(default_factory=dict)

    per_step: ClassVar[bool] = True

    def where(self) -> str:
        return f"node {self.node}"

    def check(self, basin: Basin) -> list[Check]:
        out = super().check(basin)
        if out:
            return out
        outgoing = {r.id for r in basin.reaches if r.from_node == self.node}
        for reach in self.ratios:
            if reach not in outgoing:
                out.append(("ratios", f"{reach!r} is not a reach leaving {self.node}{closest(reach, outgoing)}"))
        total = sum(self.ratios.values())
        if abs(total - 1.0) > 1e-9:
            out.append(("ratios", f"ratios add up to {total:g}, not 1"))
        if len(self.ratios) < 2:
            out.append(("ratios", "a split needs at least two reaches"))
        return out

    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        listed = [net.reach_ids.index(r) for r in self.ratios]
        rows = []
        for rid, ratio in self.ratios.items():
            me = net.reach_ids.index(rid)
            terms = tuple(("q", r, (1.0 if r == me else 0.0) - ratio) for r in listed)
            rows.append(ClauseRow(c, -1, terms, "split", rid))
            rows.append(ClauseRow(c, +1, terms, "split", rid))
        return rows

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        return 0.0, 0.0

    def step_value(self, book: Any, i: int, row: ClauseRow, need: float, spread: float,
                   request: NDArray[np.float64]) -> float:
        return need

    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        # each reach's deviation from its ratio, counted once: half the sum of |deviation|
        rows = book.rows_of[c]
        total = float(x[book.row_cols[rows[0]]].sum())
        misplaced = 0.5 * sum(abs(book.values[i]) for i in rows if book.rows[i].sense < 0)
        book.required[c, win] += total
        book.violation[c, win] += misplaced
        book.actual[c, win] = book.required[c, win] - book.violation[c, win]


def _reservoir_check(clause: Clause, basin: Basin) -> list[Check]:
    ids = {n.id for n in basin.nodes}
    node = getattr(clause, "node")
    if node not in ids:
        return [("node", f"unknown node {node!r}{closest(node, ids)}")]
    if node not in {r.id for r in basin.reservoirs}:
        return [("node", f"{node!r} is not a reservoir")]
    return []


@dataclass(frozen=True)
class Release(Clause):
    """Releases (incl. spill) of reservoir `node` over the window within [min, max]."""

    node: str = ""
    min_mcm: float | None = None
    max_mcm: float | None = None

    def where(self) -> str:
        return f"reservoir {self.node}"

    def check(self, basin: Basin) -> list[Check]:
        out = _reservoir_check(self, basin)
        if self.min_mcm is None and self.max_mcm is None:
            out.append((None, "needs min_mcm, max_mcm or both"))
        elif self.min_mcm is not None and self.max_mcm is not None and self.min_mcm > self.max_mcm:
            out.append(("min_mcm", f"must be <= max_mcm ({self.max_mcm:g}), got {self.min_mcm:g}"))
        return out

    def weight_node(self) -> str | None:
        return self.node

    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        k = net.res_ids.index(self.node)
        terms = (("rel", k, 1.0), ("spill", k, 1.0))
        rows = []
        if self.max_mcm is not None:
            rows.append(ClauseRow(c, -1, terms, "release_max"))
        if self.min_mcm is not None:
            rows.append(ClauseRow(c, +1, terms, "release_min"))
        return rows

    def window_required(self, book: Any, c: int, win: int) -> float | None:
        level = self.min_mcm if self.min_mcm is not None else self.max_mcm or 0.0
        return level * float(book.windows[c].covered[win])

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        cover = float(book.windows[row.clause].covered[win])
        if row.role == "release_max":
            return (self.max_mcm or 0.0) * cover - book.used[i], None
        return INF, (self.min_mcm or 0.0) * cover - book.used[i]

    def claim_scale(self, book: Any, row: ClauseRow) -> float:
        return float(max(self.min_mcm or 0.0, self.max_mcm or 0.0))

    def per_step_limit(self, book: Any, c: int, win: int, t: int) -> float:
        return self._per_day(book, c, self.max_mcm, win, t) if self.max_mcm is not None else 1.0

    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        first = book.rows_of[c][0]
        cover = float(book.windows[c].covered[win])
        used = book.used[first]
        book.actual[c, win] = used
        low = (self.min_mcm or 0.0) * cover
        high = self.max_mcm * cover if self.max_mcm is not None else INF
        book.violation[c, win] = max(0.0, low - used) + max(0.0, used - high)

    def window_terms(self, book: Any, c: int, win: int, t_last: int, net: Network
                     ) -> list[tuple[list[Term], float, float]]:
        k = net.res_ids.index(self.node)
        terms: list[Term] = [("rel", k, 1.0), ("spill", k, 1.0)]
        cover = float(book.windows[c].covered[win])
        used = book.used_before(c, win).get("", 0.0)
        out = []
        if self.max_mcm is not None:
            out.append((terms, -INF, self.max_mcm * cover - used))
        if self.min_mcm is not None:
            out.append((terms, self.min_mcm * cover - used, INF))
        return out

    def window_cap_scale(self, cover: float) -> float:
        return (self.max_mcm or 0.0) * cover


@dataclass(frozen=True)
class Storage(Clause):
    """Storage of reservoir `node` at the end of the window >= `min_mcm`."""

    node: str = ""
    min_mcm: float = 0.0

    def where(self) -> str:
        return f"reservoir {self.node}"

    def check(self, basin: Basin) -> list[Check]:
        return _reservoir_check(self, basin)

    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        return [ClauseRow(c, +1, (("v", net.res_ids.index(self.node), 1.0),), "storage")]

    def window_required(self, book: Any, c: int, win: int) -> float | None:
        return self.min_mcm

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        return INF, self.min_mcm

    def step_value(self, book: Any, i: int, row: ClauseRow, need: float, spread: float,
                   request: NDArray[np.float64]) -> float:
        return need

    def active_at(self, book: Any, c: int, win: int, t: int) -> bool:
        return bool(t == book.windows[c].last_step[win])

    def claim_scale(self, book: Any, row: ClauseRow) -> float:
        return self.min_mcm

    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        if t == book.windows[c].last_step[win]:
            first = book.rows_of[c][0]
            book.actual[c, win] = book.values[first]
            book.violation[c, win] = max(0.0, self.min_mcm - book.values[first])

    def window_terms(self, book: Any, c: int, win: int, t_last: int, net: Network
                     ) -> list[tuple[list[Term], float, float]]:
        if book.windows[c].last_step[win] != t_last:
            return []
        return [([("v", net.res_ids.index(self.node), 1.0)], self.min_mcm, INF)]

    def window_steps(self, ts: NDArray[np.int64]) -> NDArray[np.int64]:
        return ts[-1:]


@dataclass(frozen=True)
class MaxSalinity(Clause):
    """Salinity of the water leaving `node` <= `max_mg_l` [mg L-1]: each step's
    flow-weighted concentration, or the window's flow-weighted mean when `period` is longer
    than a step (then no step may take the running mean above the limit: a step may use
    what fresher earlier steps of the window left). Needs the basin's salinity data.

    Its LP row is ``Σ_j g_j·col_j - slack <= hi`` over every reach entry, delivery and
    surplus (declared with placeholder coefficients 1): `waterdesk.salinity.SaltTracker`
    writes the tangent plane of F = S - max_mg_l·W [t] / max_mg_l at each step and iterates
    on the mixing (docs/SALINITY.md). Required / actual / violation are in mg L-1.
    """

    node: str = ""
    max_mg_l: float = 0.0

    #: the clause's row is written by the salinity tracker, step by step
    limits_salinity: ClassVar[bool] = True

    def where(self) -> str:
        return f"node {self.node}, at most {self.max_mg_l:g} mg/L"

    def check(self, basin: Basin) -> list[Check]:
        out = super().check(basin)
        if not any(getattr(n, "salinity_mg_l", None) is not None for n in basin.nodes):
            out.append((None, "the basin has no salinity data: give its inflow nodes salinity_mg_l"))
        if self.max_mg_l <= 0:
            out.append(("max_mg_l", f"must be > 0 mg/L, got {self.max_mg_l:g}"))
        return out

    def check_mode(self, mode: str) -> list[Check]:
        if mode != "step":
            return [("kind", 'max_salinity clauses need mode = "step" (horizon mode does not iterate '
                             "on the mixing)")]
        return []

    def weight_node(self) -> str | None:
        return self.node

    def rows(self, c: int, net: Network) -> list[ClauseRow]:
        terms = ([("q", r, 1.0) for r in range(net.n_reach)]
                 + [("x", d, 1.0) for d in range(len(net.dem_ids))]
                 + [("surplus", d, 1.0) for d in range(len(net.dem_ids))])
        return [ClauseRow(c, -1, tuple(terms), "max_salinity")]

    def prepare(self, book: Any, c: int, net: Network, natural_mcm: NDArray[np.float64],
                requests: NDArray[np.float64]) -> None:
        if not hasattr(book, "salt_now"):
            book.salt_now = {}     # clause -> (salt, water) at its node this step [t, mcm]
            book.salt_sums = {}    # (clause, window) -> [salt, water] so far

    def window_required(self, book: Any, c: int, win: int) -> float | None:
        return self.max_mg_l

    def row_target(self, book: Any, i: int, row: ClauseRow, win: int, t: int,
                   request: NDArray[np.float64]) -> tuple[float, float | None]:
        return INF, None          # the tracker sets the bound with the row's coefficients

    def claim_scale(self, book: Any, row: ClauseRow) -> float:
        return float(book.weight[row.clause].max(initial=1e-3))

    def per_step_limit(self, book: Any, c: int, win: int, t: int) -> float:
        return float(book.weight[c, t])

    def book(self, book: Any, c: int, win: int, t: int, x: NDArray[np.float64]) -> None:
        salt, water = book.salt_now.get(c, (0.0, 0.0))
        sums = book.salt_sums.setdefault((c, win), [0.0, 0.0])
        sums[0] += salt
        sums[1] += water
        mean = sums[0] / sums[1] if sums[1] > 1e-12 else 0.0
        book.actual[c, win] = mean
        # the fixed point meets the limit to 1e-3 mg/L (waterdesk.salinity.TOL_MG_L)
        excess = mean - self.max_mg_l
        book.violation[c, win] = excess if excess > 1e-3 else 0.0


CLAUSE_CLASSES: dict[str, type[Clause]] = {
    "min_flow": MinFlow, "min_volume": MinVolume, "share": Share, "max_withdrawal": MaxWithdrawal,
    "split": Split, "release": Release, "storage": Storage,
    "max_salinity": MaxSalinity,
}


def from_fields(fields: dict[str, object]) -> Clause:
    """A clause from its validated file fields."""
    data = dict(fields)
    season = data.pop("season", None)
    months = data.get("months")
    if season:
        data["months"] = NAMED_SEASONS[str(season)]
    else:
        data["months"] = tuple(months) if isinstance(months, list) else ()
    data["parties"] = tuple(data.get("parties") or ())  # type: ignore[arg-type]
    if data.get("demands") is not None:
        data["demands"] = tuple(data["demands"])  # type: ignore[arg-type]
    if data["kind"] == "min_flow":
        value = data["min_m3s"]
        data["min_m3s"] = tuple(value) if isinstance(value, list) else (float(value),) * 12  # type: ignore[arg-type]
    return CLAUSE_CLASSES[str(data["kind"])](**data)  # type: ignore[arg-type]
