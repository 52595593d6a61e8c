"""Returns, drawdowns and risk statistics of r2k.analytics against external vectors.

Sources (read in place from ``../shared/vectors``; skipped only if it is absent)
and the tolerance each supports:

* empyrical-reloaded ``cases.json``: its tests assert 8 decimal places
  (``abs=1.5e-8``), or the decimals printed where fewer (rolling cases);
* ffn ``tests/test_core.py``: 3 decimals (``abs=1.5e-3``);
* vectorbt ``tests/test_returns.py``: full precision, ``rel=1e-12``;
* tulipindicators extra.txt ``volatility``: 9 decimals printed;
* Lean ``spy_sr.txt``: full precision, ``abs=1e-9``;
* StockCharts Ulcer-index worksheet (bukosabino/ta): 10 significant digits;
* pandas-ta-classic snapshots and last values: 8 decimals.

Convention differences, all made explicit as parameters or noted where tested:
empyrical counts a missing (NaN) return as a period with a zero return in its
annual return and up/down capture, r2k treats leading missing values as a
warm-up; empyrical's ``simple_returns`` gives ``inf`` after a zero price, r2k
refuses non-positive levels; ffn and vectorbt annualize by calendar time (365.25
or 365 days), which is ``periods_per_year``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest

from r2k import analytics
from r2k.errors import SchemaError

if TYPE_CHECKING:
    from datetime import date

VECTORS = Path(__file__).parents[2].parent / "shared" / "vectors"
pytestmark = pytest.mark.skipif(
    not VECTORS.is_dir(),
    reason=f"external test vectors {VECTORS} are absent "
    "(expected ../shared/vectors beside the checkout)",
)
EMPYRICAL = 1.5e-8  # numpy assert_almost_equal(decimal=8), empyrical's DECIMAL_PLACES
FFN = 1.5e-3  # assert_almost_equal(decimal=3)
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _json(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def _csv(relative: str) -> pl.DataFrame:
    return pl.read_csv(VECTORS / relative)


def _half_unit(value: float) -> float:
    text = repr(float(value))
    if "e-" in text:
        mantissa, exponent = text.split("e-")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return 0.5 * 10.0 ** -(decimals + int(exponent)) + 1e-15
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals + 1e-12


# --- empyrical-reloaded -------------------------------------------------------------

CASES: dict[str, Any] = {}


def _cases(test: str) -> list[dict[str, Any]]:
    if not CASES and VECTORS.is_dir():
        CASES.update(_json("empyrical-reloaded/cases.json"))
    cases: list[dict[str, Any]] = CASES["tests"][test]["cases"] if CASES else []
    return cases


def _fixture(name: str) -> FloatArray:
    """An empyrical fixture as fractions ("nan" strings become NaN)."""
    fixtures = _json("empyrical-reloaded/cases.json")["fixtures"]
    rules = {
        "flat_line_1_tz": np.full(1000, 0.01),
        "flat_line_0": np.zeros(1000),
        "pos_line": np.linspace(0.0, 1.0, 1000),
        "neg_line": np.linspace(0.0, -1.0, 1000),
    }
    if name in rules:
        return rules[name]
    values = [float(v) for v in fixtures[name]["values_pct"]]
    return np.asarray(values, dtype=np.float64) / 100.0


def _expected(value: Any) -> Any:
    """Decode empyrical's expected values ({"expr": "np.nan"} and friends)."""
    if isinstance(value, dict):
        table = {"np.nan": float("nan"), "np.inf": float("inf")}
        return table[value["expr"]]
    return value


def _empyrical_levels(returns: FloatArray) -> FloatArray:
    """The wealth path empyrical's max_drawdown builds: a start of 1, then the
    compounded returns, a NaN return counting as zero."""
    if returns.size == 0:
        return returns
    return np.concatenate(([1.0], np.cumprod(1.0 + np.nan_to_num(returns))))


