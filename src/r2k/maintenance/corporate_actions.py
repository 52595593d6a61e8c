"""Corporate actions: the event model and the arithmetic of each action.

A corporate action is one row of :data:`r2k.schemas.CORPORATE_ACTIONS`. Its
``ex_date`` is the first session the action is in effect (applied before the open),
except for the actions that remove a line, whose ``ex_date`` is the line's *last*
index session at its own price (R7 Appendix E's "effective date"):

============  ================================================================
action        meaning of the row
============  ================================================================
split         ``ratio`` new shares per old share (2.0: 2-for-1; 0.1: 1-for-10)
stock_div...  ``stock_dividend``: as a split (1.05 for a 5% stock dividend)
cash_div...   ``cash_dividend``: ordinary dividend ``amount`` per share
special_...   ``special_dividend``: ``amount`` per share, adjusts the price index
rights        ``ratio`` new shares per held share at subscription price ``amount``
spinoff       child ``other_id``, ``ratio`` child shares per parent share,
              ``amount`` when-issued value per child share (null: first close)
merger        target ``security_id`` acquired by ``other_id`` (null: not listed)
              for ``ratio`` acquirer shares and ``amount`` cash per share;
              ``ex_date`` is the effective date E, the target's last session
delisting     ``ex_date`` is the last session; removed at ``amount`` or last close
bankruptcy    as delisting; with no price, removed at the nominal price
identifier..  ``identifier_change``: from ``ex_date`` the line is ``other_id``
share_change  new total ``shares_outstanding`` (and ``float_factor``) from
              ``ex_date``; ``amount`` the offering price (null: the close)
============  ================================================================

The functions below are the per-action formulas, each with its worked example;
:mod:`r2k.maintenance.engine` applies them to the index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

from r2k import schemas
from r2k.errors import SchemaError

if TYPE_CHECKING:
    from r2k.methodology.rule_sets import MaintenanceRules

ACTIONS: Final = (
    "split",
    "stock_dividend",
    "cash_dividend",
    "special_dividend",
    "rights",
    "spinoff",
    "merger",
    "delisting",
    "bankruptcy",
    "identifier_change",
    "share_change",
)
#: Actions whose ex_date is the line's last index session.
REMOVALS: Final = frozenset({"merger", "delisting", "bankruptcy"})

# Which fields each action needs (non-null), for validation.
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "split": ("ratio",),
    "stock_dividend": ("ratio",),
    "cash_dividend": ("amount",),
    "special_dividend": ("amount",),
    "rights": ("ratio", "amount"),
    "spinoff": ("ratio", "other_id"),
    "merger": (),
    "delisting": (),
    "bankruptcy": (),
    "identifier_change": ("other_id",),
    "share_change": ("shares_outstanding",),
}
_POSITIVE: Final = ("ratio", "shares_outstanding")


def empty_actions() -> pl.DataFrame:
    """An empty :data:`~r2k.schemas.CORPORATE_ACTIONS` frame."""
    return pl.DataFrame(schema=schemas.CORPORATE_ACTIONS)


def check_actions(actions: pl.DataFrame, *, source: str) -> pl.DataFrame:
    """Validate a corporate-action frame and return it sorted.

    Raises
    ------
    SchemaError
        If a column is missing, an action is unknown, a required field is null or
        a ratio, amount or share count is out of range. The message names
        ``source``, the row (0-based, in the given order) and the field.
    """
    frame = schemas.check_schema(actions, schemas.CORPORATE_ACTIONS, source=source)
    frame = frame.with_row_index("_row")
    unknown = frame.filter(
        ~pl.col("action").is_in(ACTIONS) | pl.col("action").is_null()
    )
    if unknown.height:
        row = unknown.row(0, named=True)
        msg = (
            f"{source}: row {row['_row']}: unknown action {row['action']!r}; "
            f"expected one of {', '.join(ACTIONS)}"
        )
        raise SchemaError(msg)
    for column in ("security_id", "ex_date"):
        bad = frame.filter(pl.col(column).is_null())
        if bad.height:
            msg = f"{source}: row {bad['_row'][0]}: {column} is empty"
            raise SchemaError(msg)
    for action, needed in _REQUIRED.items():
        rows = frame.filter(pl.col("action") == action)
        for column in needed:
            bad = rows.filter(pl.col(column).is_null())
            if bad.height:
                msg = (
                    f"{source}: row {bad['_row'][0]}: {action} needs {column!r}; "
                    "see docs/data-formats.md (corporate actions)"
                )
                raise SchemaError(msg)
    for column in _POSITIVE:
        bad = frame.filter(
            (pl.col(column) < 0)
            | ((pl.col(column) == 0) & (pl.col("action") != "merger"))
        )
        if bad.height:
            msg = (
                f"{source}: row {bad['_row'][0]}: {column} must be positive "
                f"(zero only for a cash merger), got {bad[column][0]}"
            )
            raise SchemaError(msg)
    bad = frame.filter(pl.col("amount") < 0)
    if bad.height:
        msg = f"{source}: row {bad['_row'][0]}: amount must be >= 0"
        raise SchemaError(msg)
    bad = frame.filter((pl.col("float_factor") <= 0) | (pl.col("float_factor") > 1))
    if bad.height:
        msg = f"{source}: row {bad['_row'][0]}: float_factor must be in (0, 1]"
        raise SchemaError(msg)
    return frame.drop("_row").sort("ex_date", "security_id", "action")


def split_shares_and_price(
    shares: float, price: float, ratio: float
) -> tuple[float, float]:
    """Shares and reference price after a split or stock dividend.

    Shares are multiplied and the price divided by ``ratio``, so the market value
    and the divisor do not change (methodology.md §9.5).

    Examples
    --------
    A 1-for-10 reverse split of 1,000 shares at $0.80:

    >>> split_shares_and_price(1_000.0, 0.80, 0.1)
    (100.0, 8.0)
    """
    return shares * ratio, price / ratio


def theoretical_ex_rights_price(
    cum_price: float, ratio: float, subscription_price: float
) -> float:
    """TERP = (cum price + ratio x subscription price) / (1 + ratio).

    Examples
    --------
    methodology.md D5: cum price 50, 1-for-4 at 40:

    >>> theoretical_ex_rights_price(50.0, 0.25, 40.0)
    48.0
    """
    return (cum_price + ratio * subscription_price) / (1.0 + ratio)


def rights_in_the_money(cum_price: float, subscription_price: float) -> bool:
    """A rights issue adjusts the index only at a discount to the cum price."""
    return subscription_price < cum_price


def merger_price(acquirer_close: float | None, ratio: float, cash: float) -> float:
    """Target price from the deal terms: acquirer close x ratio + cash (TC5).

    Examples
    --------
    methodology.md TC5 (R7 Appendix E): 1:5 terms, A closes at $12.00:

    >>> round(merger_price(12.0, 0.2, 0.0), 10)
    2.4
    >>> round(merger_price(12.0, 0.2, 2.0), 10)
    4.4
    >>> merger_price(None, 0.0, 5.02)
    5.02
    """
    stock = 0.0 if acquirer_close is None or ratio == 0 else acquirer_close * ratio
    return stock + cash


def spinoff_parent_price(
    parent_close: float, ratio: float, child_value: float
) -> float:
    """Parent reference price ex the distribution: P - ratio x child value.

    Examples
    --------
    Parent at $50 distributes 0.5 child shares valued at $12:

    >>> spinoff_parent_price(50.0, 0.5, 12.0)
    44.0
    """
    return parent_close - ratio * child_value


def offering_applies_intra_quarter(
    change_in_index_shares: float,
    index_shares: float,
    price: float,
    rules: MaintenanceRules,
) -> bool:
    """Whether a share change is applied at once rather than at the quarter (§9.4).

    Applied at once if the change in investable market cap is at least
    ``intra_quarter_min_value_usd``, or if the index shares change by at least
    ``intra_quarter_min_change_pct`` percent and by at least
    ``intra_quarter_min_value_with_pct_usd``.

    Examples
    --------
    >>> from r2k.methodology.rule_sets import RuleSet
    >>> rules = RuleSet.default().maintenance
    >>> offering_applies_intra_quarter(25e6, 100e6, 50.0, rules)  # $1.25bn
    True
    >>> offering_applies_intra_quarter(6e6, 100e6, 50.0, rules)  # 6%, $300M
    True
    >>> offering_applies_intra_quarter(6e6, 100e6, 30.0, rules)  # 6%, $180M
    False
    """
    value = abs(change_in_index_shares) * price
    if value >= rules.intra_quarter_min_value_usd:
        return True
    pct = abs(change_in_index_shares) / index_shares * 100.0 if index_shares else 0.0
    return (
        pct >= rules.intra_quarter_min_change_pct
        and value >= rules.intra_quarter_min_value_with_pct_usd
    )


def shares_change_exceeds_buffer(
    index_shares: float, new_shares: float, rules: MaintenanceRules
) -> bool:
    """Quarterly shares update: cumulative change above ``shares_buffer_pct``.

    Examples
    --------
    >>> from r2k.methodology.rule_sets import RuleSet
    >>> rules = RuleSet.default().maintenance
    >>> shares_change_exceeds_buffer(100e6, 100.9e6, rules)
    False
    >>> shares_change_exceeds_buffer(100e6, 101.1e6, rules)
    True
    """
    return abs(new_shares / index_shares - 1.0) * 100.0 > rules.shares_buffer_pct


def float_change_exceeds_buffer(
    index_float: float, new_float: float, rules: MaintenanceRules
) -> bool:
    """Quarterly float update: change above the buffer in percentage points.

    The buffer is ``low_float_buffer_pp`` when the current float is at or below
    ``low_float_pct``, else ``float_buffer_pp``.

    Examples
    --------
    methodology.md TC4 (R7 §9.3.4): float 8% changes only above 9% or below 7%:

    >>> from r2k.methodology.rule_sets import RuleSet
    >>> rules = RuleSet.default().maintenance
    >>> [float_change_exceeds_buffer(0.08, f, rules) for f in (0.0899, 0.0901, 0.0699)]
    [False, True, True]
    """
    pp = abs(new_float - index_float) * 100.0
    low = index_float * 100.0 <= rules.low_float_pct
    buffer = rules.low_float_buffer_pp if low else rules.float_buffer_pp
    return pp > buffer + 1e-12
