"""Validation of a reconstitution against the real Russell 2000.

The real Russell 2000 after a reconstitution is read from the IWM membership
history: the equity tickers of the latest snapshot taken no later than 30 calendar
days after the effective date whose as-of session (the last session that had closed
when the snapshot was taken) is *after* the effective date, i.e. a list that already
reflects the new membership. Snapshots as of the effective date itself are not used:
the fund trades into the new index at that close and a list taken then may show
either side of the trade (the 2026-06-27 snapshot shows the old list).

Two figures are reported. The **naive** check (the original keys ``overlap``,
``precision``, ``recall`` ...) compares tickers as they are. The **corrected**
check (keys ``corrected_*``) fixes what the naive one miscounts:

* **renames**: a line that ends under one symbol and starts under another between
  the rank day and the snapshot (:func:`r2k.construction.listings.successions`
  over the rank-day universe, the fund's holdings files and its snapshots; SEC
  CIKs where both symbols are in the SEC map) is one company, counted under its
  final symbol;
* **non-index lines**: lines the fund holds that are not index members -- cash,
  money-market, collateral and futures lines, contingent value rights, escrow and
  stub lines, warrants and rights, private (``Prvt``) vesting lines -- recognised
  from their names (word patterns that leave FirstCash, Faraday Future and
  FutureFuel alone), and from the fund's holdings files: asset class other than
  equity, an unlisted or OTC venue (``NO MARKET``, ``Non-Nms Quotation
  Service``), a zero price or market value;
* **members that stopped trading after the effective date**: a line of the first
  list after the effective date that is gone from the snapshot without a
  successor, that no later listing (the SEC ticker map, the market panel) knows,
  and that the fund still held at a measurable weight (> 0) when it left, was a
  member on the effective date deleted by an acquisition or delisting; it counts
  as actual. (A line the fund had already sold down to 0.00% is a reconstitution
  deletion being wound down, not a member.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl

from r2k.construction.listings import follow, is_index_line, successions
from r2k.data.sources.membership import snapshot_as_of_session
from r2k.errors import NoSnapshotError
from r2k.tickers import resolve_ticker

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SNAPSHOT_WINDOW_DAYS = 30
_EQUITY_TICKER = re.compile(r"^[A-Z]{1,5}(?:[./ ][A-Z])?$")
_NOT_EQUITY_TICKERS = frozenset({"USD", "XTSLA", "ETD_USD"})
_NOT_EQUITY_NAME = re.compile(r"CASH|EMINI|FUTURE|ESCROW|TREASURY", re.IGNORECASE)

_UNLISTED_VENUE = re.compile(r"NO MARKET|NON-NMS|\bOTC\b|UNLISTED", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrectedCheck:
    """The corrected counts (see the module docstring)."""

    predicted: int
    actual: int
    overlap: int
    precision: float
    recall: float
    actual_in_universe: int
    recall_in_universe: float
    renamed: dict[str, str]  # predicted or universe symbol -> snapshot symbol
    non_index: tuple[str, ...]  # snapshot lines that are not index members
    left_after_effective: tuple[str, ...]  # members that stopped trading after D
    false_positives: tuple[str, ...]
    false_negatives_in_universe: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready figures, keys prefixed ``corrected_``."""
        return {
            "corrected_predicted": self.predicted,
            "corrected_actual": self.actual,
            "corrected_overlap": self.overlap,
            "corrected_precision": self.precision,
            "corrected_recall": self.recall,
            "corrected_actual_in_universe": self.actual_in_universe,
            "corrected_recall_in_universe": self.recall_in_universe,
            "renamed": dict(sorted(self.renamed.items())),
            "non_index_lines": list(self.non_index),
            "left_after_effective": list(self.left_after_effective),
            "false_positives": list(self.false_positives),
            "false_negatives_in_universe": list(self.false_negatives_in_universe),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconValidation:
    """Predicted against actual Russell 2000 membership (ticker level)."""

    rank_day: date
    effective_date: date
    snapshot_taken_at: datetime
    snapshot_as_of: date
    predicted: int
    actual: int
    overlap: int
    precision: float
    recall: float
    actual_in_universe: int
    recall_in_universe: float
    corrected: CorrectedCheck | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready figures (dates as ISO strings, ratios unrounded)."""
        out: dict[str, object] = {
            "rank_day": self.rank_day.isoformat(),
            "effective_date": self.effective_date.isoformat(),
            "predicted": self.predicted,
            "actual": self.actual,
            "overlap": self.overlap,
            "precision": self.precision,
            "recall": self.recall,
            "actual_in_universe": self.actual_in_universe,
            "recall_in_universe": self.recall_in_universe,
            "snapshot_taken_at": self.snapshot_taken_at.isoformat(),
            "snapshot_as_of": self.snapshot_as_of.isoformat(),
        }
        if self.corrected is not None:
            out |= self.corrected.as_dict()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckInputs:
    """What the corrected check reads besides the membership history.

    ``universe_lines``: ``security_id`` and ``name`` of the rank-day universe;
    ``holdings``: holdings frames (:data:`r2k.schemas.HOLDINGS`) of the fund and of
    the universe's fund; ``ciks``: SEC ticker -> CIK; ``later_listed``: symbols
    that a listing dated after the snapshot still carries (SEC map, market panel).
    """

    universe_lines: pl.DataFrame
    holdings: tuple[pl.DataFrame, ...] = ()
    ciks: Mapping[str, str] = field(default_factory=dict)
    later_listed: frozenset[str] = frozenset()


def is_equity_line(ticker: str | None, name: str | None) -> bool:
    """Whether a membership-history line is an equity (the naive check's rule)."""
    if ticker is None or ticker in _NOT_EQUITY_TICKERS:
        return False
    if name is not None and _NOT_EQUITY_NAME.search(name):
        return False
    return bool(_EQUITY_TICKER.match(ticker.strip().upper()))


def non_index_holdings(
    holdings: Iterable[pl.DataFrame], near: date | None = None
) -> set[str]:
    """Symbols whose every line in the holdings file nearest ``near`` is no member.

    For each symbol the file holding it dated nearest to ``near`` (the latest file
    when ``near`` is None) decides: a line can be a stale or zero-priced line in a
    file a year later (``THRD`` in 2026) and a live member before.

    A holdings line is no member when its asset class is not ``Equity``, its venue
    is unlisted or OTC, its price or market value is zero or missing, or its name
    says so (:func:`is_index_line`).
    """
    frames = [h for h in holdings if h.height]
    if not frames:
        return set()
    lines = pl.concat(
        [
            f.select(
                "as_of",
                "security_id",
                "name",
                "asset_class",
                "exchange",
                "price",
                "market_value",
            )
            for f in frames
        ]
    ).filter(pl.col("security_id").is_not_null())
    if near is None:
        distance = -pl.col("as_of").cast(pl.Int64)
    else:
        distance = (pl.col("as_of") - pl.lit(near)).dt.total_days().abs()
    lines = lines.with_columns(_d=distance)
    latest = lines.filter(pl.col("_d") == pl.col("_d").min().over("security_id"))
    flagged = latest.with_columns(
        no_member=(pl.col("asset_class").fill_null("") != "Equity")
        | pl.col("exchange").fill_null("").str.contains(_UNLISTED_VENUE.pattern)
        | (pl.col("price").fill_null(0.0) <= 0)
        | (pl.col("market_value").fill_null(0.0) <= 0)
        | pl.struct("security_id", "name").map_elements(
            lambda r: not is_index_line(r["security_id"], r["name"]),
            return_dtype=pl.Boolean,
        )
    )
    per_symbol = flagged.group_by("security_id").agg(pl.col("no_member").all())
    return set(per_symbol.filter(pl.col("no_member"))["security_id"].to_list())


def actual_snapshot(
    history: pl.DataFrame, effective_date: date
) -> tuple[datetime, date]:
    """The snapshot that shows the real membership after ``effective_date``.

    Raises
    ------
    NoSnapshotError
        If no snapshot taken within 30 days after the effective date reflects a
        session after it.
    """
    limit = datetime.combine(
        effective_date + timedelta(days=SNAPSHOT_WINDOW_DAYS + 1), datetime.min.time()
    )
    best: tuple[datetime, date] | None = None
    for taken_at in history["taken_at"].unique().sort().to_list():
        if taken_at.replace(tzinfo=None) >= limit:
            break
        as_of = snapshot_as_of_session(taken_at)
        if as_of > effective_date:
            best = (taken_at, as_of)
    if best is None:
        last = history["taken_at"].max()
        msg = (
            f"the membership history holds no snapshot after the effective date "
            f"{effective_date} (within {SNAPSHOT_WINDOW_DAYS} days; latest snapshot "
            f"taken {last!s}); the real membership of this reconstitution is not in "
            "the data"
        )
        raise NoSnapshotError(msg)
    return best


def compare(
    predicted_ids: set[str],
    history: pl.DataFrame,
    *,
    rank_day: date,
    effective_date: date,
    universe_ids: set[str],
    check: CheckInputs | None = None,
) -> ReconValidation:
    """Compare predicted Russell 2000 tickers with the real ones.

    With ``check`` the corrected figures are computed too (:class:`CorrectedCheck`).
    """
    taken_at, as_of = actual_snapshot(history, effective_date)
    snapshot = history.filter(pl.col("taken_at") == taken_at)
    known = frozenset(universe_ids | predicted_ids)
    actual = {
        resolve_ticker(t, known)
        for t, n in snapshot.select("ticker", "name").iter_rows()
        if is_equity_line(t, n)
    }
    overlap = len(predicted_ids & actual)
    actual_in_universe = len(actual & universe_ids)
    overlap_in_universe = len(predicted_ids & actual & universe_ids)
    corrected = (
        None
        if check is None
        else corrected_check(
            predicted_ids,
            history,
            check,
            rank_day=rank_day,
            effective_date=effective_date,
            snapshot_taken_at=taken_at,
            universe_ids=universe_ids,
        )
    )
    return ReconValidation(
        rank_day=rank_day,
        effective_date=effective_date,
        snapshot_taken_at=taken_at,
        snapshot_as_of=as_of,
        predicted=len(predicted_ids),
        actual=len(actual),
        overlap=overlap,
        precision=overlap / len(predicted_ids) if predicted_ids else 0.0,
        recall=overlap / len(actual) if actual else 0.0,
        actual_in_universe=actual_in_universe,
        recall_in_universe=(
            overlap_in_universe / actual_in_universe if actual_in_universe else 0.0
        ),
        corrected=corrected,
    )


def _history_lists(
    history: pl.DataFrame, known: frozenset[str], start: int
) -> list[pl.DataFrame]:
    """One LISTINGS block per snapshot, positions from ``start``."""
    out = []
    for i, taken in enumerate(history["taken_at"].unique().sort().to_list()):
        snap = history.filter(pl.col("taken_at") == taken)
        out.append(
            pl.DataFrame(
                {
                    "position": [start + i] * snap.height,
                    "security_id": [
                        resolve_ticker(t, known) for t in snap["ticker"].to_list()
                    ],
                    "name": snap["name"].to_list(),
                    "size": snap["weight_pct"].to_list(),
                },
                schema={
                    "position": pl.Int64,
                    "security_id": pl.String,
                    "name": pl.String,
                    "size": pl.Float64,
                },
            )
        )
    return out


def corrected_check(
    predicted_ids: set[str],
    history: pl.DataFrame,
    check: CheckInputs,
    *,
    rank_day: date,
    effective_date: date,
    snapshot_taken_at: datetime,
    universe_ids: set[str],
) -> CorrectedCheck:
    """The corrected comparison (module docstring)."""
    known = frozenset(universe_ids | predicted_ids)
    window = history.filter(pl.col("taken_at") <= snapshot_taken_at)
    rank_stamp = datetime.combine(rank_day, datetime.min.time())
    window = window.filter(pl.col("taken_at").dt.replace_time_zone(None) > rank_stamp)
    fund_files = sorted(
        (
            h
            for h in check.holdings
            if h.height
            and h["fund"][0] == "IWM"
            and rank_day < h["as_of"][0] <= snapshot_taken_at.date()
        ),
        key=lambda h: h["as_of"][0],
    )
    universe_block = check.universe_lines.select(
        position=pl.lit(0, dtype=pl.Int64),
        security_id=pl.col("security_id"),
        name=pl.col("name").cast(pl.String),
        size=pl.lit(None, dtype=pl.Float64),
    )
    blocks = [universe_block]
    for i, h in enumerate(fund_files, start=1):
        blocks.append(
            h.filter(pl.col("security_id").is_not_null()).select(
                position=pl.lit(i, dtype=pl.Int64),
                security_id=pl.col("security_id").map_elements(
                    lambda t: resolve_ticker(t, known), return_dtype=pl.String
                ),
                name=pl.col("name"),
                size=pl.col("weight_pct"),
            )
        )
    blocks += _history_lists(window, known, len(blocks))
    listings = pl.concat(blocks).unique(["position", "security_id"], keep="first")
    successors = successions(
        listings, ciks=check.ciks, max_gap=1, size_rtol=0.08, min_size=0.05
    )

    non_index = non_index_holdings(check.holdings, near=snapshot_taken_at.date())
    final = window.filter(pl.col("taken_at") == snapshot_taken_at)
    final_lines = [
        (resolve_ticker(t, known), n) for t, n in final.select("ticker", "name").rows()
    ]
    dropped = sorted(
        {s for s, n in final_lines if not is_index_line(s, n) or s in non_index}
    )
    actual = {s for s, _ in final_lines} - set(dropped)

    # Members that stopped trading after the effective date: from the first list
    # as of the effective date (it holds the new members, and the old ones still
    # being sold, which the SEC map or the panel list or the fund sold to 0.00%).
    after = window.filter(
        pl.col("taken_at").map_elements(
            lambda t: snapshot_as_of_session(t) >= effective_date,
            return_dtype=pl.Boolean,
        )
    )
    first_after = after["taken_at"].min()
    left: list[str] = []
    if first_after is not None:
        first = after.filter(pl.col("taken_at") == first_after)
        for ticker, name, weight in first.select("ticker", "name", "weight_pct").rows():
            sid = resolve_ticker(ticker, known)
            if sid in actual or follow(sid, successors) in actual:
                continue
            if not is_index_line(sid, name) or sid in non_index:
                continue
            if sid in check.later_listed:
                continue
            if weight is not None and weight <= 0:
                continue
            left.append(sid)
    actual |= set(left)

    predicted = {follow(p, successors) for p in predicted_ids}
    universe = {follow(u, successors) for u in universe_ids}
    renamed = {
        p: follow(p, successors)
        for p in (predicted_ids | universe_ids)
        if follow(p, successors) != p
    }
    overlap = predicted & actual
    in_universe = actual & universe
    return CorrectedCheck(
        predicted=len(predicted),
        actual=len(actual),
        overlap=len(overlap),
        precision=len(overlap) / len(predicted) if predicted else 0.0,
        recall=len(overlap) / len(actual) if actual else 0.0,
        actual_in_universe=len(in_universe),
        recall_in_universe=(
            len(overlap & universe) / len(in_universe) if in_universe else 0.0
        ),
        renamed=renamed,
        non_index=tuple(dropped),
        left_after_effective=tuple(sorted(left)),
        false_positives=tuple(sorted(predicted - actual)),
        false_negatives_in_universe=tuple(sorted(in_universe - predicted)),
    )
