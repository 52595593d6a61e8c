"""Currency versions of RUT and of r2k's index, from the FX file of a data directory.

Joins :mod:`r2k.data.sources.fx` with :mod:`r2k.analytics.currency` and
:func:`r2k.analytics.analysis.analyze`:

* :func:`fx_rates` reads the pairs file, finds the currencies quoted against
  the dollar (direction from the column name), and treats an isolated one-day
  spike (a bad print: the USD/ZAR close of 2024-11-15 is 14.86 between 18.23
  and 18.17) as missing, reporting every date it did so;
* :func:`analyze_in_currency` is ``r2k analyze --currency``: the full analysis
  of the index in that currency (the benchmarks converted with the same
  rates), over the window the FX data cover, with the return split into the
  dollar return, the currency return and their cross term;
* :func:`currency_versions` does the conversion for every currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from r2k.analytics.analysis import analyze, r2k_levels
from r2k.analytics.currency import (
    CurrencyVersion,
    FxQuote,
    check_currency,
    convert_levels,
    currency_version,
    isolated_spikes,
    usd_pairs,
)
from r2k.errors import MethodologyError, MissingDataError, SchemaError
from r2k.workflows.explain import INDEX_CHOICES, load_benchmarks, load_index_levels

if TYPE_CHECKING:
    from datetime import date

    from r2k.analytics.analysis import Analysis
    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation

__all__ = [
    "FILL_LIMIT",
    "SPIKE_THRESHOLD",
    "CurrencyAnalysis",
    "FxRates",
    "analyze_in_currency",
    "currency_versions",
    "fx_rates",
    "index_levels",
]

FILL_LIMIT: Final = 5
"""Most sessions in a row an FX rate is carried forward (a week of holidays)."""
SPIKE_THRESHOLD: Final = 0.08
"""A one-day FX jump of more than 8% that reverts the next day is a bad print."""
_BENCHMARKS: Final[dict[str, tuple[str, ...]]] = {
    "RUT": ("SPX", "RUA"),
    "r2k": ("SPX", "RUT", "RUA"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FxRates:
    """The FX file as r2k uses it.

    Attributes
    ----------
    path : str
        The file read.
    pairs : dict of str to (str, str)
        Currency to (column, quote direction) for every currency quoted
        against USD.
    frame : pl.DataFrame
        ``date`` and every column, spikes set to null.
    repaired : dict of str to tuple of date
        The dates set to null in each column.
    skipped : tuple of str
        Columns that are not USD pairs (indexes such as ``DXY``, crosses such
        as ``EURJPY``).
    """

    path: str
    pairs: dict[str, tuple[str, FxQuote]]
    frame: pl.DataFrame
    repaired: dict[str, tuple[date, ...]]
    skipped: tuple[str, ...]

    def rates(self, currency: str) -> pl.DataFrame:
        """``session`` and ``rate`` (as quoted in the file) for ``currency``."""
        column, _ = self.pairs[currency]
        return self.frame.select(
            pl.col("date").alias("session"), pl.col(column).alias("rate")
        ).drop_nulls("rate")


def fx_rates(data: DataDir, *, spike_threshold: float = SPIKE_THRESHOLD) -> FxRates:
    """Read the FX pairs of ``data`` and set isolated spikes to missing.

    Parameters
    ----------
    data : DataDir
        The data directory (``fx/fx_pairs_daily.csv``).
    spike_threshold : float, default 0.08
        See :func:`r2k.analytics.currency.isolated_spikes`.

    Returns
    -------
    FxRates
    """
    from r2k.data.sources.fx import fx_pairs_path, read_fx_pairs

    path = fx_pairs_path(data)
    frame = read_fx_pairs(path)
    columns = [c for c in frame.columns if c != "date"]
    pairs = usd_pairs(columns)
    used = {column for column, _ in pairs.values()}
    repaired: dict[str, tuple[date, ...]] = {}
    for column in sorted(used):
        values = frame.select("date", column).drop_nulls(column)
        if values.height < 3:
            continue
        flags = isolated_spikes(values.get_column(column), threshold=spike_threshold)
        if flags.any():
            days = values.get_column("date").filter(pl.Series(flags))
            repaired[column] = tuple(days.to_list())
            frame = frame.with_columns(
                pl.when(pl.col("date").is_in(days.implode()))
                .then(None)
                .otherwise(pl.col(column))
                .alias(column)
            )
    return FxRates(
        path=str(path),
        pairs=pairs,
        frame=frame,
        repaired=repaired,
        skipped=tuple(c for c in columns if c not in used),
    )


def index_levels(
    data: DataDir, index: str, *, calculation: Calculation | None = None
) -> pl.DataFrame:
    """``session`` and ``level`` (and ``high``/``low`` for RUT) of an index.

    Parameters
    ----------
    data : DataDir
        The data directory.
    index : {"RUT", "r2k"}
        The published Russell 2000, or r2k's own index over the market panel.
    calculation : Calculation, optional
        r2k's calculation (default: calculated here).
    """
    if index not in INDEX_CHOICES:
        msg = f"index {index!r} is not one r2k can analyse; choose RUT or r2k"
        raise MethodologyError(msg)
    if index == "RUT":
        return load_index_levels(data, "RUT")
    if calculation is None:
        from r2k.workflows import explain

        calculation = explain.calculate_r2k(data)
    return r2k_levels(calculation)


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyAnalysis:
    """``r2k analyze --currency``: the analysis in the currency and its version.

    Attributes
    ----------
    analysis : Analysis
        Of the index in the currency (benchmarks converted too).
    version : CurrencyVersion
        Levels in both currencies and the decomposition of the return.
    notes : tuple of str
        The window and the data repairs, said plainly.
    """

    analysis: Analysis
    version: CurrencyVersion
    notes: tuple[str, ...]

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        """The analysis's dict with a ``currency`` block and the notes added."""
        out = self.analysis.to_dict(series=series)
        out["currency"] = self.version.to_dict(series=series)
        out["notes"] = [*out["notes"], *self.notes]
        return out


