"""Stochastic multi-site monthly inflows: a lognormal, periodic multi-site AR(1).

Method (docs/ENSEMBLES.md)
--------------------------
Let ``Q[t, j]`` be the historical monthly mean flow [m3 s-1] of site ``j`` in month ``t``
and ``m(t)`` its calendar month. Fitted statistics, all from the historical file:

* offset ``c[j]`` = 0 when every flow of site ``j`` is > 0; otherwise (zero flows occur)
  ``c[j]`` = 1 % of the site's mean flow (1e-3 m3 s-1 if that mean is 0), so that the
  logarithm exists. Generated flows are ``max(exp(x) - c, 0)``: zero months come back as
  zero or small flows. No shipped basin has a zero flow, so ``c = 0`` for all of them.
* ``mean[m, j]``, ``std[m, j]``: mean and standard deviation (ddof 1) of ``Q + c`` per
  calendar month; the lognormal with these two moments (method of moments) has
  ``s² = ln(1 + (std / mean)²)`` and ``mu = ln(mean) - s² / 2`` (12 × n_site each).
* ``z[t, j] = (ln(Q[t, j] + c[j]) - mu[m(t), j]) / s[m(t), j]`` (``z = 0`` where ``s = 0``).
* ``M0[m] = corr(z[t], z[t])`` over the months ``t`` with ``m(t) = m`` (lag-0, site × site);
  ``M1[m] = corr(z[t], z[t-1])`` over the transitions into month ``m``; its diagonal
  ``r[m, j]`` is each site's lag-1 autocorrelation per calendar-month transition.
* ``A[m] = M1[m] M0[m-1]⁺`` (pseudo-inverse) and
  ``G[m] = M0[m] - A[m] M1[m]ᵀ`` (the residual covariance of regressing ``z[t]`` on
  ``z[t-1]``; positive semi-definite; eigenvalues below 0 from rounding are set to 0);
  ``B[m] = cholesky(G[m] + λ I)`` with the smallest ``λ`` in 0, 1e-10, 1e-9, … that works
  (recorded as ``correlation_ridge``).

Recursion, per member, with ``w[t] ~ N(0, I)`` independent standard normal vectors:

    z[0]  = cholesky(M0[m(0)]) w[0]
    z[t]  = A[m(t)] z[t-1] + B[m(t)] w[t]
    Q*[t] = max(exp(mu[m(t)] + s[m(t)] ∘ z[t]) - c, 0)

Then ``cov(z[t]) = A M0[m-1] Aᵀ + G = M0[m]`` and ``cov(z[t], z[t-1]) = A M0[m-1] = M1[m]``:
every ``z`` stays N(0, 1), so flows keep the monthly mean and standard deviation (exactly,
for lognormal flows), and the log flows keep their lag-0 cross-site correlation and lag-1
auto- (and cross-) correlation of every month transition. A per-site AR(1) with
cross-correlated innovations (diagonal ``A``) was tried first: the shipped series (a
persistent annual factor shared by the sites of a river, times independent monthly noise)
make its innovation correlation matrix strongly indefinite (smallest eigenvalue down to
-1.2), so it could not keep the cross-site correlation; the full ``A`` can.

Streams: ``numpy.random.SeedSequence(seed).spawn(members)``; member ``k`` draws from
``default_rng(child[k])``, so members are independent and member ``k`` is the same
whatever the number of members asked for.

Monthly data only: no shipped basin has dekad or daily inflows (a dekad model step reads
monthly data as piecewise constant, so a generated monthly file serves dekad scenarios).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from waterdesk.errors import InputError, Problem
from waterdesk.io.history import find_basin_inflows

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["InflowStatistics", "fit_statistics", "generate_inflows", "find_basin_inflows"]


@dataclass(frozen=True)
class InflowStatistics:
    """Statistics fitted to a historical monthly series (see the module docstring).
    Row ``m`` of the per-month arrays is calendar month ``m`` (0 = January).

    offset_m3s : shape (n_site,)                c
    mean_m3s, std_m3s : (12, n_site)            monthly mean and std of flows [m3 s-1]
    mean_log, std_log : (12, n_site)            mu, s of the lognormal
    lag1 : (12, n_site)                         r, the diagonal of M1
    corr : (12, n_site, n_site)                 M0, lag-0 correlation of z
    lag1_corr : (12, n_site, n_site)            M1, corr(z[t], z[t-1]) into month m
    transition : (12, n_site, n_site)           A
    innovation_cov : (12, n_site, n_site)       B Bᵀ, after any ridge
    ridge : float                               largest lambda added (0 if none)
    """

    node: tuple[str, ...]
    offset_m3s: NDArray[np.float64]
    mean_m3s: NDArray[np.float64]
    std_m3s: NDArray[np.float64]
    mean_log: NDArray[np.float64]
    std_log: NDArray[np.float64]
    lag1: NDArray[np.float64]
    corr: NDArray[np.float64]
    lag1_corr: NDArray[np.float64]
    transition: NDArray[np.float64]
    innovation_cov: NDArray[np.float64]
    ridge: float


def _month(start: NDArray[np.datetime64]) -> NDArray[np.int64]:
    """Calendar month 0..11 of each date."""
    return (np.asarray(start).astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)


def standardise(values_m3s: NDArray[np.float64], month: NDArray[np.int64],
                stats: InflowStatistics) -> NDArray[np.float64]:
    """``z`` of flows (shape (..., n_time, n_site)) under fitted statistics."""
    x = np.log(values_m3s + stats.offset_m3s)
    s = stats.std_log[month]
    return np.where(s > 0, (x - stats.mean_log[month]) / np.where(s > 0, s, 1.0), 0.0)


def _corr(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Correlation matrix of the columns of ``a``; a constant column is uncorrelated."""
    n = a.shape[1]
    out = np.eye(n)
    live = a.std(axis=0) > 0
    if live.sum() > 1:
        out[np.ix_(live, live)] = np.corrcoef(a[:, live], rowvar=False)
    return out


