"""The Russell US reconstitution and quarterly calendars for any year from 1979.

Implements methodology.md §2 (Calendar): §2.1 current rules, §2.3 historical rules and
§2.4 the quarterly cycle, checked against the published calendars of §12 TC9. The
rules are data: each :class:`ReconRegime` below is a dated, frozen rule set, and one
generic function turns a regime and a year into :class:`ReconSchedule` objects.

Vocabulary (exchange_calendars' *session* plus the methodology's words):

* ``rank_day``: the session at whose close eligibility and total market cap are taken.
* ``preliminary_list``: the session on which the preliminary add/delete lists appear
  (after the close).
* ``updates``: the sessions on which updated lists appear.
* ``lockdown_start``: the first session of the lock-down period (changes only in
  exceptional cases, R7 §6.4.1); ``None`` where no lock-down date was published.
* ``effective_date``: the session *after whose close* the new membership is
  implemented (R7's "implementation"; the "reconstitution day").
* ``first_session``: the first session on which the new membership applies, i.e. the
  session after ``effective_date`` (house-style B2 calls this the effective date; here
  both are kept, named explicitly).

Holidays: every rule names a *nominal* calendar day ("the 4th Friday of June", "the
Friday five weeks before"). Days on which lists are published, rank days and
effective dates that fall on an XNYS holiday move to the *previous* session (the 2026
June update of Fri 19 Jun, Juneteenth, was published Thu 18 Jun, methodology.md §12
TC9); a lock-down, which starts at an open, moves to the *next* session. Offsets such
as "five weeks before" are taken from the nominal Friday, never from a moved date.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from r2k.errors import MethodologyError
from r2k.sessions import (
    last_business_day_of_month,
    next_session,
    nth_weekday,
    previous_session,
)

if TYPE_CHECKING:
    from r2k._typing import ReconKind

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "REGIMES",
    "EventRule",
    "LastSessionOfMonth",
    "NthFriday",
    "QuarterSchedule",
    "ReconRegime",
    "ReconSchedule",
    "WeeksBeforeEffective",
    "YearCalendar",
    "calendar_year",
    "latest_reconstitution",
    "quarterly_schedule",
    "reconstitution_for_rank_day",
    "reconstitutions",
    "regime_for_year",
]

MIN_YEAR = 1979
"""First year with a reconstitution: the index base date is 1978-12-31 (TC7)."""

MAX_YEAR = 2039
"""Last year r2k computes (the XNYS calendar in :mod:`r2k.sessions` ends in 2040)."""

_FRIDAY = 4
_MONDAY_AFTER_FRIDAY = timedelta(days=3)
_WEEK = timedelta(weeks=1)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class LastSessionOfMonth:
    """The last XNYS session of `month` ("last business day of April")."""

    month: int

    def nominal(self, year: int) -> date:
        """Return the day in `year` (already a session)."""
        return last_business_day_of_month(year, self.month)

    def describe(self) -> str:
        """Return the rule in words."""
        return f"last business day of {calendar.month_name[self.month]}"


@dataclass(frozen=True, slots=True)
class NthFriday:
    """The `n`-th Friday of `month` (``n = -1``: the last Friday), a calendar date."""

    month: int
    n: int

    def nominal(self, year: int) -> date:
        """Return the calendar day in `year` (not adjusted for holidays)."""
        return nth_weekday(year, self.month, _FRIDAY, self.n)

    def describe(self) -> str:
        """Return the rule in words."""
        ordinal = "last" if self.n == -1 else f"{self.n}{_suffix(self.n)}"
        return f"{ordinal} Friday of {calendar.month_name[self.month]}"


@dataclass(frozen=True, slots=True)
class WeeksBeforeEffective:
    """The Friday `weeks` weeks before the (nominal) effective Friday."""

    weeks: int

    def describe(self) -> str:
        """Return the rule in words."""
        return f"Friday {self.weeks} weeks before the effective date"


def _suffix(n: int) -> str:
    return {1: "st", 2: "nd", 3: "rd"}.get(n, "th")


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRule:
    """How one reconstitution event (June or December) is dated within a regime.

    Attributes
    ----------
    kind
        ``"june"`` or ``"december"``.
    rank_day
        Rank-day rule.
    effective
        Nominal effective-date rule. When it is not a Friday (the month-end rule
        before 2005) the *effective Friday* used as the anchor of the relative rules
        is the last Friday on or before it.
    preliminary_weeks
        Preliminary lists appear on the Friday this many weeks before the effective
        Friday.
    final_update_on_effective
        ``True`` if the weekly updated lists run through the effective Friday itself
        (the calendars published up to 2021), ``False`` if the last update is the week
        before (2022 onward).
    query_weeks
        Length of the query period after the preliminary lists; the lock-down starts
        on the Monday after it. ``None`` where no lock-down was published.
    """

    kind: ReconKind
    rank_day: LastSessionOfMonth | WeeksBeforeEffective
    effective: LastSessionOfMonth | NthFriday
    preliminary_weeks: int
    final_update_on_effective: bool
    query_weeks: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconRegime:
    """A dated rule set for the Russell US reconstitution calendar.

    Attributes
    ----------
    name
        Identifier, copied to :attr:`ReconSchedule.regime`.
    first_year, last_year
        Years (inclusive) the regime applies to.
    events
        One :class:`EventRule` per reconstitution of the year, in date order.
    banding
        Whether membership changes are banded (methodology.md §2.3: from 2007).
    reference
        Where the rule comes from (methodology.md sections, sources).
    assumptions
        What r2k chose where no source states the rule; empty if fully sourced.
    """

    name: str
    first_year: int
    last_year: int
    events: tuple[EventRule, ...]
    banding: bool
    reference: str
    assumptions: str = ""

    def __post_init__(self) -> None:
        if self.first_year > self.last_year:
            msg = f"regime {self.name!r}: first_year is after last_year"
            raise MethodologyError(msg)
        kinds = [event.kind for event in self.events]
        if not kinds or len(set(kinds)) != len(kinds):
            msg = f"regime {self.name!r}: needs one event per kind, got {kinds}"
            raise MethodologyError(msg)


def _june(
    *,
    rank_day: LastSessionOfMonth | WeeksBeforeEffective,
    effective: LastSessionOfMonth | NthFriday,
    preliminary_weeks: int,
    final_update_on_effective: bool,
    query_weeks: int | None = None,
) -> EventRule:
    return EventRule(
        kind="june",
        rank_day=rank_day,
        effective=effective,
        preliminary_weeks=preliminary_weeks,
        final_update_on_effective=final_update_on_effective,
        query_weeks=query_weeks,
    )


_LAST_BD_MAY = LastSessionOfMonth(5)
_FOURTH_FRIDAY_JUNE = NthFriday(6, 4)

ANNUAL_1979 = ReconRegime(
    name="annual-1979",
    first_year=1979,
    last_year=2004,
    events=(
        _june(
            rank_day=_LAST_BD_MAY,
            effective=LastSessionOfMonth(6),
            preliminary_weeks=2,
            final_update_on_effective=True,
        ),
    ),
    banding=False,
    reference=(
        "methodology.md §2.3 (1989-~2014: rank day last trading day of May; effective "
        "last business day of June until 2004) [S]"
    ),
    assumptions=(
        "1979-1988 use the 1989 rule (the index exists from 1978-12-31 but no earlier "
        "calendar is known); preliminary lists two Fridays before the last Friday on "
        "or before the effective date and weekly updates through it (the 2010-2018 "
        "pattern carried back)"
    ),
)
"""1979-2004: May month-end rank day, June month-end effective date (§2.3)."""

ANNUAL_2005 = ReconRegime(
    name="annual-2005",
    first_year=2005,
    last_year=2006,
    events=(
        _june(
            rank_day=_LAST_BD_MAY,
            effective=NthFriday(6, -1),
            preliminary_weeks=2,
            final_update_on_effective=True,
        ),
    ),
    banding=False,
    reference="methodology.md §2.3 (effective last Friday of June from 2005) [S]",
    assumptions=(
        "preliminary lists and updates as in annual-1979; 2006 is dated Fri 30 Jun "
        "(the 29th/30th exception is assumed to start with banding in 2007)"
    ),
)
"""2005-2006: effective the last Friday of June, no banding (§2.3)."""

ANNUAL_2007 = ReconRegime(
    name="annual-2007",
    first_year=2007,
    last_year=2015,
    events=(
        _june(
            rank_day=_LAST_BD_MAY,
            effective=_FOURTH_FRIDAY_JUNE,
            preliminary_weeks=2,
            final_update_on_effective=True,
        ),
    ),
    banding=True,
    reference=(
        "methodology.md §2.3 (banding from 2007; May month-end rank day); R7 §9.3.1 "
        "(last Friday of June unless the 29th/30th, then the Friday before = 4th "
        "Friday); published: 2010 rank Fri 28 May, prelim 11 Jun, updates 18 and 25 "
        "Jun; 2011 prelim 10 Jun, eff 24 Jun; 2012 prelim 8 Jun, eff 22 Jun; 2014 "
        "prelim 13 Jun, eff 27 Jun; 2015 prelim 12 Jun, eff 26 Jun [S]"
    ),
    assumptions=(
        "the 29th/30th exception (4th Friday) from 2007 (published for 2012); rank "
        "day the last business day of May in every year (a Thursday or Tuesday in "
        "2007, 2011 and 2012, whose rank days were not found)"
    ),
)
"""2007-2015: banding, 4th Friday of June, May month-end rank day (§2.3, TC9)."""

ANNUAL_2016 = ReconRegime(
    name="annual-2016",
    first_year=2016,
    last_year=2016,
    events=(
        _june(
            rank_day=WeeksBeforeEffective(4),
            effective=_FOURTH_FRIDAY_JUNE,
            preliminary_weeks=2,
            final_update_on_effective=True,
        ),
    ),
    banding=True,
    reference=(
        "FTSE Russell 2016 schedule (press release, 2016): rank day Fri 27 May (not "
        "the month-end Tue 31 May), prelim 10 Jun, updates 17 and 24 Jun, eff 24 Jun"
    ),
)
"""2016: rank day the last Friday of May, four weeks before the effective date."""

ANNUAL_2017 = ReconRegime(
    name="annual-2017",
    first_year=2017,
    last_year=2018,
    events=(
        _june(
            rank_day=WeeksBeforeEffective(6),
            effective=_FOURTH_FRIDAY_JUNE,
            preliminary_weeks=2,
            final_update_on_effective=True,
        ),
    ),
    banding=True,
    reference=(
        "methodology.md §2.3 and §12 TC9 (2018: rank Fri 11 May, prelim 8 Jun, "
        "updates 15 and 22 Jun, eff 22 Jun) [V]; FTSE Russell 2017 schedule (rank "
        "Fri 12 May, prelim 9 Jun, eff 23 Jun) [S]"
    ),
    assumptions="2017 updates (16 and 23 Jun) follow the 2018 pattern",
)
"""2017-2018: rank day six weeks before the effective date (§2.3, TC9 2018)."""

ANNUAL_2019 = ReconRegime(
    name="annual-2019",
    first_year=2019,
    last_year=2021,
    events=(
        _june(
            rank_day=WeeksBeforeEffective(7),
            effective=_FOURTH_FRIDAY_JUNE,
            preliminary_weeks=3,
            final_update_on_effective=True,
        ),
    ),
    banding=True,
    reference=(
        "published: 2019 rank Fri 10 May, eff 28 Jun; 2020 rank Fri 8 May, prelim "
        "5 Jun, eff 26 Jun (FTSE Russell notice); 2021 rank Fri 7 May, prelim 4 Jun, "
        "eff 25 Jun [S]"
    ),
    assumptions=(
        "2019 preliminary lists (7 Jun) and the updates (weekly through the "
        "effective Friday) are inferred; no lock-down date known"
    ),
)
"""2019-2021: rank day seven weeks, prelim three weeks before the effective date."""

ANNUAL_2022 = ReconRegime(
    name="annual-2022",
    first_year=2022,
    last_year=2022,
    events=(
        _june(
            rank_day=WeeksBeforeEffective(7),
            effective=_FOURTH_FRIDAY_JUNE,
            preliminary_weeks=3,
            final_update_on_effective=False,
            query_weeks=1,
        ),
    ),
    banding=True,
    reference=(
        "FTSE Russell 2022 schedule: rank Fri 6 May, prelim 3 Jun, updates 10 and "
        "17 Jun, lock-down Mon 13 Jun, eff 24 Jun, open Mon 27 Jun"
    ),
)
"""2022: as 2019-2021 plus a one-week query period and a published lock-down."""

_CURRENT_JUNE = _june(
    rank_day=LastSessionOfMonth(4),
    effective=_FOURTH_FRIDAY_JUNE,
    preliminary_weeks=5,
    final_update_on_effective=False,
    query_weeks=2,
)

ANNUAL_2023 = ReconRegime(
    name="annual-2023",
    first_year=2023,
    last_year=2025,
    events=(_CURRENT_JUNE,),
    banding=True,
    reference=(
        "methodology.md §2.1 (June column) and §2.3; §12 TC9 published 2023, 2024, "
        "2025 calendars (SCHED2023, SCHED2024, PR2025b) [V]"
    ),
)
"""2023-2025: April rank day, annual June reconstitution (§2.1, §2.3, TC9)."""

SEMIANNUAL_2026 = ReconRegime(
    name="semiannual-2026",
    first_year=2026,
    last_year=MAX_YEAR,
    events=(
        _CURRENT_JUNE,
        EventRule(
            kind="december",
            rank_day=LastSessionOfMonth(10),
            effective=NthFriday(12, 2),
            preliminary_weeks=4,
            final_update_on_effective=False,
            query_weeks=2,
        ),
    ),
    banding=True,
    reference=(
        "methodology.md §2.1 (R7 §4.2.3, §5.14.1, §6.4.1, Appendix F) [V]; §2.2; "
        "§12 TC9 computed 2026-2028 dates"
    ),
)
"""2026 onward: semi-annual, June (4th Friday) and December (2nd Friday) (§2.1)."""

REGIMES: tuple[ReconRegime, ...] = (
    ANNUAL_1979,
    ANNUAL_2005,
    ANNUAL_2007,
    ANNUAL_2016,
    ANNUAL_2017,
    ANNUAL_2019,
    ANNUAL_2022,
    ANNUAL_2023,
    SEMIANNUAL_2026,
)
"""Every regime, in date order, covering :data:`MIN_YEAR`..:data:`MAX_YEAR`."""


# ------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconSchedule:
    """The dates of one reconstitution (see the module docstring for the words)."""

    year: int
    kind: ReconKind
    rank_day: date
    preliminary_list: date
    updates: tuple[date, ...]
    lockdown_start: date | None
    effective_date: date
    first_session: date
    regime: str
    banded: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarterSchedule:
    """The quarterly IPO additions and share/float updates of one quarter.

    Attributes
    ----------
    year, month
        The quarter, named by the month of its event (3, 6, 9 or 12).
    ipo_rank_day
        IPOs priced and trading from the previous IPO rank day + 1 up to this
        session are reviewed (methodology.md §2.4).
    announcement
        Session on which the IPO additions are announced.
    effective_date
        Session after whose close the IPO additions are implemented.
    first_session
        Session after `effective_date`.
    share_update_cutoff
        Data cut-off of the quarterly share and float update (§2.4, R7 §9.3.5).
    share_update_effective
        Session at whose close the share and float update is implemented.
    with_reconstitution
        ``True`` when the quarter's IPO additions are implemented with a
        reconstitution (June; December from 2026).
    """

    year: int
    month: int
    ipo_rank_day: date
    announcement: date
    effective_date: date
    first_session: date
    share_update_cutoff: date
    share_update_effective: date
    with_reconstitution: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class YearCalendar:
    """Everything scheduled in one year: reconstitutions and quarterly events."""

    year: int
    regime: ReconRegime
    reconstitutions: tuple[ReconSchedule, ...]
    quarters: tuple[QuarterSchedule, ...]


# ----------------------------------------------------------------------- functions


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        msg = (
            f"`year` {year} is outside {MIN_YEAR}..{MAX_YEAR}: the Russell US indexes "
            f"start on 1978-12-31 (methodology.md §12 TC7) and r2k's XNYS calendar "
            f"ends in 2040"
        )
        raise MethodologyError(msg)


def regime_for_year(year: int) -> ReconRegime:
    """Return the reconstitution regime that applies in `year`.

    Raises
    ------
    MethodologyError
        If `year` is outside :data:`MIN_YEAR`..:data:`MAX_YEAR`.
    """
    _check_year(year)
    for regime in REGIMES:
        if regime.first_year <= year <= regime.last_year:
            return regime
    msg = f"no regime covers {year}; REGIMES has a gap"  # pragma: no cover
    raise MethodologyError(msg)  # pragma: no cover


def _friday_on_or_before(d: date) -> date:
    return d - timedelta(days=(d.weekday() - _FRIDAY) % 7)


def _on_or_before(d: date) -> date:
    return previous_session(d, inclusive=True)


def _schedule(year: int, rule: EventRule, regime: ReconRegime) -> ReconSchedule:
    nominal_effective = rule.effective.nominal(year)
    anchor = _friday_on_or_before(nominal_effective)
    if isinstance(rule.rank_day, WeeksBeforeEffective):
        rank_day = _on_or_before(anchor - rule.rank_day.weeks * _WEEK)
    else:
        rank_day = rule.rank_day.nominal(year)
    nominal_prelim = anchor - rule.preliminary_weeks * _WEEK
    last_update = anchor if rule.final_update_on_effective else anchor - _WEEK
    updates = tuple(
        _on_or_before(nominal_prelim + k * _WEEK)
        for k in range(1, rule.preliminary_weeks + 1)
        if nominal_prelim + k * _WEEK <= last_update
    )
    lockdown_start = (
        None
        if rule.query_weeks is None
        else next_session(
            nominal_prelim + rule.query_weeks * _WEEK + _MONDAY_AFTER_FRIDAY,
            inclusive=True,
        )
    )
    effective_date = _on_or_before(nominal_effective)
    return ReconSchedule(
        year=year,
        kind=rule.kind,
        rank_day=rank_day,
        preliminary_list=_on_or_before(nominal_prelim),
        updates=updates,
        lockdown_start=lockdown_start,
        effective_date=effective_date,
        first_session=next_session(effective_date),
        regime=regime.name,
        banded=regime.banding,
    )


@functools.cache
def reconstitutions(year: int) -> tuple[ReconSchedule, ...]:
    """Return the reconstitutions of `year`, in date order.

    June only before 2026; June and December from 2026 (methodology.md §2.1-§2.3).

    Parameters
    ----------
    year
        Calendar year in :data:`MIN_YEAR`..:data:`MAX_YEAR`.

    Returns
    -------
    tuple of ReconSchedule
        One schedule per reconstitution.

    Raises
    ------
    MethodologyError
        If `year` is out of range.

    Examples
    --------
    >>> [r.effective_date.isoformat() for r in reconstitutions(2026)]
    ['2026-06-26', '2026-12-11']
    """
    regime = regime_for_year(year)
    return tuple(_schedule(year, rule, regime) for rule in regime.events)


def reconstitution_for_rank_day(rank_day: date) -> ReconSchedule:
    """Return the reconstitution whose rank day is `rank_day`.

    Raises
    ------
    MethodologyError
        If `rank_day` is not a rank day; the message lists that year's rank days.
    """
    schedules = reconstitutions(rank_day.year)
    for schedule in schedules:
        if schedule.rank_day == rank_day:
            return schedule
    valid = " and ".join(f"{s.rank_day} ({s.kind})" for s in schedules)
    msg = (
        f"`rank_day` {rank_day} is not a Russell US rank day; "
        f"the rank days of {rank_day.year} are {valid}"
    )
    raise MethodologyError(msg)


def latest_reconstitution(as_of: date) -> ReconSchedule:
    """Return the latest reconstitution whose rank day is on or before `as_of`.

    Its effective date may still be after `as_of` (the reconstitution is then in
    progress).

    Raises
    ------
    MethodologyError
        If `as_of` is before the first rank day (1979) or after :data:`MAX_YEAR`.
    """
    _check_year(as_of.year)
    for year in (as_of.year, as_of.year - 1):
        if year < MIN_YEAR:
            break
        for schedule in reversed(reconstitutions(year)):
            if schedule.rank_day <= as_of:
                return schedule
    first = reconstitutions(MIN_YEAR)[0].rank_day
    msg = f"`as_of` {as_of} is before the first rank day r2k knows ({first})"
    raise MethodologyError(msg)


@functools.cache
def quarterly_schedule(year: int) -> tuple[QuarterSchedule, ...]:
    """Return the March, June, September and December quarterly events of `year`.

    Rules (methodology.md §2.4, R7 §6.9 and §9.3):

    * IPO rank day: last business day of January, April, July, October; in a
      quarter with a reconstitution, the reconstitution's rank day (identical under
      the current rules; the May rank day before 2023).
    * March and September IPO additions: effective after the close of the 3rd Friday
      of the month, announced on the Friday four weeks before. June (and December
      from 2026) IPO additions go with the reconstitution and are announced with the
      preliminary lists.
    * Share and float updates: cut-off the last business day of January, April, July,
      October; implemented at the close of the 3rd Friday of March and September,
      with the June reconstitution (4th Friday of June from 2007) and with the
      December reconstitution (2nd Friday of December) from 2026.

    Assumptions: before 2026 the December IPO additions and share/float update are
    dated the 3rd Friday of December, announced four weeks before (older practice; R7
    only dates the current cycle). The start year of quarterly IPO additions is an
    open question (methodology.md §15 q8): r2k dates the cycle for every year and
    leaves it to the caller to decide whether it applied.

    Raises
    ------
    MethodologyError
        If `year` is out of range.
    """
    by_kind: dict[str, ReconSchedule] = {r.kind: r for r in reconstitutions(year)}
    quarters: list[QuarterSchedule] = []
    for month, kind in ((3, None), (6, "june"), (9, None), (12, "december")):
        cutoff = last_business_day_of_month(year, month - 2)
        recon = by_kind.get(kind) if kind is not None else None
        if recon is not None:
            ipo_rank_day = recon.rank_day
            announcement = recon.preliminary_list
            effective_date = recon.effective_date
        else:
            third_friday = nth_weekday(year, month, _FRIDAY, 3)
            ipo_rank_day = cutoff
            announcement = _on_or_before(third_friday - 4 * _WEEK)
            effective_date = _on_or_before(third_friday)
        quarters.append(
            QuarterSchedule(
                year=year,
                month=month,
                ipo_rank_day=ipo_rank_day,
                announcement=announcement,
                effective_date=effective_date,
                first_session=next_session(effective_date),
                share_update_cutoff=cutoff,
                share_update_effective=effective_date,
                with_reconstitution=recon is not None,
            )
        )
    return tuple(quarters)


def calendar_year(year: int) -> YearCalendar:
    """Return the reconstitutions and quarterly events of `year` together.

    Raises
    ------
    MethodologyError
        If `year` is out of range.
    """
    return YearCalendar(
        year=year,
        regime=regime_for_year(year),
        reconstitutions=reconstitutions(year),
        quarters=quarterly_schedule(year),
    )
