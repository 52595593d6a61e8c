"""S&P 600 / S&P 500 constituent table (pytickersymbols) as a reference frame.

``reference/sp600_sp500_constituents.csv`` is one undated snapshot::

    index,name,symbol,yahoo_symbols,industries,country
    S&P 600,Acadian Asset Management,AAMI,AAMI,Financials;Investment Management,
        "Boston, Massachusetts"          (one line in the file)

``industries`` is a ``;``-separated, alphabetised list that mixes GICS sectors with
free-text industries; every row holds one or two GICS sector names. ``country``
is in fact the headquarters location ("City, State" for US companies, "City,
Country" otherwise). It is a convenience list for comparisons, not an index
constituent file with weights or dates.

r2k reads it into :data:`SP_CONSTITUENTS`:

* ``sector``: the GICS sector among ``industries``; where two appear (17 rows:
  utilities tagged Energy too, REITs tagged Financials too, ...) the one first in
  :data:`SECTOR_PRECEDENCE`, an order chosen so that each such row gets its current
  GICS sector;
* ``country``: ``"United States"`` when the last part of the location is a US state
  or D.C., else that last part (``"Ireland"``, ``"Puerto Rico"``); null for
  ``"none"``; ``headquarters`` keeps the location as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.data.sources._files import read_csv_columns
from r2k.errors import SourceFormatError
from r2k.schemas import check_schema
from r2k.tickers import normalize_ticker_expr

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "GICS_SECTORS",
    "SECTOR_PRECEDENCE",
    "SP_CONSTITUENTS",
    "read_sp_constituents",
]

SP_CONSTITUENTS: Final = pl.Schema(
    {
        "index": pl.String(),  # "S&P 600" or "S&P 500"
        "name": pl.String(),
        "security_id": pl.String(),
        "industries": pl.List(pl.String()),
        "sector": pl.String(),  # GICS sector
        "country": pl.String(),
        "headquarters": pl.String(),
    }
)
"""Columns of :func:`read_sp_constituents` (not a canonical r2k frame)."""

GICS_SECTORS: Final[frozenset[str]] = frozenset(
    {
        "Communication Services",
        "Consumer Discretionary",
        "Consumer Staples",
        "Energy",
        "Financials",
        "Health Care",
        "Industrials",
        "Information Technology",
        "Materials",
        "Real Estate",
        "Utilities",
    }
)
"""The eleven GICS sectors."""

SECTOR_PRECEDENCE: Final[tuple[str, ...]] = (
    "Health Care",
    "Real Estate",
    "Consumer Discretionary",
    "Financials",
    "Utilities",
    "Industrials",
    "Information Technology",
    "Communication Services",
    "Consumer Staples",
    "Materials",
    "Energy",
)
"""Tie-break when a row lists two GICS sectors: the earlier one wins."""

_US_STATES: Final[frozenset[str]] = frozenset(
    {
        "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado",
        "Connecticut", "Delaware", "Florida", "Georgia", "Hawaii", "Idaho",
        "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
        "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi",
        "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey",
        "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
        "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina",
        "South Dakota", "Tennessee", "Texas", "Utah", "Vermont", "Virginia",
        "Washington", "West Virginia", "Wisconsin", "Wyoming", "D.C.",
        "District of Columbia", "Washington, D.C.",
    }
)  # fmt: skip

_COLUMNS: Final[tuple[str, ...]] = ("index", "name", "symbol", "industries", "country")


def read_sp_constituents(path: Path) -> pl.DataFrame:
    """Read the S&P 600 / S&P 500 constituent CSV.

    Parameters
    ----------
    path
        ``reference/sp600_sp500_constituents.csv``.

    Returns
    -------
    pl.DataFrame
        A frame with the columns of :data:`SP_CONSTITUENTS`, in file order.

    Raises
    ------
    SourceFormatError
        If the file cannot be read, a column is missing, a row has no symbol or no
        GICS sector among its industries, or a symbol repeats within an index. The
        message names the file and line.
    """
    raw = read_csv_columns(path, _COLUMNS)
    # Line 1 is the header; data rows carry embedded quotes but no line breaks.
    frame = raw.with_row_index("_line", offset=2).select(
        pl.col("_line"),
        pl.col("index").str.strip_chars(),
        pl.col("name").str.strip_chars(),
        security_id=normalize_ticker_expr("symbol"),
        industries=pl.col("industries")
        .fill_null("")
        .str.split(";")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != "")),
        headquarters=pl.col("country").str.strip_chars(),
    )
    frame = frame.with_columns(sector=_sector_expr(), country=_country_expr())
    _check(path, frame)
    return check_schema(frame, SP_CONSTITUENTS, source=str(path))


def _sector_expr() -> pl.Expr:
    chain: pl.Expr = pl.lit(None, pl.String)
    for sector in reversed(SECTOR_PRECEDENCE):
        has = pl.col("industries").list.contains(sector)
        chain = pl.when(has).then(pl.lit(sector)).otherwise(chain)
    return chain


def _country_expr() -> pl.Expr:
    last = pl.col("headquarters").str.split(",").list.last().str.strip_chars()
    return (
        pl.when(last.is_in(list(_US_STATES)))
        .then(pl.lit("United States"))
        .when(last.str.to_lowercase().is_in(["", "none", "n/a"]) | last.is_null())
        .then(pl.lit(None, pl.String))
        .otherwise(last)
    )


def _check(path: Path, frame: pl.DataFrame) -> None:
    problems = (
        (
            pl.col("security_id").is_null() | (pl.col("security_id") == ""),
            "no symbol",
        ),
        (pl.col("sector").is_null(), "no GICS sector among its industries"),
        (pl.struct("index", "security_id").is_duplicated(), "a repeated symbol"),
    )
    for condition, problem in problems:
        bad = frame.filter(condition)
        if bad.height:
            first = bad.row(0, named=True)
            msg = (
                f"{path}, line {first['_line']}: {first['index']} row "
                f"{first['security_id']!r} ({first['name']}) has {problem} "
                f"({bad.height} such row(s))"
            )
            raise SourceFormatError(msg)
