"""r2k.data.sources.splits on the real split catalogue and on broken files."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from r2k.data.sources.splits import read_splits
from r2k.errors import DataDirectoryError, SourceFormatError
from r2k.schemas import SPLITS

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir


@pytest.fixture(scope="module")
def splits(data_dir: DataDir) -> pl.DataFrame:
    return read_splits(data_dir.splits_dir)


def test_count_and_span(splits: pl.DataFrame) -> None:
    assert splits.schema == SPLITS
    assert splits.height == 136
    # The data README says "1971 .. 2026-02-04"; the files hold 2015-01-30 ..
    # 2026-02-26.
    assert splits.get_column("ex_date").min() == date(2015, 1, 30)
    assert splits.get_column("ex_date").max() == date(2026, 2, 26)
    assert splits.get_column("ex_date").is_sorted()
    assert (
        splits.select((pl.col("ratio_new") > 0) & (pl.col("ratio_old") > 0))
        .to_series()
        .all()
    )
    assert set(splits.get_column("exchange").to_list()) == {
        "NASDAQ",
        "NYSE",
        "NYSE American",
        "OTCQX",
    }


def test_asrt_reverse_split(splits: pl.DataFrame) -> None:
    asrt = splits.filter(pl.col("security_id") == "ASRT")
    assert asrt.height == 1
    row = asrt.row(0, named=True)
    assert row["ex_date"] == date(2025, 12, 26)
    assert (row["ratio_new"], row["ratio_old"]) == (1.0, 15.0)
    assert row["exchange"] == "NASDAQ"
    assert row["notes"].startswith("Reverse split.")


@pytest.mark.parametrize(
    ("security_id", "catalogue_date", "ex_date"),
    [
        (
            "AAPL",
            date(2020, 8, 28),
            date(2020, 8, 31),
        ),  # "Split-adjusted trading began"
        ("NVDA", date(2024, 6, 7), date(2024, 6, 10)),
        ("BOXL", date(2025, 12, 22), date(2025, 12, 23)),  # reverse, effective 5 PM
        ("UAA", date(2016, 4, 7), date(2016, 4, 8)),  # "(ex-date Apr 8, 2016)"
        ("CTRP", date(2015, 12, 2), date(2015, 12, 2)),  # "Price adjustment (ex-date)"
        ("ASRT", date(2025, 12, 26), date(2025, 12, 26)),  # reverse, effective 12:01 AM
        ("GPN", date(2015, 11, 2), date(2015, 11, 2)),  # distribution date only: kept
    ],
)
def test_ex_date_is_the_first_split_adjusted_session(
    splits: pl.DataFrame, security_id: str, catalogue_date: date, ex_date: date
) -> None:
    rows = splits.filter(
        (pl.col("security_id") == security_id)
        & pl.col("ex_date").is_between(catalogue_date, ex_date)
    )
    assert rows.get_column("ex_date").to_list() == [ex_date]


def test_ex_date_from_notes(tmp_path: Path) -> None:
    _write(
        tmp_path,
        2025,
        [
            _event(
                symbol="AAA",
                notes="Payable Mar 3. Split-adjusted trading began Mar 4, 2025.",
            ),
            _event(
                symbol="BBB", notes="Split-adjusted trading on NYSE began March 5, 2025"
            ),
            _event(
                symbol="CCC",
                notes="Record date Feb 1, 2025. Ex-distribution date Mar 6, 2025.",
            ),
            _event(
                symbol="DDD", notes="Split-adjusted trading began Apr 30, 2025."
            ),  # too far
            _event(
                symbol="EEE", notes="Split-adjusted trading began Mar 1, 2025."
            ),  # before
        ],
    )
    got = dict(read_splits(tmp_path).select("security_id", "ex_date").iter_rows())
    assert got == {
        "AAA": date(2025, 3, 4),
        "BBB": date(2025, 3, 5),
        "CCC": date(2025, 3, 6),
        "DDD": date(2025, 3, 3),
        "EEE": date(2025, 3, 3),
    }


def _event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "symbol": "AAA",
        "name": "Alpha Inc.",
        "date": "2025-03-03",
        "exchange": "NASDAQ",
        "notes": "",
        "ratioNew": 2,
        "ratioOld": 1,
    }
    event.update(changes)
    return event


def _write(folder: Path, year: int, events: list[dict[str, Any]]) -> None:
    document = {"$schema": "x", "year": year, "splits": events}
    (folder / f"{year}.json").write_text(json.dumps(document))


def test_synthetic_folder(tmp_path: Path) -> None:
    _write(tmp_path, 2025, [_event(), _event(symbol="BRK-B", date="2025-01-02")])
    _write(
        tmp_path,
        2024,
        [_event(symbol="CCC", date="2024-05-01", ratioNew=1, ratioOld=10)],
    )
    (tmp_path / "LICENSE").write_text("MIT")
    (tmp_path / "index.json").write_text("not a year file")
    got = read_splits(tmp_path)
    assert got.get_column("security_id").to_list() == ["CCC", "BRK.B", "AAA"]
    assert got.get_column("ratio_old").to_list() == [10.0, 1.0, 1.0]
    assert got.get_column("source").null_count() == 3


@pytest.mark.parametrize("bad", [0, -2, "2", None, float("nan")])
def test_ratio_must_be_positive(tmp_path: Path, bad: object) -> None:
    _write(tmp_path, 2025, [_event(), _event(symbol="BBB", ratioOld=bad)])
    with pytest.raises(SourceFormatError, match=r"2025\.json, splits\[1\]"):
        read_splits(tmp_path)


def test_bad_date(tmp_path: Path) -> None:
    _write(tmp_path, 2025, [_event(date="03/03/2025")])
    with pytest.raises(
        SourceFormatError, match=r"splits\[0\] \(AAA\): date '03/03/2025'"
    ):
        read_splits(tmp_path)


def test_not_json(tmp_path: Path) -> None:
    (tmp_path / "2025.json").write_text("{")
    with pytest.raises(SourceFormatError, match=r"2025\.json: not valid JSON"):
        read_splits(tmp_path)


def test_no_splits_list(tmp_path: Path) -> None:
    (tmp_path / "2025.json").write_text('{"year": 2025}')
    with pytest.raises(SourceFormatError, match="no 'splits' list"):
        read_splits(tmp_path)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataDirectoryError, match=r"no <year>\.json split files"):
        read_splits(tmp_path)
