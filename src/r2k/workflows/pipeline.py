"""Reconstitution from a data directory: choose the inputs, build, reconstitute.

This is the glue between the real sources and the pure engine. For a rank day it
picks, point-in-time where the data allows:

* the **universe**: the market panel's rank-day cross-section when the panel covers
  the rank day; otherwise an iShares Russell 3000 (IWV) holdings file dated within
  five sessions after the rank day (the 2025 case). Holdings give float-adjusted
  quantities, so that universe ranks by float-adjusted cap (see docs/methodology.md
  for the bias) scaled to the published Russell 3000 total cap of that rank day;
* the **incumbent Russell 2000**: the latest IWM holdings file dated on or before the
  rank day; if none exists, the earliest one dated on or before the preliminary list
  (membership only: between rank day and preliminary list the index only loses
  members). Every company outside it is taken as a Russell 1000 incumbent inside
  the #1,000 band (``r1000_complement``);
* **float factors**: estimated from the incumbent IWM quantities
  (:mod:`r2k.construction.floats`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

from r2k import schemas
from r2k.construction.classify import company_key_expr, security_type_expr
from r2k.construction.floats import FloatEstimate, estimate_from_holdings
from r2k.construction.reconstitution import Reconstitution, reconstitute
from r2k.construction.universe import build_universe, company_ids
from r2k.data.sources.ishares import Holdings, read_holdings
from r2k.data.sources.levels import read_index_levels
from r2k.data.sources.panel import read_market_panel
from r2k.data.sources.sec import read_sec_tickers
from r2k.errors import MissingDataError, R2KError
from r2k.methodology.rule_sets import RuleSet, rule_set_for
from r2k.methodology.schedule import ReconSchedule, reconstitution_for_rank_day
from r2k.sessions import next_session, session_offset
from r2k.tickers import resolve_ticker

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir

log = logging.getLogger(__name__)

# Published Russell 3000 total market cap on the rank day (methodology.md §14:
# COMM2024, PR2025b). Used only to put a holdings universe on a dollar scale.
PUBLISHED_R3000_TOTAL_CAP = {2023: 44.2e12, 2024: 53.0e12, 2025: 58.4e12}
HOLDINGS_UNIVERSE_MAX_SESSIONS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconRun:
    """A reconstitution with the inputs it was built from."""

    result: Reconstitution
    schedule: ReconSchedule
    universe_source: str
    incumbent_source: str
    universe_ids: frozenset[str]  # lines of the rank-day market data (not added ones)
    inputs: dict[str, str]  # file name -> sha256
    repairs: pl.DataFrame
    notes: tuple[str, ...]


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_reconstitution(
    data: DataDir, rank_day: date, *, rules: RuleSet | None = None
) -> ReconRun:
    """Reconstitute the Russell US indexes for ``rank_day`` from ``data``."""
    schedule = reconstitution_for_rank_day(rank_day)
    rules = rules or rule_set_for(rank_day)
    notes: list[str] = []
    inputs: dict[str, Path] = {}

    incumbent_file = _incumbent_holdings(data, schedule, notes)
    inputs[incumbent_file.name] = incumbent_file
    incumbent = read_holdings(incumbent_file)

    panel_path = data.market_panel
    panel = read_market_panel(panel_path)
    sessions = panel["session"].unique()
    if rank_day in sessions:
        inputs[panel_path.name] = panel_path
        sec_path = data.sec_tickers
        inputs[sec_path.name] = sec_path
        build = build_universe(panel, rank_day, sec_tickers=read_sec_tickers(sec_path))
        universe, repairs = build.universe, build.repairs
        universe_source = f"{panel_path.name} (cross-section of {rank_day})"
        shares_then = _panel_shares(panel, incumbent.as_of)
    else:
        iwv = _holdings_universe_file(data, rank_day)
        inputs[iwv.name] = iwv
        holdings = read_holdings(iwv)
        universe = holdings_universe(holdings, rank_day)
        repairs = pl.DataFrame(schema={"security_id": pl.String, "repair": pl.String})
        universe_source = f"{iwv.name} (float-adjusted, as of {holdings.as_of})"
        notes.append(
            f"the market panel does not cover {rank_day}; the universe is the IWV "
            f"holdings of {holdings.as_of}: float-adjusted caps ranked in place of "
            "total caps, only companies already in the Russell 3000, prices of "
            f"{holdings.as_of}"
        )
        shares_then = universe.select("security_id", "shares_outstanding")
    estimate = _float_estimate(incumbent, shares_then, rules, notes)
    known = frozenset(universe["security_id"].to_list())
    market_ids = known  # "universe" of validation: lines in the rank-day market data
    if rank_day in sessions:
        extra = incumbents_outside_panel(
            incumbent,
            known,
            estimate,
            market_factor=_rut_factor(data, incumbent.as_of, rank_day),
        )
        if extra.height:
            notes.append(
                f"{extra.height} incumbent R2000 lines are not in the market "
                "panel (mostly companies domiciled abroad); they enter the universe "
                f"from {incumbent_file.name}, priced there, moved with the R2000 "
                "to the rank day, total shares = quantity / (ownership ratio x median "
                "float factor)"
            )
            repairs = pl.concat(
                [
                    repairs,
                    extra.select(
                        "security_id",
                        repair=pl.lit("added_from_holdings"),
                        detail=pl.lit(f"not in the panel; from {incumbent_file.name}"),
                    ),
                ],
                how="diagonal_relaxed",
            )
            universe = pl.concat([universe, extra]).sort("security_id")
            known = frozenset(universe["security_id"].to_list())
    incumbents = incumbents_from_holdings(incumbent, known)
    r1000 = _r1000_from_r3000_holdings(data, rank_day, incumbents, known, notes)
    if r1000 is not None:
        inputs[r1000[0].name] = r1000[0]
        incumbents = pl.concat([incumbents, r1000[1]]).sort("security_id")
    result = reconstitute(
        universe,
        incumbents,
        rules,
        rank_day=rank_day,
        effective_date=schedule.effective_date,
        float_estimate=estimate,
        r1000_complement=True,
    )
    return ReconRun(
        result=result,
        schedule=schedule,
        universe_source=universe_source,
        incumbent_source=f"{incumbent_file.name} (as of {incumbent.as_of})",
        universe_ids=market_ids,
        inputs={name: file_digest(path) for name, path in sorted(inputs.items())},
        repairs=repairs,
        notes=tuple(notes),
    )


def incumbents_from_holdings(
    holdings: Holdings, known: frozenset[str] = frozenset()
) -> pl.DataFrame:
    """Incumbent Russell 2000 lines (:data:`r2k.schemas.INCUMBENTS`) from IWM.

    Tickers are resolved against ``known`` security ids (``MOGA`` -> ``MOG.A``).
    """
    ids = (
        holdings.equities.select(
            security_id=pl.col("security_id").map_elements(
                lambda t: resolve_ticker(t, known), return_dtype=pl.String
            )
        )
        .unique()
        .sort("security_id")
    )
    frame = ids.with_columns(
        r1000=pl.lit(value=False),
        top200=pl.lit(None, dtype=pl.Boolean),
        top500=pl.lit(None, dtype=pl.Boolean),
        microcap=pl.lit(None, dtype=pl.Boolean),
    )
    return schemas.check_schema(frame, schemas.INCUMBENTS, source=str(holdings.as_of))


def _r1000_from_r3000_holdings(
    data: DataDir,
    rank_day: date,
    r2000: pl.DataFrame,
    known: frozenset[str],
    notes: list[str],
) -> tuple[Path, pl.DataFrame] | None:
    """Russell 1000 incumbents from the latest IWV file of the past 13 months.

    Lines of the iShares Russell 3000 holdings that the incumbent Russell 2000
    does not hold. Only the change report and the #1,000 band use them; a company
    that moved from the R2000 to the R1000 at the last reconstitution is in IWV
    and not in IWM, so it counts as R1000, as it should.
    """
    window = [
        (read_as_of(p), p)
        for p in data.holdings_files("IWV")
        if rank_day - timedelta(days=400) <= read_as_of(p) <= rank_day
    ]
    if not window:
        return None
    as_of, path = max(window)
    ids = {
        resolve_ticker(t, known)
        for t in read_holdings(path).equities["security_id"].to_list()
    }
    ids = (ids & known) - set(r2000["security_id"].to_list())
    frame = pl.DataFrame(
        {"security_id": sorted(ids)}, schema={"security_id": pl.String}
    )
    frame = frame.with_columns(
        r1000=pl.lit(value=True),
        top200=pl.lit(None, dtype=pl.Boolean),
        top500=pl.lit(None, dtype=pl.Boolean),
        microcap=pl.lit(None, dtype=pl.Boolean),
    )
    notes.append(
        f"Russell 1000 incumbents: {frame.height} lines of {path.name} (as of {as_of}) "
        "that the incumbent Russell 2000 does not hold"
    )
    return path, schemas.check_schema(frame, schemas.INCUMBENTS, source=path.name)


def incumbents_outside_panel(
    holdings: Holdings,
    known: frozenset[str],
    estimate: FloatEstimate | None,
    *,
    market_factor: float,
) -> pl.DataFrame:
    """Universe lines for incumbent holdings that the market panel lacks.

    The panel leaves out US-listed companies domiciled abroad, which Russell may
    still assign to the US (Fabrinet, Transocean ...). Without them every rank
    below them would be too high and the #3,000 cut too low. Each such holding
    enters with its holdings price times ``market_factor`` (the Russell 2000's
    move from the holdings date to the rank day) and total shares estimated as
    ``quantity / (ownership ratio x median float factor)``.
    """
    if estimate is None:
        return pl.DataFrame(schema=schemas.UNIVERSE)
    eq = holdings.equities.filter(pl.col("price") > 0).with_columns(
        security_id=pl.col("security_id").map_elements(
            lambda t: resolve_ticker(t, known), return_dtype=pl.String
        )
    )
    missing = eq.filter(~pl.col("security_id").is_in(list(known))).unique(
        "security_id", keep="first"
    )
    denominator = estimate.ownership_ratio * estimate.median_factor
    return _holdings_lines(
        missing,
        close=pl.col("price") * market_factor,
        avg_close_30d=pl.col("price") * market_factor,
        shares=pl.col("quantity") / denominator,
        source=f"{holdings.fund} extra",
    )


def _holdings_lines(
    equities: pl.DataFrame,
    *,
    close: pl.Expr,
    avg_close_30d: pl.Expr,
    shares: pl.Expr,
    source: str,
) -> pl.DataFrame:
    """Universe lines (:data:`r2k.schemas.UNIVERSE`) from holdings equity lines."""
    frame = equities.select(
        "security_id",
        company_key=company_key_expr("name"),
        name="name",
        sector="sector",
        security_type=security_type_expr("name", exchange_col="exchange"),
        exchange=_venue(pl.col("exchange")),
        country=pl.lit(None, dtype=pl.String),
        close=close,
        avg_close_30d=avg_close_30d,
        avg_volume=pl.lit(None, dtype=pl.Float64),
        addtv=pl.lit(None, dtype=pl.Float64),
        shares_outstanding=shares,
        float_factor=pl.lit(None, dtype=pl.Float64),
        voting_rights_pct=pl.lit(None, dtype=pl.Float64),
    )
    frame = frame.with_columns(company_id=company_ids(frame))
    return schemas.check_schema(
        frame.sort("security_id"), schemas.UNIVERSE, source=source
    )


def _venue(exchange: pl.Expr) -> pl.Expr:
    """Map iShares venue names ("NASDAQ", "Nyse Mkt Llc", ...) to exchange codes."""
    upper = exchange.str.to_uppercase()
    return (
        pl.when(upper.str.contains("NASDAQ"))
        .then(pl.lit("NASDAQ"))
        .when(upper.str.contains("MKT|AMERICAN"))
        .then(pl.lit("NYSE AMERICAN"))
        .when(upper.str.contains("ARCA"))
        .then(pl.lit("NYSE ARCA"))
        .when(upper.str.contains("NYSE|NEW YORK"))
        .then(pl.lit("NYSE"))
        .when(upper.str.contains("CBOE|BATS"))
        .then(pl.lit("CBOE"))
        .otherwise(upper)
    )


def _rut_factor(data: DataDir, start: date, end: date) -> float:
    """Russell 2000 price change from ``start`` to ``end`` (1.0 if not covered)."""
    try:
        levels = read_index_levels(data.index_levels("RUT"), "RUT")
    except R2KError:
        return 1.0
    a = levels.filter(pl.col("session") <= start).tail(1)
    b = levels.filter(pl.col("session") <= end).tail(1)
    if a.height == 0 or b.height == 0:
        return 1.0
    return float(b.item(0, "close")) / float(a.item(0, "close"))


def holdings_universe(holdings: Holdings, rank_day: date) -> pl.DataFrame:
    """A universe from an index fund's holdings (float-adjusted quantities).

    Quantities are scaled so that the total cap equals the published Russell 3000
    total cap of the rank day's year.
    """
    total = PUBLISHED_R3000_TOTAL_CAP.get(rank_day.year)
    if total is None:
        years = ", ".join(str(y) for y in sorted(PUBLISHED_R3000_TOTAL_CAP))
        msg = (
            f"no published Russell 3000 total cap for {rank_day.year} to scale a "
            f"holdings universe (known: {years}); use a market panel covering "
            f"{rank_day}"
        )
        raise MissingDataError(msg)
    eq = holdings.equities.filter(pl.col("price") > 0).unique(
        "security_id", keep="first"
    )
    scale = total / float(eq["market_value"].sum())
    return _holdings_lines(
        eq,
        close=pl.col("price"),
        avg_close_30d=pl.lit(None, dtype=pl.Float64),
        shares=pl.col("quantity") * scale,
        source=holdings.fund,
    )


def _incumbent_holdings(
    data: DataDir, schedule: ReconSchedule, notes: list[str]
) -> Path:
    files = [(read_as_of(p), p) for p in data.holdings_files("IWM")]
    before = [item for item in files if item[0] <= schedule.rank_day]
    if before:
        return max(before)[1]
    window = [item for item in files if item[0] <= schedule.preliminary_list]
    if window:
        as_of, path = min(window)
        notes.append(
            f"no IWM holdings on or before the rank day {schedule.rank_day}; the "
            f"incumbent Russell 2000 is taken from {path.name} (as of {as_of}, "
            "before the preliminary list): membership only"
        )
        return path
    msg = (
        f"no IWM holdings file dated on or before {schedule.preliminary_list} "
        f"(preliminary list of the {schedule.rank_day} reconstitution) in "
        f"{data.ishares_dir}: r2k needs the incumbent Russell 2000"
    )
    raise MissingDataError(msg)


def read_as_of(path: Path) -> date:
    """The date in a holdings file name ``<FUND>_<YYYY-MM-DD>.csv``."""
    return date.fromisoformat(path.stem.split("_", 1)[1])


def _holdings_universe_file(data: DataDir, rank_day: date) -> Path:
    last = session_offset(
        next_session(rank_day, inclusive=True), HOLDINGS_UNIVERSE_MAX_SESSIONS
    )
    for path in data.holdings_files("IWV"):
        if rank_day <= read_as_of(path) <= last:
            return path
    msg = (
        f"no universe for rank day {rank_day}: the market panel does not cover it and "
        f"no IWV holdings file is dated {rank_day} to {last}"
    )
    raise MissingDataError(msg)


def _panel_shares(panel: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Latest known shares of each security on or before ``as_of``."""
    return (
        panel.filter(
            (pl.col("session") <= as_of) & pl.col("shares_outstanding").is_not_null()
        )
        .sort("session")
        .group_by("security_id")
        .agg(pl.col("shares_outstanding").last())
    )


def _float_estimate(
    holdings: Holdings, shares: pl.DataFrame, rules: RuleSet, notes: list[str]
) -> FloatEstimate | None:
    try:
        estimate = estimate_from_holdings(holdings.equities, shares, rules.float)
    except MissingDataError as exc:
        notes.append(f"float factors: {exc}; using the fallback")
        return None
    log.info(
        "float factors from %s %s: ownership ratio %.5f, median factor %.3f",
        holdings.fund,
        holdings.as_of,
        estimate.ownership_ratio,
        estimate.median_factor,
    )
    return estimate
