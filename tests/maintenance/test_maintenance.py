"""Index maintenance: every corporate action with a worked example.

Sources: methodology.md §12 TC5 (R7 Appendix E, delayed-action merger prices),
§13 D1-D3 (divisor on a membership change, special dividend, TR/NTR) and D5
(rights TERP). Markets here are built by hand, so each expected number can be
checked with a pencil.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k import schemas
from r2k.errors import MissingDataError, SchemaError
from r2k.maintenance import (
    Calculation,
    IndexState,
    MarketHistory,
    ReconDecision,
    Settings,
    calculate,
    calculate_session,
    empty_actions,
    initial_state,
)
from r2k.methodology.rule_sets import RuleSet
from r2k.sessions import sessions_in_range

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

DAYS = sessions_in_range(date(2024, 1, 2), date(2024, 2, 29))
RULES = RuleSet.default()


def market(
    prices: Mapping[str, Sequence[float | None]], shares: Mapping[str, float]
) -> MarketHistory:
    """Rows for DAYS[0..]; None: no row (not trading)."""
    rows = []
    for sid, series in prices.items():
        for i, close in enumerate(series):
            if close is None:
                continue
            rows.append(
                {
                    "session": DAYS[i],
                    "security_id": sid,
                    "name": f"{sid} Inc. Common Stock",
                    "close": close,
                    "volume": 1000,
                    "shares_outstanding": shares[sid],
                    "total_market_cap": close * shares[sid],
                    "sector": "Technology",
                }
            )
    return MarketHistory(pl.DataFrame(rows, schema=schemas.MARKET, orient="row"))


def actions(*rows: dict[str, Any]) -> pl.DataFrame:
    full = [
        {name: r.get(name) for name in schemas.CORPORATE_ACTIONS.names()} for r in rows
    ]
    for r in full:
        r["source"] = "test"
    return pl.DataFrame(full, schema=schemas.CORPORATE_ACTIONS, orient="row")


def members(**spec: tuple[float, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "security_id": list(spec),
            "shares": [v[0] for v in spec.values()],
            "float_factor": [v[1] for v in spec.values()],
        }
    )


def run(
    mkt: MarketHistory,
    start_members: pl.DataFrame,
    acts: pl.DataFrame | None = None,
    *,
    end: int,
    **kw: Any,
) -> Calculation:
    state, _ = initial_state(DAYS[0], start_members, mkt)
    cfg = Settings(rules=RULES, quarterly=False, reconstitution_dates=(), **kw)
    return calculate(
        state,
        mkt,
        acts if acts is not None else empty_actions(),
        cfg,
        end=DAYS[end],
        constituents=True,
    )


def level(result: Calculation, i: int, column: str = "price_return") -> float:
    return float(result.levels.filter(pl.col("session") == DAYS[i])[column][0])


# ---------------------------------------------------------------- D1-D3


D_MARKET = market(
    {
        "A": [50, 55, 53.5],
        "B": [20, 19, 18.8],
        "C": [10, 10.5, 10.4],
        "D": [29, 30, 31],
    },
    {"A": 1_000_000, "B": 5_000_000, "C": 2_000_000, "D": 1_000_000},
)
D_ACTIONS = actions(
    {
        "security_id": "A",
        "ex_date": DAYS[2],
        "action": "special_dividend",
        "amount": 2.0,
    },
    {"security_id": "B", "ex_date": DAYS[2], "action": "cash_dividend", "amount": 0.40},
)


def batch_decision() -> ReconDecision:
    return ReconDecision(
        rank_day=DAYS[1],
        effective_date=DAYS[1],
        members=pl.DataFrame(
            {
                "security_id": ["A", "B", "D"],
                "shares_outstanding": [1e6, 5e6, 1e6],
                "float_factor": [0.8, 1.0, 0.9],
            }
        ),
        lower_cap=1.0,
        upper_cap=1e12,
    )


def d_example() -> Calculation:
    mkt, acts, decision = D_MARKET, D_ACTIONS, batch_decision()
    state, _ = initial_state(
        DAYS[0], members(A=(1e6, 0.8), B=(5e6, 1.0), C=(2e6, 0.5)), mkt
    )
    cfg = Settings(
        rules=RULES,
        quarterly=False,
        reconstitution_dates=((DAYS[1], DAYS[1]),),
        reconstitute=lambda day, current: decision,
    )
    return calculate(state, mkt, acts, cfg, end=DAYS[2], constituents=True)


def test_d1_d3_through_the_engine() -> None:
    """methodology.md §13 D1 (membership change), D2 (special), D3 (TR/NTR)."""
    result = d_example()
    assert level(result, 1) == pytest.approx(99.666667, abs=1e-6)
    # D2: divisor after the special dividend, applied before day 3's open.
    divisor = float(result.levels.filter(pl.col("session") == DAYS[2])["divisor"][0])
    assert divisor == pytest.approx(1_649_498.327759, abs=1e-6)
    assert level(result, 2) == pytest.approx(99.848540, abs=1e-6)
    assert level(result, 2, "total_return") == pytest.approx(101.061030, abs=1e-6)
    assert level(result, 2, "net_total_return") == pytest.approx(100.697283, abs=1e-6)
    kinds = result.events.select("security_id", "action").rows()
    assert ("C", "reconstitution_deletion") in kinds
    assert ("D", "reconstitution_addition") in kinds
    # D3's constituent-weight form: opening weights A 42.4m, B 95m, D 27m of 164.4m.
    day3 = result.constituents.filter(pl.col("session") == DAYS[2]).sort("security_id")
    assert day3["opening_weight"].to_list() == pytest.approx(
        [42.4 / 164.4, 95 / 164.4, 27 / 164.4], rel=1e-12
    )


def test_incremental_equals_batch_on_d_example() -> None:
    """Session by session from the stored (JSON round-tripped) state: same numbers."""
    batch = d_example()
    state, _ = initial_state(
        DAYS[0], members(A=(1e6, 0.8), B=(5e6, 1.0), C=(2e6, 0.5)), D_MARKET
    )
    decision = batch_decision()
    cfg = Settings(
        rules=RULES,
        quarterly=False,
        reconstitution_dates=((DAYS[1], DAYS[1]),),
        reconstitute=lambda day, current: decision,
    )
    rows = []
    for day in DAYS[1:3]:
        step = calculate_session(state, D_MARKET, D_ACTIONS, cfg, session=day)
        state = IndexState.from_json(step.state.to_json())
        rows.append(step.levels.row(0, named=True))
    for column in ("price_return", "total_return", "net_total_return", "divisor"):
        assert [r[column] for r in rows] == pytest.approx(
            batch.levels[column].to_list()[1:], rel=1e-12
        )


# --------------------------------------------------------------- TC5 mergers


def merger_market(b_e: float, a_e1: float) -> MarketHistory:
    return market(
        {"A": [9.5, 10.0, a_e1, 12.5], "B": [1.9, b_e, None, None], "C": [5, 5, 5, 5]},
        {"A": 1e6, "B": 1_200.0, "C": 1e4},
    )


@pytest.mark.parametrize(
    ("b_e", "ratio", "cash", "expected"),
    [(2.00, 0.2, 0.0, 2.40), (4.00, 0.2, 2.0, 4.40)],
    ids=["stock", "stock+cash"],
)
def test_tc5_delayed_action_merger(
    b_e: float, ratio: float, cash: float, expected: float
) -> None:
    """TC5 (R7 Appendix E): acquirer A is not a member; B leaves a day late at terms."""
    mkt = merger_market(b_e, 12.0)
    acts = actions(
        {
            "security_id": "B",
            "ex_date": DAYS[1],
            "action": "merger",
            "other_id": "A",
            "ratio": ratio,
            "amount": cash,
        }
    )
    result = run(mkt, members(B=(1_200.0, 1.0), C=(1e4, 1.0)), acts, end=3)
    b = result.constituents.filter(pl.col("security_id") == "B").sort("session")
    assert b["session"].to_list() == [DAYS[1], DAYS[2]]
    assert b["close"][1] == pytest.approx(expected, abs=1e-12)
    assert b["closing_index_shares"][1] == 0.0
    later = result.constituents.filter(pl.col("session") == DAYS[3])
    assert later["security_id"].to_list() == ["C"]  # not replaced (R7 §9.2)


def test_tc5_cash_merger() -> None:
    """TC5: Z acquired for $5.02 cash, closes $5.00 on E; adjusted close E+1 $5.02."""
    mkt = market({"Z": [4.9, 5.00, None], "C": [5, 5, 5]}, {"Z": 1e4, "C": 1e4})
    acts = actions(
        {"security_id": "Z", "ex_date": DAYS[1], "action": "merger", "amount": 5.02}
    )
    result = run(mkt, members(Z=(1e4, 1.0), C=(1e4, 1.0)), acts, end=2)
    z = result.constituents.filter(pl.col("security_id") == "Z").sort("session")
    assert z["close"].to_list() == pytest.approx([5.00, 5.02])
    assert z["price_carried"].to_list() == [False, False]


def test_member_acquirer_merger_keeps_divisor() -> None:
    """Both members, stock terms: B exits at A x ratio at E; A's shares grow."""
    mkt = merger_market(2.0, 12.0)
    acts = actions(
        {
            "security_id": "B",
            "ex_date": DAYS[1],
            "action": "merger",
            "other_id": "A",
            "ratio": 0.2,
            "amount": 0.0,
        }
    )
    result = run(
        mkt, members(A=(1e6, 0.5), B=(1_200.0, 1.0), C=(1e4, 1.0)), acts, end=3
    )
    b = result.constituents.filter(pl.col("security_id") == "B")
    assert b["close"].to_list() == pytest.approx([10.0 * 0.2])
    a = result.constituents.filter(pl.col("security_id") == "A").sort("session")
    assert a["index_shares"][1] == pytest.approx(0.5e6 + 1_200 * 0.2)
    d = result.levels["divisor"].to_list()
    assert d[2] == pytest.approx(d[1], rel=1e-12)  # value moved from B to A exactly


