"""Response and request bodies of the REST API (they document the OpenAPI schema).

Responses are rendered once and cached as bytes (see :mod:`r2k.api.app`), so
these models describe them; the tests check that what is served matches.
"""

from __future__ import annotations

import datetime as dt  # noqa: TC003  (pydantic needs it at run time)
from datetime import date  # noqa: TC003  (pydantic needs it at run time)
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AnalyticsSummary",
    "BreakpointsOut",
    "CalculateIn",
    "CalendarOut",
    "ChangesPage",
    "ConstituentsPage",
    "CurrencyList",
    "CurrencyOut",
    "DrawdownOut",
    "FactsheetOut",
    "HealthOut",
    "IndexList",
    "LevelsPage",
    "MembershipPage",
    "PolicyRateOut",
    "Problem",
    "RalliesOut",
    "RangesOut",
    "RateOfChangeOut",
    "RatesOut",
    "ReconList",
    "ReconSummary",
    "RollingBetasOut",
    "RunSessionIn",
    "SessionsOut",
    "StanceOut",
    "WriteOut",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(_Model):
    """An RFC 9457 problem detail (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="URI reference naming the problem type.")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors: where and why."
    )


class HealthOut(_Model):
    """Liveness and what the server serves."""

    status: Literal["ok"]
    version: str
    data: str = Field(description="Name of the data directory.")
    store: str | None
    write_enabled: bool = Field(description="Whether an API key enables writes.")
    indexes: int
    ready: bool = Field(description="Whether the start-up precomputation is done.")


class IndexOut(_Model):
    """An index served."""

    id: str
    name: str
    kind: Literal["published", "calculated"]
    returns: list[Literal["price", "total", "net"]]
    constituents: bool
    source: str


class IndexList(_Model):
    """Every index served."""

    items: list[IndexOut]


class _Page(_Model):
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    total: int = Field(ge=0, description="Rows in the whole selection.")
    pages: int = Field(ge=0)


class LevelPoint(_Model):
    """One session's level."""

    session: date
    level: float


class LevelsPage(_Page):
    """Levels of an index over a date range, oldest first."""

    index: str
    return_kind: Literal["price", "total", "net"] = Field(alias="return")
    first_session: date | None
    last_session: date | None
    items: list[LevelPoint]


class Constituent(_Model):
    """One index line on a session."""

    session: date
    security_id: str
    name: str | None
    sector: str | None
    weight: float | None = Field(description="Closing weight, a fraction.")
    index_shares: float
    closing_index_shares: float | None
    float_factor: float | None
    close: float | None
    float_market_cap: float | None
    total_market_cap: float | None
    price_carried: bool | None


class ConstituentsPage(_Page):
    """Constituents of an index on a session."""

    index: str
    session: date
    source: str
    sort: str
    order: Literal["asc", "desc"]
    query: str | None
    items: list[Constituent]


class SessionsOut(_Model):
    """Sessions with constituents."""

    index: str
    sessions: list[date]


class PeriodReturnOut(_Model):
    """One row of the performance table."""

    period: str
    base_session: date | None
    cumulative: float | None
    annualized: float | None


class PeriodRiskOut(_Model):
    """One row of the risk table."""

    period: str
    base_session: date | None
    returns: int
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float | None


class CalendarYearOut(_Model):
    """One calendar year's return."""

    year: int
    first_session: date
    last_session: date
    return_value: float | None = Field(alias="return")
    complete: bool


class SectorOut(_Model):
    """One sector's weight."""

    sector: str
    count: int
    weight: float


class HoldingOut(_Model):
    """One of the ten largest lines."""

    security_id: str
    name: str | None
    sector: str | None
    weight: float


class CharacteristicsOut(_Model):
    """Size, concentration and sectors on one date."""

    source: str
    as_of: date
    sector_scheme: str
    constituents: int
    total_market_cap: float | None
    mean_cap: float | None
    median_cap: float | None
    largest_cap: float | None
    smallest_cap: float | None
    weighted_average_cap: float | None
    top10_weight: float | None
    cap_coverage: int
    top10: list[HoldingOut]
    sectors: list[SectorOut]


