"""r2k.methodology.schedule: the Russell US reconstitution and quarterly calendars.

Three kinds of expected values, kept apart:

* PUBLISHED_TC9: the calendars of methodology.md §12 TC9 (and the table in §2.3),
  exactly as written there, including TC9's own rule computations for 2026-2028.
* PUBLISHED_OTHER: further calendars FTSE Russell / Russell Investments published,
  found while choosing the historical regimes (source named on each row). They are
  the evidence for the regime boundaries in r2k.methodology.schedule and
  docs/calendar.md.
* ASSUMED: years with no published calendar; these pin r2k's documented choices so
  that a change to an assumption is a visible test change.

No expected date is computed by calling r2k (house style A1).
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from r2k.errors import MethodologyError
from r2k.methodology.schedule import (
    MAX_YEAR,
    MIN_YEAR,
    REGIMES,
    calendar_year,
    latest_reconstitution,
    quarterly_schedule,
    reconstitution_for_rank_day,
    reconstitutions,
    regime_for_year,
)
from r2k.sessions import is_session, previous_session

if TYPE_CHECKING:
    from r2k._typing import ReconKind
    from r2k.methodology.schedule import ReconSchedule


@dataclasses.dataclass(frozen=True)
class Expected:
    """One published (or assumed) calendar; ``None`` = not stated by the source."""

    year: int
    kind: ReconKind
    source: str
    rank_day: date | None = None
    preliminary_list: date | None = None
    updates: tuple[date, ...] | None = None
    lockdown_start: date | None = None
    effective_date: date | None = None
    first_session: date | None = None


def d(text: str) -> date:
    return date.fromisoformat(text)


def ds(*texts: str) -> tuple[date, ...]:
    return tuple(d(t) for t in texts)


# methodology.md §12 TC9 and §2.3 (published calendars [V]; 2026-2028 TC9's own rule
# computations, "Our computed dates under R7 rules").
PUBLISHED_TC9 = [
    Expected(
        year=2023,
        kind="june",
        source="TC9 / SCHED2023",
        rank_day=d("2023-04-28"),  # Fri
        preliminary_list=d("2023-05-19"),  # Fri
        lockdown_start=d("2023-06-05"),  # Mon
        effective_date=d("2023-06-23"),  # Fri
    ),
    Expected(
        year=2024,
        kind="june",
        source="TC9 / SCHED2024",
        rank_day=d("2024-04-30"),  # Tue
        preliminary_list=d("2024-05-24"),
        updates=ds("2024-05-31", "2024-06-07", "2024-06-14", "2024-06-21"),
        lockdown_start=d("2024-06-10"),  # Mon
        effective_date=d("2024-06-28"),
        first_session=d("2024-07-01"),  # Mon
    ),
    Expected(
        year=2025,
        kind="june",
        source="TC9 / PR2025b",
        rank_day=d("2025-04-30"),  # Wed
        preliminary_list=d("2025-05-23"),
        effective_date=d("2025-06-27"),
        first_session=d("2025-06-30"),
    ),
    # 2018, old regime. The source lists 22 Jun both as an update and as the
    # effective date (the final lists were published on the effective day), so
    # 22 Jun is kept as an update.
    Expected(
        year=2018,
        kind="june",
        source="TC9 / ftserussell.com 2018 calendar",
        rank_day=d("2018-05-11"),  # Fri
        preliminary_list=d("2018-06-08"),
        updates=ds("2018-06-15", "2018-06-22"),
        effective_date=d("2018-06-22"),
    ),
    # 2026 June: Fri 19 Jun is Juneteenth, so that week's update is Thu 18 Jun.
    Expected(
        year=2026,
        kind="june",
        source="TC9 / §2.3 (BRIEF [S], matches the R7 rule)",
        rank_day=d("2026-04-30"),  # Thu
        preliminary_list=d("2026-05-22"),
        updates=ds("2026-05-29", "2026-06-05", "2026-06-12", "2026-06-18"),
        effective_date=d("2026-06-26"),
        first_session=d("2026-06-29"),
    ),
    Expected(
        year=2026,
        kind="december",
        source="TC9 / §2.3 (BRIEF [S], matches the R7 rule)",
        rank_day=d("2026-10-30"),  # Fri
        preliminary_list=d("2026-11-13"),
        updates=ds("2026-11-20", "2026-11-27", "2026-12-04"),
        effective_date=d("2026-12-11"),
    ),
    Expected(
        year=2027,
        kind="june",
        source="TC9 computed",
        effective_date=d("2027-06-25"),
    ),
    Expected(
        year=2027,
        kind="december",
        source="TC9 computed",
        effective_date=d("2027-12-10"),
    ),
    Expected(
        year=2028,
        kind="june",
        source="TC9 computed",
        rank_day=d("2028-04-28"),  # Fri
        effective_date=d("2028-06-23"),
    ),
]

# Calendars announced by Russell Investments / FTSE Russell, found in public copies of
# the announcements (pages cited). They fix the regime boundaries of
# r2k.methodology.schedule.
PUBLISHED_OTHER = [
    Expected(
        year=2010,
        kind="june",
        source="planadviser.com 'Russell Sets Index Reconstitution Schedule'; "
        "rank day May 28 quoted from Russell on a siriusbuzz.com forum",
        rank_day=d("2010-05-28"),
        preliminary_list=d("2010-06-11"),
        updates=ds("2010-06-18", "2010-06-25"),
        effective_date=d("2010-06-25"),
    ),
    Expected(
        year=2011,
        kind="june",
        source="businesswire.com 2011-03-01 'Russell Sets 2011 Index "
        "Reconstitution Schedule'",
        preliminary_list=d("2011-06-10"),
        updates=ds("2011-06-17", "2011-06-24"),
        effective_date=d("2011-06-24"),
    ),
    # 2012: last Friday of June was the 29th -> the Friday before (4th Friday).
    Expected(
        year=2012,
        kind="june",
        source="tradersmagazine.com 'Russell sets index rebalance schedule' (2012)",
        preliminary_list=d("2012-06-08"),
        updates=ds("2012-06-15", "2012-06-22"),
        effective_date=d("2012-06-22"),
    ),
    Expected(
        year=2014,
        kind="june",
        source="russell.com '2014 Index reconstitution' schedule",
        preliminary_list=d("2014-06-13"),
        updates=ds("2014-06-20", "2014-06-27"),
        effective_date=d("2014-06-27"),
    ),
    Expected(
        year=2015,
        kind="june",
        source="cboe.com options-hub blog, 2015-06-23",
        preliminary_list=d("2015-06-12"),
        effective_date=d("2015-06-26"),
    ),
    # 2016: rank day Fri 27 May, not the month-end (Tue 31 May).
    Expected(
        year=2016,
        kind="june",
        source="FTSE Russell press release, 2016 reconstitution schedule",
        rank_day=d("2016-05-27"),
        preliminary_list=d("2016-06-10"),
        updates=ds("2016-06-17", "2016-06-24"),
        effective_date=d("2016-06-24"),
        first_session=d("2016-06-27"),
    ),
    Expected(
        year=2017,
        kind="june",
        source="FTSE Russell press release, 2017 reconstitution schedule",
        rank_day=d("2017-05-12"),
        preliminary_list=d("2017-06-09"),
        effective_date=d("2017-06-23"),
    ),
    Expected(
        year=2020,
        kind="june",
        source="FTSE Russell index notice, 2020-06-02 (mondovisione.com)",
        rank_day=d("2020-05-08"),
        preliminary_list=d("2020-06-05"),
        effective_date=d("2020-06-26"),
        first_session=d("2020-06-29"),
    ),
    Expected(
        year=2021,
        kind="june",
        source="channelchek.com 2021 reconstitution calendar",
        rank_day=d("2021-05-07"),
        preliminary_list=d("2021-06-04"),
    ),
    Expected(
        year=2022,
        kind="june",
        source="FTSE Russell 2022 schedule (mondovisione.com)",
        rank_day=d("2022-05-06"),
        preliminary_list=d("2022-06-03"),
        updates=ds("2022-06-10", "2022-06-17"),
        lockdown_start=d("2022-06-13"),
        effective_date=d("2022-06-24"),
        first_session=d("2022-06-27"),
    ),
]

# No published calendar: r2k's documented assumptions (docs/calendar.md).
ASSUMED = [
    # 1979-1988 use the 1989 rule; month-end rank and effective days.
    Expected(
        year=1979,
        kind="june",
        source="assumed: annual-1979",
        rank_day=d("1979-05-31"),  # Thu
        preliminary_list=d("1979-06-15"),
        updates=ds("1979-06-22", "1979-06-29"),
        effective_date=d("1979-06-29"),  # Fri, last business day of June
        first_session=d("1979-07-02"),
    ),
    Expected(
        year=1988,
        kind="june",
        source="assumed: annual-1979",
        rank_day=d("1988-05-31"),
        effective_date=d("1988-06-30"),  # Thu, last business day of June
        first_session=d("1988-07-01"),
    ),
    # 2004: effective Wed 30 Jun; the nominal prelim Fri 11 Jun 2004 was a market
    # closure (President Reagan), so the preliminary lists move to Thu 10 Jun.
    Expected(
        year=2004,
        kind="june",
        source="assumed: annual-1979",
        rank_day=d("2004-05-28"),  # Memorial Day was Mon 31 May
        preliminary_list=d("2004-06-10"),
        updates=ds("2004-06-18", "2004-06-25"),
        effective_date=d("2004-06-30"),
        first_session=d("2004-07-01"),
    ),
    Expected(
        year=2006,
        kind="june",
        source="assumed: annual-2005 (last Friday, no 29th/30th exception)",
        rank_day=d("2006-05-31"),
        preliminary_list=d("2006-06-16"),
        effective_date=d("2006-06-30"),
    ),
    Expected(
        year=2007,
        kind="june",
        source="assumed: annual-2007 (4th Friday; month-end rank day)",
        rank_day=d("2007-05-31"),  # Thu
        preliminary_list=d("2007-06-08"),
        effective_date=d("2007-06-22"),
    ),
    Expected(
        year=2019,
        kind="june",
        source="rank and effective days published (digitaloptions page quoting "
        "FTSE Russell); prelim and updates assumed",
        rank_day=d("2019-05-10"),
        preliminary_list=d("2019-06-07"),
        updates=ds("2019-06-14", "2019-06-21", "2019-06-28"),
        effective_date=d("2019-06-28"),
    ),
]


def _find(year: int, kind: ReconKind) -> ReconSchedule:
    (result,) = [r for r in reconstitutions(year) if r.kind == kind]
    return result


def _check(expected: Expected) -> None:
    result = _find(expected.year, expected.kind)
    for field in (
        "rank_day",
        "preliminary_list",
        "updates",
        "lockdown_start",
        "effective_date",
        "first_session",
    ):
        want = getattr(expected, field)
        if want is not None:
            got = getattr(result, field)
            assert got == want, f"{expected.year} {expected.kind} {field}: {got}"


@pytest.mark.parametrize("expected", PUBLISHED_TC9, ids=lambda e: f"{e.year}-{e.kind}")
def test_published_tc9(expected: Expected) -> None:
    """methodology.md §12 TC9 and §2.3: every published date."""
    _check(expected)


@pytest.mark.parametrize(
    "expected", PUBLISHED_OTHER, ids=lambda e: f"{e.year}-{e.kind}"
)
def test_published_other(expected: Expected) -> None:
    """Historical calendars that fix the regime boundaries (methodology.md §2.3)."""
    _check(expected)


@pytest.mark.parametrize("expected", ASSUMED, ids=lambda e: f"{e.year}-{e.kind}")
def test_assumed(expected: Expected) -> None:
    """Pins r2k's documented assumptions for years with no published calendar."""
    _check(expected)


