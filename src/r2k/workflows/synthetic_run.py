"""The whole pipeline on the synthetic market: reconstitute, maintain, calculate.

Any index of the family (``index``, :data:`r2k._typing.INDEX_CODES`; the Russell
2000 by default) is calculated from the same reconstitutions.

This is what ``r2k demo`` runs on a machine without ``../shared/data``, what the
long property tests run, and what ``make bench`` times. The synthetic market
(:mod:`r2k.synthetic.market`) is a source like any other: each reconstitution builds
its rank-day universe from the market rows with
:func:`r2k.construction.universe.build_universe`
(the 40 sessions up to the rank day), adds the market's float and voting data, and
ranks with the rule set in force. The incumbents are, for the Russell 2000, its
members on the rank day and the Russell 1000 of the previous reconstitution; for
the other indexes, the Russell 3000 of the previous reconstitution. The universe
of the next scheduled rank day is built in a worker thread while the calculation
walks to it (it reads only market data up to its rank day).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from r2k import schemas
from r2k.background import worker
from r2k.construction.reconstitution import Reconstitution, reconstitute
from r2k.construction.reconstitution_arrays import PreparedUniverse, prepare_universe
from r2k.construction.universe import LineCodes, build_universe
from r2k.maintenance.book import COMPILED_SESSIONS
from r2k.maintenance.engine import Calculation, calculate
from r2k.maintenance.market import MarketHistory, epoch_day, known_on
from r2k.maintenance.scheduled import recon_schedule
from r2k.maintenance.settings import Reconstitutor, Settings
from r2k.maintenance.state import ReconDecision, initial_state
from r2k.methodology.rule_sets import rule_set_for
from r2k.methodology.schedule import reconstitution_for_rank_day
from r2k.synthetic.market import SyntheticMarket, row_expander, synthetic_market

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet
    from concurrent.futures import Future
    from datetime import date

    from r2k._typing import IndexCode
    from r2k.methodology.rule_sets import RuleSet

#: Sessions of history a synthetic rank-day universe is built from (30-day
#: average price for the $1 rescue, average volumes).
UNIVERSE_HISTORY_SESSIONS = 40
#: The incumbents' sides a synthetic reconstitution leaves to the ranking.
_UNKNOWN_SIDES = ("top200", "top500", "microcap")


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticRun:
    """A synthetic market and an index of the family calculated on it."""

    market: SyntheticMarket
    calculation: Calculation
    reconstitutions: tuple[Reconstitution, ...]
    index: IndexCode = "r2000"


def market_history(data: SyntheticMarket) -> MarketHistory:
    """The indexed market of ``data``, held as the synthetic panel itself.

    The panel's ``security_id`` is a ``pl.Enum`` of the securities in order, so
    its codes are the market's sorted line codes: the ids of the 45.7M rows of a
    40-year market need not be read to number the lines. The market is compact
    (:class:`~r2k.maintenance.market.MarketHistory`): the MARKET frame
    (:attr:`SyntheticMarket.market`, about 56 more bytes a row) is never built;
    the rows a reconstitution or an IPO addition reads are expanded when read
    (:func:`r2k.synthetic.market.row_expander`), and the calculation reads the
    numeric columns as they are.
    """
    return MarketHistory(data.panel, expand=row_expander(data.panel, data.securities))


class SyntheticReconstitutor:
    """Reconstitutions of the Russell US indexes from a synthetic market.

    Parameters
    ----------
    market, data
        The indexed market and the synthetic sources it came from.
    index
        The index whose lines a call returns (:class:`ReconDecision`).
    rules
        The rule set of every reconstitution; None: the packaged one in force on
        each rank day (:func:`r2k.methodology.rule_sets.rule_set_for`).
    prefetch
        Whether the universe of the next scheduled rank day
        (:func:`r2k.maintenance.scheduled.recon_schedule` over the market's
        sessions) is built in a worker thread while the calculation walks to it.
        The universe reads only market data up to its rank day (:meth:`universe`),
        so the result is the same either way; a call on another day builds its
        universe there and then.
    """

    def __init__(
        self,
        market: MarketHistory,
        data: SyntheticMarket,
        index: IndexCode = "r2000",
        rules: RuleSet | None = None,
        *,
        prefetch: bool = True,
    ) -> None:
        self.market = market
        self.rules = rules
        # The float and voting data by line code (the universe's rows carry
        # theirs): a factor is read as of a rank day without a join.
        n_lines = market.lines().len()
        table = market.float_table(data.float_factors)
        known = table.codes >= 0
        self._floats = (table.as_of[known], table.codes[known], table.factors[known])
        self._voting = np.full(n_lines, np.nan)
        voting_codes = market.codes_of(data.voting["security_id"])
        listed = voting_codes >= 0
        self._voting[voting_codes[listed]] = data.voting[
            "voting_rights_pct"
        ].to_numpy()[listed]
        self.index: IndexCode = index
        self.r1000: frozenset[str] = frozenset()
        self.r3000: frozenset[str] = frozenset()
        self.results: list[Reconstitution] = []
        sessions = market.sessions
        self._rank_days: list[date] = (
            [day for day, _ in recon_schedule(sessions[0], sessions[-1])]
            if prefetch and sessions
            else []
        )
        self._pending: dict[date, Future[_Ready]] = {}
        # A market whose calculation walks blocks by the compiled loops (it loads
        # Numba anyway) has its universes' statistics compiled too.
        self._compiled = len(sessions) > COMPILED_SESSIONS + 1
        if self._rank_days:
            # Made here, so the worker only reads the market's lazy parts.
            market.lines()
            _ = market.classes

    def __call__(
        self, rank_day: date, members: frozenset[str], effective: date | None = None
    ) -> ReconDecision:
        """Reconstitute on ``rank_day``; ``members`` are the index's members.

        For the Russell 2000 the incumbents are ``members`` and the previous
        Russell 1000; for another index, the previous Russell 3000. ``effective``
        defaults to the calendar's effective date of ``rank_day``.
        """
        rules = self.rules or rule_set_for(rank_day)
        job = self._pending.pop(rank_day, None)
        ready = job.result() if job is not None else self._ready(rank_day)
        universe = ready.universe
        current = members | self.r1000 if self.index == "r2000" else self.r3000
        ids = sorted(current & ready.ids)
        incumbents = pl.DataFrame(
            [
                pl.Series("security_id", ids, dtype=pl.String),
                pl.Series("r1000", [s in self.r1000 for s in ids], dtype=pl.Boolean),
                *(schemas.nulls(name, pl.Boolean, len(ids)) for name in _UNKNOWN_SIDES),
            ]
        )
        if effective is None:
            effective = reconstitution_for_rank_day(rank_day).effective_date
        result = reconstitute(
            universe,
            incumbents,
            rules,
            rank_day=rank_day,
            effective_date=effective,
            prepared=ready.prepared,
        )
        lines = result.membership.get_column("security_id")
        for name in ("r1000", "r3000"):  # Series filters: no query
            held = lines.filter(result.membership.get_column(name))
            setattr(self, name, frozenset(held.to_list()))
        self.results.append(result)
        decision = ReconDecision.from_reconstitution(result, rules, self.index)
        # The next universe is built while the calculation walks to its rank day,
        # not beside this reconstitution's own queries (the decision's included:
        # the worker's queries would hold the thread pool they wait for).
        self._prefetch_after(rank_day)
        return decision

    def universe(self, rank_day: date) -> pl.DataFrame:
        """The universe of ``rank_day``, with the market's float and voting data.

        Built from the :data:`UNIVERSE_HISTORY_SESSIONS` sessions up to the rank
        day (:func:`r2k.construction.universe.build_universe`) and the float
        factors known on it; nothing dated later is read.
        """
        market = self.market
        through = bisect_right(market.sessions, rank_day)
        first = market.sessions[max(0, through - UNIVERSE_HISTORY_SESSIONS)]
        # The market's line codes and classification memo: each line is numbered
        # and classified once per market, not at every reconstitution.
        codes = LineCodes(market.lines(), market.line_codes(first, rank_day))
        build = build_universe(
            market.numeric_rows(first, rank_day),
            rank_day,
            classes=market.classes,
            codes=codes,
            compiled=self._compiled,
            cross_section=market.rows(rank_day, rank_day),
        )
        universe, lines = build.universe, build.line_codes
        assert lines is not None  # built from the market's codes
        # Each line's latest factor known on the rank day (the later row of one
        # date; none: null) and its voting rights; a build leaves both null.
        floats = known_on(*self._floats, epoch_day(rank_day), self._voting.size)
        for name, values in (
            ("float_factor", floats[lines]),
            ("voting_rights_pct", self._voting[lines]),
        ):
            universe.replace_column(
                universe.get_column_index(name),
                pl.Series(name, values, nan_to_null=True),
            )
        return universe

    def _ready(self, rank_day: date) -> _Ready:
        """The universe of ``rank_day``, made ahead with what it gives.

        Its ids and the part of its reconstitution that reads no incumbent
        (:func:`r2k.construction.reconstitution_arrays.prepare_universe`).
        """
        universe = self.universe(rank_day)
        rules = self.rules or rule_set_for(rank_day)
        prepared = prepare_universe(universe, rules)
        return _Ready(
            universe=universe,
            ids=frozenset(universe.get_column("security_id").to_list())
            if prepared is None
            else prepared.ids,
            prepared=prepared,
        )

    def _prefetch_after(self, rank_day: date) -> None:
        """Start building the universe of the first scheduled rank day after this."""
        days = self._rank_days
        i = bisect_right(days, rank_day)
        if i < len(days) and days[i] not in self._pending:
            self._pending[days[i]] = worker().submit(self._ready, days[i])


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ready:
    """A rank day's universe, made ahead (:meth:`SyntheticReconstitutor._ready`)."""

    universe: pl.DataFrame
    ids: AbstractSet[str]
    prepared: PreparedUniverse | None


