"""r2k.data.sources.levels on the three real index files and on broken files."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k.data.sources.levels import read_index_levels
from r2k.errors import SourceFormatError
from r2k.schemas import INDEX_LEVELS
from r2k.sessions import sessions_in_range

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir

# index -> (rows, first session, last session), per the data README and the files.
COVERAGE = {
    "RUT": (9_772, date(1987, 9, 10), date(2026, 6, 26)),
    "RUA": (8_638, date(1987, 9, 10), date(2022, 1, 28)),
    "SPX": (6_699, date(2000, 1, 3), date(2026, 8, 21)),
}

_cache: dict[str, pl.DataFrame] = {}


def _levels(data_dir: DataDir, index: str) -> pl.DataFrame:
    if index not in _cache:
        _cache[index] = read_index_levels(data_dir.index_levels(index), index)
    return _cache[index]


@pytest.mark.parametrize("index", sorted(COVERAGE))
def test_coverage(data_dir: DataDir, index: str) -> None:
    levels = _levels(data_dir, index)
    rows, first, last = COVERAGE[index]
    assert levels.schema == INDEX_LEVELS
    assert levels.height == rows
    assert levels.get_column("session").min() == first
    assert levels.get_column("session").max() == last
    assert levels.get_column("index").unique().to_list() == [index]
    assert levels.get_column("session").is_sorted()
    assert levels.get_column("session").n_unique() == rows
    assert levels.get_column("close").min() > 0  # type: ignore[operator]


@pytest.mark.parametrize(
    ("day", "close"),
    [
        (date(2021, 11, 8), 2442.74),
        (date(2022, 12, 30), 1761.25),
        (date(2026, 6, 26), 3010.08),
    ],
)
def test_rut_spot_checks(data_dir: DataDir, day: date, close: float) -> None:
    row = _levels(data_dir, "RUT").filter(pl.col("session") == day)
    assert row.get_column("close").to_list() == [pytest.approx(close)]


@pytest.mark.parametrize("index", sorted(COVERAGE))
def test_sessions_against_the_xnys_calendar(data_dir: DataDir, index: str) -> None:
    levels = _levels(data_dir, index)
    _, first, last = COVERAGE[index]
    have = set(levels.get_column("session").to_list())
    calendar = set(sessions_in_range(first, last))
    assert have <= calendar  # every row is a session
    missing = sorted(calendar - have)
    if index == "RUA":
        # Yahoo 'null' rows were dropped: 29 sessions from 2018-12-24 on.
        assert len(missing) == 29
        assert missing[0] == date(2018, 12, 24)
    else:
        assert missing == []  # "no gaps"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "XYZ_daily.csv"
    path.write_text(text)
    return path


GOOD = "date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n2024-01-03,1.5,2,1,1.8\n"


def test_synthetic_file(tmp_path: Path) -> None:
    levels = read_index_levels(_write(tmp_path, GOOD), "xyz")
    assert levels.get_column("index").to_list() == ["XYZ", "XYZ"]
    assert levels.get_column("close").to_list() == [1.5, 1.8]


def test_missing_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "date,open,high,low\n2024-01-02,1,2,0.5\n")
    with pytest.raises(
        SourceFormatError,
        match=r"XYZ_daily\.csv, line 1: header lacks column\(s\) close",
    ):
        read_index_levels(path, "XYZ")


def test_unsorted_dates(tmp_path: Path) -> None:
    text = GOOD + "2024-01-03,1.8,2,1,1.9\n"
    with pytest.raises(
        SourceFormatError, match="line 4: date 2024-01-03 does not follow"
    ):
        read_index_levels(_write(tmp_path, text), "XYZ")


def test_non_positive_close(tmp_path: Path) -> None:
    text = GOOD + "2024-01-04,1.8,2,1,0\n"
    with pytest.raises(
        SourceFormatError, match=r"line 4: close 0\.0 is missing or not positive"
    ):
        read_index_levels(_write(tmp_path, text), "XYZ")


def test_missing_close(tmp_path: Path) -> None:
    text = GOOD + "2024-01-04,1.8,2,1,null\n"
    with pytest.raises(SourceFormatError, match="line 4: close None is missing"):
        read_index_levels(_write(tmp_path, text), "XYZ")


def test_bad_number(tmp_path: Path) -> None:
    text = GOOD + "2024-01-04,1.8,two,1,1.9\n"
    with pytest.raises(SourceFormatError, match="line 4: column 'high' holds 'two'"):
        read_index_levels(_write(tmp_path, text), "XYZ")


def test_bad_date(tmp_path: Path) -> None:
    text = GOOD + "01/04/2024,1.8,2,1,1.9\n"
    with pytest.raises(
        SourceFormatError, match="line 4: date '01/04/2024' is not a date"
    ):
        read_index_levels(_write(tmp_path, text), "XYZ")


def test_empty_index_code(tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match="empty index code"):
        read_index_levels(_write(tmp_path, GOOD), " ")
