"""Bad inputs through the command line: a corpus built from the real files.

Each case builds a data directory in ``tmp_path`` by symlinking the real files
of the shared data directory (read in place, never copied into the repository)
and replacing one file with a mutated copy (truncated, corrupted, re-encoded,
edited: NaN, infinite and negative values, future, weekend and holiday dates,
impossible file-name dates, removed columns, repeated rows), or passes a bad
option or output path. It runs ``r2k.cli.app.main`` in-process and asserts:

* the exit code: 2 for an error, 1 for ``r2k check`` (which reports and goes on);
* that no traceback is printed;
* that the message names the file and the line, row, event or column at fault
  (or the option or output path);
* that nothing was written: every file under ``tmp_path`` (the data directory,
  the store, the working directory, the output paths) has the same bytes and
  modification time before and after, and no file appeared.

Cases that break an output path also break the market panel, so the message
naming the output path shows that the path was checked before any data was
read. The cases are chosen to fail early (small windows, cheap commands), so
the module takes about half a minute.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import polars as pl
import pytest

from r2k.cli.app import main
from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT: Final = Path(__file__).parents[2].parent / "shared" / "data"
PANEL: Final = "market/us_equities_daily_2025-12-26_2026-07-22.parquet"
RUT: Final = "indices/RUT_daily.csv"
SPX: Final = "indices/SPX_daily.csv"
RUA: Final = "indices/RUA_russell3000_daily.csv"
IWM_NOV: Final = "ishares/IWM_2025-11-05.csv"  # read by calculate from 2026-01-02
IWM_APR: Final = "ishares/IWM_2026-04-10.csv"  # the 2026 rank day's incumbents
MEMBERSHIP: Final = "membership/iwm_membership_history.parquet"
SPLITS: Final = "corporate_actions/splits/2026.json"
RATES: Final = "rates/us_rates_daily.csv"
REAL_YIELDS: Final = "rates/us_real_yields_breakevens_daily.csv"
FX: Final = "fx/fx_pairs_daily.csv"
SEC: Final = "reference/sec_company_tickers.parquet"

pytestmark = pytest.mark.skipif(
    not (ROOT / PANEL).is_file(), reason=f"real data directory {ROOT} is absent"
)

DIRECTORY: Final = b"<a directory>"
"""Content that makes a directory where the file should be."""


@dataclass(frozen=True)
class Edit:
    """A mutated file: its bytes (None: deleted) and what the message must name."""

    content: bytes | None
    where: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    """One bad run: the command, the files replaced, the expected exit code."""

    args: tuple[str, ...]
    files: dict[str, Callable[[], Edit]] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # besides each file's name and Edit.where
    code: int = 2
    as_json: bool = False
    store: str = ""  # "good": a store holding a calculated week; "truncated";
    # "locked": that store, locked by a live process
    out_is_a_file: bool = False  # a file named ``out`` in the working directory


# ------------------------------------------------------------------ the files


def _bytes(rel: str) -> bytes:
    return (ROOT / rel).read_bytes()


def _text(rel: str) -> str:
    return _bytes(rel).decode("utf-8")  # keeps the holdings files' BOM


def _lines(rel: str) -> list[str]:
    return _text(rel).split("\n")


def _join(lines: list[str], encoding: str = "utf-8") -> bytes:
    return "\n".join(lines).encode(encoding, errors="replace")


def _header_line(rel: str) -> int:
    """0-based index of a holdings file's table header."""
    return next(i for i, s in enumerate(_lines(rel)) if s.startswith("Ticker,"))


# Generic text edits -------------------------------------------------------


