"""The book of one block of sessions, and the dense arrays it is valued on.

A *block* is a run of sessions the engine handles at once (a year in batch mode,
one session in incremental mode). :func:`build_block` lays the market rows of the
block out as dense (sessions x lines) NumPy arrays, row 0 being the session before
the block; :class:`Book` is the mutable working state of the walk over the block:
for every line its share basis and float factor (index shares ``N`` = shares x
float factor), how long it has gone without a price, and the reference-price
adjustments and price overrides the actions make. After the walk,
:meth:`Book.value` values the whole block at once.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from r2k import schemas
from r2k.errors import MissingDataError
from r2k.maintenance.levels import SUMS
from r2k.maintenance.market import epoch_day

if TYPE_CHECKING:
    from datetime import date

    from r2k.maintenance.actions import Adjustment
    from r2k.maintenance.market import MarketHistory
    from r2k.maintenance.settings import Settings
    from r2k.maintenance.state import IndexState, PendingRemoval, ReconDecision

#: Sessions a last price (or share count) is carried for lines without a new one.
PRICE_CARRY_SESSIONS = 20


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
    found = (sorted_ids.gather(pos) == ids).fill_null(value=False).to_numpy()
    out: np.ndarray = np.where(found, pos, -1)
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
    close: np.ndarray  # raw market close, NaN: no row
    close_ff: np.ndarray  # forward-filled (state's last close seeds row 0)
    missing_run: np.ndarray  # sessions without a price up to row 0 (lookback)
    lead: int  # look-back sessions before row 0 in market_shares
    market_shares: np.ndarray  # raw shares outstanding from the look-back on

    def shares_at(self, t: int) -> np.ndarray:
        """Shares outstanding of every line on row ``t``.

        A missing count is carried from the line's last one, at most
        :data:`PRICE_CARRY_SESSIONS` sessions back (the block's look-back
        included). Only a few sessions need it, so it is not kept for every row.
        """
        r = t + self.lead
        window = self.market_shares[max(0, r - PRICE_CARRY_SESSIONS) : r + 1]
        row: np.ndarray = ffill(window, PRICE_CARRY_SESSIONS)[-1]
        return row

    def columns(self, ids: pl.Series) -> np.ndarray:
        """Column of each of ``ids`` (-1: not a line of the block)."""
        return positions(self.id_series, ids)

    def ids_of(self, columns: np.ndarray) -> pl.Series:
        """``security_id`` of each of ``columns``."""
        return self.id_series.gather(columns)

    def days(self) -> np.ndarray:
        """The block's sessions (row 0 included) as days since 1970-01-01."""
        return np.array([epoch_day(d) for d in self.sessions])


def build_block(
    state: IndexState, sessions: list[date], market: MarketHistory
) -> Block:
    """Lay the market rows of ``sessions`` out densely, after ``state``'s session.

    A price or share count is carried :data:`PRICE_CARRY_SESSIONS` sessions at
    most; the block reads that many sessions before its start, so any split of a
    window into blocks (batch) or single sessions (incremental) sees the same
    values.
    """
    i = bisect_left(market.sessions, state.session)
    lead = list(market.sessions[max(0, i - PRICE_CARRY_SESSIONS) : i])
    all_sessions = [*lead, state.session, *sessions]
    rows = market.rows(all_sessions[0], sessions[-1])
    codes = market.line_codes(all_sessions[0], sessions[-1])
    # The block's lines: the market's lines with a row in it, and those the state
    # refers to (which may have none, or not be in the market at all).
    refs = set(state.lines["security_id"].to_list())
    for p in state.pending:
        refs.add(p.security_id)
        if p.acquirer:
            refs.add(p.acquirer)
    extra = pl.Series("security_id", sorted(refs), dtype=pl.String)
    lines = market.lines()
    extra_codes = positions(lines, extra)
    in_block = np.zeros(lines.len(), dtype=bool)
    in_block[codes] = True
    in_block[extra_codes[extra_codes >= 0]] = True
    listed = lines.gather(np.flatnonzero(in_block))
    unlisted = extra.filter(pl.Series(extra_codes < 0))
    id_series = listed if unlisted.is_empty() else pl.concat([listed, unlisted]).sort()
    ids = id_series.to_list()
    column = np.full(lines.len(), -1, dtype=np.int64)  # of each market line
    column[in_block] = positions(id_series, listed)
    # Market row r is line c[r] on session t[r] (a row of the block).
    c = column[codes]
    days, counts = market.session_rows(all_sessions[0], sessions[-1])
    block_days = np.array([epoch_day(d) for d in all_sessions])
    t = np.repeat(np.searchsorted(block_days, days), counts)
    flat = t * len(ids) + c  # the rows' positions in the row-major dense arrays
    shape = (len(all_sessions), len(ids))
    close = np.full(shape, np.nan)
    close.reshape(-1)[flat] = rows["close"].to_numpy()  # a null comes out as NaN
    shares = np.full(shape, np.nan)
    shares.reshape(-1)[flat] = rows["shares_outstanding"].to_numpy()
    seeded = close.copy()
    k = len(lead)
    # Consecutive sessions without a price ending at row k (the state's session).
    missing = np.isnan(close[: k + 1])[::-1]
    run = np.where(missing.all(axis=0), k + 1, np.argmin(missing, axis=0))
    if state.lines.height:
        sc = positions(id_series, state.lines["security_id"])
        last = state.lines["last_close"].to_numpy()
        row0 = seeded[k, sc]
        seeded[k, sc] = np.where(np.isnan(row0), last, row0)
    return Block(
        sessions=all_sessions[k:],
        ids=ids,
        col=dict(zip(ids, range(len(ids)), strict=True)),
        id_series=id_series,
        close=close[k:],
        close_ff=ffill(seeded, PRICE_CARRY_SESSIONS)[k:],
        missing_run=run.astype(np.int64),
        lead=k,
        market_shares=shares,
    )


