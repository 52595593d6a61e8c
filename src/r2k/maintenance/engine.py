"""The calculation: batch and incremental, one code path.

The engine walks the sessions of a market in order and keeps the index's book
(:mod:`r2k.maintenance.book`). Each session has two phases (methodology.md §9.1,
§11.2):

* **open**: the corporate actions going ex on the session
  (:data:`r2k.maintenance.actions.KINDS`: splits, stock dividends, rights in the
  money, special dividends, spin-offs, identifier changes, intra-quarter share
  changes) change the index shares ``N`` and the reference price ``P_ref`` the
  session's return is measured from; the level is continuous because the divisor
  absorbs the change;
* **close**: lines leave after the close (delayed-action mergers due; the actions
  that remove a line: mergers at their terms, delisting, bankruptcy; then lines
  without a price for ``stale_price_removal_sessions``; then the other close
  checks: spin-off children that are not eligible) and the scheduled changes are
  implemented (:mod:`r2k.maintenance.scheduled`: reconstitution on its effective
  date; quarterly share and float updates; quarterly IPO additions). No deletion
  is replaced (R7 §9.2).

Both modes run the same book through :func:`run_block`, which keeps the per-line
work vectorised over a dense (sessions x lines) block: :func:`calculate` takes the
whole window in yearly blocks (batch), :func:`calculate_session` one session from
a stored :class:`~r2k.maintenance.state.IndexState` (incremental). Tests require
the two to agree to 1e-10. Point-in-time: when the book handles session *t*, it
reads market rows dated on or before *t* only (the block holds later rows for the
vectorised sums, which use each session's own row).

Performance: a block is built from NumPy slices (:class:`MarketHistory` keeps the
row offset of every session and numbers the lines once), so no per-row join runs
per block; cash dividends, most of the actions, are added a block at a time; the
per-session Python work is the events themselves (one loop over each session's
actions, and one over the lines a scheduled change touches, to log them).
"""

from __future__ import annotations

from bisect import bisect_right
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import polars as pl

from r2k import schemas
from r2k.background import worker
from r2k.errors import MissingDataError
from r2k.maintenance.actions import (
    KIND,
    PreparedActions,
    cash_dividends,
    prepare_actions,
    settle_delayed,
)
from r2k.maintenance.book import (
    BlockSums,
    BlockValues,
    Book,
    EventLog,
    build_block,
    events_frame,
)
from r2k.maintenance.levels import SUMS, LevelState, chain_levels, levels_from_sums
from r2k.maintenance.scheduled import Calendar, scheduled_changes
from r2k.maintenance.state import IndexState

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    import numpy as np

    from r2k.maintenance.market import MarketHistory
    from r2k.maintenance.settings import Settings


#: Block valuations the batch walk may run ahead of (each holds its block's arrays).
VALUATIONS_AHEAD = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Calculation:
    """Levels of one index over a window, with what produced them.

    Attributes
    ----------
    levels
        :data:`r2k.schemas.LEVELS`, one row per session.
    events
        :data:`r2k.schemas.EVENTS`: every change of the book.
    constituents
        :data:`r2k.schemas.CONSTITUENTS` (empty unless asked for).
    carried
        ``security_id``, ``sessions``: member sessions priced with a carried close.
    state
        The book at the last session's close.
    notes
        What the caller should know about the run.
    """

    levels: pl.DataFrame
    events: pl.DataFrame
    constituents: pl.DataFrame
    carried: pl.DataFrame
    state: IndexState
    notes: tuple[str, ...] = ()


def calculate(
    state: IndexState,
    market: MarketHistory,
    actions: pl.DataFrame,
    settings: Settings,
    *,
    end: date,
    constituents: bool = False,
    block_sessions: int = 252,
) -> Calculation:
    """Batch mode: every session after ``state.session`` up to ``end``.

    Parameters
    ----------
    state
        The book at the close before the window (:func:`initial_state`).
    market
        The market, read point in time.
    actions
        :data:`r2k.schemas.CORPORATE_ACTIONS` (checked here).
    settings
        The index, the rule set and the conventions.
    end
        The last session.
    constituents
        Whether to return the constituent file.
    block_sessions
        Sessions per block; within a block the per-line work is vectorised.

    Returns
    -------
    Calculation
        The levels include the state's own session as the first row.
    """
    sessions = [s for s in market.sessions if state.session < s <= end]
    prepared = prepare_actions(actions, market)
    events: EventLog = []
    carried: dict[str, int] = {}
    start_state = state
    # With two blocks or more, a block's valuation runs in the background thread
    # while the walk goes on, at most VALUATIONS_AHEAD blocks behind it.
    background = len(sessions) > block_sessions
    jobs: list[Future[BlockSums]] = []
    codes = None  # the market line codes of the state's lines, once known
    for i in range(0, len(sessions), block_sessions):
        block = sessions[i : i + block_sessions]
        state, values = run_block(
            state, block, market, prepared, settings, events, constituents, codes
        )
        codes = values.line_codes
        _add_carried(carried, values)
        if len(jobs) >= VALUATIONS_AHEAD:
            jobs[-VALUATIONS_AHEAD].result()  # bounds the arrays held
        jobs.append(_run(values.valuation, background=background))
    valued = [job.result() for job in jobs]
    sums = [v.sums for v in valued]
    parts = [v.constituents for v in valued if v.constituents is not None]
    all_sums = pl.concat(sums) if sums else pl.DataFrame(schema=SUMS)
    levels = chain_levels(start_state.levels, all_sums, settings.convention)
    final_levels = levels.row(levels.height - 1, named=True)
    state = replace(
        state,
        levels=LevelState(
            session=final_levels["session"],
            price_return=final_levels["price_return"],
            total_return=final_levels["total_return"],
            net_total_return=final_levels["net_total_return"],
        ),
    )
    return Calculation(
        levels=levels,
        events=events_frame(events),
        constituents=pl.concat(parts)
        if parts
        else pl.DataFrame(schema=schemas.CONSTITUENTS),
        carried=_carried_frame(carried),
        state=state,
    )