def cut_mid_line(rel: str, line: int) -> Callable[[], Edit]:
    """Keep lines 1 .. line-1 and the first half of ``line`` (1-based)."""

    def make() -> Edit:
        lines = _lines(rel)
        kept = [*lines[: line - 1], lines[line - 1][: len(lines[line - 1]) // 2]]
        return Edit(_join(kept), (f"line {line}",))

    return make


def reencode(rel: str, encoding: str, *where: str) -> Callable[[], Edit]:
    return lambda: Edit(_text(rel).encode(encoding, errors="replace"), where)


def garbage(rel: str, *where: str, at: float = 0.5) -> Callable[[], Edit]:
    """Overwrite 64 bytes in the middle with bytes that are not text."""

    def make() -> Edit:
        data = bytearray(_bytes(rel))
        start = int(len(data) * at)
        data[start : start + 64] = bytes(range(0x80, 0xC0))
        return Edit(bytes(data), where)

    return make


def empty(*where: str) -> Callable[[], Edit]:
    return lambda: Edit(b"", where)


def deleted(*where: str) -> Callable[[], Edit]:
    return lambda: Edit(None, where)


def directory(*where: str) -> Callable[[], Edit]:
    return lambda: Edit(DIRECTORY, where)


def truncated_bytes(rel: str, keep: float, *where: str) -> Callable[[], Edit]:
    def make() -> Edit:
        data = _bytes(rel)
        return Edit(data[: int(len(data) * keep)], where)

    return make


# Plain CSV (levels, rates, FX): line 1 is the header ---------------------


def csv_cell(rel: str, line: int, column: str, value: str) -> Callable[[], Edit]:
    def make() -> Edit:
        lines = _lines(rel)
        header = lines[0].split(",")
        cells = lines[line - 1].split(",")
        cells[header.index(column)] = value
        lines[line - 1] = ",".join(cells)
        return Edit(_join(lines), (f"line {line}",))

    return make


def csv_drop_column(rel: str, column: str) -> Callable[[], Edit]:
    def make() -> Edit:
        lines = _lines(rel)
        at = lines[0].split(",").index(column)
        kept = [
            ",".join(c for i, c in enumerate(s.split(",")) if i != at) if s else s
            for s in lines
        ]
        return Edit(_join(kept), ("line 1", column))

    return make


def csv_rename_column(
    rel: str, column: str, name: str, named: str
) -> Callable[[], Edit]:
    """Rename ``column`` to ``name``; the message must name ``named``."""

    def make() -> Edit:
        lines = _lines(rel)
        lines[0] = ",".join(name if c == column else c for c in lines[0].split(","))
        return Edit(_join(lines), ("line 1", named))

    return make


def csv_repeat_line(rel: str, line: int) -> Callable[[], Edit]:
    def make() -> Edit:
        lines = _lines(rel)
        lines.insert(line, lines[line - 1])
        return Edit(_join(lines), (f"line {line + 1}",))

    return make


def csv_swap_lines(rel: str, line: int) -> Callable[[], Edit]:
    """Swap ``line`` and the next one: the next is out of order."""

    def make() -> Edit:
        lines = _lines(rel)
        lines[line - 1], lines[line] = lines[line], lines[line - 1]
        return Edit(_join(lines), (f"line {line + 1}",))

    return make


def csv_append(rel: str, row: str) -> Callable[[], Edit]:
    def make() -> Edit:
        lines = [s for s in _lines(rel) if s]
        lines.append(row)
        return Edit(_join([*lines, ""]), (f"line {len(lines)}",))

    return make


def header_only(rel: str, *where: str) -> Callable[[], Edit]:
    return lambda: Edit(_join([_lines(rel)[0], ""]), where)


# Holdings (quoted fields, a preamble and a footer) ------------------------


def holdings_cell(rel: str, row: int, column: str, value: str) -> Callable[[], Edit]:
    """Set ``column`` of data row ``row`` (0-based) of a holdings table."""

    def make() -> Edit:
        lines = _lines(rel)
        at = _header_line(rel)
        header = [c.strip() for c in next(csv.reader([lines[at]]))]
        fields = next(csv.reader([lines[at + 1 + row]]))
        fields[header.index(column)] = value
        lines[at + 1 + row] = ",".join(f'"{v}"' for v in fields)
        return Edit(_join(lines), (f"line {at + 2 + row}", column))

    return make


def holdings_preamble(rel: str, label: str, value: str | None) -> Callable[[], Edit]:
    """Set (None: remove) a preamble line such as "Fund Holdings as of"."""

    def make() -> Edit:
        lines = _lines(rel)
        at = next(i for i, s in enumerate(lines) if s.startswith(label))
        if value is None:
            del lines[at]
            return Edit(_join(lines), (label,))
        lines[at] = f'{label},"{value}"'
        return Edit(_join(lines), (f"line {at + 1}", label))

    return make


def holdings_drop_column(rel: str, column: str) -> Callable[[], Edit]:
    def make() -> Edit:
        lines = _lines(rel)
        at = _header_line(rel)
        lines[at] = lines[at].replace(f"{column},", "", 1)
        return Edit(_join(lines), (f"line {at + 1}", column))

    return make


def holdings_extra_field(rel: str, row: int) -> Callable[[], Edit]:
    def make() -> Edit:
        lines = _lines(rel)
        at = _header_line(rel) + 1 + row
        lines[at] += ',"surplus"'
        return Edit(_join(lines), (f"line {at + 1}",))

    return make


def holdings_no_footer(rel: str) -> Callable[[], Edit]:
    """Cut the file at the end of the table (a truncated download)."""

    def make() -> Edit:
        lines = _lines(rel)
        start = _header_line(rel) + 1
        end = next(i for i in range(start, len(lines)) if not lines[i].strip())
        return Edit(_join(lines[:end]), (f"line {end}", "truncated"))

    return make


def holdings_cut_in_table(rel: str, row: int) -> Callable[[], Edit]:
    return cut_mid_line(rel, _header_line(rel) + 2 + row)


def holdings_copy(rel: str) -> Callable[[], Edit]:
    """The real file unchanged, under another name (an impossible date)."""
    return lambda: Edit(_bytes(rel))


def holdings_repeat_row(rel: str, row: int) -> Callable[[], Edit]:
    def make() -> Edit:
        lines = _lines(rel)
        at = _header_line(rel) + 1 + row
        lines.insert(at + 1, lines[at])
        return Edit(_join(lines), (f"line {at + 2}",))

    return make


# Parquet: the first sessions of the real panel, edited --------------------

_PANEL_HEAD: dict[str, pl.DataFrame] = {}
PANEL_ROWS: Final = 10_000  # about two sessions of the real panel


def _panel_head() -> pl.DataFrame:
    if "head" not in _PANEL_HEAD:
        _PANEL_HEAD["head"] = pl.read_parquet(ROOT / PANEL, n_rows=PANEL_ROWS)
    return _PANEL_HEAD["head"]


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def panel_edit(
    edit: Callable[[pl.DataFrame], pl.DataFrame], *where: str
) -> Callable[[], Edit]:
    return lambda: Edit(_parquet(edit(_panel_head())), where)


def panel_cell(row: int, column: str, value: object) -> Callable[[], Edit]:
    """Set ``column`` of the 0-based ``row``; the message names row ``row + 1``."""

    def edit(frame: pl.DataFrame) -> pl.DataFrame:
        values = frame.get_column(column).to_list()
        values[row] = value
        return frame.with_columns(pl.Series(column, values, dtype=frame.schema[column]))

    return panel_edit(edit, f"row {row + 1}")


def panel_conflict(frame: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([frame, frame.slice(3, 1).with_columns(pl.col("price") * 2)])


def membership_edit(
    edit: Callable[[pl.DataFrame], pl.DataFrame], *where: str
) -> Callable[[], Edit]:
    def make() -> Edit:
        frame = pl.read_parquet(ROOT / MEMBERSHIP)
        return Edit(_parquet(edit(frame)), where)

    return make


def membership_cell(row: int, column: str, value: object) -> Callable[[], Edit]:
    def edit(frame: pl.DataFrame) -> pl.DataFrame:
        values = frame.get_column(column).to_list()
        values[row] = value
        return frame.with_columns(pl.Series(column, values, dtype=frame.schema[column]))

    return membership_edit(edit, f"row {row + 1}", column)


# JSON splits ----------------------------------------------------------------


def splits_event(index: int, key: str, value: object) -> Callable[[], Edit]:
    """Set (``...``: remove) ``key`` of event ``index`` of the 2026 catalogue."""

    def make() -> Edit:
        document = json.loads(_text(SPLITS))
        if value is ...:
            del document["splits"][index][key]
        else:
            document["splits"][index][key] = value
        return Edit(json.dumps(document, indent=2).encode(), (f"splits[{index}]",))

    return make


def splits_document(document: object, *where: str) -> Callable[[], Edit]:
    return lambda: Edit(json.dumps(document).encode(), where)


# ------------------------------------------------------------------ the cases

D = "{data}"  # the data directory
T = "{tmp}"  # tmp_path (outputs)
S = "{store}"  # the store, in tmp_path

CALC: tuple[str, ...] = ("calculate", "--start", "2026-01-02", "--end", "2026-01-09")
CALC += ("--data", D, "--store", S)
RECON = ("reconstitute", "--rank-day", "2026-04-30", "--data", D, "--store", S)
CHANGES: tuple[str, ...] = (
    "export",
    "changes",
    "--rank-day",
    "2026-04-30",
    "--data",
    D,
)
CHANGES += ("--out", f"{T}/changes.csv")
CONSTITUENTS: tuple[str, ...] = (
    "export",
    "constituents",
    "--session",
    "2026-01-09",
    "--data",
    D,
)
CONSTITUENTS += ("--store", S, "--out", f"{T}/constituents.csv")
ANALYZE = ("analyze", "--data", D, "--start", "2026-01-02", "--end", "2026-03-31")
PLOT: tuple[str, ...] = (
    "plot",
    "--chart",
    "level",
    "--out",
    f"{T}/level.png",
    "--data",
    D,
)
PLOT += ("--start", "2026-01-02")
SECTORS = ("plot", "--chart", "sectors", "--out", f"{T}/sectors.svg", "--data", D)
REPORT = ("report", "--out", f"{T}/report.html", "--data", D)
RATES_CMD = ("rates", "--data", D)
FX_CMD = (*ANALYZE, "--currency", "EUR")
VALIDATE_RECON = ("validate", "recon", "--effective", "2026-06-26", "--data", D)
TRACKING: tuple[str, ...] = (
    "validate",
    "tracking",
    "--start",
    "2026-01-02",
    "--end",
    "2026-01-09",
)
TRACKING += ("--data", D)
CHECK = ("check", "--data", D, "--json")
PREVIEW = ("preview", "--rank-day", "2026-04-30", "--data", D)
SWEEP = ("sweep", "--start", "2026", "--end", "2027")
DS = ("--data", D, "--store", S)


def _level_cases() -> dict[str, Case]:
    """RUT, SPX and RUA: read by analyze, plot and rates."""
    bad_rut = {
        "close-nan": csv_cell(RUT, 9660, "close", "nan"),
        "close-text": csv_cell(RUT, 9660, "close", "abc"),
        "close-zero": csv_cell(RUT, 5000, "close", "0"),
        "close-negative": csv_cell(RUT, 2, "close", "-168.97"),
        "close-inf": csv_cell(RUT, 9772, "close", "inf"),
        "close-empty": csv_cell(RUT, 100, "close", ""),
        "open-text": csv_cell(RUT, 300, "open", "x"),
        "high-negative": csv_cell(RUT, 301, "high", "-1"),
        "high-below-low": csv_cell(RUT, 302, "high", "1.5"),
        "close-above-high": csv_cell(RUT, 9500, "close", "99999"),
        "columns-shifted": csv_cell(RUT, 303, "open", "1987-11-05"),
        "date-impossible": csv_cell(RUT, 9700, "date", "2026-02-30"),
        "date-not-iso": csv_cell(RUT, 9700, "date", "03/17/2026"),
        "date-saturday": csv_cell(RUT, 9663, "date", "2026-01-17"),
        "date-holiday": csv_cell(RUT, 9663, "date", "2026-01-19"),
        "date-future": csv_append(RUT, "2099-01-02,1,1,1,1,,x"),
        "date-repeated": csv_repeat_line(RUT, 9000),
        "dates-swapped": csv_swap_lines(RUT, 4000),
        "no-close-column": csv_drop_column(RUT, "close"),
        "no-date-column": csv_rename_column(RUT, "date", "day", "date"),
        "cut-mid-line": cut_mid_line(RUT, 9773),
        "utf16": reencode(RUT, "utf-16"),
        "garbage": garbage(RUT),
        "empty": empty(),
        "directory": directory(),
        "missing": deleted("indices/RUT_*.csv"),
    }
    cases = {
        f"analyze-rut-{name}": Case(ANALYZE, {RUT: make})
        for name, make in bad_rut.items()
    }
    for name in ("close-nan", "date-holiday", "cut-mid-line"):
        cases[f"analyze-json-rut-{name}"] = Case(
            ANALYZE, {RUT: bad_rut[name]}, as_json=True
        )
    for name in ("close-zero", "date-saturday", "utf16"):
        cases[f"plot-rut-{name}"] = Case(PLOT, {RUT: bad_rut[name]})
    bad_spx = {
        "close-nan": csv_cell(SPX, 6000, "close", "NaN"),
        "date-saturday": csv_cell(SPX, 2, "date", "2000-01-08"),  # after 01-07
        "date-future": csv_append(SPX, "2099-01-05,1,1,1,1,x"),
        "cut-mid-line": cut_mid_line(SPX, 6700),
        "missing": deleted("indices/SPX_*.csv"),
    }
    for name, make in bad_spx.items():
        cases[f"analyze-spx-{name}"] = Case(ANALYZE, {SPX: make})
    for name in ("close-nan", "missing"):
        cases[f"rates-spx-{name}"] = Case(RATES_CMD, {SPX: bad_spx[name]})
    bad_rua = {
        "close-negative": csv_cell(RUA, 50, "close", "-2"),
        "dates-swapped": csv_swap_lines(RUA, 8000),
        "no-low-column": csv_drop_column(RUA, "low"),
    }
    for name, make in bad_rua.items():
        cases[f"analyze-rua-{name}"] = Case(ANALYZE, {RUA: make})
    return cases


def _bad_holdings(rel: str, as_of: str, later: str) -> dict[str, Callable[[], Edit]]:
    """Mutations of the holdings file ``rel`` ("Fund Holdings as of" ``as_of``)."""
    as_of_label, future = "Fund Holdings as of", as_of[:-4] + "2099"
    return {
        "price-nan": holdings_cell(rel, 0, "Price", "NaN"),
        "price-inf": holdings_cell(rel, 10, "Price", "inf"),
        "price-negative": holdings_cell(rel, 500, "Price", "-12.50"),
        "price-text": holdings_cell(rel, 1000, "Price", "twelve"),
        "quantity-negative": holdings_cell(rel, 7, "Quantity", "-5,000.00"),
        "quantity-inf": holdings_cell(rel, 8, "Quantity", "1e999"),
        "market-value-text": holdings_cell(rel, 9, "Market Value", "n/a"),
        "weight-nan": holdings_cell(rel, 11, "Weight (%)", "nan"),
        "as-of-future": holdings_preamble(rel, as_of_label, future),
        "as-of-after-name": holdings_preamble(rel, as_of_label, later),
        "as-of-unreadable": holdings_preamble(rel, as_of_label, "5th of the month"),
        "as-of-missing": holdings_preamble(rel, as_of_label, None),
        "inception-after-as-of": holdings_preamble(rel, "Inception Date", later),
        "shares-negative": holdings_preamble(
            rel, "Shares Outstanding", "-280,200,000.00"
        ),
        "shares-text": holdings_preamble(rel, "Shares Outstanding", "many"),
        "no-price-column": holdings_drop_column(rel, "Price"),
        "no-quantity-column": holdings_drop_column(rel, "Quantity"),
        "row-too-wide": holdings_extra_field(rel, 40),
        "cut-in-table": holdings_cut_in_table(rel, 900),
        "no-footer": holdings_no_footer(rel),
        "utf16": reencode(rel, "utf-16", "line 1", "UTF-8"),
        "latin1": reencode(rel, "latin-1", "line 9", "UTF-8"),
        "garbage": garbage(rel, "UTF-8"),
        "empty": empty(),
    }


def _holdings_cases() -> dict[str, Case]:
    """IWM files: read first by reconstitute and export changes (the rank day's
    incumbents, before the panel), and by calculate after the panel."""
    april = _bad_holdings(IWM_APR, "Apr 10, 2026", "Apr 13, 2026")
    cases = {
        f"reconstitute-iwm-{name}": Case(RECON, {IWM_APR: make})
        for name, make in april.items()
    }
    for name in ("price-negative", "no-footer", "as-of-after-name", "utf16"):
        cases[f"export-changes-iwm-{name}"] = Case(CHANGES, {IWM_APR: april[name]})
    for name in ("quantity-negative", "latin1"):
        cases[f"reconstitute-json-iwm-{name}"] = Case(
            RECON, {IWM_APR: april[name]}, as_json=True
        )
    november = _bad_holdings(IWM_NOV, "Nov 05, 2025", "Nov 06, 2025")
    for name in ("price-text", "as-of-after-name", "no-footer", "utf16"):
        cases[f"calculate-iwm-{name}"] = Case(CALC, {IWM_NOV: november[name]})
    for name in ("price-nan", "cut-in-table"):
        cases[f"calculate-stored-iwm-{name}"] = Case(
            CALC, {IWM_NOV: november[name]}, store="good"
        )
    cases["calculate-holdings-weights-iwm-quantity-inf"] = Case(
        (*CALC, "--weights", "holdings"), {IWM_NOV: november["quantity-inf"]}
    )
    return cases


def _file_name_cases() -> dict[str, Case]:
    """A holdings file named after a date that does not exist."""
    cases: dict[str, Case] = {}
    for bad_name in ("IWM_2026-02-30.csv", "IWM_2026-13-01.csv"):
        files = {f"ishares/{bad_name}": holdings_copy(IWM_APR)}
        tag = bad_name[4:14]
        cases[f"calculate-name-{tag}"] = Case(CALC, files, ("not a calendar date",))
        cases[f"reconstitute-name-{tag}"] = Case(RECON, files)
        cases[f"export-changes-name-{tag}"] = Case(CHANGES, files)
    feb30 = {"ishares/IWM_2026-02-30.csv": holdings_copy(IWM_APR)}
    cases["plot-sectors-name-2026-02-30"] = Case((*SECTORS, "--index", "RUT"), feb30)
    cases["preview-name-2026-02-30"] = Case(PREVIEW, feb30)
    cases["calculate-json-name-2026-02-30"] = Case(CALC, feb30, as_json=True)
    cases["check-name-2026-02-30"] = Case(CHECK, feb30, code=1)
    return cases


def _panel_cases() -> dict[str, Case]:
    """The market panel: read first by calculate, export, report, plot, check."""
    from datetime import datetime

    def dt(year: int, month: int, day: int, hour: int = 0) -> datetime:
        return datetime(year, month, day, hour)  # noqa: DTZ001 - naive, as the panel

    bad = {
        "cap-nan": panel_cell(0, "market_cap", float("nan")),
        "cap-inf": panel_cell(777, "market_cap", float("inf")),
        "cap-negative": panel_cell(PANEL_ROWS - 1, "market_cap", -1.0),
        "volume-negative": panel_cell(42, "volume", -100),
        "date-future": panel_cell(5, "asof_date", dt(2099, 1, 2)),
        "date-saturday": panel_cell(6, "asof_date", dt(2026, 1, 3)),
        "date-holiday": panel_cell(7, "asof_date", dt(2026, 1, 1)),
        "date-empty": panel_cell(8, "asof_date", None),
        "date-not-midnight": panel_cell(9, "asof_date", dt(2025, 12, 26, 16)),
        "date-after-stated-end": panel_cell(10, "asof_date", dt(2026, 7, 23)),
        "date-before-stated-start": panel_cell(11, "asof_date", dt(2025, 12, 24)),
        "conflicting-rows": panel_edit(panel_conflict, "rows 4, 10001"),
        "no-cap-column": panel_edit(lambda f: f.drop("market_cap"), "market_cap"),
        "date-as-text": panel_edit(
            lambda f: f.with_columns(pl.col("asof_date").cast(pl.String)),
            "asof_date",
        ),
        "symbol-empty": panel_cell(12, "symbol", None),
        "price-text": panel_edit(
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 13)
                .then(pl.lit("n/a"))
                .otherwise(pl.col("price").cast(pl.String))
                .alias("price")
            ),
            "row 14",
            "price",
        ),
        "no-rows": panel_edit(lambda f: f.head(0), "no rows"),
        "truncated": truncated_bytes(PANEL, 0.5, "Parquet"),
        "garbage": lambda: Edit(b"PAR1" + bytes(range(256)) * 4, ("Parquet",)),
        "empty": empty("Parquet"),
    }
    cases = {
        f"calculate-panel-{name}": Case(CALC, {PANEL: make})
        for name, make in bad.items()
    }
    for name in ("cap-nan", "date-after-stated-end", "truncated"):
        cases[f"reconstitute-panel-{name}"] = Case(RECON, {PANEL: bad[name]})
    for name in ("volume-negative", "date-holiday"):
        cases[f"export-constituents-panel-{name}"] = Case(
            CONSTITUENTS, {PANEL: bad[name]}
        )
    for name in ("cap-inf", "conflicting-rows"):
        cases[f"report-panel-{name}"] = Case(REPORT, {PANEL: bad[name]})
    cases["plot-sectors-panel-date-future"] = Case(SECTORS, {PANEL: bad["date-future"]})
    cases["analyze-r2k-panel-date-saturday"] = Case(
        ("analyze", "--index", "r2k", "--data", D), {PANEL: bad["date-saturday"]}
    )
    cases["tracking-panel-cap-negative"] = Case(TRACKING, {PANEL: bad["cap-negative"]})
    cases["calculate-stored-panel-cap-nan"] = Case(
        CALC, {PANEL: bad["cap-nan"]}, store="good"
    )
    cases["calculate-json-panel-truncated"] = Case(
        CALC, {PANEL: bad["truncated"]}, as_json=True
    )
    for name in ("date-after-stated-end", "garbage"):
        cases[f"check-panel-{name}"] = Case(CHECK, {PANEL: bad[name]}, code=1)
    cases["calculate-panel-missing"] = Case(CALC, {PANEL: deleted("market/*.parquet")})
    return cases


def _membership_cases() -> dict[str, Case]:
    """The IWM membership history: read first by validate recon."""
    bad = {
        "time-future": membership_cell(3, "commit_time_utc", "2099-01-02T08:00"),
        "time-unreadable": membership_edit(
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 5)
                .then(pl.lit("yesterday"))
                .otherwise(pl.col("commit_time_utc"))
                .alias("commit_time_utc")
            ),
            "row 6",
            "commit_time_utc",
        ),
        "weight-inf": membership_cell(12, "weight_pct", float("inf")),
        "no-ticker-column": membership_edit(lambda f: f.drop("ticker"), "ticker"),
        "ticker-empty": membership_cell(20, "ticker", ""),
        "no-rows": membership_edit(lambda f: f.head(0), "no rows"),
        "truncated": truncated_bytes(MEMBERSHIP, 0.7, "Parquet"),
        "missing": deleted("membership/iwm_membership_history.parquet"),
    }
    cases = {
        f"validate-recon-membership-{name}": Case(VALIDATE_RECON, {MEMBERSHIP: make})
        for name, make in bad.items()
    }
    cases["check-membership-weight-inf"] = Case(
        CHECK, {MEMBERSHIP: bad["weight-inf"]}, code=1
    )
    return cases


