"""r2k.data.sources.membership on the real IWM membership history."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from r2k.data.sources.membership import (
    read_membership_history,
    snapshot_as_of_session,
    snapshot_tickers,
    snapshots,
)
from r2k.errors import MissingDataError, SchemaError, SourceFormatError
from r2k.schemas import MEMBERSHIP_HISTORY
from r2k.sessions import is_session, next_session

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir


@pytest.fixture(scope="module")
def history(data_dir: DataDir) -> pl.DataFrame:
    return read_membership_history(data_dir.membership_history)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_schema_and_size(history: pl.DataFrame) -> None:
    assert history.schema == MEMBERSHIP_HISTORY
    assert history.height == 151_980
    assert history.get_column("taken_at").is_sorted()
    assert history.get_column("taken_at").min() == _utc("2025-06-05T21:12")
    assert history.get_column("taken_at").max() == _utc("2026-06-27T08:58")


def test_snapshots(history: pl.DataFrame) -> None:
    table = snapshots(history)
    assert table.columns == ["taken_at", "commit", "count", "as_of_session"]
    assert table.height == 77
    assert table.get_column("taken_at").n_unique() == 77
    assert table.get_column("count").sum() == history.height
    counts = dict(
        zip(table["taken_at"].to_list(), table["count"].to_list(), strict=True)
    )
    assert counts[_utc("2025-06-27T13:22")] == 1_931  # before the 2025 reconstitution
    assert counts[_utc("2025-06-28T19:17")] == 2_123  # after it: sold names still held
    assert counts[_utc("2026-06-27T08:58")] == 1_904
    assert all(is_session(day) for day in table["as_of_session"].to_list())


@pytest.mark.parametrize(
    ("taken_at", "session"),
    [
        ("2026-06-27T08:58", date(2026, 6, 26)),  # Saturday morning -> Friday
        ("2025-07-27T20:19", date(2025, 7, 25)),  # Sunday -> Friday
        ("2025-06-28T19:17", date(2025, 6, 27)),  # the 2025 reconstitution day
        ("2025-07-15T20:20", date(2025, 7, 15)),  # 16:20 New York: after the close
        ("2025-06-06T13:21", date(2025, 6, 5)),  # 09:21 New York: before the open
        ("2025-07-04T13:22", date(2025, 7, 3)),  # Independence Day
        ("2026-01-24T08:07", date(2026, 1, 23)),
    ],
)
def test_snapshot_as_of_session(taken_at: str, session: date) -> None:
    assert snapshot_as_of_session(_utc(taken_at)) == session


def test_close_boundary_is_strict() -> None:
    # 2026-06-26 16:00 New York is 20:00 UTC (daylight saving time).
    assert snapshot_as_of_session(_utc("2026-06-26T20:00")) == date(2026, 6, 25)
    assert snapshot_as_of_session(_utc("2026-06-26T20:01")) == date(2026, 6, 26)
    # Winter: 16:00 New York is 21:00 UTC.
    assert snapshot_as_of_session(_utc("2026-01-23T21:00")) == date(2026, 1, 22)
    assert snapshot_as_of_session(_utc("2026-01-23T21:01")) == date(2026, 1, 23)


def test_naive_timestamps_are_utc() -> None:
    naive = _utc("2026-06-27T08:58").replace(tzinfo=None)
    assert snapshot_as_of_session(naive) == date(2026, 6, 26)


@given(
    st.datetimes(
        min_value=datetime.fromisoformat("2000-01-01"),
        max_value=datetime.fromisoformat("2039-01-01"),
        timezones=st.just(UTC),
    )
)
def test_as_of_session_is_the_last_close_before(taken_at: datetime) -> None:
    session = snapshot_as_of_session(taken_at)
    assert is_session(session)

    def close(day: date) -> datetime:
        return datetime.combine(day, time(16), tzinfo=ZoneInfo("America/New_York"))

    assert close(session) < taken_at <= close(next_session(session))


def test_snapshot_tickers(history: pl.DataFrame) -> None:
    last = snapshot_tickers(history, _utc("2026-06-27T08:58"))
    assert last.height == 1_904
    assert last.get_column("commit").unique().to_list() == ["dc5cb94"]
    assert "BE" in last.get_column("security_id").to_list()
    with pytest.raises(
        MissingDataError, match="nearest snapshots: previous 2026-01-24 08:07"
    ):
        snapshot_tickers(history, _utc("2026-03-01T00:00"))


def test_duplicate_ticker_kept(history: pl.DataFrame) -> None:
    snap = snapshot_tickers(history, _utc("2025-10-04T08:06"))
    adro = snap.filter(pl.col("ticker") == "ADRO")
    assert adro.get_column("name").to_list() == [
        "CHINOOK THERAPEUTICS INC",
        "CHINOOK THERAPEUTICS INC CVR",
    ]


def _write(tmp_path: Path, stamps: list[str], drop: str | None = None) -> Path:
    frame = pl.DataFrame(
        {
            "commit_time_utc": stamps,
            "commit": ["abc1234"] * len(stamps),
            "ticker": ["AAA"] * len(stamps),
            "name": ["ALPHA INC"] * len(stamps),
            "weight_pct": [0.1] * len(stamps),
            "market_value": [None] * len(stamps),
        },
        schema_overrides={"market_value": pl.Float64},
    )
    if drop:
        frame = frame.drop(drop)
    path = tmp_path / "history.parquet"
    frame.write_parquet(path)
    return path


def test_bad_timestamp(tmp_path: Path) -> None:
    path = _write(tmp_path, ["2025-10-04T08:06", "04/10/2025 08:06"])
    with pytest.raises(
        SourceFormatError,  # the second row: 1-based, as every reader counts
        match=r"row 2, column 'commit_time_utc': '04/10/2025 08:06'",
    ):
        read_membership_history(path)


def test_missing_column(tmp_path: Path) -> None:
    path = _write(tmp_path, ["2025-10-04T08:06"], drop="ticker")
    with pytest.raises(SchemaError, match=r"missing column\(s\) ticker"):
        read_membership_history(path)
