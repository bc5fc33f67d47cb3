"""Load basin and scenario files into domain objects, checking everything first.

All problems of all files are collected and raised once as an `InputError`.
"""
from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from waterdesk.errors import InfeasibleError, InputError, Problem
from waterdesk.io.inflows import read_inflow_members, read_inflows
from waterdesk.io.overrides import annotate, apply_overrides, overrides_digest
from waterdesk.io.schema import MAX_ERRORS, BasinFile, BasinInfo, ScenarioFile, _clean, validation_problems
from waterdesk.io.schema import Node as NodeModel
from waterdesk.io.schema import Reach as ReachModel
from waterdesk.io.toml import TomlDocument, file_problem, read_toml
from waterdesk.model.basin import NODE_CLASSES, Basin, Node, Reach
from waterdesk.model.clauses import from_fields as clause_from_fields
from waterdesk.model.scenario import InflowData, Scenario
from waterdesk.checks import (
    Locator,
    inflow_coverage,
    physical_conflicts,
    validate_basin,
    validate_scenario,
)


def _where(doc: TomlDocument, loc: tuple[Any, ...]) -> str:
    """'node "kirov".capacity_mcm' from ('node', 3, 'capacity_mcm')."""
    parts: list[str] = []
    i = 0
    while i < len(loc):
        part = loc[i]
        if isinstance(part, str) and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            table = doc.data.get(part) if not parts else None
            item = table[loc[i + 1]] if isinstance(table, list) and loc[i + 1] < len(table) else None
            ident = _item_name(part, item)
            parts.append(f'{part} "{ident}"' if ident else f"{part}[{loc[i + 1] + 1}]")
            i += 2
            continue
        parts.append(str(part))
        i += 1
    text = ""
    for p in parts:
        text += (p if not text else ("" if p.startswith("[") else ".") + p)
    return text


def _item_name(table: str, item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("id"), str):
        return str(item["id"])
    if table == "reach" and isinstance(item.get("from"), str) and isinstance(item.get("to"), str):
        return f"{item['from']}->{item['to']}"
    return None


def _schema_problems(doc: TomlDocument, model: type[Any], error: ValidationError) -> list[Problem]:
    try:
        problems = [Problem(doc.path, doc.line(*loc), _where(doc, loc), msg)
                    for loc, msg in validation_problems(model, doc.data, error)]
        if error.error_count() > MAX_ERRORS:
            problems.append(Problem(doc.path, None, "", f"{error.error_count()} problems; the first "
                                    f"{MAX_ERRORS} are listed"))
        return problems
    except Exception:   # a shape the plain-words messages did not foresee: pydantic's own words
        out = []
        for err in error.errors():
            loc = _clean(tuple(err["loc"]))
            out.append(Problem(doc.path, doc.line(*loc), ".".join(map(str, loc)), str(err["msg"])))
        return out


def _locator(doc: TomlDocument) -> Locator:
    def locate(kind: str, ident: str | int, key: str | None) -> tuple[Path | str, int | None]:
        if kind in ("node", "reach", "clause"):
            where: tuple[Any, ...] = (kind, ident) if key is None else (kind, ident, key)
        else:
            where = (kind,) if key is None else (kind, key)
        return doc.path, doc.line(*where)
    return locate


def _build_basin(doc: TomlDocument, parsed: BasinFile) -> Basin:
    return _assemble(doc, parsed.basin, [_to_node(n) for n in parsed.node], parsed.reach)


def _carry_over(default: str | float | None, table: Mapping[str, str | float] | None
                ) -> str | float | dict[str, str | float]:
    """[scenario] carry_over (one value for all reservoirs) and the [carry_over] table
    (per reservoir id) as one setting; "initial" where neither says."""
    base = "initial" if default is None else default
    if not table:
        return base
    return {"*": base, **table}


def _to_node(node: Any) -> Node:
    fields = node.model_dump()
    if node.kind == "reservoir":     # no area curve or no depths: no evaporation (docs/FILES.md)
        fields["area_curve"] = fields.get("area_curve") or ()
        fields["evaporation_mm"] = fields.get("evaporation_mm") or (0.0,) * 12
    for key in ("area_curve", "head_curve", "release_curve"):
        if fields.get(key) is not None:
            fields[key] = tuple(tuple(p) for p in fields[key])
    for key in ("evaporation_mm", "monthly_mcm", "energy_target_gwh", "target_storage_mcm"):
        if fields.get(key) is not None:
            fields[key] = tuple(fields[key])
    if fields.get("buffer_mcm") is not None:
        value = fields["buffer_mcm"]
        fields["buffer_mcm"] = tuple(value) if isinstance(value, list) else (float(value),) * 12
    salt = fields.get("salinity_mg_l")
    if salt is not None:   # one value or 12 monthly -> 12 monthly
        fields["salinity_mg_l"] = tuple(salt) if isinstance(salt, list) else (float(salt),) * 12
    return NODE_CLASSES[node.kind](**fields)


