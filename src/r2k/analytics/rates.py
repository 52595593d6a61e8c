"""The index against interest rates: rate betas, the policy cycle, r* and the stance.

Pure functions over frames (nothing here reads a file; :mod:`r2k.workflows.rates`
reads the data and calls them). Every convention is a parameter or part of a name.

Units
-----
* Rates and yields are in **percent** as FRED publishes them (5.25 is 5.25%);
  a change in a yield is in **percentage points** (pp; 1 pp = 100 basis points).
* Returns are simple returns as **fractions** (0.01 is 1%).
* A rate beta is the return (fraction) per **1 pp rise** in the yield: -0.05
  means the index falls 5% when the yield rises 100 bp. A dollar beta is the
  return per unit return of the dollar index.
* ``frequency`` is ``"daily"`` (every session), ``"weekly"`` (the last session
  of each Monday-to-Sunday week) or ``"monthly"`` (the last session of each
  month), with :data:`PERIODS_PER_YEAR` periods a year.

Point in time
-------------
A rate, yield or r* value is used from its own date on, never before:
:func:`align_asof` gives each session the last value dated on or before it, at
most ``max_carry_days`` calendar days old, and counts the sessions that carried
a value and those left without one. Returns by stance use the stance known at
the *start* of each period. The policy cycle's periods and its move dates are a
historical description (see :func:`policy_moves`), not a trading signal.

Regressions
-----------
:func:`ols` fits ``y = alpha + beta * x + e`` by least squares (QR
decomposition) and gives the classical standard errors (``sqrt(s^2 (X'X)^-1)``
with ``s^2 = SSR / (n - 2)``) and White's heteroskedasticity-consistent HC1
errors (``n / (n - 2) * (X'X)^-1 X' diag(e^2) X (X'X)^-1``), the ``nonrobust``
and ``HC1`` covariances of statsmodels' OLS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, Literal, cast

import numpy as np
import polars as pl

from r2k._typing import Frequency
from r2k.analytics._inputs import (
    ArrayInput,
    FloatArray,
    check_choice,
    check_period,
    nan_array,
    parse,
    require_columns,
    same_length,
    windows,
)
from r2k.errors import MethodologyError, SchemaError

__all__ = [
    "FREQUENCIES",
    "PERIODS_PER_YEAR",
    "PHASES",
    "STANCES",
    "EventStudy",
    "Factor",
    "Frequency",
    "PolicyRule",
    "RateSensitivity",
    "Regression",
    "align_asof",
    "check_frequency",
    "event_study",
    "first_moves",
    "jsonable",
    "ols",
    "period_ends",
    "period_returns",
    "phase_summary",
    "policy_cycles",
    "policy_moves",
    "policy_periods",
    "policy_rate",
    "policy_stance",
    "rate_sensitivity",
    "returns_by_stance",
    "rolling_ols",
    "rstar_proxy",
    "stance_by_year",
]

FREQUENCIES: Final[tuple[Frequency, ...]] = ("daily", "weekly", "monthly")
PERIODS_PER_YEAR: Final[dict[str, int]] = {"daily": 252, "weekly": 52, "monthly": 12}
"""Periods a year of each frequency (sessions, weeks, months)."""
PHASES: Final[tuple[str, ...]] = ("hiking", "cutting", "holding")
STANCES: Final[tuple[str, ...]] = ("accommodative", "neutral", "restrictive")

_VDATE: Final = "_value_date"


def jsonable(value: object) -> object:
    """``value`` with dates as ISO strings, NaN as ``None``, frames as records."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pl.DataFrame):
        return [jsonable(row) for row in value.to_dicts()]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _check_dates(frame: pl.DataFrame, what: str, column: str) -> None:
    require_columns(frame, what, [column])
    if frame.schema[column] != pl.Date:
        got = frame.schema[column]
        msg = f"{what}: column {column!r} must be of type Date; got {got}"
        raise SchemaError(msg)
    days = frame.get_column(column)
    if days.null_count() or not days.is_sorted() or days.is_duplicated().any():
        msg = (
            f"{what}: {column!r} must be non-missing and strictly increasing; sort "
            "the frame and drop repeated dates"
        )
        raise SchemaError(msg)


def _check_levels(levels: pl.DataFrame, what: str) -> pl.DataFrame:
    _check_dates(levels, what, "session")
    require_columns(levels, what, ["level"])
    out = levels.select("session", pl.col("level").cast(pl.Float64))
    bad = out.filter(~(pl.col("level").is_finite() & (pl.col("level") > 0.0)))
    if bad.height:
        msg = (
            f"{what}: level on {bad.item(0, 'session')} is {bad.item(0, 'level')}; "
            "levels must be positive finite numbers"
        )
        raise SchemaError(msg)
    return out


def _check_days(value: object, name: str, minimum: int = 0) -> int:
    return check_period(value, name, minimum=minimum)


def check_frequency(value: object) -> Frequency:
    """``value`` if it is one of :data:`FREQUENCIES`, else a clear error."""
    return cast("Frequency", check_choice(value, "frequency", FREQUENCIES))


# ------------------------------------------------------------------- alignment


def align_asof(
    sessions: pl.Series,
    series: pl.DataFrame,
    column: str,
    *,
    max_carry_days: int,
) -> pl.DataFrame:
    """The value of ``column`` known at each session (point in time).

    Parameters
    ----------
    sessions : pl.Series
        Dates (``Date``, strictly increasing) to give a value to.
    series : pl.DataFrame
        ``date`` (strictly increasing) and ``column`` (null where no value).
    column : str
        The series to align.
    max_carry_days : int
        Oldest value to use, in calendar days (0: only a value of that date).

    Returns
    -------
    pl.DataFrame
        ``session``, ``column`` (the last non-null value dated on or before
        the session and at most ``max_carry_days`` older; null if none),
        ``<column>_date`` (the date of that value) and ``<column>_carried``
        (``True`` where the value is from an earlier date).

    Examples
    --------
    >>> from datetime import date
    >>> s = pl.Series([date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 9)])
    >>> y = pl.DataFrame({"date": [date(2024, 1, 2)], "DGS2": [4.3]})
    >>> align_asof(s, y, "DGS2", max_carry_days=5)["DGS2"].to_list()
    [4.3, 4.3, None]
    """
    carry = _check_days(max_carry_days, "max_carry_days")
    left = pl.DataFrame({"session": sessions})
    _check_dates(left, "`sessions`", "session")
    _check_dates(series, "`series`", "date")
    require_columns(series, "`series`", [column])
    right = (
        series.select(pl.col("date").alias(_VDATE), pl.col(column).cast(pl.Float64))
        .drop_nulls(column)
        .filter(pl.col(column).is_not_nan())
        .sort(_VDATE)
    )
    joined = left.sort("session").join_asof(
        right,
        left_on="session",
        right_on=_VDATE,
        strategy="backward",
        tolerance=timedelta(days=carry),
    )
    return joined.select(
        "session",
        column,
        pl.col(_VDATE).alias(f"{column}_date"),
        (pl.col(_VDATE) < pl.col("session"))
        .fill_null(False)
        .alias(f"{column}_carried"),
    )


def period_ends(sessions: pl.Series, frequency: Frequency) -> pl.Series:
    """The last session of each period.

    Parameters
    ----------
    sessions : pl.Series
        Sessions (``Date``, strictly increasing).
    frequency : {"daily", "weekly", "monthly"}
        Every session; the last of each Monday-to-Sunday week; the last of
        each calendar month.

    Returns
    -------
    pl.Series
        The period-end sessions, ascending (the last period may be partial).

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> days = pl.Series([date(2024, 1, 1) + timedelta(d) for d in range(12)])
    >>> period_ends(days, "weekly").to_list()
    [datetime.date(2024, 1, 7), datetime.date(2024, 1, 12)]
    """
    freq = check_frequency(frequency)
    frame = pl.DataFrame({"session": sessions})
    _check_dates(frame, "`sessions`", "session")
    if freq == "daily":
        return frame.get_column("session")
    every = "1w" if freq == "weekly" else "1mo"
    return (
        frame.group_by(pl.col("session").dt.truncate(every).alias("_p"))
        .agg(pl.col("session").max())
        .sort("session")
        .get_column("session")
    )


