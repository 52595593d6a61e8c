"""The book of one block of sessions, and the dense arrays it is valued on.

A *block* is a run of sessions the engine handles at once (a year in batch mode,
one session in incremental mode). :func:`build_block` lays the market rows of the
block out as dense (sessions x lines) NumPy arrays, row 0 being the session before
the block, placing each row by its line's integer code
(:meth:`r2k.maintenance.market.MarketHistory.line_codes`); :class:`Book` is the
mutable working state of the walk over the block: for every line its share basis
and float factor (index shares ``N`` = shares x float factor), how long it has
gone without a price, and the reference-price adjustments and price overrides the
actions make. After the walk, :meth:`Book.value` values the whole block at once.

Dense passes: a block holds one sessions x lines array of closes (forward-filled
in place, on the columns with a gap only), one of missing-price flags and one of
index shares; share counts are laid out only for the few sessions that read them
(:meth:`Block.shares_at`), cash dividends and reference-price adjustments are kept
sparse. :meth:`Book.value` works on the columns held at some session of the block:
a block whose every column is held with a price on every row sums its products
in one pass each; otherwise the market and reference values add full-width rows
(zero off the held columns), the rows a pass over every column adds; the
dividends are summed sparse.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from r2k import schemas
from r2k.errors import MissingDataError
from r2k.maintenance.levels import SUMS
from r2k.maintenance.market import epoch_day, known_on, positions

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from r2k.maintenance.actions import Adjustment
    from r2k.maintenance.market import MarketHistory
    from r2k.maintenance.settings import Settings
    from r2k.maintenance.state import IndexState, PendingRemoval, ReconDecision

__all__ = [
    "COMPILED_SESSIONS",
    "PRICE_CARRY_SESSIONS",
    "Block",
    "BlockSums",
    "BlockValues",
    "Book",
    "Dividends",
    "EventBatch",
    "EventLog",
    "build_block",
    "events_frame",
    "ffill",
    "positions",
]

#: Sessions a last price (or share count) is carried for lines without a new one.
PRICE_CARRY_SESSIONS = 20
#: Up to this many columns, :meth:`Block.shares_at` looks their counts up session
#: by session back; more (a reconstitution's new members) are read from the
#: window's layout of every line, which costs the same whatever their number.
_FEW_COLUMNS = 64
#: Blocks of more sessions than this (the batch's yearly blocks) are laid out and
#: walked by the compiled loops of :mod:`r2k.maintenance._kernels`; shorter ones
#: (the nightly run's single session) by NumPy steps with the same values, so a
#: short run never loads Numba (about 1 s).
COMPILED_SESSIONS = 16


@dataclass(frozen=True, slots=True)
class EventBatch:
    """One event per line of ``ids`` on ``session`` (:meth:`Book.log_many`).

    Kept as written and made rows of :data:`r2k.schemas.EVENTS` with the batches
    beside it when the log is read (:func:`events_frame`): a frame per change
    cost 0.4-1 ms, some 200 of them in a 40-year batch.
    """

    session: date
    ids: pl.Series  # security_id of each line
    actions: str | list[str]  # one for all, or one per line
    timing: str
    before: np.ndarray  # index shares before
    after: np.ndarray  # index shares after
    prices: np.ndarray | None  # None: no price
    detail: str | list[str]  # one for all, or one per line


#: The event log as the walk writes it: rows (dicts of :data:`r2k.schemas.EVENTS`)
#: and, for changes that touch many lines at once, batches of such rows.
EventLog = list[dict[str, Any] | EventBatch]


def events_frame(events: EventLog) -> pl.DataFrame:
    """The event log as one :data:`r2k.schemas.EVENTS` frame, in the order written.

    The rows make one frame and the batches another (their columns joined end to
    end); one stable gather then puts every event back in its place.
    """
    rows: list[dict[str, Any]] = []
    batches: list[EventBatch] = []
    row_at: list[int] = []  # each row's place in the log
    batch_at: list[int] = []
    for i, event in enumerate(events):
        if isinstance(event, EventBatch):
            batches.append(event)
            batch_at.append(i)
        else:
            rows.append(event)
            row_at.append(i)
    names = schemas.EVENTS.names()
    written = pl.DataFrame(
        {name: [row[name] for row in rows] for name in names}, schema=schemas.EVENTS
    )
    if not batches:
        return written
    counts = [b.ids.len() for b in batches]
    batched = _batches_frame(batches, counts)
    if not rows:
        return batched
    place = np.concatenate([np.asarray(row_at), np.repeat(batch_at, counts)])
    order = np.argsort(place, kind="stable")  # a batch's rows keep their order
    return pl.concat([written, batched])[order]


def _batches_frame(batches: list[EventBatch], counts: list[int]) -> pl.DataFrame:
    """The rows of ``batches`` (``counts`` lines each), in order.

    A price NaN stays NaN; no price is null.
    """

    def each(values: list[str | list[str]]) -> list[str]:
        out: list[str] = []
        for value, n in zip(values, counts, strict=True):
            out.extend([value] * n if isinstance(value, str) else value)
        return out

    sessions = pl.Series([b.session for b in batches], dtype=pl.Date)
    prices = np.concatenate(
        [
            np.full(n, np.nan) if b.prices is None else b.prices
            for b, n in zip(batches, counts, strict=True)
        ]
    )
    price = pl.Series(prices, dtype=pl.Float64)
    unpriced = np.repeat([b.prices is None for b in batches], counts)
    if unpriced.any():
        price = price.scatter(np.flatnonzero(unpriced), None)
    return pl.DataFrame(
        {
            "session": sessions.gather(np.repeat(np.arange(len(batches)), counts)),
            "security_id": pl.concat([b.ids for b in batches]),
            "action": each([b.actions for b in batches]),
            "timing": each([b.timing for b in batches]),
            "index_shares_before": np.concatenate([b.before for b in batches]),
            "index_shares_after": np.concatenate([b.after for b in batches]),
            "price": price,
            "detail": each([b.detail for b in batches]),
        },
        schema=schemas.EVENTS,
    )


def ffill(values: np.ndarray, limit: int) -> np.ndarray:
    """Forward-fill NaN down each column, at most ``limit`` rows.

    Examples
    --------
    >>> ffill(np.array([[1.0], [np.nan], [np.nan]]), 1).ravel().tolist()
    [1.0, 1.0, nan]
    """
    rows = np.arange(values.shape[0])[:, None]
    idx = np.where(np.isnan(values), 0, rows)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out: np.ndarray = values[idx, np.arange(values.shape[1])[None, :]]
    out[(rows - idx) > limit] = np.nan
    return out


# ---------------------------------------------------------------------- block


@dataclass(slots=True)
class Block:
    """Dense arrays of one block: row 0 is the session before the block.

    Columns are lines in ``security_id`` order: every line with a market row in the
    block or its look-back, and every line the starting state refers to.
    """

    sessions: list[date]
    ids: list[str]
    col: dict[str, int]
    id_series: pl.Series  # the ids as a String series
    close_ff: np.ndarray  # close, forward-filled (state's last close seeds row 0)
    missing: np.ndarray  # bool: no market price on the row (raw close is NaN)
    missing_run: np.ndarray  # sessions without a price up to row 0 (lookback)
    gap_rows: np.ndarray  # bool per row: some line has no market price on it
    day_numbers: np.ndarray  # the sessions (row 0 included), days since 1970 (int32)
    lead: int  # look-back sessions before row 0 (see shares_at)
    market: MarketHistory
    window: list[date]  # the look-back sessions, then ``sessions``
    code_column: np.ndarray  # column of every market line code (-1: not here)
    column_code: np.ndarray  # market line code of every column (-1: unlisted)
    unlisted: bool  # whether some columns are lines the market does not have
    state_columns: np.ndarray  # column of each line of the starting state
    compiled: bool  # laid out and walked by the compiled loops (COMPILED_SESSIONS)

    @property
    def shape(self) -> tuple[int, int]:
        """(sessions, lines) of the block's arrays (row 0 included)."""
        rows, cols = self.close_ff.shape
        return rows, cols

    def close(self, t: int, c: int) -> float:
        """The market close of line ``c`` on row ``t`` (NaN: no price that day)."""
        return np.nan if self.missing[t, c] else float(self.close_ff[t, c])

    def shares_at(self, t: int, columns: np.ndarray | None = None) -> np.ndarray:
        """Shares outstanding on row ``t`` of every line (or of ``columns``).

        A missing count is carried from the line's last one, at most
        :data:`PRICE_CARRY_SESSIONS` sessions back (the block's look-back
        included). Only a few sessions need it, so it is read from those
        sessions' rows when asked, not kept for every row: for every line (or
        more than ``_FEW_COLUMNS`` columns) the sessions' rows from the last
        back, a session at a time; for a few ``columns``, their rows looked up
        by line code, session by session back.
        """
        r = t + self.lead
        window = self.window[max(0, r - PRICE_CARRY_SESSIONS) : r + 1]
        if columns is not None:
            wanted = np.asarray(columns, dtype=np.int64)
            if wanted.size <= _FEW_COLUMNS:
                return self._shares_back(window, wanted)
            every: np.ndarray = self.shares_at(t)[wanted]  # the same stored counts
            return every
        first, last = window[0], window[-1]
        market = self.market
        _, counts = market.session_rows(first, last)
        cols = self.code_column[market.line_codes(first, last)]
        values = market.column("shares_outstanding", first, last).to_numpy()
        # The latest count of each line: the window's sessions from the last
        # back, each filling the lines still without one (at most
        # PRICE_CARRY_SESSIONS back: the window's length).
        row = np.full(len(self.ids), np.nan)
        if self.compiled:
            from r2k.maintenance import _kernels  # imported here: it loads Numba

            _kernels.latest_values(values, counts, cols, row)
            return row
        stop = values.size
        for count in counts[::-1]:
            at, got = cols[stop - count : stop], values[stop - count : stop]
            take = np.isnan(row[at]) & ~np.isnan(got)
            row[at[take]] = got[take]  # every line with a row is a column
            stop -= count
        return row

    def _shares_back(self, window: list[date], columns: np.ndarray) -> np.ndarray:
        """The latest share count of each of ``columns`` in ``window`` (NaN: none)."""
        out = np.full(columns.size, np.nan)
        codes = self.column_code[columns]  # -1: not a line of the market
        market = self.market
        for session in reversed(window):
            wanted = np.flatnonzero((codes >= 0) & np.isnan(out))
            if wanted.size == 0:
                break
            # A session's rows are in line order: its codes ascend.
            listed = market.line_codes(session, session)
            if listed.size == 0:
                continue
            at = np.searchsorted(listed, codes[wanted])
            at = np.minimum(at, listed.size - 1)
            hit = listed[at] == codes[wanted]
            shares = market.column("shares_outstanding", session, session)
            out[wanted[hit]] = shares[at[hit]].to_numpy()
        return out

    def columns(self, ids: pl.Series, codes: np.ndarray | None = None) -> np.ndarray:
        """Column of each of ``ids`` (-1: not a line of the block).

        ``codes`` are the ids' market line codes when known
        (:meth:`~r2k.maintenance.market.MarketHistory.codes_of`).
        """
        if codes is None:
            codes = self.market.codes_of(ids)
        out = self.columns_of_codes(codes)
        if self.unlisted:
            rest = np.flatnonzero(out < 0)
            if rest.size:
                out[rest] = positions(self.id_series, ids[rest])
        return out

    def columns_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """Column of each market line code (-1: a code of -1, or not here)."""
        codes = np.asarray(codes, dtype=np.int64)
        out: np.ndarray = np.where(
            codes >= 0, self.code_column[np.maximum(codes, 0)], -1
        )
        return out

    def ids_of(self, columns: np.ndarray) -> pl.Series:
        """``security_id`` of each of ``columns``."""
        # Indexing gathers directly; Series.gather builds and runs a query.
        return self.id_series[columns]

    def days(self) -> np.ndarray:
        """The block's sessions (row 0 included) as days since 1970-01-01."""
        return self.day_numbers.astype(np.int64)


