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
        if key and key not in self.lines:
            # a table of tables ([[reachs]] is at ("reachs", 0)): the first line inside it
            inside = [line for k, line in self.lines.items() if k[: len(key)] == key]
            if inside:
                return min(inside)
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


def _bracket_steps(line: str) -> list[int]:
    """+1 for each opening and -1 for each closing bracket or brace of a line, outside
    strings and before a comment, in order."""
    steps: list[int] = []
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
            steps.append(1)
        elif ch in "]}":
            steps.append(-1)
    return steps


def _bracket_balance(line: str) -> int:
    """Net count of open brackets outside strings, to follow multi-line values."""
    # a header line like [[node]] is balanced; key lines open/close arrays
    return sum(_bracket_steps(line))


#: largest TOML file read [bytes]; the largest shipped basin file is 38 kB, so a file of
#: more than 25 times that is not one (and is refused at once instead of parsed for seconds)
MAX_BYTES = 1024 * 1024
#: deepest nesting of arrays and tables; the files need 3 (area_curve = [[s, a], ...])
MAX_DEPTH = 16


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a file ("not found", "is a directory, not a file",
    ...), or None when it is a regular file."""
    import os
    import stat

    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "not found"
    except OSError as err:
        return "is a symlink loop" if err.errno == 40 else f"cannot be read ({(err.strerror or str(err)).lower()})"
    except ValueError:                       # e.g. a NUL byte in the name
        return "has an impossible name"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a device or pipe)"
    return None


def read_file_bytes(path: Path, what: str = "file", limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, or an `InputError` saying plainly why not: not
    found, a directory, a symlink loop, not a regular file, too large, unreadable."""
    why = file_problem(path)
    if why is not None:
        raise InputError([Problem(path, None, "", f"{what} {why}" if why == "not found" else why)])
    size = path.stat().st_size
    if size > limit:
        raise InputError([Problem(path, None, "", f"{what} too large: {size / 2**20:.1f} MiB "
                                                  f"(at most {limit / 2**20:g} MiB)")])
    try:
        with open(path, "rb") as fh:
            return fh.read(limit + 1)
    except OSError as err:
        raise InputError([Problem(path, None, "", f"cannot read {what}: {(err.strerror or str(err)).lower()}")]) from None


def _too_deep(text: str) -> int | None:
    """Line where brackets nest deeper than MAX_DEPTH (outside strings), or None."""
    depth = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if "[" not in raw and "{" not in raw and "]" not in raw and "}" not in raw:
            continue
        for step in _bracket_steps(raw):
            depth = max(depth + step, 0)
            if depth > MAX_DEPTH:
                return number
        if _HEADER.match(raw) and not _KEY.match(raw):
            depth = 0
    return None


def _data_depth(value: Any) -> int:
    """Nesting depth of parsed data, without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return deepest


def read_toml(path: str | Path) -> TomlDocument:
    """Parse a TOML file; a syntax error becomes an `InputError` with its line. Files
    that are no TOML text (binary, huge, nested beyond `MAX_DEPTH`, a directory, a
    symlink loop) are refused with one line too."""
    path = Path(path)
    raw = read_file_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError([Problem(path, raw[: err.start].count(b"\n") + 1, "", f"not UTF-8 text ({err.reason} at byte {err.start}); "
                                                  "basin and scenario files are TOML text")]) from None
    deep = _too_deep(text)
    if deep is not None:
        raise InputError([Problem(path, deep, "", f"arrays or tables nested more than {MAX_DEPTH} deep")])
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise InputError([Problem(path, None, "", f"arrays or tables nested more than {MAX_DEPTH} deep")]) from None
    except tomllib.TOMLDecodeError as err:
        line: int | None = getattr(err, "lineno", None)
        message = str(err)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        if match:
            line = line or int(match.group(1))
            message = message[: match.start()].strip()
        message = _explain(message, text, line)
        raise InputError([Problem(path, line, "", f"TOML syntax error: {message}")]) from None
    lines = _scan_lines(text)
    if _data_depth(data) > MAX_DEPTH:     # deep through dotted keys or [a.b.c...] headers
        deepest = max((k for k in lines), key=len, default=())
        raise InputError([Problem(path, lines.get(deepest), "",
                                  f"arrays or tables nested more than {MAX_DEPTH} deep")])
    return TomlDocument(path=path, data=data, lines=lines, text=raw)


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
