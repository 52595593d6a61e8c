"""Rate of change and momentum of a price or level series.

With ``c`` the close and ``p`` the period, at session *t*:

* ``rate_of_change(..., unit="percent")``: ``100 (c[t] - c[t-p]) / c[t-p]``
  (TA-Lib ``ROC``, StockCharts ROC, Lean ``RateOfChangePercent``);
* ``unit="fraction"``: ``(c[t] - c[t-p]) / c[t-p]`` (TA-Lib ``ROCP``, tulip
  ``roc``, Lean ``RateOfChange``);
* ``unit="ratio"``: ``c[t] / c[t-p]`` (TA-Lib ``ROCR``, Achelis/tulip ``rocr``,
  Lean ``RateOfChangeRatio``); TA-Lib ``ROCR100`` is ``100 *`` the ratio;
* ``momentum``: ``c[t] - c[t-p]`` in price points (TA-Lib ``MOM``, tulip ``mom``;
  beware that Lean's file column named "Rate of Change 50" holds this quantity).

The names of these quantities differ between sources, which is why the unit is a
parameter rather than implied by a name. The first ``p`` values are missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

import numpy as np

from r2k.analytics._inputs import (
    ArrayInput,
    FloatArray,
    Values,
    check_choice,
    check_period,
    nan_array,
    parse,
    polars_like,
    shape_output,
)

if TYPE_CHECKING:
    import polars as pl

    from r2k._typing import RocUnit

ROC_UNITS: tuple[RocUnit, ...] = ("percent", "fraction", "ratio")


@overload
def rate_of_change(
    close: pl.Series, period: int = 12, *, unit: RocUnit = "percent"
) -> pl.Series: ...
@overload
def rate_of_change(
    close: Values, period: int = 12, *, unit: RocUnit = "percent"
) -> FloatArray: ...
def rate_of_change(
    close: ArrayInput, period: int = 12, *, unit: RocUnit = "percent"
) -> pl.Series | FloatArray:
    """Change of ``close`` over ``period`` sessions, relative to ``close[t-period]``.

    Parameters
    ----------
    close : array-like or pl.Series
        Strictly positive prices or levels; leading missing values are a warm-up.
    period : int
        Lookback in sessions (>= 1).
    unit : {"percent", "fraction", "ratio"}
        ``"percent"``: ``100 (c[t] / c[t-p] - 1)``; ``"fraction"``:
        ``c[t] / c[t-p] - 1``; ``"ratio"``: ``c[t] / c[t-p]``. The three agree:
        ratio = 1 + fraction = 1 + percent / 100.

    Returns
    -------
    pl.Series or np.ndarray
        Aligned with ``close``; the first ``period`` values are missing.

    Raises
    ------
    SchemaError
        If ``close`` holds a non-positive, infinite or interior missing value.
    MethodologyError
        If ``period`` < 1 or ``unit`` is unknown.

    Examples
    --------
    >>> rate_of_change([100.0, 110.0, 99.0], 1, unit="fraction").round(6)
    array([ nan,  0.1, -0.1])
    """
    p = check_period(period, "period")
    u = check_choice(unit, "unit", ROC_UNITS)
    x, start = parse(close, "close", positive=True)
    first = min(start + p, x.size)
    out = np.empty(x.size, dtype=np.float64)
    out[:first] = np.nan
    if first < x.size:
        # In place in the output, no temporaries: one allocation, like TA-Lib.
        current = x[first:]
        previous = x[start : x.size - p]
        change = out[first:]
        if u == "ratio":
            np.divide(current, previous, out=change)
        else:
            np.subtract(current, previous, out=change)
            np.divide(change, previous, out=change)
            if u == "percent":
                np.multiply(change, 100.0, out=change)
    return shape_output(out, polars_like(close))


@overload
def momentum(close: pl.Series, period: int = 10) -> pl.Series: ...
@overload
def momentum(close: Values, period: int = 10) -> FloatArray: ...
def momentum(close: ArrayInput, period: int = 10) -> pl.Series | FloatArray:
    """Change of ``close`` over ``period`` sessions, in price points.

    Parameters
    ----------
    close : array-like or pl.Series
        Prices or levels; leading missing values are a warm-up.
    period : int
        Lookback in sessions (>= 1).

    Returns
    -------
    pl.Series or np.ndarray
        ``close[t] - close[t - period]``, aligned with ``close``; the first
        ``period`` values are missing.

    Examples
    --------
    >>> momentum([1.0, 7.0, 12.0, 4.0], 3)
    array([nan, nan, nan,  3.])
    """
    p = check_period(period, "period")
    x, start = parse(close, "close")
    out = nan_array(x.size)
    if x.size - start > p:
        out[start + p :] = x[start + p :] - x[start : x.size - p]
    return shape_output(out, polars_like(close))
