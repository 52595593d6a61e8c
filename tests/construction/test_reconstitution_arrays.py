"""The reconstitution's array form gives the query form's frames, value for value.

:func:`r2k.construction.reconstitution.reconstitute` runs the array steps of
:mod:`r2k.construction.reconstitution_arrays` on a plain universe and the query
steps otherwise; here both run on the same inputs (the query form forced by
declaring nothing plain) and every frame must be equal to the last bit. The
inputs are synthetic universes bent towards the cases each step must get right:
share classes near the volume tolerance, unknown volumes and shares, tied caps,
incumbents outside the universe (one whose id is another company's id), lines
that stop trading, classes the funds do not hold, fund float estimates, the
R1000 complement, and index sizes smaller than the universe so that companies
fall beyond the R3000E.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from functools import cache

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from r2k.construction import reconstitution
from r2k.construction.floats import FloatEstimate
from r2k.construction.reconstitution import Reconstitution, reconstitute
from r2k.construction.reconstitution_arrays import (
    PreparedUniverse,
    is_plain,
    prepare_universe,
)
from r2k.methodology.rule_sets import RuleSet
from r2k.synthetic.universe import synthetic_universe

RANK_DAY = date(2026, 4, 30)
EFFECTIVE = date(2026, 6, 26)
RULES = RuleSet.default()
SMALL = dataclasses.replace(
    RULES,
    ranking=dataclasses.replace(
        RULES.ranking,
        r3000e_size=380,
        r3000_size=300,
        r1000_size=100,
        top200_size=20,
        top500_size=50,
        microcap_top=200,
    ),
)


@cache
def _base(seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    s = synthetic_universe(450, seed=seed)
    return s.universe, s.incumbents


@dataclasses.dataclass(frozen=True)
class Case:
    universe: pl.DataFrame
    incumbents: pl.DataFrame
    rules: RuleSet
    float_estimate: FloatEstimate | None
    r1000_complement: bool
    ceased: frozenset[str]
    unheld_classes: frozenset[str]


def _bent(seed: int) -> Case:
    """A universe and the reconstitute arguments, bent towards the edge cases."""
    rng = np.random.default_rng(seed)
    universe, incumbents = _base(seed % 7)
    n = universe.height
    # Second classes of some companies, with volumes around the tolerance.
    twins = universe.sample(40, seed=seed).with_columns(
        security_id=pl.col("security_id") + ".B",
        avg_volume=pl.col("avg_volume")
        * pl.Series(rng.choice([0.79, 0.8, 0.81, 1.0, 1.25], 40)),
        shares_outstanding=pl.col("shares_outstanding")
        * pl.Series(rng.choice([0.5, 1.0, 2.0], 40)),
    )
    universe = pl.concat([universe, twins])
    n = universe.height
    # Unknown volumes, shares and floats; caps rounded so that ties occur.
    holes = rng.random((2, n)) < 0.04
    universe = universe.with_columns(
        float_factor=pl.when(pl.Series(rng.random(n) < 0.3))
        .then(None)
        .otherwise("float_factor"),
        avg_volume=pl.when(pl.Series(holes[0])).then(None).otherwise("avg_volume"),
        shares_outstanding=pl.when(pl.Series(holes[1]))
        .then(None)
        .otherwise((pl.col("shares_outstanding") / 1e5).round(0) * 1e5),
        close=pl.col("close").round(0).clip(lower_bound=0.5),
    )
    # Incumbents outside the universe: dropped lines, and one whose id is the
    # company_id of a line still there.
    ids = universe["security_id"].to_list()
    dropped = set(rng.choice(ids, 15, replace=False).tolist())
    universe = universe.filter(~pl.col("security_id").is_in(list(dropped)))
    company = universe["company_id"][int(rng.integers(universe.height))]
    incumbents = pl.concat(
        [
            incumbents,
            pl.DataFrame(
                {
                    "security_id": [company],
                    "r1000": [bool(rng.integers(2))],
                    "top200": [None],
                    "top500": [None],
                    "microcap": [None],
                },
                schema=incumbents.schema,
            ),
        ]
    ).unique("security_id", keep="first", maintain_order=True)
    # Some companies are new; sides are mixed (R1000, R2000, unknown).
    incumbents = incumbents.filter(pl.Series(rng.random(incumbents.height) < 0.8))
    incumbents = incumbents.with_columns(
        r1000=pl.Series(rng.random(incumbents.height) < 0.3),
        microcap=pl.Series(
            rng.choice(np.array([True, False, None]), incumbents.height).tolist(),
            dtype=pl.Boolean,
        ),
    )
    ids = universe["security_id"].to_list()
    estimate = FloatEstimate(
        ownership_ratio=0.9,
        factors=pl.DataFrame(
            {
                "security_id": sorted(rng.choice(ids, 60, replace=False).tolist()),
                "float_factor": rng.uniform(0.2, 1.0, 60),
            }
        ),
        median_factor=0.7,
    )
    return Case(
        # Rows in id order (the universe builder's) or shuffled.
        universe=universe.sample(fraction=1.0, shuffle=True, seed=seed)
        if seed % 2
        else universe.sort("security_id"),
        incumbents=incumbents,
        rules=SMALL if seed % 3 else RULES,
        float_estimate=estimate if seed % 4 == 1 else None,
        r1000_complement=seed % 5 == 2,
        ceased=frozenset(rng.choice(ids, 12, replace=False).tolist()),
        unheld_classes=frozenset(
            rng.choice(twins["security_id"].to_list(), 8, replace=False).tolist()
        ),
    )


def _run(case: Case, prepared: PreparedUniverse | None = None) -> Reconstitution:
    return reconstitute(
        case.universe,
        case.incumbents,
        case.rules,
        rank_day=RANK_DAY,
        effective_date=EFFECTIVE,
        float_estimate=case.float_estimate,
        r1000_complement=case.r1000_complement,
        ceased=case.ceased,
        unheld_classes=case.unheld_classes,
        prepared=prepared,
    )


def _assert_same(a: Reconstitution, b: Reconstitution) -> None:
    for part in ("membership", "exclusions", "changes", "breakpoints"):
        assert_frame_equal(getattr(a, part), getattr(b, part), check_exact=True)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**16))
def test_array_form_equals_query_form(seed: int) -> None:
    case = _bent(seed)
    assert is_plain(case.universe, case.incumbents)
    arrays = _run(case)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(reconstitution, "is_plain", lambda *_, **__: False)
        query = _run(case)
    _assert_same(arrays, query)
    assert arrays.changes.height > 0


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**16))
def test_a_prepared_universe_changes_nothing(seed: int) -> None:
    """The part before the incumbents, done ahead, gives the same frames; one
    made from another universe object or another rule set is not used."""
    case = _bent(seed)
    alone = _run(case)
    prepared = prepare_universe(case.universe, case.rules)
    assert prepared is not None
    assert prepared.fits(case.universe, case.rules)
    _assert_same(_run(case, prepared), alone)
    # Prepared from fewer lines: used, it would lose them; it is not used.
    fewer = prepare_universe(case.universe.slice(5), case.rules)
    assert fewer is not None
    assert not fewer.fits(case.universe, case.rules)
    _assert_same(_run(case, fewer), alone)
    other_rules = prepare_universe(case.universe, RULES)
    assert other_rules is not None
    assert other_rules.fits(case.universe, case.rules) == (
        RULES.digest == case.rules.digest
    )


def _with_nan_volume(universe: pl.DataFrame) -> pl.DataFrame:
    """``universe`` with a NaN average volume on its fourth line."""
    return universe.with_columns(
        avg_volume=pl.when(pl.int_range(pl.len()) == 3)
        .then(float("nan"))
        .otherwise("avg_volume")
    )


def test_only_plain_unique_universes_are_prepared() -> None:
    universe, _ = _base(0)
    nan_volume = _with_nan_volume(universe)
    assert prepare_universe(universe, RULES) is not None
    assert prepare_universe(nan_volume, RULES) is None
    assert prepare_universe(pl.concat([universe, universe.head(1)]), RULES) is None
    assert prepare_universe(universe.drop("close"), RULES) is None


def test_the_bent_universes_hold_the_cases() -> None:
    """Seed 1 (small index sizes, shuffled rows, a fund estimate) has them all."""
    result = _run(_bent(1))
    assert set(result.changes["change"]) == {
        "add",
        "delete",
        "migrate_up",
        "migrate_down",
    }
    assert set(result.changes["reason"].drop_nulls()) >= {"rank", "not_in_universe"}
    assert set(result.exclusions["stage"]) == {"line", "company", "post_rank"}
    assert result.membership.filter(~pl.col("is_pricing_vehicle")).height > 0
    assert set(result.membership["float_source"]) == {"data", "holdings", "fallback"}
    # Companies fall beyond the R3000E (and ceased ones leave it).
    assert 300 < result.counts()["r3000e"] <= SMALL.ranking.r3000e_size


def test_not_plain_universes_take_the_query_form() -> None:
    universe, incumbents = _base(0)
    nan_volume = _with_nan_volume(universe)
    no_company = universe.with_columns(
        company_id=pl.when(pl.int_range(pl.len()) == 3)
        .then(None)
        .otherwise("company_id")
    )
    no_id = incumbents.with_columns(
        security_id=pl.when(pl.int_range(pl.len()) == 0)
        .then(None)
        .otherwise("security_id")
    )
    assert is_plain(universe, incumbents)
    assert not is_plain(nan_volume, incumbents)
    assert not is_plain(no_company, incumbents)
    assert not is_plain(universe.head(0), incumbents)
    assert not is_plain(universe, no_id)
    # A NaN volume is a line with the greatest volume to Polars: the query form
    # ranks it and the result stays a full reconstitution.
    result = reconstitute(
        nan_volume, incumbents, RULES, rank_day=RANK_DAY, effective_date=EFFECTIVE
    )
    assert result.counts()["r3000e"] > 0
