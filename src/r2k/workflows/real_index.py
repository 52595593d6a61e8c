"""An index of the Russell family calculated on the real data of a data directory.

For the Russell 2000 there are two ways to choose the members (``weights``), both
priced with the market panel:

* ``"holdings"``: the float-adjusted quantities of the latest IWM holdings file on
  or before the start, held fixed (index shares = quantity); only the real splits
  of the catalogue and exits of lines that stop trading change them;
* ``"r2k"``: the index as r2k builds and maintains it. It starts from the same
  IWM holdings (index shares = panel shares x r2k's float estimate), applies r2k's
  own reconstitution on every effective date the window reaches (built from the
  rank-day data by :func:`r2k.workflows.pipeline.run_reconstitution`), quarterly IPO
  additions and share/float updates, the real splits, and exits of lines that stop
  trading (``stale_price_removal_sessions``).

Every other index of the family (``index``: see :data:`r2k._typing.INDEX_CODES`)
has no holdings file to start from: it starts from r2k's own reconstitution on the
latest effective date on or before the start that the data can build (the seed),
and is maintained from there exactly like the Russell 2000 with ``"r2k"`` weights.
Its levels have base 100 at the seed's close.

The panel has no dividends, so total and net total return equal price return here.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import polars as pl

from r2k import schemas
from r2k.construction.floats import estimate_from_holdings
from r2k.data.sources.ishares import Holdings, read_holdings
from r2k.data.sources.panel import read_market_panel
from r2k.data.sources.splits import read_splits
from r2k.errors import MethodologyError, MissingDataError
from r2k.maintenance.engine import Calculation, calculate
from r2k.maintenance.market import MarketHistory
from r2k.maintenance.scheduled import recon_schedule
from r2k.maintenance.settings import Settings
from r2k.maintenance.state import IndexState, ReconDecision, initial_state
from r2k.methodology.rule_sets import RuleSet, rule_set_for
from r2k.tickers import resolve_ticker
from r2k.workflows.pipeline import (
    ReconRun,
    read_as_of,
    run_reconstitution,
    session_before_effective,
)

if TYPE_CHECKING:
    from datetime import date

    from r2k._typing import IndexCode, Weights
    from r2k.data.datadir import DataDir


@dataclass(frozen=True, slots=True, kw_only=True)
class RealRun:
    """A calculation on real data with what it started from."""

    calculation: Calculation
    index: IndexCode
    weights: Weights
    holdings_file: str
    unpriced: tuple[str, ...]  # holdings lines with no panel price on the start
    reconstitutions: tuple[str, ...]  # effective dates applied
    notes: tuple[str, ...]


def splits_as_actions(splits: pl.DataFrame) -> pl.DataFrame:
    """The split catalogue (:data:`~r2k.schemas.SPLITS`) as corporate actions."""
    frame = splits.select(
        "security_id",
        "ex_date",
        action=pl.lit("split"),
        ratio=pl.col("ratio_new") / pl.col("ratio_old"),
        amount=pl.lit(None, dtype=pl.Float64),
        other_id=pl.lit(None, dtype=pl.String),
        shares_outstanding=pl.lit(None, dtype=pl.Float64),
        float_factor=pl.lit(None, dtype=pl.Float64),
        source=pl.concat_str(pl.lit("splits catalogue: "), pl.col("source")),
    )
    return schemas.check_schema(frame, schemas.CORPORATE_ACTIONS, source="splits")


# |log| of the price move net of the split beyond which a date is taken as wrong.
_SPLIT_GAP = 0.25


def align_split_dates(
    actions: pl.DataFrame, market: MarketHistory, *, window: int = 2
) -> tuple[pl.DataFrame, list[str]]:
    """Move each split to the session where the line's price shows it.

    The catalogue's date is often the payable date, a session before the ex-date
    (docs/data-formats.md). For each split, the sessions from one before to
    ``window`` after its date are tried; the ex-date is the one where
    ``close(t) x ratio / close(t-1)`` is nearest 1 (it uses the closes of t-1 and
    t only, so no later data). Returns the actions and one note per move.
    """
    notes: list[str] = []
    rows = []
    sessions = market.sessions
    for row in actions.iter_rows(named=True):
        inside = sessions[0] < row["ex_date"] <= sessions[-1]
        if row["action"] == "split" and inside:
            i = bisect_left(sessions, row["ex_date"])
            tries = sessions[max(i - 1, 1) : i + window + 1]
            lines = market.rows(
                sessions[max(i - 2, 0)], tries[-1] if tries else row["ex_date"]
            )
            px = dict(
                zip(
                    lines.filter(pl.col("security_id") == row["security_id"])[
                        "session"
                    ],
                    lines.filter(pl.col("security_id") == row["security_id"])["close"],
                    strict=True,
                )
            )
            gaps = {}
            for t in tries:
                j = bisect_left(sessions, t)
                before, after = px.get(sessions[j - 1]), px.get(t)
                if before and after:
                    gaps[t] = abs(math.log(after * row["ratio"] / before))
            best = min(gaps, key=gaps.__getitem__) if gaps else row["ex_date"]
            stated = gaps.get(row["ex_date"], math.inf)
            if best != row["ex_date"] and gaps[best] < _SPLIT_GAP < stated:
                notes.append(
                    f"split {row['security_id']} {row['ratio']:g}: catalogue date "
                    f"{row['ex_date']}, prices show it on {best}"
                )
                row = {**row, "ex_date": best}
        rows.append(row)
    frame = pl.DataFrame(rows, schema=schemas.CORPORATE_ACTIONS, orient="row")
    return frame, notes


def latest_holdings(data: DataDir, on_or_before: date) -> Holdings:
    """The latest IWM holdings file dated on or before ``on_or_before``."""
    files = [p for p in data.holdings_files("IWM") if read_as_of(p) <= on_or_before]
    if not files:
        first = data.holdings_files("IWM")
        msg = (
            f"no IWM holdings file on or before {on_or_before} (the first is "
            f"{read_as_of(first[0]) if first else 'none'}); choose a later start"
        )
        raise MissingDataError(msg)
    return read_holdings(files[-1])


def recon_decision(
    run: ReconRun, rules: RuleSet, index: IndexCode = "r2000"
) -> ReconDecision:
    """What the calculation needs from a reconstitution run (``index``'s lines)."""
    return ReconDecision.from_reconstitution(run.result, rules, index=index)


def seed_reconstitution(
    market: MarketHistory, start: date, index: IndexCode
) -> tuple[date, date]:
    """(rank day, effective date) of the reconstitution an index starts from.

    The latest reconstitution whose effective date is a session of the market on
    or before ``start``. Its rank day need not be in the market: the data
    directory's IWV holdings stand in for the universe then (see
    :func:`r2k.workflows.pipeline.run_reconstitution`).

    Raises
    ------
    MissingDataError
        If no such reconstitution exists; the message names the nearest usable
        start.
    """
    first, last = market.sessions[0], market.sessions[-1]
    known = set(market.sessions)
    usable = [d for d in recon_schedule(first, last) if d[1] in known]
    before = [d for d in usable if d[1] <= start]
    if before:
        return before[-1]
    nearest = (
        f"the nearest usable start is {usable[0][1]} (the effective date of the "
        f"reconstitution ranked on {usable[0][0]})"
        if usable
        else f"the market ({first} .. {last}) holds no reconstitution's effective date"
    )
    msg = (
        f"{index} has no holdings file to start from: it starts from r2k's own "
        f"reconstitution on an effective date on or before --start {start}, and the "
        f"market has none; {nearest}"
    )
    raise MissingDataError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class RealSetup:
    """Everything a calculation on real data needs, for batch and incremental."""

    market: MarketHistory
    actions: pl.DataFrame
    settings: Settings
    initial: IndexState
    weights: Weights
    holdings_file: str
    unpriced: tuple[str, ...]
    notes: tuple[str, ...]
    starts_on_effective: date | None  # the window starts on a recon's effective date


def setup(
    data: DataDir,
    start: date,
    *,
    weights: Weights,
    rules: RuleSet | None = None,
    index: IndexCode = "r2000",
) -> RealSetup:
    """Inputs, settings and the base state of a window starting on ``start``.

    For an index other than the Russell 2000 the window starts on the effective
    date of :func:`seed_reconstitution` (on or before ``start``).
    """
    if index != "r2000" and weights != "r2k":
        msg = (
            f"--weights {weights}: only the Russell 2000 has holdings (IWM) to hold; "
            f"{index} is calculated with r2k's own weights (--weights r2k)"
        )
        raise MethodologyError(msg)
    panel = read_market_panel(data.market_panel)
    market = MarketHistory(panel)
    if start not in market.sessions:
        msg = (
            f"the market panel has no session {start}; it covers "
            f"{market.sessions[0]} .. {market.sessions[-1]}"
        )
        raise MissingDataError(msg)
    seed: tuple[date, date] | None = None
    if index != "r2000":
        seed = seed_reconstitution(market, start, index)
        start = seed[1]
    given = rules  # the reconstitutions use it too (None: the rules in force)
    rules = rules or rule_set_for(start)
    holdings = latest_holdings(data, start)
    known = frozenset(market.cross_section(start)["security_id"].to_list())
    eq = holdings.equities.with_columns(
        security_id=pl.col("security_id").map_elements(
            lambda t: resolve_ticker(t, known), return_dtype=pl.String
        )
    )
    eq = eq.group_by("security_id").agg(pl.col("quantity").sum())
    notes: list[str] = []
    actions, moved = align_split_dates(
        splits_as_actions(read_splits(data.splits_dir)).filter(
            pl.col("ex_date") >= start
        ),
        market,
    )
    actions = actions.filter(pl.col("ex_date") > start)
    notes.extend(moved)
    announced: ReconDecision | None = None
    starts_on_effective: date | None = None
    if weights == "holdings":
        members = eq.select("security_id", shares="quantity", float_factor=pl.lit(1.0))
        settings = Settings(rules=rules, quarterly=False, reconstitution_dates=())
    else:
        shares = market.cross_section(start).select("security_id", "shares_outstanding")
        estimate = estimate_from_holdings(eq, shares, rules.float)
        members = (
            eq.join(shares, on="security_id", how="left")
            .join(estimate.factors, on="security_id", how="left")
            .select(
                "security_id",
                shares=pl.coalesce("shares_outstanding", "quantity"),
                float_factor=pl.when(pl.col("shares_outstanding").is_null())
                .then(1.0)
                .otherwise(pl.col("float_factor").fill_null(estimate.median_factor)),
            )
        )
        decisions: dict[date, ReconDecision] = {}

        def reconstitute(rank_day: date, _members: frozenset[str]) -> ReconDecision:
            if rank_day not in decisions:
                run = run_reconstitution(
                    data,
                    rank_day,
                    rules=given,
                    as_of=session_before_effective(rank_day),
                )
                decisions[rank_day] = recon_decision(run, rules, index)
            return decisions[rank_day]

        dates = tuple(recon_schedule(start, market.sessions[-1]))
        settings = Settings(
            rules=rules,
            index=index,
            reconstitute=reconstitute,
            reconstitution_dates=dates,
            fallback_float=estimate.median_factor,
        )
        pending = [d for d in dates if d[0] < start <= d[1]]
        if pending:
            rank_day, effective = pending[0]
            decision = reconstitute(rank_day, frozenset())
            if effective > start:
                announced = decision  # rank day before the window: already known
            else:
                starts_on_effective = effective
                members = (
                    decision.members.join(shares, on="security_id", how="left")
                    .with_columns(
                        shares=pl.coalesce(
                            pl.col("shares_outstanding_right"),
                            pl.col("shares_outstanding"),
                        )
                    )
                    .select("security_id", "shares", "float_factor")
                )
                notes.append(
                    f"the window starts on the effective date {effective}: r2k's "
                    f"reconstitution (rank day {rank_day}) is the starting membership"
                    + (
                        f" of {index} (no holdings file exists for it); base 100 at "
                        f"the close of {effective}"
                        if seed is not None
                        else ""
                    )
                )
    state, unpriced = initial_state(start, members, market)
    if announced is not None:
        state = replace(state, recon=announced)
    return RealSetup(
        market=market,
        actions=actions,
        settings=settings,
        initial=state,
        weights=weights,
        holdings_file=f"IWM_{holdings.as_of}.csv",
        unpriced=tuple(unpriced["security_id"].to_list()),
        notes=tuple(notes),
        starts_on_effective=starts_on_effective,
    )


def calculate_real(
    data: DataDir,
    start: date,
    end: date,
    *,
    weights: Weights,
    constituents: bool = False,
    rules: RuleSet | None = None,
    index: IndexCode = "r2000",
) -> RealRun:
    """Levels of ``index`` from ``start`` (base 100) to ``end``.

    For an index other than the Russell 2000 the levels start on the seed
    reconstitution's effective date (see :func:`setup`).
    """
    inputs = setup(data, start, weights=weights, rules=rules, index=index)
    calc = calculate(
        inputs.initial,
        inputs.market,
        inputs.actions.filter(pl.col("ex_date") <= end),
        inputs.settings,
        end=end,
        constituents=constituents,
    )
    recon_events = calc.events.filter(
        pl.col("action").str.starts_with("reconstitution")
    )
    applied = [d.isoformat() for d in recon_events["session"].unique().sort()]
    if inputs.starts_on_effective is not None:
        applied.insert(0, inputs.starts_on_effective.isoformat())
    return RealRun(
        calculation=calc,
        index=index,
        weights=weights,
        holdings_file=inputs.holdings_file,
        unpriced=inputs.unpriced,
        reconstitutions=tuple(applied),
        notes=inputs.notes,
    )
