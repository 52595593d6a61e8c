"""Reconstitution from a data directory: choose the inputs, build, reconstitute.

This is the glue between the real sources and the pure engine. For a rank day it
picks, point-in-time where the data allows:

* the **universe**: the market panel's rank-day cross-section when the panel covers
  the rank day; otherwise an iShares Russell 3000 (IWV) holdings file dated within
  five sessions after the rank day (the 2025 case). Holdings give float-adjusted
  quantities, so that universe ranks by float-adjusted cap (see docs/methodology.md
  for the bias) scaled to the published Russell 3000 total cap of that rank day;
* the **incumbent Russell 2000**: the latest IWM holdings file dated on or before the
  rank day; if none exists, the earliest one dated on or before the preliminary list
  (membership only: between rank day and preliminary list the index loses
  members, and gains only spin-offs of members). With ``as_of`` later than that
  file, the lines a later fund list up to ``as_of`` holds are incumbents too
  (:func:`_joined_since`). The **Russell 1000 incumbents** are the companies of
  the latest IWV file of the 13 months before the rank day that IWM does not hold,
  followed to the rank day through symbol changes and names; every other company
  is a non-member except one already listed and large when the panel starts
  (:mod:`r2k.construction.incumbency`). Without such an IWV file (2025), every
  company outside IWM is an R1000 incumbent inside the #1,000 band
  (``r1000_complement``);
* on a panel universe, **Russell 1000 companies the panel leaves out** (domiciled
  abroad) from that IWV file (:func:`_add_r1000_from_iwv`), **ineligible
  structures** the names miss (:mod:`r2k.construction.structures`) and **share-
  class lines** of members that the fund files do not hold
  (:func:`unheld_class_lines`);
* **float factors**: estimated from the incumbent IWM quantities
  (:mod:`r2k.construction.floats`);
* **lines that stop trading** before the effective date: with the lines that
  joined (above), the one use of data after the rank day. With ``as_of`` later
  than the rank day, the market panel's sessions up to ``as_of`` (only which
  symbols are listed, their names and caps, to follow symbol changes; never prices
  or volumes) and, for lines the panel does not cover, the fund's lists (holdings
  files and membership snapshots) up to ``as_of`` say which rank-day lines stopped
  trading; those are ranked as usual and then left out of every index
  (:func:`ceased_before`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k import schemas
from r2k.construction.classify import company_key_expr, security_type_expr
from r2k.construction.floats import (
    FloatEstimate,
    ListingFloat,
    addition_float_factor,
    estimate_from_holdings,
)
from r2k.construction.incumbency import (
    deleted_at_last_recon,
    established_outsiders,
    established_r1000,
    match_by_name,
)
from r2k.construction.listings import (
    ceased_lines,
    despac_listings,
    follow,
    is_index_line,
    successions,
)
from r2k.construction.ranking import unseen_companies
from r2k.construction.reconstitution import reconstitute
from r2k.construction.structures import structure_screen
from r2k.construction.universe import build_universe, company_ids
from r2k.data.datadir import holdings_file_date
from r2k.data.sources.ishares import Holdings, read_holdings
from r2k.data.sources.levels import read_index_levels
from r2k.data.sources.membership import (
    read_membership_history,
    snapshot_as_of_session,
    snapshot_tickers,
    snapshots,
)
from r2k.data.sources.panel import read_market_panel
from r2k.data.sources.sec import read_sec_tickers
from r2k.errors import DataDirectoryError, MissingDataError, R2KError
from r2k.fidelity.validation import (
    CheckInputs,
    ReconValidation,
    actual_snapshot,
    compare,
)
from r2k.methodology.rule_sets import RuleSet, rule_set_for
from r2k.methodology.schedule import (
    ReconSchedule,
    reconstitution_for_rank_day,
    reconstitutions,
)
from r2k.sessions import next_session, previous_session, session_offset
from r2k.tickers import resolve_ticker
from r2k.workflows.recon_run import ReconRun as ReconRun  # re-exported

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from r2k.construction.reconstitution import Reconstitution
    from r2k.data.datadir import DataDir

log = logging.getLogger(__name__)

# Published Russell 3000 total market cap on the rank day (methodology.md §14:
# COMM2024, PR2025b). Used only to put a holdings universe on a dollar scale.
PUBLISHED_R3000_TOTAL_CAP = {2023: 44.2e12, 2024: 53.0e12, 2025: 58.4e12}
HOLDINGS_UNIVERSE_MAX_SESSIONS = 5
# Security types that are no company's shares (a fund line is never one of them).
_INSTRUMENTS = ("warrant", "right", "unit", "preferred", "note", "etf", "other")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _PanelUpTo:
    """The market panel up to the rank day, and what several steps derive from it.

    Each derived value is computed the first time a step asks for it, then
    reused: the symbols listed up to the rank day, and the symbol changes up to
    the rank day (same SEC CIK or same name, no size rule:
    :func:`r2k.construction.listings.successions`).
    """

    def __init__(
        self, panel: pl.DataFrame, rank_day: date, sec: pl.DataFrame | None
    ) -> None:
        self.panel = panel
        self.rank_day = rank_day
        self.sec = sec

    @cached_property
    def history(self) -> pl.DataFrame:
        """The panel's rows of the sessions up to the rank day."""
        return self.panel.filter(pl.col("session") <= self.rank_day)

    @cached_property
    def listed(self) -> frozenset[str]:
        """Every symbol the panel lists up to the rank day."""
        return frozenset(self.history["security_id"].unique())

    @cached_property
    def successors(self) -> dict[str, str]:
        """Symbol changes up to the rank day, ``{old: new}``."""
        days = sorted(self.history["session"].unique().to_list())
        position = {d: i for i, d in enumerate(days)}
        listings = self.history.select(
            position=pl.col("session").replace_strict(position, return_dtype=pl.Int64),
            security_id="security_id",
            name="name",
            size="total_market_cap",
        )
        ciks = (
            {}
            if self.sec is None
            else dict(self.sec.select("security_id", "cik").iter_rows())
        )
        return successions(listings, ciks=ciks, max_gap=5, use_size=False)


