"""Structure screen (R7 §5.11.1, §5.15) on a hand-built universe."""

from __future__ import annotations

import polars as pl

from r2k import schemas
from r2k.construction.structures import structure_screen


def _universe(rows: list[tuple[str, str, str, str, str]]) -> pl.DataFrame:
    """rows: security_id, company_id, name, sector, security_type."""
    frame = pl.DataFrame(
        rows,
        schema=["security_id", "company_id", "name", "sector", "security_type"],
        orient="row",
    )
    return frame.with_columns(
        exchange=pl.lit(None, dtype=pl.String),
        country=pl.lit(None, dtype=pl.String),
        close=pl.lit(10.0),
        avg_close_30d=pl.lit(10.0),
        avg_volume=pl.lit(1e5),
        addtv=pl.lit(1e6),
        shares_outstanding=pl.lit(1e8),
        float_factor=pl.lit(None, dtype=pl.Float64),
        voting_rights_pct=pl.lit(None, dtype=pl.Float64),
    ).select(list(schemas.UNIVERSE))


SEC = pl.DataFrame(
    {
        "security_id": ["GBLI", "CSQ", "AB", "VRT"],
        "name": [
            "Global Indemnity Group, LLC",
            "CALAMOS STRATEGIC TOTAL RETURN FUND",
            "AllianceBernstein Holding L.P.",
            "Vertiv Holdings Co",
        ],
    }
)

UNIVERSE = _universe(
    [
        (
            "GBLI",
            "GBLI",
            "Global Indemnity Group LLC Class A Common Stock",
            "Finance",
            "class_share",
        ),
        (
            "VRT",
            "VRT",
            "Vertiv Holdings LLC Class A Common Stock",
            "Technology",
            "class_share",
        ),
        (
            "CSQ",
            "CSQ",
            "Calamos Strategic Total Return Common Stock",
            "Finance",
            "common",
        ),
        ("AB", "AB", "AllianceBernstein Common Stock", "Finance", "common"),
        (
            "CUB",
            "CUB",
            "Lionheart Holdings Class A Ordinary Shares",
            "Industrials",
            "class_share",
        ),
        ("CUBWU", "CUB", "Lionheart Holdings Unit", "Finance", "unit"),
        ("HTGC", "HTGC", "Hercules Capital Inc. Common Stock", "Finance", "common"),
        (
            "OWL",
            "OWL",
            "Blue Owl Capital Inc. Class A Common Stock",
            "Finance",
            "class_share",
        ),
        ("DX", "DX", "Dynex Capital Inc. Common Stock", "Real Estate", "common"),
        (
            "TYG",
            "TYG",
            "Tortoise Energy Infrastructure Corporation Common Stock",
            "Finance",
            "common",
        ),
        (
            "FSCO",
            "FSCO",
            "FS Credit Opportunities Corp. Common Stock",
            "Finance",
            "common",
        ),
        (
            "EZPW",
            "EZPW",
            "EZCORP Inc. Class A Non Voting Common Stock",
            "Consumer Discretionary",
            "class_share",
        ),
        (
            "CENTA",
            "CENT",
            "Central Garden & Pet Company Class A Common Stock Nonvoting",
            "Consumer Discretionary",
            "class_share",
        ),
        (
            "CENT",
            "CENT",
            "Central Garden & Pet Company Common Stock",
            "Consumer Discretionary",
            "common",
        ),
        ("MTG", "MTG", "MGIC Investment Corporation Common Stock", "Finance", "bdc"),
        ("ARCC", "ARCC", "Ares Capital Corporation Common Stock", "Finance", "bdc"),
        ("AAPL", "AAPL", "Apple Inc. Common Stock", "Technology", "common"),
    ]
)


def _types(frame: pl.DataFrame) -> dict[str, str]:
    return dict(frame.select("security_id", "security_type").iter_rows())


def test_rules_on_non_members() -> None:
    out, flags = structure_screen(UNIVERSE, members=["OWL", "MTG"], sec=SEC)
    types = _types(out)
    assert types["GBLI"] == "llc"  # sec_llc
    assert types["VRT"] == "class_share"  # the SEC map says "Co": a corporation
    assert types["CSQ"] == "closed_end_fund"  # sec_fund
    assert types["AB"] == "partnership"  # sec_lp
    assert types["CUB"] == "spac"  # spac_units
    assert types["CUBWU"] == "unit"  # the unit line itself is untouched
    assert types["HTGC"] == "bdc"  # bdc_name
    assert types["DX"] == "common"  # a mortgage REIT: Real Estate sector
    assert types["TYG"] == "closed_end_fund"  # sponsor + investment word
    assert types["FSCO"] == "closed_end_fund"
    assert types["AAPL"] == "common"
    assert types["ARCC"] == "bdc"  # a non-member keeps the name table's BDC type
    rules = dict(flags.select("security_id", "rule").iter_rows())
    assert rules["GBLI"] == "sec_llc"
    assert rules["CUB"] == "spac_units"
    assert rules["HTGC"] == "bdc_name"


def test_membership_guard() -> None:
    out, flags = structure_screen(UNIVERSE, members=["OWL", "MTG"], sec=SEC)
    types = _types(out)
    assert types["OWL"] == "class_share"  # held: "Capital Inc." does not apply
    assert types["MTG"] == "common"  # held: the BDC name rule is lifted
    assert flags.filter(pl.col("security_id") == "MTG")["rule"].to_list() == [
        "member_guard"
    ]
    unguarded, _ = structure_screen(
        UNIVERSE, members=["OWL", "MTG"], sec=SEC, guard=False
    )
    assert _types(unguarded)["OWL"] == "bdc"  # the rule's measured false positive


def test_non_voting_only_when_every_listed_class_is() -> None:
    out, _ = structure_screen(UNIVERSE, sec=SEC)
    votes = dict(out.select("security_id", "voting_rights_pct").iter_rows())
    assert votes["EZPW"] == 0.0  # the only listed class has no votes
    assert votes["CENTA"] is None  # CENT votes
    assert votes["CENT"] is None


def test_without_sec_map_the_sec_rules_are_off() -> None:
    out, _ = structure_screen(UNIVERSE, sec=None)
    assert _types(out)["GBLI"] == "class_share"
    assert _types(out)["CUB"] == "spac"
