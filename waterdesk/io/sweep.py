"""Sweep files (docs/REFERENCE.md §9): a scenario and the values to vary, one run per combination.

```toml
[sweep]
scenario = "baseline.toml"        # relative to this file
seed = 42

[[sweep.vary]]
key = "inflows.scale"
values = [0.8, 1.0]
```
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, ValidationError

from waterdesk.errors import InputError, Problem
from waterdesk.io.toml import read_toml

if TYPE_CHECKING:
    from waterdesk.model.sweep import Sweep

__all__ = ["SweepFile", "read_sweep", "sweep_json_schema"]

Value = bool | int | float | str | list[float]


from waterdesk.io.schema import _Strict  # noqa: E402  (strict types, as in scenario files)


class Vary(_Strict):
    key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)+$")] = Field(
        description='a dotted scenario key: "inflows.scale", "demands.scale.UZ", '
                    '"clause.<id>.<field>", "scenario.mode"')
    values: Annotated[list[Value], Field(min_length=1)] = Field(description="the values it takes, one run each")


class SweepInfo(_Strict):
    description: str = Field(default="", description="the question this sweep answers")
    scenario: str = Field(description="scenario file, relative to this file")
    members: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="stochastic inflow members per combination (waterdesk.generate)")
    seed: int = Field(default=0, description="seed of the stochastic inflows")
    vary: list[Vary] = Field(default_factory=list)


class SweepFile(_Strict):
    sweep: SweepInfo


def sweep_json_schema() -> dict[str, Any]:
    """JSON Schema of a sweep file, for editors."""
    schema = SweepFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "waterdesk sweep file"
    return schema


def read_sweep(path: str | Path) -> tuple[SweepInfo, Path]:
    """The checked ``[sweep]`` table of a file and the scenario's path.

    Raises
    ------
    InputError
        for every problem, each as ``file:line: where: message``.
    """
    from waterdesk.io.schema import validation_problems

    path = Path(path)
    doc = read_toml(path)
    if "sweep" not in doc.data and ("scenario" in doc.data or "basin" in doc.data):
        kind = "scenario" if "scenario" in doc.data else "basin"
        hint = (f"run it with `waterdesk run {path}`" if kind == "scenario"
                else "batch runs a sweep file ([sweep] scenario = ..., docs/BATCH.md)")
        raise InputError([Problem(str(path), doc.line(kind), kind, f"this is a {kind} file, not a sweep: {hint}")])
    try:
        parsed = SweepFile.model_validate(doc.data)
    except ValidationError as err:
        problems = []
        for loc, msg in validation_problems(SweepFile, doc.data, err):
            where = ".".join(f"[{p + 1}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
            problems.append(Problem(doc.path, doc.line(*loc), where, msg))
        raise InputError(problems) from None
    info = parsed.sweep
    problems = []
    seen: set[str] = set()
    for i, vary in enumerate(info.vary):
        if vary.key in seen:
            problems.append(Problem(path, doc.line("sweep", "vary", i, "key"), f"sweep.vary[{i + 1}].key",
                                    f"{vary.key} is varied twice"))
        seen.add(vary.key)
    scenario = path.parent / info.scenario
    if not scenario.exists():
        problems.append(Problem(path, doc.line("sweep", "scenario"), "sweep.scenario",
                                f"scenario file not found: {scenario}"))
    if info.members is not None and "inflows.member" in seen:
        problems.append(Problem(path, doc.line("sweep", "members"), "sweep.members",
                                "members vary inflows.member already; do not vary it as well"))
    if problems:
        raise InputError(problems)
    return info, scenario


def load_sweep(path: str | Path) -> "Sweep":
    """A `Sweep` from a sweep file (docs/BATCH.md); raises `InputError` listing every problem."""
    from waterdesk.model.sweep import Sweep

    info, scenario = read_sweep(path)
    return Sweep(scenario=scenario, vary={v.key: list(v.values) for v in info.vary},
                 members=info.members, seed=info.seed, path=Path(path))
