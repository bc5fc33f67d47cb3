"""The one way waterdesk writes an output file: whole or not at all.

Every output (result NetCDF, comparison, summary, report page, inflow file, a batch
run's record) is written to ``<path>.part`` beside its target, flushed to disk, and
renamed over the target only when complete (`os.replace` is atomic on one file system),
so a failed or interrupted write never leaves a half-written file under the real name.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_bytes", "write_text", "PART_SUFFIX"]

#: suffix of the file being written
PART_SUFFIX = ".part"


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield the temporary path to write to; on success it replaces `path`, on any
    error (or interrupt) it is removed and `path` is left as it was.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as part:
    ...     _ = part.write_text("whole")
    >>> target.read_text(), part.exists()
    ('whole', False)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + PART_SUFFIX)
    try:
        yield part
        with open(part, "rb") as fh:        # the bytes reach the disk before the rename
            os.fsync(fh.fileno())
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    with atomic_path(path) as part:
        part.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically; returns the path."""
    return write_bytes(path, text.encode("utf-8"))
