"""``--currency``: the option and the tables of an index in another currency.

Used by ``r2k analyze --currency XXX`` (and ``r2k plot --chart currency``): the
option type, and :func:`print_currency` for the decomposition table. The work
is :func:`r2k.workflows.currency.analyze_in_currency`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from r2k.cli.options import out
from r2k.reporting.formatting import number, percent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from r2k.analytics.currency import CurrencyVersion

__all__ = ["CurrencyOpt", "print_currency"]

CurrencyOpt = Annotated[
    str | None,
    typer.Option(
        "--currency",
        help="Express the index in this currency (EUR, GBP, JPY, CHF, CAD, AUD, ...: "
        "any the FX file quotes against USD), over the window the FX data cover.",
        show_default=False,
    ),
]


def print_currency(version: CurrencyVersion, notes: Sequence[str] = ()) -> None:
    """The return in the currency split into dollar, currency and cross parts."""
    d = version.decomposition
    quote = (
        f"{version.currency} per USD"
        if version.quote == "target_per_usd"
        else f"USD per {version.currency}, inverted"
    )
    table = Table(
        title=f"{version.name} in {version.currency}: {version.start} to "
        f"{version.end} ({version.sessions:,} sessions; {version.column}, {quote})"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("return in USD", percent(d.usd_return, sign=True)),
        (
            f"currency return (USD against {version.currency})",
            percent(d.currency_return, sign=True),
        ),
        ("cross term (USD return x currency return)", percent(d.cross_term, sign=True)),
        (f"return in {version.currency} (the sum)", percent(d.local_return, sign=True)),
        (
            "annualised volatility in USD / in currency",
            f"{percent(version.usd_volatility)} / {percent(version.local_volatility)}",
        ),
        (
            "maximum drawdown in USD / in currency",
            f"{percent(version.usd_max_drawdown)} / "
            f"{percent(version.local_max_drawdown)}",
        ),
        (
            "first / last level in currency",
            f"{number(version.levels.item(0, 'local'))} / "
            f"{number(version.levels.item(-1, 'local'))}",
        ),
        (
            "sessions with the previous FX rate",
            f"{version.filled} (at most {version.fill_limit} in a row)",
        ),
    ]
    for measure, value in rows:
        table.add_row(measure, value)
    out.print(table)
    for note in notes:
        out.print(f"[yellow]note:[/yellow] {note}")
