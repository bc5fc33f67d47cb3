"""Tables for a reader (issue 15): translated headers and notes, numbers by the
language's convention, results named A, B, C, the ledger as country x year, and text
that wraps into blocks to fit a width (132 columns). The `Table` values themselves
(waterdesk.analysis.accounts) keep their machine keys for CSV and JSON.
"""
from __future__ import annotations

import math
import re
import string
import textwrap
from dataclasses import dataclass, field
from typing import Any

from waterdesk.analysis.accounts import TOL_MCM, Column, Table
from waterdesk.i18n import Catalogue

__all__ = ["WIDTH", "Group", "letters", "header", "cell", "blocks", "table_text", "ledger_pivot",
           "compare_groups", "entitlement_note", "title", "notes", "year_notes"]

#: the widest a text table may be (a wide terminal, or a landscape A4 page in a fixed font)
WIDTH = 132


def letters(n: int) -> list[str]:
    """A, B, C, ... for the results of a comparison."""
    return list(string.ascii_uppercase[:n])


def header(col: Column, cat: Catalogue, with_unit: bool = True) -> str:
    """A column's header in the catalogue's language, with its unit: ``requested (mcm)``."""
    if col.name.startswith("water_gained_"):
        name = cat("col.water_gained", country=col.name.removeprefix("water_gained_"))
    else:
        name = cat(f"col.{col.name}")
    return f"{name} ({cat.unit(col.unit)})" if with_unit and col.unit else name


