"""Banding around breakpoints (R7 §6.11, methodology.md §5 and TC1).

For a breakpoint at rank *b* with a band of ±h percentage points, the band is
``[c_b - h, c_b + h]`` where ``c_b`` is the cumulative market-cap percentile of
company *b* in the new R3000E. An existing Russell 3000 member whose percentile lies
within the band keeps its current side of the breakpoint; everyone else is assigned
by rank (new members, members outside the band, and Microcap members ex-R2000).

Edges are inclusive by default ("falls within"); ``percentile_decimals >= 0`` rounds
percentiles before the comparison, as R7's illustration prints them.

The functions read the ranked frame's columns as arrays (no Polars query: a
reconstitution of the batch runs beside the background thread's queries, and a
query waits for the thread pool they hold). A comparison with a NaN percentile
follows Polars (NaN sorts above every number), so a frame gives what its
queries would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
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
    return band_around(
        _value_at_rank(ranked, "cum_cap_pct", rank),
        name=name,
        rank=rank,
        band_pct=band_pct,
        rules=rules,
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


def is_above(
    band: Band, ranked: pl.DataFrame, incumbent_above: str, rules: BandingRules
) -> np.ndarray:
    """Whether each company of ``ranked`` lands on the upper side of ``band``.

    ``ranked`` has ``rank`` and ``cum_cap_pct``; ``incumbent_above`` names a
    nullable boolean column of it: the company's current side (True above, False
    below, null for a new member or an unknown side). A company keeps that side
    when its percentile is within the band, and goes by rank otherwise.
    """
    by_rank: np.ndarray = ranked.get_column("rank").to_numpy() <= band.rank
    if band.lower_pct is None or band.upper_pct is None or not rules.enabled:
        return by_rank
    pct = ranked.get_column("cum_cap_pct")
    if rules.percentile_decimals >= 0:
        pct = pct.round(rules.percentile_decimals, mode="half_away_from_zero")
    if rules.edges == "inclusive":
        inside = _compare(pct, ">=", band.lower_pct) & _compare(
            pct, "<=", band.upper_pct
        )
    else:
        inside = _compare(pct, ">", band.lower_pct) & _compare(pct, "<", band.upper_pct)
    side = sides_of(ranked.get_column(incumbent_above))
    out: np.ndarray = np.where(inside & (side >= 0), side > 0, by_rank)
    return out


def sides_of(column: pl.Series) -> np.ndarray:
    """A nullable boolean column as int8: 1 true, 0 false, -1 null.

    Read from the buffers, without a query.
    """
    if column.null_count() == 0:
        return column.to_numpy().astype(np.int8)
    values = column.cast(pl.Float64).to_numpy()
    return np.where(np.isnan(values), -1, values).astype(np.int8)


def sides_column(name: str, sides: np.ndarray) -> pl.Series:
    """The nullable boolean column of int8 ``sides`` (1 true, 0 false, -1 null)."""
    values = np.where(sides < 0, np.nan, sides > 0)
    return pl.Series(name, values, nan_to_null=True).cast(pl.Boolean)


def _round(value: float, decimals: int) -> float:
    if decimals < 0:
        return value
    return float(pl.Series([value]).round(decimals, mode="half_away_from_zero")[0])


def band_spec(rules: RuleSet) -> dict[str, tuple[int, float]]:
    """Every breakpoint of the family: its rank and its band (percentage points)."""
    r, b = rules.ranking, rules.banding
    return {
        "top200": (r.top200_size, b.top200_band_pct),
        "top500": (r.top500_size, b.top500_band_pct),
        "r1000": (r.r1000_size, b.r1000_band_pct),
        "microcap": (r.microcap_top, b.microcap_band_pct),
        "r3000": (r.r3000_size, 0.0),
        "r3000e": (r.r3000e_size, 0.0),
    }


def bands_of(ranked: pl.DataFrame, rules: RuleSet) -> dict[str, Band]:
    """The bands of every breakpoint of the family, from the ranked companies.

    ``ranked`` has ``rank`` and ``cum_cap_pct`` (from
    :func:`r2k.construction.ranking.rank_companies`).
    """
    # The percentile at every breakpoint rank (None: no such company).
    return {
        name: band_around(
            _value_at_rank(ranked, "cum_cap_pct", rank),
            name=name,
            rank=rank,
            band_pct=pct,
            rules=rules.banding,
        )
        for name, (rank, pct) in band_spec(rules).items()
    }


def index_flags(
    ranked: pl.DataFrame, bands: dict[str, Band], rules: RuleSet
) -> pl.DataFrame:
    """``ranked`` with the index flags of every company (R7 §6.11).

    ``ranked`` has ``rank``, ``cum_cap_pct`` and the incumbent sides
    ``inc_r1000``, ``inc_top200``, ``inc_top500`` and ``inc_above2000``.
    """
    r, b = rules.ranking, rules.banding
    rank = ranked.get_column("rank").to_numpy()
    r3000e = rank <= r.r3000e_size
    r3000 = rank <= r.r3000_size
    r1000 = r3000 & is_above(bands["r1000"], ranked, "inc_r1000", b)
    # A company in the Top 200 is in the Russell 1000 (bands cannot cross: the #200
    # band sits far above the #1,000 one), so the segments nest.
    top200 = r3000 & is_above(bands["top200"], ranked, "inc_top200", b) & r1000
    top500 = r3000 & is_above(bands["top500"], ranked, "inc_top500", b) & r1000
    above2000 = is_above(bands["microcap"], ranked, "inc_above2000", b)
    flags = {
        "r3000e": r3000e,
        "r3000": r3000,
        "r1000": r1000,
        "top200": top200,
        "r2000": r3000 & ~r1000,
        "midcap": r1000 & ~top200,
        "r2500": r3000 & ~top500,
        "microcap": r3000e & ~r1000 & ~above2000,
    }
    # Replaced in place where ``ranked`` has the column, else added at the end.
    out = ranked.clone()
    for name, values in flags.items():
        column = pl.Series(name, values, dtype=pl.Boolean)
        if name in out.columns:
            out.replace_column(out.get_column_index(name), column)
        else:
            out.hstack([column], in_place=True)
    return out


def breakpoint_table(ranked: pl.DataFrame, bands: dict[str, Band]) -> pl.DataFrame:
    """One row per band: the breakpoint's cap and the caps at the band's edges.

    ``upper_edge_cap`` (``lower_edge_cap``) is the cap of the first company whose
    cumulative percentile reaches the band's lower (upper) percentile; the caps
    are read from ``ranked``'s columns as arrays.
    """
    caps: dict[str, float | None] = {}
    for i, band in enumerate(bands.values()):
        caps[f"cap{i}"] = _value_at_rank(ranked, "total_market_cap", band.rank)
        for edge, pct in (("upper", band.lower_pct), ("lower", band.upper_pct)):
            if pct is not None:
                caps[f"{edge}{i}"] = _first_cap_reaching(ranked, pct)
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


def _compare(values: pl.Series, op: str, bound: float) -> np.ndarray:
    """``values op bound`` (op one of >=, >, <=, <) as a Polars filter keeps rows.

    A null is never kept; NaN equals NaN and is above every number (Polars'
    order, where NumPy's comparisons with NaN are all false).
    """
    x = values.to_numpy().astype(np.float64, copy=False)
    nan = np.isnan(x)  # a NaN, or a null read as NaN
    nulls = values.null_count()
    if nulls == 0:
        null, real_nan = np.zeros(x.size, dtype=bool), nan
    elif np.count_nonzero(nan) == nulls:
        null, real_nan = nan, np.zeros(x.size, dtype=bool)
    else:
        null = values.is_null().to_numpy()
        real_nan = nan & ~null
    out: np.ndarray
    if math.isnan(bound):
        kept = {">=": real_nan, ">": np.zeros(x.size, dtype=bool), "<=": ~null}
        out = kept.get(op, ~nan)  # "<": every number
        return out
    with np.errstate(invalid="ignore"):
        if op in (">=", ">"):
            out = (x >= bound if op == ">=" else x > bound) | real_nan
        else:
            out = x <= bound if op == "<=" else x < bound
    return out


def _value_at_rank(ranked: pl.DataFrame, column: str, rank: int) -> float | None:
    """``column`` of the first company at ``rank`` (None: no such company)."""
    at = np.flatnonzero(ranked.get_column("rank").to_numpy() == rank)
    if at.size == 0:
        return None
    value: float | None = ranked.get_column(column)[int(at[0])]
    return value


def _first_cap_reaching(ranked: pl.DataFrame, pct: float) -> float | None:
    """Total cap of the first company whose percentile is at least ``pct``.

    A null percentile never reaches it (Polars' filter).
    """
    at = np.flatnonzero(_compare(ranked.get_column("cum_cap_pct"), ">=", pct))
    if at.size == 0:
        return None
    value: float | None = ranked.get_column("total_market_cap")[int(at[0])]
    return value
