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
    # typing: the kernels' argument groups are typing.NamedTuple (issue 13: no 40-parameter
    # kernels); still no waterdesk module outside kernels and no third-party library
    allowed = ("numpy", "numba", "waterdesk.kernels", "__future__", "typing")
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


def test_clause_kinds_are_told_apart_only_by_their_classes():
    """One class per clause kind (model/clauses.py): nowhere else does code ask a clause
    which kind it is, by isinstance on a kind's class or by comparing `.kind` to a name."""
    from waterdesk.model.clauses import CLAUSE_CLASSES

    names = {cls.__name__ for cls in CLAUSE_CLASSES.values()}
    kinds = set(CLAUSE_CLASSES)
    found = []
    for path in _modules():
        if path == PACKAGE / "model" / "clauses.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                if {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)} & names:
                    found.append(f"{path.name}:{node.lineno} isinstance")
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "kind":
                consts = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)}
                if consts & kinds:
                    found.append(f"{path.name}:{node.lineno} .kind ==")
    assert not found, found


def test_every_clause_kind_defines_its_rows_targets_and_booking():
    from waterdesk.model.clauses import CLAUSE_CLASSES, Clause

    for kind, cls in CLAUSE_CLASSES.items():
        for method in ("rows", "row_target", "book"):
            assert getattr(cls, method) is not getattr(Clause, method), f"{kind} lacks {method}"


PUBLIC_API = ("load_scenario", "run", "validate", "ledger", "compare", "report", "Sweep", "run_sweep",
              "Scenario", "Basin", "open_result")


def test_the_public_api_exports_what_the_command_line_needs():
    import waterdesk as wd
    from waterdesk.model.basin import Basin
    from waterdesk.model.scenario import Scenario
    from waterdesk.model.sweep import Sweep

    missing = [name for name in PUBLIC_API if name not in wd.__all__ or not hasattr(wd, name)]
    assert not missing, missing
    assert (wd.Scenario, wd.Basin, wd.Sweep) == (Scenario, Basin, Sweep)
    assert all(hasattr(wd, name) for name in wd.__all__)


@pytest.mark.parametrize("path", [p for p in _modules() if p.parent.name in ("analysis", "batch", "io", "model",
                                                                           "allocate", "kernels")],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_inner_layers_never_import_the_top_level_package(path):
    """analysis/, batch/ and the layers below import the modules they use, not `waterdesk`
    itself (whose functions are the public entry points built on them)."""
    tree = ast.parse(path.read_text("utf-8"))
    bad = [n.lineno for n in ast.walk(tree)
           if (isinstance(n, ast.Import) and any(a.name == "waterdesk" for a in n.names))
           or (isinstance(n, ast.ImportFrom) and n.module == "waterdesk" and n.level == 0)]
    assert not bad, f"{path.name} imports waterdesk at lines {bad}"


@pytest.mark.parametrize("path", _modules("analysis"), ids=lambda p: p.name)
def test_analysis_does_not_import_batch(path):
    """The batch executor uses analysis (summary statistics), never the other way round."""
    assert not {m for m in _imports(path) if m.startswith("waterdesk.batch")}


def test_no_submodule_shadows_a_public_function():
    """`import waterdesk.x` sets the attribute `waterdesk.x`: a module named like a public
    function (validate.py and wd.validate) would replace the function once imported."""
    import waterdesk as wd

    clash = [name for name in wd.__all__ if (PACKAGE / f"{name}.py").exists() or (PACKAGE / name).is_dir()]
    assert not clash, clash
