"""Ticker successions and lines that stop trading, on hand-built lists."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from r2k.construction.listings import (
    LISTINGS,
    ceased_lines,
    despac_listings,
    follow,
    is_index_line,
    successions,
)


def _lists(*rows: tuple[int, str, str | None, float | None]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LISTINGS, orient="row")


def _steady(n: int, positions: range) -> list[tuple[int, str, str | None, float]]:
    """Lines present in every list (the quiet background)."""
    return [
        (p, f"Q{i:03d}", f"QUIET CO {i}", 1.0 + i / 100)
        for p in positions
        for i in range(n)
    ]


def test_same_name_is_a_rename() -> None:
    lists = _lists(
        *_steady(3, range(3)),
        (0, "CSWI", "CSW INDUSTRIALS INC", 0.2),
        (1, "CSW", "CSW Industrials, Inc.", 0.2),
        (2, "CSW", "CSW INDUSTRIALS INC", 0.2),
    )
    assert successions(lists) == {"CSWI": "CSW"}


def test_same_cik_is_a_rename_whatever_the_names() -> None:
    lists = _lists(
        *_steady(3, range(2)),
        (0, "BK", "BANK OF NEW YORK MELLON", None),
        (1, "BNY", "BNY", None),
    )
    assert successions(lists, ciks={"BK": "0001390777", "BNY": "0001390777"}) == {
        "BK": "BNY"
    }
    assert successions(lists, ciks={"BK": "1", "BNY": "2"}) == {}


def test_same_size_pairs_only_a_unique_candidate_in_a_quiet_list() -> None:
    background = _steady(200, range(3))
    renamed = _lists(
        *background,
        (0, "LANC", "LANCASTER COLONY CORP", 0.14),
        (1, "MZTI", "MARZETTI", 0.14),
        (0, "EVRI", "EVERI HOLDINGS INC", 0.05),
        (1, "OTHER", "SOMETHING ELSE", 0.05),
        (2, "MZTI", "MARZETTI", 0.14),
        (2, "OTHER", "SOMETHING ELSE", 0.05),
    )
    # 0.14 has one candidate each way; 0.05 too, but below min_size.
    assert successions(renamed, min_size=0.1) == {"LANC": "MZTI"}
    # Two lines end at 0.14: ambiguous, nothing is guessed.
    ambiguous = _lists(
        *background,
        (0, "LANC", "LANCASTER COLONY CORP", 0.14),
        (0, "XYZ", "XYZ CORP", 0.14),
        (1, "MZTI", "MARZETTI", 0.14),
        (2, "MZTI", "MARZETTI", 0.14),
    )
    assert successions(ambiguous, min_size=0.1) == {}
    # A warrant never takes a line's place by size.
    warrant = _lists(
        *background,
        (0, "USEG", "U.S. ENERGY CORP", 30.0),
        (1, "FACWW", "FACTORIAL ENERGY INC WARRANT", 30.0),
        (2, "FACWW", "FACTORIAL ENERGY INC WARRANT", 30.0),
    )
    assert successions(warrant) == {}


def test_no_size_rule_across_a_reconstitution() -> None:
    # Half of list 1 is new: equal sizes there are coincidences.
    churn = [(1, f"NEW{i}", f"NEW CO {i}", 5.0 + i) for i in range(10)]
    lists = _lists(
        *_steady(10, range(2)),
        (0, "DRS", "LEONARDO DRS INC", 0.12),
        (1, "CRSP", "CRISPR THERAPEUTICS AG", 0.12),
        *churn,
    )
    assert successions(lists) == {}


def test_gap_limits_how_far_a_successor_may_start() -> None:
    lists = _lists(
        *_steady(2, range(5)),
        (0, "OLD", "SAME NAME INC", None),
        (4, "NEW", "SAME NAME INC", None),
    )
    assert successions(lists, max_gap=2) == {}
    assert successions(lists, max_gap=4) == {"OLD": "NEW"}


def test_follow_walks_a_chain() -> None:
    chain = {"SHYF": "PCSHD", "PCSHD": "AEBI"}
    assert follow("SHYF", chain) == "AEBI"
    assert follow("AEBI", chain) == "AEBI"


def test_ceased_lines() -> None:
    lists = _lists(
        *_steady(2, range(3)),
        (0, "GONE", "ACQUIRED INC", 1.0),
        (1, "GONE", "ACQUIRED INC", 1.0),
        (0, "OLD", "RENAMED INC", 1.0),
        (1, "NEW", "RENAMED INC", 1.0),
        (2, "NEW", "RENAMED INC", 1.0),
    )
    successors = successions(lists)
    assert successors == {"OLD": "NEW"}
    got = ceased_lines(lists, ["GONE", "OLD", "Q000", "NEVER"], successors)
    assert got == {"GONE"}


@pytest.mark.parametrize(
    ("sid", "name", "expected"),
    [
        ("FCFS", "FIRSTCASH HOLDINGS INC", True),
        ("FFAI", "FARADAY FUTURE INTELLIGENT ELECTRI", True),
        ("FF", "FUTUREFUEL CORP", True),
        ("CVI", "CVR ENERGY INC", True),
        ("MOG.A", "MOOG INC CLASS A", True),
        ("INH", "INHIBRX INC CVR", False),
        ("GTXI", "GTXI INC - CVR", False),
        ("P5N994", "Petrocorp Inc Escrow", False),
        ("RTYU5", "RUSSELL 2000 EMINI CME SEP 25", False),
        ("USD", "USD CASH", False),
        ("MSFUT", "CASH COLLATERAL MSFUT USD", False),
        ("JPM", "CASH COLLATERAL USD JPM", False),
        ("XTSLA", "BLK CSH FND TREASURY SL AGENCY", False),
        ("ENVXW", "ENOVIX EQUITY WARRANTS EXP ST OCTO", False),
        ("MPTI.RT", None, False),
        (None, "OMNIAB INC $15.00 VESTING Prvt", False),
    ],
)
def test_index_lines_by_name_and_symbol(
    sid: str | None, name: str | None, expected: bool
) -> None:
    assert is_index_line(sid, name) is expected


#: The lines :func:`despac_listings` reads.
_LINES = pl.Schema(
    {
        "security_id": pl.String,
        "company_id": pl.String,
        "security_type": pl.String,
        "first_session": pl.Date,
    }
)


def test_despac_listings_need_shares_and_warrants_starting_together() -> None:
    start = date(2025, 12, 26)
    lines = pl.DataFrame(
        [
            # a SPAC merger: shares and warrants take new symbols the same day
            ("NUCL", "eagle", "common", date(2026, 2, 25)),
            ("NUCLW", "eagle", "warrant", date(2026, 2, 25)),
            # warrants listed a month later: no merger pattern
            ("GLND", "greenland", "common", date(2026, 3, 26)),
            ("GLNDW", "greenland", "warrant", date(2026, 4, 28)),
            # an IPO without warrants
            ("ZSQR", "zsquared", "common", date(2026, 4, 27)),
            # a company renamed: both symbols change, the company is older
            ("EZRA", "reliance", "common", date(2026, 1, 26)),
            ("EZRAW", "reliance", "warrant", date(2026, 1, 26)),
            # listed when the panel starts: it may be older than the panel
            ("OLD", "old", "common", start),
            ("OLDW", "old", "warrant", start),
            # a class share of a merger within the gap allowed
            ("DFNS", "t3", "class_share", date(2026, 2, 9)),
            ("DFNSW", "t3", "warrant", date(2026, 2, 13)),
        ],
        schema=_LINES,
        orient="row",
    )
    found = despac_listings(lines, after=start, renamed=["EZRA", "EZRAW"])
    assert found["security_id"].to_list() == ["DFNS", "NUCL"]
    assert found["first_session"].to_list() == [date(2026, 2, 9), date(2026, 2, 25)]
    tight = despac_listings(lines, after=start, renamed=["EZRA"], max_gap_days=0)
    assert tight["security_id"].to_list() == ["NUCL"]
