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

Decomposition
-------------
Over any period, with ``r_usd`` the index's return in dollars and ``r_fx`` the
return of the target-currency price of one dollar (``fx[t] / fx[t-1] - 1`` with
``fx`` in target units per dollar: positive when the dollar strengthens),
:func:`decompose_returns` splits the return in the target currency into
``usd_return + currency_return + cross_term`` with ``cross_term = r_usd *
r_fx``. The local return is *defined* as that sum, so the three parts add up to
it exactly (bit for bit); it equals the ratio of converted levels, ``(1 +
r_usd) * (1 + r_fx) - 1``, to rounding.

Quote direction from the column name
------------------------------------
A pair column ``BASEQUOTE`` holds units of the quote currency per unit of the
base: :func:`usd_quote` reads ``EURUSD`` as ``"usd_per_target"`` for EUR and
``USDJPY`` as ``"target_per_usd"`` for JPY, and refuses a column that does not
pair the currency with USD (``EURJPY``) or is not a pair at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from r2k._typing import FxQuote, MissingFx
from r2k.analytics._inputs import (
    ArrayInput,
    check_choice,
    check_period,
    nan_array,
    parse,
    parse_aligned,
    require_columns,
)
from r2k.errors import MethodologyError, MissingDataError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "FX_QUOTES",
    "MISSING_FX",
    "USD",
    "CurrencyVersion",
    "FxPair",
    "FxQuote",
    "MissingFx",
    "ReturnDecomposition",
    "check_currency",
    "convert_levels",
    "currency_version",
    "decompose_return",
    "decompose_returns",
    "isolated_spikes",
    "parse_pair",
    "usd_pairs",
    "usd_quote",
]

FX_QUOTES: tuple[FxQuote, ...] = ("target_per_usd", "usd_per_target")
MISSING_FX: tuple[MissingFx, ...] = ("error", "ffill")

_FX = "_fx_rate"


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
    require_columns(levels, "`levels`", ["session", *names])
    require_columns(fx, "`fx`", ["session", "rate"])
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


# ------------------------------------------------------------ quote direction

USD = "USD"
"""The currency the indexes are calculated in."""

_PAIR = re.compile(r"([A-Z]{3})([A-Z]{3})")


@dataclass(frozen=True, slots=True)
class FxPair:
    """A pair column ``BASEQUOTE``: units of ``quote`` per one unit of ``base``."""

    column: str
    base: str
    quote: str


def parse_pair(column: str) -> FxPair | None:
    """The pair a column name stands for, or ``None`` if it is not a pair name.

    Examples
    --------
    >>> parse_pair("EURUSD")
    FxPair(column='EURUSD', base='EUR', quote='USD')
    >>> parse_pair("DXY") is None
    True
    """
    match = _PAIR.fullmatch(column)
    if match is None or match.group(1) == match.group(2):
        return None
    return FxPair(column=column, base=match.group(1), quote=match.group(2))


def usd_quote(column: str, currency: str) -> FxQuote:
    """The quote direction of ``column`` for ``currency``, read from the name.

    Parameters
    ----------
    column : str
        A pair column name (``"EURUSD"``, ``"USDJPY"``).
    currency : str
        The target currency (``"EUR"``).

    Returns
    -------
    {"target_per_usd", "usd_per_target"}
        ``"usd_per_target"`` for ``<CCY>USD`` (dollars per unit of the target),
        ``"target_per_usd"`` for ``USD<CCY>``.

    Raises
    ------
    MethodologyError
        If ``column`` is not a pair name, or does not pair ``currency`` with USD.

    Examples
    --------
    >>> usd_quote("EURUSD", "EUR"), usd_quote("USDJPY", "JPY")
    ('usd_per_target', 'target_per_usd')
    """
    pair = parse_pair(column)
    if pair is None:
        msg = (
            f"column {column!r} is not a currency pair name: name it BASEQUOTE "
            "(EURUSD is US dollars per euro, USDJPY is yen per dollar)"
        )
        raise MethodologyError(msg)
    if (pair.base, pair.quote) == (currency, USD):
        return "usd_per_target"
    if (pair.base, pair.quote) == (USD, currency):
        return "target_per_usd"
    msg = (
        f"column {column!r} does not pair {currency} with USD; use {currency}USD "
        f"or USD{currency}"
    )
    raise MethodologyError(msg)


