"""``r2k check``: a data-quality report of a data directory and a store.

Every data file r2k reads is read with its reader (``r2k.data.sources``): the
report says what each holds (rows, first and last date) and the problems found
(errors, which fail the command, and warnings). With ``--store`` it adds the
store's state: its format, its lock, its tables and row counts, the calculated
series and the restatements recorded. Exit 0 when no error was found, else 1.
``--migrate`` upgrades a store of an older format (explicitly; back it up first).
"""

from __future__ import annotations

import json
import sys
import warnings
from functools import partial
from pathlib import Path  # noqa: TC003 - typer reads the annotation at runtime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from r2k.cli.options import DataOpt, JsonOpt, out

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["check_data", "check_store", "register"]


def _date_range(frame: Any) -> tuple[str | None, str | None]:
    import polars as pl

    for name, dtype in frame.schema.items():
        if dtype == pl.Date and frame.height:
            col = frame[name]
            return str(col.min()), str(col.max())
    return None, None


def _entry(path: Path, root: Path, read: Callable[[], Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "file": path.relative_to(root).as_posix(),
        "rows": None,
        "first": None,
        "last": None,
        "errors": [],
        "warnings": [],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = read()
        except Exception as exc:  # every failure is a finding
            entry["errors"].append(str(exc).splitlines()[0] if str(exc) else repr(exc))
            frame = None
    entry["warnings"] = [str(w.message) for w in caught]
    if frame is not None:
        data = getattr(frame, "frame", frame)
        entry["rows"] = data.height
        entry["first"], entry["last"] = _date_range(data)
        as_of = getattr(frame, "as_of", None)
        if as_of is not None:
            entry["first"] = entry["last"] = str(as_of)
    return entry


def check_data(root: Path) -> list[dict[str, Any]]:
    """One entry per data file: rows, date range, errors and warnings."""
    from r2k.data.sources import fx, ishares, levels, membership, panel, rates, splits

    readers: list[tuple[str, Callable[[Path], Any]]] = [
        ("market/*.parquet", panel.read_market_panel),
        ("ishares/*.csv", ishares.read_holdings),
        ("membership/*.parquet", membership.read_membership_history),
        ("rates/us_rates_daily.csv", rates.read_us_rates),
        ("rates/us_real_yields_breakevens_daily.csv", rates.read_real_yields),
        ("fx/fx_pairs_daily.csv", fx.read_fx_pairs),
        ("fx/dxy_daily.csv", fx.read_dollar_index),
    ]
    entries: list[dict[str, Any]] = []
    for pattern, reader in readers:
        for path in sorted(root.glob(pattern)):
            entries.append(_entry(path, root, partial(reader, path)))
    for path in sorted(root.glob("indices/*_daily.csv")):
        code = path.name.split("_")[0]
        read = partial(levels.read_index_levels, path, code)
        entries.append(_entry(path, root, read))
    folder = root / "corporate_actions" / "splits"
    if folder.is_dir():
        entries.append(_entry(folder, root, lambda: splits.read_splits(folder)))
    if not entries:
        entries.append(
            {
                "file": ".",
                "rows": None,
                "first": None,
                "last": None,
                "errors": [f"no data file r2k reads was found in {root}"],
                "warnings": [],
            }
        )
    return entries


def check_store(path: Path, *, migrate: bool = False) -> dict[str, Any]:
    """The store's state: format, lock holder, tables, series, restatements."""
    from r2k.data.store import Store, lock_holder
    from r2k.errors import StoreError

    report: dict[str, Any] = {"store": str(path), "errors": [], "warnings": []}
    if not path.exists():
        report["errors"].append(f"store {path} does not exist")
        return report
    holder = lock_holder(path)
    report["lock"] = holder
    try:
        with Store(path, must_exist=True, migrate=migrate) as db:
            program, version = db.format()
            report |= {"program": program, "format": version}
            report["tables"] = db.table_counts()
            series: dict[str, Any] = {}
            for name in db._query(  # read-only report
                "SELECT DISTINCT index_name FROM calc_state ORDER BY 1", []
            )["index_name"]:
                lv = db.levels(name)
                series[name] = {
                    "sessions": lv.height,
                    "first": str(lv["session"].min()) if lv.height else None,
                    "last": str(lv["session"].max()) if lv.height else None,
                }
                db.load_state(name)  # a damaged state is an error
            report["series"] = series
            report["restatements"] = db.restatements().height
    except StoreError as exc:
        report["errors"].append(str(exc))
    return report


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to ``app``."""

    @app.command()
    def check(
        data: DataOpt = None,
        store: Annotated[
            Path | None,
            typer.Option("--store", help="A DuckDB store to check as well."),
        ] = None,
        migrate: Annotated[
            bool,
            typer.Option(
                "--migrate",
                help="Upgrade a store of an older format (back it up first).",
            ),
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """Report what each data file holds and the problems found; exit 1 on errors."""
        from r2k.data.datadir import DataDir

        payload: dict[str, Any] = {}
        if data is not None or store is None:
            source = DataDir.resolve(data)
            payload["data"] = str(source.root)
            payload["files"] = check_data(source.root)
        if store is not None:
            payload["store"] = check_store(store, migrate=migrate)
        files = payload.get("files", [])
        errors = sum(len(f["errors"]) for f in files)
        warns = sum(len(f["warnings"]) for f in files)
        if "store" in payload:
            errors += len(payload["store"]["errors"])
        payload["errors"] = errors
        payload["warnings"] = warns
        if as_json:
            out.print_json(json.dumps(payload, default=str))
        else:
            _print(payload)
        if errors:
            sys.exit(1)


def _print(payload: dict[str, Any]) -> None:
    if "files" in payload:
        table = Table(title=f"data {escape(payload['data'])}")
        for col in ("file", "rows", "first", "last", "problems"):
            table.add_column(col)
        for f in payload["files"]:
            problems = [f"error: {e}" for e in f["errors"]]
            problems += [f"warning: {w}" for w in f["warnings"]]
            table.add_row(
                escape(f["file"]),
                "" if f["rows"] is None else str(f["rows"]),
                f["first"] or "",
                f["last"] or "",
                escape("\n".join(problems)) or "ok",
            )
        out.print(table)
    if "store" in payload:
        s = payload["store"]
        out.print(f"store {escape(s['store'])}")
        for key in ("program", "format", "lock", "tables", "series", "restatements"):
            if key in s:
                out.print(f"  {key}: {escape(json.dumps(s[key], default=str))}")
        for e in s["errors"]:
            out.print(f"  [red]error:[/red] {escape(e)}")
    out.print(f"{payload['errors']} error(s), {payload['warnings']} warning(s)")