def run_reconstitution(
    data: DataDir,
    rank_day: date,
    *,
    rules: RuleSet | None = None,
    as_of: date | None = None,
) -> ReconRun:
    """Reconstitute the Russell US indexes for ``rank_day`` from ``data``.

    ``as_of`` (default: the rank day) is the last day whose data may be read to
    learn which rank-day lines stopped trading before the effective date
    (:func:`ceased_before`) and which the fund came to hold after its incumbent
    file (:func:`_joined_since`); nothing else is read after the rank day.
    """
    schedule = reconstitution_for_rank_day(rank_day)
    as_of = rank_day if as_of is None else as_of
    if as_of < rank_day:
        msg = f"--as-of {as_of} is before the rank day {rank_day}: give a later date"
        raise MissingDataError(msg)
    rules = rules or rule_set_for(rank_day)
    notes: list[str] = []
    inputs: dict[str, Path] = {}

    incumbent_file = _incumbent_holdings(data, schedule, notes)
    inputs[incumbent_file.name] = incumbent_file
    incumbent = read_holdings(incumbent_file)

    panel_path = data.market_panel
    panel = read_market_panel(panel_path)
    sessions = panel["session"].unique()
    sec: pl.DataFrame | None = None
    if rank_day in sessions:
        inputs[panel_path.name] = panel_path
        sec_path = data.sec_tickers
        inputs[sec_path.name] = sec_path
        sec = read_sec_tickers(sec_path)
        build = build_universe(panel, rank_day, sec_tickers=sec)
        universe, repairs = build.universe, build.repairs
        universe_source = f"{panel_path.name} (cross-section of {rank_day})"
        shares_then = _panel_shares(panel, incumbent.as_of)
    else:
        iwv = _holdings_universe_file(data, rank_day)
        inputs[iwv.name] = iwv
        holdings = read_holdings(iwv)
        universe = holdings_universe(holdings, rank_day)
        repairs = pl.DataFrame(schema={"security_id": pl.String, "repair": pl.String})
        universe_source = f"{iwv.name} (float-adjusted, as of {holdings.as_of})"
        notes.append(
            f"the market panel does not cover {rank_day}; the universe is the IWV "
            f"holdings of {holdings.as_of}: float-adjusted caps ranked in place of "
            "total caps, only companies already in the Russell 3000, prices of "
            f"{holdings.as_of}"
        )
        shares_then = universe.select("security_id", "shares_outstanding")
    estimate = _float_estimate(incumbent, shares_then, rules, notes)
    known = frozenset(universe["security_id"].to_list())
    market_ids = known  # "universe" of validation: lines in the rank-day market data
    seen = _PanelUpTo(panel, rank_day, sec)
    if rank_day in sessions:
        extra = incumbents_outside_panel(
            incumbent,
            known,
            estimate,
            market_factor=_rut_factor(data, incumbent.as_of, rank_day),
            listed_before=seen.listed,
        )
        if extra.height:
            notes.append(
                f"{extra.height} incumbent R2000 lines are not in the market "
                "panel (mostly companies domiciled abroad); they enter the universe "
                f"from {incumbent_file.name}, priced there, moved with the R2000 "
                "to the rank day, total shares = quantity / (ownership ratio x median "
                "float factor)"
            )
            repairs = pl.concat(
                [
                    repairs,
                    extra.select(
                        "security_id",
                        repair=pl.lit("added_from_holdings"),
                        detail=pl.lit(f"not in the panel; from {incumbent_file.name}"),
                    ),
                ],
                how="diagonal_relaxed",
            )
            universe = pl.concat([universe, extra]).sort("security_id")
            known = frozenset(universe["security_id"].to_list())
        outside_panel = frozenset(extra["security_id"].to_list())
    else:
        outside_panel = frozenset()
    on_panel = rank_day in sessions
    if on_panel:
        universe, added = _add_r1000_from_iwv(
            data,
            rank_day,
            universe,
            incumbent=incumbent,
            seen=seen,
            rules=rules,
            notes=notes,
        )
        if added is not None:
            inputs[added[0].name] = added[0]
            repairs = pl.concat([repairs, added[1]], how="diagonal_relaxed")
            known = frozenset(universe["security_id"].to_list())
    incumbents = incumbents_from_holdings(incumbent, known)
    r2000_held = frozenset(incumbents["security_id"].to_list())
    # The fund's lists after the incumbent file, up to as_of (read once here).
    later = _later_fund_lists(data, incumbent, as_of)
    if later:
        joined = _joined_since(later, incumbent, as_of, universe, incumbents, notes)
        incumbents = pl.concat([incumbents, joined]).sort("security_id")
    r1000 = _r1000_from_r3000_holdings(
        data,
        rank_day,
        incumbents,
        universe,
        notes,
        seen=seen if on_panel else None,
        rules=rules,
        before=_r2000_before_last_recon(data, rank_day) if on_panel else None,
    )
    complement = r1000 is None
    deleted: frozenset[str] = frozenset()  # left the R2000 at the last recon
    if r1000 is not None:
        inputs[r1000[0].name] = r1000[0]
        incumbents = pl.concat([incumbents, r1000[1]]).sort("security_id")
        deleted = r1000[2]
    if on_panel:
        universe, flags = structure_screen(
            universe, members=incumbents["security_id"].to_list(), sec=sec
        )
        if flags.height:
            counts = flags.group_by("rule").len().sort("rule")
            notes.append(
                "company structures (R7 §5.11.1, §5.15) found from the SEC map, "
                "units and names, current members exempt: "
                + ", ".join(f"{r} {n}" for r, n in counts.iter_rows())
            )
            repairs = pl.concat(
                [repairs, flags.rename({"rule": "repair"})], how="diagonal_relaxed"
            )
    held = frozenset(incumbents["security_id"].to_list())
    found = (
        _first_caps(
            universe,
            incumbents,
            panel=panel,
            rank_day=rank_day,
            since=_last_effective_date(rank_day),
            members_then=deleted,
        )
        if r1000 is not None and on_panel
        else None
    )
    if found is not None:
        # one ranking without incumbents serves both inferences
        breakpoints = probe_breakpoints(universe, rules, rank_day)
        incumbents = _add_established_r1000(
            universe, incumbents, found=found, breakpoints=breakpoints, notes=notes
        )
        outsiders = _established_outsiders(
            universe, rules, found=found, breakpoints=breakpoints, notes=notes
        )
        if outsiders.height:
            universe = universe.filter(
                ~pl.col("security_id").is_in(outsiders["security_id"].to_list())
            )
            repairs = pl.concat([repairs, outsiders], how="diagonal_relaxed")
    if on_panel:
        despacs = _despacs_in_lockup(
            universe,
            rules,
            seen=seen,
            held=frozenset(incumbents["security_id"].to_list()),
            notes=notes,
        )
        if despacs.height:
            universe = universe.filter(
                ~pl.col("security_id").is_in(despacs["security_id"].to_list())
            )
            repairs = pl.concat([repairs, despacs], how="diagonal_relaxed")
    if on_panel and rules.ranking.unseen_companies_estimate:
        rules = _cut_for_unseen(
            universe,
            rules,
            rank_day=rank_day,
            held=held,
            r2000_held=r2000_held,
            outside_panel=outside_panel,
            notes=notes,
        )
    unheld = unheld_class_lines(universe, held)
    ceased: frozenset[str] = frozenset()
    if as_of > rank_day:
        ceased = ceased_before(
            data,
            as_of=as_of,
            rank_day=rank_day,
            panel=panel,
            panel_ids=market_ids if rank_day in sessions else frozenset(),
            incumbent=incumbent,
            later=later,
            known=known,
            sec=sec,
            notes=notes,
        )
        if ceased:
            repairs = pl.concat(
                [
                    repairs,
                    pl.DataFrame({"security_id": sorted(ceased)}).with_columns(
                        repair=pl.lit("stopped_trading"),
                        detail=pl.lit(f"stops trading before {as_of}"),
                    ),
                ],
                how="diagonal_relaxed",
            )
    result = reconstitute(
        universe,
        incumbents,
        rules,
        rank_day=rank_day,
        effective_date=schedule.effective_date,
        float_estimate=estimate,
        r1000_complement=complement,
        ceased=ceased,
        unheld_classes=unheld,
    )
    return ReconRun(
        result=result,
        schedule=schedule,
        universe_source=universe_source,
        incumbent_source=f"{incumbent_file.name} (as of {incumbent.as_of})",
        universe_ids=market_ids,
        inputs={name: file_digest(path) for name, path in sorted(inputs.items())},
        repairs=repairs,
        notes=tuple(notes),
        universe_lines=universe.select("security_id", "name"),
        as_of=as_of,
    )