# ------------------------------------------------------------------ regression


@dataclass(frozen=True, slots=True, kw_only=True)
class Regression:
    """``y = alpha + beta * x + e`` by ordinary least squares.

    Attributes
    ----------
    n : int
        Observations.
    alpha, beta : float
        Intercept and slope.
    alpha_se, se : float
        Classical standard errors of ``alpha`` and ``beta``.
    se_hc1 : float
        White's HC1 (heteroskedasticity-consistent) standard error of ``beta``.
    t_stat : float
        ``beta / se``.
    r_squared : float
        ``1 - SSR / SST``.
    """

    n: int
    alpha: float
    beta: float
    alpha_se: float
    se: float
    se_hc1: float
    t_stat: float
    r_squared: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (NaN as ``None``)."""
        return {
            k: jsonable(getattr(self, k))
            for k in (
                "n",
                "alpha",
                "beta",
                "alpha_se",
                "se",
                "se_hc1",
                "t_stat",
                "r_squared",
            )
        }


_NAN = float("nan")


def ols(y: ArrayInput, x: ArrayInput) -> Regression:
    """Fit ``y = alpha + beta * x`` by least squares, with standard errors.

    Parameters
    ----------
    y, x : array-like or pl.Series
        Equal lengths, no missing values after a common warm-up (leading
        missing values of either are dropped from both).

    Returns
    -------
    Regression
        NaN statistics with fewer than three observations or a constant ``x``.

    Examples
    --------
    >>> fit = ols([1.0, 3.0, 2.0, 5.0], [0.0, 1.0, 2.0, 3.0])
    >>> round(fit.beta, 6), round(fit.alpha, 6), round(fit.se, 6)
    (1.1, 1.1, 0.519615)
    """
    yy, ys = parse(y, "y")
    xx, xs = parse(x, "x")
    same_length(y=yy, x=xx)
    start = max(ys, xs)
    yv, xv = yy[start:], xx[start:]
    n = int(yv.size)
    if n < 3 or float(np.ptp(xv)) == 0.0:
        return Regression(
            n=n,
            alpha=_NAN,
            beta=_NAN,
            alpha_se=_NAN,
            se=_NAN,
            se_hc1=_NAN,
            t_stat=_NAN,
            r_squared=_NAN,
        )
    design = np.column_stack([np.ones(n), xv])
    q, r = np.linalg.qr(design)
    coef = np.linalg.solve(r, q.T @ yv)
    resid = yv - design @ coef
    ssr = float(resid @ resid)
    r_inv = np.linalg.inv(r)
    xtx_inv = r_inv @ r_inv.T
    s2 = ssr / (n - 2)
    cov = s2 * xtx_inv
    meat = (design * (resid * resid)[:, None]).T @ design
    cov_hc1 = (n / (n - 2)) * (xtx_inv @ meat @ xtx_inv)
    centred = yv - yv.mean()
    sst = float(centred @ centred)
    se = math.sqrt(cov[1, 1])
    return Regression(
        n=n,
        alpha=float(coef[0]),
        beta=float(coef[1]),
        alpha_se=math.sqrt(cov[0, 0]),
        se=se,
        se_hc1=math.sqrt(cov_hc1[1, 1]),
        t_stat=float(coef[1]) / se if se > 0.0 else _NAN,
        r_squared=1.0 - ssr / sst if sst > 0.0 else _NAN,
    )


_BLOCK_ROWS: Final = 4096


def rolling_ols(
    y: ArrayInput, x: ArrayInput, window: int
) -> tuple[FloatArray, FloatArray]:
    """Slope and its classical standard error over each trailing window.

    Parameters
    ----------
    y, x : array-like or pl.Series
        Equal lengths, no gaps after a common warm-up.
    window : int
        Observations per window (>= 3).

    Returns
    -------
    (np.ndarray, np.ndarray)
        ``beta`` and ``se`` aligned with the inputs: NaN until a window is
        full, and where ``x`` is constant over the window. Each window is
        computed from its own centred values (two-pass), as :func:`ols`.

    Examples
    --------
    >>> b, se = rolling_ols([1.0, 3.0, 2.0, 5.0], [0.0, 1.0, 2.0, 3.0], 4)
    >>> b.round(6).tolist()
    [nan, nan, nan, 1.1]
    """
    w = check_period(window, "window", minimum=3)
    yy, ys = parse(y, "y")
    xx, xs = parse(x, "x")
    size = same_length(y=yy, x=xx)
    start = max(ys, xs)
    beta, se = nan_array(size), nan_array(size)
    yv, xv = windows(yy[start:], w), windows(xx[start:], w)
    offset = start + w - 1
    for lo in range(0, yv.shape[0], _BLOCK_ROWS):
        yb = yv[lo : lo + _BLOCK_ROWS]
        xb = xv[lo : lo + _BLOCK_ROWS]
        xc = xb - xb.mean(axis=1, keepdims=True)
        yc = yb - yb.mean(axis=1, keepdims=True)
        sxx = (xc * xc).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = (xc * yc).sum(axis=1) / sxx
            resid = yc - b[:, None] * xc
            ssr = (resid * resid).sum(axis=1)
            s = np.sqrt(ssr / (w - 2) / sxx)
        bad = sxx <= 0.0
        b[bad] = np.nan
        s[bad] = np.nan
        beta[offset + lo : offset + lo + b.size] = b
        se[offset + lo : offset + lo + s.size] = s
    return beta, se


# ----------------------------------------------------------------- sensitivity


@dataclass(frozen=True, slots=True, kw_only=True)
class Factor:
    """A series the index's returns are regressed on.

    Attributes
    ----------
    name : str
        Short name (``"2y"``).
    label : str
        What it is (``"2-year Treasury yield (DGS2)"``).
    change : {"difference", "return"}
        ``"difference"``: change in the value (a yield: percentage points);
        ``"return"``: simple return of the value (an index level).
    unit : str
        What one unit of the change is (``"1 pp rise"``).
    values : pl.DataFrame
        ``date`` and ``value``.
    """

    name: str
    label: str
    change: Literal["difference", "return"]
    unit: str
    values: pl.DataFrame = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateSensitivity:
    """Betas of the index's returns to rate changes (see :func:`rate_sensitivity`).

    Attributes
    ----------
    frequency : str
        ``"daily"``, ``"weekly"`` or ``"monthly"``.
    periods_per_year : int
        Of the frequency.
    window : int
        Periods per rolling window.
    max_carry_days : int
        Oldest value carried to a period end (calendar days).
    benchmark : str
        Name of the benchmark of the relative return.
    sample : pl.DataFrame
        One row per period end: ``period_end``, ``index_return``,
        ``benchmark_return``, ``relative_return`` (index minus benchmark) and
        ``<factor>_change`` for each factor.
    table : pl.DataFrame
        One row per series (``index``, ``relative``) and factor: ``series``,
        ``factor``, ``label``, ``change``, ``unit``, ``first``, ``last`` (period ends),
        ``n``, ``alpha``, ``beta``, ``se``, ``se_hc1``, ``t_stat``,
        ``r_squared``.
    rolling : pl.DataFrame
        ``period_end``, ``series``, ``factor``, ``beta``, ``se`` for every full
        window.
    carried : dict of str to int
        Period ends whose value of each series came from an earlier date.
    missing : dict of str to int
        Period ends without a value of each series (within the carry limit).
    notes : tuple of str
        What could not be estimated and why.
    """

    frequency: str
    periods_per_year: int
    window: int
    max_carry_days: int
    benchmark: str
    sample: pl.DataFrame
    table: pl.DataFrame
    rolling: pl.DataFrame
    carried: dict[str, int]
    missing: dict[str, int]
    notes: tuple[str, ...]

    def beta(self, series: str, factor: str) -> dict[str, Any]:
        """The row of :attr:`table` for ``series`` and ``factor``.

        Raises
        ------
        MethodologyError
            If there is no such row.
        """
        rows = self.table.filter(
            (pl.col("series") == series) & (pl.col("factor") == factor)
        )
        if rows.height == 0:
            msg = f"no beta of {series!r} on {factor!r}"
            raise MethodologyError(msg)
        return rows.row(0, named=True)

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        """JSON-ready values; the sample and rolling betas only if ``series``."""
        out: dict[str, Any] = {
            "frequency": self.frequency,
            "periods_per_year": self.periods_per_year,
            "window": self.window,
            "max_carry_days": self.max_carry_days,
            "benchmark": self.benchmark,
            "betas": jsonable(self.table),
            "last_rolling": jsonable(self.last_rolling()),
            "carried": dict(self.carried),
            "missing": dict(self.missing),
            "notes": list(self.notes),
        }
        if series:
            out["sample"] = jsonable(self.sample)
            out["rolling"] = jsonable(self.rolling)
        return out

    def last_rolling(self) -> pl.DataFrame:
        """The last full window of each series and factor, with the range seen."""
        if self.rolling.height == 0:
            return self.rolling.select(
                "series", "factor", "period_end", "beta", "se"
            ).clear()
        return (
            self.rolling.group_by("series", "factor", maintain_order=True)
            .agg(
                pl.col("period_end").last(),
                pl.col("beta").last(),
                pl.col("se").last(),
                pl.col("beta").min().alias("min_beta"),
                pl.col("beta").max().alias("max_beta"),
            )
            .sort("series", "factor")
        )


def _change(values: pl.Expr, how: str) -> pl.Expr:
    if how == "difference":
        return values - values.shift(1)
    return values / values.shift(1) - 1.0


def rate_sensitivity(
    levels: pl.DataFrame,
    factors: Sequence[Factor],
    *,
    benchmark: pl.DataFrame | None = None,
    benchmark_name: str = "benchmark",
    frequency: Frequency = "weekly",
    window: int = 156,
    max_carry_days: int = 5,
) -> RateSensitivity:
    """Betas of the index's returns, and of its return over a benchmark, to factors.

    Parameters
    ----------
    levels : pl.DataFrame
        ``session`` (Date, strictly increasing) and ``level`` (positive).
    factors : sequence of Factor
        The series to regress on (e.g. changes in the 2- and 10-year yields),
        one univariate regression each.
    benchmark : pl.DataFrame, optional
        ``session`` and ``level`` of a large-cap index (the S&P 500): the
        relative return is ``index_return - benchmark_return`` per period.
    benchmark_name : str, default "benchmark"
        Its name in the output.
    frequency : {"daily", "weekly", "monthly"}, default "weekly"
        Sampling of returns and changes (see :func:`period_ends`).
    window : int, default 156
        Periods per rolling window (156 weeks: three years), >= 3.
    max_carry_days : int, default 5
        Oldest factor or benchmark value used at a period end (calendar days).

    Returns
    -------
    RateSensitivity
        The full-history regressions, the rolling ones, and counts of the
        values carried or missing at period ends.
    """
    freq = check_frequency(frequency)
    w = check_period(window, "window", minimum=3)
    carry = _check_days(max_carry_days, "max_carry_days")
    base = _check_levels(levels, "`levels`")
    if not factors:
        msg = "`factors` is empty; pass at least one Factor"
        raise MethodologyError(msg)
    ends = period_ends(base.get_column("session"), freq)
    sample = pl.DataFrame({"period_end": ends}).join(
        base.rename({"session": "period_end"}), on="period_end", how="left"
    )
    carried: dict[str, int] = {}
    missing: dict[str, int] = {}
    columns = [
        pl.col("period_end"),
        (_change(pl.col("level"), "return")).alias("index_return"),
    ]
    if benchmark is not None:
        bench = _check_levels(benchmark, "`benchmark`").rename({"session": "date"})
        got = align_asof(ends, bench, "level", max_carry_days=carry)
        carried[benchmark_name] = int(got.get_column("level_carried").sum())
        missing[benchmark_name] = int(got.get_column("level").null_count())
        sample = sample.with_columns(got.get_column("level").alias("_bench"))
        columns.append(_change(pl.col("_bench"), "return").alias("benchmark_return"))
    else:
        columns.append(pl.lit(None, dtype=pl.Float64).alias("benchmark_return"))
    for f in factors:
        _check_dates(f.values, f"factor {f.name!r}", "date")
        require_columns(f.values, f"factor {f.name!r}", ["value"])
        got = align_asof(ends, f.values, "value", max_carry_days=carry)
        carried[f.name] = int(got.get_column("value_carried").sum())
        missing[f.name] = int(got.get_column("value").null_count())
        sample = sample.with_columns(got.get_column("value").alias(f"_f_{f.name}"))
        columns.append(
            _change(pl.col(f"_f_{f.name}"), f.change).alias(f"{f.name}_change")
        )
    sample = sample.select(columns).with_columns(
        (pl.col("index_return") - pl.col("benchmark_return")).alias("relative_return")
    )
    sample = sample.select(
        "period_end",
        "index_return",
        "benchmark_return",
        "relative_return",
        *(f"{f.name}_change" for f in factors),
    ).slice(1)

    rows: list[dict[str, Any]] = []
    rolling: list[pl.DataFrame] = []
    notes: list[str] = []
    for series in ("index", "relative"):
        y_col = f"{series}_return"
        for f in factors:
            x_col = f"{f.name}_change"
            pair = sample.select("period_end", y_col, x_col).drop_nulls()
            fit = ols(pair.get_column(y_col), pair.get_column(x_col))
            span = pair.get_column("period_end")
            rows.append(
                {
                    "series": series,
                    "factor": f.name,
                    "label": f.label,
                    "change": f.change,
                    "unit": f.unit,
                    "first": span.min(),
                    "last": span.max(),
                    **fit.to_dict(),
                }
            )
            if pair.height >= w:
                b, s = rolling_ols(pair.get_column(y_col), pair.get_column(x_col), w)
                rolling.append(
                    pl.DataFrame(
                        {
                            "period_end": span,
                            "series": [series] * pair.height,
                            "factor": [f.name] * pair.height,
                            "beta": b,
                            "se": s,
                        }
                    )
                    .fill_nan(None)
                    .drop_nulls("beta")
                )
            elif not (series == "relative" and benchmark is None):
                notes.append(
                    f"rolling beta of {series} on {f.name}: {pair.height} {freq} "
                    f"periods, fewer than the window of {w}"
                )
            if pair.height < 3 and not (series == "relative" and benchmark is None):
                notes.append(
                    f"beta of {series} on {f.name}: {pair.height} {freq} periods; "
                    "at least 3 are needed"
                )
    if benchmark is None:
        notes.append("no benchmark: no relative betas")
    table = pl.DataFrame(
        rows,
        schema={
            "series": pl.String,
            "factor": pl.String,
            "label": pl.String,
            "change": pl.String,
            "unit": pl.String,
            "first": pl.Date,
            "last": pl.Date,
            "n": pl.Int64,
            "alpha": pl.Float64,
            "beta": pl.Float64,
            "alpha_se": pl.Float64,
            "se": pl.Float64,
            "se_hc1": pl.Float64,
            "t_stat": pl.Float64,
            "r_squared": pl.Float64,
        },
    )
    roll_schema = {
        "period_end": pl.Date,
        "series": pl.String,
        "factor": pl.String,
        "beta": pl.Float64,
        "se": pl.Float64,
    }
    return RateSensitivity(
        frequency=freq,
        periods_per_year=PERIODS_PER_YEAR[freq],
        window=w,
        max_carry_days=carry,
        benchmark=benchmark_name,
        sample=sample,
        table=table,
        rolling=pl.concat(rolling) if rolling else pl.DataFrame(schema=roll_schema),
        carried=carried,
        missing=missing,
        notes=tuple(notes),
    )


# --------------------------------------------------------------- policy cycle


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRule:
    """How policy moves are read from the effective funds rate (before the range).

    Attributes
    ----------
    median_days : int, default 15
        Calendar days of the trailing median that smooths the daily effective
        rate (settlement-day and quarter-end spikes).
    step : float, default 0.25
        Grid of policy levels, percentage points: the smoothed rate is rounded
        to it.
    trigger : float, default 0.1875
        A move is recorded when the smoothed rate is this far (pp) from the
        current level; more than ``step / 2``.
    merge_days : int, default 10
        Moves in the same direction closer than this are one move.
    blip_days : int, default 60
        A move undone within this many days (the rate back within ``step / 2``
        of where it started, or past it) is a funding-market blip, not policy:
        the move and the ones undoing it become one move from the start level
        to the end level, dated at the last of them (or none, if the net change
        is under ``step / 2``). This uses the days after a move: hindsight.
    pause_days : int, default 183
        Within a cycle, a gap between moves longer than this is a holding
        period.
    """

    median_days: int = 15
    step: float = 0.25
    trigger: float = 0.1875
    merge_days: int = 10
    blip_days: int = 60
    pause_days: int = 183

    def __post_init__(self) -> None:
        for name in ("median_days", "merge_days", "blip_days", "pause_days"):
            check_period(getattr(self, name), name, minimum=1)
        for name in ("step", "trigger"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                msg = f"`{name}` must be a number of percentage points; got {value!r}"
                raise MethodologyError(msg)
            if not (math.isfinite(value) and value > 0.0):
                msg = f"`{name}` must be positive (percentage points); got {value}"
                raise MethodologyError(msg)
        if not self.step / 2.0 < self.trigger <= self.step:
            msg = (
                f"`trigger` ({self.trigger}) must be above half the step and at "
                f"most the step ({self.step})"
            )
            raise MethodologyError(msg)


def policy_rate(rates: pl.DataFrame) -> pl.DataFrame:
    """The policy rate by date: the target range's midpoint, else the effective rate.

    Parameters
    ----------
    rates : pl.DataFrame
        ``date``, ``DFF`` (daily effective rate), ``DFEDTARL`` and
        ``DFEDTARU`` (target range, from 2008-12-16), percent.

    Returns
    -------
    pl.DataFrame
        ``date``, ``rate`` (percent) and ``source`` (``"target range
        midpoint"`` where both ends of the range are known, else ``"effective
        rate"``), rows with a rate only.
    """
    _check_dates(rates, "`rates`", "date")
    require_columns(rates, "`rates`", ["DFF", "DFEDTARL", "DFEDTARU"])
    ranged = pl.col("DFEDTARL").is_not_null() & pl.col("DFEDTARU").is_not_null()
    return rates.select(
        "date",
        pl.when(ranged)
        .then((pl.col("DFEDTARL") + pl.col("DFEDTARU")) / 2.0)
        .otherwise(pl.col("DFF"))
        .cast(pl.Float64)
        .alias("rate"),
        pl.when(ranged)
        .then(pl.lit("target range midpoint"))
        .otherwise(pl.lit("effective rate"))
        .alias("source"),
    ).drop_nulls("rate")


_MOVE_SCHEMA: Final = {
    "date": pl.Date,
    "known": pl.Date,
    "direction": pl.String,
    "rate_before": pl.Float64,
    "rate_after": pl.Float64,
    "change": pl.Float64,
    "source": pl.String,
}


def _grid(value: float, step: float) -> float:
    return round(value / step) * step


def _clean(moves: list[list[Any]], rule: PolicyRule) -> list[list[Any]]:
    """Merge close same-direction moves, drop blips undone within ``blip_days``."""
    changed = True
    while changed:
        changed = False
        for i in range(len(moves) - 1):
            a, b = moves[i], moves[i + 1]
            up_a, up_b = a[3] > a[2], b[3] > b[2]
            if up_a == up_b and (b[0] - a[0]).days <= rule.merge_days:
                moves[i : i + 2] = [[a[0], b[1], a[2], b[3]]]
                changed = True
                break
        if changed:
            continue
        half = rule.step / 2.0
        for i in range(len(moves)):
            start, up = moves[i][2], moves[i][3] > moves[i][2]
            for j in range(i + 1, len(moves)):
                if (moves[j][0] - moves[i][0]).days > rule.blip_days:
                    break
                after = moves[j][3]
                if (after <= start + half) if up else (after >= start - half):
                    net = after - start
                    keep = [[moves[j][0], moves[j][1], start, after]]
                    moves[i : j + 1] = keep if abs(net) >= half else []
                    changed = True
                    break
            if changed:
                break
    return moves


def policy_moves(rates: pl.DataFrame, rule: PolicyRule | None = None) -> pl.DataFrame:
    """Dated changes of the policy rate.

    From the target range (2008-12-16 on) a move is a change of its midpoint,
    dated the first day the range shows it (the effective date: usually the
    session after the announcement). Before, the moves are read from the
    daily effective rate (``DFF``): its trailing median over
    ``rule.median_days`` is held at a level on a ``rule.step`` grid, and a move
    is recorded when the median is ``rule.trigger`` or more from that level
    (``known``, the date the move is visible); the move is dated back to the
    first day of the unbroken run of daily rates nearer the new level than the
    old (``date``). Moves in one direction within ``rule.merge_days`` are
    merged; a move undone within ``rule.blip_days`` is dropped with its
    reversal. The effective rate strays from the target (quarter ends, 2007-08
    liquidity operations), so the dates before 2008 are approximate: within
    about three weeks of the decision.

    Parameters
    ----------
    rates : pl.DataFrame
        ``date``, ``DFF``, ``DFEDTARL``, ``DFEDTARU`` in percent.
    rule : PolicyRule, optional
        The reading of the effective rate (default :class:`PolicyRule()`).

    Returns
    -------
    pl.DataFrame
        ``date``, ``known``, ``direction`` (``"hike"`` or ``"cut"``),
        ``rate_before``, ``rate_after``, ``change`` (pp) and ``source``, in
        date order.
    """
    rule = rule or PolicyRule()
    rate = policy_rate(rates)
    eff = rate.filter(pl.col("source") == "effective rate").select("date", "rate")
    ranged = rate.filter(pl.col("source") == "target range midpoint")
    if ranged.height:
        eff = eff.filter(pl.col("date") < ranged.item(0, "date"))
    moves: list[list[Any]] = []
    level: float | None = None
    if eff.height:
        med = eff.select(
            pl.col("rate").rolling_median_by("date", window_size=f"{rule.median_days}d")
        ).to_series()
        days = eff.get_column("date").to_list()
        values = eff.get_column("rate").to_numpy()
        smooth = med.to_numpy()
        first = days[0] + timedelta(days=rule.median_days - 1)
        begin = next((i for i, d in enumerate(days) if d >= first), len(days))
        if begin < len(days):
            level = _grid(float(smooth[begin]), rule.step)
        for t in range(begin + 1, len(days)):
            assert level is not None
            if abs(smooth[t] - level) < rule.trigger:
                continue
            new = _grid(float(smooth[t]), rule.step)
            k = t
            floor = moves[-1][0] if moves else days[0]
            while (
                k > 0
                and days[k - 1] > floor
                and abs(values[k - 1] - new) < abs(values[k - 1] - level)
            ):
                k -= 1
            moves.append([days[k], days[t], level, new])
            level = new
        moves = _clean(moves, rule)
        level = moves[-1][3] if moves else level
    rows = [
        {
            "date": m[0],
            "known": m[1],
            "direction": "hike" if m[3] > m[2] else "cut",
            "rate_before": m[2],
            "rate_after": m[3],
            "change": m[3] - m[2],
            "source": "effective rate",
        }
        for m in moves
    ]
    if ranged.height:
        mids = ranged.with_columns(pl.col("rate").shift(1).alias("before"))
        first_mid = ranged.item(0, "rate")
        if level is not None and abs(first_mid - level) >= rule.trigger:
            day = ranged.item(0, "date")
            rows.append(
                {
                    "date": day,
                    "known": day,
                    "direction": "hike" if first_mid > level else "cut",
                    "rate_before": level,
                    "rate_after": first_mid,
                    "change": first_mid - level,
                    "source": "target range midpoint",
                }
            )
        for row in mids.filter(
            pl.col("before").is_not_null() & (pl.col("rate") != pl.col("before"))
        ).iter_rows(named=True):
            rows.append(
                {
                    "date": row["date"],
                    "known": row["date"],
                    "direction": "hike" if row["rate"] > row["before"] else "cut",
                    "rate_before": row["before"],
                    "rate_after": row["rate"],
                    "change": row["rate"] - row["before"],
                    "source": "target range midpoint",
                }
            )
    return pl.DataFrame(rows, schema=_MOVE_SCHEMA).sort("date")


def _check_moves(moves: pl.DataFrame) -> None:
    require_columns(
        moves, "`moves`", ["date", "direction", "rate_before", "rate_after"]
    )
    _check_dates(moves, "`moves`", "date")


def policy_cycles(moves: pl.DataFrame) -> pl.DataFrame:
    """Cycles: runs of moves in one direction, a new one at each reversal.

    Parameters
    ----------
    moves : pl.DataFrame
        From :func:`policy_moves`.

    Returns
    -------
    pl.DataFrame
        ``cycle`` (1, 2, ...), ``direction`` (``"hiking"``/``"cutting"``),
        ``first_move``, ``last_move``, ``moves``, ``rate_before`` (before the
        first move), ``rate_after`` (after the last) and ``change`` (pp).

    Examples
    --------
    >>> from datetime import date
    >>> m = pl.DataFrame({"date": [date(2022, 3, 17), date(2022, 5, 5),
    ...                            date(2024, 9, 19)],
    ...                   "direction": ["hike", "hike", "cut"],
    ...                   "rate_before": [0.125, 0.375, 5.375],
    ...                   "rate_after": [0.375, 0.875, 4.875]})
    >>> policy_cycles(m).select("cycle", "direction", "moves").rows()
    [(1, 'hiking', 2), (2, 'cutting', 1)]
    """
    _check_moves(moves)
    return (
        moves.with_columns(
            (pl.col("direction") != pl.col("direction").shift(1))
            .fill_null(True)
            .cum_sum()
            .cast(pl.Int64)
            .alias("cycle")
        )
        .group_by("cycle", maintain_order=True)
        .agg(
            pl.col("direction").first(),
            pl.col("date").first().alias("first_move"),
            pl.col("date").last().alias("last_move"),
            pl.len().cast(pl.Int64).alias("moves"),
            pl.col("rate_before").first(),
            pl.col("rate_after").last(),
        )
        .with_columns(
            pl.col("direction").replace({"hike": "hiking", "cut": "cutting"}),
            (pl.col("rate_after") - pl.col("rate_before")).alias("change"),
        )
    )


def first_moves(moves: pl.DataFrame, *, since: date | None = None) -> pl.DataFrame:
    """The first move of each cycle: the first cut and the first hike of each.

    Parameters
    ----------
    moves : pl.DataFrame
        From :func:`policy_moves`.
    since : date, optional
        Keep events on or after this date.

    Returns
    -------
    pl.DataFrame
        ``date``, ``kind`` (``"first_cut"``/``"first_hike"``), ``cycle``,
        ``rate_before``, ``rate_after``, ``cycle_moves`` and ``cycle_change``.
    """
    cycles = policy_cycles(moves)
    out = cycles.select(
        pl.col("first_move").alias("date"),
        pl.when(pl.col("direction") == "cutting")
        .then(pl.lit("first_cut"))
        .otherwise(pl.lit("first_hike"))
        .alias("kind"),
        "cycle",
        "rate_before",
        pl.col("moves").alias("cycle_moves"),
        pl.col("change").alias("cycle_change"),
    )
    firsts = moves.join(
        cycles.select("cycle", pl.col("first_move").alias("date")), on="date"
    ).select("date", pl.col("rate_after"))
    out = out.join(firsts, on="date", how="left").select(
        "date",
        "kind",
        "cycle",
        "rate_before",
        "rate_after",
        "cycle_moves",
        "cycle_change",
    )
    if since is not None:
        out = out.filter(pl.col("date") >= since)
    return out


def policy_periods(
    moves: pl.DataFrame,
    *,
    start: date,
    end: date,
    pause_days: int = 183,
) -> pl.DataFrame:
    """Hiking, cutting and holding periods that tile ``start`` .. ``end``.

    A run of moves of one cycle with no gap longer than ``pause_days`` is a
    hiking (cutting) period from its first move to its last, both dates
    included; every other day is holding. A period is a span of calendar days;
    a session belongs to the period holding its date (so the return from the
    previous close to a move's date counts in the move's period).

    Parameters
    ----------
    moves : pl.DataFrame
        From :func:`policy_moves`.
    start, end : date
        The span to tile (``end`` >= ``start``).
    pause_days : int, default 183
        Longest gap between moves within one period (calendar days).

    Returns
    -------
    pl.DataFrame
        ``phase``, ``start``, ``end`` (inclusive), ``days``, ``moves`` (in the
        period) and ``change`` (pp, by those moves), in time order.

    Examples
    --------
    >>> from datetime import date
    >>> m = pl.DataFrame({"date": [date(2024, 9, 19), date(2024, 11, 8)],
    ...                   "direction": ["cut", "cut"],
    ...                   "rate_before": [5.375, 4.875],
    ...                   "rate_after": [4.875, 4.625]})
    >>> p = policy_periods(m, start=date(2024, 9, 1), end=date(2024, 12, 31))
    >>> p.select("phase", "start", "end").rows()  # doctest: +NORMALIZE_WHITESPACE
    [('holding', datetime.date(2024, 9, 1), datetime.date(2024, 9, 18)),
     ('cutting', datetime.date(2024, 9, 19), datetime.date(2024, 11, 8)),
     ('holding', datetime.date(2024, 11, 9), datetime.date(2024, 12, 31))]
    """
    _check_moves(moves)
    gap = check_period(pause_days, "pause_days")
    if end < start:
        msg = f"`end` {end} is before `start` {start}"
        raise MethodologyError(msg)
    cycles = policy_cycles(moves).select("cycle", "first_move")
    tagged = moves.join_asof(
        cycles.sort("first_move"),
        left_on="date",
        right_on="first_move",
        strategy="backward",
    )
    runs: list[dict[str, Any]] = []
    for row in tagged.iter_rows(named=True):
        phase = "hiking" if row["direction"] == "hike" else "cutting"
        change = row["rate_after"] - row["rate_before"]
        last = runs[-1] if runs else None
        if (
            last is not None
            and last["cycle"] == row["cycle"]
            and (row["date"] - last["end"]).days <= gap
        ):
            last["end"] = row["date"]
            last["moves"] += 1
            last["change"] += change
        else:
            runs.append(
                {
                    "phase": phase,
                    "start": row["date"],
                    "end": row["date"],
                    "moves": 1,
                    "change": change,
                    "cycle": row["cycle"],
                }
            )
    periods: list[dict[str, Any]] = []
    cursor = start
    one = timedelta(days=1)
    for run in runs:
        if run["end"] < start or run["start"] > end:
            continue
        lo, hi = max(run["start"], start), min(run["end"], end)
        if lo > cursor:
            periods.append(
                {"phase": "holding", "start": cursor, "end": lo - one, "moves": 0}
                | {"change": 0.0}
            )
        periods.append(
            {
                "phase": run["phase"],
                "start": lo,
                "end": hi,
                "moves": run["moves"],
                "change": run["change"],
            }
        )
        cursor = hi + one
    if cursor <= end:
        periods.append(
            {"phase": "holding", "start": cursor, "end": end, "moves": 0, "change": 0.0}
        )
    return pl.DataFrame(
        periods,
        schema={
            "phase": pl.String,
            "start": pl.Date,
            "end": pl.Date,
            "moves": pl.Int64,
            "change": pl.Float64,
        },
    ).select(
        "phase",
        "start",
        "end",
        ((pl.col("end") - pl.col("start")).dt.total_days() + 1).alias("days"),
        "moves",
        "change",
    )


def _levels_on(
    sessions: pl.Series, benchmark: pl.DataFrame | None, carry: int
) -> pl.Series:
    if benchmark is None:
        return pl.Series("benchmark", [None] * sessions.len(), dtype=pl.Float64)
    bench = _check_levels(benchmark, "`benchmark`").rename({"session": "date"})
    return align_asof(sessions, bench, "level", max_carry_days=carry).get_column(
        "level"
    )


def _daily(
    levels: pl.DataFrame, benchmark: pl.DataFrame | None, carry: int
) -> pl.DataFrame:
    base = _check_levels(levels, "`levels`")
    bench = _levels_on(base.get_column("session"), benchmark, carry)
    return base.with_columns(bench.alias("benchmark")).with_columns(
        (pl.col("level") / pl.col("level").shift(1) - 1.0).alias("index_return"),
        (pl.col("benchmark") / pl.col("benchmark").shift(1) - 1.0).alias(
            "benchmark_return"
        ),
    )


def period_returns(
    periods: pl.DataFrame,
    levels: pl.DataFrame,
    *,
    benchmark: pl.DataFrame | None = None,
    max_carry_days: int = 5,
) -> pl.DataFrame:
    """The index's and the benchmark's return over each period.

    Parameters
    ----------
    periods : pl.DataFrame
        ``start`` and ``end`` dates (inclusive) and any other columns, e.g.
        from :func:`policy_periods`.
    levels : pl.DataFrame
        ``session`` and ``level`` of the index.
    benchmark : pl.DataFrame, optional
        ``session`` and ``level`` of a large-cap index, aligned to the index's
        sessions (at most ``max_carry_days`` old).
    max_carry_days : int, default 5
        Oldest benchmark level used (calendar days).

    Returns
    -------
    pl.DataFrame
        ``periods`` plus ``first_session`` and ``last_session`` (of the index
        in the period), ``sessions`` (returns in it), ``index_return``,
        ``benchmark_return`` and ``small_minus_large`` (index minus benchmark),
        fractions compounded from the close before the period's first session
        to the close of its last; null where the data do not cover it.
    """
    carry = _check_days(max_carry_days, "max_carry_days")
    daily = _daily(levels, benchmark, carry)
    rows = []
    for p in periods.iter_rows(named=True):
        inside = daily.filter(pl.col("session").is_between(p["start"], p["end"]))
        rets = inside.drop_nulls("index_return")
        r_idx = (
            float((1.0 + rets.get_column("index_return")).product()) - 1.0
            if rets.height
            else None
        )
        bench = rets.get_column("benchmark_return")
        r_bench = (
            float((1.0 + bench).product()) - 1.0
            if rets.height and bench.null_count() == 0
            else None
        )
        rows.append(
            {
                "first_session": inside.get_column("session").min(),
                "last_session": inside.get_column("session").max(),
                "sessions": rets.height,
                "index_return": r_idx,
                "benchmark_return": r_bench,
                "small_minus_large": (
                    r_idx - r_bench
                    if r_idx is not None and r_bench is not None
                    else None
                ),
            }
        )
    extra = pl.DataFrame(
        rows,
        schema={
            "first_session": pl.Date,
            "last_session": pl.Date,
            "sessions": pl.Int64,
            "index_return": pl.Float64,
            "benchmark_return": pl.Float64,
            "small_minus_large": pl.Float64,
        },
    )
    return pl.concat([periods, extra], how="horizontal")


def _annualised(returns: pl.Series, ppy: float) -> float:
    r = returns.drop_nulls()
    if r.len() == 0:
        return _NAN
    growth = float((1.0 + r).product())
    return float(growth ** (ppy / r.len())) - 1.0


def phase_summary(
    periods: pl.DataFrame,
    levels: pl.DataFrame,
    *,
    benchmark: pl.DataFrame | None = None,
    periods_per_year: float = 252,
    max_carry_days: int = 5,
) -> pl.DataFrame:
    """Annualised returns of the index and the benchmark in each phase.

    Every daily return belongs to the phase of its session's date; the returns
    of a phase are compounded and annualised (``prod(1 + r) ** (ppy / n) -
    1``). ``small_minus_large`` is the index's annualised return over the
    sessions where the benchmark has one, minus the benchmark's.

    Parameters
    ----------
    periods : pl.DataFrame
        ``phase``, ``start``, ``end`` (from :func:`policy_periods`).
    levels, benchmark : pl.DataFrame
        ``session`` and ``level``.
    periods_per_year : float, default 252
        Sessions a year.
    max_carry_days : int, default 5
        Oldest benchmark level used.

    Returns
    -------
    pl.DataFrame
        ``phase``, ``periods``, ``sessions``, ``share`` (of the sessions),
        ``index_annualized``, ``benchmark_sessions``,
        ``benchmark_annualized``, ``small_minus_large`` (fractions a year).
    """
    carry = _check_days(max_carry_days, "max_carry_days")
    ppy = float(periods_per_year)
    daily = _daily(levels, benchmark, carry).drop_nulls("index_return")
    spans = periods.select("phase", "start", "end").sort("start")
    tagged = daily.join_asof(
        spans, left_on="session", right_on="start", strategy="backward"
    ).filter(pl.col("session") <= pl.col("end"))
    total = tagged.height
    rows = []
    for phase in PHASES:
        part = tagged.filter(pl.col("phase") == phase)
        both = part.drop_nulls("benchmark_return")
        idx_common = _annualised(both.get_column("index_return"), ppy)
        bench = _annualised(both.get_column("benchmark_return"), ppy)
        rows.append(
            {
                "phase": phase,
                "periods": spans.filter(pl.col("phase") == phase).height,
                "sessions": part.height,
                "share": part.height / total if total else _NAN,
                "index_annualized": _annualised(part.get_column("index_return"), ppy),
                "benchmark_sessions": both.height,
                "benchmark_annualized": bench,
                "small_minus_large": idx_common - bench,
            }
        )
    return pl.DataFrame(rows).fill_nan(None)


# ---------------------------------------------------------------- event study


@dataclass(frozen=True, slots=True, kw_only=True)
class EventStudy:
    """Returns around events (see :func:`event_study`).

    Attributes
    ----------
    pre : int
        Sessions of the run-up before day 0.
    horizons : tuple of int
        Sessions after the last close before day 0 (1 is day 0 itself).
    events : pl.DataFrame
        One row per event: the event's columns, ``day0`` (first session on or
        after the event date), ``pre_<pre>`` (return over the ``pre`` sessions
        before day 0), ``post_<h>`` and ``sml_post_<h>`` (index return and
        index minus benchmark from the close before day 0 over ``h`` sessions).
    summary : pl.DataFrame
        ``kind``, ``horizon`` (negative: the run-up), ``events``, ``mean``,
        ``median``, ``sml_events``, ``sml_mean``, ``sml_median``.
    paths : pl.DataFrame
        ``kind``, ``offset`` (sessions from the last close before day 0, which
        is 0), ``events``, ``mean`` and ``sml_mean``: the average cumulative
        return path.
    """

    pre: int
    horizons: tuple[int, ...]
    events: pl.DataFrame
    summary: pl.DataFrame
    paths: pl.DataFrame

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        """JSON-ready values; the average paths only if ``series``."""
        out: dict[str, Any] = {
            "pre": self.pre,
            "horizons": list(self.horizons),
            "events": jsonable(self.events),
            "summary": jsonable(self.summary),
        }
        if series:
            out["paths"] = jsonable(self.paths)
        return out


def event_study(
    levels: pl.DataFrame,
    events: pl.DataFrame,
    *,
    benchmark: pl.DataFrame | None = None,
    pre: int = 20,
    horizons: Sequence[int] = (1, 5, 21, 63, 126, 252),
    path_sessions: int = 252,
    max_carry_days: int = 5,
) -> EventStudy:
    """Cumulative returns of the index (and over a benchmark) around event dates.

    Day 0 is the first session on or after the event date; every return is
    measured from the close of the session before day 0 (the reference), so
    ``post_1`` is day 0's return and ``post_21`` the return over day 0 and the
    20 sessions after it. ``pre_<pre>`` is the return over the ``pre`` sessions
    that end at the reference. A horizon beyond the data is null and left out
    of the averages (the ``events`` columns count what each average uses).

    Parameters
    ----------
    levels : pl.DataFrame
        ``session`` and ``level`` of the index.
    events : pl.DataFrame
        ``date`` and ``kind`` (a label to average by), plus any columns to
        carry into the output.
    benchmark : pl.DataFrame, optional
        ``session`` and ``level`` of a large-cap index (small minus large).
    pre : int, default 20
        Sessions of the run-up.
    horizons : sequence of int, default (1, 5, 21, 63, 126, 252)
        Sessions after the reference.
    path_sessions : int, default 252
        Length of the average paths after the reference.
    max_carry_days : int, default 5
        Oldest benchmark level used.

    Returns
    -------
    EventStudy
    """
    k = check_period(pre, "pre")
    hs = tuple(check_period(h, "horizon") for h in horizons)
    if not hs:
        msg = "`horizons` is empty; pass at least one horizon in sessions"
        raise MethodologyError(msg)
    after = check_period(path_sessions, "path_sessions")
    carry = _check_days(max_carry_days, "max_carry_days")
    require_columns(events, "`events`", ["date", "kind"])
    daily = _daily(levels, benchmark, carry)
    lv = daily.get_column("level").to_numpy()
    bv = daily.get_column("benchmark").cast(pl.Float64).fill_null(np.nan).to_numpy()
    sessions = daily.get_column("session")
    n = lv.size

    def ratio(values: FloatArray, i: int, ref: int) -> float:
        if not (0 <= i < n and 0 <= ref < n):
            return _NAN
        return float(values[i] / values[ref] - 1.0)

    rows: list[dict[str, Any]] = []
    path_rows: list[dict[str, Any]] = []
    offsets = range(-k, after + 1)
    for ev in events.iter_rows(named=True):
        pos = int(sessions.search_sorted(ev["date"], side="left"))
        ref = pos - 1
        row = dict(ev)
        row["day0"] = sessions[pos] if pos < n else None
        usable = pos < n and ref >= 0
        row[f"pre_{k}"] = ratio(lv, ref, ref - k) if usable else _NAN
        for h in hs:
            idx = ratio(lv, ref + h, ref) if usable else _NAN
            bench = ratio(bv, ref + h, ref) if usable else _NAN
            row[f"post_{h}"] = idx
            row[f"sml_post_{h}"] = idx - bench
        rows.append(row)
        if usable:
            for o in offsets:
                idx = ratio(lv, ref + o, ref)
                path_rows.append(
                    {
                        "kind": ev["kind"],
                        "offset": o,
                        "index": idx,
                        "sml": idx - ratio(bv, ref + o, ref),
                    }
                )
    table = pl.DataFrame(rows, infer_schema_length=None).fill_nan(None)
    if table.height == 0:
        table = events.with_columns(
            pl.lit(None, dtype=pl.Date).alias("day0"),
            pl.lit(None, dtype=pl.Float64).alias(f"pre_{k}"),
            *(pl.lit(None, dtype=pl.Float64).alias(f"post_{h}") for h in hs),
            *(pl.lit(None, dtype=pl.Float64).alias(f"sml_post_{h}") for h in hs),
        )
    summary_rows = []
    for kind in table.get_column("kind").unique(maintain_order=True).to_list():
        part = table.filter(pl.col("kind") == kind)
        for h, col, sml in [
            (-k, f"pre_{k}", None),
            *((h, f"post_{h}", f"sml_post_{h}") for h in hs),
        ]:
            v = part.get_column(col).drop_nulls()
            s = (
                part.get_column(sml).drop_nulls()
                if sml
                else pl.Series([], dtype=pl.Float64)
            )
            summary_rows.append(
                {
                    "kind": kind,
                    "horizon": h,
                    "events": v.len(),
                    "mean": v.mean() if v.len() else None,
                    "median": v.median() if v.len() else None,
                    "sml_events": s.len(),
                    "sml_mean": s.mean() if s.len() else None,
                    "sml_median": s.median() if s.len() else None,
                }
            )
    summary = pl.DataFrame(
        summary_rows,
        schema={
            "kind": pl.String,
            "horizon": pl.Int64,
            "events": pl.Int64,
            "mean": pl.Float64,
            "median": pl.Float64,
            "sml_events": pl.Int64,
            "sml_mean": pl.Float64,
            "sml_median": pl.Float64,
        },
    )
    path_schema = {
        "kind": pl.String,
        "offset": pl.Int64,
        "index": pl.Float64,
        "sml": pl.Float64,
    }
    paths = (
        pl.DataFrame(path_rows, schema=path_schema)
        .fill_nan(None)
        .group_by("kind", "offset", maintain_order=True)
        .agg(
            pl.col("index").count().alias("events"),
            pl.col("index").mean().alias("mean"),
            pl.col("sml").mean().alias("sml_mean"),
        )
        .sort("kind", "offset")
    )
    return EventStudy(pre=k, horizons=hs, events=table, summary=summary, paths=paths)


# ------------------------------------------------------------ r* and stance


def rstar_proxy(real_yields: pl.DataFrame) -> pl.DataFrame:
    """Market-implied r* proxy: the 5-year real rate 5 years forward (percent).

    ``(10 * DFII10 - 5 * DFII5) / 5`` from the TIPS real yield curve: the real
    yield from year 5 to year 10 implied by the 5- and 10-year real yields
    (simple, not compounded). It is a proxy for the natural rate of interest,
    not an estimate of it: it carries term and liquidity premia.

    Parameters
    ----------
    real_yields : pl.DataFrame
        ``date``, ``DFII5`` and ``DFII10`` (percent).

    Returns
    -------
    pl.DataFrame
        ``date`` and ``rstar`` (percent), rows where both yields exist.

    Examples
    --------
    >>> from datetime import date
    >>> y = pl.DataFrame({"date": [date(2024, 1, 2)], "DFII5": [1.9],
    ...                   "DFII10": [1.8]})
    >>> round(rstar_proxy(y).item(0, "rstar"), 10)
    1.7
    """
    _check_dates(real_yields, "`real_yields`", "date")
    require_columns(real_yields, "`real_yields`", ["DFII5", "DFII10"])
    return real_yields.select(
        "date",
        ((10.0 * pl.col("DFII10") - 5.0 * pl.col("DFII5")) / 5.0).alias("rstar"),
    ).drop_nulls("rstar")


def policy_stance(
    effective: pl.DataFrame,
    breakeven: pl.DataFrame,
    rstar: pl.DataFrame,
    *,
    max_carry_days: int = 5,
    rstar_max_carry_days: int = 5,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Real policy rate, r* and the stance on each date with a breakeven.

    ``real_policy_rate = effective_rate - breakeven_5y`` and ``stance =
    real_policy_rate - rstar`` (percent; > 0: restrictive). The dates are those
    of the breakeven series; the effective rate and r* are the last values on
    or before each date (at most ``max_carry_days`` and
    ``rstar_max_carry_days`` old).

    Parameters
    ----------
    effective : pl.DataFrame
        ``date`` and ``DFF`` (percent).
    breakeven : pl.DataFrame
        ``date`` and ``T5YIE`` (percent).
    rstar : pl.DataFrame
        ``date`` and ``rstar`` (percent): :func:`rstar_proxy` or a published
        estimate dated by when it was known.
    max_carry_days, rstar_max_carry_days : int, default 5
        Oldest effective rate and r* used (calendar days; a quarterly r*
        estimate needs about 100).

    Returns
    -------
    (pl.DataFrame, dict)
        ``date``, ``effective_rate``, ``breakeven_5y``, ``real_policy_rate``,
        ``rstar``, ``rstar_date``, ``stance``; and counts: ``dates``,
        ``effective_carried``, ``effective_missing``, ``rstar_carried``,
        ``rstar_missing``.
    """
    carry = _check_days(max_carry_days, "max_carry_days")
    rcarry = _check_days(rstar_max_carry_days, "rstar_max_carry_days")
    _check_dates(breakeven, "`breakeven`", "date")
    require_columns(breakeven, "`breakeven`", ["T5YIE"])
    require_columns(rstar, "`rstar`", ["rstar"])
    grid = breakeven.select("date", "T5YIE").drop_nulls("T5YIE")
    days = grid.get_column("date")
    eff = align_asof(days, effective, "DFF", max_carry_days=carry)
    rs = align_asof(days, rstar, "rstar", max_carry_days=rcarry)
    frame = (
        pl.DataFrame(
            {
                "date": days,
                "effective_rate": eff.get_column("DFF"),
                "breakeven_5y": grid.get_column("T5YIE"),
                "rstar": rs.get_column("rstar"),
                "rstar_date": rs.get_column("rstar_date"),
            }
        )
        .select(
            "date",
            "effective_rate",
            "breakeven_5y",
            (pl.col("effective_rate") - pl.col("breakeven_5y")).alias(
                "real_policy_rate"
            ),
            "rstar",
            "rstar_date",
        )
        .with_columns((pl.col("real_policy_rate") - pl.col("rstar")).alias("stance"))
    )
    counts = {
        "dates": frame.height,
        "effective_carried": int(eff.get_column("DFF_carried").sum()),
        "effective_missing": int(eff.get_column("DFF").null_count()),
        "rstar_carried": int(rs.get_column("rstar_carried").sum()),
        "rstar_missing": int(rs.get_column("rstar").null_count()),
    }
    return frame, counts


