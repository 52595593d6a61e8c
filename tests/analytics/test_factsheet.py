"""The factsheet figures on worked examples (every number computed by hand)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from r2k.analytics.factsheet import (
    PERFORMANCE_PERIODS,
    RISK_PERIODS,
    factsheet,
    months_before,
    sortino_ratio,
)
from r2k.errors import MissingDataError, SchemaError


def _frame(days: list[date], levels: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"session": days, "level": levels})


def test_trailing_periods_start_at_the_last_session_on_or_before() -> None:
    days = [
        date(2020, 12, 31),  # 100
        date(2021, 6, 30),  # 110
        date(2023, 6, 30),  # 120
        date(2023, 12, 29),  # 90
        date(2024, 3, 28),  # 95   (3M anchor 2024-03-30 -> this session)
        date(2024, 5, 31),  # 99   (1M anchor 2024-05-30 -> 2024-03-28? no: 3-28)
        date(2024, 6, 28),  # 108.9
    ]
    levels = [100.0, 110.0, 120.0, 90.0, 95.0, 99.0, 108.9]
    f = factsheet(_frame(days, levels))
    # 1M: anchor 2024-05-28 -> base 2024-03-28 (95).
    assert f.period("1M").base_session == date(2024, 3, 28)
    assert f.period("1M").cumulative == pytest.approx(108.9 / 95 - 1)
    # 3M: anchor 2024-03-28 -> base 2024-03-28.
    assert f.period("3M").base_session == date(2024, 3, 28)
    # YTD: from the last session of 2023 (90): +21%.
    assert f.period("YTD").cumulative == pytest.approx(0.21)
    # 1Y: anchor 2023-06-28 -> base 2021-06-30 (110): -1%, annualised over 1 year.
    one = f.period("1Y")
    assert one.base_session == date(2021, 6, 30)
    assert one.cumulative == pytest.approx(-0.01)
    assert one.annualized == pytest.approx(-0.01)
    # 3Y: anchor 2021-06-28 -> base 2020-12-31 (100): +8.9% over 3 years.
    three = f.period("3Y")
    assert three.cumulative == pytest.approx(0.089)
    assert three.annualized == pytest.approx(1.089 ** (1 / 3) - 1)
    # 5Y and 10Y reach before the series: unavailable.
    assert f.period("5Y").cumulative is None
    assert f.period("10Y").annualized is None
    # Since start: 1,275 days.
    since = f.period("Since start")
    years = (date(2024, 6, 28) - date(2020, 12, 31)).days / 365.25
    assert since.annualized == pytest.approx(1.089 ** (1 / years) - 1)
    assert [p.period for p in f.performance] == [p for p, _ in PERFORMANCE_PERIODS]


def test_short_periods_are_not_annualised() -> None:
    days = [date(2024, 1, 2) + timedelta(d) for d in range(40)]
    f = factsheet(_frame(days, [100.0 + d for d in range(40)]))
    assert f.period("1M").annualized is None
    assert f.period("YTD").cumulative is None  # the series starts this year
    assert f.period("Since start").annualized is None  # under a year


def test_calendar_years() -> None:
    days = [date(2021, 3, 1), date(2021, 12, 31), date(2022, 12, 30), date(2023, 5, 2)]
    f = factsheet(_frame(days, [100.0, 120.0, 90.0, 99.0]))
    years = {y.year: y for y in f.calendar_years}
    assert years[2021].value == pytest.approx(0.2)  # from the first level
    assert years[2022].value == pytest.approx(-0.25)
    assert years[2023].value == pytest.approx(0.1)
    assert [y.complete for y in f.calendar_years] == [False, True, False]


def test_risk_worked_example() -> None:
    # Returns +10%, -10%, +10%, -10% (levels 100, 110, 99, 108.9, 98.01).
    days = [date(2024, 1, 1) + timedelta(d) for d in range(5)]
    f = factsheet(
        _frame(days, [100.0, 110.0, 99.0, 108.9, 98.01]),
        periods_per_year=4,
        risk_free_rate=0.0,
    )
    risk = f.risk_of("Since start")
    r = np.array([0.1, -0.1, 0.1, -0.1])
    assert risk.returns == 4
    assert risk.volatility == pytest.approx(np.std(r, ddof=1) * 2)
    assert risk.sharpe == pytest.approx(0.0, abs=1e-12)
    assert risk.sortino == pytest.approx(0.0, abs=1e-12)
    assert risk.max_drawdown == pytest.approx(98.01 / 110 - 1)
    assert f.risk_of("1Y").volatility is None
    assert [row.period for row in f.risk] == [p for p, _ in RISK_PERIODS]


def test_sharpe_and_sortino_with_a_risk_free_rate() -> None:
    r = np.array([0.03, -0.01, 0.02, 0.0])
    rf = 0.01  # per period
    excess = r - rf  # 0.02, -0.02, 0.01, -0.01: mean 0
    assert sortino_ratio(r, risk_free=rf, periods_per_year=1) == pytest.approx(0.0)
    r2 = np.array([0.04, -0.01])  # excess 0.03, -0.02 with rf 0.01
    downside = math.sqrt((0.0**2 + 0.02**2) / 2)
    expected = 0.005 / downside * math.sqrt(252)
    assert sortino_ratio(r2, risk_free=0.01) == pytest.approx(expected)
    assert excess.mean() == pytest.approx(0.0)
    assert math.isinf(sortino_ratio(np.array([0.01, 0.02])))


def test_months_before_clips_to_the_month_end() -> None:
    assert months_before(date(2024, 5, 31), 3) == date(2024, 2, 29)
    assert months_before(date(2023, 3, 31), 1) == date(2023, 2, 28)
    assert months_before(date(2024, 1, 31), 120) == date(2014, 1, 31)


def test_to_dict_is_json_ready() -> None:
    days = [date(2024, 1, 1) + timedelta(d) for d in range(3)]
    out = factsheet(_frame(days, [100.0, 100.0, 100.0])).to_dict()
    assert out["risk"][-1]["sharpe"] is None  # 0/0: NaN becomes None
    assert out["first_session"] == "2024-01-01"
    assert out["calendar_years"][0]["return"] == 0.0


def test_bad_input() -> None:
    with pytest.raises(SchemaError, match="lacks"):
        factsheet(pl.DataFrame({"session": [date(2024, 1, 1)]}))
    with pytest.raises(MissingDataError):
        factsheet(_frame([date(2024, 1, 1)], [1.0]))
    with pytest.raises(SchemaError, match="increasing"):
        factsheet(_frame([date(2024, 1, 2), date(2024, 1, 1)], [1.0, 2.0]))
    with pytest.raises(SchemaError, match="positive"):
        factsheet(_frame([date(2024, 1, 1), date(2024, 1, 2)], [1.0, 0.0]))
