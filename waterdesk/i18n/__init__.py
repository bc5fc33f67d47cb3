"""Message catalogues and number formats of the page and the tables (issue 15).

Every heading, column name, note, unit label and figure text of `waterdesk report`,
`ledger`, `compare` and the `run` summary comes from one gettext catalogue per language,
``waterdesk/i18n/<lang>.po`` (msgid: a key such as ``col.requested``; msgstr: the text,
with ``{name}`` fields). The catalogues are read with Babel's PO reader (no compiled
``.mo`` to keep in step), and numbers are formatted by Babel's CLDR patterns: ``1,234.5``
in English, ``1 234,5`` in Russian (a no-break space groups the thousands). CSV and JSON
output never pass through here: they keep their machine keys.

>>> ru = catalogue("ru")
>>> ru.num(-1234.54), ru.num(-0.04), catalogue("en").num(1234.5, 1, sign=True)
('-1\\xa0234,5', '0,0', '+1,234.5')
>>> ru("unit.mcm")
'млн м³'
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["LANGS", "Catalogue", "catalogue", "messages"]

LANGS = ("en", "ru")
_HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def messages(lang: str) -> dict[str, str]:
    """key -> text of a language's catalogue (``<lang>.po`` next to this module, read by
    waterdesk.io.catalogue)."""
    from waterdesk.io.catalogue import read_messages

    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    return read_messages(_HERE / f"{lang}.po", lang)


class Catalogue:
    """The messages and number format of one language: ``cat("key", field=value)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._messages = messages(lang)

    def __call__(self, key: str, **fields: Any) -> str:
        try:
            text = self._messages[key]
        except KeyError:
            raise KeyError(f"message {key!r} is missing from waterdesk/i18n/{self.lang}.po") from None
        return text.format(**fields) if fields else text

    def has(self, key: str) -> bool:
        return key in self._messages

    def term(self, group: str, word: str) -> str:
        """A data word (a sector, a node or clause kind) in this language; a word the
        catalogue does not know (a user's own sector name) is shown as it is."""
        return self._messages.get(f"{group}.{word}", word)

    def unit(self, unit: str) -> str:
        """A unit label (``mcm`` -> ``млн м³`` in Russian); unknown units as they are."""
        return self._messages.get(f"unit.{unit}", unit) if unit else ""

    def num(self, value: float | int | None, decimals: int = 1, sign: bool = False) -> str:
        """A number by the language's convention, rounded to `decimals`; never "-0";
        "-" for none or NaN."""
        from babel.numbers import format_decimal

        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "-"
        rounded = round(float(value), decimals)
        if rounded == 0.0:
            rounded = 0.0            # no negative zero
        digits = "0" * decimals
        pattern = "#,##0" + (f".{digits}" if decimals > 0 else "")
        if sign and rounded != 0.0:        # a zero difference is "0.0", not "+0.0"
            pattern = f"+{pattern};-{pattern}"
        return str(format_decimal(rounded, format=pattern, locale=self.lang))

    def sci(self, value: float, digits: int = 1) -> str:
        """A number in scientific notation (``1.3e-13``; ``1,3e-13`` in Russian)."""
        text = f"{float(value):.{digits}e}"
        return text.replace(".", ",") if self.lang == "ru" else text

    def parse(self, text: str) -> float:
        """A number as `num` wrote it, back to a float (for tests and readers)."""
        from babel.numbers import parse_decimal

        return float(parse_decimal(text.replace("\u2212", "-").lstrip("+"), locale=self.lang, strict=False))


@lru_cache(maxsize=None)
def catalogue(lang: str = "en") -> Catalogue:
    """The catalogue of `lang` ("en" or "ru"); ValueError for another."""
    return Catalogue(lang)