def listing_float(
    data: DataDir, result: Reconstitution, panel: pl.DataFrame
) -> ListingFloat | None:
    """The float of recent listings for ``result``'s preview (docs/funds.md).

    Recent listings: lines the market panel first quotes after its first
    session, up to the rank day, that continue no earlier symbol. Their factor is
    the median of ``result``'s holdings-derived factors of the lines the IWM file
    the reconstitution used added since the IWM file before it
    (:class:`r2k.construction.floats.ListingFloat`). None when the panel does not
    cover the rank day, or there is no earlier file or no such addition.
    """
    rank_day = result.rank_day
    files = [p for p in data.holdings_files("IWM") if read_as_of(p) <= rank_day]
    if len(files) < 2 or rank_day not in set(panel["session"].to_list()):
        return None
    previous, current = (read_holdings(p).equities for p in files[-2:])
    try:
        sec = read_sec_tickers(data.sec_tickers)
    except DataDirectoryError:
        sec = None
    seen = _PanelUpTo(panel, rank_day, sec)
    renamed = set(seen.successors.values())
    additions = (
        set(current["security_id"].to_list())
        - set(previous["security_id"].to_list())
        - renamed
    )
    factors = result.membership.filter(pl.col("float_source") == "holdings")
    found = addition_float_factor(factors, frozenset(additions))
    if found is None:
        return None
    start = seen.history["session"].min()
    listings = (
        seen.history.group_by("security_id")
        .agg(first=pl.col("session").min())
        .filter(pl.col("first") > start)["security_id"]
    )
    factor, count = found
    return ListingFloat(
        listings=frozenset(listings.to_list()) - renamed,
        factor=factor,
        additions=count,
        source=f"median float factor of the {count} lines {files[-1].name} "
        f"added since {files[-2].name}",
    )


def session_before_effective(rank_day: date) -> date:
    """The ``as_of`` of a reconstitution that takes effect: the session before.

    What a calculation that applies the reconstitution on its effective date
    knows (which rank-day lines stopped trading up to then; see
    :func:`ceased_before`).
    """
    return previous_session(reconstitution_for_rank_day(rank_day).effective_date)


def validate_reconstitution(
    data: DataDir, effective_date: date, *, rules: RuleSet | None = None
) -> tuple[ReconRun, ReconValidation]:
    """Reconstitute and compare with the real Russell 2000 after ``effective_date``.

    The reconstitution learns which lines stopped trading up to the session before
    the effective date (``as_of``); the check reports the naive and the corrected
    figures (:mod:`r2k.fidelity.validation`).

    Raises
    ------
    MissingDataError
        If ``effective_date`` is not the effective date of a reconstitution.
    NoSnapshotError
        If the membership history holds no list after the effective date.
    """
    schedule = next(
        (
            s
            for s in reconstitutions(effective_date.year)
            if s.effective_date == effective_date
        ),
        None,
    )
    if schedule is None:
        dates = ", ".join(
            s.effective_date.isoformat() for s in reconstitutions(effective_date.year)
        )
        msg = (
            f"--effective {effective_date} is not a reconstitution effective date "
            f"({dates})"
        )
        raise MissingDataError(msg)
    as_of = previous_session(effective_date)
    history = read_membership_history(data.membership_history)
    actual_snapshot(history, effective_date)  # fail early: NoSnapshotError
    run = run_reconstitution(data, schedule.rank_day, rules=rules, as_of=as_of)
    predicted = set(run.result.index("r2000")["security_id"].to_list())
    holdings = tuple(
        read_holdings(p).frame
        for fund in ("IWM", "IWV")
        for p in data.holdings_files(fund)
    )
    try:
        sec = read_sec_tickers(data.sec_tickers)
    except DataDirectoryError:
        sec = None
    later: set[str] = set()
    ciks: dict[str, str] = {}
    if sec is not None:
        later |= set(sec["security_id"].to_list())
        ciks = dict(sec.select("security_id", "cik").iter_rows())
    try:
        panel = read_market_panel(data.market_panel)
        later |= set(panel["security_id"].unique().to_list())
    except DataDirectoryError:
        pass
    check = CheckInputs(
        universe_lines=run.universe_lines,
        holdings=holdings,
        ciks=ciks,
        later_listed=frozenset(later),
    )
    result = compare(
        predicted,
        history,
        rank_day=schedule.rank_day,
        effective_date=effective_date,
        universe_ids=set(run.universe_ids),
        check=check,
    )
    return run, result


def ceased_before(
    data: DataDir,
    *,
    as_of: date,
    rank_day: date,
    panel: pl.DataFrame,
    panel_ids: frozenset[str],
    incumbent: Holdings,
    later: list[pl.DataFrame],
    known: frozenset[str],
    sec: pl.DataFrame | None,
    notes: list[str],
) -> frozenset[str]:
    """Rank-day lines that stop trading after the rank day and on or before ``as_of``.

    * Lines of the market panel: the panel's sessions from the rank day to the
      last session on or before ``as_of``; a line absent from that last session
      whose symbol does not pass to another line (same SEC CIK, same name, or the
      same market cap within 5% up to five sessions later:
      :func:`r2k.construction.listings.successions`) stopped trading. Only the
      presence of symbols, their names and caps are read, never prices or volumes.
    * Other lines (added from the holdings, or every line when the panel does not
      cover the rank day): the fund's lists from the incumbent holdings file to
      ``as_of`` (later IWM holdings files, membership snapshots whose as-of session
      is on or before ``as_of``). FTSE Russell deletes a member between
      reconstitutions only when it stops trading (acquisition, delisting), so an
      incumbent line the fund no longer holds, followed through symbol changes
      from one list to the next (same CIK, same name, or the same fund weight of
      at least 0.05% when that is the only candidate), stopped trading.
    """
    ciks = {} if sec is None else dict(sec.select("security_id", "cik").iter_rows())
    out: set[str] = set()
    end = panel.filter(pl.col("session") <= as_of)["session"].max()
    if panel_ids and isinstance(end, date) and end > rank_day:
        window = panel.filter(
            (pl.col("session") >= rank_day) & (pl.col("session") <= end)
        )
        days = sorted(window["session"].unique().to_list())
        position = {d: i for i, d in enumerate(days)}
        listings = window.select(
            position=pl.col("session").replace_strict(position, return_dtype=pl.Int64),
            security_id="security_id",
            name="name",
            size="total_market_cap",
        )
        successors = successions(
            listings, ciks=ciks, max_gap=5, size_rtol=0.05, min_size=0.0
        )
        from_panel = ceased_lines(listings, panel_ids, successors)
        out |= from_panel
        notes.append(
            f"{len(from_panel)} rank-day lines of the market panel stop trading "
            f"between {rank_day} and {end} (their last session comes before it and "
            "their symbol passes to no other line); they are ranked, then left out"
        )
        if end < as_of:
            notes.append(
                f"the market panel ends on {end}, before --as-of {as_of}: lines that "
                "stop trading after it are not seen"
            )
    fund = _fund_ceased(incumbent, later, known - panel_ids, ciks)
    if fund:
        notes.append(
            f"{len(fund)} incumbent lines outside the market panel are no longer "
            f"held by the fund on or before {as_of} (deleted by FTSE Russell, which "
            "between reconstitutions happens only when a line stops trading); they "
            "are ranked, then left out"
        )
    out |= fund
    return frozenset(out & known)


def _later_fund_lists(
    data: DataDir, incumbent: Holdings, as_of: date
) -> list[pl.DataFrame]:
    """The fund's lists after the incumbent holdings file, up to ``as_of``, in order.

    The later IWM holdings files and membership snapshots whose as-of session is
    on or before ``as_of`` (none when ``as_of`` is not after the incumbent
    file), each as ``security_id`` (the fund's ticker), ``name`` and
    ``weight_pct``.
    """
    if as_of <= incumbent.as_of:
        return []
    later = sorted(
        (read_as_of(p), p)
        for p in data.holdings_files("IWM")
        if incumbent.as_of < read_as_of(p) <= as_of
    )
    frames = [
        read_holdings(path).equities.select("security_id", "name", "weight_pct")
        for _, path in later
    ]
    try:
        history = read_membership_history(data.membership_history)
    except DataDirectoryError:
        return frames
    stamps = [
        t
        for t in history["taken_at"].unique().sort().to_list()
        if incumbent.as_of < snapshot_as_of_session(t) <= as_of
    ]
    return frames + [
        history.filter(pl.col("taken_at") == stamp).select(
            security_id="ticker", name="name", weight_pct="weight_pct"
        )
        for stamp in stamps
    ]


