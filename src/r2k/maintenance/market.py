"""The market a calculation reads: rows indexed by session, read point in time.

:class:`MarketHistory` keeps a :data:`r2k.schemas.MARKET` frame in ``session``,
``security_id`` order with the row offset of every session, so the rows of a
window are a zero-copy slice. It numbers the lines once, when the market is
loaded (a line's code is its position in the sorted ``security_id`` values), so
the calculation places rows in dense arrays and looks lines up by integer code,
never by joining or searching on ``security_id`` strings; and it keeps the
classification memo of the load (:class:`r2k.construction.classify.LineClasses`),
so each line's name is classified once however many reconstitutions and IPO
screens read it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from typing import TYPE_CHECKING, Protocol

import numpy as np
import polars as pl

from r2k import schemas
from r2k.construction.classify import LINE_KEYS, LineClasses
from r2k.errors import SchemaError

if TYPE_CHECKING:
    from r2k.construction.universe import LineCodes

_EPOCH = date(1970, 1, 1)
#: Rows compared at a time by the order check (bounds its temporary arrays).
_CHUNK_ROWS = 1 << 22
#: Rows whose source code is checked against their id (spread over the frame).
_CODE_SAMPLE = 4096
#: From this many ids on, :meth:`MarketHistory.codes_of` casts to the lines' enum
#: rather than looking each id up in a dict (faster for large inputs only).
_HASHED_LOOKUPS = 20_000
#: The numeric columns of every form of market rows (:meth:`MarketHistory.column`).
_NUMERIC: tuple[str, ...] = ("close", "volume", "shares_outstanding")


def epoch_day(d: date) -> int:
    """Days since 1970-01-01 (the physical value of a ``pl.Date``).

    Examples
    --------
    >>> epoch_day(date(1970, 1, 2))
    1
    """
    return (d - _EPOCH).days


def positions(sorted_ids: pl.Series, ids: pl.Series) -> np.ndarray:
    """Position of each of ``ids`` in ``sorted_ids`` (unique, ascending).

    -1 where an id is not there (or null). A binary search per id.

    Examples
    --------
    >>> positions(pl.Series(["A", "C"]), pl.Series(["C", "B", "A"])).tolist()
    [1, -1, 0]
    """
    n = sorted_ids.len()
    if n == 0:
        return np.full(ids.len(), -1, dtype=np.int64)
    pos = sorted_ids.search_sorted(ids).to_numpy().astype(np.int64)
    np.minimum(pos, n - 1, out=pos)
    found = (sorted_ids[pos] == ids).fill_null(value=False).to_numpy()
    out: np.ndarray = np.where(found, pos, -1)
    return out


@dataclass(frozen=True, slots=True)
class FloatTable:
    """A :data:`r2k.schemas.FLOAT_FACTORS` frame coded for the calculation.

    Rows with a date, in the order they became known (``as_of`` ascending; rows of
    one date in frame order).
    """

    as_of: np.ndarray  # days since 1970-01-01, ascending
    codes: np.ndarray  # each row's line code in the market (-1: not a line of it)
    ids: pl.Series  # each row's security_id
    factors: np.ndarray  # the float factor (NaN: null)


def known_on(
    as_of: np.ndarray, keys: np.ndarray, values: np.ndarray, day: int, size: int
) -> np.ndarray:
    """Each key's value from its latest row known on ``day`` (NaN: none).

    The rows are in the order they became known (``as_of``, days since
    1970-01-01, ascending); of two rows of one key and one date, the later
    row's. ``keys`` are in ``range(size)``. What the book reads of the float
    data on a date (:meth:`r2k.maintenance.book.Book.float_as_of`) and the
    synthetic reconstitutor on a rank day.

    Examples
    --------
    >>> known_on(
    ...     np.array([1, 2, 2, 5]), np.array([0, 1, 1, 0]),
    ...     np.array([0.5, 0.7, 0.8, 0.9]), day=2, size=3,
    ... ).tolist()
    [0.5, 0.8, nan]
    """  # fmt: skip
    n = int(np.searchsorted(as_of, day, side="right"))
    latest = np.full(size, -1)  # each key's latest such row
    np.maximum.at(latest, keys[:n], np.arange(n))
    out = np.full(size, np.nan)
    found = latest >= 0
    out[found] = values[latest[found]]
    return out


class RowExpander(Protocol):
    """Turns a row range of a compact market into :data:`r2k.schemas.MARKET` rows.

    Called with ``columns``, it returns just those MARKET columns, row for row
    (the IPO and spin-off screens ask for a few rows' keys so: the strings of
    other columns are not made); ``codes``, when given, are the rows' line codes
    (:meth:`MarketHistory.line_codes`), so it need not read them from ``rows``.
    Its ``total_market_cap`` is ``close`` x ``shares_outstanding``, which
    :meth:`MarketHistory.column` computes itself (checked on a sample of rows
    when the market is made).
    """

    def __call__(
        self,
        rows: pl.DataFrame,
        columns: tuple[str, ...] | None = None,
        codes: np.ndarray | None = None,
    ) -> pl.DataFrame:
        """The MARKET rows of ``rows`` (``columns`` only, when given)."""
        ...


class MarketHistory:
    """A MARKET frame indexed by session, read only up to a given date.

    The frame is kept in ``session``, ``security_id`` order, with the row offset of
    every session, so the rows of a window of sessions are a zero-copy slice. A
    frame already in that order (the synthetic generator's, the panel's) is only
    checked, in one linear pass over the line codes, not sorted again. The lines
    are numbered once, here or by the source (see :meth:`line_codes`).

    A market may also be held *compact* (``expand``): rows of ``session``, the
    line as a ``pl.Enum`` of the lines in ascending order (its codes are the line
    codes) and the numeric columns ``close``, ``volume`` and
    ``shares_outstanding``, with a function that turns any of its row ranges into
    MARKET rows (the synthetic market's panel, 30 bytes a row against about 86
    with the strings; :func:`r2k.workflows.synthetic_run.market_history`).
    :meth:`rows` then expands the rows it returns, and :meth:`column` reads the
    numeric columns without expanding anything.

    Parameters
    ----------
    market
        :data:`r2k.schemas.MARKET` rows (any order), or the compact rows.
    codes
        The rows' line codes when the source has them (the synthetic market's
        panel numbers its lines): ``codes.lines`` distinct and ascending. They are
        checked against the ids on a sample of rows and for order; None, or codes
        that do not fit: the lines are numbered here (a pass over every id).
        Compact rows carry their codes (not read).
    expand
        For compact rows: the function from a row range of ``market`` to its
        MARKET rows, row for row (:class:`RowExpander`).
    """

    def __init__(
        self,
        market: pl.DataFrame,
        *,
        codes: LineCodes | None = None,
        expand: RowExpander | None = None,
    ) -> None:
        self._expand = expand
        if expand is not None:
            frame = _compact(market)
            _check_compact_cap(frame, expand)
        else:
            frame = schemas.check_schema(market, schemas.MARKET, source="market")
        ids = frame["security_id"]
        lines: pl.Series | None = None
        numbers: np.ndarray | None = None  # each row's line code
        first_rows: pl.Series | None = None
        days = frame["session"].to_physical().to_numpy()
        if expand is not None:  # the Enum's codes are the line codes
            lines, numbers = _enum_lines(frame), ids.to_physical().to_numpy()
            if not _coded_order(days, numbers):
                frame = frame.sort("session", pl.col("security_id").to_physical())
                numbers = frame["security_id"].to_physical().to_numpy()
        elif (
            codes is not None and _fits(codes, ids) and _coded_order(days, codes.codes)
        ):
            lines, numbers = codes.lines, codes.codes  # the source's own numbering
        elif (fixed := _fixed_lines(days, ids)) is not None:
            lines, numbers, first_rows = fixed  # every session the same lines
        elif ids.null_count() == 0:
            first_rows = ids.arg_unique()
            lines = ids.gather(first_rows).sort()
            numbers = _codes(ids, lines)
            if not _coded_order(days, numbers):
                frame = frame.sort("session", "security_id")
                numbers = _codes(frame["security_id"], lines)
                first_rows = None
        elif not _in_session_order(frame):
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
        self._first_rows = first_rows
        self._lines = lines
        self._codes = numbers
        self._code_of: dict[str | None, int] | None = None
        self._floats: tuple[pl.DataFrame | None, FloatTable] | None = None
        self._enum: pl.Enum | None = None
        self._first_days: np.ndarray | None = None
        self._classes: LineClasses | None = None

    def rows(self, first: date, last: date) -> pl.DataFrame:
        """Rows dated ``first`` .. ``last`` inclusive (:data:`r2k.schemas.MARKET`)."""
        part = self._slice(first, last)
        if self._expand is None:
            return part
        return self._expand(part, None, self.line_codes(first, last))

    def numeric_rows(self, first: date, last: date) -> pl.DataFrame:
        """:meth:`rows` ``(first, last)`` with ``session`` and the numeric columns.

        ``session``, ``close``, ``volume`` and ``shares_outstanding``, as every
        form holds them: a compact market expands nothing (a rank day's universe
        reads 40 sessions of these, and the names of one).
        """
        return self._slice(first, last)[["session", *_NUMERIC]]

    def rows_at(
        self, d: date, at: np.ndarray, columns: tuple[str, ...] | None = None
    ) -> pl.DataFrame:
        """Rows ``at`` (positions in :meth:`cross_section` ``(d)``), those only.

        ``columns``: just those MARKET columns (None: every one). A compact market
        expands just these rows and columns (the positions come from
        :meth:`line_codes` or :meth:`column`, which expand nothing).
        """
        frame = self._slice(d, d)
        if columns is None:
            wanted = frame.columns
        elif self._expand is None:
            wanted = list(columns)
        else:  # what the expansion reads of ``columns`` (the cap: close x shares)
            reads = {"security_id", *columns}
            if "total_market_cap" in columns:
                reads.update(("close", "shares_outstanding"))
            wanted = [name for name in frame.columns if name in reads]
        # Column by column: a frame's gather runs in the thread pool, where it
        # would wait while the background thread's queries hold it.
        part = pl.DataFrame([frame.get_column(name)[at] for name in wanted])
        if self._expand is not None:
            return self._expand(part, columns, self.line_codes(d, d)[at])
        return part

    def column(self, name: str, first: date, last: date) -> pl.Series:
        """Column ``name`` of :meth:`rows` ``(first, last)``, expanding nothing.

        ``name`` is a numeric column: ``close``, ``volume``,
        ``shares_outstanding`` (every form holds them) or ``total_market_cap``
        (of compact rows: ``close`` x ``shares_outstanding``, as their expansion
        computes it, null where either is).
        """
        if name not in (*_NUMERIC, "total_market_cap"):
            msg = (
                f"column {name!r} is not one of {', '.join(_NUMERIC)}, total_market_cap"
            )
            raise ValueError(msg)
        part = self._slice(first, last)
        if name == "total_market_cap" and self._expand is not None:
            return _compact_cap(part)
        return part[name]

    def _slice(self, first: date, last: date) -> pl.DataFrame:
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

    def first_days(self) -> np.ndarray:
        """First session of every line, by code, as days since 1970-01-01."""
        if self._first_days is None:
            first = self.first_sessions()
            codes = self.codes_of(first["security_id"])
            days = np.zeros(self.lines().len(), dtype=np.int64)
            known = codes >= 0
            sessions = first["first_session"].to_physical().to_numpy()
            days[codes[known]] = sessions[known]
            self._first_days = days
        return self._first_days

    def lines(self) -> pl.Series:
        """The lines the codes number (``security_id``), in ascending order.

        Every line with a row (and, numbered by the source, every line it lists).
        """
        self._number_lines()
        assert self._lines is not None
        return self._lines

    def line_codes(self, first: date, last: date) -> np.ndarray:
        """The line of every row of :meth:`rows` ``(first, last)``.

        A line's code is its position in :meth:`lines` (an unsigned integer
        array, as narrow as the number of lines allows).
        """
        self._number_lines()
        assert self._codes is not None
        lo, hi = self._session_range(first, last)
        return self._codes[self._offsets[lo] : self._offsets[hi]]

    def codes_of(self, ids: pl.Series) -> np.ndarray:
        """The code of each of ``ids`` (-1: not a line of the market, or null)."""
        if ids.len() >= _HASHED_LOOKUPS:
            self._number_lines()
            assert self._enum is not None
            coded = ids.cast(self._enum, strict=False).to_physical()
            if coded.null_count() == 0:
                return coded.to_numpy().astype(np.int64)
            values = coded.to_numpy()  # a null comes out NaN (exact: codes < 2**32)
            out: np.ndarray = np.where(np.isnan(values), -1, values).astype(np.int64)
            return out
        found = map(self._codes_by_id().get, ids.to_list(), repeat(-1))
        return np.fromiter(found, dtype=np.int64, count=ids.len())

    def code_of(self, security_id: str) -> int | None:
        """The code of one line (None: not a line of the market)."""
        return self._codes_by_id().get(security_id)

    def _codes_by_id(self) -> dict[str | None, int]:
        if self._code_of is None:
            names = self.lines().to_list()
            self._code_of = dict(zip(names, range(len(names)), strict=True))
        return self._code_of

    def float_table(self, frame: pl.DataFrame | None) -> FloatTable:
        """``frame`` (float factors over time; None: none) coded by this market.

        Sorted and coded once: the table of the last frame asked for is kept.
        """
        if self._floats is not None and self._floats[0] is frame:
            return self._floats[1]
        known = pl.DataFrame(schema=schemas.FLOAT_FACTORS) if frame is None else frame
        ordered = known.drop_nulls("as_of").sort("as_of", maintain_order=True)
        factors = ordered["float_factor"].cast(pl.Float64).fill_null(np.nan)
        table = FloatTable(
            as_of=ordered["as_of"].to_physical().to_numpy(),
            codes=self.codes_of(ordered["security_id"]),
            ids=ordered["security_id"],
            factors=factors.to_numpy(),
        )
        self._floats = (frame, table)
        return table

    @property
    def classes(self) -> LineClasses:
        """The classification memo of this market's lines.

        Made on first use with the first name of every line, in one pass of the
        classifiers (a line renamed later is classified when a frame holds it).
        """
        if self._classes is None:
            self._number_lines()
            assert self._first_rows is not None
            classes = LineClasses()
            first = self.frame.select(pl.all().gather(self._first_rows))
            if self._expand is not None:
                first = self._expand(first)
            classes.attach(first.select(LINE_KEYS))
            self._classes = classes
        return self._classes

    def _number_lines(self) -> None:
        """Compute the lines, their codes and first sessions (once)."""
        if self._first is not None:
            return
        if self._codes is None:  # a market with a null security_id
            ids = self.frame["security_id"]
            self._lines = ids.drop_nulls().unique().sort()
            self._codes = _codes(ids, self._lines)
            first_rows = ids.arg_unique()
        elif self._first_rows is not None:
            first_rows = self._first_rows
        else:
            first_rows = pl.Series(self._codes).arg_unique()
        self._first_rows = first_rows
        assert self._lines is not None
        self._enum = pl.Enum(self._lines)
        # Rows are in session order: a line's first row is its first session.
        self._first = self.frame.select(
            pl.col("security_id").gather(first_rows).cast(pl.String),
            first_session=pl.col("session").gather(first_rows),
        )

    def _session_range(self, first: date, last: date) -> tuple[int, int]:
        """Indices ``lo .. hi`` (half-open) of the sessions dated first .. last."""
        days = self._session_days
        lo = int(np.searchsorted(days, days.dtype.type(epoch_day(first))))
        hi = int(np.searchsorted(days, days.dtype.type(epoch_day(last)), side="right"))
        return lo, hi


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` checked as compact market rows (see :class:`MarketHistory`)."""
    want = {
        "session": pl.Date,
        "close": pl.Float64,
        "volume": pl.Int64,
        "shares_outstanding": pl.Float64,
    }
    for column, dtype in want.items():
        if frame.schema.get(column) != dtype:
            msg = (
                f"compact market rows need column {column!r} of type {dtype}; got "
                f"{frame.schema.get(column)}"
            )
            raise SchemaError(msg)
    lines = frame.schema.get("security_id")
    if not isinstance(lines, pl.Enum):
        msg = (
            "compact market rows need `security_id` as a pl.Enum of the lines; got "
            f"{lines}"
        )
        raise SchemaError(msg)
    if frame["security_id"].null_count():
        msg = "compact market rows have a null `security_id`"
        raise SchemaError(msg)
    return frame.select("session", "security_id", *_NUMERIC)


