"""Raw iShares holdings files (IWM, IWV) as canonical holdings frames.

The files are the fund pages' "Detailed Holdings and Analytics" CSV downloads::

    <BOM>iShares Russell 2000 ETF
    Fund Holdings as of,"Apr 10, 2026"
    Inception Date,"May 22, 2000"
    Shares Outstanding,"280,200,000.00"
    Stock,"-"
    ...
    <NBSP>
    Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,...
    "BE","BLOOM ENERGY CLASS A CORP","Industrials","Equity","860,855,470.00",...
    ...
    <NBSP>
    "The content contained herein is owned or licensed by BlackRock ..."

Numbers carry thousands separators and ``"-"`` stands for "none". The table ends
at the first blank line (a lone non-breaking space in the real files); the
disclaimer footer follows. Every line of the table is kept (cash, futures and
money-market lines have an ``Asset Class`` other than ``"Equity"``);
:attr:`Holdings.equities` keeps the equity lines that have a ticker.

Duplicate tickers: the real files hold ``ADRO`` twice (Chinook Therapeutics' stub
line and its CVR, both unlisted). Such lines are distinct positions, so they are
kept as they are, never merged or rejected.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.data.datadir import holdings_file_date
from r2k.data.sources.quality import data_warning
from r2k.errors import DataDirectoryError, SourceFormatError
from r2k.schemas import HOLDINGS, check_schema
from r2k.tickers import normalize_ticker_expr

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["FUND_TITLES", "Holdings", "read_holdings"]

FUND_TITLES: Final[dict[str, str]] = {
    "iShares Russell 2000 ETF": "IWM",
    "iShares Russell 3000 ETF": "IWV",
}
"""Fund ticker by the title line of the file."""

_AS_OF_LABEL = "Fund Holdings as of"
_INCEPTION_LABEL = "Inception Date"
_SHARES_LABEL = "Shares Outstanding"
_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, name in enumerate(
        (
            "Jan",
            "Feb",
            "Mar",
            "Apr",
            "May",
            "Jun",
            "Jul",
            "Aug",
            "Sep",
            "Oct",
            "Nov",
            "Dec",
        ),
        start=1,
    )
}
_DATE = re.compile(r"^([A-Za-z]{3})\w*\.? +(\d{1,2}), *(\d{4})$")

# Source column -> canonical column.
_STRING_COLUMNS: Final[dict[str, str]] = {
    "Ticker": "ticker",
    "Name": "name",
    "Sector": "sector",
    "Asset Class": "asset_class",
    "Location": "location",
    "Exchange": "exchange",
    "Currency": "currency",
}
_NUMERIC_COLUMNS: Final[dict[str, str]] = {
    "Market Value": "market_value",
    "Weight (%)": "weight_pct",
    "Quantity": "quantity",
    "Price": "price",
}
_REQUIRED = tuple(_STRING_COLUMNS) + tuple(_NUMERIC_COLUMNS)
_LINE = "_line"


@dataclass(frozen=True, slots=True, kw_only=True)
class Holdings:
    """One iShares holdings file.

    Attributes
    ----------
    fund
        Fund ticker, ``"IWM"`` or ``"IWV"``.
    as_of
        The date of the holdings ("Fund Holdings as of").
    fund_shares_outstanding
        ETF shares outstanding on ``as_of``.
    frame
        Every line of the table, conforming to :data:`r2k.schemas.HOLDINGS`.
    """

    fund: str
    as_of: date
    fund_shares_outstanding: float
    frame: pl.DataFrame

    @property
    def equities(self) -> pl.DataFrame:
        """Equity lines with a ticker (``"-"`` lines are unlisted rights etc.)."""
        return self.frame.filter(
            (pl.col("asset_class") == "Equity") & pl.col("ticker").is_not_null()
        )


def read_holdings(path: Path) -> Holdings:
    """Read one raw iShares holdings CSV.

    Parameters
    ----------
    path
        A file such as ``ishares/IWM_2026-04-10.csv``.

    Returns
    -------
    Holdings
        The fund, the as-of date, the fund's shares outstanding and the table.

    Raises
    ------
    SourceFormatError
        If the file cannot be decoded, lacks the "Fund Holdings as of" or "Shares
        Outstanding" line or the table header, has an unparseable date, misses a
        required column, has a non-numeric value in a numeric column, a row of the
        wrong width, or a negative quantity; if its name holds an impossible date
        (``IWM_2026-02-30.csv``), or its "Fund Holdings as of" date is after today
        or after the date in its name, or its "Inception Date" after that. The
        message names the file, the line and the column.

    Warns
    -----
    DataQualityWarning
        When a line repeats another field for field (both kept), or the "Fund
        Holdings as of" date is before the date in the file's name.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        msg = (
            f"{path}, line {line}: not UTF-8 text ({exc.reason} at byte "
            f"{exc.start}); pass the raw iShares CSV as downloaded, or re-save it "
            "as UTF-8"
        )
        raise SourceFormatError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror or exc})"
        raise SourceFormatError(msg) from None
    lines = text.splitlines()
    header_at = _find_header(path, lines)
    preamble = {
        row[0].strip(): (number, row[1].strip() if len(row) > 1 else "")
        for number, row in _csv_rows(lines[:header_at], start=1)
        if row
    }
    fund = _fund(path, lines)
    named = _name_date(path)
    as_of = _as_of(path, preamble, named)
    _check_inception(path, preamble, as_of)
    shares = _shares_outstanding(path, preamble)
    raw = _table(path, lines, header_at)
    frame = _typed(path, raw).with_columns(
        as_of=pl.lit(as_of, pl.Date), fund=pl.lit(fund, pl.String)
    )
    return Holdings(
        fund=fund,
        as_of=as_of,
        fund_shares_outstanding=shares,
        frame=check_schema(frame, HOLDINGS, source=str(path)),
    )


