"""Rallies: rebounds that follow a decline, found by a zig-zag over the levels.

A *zig-zag* (percentage swing filter; Merrill's "filtered waves", the ``ZigZag``
of charting packages) turns a level series into alternating turning points:
a peak is confirmed once the level has fallen at least ``decline_threshold``
below it, a trough once the level has risen at least ``rally_threshold`` above
it. Between two confirmed turning points each swing therefore exceeds its
threshold, and every peak is the highest level between its neighbouring troughs
(every trough the lowest between its neighbouring peaks).

A *rally* is an up-swing that starts at a trough which itself ended a qualifying
decline: trough -> peak with a gain of at least ``rally_threshold``, preceded by
a peak -> trough fall of at least ``decline_threshold``. The first swing of a
series has no confirmed start (nothing says how far the level had fallen before
the first session), so a series that only rises has no rally. The last
turning point is provisional: a rally still running at the last session ends at
the highest level so far and is marked ``ongoing``.

Conventions
-----------
* Thresholds are fractions (0.10 is 10%), compared on ratios (``level /
  extreme - 1``), so the result does not depend on the scale of the levels.
* Ties: the *first* session at an extreme level is the turning point.
* A turning point is never passed before the next one: if the level goes
  beyond the last peak (trough) before the swing that follows it has met its
  threshold and then that swing extends, the turning point moves there (this
  only matters with unequal thresholds or a shallow dip below a trough).
* Levels are closes (one value per session). Pass the close, not the intraday
  high or low: an intraday extreme is not a level anyone could trade at.
* The table is descriptive: a turning point is known only once the level has
  moved away from it by the threshold, so it is not a trading signal.
* The scan is a single O(n) pass in Python over the levels (a state machine of
  three states: no trend yet, falling, rising); a zig-zag is sequential by
  nature, and 10,000 sessions take a few milliseconds.

Defaults
--------
``decline_threshold=0.10`` and ``rally_threshold=0.10`` are sensible defaults for
RUT since 1987: 10% is the usual definition of a market correction, and close
to two monthly standard deviations of RUT (annualised volatility near 22% since
1987, so about 6% a month), which filters ordinary noise but keeps every
correction and its rebound (58 rallies from 1987 to mid-2026, about three in
two years). In turbulent markets a 10% pull-back ends a rally, so a V-shaped
recovery such as 2020's is split into several rallies; pass ``0.20`` for both
to get bull markets that follow bear markets instead (the usual 20% convention;
17 rallies, among them 2020-03-18 to 2021-11-08, +146%).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from r2k.analytics._inputs import parse
from r2k.analytics._periods import check_fraction, parse_sessions

if TYPE_CHECKING:
    from r2k.analytics._inputs import ArrayInput, FloatArray
    from r2k.analytics._periods import SessionsInput

__all__ = [
    "DEFAULT_DECLINE_THRESHOLD",
    "DEFAULT_RALLY_THRESHOLD",
    "rallies",
    "turning_points",
]

DEFAULT_DECLINE_THRESHOLD = 0.10
"""Fall from a peak that confirms it (a 10% correction)."""
DEFAULT_RALLY_THRESHOLD = 0.10
"""Rise from a trough that confirms it (and makes the rebound a rally)."""


def _zigzag(x: FloatArray, decline: float, rally: float) -> list[tuple[int, bool]]:
    """Alternating turning points of ``x``: (position, is_peak), last provisional.

    One pass over ``x`` (the classic percentage zig-zag, e.g. the ``zigzag``
    package's ``peak_valley_pivots``): ``state`` is 0 before the first turning
    point, -1 while falling from a confirmed peak, +1 while rising from a
    confirmed trough; ``hi``/``lo`` are the running extremes of the current
    swing, ``top``/``bottom`` those since the first level.

    One repair keeps every peak the highest level between its troughs (and every
    trough the lowest between its peaks): ``back`` is the opposite extreme since
    the swing's running extreme. When the swing makes a new extreme, a ``back``
    beyond the last turning point replaces it. This happens with unequal
    thresholds (a 10% fall confirms a peak, then a rise that passes the peak but
    is short of a 20% rally), and when a rise is followed by a dip below its
    trough that is short of a decline and then by a new high.
    """
    values = x.tolist()  # Python floats: a scalar loop is much faster on a list
    n = len(values)
    points: list[tuple[int, bool]] = []
    state, hi, lo, top, bottom, back = 0, 0, 0, 0, 0, -1
    for i in range(1, n):
        v = values[i]
        if v > values[top]:
            top = i
        if v < values[bottom]:
            bottom = i
        if state < 0:
            if v < values[lo]:
                lo = i
                if back >= 0 and values[back] > values[points[-1][0]]:
                    points[-1] = (back, True)
                back = -1
            elif v / values[lo] - 1.0 >= rally:
                points.append((lo, False))
                state, hi, back = 1, i, -1
            elif back < 0 or v > values[back]:
                back = i
        elif state > 0:
            if v > values[hi]:
                hi = i
                if back >= 0 and values[back] < values[points[-1][0]]:
                    points[-1] = (back, False)
                back = -1
            elif v / values[hi] - 1.0 <= -decline:
                points.append((hi, True))
                state, lo, back = -1, i, -1
            elif back < 0 or v < values[back]:
                back = i
        elif v / values[top] - 1.0 <= -decline:
            points.append((top, True))
            state, lo = -1, i
        elif v / values[bottom] - 1.0 >= rally:
            points.append((bottom, False))
            state, hi = 1, i
    if state > 0:
        points.append((hi, True))
    elif state < 0:
        points.append((lo, False))
    return points


def _prepare(
    levels: ArrayInput,
    sessions: SessionsInput,
    decline_threshold: float,
    rally_threshold: float,
) -> tuple[FloatArray, int, pl.Series, list[tuple[int, bool]]]:
    decline = check_fraction(decline_threshold, "decline_threshold")
    rally = check_fraction(rally_threshold, "rally_threshold", upper=np.inf)
    x, start = parse(levels, "levels", positive=True)
    labels = parse_sessions(sessions, x.size)
    points = [(start + p, peak) for p, peak in _zigzag(x[start:], decline, rally)]
    return x, start, labels, points


def turning_points(
    levels: ArrayInput,
    sessions: SessionsInput,
    *,
    decline_threshold: float = DEFAULT_DECLINE_THRESHOLD,
    rally_threshold: float = DEFAULT_RALLY_THRESHOLD,
) -> pl.DataFrame:
    """The zig-zag's alternating peaks and troughs.

    Parameters
    ----------
    levels : array-like or pl.Series
        Strictly positive closing levels, one per session; leading missing
        values are a warm-up and are skipped.
    sessions : pl.Series or sequence of dates
        One label per level, strictly increasing.
    decline_threshold : float, default 0.10
        Fall (a fraction) from a peak that confirms it.
    rally_threshold : float, default 0.10
        Rise (a fraction) from a trough that confirms it.

    Returns
    -------
    pl.DataFrame
        One row per turning point in time order: ``session``, ``position``
        (offset into ``levels``), ``level``, ``kind`` (``"peak"`` or
        ``"trough"``, alternating) and ``confirmed`` (``False`` only for the
        last one, which the level has not yet moved away from by the threshold).
        Empty if the level never moved by a threshold.

    Raises
    ------
    SchemaError
        If ``levels`` is not a gap-free positive series or ``sessions`` does not
        match it.
    MethodologyError
        If a threshold is not a fraction in (0, 1) (the rally threshold may
        exceed 1).

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> days = [date(2024, 1, 1) + timedelta(d) for d in range(5)]
    >>> turning_points([100.0, 80.0, 100.0, 85.0, 90.0], days).select(
    ...     "position", "kind", "confirmed"
    ... ).rows()
    [(0, 'peak', True), (1, 'trough', True), (2, 'peak', True), (3, 'trough', False)]
    """
    x, _, labels, points = _prepare(
        levels, sessions, decline_threshold, rally_threshold
    )
    positions = np.array([p for p, _ in points], dtype=np.int64)
    return pl.DataFrame(
        {
            "session": labels.gather(positions),
            "position": positions,
            "level": x[positions],
            "kind": ["peak" if peak else "trough" for _, peak in points],
            "confirmed": np.arange(positions.size) < positions.size - 1,
        },
        schema_overrides={"position": pl.Int64, "level": pl.Float64},
    )


def rallies(
    levels: ArrayInput,
    sessions: SessionsInput,
    *,
    decline_threshold: float = DEFAULT_DECLINE_THRESHOLD,
    rally_threshold: float = DEFAULT_RALLY_THRESHOLD,
) -> pl.DataFrame:
    """The rally table: every rebound of at least ``rally_threshold`` after a decline.

    Parameters
    ----------
    levels : array-like or pl.Series
        Strictly positive closing levels, one per session; leading missing
        values are a warm-up and are skipped.
    sessions : pl.Series or sequence of dates
        One label per level, strictly increasing.
    decline_threshold : float, default 0.10
        Fall (a fraction) from the preceding peak to the trough, at least; the
        default is a 10% correction, sensible for RUT since 1987 (see the module
        notes).
    rally_threshold : float, default 0.10
        Rise (a fraction) from the trough to the rally's peak, at least.

    Returns
    -------
    pl.DataFrame
        One row per rally, in time order:

        * ``trough_session``, ``trough_level``: where the rally starts;
        * ``peak_session``, ``peak_level``: its highest close before a fall of
          ``decline_threshold`` (or so far, if ``ongoing``);
        * ``gain``: ``peak_level / trough_level - 1`` (>= ``rally_threshold``);
        * ``length_sessions``: sessions from the trough to the peak;
        * ``preceding_peak_session``, ``preceding_peak_level``: the peak the
          decline started from;
        * ``preceding_decline``: ``trough_level / preceding_peak_level - 1``
          (<= ``-decline_threshold``, negative);
        * ``ongoing``: ``True`` if the rally is still running at the last
          session (its peak is provisional).

    Raises
    ------
    SchemaError
        If ``levels`` is not a gap-free positive series or ``sessions`` does not
        match it.
    MethodologyError
        If a threshold is not a fraction in (0, 1) (the rally threshold may
        exceed 1).

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> days = [date(2024, 1, 1) + timedelta(d) for d in range(6)]
    >>> table = rallies([100.0, 80.0, 96.0, 90.0, 99.0, 95.0], days)
    >>> table.select("trough_level", "peak_level", "length_sessions", "ongoing").rows()
    [(80.0, 99.0, 3, True)]
    >>> round(table.item(0, "gain"), 4), round(table.item(0, "preceding_decline"), 4)
    (0.2375, -0.2)
    """
    x, _, labels, points = _prepare(
        levels, sessions, decline_threshold, rally_threshold
    )
    rows = [
        (points[k - 1][0], points[k][0], points[k + 1][0], k + 1 == len(points) - 1)
        for k in range(1, len(points) - 1)
        if not points[k][1]  # a trough with a peak on either side
    ]
    before = np.array([r[0] for r in rows], dtype=np.int64)
    trough = np.array([r[1] for r in rows], dtype=np.int64)
    peak = np.array([r[2] for r in rows], dtype=np.int64)
    return pl.DataFrame(
        {
            "trough_session": labels.gather(trough),
            "trough_level": x[trough],
            "peak_session": labels.gather(peak),
            "peak_level": x[peak],
            "gain": x[peak] / x[trough] - 1.0,
            "length_sessions": peak - trough,
            "preceding_peak_session": labels.gather(before),
            "preceding_peak_level": x[before],
            "preceding_decline": x[trough] / x[before] - 1.0,
            "ongoing": np.array([r[3] for r in rows], dtype=np.bool_),
        },
        schema_overrides={
            "trough_level": pl.Float64,
            "peak_level": pl.Float64,
            "gain": pl.Float64,
            "length_sessions": pl.Int64,
            "preceding_peak_level": pl.Float64,
            "preceding_decline": pl.Float64,
        },
    )
