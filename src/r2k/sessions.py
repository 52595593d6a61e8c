"""XNYS sessions as :class:`datetime.date`: the time backbone of r2k.

A *session* is a day on which the New York Stock Exchange trades (exchange_calendars'
vocabulary). Every scalar date in r2k that must be a trading day is checked here. This
is the only module of r2k that imports pandas or ``exchange_calendars``; everything
else sees plain ``datetime.date`` values.

The calendar is ``exchange_calendars``' ``XNYS`` built once (and cached) for
:data:`CALENDAR_START` to :data:`CALENDAR_END`, which covers the Russell base date
(1978-12-31, methodology.md §12 TC7) and every schedule r2k can compute. It includes
the ad hoc closures (for example 2001-09-11 to 2001-09-14, 2004-06-11 for President
Reagan's funeral, 2012-10-29 and 2012-10-30 for Hurricane Sandy, 2025-01-09 for
President Carter's funeral) and Juneteenth from 2022. Lookups bisect a sorted tuple of
dates, so no pandas object is touched after the first call.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import warnings
from datetime import date, timedelta

from r2k.errors import MethodologyError, MissingDataError, NotSessionError

__all__ = [
    "CALENDAR_END",
    "CALENDAR_NAME",
    "CALENDAR_START",
    "is_session",
    "last_business_day_of_month",
    "next_session",
    "nth_weekday",
    "previous_session",
    "require_session",
    "session_offset",
    "sessions_in_range",
]

CALENDAR_NAME = "XNYS"
"""The ``exchange_calendars`` code of r2k's calendar (New York Stock Exchange)."""

CALENDAR_START = date(1970, 1, 1)
"""First date covered (``exchange_calendars`` starts ~20 years back by default)."""

CALENDAR_END = date(2040, 12, 31)
"""Last date covered; r2k computes schedules up to 2039."""


@functools.cache
def _sessions() -> tuple[date, ...]:
    """Return every XNYS session in the covered range, ascending (built once)."""
    # Deferred: importing exchange_calendars (and pandas) costs about a second.
    import exchange_calendars

    with warnings.catch_warnings():
        # exchange_calendars 4.13 trips pandas 3 deprecation warnings while it builds
        # its schedule; they concern its internals, not r2k, and pytest runs with
        # warnings as errors.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        xnys = exchange_calendars.get_calendar(
            CALENDAR_NAME,
            start=CALENDAR_START.isoformat(),
            end=CALENDAR_END.isoformat(),
        )
        return tuple(session.date() for session in xnys.sessions)


@functools.cache
def _session_set() -> frozenset[date]:
    return frozenset(_sessions())


def _check_covered(d: date, name: str) -> None:
    if not CALENDAR_START <= d <= CALENDAR_END:
        msg = (
            f"`{name}` {d} is outside the XNYS calendar r2k covers "
            f"({CALENDAR_START} to {CALENDAR_END}); pass a date in that range"
        )
        raise MissingDataError(msg)


def is_session(d: date) -> bool:
    """Return whether `d` is an XNYS session.

    Parameters
    ----------
    d
        Calendar date.

    Returns
    -------
    bool
        ``True`` if the exchange trades on `d`.

    Raises
    ------
    MissingDataError
        If `d` is outside :data:`CALENDAR_START` .. :data:`CALENDAR_END`.
    """
    _check_covered(d, "d")
    return d in _session_set()


def sessions_in_range(start: date, end: date) -> list[date]:
    """Return the sessions from `start` to `end`, both inclusive, ascending.

    Parameters
    ----------
    start, end
        Calendar dates (need not be sessions). If `start` is after `end` the
        result is empty.

    Returns
    -------
    list of datetime.date
        The sessions ``s`` with ``start <= s <= end``.

    Raises
    ------
    MissingDataError
        If `start` or `end` is outside the covered range.
    """
    _check_covered(start, "start")
    _check_covered(end, "end")
    sessions = _sessions()
    lo = bisect.bisect_left(sessions, start)
    hi = bisect.bisect_right(sessions, end)
    return list(sessions[lo:hi])


def previous_session(d: date, *, inclusive: bool = False) -> date:
    """Return the last session before `d` (or on `d` when `inclusive`).

    Parameters
    ----------
    d
        Calendar date (need not be a session).
    inclusive
        If ``True`` and `d` is a session, return `d` itself.

    Returns
    -------
    datetime.date
        The latest session ``s < d`` (``s <= d`` when `inclusive`).

    Raises
    ------
    MissingDataError
        If `d` is outside the covered range or no such session is covered.
    """
    _check_covered(d, "d")
    sessions = _sessions()
    i = (
        bisect.bisect_right(sessions, d)
        if inclusive
        else bisect.bisect_left(sessions, d)
    )
    if i == 0:
        msg = f"no XNYS session before {d} in the calendar r2k covers"
        raise MissingDataError(msg)
    return sessions[i - 1]


