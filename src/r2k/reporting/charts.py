"""Charts of an analysis and of index characteristics (matplotlib, no GUI).

Every function returns a :class:`matplotlib.figure.Figure` built directly,
without :mod:`matplotlib.pyplot`: no global figure registry, no GUI backend,
nothing to close; PNG files are rendered by the Agg rasteriser. Figures carry a
title, axis labels with their units and a legend where there is more than one
series. Colours are fixed so that the same thing looks the same in every chart
(the index in blue, the benchmark in red, rallies in green, range-bound periods
in orange).

:func:`save_png` writes a figure atomically (a temporary file in the same folder,
then an atomic rename); :func:`png_bytes` renders it in memory (for embedding in
the HTML report). PNG metadata leave out matplotlib's "Software" tag, so the
bytes hold no URL.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MultipleLocator,
    NullFormatter,
    PercentFormatter,
)

from r2k.data.files import write_bytes_atomic
from r2k.errors import MethodologyError, MissingDataError
from r2k.reporting.formatting import money

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from datetime import date
    from pathlib import Path

    from matplotlib.axes import Axes

    from r2k.analytics.analysis import Analysis
    from r2k.analytics.characteristics import Characteristics

__all__ = [
    "CHARTS",
    "FIGURE_FORMATS",
    "cap_distribution_chart",
    "chart_by_name",
    "drawdown_chart",
    "figure_bytes",
    "figure_format",
    "level_chart",
    "png_bytes",
    "rallies_chart",
    "ranges_chart",
    "relative_chart",
    "roc_chart",
    "save_figure",
    "save_png",
    "sector_chart",
    "volatility_chart",
]

INDEX_COLOUR: Final = "#1f4e79"
BENCHMARK_COLOUR: Final = "#c0504d"
RALLY_COLOUR: Final = "#2e8b57"
RANGE_COLOUR: Final = "#f0a030"
DRAWDOWN_COLOUR: Final = "#b22222"
SIZE: Final = (10.0, 4.6)
DPI: Final = 100
#: File formats :func:`save_figure` writes, by suffix.
FIGURE_FORMATS: Final = ("png", "svg", "pdf")
#: Metadata left out so that the same figure gives the same bytes.
_NO_METADATA: Final[dict[str, dict[str, None]]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}

CHARTS: Final[dict[str, str]] = {
    "level": "index vs large caps, rebased, rallies and range-bound periods marked",
    "relative": "small/large-cap ratio, index over benchmark",
    "roc": "rate of change over 21, 63 and 252 sessions, percent",
    "volatility": "rolling 63-session volatility, annualised",
    "drawdown": "underwater chart of the fall from the running high",
    "rallies": "level with each rally shaded and the largest labelled",
    "ranges": "range-bound periods with support and resistance, last five years",
    "sectors": "sector weights and counts",
    "caps": "histogram of company market caps, log scale",
}
"""Chart names (as the CLI accepts them) and what each shows."""


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(visible=True, alpha=0.3)
    return fig, ax


def _days(series: pl.Series) -> np.ndarray[Any, np.dtype[np.datetime64]]:
    return series.cast(pl.Date).to_numpy()


def _values(series: pl.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    return series.cast(pl.Float64).fill_null(np.nan).to_numpy()


def _x(day: date) -> float:
    """A date as matplotlib's date number (days since its epoch)."""
    value: float = date2num(day)  # type: ignore[no-untyped-call]
    return value


