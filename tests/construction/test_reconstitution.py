"""Reconstitution engine: properties and metamorphic checks on synthetic universes."""

from __future__ import annotations

import dataclasses
from datetime import date
from functools import cache

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from r2k.construction.reconstitution import (
    Reconstitution,
    market_adjusted_breakpoint,
    reconstitute,
)
from r2k.methodology.rule_sets import RuleSet
from r2k.synthetic.universe import SyntheticUniverse, synthetic_universe

RANK_DAY = date(2026, 4, 30)
EFFECTIVE = date(2026, 6, 26)
RULES = RuleSet.default()
SEEDS = st.integers(min_value=0, max_value=2**16)
PROPERTY = settings(max_examples=8, deadline=None)


@cache
def _synthetic(seed: int, n: int = 4300) -> SyntheticUniverse:
    return synthetic_universe(n, seed=seed)


def _run(s: SyntheticUniverse, rules: RuleSet = RULES) -> Reconstitution:
    return reconstitute(
        s.universe, s.incumbents, rules, rank_day=RANK_DAY, effective_date=EFFECTIVE
    )


def _companies(result: Reconstitution) -> pl.DataFrame:
    return result.membership.filter(pl.col("is_pricing_vehicle"))


@PROPERTY
@given(seed=SEEDS)
def test_r1000_and_r2000_partition_the_r3000(seed: int) -> None:
    c = _companies(_run(_synthetic(seed)))
    assert c.filter(pl.col("r1000") & pl.col("r2000")).height == 0
    assert c.filter(pl.col("r3000") != (pl.col("r1000") | pl.col("r2000"))).height == 0
    assert c.filter(pl.col("r3000")).height == 3000


@PROPERTY
@given(seed=SEEDS)
def test_every_company_in_exactly_one_size_segment(seed: int) -> None:
    c = _companies(_run(_synthetic(seed)))
    segments = (
        pl.col("top200").cast(pl.Int8)
        + pl.col("midcap").cast(pl.Int8)
        + pl.col("r2000").cast(pl.Int8)
        + (pl.col("r3000e") & ~pl.col("r3000")).cast(pl.Int8)
    )
    assert c.select(segments.alias("n"))["n"].to_list() == [1] * c.height
    # Microcap is #2,001-#4,000 after its band: the lower R2000 and ranks 3,001-4,000.
    assert c.filter(pl.col("microcap") & pl.col("r1000")).height == 0
    assert (
        c.filter(pl.col("r3000e") & ~pl.col("r3000") & ~pl.col("microcap")).height == 0
    )


@PROPERTY
@given(seed=SEEDS)
def test_no_band_is_pure_rank(seed: int) -> None:
    rules = dataclasses.replace(
        RULES, banding=dataclasses.replace(RULES.banding, enabled=False)
    )
    c = _companies(_run(_synthetic(seed), rules))
    assert (c["r1000"] == (c["rank"] <= 1000)).all()
    assert (c["top200"] == (c["rank"] <= 200)).all()
    assert (c["microcap"] == (c["rank"] > 2000)).all()
    assert c.filter(pl.col("r1000")).height == 1000


@PROPERTY
@given(seed=SEEDS, shuffle_seed=st.integers(0, 1000))
def test_shuffling_rows_changes_nothing(seed: int, shuffle_seed: int) -> None:
    s = _synthetic(seed)
    shuffled = SyntheticUniverse(
        universe=s.universe.sample(fraction=1.0, shuffle=True, seed=shuffle_seed),
        incumbents=s.incumbents.sample(fraction=1.0, shuffle=True, seed=shuffle_seed),
        seed=seed,
    )
    expected, result = _run(s), _run(shuffled)
    assert_frame_equal(result.membership, expected.membership)
    assert_frame_equal(result.exclusions, expected.exclusions)
    assert_frame_equal(result.changes, expected.changes)


@PROPERTY
@given(seed=SEEDS, k=st.sampled_from([0.01, 0.5, 3.0, 1000.0]))
def test_scaling_prices_changes_no_membership(seed: int, k: float) -> None:
    # Prices, and with them every cap, scale by k; the absolute thresholds ($1.00,
    # $30M, $175k ADDTV) are money amounts and scale with them.
    s = _synthetic(seed)
    scaled = s.universe.with_columns(pl.col("close", "avg_close_30d", "addtv") * k)
    e, sc = RULES.eligibility, RULES.share_classes
    rules = dataclasses.replace(
        RULES,
        eligibility=dataclasses.replace(
            e,
            min_price=e.min_price * k,
            min_total_market_cap=e.min_total_market_cap * k,
        ),
        share_classes=dataclasses.replace(
            sc,
            extra_class_min_total_market_cap=sc.extra_class_min_total_market_cap * k,
            extra_class_min_addtv_usd=sc.extra_class_min_addtv_usd * k,
        ),
    )
    expected = _run(s)
    result = _run(
        SyntheticUniverse(universe=scaled, incumbents=s.incumbents, seed=seed), rules
    )
    cols = [
        "security_id",
        "rank",
        "r3000e",
        "r3000",
        "r1000",
        "r2000",
        "microcap",
        "top200",
    ]
    assert_frame_equal(result.membership.select(cols), expected.membership.select(cols))
    assert_frame_equal(
        result.membership.select("cum_cap_pct"),
        expected.membership.select("cum_cap_pct"),
        rel_tol=1e-9,
    )


