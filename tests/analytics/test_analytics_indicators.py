"""Indicators of r2k.analytics against external vectors, each test naming its source.

The vectors are read in place from ``../shared/vectors`` (see each folder's
ORIGIN.txt); the module is skipped only if that directory is absent. Tolerances
follow what each source can support, stated per test:

* TA-Lib regression test (``ta-lib/expected.json``): values printed with 2-6
  decimals, so half a unit of the last printed decimal;
* TA-Lib 0.8.2 on SPY (``talib_0.8.2_on_SPY_D.csv``): printed with 10
  significant digits, so ``rtol=1e-9``;
* Achelis via tulipindicators: half a unit of the last printed decimal (tulip's
  own harness allows 1e-3);
* tulipy oracle (pandas-ta-classic): full precision, ``rtol=1e-12``, except
  ``stddev``/``var`` whose running sums in tulipy carry about 1e-10, ``rtol=1e-9``;
* pandas-ta-classic snapshots and last values: 8 decimals, ``abs=5e-9``;
* StockCharts spreadsheets (bukosabino/ta): as printed (ROC 8 decimals, true
  range 15, Donchian middle rounded to cents by the spreadsheet);
* Lean: its harness allows 1e-3; full-precision columns are asserted at 1e-9;
* NIST StRD NumAcc: the certified tolerances of TA-Lib's NIST test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from r2k import analytics

VECTORS = Path(__file__).parents[2].parent / "shared" / "vectors"
pytestmark = pytest.mark.skipif(
    not VECTORS.is_dir(),
    reason=f"external test vectors {VECTORS} are absent "
    "(expected ../shared/vectors beside the checkout)",
)


def _json(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def _csv(relative: str) -> pl.DataFrame:
    return pl.read_csv(VECTORS / relative)


def _col(frame: pl.DataFrame, name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    return frame[name].cast(pl.Float64).to_numpy()


def _half_unit(value: float) -> float:
    """Half a unit of the last decimal printed in ``value`` (plus float noise)."""
    text = repr(float(value))
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0**-decimals + 1e-12


def _assert_close(
    result: Any, expected: Any, *, rtol: float = 0.0, atol: float = 0.0
) -> None:
    """Values agree and missing values sit at the same positions."""
    np.testing.assert_allclose(
        np.asarray(result, dtype=np.float64),
        np.asarray(expected, dtype=np.float64),
        rtol=rtol,
        atol=atol,
        equal_nan=True,
    )


def _assert_tail(result: Any, expected: list[float]) -> None:
    """Tulip outputs start after the warm-up: compare with the tail, per decimal."""
    tail = np.asarray(result, dtype=np.float64)[-len(expected) :]
    assert not np.isnan(tail).any()
    head = np.asarray(result, dtype=np.float64)[: -len(expected)]
    assert np.isnan(head).all()
    for got, want in zip(tail, expected, strict=True):
        assert got == pytest.approx(want, abs=_half_unit(want))


# --- TA-Lib -------------------------------------------------------------------


def _talib_regtest_close() -> np.ndarray[Any, np.dtype[np.float64]]:
    return _col(_csv("ta-lib/close_daily_ref_0.csv"), "close")


@pytest.mark.parametrize(
    ("key", "unit", "scale"),
    [("ROC_14", "percent", 1.0), ("ROCR100_14", "ratio", 100.0)],
)
def test_rate_of_change_talib_regtest(key: str, unit: str, scale: float) -> None:
    """TA-Lib ta_regtest test_mom.c, ROC(14) and ROCR100(14); half a printed unit."""
    case = _json("ta-lib/expected.json")[key]
    result = analytics.rate_of_change(_talib_regtest_close(), 14, unit=unit)  # type: ignore[call-overload]
    assert np.isnan(result[: case["beg_idx"]]).all()
    for out_index, expected in case["checks"]:
        got = scale * result[case["beg_idx"] + out_index]
        assert got == pytest.approx(expected, abs=_half_unit(expected))


def test_rate_of_change_talib_regtest_full_precision() -> None:
    """TA-Lib regtest ROC(14), first and last, as recomputed by the vector's author."""
    full = _json("ta-lib/expected.json")["numpy_recomputed_full_precision"]
    result = analytics.rate_of_change(_talib_regtest_close(), 14, unit="percent")
    assert result[14] == pytest.approx(full["ROC_14_first"], rel=1e-12)
    assert result[-1] == pytest.approx(full["ROC_14_last"], rel=1e-12)