def _assert_value(result: float, expected: float, tol: float = EMPYRICAL) -> None:
    if np.isnan(expected):
        assert np.isnan(result)
    elif np.isinf(expected):
        assert result == expected
    else:
        assert result == pytest.approx(expected, abs=tol)


def _ids(test: str) -> list[str]:
    return [
        "-".join(str(v) for k, v in c.items() if k != "expected" and isinstance(v, str))
        or str(i)
        for i, c in enumerate(_cases(test))
    ]


@pytest.mark.parametrize(
    "case", _cases("test_max_drawdown"), ids=_ids("test_max_drawdown")
)
def test_max_drawdown_empyrical(case: dict[str, Any]) -> None:
    """empyrical test_max_drawdown, on the levels its returns compound to; 8 dp."""
    levels = _empyrical_levels(_fixture(case["returns"]))
    _assert_value(analytics.max_drawdown(levels), _expected(case["expected"]))


@pytest.mark.parametrize(
    "case", _cases("test_max_drawdown"), ids=_ids("test_max_drawdown")
)
def test_drawdowns_table_deepest_empyrical(case: dict[str, Any]) -> None:
    """empyrical test_max_drawdown: the deepest episode of the drawdowns table has
    the maximum drawdown as its depth (no episode when it is 0); 8 dp."""
    levels = _empyrical_levels(_fixture(case["returns"]))
    table = analytics.drawdowns(levels)
    expected = _expected(case["expected"])
    if np.isnan(expected) or expected == 0.0:
        assert table.height == 0
    else:
        assert table["depth"].min() == pytest.approx(expected, abs=EMPYRICAL)


def test_max_drawdown_rolling_empyrical() -> None:
    """empyrical test_roll_max_drawdown (negative_returns, window 6), per window;
    4 decimals as printed."""
    for case in _cases("test_roll_max_drawdown"):
        returns = _fixture(case["returns"])
        window = case["window"]
        for k, expected in enumerate(case["expected"]):
            levels = _empyrical_levels(returns[k : k + window])
            result = analytics.max_drawdown(levels)
            assert result == pytest.approx(expected, abs=_half_unit(expected))


@pytest.mark.parametrize(
    "case", _cases("test_annual_volatility"), ids=_ids("test_annual_volatility")
)
def test_annualized_volatility_empyrical(case: dict[str, Any]) -> None:
    """empyrical test_annual_volatility: sample sd (ddof=1) times sqrt(252, 52 or
    12); the leading NaN of mixed_returns is skipped, as nanstd does; 8 dp."""
    ppy = {"empyrical.DAILY": 252, "empyrical.WEEKLY": 52, "empyrical.MONTHLY": 12}
    result = analytics.annualized_volatility(
        _fixture(case["returns"]), periods_per_year=ppy[case["period"]["expr"]], ddof=1
    )
    _assert_value(result, case["expected"])


def _risk_free(name: str) -> float | FloatArray:
    return float(name) if name[0].isdigit() else _fixture(name)


@pytest.mark.parametrize(
    "case", _cases("test_sharpe_ratio"), ids=_ids("test_sharpe_ratio")
)
def test_sharpe_ratio_empyrical(case: dict[str, Any]) -> None:
    """empyrical test_sharpe_ratio: mean(r - rf) / std(r - rf, ddof=1) * sqrt(252),
    rf a constant or a series; inf for constant positive excess returns; 8 dp."""
    result = analytics.sharpe_ratio(
        _fixture(case["returns"]),
        risk_free=_risk_free(case["risk_free"]),
        periods_per_year=252,
        ddof=1,
    )
    _assert_value(result, _expected(case["expected"]))


def test_sharpe_ratio_rolling_empyrical() -> None:
    """empyrical test_roll_sharpe_ratio (window 6), per window; 8 dp as printed."""
    for case in _cases("test_roll_sharpe_ratio"):
        returns = _fixture(case["returns"])
        for k, expected in enumerate(case["expected"]):
            result = analytics.sharpe_ratio(
                returns[k : k + case["window"]],
                risk_free=0.0,
                periods_per_year=252,
                ddof=1,
            )
            assert result == pytest.approx(expected, abs=_half_unit(expected))