def _csv_rows(lines: list[str], *, start: int) -> list[tuple[int, list[str]]]:
    """Parse ``lines`` as CSV, keeping each row's 1-based file line number."""
    return [
        (number, next(csv.reader([line])) if line.strip() else [])
        for number, line in enumerate(lines, start=start)
    ]


def _find_header(path: Path, lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if line.startswith("Ticker,"):
            return index
    msg = (
        f"{path}: no table header line starting with 'Ticker,'; "
        "pass a raw iShares holdings CSV (detailed holdings download)"
    )
    raise SourceFormatError(msg)


def _fund(path: Path, lines: list[str]) -> str:
    title = lines[0].strip() if lines else ""
    if title in FUND_TITLES:
        return FUND_TITLES[title]
    prefix = path.stem.split("_")[0].upper()
    if not re.fullmatch(r"[A-Z]{2,5}", prefix):
        msg = (
            f"{path}, line 1: unknown fund title {title!r} and no fund ticker "
            f"in the file name; name the file <FUND>_<YYYY-MM-DD>.csv "
            f"(known titles: {', '.join(FUND_TITLES)})"
        )
        raise SourceFormatError(msg)
    return prefix


def _as_of(
    path: Path, preamble: dict[str, tuple[int, str]], named: date | None
) -> date:
    """The "Fund Holdings as of" date: not after today, nor after the file's name.

    r2k dates a holdings file by its name (``IWM_2026-04-10.csv``), so holdings
    as of a later day would be used before they were known: an error. Holdings
    as of an earlier day are older than the name says: a warning.
    """
    if _AS_OF_LABEL not in preamble:
        msg = (
            f"{path}: no '{_AS_OF_LABEL}' line before the table header; "
            f'the preamble must hold a line like {_AS_OF_LABEL},"Apr 10, 2026"'
        )
        raise SourceFormatError(msg)
    number, value = preamble[_AS_OF_LABEL]
    parsed = _parse_date(value)
    if parsed is None:
        msg = (
            f"{path}, line {number}: cannot read the '{_AS_OF_LABEL}' date "
            f'{value!r}; expected a date like "Apr 10, 2026"'
        )
        raise SourceFormatError(msg)
    today = datetime.now(UTC).date()
    if parsed > today:
        msg = (
            f"{path}, line {number}: '{_AS_OF_LABEL}' {value!r} is after today "
            f"({today}); a holdings file cannot be dated in the future, fix the "
            "date or the system clock"
        )
        raise SourceFormatError(msg)
    if named is not None and parsed > named:
        msg = (
            f"{path}, line {number}: '{_AS_OF_LABEL}' {value!r} is after the date "
            f"in the file name ({named}); r2k uses a holdings file from the date "
            "in its name, so these holdings would be used before they were known: "
            f"rename the file {path.stem.split('_')[0]}_{parsed}.csv"
        )
        raise SourceFormatError(msg)
    if named is not None and parsed < named:
        data_warning(
            f"{path}, line {number}: '{_AS_OF_LABEL}' {value!r} is before the date "
            f"in the file name ({named}); r2k uses these older holdings from "
            f"{named} on (rename the file {path.stem.split('_')[0]}_{parsed}.csv "
            "if that is the day it belongs to)"
        )
    return parsed


_NAME_DATE = re.compile(r"^[A-Za-z]{2,5}_\d{4}-\d{2}-\d{2}$")


def _name_date(path: Path) -> date | None:
    """The date of a file named ``<FUND>_<YYYY-MM-DD>.csv``; None if named otherwise.

    Raises
    ------
    SourceFormatError
        If the name holds an impossible date (``IWM_2026-02-30.csv``).
    """
    if not _NAME_DATE.match(path.stem):
        return None
    try:
        return holdings_file_date(path)
    except DataDirectoryError as exc:
        raise SourceFormatError(str(exc)) from None


def _check_inception(
    path: Path, preamble: dict[str, tuple[int, str]], as_of: date
) -> None:
    """An "Inception Date" (optional) cannot be after the holdings' as-of date."""
    if _INCEPTION_LABEL not in preamble:
        return
    number, value = preamble[_INCEPTION_LABEL]
    parsed = _parse_date(value)
    if parsed is not None and parsed > as_of:  # r2k reads nothing else from it
        msg = (
            f"{path}, line {number}: '{_INCEPTION_LABEL}' {value!r} is after the "
            f"holdings' '{_AS_OF_LABEL}' date ({as_of}); a fund cannot hold "
            "positions before it exists, fix the preamble or download the file again"
        )
        raise SourceFormatError(msg)


def _parse_date(value: str) -> date | None:
    found = _DATE.match(value.strip())
    if not found:
        return None
    month = _MONTHS.get(found.group(1).title())
    if month is None:
        return None
    try:
        return date(int(found.group(3)), month, int(found.group(2)))
    except ValueError:
        return None


def _shares_outstanding(path: Path, preamble: dict[str, tuple[int, str]]) -> float:
    if _SHARES_LABEL not in preamble:
        msg = (
            f"{path}: no '{_SHARES_LABEL}' line before the table header; "
            f'the preamble must hold a line like {_SHARES_LABEL},"280,200,000.00"'
        )
        raise SourceFormatError(msg)
    number, value = preamble[_SHARES_LABEL]
    try:
        shares = float(value.replace(",", ""))
    except ValueError:
        shares = float("nan")
    if not (shares >= 0.0 and shares < float("inf")):
        msg = (
            f"{path}, line {number}: '{_SHARES_LABEL}' {value!r} is not a "
            "non-negative number"
        )
        raise SourceFormatError(msg)
    return shares


def _table(path: Path, lines: list[str], header_at: int) -> pl.DataFrame:
    """The table as strings, with the file line number of each row."""
    header = next(csv.reader([lines[header_at]]))
    header = [name.strip() for name in header]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        msg = (
            f"{path}, line {header_at + 1}: table header lacks column(s) "
            f"{', '.join(missing)}; expected at least {', '.join(_REQUIRED)}"
        )
        raise SourceFormatError(msg)
    body: list[list[str]] = []
    numbers: list[int] = []
    ended = False
    for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        if not line.strip():  # the blank (NBSP) line before the footer
            ended = True
            break
        row = next(csv.reader([line]))
        if len(row) != len(header):
            msg = (
                f"{path}, line {number}: {len(row)} fields where the header has "
                f"{len(header)}; the table must end with a blank line before "
                "the disclaimer"
            )
            raise SourceFormatError(msg)
        body.append(row)
        numbers.append(number)
    if not ended:
        msg = (
            f"{path}, line {len(lines)}: the table runs to the end of the file with "
            "no blank line and disclaimer footer after it; the file looks "
            "truncated, download it again"
        )
        raise SourceFormatError(msg)
    _check_repeats(path, header, body, numbers)
    columns = {
        name: [row[index] for row in body]
        for index, name in enumerate(header)
        if name in _REQUIRED
    }
    return pl.DataFrame(
        {**columns, _LINE: numbers},
        schema={**dict.fromkeys(_REQUIRED, pl.String), _LINE: pl.Int64},
    )


def _check_repeats(
    path: Path, header: list[str], body: list[list[str]], numbers: list[int]
) -> None:
    """Warn (counted) about lines repeated field for field.

    Two lines for one ticker that differ are distinct positions (``ADRO``), kept.
    An identical repeat is most likely a copy error, so it is reported; the line
    is kept, as the fund file is the record.
    """
    seen: dict[tuple[str, ...], int] = {}
    repeats: list[tuple[int, int]] = []
    for number, row in zip(numbers, body, strict=True):
        key = tuple(row)
        if key in seen:
            repeats.append((number, seen[key]))
        else:
            seen[key] = number
    if repeats:
        number, first = repeats[0]
        ticker = body[numbers.index(number)][header.index("Ticker")]
        data_warning(
            f"{path}, line {number}: repeats line {first} field for field "
            f"(ticker {ticker!r}; {len(repeats)} repeated line(s)); both are kept, "
            "remove the copy if it is one"
        )


def _typed(path: Path, raw: pl.DataFrame) -> pl.DataFrame:
    """Strings to canonical types; "-" to null; numbers without separators."""

    def cleaned(name: str) -> pl.Expr:
        value = pl.col(name).str.strip_chars()
        return pl.when(value.is_in(["-", ""])).then(None).otherwise(value)

    numbers = {
        target: cleaned(source).str.replace_all(",", "").cast(pl.Float64, strict=False)
        for source, target in _NUMERIC_COLUMNS.items()
    }
    for source, target in _NUMERIC_COLUMNS.items():
        bad = raw.filter(cleaned(source).is_not_null() & numbers[target].is_null())
        if bad.height:
            line, value = bad.row(0, named=True)[_LINE], bad.row(0, named=True)[source]
            msg = (
                f"{path}, line {line}: column {source!r} holds {value!r}, which is "
                f"not a number ({bad.height} such line(s)); numbers look like "
                '"1,234.56" and "-" means none'
            )
            raise SourceFormatError(msg)
    frame = raw.select(
        *(cleaned(source).alias(target) for source, target in _STRING_COLUMNS.items()),
        *(expr.alias(target) for target, expr in numbers.items()),
        pl.col(_LINE),
    ).with_columns(security_id=normalize_ticker_expr("ticker"))
    for column, source in (
        ("price", "Price"),
        ("market_value", "Market Value"),
        ("weight_pct", "Weight (%)"),
        ("quantity", "Quantity"),
    ):
        bad = frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_finite())
        if bad.height:
            first = bad.row(0, named=True)
            msg = (
                f"{path}, line {first[_LINE]}: column {source!r} holds "
                f"{first[column]}, which is not a finite number ({bad.height} such "
                'line(s)); write a number like "1,234.56" or "-" for none'
            )
            raise SourceFormatError(msg)
    negative_price = frame.filter(pl.col("price") < 0)
    if negative_price.height:
        first = negative_price.row(0, named=True)
        msg = (
            f"{path}, line {first[_LINE]}: column 'Price' holds negative "
            f"{first['price']} for {first['ticker'] or first['name']!r} "
            f"({negative_price.height} such line(s)); prices must be >= 0"
        )
        raise SourceFormatError(msg)
    negative = frame.filter(pl.col("quantity") < 0)
    if negative.height:
        first = negative.row(0, named=True)
        msg = (
            f"{path}, line {first[_LINE]}: negative Quantity {first['quantity']} "
            f"for {first['ticker'] or first['name']!r} ({negative.height} such "
            "line(s)); holdings quantities must be >= 0"
        )
        raise SourceFormatError(msg)
    return frame.drop(_LINE)