def _listing_blocks(
    lists: list[pl.DataFrame], known: frozenset[str]
) -> list[pl.DataFrame]:
    """Fund lists as LISTINGS blocks (:mod:`r2k.construction.listings`).

    ``position`` is a list's place in ``lists``, ``security_id`` its ticker
    resolved against ``known``, ``size`` the fund weight; index lines only.
    """

    def resolve(expr: pl.Expr) -> pl.Expr:
        return expr.map_elements(
            lambda t: resolve_ticker(t, known), return_dtype=pl.String
        )

    index_line = pl.struct("security_id", "name").map_elements(
        lambda r: is_index_line(r["security_id"], r["name"]), return_dtype=pl.Boolean
    )
    return [
        frame.select(
            position=pl.lit(i, dtype=pl.Int64),
            security_id=resolve(pl.col("security_id")),
            name="name",
            size="weight_pct",
        ).filter(index_line)
        for i, frame in enumerate(lists)
    ]


def _fund_ceased(
    incumbent: Holdings,
    later: list[pl.DataFrame],
    candidates: frozenset[str],
    ciks: dict[str, str],
) -> set[str]:
    """Incumbent lines the fund's ``later`` lists stop holding."""
    if not candidates or not later:
        return set()
    first = incumbent.equities.select("security_id", "name", "weight_pct")
    blocks = _listing_blocks([first, *later], candidates)
    held = set(blocks[0]["security_id"].to_list()) & candidates
    listings = pl.concat(blocks).unique(["position", "security_id"], keep="first")
    successors = successions(
        listings, ciks=ciks, max_gap=1, size_rtol=0.08, min_size=0.05
    )
    return ceased_lines(listings, held, successors)


def _joined_since(
    later: list[pl.DataFrame],
    incumbent: Holdings,
    as_of: date,
    universe: pl.DataFrame,
    incumbents: pl.DataFrame,
    notes: list[str],
) -> pl.DataFrame:
    """Rank-day lines the fund came to hold after the incumbent file, by ``as_of``.

    FTSE Russell adds lines between reconstitutions (a member's spin-off on its
    ex-date, R7 §10; quarterly IPO additions): a line of the rank-day universe
    that a ``later`` fund list (:func:`_later_fund_lists`) holds and the
    incumbent file does not is a member before the reconstitution, so an
    incumbent of the Russell 2000 (the funds hold it: keeping it is no trade).
    Returns its INCUMBENTS rows.
    """
    known = frozenset(universe["security_id"].to_list())
    held = set(incumbents["security_id"].to_list())
    listed = {
        sid for block in _listing_blocks(later, known) for sid in block["security_id"]
    }
    joined = sorted(listed & known - held)
    if joined:
        notes.append(
            f"{len(joined)} rank-day lines ({', '.join(joined[:8])}) are held by IWM "
            f"after {incumbent.as_of} and on or before {as_of} but not in the "
            "incumbent file: joined between reconstitutions (spin-offs), they are "
            "Russell 2000 incumbents"
        )
    return _incumbent_rows(
        pl.Series(joined, dtype=pl.String), r1000=False, source="joined lines"
    )


def incumbents_from_holdings(
    holdings: Holdings, known: frozenset[str] = frozenset()
) -> pl.DataFrame:
    """Incumbent Russell 2000 lines (:data:`r2k.schemas.INCUMBENTS`) from IWM.

    Tickers are resolved against ``known`` security ids (``MOGA`` -> ``MOG.A``).
    """
    ids = holdings.equities.get_column("security_id").map_elements(
        lambda t: resolve_ticker(t, known), return_dtype=pl.String
    )
    return _incumbent_rows(ids.unique().sort(), r1000=False, source=str(holdings.as_of))


def _incumbent_rows(ids: pl.Series, *, r1000: bool, source: str) -> pl.DataFrame:
    """INCUMBENTS rows of lines ``ids``, all on one side of the #1,000 breakpoint.

    The fund files do not say the other segments (Top 200, Top 500, Microcap).
    """
    frame = pl.DataFrame(
        {"security_id": ids}, schema={"security_id": pl.String}
    ).with_columns(
        r1000=pl.lit(value=r1000),
        top200=pl.lit(None, dtype=pl.Boolean),
        top500=pl.lit(None, dtype=pl.Boolean),
        microcap=pl.lit(None, dtype=pl.Boolean),
    )
    return schemas.check_schema(frame, schemas.INCUMBENTS, source=source)


def _r1000_from_r3000_holdings(
    data: DataDir,
    rank_day: date,
    r2000: pl.DataFrame,
    universe: pl.DataFrame,
    notes: list[str],
    *,
    seen: _PanelUpTo | None = None,
    rules: RuleSet | None = None,
    before: tuple[date, frozenset[str]] | None = None,
) -> tuple[Path, pl.DataFrame, frozenset[str]] | None:
    """Russell 1000 incumbents from the latest IWV file of the past 13 months.

    Lines of the iShares Russell 3000 holdings that the incumbent Russell 2000
    does not hold. Only the change report and the #1,000 band use them; a company
    that moved from the R2000 to the R1000 at the last reconstitution is in IWV
    and not in IWM, so it counts as R1000, as it should. IWV symbols are followed
    to the rank day (:func:`_iwv_to_universe`); a company is an incumbent through
    any of its lines. With ``before`` (the last reconstitution's effective date
    and the lines IWM held just before it, :func:`_r2000_before_last_recon`) and
    ``rules``, the companies the Russell 2000 deleted at that reconstitution are
    left out (:func:`r2k.construction.incumbency.deleted_at_last_recon`); their
    lines are returned third.
    """
    window = [
        (read_as_of(p), p)
        for p in data.holdings_files("IWV")
        if rank_day - timedelta(days=400) <= read_as_of(p) <= rank_day
    ]
    if not window:
        return None
    as_of, path = max(window)
    iwv = read_holdings(path).equities
    matched, moved = _iwv_to_universe(iwv, universe, r2000, seen=seen)
    # IWM's file is the later evidence: a company it holds is a Russell 2000 member.
    r2000_companies = universe.filter(
        pl.col("security_id").is_in(r2000["security_id"].implode())
    )["company_id"]
    ids = universe.filter(
        pl.col("security_id").is_in(list(matched))
        & ~pl.col("company_id").is_in(r2000_companies.implode())
    )["security_id"]
    dropped: frozenset[str] = frozenset()
    if before is not None and rules is not None:
        kept = _without_deleted(
            ids, universe, before=before, moved=moved, rules=rules, rank_day=rank_day
        )
        if kept.len() < ids.len():
            notes.append(
                f"{ids.len() - kept.len()} IWV lines that IWM held before the "
                f"{before[0]} reconstitution and no longer holds, now below the "
                "#1,000 band's lower edge, were deleted from the Russell 2000 then: "
                "non-members, not Russell 1000 incumbents"
            )
        dropped = frozenset(ids.to_list()) - frozenset(kept.to_list())
        ids = kept
    frame = _incumbent_rows(
        pl.Series(sorted(ids.to_list()), dtype=pl.String), r1000=True, source=path.name
    )
    shown = ", ".join(f"{a}->{b}" for a, b in sorted(moved.items())[:12])
    notes.append(
        f"Russell 1000 incumbents: {frame.height} lines of {path.name} (as of {as_of}) "
        "that the incumbent Russell 2000 does not hold"
        + (
            f"; {len(moved)} IWV symbols followed to the rank day ({shown}"
            + (" ..." if len(moved) > 12 else "")
            + ")"
            if moved
            else ""
        )
    )
    return (
        path,
        frame,
        dropped,
    )


