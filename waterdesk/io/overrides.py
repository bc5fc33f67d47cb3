"""Dotted-key overrides applied to a parsed scenario document before its schema check.

A key addresses a scenario file as written: ``inflows.scale``, ``demands.scale.UZ``,
``scenario.end``, ``clause.<clause id>.<field>``. Values are set in a copy of the
parsed TOML, so a bad value is reported by the usual checks, at the usual location,
with the override named in the message.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from waterdesk.errors import Problem
from waterdesk.io.toml import TomlDocument

__all__ = ["apply_overrides", "override_where", "annotate", "overrides_digest"]


def _top_level() -> list[str]:
    from waterdesk.io.schema import ScenarioFile

    return sorted(ScenarioFile.model_fields)


def override_where(key: str) -> str:
    """The location text a problem at `key` carries ('clause "cap".max_mcm')."""
    parts = key.split(".")
    if len(parts) >= 2 and parts[0] == "clause":
        rest = ".".join(parts[2:])
        return f'clause "{parts[1]}"' + (f".{rest}" if rest else "")
    return key


def apply_overrides(doc: TomlDocument, overrides: Mapping[str, Any] | None
                    ) -> tuple[TomlDocument, list[Problem]]:
    """A copy of `doc` with each dotted key set to its value, and the problems of keys
    that address nothing (an unknown top-level table, a clause id not in the file)."""
    if not overrides:
        return doc, []
    data: dict[str, Any] = copy.deepcopy(doc.data)
    problems: list[Problem] = []
    known = _top_level()
    for key, value in overrides.items():
        parts = key.split(".")
        where = f"override {key}"
        if not key or any(not p for p in parts):
            problems.append(Problem(doc.path, None, where, "empty part in a dotted key"))
            continue
        if parts[0] not in known:
            problems.append(Problem(doc.path, None, where,
                                    f"unknown table {parts[0]!r}; known: {', '.join(known)}"))
            continue
        if len(parts) == 1:
            problems.append(Problem(doc.path, None, where, "name a key inside the table, e.g. inflows.scale"))
            continue
        if parts[0] == "clause":
            clauses = data.get("clause")
            ids = [c.get("id") for c in clauses if isinstance(c, dict)] if isinstance(clauses, list) else []
            if parts[1] not in ids or len(parts) < 3:
                problems.append(Problem(doc.path, None, where,
                                        f"no clause {parts[1]!r} in the scenario (clauses: {', '.join(map(str, ids)) or 'none'})"
                                        if parts[1] not in ids else "name a field: clause.<id>.<field>"))
                continue
            table: Any = clauses[ids.index(parts[1])]  # type: ignore[index]
            path = parts[2:]
        else:
            table = data
            path = parts
        for i, part in enumerate(path[:-1]):
            inner = table.get(part)
            if inner is None:
                inner = table[part] = {}
            elif not isinstance(inner, dict):
                # e.g. demands.scale = 1.0 overridden per country: a uniform 1 becomes a table
                if part == "scale" and inner == 1.0:
                    inner = table[part] = {}
                else:
                    problems.append(Problem(doc.path, doc.line(*parts[:len(parts) - len(path) + i + 1]), where,
                                            f"{'.'.join(parts[:len(parts) - len(path) + i + 1])} is "
                                            f"{inner!r}, not a table"))
                    break
            table = inner
        else:
            table[path[-1]] = copy.deepcopy(value)
    return TomlDocument(path=doc.path, data=data, lines=doc.lines, text=doc.text), problems


def annotate(problems: list[Problem], overrides: Mapping[str, Any] | None) -> list[Problem]:
    """Name the override in the message of each problem found at an overridden key."""
    if not overrides:
        return problems
    wheres = {override_where(k): (k, v) for k, v in overrides.items()}
    out = []
    for p in problems:
        hit = next(((k, v) for w, (k, v) in wheres.items()
                    if p.where == w or p.where.startswith(w + ".") or p.where.startswith(w + "[")), None)
        if hit is not None:
            p = Problem(p.path, p.line, p.where, f"{p.message} (override {hit[0]} = {json.dumps(hit[1])})")
        out.append(p)
    return out


def overrides_digest(overrides: Mapping[str, Any] | None) -> bytes:
    """Bytes that identify the overrides, for the inputs' checksum."""
    return json.dumps(dict(overrides or {}), sort_keys=True, default=str).encode()