@pytest.mark.parametrize(
    "case",
    _cases("test_annual_ret") + _cases("test_cagr"),
    ids=_ids("test_annual_ret") + _ids("test_cagr"),
)
def test_annualized_return_empyrical(case: dict[str, Any]) -> None:
    """empyrical test_annual_ret and test_cagr: prod(1 + r) ** (ppy / n) - 1; 8 dp.

    empyrical counts mixed_returns' leading NaN as a zero-return period (n = 9);
    r2k skips it as a warm-up, so the case is given the explicit 0.0 it means.
    """
    ppy = {
        "empyrical.DAILY": 252,
        "empyrical.WEEKLY": 52,
        "empyrical.MONTHLY": 12,
        "empyrical.YEARLY": 1,
    }
    returns = np.nan_to_num(_fixture(case["returns"]))
    result = analytics.annualized_return(
        returns, periods_per_year=ppy[case["period"]["expr"]]
    )
    _assert_value(result, _expected(case["expected"]))


def test_annualized_return_warm_up_is_not_a_period() -> None:
    """The r2k convention where it differs from empyrical: a leading NaN is not a
    period (8 returns over 252 sessions a year, not 9)."""
    mixed = _fixture("mixed_returns")
    growth = np.prod(1.0 + mixed[1:])
    expected = growth ** (252 / 8) - 1.0
    result = analytics.annualized_return(mixed, periods_per_year=252)
    assert result == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case", _cases("test_alpha_beta"), ids=_ids("test_alpha_beta"))
def test_beta_empyrical(case: dict[str, Any]) -> None:
    """empyrical test_alpha_beta (the beta half); NaN below two observations.

    empyrical aligns series of different lengths by their index (empty against
    nine returns gives NaN); r2k takes positionally aligned series and refuses
    different lengths.
    """
    returns, benchmark = _fixture(case["returns"]), _fixture(case["benchmark"])
    if returns.size != benchmark.size:
        with pytest.raises(SchemaError, match="`benchmark` has 9 values"):
            analytics.beta(returns, benchmark)
        return
    result = analytics.beta(returns, benchmark)
    expected = case["expected"]
    _assert_value(result, expected[1] if isinstance(expected, list) else float("nan"))


def test_beta_rolling_empyrical() -> None:
    """empyrical test_roll_alpha_beta (window 6), beta per window; the window with
    mixed_returns' leading NaN uses the 5 complete pairs; 8 dp."""
    for case in _cases("test_roll_alpha_beta"):
        if case["window"] == 1:
            continue
        returns, benchmark = _fixture(case["returns"]), _fixture(case["benchmark"])
        window = case["window"]
        for k, (_, expected) in enumerate(case["expected"]):
            result = analytics.beta(returns[k : k + window], benchmark[k : k + window])
            assert result == pytest.approx(expected, abs=EMPYRICAL)


def test_correlation_beta_identity_empyrical() -> None:
    """No source publishes correlations: on empyrical's rolling beta windows,
    correlation equals beta * sd(benchmark) / sd(returns), and NumPy's corrcoef."""
    returns, benchmark = _fixture("mixed_returns"), _fixture("negative_returns")
    for k in range(4):
        r, b = returns[k : k + 6], benchmark[k : k + 6]
        ok = ~np.isnan(r)
        expected = np.corrcoef(r[ok], b[ok])[0, 1]
        result = analytics.correlation(r, b)
        assert result == pytest.approx(expected, rel=1e-12)
        identity = analytics.beta(r, b) * np.std(b[ok]) / np.std(r[ok])
        assert result == pytest.approx(identity, rel=1e-12)
    assert analytics.correlation(returns, returns) == 1.0


