"""The compiled loops of a rank-day universe's per-line history.

:func:`history_sums` gives, in one pass over a history's rows, what
:func:`r2k.construction.universe._history_stats` asks Polars' group-by for: each
line's compensated sums and counts of the closes in the 30-day window, of the
volumes and of the dollar volumes, and its last share count. Polars sums a
group's values in row order with Kahan compensation (``y = x - c``,
``t = s + y``, ``c = (t - s) - y``, ``s = t``, nulls skipped) and divides by the
count; the loop takes the same steps in the same order, so each mean is Polars'
own, bit for bit (``tests/construction/test_universe_fast_paths.py`` holds the
two equal). For long groups Polars sums otherwise: the caller keeps the loop to
histories of at most :data:`KAHAN_ROWS` rows a line. :func:`previous_rows`
pairs each row with its line's row before, for the split-lag test
(:func:`r2k.construction.universe.split_lags`).

Compiled on first import (see :mod:`r2k._numba`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import types

from r2k._numba import array_type, compile_loop

#: Rows of a line up to which Polars' group sums are the row-order Kahan sums.
KAHAN_ROWS = 64


def _signature(volume: str) -> Any:  # a Numba signature
    return types.void(
        array_type("int64"),  # each row's line code
        array_type("boolean"),  # the row is in the close window
        array_type("float64"),  # close (NaN: null)
        array_type(volume),  # volume (NaN: null)
        array_type("float64"),  # shares outstanding (NaN: null)
        array_type("int64", writes=True),  # rows of each line
        array_type("float64", 2, writes=True),  # sums: window close, volume, dollars
        array_type("int64", 2, writes=True),  # their counts
        array_type("float64", writes=True),  # the last share count (NaN: none)
        array_type("int64", writes=True),  # NaN closes, volumes and share counts
    )


@compile_loop([_signature("float64"), _signature("int64")])
def _history_sums(
    codes: np.ndarray,
    window: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    shares: np.ndarray,
    rows: np.ndarray,
    sums: np.ndarray,
    counts: np.ndarray,
    last: np.ndarray,
    nans: np.ndarray,
) -> None:
    comp = np.zeros(sums.shape)
    for r in range(codes.size):
        g = codes[r]
        rows[g] += 1
        x, v = close[r], np.float64(volume[r])
        nans[0] += np.isnan(x)
        nans[1] += np.isnan(v)
        for k in range(3):
            if k == 0:
                if not window[r] or np.isnan(x):
                    continue
                value = x
            elif k == 1:
                if np.isnan(v):
                    continue
                value = v
            else:
                if np.isnan(v) or np.isnan(x):
                    continue
                value = v * x
            y = value - comp[k, g]
            t = sums[k, g] + y
            comp[k, g] = (t - sums[k, g]) - y
            sums[k, g] = t
            counts[k, g] += 1
        if np.isnan(shares[r]):
            nans[2] += 1
        else:
            last[g] = shares[r]


def history_sums(
    codes: np.ndarray,
    window: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    shares: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows, sums (3 x ``size``), counts (3 x ``size``) and last share count per line.

    The sums are of the closes in ``window``, the volumes and the dollar
    volumes (volume x close); a NaN value is a null and is skipped. Last, how
    many NaN closes, volumes and share counts there are (a caller whose nulls
    came out as NaN tells a NaN of its own by them). ``volume`` is read as it
    is when it holds integers (no null), as floats otherwise.
    """
    rows = np.zeros(size, dtype=np.int64)
    sums = np.zeros((3, size))
    counts = np.zeros((3, size), dtype=np.int64)
    last = np.full(size, np.nan)
    nans = np.zeros(3, dtype=np.int64)
    whole = volume.dtype == np.int64
    _history_sums(
        np.ascontiguousarray(codes, dtype=np.int64),
        np.ascontiguousarray(window, dtype=np.bool_),
        np.ascontiguousarray(close, dtype=np.float64),
        np.ascontiguousarray(volume, dtype=np.int64 if whole else np.float64),
        np.ascontiguousarray(shares, dtype=np.float64),
        rows,
        sums,
        counts,
        last,
        nans,
    )
    return rows, sums, counts, last, nans


@compile_loop([types.void(array_type("int64"), array_type("int64", writes=True))])
def _previous_rows(codes: np.ndarray, out: np.ndarray) -> None:
    size = codes.max() + 1 if codes.size else 0
    last = np.full(size, -1, dtype=np.int64)
    for r in range(codes.size):
        g = codes[r]
        out[r] = last[g]
        last[g] = r


def previous_rows(codes: np.ndarray) -> np.ndarray:
    """Each row's previous row of the same line code (-1: its line's first row).

    What a stable sort of the codes pairs (a row and the one before it in its
    line's run), without the sort.
    """
    out = np.empty(codes.size, dtype=np.int64)
    _previous_rows(np.ascontiguousarray(codes, dtype=np.int64), out)
    return out
