"""r2k.analytics.backtest: the range-trading strategy, point in time."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError, fields
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k.analytics.backtest import (
    TRADES,
    BacktestResult,
    PerformanceStats,
    range_trading_backtest,
)
from r2k.analytics.ranges import RangeRule
from r2k.data.sources.levels import read_index_levels
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir

START = date(2000, 1, 3)
# Every session after a 2-bar warm-up is "range-bound" (one vote, and any channel
# narrower than 190% counts): the strategy is then a plain Donchian(3) rule.
ALWAYS = RangeRule(
    chop_period=2, vhf_period=1, channel_period=3, width_threshold=1.9, votes=1
)
HAND = [100.0, 110.0, 100.0, 101.0, 105.0, 110.0, 104.0, 95.0, 90.0, 92.0]


def _days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def _run(close: list[float], **kw: Any) -> BacktestResult:
    return range_trading_backtest(close, close, close, _days(len(close)), **kw)


Array = np.ndarray[Any, Any]


def _walk(seed: int, n: int, vol: float = 0.012) -> tuple[Array, Array, Array]:
    rng = np.random.default_rng(seed)
    # a mean-reverting walk around 100, so there are ranges to trade
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.9 * x[t - 1] + rng.normal(0.0, vol)
    close = 100.0 * np.exp(x)
    spread = np.abs(rng.normal(0.0, vol / 3, (2, n)))
    return close * (1.0 + spread[0]), close * (1.0 - spread[1]), close


# --- by hand -------------------------------------------------------------------


def test_trades_by_hand_without_costs() -> None:
    result = _run(HAND, rule=ALWAYS, cost_bp=0.0)
    day = _days(10)
    assert result.trades.rows() == [
        # bought at the close after the signal at support 100, sold after 110
        (day[3], 101.0, day[6], 104.0, 3, 100.0, 110.0, 104 / 101 - 1, "target"),
        # the close of 95 broke 2% below support 104: out at the next close
        (day[7], 95.0, day[8], 90.0, 1, 104.0, 110.0, 90 / 95 - 1, "breakout_down"),
        # still long at the last close
        (day[9], 92.0, day[9], 92.0, 0, 90.0, 104.0, 0.0, "open"),
    ]
    daily = result.daily
    assert daily["signal"].to_list() == [0, 0, 1, 0, 0, -1, 1, -1, 1, 0]
    assert daily["position"].to_list() == [0, 0, 0, 1, 1, 1, 0, 1, 0, 1]
    assert daily["support"].to_list()[2:5] == [100.0, 100.0, 100.0]
    total = (104 / 101) * (90 / 95) - 1
    s = result.strategy
    assert s.total_return == pytest.approx(total)
    assert daily["equity"][-1] == pytest.approx(1 + total)
    assert s.trades == 3
    assert s.hit_rate == 0.5  # one of the two closed trades made money
    assert s.exposure == pytest.approx(4 / 9)
    assert s.annualized_return == pytest.approx((1 + total) ** (252 / 9) - 1)
    b = result.buy_and_hold
    assert b.total_return == pytest.approx(92 / 100 - 1)
    assert b.max_drawdown == pytest.approx(90 / 110 - 1)
    assert (b.trades, b.hit_rate, b.exposure) == (1, 0.0, 1.0)


def test_costs_by_hand() -> None:
    cost = 10.0 / 10_000
    free = _run(HAND, rule=ALWAYS, cost_bp=0.0)
    paid = _run(HAND, rule=ALWAYS, cost_bp=10.0)
    # five transactions: three buys and two sells
    assert 1 + paid.strategy.total_return == pytest.approx(
        (1 + free.strategy.total_return) * (1 - cost) ** 5
    )
    returns = paid.trades["return"].to_list()
    assert returns[0] == pytest.approx(104 / 101 * (1 - cost) ** 2 - 1)
    assert returns[2] == pytest.approx((1 - cost) - 1)  # open: the buy only
    # buy and hold is the index itself, without costs
    assert paid.buy_and_hold == free.buy_and_hold


def test_breakout_up_and_no_entry_in_the_sell_zone() -> None:
    close = [100.0, 110.0, 100.0, 100.5, 120.0, 121.0]
    result = _run(close, rule=ALWAYS, cost_bp=0.0)
    assert result.trades.select("entry_level", "exit_level", "reason").rows() == [
        (100.5, 121.0, "breakout_up")
    ]
    # a channel narrower than the two bands: buying there would already be selling
    tight = [100.0, 100.5, 100.0, 100.0, 100.0]
    assert _run(tight, rule=ALWAYS).trades.is_empty()


def test_no_trade_outside_a_range() -> None:
    rising = [100.0 * 1.01**t for t in range(80)]
    result = _run(rising)
    assert result.trades.is_empty()
    assert result.trades.schema == TRADES
    s = result.strategy
    assert (s.total_return, s.trades, s.exposure, s.max_drawdown) == (0.0, 0, 0.0, 0.0)
    assert math.isnan(s.hit_rate)
    assert result.buy_and_hold.total_return == pytest.approx(1.01**79 - 1)


def test_result_is_frozen_and_summarised() -> None:
    result = _run(HAND, rule=ALWAYS)
    with pytest.raises(FrozenInstanceError):
        result.trades = pl.DataFrame()  # type: ignore[misc]
    summary = result.summary()
    assert summary["name"].to_list() == ["range_trading", "buy_and_hold"]
    assert summary.columns[1:] == [f.name for f in fields(PerformanceStats)]
    assert summary.item(1, "total_return") == result.buy_and_hold.total_return


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"cost_bp": -1.0}, "cost_bp"),
        ({"cost_bp": "5"}, "cost_bp"),
        ({"entry_band": 1.5}, "entry_band"),
        ({"exit_band": -0.01}, "exit_band"),
        ({"breakout": float("inf")}, "breakout"),
        ({"periods_per_year": 0}, "periods_per_year"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(MethodologyError, match=name):
        _run(HAND, **kwargs)


def test_bad_inputs() -> None:
    with pytest.raises(SchemaError, match="at least two sessions"):
        _run([100.0])
    with pytest.raises(SchemaError, match="sessions"):
        range_trading_backtest(HAND, HAND, HAND, _days(3))


# --- properties ----------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(40, 400),
    cost=st.floats(0.0, 50.0),
    band=st.floats(0.0, 0.03),
)
def test_equity_compounds_the_trades(
    seed: int, n: int, cost: float, band: float
) -> None:
    high, low, close = _walk(seed, n)
    result = range_trading_backtest(
        high, low, close, _days(n), cost_bp=cost, entry_band=band, exit_band=band
    )
    growth = float(np.prod(1.0 + result.trades["return"].to_numpy()))
    assert result.daily["equity"][-1] == pytest.approx(growth, rel=1e-9)
    assert result.strategy.total_return == pytest.approx(growth - 1.0, rel=1e-9)
    # long only and never levered: one position at a time, entries after exits
    entries = result.trades["entry_session"].to_list()
    exits = result.trades["exit_session"].to_list()
    assert all(e <= x for e, x in zip(entries, exits, strict=True))
    assert all(x < e for x, e in zip(exits, entries[1:], strict=False))
    assert set(result.daily["position"].unique()) <= {0, 1}
    assert 0.0 <= result.strategy.exposure <= 1.0
    # every buy was signalled on a range-bound session, the close before
    daily = result.daily.with_row_index("t")
    buys = daily.filter(pl.col("signal") == 1)
    assert buys["range_bound"].all()
    entered = daily.filter(pl.col("session").is_in(entries))["t"].to_list()
    assert entered == [t + 1 for t in buys["t"].to_list()[: len(entered)]]
    assert result.trades["entry_level"].to_list() == [close[t] for t in entered]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(0, 299))
def test_positions_up_to_t_ignore_data_after_t(seed: int, cut: int) -> None:
    n = 300
    bars = _walk(seed, n)
    junk = _walk(seed + 1, n, vol=0.05)
    # replace every bar after `cut` by unrelated data
    h, lo, c = (
        np.concatenate((a[: cut + 1], b[cut + 1 :]))
        for a, b in zip(bars, junk, strict=True)
    )
    days = _days(n)
    before = range_trading_backtest(*bars, days)
    after = range_trading_backtest(h, lo, c, days)
    keep = ["range_bound", "support", "resistance", "signal", "position", "equity"]
    assert (
        after.daily.head(cut + 1)
        .select(keep)
        .equals(before.daily.head(cut + 1).select(keep))
    )
    closed = pl.col("exit_session") <= days[cut]
    done = pl.col("reason") != "open"
    assert after.trades.filter(closed, done).equals(before.trades.filter(closed, done))


# --- real data -----------------------------------------------------------------


@pytest.fixture(scope="module")
def rut(data_dir: DataDir) -> pl.DataFrame:
    return read_index_levels(data_dir.index_levels("RUT"), "RUT")


def test_rut_backtest(rut: pl.DataFrame) -> None:
    h, lo, c, s = (rut.get_column(n) for n in ("high", "low", "close", "session"))
    result = range_trading_backtest(h, lo, c, s)
    for stats in (result.strategy, result.buy_and_hold):
        values = [getattr(stats, f.name) for f in fields(PerformanceStats)]
        assert all(math.isfinite(v) for v in values)
    strategy, index = result.strategy, result.buy_and_hold
    assert 30 <= strategy.trades <= 300
    assert 0.0 < strategy.exposure < 0.3  # only inside ranges, near support
    assert 0.2 < strategy.hit_rate < 0.8
    assert strategy.annualized_volatility < index.annualized_volatility
    assert strategy.max_drawdown > index.max_drawdown  # shallower
    closes = c.to_numpy()
    assert index.total_return == pytest.approx(closes[-1] / closes[0] - 1.0)
    assert index.annualized_volatility == pytest.approx(0.215, abs=0.005)
    assert result.daily.height == rut.height
    assert set(result.trades["reason"].unique()) <= {
        "target",
        "breakout_down",
        "breakout_up",
        "open",
    }
