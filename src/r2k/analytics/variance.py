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

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

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
    from collections.abc import Iterable, Iterator

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


#: Outputs per row of the window sums (at least; a row holds ``window - 1`` more
#: values). Each row is summed relative to its own middle value.
_ROW = 4096
#: Values per chunk of rows, so that the intermediates stay in the CPU cache.
_CHUNK = 1 << 16
#: Full rows from which a computation is split over two threads.
_PARALLEL_ROWS = 32
#: Relative error a window may reach before it is recomputed by two passes.
_ROLLING_TOLERANCE = 5e-10
#: Values per block when the flagged windows are recomputed by two passes.
_REDO_BLOCK = 1 << 20


def _depth(window: int) -> int:
    """Additions on the longest path of a window sum of :func:`_window_sums`."""
    return window.bit_length() - 1 + window.bit_count() - 1


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Views into reused buffers for a chunk of ``rows`` rows of ``length`` values.

    Built once per shape (:func:`_chunk`) so that a chunk costs only its
    arithmetic: the deviations ``y`` (rows x length, contiguous), their squares
    laid after them, the additions of the window sums (:func:`_window_sums`
    plan) and the views of the results.
    """

    y: FloatArray  # rows x length
    flat: FloatArray  # y, one-dimensional
    squares: FloatArray  # the squares of flat, right after it
    adds: tuple[tuple[FloatArray, FloatArray, FloatArray], ...]  # a + b -> out
    s1: FloatArray  # window sums of y (every start, straddling ones included)
    s2: FloatArray  # window sums of the squares
    ss: FloatArray  # sums of squared deviations
    grid: FloatArray  # rows x outputs: ss of the windows inside a row
    s2_grid: FloatArray  # rows x outputs: s2 of the windows inside a row


def _window_sums(
    bufs: list[FloatArray], size: int, w: int
) -> tuple[tuple[tuple[FloatArray, FloatArray, FloatArray], ...], int]:
    """The additions that sum ``w`` consecutive values of ``bufs[0][:size]``.

    Pairwise, never a difference of running totals: ``w`` is split into its
    binary digits, a sum of ``2p`` values is two sums of ``p`` (doubling), and a
    window sum adds the doubled sums of the set digits at their offsets. Nothing
    cancels and a sum's rounding error is at most ``_depth(w)`` units of the sum
    of its terms' magnitudes. Every addition is one contiguous vectorised
    ``a + b -> out`` over the whole chunk. Returns the additions, in order, and
    the buffer whose first ``size - w + 1`` values hold the sums (one per start)
    once they are done; the three buffers are clobbered.
    """
    m = size - w + 1
    cur, span, p, offset = 0, size, 1, 0
    adds: list[tuple[FloatArray, FloatArray, FloatArray]] = []
    acc: FloatArray | None = None
    held = -1  # the buffer the accumulator lives in
    while True:
        level = bufs[cur][:span]
        if w & p:
            if acc is None:
                acc, held = level[:m], cur  # kept in place: no copy
            else:
                adds.append((acc, level[offset : offset + m], acc))
            offset += p
        if p << 1 > w:
            break
        nxt = next(i for i in range(3) if i not in (cur, held))
        span -= p
        adds.append((level[:span], level[p : p + span], bufs[nxt][:span]))
        cur, p = nxt, p << 1
    assert acc is not None  # w >= 1 has a set digit
    return tuple(adds), held


def _chunk(
    rows: int, length: int, w: int, bufs: list[FloatArray], scratch: FloatArray
) -> _Chunk:
    """The views of a chunk of ``rows`` rows of ``length`` values (:class:`_Chunk`)."""
    size = rows * length
    valid = size - w + 1  # sums that start inside the rows' values
    adds, held = _window_sums(bufs, 2 * size, w)
    sums = bufs[held]
    return _Chunk(
        y=bufs[0][:size].reshape(rows, length),
        flat=bufs[0][:size],
        squares=bufs[0][size : 2 * size],
        adds=adds,
        s1=sums[:valid],
        s2=sums[size : size + valid],
        ss=scratch[:valid],
        grid=scratch[:size].reshape(rows, length)[:, : length - w + 1],
        s2_grid=sums[size : 2 * size].reshape(rows, length)[:, : length - w + 1],
    )


def _rows(
    c: _Chunk,
    view: FloatArray,
    out: FloatArray,
    *,
    w: int,
    flag: float,
    floor: float,
    scale: float,
    root: bool,
) -> npt.NDArray[np.intp] | None:
    """Fill ``out`` (rows x outputs) from ``view`` (rows x values); flagged windows.

    Each row is taken relative to its middle value (exact: one value of the
    row); the rows are laid end to end, followed by the squares of their
    deviations, and summed over every ``w`` consecutive values at once (sums that
    straddle two rows are computed and never read). A window's sum of squared
    deviations is ``S2 - S1^2 / w``; its rounding error is at most about
    ``(3 depth + 5) u S2`` (``u`` the unit roundoff, using ``S1^2 / w <= S2``),
    and below ``floor`` squares may have been rounded in the subnormal range. A
    window whose result is below ``max(flag * S2, floor)`` (``flag`` = that bound
    over ``_ROLLING_TOLERANCE``) is returned, as its flat position in ``out``, to
    be recomputed; a row whose least result clears its largest bound (nearly
    every row) needs no check window by window.
    """
    length = view.shape[1]
    np.subtract(view, view[:, length // 2 : length // 2 + 1], out=c.y)
    np.multiply(c.flat, c.flat, out=c.squares)
    for a, b, into in c.adds:
        np.add(a, b, out=into)
    ss = c.ss
    np.multiply(c.s1, c.s1, out=ss)
    np.multiply(ss, 1.0 / w, out=ss)
    np.subtract(c.s2, ss, out=ss)
    least = c.grid.min(axis=1)  # per row; NaN if one is NaN
    bound = np.maximum(flag * c.s2_grid.max(axis=1), floor)
    flagged = None
    doubt = np.flatnonzero(~(least >= bound))  # rows to check window by window
    if doubt.size:
        limit = np.maximum(flag * c.s2_grid[doubt], floor)
        row, col = np.nonzero(~(c.grid[doubt] >= limit))  # NaN fails too
        if row.size:
            c.grid[doubt[row], col] = 0.0  # replaced later; no root of a negative
            flagged = doubt[row] * c.grid.shape[1] + col
    np.multiply(c.grid, scale, out=out)
    if root:
        np.sqrt(out, out=out)
    return flagged


def rolling_variance_into(
    values: FloatArray,
    window: int,
    ddof: int,
    out: FloatArray,
    *,
    factor: float = 1.0,
    root: bool = False,
) -> None:
    """Write ``factor`` x the variance of every trailing window into ``out`` in place.

    The windows' sums are pairwise (see :func:`_window_sums`): O(n log w)
    contiguous vectorised additions over cache-sized chunks of rows of at least
    ``_ROW`` outputs; every row is summed relative to its own middle value, so a
    large mean beside a small spread (NIST StRD NumAcc 1-4) or a price that
    trends over the series costs no precision. Every window whose error bound
    exceeds ``_ROLLING_TOLERANCE`` of its value (a near-constant window, a
    constant run far from its row's middle value) is recomputed by the corrected
    two-pass :func:`~r2k.analytics._inputs.squared_deviations`, so every value
    agrees with the two-pass one to ``5e-10`` relative (the 1e-9 promised, with
    room). From ``_PARALLEL_ROWS`` rows on, a worker thread takes chunks too
    (the values do not depend on which thread computes a chunk).

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
    """
    n, w = values.size, window
    m = n - w + 1
    if m <= 0:
        return
    if w == 1:  # a single value deviates from itself by nothing
        out[:] = 0.0
        return
    info = np.finfo(np.float64)
    outputs = max(_ROW, 8 * w)  # per row
    setup = _Setup(
        w=w,
        outputs=outputs,
        per=max(1, _CHUNK // (outputs + w - 1)),
        flag=(3 * _depth(w) + 5) * float(info.eps) / _ROLLING_TOLERANCE,
        # Squares below the normal range are rounded to multiples of the smallest
        # subnormal: at most (2 w + 4) of those in a window's result.
        floor=(2 * w + 4) * float(info.smallest_subnormal) / _ROLLING_TOLERANCE,
        scale=factor / (w - ddof),
        root=root,
    )
    full = m // outputs
    length = outputs + w - 1
    rows = np.empty((0, length))  # the full rows' values, overlapping by w - 1
    if full:
        rows = sliding_window_view(values[: full * outputs + w - 1], length)[::outputs]
    grid = out[: full * outputs].reshape(full, outputs)
    starts = range(0, full, setup.per)  # the chunks of full rows
    # A second thread takes chunks too when the series is long and a second core
    # is there (NumPy releases the GIL in its loops); chunks are handed out one
    # at a time, so a worker that gets no core only leaves them to this one. The
    # values are the same, row for row, whoever computes them.
    queue = _Queue(starts)
    helper = (
        _executor().submit(_fill, setup, rows, grid, queue)
        if full >= _PARALLEL_ROWS and _cores() > 1
        else None
    )
    redo = _fill(setup, rows, grid, queue)
    start = full * outputs
    if start < m:  # the last, shorter row
        tail = values[start:][np.newaxis, :]
        redo += [
            hit + start
            for hit in _fill(setup, tail, out[start:][np.newaxis, :], iter([0]))
        ]
    if helper is not None:
        redo += helper.result()
    if redo:
        _recompute(values, w, ddof, out, np.concatenate(redo), factor=factor, root=root)


@dataclass(frozen=True, slots=True)
class _Setup:
    """The constants of one call of :func:`rolling_variance_into`."""

    w: int  # window
    outputs: int  # per full row
    per: int  # full rows per chunk
    flag: float  # bound of the relative rounding error over the tolerance
    floor: float  # least result clear of subnormal rounding
    scale: float  # factor / (window - ddof)
    root: bool  # write square roots


class _Queue:
    """Chunk starts handed out one at a time to the threads that share it."""

    def __init__(self, starts: Iterable[int]) -> None:
        self._starts = iter(starts)
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        with self._lock:
            return next(self._starts)


def _fill(
    setup: _Setup, rows: FloatArray, grid: FloatArray, chunks: Iterator[int]
) -> list[npt.NDArray[np.intp]]:
    """Fill ``grid`` from ``rows`` (values), chunk by chunk; flagged positions.

    ``chunks`` yields the first row of each chunk to do (``setup.per`` rows); a
    :class:`_Queue` is shared by two threads, each with its own buffers.
    Positions are flat in ``grid``.
    """
    length = rows.shape[1]
    bufs, scratch = _buffers(min(setup.per, rows.shape[0]) * length)
    plans: dict[int, _Chunk] = {}
    found: list[npt.NDArray[np.intp]] = []
    for lo in chunks:
        view = rows[lo : lo + setup.per]
        count = view.shape[0]
        if count not in plans:
            plans[count] = _chunk(count, length, setup.w, bufs, scratch)
        hit = _rows(
            plans[count],
            view,
            grid[lo : lo + setup.per],
            w=setup.w,
            flag=setup.flag,
            floor=setup.floor,
            scale=setup.scale,
            root=setup.root,
        )
        if hit is not None:
            found.append(hit + lo * grid.shape[1])
    return found


#: Buffers of each thread, kept from one call to the next: fresh ones (about
#: 3.5 MB) are mapped and faulted in by the kernel on every call (about 1.3 ms
#: when measured alone, a quarter of the arithmetic).
_KEPT = threading.local()
#: Values per chunk up to which a thread keeps its buffers.
_KEEP_MAX = 1 << 18


def _buffers(size: int) -> tuple[list[FloatArray], FloatArray]:
    """Three buffers of ``2 size`` values and one of ``size``."""
    kept: tuple[list[FloatArray], FloatArray] | None
    kept = getattr(_KEPT, "buffers", None)
    if kept is not None and kept[1].size >= size:
        bufs, scratch = kept
        return [b[: 2 * size] for b in bufs], scratch[:size]
    made = ([np.empty(2 * size) for _ in range(3)], np.empty(size))
    if size <= _KEEP_MAX:
        _KEPT.buffers = made
    return made


def _cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@functools.cache
def _executor() -> ThreadPoolExecutor:
    """The one worker thread of the long rolling computations (made on first use)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="r2k-rolling")


