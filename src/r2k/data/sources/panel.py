"""The daily US equities market panel (Nasdaq screener history) as a MARKET frame.

The panel is one Parquet file with one row per (``asof_date``, ``symbol``)::

    asof_date  datetime (midnight)  the XNYS session whose close the row carries
    symbol     string               Nasdaq symbol: "MOG/A" for classes, "JPM^D" for
                                    preferreds
    name       string               security name with its type ("... Common Stock")
    price      float                close of ``asof_date`` (raw, unadjusted)
    market_cap float                Nasdaq total market cap; 0 or empty = unknown
    volume     int                  shares traded
    industry   categorical          Nasdaq sector ("Technology", "Finance", ...)

It is *not* a price history with OHLC, float, dividends or adjustments, and it
leaves out US-listed companies domiciled abroad. r2k reads it into
:data:`r2k.schemas.MARKET`:

* ``session`` = ``asof_date`` as a date; every session must be an XNYS session;
* ``security_id`` = the canonical ticker (``"MOG/A"`` -> ``"MOG.A"``);
* ``close`` = ``price``; a non-positive or non-finite price is set to null with a
  :class:`~r2k.errors.DataQualityWarning` (the real file has none);
* ``total_market_cap`` = ``market_cap``; ``0`` is the screener's "not reported"
  (96,946 rows of 1,068 symbols in the real file: SPACs, funds, warrants, and some
  listed companies on some days) and becomes null; a negative cap is an error;
* ``shares_outstanding`` = ``total_market_cap / close`` (null if either is null);
* ``sector`` = ``industry`` as a string.

Exactly repeated rows are dropped with a warning; two different rows for one
(session, security) are an error. A file named ``<NAME>_<FIRST>_<LAST>.parquet``
(as the real one is) must hold only sessions from ``FIRST`` to ``LAST``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.data.sources._files import read_parquet_columns
from r2k.data.sources.quality import data_warning
from r2k.errors import (
    MissingDataError,
    SchemaError,
    SourceFormatError,
)
from r2k.schemas import MARKET, check_schema
from r2k.sessions import is_session, next_session, previous_session
from r2k.tickers import normalize_ticker_expr

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["PANEL_COLUMNS", "as_of", "cross_section", "read_market_panel"]

_LOG = logging.getLogger(__name__)

PANEL_COLUMNS: Final[tuple[str, ...]] = (
    "asof_date",
    "symbol",
    "name",
    "price",
    "market_cap",
    "volume",
    "industry",
)
"""Columns the panel file must have."""


def read_market_panel(path: Path) -> pl.DataFrame:
    """Read the market panel Parquet file into a :data:`~r2k.schemas.MARKET` frame.

    Parameters
    ----------
    path
        The panel, e.g. ``market/us_equities_daily_2025-12-26_2026-07-22.parquet``.

    Returns
    -------
    pl.DataFrame
        One row per (session, security_id), sorted by session then security_id.

    Raises
    ------
    SchemaError
        If a column is missing or has a type that cannot be read, or a value does
        not convert to its column's type (the row is named).
    SourceFormatError
        If the file is not Parquet or holds no rows, a symbol is empty, a date is
        not an XNYS session (or not at midnight, or after today, or outside the
        range a name like ``..._2025-12-26_2026-07-22.parquet`` states), a market
        cap is negative or not finite, a volume is negative, or two different rows
        exist for one (session, security_id).

    Warns
    -----
    DataQualityWarning
        When non-positive or non-finite prices are set to null, or exact duplicate
        rows are dropped.
    """
    source = str(path)
    raw = read_parquet_columns(path, PANEL_COLUMNS)
    frame = _canonical(source, raw)
    _check_sessions(source, frame)
    _check_stated_range(path, frame)
    frame = _repair_prices(source, frame)
    _check_caps(source, frame)
    _check_finite_caps(source, frame)
    frame = _deduplicate(source, _unknown_caps(source, frame))
    frame = frame.with_columns(
        shares_outstanding=pl.col("total_market_cap") / pl.col("close")
    ).sort("session", "security_id")
    return check_schema(frame, MARKET, source=source)


def _canonical(source: str, raw: pl.DataFrame) -> pl.DataFrame:
    dtype = raw.schema["asof_date"]
    if isinstance(dtype, pl.Datetime):
        off_midnight = raw.with_row_index("_row", offset=1).filter(
            pl.col("asof_date").dt.time() != pl.time(0)
        )
        if off_midnight.height:
            value = off_midnight.item(0, "asof_date")
            msg = (
                f"{source}, row {off_midnight.item(0, '_row')}, column "
                f"'asof_date': {value} is not at midnight ({off_midnight.height} "
                "row(s)); asof_date must name a session"
            )
            raise SourceFormatError(msg)
    elif dtype != pl.Date:
        msg = f"{source}: column 'asof_date' has type {dtype}; expected a date"
        raise SchemaError(msg)
    if raw.height == 0:
        msg = f"{source}: the panel holds no rows; copy the file again"
        raise SourceFormatError(msg)
    typed = {
        column: _cast(source, raw, column, dtype)
        for column, dtype in (
            ("asof_date", pl.Date()),
            ("symbol", pl.String()),
            ("name", pl.String()),
            ("price", pl.Float64()),
            ("volume", pl.Int64()),
            ("market_cap", pl.Float64()),
            ("industry", pl.String()),
        )
    }
    symbol = typed["symbol"].str.strip_chars()
    blank = (symbol.is_null() | (symbol == "")).arg_true()
    if blank.len():
        msg = (
            f"{source}, row {blank[0] + 1}, column 'symbol': empty ({blank.len()} "
            "row(s)); every row needs the symbol it prices"
        )
        raise SourceFormatError(msg)
    return pl.DataFrame(
        {
            "session": typed["asof_date"],
            "security_id": typed["symbol"]
            .to_frame()
            .select(normalize_ticker_expr("symbol"))
            .to_series(),
            "name": typed["name"],
            "close": typed["price"],
            "volume": typed["volume"],
            "total_market_cap": typed["market_cap"],
            "sector": typed["industry"],
            "symbol": typed["symbol"],
        }
    )


def _cast(source: str, raw: pl.DataFrame, column: str, dtype: pl.DataType) -> pl.Series:
    """``column`` as ``dtype``; a value that does not convert is an error naming it."""
    values = raw.get_column(column)
    try:
        cast = values.cast(dtype, strict=False)
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        msg = (
            f"{source}: column {column!r} has type {values.dtype}, which r2k cannot "
            f"read as {dtype}; write the column as {dtype}"
        )
        raise SchemaError(msg) from None
    lost = (values.is_not_null() & cast.is_null()).arg_true()
    if lost.len():
        row = int(lost[0])
        msg = (
            f"{source}, row {row + 1}, column {column!r}: {values[row]!r} is not "
            f"a {dtype} value ({lost.len()} row(s)); write the column as {dtype}"
        )
        raise SchemaError(msg)
    return cast.alias(column)


def _check_sessions(source: str, frame: pl.DataFrame) -> None:
    numbered = frame.with_row_index("_row", offset=1)
    empty = numbered.filter(pl.col("session").is_null())
    if empty.height:
        msg = (
            f"{source}, row {empty.item(0, '_row')}, column 'asof_date': empty "
            f"({empty.height} row(s)); every row needs a session"
        )
        raise SourceFormatError(msg)
    today = datetime.now(UTC).date()
    future = numbered.filter(pl.col("session") > today)
    if future.height:
        msg = (
            f"{source}, row {future.item(0, '_row')}, column 'asof_date': "
            f"{future.item(0, 'session')} is after today ({today}) "
            f"({future.height} row(s)); the panel cannot hold future closes"
        )
        raise SourceFormatError(msg)
    days = frame.get_column("session").unique().sort().to_list()
    bad = [day for day in days if not is_session(day)]
    if bad:
        shown = ", ".join(str(day) for day in bad[:5])
        row = numbered.filter(pl.col("session") == bad[0]).item(0, "_row")
        msg = (
            f"{source}, row {row}, column 'asof_date': {len(bad)} asof_date "
            "value(s) are not XNYS sessions "
            f"(first: {shown}); the panel must hold one cross-section per session"
        )
        raise SourceFormatError(msg)


_STATED_RANGE = re.compile(r"_(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})$")


def _check_stated_range(path: Path, frame: pl.DataFrame) -> None:
    """Rows must lie in the range a name like ``..._<FIRST>_<LAST>.parquet`` states.

    The real panel is ``us_equities_daily_2025-12-26_2026-07-22.parquet``: a row
    dated after its stated last session (or before its first) means the file
    was edited or mislabelled. A name without two dates states nothing.
    """
    found = _STATED_RANGE.search(path.stem)
    if found is None:
        return
    try:
        first, last = (date.fromisoformat(part) for part in found.groups())
    except ValueError:
        msg = (
            f"{path}: the file name states the range {found.group(1)} .. "
            f"{found.group(2)}, which holds an impossible date; rename the file "
            "<NAME>_<FIRST>_<LAST>.parquet after its first and last sessions"
        )
        raise SourceFormatError(msg) from None
    outside = frame.with_row_index("_row", offset=1).filter(
        (pl.col("session") < first) | (pl.col("session") > last)
    )
    if outside.height:
        row = outside.row(0, named=True)
        where = "after its stated last" if row["session"] > last else "before its first"
        msg = (
            f"{path}, row {row['_row']}, column 'asof_date': {row['session']} is "
            f"{where} session ({first} .. {last}, from the file name) "
            f"({outside.height} row(s)); rename the file after the sessions it "
            "holds, or drop the rows"
        )
        raise SourceFormatError(msg)


def _repair_prices(source: str, frame: pl.DataFrame) -> pl.DataFrame:
    bad_price = pl.col("close").is_not_null() & ~(
        pl.col("close").is_finite() & (pl.col("close") > 0)
    )
    count = frame.select(bad_price.sum()).item()
    if count:
        row = (
            frame.with_row_index("_row", offset=1).filter(bad_price).row(0, named=True)
        )
        data_warning(
            f"{source}, row {row['_row']}, column 'price': set {count} non-positive "
            f"or non-finite price(s) to null (first: {row['close']} for symbol "
            f"{row['symbol']!r} on {row['session']}); close, and so "
            "shares_outstanding, are unknown on those rows"
        )
        frame = frame.with_columns(
            close=pl.when(bad_price).then(None).otherwise(pl.col("close"))
        )
    return frame


def _check_caps(source: str, frame: pl.DataFrame) -> None:
    for column, label in (("total_market_cap", "market_cap"), ("volume", "volume")):
        negative = frame.with_row_index("_row", offset=1).filter(pl.col(column) < 0)
        if negative.height:
            first = negative.row(0, named=True)
            msg = (
                f"{source}, row {first['_row']}, column {label!r}: negative "
                f"{label} {first[column]} for symbol "
                f"{first['symbol']!r} on {first['session']} ({negative.height} "
                f"row(s)); {label} must be >= 0"
            )
            raise SourceFormatError(msg)


def _check_finite_caps(source: str, frame: pl.DataFrame) -> None:
    """A NaN or infinite market cap is an error (row = 1-based Parquet row)."""
    bad = frame.with_row_index("_row", offset=1).filter(
        pl.col("total_market_cap").is_not_null()
        & ~pl.col("total_market_cap").is_finite()
    )
    if bad.height:
        first = bad.row(0, named=True)
        msg = (
            f"{source}, row {first['_row']}, column 'market_cap': "
            f"{first['total_market_cap']} for symbol {first['symbol']!r} on "
            f"{first['session']} is not a finite number ({bad.height} row(s)); "
            "write the cap, or 0 or null for not reported"
        )
        raise SourceFormatError(msg)


def _unknown_caps(source: str, frame: pl.DataFrame) -> pl.DataFrame:
    """A zero market cap is the screener's "not reported": read it as null."""
    zero = pl.col("total_market_cap") == 0
    count = frame.select(zero.sum()).item()
    if count:
        _LOG.info("%s: %d zero market caps read as unknown (null)", source, count)
    return frame.with_columns(
        total_market_cap=pl.when(zero).then(None).otherwise(pl.col("total_market_cap"))
    )