def test_tc9_lockdown_for_december_2026() -> None:
    # §2.1: 2-week query period after the preliminary lists (Fri 13 Nov 2026), then
    # lock-down from the following Monday.
    assert _find(2026, "december").lockdown_start == d("2026-11-30")


def test_first_session_2026() -> None:
    assert _find(2026, "december").first_session == d("2026-12-14")


@pytest.mark.parametrize(
    ("year", "kinds"),
    [
        (1979, ("june",)),
        (2018, ("june",)),
        (2025, ("june",)),
        (2026, ("june", "december")),
        (2039, ("june", "december")),
    ],
)
def test_kinds_per_year(year: int, kinds: tuple[str, ...]) -> None:
    assert tuple(r.kind for r in reconstitutions(year)) == kinds


@pytest.mark.parametrize(
    ("year", "regime", "banded"),
    [
        (1979, "annual-1979", False),
        (2004, "annual-1979", False),
        (2005, "annual-2005", False),
        (2006, "annual-2005", False),
        (2007, "annual-2007", True),  # methodology.md §2.3: banding from 2007
        (2015, "annual-2007", True),
        (2016, "annual-2016", True),
        (2018, "annual-2017", True),
        (2021, "annual-2019", True),
        (2022, "annual-2022", True),
        (2025, "annual-2023", True),
        (2026, "semiannual-2026", True),
    ],
)
def test_regime_and_banding(year: int, regime: str, banded: bool) -> None:
    for schedule in reconstitutions(year):
        assert schedule.regime == regime
        assert schedule.banded is banded
    assert regime_for_year(year).name == regime