def run_synthetic(
    n_companies: int,
    *,
    start: date,
    end: date,
    seed: int = 0,
    constituents: bool = False,
    settings: Settings | None = None,
    index: IndexCode = "r2000",
    rules: RuleSet | None = None,
) -> SyntheticRun:
    """Generate a synthetic market and calculate an index of the family on it.

    The first session is the base (level 100); its membership is a reconstitution
    with that session as the rank day and no incumbents.

    Parameters
    ----------
    n_companies, start, end, seed
        The synthetic market (:func:`r2k.synthetic.market.synthetic_market`).
    constituents
        Whether the calculation keeps its constituent file.
    settings
        How to calculate (its ``index`` must be ``index``); None: the rule set in
        force on ``start``, the market's float data and its reconstitutions.
    index
        The index of the family (:data:`r2k._typing.INDEX_CODES`).
    rules
        The rule set of every reconstitution and of the maintenance (a variant
        swept by :mod:`r2k.workflows.sweep`); None: the packaged rule set in
        force on each rank day, and on ``start`` for the maintenance.
    """
    data = synthetic_market(n_companies, start=start, end=end, seed=seed)
    market = market_history(data)
    base = market.sessions[0]
    recon = SyntheticReconstitutor(market, data, index, rules)
    first = recon(base, frozenset(), base)
    members = first.members.select(
        "security_id", shares="shares_outstanding", float_factor="float_factor"
    )
    state, _ = initial_state(base, members, market)
    reconstitutor: Reconstitutor = recon
    cfg = settings or Settings(
        rules=rules or rule_set_for(base),
        index=index,
        reconstitute=reconstitutor,
        float_factors=data.float_factors,
    )
    calc = calculate(
        state, market, data.actions, cfg, end=end, constituents=constituents
    )
    return SyntheticRun(
        market=data,
        calculation=calc,
        reconstitutions=tuple(recon.results),
        index=index,
    )
