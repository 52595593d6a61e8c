"""Indicators of trending versus range-bound (sideways) markets.

* True range (Wilder): ``max(high[t], close[t-1]) - min(low[t], close[t-1])``.
  The first bar has no previous close; ``first_bar="high_low"`` uses
  ``high - low`` there (StockCharts, Lean, Wilder's worksheet) and
  ``first_bar="skip"`` leaves it missing (TA-Lib ``TRANGE``, pandas-ta).
* Choppiness index (E. W. Dreiss):
  ``100 * log10(sum(TR, n) / (max(high, n) - min(low, n))) / log10(n)``; near
  100 the market is choppy (range-bound), near 0 it trends. It is never
  negative when each close lies within its bar (the true ranges then chain
  through the closes and cover the window's range), and can exceed 100 when the
  close before the window lies far outside it. It equals Lean's
  ``ChoppinessIndex`` with ``first_bar="high_low"`` (first value after ``n``
  bars) and pandas-ta's ``chop`` with ``first_bar="skip"`` (one bar later); the
  values agree once both have started.
* Vertical horizontal filter (Adam White; Achelis p. 354, tulip ``vhf``):
  ``(max(close, n) - min(close, n)) / sum(|close[t] - close[t-1]|, n)`` over the
  last ``n`` closes and the last ``n`` changes; high values mean a trend, low
  values congestion. The first value is at position ``n``.
* Donchian channel: the highest high and lowest low over ``n`` bars, and their
  midpoint. Whether the current bar belongs to the window differs between
  sources, so it is a required parameter: StockCharts, Lean and pandas-ta include
  it (``include_current=True``); breakout rules compare today's close with the
  channel of the previous ``n`` bars (``include_current=False``, bukosabino's
  ``offset=1``).
* Channel width and channel position describe any channel (Donchian, Bollinger,
  Keltner): width in points or relative to a reference series, position of the
  close between the bands.

Undefined values (a window with no range at all) are missing, like the warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar, overload

import numpy as np
import polars as pl

from r2k.analytics._inputs import (
    ArrayInput,
    FloatArray,
    Values,
    check_choice,
    check_period,
    nan_array,
    parse,
    parse_aligned,
    polars_like,
    shape_output,
    windows,
)
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from r2k._typing import FirstBar, PositionUnit, WidthUnit

FIRST_BARS: tuple[FirstBar, ...] = ("high_low", "skip")
WIDTH_UNITS: tuple[WidthUnit, ...] = ("points", "fraction", "percent")
POSITION_UNITS: tuple[PositionUnit, ...] = ("fraction", "percent")

SeriesT = TypeVar("SeriesT", pl.Series, FloatArray)


@dataclass(frozen=True, slots=True)
class DonchianChannel(Generic[SeriesT]):
    """The three lines of a Donchian channel, each aligned with the input."""

    upper: SeriesT
    """Highest high over the window."""
    lower: SeriesT
    """Lowest low over the window."""
    middle: SeriesT
    """``(upper + lower) / 2``."""


def _check_high_low(h: FloatArray, lo: FloatArray, start: int) -> None:
    bad = h[start:] < lo[start:]
    if bad.any():
        pos = start + int(np.argmax(bad))
        msg = f"`high` ({h[pos]}) is below `low` ({lo[pos]}) at position {pos}"
        raise SchemaError(msg)


def _true_range(
    h: FloatArray, lo: FloatArray, c: FloatArray, start: int, first_bar: str
) -> FloatArray:
    out = nan_array(h.size)
    if h.size > start:
        prev = c[start:-1]
        out[start + 1 :] = np.maximum(h[start + 1 :], prev) - np.minimum(
            lo[start + 1 :], prev
        )
        if first_bar == "high_low":
            out[start] = h[start] - lo[start]
    return out


@overload
def true_range(
    high: pl.Series, low: pl.Series, close: pl.Series, *, first_bar: FirstBar
) -> pl.Series: ...
@overload
def true_range(
    high: Values, low: Values, close: Values, *, first_bar: FirstBar
) -> FloatArray: ...
def true_range(
    high: ArrayInput, low: ArrayInput, close: ArrayInput, *, first_bar: FirstBar
) -> pl.Series | FloatArray:
    """Wilder's true range of each bar, in price points.

    Parameters
    ----------
    high, low, close : array-like or pl.Series
        Bars of equal length; leading missing values are a warm-up.
    first_bar : {"high_low", "skip"}
        The first bar has no previous close: ``"high_low"`` uses ``high - low``
        (StockCharts, Lean), ``"skip"`` leaves it missing (TA-Lib, pandas-ta).

    Returns
    -------
    pl.Series or np.ndarray
        ``max(high, previous close) - min(low, previous close)``, aligned.
    """
    fb = check_choice(first_bar, "first_bar", FIRST_BARS)
    (h, lo, c), start = parse_aligned({"high": high, "low": low, "close": close})
    _check_high_low(h, lo, start)
    return shape_output(_true_range(h, lo, c, start, fb), polars_like(high, low, close))


@overload
def choppiness_index(
    high: pl.Series,
    low: pl.Series,
    close: pl.Series,
    period: int = 14,
    *,
    first_bar: FirstBar = "high_low",
) -> pl.Series: ...
@overload
def choppiness_index(
    high: Values,
    low: Values,
    close: Values,
    period: int = 14,
    *,
    first_bar: FirstBar = "high_low",
) -> FloatArray: ...
def choppiness_index(
    high: ArrayInput,
    low: ArrayInput,
    close: ArrayInput,
    period: int = 14,
    *,
    first_bar: FirstBar = "high_low",
) -> pl.Series | FloatArray:
    """Choppiness index (Dreiss): near 0 trending, near 100 range-bound.

    Parameters
    ----------
    high, low, close : array-like or pl.Series
        Bars of equal length; leading missing values are a warm-up.
    period : int
        Bars per window (>= 2).
    first_bar : {"high_low", "skip"}, default "high_low"
        True range of the first bar (see :func:`true_range`): ``"high_low"``
        gives Lean's ``ChoppinessIndex`` (first value at position
        ``period - 1``), ``"skip"`` pandas-ta's ``chop`` (first value at
        ``period``). Later values are the same.

    Returns
    -------
    pl.Series or np.ndarray
        ``100 * log10(sum(TR) / (max(high) - min(low))) / log10(period)`` over
        each window of ``period`` bars, aligned; missing during the warm-up and
        where the window's high-low range is zero.
    """
    p = check_period(period, "period", minimum=2)
    fb = check_choice(first_bar, "first_bar", FIRST_BARS)
    (h, lo, c), start = parse_aligned({"high": high, "low": low, "close": close})
    _check_high_low(h, lo, start)
    tr = _true_range(h, lo, c, start, fb)
    first = start if fb == "high_low" else start + 1
    out = nan_array(h.size)
    total = windows(tr[first:], p).sum(axis=1)
    if total.size:
        span = windows(h[first:], p).max(axis=1) - windows(lo[first:], p).min(axis=1)
        ok = span > 0.0
        ratio = np.divide(total, span, out=np.ones_like(total), where=ok)
        out[h.size - total.size :] = np.where(
            ok, 100.0 * np.log10(ratio) / np.log10(p), np.nan
        )
    return shape_output(out, polars_like(high, low, close))


@overload
def vertical_horizontal_filter(close: pl.Series, period: int = 28) -> pl.Series: ...
@overload
def vertical_horizontal_filter(close: Values, period: int = 28) -> FloatArray: ...
def vertical_horizontal_filter(
    close: ArrayInput, period: int = 28
) -> pl.Series | FloatArray:
    """Vertical horizontal filter (White): trend strength over ``period`` closes.

    Parameters
    ----------
    close : array-like or pl.Series
        Closes; leading missing values are a warm-up.
    period : int
        Closes in the high-low span, and changes in the path length (>= 1).

    Returns
    -------
    pl.Series or np.ndarray
        ``(max(close) - min(close)) / sum(|close[t] - close[t-1]|)`` over the
        last ``period`` closes and changes, a fraction in ``[0, 1]``, aligned;
        the first ``period`` values are missing, as are windows with no change.

    Examples
    --------
    >>> x = [44.3125, 44.125, 45.0625, 44.8125, 44.8125, 45.25, 46.125, 47.375, 49]
    >>> vertical_horizontal_filter(x, 5)[5:].round(4)  # Achelis p. 354
    array([0.6207, 0.525 , 0.9111, 1.    ])
    """
    p = check_period(period, "period")
    x, start = parse(close, "close")
    out = nan_array(x.size)
    tail = x[start:]
    if tail.size > p:
        path = windows(np.abs(np.diff(tail)), p).sum(axis=1)
        view = windows(tail, p)[1:]
        span = view.max(axis=1) - view.min(axis=1)
        ok = path > 0.0
        out[start + p :] = np.where(
            ok, np.divide(span, path, out=np.zeros_like(span), where=ok), np.nan
        )
    return shape_output(out, polars_like(close))


@overload
def donchian_channel(
    high: pl.Series, low: pl.Series, period: int = 20, *, include_current: bool
) -> DonchianChannel[pl.Series]: ...
@overload
def donchian_channel(
    high: Values, low: Values, period: int = 20, *, include_current: bool
) -> DonchianChannel[FloatArray]: ...
def donchian_channel(
    high: ArrayInput, low: ArrayInput, period: int = 20, *, include_current: bool
) -> DonchianChannel[pl.Series] | DonchianChannel[FloatArray]:
    """Donchian channel: highest high, lowest low and midpoint over ``period`` bars.

    Parameters
    ----------
    high, low : array-like or pl.Series
        Bars of equal length; leading missing values are a warm-up.
    period : int
        Bars per window (>= 1).
    include_current : bool
        ``True``: the window ends with the current bar (StockCharts, Lean,
        pandas-ta; first value at position ``period - 1``). ``False``: it ends
        with the previous bar, so a close above ``upper`` is a breakout (first
        value at position ``period``).

    Returns
    -------
    DonchianChannel
        ``upper``, ``lower`` and ``middle``, each aligned with the input, as
        Polars Series if an input is one, else as NumPy arrays.
    """
    p = check_period(period, "period")
    if not isinstance(include_current, bool):
        msg = f"`include_current` must be True or False; got {include_current!r}"
        raise MethodologyError(msg)
    (h, lo), start = parse_aligned({"high": high, "low": low})
    _check_high_low(h, lo, start)
    upper, lower = nan_array(h.size), nan_array(h.size)
    hi_max = windows(h[start:], p).max(axis=1)
    lo_min = windows(lo[start:], p).min(axis=1)
    if not include_current:
        hi_max, lo_min = hi_max[:-1], lo_min[:-1]
    upper[h.size - hi_max.size :] = hi_max
    lower[h.size - lo_min.size :] = lo_min
    middle = (upper + lower) / 2.0
    like = polars_like(high, low)
    if like is None:
        return DonchianChannel(upper=upper, lower=lower, middle=middle)
    return DonchianChannel(
        upper=pl.Series(like.name, upper).fill_nan(None),
        lower=pl.Series(like.name, lower).fill_nan(None),
        middle=pl.Series(like.name, middle).fill_nan(None),
    )


@overload
def channel_width(
    upper: pl.Series,
    lower: pl.Series,
    *,
    unit: WidthUnit,
    relative_to: pl.Series | None = None,
) -> pl.Series: ...
@overload
def channel_width(
    upper: Values, lower: Values, *, unit: WidthUnit, relative_to: Values | None = None
) -> FloatArray: ...
def channel_width(
    upper: ArrayInput,
    lower: ArrayInput,
    *,
    unit: WidthUnit,
    relative_to: ArrayInput | None = None,
) -> pl.Series | FloatArray:
    """Width of a channel, in points or relative to a reference series.

    Parameters
    ----------
    upper, lower : array-like or pl.Series
        The channel's bands (e.g. from :func:`donchian_channel`).
    unit : {"points", "fraction", "percent"}
        ``"points"``: ``upper - lower``; ``"fraction"``: ``(upper - lower) /
        relative_to``; ``"percent"``: 100 times the fraction.
    relative_to : array-like or pl.Series, optional
        The strictly positive reference for ``"fraction"`` and ``"percent"``
        (required for them, refused for ``"points"``): the channel's middle, or,
        as StockCharts' Donchian width, the simple moving average of the close.

    Returns
    -------
    pl.Series or np.ndarray
        The width, aligned; missing wherever an input is.
    """
    u = check_choice(unit, "unit", WIDTH_UNITS)
    if (u == "points") != (relative_to is None):
        msg = (
            "`relative_to` is required with unit 'fraction' or 'percent' and "
            f"refused with unit 'points'; got unit {u!r}"
        )
        raise MethodologyError(msg)
    inputs = {"upper": upper, "lower": lower}
    if relative_to is not None:
        inputs["relative_to"] = relative_to
    arrays, start = parse_aligned(inputs, positive=("relative_to",))
    hi, lo = arrays[0], arrays[1]
    out = nan_array(hi.size)
    width = hi[start:] - lo[start:]
    if relative_to is not None:
        width = width / arrays[2][start:] * (100.0 if u == "percent" else 1.0)
    out[start:] = width
    return shape_output(out, polars_like(upper, lower, relative_to))


@overload
def channel_position(
    close: pl.Series, upper: pl.Series, lower: pl.Series, *, unit: PositionUnit
) -> pl.Series: ...
@overload
def channel_position(
    close: Values, upper: Values, lower: Values, *, unit: PositionUnit
) -> FloatArray: ...
def channel_position(
    close: ArrayInput, upper: ArrayInput, lower: ArrayInput, *, unit: PositionUnit
) -> pl.Series | FloatArray:
    """Position of the close within a channel: 0 at the lower band, 1 at the upper.

    Parameters
    ----------
    close, upper, lower : array-like or pl.Series
        The close and the channel's bands, of equal length.
    unit : {"fraction", "percent"}
        ``"fraction"``: ``(close - lower) / (upper - lower)`` (StockCharts'
        Donchian and Bollinger %B); ``"percent"``: 100 times that.

    Returns
    -------
    pl.Series or np.ndarray
        Aligned; missing wherever an input is or the channel has no width.
    """
    u = check_choice(unit, "unit", POSITION_UNITS)
    (c, hi, lo), start = parse_aligned({"close": close, "upper": upper, "lower": lower})
    out = nan_array(c.size)
    width = hi[start:] - lo[start:]
    ok = width != 0.0
    share = np.divide(c[start:] - lo[start:], width, out=np.zeros_like(width), where=ok)
    out[start:] = np.where(ok, share * (100.0 if u == "percent" else 1.0), np.nan)
    return shape_output(out, polars_like(close, upper, lower))
