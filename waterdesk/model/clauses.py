"""Agreement clauses (SPEC §6): one frozen dataclass per kind. Never opens a file.

Semantics: docs/AGREEMENTS.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from waterdesk.calendar import NAMED_SEASONS


@dataclass(frozen=True)
class Clause:
    """What every clause has: an id, an accounting period, hard or soft at a priority."""

    id: str
    kind: str
    period: str = "step"
    months: tuple[int, ...] = ()
    hard: bool = False
    priority: int | None = None
    description: str = ""
    parties: tuple[str, ...] = ()


@dataclass(frozen=True)
class MinFlow(Clause):
    """Flow at `node` >= `min_m3s` in every step."""

    node: str = ""
    min_m3s: tuple[float, ...] = (0.0,) * 12   # per calendar month

    def where(self) -> str:
        return f"node {self.node}"


@dataclass(frozen=True)
class MinVolume(Clause):
    """Volume passing `node` over the window >= `min_mcm`."""

    node: str = ""
    min_mcm: float = 0.0

    def where(self) -> str:
        return f"node {self.node}"


@dataclass(frozen=True)
class Share(Clause):
    """Each country's withdrawals against its share of a reference volume."""

    of: str = ""                      # "natural_flow:<node>" or "flow:<node>"
    shares: dict[str, float] = field(default_factory=dict)
    mode: str = "entitlement"         # cap | entitlement | exact
    tolerance: float = 0.0
    demands: tuple[str, ...] | None = None   # only these demands count

    @property
    def reference(self) -> tuple[str, str]:
        kind, node = self.of.split(":", 1)
        return kind, node

    def where(self) -> str:
        return f"{self.mode} of {self.of} for " + ", ".join(f"{c} {s:g}" for c, s in self.shares.items())


@dataclass(frozen=True)
class MaxWithdrawal(Clause):
    """Withdrawals of a country (and/or sector) over the window <= `max_mcm`."""

    country: str | None = None
    sector: str | None = None
    max_mcm: float = 0.0
    demands: tuple[str, ...] | None = None   # only these demands count

    def where(self) -> str:
        return " ".join(x for x in (self.country, self.sector) if x) + " withdrawals"


@dataclass(frozen=True)
class Split(Clause):
    """At `node`, the listed reaches carry fixed `ratios` of their total."""

    node: str = ""
    ratios: dict[str, float] = field(default_factory=dict)

    def where(self) -> str:
        return f"node {self.node}"


@dataclass(frozen=True)
class Release(Clause):
    """Releases (incl. spill) of reservoir `node` over the window within [min, max]."""

    node: str = ""
    min_mcm: float | None = None
    max_mcm: float | None = None

    def where(self) -> str:
        return f"reservoir {self.node}"


@dataclass(frozen=True)
class Storage(Clause):
    """Storage of reservoir `node` at the end of the window >= `min_mcm`."""

    node: str = ""
    min_mcm: float = 0.0

    def where(self) -> str:
        return f"reservoir {self.node}"


CLAUSE_CLASSES: dict[str, type[Clause]] = {
    "min_flow": MinFlow, "min_volume": MinVolume, "share": Share, "max_withdrawal": MaxWithdrawal,
    "split": Split, "release": Release, "storage": Storage,
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