def test_momentum_talib_regtest() -> None:
    """TA-Lib ta_regtest test_mom.c, MOM(14); half a printed unit."""
    case = _json("ta-lib/expected.json")["MOM_14"]
    result = analytics.momentum(_talib_regtest_close(), 14)
    assert np.isnan(result[:14]).all()
    for out_index, expected in case["checks"]:
        got = result[case["beg_idx"] + out_index]
        assert got == pytest.approx(expected, abs=_half_unit(expected))


@pytest.mark.parametrize(
    ("key", "nbdev"), [("STDDEV_5_nbdev1", 1.0), ("STDDEV_5_nbdev1.5", 1.5)]
)
def test_rolling_standard_deviation_talib_regtest(key: str, nbdev: float) -> None:
    """TA-Lib ta_regtest test_stddev.c, STDDEV(5, nbdev): population (ddof=0) sd
    times nbdev; half a printed unit."""
    case = _json("ta-lib/expected.json")[key]
    result = nbdev * analytics.rolling_standard_deviation(
        _talib_regtest_close(), 5, ddof=0
    )
    assert np.isnan(result[:4]).all()
    for out_index, expected in case["checks"]:
        got = result[case["beg_idx"] + out_index]
        assert got == pytest.approx(expected, abs=_half_unit(expected))
    last = _json("ta-lib/expected.json")["numpy_recomputed_full_precision"]
    if nbdev == 1.0:
        assert result[-1] == pytest.approx(last["STDDEV_5_last"], rel=1e-12)


@pytest.fixture(scope="module")
def talib_spy() -> pl.DataFrame:
    return _csv("ta-lib/talib_0.8.2_on_SPY_D.csv")


@pytest.fixture(scope="module")
def spy_bars() -> pl.DataFrame:
    return _csv("pandas-ta-classic/SPY_D.csv")


@pytest.mark.parametrize("period", [1, 10, 12, 14, 20, 50, 125, 250])
def test_rate_of_change_talib_roc_rocp_spy(
    talib_spy: pl.DataFrame, period: int
) -> None:
    """TA-Lib 0.8.2 ROC (percent) and ROCP (fraction) on SPY_D, rtol 1e-9
    (10 significant digits printed); the warm-up is the first `period` rows."""
    close = talib_spy["close"]
    percent = analytics.rate_of_change(close, period, unit="percent")
    fraction = analytics.rate_of_change(close, period, unit="fraction")
    _assert_close(percent.to_numpy(), _col(talib_spy, f"ROC_{period}"), rtol=1e-9)
    _assert_close(fraction.to_numpy(), _col(talib_spy, f"ROCP_{period}"), rtol=1e-9)
    assert percent.null_count() == period


def test_rate_of_change_talib_rocr_spy(talib_spy: pl.DataFrame) -> None:
    """TA-Lib 0.8.2 ROCR(10) (ratio) and ROCR100(10) on SPY_D, rtol 1e-9."""
    ratio = analytics.rate_of_change(talib_spy["close"], 10, unit="ratio").to_numpy()
    _assert_close(ratio, _col(talib_spy, "ROCR_10"), rtol=1e-9)
    _assert_close(100.0 * ratio, _col(talib_spy, "ROCR100_10"), rtol=1e-9)


def test_momentum_talib_spy(talib_spy: pl.DataFrame) -> None:
    """TA-Lib 0.8.2 MOM(10) on SPY_D, rtol 1e-9."""
    result = analytics.momentum(talib_spy["close"], 10).to_numpy()
    _assert_close(result, _col(talib_spy, "MOM_10"), rtol=1e-9, atol=1e-12)


