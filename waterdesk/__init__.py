"""waterdesk: route, store and divide a shared river's water between countries.

Examples
--------
>>> import waterdesk as wd
>>> scenario = wd.load_scenario("scenarios/chu-talas/baseline.toml")
>>> scenario.basin.countries
('KG', 'KZ')
>>> wd.validate(["scenarios/chu-talas/baseline.toml"])
[]

The public API is `__all__`: the command line (`waterdesk.cli`) uses nothing else.
Model classes (`Scenario`, `Basin`, `Sweep`) are loaded on first use, so
``import waterdesk`` stays cheap.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waterdesk._version import __version__
from waterdesk.errors import (
    InfeasibleError,
    InputError,
    Problem,
    SolverError,
    WaterdeskError,
    WaterdeskWarning,
)

if TYPE_CHECKING:
    import xarray as xr

    from waterdesk.analysis.accounts import Table
    from waterdesk.model.basin import Basin
    from waterdesk.model.scenario import Scenario
    from waterdesk.model.sweep import Sweep

#: names loaded on first use (PEP 562), module they come from
_LAZY = {"Scenario": "waterdesk.model.scenario", "Basin": "waterdesk.model.basin",
         "Sweep": "waterdesk.model.sweep", "TOL_MCM": "waterdesk.analysis.accounts"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'waterdesk' has no attribute {name!r}")


__all__ = [
    "__version__",
    "load_basin",
    "load_scenario",
    "load_sweep",
    "validate",
    "run",
    "ledger",
    "compare",
    "report",
    "schematic",
    "to_text",
    "Sweep",
    "run_sweep",
    "Scenario",
    "Basin",
    "open_result",
    "open_result_or_summary",
    "write_result",
    "run_summary",
    "exchange_table",
    "generate_inflows",
    "json_schema",
    "TOL_MCM",
    "WaterdeskError",
    "InputError",
    "InfeasibleError",
    "SolverError",
    "Problem",
    "WaterdeskWarning",
]


def load_basin(path: str | Path) -> "Basin":
    """Read and check a basin file; raises `InputError` listing every problem."""
    from waterdesk.io.load import load_basin as _load

    return _load(path)


def load_scenario(path: str | Path, overrides: "Mapping[str, Any] | None" = None) -> "Scenario":
    """Read and check a scenario file with its basin and inflows; raises `InputError`.

    `overrides` sets dotted keys (``{"inflows.scale": 0.8}``) before the checks."""
    from waterdesk.pipeline import load_scenario as _load

    return _load(path, overrides)


def run(scenario: "Scenario | str | Path", output: str | Path | None = None,
        progress: Callable[[int], None] | None = None,
        members: "Sequence[int] | None" = None) -> "xr.Dataset":
    """Run a scenario and return its result Dataset (docs/REFERENCE.md §8).

    Parameters
    ----------
    scenario : Scenario or path to a scenario file
    output : path, optional
        also write the result there (atomically) as NetCDF.
    progress : callable, optional
        called with the number of steps completed since the last call (member-steps
        with `members`).
    members : sequence of int, optional
        members of the scenario's inflow ensemble (a NetCDF file with a ``member``
        dimension, as ``waterdesk inflows generate`` writes) to run together; the result
        then has a ``member`` dimension whose coordinate holds these numbers. A scenario
        with ``inflows.members`` or ``inflows.generate`` runs all its members by default. In step
        mode all members go through one stacked LP per step
        (`waterdesk.simulate.simulate_members`).

    An ensemble run, e.g. the share of members in which some demand falls short::

        sc = wd.load_scenario("baseline.toml", {"inflows.file": "ens.nc"})
        ds = wd.run(sc, members=range(20))
        (ds["shortage"].sum(["time", "demand"]) > 0).mean("member")
    """
    from waterdesk.pipeline import run as _run

    return _run(scenario, output, progress, members)


def compare(results: "object", by: str = "country", units: str = "mcm", force: bool = False,
            output: str | Path | None = None) -> "Table":
    """Side-by-side totals per item and water year, with differences against the first
    result (docs/ANALYSIS.md). `results`: {name: Dataset} or a list of result paths.
    `output`: also write the values and differences there as NetCDF (atomically).

    Raises
    ------
    InputError
        for files that are not waterdesk results, or results of different basins
        (unless ``force=True``).
    """
    from waterdesk.analysis.compare import compare as _compare, to_dataset

    table = _compare(results, by=by, units=units, force=force)  # type: ignore[arg-type]
    if output is not None:
        from waterdesk.io.netcdf import write_dataset

        write_dataset(to_dataset(table), output)
    return table


def open_result(path: str | Path) -> "xr.Dataset":
    """Open a result file written by waterdesk."""
    from waterdesk.io.netcdf import open_result as _open

    return _open(path)


def write_result(ds: "xr.Dataset", path: str | Path) -> Path:
    """Write a result Dataset as NetCDF, atomically (``.part`` then rename)."""
    from waterdesk.io.netcdf import write_result as _write

    return _write(ds, path)


def load_sweep(path: str | Path) -> "Sweep":
    """Read and check a sweep file (docs/BATCH.md); raises `InputError` listing every problem."""
    from waterdesk.io.sweep import load_sweep as _load

    return _load(path)


def validate(paths: "Sequence[str | Path] | str | Path",
             notes: "list[str] | None" = None) -> list[Problem]:
    """Every problem of basin or scenario files (an empty list when all are good); the
    same checks as `load_scenario`, which raises them instead. ``notes``, when given, gets
    one line per good file that deserves a word without being wrong (reservoirs without
    evaporation)."""
    from waterdesk.checks import without_evaporation
    from waterdesk.pipeline import load_any

    problems: list[Problem] = []
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        try:
            loaded = load_any(path)
        except InputError as err:
            problems += err.problems
            continue
        dry = without_evaporation(getattr(loaded, "basin", loaded))
        if dry and notes is not None:
            notes.append(f"{path}: note: no evaporation (no area_curve or evaporation_mm) at "
                         f"reservoir(s) {', '.join(dry)}")
    return problems


def open_result_or_summary(path: str | Path) -> "tuple[str, xr.Dataset]":
    """("result", Dataset) of a result file, or ("summary", Dataset) of a batch summary (DIR
    or DIR/summary.nc) or of an ensemble result (a ``member`` dimension: its members'
    statistics, `waterdesk.analysis.summary.summary_of_members`)."""
    from waterdesk.io.summary import open_result_or_summary as _open

    kind, ds = _open(path)
    if kind == "result" and "member" in ds.dims:
        from waterdesk.analysis.summary import summary_of_members

        summary = summary_of_members(ds)
        summary.attrs["report_label"] = Path(path).stem
        return "summary", summary
    return kind, ds


def ledger(result: "xr.Dataset | str | Path", units: str = "mcm") -> "dict[str, Table]":
    """The compliance ledger of a result (a Dataset or a result file): per party and
    water year entitlement, delivered, deviation and balance; per clause compliance;
    demand met, equity and reservoir outcomes (docs/ANALYSIS.md). Of a batch summary
    (DIR or DIR/summary.nc, or an ensemble result): the probability tables.

    Each value is a `Table` with ``to_text()``, ``to_csv()`` and ``to_dict()``."""
    from waterdesk.analysis import accounts, ensemble
    from waterdesk.io.summary import is_summary, run_opener

    if isinstance(result, (str, Path)):
        kind, ds = open_result_or_summary(result)
    elif "member" in result.dims:
        from waterdesk.analysis.summary import summary_of_members

        kind, ds = "summary", summary_of_members(result)
    else:
        kind, ds = ("summary" if is_summary(result) else "result"), result
    if kind == "summary":
        return ensemble.ensemble_tables(ds, units, open_run=run_opener(ds))
    return {**accounts.ledger(ds, units), **accounts.outcomes(ds, units)}


def report(results: "object", path: str | Path = "report.html", units: str = "mcm", lang: str = "en") -> Path:
    """Write one self-contained HTML page of results (Datasets or result files), or of
    one batch summary (a Dataset, DIR or DIR/summary.nc); returns its path (docs/REPORT.md).
    `lang`: "en" or "ru" (a batch summary's page is in English)."""
    from waterdesk.analysis.ensemble import report_summary
    from waterdesk.analysis.report import report as _report
    from waterdesk.io.summary import is_summary, run_opener

    items = list(results) if isinstance(results, (list, tuple)) else [results]
    if len(items) == 1:
        summary = None
        if isinstance(items[0], (str, Path)):
            kind, ds = open_result_or_summary(items[0])
            summary = ds if kind == "summary" else None
        elif is_summary(items[0]):
            summary = items[0]
        if summary is not None:
            return report_summary(summary, path, units=units, open_run=run_opener(summary))
    return _report(items, path, units=units, lang=lang)


def schematic(basin: "Basin | str | Path", path: str | Path, result: "xr.Dataset | str | Path | None" = None,
              lang: str = "en") -> Path:
    """Draw the schematic of a basin (a Basin, or a basin or scenario file) to `path`
    (.svg or .png, atomically); with `result` (a Dataset or result file of that
    basin), reach widths show its mean flows. Returns the path (docs/REPORT.md).

    Raises `InputError` for a bad file, another suffix, or a result of another network."""
    from waterdesk.analysis.schematic import mean_flows, net_of_basin, schematic_figure
    from waterdesk.i18n import catalogue
    from waterdesk.io.atomic import atomic_path
    from waterdesk.pipeline import load_any

    suffix = Path(path).suffix.lower()
    if suffix not in (".svg", ".png"):
        raise InputError([Problem(Path(path), None, "", f"the schematic is written as .svg or .png, not {suffix!r}")])
    if isinstance(basin, (str, Path)):
        loaded = load_any(basin)
        basin = getattr(loaded, "basin", loaded)
    net = net_of_basin(basin)  # type: ignore[arg-type]
    flows = None
    if result is not None:
        ds = open_result(result) if isinstance(result, (str, Path)) else result
        flows = mean_flows(ds)
        if set(flows) != {r[0] for r in net.reaches}:
            raise InputError([Problem(Path(str(result)) if isinstance(result, (str, Path)) else "result", None, "",
                                      f"its reaches are not those of basin {net.title!r}: a result of another network")])
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "waterdesk", "svg.fonttype": "path", "font.family": "DejaVu Sans"}):
        fig = schematic_figure(net, catalogue(lang), flows)
        with atomic_path(path) as part:
            fig.savefig(part, format=suffix[1:], dpi=150,
                        metadata={"Date": None, "Creator": None} if suffix == ".svg" else {"Software": None})
    return Path(path)


