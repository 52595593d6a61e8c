"""r2k.analytics.ranges: range-bound sessions and periods, price pivots."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k.analytics.range_bound import (
    choppiness_index,
    donchian_channel,
    vertical_horizontal_filter,
)
from r2k.analytics.ranges import RangeRule, pivots, range_periods, range_signals
from r2k.data.sources.levels import read_index_levels
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from r2k._typing import SupportRule
    from r2k.data.datadir import DataDir

START = date(2000, 1, 3)
RULE = RangeRule()


def _days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def _sine(
    n: int, period: float, amplitude: float, phase: float
) -> np.ndarray[Any, Any]:
    t = np.arange(n)
    out: np.ndarray[Any, Any] = 100.0 * (
        1.0 + amplitude * np.sin(2 * np.pi * t / period + phase)
    )
    return out


def _walk(seed: int, n: int, vol: float = 0.015) -> tuple[np.ndarray[Any, Any], ...]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.cumprod(1.0 + rng.normal(0.0, vol, n))
    spread = np.abs(rng.normal(0.0, vol / 2, (2, n)))
    return close * (1.0 + spread[0]), close * (1.0 - spread[1]), close


# --- RangeRule -----------------------------------------------------------------


def test_rule_defaults_and_warm_up() -> None:
    assert (
        RangeRule(
            chop_period=14,
            chop_threshold=61.8,
            vhf_period=28,
            vhf_threshold=0.30,
            channel_period=20,
            width_threshold=0.06,
            votes=2,
            min_length=10,
        )
        == RULE
    )
    assert RULE.warm_up == 28
    assert RangeRule(vhf_period=5, channel_period=40).warm_up == 39


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"votes": 4}, "votes"),
        ({"votes": 0}, "votes"),
        ({"chop_threshold": 100.0}, "chop_threshold"),
        ({"chop_threshold": "61.8"}, "chop_threshold"),
        ({"vhf_threshold": 30.0}, "vhf_threshold"),
        ({"width_threshold": 0.0}, "width_threshold"),
        ({"chop_period": 1}, "chop_period"),
        ({"min_length": 0}, "min_length"),
        ({"channel_period": 2.5}, "channel_period"),
    ],
)
def test_bad_rules(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(MethodologyError, match=name):
        RangeRule(**kwargs)


# --- pivots --------------------------------------------------------------------


def test_pivots_on_closes() -> None:
    c = [10.0, 11, 12, 11, 10, 9, 10, 11, 10]
    p = pivots(c, c, c, left=2, right=2)
    assert p.table.rows() == [(2, "high", 12.0, 4), (5, "low", 9.0, 7)]
    assert (p.support, p.resistance) == (9.0, 12.0)
    # a wider window sees neither pivot
    assert pivots(c, c, c, left=3, right=5).table.is_empty()


def test_pivots_flat_top_and_outside_bar() -> None:
    # the flat top at 12, 12 is one pivot: its first bar
    c = [10.0, 11, 12, 12, 11, 10]
    assert pivots(c, c, c, left=1, right=1).table.rows() == [(2, "high", 12.0, 3)]
    # an outside bar is both a swing high and a swing low
    high = [10.0, 10, 13, 10, 10]
    low = [9.0, 9, 7, 9, 9]
    close = [9.5, 9.5, 10, 9.5, 9.5]
    table = pivots(high, low, close, left=2, right=2).table
    assert table.rows() == [(2, "high", 13.0, 4), (2, "low", 7.0, 4)]


def test_pivot_levels_around_the_last_close() -> None:
    c = [10.0, 12, 10, 8, 10, 14, 10, 9, 10, 11]
    p = pivots(c, c, c, left=1, right=1)
    lows = p.table.filter(pl.col("kind") == "low").get_column("level").to_list()
    highs = p.table.filter(pl.col("kind") == "high").get_column("level").to_list()
    assert lows == [8.0, 9.0]
    assert highs == [12.0, 14.0]
    assert (p.support, p.resistance) == (9.0, 12.0)  # nearest around 11
    rising = [1.0, 2, 3, 4]
    none = pivots(rising, rising, rising, left=1, right=1)
    assert none.table.is_empty()
    assert np.isnan(none.support)
    assert np.isnan(none.resistance)


def test_pivot_errors() -> None:
    c = [10.0, 11, 12]
    with pytest.raises(MethodologyError, match="left"):
        pivots(c, c, c, left=0)
    with pytest.raises(SchemaError, match="low <= close <= high"):
        pivots([10.0, 11], [11.0, 10], [10.5, 10.5])
    with pytest.raises(SchemaError, match="low <= close <= high"):
        pivots([10.0, 11], [9.0, 10], [10.5, 10.5])
    with pytest.raises(SchemaError, match="equal length"):
        pivots([10.0, 11], [9.0, 10], [10.0])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200), span=st.integers(1, 6))
def test_pivot_support_below_resistance(seed: int, n: int, span: int) -> None:
    high, low, close = _walk(seed, n)
    p = pivots(high, low, close, left=span, right=span)
    last = close[-1]
    assert not p.support > last
    assert not p.resistance < last
    assert not p.support > p.resistance
    for pos, kind, level, known in p.table.iter_rows():
        assert known == pos + span
        window = slice(pos - span, pos + span + 1)
        if kind == "high":
            assert level == high[pos] == high[window].max()
        else:
            assert level == low[pos] == low[window].min()


# --- range signals -------------------------------------------------------------


def test_signals_match_the_indicators() -> None:
    high, low, close = _walk(7, 300)
    signals = range_signals(high, low, close)
    chop = choppiness_index(high, low, close, 14)
    vhf = vertical_horizontal_filter(close, 28)
    channel = donchian_channel(high, low, 20, include_current=True)
    width = (channel.upper - channel.lower) / channel.middle
    np.testing.assert_allclose(signals["chop"].to_numpy(), chop, equal_nan=True)
    np.testing.assert_allclose(signals["vhf"].to_numpy(), vhf, equal_nan=True)
    np.testing.assert_allclose(signals["width"].to_numpy(), width, equal_nan=True)
    ready = np.arange(300) >= 28
    votes = (
        ready * ((chop > 61.8).astype(int) + (vhf < 0.30) + (width < 0.06))
    ).astype(int)
    assert signals["votes"].to_list() == votes.tolist()
    assert signals["range_bound"].to_list() == (votes >= 2).tolist()
    assert not signals["range_bound"].head(28).any()
    assert signals["support"].to_list()[19:] == channel.lower[19:].tolist()


def test_a_flat_series_is_range_bound_after_the_warm_up() -> None:
    flat = [100.0] * 60
    signals = range_signals(flat, flat, flat)
    assert signals["chop"].null_count() == 60  # no range at all: undefined
    assert signals["range_bound"].to_list() == [False] * 28 + [True] * 32
    periods = range_periods(flat, flat, flat, _days(60))
    assert periods.rows() == [
        (START + timedelta(28), START + timedelta(59), 32, 100.0, 100.0, True)
    ]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(0, 199))
def test_signals_are_causal(seed: int, cut: int) -> None:
    high, low, close = _walk(seed, 200)
    before = range_signals(high, low, close)
    other = _walk(seed + 1, 200, vol=0.05)
    mixed = [
        np.concatenate((a[: cut + 1], b[cut + 1 :]))
        for a, b in zip((high, low, close), other, strict=True)
    ]
    after = range_signals(*mixed)
    assert after.head(cut + 1).equals(before.head(cut + 1))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(30, 250),
    first=st.floats(1.0, 1e4),
    steps=st.lists(st.floats(1.0, 20.0), min_size=1, max_size=50),
    falling=st.booleans(),
)
def test_a_steady_trend_is_never_range_bound(
    n: int, first: float, steps: list[float], falling: bool
) -> None:
    # strictly monotone closes whose step sizes vary by at most 20 times
    size = np.resize(np.array(steps), n - 1) * first * 1e-3
    close = first + np.concatenate(([0.0], np.cumsum(size)))
    if falling:
        close = close[::-1].copy()
    signals = range_signals(close, close, close)
    assert not signals["range_bound"].any()
    assert range_periods(close, close, close, _days(n)).is_empty()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(60, 250),
    period=st.floats(3.0, 12.0),
    amplitude=st.floats(0.001, 0.025),
    phase=st.floats(0.0, 2 * np.pi),
)
def test_a_sine_wave_in_a_band_is_range_bound_throughout(
    n: int, period: float, amplitude: float, phase: float
) -> None:
    close = _sine(n, period, amplitude, phase)
    signals = range_signals(close, close, close)
    flags = signals["range_bound"].to_list()
    assert flags == [False] * RULE.warm_up + [True] * (n - RULE.warm_up)
    periods = range_periods(close, close, close, _days(n))
    assert periods.height == 1
    row = periods.row(0, named=True)
    assert row["start_session"] == START + timedelta(RULE.warm_up)
    assert row["end_session"] == START + timedelta(n - 1)
    assert row["length_sessions"] == n - RULE.warm_up
    assert row["ongoing"]
    assert 100.0 * (1 - amplitude) <= row["support"] <= row["resistance"]
    assert row["resistance"] <= 100.0 * (1 + amplitude)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    vol=st.floats(0.001, 0.03),
    support_rule=st.sampled_from(["extremes", "pivots"]),
    min_length=st.integers(1, 15),
)
def test_periods_are_disjoint_inside_the_span_and_ordered(
    seed: int, n: int, vol: float, support_rule: SupportRule, min_length: int
) -> None:
    high, low, close = _walk(seed, n, vol)
    days = _days(n)
    rule = RangeRule(min_length=min_length)
    periods = range_periods(
        high, low, close, days, rule=rule, support_rule=support_rule
    )
    flags = range_signals(high, low, close, rule=rule)["range_bound"].to_list()
    previous_end = None
    for row in periods.iter_rows(named=True):
        first = (row["start_session"] - START).days
        last = (row["end_session"] - START).days
        assert 0 <= first <= last < n
        assert row["length_sessions"] == last - first + 1 >= min_length
        assert all(flags[first : last + 1])
        assert first == 0 or not flags[first - 1]  # maximal runs
        assert last == n - 1 or not flags[last + 1]
        assert previous_end is None or previous_end < row["start_session"]
        previous_end = row["end_session"]
        assert row["support"] <= row["resistance"]
        assert low[first : last + 1].min() <= row["support"]
        assert row["resistance"] <= high[first : last + 1].max()
        assert row["ongoing"] == (last == n - 1)


def test_support_rules_by_hand() -> None:
    # 40 sideways sessions: closes swing between 99 and 101, one spike to 104
    close = np.array([100.0, 101.0, 100.0, 99.0] * 10)
    close[33] = 104.0
    extremes = range_periods(
        close, close, close, _days(40), rule=RangeRule(min_length=5)
    )
    assert extremes.select("support", "resistance").rows() == [(99.0, 104.0)]
    pivot = range_periods(
        close,
        close,
        close,
        _days(40),
        rule=RangeRule(min_length=5),
        support_rule="pivots",
        pivot_span=1,
    )
    assert pivot.select("support", "resistance").rows() == [(99.0, 101.0)]


def test_range_period_errors() -> None:
    c = [100.0] * 40
    with pytest.raises(MethodologyError, match="support_rule"):
        range_periods(c, c, c, _days(40), support_rule="median")  # type: ignore[arg-type]
    with pytest.raises(MethodologyError, match="pivot_span"):
        range_periods(c, c, c, _days(40), pivot_span=0)
    with pytest.raises(SchemaError, match="sessions"):
        range_periods(c, c, c, _days(39))
    with pytest.raises(SchemaError, match="positive"):
        range_periods([0.0] * 40, [0.0] * 40, [0.0] * 40, _days(40))


def test_polars_input_and_warm_up() -> None:
    high, low, close = _walk(3, 120)
    lead = [None] * 5
    as_series = [
        pl.Series(name, [*lead, *x])
        for name, x in zip("hlc", (high, low, close), strict=True)
    ]
    shifted = range_signals(*as_series)
    plain = range_signals(high, low, close)
    assert shifted.tail(120).equals(plain)
    assert not shifted["range_bound"].head(5 + 28).any()


# --- real data -----------------------------------------------------------------


@pytest.fixture(scope="module")
def rut(data_dir: DataDir) -> pl.DataFrame:
    return read_index_levels(data_dir.index_levels("RUT"), "RUT")


def test_rut_range_bound_periods(rut: pl.DataFrame) -> None:
    h, lo, c, s = (rut.get_column(n) for n in ("high", "low", "close", "session"))
    signals = range_signals(h, lo, c)
    share = signals["range_bound"].cast(pl.Float64).to_numpy().mean()
    assert 0.05 < share < 0.40  # about a fifth of sessions
    periods = range_periods(h, lo, c, s)
    assert 30 <= periods.height <= 120
    assert (periods["length_sessions"] >= 10).all()
    assert (periods["support"] < periods["resistance"]).all()
    # the boxes are narrow: at most a few percent wider than the channel rule
    box = periods["resistance"] / periods["support"] - 1.0
    assert box.to_numpy().max() < 0.15
    # none during the 2008 crash or the 2020 crash
    for year_month in ("2008-10", "2020-03"):
        month = periods.filter(
            pl.col("start_session").dt.strftime("%Y-%m") <= year_month,
            pl.col("end_session").dt.strftime("%Y-%m") >= year_month,
        )
        assert month.is_empty()
    by_pivots = range_periods(h, lo, c, s, support_rule="pivots")
    assert by_pivots.select("start_session", "end_session").equals(
        periods.select("start_session", "end_session")
    )
    assert (by_pivots["support"] >= periods["support"]).all()
    assert (by_pivots["resistance"] <= periods["resistance"]).all()
    last = pivots(h, lo, c)
    assert last.support <= c.to_numpy()[-1]
