"""Input parsing and output shaping shared by the analytics functions (private).

Every public function parses its array arguments here, once, at its boundary:

* accepted inputs are a NumPy array, a sequence of numbers, or a Polars Series;
  the output is a Polars Series (``Float64``, named after the first Series
  argument, nulls where there is no value) when any input is a Polars Series, and
  a ``float64`` NumPy array (NaN where there is no value) otherwise;
* a missing value (null or NaN) is allowed only *before* the first value, as a
  warm-up (the first element of :func:`r2k.analytics.simple_returns`, a security
  that starts trading later); a missing value after the first value, or an
  infinite value anywhere, raises :class:`~r2k.errors.SchemaError`;
* several series passed together must have the same length; they start at the
  latest of their first values;
* a bad parameter (a period below its minimum, an unknown unit) raises
  :class:`~r2k.errors.MethodologyError` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Collection

FloatArray: TypeAlias = npt.NDArray[np.float64]
"""A one-dimensional ``float64`` array (NaN where there is no value)."""

Values: TypeAlias = npt.NDArray[Any] | Sequence[float]
"""A plain input: a NumPy array or a sequence of numbers (the output is NumPy)."""

ArrayInput: TypeAlias = Values | pl.Series
"""Any array argument: NumPy, a sequence, or a Polars Series."""


def parse(
    values: ArrayInput, name: str, *, positive: bool = False
) -> tuple[FloatArray, int]:
    """Return ``values`` as ``float64`` and the position of its first value.

    ``positive`` requires every value to be strictly positive (prices, levels).
    """
    if isinstance(values, pl.Series):
        if not values.dtype.is_numeric():
            msg = f"`{name}` must be numeric; got a Polars Series of {values.dtype}"
            raise SchemaError(msg)
        arr = np.asarray(values.cast(pl.Float64).to_numpy(), dtype=np.float64)
    else:
        raw = np.asarray(values)
        if raw.dtype.kind not in "iufO":
            msg = f"`{name}` must hold numbers; got an array of dtype {raw.dtype}"
            raise SchemaError(msg)
        try:
            # No copy when it is float64 already: nothing writes into a parsed array
            # (a Polars Series already arrives as a read-only view).
            arr = raw.astype(np.float64, copy=False)
        except (TypeError, ValueError):
            msg = f"`{name}` must hold numbers (or None for a missing value)"
            raise SchemaError(msg) from None
    if arr.ndim != 1:
        msg = f"`{name}` must be one-dimensional; got shape {arr.shape}"
        raise SchemaError(msg)
    # Fast path, one reduction: a NaN or an infinity makes the sum NaN or
    # infinite, so a finite sum means no missing and no infinite value (start 0);
    # a positive series needs its minimum too. A sum that overflows only takes
    # the checks below, which find the position to report.
    if arr.size and np.isfinite(arr.sum()) and (not positive or arr.min() > 0.0):
        return arr, 0
    missing = np.isnan(arr)
    start = int(np.argmin(missing)) if arr.size and not missing.all() else arr.size
    tail = arr[start:]
    if missing[start:].any():
        pos = start + int(np.argmax(missing[start:]))
        msg = (
            f"`{name}` has a missing value at position {pos}, after its first value "
            f"at position {start}; only leading missing values (a warm-up) are "
            "allowed, so fill or drop the gap first"
        )
        raise SchemaError(msg)
    if not np.isfinite(tail).all():
        pos = start + int(np.argmin(np.isfinite(tail)))
        msg = f"`{name}` has a non-finite value ({arr[pos]}) at position {pos}"
        raise SchemaError(msg)
    if positive and (tail <= 0.0).any():
        pos = start + int(np.argmax(tail <= 0.0))
        msg = (
            f"`{name}` must be strictly positive (a price or level); position {pos} "
            f"holds {arr[pos]}"
        )
        raise SchemaError(msg)
    return arr, start


def same_length(**arrays: FloatArray) -> int:
    """Return the common length of ``arrays``, or raise naming the odd one out."""
    items = list(arrays.items())
    first_name, first = items[0]
    for name, arr in items[1:]:
        if arr.size != first.size:
            msg = (
                f"`{name}` has {arr.size} values but `{first_name}` has {first.size}; "
                "pass series of equal length, aligned by session"
            )
            raise SchemaError(msg)
    return first.size


def parse_aligned(
    inputs: dict[str, ArrayInput], *, positive: Collection[str] = ()
) -> tuple[list[FloatArray], int]:
    """Parse series that go together: equal lengths, one common start.

    The common start is the latest first value among them. ``positive`` names
    the inputs that must be strictly positive.
    """
    parsed = {n: parse(v, n, positive=n in positive) for n, v in inputs.items()}
    same_length(**{n: arr for n, (arr, _) in parsed.items()})
    start = max(s for _, s in parsed.values())
    return [arr for arr, _ in parsed.values()], start


def polars_like(*inputs: object) -> pl.Series | None:
    """The first Polars Series among ``inputs`` (decides the output type)."""
    for item in inputs:
        if isinstance(item, pl.Series):
            return item
    return None


def shape_output(values: FloatArray, like: pl.Series | None) -> pl.Series | FloatArray:
    """A Polars Series with nulls for NaN if ``like`` is a Series, else ``values``."""
    if like is None:
        return values
    return pl.Series(like.name, values, dtype=pl.Float64, nan_to_null=True)


def check_period(period: object, name: str, *, minimum: int = 1) -> int:
    """Return ``period`` as an ``int`` if it is an integer of at least ``minimum``."""
    if isinstance(period, bool) or not isinstance(period, int | np.integer):
        msg = f"`{name}` must be an integer; got {period!r}"
        raise MethodologyError(msg)
    if period < minimum:
        msg = f"`{name}` must be at least {minimum}; got {period}"
        raise MethodologyError(msg)
    return int(period)


def check_ddof(ddof: object) -> int:
    """Return ``ddof`` (delta degrees of freedom) if it is an integer >= 0."""
    return check_period(ddof, "ddof", minimum=0)


def check_periods_per_year(periods_per_year: object) -> float:
    """Return ``periods_per_year`` if it is a finite positive number."""
    if isinstance(periods_per_year, bool) or not isinstance(
        periods_per_year, int | float | np.integer | np.floating
    ):
        msg = f"`periods_per_year` must be a number; got {periods_per_year!r}"
        raise MethodologyError(msg)
    value = float(periods_per_year)
    if not (np.isfinite(value) and value > 0.0):
        msg = (
            f"`periods_per_year` must be positive and finite (252 for sessions, 12 "
            f"for months); got {periods_per_year!r}"
        )
        raise MethodologyError(msg)
    return value


def check_choice(value: object, name: str, allowed: Collection[str]) -> str:
    """Return ``value`` if it is one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        msg = f"`{name}` must be one of {choices}; got {value!r}"
        raise MethodologyError(msg)
    return value


