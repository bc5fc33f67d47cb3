"""`Sweep` lives in `waterdesk.model.sweep` (a description of runs, no execution)."""
from __future__ import annotations

from waterdesk.model.sweep import MEMBER_KEY, Sweep

__all__ = ["Sweep", "MEMBER_KEY"]
