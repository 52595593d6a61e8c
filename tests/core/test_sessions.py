"""Tests for r2k.sessions: XNYS sessions as datetime.date.

Expected values are written out from the NYSE holiday record (closures named in the
comments), never computed by calling the function under test (house style A1).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from r2k.errors import MethodologyError, MissingDataError, NotSessionError
from r2k.sessions import (
    CALENDAR_END,
    CALENDAR_START,
    is_session,
    last_business_day_of_month,
    next_session,
    nth_weekday,
    previous_session,
    require_session,
    session_offset,
    sessions_in_range,
)

MONDAY, FRIDAY = 0, 4

# Weekday closures of the NYSE, with the reason.
KNOWN_CLOSURES = [
    date(2026, 6, 19),  # Juneteenth (a Friday in 2026)
    date(2025, 1, 9),  # National day of mourning, President Carter
    date(2012, 10, 29),  # Hurricane Sandy
    date(2012, 10, 30),  # Hurricane Sandy
    date(2001, 9, 11),  # September 11 attacks (closed 11-14 Sep)
    date(2001, 9, 14),
    date(2004, 6, 11),  # National day of mourning, President Reagan
    date(2008, 3, 21),  # Good Friday (= 3rd Friday of March 2008)
    date(2024, 7, 4),  # Independence Day
    date(2022, 6, 20),  # Juneteenth observed (first year)
    date(1985, 9, 27),  # Hurricane Gloria
]

KNOWN_SESSIONS = [
    date(2026, 6, 18),  # Thursday before Juneteenth 2026
    date(2012, 10, 31),  # market reopened after Sandy
    date(2025, 1, 10),
    date(2001, 9, 17),  # market reopened after 9/11
    date(2021, 6, 18),  # Juneteenth was not an NYSE holiday before 2022
    date(2026, 11, 27),  # day after Thanksgiving: early close, still a session
    date(1979, 5, 31),
    CALENDAR_END,  # 2040-12-31, a Monday
]


@pytest.mark.parametrize("d", KNOWN_CLOSURES)
def test_known_closures_are_not_sessions(d: date) -> None:
    assert not is_session(d)


@pytest.mark.parametrize("d", KNOWN_SESSIONS)
def test_known_sessions(d: date) -> None:
    assert is_session(d)


def test_weekends_are_not_sessions() -> None:
    assert not is_session(date(2026, 5, 2))  # Saturday
    assert not is_session(date(2026, 5, 3))  # Sunday


def test_previous_and_next_around_juneteenth_2026() -> None:
    holiday = date(2026, 6, 19)
    assert previous_session(holiday) == date(2026, 6, 18)
    assert previous_session(holiday, inclusive=True) == date(2026, 6, 18)
    assert next_session(holiday) == date(2026, 6, 22)
    assert next_session(holiday, inclusive=True) == date(2026, 6, 22)


def test_inclusive_on_a_session_returns_it() -> None:
    d = date(2026, 6, 18)
    assert previous_session(d, inclusive=True) == d
    assert next_session(d, inclusive=True) == d
    assert previous_session(d) == date(2026, 6, 17)
    assert next_session(d) == date(2026, 6, 22)


def test_sandy_gap() -> None:
    assert next_session(date(2012, 10, 26)) == date(2012, 10, 31)
    assert previous_session(date(2012, 10, 31)) == date(2012, 10, 26)
    result = sessions_in_range(date(2012, 10, 26), date(2012, 11, 1))
    expected = [date(2012, 10, 26), date(2012, 10, 31), date(2012, 11, 1)]
    assert result == expected


def test_sessions_in_range_bounds_inclusive_and_empty() -> None:
    assert sessions_in_range(date(2026, 6, 18), date(2026, 6, 18)) == [
        date(2026, 6, 18)
    ]
    assert sessions_in_range(date(2026, 6, 19), date(2026, 6, 21)) == []
    assert sessions_in_range(date(2026, 6, 22), date(2026, 6, 18)) == []


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2023, 250),  # NYSE trading days per year, published by NYSE
        (2024, 252),
        (2025, 250),  # includes the 2025-01-09 closure
    ],
)
def test_sessions_per_year(year: int, expected: int) -> None:
    assert len(sessions_in_range(date(year, 1, 1), date(year, 12, 31))) == expected


def test_session_offset() -> None:
    assert session_offset(date(2026, 6, 18), 1) == date(2026, 6, 22)
    assert session_offset(date(2026, 6, 22), -1) == date(2026, 6, 18)
    assert session_offset(date(2012, 10, 26), 2) == date(2012, 11, 1)
    assert session_offset(date(2026, 6, 18), 0) == date(2026, 6, 18)


def test_session_offset_requires_a_session() -> None:
    with pytest.raises(NotSessionError, match=r"`d` 2026-06-19 is not an XNYS"):
        session_offset(date(2026, 6, 19), 1)


def test_require_session_message() -> None:
    msg = (
        "`rank_day` 2026-05-02 is not an XNYS session; "
        "the previous session is 2026-05-01 and the next is 2026-05-04"
    )
    with pytest.raises(NotSessionError) as info:
        require_session(date(2026, 5, 2), name="rank_day")
    assert str(info.value) == msg
    assert isinstance(info.value, ValueError)  # catchable as a builtin


def test_require_session_returns_the_session() -> None:
    assert require_session(date(2026, 5, 1), name="rank_day") == date(2026, 5, 1)


def test_outside_the_calendar_raises() -> None:
    with pytest.raises(MissingDataError, match="outside the XNYS calendar"):
        is_session(date(1969, 12, 31))
    with pytest.raises(MissingDataError, match="outside the XNYS calendar"):
        next_session(date(2041, 1, 2))
    with pytest.raises(MissingDataError, match="no XNYS session after"):
        next_session(CALENDAR_END)
    with pytest.raises(MissingDataError, match="no XNYS session before"):
        previous_session(CALENDAR_START)
    with pytest.raises(MissingDataError, match="falls outside"):
        session_offset(CALENDAR_END, 1)


def test_calendar_reaches_1978() -> None:
    # The Russell base date is 1978-12-31 (methodology.md §12 TC7), a Sunday.
    assert previous_session(date(1978, 12, 31)) == date(1978, 12, 29)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2023, 4, date(2023, 4, 28)),  # Friday (TC9 rank day 2023)
        (2024, 4, date(2024, 4, 30)),  # Tuesday (TC9 rank day 2024)
        (2026, 10, date(2026, 10, 30)),  # Friday (31 Oct 2026 is a Saturday)
        (2010, 5, date(2010, 5, 28)),  # Memorial Day was Mon 31 May 2010
        (2016, 5, date(2016, 5, 31)),  # Tuesday
        (2012, 10, date(2012, 10, 31)),  # Sandy closed 29-30 Oct, not the 31st
        (2025, 1, date(2025, 1, 31)),
    ],
)
def test_last_business_day_of_month(year: int, month: int, expected: date) -> None:
    assert last_business_day_of_month(year, month) == expected


@pytest.mark.parametrize(
    ("year", "month", "weekday", "n", "expected"),
    [
        (2026, 6, FRIDAY, 4, date(2026, 6, 26)),
        (2026, 6, FRIDAY, 3, date(2026, 6, 19)),  # a holiday: not session-adjusted
        (2018, 6, FRIDAY, 4, date(2018, 6, 22)),
        (2018, 6, FRIDAY, -1, date(2018, 6, 29)),
        (2018, 6, FRIDAY, 5, date(2018, 6, 29)),
        (2018, 6, FRIDAY, -2, date(2018, 6, 22)),
        (2026, 12, FRIDAY, 2, date(2026, 12, 11)),
        (2026, 6, MONDAY, 1, date(2026, 6, 1)),
        (2026, 2, MONDAY, -1, date(2026, 2, 23)),
    ],
)
def test_nth_weekday(
    year: int, month: int, weekday: int, n: int, expected: date
) -> None:
    assert nth_weekday(year, month, weekday, n) == expected


@pytest.mark.parametrize(
    ("year", "month", "weekday", "n"),
    [
        (2026, 2, FRIDAY, 5),  # February 2026 has four Fridays
        (2026, 13, FRIDAY, 1),
        (2026, 6, 7, 1),
        (2026, 6, FRIDAY, 0),
        (2026, 6, FRIDAY, 6),
    ],
)
def test_nth_weekday_rejects(year: int, month: int, weekday: int, n: int) -> None:
    with pytest.raises(MethodologyError):
        nth_weekday(year, month, weekday, n)


def test_last_business_day_rejects_bad_month() -> None:
    with pytest.raises(MethodologyError, match=r"`month` must be in 1\.\.12"):
        last_business_day_of_month(2026, 0)


dates_1990_2035 = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))


@given(d=dates_1990_2035)
def test_previous_and_next_bracket_any_date(d: date) -> None:
    before = previous_session(d)
    after = next_session(d, inclusive=True)
    assert before < d <= after
    assert is_session(before)
    assert is_session(after)
    # No session strictly between `before` and `after` other than at `after` itself.
    assert sessions_in_range(before + timedelta(days=1), after) == [after]
    assert next_session(before) == after


@given(d=dates_1990_2035)
def test_inclusive_matches_is_session(d: date) -> None:
    assert (previous_session(d, inclusive=True) == d) == is_session(d)
    assert (next_session(d, inclusive=True) == d) == is_session(d)


@given(d=dates_1990_2035, n=st.integers(min_value=-600, max_value=600))
def test_session_offset_round_trip(d: date, n: int) -> None:
    start = next_session(d, inclusive=True)
    moved = session_offset(start, n)
    assert session_offset(moved, -n) == start
    assert (moved > start) == (n > 0)
    lo, hi = sorted((start, moved))
    assert len(sessions_in_range(lo, hi)) == abs(n) + 1


def test_shipped_session_table_matches_exchange_calendars() -> None:
    # The shipped closure table (r2k/_xnys_closures.txt) must give exactly
    # exchange_calendars' XNYS sessions over the whole covered range.
    import warnings

    import exchange_calendars

    from r2k import sessions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        xnys = exchange_calendars.get_calendar(
            "XNYS", start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat()
        )
        expected = [s.date() for s in xnys.sessions]
    assert sessions_in_range(CALENDAR_START, CALENDAR_END) == expected
    assert sorted(sessions._closures()) == sessions.closures_from_exchange_calendars()


def test_sessions_do_not_import_pandas() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from datetime import date; import r2k.sessions as s; "
        "s.require_session(date(2026, 4, 30), name='d'); "
        "print(sorted(m for m in ('pandas', 'exchange_calendars') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
