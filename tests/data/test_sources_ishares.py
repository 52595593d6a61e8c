"""r2k.data.sources.ishares on every real holdings file and on small broken files."""

from __future__ import annotations

import dataclasses
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k.data.sources.ishares import Holdings, read_holdings
from r2k.errors import SourceFormatError
from r2k.schemas import HOLDINGS

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir


def _data_root() -> Path:
    chosen = os.environ.get("R2K_DATA", "").strip()
    if chosen:
        return Path(chosen)
    return Path(__file__).parents[2].parent / "shared" / "data"


REAL_FILES = sorted(
    p.name for p in (_data_root() / "ishares").glob("*_????-??-??.csv")
) or ["(no real data)"]

# (equity lines, equity lines with a ticker), counted from the files.
EXPECTED_EQUITIES = {
    "IWM_2025-05-13.csv": (1939, 1934),
    "IWM_2025-11-05.csv": (1962, 1959),
    "IWM_2026-01-21.csv": (1952, 1949),
    "IWM_2026-04-10.csv": (1936, 1934),
    "IWM_2026-05-05.csv": (1924, 1921),
    "IWV_2025-05-02.csv": (2656, 2652),
}

_cache: dict[str, Holdings] = {}


@pytest.fixture
def holdings(data_dir: DataDir, request: pytest.FixtureRequest) -> Holdings:
    name: str = request.param
    if name not in _cache:
        _cache[name] = read_holdings(data_dir.ishares_dir / name)
    return _cache[name]


@pytest.mark.parametrize("name", REAL_FILES)
def test_fund_and_date_from_file_name(name: str, data_dir: DataDir) -> None:
    held = read_holdings(data_dir.ishares_dir / name)
    fund, day = name.removesuffix(".csv").split("_")
    assert held.fund == fund
    assert held.as_of == date.fromisoformat(day)
    assert held.frame.get_column("as_of").unique().to_list() == [held.as_of]
    assert held.frame.get_column("fund").unique().to_list() == [fund]
    assert held.frame.schema == HOLDINGS
    assert held.fund_shares_outstanding > 1e7


@pytest.mark.parametrize("holdings", REAL_FILES, indirect=True)
def test_equity_counts(holdings: Holdings) -> None:
    name = f"{holdings.fund}_{holdings.as_of.isoformat()}.csv"
    lines = holdings.frame.filter(pl.col("asset_class") == "Equity").height
    listed = holdings.equities.height
    if holdings.fund == "IWM":
        # The data README says ~1,930-1,965; 2026-05-05 holds 1,924 lines.
        assert 1915 <= listed <= lines <= 1965
    else:
        assert lines == 2656  # the README's count is of equity lines
    if name in EXPECTED_EQUITIES:
        assert (lines, listed) == EXPECTED_EQUITIES[name]


@pytest.mark.parametrize("holdings", REAL_FILES, indirect=True)
def test_equity_weights_sum_near_100(holdings: Holdings) -> None:
    total = holdings.equities.get_column("weight_pct").sum()
    assert 97.5 < total < 100.5


@pytest.mark.parametrize("holdings", REAL_FILES, indirect=True)
def test_market_value_is_quantity_times_price(holdings: Holdings) -> None:
    # Prices are rounded to cents, so allow half a cent per share.
    off = holdings.equities.filter(
        (pl.col("market_value") - pl.col("quantity") * pl.col("price")).abs()
        > 0.005 * pl.col("quantity") + 0.01
    )
    assert off.height == 0, off.select("ticker", "market_value", "quantity", "price")


@pytest.mark.parametrize("holdings", REAL_FILES, indirect=True)
def test_non_equity_lines_kept_and_unlisted_lines_excluded(holdings: Holdings) -> None:
    classes = set(holdings.frame.get_column("asset_class").to_list())
    assert {"Equity", "Cash", "Futures", "Money Market"} <= classes
    equities = holdings.equities
    assert equities.get_column("asset_class").unique().to_list() == ["Equity"]
    assert equities.get_column("ticker").null_count() == 0
    no_ticker = holdings.frame.filter(pl.col("ticker").is_null())
    assert no_ticker.height >= 1  # "-" tickers: unlisted vesting rights etc.
    assert no_ticker.get_column("security_id").null_count() == no_ticker.height


@pytest.mark.parametrize("holdings", REAL_FILES, indirect=True)
def test_duplicate_ticker_is_kept(holdings: Holdings) -> None:
    # ADRO is listed twice in every real file: the stub line and its CVR.
    adro = holdings.equities.filter(pl.col("ticker") == "ADRO")
    assert adro.height == 2
    assert adro.get_column("name").n_unique() == 2
    duplicated = holdings.equities.filter(pl.col("ticker").is_duplicated())
    assert duplicated.get_column("ticker").unique().to_list() == ["ADRO"]


def test_spot_values(data_dir: DataDir) -> None:
    held = read_holdings(data_dir.ishares_dir / "IWM_2026-04-10.csv")
    assert held.fund_shares_outstanding == 280_200_000.0
    be = held.frame.row(0, named=True)
    assert be["ticker"] == "BE"
    assert be["market_value"] == pytest.approx(860_855_470.00)
    assert be["quantity"] == 5_164_100.0
    assert be["price"] == pytest.approx(166.70)
    assert be["weight_pct"] == pytest.approx(1.18)
    rights = held.frame.filter(pl.col("ticker") == "MPTI RT")
    assert rights.get_column("security_id").to_list() == ["MPTI.RT"]
    cad = held.frame.filter(pl.col("ticker") == "CAD").row(0, named=True)
    assert cad["exchange"] is None  # "-" is null