# ------------------------------------------------------------------ splits etc.


def test_split_never_moves_divisor() -> None:
    mkt = market(
        {"A": [100, 101, 50.5, 51], "B": [10, 10, 10, 10]}, {"A": 1e6, "B": 1e6}
    )
    acts = actions(
        {"security_id": "A", "ex_date": DAYS[2], "action": "split", "ratio": 2.0}
    )
    result = run(mkt, members(A=(1e6, 1.0), B=(1e6, 1.0)), acts, end=3)
    d = result.levels["divisor"].drop_nulls().to_list()
    assert d == pytest.approx([d[0]] * len(d), rel=1e-14)
    assert level(result, 2) == pytest.approx(level(result, 1), rel=1e-14)
    a = result.constituents.filter(pl.col("security_id") == "A").sort("session")
    assert a["index_shares"].to_list() == [1e6, 2e6, 2e6]
    assert a["reference_price"][1] == pytest.approx(50.5)


def test_reverse_split_and_stock_dividend() -> None:
    mkt = market(
        {"A": [0.8, 0.8, 8.0], "B": [10, 10, 9.5238095238]}, {"A": 1e7, "B": 1e6}
    )
    acts = actions(
        {"security_id": "A", "ex_date": DAYS[2], "action": "split", "ratio": 0.1},
        {
            "security_id": "B",
            "ex_date": DAYS[2],
            "action": "stock_dividend",
            "ratio": 1.05,
        },
    )
    result = run(mkt, members(A=(1e7, 1.0), B=(1e6, 1.0)), acts, end=2)
    assert level(result, 2) == pytest.approx(level(result, 1), rel=1e-9)