class FactsheetOut(_Model):
    """The factsheet of an index: performance, calendar years, risk, size."""

    index: str
    name: str
    first_session: date
    as_of: date
    first_level: float | None
    last_level: float | None
    risk_free_rate: float
    periods_per_year: float
    ddof: int
    performance: list[PeriodReturnOut]
    risk: list[PeriodRiskOut]
    calendar_years: list[CalendarYearOut]
    characteristics: CharacteristicsOut | None


class AnalyticsSummary(_Model):
    """Scalars of :class:`r2k.analytics.analysis.Analysis` and its small tables."""

    model_config = ConfigDict(extra="allow")
    index: str
    start: date
    end: date
    sessions: int
    first_level: float | None
    last_level: float | None
    total_return: float | None
    annualized_return: float | None
    annualized_volatility: float | None
    max_drawdown: float | None
    last_rolling_volatility: float | None
    deepest_drawdown: dict[str, Any] | None
    rate_of_change: list[dict[str, Any]]
    benchmarks: list[dict[str, Any]]
    yearly: list[dict[str, Any]]
    notes: list[str]


class SeriesPoint(_Model):
    """One session of a derived series (null during a warm-up)."""

    session: date
    level: float
    value: float | None


class RateOfChangeOut(_Model):
    """Rate of change in percent over ``period`` sessions."""

    index: str
    period: int
    unit: Literal["percent"]
    items: list[SeriesPoint]


class DrawdownOut(_Model):
    """The fall from the running high (fraction, <= 0) and the episodes."""

    index: str
    items: list[SeriesPoint]
    episodes: list[dict[str, Any]]


class RalliesOut(_Model):
    """Rallies of at least ``rally_threshold`` after ``decline_threshold`` falls."""

    index: str
    decline_threshold: float
    rally_threshold: float
    items: list[dict[str, Any]]


class RangesOut(_Model):
    """Range-bound periods with support and resistance."""

    index: str
    bars: str
    items: list[dict[str, Any]]


class ReconOut(_Model):
    """A reconstitution the data can build."""

    rank_day: date
    effective_date: date
    kind: str
    year: int


class ReconList(_Model):
    """Reconstitutions the data can build, oldest first."""

    items: list[ReconOut]


class ReconSummary(_Model):
    """Counts, breakpoints, changes and exclusions of a reconstitution."""

    rank_day: date
    effective_date: date
    rules: str
    universe: str
    incumbents: str
    counts: dict[str, int]
    line_counts: dict[str, int]
    changes: dict[str, int]
    exclusions: dict[str, int]
    float_ownership_ratio: float | None
    notes: list[str]


class MembershipPage(_Page):
    """Lines of one index after a reconstitution, by rank."""

    rank_day: date
    index: str
    items: list[dict[str, Any]]


class BreakpointsOut(_Model):
    """Breakpoints (#200, #500, #1,000, ...) and their bands."""

    rank_day: date
    items: list[dict[str, Any]]


class ChangesPage(_Page):
    """Adds, deletes and migrations."""

    rank_day: date
    change: str | None
    items: list[dict[str, Any]]


class CalendarOut(_Model):
    """A year of the Russell US calendar."""

    year: int
    regime: str
    reconstitutions: list[dict[str, Any]]
    quarters: list[dict[str, Any]]


class CalculateIn(_Model):
    """Calculate an index of the family over a window and store it."""

    index: Literal[
        "r3000e", "r3000", "r1000", "r2000", "microcap", "midcap", "top200", "r2500"
    ] = "r2000"
    start: date
    end: date


class RunSessionIn(_Model):
    """Calculate one more session from the stored state."""

    index: Literal[
        "r3000e", "r3000", "r1000", "r2000", "microcap", "midcap", "top200", "r2500"
    ] = "r2000"
    session: date


class WriteOut(_Model):
    """What a state-changing call did."""

    model_config = ConfigDict(extra="allow")
    index: str
    status: str


# ------------------------------------------------------------ rates, currencies


class RateBeta(_Model):
    """OLS of the index's (or relative) returns on a factor's changes."""

    series: Literal["index", "relative"] = Field(
        description="index: the index's return; relative: its return minus the "
        "benchmark's."
    )
    factor: str = Field(description="2y, 10y or dollar.")
    label: str
    change: Literal["difference", "return"]
    unit: str
    first: date | None
    last: date | None
    n: int
    alpha: float | None
    beta: float | None
    alpha_se: float | None
    se: float | None = Field(description="Classical (homoskedastic) standard error.")
    se_hc1: float | None = Field(description="White's HC1 (robust) standard error.")
    t_stat: float | None
    r_squared: float | None