def cell(v: Any, col: Column, cat: Catalogue) -> str:
    """A value as the reader sees it: numbers by the language's convention, no "-0"."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if col.kind == "str":
        word = str(v)
        if col.name == "type":
            return cat("word.hard") if word == "hard" else cat("word.soft_p", p=word.rsplit("p", 1)[-1])
        if col.name == "status":              # "met 30/30" in a comparison, "ok" in a batch
            first, _, rest = word.partition(" ")
            return " ".join([cat.term("status", first)] + ([rest] if rest else []))
        return cat.term("kind", word) if col.name == "kind" else cat.term("word", word)
    if col.kind == "int":
        return str(int(v))
    if col.kind == "pct":
        return cat.num(float(v), 1)
    if col.kind == "index":
        return cat.num(float(v), 3)
    if col.kind == "price":
        return cat.num(float(v), 3)
    decimals = 3 if col.unit == "km3" else 1
    return cat.num(float(v), decimals, sign=col.difference)


@dataclass
class Group:
    """Columns under one group heading (a metric, a country); `left`: left-aligned."""

    head: str
    subheads: list[str]
    cells: list[list[str]]                 # per subcolumn, the cells of every row
    left: list[bool] = field(default_factory=list)


def blocks(keys: Group, groups: list[Group], width: int = WIDTH, gap: int = 2) -> list[str]:
    """Text lines of a table whose key columns repeat in every block and whose groups are
    packed into blocks no wider than `width` (a group never splits; blocks are separated
    by a blank line). Groups are set apart by a double gap, their heading over them."""
    def widths(g: Group) -> list[int]:
        ws = [max([len(s)] + [len(c) for c in cells]) for s, cells in zip(g.subheads, g.cells)]
        total = sum(ws) + gap * (len(ws) - 1)
        if len(g.head) > total:             # the group heading is wider: widen the last column
            ws[-1] += len(g.head) - total
        return ws

    def span(g: Group) -> int:
        ws = widths(g)
        return sum(ws) + gap * (len(ws) - 1)

    packed: list[list[Group]] = [[]]
    used = span(keys)
    for g in groups:
        w = 2 * gap + span(g)
        if packed[-1] and used + w > width:
            packed.append([])
            used = span(keys)
        packed[-1].append(g)
        used += w
    n_rows = len(keys.cells[0]) if keys.cells else 0
    out: list[str] = []
    for b, chunk in enumerate(packed):
        cols: list[tuple[int, int, str, list[str], bool]] = []    # (offset, width, subhead, cells, left)
        heads: list[tuple[int, str]] = []
        pos = 0
        for gi, g in enumerate([keys] + chunk):
            if gi:
                pos += gap
                heads.append((pos, g.head))
            for k, (w, s, c) in enumerate(zip(widths(g), g.subheads, g.cells)):
                left = g.left[k] if g.left else gi == 0
                cols.append((pos, w, s, c, left))
                pos += w + gap

        def place(values: list[str]) -> str:
            line = ""
            for (off, w, _, _, left), v in zip(cols, values):
                line = line.ljust(off) + (v.ljust(w) if left else v.rjust(w))
            return line.rstrip()

        if b:
            out.append("")
        if any(h for _, h in heads):
            line = ""
            for off, h in heads:
                line = line.ljust(off) + h
            out.append(line.rstrip())
        out.append(place([c[2] for c in cols]))
        for r in range(n_rows):
            out.append(place([c[3][r] for c in cols]))
    return out


def title(table: Table, cat: Catalogue, units: str) -> str:
    key = f"table.{table.name.split('_')[0] if table.name.startswith('compare_') else table.name}"
    if table.name == "exchange":       # "... account of LABEL (what the account is)": keep the label
        return cat("table.exchange_of", label=table.title.split(" account of ", 1)[-1])
    if cat.has(key):
        return cat(key, units=cat.unit(units), by=cat(f"col.{table.columns[0].name}"))
    return table.title


def entitlement_note(cat: Catalogue) -> str:
    """The entitlement rule, one sentence, the same in the ledger and the report."""
    return cat("note.entitlement")


#: the accounting-year note of waterdesk.analysis.accounts.year_note, read back to be translated
_YEARS = re.compile(r"^years: accounting years ([A-Z][a-z]{2})-([A-Z][a-z]{2}), named by the calendar year they "
                    r"end in(?:; partial \(the run does not fill them\): (.*))?$")


def year_notes(table: Table, cat: Catalogue) -> list[str]:
    """The table's accounting-year notes (months, partial years) in the catalogue's language."""
    out = []
    for note in table.notes:
        m = _YEARS.match(note)
        if m:
            text = cat("note.years", months="-".join(cat(f"month.{x.lower()}") for x in m.group(1, 2)))
            if m.group(3):
                text += "; " + cat("note.partial_years", years=m.group(3))
            out.append(text)
    return out


#: the notes of waterdesk.analysis.salinity.salinity_table, read back to be translated
_SALT_CLAUSE = re.compile(r"^clause (.+) \((hard|soft p(\d+)), (.+) <= (\S+) mg/L\): (\d+)/(\d+) windows met, "
                          r"worst excess (\S+) mg/L$")
_SALT_NOTE = re.compile(r"^mean: salt / water passing over the water year; limit: .*; above: by more than (\S+) mg/L$")


def _salinity_note(note: str, cat: Catalogue) -> str:
    """One note of the salinity table in the catalogue's language."""
    mg = cat.unit("mg/L")
    m = _SALT_CLAUSE.match(note)
    if m:
        typ = cat("word.hard") if m.group(2) == "hard" else cat("word.soft_p", p=m.group(3))
        return cat("sal.clause_note", clause=m.group(1), type=typ, node=m.group(4),
                   limit=cat.num(float(m.group(5)), 0), met=m.group(6), windows=m.group(7),
                   worst=cat.num(float(m.group(8)), 3), unit=mg)
    m = _SALT_NOTE.match(note)
    if m:
        return cat("sal.table_note", tol=cat.num(float(m.group(1)), 3), standard=cat.num(1000.0, 0), unit=mg)
    if note == "this result has no salinity":
        return cat("sal.none")
    return note


def notes(table: Table, cat: Catalogue) -> list[str]:
    """The table's notes in the catalogue's language (self-contained sentences), with its
    accounting-year note."""
    key = f"note.{table.name}"
    if table.name == "salinity":
        return [_salinity_note(n, cat) for n in table.notes if not _YEARS.match(n)] + year_notes(table, cat)
    if table.name == "parties":
        return [entitlement_note(cat), cat("note.parties")] + year_notes(table, cat)
    if cat.has(key):
        extra = [cat("note.target_deviation")] if any(c.name == "target_deviation" for c in table.columns) else []
        return [cat(key, tol=cat.num(TOL_MCM, 6))] + extra + year_notes(table, cat)
    return list(table.notes)


def wrapped(lines: list[str], width: int = WIDTH) -> list[str]:
    """Notes and titles broken into lines of at most `width` characters."""
    return [part for line in lines for part in (textwrap.wrap(line, width) or [""])]