def test_rolling_variance_talib_spy(talib_spy: pl.DataFrame) -> None:
    """TA-Lib 0.8.2 STDDEV(20) and VAR(20) on SPY_D (population, ddof=0), rtol 1e-9."""
    close = talib_spy["close"]
    std = analytics.rolling_standard_deviation(close, 20, ddof=0).to_numpy()
    var = analytics.rolling_variance(close, 20, ddof=0).to_numpy()
    _assert_close(std, _col(talib_spy, "STDDEV_20_pop"), rtol=1e-9)
    _assert_close(var, _col(talib_spy, "VAR_20_pop"), rtol=1e-9)


def test_donchian_channel_talib_max_min_spy(
    talib_spy: pl.DataFrame, spy_bars: pl.DataFrame
) -> None:
    """TA-Lib 0.8.2 MAX/MIN(20) of the close, and MAX(high)/MIN(low), on SPY_D:
    the Donchian bands including the current bar; exact."""
    close = talib_spy["close"]
    on_close = analytics.donchian_channel(close, close, 20, include_current=True)
    _assert_close(on_close.upper.to_numpy(), _col(talib_spy, "MAX_20"))
    _assert_close(on_close.lower.to_numpy(), _col(talib_spy, "MIN_20"))
    bars = analytics.donchian_channel(
        spy_bars["high"], spy_bars["low"], 20, include_current=True
    )
    _assert_close(bars.upper.to_numpy(), _col(talib_spy, "MAXH_20"))
    _assert_close(bars.lower.to_numpy(), _col(talib_spy, "MINL_20"))


# --- Achelis (Technical Analysis from A to Z) via tulipindicators ----------------


def _tulip(section: str, name: str) -> Any:
    return _json("tulipindicators/vectors.json")[section][name]


def test_rate_of_change_ratio_achelis() -> None:
    """Achelis p. 197 via tulipindicators atoz.txt: ROCR(12) as a ratio."""
    case = _tulip("atoz", "rocr 12 (p.197, ratio)")
    _assert_tail(analytics.rate_of_change(case["in"], 12, unit="ratio"), case["out"])


def test_rolling_standard_deviation_achelis() -> None:
    """Achelis p. 309 via tulipindicators atoz.txt: stddev(5), population."""
    case = _tulip("atoz", "stddev 5 (p.309, population)")
    _assert_tail(
        analytics.rolling_standard_deviation(case["in"], 5, ddof=0), case["out"]
    )


def test_vertical_horizontal_filter_achelis() -> None:
    """Achelis p. 354 via tulipindicators atoz.txt: VHF(5), first value at index 5."""
    case = _tulip("atoz", "vhf 5 (p.354, Vertical Horizontal Filter)")
    _assert_tail(analytics.vertical_horizontal_filter(case["in"], 5), case["out"])


def test_rate_of_change_fraction_tulip_extra() -> None:
    """tulipindicators extra.txt (hand calculation): roc(3) as a fraction."""
    case = _tulip("extra", "roc 3 (fraction)")
    _assert_tail(analytics.rate_of_change(case["in"], 3, unit="fraction"), case["out"])


def test_momentum_tulip_extra() -> None:
    """tulipindicators extra.txt (hand calculation): mom(3)."""
    case = _tulip("extra", "mom 3")
    _assert_tail(analytics.momentum(case["in"], 3), case["out"])


def test_rolling_variance_tulip_extra() -> None:
    """tulipindicators extra.txt (hand calculation): stddev(3) and var(3), population;
    9 decimals printed."""
    std = _tulip("extra", "stddev 3 (population)")
    var = _tulip("extra", "var 3 (population)")
    _assert_tail(analytics.rolling_standard_deviation(std["in"], 3, ddof=0), std["out"])
    _assert_tail(analytics.rolling_variance(var["in"], 3, ddof=0), var["out"])


