"""The SEC company-ticker map (CIK, ticker, exchange, name) as SEC_TICKERS.

``reference/sec_company_tickers.parquet`` is one snapshot of the SEC's
``company_tickers_exchange.json`` as shipped by edgartools: one row per ticker with
the issuer's zero-padded CIK, the exchange (``Nasdaq``, ``NYSE``, ``CBOE``, ``OTC``
or null) and the issuer name as registered (often upper case). Share classes and
preferreds use ``-`` (``BRK-B``, ``CMS-PB``); r2k adds the canonical
``security_id`` (``BRK.B``). It is a ticker directory, not a listing history: it
says nothing about when a ticker traded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.data.sources._files import read_parquet_columns
from r2k.errors import SourceFormatError
from r2k.schemas import SEC_TICKERS, check_schema
from r2k.tickers import normalize_ticker_expr

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["SEC_COLUMNS", "read_sec_tickers"]

SEC_COLUMNS: Final[tuple[str, ...]] = ("cik", "ticker", "exchange", "name")
"""Columns the SEC ticker file must have."""


def read_sec_tickers(path: Path) -> pl.DataFrame:
    """Read the SEC company-ticker Parquet file.

    Parameters
    ----------
    path
        ``reference/sec_company_tickers.parquet``.

    Returns
    -------
    pl.DataFrame
        A :data:`~r2k.schemas.SEC_TICKERS` frame in file order; ``cik`` is a
        10-digit zero-padded string.

    Raises
    ------
    SchemaError
        If a column is missing.
    SourceFormatError
        If the file is not Parquet, a ticker or CIK is empty or not numeric, or
        two rows share a canonical ticker.
    """
    source = str(path)
    raw = read_parquet_columns(path, SEC_COLUMNS)
    frame = raw.with_row_index("_row", offset=1).select(
        pl.col("_row"),
        cik=pl.col("cik").cast(pl.String).str.strip_chars().str.zfill(10),
        ticker=pl.col("ticker").cast(pl.String).str.strip_chars(),
        exchange=pl.col("exchange").cast(pl.String),
        name=pl.col("name").cast(pl.String),
    )
    bad = frame.filter(
        pl.col("ticker").is_null()
        | (pl.col("ticker") == "")
        | ~pl.col("cik").str.contains(r"^\d{10}$").fill_null(value=False)
    )
    if bad.height:
        first = bad.row(0, named=True)
        msg = (
            f"{source}, row {first['_row']}: ticker {first['ticker']!r} / cik "
            f"{first['cik']!r}: every row needs a ticker and a numeric CIK "
            f"({bad.height} such row(s))"
        )
        raise SourceFormatError(msg)
    frame = frame.with_columns(security_id=normalize_ticker_expr("ticker"))
    duplicated = frame.filter(pl.col("security_id").is_duplicated())
    if duplicated.height:
        first = duplicated.sort("security_id").row(0, named=True)
        msg = (
            f"{source}, row {first['_row']}: ticker {first['ticker']!r} "
            f"(security_id {first['security_id']}) appears {duplicated.height} "
            "times with the same canonical form; keep one row per ticker"
        )
        raise SourceFormatError(msg)
    return check_schema(frame, SEC_TICKERS, source=source)
