"""Corporate actions: one table of kinds, each with its formula and its handler.

A corporate action is one row of :data:`r2k.schemas.CORPORATE_ACTIONS`. Its
``ex_date`` is the first session the action is in effect (applied before the open),
except for the kinds that remove a line, whose ``ex_date`` is the line's *last*
index session at its own price (R7 Appendix E's "effective date").

:data:`KINDS` declares every kind once (:class:`ActionKind`): what its row's
fields mean, which of them it needs (validation, :func:`check_actions`), its
documented formula (a function below, with a worked example, that the handler
calls), and when it applies with which handler: ``open`` (before the session: the
line's index shares and reference price change, the divisor absorbs it) and/or
``close`` (after the session: the line leaves, or a line that entered at the open
is checked). Open handlers run for member lines only, in the order of the checked
action file; close handlers of the kinds that remove a line run first, then r2k's
stale-price rule, then the other close handlers (see
:mod:`r2k.maintenance.engine`). Ordinary cash dividends have no handler: they only
add to their line's dividend and are summed a block at a time
(:func:`cash_dividends`).

Adding a kind means adding one :class:`ActionKind` entry to :data:`KINDS` and its
handler (and, if it has one, its formula) in this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl

from r2k import schemas
from r2k.errors import SchemaError
from r2k.maintenance.book import Dividends
from r2k.maintenance.eligibility import spinoff_child_eligible
from r2k.maintenance.state import PendingRemoval

if TYPE_CHECKING:
    from datetime import date

    from r2k._typing import Phase
    from r2k.maintenance.book import Block, Book
    from r2k.maintenance.market import MarketHistory
    from r2k.methodology.rule_sets import MaintenanceRules

#: An open handler: (book, row t, session, column of the member line, action row).
OpenHandler = Callable[["Book", int, "date", int, dict[str, Any]], None]
#: A close handler: (book, row t, session, action row).
CloseHandler = Callable[["Book", int, "date", dict[str, Any]], None]


# ------------------------------------------------------------------- formulas


@dataclass(frozen=True, slots=True)
class Adjustment:
    """What an action going ex does to a member line at the open.

    The line's shares are multiplied by ``shares`` and its reference price becomes
    ``P_ref x price_mul - price_sub``; the divisor absorbs the change of value.
    """

    shares: float = 1.0
    price_mul: float = 1.0
    price_sub: float = 0.0

    def price(self, reference: float) -> float:
        """The reference price after the adjustment."""
        return reference * self.price_mul - self.price_sub


def split_adjustment(ratio: float) -> Adjustment:
    """Split or stock dividend: shares x ``ratio``, reference price / ``ratio``.

    The market value and the divisor do not change (methodology.md §9.5).

    Examples
    --------
    A 1-for-10 reverse split of 1,000 shares at $0.80:

    >>> adj = split_adjustment(0.1)
    >>> 1_000.0 * adj.shares, adj.price(0.80)
    (100.0, 8.0)
    """
    return Adjustment(shares=ratio, price_mul=1.0 / ratio)


def rights_in_the_money(cum_price: float, subscription_price: float) -> bool:
    """A rights issue adjusts the index only at a discount to the cum price.

    Examples
    --------
    >>> rights_in_the_money(50.0, 40.0), rights_in_the_money(50.0, 55.0)
    (True, False)
    """
    return subscription_price < cum_price


def rights_adjustment(ratio: float, subscription_price: float) -> Adjustment:
    """Rights in the money: shares x (1 + r), reference price the TERP.

    TERP = (cum price + r x subscription price) / (1 + r), for ``ratio`` r new
    shares per held share.

    Examples
    --------
    methodology.md D5: cum price 50, 1-for-4 at 40:

    >>> adj = rights_adjustment(0.25, 40.0)
    >>> adj.shares, adj.price(50.0)
    (1.25, 48.0)
    """
    return Adjustment(
        shares=1.0 + ratio,
        price_mul=1.0 / (1.0 + ratio),
        price_sub=-ratio * subscription_price / (1.0 + ratio),
    )


def special_dividend_adjustment(amount: float) -> Adjustment:
    """Special dividend: the reference price falls by ``amount`` (divisor changes).

    It is not also credited as a dividend to the total return (spec §11.2).

    Examples
    --------
    >>> special_dividend_adjustment(2.0).price(50.0)
    48.0
    """
    return Adjustment(price_sub=amount)


def spinoff_adjustment(ratio: float, child_value: float) -> Adjustment:
    """Spin-off, parent side: reference price P - r x V, shares unchanged.

    The child K gets the parent's shares x ``ratio`` (r) at the value V per child
    share (the row's when-issued ``amount``, else K's first close) and the parent's
    float factor, so the index's value and the divisor do not change.

    Examples
    --------
    Parent at $50 distributes 0.5 child shares valued at $12:

    >>> spinoff_adjustment(0.5, 12.0).price(50.0)
    44.0
    """
    return Adjustment(price_sub=ratio * child_value)


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


def exit_price(
    amount: float | None, close: float, last_close: float, nominal: float | None
) -> float:
    """Price a delisted or bankrupt line leaves at.

    The row's ``amount`` if given, else the session's close; with no close, the
    ``nominal`` price (bankruptcies: the rule set's ``nominal_removal_price``) or,
    if None, the last (carried) close.

    Examples
    --------
    >>> exit_price(2.5, 3.0, 3.0, None), exit_price(None, 3.0, 3.5, None)
    (2.5, 3.0)
    >>> exit_price(None, math.nan, 3.5, None), exit_price(None, math.nan, 3.5, 1e-4)
    (3.5, 0.0001)
    """
    if amount is not None:
        return amount
    if not math.isnan(close):
        return close
    return last_close if nominal is None else nominal


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


# ------------------------------------------------------------------- handlers


def _split(book: Book, t: int, session: date, c: int, row: dict[str, Any]) -> None:
    before, prev = book.n(c), book.previous_close(t, c)
    adjustment = split_adjustment(row["ratio"])
    book.adjust(t, c, adjustment)
    detail = f"x{row['ratio']:g}"
    book.log(session, c, row["action"], before, adjustment.price(prev), detail)


def _rights(book: Book, t: int, session: date, c: int, row: dict[str, Any]) -> None:
    before, prev = book.n(c), book.previous_close(t, c)
    if rights_in_the_money(prev, row["amount"]):
        adjustment = rights_adjustment(row["ratio"], row["amount"])
        book.adjust(t, c, adjustment)
        price = adjustment.price(prev)
        book.log(session, c, "rights", before, price, "in the money: TERP")
    else:
        book.log(session, c, "rights", before, prev, "out of the money: no change")


def _special_dividend(
    book: Book, t: int, session: date, c: int, row: dict[str, Any]
) -> None:
    before, prev = book.n(c), book.previous_close(t, c)
    adjustment = special_dividend_adjustment(row["amount"])
    book.adjust(t, c, adjustment)
    price = adjustment.price(prev)
    book.log(session, c, "special_dividend", before, price, "price adjusted")


def _spinoff(book: Book, t: int, session: date, c: int, row: dict[str, Any]) -> None:
    before, prev = book.n(c), book.previous_close(t, c)
    block = book.block
    child = block.col.get(row["other_id"])
    value = row["amount"]
    if value is None and child is not None:
        value = block.close(t, child)
    if child is None or value is None or math.isnan(value):
        book.log(session, c, "spinoff", before, prev, "child not priced: no change")
        return
    adjustment = spinoff_adjustment(row["ratio"], value)
    book.adjust(t, c, adjustment)
    book.shares[child] = book.shares[c] * row["ratio"]
    book.floats[child] = book.floats[c]
    book.ref_override[(t, child)] = value
    book.log(session, c, "spinoff", before, adjustment.price(prev), "parent")
    book.log(session, child, "spinoff_child", 0.0, value, f"from {row['security_id']}")


def _spinoff_child_check(
    book: Book, t: int, session: date, row: dict[str, Any]
) -> None:
    """A child that is not eligible leaves after its first session."""
    child = book.block.col.get(row["other_id"])
    if child is None or not book.member(child):
        return
    floor = (
        book.bounds.child_floor
        if book.bounds is not None
        else book.settings.rules.eligibility.min_total_market_cap
    )
    sid = book.block.ids[child]
    rules = book.settings.rules
    if not spinoff_child_eligible(book.market, session, sid, floor, rules):
        book.remove(session, child, "spinoff_child_ineligible", None)


def _identifier_change(
    book: Book, t: int, session: date, c: int, row: dict[str, Any]
) -> None:
    before, prev = book.n(c), book.previous_close(t, c)
    new = book.block.col.get(row["other_id"])
    if new is None:
        detail = f"{row['other_id']} not listed"
        book.log(session, c, "identifier_change", before, prev, detail)
        return
    book.shares[new], book.floats[new] = book.shares[c], book.floats[c]
    book.run[new] = book.run[c]
    book.ref_override[(t, new)] = prev
    book.shares[c] = 0.0
    detail = f"was {row['security_id']}"
    book.log(session, new, "identifier_change", before, prev, detail)


def _share_change(
    book: Book, t: int, session: date, c: int, row: dict[str, Any]
) -> None:
    before, prev = book.n(c), book.previous_close(t, c)
    new_float = row["float_factor"] or float(book.floats[c])
    new_n = row["shares_outstanding"] * new_float
    price = row["amount"] or prev
    if offering_applies_intra_quarter(new_n - before, before, price, book.rules):
        book.shares[c] = row["shares_outstanding"]
        book.floats[c] = new_float
        book.log(session, c, "share_change", before, price, "applied intra-quarter")
    else:
        book.log(session, c, "share_change", before, price, "deferred to the quarter")


def _merger(book: Book, t: int, session: date, row: dict[str, Any]) -> None:
    block = book.block
    c = block.col.get(row["security_id"])
    if c is None or not book.member(c):
        return
    a = block.col.get(row["other_id"]) if row["other_id"] else None
    ratio = row["ratio"] or 0.0
    cash = row["amount"] or 0.0
    if a is not None and book.member(a) and ratio > 0:
        acquirer_close = float(block.close_ff[t, a])
        price = merger_price(acquirer_close, ratio, cash)
        book.close_override[(t, c)] = price
        gained = book.n(c) * ratio
        before_a = book.n(a)
        book.shares[a] += gained / book.floats[a]
        book.remove(session, c, "merger", price)
        detail = f"acquired {row['security_id']}"
        book.log(session, a, "merger_acquirer", before_a, acquirer_close, detail)
        return
    # A delayed action (TC5): the target leaves after the next session's close.
    nxt = block.sessions[t + 1] if t + 1 < len(block.sessions) else None
    book.pending.append(
        PendingRemoval(
            session=nxt,
            security_id=row["security_id"],
            acquirer=row["other_id"],
            ratio=ratio,
            cash=cash,
        )
    )
    book.log(session, c, "merger", book.n(c), None, "delayed one session")


def settle_delayed(book: Book, t: int, session: date) -> None:
    """Delayed-action exits due on ``session`` (TC5): terms at today's close."""
    block = book.block
    due = [p for p in book.pending if p.session in (session, None)]
    book.pending = [p for p in book.pending if p not in due]
    for p in due:
        c = block.col.get(p.security_id)
        if c is None or not book.member(c):
            continue
        a = block.col.get(p.acquirer) if p.acquirer else None
        acquirer_close = float(block.close_ff[t, a]) if a is not None else None
        price = merger_price(acquirer_close, p.ratio, p.cash)
        book.close_override[(t, c)] = price
        book.remove(session, c, "merger", price)


def _exit(book: Book, t: int, session: date, row: dict[str, Any]) -> None:
    c = book.block.col.get(row["security_id"])
    if c is None or not book.member(c):
        return
    action = row["action"]
    nominal = book.rules.nominal_removal_price if action == "bankruptcy" else None
    price = exit_price(
        row["amount"],
        book.block.close(t, c),
        float(book.block.close_ff[t, c]),
        nominal,
    )
    book.close_override[(t, c)] = price
    book.remove(session, c, action, price)


# ---------------------------------------------------------------------- table


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionKind:
    """One kind of corporate action, declared once.

    Attributes
    ----------
    name
        The ``action`` value of its rows.
    fields
        What the row's fields mean.
    required
        Fields that must not be null (validation).
    zero_ratio
        Whether ``ratio`` and ``shares_outstanding`` may be 0 (else positive).
    formula
        The documented formula the handler calls (None: none).
    open, close
        Handler before the session (for member lines) and after it.
    removes
        Its ``ex_date`` is the line's last index session; its close handler runs
        before r2k's stale-price rule.
    dividend
        An ordinary cash dividend: no handler, summed a block at a time.
    """

    name: str
    fields: str
    required: tuple[str, ...] = ()
    zero_ratio: bool = False
    formula: Callable[..., Any] | None = None
    open: OpenHandler | None = None
    close: CloseHandler | None = None
    removes: bool = False
    dividend: bool = False

    @property
    def phases(self) -> tuple[Phase, ...]:
        """When the kind applies."""
        found: list[Phase] = []
        if self.open is not None or self.dividend:
            found.append("open")
        if self.close is not None:
            found.append("close")
        return tuple(found)


#: Every kind of corporate action, in the order validation reports them.
KINDS: Final[tuple[ActionKind, ...]] = (
    ActionKind(
        name="split",
        fields="ratio new shares per old share (2.0: 2-for-1; 0.1: 1-for-10)",
        required=("ratio",),
        formula=split_adjustment,
        open=_split,
    ),
    ActionKind(
        name="stock_dividend",
        fields="as a split (ratio 1.05 for a 5% stock dividend)",
        required=("ratio",),
        formula=split_adjustment,
        open=_split,
    ),
    ActionKind(
        name="cash_dividend",
        fields="ordinary dividend amount per share (total returns only)",
        required=("amount",),
        dividend=True,
    ),
    ActionKind(
        name="special_dividend",
        fields="amount per share, adjusts the price index",
        required=("amount",),
        formula=special_dividend_adjustment,
        open=_special_dividend,
    ),
    ActionKind(
        name="rights",
        fields="ratio new shares per held share at subscription price amount",
        required=("ratio", "amount"),
        formula=rights_adjustment,
        open=_rights,
    ),
    ActionKind(
        name="spinoff",
        fields=(
            "child other_id, ratio child shares per parent share, amount the "
            "when-issued value per child share (null: the child's first close)"
        ),
        required=("ratio", "other_id"),
        formula=spinoff_adjustment,
        open=_spinoff,
        close=_spinoff_child_check,
    ),
    ActionKind(
        name="merger",
        fields=(
            "target security_id acquired by other_id (null: not listed) for ratio "
            "acquirer shares and amount cash per share; ex_date is the effective "
            "date E, the target's last session"
        ),
        zero_ratio=True,
        formula=merger_price,
        close=_merger,
        removes=True,
    ),
    ActionKind(
        name="delisting",
        fields="ex_date is the last session; leaves at amount, else its close",
        formula=exit_price,
        close=_exit,
        removes=True,
    ),
    ActionKind(
        name="bankruptcy",
        fields="as delisting; with no price, leaves at the nominal price",
        formula=exit_price,
        close=_exit,
        removes=True,
    ),
    ActionKind(
        name="identifier_change",
        fields="from ex_date the line is other_id",
        required=("other_id",),
        open=_identifier_change,
    ),
    ActionKind(
        name="share_change",
        fields=(
            "new total shares_outstanding (and float_factor) from ex_date; amount "
            "the offering price (null: the close)"
        ),
        required=("shares_outstanding",),
        formula=offering_applies_intra_quarter,
        open=_share_change,
    ),
)
#: Each kind by name: what validation and the engine look kinds up in.
KIND: Final[dict[str, ActionKind]] = {k.name: k for k in KINDS}
#: The names of the kinds (of :data:`KINDS`).
ACTIONS: Final[tuple[str, ...]] = tuple(KIND)
#: Kinds whose ex_date is the line's last index session.
REMOVALS: Final[frozenset[str]] = frozenset(k.name for k in KINDS if k.removes)

_POSITIVE: Final = ("ratio", "shares_outstanding")


# ----------------------------------------------------------------- validation


def empty_actions() -> pl.DataFrame:
    """An empty :data:`~r2k.schemas.CORPORATE_ACTIONS` frame."""
    return pl.DataFrame(schema=schemas.CORPORATE_ACTIONS)


def check_actions(actions: pl.DataFrame, *, source: str) -> pl.DataFrame:
    """Validate a corporate-action frame and return it sorted.

    Sorted by ``ex_date``, ``security_id``, ``action``: the order the open handlers
    of one session run in.

    Raises
    ------
    SchemaError
        If a column is missing, an action is unknown, a required field is null or
        a ratio, amount or share count is out of range. The message names
        ``source``, the row (0-based, in the given order) and the field.
    """
    frame = schemas.check_schema(actions, schemas.CORPORATE_ACTIONS, source=source)
    names = list(KIND)
    zero_ok = [k.name for k in KIND.values() if k.zero_ratio]
    action = pl.col("action")
    # Each check: the rows it rejects, and its message for the first of them
    # (a row as a dict). All are evaluated in one pass; the first check in this
    # order that finds a row is the error.
    checks: list[tuple[pl.Expr, Callable[[dict[str, Any]], str]]] = [
        (
            ~action.is_in(names) | action.is_null(),
            lambda row: (
                f"unknown action {row['action']!r}; expected one of {', '.join(names)}"
            ),
        ),
        *(
            (pl.col(column).is_null(), lambda _, c=column: f"{c} is empty")
            for column in ("security_id", "ex_date")
        ),
        *(
            (
                (action == kind.name) & pl.col(column).is_null(),
                lambda _, k=kind.name, c=column: (
                    f"{k} needs {c!r}; see docs/data-formats.md (corporate actions)"
                ),
            )
            for kind in KIND.values()
            for column in kind.required
        ),
        *(
            (
                (pl.col(column) < 0) | ((pl.col(column) == 0) & ~action.is_in(zero_ok)),
                lambda row, c=column: (
                    f"{c} must be positive (zero only for a cash merger), got {row[c]}"
                ),
            )
            for column in _POSITIVE
        ),
        *(
            (
                pl.col(column).is_nan() | pl.col(column).is_infinite(),
                lambda row, c=column: f"{c} must be a finite number, got {row[c]}",
            )
            for column in ("ratio", "amount", "shares_outstanding", "float_factor")
        ),
        (pl.col("amount") < 0, lambda _: "amount must be >= 0"),
        (
            (pl.col("float_factor") <= 0) | (pl.col("float_factor") > 1),
            lambda _: "float_factor must be in (0, 1]",
        ),
    ]
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    first_bad = frame.select(
        index.filter(bad.fill_null(value=False)).first().alias(str(i))
        for i, (bad, _) in enumerate(checks)
    ).row(0)
    for found, (_, message) in zip(first_bad, checks, strict=True):
        if found is not None:
            row = frame.row(found, named=True)
            msg = f"{source}: row {found}: {message(row)}"
            raise SchemaError(msg)
    return frame.sort("ex_date", "security_id", "action")


# -------------------------------------------------------------- for the walk


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedActions:
    """Checked corporate actions, ready for the session walk.

    Cash dividends (most of the actions) only add to the dividend of their line and
    session: they are applied a block at a time (:func:`cash_dividends`). The
    other actions are handled one by one, on their ex-date, in the checked order.
    """

    by_session: dict[date, list[dict[str, Any]]]  # other actions, by ex-date
    dividend_days: np.ndarray  # cash dividends' ex-dates (days since 1970), sorted
    dividend_ids: pl.Series
    dividend_amounts: np.ndarray
    dividend_codes: np.ndarray | None = None  # their line codes in the market


def prepare_actions(
    actions: pl.DataFrame, market: MarketHistory | None = None
) -> PreparedActions:
    """Check ``actions`` and split them into cash dividends and the others.

    With the ``market``, the dividends' lines are coded once here, not looked up
    by ``security_id`` in every block.
    """
    checked = check_actions(actions, source="corporate actions")
    dividend = pl.col("action").is_in([k.name for k in KIND.values() if k.dividend])
    dividends = checked.filter(dividend)
    by_session: dict[date, list[dict[str, Any]]] = {}
    for row in checked.filter(~dividend).to_dicts():
        by_session.setdefault(row["ex_date"], []).append(row)
    ids = dividends["security_id"]
    return PreparedActions(
        by_session=by_session,
        dividend_days=dividends["ex_date"].to_physical().to_numpy(),
        dividend_ids=ids,
        dividend_amounts=dividends["amount"].to_numpy(),
        dividend_codes=None if market is None else market.codes_of(ids),
    )


def cash_dividends(block: Block, actions: PreparedActions) -> Dividends:
    """Cash dividends per share going ex on the block's sessions, by line.

    A line's dividends going ex on a session add up (in action order), member or
    not; row 0, the session before the block, has none.
    """
    days = block.days()
    ex_days = actions.dividend_days
    lo = int(np.searchsorted(ex_days, days[1]))
    hi = int(np.searchsorted(ex_days, days[-1], side="right"))
    ex = ex_days[lo:hi]
    t = np.searchsorted(days, ex)
    codes = actions.dividend_codes
    c = block.columns(
        actions.dividend_ids.slice(lo, hi - lo),
        None if codes is None else codes[lo:hi],
    )
    keep = (days[t] == ex) & (c >= 0)
    return Dividends(
        rows=t[keep], columns=c[keep], amounts=actions.dividend_amounts[lo:hi][keep]
    )
