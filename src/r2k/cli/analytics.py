"""The analytics commands of the ``r2k`` command line: analyze, report, plot.

:func:`register` adds them to a Typer app (``r2k.cli.app`` calls it on its own app).
The commands follow ``r2k.cli.app``'s conventions: ``--data`` (default
``$R2K_DATA``), ``--json`` for machine output, dates as ``YYYY-MM-DD``, and
errors raised as :class:`r2k.errors.R2KError`, which ``r2k.cli.app.main`` prints as
one line with exit code 2. The shared options come from
:mod:`r2k.cli.options`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from r2k.cli.currency import CurrencyOpt, print_currency
from r2k.cli.options import DataOpt, JsonOpt, out, parse_date, progress
from r2k.cli.rates import PLOT_CHARTS, draw_chart
from r2k.data.datadir import DataDir
from r2k.data.files import check_output_path
from r2k.errors import MethodologyError
from r2k.reporting.formatting import number, percent

if TYPE_CHECKING:
    from datetime import date

    from r2k.analytics.analysis import Analysis
    from r2k.analytics.characteristics import Characteristics

__all__ = ["register"]


# The chart names and their descriptions, kept in step with r2k.reporting.charts.CHARTS
# (a test checks it) so that --help does not import matplotlib.
CHART_NAMES: dict[str, str] = {
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

IndexOpt = Annotated[
    str,
    typer.Option(
        "--index",
        help="RUT: the published Russell 2000 since 1987 (vs SPX and RUA); r2k: "
        "r2k's own index over the market panel's window (vs SPX, RUT, RUA).",
    ),
]
StartOpt = Annotated[
    str | None,
    typer.Option("--start", help="First session (YYYY-MM-DD; default: the first)."),
]
EndOpt = Annotated[
    str | None,
    typer.Option("--end", help="Last session (YYYY-MM-DD; default: the last)."),
]

ChartOpt = Annotated[
    str,
    typer.Option(
        "--chart",
        help="Chart to draw: "
        + "; ".join(
            f"{name}: {what}" for name, what in (CHART_NAMES | PLOT_CHARTS).items()
        ),
    ),
]
FigureOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Chart file to write; its suffix picks the format: .png, .svg, .pdf.",
    ),
]
HtmlOpt = Annotated[
    Path, typer.Option("--out", help="HTML file to write (one file, works offline).")
]
BenchmarkOpt = Annotated[
    str,
    typer.Option(
        "--benchmark",
        help="Benchmark of the level and relative charts (SPX, RUA, RUT).",
    ),
]


def _parse_date(value: str | None, option: str) -> date | None:
    return None if value is None else parse_date(value, option)


def _index(value: str) -> str:
    for name in ("RUT", "r2k"):
        if value.lower() == name.lower():
            return name
    msg = f"--index {value!r} is not an index r2k analyses; choose RUT or r2k"
    raise MethodologyError(msg)


def _window(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    first = _parse_date(start, "--start")
    last = _parse_date(end, "--end")
    if first is not None and last is not None and last <= first:
        msg = f"--end {last} must be after --start {first}"
        raise typer.BadParameter(msg)
    return first, last


def _print_analysis(a: Analysis) -> None:
    worst = a.deepest_drawdown
    summary = Table(title=f"{a.name}: {a.start} to {a.end} ({a.sessions:,} sessions)")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    rows = [
        ("first / last level", f"{number(a.first_level)} / {number(a.last_level)}"),
        ("total return", percent(a.total_return)),
        ("annualised return (geometric)", percent(a.annualized_return)),
        ("annualised volatility (ddof=1)", percent(a.annualized_volatility)),
        (
            f"volatility, last {a.volatility_window} sessions",
            percent(a.last_rolling_volatility),
        ),
        ("maximum drawdown", percent(a.max_drawdown)),
    ]
    if worst is not None:
        rows.append(
            (
                "  high / trough / recovery",
                f"{worst['start']} / {worst['trough']} / "
                f"{worst['recovery'] or 'not yet'}",
            )
        )
    for measure, value in rows:
        summary.add_row(measure, value)
    out.print(summary)

    bench = Table(title="Against large caps (daily returns, common sessions)")
    for col in (
        "benchmark",
        "common sessions",
        "beta",
        "corr.",
        "up cap.",
        "down cap.",
        "relative",
    ):
        bench.add_column(col, justify="left" if col == "benchmark" else "right")
    for b in a.benchmarks:
        span = f"{b.first_session} .. {b.last_session}" if b.first_session else "none"
        bench.add_row(
            f"{b.name} ({b.code})",
            span,
            number(b.beta, 3),
            number(b.correlation, 3),
            number(b.up_capture, 3),
            number(b.down_capture, 3),
            percent(b.relative_change, sign=True),
        )
    out.print(bench)

    roc = Table(title=f"Rate of change at {a.end}")
    for col in ("sessions", "from", "percent", "fraction", "ratio", "momentum"):
        roc.add_column(col, justify="right")
    for r in a.rate_of_change.iter_rows(named=True):
        roc.add_row(
            str(r["period"]),
            str(r["from_session"] or "n/a"),
            percent(r["fraction"], sign=True),
            number(r["fraction"], 4),
            number(r["ratio"], 4),
            number(r["momentum"]),
        )
    out.print(roc)

    dd = Table(title=f"Deepest drawdowns (of {a.drawdowns.height})")
    for col in ("high", "trough", "recovery", "depth", "sessions"):
        dd.add_column(col, justify="right")
    for r in a.drawdowns.sort("depth").head(5).iter_rows(named=True):
        dd.add_row(
            str(r["start"]),
            str(r["trough"]),
            str(r["recovery"] or "not yet"),
            percent(r["depth"]),
            str(r["duration_sessions"]),
        )
    out.print(dd)

    ral = Table(
        title=f"Rallies, the last 10 of {a.rallies.height} "
        f"(>= {percent(a.rally_threshold, 0)} "
        f"after >= {percent(a.decline_threshold, 0)})"
    )
    for col in ("trough", "peak", "gain", "sessions", "ongoing"):
        ral.add_column(col, justify="right")
    for r in a.rallies.tail(10).iter_rows(named=True):
        ral.add_row(
            str(r["trough_session"]),
            str(r["peak_session"]),
            percent(r["gain"], sign=True),
            str(r["length_sessions"]),
            "yes" if r["ongoing"] else "no",
        )
    out.print(ral)

    rng = Table(title=f"Range-bound periods, the last 10 of {a.ranges.height}")
    for col in ("start", "end", "sessions", "support", "resistance"):
        rng.add_column(col, justify="right")
    for r in a.ranges.tail(10).iter_rows(named=True):
        rng.add_row(
            str(r["start_session"]),
            str(r["end_session"]),
            str(r["length_sessions"]),
            number(r["support"]),
            number(r["resistance"]),
        )
    out.print(rng)
    for note in a.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    out.print(
        "Figures are unrounded internally; tables round with Python's round() "
        "(round-half-even)."
    )


def _characteristics(data: DataDir, index: str) -> Characteristics:
    """r2k's index on its last session, or the latest IWM file for RUT."""
    import polars as pl

    from r2k.analytics.characteristics import (
        holdings_characteristics,
        index_characteristics,
    )
    from r2k.data.sources.panel import as_of, read_market_panel

    panel = read_market_panel(data.market_panel)
    if index == "r2k":
        from r2k.workflows.explain import calculate_r2k

        calc = calculate_r2k(data, constituents=True)
        last = calc.constituents.get_column("session").max()
        return index_characteristics(
            calc.constituents.filter(pl.col("session") == last),
            panel.filter(pl.col("session") == last),
        )
    from r2k.data.sources.ishares import read_holdings
    from r2k.errors import MissingDataError

    files = data.dated_holdings("IWM")
    if not files:
        msg = (
            f"data directory {data.root} has no ishares/IWM_<date>.csv file for "
            "the RUT constituents; use --index r2k"
        )
        raise MissingDataError(msg)
    holdings = read_holdings(files[-1][1])
    known = as_of(panel, holdings.as_of)
    day = known.get_column("session").max()
    return holdings_characteristics(holdings, known.filter(pl.col("session") == day))


