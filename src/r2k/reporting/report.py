"""One self-contained HTML report of an index: charts, tables and provenance.

:func:`gather_report` computes everything from a data directory (the analysis of
RUT or r2k's own index, r2k's characteristics on its last session, those of the
latest IWM holdings file, the S&P 600 overlap, the turnover of the last
reconstitution); :func:`render_report` turns it into one HTML string and
:func:`write_report` writes it atomically.

The report opens with the factsheet summary the dashboard shows
(:func:`r2k.analytics.factsheet.factsheet`: performance 1M .. since start,
risk, calendar years; size, top 10 and sector weights). The file works offline:
the charts are PNG images embedded as base64 ``data:`` URIs, the CSS (with a
print stylesheet) is inline, and nothing refers to a network address. Figures are
computed unrounded; the tables round them for display only, with Python's
``round`` (round-half-even on the binary value) before formatting.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from r2k.analytics.analysis import BENCHMARK_NAMES
from r2k.analytics.characteristics import (
    holdings_characteristics,
    index_characteristics,
    reconstitution_turnover,
    sp600_overlap,
)
from r2k.analytics.factsheet import factsheet
from r2k.data.files import write_bytes_atomic
from r2k.errors import MissingDataError, R2KError
from r2k.names import clean_name
from r2k.reporting import charts
from r2k.reporting.formatting import is_missing, money, number, percent
from r2k.reporting.rates_report import (
    RatesInputs,
    gather_rates,
    render_sections,
    source_rows,
)
from r2k.workflows.explain import analyze_index, calculate_r2k

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from matplotlib.figure import Figure

    from r2k.analytics.analysis import Analysis
    from r2k.analytics.characteristics import Characteristics, Overlap, Turnover
    from r2k.analytics.factsheet import Factsheet
    from r2k.data.datadir import DataDir

__all__ = [
    "ReportInputs",
    "SourceFile",
    "gather_report",
    "render_report",
    "write_report",
]

ROUNDING_NOTE: Final = (
    "Every figure is computed unrounded; tables round for display only, with "
    "Python's round() (round-half-even on the binary value) before formatting."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """One input file of the report (data provenance)."""

    what: str
    path: str
    first: date | None = None
    last: date | None = None
    rows: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportInputs:
    """Everything the report shows, computed (see :func:`gather_report`).

    Attributes
    ----------
    analysis : Analysis
        The analysis of the index.
    index_characteristics : Characteristics or None
        r2k's own index on its last session.
    holdings_characteristics : Characteristics or None
        The latest IWM holdings file.
    index_overlap, holdings_overlap : Overlap or None
        Their S&P 600 overlap.
    turnover : Turnover or None
        The last reconstitution in r2k's calculation.
    sources : tuple of SourceFile
        The files read.
    benchmark : str
        Benchmark drawn on the level and relative charts (``"SPX"``).
    rates : RatesInputs or None
        The rates and currency sections (:mod:`r2k.reporting.rates_report`).
    """

    analysis: Analysis
    index_characteristics: Characteristics | None = None
    holdings_characteristics: Characteristics | None = None
    index_overlap: Overlap | None = None
    holdings_overlap: Overlap | None = None
    turnover: Turnover | None = None
    sources: tuple[SourceFile, ...] = ()
    benchmark: str = "SPX"
    rates: RatesInputs | None = None
    recon_effect: ReconEffect | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconEffect:
    """The event study of the last reconstitution the market panel covers.

    ``summary`` and ``paths`` are those of :func:`r2k.workflows.preview.recon_effect`
    (:func:`r2k.funds.event.event_study` and :func:`r2k.funds.event.car_paths`).
    """

    rank_day: date
    preliminary_list: date
    effective_date: date
    benchmark: str
    summary: pl.DataFrame
    paths: pl.DataFrame


def gather_recon_effect(data: DataDir, panel: pl.DataFrame) -> ReconEffect | None:
    """The reconstitution effect of the latest reconstitution inside the panel.

    The latest one whose rank day and effective date (and one session after it)
    the market panel holds; ``None`` when there is none or its inputs are missing.
    """
    from r2k.methodology.schedule import reconstitutions
    from r2k.workflows.preview import recon_effect

    first, last, _ = _span(panel)
    inside = [
        s
        for year in range(first.year, last.year + 1)
        for s in reconstitutions(year)
        if s.rank_day >= first and s.effective_date < last
    ]
    if not inside:
        return None
    schedule = max(inside, key=lambda s: s.rank_day)
    try:
        result = recon_effect(data, schedule.rank_day)
    except (R2KError, ValueError):
        return None
    summary, paths = result["summary"], result["paths"]
    assert isinstance(summary, list)
    assert isinstance(paths, pl.DataFrame)
    return ReconEffect(
        rank_day=schedule.rank_day,
        preliminary_list=schedule.preliminary_list,
        effective_date=schedule.effective_date,
        benchmark=str(result["benchmark"]),
        summary=pl.DataFrame(summary),
        paths=paths,
    )


def _span(frame: pl.DataFrame, column: str = "session") -> tuple[date, date, int]:
    col = frame.get_column(column)
    return col.min(), col.max(), frame.height  # type: ignore[return-value]


def gather_report(
    data: DataDir,
    *,
    index: str = "RUT",
    start: date | None = None,
    end: date | None = None,
) -> ReportInputs:
    """Compute every part of the report from a data directory.

    Parameters
    ----------
    data : DataDir
        The data directory.
    index : {"RUT", "r2k"}, default "RUT"
        The index analysed (see :func:`r2k.workflows.explain.analyze_index`).
    start, end : date, optional
        Window of the analysis.

    Returns
    -------
    ReportInputs
        The analysis, r2k's characteristics on the last session of the market
        panel, the latest IWM file's, both S&P 600 overlaps, the last
        reconstitution's turnover and the files read.
    """
    from r2k.data.sources.ishares import read_holdings
    from r2k.data.sources.panel import as_of, read_market_panel
    from r2k.data.sources.reference import read_sp_constituents
    from r2k.workflows.pipeline import read_as_of

    # RUT's analysis reads only level files: it comes first, so a bad file fails
    # before the calculation (~10 s); the analysis of r2k's own index needs it
    analysis = (
        analyze_index(data, index, start=start, end=end) if index == "RUT" else None
    )
    calc = calculate_r2k(data, constituents=True)
    if analysis is None:
        analysis = analyze_index(data, index, start=start, end=end, calculation=calc)
    panel = read_market_panel(data.market_panel)
    last = calc.constituents.get_column("session").max()
    members = calc.constituents.filter(pl.col("session") == last)
    market = panel.filter(pl.col("session") == last)
    ours = index_characteristics(members, market, source="r2k index")

    iwm_files = data.holdings_files("IWM")
    theirs = None
    holdings_source = None
    if iwm_files:
        holdings = read_holdings(iwm_files[-1])
        try:
            known = as_of(panel, holdings.as_of)
            day = known.get_column("session").max()
            cross = known.filter(pl.col("session") == day)
        except MissingDataError:
            cross = None
        theirs = holdings_characteristics(holdings, cross)
        holdings_source = SourceFile(
            what=f"IWM holdings file, as of {holdings.as_of}",
            path=str(iwm_files[-1]),
            first=holdings.as_of,
            last=holdings.as_of,
            rows=holdings.equities.height,
        )

    sp = read_sp_constituents(data.sp_constituents)
    recon_days = (
        calc.events.filter(pl.col("action").str.starts_with("reconstitution_"))
        .get_column("session")
        .unique()
        .sort()
    )
    turnover = None
    if recon_days.len():
        try:
            turnover = reconstitution_turnover(
                calc.events, calc.constituents, recon_days[-1]
            )
        except MissingDataError:
            turnover = None

    sources = [
        SourceFile(
            what=f"{analysis.name} levels analysed",
            path=str(data.index_levels("RUT") if index == "RUT" else data.market_panel),
            first=analysis.start,
            last=analysis.end,
            rows=analysis.sessions,
        )
    ]
    for b in analysis.benchmarks:
        sources.append(
            SourceFile(
                what=f"benchmark {b.code} ({b.name}), sessions in common",
                path=str(data.index_levels(b.code)),
                first=b.first_session,
                last=b.last_session,
                rows=b.sessions,
            )
        )
    first, final, rows = _span(panel)
    sources.append(
        SourceFile(
            what="market panel (prices, caps, volumes, sectors)",
            path=str(data.market_panel),
            first=first,
            last=final,
            rows=rows,
        )
    )
    start_files = [p for p in iwm_files if read_as_of(p) <= first]
    if start_files:
        sources.append(
            SourceFile(
                what="IWM holdings r2k's own index starts from",
                path=str(start_files[-1]),
                first=read_as_of(start_files[-1]),
                last=read_as_of(start_files[-1]),
            )
        )
    if holdings_source is not None:
        sources.append(holdings_source)
    sources.append(
        SourceFile(
            what="S&P 600 / S&P 500 constituents (undated snapshot)",
            path=str(data.sp_constituents),
            rows=sp.height,
        )
    )
    sources.append(SourceFile(what="split catalogue", path=str(data.splits_dir)))
    rates = gather_rates(data, index, calculation=calc)
    sources.extend(
        SourceFile(what=w, path=p, first=f, last=la, rows=n)
        for w, p, f, la, n in source_rows(rates)
    )
    return ReportInputs(
        analysis=analysis,
        index_characteristics=ours,
        holdings_characteristics=theirs,
        index_overlap=sp600_overlap(ours.members, sp),
        holdings_overlap=sp600_overlap(theirs.members, sp) if theirs else None,
        turnover=turnover,
        sources=tuple(sources),
        rates=rates,
        recon_effect=gather_recon_effect(data, panel),
    )


# ------------------------------------------------------------------ formatting


def _text(value: object) -> str:
    if is_missing(value):
        return "n/a"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    caption: str | None = None,
) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_text(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(fig: Figure, alt: str) -> str:
    data = base64.b64encode(charts.png_bytes(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _section(anchor: str, title: str, *parts: str) -> str:
    return (
        f'<section id="{anchor}"><h2>{html.escape(title)}</h2>'
        + "".join(parts)
        + "</section>"
    )


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


_CSS: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;
margin:0 auto;max-width:1060px;padding:1em 1.5em;color:#1d1d1d;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f4e79;
padding-bottom:.2em;margin-top:2em}nav a{margin-right:.8em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.88em}
caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border:1px solid #d0d7de;padding:.25em .55em;text-align:right}
th{background:#eef3f8}td:first-child,th:first-child{text-align:left}
img{max-width:100%;height:auto;display:block;margin:.6em 0}
.note{color:#555;font-size:.9em}.cols{display:flex;gap:2em;flex-wrap:wrap}
.cols>table{flex:0 1 auto}
@media print{
@page{size:A4;margin:14mm 12mm}
body{max-width:none;margin:0;padding:0;font-size:9.5pt;color:#000}
nav{display:none}a{color:inherit;text-decoration:none}
h1{font-size:16pt}h2{font-size:12.5pt;margin-top:1.2em;break-after:avoid}
section{break-before:auto}#factsheet{break-after:page}
table{font-size:8.5pt;margin:.3em 0 .8em}thead{display:table-header-group}
caption{break-after:avoid}tr,img{break-inside:avoid}
th{background:#eef3f8;-webkit-print-color-adjust:exact;print-color-adjust:exact}
img{max-height:9.5cm;width:auto;max-width:100%}
.cols{gap:1em}
}
"""


