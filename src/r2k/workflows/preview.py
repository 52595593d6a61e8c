"""Reconstitution preview, its validation and the reconstitution effect, from data.

The data-joining part of :mod:`r2k.funds`: it runs the reconstitution
(:func:`r2k.workflows.pipeline.run_reconstitution`), reads the market panel for
prices and volumes **up to the as-of date only** and the IWM holdings for the
default passive assets and for the index shares of lines the reconstitution
drops from the universe, then calls the pure functions of :mod:`r2k.funds`.
Definitions and defaults: docs/funds.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.data.sources.ishares import read_holdings
from r2k.data.sources.levels import read_index_levels
from r2k.data.sources.panel import read_market_panel
from r2k.errors import MethodologyError, MissingDataError
from r2k.funds.demand import (
    ADV_WINDOW,
    PassiveAum,
    average_daily_volume,
    preview_demand,
    preview_totals,
)
from r2k.funds.event import POST_SESSIONS, car_paths, event_study
from r2k.funds.scoring import BASELINE_WINDOW, THRESHOLD, score_preview, volume_ratios
from r2k.methodology.schedule import reconstitution_for_rank_day
from r2k.workflows.pipeline import listing_float, run_reconstitution

if TYPE_CHECKING:
    from r2k.construction.floats import ListingFloat
    from r2k.construction.reconstitution import Reconstitution
    from r2k.data.datadir import DataDir
    from r2k.workflows.pipeline import ReconRun

__all__ = [
    "PASSIVE_MULTIPLE_R2000",
    "PASSIVE_R1000_DEFAULT",
    "SYNTHETIC_COMPANIES",
    "SYNTHETIC_R2000_AUM",
    "Preview",
    "build_preview",
    "default_aum",
    "recon_effect",
    "run_preview",
    "synthetic_preview",
    "validate_preview",
]

log = logging.getLogger(__name__)

PASSIVE_MULTIPLE_R2000: Final = 4.0
"""Passive Russell 2000 assets per dollar of IWM (an assumption, docs/funds.md):
IWM is the largest fund tracking the index; Vanguard's VTWO, index mutual funds
and institutional index mandates hold the rest of the passive book."""

PASSIVE_R1000_DEFAULT: Final = 700e9
"""Passive assets tracking the Russell 1000 and its style indexes (IWB, IWF, IWD,
VONE, VONG, VONV, index mandates): an assumption, no file of the data holds it."""

SYNTHETIC_R2000_AUM: Final = 300e9
"""Passive Russell 2000 assets on the synthetic market: the default the real data
give without an IWM file (IWM's $79bn of 2026-05-05 x 4 is $317bn, rounded)."""

SYNTHETIC_COMPANIES: Final = 3600
"""Companies of the synthetic market a preview runs on by default (enough for a
Russell 3000 and a Microcap below it)."""


@dataclass(frozen=True, slots=True)
class Preview:
    """A reconstitution preview: one row per Russell 2000 line, and its totals."""

    rank_day: date
    effective_date: date
    as_of: date
    aum: PassiveAum
    adv_window: int
    frame: pl.DataFrame
    totals: dict[str, object]
    notes: tuple[str, ...] = field(default=())

    def to_json(self, *, top: int | None = None) -> dict[str, object]:
        """A JSON-ready summary (``top`` rows of the frame, all if None)."""
        rows = self.frame if top is None else self.frame.head(top)
        return {
            "rank_day": str(self.rank_day),
            "effective_date": str(self.effective_date),
            "as_of": str(self.as_of),
            "passive_aum": {
                "r2000": self.aum.r2000,
                "r1000": self.aum.r1000,
                "source": self.aum.source,
            },
            "adv": f"median daily volume of the {self.adv_window} sessions "
            f"ending {self.as_of}",
            "totals": self.totals,
            "notes": list(self.notes),
            "rows": rows.to_dicts(),
        }


def _latest_iwm(data: DataDir, as_of: date) -> pl.DataFrame | None:
    files = [p for day, p in data.dated_holdings("IWM") if day <= as_of]
    if not files:
        return None
    return read_holdings(files[-1]).frame


def default_aum(data: DataDir, as_of: date) -> PassiveAum:
    """IWM's net assets (latest holdings file on or before ``as_of``) x the multiple."""
    files = [p for day, p in data.dated_holdings("IWM") if day <= as_of]
    if not files:
        return PassiveAum(
            300e9,
            PASSIVE_R1000_DEFAULT,
            "no IWM holdings file on or before the as-of date: R2000 300e9 assumed",
        )
    holdings = read_holdings(files[-1])
    net = float(holdings.frame["market_value"].sum())
    return PassiveAum(
        net * PASSIVE_MULTIPLE_R2000,
        PASSIVE_R1000_DEFAULT,
        f"R2000: IWM net assets ${net / 1e9:,.1f}bn (sum of market values in "
        f"{files[-1].name}) x {PASSIVE_MULTIPLE_R2000:g}; R1000: "
        f"${PASSIVE_R1000_DEFAULT / 1e9:,.0f}bn assumed",
    )


def _index_shares(listing: ListingFloat | None) -> pl.Expr:
    """Float-adjusted shares of a membership line.

    Recent listings whose float the reconstitution could only guess
    (``fallback``) take ``listing.factor`` of their total shares.
    """
    shares = pl.col("float_market_cap") / pl.col("close")
    if listing is None:
        return shares
    locked = pl.col("security_id").is_in(list(listing.listings)) & (
        pl.col("float_source") == "fallback"
    )
    return (
        pl.when(locked)
        .then(pl.col("shares_outstanding") * listing.factor)
        .otherwise(shares)
    )


def _lines(
    result: Reconstitution,
    adv: pl.DataFrame,
    holdings: pl.DataFrame | None,
    listing: ListingFloat | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    notes: list[str] = []
    if listing is not None:
        count = result.membership.filter(
            pl.col("security_id").is_in(list(listing.listings))
            & (pl.col("float_source") == "fallback")
        ).height
        notes.append(
            f"{count} lines first quoted after the market data start (recent "
            f"listings, shares under lock-up) take the float factor "
            f"{listing.factor:.3f}: {listing.source}"
        )
    member = result.membership.select(
        "security_id",
        "name",
        "sector",
        index_shares=_index_shares(listing),
        rank_close=pl.col("close"),
        index_after=pl.when(pl.col("r2000"))
        .then(pl.lit("R2000"))
        .when(pl.col("r1000"))
        .then(pl.lit("R1000")),
    )
    changes = result.changes.select(
        "security_id",
        ch_name="name",
        kind="change",
        from_index="from_index",
        to_index="to_index",
    )
    ceased = result.exclusions.filter(
        pl.col("exclusion_reason") == "stopped_trading"
    ).get_column("security_id")
    frame = member.join(changes, on="security_id", how="full", coalesce=True)
    frame = frame.with_columns(
        name=pl.coalesce("name", "ch_name"),
        index_after=pl.when(pl.col("kind").is_not_null())
        .then(pl.col("to_index"))
        .otherwise(pl.col("index_after")),
        index_before=pl.when(pl.col("kind").is_not_null())
        .then(pl.col("from_index"))
        .otherwise(pl.col("index_after")),
    )
    frame = frame.with_columns(
        change=pl.when(pl.col("kind").is_null())
        .then(pl.when(pl.col("index_after") == "R2000").then(pl.lit("stay")))
        .otherwise(pl.col("kind"))
    )
    dropped = frame.filter(
        pl.col("security_id").is_in(ceased.implode())
        & (pl.col("index_before") == "R2000")
    )
    if dropped.height:
        notes.append(
            f"{dropped.height} Russell 2000 lines stopped trading before the as-of "
            "date (mergers, delistings): they leave through the corporate action, "
            "not at the reconstitution, and are left out of the preview"
        )
    frame = frame.filter(~pl.col("security_id").is_in(ceased.implode()))
    if holdings is not None and result.float_ownership_ratio:
        held = (
            holdings.filter(pl.col("asset_class") == "Equity")
            .group_by("security_id")
            .agg(
                held_shares=pl.col("quantity").sum() / result.float_ownership_ratio,
                held_price=pl.col("price").first(),
                held_sector=pl.col("sector").first(),
            )
        )
        frame = frame.join(held, on="security_id", how="left").with_columns(
            index_shares=pl.coalesce("index_shares", "held_shares"),
            sector=pl.coalesce("sector", "held_sector"),
            rank_close=pl.coalesce("rank_close", "held_price"),
        )
    frame = frame.join(
        adv.select("security_id", "last_close"), on="security_id", how="left"
    ).with_columns(price=pl.coalesce("last_close", "rank_close"))
    relevant = frame.filter(
        pl.col("index_before").is_not_null() | pl.col("index_after").is_not_null()
    )
    unknown = relevant.filter(
        ~(pl.col("index_shares").is_finite() & (pl.col("price") > 0)).fill_null(
            value=False
        )
    )
    lost = unknown.filter(
        (pl.col("index_before") == "R2000") | (pl.col("index_after") == "R2000")
    )
    if lost.height:
        notes.append(
            f"{lost.height} Russell 2000 lines have no index shares or price known "
            "by the as-of date and are left out: "
            + ", ".join(lost["security_id"].sort().head(10))
        )
    usable = (
        pl.col("index_shares").is_not_null()
        & pl.col("index_shares").is_finite()
        & (pl.col("price") > 0)
        & pl.col("price").is_finite()
    )
    lines = relevant.filter(usable.fill_null(value=False))
    return lines, notes


def build_preview(
    result: Reconstitution,
    market: pl.DataFrame,
    *,
    as_of: date,
    aum: PassiveAum,
    holdings: pl.DataFrame | None = None,
    adv_window: int = ADV_WINDOW,
    listing: ListingFloat | None = None,
) -> Preview:
    """The preview of the reconstitution ``result`` with ``market`` up to ``as_of``.

    ``market`` needs ``session, security_id, close, volume``; its rows after
    ``as_of`` are dropped before anything is computed. ``holdings`` (IWM's, real
    data only) give index shares to lines the reconstitution dropped;
    ``listing`` (real data only, :func:`r2k.workflows.pipeline.listing_float`)
    the float of recent listings.
    """
    known = market.filter(pl.col("session") <= as_of)
    adv = average_daily_volume(known, as_of, window=adv_window)
    lines, notes = _lines(result, adv, holdings, listing)
    frame = preview_demand(lines, adv, aum)
    return Preview(
        rank_day=result.rank_day,
        effective_date=result.effective_date,
        as_of=as_of,
        aum=aum,
        adv_window=adv_window,
        frame=frame,
        totals=preview_totals(frame),
        notes=(*notes, f"passive AUM: {aum.source}"),
    )


def run_preview(
    data: DataDir,
    rank_day: date,
    *,
    as_of: date | None = None,
    r2000_aum: float | None = None,
    r1000_aum: float | None = None,
    adv_window: int = ADV_WINDOW,
    run: ReconRun | None = None,
) -> Preview:
    """Reconstitute for ``rank_day`` and preview the funds' trade as of ``as_of``.

    ``as_of`` defaults to the rank day; it must come before the effective date.
    """
    schedule = reconstitution_for_rank_day(rank_day)
    as_of = rank_day if as_of is None else as_of
    if as_of >= schedule.effective_date:
        msg = (
            f"--as-of {as_of} is not before the effective date "
            f"{schedule.effective_date}: a preview is made before the trade"
        )
        raise MissingDataError(msg)
    run = run or run_reconstitution(data, rank_day, as_of=as_of)
    market = read_market_panel(data.market_panel)
    aum = default_aum(data, as_of)
    source = aum.source
    if r2000_aum is not None or r1000_aum is not None:
        source = "set by the user" + (
            ""
            if r2000_aum is not None and r1000_aum is not None
            else f" (rest: {source})"
        )
    aum = PassiveAum(
        aum.r2000 if r2000_aum is None else r2000_aum,
        aum.r1000 if r1000_aum is None else r1000_aum,
        source,
    )
    return build_preview(
        run.result,
        market,
        as_of=as_of,
        aum=aum,
        holdings=_latest_iwm(data, as_of),
        adv_window=adv_window,
        listing=listing_float(data, run.result, market),
    )


def synthetic_preview(
    rank_day: date,
    *,
    n_companies: int = SYNTHETIC_COMPANIES,
    seed: int = 0,
    as_of: date | None = None,
    r2000_aum: float | None = None,
    r1000_aum: float | None = None,
    adv_window: int = ADV_WINDOW,
) -> Preview:
    """Preview a reconstitution of the seeded synthetic market (June or December).

    The market runs from 2 January of the year before ``rank_day`` to ``as_of``
    (default: the rank day), and r2k's Russell 2000 is calculated on it, so the
    reconstitution of ``rank_day`` has the index's own incumbents. Passive AUM:
    :data:`SYNTHETIC_R2000_AUM` and :data:`r2k.funds.demand.PASSIVE_R1000_DEFAULT`
    unless set (the synthetic caps follow the 2026 rank curve, so real-sized
    assets give real-sized demand).

    Raises
    ------
    MissingDataError
        If ``rank_day`` is not a rank day of the reconstitution calendar, or
        ``as_of`` is not between it and the effective date.
    """
    from r2k.workflows.synthetic_run import run_synthetic

    schedule = reconstitution_for_rank_day(rank_day)
    as_of = rank_day if as_of is None else as_of
    if not rank_day <= as_of < schedule.effective_date:
        msg = (
            f"--as-of {as_of} must be from the rank day {rank_day} to the session "
            f"before the effective date {schedule.effective_date}"
        )
        raise MissingDataError(msg)
    run = run_synthetic(
        n_companies, start=date(rank_day.year - 1, 1, 2), end=as_of, seed=seed
    )
    result = next((r for r in run.reconstitutions if r.rank_day == rank_day), None)
    if result is None:  # pragma: no cover - the calculation reconstitutes on it
        msg = f"the synthetic calculation did not reconstitute on {rank_day}"
        raise MissingDataError(msg)
    r2000 = SYNTHETIC_R2000_AUM if r2000_aum is None else r2000_aum
    aum = PassiveAum(
        r2000,
        PASSIVE_R1000_DEFAULT if r1000_aum is None else r1000_aum,
        f"synthetic market ({n_companies:,} companies, seed {seed}): R2000 "
        f"${r2000 / 1e9:,.0f}bn"
        f"{' assumed' if r2000_aum is None else ' (set by the user)'}",
    )
    return build_preview(
        result, run.market.market, as_of=as_of, aum=aum, adv_window=adv_window
    )


def validate_preview(
    data: DataDir,
    effective: date,
    *,
    as_of: date | None = None,
    preview: Preview | None = None,
    threshold: float = THRESHOLD,
) -> dict[str, object]:
    """Score the preview of the reconstitution effective on ``effective``."""
    rank_day = _rank_day_for(effective)
    if preview is None:
        from r2k.sessions import previous_session

        preview = run_preview(
            data, rank_day, as_of=as_of or previous_session(effective)
        )
    market = read_market_panel(data.market_panel)
    if effective not in set(market["session"].to_list()):
        msg = f"the market panel has no volume for the effective date {effective}"
        raise MissingDataError(msg)
    ratios = volume_ratios(market, rank_day, effective, window=BASELINE_WINDOW)
    scores = score_preview(preview.frame, ratios, threshold=threshold)
    return {
        "rank_day": str(rank_day),
        "effective_date": str(effective),
        "as_of": str(preview.as_of),
        "threshold": threshold,
        "baseline": f"median volume of the {BASELINE_WINDOW} sessions ending "
        f"{rank_day}",
        "scores": scores,
    }


def _rank_day_for(effective: date) -> date:
    for year in (effective.year - 1, effective.year):
        for month in (4, 10, 11):
            from calendar import monthrange

            candidate = date(year, month, monthrange(year, month)[1])
            try:
                schedule = reconstitution_for_rank_day(candidate)
            except MethodologyError:  # not a rank day of any rule set
                continue
            if schedule.effective_date == effective:
                return candidate
    msg = f"{effective} is the effective date of no reconstitution r2k knows"
    raise MissingDataError(msg)


def recon_effect(
    data: DataDir,
    rank_day: date,
    *,
    preview: Preview | None = None,
    post_sessions: int = POST_SESSIONS,
) -> dict[str, object]:
    """Event study of the predicted changes against the Russell 2000 (RUT).

    The changes are those the preview predicts as of the rank day (no later
    data chooses the lines). The benchmark is the published RUT price index;
    where the panel runs past RUT, an equal-weight mean of the panel's
    predicted-R2000 lines stands in (stated in the output).
    """
    market = read_market_panel(data.market_panel)
    first, last = market.select(
        pl.col("session").min().alias("first"), pl.col("session").max().alias("last")
    ).row(0)
    schedule = reconstitution_for_rank_day(rank_day)
    if not (
        isinstance(first, date)
        and isinstance(last, date)
        and first <= rank_day
        and last > schedule.effective_date
    ):
        msg = (
            f"the market panel covers {first} .. {last}: the event study of the "
            f"reconstitution ranked on {rank_day} needs prices from the rank day "
            f"to a session after the effective date {schedule.effective_date}"
        )
        raise MissingDataError(msg)
    preview = preview or run_preview(data, rank_day)
    effective = preview.effective_date
    events = preview.frame.filter(pl.col("change") != "stay").select(
        "security_id", "change"
    )
    rut = read_index_levels(data.index_levels("RUT"), "RUT")
    bench = (
        rut.sort("session")
        .with_columns(benchmark_return=pl.col("close") / pl.col("close").shift(1) - 1)
        .select("session", "benchmark_return")
    )
    members = preview.frame.filter(pl.col("index_after") == "R2000")["security_id"]
    ew = (
        market.filter(pl.col("security_id").is_in(members.implode()))
        .sort("security_id", "session")
        .with_columns(
            r=pl.col("close") / pl.col("close").shift(1).over("security_id") - 1
        )
        .group_by("session")
        .agg(ew_return=pl.col("r").clip(-0.9, 2.0).mean())
    )
    bench = ew.join(bench, on="session", how="left").select(
        "session",
        benchmark_return=pl.coalesce("benchmark_return", "ew_return"),
        source=pl.when(pl.col("benchmark_return").is_null())
        .then(pl.lit("equal-weight"))
        .otherwise(pl.lit("RUT")),
    )
    proxy_days = int((bench["source"] == "equal-weight").sum())
    inputs = (
        market.select("session", "security_id", "close"),
        events,
        bench.select("session", "benchmark_return"),
    )
    lines, summary = event_study(
        *inputs, rank_day=rank_day, effective=effective, post_sessions=post_sessions
    )
    paths = car_paths(
        *inputs, rank_day=rank_day, effective=effective, post_sessions=post_sessions
    )
    return {
        "rank_day": str(rank_day),
        "preliminary_list": str(reconstitution_for_rank_day(rank_day).preliminary_list),
        "effective_date": str(effective),
        "benchmark": "RUT price index (published), daily close-to-close"
        + (
            f"; {proxy_days} sessions without RUT use the equal-weight mean of "
            "the predicted Russell 2000"
            if proxy_days
            else ""
        ),
        "post_sessions": post_sessions,
        "post_sessions_used": int(
            lines.select(pl.col("post_sessions_used").max()).item() or 0
        ),
        "summary": summary.to_dicts(),
        "lines": lines,
        "paths": paths,
    }
