"""A range-trading backtest on an index: buy near support, sell near resistance.

The strategy
------------
Long only, fully invested or flat, no leverage, one position at a time.

* *Range*: the session is range-bound by :func:`~r2k.analytics.ranges.range_signals`
  (CHOP, VHF and channel-width votes of :class:`~r2k.analytics.ranges.RangeRule`).
  Support and resistance are the lowest low and highest high of the Donchian
  channel over ``rule.channel_period`` bars ending at the session, the channel
  whose narrowness is one of the votes.
* *Buy signal*: flat, range-bound, and the close is within ``entry_band`` above
  support (``close <= support * (1 + entry_band)``) and below the sell zone. The
  support and resistance of the signal session are frozen for the trade.
* *Sell signals*, while long, against the frozen levels: ``"target"`` when the
  close reaches ``resistance * (1 - exit_band)``; ``"breakout_down"`` when it
  closes more than ``breakout`` below support (a stop); ``"breakout_up"`` when it
  closes more than ``breakout`` above resistance (the range is over).

Point in time
-------------
Every signal at session *t* uses bars up to *t* only: the indicators and the
channel are trailing windows that end at *t*. A signal at the close of *t* is
executed at the close of *t + 1* (next close), so no trade uses a price it could
not have known; a signal on the last session is not executed, and a position
still open there is marked to the last close (``reason="open"``).

Costs and returns
-----------------
Each transaction (buy or sell) costs ``cost_bp`` basis points of the traded
value, 5 by default: a conservative round figure for an index tracker or future
(IWM's bid-ask spread is about 1 bp, commissions and impact add a few more).
Equity starts at 1 at the first session of the input and compounds the close to
close return while long, times ``1 - cost`` at every transaction. A closed
trade returns ``exit / entry * (1 - cost) ** 2 - 1``.

Buy and hold is the index itself over the same sessions, with no cost.
Statistics are over the close-to-close returns of that span: the annualised
return compounds them with ``periods_per_year`` (252 sessions), the volatility
is their sample standard deviation (``ddof=1``) times ``sqrt(periods_per_year)``,
the hit rate is the share of closed trades with a positive return, and exposure
is the share of periods spent long.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl

from r2k.analytics._inputs import check_periods_per_year, nan_array
from r2k.analytics._periods import check_fraction, parse_sessions
from r2k.analytics.drawdown import max_drawdown
from r2k.analytics.ranges import RangeRule, _bars, _votes
from r2k.analytics.returns import annualized_return
from r2k.analytics.risk import annualized_volatility
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from r2k.analytics._inputs import ArrayInput, FloatArray
    from r2k.analytics._periods import SessionsInput

__all__ = [
    "TRADES",
    "BacktestResult",
    "PerformanceStats",
    "range_trading_backtest",
]

TRADES: Final = pl.Schema(
    {
        "entry_session": pl.Date,
        "entry_level": pl.Float64,
        "exit_session": pl.Date,
        "exit_level": pl.Float64,
        "sessions_held": pl.Int64,
        "support": pl.Float64,  # frozen at the buy signal
        "resistance": pl.Float64,  # frozen at the buy signal
        "return": pl.Float64,  # net of costs
        "reason": pl.String,  # target, breakout_down, breakout_up, open
    }
)
"""Columns of :attr:`BacktestResult.trades` (session columns take the input's type)."""


@dataclass(frozen=True, slots=True)
class PerformanceStats:
    """Summary statistics of one equity curve (fractions, not percent).

    Attributes
    ----------
    total_return : float
        Last equity over first, minus one.
    annualized_return : float
        Compound annual growth rate over the span.
    annualized_volatility : float
        Sample standard deviation of the period returns times
        ``sqrt(periods_per_year)``.
    max_drawdown : float
        Largest fall from a running high of the equity (negative or 0).
    trades : int
        Round trips entered (an open position counts; 1 for buy and hold).
    hit_rate : float
        Share of closed trades with a positive return (NaN if none closed;
        for buy and hold, 1.0 if its total return is positive, else 0.0).
    exposure : float
        Share of periods spent long.
    """

    total_return: float
    annualized_return: float
    annualized_volatility: float
    max_drawdown: float
    trades: int
    hit_rate: float
    exposure: float


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """What :func:`range_trading_backtest` returns.

    Attributes
    ----------
    trades : pl.DataFrame
        One row per trade with the columns of :data:`TRADES`.
    daily : pl.DataFrame
        One row per input session: ``session``, ``close``, ``range_bound``,
        ``support``, ``resistance`` (the Donchian channel at the session),
        ``signal`` (1 buy, -1 sell, 0 none, at that close), ``position`` (1 if
        long after that close), ``equity`` and ``buy_and_hold`` (both 1 at the
        first session).
    strategy : PerformanceStats
        Statistics of the strategy's equity.
    buy_and_hold : PerformanceStats
        Statistics of the index over the same sessions.
    """

    trades: pl.DataFrame
    daily: pl.DataFrame
    strategy: PerformanceStats
    buy_and_hold: PerformanceStats

    def summary(self) -> pl.DataFrame:
        """Both sets of statistics side by side, one row each.

        Returns
        -------
        pl.DataFrame
            ``name`` (``"range_trading"``, ``"buy_and_hold"``) and one column per
            :class:`PerformanceStats` field.
        """
        rows = [("range_trading", self.strategy), ("buy_and_hold", self.buy_and_hold)]
        return pl.DataFrame([{"name": name, **asdict(stats)} for name, stats in rows])


def _check_cost(cost_bp: object) -> float:
    if isinstance(cost_bp, bool) or not isinstance(
        cost_bp, int | float | np.integer | np.floating
    ):
        msg = (
            f"`cost_bp` must be a number of basis points (5 for 0.05%); got {cost_bp!r}"
        )
        raise MethodologyError(msg)
    cost = float(cost_bp)
    if not (np.isfinite(cost) and 0.0 <= cost < 10_000.0):
        msg = f"`cost_bp` must be in [0, 10000) basis points per trade; got {cost_bp!r}"
        raise MethodologyError(msg)
    return cost / 10_000.0


def _stats(
    equity: FloatArray,
    long: FloatArray,
    trades: int,
    hit_rate: float,
    periods_per_year: float,
) -> PerformanceStats:
    """Statistics of ``equity`` (first value the start) with ``long`` per period."""
    returns = equity[1:] / equity[:-1] - 1.0
    return PerformanceStats(
        total_return=float(equity[-1] / equity[0] - 1.0),
        annualized_return=annualized_return(returns, periods_per_year=periods_per_year),
        annualized_volatility=annualized_volatility(
            returns, periods_per_year=periods_per_year, ddof=1
        ),
        max_drawdown=max_drawdown(equity),
        trades=trades,
        hit_rate=hit_rate,
        exposure=float(long.mean()) if long.size else float("nan"),
    )


def range_trading_backtest(
    high: ArrayInput,
    low: ArrayInput,
    close: ArrayInput,
    sessions: SessionsInput,
    *,
    rule: RangeRule | None = None,
    entry_band: float = 0.01,
    exit_band: float = 0.01,
    breakout: float = 0.02,
    cost_bp: float = 5.0,
    periods_per_year: float = 252,
) -> BacktestResult:
    """Backtest the range-trading strategy of the module notes on one index.

    Parameters
    ----------
    high, low, close : array-like or pl.Series
        Bars of equal length, ``low <= close <= high``; pass the close as all
        three for a close-only series. Leading missing values are a warm-up.
    sessions : pl.Series or sequence of dates
        One label per bar, strictly increasing.
    rule : RangeRule, optional
        Range detection (default :class:`~r2k.analytics.ranges.RangeRule()`).
    entry_band : float, default 0.01
        Buy when the close is at most this fraction above support (1%, a sixth
        of the default 6% maximum channel width).
    exit_band : float, default 0.01
        Sell when the close is at least ``resistance * (1 - exit_band)``.
    breakout : float, default 0.02
        Sell when the close is more than this fraction beyond support or
        resistance (about one and a half daily standard deviations of RUT).
    cost_bp : float, default 5.0
        Cost of each buy and each sell, in basis points of the traded value.
    periods_per_year : float, default 252
        Sessions per year, for the annualised statistics.

    Returns
    -------
    BacktestResult
        The trades, the daily signals, positions and equity, and the
        statistics of the strategy and of buy and hold.

    Raises
    ------
    SchemaError
        If the bars are not aligned, positive and consistent, or ``sessions``
        does not match them.
    MethodologyError
        If a band, ``breakout``, ``cost_bp`` or ``periods_per_year`` is out of
        range.
    """
    r = RangeRule() if rule is None else rule
    enter = check_fraction(entry_band, "entry_band", allow_zero=True)
    leave = check_fraction(exit_band, "exit_band", allow_zero=True)
    stop = check_fraction(breakout, "breakout", allow_zero=True)
    cost = _check_cost(cost_bp)
    ppy = check_periods_per_year(periods_per_year)
    h, lo, c, start = _bars(high, low, close)
    labels = parse_sessions(sessions, c.size)
    n = c.size
    if n - start < 2:
        msg = (
            f"`close` has {n - start} value(s) after its warm-up; a backtest needs "
            "at least two sessions (and a range-bound one to trade)"
        )
        raise SchemaError(msg)
    columns, flag = _votes(h, lo, c, start, r)
    support, resistance = columns["support"], columns["resistance"]

    signal = np.zeros(n, dtype=np.int8)
    position = np.zeros(n, dtype=np.int8)
    traded = np.zeros(n, dtype=np.bool_)
    trades: list[tuple[int, int, float, float, str]] = []
    long, pending, entry = False, 0, 0
    s_level = r_level = 0.0
    next_levels = (0.0, 0.0)
    reason = ""
    # One pass in time order: execute yesterday's order at today's close, then
    # read today's close for a new signal. Nothing after t is read at t.
    for t in range(start, n):
        if pending > 0:
            long, entry, traded[t] = True, t, True
            s_level, r_level = next_levels
        elif pending < 0:
            long, traded[t] = False, True
            trades.append((entry, t, s_level, r_level, reason))
        pending = 0
        position[t] = long
        ct = float(c[t])
        if long:
            if ct < s_level * (1.0 - stop):
                reason = "breakout_down"
            elif ct > r_level * (1.0 + stop):
                reason = "breakout_up"
            elif ct >= r_level * (1.0 - leave):
                reason = "target"
            else:
                continue
            pending = -1
        elif (
            flag[t]
            and ct <= support[t] * (1.0 + enter)
            and ct < resistance[t] * (1.0 - leave)
        ):
            pending, next_levels = 1, (float(support[t]), float(resistance[t]))
        else:
            continue
        signal[t] = pending
    if long:
        trades.append((entry, n - 1, s_level, r_level, "open"))

    equity = nan_array(n)
    hold = nan_array(n)
    growth = np.ones(n - start)
    growth[1:] = 1.0 + position[start:-1] * (c[start + 1 :] / c[start:-1] - 1.0)
    growth *= np.where(traded[start:], 1.0 - cost, 1.0)
    equity[start:] = np.cumprod(growth)
    hold[start:] = c[start:] / c[start]

    entries = np.array([tr[0] for tr in trades], dtype=np.int64)
    exits = np.array([tr[1] for tr in trades], dtype=np.int64)
    reasons = [tr[4] for tr in trades]
    closed = np.array([why != "open" for why in reasons], dtype=np.bool_)
    gross = c[exits] / c[entries]
    net = gross * (1.0 - cost) ** np.where(closed, 2, 1) - 1.0
    trade_table = pl.DataFrame(
        {
            "entry_session": labels.gather(entries),
            "entry_level": c[entries],
            "exit_session": labels.gather(exits),
            "exit_level": c[exits],
            "sessions_held": exits - entries,
            "support": np.array([tr[2] for tr in trades], dtype=np.float64),
            "resistance": np.array([tr[3] for tr in trades], dtype=np.float64),
            "return": net,
            "reason": pl.Series(reasons, dtype=pl.String),
        },
        schema_overrides={k: v for k, v in TRADES.items() if not k.endswith("session")},
    )
    daily = pl.DataFrame(
        {
            "session": labels,
            "close": c,
            "range_bound": flag,
            "support": support,
            "resistance": resistance,
            "signal": signal,
            "position": position,
            "equity": equity,
            "buy_and_hold": hold,
        }
    ).with_columns(
        pl.col("close", "support", "resistance", "equity", "buy_and_hold").fill_nan(
            None
        )
    )
    tail = slice(start, n)
    held = position[start : n - 1].astype(np.float64)
    hit = float((net[closed] > 0.0).mean()) if closed.any() else float("nan")
    strategy = _stats(equity[tail], held, len(trades), hit, ppy)
    benchmark = _stats(hold[tail], np.ones(held.size), 1, float(hold[-1] > 1.0), ppy)
    return BacktestResult(
        trades=trade_table, daily=daily, strategy=strategy, buy_and_hold=benchmark
    )
