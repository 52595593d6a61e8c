"""Drawdowns of a level series: the aligned series, the maximum, and the episodes.

The drawdown at session *t* is ``level[t] / max(level[..t]) - 1``, a fraction in
``(-1, 0]`` (ffn ``to_drawdown_series``; empyrical ``drawdown_series`` on the
levels its returns compound to). The maximum drawdown is its minimum, a negative
fraction, or 0 for a series that never falls below an earlier high.

An *episode* starts at a high-water mark (the last session at the running
maximum before the level falls below it), reaches its trough, and recovers on
the first later session whose level is back at or above that high. Positions
are integer offsets into the input; map them to dates with ``sessions.gather``.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import polars as pl

from r2k.analytics._inputs import (
    ArrayInput,
    FloatArray,
    Values,
    nan_array,
    parse,
    polars_like,
    shape_output,
)

DRAWDOWNS = pl.Schema(
    {
        "start": pl.Int64,  # position of the high-water mark
        "trough": pl.Int64,  # position of the lowest level of the episode
        "recovery": pl.Int64,  # first position back at the high; null if none yet
        "depth": pl.Float64,  # level[trough] / level[start] - 1 (negative)
        "duration": pl.Int64,  # sessions from start to recovery (or to the end)
        "recovered": pl.Boolean,
    }
)


def _drawdown_tail(levels: ArrayInput) -> tuple[FloatArray, FloatArray, int]:
    x, start = parse(levels, "levels", positive=True)
    tail = x[start:]
    high = np.maximum.accumulate(tail)
    return tail, (tail - high) / high, start


@overload
def drawdown(levels: pl.Series) -> pl.Series: ...
@overload
def drawdown(levels: Values) -> FloatArray: ...
def drawdown(levels: ArrayInput) -> pl.Series | FloatArray:
    """Drawdown from the running maximum, as a (non-positive) fraction.

    Parameters
    ----------
    levels : array-like or pl.Series
        Strictly positive levels or prices; leading missing values are a warm-up.

    Returns
    -------
    pl.Series or np.ndarray
        ``levels[t] / max(levels[..t]) - 1``, aligned with ``levels``.

    Examples
    --------
    >>> drawdown([100.0, 90.0, 100.0, 120.0, 60.0]).round(6)
    array([ 0. , -0.1,  0. ,  0. , -0.5])
    """
    _, dd, start = _drawdown_tail(levels)
    out = nan_array(start + dd.size)
    out[start:] = dd
    return shape_output(out, polars_like(levels))


def max_drawdown(levels: ArrayInput) -> float:
    """Largest fall from a running maximum, as a negative fraction.

    Parameters
    ----------
    levels : array-like or pl.Series
        Strictly positive levels or prices; leading missing values are a warm-up.
        For a return series, compound it first
        (:func:`~r2k.analytics.levels_from_returns`).

    Returns
    -------
    float
        ``min(levels[t] / max(levels[..t]) - 1)`` in ``(-1, 0]``; 0.0 if the
        series never falls below an earlier high; NaN for an empty series.

    Examples
    --------
    >>> max_drawdown([100.0, 110.0, 99.0, 108.9])
    -0.1
    """
    _, dd, _ = _drawdown_tail(levels)
    if dd.size == 0:
        return float("nan")
    return float(dd.min()) + 0.0  # + 0.0 turns -0.0 into 0.0


def drawdowns(levels: ArrayInput) -> pl.DataFrame:
    """Every drawdown episode of a level series, in chronological order.

    Parameters
    ----------
    levels : array-like or pl.Series
        Strictly positive levels or prices; leading missing values are a warm-up.

    Returns
    -------
    pl.DataFrame
        One row per episode with the columns of :data:`DRAWDOWNS`: ``start``
        (position of the high-water mark), ``trough`` (first position of the
        lowest level), ``recovery`` (first position back at or above the high;
        null while not recovered), ``depth`` (``level[trough] / level[start] -
        1``), ``duration`` (sessions from ``start`` to ``recovery``, or to the
        last position while not recovered) and ``recovered``. Sort by ``depth``
        for the deepest first; the minimum depth equals :func:`max_drawdown`.

    Examples
    --------
    >>> drawdowns([100.0, 90.0, 100.0, 120.0, 60.0]).rows()
    [(0, 1, 2, -0.1, 2, True), (3, 4, None, -0.5, 1, False)]
    """
    tail, dd, offset = _drawdown_tail(levels)
    below = dd < 0.0
    if not below.any():
        return pl.DataFrame(schema=DRAWDOWNS)
    edges = np.diff(np.concatenate(([0], below.astype(np.int8), [0])))
    first = np.flatnonzero(edges == 1)  # first position below the high
    end = np.flatnonzero(edges == -1)  # first position back at the high (or m)
    # minimum of each run [first, end): reduceat over interleaved bounds
    padded = np.concatenate((tail, [np.inf]))
    lows = np.minimum.reduceat(padded, np.column_stack((first, end)).ravel())[::2]
    run = np.cumsum(edges[:-1] == 1) - 1  # run number at each position
    hits = np.flatnonzero(below & (tail == lows[run]))
    _, first_hit = np.unique(run[hits], return_index=True)
    trough = hits[first_hit]
    peak = first - 1  # position 0 is never below, so first >= 1
    recovered = end < tail.size
    last = np.where(recovered, end, tail.size - 1)
    return pl.DataFrame(
        {
            "start": peak + offset,
            "trough": trough + offset,
            "recovery": end + offset,
            "depth": (lows - tail[peak]) / tail[peak],
            "duration": last - peak,
            "recovered": recovered,
        },
        schema=DRAWDOWNS,
    ).with_columns(recovery=pl.when("recovered").then("recovery"))
