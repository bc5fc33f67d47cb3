"""pydantic models mirroring the basin and scenario files (docs/REFERENCE.md §4-5).

Every model forbids unknown keys, so a typo such as ``capacity_mcm3`` is caught
and answered with the closest known key. Dimensional keys carry their unit as a
suffix; a key without it is unknown.
"""
from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from waterdesk.units import SUFFIX_UNITS

Twelve = Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=12, max_length=12)]
Curve = Annotated[list[Annotated[list[float], Field(min_length=2, max_length=2)]], Field(min_length=2)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
NodeId = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]


def _iso_date(value: Any) -> Any:
    """Accept a TOML date or a "YYYY-MM-DD" string naming a real day."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"must be a date YYYY-MM-DD, got {toml_repr(value)}")
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be a date YYYY-MM-DD, got {value!r} (no such day)") from None
    return value


IsoDate = Annotated[str, BeforeValidator(_iso_date), Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class TooBig:
    """Stands in for an integer beyond 64 bits, so that no type accepts it and the
    message names the key (see `_Strict`)."""

    def __init__(self, value: int):
        self.value = value

    def __repr__(self) -> str:
        return str(self.value)


def _mark_too_big(value: Any, depth: int = 0) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if INT64_MIN <= value <= INT64_MAX else TooBig(value)
    if depth < 64 and isinstance(value, list):
        return [_mark_too_big(v, depth + 1) for v in value]
    if depth < 64 and isinstance(value, dict) and depth > 0:
        return {k: _mark_too_big(v, depth + 1) for k, v in value.items()}
    return value


class _Strict(BaseModel):
    """Base of every file model: unknown keys are refused, and types are strict -- a
    bool is not a number, a string is not a number or a bool, numbers are finite and
    integers fit 64 bits. Keys added by subclasses inherit all of this."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _integers_fit_64_bits(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: _mark_too_big(v, 1) for k, v in data.items()}
        return data


class BasinInfo(_Strict):
    name: NodeId
    title: str = ""
    description: str = ""
    countries: Annotated[list[Country], Field(min_length=1)]
    inflows: str = Field(description="inflow file relative to the basin file: NetCDF or CSV")


class _NodeBase(_Strict):
    id: NodeId
    name: str = ""
    country: Country


Salinity = Annotated[float, Field(ge=0)] | Twelve   # mg/L: one value or 12 monthly (issue 14)


class InflowNode(_NodeBase):
    kind: Literal["inflow"]
    salinity_mg_l: Salinity | None = Field(
        default=None, description="salinity (TDS) of the inflow: one value or 12 monthly values, mg/L")


class JunctionNode(_NodeBase):
    kind: Literal["junction"]


class GaugeNode(_NodeBase):
    kind: Literal["gauge"]


class SinkNode(_NodeBase):
    kind: Literal["sink"]


class ReservoirNode(_NodeBase):
    kind: Literal["reservoir"]
    capacity_mcm: Annotated[float, Field(gt=0)]
    dead_storage_mcm: Annotated[float, Field(ge=0)] = 0.0
    initial_storage_mcm: Annotated[float, Field(ge=0)]
    area_curve: Curve | None = Field(
        default=None, description="[[storage_mcm, area_km2], ...], storage increasing; "
                                  "without it the reservoir has no evaporation")
    evaporation_mm: Twelve | None = Field(
        default=None, description="open-water evaporation in each calendar month [mm], Jan..Dec; "
                                  "needs area_curve; without it, no evaporation")
    installed_mw: Annotated[float, Field(gt=0)] | None = None
    turbine_max_m3s: Annotated[float, Field(gt=0)] | None = None
    efficiency: Annotated[float, Field(gt=0, le=1)] | None = None
    head_curve: Curve | None = Field(default=None, description="[[storage_mcm, head_m], ...]")
    outlet_max_m3s: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="bottom-outlet capacity without turbines; above it is spill"
    )
    energy_target_gwh: Twelve | None = Field(
        default=None, description="energy wanted from the turbines in each calendar month, Jan..Dec")
    energy_priority: Annotated[int, Field(ge=1)] | None = None
    target_storage_mcm: Twelve | None = Field(
        default=None, description="operating target: storage wanted at the end of each month, Jan..Dec")
    target_priority: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="priority at which the target (and the release curve) is served")
    buffer_mcm: Annotated[float, Field(ge=0)] | Twelve | None = Field(
        default=None, description="buffer level (one value or 12 monthly): below it releases are limited")
    buffer_coefficient: Annotated[float, Field(gt=0, le=1)] | None = Field(
        default=None, description="fraction of the stored water above dead storage released per step "
                                  "while below the buffer level")
    release_curve: Curve | None = Field(
        default=None, description="[[storage_mcm, release_m3s], ...]: release wanted at a storage")
    initial_salinity_mg_l: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="salinity of the initial storage, mg/L (default: its natural inflow's)")