def usd_pairs(columns: Iterable[str]) -> dict[str, tuple[str, FxQuote]]:
    """Every currency that a column pairs with USD: ``{currency: (column, quote)}``.

    Columns that are not pairs (``DXY``) or do not involve USD (``EURJPY``)
    are left out.

    Raises
    ------
    MethodologyError
        If two columns quote the same currency against USD (``EURUSD`` and
        ``USDEUR``): which one to use would be a guess.

    Examples
    --------
    >>> usd_pairs(["DXY", "EURUSD", "USDJPY", "EURJPY"])
    {'EUR': ('EURUSD', 'usd_per_target'), 'JPY': ('USDJPY', 'target_per_usd')}
    """
    found: dict[str, tuple[str, FxQuote]] = {}
    for column in columns:
        pair = parse_pair(column)
        if pair is None or USD not in (pair.base, pair.quote):
            continue
        currency = pair.quote if pair.base == USD else pair.base
        if currency in found:
            msg = (
                f"columns {found[currency][0]!r} and {column!r} both quote "
                f"{currency} against USD; keep one"
            )
            raise MethodologyError(msg)
        found[currency] = (column, usd_quote(column, currency))
    return found


def check_currency(currency: str, available: Iterable[str]) -> str:
    """``currency`` upper-cased if it is among ``available``, else a clear error.

    Raises
    ------
    MissingDataError
        If there is no exchange rate for it.
    """
    code = currency.strip().upper()
    choices = sorted(available)
    if code not in choices:
        msg = (
            f"no exchange rate between USD and {currency!r}; currencies with data: "
            f"{', '.join(choices) or 'none'}"
        )
        raise MissingDataError(msg)
    return code


# ------------------------------------------------------------- decomposition


@dataclass(frozen=True, slots=True)
class ReturnDecomposition:
    """A return in the target currency split into its parts (fractions).

    ``local_return == usd_return + currency_return + cross_term`` exactly.
    """

    usd_return: float
    currency_return: float
    cross_term: float
    local_return: float


def decompose_return(
    usd_start: float, usd_end: float, fx_start: float, fx_end: float
) -> ReturnDecomposition:
    """Split the return between two dates into dollar, currency and cross parts.

    Parameters
    ----------
    usd_start, usd_end : float
        Index levels in dollars (positive).
    fx_start, fx_end : float
        Exchange rates in units of the target currency per dollar (positive).

    Returns
    -------
    ReturnDecomposition
        ``usd_return = usd_end / usd_start - 1``, ``currency_return = fx_end /
        fx_start - 1``, ``cross_term`` their product, ``local_return`` the sum
        of the three.

    Examples
    --------
    >>> d = decompose_return(100.0, 110.0, 0.90, 0.945)  # +10%, dollar +5%
    >>> round(d.cross_term, 6), round(d.local_return, 6)
    (0.005, 0.155)
    """
    values = np.array([usd_start, usd_end, fx_start, fx_end], dtype=np.float64)
    if not (np.isfinite(values).all() and (values > 0.0).all()):
        msg = f"levels and rates must be positive finite numbers; got {values.tolist()}"
        raise SchemaError(msg)
    r_usd = float(usd_end / usd_start - 1.0)
    r_fx = float(fx_end / fx_start - 1.0)
    cross = r_usd * r_fx
    return ReturnDecomposition(r_usd, r_fx, cross, r_usd + r_fx + cross)


def decompose_returns(
    usd_levels: ArrayInput, fx_target_per_usd: ArrayInput
) -> pl.DataFrame:
    """Per-period decomposition of the return in the target currency.

    Parameters
    ----------
    usd_levels : array-like or pl.Series
        Index levels in dollars, one per session (positive).
    fx_target_per_usd : array-like or pl.Series
        The exchange rate on the same sessions, units of the target currency
        per dollar (positive).

    Returns
    -------
    pl.DataFrame
        ``usd_return``, ``currency_return``, ``cross_term`` and
        ``local_return`` (their sum), aligned with the inputs: the first row,
        and rows before both series start, are null.

    Examples
    --------
    >>> d = decompose_returns([100.0, 110.0], [0.90, 0.945])
    >>> [round(v, 6) for v in d.row(1)]
    [0.1, 0.05, 0.005, 0.155]
    """
    (lv, fx), start = parse_aligned(
        {"usd_levels": usd_levels, "fx_target_per_usd": fx_target_per_usd},
        positive=("usd_levels", "fx_target_per_usd"),
    )
    r_usd, r_fx = nan_array(lv.size), nan_array(lv.size)
    if lv.size - start > 1:
        r_usd[start + 1 :] = lv[start + 1 :] / lv[start:-1] - 1.0
        r_fx[start + 1 :] = fx[start + 1 :] / fx[start:-1] - 1.0
    cross = r_usd * r_fx
    local = r_usd + r_fx + cross
    return pl.DataFrame(
        {
            "usd_return": r_usd,
            "currency_return": r_fx,
            "cross_term": cross,
            "local_return": local,
        }
    ).fill_nan(None)