def test_rights_in_and_out_of_the_money() -> None:
    """D5: cum 50, 1-for-4 at 40 -> TERP 48; at 55 (above the price) nothing."""
    mkt = market({"A": [50, 50, 48], "B": [50, 50, 50]}, {"A": 1e6, "B": 1e6})
    acts = actions(
        {
            "security_id": "A",
            "ex_date": DAYS[2],
            "action": "rights",
            "ratio": 0.25,
            "amount": 40.0,
        },
        {
            "security_id": "B",
            "ex_date": DAYS[2],
            "action": "rights",
            "ratio": 0.25,
            "amount": 55.0,
        },
    )
    result = run(mkt, members(A=(1e6, 1.0), B=(1e6, 1.0)), acts, end=2)
    day = result.constituents.filter(pl.col("session") == DAYS[2]).sort("security_id")
    assert day["reference_price"].to_list() == pytest.approx([48.0, 50.0])
    assert day["index_shares"].to_list() == pytest.approx([1.25e6, 1e6])
    assert level(result, 2) == pytest.approx(level(result, 1), rel=1e-12)
    details = dict(result.events.select("security_id", "detail").rows())
    assert "out of the money" in details["B"]


def test_special_dividend_adjusts_price_once() -> None:
    """Special dividend: PR continuous at the ex price; TR not credited again."""
    mkt = market({"A": [50, 50, 48]}, {"A": 1e6})
    acts = actions(
        {
            "security_id": "A",
            "ex_date": DAYS[2],
            "action": "special_dividend",
            "amount": 2.0,
        }
    )
    result = run(mkt, members(A=(1e6, 1.0)), acts, end=2)
    assert level(result, 2) == pytest.approx(100.0)
    assert level(result, 2, "total_return") == pytest.approx(100.0)


