"""A simulated fund's holdings as a file in the iShares layout.

The layout is that of the iShares "Detailed Holdings and Analytics" CSV
downloads that :func:`r2k.data.sources.ishares.read_holdings` reads (a title
line, a preamble with "Fund Holdings as of" and "Shares Outstanding", a blank
line, the table, a blank line, a footer), so ``read_holdings`` reads a simulated
fund's file back (tests check the round trip)::

    <BOM>r2k simulated fund: Russell 2000, full replication
    Fund Holdings as of,"Jun 26, 2026"
    Inception Date,"Jan 02, 2026"
    Shares Outstanding,"10,000,000.00"
    Stock,"-"
    ...
    <NBSP>
    Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,...
    "BE","BLOOM ENERGY CORP","Industrials","Equity","1,860,855.47","1.18",...
    ...
    "USD","USD CASH","Cash and/or Derivatives","Cash","68,187.63","0.01",...
    <NBSP>
    "Simulated by r2k from its own index calculation; not an iShares file."

Numbers have thousands separators and two decimals (weights in percent);
unknown text is ``"-"``. Lines are in descending market value, the cash line
after the equities (as iShares places it among the other non-equity lines).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Final

import polars as pl

if TYPE_CHECKING:
    from datetime import date

__all__ = ["HOLDINGS_HEADER", "holdings_csv", "holdings_file_name"]

HOLDINGS_HEADER: Final = (
    "Ticker",
    "Name",
    "Sector",
    "Asset Class",
    "Market Value",
    "Weight (%)",
    "Notional Value",
    "Quantity",
    "Price",
    "Location",
    "Exchange",
    "Currency",
    "FX Rate",
    "Market Currency",
    "Accrual Date",
)
"""The table header of an iShares holdings download."""

_NBSP: Final = "\u00a0"
_FOOTER: Final = "Simulated by r2k from its own index calculation; not an iShares file."
_CASH_SECTOR: Final = "Cash and/or Derivatives"


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _day(value: date) -> str:
    return value.strftime("%b %d, %Y")


def holdings_file_name(fund: str, as_of: date) -> str:
    """``<FUND>_<YYYY-MM-DD>.csv``, the name the iShares reader expects."""
    return f"{fund}_{as_of.isoformat()}.csv"


def holdings_csv(
    *,
    title: str,
    as_of: date,
    inception: date,
    units: float,
    lines: pl.DataFrame,
    cash: float,
) -> bytes:
    """The holdings file as bytes (UTF-8 with a BOM, as iShares writes it).

    Parameters
    ----------
    title
        The first line (the fund's name).
    as_of
        "Fund Holdings as of".
    inception
        "Inception Date" (the simulation's start).
    units
        "Shares Outstanding": the fund's units.
    lines
        ``ticker``, ``name``, ``sector``, ``quantity``, ``price`` per equity line.
    cash
        Cash in USD (one "USD CASH" line).
    """
    frame = lines.with_columns(market_value=pl.col("quantity") * pl.col("price"))
    total = float(frame["market_value"].sum()) + cash
    frame = frame.sort("market_value", "ticker", descending=[True, False])
    buffer = io.StringIO()
    buffer.write("\ufeff" + title + "\n")
    preamble = (
        ("Fund Holdings as of", _day(as_of)),
        ("Inception Date", _day(inception)),
        ("Shares Outstanding", _money(units)),
        ("Stock", "-"),
        ("Bond", "-"),
        ("Cash", "-"),
        ("Other", "-"),
    )
    for label, value in preamble:
        buffer.write(f'{label},"{value}"\n')
    buffer.write(_NBSP + "\n")
    buffer.write(",".join(HOLDINGS_HEADER) + "\n")
    quoted = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")

    def weight(value: float) -> str:
        return f"{100.0 * value / total:,.2f}" if total else "0.00"

    for row in frame.iter_rows(named=True):
        mv = float(row["market_value"])
        quoted.writerow(
            [
                row["ticker"],
                row["name"] or "-",
                row["sector"] or "-",
                "Equity",
                _money(mv),
                weight(mv),
                _money(mv),
                _money(float(row["quantity"])),
                _money(float(row["price"])),
                "-",
                "-",
                "USD",
                "1.00",
                "USD",
                "-",
            ]
        )
    quoted.writerow(
        [
            "USD",
            "USD CASH",
            _CASH_SECTOR,
            "Cash",
            _money(cash),
            weight(cash),
            _money(cash),
            _money(cash),
            "100.00",
            "United States",
            "-",
            "USD",
            "1.00",
            "USD",
            "-",
        ]
    )
    buffer.write(_NBSP + "\n")
    buffer.write(f'"{_FOOTER}"\n')
    return buffer.getvalue().encode("utf-8")