def _deduplicate(source: str, frame: pl.DataFrame) -> pl.DataFrame:
    key = pl.struct("session", "security_id")
    if not frame.select(key.is_duplicated().any()).item():
        return frame.drop("symbol")
    duplicated = frame.filter(key.is_duplicated())
    distinct = duplicated.unique()
    conflicting = distinct.filter(pl.struct("session", "security_id").is_duplicated())
    if conflicting.height:
        first = conflicting.sort("session", "security_id").row(0, named=True)
        rows = (
            frame.with_row_index("_row", offset=1)
            .filter(
                (pl.col("session") == first["session"])
                & (pl.col("security_id") == first["security_id"])
            )
            .get_column("_row")
            .to_list()
        )
        msg = (
            f"{source}, rows {', '.join(str(r) for r in rows[:5])}: "
            f"{conflicting.height} conflicting rows share a (session, "
            f"security_id); first: symbol {first['symbol']!r} on {first['session']} "
            f"appears with different values; keep one row per symbol and session"
        )
        raise SourceFormatError(msg)
    dropped = duplicated.height - distinct.height
    first = (
        frame.with_row_index("_row", offset=1)
        .filter(~pl.struct(pl.all().exclude("_row")).is_first_distinct())
        .row(0, named=True)
    )
    data_warning(
        f"{source}, row {first['_row']}: dropped {dropped} exact duplicate row(s) "
        f"(first: symbol {first['symbol']!r} on {first['session']}); each "
        "(session, symbol) should appear once"
    )
    return frame.unique(maintain_order=True).drop("symbol")


