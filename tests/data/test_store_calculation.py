"""Store: calculated series are saved atomically, idempotently, and restated."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k import schemas
from r2k.data.store import Store
from r2k.errors import StoreError
from r2k.maintenance import (
    Calculation,
    IndexState,
    MarketHistory,
    Settings,
    calculate,
    empty_actions,
    initial_state,
)
from r2k.methodology.rule_sets import RuleSet
from r2k.sessions import sessions_in_range

DAYS = sessions_in_range(date(2024, 1, 2), date(2024, 1, 4))


def d_example() -> Calculation:
    """Two lines over three sessions (the store does not care about the numbers)."""
    rows = [
        {
            "session": d,
            "security_id": sid,
            "name": sid,
            "close": px,
            "volume": 1,
            "shares_outstanding": 1e6,
            "total_market_cap": px * 1e6,
            "sector": "X",
        }
        for sid, closes in {"A": [50, 55, 53.5], "B": [20, 19, 18.8]}.items()
        for d, px in zip(DAYS, closes, strict=True)
    ]
    market = MarketHistory(pl.DataFrame(rows, schema=schemas.MARKET, orient="row"))
    members = pl.DataFrame(
        {"security_id": ["A", "B"], "shares": [1e6, 5e6], "float_factor": [0.8, 1.0]}
    )
    state, _ = initial_state(DAYS[0], members, market)
    cfg = Settings(rules=RuleSet.default(), quarterly=False, reconstitution_dates=())
    return calculate(
        state, market, empty_actions(), cfg, end=DAYS[2], constituents=True
    )


if TYPE_CHECKING:
    from pathlib import Path


def test_save_load_and_idempotent(tmp_path: Path) -> None:
    calc = d_example()
    with Store(tmp_path / "s.duckdb") as db:
        db.save_calculation("x", calc, settings={"start": "2024-01-02"})
        first = db.table_counts()
        db.save_calculation("x", calc, settings={"start": "2024-01-02"})
        assert db.table_counts() == first
        assert db.levels("x")["price_return"].to_list() == pytest.approx(
            calc.levels["price_return"].to_list()
        )
        state, settings = db.load_state("x")  # type: ignore[misc]
        assert settings == {"start": "2024-01-02"}
        assert state.to_json() == calc.state.to_json()
        assert db.events("x").height == calc.events.height
        assert db.constituents("x", DAYS[2]).height == 2


def test_a_failed_save_leaves_the_store_as_it_was_and_the_next_completes(
    tmp_path: Path,
) -> None:
    calc = d_example()
    path = tmp_path / "s.duckdb"
    with Store(path) as db:
        db.save_calculation("x", calc, settings={})
        before = db.table_counts()
        levels_before = db.levels("x")
    # A crash mid-way: the events frame is malformed, after levels were written.
    broken = replace(calc, events=calc.events.with_columns(pl.lit("x").alias("extra")))
    with Store(path) as db, pytest.raises(StoreError, match="rolled back"):
        db.save_calculation("x", broken, settings={})
    with Store(path) as db:
        assert db.table_counts() == before
        assert db.levels("x").equals(levels_before)
        db.save_calculation("x", calc, settings={})
        assert db.table_counts() == before


def test_incremental_append_then_restatement(tmp_path: Path) -> None:
    calc = d_example()
    head = replace(
        calc,
        levels=calc.levels.head(2),
        constituents=calc.constituents.filter(pl.col("session") <= DAYS[1]),
        events=calc.events.filter(pl.col("session") <= DAYS[1]),
    )
    with Store(tmp_path / "s.duckdb") as db:
        db.save_calculation("x", head, settings={})
        assert db.levels("x").height == 2
        db.save_calculation("x", calc, settings={})  # restates from its first session
        assert db.levels("x").height == 3
        state = IndexState.from_json(calc.state.to_json())
        assert state.session == DAYS[2]
