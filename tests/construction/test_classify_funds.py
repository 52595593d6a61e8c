"""BDCs and closed-end funds named like companies (R7 §5.11.1), on real names."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k.construction.classify import fund_structure, fund_structure_expr
from r2k.data.sources.ishares import read_holdings

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir


@pytest.mark.parametrize(
    ("name", "sector", "expected"),
    [
        # Business development companies (real panel names).
        ("Ares Capital Corporation Common Stock", "Finance", "bdc"),
        ("Prospect Capital Corporation Common Stock", "Finance", "bdc"),
        ("Oaktree Specialty Lending Corporation Common Stock", "Finance", "bdc"),
        ("Nuveen Churchill Direct Lending Corp. Common Stock", "Uncategorized", "bdc"),
        ("PennantPark Floating Rate Capital Ltd. Common Stock", "Finance", "bdc"),
        ("WhiteHorse Finance Inc. Common Stock", "Finance", "bdc"),
        ("Fidus Investment Corporation Common Stock", "Finance", "bdc"),
        # Closed-end funds.
        ("Tri Continental Corporation Common Stock", "Finance", "closed_end_fund"),
        (
            "Cohen & Steers Quality Income Realty Fund Inc Common Shares",
            "Finance",
            "closed_end_fund",
        ),
        (
            "Nuveen Select Tax Free Income Portfolio Common Stock",
            "Finance",
            "closed_end_fund",
        ),
        ("General American Investors Inc. Common Stock", "Finance", "closed_end_fund"),
        ("Source Capital Inc. Cmn Shs of BI", "Finance", "closed_end_fund"),
        # Companies with the same words that are not funds.
        ("Two Harbors Investment Corp", "Real Estate", None),
        ("Ready Capital Corporation Common Stock", "Real Estate", None),
        ("Pinnacle West Capital Corporation Common Stock", "Utilities", None),
        ("Blue Owl Capital Inc. Class A Common Stock", "Finance", None),
        (
            "Willis Lease Finance Corporation Common Stock",
            "Consumer Discretionary",
            None,
        ),
        ("Omega Healthcare Investors Inc. Common Stock", "Real Estate", None),
        ("Consumer Portfolio Services Inc. Common Stock", "Finance", None),
        ("Open Lending Corporation Common Stock", "Finance", None),
        ("Investors Title Company Common Stock", "Finance", None),
    ],
)
def test_fund_structure(name: str, sector: str, expected: str | None) -> None:
    assert fund_structure(name, sector) == expected
    frame = pl.DataFrame({"name": [name], "sector": [sector]})
    assert frame.select(fund_structure_expr()).item() == expected


def test_fund_rules_on_the_2026_rank_day(
    data_dir: DataDir, market_panel: pl.DataFrame
) -> None:
    day = market_panel.filter(pl.col("session") == date(2026, 4, 30))
    flagged = day.with_columns(fund_structure_expr()).filter(
        pl.col("fund_structure").is_not_null()
    )
    # Scalar and vectorised rules agree on every real name.
    for name, sector, kind in flagged.select("name", "sector", "fund_structure").rows():
        assert fund_structure(name, sector) == kind
    iwm = read_holdings(data_dir.ishares_dir / "IWM_2026-04-10.csv").equities
    false_members = flagged.filter(
        pl.col("security_id").is_in(iwm["security_id"].implode())
    )
    # IWM (the Russell 2000) holds almost no funds: flagged IWM holdings are the
    # rules' false positives. Measured: 1 (RWAY, a BDC that IWM holds); mortgage
    # REITs are kept out by sector. A rule change that raises it must say why.
    assert false_members.height <= 3, false_members.select("security_id", "name")
    assert flagged.height >= 40