def test_lockdown_is_none_where_unpublished() -> None:
    for year in (1979, 2004, 2007, 2018, 2021):
        assert all(r.lockdown_start is None for r in reconstitutions(year))


def test_regimes_cover_every_year_once() -> None:
    years = [y for r in REGIMES for y in range(r.first_year, r.last_year + 1)]
    assert years == list(range(MIN_YEAR, MAX_YEAR + 1))
    for regime in REGIMES:
        assert regime.reference


@pytest.mark.parametrize("year", [1978, 1900, 2040])
def test_year_out_of_range(year: int) -> None:
    with pytest.raises(MethodologyError, match=f"`year` {year} is outside 1979..2039"):
        reconstitutions(year)
    with pytest.raises(MethodologyError, match="outside"):
        quarterly_schedule(year)


def test_schedules_are_frozen() -> None:
    schedule = _find(2026, "june")
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.rank_day = d("2026-05-01")  # type: ignore[misc]


# ----------------------------------------------------------------- rank-day lookups


@pytest.mark.parametrize(
    ("rank_day", "year", "kind"),
    [
        (d("2026-04-30"), 2026, "june"),
        (d("2026-10-30"), 2026, "december"),
        (d("2018-05-11"), 2018, "june"),
    ],
)
def test_reconstitution_for_rank_day(rank_day: date, year: int, kind: str) -> None:
    result = reconstitution_for_rank_day(rank_day)
    assert (result.year, result.kind, result.rank_day) == (year, kind, rank_day)