def _scale(ax: Axes, values: np.ndarray[Any, np.dtype[np.float64]]) -> str:
    """Log y axis when the values span more than a factor of 3, else linear.

    Returns the y-label suffix (", log scale" or ""). On a narrow range a log
    axis has too few ticks to read, and a linear one looks the same.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.max() / finite.min() < 3.0:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        return ""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    return ", log scale"


def _span_label(a: Analysis) -> str:
    return f"{a.start.isoformat()} to {a.end.isoformat()}"


def _shade_rallies(ax: Axes, a: Analysis) -> int:
    for row in a.rallies.iter_rows(named=True):
        ax.axvspan(
            _x(row["trough_session"]),
            _x(row["peak_session"]),
            color=RALLY_COLOUR,
            alpha=0.12,
            linewidth=0,
        )
    return a.rallies.height


def _mark_ranges(ax: Axes, a: Analysis) -> int:
    for row in a.ranges.iter_rows(named=True):
        ax.axvspan(
            _x(row["start_session"]),
            _x(row["end_session"]),
            color=RANGE_COLOUR,
            alpha=0.35,
            linewidth=0,
        )
    return a.ranges.height


def level_chart(
    analysis: Analysis,
    *,
    benchmark: str | None = "SPX",
    log_scale: bool = True,
    show_rallies: bool = True,
    show_ranges: bool = True,
) -> Figure:
    """The index against a large-cap benchmark, both rebased, with periods marked.

    Parameters
    ----------
    analysis : Analysis
        The result of :func:`r2k.analytics.analysis.analyze`.
    benchmark : str or None, default "SPX"
        Code of one of the analysis' benchmarks to draw (None: the index alone;
        a benchmark with no common session is skipped).
    log_scale : bool, default True
        Logarithmic level axis (equal distances are equal percentage moves)
        when the levels span more than a factor of 3; linear otherwise.
    show_rallies, show_ranges : bool, default True
        Shade the rallies (green) and the range-bound periods (orange).

    Returns
    -------
    Figure
        The index rebased to 100 at its first session; the benchmark rebased
        to the index's value at their first common session.
    """
    fig, ax = _figure()
    daily = analysis.daily
    base = analysis.first_level
    rebased = _values(daily["level"]) / base * 100.0
    ax.plot(
        _days(daily["session"]),
        rebased,
        color=INDEX_COLOUR,
        linewidth=1.0,
        label=analysis.name,
    )
    handles: list[Any] = []
    if benchmark is not None:
        comparison = analysis.benchmark(benchmark)
        if comparison.first_session is not None:
            ratio = comparison.ratio
            anchor = float(ratio["index"][0]) / base * 100.0
            ax.plot(
                _days(ratio["session"]),
                _values(ratio["benchmark"]) / float(ratio["benchmark"][0]) * anchor,
                color=BENCHMARK_COLOUR,
                linewidth=1.0,
                label=f"{comparison.name} ({comparison.code})",
            )
    if show_rallies and _shade_rallies(ax, analysis):
        handles.append(
            Patch(
                color=RALLY_COLOUR,
                alpha=0.25,
                label=f"rallies (>= {analysis.rally_threshold:.0%} after a "
                f"{analysis.decline_threshold:.0%} decline)",
            )
        )
    if show_ranges and _mark_ranges(ax, analysis):
        handles.append(Patch(color=RANGE_COLOUR, alpha=0.5, label="range-bound"))
    scale = _scale(ax, rebased) if log_scale else ""
    ax.set_title(f"{analysis.name} vs large caps, {_span_label(analysis)}")
    ax.set_xlabel("Session")
    ax.set_ylabel(f"Level, rebased (start = 100){scale}")
    lines, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*lines, *handles], loc="upper left", fontsize="small")
    return fig


def relative_chart(analysis: Analysis, *, benchmark: str = "SPX") -> Figure:
    """Ratio of the index to a benchmark (1.0 at their first common session).

    A rising line means the index (small caps) did better than the benchmark
    (large caps).

    Raises
    ------
    MissingDataError
        If the benchmark shares fewer than 3 sessions with the index.
    """
    comparison = analysis.benchmark(benchmark)
    if comparison.first_session is None:
        msg = (
            f"benchmark {benchmark} has {comparison.sessions} session(s) in common "
            f"with {analysis.name} ({_span_label(analysis)}), fewer than the 3 a "
            "comparison needs; choose another benchmark or a longer window"
        )
        raise MissingDataError(msg)
    fig, ax = _figure()
    ratio = comparison.ratio
    ax.plot(
        _days(ratio["session"]),
        _values(ratio["ratio"]),
        color=INDEX_COLOUR,
        linewidth=1.0,
        label=f"{analysis.name} / {comparison.code}",
    )
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_title(
        f"Small vs large caps: {analysis.name} / {comparison.name}, "
        f"{comparison.first_session} to {comparison.last_session} "
        f"({comparison.relative_change:+.1%})"
    )
    ax.set_xlabel("Session")
    ax.set_ylabel("Ratio of levels (first common session = 1)")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def roc_chart(analysis: Analysis) -> Figure:
    """Rate of change of the level over each lookback, in percent."""
    fig, ax = _figure()
    days = _days(analysis.daily["session"])
    colours = (INDEX_COLOUR, RANGE_COLOUR, BENCHMARK_COLOUR, RALLY_COLOUR)
    columns = [c for c in analysis.daily.columns if c.startswith("roc_")]
    for k, column in enumerate(columns):
        ax.plot(
            days,
            _values(analysis.daily[column]),
            linewidth=0.8,
            color=colours[k % len(colours)],
            label=f"{column.removeprefix('roc_')} sessions",
        )
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.yaxis.set_major_formatter(PercentFormatter(100.0, decimals=0))
    ax.set_title(f"{analysis.name} rate of change, {_span_label(analysis)}")
    ax.set_xlabel("Session")
    ax.set_ylabel("Change over the lookback (%)")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def volatility_chart(analysis: Analysis) -> Figure:
    """Rolling annualised volatility, with the whole window's for reference."""
    fig, ax = _figure()
    ax.plot(
        _days(analysis.daily["session"]),
        _values(analysis.daily["rolling_volatility"]) * 100.0,
        color=INDEX_COLOUR,
        linewidth=0.9,
        label=f"rolling {analysis.volatility_window} sessions",
    )
    ax.axhline(
        analysis.annualized_volatility * 100.0,
        color=BENCHMARK_COLOUR,
        linestyle="--",
        linewidth=1.0,
        label=f"whole window ({analysis.annualized_volatility:.1%})",
    )
    ax.yaxis.set_major_formatter(PercentFormatter(100.0, decimals=0))
    ax.set_ylim(bottom=0.0)
    ax.set_title(
        f"{analysis.name} volatility (annualised, ddof={analysis.ddof}, "
        f"{analysis.periods_per_year:g} sessions a year)"
    )
    ax.set_xlabel("Session")
    ax.set_ylabel("Annualised volatility (%)")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def drawdown_chart(analysis: Analysis) -> Figure:
    """Underwater chart: the fall from the running high, in percent."""
    fig, ax = _figure()
    days = _days(analysis.daily["session"])
    dd = _values(analysis.daily["drawdown"]) * 100.0
    ax.fill_between(days, dd, 0.0, color=DRAWDOWN_COLOUR, alpha=0.35, linewidth=0)
    ax.plot(days, dd, color=DRAWDOWN_COLOUR, linewidth=0.6, label="drawdown")
    worst = analysis.deepest_drawdown
    if worst is not None:
        trough = np.datetime64(worst["trough"])
        depth = worst["depth"] * 100.0
        ax.annotate(
            f"max {worst['depth']:.1%} ({worst['start']} to {worst['trough']})",
            xy=(trough, depth),
            xytext=(10, 8),
            textcoords="offset points",
            fontsize="small",
        )
    ax.yaxis.set_major_formatter(PercentFormatter(100.0, decimals=0))
    ax.set_title(f"{analysis.name} drawdowns from the running high")
    ax.set_xlabel("Session")
    ax.set_ylabel("Below the running high (%)")
    ax.legend(loc="lower left", fontsize="small")
    return fig


