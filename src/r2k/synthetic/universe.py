"""A seeded synthetic rank-day universe, a data source like any other.

It exercises every rule of the reconstitution engine without real data: a company
cap distribution shaped like the real 2026 rank day (rank 1 near $4.6T, rank 1,000
near $5bn, rank 3,000 near $125M), sectors, multi-class companies, non-common lines
that the screens must reject (warrants, units, preferreds, notes, depositary shares,
closed-end funds, SPACs, partnerships), prices below $1.00 with and without the
30-day rescue, float and voting data, and an incumbent membership drawn from caps a
year earlier. The same seed always gives the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from r2k import schemas

SECTORS = (
    "Technology",
    "Health Care",
    "Finance",
    "Industrials",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Utilities",
    "Real Estate",
    "Basic Materials",
    "Telecommunications",
)
_NON_COMMON = (
    ("warrant", "{name} Warrant"),
    ("unit", "{name} Units"),
    ("preferred", "{name} 6.25% Series A Cumulative Preferred Stock"),
    ("note", "{name} 5.00% Senior Notes due 2031"),
    ("depositary", "{name} American Depositary Shares"),
    ("closed_end_fund", "{name} Closed End Fund"),
    ("spac", "{name} Acquisition Corp Class A Ordinary Shares"),
    ("partnership", "{name} Common Units representing Limited Partner Interests"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticUniverse:
    """A synthetic rank-day universe and the incumbent Russell 3000."""

    universe: pl.DataFrame  # schemas.UNIVERSE
    incumbents: pl.DataFrame  # schemas.INCUMBENTS
    seed: int


def rank_curve(rank: np.ndarray) -> np.ndarray:
    """Typical total market cap at a company rank (piecewise log-log, USD)."""
    rank = np.asarray(rank, dtype=np.float64)
    top = 4.6e12 * rank ** (-np.log(4.6e12 / 5e9) / np.log(1000.0))
    bottom = 5e9 * (rank / 1000.0) ** (-np.log(5e9 / 1.25e8) / np.log(3.0))
    out: np.ndarray = np.where(rank <= 1000, top, bottom)
    return out


def synthetic_universe(
    n_companies: int = 4500, *, seed: int = 0, non_common_share: float = 0.15
) -> SyntheticUniverse:
    """Generate a rank-day universe of ``n_companies`` companies.

    Parameters
    ----------
    n_companies
        Number of companies (lines are more: extra classes and non-common lines).
    seed
        Seed of the NumPy generator; the output is a pure function of the inputs.
    non_common_share
        Fraction of companies that also have a non-common line (warrant, unit, ...).
    """
    rng = np.random.default_rng(seed)
    n = n_companies
    cap = rank_curve(np.arange(1, n + 1)) * np.exp(rng.normal(0.0, 0.25, n))
    cap_last_year = cap * np.exp(rng.normal(0.0, 0.35, n))
    company_id = np.array([f"C{i:05d}" for i in range(n)])
    base_name = np.array([f"Synthetic {i:05d} Inc." for i in range(n)])
    sector = rng.choice(np.array(SECTORS), n)
    close = np.exp(rng.normal(np.log(25.0), 1.1, n))
    penny = rng.random(n) < 0.03
    close[penny] = rng.uniform(0.3, 0.99, penny.sum())
    rescue = penny & (rng.random(n) < 0.5)
    avg30 = close * np.exp(rng.normal(0.0, 0.05, n))
    avg30[rescue] = rng.uniform(1.0, 1.5, rescue.sum())
    shares = cap / close
    volume = shares * np.exp(rng.normal(np.log(0.006), 0.6, n))
    float_factor = np.clip(rng.beta(6.0, 1.5, n), 0.01, 1.0)
    float_factor[rng.random(n) < 0.01] = 0.03
    voting = np.full(n, np.nan)
    dual = rng.random(n) < 0.01
    voting[dual] = rng.uniform(1.0, 30.0, dual.sum())
    multi = rng.random(n) < 0.03

    rows: dict[str, list[object]] = {k: [] for k in schemas.UNIVERSE.names()}

    def add(base: dict[str, object], **values: object) -> None:
        merged = {**base, **values}
        for key in schemas.UNIVERSE.names():
            rows[key].append(merged.get(key))

    for i in range(n):
        common: dict[str, object] = {
            "company_id": str(company_id[i]),
            "sector": str(sector[i]),
            "exchange": str(rng.choice(["NYSE", "NASDAQ"])),
            "country": "US",
            "close": float(close[i]),
            "avg_close_30d": float(avg30[i]),
            "float_factor": float(float_factor[i]),
            "voting_rights_pct": None if np.isnan(voting[i]) else float(voting[i]),
        }
        if multi[i]:
            split = float(rng.uniform(0.2, 0.8))
            for cls, part, vol_scale in (("A", split, 1.0), ("B", 1 - split, 0.3)):
                add(
                    common,
                    security_id=f"S{i:05d}.{cls}",
                    name=f"{base_name[i]} Class {cls} Common Stock",
                    security_type="class_share",
                    close=float(close[i] * (1.0 if cls == "A" else 0.97)),
                    avg_volume=float(volume[i] * part * vol_scale),
                    addtv=float(volume[i] * part * vol_scale * close[i]),
                    shares_outstanding=float(shares[i] * part),
                )
        else:
            add(
                common,
                security_id=f"S{i:05d}",
                name=f"{base_name[i]} Common Stock",
                security_type="common",
                avg_volume=float(volume[i]),
                addtv=float(volume[i] * close[i]),
                shares_outstanding=float(shares[i]),
            )
        if rng.random() < non_common_share:
            kind, template = _NON_COMMON[int(rng.integers(len(_NON_COMMON)))]
            add(
                common,
                security_id=f"S{i:05d}.X",
                name=template.format(name=base_name[i]),
                security_type=kind,
                close=float(rng.uniform(2.0, 30.0)),
                avg_volume=float(volume[i] * 0.01),
                addtv=float(volume[i] * 0.01 * close[i]),
                shares_outstanding=None,
                float_factor=None,
                voting_rights_pct=None,
            )
    universe = schemas.check_schema(
        pl.DataFrame(rows, schema=schemas.UNIVERSE),
        schemas.UNIVERSE,
        source="synthetic",
    )
    order = np.argsort(-cap_last_year, kind="stable")
    prev_rank = np.empty(n, dtype=np.int64)
    prev_rank[order] = np.arange(1, n + 1)
    members = np.flatnonzero(prev_rank <= 3000)
    first_line = (
        universe.filter(pl.col("security_type").is_in(["common", "class_share"]))
        .group_by("company_id", maintain_order=True)
        .agg(pl.col("security_id").first())
    )
    incumbents = (
        pl.DataFrame(
            {
                "company_id": company_id[members],
                "r1000": prev_rank[members] <= 1000,
                "top200": prev_rank[members] <= 200,
                "top500": prev_rank[members] <= 500,
                "microcap": prev_rank[members] > 2000,
            }
        )
        .join(first_line, on="company_id")
        .select(schemas.INCUMBENTS.names())
        .sort("security_id")
    )
    return SyntheticUniverse(universe=universe, incumbents=incumbents, seed=seed)