def _assemble(doc: TomlDocument, info: BasinInfo, nodes: list[Node], reach_models: list[Any]) -> Basin:
    reaches = tuple(
        Reach(id=r.id or f"{r.from_}->{r.to}", from_node=r.from_, to_node=r.to, kind=r.kind,
              routing=r.routing, k_days=r.k_days, x=r.x, loss_fraction=r.loss_fraction,
              max_flow_m3s=r.max_flow_m3s)
        for r in reach_models
    )
    return Basin(name=info.name, countries=tuple(info.countries), nodes=tuple(nodes), reaches=reaches,
                 title=info.title, description=info.description, path=doc.path,
                 inflows_path=(doc.path.parent / info.inflows) if info.inflows else None)


def _lenient_basin(doc: TomlDocument, error: ValidationError) -> tuple[Basin | None, frozenset[str]]:
    """The basin without the keys that failed their schema, so the network can
    still be checked and every problem reported at once. Items that cannot be
    rebuilt stand in as placeholders of their kind (their own fields unchecked)."""
    data = copy.deepcopy(doc.data)
    for err in error.errors():
        loc = _clean(tuple(err["loc"]))
        if len(loc) >= 3 and loc[0] in ("node", "reach") and isinstance(loc[1], int) \
                and err["type"] != "missing":
            items = data.get(loc[0])
            if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
                items[loc[1]].pop(loc[2], None)
        elif len(loc) >= 2 and loc[0] == "basin" and isinstance(data.get("basin"), dict):
            data["basin"].pop(loc[1], None)
    nodes_data: list[Any] = data["node"] if isinstance(data.get("node"), list) else []
    try:
        info = BasinInfo.model_validate(data.get("basin"))
    except ValidationError:
        # a missing or bad [basin] key is one more problem: check the network without it
        raw: dict[str, Any] = data["basin"] if isinstance(data.get("basin"), dict) else {}
        countries: list[Any] = raw["countries"] if isinstance(raw.get("countries"), list) else sorted(
            {n["country"] for n in nodes_data if isinstance(n, dict) and isinstance(n.get("country"), str)})
        info = BasinInfo.model_construct(
            name=raw["name"] if isinstance(raw.get("name"), str) else "basin", title="", description="",
            countries=[c for c in countries if isinstance(c, str)],
            inflows=raw["inflows"] if isinstance(raw.get("inflows"), str) else "")
    if not nodes_data:
        return None, frozenset()
    adapter: TypeAdapter[Any] = TypeAdapter(NodeModel)
    nodes: list[Node] = []
    placeholders: set[str] = set()
    for item in data.get("node", []) if isinstance(data.get("node"), list) else []:
        try:
            nodes.append(_to_node(adapter.validate_python(item)))
        except ValidationError:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                kind = item["kind"] if isinstance(item.get("kind"), str) and item["kind"] in NODE_CLASSES \
                    else "junction"
                nodes.append(NODE_CLASSES[kind](id=item["id"], kind=kind, country=str(item.get("country", ""))))
                placeholders.add(item["id"])
    reaches = []
    for item in data.get("reach", []) if isinstance(data.get("reach"), list) else []:
        try:
            reaches.append(ReachModel.model_validate(item))
        except ValidationError:
            if isinstance(item, dict) and isinstance(item.get("from"), str):
                placeholders.add(item["from"])
    return _assemble(doc, info, nodes, reaches), frozenset(placeholders)


def _parse_basin(path: Path, doc: TomlDocument | None = None) -> tuple[TomlDocument, Basin | None, list[Problem]]:
    doc = doc if doc is not None else read_toml(path)
    try:
        parsed = BasinFile.model_validate(doc.data)
    except ValidationError as err:
        problems = _schema_problems(doc, BasinFile, err)
        if err.error_count() > MAX_ERRORS:         # not a basin file: no network to check
            return doc, None, problems
        lenient, placeholders = _lenient_basin(doc, err)
        if lenient is not None:
            seen = {(p.line, p.where) for p in problems}
            problems += [p for p in validate_basin(lenient, _locator(doc), placeholders)
                         if (p.line, p.where) not in seen]
        return doc, None, problems
    basin = _build_basin(doc, parsed)
    return doc, basin, validate_basin(basin, _locator(doc))