def test_donchian_channel_tulip_max_min() -> None:
    """tulipindicators extra.txt: max(n)/min(n), the Donchian bands of a single
    series including the current bar."""
    for case in _tulip("extra", "max 3"):
        channel = analytics.donchian_channel(
            case["in"], case["in"], 3, include_current=True
        )
        _assert_tail(channel.upper, case["out"])
    case = _tulip("extra", "max 2")
    channel = analytics.donchian_channel(
        case["in"], case["in"], 2, include_current=True
    )
    _assert_tail(channel.upper, case["out"])
    case = _tulip("extra", "min 3")
    channel = analytics.donchian_channel(
        case["in"], case["in"], 3, include_current=True
    )
    _assert_tail(channel.lower, case["out"])


# --- tulipy oracle and pandas-ta-classic (SPY_D) ------------------------------


@pytest.fixture(scope="module")
def tulipy() -> dict[str, list[float]]:
    arrays: dict[str, list[float]] = _json("pandas-ta-classic/tulipy_oracle.json")[
        "arrays"
    ]
    return arrays


def test_rate_of_change_tulipy_oracle(
    spy_bars: pl.DataFrame, tulipy: dict[str, list[float]]
) -> None:
    """tulipy 0.4.0 roc (fraction), rocr (ratio) and mom, period 10, last 2100 rows
    of SPY_D; rtol 1e-12."""
    close = spy_bars["close"]
    n = len(tulipy["roc"])
    roc = analytics.rate_of_change(close, 10, unit="fraction").to_numpy()[-n:]
    rocr = analytics.rate_of_change(close, 10, unit="ratio").to_numpy()[-n:]
    mom = analytics.momentum(close, 10).to_numpy()[-n:]
    _assert_close(roc, tulipy["roc"], rtol=1e-12, atol=1e-15)
    _assert_close(rocr, tulipy["rocr"], rtol=1e-12)
    _assert_close(mom, tulipy["mom"], rtol=1e-12, atol=1e-12)


def test_vertical_horizontal_filter_tulipy_oracle(
    spy_bars: pl.DataFrame, tulipy: dict[str, list[float]]
) -> None:
    """tulipy 0.4.0 vhf(28), last 2100 rows of SPY_D; rtol 1e-12."""
    n = len(tulipy["vhf"])
    vhf = analytics.vertical_horizontal_filter(spy_bars["close"], 28).to_numpy()[-n:]
    _assert_close(vhf, tulipy["vhf"], rtol=1e-12)


def test_rolling_variance_tulipy_oracle(
    spy_bars: pl.DataFrame, tulipy: dict[str, list[float]]
) -> None:
    """tulipy 0.4.0 stddev(20) and var(20), population; rtol 1e-9 (tulipy keeps
    running sums, good to about 1e-10 relative)."""
    close = spy_bars["close"]
    n = len(tulipy["stddev"])
    std = analytics.rolling_standard_deviation(close, 20, ddof=0).to_numpy()[-n:]
    var = analytics.rolling_variance(close, 20, ddof=0).to_numpy()[-n:]
    _assert_close(std, tulipy["stddev"], rtol=1e-9)
    _assert_close(var, tulipy["var"], rtol=1e-9)


