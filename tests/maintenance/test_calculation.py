"""Index calculation: worked examples (methodology.md D1-D3, TC8; py-beacon) and
properties (batch = incremental, continuity, TR >= PR, scale invariance).

The levels are chained from per-session sums (:func:`chain_levels` for a window,
:func:`levels_from_sums` for one session); :func:`_sums` here is the oracle of
those sums from a long constituents frame (the engine computes them on its dense
block, tests/maintenance/test_maintenance.py).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k.errors import MissingDataError
from r2k.maintenance.levels import (
    SUMS,
    LevelState,
    base_state,
    chain_levels,
    levels_from_sums,
    total_return_levels,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from r2k._typing import TotalReturnConvention

D = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]


def _frame(rows: Sequence[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "session": pl.Date,
            "security_id": pl.String,
            "index_shares": pl.Float64,
            "close": pl.Float64,
            "reference_price": pl.Float64,
            "dividend": pl.Float64,
            "withholding_rate": pl.Float64,
        },
        orient="row",
    )


def _sums(constituents: pl.DataFrame, withholding_rate: float = 0.30) -> pl.DataFrame:
    """Per-session sums of a constituents frame (the oracle)."""
    n = pl.col("index_shares")
    tau = pl.col("withholding_rate").fill_null(withholding_rate)
    dividend = pl.col("dividend").fill_null(0.0)
    return (
        constituents.group_by("session")
        .agg(
            market_value=(n * pl.col("close")).sum(),
            reference_value=(n * pl.col("reference_price")).sum(),
            has_reference=pl.col("reference_price").is_not_null().all(),
            dividends=(n * dividend).sum(),
            net_dividends=(n * dividend * (1.0 - tau)).sum(),
        )
        .sort("session")
        .select(SUMS.names())
    )


def _levels(
    constituents: pl.DataFrame,
    *,
    base_value: float = 100.0,
    withholding_rate: float = 0.30,
    convention: TotalReturnConvention = "reinvest",
) -> pl.DataFrame:
    """Levels of a history whose first session is the base (batch)."""
    sums = _sums(constituents, withholding_rate)
    start = base_state(sums["session"][0], base_value)
    return chain_levels(start, sums.slice(1), convention)


def _divisor_after(
    old_divisor: float, value_before: float, value_after: float
) -> float:
    """Divisor of a session whose reference value is ``value_after``, chained from a
    level worth ``value_before`` on ``old_divisor`` (the level stays continuous)."""
    level = value_before / old_divisor
    start = LevelState(
        session=D[0], price_return=level, total_return=level, net_total_return=level
    )
    sums = pl.DataFrame(
        [(D[1], value_after, value_after, True, 0.0, 0.0)], schema=SUMS, orient="row"
    )
    return float(chain_levels(start, sums)["divisor"][1])


def _d1_d3() -> pl.DataFrame:
    # methodology.md §13 D1-D3: A (1m sh, float 0.8), B (5m, 1.0), C (2m, 0.5);
    # after day 2 delete C, add D (1m, 0.9); day 3: A special $2.00 (reference
    # 55 -> 53), B ordinary $0.40.
    return _frame(
        [
            (D[0], "A", 800_000.0, 50.0, None, None, None),
            (D[0], "B", 5_000_000.0, 20.0, None, None, None),
            (D[0], "C", 1_000_000.0, 10.0, None, None, None),
            (D[1], "A", 800_000.0, 55.0, 50.0, None, None),
            (D[1], "B", 5_000_000.0, 19.0, 20.0, None, None),
            (D[1], "C", 1_000_000.0, 10.5, 10.0, None, None),
            (D[2], "A", 800_000.0, 53.5, 53.0, None, None),
            (D[2], "B", 5_000_000.0, 18.8, 19.0, 0.40, None),
            (D[2], "D", 900_000.0, 31.0, 30.0, None, None),
        ]
    )


def test_d1_divisor_on_membership_change() -> None:
    # D1: M0 = 150m, base 100 -> D0 = 1.5m; day 2 M = 149.5m; after delete C / add D
    # at day-2 closes M_after = 166m -> D1 = 1,665,551.839465.
    assert _divisor_after(1_500_000.0, 149_500_000.0, 166_000_000.0) == pytest.approx(
        1_665_551.839465, rel=1e-12
    )
    # D2: special dividend $2 on A: 166m -> 164.4m -> 1,649,498.327759.
    d2 = _divisor_after(1_665_551.839465, 166_000_000.0, 164_400_000.0)
    assert d2 == pytest.approx(1_649_498.327759, rel=1e-9)


def test_d1_to_d3_levels() -> None:
    levels = _levels(_d1_d3(), base_value=100.0, withholding_rate=0.30)
    rows = levels.rows(named=True)
    assert _sums(_d1_d3())["market_value"][0] / 100.0 == pytest.approx(1_500_000.0)
    assert rows[1]["price_return"] == pytest.approx(99.666667, abs=5e-7)
    # Day 3 divisor combines D1 (membership) and D2 (special dividend).
    assert rows[2]["divisor"] == pytest.approx(1_649_498.327759, rel=1e-9)
    assert rows[2]["price_return"] == pytest.approx(99.848540, abs=5e-7)
    assert rows[2]["dividend_points"] == pytest.approx(1.212490, abs=5e-7)
    assert rows[2]["total_return"] == pytest.approx(101.061030, abs=5e-7)
    assert rows[2]["net_dividend_points"] == pytest.approx(0.848743, abs=5e-7)
    assert rows[2]["net_total_return"] == pytest.approx(100.697283, abs=5e-7)


# methodology.md §12 TC8 (NSE "Total Returns Index - Methodology"): price index and
# indexed dividends; TR published with the "points" convention.
TC8_PRICE = [
    1000,
    988.92,
    978.22,
    964.01,
    953.07,
    948.82,
    917.26,
    902.56,
    913.21,
    904.08,
    898.86,
    892.79,
]
TC8_POINTS = [0.0] * 12
TC8_POINTS[6] = 1.5e8 * 1000 / 1.55e12
TC8_POINTS[9] = 2.2e8 * 1000 / 1.5725e12
TC8_NSE = [
    1000,
    988.92,
    978.22,
    964.01,
    953.07,
    948.82,
    917.3536,
    902.6521,
    913.3031,
    904.3107,
    899.0894,
    893.0178,
]


def test_tc8_points_convention_reproduces_nse() -> None:
    tr = total_return_levels(
        np.array(TC8_PRICE, float), np.array(TC8_POINTS), 1000.0, "points"
    )
    assert tr.tolist() == pytest.approx(TC8_NSE, abs=5e-5)


def test_tc8_reinvest_convention() -> None:
    # methodology.md TC8: the S&P-style convention gives 917.3568 (day 7),
    # 904.3153 (day 10), 893.0224 (day 12) on the same data.
    tr = total_return_levels(
        np.array(TC8_PRICE, float), np.array(TC8_POINTS), 1000.0, "reinvest"
    )
    assert tr[6] == pytest.approx(917.3568, abs=5e-5)
    assert tr[9] == pytest.approx(904.3153, abs=5e-5)
    assert tr[11] == pytest.approx(893.0224, abs=5e-5)


VECTORS = Path(__file__).parents[2].parent / "shared" / "vectors" / "py-beacon"


def _py_beacon_constituents(actions: list[dict[str, object]], n: int) -> pl.DataFrame:
    # ../shared/vectors/py-beacon: AAA 100 x 1000, BBB 50 x 1000, flat prices, equal
    # weights, base 1000 -> index shares 5 (AAA) and 10 (BBB).
    rows: list[tuple[object, ...]] = []
    for t in range(n):
        day = date(2025, 1, 1) + timedelta(days=t)
        for sid, price, shares in (("AAA", 100.0, 5.0), ("BBB", 50.0, 10.0)):
            div = 0.0
            for a in actions:
                if a["id"] == sid and a["ex_date_idx"] == t:
                    div += float(str(a["dividend"]))
            rows.append((day, sid, shares, price, None if t == 0 else price, div, None))
    return _frame(rows)


@pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/vectors absent")
def test_py_beacon_total_return_cases() -> None:
    spec = json.loads((VECTORS / "expected.json").read_text())
    for case in spec["cases"]:
        if case["return_type"] == "PR":
            continue
        frame = _py_beacon_constituents(case["actions"], 60)
        tau = case.get("withholding", 0.0)
        levels = _levels(frame, base_value=1000.0, withholding_rate=tau)
        column = "total_return" if case["return_type"] == "TR" else "net_total_return"
        series = levels[column].to_list()
        for key, value in case["expect"].items():
            index = int(key[len("level[") : -1])
            assert series[index] == pytest.approx(value, abs=1e-9), (case, key)
        assert levels["price_return"].to_list() == pytest.approx([1000.0] * 60)


@pytest.mark.skipif(not VECTORS.is_dir(), reason="../shared/vectors absent")
def test_py_beacon_divisor_continuity() -> None:
    spec = json.loads((VECTORS / "expected.json").read_text())
    for old, mv_old, mv_new, expected in spec["divisor_rebalance_continuity"]["cases"]:
        assert _divisor_after(old, mv_old, mv_new) == pytest.approx(expected)


# --- properties -----------------------------------------------------------------


def _random_history(seed: int, sessions: int = 60, names: int = 12) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    close = rng.uniform(5, 200, names)
    shares = rng.uniform(1e5, 1e7, names)
    for t in range(sessions):
        day = date(2020, 1, 1) + timedelta(days=t)
        ref = close.copy()
        # corporate actions between sessions: splits, share changes, specials
        split = rng.random(names) < 0.03
        ratio = np.where(split, rng.choice([2.0, 3.0, 0.5], names), 1.0)
        shares = shares * ratio
        ref = ref / ratio
        special = rng.random(names) < 0.02
        ref = np.where(special, ref * 0.95, ref)
        shares = np.where(
            rng.random(names) < 0.05, shares * rng.uniform(0.9, 1.1, names), shares
        )
        close = ref * np.exp(rng.normal(0, 0.02, names))
        div = np.where(rng.random(names) < 0.03, close * 0.01, 0.0)
        for i in range(names):
            rows.append(
                (
                    day,
                    f"S{i}",
                    float(shares[i]),
                    float(close[i]),
                    None if t == 0 else float(ref[i]),
                    float(div[i]),
                    None,
                )
            )
    return _frame(rows)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), convention=st.sampled_from(["reinvest", "points"]))
def test_batch_and_incremental_agree(seed: int, convention: str) -> None:
    history = _random_history(seed)
    batch = _levels(history, convention=convention)  # type: ignore[arg-type]
    sums = _sums(history)
    state = base_state(sums["session"][0])
    for i, sums_row in enumerate(sums.slice(1).iter_rows(named=True), start=1):
        state, row = levels_from_sums(
            state,
            sums_row,
            convention=convention,  # type: ignore[arg-type]
        )
        for key in ("price_return", "total_return", "net_total_return", "divisor"):
            assert row[key] == pytest.approx(batch[key][i], rel=1e-10)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_total_return_at_least_price_return(seed: int) -> None:
    levels = _levels(_random_history(seed))
    assert (levels["total_return"] >= levels["price_return"] * (1 - 1e-12)).all()
    assert (levels["total_return"] >= levels["net_total_return"] * (1 - 1e-12)).all()


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.floats(0.01, 100.0))
def test_scaling_prices_leaves_every_return_unchanged(seed: int, k: float) -> None:
    history = _random_history(seed)
    scaled = history.with_columns(pl.col("close", "reference_price", "dividend") * k)
    a, b = _levels(history), _levels(scaled)
    for key in ("price_return", "total_return", "net_total_return"):
        assert b[key].to_list() == pytest.approx(a[key].to_list(), rel=1e-10)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), ratio=st.sampled_from([2.0, 3.0, 0.1, 1.5]))
def test_a_split_never_moves_the_divisor(seed: int, ratio: float) -> None:
    history = _random_history(seed, sessions=10, names=4)
    day = history["session"].unique().sort()[5]
    split = history.with_columns(
        index_shares=pl.when(
            (pl.col("session") >= day) & (pl.col("security_id") == "S0")
        )
        .then(pl.col("index_shares") * ratio)
        .otherwise(pl.col("index_shares")),
        close=pl.when((pl.col("session") >= day) & (pl.col("security_id") == "S0"))
        .then(pl.col("close") / ratio)
        .otherwise(pl.col("close")),
        reference_price=pl.when(
            (pl.col("session") >= day) & (pl.col("security_id") == "S0")
        )
        .then(pl.col("reference_price") / ratio)
        .otherwise(pl.col("reference_price")),
    )
    a, b = _levels(history), _levels(split)
    assert b["divisor"].to_list()[1:] == pytest.approx(
        a["divisor"].to_list()[1:], rel=1e-12
    )
    assert b["price_return"].to_list() == pytest.approx(
        a["price_return"].to_list(), rel=1e-12
    )


def test_level_continuous_at_a_membership_change() -> None:
    # At the instant a change applies (reference prices = previous closes), the
    # market value over the new divisor equals the previous level.
    levels = _levels(_d1_d3())
    day3 = _d1_d3().filter(pl.col("session") == D[2])
    value_at_reference = float((day3["index_shares"] * day3["reference_price"]).sum())
    assert value_at_reference / levels["divisor"][2] == pytest.approx(
        levels["price_return"][1], rel=1e-12
    )


def test_a_session_without_members_is_an_error() -> None:
    sums = (
        _sums(_d1_d3())
        .slice(1)
        .with_columns(
            reference_value=pl.when(pl.col("session") == D[2])
            .then(0.0)
            .otherwise(pl.col("reference_value"))
        )
    )
    with pytest.raises(MissingDataError, match="no members on 2026-01-07"):
        chain_levels(base_state(D[0]), sums)
