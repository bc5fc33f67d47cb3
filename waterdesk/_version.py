"""The installed package's version (``0+unknown`` in a source tree without install)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("waterdesk")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"
