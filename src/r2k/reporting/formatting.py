"""Numbers, percentages and money as text: the one set of formatters.

Every value r2k shows a person (terminal tables, the HTML report, chart labels)
goes through these. Rounding happens here only, at output, in one stated mode:
Python's float formatting, which rounds the exact binary value half to even.
Missing values (``None``, NaN, infinities) show as ``n/a``.

>>> percent(0.07712)
'7.71%'
>>> percent(0.125, 1, sign=True)
'+12.5%'
>>> number(1234.5678)
'1,234.57'
>>> money(58_930_000_000.0)
'$58.93B'
>>> money(952_500_000.0)
'$952.5M'
>>> money(None)
'n/a'
>>> text({"stale_price": 2, "deletion": 1})
'stale_price: 2, deletion: 1'
"""

from __future__ import annotations

import math
from datetime import date

__all__ = ["MISSING", "is_missing", "money", "number", "percent", "text"]

#: How a missing value is shown.
MISSING = "n/a"


def is_missing(value: object) -> bool:
    """``None``, or a float that is not finite."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def percent(value: object, digits: int = 2, *, sign: bool = False) -> str:
    """A fraction as a percentage (``0.0771`` -> ``"7.71%"``)."""
    if is_missing(value):
        return MISSING
    shown = float(value) * 100.0  # type: ignore[arg-type]
    return f"{shown:+,.{digits}f}%" if sign else f"{shown:,.{digits}f}%"


def number(value: object, digits: int = 2) -> str:
    """A number with thousands separators and ``digits`` decimals."""
    if is_missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


_SCALES = ((1e12, "T", 2), (1e9, "B", 2), (1e6, "M", 1))


def money(value: object) -> str:
    """US dollars, scaled: ``$1.23T``, ``$58.93B``, ``$952.5M``, ``$12,345``."""
    if is_missing(value):
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    for scale, suffix, digits in _SCALES:
        if abs(v) >= scale:
            return f"${v / scale:,.{digits}f}{suffix}"
    return f"${v:,.0f}"


def text(value: object) -> str:
    """Any value as plain text for a table cell: never Python's ``{...}`` or ``[...]``.

    Dates are ISO, booleans ``yes``/``no``, floats six significant digits; a
    mapping is ``key: value`` pairs and a sequence its items, separated by
    commas; an empty one is ``none``.

    >>> text(["2026-06-26", "2026-12-11"])
    '2026-06-26, 2026-12-11'
    >>> text({"r1000": 1004, "r2000": 1978})
    'r1000: 1004, r2000: 1978'
    >>> text([]), text(None), text(True), text(0.1234567)
    ('none', 'n/a', 'yes', '0.123457')
    """
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        if not value:
            return "none"
        return ", ".join(f"{k}: {text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        if not value:
            return "none"
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(text(v) for v in items)
    return str(value)
