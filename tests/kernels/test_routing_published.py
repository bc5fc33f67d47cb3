"""Regression tests for the Muskingum channel-routing kernel against a published table.

Published example
-----------------
V. M. Ponce, *Engineering Hydrology: Principles and Practices* (Prentice Hall, 1989;
online edition http://uon.sdsu.edu/enghydro/engineering_hydrology_09.php#muskingum),
Chapter 9, Muskingum method, Table 9-1.  The example number and printed page were not
verified (the book page itself could not be read from here); the numbers were read from
the complete transcription of Table 9-1 (all six columns) in

    https://github.com/langevin-usgs/modflow6/blob/f7ec68e2cde8e705048f8e7740eb6bfcf0819f7c/autotest/test_swf_mmr_ponce.py

(the MODFLOW 6 SWF/MMR autotest "Ponce -- Muskingum routing example").  The table is
stored in ``tests/data/muskingum_published.csv`` (columns ``step,inflow,outflow_published``).

Parameters: K = 2 d, X = 0.1, dt = 1 d, so C0 = 0.6/4.6 = 0.1304, C1 = 1.4/4.6 = 0.3043,
C2 = 2.6/4.6 = 0.5652.  The table's own product columns (C0*I2, C1*I1, C2*O1) confirm these
coefficients, and they sum to the printed outflow in every row.  The example starts from
steady state (O[0] = I[0] = 352.0), as the kernel does.

No sub-stepping: 2*K*X = 0.4 d <= dt = 1 d <= 2*K*(1 - X) = 3.6 d, so the kernel must apply
the single-step recursion with exactly these coefficients (asserted below).

Tolerance for the published comparison: ``atol = 0.1`` (one unit in the last printed digit).
Half a unit (0.05) is NOT achievable by an exact implementation: each printed outflow is
the sum of three products that the book itself rounded to 0.1 (some of them off the exact
product by up to 0.065), and that rounded outflow is carried into the next row.  The
exact recursion differs from the printed column by at most 0.057 (step 18; 0.052 at
step 13; the other 24 of 26 rows are within 0.05).  A tolerance of 0.1 still rejects any
real bug (wrong coefficient, inflow lag off by one step, hours/days mix-up), which moves
the outflow by tens to thousands of m3/s.

The table ends before the wave has passed (last outflow 418.0 over a 352.0 base), so
volume conservation is checked by extending the published inflow with its base flow.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from waterdesk.kernels.routing import muskingum_series

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "muskingum_published.csv"

# Ponce Table 9-1 parameters, already in days (the kernel's time unit).
K_DAYS = 2.0
X = 0.1
DT_DAYS = 1.0

# One unit in the last printed digit (the book prints flows to 0.1); see module docstring.
PUBLISHED_ATOL = 0.1


def _load_published() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with DATA_FILE.open(newline="") as fh:
        rows = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(rows)
    assert reader.fieldnames == ["step", "inflow", "outflow_published"]
    step, inflow, outflow = [], [], []
    for rec in reader:
        step.append(int(rec["step"]))
        inflow.append(float(rec["inflow"]))
        outflow.append(float(rec["outflow_published"]))
    return (
        np.asarray(step, dtype=np.int64),
        np.asarray(inflow, dtype=np.float64),
        np.asarray(outflow, dtype=np.float64),
    )


def _in_single_step_range(dt: float, k: float, x: float) -> bool:
    """2Kx <= dt <= 2K(1-x): all three Muskingum coefficients are non-negative."""
    return 2.0 * k * x <= dt <= 2.0 * k * (1.0 - x)


def _reference_muskingum(inflow, dt: float, k: float, x: float) -> list[float]:
    """Independent pure-Python Muskingum recursion (no numpy, no numba), for comparison."""
    denom = 2.0 * k * (1.0 - x) + dt
    c0 = (dt - 2.0 * k * x) / denom
    c1 = (dt + 2.0 * k * x) / denom
    c2 = (2.0 * k * (1.0 - x) - dt) / denom
    values = [float(v) for v in inflow]
    out = [values[0]]  # steady initial state: O[0] = I[0]
    for t in range(1, len(values)):
        out.append(c0 * values[t] + c1 * values[t - 1] + c2 * out[t - 1])
    return out


def test_published_table_is_well_formed():
    step, inflow, outflow = _load_published()
    assert len(step) == 26
    np.testing.assert_array_equal(step, np.arange(26))
    # Steady initial state, as assumed by the kernel.
    assert outflow[0] == inflow[0] == 352.0
    # dt lies inside [2KX, 2K(1-X)], so no sub-stepping.
    assert _in_single_step_range(DT_DAYS, K_DAYS, X)


def test_muskingum_matches_ponce_table_9_1():
    """Kernel reproduces Ponce Table 9-1 (K = 2 d, X = 0.1, dt = 1 d) to 0.1 m3/s.

    Source and tolerance: see the module docstring and the CSV header.
    """
    _, inflow, published = _load_published()
    assert _in_single_step_range(DT_DAYS, K_DAYS, X)  # no sub-stepping

    out = muskingum_series(inflow, DT_DAYS, K_DAYS, X)

    assert isinstance(out, np.ndarray)
    assert out.dtype == np.float64
    assert out.shape == inflow.shape
    assert out[0] == inflow[0]
    np.testing.assert_allclose(out, published, rtol=0.0, atol=PUBLISHED_ATOL)


def test_muskingum_conserves_the_published_volume_when_the_wave_is_let_pass():
    """Extend the published inflow with its base flow until the wave has passed:
    routed volume above base equals inflow volume above base (conservation law)."""
    _, inflow, _ = _load_published()
    base = inflow[0]
    padded = np.concatenate([inflow, np.full(200, base)])
    out = muskingum_series(padded, DT_DAYS, K_DAYS, X)
    assert np.sum(out - base) == pytest.approx(np.sum(padded - base), rel=1e-9)


# (K days, x, dt days), each strictly inside 2Kx < dt < 2K(1-x).
_TRIPLES = [
    (1.0, 0.2, 1.0),   # 0.40 < 1.0 < 1.60
    (2.5, 0.1, 1.0),   # 0.50 < 1.0 < 4.50
    (0.6, 0.3, 0.5),   # 0.36 < 0.5 < 0.84
]


@pytest.mark.parametrize("k_days, x, dt_days", _TRIPLES)
def test_kernel_matches_pure_python_reference(k_days, x, dt_days):
    assert 2.0 * k_days * x < dt_days < 2.0 * k_days * (1.0 - x)

    rng = np.random.default_rng(20240531)
    n = 400
    t = np.arange(n, dtype=np.float64)
    # Base flow + a flood wave + noise: strictly positive, with sharp rises and recessions.
    inflow = (
        50.0
        + 900.0 * np.exp(-0.5 * ((t - 80.0) / 12.0) ** 2)
        + rng.uniform(0.0, 200.0, size=n)
    ).astype(np.float64)

    expected = np.asarray(_reference_muskingum(inflow, dt_days, k_days, x))
    out = muskingum_series(inflow, dt_days, k_days, x)

    assert out.dtype == np.float64
    assert out.shape == inflow.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=0.0)
