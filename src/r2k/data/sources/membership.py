"""IWM membership history: the fund's ticker lists, one snapshot per bot run.

The file ``membership/iwm_membership_history.parquet`` collects every version of a
bot-maintained ticker list from the git history of a public repository::

    commit_time_utc  string  when the list was taken, "2025-10-04T08:06" (UTC)
    commit           string  short git commit id
    ticker           string  iShares ticker as listed
    name             string  iShares name (null before 2025-10-04)
    weight_pct       float   fund weight in percent (2 dp until 2025-10-04)
    market_value     float   always null in the real file

It is what the fund *held*, not FTSE Russell's constituent list: after a
reconstitution the list first still holds the names being sold; weekend runs
repeat the last list; futures and cash lines appear (``RTYM5``, ``ETD_USD``); a
ticker can appear twice in one snapshot (``ADRO``: a stub line and its CVR). r2k
keeps every row and reads ``commit_time_utc`` as a UTC timestamp ``taken_at``.

A snapshot reflects the last XNYS session that had closed when it was taken
(:func:`snapshot_as_of_session`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

import polars as pl

from r2k.data.sources._files import read_parquet_columns
from r2k.errors import MissingDataError, SourceFormatError
from r2k.schemas import MEMBERSHIP_HISTORY, check_schema
from r2k.sessions import previous_session
from r2k.tickers import normalize_ticker_expr

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "HISTORY_COLUMNS",
    "SESSION_CLOSE",
    "read_membership_history",
    "snapshot_as_of_session",
    "snapshot_tickers",
    "snapshots",
]

HISTORY_COLUMNS: Final[tuple[str, ...]] = (
    "commit_time_utc",
    "commit",
    "ticker",
    "name",
    "weight_pct",
    "market_value",
)
"""Columns the history file must have."""

NEW_YORK: Final = ZoneInfo("America/New_York")
SESSION_CLOSE: Final = time(16, 0)
"""Regular XNYS close, New York time (early closes at 13:00 are not modelled)."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M"


def _check_values(source: str, parsed: pl.DataFrame) -> None:
    """Future snapshots and impossible weights are errors (row is 1-based)."""
    now = datetime.now(UTC)
    future = parsed.filter(pl.col("taken_at") > now)
    if future.height:
        first = future.row(0, named=True)
        msg = (
            f"{source}, row {first['_row'] + 1}, column 'commit_time_utc': "
            f"{first['commit_time_utc']!r} is after now ({now:%Y-%m-%dT%H:%M}) "
            f"({future.height} such row(s)); a snapshot cannot be taken in the "
            "future, fix the timestamp"
        )
        raise SourceFormatError(msg)
    try:
        weight = pl.col("weight_pct").cast(pl.Float64)
        bad = parsed.filter(weight.is_not_null() & ~weight.is_finite())
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        return  # check_schema reports the type
    if bad.height:
        first = bad.row(0, named=True)
        msg = (
            f"{source}, row {first['_row'] + 1}, column 'weight_pct': "
            f"{first['weight_pct']} is not a finite number ({bad.height} such "
            "row(s)); write a weight in percent or leave it null"
        )
        raise SourceFormatError(msg)


