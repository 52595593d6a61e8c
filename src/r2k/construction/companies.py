"""Company aggregation of share classes (R7 §6.1-6.7).

Ranks are company ranks: every common class of a company counts towards its total
market cap, priced at the rank-day close of the *pricing vehicle* (R7 §6.5). The
pricing vehicle is the class with the highest average trading volume; where two
classes' volumes differ by less than the tolerance (20%), the one with more shares
wins (R7 §6.5.2). Other classes become extra index lines when they pass the
share-class tests of R7 §6.6: total market cap above the minimum, average daily
dollar trading volume above the global median, float of at least 5%.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from r2k.methodology.rule_sets import ShareClassRules


def pricing_vehicles(
    lines: pl.DataFrame | pl.LazyFrame, rules: ShareClassRules
) -> pl.DataFrame:
    """Flag the pricing vehicle of each company among ``lines``.

    ``lines`` are the eligible lines (one company may have several). Adds the
    boolean column ``is_pricing_vehicle``. Ties are broken by ``security_id`` so
    that the result does not depend on row order. A lazy ``lines`` is computed in
    the same query.
    """
    top_volume = pl.col("avg_volume").fill_null(0.0).max().over("company_id")
    close_enough = pl.col("avg_volume").fill_null(0.0) >= top_volume * (
        1.0 - rules.pricing_vehicle_volume_tolerance
    )
    # The window is computed before any filter: a company's top volume is over
    # all of its lines.
    query = lines.lazy().with_columns(_close=close_enough)
    best = (
        query.filter(pl.col("_close"))
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
        query.join(best, on="company_id", how="left")
        .with_columns(is_pricing_vehicle=pl.col("security_id") == pl.col("_pv"))
        .drop("_pv", "_close")
        .collect(engine="in-memory")
    )


def aggregate_companies(
    lines: pl.DataFrame, *, all_classes: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame:
    """One row per company with its total market cap, priced at the pricing vehicle.

    Parameters
    ----------
    lines
        Eligible lines with ``is_pricing_vehicle`` (from :func:`pricing_vehicles`).
    all_classes
        Every common-equity line of the universe, eligible or not (an unlisted or
        OTC-traded class still counts in total shares, R7 §6.5.1). Columns
        ``company_id`` and ``shares_outstanding``; a lazy frame is read in the same
        query.

    Returns
    -------
    pl.DataFrame
        ``company_id, security_id (pricing vehicle), name, sector, close,
        avg_close_30d, total_shares, total_market_cap, float_factor,
        voting_rights_pct``. Shares of a class that are unknown count as zero; a
        company with no known shares has a null total.
    """
    shares = (
        all_classes.lazy()
        .group_by("company_id")
        .agg(
            total_shares=pl.when(pl.col("shares_outstanding").is_not_null().any()).then(
                pl.col("shares_outstanding").sum()
            )
        )
    )
    return (
        lines.lazy()
        .filter(pl.col("is_pricing_vehicle"))
        .select(
            "company_id",
            "security_id",
            "name",
            "sector",
            "close",
            "avg_close_30d",
            "float_factor",
            "voting_rights_pct",
        )
        .join(shares, on="company_id", how="left")
        .with_columns(total_market_cap=pl.col("total_shares") * pl.col("close"))
        .sort("company_id")
        .collect(engine="in-memory")
    )


def is_extra_class_line(rules: ShareClassRules) -> pl.Expr:
    """Whether a non-pricing-vehicle line qualifies as an extra index line (R7 §6.6).

    Each test applies where the data exists: a class whose own shares, volume or
    float are unknown is not screened on that test.
    """
    class_cap = pl.col("shares_outstanding") * pl.col("close")
    return (
        ~pl.col("is_pricing_vehicle")
        & (class_cap > rules.extra_class_min_total_market_cap).fill_null(value=True)
        & (pl.col("addtv") > rules.extra_class_min_addtv_usd).fill_null(value=True)
        & (pl.col("float_factor") * 100 >= rules.extra_class_min_float_pct).fill_null(
            value=True
        )
    )
