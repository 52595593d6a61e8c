"""Eligibility screens (R7 §5), as Polars expressions over the rank-day universe.

Screens come in two stages. *Line* screens look at one security: exchange (R7 §5.6-5.7),
security type and company structure (R7 §5.11, §5.13), a usable rank-day price, and
country (R7 §5.2-5.5, where country data exists). *Company* screens look at the
aggregated company (see :mod:`r2k.construction.companies`): known shares (a data gap,
reason ``no_shares``), minimum total market cap (R7 §5.9),
minimum price with the 30-day average rescue for existing members (R7 §5.8), minimum
float (R7 §5.10) and voting rights (R7 §5.15), each applied only where the data exists.

Each excluded line or company carries one reason code, the first screen it fails in
the order of :data:`LINE_REASONS` and :data:`COMPANY_REASONS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from r2k.errors import InputError

if TYPE_CHECKING:
    from r2k.methodology.rule_sets import EligibilityRules

LINE_REASONS = ("security_type", "exchange", "country", "no_price")
COMPANY_REASONS = (
    "min_total_market_cap",
    "min_price",
    "min_float",
    "min_voting_rights",
)


def line_exclusion_reason(rules: EligibilityRules) -> pl.Expr:
    """Reason a security line is ineligible, or null where it passes (R7 §5.2-5.13)."""
    exchange = pl.col("exchange").str.to_uppercase()
    return (
        pl.when(~pl.col("security_type").is_in(list(rules.eligible_security_types)))
        .then(pl.lit("security_type"))
        .when(exchange.is_not_null() & ~exchange.is_in(list(rules.eligible_exchanges)))
        .then(pl.lit("exchange"))
        .when(
            pl.col("country").is_not_null()
            & ~pl.col("country").is_in(list(rules.eligible_countries))
        )
        .then(pl.lit("country"))
        .when(pl.col("close").is_null() | (pl.col("close") <= 0))
        .then(pl.lit("no_price"))
        .otherwise(None)
        .alias("exclusion_reason")
    )


def company_exclusion_reason(rules: EligibilityRules) -> pl.Expr:
    """Reason a company is ineligible, or null where it passes.

    Works on the company frame of
    :func:`r2k.construction.companies.aggregate_companies`, which has
    ``total_market_cap``, ``close`` and ``avg_close_30d`` of the pricing vehicle,
    ``is_incumbent``, ``float_factor`` and ``voting_rights_pct``.

    R7 §5.8.1: the close must be at least ``min_price``; an existing member below it
    stays eligible when its average close over the 30 days before rank day is at
    least ``min_price``. Float and voting screens apply only where data exists.
    """
    price_ok = (pl.col("close") >= rules.min_price) | (
        pl.col("is_incumbent") & (pl.col("avg_close_30d") >= rules.min_price)
    )
    return (
        pl.when(pl.col("total_market_cap").is_null())
        .then(pl.lit("no_shares"))
        .when(pl.col("total_market_cap") < rules.min_total_market_cap)
        .then(pl.lit("min_total_market_cap"))
        .when(~price_ok.fill_null(value=False))
        .then(pl.lit("min_price"))
        .when(pl.col("float_factor") * 100 < rules.min_float_pct)
        .then(pl.lit("min_float"))
        .when(pl.col("voting_rights_pct") < rules.min_voting_rights_pct)
        .then(pl.lit("min_voting_rights"))
        .otherwise(None)
        .alias("exclusion_reason")
    )


def voting_rights_pct(
    listed_votes: float, listed_free_float: float, other_votes: float
) -> float:
    """Percentage of a company's votes in unrestricted hands (R7 §5.15.2).

    Parameters
    ----------
    listed_votes
        Total votes carried by the listed class (shares x votes per share).
    listed_free_float
        Free-float fraction of the listed class, in [0, 1].
    other_votes
        Total votes of every other voting class, listed or not, held by restricted
        holders (unlisted classes count in full).

    Examples
    --------
    R7 §5.15.3 (methodology.md TC2): 100m class A (1 vote, 65% float) and 300m
    unlisted class B with 10 votes each:

    >>> round(voting_rights_pct(100e6, 0.65, 3e9), 3)
    2.097
    """
    total = listed_votes + other_votes
    if total <= 0:
        msg = "total votes must be positive"
        raise InputError(msg)
    return 100.0 * listed_votes * listed_free_float / total
