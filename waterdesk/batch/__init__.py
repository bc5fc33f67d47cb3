"""Sweeps: many runs of one scenario with varied keys, serially, on a process pool or
on a Dask cluster, resumable, summarised in one Dataset (docs/REFERENCE.md §9, docs/BATCH.md).

Examples
--------
>>> from waterdesk.batch import Sweep, run_sweep
>>> sweep = Sweep("scenarios/chu-talas/baseline.toml",
...               vary={"inflows.scale": [0.8, 1.0], "demands.scale.KG": [1.0, 1.2]})
>>> [run_id for run_id, _ in sweep.runs()]
['r0000', 'r0001', 'r0002', 'r0003']
>>> import tempfile
>>> one_year = Sweep("scenarios/chu-talas/baseline.toml",
...                  vary={"inflows.scale": [0.5, 1.0], "scenario.end": ["2001-09-30"]})
>>> summary = run_sweep(one_year, tempfile.mkdtemp())   # workers=2: a process pool
>>> [str(s) for s in summary["status"].values]
['ok', 'ok']
>>> dry, wet = summary["delivered"].sum("country").values
>>> bool(dry < wet)
True
"""
from __future__ import annotations

from waterdesk.batch.execute import STATUSES, run_sweep
from waterdesk.batch.sweep import Sweep

__all__ = ["Sweep", "run_sweep", "STATUSES"]