# ------------------------------------------------------------------ sections


def _headline(inputs: ReportInputs) -> Characteristics | None:
    """The characteristics the factsheet shows: those of the index analysed.

    RUT: the latest IWM holdings file (the fund that replicates it); r2k's own
    index: its constituents on its last session. Either falls back to the other.
    """
    ours, theirs = inputs.index_characteristics, inputs.holdings_characteristics
    if inputs.analysis.name == "RUT":
        return theirs if theirs is not None else ours
    return ours if ours is not None else theirs


def _factsheet(inputs: ReportInputs, sheet: Factsheet) -> str:
    """The dashboard's factsheet summary: performance, risk, years, size, holdings."""
    performance = _table(
        ["", *(p.period for p in sheet.performance)],
        [
            ("cumulative", *(percent(p.cumulative) for p in sheet.performance)),
            (
                "annualised",
                *(
                    "-" if p.annualized is None else percent(p.annualized)
                    for p in sheet.performance
                ),
            ),
        ],
        caption=f"Performance to {sheet.as_of} (price index)",
    )
    risk = _table(
        ["period", "volatility", "Sharpe", "Sortino", "max drawdown"],
        [
            (
                r.period,
                percent(r.volatility),
                number(r.sharpe),
                number(r.sortino),
                percent(r.max_drawdown),
            )
            for r in sheet.risk
        ],
        caption=f"Risk (annualised, daily returns, ddof={sheet.ddof}, "
        f"risk-free rate {percent(sheet.risk_free_rate)})",
    )
    years = sheet.calendar_years[-10:]
    calendar = _table(
        ["", *(f"{y.year}{'' if y.complete else '*'}" for y in years)],
        [("return", *(percent(y.value, sign=True) for y in years))],
        caption=f"Calendar-year returns, the last {len(years)} (* part of a year)",
    )
    parts = [
        f'<div class="cols">{performance}</div>',
        f'<div class="cols">{risk}{calendar}</div>',
    ]
    traits = _headline(inputs)
    if traits is not None:
        size = _table(
            ["measure", "value"],
            [
                ("constituents", f"{traits.constituents:,}"),
                ("mean company cap", money(traits.mean_cap)),
                ("median company cap", money(traits.median_cap)),
                ("largest company cap", money(traits.largest_cap)),
                ("smallest company cap", money(traits.smallest_cap)),
                ("top-10 weight", percent(traits.top10_weight)),
            ],
            caption=f"Size: {traits.source} on {_text(traits.as_of)}",
        )
        top = _table(
            ["#", "ticker", "name", "sector", "weight"],
            [
                (
                    i,
                    r["security_id"],
                    clean_name(r["name"]),
                    r["sector"],
                    percent(r["weight"], 2),
                )
                for i, r in enumerate(traits.top10.iter_rows(named=True), start=1)
            ],
            caption="Top 10",
        )
        sectors = _table(
            ["sector", "lines", "weight"],
            [
                (r["sector"], f"{r['count']:,}", percent(r["weight"]))
                for r in traits.sectors.iter_rows(named=True)
            ],
            caption=f"Sector weights: {traits.sector_scheme}",
        )
        parts.append(f'<div class="cols">{size}{sectors}</div>')
        parts.append(top)
    return _section(
        "factsheet",
        "Factsheet",
        _p(
            f"{sheet.name}: {sheet.first_session} to {sheet.as_of}, level "
            f"{number(sheet.first_level)} to {number(sheet.last_level)}. Periods "
            "end on the last session; those of a year or more are also annualised."
        ),
        *parts,
    )


