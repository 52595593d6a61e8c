"""A fund's cash flows: ``date,flow_usd`` (subscriptions > 0, redemptions < 0).

The file is a dated CSV read by :func:`r2k.data.sources._dated.read_dated_csv`
(ISO dates strictly increasing, finite numbers; every failure names the file,
the line and the column)::

    date,flow_usd
    2026-02-02,50000000
    2026-03-16,-20000000

A flow arrives at its date's close, before the fund trades
(:mod:`r2k.funds.simulation`). Every row needs a value: an empty cell is an
error, not a zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from r2k.data.sources._dated import read_dated_csv
from r2k.errors import SourceFormatError

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl

__all__ = ["FLOW_COLUMN", "read_flows"]

FLOW_COLUMN: Final = "flow_usd"


def read_flows(path: Path) -> pl.DataFrame:
    """``date`` and ``flow_usd`` (Float64) of a flows CSV, checked.

    Raises
    ------
    SourceFormatError
        If the file cannot be read, a date or number is wrong, or a value is
        missing; the message names the line.
    """
    frame = read_dated_csv(path, [FLOW_COLUMN], unit="USD")
    empty = frame.with_row_index("_row").filter(frame[FLOW_COLUMN].is_null())
    if empty.height:
        line = int(empty.item(0, "_row")) + 2
        msg = (
            f"{path}, line {line}: column {FLOW_COLUMN!r} is empty on "
            f"{empty.item(0, 'date')}; write the flow in USD (0 for none)"
        )
        raise SourceFormatError(msg)
    return frame
