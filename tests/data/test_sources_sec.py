"""r2k.data.sources.sec on the real SEC ticker map and on broken files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k.data.sources.sec import read_sec_tickers
from r2k.errors import SchemaError, SourceFormatError
from r2k.schemas import SEC_TICKERS

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir


@pytest.fixture(scope="module")
def sec(data_dir: DataDir) -> pl.DataFrame:
    return read_sec_tickers(data_dir.sec_tickers)


def test_counts(sec: pl.DataFrame) -> None:
    assert sec.schema == SEC_TICKERS
    assert sec.height == 10_365
    counts = dict(sec.get_column("exchange").value_counts().iter_rows())
    assert counts == {
        "Nasdaq": 4_283,
        "NYSE": 3_292,
        "OTC": 2_539,
        "CBOE": 27,
        None: 224,
    }
    assert sec.get_column("security_id").is_unique().all()
    assert sec.get_column("cik").str.contains(r"^\d{10}$").all()


def test_canonical_tickers(sec: pl.DataFrame) -> None:
    rows = {
        r["ticker"]: r
        for r in sec.filter(
            pl.col("ticker").is_in(["BRK-B", "MOG-A", "NVDA"])
        ).iter_rows(named=True)
    }
    assert rows["BRK-B"]["security_id"] == "BRK.B"
    assert rows["BRK-B"]["cik"] == "0001067983"
    assert rows["MOG-A"]["security_id"] == "MOG.A"
    assert rows["NVDA"]["exchange"] == "Nasdaq"


def _write(tmp_path: Path, frame: pl.DataFrame) -> Path:
    path = tmp_path / "sec.parquet"
    frame.write_parquet(path)
    return path


def test_integer_cik_is_padded(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "cik": [320193],
            "ticker": ["AAPL"],
            "exchange": ["Nasdaq"],
            "name": ["Apple Inc."],
        }
    )
    got = read_sec_tickers(_write(tmp_path, frame))
    assert got.get_column("cik").to_list() == ["0000320193"]


def test_duplicate_canonical_ticker(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "cik": ["1", "1"],
            "ticker": ["BRK-B", "BRK.B"],
            "exchange": ["NYSE"] * 2,
            "name": ["B"] * 2,
        }
    )
    with pytest.raises(
        SourceFormatError, match=r"security_id BRK\.B\) appears 2 times"
    ):
        read_sec_tickers(_write(tmp_path, frame))


def test_missing_column(tmp_path: Path) -> None:
    frame = pl.DataFrame({"cik": ["1"], "ticker": ["A"], "name": ["A"]})
    with pytest.raises(
        SchemaError, match=r"sec\.parquet: missing column\(s\) exchange"
    ):
        read_sec_tickers(_write(tmp_path, frame))


def test_empty_ticker(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "cik": ["1", "2"],
            "ticker": ["A", " "],
            "exchange": [None, None],
            "name": ["A", "B"],
        }
    )
    with pytest.raises(SourceFormatError, match="row 2: ticker ''"):  # 1-based
        read_sec_tickers(_write(tmp_path, frame))