def _summary(a: Analysis) -> str:
    worst = a.deepest_drawdown
    dd = (
        f"{percent(a.max_drawdown)} ({worst['start']} to {worst['trough']}, "
        f"recovered {worst['recovery'] or 'not yet'})"
        if worst
        else "none"
    )
    rows = [
        ("Window", f"{a.start} to {a.end}"),
        ("Sessions", f"{a.sessions:,}"),
        ("First / last level", f"{number(a.first_level)} / {number(a.last_level)}"),
        ("Total return", percent(a.total_return)),
        ("Annualised return (geometric)", percent(a.annualized_return)),
        (
            f"Annualised volatility (ddof={a.ddof}, {a.periods_per_year:g}/year)",
            percent(a.annualized_volatility),
        ),
        (
            f"Rolling {a.volatility_window}-session volatility at the end",
            percent(a.last_rolling_volatility),
        ),
        ("Maximum drawdown", dd),
    ]
    roc = _table(
        [
            "lookback (sessions)",
            "from",
            "from level",
            "percent",
            "fraction",
            "ratio",
            "momentum (points)",
        ],
        [
            (
                r["period"],
                r["from_session"],
                number(r["from_level"]),
                percent(r["fraction"], sign=True),
                number(r["fraction"], 4),
                number(r["ratio"], 4),
                number(r["momentum"]),
            )
            for r in a.rate_of_change.iter_rows(named=True)
        ],
        caption=f"Rate of change and momentum at {a.end}",
    )
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in a.notes)
    return _section(
        "summary",
        "Summary",
        _table(["measure", "value"], rows, caption=f"{a.name}: returns and risk"),
        roc,
        notes,
    )


