"""r2k.data.sources.rates and fx: the rates and FX files, read in place and checked."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k.data.datadir import DataDir
from r2k.data.sources.fx import (
    dollar_index_path,
    fx_pairs_path,
    read_dollar_index,
    read_fx_pairs,
)
from r2k.data.sources.rates import (
    RATES_COLUMNS,
    REAL_YIELDS_COLUMNS,
    rates_path,
    read_real_yields,
    read_rstar,
    read_us_rates,
    real_yields_path,
)
from r2k.errors import DataDirectoryError, SourceFormatError

if TYPE_CHECKING:
    from pathlib import Path

HEADER = "date," + ",".join(RATES_COLUMNS)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _row(day: str, dff: str = "5.0", dgs2: str = "4.5") -> str:
    # FEDFUNDS,DFF,DFEDTARL,DFEDTARU,DGS3MO,DGS2,DGS5,DGS10,DGS30
    return f"{day},,{dff},,,,{dgs2},,,"


# --- synthetic files: every failure names the file, line and column ------------


def test_reads_percent_with_empty_cells(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "r.csv",
        "\n".join([HEADER, _row("2024-01-02"), _row("2024-01-03", "", "."), ""]),
    )
    frame = read_us_rates(path)
    assert frame.columns == ["date", *RATES_COLUMNS]
    assert frame.schema["date"] == pl.Date
    assert all(frame.schema[c] == pl.Float64 for c in RATES_COLUMNS)
    assert frame["DFF"].to_list() == [5.0, None]
    assert frame["DGS2"].to_list() == [4.5, None]  # FRED's "." is empty


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        (
            [_row("2024-01-02"), _row("2024/01/03")],
            r"r.csv, line 3: column 'date' holds '2024/01/03', not a date",
        ),
        (
            [_row("2024-01-02"), _row("2024-01-02")],
            r"line 3: date 2024-01-02 does not follow the previous date",
        ),
        (
            [_row("2024-01-02", dgs2="4.5%")],
            r"line 2: column 'DGS2' holds '4.5%', not a number; write a number "
            r"in percent or leave the cell empty",
        ),
        (
            [_row("2024-01-02"), _row("2024-01-03", dff="450")],
            r"line 3: column 'DFF' holds 450.0, which is outside \[-10, 30\] percent",
        ),
        (
            [_row("2024-01-02", dff="inf")],
            r"line 2: column 'DFF' holds inf, which is not finite",
        ),
    ],
)
def test_bad_cells_name_file_line_and_column(
    tmp_path: Path, lines: list[str], match: str
) -> None:
    path = _write(tmp_path, "r.csv", "\n".join([HEADER, *lines, ""]))
    with pytest.raises(SourceFormatError, match=match):
        read_us_rates(path)


def test_missing_column_and_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "r.csv", "date,DFF\n2024-01-02,5.0\n")
    with pytest.raises(SourceFormatError, match=r"r.csv, line 1: header lacks column"):
        read_us_rates(path)
    empty = _write(tmp_path, "e.csv", HEADER + "\n")
    with pytest.raises(SourceFormatError, match="header but no rows"):
        read_us_rates(empty)
    with pytest.raises(SourceFormatError, match="cannot be read as CSV"):
        read_us_rates(tmp_path / "missing.csv")


def test_rstar_reader(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "lw.csv", "date,rstar,other\n2024-01-26,0.74,x\n2024-04-26,,y\n"
    )
    assert read_rstar(path).to_dicts() == [{"date": date(2024, 1, 26), "rstar": 0.74}]
    other = _write(tmp_path, "hlw.csv", "date,hlw\n2024-01-26,1.1\n")
    assert read_rstar(other, "hlw")["rstar"].to_list() == [1.1]
    with pytest.raises(SourceFormatError, match="header lacks column"):
        read_rstar(other)
    blank = _write(tmp_path, "blank.csv", "date,rstar\n2024-01-26,\n")
    with pytest.raises(SourceFormatError, match="holds no value"):
        read_rstar(blank)


def test_fx_column_names_say_the_direction(tmp_path: Path) -> None:
    ok = _write(tmp_path, "fx.csv", "date,DXY,EURUSD,USDJPY\n2024-01-02,101,1.1,150\n")
    frame = read_fx_pairs(ok)
    assert frame.row(0) == (date(2024, 1, 2), 101.0, 1.1, 150.0)
    bad = _write(tmp_path, "fx2.csv", "date,EUR\n2024-01-02,1.1\n")
    with pytest.raises(SourceFormatError, match=r"column 'EUR' is not a currency pair"):
        read_fx_pairs(bad)
    zero = _write(tmp_path, "fx3.csv", "date,EURUSD\n2024-01-02,1.1\n2024-01-03,0\n")
    with pytest.raises(
        SourceFormatError, match=r"line 3: column 'EURUSD' holds 0.0, which is not"
    ):
        read_fx_pairs(zero)


def test_paths_say_what_is_missing(tmp_path: Path) -> None:
    data = DataDir.resolve(tmp_path)
    for finder, name in (
        (rates_path, "rates/us_rates_daily.csv"),
        (real_yields_path, "rates/us_real_yields_breakevens_daily.csv"),
        (fx_pairs_path, "fx/fx_pairs_daily.csv"),
        (dollar_index_path, "fx/dxy_daily.csv"),
    ):
        with pytest.raises(DataDirectoryError, match=f"has no {name}"):
            finder(data)


# --- the real files --------------------------------------------------------------


def test_real_rates(data_dir: DataDir) -> None:
    rates = read_us_rates(rates_path(data_dir))
    assert rates.height == 26_350
    assert rates.item(0, "date") == date(1954, 7, 1)
    assert rates.row(0, named=True)["DFF"] == 1.13
    # the target range starts 2008-12-16 at 0-0.25
    ranged = rates.drop_nulls("DFEDTARU")
    assert ranged.item(0, "date") == date(2008, 12, 16)
    assert (ranged.item(0, "DFEDTARL"), ranged.item(0, "DFEDTARU")) == (0.0, 0.25)
    last = rates.filter(pl.col("date") == date(2026, 8, 21)).row(0, named=True)
    assert (last["DFEDTARL"], last["DFEDTARU"]) == (3.5, 3.75)
    assert last["DGS10"] is None  # empty where the series has no value
    # every yield series starts on its own date
    starts = {
        c: rates.drop_nulls(c).item(0, "date") for c in ("DGS2", "DGS10", "DGS3MO")
    }
    assert starts == {
        "DGS2": date(1976, 6, 1),
        "DGS10": date(1962, 1, 2),
        "DGS3MO": date(1981, 9, 1),
    }


def test_real_real_yields(data_dir: DataDir) -> None:
    real = read_real_yields(real_yields_path(data_dir))
    assert real.columns == ["date", *REAL_YIELDS_COLUMNS]
    assert real.item(0, "date") == date(2003, 1, 2)
    assert real.row(0)[1:] == (1.75, 2.43, 1.3, 1.64, 1.98)


def test_real_fx(data_dir: DataDir) -> None:
    fx = read_fx_pairs(fx_pairs_path(data_dir))
    assert fx.height == 520
    assert fx.columns[:4] == ["date", "DXY", "EURUSD", "GBPUSD"]
    assert fx.drop_nulls("USDCNH").height == 1  # USD/CNH: a single value
    # the cross rate agrees with the two dollar legs (direction from the names)
    both = fx.drop_nulls(["EURUSD", "USDJPY", "EURJPY"])
    gap = (both["EURUSD"] * both["USDJPY"] / both["EURJPY"] - 1.0).abs()
    assert float(gap.max()) < 1e-3  # type: ignore[arg-type]
    assert both.height > 500


def test_real_dollar_index_is_the_broad_index(data_dir: DataDir) -> None:
    dxy = read_dollar_index(dollar_index_path(data_dir))
    assert dxy.item(0, "date") == date(2006, 1, 2)
    assert dxy.item(0, "DXY") == pytest.approx(101.4155)
    # ICE's DXY in the pairs file is near 99 in August 2026; this series is
    # near 119 (the Fed's broad index, January 2006 = 100), as the module says
    assert 110.0 < dxy.item(-1, "DXY") < 130.0
