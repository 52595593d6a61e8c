"""The whole pipeline on the synthetic market: batch and incremental agree.

The issue's requirement: a test runs both modes over a long, event-heavy synthetic
history and requires levels equal to 1e-10 relative, for the Russell 2000 over
three years and for every index of the family over a shorter window; and the
family's returns add up (R3000 = R1000 + R2000, ...).
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k._typing import INDEX_CODES
from r2k.errors import SchemaError
from r2k.maintenance import (
    ACTIONS,
    IndexState,
    MarketHistory,
    ReconDecision,
    Settings,
    calculate,
    calculate_session,
    initial_state,
)
from r2k.methodology.rule_sets import rule_set_for
from r2k.synthetic.market import (
    SyntheticMarket,
    market_rows,
    row_expander,
    synthetic_market,
)
from r2k.workflows.synthetic_run import (
    SyntheticReconstitutor,
    market_history,
    run_synthetic,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from r2k._typing import IndexCode
    from r2k.construction.reconstitution import Reconstitution

LEVEL_COLUMNS = ("price_return", "total_return", "net_total_return", "divisor")


@pytest.fixture(scope="module")
def history() -> tuple[MarketHistory, SyntheticMarket]:
    data = synthetic_market(
        1600, start=date(2021, 1, 4), end=date(2023, 12, 29), seed=7
    )
    return MarketHistory(data.market), data


def _start(
    market: MarketHistory, data: SyntheticMarket, *, prefetch: bool = True
) -> tuple[IndexState, Settings]:
    recon = SyntheticReconstitutor(market, data, prefetch=prefetch)
    base = market.sessions[0]
    first = recon(base, frozenset(), base)
    members = first.members.select(
        "security_id", shares="shares_outstanding", float_factor="float_factor"
    )
    state, _ = initial_state(base, members, market)
    settings = Settings(
        rules=rule_set_for(base),
        reconstitute=recon,
        float_factors=data.float_factors,
    )
    return state, settings


def test_batch_and_incremental_agree_over_three_event_heavy_years(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    market, data = history
    state, settings = _start(market, data)
    batch = calculate(state, market, data.actions, settings, end=market.sessions[-1])
    kinds = set(batch.events["action"].to_list())
    for needed in (
        "split",
        "merger",
        "spinoff",
        "delisting",
        "identifier_change",
        "special_dividend",
        "reconstitution_addition",
        "quarterly_update",
        "ipo_addition",
        "share_change",
    ):
        assert needed in kinds, needed
    state, settings = _start(market, data)
    rows = []
    for session in market.sessions[1:]:
        step = calculate_session(state, market, data.actions, settings, session=session)
        state = IndexState.from_json(step.state.to_json())
        rows.append(step.levels)
    incremental = pl.concat(rows)
    expected = batch.levels.slice(1)
    assert incremental["session"].to_list() == expected["session"].to_list()
    for column in LEVEL_COLUMNS:
        assert incremental[column].to_list() == pytest.approx(
            expected[column].to_list(), rel=1e-10
        ), column


def test_block_size_changes_nothing(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    market, data = history
    results = []
    for block in (252, 37):
        state, settings = _start(market, data)
        calc = calculate(
            state,
            market,
            data.actions,
            settings,
            end=market.sessions[-1],
            block_sessions=block,
        )
        results.append(calc.levels)
    for column in LEVEL_COLUMNS[:3]:
        assert results[0][column].to_list() == pytest.approx(
            results[1][column].to_list(), rel=1e-10
        )


def test_prefetched_universes_change_nothing(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    """The reconstitutor builds the next rank day's universe in a worker thread;
    with and without it the levels, events and reconstitutions are the same, bit
    for bit, and each prefetched universe is the one built on the day."""
    market, data = history
    outcomes = []
    for prefetch in (True, False):
        state, settings = _start(market, data, prefetch=prefetch)
        calc = calculate(state, market, data.actions, settings, end=market.sessions[-1])
        assert isinstance(settings.reconstitute, SyntheticReconstitutor)
        outcomes.append((calc, settings.reconstitute))
    (with_worker, worked), (without, alone) = outcomes
    assert len(worked.results) == len(alone.results) == 4  # base + 3 Junes
    assert_frame_equal(with_worker.levels, without.levels)
    assert_frame_equal(with_worker.events, without.events)
    for a, b in zip(worked.results, alone.results, strict=True):
        assert_frame_equal(a.membership, b.membership)
        assert_frame_equal(a.changes, b.changes)
    assert worked._rank_days  # the worker had days to build ahead
    assert not alone._rank_days
    assert not worked._pending  # every prefetched day was asked for
    day = worked.results[-1].rank_day
    assert_frame_equal(worked.universe(day), alone.universe(day))


def test_background_valuations_change_nothing(
    history: tuple[MarketHistory, SyntheticMarket], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of several blocks values each block in the background thread while
    the walk goes on; valued in the walk's own thread instead, every output is
    the same, bit for bit (the constituent file included)."""
    from concurrent.futures import Future

    from r2k.maintenance import engine

    market, data = history
    threads: list[str] = []

    def run() -> list[pl.DataFrame]:
        state, settings = _start(market, data, prefetch=False)
        calc = calculate(
            state,
            market,
            data.actions,
            settings,
            end=market.sessions[-1],
            constituents=True,
            block_sessions=37,
        )
        return [calc.levels, calc.events, calc.constituents, calc.carried]

    class Here:
        def submit(self, job: Callable[[], object]) -> Future[object]:
            threads.append("here")
            done: Future[object] = Future()
            done.set_result(job())
            return done

    background = run()
    monkeypatch.setattr(engine, "worker", Here)
    here = run()
    assert len(threads) > engine.VALUATIONS_AHEAD  # every block, not in a thread
    for a, b in zip(background, here, strict=True):
        assert_frame_equal(a, b)
    assert background[2].height  # the constituent rows were compared


