"""Eligibility screens (R7 §5) and the voting-rights formula (methodology.md TC2)."""

from __future__ import annotations

import polars as pl
import pytest

from r2k.construction.eligibility import (
    company_exclusion_reason,
    line_exclusion_reason,
    voting_rights_pct,
)
from r2k.methodology.rule_sets import RuleSet

RULES = RuleSet.default().eligibility


def test_tc2_voting_rights() -> None:
    # methodology.md §12 TC2 (R7 §5.15.3): 100m listed class A with 1 vote, 65% float;
    # 300m unlisted class B with 10 votes -> 65m / 3.1bn = 2.097% -> ineligible.
    pct = voting_rights_pct(100e6 * 1, 0.65, 300e6 * 10)
    assert pct == pytest.approx(2.0968, abs=5e-5)
    assert pct < RULES.min_voting_rights_pct


def test_voting_rights_needs_votes() -> None:
    with pytest.raises(ValueError, match="total votes must be positive"):
        voting_rights_pct(0.0, 0.5, 0.0)


def _lines(**columns: list[object]) -> pl.DataFrame:
    base: dict[str, list[object]] = {
        "security_type": ["common"],
        "exchange": ["NYSE"],
        "country": [None],
        "close": [10.0],
    }
    base.update(columns)
    return pl.DataFrame(
        base, schema_overrides={"country": pl.String, "exchange": pl.String}
    )


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({}, None),
        ({"security_type": ["warrant"]}, "security_type"),
        ({"security_type": ["bdc"]}, "security_type"),
        ({"exchange": ["OTC"]}, "exchange"),
        ({"exchange": [None]}, None),
        ({"exchange": ["nasdaq"]}, None),
        ({"country": ["CN"]}, "country"),
        ({"country": ["US"]}, None),
        ({"close": [None]}, "no_price"),
        ({"close": [0.0]}, "no_price"),
    ],
)
def test_line_screens(columns: dict[str, list[object]], expected: str | None) -> None:
    frame = _lines(**columns)
    assert frame.select(line_exclusion_reason(RULES)).item() == expected


def _company(**columns: object) -> pl.DataFrame:
    base: dict[str, object] = {
        "total_market_cap": 100e6,
        "close": 5.0,
        "avg_close_30d": 5.0,
        "is_incumbent": False,
        "float_factor": None,
        "voting_rights_pct": None,
    }
    base.update(columns)
    return pl.DataFrame(
        {k: [v] for k, v in base.items()},
        schema_overrides={"float_factor": pl.Float64, "voting_rights_pct": pl.Float64},
    )


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({}, None),
        ({"total_market_cap": 29_999_999.0}, "min_total_market_cap"),
        ({"total_market_cap": 30_000_000.0}, None),
        ({"close": 0.99}, "min_price"),
        ({"close": 1.00}, None),
        # R7 §5.8.1: an existing member below $1 is rescued by its 30-day average.
        ({"close": 0.90, "avg_close_30d": 1.05, "is_incumbent": True}, None),
        ({"close": 0.90, "avg_close_30d": 1.05, "is_incumbent": False}, "min_price"),
        ({"close": 0.90, "avg_close_30d": 0.95, "is_incumbent": True}, "min_price"),
        # R7 §5.10.1: 4.9999% or less is ineligible; 5% passes.
        ({"float_factor": 0.049999}, "min_float"),
        ({"float_factor": 0.05}, None),
        # R7 §5.15: 5.0000% or more passes.
        ({"voting_rights_pct": 4.9999}, "min_voting_rights"),
        ({"voting_rights_pct": 5.0}, None),
    ],
)
def test_company_screens(columns: dict[str, object], expected: str | None) -> None:
    frame = _company(**columns)
    assert frame.select(company_exclusion_reason(RULES)).item() == expected
