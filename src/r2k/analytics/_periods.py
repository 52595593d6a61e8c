"""Session labels and runs of sessions, shared by the period analytics (private).

Used by :mod:`~r2k.analytics.rallies`, :mod:`~r2k.analytics.ranges` and
:mod:`~r2k.analytics.backtest`: a ``sessions`` argument labels the positions of
a level series (one label per level, strictly increasing), and a boolean mask is
cut into runs of consecutive ``True`` positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import polars as pl

from r2k.errors import MethodologyError, SchemaError

SessionsInput: TypeAlias = pl.Series | Sequence[date]
"""Session labels: a Polars Series (``Date`` usually) or a sequence of dates."""

IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]


def parse_sessions(sessions: SessionsInput, size: int) -> pl.Series:
    """Return ``sessions`` as a Series named ``session``, checked against ``size``.

    The labels must be non-missing and strictly increasing (sorted, no repeats),
    and there must be one per level.
    """
    if isinstance(sessions, pl.Series):
        series = sessions.alias("session")
    else:
        series = pl.Series("session", list(sessions))
    if series.len() != size:
        msg = (
            f"`sessions` has {series.len()} labels but the levels have {size} "
            "values; pass one session per level, aligned by position"
        )
        raise SchemaError(msg)
    if series.null_count():
        pos = int(series.is_null().arg_true()[0])
        msg = f"`sessions` has a missing label at position {pos}; drop that row"
        raise SchemaError(msg)
    if size > 1:
        later = series.slice(1) > series.slice(0, size - 1)
        if not later.all():
            pos = int((~later).arg_true()[0]) + 1
            msg = (
                f"`sessions` must be strictly increasing; position {pos} "
                f"({series[pos]}) does not follow position {pos - 1} "
                f"({series[pos - 1]}); sort the series and drop repeats"
            )
            raise SchemaError(msg)
    return series


def check_fraction(
    value: object, name: str, *, upper: float = 1.0, allow_zero: bool = False
) -> float:
    """Return ``value`` as a float in ``(0, upper)`` (or ``[0, upper)``)."""
    if isinstance(value, bool) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        msg = f"`{name}` must be a number (a fraction, 0.10 for 10%); got {value!r}"
        raise MethodologyError(msg)
    x = float(value)
    low_ok = x >= 0.0 if allow_zero else x > 0.0
    if not (np.isfinite(x) and low_ok and x < upper):
        bound = "[0" if allow_zero else "(0"
        msg = (
            f"`{name}` must be a fraction in {bound}, {upper}) (0.10 for 10%, not "
            f"10); got {value!r}"
        )
        raise MethodologyError(msg)
    return x


def runs(mask: BoolArray) -> tuple[IntArray, IntArray]:
    """First and last position of each run of consecutive ``True`` in ``mask``."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1).astype(np.int64)
    ends = (np.flatnonzero(edges == -1) - 1).astype(np.int64)
    return starts, ends
