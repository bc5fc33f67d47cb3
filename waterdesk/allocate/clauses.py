"""Agreement clauses in the step LP: rows, per-step bounds, window accounting.

Semantics: docs/AGREEMENTS.md. Each clause becomes one or more rows of the step LP,
``expr + slack >= lo`` (minimums) or ``expr - slack <= hi`` (caps), over the LP's
columns. A hard row's slack is fixed at 0; a soft row's slack is its shortfall this
step and is served at the clause's priority like a demand's shortage.
`ClauseBook` holds what each window has used so far, sets the rows' bounds before
each step and books what happened after it. What a row means is its kind's: the book
asks the clause's class (waterdesk/model/clauses.py) and never which kind it is.
"""
from __future__ import annotations


import numpy as np
from numpy.typing import NDArray

from waterdesk.calendar import Steps, Windows, make_windows
from waterdesk.model.basin import Basin
from waterdesk.model.clauses import (
    INF,
    Clause,
    ClauseRow,
    Term,
    flow_terms,
    river_system,
    withdrawal_terms,
)
from waterdesk.model.network import Network

__all__ = ["INF", "ClauseBook", "ClauseRow", "Term", "compile_rows", "flow_terms", "river_system",
           "withdrawal_terms"]


RESERVE = "reserve"    # role of a cap's reservation row (docs/AGREEMENTS.md)


def compile_rows(clauses: tuple[Clause, ...], basin: Basin, net: Network) -> list[ClauseRow]:
    """The LP rows of every clause, in clause order (each kind's `rows`), each cap on
    withdrawals followed by its reservation rows (`reservation_rows`)."""
    out: list[ClauseRow] = []
    for c, clause in enumerate(clauses):
        own = clause.rows(c, net)
        out += own
        if clause.counts_withdrawals:
            out += [r for row in own for r in reservation_rows(row, net)]
    return out


