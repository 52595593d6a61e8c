"""Index level calculation: price, total and net total return (spec §11).

Notation (methodology.md §11.2): for line *i* on session *t*, ``P`` is the close,
``N`` the index shares held *during* session *t* (after every change effective at
the previous close), ``P_ref`` the reference price at the open: the previous close
adjusted for actions going ex on *t* (split, rights, spin-off, special dividend,
delayed-action merger terms), ``d`` the ordinary cash dividend per share going ex
on *t*, ``tau`` the withholding rate.

* price return: ``I_t = I_{t-1} * sum(N P) / sum(N P_ref)``; the divisor is
  ``D_t = sum(N P_ref) / I_{t-1}``, so ``I_t = sum(N P) / D_t`` and every change in
  shares, membership or reference price leaves the level continuous;
* index dividend points: ``ID_t = sum(N d) / D_t`` (net: ``d (1 - tau)``);
* total return, two conventions (methodology.md TC8):
  - ``"reinvest"`` (default; S&P, FTSE): dividends reinvested across the index at
    the ex-date close, ``TR_t = TR_{t-1} (I_t + ID_t) / I_{t-1}``, i.e. the return
    ``sum(N (P + d)) / sum(N P_ref) - 1``;
  - ``"points"`` (NSE): ``TR_t = (TR_{t-1} + ID_t) I_t / I_{t-1}``.

Special dividends enter through ``P_ref`` only (price adjustment and divisor
change once), never also as ``d``.

The levels are chained from per-session sums (:data:`SUMS`, computed by the book,
:meth:`r2k.maintenance.book.Book.value`) in one place, in two shapes that compute
the same numbers (tests require 1e-10): :func:`chain_levels` over a window at once
(vectorised, batch mode) and :func:`levels_from_sums` one session from the stored
:class:`LevelState` (incremental mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from r2k import schemas
from r2k.errors import MissingDataError

if TYPE_CHECKING:
    from datetime import date

    from r2k._typing import TotalReturnConvention

DEFAULT_WITHHOLDING = 0.30

#: Per-session sums the levels are chained from (one row per session).
SUMS = pl.Schema(
    {
        "session": pl.Date,
        "market_value": pl.Float64,  # sum(N P)
        "reference_value": pl.Float64,  # sum(N P_ref)
        "has_reference": pl.Boolean,
        "dividends": pl.Float64,  # sum(N d)
        "net_dividends": pl.Float64,  # sum(N d (1 - tau))
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelState:
    """Everything the next session needs: the last levels."""

    session: date
    price_return: float
    total_return: float
    net_total_return: float


def chain_levels(
    start: LevelState,
    sums: pl.DataFrame,
    convention: TotalReturnConvention = "reinvest",
) -> pl.DataFrame:
    """Levels of a window from its per-session sums, chained from ``start``.

    Parameters
    ----------
    start
        The levels at the close before the window.
    sums
        :data:`SUMS`, one row per session of the window, in order.
    convention
        The total-return convention.

    Returns
    -------
    pl.DataFrame
        :data:`r2k.schemas.LEVELS`: the start session (market value and divisor
        null) and one row per session of ``sums``.

    Raises
    ------
    MissingDataError
        If a session has no reference value (the index has no members).

    Examples
    --------
    methodology.md D1: base 100 on 150m; day 2 the members are worth 149.5m at the
    closes against 150m at the reference prices:

    >>> from datetime import date
    >>> sums = pl.DataFrame(
    ...     {
    ...         "session": [date(2026, 1, 6)],
    ...         "market_value": [149.5e6],
    ...         "reference_value": [150e6],
    ...         "has_reference": [True],
    ...         "dividends": [0.0],
    ...         "net_dividends": [0.0],
    ...     },
    ...     schema=SUMS,
    ... )
    >>> levels = chain_levels(base_state(date(2026, 1, 5)), sums)
    >>> levels["price_return"].round(6).to_list()
    [100.0, 99.666667]
    """
    first = {
        "session": start.session,
        "market_value": None,
        "divisor": None,
        "price_return": start.price_return,
        "total_return": start.total_return,
        "net_total_return": start.net_total_return,
        "dividend_points": 0.0,
        "net_dividend_points": 0.0,
    }
    head = pl.DataFrame([first], schema=schemas.LEVELS, orient="row")
    if sums.height == 0:
        return head
    mv = sums["market_value"].to_numpy()
    ref = sums["reference_value"].to_numpy()
    if not (ref > 0).all():
        empty = sums.filter(pl.col("reference_value") <= 0)["session"][0]
        msg = f"the index has no members on {empty}: it cannot be calculated"
        raise MissingDataError(msg)
    growth = mv / ref
    pr = start.price_return * np.cumprod(growth)
    divisor = ref / np.concatenate([[start.price_return], pr[:-1]])
    points = sums["dividends"].to_numpy() / divisor
    net_points = sums["net_dividends"].to_numpy() / divisor
    # total_return_levels chains from the start session (index 0).
    pr_all = np.concatenate([[start.price_return], pr])
    tr = total_return_levels(
        pr_all, np.concatenate([[0.0], points]), start.total_return, convention
    )[1:]
    ntr = total_return_levels(
        pr_all,
        np.concatenate([[0.0], net_points]),
        start.net_total_return,
        convention,
    )[1:]
    body = pl.DataFrame(
        {
            "session": sums["session"],
            "market_value": mv,
            "divisor": divisor,
            "price_return": pr,
            "total_return": tr,
            "net_total_return": ntr,
            "dividend_points": points,
            "net_dividend_points": net_points,
        },
        schema=schemas.LEVELS,
    )
    return pl.concat([head, body])


def total_return_levels(
    pr: np.ndarray, points: np.ndarray, base: float, convention: TotalReturnConvention
) -> np.ndarray:
    """Total-return levels from price levels ``pr`` and dividend points.

    ``points[t]`` are the index dividend points going ex on session ``t``
    (``points[0]`` is ignored: the base session); ``base`` is the total-return
    level on the base session.
    """
    out: np.ndarray
    if convention == "reinvest":
        factor = np.ones(len(pr))
        factor[1:] = (pr[1:] + points[1:]) / pr[:-1]
        out = base * np.cumprod(factor)
        return out
    # "points": TR_t = (TR_{t-1} + ID_t) I_t / I_{t-1}  =>  TR_t / I_t is the running
    # sum of base/I_0 and ID_k / I_{k-1}.
    ratio = np.empty(len(pr))
    ratio[0] = base / pr[0]
    ratio[1:] = points[1:] / pr[:-1]
    out = pr * np.cumsum(ratio)
    return out


def base_state(session: date, base_value: float = 100.0) -> LevelState:
    """The state at the base session's close."""
    return LevelState(
        session=session,
        price_return=base_value,
        total_return=base_value,
        net_total_return=base_value,
    )


