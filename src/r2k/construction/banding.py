"""Banding around breakpoints (R7 §6.11, methodology.md §5 and TC1).

For a breakpoint at rank *b* with a band of ±h percentage points, the band is
``[c_b - h, c_b + h]`` where ``c_b`` is the cumulative market-cap percentile of
company *b* in the new R3000E. An existing Russell 3000 member whose percentile lies
within the band keeps its current side of the breakpoint; everyone else is assigned
by rank (new members, members outside the band, and Microcap members ex-R2000).

Edges are inclusive by default ("falls within"); ``percentile_decimals >= 0`` rounds
percentiles before the comparison, as R7's illustration prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from r2k.methodology.rule_sets import BandingRules


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    """A breakpoint with its band, as applied."""

    name: str
    rank: int
    band_pct: float
    breakpoint_pct: float | None  # c_b; None when fewer than `rank` companies
    lower_pct: float | None
    upper_pct: float | None


def make_band(
    ranked: pl.DataFrame, *, name: str, rank: int, band_pct: float, rules: BandingRules
) -> Band:
    """The band around the company at ``rank`` of ``ranked`` (with ``cum_cap_pct``)."""
    row = ranked.filter(pl.col("rank") == rank)
    cum_cap_pct = None if row.height == 0 else row.item(0, "cum_cap_pct")
    return band_around(
        cum_cap_pct, name=name, rank=rank, band_pct=band_pct, rules=rules
    )


def band_around(
    cum_cap_pct: float | None,
    *,
    name: str,
    rank: int,
    band_pct: float,
    rules: BandingRules,
) -> Band:
    """The band around a breakpoint whose company has percentile ``cum_cap_pct``.

    ``cum_cap_pct`` is None when no company of the R3000E has rank ``rank``.
    """
    if cum_cap_pct is None:
        return Band(
            name=name,
            rank=rank,
            band_pct=band_pct,
            breakpoint_pct=None,
            lower_pct=None,
            upper_pct=None,
        )
    c_b = _round(float(cum_cap_pct), rules.percentile_decimals)
    h = band_pct if rules.enabled else 0.0
    return Band(
        name=name,
        rank=rank,
        band_pct=h,
        breakpoint_pct=c_b,
        lower_pct=c_b - h,
        upper_pct=c_b + h,
    )


def is_above(band: Band, incumbent_above: str, rules: BandingRules) -> pl.Expr:
    """Whether a company lands on the upper (larger) side of ``band``.

    ``incumbent_above`` names a nullable boolean column: the company's current side
    (True above, False below, null for a new member or an unknown side).
    """
    by_rank = pl.col("rank") <= band.rank
    if band.lower_pct is None or band.upper_pct is None or not rules.enabled:
        return by_rank
    pct = pl.col("cum_cap_pct")
    if rules.percentile_decimals >= 0:
        pct = pct.round(rules.percentile_decimals, mode="half_away_from_zero")
    if rules.edges == "inclusive":
        inside = (pct >= band.lower_pct) & (pct <= band.upper_pct)
    else:
        inside = (pct > band.lower_pct) & (pct < band.upper_pct)
    keep = inside.fill_null(value=False) & pl.col(incumbent_above).is_not_null()
    return pl.when(keep).then(pl.col(incumbent_above)).otherwise(by_rank)


def _round(value: float, decimals: int) -> float:
    if decimals < 0:
        return value
    return float(pl.Series([value]).round(decimals, mode="half_away_from_zero")[0])