def _compact_cap(rows: pl.DataFrame) -> pl.Series:
    """``total_market_cap`` of compact rows: close x shares (null where either is)."""
    return (rows["close"] * rows["shares_outstanding"]).alias("total_market_cap")


def _check_compact_cap(frame: pl.DataFrame, expand: RowExpander) -> None:
    """Check that ``expand`` gives :func:`_compact_cap`, on a sample of rows.

    Raises
    ------
    SchemaError
        If the expansion's ``total_market_cap`` is another quantity.
    """
    n = frame.height
    sample = np.unique(np.linspace(0, n - 1, num=min(n, _CODE_SAMPLE), dtype=np.int64))
    rows = frame[pl.Series(sample)]
    expanded = expand(rows, ("total_market_cap",))["total_market_cap"]
    if not expanded.equals(_compact_cap(rows)):
        msg = (
            "the compact market's expansion gives a total_market_cap other than "
            "close x shares_outstanding; make it that product"
        )
        raise SchemaError(msg)


def _enum_lines(frame: pl.DataFrame) -> pl.Series:
    """The lines of compact rows: their ``security_id`` Enum's categories (sorted)."""
    dtype = frame.schema["security_id"]
    assert isinstance(dtype, pl.Enum)
    names = dtype.categories
    if names.len() > 1 and not (names.slice(1) > names.slice(0, names.len() - 1)).all():
        msg = "the `security_id` Enum's categories are not in ascending order"
        raise SchemaError(msg)
    return names


