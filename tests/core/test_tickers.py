"""r2k.tickers: one canonical ticker across the sources' spellings."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from r2k.tickers import normalize_ticker, normalize_ticker_expr


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("MOG/A", "MOG.A"),  # Nasdaq screener
        ("MOG.A", "MOG.A"),  # iShares, already canonical
        ("MOG A", "MOG.A"),  # iShares with a space
        ("BRK-B", "BRK.B"),  # SEC / Yahoo
        ("brk-b", "BRK.B"),
        ("mog a", "MOG.A"),
        ("  AAPL ", "AAPL"),
        (" BF/B\t", "BF.B"),
        ("MOG_A", "MOG.A"),
        ("MOG  /  A", "MOG.A"),  # a run of separators is one dot
        ("MPTI RT", "MPTI.RT"),
        ("CMS-PB", "CMS.PB"),
        ("JPM^D", "JPM^D"),  # Nasdaq preferred marker is kept
        ("AAPL", "AAPL"),
    ],
)
def test_normalize_ticker(raw: str, canonical: str) -> None:
    assert normalize_ticker(raw) == canonical


def test_expression_on_examples() -> None:
    raw = ["MOG/A", "MOG.A", "MOG A", "BRK-B", "brk-b", "  AAPL ", None]
    got = pl.DataFrame({"t": raw}).select(normalize_ticker_expr("t")).to_series()
    assert got.to_list() == ["MOG.A", "MOG.A", "MOG.A", "BRK.B", "BRK.B", "AAPL", None]


def test_expression_accepts_an_expression() -> None:
    frame = pl.DataFrame({"t": ["bf/b"]})
    assert frame.select(normalize_ticker_expr(pl.col("t"))).item() == "BF.B"


# Tickers as sources write them: letters, digits and the separators seen in the data.
TICKER_TEXT = st.text(
    alphabet=st.sampled_from("ABCDMOGXYZabcz0189 /-_.^\t"),
    max_size=12,
)


@given(st.lists(TICKER_TEXT, max_size=20))
def test_expression_equals_scalar(raws: list[str]) -> None:
    got = pl.DataFrame({"t": raws}, schema={"t": pl.String}).select(
        normalize_ticker_expr("t")
    )
    assert got.to_series().to_list() == [normalize_ticker(r) for r in raws]


@given(TICKER_TEXT)
def test_idempotent_and_canonical(raw: str) -> None:
    once = normalize_ticker(raw)
    assert normalize_ticker(once) == once
    assert once == once.upper()
    assert not once.startswith(".")
    assert not once.endswith(".")
    assert not any(c in once for c in " /-_\t")