def _r2000_before_last_recon(
    data: DataDir, rank_day: date
) -> tuple[date, frozenset[str]] | None:
    """The lines IWM held just before the last reconstitution, from its history.

    The last snapshot of the membership history that reflects a session of the
    week before the last reconstitution's effective date (the session itself
    excluded: IWM trades the reconstitution at its close); None when the history
    is missing or holds no such snapshot. Dated before the rank day.
    """
    effective = _last_effective_date(rank_day)
    try:
        history = read_membership_history(data.membership_history)
    except DataDirectoryError:
        return None
    table = snapshots(history).filter(
        (pl.col("as_of_session") < effective)
        & (pl.col("as_of_session") >= effective - timedelta(days=7))
    )
    if table.height == 0:
        return None
    lines = snapshot_tickers(history, table["taken_at"][-1])["security_id"]
    return effective, frozenset(lines.drop_nulls().to_list())


def _companies_of(universe: pl.DataFrame, lines: Iterable[str]) -> set[str]:
    """The companies of ``universe`` with a line in ``lines``."""
    wanted = pl.col("security_id").is_in(list(lines))
    return set(universe.filter(wanted)["company_id"].to_list())


def _without_deleted(
    ids: pl.Series,
    universe: pl.DataFrame,
    *,
    before: tuple[date, frozenset[str]],
    moved: dict[str, str],
    rules: RuleSet,
    rank_day: date,
) -> pl.Series:
    """``ids`` (IWV lines IWM does not hold) less the Russell 2000's deletions.

    A line IWM held before the last reconstitution (its symbol followed to the
    rank day as IWV's are, ``moved``) that is among ``ids`` left the Russell 2000
    then; its company below the rank day's #1,000 band lower edge was deleted
    (:func:`r2k.construction.incumbency.deleted_at_last_recon`).
    """
    left = {moved.get(s, s) for s in before[1]} & set(ids.to_list())
    if not left:
        return ids
    edge = band_lower_edge(universe, rules, rank_day)
    if edge is None:
        return ids
    caps = universe.group_by("company_id").agg(
        total_market_cap=(pl.col("shares_outstanding") * pl.col("close")).sum()
    )
    deleted = deleted_at_last_recon(
        caps,
        candidates=_companies_of(universe, ids.to_list()),
        left=_companies_of(universe, left),
        edge=edge,
    )
    wanted = pl.col("company_id").is_in(list(deleted))
    dropped = universe.filter(wanted)["security_id"]
    return ids.filter(~ids.is_in(dropped.implode()))


def unheld_class_lines(universe: pl.DataFrame, held: frozenset[str]) -> frozenset[str]:
    """Lines of companies the fund files hold that the files do not hold themselves.

    Only companies with at least two lines and at least one held line count: the
    fund's choice of classes is FTSE Russell's (R7 §6.6), point-in-time.
    """
    frame = universe.select("security_id", "company_id").with_columns(
        held=pl.col("security_id").is_in(list(held))
    )
    hit = frame.filter(
        pl.col("held").any().over("company_id")
        & (pl.len().over("company_id") >= 2)
        & ~pl.col("held")
    )
    return frozenset(hit["security_id"].to_list())


def _iwv_to_universe(
    iwv: pl.DataFrame,
    universe: pl.DataFrame,
    r2000: pl.DataFrame,
    *,
    seen: _PanelUpTo | None,
) -> tuple[set[str], dict[str, str]]:
    """Universe lines that IWV's lines are on the rank day, and the renamed ones.

    An IWV symbol is taken as it is when the universe has it; else followed
    through the market data's symbol changes up to the rank day (same SEC CIK or
    same name: :func:`r2k.construction.listings.successions`; equal caps pair
    unrelated lines over four months of sessions, so that rule is off here); else
    paired by company name key with exactly one share line of the universe, of a
    company that neither fund list claims
    (:func:`r2k.construction.incumbency.match_by_name`).
    """
    known = frozenset(universe["security_id"].to_list())
    lines = iwv.filter(
        pl.struct("security_id", "name").map_elements(
            lambda r: is_index_line(r["security_id"], r["name"]),
            return_dtype=pl.Boolean,
        )
    ).with_columns(
        resolved=pl.col("security_id").map_elements(
            lambda t: resolve_ticker(t, known), return_dtype=pl.String
        )
    )
    plain = ~pl.col("security_type").is_in(list(_INSTRUMENTS))
    equity = frozenset(universe.filter(plain)["security_id"].to_list())
    matched = set(lines["resolved"].to_list()) & equity
    moved: dict[str, str] = {}
    rest = lines.filter(~pl.col("resolved").is_in(list(known)))
    if seen is not None and rest.height:
        successors = seen.successors
        for sid in rest["resolved"].to_list():
            end = follow(sid, successors)
            if end != sid and end in known:
                moved[sid] = end
    claimed = matched | set(moved.values()) | set(r2000["security_id"].to_list())
    rest = rest.filter(~pl.col("resolved").is_in(list(moved)))
    if rest.height:
        claimed_companies = universe.filter(pl.col("security_id").is_in(list(claimed)))[
            "company_id"
        ]
        free = universe.filter(
            plain & ~pl.col("company_id").is_in(claimed_companies.implode())
        ).select("security_id", "name")
        by_name = match_by_name(rest.select(security_id="resolved", name="name"), free)
        moved.update(by_name)
    return matched | set(moved.values()), moved


def _latest_iwv(data: DataDir, rank_day: date) -> Path | None:
    """The latest IWV file of the 13 months up to the rank day, if any."""
    window = [
        (read_as_of(p), p)
        for p in data.holdings_files("IWV")
        if rank_day - timedelta(days=400) <= read_as_of(p) <= rank_day
    ]
    return max(window)[1] if window else None


