"""The analysis of an index level series: returns, risk, drawdowns, benchmarks.

:func:`analyze` turns one level series (the real RUT since 1987, or r2k's own
index) into a frozen :class:`Analysis`: the return over the window, annualised
return and volatility, the rolling volatility, the drawdown table, comparisons
with large-cap benchmarks (beta, correlation, up/down capture, the small/large
ratio), rates of change at the end, calendar-year returns, rallies and
range-bound periods. It is built from the plain functions of
:mod:`r2k.analytics`; this module only aligns, windows and labels.

Conventions (all parameters, never implied)
-------------------------------------------
* Returns are simple close-to-close returns of consecutive sessions, as
  fractions; with ``periods_per_year = 252``.
* Annualised return: ``prod(1 + r) ** (252 / n) - 1`` over the ``n`` returns of
  the window (geometric).
* Volatility: sample standard deviation (``ddof = 1``) of the daily returns
  times ``sqrt(252)``; the rolling volatility uses trailing windows of 63
  sessions (a quarter), the same conventions.
* Benchmarks are compared on the sessions both series have (an inner join by
  date inside the window); returns are taken between consecutive common
  sessions, so a session missing from one series never mismatches two returns.
* Rates of change at the end are over 21, 63 and 252 sessions (a month, a
  quarter, a year), in percent, as a fraction and as a ratio, plus momentum in
  index points.
* Nothing is rounded: :meth:`Analysis.to_dict` returns floats as computed
  (rounding happens in rendered tables only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from r2k import analytics
from r2k.analytics.rallies import (
    DEFAULT_DECLINE_THRESHOLD,
    DEFAULT_RALLY_THRESHOLD,
    rallies,
)
from r2k.analytics.ranges import RangeRule, range_periods
from r2k.errors import MissingDataError, SchemaError

if TYPE_CHECKING:
    from r2k.maintenance.engine import Calculation

__all__ = [
    "BENCHMARK_NAMES",
    "PERIODS_PER_YEAR",
    "ROC_PERIODS",
    "VOLATILITY_WINDOW",
    "Analysis",
    "BenchmarkComparison",
    "analyze",
    "r2k_levels",
]

PERIODS_PER_YEAR: Final = 252
"""Sessions per year used to annualise."""
VOLATILITY_WINDOW: Final = 63
"""Sessions in a rolling-volatility window (a quarter)."""
ROC_PERIODS: Final[tuple[int, ...]] = (21, 63, 252)
"""Lookbacks (sessions) of the rates of change: a month, a quarter, a year."""
BENCHMARK_NAMES: Final[dict[str, str]] = {
    "RUT": "Russell 2000",
    "RUA": "Russell 3000",
    "SPX": "S&P 500",
    "r2k": "r2k Russell 2000",
}
"""Display names of the index codes."""

_DRAWDOWN_COLUMNS: Final = pl.Schema(
    {
        "start": pl.Date,
        "trough": pl.Date,
        "recovery": pl.Date,
        "depth": pl.Float64,
        "decline_sessions": pl.Int64,
        "duration_sessions": pl.Int64,
        "recovered": pl.Boolean,
    }
)


def _jsonable(value: object) -> object:
    """``value`` with dates as ISO strings, NaN/inf as ``None``, frames as records."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pl.DataFrame):
        return [_jsonable(row) for row in value.to_dicts()]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchmarkComparison:
    """The index against one benchmark, over the sessions both have.

    Attributes
    ----------
    code : str
        Benchmark code (``"SPX"``, ``"RUA"``, ``"RUT"``).
    name : str
        Display name (``"S&P 500"``).
    first_session, last_session : date or None
        The common span (``None`` when the series do not overlap).
    sessions : int
        Common sessions (returns: one fewer).
    beta, correlation : float
        Of the index's daily returns on the benchmark's.
    up_capture, down_capture : float
        Annualised return of the index on the benchmark's up (down) days over
        the benchmark's own (fractions; 1.0 is all of the move).
    index_annualized_return, benchmark_annualized_return : float
        Over the common span.
    relative_change : float
        Change of the index/benchmark ratio over the common span (> 0: the
        index did better).
    relative_annualized : float
        The same, annualised.
    ratio : pl.DataFrame
        ``session``, ``index``, ``benchmark`` (levels) and ``ratio``
        (index/benchmark, 1.0 at the first common session).
    """

    code: str
    name: str
    first_session: date | None
    last_session: date | None
    sessions: int
    beta: float
    correlation: float
    up_capture: float
    down_capture: float
    index_annualized_return: float
    benchmark_annualized_return: float
    relative_change: float
    relative_annualized: float
    ratio: pl.DataFrame

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        """JSON-ready values; the ratio series only if ``series``."""
        out = {
            name: _jsonable(getattr(self, name))
            for name in (
                "code",
                "name",
                "first_session",
                "last_session",
                "sessions",
                "beta",
                "correlation",
                "up_capture",
                "down_capture",
                "index_annualized_return",
                "benchmark_annualized_return",
                "relative_change",
                "relative_annualized",
            )
        }
        if series:
            out["ratio"] = _jsonable(self.ratio)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    """What :func:`analyze` returns (every float unrounded, returns as fractions).

    Attributes
    ----------
    name : str
        The index analysed.
    start, end : date
        First and last session of the window.
    sessions : int
        Sessions in the window (``sessions - 1`` returns).
    periods_per_year, ddof, volatility_window : float, int, int
        The conventions used.
    first_level, last_level : float
        Levels at ``start`` and ``end``.
    total_return : float
        ``last_level / first_level - 1``.
    annualized_return, annualized_volatility : float
        Geometric annual return and ``std(r, ddof) * sqrt(periods_per_year)``.
    max_drawdown : float
        Deepest fall from a running high (negative).
    daily : pl.DataFrame
        One row per session: ``session``, ``level``, ``return``, ``drawdown``,
        ``rolling_volatility`` (annualised) and ``roc_<p>`` (percent) for each
        rate-of-change period.
    drawdowns : pl.DataFrame
        Every drawdown episode in time order: ``start`` (the high), ``trough``,
        ``recovery`` (first session back at the high, null if not yet),
        ``depth``, ``decline_sessions`` (start to trough),
        ``duration_sessions`` (start to recovery, or to the end) and
        ``recovered``.
    rate_of_change : pl.DataFrame
        One row per period at ``end``: ``period``, ``from_session``,
        ``from_level``, ``percent``, ``fraction``, ``ratio``, ``momentum``
        (points); null when the window is shorter than the period.
    yearly : pl.DataFrame
        Calendar-year returns: ``year``, ``first_session``, ``last_session``,
        ``sessions``, ``return`` (from the previous year's last level; the
        first year from ``first_level``) and ``complete`` (``False`` for the
        first and last year of the window).
    benchmarks : tuple of BenchmarkComparison
        One per benchmark, in the order given.
    rallies : pl.DataFrame
        The rally table of :func:`r2k.analytics.rallies.rallies`.
    ranges : pl.DataFrame
        The range-bound periods of :func:`r2k.analytics.ranges.range_periods`.
    decline_threshold, rally_threshold : float
        Thresholds of the rally table.
    bars : str
        ``"high-low-close"`` or ``"close"``: the bars the range detection used.
    notes : tuple of str
        What the analysis could not do and why (a benchmark with no overlap).
    """

    name: str
    start: date
    end: date
    sessions: int
    periods_per_year: float
    ddof: int
    volatility_window: int
    first_level: float
    last_level: float
    total_return: float
    annualized_return: float
    annualized_volatility: float
    max_drawdown: float
    daily: pl.DataFrame
    drawdowns: pl.DataFrame
    rate_of_change: pl.DataFrame
    yearly: pl.DataFrame
    benchmarks: tuple[BenchmarkComparison, ...]
    rallies: pl.DataFrame
    ranges: pl.DataFrame
    decline_threshold: float
    rally_threshold: float
    bars: str
    notes: tuple[str, ...]

    @property
    def deepest_drawdown(self) -> dict[str, Any] | None:
        """The row of :attr:`drawdowns` with the deepest ``depth`` (None if none)."""
        if self.drawdowns.height == 0:
            return None
        return self.drawdowns.sort("depth").row(0, named=True)

    @property
    def last_rolling_volatility(self) -> float:
        """The rolling volatility at ``end`` (NaN while the window is too short)."""
        value = self.daily.get_column("rolling_volatility")[-1]
        return float("nan") if value is None else float(value)

    def benchmark(self, code: str) -> BenchmarkComparison:
        """The comparison with benchmark ``code``.

        Raises
        ------
        MissingDataError
            If ``code`` was not among the benchmarks.
        """
        for b in self.benchmarks:
            if b.code == code:
                return b
        codes = ", ".join(b.code for b in self.benchmarks) or "none"
        msg = f"no benchmark {code!r} in this analysis (benchmarks: {codes})"
        raise MissingDataError(msg)

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        """JSON-ready values: ISO dates, unrounded floats, NaN as ``None``.

        Parameters
        ----------
        series : bool, default False
            Include the per-session series (``daily`` and each benchmark's
            ratio); the tables (drawdowns, rates of change, years, rallies,
            ranges) are always included.

        Returns
        -------
        dict
            A mapping that ``json.dumps`` accepts as it is.
        """
        scalars = (
            "name",
            "start",
            "end",
            "sessions",
            "periods_per_year",
            "ddof",
            "volatility_window",
            "first_level",
            "last_level",
            "total_return",
            "annualized_return",
            "annualized_volatility",
            "max_drawdown",
            "decline_threshold",
            "rally_threshold",
            "bars",
        )
        out: dict[str, Any] = {k: _jsonable(getattr(self, k)) for k in scalars}
        out["last_rolling_volatility"] = _jsonable(self.last_rolling_volatility)
        out["deepest_drawdown"] = _jsonable(self.deepest_drawdown)
        out["rate_of_change"] = _jsonable(self.rate_of_change)
        out["benchmarks"] = [b.to_dict(series=series) for b in self.benchmarks]
        out["yearly"] = _jsonable(self.yearly)
        out["drawdowns"] = _jsonable(self.drawdowns)
        out["rallies"] = _jsonable(self.rallies)
        out["ranges"] = _jsonable(self.ranges)
        out["notes"] = list(self.notes)
        if series:
            out["daily"] = _jsonable(self.daily)
        return out