def test_spinoff_child_added_and_parent_reduced() -> None:
    mkt = market(
        {"P": [50, 50, 44, 45], "K": [None, None, 12, 12.5], "B": [10, 10, 10, 10]},
        {"P": 1e6, "K": 5e5, "B": 1e6},
    )
    acts = actions(
        {
            "security_id": "P",
            "ex_date": DAYS[2],
            "action": "spinoff",
            "other_id": "K",
            "ratio": 0.5,
            "amount": 12.0,
        }
    )
    result = run(mkt, members(P=(1e6, 0.8), B=(1e6, 1.0)), acts, end=3)
    day = result.constituents.filter(pl.col("session") == DAYS[2]).sort("security_id")
    assert day["security_id"].to_list() == ["B", "K", "P"]
    assert day["reference_price"].to_list() == pytest.approx([10.0, 12.0, 44.0])
    assert day["index_shares"][1] == pytest.approx(1e6 * 0.8 * 0.5)
    assert level(result, 2) == pytest.approx(100.0, rel=1e-12)


def test_ineligible_spinoff_child_leaves_after_first_session() -> None:
    mkt = market(
        {"P": [50, 50, 49.9, 50], "K": [None, None, 0.2, 0.2], "B": [10, 10, 10, 10]},
        {"P": 1e6, "K": 5e5, "B": 1e6},
    )
    acts = actions(
        {
            "security_id": "P",
            "ex_date": DAYS[2],
            "action": "spinoff",
            "other_id": "K",
            "ratio": 0.5,
        }
    )
    result = run(mkt, members(P=(1e6, 1.0), B=(1e6, 1.0)), acts, end=3)
    k = result.constituents.filter(pl.col("security_id") == "K")
    assert k["session"].to_list() == [DAYS[2]]  # $100k cap: below the $30M floor
    assert "spinoff_child_ineligible" in result.events["action"].to_list()