def _special_columns(
    at: np.ndarray,
    gaps: np.ndarray,
    changes: tuple[dict[tuple[int, int], Any], ...],
) -> np.ndarray:
    """Places (in the held columns) of the lines valued by the general steps.

    A line with a gap in its prices (``gaps``, per held column), or with an
    override or reference-price adjustment on some row; ``at`` is each block
    column's place (-1: not held).
    """
    special = np.array(gaps, dtype=bool)
    for change in changes:
        for _, c in change:
            if at[c] >= 0:
                special[at[c]] = True
    return np.flatnonzero(special)


def _zero_nan(values: np.ndarray) -> np.ndarray:
    """``values`` with NaN set to 0, in place."""
    values[np.isnan(values)] = 0.0
    return values


def _days(sessions: list[date]) -> np.ndarray:
    return np.array([epoch_day(d) for d in sessions], dtype=np.int64)


def build_block(
    state: IndexState,
    sessions: list[date],
    market: MarketHistory,
    state_codes: np.ndarray | None = None,
) -> Block:
    """Lay the market rows of ``sessions`` out densely, after ``state``'s session.

    A price or share count is carried :data:`PRICE_CARRY_SESSIONS` sessions at
    most; the block reads that many sessions before its start, so any split of a
    window into blocks (batch) or single sessions (incremental) sees the same
    values. ``state_codes`` are the market line codes of the state's lines when
    known (:attr:`BlockValues.line_codes` of the block before; -1: not a line of
    the market).
    """
    i = bisect_left(market.sessions, state.session)
    lead = list(market.sessions[max(0, i - PRICE_CARRY_SESSIONS) : i])
    all_sessions = [*lead, state.session, *sessions]
    first, last = all_sessions[0], sessions[-1]
    codes = market.line_codes(first, last)
    # The block's lines: the market's lines with a row in it, and those the state
    # refers to (which may have none, or not be in the market at all).
    state_ids = state.lines["security_id"]
    if state_codes is None or state_codes.size != state_ids.len():
        state_codes = market.codes_of(state_ids)
    refs = {p.security_id for p in state.pending}
    refs.update(p.acquirer for p in state.pending if p.acquirer)
    pending = pl.Series("security_id", sorted(refs), dtype=pl.String)
    pending_codes = market.codes_of(pending)
    lines = market.lines()
    in_block = np.zeros(lines.len(), dtype=bool)
    days, counts = market.session_rows(first, last)
    window_days = _days(all_sessions)
    same = _same_codes(codes, counts, len(all_sessions))
    compiled = len(sessions) > COMPILED_SESSIONS
    if compiled:
        from r2k.maintenance import _kernels  # imported here: it loads Numba
    if same:
        in_block[codes[: counts[0]]] = True  # every session lists these
    elif compiled:
        _kernels.mark_lines(codes, in_block)
    else:
        codes = codes.astype(np.intp)  # the index type, converted once
        in_block[codes] = True
    in_block[state_codes[state_codes >= 0]] = True
    in_block[pending_codes[pending_codes >= 0]] = True
    listed_codes = np.flatnonzero(in_block)
    listed = lines[listed_codes]
    unlisted = (
        pl.concat(
            [
                state_ids.filter(pl.Series(state_codes < 0)),
                pending.filter(pl.Series(pending_codes < 0)),
            ]
        ).unique()
        if (state_codes < 0).any() or (pending_codes < 0).any()
        else pending.clear()
    )
    code_column = np.full(lines.len(), -1, dtype=np.int64)  # of each market line
    if unlisted.is_empty():
        id_series = listed
        code_column[listed_codes] = np.arange(listed_codes.size)
    else:
        id_series = pl.concat([listed, unlisted]).sort()
        code_column[listed_codes] = positions(id_series, listed)
    ids = id_series.to_list()
    column_code = np.full(len(ids), -1, dtype=np.int64)
    column_code[code_column[listed_codes]] = listed_codes
    prices = market.column("close", first, last)
    close = _same_lines_layout(codes, listed_codes, prices) if same else None
    if close is None or not unlisted.is_empty():
        # The rows of session s are on row t[s] of the block, each in its column.
        t = np.searchsorted(window_days, days)
        close = np.full((len(all_sessions), len(ids)), np.nan)
        if compiled:
            _kernels.place_rows(codes, counts, t, code_column, prices.to_numpy(), close)
        else:  # positions in the row-major array
            flat = np.repeat(t, counts) * len(ids)
            flat += code_column[codes]
            close.reshape(-1)[flat] = prices.to_numpy()
    missing = np.isnan(close)  # a null comes out as NaN
    k = len(lead)
    # Consecutive sessions without a price ending at row k (the state's session).
    before = missing[: k + 1][::-1]
    run = np.where(before.all(axis=0), k + 1, np.argmin(before, axis=0))
    block = Block(
        sessions=all_sessions[k:],
        ids=ids,
        col=dict(zip(ids, range(len(ids)), strict=True)),
        id_series=id_series,
        close_ff=close[k:],
        missing=missing[k:],
        missing_run=run.astype(np.int64),
        gap_rows=missing[k:].any(axis=1),
        day_numbers=window_days[k:].astype(np.int32),
        lead=k,
        market=market,
        window=all_sessions,
        code_column=code_column,
        column_code=column_code,
        unlisted=not unlisted.is_empty(),
        state_columns=np.zeros(0, dtype=np.int64),
        compiled=compiled,
    )
    if state.lines.height:
        sc = block.columns(state_ids, state_codes)
        block.state_columns = sc
        seed = state.lines["last_close"].to_numpy()
        row0 = close[k, sc]
        close[k, sc] = np.where(np.isnan(row0), seed, row0)
    _fill_forward(close, missing, PRICE_CARRY_SESSIONS, compiled=compiled)
    return block