def _benchmarks(a: Analysis, benchmark: str) -> str:
    rows = [
        (
            f"{b.name} ({b.code})",
            f"{_text(b.first_session)} to {_text(b.last_session)}",
            f"{b.sessions:,}",
            number(b.beta, 3),
            number(b.correlation, 3),
            number(b.up_capture, 3),
            number(b.down_capture, 3),
            percent(b.index_annualized_return),
            percent(b.benchmark_annualized_return),
            percent(b.relative_change, sign=True),
            percent(b.relative_annualized, sign=True),
        )
        for b in a.benchmarks
    ]
    table = _table(
        [
            "benchmark",
            "common sessions",
            "n",
            "beta",
            "correlation",
            "up capture",
            "down capture",
            f"{a.name} ann. return",
            "benchmark ann. return",
            "relative change",
            "relative, annualised",
        ],
        rows,
        caption=f"{a.name} against large caps (daily returns on common sessions)",
    )
    parts = [
        _image(charts.level_chart(a, benchmark=_drawable(a, benchmark)), "level"),
        table,
    ]
    if _drawable(a, benchmark) is not None:
        parts.append(_image(charts.relative_chart(a, benchmark=benchmark), "relative"))
    return _section(
        "level",
        "Level vs large caps, rallies and range-bound periods",
        _p(
            "Both series rebased; rallies shaded green, range-bound periods "
            "orange. A rising ratio means small caps did better than large caps."
        ),
        *parts,
    )


