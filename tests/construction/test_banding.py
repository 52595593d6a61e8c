"""Banding (R7 §6.11) against the published illustration, methodology.md §12 TC1."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from r2k.construction.banding import (
    Band,
    band_around,
    band_spec,
    bands_of,
    breakpoint_table,
    index_flags,
    is_above,
    make_band,
)
from r2k.methodology.rule_sets import BandingRules, RuleSet

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
    result = is_above(band, TC1, "inc_r1000", rules)
    assert result.tolist() == TC1["expected_r1000"].to_list()


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
    result = is_above(band, TC1, "inc_r1000", rules)
    assert result.tolist() == (TC1["rank"] <= 1000).to_list()


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
        out = is_above(band, frame, "inc_r1000", rules)
        assert bool(out[1]) is expected


# ---------------------------------------------------------------- array reads
# The banding reads the ranked frame's columns as arrays. The oracles below are
# the expression form it replaced (one query a frame), which follow Polars'
# conventions for nulls and NaN by construction.


def _is_above_query(band: Band, incumbent_above: str, rules: BandingRules) -> pl.Expr:
    by_rank = pl.col("rank") <= band.rank
    if band.lower_pct is None or band.upper_pct is None or not rules.enabled:
        return by_rank
    pct = pl.col("cum_cap_pct")
    if rules.percentile_decimals >= 0:
        pct = pct.round(rules.percentile_decimals, mode="half_away_from_zero")
    if rules.edges == "inclusive":
        inside = (pct >= band.lower_pct) & (pct <= band.upper_pct)
    else:
        inside = (pct > band.lower_pct) & (pct < band.upper_pct)
    keep = inside.fill_null(value=False) & pl.col(incumbent_above).is_not_null()
    return pl.when(keep).then(pl.col(incumbent_above)).otherwise(by_rank)


def _index_flags_query(
    ranked: pl.DataFrame, bands: dict[str, Band], rules: RuleSet
) -> pl.DataFrame:
    r, b = rules.ranking, rules.banding
    in_e = pl.col("rank") <= r.r3000e_size
    in_3000 = pl.col("rank") <= r.r3000_size
    return (
        ranked.with_columns(
            r3000e=in_e,
            r3000=in_3000,
            r1000=in_3000 & _is_above_query(bands["r1000"], "inc_r1000", b),
            top200=in_3000 & _is_above_query(bands["top200"], "inc_top200", b),
            _top500=in_3000 & _is_above_query(bands["top500"], "inc_top500", b),
            _above2000=_is_above_query(bands["microcap"], "inc_above2000", b),
        )
        .with_columns(
            top200=pl.col("top200") & pl.col("r1000"),
            _top500=pl.col("_top500") & pl.col("r1000"),
        )
        .with_columns(
            r2000=pl.col("r3000") & ~pl.col("r1000"),
            midcap=pl.col("r1000") & ~pl.col("top200"),
            r2500=pl.col("r3000") & ~pl.col("_top500"),
            microcap=pl.col("r3000e") & ~pl.col("r1000") & ~pl.col("_above2000"),
        )
        .drop("_top500", "_above2000")
    )


_SMALL_RANKS = dataclasses.replace(
    RuleSet.default().ranking,
    r3000e_size=40,
    r3000_size=30,
    r1000_size=10,
    top200_size=2,
    top500_size=5,
    microcap_top=20,
)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(0, 45),
    edges=st.sampled_from(["inclusive", "exclusive"]),
    decimals=st.sampled_from([-1, 0, 2]),
    enabled=st.booleans(),
    holes=st.sampled_from(["none", "null", "nan"]),
)
def test_array_reads_equal_the_expression_form(
    seed: int,
    n: int,
    edges: Literal["inclusive", "exclusive"],
    decimals: int,
    enabled: bool,
    holes: str,
) -> None:
    rng = np.random.default_rng(seed)
    cum = np.round(np.sort(rng.uniform(0.0, 100.0, n)), 1)  # ties on the edges
    cum[cum.size - cum.size // 4 :] = np.nan  # ranks beyond the R3000E: null
    if holes == "nan" and n:
        cum[rng.integers(n)] = np.nan  # a NaN percentile (a NaN cap upstream)
    sides = {
        name: pl.Series(
            name,
            rng.choice(np.array([True, False, None]), n).tolist(),
            dtype=pl.Boolean,
        )
        for name in ("inc_r1000", "inc_top200", "inc_top500", "inc_above2000")
    }
    if holes == "none":
        sides = {k: v.fill_null(value=False) for k, v in sides.items()}
    ranked = pl.DataFrame(
        [
            pl.Series("rank", np.arange(1, n + 1, dtype=np.int64)),
            pl.Series("total_market_cap", np.round(rng.lognormal(20, 2, n), -6)),
            pl.Series("cum_cap_pct", cum, nan_to_null=holes != "nan"),
            *sides.values(),
        ]
    )
    base = RuleSet.default()
    rules = dataclasses.replace(
        base,
        ranking=_SMALL_RANKS,
        banding=dataclasses.replace(
            base.banding, edges=edges, percentile_decimals=decimals, enabled=enabled
        ),
    )
    bands = bands_of(ranked, rules)
    b = rules.banding
    spec = band_spec(rules)
    assert list(bands) == list(spec)
    for name, (rank, band_pct) in spec.items():
        at = ranked.filter(pl.col("rank") == rank)
        c_b = at.item(0, "cum_cap_pct") if at.height else None
        expected = band_around(c_b, name=name, rank=rank, band_pct=band_pct, rules=b)
        assert repr(bands[name]) == repr(expected)  # a NaN percentile: nan == nan
    assert_frame_equal(
        index_flags(ranked, bands, rules), _index_flags_query(ranked, bands, rules)
    )
    table = breakpoint_table(ranked, bands)
    for row, band in zip(table.iter_rows(named=True), bands.values(), strict=True):
        edges_pct: tuple[tuple[str, float | None], ...] = (
            ("upper_edge_cap", band.lower_pct),
            ("lower_edge_cap", band.upper_pct),
        )
        for column, pct in edges_pct:
            hit = (
                ranked.filter(pl.col("cum_cap_pct") >= pct).head(1)
                if pct is not None
                else ranked.head(0)
            )
            expected_cap = hit.item(0, "total_market_cap") if hit.height else None
            assert row[column] == expected_cap
