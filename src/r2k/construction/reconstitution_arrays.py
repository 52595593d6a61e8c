"""The reconstitution's company layer over arrays (same results, fewer queries).

:func:`r2k.construction.reconstitution.reconstitute` runs :func:`reconstitute_arrays`
when the universe is *plain* (:func:`is_plain`: some lines, every line with a
company and a security type, every incumbent with an id, and no close, average
volume or share count NaN; nulls are fine). It
gives the frames of the query form value for value, in a fraction of the time: a
reconstitution's frames are a few thousand rows, so each Polars join, group-by or
sort costs its fixed 0.2-1 ms however little it does, and the query form runs
some 30 of them. Here every line keeps its universe row, companies are numbered
once (the dense rank of ``company_id``, so company order is string order), and
the pricing vehicles, company totals, incumbent sides, ranking, index lines,
exclusions and changes are NumPy over those numbers. The rules stay Polars
expressions, evaluated on narrow frames: the line and company screens
(:mod:`r2k.construction.eligibility`), the extra share-class test, the bands and
index flags (:mod:`r2k.construction.banding`).

Where the query form leaves the convention to Polars (a NaN sorts above every
number, ``max`` skips it, a comparison with it is true), arrays would have to
copy it; a universe with such a NaN takes the query form.
``tests/construction/test_reconstitution_arrays.py`` holds the two forms equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from r2k import schemas
from r2k._typing import INDEX_CODES
from r2k.construction.banding import (
    bands_of,
    breakpoint_table,
    index_flags,
    sides_column,
    sides_of,
)
from r2k.construction.companies import is_extra_class_line
from r2k.construction.eligibility import company_exclusion_reason, line_exclusion_reason
from r2k.construction.floats import FloatEstimate, attach_float_factors, fallback_factor
from r2k.errors import SchemaError

if TYPE_CHECKING:
    from collections.abc import KeysView
    from datetime import date

    from r2k.methodology.rule_sets import RuleSet

_PLAIN_COLUMNS = ("close", "avg_volume", "shares_outstanding")
_SOURCES = pl.Series("float_source", ["data", "fallback"])  # attach_float_factors
_STAGES = pl.Series("stage", ["line", "company", "post_rank"])  # of an exclusion
# Incumbent sides per company: any() over its incumbent lines, nulls skipped.
# Each is an incumbent column, negated or not.
_SIDES = {
    "inc_r1000": ("r1000", False),
    "inc_top200": ("top200", False),
    "inc_top500": ("top500", False),
    "inc_above2000": ("microcap", True),
}
_KINDS = np.array(["add", "delete", "migrate_down", "migrate_up"], dtype=object)
_SIDE_NAMES = np.array(["R1000", "R2000", None], dtype=object)  # codes 0, 1, -1
_NO_INCUMBENTS = pl.DataFrame(schema=schemas.INCUMBENTS)


def is_plain(
    universe: pl.DataFrame, incumbents: pl.DataFrame, *, universe_plain: bool = False
) -> bool:
    """Whether :func:`reconstitute_arrays` applies to ``universe``.

    ``universe_plain``: the universe's part is known to hold (a prepared
    universe's, :func:`prepare_universe`), only the incumbents are checked.
    """
    if incumbents.get_column("security_id").null_count():
        return False
    if universe_plain:
        return True
    if universe.height == 0 or any(
        universe.get_column(c).null_count() for c in ("company_id", "security_type")
    ):
        return False
    return not any(_has_nan(universe.get_column(c)) for c in _PLAIN_COLUMNS)


def _has_nan(column: pl.Series) -> bool:
    """Whether ``column`` holds a NaN (a null is none); no query for floats."""
    if not column.dtype.is_float():
        return bool(column.is_nan().any())
    return int(np.isnan(column.to_numpy()).sum()) > column.null_count()


@dataclass(frozen=True, slots=True, eq=False)
class _Companies:
    """What the array form finds before it reads the incumbents.

    The universe's lines, the line screens' reasons (null: eligible), the
    eligible rows, each company's pricing-vehicle row (in company order), each
    company code's place among them (-1: none) and each pricing vehicle's
    company total cap (R7 §6.5.1). The company screens' reasons of each
    company as a newcomer, then as an incumbent (the price screen spares an
    incumbent, R7 §5.8.1): ``company_reason[k + n * is_incumbent]`` over the
    ``n`` companies, and where each is null. Which lines pass the extra
    share-class tests (R7 §6.6) as lines other than a pricing vehicle.
    """

    lines: _Lines
    line_reason: pl.Series
    eligible: np.ndarray
    pv: np.ndarray
    company_of_code: np.ndarray
    total_cap: np.ndarray
    company_reason: pl.Series
    company_passes: np.ndarray
    extra_class: np.ndarray


def _companies(universe: pl.DataFrame, rules: RuleSet) -> _Companies:
    lines = _Lines(universe)
    # The line screens, the common lines (those the first screen, the security
    # type, passes) and the extra share-class test, in one query.
    reason = line_exclusion_reason(rules.eligibility)
    screens = (
        universe.lazy()
        .with_columns(is_pricing_vehicle=pl.lit(value=False))
        .select(
            reason,
            eligible=reason.is_null(),
            common=(reason != "security_type").fill_null(value=True),
            extra=is_extra_class_line(rules.share_classes),
        )
        .collect()
    )
    line_reason = screens.get_column("exclusion_reason")
    eligible = np.flatnonzero(screens.get_column("eligible").to_numpy())
    pv = _pricing_vehicles(
        lines, eligible, rules.share_classes.pricing_vehicle_volume_tolerance
    )
    company_of_code = np.full(lines.n_codes, -1, dtype=np.int64)
    company_of_code[lines.code[pv]] = np.arange(pv.size)
    common = np.flatnonzero(screens.get_column("common").to_numpy())
    total_cap = _total_shares(lines, common)[lines.code[pv]] * lines.floats("close")[pv]
    # Company screens (R7 §5.8-5.15) on what they read of the pricing vehicle.
    # (Eager: as one lazy query, a concat of the two branches gave other
    # reasons, varying from run to run, in tests/construction/test_naive_oracle;
    # not isolated, Polars 2.1.)
    # Each company twice, as a newcomer and as an incumbent; the columns are
    # gathered and stacked directly (no query but the screens').
    read = ("close", "avg_close_30d", "float_factor", "voting_rights_pct")
    twice = np.concatenate([pv, pv])
    companies = pl.DataFrame(
        [
            *(universe.get_column(c)[twice] for c in read),
            pl.Series(
                "total_market_cap",
                np.concatenate([total_cap, total_cap]),
                nan_to_null=True,
            ),
            pl.Series("is_incumbent", np.repeat([False, True], pv.size)),
        ]
    )
    company_reason = companies.select(
        company_exclusion_reason(rules.eligibility)
    ).to_series()
    return _Companies(
        lines=lines,
        line_reason=line_reason,
        eligible=eligible,
        pv=pv,
        company_of_code=company_of_code,
        total_cap=total_cap,
        company_reason=company_reason,
        company_passes=company_reason.is_null().to_numpy(),
        extra_class=screens.get_column("extra").to_numpy(),
    )


@dataclass(frozen=True, slots=True, eq=False)
class PreparedUniverse:
    """The part of a reconstitution that reads no incumbent, done ahead.

    :func:`prepare_universe` makes it; :func:`r2k.construction.reconstitution.
    reconstitute` uses it when called with the same universe object and a rule
    set of the same digest (otherwise it does the work itself). A caller that
    knows its next rank day's universe, such as the synthetic reconstitutor's
    background thread, prepares it while the calculation walks there.
    """

    source: pl.DataFrame  # the universe as given
    digest: str  # the rule set's
    companies: _Companies

    @property
    def ids(self) -> KeysView[str]:
        """The universe's security ids (a set, made with the preparation)."""
        return self.companies.lines.row_of_id.keys()

    def fits(self, universe: pl.DataFrame, rules: RuleSet) -> bool:
        """Whether this was prepared from ``universe`` under ``rules``."""
        return self.source is universe and self.digest == rules.digest


