"""r2k.analytics.currency: quote direction, decomposition, spikes, versions."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k.analytics.currency import (
    FxPair,
    check_currency,
    convert_levels,
    currency_version,
    decompose_return,
    decompose_returns,
    isolated_spikes,
    parse_pair,
    usd_pairs,
    usd_quote,
)
from r2k.errors import MethodologyError, MissingDataError, SchemaError

D0 = date(2024, 8, 21)


def _days(n: int) -> list[date]:
    return [D0 + timedelta(days=i) for i in range(n)]


# --- quote direction, from the column name only ----------------------------------


def test_pairs_are_read_from_the_name() -> None:
    assert parse_pair("EURUSD") == FxPair("EURUSD", "EUR", "USD")
    assert parse_pair("USDJPY") == FxPair("USDJPY", "USD", "JPY")
    for name in ("DXY", "EUR", "eurusd", "USDUSD", "EURUSD1"):
        assert parse_pair(name) is None
    assert usd_quote("EURUSD", "EUR") == "usd_per_target"
    assert usd_quote("USDJPY", "JPY") == "target_per_usd"
    with pytest.raises(MethodologyError, match="'EURJPY' does not pair EUR with USD"):
        usd_quote("EURJPY", "EUR")
    with pytest.raises(MethodologyError, match="'DXY' is not a currency pair name"):
        usd_quote("DXY", "USD")


def test_usd_pairs_and_ambiguity() -> None:
    found = usd_pairs(["date", "DXY", "EURUSD", "USDJPY", "EURJPY", "GBPUSD"])
    assert found == {
        "EUR": ("EURUSD", "usd_per_target"),
        "JPY": ("USDJPY", "target_per_usd"),
        "GBP": ("GBPUSD", "usd_per_target"),
    }
    with pytest.raises(MethodologyError, match="both quote EUR against USD"):
        usd_pairs(["EURUSD", "USDEUR"])
    assert check_currency(" eur ", found) == "EUR"
    with pytest.raises(
        MissingDataError, match=r"no exchange rate between USD and 'XAU'"
    ):
        check_currency("XAU", found)


# --- decomposition ---------------------------------------------------------------


def test_decomposition_worked_examples() -> None:
    # index +10% in dollars, the dollar +5% against the target: +15.5%
    d = decompose_return(100.0, 110.0, 0.90, 0.945)
    assert d.usd_return == pytest.approx(0.10, abs=1e-15)
    assert d.currency_return == pytest.approx(0.05, abs=1e-15)
    assert d.cross_term == pytest.approx(0.005, abs=1e-15)
    assert d.local_return == pytest.approx(0.155, abs=1e-15)
    assert d.local_return == d.usd_return + d.currency_return + d.cross_term
    # index +10%, EUR/USD 1.00 -> 1.10 (EUR per USD 1.0 -> 1/1.1): flat in euros
    flat = decompose_return(100.0, 110.0, 1.0, 1 / 1.10)
    assert flat.currency_return == pytest.approx(-1 / 11)
    assert flat.local_return == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(SchemaError, match="positive finite"):
        decompose_return(100.0, 110.0, 0.0, 1.0)


def test_decompose_returns_per_period() -> None:
    out = decompose_returns([np.nan, 100.0, 110.0, 99.0], [0.9, 0.9, 0.945, 0.945])
    assert out.columns == [
        "usd_return",
        "currency_return",
        "cross_term",
        "local_return",
    ]
    assert out.row(0) == (None, None, None, None)
    assert out.row(1) == (None, None, None, None)  # the first shared session
    assert out.row(2) == pytest.approx((0.1, 0.05, 0.005, 0.155))
    assert out.row(3) == pytest.approx((-0.1, 0.0, 0.0, -0.1))


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(2, 60),
    scale=st.floats(1e-3, 1e5),
    quote=st.sampled_from(["target_per_usd", "usd_per_target"]),
)
def test_decomposition_properties(seed: int, n: int, scale: float, quote: str) -> None:
    rng = np.random.default_rng(seed)
    usd = 1000.0 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    fx = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))  # as quoted
    target = fx if quote == "target_per_usd" else 1.0 / fx
    parts = decompose_returns(usd, target).slice(1)
    # 1. the three parts sum to the local return exactly (bit for bit)
    total = parts["usd_return"] + parts["currency_return"] + parts["cross_term"]
    assert (total == parts["local_return"]).all()
    # 2. ... which is the return of the converted levels, to rounding
    frame = pl.DataFrame({"session": _days(n), "close": usd})
    rates = pl.DataFrame({"session": _days(n), "rate": fx})
    conv = convert_levels(frame, rates, fx_quote=quote)  # type: ignore[arg-type]
    local = conv["close"].to_numpy()
    np.testing.assert_allclose(
        parts["local_return"].to_numpy(), local[1:] / local[:-1] - 1.0, atol=1e-12
    )
    # 3. scaling the index's levels changes nothing
    scaled = decompose_returns(usd * scale, target).slice(1)
    np.testing.assert_allclose(
        scaled.to_numpy(), parts.to_numpy(), rtol=1e-9, atol=1e-13
    )
    # 4. quote inversion: the same rate the other way round gives the same levels
    other = "usd_per_target" if quote == "target_per_usd" else "target_per_usd"
    flipped = convert_levels(
        frame,
        rates.with_columns((1.0 / pl.col("rate")).alias("rate")),
        fx_quote=other,  # type: ignore[arg-type]
    )
    np.testing.assert_allclose(flipped["close"].to_numpy(), local, rtol=1e-12)
    # 5. to the currency and back is the identity
    back = convert_levels(
        conv.select("session", "close"),
        rates,
        fx_quote=other,  # type: ignore[arg-type]
    )
    np.testing.assert_allclose(back["close"].to_numpy(), usd, rtol=1e-12)
    # 6. a constant rate leaves the returns unchanged
    still = decompose_returns(usd, np.full(n, 0.93)).slice(1)
    assert (still["currency_return"] == 0.0).all()
    np.testing.assert_allclose(
        still["local_return"].to_numpy(), still["usd_return"].to_numpy(), rtol=0
    )


# --- spikes -----------------------------------------------------------------------


def test_isolated_spikes() -> None:
    # the USD/ZAR closes of 2025-01-14 .. 2025-01-20: two bad prints around a good one
    zar = [18.99, 16.50, 18.76, 15.43, 18.73, 18.50]
    assert isolated_spikes(zar, threshold=0.08).tolist() == [
        False,
        True,
        False,
        True,
        False,
        False,
    ]
    # a move that lasts is not a spike; nor is a first or last value
    assert not isolated_spikes([1.0, 1.2, 1.2, 1.21], threshold=0.08).any()
    assert not isolated_spikes([1.5, 1.0, 1.0, 1.5], threshold=0.08).any()
    assert not isolated_spikes([1.0, 1.0], threshold=0.08).any()
    with pytest.raises(MethodologyError, match="fraction in"):
        isolated_spikes(zar, threshold=8.0)


# --- a currency version ----------------------------------------------------------


def test_currency_version_by_hand() -> None:
    days = _days(5)
    levels = pl.DataFrame({"session": days, "level": [100.0, 110.0, 99.0, 99.0, 121.0]})
    # EUR/USD (USD per EUR): no rate on day 0 (the window starts on day 1) and
    # none on day 3 (carried from day 2)
    fx = pl.DataFrame(
        {"session": [days[1], days[2], days[4]], "rate": [1.0, 1.25, 1.0]}
    )
    v = currency_version(levels, fx, currency="EUR", column="EURUSD", name="TOY")
    assert (v.start, v.end, v.sessions, v.filled) == (days[1], days[4], 4, 1)
    assert v.quote == "usd_per_target"
    assert v.levels["fx_target_per_usd"].to_list() == [1.0, 0.8, 0.8, 1.0]
    assert v.levels["local"].to_list() == pytest.approx([110.0, 79.2, 79.2, 121.0])
    d = v.decomposition
    assert d.usd_return == pytest.approx(0.1)
    assert d.currency_return == pytest.approx(0.0)
    assert d.local_return == pytest.approx(0.1)
    assert v.local_max_drawdown == pytest.approx(79.2 / 110.0 - 1)
    assert v.usd_max_drawdown == pytest.approx(-0.1)
    as_dict = v.to_dict()
    assert as_dict["fx_quote"] == "usd_per_target"
    assert as_dict["start"] == days[1].isoformat()
    with pytest.raises(MissingDataError, match="no session with a USDCNH rate"):
        currency_version(
            levels,
            pl.DataFrame({"session": [date(2030, 1, 1)], "rate": [7.0]}),
            currency="CNH",
            column="USDCNH",
        )
    with pytest.raises(MethodologyError, match="does not pair"):
        currency_version(levels, fx, currency="JPY", column="EURUSD")