class DemandNode(_NodeBase):
    kind: Literal["demand"]
    sector: Literal["irrigation", "municipal", "industrial", "environment"]
    priority: Annotated[int, Field(ge=1)]
    monthly_mcm: Twelve = Field(description="volume requested in each calendar month, Jan..Dec")
    consumptive_fraction: Annotated[float, Field(ge=0, le=1)] = 1.0
    return_to: NodeId | None = None
    return_salinity_mg_l: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="salinity of the return (drainage) flow, mg/L (default: the delivered water's)")


Node = Annotated[
    Union[InflowNode, JunctionNode, GaugeNode, SinkNode, ReservoirNode, DemandNode],
    Field(discriminator="kind"),
]
NODE_MODELS: dict[str, type[_NodeBase]] = {
    "inflow": InflowNode,
    "junction": JunctionNode,
    "gauge": GaugeNode,
    "sink": SinkNode,
    "reservoir": ReservoirNode,
    "demand": DemandNode,
}


class Reach(_Strict):
    model_config = ConfigDict(populate_by_name=True)
    id: NodeId | None = None
    from_: NodeId = Field(alias="from")
    to: NodeId
    kind: Literal["river", "canal"] = "river"
    routing: Literal["none", "lag", "muskingum"] = "none"
    k_days: Annotated[float, Field(ge=0)] = 0.0
    x: Annotated[float, Field(ge=0, le=0.5)] = 0.2
    loss_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.0
    max_flow_m3s: Annotated[float, Field(ge=0)] | None = None


class BasinFile(_Strict):
    basin: BasinInfo
    node: Annotated[list[Node], Field(min_length=1)]
    reach: list[Reach] = Field(default_factory=list)


class ScenarioInfo(_Strict):
    name: NodeId
    title: str = ""
    description: str = Field(default="", description="the question this scenario answers")
    basin: str = Field(description="basin file, relative to this file")
    start: IsoDate
    end: IsoDate
    timestep: Literal["day", "dekad", "month"] = "month"
    mode: Literal["step", "horizon"] = "step"
    horizon: str | Annotated[int, Field(ge=1)] | None = Field(
        default=None, description='mode = "horizon": "water_year" (default), "year" or a number of steps')
    carry_over: Literal["initial", "free"] | Annotated[float, Field(ge=0)] | None = Field(
        default=None, description='mode = "horizon": storage at the end of each window: "initial" '
                                  '(at least the window\'s start storage), "free" or a volume [mcm]')
    accounting_year: Literal["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                             "dec"] = Field(default="oct", description="first month of the accounting year")


class Generate(_Strict):
    years: Annotated[int, Field(ge=1, strict=True)] = Field(description="length of each member [years]")
    members: Annotated[int, Field(ge=1, strict=True)] = Field(description="number of members")
    seed: Annotated[int, Field(ge=0, strict=True)] = Field(description="random seed (same seed, same inflows)")


class Inflows(_Strict):
    scale: Annotated[float, Field(ge=0)] | Annotated[
        list[Annotated[float, Field(ge=0)]], Field(min_length=12, max_length=12)
    ] = 1.0
    file: str | None = None
    member: Annotated[int, Field(ge=0, strict=True)] = Field(
        default=0, description="member of an inflow file with a member dimension (0-based)")
    members: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        default=None, description="run members 0 .. members-1 of the inflow file together "
                                  "(an ensemble run: the result has a member dimension)")
    generate: Generate | None = Field(
        default=None, description="generate a stochastic ensemble from the basin's inflows "
                                  "(docs/ENSEMBLES.md) and run all its members together")


class Demands(_Strict):
    scale: Annotated[float, Field(ge=0)] | dict[str, Annotated[float, Field(ge=0)]] = 1.0