def _fits(codes: LineCodes, ids: pl.Series) -> bool:
    """Whether a source's ``codes`` can number the rows of ``ids``.

    One code per row, the lines distinct and ascending (a code's order is then its
    id's), every code a line; a sample of rows is checked against its ids.
    """
    n = ids.len()
    lines = codes.lines
    if codes.codes.shape != (n,) or n == 0 or lines.null_count() or ids.null_count():
        return False
    if lines.len() > 1 and not (lines.slice(1) > lines.slice(0, lines.len() - 1)).all():
        return False
    if int(codes.codes.min()) < 0 or int(codes.codes.max()) >= lines.len():
        return False
    sample = np.unique(np.linspace(0, n - 1, num=min(n, _CODE_SAMPLE), dtype=np.int64))
    named = lines[codes.codes[sample].astype(np.int64)]
    return bool((named == ids[sample]).all())


def _fixed_lines(
    days: np.ndarray, ids: pl.Series
) -> tuple[pl.Series, np.ndarray, pl.Series] | None:
    """Lines, row codes and first rows of a panel whose sessions list the same lines.

    A fixed membership or research panel: every session has the rows of the first
    one, in the same strictly ascending ``security_id`` order. Checked in one
    comparison of each row with the same row a session earlier (no hashing of the
    ids); None when the rows are not laid out so (the general numbering then).
    """
    n = days.size
    width = int(np.searchsorted(days, days[0], side="right")) if n else 0
    if width == 0 or n % width or ids.null_count():
        return None
    first = ids.slice(0, width)
    if width > 1 and not (first.slice(1) > first.slice(0, width - 1)).all():
        return None
    grid = days.reshape(-1, width)
    starts = grid[:, 0]
    if not ((grid == starts[:, None]).all() and (starts[1:] > starts[:-1]).all()):
        return None
    if n > width and not (ids.slice(width) == ids.slice(0, n - width)).all():
        return None
    row_codes = _codes(first, first)
    first_rows = pl.Series(np.arange(width, dtype=np.int64)).cast(pl.get_index_type())
    return first, np.tile(row_codes, n // width), first_rows


def _codes(ids: pl.Series, lines: pl.Series) -> np.ndarray:
    """The position of each of ``ids`` in ``lines`` (its distinct values, sorted)."""
    codes: np.ndarray = ids.cast(pl.Enum(lines)).to_physical().to_numpy()
    return codes


def _coded_order(days: np.ndarray, codes: np.ndarray) -> bool:
    """Whether rows are in session order and, within a session, in line order.

    A line's code is its rank among the sorted ids, so comparing codes compares
    ``security_id`` values; a repeated (session, line) row is in order, as a
    sort would leave it. One pass, a chunk of rows at a time.
    """
    n = days.size
    for lo in range(0, max(n - 1, 0), _CHUNK_ROWS):
        hi = min(lo + _CHUNK_ROWS, n - 1)
        d0, d1 = days[lo:hi], days[lo + 1 : hi + 1]
        c0, c1 = codes[lo:hi], codes[lo + 1 : hi + 1]
        if not ((d1 > d0) | ((d1 == d0) & (c1 >= c0))).all():
            return False
    return True


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