def _window(
    frame: pl.DataFrame, what: str, start: date | None, end: date | None
) -> pl.DataFrame:
    missing = [c for c in ("session", "level") if c not in frame.columns]
    if missing:
        msg = (
            f"{what} lacks column(s) {', '.join(missing)}; pass a frame with "
            "columns session (date) and level (float)"
        )
        raise SchemaError(msg)
    if frame.schema["session"] != pl.Date:
        msg = (
            f"{what}: column 'session' must be of type Date; got "
            f"{frame.schema['session']} (cast it with pl.col('session').cast(pl.Date))"
        )
        raise SchemaError(msg)
    sessions = frame.get_column("session")
    if (
        sessions.null_count()
        or not sessions.is_sorted()
        or sessions.is_duplicated().any()
    ):
        msg = (
            f"{what}: sessions must be non-missing and strictly increasing; sort "
            "the frame by session and drop repeated sessions"
        )
        raise SchemaError(msg)
    out = frame
    if start is not None:
        out = out.filter(pl.col("session") >= start)
    if end is not None:
        out = out.filter(pl.col("session") <= end)
    return out


def _drawdown_table(levels: pl.Series, sessions: pl.Series) -> pl.DataFrame:
    table = analytics.drawdowns(levels)
    if table.height == 0:
        return pl.DataFrame(schema=_DRAWDOWN_COLUMNS)
    return table.select(
        start=sessions.gather(table.get_column("start")),
        trough=sessions.gather(table.get_column("trough")),
        recovery=pl.when(pl.col("recovered")).then(
            sessions.gather(table.get_column("recovery").fill_null(0))
        ),
        depth=pl.col("depth"),
        decline_sessions=pl.col("trough") - pl.col("start"),
        duration_sessions=pl.col("duration"),
        recovered=pl.col("recovered"),
    ).cast(_DRAWDOWN_COLUMNS)