class RateSensitivityOut(_Model):
    """Betas over the whole history and the last rolling window."""

    frequency: Literal["daily", "weekly", "monthly"]
    periods_per_year: int
    window: int = Field(description="Periods per rolling window.")
    max_carry_days: int
    benchmark: str
    betas: list[RateBeta]
    last_rolling: list[dict[str, Any]]
    carried: dict[str, int]
    missing: dict[str, int]
    notes: list[str]


class RatesOut(_Model):
    """The rate view (``r2k rates --json``): betas, policy cycle, events, r*."""

    index: Literal["RUT", "r2000"]
    index_name: str
    benchmark: str
    start: date
    end: date
    units: dict[str, str]
    sensitivity: RateSensitivityOut
    policy: dict[str, Any] = Field(
        description="rule, moves, cycles, periods (hiking / cutting / holding, "
        "with index and small-minus-large returns) and phases (annualised)."
    )
    events: dict[str, Any] = Field(
        description="Event study around first cuts and first hikes: events, summary."
    )
    rstar: dict[str, Any] = Field(
        description="r* source, band, latest stance, counts, returns by stance, "
        "yearly table."
    )
    sources: list[dict[str, Any]]
    notes: list[str]


class RollingBeta(_Model):
    """One rolling-window beta (null when the window lacks data)."""

    period_end: date
    series: Literal["index", "relative"]
    factor: str
    beta: float | None
    se: float | None


class RollingBetasOut(_Model):
    """Rolling betas, oldest first."""

    index: str
    frequency: Literal["daily", "weekly", "monthly"]
    window: int
    series: Literal["index", "relative"] | None
    factor: str | None
    items: list[RollingBeta]


class PolicyRatePoint(_Model):
    """The policy rate on a date (percent)."""

    date: dt.date
    rate: float | None
    source: str


class PolicyRateOut(_Model):
    """The daily policy rate over the index's window, and the cycle's phases."""

    index: str
    start: dt.date
    end: dt.date
    periods: list[dict[str, Any]]
    items: list[PolicyRatePoint]


class StancePoint(_Model):
    """Real policy rate, r* and stance on a date (percent)."""

    date: dt.date
    effective_rate: float | None
    breakeven_5y: float | None
    real_policy_rate: float | None
    rstar: float | None
    rstar_date: dt.date | None
    stance: float | None


class StanceOut(_Model):
    """The daily stance series (from 2003) and returns by stance."""

    index: str
    rstar_source: str
    band: float
    by_stance: list[dict[str, Any]]
    items: list[StancePoint]


class CurrencyInfo(_Model):
    """A currency the FX file quotes against the dollar."""

    code: str
    fx_column: str
    fx_quote: Literal["target_per_usd", "usd_per_target"]
    first: date | None
    last: date | None
    repaired: list[date]


class CurrencyList(_Model):
    """Currencies with data (the only ones the currency endpoint takes)."""

    source: str
    items: list[CurrencyInfo]
    skipped: list[str] = Field(description="Columns that are not USD pairs.")


class CurrencyPoint(_Model):
    """One session in both currencies; returns are cumulative from the start."""

    session: date
    usd: float
    fx_target_per_usd: float
    fx_filled: bool
    local: float
    usd_return: float | None
    currency_return: float | None
    cross_term: float | None
    local_return: float | None


class CurrencyOut(_Model):
    """An index in another currency and the dollar / currency / cross split."""

    index: str
    name: str
    currency: str
    fx_column: str
    fx_quote: Literal["target_per_usd", "usd_per_target"]
    start: date
    end: date
    usd_start: date = Field(description="First session of the index in dollars.")
    usd_end: date
    sessions: int
    fx_filled_sessions: int
    fill_limit_sessions: int
    fx_repaired: list[date]
    periods_per_year: float
    usd_return: float | None
    currency_return: float | None
    cross_term: float | None
    local_return: float | None
    usd_volatility: float | None
    local_volatility: float | None
    usd_max_drawdown: float | None
    local_max_drawdown: float | None
    window_note: str
    notes: list[str]
    items: list[CurrencyPoint]