def _drawable(a: Analysis, benchmark: str) -> str | None:
    for b in a.benchmarks:
        if b.code == benchmark and b.first_session is not None:
            return benchmark
    return None


def _risk(a: Analysis) -> str:
    deepest = a.drawdowns.sort("depth").head(10)
    dd = _table(
        [
            "start (high)",
            "trough",
            "recovery",
            "depth",
            "sessions to trough",
            "duration (sessions)",
        ],
        [
            (
                r["start"],
                r["trough"],
                r["recovery"] or "not yet",
                percent(r["depth"]),
                r["decline_sessions"],
                r["duration_sessions"],
            )
            for r in deepest.iter_rows(named=True)
        ],
        caption=f"Deepest drawdowns ({deepest.height} of {a.drawdowns.height})",
    )
    years = _table(
        ["year", "first", "last", "sessions", "return", "complete year"],
        [
            (
                r["year"],
                r["first_session"],
                r["last_session"],
                r["sessions"],
                percent(r["return"], sign=True),
                r["complete"],
            )
            for r in a.yearly.iter_rows(named=True)
        ],
        caption="Calendar-year returns (price index)",
    )
    return "".join(
        (
            _section("roc", "Rate of change", _image(charts.roc_chart(a), "roc")),
            _section(
                "volatility",
                "Rolling volatility",
                _image(charts.volatility_chart(a), "volatility"),
            ),
            _section(
                "drawdowns",
                "Drawdowns",
                _image(charts.drawdown_chart(a), "drawdowns"),
                dd,
                years,
            ),
        )
    )


def _periods(a: Analysis) -> str:
    rallies = _table(
        [
            "preceding peak",
            "decline",
            "trough",
            "trough level",
            "peak",
            "peak level",
            "gain",
            "sessions",
            "ongoing",
        ],
        [
            (
                r["preceding_peak_session"],
                percent(r["preceding_decline"]),
                r["trough_session"],
                number(r["trough_level"]),
                r["peak_session"],
                number(r["peak_level"]),
                percent(r["gain"], sign=True),
                r["length_sessions"],
                r["ongoing"],
            )
            for r in a.rallies.iter_rows(named=True)
        ],
        caption=(
            f"Rallies: rises of at least {percent(a.rally_threshold, 0)} from a trough "
            f"that followed a decline of at least {percent(a.decline_threshold, 0)} "
            f"({a.rallies.height})"
        ),
    )
    ranges = _table(
        ["start", "end", "sessions", "support", "resistance", "width", "ongoing"],
        [
            (
                r["start_session"],
                r["end_session"],
                r["length_sessions"],
                number(r["support"]),
                number(r["resistance"]),
                percent(r["resistance"] / r["support"] - 1.0),
                r["ongoing"],
            )
            for r in a.ranges.iter_rows(named=True)
        ],
        caption=(
            f"Range-bound periods ({a.ranges.height}; detection on "
            f"{a.bars} bars: CHOP, VHF and channel-width votes)"
        ),
    )
    return _section(
        "rallies",
        "Rallies",
        _image(charts.rallies_chart(a), "rallies"),
        rallies,
    ) + _section(
        "ranges",
        "Range-bound periods",
        _image(charts.ranges_chart(a), "ranges"),
        ranges,
    )


