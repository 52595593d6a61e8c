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
change once), never also as ``d``. Both modes below compute the same numbers:
:func:`calculate_levels` over a whole history at once (vectorised, one pass over
per-session sums), :func:`next_session_levels` one session from the stored state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from r2k import schemas
from r2k.errors import SchemaError

if TYPE_CHECKING:
    from datetime import date

TotalReturnConvention = Literal["reinvest", "points"]
DEFAULT_WITHHOLDING = 0.30

CONSTITUENT_COLUMNS = pl.Schema(
    {
        "session": pl.Date,
        "security_id": pl.String,
        "index_shares": pl.Float64,  # N, held during the session
        "close": pl.Float64,  # P
        "reference_price": pl.Float64,  # P_ref; null on the base session
        "dividend": pl.Float64,  # ordinary cash dividend per share, ex on session
        "withholding_rate": pl.Float64,  # null: the calculation's default
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelState:
    """Everything the next session needs: the last levels."""

    session: date
    price_return: float
    total_return: float
    net_total_return: float


def divisor_after_change(
    old_divisor: float, value_before: float, value_after: float
) -> float:
    """Divisor that keeps the level unchanged through a change (spec §11.2).

    ``value_before`` and ``value_after`` are the index market values at the same
    reference prices before and after the change.

    Examples
    --------
    methodology.md D1: delete C, add D after the close of day 2:

    >>> round(divisor_after_change(1_500_000.0, 149_500_000.0, 166_000_000.0), 6)
    1665551.839465
    """
    return old_divisor * value_after / value_before


def session_sums(
    constituents: pl.DataFrame, *, withholding_rate: float = DEFAULT_WITHHOLDING
) -> pl.DataFrame:
    """Per-session market values and dividend sums (the only per-line work)."""
    missing = [c for c in CONSTITUENT_COLUMNS.names() if c not in constituents.columns]
    if missing:
        msg = f"constituents: missing column(s) {', '.join(missing)}"
        raise SchemaError(msg)
    n = pl.col("index_shares")
    tau = pl.col("withholding_rate").fill_null(withholding_rate)
    dividend = pl.col("dividend").fill_null(0.0)
    return (
        constituents.group_by("session")
        .agg(
            market_value=(n * pl.col("close")).sum(),
            reference_value=(n * pl.col("reference_price")).sum(),
            has_reference=pl.col("reference_price").is_not_null().all(),
            dividends=(n * dividend).sum(),
            net_dividends=(n * dividend * (1.0 - tau)).sum(),
        )
        .sort("session")
    )


def calculate_levels(
    constituents: pl.DataFrame,
    *,
    base_value: float = 100.0,
    withholding_rate: float = DEFAULT_WITHHOLDING,
    convention: TotalReturnConvention = "reinvest",
) -> pl.DataFrame:
    """Levels of the whole history at once (batch mode).

    The first session is the base: every level equals ``base_value`` at its close.
    Returns :data:`schemas.LEVELS`, one row per session.
    """
    sums = session_sums(constituents, withholding_rate=withholding_rate)
    if sums.height == 0:
        return pl.DataFrame(schema=schemas.LEVELS)
    later = sums.slice(1)
    if not later["has_reference"].all():
        bad = later.filter(~pl.col("has_reference"))["session"][0]
        msg = f"constituents: a line on {bad} has no reference price (previous close)"
        raise SchemaError(msg)
    mv = sums["market_value"].to_numpy()
    ref = sums["reference_value"].to_numpy()
    div = sums["dividends"].to_numpy()
    net = sums["net_dividends"].to_numpy()
    growth = np.ones(len(mv))
    growth[1:] = mv[1:] / ref[1:]
    pr = base_value * np.cumprod(growth)
    divisor = np.empty(len(mv))
    divisor[0] = mv[0] / base_value
    divisor[1:] = ref[1:] / pr[:-1]
    points = div / divisor
    net_points = net / divisor
    points[0] = net_points[0] = 0.0  # the base session has no return
    tr = total_return_levels(pr, points, base_value, convention)
    ntr = total_return_levels(pr, net_points, base_value, convention)
    return pl.DataFrame(
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


def next_session_levels(
    state: LevelState,
    constituents: pl.DataFrame,
    *,
    withholding_rate: float = DEFAULT_WITHHOLDING,
    convention: TotalReturnConvention = "reinvest",
) -> tuple[LevelState, dict[str, float]]:
    """Levels of one session from the previous state (incremental mode).

    ``constituents`` holds the lines of that one session. Returns the new state
    and the row of :data:`schemas.LEVELS` (without the session).
    """
    sums = session_sums(constituents, withholding_rate=withholding_rate)
    if sums.height != 1:
        msg = f"constituents: expected one session, got {sums.height}"
        raise SchemaError(msg)
    row = sums.row(0, named=True)
    if not row["has_reference"]:
        msg = f"constituents: a line on {row['session']} has no reference price"
        raise SchemaError(msg)
    if row["session"] <= state.session:
        msg = f"session {row['session']} is not after the state's {state.session}"
        raise SchemaError(msg)
    return levels_from_sums(state, row, convention=convention)


def levels_from_sums(
    state: LevelState,
    row: dict[str, Any],
    *,
    convention: TotalReturnConvention = "reinvest",
) -> tuple[LevelState, dict[str, float]]:
    """One session's levels from the previous state and the session's sums.

    ``row`` has ``session``, ``market_value``, ``reference_value``, ``dividends``
    and ``net_dividends`` (one row of :func:`session_sums`).
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
