"""Which new lines may enter an index between reconstitutions.

Quarterly IPO additions and spin-off children are screened with the rule set's
own eligibility section, the one the reconstitution applies (R7 §5): the security
types of ``rules.eligibility.eligible_security_types`` (read from the line's name
with :func:`r2k.construction.classify.security_type_expr`, as the universe's are),
and, for IPOs, ``rules.eligibility.min_price``. A rule variant therefore changes
the maintenance exactly as it changes the reconstitution. The engine reads the
types from the market's classification memo (:func:`eligible_rows`), so a line's
name is classified once per market, not at every screen.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from r2k.construction.classify import LINE_KEYS, security_type_expr

if TYPE_CHECKING:
    from datetime import date

    import polars as pl

    from r2k.maintenance.market import MarketHistory
    from r2k.methodology.rule_sets import RuleSet


@cache
def security_type() -> pl.Expr:
    """Security type of a market row (built once: the expression is large)."""
    return security_type_expr("name", symbol_col="security_id")


def eligible_type(rules: RuleSet) -> pl.Expr:
    """Whether a market row's security type is one the rule set admits (R7 §5.11).

    Examples
    --------
    >>> import polars as pl
    >>> from r2k.methodology.rule_sets import RuleSet
    >>> rows = pl.DataFrame(
    ...     {"security_id": ["A", "B"], "name": ["A Inc.", "B Corp. Warrant"]}
    ... )
    >>> rows.select(eligible_type(RuleSet.default()))["security_type"].to_list()
    [True, False]
    """
    return security_type().is_in(list(rules.eligibility.eligible_security_types))


def eligible_rows(
    market: MarketHistory, rows: pl.DataFrame, rules: RuleSet
) -> np.ndarray:
    """:func:`eligible_type` of market ``rows``, from the market's classification memo.

    ``rows`` has the columns ``security_id``, ``name`` and ``sector``. Each line's
    name is classified once per market
    (:attr:`r2k.maintenance.market.MarketHistory.classes`); the values are those
    of :func:`eligible_type` (a row without a type is not eligible), as a boolean
    array.
    """
    types = market.classes.security_types(rows)
    admitted = set(rules.eligibility.eligible_security_types)
    return np.fromiter((t in admitted for t in types), dtype=bool, count=len(types))


def spinoff_child_eligible(
    market: MarketHistory, session: date, security_id: str, floor: float, rules: RuleSet
) -> bool:
    """Whether a spin-off child may stay in the index after its first session.

    It must have a market row on ``session``, a company total cap of at least
    ``floor`` and an eligible security type (:func:`eligible_type`).
    """
    code = market.code_of(security_id)
    if code is None:
        return False
    # The rows of a session are in line order: their codes ascend.
    listed = market.line_codes(session, session)
    i = int(np.searchsorted(listed, code))
    if i == listed.size or listed[i] != code:
        return False
    cap = market.column("total_market_cap", session, session)[i]
    if cap is None or not cap >= floor:
        return False
    row = market.rows_at(session, np.array([i]), LINE_KEYS)
    return bool(eligible_rows(market, row, rules)[0])