def recon_effect_chart(
    paths: pl.DataFrame, *, preliminary_list: date, effective: date
) -> Figure:
    """Mean cumulative abnormal return of each kind of change, rank day onwards.

    ``paths``: ``change, session, n, car_mean, car_std`` (from
    :func:`r2k.funds.event.car_paths`); the band is +-1 cross-sectional standard
    deviation of the adds' and deletes' CARs, dashed lines mark the preliminary
    lists and the effective date.
    """
    fig, ax = _figure()
    for change in sorted(set(paths["change"].to_list())):
        part = paths.filter(pl.col("change") == change).sort("session")
        days = _days(part["session"])
        mean = _values(part["car_mean"]) * 100.0
        (line,) = ax.plot(
            days, mean, linewidth=1.2, label=f"{change} (n={part['n'][0]})"
        )
        if change in ("add", "delete"):
            sd = np.nan_to_num(_values(part["car_std"])) * 100.0
            ax.fill_between(
                days,
                mean - sd,
                mean + sd,
                color=line.get_color(),
                alpha=0.12,
                linewidth=0,
            )
    for day, label in (
        (preliminary_list, "preliminary lists"),
        (effective, "effective"),
    ):
        ax.axvline(_x(day), color="0.4", linestyle="--", linewidth=0.8)
        ax.annotate(
            label,
            xy=(_x(day), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize="small",
        )
    ax.axhline(0.0, color="0.6", linewidth=0.6)
    ax.yaxis.set_major_formatter(PercentFormatter(100.0, decimals=0))
    ax.set_title("Reconstitution effect: mean cumulative abnormal return (+-1 sd)")
    ax.set_xlabel("Session")
    ax.set_ylabel("CAR against the benchmark (%)")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def rallies_chart(analysis: Analysis, *, label_largest: int = 5) -> Figure:
    """The level with every rally shaded and the largest labelled."""
    fig, ax = _figure()
    level = _values(analysis.daily["level"])
    ax.plot(
        _days(analysis.daily["session"]),
        level,
        color=INDEX_COLOUR,
        linewidth=0.9,
        label=analysis.name,
    )
    count = _shade_rallies(ax, analysis)
    for row in (
        analysis.rallies.sort("gain", descending=True)
        .head(label_largest)
        .iter_rows(named=True)
    ):
        ax.annotate(
            f"+{row['gain']:.0%}",
            xy=(np.datetime64(row["peak_session"]), row["peak_level"]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize="small",
            color=RALLY_COLOUR,
        )
    scale = _scale(ax, level)
    ax.set_title(
        f"{analysis.name} rallies: {count} rebounds of >= "
        f"{analysis.rally_threshold:.0%} after a decline of >= "
        f"{analysis.decline_threshold:.0%}"
    )
    ax.set_xlabel("Session")
    ax.set_ylabel(f"Level (index points{scale})")
    lines, _ = ax.get_legend_handles_labels()
    ax.legend(
        handles=[*lines, Patch(color=RALLY_COLOUR, alpha=0.25, label="rally")],
        loc="upper left",
        fontsize="small",
    )
    return fig


def ranges_chart(analysis: Analysis, *, last_sessions: int | None = 1260) -> Figure:
    """Range-bound periods as boxes from support to resistance over the level.

    Parameters
    ----------
    analysis : Analysis
        The result of :func:`r2k.analytics.analysis.analyze`.
    last_sessions : int or None, default 1260
        Draw only the last ``last_sessions`` sessions (about five years), where
        the boxes are wide enough to see; None draws the whole window.
    """
    daily = analysis.daily
    if last_sessions is not None:
        if last_sessions < 2:
            msg = f"`last_sessions` must be at least 2; got {last_sessions}"
            raise MethodologyError(msg)
        daily = daily.tail(last_sessions)
    first, last = daily["session"][0], daily["session"][-1]
    fig, ax = _figure()
    ax.plot(
        _days(daily["session"]),
        _values(daily["level"]),
        color=INDEX_COLOUR,
        linewidth=0.9,
        label=analysis.name,
    )
    shown = analysis.ranges.filter(
        (pl.col("end_session") >= first) & (pl.col("start_session") <= last)
    )
    for row in shown.iter_rows(named=True):
        x0 = _x(max(row["start_session"], first))
        x1 = _x(row["end_session"])
        ax.add_patch(
            Rectangle(
                (x0, row["support"]),
                max(x1 - x0, 1.0),
                row["resistance"] - row["support"],
                facecolor=RANGE_COLOUR,
                edgecolor=RANGE_COLOUR,
                alpha=0.35,
            )
        )
    ax.set_title(
        f"{analysis.name} range-bound periods, {first} to {last} "
        f"({shown.height} of {analysis.ranges.height})"
    )
    ax.set_xlabel("Session")
    ax.set_ylabel("Level (index points)")
    lines, _ = ax.get_legend_handles_labels()
    ax.legend(
        handles=[
            *lines,
            Patch(color=RANGE_COLOUR, alpha=0.5, label="range: support to resistance"),
        ],
        loc="upper left",
        fontsize="small",
    )
    return fig


def sector_chart(characteristics: Characteristics) -> Figure:
    """Sector weights as horizontal bars, with the number of constituents."""
    sectors = characteristics.sectors.sort("weight")
    fig = Figure(
        figsize=(SIZE[0], max(3.0, 0.32 * sectors.height + 1.2)),
        dpi=DPI,
        layout="constrained",
    )
    ax = fig.add_subplot()
    ax.grid(visible=True, axis="x", alpha=0.3)
    weights = _values(sectors["weight"]) * 100.0
    bars = ax.barh(sectors["sector"].to_list(), weights, color=INDEX_COLOUR)
    ax.bar_label(
        bars,
        labels=[
            f"{w:.1f}% ({n})"
            for w, n in zip(weights, sectors["count"].to_list(), strict=True)
        ],
        padding=3,
        fontsize="small",
    )
    ax.set_xlim(0.0, float(weights.max()) * 1.25 if weights.size else 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(100.0, decimals=0))
    ax.set_title(
        f"Sector weights: {characteristics.source} on {characteristics.as_of} "
        f"({characteristics.sector_scheme})"
    )
    ax.set_xlabel("Weight (%); constituents in brackets")
    ax.set_ylabel("Sector")
    return fig


def cap_distribution_chart(characteristics: Characteristics) -> Figure:
    """Histogram of the companies' total market caps on a log scale.

    Raises
    ------
    MissingDataError
        If no member has a known company cap.
    """
    caps = characteristics.members["total_market_cap"].drop_nulls().to_numpy()
    caps = caps[caps > 0.0]
    if caps.size == 0:
        msg = (
            f"{characteristics.source} has no company market caps; pass a market "
            "cross-section when computing the characteristics"
        )
        raise MissingDataError(msg)
    fig, ax = _figure()
    logs = np.log10(caps)
    edges = np.linspace(np.floor(logs.min() * 4) / 4, np.ceil(logs.max() * 4) / 4, 41)
    ax.hist(logs, bins=edges.tolist(), color=INDEX_COLOUR, alpha=0.8, label="companies")
    for value, label, style in (
        (characteristics.median_cap, "median", "--"),
        (characteristics.weighted_average_cap, "weighted average", ":"),
    ):
        ax.axvline(
            float(np.log10(value)),
            color=BENCHMARK_COLOUR,
            linestyle=style,
            linewidth=1.2,
            label=f"{label} {money(value)}",
        )
    ax.xaxis.set_major_locator(MultipleLocator(1.0))  # one tick per decade
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: money(10.0**v)))
    ax.set_title(
        f"Company market caps: {characteristics.source} on {characteristics.as_of} "
        f"({characteristics.cap_coverage} of {characteristics.constituents} covered)"
    )
    ax.set_xlabel("Total market cap (US dollars, log scale)")
    ax.set_ylabel("Number of companies")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def png_bytes(fig: Figure, *, dpi: int = DPI) -> bytes:
    """Render ``fig`` as PNG bytes (no metadata URL)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def save_png(fig: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG file atomically and return the path.

    The image goes to a temporary file in the target folder first and then
    replaces ``path`` in one rename, so a reader never sees half a file.

    Parameters
    ----------
    fig : Figure
        The figure.
    path : str or path-like
        Target file; its folder must exist.
    dpi : int, default 100
        Resolution.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    r2k.data.files.OutputFileError
        If the file cannot be written (any old file is left as it was).
    """
    return write_bytes_atomic(path, png_bytes(fig, dpi=dpi))


