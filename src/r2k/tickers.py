"""Ticker normalisation across sources.

Share-class tickers are written differently by each source: the Nasdaq screener
panel writes ``MOG/A``, iShares writes ``MOG.A`` or ``MOG A``, other feeds write
``MOG-A``. r2k's canonical form is upper case with a dot before the class letter(s):
``MOG.A``. The canonical ticker is the ``security_id`` of every canonical frame.
"""

from __future__ import annotations

import re

import polars as pl

_SEPARATORS = re.compile(r"[\s/\-_]+")


def normalize_ticker(raw: str) -> str:
    """Return the canonical form of one ticker.

    Examples
    --------
    >>> normalize_ticker("MOG/A"), normalize_ticker("mog a"), normalize_ticker("BRK-B")
    ('MOG.A', 'MOG.A', 'BRK.B')
    """
    text = raw.strip().upper()
    text = _SEPARATORS.sub(".", text)
    return text.strip(".")


def normalize_ticker_expr(column: str | pl.Expr) -> pl.Expr:
    """Vectorised :func:`normalize_ticker` as a Polars expression."""
    expr = pl.col(column) if isinstance(column, str) else column
    return (
        expr.str.strip_chars()
        .str.to_uppercase()
        .str.replace_all(r"[\s/\-_]+", ".")
        .str.strip_chars(".")
    )


def resolve_ticker(raw: str, known: frozenset[str] | set[str]) -> str:
    """Canonical ticker of ``raw``, matched against ``known`` canonical tickers.

    Some sources drop the class separator altogether (IWM membership history
    writes ``MOGA`` for ``MOG.A``). When the plain normalised ticker is not known
    but the same letters with a dot before the last one are, that form is
    returned.

    Examples
    --------
    >>> resolve_ticker("MOGA", {"MOG.A", "MOG.B"})
    'MOG.A'
    >>> resolve_ticker("AAPL", {"MOG.A"})
    'AAPL'
    """
    ticker = normalize_ticker(raw)
    if ticker in known or "." in ticker or len(ticker) < 2:
        return ticker
    dotted = f"{ticker[:-1]}.{ticker[-1]}"
    return dotted if dotted in known else ticker
