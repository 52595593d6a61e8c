"""Range-bound (sideways) periods, and support and resistance from price pivots.

Detection
---------
Three indicators from :mod:`~r2k.analytics.range_bound` each cast a vote at
every session, from trailing windows that end at that session (so the signal at
session *t* uses data up to *t* only and can be traded):

* *choppy*: Choppiness Index over ``chop_period`` bars above ``chop_threshold``
  (Dreiss's 61.8; near 100 the path wanders, near 0 it trends);
* *congested*: Vertical Horizontal Filter over ``vhf_period`` closes below
  ``vhf_threshold`` (White: low VHF is congestion, high VHF a trend);
* *narrow*: Donchian channel width over ``channel_period`` bars, ``(highest high
  - lowest low) / midpoint``, below ``width_threshold``.

A session is *range-bound* when at least ``votes`` of the three hold (default 2,
a majority: one indicator alone is noisy, and CHOP above 61.8 is rare on daily
RUT bars, 4% of sessions). A window whose high-low span is zero (CHOP
undefined) counts as choppy and one without any change (VHF undefined) as
congested: a flat series is as sideways as it gets. No session votes before
every indicator has a full window (the warm-up, :attr:`RangeRule.warm_up`).

A *range-bound period* is a run of at least ``min_length`` consecutive
range-bound sessions. Periods are descriptive: the run's end is known only
afterwards. Their support and resistance come from the bars of the period:

* ``support_rule="extremes"`` (default): the lowest low and the highest high of
  the period, the box that contains every bar of it;
* ``support_rule="pivots"``: the median low of the period's swing lows and the
  median high of its swing highs (:func:`pivots`, ``left = right =
  pivot_span``), which ignores a single spike; a period without a swing low or
  a swing high, or whose medians cross, falls back to the extremes.

Defaults
--------
:class:`RangeRule` defaults are the indicators' textbook periods (CHOP 14, VHF
28, Donchian 20) and thresholds set on daily RUT since 1987: VHF below 0.30 (its
40th percentile) and a 20-session channel narrower than 6% of its midpoint (its
30th percentile). Together with the 61.8 CHOP line and two votes, about a fifth
of RUT sessions are range-bound, in some sixty periods of ten sessions or more.

Close-only series work too: pass the close as ``high`` and ``low``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from r2k._typing import SupportRule
from r2k.analytics._inputs import check_choice, check_period, parse_aligned
from r2k.analytics._periods import check_fraction, parse_sessions, runs
from r2k.analytics.range_bound import (
    choppiness_index,
    donchian_channel,
    vertical_horizontal_filter,
)
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    import numpy.typing as npt

    from r2k.analytics._inputs import ArrayInput, FloatArray
    from r2k.analytics._periods import BoolArray, IntArray, SessionsInput

__all__ = [
    "SUPPORT_RULES",
    "Pivots",
    "RangeRule",
    "SupportRule",
    "pivots",
    "range_periods",
    "range_signals",
]

SUPPORT_RULES: tuple[SupportRule, ...] = ("extremes", "pivots")


@dataclass(frozen=True, slots=True)
class RangeRule:
    """How range-bound sessions and periods are detected (see the module notes).

    Parameters
    ----------
    chop_period : int, default 14
        Bars of the Choppiness Index window (>= 2).
    chop_threshold : float, default 61.8
        CHOP above this votes *choppy* (0-100 scale).
    vhf_period : int, default 28
        Closes of the Vertical Horizontal Filter window (>= 1).
    vhf_threshold : float, default 0.30
        VHF below this votes *congested* (a fraction in (0, 1)).
    channel_period : int, default 20
        Bars of the Donchian channel, current bar included (>= 1).
    width_threshold : float, default 0.06
        Channel width over its midpoint below this votes *narrow* (a fraction).
    votes : int, default 2
        Votes out of three that make a session range-bound (1, 2 or 3).
    min_length : int, default 10
        Fewest consecutive range-bound sessions that make a period (>= 1).
    """

    chop_period: int = 14
    chop_threshold: float = 61.8
    vhf_period: int = 28
    vhf_threshold: float = 0.30
    channel_period: int = 20
    width_threshold: float = 0.06
    votes: int = 2
    min_length: int = 10

    def __post_init__(self) -> None:
        check_period(self.chop_period, "chop_period", minimum=2)
        check_period(self.vhf_period, "vhf_period")
        check_period(self.channel_period, "channel_period")
        check_period(self.min_length, "min_length")
        votes = check_period(self.votes, "votes")
        if votes > 3:
            msg = f"`votes` must be 1, 2 or 3 (out of three indicators); got {votes}"
            raise MethodologyError(msg)
        chop = self.chop_threshold
        if isinstance(chop, bool) or not isinstance(chop, int | float):
            msg = f"`chop_threshold` must be a number on the 0-100 scale; got {chop!r}"
            raise MethodologyError(msg)
        if not 0.0 < float(chop) < 100.0:
            msg = (
                f"`chop_threshold` must lie strictly between 0 and 100 (61.8 is "
                f"the usual choppy line); got {chop!r}"
            )
            raise MethodologyError(msg)
        check_fraction(self.vhf_threshold, "vhf_threshold")
        check_fraction(self.width_threshold, "width_threshold", upper=2.0)

    @property
    def warm_up(self) -> int:
        """Position of the first session at which all three indicators exist."""
        return max(self.chop_period - 1, self.vhf_period, self.channel_period - 1)


@dataclass(frozen=True, slots=True)
class Pivots:
    """Swing highs and lows of a bar series, and the levels around the last close.

    Attributes
    ----------
    table : pl.DataFrame
        One row per pivot in time order: ``position`` (offset into the input),
        ``kind`` (``"high"`` or ``"low"``; an outside bar can be both),
        ``level`` (the bar's high or low) and ``confirmed_at`` (``position +
        right``, the first session at which the pivot is known).
    support : float
        The highest swing low at or below the last close (NaN if none).
    resistance : float
        The lowest swing high at or above the last close (NaN if none).
    """

    table: pl.DataFrame
    support: float
    resistance: float


def _bars(
    high: ArrayInput, low: ArrayInput, close: ArrayInput
) -> tuple[FloatArray, FloatArray, FloatArray, int]:
    (h, lo, c), start = parse_aligned(
        {"high": high, "low": low, "close": close},
        positive=("high", "low", "close"),
    )
    bad = (h[start:] < lo[start:]) | (c[start:] > h[start:]) | (c[start:] < lo[start:])
    if bad.any():
        pos = start + int(np.argmax(bad))
        msg = (
            f"bar at position {pos} has high {h[pos]}, low {lo[pos]}, close "
            f"{c[pos]}: need low <= close <= high (pass the close as `high` and "
            "`low` for a close-only series)"
        )
        raise SchemaError(msg)
    return h, lo, c, start


def _swings(values: FloatArray, left: int, right: int, *, high: bool) -> IntArray:
    """Positions that beat the ``left`` bars before and match the ``right`` after.

    A swing high is strictly above every one of the ``left`` previous highs and
    at least every one of the ``right`` next highs (so a flat top yields one
    pivot, its first bar); a swing low mirrors it.
    """
    n = values.size
    if n < left + right + 1:
        return np.empty(0, dtype=np.int64)
    sign = 1.0 if high else -1.0
    v = sign * values
    centre = v[left : n - right]
    before = sliding_window_view(v[: n - right - 1], left).max(axis=1)
    after = sliding_window_view(v[left + 1 :], right).max(axis=1)
    hits = (centre > before) & (centre >= after)
    return (np.flatnonzero(hits) + left).astype(np.int64)


def pivots(
    high: ArrayInput,
    low: ArrayInput,
    close: ArrayInput,
    *,
    left: int = 5,
    right: int = 5,
) -> Pivots:
    """Swing highs and lows (price pivots) and the support/resistance they give.

    A bar is a *swing high* if its high is strictly above the highs of the
    ``left`` bars before it and at least the highs of the ``right`` bars after
    it (Bill Williams' fractal with ``left = right = 2``; the default 5/5 is a
    trading week either side). A *swing low* mirrors it on the lows. A pivot is
    known only ``right`` bars after it (``confirmed_at``).

    Parameters
    ----------
    high, low, close : array-like or pl.Series
        Bars of equal length, ``low <= close <= high``; pass the close as all
        three for a close-only series. Leading missing values are a warm-up.
    left, right : int, default 5
        Bars before (>= 1) and after (>= 1) a pivot that it must dominate.

    Returns
    -------
    Pivots
        The pivot table; ``support``, the highest swing low at or below the
        last close, and ``resistance``, the lowest swing high at or above it
        (NaN when there is none), so ``support <= close <= resistance``.

    Raises
    ------
    SchemaError
        If the bars are not aligned, positive and consistent.
    MethodologyError
        If ``left`` or ``right`` is not an integer of at least 1.

    Examples
    --------
    >>> c = [10.0, 11, 12, 11, 10, 9, 10, 11, 10]
    >>> p = pivots(c, c, c, left=2, right=2)
    >>> p.table.rows()
    [(2, 'high', 12.0, 4), (5, 'low', 9.0, 7)]
    >>> p.support, p.resistance
    (9.0, 12.0)
    """
    lf = check_period(left, "left")
    rt = check_period(right, "right")
    h, lo, c, start = _bars(high, low, close)
    tops = _swings(h[start:], lf, rt, high=True) + start
    bottoms = _swings(lo[start:], lf, rt, high=False) + start
    table = (
        pl.DataFrame(
            {
                "position": np.concatenate((tops, bottoms)),
                "kind": ["high"] * tops.size + ["low"] * bottoms.size,
                "level": np.concatenate((h[tops], lo[bottoms])),
            },
            schema={"position": pl.Int64, "kind": pl.String, "level": pl.Float64},
        )
        .with_columns(confirmed_at=pl.col("position") + rt)
        .sort("position", "kind")
    )
    last = c[-1] if c.size > start else np.nan
    below = lo[bottoms][lo[bottoms] <= last]
    above = h[tops][h[tops] >= last]
    return Pivots(
        table=table,
        support=float(below.max()) if below.size else float("nan"),
        resistance=float(above.min()) if above.size else float("nan"),
    )


def _votes(
    h: FloatArray, lo: FloatArray, c: FloatArray, start: int, rule: RangeRule
) -> tuple[dict[str, npt.NDArray[Any]], BoolArray]:
    """The three indicators, their votes and the range-bound flag (causal)."""
    n = c.size
    chop = choppiness_index(h, lo, c, rule.chop_period)
    vhf = vertical_horizontal_filter(c, rule.vhf_period)
    channel = donchian_channel(h, lo, rule.channel_period, include_current=True)
    width = (channel.upper - channel.lower) / channel.middle
    ready = np.arange(n) >= start + rule.warm_up
    choppy = ready & np.where(np.isnan(chop), True, chop > rule.chop_threshold)
    congested = ready & np.where(np.isnan(vhf), True, vhf < rule.vhf_threshold)
    narrow = ready & (width < rule.width_threshold)
    votes = choppy.astype(np.int64) + congested + narrow
    flag: BoolArray = ready & (votes >= rule.votes)
    columns: dict[str, npt.NDArray[Any]] = {
        "chop": chop,
        "vhf": vhf,
        "width": width,
        "support": channel.lower,
        "resistance": channel.upper,
        "choppy": choppy,
        "congested": congested,
        "narrow": narrow,
        "votes": votes,
        "range_bound": flag,
    }
    return columns, flag


def range_signals(
    high: ArrayInput,
    low: ArrayInput,
    close: ArrayInput,
    *,
    rule: RangeRule | None = None,
) -> pl.DataFrame:
    """Indicators, votes and the range-bound flag at every session (causal).

    Parameters
    ----------
    high, low, close : array-like or pl.Series
        Bars of equal length, ``low <= close <= high``; pass the close as all
        three for a close-only series. Leading missing values are a warm-up.
    rule : RangeRule, optional
        Periods, thresholds and votes (default :class:`RangeRule()`).

    Returns
    -------
    pl.DataFrame
        One row per input position: ``chop``, ``vhf``, ``width`` (channel width
        over midpoint), ``support`` and ``resistance`` (the Donchian channel's
        lowest low and highest high over ``channel_period`` bars ending at the
        session), the votes ``choppy``, ``congested``, ``narrow``, their count
        ``votes`` and ``range_bound``. Row *t* uses bars up to *t* only.
        Indicators are null during their warm-up; votes are ``False`` until
        every indicator exists.

    Raises
    ------
    SchemaError
        If the bars are not aligned, positive and consistent.
    """
    r = RangeRule() if rule is None else rule
    h, lo, c, start = _bars(high, low, close)
    columns, _ = _votes(h, lo, c, start, r)
    return pl.DataFrame(columns).with_columns(
        pl.col("chop", "vhf", "width", "support", "resistance").fill_nan(None)
    )


def range_periods(
    high: ArrayInput,
    low: ArrayInput,
    close: ArrayInput,
    sessions: SessionsInput,
    *,
    rule: RangeRule | None = None,
    support_rule: SupportRule = "extremes",
    pivot_span: int = 3,
) -> pl.DataFrame:
    """Range-bound periods: runs of range-bound sessions with support/resistance.

    Parameters
    ----------
    high, low, close : array-like or pl.Series
        Bars of equal length, ``low <= close <= high``; pass the close as all
        three for a close-only series. Leading missing values are a warm-up.
    sessions : pl.Series or sequence of dates
        One label per bar, strictly increasing.
    rule : RangeRule, optional
        Detection rule (default :class:`RangeRule()`).
    support_rule : {"extremes", "pivots"}, default "extremes"
        ``"extremes"``: lowest low and highest high of the period;
        ``"pivots"``: median of the period's swing lows and swing highs (see the
        module notes), falling back to the extremes.
    pivot_span : int, default 3
        ``left`` and ``right`` of :func:`pivots` for ``support_rule="pivots"``.

    Returns
    -------
    pl.DataFrame
        One row per period in time order: ``start_session``, ``end_session``
        (both range-bound), ``length_sessions`` (sessions in the period,
        inclusive), ``support``, ``resistance`` (``support <= resistance``) and
        ``ongoing`` (the period runs to the last session). Periods do not
        overlap.

    Raises
    ------
    SchemaError
        If the bars are not aligned, positive and consistent, or ``sessions``
        does not match them.
    MethodologyError
        If ``support_rule`` or ``pivot_span`` is not valid.
    """
    r = RangeRule() if rule is None else rule
    how = check_choice(support_rule, "support_rule", SUPPORT_RULES)
    span = check_period(pivot_span, "pivot_span")
    h, lo, c, start = _bars(high, low, close)
    labels = parse_sessions(sessions, c.size)
    _, flag = _votes(h, lo, c, start, r)
    first, last = runs(flag)
    keep = last - first + 1 >= r.min_length
    first, last = first[keep], last[keep]
    support = np.array([lo[a : b + 1].min() for a, b in zip(first, last, strict=True)])
    resistance = np.array(
        [h[a : b + 1].max() for a, b in zip(first, last, strict=True)]
    )
    if how == "pivots" and first.size:
        table = pivots(h, lo, c, left=span, right=span).table
        pos = table.get_column("position").to_numpy()
        level = table.get_column("level").to_numpy()
        is_low = (table.get_column("kind") == "low").to_numpy()
        for k, (a, b) in enumerate(zip(first, last, strict=True)):
            inside = (pos >= a) & (pos <= b)
            lows, highs = level[inside & is_low], level[inside & ~is_low]
            if lows.size and highs.size:
                s, t = float(np.median(lows)), float(np.median(highs))
                if s <= t:
                    support[k], resistance[k] = s, t
    return pl.DataFrame(
        {
            "start_session": labels.gather(first),
            "end_session": labels.gather(last),
            "length_sessions": last - first + 1,
            "support": support,
            "resistance": resistance,
            "ongoing": last == c.size - 1,
        },
        schema_overrides={
            "length_sessions": pl.Int64,
            "support": pl.Float64,
            "resistance": pl.Float64,
            "ongoing": pl.Boolean,
        },
    )
