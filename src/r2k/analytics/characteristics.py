"""Index characteristics: size, concentration, sectors, liquidity, overlap, turnover.

The figures of an index fact sheet, computed from one session of constituents
(or one real IWM holdings file) and a cross-section of the market panel:

* *size*: number of constituents (index lines), total market cap (the sum of the
  companies' total caps, from the panel) and float-adjusted cap (index shares x
  close); the smallest, largest, median, mean and weighted-average company cap;
* *concentration*: weight of the ten largest lines, the Herfindahl-Hirschman
  index ``HHI = sum(w^2)`` and the effective number of constituents ``1 / HHI``
  (the number of equal weights with the same HHI);
* *sectors*: count and weight of each sector;
* *liquidity*: aggregate daily dollar volume, ``sum(close x volume)``;
* :func:`sp600_overlap`: how much of the index is in the S&P 600 (matched by
  normalised ticker);
* :func:`reconstitution_turnover`: one-way turnover at a reconstitution.

Conventions
-----------
Weights are fractions summing to 1 over the lines counted. Caps are in US
dollars. A company cap comes from the panel's ``total_market_cap`` (Nasdaq's
total shares x price); members the panel does not cover (US-listed companies
domiciled abroad, about 7% of IWM's value) count in the weights but not in the
cap statistics, whose coverage is reported (``cap_coverage``). The weighted
average cap renormalises the weights over the covered members. Sector
classifications differ by source: Nasdaq's sectors for the panel, GICS for
iShares files (``sector_scheme`` says which). Nothing is rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl

from r2k.analytics._inputs import require_columns
from r2k.errors import MissingDataError, SchemaError
from r2k.tickers import normalize_ticker_expr

if TYPE_CHECKING:
    from datetime import date

    from r2k.data.sources.ishares import Holdings

__all__ = [
    "MEMBERS",
    "Characteristics",
    "Overlap",
    "Turnover",
    "holdings_characteristics",
    "index_characteristics",
    "reconstitution_turnover",
    "sp600_overlap",
]

MEMBERS: Final = pl.Schema(
    {
        "security_id": pl.String,
        "name": pl.String,
        "sector": pl.String,
        "weight": pl.Float64,  # fraction of float_market_cap
        "float_market_cap": pl.Float64,  # index shares x close (holdings: value)
        "total_market_cap": pl.Float64,  # company total cap; null if not covered
        "dollar_volume": pl.Float64,  # close x volume; null if not covered
    }
)
"""Columns of :attr:`Characteristics.members` (largest weight first)."""

UNKNOWN_SECTOR: Final = "Unknown"
"""Sector of a member whose sector is missing."""

_TOP = 10


def _one_session(frame: pl.DataFrame, what: str, how: str) -> date:
    sessions = frame.get_column("session").unique()
    if sessions.len() != 1:
        msg = f"{what} must hold exactly one session; it holds {sessions.len()}. {how}"
        raise SchemaError(msg)
    day: date = sessions.item()
    return day


def _nan_to_none(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Characteristics:
    """Fact-sheet characteristics of an index (or a fund) on one date.

    Attributes
    ----------
    source : str
        What was measured (``"r2k index"``, ``"IWM holdings file"``).
    as_of : date
        The session of the constituents (or the holdings' as-of date).
    market_session : date or None
        The session of the panel cross-section used for caps and volume.
    sector_scheme : str
        Where the sectors come from (Nasdaq sectors or GICS).
    weight_basis : str
        How the weights are computed.
    constituents : int
        Index lines counted (a company with two share classes has two).
    total_market_cap : float
        Sum of the company total caps of the covered members (NaN if none).
    float_market_cap : float
        Sum of ``index_shares x close`` (for a fund: its positions' market value,
        about 2% of the index's float cap for IWM).
    cap_coverage : int
        Members with a known company total cap.
    smallest_cap, largest_cap, median_cap, mean_cap : float
        Statistics of the company total caps of the covered members.
    weighted_average_cap : float
        ``sum(w * cap) / sum(w)`` over the covered members.
    top10_weight : float
        Weight of the ten largest lines.
    hhi : float
        Herfindahl-Hirschman index ``sum(w^2)`` (a fraction; x 10,000 for points).
    effective_constituents : float
        ``1 / hhi``.
    dollar_volume : float
        Aggregate daily dollar volume ``sum(close x volume)`` of the covered
        members (NaN if no volume is known).
    members : pl.DataFrame
        One row per line with the columns of :data:`MEMBERS`, largest first.
    sectors : pl.DataFrame
        ``sector``, ``count``, ``weight``, largest weight first.
    """

    source: str
    as_of: date
    market_session: date | None
    sector_scheme: str
    weight_basis: str
    constituents: int
    total_market_cap: float
    float_market_cap: float
    cap_coverage: int
    smallest_cap: float
    largest_cap: float
    median_cap: float
    mean_cap: float
    weighted_average_cap: float
    top10_weight: float
    hhi: float
    effective_constituents: float
    dollar_volume: float
    members: pl.DataFrame
    sectors: pl.DataFrame

    @property
    def top10(self) -> pl.DataFrame:
        """The ten largest lines (``security_id``, ``name``, ``sector``, ``weight``)."""
        return self.members.head(_TOP).select("security_id", "name", "sector", "weight")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: ISO dates, unrounded floats, NaN as ``None``.

        Returns
        -------
        dict
            Every scalar field, ``sectors`` and ``top10`` as lists of records
            (``members`` is left out: it has a row per constituent).
        """
        scalars = {
            name: getattr(self, name)
            for name in (
                "source",
                "sector_scheme",
                "weight_basis",
                "constituents",
                "total_market_cap",
                "float_market_cap",
                "cap_coverage",
                "smallest_cap",
                "largest_cap",
                "median_cap",
                "mean_cap",
                "weighted_average_cap",
                "top10_weight",
                "hhi",
                "effective_constituents",
                "dollar_volume",
            )
        }
        out: dict[str, Any] = {k: _nan_to_none(v) for k, v in scalars.items()}
        out["as_of"] = self.as_of.isoformat()
        out["market_session"] = (
            self.market_session.isoformat() if self.market_session else None
        )
        out["sectors"] = self.sectors.to_dicts()
        out["top10"] = self.top10.to_dicts()
        return out


def _summarise(
    members: pl.DataFrame,
    *,
    source: str,
    as_of: date,
    market_session: date | None,
    sector_scheme: str,
    weight_basis: str,
) -> Characteristics:
    """Characteristics of ``members`` (MEMBERS columns, weights not yet set)."""
    total_value = float(members.get_column("float_market_cap").sum())
    if not total_value > 0.0:
        msg = f"{source}: the members' float market value is {total_value}; need > 0"
        raise SchemaError(msg)
    members = (
        members.with_columns(
            weight=pl.col("float_market_cap") / total_value,
            sector=pl.col("sector").fill_null(UNKNOWN_SECTOR),
        )
        .select(MEMBERS.names())
        .sort(["weight", "security_id"], descending=[True, False])
    )
    w = members.get_column("weight").to_numpy()
    caps = members.get_column("total_market_cap")
    covered = caps.is_not_null().to_numpy()
    cap = caps.fill_null(np.nan).to_numpy()[covered]
    wc = w[covered]
    volume = members.get_column("dollar_volume")
    hhi = float(np.sum(w * w))
    sectors = (
        members.group_by("sector")
        .agg(count=pl.len().cast(pl.Int64), weight=pl.col("weight").sum())
        .sort(["weight", "sector"], descending=[True, False])
    )
    nan = float("nan")
    return Characteristics(
        source=source,
        as_of=as_of,
        market_session=market_session,
        sector_scheme=sector_scheme,
        weight_basis=weight_basis,
        constituents=members.height,
        total_market_cap=float(cap.sum()) if cap.size else nan,
        float_market_cap=total_value,
        cap_coverage=int(cap.size),
        smallest_cap=float(cap.min()) if cap.size else nan,
        largest_cap=float(cap.max()) if cap.size else nan,
        median_cap=float(np.median(cap)) if cap.size else nan,
        mean_cap=float(cap.mean()) if cap.size else nan,
        weighted_average_cap=float(wc @ cap / wc.sum()) if cap.size else nan,
        top10_weight=float(w[:_TOP].sum()),
        hhi=hhi,
        effective_constituents=1.0 / hhi,
        dollar_volume=float(volume.sum())
        if volume.null_count() < volume.len()
        else nan,
        members=members,
        sectors=sectors,
    )


def _market_columns(market: pl.DataFrame, what: str) -> tuple[pl.DataFrame, date]:
    require_columns(
        market,
        what,
        ("session", "security_id", "name", "close", "volume", "total_market_cap"),
    )
    session = _one_session(
        market,
        what,
        "Pass one session of the panel: "
        "r2k.data.sources.panel.cross_section(panel, day).",
    )
    sector = pl.col("sector") if "sector" in market.columns else pl.lit(None)
    frame = market.select(
        "security_id",
        panel_name=pl.col("name"),
        panel_sector=sector.cast(pl.String),
        panel_close=pl.col("close"),
        total_market_cap=pl.col("total_market_cap"),
        volume=pl.col("volume").cast(pl.Float64),
    ).unique("security_id", keep="first", maintain_order=True)
    return frame, session


def index_characteristics(
    constituents: pl.DataFrame,
    market: pl.DataFrame,
    *,
    source: str = "r2k index",
) -> Characteristics:
    """Characteristics of the index on one session.

    Parameters
    ----------
    constituents : pl.DataFrame
        One session of :data:`r2k.schemas.CONSTITUENTS` (columns ``session``,
        ``security_id``, ``index_shares``, ``close``), e.g. from
        ``calculate_real(..., constituents=True).calculation.constituents``.
        Lines with ``index_shares`` of 0 are not members and are left out.
    market : pl.DataFrame
        One session of the market panel (:data:`r2k.schemas.MARKET`), usually
        the same session: company total caps, names, sectors and volumes.
    source : str, default "r2k index"
        Label of the result.

    Returns
    -------
    Characteristics
        Weights are ``index_shares x close`` over their sum (the index's closing
        weights); sectors are the panel's (Nasdaq) sectors, ``"Unknown"`` for a
        member the panel lacks.

    Raises
    ------
    SchemaError
        If a frame lacks a column or holds more than one session, or the index
        holds no member.

    Examples
    --------
    >>> from datetime import date
    >>> day = date(2026, 7, 22)
    >>> cons = pl.DataFrame(
    ...     {"session": [day] * 2, "security_id": ["A", "B"],
    ...      "index_shares": [3.0, 1.0], "close": [10.0, 10.0]}
    ... )
    >>> mkt = pl.DataFrame(
    ...     {"session": [day] * 2, "security_id": ["A", "B"], "name": ["a", "b"],
    ...      "close": [10.0, 10.0], "volume": [100, 50],
    ...      "total_market_cap": [60.0, 20.0], "sector": ["Tech", "Health"]}
    ... )
    >>> c = index_characteristics(cons, mkt)
    >>> c.constituents, c.hhi, c.weighted_average_cap, c.dollar_volume
    (2, 0.625, 50.0, 1500.0)
    """
    what = "`constituents`"
    require_columns(
        constituents, what, ("session", "security_id", "index_shares", "close")
    )
    as_of = _one_session(
        constituents,
        what,
        'Filter one session first: constituents.filter(pl.col("session") == day).',
    )
    panel, market_session = _market_columns(market, "`market`")
    members = (
        constituents.filter(pl.col("index_shares") > 0.0)
        .select(
            "security_id",
            float_market_cap=pl.col("index_shares") * pl.col("close"),
        )
        .join(panel, on="security_id", how="left")
        .with_columns(
            name=pl.col("panel_name"),
            sector=pl.col("panel_sector"),
            dollar_volume=pl.col("panel_close") * pl.col("volume"),
        )
    )
    if members.height == 0:
        msg = f"`constituents` has no line with index_shares > 0 on {as_of}"
        raise SchemaError(msg)
    return _summarise(
        members,
        source=source,
        as_of=as_of,
        market_session=market_session,
        sector_scheme="Nasdaq sector (market panel)",
        weight_basis="index shares x close",
    )


def holdings_characteristics(
    holdings: Holdings, market: pl.DataFrame | None = None
) -> Characteristics:
    """Characteristics of a real iShares holdings file (its equity lines).

    Parameters
    ----------
    holdings : Holdings
        A file read by :func:`r2k.data.sources.ishares.read_holdings`.
    market : pl.DataFrame, optional
        One session of the market panel (ideally the holdings' as-of session)
        for company total caps and volumes, matched by ``security_id``. Without
        it the cap statistics and the dollar volume are NaN.

    Returns
    -------
    Characteristics
        Weights are ``market_value`` over the equity lines' total (cash,
        futures and money-market lines are left out, so they differ from the
        file's ``Weight (%)``, which is of the fund's net assets); sectors are
        the file's GICS sectors.

    Raises
    ------
    SchemaError
        If the file holds no equity line with a positive market value, or
        ``market`` lacks a column or holds more than one session.
    """
    source = f"{holdings.fund} holdings file"
    members = holdings.equities.filter(pl.col("market_value") > 0.0).select(
        "security_id",
        "name",
        "sector",
        float_market_cap=pl.col("market_value"),
    )
    if members.height == 0:
        msg = f"{source}: no equity line with a positive market value"
        raise SchemaError(msg)
    market_session: date | None = None
    if market is not None:
        panel, market_session = _market_columns(market, "`market`")
        members = members.join(panel, on="security_id", how="left").with_columns(
            dollar_volume=pl.col("panel_close") * pl.col("volume")
        )
    else:
        members = members.with_columns(
            total_market_cap=pl.lit(None, dtype=pl.Float64),
            dollar_volume=pl.lit(None, dtype=pl.Float64),
        )
    return _summarise(
        members,
        source=source,
        as_of=holdings.as_of,
        market_session=market_session,
        sector_scheme="GICS sector (iShares file)",
        weight_basis="market value of the equity lines",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Overlap:
    """How much of an index is in the S&P 600 (and the S&P 500).

    Attributes
    ----------
    members : int
        Distinct normalised tickers of the index.
    sp600_size : int
        Constituents of the S&P 600 in the reference table.
    in_sp600 : int
        Index members that are in the S&P 600.
    weight_in_sp600 : float
        Their total index weight (NaN when the members carry no weight).
    share_of_sp600 : float
        ``in_sp600 / sp600_size``: the part of the S&P 600 the index holds.
    in_sp500 : int
        Index members that are in the S&P 500.
    weight_in_sp500 : float
        Their total index weight.
    matched : pl.DataFrame
        ``security_id``, ``weight``, ``sp_index``, ``sp_sector`` of each member
        found in either S&P index, largest weight first.
    """

    members: int
    sp600_size: int
    in_sp600: int
    weight_in_sp600: float
    share_of_sp600: float
    in_sp500: int
    weight_in_sp500: float
    matched: pl.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Scalars as JSON-ready values (NaN as ``None``)."""
        return {
            name: _nan_to_none(getattr(self, name))
            for name in (
                "members",
                "sp600_size",
                "in_sp600",
                "weight_in_sp600",
                "share_of_sp600",
                "in_sp500",
                "weight_in_sp500",
            )
        }


def sp600_overlap(members: pl.DataFrame, sp_constituents: pl.DataFrame) -> Overlap:
    """Members of an index that are in the S&P 600, by count and weight.

    Parameters
    ----------
    members : pl.DataFrame
        ``security_id`` (a ticker in any source's spelling) and, optionally,
        ``weight`` (e.g. :attr:`Characteristics.members`).
    sp_constituents : pl.DataFrame
        The reference table of :func:`r2k.data.sources.reference.read_sp_constituents`
        (``index`` "S&P 600" or "S&P 500", ``security_id``, ``sector``).

    Returns
    -------
    Overlap
        Tickers are matched after :func:`r2k.tickers.normalize_ticker` on both
        sides (``MOG/A``, ``MOG A`` and ``MOG.A`` match). The reference table
        is one undated snapshot, so the overlap is indicative.

    Raises
    ------
    SchemaError
        If a frame lacks a column.

    Examples
    --------
    >>> sp = pl.DataFrame(
    ...     {"index": ["S&P 600", "S&P 600", "S&P 500"],
    ...      "security_id": ["MOG.A", "X", "Y"], "sector": ["I", "F", "T"]}
    ... )
    >>> ix = pl.DataFrame({"security_id": ["MOG/A", "Z"], "weight": [0.25, 0.75]})
    >>> o = sp600_overlap(ix, sp)
    >>> o.in_sp600, o.weight_in_sp600, o.share_of_sp600
    (1, 0.25, 0.5)
    """
    require_columns(members, "`members`", ("security_id",))
    require_columns(sp_constituents, "`sp_constituents`", ("index", "security_id"))
    has_weight = "weight" in members.columns
    weight = pl.col("weight") if has_weight else pl.lit(None)
    ours = (
        members.select(
            security_id=normalize_ticker_expr("security_id"),
            weight=weight.cast(pl.Float64),
        )
        .group_by("security_id", maintain_order=True)
        .agg(pl.col("weight").sum())
    )
    sector = pl.col("sector") if "sector" in sp_constituents.columns else pl.lit(None)
    theirs = sp_constituents.select(
        security_id=normalize_ticker_expr("security_id"),
        sp_index=pl.col("index"),
        sp_sector=sector.cast(pl.String),
    ).unique("security_id", keep="first", maintain_order=True)
    matched = ours.join(theirs, on="security_id", how="inner").sort(
        ["weight", "security_id"], descending=[True, False], nulls_last=True
    )

    def part(index: str) -> tuple[int, float]:
        rows = matched.filter(pl.col("sp_index") == index)
        w = float(rows.get_column("weight").sum()) if has_weight else float("nan")
        return rows.height, w

    n600, w600 = part("S&P 600")
    n500, w500 = part("S&P 500")
    size = int((theirs.get_column("sp_index") == "S&P 600").sum())
    return Overlap(
        members=ours.height,
        sp600_size=size,
        in_sp600=n600,
        weight_in_sp600=w600,
        share_of_sp600=n600 / size if size else float("nan"),
        in_sp500=n500,
        weight_in_sp500=w500,
        matched=matched,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Turnover:
    """One-way turnover of a reconstitution.

    Attributes
    ----------
    session : date
        The effective date: the reconstitution applies after its close.
    next_session : date
        The first session of the reconstituted index.
    members_before, members_after : int
        Lines in the index at the close of ``session`` and at the open of
        ``next_session``.
    additions, deletions, updates : int
        Reconstitution additions, deletions and share updates.
    addition_weight : float
        Weight of the additions in the new index (opening weights).
    deletion_weight : float
        Weight of the deletions in the old index (closing weights).
    one_way_turnover : float
        ``0.5 * sum(|w_new - w_old|)`` over every line, the part of the index
        that changed hands (additions, deletions and share updates, at the same
        prices).
    """

    session: date
    next_session: date
    members_before: int
    members_after: int
    additions: int
    deletions: int
    updates: int
    addition_weight: float
    deletion_weight: float
    one_way_turnover: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (ISO dates)."""
        out: dict[str, Any] = {
            name: getattr(self, name)
            for name in (
                "members_before",
                "members_after",
                "additions",
                "deletions",
                "updates",
                "addition_weight",
                "deletion_weight",
                "one_way_turnover",
            )
        }
        out["session"] = self.session.isoformat()
        out["next_session"] = self.next_session.isoformat()
        return out


def reconstitution_turnover(
    events: pl.DataFrame, constituents: pl.DataFrame, session: date
) -> Turnover:
    """Turnover of the reconstitution effective after the close of ``session``.

    Parameters
    ----------
    events : pl.DataFrame
        :data:`r2k.schemas.EVENTS` (``session``, ``security_id``,
        ``action``): rows ``reconstitution_addition``, ``reconstitution_deletion``
        and ``reconstitution_update`` dated ``session`` name the changes.
    constituents : pl.DataFrame
        :data:`r2k.schemas.CONSTITUENTS` for ``session`` and the session
        after it (``closing_weight`` before, ``opening_weight`` after).
    session : date
        The effective date (2026-06-26 for the 2026 reconstitution).

    Returns
    -------
    Turnover
        Counts, the weights of the additions and deletions, and the one-way
        turnover ``0.5 * sum(|w_new - w_old|)``. The old weights are the closing
        weights of ``session`` (``N P``) and the new ones the opening weights of
        the next session (``N' P_ref``, the same closes), so price moves do not
        count as turnover.

    Raises
    ------
    MissingDataError
        If no reconstitution takes effect on ``session``, or the constituents
        lack ``session`` or the session after it.
    SchemaError
        If a frame lacks a column.
    """
    require_columns(events, "`events`", ("session", "security_id", "action"))
    require_columns(
        constituents,
        "`constituents`",
        ("session", "security_id", "index_shares", "opening_weight", "closing_weight"),
    )
    recon = events.filter(pl.col("action").str.starts_with("reconstitution_"))
    changes = recon.filter(pl.col("session") == session)
    if changes.height == 0:
        known = sorted({d.isoformat() for d in recon.get_column("session")})
        hint = ", ".join(known) if known else "none in these events"
        msg = (
            f"no reconstitution takes effect on {session}; effective dates in the "
            f"events: {hint}"
        )
        raise MissingDataError(msg)
    days = constituents.get_column("session").unique().sort()
    after = days.filter(days > session)
    if session not in days or after.len() == 0:
        span = f"span {days[0]} .. {days[-1]}" if days.len() else "are empty"
        msg = (
            f"the constituents must hold {session} and the session after it; they "
            f"{span} (calculate to a later end, with constituents=True)"
        )
        raise MissingDataError(msg)
    following: date = after[0]
    old = constituents.filter(
        (pl.col("session") == session) & (pl.col("index_shares") > 0.0)
    ).select("security_id", old=pl.col("closing_weight"))
    new = constituents.filter(pl.col("session") == following).select(
        "security_id", new=pl.col("opening_weight")
    )
    both = old.join(new, on="security_id", how="full", coalesce=True).fill_null(0.0)
    # fsum: exactly rounded, so the same whatever order the join returns the rows
    # in (a sweep requires identical results in every worker process).
    turnover = 0.5 * math.fsum((both["new"] - both["old"]).abs().to_list())

    def ids(action: str) -> pl.Series:
        return changes.filter(pl.col("action") == action).get_column("security_id")

    added, deleted = ids("reconstitution_addition"), ids("reconstitution_deletion")
    return Turnover(
        session=session,
        next_session=following,
        members_before=old.height,
        members_after=new.height,
        additions=added.len(),
        deletions=deleted.len(),
        updates=ids("reconstitution_update").len(),
        addition_weight=float(
            new.filter(pl.col("security_id").is_in(added.implode()))["new"].sum()
        ),
        deletion_weight=float(
            old.filter(pl.col("security_id").is_in(deleted.implode()))["old"].sum()
        ),
        one_way_turnover=turnover,
    )
