"""The analysis of an index level series: hand examples, errors, the real RUT.

Expected values are recomputed independently: with the standard library
(``statistics``), from closed forms (a geometric annual return is
``(last / first) ** (252 / returns) - 1``), or from published RUT closes.
"""

from __future__ import annotations

import json
import math
import statistics
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest

from r2k.analytics.analysis import analyze
from r2k.errors import MethodologyError, MissingDataError, SchemaError
from r2k.workflows.explain import analyze_index, load_index_levels

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation


def _frame(levels: list[float], first: date = date(2024, 1, 1)) -> pl.DataFrame:
    days = [first + timedelta(days=k) for k in range(len(levels))]
    return pl.DataFrame({"session": days, "level": levels})


def test_hand_example() -> None:
    frame = _frame([100.0, 110.0, 99.0, 121.0])
    a = analyze(frame, name="toy", periods_per_year=3, roc_periods=(1, 2, 9))
    returns = [0.1, -0.1, 121.0 / 99.0 - 1.0]
    assert a.sessions == 4
    assert a.total_return == pytest.approx(0.21)
    # three returns, three periods a year: one year, so the annual return is 21%
    assert a.annualized_return == pytest.approx(0.21)
    assert a.annualized_volatility == pytest.approx(
        statistics.stdev(returns) * math.sqrt(3)
    )
    assert a.max_drawdown == pytest.approx(-0.1)
    dd = a.drawdowns.row(0, named=True)
    assert (dd["start"], dd["trough"], dd["recovery"]) == (
        date(2024, 1, 2),
        date(2024, 1, 3),
        date(2024, 1, 4),
    )
    assert (dd["decline_sessions"], dd["duration_sessions"]) == (1, 2)
    roc = {r["period"]: r for r in a.rate_of_change.iter_rows(named=True)}
    assert roc[1]["fraction"] == pytest.approx(121.0 / 99.0 - 1.0)
    assert roc[1]["percent"] == pytest.approx(100.0 * (121.0 / 99.0 - 1.0))
    assert roc[1]["ratio"] == pytest.approx(121.0 / 99.0)
    assert roc[1]["momentum"] == pytest.approx(22.0)
    assert roc[2]["from_session"] == date(2024, 1, 2)
    assert roc[9]["percent"] is None  # longer than the window
    assert any("9 sessions" in n for n in a.notes)
    assert a.daily.columns[:5] == [
        "session",
        "level",
        "return",
        "drawdown",
        "rolling_volatility",
    ]
    assert a.bars == "close"


def test_window_and_yearly_returns() -> None:
    days = [date(2023, 12, 28), date(2023, 12, 29), date(2024, 1, 2), date(2024, 6, 3)]
    frame = pl.DataFrame({"session": days, "level": [90.0, 100.0, 105.0, 120.0]})
    a = analyze(frame, start=date(2023, 12, 29))
    assert a.start == date(2023, 12, 29)
    assert a.first_level == 100.0
    years = a.yearly.rows(named=True)
    assert [y["year"] for y in years] == [2023, 2024]
    assert years[0]["return"] == pytest.approx(0.0)  # one session: from itself
    assert years[1]["return"] == pytest.approx(0.2)  # 120 / 100 - 1
    assert [y["complete"] for y in years] == [False, False]