def _roc_table(
    levels: pl.Series, sessions: pl.Series, periods: Sequence[int]
) -> pl.DataFrame:
    rows = []
    n = levels.len()
    for p in periods:
        if n > p:
            ratio = analytics.rate_of_change(levels, p, unit="ratio")[-1]
            rows.append(
                {
                    "period": p,
                    "from_session": sessions[n - 1 - p],
                    "from_level": levels[n - 1 - p],
                    "percent": analytics.rate_of_change(levels, p, unit="percent")[-1],
                    "fraction": analytics.rate_of_change(levels, p, unit="fraction")[
                        -1
                    ],
                    "ratio": ratio,
                    "momentum": analytics.momentum(levels, p)[-1],
                }
            )
        else:
            rows.append({"period": p})
    return pl.DataFrame(
        rows,
        schema={
            "period": pl.Int64,
            "from_session": pl.Date,
            "from_level": pl.Float64,
            "percent": pl.Float64,
            "fraction": pl.Float64,
            "ratio": pl.Float64,
            "momentum": pl.Float64,
        },
    )


def _yearly(frame: pl.DataFrame) -> pl.DataFrame:
    years = (
        frame.group_by(
            year=pl.col("session").dt.year().cast(pl.Int64), maintain_order=True
        )
        .agg(
            first_session=pl.col("session").first(),
            last_session=pl.col("session").last(),
            sessions=pl.len().cast(pl.Int64),
            last_level=pl.col("level").last(),
        )
        .sort("year")
    )
    base = pl.col("last_level").shift(1).fill_null(frame.get_column("level")[0])
    n = years.height
    return years.with_columns(
        **{"return": pl.col("last_level") / base - 1.0},
        complete=(pl.int_range(pl.len()) > 0) & (pl.int_range(pl.len()) < n - 1),
    ).drop("last_level")