def test_total_return_at_least_price_return_and_membership_is_sane() -> None:
    run = run_synthetic(1600, start=date(2024, 1, 2), end=date(2025, 12, 31), seed=3)
    levels = run.calculation.levels
    assert (levels["total_return"] >= levels["price_return"] - 1e-9).all()
    assert (levels["net_total_return"] <= levels["total_return"] + 1e-9).all()
    assert (levels["net_total_return"] >= levels["price_return"] - 1e-9).all()
    assert len(run.reconstitutions) == 3  # base + June 2024 + June 2025
    count = run.calculation.state.lines.height
    assert 200 < count < 900  # ranks 1,001-3,000 of ~1,600 companies


def test_run_synthetic_calculates_the_index_asked_for() -> None:
    run = run_synthetic(
        1200,
        start=date(2024, 1, 2),
        end=date(2024, 2, 29),
        seed=5,
        constituents=True,
        index="r1000",
    )
    assert run.index == "r1000"
    (base,) = run.reconstitutions
    r1000 = set(base.index("r1000")["security_id"].to_list())
    first = run.calculation.constituents.filter(
        pl.col("session") == pl.col("session").min()
    )
    held = set(first["security_id"].to_list())
    assert held
    assert held <= r1000
    assert len(held) > 0.95 * len(r1000)


# ------------------------------------------------------------------ the family

#: A market large enough for every index of the family (more than 3,000
#: companies: the Russell 3000E reaches below the Russell 3000 and the Microcap
#: exists), over a window holding the June 2021 rank day and effective date, the
#: September 2021 quarterly update with its IPO additions, and the synthetic
#: corporate-action flow (some 120 sessions: eight incremental runs stay short).
FAMILY_BASE = date(2021, 4, 1)
FAMILY_END = date(2021, 9, 24)


@pytest.fixture(scope="module")
def family_market() -> tuple[MarketHistory, SyntheticMarket]:
    data = synthetic_market(3300, start=date(2021, 1, 4), end=FAMILY_END, seed=7)
    return MarketHistory(data.market), data


def _family_start(
    market: MarketHistory, data: SyntheticMarket, index: IndexCode
) -> tuple[IndexState, Settings]:
    """The index at the base reconstitution (as :func:`run_synthetic` starts)."""
    recon = SyntheticReconstitutor(market, data, index)
    base = market.on_or_before(FAMILY_BASE)
    first = recon(base, frozenset(), base)
    members = first.members.select(
        "security_id", shares="shares_outstanding", float_factor="float_factor"
    )
    state, _ = initial_state(base, members, market)
    settings = Settings(
        rules=rule_set_for(base),
        index=index,
        reconstitute=recon,
        float_factors=data.float_factors,
    )
    return state, settings


