"""r2k.data.sources.reference on the real S&P constituent table and on broken files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k.data.sources.reference import (
    GICS_SECTORS,
    SP_CONSTITUENTS,
    read_sp_constituents,
)
from r2k.errors import SourceFormatError

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir


@pytest.fixture(scope="module")
def sp(data_dir: DataDir) -> pl.DataFrame:
    return read_sp_constituents(data_dir.sp_constituents)


def test_counts(sp: pl.DataFrame) -> None:
    assert sp.schema == SP_CONSTITUENTS
    counts = dict(sp.get_column("index").value_counts().iter_rows())
    assert counts == {"S&P 600": 603, "S&P 500": 503}


def test_every_row_has_a_gics_sector(sp: pl.DataFrame) -> None:
    assert set(sp.get_column("sector").to_list()) == GICS_SECTORS


@pytest.mark.parametrize(
    ("security_id", "sector"),
    [
        ("AAMI", "Financials"),
        ("DUK", "Utilities"),  # also tagged Energy
        ("EQIX", "Real Estate"),  # also tagged Financials
        ("GRMN", "Consumer Discretionary"),  # also tagged Industrials
        ("MCO", "Financials"),  # also tagged Industrials
        ("STE", "Health Care"),  # also tagged Utilities
        ("GEV", "Industrials"),  # also tagged Energy
        ("MOG.A", "Industrials"),
    ],
)
def test_sector(sp: pl.DataFrame, security_id: str, sector: str) -> None:
    assert sp.filter(pl.col("security_id") == security_id).get_column(
        "sector"
    ).to_list() == [sector]


def test_country_from_headquarters(sp: pl.DataFrame) -> None:
    rows = {r["security_id"]: r for r in sp.iter_rows(named=True)}
    assert rows["AAMI"]["headquarters"] == "Boston, Massachusetts"
    assert rows["AAMI"]["country"] == "United States"
    assert rows["ACN"]["country"] == "Ireland"
    assert rows["AMCR"]["country"] == "United Kingdom"
    counts = dict(sp.get_column("country").value_counts().iter_rows())
    assert counts["United States"] == 1_073
    assert counts[None] == 1  # location "none"


def test_share_class_symbols(sp: pl.DataFrame) -> None:
    ids = set(sp.get_column("security_id").to_list())
    assert {"BRK.B", "BF.B", "MOG.A", "CWEN.A"} <= ids


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sp.csv"
    path.write_text(text)
    return path


HEADER = "index,name,symbol,yahoo_symbols,industries,country\n"


def test_missing_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "index,name,symbol\nS&P 600,A,A\n")
    with pytest.raises(
        SourceFormatError, match=r"line 1: header lacks column\(s\) industries, country"
    ):
        read_sp_constituents(path)


def test_no_sector(tmp_path: Path) -> None:
    text = (
        HEADER
        + 'S&P 600,Alpha,AAA,AAA,Financials,"Boston, Massachusetts"\n'
        + 'S&P 600,Beta,BBB,BBB,Software,"Austin, Texas"\n'
    )
    with pytest.raises(
        SourceFormatError, match=r"line 3: S&P 600 row 'BBB' .* no GICS sector"
    ):
        read_sp_constituents(_write(tmp_path, text))


def test_repeated_symbol(tmp_path: Path) -> None:
    row = 'S&P 600,Alpha,AAA,AAA,Financials,"Boston, Massachusetts"\n'
    with pytest.raises(SourceFormatError, match="a repeated symbol"):
        read_sp_constituents(_write(tmp_path, HEADER + row + row))
