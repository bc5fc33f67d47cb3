"""The extracted step LP, kept on disk between runs.

Declaring the step LP in Pyomo and extracting its matrix is cheap once Pyomo is loaded,
but loading Pyomo is not (about a second). The extracted `StepLP` is therefore stored as
one ``.npz`` file per declaration, named by a SHA-256 key of everything the declaration
reads:

- every field of the `Network` (structure, ids, numbers; the ids make keys of different
  basins differ even where their structure agrees);
- the clause rows (clause, sense, terms, role, party) and each clause (kind, fields);
- the source of `formulation.py` and of this module, the waterdesk version and the
  Pyomo, NumPy and SciPy versions, so a change of the declaring code gives a new key.

A hit loads the arrays (``allow_pickle=False``) and checks the key and the node ids stored
in the file; anything unexpected is a miss. A miss declares the model with Pyomo as
before and writes the file (a private temporary file renamed into place, so concurrent
runs never read a half-written one). Directory: ``$WATERDESK_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/waterdesk``, else ``~/.cache/waterdesk``; files go under ``lp/``. An
unwritable directory only costs the saving (logged at debug level); set
``WATERDESK_CACHE_DIR`` to an empty string to turn the cache off.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from waterdesk._version import __version__
from waterdesk.io.npz import file_bytes, read_npz, write_npz

if TYPE_CHECKING:
    from waterdesk.allocate.formulation import StepLP
    from waterdesk.model.clauses import Clause, ClauseRow
    from waterdesk.model.network import Network

log = logging.getLogger(__name__)

#: layout of the stored file; bump when it changes
FORMAT = 1
_HERE = Path(__file__).resolve().parent
_CODE = (_HERE / "formulation.py", _HERE / "lpcache.py")


def cache_dir() -> Path | None:
    """Where the step LPs are kept (None: cache turned off)."""
    env = os.environ.get("WATERDESK_CACHE_DIR")
    if env is not None:
        return Path(env) / "lp" if env.strip() else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "waterdesk" / "lp"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:   # pragma: no cover - a dependency
        return "-"


def _add(h: Any, tag: str, value: Any) -> None:
    """Feed one named value to the hash, unambiguously (tag, type, length, bytes)."""
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        payload = f"{data.dtype.str}{data.shape}".encode() + data.tobytes()
    else:
        payload = repr(value).encode()
    h.update(f"{tag}:{type(value).__name__}:{len(payload)}:".encode())
    h.update(payload)


@functools.lru_cache(maxsize=4)
def _code_digest(code: "tuple[Path, ...]") -> str:
    """SHA-256 of the cache format, the versions and the declaring code, once per process
    (the code a process runs is the code it imported: 10 ms a run of package metadata)."""
    h = hashlib.sha256()
    _add(h, "format", FORMAT)
    _add(h, "waterdesk", __version__)
    for dist in ("pyomo", "numpy", "scipy"):
        _add(h, dist, _version(dist))
    for path in code:
        _add(h, path.name, file_bytes(path))
    return h.hexdigest()


def declaration_key(net: "Network", rows: "Sequence[ClauseRow]", clauses: "Sequence[Clause]") -> str:
    """SHA-256 (hex) of everything that shapes the step LP, and of the code declaring it."""
    h = hashlib.sha256()
    _add(h, "code", _code_digest(tuple(_CODE)))
    for f in dataclasses.fields(net):
        _add(h, "net." + f.name, getattr(net, f.name))
    for i, row in enumerate(rows):
        _add(h, f"row{i}", (row.clause, row.sense, tuple(row.terms), row.role, row.party))
    for i, clause in enumerate(clauses):
        _add(h, f"clause{i}", (type(clause).__name__, repr(clause)))
    return h.hexdigest()


def _arrays(lp: "StepLP", key: str, net: "Network") -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"format": np.array(FORMAT), "key": np.array(key),
                                  "node_ids": np.array(net.node_ids, dtype=str)}
    a = sparse.csc_matrix(lp.a_matrix)
    out.update(a_data=a.data, a_indices=a.indices, a_indptr=a.indptr, a_shape=np.array(a.shape))
    for f in dataclasses.fields(lp):
        if f.name != "a_matrix":
            out["f_" + f.name] = np.asarray(getattr(lp, f.name))
    return out


def _from_arrays(z: Any, key: str, net: "Network") -> "StepLP | None":
    from waterdesk.allocate.formulation import StepLP

    if int(z["format"]) != FORMAT or str(z["key"]) != key or tuple(z["node_ids"].tolist()) != net.node_ids:
        return None
    values: dict[str, Any] = {}
    for f in dataclasses.fields(StepLP):
        if f.name == "a_matrix":
            values[f.name] = sparse.csc_matrix((z["a_data"], z["a_indices"], z["a_indptr"]),
                                               shape=tuple(int(n) for n in z["a_shape"]))
        else:
            value = z["f_" + f.name]
            values[f.name] = int(value) if value.ndim == 0 else value
    return StepLP(**values)


def load(path: Path, key: str, net: "Network") -> "StepLP | None":
    """The stored LP of `key`, or None when there is none usable."""
    arrays = read_npz(path)
    if arrays is None:
        return None
    try:
        return _from_arrays(arrays, key, net)
    except Exception as err:   # foreign file (missing or mistyped fields): declare again
        log.debug("step LP cache %s unusable (%s); declaring again", path, err)
        return None


def save(path: Path, lp: "StepLP", key: str, net: "Network") -> None:
    """Store `lp` at `path`; a failure only costs the saving (logged)."""
    write_npz(path, _arrays(lp, key, net))


def cached(net: "Network", rows: "list[ClauseRow]", clauses: "tuple[Clause, ...]",
           build: "Callable[[Network, list[ClauseRow], tuple[Clause, ...]], StepLP]") -> "StepLP":
    """The step LP of this declaration: stored, or built with `build` and stored."""
    directory = cache_dir()
    if directory is None:
        return build(net, rows, clauses)
    key = declaration_key(net, rows, clauses)
    path = directory / f"{key}.npz"
    lp = load(path, key, net)
    if lp is not None:
        log.debug("step LP from %s", path)
        return lp
    lp = build(net, rows, clauses)
    save(path, lp, key, net)
    log.debug("step LP declared and stored in %s", path)
    return lp