def _add_r1000_from_iwv(
    data: DataDir,
    rank_day: date,
    universe: pl.DataFrame,
    *,
    incumbent: Holdings,
    seen: _PanelUpTo,
    rules: RuleSet,
    notes: list[str],
) -> tuple[pl.DataFrame, tuple[Path, pl.DataFrame] | None]:
    """Add the Russell 1000 members the market panel leaves out, from IWV.

    The panel lists US-domiciled companies only; Russell assigns many companies
    domiciled abroad to the US (Accenture, Eaton, Chubb, Linde ...). The Russell
    2000 ones come from the incumbent IWM file (:func:`incumbents_outside_panel`);
    the larger ones from the latest IWV (iShares Russell 3000) file of the past
    13 months, the same way: IWV price moved by the S&P 500's change to the rank
    day (large companies), total shares = quantity / (IWV's ownership ratio x
    IWV's median float factor, both estimated against the panel's first share
    counts on or before the rank day). A line is added only when

    * the universe has no line for it (by symbol, by the panel's symbol changes,
      by company name: :func:`_iwv_to_universe`) and IWM does not hold it;
    * the panel never listed its symbol up to the rank day (then it stopped
      trading or trades under another symbol the universe has);
    * the SEC ticker map lists its symbol (an IWV line the map does not know was
      acquired, merged or renamed since: Discover, Hess, Ansys, Juniper ...).
      Without the SEC map nothing is added;
    * its symbol's root is no universe symbol (``LEN.B`` beside ``LEN``);
    * its company's estimated cap is at least the #1,000 band's lower edge
      (:func:`band_lower_edge`): the addition is there to put the #1,000
      breakpoint right; below the band a year-old estimate (Amer Sports' IWV
      quantity reflects its 2025 float) would decide Russell 2000 membership,
      and the SEC map (not dated) still lists companies acquired in late 2025.
    """
    path = _latest_iwv(data, rank_day)
    panel, sec = seen.panel, seen.sec
    if path is None or sec is None:
        return universe, None
    iwv = read_holdings(path)
    known = frozenset(universe["security_id"].to_list())
    r2000 = incumbents_from_holdings(incumbent, known)
    matched, moved = _iwv_to_universe(iwv.equities, universe, r2000, seen=seen)
    taken = set(moved) | matched | set(r2000["security_id"].to_list())
    listed = frozenset(sec["security_id"].to_list())
    known_or_listed = known | listed  # built once, not once per holding
    candidates = iwv.equities.with_columns(
        security_id=pl.col("security_id").map_elements(
            lambda t: resolve_ticker(t, known_or_listed), return_dtype=pl.String
        )
    ).filter(
        pl.col("security_id").is_in(list(listed))
        & ~pl.col("security_id").is_in(list(taken))
        # another class of a universe company (LEN.B beside LEN, UHAL.B beside UHAL)
        & ~pl.col("security_id").str.split(".").list.first().is_in(list(known))
        & pl.struct("security_id", "name").map_elements(
            lambda r: is_index_line(r["security_id"], r["name"]),
            return_dtype=pl.Boolean,
        )
    )
    if candidates.height == 0:
        return universe, None
    first = panel.filter(
        (pl.col("session") >= iwv.as_of) & (pl.col("session") <= rank_day)
    )["session"].min()
    if not isinstance(first, date):
        return universe, None
    estimate = _float_estimate(iwv, _panel_shares(panel, first), rules, notes)
    factor = _index_factor(data, "SPX", iwv.as_of, rank_day)
    extra = incumbents_outside_panel(
        replace(iwv, frame=candidates),
        known,
        estimate,
        market_factor=factor,
        listed_before=seen.listed,
    )
    if extra.height == 0:
        return universe, None
    extra = extra.filter(~pl.col("security_id").is_in(list(known)))
    edge = band_lower_edge(pl.concat([universe, extra]), rules, rank_day)
    if edge is not None:
        big = extra.group_by("company_id").agg(
            cap=(pl.col("shares_outstanding") * pl.col("close")).sum()
        )
        keep = big.filter(pl.col("cap") >= edge)["company_id"]
        dropped = extra.height
        extra = extra.filter(pl.col("company_id").is_in(keep.implode()))
        dropped -= extra.height
        if dropped:
            notes.append(
                f"{dropped} IWV lines left out: their year-old size, moved to the rank "
                f"day, is below the #1,000 band's lower edge (${edge / 1e6:,.0f}M), "
                "where a stale estimate cannot place a company (and small IWV lines "
                "the SEC map still lists include acquired ones)"
            )
    if extra.height == 0:
        return universe, None
    notes.append(
        f"{extra.height} Russell 1000 lines of {path.name} are not in the market "
        "panel (companies domiciled abroad that Russell assigns to the US) and "
        f"still listed in the SEC map; they enter the universe priced at the IWV "
        f"price x {factor:.3f} (S&P 500 from {iwv.as_of} to {rank_day})"
    )
    repairs = extra.select(
        "security_id",
        repair=pl.lit("added_from_iwv"),
        detail=pl.lit(f"not in the panel; from {path.name}"),
    )
    universe = pl.concat([universe, extra]).sort("security_id")
    return universe, (path, repairs)


def _probe(universe: pl.DataFrame, rules: RuleSet, rank_day: date) -> Reconstitution:
    """``universe`` reconstituted without incumbents (ranks and breakpoints only)."""
    empty = pl.DataFrame(schema=schemas.INCUMBENTS)
    return reconstitute(
        universe, empty, rules, rank_day=rank_day, effective_date=rank_day
    )


def probe_breakpoints(
    universe: pl.DataFrame, rules: RuleSet, rank_day: date
) -> pl.DataFrame:
    """The breakpoints of a universe ranked without incumbents (they play no part)."""
    return _probe(universe, rules, rank_day).breakpoints


def _cut_for_unseen(
    universe: pl.DataFrame,
    rules: RuleSet,
    *,
    rank_day: date,
    held: frozenset[str],
    r2000_held: frozenset[str],
    outside_panel: frozenset[str],
    notes: list[str],
) -> RuleSet:
    """``rules`` with the #3,000 cut moved up by the companies the data cannot show.

    :func:`r2k.construction.ranking.unseen_companies`: the share of the incumbent
    IWM file's companies that the panel lacks (``outside_panel``, lines added from
    the holdings, of ``r2000_held``) is taken to be missing among the ranked
    companies no fund list holds (no line in ``held``), ranked in a probe without
    incumbents (incumbency changes no rank). Russell ranks those unseen companies
    too, so the R3000 holds that many fewer of the companies r2k sees
    (``[ranking].unseen_companies_estimate``; docs/methodology.md).
    """
    outside = _companies_of(universe, outside_panel & r2000_held)
    in_panel = _companies_of(universe, r2000_held) - outside
    probe = _probe(universe, rules, rank_day).membership
    size = rules.ranking.r3000_size
    ranked = set(
        probe.filter(pl.col("is_pricing_vehicle") & (pl.col("rank") <= size))[
            "company_id"
        ].to_list()
    )
    in_no_list = ranked - _companies_of(universe, held)
    unseen = unseen_companies(
        outside_panel=len(outside), in_panel=len(in_panel), in_no_list=len(in_no_list)
    )
    if unseen == 0 or unseen >= size - rules.ranking.r1000_size:
        return rules
    notes.append(
        f"#3,000 cut moved up by {unseen} ranks: {len(outside)} of the incumbent "
        f"IWM file's {len(outside) + len(in_panel)} companies are not in the "
        f"market panel (domiciled abroad, assigned to the US); as many per company "
        f"are taken to be missing among the {len(in_no_list)} ranked companies no "
        f"fund list holds, so the R3000 holds the first {size - unseen} companies "
        "r2k sees ([ranking].unseen_companies_estimate)"
    )
    return replace(rules, ranking=replace(rules.ranking, r3000_size=size - unseen))


def _breakpoint(breakpoints: pl.DataFrame, name: str, column: str) -> float | None:
    value = breakpoints.filter(pl.col("name") == name)[column]
    return None if value.len() == 0 or value[0] is None else float(value[0])


def band_lower_edge(
    universe: pl.DataFrame, rules: RuleSet, rank_day: date
) -> float | None:
    """The #1,000 band's lower edge cap of a universe (incumbency plays no part)."""
    return _breakpoint(
        probe_breakpoints(universe, rules, rank_day), "r1000", "lower_edge_cap"
    )


def _last_effective_date(rank_day: date) -> date:
    """Effective date of the latest reconstitution before ``rank_day``'s."""
    earlier = [
        s.effective_date
        for year in (rank_day.year - 1, rank_day.year)
        for s in reconstitutions(year)
        if s.effective_date < rank_day
    ]
    return max(earlier) if earlier else rank_day - timedelta(days=365)


