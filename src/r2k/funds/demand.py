"""Passive demand at a reconstitution: what the index funds must trade.

A fund that replicates an index holds the same fraction ``k = AUM / C`` of every
line's index shares, where ``C`` is the index's float-adjusted capitalisation. A
line with ``N`` index shares priced ``P`` has the weight ``w = N P / C``, so the
fund holds ``AUM w / P = k N`` shares. At a reconstitution the funds move from
the old index to the new one at the same close; the shares they trade in a line
are (docs/funds.md, "Demand")::

    demand_shares = AUM_2000 (w_after - w_before) / P           # Russell 2000 funds
                  + AUM_1000 (w1000_after - w1000_before) / P   # Russell 1000 funds

with ``w1000`` the line's Russell 1000 weight, used for migrations only, so a
migration nets the two families of funds: a line moving up is sold by the
Russell 2000 funds and bought by the Russell 1000 funds. Doubling every AUM
doubles every demand (a property test checks it).

Average daily volume is the **median** of the daily volumes of the last
``window`` sessions on or before the as-of date (median, not mean: a single
block trade or news day does not inflate it). ``days_of_volume = |demand| /
ADV``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.errors import InputError

if TYPE_CHECKING:
    from datetime import date

__all__ = [
    "ADV_WINDOW",
    "CHANGE_KINDS",
    "LINE_COLUMNS",
    "PREVIEW_COLUMNS",
    "PassiveAum",
    "average_daily_volume",
    "preview_demand",
    "preview_totals",
]

ADV_WINDOW: Final = 60
"""Sessions in the median daily volume (about three months of trading).

