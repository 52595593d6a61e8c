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
import numpy.typing as npt

from r2k.analytics._inputs import (
    ArrayInput,
    FloatArray,
    Values,
    check_ddof,
    check_period,
    parse,
    polars_like,
    shape_output,
    squared_deviations,
    windows,
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


#: Relative error a window may reach before it is recomputed by two passes.
_ROLLING_TOLERANCE = 5e-10
#: Values per block when the flagged windows are recomputed by two passes.
_REDO_BLOCK = 1 << 20
#: Window values (outputs x window) up to which the two-pass algorithm computes
#: every window itself (at most about 40 ms; ten thousand sessions of a 252-session
#: window are 2.5 million): below that, loading the compiled pass (Numba's import
#: and code loading, about 0.7 s once per process) costs more than it saves.
_COMPILED_FROM = 1 << 22
#: Flagged positions the compiled pass writes down (past them, they are found
#: by their NaN: one more pass over the output).
_FLAGGED_KEPT = 4096
#: Least outputs per block of the running sums (at least twice the window, so
#: that a block's first window, summed afresh, is at most a third of its work).
_BLOCK = 128


def rolling_variance_into(
    values: FloatArray,
    window: int,
    ddof: int,
    out: FloatArray,
    *,
    factor: float = 1.0,
    root: bool = False,
    unchecked: str | None = None,
) -> None:
    """Write ``factor`` x the variance of every trailing window into ``out`` in place.

    A short series (at most ``_COMPILED_FROM`` window values) is computed by the
    corrected two-pass :func:`~r2k.analytics._inputs.squared_deviations` window
    by window, a block of windows at a time. Otherwise one compiled pass
    (:mod:`r2k.analytics._rolling_kernel`): running window sums
    in blocks of ``max(_BLOCK, 2 window)`` outputs, each block taken relative to
    its own middle value, so a large mean beside a small spread (NIST StRD
    NumAcc 1-4) or a price that trends over the series costs no precision; O(n)
    whatever the window. Every window whose a-priori error bound exceeds
    ``_ROLLING_TOLERANCE`` of its value (a near-constant window, a spike that
    left the window within its block) is recomputed by the corrected two-pass
    :func:`~r2k.analytics._inputs.squared_deviations`, so every value agrees
    with the two-pass one to ``5e-10`` relative (the 1e-9 promised, with room).

    Parameters
    ----------
    values : np.ndarray
        Finite ``float64`` values (no warm-up: see :func:`rolling_aligned`).
    window : int
        Values per window (>= 1, > ``ddof``).
    ddof : int
        Delta degrees of freedom: the divisor is ``window - ddof``.
    out : np.ndarray
        ``len(values) - window + 1`` elements, one per full window, written.
    factor : float, default 1.0
        Multiplies the variance (``periods_per_year`` for a volatility).
    root : bool, default False
        Write the square root instead (a standard deviation or a volatility), in
        ``out`` itself.
    unchecked : str, optional
        ``values`` has not been checked for missing or infinite values; this is
        its name. A missing or infinite value leaves every window holding it
        flagged (its sums are not finite) with a two-pass value that is not
        finite either, so the check (:func:`~r2k.analytics._inputs.parse`, which
        raises naming the first such position) runs only then, instead of a
        pass of its own over every value.
    """
    n, w = values.size, window
    m = n - w + 1
    if m <= 0:
        return
    if w == 1:  # a single value deviates from itself by nothing
        out[:] = 0.0
        return
    if m * w <= _COMPILED_FROM:
        if unchecked is not None:
            parse(values, unchecked)
        _recompute(values, w, ddof, out, None, factor=factor, root=root)
        return
    # Imported here: Numba costs about 0.2 s to import, paid only when used.
    from r2k.analytics._rolling_kernel import rolling_sums

    x = np.ascontiguousarray(values, dtype=np.float64)
    scale = factor / (w - ddof)
    block = max(_BLOCK, 2 * w)
    kept = np.empty(min(m, _FLAGGED_KEPT), dtype=np.int64)
    count = rolling_sums(x, w, out, scale, root, _ROLLING_TOLERANCE, block, kept)
    if count:
        flagged = kept if count <= kept.size else np.flatnonzero(np.isnan(out))
        if unchecked is None:
            _recompute(x, w, ddof, out, flagged[:count], factor=factor, root=root)
            return
        # A missing or infinite value leaves its windows flagged, and their
        # two-pass values are not finite either (inf - inf, quietly): only then
        # is ``values`` checked, which raises naming the position.
        with np.errstate(invalid="ignore"):
            _recompute(x, w, ddof, out, flagged[:count], factor=factor, root=root)
        if not np.isfinite(out[flagged[:count]]).all():
            parse(values, unchecked)


def _recompute(
    values: FloatArray,
    w: int,
    ddof: int,
    out: FloatArray,
    positions: npt.NDArray[np.intp] | None,
    *,
    factor: float,
    root: bool,
) -> None:
    """Two-pass values of the windows starting at ``positions`` (None: all).

    A block of windows at a time (``_REDO_BLOCK`` values), so the temporaries
    stay small however many there are.
    """
    view = windows(values, w)
    step = max(1, _REDO_BLOCK // w)
    if positions is None:
        for lo in range(0, view.shape[0], step):
            part = slice(lo, lo + step)
            out[part] = _two_pass(view[part], ddof, factor=factor, root=root)
        return
    for lo in range(0, positions.size, step):
        at = positions[lo : lo + step]
        out[at] = _two_pass(view[at], ddof, factor=factor, root=root)


def _two_pass(block: FloatArray, ddof: int, *, factor: float, root: bool) -> FloatArray:
    """``factor`` x the two-pass variance of each row of ``block`` (or its root)."""
    var = squared_deviations(block, ddof) * factor
    return np.sqrt(var) if root else var


def rolling_variance_core(values: FloatArray, window: int, ddof: int) -> FloatArray:
    """Variance of every trailing window (``len - window + 1`` values).

    See :func:`rolling_variance_into`; this allocates the result.
    """
    out = np.empty(max(values.size - window + 1, 0), dtype=np.float64)
    rolling_variance_into(values, window, ddof, out)
    return out


def rolling_aligned(
    x: FloatArray,
    start: int,
    window: int,
    ddof: int,
    *,
    factor: float = 1.0,
    root: bool = False,
    unchecked: str | None = None,
) -> FloatArray:
    """``factor`` x the variance (or its root) of every trailing window, aligned.

    ``x`` is a parsed series whose values begin at ``start`` (the warm-up before
    it is missing), or, with ``unchecked`` (its name), a ``float64`` array not
    yet checked for missing or infinite values (see
    :func:`rolling_variance_into`). The result has ``len(x)`` values, NaN until
    a full window of values is available.
    """
    w = check_period(window, "window")
    d = check_ddof(ddof)
    if w <= d:
        msg = f"`window` ({w}) must exceed `ddof` ({d})"
        raise MethodologyError(msg)
    out = np.empty(x.size, dtype=np.float64)
    first = min(start + w - 1, x.size)
    out[:first] = np.nan
    rolling_variance_into(
        x[start:], w, d, out[first:], factor=factor, root=root, unchecked=unchecked
    )
    return out


def _rolling(
    values: ArrayInput, window: int, ddof: int, *, root: bool = False
) -> FloatArray:
    """:func:`rolling_aligned` of ``values`` (named ``values`` in errors), parsed.

    A one-dimensional ``float64`` array whose first value is finite (no warm-up)
    goes straight to the compiled pass, which checks the values as it reads
    them (``unchecked`` of :func:`rolling_variance_into`); anything else is
    parsed first.
    """
    if (
        isinstance(values, np.ndarray)
        and values.dtype == np.float64
        and values.ndim == 1
        and values.size
        and np.isfinite(values[0])
    ):
        return rolling_aligned(values, 0, window, ddof, root=root, unchecked="values")
    x, start = parse(values, "values")
    return rolling_aligned(x, start, window, ddof, root=root)


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
    return shape_output(_rolling(values, window, ddof, root=True), polars_like(values))
