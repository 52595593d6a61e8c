"""r2k.analytics.currency: an index in another currency from an FX series."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k.analytics.currency import convert_levels
from r2k.data.sources.levels import read_index_levels
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir

START = date(2024, 1, 2)


def _days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def _usd(*close: float) -> pl.DataFrame:
    return pl.DataFrame({"session": _days(len(close)), "close": list(close)})


def _fx(*rate: float | None, days: list[date] | None = None) -> pl.DataFrame:
    sessions = _days(len(rate)) if days is None else days
    return pl.DataFrame(
        {"session": sessions, "rate": list(rate)}, schema_overrides={"rate": pl.Float64}
    ).drop_nulls()


# --- hand examples -------------------------------------------------------------


def test_index_up_ten_dollar_up_five_is_up_fifteen_and_a_half() -> None:
    out = convert_levels(
        _usd(100.0, 110.0), _fx(0.90, 0.945), fx_quote="target_per_usd"
    )
    assert out.columns == ["session", "fx_target_per_usd", "fx_filled", "close"]
    assert out["close"].to_list() == pytest.approx([100.0, 115.5])
    # the same rate quoted the other way (dollars per unit of the target)
    flipped = convert_levels(
        _usd(100.0, 110.0), _fx(1 / 0.90, 1 / 0.945), fx_quote="usd_per_target"
    )
    assert flipped["close"].to_list() == pytest.approx([100.0, 115.5])
    assert flipped["fx_target_per_usd"].to_list() == pytest.approx([0.90, 0.945])


def test_a_weaker_dollar_cuts_the_return() -> None:
    # index +10%, EUR/USD from 1.00 to 1.10 (dollar -9.1%): flat in euros
    out = convert_levels(_usd(100.0, 110.0), _fx(1.00, 1.10), fx_quote="usd_per_target")
    assert out["close"].to_list() == pytest.approx([100.0, 100.0])


def test_rebased_and_several_columns() -> None:
    levels = pl.DataFrame(
        {
            "session": _days(3),
            "price": [200.0, 210.0, 190.0],
            "tr": [400.0, 421.0, 382.0],
        }
    )
    out = convert_levels(
        levels,
        _fx(150.0, 153.0, 147.0),
        fx_quote="target_per_usd",
        columns=["price", "tr"],
        base=100.0,
    )
    assert out["price"].to_list() == pytest.approx(
        [100.0, 100 * 1.05 * 1.02, 100 * 0.95 * 0.98]
    )
    assert out["tr"].to_list() == pytest.approx(
        [100.0, 100 * 421 / 400 * 1.02, 100 * 382 / 400 * 0.98]
    )


def test_sorted_by_session_and_extra_fx_dates_ignored() -> None:
    levels = pl.DataFrame(
        {"session": [START + timedelta(2), START], "close": [120.0, 100.0]}
    )
    # a rate on a day that is no index session (a US holiday) is not used
    fx = _fx(0.9, 5.0, 0.99)
    out = convert_levels(levels, fx, fx_quote="target_per_usd")
    assert out["session"].to_list() == [START, START + timedelta(2)]
    assert out["close"].to_list() == pytest.approx([100.0, 120 * 1.1])


def test_missing_rates_raise_by_default() -> None:
    levels = _usd(100.0, 101.0, 102.0, 103.0)
    fx = _fx(1.0, None, None, 1.2)
    with pytest.raises(SchemaError, match=r"2 session\(s\).*missing_fx='ffill'"):
        convert_levels(levels, fx, fx_quote="target_per_usd")


def test_forward_fill_within_the_limit() -> None:
    levels = _usd(100.0, 101.0, 102.0, 103.0)
    fx = _fx(1.0, None, None, 1.2)
    out = convert_levels(
        levels, fx, fx_quote="target_per_usd", missing_fx="ffill", fill_limit=2
    )
    assert out["fx_target_per_usd"].to_list() == [1.0, 1.0, 1.0, 1.2]
    assert out["fx_filled"].to_list() == [False, True, True, False]
    assert out["close"].to_list() == pytest.approx([100.0, 101.0, 102.0, 103 * 1.2])
    with pytest.raises(SchemaError, match="fill_limit"):
        convert_levels(
            levels, fx, fx_quote="target_per_usd", missing_fx="ffill", fill_limit=1
        )


def test_the_first_session_needs_a_rate() -> None:
    with pytest.raises(SchemaError, match="first session"):
        convert_levels(
            _usd(100.0, 101.0),
            _fx(None, 1.1),
            fx_quote="target_per_usd",
            missing_fx="ffill",
        )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"fx_quote": "eurusd"}, "fx_quote"),
        ({"missing_fx": "interpolate"}, "missing_fx"),
        ({"fill_limit": 0}, "fill_limit"),
        ({"base": -1.0}, "base"),
        ({"columns": "close"}, "columns"),
        ({"columns": []}, "columns"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], name: str) -> None:
    args: dict[str, Any] = {"fx_quote": "target_per_usd"} | kwargs
    with pytest.raises(MethodologyError, match=name):
        convert_levels(_usd(100.0, 101.0), _fx(1.0, 1.1), **args)


def test_bad_frames() -> None:
    with pytest.raises(SchemaError, match="rate"):
        convert_levels(
            _usd(100.0),
            pl.DataFrame({"session": _days(1), "fx": [1.0]}),
            fx_quote="target_per_usd",
        )
    with pytest.raises(SchemaError, match="'close'"):
        convert_levels(_usd(100.0, -1.0), _fx(1.0, 1.0), fx_quote="target_per_usd")
    with pytest.raises(SchemaError, match="'rate'"):
        convert_levels(_usd(100.0, 101.0), _fx(1.0, 0.0), fx_quote="target_per_usd")
    with pytest.raises(SchemaError, match="more than once"):
        convert_levels(
            _usd(100.0, 101.0),
            _fx(1.0, 1.1, days=[START, START]),
            fx_quote="target_per_usd",
        )
    fx = _fx(1.0).with_columns(pl.col("session").cast(pl.Datetime))
    with pytest.raises(SchemaError, match="cast"):
        convert_levels(_usd(100.0), fx, fx_quote="target_per_usd")
    with pytest.raises(SchemaError, match="empty"):
        convert_levels(_usd(), _fx(1.0), fx_quote="target_per_usd")


# --- properties ----------------------------------------------------------------

levels_st = st.lists(st.floats(1.0, 1e5), min_size=1, max_size=60)


@settings(max_examples=100, deadline=None)
@given(
    close=levels_st,
    rate=st.floats(1e-3, 1e3),
    quote=st.sampled_from(["target_per_usd", "usd_per_target"]),
)
def test_constant_fx_leaves_returns_unchanged(
    close: list[float], rate: float, quote: Any
) -> None:
    n = len(close)
    out = convert_levels(_usd(*close), _fx(*[rate] * n), fx_quote=quote)
    np.testing.assert_allclose(out["close"].to_numpy(), close, rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.floats(1.0, 1e5), st.floats(1e-2, 1e2)), min_size=2, max_size=60
    ),
    base=st.one_of(st.none(), st.floats(1.0, 1e4)),
)
def test_returns_compound_index_and_currency(
    pairs: list[tuple[float, float]], base: float | None
) -> None:
    close = np.array([p[0] for p in pairs])
    rate = np.array([p[1] for p in pairs])
    out = convert_levels(_usd(*close), _fx(*rate), fx_quote="target_per_usd", base=base)
    converted = out["close"].to_numpy()
    np.testing.assert_allclose(
        converted[1:] / converted[:-1],
        close[1:] / close[:-1] * rate[1:] / rate[:-1],
        rtol=1e-9,
    )
    assert converted[0] == pytest.approx(close[0] if base is None else base)
    # converting back with the inverse quote direction gives the dollar series
    back = convert_levels(
        out.select("session", "close"),
        pl.DataFrame({"session": out["session"], "rate": rate}),
        fx_quote="usd_per_target",
    )
    np.testing.assert_allclose(
        back["close"].to_numpy() / back["close"][0], close / close[0], rtol=1e-9
    )


# --- real data -----------------------------------------------------------------


@pytest.fixture(scope="module")
def rut(data_dir: DataDir) -> pl.DataFrame:
    return read_index_levels(data_dir.index_levels("RUT"), "RUT")


def test_rut_in_another_currency(rut: pl.DataFrame) -> None:
    # a made-up rate that doubles linearly over the whole history, with gaps
    n = rut.height
    fx = pl.DataFrame({"session": rut["session"], "rate": np.linspace(1.0, 2.0, n)})
    fx = fx.filter(pl.int_range(pl.len()) % 50 != 7)  # one session in 50 missing
    with pytest.raises(SchemaError, match="missing_fx"):
        convert_levels(
            rut, fx, fx_quote="target_per_usd", columns=["open", "high", "low", "close"]
        )
    out = convert_levels(
        rut,
        fx,
        fx_quote="target_per_usd",
        columns=["open", "high", "low", "close"],
        missing_fx="ffill",
    )
    assert out.height == n
    assert out["fx_filled"].sum() == len(range(7, n, 50))
    first, last = rut["close"][0], rut["close"][-1]
    assert out["close"][0] == first
    assert out["close"][-1] == pytest.approx(last * 2.0)
    assert (out["low"] <= out["close"]).all()
    assert (out["close"] <= out["high"]).all()
