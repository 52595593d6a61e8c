"""The rates and currency sections of the HTML report.

:func:`gather_rates` computes what the sections show (the rate view of
:mod:`r2k.workflows.rates` and the currency versions of
:mod:`r2k.workflows.currency`); :func:`rates_section` and
:func:`currency_section` render them with the report's own table, image and
section helpers (:mod:`r2k.reporting.report`), so the report stays one offline
file. A data directory without the rates or FX files leaves the section out and
says why in the report's notes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from r2k.errors import R2KError
from r2k.reporting import rate_charts
from r2k.reporting.formatting import number, percent

if TYPE_CHECKING:
    from r2k.analytics.currency import CurrencyVersion
    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation
    from r2k.workflows.rates import RateView

__all__ = ["RatesInputs", "currency_section", "gather_rates", "rates_section"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RatesInputs:
    """The rate view and the currency versions of the report's index.

    Attributes
    ----------
    rates : RateView or None
        ``None`` when it could not be computed (see ``notes``).
    currencies : tuple of CurrencyVersion
        One per currency with data.
    currency_notes : tuple of str
        The window, repairs and currencies left out.
    fx_path : str or None
        The FX pairs file read.
    notes : tuple of str
        Why a section is missing.
    """

    rates: RateView | None = None
    currencies: tuple[CurrencyVersion, ...] = ()
    currency_notes: tuple[str, ...] = ()
    fx_path: str | None = None
    notes: tuple[str, ...] = ()


def gather_rates(
    data: DataDir, index: str, *, calculation: Calculation | None = None
) -> RatesInputs:
    """The rate view and every currency version of ``index`` (``RUT`` or ``r2k``).

    A missing or unreadable rates or FX file is not fatal here: the section is
    left out and the reason kept in :attr:`RatesInputs.notes`.
    """
    from r2k.data.sources.fx import fx_pairs_path
    from r2k.workflows.currency import currency_versions
    from r2k.workflows.rates import rate_view

    notes: list[str] = []
    view = None
    try:
        view = rate_view(
            data, "RUT" if index == "RUT" else "r2000", calculation=calculation
        )
    except R2KError as exc:
        notes.append(f"no rates section: {exc}")
    versions: list[CurrencyVersion] = []
    ccy_notes: list[str] = []
    fx_path = None
    try:
        fx_path = str(fx_pairs_path(data))
        versions, ccy_notes = currency_versions(data, index, calculation=calculation)
    except R2KError as exc:
        notes.append(f"no currency section: {exc}")
    return RatesInputs(
        rates=view,
        currencies=tuple(versions),
        currency_notes=tuple(ccy_notes),
        fx_path=fx_path,
        notes=tuple(notes),
    )


def _bp(value: object) -> str:
    return f"{float(value) * 100:+,.0f} bp" if isinstance(value, int | float) else "n/a"


def _pp(value: object) -> str:
    return number(value, 2)


def _effect(value: object, change: str) -> str:
    if not isinstance(value, int | float):
        return "n/a"
    return percent(value if change == "difference" else value / 100.0, sign=True)


def rates_section(view: RateView) -> str:
    """The "Rates and the policy cycle" section (id ``rates``)."""
    from r2k.reporting.report import _image, _p, _section, _table

    s = view.sensitivity
    bench = s.benchmark
    name = view.index
    betas = _table(
        [
            "return",
            "change in",
            "periods",
            "n",
            "beta",
            "s.e.",
            "s.e. (HC1)",
            "t",
            "R²",
        ],
        [
            (
                name if r["series"] == "index" else f"{name} - {bench}",
                f"{r['label']} "
                + ("(per +100 bp)" if r["change"] == "difference" else "(per +1%)"),
                f"{r['first']} to {r['last']}",
                f"{r['n']:,}",
                _effect(r["beta"], r["change"]),
                _effect(r["se"], r["change"]).lstrip("+"),
                _effect(r["se_hc1"], r["change"]).lstrip("+"),
                number(r["t_stat"], 2),
                number(r["r_squared"], 3),
            )
            for r in s.table.iter_rows(named=True)
        ],
        caption=f"Rate sensitivity: {s.frequency} returns on yield changes (OLS "
        "with intercept; classical and HC1 standard errors)",
    )
    changes = dict(s.table.select("factor", "change").unique().iter_rows())
    last = s.last_rolling()
    rolling = _table(
        ["return", "on", "window end", "beta", "s.e.", "lowest", "highest"],
        [
            (
                name if r["series"] == "index" else f"{name} - {bench}",
                r["factor"],
                r["period_end"],
                _effect(r["beta"], changes[r["factor"]]),
                _effect(r["se"], changes[r["factor"]]).lstrip("+"),
                _effect(r["min_beta"], changes[r["factor"]]),
                _effect(r["max_beta"], changes[r["factor"]]),
            )
            for r in last.iter_rows(named=True)
        ],
        caption=f"Rolling betas ({s.window} {s.frequency} periods a window): the "
        "last window and the range over all windows",
    )
    phases = _table(
        ["phase", "periods", "sessions", "share", name, bench, "small minus large"],
        [
            (
                r["phase"],
                r["periods"],
                f"{r['sessions']:,}",
                percent(r["share"], 1),
                percent(r["index_annualized"], sign=True),
                percent(r["benchmark_annualized"], sign=True),
                percent(r["small_minus_large"], sign=True),
            )
            for r in view.phases.iter_rows(named=True)
        ],
        caption="Returns by phase of the policy cycle, annualised",
    )
    periods = _table(
        [
            "phase",
            "from",
            "to",
            "sessions",
            "moves",
            "change",
            name,
            bench,
            "small minus large",
        ],
        [
            (
                r["phase"],
                r["start"],
                r["end"],
                r["sessions"],
                r["moves"],
                _bp(r["change"]),
                percent(r["index_return"], sign=True),
                percent(r["benchmark_return"], sign=True),
                percent(r["small_minus_large"], sign=True),
            )
            for r in view.periods.iter_rows(named=True)
        ],
        caption=f"Hiking, cutting and holding periods ({view.periods.height})",
    )
    ev = view.events
    hs = list(ev.horizons)
    events = _table(
        ["date", "event", "rate before", "rate after", f"pre {ev.pre}"]
        + [f"+{h}" for h in hs]
        + [f"+63 vs {bench}"],
        [
            (
                r["date"],
                str(r["kind"]).replace("_", " "),
                _pp(r["rate_before"]),
                _pp(r["rate_after"]),
                percent(r[f"pre_{ev.pre}"], 1, sign=True),
                *(percent(r[f"post_{h}"], 1, sign=True) for h in hs),
                percent(r.get("sml_post_63"), 1, sign=True),
            )
            for r in ev.events.iter_rows(named=True)
        ],
        caption="Event study: cumulative return from the close before day 0 "
        "(+h: h sessions from day 0; pre: the sessions before)",
    )
    summary = _table(
        ["event", "horizon", "events", "mean", "median", "vs benchmark: n", "mean"],
        [
            (
                str(r["kind"]).replace("_", " "),
                f"pre {-r['horizon']}" if r["horizon"] < 0 else f"+{r['horizon']}",
                r["events"],
                percent(r["mean"], 1, sign=True),
                percent(r["median"], 1, sign=True),
                r["sml_events"],
                percent(r["sml_mean"], 1, sign=True),
            )
            for r in ev.summary.iter_rows(named=True)
        ],
        caption="Event study averages",
    )
    latest = view.latest()
    stance_text = (
        f"On {latest['date']}: effective rate {_pp(latest['effective_rate'])}% - "
        f"5-year breakeven {_pp(latest['breakeven_5y'])}% = real policy rate "
        f"{_pp(latest['real_policy_rate'])}%; r* {_pp(latest['rstar'])}% "
        f"({view.rstar_source}); stance {_pp(latest['stance'])} pp."
        if latest
        else "No stance: the data do not overlap."
    )
    by_stance = _table(
        [
            "stance",
            "periods",
            "share",
            "mean stance (pp)",
            name,
            bench,
            "small minus large",
        ],
        [
            (
                r["stance"],
                r["periods"],
                percent(r["share"], 1),
                _pp(r["mean_stance"]),
                percent(r["index_annualized"], sign=True),
                percent(r["benchmark_annualized"], sign=True),
                percent(r["small_minus_large"], sign=True),
            )
            for r in view.by_stance.iter_rows(named=True)
        ],
        caption=f"{name} by stance at the start of each {s.frequency} period "
        f"(neutral within ±{view.band:g} pp), annualised",
    )
    years = _table(
        [
            "year",
            "real policy rate",
            "r*",
            "stance",
            "at year end",
            name,
            "small minus large",
        ],
        [
            (
                r["year"],
                _pp(r["real_policy_rate"]),
                _pp(r["rstar"]),
                _pp(r["stance"]),
                _pp(r["stance_end"]),
                percent(r["index_return"], 1, sign=True),
                percent(r["small_minus_large"], 1, sign=True),
            )
            for r in view.stance_years.iter_rows(named=True)
        ],
        caption="Stance by year (means, percent) and calendar-year returns (the last "
        "year to date)",
    )
    images = []
    for chart in rate_charts.RATE_CHARTS:
        try:
            images.append(_image(rate_charts.rate_chart_by_name(chart, view), chart))
        except R2KError:
            continue
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in view.notes)
    return _section(
        "rates",
        "Rates and the policy cycle",
        _p(
            f"{view.index_name}, {view.start} to {view.end}. Rates in percent; a "
            "yield beta is the return per +100 bp in the yield, a dollar beta the "
            "return per +1% in the broad dollar index."
        ),
        *images[:1],
        betas,
        rolling,
        *images[1:2],
        phases,
        periods,
        *images[2:3],
        events,
        summary,
        _p(stance_text),
        *images[3:],
        by_stance,
        years,
        notes,
    )


def currency_section(
    versions: tuple[CurrencyVersion, ...], notes: tuple[str, ...]
) -> str:
    """The "Currencies" section (id ``currencies``)."""
    from r2k.reporting.report import _image, _p, _section, _table

    if not versions:
        return _section("currencies", "Currencies", *(_p(n) for n in notes))
    rows: list[tuple[Any, ...]] = []
    for v in versions:
        d = v.decomposition
        rows.append(
            (
                v.currency,
                v.column,
                "per USD" if v.quote == "target_per_usd" else "USD per unit",
                f"{v.start} to {v.end}",
                v.sessions,
                v.filled,
                percent(d.usd_return, sign=True),
                percent(d.currency_return, sign=True),
                percent(d.cross_term, sign=True),
                percent(d.local_return, sign=True),
                percent(v.local_volatility),
                percent(v.local_max_drawdown),
            )
        )
    table = _table(
        [
            "currency",
            "FX column",
            "quote",
            "window",
            "sessions",
            "rate carried",
            "USD return",
            "currency return",
            "cross term",
            "return in currency",
            "volatility",
            "max drawdown",
        ],
        rows,
        caption=f"{versions[0].name} in every currency with FX data: the return "
        "in the currency = USD return + currency return + cross term",
    )
    eur = next((v for v in versions if v.currency == "EUR"), versions[0])
    return _section(
        "currencies",
        "Currencies",
        _p(
            "Unhedged: the index's value to an investor who counts in another "
            "currency. The quote direction of each FX column is read from its name "
            "(EURUSD: US dollars per euro; USDJPY: yen per dollar). Volatility is "
            "annualised from daily returns in the currency (ddof=1, 252 a year)."
        ),
        _image(rate_charts.currencies_chart(versions), "currencies"),
        table,
        _image(rate_charts.currency_chart(eur), f"currency {eur.currency}"),
        *(f'<p class="note">{html.escape(n)}</p>' for n in notes),
    )


def render_sections(inputs: RatesInputs | None) -> tuple[str, list[tuple[str, str]]]:
    """The HTML of the rates and currency sections, and their navigation links.

    Parameters
    ----------
    inputs : RatesInputs or None
        From :func:`gather_rates` (``None``: no section).

    Returns
    -------
    (str, list of (str, str))
        The sections' HTML and ``(anchor, label)`` pairs for the report's nav.
    """
    if inputs is None:
        return "", []
    parts: list[str] = []
    nav: list[tuple[str, str]] = []
    if inputs.rates is not None:
        parts.append(rates_section(inputs.rates))
        nav.append(("rates", "Rates"))
    if inputs.currencies or inputs.currency_notes:
        parts.append(currency_section(inputs.currencies, inputs.currency_notes))
        nav.append(("currencies", "Currencies"))
    parts.extend(f'<p class="note">{html.escape(n)}</p>' for n in inputs.notes)
    return "".join(parts), nav


def source_rows(
    inputs: RatesInputs | None,
) -> list[tuple[str, str, Any, Any, int | None]]:
    """``(what, path, first, last, rows)`` of the files the sections read."""
    if inputs is None or inputs.rates is None:
        return []
    rows = [
        (s.what, s.path, s.first, s.last, s.rows)
        for s in inputs.rates.sources
        if "levels" not in s.what and "market panel" not in s.what
    ]
    if inputs.currencies and inputs.fx_path:
        rows.append(
            (
                f"FX pairs ({len(inputs.currencies)} currencies against USD), "
                "sessions of the index they cover",
                inputs.fx_path,
                min(c.start for c in inputs.currencies),
                max(c.end for c in inputs.currencies),
                max(c.sessions for c in inputs.currencies),
            )
        )
    return rows
