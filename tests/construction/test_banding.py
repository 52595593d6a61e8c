"""Banding (R7 §6.11) against the published illustration, methodology.md §12 TC1."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from r2k.construction.banding import is_above, make_band
from r2k.methodology.rule_sets import RuleSet

# methodology.md §12 TC1 (R7 §6.11 "Illustration"): R3000E total $182,500M, #1,000 is
# the breakpoint at 89.99%; band 87.49%-92.49%.
TC1_TOTAL = 182_500.0
TC1 = pl.DataFrame(
    {
        "rank": [995, 996, 997, 998, 999, 1000, 1001, 1002, 1003],
        "company": [
            "XYZ company",
            "ABC company",
            "Drugstore Inc.",
            "PYK Shipping",
            "Z Technology",
            "RE Trust",
            "Foods Inc.",
            "PETs and more",
            "RYT Inc.",
        ],
        "inc_r1000": [True, False, True, False, False, False, True, False, True],
        "cum_cap": [
            154_000.0,
            156_105.0,
            158_205.0,
            160_216.0,
            162_226.0,
            164_226.0,
            166_221.0,
            168_171.0,
            170_094.0,
        ],
        "published_pct": [
            84.38,
            85.54,
            86.69,
            87.79,
            88.89,
            89.99,
            91.08,
            92.15,
            93.20,
        ],
        "expected_r1000": [True, True, True, False, False, False, True, False, False],
    }
).with_columns(
    rank=pl.col("rank").cast(pl.Int64),
    cum_cap_pct=100.0 * pl.col("cum_cap") / TC1_TOTAL,
)


@pytest.mark.parametrize("decimals", [-1, 2])
def test_tc1_banding_row_for_row(decimals: int) -> None:
    rules = dataclasses.replace(RuleSet.default().banding, percentile_decimals=decimals)
    band = make_band(TC1, name="r1000", rank=1000, band_pct=2.5, rules=rules)
    result = TC1.select(pl.col("company"), r1000=is_above(band, "inc_r1000", rules))
    assert result["r1000"].to_list() == TC1["expected_r1000"].to_list()


def test_tc1_band_edges_match_publication() -> None:
    rules = dataclasses.replace(RuleSet.default().banding, percentile_decimals=2)
    band = make_band(TC1, name="r1000", rank=1000, band_pct=2.5, rules=rules)
    assert band.breakpoint_pct == pytest.approx(89.99)
    assert band.lower_pct == pytest.approx(87.49)
    assert band.upper_pct == pytest.approx(92.49)


def test_tc1_percentiles_match_publication() -> None:
    rounded = TC1["cum_cap_pct"].round(2, mode="half_away_from_zero")
    assert rounded.to_list() == pytest.approx(TC1["published_pct"].to_list())


def test_banding_disabled_is_pure_rank() -> None:
    rules = dataclasses.replace(RuleSet.default().banding, enabled=False)
    band = make_band(TC1, name="r1000", rank=1000, band_pct=2.5, rules=rules)
    result = TC1.select(is_above(band, "inc_r1000", rules).alias("r1000"))
    assert result["r1000"].to_list() == (TC1["rank"] <= 1000).to_list()


def test_exclusive_edges_drop_a_company_on_the_edge() -> None:
    # A current R1 member sitting exactly on the upper band edge keeps R1 with
    # inclusive edges (r2k's default) and moves by rank with exclusive ones.
    frame = pl.DataFrame(
        {
            "rank": pl.Series([1000, 1001], dtype=pl.Int64),
            "cum_cap_pct": [90.0, 92.5],
            "inc_r1000": [False, True],
        }
    )
    inclusive = RuleSet.default().banding
    exclusive = dataclasses.replace(inclusive, edges="exclusive")
    for rules, expected in ((inclusive, True), (exclusive, False)):
        band = make_band(frame, name="r1000", rank=1000, band_pct=2.5, rules=rules)
        out = frame.select(is_above(band, "inc_r1000", rules).alias("x"))["x"]
        assert out[1] is expected
