"""The package's layering (STYLE §3.1), checked on the source, and its typed core."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "waterdesk"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(sub: str = "") -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("kernels"), ids=lambda p: p.name)
def test_kernels_import_only_numpy_numba_and_kernels(path):
    allowed = ("numpy", "numba", "waterdesk.kernels", "__future__")
    bad = {m for m in _imports(path) if not m.startswith(allowed)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", [p for p in _modules() if "cli" not in p.parts], ids=lambda p: p.name)
def test_only_the_cli_imports_click(path):
    assert not any(m == "click" or m.startswith("click.") for m in _imports(path))


@pytest.mark.parametrize("path", _modules("model") + [PACKAGE / "errors.py"], ids=lambda p: p.name)
def test_domain_model_and_errors_never_touch_io_solvers_or_xarray(path):
    forbidden = ("waterdesk.io", "waterdesk.allocate", "waterdesk.cli", "xarray", "pyomo", "highspy",
                 "click", "netCDF4")
    bad = {m for m in _imports(path) if m.startswith(forbidden)}
    assert not bad, f"{path.name} imports {sorted(bad)}"
    if path.name == "errors.py":
        assert not {m for m in _imports(path) if m.startswith("waterdesk")}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mypy") is None and not any(
    (Path(p) / "mypy").exists() for p in sys.path), reason="mypy is in the [dev] extra")
def test_typed_core_passes_mypy_strict():
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "waterdesk/model", "waterdesk/io",
                          "waterdesk/errors.py", "waterdesk/cli"], cwd=PACKAGE.parent,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