@pytest.mark.parametrize("index", INDEX_CODES)
def test_batch_and_incremental_agree_for_every_index(
    family_market: tuple[MarketHistory, SyntheticMarket], index: IndexCode
) -> None:
    market, data = family_market
    state, settings = _family_start(market, data, index)
    batch = calculate(state, market, data.actions, settings, end=FAMILY_END)
    kinds = set(batch.events["action"].to_list())
    scheduled = {"reconstitution_addition", "reconstitution_deletion"}
    assert scheduled | {"quarterly_update", "ipo_addition"} <= kinds, kinds
    assert len(kinds & set(ACTIONS)) >= 5, kinds  # corporate actions on members
    state, settings = _family_start(market, data, index)
    rows = []
    for session in market.sessions:
        if state.session < session <= FAMILY_END:
            step = calculate_session(
                state, market, data.actions, settings, session=session
            )
            state = IndexState.from_json(step.state.to_json())
            rows.append(step.levels)
    incremental = pl.concat(rows)
    expected = batch.levels.slice(1)
    assert incremental["session"].to_list() == expected["session"].to_list()
    for column in LEVEL_COLUMNS:
        assert incremental[column].to_list() == pytest.approx(
            expected[column].to_list(), rel=1e-10
        ), column


class _SharedReconstitutor:
    """One reconstitution per rank day for every index (the engine takes each
    index's lines from it, :attr:`Settings.index`)."""

    def __init__(self, market: MarketHistory, data: SyntheticMarket) -> None:
        # Incumbents: the previous Russell 3000, whichever index asks first.
        self._inner = SyntheticReconstitutor(market, data, "r3000")
        self._done: dict[date, Reconstitution] = {}

    def __call__(
        self, rank_day: date, members: frozenset[str], effective: date | None = None
    ) -> Reconstitution:
        if rank_day not in self._done:
            self._inner(rank_day, members, effective)
            self._done[rank_day] = self._inner.results[-1]
        return self._done[rank_day]


def _returns(levels: pl.DataFrame) -> pl.DataFrame:
    """Per session: the value at the open (sum N P_ref = D_t I_{t-1}), the return."""
    return levels.select(
        "session",
        opening=pl.col("divisor") * pl.col("price_return").shift(1),
        ret=pl.col("price_return") / pl.col("price_return").shift(1) - 1.0,
    ).slice(1)


