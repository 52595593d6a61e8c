"""Daily exchange rates and the dollar index.

Two files::

    fx/fx_pairs_daily.csv   date,DXY,EURUSD,GBPUSD,USDJPY,...,EURJPY
    fx/dxy_daily.csv        date,DXY

A pair column is named ``BASEQUOTE`` (six letters): its value is units of the
*quote* currency per one unit of the *base*. ``EURUSD`` 1.10 is 1.10 US dollars
per euro; ``USDJPY`` 150 is 150 yen per dollar. r2k reads the direction from
the name (see :func:`r2k.analytics.currency.usd_quote`) and never guesses it. A
three-letter column is an index, not a pair: ``DXY`` (ICE's dollar index in the
pairs file). Every value must be a positive finite number or empty.

The ``DXY`` column of ``fx/dxy_daily.csv`` is labelled as the dollar index, but
its values (101.4 on 2006-01-02, about 119 in 2026, against 98.8 for ICE's DXY
in the pairs file) are those of the Federal Reserve's nominal broad dollar
index (January 2006 = 100); r2k calls it "the broad dollar index".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from r2k.data.sources._dated import read_dated_csv
from r2k.data.sources._files import read_csv_columns
from r2k.errors import SourceFormatError

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl

    from r2k.data.datadir import DataDir

__all__ = [
    "DOLLAR_INDEX_FILE",
    "FX_INDEX_COLUMNS",
    "FX_PAIRS_FILE",
    "dollar_index_path",
    "fx_pairs_path",
    "read_dollar_index",
    "read_fx_pairs",
]

FX_PAIRS_FILE: Final = "fx/fx_pairs_daily.csv"
"""Daily FX closes, relative to the data directory."""
DOLLAR_INDEX_FILE: Final = "fx/dxy_daily.csv"
"""The dollar index file, relative to the data directory."""
FX_INDEX_COLUMNS: Final[tuple[str, ...]] = ("DXY",)
"""Columns of the pairs file that are indexes, not currency pairs."""

_PAIR = re.compile(r"[A-Z]{6}")


def fx_pairs_path(data: DataDir) -> Path:
    """The FX pairs file of ``data`` (:data:`FX_PAIRS_FILE`).

    Raises
    ------
    DataDirectoryError
        If the file is not there.
    """
    return data.file(FX_PAIRS_FILE)


def dollar_index_path(data: DataDir) -> Path:
    """The dollar index file of ``data`` (:data:`DOLLAR_INDEX_FILE`).

    Raises
    ------
    DataDirectoryError
        If the file is not there.
    """
    return data.file(DOLLAR_INDEX_FILE)


def read_fx_pairs(path: Path) -> pl.DataFrame:
    """Read the daily FX pairs file.

    Parameters
    ----------
    path : Path
        ``fx/fx_pairs_daily.csv`` or a file of the same layout.

    Returns
    -------
    pl.DataFrame
        ``date`` and one ``Float64`` column per pair or index, named as in the
        file (null where empty), one row per date, ascending.

    Raises
    ------
    SourceFormatError
        If a column name is neither a six-letter pair (``EURUSD``) nor a known
        index (:data:`FX_INDEX_COLUMNS`), or a cell cannot be read, is not
        positive, or a date repeats; the message names the file, line and column.
    """
    header = read_csv_columns(path, ["date"]).columns
    indexes = ", ".join(FX_INDEX_COLUMNS)
    for name in header:
        if name == "date" or name in FX_INDEX_COLUMNS or _PAIR.fullmatch(name):
            continue
        msg = (
            f"{path}, line 1: column {name!r} is not a currency pair; name a "
            "pair BASEQUOTE in capitals (EURUSD: US dollars per euro; USDJPY: "
            f"yen per dollar) or use an index column ({indexes})"
        )
        raise SourceFormatError(msg)
    return read_dated_csv(path, None, positive=True, unit="units of the quote")


def read_dollar_index(path: Path) -> pl.DataFrame:
    """Read the dollar index file.

    Parameters
    ----------
    path : Path
        ``fx/dxy_daily.csv`` (``date,DXY``).

    Returns
    -------
    pl.DataFrame
        ``date`` and ``DXY`` (``Float64``, index points).

    Raises
    ------
    SourceFormatError
        If the column is missing or a value cannot be read or is not positive.
    """
    return read_dated_csv(path, ["DXY"], positive=True, unit="index points")
