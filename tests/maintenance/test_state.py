"""A reconstitution as the calculation of any index needs it, and its JSON.

R7 §6.9 adds a quarterly IPO to the index whose size range its total cap falls in;
the ranges are r2k's choice from the reconstitution's company total caps
(docs/calculation.md, "IPO size ranges by index").
"""

from __future__ import annotations

import json
import math
from datetime import date
from functools import cache

import polars as pl
import pytest

from r2k import schemas
from r2k._typing import INDEX_CODES, IndexCode
from r2k.construction.reconstitution import Reconstitution, reconstitute
from r2k.errors import MethodologyError
from r2k.maintenance import (
    IPO_SIZE_RANGES,
    IndexState,
    MarketHistory,
    ReconDecision,
    Settings,
    calculate,
    empty_actions,
    initial_state,
)
from r2k.methodology.rule_sets import RuleSet
from r2k.sessions import sessions_in_range
from r2k.synthetic.universe import synthetic_universe

RULES = RuleSet.default()


@cache
def _reconstitution() -> Reconstitution:
    s = synthetic_universe(4300, seed=11)
    return reconstitute(
        s.universe,
        s.incumbents,
        RULES,
        rank_day=date(2026, 4, 30),
        effective_date=date(2026, 6, 26),
    )


def _cap_at(rank: int) -> float:
    m = _reconstitution().membership
    return float(m.filter(pl.col("rank") == rank)["total_market_cap"][0])


def _smallest(flag: str) -> float:
    m = _reconstitution().membership
    return float(m.filter(pl.col(flag))["total_market_cap"].min())  # type: ignore[arg-type]


EXPECTED: dict[IndexCode, tuple[str | int, str | int | None]] = {
    "r3000e": ("r3000e", None),
    "r3000": ("r3000", None),
    "r1000": (1000, None),
    "r2000": ("r3000", 1000),
    "microcap": ("microcap", 2000),
    "midcap": (1000, 200),
    "top200": (200, None),
    "r2500": ("r3000", 500),
}


def _bound(spec: str | int | None) -> float:
    if spec is None:
        return math.inf
    return _smallest(spec) if isinstance(spec, str) else _cap_at(spec)


@pytest.mark.parametrize("index", INDEX_CODES)
def test_decision_takes_the_index_lines_and_its_ipo_size_range(
    index: IndexCode,
) -> None:
    result = _reconstitution()
    decision = ReconDecision.from_reconstitution(result, RULES, index)
    assert decision.index == index
    assert decision.members["security_id"].to_list() == (
        result.index(index)["security_id"].to_list()
    )
    lower, upper = EXPECTED[index]
    assert decision.lower_cap == _bound(lower)
    assert decision.upper_cap == _bound(upper)
    assert decision.lower_cap < decision.upper_cap
    floor = "r3000e" if index in ("r3000e", "microcap") else "r3000"
    assert decision.child_floor == _smallest(floor)


def test_size_ranges_partition_the_wholes() -> None:
    """R3000 = R1000 + R2000 and R1000 = Midcap + Top 200, range by range."""
    d = {
        i: ReconDecision.from_reconstitution(_reconstitution(), RULES, i)
        for i in INDEX_CODES
    }
    assert d["r2000"].lower_cap == d["r3000"].lower_cap
    assert d["r2000"].upper_cap == d["r1000"].lower_cap
    assert d["midcap"].lower_cap == d["r1000"].lower_cap
    assert d["midcap"].upper_cap == d["top200"].lower_cap
    assert d["microcap"].lower_cap == d["r3000e"].lower_cap
    assert set(IPO_SIZE_RANGES) == set(INDEX_CODES)


def test_r2000_decision_is_the_one_before_any_index() -> None:
    """The Russell 2000's bounds are the smallest R3000 cap and the #1,000 cap."""
    m = _reconstitution().membership
    decision = ReconDecision.from_reconstitution(_reconstitution(), RULES)
    assert decision.lower_cap == m.filter(pl.col("r3000"))["total_market_cap"].min()
    assert decision.upper_cap == _cap_at(RULES.ranking.r1000_size)
    assert decision.child_floor == decision.lower_cap


def test_decision_json_round_trip_and_old_states() -> None:
    decision = ReconDecision.from_reconstitution(_reconstitution(), RULES, "midcap")
    again = ReconDecision.from_dict(json.loads(json.dumps(decision.to_dict())))
    assert again.index == "midcap"
    assert again.floor_cap == decision.floor_cap
    assert again.members.equals(decision.members)
    old = decision.to_dict()
    del old["index"], old["floor_cap"]  # a state stored before either existed
    before = ReconDecision.from_dict(old)
    assert before.index == "r2000"
    assert before.child_floor == before.lower_cap


def test_a_decision_for_another_index_is_an_error() -> None:
    days = sessions_in_range(date(2024, 1, 2), date(2024, 1, 5))
    rows = [
        {
            "session": d,
            "security_id": sid,
            "name": f"{sid} Inc.",
            "close": 10.0,
            "volume": 1,
            "shares_outstanding": 1e6,
            "total_market_cap": 1e7,
            "sector": "Technology",
        }
        for d in days
        for sid in ("A", "B")
    ]
    market = MarketHistory(pl.DataFrame(rows, schema=schemas.MARKET, orient="row"))
    members = pl.DataFrame(
        {"security_id": ["A", "B"], "shares": [1e6, 1e6], "float_factor": [1.0, 1.0]}
    )
    state, _ = initial_state(days[0], members, market)
    decision = ReconDecision(
        rank_day=days[1],
        effective_date=days[2],
        members=members.select("security_id", shares_outstanding="shares")
        .with_columns(float_factor=pl.lit(1.0))
        .cast({"shares_outstanding": pl.Float64}),
        lower_cap=0.0,
        upper_cap=math.inf,
    )
    settings = Settings(
        rules=RULES,
        index="r1000",
        quarterly=False,
        reconstitution_dates=((days[1], days[2]),),
        reconstitute=lambda day, current: decision,
    )
    with pytest.raises(MethodologyError, match="lines of r2000, but the calculation"):
        calculate(state, market, empty_actions(), settings, end=days[-1])
    ok = calculate(
        state,
        market,
        empty_actions(),
        Settings(
            rules=RULES,
            quarterly=False,
            reconstitution_dates=((days[1], days[2]),),
            reconstitute=lambda day, current: decision,
        ),
        end=days[-1],
    )
    assert isinstance(ok.state, IndexState)
    assert ok.state.bounds is not None
    assert ok.state.bounds.members.is_empty()  # applied: the size range is kept


def test_settings_name_a_known_index() -> None:
    with pytest.raises(MethodologyError, match="unknown index 'r4000'; choose one of"):
        Settings(rules=RULES, index="r4000")  # type: ignore[arg-type]