def isolated_spikes(values: ArrayInput, *, threshold: float) -> npt.NDArray[np.bool_]:
    """Flag single-day spikes: a value far from the values on both sides of it.

    Walking forward from the first value, ``x[t]`` is a spike when it is more
    than ``threshold`` away from ``p``, the last value not flagged
    (``|x[t] / p - 1| > threshold``), the next value jumps back by more than
    ``threshold`` the other way, and that next value is within ``threshold`` of
    ``p``: a one-day jump that reverts (a bad print), not a move that lasts.
    The first and last values are never flagged.

    Parameters
    ----------
    values : array-like or pl.Series
        Positive values (exchange rates) without gaps after the first.
    threshold : float
        Relative jump, as a fraction (0.08 is 8%), in (0, 1).

    Returns
    -------
    np.ndarray of bool
        ``True`` where a spike is (same length as ``values``).

    Examples
    --------
    >>> isolated_spikes([18.9, 16.5, 18.8, 15.4, 18.7, 18.5], threshold=0.08).tolist()
    [False, True, False, True, False, False]
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        msg = f"`threshold` must be a number; got {threshold!r}"
        raise MethodologyError(msg)
    if not 0.0 < float(threshold) < 1.0:
        msg = f"`threshold` must be a fraction in (0, 1), e.g. 0.08; got {threshold}"
        raise MethodologyError(msg)
    x, start = parse(values, "values", positive=True)
    out = np.zeros(x.size, dtype=np.bool_)
    if x.size - start < 3:
        return out
    last = x[start]
    for t in range(start + 1, x.size - 1):
        jump = x[t] / last - 1.0
        back = x[t + 1] / x[t] - 1.0
        if (
            abs(jump) > threshold
            and abs(back) > threshold
            and np.sign(jump) != np.sign(back)
            and abs(x[t + 1] / last - 1.0) <= threshold
        ):
            out[t] = True
        else:
            last = x[t]
    return out
    prev, mid, nxt = x[start:-2], x[start + 1 : -1], x[start + 2 :]
    up = mid / prev - 1.0
    back = nxt / mid - 1.0
    flagged = (
        (np.abs(up) > threshold)
        & (np.abs(back) > threshold)
        & (np.sign(up) != np.sign(back))
        & (np.abs(nxt / prev - 1.0) <= threshold)
    )
    out[start + 1 : -1] = flagged
    return out


# ------------------------------------------------------------ currency version


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyVersion:
    """An index in another currency over the window the FX data cover.

    Attributes
    ----------
    name : str
        The index (``"RUT"``).
    currency : str
        The target currency (``"EUR"``).
    column : str
        The FX column used (``"EURUSD"``).
    quote : {"target_per_usd", "usd_per_target"}
        Its direction, read from the name.
    start, end : date
        First and last session (the first with an FX value on its own date).
    sessions : int
        Sessions in the window.
    filled : int
        Sessions whose rate was carried from an earlier session (at most
        ``fill_limit`` in a row).
    fill_limit : int
        The limit used.
    repaired : tuple of date
        FX values treated as missing (isolated one-day spikes).
    periods_per_year : float
        Used to annualise the volatility.
    decomposition : ReturnDecomposition
        The window's return split into dollar, currency and cross parts.
    usd_volatility, local_volatility : float
        Annualised volatility of daily returns (``ddof=1``), in dollars and in
        the target currency (fractions).
    usd_max_drawdown, local_max_drawdown : float
        Deepest fall from a running high in each (negative fractions).
    levels : pl.DataFrame
        ``session``, ``usd`` (the index in dollars), ``fx_target_per_usd``,
        ``fx_filled`` and ``local`` (the index in the target currency, starting
        at the same number as ``usd``).
    """

    name: str
    currency: str
    column: str
    quote: FxQuote
    start: date
    end: date
    sessions: int
    filled: int
    fill_limit: int
    repaired: tuple[date, ...]
    periods_per_year: float
    decomposition: ReturnDecomposition
    usd_volatility: float
    local_volatility: float
    usd_max_drawdown: float
    local_max_drawdown: float
    levels: pl.DataFrame

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        """JSON-ready values (ISO dates, NaN as ``None``); levels if ``series``."""
        d = self.decomposition
        out: dict[str, Any] = {
            "name": self.name,
            "currency": self.currency,
            "fx_column": self.column,
            "fx_quote": self.quote,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "sessions": self.sessions,
            "fx_filled_sessions": self.filled,
            "fill_limit_sessions": self.fill_limit,
            "fx_repaired": [day.isoformat() for day in self.repaired],
            "periods_per_year": self.periods_per_year,
            "usd_return": _finite(d.usd_return),
            "currency_return": _finite(d.currency_return),
            "cross_term": _finite(d.cross_term),
            "local_return": _finite(d.local_return),
            "usd_volatility": _finite(self.usd_volatility),
            "local_volatility": _finite(self.local_volatility),
            "usd_max_drawdown": _finite(self.usd_max_drawdown),
            "local_max_drawdown": _finite(self.local_max_drawdown),
        }
        if series:
            out["levels"] = [
                {
                    k: (v.isoformat() if isinstance(v, date) else v)
                    for k, v in row.items()
                }
                for row in self.levels.to_dicts()
            ]
        return out


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def currency_version(
    levels: pl.DataFrame,
    fx: pl.DataFrame,
    *,
    currency: str,
    column: str,
    name: str = "index",
    fill_limit: int = 5,
    periods_per_year: float = 252,
    repaired: Sequence[date] = (),
) -> CurrencyVersion:
    """The index in ``currency``: levels, returns, volatility, drawdown, decomposition.

    The window starts at the first session of ``levels`` that has a rate on its
    own date and ends at the last session of ``levels`` not after the last
    rate; a session without a rate takes the last earlier one, at most
    ``fill_limit`` sessions in a row (see :func:`convert_levels`).

    Parameters
    ----------
    levels : pl.DataFrame
        ``session`` and ``level`` in dollars.
    fx : pl.DataFrame
        ``session`` and ``rate``: the values of ``column``.
    currency : str
        Target currency (``"EUR"``).
    column : str
        The pair the rates are (``"EURUSD"``); the quote direction is read from
        it with :func:`usd_quote`.
    name : str, default "index"
        Label of the index.
    fill_limit : int, default 5
        Longest run of sessions carried forward.
    periods_per_year : float, default 252
        Sessions a year, to annualise the volatility.
    repaired : sequence of date, default ()
        FX dates the caller treated as missing (reported, not used here).

    Returns
    -------
    CurrencyVersion

    Raises
    ------
    MissingDataError
        If the rates and the levels share fewer than two sessions.
    SchemaError, MethodologyError
        As :func:`convert_levels`.
    """
    from r2k.analytics.drawdown import max_drawdown
    from r2k.analytics.returns import simple_returns
    from r2k.analytics.risk import annualized_volatility

    quote = usd_quote(column, currency)
    require_columns(levels, "`levels`", ["session", "level"])
    require_columns(fx, "`fx`", ["session", "rate"])
    rates = fx.select("session", "rate").drop_nulls("rate").sort("session")
    if rates.height == 0:
        msg = f"{column} has no rate: no {currency} version of {name}"
        raise MissingDataError(msg)
    first_rate: date = rates.item(0, "session")
    last_rate: date = rates.item(-1, "session")
    own = levels.select("session", "level").join(
        rates.select("session"), on="session", how="semi"
    )
    own = own.filter(pl.col("session") >= first_rate)
    if own.height == 0:
        msg = (
            f"{name} has no session with a {column} rate on its own date "
            f"({first_rate} .. {last_rate}): no {currency} version"
        )
        raise MissingDataError(msg)
    start: date = own.sort("session").item(0, "session")
    window = levels.select("session", "level").filter(
        pl.col("session").is_between(start, last_rate)
    )
    if window.height < 2:
        msg = (
            f"{name} and {column} share {window.height} session(s) "
            f"({first_rate} .. {last_rate}); a {currency} version needs two"
        )
        raise MissingDataError(msg)
    converted = convert_levels(
        window,
        rates,
        fx_quote=quote,
        columns=("level",),
        missing_fx="ffill",
        fill_limit=fill_limit,
    )
    out = window.sort("session").select(
        "session",
        pl.col("level").cast(pl.Float64).alias("usd"),
        converted.get_column("fx_target_per_usd"),
        converted.get_column("fx_filled"),
        converted.get_column("level").alias("local"),
    )
    usd, fxr, local = (out.get_column(c) for c in ("usd", "fx_target_per_usd", "local"))
    ppy = float(periods_per_year)
    return CurrencyVersion(
        name=name,
        currency=currency,
        column=column,
        quote=quote,
        start=out.get_column("session")[0],
        end=out.get_column("session")[-1],
        sessions=out.height,
        filled=int(out.get_column("fx_filled").sum()),
        fill_limit=fill_limit,
        repaired=tuple(repaired),
        periods_per_year=ppy,
        decomposition=decompose_return(
            float(usd[0]), float(usd[-1]), float(fxr[0]), float(fxr[-1])
        ),
        usd_volatility=annualized_volatility(
            simple_returns(usd), periods_per_year=ppy, ddof=1
        ),
        local_volatility=annualized_volatility(
            simple_returns(local), periods_per_year=ppy, ddof=1
        ),
        usd_max_drawdown=max_drawdown(usd),
        local_max_drawdown=max_drawdown(local),
        levels=out,
    )
