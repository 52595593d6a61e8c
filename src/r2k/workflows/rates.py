"""The rate view of an index (``r2k rates``): rate betas, policy cycle, r*, stance.

Reads the rates files of a data directory (:mod:`r2k.data.sources.rates`), the
broad dollar index (:mod:`r2k.data.sources.fx`), the index and the S&P 500, and
runs the pure functions of :mod:`r2k.analytics.rates`:

1. **Rate sensitivity**: betas of the index's returns, and of its return over
   the S&P 500, to changes in the 2- and 10-year Treasury yields (and to the
   return of the broad dollar index), over the whole history and rolling.
2. **The policy cycle**: moves of the policy rate (the target range's midpoint
   from 2008-12-16, the effective rate before), hiking / cutting / holding
   periods with the index's and small-minus-large returns, and an event study
   around the first cut and the first hike of each cycle.
3. **r* context**: the real policy rate (effective rate minus 5-year
   breakeven), a market-implied r* proxy from the TIPS curve (or a
   user-supplied r* series), the stance (their difference), returns by
   stance and a yearly table.

Indexes: ``RUT`` (the published Russell 2000) and ``r2000`` (r2k's own
calculated Russell 2000, over the market panel's window). Other indexes of the
family are not offered here yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from r2k.analytics import rates as ar
from r2k.analytics.analysis import r2k_levels
from r2k.errors import DataDirectoryError, MethodologyError, MissingDataError
from r2k.workflows.explain import load_index_levels

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation

__all__ = [
    "RATE_INDEXES",
    "RSTAR_PROXY",
    "RateSource",
    "RateView",
    "default_window",
    "load_rate_index",
    "rate_view",
]

RATE_INDEXES: Final[dict[str, str]] = {
    "RUT": "Russell 2000 (published, RUT)",
    "r2000": "r2k's calculated Russell 2000 (r2000)",
}
"""Indexes ``r2k rates`` takes today, and their display names."""
RSTAR_PROXY: Final = "5y5y TIPS real forward (10 x DFII10 - 5 x DFII5) / 5"
"""Name of the market-implied r* proxy."""
WINDOW_YEARS: Final = 3
"""Years of a rolling-beta window."""
EVENTS_SINCE: Final = date(1987, 1, 1)
"""Event study: first cuts and hikes on or after this date (and the index's start)."""
BENCHMARK: Final = "SPX"


def default_window(frequency: str) -> int:
    """Periods in :data:`WINDOW_YEARS` years of ``frequency`` (156 weeks)."""
    return WINDOW_YEARS * ar.PERIODS_PER_YEAR[frequency]


@dataclass(frozen=True, slots=True, kw_only=True)
class RateSource:
    """One input file (provenance)."""

    what: str
    path: str
    first: date | None = None
    last: date | None = None
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "what": self.what,
            "path": self.path,
            "first": ar.jsonable(self.first),
            "last": ar.jsonable(self.last),
            "rows": self.rows,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RateView:
    """Everything ``r2k rates`` shows (see :func:`rate_view`).

    Attributes
    ----------
    index, index_name : str
        ``"RUT"`` or ``"r2000"``, and its display name.
    benchmark : str
        The large-cap index of the relative returns (``"SPX"``).
    start, end : date
        The index's window.
    levels : pl.DataFrame
        ``session`` and ``level`` of the index over the window.
    policy : pl.DataFrame
        ``date``, ``rate`` (percent) and ``source``: the policy rate over the
        window (the daily effective rate before the target range).
    sensitivity : RateSensitivity
        Betas to the yields (and the dollar), full and rolling.
    rule : PolicyRule
        How moves were read from the effective rate.
    moves, cycles : pl.DataFrame
        Every policy move and cycle in the rates file.
    periods : pl.DataFrame
        Hiking / cutting / holding periods over the window, with returns.
    phases : pl.DataFrame
        Annualised returns by phase.
    events : EventStudy
        Around the first cut and first hike of each cycle in the window.
    stance : pl.DataFrame
        Daily real policy rate, r*, stance (from 2003).
    stance_counts : dict of str to int
        Dates, and values carried or missing.
    by_stance : pl.DataFrame
        Returns by stance at the start of each period.
    stance_years : pl.DataFrame
        Yearly averages and returns.
    rstar_source : str
        :data:`RSTAR_PROXY` or the user's file.
    band : float
        Half-width of the neutral stance band (pp).
    sources : tuple of RateSource
        Files read.
    notes : tuple of str
        Caveats and what could not be computed.
    """

    index: str
    index_name: str
    benchmark: str
    start: date
    end: date
    levels: pl.DataFrame
    policy: pl.DataFrame
    sensitivity: ar.RateSensitivity
    rule: ar.PolicyRule
    moves: pl.DataFrame
    cycles: pl.DataFrame
    periods: pl.DataFrame
    phases: pl.DataFrame
    events: ar.EventStudy
    stance: pl.DataFrame
    stance_counts: dict[str, int]
    by_stance: pl.DataFrame
    stance_years: pl.DataFrame
    rstar_source: str
    band: float
    sources: tuple[RateSource, ...]
    notes: tuple[str, ...]

    def latest(self) -> dict[str, Any] | None:
        """The last row of :attr:`stance` that has a stance (None if none)."""
        rows = self.stance.drop_nulls("stance")
        return rows.row(-1, named=True) if rows.height else None

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        """JSON-ready values (ISO dates, unrounded floats, NaN as ``None``).

        Parameters
        ----------
        series : bool, default False
            Also the per-period sample, rolling betas, event paths and the
            daily stance series.
        """
        out: dict[str, Any] = {
            "index": self.index,
            "index_name": self.index_name,
            "benchmark": self.benchmark,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "units": {
                "rates": "percent",
                "yield_change": "percentage points",
                "returns": "fractions",
                "beta": "return (fraction) per 1 percentage point rise in the "
                "yield; per unit return of the dollar index",
            },
            "sensitivity": self.sensitivity.to_dict(series=series),
            "policy": {
                "rule": {
                    "median_days": self.rule.median_days,
                    "step": self.rule.step,
                    "trigger": self.rule.trigger,
                    "merge_days": self.rule.merge_days,
                    "blip_days": self.rule.blip_days,
                    "pause_days": self.rule.pause_days,
                },
                "moves": ar.jsonable(self.moves),
                "cycles": ar.jsonable(self.cycles),
                "periods": ar.jsonable(self.periods),
                "phases": ar.jsonable(self.phases),
            },
            "events": self.events.to_dict(series=series),
            "rstar": {
                "source": self.rstar_source,
                "band": self.band,
                "latest": ar.jsonable(self.latest()),
                "counts": dict(self.stance_counts),
                "by_stance": ar.jsonable(self.by_stance),
                "yearly": ar.jsonable(self.stance_years),
            },
            "sources": [s.to_dict() for s in self.sources],
            "notes": list(self.notes),
        }
        if series:
            out["rstar"]["daily"] = ar.jsonable(self.stance)
            out["policy"]["rate"] = ar.jsonable(self.policy)
        return out


def _rate_index(index: str) -> str:
    for code in RATE_INDEXES:
        if index.strip().lower() == code.lower():
            return code
    msg = (
        f"--index {index!r}: r2k rates takes {' or '.join(RATE_INDEXES)} today "
        "(RUT: the published Russell 2000; r2000: r2k's own calculation); other "
        "indexes of the family are not available here yet"
    )
    raise MethodologyError(msg)


def load_rate_index(
    data: DataDir, index: str, *, calculation: Calculation | None = None
) -> tuple[str, pl.DataFrame, RateSource]:
    """The index's code, ``session``/``level`` frame and provenance.

    Raises
    ------
    MethodologyError
        If ``index`` is not ``RUT`` or ``r2000`` (case-insensitive).
    """
    code = _rate_index(index)
    if code == "RUT":
        levels = load_index_levels(data, "RUT").select("session", "level")
        path = str(data.index_levels("RUT"))
        what = "RUT levels (price index)"
    else:
        if calculation is None:
            from r2k.workflows import explain

            calculation = explain.calculate_r2k(data)
        levels = r2k_levels(calculation)
        path = str(data.market_panel)
        what = "r2k's Russell 2000, calculated from the market panel"
    source = RateSource(
        what=what,
        path=path,
        first=levels.item(0, "session") if levels.height else None,
        last=levels.item(-1, "session") if levels.height else None,
        rows=levels.height,
    )
    return code, levels, source


def _span(frame: pl.DataFrame, what: str, path: Path | str) -> RateSource:
    return RateSource(
        what=what,
        path=str(path),
        first=frame.item(0, "date") if frame.height else None,
        last=frame.item(-1, "date") if frame.height else None,
        rows=frame.height,
    )


def rate_view(
    data: DataDir,
    index: str = "RUT",
    *,
    frequency: ar.Frequency = "weekly",
    window: int | None = None,
    start: date | None = None,
    end: date | None = None,
    rstar: Path | None = None,
    rstar_column: str = "rstar",
    rstar_max_carry_days: int | None = None,
    band: float = 0.5,
    max_carry_days: int = 5,
    rule: ar.PolicyRule | None = None,
    calculation: Calculation | None = None,
) -> RateView:
    """Compute the rate view of an index from a data directory.

    Parameters
    ----------
    data : DataDir
        The data directory (``rates/``, ``fx/dxy_daily.csv`` if present,
        ``indices/``).
    index : {"RUT", "r2000"}, default "RUT"
        The published Russell 2000 or r2k's calculated one.
    frequency : {"daily", "weekly", "monthly"}, default "weekly"
        Of the returns in the betas and in the returns by stance.
    window : int, optional
        Periods per rolling-beta window (default: three years of
        ``frequency``).
    start, end : date, optional
        Window of the index.
    rstar : Path, optional
        A CSV of r* in percent (``date`` and ``rstar_column``), dated by when
        each value became known, used instead of the market proxy.
    rstar_column : str, default "rstar"
        Its value column.
    rstar_max_carry_days : int, optional
        Oldest r* value used (calendar days; default 5 for the daily proxy,
        100 for a user's series, which is often quarterly).
    band : float, default 0.5
        Half-width of the neutral stance band (pp).
    max_carry_days : int, default 5
        Oldest yield, rate or benchmark value used at a date (calendar days).
    rule : PolicyRule, optional
        How moves are read from the effective rate.
    calculation : Calculation, optional
        r2k's calculation for ``"r2000"`` (default: calculated here).

    Returns
    -------
    RateView
    """
    from r2k.data.sources.fx import dollar_index_path, read_dollar_index
    from r2k.data.sources.rates import (
        rates_path,
        read_real_yields,
        read_rstar,
        read_us_rates,
        real_yields_path,
    )

    freq = ar.check_frequency(frequency)
    rule = rule or ar.PolicyRule()
    code, levels, index_source = load_rate_index(data, index, calculation=calculation)
    if start is not None:
        levels = levels.filter(pl.col("session") >= start)
    if end is not None:
        levels = levels.filter(pl.col("session") <= end)
    if levels.height < 2:
        msg = (
            f"{code} has {levels.height} session(s) between {start} and {end}; "
            "widen the window"
        )
        raise MissingDataError(msg)
    first, last = levels.item(0, "session"), levels.item(-1, "session")
    bench = load_index_levels(data, BENCHMARK).select("session", "level")
    r_path, y_path = rates_path(data), real_yields_path(data)
    rates = read_us_rates(r_path)
    real = read_real_yields(y_path)
    sources = [
        index_source,
        RateSource(
            what="S&P 500 levels (benchmark of small minus large)",
            path=str(data.index_levels(BENCHMARK)),
            first=bench.item(0, "session"),
            last=bench.item(-1, "session"),
            rows=bench.height,
        ),
        _span(rates, "US policy and Treasury rates (FRED), percent", r_path),
        _span(real, "TIPS real yields and breakevens (FRED), percent", y_path),
    ]
    notes: list[str] = []
    factors = [
        ar.Factor(
            name="2y",
            label="2-year Treasury yield (DGS2)",
            change="difference",
            unit="1 pp rise",
            values=rates.select("date", value="DGS2"),
        ),
        ar.Factor(
            name="10y",
            label="10-year Treasury yield (DGS10)",
            change="difference",
            unit="1 pp rise",
            values=rates.select("date", value="DGS10"),
        ),
    ]
    try:
        d_path = dollar_index_path(data)
    except DataDirectoryError:
        notes.append("no fx/dxy_daily.csv: no dollar beta")
    else:
        dollar = read_dollar_index(d_path)
        factors.append(
            ar.Factor(
                name="dollar",
                label="broad dollar index (fx/dxy_daily.csv)",
                change="return",
                unit="1.0 return of the dollar index",
                values=dollar.select("date", value="DXY"),
            )
        )
        sources.append(
            _span(
                dollar,
                "broad dollar index (labelled DXY; Fed broad index values)",
                d_path,
            )
        )
    sensitivity = ar.rate_sensitivity(
        levels,
        factors,
        benchmark=bench,
        benchmark_name=BENCHMARK,
        frequency=freq,
        window=window if window is not None else default_window(freq),
        max_carry_days=max_carry_days,
    )

    moves = ar.policy_moves(rates, rule)
    cycles = ar.policy_cycles(moves)
    periods = ar.period_returns(
        ar.policy_periods(moves, start=first, end=last, pause_days=rule.pause_days),
        levels,
        benchmark=bench,
        max_carry_days=max_carry_days,
    )
    phases = ar.phase_summary(
        periods, levels, benchmark=bench, max_carry_days=max_carry_days
    )
    since = max(EVENTS_SINCE, levels.item(1, "session"))
    firsts = ar.first_moves(moves, since=since).filter(pl.col("date") <= last)
    events = ar.event_study(
        levels, firsts, benchmark=bench, max_carry_days=max_carry_days
    )
    if firsts.height == 0:
        notes.append(
            f"no first cut or first hike between {since} and {last}: the event "
            "study is empty"
        )

    if rstar is None:
        rstar_frame = ar.rstar_proxy(real)
        rstar_source = RSTAR_PROXY
        rcarry = 5 if rstar_max_carry_days is None else rstar_max_carry_days
    else:
        rstar_frame = read_rstar(Path(rstar), rstar_column)
        rstar_source = str(rstar)
        rcarry = 100 if rstar_max_carry_days is None else rstar_max_carry_days
        sources.append(_span(rstar_frame, "user-supplied r*, percent", rstar))
    stance, counts = ar.policy_stance(
        rates.select("date", "DFF"),
        real.select("date", "T5YIE"),
        rstar_frame,
        max_carry_days=max_carry_days,
        rstar_max_carry_days=rcarry,
    )
    by_stance = ar.returns_by_stance(
        levels,
        stance.drop_nulls("stance"),
        benchmark=bench,
        frequency=freq,
        band=band,
        max_carry_days=max_carry_days,
    )
    years = ar.stance_by_year(
        stance, levels, benchmark=bench, max_carry_days=max_carry_days
    )

    ranged = rates.filter(
        pl.col("DFEDTARL").is_not_null() & pl.col("DFEDTARU").is_not_null()
    )
    range_start = ranged.item(0, "date") if ranged.height else None
    notes.extend(
        [
            "the r* proxy is a proxy: the 5-year real rate 5 years forward from "
            "TIPS, which carries term and liquidity premia; it is not an estimate "
            "of the natural rate (pass --rstar FILE to use a published estimate)"
            if rstar is None
            else f"r* from {rstar} (column {rstar_column!r}), each value used from "
            f"its own date on, carried at most {rcarry} days",
            "policy moves: the target range's midpoint from "
            f"{range_start or 'the range start'}; before it, read from the daily "
            "effective rate (a trailing median on a 0.25 pp grid), so those dates "
            "are approximate: within about three weeks, or earlier where the "
            "effective rate strayed from the target (August 2007)",
            "periods are a historical description (a period's end is known only "
            "once no further move follows); the event study's day 0 is the first "
            "session on or after the move's date (the effective date, usually the "
            "session after the announcement)",
            f"the S&P 500 file starts {bench.item(0, 'session')}: relative betas "
            "and small minus large begin there",
            "stance = real policy rate - r*, real policy rate = DFF - T5YIE "
            f"(percent); restrictive above +{band:g} pp, accommodative below "
            f"-{band:g} pp; returns by stance use the stance at each period's start",
        ]
    )
    carried = {k: v for k, v in sensitivity.carried.items() if v}
    if carried:
        shown = ", ".join(f"{k} {v}" for k, v in carried.items())
        notes.append(
            f"{freq} period ends that used an earlier value (at most "
            f"{max_carry_days} days old): {shown}"
        )
    notes.extend(sensitivity.notes)
    return RateView(
        index=code,
        index_name=RATE_INDEXES[code],
        benchmark=BENCHMARK,
        start=first,
        end=last,
        levels=levels,
        policy=ar.policy_rate(rates).filter(pl.col("date").is_between(first, last)),
        sensitivity=sensitivity,
        rule=rule,
        moves=moves,
        cycles=cycles,
        periods=periods,
        phases=phases,
        events=events,
        stance=stance,
        stance_counts=counts,
        by_stance=by_stance,
        stance_years=years,
        rstar_source=rstar_source,
        band=float(band),
        sources=tuple(sources),
        notes=tuple(notes),
    )
