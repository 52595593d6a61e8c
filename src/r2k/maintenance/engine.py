"""Index maintenance between reconstitutions, and the levels it produces.

The engine walks the sessions of a market in order and keeps the index's book:
for every member line its share basis and float factor (index shares ``N`` =
shares x float factor), its last price and how long it has gone without one.
Each session has two phases (methodology.md §9.1, §11.2):

* **open**: actions going ex on the session (splits, stock dividends, rights in
  the money, special dividends, spin-offs, identifier changes, intra-quarter share
  changes) change ``N`` and the reference price ``P_ref`` the session's return is
  measured from; the level is continuous because the divisor absorbs the change;
* **close**: lines leave after the close (mergers at their terms, delayed one
  session when the acquirer is not a member, TC5; delistings; bankruptcies; lines
  without a price for ``stale_price_removal_sessions``; spin-off children that are
  not eligible) and the scheduled changes are implemented (reconstitution on its
  effective date; quarterly share and float updates with their buffers; quarterly
  IPO additions). No deletion is replaced (R7 §9.2).

Both modes run the same book through :func:`_run_chunk`, which keeps the per-line
work vectorised over a dense (sessions x lines) block: :func:`calculate` takes the
whole window in yearly blocks (batch), :func:`calculate_session` one session from
a stored :class:`IndexState` (incremental). Tests require the two to agree to 1e-10.
Point-in-time: when the book handles session *t*, it reads market rows dated on or
before *t* only (the block holds later rows for the vectorised sums, which use
each session's own row).

Performance: a block is built from NumPy slices (:class:`MarketHistory` keeps the
row offset of every session and numbers the lines once), so no per-row join runs
per block; cash dividends, most of the actions, are added a block at a time; the
per-session Python work is the events themselves (one loop over each session's
actions, and one over the lines a scheduled change touches, to log them).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from r2k import schemas
from r2k.construction.classify import security_type_expr
from r2k.errors import MissingDataError, SchemaError
from r2k.maintenance import levels as calculation
from r2k.maintenance.corporate_actions import (
    check_actions,
    merger_price,
    offering_applies_intra_quarter,
    rights_in_the_money,
    theoretical_ex_rights_price,
)
from r2k.methodology.schedule import (
    QuarterSchedule,
    quarterly_schedule,
    reconstitutions,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from r2k.construction.reconstitution import Reconstitution
    from r2k.methodology.rule_sets import MaintenanceRules, RuleSet

_SUMS = pl.Schema(
    {
        "session": pl.Date,
        "market_value": pl.Float64,
        "reference_value": pl.Float64,
        "has_reference": pl.Boolean,
        "dividends": pl.Float64,
        "net_dividends": pl.Float64,
    }
)
_ELIGIBLE_TYPES = ("common", "ordinary", "class_share")
#: Sessions a last price (or share count) is carried for lines without a new one.
PRICE_CARRY_SESSIONS = 20


# --------------------------------------------------------------------- inputs


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
        lo = int(np.searchsorted(days, days.dtype.type(_day(first))))
        hi = int(np.searchsorted(days, days.dtype.type(_day(last)), side="right"))
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


def _day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconDecision:
    """A reconstitution's result as the calculation needs it.

    ``members`` has ``security_id``, ``shares_outstanding`` (null: take the
    market's) and ``float_factor``; ``lower_cap`` and ``upper_cap`` are the company
    total caps at the smallest Russell 3000 rank and at the #1,000 breakpoint, the
    size range of quarterly IPO additions (market-adjusted when used).
    """

    rank_day: date
    effective_date: date
    members: pl.DataFrame
    lower_cap: float
    upper_cap: float

    @classmethod
    def from_reconstitution(
        cls, result: Reconstitution, rules: RuleSet
    ) -> ReconDecision:
        """The Russell 2000 lines and IPO size range of a reconstitution."""
        m = result.membership
        lower = m.filter(pl.col("r3000"))["total_market_cap"].min()
        upper = m.filter(pl.col("rank") == rules.ranking.r1000_size)["total_market_cap"]
        return cls(
            rank_day=result.rank_day,
            effective_date=result.effective_date,
            members=m.filter(pl.col("r2000")).select(
                "security_id", "shares_outstanding", "float_factor"
            ),
            lower_cap=float(lower) if isinstance(lower, int | float) else 0.0,
            upper_cap=float(upper[0]) if upper.len() else float("inf"),
        )


#: Called on a rank day with the current members; returns the new membership.
Reconstitutor = Callable[[date, frozenset[str]], "ReconDecision | None"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingRemoval:
    """A delayed-action exit: the line leaves after the close of ``session``."""

    session: date | None  # None: the next session
    security_id: str
    acquirer: str | None
    ratio: float
    cash: float


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexState:
    """The book at a session's close: everything the next session needs."""

    session: date
    levels: calculation.LevelState
    lines: pl.DataFrame  # schemas.STATE_LINES: the members after the close's changes
    pending: tuple[PendingRemoval, ...] = ()
    recon: ReconDecision | None = None  # announced, not yet effective
    bounds: ReconDecision | None = None  # the latest effective reconstitution

    def members(self) -> frozenset[str]:
        """Security ids of the members held into the next session."""
        return frozenset(self.lines["security_id"].to_list())

    def to_json(self) -> str:
        """Serialise (for the store)."""
        return json.dumps(
            {
                "session": self.session.isoformat(),
                "levels": {
                    "price_return": self.levels.price_return,
                    "total_return": self.levels.total_return,
                    "net_total_return": self.levels.net_total_return,
                },
                "lines": self.lines.to_dicts(),
                "pending": [
                    {
                        "session": p.session.isoformat() if p.session else None,
                        "security_id": p.security_id,
                        "acquirer": p.acquirer,
                        "ratio": p.ratio,
                        "cash": p.cash,
                    }
                    for p in self.pending
                ],
                "recon": _decision_json(self.recon),
                "bounds": _decision_json(self.bounds),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> IndexState:
        """Inverse of :meth:`to_json`."""
        raw = json.loads(text)
        session = date.fromisoformat(raw["session"])
        lv = raw["levels"]
        return cls(
            session=session,
            levels=calculation.LevelState(session=session, **lv),
            lines=pl.DataFrame(raw["lines"], schema=schemas.STATE_LINES, orient="row")
            if raw["lines"]
            else pl.DataFrame(schema=schemas.STATE_LINES),
            pending=tuple(
                PendingRemoval(
                    session=date.fromisoformat(p["session"]) if p["session"] else None,
                    security_id=p["security_id"],
                    acquirer=p["acquirer"],
                    ratio=p["ratio"],
                    cash=p["cash"],
                )
                for p in raw["pending"]
            ),
            recon=_decision_from(raw["recon"]),
            bounds=_decision_from(raw["bounds"]),
        )


def _decision_json(d: ReconDecision | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "rank_day": d.rank_day.isoformat(),
        "effective_date": d.effective_date.isoformat(),
        "members": d.members.select(
            "security_id", "shares_outstanding", "float_factor"
        ).to_dicts(),
        "lower_cap": d.lower_cap,
        "upper_cap": d.upper_cap,
    }


def _decision_from(raw: dict[str, Any] | None) -> ReconDecision | None:
    if raw is None:
        return None
    return ReconDecision(
        rank_day=date.fromisoformat(raw["rank_day"]),
        effective_date=date.fromisoformat(raw["effective_date"]),
        members=pl.DataFrame(
            raw["members"],
            schema={
                "security_id": pl.String,
                "shares_outstanding": pl.Float64,
                "float_factor": pl.Float64,
            },
            orient="row",
        )
        if raw["members"]
        else pl.DataFrame(
            schema={
                "security_id": pl.String,
                "shares_outstanding": pl.Float64,
                "float_factor": pl.Float64,
            }
        ),
        lower_cap=raw["lower_cap"],
        upper_cap=raw["upper_cap"],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Calculation:
    """Levels of one index over a window, with what produced them."""

    levels: pl.DataFrame  # schemas.LEVELS
    events: pl.DataFrame  # schemas.EVENTS
    constituents: pl.DataFrame  # schemas.CONSTITUENTS (empty unless asked for)
    carried: pl.DataFrame  # security_id, sessions: member sessions priced stale
    state: IndexState  # at the last session's close
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How to calculate (the rule set's maintenance section plus conventions)."""

    rules: RuleSet
    base_value: float = 100.0
    withholding_rate: float = calculation.DEFAULT_WITHHOLDING
    convention: calculation.TotalReturnConvention = "reinvest"
    reconstitute: Reconstitutor | None = None  # None: no reconstitution
    float_factors: pl.DataFrame | None = None  # schemas.FLOAT_FACTORS
    quarterly: bool = True  # quarterly share/float updates and IPO additions
    # (rank day, effective date) of the reconstitutions; None: the Russell calendar
    reconstitution_dates: tuple[tuple[date, date], ...] | None = None
    fallback_float: float = 1.0  # float factor of an IPO with no float data


# ------------------------------------------------------------------ public API


def initial_state(
    session: date,
    members: pl.DataFrame,
    market: MarketHistory,
    *,
    base_value: float = 100.0,
) -> tuple[IndexState, pl.DataFrame]:
    """The book at the base session's close.

    ``members`` has ``security_id``, ``shares`` and ``float_factor`` (index shares
    = shares x float factor). Lines with no market price on ``session`` cannot be
    priced and are left out; they are returned as the second value.
    """
    need = {"security_id", "shares", "float_factor"}
    missing = need - set(members.columns)
    if missing:
        msg = f"initial members: missing column(s) {', '.join(sorted(missing))}"
        raise SchemaError(msg)
    cross = market.cross_section(session).select("security_id", last_close="close")
    if cross.height == 0:
        msg = f"the market has no rows for the base session {session}"
        raise MissingDataError(msg)
    joined = members.select(
        "security_id",
        pl.col("shares").cast(pl.Float64),
        pl.col("float_factor").cast(pl.Float64),
    ).join(cross, on="security_id", how="left")
    unpriced = joined.filter(pl.col("last_close").is_null()).select("security_id")
    lines = (
        joined.filter(pl.col("last_close").is_not_null() & (pl.col("shares") > 0))
        .with_columns(missing_run=pl.lit(0, dtype=pl.Int64))
        .select(schemas.STATE_LINES.names())
        .sort("security_id")
    )
    state = IndexState(
        session=session,
        levels=calculation.base_state(session, base_value),
        lines=lines,
    )
    return state, unpriced


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

    Walks the window in blocks of ``block_sessions`` sessions; within a block the
    per-line work is vectorised. Returns the levels including the state's own
    session as the first row.
    """
    sessions = [s for s in market.sessions if state.session < s <= end]
    prepared = _prepare_actions(actions)
    sums: list[pl.DataFrame] = []
    events: list[dict[str, Any]] = []
    parts: list[pl.DataFrame] = []
    carried: dict[str, int] = {}
    start_state = state
    for i in range(0, len(sessions), block_sessions):
        block = sessions[i : i + block_sessions]
        state, block_sums, block_parts = _run_chunk(
            state, block, market, prepared, settings, events, carried, constituents
        )
        sums.append(block_sums)
        if block_parts is not None:
            parts.append(block_parts)
    all_sums = pl.concat(sums) if sums else pl.DataFrame(schema=_SUMS)
    levels = _levels(start_state, all_sums, settings)
    final_levels = levels.row(levels.height - 1, named=True)
    state = replace(
        state,
        levels=calculation.LevelState(
            session=final_levels["session"],
            price_return=final_levels["price_return"],
            total_return=final_levels["total_return"],
            net_total_return=final_levels["net_total_return"],
        ),
    )
    return Calculation(
        levels=levels,
        events=_events_frame(events),
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
    prepared = _prepare_actions(actions.filter(pl.col("ex_date") == session))
    events: list[dict[str, Any]] = []
    carried: dict[str, int] = {}
    new_state, sums, parts = _run_chunk(
        state, [session], market, prepared, settings, events, carried, True
    )
    row = sums.row(0, named=True)
    levels_state, values = calculation.levels_from_sums(
        state.levels, row, convention=settings.convention
    )
    levels = pl.DataFrame(
        [{"session": session, **values}], schema=schemas.LEVELS, orient="row"
    )
    return Calculation(
        levels=levels,
        events=_events_frame(events),
        constituents=parts
        if parts is not None
        else pl.DataFrame(schema=schemas.CONSTITUENTS),
        carried=_carried_frame(carried),
        state=replace(new_state, levels=levels_state),
    )


def recon_schedule(start: date, end: date) -> list[tuple[date, date]]:
    """(rank day, effective date) of every reconstitution with a date in range."""
    return [
        (rank_day, effective)
        for year in range(start.year, end.year + 1)
        for rank_day, effective in _recon_dates(year)
        if start <= effective and rank_day <= end
    ]


# ------------------------------------------------------------------- internals


@dataclass(frozen=True, slots=True, kw_only=True)
class _Actions:
    """Checked corporate actions, ready for the session walk.

    Cash dividends (most of the actions) only add to the dividend of their line and
    session: they are applied a block at a time (:func:`_cash_dividends`). The
    other actions are handled one by one, on their ex-date, in the checked order.
    """

    by_session: dict[date, list[dict[str, Any]]]  # other actions, by ex-date
    dividend_days: np.ndarray  # cash dividends' ex-dates (days since 1970), sorted
    dividend_ids: pl.Series
    dividend_amounts: np.ndarray


def _prepare_actions(actions: pl.DataFrame) -> _Actions:
    """Check ``actions`` and split them into cash dividends and the others."""
    checked = check_actions(actions, source="corporate actions")
    cash = pl.col("action") == "cash_dividend"
    dividends = checked.filter(cash)
    by_session: dict[date, list[dict[str, Any]]] = {}
    for row in checked.filter(~cash).to_dicts():
        by_session.setdefault(row["ex_date"], []).append(row)
    return _Actions(
        by_session=by_session,
        dividend_days=dividends["ex_date"].to_physical().to_numpy(),
        dividend_ids=dividends["security_id"],
        dividend_amounts=dividends["amount"].to_numpy(),
    )


def _levels(start: IndexState, sums: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Levels from per-session sums, chained from the start state (vectorised)."""
    first = {
        "session": start.session,
        "market_value": None,
        "divisor": None,
        "price_return": start.levels.price_return,
        "total_return": start.levels.total_return,
        "net_total_return": start.levels.net_total_return,
        "dividend_points": 0.0,
        "net_dividend_points": 0.0,
    }
    head = pl.DataFrame([first], schema=schemas.LEVELS, orient="row")
    if sums.height == 0:
        return head
    mv = sums["market_value"].to_numpy()
    ref = sums["reference_value"].to_numpy()
    if not (ref > 0).all():
        empty = sums.filter(pl.col("reference_value") <= 0)["session"][0]
        msg = f"the index has no members on {empty}: it cannot be calculated"
        raise MissingDataError(msg)
    growth = mv / ref
    pr = start.levels.price_return * np.cumprod(growth)
    divisor = ref / np.concatenate([[start.levels.price_return], pr[:-1]])
    points = sums["dividends"].to_numpy() / divisor
    net_points = sums["net_dividends"].to_numpy() / divisor
    # calculation.total_return_levels chains from the start session (index 0).
    pr_all = np.concatenate([[start.levels.price_return], pr])
    tr = calculation.total_return_levels(
        pr_all,
        np.concatenate([[0.0], points]),
        start.levels.total_return,
        settings.convention,
    )[1:]
    ntr = calculation.total_return_levels(
        pr_all,
        np.concatenate([[0.0], net_points]),
        start.levels.net_total_return,
        settings.convention,
    )[1:]
    body = pl.DataFrame(
        {
            "session": sums["session"],
            "market_value": mv,
            "divisor": divisor,
            "price_return": pr,
            "total_return": tr,
            "net_total_return": ntr,
            "dividend_points": points,
            "net_dividend_points": net_points,
        },
        schema=schemas.LEVELS,
    )
    return pl.concat([head, body])


def _ffill(values: np.ndarray, limit: int) -> np.ndarray:
    """Forward-fill NaN down each column, at most ``limit`` rows."""
    rows = np.arange(values.shape[0])[:, None]
    idx = np.where(np.isnan(values), 0, rows)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out: np.ndarray = values[idx, np.arange(values.shape[1])[None, :]]
    out[(rows - idx) > limit] = np.nan
    return out


@dataclass(slots=True)
class _Block:
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
        row: np.ndarray = _ffill(window, PRICE_CARRY_SESSIONS)[-1]
        return row

    def columns(self, ids: pl.Series) -> np.ndarray:
        """Column of each of ``ids`` (-1: not a line of the block)."""
        return _positions(self.id_series, ids)

    def ids_of(self, columns: np.ndarray) -> pl.Series:
        """``security_id`` of each of ``columns``."""
        return self.id_series.gather(columns)


def _positions(sorted_ids: pl.Series, ids: pl.Series) -> np.ndarray:
    """Position of each of ``ids`` in ``sorted_ids`` (unique, ascending).

    -1 where an id is not there (or null). A binary search per id.
    """
    n = sorted_ids.len()
    if n == 0:
        return np.full(ids.len(), -1, dtype=np.int64)
    pos = sorted_ids.search_sorted(ids).to_numpy().astype(np.int64)
    np.minimum(pos, n - 1, out=pos)
    found = (sorted_ids.gather(pos) == ids).fill_null(value=False).to_numpy()
    out: np.ndarray = np.where(found, pos, -1)
    return out


def _block(state: IndexState, sessions: list[date], market: MarketHistory) -> _Block:
    # A price or share count is carried PRICE_CARRY_SESSIONS sessions at most; the
    # block reads that many sessions before its start, so any split of a window
    # into blocks (batch) or single sessions (incremental) sees the same values.
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
    extra_codes = _positions(lines, extra)
    in_block = np.zeros(lines.len(), dtype=bool)
    in_block[codes] = True
    in_block[extra_codes[extra_codes >= 0]] = True
    listed = lines.gather(np.flatnonzero(in_block))
    unlisted = extra.filter(pl.Series(extra_codes < 0))
    id_series = listed if unlisted.is_empty() else pl.concat([listed, unlisted]).sort()
    ids = id_series.to_list()
    column = np.full(lines.len(), -1, dtype=np.int64)  # of each market line
    column[in_block] = _positions(id_series, listed)
    # Market row r is line c[r] on session t[r] (a row of the block).
    c = column[codes]
    days, counts = market.session_rows(all_sessions[0], sessions[-1])
    block_days = np.array([_day(d) for d in all_sessions])
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
        sc = _positions(id_series, state.lines["security_id"])
        last = state.lines["last_close"].to_numpy()
        row0 = seeded[k, sc]
        seeded[k, sc] = np.where(np.isnan(row0), last, row0)
    return _Block(
        sessions=all_sessions[k:],
        ids=ids,
        col=dict(zip(ids, range(len(ids)), strict=True)),
        id_series=id_series,
        close=close[k:],
        close_ff=_ffill(seeded, PRICE_CARRY_SESSIONS)[k:],
        missing_run=run.astype(np.int64),
        lead=k,
        market_shares=shares,
    )


def _cash_dividends(block: _Block, actions: _Actions) -> np.ndarray:
    """Cash dividend per share of every (session, line) of the block.

    A line's dividends going ex on a session add up (in action order), member or
    not; row 0, the session before the block, stays 0.
    """
    out = np.zeros(block.close.shape)
    days = np.array([_day(d) for d in block.sessions])
    ex_days = actions.dividend_days
    lo = int(np.searchsorted(ex_days, days[1]))
    hi = int(np.searchsorted(ex_days, days[-1], side="right"))
    ex = ex_days[lo:hi]
    t = np.searchsorted(days, ex)
    c = block.columns(actions.dividend_ids.slice(lo, hi - lo))
    keep = (days[t] == ex) & (c >= 0)
    np.add.at(out, (t[keep], c[keep]), actions.dividend_amounts[lo:hi][keep])
    return out


class _Book:
    """The mutable working state of one block run (private)."""

    def __init__(
        self,
        state: IndexState,
        block: _Block,
        settings: Settings,
        events: list[dict[str, Any]],
        dividend: np.ndarray,
    ) -> None:
        n = len(block.ids)
        self.block = block
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
        self.pending = list(state.pending)
        self.recon = state.recon
        self.bounds = state.bounds
        shape = block.close.shape
        self.mul = np.ones(shape)
        self.sub = np.zeros(shape)
        self.ref_override: dict[tuple[int, int], float] = {}
        self.close_override: dict[tuple[int, int], float] = {}
        self.dividend = dividend  # cash dividend per share (session, line)
        self._floats_known: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

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

    def n(self, c: int) -> float:
        return float(self.shares[c] * self.floats[c])

    def member(self, c: int | None) -> bool:
        return c is not None and self.shares[c] > 0

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

    def compose(self, t: int, c: int, mul: float, sub: float) -> None:
        """Reference price becomes (ref x mul - sub)."""
        self.mul[t, c] *= mul
        self.sub[t, c] = self.sub[t, c] * mul + sub

    def remove(self, session: date, c: int, action: str, price: float | None) -> None:
        before = self.n(c)
        self.shares[c] = 0.0
        self.log(session, c, action, before, price, "removed", timing="close")


def _run_chunk(
    state: IndexState,
    sessions: list[date],
    market: MarketHistory,
    actions: _Actions,
    settings: Settings,
    events: list[dict[str, Any]],
    carried: dict[str, int],
    want_constituents: bool,
) -> tuple[IndexState, pl.DataFrame, pl.DataFrame | None]:
    block = _block(state, sessions, market)
    book = _Book(state, block, settings, events, _cash_dividends(block, actions))
    n_rows, n_cols = block.close.shape
    index_shares = np.zeros((n_rows, n_cols))
    floats = np.ones((n_rows, n_cols))
    closing = np.zeros((n_rows, n_cols))
    if settings.reconstitution_dates is not None:
        recon_days = dict(settings.reconstitution_dates)
    else:
        recon_days = dict(_recon_days(sessions))
    quarters = _quarters(sessions)
    for t in range(1, n_rows):
        session = block.sessions[t]
        todays = actions.by_session.get(session, [])
        _open_phase(book, t, session, todays)
        index_shares[t] = book.shares * book.floats
        floats[t] = book.floats
        missing = np.isnan(block.close[t])
        book.run = np.where(missing, book.run + 1, 0)
        _close_phase(book, t, session, todays, recon_days, quarters, market)
        closing[t] = book.shares * book.floats
    # Vectorised per-line work over the block.
    close_eff = block.close_ff.copy()
    for (t, c), price in book.close_override.items():
        close_eff[t, c] = price
    ref = np.full((n_rows, n_cols), np.nan)
    ref[1:] = close_eff[:-1] * book.mul[1:] - book.sub[1:]
    for (t, c), price in book.ref_override.items():
        ref[t, c] = price
    held = index_shares > 0
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
    for t, c in book.close_override:
        stale[t, c] = False
    stale_sessions = stale[1:].sum(axis=0)
    stale_lines = np.flatnonzero(stale_sessions)
    for sid, k in zip(
        block.ids_of(stale_lines), stale_sessions[stale_lines].tolist(), strict=True
    ):
        carried[sid] = carried.get(sid, 0) + k
    tau = settings.withholding_rate
    n_held = np.where(held, index_shares, 0.0)
    mv = np.nansum(n_held * np.where(held, close_eff, 0.0), axis=1)
    rv = np.nansum(n_held * np.where(held, ref, 0.0), axis=1)
    dv = (n_held * book.dividend).sum(axis=1)
    sums = pl.DataFrame(
        {
            "session": block.sessions[1:],
            "market_value": mv[1:],
            "reference_value": rv[1:],
            "has_reference": [True] * (n_rows - 1),
            "dividends": dv[1:],
            "net_dividends": dv[1:] * (1.0 - tau),
        },
        schema=_SUMS,
    )
    parts = None
    if want_constituents:
        parts = _constituents_frame(
            block, index_shares, closing, floats, ref, close_eff, stale, book, mv, rv
        )
    last = n_rows - 1
    held_next = np.flatnonzero(book.shares > 0)
    lines = pl.DataFrame(
        {
            "security_id": block.ids_of(held_next),
            "shares": book.shares[held_next],
            "float_factor": book.floats[held_next],
            "last_close": close_eff[last, held_next],
            "missing_run": book.run[held_next],
        },
        schema=schemas.STATE_LINES,
    )
    new_state = IndexState(
        session=block.sessions[last],
        levels=state.levels,
        lines=lines,
        pending=tuple(book.pending),
        recon=book.recon,
        bounds=book.bounds,
    )
    return new_state, sums, parts


def _constituents_frame(
    block: _Block,
    index_shares: np.ndarray,
    closing: np.ndarray,
    floats: np.ndarray,
    ref: np.ndarray,
    close_eff: np.ndarray,
    stale: np.ndarray,
    book: _Book,
    mv: np.ndarray,
    rv: np.ndarray,
) -> pl.DataFrame:
    t, c = np.nonzero(index_shares[1:] > 0)
    t = t + 1
    n = index_shares[t, c]
    return pl.DataFrame(
        {
            "session": pl.Series(block.sessions, dtype=pl.Date).gather(t),
            "security_id": block.ids_of(c),
            "index_shares": n,
            "closing_index_shares": closing[t, c],
            "float_factor": floats[t, c],
            "reference_price": ref[t, c],
            "close": close_eff[t, c],
            "price_carried": stale[t, c],
            "dividend": book.dividend[t, c],
            "opening_weight": n * ref[t, c] / rv[t],
            "closing_weight": n * close_eff[t, c] / mv[t],
        },
        schema=schemas.CONSTITUENTS,
    )


def _recon_days(sessions: Sequence[date]) -> list[tuple[date, date]]:
    if not sessions:
        return []
    return recon_schedule(sessions[0], sessions[-1])


def _quarters(sessions: Sequence[date]) -> dict[date, QuarterSchedule]:
    out: dict[date, QuarterSchedule] = {}
    if not sessions:
        return out
    for year in range(sessions[0].year, sessions[-1].year + 1):
        for q in _quarter_schedule(year):
            if not q.with_reconstitution:
                out[q.effective_date] = q
    return out


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


def _open_phase(
    book: _Book, t: int, session: date, todays: Iterable[dict[str, Any]]
) -> None:
    """Apply the actions going ex on ``session`` (cash dividends apart).

    Cash dividends are already in ``book.dividend`` (:func:`_cash_dividends`).
    """
    block = book.block
    for row in todays:
        action = row["action"]
        c = block.col.get(row["security_id"])
        if not book.member(c) or c is None:
            continue
        before = book.n(c)
        prev = float(block.close_ff[t - 1, c])
        if action in ("split", "stock_dividend"):
            book.shares[c] *= row["ratio"]
            book.compose(t, c, 1.0 / row["ratio"], 0.0)
            book.log(
                session, c, action, before, prev / row["ratio"], f"x{row['ratio']:g}"
            )
        elif action == "rights":
            ratio, price = row["ratio"], row["amount"]
            if rights_in_the_money(prev, price):
                book.shares[c] *= 1.0 + ratio
                book.compose(t, c, 1.0 / (1.0 + ratio), -ratio * price / (1.0 + ratio))
                terp = theoretical_ex_rights_price(prev, ratio, price)
                book.log(session, c, action, before, terp, "in the money: TERP")
            else:
                book.log(
                    session, c, action, before, prev, "out of the money: no change"
                )
        elif action == "special_dividend":
            book.compose(t, c, 1.0, row["amount"])
            book.log(session, c, action, before, prev - row["amount"], "price adjusted")
        elif action == "spinoff":
            _spinoff(book, t, session, c, row, before, prev)
        elif action == "identifier_change":
            new = block.col.get(row["other_id"])
            if new is None:
                book.log(
                    session, c, action, before, prev, f"{row['other_id']} not listed"
                )
                continue
            book.shares[new], book.floats[new] = book.shares[c], book.floats[c]
            book.run[new] = book.run[c]
            book.ref_override[(t, new)] = prev
            book.shares[c] = 0.0
            book.log(session, new, action, before, prev, f"was {row['security_id']}")
        elif action == "share_change":
            new_float = row["float_factor"] or float(book.floats[c])
            new_n = row["shares_outstanding"] * new_float
            price = row["amount"] or prev
            if offering_applies_intra_quarter(
                new_n - before, before, price, book.rules
            ):
                book.shares[c] = row["shares_outstanding"]
                book.floats[c] = new_float
                book.log(session, c, action, before, price, "applied intra-quarter")
            else:
                book.log(session, c, action, before, price, "deferred to the quarter")


def _spinoff(
    book: _Book,
    t: int,
    session: date,
    c: int,
    row: dict[str, Any],
    before: float,
    prev: float,
) -> None:
    block = book.block
    child = block.col.get(row["other_id"])
    value = row["amount"]
    if value is None and child is not None:
        value = float(block.close[t, child])
    if child is None or value is None or math.isnan(value):
        book.log(session, c, "spinoff", before, prev, "child not priced: no change")
        return
    book.compose(t, c, 1.0, row["ratio"] * value)
    book.shares[child] = book.shares[c] * row["ratio"]
    book.floats[child] = book.floats[c]
    book.ref_override[(t, child)] = value
    book.log(session, c, "spinoff", before, prev - row["ratio"] * value, "parent")
    book.log(session, child, "spinoff_child", 0.0, value, f"from {row['security_id']}")


def _close_phase(
    book: _Book,
    t: int,
    session: date,
    todays: list[dict[str, Any]],
    recon_days: dict[date, date],
    quarters: dict[date, QuarterSchedule],
    market: MarketHistory,
) -> None:
    block = book.block
    nxt = block.sessions[t + 1] if t + 1 < len(block.sessions) else None
    # Delayed actions due today (TC5): terms at today's acquirer close.
    due = [p for p in book.pending if p.session in (session, None)]
    book.pending = [p for p in book.pending if p not in due]
    for p in due:
        c = block.col.get(p.security_id)
        if not book.member(c) or c is None:
            continue
        a = block.col.get(p.acquirer) if p.acquirer else None
        acq = float(block.close_ff[t, a]) if a is not None else None
        price = merger_price(acq, p.ratio, p.cash)
        book.close_override[(t, c)] = price
        book.remove(session, c, "merger", price)
    for row in todays:
        action = row["action"]
        c = block.col.get(row["security_id"])
        if action not in ("merger", "delisting", "bankruptcy") or not book.member(c):
            continue
        assert c is not None
        if action == "merger":
            a = block.col.get(row["other_id"]) if row["other_id"] else None
            ratio = row["ratio"] or 0.0
            cash = row["amount"] or 0.0
            if book.member(a) and ratio > 0 and a is not None:
                price = merger_price(float(block.close_ff[t, a]), ratio, cash)
                book.close_override[(t, c)] = price
                gained = book.n(c) * ratio
                before_a = book.n(a)
                book.shares[a] += gained / book.floats[a]
                book.remove(session, c, "merger", price)
                book.log(
                    session,
                    a,
                    "merger_acquirer",
                    before_a,
                    float(block.close_ff[t, a]),
                    f"acquired {row['security_id']}",
                )
            else:
                book.pending.append(
                    PendingRemoval(
                        session=nxt,
                        security_id=row["security_id"],
                        acquirer=row["other_id"],
                        ratio=ratio,
                        cash=cash,
                    )
                )
                book.log(session, c, "merger", book.n(c), None, "delayed one session")
        else:
            price = row["amount"]
            if price is None:
                price = float(block.close[t, c])
                if math.isnan(price):
                    last = float(block.close_ff[t, c])
                    nominal = book.rules.nominal_removal_price
                    price = nominal if action == "bankruptcy" else last
            book.close_override[(t, c)] = price
            book.remove(session, c, action, price)
    # Lines without a price for too long are taken as delisted (r2k rule).
    limit = book.rules.stale_price_removal_sessions
    for col in np.flatnonzero((book.shares > 0) & (book.run >= limit)):
        book.remove(session, int(col), "stale_price", float(block.close_ff[t, col]))
    # Spin-off children that are not eligible leave after their first session.
    for row in todays:
        if row["action"] != "spinoff":
            continue
        child = block.col.get(row["other_id"])
        if (
            child is not None
            and book.member(child)
            and not _child_eligible(book, t, child, market, session)
        ):
            book.remove(session, child, "spinoff_child_ineligible", None)
    if session in recon_days and book.settings.reconstitute is not None:
        members = frozenset(block.ids_of(np.flatnonzero(book.shares > 0)))
        decision = book.settings.reconstitute(session, members)
        if decision is not None:
            book.recon = decision
    if book.recon is not None and book.recon.effective_date == session:
        _reconstitute(book, t, session)
    q = quarters.get(session)
    if q is not None and book.settings.quarterly:
        _quarterly_update(book, t, session, q, market)
        if book.rules.ipo_additions and book.bounds is not None:
            _ipo_additions(book, t, session, q, market)


def _child_eligible(
    book: _Book, t: int, child: int, market: MarketHistory, session: date
) -> bool:
    """Whether a spin-off child is an eligible security on its first session."""
    cross = market.cross_section(session)
    sid = book.block.ids[child]
    # The rows of a session are in security_id order.
    i = int(cross["security_id"].search_sorted(sid))
    if i == cross.height or cross["security_id"][i] != sid:
        return False
    row = cross.slice(i, 1)
    cap = row["total_market_cap"][0]
    floor = (
        book.bounds.lower_cap
        if book.bounds is not None
        else book.settings.rules.eligibility.min_total_market_cap
    )
    if cap is None or not cap >= floor:
        return False
    return bool(row.select(_security_type()).item() in _ELIGIBLE_TYPES)


@cache
def _security_type() -> pl.Expr:
    """Security type of a market row (built once: the expression is large)."""
    return security_type_expr("name", symbol_col="security_id")


def _reconstitute(book: _Book, t: int, session: date) -> None:
    """Implement the announced reconstitution after the close of ``session``.

    Members not in the new membership (or without a price) leave; the new members
    take the market's share count (the decision's when the market has none) and
    the decision's float factor.
    """
    decision = book.recon
    assert decision is not None
    block = book.block
    # One line per security: the last row, at the place of the first.
    members = decision.members.group_by("security_id", maintain_order=True).last()
    cols = block.columns(members["security_id"])
    in_block = cols >= 0
    priced = np.zeros(cols.size, dtype=bool)
    priced[in_block] = ~np.isnan(block.close_ff[t, cols[in_block]])
    members, cols = members.filter(pl.Series(priced)), cols[priced]
    staying = np.zeros(len(block.ids), dtype=bool)
    staying[cols] = True
    for col in np.flatnonzero((book.shares > 0) & ~staying):
        book.remove(session, int(col), "reconstitution_deletion", None)
    # Shares: the market's on the session, else the decision's (null: not added).
    market_shares = block.shares_at(t)[cols]
    from_decision = np.isnan(market_shares)
    decision_shares = members["shares_outstanding"]
    shares = np.where(from_decision, decision_shares.to_numpy(), market_shares)
    skip = (from_decision & decision_shares.is_null().to_numpy()) | (shares <= 0)
    # A null or zero float factor stands for 1.
    floats = members["float_factor"].fill_null(0.0).to_numpy()
    floats = np.where(floats == 0.0, 1.0, floats)
    before = book.shares[cols] * book.floats[cols]
    add = ~skip
    book.shares[cols[add]] = shares[add]
    book.floats[cols[add]] = floats[add]
    for k in np.flatnonzero(add):
        c = int(cols[k])
        action = "reconstitution_update" if before[k] > 0 else "reconstitution_addition"
        book.log(session, c, action, float(before[k]), float(block.close_ff[t, c]))
    book.bounds = decision
    book.recon = None


def _float_as_of(book: _Book, as_of: date) -> np.ndarray:
    """Latest float factor known on ``as_of`` of every line of the block.

    NaN where there is none (no float data for the line, or a null factor). Of
    two factors of a line known from the same date, the later row's.
    """
    days, cols, factors = book.floats_known()
    n = int(np.searchsorted(days, _day(as_of), side="right"))  # known on as_of
    latest = np.full(len(book.block.ids), -1)  # each line's latest such row
    np.maximum.at(latest, cols[:n], np.arange(n))
    out = np.full(len(book.block.ids), np.nan)
    found = latest >= 0
    out[found] = factors[latest[found]]
    return out


def _shares_buffer_exceeded(
    index_shares: np.ndarray, new_shares: np.ndarray, rules: MaintenanceRules
) -> np.ndarray:
    """Vectorised ``corporate_actions.shares_change_exceeds_buffer``.

    False where ``new_shares`` is NaN (no data) or not positive.
    """
    change = np.abs(new_shares / index_shares - 1.0) * 100.0
    out: np.ndarray = (new_shares > 0) & (change > rules.shares_buffer_pct)
    return out


def _float_buffer_exceeded(
    index_float: np.ndarray, new_float: np.ndarray, rules: MaintenanceRules
) -> np.ndarray:
    """Vectorised :func:`r2k.maintenance.corporate_actions.float_change_exceeds_buffer`.

    False where ``new_float`` is NaN (no data).
    """
    pp = np.abs(new_float - index_float) * 100.0
    low = index_float * 100.0 <= rules.low_float_pct
    buffer = np.where(low, rules.low_float_buffer_pp, rules.float_buffer_pp)
    out: np.ndarray = pp > buffer + 1e-12
    return out


def _quarterly_update(
    book: _Book, t: int, session: date, q: QuarterSchedule, market: MarketHistory
) -> None:
    """Quarterly share and float updates of the members, each beyond its buffer."""
    block = book.block
    held = np.flatnonzero(book.shares > 0)
    if held.size == 0:
        return
    cross = market.cross_section(_on_or_before(market, q.share_update_cutoff))
    cols = block.columns(cross["security_id"])
    known = cols >= 0
    market_shares = np.full(len(block.ids), np.nan)
    market_shares[cols[known]] = (
        cross["shares_outstanding"].fill_null(np.nan).to_numpy()[known]
    )
    new_shares = market_shares[held]
    new_float = _float_as_of(book, q.share_update_cutoff)[held]
    before = book.shares[held] * book.floats[held]
    shares_changed = _shares_buffer_exceeded(book.shares[held], new_shares, book.rules)
    float_changed = _float_buffer_exceeded(book.floats[held], new_float, book.rules)
    book.shares[held[shares_changed]] = new_shares[shares_changed]
    book.floats[held[float_changed]] = new_float[float_changed]
    detail = np.where(
        shares_changed, np.where(float_changed, "shares+float", "shares"), "float"
    )
    for k in np.flatnonzero(shares_changed | float_changed):
        c = int(held[k])
        book.log(
            session,
            c,
            "quarterly_update",
            float(before[k]),
            float(block.close_ff[t, c]),
            str(detail[k]),
        )


def _on_or_before(market: MarketHistory, d: date) -> date:
    i = bisect_right(market.sessions, d)
    return market.sessions[max(i - 1, 0)]


def _ipo_additions(
    book: _Book, t: int, session: date, q: QuarterSchedule, market: MarketHistory
) -> None:
    bounds = book.bounds
    assert bounds is not None
    block = book.block
    window_start = _previous_quarter(q)
    rank = _on_or_before(market, q.ipo_rank_day)
    first = market.first_sessions().filter(
        pl.col("first_session") > window_start, pl.col("first_session") <= rank
    )
    if first.height == 0:
        return
    # Market adjustment since the rank day (R7 §6.8.1): total cap of the lines
    # quoted on both days.
    then = market.cross_section(_on_or_before(market, bounds.rank_day))
    now = market.cross_section(rank)
    both = then.select("security_id", cap0="total_market_cap").join(
        now.select("security_id", cap1="total_market_cap"), on="security_id"
    )
    cap0, cap1 = both["cap0"].sum(), both["cap1"].sum()
    factor = float(cap1) / float(cap0) if both.height else 1.0
    lower, upper = bounds.lower_cap * factor, bounds.upper_cap * factor
    candidates = now.join(first, on="security_id", how="semi").filter(
        pl.col("close") >= book.settings.rules.eligibility.min_price,
        pl.col("total_market_cap") >= lower,
        pl.col("total_market_cap") < upper,
    )
    if candidates.height == 0:
        return
    candidates = candidates.filter(_security_type().is_in(_ELIGIBLE_TYPES))
    floats = _float_as_of(book, session)
    market_shares = block.shares_at(t)
    for sid in candidates["security_id"].to_list():
        c = block.col.get(sid)
        if c is None or book.member(c):
            continue
        shares = market_shares[c]
        if math.isnan(shares) or math.isnan(block.close_ff[t, c]):
            continue
        book.shares[c] = shares
        known = not math.isnan(floats[c])
        book.floats[c] = floats[c] if known else book.settings.fallback_float
        book.log(session, c, "ipo_addition", 0.0, float(block.close_ff[t, c]))


def _events_frame(events: list[dict[str, Any]]) -> pl.DataFrame:
    if not events:
        return pl.DataFrame(schema=schemas.EVENTS)
    return pl.DataFrame(events, schema=schemas.EVENTS, orient="row")


def _carried_frame(carried: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"security_id": list(carried), "sessions": list(carried.values())},
        schema={"security_id": pl.String, "sessions": pl.Int64},
    ).sort("security_id")
