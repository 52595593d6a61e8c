"""Canonical frames of r2k as Polars schemas, checked once at the boundary.

Every canonical frame is long: one row per entity (and per session where it has a
date). Dates are ``pl.Date``; prices, caps, weights and levels ``Float64``; share
counts ``Float64`` (sources publish fractional and scaled counts); volumes ``Int64``.
See ``docs/data-model.md`` for the meaning of every column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from r2k.errors import SchemaError

if TYPE_CHECKING:
    import numpy as np

SECURITIES = pl.Schema(
    {
        "security_id": pl.String,  # canonical ticker, e.g. "MOG.A"
        "ticker": pl.String,  # ticker as the source wrote it
        "name": pl.String,
        "company_id": pl.String,  # groups share classes of one company
        "share_class": pl.String,  # "A", "B", ... or null for a single class
        "security_type": pl.String,  # r2k._typing.SecurityType
        "exchange": pl.String,  # NYSE, NASDAQ, CBOE, NYSE AMERICAN, NYSE ARCA, OTC
        "country": pl.String,  # ISO-like country name when known, else null
        "sector": pl.String,
    }
)

MARKET = pl.Schema(
    {
        "session": pl.Date,  # the XNYS session whose close the row carries
        "security_id": pl.String,
        "name": pl.String,
        "close": pl.Float64,
        "volume": pl.Int64,
        "shares_outstanding": pl.Float64,  # total_market_cap / close
        "total_market_cap": pl.Float64,
        "sector": pl.String,
    }
)

HOLDINGS = pl.Schema(
    {
        "as_of": pl.Date,
        "fund": pl.String,  # "IWM", "IWV"
        "ticker": pl.String,
        "security_id": pl.String,
        "name": pl.String,
        "sector": pl.String,
        "asset_class": pl.String,
        "market_value": pl.Float64,
        "weight_pct": pl.Float64,
        "quantity": pl.Float64,
        "price": pl.Float64,
        "location": pl.String,
        "exchange": pl.String,
        "currency": pl.String,
    }
)

MEMBERSHIP_HISTORY = pl.Schema(
    {  # type: ignore[arg-type]  # polars' stub misses Datetime instances here
        "taken_at": pl.Datetime("us", "UTC"),
        "commit": pl.String,
        "ticker": pl.String,
        "security_id": pl.String,
        "name": pl.String,
        "weight_pct": pl.Float64,
        "market_value": pl.Float64,
    }
)

INDEX_LEVELS = pl.Schema(
    {
        "index": pl.String,  # "RUT", "RUA", "SPX"
        "session": pl.Date,
        "open": pl.Float64,
        "high": pl.Float64,
        "low": pl.Float64,
        "close": pl.Float64,
    }
)

SPLITS = pl.Schema(
    {
        "security_id": pl.String,
        "ex_date": pl.Date,
        "ratio_new": pl.Float64,
        "ratio_old": pl.Float64,
        "exchange": pl.String,
        "source": pl.String,
        "notes": pl.String,
    }
)

CORPORATE_ACTIONS = pl.Schema(
    {
        "security_id": pl.String,  # the line the action applies to (target, parent)
        "ex_date": pl.Date,  # first session the action is in effect (see below)
        "action": pl.String,  # r2k.maintenance.corporate_actions.ACTIONS
        "ratio": pl.Float64,  # new shares per old share (split, stock dividend),
        #   new shares per held share (rights), child shares per parent share
        #   (spin-off), acquirer shares per target share (merger)
        "amount": pl.Float64,  # USD per share: dividend, special dividend, rights
        #   subscription price, spin-off when-issued value, merger cash, removal price
        "other_id": pl.String,  # spin-off child, acquirer, new identifier
        "shares_outstanding": pl.Float64,  # share_change: new total shares
        "float_factor": pl.Float64,  # share_change: new float factor, null: unchanged
        "source": pl.String,
    }
)

SEC_TICKERS = pl.Schema(
    {
        "cik": pl.String,
        "ticker": pl.String,
        "security_id": pl.String,
        "exchange": pl.String,  # Nasdaq, NYSE, CBOE, OTC or null
        "name": pl.String,
    }
)

FLOAT_FACTORS = pl.Schema(
    {
        "security_id": pl.String,
        "as_of": pl.Date,  # first date the factor is known
        "float_factor": pl.Float64,  # fraction in (0, 1]
        "source": pl.String,  # "data" or "estimate:<method>"
    }
)

UNIVERSE = pl.Schema(
    {
        "security_id": pl.String,
        "company_id": pl.String,
        "name": pl.String,
        "sector": pl.String,
        "security_type": pl.String,  # r2k._typing.SecurityType
        "exchange": pl.String,  # null: listed, venue unknown (treated as eligible)
        "country": pl.String,  # null: unknown (not screened)
        "close": pl.Float64,  # rank-day close
        "avg_close_30d": pl.Float64,  # mean close over the 30 days before rank day
        "avg_volume": pl.Float64,  # mean daily share volume up to rank day
        "addtv": pl.Float64,  # mean daily dollar volume up to rank day
        "shares_outstanding": pl.Float64,  # the line's own shares; null: unknown
        "float_factor": pl.Float64,  # fraction in (0, 1]; null: no float data
        "voting_rights_pct": pl.Float64,  # unrestricted votes, %; null: unknown
    }
)

INCUMBENTS = pl.Schema(
    {
        "security_id": pl.String,  # a line of a current Russell 3000 member
        "r1000": pl.Boolean,  # True: Russell 1000, False: Russell 2000
        "top200": pl.Boolean,  # null: side unknown (assigned by rank)
        "top500": pl.Boolean,
        "microcap": pl.Boolean,  # below the #2,000 breakpoint
    }
)

#: A reconstitution's excluded lines and companies, with the first screen failed.
EXCLUSIONS = pl.Schema(
    {
        "security_id": pl.String,
        "company_id": pl.String,
        "name": pl.String,
        "stage": pl.String,  # "line", "company" or "post_rank"
        "exclusion_reason": pl.String,
    }
)
#: A reconstitution's adds, deletes and migrations (Russell 1000 / 2000 level).
CHANGES = pl.Schema(
    {
        "company_id": pl.String,
        "security_id": pl.String,
        "name": pl.String,
        "change": pl.String,  # add, delete, migrate_up, migrate_down
        "from_index": pl.String,  # R1000, R2000 or null
        "to_index": pl.String,
        "reason": pl.String,  # deletes: exclusion reason, "rank", "not_in_universe"
    }
)

MEMBERSHIP = pl.Schema(
    {
        "rank_day": pl.Date,
        "effective_date": pl.Date,
        "company_id": pl.String,
        "security_id": pl.String,  # one row per index line
        "is_pricing_vehicle": pl.Boolean,
        "name": pl.String,
        "sector": pl.String,
        "rank": pl.Int64,  # company rank by total market cap
        "total_market_cap": pl.Float64,  # company total market cap
        "cum_cap_pct": pl.Float64,  # cumulative percentile of the R3000E, in percent
        "close": pl.Float64,
        "shares_outstanding": pl.Float64,  # the line's shares; null: unknown
        "float_factor": pl.Float64,
        "float_source": pl.String,  # "data", "holdings", "fallback"
        "float_market_cap": pl.Float64,  # line shares x close x float factor
        "r3000e": pl.Boolean,
        "r3000": pl.Boolean,
        "r1000": pl.Boolean,
        "r2000": pl.Boolean,
        "microcap": pl.Boolean,
        "midcap": pl.Boolean,
        "top200": pl.Boolean,
        "r2500": pl.Boolean,
    }
)


def nulls(name: str, dtype: pl.DataType | type[pl.DataType], n: int) -> pl.Series:
    """A column of ``n`` nulls (made directly, not from a list or a query)."""
    return pl.Series(name, [None], dtype=dtype).new_from_index(0, n)


def null_mask(column: pl.Series) -> np.ndarray:
    """Where ``column`` is null, as a NumPy array.

    No query when the column has no null (``Series.is_null`` runs one, which can
    wait for Polars' thread pool while another thread's queries hold it).
    """
    if column.null_count() == 0:
        import numpy as np  # here: the everyday commands' imports stay light

        return np.zeros(column.len(), dtype=bool)
    mask: np.ndarray = column.is_null().to_numpy()
    return mask


def check_schema(
    frame: pl.DataFrame, schema: pl.Schema, *, source: str
) -> pl.DataFrame:
    """Return ``frame`` with exactly the columns of ``schema``, in order.

    Raises
    ------
    SchemaError
        If a column is missing or cannot be cast losslessly to its schema type.
        The message names ``source`` and the column.
    """
    missing = [name for name in schema.names() if name not in frame.columns]
    if missing:
        msg = (
            f"{source}: missing column(s) {', '.join(missing)}; "
            f"expected columns {', '.join(schema.names())}"
        )
        raise SchemaError(msg)
    out = []
    for name, dtype in schema.items():
        column = frame.get_column(name)
        if column.dtype != dtype:
            try:
                column = column.cast(dtype, strict=True)
            except (
                pl.exceptions.InvalidOperationError,
                pl.exceptions.ComputeError,
            ) as exc:
                msg = (
                    f"{source}: column {name!r} has type {frame.schema[name]} "
                    f"and cannot be read as {dtype}: {exc}"
                )
                raise SchemaError(msg) from None
        out.append(column)
    return pl.DataFrame(out)


# ------------------------------------------------------------ calculation

LEVELS = pl.Schema(
    {
        "session": pl.Date,
        "market_value": pl.Float64,  # sum(N P) at the close
        "divisor": pl.Float64,
        "price_return": pl.Float64,
        "total_return": pl.Float64,
        "net_total_return": pl.Float64,
        "dividend_points": pl.Float64,  # ID_t, gross
        "net_dividend_points": pl.Float64,
    }
)

CONSTITUENTS = pl.Schema(
    {
        "session": pl.Date,
        "security_id": pl.String,
        "index_shares": pl.Float64,  # N during the session (opening)
        "closing_index_shares": pl.Float64,  # N after the close's changes; 0: leaves
        "float_factor": pl.Float64,
        "reference_price": pl.Float64,  # adjusted previous close (P_ref)
        "close": pl.Float64,  # the index's close (terms price on a merger exit)
        "price_carried": pl.Boolean,  # no market price: the last one is carried
        "dividend": pl.Float64,  # ordinary cash dividend ex on the session
        "opening_weight": pl.Float64,  # N P_ref / sum(N P_ref)
        "closing_weight": pl.Float64,  # N P / sum(N P)
    }
)
EVENTS = pl.Schema(
    {
        "session": pl.Date,  # first session the change is in the index
        "security_id": pl.String,
        "action": pl.String,  # corporate action, or addition/deletion/update kind
        "timing": pl.String,  # "open": before the session; "close": after it
        "index_shares_before": pl.Float64,
        "index_shares_after": pl.Float64,
        "price": pl.Float64,  # the price the change used (reference or exit price)
        "detail": pl.String,
    }
)
STATE_LINES = pl.Schema(
    {
        "security_id": pl.String,
        "shares": pl.Float64,
        "float_factor": pl.Float64,
        "last_close": pl.Float64,
        "missing_run": pl.Int64,
    }
)