def _same_codes(codes: np.ndarray, counts: np.ndarray, n_sessions: int) -> bool:
    """Whether each of the ``n_sessions`` sessions has the first one's row codes."""
    if counts.size != n_sessions or counts.size == 0 or not (counts == counts[0]).all():
        return False
    grid = codes.reshape(n_sessions, int(counts[0]))
    return bool((grid == grid[0]).all())


def _same_lines_layout(
    codes: np.ndarray, listed: np.ndarray, prices: pl.Series
) -> np.ndarray | None:
    """The closes as a (sessions x lines) array when every session lists ``listed``.

    ``codes`` are the rows' line codes, every session's the same
    (:func:`_same_codes`). The rows of such a window are already that array in
    row-major order (one row per session, its lines ascending): a reshape, no
    placement. None when the sessions list other lines too.
    """
    width = listed.size
    if width == 0 or codes.size % width or not np.array_equal(codes[:width], listed):
        return None
    out: np.ndarray = prices.to_numpy().astype(np.float64, copy=True)
    return out.reshape(-1, width)


def _fill_forward(
    values: np.ndarray, missing: np.ndarray, limit: int, *, compiled: bool
) -> None:
    """:func:`ffill` in place, on the columns with a gap.

    ``missing`` marks the NaN of ``values`` before any seeding (a superset of
    the columns with a NaN); a column without one is what :func:`ffill` would
    leave it. ``values`` is C-contiguous (the block's own array); ``compiled``:
    by the compiled loop, else by :func:`ffill`.
    """
    cols = np.flatnonzero(missing.any(axis=0))
    if cols.size == 0:
        return
    if compiled:
        from r2k.maintenance import _kernels  # imported here: it loads Numba

        _kernels.fill_forward(values, cols, limit)
    else:
        values[:, cols] = ffill(values[:, cols], limit)


