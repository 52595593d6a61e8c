"""The vectorised engine against a naive per-company implementation (bench/)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from bench.naive_recon import naive_reconstitute

from r2k.construction.reconstitution import reconstitute
from r2k.methodology.rule_sets import RuleSet
from r2k.synthetic.universe import synthetic_universe


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_agrees_with_naive_implementation(seed: int) -> None:
    s = synthetic_universe(4400, seed=seed)
    rules = RuleSet.default()
    expected = naive_reconstitute(s.universe, s.incumbents, rules)
    result = reconstitute(
        s.universe,
        s.incumbents,
        rules,
        rank_day=date(2026, 4, 30),
        effective_date=date(2026, 6, 26),
    )
    got = result.membership.filter(pl.col("is_pricing_vehicle"))
    assert got.height == len(expected)
    for row in got.iter_rows(named=True):
        want = expected[row["company_id"]]
        assert row["rank"] == want["rank"]
        assert row["cum_cap_pct"] == pytest.approx(want["cum_pct"], rel=1e-12)
        for flag in ("r1000", "r2000", "top200", "microcap"):
            assert row[flag] == want[flag], (row["company_id"], flag)
