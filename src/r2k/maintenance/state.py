"""What the engine carries from one session to the next, and how it is stored.

* :class:`ReconDecision`: a reconstitution's result as the calculation of one index
  needs it (its lines, and the size range of quarterly IPO additions);
* :class:`PendingRemoval`: a delayed-action exit (TC5) waiting for its session;
* :class:`IndexState`: the book at a session's close, serialised to JSON for the
  store; :func:`initial_state` builds the first one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Literal

import polars as pl

from r2k import schemas
from r2k.errors import MissingDataError, SchemaError
from r2k.maintenance.levels import LevelState, base_state

if TYPE_CHECKING:
    from r2k._typing import IndexCode
    from r2k.construction.reconstitution import Reconstitution
    from r2k.maintenance.market import MarketHistory
    from r2k.methodology.rule_sets import RuleSet

_DECISION_MEMBERS = pl.Schema(
    {
        "security_id": pl.String,
        "shares_outstanding": pl.Float64,
        "float_factor": pl.Float64,
    }
)


# ------------------------------------------------------------ IPO size ranges


@dataclass(frozen=True, slots=True)
class Smallest:
    """The smallest company total cap among the lines of a membership flag."""

    flag: IndexCode


@dataclass(frozen=True, slots=True)
class AtRank:
    """The company total cap at a rank named by a field of the rule set's ranking."""

    size: Literal[
        "r3000e_size",
        "r3000_size",
        "r1000_size",
        "top200_size",
        "top500_size",
        "microcap_top",
    ]


@dataclass(frozen=True, slots=True)
class SizeRange:
    """Company total caps ``[lower, upper)`` of an index's IPO additions (R7 §6.9).

    ``upper`` None: no upper bound. The bounds are read from the reconstitution and
    market-adjusted when used (:func:`r2k.maintenance.scheduled.ipo_additions`).
    """

    lower: Smallest | AtRank
    upper: Smallest | AtRank | None = None


#: Where a quarterly IPO enters, by index (r2k's choice, docs/calculation.md): R7
#: §6.9 adds an IPO to the index whose size range its total cap falls in.
IPO_SIZE_RANGES: Final[dict[IndexCode, SizeRange]] = {
    "r3000e": SizeRange(Smallest("r3000e")),
    "r3000": SizeRange(Smallest("r3000")),
    "r1000": SizeRange(AtRank("r1000_size")),
    "r2000": SizeRange(Smallest("r3000"), AtRank("r1000_size")),
    "microcap": SizeRange(Smallest("microcap"), AtRank("microcap_top")),
    "midcap": SizeRange(AtRank("r1000_size"), AtRank("top200_size")),
    "top200": SizeRange(AtRank("top200_size")),
    "r2500": SizeRange(Smallest("r3000"), AtRank("top500_size")),
}

#: The membership whose smallest company cap a spin-off child needs to stay in the
#: index, by index: the Russell 3000E's for the indexes that reach below the
#: Russell 3000, else the Russell 3000's.
_CHILD_FLOOR: Final[dict[IndexCode, IndexCode]] = {
    "r3000e": "r3000e",
    "microcap": "r3000e",
}


