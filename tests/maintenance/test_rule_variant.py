"""One eligibility definition: a rule variant changes the reconstitution and the
maintenance alike (security types and minimum price of the rule set).

A hand-built market: five members, a class-share line trading all along, three
IPOs first trading in the March 2024 quarter's window (a class share, a common
line, a common line at $1.50) and a spin-off whose child is a class share. With
the default rules every one of them is eligible; without ``class_share`` in
``eligible_security_types`` the class shares are excluded at the reconstitution
and neither enters by IPO addition nor stays as a spin-off child; with
``min_price = 2`` the $1.50 line is excluded at both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k import schemas
from r2k.construction.reconstitution import reconstitute
from r2k.construction.universe import build_universe
from r2k.maintenance import (
    Calculation,
    MarketHistory,
    ReconDecision,
    Settings,
    calculate,
    initial_state,
)
from r2k.methodology.rule_sets import RuleSet
from r2k.sessions import sessions_in_range

if TYPE_CHECKING:
    from pathlib import Path

# The market starts before the IPO window, the calculation at BASE.
DAYS = sessions_in_range(date(2023, 10, 2), date(2024, 3, 20))
BASE = date(2024, 1, 2)
IPO_DAY = date(2024, 1, 10)  # in the window (2023-10-31, 2024-01-31]
SPIN_DAY = date(2024, 2, 15)
RANK_DAY = date(2024, 1, 31)  # the quarter's IPO rank day
QUARTER = date(2024, 3, 15)  # its effective date
# security_id: (name, close, shares, first session)
LINES = {
    "AAA": ("Aaa Inc. Common Stock", 50.0, 4e7, DAYS[0]),
    "BBB": ("Bbb Corp. Common Stock", 40.0, 4e7, DAYS[0]),
    "CCC": ("Ccc Inc. Common Stock", 30.0, 4e7, DAYS[0]),
    "DDD": ("Ddd Inc. Common Stock", 20.0, 4e7, DAYS[0]),
    "EEE": ("Eee Inc. Common Stock", 10.0, 4e7, DAYS[0]),
    "CLS": ("Cls Holdings Inc. Class A Common Stock", 25.0, 4e7, DAYS[0]),
    "IPOC": ("Ipoc Group Inc. Class A Common Stock", 20.0, 5e6, IPO_DAY),
    "IPOX": ("Ipox Inc. Common Stock", 20.0, 5e6, IPO_DAY),
    "PENNY": ("Penny Inc. Common Stock", 1.5, 5e7, IPO_DAY),
    "KID": ("Kid Corp. Class B Common Stock", 10.0, 2e7, SPIN_DAY),
}
MEMBERS = ("AAA", "BBB", "CCC", "DDD", "EEE")


def _market() -> MarketHistory:
    rows = [
        {
            "session": d,
            "security_id": sid,
            "name": name,
            "close": close,
            "volume": 100_000,
            "shares_outstanding": shares,
            "total_market_cap": close * shares,
            "sector": "Technology",
        }
        for d in DAYS
        for sid, (name, close, shares, first) in LINES.items()
        if d >= first
    ]
    return MarketHistory(pl.DataFrame(rows, schema=schemas.MARKET, orient="row"))


def _actions() -> pl.DataFrame:
    row = dict.fromkeys(schemas.CORPORATE_ACTIONS.names())
    row.update(
        security_id="AAA",
        ex_date=SPIN_DAY,
        action="spinoff",
        other_id="KID",
        ratio=0.5,
        amount=10.0,
        source="test",
    )
    return pl.DataFrame([row], schema=schemas.CORPORATE_ACTIONS, orient="row")


def _variant(tmp_path: Path, old: str, new: str) -> RuleSet:
    text = (
        resources.files("r2k.methodology.rules")
        .joinpath("russell_us_current.toml")
        .read_text(encoding="utf-8")
    )
    assert old in text
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return RuleSet.from_toml(path)


def _reconstituted(market: MarketHistory, rules: RuleSet) -> set[str]:
    universe = build_universe(market.rows(DAYS[0], RANK_DAY), RANK_DAY).universe
    empty = pl.DataFrame(schema=schemas.INCUMBENTS)
    result = reconstitute(
        universe, empty, rules, rank_day=RANK_DAY, effective_date=QUARTER
    )
    return set(result.index("r3000e")["security_id"].to_list())


def _maintained(market: MarketHistory, rules: RuleSet) -> Calculation:
    members = pl.DataFrame(
        {"security_id": MEMBERS, "shares": [4e7] * 5, "float_factor": [1.0] * 5}
    )
    state, _ = initial_state(BASE, members, market)
    bounds = ReconDecision(
        rank_day=BASE,
        effective_date=BASE,
        members=pl.DataFrame(schema=dict.fromkeys(("security_id",), pl.String)),
        lower_cap=1e6,
        upper_cap=1e12,
    )
    settings = Settings(rules=rules, reconstitution_dates=())
    return calculate(
        replace(state, bounds=bounds), market, _actions(), settings, end=DAYS[-1]
    )


def _entered(calc: Calculation) -> tuple[set[str], set[str]]:
    """IPO additions, and spin-off children still held at the end."""
    events = calc.events
    ipos = events.filter(pl.col("action") == "ipo_addition")["security_id"]
    return set(ipos.to_list()), {"KID"} & calc.state.members()


@pytest.mark.parametrize(
    ("old", "new", "excluded"),
    [
        (
            'eligible_security_types = ["common", "ordinary", "class_share"]',
            'eligible_security_types = ["common", "ordinary"]',
            {"CLS", "IPOC", "KID"},
        ),
        ("min_price = 1.00 ", "min_price = 2.00 ", {"PENNY"}),
    ],
    ids=["no class shares", "min price $2"],
)
def test_a_rule_variant_reaches_reconstitution_and_maintenance(
    tmp_path: Path, old: str, new: str, excluded: set[str]
) -> None:
    market = _market()
    default, variant = RuleSet.default(), _variant(tmp_path, old, new)

    # Reconstitution on the rank day (KID does not trade yet).
    everyone = set(LINES) - {"KID"}
    assert _reconstituted(market, default) == everyone
    assert _reconstituted(market, variant) == everyone - excluded

    # Maintenance: the quarter's IPO additions and the spin-off child.
    ipos, children = _entered(_maintained(market, default))
    assert ipos == {"IPOC", "IPOX", "PENNY"}
    assert children == {"KID"}
    ipos, children = _entered(_maintained(market, variant))
    assert ipos == {"IPOC", "IPOX", "PENNY"} - excluded
    assert children == {"KID"} - excluded