def chart_by_name(
    name: str,
    analysis: Analysis,
    characteristics: Characteristics | None = None,
    *,
    benchmark: str = "SPX",
) -> Figure:
    """The chart called ``name`` (a key of :data:`CHARTS`).

    Raises
    ------
    MethodologyError
        If ``name`` is not a chart.
    MissingDataError
        If a sector or cap chart is asked for without ``characteristics``.
    """
    per_analysis: dict[str, Callable[[Analysis], Figure]] = {
        "level": lambda a: level_chart(a, benchmark=benchmark),
        "relative": lambda a: relative_chart(a, benchmark=benchmark),
        "roc": roc_chart,
        "volatility": volatility_chart,
        "drawdown": drawdown_chart,
        "rallies": rallies_chart,
        "ranges": ranges_chart,
    }
    if name in per_analysis:
        return per_analysis[name](analysis)
    if name in ("sectors", "caps"):
        if characteristics is None:
            msg = f"chart {name!r} needs index characteristics; none were given"
            raise MissingDataError(msg)
        if name == "sectors":
            return sector_chart(characteristics)
        return cap_distribution_chart(characteristics)
    msg = f"unknown chart {name!r}; choose one of: {', '.join(CHARTS)}"
    raise MethodologyError(msg)


def figure_format(path: str | os.PathLike[str]) -> str:
    """The format of a chart file from its suffix: ``png``, ``svg`` or ``pdf``.

    Raises
    ------
    MethodologyError
        If the suffix is none of them (the message names the accepted ones).
    """
    name = str(path)
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in FIGURE_FORMATS:
        shown = f".{suffix}" if suffix else "no suffix"
        msg = (
            f"--out {name}: {shown} is not a chart format; name a "
            f"{', '.join('.' + f for f in FIGURE_FORMATS)} file"
        )
        raise MethodologyError(msg)
    return suffix


def figure_bytes(fig: Figure, fmt: str, *, dpi: int = DPI) -> bytes:
    """Render ``fig`` as ``fmt`` (one of :data:`FIGURE_FORMATS`), no dated metadata."""
    if fmt not in FIGURE_FORMATS:
        msg = f"format {fmt!r}: use one of {', '.join(FIGURE_FORMATS)}"
        raise MethodologyError(msg)
    from matplotlib import rc_context

    buffer = io.BytesIO()
    # A fixed salt makes the SVG element ids, and so the bytes, reproducible.
    with rc_context({"svg.hashsalt": "r2k"}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_NO_METADATA[fmt])
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write ``fig`` atomically in the format its suffix names (.png, .svg, .pdf).

    Raises
    ------
    MethodologyError
        If the suffix is not one of :data:`FIGURE_FORMATS`.
    r2k.data.files.OutputFileError
        If the file cannot be written (any old file is left as it was).
    """
    return write_bytes_atomic(path, figure_bytes(fig, figure_format(path), dpi=dpi))