Period = Literal["step", "month", "season", "vegetation", "non_vegetation", "water_year", "year"]
Month = Annotated[int, Field(ge=1, le=12)]


class _ClauseBase(_Strict):
    id: NodeId
    period: Period = "step"
    months: list[Month] | None = Field(default=None, description="with period = season: 1 = January")
    season: Literal["winter", "spring", "summer", "autumn", "vegetation", "non_vegetation"] | None = None
    hard: bool = False
    priority: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="soft clauses: priority on the demand scale")
    description: str = ""
    parties: list[Country] = Field(default_factory=list)


class MinFlowClause(_ClauseBase):
    kind: Literal["min_flow"]
    node: NodeId
    min_m3s: Annotated[float, Field(ge=0)] | Annotated[
        list[Annotated[float, Field(ge=0)]], Field(min_length=12, max_length=12)]


class MinVolumeClause(_ClauseBase):
    kind: Literal["min_volume"]
    node: NodeId
    min_mcm: Annotated[float, Field(ge=0)]


class ShareClause(_ClauseBase):
    kind: Literal["share"]
    of: Annotated[str, Field(pattern=r"^(natural_flow|flow):[A-Za-z0-9_\-]+$")] = Field(
        description="reference volume: natural_flow:<node> or flow:<node>")
    shares: dict[Country, Annotated[float, Field(ge=0, le=1)]]
    mode: Literal["cap", "entitlement", "exact"] = "entitlement"
    tolerance: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.0, description="exact mode: allowed deviation, as a fraction of the share")
    demands: list[NodeId] | None = Field(
        default=None, description="only these demands count (default: the country's demands on the river)")


class MaxWithdrawalClause(_ClauseBase):
    kind: Literal["max_withdrawal"]
    country: Country | None = None
    sector: Literal["irrigation", "municipal", "industrial", "environment"] | None = None
    max_mcm: Annotated[float, Field(ge=0)]
    demands: list[NodeId] | None = Field(
        default=None, description="only these demands count (e.g. the main-stem offtakes an ICWC limit covers)")


class SplitClause(_ClauseBase):
    kind: Literal["split"]
    node: NodeId
    ratios: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(description="reach id -> ratio")


class ReleaseClause(_ClauseBase):
    kind: Literal["release"]
    node: NodeId
    min_mcm: Annotated[float, Field(ge=0)] | None = None
    max_mcm: Annotated[float, Field(ge=0)] | None = None


class StorageClause(_ClauseBase):
    kind: Literal["storage"]
    node: NodeId
    min_mcm: Annotated[float, Field(ge=0)]


class MaxSalinityClause(_ClauseBase):
    kind: Literal["max_salinity"]
    node: NodeId
    max_mg_l: Annotated[float, Field(gt=0)] = Field(description="salinity limit of the water leaving the node, mg/L")


Clause = Annotated[
    Union[MinFlowClause, MinVolumeClause, ShareClause, MaxWithdrawalClause, SplitClause,
          ReleaseClause, StorageClause, MaxSalinityClause],
    Field(discriminator="kind"),
]
CLAUSE_MODELS: dict[str, type[_ClauseBase]] = {
    "min_flow": MinFlowClause, "min_volume": MinVolumeClause, "share": ShareClause,
    "max_withdrawal": MaxWithdrawalClause, "split": SplitClause, "release": ReleaseClause,
    "storage": StorageClause, "max_salinity": MaxSalinityClause,
}


class Output(_Strict):
    path: str | None = None


class Exchange(_Strict):
    """Energy-water exchange account (1998 Syr Darya framework): the winter energy a
    reservoir forgoes because of a clause, the summer water it sends downstream, and the
    compensation owed at `price_per_gwh`."""
    clause: NodeId = Field(description="id of the clause whose cost is accounted (e.g. a summer release)")
    reservoir: NodeId = Field(description="the hydropower reservoir that forgoes energy")
    price_per_gwh: Annotated[float, Field(ge=0)] = Field(description="compensation per GWh foregone")
    currency: str = Field(default="USD", description="unit of the price: a currency or a fuel (e.g. t coal)")


class ScenarioFile(_Strict):
    scenario: ScenarioInfo
    inflows: Inflows = Field(default_factory=Inflows)
    demands: Demands = Field(default_factory=Demands)
    output: Output = Field(default_factory=Output)
    clause: list[Clause] = Field(default_factory=list)
    exchange: Exchange | None = None
    carry_over: dict[NodeId, Literal["initial", "free"] | Annotated[float, Field(ge=0)]] | None = Field(
        default=None, description='mode = "horizon": end-of-window storage per reservoir id')