def nan_array(size: int) -> FloatArray:
    """An array of ``size`` NaN."""
    return np.full(size, np.nan, dtype=np.float64)


def windows(values: FloatArray, window: int) -> FloatArray:
    """Trailing windows of ``values``: row *k* holds ``values[k : k + window]``.

    There are ``len(values) - window + 1`` rows (none if the series is shorter).
    """
    if values.size < window:
        return np.empty((0, window), dtype=np.float64)
    return sliding_window_view(values, window)


def squared_deviations(block: FloatArray, ddof: int) -> FloatArray:
    """Variance of each row of ``block`` by the corrected two-pass algorithm.

    The mean is taken first; the sum of squared deviations is then corrected by
    the square of the (ideally zero) sum of deviations, which removes the
    first-order error of the computed mean (Chan, Golub and LeVeque 1983). Unlike
    the one-pass ``sum(x^2) - sum(x)^2 / n``, nothing cancels catastrophically
    when the mean is large compared with the spread (NIST StRD NumAcc 1-4).
    """
    n = block.shape[1]
    dev: FloatArray = block - block.mean(axis=1, keepdims=True)
    total: FloatArray = dev.sum(axis=1)
    ss: FloatArray = (dev * dev).sum(axis=1) - total * total / n
    out: FloatArray = np.maximum(ss, 0.0) / (n - ddof)
    return out


def require_columns(frame: pl.DataFrame, what: str, columns: Sequence[str]) -> None:
    """Raise :class:`SchemaError` naming the columns ``frame`` lacks, if any."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"{what} lacks column(s) {', '.join(missing)}; it has "
            f"{', '.join(frame.columns) or 'none'}"
        )
        raise SchemaError(msg)
