"""The whole pipeline on the synthetic market: batch and incremental agree.

The issue's requirement: a test runs both modes over a long, event-heavy synthetic
history and requires levels equal to 1e-10 relative.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from r2k.maintenance.engine import (
    IndexState,
    MarketHistory,
    Settings,
    calculate,
    calculate_session,
    initial_state,
)
from r2k.methodology.rule_sets import rule_set_for
from r2k.synthetic.market import SyntheticMarket, synthetic_market
from r2k.workflows.synthetic_run import SyntheticReconstitutor, run_synthetic

LEVEL_COLUMNS = ("price_return", "total_return", "net_total_return", "divisor")


@pytest.fixture(scope="module")
def history() -> tuple[MarketHistory, SyntheticMarket]:
    data = synthetic_market(
        1600, start=date(2021, 1, 4), end=date(2023, 12, 29), seed=7
    )
    return MarketHistory(data.market), data


def _start(market: MarketHistory, data: SyntheticMarket) -> tuple[IndexState, Settings]:
    recon = SyntheticReconstitutor(market, data)
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


def test_total_return_at_least_price_return_and_membership_is_sane() -> None:
    run = run_synthetic(1600, start=date(2024, 1, 2), end=date(2025, 12, 31), seed=3)
    levels = run.calculation.levels
    assert (levels["total_return"] >= levels["price_return"] - 1e-9).all()
    assert (levels["net_total_return"] <= levels["total_return"] + 1e-9).all()
    assert (levels["net_total_return"] >= levels["price_return"] - 1e-9).all()
    assert len(run.reconstitutions) == 3  # base + June 2024 + June 2025
    count = run.calculation.state.lines.height
    assert 200 < count < 900  # ranks 1,001-3,000 of ~1,600 companies