def json_schema(kind: str) -> dict[str, Any]:
    """JSON Schema of a file kind (``basin`` or ``scenario``) for editors."""
    models: dict[str, type[BaseModel]] = {"basin": BasinFile, "scenario": ScenarioFile}
    schema = models[kind].model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"waterdesk {kind} file"
    return schema


# ---------------------------------------------------------------- error messages

def _model_at(root: type[BaseModel], loc: tuple[Any, ...], data: Any) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of `loc` (for 'did you mean')."""
    model: Any = root
    value = data
    for part in loc[:-1]:
        if isinstance(part, int):
            value = value[part] if isinstance(value, list) and part < len(value) else None
            continue
        if model is None or not hasattr(model, "model_fields"):
            return None
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        field = fields.get(part)
        if field is None:
            if part in NODE_MODELS or part in CLAUSE_MODELS:  # discriminator tag in the location
                model = NODE_MODELS.get(part) or CLAUSE_MODELS[part]
                continue
            return None
        value = value.get(part) if isinstance(value, dict) else None
        model = _unwrap(field.annotation, value)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any, value: Any) -> Any:
    """Find a BaseModel inside list[...] / Union[...] / Annotated[...]."""
    import typing

    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0], value)
    if origin in (list, Union) or str(origin) == "types.UnionType":
        args = typing.get_args(annotation)
        if origin is list:
            return _unwrap(args[0], value[0] if isinstance(value, list) and value else None)
        kind = value.get("kind") if isinstance(value, dict) else None
        kind = kind if isinstance(kind, str) else None
        if kind in NODE_MODELS:
            return NODE_MODELS[kind]
        if kind in CLAUSE_MODELS:
            return CLAUSE_MODELS[kind]
        for arg in args:
            found = _unwrap(arg, value)
            if found is not None:
                return found
    return None


def _describe(err: dict[str, Any], known: list[str]) -> str:
    kind = err["type"]
    ctx = err.get("ctx", {})
    got = err.get("input")
    if isinstance(got, TooBig):
        return f"must fit in 64 bits (-2^63 .. 2^63-1), got {got.value}"
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        close = _closest_key(key, known)
        if close and any(close == key + sfx for sfx in _SUFFIXES):
            return (f"unknown key {key}: dimensional keys carry their unit as a suffix; "
                    f"did you mean {close}?")
        hint = f"; did you mean {close}?" if close else f"; known keys: {', '.join(sorted(known))}"
        return f"unknown key {key}{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}[kind]
        bound = ctx.get({"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt",
                         "less_than_equal": "le"}[kind])
        return f"must be {op} {bound:g}, got {toml_repr(got)}"
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        size = len(got) if isinstance(got, (list, tuple, str, dict)) else ctx.get("actual_length")
        if str(err["loc"][-1]) in _TWELVE:
            return f"needs 12 monthly values (January..December), got {size}"
        word = "at least" if kind == "too_short" else "at most"
        what = "points" if str(err["loc"][-1]).endswith("_curve") else "values"
        return f"needs {word} {limit} {what}, got {size}"
    if kind == "literal_error":
        allowed = str(ctx.get("expected", ""))
        choices = [o.strip().strip("'") for o in allowed.replace(" or ", ", ").split(",")]
        similar = difflib.get_close_matches(str(got), choices, n=1, cutoff=0.6)
        hint = f"; did you mean {similar[0]!r}?" if similar else ""
        return f"must be one of {allowed}, got {toml_repr(got)}{hint}"
    if kind in ("union_tag_invalid",):
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        options = ", ".join(repr(t) for t in tags[:-1]) + f" or {tags[-1]!r}"
        similar = difflib.get_close_matches(str(ctx.get("tag")), tags, n=1, cutoff=0.6)
        hint = f"; did you mean {similar[0]!r}?" if similar else ""
        return f"must be one of {options}, got {ctx.get('tag')!r}{hint}"
    if kind == "union_tag_not_found":
        return "required key kind is missing"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern == r"^[A-Z]{2}$":
            return f"must be an ISO 3166 alpha-2 country code (e.g. KG), got {toml_repr(got)}"
        if pattern.startswith(r"^\d{4}"):
            return f"must be a date YYYY-MM-DD, got {toml_repr(got)}"
        return f"must contain only letters, digits, '_' and '-', got {toml_repr(got)}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]}, got {toml_repr(got)}"
    return f"{err['msg']}, got {toml_repr(got)}" if got is not None else str(err["msg"])


#: pydantic error type -> what the key expected
_TYPE_WORDS = {
    "float_type": "a number", "float_parsing": "a number",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "finite_number": "a finite number",
    "string_type": "text", "list_type": "a list",
    "model_type": "a table", "dict_type": "a table", "model_attributes_type": "a table",
}


def toml_repr(value: Any) -> str:
    """A value as the user wrote it in TOML (true, nan, 'text', a table), shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return "a table"
    text = repr(value)
    if isinstance(value, list):
        text = "[" + ", ".join(toml_repr(v) for v in value[:13]) + (", ...]" if len(value) > 13 else "]")
    return text if len(text) <= 80 else text[:77] + "..."