def fit_statistics(values_m3s: NDArray[np.float64], start: NDArray[np.datetime64],
                   node: tuple[str, ...]) -> InflowStatistics:
    """Fit c, mu, s, M0, M1, A and B Bᵀ to a monthly series ``values_m3s`` (n_time, n_site) whose
    periods start at ``start`` (consecutive months). See the module docstring."""
    values = np.asarray(values_m3s, dtype=np.float64)
    month = _month(start)
    n_site = values.shape[1]
    site_mean = values.mean(axis=0)
    offset = np.where((values <= 0).any(axis=0), np.where(site_mean > 0, 0.01 * site_mean, 1e-3), 0.0)
    mean_m3s = np.zeros((12, n_site))
    std_m3s = np.zeros((12, n_site))
    for m in range(12):
        rows = values[month == m]
        mean_m3s[m] = rows.mean(axis=0)
        std_m3s[m] = rows.std(axis=0, ddof=1)
    std_m3s[std_m3s < 1e-12 * np.maximum(mean_m3s, 1.0)] = 0.0
    var_log = np.log1p((std_m3s / (mean_m3s + offset)) ** 2)
    mean_log = np.log(mean_m3s + offset) - var_log / 2
    std_log = np.sqrt(var_log)
    empty = np.zeros(0)
    partial = InflowStatistics(tuple(node), offset, mean_m3s, std_m3s, mean_log, std_log,
                               empty, empty, empty, empty, empty, 0.0)
    z = standardise(values, month, partial)
    corr = np.zeros((12, n_site, n_site))
    cross = np.zeros((12, n_site, n_site))
    for m in range(12):
        corr[m] = _corr(z[month == m])
        t = np.flatnonzero(month[1:] == m) + 1
        both = _corr(np.concatenate([z[t], z[t - 1]], axis=1))
        cross[m] = both[:n_site, n_site:]
    lag1 = np.diagonal(cross, axis1=1, axis2=2).copy()
    transition = np.zeros((12, n_site, n_site))
    innovation = np.zeros((12, n_site, n_site))
    ridge = 0.0
    for m in range(12):
        before = corr[(m - 1) % 12]
        transition[m] = cross[m] @ np.linalg.pinv(before)
        g = corr[m] - transition[m] @ cross[m].T
        g = (g + g.T) / 2
        eigval, eigvec = np.linalg.eigh(g)
        g = (eigvec * np.clip(eigval, 0.0, None)) @ eigvec.T     # PSD part (rounding, pair counts)
        innovation[m], lam = _positive_definite(g)
        ridge = max(ridge, lam)
    return InflowStatistics(tuple(node), offset, mean_m3s, std_m3s, mean_log, std_log, lag1,
                            corr, cross, transition, innovation, ridge)