if hasattr(os, "register_at_fork"):  # a forked child has no worker thread: new one
    os.register_at_fork(after_in_child=_executor.cache_clear)


def _recompute(
    values: FloatArray,
    w: int,
    ddof: int,
    out: FloatArray,
    positions: npt.NDArray[np.intp],
    *,
    factor: float,
    root: bool,
) -> None:
    """Two-pass values of the windows starting at ``positions``."""
    view = windows(values, w)
    step = max(1, _REDO_BLOCK // w)
    for lo in range(0, positions.size, step):
        at = positions[lo : lo + step]
        var = squared_deviations(view[at], ddof) * factor
        out[at] = np.sqrt(var) if root else var


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
) -> FloatArray:
    """``factor`` x the variance (or its root) of every trailing window, aligned.

    ``x`` is a parsed series whose values begin at ``start`` (the warm-up before
    it is missing). The result has ``len(x)`` values, NaN until a full window of
    values is available.
    """
    w = check_period(window, "window")
    d = check_ddof(ddof)
    if w <= d:
        msg = f"`window` ({w}) must exceed `ddof` ({d})"
        raise MethodologyError(msg)
    out = np.empty(x.size, dtype=np.float64)
    first = min(start + w - 1, x.size)
    out[:first] = np.nan
    rolling_variance_into(x[start:], w, d, out[first:], factor=factor, root=root)
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
    x, start = parse(values, "values")
    return shape_output(rolling_aligned(x, start, window, ddof), polars_like(values))


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
    x, start = parse(values, "values")
    return shape_output(
        rolling_aligned(x, start, window, ddof, root=True), polars_like(values)
    )