def read_membership_history(path: Path) -> pl.DataFrame:
    """Read the IWM membership history into a MEMBERSHIP_HISTORY frame.

    Parameters
    ----------
    path
        ``membership/iwm_membership_history.parquet``.

    Returns
    -------
    pl.DataFrame
        A :data:`~r2k.schemas.MEMBERSHIP_HISTORY` frame sorted by ``taken_at``
        (then by file order within a snapshot).

    Raises
    ------
    SourceFormatError
        If the file is not Parquet or holds no rows, a ``commit_time_utc`` value
        is not a timestamp like ``"2025-10-04T08:06"`` or is after now, a
        ``ticker`` is empty or a ``weight_pct`` not finite (the message names the
        1-based row and the column).
    SchemaError
        If a column is missing or cannot be read as its canonical type.
    """
    source = str(path)
    raw = read_parquet_columns(path, HISTORY_COLUMNS)
    if raw.height == 0:
        msg = f"{source}: the history holds no rows; copy the file again"
        raise SourceFormatError(msg)
    stamp = pl.col("commit_time_utc").cast(pl.String).str.strip_chars()
    parsed = raw.with_row_index("_row").with_columns(
        taken_at=stamp.str.to_datetime(
            _TIME_FORMAT, time_unit="us", strict=False
        ).dt.replace_time_zone("UTC"),
    )
    bad = parsed.filter(pl.col("taken_at").is_null())
    if bad.height:
        first = bad.row(0, named=True)
        msg = (
            f"{source}, row {first['_row'] + 1}, column 'commit_time_utc': "
            f"{first['commit_time_utc']!r} is not a UTC timestamp like "
            f"'2025-10-04T08:06' ({bad.height} such row(s))"
        )
        raise SourceFormatError(msg)
    _check_values(source, parsed)
    ticker = pl.col("ticker").cast(pl.String).str.strip_chars()
    blank = parsed.filter(ticker.is_null() | (ticker == ""))
    if blank.height:
        msg = (
            f"{source}, row {blank.item(0, '_row') + 1}, column 'ticker': empty "
            f"({blank.height} such row(s)); every line of a snapshot needs its "
            "ticker"
        )
        raise SourceFormatError(msg)
    frame = parsed.with_columns(
        security_id=normalize_ticker_expr(pl.col("ticker").cast(pl.String))
    ).sort("taken_at", "_row")
    return check_schema(frame, MEMBERSHIP_HISTORY, source=source)


def snapshots(history: pl.DataFrame) -> pl.DataFrame:
    """One row per snapshot: ``taken_at``, ``commit``, ``count``, ``as_of_session``.

    ``count`` is the number of lines in the snapshot (all lines, including futures
    and cash lines); ``as_of_session`` is :func:`snapshot_as_of_session`.
    """
    table = (
        history.group_by("taken_at", "commit")
        .agg(count=pl.len())
        .sort("taken_at", "commit")
    )
    sessions = [snapshot_as_of_session(stamp) for stamp in table["taken_at"]]
    return table.with_columns(as_of_session=pl.Series(sessions, dtype=pl.Date))


def snapshot_as_of_session(taken_at: datetime) -> date:
    """Return the session a snapshot reflects: the last close before ``taken_at``.

    That is the last XNYS session whose regular close (16:00 America/New_York) is
    strictly before ``taken_at``. A naive ``taken_at`` is read as UTC, like the
    history's ``commit_time_utc``.

    Examples
    --------
    >>> snapshot_as_of_session(datetime(2026, 6, 27, 8, 58, tzinfo=UTC))
    datetime.date(2026, 6, 26)
    >>> snapshot_as_of_session(datetime(2025, 7, 27, 20, 19, tzinfo=UTC))
    datetime.date(2025, 7, 25)
    """
    stamp = taken_at if taken_at.tzinfo is not None else taken_at.replace(tzinfo=UTC)
    local = stamp.astimezone(NEW_YORK)
    # The latest candidate is the session on the New York date itself.
    candidate = previous_session(local.date(), inclusive=True)
    while _close_of(candidate) >= stamp:
        candidate = previous_session(candidate)
    return candidate


def _close_of(session: date) -> datetime:
    return datetime.combine(session, SESSION_CLOSE, tzinfo=NEW_YORK)


def snapshot_tickers(history: pl.DataFrame, taken_at: datetime) -> pl.DataFrame:
    """Return the lines of the snapshot taken at ``taken_at``.

    Raises
    ------
    MissingDataError
        If no snapshot was taken at exactly ``taken_at``; the message names the
        nearest snapshots.
    """
    stamp = taken_at if taken_at.tzinfo is not None else taken_at.replace(tzinfo=UTC)
    rows = history.filter(pl.col("taken_at") == stamp)
    if rows.height:
        return rows
    stamps = history.get_column("taken_at").unique().sort()
    before = stamps.filter(stamps < stamp)
    after = stamps.filter(stamps > stamp)
    nearest = [f"previous {before[-1]}"] if before.len() else []
    nearest += [f"next {after[0]}"] if after.len() else []
    hint = "; nearest snapshots: " + ", ".join(nearest) if nearest else ""
    msg = f"no membership snapshot taken at {stamp.isoformat()}{hint}"
    raise MissingDataError(msg)
