"""The performance and risk figures of an index factsheet, from a level series.

:func:`factsheet` turns one daily level series into the tables index providers
print on a factsheet:

* **performance**: cumulative return over 1M, 3M, YTD, 1Y, 3Y, 5Y, 10Y and since
  the start, and the annualised return of the periods of a year or more;
* **calendar-year returns**;
* **risk** over 1Y, 3Y, 5Y, 10Y and since the start: annualised volatility,
  Sharpe and Sortino ratios, maximum drawdown.

Conventions (all parameters or stated here, never implied)
-----------------------------------------------------------
* A trailing period of ``m`` months ending on the last session ``T`` starts at
  the close of the last session on or before the same calendar day ``m`` months
  earlier (the day clipped to the month's end: 31 March minus one month is
  28/29 February). The period is unavailable (``None``) when the series starts
  after that day. YTD starts at the last session of the previous calendar year;
  "since start" at the first session.
* Cumulative return: ``level(T) / level(base) - 1``. Annualised return, for
  periods of at least a year: ``(1 + cumulative) ** (1 / years) - 1`` with
  ``years = months / 12`` (``(T - first).days / 365.25`` since the start).
* Risk uses the simple returns of consecutive sessions inside the period, with
  ``periods_per_year`` (252) and ``ddof`` (1). Volatility:
  ``std(r, ddof) * sqrt(252)``. Sharpe: ``mean(r - rf) / std(r - rf, ddof) *
  sqrt(252)`` (:func:`r2k.analytics.sharpe_ratio`). Sortino:
  ``mean(r - rf) / sqrt(mean(min(r - rf, 0) ** 2)) * sqrt(252)`` (downside
  deviation over every return, target ``rf``). ``rf`` is
  ``risk_free_rate / periods_per_year`` per session (default 0). Maximum
  drawdown: the deepest fall from a running high of the period's levels,
  base level included (negative).
* Calendar-year return: the year's last level over the previous year's last
  level (the first year: over the first level), ``complete`` is ``False`` for a
  year the series does not cover from its start to its end.

Nothing is rounded. NaN never leaves :meth:`Factsheet.to_dict` (it is ``None``).

Examples
--------
>>> from datetime import date
>>> frame = pl.DataFrame(
...     {"session": [date(2023, 12, 29), date(2024, 1, 29), date(2024, 2, 29)],
...      "level": [100.0, 110.0, 99.0]}
... )
>>> f = factsheet(frame, name="toy")
>>> round(f.period("1M").cumulative, 6), round(f.period("YTD").cumulative, 6)
(-0.1, -0.01)
>>> f.period("1Y").cumulative is None
True
"""

from __future__ import annotations

import math
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any, Final

import numpy as np
import polars as pl

from r2k import analytics
from r2k.errors import MissingDataError, SchemaError

__all__ = [
    "PERFORMANCE_PERIODS",
    "RISK_PERIODS",
    "CalendarYear",
    "Factsheet",
    "PeriodReturn",
    "PeriodRisk",
    "factsheet",
    "months_before",
    "sortino_ratio",
]

