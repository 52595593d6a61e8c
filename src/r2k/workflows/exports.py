"""Tables people take away: an index's constituents on a session, a rank day's changes.

Both ``r2k export`` and the REST API (:mod:`r2k.api`) use these functions.

* :func:`constituents_table`: the lines of an index of the family during one
  session, with their closing weights, names, sectors and company caps. They come
  from a calculation: the store's ``constituents`` table when it holds that index
  and session (``r2k calculate``), else a calculation made here with
  :func:`r2k.workflows.real_index.calculate_real` (``weights="r2k"``; the Russell
  2000 from the market panel's first session, any other index from r2k's own
  reconstitution on the effective date on or before the session).
* :func:`changes_table`: the adds, deletes and migrations of a reconstitution
  (:func:`r2k.workflows.pipeline.run_reconstitution`).
* :func:`write_table`: CSV, Parquet or JSON (an array of records), written
  atomically.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.data.sources.panel import read_market_panel
from r2k.data.store import Store
from r2k.errors import MissingDataError
from r2k.names import clean_name, clean_names

if TYPE_CHECKING:
    from pathlib import Path

    from r2k._typing import IndexCode
    from r2k.data.datadir import DataDir

__all__ = [
    "CONSTITUENT_COLUMNS",
    "calculation_name",
    "changes_table",
    "clean_name",
    "clean_names",
    "constituents_table",
    "describe_constituents",
]

CONSTITUENT_COLUMNS: Final = pl.Schema(
    {
        "session": pl.Date,
        "security_id": pl.String,
        "name": pl.String,
        "sector": pl.String,
        "weight": pl.Float64,  # closing weight, a fraction (sums to 1)
        "index_shares": pl.Float64,
        "closing_index_shares": pl.Float64,
        "float_factor": pl.Float64,
        "close": pl.Float64,
        "float_market_cap": pl.Float64,  # index shares x close
        "total_market_cap": pl.Float64,  # company total cap (panel); null if absent
        "price_carried": pl.Boolean,
    }
)
"""Columns of :func:`constituents_table`, largest weight first."""


def calculation_name(index: IndexCode, weights: str = "r2k") -> str:
    """Name of a calculation in the store (``r2000-r2k``, ``r1000-r2k``, ...)."""
    return f"{index}-{weights}"


def _stored(
    store: Path | None, name: str, session: date
) -> tuple[pl.DataFrame, str] | None:
    """The store's constituents of ``name`` on ``session``, if it has them."""
    if store is None or not store.is_file():
        return None
    with Store(store) as db:
        frame = db.constituents(name, session)
    if frame.height == 0:
        return None
    return frame, f"store {store.name}: {name}"


def _calculated(
    data: DataDir, index: IndexCode, session: date, market: pl.DataFrame
) -> tuple[pl.DataFrame, str]:
    from r2k.workflows.real_index import calculate_real

    sessions = market.get_column("session")
    first = sessions.min()
    assert isinstance(first, date)
    start = first if index == "r2000" else session
    if session == first and index == "r2000":
        msg = (
            f"{session} is the base session of the calculation; constituents start "
            "on the next session"
        )
        raise MissingDataError(msg)
    run = calculate_real(
        data, start, session, weights="r2k", constituents=True, index=index
    )
    cons = run.calculation.constituents.filter(pl.col("session") == session)
    return cons, f"calculated by r2k from {start} (weights r2k)"


def describe_constituents(
    constituents: pl.DataFrame, market: pl.DataFrame
) -> pl.DataFrame:
    """One session of :data:`r2k.schemas.CONSTITUENTS` with names, sectors, caps.

    Parameters
    ----------
    constituents : pl.DataFrame
        One session of a calculation's constituents.
    market : pl.DataFrame
        The market panel (or its cross-section of that session).

    Returns
    -------
    pl.DataFrame
        :data:`CONSTITUENT_COLUMNS`, the lines with ``index_shares > 0``, largest
        weight first.
    """
    cons = constituents.filter(pl.col("index_shares") > 0.0)
    sessions = cons.get_column("session").unique()
    panel = market.filter(pl.col("session").is_in(sessions.implode())).select(
        "session", "security_id", "name", "sector", "total_market_cap"
    )
    return (
        cons.join(panel, on=["session", "security_id"], how="left")
        .with_columns(
            name=clean_names("name"),
            weight=pl.col("closing_weight"),
            float_market_cap=pl.col("index_shares") * pl.col("close"),
        )
        .select(CONSTITUENT_COLUMNS.names())
        .cast(dict(CONSTITUENT_COLUMNS))  # type: ignore[arg-type]
        .sort(["weight", "security_id"], descending=[True, False], nulls_last=True)
    )


def constituents_table(
    data: DataDir,
    index: IndexCode,
    session: date,
    *,
    store: Path | None = None,
) -> tuple[pl.DataFrame, str]:
    """The constituents of ``index`` during ``session`` and where they come from.

    Parameters
    ----------
    data : DataDir
        The data directory (market panel for names, sectors and caps).
    index : IndexCode
        An index of the family.
    session : date
        A session of the market panel.
    store : Path, optional
        A DuckDB store; used when it holds the calculation ``<index>-r2k`` on
        ``session``. A missing file is not created.

    Returns
    -------
    (pl.DataFrame, str)
        :data:`CONSTITUENT_COLUMNS` and a one-line description of the source.

    Raises
    ------
    MissingDataError
        If the panel has no such session or the index cannot be calculated then.
    """
    market = read_market_panel(data.market_panel)
    sessions: list[date] = market.get_column("session").unique().sort().to_list()
    if session not in sessions:
        msg = (
            f"the market panel has no session {session}; it covers "
            f"{sessions[0]} .. {sessions[-1]}"
        )
        raise MissingDataError(msg)
    found = _stored(store, calculation_name(index), session)
    raw, source = (
        found if found is not None else _calculated(data, index, session, market)
    )
    return describe_constituents(raw, market), source


def changes_table(data: DataDir, rank_day: date) -> pl.DataFrame:
    """Adds, deletes and migrations of the reconstitution ranked on ``rank_day``.

    Returns
    -------
    pl.DataFrame
        ``rank_day``, ``effective_date`` and the columns of
        :attr:`r2k.construction.reconstitution.Reconstitution.changes`
        (``company_id``, ``security_id``, ``name``, ``change``, ``from_index``,
        ``to_index``, ``reason``).
    """
    from r2k.workflows.pipeline import run_reconstitution

    result = run_reconstitution(data, rank_day).result
    return result.changes.select(
        pl.lit(result.rank_day).alias("rank_day"),
        pl.lit(result.effective_date).alias("effective_date"),
        pl.all(),
    ).with_columns(clean_names("name"))