def load_basin(path: str | Path) -> Basin:
    """Read and check a basin file (docs/REFERENCE.md §4).

    Raises
    ------
    InputError
        listing every problem found, each with file and line.
    """
    return _load_basin(Path(path))


def _load_basin(path: Path, doc: TomlDocument | None = None) -> Basin:
    doc, basin, problems = _parse_basin(path, doc)
    if basin is not None and basin.inflows_path is not None:
        why = file_problem(basin.inflows_path)
        if why is not None:
            problems.append(Problem(doc.path, doc.line("basin", "inflows"), "basin.inflows",
                                    f"inflow file {why}: {basin.inflows_path}"))
        else:
            data, inflow_problems = read_inflows(basin.inflows_path)
            problems += inflow_problems
            if data is not None:
                problems += inflow_coverage(basin, data)
    if problems or basin is None:
        raise InputError(problems)
    return basin


#: makes the members of ``inflows.generate``: called as ``generator(basin, years=,
#: members=, seed=, start="YYYY-MM")`` and returns a Dataset ``inflow(member, time, node)``
#: [m3 s-1]. This module reads files and does not generate: the caller hands the
#: generator in (`waterdesk.pipeline.load_scenario` gives `waterdesk.generate.generate_inflows`).
Generator = Callable[..., Any]


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None,
                  generator: Generator | None = None) -> Scenario:
    """Read and check a scenario file, its basin and its inflow data (docs/REFERENCE.md §4-5).

    Every problem in every file is reported at once.

    Parameters
    ----------
    overrides : mapping of dotted key -> value, optional
        set in the parsed file before it is checked: ``{"inflows.scale": 0.8,
        "demands.scale.UZ": 1.1, "clause.<id>.min_mcm": 900.0}`` (see
        `waterdesk.io.overrides`). A bad value is reported like a bad value in the file.
    generator : makes the members of a scenario with ``inflows.generate`` (see `Generator`);
        without it such a scenario is refused.

    Raises
    ------
    InputError
        listing every problem found, each as ``file:line: where: message``.
    """
    try:
        return _load_scenario(Path(path), overrides, generator)
    except InputError as err:
        if not overrides:
            raise
        raise InputError(annotate(err.problems, overrides)) from None


def _ensemble(inflows: Any, doc: Any, path: Path, basin: Basin, start: str, generator: Generator | None
              ) -> tuple[list[InflowData], list[Problem]]:
    """The members of an ensemble scenario (``inflows.members`` of a file, or
    ``inflows.generate``), or none. Problems name the scenario's keys."""
    if inflows.members is None and inflows.generate is None:
        return [], []
    line = doc.line("inflows", "generate" if inflows.generate is not None else "members")
    given = doc.data.get("inflows", {})
    if inflows.generate is not None:
        clash = [key for key in ("file", "member", "members") if key in given]
        if clash:
            return [], [Problem(path, line, "inflows.generate",
                                f"generate makes the inflows; remove inflows.{clash[0]}")]
    elif "member" in given:
        return [], [Problem(path, line, "inflows.members",
                            "members runs several members together; remove inflows.member")]
    if inflows.generate is not None:
        if generator is None:
            return [], [Problem(path, line, "inflows.generate",
                                "this loader does not generate inflows: use waterdesk.load_scenario")]
        g = inflows.generate
        source = basin.path if basin.path is not None else basin.name
        try:
            ds = generator(source, years=g.years, members=g.members, seed=g.seed, start=start[:7])
        except InputError as err:
            return [], err.problems
        values = np.asarray(ds["inflow"].transpose("member", "time", "node").values, dtype=np.float64)
        starts = np.asarray(ds["time"].values).astype("datetime64[D]")
        nodes = tuple(str(n) for n in ds["node"].values)
        ends = np.concatenate([starts[1:], [(starts[-1].astype("datetime64[M]") + 1).astype("datetime64[D]")]])
        label = f"generated (years={g.years}, members={g.members}, seed={g.seed}) from {source}"
        return [InflowData(nodes, starts, ends, values[m], source=label) for m in range(g.members)], []
    file = path.parent / inflows.file if inflows.file else basin.inflows_path or Path()
    why = file_problem(file)
    if why is not None:
        return [], [Problem(path, doc.line("inflows", "file") or line, "inflows.file",
                            f"inflow file {why}: {file}")]
    data, problems = read_inflow_members(file, list(range(inflows.members)), member_at=(path, line))
    if problems:                                    # out of range names the last member
        return [], [Problem(p.path, p.line, "inflows.members" if p.where == "inflows.member" else p.where,
                            p.message) for p in problems]
    assert data is not None
    return data, []


