"""Passive demand, ADV and the preview score: worked examples and properties."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k.funds.demand import PassiveAum, average_daily_volume, preview_demand
from r2k.funds.scoring import score_preview, spearman, volume_ratios


def _lines() -> pl.DataFrame:
    # Russell 2000 before: A (stays), B (deleted), C (moves up).
    # After: A, D (added), E (moves down). Russell 1000: F (stays), C, E.
    return pl.DataFrame(
        {
            "security_id": ["A", "B", "C", "D", "E", "F"],
            "name": list("ABCDEF"),
            "sector": ["x"] * 6,
            "change": ["stay", "delete", "migrate_up", "add", "migrate_down", None],
            "index_before": ["R2000", "R2000", "R2000", None, "R1000", "R1000"],
            "index_after": ["R2000", None, "R1000", "R2000", "R2000", "R1000"],
            "index_shares": [100.0, 50.0, 200.0, 100.0, 100.0, 1000.0],
            "price": [10.0, 10.0, 10.0, 10.0, 20.0, 10.0],
        }
    )


def _adv() -> pl.DataFrame:
    return pl.DataFrame(
        {"security_id": list("ABCDEF"), "adv_shares": [10.0, 5.0, 20.0, 2.0, 4.0, 50.0]}
    )


def test_worked_example_by_hand() -> None:
    aum = PassiveAum(r2000=1_000.0, r1000=1_300.0)
    frame = preview_demand(_lines(), _adv(), aum).sort("security_id")
    rows = {r["security_id"]: r for r in frame.to_dicts()}
    # R2000 caps before: A 1000 + B 500 + C 2000 = 3500; after: A 1000 + D 1000
    # + E 2000 = 4000. R1000 before: E 2000 + F 10000 = 12000; after C 2000 +
    # F 10000 = 12000.
    a = rows["A"]
    assert a["weight_before"] == pytest.approx(1000 / 3500)
    assert a["weight_after"] == pytest.approx(1000 / 4000)
    # A: 1000 x (0.25 - 0.285714) / 10 = -3.5714 shares
    assert a["demand_shares"] == pytest.approx(1000 * (0.25 - 1000 / 3500) / 10)
    # B deleted: sells 1000 x 500/3500 / 10 = 14.2857 shares; ADV 5 -> 2.857 days
    assert rows["B"]["demand_shares"] == pytest.approx(-1000 * 500 / 3500 / 10)
    assert rows["B"]["days_of_volume"] == pytest.approx(1000 * 500 / 3500 / 10 / 5)
    # C up: R2000 funds sell 1000 x 2000/3500/10 = 57.14; R1000 funds buy
    # 1300 x 2000/12000/10 = 21.67; net -35.48
    c = rows["C"]
    assert c["demand_r2000_shares"] == pytest.approx(-1000 * 2000 / 3500 / 10)
    assert c["demand_r1000_shares"] == pytest.approx(1300 * 2000 / 12000 / 10)
    assert c["demand_shares"] == pytest.approx(-57.142857 + 21.666667, rel=1e-6)
    # D added: buys 1000 x 0.25 / 10 = 25 shares = $250, 12.5 days of volume
    assert rows["D"]["demand_shares"] == pytest.approx(25.0)
    assert rows["D"]["demand_usd"] == pytest.approx(250.0)
    assert rows["D"]["days_of_volume"] == pytest.approx(12.5)
    # E down: R2000 buys 1000 x 0.5 / 20 = 25; R1000 sells 1300 x 2000/12000/20
    assert rows["E"]["demand_shares"] == pytest.approx(25 - 1300 * 2000 / 12000 / 20)
    # F is R1000 only: not a Russell 2000 row
    assert "F" not in rows
    # every fund's buys equal its sells in dollars (R2000 funds)
    assert frame["demand_r2000_shares"].dot(frame["price"]) == pytest.approx(
        0, abs=1e-9
    )


@settings(max_examples=50, deadline=None)
@given(
    r2000=st.floats(1e3, 1e12),
    r1000=st.floats(0, 1e12),
    factor=st.sampled_from([2.0, 0.5, 3.0]),
)
def test_scaling_aum_scales_demand(r2000: float, r1000: float, factor: float) -> None:
    base = preview_demand(_lines(), _adv(), PassiveAum(r2000, r1000))
    scaled = preview_demand(_lines(), _adv(), PassiveAum(r2000, r1000).scaled(factor))
    joined = base.join(scaled, on="security_id", suffix="_s")
    for column in ("demand_shares", "demand_usd", "days_of_volume"):
        assert (
            (joined[f"{column}_s"] - factor * joined[column]).abs()
            <= 1e-9 * (1 + joined[column].abs() * factor)
        ).all()


def test_negative_aum_is_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        PassiveAum(-1.0, 0.0)


def _market(days: int = 30) -> pl.DataFrame:
    start = date(2026, 1, 5)
    rows = []
    for i in range(days):
        rows.append(
            {
                "session": start + timedelta(days=i),
                "security_id": "A",
                "close": 10.0 + i,
                "volume": 100 + i,
            }
        )
    return pl.DataFrame(rows)


def test_adv_is_median_of_window_ending_at_as_of() -> None:
    market = _market()
    as_of = date(2026, 1, 5) + timedelta(days=19)  # the 20th row, volume 119
    adv = average_daily_volume(market, as_of, window=5)
    # volumes 115..119 -> median 117; the last close known is 29
    assert adv.item(0, "adv_shares") == 117
    assert adv.item(0, "adv_sessions") == 5
    assert adv.item(0, "last_close") == 29.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=10, max_size=10))
def test_adv_reads_nothing_after_as_of(later: list[int]) -> None:
    market = _market()
    as_of = date(2026, 1, 5) + timedelta(days=19)
    scrambled = market.with_columns(
        volume=pl.when(pl.col("session") > as_of)
        .then(pl.Series(later * 3)[: market.height])
        .otherwise(pl.col("volume")),
        close=pl.when(pl.col("session") > as_of)
        .then(pl.lit(1e6))
        .otherwise(pl.col("close")),
    )
    assert average_daily_volume(scrambled, as_of, window=5).equals(
        average_daily_volume(market, as_of, window=5)
    )


def test_spearman_and_score() -> None:
    assert spearman(pl.Series([1.0, 2, 3, 4]), pl.Series([10.0, 20, 30, 40])) == 1.0
    assert spearman(pl.Series([1.0, 2]), pl.Series([1.0, 2])) is None
    preview = pl.DataFrame(
        {
            "security_id": ["A", "B", "C", "D"],
            "change": ["add", "delete", "add", "stay"],
            "days_of_volume": [5.0, 1.0, 3.0, 0.1],
        }
    )
    ratios = pl.DataFrame(
        {"security_id": ["A", "B", "C", "D"], "volume_ratio": [10.0, 2.0, 4.0, 1.0]}
    )
    scores = score_preview(preview, ratios)
    assert scores["changes"]["predicted"] == 3
    assert scores["changes"]["share_at_threshold"] == pytest.approx(2 / 3)
    assert scores["changes"]["spearman"] == pytest.approx(1.0)
    assert scores["add"]["share_at_threshold"] == 1.0


def test_volume_ratio_baseline_ends_on_rank_day() -> None:
    market = _market()
    rank_day = date(2026, 1, 5) + timedelta(days=9)  # volumes 100..109
    effective = date(2026, 1, 5) + timedelta(days=25)  # volume 125
    ratios = volume_ratios(market, rank_day, effective, window=20)
    assert ratios.item(0, "volume_baseline") == 104.5
    assert ratios.item(0, "volume_ratio") == pytest.approx(125 / 104.5)