def _splits_cases() -> dict[str, Case]:
    """The split catalogue: read by calculate after the panel and holdings."""
    bad = {
        "ratio-old-missing": splits_event(0, "ratioOld", ...),
        "ratio-new-zero": splits_event(1, "ratioNew", 0),
        "ratio-text": splits_event(0, "ratioOld", "ten"),
        "ratio-negative": splits_event(2, "ratioNew", -2),
        "date-impossible": splits_event(1, "date", "2026-02-30"),
        "symbol-missing": splits_event(2, "symbol", ...),
        "no-splits-list": splits_document({"year": 2026}, "'splits'"),
        "event-not-object": splits_document({"splits": [1]}, "splits[0]"),
        "truncated": truncated_bytes(SPLITS, 0.6, "not valid JSON", "line "),
        "utf16": reencode(SPLITS, "utf-16", "not valid JSON"),
    }
    return {
        f"calculate-splits-{name}": Case(CALC, {SPLITS: make})
        for name, make in bad.items()
    }


def _rates_cases() -> dict[str, Case]:
    """Rates, real yields and FX: read by rates and analyze --currency."""
    last = len([s for s in _lines(RATES) if s])  # the last line of the rates file
    bad = {
        "dgs10-text": csv_cell(RATES, 20000, "DGS10", "four"),
        "dgs10-inf": csv_cell(RATES, 20001, "DGS10", "inf"),
        "dgs10-out-of-bounds": csv_cell(RATES, 20002, "DGS10", "450"),
        "dff-fraction-unit": csv_cell(RATES, 20003, "DFF", "-45"),
        "date-future": csv_append(RATES, "2099-01-02,,1.0,,,,,,,"),
        "date-repeated": csv_repeat_line(RATES, 15000),
        "date-impossible": csv_cell(RATES, 100, "date", "1954-11-31"),
        "no-dgs10-column": csv_drop_column(RATES, "DGS10"),
        "cut-mid-line": cut_mid_line(RATES, last),
        "utf16": reencode(RATES, "utf-16"),
        "missing": deleted("rates/us_rates_daily.csv"),
    }
    cases = {
        f"rates-rates-{name}": Case(RATES_CMD, {RATES: make})
        for name, make in bad.items()
    }
    real = {
        "dfii10-text": csv_cell(REAL_YIELDS, 3000, "DFII10", "x"),
        "dates-swapped": csv_swap_lines(REAL_YIELDS, 2000),
        "no-t5yie-column": csv_drop_column(REAL_YIELDS, "T5YIE"),
    }
    for name, make in real.items():
        cases[f"rates-real-yields-{name}"] = Case(RATES_CMD, {REAL_YIELDS: make})
    fx = {
        "eurusd-negative": csv_cell(FX, 300, "EURUSD", "-1.1"),
        "eurusd-zero": csv_cell(FX, 301, "EURUSD", "0"),
        "eurusd-text": csv_cell(FX, 302, "EURUSD", "one"),
        "column-not-a-pair": csv_rename_column(FX, "GBPUSD", "POUND", "POUND"),
        "date-future": csv_append(FX, "2099-01-02" + "," * 16),
        "date-repeated": csv_repeat_line(FX, 200),
        "missing": deleted("fx/fx_pairs_daily.csv"),
    }
    for name, make in fx.items():
        cases[f"analyze-currency-fx-{name}"] = Case(FX_CMD, {FX: make})
    return cases


