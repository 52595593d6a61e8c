"""Properties, metamorphic relations and input handling of r2k.analytics.

Hypothesis properties: the three units of rate of change agree; scaling prices by
k leaves rate of change, choppiness, VHF, drawdowns and return volatility
unchanged; maximum drawdown lies in [-1, 0] and is 0 for a rising series;
momentum of a constant is 0; returns and levels round-trip; rolling variance
matches the per-window definition. Metamorphic: Polars and NumPy inputs give the
same values (nulls where NumPy has NaN). Bad input raises an r2k error naming the
parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k import analytics
from r2k.errors import MethodologyError, R2KError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Callable

PROPERTY = settings(max_examples=60, deadline=None)
FloatArray = np.ndarray[Any, np.dtype[np.float64]]

# Prices in cents between $1 and $1,000: differences are never below 1e-5 relative,
# so the comparisons below are well conditioned.
cents = st.integers(min_value=100, max_value=100_000)
prices = st.lists(cents, min_size=1, max_size=60).map(
    lambda v: np.asarray(v, dtype=np.float64) / 100.0
)
periods = st.integers(min_value=1, max_value=20)
scales = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)


@st.composite
def bars(draw: st.DrawFn) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(high, low, close) with low <= close <= high, in cents."""
    n = draw(st.integers(min_value=1, max_value=60))
    low = draw(st.lists(cents, min_size=n, max_size=n))
    up = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    more = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    lo = np.asarray(low, dtype=np.float64)
    close = lo + np.asarray(up, dtype=np.float64)
    high = close + np.asarray(more, dtype=np.float64)
    return high / 100.0, lo / 100.0, close / 100.0