#: schema errors turned into messages per file; the rest are counted (see io.load)
MAX_ERRORS = 200


def validation_problems(
    root: type[BaseModel], data: dict[str, Any], error: ValidationError
) -> list[tuple[tuple[Any, ...], str]]:
    """Turn a pydantic ValidationError into (location, message) pairs.

    Union branches that fail for the 'wrong' member (e.g. a float where a table
    of scales was also allowed) are merged into one message per location.
    """
    out: dict[tuple[Any, ...], str] = {}
    errors = error.errors()[:MAX_ERRORS]      # a file with more is not a basin or scenario file
    explained: set[tuple[Any, ...]] = set()   # missing keys that a typo next to them explains
    for err in errors:
        if err["type"] == "extra_forbidden":
            loc = tuple(err["loc"])
            model = _model_at(root, loc, data)
            known = [f.alias or n for n, f in model.model_fields.items()] if model else []
            close = _closest_key(str(loc[-1]), known)
            if close:
                explained.add(_clean(loc[:-1] + (close,)))
    for err in errors:
        if err["type"] == "missing" and _clean(tuple(err["loc"])) in explained:
            continue
        loc = tuple(err["loc"])
        # drop discriminator / union branch names pydantic inserts into locations
        clean = _clean(loc)
        if err["type"] == "union_tag_invalid":
            clean = clean + ("kind",)
        model = _model_at(root, loc, data)
        known = [f.alias or n for n, f in model.model_fields.items()] if model else []
        message = _describe({**err, "loc": clean}, known)
        if clean in out and not out[clean].startswith(_TYPE_MISMATCH):
            continue  # one line per location; a type mismatch gives way to a specific message
        if clean in out and message.startswith(_TYPE_MISMATCH):   # union: "a number or a list"
            before, _, got = out[clean].partition(", got ")
            what = message.partition(", got ")[0].removeprefix("must be ")
            if what not in before:
                message = f"{before} or {what}, got {got}"
        out[clean] = message
    # a union member that failed only because the value had another type is noise
    # when a deeper location explains the real problem
    deeper = {other[:k] for other in out for k in range(len(other))}   # strict prefixes of a location
    return [(loc, msg) for loc, msg in out.items() if not (msg.startswith(_TYPE_MISMATCH) and loc in deeper)]


def _clean(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the discriminator / union-branch names pydantic inserts into locations."""
    return tuple(p for p in loc if not (isinstance(p, str) and (p in NODE_MODELS or p in CLAUSE_MODELS or p.startswith(
        ("float", "list[", "dict[", "constrained", "function")) or p in _BRANCHES)))


_BRANCHES = frozenset({"str", "int", "bool", "none", "is-instance[TooBig]"})


def _closest_key(key: str, known: list[str]) -> str | None:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return close[0]
    # a bare name missing its unit suffix: capacity -> capacity_mcm
    stems = [k for k in known if any(k == key + sfx for sfx in _SUFFIXES)]
    return stems[0] if stems else None


_SUFFIXES = tuple(SUFFIX_UNITS)
_TYPE_MISMATCH = ("must be a number", "must be a list", "must be a table", "must be text",
                  "must be a whole number", "must be true or false", "must be a finite number")
_TWELVE = {"evaporation_mm", "monthly_mcm", "scale", "energy_target_gwh", "target_storage_mcm",
           "salinity_mg_l"}
