"""The market a calculation reads: rows indexed by session, read point in time.

:class:`MarketHistory` keeps a :data:`r2k.schemas.MARKET` frame in ``session``,
``security_id`` order with the row offset of every session, so the rows of a
window are a zero-copy slice, and numbers the lines once so the book can place
rows in dense arrays without joining on ``security_id``.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date

import numpy as np
import polars as pl

from r2k import schemas

_EPOCH = date(1970, 1, 1)


def epoch_day(d: date) -> int:
    """Days since 1970-01-01 (the physical value of a ``pl.Date``).

    Examples
    --------
    >>> epoch_day(date(1970, 1, 2))
    1
    """
    return (d - _EPOCH).days


class MarketHistory:
    """A MARKET frame indexed by session, read only up to a given date.

    The frame is kept in ``session``, ``security_id`` order, with the row offset of
    every session, so the rows of a window of sessions are a zero-copy slice. A
    frame already in that order (the synthetic generator's, the panel's) is only
    checked, in one linear pass, not sorted again. On first use it also numbers
    the lines (see :meth:`line_codes`), so the calculation can place rows in dense
    arrays without joining on ``security_id``.

    Parameters
    ----------
    market
        :data:`r2k.schemas.MARKET` rows (any order).
    """

    def __init__(self, market: pl.DataFrame) -> None:
        frame = schemas.check_schema(market, schemas.MARKET, source="market")
        if not _in_session_order(frame):
            frame = frame.sort("session", "security_id")
        self.frame = frame
        days = frame["session"].to_physical().to_numpy()
        # Row offset of every session, then the row count: session j's rows are
        # offsets[j] .. offsets[j + 1].
        starts = np.flatnonzero(days[1:] != days[:-1]) + 1
        self._offsets = np.concatenate(([0], starts, [days.size])).astype(np.int64)
        self._session_days = days[self._offsets[:-1]] if days.size else days
        self.sessions: tuple[date, ...] = tuple(
            pl.Series(self._session_days, dtype=pl.Int32).cast(pl.Date).to_list()
        )
        self._first: pl.DataFrame | None = None
        self._lines: pl.Series | None = None
        self._codes: np.ndarray | None = None

    def rows(self, first: date, last: date) -> pl.DataFrame:
        """Rows dated ``first`` .. ``last`` inclusive."""
        lo, hi = self._session_range(first, last)
        start, stop = int(self._offsets[lo]), int(self._offsets[hi])
        return self.frame.slice(start, stop - start)

    def cross_section(self, d: date) -> pl.DataFrame:
        """Rows of session ``d`` (empty if the market has none)."""
        return self.rows(d, d)

    def on_or_before(self, d: date) -> date:
        """The latest session on or before ``d`` (the first session if none)."""
        i = bisect_right(self.sessions, d)
        return self.sessions[max(i - 1, 0)]

    def session_rows(self, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
        """The sessions that :meth:`rows` ``(first, last)`` covers, in row order.

        Returns
        -------
        days, counts
            Each session as days since 1970-01-01, and its number of rows.
        """
        lo, hi = self._session_range(first, last)
        return self._session_days[lo:hi], np.diff(self._offsets[lo : hi + 1])

    def first_sessions(self) -> pl.DataFrame:
        """First session of every line (``security_id``, ``first_session``)."""
        self._number_lines()
        assert self._first is not None
        return self._first

    def lines(self) -> pl.Series:
        """Every line of the market (``security_id``), in ascending order."""
        self._number_lines()
        assert self._lines is not None
        return self._lines

    def line_codes(self, first: date, last: date) -> np.ndarray:
        """The line of every row of :meth:`rows` ``(first, last)``.

        A line's code is its position in :meth:`lines`.
        """
        self._number_lines()
        assert self._codes is not None
        lo, hi = self._session_range(first, last)
        return self._codes[self._offsets[lo] : self._offsets[hi]]

    def _number_lines(self) -> None:
        """Compute the lines, their codes and first sessions (once)."""
        if self._codes is not None:
            return
        ids = self.frame["security_id"]
        # Rows are in session order: a line's first row is its first session.
        first_rows = ids.arg_unique()
        self._first = self.frame.select(
            pl.col("security_id").gather(first_rows),
            first_session=pl.col("session").gather(first_rows),
        )
        self._lines = self._first["security_id"].drop_nulls().sort()
        self._codes = ids.cast(pl.Enum(self._lines)).to_physical().to_numpy()

    def _session_range(self, first: date, last: date) -> tuple[int, int]:
        """Indices ``lo .. hi`` (half-open) of the sessions dated first .. last."""
        days = self._session_days
        lo = int(np.searchsorted(days, days.dtype.type(epoch_day(first))))
        hi = int(np.searchsorted(days, days.dtype.type(epoch_day(last)), side="right"))
        return lo, hi


def _in_session_order(frame: pl.DataFrame) -> bool:
    """Whether ``frame`` is sorted by ``session`` then ``security_id`` (no nulls).

    One pass comparing every row with the one before (zero-copy slices).
    """
    n = frame.height
    if n < 2:
        return True
    session, line = frame["session"], frame["security_id"]
    before, after = session.slice(0, n - 1), session.slice(1)
    line_before, line_after = line.slice(0, n - 1), line.slice(1)
    in_order = (after > before) | ((after == before) & (line_after >= line_before))
    return bool(in_order.fill_null(value=False).all())
