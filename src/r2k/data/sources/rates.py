"""US policy and Treasury rates, TIPS real yields and breakevens, and an r* series.

The files are FRED series joined on date, in **percent** (5.25 is 5.25%)::

    rates/us_rates_daily.csv
        date,FEDFUNDS,DFF,DFEDTARL,DFEDTARU,DGS3MO,DGS2,DGS5,DGS10,DGS30
    rates/us_real_yields_breakevens_daily.csv
        date,DFII5,DFII10,T5YIE,T10YIE,T5YIFR

``FEDFUNDS`` is the monthly effective federal funds rate (dated the first of the
month it averages), ``DFF`` the daily effective rate, ``DFEDTARL``/``DFEDTARU``
the lower and upper ends of the target range (from 2008-12-16), ``DGS*`` the
constant-maturity Treasury yields, ``DFII5``/``DFII10`` the 5- and 10-year TIPS
real yields, ``T5YIE``/``T10YIE`` the breakeven inflation rates and ``T5YIFR``
the 5-year, 5-year-forward inflation expectation. A cell is empty where a
series has no value that day (each series has its own start; weekends appear
only where ``DFF`` has them).

A user-supplied natural rate of interest (r*, e.g. a published model estimate)
is a CSV with ``date`` and a value column (default ``rstar``), also in percent;
date each value by the day it was published, since r2k uses a value from its
own date on.

Values must be finite and within :data:`RATE_BOUNDS` (a guard against a unit
error: fractions instead of percent, or basis points).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from r2k.data.sources._dated import read_dated_csv
from r2k.errors import SourceFormatError

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl

    from r2k.data.datadir import DataDir

__all__ = [
    "RATES_COLUMNS",
    "RATES_FILE",
    "RATE_BOUNDS",
    "REAL_YIELDS_COLUMNS",
    "REAL_YIELDS_FILE",
    "rates_path",
    "read_real_yields",
    "read_rstar",
    "read_us_rates",
    "real_yields_path",
]

RATES_FILE: Final = "rates/us_rates_daily.csv"
"""Policy and Treasury rates, relative to the data directory."""
REAL_YIELDS_FILE: Final = "rates/us_real_yields_breakevens_daily.csv"
"""TIPS real yields and breakevens, relative to the data directory."""
RATES_COLUMNS: Final[tuple[str, ...]] = (
    "FEDFUNDS",
    "DFF",
    "DFEDTARL",
    "DFEDTARU",
    "DGS3MO",
    "DGS2",
    "DGS5",
    "DGS10",
    "DGS30",
)
"""Series of :data:`RATES_FILE` (percent)."""
REAL_YIELDS_COLUMNS: Final[tuple[str, ...]] = (
    "DFII5",
    "DFII10",
    "T5YIE",
    "T10YIE",
    "T5YIFR",
)
"""Series of :data:`REAL_YIELDS_FILE` (percent)."""
RATE_BOUNDS: Final = (-10.0, 30.0)
"""Inclusive range of a rate in percent (US rates since 1954: -2.24 .. 22.36)."""


def rates_path(data: DataDir) -> Path:
    """The policy and Treasury rates file of ``data`` (:data:`RATES_FILE`).

    Raises
    ------
    DataDirectoryError
        If the file is not there.
    """
    return data.file(RATES_FILE)


def real_yields_path(data: DataDir) -> Path:
    """The real yields and breakevens file of ``data`` (:data:`REAL_YIELDS_FILE`).

    Raises
    ------
    DataDirectoryError
        If the file is not there.
    """
    return data.file(REAL_YIELDS_FILE)


def read_us_rates(path: Path) -> pl.DataFrame:
    """Read the policy and Treasury rates file.

    Parameters
    ----------
    path : Path
        ``rates/us_rates_daily.csv`` or a file of the same layout.

    Returns
    -------
    pl.DataFrame
        ``date`` and the :data:`RATES_COLUMNS` (``Float64``, percent, null where
        the series has no value), one row per date, ascending.

    Raises
    ------
    SourceFormatError
        If a column is missing or a cell cannot be read; the message names the
        file, line and column.
    """
    return read_dated_csv(path, RATES_COLUMNS, bounds=RATE_BOUNDS, unit="percent")


def read_real_yields(path: Path) -> pl.DataFrame:
    """Read the TIPS real yields and breakevens file.

    Parameters
    ----------
    path : Path
        ``rates/us_real_yields_breakevens_daily.csv`` or the same layout.

    Returns
    -------
    pl.DataFrame
        ``date`` and the :data:`REAL_YIELDS_COLUMNS` (``Float64``, percent).

    Raises
    ------
    SourceFormatError
        As :func:`read_us_rates`.
    """
    return read_dated_csv(path, REAL_YIELDS_COLUMNS, bounds=RATE_BOUNDS, unit="percent")


def read_rstar(path: Path, column: str = "rstar") -> pl.DataFrame:
    """Read a user-supplied r* series (percent), dated by when each value is known.

    Parameters
    ----------
    path : Path
        A CSV with ``date`` and ``column``; other columns are ignored.
    column : str, default "rstar"
        The column holding r* in percent (0.75 is 0.75%).

    Returns
    -------
    pl.DataFrame
        ``date`` and ``rstar`` (``Float64``, percent), rows with a value only.

    Raises
    ------
    SourceFormatError
        As :func:`read_us_rates`, or if the file holds no value at all.
    """
    frame = read_dated_csv(path, [column], bounds=RATE_BOUNDS, unit="percent")
    out = frame.select("date", frame.get_column(column).alias("rstar")).drop_nulls()
    if out.height == 0:
        msg = f"{path}: column {column!r} holds no value; give r* in percent by date"
        raise SourceFormatError(msg)
    return out