def _stance_label(band: float) -> pl.Expr:
    return (
        pl.when(pl.col("stance_at_start").is_null())
        .then(None)
        .when(pl.col("stance_at_start") > band)
        .then(pl.lit("restrictive"))
        .when(pl.col("stance_at_start") < -band)
        .then(pl.lit("accommodative"))
        .otherwise(pl.lit("neutral"))
    )


def returns_by_stance(
    levels: pl.DataFrame,
    stance: pl.DataFrame,
    *,
    benchmark: pl.DataFrame | None = None,
    frequency: Frequency = "weekly",
    band: float = 0.5,
    max_carry_days: int = 5,
) -> pl.DataFrame:
    """Annualised returns of the index and small minus large, by policy stance.

    Each period's return (see :func:`period_ends`) is labelled by the stance
    known at the period's *start* (its previous period end): restrictive if
    above ``band``, accommodative if below ``-band``, else neutral.

    Parameters
    ----------
    levels : pl.DataFrame
        ``session`` and ``level`` of the index.
    stance : pl.DataFrame
        ``date`` and ``stance`` (percent), e.g. from :func:`policy_stance`.
    benchmark : pl.DataFrame, optional
        ``session`` and ``level`` of a large-cap index.
    frequency : {"daily", "weekly", "monthly"}, default "weekly"
        Period of the returns.
    band : float, default 0.5
        Half-width of the neutral band, percentage points.
    max_carry_days : int, default 5
        Oldest stance and benchmark value used at a period end.

    Returns
    -------
    pl.DataFrame
        One row per stance: ``stance``, ``periods``, ``share``,
        ``mean_stance`` (pp), ``index_annualized``, ``benchmark_periods``,
        ``benchmark_annualized``, ``small_minus_large`` (the index's annualised
        return over the benchmark's periods minus the benchmark's).
    """
    freq = check_frequency(frequency)
    carry = _check_days(max_carry_days, "max_carry_days")
    if isinstance(band, bool) or not isinstance(band, int | float) or band < 0:
        msg = f"`band` must be a non-negative number of percentage points; got {band!r}"
        raise MethodologyError(msg)
    ppy = PERIODS_PER_YEAR[freq]
    base = _check_levels(levels, "`levels`")
    ends = period_ends(base.get_column("session"), freq)
    frame = pl.DataFrame({"session": ends}).join(base, on="session", how="left")
    frame = frame.with_columns(
        _levels_on(ends, benchmark, carry).alias("benchmark"),
        align_asof(ends, stance, "stance", max_carry_days=carry)
        .get_column("stance")
        .alias("stance"),
    ).with_columns(
        (pl.col("level") / pl.col("level").shift(1) - 1.0).alias("index_return"),
        (pl.col("benchmark") / pl.col("benchmark").shift(1) - 1.0).alias(
            "benchmark_return"
        ),
        pl.col("stance").shift(1).alias("stance_at_start"),
    )
    frame = frame.with_columns(_stance_label(float(band)).alias("label")).drop_nulls(
        ["index_return", "label"]
    )
    total = frame.height
    rows = []
    for label in STANCES:
        part = frame.filter(pl.col("label") == label)
        both = part.drop_nulls("benchmark_return")
        idx_common = _annualised(both.get_column("index_return"), ppy)
        bench = _annualised(both.get_column("benchmark_return"), ppy)
        rows.append(
            {
                "stance": label,
                "periods": part.height,
                "share": part.height / total if total else _NAN,
                "mean_stance": part.get_column("stance_at_start").mean()
                if part.height
                else None,
                "index_annualized": _annualised(part.get_column("index_return"), ppy),
                "benchmark_periods": both.height,
                "benchmark_annualized": bench,
                "small_minus_large": idx_common - bench,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "stance": pl.String,
            "periods": pl.Int64,
            "share": pl.Float64,
            "mean_stance": pl.Float64,
            "index_annualized": pl.Float64,
            "benchmark_periods": pl.Int64,
            "benchmark_annualized": pl.Float64,
            "small_minus_large": pl.Float64,
        },
    ).fill_nan(None)