def _first_caps(
    universe: pl.DataFrame,
    incumbents: pl.DataFrame,
    *,
    panel: pl.DataFrame,
    rank_day: date,
    since: date,
    members_then: frozenset[str] = frozenset(),
) -> tuple[set[str], date, pl.DataFrame] | None:
    """The companies in neither fund list, the first panel session, their caps then.

    The caps are those of the first panel session after ``since`` (the last
    effective date), on or before the rank day; ``None`` when there is no such
    session or every company is held. Companies with a line in ``members_then``
    (Russell 2000 members until the last reconstitution, which deleted them) are
    not counted: IWM held them, so neither inference from never having been held
    applies to them.
    """
    listed = set(incumbents["security_id"].to_list()) | members_then
    by_company = universe.select("security_id", "company_id")
    held = set(
        by_company.filter(pl.col("security_id").is_in(list(listed)))[
            "company_id"
        ].to_list()
    )
    unlisted = set(by_company["company_id"].to_list()) - held
    first_day = panel.filter(
        (pl.col("session") > since) & (pl.col("session") <= rank_day)
    )["session"].min()
    if not unlisted or not isinstance(first_day, date):
        return None
    first_caps = (
        panel.filter(pl.col("session") == first_day)
        .join(by_company, on="security_id", how="inner")
        .group_by("company_id")
        .agg(total_market_cap=pl.col("total_market_cap").max())
    )
    return unlisted, first_day, first_caps


def _established_outsiders(
    universe: pl.DataFrame,
    rules: RuleSet,
    *,
    found: tuple[set[str], date, pl.DataFrame],
    breakpoints: pl.DataFrame,
    notes: list[str],
) -> pl.DataFrame:
    """Lines of companies taken as ineligible: already listed, large, never held.

    See :func:`r2k.construction.incumbency.established_outsiders`. The range runs
    from ``rules.eligibility.established_outsider_cap_multiple`` times the #3,000
    company's cap of the rank day up to the #1,000 band's lower edge (both from
    ``breakpoints``, :func:`probe_breakpoints`); a multiple of 0 turns the
    inference off. ``found`` is :func:`_first_caps`. Returns ``security_id``,
    ``repair`` and ``detail`` of the lines dropped from the universe.
    """
    empty = pl.DataFrame(schema=_REPAIRS)
    multiple = rules.eligibility.established_outsider_cap_multiple
    cap_3000 = _breakpoint(breakpoints, "r3000", "total_market_cap")
    edge = _breakpoint(breakpoints, "r1000", "lower_edge_cap")
    if multiple <= 0 or cap_3000 is None or edge is None:
        return empty
    unlisted, first_day, first_caps = found
    low = multiple * cap_3000
    companies = established_outsiders(first_caps, unlisted=unlisted, low=low, high=edge)
    if not companies:
        return empty
    # Only lines that pass every screen the data can show: a line already
    # excluded (security type, structure, voting) keeps that reason.
    lines = universe.filter(
        pl.col("company_id").is_in(list(companies))
        & pl.col("security_type").is_in(list(rules.eligibility.eligible_security_types))
        & (
            pl.col("voting_rights_pct").is_null()
            | (pl.col("voting_rights_pct") > rules.eligibility.min_voting_rights_pct)
        )
    )
    if lines.height == 0:
        return empty
    notes.append(
        f"{lines['company_id'].n_unique()} companies ({lines.height} lines) "
        f"already listed on {first_day} with a cap from ${low / 1e6:,.0f}M "
        f"({multiple:g} x the #3,000 cap) up to the #1,000 band's lower edge, "
        "which no fund list holds, are taken as ineligible (a screen the data "
        "cannot show: voting rights, country, BDC; "
        "[eligibility].established_outsider_cap_multiple)"
    )
    return (
        lines.select("security_id")
        .sort("security_id")
        .with_columns(
            repair=pl.lit("established_outsider"),
            detail=pl.lit(
                f"never held by IWM, listed on {first_day} above ${low / 1e6:,.0f}M"
            ),
        )
    )


#: Universe repairs: the line, the repair and what the data showed.
_REPAIRS: Final = pl.Schema(
    {"security_id": pl.String, "repair": pl.String, "detail": pl.String}
)


def _despacs_in_lockup(
    universe: pl.DataFrame,
    rules: RuleSet,
    *,
    seen: _PanelUpTo,
    held: frozenset[str],
    notes: list[str],
) -> pl.DataFrame:
    """Lines of de-SPACs still in their lock-up, taken as not yet eligible.

    R7 §4.3.4: a de-SPAC is considered only after its longest stated lock-up
    expires. A completed SPAC merger shows in the panel as a company whose share
    and warrant lines start trading together
    (:func:`r2k.construction.listings.despac_listings`; a symbol change is no new
    listing); one that did so fewer than
    ``rules.eligibility.despac_lockup_days`` days before the rank day is in its
    lock-up (0 turns the rule off). A company the fund files hold (``held``
    lines) is a member and exempt. Returns ``security_id``, ``repair`` and
    ``detail`` of the share lines dropped from the universe.
    """
    empty = pl.DataFrame(schema=_REPAIRS)
    days = rules.eligibility.despac_lockup_days
    history = seen.history
    start = history["session"].min()
    if days <= 0 or not isinstance(start, date):
        return empty
    first = history.group_by("security_id").agg(first_session=pl.col("session").min())
    lines = universe.select("security_id", "company_id", "security_type").join(
        first, on="security_id", how="inner"
    )
    members = universe.filter(pl.col("security_id").is_in(list(held)))["company_id"]
    found = despac_listings(
        lines, after=start, renamed=seen.successors.values()
    ).filter(
        (pl.col("first_session") > seen.rank_day - timedelta(days=days))
        & ~pl.col("company_id").is_in(members.implode())
    )
    if found.height == 0:
        return empty
    notes.append(
        f"{found.height} companies ({', '.join(found['security_id'].to_list()[:8])}) "
        "began trading with their warrants (a completed SPAC merger) within "
        f"{days} days of the rank day: de-SPACs in their lock-up, not yet "
        "eligible (R7 §4.3.4; [eligibility].despac_lockup_days)"
    )
    return found.select(
        "security_id",
        repair=pl.lit("despac_lockup"),
        detail=pl.format(
            "shares and warrants first traded {}: a de-SPAC in its lock-up",
            pl.col("first_session"),
        ),
    )


def _add_established_r1000(
    universe: pl.DataFrame,
    incumbents: pl.DataFrame,
    *,
    found: tuple[set[str], date, pl.DataFrame],
    breakpoints: pl.DataFrame,
    notes: list[str],
) -> pl.DataFrame:
    """Add the companies in neither fund list that were already large (R1000).

    See :func:`r2k.construction.incumbency.established_r1000`. The threshold is
    the #1,000 band's lower edge cap of the rank day (``breakpoints``, from
    :func:`probe_breakpoints`: breakpoints do not depend on incumbency); the caps
    are those of :func:`_first_caps` (``found``).
    """
    unlisted, first_day, first_caps = found
    by_company = universe.select("security_id", "company_id")
    edge = _breakpoint(breakpoints, "r1000", "lower_edge_cap")
    if edge is None:
        return incumbents
    companies = established_r1000(first_caps, unlisted=unlisted, threshold=edge)
    ids = sorted(
        by_company.filter(pl.col("company_id").is_in(list(companies)))[
            "security_id"
        ].to_list()
    )
    notes.append(
        f"{len(unlisted)} universe companies are in neither fund list: non-members, "
        f"except {len(companies)} already listed on {first_day} with a cap of at "
        f"least the #1,000 band's lower edge (${edge / 1e6:,.0f}M), taken "
        "as Russell 1000 incumbents"
    )
    extra = _incumbent_rows(
        pl.Series(ids, dtype=pl.String), r1000=True, source="established"
    )
    return pl.concat([incumbents, extra]).sort("security_id")


