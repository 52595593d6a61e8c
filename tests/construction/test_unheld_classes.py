"""Extra share-class lines the incumbent fund does not hold (hand-built universe)."""

from __future__ import annotations

from datetime import date

import polars as pl

from r2k import schemas
from r2k.construction.reconstitution import reconstitute
from r2k.methodology.rule_sets import RuleSet

RULES = RuleSet.default()


def _universe() -> pl.DataFrame:
    rows = [
        # security_id, company_id, name, type, shares, volume
        (
            "KELYA",
            "KELYA",
            "Kelly Services Inc. Class A Common Stock",
            "class_share",
            3.5e7,
            4e5,
        ),
        (
            "KELYB",
            "KELYA",
            "Kelly Services Inc. Class B Common Stock",
            "class_share",
            None,
            4e4,
        ),
        ("AAPL", "AAPL", "Apple Inc. Common Stock", "common", 1e8, 1e6),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "security_id",
            "company_id",
            "name",
            "security_type",
            "shares_outstanding",
            "avg_volume",
        ],
        orient="row",
    )
    return frame.with_columns(
        sector=pl.lit("Industrials"),
        exchange=pl.lit(None, dtype=pl.String),
        country=pl.lit(None, dtype=pl.String),
        close=pl.lit(15.0),
        avg_close_30d=pl.lit(15.0),
        addtv=pl.col("avg_volume") * 15.0,
        float_factor=pl.lit(None, dtype=pl.Float64),
        voting_rights_pct=pl.lit(None, dtype=pl.Float64),
    ).select(list(schemas.UNIVERSE))


def _lines(unheld: frozenset[str]) -> list[str]:
    incumbents = pl.DataFrame(
        {"security_id": ["KELYA"], "r1000": [False]},
        schema={"security_id": pl.String, "r1000": pl.Boolean},
    ).with_columns(
        top200=pl.lit(None, dtype=pl.Boolean),
        top500=pl.lit(None, dtype=pl.Boolean),
        microcap=pl.lit(None, dtype=pl.Boolean),
    )
    result = reconstitute(
        _universe(),
        incumbents,
        RULES,
        rank_day=date(2026, 4, 30),
        effective_date=date(2026, 6, 26),
        unheld_classes=unheld,
    )
    return sorted(result.membership["security_id"].to_list())


def test_an_unheld_class_is_no_extra_line() -> None:
    assert _lines(frozenset()) == ["AAPL", "KELYA", "KELYB"]
    assert _lines(frozenset({"KELYB"})) == ["AAPL", "KELYA"]


def test_an_unheld_class_can_still_be_the_pricing_vehicle() -> None:
    # Only extra lines are dropped: naming the pricing vehicle changes nothing.
    assert _lines(frozenset({"KELYA"})) == ["AAPL", "KELYA", "KELYB"]
