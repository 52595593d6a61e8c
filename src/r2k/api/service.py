"""What the API serves, computed once and cached: levels, constituents, analyses.

:class:`Service` holds the data directory, the optional store and the API key.
Everything expensive (r2k's calculation, a reconstitution, an analysis) is
computed on first use and kept, with a lock per item so two requests never do
the same work twice; a failure (:class:`r2k.errors.R2KError`) is kept too, so a
request that cannot be answered stays cheap. :meth:`Service.warm` computes the
usual items up front (``r2k serve`` runs it in the background at start-up).

The service reads only the data directory's known files (paths chosen by
:class:`r2k.data.datadir.DataDir`, never by a request) and the store.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Literal

import polars as pl

from r2k._typing import INDEX_CODES, INDEX_LABELS, IndexCode
from r2k.data.store import Store
from r2k.errors import MissingDataError, R2KError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from r2k.analytics.analysis import Analysis
    from r2k.analytics.characteristics import Characteristics
    from r2k.analytics.currency import CurrencyVersion
    from r2k.analytics.factsheet import Factsheet
    from r2k.analytics.rates import Frequency
    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation
    from r2k.workflows.currency import FxRates
    from r2k.workflows.pipeline import ReconRun
    from r2k.workflows.rates import RateView

__all__ = [
    "PUBLISHED",
    "RATE_INDEXES",
    "RETURN_COLUMNS",
    "IndexInfo",
    "ReturnKind",
    "Service",
]

log = logging.getLogger(__name__)

ReturnKind = Literal["price", "total", "net"]
RETURN_COLUMNS: Final[dict[ReturnKind, str]] = {
    "price": "price_return",
    "total": "total_return",
    "net": "net_total_return",
}
#: Published index files of the data directory: code -> display name.
PUBLISHED: Final[dict[str, str]] = {
    "RUT": "Russell 2000 (published)",
    "RUA": "Russell 3000 (published)",
    "SPX": "S&P 500 (published)",
}
_BENCHMARKS: Final[dict[str, tuple[str, ...]]] = {
    "RUT": ("SPX", "RUA"),
    "RUA": ("SPX", "RUT"),
    "SPX": ("RUT", "RUA"),
}
_CALCULATED_BENCHMARKS: Final = ("RUT", "SPX", "RUA")
#: Indexes of the rate view (``r2k rates``): the published and r2k's own
#: Russell 2000.
RATE_INDEXES: Final = ("RUT", "r2000")
_STORE_WEIGHTS: Final = ("r2k", "holdings", "synthetic")


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexInfo:
    """An index the API serves.

    Attributes
    ----------
    id : str
        ``RUT``, ``RUA``, ``SPX`` (published files) or the name of a calculation:
        a family code (``r2000``: r2k's own weights) or a store name
        (``r2000-holdings``).
    name : str
        Display name.
    kind : {"published", "calculated"}
    returns : tuple of str
        The level kinds available (``price``, ``total``, ``net``).
    constituents : bool
        Whether constituents are served.
    source : str
        Where the levels come from.
    """

    id: str
    name: str
    kind: Literal["published", "calculated"]
    returns: tuple[ReturnKind, ...]
    constituents: bool
    source: str
    store_name: str | None = None  # calculated: the store's index_name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (without the store name)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "returns": list(self.returns),
            "constituents": self.constituents,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Calc:
    """A calculated series: levels and, per session, the constituents."""

    levels: pl.DataFrame  # session + RETURN_COLUMNS values
    constituents: pl.DataFrame | None  # every session, or None: read per session
    sessions: tuple[date, ...]  # sessions with constituents
    source: str
    calculation: Calculation | None = None  # r2k's run, when calculated here


_MISSING: Final = object()


class _Failure:
    """A cached failure: raising it again costs nothing."""

    def __init__(self, error: R2KError) -> None:
        self.error = error


class Service:
    """The API's data, cached. Thread-safe.

    Parameters
    ----------
    data : DataDir
        The data directory, read in place.
    store : Path, optional
        A DuckDB store with calculations (``r2k calculate``); the state-changing
        endpoints write to it.
    api_key : str, optional
        Enables the state-changing endpoints, which then require it.
    """

    def __init__(
        self, data: DataDir, *, store: Path | None = None, api_key: str | None = None
    ) -> None:
        self.data = data
        self.store = store
        self.api_key = api_key
        self._values: dict[tuple[object, ...], object] = {}
        self._locks: dict[tuple[object, ...], threading.Lock] = {}
        self._guard = threading.Lock()
        self.generation = 0  # bumped when the store changes (render caches key on it)
        self.ready = False  # set when warm() is done

    # ------------------------------------------------------------------ caching

    def _cached(self, key: tuple[object, ...], work: Callable[[], Any]) -> Any:
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            with self._guard:
                lock = self._locks.setdefault(key, threading.Lock())
            with lock:
                value = self._values.get(key, _MISSING)
                if value is _MISSING:
                    try:
                        value = work()
                    except R2KError as exc:
                        value = _Failure(exc)
                    self._values[key] = value
        if isinstance(value, _Failure):
            raise value.error
        return value

    def invalidate(self) -> None:
        """Forget everything read from the store (after a write)."""
        with self._guard:
            self._values.clear()
            self.generation += 1

    def warm(self, *, freeze: bool = False) -> None:
        """Compute the usual items now (errors are kept for the requests).

        With ``freeze``, move everything cached out of the garbage collector's
        reach (:func:`gc.freeze`): a long-lived server then never stalls on a full
        collection over its caches.
        """
        try:
            for index in self.indexes():
                for work in (self.factsheet, self.characteristics, self.analysis):
                    with contextlib.suppress(R2KError):
                        work(index.id)
            for day in self.rank_days():
                with contextlib.suppress(R2KError):
                    self.reconstitution(day)
        except Exception:  # the requests will show it as a problem
            log.exception("warming the caches failed")
        finally:
            if freeze:
                gc.collect()
                gc.freeze()
            self.ready = True

    # ------------------------------------------------------------------ indexes

    def _published_codes(self) -> list[str]:
        def find() -> list[str]:
            codes = []
            for code in PUBLISHED:
                try:
                    self.data.index_levels(code)
                except R2KError:
                    continue
                codes.append(code)
            return codes

        codes: list[str] = self._cached(("published",), find)
        return codes

    def _store_names(self) -> list[str]:
        def find() -> list[str]:
            if self.store is None or not self.store.is_file():
                return []
            names = []
            with Store(self.store) as db:
                for code in INDEX_CODES:
                    for weights in _STORE_WEIGHTS:
                        name = f"{code}-{weights}"
                        if db.levels(name).height:
                            names.append(name)
            return names

        names: list[str] = self._cached(("store-names",), find)
        return names

    def indexes(self) -> list[IndexInfo]:
        """Every index served: published files, then calculations."""
        found = [
            IndexInfo(
                id=code,
                name=PUBLISHED[code],
                kind="published",
                returns=("price",),
                constituents=False,
                source=f"data directory: {self.data.index_levels(code).name}",
            )
            for code in self._published_codes()
        ]
        stored = self._store_names()
        for name in stored:
            code, weights = name.rsplit("-", 1)
            label = INDEX_LABELS.get(code, code)  # type: ignore[call-overload]
            found.append(
                IndexInfo(
                    id=code if weights == "r2k" else name,
                    name=f"{label} (r2k, {weights} weights)",
                    kind="calculated",
                    returns=("price", "total", "net"),
                    constituents=True,
                    source=f"store {self.store.name if self.store else ''}: {name}",
                    store_name=name,
                )
            )
        if "r2000-r2k" not in stored:
            found.append(
                IndexInfo(
                    id="r2000",
                    name="Russell 2000 (r2k, r2k weights)",
                    kind="calculated",
                    returns=("price", "total", "net"),
                    constituents=True,
                    source="calculated by r2k over the market panel (weights r2k)",
                    store_name=None,
                )
            )
        return found

    def index(self, index_id: str) -> IndexInfo:
        """The index ``index_id`` (case-insensitive).

        Raises
        ------
        MissingDataError
            If no such index is served; the message lists those that are.
        """
        known = self.indexes()
        for info in known:
            if info.id.lower() == index_id.lower():
                return info
        msg = (
            f"no index {index_id!r}; served: {', '.join(i.id for i in known)}"
            if len(index_id) <= 40
            else f"no such index; served: {', '.join(i.id for i in known)}"
        )
        raise MissingDataError(msg)

    # ------------------------------------------------------------------ levels

    def _published(self, code: str) -> pl.DataFrame:
        from r2k.workflows.explain import load_index_levels

        frame: pl.DataFrame = self._cached(
            ("published-levels", code), lambda: load_index_levels(self.data, code)
        )
        return frame

    def _calc(self, info: IndexInfo) -> _Calc:
        def load() -> _Calc:
            if info.store_name is not None and self.store is not None:
                with Store(self.store) as db:
                    levels = db.levels(info.store_name)
                sessions = tuple(levels.get_column("session").to_list()[1:])
                return _Calc(
                    levels=levels.select("session", *RETURN_COLUMNS.values()),
                    constituents=None,
                    sessions=sessions,
                    source=info.source,
                )
            from r2k.workflows.explain import calculate_r2k

            calc = calculate_r2k(self.data, constituents=True)
            cons = calc.constituents
            return _Calc(
                levels=calc.levels.select("session", *RETURN_COLUMNS.values()),
                constituents=cons,
                sessions=tuple(cons.get_column("session").unique().sort().to_list()),
                source=info.source,
                calculation=calc,
            )

        calc: _Calc = self._cached(("calc", info.id, self.generation), load)
        return calc

    def levels(self, index_id: str, kind: ReturnKind = "price") -> pl.DataFrame:
        """``session`` and ``level`` of an index, oldest first.

        Raises
        ------
        MissingDataError
            If the index is unknown or has no such level kind.
        """
        info = self.index(index_id)
        if kind not in info.returns:
            msg = (
                f"{info.id} has no {kind}-return series: the data directory holds "
                f"its published price index only (returns: {', '.join(info.returns)})"
            )
            raise MissingDataError(msg)
        if info.kind == "published":
            return self._published(info.id).select("session", "level")
        calc = self._calc(info)
        return calc.levels.select("session", level=pl.col(RETURN_COLUMNS[kind]))

    def _analysis_levels(self, info: IndexInfo) -> pl.DataFrame:
        if info.kind == "published":
            return self._published(info.id)
        return self.levels(info.id, "price")

    # --------------------------------------------------------------- analytics

    def analysis(
        self, index_id: str, start: date | None = None, end: date | None = None
    ) -> Analysis:
        """:func:`r2k.analytics.analysis.analyze` of the index's price levels."""
        info = self.index(index_id)

        def work() -> Analysis:
            from r2k.analytics.analysis import analyze
            from r2k.workflows.explain import load_benchmarks

            codes = _BENCHMARKS.get(info.id, _CALCULATED_BENCHMARKS)
            present = [c for c in codes if c in self._published_codes()]
            return analyze(
                self._analysis_levels(info),
                benchmarks=load_benchmarks(self.data, present),
                start=start,
                end=end,
                name=info.id,
            )

        result: Analysis = self._cached(
            ("analysis", info.id, start, end, self.generation), work
        )
        return result

    def factsheet(self, index_id: str) -> Factsheet:
        """:func:`r2k.analytics.factsheet.factsheet` of the price levels."""
        info = self.index(index_id)

        def work() -> Factsheet:
            from r2k.analytics.factsheet import factsheet

            return factsheet(self.levels(info.id, "price"), name=info.name)

        result: Factsheet = self._cached(("factsheet", info.id, self.generation), work)
        return result

    def characteristics(self, index_id: str) -> Characteristics | None:
        """Size, top 10 and sectors on the latest session (None: not known).

        A calculated index: its constituents on its last session. RUT: the latest
        IWM holdings file (the ETF that replicates it). RUA, SPX: None.
        """
        info = self.index(index_id)

        def work() -> Characteristics | None:
            from r2k.analytics.characteristics import (
                holdings_characteristics,
                index_characteristics,
            )
            from r2k.data.sources.ishares import read_holdings
            from r2k.data.sources.panel import as_of

            if info.kind == "calculated":
                session = self.sessions(info.id)[-1]
                cons = self._raw_constituents(info, session)
                return index_characteristics(
                    cons,
                    self._panel().filter(pl.col("session") == session),
                    source=f"{info.id} constituents",
                )
            if info.id != "RUT":
                return None
            files = self.data.holdings_files("IWM")
            if not files:
                return None
            holdings = read_holdings(files[-1])
            known = as_of(self._panel(), holdings.as_of)
            day = known.get_column("session").max()
            return holdings_characteristics(
                holdings, known.filter(pl.col("session") == day)
            )

        result: Characteristics | None = self._cached(
            ("characteristics", info.id, self.generation), work
        )
        return result

    # ------------------------------------------------------ rates, currencies

    def _r2000_calculation(self) -> Calculation:
        """r2k's own Russell 2000 (the rate view's ``r2000``)."""
        info = self.index("r2000")
        calc = self._calc(info)
        if calc.calculation is not None:
            return calc.calculation

        def work() -> Calculation:
            from r2k.workflows.explain import calculate_r2k

            return calculate_r2k(self.data)

        run: Calculation = self._cached(("r2000-run",), work)
        return run

    def rate_view(
        self,
        index: str = "RUT",
        *,
        frequency: Frequency = "weekly",
        start: date | None = None,
        end: date | None = None,
    ) -> RateView:
        """:func:`r2k.workflows.rates.rate_view` of ``RUT`` or ``r2000``.

        Raises
        ------
        MissingDataError
            If ``index`` is not one of :data:`RATE_INDEXES` or the data lack
            the rates files.
        """
        code = next((c for c in RATE_INDEXES if c.lower() == index.lower()), None)
        if code is None:
            msg = (
                f"the rate view covers {' and '.join(RATE_INDEXES)} (the published "
                "and r2k's own Russell 2000)"
                + (f", not {index!r}" if len(index) <= 40 else "")
            )
            raise MissingDataError(msg)

        def work() -> RateView:
            from r2k.workflows.rates import rate_view

            calculation = self._r2000_calculation() if code == "r2000" else None
            return rate_view(
                self.data,
                code,
                frequency=frequency,
                start=start,
                end=end,
                calculation=calculation,
            )

        key = ("rates", code, frequency, start, end)
        view: RateView = self._cached(
            (*key, self.generation) if code == "r2000" else key, work
        )
        return view

    def fx(self) -> FxRates:
        """The FX pairs file as r2k reads it (isolated spikes set to missing)."""

        def work() -> FxRates:
            from r2k.workflows.currency import fx_rates

            return fx_rates(self.data)

        rates: FxRates = self._cached(("fx",), work)
        return rates

    def relative(self, path: str | Path) -> str:
        """``path`` relative to the data directory (never the server's layout)."""
        from pathlib import Path as _Path

        try:
            return str(_Path(path).resolve().relative_to(self.data.root.resolve()))
        except ValueError:
            return _Path(path).name

    def currency_version(self, index_id: str, currency: str) -> CurrencyVersion:
        """The index's price levels in ``currency`` over the FX data's window.

        :func:`r2k.analytics.currency.currency_version` with the rates of
        :func:`r2k.workflows.currency.fx_rates`, as ``r2k analyze --currency``.

        Raises
        ------
        MissingDataError
            If the index is unknown or the FX file has no USD rate for
            ``currency`` (the message lists those it has).
        """
        from r2k.analytics.currency import check_currency

        info = self.index(index_id)
        fx = self.fx()
        code = check_currency(currency, fx.pairs)

        def work() -> CurrencyVersion:
            from r2k.analytics.currency import currency_version
            from r2k.workflows.currency import FILL_LIMIT

            column, _ = fx.pairs[code]
            return currency_version(
                self.levels(info.id, "price"),
                fx.rates(code),
                currency=code,
                column=column,
                name=info.id,
                fill_limit=FILL_LIMIT,
                repaired=fx.repaired.get(column, ()),
            )

        version: CurrencyVersion = self._cached(
            ("currency", info.id, code, self.generation), work
        )
        return version

    # ------------------------------------------------------------ constituents

    def _panel(self) -> pl.DataFrame:
        from r2k.data.sources.panel import read_market_panel

        frame: pl.DataFrame = self._cached(
            ("panel",), lambda: read_market_panel(self.data.market_panel)
        )
        return frame

    def sessions(self, index_id: str) -> tuple[date, ...]:
        """Sessions on which the index has constituents, oldest first."""
        info = self.index(index_id)
        if not info.constituents:
            msg = (
                f"{info.id} is a published index: the data directory has no "
                "constituent file for it; use a calculated index "
                f"({', '.join(i.id for i in self.indexes() if i.constituents)})"
            )
            raise MissingDataError(msg)
        sessions = self._calc(info).sessions
        if not sessions:
            msg = f"{info.id} has no constituents"
            raise MissingDataError(msg)
        return sessions

    def _raw_constituents(self, info: IndexInfo, session: date) -> pl.DataFrame:
        calc = self._calc(info)
        if calc.constituents is not None:
            return calc.constituents.filter(pl.col("session") == session)
        assert self.store is not None
        assert info.store_name is not None
        with Store(self.store) as db:
            return db.constituents(info.store_name, session)

    def constituents(self, index_id: str, session: date | None = None) -> pl.DataFrame:
        """The index's lines on ``session`` (default: the last) with weights.

        Returns
        -------
        pl.DataFrame
            :data:`r2k.workflows.exports.CONSTITUENT_COLUMNS`, largest first.

        Raises
        ------
        MissingDataError
            If the index has no constituents on ``session``.
        """
        from r2k.workflows.exports import describe_constituents

        sessions = self.sessions(index_id)
        info = self.index(index_id)
        day = sessions[-1] if session is None else session
        if day not in sessions:
            msg = (
                f"{info.id} has no constituents on {day}; sessions "
                f"{sessions[0]} .. {sessions[-1]}"
            )
            raise MissingDataError(msg)

        def work() -> pl.DataFrame:
            return describe_constituents(
                self._raw_constituents(info, day), self._panel()
            )

        frame: pl.DataFrame = self._cached(
            ("constituents", info.id, day, self.generation), work
        )
        return frame

    # ---------------------------------------------------------- reconstitutions

    def rank_days(self) -> list[date]:
        """Rank days the data directory can reconstitute, oldest first.

        Those of the Russell calendar from the year of the first iShares holdings
        file to the last session of the market panel.
        """

        def find() -> list[date]:
            from r2k.methodology.schedule import reconstitutions
            from r2k.workflows.pipeline import read_as_of

            files = self.data.holdings_files("IWM") + self.data.holdings_files("IWV")
            if not files:
                return []
            first = min(read_as_of(p) for p in files)
            last = self._panel().get_column("session").max()
            assert isinstance(last, date)
            days = [
                s.rank_day
                for year in range(first.year, last.year + 1)
                for s in reconstitutions(year)
                if s.rank_day <= last
            ]
            return sorted(days)

        days: list[date] = self._cached(("rank-days",), find)
        return days

    def reconstitution(self, rank_day: date) -> ReconRun:
        """The reconstitution ranked on ``rank_day`` (one of :meth:`rank_days`)."""
        days = self.rank_days()
        if rank_day not in days:
            msg = (
                f"no reconstitution ranked on {rank_day} in the data; rank days: "
                f"{', '.join(d.isoformat() for d in days) or 'none'}"
            )
            raise MissingDataError(msg)

        def work() -> ReconRun:
            from r2k.workflows.pipeline import run_reconstitution

            return run_reconstitution(self.data, rank_day)

        run: ReconRun = self._cached(("recon", rank_day), work)
        return run

    # ------------------------------------------------------------ state changes

    def calculate(self, index: IndexCode, start: date, end: date) -> dict[str, Any]:
        """Calculate an index over a window and store it as ``<index>-r2k``.

        Raises
        ------
        R2KError
            If there is no store, or the calculation fails.
        """
        from r2k.workflows.exports import calculation_name
        from r2k.workflows.real_index import calculate_real

        store = self._need_store()
        result = calculate_real(
            self.data, start, end, weights="r2k", constituents=True, index=index
        )
        name = calculation_name(index)
        with Store(store) as db:
            db.save_calculation(
                name,
                result.calculation,
                settings={
                    "start": start.isoformat(),
                    "weights": "r2k",
                    "index": index,
                    "data": str(self.data.root),
                },
            )
        self.invalidate()
        levels = result.calculation.levels
        return {
            "index": index,
            "stored_as": name,
            "sessions": levels.height,
            "first_session": levels.get_column("session")[0].isoformat(),
            "last_session": levels.get_column("session")[-1].isoformat(),
            "last_level": float(levels.get_column("price_return")[-1]),
            "notes": list(result.notes),
        }

    def run_session(self, index: IndexCode, session: date) -> dict[str, Any]:
        """Calculate one more session of ``<index>-r2k`` from the stored state."""
        from r2k.maintenance.engine import calculate_session
        from r2k.workflows.exports import calculation_name
        from r2k.workflows.real_index import setup

        store = self._need_store()
        name = calculation_name(index)
        with Store(store) as db:
            loaded = db.load_state(name)
            if loaded is None:
                msg = f"the store has no calculated {name}; POST /calculations first"
                raise MissingDataError(msg)
            state, settings = loaded
            if state.session >= session:
                return {
                    "index": index,
                    "session": session.isoformat(),
                    "status": "already calculated, unchanged",
                }
            inputs = setup(
                self.data,
                date.fromisoformat(str(settings["start"])),
                weights="r2k",
                index=index,
            )
            step = calculate_session(
                state, inputs.market, inputs.actions, inputs.settings, session=session
            )
            db.save_calculation(name, step, settings=settings)
        self.invalidate()
        row = step.levels.row(0, named=True)
        return {
            "index": index,
            "session": session.isoformat(),
            "status": "calculated",
            "price_return": float(row["price_return"]),
        }

    def _need_store(self) -> Path:
        if self.store is None:
            msg = "the server was started without --store: nothing to write to"
            raise R2KError(msg)
        return self.store


def family_code(value: str) -> IndexCode:
    """``value`` as an index of the family (case-insensitive).

    Raises
    ------
    MissingDataError
        If it is none.
    """
    for code in INDEX_CODES:
        if value.lower() == code:
            return code
    msg = f"index {value!r}: use one of {', '.join(INDEX_CODES)}"
    raise MissingDataError(msg)
