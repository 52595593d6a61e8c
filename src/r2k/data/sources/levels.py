"""Daily index levels (RUT, RUA, SPX) as canonical INDEX_LEVELS frames.

The files are plain CSVs with a header line and one row per session::

    indices/RUT_daily.csv               date,open,high,low,close,volume,source
    indices/RUA_russell3000_daily.csv   date,open,high,low,close
    indices/SPX_daily.csv               date,open,high,low,close,source

They are price indices only (no total-return series). r2k keeps ``date`` (as
``session``) and the OHLC columns; ``volume`` and ``source`` are not part of
:data:`r2k.schemas.INDEX_LEVELS`. Dates must be ISO dates, strictly increasing (sorted,
no repeats), sessions only (no weekend, holiday or future date); closes must be
positive numbers; open/high/low may be empty; a high is never below the low, and
open and close lie between them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.data.sources._files import read_csv_columns
from r2k.errors import SourceFormatError
from r2k.schemas import INDEX_LEVELS, check_schema
from r2k.sessions import CALENDAR_END, CALENDAR_START, is_session

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["LEVEL_COLUMNS", "read_index_levels"]

LEVEL_COLUMNS: Final[tuple[str, ...]] = ("date", "open", "high", "low", "close")
"""Columns every index-level file must have."""

_PRICES = ("open", "high", "low", "close")
_LINE = "_line"


def read_index_levels(path: Path, index: str) -> pl.DataFrame:
    """Read a daily index-level CSV.

    Parameters
    ----------
    path
        The CSV file, e.g. ``indices/RUT_daily.csv``.
    index
        The index code written into the ``index`` column (``"RUT"``, ``"RUA"``,
        ``"SPX"``); upper-cased.

    Returns
    -------
    pl.DataFrame
        A :data:`~r2k.schemas.INDEX_LEVELS` frame, one row per session, ascending.

    Raises
    ------
    SourceFormatError
        If ``index`` is empty, the file cannot be read as CSV, a column is missing,
        a line has more or fewer fields than the header, a date or price cannot be
        read, a close is missing or not positive, a high is below the low or an
        open or close outside them, a date is not a session (weekend, holiday,
        future), or the dates are not strictly increasing. The message names the
        file and line.
    """
    code = index.strip().upper()
    if not code:
        msg = f"{path}: empty index code; pass 'RUT', 'RUA' or 'SPX'"
        raise SourceFormatError(msg)
    raw = read_csv_columns(path, LEVEL_COLUMNS)
    # Line 1 is the header, so data row i (0-based) is on line i + 2.
    raw = raw.with_row_index(_LINE, offset=2).with_columns(pl.col(_LINE).cast(pl.Int64))
    frame = raw.select(
        pl.col(_LINE),
        pl.lit(code).alias("index"),
        _cleaned("date").str.to_date("%Y-%m-%d", strict=False).alias("session"),
        *(
            _cleaned(name).cast(pl.Float64, strict=False).alias(name)
            for name in _PRICES
        ),
    )
    _check_parsed(path, raw, frame)
    _check_closes(path, frame)
    _check_prices(path, frame)
    _check_range(path, frame)
    _check_dates(path, frame)
    _check_order(path, frame)
    return check_schema(frame, INDEX_LEVELS, source=str(path))


def _cleaned(name: str) -> pl.Expr:
    value = pl.col(name).str.strip_chars()
    return pl.when(value.is_in(["", "null", "NaN", "nan"])).then(None).otherwise(value)


def _fail(path: Path, frame: pl.DataFrame, problem: str, how: str) -> None:
    line = frame.item(0, _LINE)
    msg = f"{path}, line {line}: {problem} ({frame.height} such line(s)); {how}"
    raise SourceFormatError(msg)


def _check_parsed(path: Path, raw: pl.DataFrame, frame: pl.DataFrame) -> None:
    joined = pl.concat(
        [raw.select(pl.all().name.prefix("raw_")), frame], how="horizontal"
    )
    bad_date = joined.filter(pl.col("session").is_null())
    if bad_date.height:
        value = bad_date.item(0, "raw_date")
        _fail(path, bad_date, f"date {value!r} is not a date", "write YYYY-MM-DD")
    for name in _PRICES:
        bad = joined.filter(
            _cleaned(f"raw_{name}").is_not_null() & pl.col(name).is_null()
        )
        if bad.height:
            value = bad.item(0, f"raw_{name}")
            _fail(path, bad, f"column {name!r} holds {value!r}", "write a number")


def _check_closes(path: Path, frame: pl.DataFrame) -> None:
    bad = frame.filter(
        pl.col("close").is_null()
        | ~pl.col("close").is_finite()
        | (pl.col("close") <= 0)
    )
    if bad.height:
        _fail(
            path,
            bad,
            f"close {bad.item(0, 'close')} is missing or not positive",
            "every row needs a positive close; drop the row if the level is unknown",
        )


def _check_prices(path: Path, frame: pl.DataFrame) -> None:
    for name in ("open", "high", "low"):
        bad = frame.filter(
            pl.col(name).is_not_null()
            & (~pl.col(name).is_finite() | (pl.col(name) <= 0))
        )
        if bad.height:
            _fail(
                path,
                bad,
                f"column {name!r} holds {bad.item(0, name)}, not a positive number",
                "write a positive level or leave the cell empty",
            )


def _check_range(path: Path, frame: pl.DataFrame) -> None:
    """The day's high is at least its low, and the open and close lie between.

    A cell only where given (open/high/low may be empty); the real files hold
    no exception.
    """
    high, low = pl.col("high"), pl.col("low")
    checks = (
        (high < low, "high {high} is below low {low}"),
        (
            (pl.col("close") > high) | (pl.col("close") < low),
            "close {close} is outside the day's range {low} .. {high}",
        ),
        (
            (pl.col("open") > high) | (pl.col("open") < low),
            "open {open} is outside the day's range {low} .. {high}",
        ),
    )
    for condition, problem in checks:
        bad = frame.filter(condition.fill_null(value=False))
        if bad.height:
            _fail(
                path,
                bad,
                problem.format(**bad.row(0, named=True)),
                "fix the prices of the row (a column may be shifted) or drop it",
            )


def _check_dates(path: Path, frame: pl.DataFrame) -> None:
    today = datetime.now(UTC).date()
    future = frame.filter(pl.col("session") > today)
    if future.height:
        _fail(
            path,
            future,
            f"column 'date' holds {future.item(0, 'session')}, after today ({today})",
            "index levels cannot be dated in the future; fix the date or drop the row",
        )
    weekend = frame.filter(pl.col("session").dt.weekday() > 5)
    if weekend.height:
        _fail(
            path,
            weekend,
            f"column 'date' holds {weekend.item(0, 'session')}, a weekend day "
            "(not a session)",
            "index levels exist only on sessions; fix the date or drop the row",
        )
    covered = frame.filter(
        pl.col("session").is_between(CALENDAR_START, CALENDAR_END)
        & (pl.col("session").dt.weekday() <= 5)
    )
    days = covered.get_column("session").unique()
    closed = [day for day in days.to_list() if not is_session(day)]
    if closed:
        holiday = covered.filter(pl.col("session").is_in(closed))
        _fail(
            path,
            holiday,
            f"column 'date' holds {holiday.item(0, 'session')}, a weekday XNYS "
            "did not trade (a holiday or closure, not a session)",
            "index levels exist only on sessions; fix the date or drop the row",
        )


def _check_order(path: Path, frame: pl.DataFrame) -> None:
    bad = frame.filter(pl.col("session") <= pl.col("session").shift(1))
    if bad.height:
        _fail(
            path,
            bad,
            f"date {bad.item(0, 'session')} does not follow the previous date",
            "dates must be sorted ascending without repeats",
        )
