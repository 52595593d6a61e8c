"""Numerically stable variance and standard deviation, whole-series and rolling.

Both use the corrected two-pass algorithm (mean first, then squared deviations
corrected by the sum of deviations), so a large mean relative to the spread
costs no precision: the NIST StRD NumAcc 1-4 cases (values near 1e7 with a
spread of 0.1) are met to their certified tolerances, where the textbook
one-pass ``sum(x^2) - sum(x)^2 / n`` loses every digit.

``ddof`` (delta degrees of freedom) is always explicit: ``ddof=1`` is the sample
statistic (NIST's certified values, empyrical), ``ddof=0`` the population one
(TA-Lib ``STDDEV``/``VAR``, Achelis and tulipindicators ``stddev``, Lean
``StandardDeviation``/``Variance``). TA-Lib's ``nbdev`` multiplier is a plain
product: ``STDDEV(period, nbdev)`` is ``nbdev * rolling_standard_deviation(x,
period, ddof=0)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

import numpy as np

from r2k.analytics._inputs import (
    ArrayInput,
    FloatArray,
    Values,
    check_ddof,
    check_period,
    nan_array,
    parse,
    polars_like,
    rolling_variance_core,
    shape_output,
    squared_deviations,
)
from r2k.errors import MethodologyError

if TYPE_CHECKING:
    import polars as pl


def variance(values: ArrayInput, *, ddof: int) -> float:
    """Variance of a whole series.

    Parameters
    ----------
    values : array-like or pl.Series
        The observations; leading missing values are skipped (warm-up).
    ddof : int
        Delta degrees of freedom: the divisor is ``n - ddof`` (1: sample,
        0: population).

    Returns
    -------
    float
        The variance, or NaN when there are no more than ``ddof`` observations.

    Examples
    --------
    >>> variance([10000001.0, 10000002.0, 10000003.0], ddof=1)  # NIST NumAcc1
    1.0
    """
    d = check_ddof(ddof)
    x, start = parse(values, "values")
    tail = x[start:]
    if tail.size <= d:
        return float("nan")
    return float(squared_deviations(tail[np.newaxis, :], d)[0])


def standard_deviation(values: ArrayInput, *, ddof: int) -> float:
    """Standard deviation of a whole series (square root of :func:`variance`).

    Parameters
    ----------
    values : array-like or pl.Series
        The observations; leading missing values are skipped (warm-up).
    ddof : int
        Delta degrees of freedom (1: sample, 0: population).

    Returns
    -------
    float
        The standard deviation, or NaN with no more than ``ddof`` observations.
    """
    return float(np.sqrt(variance(values, ddof=ddof)))


def _rolling(values: ArrayInput, window: int, ddof: int) -> FloatArray:
    w = check_period(window, "window")
    d = check_ddof(ddof)
    if w <= d:
        msg = f"`window` ({w}) must exceed `ddof` ({d})"
        raise MethodologyError(msg)
    x, start = parse(values, "values")
    out = nan_array(x.size)
    tail = rolling_variance_core(x[start:], w, d)
    out[x.size - tail.size :] = tail
    return out


@overload
def rolling_variance(values: pl.Series, window: int, *, ddof: int) -> pl.Series: ...
@overload
def rolling_variance(values: Values, window: int, *, ddof: int) -> FloatArray: ...
def rolling_variance(
    values: ArrayInput, window: int, *, ddof: int
) -> pl.Series | FloatArray:
    """Variance over each trailing window of ``window`` observations.

    Parameters
    ----------
    values : array-like or pl.Series
        The observations; leading missing values are a warm-up.
    window : int
        Observations per window, including the current one (> ``ddof``).
    ddof : int
        Delta degrees of freedom (1: sample, 0: population, as TA-Lib ``VAR``).

    Returns
    -------
    pl.Series or np.ndarray
        Aligned with ``values``; missing until a full window is available.
    """
    return shape_output(_rolling(values, window, ddof), polars_like(values))


@overload
def rolling_standard_deviation(
    values: pl.Series, window: int, *, ddof: int
) -> pl.Series: ...
@overload
def rolling_standard_deviation(
    values: Values, window: int, *, ddof: int
) -> FloatArray: ...
def rolling_standard_deviation(
    values: ArrayInput, window: int, *, ddof: int
) -> pl.Series | FloatArray:
    """Standard deviation over each trailing window of ``window`` observations.

    Parameters
    ----------
    values : array-like or pl.Series
        The observations; leading missing values are a warm-up.
    window : int
        Observations per window, including the current one (> ``ddof``).
    ddof : int
        Delta degrees of freedom (0 reproduces TA-Lib ``STDDEV`` with
        ``nbdev=1``, Achelis/tulip ``stddev`` and Lean ``StandardDeviation``).

    Returns
    -------
    pl.Series or np.ndarray
        Aligned with ``values``; missing until a full window is available.

    Examples
    --------
    >>> rolling_standard_deviation([1.0, 2.0, 3.0, 5.0], 3, ddof=0).round(6)
    array([     nan,      nan, 0.816497, 1.247219])
    """
    return shape_output(np.sqrt(_rolling(values, window, ddof)), polars_like(values))