def test_identifier_change_is_continuous() -> None:
    mkt = market(
        {"OLD": [10, 11, None, None], "NEW": [None, None, 12, 12], "B": [5, 5, 5, 5]},
        {"OLD": 1e6, "NEW": 1e6, "B": 1e6},
    )
    acts = actions(
        {
            "security_id": "OLD",
            "ex_date": DAYS[2],
            "action": "identifier_change",
            "other_id": "NEW",
        }
    )
    result = run(mkt, members(OLD=(1e6, 1.0), B=(1e6, 1.0)), acts, end=3)
    ids = (
        result.constituents.sort("session", "security_id")
        .select("session", "security_id")
        .rows()
    )
    assert (DAYS[1], "OLD") in ids
    assert (DAYS[2], "NEW") in ids
    new = result.constituents.filter(pl.col("security_id") == "NEW").sort("session")
    assert new["reference_price"][0] == 11.0
    assert result.carried.height == 0


@pytest.mark.parametrize(
    ("action", "amount", "expected"),
    [("delisting", None, 3.0), ("bankruptcy", 0.01, 0.01), ("delisting", 2.5, 2.5)],
)
def test_delisting_and_bankruptcy(
    action: str, amount: float | None, expected: float
) -> None:
    mkt = market(
        {"A": [4, 3.5, 3.0, None], "B": [10, 10, 10, 10]}, {"A": 1e6, "B": 1e6}
    )
    acts = actions(
        {"security_id": "A", "ex_date": DAYS[2], "action": action, "amount": amount}
    )
    result = run(mkt, members(A=(1e6, 1.0), B=(1e6, 1.0)), acts, end=3)
    a = result.constituents.filter(pl.col("security_id") == "A").sort("session")
    assert a["close"][-1] == pytest.approx(expected)
    assert a["session"][-1] == DAYS[2]


def test_stale_member_removed_after_limit() -> None:
    limit = RULES.maintenance.stale_price_removal_sessions
    prices: list[float | None] = [10.0, 10.0] + [None] * (limit + 2)
    mkt = market({"A": prices, "B": [5.0] * len(prices)}, {"A": 1e6, "B": 1e6})
    result = run(mkt, members(A=(1e6, 1.0), B=(1e6, 1.0)), end=len(prices) - 1)
    a = result.constituents.filter(pl.col("security_id") == "A")
    assert a.height == 1 + limit  # DAYS[1] priced, then `limit` carried sessions
    assert result.carried.row(0) == ("A", limit)
    assert "stale_price" in result.events["action"].to_list()


def test_share_change_intra_quarter_thresholds() -> None:
    """>= $1bn applies at once; a small offering waits for the quarter (R7 §9.3)."""
    mkt = market({"A": [100, 100, 100], "B": [10, 10, 10]}, {"A": 1e8, "B": 1e7})
    acts = actions(
        {
            "security_id": "A",
            "ex_date": DAYS[2],
            "action": "share_change",
            "shares_outstanding": 1.11e8,
            "amount": 100.0,
        },
        {
            "security_id": "B",
            "ex_date": DAYS[2],
            "action": "share_change",
            "shares_outstanding": 1.02e7,
            "amount": 10.0,
        },
    )
    result = run(mkt, members(A=(1e8, 1.0), B=(1e7, 1.0)), acts, end=2)
    day = result.constituents.filter(pl.col("session") == DAYS[2]).sort("security_id")
    assert day["index_shares"].to_list() == [1.11e8, 1e7]
    assert level(result, 2) == pytest.approx(100.0)


def test_bad_action_names_row_and_field() -> None:
    mkt = market({"A": [1, 1]}, {"A": 1.0})
    acts = actions({"security_id": "A", "ex_date": DAYS[1], "action": "split"})
    with pytest.raises(SchemaError, match=r"row 0: split needs 'ratio'"):
        run(mkt, members(A=(1.0, 1.0)), acts, end=1)


