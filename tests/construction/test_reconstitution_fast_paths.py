"""The reconstitution's one-pass shortcuts equal the plain computations they replace.

Each oracle below is the plain, step-by-step form the shortcut replaced (one
filter per band, a join to flag pricing vehicles, the general ceased-line path).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.construction.banding import (
    band_spec,
    bands_of,
    breakpoint_table,
    make_band,
)
from r2k.construction.companies import pricing_vehicles
from r2k.construction.ranking import rank_companies
from r2k.construction.reconstitution import (
    _check_unique,
    _drop_ceased,
)
from r2k.errors import SchemaError
from r2k.methodology.rule_sets import RuleSet

RULES = RuleSet.default()


def _plain_pricing_vehicles(lines: pl.DataFrame, tolerance: float) -> pl.DataFrame:
    """Pricing vehicles by sort, filter, group-by and join (the eager form)."""
    top = pl.col("avg_volume").fill_null(0.0).max().over("company_id")
    close = pl.col("avg_volume").fill_null(0.0) >= top * (1.0 - tolerance)
    best = (
        lines.with_columns(_close=close)
        .filter(pl.col("_close"))
        .sort(
            ["company_id", "shares_outstanding", "avg_volume", "security_id"],
            descending=[False, True, True, False],
            nulls_last=True,
        )
        .group_by("company_id", maintain_order=True)
        .first()
        .select("company_id", pl.col("security_id").alias("_pv"))
    )
    return (
        lines.join(best, on="company_id", how="left")
        .with_columns(is_pricing_vehicle=pl.col("security_id") == pl.col("_pv"))
        .drop("_pv")
    )


@pytest.mark.parametrize("seed", range(20))
def test_pricing_vehicles_in_one_query_equal_the_plain_steps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    companies = ["A", "B", "C", "D", None]
    volumes = [None, float("nan"), 0.0, 100.0, 90.0, 81.0, 79.0, 50.0]
    lines = pl.DataFrame(
        {
            "security_id": [f"S{i:03d}" for i in rng.permutation(n)],
            "company_id": [companies[i] for i in rng.integers(0, len(companies), n)],
            "avg_volume": [volumes[i] for i in rng.integers(0, len(volumes), n)],
            "shares_outstanding": rng.choice([np.nan, 1.0, 2.0, 3.0], n).tolist(),
        },
        schema={
            "security_id": pl.String,
            "company_id": pl.String,
            "avg_volume": pl.Float64,
            "shares_outstanding": pl.Float64,
        },
    )
    tolerance = RULES.share_classes.pricing_vehicle_volume_tolerance
    expected = _plain_pricing_vehicles(lines, tolerance)
    assert_frame_equal(pricing_vehicles(lines, RULES.share_classes), expected)
    assert_frame_equal(pricing_vehicles(lines.lazy(), RULES.share_classes), expected)


def _ranked(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    companies = pl.DataFrame(
        {
            "company_id": [f"C{i:05d}" for i in range(n)],
            # Rounded caps so that ties occur and company_id breaks them.
            "total_market_cap": np.round(rng.lognormal(20, 2, n), -7),
        }
    )
    return rank_companies(companies, r3000e_size=RULES.ranking.r3000e_size)


@pytest.mark.parametrize(("n", "seed"), [(4300, 0), (2500, 1), (150, 2), (0, 3)])
def test_bands_and_breakpoints_in_one_pass_equal_one_filter_per_band(
    n: int, seed: int
) -> None:
    ranked = _ranked(n, seed)
    bands = bands_of(ranked, RULES)
    b = RULES.banding
    spec = band_spec(RULES)
    assert bands == {
        name: make_band(ranked, name=name, rank=rank, band_pct=pct, rules=b)
        for name, (rank, pct) in spec.items()
    }
    table = breakpoint_table(ranked, bands)
    for row, band in zip(table.iter_rows(named=True), bands.values(), strict=True):
        at_rank = ranked.filter(pl.col("rank") == band.rank)["total_market_cap"]
        assert row["total_market_cap"] == (at_rank[0] if at_rank.len() else None)
        for column, pct in (
            ("upper_edge_cap", band.lower_pct),
            ("lower_edge_cap", band.upper_pct),
        ):
            hit = (
                ranked.filter(pl.col("cum_cap_pct") >= pct).head(1)
                if pct is not None
                else ranked.head(0)
            )
            expected = hit.item(0, "total_market_cap") if hit.height else None
            assert row[column] == expected


def test_no_ceased_line_is_the_general_path_with_nothing_hit() -> None:
    ranked = _ranked(4300, 4).with_columns(
        security_id=pl.col("company_id"),
        name=pl.col("company_id"),
        r3000e=pl.col("rank") <= RULES.ranking.r3000e_size,
        r3000=pl.col("rank") <= RULES.ranking.r3000_size,
        r1000=pl.col("rank") <= RULES.ranking.r1000_size,
        r2000=pl.col("rank").is_between(1001, 3000),
        top200=pl.col("rank") <= RULES.ranking.top200_size,
        midcap=pl.col("rank").is_between(201, 1000),
        r2500=pl.col("rank").is_between(501, 3000),
        microcap=pl.col("rank").is_between(2001, 4000),
    )
    fast_flags, fast_gone = _drop_ceased(ranked, frozenset())
    plain_flags, plain_gone = _drop_ceased(ranked, frozenset({"not-a-line"}))
    assert_frame_equal(fast_flags, plain_flags)
    assert_frame_equal(fast_gone, plain_gone)
    assert fast_gone.height == 0


def test_unique_check_passes_unique_ids_and_names_repeated_ones() -> None:
    _check_unique(pl.DataFrame({"security_id": ["A", "B", None]}), "security_id", "u")
    with pytest.raises(
        SchemaError, match=r"u: 2 duplicate security_id value\(s\) \(A, B\)"
    ):
        _check_unique(
            pl.DataFrame({"security_id": ["B", "A", "B", "A", "C"]}), "security_id", "u"
        )