def test_holdings_is_frozen(data_dir: DataDir) -> None:
    held = read_holdings(data_dir.ishares_dir / "IWM_2026-04-10.csv")
    with pytest.raises(dataclasses.FrozenInstanceError):
        held.fund = "XXX"  # type: ignore[misc]


# --- synthetic files -------------------------------------------------------------

HEADER = (
    "Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,"
    "Price,Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date"
)
ROWS = [
    '"AAA","ALPHA INC","Industrials","Equity","1,000.00","60.00","1,000.00",'
    '"100.00","10.00","United States","NASDAQ","USD","1.00","USD","-"',
    '"BBB","BETA CORP CLASS A","Health Care","Equity","600.00","36.00","600.00",'
    '"20.00","30.00","United States","NYSE","USD","1.00","USD","-"',
    '"-","GAMMA INC Prvt","Health Care","Equity","1.00","0.00","1.00",'
    '"1,000.00","0.00","United States","NO MARKET (E.G. UNLISTED)","USD","1.00",'
    '"USD","-"',
    '"USD","USD CASH","Cash and/or Derivatives","Cash","66.00","4.00","66.00",'
    '"66.00","100.00","United States","-","USD","1.00","USD","-"',
]
FOOTER = [
    "\u00a0",
    '"The content contained herein is owned or licensed by BlackRock, 2026."',
    "Holdings subject to change.",
]


def _write(
    tmp_path: Path,
    *,
    title: str = "iShares Russell 2000 ETF",
    as_of: str | None = 'Fund Holdings as of,"Apr 10, 2026"',
    header: str = HEADER,
    rows: list[str] | None = None,
    name: str = "IWM_2026-04-10.csv",
    bom: bool = True,
) -> Path:
    preamble = [title]
    if as_of is not None:
        preamble.append(as_of)
    preamble += [
        'Inception Date,"May 22, 2000"',
        'Shares Outstanding,"280,200,000.00"',
        'Stock,"-"',
        "\u00a0",
    ]
    lines = [*preamble, header, *(ROWS if rows is None else rows), *FOOTER]
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def test_synthetic_file_reads(tmp_path: Path) -> None:
    held = read_holdings(_write(tmp_path))
    assert held.fund == "IWM"
    assert held.as_of == date(2026, 4, 10)
    assert held.fund_shares_outstanding == 280_200_000.0
    assert held.frame.height == 4
    assert held.equities.get_column("security_id").to_list() == ["AAA", "BBB"]
    assert held.frame.get_column("quantity").to_list() == [100.0, 20.0, 1000.0, 66.0]


def test_no_bom_and_unknown_title_falls_back_to_file_name(tmp_path: Path) -> None:
    path = _write(
        tmp_path, title="Some Other Title", name="IWV_2026-04-10.csv", bom=False
    )
    assert read_holdings(path).fund == "IWV"


def test_missing_as_of_line(tmp_path: Path) -> None:
    path = _write(tmp_path, as_of=None)
    with pytest.raises(
        SourceFormatError, match=r"IWM_2026-04-10\.csv.*Fund Holdings as of"
    ):
        read_holdings(path)


def test_unparseable_as_of_date(tmp_path: Path) -> None:
    path = _write(tmp_path, as_of='Fund Holdings as of,"Apr 31, 2026"')
    with pytest.raises(
        SourceFormatError, match=r"line 2: cannot read .*'Apr 31, 2026'"
    ):
        read_holdings(path)


def test_bad_number_names_column_and_line(tmp_path: Path) -> None:
    rows = [*ROWS]
    rows[1] = rows[1].replace('"20.00"', '"twenty"')
    path = _write(tmp_path, rows=rows)
    with pytest.raises(
        SourceFormatError, match=r"line 9: column 'Quantity' holds 'twenty'"
    ):
        read_holdings(path)


def test_missing_column(tmp_path: Path) -> None:
    header = HEADER.replace("Price,", "Cost,")
    path = _write(tmp_path, header=header)
    with pytest.raises(
        SourceFormatError, match=r"line 7: table header lacks column\(s\) Price"
    ):
        read_holdings(path)


def test_negative_quantity(tmp_path: Path) -> None:
    rows = [*ROWS]
    rows[0] = rows[0].replace('"100.00"', '"-100.00"')
    path = _write(tmp_path, rows=rows)
    with pytest.raises(
        SourceFormatError, match=r"line 8: negative Quantity -100\.0 for 'AAA'"
    ):
        read_holdings(path)


def test_row_of_wrong_width(tmp_path: Path) -> None:
    rows = [*ROWS[:2], '"CCC","TRUNCATED"', *ROWS[2:]]
    path = _write(tmp_path, rows=rows)
    with pytest.raises(
        SourceFormatError, match=r"line 10: 2 fields where the header has 15"
    ):
        read_holdings(path)


def test_no_header(tmp_path: Path) -> None:
    path = _write(tmp_path, header="Symbol,Name")
    with pytest.raises(
        SourceFormatError, match="no table header line starting with 'Ticker,'"
    ):
        read_holdings(path)