def _compare(
    code: str,
    index: pl.DataFrame,
    bench: pl.DataFrame,
    periods_per_year: float,
) -> BenchmarkComparison:
    both = index.select("session", index=pl.col("level")).join(
        bench.select("session", benchmark=pl.col("level")), on="session", how="inner"
    )
    nan = float("nan")
    name = BENCHMARK_NAMES.get(code, code)
    if both.height < 3:
        return BenchmarkComparison(
            code=code,
            name=name,
            first_session=None,
            last_session=None,
            sessions=both.height,
            beta=nan,
            correlation=nan,
            up_capture=nan,
            down_capture=nan,
            index_annualized_return=nan,
            benchmark_annualized_return=nan,
            relative_change=nan,
            relative_annualized=nan,
            ratio=both.with_columns(ratio=pl.lit(None, dtype=pl.Float64)),
        )
    ri = analytics.simple_returns(both.get_column("index"))
    rb = analytics.simple_returns(both.get_column("benchmark"))
    raw = both.get_column("index") / both.get_column("benchmark")
    ratio = both.with_columns(ratio=raw / raw[0])
    relative = float(ratio.get_column("ratio")[-1]) - 1.0
    return BenchmarkComparison(
        code=code,
        name=name,
        first_session=both.get_column("session")[0],
        last_session=both.get_column("session")[-1],
        sessions=both.height,
        beta=analytics.beta(ri, rb),
        correlation=analytics.correlation(ri, rb),
        up_capture=analytics.up_capture(ri, rb, periods_per_year=periods_per_year),
        down_capture=analytics.down_capture(ri, rb, periods_per_year=periods_per_year),
        index_annualized_return=analytics.annualized_return(
            ri, periods_per_year=periods_per_year
        ),
        benchmark_annualized_return=analytics.annualized_return(
            rb, periods_per_year=periods_per_year
        ),
        relative_change=relative,
        relative_annualized=float(
            (1.0 + relative) ** (periods_per_year / (both.height - 1)) - 1.0
        ),
        ratio=ratio,
    )


