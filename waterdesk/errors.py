"""Exceptions and the `Problem` record shared by every layer.

This module imports nothing from waterdesk, so any layer may raise these.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "WaterdeskError",
    "Problem",
    "InputError",
    "InfeasibleError",
    "SolverError",
    "WaterdeskWarning",
]


class WaterdeskError(Exception):
    """Base class of every error waterdesk raises on purpose."""


class WaterdeskWarning(UserWarning):
    """Warnings about inputs that run but deserve a look."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Printed as ``file:line: where: message``, e.g.
    ``basins/chu-talas/basin.toml:27: node "kirov".capacity_mcm: must be > 0, got -550.0``.
    """

    path: Path | str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        loc = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        if self.where:
            return f"{loc}: {self.where}: {self.message}"
        return f"{loc}: {self.message}"


class InputError(WaterdeskError, ValueError):
    """Bad input: one or more `Problem` records, all found before any computing."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = sorted(problems, key=lambda p: (str(p.path), p.line or 0, p.where))
        super().__init__("\n".join(map(str, self.problems)))


class InfeasibleError(WaterdeskError):
    """The constraints cannot all hold; names what conflicts."""

    def __init__(self, message: str, clauses: Sequence[str] = (), bounds: Sequence[str] = ()):
        self.clauses = list(clauses)
        self.bounds = list(bounds)
        super().__init__(message)


class SolverError(WaterdeskError):
    """The LP solver failed for a reason other than infeasibility (a bug or numerics)."""
