"""Read TOML and remember on which line each table and key was written.

``tomllib`` gives values but no positions; error messages must point to a line,
so this module scans the text once and records, for each key path such as
``("node", 3, "capacity_mcm")``, the line it starts on.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waterdesk.errors import InputError, Problem

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")

Path_ = tuple[str | int, ...]


@dataclass
class TomlDocument:
    """Parsed TOML with a key-path -> line map."""

    path: Path
    data: dict[str, Any]
    lines: dict[Path_, int] = field(default_factory=dict)
    text: bytes = b""

    def line(self, *where: str | int) -> int | None:
        """Line of the deepest known prefix of `where` (1-based), or None."""
        key: Path_ = tuple(where)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None


def _scan_lines(text: str) -> dict[Path_, int]:
    lines: dict[Path_, int] = {}
    counters: dict[str, int] = {}
    table: Path_ = ()
    depth = 0  # inside a multi-line array or inline table
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0] if '"' not in raw and "'" not in raw else raw
        if depth == 0:
            head = _HEADER.match(raw)
            if head and not _KEY.match(raw):
                name = tuple(part.strip().strip("\"'") for part in head.group(2).split("."))
                if head.group(1) == "[[":
                    idx = counters.get(".".join(name), -1) + 1
                    counters[".".join(name)] = idx
                    table = (*name, idx)
                else:
                    table = name
                lines.setdefault(table, number)
                continue
            key = _KEY.match(raw)
            if key:
                parts = tuple(p.strip("\"'") for p in key.group(1).split("."))
                lines.setdefault((*table, *parts), number)
        depth += _bracket_balance(line)
        depth = max(depth, 0)
    return lines


def _bracket_balance(line: str) -> int:
    """Net count of open brackets outside strings, to follow multi-line values."""
    balance = 0
    in_str: str | None = None
    for ch in line:
        if in_str:
            if ch == in_str:
                in_str = None
            continue
        if ch in "\"'":
            in_str = ch
        elif ch == "#":
            break
        elif ch in "[{":
            balance += 1
        elif ch in "]}":
            balance -= 1
    # a header line like [[node]] is balanced; key lines open/close arrays
    return balance


def read_toml(path: str | Path) -> TomlDocument:
    """Parse a TOML file; a syntax error becomes an `InputError` with its line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(path, None, "", "file not found")]) from None
    except OSError as err:
        raise InputError([Problem(path, None, "", f"cannot read: {err.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError([Problem(path, None, "", f"not UTF-8 text ({err.reason})")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", None)
        message = str(err)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        if match:
            line = line or int(match.group(1))
            message = message[: match.start()].strip()
        message = _explain(message, text, line)
        raise InputError([Problem(path, line, "", f"TOML syntax error: {message}")]) from None
    return TomlDocument(path=path, data=data, lines=_scan_lines(text), text=raw)


def _explain(message: str, text: str, line: int | None) -> str:
    """Plainer words for tomllib's terse messages."""
    if message == "Illegal character '\\n'" or message.startswith("Illegal character '\\n'"):
        return 'string not closed before the end of the line (missing ")'
    if message.startswith("Cannot overwrite a value") and line:
        lines = text.splitlines()
        key = _KEY.match(lines[line - 1]) if line <= len(lines) else None
        if key:
            name = key.group(1)
            first = None
            for number in range(line - 1, 0, -1):
                candidate = lines[number - 1]
                if _HEADER.match(candidate) and not _KEY.match(candidate):
                    break
                match = _KEY.match(candidate)
                if match and match.group(1) == name:
                    first = number
            where = f" (first on line {first})" if first else ""
            return f"key {name} is set twice in this table{where}"
    return message