def analyze(
    levels: pl.DataFrame,
    *,
    benchmarks: Mapping[str, pl.DataFrame] | None = None,
    start: date | None = None,
    end: date | None = None,
    name: str = "index",
    periods_per_year: float = PERIODS_PER_YEAR,
    ddof: int = 1,
    volatility_window: int = VOLATILITY_WINDOW,
    roc_periods: Sequence[int] = ROC_PERIODS,
    decline_threshold: float = DEFAULT_DECLINE_THRESHOLD,
    rally_threshold: float = DEFAULT_RALLY_THRESHOLD,
    range_rule: RangeRule | None = None,
) -> Analysis:
    """Analyse an index level series over a window.

    Parameters
    ----------
    levels : pl.DataFrame
        ``session`` (Date, strictly increasing) and ``level`` (positive closes);
        optional ``high`` and ``low`` columns (no missing values) are used for
        the range-bound detection, else the close stands for them.
    benchmarks : mapping of str to pl.DataFrame, optional
        Benchmark code (``"SPX"``) to a frame with ``session`` and ``level``;
        compared on the sessions they share with ``levels`` in the window.
    start, end : date, optional
        First and last session to include (default: all of ``levels``).
    name : str, default "index"
        Label of the series.
    periods_per_year : float, default 252
        Sessions per year for annualising.
    ddof : int, default 1
        Delta degrees of freedom of the standard deviations (1: sample).
    volatility_window : int, default 63
        Sessions per rolling-volatility window.
    roc_periods : sequence of int, default (21, 63, 252)
        Lookbacks of the rates of change at the end.
    decline_threshold, rally_threshold : float, default 0.10
        Thresholds of the rally table (fractions).
    range_rule : RangeRule, optional
        Range-bound detection rule (default :class:`RangeRule()`).

    Returns
    -------
    Analysis
        Every statistic unrounded; see :class:`Analysis`.

    Raises
    ------
    SchemaError
        If a frame lacks ``session``/``level``, its sessions are not strictly
        increasing, or a level is not positive.
    MissingDataError
        If the window holds fewer than two sessions.

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> days = [date(2024, 1, 1) + timedelta(d) for d in range(4)]
    >>> frame = pl.DataFrame({"session": days, "level": [100.0, 110.0, 99.0, 121.0]})
    >>> a = analyze(frame, name="toy", periods_per_year=3, roc_periods=(1,))
    >>> round(a.total_return, 6), round(a.annualized_return, 6), a.max_drawdown
    (0.21, 0.21, -0.1)
    """
    window = _window(levels, "`levels`", start, end)
    if window.height < 2:
        msg = (
            f"`levels` has {window.height} session(s) between {start} and {end}; "
            "an analysis needs at least two: widen the window"
        )
        raise MissingDataError(msg)
    ppy = float(periods_per_year)
    sessions = window.get_column("session")
    level = window.get_column("level").cast(pl.Float64).alias("level")
    returns = analytics.simple_returns(level)
    notes: list[str] = []

    daily_columns: dict[str, pl.Series] = {
        "session": sessions,
        "level": level,
        "return": returns.alias("return"),
        "drawdown": analytics.drawdown(level).alias("drawdown"),
        "rolling_volatility": analytics.rolling_volatility(
            returns, volatility_window, periods_per_year=ppy, ddof=ddof
        ).alias("rolling_volatility"),
    }
    for p in roc_periods:
        daily_columns[f"roc_{p}"] = analytics.rate_of_change(
            level, p, unit="percent"
        ).alias(f"roc_{p}")
        if window.height <= p:
            notes.append(
                f"rate of change over {p} sessions needs more than {p} sessions; "
                f"the window has {window.height}"
            )
    if window.height <= volatility_window:
        notes.append(
            f"rolling volatility needs {volatility_window} returns; the window has "
            f"{window.height - 1}"
        )
    daily = pl.DataFrame(daily_columns)

    comparisons = []
    for code, frame in (benchmarks or {}).items():
        bench = _window(frame, f"benchmark {code!r}", sessions[0], sessions[-1])
        comparison = _compare(code, window, bench, ppy)
        if comparison.first_session is None:
            notes.append(
                f"benchmark {code} ({comparison.name}) has {comparison.sessions} "
                f"session(s) in common with {name} between {sessions[0]} and "
                f"{sessions[-1]}: no comparison"
            )
        comparisons.append(comparison)

    has_bars = all(c in window.columns for c in ("high", "low")) and not (
        window.get_column("high").null_count() or window.get_column("low").null_count()
    )
    high = window.get_column("high") if has_bars else level
    low = window.get_column("low") if has_bars else level

    return Analysis(
        name=name,
        start=sessions[0],
        end=sessions[-1],
        sessions=window.height,
        periods_per_year=ppy,
        ddof=ddof,
        volatility_window=volatility_window,
        first_level=float(level[0]),
        last_level=float(level[-1]),
        total_return=float(level[-1] / level[0] - 1.0),
        annualized_return=analytics.annualized_return(returns, periods_per_year=ppy),
        annualized_volatility=analytics.annualized_volatility(
            returns, periods_per_year=ppy, ddof=ddof
        ),
        max_drawdown=analytics.max_drawdown(level),
        daily=daily,
        drawdowns=_drawdown_table(level, sessions),
        rate_of_change=_roc_table(level, sessions, roc_periods),
        yearly=_yearly(window.select("session", level)),
        benchmarks=tuple(comparisons),
        rallies=rallies(
            level,
            sessions,
            decline_threshold=decline_threshold,
            rally_threshold=rally_threshold,
        ),
        ranges=range_periods(high, low, level, sessions, rule=range_rule),
        decline_threshold=float(decline_threshold),
        rally_threshold=float(rally_threshold),
        bars="high-low-close" if has_bars else "close",
        notes=tuple(notes),
    )


def r2k_levels(calculation: Calculation) -> pl.DataFrame:
    """r2k's own price-return levels as ``session``, ``level``.

    Parameters
    ----------
    calculation : Calculation
        ``calculate_real(...).calculation`` (or any maintenance calculation).

    Returns
    -------
    pl.DataFrame
        ``session`` and ``level`` (the ``price_return`` column).
    """
    return calculation.levels.select("session", level=pl.col("price_return"))