@pytest.mark.parametrize(
    ("test", "capture"),
    [
        ("test_up_capture", analytics.up_capture),
        ("test_down_capture", analytics.down_capture),
    ],
)
def test_capture_empyrical(test: str, capture: Any) -> None:
    """empyrical test_up_capture and test_down_capture (daily, 252); the benchmark's
    leading NaN is neither up nor down; NaN when there is no such period; 8 dp."""
    for case in _cases(test):
        benchmark = case["benchmark"] if "benchmark" in case else case["factor_returns"]
        result = capture(
            _fixture(case["returns"]), _fixture(benchmark), periods_per_year=252
        )
        _assert_value(result, _expected(case["expected"]))


def test_up_down_capture_empyrical() -> None:
    """empyrical test_up_down_capture: up capture / down capture; 8 dp (the values
    are printed truncated, not rounded, to 10 decimals)."""
    for case in _cases("test_up_down_capture"):
        r, b = _fixture(case["returns"]), _fixture(case["factor_returns"])
        up = analytics.up_capture(r, b, periods_per_year=252)
        down = analytics.down_capture(r, b, periods_per_year=252)
        expected = _expected(case["expected"])
        if np.isnan(expected):
            assert np.isnan(up) or np.isnan(down)
        else:
            assert up / down == pytest.approx(expected, abs=EMPYRICAL)


@pytest.mark.parametrize(
    "test",
    ["test_roll_up_capture", "test_roll_down_capture", "test_roll_up_down_capture"],
)
def test_capture_rolling_empyrical(test: str) -> None:
    """empyrical test_roll_{up,down,up_down}_capture (window 6), per window; as
    printed (8 to 12 significant digits)."""
    for case in _cases(test):
        if case["window"] == 1:
            continue
        r, b = _fixture(case["returns"]), _fixture(case["factor_returns"])
        window = case["window"]
        for k, expected in enumerate(case["expected"]):
            rw, bw = r[k : k + window], b[k : k + window]
            up = analytics.up_capture(rw, bw, periods_per_year=252)
            down = analytics.down_capture(rw, bw, periods_per_year=252)
            result = {
                "test_roll_up_capture": up,
                "test_roll_down_capture": down,
                "test_roll_up_down_capture": up / down,
            }[test]
            assert result == pytest.approx(expected, abs=_half_unit(expected))


def test_levels_from_returns_empyrical() -> None:
    """empyrical test_cum_returns: mixed_returns (leading NaN: the level there is
    the start) and negative_returns, from 100 or as cumulative returns (start 1,
    minus 1); empyrical asserts 4 decimals here (it prints 0.066559 for 0.06656)."""
    for case in _cases("test_cum_returns"):
        returns = _fixture(case["returns"])
        start = case["starting_value"]
        levels = analytics.levels_from_returns(returns, base=float(start or 1.0))
        result = levels if start else levels - 1.0
        assert len(result) == len(case["expected"])
        for got, expected in zip(result, case["expected"], strict=True):
            assert got == pytest.approx(expected, abs=1.5e-4)


def test_simple_returns_empyrical() -> None:
    """empyrical test_simple_returns: flat prices give zero returns; pos_line gives
    1/n after its first price. That first price is 0, where empyrical returns inf
    and r2k refuses the level."""
    flat = analytics.simple_returns(_fixture("flat_line_1"))
    assert np.isnan(flat[0])
    np.testing.assert_array_equal(flat[1:], np.zeros(8))
    line = _fixture("pos_line")
    result = analytics.simple_returns(line[1:])
    expected = 1.0 / np.arange(1, 999)
    np.testing.assert_allclose(result[1:], expected, rtol=1e-12)
    with pytest.raises(SchemaError, match="`levels` must be strictly positive"):
        analytics.simple_returns(line)


# --- ffn ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ffn_prices() -> pl.DataFrame:
    return _csv("ffn/test_data.csv").with_columns(
        pl.col("Date").str.to_date("%m/%d/%Y")
    )


