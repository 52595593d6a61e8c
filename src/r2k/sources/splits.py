"""The community catalogue of US stock splits as a canonical SPLITS frame.

The folder ``corporate_actions/splits`` holds one JSON file per year::

    {"$schema": "...", "year": 2025, "updated": "2026-02-09",
     "splits": [{"symbol": "ASRT", "name": "Assertio Holdings, Inc.",
                 "date": "2025-12-26", "exchange": "NASDAQ", "isin": "...",
                 "source": "https://...", "notes": "Reverse split. ...",
                 "ratioNew": 1, "ratioOld": 15}, ...]}

``ratioNew`` shares replace ``ratioOld`` shares: a 1-for-15 reverse split is
``ratioNew=1, ratioOld=15``. ``date`` is the date the catalogue gives for the split,
normally the first split-adjusted session; r2k reads it as ``ex_date``. The
catalogue is sparse (136 events in the real folder, 2015-01-30 .. 2026-02-26): it is
not a complete corporate-actions feed.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from r2k.errors import DataDirectoryError, SourceFormatError
from r2k.schemas import SPLITS, check_schema
from r2k.tickers import normalize_ticker

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["read_splits"]

_YEAR_FILE = re.compile(r"^\d{4}\.json$")
_REQUIRED: Final[tuple[str, ...]] = ("symbol", "date", "ratioNew", "ratioOld")


def read_splits(folder: Path) -> pl.DataFrame:
    """Read every ``<year>.json`` split catalogue in ``folder``.

    Parameters
    ----------
    folder
        ``corporate_actions/splits``.

    Returns
    -------
    pl.DataFrame
        A :data:`~r2k.schemas.SPLITS` frame sorted by ``ex_date`` then
        ``security_id``.

    Raises
    ------
    DataDirectoryError
        If ``folder`` holds no ``<year>.json`` file.
    SourceFormatError
        If a file is not JSON or has no ``splits`` list, or an event lacks a field,
        has a bad date or a ratio that is not a positive number. The message names
        the file and the event's index in its ``splits`` list.
    """
    files = sorted(p for p in folder.glob("*.json") if _YEAR_FILE.match(p.name))
    if not files:
        msg = (
            f"{folder} holds no <year>.json split files; point r2k at the "
            "corporate_actions/splits folder of the data directory"
        )
        raise DataDirectoryError(msg)
    rows = [row for path in files for row in _events(path)]
    frame = pl.DataFrame(
        rows,
        schema={
            "security_id": pl.String,
            "ex_date": pl.Date,
            "ratio_new": pl.Float64,
            "ratio_old": pl.Float64,
            "exchange": pl.String,
            "source": pl.String,
            "notes": pl.String,
        },
        orient="row",
    ).sort("ex_date", "security_id")
    return check_schema(frame, SPLITS, source=str(folder))


def _events(path: Path) -> list[tuple[Any, ...]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"{path}: not valid JSON ({exc})"
        raise SourceFormatError(msg) from None
    events = document.get("splits") if isinstance(document, dict) else None
    if not isinstance(events, list):
        msg = f"{path}: no 'splits' list at the top level of the JSON document"
        raise SourceFormatError(msg)
    return [_event(path, index, event) for index, event in enumerate(events)]


def _event(path: Path, index: int, event: object) -> tuple[Any, ...]:
    where = f"{path}, splits[{index}]"
    if not isinstance(event, dict):
        msg = f"{where}: an event must be a JSON object"
        raise SourceFormatError(msg)
    missing = [key for key in _REQUIRED if event.get(key) in (None, "")]
    if missing:
        msg = f"{where}: missing field(s) {', '.join(missing)}"
        raise SourceFormatError(msg)
    symbol = str(event["symbol"])
    where = f"{where} ({symbol})"
    try:
        ex_date = date.fromisoformat(str(event["date"]))
    except ValueError:
        msg = f"{where}: date {event['date']!r} is not an ISO date (YYYY-MM-DD)"
        raise SourceFormatError(msg) from None
    ratios = []
    for key in ("ratioNew", "ratioOld"):
        value = event[key]
        number = (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else math.nan
        )
        if not (math.isfinite(number) and number > 0):
            msg = f"{where}: {key} {value!r} is not a positive number"
            raise SourceFormatError(msg)
        ratios.append(number)
    return (
        normalize_ticker(symbol),
        ex_date,
        ratios[0],
        ratios[1],
        _text(event.get("exchange")),
        _text(event.get("source")),
        _text(event.get("notes")),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