def _cap(membership: pl.DataFrame, bound: Smallest | AtRank, rules: RuleSet) -> float:
    """The company total cap a bound names (0 or +inf when the rank is missing)."""
    # Series operations: each runs directly, where a frame filter is a query.
    caps = membership.get_column("total_market_cap")
    if isinstance(bound, Smallest):
        lowest = caps.filter(membership.get_column(bound.flag)).min()
        return float(lowest) if isinstance(lowest, int | float) else 0.0
    rank = getattr(rules.ranking, bound.size)
    at = caps.filter(membership.get_column("rank") == rank)
    return float(at[0]) if at.len() else math.inf


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconDecision:
    """A reconstitution's result as the calculation of one index needs it.

    Attributes
    ----------
    rank_day, effective_date
        Dates of the reconstitution.
    members
        The index's lines: ``security_id``, ``shares_outstanding`` (null: take the
        market's) and ``float_factor``.
    lower_cap, upper_cap
        Company total caps ``[lower_cap, upper_cap)`` of quarterly IPO additions
        (market-adjusted when used); see :data:`IPO_SIZE_RANGES`.
    index
        The index the lines are of.
    floor_cap
        Smallest company total cap a spin-off child needs to stay (None:
        ``lower_cap``).
    """

    rank_day: date
    effective_date: date
    members: pl.DataFrame
    lower_cap: float
    upper_cap: float
    index: IndexCode = "r2000"
    floor_cap: float | None = None

    @property
    def child_floor(self) -> float:
        """Smallest company total cap of an eligible spin-off child."""
        return self.lower_cap if self.floor_cap is None else self.floor_cap

    @classmethod
    def from_reconstitution(
        cls, result: Reconstitution, rules: RuleSet, index: IndexCode = "r2000"
    ) -> ReconDecision:
        """The lines of ``index`` in a reconstitution, and its IPO size range.

        Parameters
        ----------
        result
            The reconstitution; its membership has one boolean flag column per
            index.
        rules
            The rule set (its ranking gives the ranks of the size ranges).
        index
            Which index of the family.
        """
        m = result.membership
        size = IPO_SIZE_RANGES[index]
        return cls(
            rank_day=result.rank_day,
            effective_date=result.effective_date,
            # Series filters: each runs directly, where a frame filter is a query.
            members=pl.DataFrame(
                [
                    m.get_column(name).filter(m.get_column(index))
                    for name in _DECISION_MEMBERS.names()
                ]
            ),
            lower_cap=_cap(m, size.lower, rules),
            upper_cap=math.inf if size.upper is None else _cap(m, size.upper, rules),
            index=index,
            floor_cap=_cap(m, Smallest(_CHILD_FLOOR.get(index, "r3000")), rules),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (see :meth:`from_dict`)."""
        return {
            "rank_day": self.rank_day.isoformat(),
            "effective_date": self.effective_date.isoformat(),
            "members": self.members.select(_DECISION_MEMBERS.names()).to_dicts(),
            "lower_cap": self.lower_cap,
            "upper_cap": self.upper_cap,
            "index": self.index,
            "floor_cap": self.floor_cap,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ReconDecision:
        """Inverse of :meth:`to_dict`.

        A decision stored before ``index`` existed is the Russell 2000's.
        """
        return cls(
            rank_day=date.fromisoformat(raw["rank_day"]),
            effective_date=date.fromisoformat(raw["effective_date"]),
            members=pl.DataFrame(raw["members"], schema=_DECISION_MEMBERS, orient="row")
            if raw["members"]
            else pl.DataFrame(schema=_DECISION_MEMBERS),
            lower_cap=raw["lower_cap"],
            upper_cap=raw["upper_cap"],
            index=raw.get("index", "r2000"),
            floor_cap=raw.get("floor_cap"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingRemoval:
    """A delayed-action exit: the line leaves after the close of ``session``."""

    session: date | None  # None: the next session
    security_id: str
    acquirer: str | None
    ratio: float
    cash: float


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexState:
    """The book at a session's close: everything the next session needs."""

    session: date
    levels: LevelState
    lines: pl.DataFrame  # schemas.STATE_LINES: the members after the close's changes
    pending: tuple[PendingRemoval, ...] = ()
    recon: ReconDecision | None = None  # announced, not yet effective
    # The latest effective reconstitution's size range (its lines dropped).
    bounds: ReconDecision | None = None

    def members(self) -> frozenset[str]:
        """Security ids of the members held into the next session."""
        return frozenset(self.lines["security_id"].to_list())

    def to_json(self) -> str:
        """Serialise (for the store)."""
        return json.dumps(
            {
                "session": self.session.isoformat(),
                "levels": {
                    "price_return": self.levels.price_return,
                    "total_return": self.levels.total_return,
                    "net_total_return": self.levels.net_total_return,
                },
                "lines": self.lines.to_dicts(),
                "pending": [
                    {
                        "session": p.session.isoformat() if p.session else None,
                        "security_id": p.security_id,
                        "acquirer": p.acquirer,
                        "ratio": p.ratio,
                        "cash": p.cash,
                    }
                    for p in self.pending
                ],
                "recon": None if self.recon is None else self.recon.to_dict(),
                "bounds": None if self.bounds is None else self.bounds.to_dict(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> IndexState:
        """Inverse of :meth:`to_json`."""
        raw = json.loads(text)
        session = date.fromisoformat(raw["session"])
        lv = raw["levels"]
        return cls(
            session=session,
            levels=LevelState(session=session, **lv),
            lines=pl.DataFrame(raw["lines"], schema=schemas.STATE_LINES, orient="row")
            if raw["lines"]
            else pl.DataFrame(schema=schemas.STATE_LINES),
            pending=tuple(
                PendingRemoval(
                    session=date.fromisoformat(p["session"]) if p["session"] else None,
                    security_id=p["security_id"],
                    acquirer=p["acquirer"],
                    ratio=p["ratio"],
                    cash=p["cash"],
                )
                for p in raw["pending"]
            ),
            recon=None
            if raw["recon"] is None
            else ReconDecision.from_dict(raw["recon"]),
            bounds=None
            if raw["bounds"] is None
            else ReconDecision.from_dict(raw["bounds"]),
        )


def initial_state(
    session: date,
    members: pl.DataFrame,
    market: MarketHistory,
    *,
    base_value: float = 100.0,
) -> tuple[IndexState, pl.DataFrame]:
    """The book at the base session's close.

    Parameters
    ----------
    session
        The base session (every level is ``base_value`` at its close).
    members
        ``security_id``, ``shares`` and ``float_factor`` (index shares = shares x
        float factor).
    market
        The market; the lines are priced at its ``session`` close.
    base_value
        The levels on the base session.

    Returns
    -------
    state, unpriced
        The state, and the members with no market price on ``session`` (they
        cannot be priced and are left out).

    Raises
    ------
    SchemaError
        If ``members`` lacks a column.
    MissingDataError
        If the market has no rows on ``session``.
    """
    need = {"security_id", "shares", "float_factor"}
    missing = need - set(members.columns)
    if missing:
        msg = f"initial members: missing column(s) {', '.join(sorted(missing))}"
        raise SchemaError(msg)
    cross = market.cross_section(session).select("security_id", last_close="close")
    if cross.height == 0:
        msg = f"the market has no rows for the base session {session}"
        raise MissingDataError(msg)
    joined = members.select(
        "security_id",
        pl.col("shares").cast(pl.Float64),
        pl.col("float_factor").cast(pl.Float64),
    ).join(cross, on="security_id", how="left")
    unpriced = joined.filter(pl.col("last_close").is_null()).select("security_id")
    lines = (
        joined.filter(pl.col("last_close").is_not_null() & (pl.col("shares") > 0))
        .with_columns(missing_run=pl.lit(0, dtype=pl.Int64))
        .select(schemas.STATE_LINES.names())
        .sort("security_id")
    )
    state = IndexState(
        session=session,
        levels=base_state(session, base_value),
        lines=lines,
    )
    return state, unpriced