def _positive_definite(g: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    """``G`` itself if Cholesky works, else ``G + λ I`` for the smallest λ in
    1e-10, 1e-9, … that makes it positive definite."""
    ridge = 0.0
    fixed = g
    while True:
        try:
            np.linalg.cholesky(fixed)
            return fixed, ridge
        except np.linalg.LinAlgError:
            ridge = 1e-10 if ridge == 0.0 else ridge * 10.0
            fixed = g + ridge * np.eye(len(g))


def simulate_z(stats: InflowStatistics, month: NDArray[np.int64],
               rng: np.random.Generator) -> NDArray[np.float64]:
    """One member's standardised log flows ``z`` (n_time, n_site) by the recursion."""
    n_site = len(stats.node)
    w = rng.standard_normal((len(month), n_site))
    chol = np.linalg.cholesky(stats.innovation_cov)            # (12, n_site, n_site)
    first, _ = _positive_definite(stats.corr[month[0]])
    z = np.empty_like(w)
    z[0] = np.linalg.cholesky(first) @ w[0]
    for t in range(1, len(month)):
        m = month[t]
        z[t] = stats.transition[m] @ z[t - 1] + chol[m] @ w[t]
    return z


def generate_inflows(basin: str | Path, years: int, members: int, seed: int,
                     start: str | None = None) -> "xr.Dataset":
    """Generate ``members`` independent ``years``-long monthly inflow series for every
    inflow site of a basin, preserving its per-site monthly means and standard deviations
    (of log flows), lag-1 autocorrelation per month transition and cross-site correlation.

    Parameters
    ----------
    basin : str or Path
        a basin directory, its ``basin.toml``, an inflow NetCDF, or a shipped basin's name
        (``"syr-darya"``). The historical series must be monthly (dekad or daily data are
        refused: no shipped basin has any).
    years, members : int
        length of each series (``years * 12`` months) and number of members (>= 1).
    seed : int
        seed of ``numpy.random.SeedSequence``; the same seed gives the same Dataset.
    start : str, optional
        first month (``"YYYY-MM"`` or ``"YYYY-MM-01"``); default: the historical start.

    Returns
    -------
    xarray.Dataset
        ``inflow(member, time, node)`` float64 [m3 s-1], CF-1.10 attributes; write it with
        ``waterdesk.io.inflows.write_inflows``.

    Examples
    --------
    >>> ds = generate_inflows("chu-talas", years=2, members=3, seed=1)
    >>> ds["inflow"].dims, ds.sizes["time"]
    (('member', 'time', 'node'), 24)
    """
    import xarray as xr

    from waterdesk.io.inflows import read_inflows

    problems = []
    for name, value, low in (("years", years, 1), ("members", members, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            problems.append(Problem(Path(str(basin)), None, name, f"must be an integer >= {low}, got {value!r}"))
    first: np.datetime64 | None = None
    if start is not None:
        try:
            day = np.datetime64(str(start), "D")
        except ValueError:
            day = None
        if day is None or day != day.astype("datetime64[M]").astype("datetime64[D]"):
            problems.append(Problem(Path(str(basin)), None, "start",
                                    f"must be a month 'YYYY-MM' or 'YYYY-MM-01', got {start!r}"))
        else:
            first = day
    try:
        path = find_basin_inflows(basin)
    except InputError as err:
        raise InputError(problems + list(err.problems)) from None
    data, read_problems = read_inflows(path)
    problems += read_problems
    if problems or data is None:
        raise InputError(problems)
    hist_start = data.start.astype("datetime64[D]")
    months = hist_start.astype("datetime64[M]")
    monthly = bool(np.all(hist_start == months.astype("datetime64[D]"))
                   and np.all(np.diff(months.astype(np.int64)) == 1))
    if not monthly:
        raise InputError([Problem(path, None, "time", "the generator needs a monthly series "
                                  "(periods starting on the 1st of consecutive months)")])
    if len(hist_start) < 24:
        raise InputError([Problem(path, None, "time", f"needs at least 24 months, got {len(hist_start)}")])
    stats = fit_statistics(data.values_m3s, hist_start, data.node)

    first_month = (first if first is not None else hist_start[0]).astype("datetime64[M]")
    time_m = first_month + np.arange(int(years) * 12)
    month = _month(time_m)
    children = np.random.SeedSequence(int(seed)).spawn(int(members))
    out = np.empty((int(members), len(time_m), len(stats.node)))
    for k, child in enumerate(children):
        z = simulate_z(stats, month, np.random.default_rng(child))
        flow = np.exp(stats.mean_log[month] + stats.std_log[month] * z) - stats.offset_m3s
        out[k] = np.maximum(flow, 0.0)

    source_name = Path(str(basin)).name
    ds = xr.Dataset(
        {"inflow": (("member", "time", "node"), out,
                    {"units": "m3 s-1", "long_name": "external inflow at inflow nodes (monthly mean)",
                     "standard_name": "water_volume_transport_in_river_channel"})},
        coords={"member": ("member", np.arange(int(members), dtype=np.int32),
                           {"long_name": "ensemble member"}),
                "time": ("time", time_m.astype("datetime64[ns]"), {"long_name": "start of period"}),
                "node": ("node", np.array(stats.node, dtype=object), {"long_name": "inflow node id"})},
        attrs={
            "Conventions": "CF-1.10",
            "title": f"{source_name}: STOCHASTIC monthly inflows ({members} members x {years} years)",
            "institution": "waterdesk project",
            "source": f"waterdesk.generate.generate_inflows fitted to {path.name} "
                      f"({data.start[0]} to {data.start[-1]}); not observed data",
            "synthetic": "yes",
            "generation_method": "lognormal periodic multi-site AR(1) (Matalas): z = (ln(Q + c) - mu[month]) / "
                                 "s[month], mu and s from the monthly mean and std of the flows (method of "
                                 "moments); z[t] = A[month] z[t-1] + B[month] w[t], w ~ N(0, I), "
                                 "A = M1 M0[month-1]^-1, B B^T = M0 - A M1^T, M0 and M1 the historical lag-0 and "
                                 "lag-1 correlations of z per calendar month (docs/ENSEMBLES.md)",
            "random_generator": "numpy.random.default_rng (PCG64), SeedSequence(seed).spawn(members)",
            "random_seed": int(seed),
            "zero_flow_offset_m3s": "; ".join(f"{n}={c:g}" for n, c in zip(stats.node, stats.offset_m3s)),
            "correlation_ridge": float(stats.ridge),
            "history": f"waterdesk inflows generate {source_name} --years {years} --members {members} "
                       f"--seed {seed}" + (f" --start {start}" if start is not None else ""),
        },
    )
    return ds