def _characteristics(inputs: ReportInputs) -> str:
    sides = [
        c
        for c in (inputs.index_characteristics, inputs.holdings_characteristics)
        if c is not None
    ]
    if not sides:
        return ""
    measures: list[tuple[str, Any]] = [
        ("as of", lambda c: _text(c.as_of)),
        ("market panel session", lambda c: _text(c.market_session)),
        ("constituents (lines)", lambda c: f"{c.constituents:,}"),
        ("with a company cap", lambda c: f"{c.cap_coverage:,}"),
        ("total market cap", lambda c: money(c.total_market_cap)),
        (
            "float-adjusted cap (fund: market value)",
            lambda c: money(c.float_market_cap),
        ),
        ("smallest company cap", lambda c: money(c.smallest_cap)),
        ("largest company cap", lambda c: money(c.largest_cap)),
        ("median company cap", lambda c: money(c.median_cap)),
        ("mean company cap", lambda c: money(c.mean_cap)),
        ("weighted-average company cap", lambda c: money(c.weighted_average_cap)),
        ("top-10 weight", lambda c: percent(c.top10_weight)),
        ("HHI (x 10,000)", lambda c: number(c.hhi * 10_000.0, 1)),
        (
            "effective number of constituents",
            lambda c: number(c.effective_constituents, 1),
        ),
        ("daily dollar volume", lambda c: money(c.dollar_volume)),
        ("weights", lambda c: c.weight_basis),
        ("sectors", lambda c: c.sector_scheme),
    ]
    table = _table(
        ["measure", *(c.source for c in sides)],
        [(name, *(f(c) for c in sides)) for name, f in measures],
        caption="Index characteristics",
    )
    tops = "".join(
        _table(
            ["ticker", "name", "sector", "weight"],
            [
                (
                    r["security_id"],
                    clean_name(r["name"]),
                    r["sector"],
                    percent(r["weight"], 3),
                )
                for r in c.top10.iter_rows(named=True)
            ],
            caption=f"Ten largest: {c.source} on {c.as_of}",
        )
        for c in sides
    )
    parts = [table, f'<div class="cols">{tops}</div>']
    overlaps = [
        (c.source, o)
        for c, o in (
            (inputs.index_characteristics, inputs.index_overlap),
            (inputs.holdings_characteristics, inputs.holdings_overlap),
        )
        if c is not None and o is not None
    ]
    if overlaps:
        parts.append(
            _table(
                [
                    "index",
                    "members",
                    "in the S&P 600",
                    "their weight",
                    "share of the S&P 600",
                    "in the S&P 500",
                    "their weight",
                ],
                [
                    (
                        name,
                        f"{o.members:,}",
                        o.in_sp600,
                        percent(o.weight_in_sp600),
                        f"{percent(o.share_of_sp600, 1)} of {o.sp600_size}",
                        o.in_sp500,
                        percent(o.weight_in_sp500),
                    )
                    for name, o in overlaps
                ],
                caption="S&P 600 overlap (matched by normalised ticker; the S&P "
                "list is an undated 2026 snapshot)",
            )
        )
    t = inputs.turnover
    if t is not None:
        parts.append(
            _table(
                [
                    "effective after the close of",
                    "first session",
                    "members before",
                    "members after",
                    "additions",
                    "their weight",
                    "deletions",
                    "their weight",
                    "share updates",
                    "one-way turnover",
                ],
                [
                    (
                        t.session,
                        t.next_session,
                        t.members_before,
                        t.members_after,
                        t.additions,
                        percent(t.addition_weight),
                        t.deletions,
                        percent(t.deletion_weight),
                        t.updates,
                        percent(t.one_way_turnover),
                    )
                ],
                caption="r2k's last reconstitution: turnover by weight "
                "(0.5 x sum |w_new - w_old| at the same closes)",
            )
        )
    sector_images = "".join(
        _image(charts.sector_chart(c), f"sectors {c.source}") for c in sides
    )
    cap_images = "".join(
        _image(charts.cap_distribution_chart(c), f"caps {c.source}")
        for c in sides
        if c.cap_coverage
    )
    return (
        _section("characteristics", "Index characteristics", *parts)
        + _section("sectors", "Sector mix", sector_images)
        + _section("caps", "Cap distribution", cap_images)
    )