def _notes(
    version: CurrencyVersion, fx: FxRates, usd_span: tuple[date, date]
) -> list[str]:
    notes = [
        f"window limited to the FX data: {version.start} to {version.end} "
        f"({version.column} in {fx.path}; the index in dollars runs "
        f"{usd_span[0]} to {usd_span[1]})",
        f"{version.column} is quoted "
        + (
            f"{version.currency} per USD"
            if version.quote == "target_per_usd"
            else f"USD per {version.currency} (inverted)"
        )
        + ", read from the column name",
    ]
    if version.filled:
        notes.append(
            f"{version.filled} session(s) without a {version.column} rate took the "
            f"previous one (at most {version.fill_limit} sessions in a row)"
        )
    if version.repaired:
        days = ", ".join(d.isoformat() for d in version.repaired)
        notes.append(
            f"{version.column} on {days}: a one-day spike that reverts (a bad "
            "print), treated as missing"
        )
    return notes


def analyze_in_currency(
    data: DataDir,
    index: str,
    currency: str,
    *,
    start: date | None = None,
    end: date | None = None,
    calculation: Calculation | None = None,
    fill_limit: int = FILL_LIMIT,
    spike_threshold: float = SPIKE_THRESHOLD,
) -> CurrencyAnalysis:
    """Analyse RUT or r2k's index in another currency.

    Parameters
    ----------
    data : DataDir
        The data directory.
    index : {"RUT", "r2k"}
        The index.
    currency : str
        A currency the FX file quotes against USD (``"EUR"``), any case.
    start, end : date, optional
        Window (further limited to the FX data).
    calculation : Calculation, optional
        r2k's calculation for ``"r2k"``.
    fill_limit : int, default 5
        Most sessions in a row an FX rate is carried forward.
    spike_threshold : float, default 0.08
        See :func:`fx_rates`.

    Returns
    -------
    CurrencyAnalysis

    Raises
    ------
    MissingDataError
        If the FX file has no rate for ``currency``, or none in the window.
    """
    fx = fx_rates(data, spike_threshold=spike_threshold)
    code = check_currency(currency, fx.pairs)
    column, _ = fx.pairs[code]
    usd = index_levels(data, index, calculation=calculation)
    if start is not None:
        usd = usd.filter(pl.col("session") >= start)
    if end is not None:
        usd = usd.filter(pl.col("session") <= end)
    if usd.height < 2:
        msg = f"{index} has {usd.height} session(s) between {start} and {end}"
        raise MissingDataError(msg)
    span = (usd.item(0, "session"), usd.item(-1, "session"))
    rates = fx.rates(code)
    version = currency_version(
        usd,
        rates,
        currency=code,
        column=column,
        name=index,
        fill_limit=fill_limit,
        repaired=fx.repaired.get(column, ()),
    )
    window = usd.filter(pl.col("session").is_between(version.start, version.end))
    local = window.select("session").with_columns(
        version.levels.get_column("local").alias("level")
    )
    bars = [c for c in ("high", "low") if c in window.columns]
    if len(bars) == 2 and not window.select(bars).null_count().sum_horizontal()[0]:
        ratio = version.levels.get_column("local") / version.levels.get_column("usd")
        local = local.with_columns(
            (window.get_column("high") * ratio).alias("high"),
            (window.get_column("low") * ratio).alias("low"),
        )
    quote = version.quote
    benchmarks: dict[str, pl.DataFrame] = {}
    for code_b, frame in load_benchmarks(data, _BENCHMARKS[index]).items():
        part = frame.select("session", "level").filter(
            pl.col("session").is_between(version.start, version.end)
        )
        if part.height == 0:
            benchmarks[code_b] = part
            continue
        try:
            conv = convert_levels(
                part,
                rates,
                fx_quote=quote,
                columns=("level",),
                missing_fx="ffill",
                fill_limit=fill_limit,
            )
        except SchemaError:
            benchmarks[code_b] = part.clear()
            continue
        benchmarks[code_b] = conv.select("session", "level")
    analysis = analyze(local, benchmarks=benchmarks, name=f"{index} in {code}")
    return CurrencyAnalysis(
        analysis=analysis,
        version=version,
        notes=tuple(_notes(version, fx, span)),
    )


