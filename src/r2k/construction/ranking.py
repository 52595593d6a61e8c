"""Ranking of companies by total market cap (R7 §6.1, §6.10-6.11 steps 1-3).

Companies are sorted by total market cap, descending; ties are broken by
``company_id`` so that shuffling rows never changes a rank. The cumulative
percentile ``cum_cap_pct`` of company *k* is the sum of the caps of companies
1..k (including *k*) over the total cap of the R3000E, in percent.
"""

from __future__ import annotations

import polars as pl


def rank_companies(
    companies: pl.DataFrame | pl.LazyFrame, *, r3000e_size: int
) -> pl.DataFrame:
    """Rank eligible companies and compute cumulative percentiles.

    Returns every company with ``rank`` (1 = largest), sorted by rank, and, for the
    top ``r3000e_size`` (the R3000E), ``cum_cap_pct``; ranks beyond have a null
    percentile. A lazy ``companies`` is ranked in the same query.
    """
    in_e = pl.col("rank") <= r3000e_size
    cap_e = pl.when(in_e).then(pl.col("total_market_cap")).otherwise(0.0)
    return (
        companies.lazy()
        .sort(["total_market_cap", "company_id"], descending=[True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        .with_columns(
            cum_cap_pct=pl.when(in_e).then(100.0 * cap_e.cum_sum() / cap_e.sum())
        )
        .collect(engine="in-memory")
    )


def breakpoint_cap(ranked: pl.DataFrame, rank: int) -> float | None:
    """Total market cap of the company at ``rank`` (the breakpoint), if it exists."""
    row = ranked.filter(pl.col("rank") == rank)
    if row.height == 0:
        return None
    return float(row.item(0, "total_market_cap"))


def unseen_companies(*, outside_panel: int, in_panel: int, in_no_list: int) -> int:
    """Estimated companies of the ranking that no input shows (r2k's estimate).

    The market panel leaves out US-listed companies domiciled abroad that FTSE
    Russell may assign to the US (R7 §5.2-5.5). For current members the fund
    files name them (``outside_panel`` of the incumbent file's companies are not
    in the panel, ``in_panel`` are); for companies in no fund list nothing does.
    Taking the same share of them to be missing, the ranking lacks
    ``in_no_list x outside_panel / in_panel`` companies (rounded), where
    ``in_no_list`` counts the ranked companies no fund list holds.

    Examples
    --------
    >>> unseen_companies(outside_panel=120, in_panel=1800, in_no_list=270)
    18
    >>> unseen_companies(outside_panel=0, in_panel=1800, in_no_list=270)
    0
    """
    if in_panel <= 0 or outside_panel <= 0 or in_no_list <= 0:
        return 0
    return round(in_no_list * outside_panel / in_panel)
