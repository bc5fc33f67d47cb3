"""Read a gettext message catalogue (``waterdesk/i18n/<lang>.po``) with Babel's PO reader:
files are read at the edges (waterdesk.io); waterdesk.i18n formats what this returns."""
from __future__ import annotations

from pathlib import Path

__all__ = ["read_messages"]


def read_messages(path: str | Path, locale: str) -> dict[str, str]:
    """msgid -> msgstr of a .po file (the header entry, with an empty msgid, left out)."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as fh:
        cat = read_po(fh, locale=locale)
    return {str(m.id): str(m.string) for m in cat if m.id}
