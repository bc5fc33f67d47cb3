"""The message catalogues (waterdesk/i18n/*.po): every message has a translation, the
code asks only for messages that exist, numbers follow each language's convention."""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from waterdesk.i18n import LANGS, Catalogue, catalogue, messages

PACKAGE = Path(__file__).resolve().parents[1] / "waterdesk"
NBSP = "\u00a0"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_a_translation_with_the_same_fields():
    en, ru = messages("en"), messages("ru")
    assert len(en) > 150
    missing = sorted(set(en) ^ set(ru))
    assert not missing, f"keys in one catalogue only: {missing}"
    empty = sorted(k for lang in LANGS for k, v in messages(lang).items() if not v.strip())
    assert not empty, f"messages without text: {empty}"
    for key in en:
        assert _fields(en[key]) == _fields(ru[key]), key


def test_the_russian_catalogue_is_russian():
    """Every Russian message that is a word or a sentence has Cyrillic in it (none was left
    in English); unit symbols, letters and formats are exempt."""
    ru = messages("ru")
    latin_ok = re.compile(r"^[\s{}\w%/().,:;=+\-\u2212'\"]*$", re.ASCII)
    for key, text in ru.items():
        if key.startswith(("unit.", "compare.legend")) or key in ("status.n.a.",):
            continue
        plain = re.sub(r"\{[a-z_]+\}", "", text)
        if latin_ok.match(plain) and re.search(r"[A-Za-z]{3,}", plain.replace("waterdesk", "")
                                               .replace("SHA", "").replace("max_withdrawal", "")):
            pytest.fail(f"{key} is not translated: {text!r}")


def test_icwc_terms():
    ru = messages("ru")
    assert ru["kind.max_withdrawal"] == "лимит водозабора"
    assert ru["kind.release"] == "попуск"
    assert ru["col.met"] == "водообеспеченность"
    assert "вегетационный период" in ru["page.units"].lower()
    assert "межвегетационный период" in ru["page.units"].lower()


def test_every_key_the_code_asks_for_exists():
    """Keys written literally in the package (cat("..."), c("...")) are in both catalogues;
    a missing key raises KeyError naming the catalogue."""
    pattern = re.compile(r"""\b(?:cat|c|self\.cat|page\.cat)\(\s*["']([a-z_]+\.[A-Za-z0-9_.%/ -]+)["']""")
    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        used |= set(pattern.findall(path.read_text("utf-8")))
    assert len(used) > 60
    for lang in LANGS:
        missing = sorted(used - set(messages(lang)))
        assert not missing, f"{lang}.po lacks {missing}"
    with pytest.raises(KeyError, match="ru.po"):
        catalogue("ru")("no.such.key")


def test_every_column_of_every_ledger_table_has_a_name():
    from waterdesk.analysis.accounts import Column

    names = set()
    for path in (PACKAGE / "analysis").glob("*.py"):
        names |= set(re.findall(r'Column\("([a-z_0-9]+)"', path.read_text("utf-8")))
    from waterdesk.analysis.ensemble import STATUS_ORDER

    names |= set(STATUS_ORDER)                  # the status table's columns, one per run status
    assert {"entitlement", "delivered", "balance", "jain_index"} <= names
    for lang in LANGS:
        cat = catalogue(lang)
        for name in names:
            assert cat.has(f"col.{name}"), f"{lang}: col.{name}"
            assert Column(name).name == name


@pytest.mark.parametrize("lang, value, decimals, sign, text", [
    ("en", 1234.5, 1, False, "1,234.5"),
    ("ru", 1234.5, 1, False, f"1{NBSP}234,5"),
    ("ru", -1234567.25, 2, False, f"-1{NBSP}234{NBSP}567,25"),
    ("en", -0.04, 1, False, "0.0"),          # no negative zero
    ("ru", -0.0, 3, False, "0,000"),
    ("en", -0.04, 1, True, "0.0"),           # nor a signed one
    ("en", 2.25, 1, True, "+2.2"),
    ("ru", -2.5, 0, True, "-2"),
    ("en", float("nan"), 1, False, "-"),
])
def test_numbers_by_language(lang, value, decimals, sign, text):
    cat = catalogue(lang)
    assert cat.num(value, decimals, sign) == text
    if text != "-":
        assert cat.parse(text) == pytest.approx(round(value, decimals) + 0.0)


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language"):
        Catalogue("de")