# ---------------------------------------------------------------------- dividends


@dataclass(frozen=True, slots=True)
class Dividends:
    """Cash dividends per share going ex in a block, in action order.

    Entry ``i`` adds ``amounts[i]`` to line ``columns[i]`` on row ``rows[i]``;
    the entries of one (row, line) add up in this order.
    """

    rows: np.ndarray
    columns: np.ndarray
    amounts: np.ndarray

    def dense(self, shape: tuple[int, int], columns: np.ndarray) -> np.ndarray:
        """Dividend per share of every row and of ``columns`` (ascending)."""
        at = np.searchsorted(columns, self.columns)
        at = np.minimum(at, max(columns.size - 1, 0))
        keep = columns[at] == self.columns if columns.size else at < 0
        flat = self.rows[keep] * columns.size + at[keep]
        # bincount adds each cell's entries in their order, from 0, as add.at.
        out = np.bincount(
            flat, weights=self.amounts[keep], minlength=shape[0] * columns.size
        )
        dense: np.ndarray = out.reshape(shape[0], columns.size)
        return dense

    def weighted(self, n: np.ndarray, at: np.ndarray, n_rows: int) -> np.ndarray:
        """Per row, the sum of index shares x dividend over the lines.

        ``n`` holds the index shares of the columns ``at`` places (-1: a line not
        in ``n``, whose dividends count nothing). A line's dividends of one row add
        up first (in action order), then each row adds its lines' products.
        """
        j = at[self.columns]
        keep = j >= 0
        rows, j, amounts = self.rows[keep], j[keep], self.amounts[keep]
        width = max(n.shape[1], 1)
        cells, inverse = np.unique(rows * width + j, return_inverse=True)
        if cells.size < rows.size:  # a line with two dividends on one row
            summed = np.zeros(cells.size)
            np.add.at(summed, inverse, amounts)
            rows, j, amounts = cells // width, cells % width, summed
        totals: np.ndarray = np.bincount(
            rows, weights=n[rows, j] * amounts, minlength=n_rows
        )
        return totals


