"""Agreement clauses in the step LP: rows, per-step bounds, window accounting.

Semantics: docs/AGREEMENTS.md. Each clause becomes one or more rows of the step LP,
``expr + slack >= lo`` (minimums) or ``expr - slack <= hi`` (caps), over the LP's
columns. A hard row's slack is fixed at 0; a soft row's slack is its shortfall this
step and is served at the clause's priority like a demand's shortage.
`ClauseBook` holds what each window has used so far, sets the rows' bounds before
each step and books what happened after it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from waterdesk.calendar import Steps, Windows, make_windows
from waterdesk.model.basin import Basin
from waterdesk.model.clauses import (
    Clause,
    MaxWithdrawal,
    MinFlow,
    MinVolume,
    Release,
    Share,
    Split,
    Storage,
)
from waterdesk.model.network import KIND_CODE, Network, components

INF = float("inf")
Term = tuple[str, int, float]          # (column family, index, coefficient)


@dataclass(frozen=True)
class ClauseRow:
    """One LP row of a clause."""

    clause: int                 # index into the scenario's clauses
    sense: int                  # +1: expr + slack >= lo;  -1: expr - slack <= hi
    terms: tuple[Term, ...]
    role: str                   # how its bound is set each step (see ClauseBook.bounds)
    party: str = ""             # country of a share row


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


def share_demands(net: Network, clause: Share, country: str) -> list[int]:
    """Demands of `country` that count in a share clause: those on the river system of
    the reference node (a basin may hold several rivers, as Chu and Talas)."""
    node = net.node_ids.index(clause.reference[1])
    system = river_system(net, node)
    return [d for d in range(len(net.dem_ids))
            if net.dem_country[d] == country and int(net.dem_node[d]) in system
            and (clause.demands is None or net.dem_ids[d] in clause.demands)]


def compile_rows(clauses: tuple[Clause, ...], basin: Basin, net: Network) -> list[ClauseRow]:
    """The LP rows of every clause, in clause order."""
    node = {nid: i for i, nid in enumerate(net.node_ids)}
    res = {rid: k for k, rid in enumerate(net.res_ids)}
    reach = {rid: r for r, rid in enumerate(net.reach_ids)}
    rows: list[ClauseRow] = []
    for c, clause in enumerate(clauses):
        if isinstance(clause, MinFlow):
            rows.append(ClauseRow(c, +1, tuple(flow_terms(net, node[clause.node])), "min_flow"))
        elif isinstance(clause, MinVolume):
            rows.append(ClauseRow(c, +1, tuple(flow_terms(net, node[clause.node])), "min_volume"))
        elif isinstance(clause, MaxWithdrawal):
            rows.append(ClauseRow(c, -1, tuple(withdrawal_terms(net, clause.country, clause.sector,
                                                                 clause.demands)),
                                  "max_withdrawal"))
        elif isinstance(clause, Share):
            kind, ref = clause.reference
            for country, share in clause.shares.items():
                terms = [("x", d, 1.0) for d in share_demands(net, clause, country)]
                if kind == "flow":
                    terms += [(fam, i, -share * coef) for fam, i, coef in flow_terms(net, node[ref])]
                if clause.mode in ("cap", "exact"):
                    rows.append(ClauseRow(c, -1, tuple(terms), "share_cap", country))
                if clause.mode in ("entitlement", "exact"):
                    rows.append(ClauseRow(c, +1, tuple(terms), "share_floor", country))
        elif isinstance(clause, Split):
            listed = [reach[r] for r in clause.ratios]
            for rid, ratio in clause.ratios.items():
                terms = tuple(("q", r, (1.0 if r == reach[rid] else 0.0) - ratio) for r in listed)
                rows.append(ClauseRow(c, -1, terms, "split", rid))
                rows.append(ClauseRow(c, +1, terms, "split", rid))
        elif isinstance(clause, Release):
            k = res[clause.node]
            terms_r = (("rel", k, 1.0), ("spill", k, 1.0))
            if clause.max_mcm is not None:
                rows.append(ClauseRow(c, -1, terms_r, "release_max"))
            if clause.min_mcm is not None:
                rows.append(ClauseRow(c, +1, terms_r, "release_min"))
        elif isinstance(clause, Storage):
            rows.append(ClauseRow(c, +1, (("v", res[clause.node], 1.0),), "storage"))
    return rows


class ClauseBook:
    """Windows, running totals and results of the clauses of one run.

    Results per clause and window (mcm): `required`, `actual`, `violation` (>= 0).
    """

    def __init__(self, clauses: tuple[Clause, ...], rows: list[ClauseRow], net: Network,
                 steps: Steps, delta: NDArray[np.float64], natural_mcm: NDArray[np.float64],
                 requests: NDArray[np.float64], col_of: dict[str, NDArray[np.int64]],
                 windows: "list[Windows] | None" = None) -> None:
        """`windows`: the clauses' accounting windows on these steps, when already made
        (they depend on the calendar only, so the members of an ensemble share them)."""
        self.clauses = clauses
        self.rows = rows
        self.net = net
        self.steps = steps
        self.days = steps.days
        self.delta = delta
        self.month = steps.month_index
        self.windows: list[Windows] = (windows if windows is not None
                                       else [make_windows(steps, c.period, c.months) for c in clauses])
        n_win = max([len(w) for w in self.windows] + [0])
        shape = (len(clauses), n_win)
        self.required = np.full(shape, np.nan)
        self.shadow_price = np.full(shape, np.nan)
        self.party_required: dict[tuple[int, int, str], float] = {}   # share clauses: what each party is allotted
        self.actual = np.full(shape, np.nan)
        self.violation = np.full(shape, np.nan)
        for c, w in enumerate(self.windows):
            self.required[c, :len(w)] = 0.0
            self.actual[c, :len(w)] = 0.0
            self.violation[c, :len(w)] = 0.0
        # how a window minimum is spread over the steps still to come: in proportion to
        # the natural flow expected at the clause's node (water comes when the river
        # brings it), by days where that flow is nil; weight_left counts this step too
        node_of = {nid: i for i, nid in enumerate(net.node_ids)}
        self.weight = np.tile(self.days, (len(clauses), 1))
        for c, clause in enumerate(clauses):
            at = getattr(clause, "node", None)
            if isinstance(clause, Share):
                at = clause.reference[1]
            if at is not None and at in node_of and isinstance(clause, (MinVolume, Release, Share)):
                natural = natural_mcm[:, node_of[at]]
                if natural.sum() > 0:
                    self.weight[c] = natural + 1e-9 * self.days
        self.weight_left = np.zeros((len(clauses), len(steps)))
        for c, w in enumerate(self.windows):
            for t in range(len(steps) - 1, -1, -1):
                if w.index[t] >= 0:
                    same = t + 1 < len(steps) and w.index[t + 1] == w.index[t]
                    self.weight_left[c, t] = self.weight[c, t] + (self.weight_left[c, t + 1] if same else 0.0)
        # expression of each row as (columns, coefficients)
        self.row_cols = [np.array([col_of[f][i] for f, i, _ in row.terms], dtype=np.int64) for row in rows]
        self.row_coef = [np.array([k for _, _, k in row.terms]) for row in rows]
        self.used = np.zeros(len(rows))      # per row: volume counted in the current window
        self.values = np.zeros(len(rows))    # per row: the expression's value this step
        self.rows_of = [[i for i, r in enumerate(rows) if r.clause == c] for c in range(len(clauses))]
        # share rows against flow:<node>: withdrawal and reference flow kept apart
        self.ref_cols: list[NDArray[np.int64] | None] = []
        self.ref_coef: list[NDArray[np.float64]] = []
        self.wd_cols: list[NDArray[np.int64]] = []
        self.wd_coef: list[NDArray[np.float64]] = []
        for i, row in enumerate(rows):
            clause = clauses[row.clause]
            if isinstance(clause, Share) and clause.reference[0] == "flow":
                share = clause.shares[row.party]
                wd = [(f, j, k) for f, j, k in row.terms if f == "x" and k > 0]
                ref = [(f, j, -k / share) for f, j, k in row.terms if (f, j, k) not in wd]
                self.wd_cols.append(np.array([col_of[f][j] for f, j, _ in wd], dtype=np.int64))
                self.wd_coef.append(np.array([k for _, _, k in wd]))
                self.ref_cols.append(np.array([col_of[f][j] for f, j, _ in ref], dtype=np.int64))
                self.ref_coef.append(np.array([k for _, _, k in ref]))
            else:
                self.wd_cols.append(np.zeros(0, dtype=np.int64))
                self.wd_coef.append(np.zeros(0))
                self.ref_cols.append(None)
                self.ref_coef.append(np.zeros(0))
        node = {nid: i for i, nid in enumerate(net.node_ids)}
        # share clauses: reference volume and requests per window
        self.reference: dict[int, NDArray[np.float64]] = {}
        self.country_request: dict[tuple[int, str], NDArray[np.float64]] = {}
        for c, clause in enumerate(clauses):
            if isinstance(clause, Share):
                w = self.windows[c]
                kind, ref = clause.reference
                if kind == "natural_flow":
                    self.reference[c] = np.bincount(w.index[w.index >= 0],
                                                    weights=natural_mcm[w.index >= 0, node[ref]],
                                                    minlength=len(w))
                for country in clause.shares:
                    mine = share_demands(net, clause, country)
                    per_step = requests[:, mine].sum(axis=1) if mine else np.zeros(len(steps))
                    self.country_request[(c, country)] = np.bincount(
                        w.index[w.index >= 0], weights=per_step[w.index >= 0], minlength=len(w))
        self.ref_so_far = np.zeros(len(rows))   # flow-reference shares: reference so far in window
        self.share_rows_demands = [share_demands(net, clauses[r.clause], r.party)  # type: ignore[arg-type]
                                   if isinstance(clauses[r.clause], Share) else [] for r in rows]
        self._window_now = np.full(len(clauses), -1)

    def book_prices(self, t0: int, hz: "object", duals: NDArray[np.float64]) -> None:
        """Shadow prices of the clauses in a horizon window from the pricing LP's duals:
        priority-weighted shortage [mcm at the top priority; a level below counts 1/100]
        added per mcm more that the clause asks (per mcm less that a cap allows). For
        per-step clauses (min_flow, split) the window's requirement is scaled as a whole."""
        sense_of = {}
        for c, win, row in hz.window_rows:  # type: ignore[attr-defined]
            lo = hz.row_lower[row]  # type: ignore[attr-defined]
            sign = 1.0 if np.isfinite(lo) else -1.0
            self.shadow_price[c, win] = np.nan_to_num(self.shadow_price[c, win]) + sign * duals[row]
            sense_of[(c, win)] = sign
        weighted: dict[tuple[int, int], list[float]] = {}
        for c, s, row in hz.step_rows:  # type: ignore[attr-defined]
            win = int(self.windows[c].index[t0 + s])
            need = hz.row_lower[row]  # type: ignore[attr-defined]
            need = need if np.isfinite(need) else 0.0
            pair = weighted.setdefault((c, win), [0.0, 0.0])
            pair[0] += duals[row] * need
            pair[1] += need
        for (c, win), (num, den) in weighted.items():
            previous = np.nan_to_num(self.shadow_price[c, win])
            self.shadow_price[c, win] = previous + (num / den if den > 0 else 0.0)

    def claim_scale(self, i: int) -> float:
        """A generous estimate of soft row i's largest per-step claim [mcm], to weight M."""
        row = self.rows[i]
        clause = self.clauses[row.clause]
        if isinstance(clause, MinFlow):
            return max(clause.min_m3s) * float(self.delta.max(initial=0.0))
        if isinstance(clause, (MinVolume, Storage, MaxWithdrawal)):
            return float(getattr(clause, "min_mcm", 0.0) or getattr(clause, "max_mcm", 0.0))
        if isinstance(clause, Release):
            return float(max(clause.min_mcm or 0.0, clause.max_mcm or 0.0))
        if isinstance(clause, Share) and row.clause in self.reference:
            return clause.shares[row.party] * float(self.reference[row.clause].max(initial=0.0))
        return 1.0

    # ------------------------------------------------------------------ per step
    def bounds(self, t: int, request: NDArray[np.float64]) -> tuple[
            NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(lo, hi, slack_upper, claim) of every row at step t; claim is the soft row's
        "request" for equal-fraction sharing (0 when the row does not bind)."""
        n = len(self.rows)
        lo = np.full(n, -INF)
        hi = np.full(n, INF)
        slack_hi = np.zeros(n)
        claim = np.zeros(n)
        for i, row in enumerate(self.rows):
            c = row.clause
            clause = self.clauses[c]
            w = self.windows[c]
            win = int(w.index[t])
            if win < 0:
                continue
            if win != self._window_now[c]:
                self._start_window(c, win)
            spread = self.weight[c, t] / self.weight_left[c, t]
            limit, need = self._row_target(i, row, clause, win, t, request)
            if row.sense < 0:
                hi[i] = limit
                claim[i] = max(self._per_step_limit(c, win, t), 1e-3)
            elif need is not None:
                value = need if row.role in ("min_flow", "storage", "split") else max(0.0, need) * spread
                if row.role == "share_floor" and self.clauses[c].reference[0] == "natural_flow":
                    mine = self.share_rows_demands[i]
                    value = min(value, float(request[mine].sum()) if mine else 0.0)
                if row.role == "storage" and t != w.last_step[win]:
                    continue
                lo[i] = value
                claim[i] = max(value, 0.0)
            if not clause.hard:
                slack_hi[i] = INF
        return lo, hi, slack_hi, claim

    def _start_window(self, c: int, win: int) -> None:
        self._window_now[c] = win
        for i, row in enumerate(self.rows):
            if row.clause == c:
                self.used[i] = 0.0
                self.ref_so_far[i] = 0.0
        clause = self.clauses[c]
        w = self.windows[c]
        cover = w.covered[win]
        if isinstance(clause, (MinVolume,)):
            self.required[c, win] = clause.min_mcm * cover
        elif isinstance(clause, MaxWithdrawal):
            self.required[c, win] = clause.max_mcm * cover
        elif isinstance(clause, Release):
            self.required[c, win] = (clause.min_mcm if clause.min_mcm is not None else clause.max_mcm or 0.0) * cover
        elif isinstance(clause, Storage):
            self.required[c, win] = clause.min_mcm
        elif isinstance(clause, Share) and c in self.reference:
            self.required[c, win] = sum(self._share_target(c, country, win) for country in clause.shares)

    def _share_target(self, c: int, country: str, win: int) -> float:
        clause = self.clauses[c]
        assert isinstance(clause, Share)
        target = clause.shares[country] * float(self.reference[c][win])
        if clause.mode == "entitlement":
            target = min(target, float(self.country_request[(c, country)][win]))
        return target

    def _row_target(self, i: int, row: ClauseRow, clause: Clause, win: int, t: int,
                    request: NDArray[np.float64]) -> tuple[float, float | None]:
        """(cap for <= rows, remaining need for >= rows) at step t."""
        used = self.used[i]
        cover = self.windows[row.clause].covered[win]
        if isinstance(clause, MinFlow):
            return INF, clause.min_m3s[int(self.month[t])] * self.delta[t]
        if isinstance(clause, MinVolume):
            return INF, clause.min_mcm * cover - used
        if isinstance(clause, MaxWithdrawal):
            return clause.max_mcm * cover - used, None
        if isinstance(clause, Release):
            if row.role == "release_max":
                return (clause.max_mcm or 0.0) * cover - used, None
            return INF, (clause.min_mcm or 0.0) * cover - used
        if isinstance(clause, Storage):
            return INF, clause.min_mcm
        if isinstance(clause, Split):
            return 0.0, 0.0
        if isinstance(clause, Share):
            share = clause.shares[row.party]
            if clause.reference[0] == "flow":
                # the row holds withdrawal - share*flow: against what passed so far
                base = share * self.ref_so_far[i] - used
                if row.role == "share_cap":
                    return base + clause.tolerance * share * self.ref_so_far[i], None
                return INF, base - clause.tolerance * share * self.ref_so_far[i]
            target = clause.shares[row.party] * float(self.reference[row.clause][win])
            if row.role == "share_cap":
                return target * (1.0 + clause.tolerance) - used, None
            if clause.mode == "entitlement":
                target = min(target, float(self.country_request[(row.clause, row.party)][win]))
            return INF, target * (1.0 - clause.tolerance) - used
        raise TypeError(f"unknown clause kind {clause.kind}")

    def _per_step_limit(self, c: int, win: int, t: int) -> float:
        """The share of a cap's window limit that falls on step t (a soft cap's 'request')."""
        clause = self.clauses[c]
        w = self.windows[c]
        window_days = float((w.end[win] - w.start[win]).astype(int))
        if isinstance(clause, MaxWithdrawal):
            return clause.max_mcm * self.days[t] / window_days
        if isinstance(clause, Release) and clause.max_mcm is not None:
            return clause.max_mcm * self.days[t] / window_days
        return 1.0

    def used_before(self, c: int, win: int) -> dict[str, float]:
        """What earlier steps of window `win` of clause c used, per party ("" if none)."""
        if self._window_now[c] != win:
            return {}
        return {self.rows[i].party: float(self.used[i]) for i in self.rows_of[c]}

    def record(self, t: int, x: NDArray[np.float64]) -> None:
        """Book step t: running totals and the windows' required / actual / violation.
        Values are final once a window's last step is booked."""
        for c in range(len(self.clauses)):
            win = int(self.windows[c].index[t])
            if win >= 0 and win != self._window_now[c]:
                self._start_window(c, win)
        for i, row in enumerate(self.rows):
            c = row.clause
            if self.windows[c].index[t] < 0:
                continue
            if self.ref_cols[i] is not None:
                flow = float(np.dot(self.ref_coef[i], x[self.ref_cols[i]]))
                self.ref_so_far[i] += flow
                self.used[i] += float(np.dot(self.wd_coef[i], x[self.wd_cols[i]]))
            else:
                self.values[i] = float(np.dot(self.row_coef[i], x[self.row_cols[i]]))
                if row.role != "split":
                    self.used[i] += self.values[i]
        for c, clause in enumerate(self.clauses):
            win = int(self.windows[c].index[t])
            if win >= 0:
                self._book(c, clause, win, t, x)

    def _book(self, c: int, clause: Clause, win: int, t: int, x: NDArray[np.float64]) -> None:
        rows = self.rows_of[c]
        first = rows[0]
        cover = self.windows[c].covered[win]
        if isinstance(clause, MinFlow):
            need = clause.min_m3s[int(self.month[t])] * self.delta[t]
            self.required[c, win] += need
            self.actual[c, win] += self.values[first]
            self.violation[c, win] += max(0.0, need - self.values[first])
        elif isinstance(clause, MinVolume):
            self.actual[c, win] = self.used[first]
            self.violation[c, win] = max(0.0, self.required[c, win] - self.used[first])
        elif isinstance(clause, MaxWithdrawal):
            self.actual[c, win] = self.used[first]
            self.violation[c, win] = max(0.0, self.used[first] - self.required[c, win])
        elif isinstance(clause, Release):
            self.actual[c, win] = self.used[first]
            low = (clause.min_mcm or 0.0) * cover
            high = clause.max_mcm * cover if clause.max_mcm is not None else INF
            self.violation[c, win] = max(0.0, low - self.used[first]) + max(0.0, self.used[first] - high)
        elif isinstance(clause, Storage):
            if t == self.windows[c].last_step[win]:
                self.actual[c, win] = self.values[first]
                self.violation[c, win] = max(0.0, clause.min_mcm - self.values[first])
        elif isinstance(clause, Split):
            # each reach's deviation from its ratio, counted once: half the sum of |deviation|
            total = float(x[self.row_cols[first]].sum())
            misplaced = 0.5 * sum(abs(self.values[i]) for i in rows if self.rows[i].sense < 0)
            self.required[c, win] += total
            self.violation[c, win] += misplaced
            self.actual[c, win] = self.required[c, win] - self.violation[c, win]
        elif isinstance(clause, Share):
            required = actual = violation = 0.0
            for country, share in clause.shares.items():
                mine = [i for i in rows if self.rows[i].party == country]
                used = self.used[mine[0]]
                if clause.reference[0] == "natural_flow":
                    full = share * float(self.reference[c][win])
                    target = self._share_target(c, country, win)
                else:
                    full = target = share * self.ref_so_far[mine[0]]
                tolerance = clause.tolerance * full
                self.party_required[(c, win, country)] = target
                required += target
                actual += used
                if clause.mode in ("cap", "exact"):
                    violation += max(0.0, used - full - tolerance)
                if clause.mode in ("entitlement", "exact"):
                    violation += max(0.0, target - tolerance - used)
            self.required[c, win] = required
            self.actual[c, win] = actual
            self.violation[c, win] = violation
