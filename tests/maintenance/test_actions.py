"""The table of corporate-action kinds, its formulas and the buffers.

Sources: methodology.md TC4 (float buffer, R7 §9.3.4), TC5 (delayed-action merger
prices, R7 Appendix E), D5 (rights TERP), R7 §9.3 (intra-quarter thresholds). The
docstring examples of every maintenance module run in tests/core/test_doctests.py.
"""

from __future__ import annotations

import inspect
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k import schemas
from r2k.errors import SchemaError
from r2k.maintenance import Settings, calculate, initial_state
from r2k.maintenance.actions import (
    ACTIONS,
    KIND,
    KINDS,
    REMOVALS,
    ActionKind,
    check_actions,
    merger_price,
    rights_adjustment,
    special_dividend_adjustment,
    spinoff_adjustment,
    split_adjustment,
)
from r2k.maintenance.market import MarketHistory
from r2k.maintenance.scheduled import (
    float_change_exceeds_buffer,
    shares_change_exceeds_buffer,
)
from r2k.methodology.rule_sets import RuleSet
from r2k.sessions import sessions_in_range

if TYPE_CHECKING:
    from r2k.maintenance.book import Book

DAYS = sessions_in_range(date(2024, 1, 2), date(2024, 1, 31))


# ---------------------------------------------------------------------- table


def test_every_kind_is_declared_once_with_a_phase() -> None:
    assert len(ACTIONS) == len(set(ACTIONS)) == len(KINDS)
    assert set(KIND) == set(ACTIONS)
    for kind in KINDS:
        assert kind.phases, kind.name
        assert kind.fields, kind.name
        assert set(kind.required) <= set(schemas.CORPORATE_ACTIONS.names())
    assert {"merger", "delisting", "bankruptcy"} == REMOVALS
    assert all(KIND[name].close is not None for name in REMOVALS)


def test_every_formula_has_a_worked_example() -> None:
    formulas = {k.formula for k in KINDS if k.formula is not None}
    assert formulas
    for formula in formulas:
        assert ">>>" in (inspect.getdoc(formula) or ""), formula.__name__


def test_validation_comes_from_the_table() -> None:
    for kind in KINDS:
        for column in kind.required:
            row = dict.fromkeys(schemas.CORPORATE_ACTIONS.names())
            row.update(security_id="A", ex_date=DAYS[1], action=kind.name)
            row.update(ratio=1.0, amount=1.0, other_id="B", shares_outstanding=1.0)
            row[column] = None
            frame = pl.DataFrame([row], schema=schemas.CORPORATE_ACTIONS, orient="row")
            with pytest.raises(SchemaError, match=f"{kind.name} needs '{column}'"):
                check_actions(frame, source="test")


def _market() -> MarketHistory:
    rows = [
        {
            "session": d,
            "security_id": sid,
            "name": f"{sid} Inc. Common Stock",
            "close": 10.0,
            "volume": 1000,
            "shares_outstanding": 1e6,
            "total_market_cap": 1e7,
            "sector": "Technology",
        }
        for d in DAYS[:3]
        for sid in ("A", "B")
    ]
    return MarketHistory(pl.DataFrame(rows, schema=schemas.MARKET, orient="row"))


