"""An index expressed in another currency, from a user-supplied exchange rate.

The Russell 2000 is a US-dollar index. Its value to an investor who counts in
another currency (the *target*, e.g. EUR) moves with the index and with the
dollar: with ``fx[t]`` units of the target currency per US dollar,

    ``level_ccy[t] = level[t] * fx[t] / fx[0] * base / level[0]``

so the return in the target currency is ``(1 + r_usd) * (1 + r_fx) - 1``: an
index up 10% while the dollar gains 5% against the target is up 15.5% in it.
The same conversion applies to a price index and to a total-return index (pass
each as a column); it is an unhedged conversion, with no hedging cost or carry.

Quote direction
---------------
Exchange rates are quoted both ways, so the direction is a required parameter:
``fx_quote="target_per_usd"`` for units of the target currency per dollar
(USD/JPY 150, USD/CHF 0.88), ``fx_quote="usd_per_target"`` for dollars per unit
of the target (EUR/USD 1.08, GBP/USD 1.27), which is inverted first.

Alignment
---------
Rates are matched to index sessions by date (FX rates on dates that are not
index sessions, such as US holidays, are not used). An index session without a
rate (a holiday of the other market, a missing fixing) either raises
(``missing_fx="error"``, the default: nothing is filled silently) or takes the
last earlier rate (``missing_fx="ffill"``), at most ``fill_limit`` sessions in a
row; the first session must have a rate, since every level is relative to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
import polars as pl

from r2k.analytics._inputs import check_choice, check_period
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "FX_QUOTES",
    "MISSING_FX",
    "FxQuote",
    "MissingFx",
    "convert_levels",
]

FxQuote: TypeAlias = Literal["target_per_usd", "usd_per_target"]
FX_QUOTES: tuple[FxQuote, ...] = ("target_per_usd", "usd_per_target")
MissingFx: TypeAlias = Literal["error", "ffill"]
MISSING_FX: tuple[MissingFx, ...] = ("error", "ffill")

_FX = "_fx_rate"


def _need_columns(frame: pl.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"`{name}` lacks column(s) {missing}; it has {frame.columns}. "
            f"Pass a frame with {list(columns)}"
        )
        raise SchemaError(msg)


def _check_sessions(frame: pl.DataFrame, name: str) -> None:
    sessions = frame.get_column("session")
    if sessions.null_count():
        msg = f"`{name}` has a missing session; drop that row"
        raise SchemaError(msg)
    if not sessions.is_unique().all():
        day = sessions.filter(sessions.is_duplicated())[0]
        msg = f"`{name}` has session {day} more than once; keep one row per session"
        raise SchemaError(msg)


def _check_positive(frame: pl.DataFrame, name: str, column: str) -> None:
    values = frame.get_column(column)
    if not values.dtype.is_numeric():
        msg = f"`{name}` column {column!r} must be numeric; got {values.dtype}"
        raise SchemaError(msg)
    x = values.cast(pl.Float64).to_numpy()
    bad = ~(np.isfinite(x) & (x > 0.0))
    if bad.any():
        pos = int(np.argmax(bad))
        day = frame.item(pos, "session")
        msg = (
            f"`{name}` column {column!r} holds {x[pos]} on {day}; it must be a "
            "positive finite number (drop the row if the value is unknown)"
        )
        raise SchemaError(msg)


def _check_base(base: object) -> float | None:
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(
        base, int | float | np.integer | np.floating
    ):
        msg = f"`base` must be a number or None; got {base!r}"
        raise MethodologyError(msg)
    value = float(base)
    if not (np.isfinite(value) and value > 0.0):
        msg = f"`base` must be a positive finite level (e.g. 100) or None; got {base!r}"
        raise MethodologyError(msg)
    return value


def convert_levels(
    levels: pl.DataFrame,
    fx: pl.DataFrame,
    *,
    fx_quote: FxQuote,
    columns: Sequence[str] = ("close",),
    base: float | None = None,
    missing_fx: MissingFx = "error",
    fill_limit: int = 5,
) -> pl.DataFrame:
    """Express US-dollar index levels in another currency.

    Parameters
    ----------
    levels : pl.DataFrame
        ``session`` (unique, any order) and the level columns named in
        ``columns``, strictly positive (e.g. a :data:`~r2k.schemas.INDEX_LEVELS`
        frame, or a total-return series).
    fx : pl.DataFrame
        ``session`` (unique) and ``rate``: the exchange rate at each date, in
        the direction given by ``fx_quote``.
    fx_quote : {"target_per_usd", "usd_per_target"}
        ``"target_per_usd"``: ``rate`` is units of the target currency per US
        dollar (USD/JPY); ``"usd_per_target"``: US dollars per unit of the
        target (EUR/USD), inverted before use.
    columns : sequence of str, default ("close",)
        Level columns to convert, e.g. ``("open", "high", "low", "close")`` or
        a price and a total-return column.
    base : float, optional
        ``None`` (default): the converted series starts at the same number as
        the dollar series (``level[t] * fx[t] / fx[0]``), so the two can be
        plotted together. A number: each converted column starts at ``base``
        (``base * level[t] / level[0] * fx[t] / fx[0]``).
    missing_fx : {"error", "ffill"}, default "error"
        What to do with a session that has no rate: raise, or use the last
        earlier rate (at most ``fill_limit`` sessions in a row).
    fill_limit : int, default 5
        Longest run of sessions filled with ``missing_fx="ffill"`` (>= 1): a
        week of the other market's holidays, not a stale series.

    Returns
    -------
    pl.DataFrame
        One row per session of ``levels``, sorted: ``session``,
        ``fx_target_per_usd`` (the rate used), ``fx_filled`` (``True`` where it
        was carried forward) and each column of ``columns``, converted (the
        first session is the reference: its rate is ``fx[0]``).

    Raises
    ------
    SchemaError
        If a column is missing, a session repeats, a level or rate is not
        positive, or a session has no rate (with ``missing_fx="error"``, or
        beyond ``fill_limit``, or on the first session).
    MethodologyError
        If ``fx_quote``, ``missing_fx``, ``fill_limit`` or ``base`` is not valid.

    Examples
    --------
    >>> from datetime import date
    >>> usd = pl.DataFrame({"session": [date(2024, 1, 2), date(2024, 1, 3)],
    ...                     "close": [100.0, 110.0]})
    >>> eur_per_usd = pl.DataFrame({"session": usd["session"], "rate": [0.90, 0.945]})
    >>> out = convert_levels(usd, eur_per_usd, fx_quote="target_per_usd")
    >>> out.get_column("close").round(6).to_list()  # +10% and +5%: +15.5%
    [100.0, 115.5]
    """
    quote = check_choice(fx_quote, "fx_quote", FX_QUOTES)
    policy = check_choice(missing_fx, "missing_fx", MISSING_FX)
    limit = check_period(fill_limit, "fill_limit")
    start = _check_base(base)
    if isinstance(columns, str):
        msg = (
            f"`columns` must be a sequence of column names; got the string {columns!r}"
        )
        raise MethodologyError(msg)
    names = list(columns)
    if not names or "session" in names:
        msg = f"`columns` must name level columns other than 'session'; got {names}"
        raise MethodologyError(msg)
    _need_columns(levels, "levels", ["session", *names])
    _need_columns(fx, "fx", ["session", "rate"])
    if levels.height == 0:
        msg = "`levels` is empty; pass at least one session"
        raise SchemaError(msg)
    _check_sessions(levels, "levels")
    _check_sessions(fx, "fx")
    for name in names:
        _check_positive(levels, "levels", name)
    _check_positive(fx, "fx", "rate")

    rate = pl.col("rate").cast(pl.Float64)
    target = rate if quote == "target_per_usd" else 1.0 / rate
    if fx.schema["session"] != levels.schema["session"]:
        msg = (
            f"`fx` sessions are {fx.schema['session']} but `levels` sessions are "
            f"{levels.schema['session']}; cast one to the other's type"
        )
        raise SchemaError(msg)
    rates = fx.select("session", target.alias(_FX))
    joined = (
        levels.select("session", *names)
        .sort("session")
        .join(rates, on="session", how="left")
        .with_columns(fx_filled=pl.col(_FX).is_null())
    )
    if policy == "ffill":
        joined = joined.with_columns(
            pl.col(_FX).fill_null(strategy="forward", limit=limit)
        )
    gaps = joined.filter(pl.col(_FX).is_null()).get_column("session")
    if gaps.len():
        first = joined.item(0, "session")
        if gaps[0] == first:
            how = "give the first session a rate, or start `levels` later"
        elif policy == "error":
            how = "add the rates, or pass missing_fx='ffill' to carry the last one"
        else:
            how = f"add the rates, or raise fill_limit (now {limit})"
        shown = ", ".join(str(d) for d in gaps.head(3))
        msg = f"no FX rate for {gaps.len()} session(s) of `levels` ({shown}...); {how}"
        raise SchemaError(msg)
    fx_ratio = pl.col(_FX) / pl.col(_FX).first()
    converted = [
        (
            pl.col(n).cast(pl.Float64) * fx_ratio
            if start is None
            else start * pl.col(n).cast(pl.Float64) / pl.col(n).first() * fx_ratio
        ).alias(n)
        for n in names
    ]
    return joined.select(
        "session",
        pl.col(_FX).alias("fx_target_per_usd"),
        "fx_filled",
        *converted,
    )