def table_text(table: Table, cat: Catalogue, units: str, width: int = WIDTH) -> str:
    """A table as text: the ledger's parties as country x year, others with one column per
    field; leading text and year columns repeat in each block when it is wider than `width`."""
    if table.name == "parties":
        return "\n".join(wrapped([title(table, cat, units)], width) + ledger_text(table, cat, width)
                         + wrapped(notes(table, cat), width))
    if table.name.startswith("compare_"):
        return compare_text(table, cat, units, width)
    lead = 0
    while lead < len(table.columns) - 1 and table.columns[lead].kind in ("str", "int") and \
            table.columns[lead].name in ("country", "water_year", "group", "item", "reservoir", "clause",
                                         "combination", "run", "window", "member"):
        lead += 1
    lead = max(lead, 1)
    cells = [[cell(row[i], c, cat) for row in table.rows] for i, c in enumerate(table.columns)]
    keys = Group("", [header(c, cat) for c in table.columns[:lead]], cells[:lead],
                 [c.kind == "str" for c in table.columns[:lead]])
    groups = [Group("", [header(c, cat)], [cells[lead + i]], [c.kind == "str"])
              for i, c in enumerate(table.columns[lead:])]
    lines = wrapped([title(table, cat, units)], width) + blocks(keys, groups, width)
    if not table.rows:
        lines.append(cat("text.none"))
    return "\n".join(lines + wrapped(notes(table, cat), width))


# ------------------------------------------------------------------------------ ledger

def ledger_pivot(table: Table) -> tuple[list[int], list[str], list[str], dict[tuple[str, int], list[Any]]]:
    """The parties table as (years, countries, fields, {(country, year): values})."""
    names = [c.name for c in table.columns]
    fields = names[2:]
    years = sorted({int(r[1]) for r in table.rows})
    countries = list(dict.fromkeys(str(r[0]) for r in table.rows))
    values = {(str(r[0]), int(r[1])): list(r[2:]) for r in table.rows}
    return years, countries, fields, values


def ledger_text(table: Table, cat: Catalogue, width: int = WIDTH) -> list[str]:
    """Country x year: one row per water year, per country its entitlement, delivered,
    deviation and balance; countries wrap into blocks."""
    years, countries, fields, values = ledger_pivot(table)
    cols = table.columns[2:]
    keys = Group("", [cat("col.water_year")], [[str(y) for y in years]], [True])
    groups = []
    for country in countries:
        cells = [[cell(values.get((country, y), [math.nan] * len(fields))[f], c, cat) for y in years]
                 for f, c in enumerate(cols)]
        unit = cat.unit(cols[0].unit)
        groups.append(Group(f"{country} ({unit})", [cat(f"col.{c.name}") for c in cols], cells))
    return blocks(keys, groups, width)


# ------------------------------------------------------------------------------ compare

def compare_groups(table: Table, cat: Catalogue) -> tuple[list[str], Group, list[Group]]:
    """Result names, the key columns and one group per metric: A, B, C and B−A, C−A."""
    names = list(dict.fromkeys(c.result for c in table.columns[2:] if c.result and not c.difference))
    tag = dict(zip(names, letters(len(names))))
    first = names[0] if names else ""
    key_cols = table.columns[:2]
    keys = Group("", [header(c, cat) for c in key_cols],
                 [[cell(r[i], c, cat) for r in table.rows] for i, c in enumerate(key_cols)],
                 [c.kind == "str" for c in key_cols])
    groups: dict[str, Group] = {}
    for i, col in enumerate(table.columns[2:], start=2):
        g = groups.setdefault(col.name, Group(header(col, cat), [], [], []))
        if col.difference:
            result = str(col.result)
            later = result[: -len(first) - 1] if result.endswith(f"-{first}") else result
            g.subheads.append(f"{tag.get(later, later)}\u2212{tag[first]}")
        else:
            g.subheads.append(tag[str(col.result)])
        g.cells.append([cell(r[i], col, cat) for r in table.rows])
        g.left.append(col.kind == "str")
    return names, keys, list(groups.values())


def compare_text(table: Table, cat: Catalogue, units: str, width: int = WIDTH,
                 sources: dict[str, str] | None = None) -> str:
    names, keys, groups = compare_groups(table, cat)
    tags = letters(len(names))
    legend = [cat("compare.legend", letter=t, name=n) + (f" ({sources[n]})" if sources and sources.get(n, n) != n else "")
              for t, n in zip(tags, names)]
    lines = [cat("table.compare", by=cat(f"col.{table.columns[0].name}"), units=cat.unit(units))] + legend
    lines += [cat("compare.differences", first=tags[0])]
    lines = wrapped(lines, width) + [""] + blocks(keys, groups, width)
    if table.name == "compare_clause":
        lines += wrapped([cat("note.compare_clause", tol=cat.num(TOL_MCM, 6))], width)
    lines += wrapped(list(dict.fromkeys(year_notes(table, cat))), width)
    return "\n".join(lines)
