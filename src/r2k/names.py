"""Company names as people read them: without the security-type words.

The market panel names securities the way the exchange lists them ("Acme Corp.
Class A Common Stock"); every table, export, page and terminal line that shows a
company name goes through :func:`clean_name` (or :func:`clean_names` on a
column) so that the name reads "Acme Corp. Class A".
"""

from __future__ import annotations

import re

import polars as pl

__all__ = ["clean_name", "clean_names"]

_SECURITY_TYPE = re.compile(
    r"\s*(?:Common Stock|Common Shares|Ordinary Shares?)\b", re.IGNORECASE
)
_CLASS = re.compile(r"\b(?:Class|Cl)\.?\s+([A-Z])\b")


def clean_name(name: str | None) -> str | None:
    """A company name without the panel's security-type words.

    The text from "Common Stock" (or "Common Shares", "Ordinary Shares") on is
    dropped, a share class named after it is kept; names of warrants are left
    as they are.

    >>> clean_name("Acme Corp. Class A Common Stock ")
    'Acme Corp. Class A'
    >>> clean_name("Beta Inc. Common Stock $0.001 Par Value")
    'Beta Inc.'
    >>> clean_name("Gamma Inc Common Stock Class B")
    'Gamma Inc Class B'
    """
    if name is None:
        return None
    stripped = " ".join(name.split())
    if "warrant" in stripped.lower():
        return stripped
    parts = _SECURITY_TYPE.split(stripped, maxsplit=1)
    head = parts[0].rstrip(" ,-")
    if len(parts) == 2:
        share_class = _CLASS.search(parts[1])
        if share_class:
            head += f" Class {share_class.group(1)}"
    return head or stripped


def clean_names(column: str) -> pl.Expr:
    """``column`` with :func:`clean_name` applied to every value."""
    return pl.col(column).map_elements(clean_name, return_dtype=pl.String)