def cross_section(panel: pl.DataFrame, session: date) -> pl.DataFrame:
    """Return the rows of one session of a MARKET frame.

    Raises
    ------
    MissingDataError
        If the panel has no row for ``session``; the message names the nearest
        sessions the panel does have.
    """
    rows = panel.filter(pl.col("session") == session)
    if rows.height:
        return rows
    sessions = panel.get_column("session").unique().sort()
    before = sessions.filter(sessions < session)
    after = sessions.filter(sessions > session)
    nearest = []
    if before.len():
        nearest.append(f"previous {before[-1]}")
    if after.len():
        nearest.append(f"next {after[0]}")
    hint = f"; nearest sessions in the panel: {', '.join(nearest)}" if nearest else ""
    calendar_hint = _calendar_hint(session)
    msg = f"the market panel has no rows for {session}{calendar_hint}{hint}"
    raise MissingDataError(msg)


def _calendar_hint(day: date) -> str:
    try:
        if is_session(day):
            return ""
        return (
            f" (not an XNYS session: sessions around it are "
            f"{previous_session(day)} and {next_session(day)})"
        )
    except MissingDataError:
        return ""


def as_of(panel: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Return the rows known at the close of ``as_of`` (``session <= as_of``).

    This is the point-in-time filter: no row of a later session can leak into a
    computation made as of ``as_of``.

    Raises
    ------
    MissingDataError
        If the panel has no session on or before ``as_of``.
    """
    rows = panel.filter(pl.col("session") <= as_of)
    if rows.height == 0:
        first = panel.select(pl.col("session").min()).item()
        msg = (
            f"the market panel has no session on or before {as_of} "
            f"(its first session is {first}); pass a later as-of date"
        )
        raise MissingDataError(msg)
    return rows