def to_text(tables: "Sequence[Table]", units: str = "mcm", lang: str = "en",
            sources: "Mapping[str, str] | None" = None) -> str:
    """Tables (of `ledger` or `compare`) as text for a reader, in `lang` ("en" or "ru"):
    translated headers and notes, numbers by the language's convention, the ledger as
    country x water year, a comparison with its results named A, B, C (`sources`: name ->
    file, for the legend), every line at most 132 characters (wider tables wrap into blocks)."""
    from waterdesk.analysis import tables as tx
    from waterdesk.i18n import catalogue

    cat = catalogue(lang)
    return "\n\n".join(tx.compare_text(t, cat, units, sources=dict(sources or {})) if t.name.startswith("compare_")
                        else tx.table_text(t, cat, units) for t in tables)


def run_summary(result: "xr.Dataset", target: str | Path = "", seconds: float = 0.0, lang: str = "en") -> str:
    """The text summary `waterdesk run` prints: per country requested, supplied, % met;
    reservoirs; clauses; salinity; the largest mass-balance error (ensemble runs: over
    members). `lang`: "en" or "ru" (texts and numbers; an ensemble run's summary is in English)."""
    from waterdesk.analysis.run_summary import summary

    return summary(result, Path(target), seconds, lang)


def exchange_table(result: "xr.Dataset | str | Path", label: str | None = None) -> "Table | None":
    """The energy-water exchange account of a result as a `Table` (None if the run had
    no ``[exchange]``); `label` names the result (default: the file stem or scenario)."""
    from waterdesk.analysis.exchange import exchange_table as _table

    if isinstance(result, (str, Path)):
        label = label or Path(result).stem
        result = open_result(result)
    return _table(result, label or str(result.attrs.get("scenario", "result")))