def _same(a: Any, b: Any, *, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    np.testing.assert_allclose(
        np.asarray(a, dtype=np.float64),
        np.asarray(b, dtype=np.float64),
        rtol=rtol,
        atol=atol,
        equal_nan=True,
    )


# --- properties -----------------------------------------------------------------


@PROPERTY
@given(prices, periods)
def test_rate_of_change_units_agree(close: FloatArray, period: int) -> None:
    ratio = analytics.rate_of_change(close, period, unit="ratio")
    fraction = analytics.rate_of_change(close, period, unit="fraction")
    percent = analytics.rate_of_change(close, period, unit="percent")
    _same(ratio, 1.0 + fraction, rtol=1e-14, atol=1e-15)
    _same(ratio, 1.0 + percent / 100.0, rtol=1e-14, atol=1e-15)
    assert np.isnan(ratio[:period]).all()


@PROPERTY
@given(prices, periods, scales)
def test_scaling_prices_leaves_rate_of_change_unchanged(
    close: FloatArray, period: int, k: float
) -> None:
    units: tuple[analytics.RocUnit, ...] = ("percent", "fraction", "ratio")
    for unit in units:
        _same(
            analytics.rate_of_change(k * close, period, unit=unit),
            analytics.rate_of_change(close, period, unit=unit),
            atol=1e-9,
        )


@PROPERTY
@given(bars(), st.integers(min_value=2, max_value=20), scales)
def test_scaling_prices_leaves_choppiness_unchanged(
    hlc: tuple[FloatArray, FloatArray, FloatArray], period: int, k: float
) -> None:
    high, low, close = hlc
    first_bars: tuple[analytics.FirstBar, ...] = ("high_low", "skip")
    for first_bar in first_bars:
        scaled = analytics.choppiness_index(
            k * high,
            k * low,
            k * close,
            period,
            first_bar=first_bar,
        )
        plain = analytics.choppiness_index(
            high, low, close, period, first_bar=first_bar
        )
        _same(scaled, plain, atol=1e-8)


@PROPERTY
@given(prices, periods, scales)
def test_scaling_prices_leaves_vhf_unchanged(
    close: FloatArray, period: int, k: float
) -> None:
    _same(
        analytics.vertical_horizontal_filter(k * close, period),
        analytics.vertical_horizontal_filter(close, period),
        atol=1e-9,
    )


@PROPERTY
@given(prices, scales, st.integers(min_value=2, max_value=10))
def test_scaling_prices_leaves_return_volatility_unchanged(
    close: FloatArray, k: float, window: int
) -> None:
    plain = analytics.simple_returns(close)
    scaled = analytics.simple_returns(k * close)
    for ddof in (0, 1):
        a = analytics.annualized_volatility(scaled, periods_per_year=252, ddof=ddof)
        b = analytics.annualized_volatility(plain, periods_per_year=252, ddof=ddof)
        _same(a, b, atol=1e-10)
        _same(
            analytics.rolling_volatility(scaled, window, periods_per_year=252, ddof=0),
            analytics.rolling_volatility(plain, window, periods_per_year=252, ddof=0),
            atol=1e-10,
        )


@PROPERTY
@given(prices, scales)
def test_scaling_prices_leaves_drawdowns_unchanged(close: FloatArray, k: float) -> None:
    assert analytics.max_drawdown(k * close) == pytest.approx(
        analytics.max_drawdown(close), abs=1e-12
    )
    _same(analytics.drawdown(k * close), analytics.drawdown(close), atol=1e-12)


@PROPERTY
@given(prices)
def test_max_drawdown_is_a_fraction_between_minus_one_and_zero(
    levels: FloatArray,
) -> None:
    result = analytics.max_drawdown(levels)
    assert isinstance(result, float)
    assert -1.0 < result <= 0.0
    dd = analytics.drawdown(levels)
    assert result == dd.min()
    table = analytics.drawdowns(levels)
    if result == 0.0:
        assert table.height == 0
    else:
        assert table["depth"].min() == result
        assert (table["start"] < table["trough"]).all()
        recovered = table.filter(pl.col("recovered"))
        assert (recovered["trough"] < recovered["recovery"]).all()
        assert (
            recovered["duration"] == recovered["recovery"] - recovered["start"]
        ).all()


@PROPERTY
@given(prices)
def test_rising_series_has_no_drawdown(levels: FloatArray) -> None:
    rising = np.cumsum(levels)  # strictly increasing
    assert analytics.max_drawdown(rising) == 0.0
    assert analytics.drawdowns(rising).height == 0
    assert (analytics.drawdown(rising) == 0.0).all()


@PROPERTY
@given(st.floats(min_value=0.01, max_value=1e6), st.integers(1, 50), periods)
def test_momentum_of_a_constant_is_zero(value: float, n: int, period: int) -> None:
    result = analytics.momentum(np.full(n, value), period)
    assert np.isnan(result[:period]).all()
    assert (result[period:] == 0.0).all()


@PROPERTY
@given(prices)
def test_returns_and_levels_round_trip(levels: FloatArray) -> None:
    returns = analytics.simple_returns(levels)
    back = analytics.levels_from_returns(returns, base=float(levels[0]))
    _same(back, levels, rtol=1e-12)
    log = analytics.log_returns(levels)
    _same(np.exp(log[1:]) - 1.0, returns[1:], rtol=1e-9, atol=1e-15)


@PROPERTY
@given(prices, st.integers(min_value=1, max_value=12), st.integers(0, 1))
def test_rolling_variance_matches_each_window(
    values: FloatArray, window: int, ddof: int
) -> None:
    if window <= ddof:
        return
    result = analytics.rolling_variance(values, window, ddof=ddof)
    assert np.isnan(result[: window - 1]).all()
    for t in range(window - 1, values.size):
        expected = np.var(values[t - window + 1 : t + 1], ddof=ddof)
        assert result[t] == pytest.approx(expected, rel=1e-9, abs=1e-12)


@PROPERTY
@given(prices.filter(lambda v: v.size >= 2), st.sampled_from([1e6, 1e8, 1e9]))
def test_variance_ignores_a_large_offset(values: FloatArray, offset: float) -> None:
    """Stability: adding a large constant changes the variance only by the error
    of representing the shifted values (about offset * 2**-52 per value)."""
    base = analytics.variance(values, ddof=1)
    shifted = analytics.variance(values + offset, ddof=1)
    representation = offset * 2.0**-52 * float(np.abs(values).max() + 1.0)
    assert shifted == pytest.approx(base, abs=10 * representation, rel=1e-9)


@PROPERTY
@given(bars(), periods)
def test_choppiness_first_bar_conventions_agree_after_warm_up(
    hlc: tuple[FloatArray, FloatArray, FloatArray], period: int
) -> None:
    high, low, close = hlc
    p = period + 1
    lean = analytics.choppiness_index(high, low, close, p, first_bar="high_low")
    pandas_ta = analytics.choppiness_index(high, low, close, p, first_bar="skip")
    _same(lean[p:], pandas_ta[p:], rtol=0.0, atol=0.0)
    assert np.isnan(pandas_ta[:p]).all()


@PROPERTY
@given(bars(), periods)
def test_donchian_previous_window_is_the_current_one_shifted(
    hlc: tuple[FloatArray, FloatArray, FloatArray], period: int
) -> None:
    high, low, _ = hlc
    current = analytics.donchian_channel(high, low, period, include_current=True)
    previous = analytics.donchian_channel(high, low, period, include_current=False)
    _same(previous.upper[1:], current.upper[:-1], rtol=0.0)
    _same(previous.lower[1:], current.lower[:-1], rtol=0.0)
    assert np.isnan(previous.middle[0])
    assert (current.lower[period - 1 :] <= current.upper[period - 1 :]).all()


@PROPERTY
@given(bars(), st.integers(min_value=2, max_value=20))
def test_choppiness_and_vhf_stay_in_range(
    hlc: tuple[FloatArray, FloatArray, FloatArray], period: int
) -> None:
    high, low, close = hlc
    chop = analytics.choppiness_index(high, low, close, period)
    finite = chop[~np.isnan(chop)]
    # the true ranges chain through the closes, so they cover the window's range;
    # no upper bound: a gap from the close before the window can exceed 100
    assert (finite >= -1e-9).all()
    vhf = analytics.vertical_horizontal_filter(close, period)
    finite = vhf[~np.isnan(vhf)]
    assert ((finite >= 0.0) & (finite <= 1.0 + 1e-12)).all()


# --- metamorphic: Polars input = NumPy input ----------------------------------------


def _both(values: FloatArray, lead: int) -> tuple[pl.Series, FloatArray]:
    """The same series with `lead` missing values first, as Polars and NumPy."""
    series = pl.Series("x", [None] * lead + values.tolist(), dtype=pl.Float64)
    array = np.concatenate((np.full(lead, np.nan), values))
    return series, array


def _check_series(result: Any, expected: FloatArray) -> None:
    assert isinstance(result, pl.Series)
    assert result.dtype == pl.Float64
    assert result.name == "x"
    assert result.len() == expected.size
    assert result.is_nan().sum() == 0  # missing is null, never NaN
    assert isinstance(expected, np.ndarray)
    _same(result.to_numpy(), expected, rtol=0.0)


@PROPERTY
@given(prices, periods, st.integers(0, 3))
def test_polars_and_numpy_inputs_agree_single_series(
    values: FloatArray, period: int, lead: int
) -> None:
    series, array = _both(values, lead)
    r_series, r_array = _both(values / 1000.0 - 0.05, lead)  # returns
    calls: list[tuple[Callable[[Any], Any], bool]] = [
        (lambda x: analytics.rate_of_change(x, period, unit="percent"), False),
        (lambda x: analytics.momentum(x, period), False),
        (analytics.simple_returns, False),
        (analytics.log_returns, False),
        (analytics.drawdown, False),
        (lambda x: analytics.vertical_horizontal_filter(x, period), False),
        (lambda x: analytics.rolling_variance(x, period, ddof=0), False),
        (lambda x: analytics.rolling_standard_deviation(x, period, ddof=0), False),
        (lambda x: analytics.levels_from_returns(x, base=100.0), True),
        (
            lambda x: analytics.rolling_volatility(
                x, period, periods_per_year=252, ddof=0
            ),
            True,
        ),
    ]
    for call, on_returns in calls:
        if on_returns:
            _check_series(call(r_series), call(r_array))
        else:
            _check_series(call(series), call(array))
    scalars: list[tuple[Callable[[Any], float], bool]] = [
        (analytics.max_drawdown, False),
        (lambda x: analytics.variance(x, ddof=0), False),
        (lambda x: analytics.standard_deviation(x, ddof=0), False),
        (analytics.annualized_volatility, True),
        (lambda x: analytics.annualized_return(x, periods_per_year=252), True),
        (
            lambda x: analytics.sharpe_ratio(
                x, risk_free=0.0, periods_per_year=252, ddof=0
            ),
            True,
        ),
    ]
    for scalar, on_returns in scalars:
        a, b = (
            (scalar(r_series), scalar(r_array))
            if on_returns
            else (
                scalar(series),
                scalar(array),
            )
        )
        assert isinstance(a, float)
        assert a == b or (np.isnan(a) and np.isnan(b))
    assert analytics.drawdowns(series).equals(analytics.drawdowns(array))
    # the leading missing values are a warm-up: the rest is the trimmed series
    trimmed = analytics.rate_of_change(values, period, unit="percent")
    _same(analytics.rate_of_change(array, period, unit="percent")[lead:], trimmed)


@PROPERTY
@given(bars(), st.integers(min_value=2, max_value=20), st.integers(0, 3))
def test_polars_and_numpy_inputs_agree_bars(
    hlc: tuple[FloatArray, FloatArray, FloatArray], period: int, lead: int
) -> None:
    (hs, ha), (ls, la), (cs, ca) = (_both(v, lead) for v in hlc)
    _check_series(
        analytics.choppiness_index(hs, ls, cs, period),
        analytics.choppiness_index(ha, la, ca, period),
    )
    _check_series(
        analytics.true_range(hs, ls, cs, first_bar="skip"),
        analytics.true_range(ha, la, ca, first_bar="skip"),
    )
    polars = analytics.donchian_channel(hs, ls, period, include_current=True)
    numpy = analytics.donchian_channel(ha, la, period, include_current=True)
    for a, b in [
        (polars.upper, numpy.upper),
        (polars.lower, numpy.lower),
        (polars.middle, numpy.middle),
    ]:
        _check_series(a, b)
    _check_series(
        analytics.channel_width(polars.upper, polars.lower, unit="points"),
        analytics.channel_width(numpy.upper, numpy.lower, unit="points"),
    )
    _check_series(
        analytics.channel_position(cs, polars.upper, polars.lower, unit="percent"),
        analytics.channel_position(ca, numpy.upper, numpy.lower, unit="percent"),
    )
    rs, bs = analytics.simple_returns(cs), analytics.simple_returns(hs)
    ra, ba = analytics.simple_returns(ca), analytics.simple_returns(ha)
    for pair in (analytics.beta, analytics.correlation):
        x, y = pair(rs, bs), pair(ra, ba)
        assert x == y or (np.isnan(x) and np.isnan(y))


def test_sequences_give_numpy_and_scalars_give_floats() -> None:
    result = analytics.rate_of_change([100, 110, 121], 1, unit="fraction")
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.float64
    _same(result, [np.nan, 0.1, 0.1])
    assert type(analytics.max_drawdown([1, 2, 1])) is float
    assert type(analytics.beta([0.1, 0.2], [0.2, 0.1])) is float
    integers = pl.Series("n", [1, 2, 4], dtype=pl.Int64)
    _same(analytics.momentum(integers, 1).to_numpy(), [np.nan, 1.0, 2.0])


def test_drawdowns_worked_example() -> None:
    """Two episodes, the second not recovered; positions are input positions,
    after a warm-up of one missing value."""
    levels = [None, 100.0, 90.0, 95.0, 100.0, 120.0, 60.0, 90.0]
    table = analytics.drawdowns(pl.Series(levels, dtype=pl.Float64))
    expected = pl.DataFrame(
        {
            "start": [1, 5],
            "trough": [2, 6],
            "recovery": [4, None],
            "depth": [-0.1, -0.5],
            "duration": [3, 2],
            "recovered": [True, False],
        },
        schema=analytics.DRAWDOWNS,
    )
    assert table.equals(expected)


def test_empty_and_short_inputs() -> None:
    assert analytics.rate_of_change([], 3).size == 0
    assert np.isnan(analytics.rate_of_change([1.0, 2.0], 3)).all()
    assert np.isnan(analytics.max_drawdown([]))
    assert np.isnan(analytics.annualized_volatility([0.01]))
    assert np.isnan(analytics.annualized_return([], periods_per_year=252))
    assert analytics.annualized_return([0.5, -1.0], periods_per_year=252) == -1.0
    assert np.isnan(
        analytics.sharpe_ratio([], risk_free=0.0, periods_per_year=1, ddof=0)
    )
    assert analytics.drawdowns([]).schema == analytics.DRAWDOWNS
    assert np.isnan(
        analytics.choppiness_index([5.0] * 4, [5.0] * 4, [5.0] * 4, 3)
    ).all()
    assert np.isnan(analytics.vertical_horizontal_filter([5.0] * 4, 2)).all()
    assert np.isnan(analytics.beta([0.1, 0.2], [0.1, 0.1]))
    constant = analytics.sharpe_ratio(
        [0.01, 0.01], risk_free=0.0, periods_per_year=1, ddof=1
    )
    assert constant == float("inf")


# --- bad input ----------------------------------------------------------------------


lax: Any = analytics  # bad input on purpose: no static type check


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: lax.rate_of_change([1.0, 2.0], 0),
            MethodologyError,
            "`period` must be at least 1",
        ),
        (
            lambda: lax.rate_of_change([1.0, 2.0], 1.5),
            MethodologyError,
            "`period` must be an integer",
        ),
        (
            lambda: lax.momentum([1.0, 2.0], True),
            MethodologyError,
            "`period` must be an integer",
        ),
        (
            lambda: lax.rate_of_change([1.0, 2.0], unit="pct"),
            MethodologyError,
            "`unit` must be one of 'percent', 'fraction', 'ratio'",
        ),
        (
            lambda: lax.rate_of_change([1.0, 0.0, 2.0], 1),
            SchemaError,
            "`close` must be strictly positive.*position 1",
        ),
        (
            lambda: lax.rate_of_change([1.0, np.inf], 1),
            SchemaError,
            "`close` has a non-finite value",
        ),
        (
            lambda: lax.momentum([1.0, None, 2.0], 1),
            SchemaError,
            "`close` has a missing value at position 1",
        ),
        (
            lambda: lax.momentum(["a", "b"], 1),
            SchemaError,
            "`close` must hold numbers",
        ),
        (
            lambda: lax.momentum(np.ones((2, 2)), 1),
            SchemaError,
            "`close` must be one-dimensional",
        ),
        (
            lambda: lax.momentum(pl.Series(["a"]), 1),
            SchemaError,
            "`close` must be numeric",
        ),
        (
            lambda: lax.choppiness_index([2.0, 2.0], [1.0], [1.5, 1.5]),
            SchemaError,
            "`low` has 1 values but `high` has 2",
        ),
        (
            lambda: lax.choppiness_index([2.0], [1.0], [1.5], 1),
            MethodologyError,
            "`period` must be at least 2",
        ),
        (
            lambda: lax.choppiness_index([2.0], [1.0], [1.5], first_bar="open"),
            MethodologyError,
            "`first_bar` must be one of",
        ),
        (
            lambda: lax.true_range([1.0], [2.0], [1.5], first_bar="skip"),
            SchemaError,
            r"`high` \(1.0\) is below `low` \(2.0\)",
        ),
        (
            lambda: lax.beta([0.1, 0.2], [0.1]),
            SchemaError,
            "`benchmark` has 1 values but `returns` has 2",
        ),
        (
            lambda: lax.annualized_volatility([0.1, -2.0]),
            SchemaError,
            "`returns` holds -2.0 at position 1",
        ),
        (
            lambda: lax.annualized_volatility([0.1], periods_per_year=0),
            MethodologyError,
            "`periods_per_year` must be positive",
        ),
        (
            lambda: lax.annualized_volatility([0.1], ddof=-1),
            MethodologyError,
            "`ddof` must be at least 0",
        ),
        (
            lambda: lax.rolling_volatility([0.1], 1, periods_per_year=252, ddof=1),
            MethodologyError,
            r"`window` \(1\) must exceed `ddof` \(1\)",
        ),
        (
            lambda: lax.rolling_variance([0.1], 0, ddof=0),
            MethodologyError,
            "`window` must be at least 1",
        ),
        (
            lambda: lax.sharpe_ratio(
                [0.1], risk_free=np.nan, periods_per_year=1, ddof=0
            ),
            MethodologyError,
            "`risk_free` must be a finite number",
        ),
        (
            lambda: lax.sharpe_ratio(
                [0.1], risk_free=[0.0, 0.0], periods_per_year=1, ddof=0
            ),
            SchemaError,
            "`risk_free` has 2 values",
        ),
        (
            lambda: lax.levels_from_returns([0.1], base=0.0),
            MethodologyError,
            "`base` must be a positive finite level",
        ),
        (
            lambda: lax.max_drawdown([1.0, -1.0]),
            SchemaError,
            "`levels` must be strictly positive",
        ),
        (
            lambda: lax.donchian_channel([2.0], [1.0], 1, include_current=None),
            MethodologyError,
            "`include_current` must be True or False",
        ),
        (
            lambda: lax.channel_width([2.0], [1.0], unit="percent"),
            MethodologyError,
            "`relative_to` is required",
        ),
        (
            lambda: lax.channel_width([2.0], [1.0], unit="points", relative_to=[1.5]),
            MethodologyError,
            "refused with unit 'points'",
        ),
        (
            lambda: lax.channel_width([2.0], [1.0], unit="fraction", relative_to=[0.0]),
            SchemaError,
            "`relative_to` must be strictly positive",
        ),
        (
            lambda: lax.up_capture([0.1], [0.1], periods_per_year=-1),
            MethodologyError,
            "`periods_per_year` must be positive",
        ),
    ],
)
def test_bad_input_raises_an_r2k_error_naming_the_parameter(
    call: Any, error: type[R2KError], match: str
) -> None:
    with pytest.raises(error, match=match):
        call()
    assert issubclass(error, ValueError)
