"""Accounts a water commission reads, computed from result Datasets (docs/REFERENCE.md §8):
the compliance ledger, equity and outcome measures (`accounts`), and side-by-side
comparisons of several results (`compare`). Definitions: docs/ANALYSIS.md."""
from __future__ import annotations

from waterdesk.analysis.accounts import Column, Table, jain_index, ledger, outcomes
from waterdesk.analysis.compare import compare

__all__ = ["Column", "Table", "ledger", "outcomes", "jain_index", "compare"]
