"""``r2k export``: constituents and reconstitution changes as CSV, Parquet or JSON.

:func:`register` adds the ``export`` group and the ``--version`` flag to a Typer
app (``r2k.cli.app`` calls it on its own app)::

    r2k export constituents --index r2000 --session 2026-07-22 --format csv --out c.csv
    r2k export changes --rank-day 2026-04-30 --format csv --out changes.csv
    r2k --version
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from r2k import __version__
from r2k.cli.options import (
    DataOpt,
    FamilyIndexOpt,
    JsonOpt,
    StoreOpt,
    index_code,
    out,
    parse_date,
    parse_session,
    progress,
)
from r2k.data.datadir import DataDir
from r2k.data.files import FORMATS, check_output_path, write_frame

if TYPE_CHECKING:
    # r2k.workflows.exports and r2k.data.store import polars and duckdb: imported
    # in the commands, so `r2k --help` and `r2k calendar` start without them.
    from r2k._typing import FileFormat

__all__ = ["export_app", "register"]

export_app = typer.Typer(
    help="Write constituents or reconstitution changes to a file.",
    no_args_is_help=True,
)

FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="csv, parquet or json (an array of records); default: from --out's "
        "suffix.",
        show_default=False,
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", help="File to write.")]


def _format(value: str | None, path: Path) -> FileFormat:
    chosen = value if value is not None else path.suffix.lstrip(".")
    for fmt in FORMATS:
        if chosen.lower() == fmt:
            return fmt
    msg = (
        f"--format {chosen!r}: use one of {', '.join(FORMATS)} (or give --out a "
        ".csv, .parquet or .json suffix)"
    )
    raise typer.BadParameter(msg)


@export_app.command("constituents")
def export_constituents(
    session: Annotated[
        str, typer.Option("--session", help="Session, YYYY-MM-DD.", show_default=False)
    ],
    out_file: OutOpt,
    index: FamilyIndexOpt = "r2000",
    fmt: FormatOpt = None,
    data: DataOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Constituents of an index on a session, with weights, names, sectors, caps.

    From the store's calculation <index>-r2k when it holds the session (r2k
    calculate), else calculated from the data directory.
    """
    from r2k.data.store import resolve_store_path
    from r2k.workflows.exports import constituents_table

    day = parse_session(session, "--session")
    code = index_code(index)
    kind = _format(fmt, out_file)
    check_output_path(out_file, None, parents=True)  # before any work
    source = DataDir.resolve(data)
    with progress(f"gathering the {code} constituents of {day} ..."):
        frame, origin = constituents_table(
            source, code, day, store=resolve_store_path(store)
        )
    path = write_frame(frame, out_file, kind, parents=True)
    summary = {
        "index": code,
        "session": day.isoformat(),
        "rows": frame.height,
        "format": kind,
        "out": str(path),
        "source": origin,
    }
    if as_json:
        out.print_json(json.dumps(summary))
        return
    out.print(f"{frame.height:,} {code} constituents of {day} written to {path}")
    out.print(f"source: {origin}")


@export_app.command("changes")
def export_changes(
    rank_day: Annotated[
        str,
        typer.Option("--rank-day", help="Rank day, YYYY-MM-DD.", show_default=False),
    ],
    out_file: OutOpt,
    fmt: FormatOpt = None,
    data: DataOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Adds, deletes and migrations of the reconstitution ranked on a rank day."""
    from r2k.workflows.exports import changes_table

    day = parse_date(rank_day, "--rank-day")
    kind = _format(fmt, out_file)
    check_output_path(out_file, None, parents=True)  # before any work
    source = DataDir.resolve(data)
    with progress(f"reconstituting rank day {day} ..."):
        frame = changes_table(source, day)
    path = write_frame(frame, out_file, kind, parents=True)
    counts = dict(sorted(frame.group_by("change").len().iter_rows()))
    summary = {
        "rank_day": day.isoformat(),
        "rows": frame.height,
        "changes": counts,
        "format": kind,
        "out": str(path),
    }
    if as_json:
        out.print_json(json.dumps(summary))
        return
    shown = ", ".join(f"{n:,} {what}" for what, n in counts.items())
    out.print(f"{frame.height:,} changes of rank day {day} ({shown}) written to {path}")


def _show_version(value: bool) -> None:
    if value:
        out.print(f"r2k {__version__}")
        raise typer.Exit


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the r2k version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """r2k: the Russell 2000 index system — build, validate, explain."""


def register(app: typer.Typer) -> None:
    """Add ``export`` and the ``--version`` flag to ``app``."""
    app.add_typer(export_app, name="export")
    if app.registered_callback is None:
        app.callback()(_root)