def levels_from_sums(
    state: LevelState,
    row: dict[str, Any],
    *,
    convention: TotalReturnConvention = "reinvest",
) -> tuple[LevelState, dict[str, float]]:
    """One session's levels from the previous state and the session's sums.

    ``row`` has ``session``, ``market_value``, ``reference_value``, ``dividends``
    and ``net_dividends`` (one row of :data:`SUMS`). Returns the new state and the
    row of :data:`r2k.schemas.LEVELS` (without the session).
    """
    divisor = row["reference_value"] / state.price_return
    pr = row["market_value"] / divisor
    points = row["dividends"] / divisor
    net_points = row["net_dividends"] / divisor
    growth = pr / state.price_return
    if convention == "reinvest":
        tr = state.total_return * (pr + points) / state.price_return
        ntr = state.net_total_return * (pr + net_points) / state.price_return
    else:
        tr = (state.total_return + points) * growth
        ntr = (state.net_total_return + net_points) * growth
    new = LevelState(
        session=row["session"], price_return=pr, total_return=tr, net_total_return=ntr
    )
    return new, {
        "market_value": row["market_value"],
        "divisor": divisor,
        "price_return": pr,
        "total_return": tr,
        "net_total_return": ntr,
        "dividend_points": points,
        "net_dividend_points": net_points,
    }