def calculate_session(
    state: IndexState,
    market: MarketHistory,
    actions: pl.DataFrame,
    settings: Settings,
    *,
    session: date,
) -> Calculation:
    """Incremental mode: the one session after ``state.session``.

    Parameters are those of :func:`calculate`; ``session`` is the session to
    calculate. The constituent file is always returned.

    Raises
    ------
    MissingDataError
        If ``session`` is not the market's next session after the state's.
    """
    later = market.sessions[bisect_right(market.sessions, state.session) :]
    if not later or later[0] != session:
        expected = later[0] if later else "none (the market has no later session)"
        msg = (
            f"the stored state is at the close of {state.session}; the next session "
            f"to calculate is {expected}, not {session}"
        )
        raise MissingDataError(msg)
    prepared = prepare_actions(actions.filter(pl.col("ex_date") == session), market)
    events: EventLog = []
    new_state, values = run_block(
        state, [session], market, prepared, settings, events, True
    )
    valued = values.valuation()
    row = valued.sums.row(0, named=True)
    levels_state, level_values = levels_from_sums(
        state.levels, row, convention=settings.convention
    )
    levels = pl.DataFrame(
        [{"session": session, **level_values}], schema=schemas.LEVELS, orient="row"
    )
    carried: dict[str, int] = {}
    _add_carried(carried, values)
    return Calculation(
        levels=levels,
        events=events_frame(events),
        constituents=valued.constituents
        if valued.constituents is not None
        else pl.DataFrame(schema=schemas.CONSTITUENTS),
        carried=_carried_frame(carried),
        state=replace(new_state, levels=levels_state),
    )


def run_block(
    state: IndexState,
    sessions: list[date],
    market: MarketHistory,
    actions: PreparedActions,
    settings: Settings,
    events: EventLog,
    constituents: bool,
    state_codes: np.ndarray | None = None,
) -> tuple[IndexState, BlockValues]:
    """Walk one block of sessions after ``state`` (both modes run this).

    ``state_codes``: the market line codes of the state's lines, when known
    (:func:`r2k.maintenance.book.build_block`).

    Returns
    -------
    state, values
        The state at the block's last close (its levels are the caller's to
        chain) and the block's values.
    """
    block = build_block(state, sessions, market, state_codes)
    dividends = cash_dividends(block, actions)
    book = Book(
        state, block, market, settings, events, dividends, constituents=constituents
    )
    calendar = Calendar.of(sessions, settings)
    for t in range(1, len(block.sessions)):
        session = block.sessions[t]
        todays = actions.by_session.get(session, [])
        _open_phase(book, t, session, todays)
        book.opened(t)
        _close_phase(book, t, session, todays, calendar)
        book.closed(t)
    values = book.value(settings.withholding_rate, constituents=constituents)
    new_state = IndexState(
        session=block.sessions[-1],
        levels=state.levels,
        lines=values.lines,
        pending=tuple(book.pending),
        recon=book.recon,
        bounds=book.bounds,
    )
    return new_state, values


def _open_phase(
    book: Book, t: int, session: date, todays: list[dict[str, Any]]
) -> None:
    """Run the open handlers of the actions going ex on ``session``, in order."""
    for row in todays:
        handler = KIND[row["action"]].open
        c = book.block.col.get(row["security_id"])
        if handler is not None and c is not None and book.member(c):
            handler(book, t, session, c, row)


def _close_phase(
    book: Book, t: int, session: date, todays: list[dict[str, Any]], calendar: Calendar
) -> None:
    """Exits, r2k's stale rule, close checks, then the scheduled changes."""
    settle_delayed(book, t, session)
    for removes in (True, False):
        for row in todays:
            kind = KIND[row["action"]]
            if kind.close is not None and kind.removes == removes:
                kind.close(book, t, session, row)
        if removes:
            _stale_exits(book, t, session)
    scheduled_changes(book, t, session, calendar)


def _stale_exits(book: Book, t: int, session: date) -> None:
    """Lines without a price for too long are taken as delisted (r2k rule).

    The lines held at the open whose run reached the limit (:meth:`Book.opened`)
    and still held after the exits of the close.
    """
    for col in book.stale[: book.n_stale].tolist():
        if book.shares[col] > 0:
            price = float(book.block.close_ff[t, col])
            book.remove(session, col, "stale_price", price)


def _run(job: Callable[[], BlockSums], *, background: bool) -> Future[BlockSums]:
    """``job`` in the background thread, or here and now."""
    if background:
        return worker().submit(job)
    done: Future[BlockSums] = Future()
    done.set_result(job())
    return done


def _add_carried(carried: dict[str, int], values: BlockValues) -> None:
    for sid, k in values.carried.items():
        carried[sid] = carried.get(sid, 0) + k


def _carried_frame(carried: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"security_id": list(carried), "sessions": list(carried.values())},
        schema={"security_id": pl.String, "sessions": pl.Int64},
    ).sort("security_id")