#: Trailing periods of the performance table: label -> months (None: special).
PERFORMANCE_PERIODS: Final[tuple[tuple[str, int | None], ...]] = (
    ("1M", 1),
    ("3M", 3),
    ("YTD", None),
    ("1Y", 12),
    ("3Y", 36),
    ("5Y", 60),
    ("10Y", 120),
    ("Since start", None),
)
#: Periods of the risk table.
RISK_PERIODS: Final[tuple[tuple[str, int | None], ...]] = (
    ("1Y", 12),
    ("3Y", 36),
    ("5Y", 60),
    ("10Y", 120),
    ("Since start", None),
)
_DAYS_PER_YEAR: Final = 365.25


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodReturn:
    """One row of the performance table.

    Attributes
    ----------
    period : str
        ``"1M"``, ``"3M"``, ``"YTD"``, ``"1Y"``, ``"3Y"``, ``"5Y"``, ``"10Y"`` or
        ``"Since start"``.
    base_session : date or None
        The session whose close the period starts from (None: unavailable).
    cumulative : float or None
        ``level(end) / level(base) - 1``.
    annualized : float or None
        For periods of a year or more.
    """

    period: str
    base_session: date | None
    cumulative: float | None
    annualized: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodRisk:
    """One row of the risk table (None where the period is unavailable).

    Attributes
    ----------
    period : str
        ``"1Y"``, ``"3Y"``, ``"5Y"``, ``"10Y"`` or ``"Since start"``.
    base_session : date or None
        First level of the period.
    returns : int
        Daily returns in the period.
    volatility, sharpe, sortino, max_drawdown : float or None
        Annualised volatility, Sharpe and Sortino ratios, maximum drawdown.
    """

    period: str
    base_session: date | None
    returns: int
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarYear:
    """One calendar year's return."""

    year: int
    first_session: date
    last_session: date
    value: float
    complete: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Factsheet:
    """What :func:`factsheet` returns.

    Attributes
    ----------
    name : str
        Label of the series.
    first_session, as_of : date
        First and last session of the series.
    first_level, last_level : float
        Their levels.
    risk_free_rate, periods_per_year, ddof : float, float, int
        The conventions used.
    performance : tuple of PeriodReturn
        In the order of :data:`PERFORMANCE_PERIODS`.
    risk : tuple of PeriodRisk
        In the order of :data:`RISK_PERIODS`.
    calendar_years : tuple of CalendarYear
        Oldest first.
    """

    name: str
    first_session: date
    as_of: date
    first_level: float
    last_level: float
    risk_free_rate: float
    periods_per_year: float
    ddof: int
    performance: tuple[PeriodReturn, ...]
    risk: tuple[PeriodRisk, ...]
    calendar_years: tuple[CalendarYear, ...]

    def period(self, label: str) -> PeriodReturn:
        """The performance row ``label`` (``"1Y"``)."""
        for row in self.performance:
            if row.period == label:
                return row
        msg = f"no period {label!r}; use one of {[p for p, _ in PERFORMANCE_PERIODS]}"
        raise MissingDataError(msg)

    def risk_of(self, label: str) -> PeriodRisk:
        """The risk row ``label`` (``"3Y"``)."""
        for row in self.risk:
            if row.period == label:
                return row
        msg = f"no risk period {label!r}; use one of {[p for p, _ in RISK_PERIODS]}"
        raise MissingDataError(msg)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: ISO dates, unrounded floats, NaN as ``None``."""

        def iso(d: date | None) -> str | None:
            return d.isoformat() if d is not None else None

        return {
            "name": self.name,
            "first_session": iso(self.first_session),
            "as_of": iso(self.as_of),
            "first_level": _finite(self.first_level),
            "last_level": _finite(self.last_level),
            "risk_free_rate": self.risk_free_rate,
            "periods_per_year": self.periods_per_year,
            "ddof": self.ddof,
            "performance": [
                {
                    "period": p.period,
                    "base_session": iso(p.base_session),
                    "cumulative": _finite(p.cumulative),
                    "annualized": _finite(p.annualized),
                }
                for p in self.performance
            ],
            "risk": [
                {
                    "period": r.period,
                    "base_session": iso(r.base_session),
                    "returns": r.returns,
                    "volatility": _finite(r.volatility),
                    "sharpe": _finite(r.sharpe),
                    "sortino": _finite(r.sortino),
                    "max_drawdown": _finite(r.max_drawdown),
                }
                for r in self.risk
            ],
            "calendar_years": [
                {
                    "year": y.year,
                    "first_session": iso(y.first_session),
                    "last_session": iso(y.last_session),
                    "return": _finite(y.value),
                    "complete": y.complete,
                }
                for y in self.calendar_years
            ],
        }


def months_before(day: date, months: int) -> date:
    """``day`` moved back ``months`` calendar months, clipped to the month's end.

    >>> months_before(date(2024, 3, 31), 1)
    datetime.date(2024, 2, 29)
    >>> months_before(date(2024, 1, 15), 12)
    datetime.date(2023, 1, 15)
    """
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def sortino_ratio(
    returns: np.ndarray[Any, np.dtype[np.float64]],
    *,
    risk_free: float = 0.0,
    periods_per_year: float = 252.0,
) -> float:
    """Mean excess return over the downside deviation, annualised.

    ``mean(r - rf) / sqrt(mean(min(r - rf, 0) ** 2)) * sqrt(periods_per_year)``
    with ``rf`` per period; NaN with no return, +/-inf with no downside.

    >>> round(sortino_ratio(np.array([0.02, -0.01, 0.01, -0.02]),
    ...                     periods_per_year=1), 6)
    0.0
    >>> round(sortino_ratio(np.array([0.03, -0.01]), periods_per_year=1), 6)
    1.414214
    """
    if returns.size == 0:
        return float("nan")
    excess = returns - risk_free
    mean = float(excess.mean())
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside == 0.0:
        return float("nan") if mean == 0.0 else float(np.copysign(np.inf, mean))
    return mean / downside * math.sqrt(periods_per_year)


def _base_index(sessions: list[date], anchor: date) -> int | None:
    """Index of the last session on or before ``anchor`` (None if before all)."""
    if anchor < sessions[0]:
        return None
    lo, hi = 0, len(sessions)
    while lo < hi:  # bisect_right
        mid = (lo + hi) // 2
        if sessions[mid] <= anchor:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def _base(sessions: list[date], label: str, months: int | None) -> int | None:
    end = sessions[-1]
    if label == "Since start":
        return 0
    if label == "YTD":
        i = _base_index(sessions, date(end.year - 1, 12, 31))
        return None if i is None or sessions[i].year == end.year else i
    assert months is not None
    return _base_index(sessions, months_before(end, months))


def _years(sessions: list[date], label: str, months: int | None, base: int) -> float:
    if months is not None:
        return months / 12.0
    return (sessions[-1] - sessions[base]).days / _DAYS_PER_YEAR


def factsheet(
    levels: pl.DataFrame,
    *,
    name: str = "index",
    risk_free_rate: float = 0.0,
    periods_per_year: float = 252.0,
    ddof: int = 1,
) -> Factsheet:
    """The factsheet figures of a daily level series.

    Parameters
    ----------
    levels : pl.DataFrame
        ``session`` (Date, strictly increasing) and ``level`` (positive).
    name : str, default "index"
        Label.
    risk_free_rate : float, default 0.0
        Annual risk-free rate (a fraction) for Sharpe and Sortino.
    periods_per_year : float, default 252
        Sessions per year.
    ddof : int, default 1
        Delta degrees of freedom of the volatility and the Sharpe ratio.

    Returns
    -------
    Factsheet
        See the module's conventions.

    Raises
    ------
    SchemaError
        If a column is missing, sessions are not strictly increasing or a level
        is not positive.
    MissingDataError
        With fewer than two sessions.
    """
    missing = [c for c in ("session", "level") if c not in levels.columns]
    if missing:
        msg = f"`levels` lacks column(s) {', '.join(missing)}"
        raise SchemaError(msg)
    frame = levels.select("session", pl.col("level").cast(pl.Float64)).drop_nulls()
    if frame.height < 2:
        msg = f"a factsheet needs at least two sessions; `levels` has {frame.height}"
        raise MissingDataError(msg)
    sessions: list[date] = frame.get_column("session").to_list()
    level = frame.get_column("level").to_numpy()
    if any(b <= a for a, b in pairwise(sessions)):
        msg = "`levels`: sessions must be strictly increasing (sort and deduplicate)"
        raise SchemaError(msg)
    if not bool(np.all(level > 0.0)):
        msg = "`levels`: every level must be positive"
        raise SchemaError(msg)
    last = float(level[-1])
    rf = risk_free_rate / periods_per_year

    performance = []
    for label, months in PERFORMANCE_PERIODS:
        i = _base(sessions, label, months)
        if i is None or i == len(sessions) - 1:
            performance.append(
                PeriodReturn(
                    period=label, base_session=None, cumulative=None, annualized=None
                )
            )
            continue
        cumulative = last / float(level[i]) - 1.0
        years = _years(sessions, label, months, i)
        annualized = (
            (1.0 + cumulative) ** (1.0 / years) - 1.0
            if label not in ("1M", "3M", "YTD") and years >= 1.0
            else None
        )
        performance.append(
            PeriodReturn(
                period=label,
                base_session=sessions[i],
                cumulative=cumulative,
                annualized=annualized,
            )
        )

    risk = []
    for label, months in RISK_PERIODS:
        i = _base(sessions, label, months)
        if i is None or len(sessions) - 1 - i < 2:
            risk.append(
                PeriodRisk(
                    period=label,
                    base_session=None,
                    returns=0,
                    volatility=None,
                    sharpe=None,
                    sortino=None,
                    max_drawdown=None,
                )
            )
            continue
        window = level[i:]
        r = window[1:] / window[:-1] - 1.0
        risk.append(
            PeriodRisk(
                period=label,
                base_session=sessions[i],
                returns=int(r.size),
                volatility=analytics.annualized_volatility(
                    r, periods_per_year=periods_per_year, ddof=ddof
                ),
                sharpe=analytics.sharpe_ratio(
                    r, risk_free=rf, periods_per_year=periods_per_year, ddof=ddof
                ),
                sortino=sortino_ratio(
                    r, risk_free=rf, periods_per_year=periods_per_year
                ),
                max_drawdown=analytics.max_drawdown(window),
            )
        )

    years_frame = (
        frame.group_by(year=pl.col("session").dt.year(), maintain_order=True)
        .agg(
            first=pl.col("session").first(),
            last=pl.col("session").last(),
            level=pl.col("level").last(),
        )
        .sort("year")
    )
    calendar = []
    previous = float(level[0])
    n = years_frame.height
    for k, row in enumerate(years_frame.iter_rows(named=True)):
        first_day, last_day = row["first"], row["last"]
        complete = 0 < k < n - 1 or (
            k == n - 1 and k > 0 and last_day.month == 12 and last_day.day >= 24
        )
        calendar.append(
            CalendarYear(
                year=int(row["year"]),
                first_session=first_day,
                last_session=last_day,
                value=float(row["level"]) / previous - 1.0,
                complete=complete,
            )
        )
        previous = float(row["level"])

    return Factsheet(
        name=name,
        first_session=sessions[0],
        as_of=sessions[-1],
        first_level=float(level[0]),
        last_level=last,
        risk_free_rate=float(risk_free_rate),
        periods_per_year=float(periods_per_year),
        ddof=ddof,
        performance=tuple(performance),
        risk=tuple(risk),
        calendar_years=tuple(calendar),
    )
