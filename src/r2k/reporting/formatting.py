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
"""

from __future__ import annotations

import math

__all__ = ["MISSING", "is_missing", "money", "number", "percent"]

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
