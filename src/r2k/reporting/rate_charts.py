"""Charts of the rate view and of the currency versions (matplotlib, no pyplot).

Each function takes what :mod:`r2k.workflows.rates` or
:mod:`r2k.workflows.currency` computed and returns a labelled
:class:`~matplotlib.figure.Figure` of the same size and style as
:mod:`r2k.reporting.charts` (save it with :func:`r2k.reporting.charts.save_png`,
embed it with :func:`~r2k.reporting.charts.png_bytes`). :data:`RATE_CHARTS`
names them as ``r2k plot --chart`` accepts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl
from matplotlib.ticker import FuncFormatter

from r2k.errors import MethodologyError, MissingDataError
from r2k.reporting.charts import (
    BENCHMARK_COLOUR,
    DRAWDOWN_COLOUR,
    INDEX_COLOUR,
    RALLY_COLOUR,
    RANGE_COLOUR,
    _days,
    _figure,
    _values,
    _x,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure

    from r2k.analytics.currency import CurrencyVersion
    from r2k.workflows.rates import RateView

__all__ = [
    "CURRENCY_CHARTS",
    "RATE_CHARTS",
    "currencies_chart",
    "currency_chart",
    "policy_cycle_chart",
    "rate_betas_chart",
    "rate_chart_by_name",
    "rate_events_chart",
    "rstar_chart",
]

RATE_CHARTS: Final[dict[str, str]] = {
    "rate_betas": "rolling three-year betas to the 2- and 10-year yields, index and "
    "index minus S&P 500, with two standard errors",
    "policy_cycle": "policy rate with hiking and cutting periods shaded, and the "
    "index on a log scale",
    "rate_events": "average path of the index around the first cut and the first "
    "hike of each cycle",
    "rstar": "real policy rate, r* (proxy or --rstar) and the stance since 2003",
}
"""Charts of the rate view (``r2k plot --chart NAME``)."""
CURRENCY_CHARTS: Final[dict[str, str]] = {
    "currencies": "return in every currency, split into the dollar return, the "
    "currency return and the cross term",
    "currency": "the index in dollars and in --currency, rebased, with the rate",
}
"""Charts of the currency versions (``r2k plot --chart NAME``)."""

_PCT: Final = FuncFormatter(lambda v, _: f"{v:+g}%")
_PHASE_COLOUR: Final = {"hiking": DRAWDOWN_COLOUR, "cutting": RALLY_COLOUR}


def rate_betas_chart(view: RateView) -> Figure:
    """Rolling betas to the 2- and 10-year yields (percent per +100 bp).

    Raises
    ------
    MissingDataError
        If no rolling window fits the data.
    """
    s = view.sensitivity
    rolling = s.rolling.filter(pl.col("factor").is_in(["2y", "10y"]))
    if rolling.height == 0:
        msg = (
            f"no rolling beta: {view.index} has fewer {s.frequency} periods than the "
            f"window of {s.window}"
        )
        raise MissingDataError(msg)
    fig, ax = _figure()
    styles = {
        ("index", "2y"): (INDEX_COLOUR, "-"),
        ("index", "10y"): (BENCHMARK_COLOUR, "-"),
        ("relative", "2y"): (INDEX_COLOUR, ":"),
        ("relative", "10y"): (BENCHMARK_COLOUR, ":"),
    }
    for (series, factor), (colour, style) in styles.items():
        part = rolling.filter(
            (pl.col("series") == series) & (pl.col("factor") == factor)
        )
        if part.height == 0:
            continue
        days = _days(part.get_column("period_end"))
        beta = _values(part.get_column("beta")) * 100.0
        name = view.index if series == "index" else f"{view.index} - {s.benchmark}"
        ax.plot(
            days,
            beta,
            color=colour,
            linestyle=style,
            linewidth=1.1,
            label=f"{name} on {factor}",
        )
        if series == "index":
            se = _values(part.get_column("se")) * 100.0
            ax.fill_between(
                days, beta - 2 * se, beta + 2 * se, color=colour, alpha=0.12, lw=0
            )
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.yaxis.set_major_formatter(_PCT)
    ax.set_title(
        f"{view.index}: rolling {s.window}-{s.frequency.removesuffix('ly')} betas "
        "to Treasury yields (shaded: ±2 s.e.)"
    )
    ax.set_xlabel("window end")
    ax.set_ylabel("return per +100 bp in the yield")
    ax.legend(loc="upper left", fontsize=8, ncols=2)
    return fig


def policy_cycle_chart(view: RateView) -> Figure:
    """The policy rate with the hiking and cutting periods, and the index."""
    fig, ax = _figure()
    policy = view.policy
    ax.plot(
        _days(policy.get_column("date")),
        _values(policy.get_column("rate")),
        color="black",
        linewidth=0.9,
        drawstyle="steps-post",
        label="policy rate (range midpoint; effective rate before)",
    )
    for phase, colour in _PHASE_COLOUR.items():
        spans = view.periods.filter(pl.col("phase") == phase)
        for k, row in enumerate(spans.iter_rows(named=True)):
            ax.axvspan(
                _x(row["start"]),
                _x(row["end"]) + 1.0,
                color=colour,
                alpha=0.18,
                lw=0,
                label=f"{phase} period" if k == 0 else None,
            )
    ax.set_ylabel("percent")
    ax.set_xlabel("date")
    twin = ax.twinx()
    twin.plot(
        _days(view.levels.get_column("session")),
        _values(view.levels.get_column("level")),
        color=INDEX_COLOUR,
        linewidth=0.9,
        label=view.index,
    )
    twin.set_yscale("log")
    twin.set_ylabel(f"{view.index} level, log scale")
    ax.set_title(
        f"Policy cycles and {view.index}, {view.start} to {view.end} "
        "(red: hiking, green: cutting)"
    )
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right", fontsize=8)
    return fig


def rate_events_chart(view: RateView) -> Figure:
    """Average cumulative return around first cuts and first hikes.

    Raises
    ------
    MissingDataError
        If the window holds no event.
    """
    paths = view.events.paths
    if paths.height == 0:
        msg = f"no first cut or first hike in {view.index}'s window: no event chart"
        raise MissingDataError(msg)
    fig, ax = _figure()
    colours = {"first_cut": RALLY_COLOUR, "first_hike": DRAWDOWN_COLOUR}
    for kind in paths.get_column("kind").unique(maintain_order=True).to_list():
        part = paths.filter(pl.col("kind") == kind)
        offsets = part.get_column("offset").to_numpy()
        n = int(part.filter(pl.col("offset") == 1).get_column("events").sum())
        colour = colours.get(kind, INDEX_COLOUR)
        ax.plot(
            offsets,
            _values(part.get_column("mean")) * 100.0,
            color=colour,
            linewidth=1.3,
            label=f"{kind.replace('_', ' ')}: {view.index} (mean of {n})",
        )
        sml = _values(part.get_column("sml_mean")) * 100.0
        if np.isfinite(sml).any():
            ax.plot(
                offsets,
                sml,
                color=colour,
                linewidth=1.0,
                linestyle=":",
                label=f"{kind.replace('_', ' ')}: {view.index} - {view.benchmark}",
            )
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.axvline(0.5, color=RANGE_COLOUR, linewidth=0.8)
    ax.yaxis.set_major_formatter(_PCT)
    ax.set_title(
        f"{view.index} around the first cut and the first hike of each cycle "
        "(day 0 at the orange line)"
    )
    ax.set_xlabel("sessions after the last close before day 0")
    ax.set_ylabel("cumulative return")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def rstar_chart(view: RateView) -> Figure:
    """Real policy rate, r* and the stance (percent)."""
    stance = view.stance.drop_nulls("stance")
    if stance.height == 0:
        msg = "no stance: the r* and breakeven data do not overlap"
        raise MissingDataError(msg)
    fig, ax = _figure()
    days = _days(stance.get_column("date"))
    gap = _values(stance.get_column("stance"))
    ax.plot(
        days,
        _values(stance.get_column("real_policy_rate")),
        color=INDEX_COLOUR,
        linewidth=1.0,
        label="real policy rate (DFF - T5YIE)",
    )
    ax.plot(
        days,
        _values(stance.get_column("rstar")),
        color=BENCHMARK_COLOUR,
        linewidth=1.0,
        label=f"r*: {view.rstar_source}",
    )
    ax.fill_between(
        days,
        0.0,
        gap,
        where=gap > 0,
        color=DRAWDOWN_COLOUR,
        alpha=0.2,
        lw=0,
        label="stance > 0: restrictive",
    )
    ax.fill_between(
        days,
        0.0,
        gap,
        where=gap <= 0,
        color=RALLY_COLOUR,
        alpha=0.2,
        lw=0,
        label="stance < 0: accommodative",
    )
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_title("Real policy rate, r* and the stance (real policy rate - r*)")
    ax.set_xlabel("date")
    ax.set_ylabel("percent")
    ax.legend(loc="lower left", fontsize=8)
    return fig


def currencies_chart(versions: Sequence[CurrencyVersion]) -> Figure:
    """Each currency's return split into dollar, currency and cross parts.

    Raises
    ------
    MissingDataError
        If there is no currency version.
    """
    if not versions:
        msg = "no currency version to draw"
        raise MissingDataError(msg)
    fig, ax = _figure()
    order = sorted(versions, key=lambda v: v.decomposition.local_return)
    y = np.arange(len(order))
    usd = np.array([v.decomposition.usd_return for v in order]) * 100.0
    fx = np.array([v.decomposition.currency_return for v in order]) * 100.0
    cross = np.array([v.decomposition.cross_term for v in order]) * 100.0
    local = np.array([v.decomposition.local_return for v in order]) * 100.0
    ax.barh(y, usd, color=INDEX_COLOUR, label="return in USD")
    ax.barh(y, fx, left=usd, color=RANGE_COLOUR, label="currency return")
    ax.barh(y, cross, left=usd + fx, color=RALLY_COLOUR, label="cross term")
    ax.plot(local, y, "k|", markersize=12, label="return in the currency (the sum)")
    ax.set_yticks(y, [v.currency for v in order])
    ax.xaxis.set_major_formatter(_PCT)
    first = order[0]
    ax.set_title(
        f"{first.name} in each currency, {min(v.start for v in order)} to "
        f"{max(v.end for v in order)}: dollar return + currency return + cross term"
    )
    ax.set_xlabel("return over the window")
    ax.set_ylabel("currency")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def currency_chart(version: CurrencyVersion) -> Figure:
    """The index in dollars and in the currency, rebased to 100, and the rate."""
    fig, ax = _figure()
    levels = version.levels
    days = _days(levels.get_column("session"))
    usd = _values(levels.get_column("usd"))
    local = _values(levels.get_column("local"))
    ax.plot(
        days,
        usd / usd[0] * 100.0,
        color=INDEX_COLOUR,
        linewidth=1.1,
        label=f"{version.name} in USD",
    )
    ax.plot(
        days,
        local / local[0] * 100.0,
        color=BENCHMARK_COLOUR,
        linewidth=1.1,
        label=f"{version.name} in {version.currency}",
    )
    ax.set_ylabel("rebased (start = 100)")
    ax.set_xlabel("session")
    twin = ax.twinx()
    twin.plot(
        days,
        _values(levels.get_column("fx_target_per_usd")),
        color="grey",
        linewidth=0.8,
        linestyle=":",
        label=f"{version.currency} per USD",
    )
    twin.set_ylabel(f"{version.currency} per USD")
    d = version.decomposition
    ax.set_title(
        f"{version.name} in {version.currency}, {version.start} to {version.end}: "
        f"{d.usd_return * 100:+.1f}% in USD {d.currency_return * 100:+.1f}% "
        f"currency {d.cross_term * 100:+.1f}% cross = {d.local_return * 100:+.1f}%"
    )
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    return fig


def rate_chart_by_name(name: str, view: RateView) -> Figure:
    """The rate chart called ``name`` (a key of :data:`RATE_CHARTS`).

    Raises
    ------
    MethodologyError
        If ``name`` is not a rate chart.
    """
    charts = {
        "rate_betas": rate_betas_chart,
        "policy_cycle": policy_cycle_chart,
        "rate_events": rate_events_chart,
        "rstar": rstar_chart,
    }
    if name not in charts:
        msg = f"unknown rate chart {name!r}; choose one of: {', '.join(charts)}"
        raise MethodologyError(msg)
    return charts[name](view)