def stance_by_year(
    stance: pl.DataFrame,
    levels: pl.DataFrame,
    *,
    benchmark: pl.DataFrame | None = None,
    max_carry_days: int = 5,
) -> pl.DataFrame:
    """Yearly averages of the real policy rate, r* and stance, with the year's returns.

    Parameters
    ----------
    stance : pl.DataFrame
        From :func:`policy_stance`.
    levels, benchmark : pl.DataFrame
        ``session`` and ``level``.
    max_carry_days : int, default 5
        Oldest benchmark level used.

    Returns
    -------
    pl.DataFrame
        ``year``, ``dates``, ``real_policy_rate``, ``rstar``, ``stance``
        (means, percent), ``stance_end`` (last value of the year),
        ``index_return``, ``benchmark_return``, ``small_minus_large``
        (calendar-year returns from the previous year's last close; null for a
        year the index does not cover from its start).
    """
    carry = _check_days(max_carry_days, "max_carry_days")
    require_columns(stance, "`stance`", ["date", "real_policy_rate", "rstar", "stance"])
    years = (
        stance.group_by(pl.col("date").dt.year().cast(pl.Int64).alias("year"))
        .agg(
            pl.len().cast(pl.Int64).alias("dates"),
            pl.col("real_policy_rate").mean(),
            pl.col("rstar").mean(),
            pl.col("stance").mean(),
            pl.col("stance").drop_nulls().last().alias("stance_end"),
        )
        .sort("year")
    )
    daily = _daily(levels, benchmark, carry)
    last = (
        daily.group_by(pl.col("session").dt.year().cast(pl.Int64).alias("year"))
        .agg(pl.col("level").last(), pl.col("benchmark").last())
        .sort("year")
    )
    returns = last.select(
        "year",
        (pl.col("level") / pl.col("level").shift(1) - 1.0).alias("index_return"),
        (pl.col("benchmark") / pl.col("benchmark").shift(1) - 1.0).alias(
            "benchmark_return"
        ),
    ).with_columns(
        (pl.col("index_return") - pl.col("benchmark_return")).alias("small_minus_large")
    )
    return years.join(returns, on="year", how="left")
