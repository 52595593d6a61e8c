"""Incumbency from the fund lists (hand-built frames)."""

from __future__ import annotations

import polars as pl

from r2k.construction.incumbency import (
    deleted_at_last_recon,
    established_r1000,
    match_by_name,
)


def _lines(ids: list[str], names: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"security_id": ids, "name": names})


def test_renamed_symbols_pair_by_company_name() -> None:
    old = _lines(
        ["FI", "CCCS", "MPW"],
        [
            "FISERV INC",
            "CCC INTELLIGENT SOLUTIONS HOLDINGS",
            "MEDICAL PROPERTIES TRUST REIT INC",
        ],
    )
    new = _lines(
        ["FISV", "CCC", "MPT", "AAPL"],
        [
            "Fiserv Inc. Common Stock",
            "CCC Intelligent Solutions Holdings Inc. Common Stock",
            "Medical Properties Trust Inc. common stock",
            "Apple Inc. Common Stock",
        ],
    )
    assert match_by_name(old, new) == {"FI": "FISV", "CCCS": "CCC", "MPW": "MPT"}


def test_a_shared_name_is_left_unpaired() -> None:
    old = _lines(["OWL"], ["BLUE OWL CAPITAL INC"])
    new = _lines(
        ["OWLA", "OWLB"],
        ["Blue Owl Capital Inc. Common Stock", "Blue Owl Capital Inc. Class A"],
    )
    assert match_by_name(old, new) == {}


def test_empty_keys_never_pair() -> None:
    old = _lines(["X"], ["INC"])
    new = _lines(["Y"], ["Inc. Common Stock"])
    assert match_by_name(old, new) == {}


def test_established_needs_the_threshold_and_the_first_session() -> None:
    caps = pl.DataFrame(
        {
            "company_id": ["BIG", "EDGE", "SMALL", "HELD"],
            "total_market_cap": [5e9, 2e9, 1.9e9, 9e9],
        }
    )
    got = established_r1000(
        caps, unlisted=["BIG", "EDGE", "SMALL", "NEW"], threshold=2e9
    )
    # HELD is in a fund list (not unlisted); NEW was not listed on the first session.
    assert got == frozenset({"BIG", "EDGE"})


def test_deleted_needs_the_r2000_then_and_a_size_below_the_edge() -> None:
    caps = pl.DataFrame(
        {
            "company_id": ["BIO", "EDGE", "UP", "R1K"],
            "total_market_cap": [3e8, 2.5e9, 9e9, 1e9],
        }
    )
    got = deleted_at_last_recon(
        caps,
        candidates=["BIO", "EDGE", "UP", "R1K"],
        left=["BIO", "EDGE", "UP", "GONE"],
        edge=2.5e9,
    )
    # EDGE is at the edge (not below), UP moved up and is still large, R1K never
    # was in the Russell 2000, GONE is no candidate.
    assert got == frozenset({"BIO"})
