"""Risk and relative-performance statistics of return series.

Inputs are simple returns per period as fractions (see
:mod:`r2k.analytics.returns`); leading missing values are a warm-up and do not
count as periods. Every convention is a parameter: ``periods_per_year`` (252
sessions, 52 weeks, 12 months; vectorbt uses 365 calendar days), ``ddof`` (1:
sample standard deviation, as empyrical and vectorbt; 0: population, as Lean
and Achelis/tulip), and the per-period ``risk_free`` rate.

* annualized volatility: ``std(r, ddof) * sqrt(periods_per_year)``;
* Sharpe ratio: ``mean(r - rf) / std(r - rf, ddof) * sqrt(periods_per_year)``
  (Lean's ``SharpeRatio(n)`` is this over a trailing window with ``ddof=0`` and
  ``periods_per_year=1``, i.e. not annualized);
* beta: ``cov(r, b) / var(b)``; correlation: Pearson's;
* up (down) capture: the annualized return of the series over the periods when
  the benchmark rose (fell), divided by the benchmark's annualized return over
  the same periods (empyrical ``up_capture``/``down_capture``);
  ``periods_per_year=1`` gives the ratio of per-period geometric mean returns
  instead. The annualization does not cancel in the ratio, so it is explicit.

A statistic that needs more observations than are available is NaN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

import numpy as np

from r2k.analytics._inputs import (
    ArrayInput,
    FloatArray,
    Values,
    check_ddof,
    check_periods_per_year,
    polars_like,
    same_length,
    shape_output,
)
from r2k.analytics.returns import annualized_return, parse_returns
from r2k.analytics.variance import rolling_aligned, variance
from r2k.errors import MethodologyError

if TYPE_CHECKING:
    import polars as pl


def _aligned_pair(
    returns: ArrayInput, benchmark: ArrayInput, name: str = "benchmark"
) -> tuple[FloatArray, FloatArray]:
    r, r_start = parse_returns(returns)
    b, b_start = parse_returns(benchmark, name)
    same_length(returns=r, **{name: b})
    start = max(r_start, b_start)
    return r[start:], b[start:]


def annualized_volatility(
    returns: ArrayInput, *, periods_per_year: float = 252, ddof: int = 1
) -> float:
    """Standard deviation of returns scaled by the square root of time.

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions; leading missing values are a warm-up.
    periods_per_year : float, default 252
        Periods per year of the returns (252 sessions, 52 weeks, 12 months).
    ddof : int, default 1
        Delta degrees of freedom of the standard deviation (1: sample, as
        empyrical ``annual_volatility``; 0: population).

    Returns
    -------
    float
        ``std(returns, ddof) * sqrt(periods_per_year)`` as a fraction; NaN with
        no more than ``ddof`` returns.

    Examples
    --------
    >>> round(annualized_volatility([0.01, -0.01, 0.01, -0.01]), 6)
    0.183303
    """
    ppy = check_periods_per_year(periods_per_year)
    d = check_ddof(ddof)
    r, _ = parse_returns(returns)
    return float(np.sqrt(variance(r, ddof=d) * ppy))


@overload
def rolling_volatility(
    returns: pl.Series, window: int, *, periods_per_year: float, ddof: int
) -> pl.Series: ...
@overload
def rolling_volatility(
    returns: Values, window: int, *, periods_per_year: float, ddof: int
) -> FloatArray: ...
def rolling_volatility(
    returns: ArrayInput, window: int, *, periods_per_year: float, ddof: int
) -> pl.Series | FloatArray:
    """Annualized volatility over each trailing window of ``window`` returns.

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions; leading missing values are a warm-up.
    window : int
        Returns per window, including the current one (> ``ddof``).
    periods_per_year : float
        Periods per year of the returns (252 sessions, 52 weeks, 12 months).
    ddof : int
        Delta degrees of freedom (0 reproduces tulipindicators ``volatility``).

    Returns
    -------
    pl.Series or np.ndarray
        Aligned with ``returns``; missing until ``window`` returns are available.
    """
    ppy = check_periods_per_year(periods_per_year)
    r, start = parse_returns(returns)
    vol = rolling_aligned(r, start, window, ddof, factor=ppy, root=True)
    return shape_output(vol, polars_like(returns))


def sharpe_ratio(
    returns: ArrayInput,
    *,
    risk_free: float | ArrayInput,
    periods_per_year: float,
    ddof: int,
) -> float:
    """Mean excess return over its standard deviation, annualized.

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions; leading missing values are a warm-up.
    risk_free : float or array-like or pl.Series
        Risk-free return *per period* (not annual), a constant or a series
        aligned with ``returns``.
    periods_per_year : float
        Periods per year; the ratio is scaled by its square root (1: not
        annualized, as Lean's ``SharpeRatio``).
    ddof : int
        Delta degrees of freedom of the standard deviation (1: empyrical and
        vectorbt; 0: Lean).

    Returns
    -------
    float
        ``mean(r - rf) / std(r - rf, ddof) * sqrt(periods_per_year)``. NaN with
        no more than ``ddof`` returns, or when the excess returns are all zero;
        +/-inf when they are constant but not zero.
    """
    ppy = check_periods_per_year(periods_per_year)
    d = check_ddof(ddof)
    if isinstance(risk_free, int | float | np.integer | np.floating):
        if isinstance(risk_free, bool) or not np.isfinite(risk_free):
            msg = f"`risk_free` must be a finite number or a series; got {risk_free!r}"
            raise MethodologyError(msg)
        r, start = parse_returns(returns)
        excess = r[start:] - float(risk_free)
    else:
        rr, rf = _aligned_pair(returns, risk_free, "risk_free")
        excess = rr - rf
    if excess.size <= d or excess.size == 0:
        return float("nan")
    mean = float(excess.mean())
    std = float(np.sqrt(variance(excess, ddof=d)))
    if std == 0.0:
        return float("nan") if mean == 0.0 else float(np.copysign(np.inf, mean))
    return mean / std * float(np.sqrt(ppy))


def _centred(r: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray] | None:
    if r.size < 2:
        return None
    return r - r.mean(), b - b.mean()


def beta(returns: ArrayInput, benchmark: ArrayInput) -> float:
    """Slope of ``returns`` on ``benchmark``: ``cov(r, b) / var(b)``.

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions; leading missing values are a warm-up.
    benchmark : array-like or pl.Series
        Benchmark returns, aligned with ``returns`` (same length).

    Returns
    -------
    float
        The beta (``ddof`` cancels); NaN with fewer than two common returns or a
        constant benchmark.

    Examples
    --------
    >>> beta([0.02, -0.02, 0.04], [0.01, -0.01, 0.02])
    2.0
    """
    r, b = _aligned_pair(returns, benchmark)
    centred = _centred(r, b)
    if centred is None:
        return float("nan")
    rc, bc = centred
    var_b = float(bc @ bc)
    if var_b == 0.0:
        return float("nan")
    return float(rc @ bc) / var_b


def correlation(returns: ArrayInput, benchmark: ArrayInput) -> float:
    """Pearson correlation of ``returns`` and ``benchmark``.

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions; leading missing values are a warm-up.
    benchmark : array-like or pl.Series
        Benchmark returns, aligned with ``returns`` (same length).

    Returns
    -------
    float
        The correlation in ``[-1, 1]``; NaN with fewer than two common returns
        or a constant series.
    """
    r, b = _aligned_pair(returns, benchmark)
    centred = _centred(r, b)
    if centred is None:
        return float("nan")
    rc, bc = centred
    scale = float(np.sqrt(float(rc @ rc) * float(bc @ bc)))
    if scale == 0.0:
        return float("nan")
    return float(np.clip(float(rc @ bc) / scale, -1.0, 1.0))


def _capture(
    returns: ArrayInput,
    benchmark: ArrayInput,
    periods_per_year: float,
    *,
    up: bool,
) -> float:
    ppy = check_periods_per_year(periods_per_year)
    r, b = _aligned_pair(returns, benchmark)
    mask = b > 0.0 if up else b < 0.0
    if not mask.any():
        return float("nan")
    ours = annualized_return(r[mask], periods_per_year=ppy)
    theirs = annualized_return(b[mask], periods_per_year=ppy)
    return ours / theirs


def up_capture(
    returns: ArrayInput, benchmark: ArrayInput, *, periods_per_year: float
) -> float:
    """Up-market capture ratio (a fraction: 1.0 captures all of the up-market).

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions; leading missing values are a warm-up.
    benchmark : array-like or pl.Series
        Benchmark returns, aligned with ``returns`` (same length).
    periods_per_year : float
        Periods per year, used to annualize both compound returns.

    Returns
    -------
    float
        ``annualized_return(r[b > 0]) / annualized_return(b[b > 0])``; NaN when
        the benchmark never rose.
    """
    return _capture(returns, benchmark, periods_per_year, up=True)


def down_capture(
    returns: ArrayInput, benchmark: ArrayInput, *, periods_per_year: float
) -> float:
    """Down-market capture ratio (a fraction: below 1.0 lost less than the market).

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions; leading missing values are a warm-up.
    benchmark : array-like or pl.Series
        Benchmark returns, aligned with ``returns`` (same length).
    periods_per_year : float
        Periods per year, used to annualize both compound returns.

    Returns
    -------
    float
        ``annualized_return(r[b < 0]) / annualized_return(b[b < 0])``; NaN when
        the benchmark never fell.
    """
    return _capture(returns, benchmark, periods_per_year, up=False)
