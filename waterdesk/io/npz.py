"""Arrays kept on disk as ``.npz`` (the step LP cache): read without pickles, written to a
private temporary file renamed into place so concurrent runs never read a half-written one."""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def read_npz(path: Path) -> "dict[str, np.ndarray] | None":
    """The arrays stored at `path`, or None when there is no usable file (missing, damaged
    or foreign: the caller computes them again)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except FileNotFoundError:
        return None
    except Exception as err:   # damaged or foreign file (zip, npy errors)
        log.debug("%s unusable (%s)", path, err)
        return None


def write_npz(path: Path, arrays: "dict[str, np.ndarray]") -> bool:
    """Store `arrays` at `path` (temporary file, then rename); False, logged, when the
    directory cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]  # (numpy's stub types **kwds as allow_pickle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        log.debug("%s not written (%s)", path, err)
        return False
    return True


def file_bytes(path: Path) -> bytes:
    """The bytes of a file that keys a cache entry (the declaring code's source)."""
    return path.read_bytes()