def _part(
    constituents: pl.DataFrame, exclude: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Opening value and return of a set of lines, per session (``exclude``:
    drop the lines of these session rows)."""
    if exclude is not None:
        constituents = constituents.join(
            exclude.select("session", "security_id"),
            on=["session", "security_id"],
            how="anti",
        )
    n = pl.col("index_shares")
    return (
        constituents.group_by("session")
        .agg(
            opening=(n * pl.col("reference_price")).sum(),
            closing=(n * pl.col("close")).sum(),
        )
        .select("session", "opening", ret=pl.col("closing") / pl.col("opening") - 1)
        .sort("session")
    )


def _assert_weighted(whole: pl.DataFrame, *parts: pl.DataFrame) -> None:
    """``whole``'s return is the opening-value-weighted average of the parts'."""
    frame = whole.rename({"opening": "v", "ret": "r"})
    value, weighted = pl.lit(0.0), pl.lit(0.0)
    for k, part in enumerate(parts):
        frame = frame.join(
            part.rename({"opening": f"v{k}", "ret": f"r{k}"}), on="session", how="left"
        ).with_columns(pl.col(f"v{k}", f"r{k}").fill_null(0.0))
        value = value + pl.col(f"v{k}")
        weighted = weighted + pl.col(f"v{k}") * pl.col(f"r{k}")
    check = frame.select("session", "r", "v", average=weighted / value, value=value)
    assert check.height > 80
    assert check["v"].to_list() == pytest.approx(check["value"].to_list(), rel=1e-9)
    assert check["r"].to_list() == pytest.approx(
        check["average"].to_list(), rel=1e-9, abs=1e-13
    )


def test_family_returns_are_consistent(
    family_market: tuple[MarketHistory, SyntheticMarket],
) -> None:
    """R3000 = R1000 + R2000, R1000 = Midcap + Top 200, R3000E = R3000 + the
    Microcap lines outside the R3000, R3000 = R2500 + its top 500 lines: on every
    session the whole's return is the opening-value-weighted average of its parts'.

    Every index starts from, and is reconstituted with, the same reconstitutions.
    Quarterly updates, IPO additions (the size ranges partition each whole) and
    the corporate actions apply alike in every index holding a line, except
    mergers: a target in the Russell 2000 acquired by a Russell 1000 member leaves
    the Russell 3000 at once (the acquirer is a member, its shares grow) but the
    Russell 2000 one session later as a delayed action (TC5: the acquirer is not
    a member), so the sum cannot hold on those sessions; mergers are left out.
    """
    market, data = family_market
    actions = data.actions.filter(pl.col("action") != "merger")
    recon = _SharedReconstitutor(market, data)
    base = market.on_or_before(FAMILY_BASE)
    first = recon(base, frozenset(), base)
    rules = rule_set_for(base)
    calcs = {}
    for index in INDEX_CODES:
        decision = ReconDecision.from_reconstitution(first, rules, index)
        members = decision.members.select(
            "security_id", shares="shares_outstanding", float_factor="float_factor"
        )
        state, _ = initial_state(base, members, market)
        settings = Settings(
            rules=rules,
            index=index,
            reconstitute=recon,
            float_factors=data.float_factors,
        )
        calcs[index] = calculate(
            state,
            market,
            actions,
            settings,
            end=FAMILY_END,
            constituents=True,
        )
    ret = {index: _returns(calc.levels) for index, calc in calcs.items()}
    held = {index: calc.constituents for index, calc in calcs.items()}
    _assert_weighted(ret["r3000"], ret["r1000"], ret["r2000"])
    _assert_weighted(ret["r1000"], ret["midcap"], ret["top200"])
    _assert_weighted(
        ret["r3000e"], ret["r3000"], _part(held["microcap"], held["r3000"])
    )
    _assert_weighted(ret["r3000"], ret["r2500"], _part(held["r3000"], held["r2500"]))
    # The parts are what they say: disjoint, and the top 500 is 500-odd lines.
    splits: tuple[tuple[IndexCode, IndexCode, IndexCode], ...] = (
        ("r3000", "r1000", "r2000"),
        ("r1000", "midcap", "top200"),
    )
    for whole, a, b in splits:
        assert calcs[a].state.members().isdisjoint(calcs[b].state.members())
        assert calcs[whole].state.members() == (
            calcs[a].state.members() | calcs[b].state.members()
        )
    top = calcs["r3000"].state.members() - calcs["r2500"].state.members()
    assert 480 < len(top) < 560


def test_the_compact_panel_reads_as_the_market_frame(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    # The panel, its lines numbered by its Enum and its rows expanded when read,
    # is the MARKET frame for every reader: lines, codes, rows, first sessions,
    # classes and the numeric columns.
    plain, data = history
    compact = market_history(data)
    assert compact.frame.width < plain.frame.width  # the strings are not held
    assert compact.sessions == plain.sessions
    first, last = plain.sessions[0], plain.sessions[-1]
    assert compact.lines().equals(plain.lines())
    assert (compact.line_codes(first, last) == plain.line_codes(first, last)).all()
    assert compact.rows(first, last).equals(plain.rows(first, last))
    day = plain.sessions[300]
    assert compact.cross_section(day).equals(plain.cross_section(day))
    at = np.array([0, 5, 9, 40])
    some = plain.cross_section(day)[pl.Series(at)]
    assert compact.rows_at(day, at).equals(some)
    assert plain.rows_at(day, at).equals(some)
    assert compact.rows(day, last).equals(plain.rows(day, last))
    assert compact.first_sessions().equals(plain.first_sessions())
    assert (compact.first_days() == plain.first_days()).all()
    for column in ("close", "volume", "shares_outstanding", "total_market_cap"):
        got = compact.column(column, day, last)
        assert got.equals(plain.rows(day, last)[column])
        assert got.equals(plain.column(column, day, last))
    ids = plain.lines().head(50)
    assert compact.classes.attach(plain.rows(day, day)).equals(
        plain.classes.attach(plain.rows(day, day))
    )
    assert (compact.codes_of(ids) == plain.codes_of(ids)).all()


def test_compact_rows_out_of_order_are_sorted(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    plain, data = history
    shuffled = data.panel.sample(fraction=1.0, shuffle=True, seed=3)
    compact = MarketHistory(shuffled, expand=row_expander(shuffled, data.securities))
    first, last = plain.sessions[0], plain.sessions[-1]
    assert compact.rows(first, last).equals(plain.rows(first, last))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.with_columns(pl.col("security_id").cast(pl.String)), "Enum"),
        (lambda p: p.drop("volume"), "'volume'"),
        (lambda p: p.with_columns(pl.col("close").cast(pl.Int64)), "'close'"),
    ],
)
def test_compact_rows_are_checked(
    history: tuple[MarketHistory, SyntheticMarket],
    change: Callable[[pl.DataFrame], pl.DataFrame],
    message: str,
) -> None:
    _, data = history
    rows = change(data.panel.head(100))
    expand = partial(market_rows, securities=data.securities)
    with pytest.raises(SchemaError, match=message):
        MarketHistory(rows, expand=expand)


def test_rows_at_reads_the_line_columns_by_code(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    """A compact market's few-row screen gathers a line's columns by the codes it
    already has; they are the columns the query expansion gives."""
    plain, data = history
    market = market_history(data)  # compact: rows are expanded when read
    day = market.sessions[-1]
    at = np.array([0, 7, 3, market.line_codes(day, day).size - 1])
    keys = ("security_id", "name", "sector")
    by_code = market.rows_at(day, at, keys)
    assert_frame_equal(plain.rows_at(day, at, keys), by_code)
    assert_frame_equal(plain.rows_at(day, at), plain.cross_section(day)[at])
    part = data.panel.filter(pl.col("session") == day)[at]
    expand = row_expander(data.panel, data.securities)
    assert_frame_equal(by_code, expand(part, keys))
    assert_frame_equal(by_code, expand(part).select(keys))
    with_cap = market.rows_at(day, at, ("security_id", "total_market_cap"))
    assert_frame_equal(with_cap, expand(part, ("security_id", "total_market_cap")))


def test_universe_reads_float_and_voting_data_known_on_the_rank_day(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    """The reconstitutor reads each line's float factor (the latest known on the
    rank day; of one date, the later row) and voting rights by line code; they
    are what joins by security_id give, from the plain and the compact market."""
    plain, data = history
    day = plain.sessions[-30]
    floats = (
        data.float_factors.sort("as_of", maintain_order=True)
        .filter(pl.col("as_of") <= day)
        .group_by("security_id")
        .agg(pl.col("float_factor").last())
    )
    for market in (plain, market_history(data)):
        universe = SyntheticReconstitutor(market, data, prefetch=False).universe(day)
        expected = (
            universe.drop("float_factor", "voting_rights_pct")
            .join(floats, on="security_id", how="left")
            .join(data.voting, on="security_id", how="left")
            .select(universe.columns)
        )
        assert_frame_equal(universe, expected)
        assert universe["float_factor"].null_count() < universe.height
        assert universe["voting_rights_pct"].null_count() < universe.height


def test_column_names_only_numeric_columns(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    plain, _ = history
    day = plain.sessions[0]
    with pytest.raises(ValueError, match=r"'name' is not one of close.*total_market"):
        plain.column("name", day, day)


def test_a_compact_expansion_must_give_close_times_shares_as_the_cap(
    history: tuple[MarketHistory, SyntheticMarket],
) -> None:
    # MarketHistory.column computes compact rows' cap itself: an expansion with
    # another cap is refused when the market is made, not used silently.
    _, data = history
    rows = data.panel.head(200)
    expand = row_expander(rows, data.securities)

    def doubled(
        rows: pl.DataFrame,
        columns: tuple[str, ...] | None = None,
        codes: np.ndarray | None = None,
    ) -> pl.DataFrame:
        out = expand(rows, columns, codes)
        return out.with_columns(pl.col("total_market_cap") * 2.0)

    MarketHistory(rows, expand=expand)  # the product: accepted
    with pytest.raises(SchemaError, match="close x shares_outstanding"):
        MarketHistory(rows, expand=doubled)
