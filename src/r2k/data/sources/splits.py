"""The community catalogue of US stock splits as a canonical SPLITS frame.

The folder ``corporate_actions/splits`` holds one JSON file per year::

    {"$schema": "...", "year": 2025, "updated": "2026-02-09",
     "splits": [{"symbol": "ASRT", "name": "Assertio Holdings, Inc.",
                 "date": "2025-12-26", "exchange": "NASDAQ", "isin": "...",
                 "source": "https://...", "notes": "Reverse split. ...",
                 "ratioNew": 1, "ratioOld": 15}, ...]}

``ratioNew`` shares replace ``ratioOld`` shares: a 1-for-15 reverse split is
``ratioNew=1, ratioOld=15``. The catalogue is sparse (136 events in the real folder,
2015-01-30 .. 2026-02-26): it is not a complete corporate-actions feed.

The catalogue's ``date`` is not always the ex-date. For most forward splits it is
the distribution (payable) date and the notes add "Split-adjusted trading began
Aug 31, 2020" (AAPL's ``date`` is 2020-08-28): 84 of the 136 real events state a
first split-adjusted session that differs from ``date``, always 1-4 days later.
r2k's ``ex_date`` is therefore the first split-adjusted session the notes state
("split-adjusted ... began|begins <date>", "ex-date <date>", "ex-distribution date
<date>", "shares began trading <date>"), when that date is 0-10 days after
``date``; otherwise ``date`` itself (reverse splits "effective at 12:01 AM" on
``date``, and five forward splits whose notes give only a distribution date: GPN
2015, SMBC 2015, FFIN 2019, CBSH 2025, SF 2026). The notes keep the original text.
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
_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, name in enumerate(
        (
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
        ),
        start=1,
    )
}
_DATE = r"([A-Za-z]{3,9})\.? (\d{1,2}), (\d{4})"
_FIRST_ADJUSTED_SESSION: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(
        r"(?i)split-adjusted\b[^.;]{0,40}?\b(?:began|begins|will begin)(?: on)? "
        + _DATE
    ),
    re.compile(r"(?i)\bex-(?:date|distribution date)\)?:? " + _DATE),
    re.compile(r"(?i)\bshares began trading (?:on )?" + _DATE),
)
_MAX_DAYS_AFTER = 10
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
    except json.JSONDecodeError as exc:
        msg = (
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} "
            f"({exc.msg}); fix the document or copy the file again if it is "
            "truncated"
        )
        raise SourceFormatError(msg) from None
    except UnicodeDecodeError as exc:
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
        ex_date = date.fromisoformat(str(event["date"]))  # the catalogue's date
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
    notes = _text(event.get("notes"))
    return (
        normalize_ticker(symbol),
        _first_adjusted_session(ex_date, notes or ""),
        ratios[0],
        ratios[1],
        _text(event.get("exchange")),
        _text(event.get("source")),
        notes,
    )


def _first_adjusted_session(catalogue_date: date, notes: str) -> date:
    """The first split-adjusted session the notes state, else ``catalogue_date``."""
    for pattern in _FIRST_ADJUSTED_SESSION:
        found = pattern.search(notes)
        if not found:
            continue
        month = _MONTHS.get(found.group(1)[:3].lower())
        if month is None:
            continue
        try:
            stated = date(int(found.group(3)), month, int(found.group(2)))
        except ValueError:
            continue
        if 0 <= (stated - catalogue_date).days <= _MAX_DAYS_AFTER:
            return stated
    return catalogue_date


def _text(value: object) -> str | None:
    return None if value is None else str(value)
