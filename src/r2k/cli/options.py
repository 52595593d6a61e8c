"""Options, consoles and argument parsers shared by every ``r2k`` command.

Each option is defined once here; the command modules (``app``, ``analytics``,
...) import them.

:data:`out` is the stdout console. Its ``print_json`` adds the data-quality
warnings of the command being run (``warnings``: their count,
``warning_messages``: their texts; see :func:`r2k.cli.app.main` and
:mod:`r2k.data.sources.quality`) to a JSON object that does not already have a
``warnings`` key, so every ``--json`` output carries them without each command
doing it.
"""

from __future__ import annotations

import json as _json
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from r2k._typing import INDEX_CODES, IndexCode

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "WARNINGS",
    "DataOpt",
    "FamilyIndexOpt",
    "JsonOpt",
    "RulesOpt",
    "StoreOpt",
    "err",
    "index_code",
    "out",
    "parse_date",
    "parse_session",
    "progress",
]

WARNINGS: list[str] = []
"""Data-quality warnings of the command being run (filled by ``r2k.cli.app.main``)."""


class _Out(Console):
    """The stdout console; ``print_json`` adds the command's warnings."""

    def print_json(
        self,
        json: str | None = None,
        *,
        data: Any = None,
        warnings: bool = True,
        **options: Any,
    ) -> None:
        """Print JSON (see :meth:`rich.console.Console.print_json`).

        Parameters
        ----------
        warnings : bool, default True
            Add ``warnings`` (the count of :data:`WARNINGS`) and
            ``warning_messages`` (their texts) to a JSON object that has no
            ``warnings`` key yet (``r2k check`` has its own); False for output
            that reads no data (``r2k version``).
        """
        payload = _json.loads(json) if json is not None else data
        if warnings and isinstance(payload, dict) and "warnings" not in payload:
            payload = payload | {
                "warnings": len(WARNINGS),
                "warning_messages": list(WARNINGS),
            }
            json, data = _json.dumps(payload, default=str), None
        super().print_json(json, data=data, **options)


out = _Out()
err = Console(stderr=True, soft_wrap=True)

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data", help="Data directory (default: $R2K_DATA).", show_default=False
    ),
]
StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store (default: $R2K_STORE or ./r2k.duckdb)."),
]
SyntheticOpt = Annotated[
    bool,
    typer.Option("--synthetic", help="The seeded synthetic market instead of --data."),
]
CompaniesOpt = Annotated[
    int, typer.Option("--companies", min=1, help="Synthetic market size.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Synthetic market seed.")]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print JSON instead of tables (an error too: an object with error, "
        "message and hint on stdout).",
    ),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules", help="Rule-set TOML (default: the packaged rules in force)."
    ),
]
FamilyIndexOpt = Annotated[
    str,
    typer.Option(
        "--index",
        help="Index of the family: r3000e r3000 r1000 r2000 microcap midcap top200 "
        "r2500. Other than r2000, it starts from r2k's own reconstitution on the "
        "effective date on or before --start.",
    ),
]


def parse_date(value: str, option: str) -> date:
    """``value`` as a date, or a usage error naming ``option``."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        msg = f"{option} {value!r} is not a date; write it as YYYY-MM-DD"
        raise typer.BadParameter(msg) from None


def parse_session(value: str, option: str) -> date:
    """``value`` as an XNYS session, else an error naming ``option`` (before work).

    Raises
    ------
    typer.BadParameter
        If ``value`` is not a date.
    r2k.errors.NotSessionError
        If it is a day the NYSE does not trade; the message names the sessions
        around it.
    """
    from r2k.sessions import require_session

    return require_session(parse_date(value, option), name=option)


def one_market(*, synthetic: bool, data: Path | None) -> None:
    """A usage error when both ``--synthetic`` and ``--data`` are given."""
    if synthetic and data is not None:
        msg = "--synthetic and --data: choose one"
        raise typer.BadParameter(msg)


def index_code(value: str, option: str = "--index") -> IndexCode:
    """``value`` as an index of the family (case-insensitive), or a usage error."""
    for code in INDEX_CODES:
        if value.lower() == code:
            return code
    msg = f"{option} {value!r}: use one of {', '.join(INDEX_CODES)}"
    raise typer.BadParameter(msg)


@contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner, ``message`` and the elapsed time on stderr while a long step runs.

    It goes to :data:`err` (stdout stays clean for ``--json``), disappears when
    the step ends and shows nothing when stderr is not a terminal.
    """
    if not err.is_terminal:
        yield
        return
    with Progress(
        SpinnerColumn(),
        TextColumn(message, markup=False),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        bar.add_task(message, total=None)
        yield