def _sec_cases() -> dict[str, Case]:
    """The SEC ticker map: read by reconstitute after the panel."""

    def edit(change: Callable[[pl.DataFrame], pl.DataFrame], *where: str) -> Edit:
        return Edit(_parquet(change(pl.read_parquet(ROOT / SEC))), where)

    def blank_ticker(f: pl.DataFrame) -> pl.DataFrame:
        values = f.get_column("ticker").to_list()
        values[4] = ""
        return f.with_columns(pl.Series("ticker", values))

    return {
        "reconstitute-sec-ticker-empty": Case(
            RECON, {SEC: lambda: edit(blank_ticker, "row 5")}
        ),
        "reconstitute-sec-no-cik-column": Case(
            RECON, {SEC: lambda: edit(lambda f: f.drop("cik"), "cik")}
        ),
        "reconstitute-sec-truncated": Case(
            RECON, {SEC: truncated_bytes(SEC, 0.4, "Parquet")}
        ),
    }


BROKEN_PANEL: Final = {PANEL: lambda: Edit(b"not parquet")}
"""A panel that fails when read: a bad output path must be named first."""


def _extra_file_cases() -> dict[str, Case]:
    """Files named by an option (--rstar, --rules), made from real content."""

    def rstar(text: str, *where: str) -> Callable[[], Edit]:
        return lambda: Edit(text.encode(), where)

    rates_with = (*RATES_CMD, "--rstar", f"{D}/rstar.csv")
    cases = {
        f"rates-rstar-{name}": Case(rates_with, {"rstar.csv": make})
        for name, make in {
            "text": rstar("date,rstar\n2020-01-02,0.5\n2020-01-03,abc\n", "line 3"),
            "out-of-bounds": rstar("date,rstar\n2020-01-02,75\n", "line 2", "rstar"),
            "no-column": rstar("date,value\n2020-01-02,0.5\n", "line 1", "rstar"),
            "dates-repeated": rstar(
                "date,rstar\n2020-01-02,0.5\n2020-01-02,0.6\n", "line 3"
            ),
            "empty": rstar("date,rstar\n", "rstar"),
            "utf16": lambda: Edit("date,rstar\n2020-01-02,0.5\n".encode("utf-16")),
        }.items()
    }
    packaged = (
        Path(__file__).parents[2] / "src/r2k/methodology/rules/russell_us_current.toml"
    )

    def rules(edit: Callable[[str], str], *where: str) -> Callable[[], Edit]:
        return lambda: Edit(edit(packaged.read_text()).encode(), where)

    for name, make in {
        "cut": rules(lambda t: t[: len(t) // 2] + "\n[broken", "rules.toml"),
        "utf16": lambda: Edit(packaged.read_text().encode("utf-16"), ()),
        "empty": rules(lambda t: "", "rules.toml"),
    }.items():
        cases[f"reconstitute-rules-{name}"] = Case(
            (*RECON, "--rules", f"{D}/rules.toml"), {"rules.toml": make}
        )
    return cases


def _output_cases() -> dict[str, Case]:
    """Bad --out and --store paths, checked before any data is read."""
    outs = {  # kind: (path without its suffix, what the message names)
        "parent-is-a-file": (f"{T}/plain.txt/x", "plain.txt"),
        "unknown-suffix": (f"{T}/x", "xlsx"),
        "a-directory": (f"{T}/folder", "folder"),
        "parent-missing": (f"{T}/missing/x", "missing"),
    }
    # export, preview and sweep create a missing folder, the others refuse it
    refuse_missing = ("calculate", "reconstitute", "report", "plot")
    cases: dict[str, Case] = {}
    commands = {
        "calculate": (CALC, ".csv"),
        "reconstitute": (RECON, ".parquet"),
        "report": (("report", "--data", D), ".html"),
        "plot": (("plot", "--chart", "drawdown", "--data", D), ".png"),
        "export-constituents": (CONSTITUENTS[:-2], ".csv"),
        "export-changes": (CHANGES[:-2], ".csv"),
        "preview": (PREVIEW, ".csv"),
    }
    for command, (args, suffix) in commands.items():
        for kind, (out, name) in outs.items():
            if kind == "parent-missing" and command not in refuse_missing:
                continue
            path = out + (".xlsx" if kind == "unknown-suffix" else suffix)
            cases[f"{command}-out-{kind}"] = Case(
                (*args, "--out", path), BROKEN_PANEL, (name,)
            )
    sweep = ("sweep", "--start", "2026", "--end", "2027", "--data", D)
    cases["sweep-out-parent-is-a-file"] = Case(
        (*sweep, "--out", f"{T}/plain.txt/s.csv"), BROKEN_PANEL, ("plain.txt",)
    )
    cases["calculate-store-a-directory"] = Case(
        (*CALC[:-1], f"{T}/folder.duckdb"), BROKEN_PANEL, ("folder.duckdb",)
    )
    cases["calculate-store-parent-missing"] = Case(
        (*CALC[:-1], f"{T}/missing/s.duckdb"), BROKEN_PANEL, ("missing",)
    )
    cases["reconstitute-store-parent-is-a-file"] = Case(
        (*RECON[:-1], f"{T}/plain.txt/s.duckdb"), BROKEN_PANEL, ("plain.txt",)
    )
    cases["demo-out-is-a-file"] = Case(
        ("demo", "--data", D, "--store", S),
        BROKEN_PANEL,
        ("out", "not a folder"),
        out_is_a_file=True,
    )
    cases["demo-store-a-directory"] = Case(
        ("demo", "--data", D, "--store", f"{T}/folder.duckdb"),
        BROKEN_PANEL,
        ("folder.duckdb",),
    )
    cases["calculate-json-out-unknown-suffix"] = Case(
        (*CALC, "--out", f"{T}/x.xlsx"), BROKEN_PANEL, ("x.xlsx",), as_json=True
    )
    return cases


def _option_cases() -> dict[str, Case]:
    """Bad arguments: refused before any data is read."""
    o = {
        "calculate-end-before-start": (
            ("calculate", "--start", "2026-01-09", "--end", "2026-01-02"),
            "--end",
        ),
        "calculate-start-not-a-date": (
            ("calculate", "--start", "2026-02-30", "--end", "2026-03-02"),
            "--start",
        ),
        "calculate-unknown-index": ((*CALC, "--index", "r9000"), "--index"),
        "calculate-unknown-weights": ((*CALC, "--weights", "equal"), "--weights"),
        "calculate-unknown-return": ((*CALC, "--return", "excess"), "--return"),
        "reconstitute-rank-day-not-a-date": (
            ("reconstitute", "--rank-day", "2026-04-31"),
            "--rank-day",
        ),
        "reconstitute-as-of-not-a-date": (
            (*RECON, "--as-of", "tomorrow"),
            "--as-of",
        ),
        "analyze-unknown-index": ((*ANALYZE, "--index", "SPY"), "--index"),
        "analyze-end-before-start": (
            ("analyze", "--start", "2026-03-01", "--end", "2026-01-02"),
            "--end",
        ),
        "analyze-unknown-currency": ((*ANALYZE, "--currency", "XYZ"), "XYZ"),
        "plot-unknown-chart": (
            ("plot", "--chart", "pie", "--out", f"{T}/x.png"),
            "--chart",
        ),
        "plot-unknown-suffix": (
            ("plot", "--chart", "level", "--out", f"{T}/x.gif"),
            "x.gif",
        ),
        "plot-end-before-start": (
            (*PLOT, "--end", "2025-12-31"),
            "--end",
        ),
        "report-end-before-start": (
            (*REPORT, "--start", "2026-02-01", "--end", "2026-01-01"),
            "--end",
        ),
        "report-unknown-index": ((*REPORT, "--index", "SPX"), "--index"),
        "export-constituents-unknown-index": (
            (*CONSTITUENTS, "--index", "r5000"),
            "--index",
        ),
        "export-constituents-unknown-format": (
            (*CONSTITUENTS, "--format", "xlsx"),
            "--format",
        ),
        "export-changes-rank-day-not-a-date": (
            ("export", "changes", "--rank-day", "x", "--out", f"{T}/c.csv"),
            "--rank-day",
        ),
        "tracking-end-before-start": (
            ("validate", "tracking", "--start", "2026-02-02", "--end", "2026-01-02"),
            "--end",
        ),
        "validate-recon-not-an-effective-date": (
            ("validate", "recon", "--effective", "2026-06-25", "--data", D),
            "--effective",
        ),
        "calendar-year-out-of-range": (("calendar", "1900"), "1900"),
        "run-session-not-a-date": (
            ("run", "--session", "2026-13-01", "--store", S),
            "--session",
        ),
        "run-without-a-store": (
            ("run", "--session", "2026-01-12", "--data", D, "--store", S),
            "does not exist",
        ),
        "sweep-end-before-start": (
            ("sweep", "--start", "2027", "--end", "2026", "--out", f"{T}/s.csv"),
            "--end",
        ),
        "preview-rank-day-not-a-date": (
            ("preview", "--rank-day", "April"),
            "--rank-day",
        ),
        "calculate-data-missing": (
            (*CALC[:-4], "--data", f"{T}/nowhere", "--store", S),
            "nowhere",
        ),
        "check-data-missing": (("check", "--data", f"{T}/nowhere"), "nowhere"),
        "calculate-data-is-a-file": (
            (*CALC[:-4], "--data", f"{T}/plain.txt", "--store", S),
            "plain.txt",
        ),
        "calculate-start-a-saturday": (
            ("calculate", "--start", "2026-01-03", "--end", "2026-01-09", *DS),
            "2026-01-03",
        ),
        "export-constituents-session-a-sunday": (
            (*CONSTITUENTS[:3], "2026-01-11", *CONSTITUENTS[4:]),
            "2026-01-11",
        ),
        "reconstitute-rules-missing": (
            (*RECON, "--rules", f"{T}/nowhere.toml"),
            "nowhere.toml",
        ),
        "reconstitute-rules-not-toml": (
            (*RECON, "--rules", f"{T}/plain.txt"),
            "plain.txt",
        ),
        "sweep-rules-missing": (
            (*SWEEP, "--out", f"{T}/s.csv", "--rules", f"{T}/nowhere.toml"),
            "nowhere.toml",
        ),
        "rates-rstar-missing": (
            (*RATES_CMD, "--rstar", f"{T}/nowhere.csv"),
            "nowhere.csv",
        ),
        "rates-unknown-frequency": ((*RATES_CMD, "--frequency", "hourly"), "hourly"),
        "rates-window-negative": ((*RATES_CMD, "--window", "-3"), "--window"),
        "rates-band-negative": ((*RATES_CMD, "--band", "-1"), "--band"),
        "rates-max-carry-days-negative": (
            (*RATES_CMD, "--max-carry-days", "-1"),
            "--max-carry-days",
        ),
        "preview-adv-window-zero": ((*PREVIEW, "--adv-window", "0"), "--adv-window"),
        "preview-passive-aum-negative": (
            (*PREVIEW, "--passive-aum", "-5"),
            "--passive-aum",
        ),
        "preview-top-negative": ((*PREVIEW, "--top", "-1"), "--top"),
        "sweep-workers-zero": (
            (*SWEEP, "--out", f"{T}/s.csv", "--workers", "0"),
            "--workers",
        ),
        "sweep-unknown-backend": (
            (*SWEEP, "--out", f"{T}/s.csv", "--backend", "spark"),
            "spark",
        ),
        "recon-effect-rank-day-not-a-date": (
            ("recon-effect", "--rank-day", "2026/04/30", "--data", D),
            "--rank-day",
        ),
        "unknown-command": (("frobnicate",), "frobnicate"),
        "unknown-option": ((*CALC, "--frobnicate"), "--frobnicate"),
    }
    cases = {
        name: Case(args, BROKEN_PANEL, (named,)) for name, (args, named) in o.items()
    }
    cases["calculate-start-before-the-panel"] = Case(  # read from the panel
        ("calculate", "--start", "2025-06-02", "--end", "2025-06-09", *DS),
        names=("2025-06-02", "2025-12-26"),
    )
    for kind in ("truncated", "locked"):
        for command, args in (("calculate", CALC), ("reconstitute", RECON)):
            cases[f"{command}-store-{kind}"] = Case(
                args, BROKEN_PANEL, ("s.duckdb",), store=kind
            )
    cases["run-store-locked"] = Case(
        ("run", "--session", "2026-01-12", "--data", D, "--store", S),
        BROKEN_PANEL,
        ("locked", "pid 1"),
        store="locked",
    )
    cases["run-store-truncated"] = Case(
        ("run", "--session", "2026-01-12", "--data", D, "--store", S),
        BROKEN_PANEL,
        ("s.duckdb",),
        store="truncated",
    )
    cases["calculate-json-end-before-start"] = Case(
        o["calculate-end-before-start"][0], BROKEN_PANEL, ("--end",), as_json=True
    )
    return cases


CASES: Final[dict[str, Case]] = {
    **_level_cases(),
    **_holdings_cases(),
    **_file_name_cases(),
    **_panel_cases(),
    **_membership_cases(),
    **_splits_cases(),
    **_rates_cases(),
    **_sec_cases(),
    **_extra_file_cases(),
    **_output_cases(),
    **_option_cases(),
}


# ------------------------------------------------------------------ the harness


def _build(tmp: Path, files: dict[str, Callable[[], Edit]]) -> tuple[Path, list[str]]:
    """A data directory of symlinks to the real files, with ``files`` replaced.

    Returns the directory and what the message must name: each replaced file's
    name (unless deleted) and its :attr:`Edit.where`.
    """
    root = tmp / "data"
    edits = {rel: make() for rel, make in files.items()}
    changed_dirs = {Path(rel).parent for rel in edits}
    changed_dirs |= {p for d in list(changed_dirs) for p in d.parents}

    def link(source: Path, target: Path, rel: Path) -> None:
        if rel not in changed_dirs:
            target.symlink_to(source, target_is_directory=source.is_dir())
            return
        target.mkdir()
        for child in sorted(source.iterdir()):
            link(child, target / child.name, rel / child.name)

    link(ROOT, root, Path())
    for rel, edit in edits.items():
        target = root / rel
        if target.is_symlink():
            target.unlink()
        if edit.content is DIRECTORY:
            target.mkdir()
        elif edit.content is not None:
            target.write_bytes(edit.content)
    named = [
        part
        for rel, edit in edits.items()
        for part in (
            *((Path(rel).name,) if edit.content is not None else ()),
            *edit.where,
        )
    ]
    return root, named


def _snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``: link targets, file digests and times."""
    found: dict[str, object] = {}
    for top, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            path = Path(top) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                found[rel] = ("link", str(path.readlink()))
            elif path.is_dir():
                found[rel] = ("dir",)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                found[rel] = ("file", digest, path.stat().st_mtime_ns)
    return found


def _squash(text: str) -> str:
    """Text without whitespace or box drawing (usage errors come in a box)."""
    return re.sub(r"[\s│╭╮╰╯─]+", "", text)


_run = run_cli


def _make_store(store: Path, kind: str, good: bytes) -> None:
    """A store as ``kind`` says (see :attr:`Case.store`)."""
    if kind == "truncated":
        store.write_bytes(good[: len(good) // 2 + 1000])
        return
    store.write_bytes(good)
    if kind == "locked":  # pid 1 is alive on this host
        holder = {"pid": 1, "host": socket.gethostname(), "command": "r2k run"}
        store.with_name(store.name + ".lock").write_text(
            json.dumps(holder | {"since": "2026-12-01T06:00:00+00:00"})
        )


@pytest.fixture(scope="module")
def stored_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A store holding r2k's Russell 2000 over 2026-01-02 .. 2026-01-09."""
    store = tmp_path_factory.mktemp("store") / "s.duckdb"
    args = ["r2k", "calculate", "--start", "2026-01-02", "--end", "2026-01-09"]
    args += ["--data", str(ROOT), "--store", str(store)]
    saved = sys.argv
    sys.argv = args
    sink = io.StringIO()
    code: object = 0
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            main()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = saved
    assert not code, sink.getvalue()
    return store.read_bytes()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working directory, with the usual traps in it."""
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "plain.txt").write_text("a file\n")
    for name in ("folder", "folder.csv", "folder.parquet", "folder.html"):
        (tmp_path / name).mkdir()
    for name in ("folder.png", "folder.duckdb"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("R2K_STORE", raising=False)
    monkeypatch.delenv("R2K_DATA", raising=False)
    monkeypatch.setenv("R2K_NO_CACHE", "1")  # no reconstitution cache in ~/.cache
    return tmp_path


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 150
    commands = {case.args[0] for case in CASES.values()}
    assert commands >= {
        "analyze",
        "calculate",
        "reconstitute",
        "export",
        "report",
        "plot",
        "rates",
        "validate",
        "check",
        "preview",
        "demo",
        "run",
        "sweep",
        "calendar",
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_fails_cleanly(
    name: str,
    workdir: Path,
    stored_bytes: bytes,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES[name]
    tmp = workdir
    root, named = _build(tmp, case.files)
    store = tmp / "s.duckdb"
    if case.store:
        _make_store(store, case.store, stored_bytes)
    if case.out_is_a_file:
        (tmp / "work" / "out").write_text("a file where demo writes its folder\n")
    args = [
        a.format(data=root, tmp=tmp, store=store)
        for a in (*case.args, *(("--json",) if case.as_json else ()))
    ]
    before = _snapshot(tmp)
    code, out, err = _run(args, capsys, monkeypatch)
    both = out + err
    assert code == case.code, both
    assert "Traceback" not in both
    assert _snapshot(tmp) == before, "a file was written or changed"
    if case.code == 1:  # r2k check: a report on stdout, the errors in it
        report = json.loads(out)
        assert report["errors"] >= 1
        text = " ".join(e for f in report["files"] for e in f["errors"])
    elif case.as_json:
        payload = json.loads(out)
        assert set(payload) == {"error", "message", "hint"}
        text = payload["message"]
        assert _squash(text) in _squash(err)
    else:
        assert out == "", "nothing but the error on a failure"
        lines = err.strip().splitlines()
        assert "Usage:" in err or len(lines) == 1, err  # usage errors: a box
        text = err
    expected = [*named, *case.names]
    if case.files is BROKEN_PANEL:  # refused before the panel was read
        expected = list(case.names)
        assert Path(PANEL).name not in text
    for part in expected:
        assert _squash(part) in _squash(text), f"{part!r} not named in: {text}"


# ------------------------------------------------------------------ warnings


def _usable(rel: str) -> bytes:
    """``rel`` with a line repeated and an as-of date a day before its name.

    Both are data-quality warnings (the data are usable): the repeated line is
    kept and reported, and the file is used from the date in its name.
    """
    lines = _lines(rel)
    at = _header_line(rel)
    lines.insert(at + 6, lines[at + 5])  # data row 4 repeated: line at + 7
    lines[1] = 'Fund Holdings as of,"Nov 04, 2025"'
    return _join(lines)


def test_warnings_are_counted_in_the_json_and_on_stderr(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = _build(workdir, {IWM_NOV: lambda: Edit(_usable(IWM_NOV))})
    args = [a.format(data=root, store=workdir / "s.duckdb") for a in CALC]
    code, out, err = _run([*args, "--json"], capsys, monkeypatch)
    assert code == 0, err
    payload = json.loads(out)
    assert payload["warnings"] == 2
    repeated, older = sorted(payload["warning_messages"], key=lambda m: "as of" in m)
    line = _header_line(IWM_NOV) + 7
    assert "IWM_2025-11-05.csv" in repeated
    assert f"line {line}: repeats line {line - 1}" in repeated
    assert "line 2: 'Fund Holdings as of' 'Nov 04, 2025' is before" in older
    assert err.count("r2k: warning:") == 2
    code, out, err = _run(args, capsys, monkeypatch)  # the same, as text
    assert code == 0, err
    assert err.count("r2k: warning:") == 2
    assert "2 data warning(s)" in err


def test_no_warning_is_zero_and_check_keeps_its_own_count(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = _build(workdir, {})
    args = [a.format(data=root) for a in ANALYZE]
    code, out, err = _run([*args, "--json"], capsys, monkeypatch)
    assert code == 0, err
    payload = json.loads(out)
    assert (payload["warnings"], payload["warning_messages"]) == (0, [])
    assert "warning" not in err

    def doubled(frame: pl.DataFrame) -> pl.DataFrame:
        return pl.concat([frame, frame.slice(100, 3)])

    (workdir / "data").unlink()  # a link to the real directory
    root, _ = _build(workdir, {PANEL: panel_edit(doubled)})
    code, out, err = _run(["check", "--data", str(root), "--json"], capsys, monkeypatch)
    report = json.loads(out)
    panel = next(f for f in report["files"] if f["file"] == PANEL)
    assert panel["errors"] == []
    assert panel["warnings"] == [
        f"{root / PANEL}, row {PANEL_ROWS + 1}: dropped 3 exact duplicate row(s) "
        f"(first: symbol {_panel_head()['symbol'][100]!r} on 2025-12-26); each "
        "(session, symbol) should appear once"
    ]
    assert report["warnings"] == 1  # check's own count, not replaced
    assert "warning_messages" not in report
