"""The scheduled changes of the close phase: reconstitution, quarterly updates, IPOs.

* **Reconstitution** (R7 §7): on the rank day the settings' reconstitutor is asked
  for the new membership (:meth:`ReconDecision.from_reconstitution` takes the lines
  of :attr:`Settings.index`); after the close of the effective date the members
  not in it leave and the new lines enter.
* **Quarterly update** (R7 §9.3; March, September, and December before 2026): on
  the quarter's effective date, shares and floats of the members change where the
  change exceeds its buffer (:func:`shares_change_exceeds_buffer`,
  :func:`float_change_exceeds_buffer`), from data at the share-update cut-off.
* **IPO additions** (R7 §6.9): lines that first traded in the quarter's window, are
  of an eligible type at the rule set's minimum price or more
  (:mod:`r2k.maintenance.eligibility`), and whose total cap lies in the index's
  market-adjusted size range (:data:`r2k.maintenance.state.IPO_SIZE_RANGES`) enter.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, replace
from functools import cache
from itertools import compress
from typing import TYPE_CHECKING, overload

import numpy as np

from r2k import schemas
from r2k.construction.classify import LINE_KEYS
from r2k.construction.reconstitution import Reconstitution
from r2k.errors import MethodologyError
from r2k.maintenance.eligibility import eligible_rows
from r2k.maintenance.market import epoch_day
from r2k.maintenance.state import ReconDecision
from r2k.methodology.schedule import (
    QuarterSchedule,
    quarterly_schedule,
    reconstitutions,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    import polars as pl

    from r2k.maintenance.book import Book
    from r2k.maintenance.settings import Settings
    from r2k.methodology.rule_sets import MaintenanceRules


# ------------------------------------------------------------------- calendar


def recon_schedule(start: date, end: date) -> list[tuple[date, date]]:
    """(rank day, effective date) of every reconstitution with a date in range."""
    return [
        (rank_day, effective)
        for year in range(start.year, end.year + 1)
        for rank_day, effective in _recon_dates(year)
        if start <= effective and rank_day <= end
    ]


@dataclass(frozen=True, slots=True)
class Calendar:
    """The scheduled dates a block of sessions may reach."""

    rank_days: frozenset[date]  # reconstitution rank days
    quarters: dict[date, QuarterSchedule]  # quarterly updates by effective date

    @classmethod
    def of(cls, sessions: Sequence[date], settings: Settings) -> Calendar:
        """The calendar of ``sessions`` (the settings' reconstitution dates, if any)."""
        dates = settings.reconstitution_dates
        if dates is None:
            dates = tuple(recon_schedule(sessions[0], sessions[-1])) if sessions else ()
        quarters: dict[date, QuarterSchedule] = {}
        if sessions:
            for year in range(sessions[0].year, sessions[-1].year + 1):
                for q in _quarter_schedule(year):
                    if not q.with_reconstitution:
                        quarters[q.effective_date] = q
        return cls(rank_days=frozenset(d[0] for d in dates), quarters=quarters)


@cache
def _quarter_schedule(year: int) -> tuple[QuarterSchedule, ...]:
    return quarterly_schedule(year)


@cache
def _recon_dates(year: int) -> tuple[tuple[date, date], ...]:
    return tuple((r.rank_day, r.effective_date) for r in reconstitutions(year))


def _previous_quarter(q: QuarterSchedule) -> date:
    """IPO rank day of the quarter before ``q`` (the IPO window's start)."""
    days = sorted(
        x.ipo_rank_day for year in (q.year - 1, q.year) for x in _quarter_schedule(year)
    )
    i = bisect_left(days, q.ipo_rank_day)
    return days[i - 1]


def scheduled_changes(book: Book, t: int, session: date, calendar: Calendar) -> None:
    """The scheduled changes after the close of ``session`` (row ``t``)."""
    settings = book.settings
    if session in calendar.rank_days and settings.reconstitute is not None:
        members = frozenset(book.block.ids_of(np.flatnonzero(book.shares > 0)))
        decision = decision_for(settings.reconstitute(session, members), settings)
        if decision is not None:
            book.recon = decision
    if book.recon is not None and book.recon.effective_date == session:
        implement_reconstitution(book, t, session)
    q = calendar.quarters.get(session)
    if q is not None and settings.quarterly:
        quarterly_update(book, t, session, q)
        if book.rules.ipo_additions and book.bounds is not None:
            ipo_additions(book, t, session, q)


# ------------------------------------------------------------ reconstitution


def decision_for(
    result: Reconstitution | ReconDecision | None, settings: Settings
) -> ReconDecision | None:
    """What a reconstitutor returned, as the decision for the settings' index.

    Raises
    ------
    MethodologyError
        If it is a decision for another index.
    """
    if isinstance(result, Reconstitution):
        return ReconDecision.from_reconstitution(result, settings.rules, settings.index)
    if result is not None and result.index != settings.index:
        msg = (
            f"the reconstitution of {result.rank_day} gives the lines of "
            f"{result.index}, but the calculation is of {settings.index}: return "
            "the reconstitution itself, or ReconDecision.from_reconstitution(..., "
            f"index={settings.index!r})"
        )
        raise MethodologyError(msg)
    return result


def implement_reconstitution(book: Book, t: int, session: date) -> None:
    """Implement the announced reconstitution after the close of ``session``.

    Members not in the new membership (or without a price) leave; the new members
    take the market's share count (the decision's when the market has none) and
    the decision's float factor.
    """
    decision = book.recon
    assert decision is not None
    block = book.block
    # One line per security: the last row, at the place of the first.
    members = decision.members
    if members.get_column("security_id").n_unique() < members.height:
        members = members.group_by("security_id", maintain_order=True).last()
    cols = block.columns(members["security_id"])
    in_block = cols >= 0
    priced = np.zeros(cols.size, dtype=bool)
    priced[in_block] = ~np.isnan(block.close_ff[t, cols[in_block]])
    kept = np.flatnonzero(priced)  # the members kept (read column by column)
    cols = cols[priced]
    staying = np.zeros(len(block.ids), dtype=bool)
    staying[cols] = True
    leaving = np.flatnonzero((book.shares > 0) & ~staying)
    gone = book.shares[leaving] * book.floats[leaving]
    book.shares[leaving] = 0.0
    book.log_many(
        session,
        leaving,
        "reconstitution_deletion",
        gone,
        None,
        "removed",
        timing="close",
    )
    # Shares: the market's on the session, else the decision's (null: not added).
    market_shares = block.shares_at(t, cols)
    from_decision = np.isnan(market_shares)
    decision_shares, no_shares = _values_and_nulls(
        members.get_column("shares_outstanding")[kept]
    )
    shares = np.where(from_decision, decision_shares, market_shares)
    skip = (from_decision & no_shares) | (shares <= 0)
    # A null or zero float factor stands for 1.
    floats, no_float = _values_and_nulls(members.get_column("float_factor")[kept])
    floats = np.where(no_float | (floats == 0.0), 1.0, floats)
    before = book.shares[cols] * book.floats[cols]
    add = ~skip
    book.shares[cols[add]] = shares[add]
    book.floats[cols[add]] = floats[add]
    added = cols[add]
    actions = np.where(
        before[add] > 0, "reconstitution_update", "reconstitution_addition"
    )
    book.log_many(
        session, added, actions.tolist(), before[add], block.close_ff[t, added]
    )
    # The size range stays in force until the next one; the lines are applied.
    book.bounds = replace(decision, members=decision.members.clear())
    book.recon = None


def _values_and_nulls(column: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """A float column's values (a null as NaN) and where it is null.

    Read from the buffers when there is no null: no Polars query, which could
    wait for the thread pool while the background thread's queries hold it.
    """
    return column.to_numpy(), schemas.null_mask(column)


# ------------------------------------------------------------------ quarterly


@overload
def shares_change_exceeds_buffer(
    index_shares: float, new_shares: float, rules: MaintenanceRules
) -> bool: ...
@overload
def shares_change_exceeds_buffer(
    index_shares: np.ndarray, new_shares: np.ndarray, rules: MaintenanceRules
) -> np.ndarray: ...
def shares_change_exceeds_buffer(
    index_shares: float | np.ndarray,
    new_shares: float | np.ndarray,
    rules: MaintenanceRules,
) -> bool | np.ndarray:
    """Quarterly shares update: cumulative change above ``shares_buffer_pct``.

    Element-wise on arrays; False where ``new_shares`` is NaN (no data) or not
    positive.

    Examples
    --------
    >>> from r2k.methodology.rule_sets import RuleSet
    >>> rules = RuleSet.default().maintenance
    >>> shares_change_exceeds_buffer(100e6, 100.9e6, rules)
    False
    >>> shares_change_exceeds_buffer(100e6, 101.1e6, rules)
    True
    >>> shares_change_exceeds_buffer(
    ...     np.array([1e6, 1e6]), np.array([np.nan, 2e6]), rules
    ... ).tolist()
    [False, True]
    """
    held, new = np.asarray(index_shares), np.asarray(new_shares)
    change = np.abs(new / held - 1.0) * 100.0
    out: np.ndarray = (new > 0) & (change > rules.shares_buffer_pct)
    return bool(out) if out.ndim == 0 else out


@overload
def float_change_exceeds_buffer(
    index_float: float, new_float: float, rules: MaintenanceRules
) -> bool: ...
@overload
def float_change_exceeds_buffer(
    index_float: np.ndarray, new_float: np.ndarray, rules: MaintenanceRules
) -> np.ndarray: ...
def float_change_exceeds_buffer(
    index_float: float | np.ndarray,
    new_float: float | np.ndarray,
    rules: MaintenanceRules,
) -> bool | np.ndarray:
    """Quarterly float update: change above the buffer in percentage points.

    The buffer is ``low_float_buffer_pp`` when the current float is at or below
    ``low_float_pct``, else ``float_buffer_pp``. Element-wise on arrays; False
    where ``new_float`` is NaN (no data).

    Examples
    --------
    methodology.md TC4 (R7 §9.3.4): float 8% changes only above 9% or below 7%:

    >>> from r2k.methodology.rule_sets import RuleSet
    >>> rules = RuleSet.default().maintenance
    >>> [float_change_exceeds_buffer(0.08, f, rules) for f in (0.0899, 0.0901, 0.0699)]
    [False, True, True]
    """
    held, new = np.asarray(index_float), np.asarray(new_float)
    pp = np.abs(new - held) * 100.0
    low = held * 100.0 <= rules.low_float_pct
    buffer = np.where(low, rules.low_float_buffer_pp, rules.float_buffer_pp)
    out: np.ndarray = np.asarray(pp > buffer + 1e-12)
    return bool(out) if out.ndim == 0 else out


def quarterly_update(book: Book, t: int, session: date, q: QuarterSchedule) -> None:
    """Quarterly share and float updates of the members, each beyond its buffer."""
    block = book.block
    held = np.flatnonzero(book.shares > 0)
    if held.size == 0:
        return
    market = book.market
    cutoff = market.on_or_before(q.share_update_cutoff)
    shares = market.column("shares_outstanding", cutoff, cutoff)
    cols = block.columns_of_codes(market.line_codes(cutoff, cutoff))
    known = cols >= 0
    market_shares = np.full(len(block.ids), np.nan)
    market_shares[cols[known]] = shares.to_numpy()[known]  # a null comes out NaN
    new_shares = market_shares[held]
    new_float = book.float_as_of(q.share_update_cutoff)[held]
    before = book.shares[held] * book.floats[held]
    shares_changed = shares_change_exceeds_buffer(
        book.shares[held], new_shares, book.rules
    )
    float_changed = float_change_exceeds_buffer(
        book.floats[held], new_float, book.rules
    )
    book.shares[held[shares_changed]] = new_shares[shares_changed]
    book.floats[held[float_changed]] = new_float[float_changed]
    detail = np.where(
        shares_changed, np.where(float_changed, "shares+float", "shares"), "float"
    )
    changed = np.flatnonzero(shares_changed | float_changed)
    updated = held[changed]
    book.log_many(
        session,
        updated,
        "quarterly_update",
        before[changed],
        block.close_ff[t, updated],
        detail[changed].tolist(),
    )


def ipo_additions(book: Book, t: int, session: date, q: QuarterSchedule) -> None:
    """Add the quarter's eligible IPOs in the index's size range (R7 §6.9)."""
    bounds = book.bounds
    assert bounds is not None
    block, market, rules = book.block, book.market, book.settings.rules
    window_start = _previous_quarter(q)
    rank = market.on_or_before(q.ipo_rank_day)
    first = market.first_days()  # of every line, by code
    listed = (first > epoch_day(window_start)) & (first <= epoch_day(rank))
    if not listed.any():
        return
    # Market adjustment since the rank day (R7 §6.8.1): total cap of the lines
    # quoted on both days (matched by line code; each sum in line order).
    then = market.on_or_before(bounds.rank_day)
    codes0, codes1 = market.line_codes(then, then), market.line_codes(rank, rank)
    caps0 = market.column("total_market_cap", then, then).to_numpy()
    caps1 = market.column("total_market_cap", rank, rank).to_numpy()
    # A session's codes ascend (its rows are in line order): each of the first
    # day's lines is looked up among the second's.
    at1 = np.minimum(np.searchsorted(codes1, codes0), max(codes1.size - 1, 0))
    both = codes1[at1] == codes0 if codes1.size else np.zeros(codes0.size, bool)
    at0, at1 = np.flatnonzero(both), at1[both]
    cap0, cap1 = np.nansum(caps0[at0]), np.nansum(caps1[at1])
    factor = float(cap1) / float(cap0) if at0.size else 1.0
    lower, upper = bounds.lower_cap * factor, bounds.upper_cap * factor
    close = market.column("close", rank, rank).to_numpy()
    with np.errstate(invalid="ignore"):  # a null close or cap is no candidate
        keep = (
            listed[codes1]
            & (close >= rules.eligibility.min_price)
            & (caps1 >= lower)
            & (caps1 < upper)
        )
    if not keep.any():
        return
    candidates = market.rows_at(rank, np.flatnonzero(keep), LINE_KEYS)
    eligible = eligible_rows(market, candidates, rules)
    if not eligible.any():
        return
    floats = book.float_as_of(session)
    ids = compress(candidates["security_id"].to_list(), eligible.tolist())
    found = [(sid, block.col.get(sid)) for sid in ids]
    cols = np.array([c for _, c in found if c is not None], dtype=np.int64)
    market_shares = dict(zip(cols.tolist(), block.shares_at(t, cols), strict=True))
    for _, c in found:
        if c is None or book.member(c):
            continue
        shares = market_shares[c]
        if math.isnan(shares) or math.isnan(block.close_ff[t, c]):
            continue
        book.shares[c] = shares
        known = not math.isnan(floats[c])
        book.floats[c] = floats[c] if known else book.settings.fallback_float
        book.log(session, c, "ipo_addition", 0.0, float(block.close_ff[t, c]))