def currency_versions(
    data: DataDir,
    index: str = "RUT",
    *,
    calculation: Calculation | None = None,
    fill_limit: int = FILL_LIMIT,
    spike_threshold: float = SPIKE_THRESHOLD,
) -> tuple[list[CurrencyVersion], list[str]]:
    """The index in every currency the FX file quotes against USD.

    Parameters
    ----------
    data : DataDir
        The data directory.
    index : {"RUT", "r2k"}, default "RUT"
        The index.
    calculation : Calculation, optional
        r2k's calculation for ``"r2k"``.
    fill_limit : int, default 5
        Most sessions in a row an FX rate is carried forward.
    spike_threshold : float, default 0.08
        See :func:`fx_rates`.

    Returns
    -------
    (list of CurrencyVersion, list of str)
        One version per currency with enough data, in currency order, and
        notes: the window, the columns left out and why, the repairs.
    """
    fx = fx_rates(data, spike_threshold=spike_threshold)
    usd = index_levels(data, index, calculation=calculation).select("session", "level")
    versions: list[CurrencyVersion] = []
    notes: list[str] = []
    for code in sorted(fx.pairs):
        column, _ = fx.pairs[code]
        try:
            versions.append(
                currency_version(
                    usd,
                    fx.rates(code),
                    currency=code,
                    column=column,
                    name=index,
                    fill_limit=fill_limit,
                    repaired=fx.repaired.get(column, ()),
                )
            )
        except (MissingDataError, SchemaError) as exc:
            notes.append(f"{code}: no version ({exc})")
    if versions:
        first = min(v.start for v in versions)
        last = max(v.end for v in versions)
        notes.insert(
            0,
            f"window limited to the FX data ({fx.path}): {first} to {last}; "
            f"{index} in dollars runs {usd.item(0, 'session')} to "
            f"{usd.item(-1, 'session')}",
        )
    for column, days in fx.repaired.items():
        shown = ", ".join(d.isoformat() for d in days)
        notes.append(f"{column} on {shown}: one-day spike, treated as missing")
    if fx.skipped:
        notes.append("not a USD pair, not used: " + ", ".join(fx.skipped))
    return versions, notes
