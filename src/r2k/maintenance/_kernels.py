"""The compiled loops of the walk: a block's layout and a session's open.

Each loop does what a few whole-array NumPy passes did, in one pass and without
their temporaries; none does floating-point arithmetic but the one product of
:func:`open_session` (IEEE, as NumPy's), so every value is the NumPy passes' own:

* :func:`mark_lines` and :func:`place_rows` lay the market rows of a block out in
  its (sessions x lines) array: row ``r`` of session ``s`` goes to row
  ``rows[s]``, column ``code_column[codes[r]]`` (NumPy built a flat index per row
  for that: three passes and two arrays of the rows' size).
* :func:`fill_forward` carries each column's last price down its gaps, at most
  ``limit`` rows, on the columns named (:func:`r2k.maintenance.book.ffill`'s
  values, without its index arrays).
* :func:`latest_values` finds each line's latest share count in the sessions
  before a row (:meth:`r2k.maintenance.book.Block.shares_at`), in one pass
  from the last session back.
* :func:`open_session` records a session's index shares, grows or ends the runs
  without a price, and lists the held lines whose run reached the stale limit,
  which the engine's stale rule then reads (the NumPy steps scanned every line
  three times a session).

Numba compiles them for :data:`_CODES` when this module is first imported and
keeps them in its on-disk cache beside this file (``make install`` imports it
once to fill the cache), or in memory where that folder is read-only; as with
:mod:`r2k.analytics._rolling_kernel`, the module is imported only when a
calculation runs, so no other command loads Numba.
"""

from __future__ import annotations

import numpy as np
from numba import types

from r2k._numba import array_type, compile_loop

#: The integer types of line codes the layout loops are compiled for (a market's
#: codes are the narrowest unsigned type that holds them); others are cast.
_CODES = ("uint8", "uint16", "uint32", "int64")


@compile_loop(
    [types.void(array_type(c), array_type("boolean", writes=True)) for c in _CODES]
)
def _mark_lines(codes: np.ndarray, seen: np.ndarray) -> None:
    for r in range(codes.size):
        seen[codes[r]] = True


@compile_loop(
    [
        types.void(
            array_type(c),
            array_type("int64"),
            array_type("int64"),
            array_type("int64"),
            array_type("float64"),
            array_type("float64", 2, writes=True),
        )
        for c in _CODES
    ]
)
def _place_rows(
    codes: np.ndarray,
    counts: np.ndarray,
    rows: np.ndarray,
    code_column: np.ndarray,
    prices: np.ndarray,
    out: np.ndarray,
) -> None:
    r = 0
    for s in range(counts.size):
        t = rows[s]
        for _ in range(counts[s]):
            out[t, code_column[codes[r]]] = prices[r]
            r += 1


@compile_loop(
    [
        types.void(
            array_type("float64", 2, writes=True), array_type("int64"), types.int64
        )
    ]
)
def _fill_forward(values: np.ndarray, columns: np.ndarray, limit: int) -> None:
    n_rows = values.shape[0]
    for j in range(columns.size):
        c = columns[j]
        last = -1
        for t in range(n_rows):
            if np.isnan(values[t, c]):
                if last >= 0 and t - last <= limit:
                    values[t, c] = values[last, c]
            else:
                last = t


@compile_loop(
    [
        types.void(
            array_type("float64"),
            array_type("int64"),
            array_type("int64"),
            array_type("float64", writes=True),
        )
    ]
)
def _latest_values(
    values: np.ndarray, counts: np.ndarray, columns: np.ndarray, out: np.ndarray
) -> None:
    stop = values.size
    for s in range(counts.size - 1, -1, -1):
        start = stop - counts[s]
        for r in range(stop - 1, start - 1, -1):
            c = columns[r]
            if np.isnan(out[c]) and not np.isnan(values[r]):
                out[c] = values[r]
        stop = start


@compile_loop(
    [
        types.int64(
            array_type("float64"),
            array_type("float64"),
            array_type("int64", writes=True),
            array_type("boolean"),
            array_type("float64", writes=True),
            types.int64,
            array_type("int64", writes=True),
        )
    ]
)
def open_session(
    shares: np.ndarray,
    floats: np.ndarray,
    run: np.ndarray,
    missing: np.ndarray,
    index_shares: np.ndarray,
    limit: int,
    stale: np.ndarray,
) -> int:
    """Record a session's index shares and runs; list its stale held lines.

    ``index_shares`` becomes ``shares x floats``; each line's ``run`` of sessions
    without a price grows by one where ``missing`` and ends (0) elsewhere. The
    lines held (``shares > 0``) whose run is now at least ``limit`` are written
    to the front of ``stale`` (ascending); returns how many. Called once a
    session, so compiled as is (no wrapper: C-contiguous arrays of these types).
    """
    n = 0
    for c in range(shares.size):
        index_shares[c] = shares[c] * floats[c]
        r = run[c] + 1 if missing[c] else 0
        run[c] = r
        if r >= limit and shares[c] > 0:
            stale[n] = c
            n += 1
    return n


def _codes(codes: np.ndarray) -> np.ndarray:
    """``codes`` as one of the compiled types (C-contiguous)."""
    if codes.dtype.name not in _CODES:
        codes = codes.astype(np.int64)
    return np.ascontiguousarray(codes)


def mark_lines(codes: np.ndarray, seen: np.ndarray) -> None:
    """Set ``seen[code]`` for every one of ``codes`` (``seen[codes] = True``)."""
    _mark_lines(_codes(codes), seen)


def place_rows(
    codes: np.ndarray,
    counts: np.ndarray,
    rows: np.ndarray,
    code_column: np.ndarray,
    prices: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write each market row's price to its cell of ``out`` (sessions x lines).

    The rows come session by session: ``counts[s]`` rows of session ``s``, which
    is row ``rows[s]`` of ``out``; a row's column is ``code_column`` of its line
    code (every code of ``codes`` has one).
    """
    _place_rows(
        _codes(codes),
        counts.astype(np.int64, copy=False),
        rows.astype(np.int64, copy=False),
        code_column,
        np.ascontiguousarray(prices, dtype=np.float64),
        out,
    )


def fill_forward(values: np.ndarray, columns: np.ndarray, limit: int) -> None:
    """Forward-fill the NaN of ``columns`` of ``values`` in place (``limit`` rows).

    A NaN takes the column's last non-NaN value above it when that is at most
    ``limit`` rows up, and stays NaN otherwise (:func:`r2k.maintenance.book.ffill`).
    """
    _fill_forward(values, columns.astype(np.int64, copy=False), limit)


def latest_values(
    values: np.ndarray, counts: np.ndarray, columns: np.ndarray, out: np.ndarray
) -> None:
    """Each column's latest non-NaN value of session-ordered rows, where ``out`` is NaN.

    ``counts[s]`` rows of session ``s`` in turn; row ``r`` is column
    ``columns[r]`` (every one a column of ``out``). The sessions are read from
    the last back; a column keeps the first value found (of two rows of one
    session, the later), as :meth:`r2k.maintenance.book.Block.shares_at` did
    session by session.
    """
    _latest_values(
        np.ascontiguousarray(values, dtype=np.float64),
        counts.astype(np.int64, copy=False),
        np.ascontiguousarray(columns, dtype=np.int64),
        out,
    )
