"""The reconstitution engine: universe in, Russell US membership out (R7 §5-§7).

:func:`reconstitute` is a pure function of the rank-day universe, the incumbent
Russell 3000 membership and a rule set. It returns a frozen :class:`Reconstitution`
with the membership of every index of the family, the exclusions with their reason,
the adds, deletes and migrations, and the breakpoints with their bands.

Pipeline (methodology.md §5.1): line screens -> pricing vehicle -> company total
market cap -> company screens -> rank -> R3000E (top 4,000) -> bands at #200, #500,
#1,000 and #2,000 -> index flags -> extra share-class lines -> float factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import polars as pl

from r2k import schemas
from r2k._typing import INDEX_CODES
from r2k.construction.banding import bands_of, breakpoint_table, index_flags
from r2k.construction.companies import (
    aggregate_companies,
    is_extra_class_line,
    pricing_vehicles,
)
from r2k.construction.eligibility import company_exclusion_reason, line_exclusion_reason
from r2k.construction.floats import FloatEstimate, attach_float_factors, fallback_factor
from r2k.construction.ranking import rank_companies
from r2k.construction.reconstitution_arrays import (
    PreparedUniverse,
    is_plain,
    reconstitute_arrays,
)
from r2k.errors import InputError, SchemaError

if TYPE_CHECKING:
    from datetime import date

    from r2k.methodology.rule_sets import RuleSet

INDEX_COLUMNS = INDEX_CODES
EXCLUSIONS = schemas.EXCLUSIONS
CHANGES = schemas.CHANGES


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconstitution:
    """The result of one reconstitution (frozen)."""

    rank_day: date
    effective_date: date
    rules: str  # rule-set label, name@version
    rules_digest: str
    membership: pl.DataFrame  # schemas.MEMBERSHIP, one row per index line of the R3000E
    exclusions: pl.DataFrame  # EXCLUSIONS
    changes: pl.DataFrame  # CHANGES (Russell 1000 / 2000 level)
    breakpoints: pl.DataFrame  # name, rank, total_market_cap, cum_cap_pct, band edges
    float_ownership_ratio: float | None

    def index(self, name: str) -> pl.DataFrame:
        """Lines of one index (``"r2000"``, ``"r1000"``, ...)."""
        column = name.lower()
        if column not in INDEX_COLUMNS:
            msg = f"unknown index {name!r}; choose one of {', '.join(INDEX_COLUMNS)}"
            raise InputError(msg)
        return self.membership.filter(pl.col(column))

    def counts(self) -> dict[str, int]:
        """Companies per index (pricing vehicles only)."""
        pv = self.membership.filter(pl.col("is_pricing_vehicle"))
        return {name: int(pv[name].sum()) for name in INDEX_COLUMNS}

    def line_counts(self) -> dict[str, int]:
        """Index lines per index (pricing vehicles and extra share classes)."""
        return {name: int(self.membership[name].sum()) for name in INDEX_COLUMNS}

    def exclusion_counts(self) -> dict[str, int]:
        """Excluded lines and companies by reason."""
        counts = (
            self.exclusions.group_by("exclusion_reason").len().sort("exclusion_reason")
        )
        return dict(zip(counts["exclusion_reason"], counts["len"], strict=True))

    def change_counts(self) -> dict[str, int]:
        """Adds, deletes and migrations, by kind and index."""
        counts = self.changes.group_by("change", "from_index", "to_index").len()
        out: dict[str, int] = {}
        for row in counts.iter_rows(named=True):
            key = (
                f"{row['change']}:{row['from_index'] or '-'}->{row['to_index'] or '-'}"
            )
            out[key] = int(row["len"])
        return dict(sorted(out.items()))


def reconstitute(
    universe: pl.DataFrame,
    incumbents: pl.DataFrame,
    rules: RuleSet,
    *,
    rank_day: date,
    effective_date: date,
    float_estimate: FloatEstimate | None = None,
    r1000_complement: bool = False,
    ceased: frozenset[str] = frozenset(),
    unheld_classes: frozenset[str] = frozenset(),
    prepared: PreparedUniverse | None = None,
) -> Reconstitution:
    """Reconstitute the Russell US indexes from a rank-day universe.

    Parameters
    ----------
    universe
        One row per security line on the rank day (:data:`r2k.schemas.UNIVERSE`).
    incumbents
        Lines of the current Russell 3000 (:data:`r2k.schemas.INCUMBENTS`).
    rules
        The rule set (:meth:`RuleSet.default` for the current rules).
    rank_day, effective_date
        Dates of the reconstitution (see :mod:`r2k.methodology.schedule`).
    float_estimate
        Float factors estimated from fund holdings, used where the universe has no
        float data.
    r1000_complement
        When the incumbents list only the Russell 2000 (as from IWM holdings), treat
        every company absent from it as a current Russell 1000 member. This matters
        only inside the #1,000 band (see docs/methodology.md).
    ceased
        Security ids of lines known to stop trading before the effective date
        (acquired, taken private, delisted). They are ranked like every other line
        (the breakpoints are those of the rank day) and then left out of every
        index: a company whose pricing vehicle ceases leaves with all its lines
        (exclusion ``stopped_trading``, stage ``post_rank``); an extra class line
        that ceases leaves alone.
    unheld_classes
        Share-class lines of current members that the incumbent fund files do not
        hold. FTSE Russell tested them at the last reconstitution (R7 §6.6) and
        left them out; the data lack the class-level shares and float to test them
        again (the panel reports the company total on every class line), so they
        are not made extra index lines. They still count in the company's total
        shares and may still be its pricing vehicle.
    prepared
        The part that reads no incumbent, done ahead for this ``universe``
        object under these ``rules``
        (:func:`r2k.construction.reconstitution_arrays.prepare_universe`);
        ignored when made from another universe or rule set. The result is the
        same with it or without.
    """
    if prepared is not None and not prepared.fits(universe, rules):
        prepared = None
    universe = schemas.check_schema(universe, schemas.UNIVERSE, source="universe")
    incumbents = schemas.check_schema(
        incumbents, schemas.INCUMBENTS, source="incumbents"
    )
    _check_unique(universe, "security_id", "universe")
    _check_unique(incumbents, "security_id", "incumbents")

    form = (
        partial(reconstitute_arrays, prepared=prepared)
        if is_plain(universe, incumbents, universe_plain=prepared is not None)
        else _reconstitute_query
    )
    membership, exclusions, changes, breakpoints = form(
        universe,
        incumbents,
        rules,
        rank_day=rank_day,
        effective_date=effective_date,
        float_estimate=float_estimate,
        r1000_complement=r1000_complement,
        ceased=ceased,
        unheld_classes=unheld_classes,
    )
    return Reconstitution(
        rank_day=rank_day,
        effective_date=effective_date,
        rules=rules.label,
        rules_digest=rules.digest,
        membership=membership,
        exclusions=exclusions,
        changes=changes,
        breakpoints=breakpoints,
        float_ownership_ratio=None
        if float_estimate is None
        else float_estimate.ownership_ratio,
    )


def _reconstitute_query(
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
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Membership, exclusions, changes and breakpoints as Polars queries.

    The general form (a NaN where the arrays of
    :func:`r2k.construction.reconstitution_arrays.reconstitute_arrays` compare,
    a line without a company, an incumbent without an id). Each step is one
    query: the frames are a few thousand rows, so the fixed cost of a Polars
    call, not the data, sets the time. Frames read by later steps stay lazy and
    are computed with the query that reads them.
    """
    lines = universe.with_columns(line_exclusion_reason(rules.eligibility))
    line_exclusions = _excluded(lines, "line")
    eligible_lines = pricing_vehicles(
        lines.lazy()
        .filter(pl.col("exclusion_reason").is_null())
        .drop("exclusion_reason"),
        rules.share_classes,
    )
    all_classes = universe.lazy().filter(
        pl.col("security_type").is_in(list(rules.eligibility.eligible_security_types))
    )
    incumbent_lines = _incumbent_lines(universe, incumbents)
    sides = _incumbent_sides(incumbent_lines)
    company_query = (
        aggregate_companies(eligible_lines, all_classes=all_classes)
        .lazy()
        .join(sides, on="company_id", how="left")
        .with_columns(is_incumbent=pl.col("inc_r1000").is_not_null())
    )
    if r1000_complement:
        company_query = company_query.with_columns(
            inc_r1000=pl.col("inc_r1000").fill_null(value=True)
        )
    companies = company_query.with_columns(
        company_exclusion_reason(rules.eligibility)
    ).collect(engine="in-memory")
    company_exclusions = _excluded(companies, "company")
    ranked = rank_companies(
        companies.lazy()
        .filter(pl.col("exclusion_reason").is_null())
        .drop("exclusion_reason"),
        r3000e_size=rules.ranking.r3000e_size,
    )
    bands = bands_of(ranked, rules)
    flags = index_flags(ranked, bands, rules)
    flags, ceased_exclusions = _drop_ceased(flags, ceased)
    membership = _membership_lines(
        flags,
        eligible_lines,
        rules,
        rank_day,
        effective_date,
        float_estimate,
        unheld_classes,
        ceased,
    )
    exclusions = (
        pl.concat([line_exclusions, company_exclusions, ceased_exclusions.lazy()])
        .rename({"reason": "exclusion_reason"})
        .sort("security_id")
        .collect(engine="in-memory")
    )
    exclusions = schemas.check_schema(exclusions, EXCLUSIONS, source="exclusions")
    changes = _changes(
        flags, companies, incumbent_lines, universe, exclusions, r1000_complement
    )
    return membership, exclusions, changes, breakpoint_table(ranked, bands)