def test_reconstitution_for_rank_day_rejects() -> None:
    msg = (
        "`rank_day` 2026-05-01 is not a Russell US rank day; the rank days of 2026 "
        "are 2026-04-30 (june) and 2026-10-30 (december)"
    )
    with pytest.raises(MethodologyError) as info:
        reconstitution_for_rank_day(d("2026-05-01"))
    assert str(info.value) == msg


def test_reconstitution_for_rank_day_rejects_old_year() -> None:
    with pytest.raises(MethodologyError, match=r"are 2018-05-11 \(june\)$"):
        reconstitution_for_rank_day(d("2018-05-31"))


@pytest.mark.parametrize(
    ("as_of", "year", "kind"),
    [
        (d("2026-04-29"), 2025, "june"),
        (d("2026-04-30"), 2026, "june"),  # rank day itself counts
        (d("2026-06-26"), 2026, "june"),
        (d("2026-10-29"), 2026, "june"),
        (d("2026-10-30"), 2026, "december"),
        (d("2027-01-15"), 2026, "december"),
        (d("2027-04-29"), 2026, "december"),
        (d("2025-12-31"), 2025, "june"),  # no December event before 2026
        (d("1979-05-31"), 1979, "june"),
    ],
)
def test_latest_reconstitution(as_of: date, year: int, kind: str) -> None:
    result = latest_reconstitution(as_of)
    assert (result.year, result.kind) == (year, kind)


def test_latest_reconstitution_before_the_first() -> None:
    with pytest.raises(MethodologyError, match="before the first rank day"):
        latest_reconstitution(d("1979-05-30"))


# ----------------------------------------------------------------------- quarterly


def test_quarterly_2026() -> None:
    """methodology.md §2.4; TC9: March IPO eff 2026 = 20 Mar, Sept 2026 = 18 Sep."""
    march, june, september, december = quarterly_schedule(2026)
    assert [q.month for q in (march, june, september, december)] == [3, 6, 9, 12]

    assert march.ipo_rank_day == d("2026-01-30")  # last business day of January
    assert march.announcement == d("2026-02-20")  # Friday 4 weeks before
    assert march.effective_date == d("2026-03-20")  # 3rd Friday of March (TC9)
    assert march.first_session == d("2026-03-23")
    assert march.share_update_cutoff == d("2026-01-30")
    assert march.share_update_effective == d("2026-03-20")
    assert not march.with_reconstitution

    assert june.ipo_rank_day == d("2026-04-30")
    assert june.announcement == d("2026-05-22")  # with the preliminary lists
    assert june.effective_date == d("2026-06-26")
    assert june.share_update_cutoff == d("2026-04-30")
    assert june.share_update_effective == d("2026-06-26")  # 4th Friday of June
    assert june.with_reconstitution

    assert september.ipo_rank_day == d("2026-07-31")
    assert september.announcement == d("2026-08-21")
    assert september.effective_date == d("2026-09-18")  # TC9
    assert september.share_update_effective == d("2026-09-18")

    assert december.ipo_rank_day == d("2026-10-30")
    assert december.announcement == d("2026-11-13")
    assert december.effective_date == d("2026-12-11")
    assert december.share_update_cutoff == d("2026-10-30")
    assert december.share_update_effective == d("2026-12-11")  # 2nd Friday
    assert december.with_reconstitution