def prepare_universe(universe: pl.DataFrame, rules: RuleSet) -> PreparedUniverse | None:
    """The incumbent-free part of :func:`reconstitute_arrays` for ``universe``.

    None when the universe does not take the array form whatever the
    incumbents (:func:`is_plain`), or fails the checks
    :func:`r2k.construction.reconstitution.reconstitute` makes (it raises
    them when called).
    """
    try:
        checked = schemas.check_schema(universe, schemas.UNIVERSE, source="universe")
    except SchemaError:
        return None
    ids = checked.get_column("security_id")
    if ids.n_unique() != ids.len() or not is_plain(checked, _NO_INCUMBENTS):
        return None
    return PreparedUniverse(
        source=universe, digest=rules.digest, companies=_companies(checked, rules)
    )


def reconstitute_arrays(
    universe: pl.DataFrame,
    incumbents: pl.DataFrame,
    rules: RuleSet,
    *,
    rank_day: date,
    effective_date: date,
    float_estimate: FloatEstimate | None,
    r1000_complement: bool,
    ceased: frozenset[str],
    unheld_classes: frozenset[str],
    prepared: PreparedUniverse | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Membership, exclusions, changes and breakpoints of a plain universe.

    The arguments are those of
    :func:`r2k.construction.reconstitution.reconstitute`, checked there;
    ``prepared`` (made from this universe's values under ``rules``) saves the
    part before the incumbents.
    """
    found = _companies(universe, rules) if prepared is None else prepared.companies
    lines, line_reason, eligible = found.lines, found.line_reason, found.eligible
    pv, company_of_code, total_cap = found.pv, found.company_of_code, found.total_cap

    inc = _Incumbents(incumbents, lines)
    side = {
        name: values[lines.code[pv]]
        for name, values in inc.sides(incumbents, lines.n_codes).items()
    }
    is_incumbent = side["inc_r1000"] >= 0
    if r1000_complement:
        side["inc_r1000"] = np.where(is_incumbent, side["inc_r1000"], 1)

    # Company screens (R7 §5.8-5.15): each company's as an incumbent or not.
    screened = np.arange(pv.size) + pv.size * is_incumbent
    passed = np.flatnonzero(found.company_passes[screened])

    # Rank (R7 §6.1): total cap descending, company_id breaking ties (companies
    # are numbered in company_id order); the cumulative percentile of the R3000E.
    ranked = passed[np.lexsort((passed, -total_cap[passed]))]
    rank = np.arange(1, ranked.size + 1, dtype=np.int64)
    in_e = rank <= rules.ranking.r3000e_size
    cap_e = np.where(in_e, total_cap[ranked], 0.0)
    # The query form's values: Polars' float sum (its own kernel), a running sum
    # in order (NumPy's cumsum adds as Polars' cum_sum does), and a division by
    # a scalar as Polars does it, a product with the reciprocal (not NumPy's
    # true division). Series.cum_sum would be a query (see _membership).
    total = np.float64(pl.Series(cap_e, dtype=pl.Float64).sum())
    with np.errstate(divide="ignore", invalid="ignore"):  # no company: NaN
        cum_e = 100.0 * np.cumsum(cap_e) * np.reciprocal(total)
    cum = np.where(in_e, cum_e, np.nan)
    table = pl.DataFrame(
        [
            pl.Series("rank", rank),
            pl.Series("total_market_cap", total_cap[ranked]),
            pl.Series("cum_cap_pct", cum, nan_to_null=True),
            *(sides_column(name, values[ranked]) for name, values in side.items()),
        ]
    )
    bands = bands_of(table, rules)
    flags = index_flags(table, bands, rules)
    flag: dict[str, np.ndarray] = {
        c: flags.get_column(c).to_numpy().astype(bool) for c in INDEX_CODES
    }

    # A company whose pricing vehicle stops trading leaves every index.
    ceased_line = np.zeros(lines.n, dtype=bool)
    stopped = ranked[:0]
    if ceased:
        ceased_line = lines.ids.is_in(list(ceased)).to_numpy()
        gone = ceased_line[pv[ranked]]
        stopped = ranked[gone & flag["r3000e"]]
        flag = {c: values & ~gone for c, values in flag.items()}

    place = np.full(pv.size, -1, dtype=np.int64)  # company -> position in ranking
    place[ranked] = np.arange(ranked.size)
    line_place = np.full(lines.n, -1, dtype=np.int64)
    company = company_of_code[lines.code[eligible]]
    line_place[eligible] = np.where(company >= 0, place[company], -1)
    membership = _membership(
        lines,
        rules,
        pv,
        found.extra_class,
        line_place,
        ranked_columns={
            "rank": rank,
            "total_market_cap": total_cap[ranked],
            "cum_cap_pct": cum,
            **flag,
        },
        leaving=ceased_line,
        unheld_classes=unheld_classes,
        float_estimate=float_estimate,
        rank_day=rank_day,
        effective_date=effective_date,
    )

    # Exclusions: lines, companies, companies that stop trading; by security_id.
    lines_out = np.flatnonzero(~line_reason.is_null().to_numpy())
    companies_out = np.setdiff1d(np.arange(pv.size), passed, assume_unique=True)
    rows = np.concatenate([lines_out, pv[companies_out], pv[stopped]])
    reasons = pl.concat(
        [
            line_reason[lines_out],
            found.company_reason[screened[companies_out]],
            pl.Series(["stopped_trading"] * stopped.size, dtype=pl.String),
        ]
    )
    stage = np.repeat(
        np.arange(_STAGES.len()), [lines_out.size, companies_out.size, stopped.size]
    )
    by_id = np.argsort(lines.sid_rank[rows])
    at = rows[by_id]
    exclusions = pl.DataFrame(  # Series gathers: no query (see _membership)
        [
            *(
                universe.get_column(c)[at]
                for c in ("security_id", "company_id", "name")
            ),
            _STAGES[stage[by_id]],
            reasons[by_id].alias("exclusion_reason"),
        ]
    )

    to = np.where(flag["r1000"], 0, np.where(flag["r2000"], 1, -1))
    changes = _changes(
        lines,
        inc,
        new_codes=lines.code[pv[ranked]],
        new_rows=pv[ranked],
        new_side=to,
        company_codes=lines.code[pv],
        excluded=(rows, reasons),
        r1000_complement=r1000_complement,
    )
    return (
        membership,
        schemas.check_schema(exclusions, schemas.EXCLUSIONS, source="exclusions"),
        schemas.check_schema(changes, schemas.CHANGES, source="changes"),
        breakpoint_table(table, bands),
    )


class _Lines:
    """The universe's lines: company codes and security_id order."""

    def __init__(self, universe: pl.DataFrame) -> None:
        self.frame = universe
        self.n = universe.height
        self.ids = universe.get_column("security_id")
        companies = universe.get_column("company_id")
        code = companies.rank("dense").to_numpy().astype(np.int64) - 1
        self.code = code
        self.n_codes = int(code.max()) + 1
        # The ids are unique (checked), so their ordinal rank is their order
        # (a universe is usually in id order already: no query).
        self.sid_rank = (
            np.arange(self.n, dtype=np.int64)
            if self.ids.is_sorted()
            else self.ids.rank("ordinal").to_numpy().astype(np.int64) - 1
        )
        # A row of each company (company ids in code order are sorted).
        row_of_code = np.empty(self.n_codes, dtype=np.int64)
        row_of_code[code] = np.arange(self.n)
        self.company_ids = companies[row_of_code]  # a gather, not a query
        # Rows by id, for the incumbents (read without a query: in the batch,
        # one waits for the thread pool).
        self.row_of_id = dict(zip(self.ids.to_list(), range(self.n), strict=True))

    @cached_property
    def code_of_company(self) -> dict[str, int]:
        """Company codes by company_id (for incumbents outside the universe)."""
        ids = self.company_ids.to_list()
        return dict(zip(ids, range(len(ids)), strict=True))

    def rows_of(self, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Whether each of ``ids`` is a universe line, and its row (0 if not)."""
        row = _lookup(self.row_of_id, ids)
        found = row >= 0
        return found, np.where(found, row, 0)

    def floats(self, column: str) -> np.ndarray:
        """A float column, null as NaN (a plain universe has no NaN of its own)."""
        return self.frame.get_column(column).to_numpy().astype(np.float64, copy=False)

    def first_by_id(self, rows: np.ndarray) -> np.ndarray:
        """Of ``rows``, the one with the smallest security_id of each company.

        Returned as an array over company codes (-1: the company has none).
        """
        out = np.full(self.n_codes, -1, dtype=np.int64)
        ordered = rows[np.lexsort((self.sid_rank[rows], self.code[rows]))]
        firsts = ordered[_starts(self.code[ordered])]
        out[self.code[firsts]] = firsts
        return out


class _Incumbents:
    """Incumbent lines keyed by company: code, or their own id outside the universe.

    A line outside the universe takes the company whose ``company_id`` equals
    its ``security_id`` if there is one, else a key of its own (the query form's
    ``coalesce(company_id, security_id)``).
    """

    def __init__(self, incumbents: pl.DataFrame, lines: _Lines) -> None:
        self.ids = incumbents.get_column("security_id")
        ids = self.ids.to_list()
        self.in_universe, rows = lines.rows_of(ids)
        key = np.where(self.in_universe, lines.code[rows], -1)
        self.names = lines.company_ids
        outside = np.flatnonzero(~self.in_universe)
        if outside.size:
            out_ids = [ids[i] for i in outside.tolist()]
            at = _lookup(lines.code_of_company, out_ids)
            hit = at >= 0
            key[outside[hit]] = at[hit]
            own = [
                sid
                for sid, found in zip(out_ids, hit.tolist(), strict=True)
                if not found
            ]
            uniq = sorted(set(own))
            key[outside[~hit]] = lines.n_codes + _lookup(
                {sid: k for k, sid in enumerate(uniq)}, own
            )
            self.names = pl.concat(
                [lines.company_ids, pl.Series(uniq, dtype=pl.String)]
            )
        self.key = key
        self.n_keys = self.names.len()
        # The ids' ordinal ranks (they are unique, checked; Python orders str by
        # code point as Polars orders UTF-8 by byte).
        self.id_rank = np.empty(len(ids), dtype=np.int64)
        self.id_rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
        self.in_r1000 = sides_of(incumbents.get_column("r1000")) > 0

    def first_line(self) -> np.ndarray:
        """Over keys: the incumbent line with the smallest security_id."""
        out = np.full(self.n_keys, -1, dtype=np.int64)
        ordered = np.lexsort((self.id_rank, self.key))
        firsts = ordered[_starts(self.key[ordered])]
        out[self.key[firsts]] = firsts
        return out

    def sides(self, incumbents: pl.DataFrame, n_codes: int) -> dict[str, np.ndarray]:
        """Each company's incumbent sides (1 above, 0 below, -1 unknown or none)."""
        inside = self.in_universe
        out = {}
        for name, (column, negate) in _SIDES.items():
            values = _side_values(incumbents.get_column(column), negate=negate)
            side = np.full(n_codes, -1, dtype=np.int8)
            np.maximum.at(side, self.key[inside], values[inside])
            out[name] = side
        return out


def _lookup(rows: dict[str, int], keys: list[str]) -> np.ndarray:
    """Each of ``keys``' value in ``rows`` (-1: not there)."""
    get = rows.get
    return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))


def _side_values(column: pl.Series, *, negate: bool) -> np.ndarray:
    """An incumbent column as int8 (1 true, 0 false, -1 null), or its negation."""
    sides = sides_of(column)
    return np.where(sides >= 0, 1 - sides, -1).astype(np.int8) if negate else sides


def _starts(codes: np.ndarray) -> np.ndarray:
    """Positions where a sorted array of codes starts a new code."""
    first = np.ones(codes.size, dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    return np.flatnonzero(first)


def _pricing_vehicles(
    lines: _Lines, eligible: np.ndarray, tolerance: float
) -> np.ndarray:
    """The pricing vehicle's row of each company with eligible lines (R7 §6.5).

    Among the company's eligible lines whose volume is within ``tolerance`` of
    its top volume: the most shares, then the most volume, then the smallest
    security_id (unknown shares or volume last). Rows in company order.
    """
    volume = lines.floats("avg_volume")
    volume0 = np.where(np.isnan(volume), 0.0, volume)
    shares = lines.floats("shares_outstanding")
    codes = lines.code[eligible]
    top = np.full(lines.n_codes, -np.inf)
    np.maximum.at(top, codes, volume0[eligible])
    near = eligible[volume0[eligible] >= top[codes] * (1.0 - tolerance)]
    order = near[
        np.lexsort(
            (
                lines.sid_rank[near],
                np.where(np.isnan(volume), np.inf, -volume)[near],
                np.where(np.isnan(shares), np.inf, -shares)[near],
                lines.code[near],
            )
        )
    ]
    out: np.ndarray = order[_starts(lines.code[order])]
    return out


def _total_shares(lines: _Lines, common: np.ndarray) -> np.ndarray:
    """Each company's shares over its ``common`` lines (R7 §6.5.1).

    Unknown shares count as zero; a company with no known shares has NaN.
    """
    shares = lines.floats("shares_outstanding")[common]
    known = ~np.isnan(shares)
    codes = lines.code[common]
    counted = np.bincount(codes, weights=known, minlength=lines.n_codes)
    summed = np.bincount(
        codes, weights=np.where(known, shares, 0.0), minlength=lines.n_codes
    )
    return np.where(counted > 0, summed, np.nan)


def _membership(
    lines: _Lines,
    rules: RuleSet,
    pv: np.ndarray,
    extra_class: np.ndarray,
    line_place: np.ndarray,
    *,
    ranked_columns: dict[str, np.ndarray],
    leaving: np.ndarray,
    unheld_classes: frozenset[str],
    float_estimate: FloatEstimate | None,
    rank_day: date,
    effective_date: date,
) -> pl.DataFrame:
    """Index lines of the R3000E: pricing vehicles and extra share-class lines.

    ``line_place`` is each eligible line's company position in the ranking (-1:
    not eligible or not ranked); ``ranked_columns`` are by that position.
    ``extra_class``: which lines pass the extra share-class tests.
    """
    is_pv = np.zeros(lines.n, dtype=bool)
    is_pv[pv] = True
    in_e = np.zeros(lines.n, dtype=bool)
    placed = np.flatnonzero(line_place >= 0)
    in_e[placed] = ranked_columns["r3000e"][line_place[placed]]
    take = in_e & ~leaving
    # Other classes of R3000E companies are index lines when they pass the
    # share-class tests (R7 §6.6), unless the funds leave them out.
    others = np.flatnonzero(take & ~is_pv)
    extra = np.zeros(lines.n, dtype=bool)
    if others.size:
        extra[others] = extra_class[others]
        if unheld_classes:
            unheld = lines.ids.gather(others).is_in(list(unheld_classes))
            extra[others] &= ~unheld.to_numpy()
    rows = np.flatnonzero(take & (is_pv | extra))
    rows = rows[np.lexsort((lines.sid_rank[rows], ~is_pv[rows], line_place[rows]))]
    at = line_place[rows]
    frame = lines.frame
    columns = {
        name: frame.get_column(name)[rows]
        for name in (
            "company_id", "security_id", "name", "sector", "close",
            "shares_outstanding", "float_factor",
        )
    }  # fmt: skip
    columns["is_pricing_vehicle"] = pl.Series("is_pricing_vehicle", is_pv[rows])
    for name, values in ranked_columns.items():
        columns[name] = pl.Series(
            name, values[at], nan_to_null=values.dtype.kind == "f"
        )
    fallback = fallback_factor(rules.float, float_estimate)
    if float_estimate is not None:  # a holdings estimate: joined by id
        out = attach_float_factors(pl.DataFrame(columns), float_estimate, fallback)
        out = out.with_columns(
            rank_day=pl.lit(rank_day),
            effective_date=pl.lit(effective_date),
            float_market_cap=pl.col("shares_outstanding")
            * pl.col("close")
            * pl.col("float_factor"),
        )
        return schemas.check_schema(out, schemas.MEMBERSHIP, source="membership")
    # Series and NumPy only: a DataFrame query would wait for Polars' thread
    # pool, which the background thread's queries may hold. The values are
    # attach_float_factors' and the query's: a null factor takes the fallback
    # (a NaN stays), and the cap is null where the shares or the close are.
    factor = columns["float_factor"]
    given = ~schemas.null_mask(factor)
    columns["float_source"] = _SOURCES[np.where(given, 0, 1)]
    filled = np.where(given, factor.to_numpy(), fallback)
    columns["float_factor"] = pl.Series("float_factor", filled)
    shares, close = columns["shares_outstanding"], columns["close"]
    cap = pl.Series("float_market_cap", shares.to_numpy() * close.to_numpy() * filled)
    unknown = np.flatnonzero(schemas.null_mask(shares) | schemas.null_mask(close))
    columns["float_market_cap"] = cap.scatter(unknown, None) if unknown.size else cap
    n = rows.size
    for name, day in (("rank_day", rank_day), ("effective_date", effective_date)):
        columns[name] = pl.Series(name, np.full(n, np.datetime64(day, "D")))
    out = pl.DataFrame(list(columns.values()))
    return schemas.check_schema(out, schemas.MEMBERSHIP, source="membership")


def _changes(
    lines: _Lines,
    inc: _Incumbents,
    *,
    new_codes: np.ndarray,
    new_rows: np.ndarray,
    new_side: np.ndarray,
    company_codes: np.ndarray,
    excluded: tuple[np.ndarray, pl.Series],
    r1000_complement: bool,
) -> pl.DataFrame:
    """Adds, deletes and migrations between the old and new R1000/R2000 sides.

    ``new_*`` are the ranked companies' codes, pricing-vehicle rows and new
    sides (0 R1000, 1 R2000, -1 neither); ``company_codes`` every company that
    passed the line screens; ``excluded`` the excluded rows and their reasons.
    """
    n_keys = inc.n_keys
    to = np.full(n_keys, -1, dtype=np.int64)
    to[new_codes] = new_side
    new_row = np.full(n_keys, -1, dtype=np.int64)
    new_row[new_codes] = new_rows
    # Old side: R1000 when any of the key's incumbent lines is in it.
    frm = np.full(n_keys, -1, dtype=np.int64)
    frm[inc.key] = 1
    frm[inc.key[inc.in_r1000]] = 0
    if r1000_complement:
        # Companies absent from an R2000-only incumbent list count as R1000.
        frm = np.where((frm < 0) & (to == 0), 0, frm)
    kind = np.full(n_keys, -1, dtype=np.int64)
    kind[(frm < 0) & (to >= 0)] = 0
    kind[(frm >= 0) & (to < 0)] = 1
    kind[(frm == 0) & (to == 1)] = 2
    kind[(frm == 1) & (to == 0)] = 3
    keys = np.flatnonzero(kind >= 0)
    n, in_universe = lines.n, keys < lines.n_codes
    universe_key = np.where(in_universe, keys, 0)

    # security_id: the ranked company's pricing vehicle, else the smallest id of
    # the key's incumbent lines (rows after the universe's, in one gather).
    old_line = inc.first_line()
    row = new_row[keys]
    security = pl.concat([lines.ids, inc.ids])[
        np.where(row >= 0, row, n + old_line[keys])
    ]
    # name: the pricing vehicle's, else the company's first line by id (none for
    # a key outside the universe).
    first_line = lines.first_by_id(np.arange(n))
    name_row = np.where(
        row >= 0, row, np.where(in_universe, first_line[universe_key], n)
    )
    names = lines.frame.get_column("name")
    name = pl.concat([names, pl.Series([None], dtype=pl.String)])[name_row]
    # reason (deletes only): the company's exclusion by its first excluded line,
    # else "rank" when it was a company of the ranking's input.
    excluded_rows, reasons = excluded
    reason_of_row = np.full(n, -1, dtype=np.int64)
    reason_of_row[excluded_rows] = np.arange(excluded_rows.size)
    first_excluded = lines.first_by_id(excluded_rows)
    ex_row = np.where(in_universe, first_excluded[universe_key], -1)
    reason_at = np.where(ex_row >= 0, reason_of_row[np.maximum(ex_row, 0)], -1)
    in_companies = np.zeros(n_keys, dtype=bool)
    in_companies[company_codes] = True
    m = reasons.len()
    reason_at = np.where(
        reason_at >= 0, reason_at, np.where(in_companies[keys], m, m + 1)
    )
    reason_at = np.where(kind[keys] == 1, reason_at, m + 2)
    reason = pl.concat(
        [reasons, pl.Series(["rank", "not_in_universe", None], dtype=pl.String)]
    )[reason_at]
    # By change, then company_id (each key is one company: no tie). _KINDS are
    # in string order, and Python orders str by code point as Polars orders
    # UTF-8 by byte; a sort of the frame would be a query, which waits for
    # Polars' thread pool while the background thread's queries hold it.
    company = inc.names[keys]
    sort_keys = list(zip(kind[keys].tolist(), company.to_list(), strict=True))
    order = np.array(
        sorted(range(keys.size), key=sort_keys.__getitem__), dtype=np.int64
    )
    taken = keys[order]
    return pl.DataFrame(
        {
            "company_id": company[order],
            "security_id": security[order],
            "name": name[order],
            "change": pl.Series(_KINDS[kind[taken]].tolist(), dtype=pl.String),
            "from_index": pl.Series(_SIDE_NAMES[frm[taken]].tolist(), dtype=pl.String),
            "to_index": pl.Series(_SIDE_NAMES[to[taken]].tolist(), dtype=pl.String),
            "reason": reason[order],
        }
    )
