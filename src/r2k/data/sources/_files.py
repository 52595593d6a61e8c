"""Reading a source file and requiring its columns, shared by the readers."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import polars as pl

from r2k.errors import SchemaError, SourceFormatError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


def read_parquet_columns(path: Path, columns: Sequence[str]) -> pl.DataFrame:
    """Read a Parquet file that must have ``columns``.

    Raises
    ------
    SourceFormatError
        If the file cannot be read as Parquet.
    SchemaError
        If a column is missing; the message names the file and the columns.
    """
    try:
        raw = pl.read_parquet(path)
    except (
        OSError,
        pl.exceptions.PolarsError,
        pl.exceptions.PanicException,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = (
            f"{path}: cannot be read as Parquet ({reason}); the file may be "
            "truncated or corrupted, copy it again"
        )
        raise SourceFormatError(msg) from None
    missing = [name for name in columns if name not in raw.columns]
    if missing:
        msg = (
            f"{path}: missing column(s) {', '.join(missing)}; expected "
            f"{', '.join(columns)}"
        )
        raise SchemaError(msg)
    return raw


def read_csv_columns(path: Path, columns: Sequence[str]) -> pl.DataFrame:
    """Read a CSV file as text columns; its header must have ``columns``.

    Raises
    ------
    SourceFormatError
        If the file cannot be read as CSV, its header (line 1) lacks a column, or
        a line has more or fewer fields than the header (a line cut short, as at
        the end of a truncated file, or a stray comma).
    """
    try:
        raw = pl.read_csv(path, infer_schema_length=0)
    except (
        OSError,
        pl.exceptions.PolarsError,
        pl.exceptions.PanicException,
    ) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = (
            f"{path}: cannot be read as CSV ({reason}); it must be UTF-8 text "
            "with a header line, copy it again if it is truncated or corrupted"
        )
        raise SourceFormatError(msg) from None
    missing = [name for name in columns if name not in raw.columns]
    if missing:
        msg = (
            f"{path}, line 1: header lacks column(s) {', '.join(missing)}; "
            f"expected {','.join(columns)}"
        )
        raise SourceFormatError(msg)
    _check_widths(path)
    return raw


def _check_widths(path: Path) -> None:
    """Every line has as many fields as the header (polars fills short lines).

    A line cut short (the last line of a truncated copy) still parses, with
    nulls in its last columns, or a number cut in half in the last one it
    keeps: only its width shows it.
    """
    with path.open(encoding="utf-8", errors="replace", newline="") as stream:
        rows = csv.reader(stream)
        width = len(next(rows, []))
        bad: list[tuple[int, int]] = []
        for row in rows:
            if row and len(row) != width:
                bad.append((rows.line_num, len(row)))
    if bad:
        line, found = bad[0]
        msg = (
            f"{path}, line {line}: {found} field(s) where the header has {width} "
            f"({len(bad)} such line(s)); the line is cut short or has a stray "
            "comma: copy the file again if it is truncated, else fix the line"
        )
        raise SourceFormatError(msg)
