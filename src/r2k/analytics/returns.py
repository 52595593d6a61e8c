"""Returns from levels, levels from returns, and the annualized (compound) return.

Returns are simple fractions per period (0.01 is one percent) unless the name
says otherwise (:func:`log_returns`). A return series computed from levels is
aligned with them: its first value is missing, because the first session has no
previous close. Every function here treats such leading missing values as a
warm-up, not as a period, so ``levels_from_returns(simple_returns(x),
base=x[0])`` gives ``x`` back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

import numpy as np

from r2k.analytics._inputs import (
    ArrayInput,
    FloatArray,
    Values,
    check_periods_per_year,
    nan_array,
    parse,
    polars_like,
    shape_output,
)
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    import polars as pl


def parse_returns(returns: ArrayInput, name: str = "returns") -> tuple[FloatArray, int]:
    """Parse simple returns: finite, no interior gap, none below -100%."""
    r, start = parse(returns, name)
    tail = r[start:]
    if (tail < -1.0).any():
        pos = start + int(np.argmax(tail < -1.0))
        msg = (
            f"`{name}` holds {r[pos]} at position {pos}; a simple return cannot be "
            "below -1 (-100%): pass fractions, not percent or log returns"
        )
        raise SchemaError(msg)
    return r, start


@overload
def simple_returns(levels: pl.Series) -> pl.Series: ...
@overload
def simple_returns(levels: Values) -> FloatArray: ...
def simple_returns(levels: ArrayInput) -> pl.Series | FloatArray:
    """Simple returns ``levels[t] / levels[t-1] - 1`` as fractions.

    Parameters
    ----------
    levels : array-like or pl.Series
        Strictly positive levels or prices; leading missing values are a warm-up.

    Returns
    -------
    pl.Series or np.ndarray
        Aligned with ``levels``; the first value is missing.

    Examples
    --------
    >>> simple_returns([100.0, 101.0, 99.99]).round(6)
    array([  nan,  0.01, -0.01])
    """
    x, start = parse(levels, "levels", positive=True)
    out = nan_array(x.size)
    if x.size - start > 1:
        previous = x[start:-1]
        out[start + 1 :] = (x[start + 1 :] - previous) / previous
    return shape_output(out, polars_like(levels))


@overload
def log_returns(levels: pl.Series) -> pl.Series: ...
@overload
def log_returns(levels: Values) -> FloatArray: ...
def log_returns(levels: ArrayInput) -> pl.Series | FloatArray:
    """Log returns ``ln(levels[t] / levels[t-1])``.

    Parameters
    ----------
    levels : array-like or pl.Series
        Strictly positive levels or prices; leading missing values are a warm-up.

    Returns
    -------
    pl.Series or np.ndarray
        Aligned with ``levels``; the first value is missing.
    """
    x, start = parse(levels, "levels", positive=True)
    out = nan_array(x.size)
    if x.size - start > 1:
        out[start + 1 :] = np.log(x[start + 1 :] / x[start:-1])
    return shape_output(out, polars_like(levels))


@overload
def levels_from_returns(returns: pl.Series, *, base: float) -> pl.Series: ...
@overload
def levels_from_returns(returns: Values, *, base: float) -> FloatArray: ...
def levels_from_returns(returns: ArrayInput, *, base: float) -> pl.Series | FloatArray:
    """Compound simple returns into levels starting from ``base``.

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions (>= -1). Leading missing values are a
        warm-up: the level at the last of them is ``base`` (the session before
        the first return), earlier ones stay missing. Without leading missing
        values, ``base`` is the level before position 0 and is not in the output
        (empyrical ``cum_returns(returns, starting_value=base)``).
    base : float
        The starting level (> 0).

    Returns
    -------
    pl.Series or np.ndarray
        ``base * prod(1 + returns[..t])``, aligned with ``returns``.

    Examples
    --------
    >>> levels_from_returns([None, 0.01, 0.1], base=100.0).round(6)
    array([100. , 101. , 111.1])
    """
    if isinstance(base, bool) or not isinstance(
        base, int | float | np.integer | np.floating
    ):
        msg = f"`base` must be a number; got {base!r}"
        raise MethodologyError(msg)
    if not (np.isfinite(base) and base > 0):
        msg = f"`base` must be a positive finite level; got {base!r}"
        raise MethodologyError(msg)
    r, start = parse_returns(returns)
    out = nan_array(r.size)
    if start > 0:
        out[start - 1] = float(base)
    out[start:] = float(base) * np.cumprod(1.0 + r[start:])
    return shape_output(out, polars_like(returns))


def annualized_return(returns: ArrayInput, *, periods_per_year: float) -> float:
    """Compound annual growth rate of a return series.

    ``prod(1 + r) ** (periods_per_year / n) - 1`` over the ``n`` returns after
    the warm-up (empyrical ``annual_return``/``cagr``, ffn ``calc_cagr`` on
    equally spaced periods).

    Parameters
    ----------
    returns : array-like or pl.Series
        Simple returns as fractions; leading missing values are a warm-up and are
        not counted as periods. (empyrical counts a missing return as a period
        with a zero return; pass an explicit 0.0 to reproduce that.)
    periods_per_year : float
        Periods per year of the returns (252 for sessions, 52 weeks, 12 months).

    Returns
    -------
    float
        The annualized return as a fraction; NaN for an empty series, -1.0 if
        the series holds a -100% return.
    """
    ppy = check_periods_per_year(periods_per_year)
    r, start = parse_returns(returns)
    tail = r[start:]
    if tail.size == 0:
        return float("nan")
    if (tail == -1.0).any():
        return -1.0
    return float(np.expm1(np.log1p(tail).sum() * ppy / tail.size))