def test_simple_returns_ffn(ffn_prices: pl.DataFrame) -> None:
    """ffn test_to_returns: AAPL, MSFT, C rows 0..9, iloc 1 and 9; 3 dp."""
    case = _json("ffn/expected.json")["to_returns"]
    aapl = analytics.simple_returns(ffn_prices["AAPL"][:10])
    assert aapl[1] == pytest.approx(case["checks"]["iloc1"], abs=FFN)
    assert aapl[9] == pytest.approx(case["checks"]["iloc9"], abs=FFN)
    for ticker, checks in case["df_checks"].items():
        result = analytics.simple_returns(ffn_prices[ticker][:10])
        assert result[1] == pytest.approx(checks["iloc1"], abs=FFN)
        assert result[9] == pytest.approx(checks["iloc9"], abs=FFN)


def test_levels_from_returns_ffn(ffn_prices: pl.DataFrame) -> None:
    """ffn test_to_price_index (base 100), rows 0..9, iloc 9; 3 dp."""
    case = _json("ffn/expected.json")["to_price_index(base=100)"]
    for ticker, expected in case["iloc9"].items():
        returns = analytics.simple_returns(ffn_prices[ticker][:10])
        levels = analytics.levels_from_returns(returns, base=100.0)
        assert levels[9] == pytest.approx(expected, abs=FFN)


def test_drawdown_ffn(ffn_prices: pl.DataFrame) -> None:
    """ffn test_to_drawdown_series and test_calc_max_drawdown, rows 0..9; 3 dp."""
    vectors = _json("ffn/expected.json")
    series = vectors["to_drawdown_series"]
    for ticker, expected in vectors["calc_max_drawdown"]["values"].items():
        prices = ffn_prices[ticker][:10]
        dd = analytics.drawdown(prices)
        assert dd[1] == pytest.approx(series["iloc1"][ticker], abs=FFN)
        assert dd[9] == pytest.approx(series["iloc9"][ticker], abs=FFN)
        assert analytics.max_drawdown(prices) == pytest.approx(expected, abs=FFN)
        deepest = analytics.drawdowns(prices)["depth"].min()
        assert deepest == pytest.approx(expected, abs=FFN)


def _year_frac(start: date, end: date) -> float:
    return (end - start).days / 365.25  # ffn.year_frac


def test_annualized_return_ffn(ffn_prices: pl.DataFrame) -> None:
    """ffn test_calc_cagr: calendar CAGR with year_frac = days / 365.25, i.e.
    ``periods_per_year = n / year_frac`` for n returns; 3 dp."""
    case = _json("ffn/expected.json")["calc_cagr"]
    frames = [(ffn_prices[:10], {"AAPL": case["AAPL rows 0..9"]})]
    frames.append((ffn_prices, case["full_df"]))
    for frame, expected_by_ticker in frames:
        years = _year_frac(frame["Date"][0], frame["Date"][-1])
        for ticker, expected in expected_by_ticker.items():
            returns = analytics.simple_returns(frame[ticker])
            result = analytics.annualized_return(
                returns, periods_per_year=(frame.height - 1) / years
            )
            assert result == pytest.approx(expected, abs=FFN)


# --- vectorbt, tulipindicators, Lean, StockCharts, pandas-ta ---------------------


VECTORBT_PRICES = {
    "a": [1.0, 2.0, 3.0, 4.0, 5.0],
    "b": [5.0, 4.0, 3.0, 2.0, 1.0],
    "c": [1.0, 2.0, 3.0, 2.0, 1.0],
}


@pytest.mark.parametrize("column", ["a", "b", "c"])
def test_annualized_volatility_and_sharpe_vectorbt(column: str) -> None:
    """vectorbt test_returns: pct_change (first NaN), ddof=1, 365 periods a year,
    risk-free 0.01 per period; full precision, rel 1e-12."""
    vectors = _json("vectorbt/expected_returns.json")
    returns = analytics.simple_returns(VECTORBT_PRICES[column])
    vol = analytics.annualized_volatility(returns, periods_per_year=365, ddof=1)
    assert vol == pytest.approx(vectors["annualized_volatility"][column], rel=1e-12)
    sharpe = analytics.sharpe_ratio(
        returns, risk_free=0.01, periods_per_year=365, ddof=1
    )
    expected = vectors["sharpe_ratio(risk_free=0.01)"][column]
    assert sharpe == pytest.approx(expected, rel=1e-12)


