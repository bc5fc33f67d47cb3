"""-v and -vv show waterdesk's own log lines; other libraries' lines (Pyomo's DEBUG
output of every model it builds) appear only with --debug."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from waterdesk.cli.main import configure_logging

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "chu-talas" / "baseline.toml"


@pytest.fixture
def restore_logging():
    root, own = logging.getLogger(), logging.getLogger("waterdesk")
    saved = (root.level, own.level, list(root.handlers))
    yield
    root.setLevel(saved[0])
    own.setLevel(saved[1])
    root.handlers[:] = saved[2]


@pytest.mark.parametrize("verbose, quiet, debug, own, others", [
    (0, False, False, logging.WARNING, logging.WARNING),
    (1, False, False, logging.INFO, logging.WARNING),
    (2, False, False, logging.DEBUG, logging.WARNING),
    (5, False, False, logging.DEBUG, logging.WARNING),
    (0, False, True, logging.DEBUG, logging.DEBUG),
    (2, True, False, logging.ERROR, logging.ERROR),
])
def test_levels_of_waterdesk_and_of_other_libraries(restore_logging, verbose, quiet, debug, own, others):
    configure_logging(verbose, quiet, debug)
    assert logging.getLogger("waterdesk.simulate").getEffectiveLevel() == own
    assert logging.getLogger("pyomo.core").getEffectiveLevel() == others
    assert logging.getLogger("numba.core.ssa").getEffectiveLevel() == others


def _stderr(*flags: str, tmp_path: Path) -> list[str]:
    # the step-LP cache off, so that Pyomo declares the model (and logs) in every run
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WATERDESK_CACHE_DIR": ""}
    out = subprocess.run([sys.executable, "-m", "waterdesk", *flags, "run", "--quiet", str(SCENARIO),
                          "-o", str(tmp_path / "r.nc")], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stderr.splitlines()


def test_vv_shows_only_waterdesk_lines_and_debug_adds_pyomo(tmp_path):
    lines = _stderr("-vv", tmp_path=tmp_path)
    assert any(line.startswith("INFO: baseline: routed natural flows") for line in lines), lines
    # waterdesk's lines carry no logger name; another library's would ("DEBUG: pyomo.core: ...")
    foreign = re.compile(r"^[A-Z]+: (?!baseline:)[A-Za-z_]\w*(\.\w+)*: ")
    assert lines and not [line for line in lines if foreign.match(line)], lines[:5]
    debug = _stderr("--debug", tmp_path=tmp_path)
    assert any(line.startswith("DEBUG: pyomo.") for line in debug), debug[:5]
    assert len(debug) > len(lines)