def test_incremental_needs_the_next_session() -> None:
    mkt = market({"A": [1, 1, 1]}, {"A": 1.0})
    state, _ = initial_state(DAYS[0], members(A=(1.0, 1.0)), mkt)
    cfg = Settings(rules=RULES, quarterly=False, reconstitution_dates=())
    with pytest.raises(MissingDataError, match="next session to calculate is"):
        calculate_session(state, mkt, empty_actions(), cfg, session=DAYS[2])


def test_state_round_trips_through_json() -> None:
    result = d_example()
    again = IndexState.from_json(result.state.to_json())
    assert again.to_json() == result.state.to_json()
    assert again.lines.equals(result.state.lines)


# ---------------------------------------------------------------- properties

ACTION_KINDS = ["split", "stock_dividend", "special_dividend", "rights", "spinoff"]


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(ACTION_KINDS),
    ratio=st.floats(0.05, 5.0),
    amount_pct=st.floats(0.01, 0.9),
    price=st.floats(1.0, 500.0),
    scale=st.floats(0.01, 100.0),
)
def test_every_action_leaves_the_level_unchanged_at_the_instant(
    kind: str, ratio: float, amount_pct: float, price: float, scale: float
) -> None:
    """If every price opens and closes at its ex-action value, the level is flat.

    Also: scaling every price by k leaves every return unchanged.
    """
    amount = price * amount_pct
    ex_price = {
        "split": price / ratio,
        "stock_dividend": price / ratio,
        "special_dividend": price - amount,
        "rights": (price + ratio * amount) / (1 + ratio),
        "spinoff": price - ratio * amount,
    }[kind]
    if ex_price <= 0:
        return
    child = [None, None, amount] if kind == "spinoff" else [None, None, None]
    levels = []
    for k in (1.0, scale):
        mkt = market(
            {
                "A": [price * k, price * k, ex_price * k],
                "B": [7 * k, 7 * k, 7 * k],
                "K": [None if v is None else v * k for v in child],
            },
            {"A": 1e6, "B": 3e6, "K": 1e6},
        )
        row = {
            "security_id": "A",
            "ex_date": DAYS[2],
            "action": kind,
            "ratio": ratio,
            "amount": amount * k,
        }
        if kind == "spinoff":
            row["other_id"] = "K"
        if kind in ("split", "stock_dividend"):
            row.pop("amount")
        result = run(mkt, members(A=(1e6, 0.7), B=(3e6, 1.0)), actions(row), end=2)
        assert level(result, 2) == pytest.approx(level(result, 1), rel=1e-10)
        levels.append(result.levels["price_return"].to_list())
    assert levels[0] == pytest.approx(levels[1], rel=1e-10)


def test_point_in_time_later_rows_change_nothing() -> None:
    """Corrupting every market row after session t leaves levels up to t alone.

    The corrupted day 3 is inside the calculated block (end=DAYS[2]), so the
    engine holds those rows while it computes days 1-2.
    """
    base = d_example()
    shares = {"A": 1_000_000, "B": 5_000_000, "C": 2_000_000, "D": 1_000_000}
    mkt = market(
        {
            "A": [50, 55, 999.0],
            "B": [20, 19, 0.01],
            "C": [10, 10.5, 1e6],
            "D": [29, 30, 1],
        },
        shares,
    )
    state, _ = initial_state(
        DAYS[0], members(A=(1e6, 0.8), B=(5e6, 1.0), C=(2e6, 0.5)), mkt
    )
    decision = batch_decision()
    cfg = Settings(
        rules=RULES,
        quarterly=False,
        reconstitution_dates=((DAYS[1], DAYS[1]),),
        reconstitute=lambda day, current: decision,
    )
    result = calculate(state, mkt, D_ACTIONS, cfg, end=DAYS[2], constituents=True)
    assert result.levels["price_return"].to_list()[:2] == pytest.approx(
        base.levels["price_return"].to_list()[:2], rel=1e-15
    )
    day2 = result.constituents.filter(pl.col("session") == DAYS[1])
    assert day2.equals(base.constituents.filter(pl.col("session") == DAYS[1]))
