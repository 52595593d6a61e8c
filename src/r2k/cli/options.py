"""Options, consoles and argument parsers shared by every ``r2k`` command.

Each option is defined once here; the command modules (``app``, ``analytics``,
...) import them.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from r2k._typing import INDEX_CODES, IndexCode

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "DataOpt",
    "FamilyIndexOpt",
    "JsonOpt",
    "RulesOpt",
    "StoreOpt",
    "err",
    "index_code",
    "out",
    "parse_date",
    "progress",
]

out = Console()
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
