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
    from r2k.methodology.rule_sets import BandingRules, RuleSet


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


def bands_of(ranked: pl.DataFrame, rules: RuleSet) -> dict[str, Band]:
    """The bands of every breakpoint of the family, from the ranked companies.

    ``ranked`` has ``rank`` and ``cum_cap_pct`` (from
    :func:`r2k.construction.ranking.rank_companies`).
    """
    r, b = rules.ranking, rules.banding
    spec = {
        "top200": (r.top200_size, b.top200_band_pct),
        "top500": (r.top500_size, b.top500_band_pct),
        "r1000": (r.r1000_size, b.r1000_band_pct),
        "microcap": (r.microcap_top, b.microcap_band_pct),
        "r3000": (r.r3000_size, 0.0),
        "r3000e": (r.r3000e_size, 0.0),
    }
    # The percentile at every breakpoint rank, in one pass (None: no such company).
    at_rank = ranked.select(
        pl.col("cum_cap_pct").filter(pl.col("rank") == rank).first().alias(name)
        for name, (rank, _) in spec.items()
    ).row(0)
    return {
        name: band_around(c_b, name=name, rank=rank, band_pct=pct, rules=b)
        for (name, (rank, pct)), c_b in zip(spec.items(), at_rank, strict=True)
    }


def index_flags(
    ranked: pl.DataFrame, bands: dict[str, Band], rules: RuleSet
) -> pl.DataFrame:
    """``ranked`` with the index flags of every company (R7 §6.11).

    ``ranked`` has ``rank``, ``cum_cap_pct`` and the incumbent sides
    ``inc_r1000``, ``inc_top200``, ``inc_top500`` and ``inc_above2000``.
    """
    r, b = rules.ranking, rules.banding
    in_e = pl.col("rank") <= r.r3000e_size
    in_3000 = pl.col("rank") <= r.r3000_size
    flags = ranked.lazy().with_columns(
        r3000e=in_e,
        r3000=in_3000,
        r1000=in_3000 & is_above(bands["r1000"], "inc_r1000", b),
        top200=in_3000 & is_above(bands["top200"], "inc_top200", b),
        _top500=in_3000 & is_above(bands["top500"], "inc_top500", b),
        _above2000=is_above(bands["microcap"], "inc_above2000", b),
    )
    # A company in the Top 200 is in the Russell 1000 (bands cannot cross: the #200
    # band sits far above the #1,000 one), so the segments nest.
    return (
        flags.with_columns(
            top200=pl.col("top200") & pl.col("r1000"),
            _top500=pl.col("_top500") & pl.col("r1000"),
        )
        .with_columns(
            r2000=pl.col("r3000") & ~pl.col("r1000"),
            midcap=pl.col("r1000") & ~pl.col("top200"),
            r2500=pl.col("r3000") & ~pl.col("_top500"),
            microcap=pl.col("r3000e") & ~pl.col("r1000") & ~pl.col("_above2000"),
        )
        .drop("_top500", "_above2000")
        .collect(engine="in-memory")
    )


def breakpoint_table(ranked: pl.DataFrame, bands: dict[str, Band]) -> pl.DataFrame:
    """One row per band: the breakpoint's cap and the caps at the band's edges.

    ``upper_edge_cap`` (``lower_edge_cap``) is the cap of the first company whose
    cumulative percentile reaches the band's lower (upper) percentile; every cap
    is read in one pass over ``ranked``.
    """
    cap = pl.col("total_market_cap")
    reads: dict[str, pl.Expr] = {}
    for i, band in enumerate(bands.values()):
        reads[f"cap{i}"] = cap.filter(pl.col("rank") == band.rank).first()
        for edge, pct in (("upper", band.lower_pct), ("lower", band.upper_pct)):
            if pct is not None:
                reads[f"{edge}{i}"] = cap.filter(pl.col("cum_cap_pct") >= pct).first()
    caps = ranked.select(**reads).row(0, named=True) if reads else {}
    rows = [
        {
            "name": band.name,
            "rank": band.rank,
            "total_market_cap": _as_float(caps[f"cap{i}"]),
            "cum_cap_pct": band.breakpoint_pct,
            "band_pct": band.band_pct,
            "lower_pct": band.lower_pct,
            "upper_pct": band.upper_pct,
            "upper_edge_cap": _as_float(caps.get(f"upper{i}")),
            "lower_edge_cap": _as_float(caps.get(f"lower{i}")),
        }
        for i, band in enumerate(bands.values())
    ]
    return pl.DataFrame(
        rows,
        schema={
            "name": pl.String,
            "rank": pl.Int64,
            "total_market_cap": pl.Float64,
            "cum_cap_pct": pl.Float64,
            "band_pct": pl.Float64,
            "lower_pct": pl.Float64,
            "upper_pct": pl.Float64,
            "upper_edge_cap": pl.Float64,
            "lower_edge_cap": pl.Float64,
        },
    )


def _as_float(value: float | None) -> float | None:
    return None if value is None else float(value)