def test_rolling_volatility_tulip() -> None:
    """tulipindicators extra.txt volatility(3): population sd (ddof=0) of the last 3
    simple returns times sqrt(252); 9 decimals printed."""
    case = _json("tulipindicators/vectors.json")["extra"]
    case = next(v for k, v in case.items() if k.startswith("volatility 3"))
    returns = analytics.simple_returns(case["in"])
    result = analytics.rolling_volatility(returns, 3, periods_per_year=252, ddof=0)
    n = len(case["out"])
    assert np.isnan(result[:-n]).all()
    for got, expected in zip(result[-n:], case["out"], strict=True):
        assert got == pytest.approx(expected, abs=_half_unit(expected))


def test_sharpe_ratio_lean() -> None:
    """Lean SharpeRatio(10) (spy_sr.txt): mean / population sd of the last 10 daily
    returns, rf 0, not annualized (ddof=0, periods_per_year=1); rows 10 to 65
    (Lean emits partial-window values before row 10); abs 1e-9.

    The last row (2021-03-10) does not follow from the file's own close of
    669.59: it is reproduced with a close of 669.62, so the reference was made
    from a different last bar.
    """
    frame = _csv("lean/spy_sr.txt")
    close = frame["close"].to_numpy()
    expected = frame["SR_10"].to_numpy()
    returns = analytics.simple_returns(close)
    for t in range(10, frame.height - 1):
        result = analytics.sharpe_ratio(
            returns[t - 9 : t + 1], risk_free=0.0, periods_per_year=1, ddof=0
        )
        assert result == pytest.approx(expected[t], abs=1e-9)
    assert close[-1] == 669.59
    last_bar = analytics.simple_returns(np.concatenate((close[-11:-1], [669.62])))
    result = analytics.sharpe_ratio(
        last_bar[1:], risk_free=0.0, periods_per_year=1, ddof=0
    )
    assert result == pytest.approx(expected[-1], abs=1e-9)


def test_drawdown_stockcharts_ulcer_worksheet() -> None:
    """StockCharts Ulcer Index worksheet: percent drawdown from the running max
    close; 10 significant digits printed."""
    frame = _csv("bukosabino-ta/cs-ui.csv")
    result = 100.0 * analytics.drawdown(frame["Close"]).to_numpy()
    expected = frame["percent_drawdown"].to_numpy()
    np.testing.assert_allclose(result, expected, rtol=1e-9, atol=1e-12)


def test_drawdown_and_returns_pandas_ta() -> None:
    """pandas-ta-classic DD_PCT (drawdown as a positive fraction), PCTRET_1 and
    LOGRET_1 on SPY_D: snapshot rows, last values, counts; 8 dp."""
    close = _csv("pandas-ta-classic/SPY_D.csv")["close"]
    snapshots = _json("pandas-ta-classic/regression_snapshots.json")
    last = _json("pandas-ta-classic/expected_values.json")
    checks = [
        (-analytics.drawdown(close), "drawdown", "DD_PCT"),
        (analytics.simple_returns(close), "percent_return", "PCTRET_1"),
        (analytics.log_returns(close), "log_return", "LOGRET_1"),
    ]
    for series, key, column in checks:
        values = series.to_numpy()
        for row, expected in snapshots[key][column].items():
            assert values[int(row)] == pytest.approx(expected, abs=5e-9)
        assert values[-1] == pytest.approx(last[key][column]["last_value"], abs=5e-9)
        assert series.drop_nulls().len() == last[key][column]["non_nan_count"]