def _pandas_ta(
    name: str,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    snapshots = _json("pandas-ta-classic/regression_snapshots.json")[name]
    last = _json("pandas-ta-classic/expected_values.json")[name]
    return snapshots, last


def _check_pandas_ta(
    result: Any, snapshots: dict[str, float], last: dict[str, float]
) -> None:
    """Snapshot rows, the last value and the count of values (the warm-up); 8 dp."""
    values = np.asarray(result, dtype=np.float64)
    for row, expected in snapshots.items():
        assert values[int(row)] == pytest.approx(expected, abs=5e-9)
    assert values[-1] == pytest.approx(last["last_value"], abs=5e-9)
    assert int((~np.isnan(values)).sum()) == last["non_nan_count"]


def test_rate_of_change_pandas_ta(spy_bars: pl.DataFrame) -> None:
    """pandas-ta-classic ROC_10 (percent, TA-Lib path) and MOM_10 on SPY_D; 8 dp."""
    snaps, last = _pandas_ta("roc_10")
    roc = analytics.rate_of_change(spy_bars["close"], 10, unit="percent")
    _check_pandas_ta(roc.to_numpy(), snaps["ROC_10"], last["ROC_10"])
    snaps, last = _pandas_ta("mom_10")
    mom = analytics.momentum(spy_bars["close"], 10)
    _check_pandas_ta(mom.to_numpy(), snaps["MOM_10"], last["MOM_10"])


def test_choppiness_index_pandas_ta(spy_bars: pl.DataFrame) -> None:
    """pandas-ta-classic CHOP_14_1_100 on SPY_D: its true range has no first bar
    (``first_bar="skip"``), so 5227 values; 8 dp."""
    snaps, last = _pandas_ta("chop")
    chop = analytics.choppiness_index(
        spy_bars["high"], spy_bars["low"], spy_bars["close"], 14, first_bar="skip"
    )
    _check_pandas_ta(chop.to_numpy(), snaps["CHOP_14_1_100"], last["CHOP_14_1_100"])


def test_vertical_horizontal_filter_pandas_ta(spy_bars: pl.DataFrame) -> None:
    """pandas-ta-classic VHF_28 on SPY_D; 8 dp."""
    snaps, last = _pandas_ta("vhf")
    vhf = analytics.vertical_horizontal_filter(spy_bars["close"], 28)
    _check_pandas_ta(vhf.to_numpy(), snaps["VHF_28"], last["VHF_28"])


def test_donchian_channel_pandas_ta(spy_bars: pl.DataFrame) -> None:
    """pandas-ta-classic DCL/DCM/DCU_20_20 on SPY_D (current bar included); 8 dp."""
    snaps, last = _pandas_ta("donchian_20")
    channel = analytics.donchian_channel(
        spy_bars["high"], spy_bars["low"], 20, include_current=True
    )
    _check_pandas_ta(channel.upper.to_numpy(), snaps["DCU_20_20"], last["DCU_20_20"])
    _check_pandas_ta(channel.lower.to_numpy(), snaps["DCL_20_20"], last["DCL_20_20"])
    _check_pandas_ta(channel.middle.to_numpy(), snaps["DCM_20_20"], last["DCM_20_20"])


def test_rolling_variance_pandas_ta(spy_bars: pl.DataFrame) -> None:
    """pandas-ta-classic STDEV_20 and VAR_20 on SPY_D: TA-Lib path, so population
    (ddof=0); 8 dp."""
    snaps, last = _pandas_ta("stdev_20")
    std = analytics.rolling_standard_deviation(spy_bars["close"], 20, ddof=0)
    _check_pandas_ta(std.to_numpy(), snaps["STDEV_20"], last["STDEV_20"])
    snaps, last = _pandas_ta("variance_20")
    var = analytics.rolling_variance(spy_bars["close"], 20, ddof=0)
    _check_pandas_ta(var.to_numpy(), snaps["VAR_20"], last["VAR_20"])


def test_true_range_pandas_ta(spy_bars: pl.DataFrame) -> None:
    """pandas-ta-classic TRUERANGE_1 on SPY_D (no first bar: 5240 values); 8 dp."""
    snaps, last = _pandas_ta("true_range")
    tr = analytics.true_range(
        spy_bars["high"], spy_bars["low"], spy_bars["close"], first_bar="skip"
    )
    _check_pandas_ta(tr.to_numpy(), snaps["TRUERANGE_1"], last["TRUERANGE_1"])


# --- StockCharts ChartSchool spreadsheets (via bukosabino/ta) ---------------------


def test_rate_of_change_stockcharts() -> None:
    """StockCharts ROC(12) on the DJIA, percent, 8 decimals printed."""
    frame = _csv("bukosabino-ta/cs-roc.csv")
    result = analytics.rate_of_change(frame["Close"], 12, unit="percent")
    _assert_close(result.to_numpy(), _col(frame, "ROC"), atol=5e-9)


def test_true_range_stockcharts() -> None:
    """StockCharts ATR worksheet: the TR column, first bar high - low; 1e-12."""
    frame = _csv("bukosabino-ta/cs-atr.csv")
    tr = analytics.true_range(
        frame["High"], frame["Low"], frame["Close"], first_bar="high_low"
    )
    _assert_close(tr.to_numpy(), _col(frame, "TR"), atol=1e-12)


def test_donchian_channel_stockcharts() -> None:
    """StockCharts Donchian(20), current bar included: bands exact, middle as the
    spreadsheet rounds it (to cents, abs 0.005), %-position 10 significant digits,
    width in percent of the 20-day average close (printed to 5 dp: rtol 1e-6)."""
    frame = _csv("bukosabino-ta/cs-dc.csv")
    channel = analytics.donchian_channel(
        frame["high"], frame["low"], 20, include_current=True
    )
    _assert_close(channel.upper.to_numpy(), _col(frame, "upper_band"))
    _assert_close(channel.lower.to_numpy(), _col(frame, "lower_band"))
    _assert_close(
        channel.middle.to_numpy(), _col(frame, "middle_band"), atol=0.005 + 1e-9
    )
    position = analytics.channel_position(
        frame["close"], channel.upper, channel.lower, unit="fraction"
    )
    _assert_close(position.to_numpy(), _col(frame, "dc_percentage"), rtol=1e-9)
    average = frame["average"]
    width = analytics.channel_width(
        channel.upper, channel.lower, unit="percent", relative_to=average
    )
    _assert_close(width.to_numpy(), _col(frame, "dc_band_width"), rtol=1e-6)


def test_donchian_channel_previous_bars_stockcharts() -> None:
    """bukosabino/ta cs-dc2 (the StockCharts channel with offset 1): the window
    ends with the previous bar (``include_current=False``); bands exact."""
    frame = _csv("bukosabino-ta/cs-dc2.csv")
    channel = analytics.donchian_channel(
        frame["high"], frame["low"], 20, include_current=False
    )
    _assert_close(channel.upper.to_numpy(), _col(frame, "upper_band"))
    _assert_close(channel.lower.to_numpy(), _col(frame, "lower_band"))
    _assert_close(
        channel.middle.to_numpy(), _col(frame, "middle_band"), atol=0.005 + 1e-9
    )


# --- QuantConnect Lean -----------------------------------------------------------


def test_choppiness_index_lean() -> None:
    """Lean ChoppinessIndex(14) (spy_with_chop.csv): first bar's true range is
    high - low, so the first value is at row 13; full precision, 1e-9."""
    frame = _csv("lean/spy_with_chop.csv")
    chop = analytics.choppiness_index(
        frame["High"], frame["Low"], frame["Close"], 14, first_bar="high_low"
    )
    _assert_close(chop.to_numpy(), _col(frame, "CHOP14"), atol=1e-9)


def test_rate_of_change_lean() -> None:
    """Lean RateOfChangePercent(50) (spy_with_rocp50.txt) and RateOfChangeRatio(5)
    (spy_rocr.txt). Lean's harness tolerance 1e-3 for the percent file (printed
    to about 6 significant digits); the ratio file is full precision, 1e-12."""
    frame = _csv("lean/spy_with_rocp50.txt")
    percent = analytics.rate_of_change(frame["Close"], 50, unit="percent")
    _assert_close(percent.to_numpy(), _col(frame, "Rate of Change % 50"), atol=1e-3)
    frame = _csv("lean/spy_rocr.txt")
    ratio = analytics.rate_of_change(frame["Close"], 5, unit="ratio")
    _assert_close(ratio.to_numpy(), _col(frame, "ROCR_5"), atol=1e-12)


def test_momentum_lean() -> None:
    """Lean spy_with_roc50.txt: its column "Rate of Change 50" is close[t] -
    close[t-50] in points, i.e. momentum; Lean's harness tolerance 1e-3."""
    frame = _csv("lean/spy_with_roc50.txt")
    result = analytics.momentum(frame["Close"], 50)
    _assert_close(result.to_numpy(), _col(frame, "Rate of Change 50"), atol=1e-3)


def test_rolling_variance_lean() -> None:
    """Lean spy_var.txt (Variance/StandardDeviation(10) tests): population variance
    (ddof=0) of 10 closes; printed to 1e-14, asserted at 1e-8."""
    frame = _csv("lean/spy_var.txt")
    result = analytics.rolling_variance(frame["Close"], 10, ddof=0)
    _assert_close(result.to_numpy(), _col(frame, "Var"), atol=1e-8)


def test_donchian_channel_lean() -> None:
    """Lean DonchianChannel(50) (spy_with_don50.txt), current bar included; exact
    from row 49 on. Lean also emits partial-window values before it is ready (rows
    0-48); r2k leaves the warm-up missing. The last row is an intraday bar with no
    expected value."""
    frame = _csv("lean/spy_with_don50.txt")
    channel = analytics.donchian_channel(
        frame["High"], frame["Low"], 50, include_current=True
    )
    assert channel.upper[:49].null_count() == 49
    for line, column in [
        (channel.upper, "Donchian Channels 50 Top"),
        (channel.lower, "Donchian Channels 50 Bottom"),
        (channel.middle, "Donchian Channels 50 Mean"),
    ]:
        expected = _col(frame, column)
        assert np.isnan(expected[-1])
        _assert_close(line.to_numpy()[49:-1], expected[49:-1], atol=1e-12)


def test_donchian_channel_lean_max_min() -> None:
    """Lean Maximum(5)/Minimum(5) of the close (spy_max.txt, spy_min.txt): the
    Donchian bands of the close including the current bar; exact."""
    for name, column, line in [
        ("spy_max.txt", "MAX_5", "upper"),
        ("spy_min.txt", "MIN_5", "lower"),
    ]:
        frame = _csv(f"lean/{name}")
        close = frame["Close"]
        channel = analytics.donchian_channel(close, close, 5, include_current=True)
        _assert_close(getattr(channel, line).to_numpy(), _col(frame, column))


# --- NIST StRD: numerically stable variance ---------------------------------------


def _nist_data(case: dict[str, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    if "data" in case:
        return np.asarray(case["data"], dtype=np.float64)
    base = float(case["data_rule"].split("(")[1].split("+")[0])
    return np.concatenate(
        [[base + 1.2], np.full(500, base + 1.1), np.full(500, base + 1.3)]
    )


@pytest.mark.parametrize("name", ["NumAcc1", "NumAcc2", "NumAcc3", "NumAcc4"])
def test_variance_nist_strd(name: str) -> None:
    """NIST StRD univariate NumAcc1-4 (certified sample sd; population variance
    derived): relative tolerance as in TA-Lib's NIST test (1e-12, 1e-8, 1e-6;
    NumAcc1, three integers near 1e7, exact)."""
    case = _json("nist-strd/numacc.json")[name]
    data = _nist_data(case)
    tol = case.get("tol_rel_pop_var", 0.0)
    assert analytics.variance(data, ddof=0) == pytest.approx(case["pop_var"], rel=tol)
    assert analytics.standard_deviation(data, ddof=1) == pytest.approx(
        case["certified_sample_sd"], rel=tol
    )
    rolling = analytics.rolling_variance(data, data.size, ddof=0)
    assert rolling[-1] == pytest.approx(case["pop_var"], rel=tol)


def test_variance_nist_strd_defeats_the_one_pass_formula() -> None:
    """NIST StRD NumAcc4: the textbook one-pass formula misses by orders of
    magnitude more than the tolerance the stable algorithm meets."""
    case = _json("nist-strd/numacc.json")["NumAcc4"]
    data = _nist_data(case)
    naive = (np.sum(data * data) - np.sum(data) ** 2 / data.size) / data.size
    assert abs(naive / case["pop_var"] - 1.0) > 1e3 * case["tol_rel_pop_var"]
    stable = analytics.variance(data, ddof=0)
    assert abs(stable / case["pop_var"] - 1.0) <= case["tol_rel_pop_var"]