def reservation_rows(row: ClauseRow, net: Network) -> list[ClauseRow]:
    """Rows that keep a window cap on withdrawals for its higher priorities in step mode:
    for each priority p of the row's demands but the highest, the deliveries to demands of
    priority p or lower stay within what the cap leaves once the later requests of the
    higher priorities are reserved (bounds set by `ClauseBook.bounds`). Only caps whose
    expression is deliveries alone (a `flow:` reference has none)."""
    if row.sense >= 0 or any(fam != "x" or coef <= 0 for fam, _, coef in row.terms):
        return []
    levels = sorted({int(net.dem_priority[d]) for _, d, _ in row.terms})
    return [ClauseRow(row.clause, -1, tuple(t for t in row.terms if net.dem_priority[t[1]] >= p),
                      f"{RESERVE}:{p}", row.party) for p in levels[1:]]


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
            at = clause.weight_node()
            if at is not None and at in node_of:
                natural = natural_mcm[:, node_of[at]]
                if natural.sum() > 0:
                    self.weight[c] = natural + 1e-9 * self.days
        # each step's window per clause (C, T), and each window's length in days
        self.window_at = (np.stack([w.index for w in self.windows]) if self.windows
                          else np.zeros((0, len(steps)), dtype=np.int64))
        self.window_days = [(w.end - w.start).astype(np.float64) for w in self.windows]
        self.weight_left = np.zeros((len(clauses), len(steps)))
        for c, w in enumerate(self.windows):
            index, weight = w.index.tolist(), self.weight[c].tolist()   # Python floats: same sums
            left = [0.0] * len(index)
            for t in range(len(index) - 1, -1, -1):
                if index[t] >= 0:
                    same = t + 1 < len(index) and index[t + 1] == index[t]
                    left[t] = weight[t] + (left[t + 1] if same else 0.0)
            self.weight_left[c] = left
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
            split = clauses[row.clause].split_reference(row)
            wd, ref = split if split is not None else ([], [])
            self.wd_cols.append(np.array([col_of[f][j] for f, j, _ in wd], dtype=np.int64))
            self.wd_coef.append(np.array([k for _, _, k in wd], dtype=np.float64))
            self.ref_cols.append(np.array([col_of[f][j] for f, j, _ in ref], dtype=np.int64)
                                 if split is not None else None)
            self.ref_coef.append(np.array([k for _, _, k in ref], dtype=np.float64))
        # per-window quantities a kind needs (share clauses: reference volume and requests)
        self.reference: dict[int, NDArray[np.float64]] = {}
        self.country_request: dict[tuple[int, str], NDArray[np.float64]] = {}
        for c, clause in enumerate(clauses):
            clause.prepare(self, c, net, natural_mcm, requests)
        self.ref_so_far = np.zeros(len(rows))   # flow-reference shares: reference so far in window
        self._init_reservations(requests, col_of)
        self.share_rows_demands = [clauses[r.clause].row_demands(net, r) for r in rows]
        self._window_now = np.full(len(clauses), -1)

    def _init_reservations(self, requests: NDArray[np.float64], col_of: dict[str, NDArray[np.int64]]) -> None:
        """Reservation rows: their cap row, the higher-priority demands they reserve for, and
        those demands' requests over the rest of each window (after each step)."""
        rows, net = self.rows, self.net
        self.requests = requests
        self.col_x = col_of["x"]
        self.reserve_of: dict[int, tuple[int, NDArray[np.int64]]] = {}
        main: dict[tuple[int, str], int] = {}
        for i, row in enumerate(rows):
            if not row.role.startswith(RESERVE):
                if row.sense < 0:
                    main.setdefault((row.clause, row.party), i)
                continue
            level = int(row.role.split(":")[1])
            cap = main[(row.clause, row.party)]
            higher = np.array([d for _, d, _ in rows[cap].terms if net.dem_priority[d] < level], dtype=np.int64)
            self.reserve_of[i] = (cap, higher)
        self.later_request: dict[int, NDArray[np.float64]] = {}     # clause -> (T, D)
        self.window_requested: dict[int, NDArray[np.float64]] = {}   # clause -> (D,) in the window so far
        self.window_supplied: dict[int, NDArray[np.float64]] = {}
        for c in {self.rows[i].clause for i in self.reserve_of}:
            self.window_requested[c] = np.zeros(requests.shape[1])
            self.window_supplied[c] = np.zeros(requests.shape[1])
            index = self.windows[c].index
            later = np.zeros_like(requests)
            for t in range(len(index) - 2, -1, -1):
                if index[t] >= 0 and index[t + 1] == index[t]:
                    later[t] = later[t + 1] + requests[t + 1]
            self.later_request[c] = later

    def _reserved(self, i: int, t: int) -> float:
        """What reservation row i holds back at step t [mcm]: the higher priorities' requests
        over the rest of the window, each scaled by the share of its requests delivered so far
        in the window (1 before it asked anything)."""
        cap, higher = self.reserve_of[i]
        c = self.rows[i].clause
        asked = self.window_requested[c][higher]
        got = self.window_supplied[c][higher]
        fraction = np.where(asked > 1e-9, np.minimum(got / np.maximum(asked, 1e-12), 1.0), 1.0)
        return float((self.later_request[c][t, higher] * fraction).sum())

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
        return self.clauses[row.clause].claim_scale(self, row)

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
        window_now = self.window_at[:, t].tolist()
        for i, row in enumerate(self.rows):
            c = row.clause
            clause = self.clauses[c]
            win = window_now[c]
            if win < 0:
                continue
            if win != self._window_now[c]:
                self._start_window(c, win)
            if i in self.reserve_of:
                cap = self.reserve_of[i][0]
                hi[i] = max(0.0, hi[cap] - self._reserved(i, t))
                claim[i] = max(clause.per_step_limit(self, c, win, t), 1e-3)
                slack_hi[i] = 0.0 if clause.hard else INF
                continue
            spread = self.weight[c, t] / self.weight_left[c, t]
            limit, need = clause.row_target(self, i, row, win, t, request)
            if row.sense < 0:
                hi[i] = limit
                claim[i] = max(clause.per_step_limit(self, c, win, t), 1e-3)
            elif need is not None:
                if not clause.active_at(self, c, win, t):
                    continue
                value = clause.step_value(self, i, row, need, spread, request)
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
        if c in self.window_requested:
            self.window_requested[c][:] = 0.0
            self.window_supplied[c][:] = 0.0
        required = self.clauses[c].window_required(self, c, win)
        if required is not None:
            self.required[c, win] = required

    def used_before(self, c: int, win: int) -> dict[str, float]:
        """What earlier steps of window `win` of clause c used, per party ("" if none)."""
        if self._window_now[c] != win:
            return {}
        return {self.rows[i].party: float(self.used[i]) for i in self.rows_of[c] if i not in self.reserve_of}

    def record(self, t: int, x: NDArray[np.float64]) -> None:
        """Book step t: running totals and the windows' required / actual / violation.
        Values are final once a window's last step is booked."""
        window_now = self.window_at[:, t].tolist()
        for c in range(len(self.clauses)):
            win = window_now[c]
            if win >= 0 and win != self._window_now[c]:
                self._start_window(c, win)
        for i, row in enumerate(self.rows):
            c = row.clause
            if window_now[c] < 0:
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
            win = window_now[c]
            if win >= 0:
                clause.book(self, c, win, t, x)
        for c, asked in self.window_requested.items():
            if window_now[c] >= 0:
                asked += self.requests[t]
                self.window_supplied[c] += x[self.col_x]