def generate_inflows(basin: str | Path, years: int, members: int, seed: int, start: str | None = None,
                     output: str | Path | None = None) -> "xr.Dataset":
    """Stochastic monthly inflow members of a basin (a directory, its basin.toml, an
    inflow file or a shipped basin's name) keeping its monthly statistics, lag-1 and
    cross-site correlation (docs/ENSEMBLES.md); also written to `output` when given."""
    from waterdesk.generate import generate_inflows as _generate

    ds = _generate(basin, years=years, members=members, seed=seed, start=start)
    if output is not None:
        from waterdesk.io.inflows import write_inflows

        write_inflows(ds, Path(output))
    return ds


def json_schema(kind: str) -> "dict[str, Any]":
    """The JSON Schema of a kind of file: "basin", "scenario" or "sweep"."""
    if kind == "sweep":
        from waterdesk.io.sweep import sweep_json_schema

        return sweep_json_schema()
    from waterdesk.io.schema import json_schema as _schema

    return _schema(kind)


def run_sweep(sweep: "Sweep | str | Path", out_dir: str | Path, workers: int = 1,
              scheduler: str | None = None, progress: Callable[[int], None] | None = None) -> "xr.Dataset":
    """Run every combination of a sweep (one result file per run in `out_dir`, resumable)
    and return the summary Dataset, also written to ``out_dir/summary.nc`` (docs/BATCH.md)."""
    from waterdesk.batch.execute import run_sweep as _run

    return _run(sweep, out_dir, workers=workers, scheduler=scheduler, progress=progress)