# ----------------------------------------------------------------------- book


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockSums:
    """A block's valuation.

    Attributes
    ----------
    sums
        :data:`r2k.maintenance.levels.SUMS`, one row per session of the block
        (row 0 excluded).
    constituents
        :data:`r2k.schemas.CONSTITUENTS` (None unless asked for).
    """

    sums: pl.DataFrame
    constituents: pl.DataFrame | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockValues:
    """A block closed after the walk.

    Attributes
    ----------
    lines
        :data:`r2k.schemas.STATE_LINES`: the members held into the next session.
    carried
        Member sessions priced with a carried close, by line.
    valuation
        The block's :class:`BlockSums`, when called: it reads only the closed
        book's arrays, so it may run in another thread while the walk goes on.
    """

    lines: pl.DataFrame
    line_codes: np.ndarray  # the market line code of each of ``lines`` (-1: none)
    carried: dict[str, int]
    valuation: Callable[[], BlockSums]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Priced:
    """What :meth:`Book.value` hands to the valuation: the held columns' prices.

    ``cols`` are the block columns held at some session, ``at`` each block
    column's place in them (-1: not held), ``special`` the places priced by the
    general steps, whose closes, reference prices and carried-price flags are
    ``s_close``, ``s_ref`` and ``s_stale``.
    """

    held_all: np.ndarray
    cols: np.ndarray
    at: np.ndarray
    special: np.ndarray
    s_close: np.ndarray
    s_ref: np.ndarray
    s_stale: np.ndarray