def test_benchmarks_on_common_sessions() -> None:
    index = _frame([100.0, 102.0, 101.0, 104.0, 103.0, 106.0])
    # the benchmark misses the third session and moves half as much in log terms
    bench = index.filter(pl.col("session") != date(2024, 1, 3)).with_columns(
        level=pl.col("level").sqrt()
    )
    a = analyze(
        index, benchmarks={"SPX": bench, "RUA": _frame([1.0, 2.0], date(2000, 1, 1))}
    )
    spx = a.benchmark("SPX")
    assert spx.sessions == 5
    assert spx.first_session == date(2024, 1, 1)
    both = index.join(bench, on="session", suffix="_b")
    ri = np.diff(both["level"].to_numpy()) / both["level"].to_numpy()[:-1]
    rb = np.diff(both["level_b"].to_numpy()) / both["level_b"].to_numpy()[:-1]
    assert spx.beta == pytest.approx(np.cov(ri, rb)[0, 1] / np.var(rb, ddof=1))
    assert spx.correlation == pytest.approx(np.corrcoef(ri, rb)[0, 1])
    # ratio of index to benchmark = sqrt(index), rebased
    assert spx.relative_change == pytest.approx(math.sqrt(1.06) - 1.0)
    assert spx.ratio["ratio"][0] == 1.0
    rua = a.benchmark("RUA")
    assert rua.first_session is None
    assert math.isnan(rua.beta)
    assert any("RUA" in n and "no comparison" in n for n in a.notes)
    with pytest.raises(MissingDataError, match="no benchmark 'XYZ'"):
        a.benchmark("XYZ")


def test_self_benchmark_has_unit_beta() -> None:
    index = _frame([100.0, 101.0, 99.0, 103.0, 102.0])
    a = analyze(index, benchmarks={"SELF": index.with_columns(pl.col("level") * 7)})
    b = a.benchmark("SELF")
    assert b.beta == pytest.approx(1.0)
    assert b.correlation == pytest.approx(1.0)
    assert b.up_capture == pytest.approx(1.0)
    assert b.down_capture == pytest.approx(1.0)
    assert b.relative_change == pytest.approx(0.0, abs=1e-15)


def test_errors_name_the_fix() -> None:
    with pytest.raises(SchemaError, match=r"lacks column.*level"):
        analyze(_frame([1.0, 2.0]).rename({"level": "close"}))
    shuffled = _frame([1.0, 2.0, 3.0]).reverse()
    with pytest.raises(SchemaError, match=r"strictly increasing.*sort"):
        analyze(shuffled)
    with pytest.raises(MissingDataError, match=r"at least two.*widen"):
        analyze(_frame([1.0, 2.0, 3.0]), start=date(2024, 1, 3))
    with pytest.raises(SchemaError, match="strictly positive"):
        analyze(_frame([1.0, -2.0, 3.0]))


def test_to_dict_is_strict_json() -> None:
    a = analyze(_frame([100.0, 90.0, 95.0, 80.0, 120.0]), roc_periods=(2, 50))
    payload = a.to_dict()
    text = json.dumps(payload, allow_nan=False)  # NaN became None
    back = json.loads(text)
    assert back["start"] == "2024-01-01"
    assert back["max_drawdown"] == pytest.approx(-0.2)  # unrounded
    assert back["rate_of_change"][1]["percent"] is None
    assert "daily" not in back
    with_series = a.to_dict(series=True)
    assert len(with_series["daily"]) == 5
    json.dumps(with_series, allow_nan=False)


def test_analyze_index_rejects_unknown(data_dir: DataDir) -> None:
    with pytest.raises(MethodologyError, match="choose RUT or r2k"):
        analyze_index(data_dir, "R1000")


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def rut(data_dir: DataDir) -> pl.DataFrame:
    return load_index_levels(data_dir, "RUT")


def test_rut_since_1987(data_dir: DataDir, rut: pl.DataFrame) -> None:
    a = analyze_index(data_dir, "RUT")
    closes = rut["level"].to_numpy()
    assert a.start == date(1987, 9, 10)
    assert a.sessions == rut.height
    # closed form of the geometric annual return over (n - 1) returns
    n = closes.size - 1
    assert a.annualized_return == pytest.approx(
        (closes[-1] / closes[0]) ** (252 / n) - 1.0, rel=1e-9
    )
    r = closes[1:] / closes[:-1] - 1.0
    assert a.annualized_volatility == pytest.approx(
        float(np.std(r, ddof=1)) * math.sqrt(252), rel=1e-9
    )
    assert 0.06 < a.annualized_return < 0.09
    assert 0.18 < a.annualized_volatility < 0.25
    # RUT closes (Yahoo ^RUT): 855.77 on 2007-07-13, the high; 343.26 on 2009-03-09.
    worst = a.deepest_drawdown
    assert worst is not None
    assert (worst["start"], worst["trough"]) == (date(2007, 7, 13), date(2009, 3, 9))
    assert a.max_drawdown == pytest.approx(343.26 / 855.77 - 1.0, abs=1e-12)
    assert worst["recovered"]
    assert a.bars == "high-low-close"