def _not_a_scenario(doc: TomlDocument) -> Problem | None:
    """A sweep or basin file given where a scenario is expected: say which command or
    file to use instead."""
    if "scenario" in doc.data:
        return None
    if "sweep" in doc.data:
        return Problem(doc.path, doc.line("sweep"), "sweep",
                       f"this is a sweep file, not a scenario: run it with `waterdesk batch {doc.path} -o DIR`")
    if "basin" in doc.data:
        return Problem(doc.path, doc.line("basin"), "basin",
                       "this is a basin file, not a scenario: run a scenario whose [scenario].basin names it")
    return None


def _load_scenario(path: Path, overrides: Mapping[str, Any] | None, generator: Generator | None,
                   doc: TomlDocument | None = None) -> Scenario:
    doc = doc if doc is not None else read_toml(path)
    wrong = _not_a_scenario(doc)
    if wrong is not None:
        raise InputError([wrong])
    doc, override_problems = apply_overrides(doc, overrides)
    if override_problems:
        raise InputError(override_problems)
    clause_problems: list[Problem] = []
    period_known = True
    try:
        parsed = ScenarioFile.model_validate(doc.data)
    except ValidationError as err:
        problems = _schema_problems(doc, ScenarioFile, err)
        # what failed its schema is set aside (a bad clause whole, a bad key alone) so that
        # the rest of the scenario can still be checked against its basin: every problem at once
        lenient, clause_index, period_known = _lenient_scenario(doc.data, err)
        try:
            parsed = ScenarioFile.model_validate(lenient)
        except ValidationError:
            basin_ref = doc.data.get("scenario", {}).get("basin") if isinstance(doc.data.get("scenario"), dict) else None
            if isinstance(basin_ref, str) and file_problem(path.parent / basin_ref) is None:
                try:
                    problems += _parse_basin(path.parent / basin_ref)[2]
                except InputError as inner:
                    problems += inner.problems
            raise InputError(problems) from None
        clause_problems = problems
        doc = _renumbered(doc, clause_index)
    info = parsed.scenario
    basin_path = path.parent / info.basin
    why = file_problem(basin_path)
    if why is not None:
        raise InputError(clause_problems + [Problem(path, doc.line("scenario", "basin"), "scenario.basin",
                                  f"basin file {why}: {basin_path}")])
    basin_doc, basin, problems = _parse_basin(basin_path)
    if basin is None:
        raise InputError(problems + clause_problems)
    if parsed.inflows.file:
        inflow_path = path.parent / parsed.inflows.file
        where = (path, doc.line("inflows", "file"), "inflows.file")
    else:
        inflow_path = basin.inflows_path or Path()
        where = (basin_path, basin_doc.line("basin", "inflows"), "basin.inflows")
    ensemble, ensemble_problems = _ensemble(parsed.inflows, doc, path, basin, info.start, generator)
    if ensemble_problems:
        raise InputError(problems + ensemble_problems + clause_problems)
    if ensemble:
        data: InflowData | None = ensemble[0]
        inflow_path = Path(ensemble[0].source) if not parsed.inflows.generate else basin.inflows_path or Path()
    else:
        why = file_problem(inflow_path)
        if why is not None:
            raise InputError(problems + clause_problems + [Problem(where[0], where[1], where[2], f"inflow file {why}: {inflow_path}")])
        data, inflow_problems = read_inflows(inflow_path, member=parsed.inflows.member,
                                             member_at=(path, doc.line("inflows", "member")))
        if inflow_problems:
            raise InputError(problems + inflow_problems + clause_problems)
    assert data is not None
    scale: float | tuple[float, ...] = parsed.inflows.scale if isinstance(parsed.inflows.scale, float) \
        else tuple(parsed.inflows.scale)
    sha = hashlib.sha256()
    for part in (doc.text, basin_doc.text, inflow_path.read_bytes(), *([overrides_digest(overrides)] if overrides else [])):
        sha.update(hashlib.sha256(part).digest())
    output = Path(parsed.output.path) if parsed.output.path else None
    scenario = Scenario(
        name=info.name, basin=basin, inflows=data, start=info.start, end=info.end,
        timestep=info.timestep, mode=info.mode,
        horizon=str(info.horizon) if info.horizon is not None else ("water_year" if info.mode == "horizon" else None),
        title=info.title, description=info.description,
        inflow_scale=scale, demand_scale=parsed.demands.scale,
        output_path=output,  # relative to the working directory, like any CLI output
        clauses=tuple(clause_from_fields(c.model_dump()) for c in parsed.clause),
        exchange=parsed.exchange.model_dump() if parsed.exchange else None,
        path=path, inputs_sha256=sha.hexdigest(), members=tuple(ensemble),
        carry_over=_carry_over(info.carry_over, parsed.carry_over),
        accounting_year=info.accounting_year,
    )
    scenario_locate = _locator(doc)

    def locate(kind: str, ident: str | int, key: str | None) -> tuple[Path | str, int | None]:
        return (_locator(basin_doc) if kind in ("node", "reach") else scenario_locate)(kind, ident, key)

    checked = validate_scenario(scenario, locate)
    if not period_known:       # start or end failed their schema: no checks of a stand-in period
        checked = [p for p in checked if p.where not in _PERIOD_CHECKS]
    seen = {(p.line, p.where) for p in clause_problems}
    problems += [p for p in checked if (p.line, p.where) not in seen] + clause_problems
    if problems:
        raise InputError(problems)
    conflicts = physical_conflicts(scenario)
    if conflicts:
        index = {c.id: i for i, c in enumerate(scenario.clauses)}
        said = [f'{path}:{doc.line("clause", index[cid]) or "?"}: clause "{cid}" (hard): {why}'
                for cid, why in conflicts]
        raise InfeasibleError("before any solve:\n" + "\n".join(said), clauses=[cid for cid, _ in conflicts])
    return scenario


