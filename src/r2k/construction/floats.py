"""Float factors (R7 §7): from data where known, estimated from ETF holdings otherwise.

r2k's real data has no float data. iShares funds replicate their index, so a fund's
``quantity`` of a stock is proportional to the index's float-adjusted shares:
``quantity_i = kappa * float_factor_i * shares_i`` with one fund-wide ownership ratio
``kappa`` (about 2% for IWM). r2k estimates ``kappa`` as a high quantile (default the
90th percentile) of ``quantity_i / shares_i`` over the fund's holdings, i.e. it
assumes that the best-floated tenth of the index is fully floated, and sets

    float_factor_i = min(1, quantity_i / (shares_i * kappa)).

Companies the fund does not hold (new members, the Russell 1000) get the fallback:
the median estimated factor, or a fixed number set in the rule set. The source of
every factor is recorded (``data``, ``holdings`` or ``fallback``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from r2k.errors import MissingDataError

if TYPE_CHECKING:
    from r2k.methodology.rule_sets import FloatRules


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatEstimate:
    """Float factors estimated from one holdings file."""

    ownership_ratio: float  # kappa
    factors: pl.DataFrame  # security_id, float_factor
    median_factor: float


def estimate_from_holdings(
    holdings: pl.DataFrame, shares: pl.DataFrame, rules: FloatRules
) -> FloatEstimate:
    """Estimate float factors from fund ``holdings`` and line ``shares``.

    Parameters
    ----------
    holdings
        Equity lines of a replicating fund: ``security_id``, ``quantity``.
    shares
        ``security_id``, ``shares_outstanding`` (total shares of the line) as of the
        holdings date or close to it.
    """
    ratios = (
        holdings.select("security_id", "quantity")
        .join(shares.select("security_id", "shares_outstanding"), on="security_id")
        .filter((pl.col("shares_outstanding") > 0) & (pl.col("quantity") > 0))
        .with_columns(ratio=pl.col("quantity") / pl.col("shares_outstanding"))
    )
    if ratios.height == 0:
        msg = "no holdings line matches a security with known shares: no float estimate"
        raise MissingDataError(msg)
    kappa = float(
        ratios["ratio"].quantile(rules.holdings_ratio_quantile, "linear") or 0
    )
    factors = ratios.select(
        "security_id",
        float_factor=(pl.col("ratio") / kappa).clip(upper_bound=1.0),
    ).sort("security_id")
    median = float(factors.select(pl.col("float_factor").median()).item() or 1.0)
    return FloatEstimate(ownership_ratio=kappa, factors=factors, median_factor=median)


def fallback_factor(rules: FloatRules, estimate: FloatEstimate | None) -> float:
    """The float factor for a line with neither data nor a holdings estimate."""
    if rules.fallback == "median":
        return estimate.median_factor if estimate is not None else 1.0
    return float(rules.fallback)


def attach_float_factors(
    lines: pl.DataFrame, estimate: FloatEstimate | None, fallback: float
) -> pl.DataFrame:
    """Fill ``float_factor`` where missing and record ``float_source``.

    The rows keep their order.
    """
    known = pl.col("float_factor").is_not_null()
    if estimate is None:
        return lines.with_columns(
            float_source=pl.when(known)
            .then(pl.lit("data"))
            .otherwise(pl.lit("fallback")),
            float_factor=pl.col("float_factor").fill_null(fallback),
        )
    lines = lines.join(
        estimate.factors.rename({"float_factor": "_est"}),
        on="security_id",
        how="left",
        maintain_order="left",
    )
    return lines.with_columns(
        float_source=pl.when(known)
        .then(pl.lit("data"))
        .when(pl.col("_est").is_not_null())
        .then(pl.lit("holdings"))
        .otherwise(pl.lit("fallback")),
        float_factor=pl.coalesce("float_factor", "_est", pl.lit(fallback)),
    ).drop("_est")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingFloat:
    """The float factor of recently listed lines (IPOs whose shares are locked up).

    Russell's float of an IPO is the shares offered; locked-up shares stay out
    until the lock-up expires (R7 §4.3.2-4.3.3, docs/methodology.md §7). The data
    hold no offering sizes, so the factor is the median of the fund-derived
    factors of the lines the fund added between its last two holdings files
    before the rank day: between reconstitutions Russell adds lines almost only
    as quarterly IPO additions (R7 §9.2), so these are its own floats of recent
    IPOs.
    """

    listings: frozenset[str]  # lines first quoted after the market data start
    factor: float
    additions: int  # fund additions the factor is the median of
    source: str


def addition_float_factor(
    factors: pl.DataFrame, additions: frozenset[str]
) -> tuple[float, int] | None:
    """Median ``float_factor`` of ``factors`` over ``additions``, and how many.

    ``factors`` has ``security_id`` and ``float_factor`` (fund-derived only);
    None when no addition has a factor.
    """
    known = factors.filter(pl.col("security_id").is_in(list(additions)))
    if known.height == 0:
        return None
    return float(known["float_factor"].median()), known.height  # type: ignore[arg-type]