def test_a_new_kind_is_one_entry_and_one_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registering a kind (here at run time) is all validation and the engine need."""

    def halve(book: Book, t: int, session: date, c: int, row: dict[str, Any]) -> None:
        before = book.n(c)
        book.shares[c] *= 0.5
        book.log(session, c, "halving", before, book.previous_close(t, c), "test")

    kind = ActionKind(name="halving", fields="halves the index shares", open=halve)
    monkeypatch.setitem(KIND, "halving", kind)
    row = dict.fromkeys(schemas.CORPORATE_ACTIONS.names())
    row.update(security_id="A", ex_date=DAYS[2], action="halving", source="test")
    acts = pl.DataFrame([row], schema=schemas.CORPORATE_ACTIONS, orient="row")
    market = _market()
    members = pl.DataFrame(
        {"security_id": ["A", "B"], "shares": [1e6, 1e6], "float_factor": [1.0, 1.0]}
    )
    state, _ = initial_state(DAYS[0], members, market)
    cfg = Settings(rules=RuleSet.default(), quarterly=False, reconstitution_dates=())
    calc = calculate(state, market, acts, cfg, end=DAYS[2], constituents=True)
    assert calc.events["action"].to_list() == ["halving"]
    day = calc.constituents.filter(pl.col("session") == DAYS[2]).sort("security_id")
    assert day["index_shares"].to_list() == [5e5, 1e6]
    assert calc.levels["price_return"][-1] == pytest.approx(100.0)


# ------------------------------------------------------------------- formulas


def test_tc5_prices() -> None:
    assert merger_price(12.0, 0.2, 0.0) == pytest.approx(2.40)
    assert merger_price(12.0, 0.2, 2.0) == pytest.approx(4.40)
    assert merger_price(None, 0.0, 5.02) == pytest.approx(5.02)


def test_d5_terp() -> None:
    adjustment = rights_adjustment(0.25, 40.0)
    assert adjustment.price(50.0) == pytest.approx(48.0)
    assert adjustment.shares == 1.25


@settings(max_examples=50, deadline=None)
@given(
    ratio=st.floats(0.05, 5.0),
    price=st.floats(1.0, 500.0),
    pct=st.floats(0.01, 0.9),
)
def test_adjustments_keep_the_value_at_the_instant(
    ratio: float, price: float, pct: float
) -> None:
    """Shares x reference price is the value the line had (cum the distribution)."""
    amount = price * pct
    split = split_adjustment(ratio)
    assert split.shares * split.price(price) == pytest.approx(price, rel=1e-12)
    rights = rights_adjustment(ratio, amount)  # cum value + the subscription paid
    assert rights.shares * rights.price(price) == pytest.approx(
        price + ratio * amount, rel=1e-12
    )
    special = special_dividend_adjustment(amount)
    assert special.price(price) + amount == pytest.approx(price, rel=1e-12)
    spin = spinoff_adjustment(ratio, amount)  # parent + the child's value
    assert spin.price(price) + ratio * amount == pytest.approx(price, rel=1e-12)


def test_tc4_float_buffer_edges() -> None:
    rules = RuleSet.default().maintenance
    assert not float_change_exceeds_buffer(0.08, 0.09, rules)  # exactly 1 point
    assert float_change_exceeds_buffer(0.08, 0.0901, rules)
    assert not float_change_exceeds_buffer(0.50, 0.53, rules)  # 3 points above 15%
    assert float_change_exceeds_buffer(0.50, 0.5301, rules)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_buffers_on_arrays_agree_with_scalars(seed: int) -> None:
    rules = RuleSet.default().maintenance
    rng = np.random.default_rng(seed)
    shares = rng.uniform(1e5, 1e8, 50)
    new_shares = shares * rng.uniform(0.97, 1.03, 50)
    new_shares[::7] = np.nan
    floats = rng.uniform(0.01, 1.0, 50)
    new_floats = np.clip(floats + rng.uniform(-0.05, 0.05, 50), 0.001, 1.0)
    new_floats[::5] = np.nan
    vector = shares_change_exceeds_buffer(shares, new_shares, rules)
    scalar = [
        shares_change_exceeds_buffer(float(a), float(b), rules)
        for a, b in zip(shares, new_shares, strict=True)
    ]
    assert vector.tolist() == scalar
    vector = float_change_exceeds_buffer(floats, new_floats, rules)
    scalar = [
        float_change_exceeds_buffer(float(a), float(b), rules)
        for a, b in zip(floats, new_floats, strict=True)
    ]
    assert vector.tolist() == scalar
