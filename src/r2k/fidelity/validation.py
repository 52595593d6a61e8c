"""Validation of a reconstitution against the real Russell 2000.

The real Russell 2000 after a reconstitution is read from the IWM membership
history: the equity tickers of the latest snapshot taken no later than 30 calendar
days after the effective date whose as-of session (the last session that had closed
when the snapshot was taken) is *after* the effective date, i.e. a list that already
reflects the new membership. Snapshots as of the effective date itself are not used:
the fund trades into the new index at that close and a list taken then may show
either side of the trade (the 2026-06-27 snapshot shows the old list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from r2k.data.sources.membership import snapshot_as_of_session
from r2k.errors import MissingDataError
from r2k.tickers import resolve_ticker

SNAPSHOT_WINDOW_DAYS = 30
_EQUITY_TICKER = re.compile(r"^[A-Z]{1,5}(?:[./ ][A-Z])?$")
_NOT_EQUITY_TICKERS = frozenset({"USD", "XTSLA", "ETD_USD"})
_NOT_EQUITY_NAME = re.compile(r"CASH|EMINI|FUTURE|ESCROW|TREASURY", re.IGNORECASE)


class NoSnapshotError(MissingDataError):
    """The data holds no membership snapshot after the effective date."""


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

    def as_dict(self) -> dict[str, object]:
        """JSON-ready figures (dates as ISO strings, ratios unrounded)."""
        return {
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


def is_equity_line(ticker: str | None, name: str | None) -> bool:
    """Whether a membership-history line is an equity (not cash, futures, escrow)."""
    if ticker is None or ticker in _NOT_EQUITY_TICKERS:
        return False
    if name is not None and _NOT_EQUITY_NAME.search(name):
        return False
    return bool(_EQUITY_TICKER.match(ticker.strip().upper()))


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
) -> ReconValidation:
    """Compare predicted Russell 2000 tickers with the real ones."""
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
    )