_CEASED_EXCLUSIONS = pl.Schema(
    {
        "security_id": pl.String,
        "company_id": pl.String,
        "name": pl.String,
        "stage": pl.String,
        "reason": pl.String,
    }
)


def _excluded(frame: pl.DataFrame, stage: str) -> pl.LazyFrame:
    """The rows of ``frame`` with an ``exclusion_reason``, as EXCLUSIONS rows."""
    return (
        frame.lazy()
        .filter(pl.col("exclusion_reason").is_not_null())
        .select(
            "security_id",
            "company_id",
            "name",
            stage=pl.lit(stage),
            reason=pl.col("exclusion_reason"),
        )
    )


def _drop_ceased(
    flags: pl.DataFrame, ceased: frozenset[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Clear every index flag of companies whose pricing vehicle ceases trading."""
    if not ceased:
        # Nothing ceases: every flag stays and nobody leaves.
        return flags, pl.DataFrame(schema=_CEASED_EXCLUSIONS)
    hit = pl.col("security_id").is_in(list(ceased))
    gone = flags.filter(hit & pl.col("r3000e"))
    out = flags.with_columns(
        [
            pl.when(hit).then(pl.lit(value=False)).otherwise(pl.col(c)).alias(c)
            for c in INDEX_COLUMNS
        ]
    )
    exclusions = gone.select(
        "security_id",
        "company_id",
        "name",
        stage=pl.lit("post_rank"),
        reason=pl.lit("stopped_trading"),
    )
    return out, exclusions


def _check_unique(frame: pl.DataFrame, column: str, source: str) -> None:
    values = frame.get_column(column)
    if values.n_unique() == values.len():
        return
    dupes = frame.filter(pl.col(column).is_duplicated())[column].unique().sort()
    if dupes.len() > 0:
        shown = ", ".join(dupes.head(5).to_list())
        msg = (
            f"{source}: {dupes.len()} duplicate {column} value(s) ({shown}); "
            "each security must appear once: drop the repeated rows"
        )
        raise SchemaError(msg)


def _incumbent_lines(universe: pl.DataFrame, incumbents: pl.DataFrame) -> pl.DataFrame:
    """Incumbent lines with the ``company_id`` of their universe line (or null)."""
    return incumbents.join(
        universe.select("security_id", "company_id"), on="security_id", how="left"
    )


def _incumbent_sides(incumbent_lines: pl.DataFrame) -> pl.LazyFrame:
    """Current sides per company (via any of its lines), as a query.

    ``incumbent_lines`` come from :func:`_incumbent_lines`; lines outside the
    universe (null ``company_id``) have no company to give a side to.
    """
    return (
        incumbent_lines.lazy()
        .filter(pl.col("company_id").is_not_null())
        .group_by("company_id")
        .agg(
            inc_r1000=pl.col("r1000").max(),
            inc_top200=pl.col("top200").max(),
            inc_top500=pl.col("top500").max(),
            inc_above2000=(~pl.col("microcap")).max(),
        )
    )


def _membership_lines(
    flags: pl.DataFrame,
    eligible_lines: pl.DataFrame,
    rules: RuleSet,
    rank_day: date,
    effective_date: date,
    float_estimate: FloatEstimate | None,
    unheld_classes: frozenset[str] = frozenset(),
    ceased: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Index lines of the R3000E: pricing vehicles and extra share-class lines.

    Lines in ``ceased`` are left out (their company's flags are already cleared
    when the pricing vehicle ceases, see :func:`_drop_ceased`).
    """
    company_cols = (
        flags.lazy()
        .filter(pl.col("r3000e"))
        .select("company_id", "rank", "total_market_cap", "cum_cap_pct", *INDEX_COLUMNS)
    )
    lines = (
        eligible_lines.lazy()
        .filter(~pl.col("security_id").is_in(list(ceased)))
        .join(company_cols, on="company_id", how="inner")
        .filter(
            pl.col("is_pricing_vehicle")
            | (
                is_extra_class_line(rules.share_classes)
                & ~pl.col("security_id").is_in(list(unheld_classes))
            )
        )
        .collect(engine="in-memory")
    )
    lines = attach_float_factors(
        lines, float_estimate, fallback_factor(rules.float, float_estimate)
    )
    out = (
        lines.lazy()
        .with_columns(
            rank_day=pl.lit(rank_day),
            effective_date=pl.lit(effective_date),
            float_market_cap=pl.col("shares_outstanding")
            * pl.col("close")
            * pl.col("float_factor"),
        )
        .sort(
            ["rank", "is_pricing_vehicle", "security_id"],
            descending=[False, True, False],
        )
        .collect(engine="in-memory")
    )
    return schemas.check_schema(out, schemas.MEMBERSHIP, source="membership")


def _changes(
    flags: pl.DataFrame,
    companies: pl.DataFrame,
    incumbent_lines: pl.DataFrame,
    universe: pl.DataFrame,
    exclusions: pl.DataFrame,
    r1000_complement: bool,
) -> pl.DataFrame:
    """Adds, deletes and migrations between the old and new R1000/R2000 sides.

    ``incumbent_lines`` are the incumbents with the ``company_id`` of their
    universe line (null when the line left the universe), from
    :func:`_incumbent_lines`. The whole table is one query.
    """
    new_index = (
        pl.when(pl.col("r1000"))
        .then(pl.lit("R1000"))
        .when(pl.col("r2000"))
        .then(pl.lit("R2000"))
    )
    new = flags.lazy().select("company_id", "security_id", "name", to_index=new_index)
    # Old side per company, from the incumbent lines that are still in the universe.
    old = (
        incumbent_lines.lazy()
        .with_columns(company_id=pl.coalesce("company_id", "security_id"))
        .group_by("company_id")
        .agg(
            old_security_id=pl.col("security_id").min(),
            from_index=pl.when(pl.col("r1000").max())
            .then(pl.lit("R1000"))
            .otherwise(pl.lit("R2000")),
        )
    )
    merged = new.join(old, on="company_id", how="full", coalesce=True)
    if r1000_complement:
        # Companies absent from an R2000-only incumbent list count as R1000 members.
        merged = merged.with_columns(
            from_index=pl.when(
                pl.col("from_index").is_null() & (pl.col("to_index") == "R1000")
            )
            .then(pl.lit("R1000"))
            .otherwise(pl.col("from_index"))
        )
    kind = (
        pl.when(pl.col("from_index").is_null() & pl.col("to_index").is_not_null())
        .then(pl.lit("add"))
        .when(pl.col("from_index").is_not_null() & pl.col("to_index").is_null())
        .then(pl.lit("delete"))
        .when((pl.col("from_index") == "R2000") & (pl.col("to_index") == "R1000"))
        .then(pl.lit("migrate_up"))
        .when((pl.col("from_index") == "R1000") & (pl.col("to_index") == "R2000"))
        .then(pl.lit("migrate_down"))
    )
    company_reason = (
        exclusions.lazy()
        .sort("security_id")
        .group_by("company_id")
        .agg(pl.col("exclusion_reason").first())
    )
    names = (
        universe.lazy()
        .sort("security_id")
        .group_by("company_id")
        .agg(universe_name=pl.col("name").first())
    )
    changes = (
        merged.with_columns(change=kind)
        .filter(pl.col("change").is_not_null())
        .join(company_reason, on="company_id", how="left")
        .join(names, on="company_id", how="left")
        .with_columns(
            security_id=pl.coalesce("security_id", "old_security_id"),
            name=pl.coalesce("name", "universe_name"),
            reason=pl.when(pl.col("change") == "delete").then(
                pl.coalesce(
                    "exclusion_reason",
                    pl.when(
                        pl.col("company_id").is_in(companies["company_id"].implode())
                    )
                    .then(pl.lit("rank"))
                    .otherwise(pl.lit("not_in_universe")),
                )
            ),
        )
        .sort("change", "company_id")
        .collect(engine="in-memory")
    )
    return schemas.check_schema(changes, CHANGES, source="changes")


def market_adjusted_breakpoint(breakpoint_cap: float, r3000e_return: float) -> float:
    """Breakpoint between reconstitutions: cap x (1 + R3000E return) (R7 §6.8.1).

    ``r3000e_return`` is a fraction (0.0205 for 2.05%).

    Examples
    --------
    methodology.md TC6 (R7 App. E): $1.8B with a 2.05% return. R7 prints $1.804B,
    which is 1.8 x 1.00205; the formula gives 1.8369:

    >>> round(market_adjusted_breakpoint(1.8, 0.0205), 4)
    1.8369
    """
    return breakpoint_cap * (1.0 + r3000e_return)