def test_rut_against_spx_and_rua(data_dir: DataDir, rut: pl.DataFrame) -> None:
    a = analyze_index(data_dir, "RUT")
    spx = a.benchmark("SPX")
    assert spx.first_session == date(2000, 1, 3)  # SPX file starts there
    spx_levels = load_index_levels(data_dir, "SPX")
    both = rut.join(spx_levels, on="session", suffix="_spx")
    ri = np.diff(both["level"].to_numpy()) / both["level"].to_numpy()[:-1]
    rb = np.diff(both["level_spx"].to_numpy()) / both["level_spx"].to_numpy()[:-1]
    slope = np.polyfit(rb, ri, 1)[0]  # least-squares slope = beta
    assert spx.beta == pytest.approx(slope, rel=1e-9)
    assert 0.9 < spx.beta < 1.4
    assert 0.8 < spx.correlation < 0.95
    rua = a.benchmark("RUA")
    assert rua.last_session == date(2022, 1, 28)  # RUA file ends there
    assert 0.8 < rua.correlation < 1.0
    # the RUT/SPX ratio series ends where its change says
    assert spx.ratio["ratio"][-1] == pytest.approx(1.0 + spx.relative_change)


def test_rut_tables(data_dir: DataDir) -> None:
    a = analyze_index(data_dir, "RUT")
    assert a.rallies.height > 20
    assert (a.rallies["gain"] >= a.rally_threshold).all()
    assert a.rallies["trough_session"].is_sorted()
    assert a.ranges.height > 10
    assert (a.ranges["support"] <= a.ranges["resistance"]).all()
    roc = {r["period"]: r for r in a.rate_of_change.iter_rows(named=True)}
    # the 252-session rate of change, recomputed from the file
    closes = a.daily["level"]
    assert roc[252]["ratio"] == pytest.approx(closes[-1] / closes[-253])
    assert a.daily["rolling_volatility"].null_count() == 63
    years = {y["year"]: y["return"] for y in a.yearly.iter_rows(named=True)}
    # RUT closes: 2245.31 on 2021-12-31, 1761.25 on 2022-12-30 (README spot check)
    assert years[2022] == pytest.approx(1761.25 / 2245.31 - 1.0, abs=1e-6)


def test_window_of_rut(data_dir: DataDir) -> None:
    a = analyze_index(data_dir, "RUT", start=date(2020, 1, 1), end=date(2020, 12, 31))
    assert a.start == date(2020, 1, 2)
    assert a.end == date(2020, 12, 31)
    worst = a.deepest_drawdown
    assert worst is not None
    assert worst["trough"] == date(2020, 3, 18)


@pytest.fixture(scope="module")
def calc(data_dir: DataDir) -> Calculation:
    from r2k.workflows.explain import calculate_r2k

    return calculate_r2k(data_dir)


def test_r2k_own_index(data_dir: DataDir, calc: Calculation) -> None:
    a = analyze_index(data_dir, "r2k", calculation=calc)
    assert a.name == "r2k"
    assert a.first_level == pytest.approx(100.0)
    assert a.start == date(2025, 12, 26)
    rut = a.benchmark("RUT")
    # r2k's own index tracks the real Russell 2000 closely
    assert rut.correlation > 0.95
    assert 0.8 < rut.beta < 1.2
    assert a.benchmark("RUA").first_session is None  # RUA ends in 2022
    assert any("252 sessions" in n for n in a.notes)
    json.dumps(a.to_dict(), allow_nan=False)
