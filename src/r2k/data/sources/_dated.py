"""Reading a dated CSV of numeric series (rates, FX): one row per date, checked.

Shared by :mod:`r2k.data.sources.rates` and :mod:`r2k.data.sources.fx`. The
file is a header line, then ``date,<series>...`` rows:

* ``date`` is an ISO date (``YYYY-MM-DD``), strictly increasing (sorted, no
  repeats);
* a series cell is a number, or empty where the series has no value that day
  (FRED's ``.`` and the words ``NaN``/``null`` also mean empty);
* a number must be finite, within ``bounds`` when given, and strictly positive
  when ``positive`` (exchange rates, index levels).

Every failure is a :class:`~r2k.errors.SourceFormatError` naming the file, the
line (the header is line 1), the column and the value, and saying how to fix it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.data.sources._files import read_csv_columns
from r2k.errors import SourceFormatError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["MISSING_MARKERS", "read_dated_csv"]

MISSING_MARKERS: Final[tuple[str, ...]] = ("", ".", "NaN", "nan", "null", "NA")
"""Cell texts read as "no value that day"."""

_LINE: Final = "_line"


def _cleaned(name: str) -> pl.Expr:
    value = pl.col(name).str.strip_chars()
    return pl.when(value.is_in(list(MISSING_MARKERS))).then(None).otherwise(value)


def _fail(path: Path, line: int, problem: str, how: str, count: int = 1) -> None:
    more = f" ({count} such line(s))" if count > 1 else ""
    msg = f"{path}, line {line}: {problem}{more}; {how}"
    raise SourceFormatError(msg)


def read_dated_csv(
    path: Path,
    columns: Sequence[str] | None,
    *,
    bounds: tuple[float, float] | None = None,
    positive: bool = False,
    unit: str = "",
) -> pl.DataFrame:
    """Read ``date`` and numeric ``columns`` from a dated CSV, checking every cell.

    Parameters
    ----------
    path : Path
        The CSV file.
    columns : sequence of str, optional
        Series the header must have; ``None`` reads every column but ``date``.
    bounds : (float, float), optional
        Inclusive range every value must lie in (a guard against a unit or
        parsing error, e.g. ``(-5, 30)`` for rates in percent).
    positive : bool, default False
        Require every value to be strictly positive.
    unit : str, default ""
        Unit of the values, named in error messages (``"percent"``).

    Returns
    -------
    pl.DataFrame
        ``date`` (Date) and one ``Float64`` column per series, in file order,
        null where the cell is empty.

    Raises
    ------
    SourceFormatError
        If the file cannot be read as CSV, the header lacks a column, a date or
        a value cannot be read, a value is out of bounds or not positive, or the
        dates are not strictly increasing.
    """
    if columns is not None:
        raw = read_csv_columns(path, ["date", *columns])
        names = list(columns)
    else:
        raw = read_csv_columns(path, ["date"])
        names = [c for c in raw.columns if c != "date"]
        if not names:
            _fail(path, 1, "the header names no series besides 'date'", "add one")
    if raw.height == 0:
        _fail(path, 2, "the file has a header but no rows", "add the data rows")
    raw = raw.with_row_index(_LINE, offset=2).with_columns(pl.col(_LINE).cast(pl.Int64))
    frame = raw.select(
        pl.col(_LINE),
        _cleaned("date").str.to_date("%Y-%m-%d", strict=False).alias("date"),
        *(_cleaned(n).cast(pl.Float64, strict=False).alias(n) for n in names),
    )
    bad = frame.filter(pl.col("date").is_null())
    if bad.height:
        line = bad.item(0, _LINE)
        value = raw.filter(pl.col(_LINE) == line).item(0, "date")
        _fail(
            path,
            line,
            f"column 'date' holds {value!r}, not a date",
            "write dates as YYYY-MM-DD",
            bad.height,
        )
    today = datetime.now(UTC).date()
    future = frame.filter(pl.col("date") > today)
    if future.height:
        _fail(
            path,
            future.item(0, _LINE),
            f"column 'date' holds {future.item(0, 'date')}, after today ({today})",
            "a daily series cannot hold future values; fix the date or drop the row",
            future.height,
        )
    order = frame.filter(pl.col("date") <= pl.col("date").shift(1))
    if order.height:
        _fail(
            path,
            order.item(0, _LINE),
            f"date {order.item(0, 'date')} does not follow the previous date",
            "dates must be sorted ascending without repeats",
            order.height,
        )
    what = f" {unit}" if unit else ""
    for name in names:
        text = raw.get_column(name)
        value = frame.get_column(name)
        present = raw.select(_cleaned(name).is_not_null()).to_series()
        flags = present & value.is_null()
        if flags.any():
            pos = int(flags.arg_true()[0])
            _fail(
                path,
                int(raw.item(pos, _LINE)),
                f"column {name!r} holds {text[pos]!r}, not a number",
                f"write a number{f' in {unit}' if unit else ''} or leave the cell "
                "empty",
                int(flags.sum()),
            )
        checks: list[tuple[pl.Series, str]] = [
            ((~value.is_finite()).fill_null(False), "is not finite")
        ]
        if bounds is not None:
            low, high = bounds
            checks.append(
                (
                    ((value < low) | (value > high)).fill_null(False),
                    f"is outside [{low:g}, {high:g}]{what}",
                )
            )
        if positive:
            checks.append(((value <= 0.0).fill_null(False), "is not positive"))
        for mask, problem in checks:
            if mask.any():
                pos = int(mask.arg_true()[0])
                _fail(
                    path,
                    int(frame.item(pos, _LINE)),
                    f"column {name!r} holds {value[pos]}, which {problem}",
                    "fix the value or leave the cell empty",
                    int(mask.sum()),
                )
    return frame.drop(_LINE)
