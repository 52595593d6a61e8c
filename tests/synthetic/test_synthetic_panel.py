"""The synthetic market held in typed form (issue 13, memory) and its MARKET view."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from r2k import schemas
from r2k.synthetic import market as sm


@pytest.fixture(scope="module")
def market() -> sm.SyntheticMarket:
    return sm.synthetic_market(300, start=date(2019, 1, 2), end=date(2019, 12, 31))


def test_panel_is_typed(market: sm.SyntheticMarket) -> None:
    panel = market.panel
    assert panel.columns == sm.PANEL.names()
    dtype = panel.schema["security_id"]
    assert isinstance(dtype, pl.Enum)
    assert dtype.categories.to_list() == market.securities["security_id"].to_list()
    for name in ("session", "close", "volume", "shares_outstanding"):
        assert panel.schema[name] == sm.PANEL[name]
    # 4 (date) + 2 (codes: under 65,536 lines) + 3 x 8 bytes and a validity mask:
    # no string column and no market cap per row.
    assert panel.estimated_size() / panel.height < 31


def test_market_is_the_panel_with_line_columns(market: sm.SyntheticMarket) -> None:
    m, panel = market.market, market.panel
    assert m.schema == schemas.MARKET
    assert m.height == panel.height
    assert m["security_id"].to_list() == panel["security_id"].cast(pl.String).to_list()
    for name in ("session", "close", "volume", "shares_outstanding"):
        assert m[name].equals(panel[name])
    lines = market.securities.select("security_id", "name", "sector")
    joined = m.select("security_id", "name", "sector").join(
        lines, on="security_id", how="left", suffix="_line"
    )
    assert (joined["name"] == joined["name_line"]).all()
    assert (joined["sector"] == joined["sector_line"]).all()
    cap = m["close"] * m["shares_outstanding"]
    assert m["total_market_cap"].equals(cap)
    assert m["total_market_cap"].null_count() == m["shares_outstanding"].null_count()
    assert market.market is m  # built once


def test_market_rows_needs_the_lines_in_code_order(market: sm.SyntheticMarket) -> None:
    shuffled = market.securities.sort("name", descending=True)
    with pytest.raises(ValueError, match="in order"):
        sm.market_rows(market.panel.head(10), shuffled)


def test_empty_market_panel() -> None:
    empty = sm.synthetic_market(10, start=date(2021, 1, 2), end=date(2021, 1, 3))
    assert empty.panel.schema == sm.PANEL
    assert empty.market.schema == schemas.MARKET
    assert empty.market.height == 0