def _recon_effect(inputs: ReportInputs) -> str:
    effect = inputs.recon_effect
    if effect is None:
        return ""
    windows = (
        ("rank_to_effective", "rank day to effective"),
        ("effective_day", "effective day"),
        ("post_20", "20 sessions after"),
        ("rank_to_post_20", "whole span"),
    )
    rows = [
        (
            row["change"],
            f"{row['n']:,}",
            *[
                f"{percent(row[f'{w}_mean'])} ({percent(row[f'{w}_std'])}; "
                f"t {number(row[f'{w}_t'], 1)})"
                for w, _ in windows
            ],
        )
        for row in effect.summary.iter_rows(named=True)
    ]
    table = _table(
        ["change", "lines", *[label for _, label in windows]],
        rows,
        caption="Mean cumulative abnormal return (standard deviation across lines; "
        "t statistic of the mean)",
    )
    chart = _image(
        charts.recon_effect_chart(
            effect.paths,
            preliminary_list=effect.preliminary_list,
            effective=effect.effective_date,
        ),
        "reconstitution effect",
    )
    return _section(
        "recon-effect",
        "Reconstitution effect",
        _p(
            f"The changes r2k predicts for the reconstitution ranked on "
            f"{effect.rank_day} (preliminary lists {effect.preliminary_list}, "
            f"effective after the close of {effect.effective_date}), as of the rank "
            f"day; abnormal return = the line's close-to-close return less the "
            f"benchmark's: {effect.benchmark}."
        ),
        table,
        chart,
    )


def _provenance(inputs: ReportInputs) -> str:
    rows = [
        (s.what, s.path, s.first, s.last, "n/a" if s.rows is None else f"{s.rows:,}")
        for s in inputs.sources
    ]
    return _section(
        "provenance",
        "Data provenance",
        _table(["what", "file", "first", "last", "rows / sessions"], rows),
        _p(
            "Index levels are the published price indices (no dividends). r2k's "
            "own index is calculated by r2k from the market panel, starting from "
            "the IWM holdings named above, with its own reconstitution. The market "
            "panel's total caps are Nasdaq's (total shares x price) and it leaves "
            "out US-listed companies domiciled abroad."
        ),
        _p(
            "Conventions: simple daily returns; annualised return is geometric "
            "over 252 sessions a year; volatility is the sample standard deviation "
            "(ddof=1) times sqrt(252); benchmarks are compared on common sessions. "
            + ROUNDING_NOTE
        ),
    )


def render_report(inputs: ReportInputs, *, title: str | None = None) -> str:
    """The report as one self-contained HTML document.

    Parameters
    ----------
    inputs : ReportInputs
        What to show (from :func:`gather_report`, or assembled by hand; a
        missing characteristics part leaves its sections out).
    title : str, optional
        Page title (default: "<index> analysis report").

    Returns
    -------
    str
        HTML with inline CSS and the charts as base64 ``data:`` PNG images; no
        external resource.
    """
    a = inputs.analysis
    heading = title or f"{BENCHMARK_NAMES.get(a.name, a.name)} ({a.name}) analysis"
    rate_sections, rate_nav = render_sections(inputs.rates)
    sheet = factsheet(a.daily.select("session", "level"), name=a.name)
    body = [
        _factsheet(inputs, sheet),
        _summary(a),
        _benchmarks(a, inputs.benchmark),
        _risk(a),
        _periods(a),
        _characteristics(inputs),
        _recon_effect(inputs),
        rate_sections,
        _provenance(inputs),
    ]
    nav = " ".join(
        f'<a href="#{anchor}">{label}</a>'
        for anchor, label in (
            ("factsheet", "Factsheet"),
            ("summary", "Summary"),
            ("level", "Level"),
            ("roc", "Rate of change"),
            ("volatility", "Volatility"),
            ("drawdowns", "Drawdowns"),
            ("rallies", "Rallies"),
            ("ranges", "Ranges"),
            ("characteristics", "Characteristics"),
            ("sectors", "Sectors"),
            ("caps", "Caps"),
            *(
                [("recon-effect", "Reconstitution effect")]
                if inputs.recon_effect
                else []
            ),
            *rate_nav,
            ("provenance", "Provenance"),
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(heading)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(heading)}</h1>"
        f'<p class="note">{html.escape(f"{a.start} to {a.end}")}; '
        f"{html.escape(ROUNDING_NOTE)}</p><nav>{nav}</nav>"
        + "".join(body)
        + "</body></html>\n"
    )


def write_report(path: str | os.PathLike[str], html_text: str) -> Path:
    """Write the report atomically (temporary file, then rename) and return its path.

    Parameters
    ----------
    path : str or path-like
        Target file; its folder must exist.
    html_text : str
        The document from :func:`render_report`.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    r2k.data.files.OutputFileError
        If the file cannot be written (any old file is left as it was).
    """
    return write_bytes_atomic(path, html_text.encode("utf-8"))