def next_session(d: date, *, inclusive: bool = False) -> date:
    """Return the first session after `d` (or on `d` when `inclusive`).

    Parameters
    ----------
    d
        Calendar date (need not be a session).
    inclusive
        If ``True`` and `d` is a session, return `d` itself.

    Returns
    -------
    datetime.date
        The earliest session ``s > d`` (``s >= d`` when `inclusive`).

    Raises
    ------
    MissingDataError
        If `d` is outside the covered range or no such session is covered.
    """
    _check_covered(d, "d")
    sessions = _sessions()
    i = (
        bisect.bisect_left(sessions, d)
        if inclusive
        else bisect.bisect_right(sessions, d)
    )
    if i == len(sessions):
        msg = f"no XNYS session after {d} in the calendar r2k covers"
        raise MissingDataError(msg)
    return sessions[i]


def session_offset(d: date, n: int) -> date:
    """Return the session `n` sessions after `d` (before it when `n` < 0).

    Parameters
    ----------
    d
        A session.
    n
        Number of sessions to move; ``0`` returns `d`.

    Returns
    -------
    datetime.date
        The session `n` positions from `d` in the session list.

    Raises
    ------
    NotSessionError
        If `d` is not a session (use :func:`previous_session` or
        :func:`next_session` first).
    MissingDataError
        If the target session is outside the covered range.
    """
    require_session(d, name="d")
    sessions = _sessions()
    target = bisect.bisect_left(sessions, d) + n
    if not 0 <= target < len(sessions):
        msg = (
            f"session_offset({d}, {n}) falls outside the XNYS calendar r2k covers "
            f"({CALENDAR_START} to {CALENDAR_END})"
        )
        raise MissingDataError(msg)
    return sessions[target]


def require_session(d: date, *, name: str) -> date:
    """Return `d` if it is a session, else raise :class:`NotSessionError`.

    Parameters
    ----------
    d
        Date that must be a session.
    name
        Parameter name to quote in the error message (for example ``"rank_day"``).

    Returns
    -------
    datetime.date
        `d`, unchanged.

    Raises
    ------
    NotSessionError
        If `d` is not a session; the message names the neighbouring sessions.
    MissingDataError
        If `d` is outside the covered range.

    Examples
    --------
    >>> require_session(date(2026, 5, 1), name="rank_day")
    datetime.date(2026, 5, 1)
    """
    _check_covered(d, name)
    if d in _session_set():
        return d
    before = previous_session(d)
    after = next_session(d)
    msg = (
        f"`{name}` {d} is not an XNYS session; "
        f"the previous session is {before} and the next is {after}"
    )
    raise NotSessionError(msg)


def last_business_day_of_month(year: int, month: int) -> date:
    """Return the last XNYS session of a month.

    This is the methodology's "last business day" (rank days, IPO rank dates and
    share/float cut-offs, methodology.md §2.1 and §2.4).

    Parameters
    ----------
    year, month
        The month (``month`` in 1..12).

    Returns
    -------
    datetime.date
        The latest session in that month.

    Raises
    ------
    MethodologyError
        If `month` is not in 1..12.
    MissingDataError
        If the month is outside the covered range.
    """
    if not 1 <= month <= 12:
        msg = f"`month` must be in 1..12, got {month}"
        raise MethodologyError(msg)
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    return previous_session(last_day, inclusive=True)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """Return the `n`-th given weekday of a month as a calendar date.

    The result is *not* adjusted for holidays: schedule rules name a nominal day
    ("the 4th Friday of June") and then move it to a session themselves.

    Parameters
    ----------
    year, month
        The month (``month`` in 1..12).
    weekday
        ``0`` = Monday ... ``6`` = Sunday (:meth:`datetime.date.weekday`).
    n
        ``1`` for the first such weekday, ``2`` for the second, ...; ``-1`` for
        the last, ``-2`` for the one before the last, ...

    Returns
    -------
    datetime.date
        The calendar date.

    Raises
    ------
    MethodologyError
        If an argument is out of range or the month has no such day (for example
        a 5th Friday in a month with four).

    Examples
    --------
    >>> nth_weekday(2026, 6, 4, 4)  # 4th Friday of June 2026
    datetime.date(2026, 6, 26)
    >>> nth_weekday(2018, 6, 4, -1)  # last Friday of June 2018
    datetime.date(2018, 6, 29)
    """
    if not 1 <= month <= 12:
        msg = f"`month` must be in 1..12, got {month}"
        raise MethodologyError(msg)
    if not 0 <= weekday <= 6:
        msg = f"`weekday` must be in 0..6 (Monday=0), got {weekday}"
        raise MethodologyError(msg)
    if n == 0 or not -5 <= n <= 5:
        msg = f"`n` must be in 1..5 or -5..-1, got {n}"
        raise MethodologyError(msg)
    days_in_month = calendar.monthrange(year, month)[1]
    if n > 0:
        first = date(year, month, 1)
        result = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    else:
        last = date(year, month, days_in_month)
        result = last - timedelta(days=(last.weekday() - weekday) % 7 + 7 * (-n - 1))
    if result.month != month:
        msg = f"{year}-{month:02d} has no weekday {weekday} number {n}"
        raise MethodologyError(msg)
    return result