def _done(as_json: bool, chart: str, path: Path, fmt: str) -> None:
    if as_json:
        payload = {"chart": chart, "out": str(path), "format": fmt}
        out.print_json(json.dumps(payload))
        return
    out.print(f"{chart} chart written to {path}")


def register(app: typer.Typer) -> None:
    """Add the ``analyze``, ``report`` and ``plot`` commands to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The application (``r2k.cli.app.app``, or a fresh one in tests).
    """

    @app.command()
    def analyze(
        data: DataOpt = None,
        index: IndexOpt = "RUT",
        start: StartOpt = None,
        end: EndOpt = None,
        currency: CurrencyOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Returns, risk, drawdowns, benchmarks, rallies and ranges of an index."""
        from r2k.workflows.explain import analyze_index

        name = _index(index)
        first, last = _window(start, end)
        source = DataDir.resolve(data)
        if currency is not None:
            from r2k.workflows.currency import analyze_in_currency

            with progress(f"analysing {name} in {currency} from {source.root} ..."):
                in_ccy = analyze_in_currency(
                    source, name, currency, start=first, end=last
                )
            if as_json:
                out.print_json(json.dumps(in_ccy.to_dict()))
                return
            _print_analysis(in_ccy.analysis)
            print_currency(in_ccy.version, in_ccy.notes)
            return
        with progress(f"analysing {name} from {source.root} ..."):
            result = analyze_index(source, name, start=first, end=last)
        if as_json:
            out.print_json(json.dumps(result.to_dict()))
            return
        _print_analysis(result)

    @app.command()
    def report(
        out_file: HtmlOpt,
        data: DataOpt = None,
        index: IndexOpt = "RUT",
        start: StartOpt = None,
        end: EndOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Write one self-contained HTML report: factsheet, charts, provenance."""
        from r2k.reporting.report import gather_report, render_report, write_report

        name = _index(index)
        first, last = _window(start, end)
        check_output_path(out_file, ("html", "htm"))  # before any work
        source = DataDir.resolve(data)
        with progress(f"building the {name} report from {source.root} ..."):
            inputs = gather_report(source, index=name, start=first, end=last)
            text = render_report(inputs)
        path = write_report(out_file, text)
        images = text.count("data:image/png;base64,")
        if as_json:
            payload = {
                "index": name,
                "out": str(path),
                "bytes": len(text.encode()),
                "charts": images,
            }
            out.print_json(json.dumps(payload))
            return
        out.print(
            f"report written to {path} ({len(text.encode()) / 1e6:,.1f} MB, "
            f"{images} charts)"
        )

    @app.command()
    def plot(
        chart: ChartOpt,
        out_file: FigureOpt,
        data: DataOpt = None,
        index: IndexOpt = "RUT",
        start: StartOpt = None,
        end: EndOpt = None,
        benchmark: BenchmarkOpt = "SPX",
        currency: CurrencyOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Draw one chart as PNG, SVG or PDF (sectors/caps: r2k's index or IWM)."""
        from r2k.reporting.charts import figure_format, save_figure

        fmt = figure_format(out_file)
        if chart not in CHART_NAMES and chart not in PLOT_CHARTS:
            msg = (
                f"--chart {chart!r} is not a chart; choose one of: "
                f"{', '.join([*CHART_NAMES, *PLOT_CHARTS])}"
            )
            raise MethodologyError(msg)
        name = _index(index)
        first, last = _window(start, end)
        check_output_path(out_file, None)  # the suffix is checked above
        if chart in PLOT_CHARTS:
            with progress(f"drawing {chart} for {index} ..."):
                fig = draw_chart(
                    chart,
                    DataDir.resolve(data),
                    name,
                    currency=currency,
                    start=first,
                    end=last,
                )
                path = save_figure(fig, out_file)
            _done(as_json, chart, path, fmt)
            return
        from r2k.reporting.charts import chart_by_name
        from r2k.workflows.explain import analyze_index

        source = DataDir.resolve(data)
        with progress(f"drawing {chart} for {name} ..."):
            if chart in ("sectors", "caps"):
                from r2k.reporting.charts import cap_distribution_chart, sector_chart

                traits = _characteristics(source, name)
                fig = (
                    sector_chart(traits)
                    if chart == "sectors"
                    else cap_distribution_chart(traits)
                )
            else:
                result = analyze_index(source, name, start=first, end=last)
                fig = chart_by_name(chart, result, benchmark=benchmark.upper())
            path = save_figure(fig, out_file)
        _done(as_json, chart, path, fmt)