Measured on the 2026 reconstitution (docs/funds.md): a 20-session window ending
a day before the effective date holds the weeks after the preliminary lists,
when arbitrageurs pre-trade the very names with the most demand; their ADV is
inflated and their days of volume understated. Sixty sessions dilute that
(Spearman of days of volume against the effective-day volume ratio 0.43 with
20 sessions, 0.53 with 60)."""

CHANGE_KINDS: Final = ("add", "delete", "migrate_up", "migrate_down", "stay")

LINE_COLUMNS: Final = (
    "security_id",
    "name",
    "sector",
    "change",
    "index_before",  # "R2000", "R1000" or null (neither)
    "index_after",
    "index_shares",  # float-adjusted shares N (the same before and after)
    "price",  # close on the as-of date (the last one known by then)
)

PREVIEW_COLUMNS: Final = (
    "security_id",
    "name",
    "sector",
    "change",
    "index_before",
    "index_after",
    "price",
    "index_shares",
    "weight_before",
    "weight_after",
    "weight_r1000_before",
    "weight_r1000_after",
    "demand_r2000_shares",
    "demand_r1000_shares",
    "demand_shares",
    "demand_usd",
    "adv_shares",
    "days_of_volume",
)


@dataclass(frozen=True, slots=True)
class PassiveAum:
    """Assets tracking each index passively, in USD, and where the figures come from."""

    r2000: float
    r1000: float
    source: str = "set by the user"

    def __post_init__(self) -> None:
        for name in ("r2000", "r1000"):
            value = getattr(self, name)
            if not value >= 0:
                msg = f"passive AUM for {name} must be >= 0, not {value}"
                raise InputError(msg)

    def scaled(self, factor: float) -> PassiveAum:
        """Both AUM times ``factor``."""
        return PassiveAum(self.r2000 * factor, self.r1000 * factor, self.source)


def average_daily_volume(
    market: pl.DataFrame, as_of: date, *, window: int = ADV_WINDOW
) -> pl.DataFrame:
    """Median volume of each line over the last ``window`` sessions <= ``as_of``.

    ``market`` needs ``session``, ``security_id``, ``volume`` and ``close``.
    Rows after ``as_of`` are dropped first, so nothing later is read. Returns
    ``security_id, adv_shares, adv_sessions, last_close`` (the close of the last
    session on or before ``as_of`` the line traded).
    """
    if window < 1:
        msg = f"the ADV window must be at least 1 session, not {window}"
        raise InputError(msg)
    known = market.filter(pl.col("session") <= as_of)
    sessions = known.get_column("session").unique().sort(descending=True).head(window)
    recent = known.filter(pl.col("session").is_in(sessions.implode()))
    adv = recent.group_by("security_id").agg(
        adv_shares=pl.col("volume").cast(pl.Float64).median(),
        adv_sessions=pl.len(),
    )
    last = (
        known.filter(pl.col("close").is_not_null())
        .sort("session")
        .group_by("security_id")
        .agg(last_close=pl.col("close").last())
    )
    return adv.join(last, on="security_id", how="full", coalesce=True)


def preview_demand(
    lines: pl.DataFrame, adv: pl.DataFrame, aum: PassiveAum
) -> pl.DataFrame:
    """Weights before and after, passive demand and days of volume per line.

    ``lines`` has :data:`LINE_COLUMNS`: every line of the Russell 2000 before or
    after and every Russell 1000 line (so that the Russell 1000's total is
    known), ``index_shares`` and ``price`` known. ``adv`` has ``security_id`` and
    ``adv_shares`` (see :func:`average_daily_volume`). Returns the Russell 2000
    rows (before or after) with :data:`PREVIEW_COLUMNS`, largest days of volume
    first.
    """
    missing = [c for c in LINE_COLUMNS if c not in lines.columns]
    if missing:
        msg = f"lines lack column(s) {', '.join(missing)}"
        raise InputError(msg)
    cap = pl.col("index_shares") * pl.col("price")
    frame = lines.select(LINE_COLUMNS).with_columns(_cap=cap)

    def total(index: str, when: str) -> float:
        return float(frame.filter(pl.col(when) == index).get_column("_cap").sum())

    totals = {
        (index, when): total(index, when)
        for index in ("R2000", "R1000")
        for when in ("index_before", "index_after")
    }

    def weight(index: str, when: str) -> pl.Expr:
        denominator = totals[(index, when)]
        if denominator <= 0:
            return pl.lit(0.0)
        return (
            pl.when(pl.col(when) == index)
            .then(pl.col("_cap") / denominator)
            .otherwise(0.0)
        )

    frame = frame.with_columns(
        weight_before=weight("R2000", "index_before"),
        weight_after=weight("R2000", "index_after"),
        weight_r1000_before=weight("R1000", "index_before"),
        weight_r1000_after=weight("R1000", "index_after"),
    )
    migrates = pl.col("change").is_in(["migrate_up", "migrate_down"])
    frame = frame.filter(
        (pl.col("index_before") == "R2000") | (pl.col("index_after") == "R2000")
    ).with_columns(
        demand_r2000_shares=aum.r2000
        * (pl.col("weight_after") - pl.col("weight_before"))
        / pl.col("price"),
        demand_r1000_shares=pl.when(migrates)
        .then(
            aum.r1000
            * (pl.col("weight_r1000_after") - pl.col("weight_r1000_before"))
            / pl.col("price")
        )
        .otherwise(0.0),
    )
    frame = frame.with_columns(
        demand_shares=pl.col("demand_r2000_shares") + pl.col("demand_r1000_shares")
    ).with_columns(demand_usd=pl.col("demand_shares") * pl.col("price"))
    frame = frame.join(
        adv.select("security_id", "adv_shares"), on="security_id", how="left"
    ).with_columns(
        days_of_volume=pl.when(pl.col("adv_shares") > 0).then(
            pl.col("demand_shares").abs() / pl.col("adv_shares")
        )
    )
    return frame.select(PREVIEW_COLUMNS).sort(
        "days_of_volume", "security_id", descending=[True, False], nulls_last=True
    )


def preview_totals(preview: pl.DataFrame, *, top: int = 20) -> dict[str, object]:
    """Totals of a preview: counts, one-way turnover, money to trade, by sector.

    One-way turnover of the Russell 2000 is ``sum(max(w_after - w_before, 0))``
    (what a replicating fund buys, as a share of its assets; it equals what it
    sells). Money to trade is ``sum(|demand_usd|) / 2`` per side: ``buy_usd`` and
    ``sell_usd`` are given separately. ``at_risk`` lists the ``top`` changes with
    the most days of volume.
    """
    delta = pl.col("weight_after") - pl.col("weight_before")
    turnover = float(preview.select(delta.clip(lower_bound=0).sum()).item() or 0.0)
    buy = float(preview.filter(pl.col("demand_usd") > 0)["demand_usd"].sum())
    sell = float(-preview.filter(pl.col("demand_usd") < 0)["demand_usd"].sum())
    counts = {
        kind: int(preview.filter(pl.col("change") == kind).height)
        for kind in CHANGE_KINDS
    }
    by_sector = (
        preview.group_by(pl.col("sector").fill_null("unknown"))
        .agg(
            buy_usd=pl.col("demand_usd").clip(lower_bound=0).sum(),
            sell_usd=(-pl.col("demand_usd")).clip(lower_bound=0).sum(),
            weight_before=pl.col("weight_before").sum(),
            weight_after=pl.col("weight_after").sum(),
            changes=(pl.col("change") != "stay").sum(),
        )
        .sort("sector")
    )
    at_risk = (
        preview.filter(pl.col("change") != "stay")
        .filter(pl.col("days_of_volume").is_not_null())
        .sort("days_of_volume", descending=True)
        .head(top)
        .select(
            "security_id",
            "name",
            "change",
            "demand_usd",
            "adv_shares",
            "days_of_volume",
        )
    )
    dov = preview.filter(pl.col("change") != "stay")["days_of_volume"].drop_nulls()
    return {
        "counts": counts,
        "one_way_turnover": turnover,
        "buy_usd": buy,
        "sell_usd": sell,
        "money_to_trade_usd": buy + sell,
        "median_days_of_volume_changes": float(dov.median()) if dov.len() else None,  # type: ignore[arg-type]
        "by_sector": by_sector.to_dicts(),
        "at_risk": at_risk.to_dicts(),
    }