def test_banding_keeps_incumbents_inside_the_band() -> None:
    result = _run(_synthetic(7))
    c = _companies(result)
    band = result.breakpoints.filter(pl.col("name") == "r1000").row(0, named=True)
    inside = c.filter(
        pl.col("cum_cap_pct").is_between(band["lower_pct"], band["upper_pct"])
    )
    incumbents = _synthetic(7).incumbents
    sides = inside.join(incumbents, on="security_id", how="inner", suffix="_old")
    assert sides.height > 0
    assert (sides["r1000"] == sides["r1000_old"]).all()


def test_screens_reject_every_non_common_line() -> None:
    s = _synthetic(3)
    result = _run(s)
    non_common = s.universe.filter(
        ~pl.col("security_type").is_in(["common", "ordinary", "class_share"])
    )
    assert non_common.height > 100
    members = set(result.membership["security_id"])
    assert members.isdisjoint(non_common["security_id"])
    reasons = result.exclusions.filter(pl.col("stage") == "line")
    assert set(non_common["security_id"]) <= set(reasons["security_id"])


def test_extra_share_class_lines_follow_their_company() -> None:
    result = _run(_synthetic(5))
    m = result.membership
    multi = m.filter(pl.col("company_id").is_duplicated())
    assert multi.height > 0
    per_company = multi.group_by("company_id").agg(
        pl.col("r1000", "r2000", "rank").n_unique()
    )
    assert (per_company["r1000"] == 1).all()
    assert (per_company["r2000"] == 1).all()
    assert (per_company["rank"] == 1).all()


def test_duplicate_security_is_an_error() -> None:
    s = _synthetic(1)
    doubled = pl.concat([s.universe, s.universe.head(2)])
    with pytest.raises(ValueError, match="duplicate security_id"):
        reconstitute(
            doubled, s.incumbents, RULES, rank_day=RANK_DAY, effective_date=EFFECTIVE
        )


def test_missing_column_is_an_error() -> None:
    s = _synthetic(1)
    with pytest.raises(ValueError, match=r"universe: missing column.*close"):
        reconstitute(
            s.universe.drop("close"),
            s.incumbents,
            RULES,
            rank_day=RANK_DAY,
            effective_date=EFFECTIVE,
        )


def test_tc6_market_adjusted_breakpoint() -> None:
    # methodology.md TC6 (R7 App. E): $1.8B x (1 + 2.05%) = $1.8369B; R7 prints
    # 1.804, an arithmetic slip (1.8 x 1.00205) flagged in the methodology notes.
    assert market_adjusted_breakpoint(1.8e9, 0.0205) == pytest.approx(1.8369e9)


def test_ceased_lines_are_ranked_then_left_out() -> None:
    s = _synthetic(7)
    base = _run(s)
    pv = _companies(base)
    r2000 = pv.filter(pl.col("r2000")).sort("rank")
    r1000 = pv.filter(pl.col("r1000")).sort("rank")
    incumbent_ids = set(s.incumbents["security_id"].to_list())
    gone_r2000 = r2000.filter(pl.col("security_id").is_in(list(incumbent_ids)))[
        "security_id"
    ][0]
    gone_r1000 = r1000["security_id"][10]
    ceased = frozenset({gone_r2000, gone_r1000})
    result = reconstitute(
        s.universe,
        s.incumbents,
        RULES,
        rank_day=RANK_DAY,
        effective_date=EFFECTIVE,
        ceased=ceased,
    )
    # The breakpoints are those of the rank day: ranks are unchanged.
    assert_frame_equal(result.breakpoints, base.breakpoints)
    kept = result.membership
    assert kept.filter(pl.col("security_id").is_in(list(ceased))).height == 0
    assert result.counts()["r3000"] == base.counts()["r3000"] - 2
    same = base.membership.filter(
        ~pl.col("company_id").is_in(
            base.membership.filter(pl.col("security_id").is_in(list(ceased)))[
                "company_id"
            ].implode()
        )
    )
    assert_frame_equal(kept, same)
    reasons = result.exclusions.filter(pl.col("security_id").is_in(list(ceased)))
    assert set(reasons["exclusion_reason"].to_list()) == {"stopped_trading"}
    assert set(reasons["stage"].to_list()) == {"post_rank"}
    delete = result.changes.filter(pl.col("security_id") == gone_r2000)
    assert delete.select("change", "reason").row(0) == ("delete", "stopped_trading")
