"""``r2k rates``: the index against interest rates, the policy cycle, r* and stance.

:func:`register` adds the command to a Typer app (``r2k.cli.app`` calls it on
its own app). It follows ``r2k.cli.app``'s conventions: ``--data`` (default
``$R2K_DATA``), ``--json`` for everything unrounded, errors raised as
:class:`r2k.errors.R2KError` (one line, exit code 2). The work is
:func:`r2k.workflows.rates.rate_view`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from r2k.cli.options import DataOpt, JsonOpt, out, parse_date, progress
from r2k.data.datadir import DataDir
from r2k.errors import MethodologyError
from r2k.reporting.formatting import number, percent

if TYPE_CHECKING:
    from datetime import date

    from matplotlib.figure import Figure

    from r2k._typing import Frequency
    from r2k.workflows.rates import RateView

__all__ = ["PLOT_CHARTS", "beta_effect", "draw_chart", "print_rate_view", "register"]

# The rate and currency charts of ``r2k plot``, kept in step with
# r2k.reporting.rate_charts.RATE_CHARTS and CURRENCY_CHARTS (a test checks it) so
# that --help does not import matplotlib.
PLOT_CHARTS: dict[str, str] = {
    "rate_betas": "rolling three-year betas to the 2- and 10-year yields, index and "
    "index minus S&P 500, with two standard errors",
    "policy_cycle": "policy rate with hiking and cutting periods shaded, and the "
    "index on a log scale",
    "rate_events": "average path of the index around the first cut and the first "
    "hike of each cycle",
    "rstar": "real policy rate, r* (proxy or --rstar) and the stance since 2003",
    "currencies": "return in every currency, split into the dollar return, the "
    "currency return and the cross term",
    "currency": "the index in dollars and in --currency, rebased, with the rate",
}

RateIndexOpt = Annotated[
    str,
    typer.Option(
        "--index",
        help="RUT: the published Russell 2000 since 1987; r2000: r2k's calculated "
        "Russell 2000 over the market panel's window. Other indexes of the family "
        "are not available in `r2k rates` yet.",
    ),
]
FrequencyOpt = Annotated[
    str,
    typer.Option(
        "--frequency",
        help="Returns and yield changes: daily, weekly (last session of each week) "
        "or monthly.",
    ),
]
WindowOpt = Annotated[
    int | None,
    typer.Option(
        "--window",
        min=3,
        help="Periods per rolling-beta window (default: three years: 156 weeks).",
    ),
]
RstarOpt = Annotated[
    Path | None,
    typer.Option(
        "--rstar",
        help="CSV of r* in percent (date,rstar), dated by when each value became "
        "known, used instead of the market proxy.",
    ),
]
RstarColumnOpt = Annotated[
    str, typer.Option("--rstar-column", help="Value column of the --rstar file.")
]
RstarCarryOpt = Annotated[
    int | None,
    typer.Option(
        "--rstar-carry-days",
        min=0,
        help="Oldest r* value used, calendar days (default 5 for the proxy, 100 for "
        "a --rstar file).",
    ),
]
BandOpt = Annotated[
    float,
    typer.Option(
        "--band",
        min=0.0,
        help="Half-width of the neutral stance band, percentage points.",
    ),
]
CarryOpt = Annotated[
    int,
    typer.Option(
        "--max-carry-days",
        min=0,
        help="Oldest yield, rate or benchmark value used at a date, calendar days.",
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


def beta_effect(beta: object, change: str) -> str:
    """A beta as the move it implies: ``%`` per +100 bp, or ``%`` per +1%.

    A yield beta (return per 1 pp) times 100 is the percent move per 100 bp; a
    return beta (per unit return of the dollar) is the percent move per 1%.
    """
    if not isinstance(beta, int | float):
        return percent(None)
    return percent(beta if change == "difference" else beta / 100.0, sign=True)


def _per(change: str) -> str:
    return "per +100 bp" if change == "difference" else "per +1%"


def _changes(view: RateView) -> dict[str, str]:
    return dict(view.sensitivity.table.select("factor", "change").unique().iter_rows())


def _sensitivity(view: RateView) -> None:
    s = view.sensitivity
    kinds = _changes(view)
    table = Table(
        title=f"Rate sensitivity of {view.index}: {s.frequency} returns, OLS with "
        "intercept (beta as the move per +100 bp in the yield, or per +1% in the "
        "dollar)"
    )
    for col in (
        "return",
        "on the change in",
        "periods",
        "n",
        "beta",
        "s.e.",
        "s.e. (HC1)",
        "t",
        "R²",
    ):
        table.add_column(
            col, justify="left" if col in ("return", "on the change in") else "right"
        )
    for r in s.table.iter_rows(named=True):
        kind = kinds[r["factor"]]
        series = (
            view.index if r["series"] == "index" else f"{view.index} - {s.benchmark}"
        )
        table.add_row(
            series,
            f"{r['factor']} ({_per(kind)})",
            f"{r['first'] or 'n/a'} .. {r['last'] or 'n/a'}",
            f"{r['n']:,}",
            beta_effect(r["beta"], kind),
            beta_effect(r["se"], kind).lstrip("+"),
            beta_effect(r["se_hc1"], kind).lstrip("+"),
            number(r["t_stat"], 2),
            number(r["r_squared"], 3),
        )
    out.print(table)
    last = s.last_rolling()
    if last.height:
        roll = Table(
            title=f"Rolling betas, {s.window} {s.frequency} periods a window: the "
            "last window and the range over all windows"
        )
        for col in ("return", "on", "window end", "beta", "s.e.", "lowest", "highest"):
            roll.add_column(col, justify="left" if col in ("return", "on") else "right")
        for r in last.iter_rows(named=True):
            kind = kinds[r["factor"]]
            roll.add_row(
                view.index
                if r["series"] == "index"
                else f"{view.index} - {s.benchmark}",
                f"{r['factor']} ({_per(kind)})",
                str(r["period_end"]),
                beta_effect(r["beta"], kind),
                beta_effect(r["se"], kind).lstrip("+"),
                beta_effect(r["min_beta"], kind),
                beta_effect(r["max_beta"], kind),
            )
        out.print(roll)


def _rate(value: object) -> str:
    """A rate in percent: two decimals, three for an eighth (0.125%)."""
    if not isinstance(value, int | float):
        return "n/a"
    text = number(value, 3)
    return (text[:-1] if text.endswith("0") else text) + "%"


def _cycle(view: RateView) -> None:
    import polars as pl

    cycles = view.cycles.filter(pl.col("last_move") >= view.start)
    if cycles.height == 0:
        out.print(f"No policy move between {view.start} and {view.end}.")
    table = Table(
        title=f"Policy cycles since {view.start} (a new cycle at each reversal; "
        "rates in percent)"
    )
    for col in ("cycle", "first move", "last move", "moves", "from", "to", "change"):
        table.add_column(col, justify="left" if col == "cycle" else "right")
    for r in cycles.iter_rows(named=True):
        table.add_row(
            r["direction"],
            str(r["first_move"]),
            str(r["last_move"]),
            str(r["moves"]),
            _rate(r["rate_before"]),
            _rate(r["rate_after"]),
            f"{r['change'] * 100:+,.0f} bp",
        )
    if cycles.height:
        out.print(table)
    phases = Table(
        title=f"Returns by phase, annualised ({view.index}; small minus large vs "
        f"{view.benchmark} on the sessions both have)"
    )
    for col in (
        "phase",
        "periods",
        "sessions",
        "share",
        view.index,
        view.benchmark,
        "small minus large",
    ):
        phases.add_column(col, justify="left" if col == "phase" else "right")
    for r in view.phases.iter_rows(named=True):
        phases.add_row(
            r["phase"],
            str(r["periods"]),
            f"{r['sessions']:,}",
            percent(r["share"], 1),
            percent(r["index_annualized"], sign=True),
            percent(r["benchmark_annualized"], sign=True),
            percent(r["small_minus_large"], sign=True),
        )
    out.print(phases)
    recent = view.periods.tail(12)
    per = Table(
        title=f"Hiking, cutting and holding periods: the last {recent.height} of "
        f"{view.periods.height}"
    )
    for col in (
        "phase",
        "from",
        "to",
        "sessions",
        "moves",
        "change",
        view.index,
        view.benchmark,
        "small minus large",
    ):
        per.add_column(col, justify="left" if col == "phase" else "right")
    for r in recent.iter_rows(named=True):
        per.add_row(
            r["phase"],
            str(r["start"]),
            str(r["end"]),
            str(r["sessions"]),
            str(r["moves"]),
            f"{r['change'] * 100:+,.0f} bp",
            percent(r["index_return"], sign=True),
            percent(r["benchmark_return"], sign=True),
            percent(r["small_minus_large"], sign=True),
        )
    out.print(per)


def _events(view: RateView) -> None:
    ev = view.events
    if ev.events.height == 0:
        return
    hs = [h for h in ev.horizons if h in (1, 21, 63, 126, 252)]
    table = Table(
        title=f"First cut and first hike of each cycle: {view.index} from the close "
        f"before day 0 (pre: the {ev.pre} sessions before; +h: h sessions from day 0)"
    )
    for col in (
        "date",
        "event",
        "rate",
        f"pre {ev.pre}",
        *(f"+{h}" for h in hs),
        f"+63 vs {view.benchmark}",
    ):
        table.add_column(col, justify="left" if col in ("date", "event") else "right")
    for r in ev.events.iter_rows(named=True):
        table.add_row(
            str(r["date"]),
            r["kind"].replace("_", " "),
            f"{_rate(r['rate_before'])} -> {_rate(r['rate_after'])}",
            percent(r[f"pre_{ev.pre}"], 1, sign=True),
            *(percent(r[f"post_{h}"], 1, sign=True) for h in hs),
            percent(r.get("sml_post_63"), 1, sign=True),
        )
    out.print(table)
    avg = Table(title="Event study averages (mean / median; events counted)")
    avg.add_column("event")
    avg.add_column("horizon", justify="right")
    for col in (
        "events",
        "mean",
        "median",
        f"vs {view.benchmark}: n",
        "mean",
        "median",
    ):
        avg.add_column(col, justify="right")
    for r in ev.summary.iter_rows(named=True):
        avg.add_row(
            r["kind"].replace("_", " "),
            f"pre {-r['horizon']}" if r["horizon"] < 0 else f"+{r['horizon']}",
            str(r["events"]),
            percent(r["mean"], 1, sign=True),
            percent(r["median"], 1, sign=True),
            str(r["sml_events"]),
            percent(r["sml_mean"], 1, sign=True),
            percent(r["sml_median"], 1, sign=True),
        )
    out.print(avg)


def _stance(view: RateView) -> None:
    latest = view.latest()
    if latest is not None:
        out.print(
            f"[bold]r* and stance[/bold] on {latest['date']}: effective rate "
            f"{_rate(latest['effective_rate'])} - 5-year breakeven "
            f"{_rate(latest['breakeven_5y'])} = real policy rate "
            f"{_rate(latest['real_policy_rate'])}; r* {_rate(latest['rstar'])} "
            f"({view.rstar_source}); stance {number(latest['stance'], 2)} pp"
        )
    by = Table(
        title=f"{view.index} by stance at the start of each "
        f"{view.sensitivity.frequency} period (neutral: within ±{view.band:g} pp), "
        "annualised"
    )
    for col in (
        "stance",
        "periods",
        "share",
        "mean stance",
        view.index,
        view.benchmark,
        "small minus large",
    ):
        by.add_column(col, justify="left" if col == "stance" else "right")
    for r in view.by_stance.iter_rows(named=True):
        by.add_row(
            r["stance"],
            str(r["periods"]),
            percent(r["share"], 1),
            f"{number(r['mean_stance'], 2)} pp",
            percent(r["index_annualized"], sign=True),
            percent(r["benchmark_annualized"], sign=True),
            percent(r["small_minus_large"], sign=True),
        )
    out.print(by)
    years = Table(
        title="Stance by year: means of the real policy rate, r* and stance "
        "(percent), and the calendar-year returns (the last year to date)"
    )
    for col in (
        "year",
        "real policy rate",
        "r*",
        "stance",
        "at year end",
        view.index,
        "small minus large",
    ):
        years.add_column(col, justify="right")
    for r in view.stance_years.iter_rows(named=True):
        years.add_row(
            str(r["year"]),
            number(r["real_policy_rate"], 2),
            number(r["rstar"], 2),
            number(r["stance"], 2),
            number(r["stance_end"], 2),
            percent(r["index_return"], 1, sign=True),
            percent(r["small_minus_large"], 1, sign=True),
        )
    out.print(years)


def print_rate_view(view: RateView) -> None:
    """Render :func:`r2k.workflows.rates.rate_view` as terminal tables."""
    out.print(
        f"[bold]{view.index_name}[/bold]: {view.start} to {view.end}; rates in "
        "percent, returns as percentages, small minus large against the S&P 500"
    )
    _sensitivity(view)
    _cycle(view)
    _events(view)
    _stance(view)
    for note in view.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    out.print("Figures are unrounded internally (--json); tables round half to even.")


def draw_chart(
    chart: str,
    data: DataDir,
    index: str,
    *,
    currency: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Figure:
    """One of :data:`PLOT_CHARTS` for ``index`` (``RUT``, or ``r2k``/``r2000``).

    Raises
    ------
    MethodologyError
        If ``chart`` is not one of them, or ``currency`` is missing for the
        ``currency`` chart.
    """
    from r2k.reporting import rate_charts

    code = "r2000" if index.lower() in ("r2k", "r2000") else index
    if chart in rate_charts.RATE_CHARTS:
        from r2k.workflows.rates import rate_view

        view = rate_view(data, code, start=start, end=end)
        return rate_charts.rate_chart_by_name(chart, view)
    from r2k.workflows.currency import analyze_in_currency, currency_versions

    ccy_index = "RUT" if code == "RUT" else "r2k"
    if chart == "currencies":
        versions, _ = currency_versions(data, ccy_index)
        return rate_charts.currencies_chart(versions)
    if chart == "currency":
        if currency is None:
            msg = "--chart currency needs --currency XXX (EUR, JPY, ...)"
            raise MethodologyError(msg)
        result = analyze_in_currency(data, ccy_index, currency, start=start, end=end)
        return rate_charts.currency_chart(result.version)
    msg = f"--chart {chart!r} is not a rate or currency chart: {', '.join(PLOT_CHARTS)}"
    raise MethodologyError(msg)


def _frequency(value: str) -> Frequency:
    from r2k.analytics.rates import FREQUENCIES

    for choice in FREQUENCIES:
        if value.lower() == choice:
            return choice
    msg = f"--frequency {value!r}: use {', '.join(FREQUENCIES)}"
    raise MethodologyError(msg)


def register(app: typer.Typer) -> None:
    """Add the ``rates`` command to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The application (``r2k.cli.app.app``, or a fresh one in tests).
    """

    @app.command()
    def rates(
        data: DataOpt = None,
        index: RateIndexOpt = "RUT",
        frequency: FrequencyOpt = "weekly",
        window: WindowOpt = None,
        start: StartOpt = None,
        end: EndOpt = None,
        rstar: RstarOpt = None,
        rstar_column: RstarColumnOpt = "rstar",
        rstar_carry_days: RstarCarryOpt = None,
        band: BandOpt = 0.5,
        max_carry_days: CarryOpt = 5,
        as_json: JsonOpt = False,
    ) -> None:
        """Rate betas, the policy cycle and event study, r* and the policy stance."""
        from r2k.workflows.rates import rate_view

        first = parse_date(start, "--start") if start is not None else None
        last = parse_date(end, "--end") if end is not None else None
        if first is not None and last is not None and last <= first:
            msg = f"--end {last} must be after --start {first}"
            raise typer.BadParameter(msg)
        source = DataDir.resolve(data)
        with progress(f"reading rates and {index} from {source.root} ..."):
            view = rate_view(
                source,
                index,
                frequency=_frequency(frequency),
                window=window,
                start=first,
                end=last,
                rstar=rstar,
                rstar_column=rstar_column,
                rstar_max_carry_days=rstar_carry_days,
                band=band,
                max_carry_days=max_carry_days,
            )
        if as_json:
            out.print_json(json.dumps(view.to_dict()))
            return
        print_rate_view(view)
