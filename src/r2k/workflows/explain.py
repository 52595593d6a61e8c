"""Explain a real or an r2k index from a data directory: load, calculate, analyse.

Joins the data layer (:mod:`r2k.data`) with :func:`r2k.analytics.analysis.analyze`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.analytics.analysis import Analysis, analyze, r2k_levels
from r2k.errors import MethodologyError

__all__ = [
    "INDEX_CHOICES",
    "analyze_index",
    "calculate_r2k",
    "load_benchmarks",
    "load_index_levels",
]

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation


def load_index_levels(data: DataDir, index: str) -> pl.DataFrame:
    """Daily levels of a real index in the data directory, ready for :func:`analyze`.

    Parameters
    ----------
    data : DataDir
        The data directory.
    index : {"RUT", "RUA", "SPX"}
        The index file to read.

    Returns
    -------
    pl.DataFrame
        ``session``, ``level`` (the close), ``high`` and ``low``.
    """
    from r2k.data.sources.levels import read_index_levels

    frame = read_index_levels(data.index_levels(index), index)
    return frame.select("session", level=pl.col("close"), high="high", low="low")


def load_benchmarks(data: DataDir, codes: Sequence[str]) -> dict[str, pl.DataFrame]:
    """Levels of each benchmark in ``codes`` (see :func:`load_index_levels`)."""
    return {code: load_index_levels(data, code) for code in codes}


INDEX_CHOICES: Final[tuple[str, ...]] = ("RUT", "r2k")
"""Index series :func:`analyze_index` can analyse."""
_BENCHMARKS_OF: Final[dict[str, tuple[str, ...]]] = {
    "RUT": ("SPX", "RUA"),
    "r2k": ("SPX", "RUT", "RUA"),
}


def analyze_index(
    data: DataDir,
    index: str = "RUT",
    *,
    start: date | None = None,
    end: date | None = None,
    calculation: Calculation | None = None,
) -> Analysis:
    """Analyse the real RUT or r2k's own index from a data directory.

    Parameters
    ----------
    data : DataDir
        The data directory.
    index : {"RUT", "r2k"}, default "RUT"
        ``"RUT"``: the published Russell 2000 since its first session, against
        the S&P 500 (SPX) and the Russell 3000 (RUA); ``"r2k"``: r2k's own
        index over the market panel's window (weights ``"r2k"``), against SPX,
        RUT and RUA.
    start, end : date, optional
        Window of the analysis (default: the whole series).
    calculation : Calculation, optional
        r2k's calculation to analyse for ``"r2k"`` (default: calculated here
        with :func:`r2k.workflows.real_index.calculate_real` over the whole panel).

    Returns
    -------
    Analysis
        See :func:`analyze`.

    Raises
    ------
    MethodologyError
        If ``index`` is not ``"RUT"`` or ``"r2k"``.
    """
    if index not in INDEX_CHOICES:
        msg = f"index {index!r} is not one r2k can analyse; choose RUT or r2k"
        raise MethodologyError(msg)
    if index == "RUT":
        levels = load_index_levels(data, "RUT")
    else:
        if calculation is None:
            calculation = calculate_r2k(data)
        levels = r2k_levels(calculation)
    return analyze(
        levels,
        benchmarks=load_benchmarks(data, _BENCHMARKS_OF[index]),
        start=start,
        end=end,
        name=index,
    )


def calculate_r2k(data: DataDir, *, constituents: bool = False) -> Calculation:
    """r2k's own index over the whole market panel (weights ``"r2k"``).

    Parameters
    ----------
    data : DataDir
        The data directory (its market panel sets the window).
    constituents : bool, default False
        Keep the per-session constituents (needed for characteristics).

    Returns
    -------
    Calculation
        ``calculate_real(data, first, last, weights="r2k").calculation``.
    """
    from r2k.data.sources.panel import read_market_panel
    from r2k.workflows.real_index import calculate_real

    panel = read_market_panel(data.market_panel)
    first, last = panel.select(
        pl.col("session").min().alias("a"), pl.col("session").max().alias("b")
    ).row(0)
    run = calculate_real(data, first, last, weights="r2k", constituents=constituents)
    return run.calculation