# ----------------------------------------------------------------------- book


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockValues:
    """A block valued after the walk.

    Attributes
    ----------
    sums
        :data:`r2k.maintenance.levels.SUMS`, one row per session of the block
        (row 0 excluded).
    constituents
        :data:`r2k.schemas.CONSTITUENTS` (None unless asked for).
    lines
        :data:`r2k.schemas.STATE_LINES`: the members held into the next session.
    carried
        Member sessions priced with a carried close, by line.
    """

    sums: pl.DataFrame
    constituents: pl.DataFrame | None
    lines: pl.DataFrame
    carried: dict[str, int]


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
    dividend
        Cash dividend per share of every (session, line) of the block.
    """

    def __init__(
        self,
        state: IndexState,
        block: Block,
        market: MarketHistory,
        settings: Settings,
        events: list[dict[str, Any]],
        dividend: np.ndarray,
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
            cols = block.columns(state.lines["security_id"])
            self.shares[cols] = state.lines["shares"].to_numpy()
            self.floats[cols] = state.lines["float_factor"].to_numpy()
            self.run[cols] = state.lines["missing_run"].to_numpy()
        self.pending: list[PendingRemoval] = list(state.pending)
        self.recon: ReconDecision | None = state.recon
        self.bounds: ReconDecision | None = state.bounds
        shape = block.close.shape
        # Reference price of (t, c): previous close x mul - sub, unless overridden.
        self.mul = np.ones(shape)
        self.sub = np.zeros(shape)
        self.ref_override: dict[tuple[int, int], float] = {}
        self.close_override: dict[tuple[int, int], float] = {}
        self.dividend = dividend  # cash dividend per share (session, line)
        # Index shares held during each session, after its close, and floats.
        self.index_shares = np.zeros(shape)
        self.closing = np.zeros(shape)
        self.held_floats = np.ones(shape)
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
        self.mul[t, c] *= mul
        self.sub[t, c] = self.sub[t, c] * mul + sub

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
            its line's column and the factor (NaN: null). Built on first use.
        """
        if self._floats_known is None:
            frame = self.settings.float_factors
            if frame is None:
                frame = pl.DataFrame(schema=schemas.FLOAT_FACTORS)
            ordered = frame.drop_nulls("as_of").sort("as_of", maintain_order=True)
            cols = self.block.columns(ordered["security_id"])
            keep = cols >= 0
            as_of = ordered["as_of"].to_physical().to_numpy()
            factors = ordered["float_factor"].cast(pl.Float64).fill_null(np.nan)
            self._floats_known = (
                as_of[keep],
                cols[keep],
                factors.to_numpy()[keep],
            )
        return self._floats_known

    def float_as_of(self, as_of: date) -> np.ndarray:
        """Latest float factor known on ``as_of`` of every line of the block.

        NaN where there is none (no float data for the line, or a null factor). Of
        two factors of a line known from the same date, the later row's.
        """
        days, cols, factors = self.floats_known()
        n = int(np.searchsorted(days, epoch_day(as_of), side="right"))
        latest = np.full(len(self.block.ids), -1)  # each line's latest such row
        np.maximum.at(latest, cols[:n], np.arange(n))
        out = np.full(len(self.block.ids), np.nan)
        found = latest >= 0
        out[found] = factors[latest[found]]
        return out

    # ------------------------------------------------------------ the walk

    def opened(self, t: int) -> None:
        """Record the index shares held during session ``t`` (after its open)."""
        self.index_shares[t] = self.shares * self.floats
        self.held_floats[t] = self.floats
        missing = np.isnan(self.block.close[t])
        self.run = np.where(missing, self.run + 1, 0)

    def closed(self, t: int) -> None:
        """Record the index shares after session ``t``'s close."""
        self.closing[t] = self.shares * self.floats

    def value(self, withholding_rate: float, *, constituents: bool) -> BlockValues:
        """Value the whole block at once (vectorised over sessions x lines).

        Raises
        ------
        MissingDataError
            If a member has no price at all to be valued at.
        """
        block = self.block
        n_rows, n_cols = block.close.shape
        close_eff = block.close_ff.copy()
        for (t, c), price in self.close_override.items():
            close_eff[t, c] = price
        ref = np.full((n_rows, n_cols), np.nan)
        ref[1:] = close_eff[:-1] * self.mul[1:] - self.sub[1:]
        for (t, c), price in self.ref_override.items():
            ref[t, c] = price
        held = self.index_shares > 0
        # A spin-off child valued at its when-issued price before it trades.
        close_eff = np.where(held & np.isnan(close_eff), ref, close_eff)
        no_price = held & np.isnan(close_eff)
        if no_price.any():
            t, c = np.argwhere(no_price)[0]
            msg = (
                f"member {block.ids[c]} has no price on or before {block.sessions[t]}; "
                "it cannot be valued"
            )
            raise MissingDataError(msg)
        ref = np.where(held & np.isnan(ref), close_eff, ref)
        stale = held & np.isnan(block.close)
        for t, c in self.close_override:
            stale[t, c] = False
        stale_sessions = stale[1:].sum(axis=0)
        stale_lines = np.flatnonzero(stale_sessions)
        carried = dict(
            zip(
                block.ids_of(stale_lines).to_list(),
                stale_sessions[stale_lines].tolist(),
                strict=True,
            )
        )
        n_held = np.where(held, self.index_shares, 0.0)
        mv = np.nansum(n_held * np.where(held, close_eff, 0.0), axis=1)
        rv = np.nansum(n_held * np.where(held, ref, 0.0), axis=1)
        dv = (n_held * self.dividend).sum(axis=1)
        sums = pl.DataFrame(
            {
                "session": block.sessions[1:],
                "market_value": mv[1:],
                "reference_value": rv[1:],
                "has_reference": [True] * (n_rows - 1),
                "dividends": dv[1:],
                "net_dividends": dv[1:] * (1.0 - withholding_rate),
            },
            schema=SUMS,
        )
        parts = (
            self._constituents(ref, close_eff, stale, mv, rv) if constituents else None
        )
        last = n_rows - 1
        held_next = np.flatnonzero(self.shares > 0)
        lines = pl.DataFrame(
            {
                "security_id": block.ids_of(held_next),
                "shares": self.shares[held_next],
                "float_factor": self.floats[held_next],
                "last_close": close_eff[last, held_next],
                "missing_run": self.run[held_next],
            },
            schema=schemas.STATE_LINES,
        )
        return BlockValues(sums=sums, constituents=parts, lines=lines, carried=carried)

    def _constituents(
        self,
        ref: np.ndarray,
        close_eff: np.ndarray,
        stale: np.ndarray,
        mv: np.ndarray,
        rv: np.ndarray,
    ) -> pl.DataFrame:
        t, c = np.nonzero(self.index_shares[1:] > 0)
        t = t + 1
        n = self.index_shares[t, c]
        return pl.DataFrame(
            {
                "session": pl.Series(self.block.sessions, dtype=pl.Date).gather(t),
                "security_id": self.block.ids_of(c),
                "index_shares": n,
                "closing_index_shares": self.closing[t, c],
                "float_factor": self.held_floats[t, c],
                "reference_price": ref[t, c],
                "close": close_eff[t, c],
                "price_carried": stale[t, c],
                "dividend": self.dividend[t, c],
                "opening_weight": n * ref[t, c] / rv[t],
                "closing_weight": n * close_eff[t, c] / mv[t],
            },
            schema=schemas.CONSTITUENTS,
        )
