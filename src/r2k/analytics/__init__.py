"""Indicators and risk statistics over level and return series (plain functions).

Inputs are NumPy arrays, sequences of numbers, or Polars Series. Series outputs
are aligned with the input (same length): a Polars Series with nulls if an input
is a Polars Series, else a ``float64`` NumPy array with NaN, during the warm-up
and wherever a value is undefined. Scalar statistics return Python floats.

Conventions are explicit parameters or part of a name, never implied: the unit
of a rate of change (``"percent"``, ``"fraction"``, ``"ratio"``), ``ddof`` of a
standard deviation, ``periods_per_year`` of an annualization, the first bar of a
true range, whether a Donchian window includes the current bar. Nothing is
rounded. Missing values are allowed only before the first value (a warm-up);
gaps, infinities and mismatched lengths raise :class:`~r2k.errors.SchemaError`,
bad parameters :class:`~r2k.errors.MethodologyError`, each naming the argument.

Modules, by domain: :mod:`~r2k.analytics.rate_of_change`,
:mod:`~r2k.analytics.returns`, :mod:`~r2k.analytics.variance`,
:mod:`~r2k.analytics.risk`, :mod:`~r2k.analytics.drawdown`,
:mod:`~r2k.analytics.range_bound`, :mod:`~r2k.analytics.rallies`,
:mod:`~r2k.analytics.ranges`, :mod:`~r2k.analytics.backtest` and
:mod:`~r2k.analytics.currency`.

Examples
--------
>>> from r2k import analytics
>>> analytics.rate_of_change([100.0, 104.0], 1, unit="percent").round(6)
array([nan,  4.])
>>> analytics.max_drawdown([100.0, 80.0, 120.0])
-0.2
"""

from __future__ import annotations

from r2k._typing import FirstBar, PositionUnit, RocUnit, WidthUnit
from r2k.analytics.backtest import range_trading_backtest
from r2k.analytics.currency import convert_levels
from r2k.analytics.drawdown import DRAWDOWNS, drawdown, drawdowns, max_drawdown
from r2k.analytics.rallies import rallies, turning_points
from r2k.analytics.range_bound import (
    DonchianChannel,
    channel_position,
    channel_width,
    choppiness_index,
    donchian_channel,
    true_range,
    vertical_horizontal_filter,
)
from r2k.analytics.ranges import pivots, range_periods, range_signals
from r2k.analytics.rate_of_change import momentum, rate_of_change
from r2k.analytics.returns import (
    annualized_return,
    levels_from_returns,
    log_returns,
    simple_returns,
)
from r2k.analytics.risk import (
    annualized_volatility,
    beta,
    correlation,
    down_capture,
    rolling_volatility,
    sharpe_ratio,
    up_capture,
)
from r2k.analytics.variance import (
    rolling_standard_deviation,
    rolling_variance,
    standard_deviation,
    variance,
)

__all__ = [
    "DRAWDOWNS",
    "DonchianChannel",
    "FirstBar",
    "PositionUnit",
    "RocUnit",
    "WidthUnit",
    "annualized_return",
    "annualized_volatility",
    "beta",
    "channel_position",
    "channel_width",
    "choppiness_index",
    "convert_levels",
    "correlation",
    "donchian_channel",
    "down_capture",
    "drawdown",
    "drawdowns",
    "levels_from_returns",
    "log_returns",
    "max_drawdown",
    "momentum",
    "pivots",
    "rallies",
    "range_periods",
    "range_signals",
    "range_trading_backtest",
    "rate_of_change",
    "rolling_standard_deviation",
    "rolling_variance",
    "rolling_volatility",
    "sharpe_ratio",
    "simple_returns",
    "standard_deviation",
    "true_range",
    "turning_points",
    "up_capture",
    "variance",
    "vertical_horizontal_filter",
]