#: problems of validate_scenario that need the real period
_PERIOD_CHECKS = frozenset({"time", "scenario.start", "scenario.end", "scenario.horizon", "inflows.generate"})


def _lenient_scenario(data: dict[str, Any], error: ValidationError) -> tuple[dict[str, Any], list[int], bool]:
    """The scenario's data without what failed its schema: clauses that failed are left
    out, other failing keys removed (their defaults apply); a missing or bad name, start
    or end gets a stand-in. Returns the data, the kept clauses' original indices and
    whether the period (start, end) is the file's own."""
    out = copy.deepcopy(data)
    bad_clauses: set[int] = set()
    for err in error.errors():
        loc = _clean(tuple(err["loc"]))
        if len(loc) >= 2 and loc[0] == "clause" and isinstance(loc[1], int):
            bad_clauses.add(loc[1])
        elif err["type"] == "missing" or not loc:
            continue
        elif len(loc) == 1:
            out.pop(loc[0], None) if isinstance(loc[0], str) else None
        elif isinstance(out.get(loc[0]), dict):
            out[loc[0]].pop(loc[1], None)
        else:
            out.pop(loc[0], None)
    clauses: list[Any] = out["clause"] if isinstance(out.get("clause"), list) else []
    kept = [i for i in range(len(clauses)) if i not in bad_clauses]
    if "clause" in out:
        out["clause"] = [clauses[i] for i in kept]
    info = out.get("scenario")
    period_known = True
    if isinstance(info, dict):
        info.setdefault("name", "scenario")
        if "start" not in info or "end" not in info:
            period_known = False
            info["start"], info["end"] = "2000-01-01", "2000-12-31"   # stand-ins, not checked
            info["timestep"] = "month"
    return out, kept, period_known


def _renumbered(doc: TomlDocument, kept: list[int]) -> TomlDocument:
    """The document's line map with clause tables renumbered after some were set aside."""
    lines = {k: v for k, v in doc.lines.items() if not (len(k) >= 2 and k[0] == "clause")}
    for new, old in enumerate(kept):
        for key, line in doc.lines.items():
            if len(key) >= 2 and key[0] == "clause" and key[1] == old:
                lines[("clause", new, *key[2:])] = line
    return TomlDocument(path=doc.path, data=doc.data, lines=lines, text=doc.text)


def load_any(path: str | Path, generator: Generator | None = None) -> Basin | Scenario:
    """Load a basin or a scenario file, telling them apart by their first table."""
    doc = read_toml(path)           # read once: a large file is not parsed twice
    if "scenario" in doc.data:
        return _load_scenario(Path(path), None, generator, doc)
    if "sweep" in doc.data and "basin" not in doc.data:
        from waterdesk.io.sweep import load_sweep

        return load_scenario(load_sweep(path).scenario, generator=generator)   # the sweep, then the scenario it varies
    return _load_basin(Path(path), doc)


__all__ = ["load_basin", "load_scenario", "load_any", "InflowData"]