def incumbents_outside_panel(
    holdings: Holdings,
    known: frozenset[str],
    estimate: FloatEstimate | None,
    *,
    market_factor: float,
    listed_before: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Universe lines for incumbent holdings that the market panel lacks.

    The panel leaves out US-listed companies domiciled abroad, which Russell may
    still assign to the US (Fabrinet, Transocean ...). Without them every rank
    below them would be too high and the #3,000 cut too low. Each such holding
    enters with its holdings price times ``market_factor`` (the Russell 2000's
    move from the holdings date to the rank day) and total shares estimated as
    ``quantity / (ownership ratio x median float factor)``.

    A holding is never re-added when it has no price on the rank day although the
    market data know it: its symbol is in ``listed_before`` (the panel's symbols up
    to the rank day) -- it stopped trading, or trades under another symbol that
    the universe already has -- or its holdings price is zero.
    """
    if estimate is None:
        return pl.DataFrame(schema=schemas.UNIVERSE)
    eq = holdings.equities.filter(pl.col("price") > 0).with_columns(
        security_id=pl.col("security_id").map_elements(
            lambda t: resolve_ticker(t, known), return_dtype=pl.String
        )
    )
    missing = eq.filter(
        ~pl.col("security_id").is_in(list(known))
        & ~pl.col("security_id").is_in(list(listed_before))
    ).unique("security_id", keep="first")
    denominator = estimate.ownership_ratio * estimate.median_factor
    return _holdings_lines(
        missing,
        close=pl.col("price") * market_factor,
        avg_close_30d=pl.col("price") * market_factor,
        shares=pl.col("quantity") / denominator,
        source=f"{holdings.fund} extra",
    )


def _holdings_lines(
    equities: pl.DataFrame,
    *,
    close: pl.Expr,
    avg_close_30d: pl.Expr,
    shares: pl.Expr,
    source: str,
) -> pl.DataFrame:
    """Universe lines (:data:`r2k.schemas.UNIVERSE`) from holdings equity lines."""
    frame = equities.select(
        "security_id",
        company_key=company_key_expr("name"),
        name="name",
        sector="sector",
        security_type=security_type_expr("name", exchange_col="exchange"),
        exchange=_venue(pl.col("exchange")),
        country=pl.lit(None, dtype=pl.String),
        close=close,
        avg_close_30d=avg_close_30d,
        avg_volume=pl.lit(None, dtype=pl.Float64),
        addtv=pl.lit(None, dtype=pl.Float64),
        shares_outstanding=shares,
        float_factor=pl.lit(None, dtype=pl.Float64),
        voting_rights_pct=pl.lit(None, dtype=pl.Float64),
    )
    frame = frame.with_columns(company_id=company_ids(frame))
    return schemas.check_schema(
        frame.sort("security_id"), schemas.UNIVERSE, source=source
    )


def _venue(exchange: pl.Expr) -> pl.Expr:
    """Map iShares venue names ("NASDAQ", "Nyse Mkt Llc", ...) to exchange codes."""
    upper = exchange.str.to_uppercase()
    return (
        pl.when(upper.str.contains("NASDAQ"))
        .then(pl.lit("NASDAQ"))
        .when(upper.str.contains("MKT|AMERICAN"))
        .then(pl.lit("NYSE AMERICAN"))
        .when(upper.str.contains("ARCA"))
        .then(pl.lit("NYSE ARCA"))
        .when(upper.str.contains("NYSE|NEW YORK"))
        .then(pl.lit("NYSE"))
        .when(upper.str.contains("CBOE|BATS"))
        .then(pl.lit("CBOE"))
        .otherwise(upper)
    )


def _rut_factor(data: DataDir, start: date, end: date) -> float:
    """Russell 2000 price change from ``start`` to ``end`` (1.0 if not covered)."""
    return _index_factor(data, "RUT", start, end)


def _index_factor(data: DataDir, index: str, start: date, end: date) -> float:
    """An index's price change from ``start`` to ``end`` (1.0 if not covered)."""
    try:
        levels = read_index_levels(data.index_levels(index), index)
    except R2KError:
        return 1.0
    a = levels.filter(pl.col("session") <= start).tail(1)
    b = levels.filter(pl.col("session") <= end).tail(1)
    if a.height == 0 or b.height == 0:
        return 1.0
    return float(b.item(0, "close")) / float(a.item(0, "close"))


def holdings_universe(holdings: Holdings, rank_day: date) -> pl.DataFrame:
    """A universe from an index fund's holdings (float-adjusted quantities).

    Quantities are scaled so that the total cap equals the published Russell 3000
    total cap of the rank day's year.
    """
    total = PUBLISHED_R3000_TOTAL_CAP.get(rank_day.year)
    if total is None:
        years = ", ".join(str(y) for y in sorted(PUBLISHED_R3000_TOTAL_CAP))
        msg = (
            f"no published Russell 3000 total cap for {rank_day.year} to scale a "
            f"holdings universe (known: {years}); use a market panel covering "
            f"{rank_day}"
        )
        raise MissingDataError(msg)
    eq = holdings.equities.filter(pl.col("price") > 0).unique(
        "security_id", keep="first"
    )
    scale = total / float(eq["market_value"].sum())
    return _holdings_lines(
        eq,
        close=pl.col("price"),
        avg_close_30d=pl.lit(None, dtype=pl.Float64),
        shares=pl.col("quantity") * scale,
        source=holdings.fund,
    )


def _incumbent_holdings(
    data: DataDir, schedule: ReconSchedule, notes: list[str]
) -> Path:
    files = [(read_as_of(p), p) for p in data.holdings_files("IWM")]
    before = [item for item in files if item[0] <= schedule.rank_day]
    if before:
        return max(before)[1]
    window = [item for item in files if item[0] <= schedule.preliminary_list]
    if window:
        as_of, path = min(window)
        notes.append(
            f"no IWM holdings on or before the rank day {schedule.rank_day}; the "
            f"incumbent Russell 2000 is taken from {path.name} (as of {as_of}, "
            "before the preliminary list): membership only"
        )
        return path
    msg = (
        f"no IWM holdings file dated on or before {schedule.preliminary_list} "
        f"(preliminary list of the {schedule.rank_day} reconstitution) in "
        f"{data.ishares_dir}: r2k needs the incumbent Russell 2000"
    )
    raise MissingDataError(msg)


def read_as_of(path: Path) -> date:
    """The date in a holdings file name ``<FUND>_<YYYY-MM-DD>.csv``.

    Raises
    ------
    DataDirectoryError
        If the name holds no date or an impossible one (``IWM_2026-02-30.csv``).
    """
    return holdings_file_date(path)


def _holdings_universe_file(data: DataDir, rank_day: date) -> Path:
    last = session_offset(
        next_session(rank_day, inclusive=True), HOLDINGS_UNIVERSE_MAX_SESSIONS
    )
    for path in data.holdings_files("IWV"):
        if rank_day <= read_as_of(path) <= last:
            return path
    msg = (
        f"no universe for rank day {rank_day}: the market panel does not cover it and "
        f"no IWV holdings file is dated {rank_day} to {last}"
    )
    raise MissingDataError(msg)


def _panel_shares(panel: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Latest known shares of each security on or before ``as_of``."""
    return (
        panel.filter(
            (pl.col("session") <= as_of) & pl.col("shares_outstanding").is_not_null()
        )
        .sort("session")
        .group_by("security_id")
        .agg(pl.col("shares_outstanding").last())
    )


def _float_estimate(
    holdings: Holdings, shares: pl.DataFrame, rules: RuleSet, notes: list[str]
) -> FloatEstimate | None:
    try:
        estimate = estimate_from_holdings(holdings.equities, shares, rules.float)
    except MissingDataError as exc:
        notes.append(f"float factors: {exc}; using the fallback")
        return None
    log.info(
        "float factors from %s %s: ownership ratio %.5f, median factor %.3f",
        holdings.fund,
        holdings.as_of,
        estimate.ownership_ratio,
        estimate.median_factor,
    )
    return estimate
