"""`Sweep`: a scenario, the keys to vary and their values; built in code or from a file."""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Sweep", "MEMBER_KEY"]

#: the scenario key that picks a member of an inflow ensemble
MEMBER_KEY = "inflows.member"


@dataclass(frozen=True)
class Sweep:
    """One run per combination of the varied values (the cartesian product, in the
    order the keys are given; the last key varies fastest).

    Parameters
    ----------
    scenario : path of the scenario file
    vary : mapping of dotted scenario key -> values (see `waterdesk.io.overrides`)
    members : stochastic inflow members per combination, generated once from the
        basin's inflows (`waterdesk.generate`) into ``out_dir/inflows-members.nc``
    seed : seed of the stochastic inflows
    """

    scenario: Path
    vary: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    members: int | None = None
    seed: int = 0
    path: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scenario", Path(self.scenario))
        object.__setattr__(self, "vary", {str(k): list(v) for k, v in self.vary.items()})

    def keys(self) -> list[str]:
        """The varied keys; with members, ``inflows.member`` last (it varies fastest)."""
        return list(self.vary) + ([MEMBER_KEY] if self.members is not None else [])

    def runs(self) -> list[tuple[str, dict[str, Any]]]:
        """(run id, overrides) of every run, in a fixed order: ``r0000``, ``r0001``, ...

        With members, each combination of the varied values is run once per member
        (``inflows.member = 0 .. members-1``)."""
        keys = self.keys()
        values = {**self.vary, MEMBER_KEY: list(range(self.members or 0))}
        combos = list(itertools.product(*(values[k] for k in keys)))
        width = max(4, len(str(len(combos) - 1)))
        return [(f"r{i:0{width}d}", dict(zip(keys, combo))) for i, combo in enumerate(combos)]