class Book:
    """The mutable working state of one block's walk.

    Parameters
    ----------
    state
        The state at the close before the block.
    block
        The block's dense arrays.
    market
        The market (for the cross-sections scheduled changes and checks read).
    settings
        How to calculate.
    events
        The event log rows, appended to.
    dividends
        Cash dividends per share going ex in the block.
    constituents
        Whether the walk records what the constituent file needs (the index
        shares after each close and the float factors held).
    """

    def __init__(
        self,
        state: IndexState,
        block: Block,
        market: MarketHistory,
        settings: Settings,
        events: EventLog,
        dividends: Dividends,
        *,
        constituents: bool = True,
    ) -> None:
        n = len(block.ids)
        self.block = block
        self.market = market
        self.settings = settings
        self.rules = settings.rules.maintenance
        self.events = events
        self.shares = np.zeros(n)
        self.floats = np.ones(n)
        self.run = block.missing_run.copy()
        if state.lines.height:
            cols = block.state_columns  # build_block's, for the same state
            if cols.size != state.lines.height:
                cols = block.columns(state.lines["security_id"])
            self.shares[cols] = state.lines["shares"].to_numpy()
            self.floats[cols] = state.lines["float_factor"].to_numpy()
            self.run[cols] = state.lines["missing_run"].to_numpy()
        # The held lines whose run reached the stale limit at the last open
        # (the first ``n_stale`` of ``stale``), for the engine's stale rule.
        self.stale = np.zeros(n, dtype=np.int64)
        self.n_stale = 0
        self._counting = True  # whether some run may be above 0
        self._open_session: Callable[..., int] | None = None
        if block.compiled:
            from r2k.maintenance import _kernels  # imported here: it loads Numba

            self._open_session = _kernels.open_session
        self.pending: list[PendingRemoval] = list(state.pending)
        self.recon: ReconDecision | None = state.recon
        self.bounds: ReconDecision | None = state.bounds
        shape = block.shape
        # Reference price of (t, c): previous close x mul - sub (ref_adjust holds
        # (mul, sub) where an action composed one), unless overridden.
        self.ref_adjust: dict[tuple[int, int], tuple[float, float]] = {}
        self.ref_override: dict[tuple[int, int], float] = {}
        self.close_override: dict[tuple[int, int], float] = {}
        self.dividends = dividends
        # Index shares held during each session, after its close, and floats.
        self.index_shares = np.zeros(shape)
        self.closing = np.zeros(shape) if constituents else None
        self.held_floats = np.ones(shape) if constituents else None
        self._floats_known: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------ lines

    def n(self, c: int) -> float:
        """Index shares of line ``c`` now."""
        return float(self.shares[c] * self.floats[c])

    def member(self, c: int | None) -> bool:
        """Whether line ``c`` is held (None: not a line of the block)."""
        return c is not None and self.shares[c] > 0

    def previous_close(self, t: int, c: int) -> float:
        """Line ``c``'s close (carried) on the session before row ``t``."""
        return float(self.block.close_ff[t - 1, c])

    def compose(self, t: int, c: int, mul: float, sub: float) -> None:
        """Reference price becomes (ref x mul - sub)."""
        before_mul, before_sub = self.ref_adjust.get((t, c), (1.0, 0.0))
        self.ref_adjust[(t, c)] = (before_mul * mul, before_sub * mul + sub)

    def adjust(self, t: int, c: int, adjustment: Adjustment) -> None:
        """Apply an action's adjustment to line ``c`` at the open of row ``t``."""
        self.shares[c] *= adjustment.shares
        self.compose(t, c, adjustment.price_mul, adjustment.price_sub)

    def log(
        self,
        session: date,
        c: int,
        action: str,
        before: float,
        price: float | None,
        detail: str = "",
        *,
        timing: str = "open",
    ) -> None:
        """Append an event for line ``c`` (index shares after: now)."""
        self.events.append(
            {
                "session": session,
                "security_id": self.block.ids[c],
                "action": action,
                "timing": timing,
                "index_shares_before": before,
                "index_shares_after": self.n(c),
                "price": price,
                "detail": detail,
            }
        )

    def log_many(
        self,
        session: date,
        columns: np.ndarray,
        actions: str | list[str],
        before: np.ndarray,
        prices: np.ndarray | None,
        detail: str | list[str] = "",
        *,
        timing: str = "open",
    ) -> None:
        """Append one event per line of ``columns`` (as :meth:`log`, in order).

        ``actions`` and ``detail`` are one for all or one per line; ``prices``
        None: no price.
        """
        if columns.size == 0:
            return
        self.events.append(
            EventBatch(
                session=session,
                ids=self.block.ids_of(columns),
                actions=actions,
                timing=timing,
                before=np.array(before, dtype=np.float64),  # a copy, as a frame's
                after=self.shares[columns] * self.floats[columns],
                prices=None if prices is None else np.array(prices, dtype=np.float64),
                detail=detail,
            )
        )

    def remove(self, session: date, c: int, action: str, price: float | None) -> None:
        """Line ``c`` leaves after the close of ``session``."""
        before = self.n(c)
        self.shares[c] = 0.0
        self.log(session, c, action, before, price, "removed", timing="close")

    # ------------------------------------------------------------ floats

    def floats_known(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The float data of the block's lines, in the order they became known.

        Returns
        -------
        as_of, columns, factors
            The date each factor is known from (days since 1970-01-01, ascending),
            its line's column and the factor (NaN: null). Built on first use, from
            the market's table of the float data (sorted and coded once per load).
        """
        if self._floats_known is None:
            table = self.market.float_table(self.settings.float_factors)
            cols = self.block.columns(table.ids, table.codes)
            keep = cols >= 0
            self._floats_known = (
                table.as_of[keep],
                cols[keep],
                table.factors[keep],
            )
        return self._floats_known

    def float_as_of(self, as_of: date) -> np.ndarray:
        """Latest float factor known on ``as_of`` of every line of the block.

        NaN where there is none (no float data for the line, or a null factor). Of
        two factors of a line known from the same date, the later row's.
        """
        days, cols, factors = self.floats_known()
        return known_on(days, cols, factors, epoch_day(as_of), len(self.block.ids))

    # ------------------------------------------------------------ the walk

    def opened(self, t: int) -> None:
        """Record the index shares held during session ``t`` (after its open).

        Each line's run without a price grows, or ends at a price; the held
        lines whose run reached the stale limit are listed (:attr:`stale`).
        """
        limit = self.rules.stale_price_removal_sessions
        if not self.block.gap_rows[t] and limit > 0:
            # Every line priced: every run ends, none reaches the limit.
            np.multiply(self.shares, self.floats, out=self.index_shares[t])
            if self._counting:
                self.run.fill(0)
                self._counting = False
            self.n_stale = 0
        elif self._open_session is not None:
            self._counting = True
            self.n_stale = self._open_session(
                self.shares,
                self.floats,
                self.run,
                self.block.missing[t],
                self.index_shares[t],
                limit,
                self.stale,
            )
        else:  # the same steps in NumPy (a short block)
            self._counting = True
            np.multiply(self.shares, self.floats, out=self.index_shares[t])
            run = self.run
            run += 1
            run *= self.block.missing[t]
            stale = np.flatnonzero(run >= limit)
            stale = stale[self.shares[stale] > 0]
            self.n_stale = stale.size
            self.stale[: stale.size] = stale
        if self.held_floats is not None:
            self.held_floats[t] = self.floats

    def closed(self, t: int) -> None:
        """Record the index shares after session ``t``'s close."""
        if self.closing is not None:
            self.closing[t] = self.shares * self.floats

    def value(self, withholding_rate: float, *, constituents: bool) -> BlockValues:
        """Close the block: the lines held into the next one, and its valuation.

        Here: the columns held at some session of the block, and the *special*
        ones among them (a gap in the prices, an action's override or
        reference-price adjustment), priced by the general steps: the close
        overrides, the reference prices the actions set, a spin-off child valued
        at its when-issued price before it trades. What the next block starts
        from (the held lines and their last valued close) and the carried
        prices come from those. The rest, the sums over every column, is
        :attr:`BlockValues.valuation`, a job that reads only this book's arrays
        and may run in another thread (:meth:`_valuation`).

        The block is consumed: its close array may be written in place by the
        valuation.

        Raises
        ------
        MissingDataError
            If a member has no price at all to be valued at.
        """
        block = self.block
        n_rows, n_cols = block.shape
        held_all = self.index_shares > 0
        cols = np.flatnonzero(held_all.any(axis=0))  # held at some session
        at = np.full(n_cols, -1, dtype=np.int64)  # each column's place in cols
        at[cols] = np.arange(cols.size)
        gaps = np.asarray(block.missing.any(axis=0))[cols]
        special = _special_columns(
            at, gaps, (self.close_override, self.ref_adjust, self.ref_override)
        )
        # The special columns, by the general steps (on their own copies).
        sc = cols[special]  # their block columns
        s_held = held_all[:, sc]
        s_close = block.close_ff[:, sc]
        s_at = np.full(n_cols, -1, dtype=np.int64)
        s_at[sc] = np.arange(special.size)
        # Every held column with an override is special.
        for (t, c), price in self.close_override.items():
            if s_at[c] >= 0:
                s_close[t, s_at[c]] = price
        s_ref = np.empty_like(s_close)
        s_ref[0] = np.nan
        s_ref[1:] = s_close[:-1]
        for (t, c), (mul, sub) in self.ref_adjust.items():
            if s_at[c] >= 0 and t >= 1:
                s_ref[t, s_at[c]] = s_close[t - 1, s_at[c]] * mul - sub
        for (t, c), price in self.ref_override.items():
            if s_at[c] >= 0:
                s_ref[t, s_at[c]] = price
        # A spin-off child valued at its when-issued price before it trades.
        np.copyto(s_close, s_ref, where=s_held & np.isnan(s_close))
        no_price = s_held & np.isnan(s_close)
        if no_price.any():
            t, j = np.argwhere(no_price)[0]
            msg = (
                f"member {block.ids[sc[j]]} has no price on or before "
                f"{block.sessions[t]}; it cannot be valued"
            )
            raise MissingDataError(msg)
        np.copyto(s_ref, s_close, where=s_held & np.isnan(s_ref))
        s_stale = s_held & block.missing[:, sc]
        for t, c in self.close_override:
            if s_at[c] >= 0:
                s_stale[t, s_at[c]] = False
        stale_sessions = s_stale[1:].sum(axis=0)
        stale_lines = np.flatnonzero(stale_sessions)
        carried = (
            dict(
                zip(
                    block.ids_of(sc[stale_lines]).to_list(),
                    stale_sessions[stale_lines].tolist(),
                    strict=True,
                )
            )
            if stale_lines.size
            else {}
        )
        # The last valued close: the market's, overridden, the special columns'.
        last = n_rows - 1
        last_close = block.close_ff[last].copy()
        for (t, c), price in self.close_override.items():
            if t == last:
                last_close[c] = price
        last_close[sc] = s_close[last]
        held_next = np.flatnonzero(self.shares > 0)
        lines = pl.DataFrame(
            {
                "security_id": block.id_series
                if held_next.size == len(block.ids)
                else block.ids_of(held_next),
                "shares": self.shares[held_next],
                "float_factor": self.floats[held_next],
                "last_close": last_close[held_next],
                "missing_run": self.run[held_next],
            },
            schema=schemas.STATE_LINES,
        )
        priced = _Priced(
            held_all=held_all,
            cols=cols,
            at=at,
            special=special,
            s_close=s_close,
            s_ref=s_ref,
            s_stale=s_stale,
        )
        return BlockValues(
            lines=lines,
            line_codes=block.column_code[held_next],
            carried=carried,
            valuation=partial(
                self._valuation, priced, withholding_rate, constituents=constituents
            ),
        )

    def _valuation(
        self, priced: _Priced, withholding_rate: float, *, constituents: bool
    ) -> BlockSums:
        """Value the whole block at once (vectorised over sessions x lines).

        The per-line arithmetic runs on the held columns (``priced``, from
        :meth:`value`). Most of them are *plain*: a price on every row, no
        override and no reference-price adjustment, so their reference price is
        the previous close and no NaN can arise; the products of those are taken
        in one pass each. The special columns take their prices from
        ``priced``. When every column is held and plain, each per-session sum is
        one ``einsum``; otherwise the market and reference values add full-width
        rows (zero off the held columns), the rows a pass over every column adds
        (:meth:`_sums`). The dividends, sparse, add a line's amounts of a session
        first, then each session's products.
        """
        block = self.block
        n_rows, n_cols = block.shape
        held_all, cols, special = priced.held_all, priced.cols, priced.special
        full = cols.size == n_cols
        if full:  # every column: views, no copies
            held, close = held_all, block.close_ff
            n_held = self.index_shares
            if not n_held.min() >= 0.0:  # a NaN or negative N: count it 0
                n_held = np.where(held_all, n_held, 0.0)
        else:
            held = np.take(held_all, cols, axis=1)
            close = np.take(block.close_ff, cols, axis=1)
            n_held = np.take(self.index_shares, cols, axis=1)
            n_held[~held] = 0.0
        s_close, s_ref = priced.s_close, priced.s_ref
        s_n = n_held[:, special]
        close[:, special] = s_close
        plain = full and special.size == 0
        if plain:  # every column held and plain: each sum of products in one pass
            mv = np.einsum("ij,ij->i", n_held, close)
            rv = np.zeros(n_rows)  # no reference price before the block
            rv[1:] = np.einsum("ij,ij->i", n_held[1:], close[:-1])
            plain = bool(np.isfinite(mv).all() and np.isfinite(rv).all())
        if not plain:
            mv, rv = self._sums(
                n_held, close, special, s_n * s_close, s_n * s_ref, cols
            )
        # Amounts are finite (check_actions); N is 0 off the held rows.
        dv = self.dividends.weighted(n_held, priced.at, n_rows)
        sums = pl.DataFrame(
            {
                "session": pl.Series(block.day_numbers[1:], dtype=pl.Int32).cast(
                    pl.Date
                ),
                "market_value": mv[1:],
                "reference_value": rv[1:],
                "has_reference": np.ones(n_rows - 1, dtype=bool),
                "dividends": dv[1:],
                "net_dividends": dv[1:] * (1.0 - withholding_rate),
            },
            schema=SUMS,
        )
        parts = None
        if constituents:
            ref = np.empty_like(close)
            ref[0] = np.nan
            ref[1:] = close[:-1]
            ref[:, special] = s_ref
            stale = np.zeros_like(held)
            stale[:, special] = priced.s_stale
            dividend = self.dividends.dense(block.shape, cols)
            parts = self._constituents(cols, held, ref, close, stale, dividend, mv, rv)
        return BlockSums(sums=sums, constituents=parts)

    def _sums(
        self,
        n_held: np.ndarray,
        close: np.ndarray,
        special: np.ndarray,
        special_mv: np.ndarray,
        special_rv: np.ndarray,
        cols: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-session market and reference values over full-width rows.

        The products of N and the close / reference price; a held line's NaN
        term counts 0 (as np.nansum does), N x NaN off the held rows too. The
        rows are full width (zero off ``cols``), so they add as a pass over
        every column does.
        """
        n_rows, n_cols = self.block.shape
        mv_part = n_held * close
        rv_part = np.empty_like(mv_part)
        rv_part[0] = 0.0  # no reference price before the block
        np.multiply(n_held[1:], close[:-1], out=rv_part[1:])
        mv_part[:, special] = _zero_nan(special_mv)
        rv_part[:, special] = _zero_nan(special_rv)
        rows = np.zeros((n_rows, n_cols)) if cols.size < n_cols else None

        def total(part: np.ndarray) -> np.ndarray:
            if rows is None:
                whole: np.ndarray = part.sum(axis=1)
                return whole
            rows[:, cols] = part  # the other columns stay 0
            out: np.ndarray = rows.sum(axis=1)
            return out

        mv, rv = total(mv_part), total(rv_part)
        if not (np.isfinite(mv).all() and np.isfinite(rv).all()):
            # An infinite close: N x inf is NaN off the held rows; count it 0.
            mv, rv = total(_zero_nan(mv_part)), total(_zero_nan(rv_part))
        return mv, rv

    def _constituents(
        self,
        cols: np.ndarray,
        held: np.ndarray,
        ref: np.ndarray,
        close: np.ndarray,
        stale: np.ndarray,
        dividend: np.ndarray,
        mv: np.ndarray,
        rv: np.ndarray,
    ) -> pl.DataFrame:
        """The constituent rows; the arrays are of the columns ``cols``."""
        assert self.closing is not None
        assert self.held_floats is not None
        t, j = np.nonzero(held[1:])
        t = t + 1
        c = cols[j]
        n = self.index_shares[t, c]
        return pl.DataFrame(
            {
                "session": pl.Series(self.block.sessions, dtype=pl.Date)[t],
                "security_id": self.block.ids_of(c),
                "index_shares": n,
                "closing_index_shares": self.closing[t, c],
                "float_factor": self.held_floats[t, c],
                "reference_price": ref[t, j],
                "close": close[t, j],
                "price_carried": stale[t, j],
                "dividend": dividend[t, j],
                "opening_weight": n * ref[t, j] / rv[t],
                "closing_weight": n * close[t, j] / mv[t],
            },
            schema=schemas.CONSTITUENTS,
        )