def test_quarterly_december_before_2026_is_third_friday() -> None:
    """Assumption (older practice): 3rd Friday of December before 2026."""
    december = quarterly_schedule(2025)[3]
    assert december.effective_date == d("2025-12-19")
    assert december.share_update_effective == d("2025-12-19")
    assert december.announcement == d("2025-11-21")
    assert december.ipo_rank_day == d("2025-10-31")
    assert not december.with_reconstitution


def test_quarterly_june_before_2023_uses_the_may_rank_day() -> None:
    """Assumption: June IPOs go with the reconstitution, ranked on its rank day."""
    june = quarterly_schedule(2018)[1]
    assert june.ipo_rank_day == d("2018-05-11")
    assert june.share_update_cutoff == d("2018-04-30")
    assert june.effective_date == d("2018-06-22")


def test_quarterly_good_friday_moves_back() -> None:
    # 3rd Friday of March 2008 was Good Friday (21 Mar): effective Thu 20 Mar.
    march = quarterly_schedule(2008)[0]
    assert march.effective_date == d("2008-03-20")
    assert march.first_session == d("2008-03-24")
    assert march.announcement == d("2008-02-22")


def test_calendar_year_bundles_both() -> None:
    result = calendar_year(2026)
    assert result.year == 2026
    assert result.regime.name == "semiannual-2026"
    assert result.reconstitutions == reconstitutions(2026)
    assert result.quarters == quarterly_schedule(2026)


# ---------------------------------------------------------------------- properties

years = st.integers(min_value=MIN_YEAR, max_value=MAX_YEAR)


def _is_friday_or_session_before_friday_holiday(day: date) -> bool:
    friday = day + timedelta(days=(4 - day.weekday()) % 7)
    if day == friday:
        return True
    return not is_session(friday) and previous_session(friday) == day


@given(year=years)
def test_schedule_invariants(year: int) -> None:
    schedules = reconstitutions(year)
    for s in schedules:
        assert s.year == year
        assert s.rank_day < s.preliminary_list < s.effective_date < s.first_session
        if s.lockdown_start is not None:
            assert s.preliminary_list < s.lockdown_start < s.effective_date
            monday = s.lockdown_start - timedelta(days=s.lockdown_start.weekday())
            assert s.lockdown_start == monday or (
                not is_session(monday) and previous_session(s.lockdown_start) < monday
            )
        for day in (s.rank_day, s.preliminary_list, s.effective_date, s.first_session):
            assert is_session(day)
        assert all(is_session(u) for u in s.updates)
        assert list(s.updates) == sorted(set(s.updates))
        assert all(s.preliminary_list < u <= s.effective_date for u in s.updates)
        assert s.updates  # at least one updated list every year
        # The new membership applies from the very next session.
        assert previous_session(s.first_session) == s.effective_date
        if year >= 2005:
            assert _is_friday_or_session_before_friday_holiday(s.effective_date)
        else:
            assert s.effective_date.month == 6
            assert s.first_session.month == 7  # last business day of June
        assert s.banded is (year >= 2007)
    # Events of a year are in order and do not overlap.
    for earlier, later in itertools.pairwise(schedules):
        assert earlier.first_session <= later.rank_day


@given(year=years)
def test_quarterly_invariants(year: int) -> None:
    quarters = quarterly_schedule(year)
    assert [q.month for q in quarters] == [3, 6, 9, 12]
    for q in quarters:
        assert q.ipo_rank_day <= q.announcement < q.effective_date < q.first_session
        assert q.share_update_cutoff < q.share_update_effective
        assert q.share_update_cutoff.month == q.month - 2
        assert q.effective_date.month == q.month
        for day in (q.ipo_rank_day, q.announcement, q.effective_date, q.first_session):
            assert is_session(day)
        if q.month in (3, 9):
            assert 15 <= q.effective_date.day <= 21  # 3rd Friday (or day before)
            assert _is_friday_or_session_before_friday_holiday(q.effective_date)
    assert quarters[3].with_reconstitution is (year >= 2026)
    assert quarters[1].with_reconstitution


@given(as_of=st.dates(min_value=date(1979, 5, 31), max_value=date(2039, 12, 31)))
def test_latest_reconstitution_is_latest(as_of: date) -> None:
    result = latest_reconstitution(as_of)
    assert result.rank_day <= as_of
    later = [
        r
        for y in range(as_of.year - 1, as_of.year + 1)
        if y >= MIN_YEAR
        for r in reconstitutions(y)
        if result.rank_day < r.rank_day <= as_of
    ]
    assert later == []
