"""Sweeps of rule variants: one task per variant, run in process or on Dask.

A researcher who compares rule variants (a wider band, a $2 minimum price, other
index sizes, ...) runs each variant's whole history — every reconstitution and
the maintenance between them — and compares turnover, returns and tracking. The
variants are independent, so each is one task (:func:`run_variant`) and the
tasks run either in this process (``backend="local"``) or on a Dask distributed
cluster (``backend="dask"``): a local cluster of worker processes, or an existing
cluster at ``address`` (``tcp://scheduler:8786``) spanning many machines.

A task is small and picklable (:class:`SweepTask`: the rule file's bytes, the
seed and size of the synthetic market, the dates), and builds its data on the
worker: the synthetic market is regenerated from its seed (a pure function of the
inputs), a data directory is read from a path the workers can see. Results are
therefore the same whichever backend runs them (the tests require it).

See docs/performance.md, section "Scale-out", for why Dask.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from r2k.analytics.characteristics import reconstitution_turnover
from r2k.analytics.returns import annualized_return
from r2k.analytics.risk import annualized_volatility
from r2k.errors import R2KError
from r2k.methodology.rule_sets import RuleSet

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date

    from r2k._typing import IndexCode
    from r2k.maintenance.engine import Calculation

Backend = Literal["local", "dask", "ray"]
BACKENDS: tuple[Backend, ...] = ("local", "dask", "ray")

#: Sessions per year of the annualised figures.
PERIODS_PER_YEAR = 252

#: Name of the packaged default rule set among the variants (``--rules default``).
DEFAULT_VARIANT = "default"

#: Columns of the comparison table, in order (see :func:`comparison_table`).
TABLE_COLUMNS = (
    "variant",
    "rules",
    "source",
    "base",
    "sessions",
    "reconstitutions",
    "turnover_mean",
    "turnover_max",
    "annualized_return",
    "volatility",
    "tracking_error",
    "members_end",
    "cap_min_end",
    "cap_max_end",
)


class SweepError(R2KError, ValueError):
    """A sweep cannot run: a backend that is not available, no variants, ..."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """One rule variant: a name and its rule file's bytes (None: packaged default)."""

    name: str
    source: str
    toml: bytes | None = None

    def rules(self) -> RuleSet:
        """The rule set (validated; :class:`~r2k.errors.MethodologyError` if bad)."""
        if self.toml is None:
            return RuleSet.default()
        return RuleSet.from_bytes(self.toml, source=self.source)

    @classmethod
    def from_file(cls, path: str | Path) -> Variant:
        """The variant of a rule file, or of the packaged default (``"default"``).

        The file is read and validated here, so that a bad file fails before any
        task is sent.
        """
        if str(path) == DEFAULT_VARIANT:
            return cls(name=DEFAULT_VARIANT, source="packaged default")
        file = Path(path)
        RuleSet.from_toml(file)  # validate (the message names the file)
        return cls(name=file.stem, source=str(file), toml=file.read_bytes())


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepTask:
    """Everything one task needs: small and picklable.

    ``data`` None is the synthetic market of ``companies`` and ``seed``;
    otherwise a data directory the worker reads (a path it can see).
    """

    variant: Variant
    start: date
    end: date
    index: IndexCode = "r2000"
    companies: int = 3000
    seed: int = 0
    data: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantResult:
    """What a task sends back: the variant's levels and its summary figures."""

    name: str
    source: str
    rules: str
    levels: pl.DataFrame  # session, total_return
    turnovers: tuple[float, ...]  # one-way, per reconstitution
    members_end: int
    cap_min_end: float
    cap_max_end: float
    seconds: float  # the task's wall time on its worker


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepResult:
    """The comparison table and the per-variant results behind it."""

    table: pl.DataFrame
    results: tuple[VariantResult, ...]
    backend: Backend
    workers: int
    seconds: float  # the whole sweep's wall time


# ------------------------------------------------------------------ one task


def _calculate(task: SweepTask, rules: RuleSet) -> Calculation:
    if task.data is None:
        from r2k.workflows.synthetic_run import run_synthetic

        return run_synthetic(
            task.companies,
            start=task.start,
            end=task.end,
            seed=task.seed,
            constituents=True,
            index=task.index,
            rules=rules,
        ).calculation
    from r2k.data.datadir import DataDir
    from r2k.workflows.real_index import calculate_real

    return calculate_real(
        DataDir.resolve(task.data),
        task.start,
        task.end,
        weights="r2k",
        constituents=True,
        rules=rules,
        index=task.index,
    ).calculation


def _turnovers(calc: Calculation) -> tuple[float, ...]:
    recon = calc.events.filter(pl.col("action").str.starts_with("reconstitution_"))
    last = calc.levels["session"][-1]
    days = [d for d in recon["session"].unique().sort().to_list() if d < last]
    return tuple(
        reconstitution_turnover(calc.events, calc.constituents, d).one_way_turnover
        for d in days
    )


def run_variant(task: SweepTask) -> VariantResult:
    """One variant's whole history: reconstitutions, maintenance, summary.

    A pure function of ``task`` (the synthetic market is regenerated from its
    seed), run by every backend; module level, so that Dask pickles it by name.
    """
    began = time.perf_counter()
    rules = task.variant.rules()
    calc = _calculate(task, rules)
    lines = calc.state.lines
    caps = lines["shares"] * lines["last_close"]
    return VariantResult(
        name=task.variant.name,
        source=task.variant.source,
        rules=rules.label,
        levels=calc.levels.select("session", "total_return"),
        turnovers=_turnovers(calc),
        members_end=lines.height,
        cap_min_end=float(caps.min()) if lines.height else math.nan,  # type: ignore[arg-type]
        cap_max_end=float(caps.max()) if lines.height else math.nan,  # type: ignore[arg-type]
        seconds=time.perf_counter() - began,
    )


# ------------------------------------------------------------------ the table


def _returns(levels: pl.DataFrame) -> pl.DataFrame:
    return levels.select(
        "session", r=pl.col("total_return") / pl.col("total_return").shift(1) - 1.0
    ).slice(1)


def comparison_table(results: Sequence[VariantResult]) -> pl.DataFrame:
    """One row per variant; the first result is the base of the tracking error.

    Columns (:data:`TABLE_COLUMNS`): ``turnover_mean``/``turnover_max`` the
    one-way turnover per reconstitution (``0.5 * sum |w_new - w_old|``, weights
    at the same closes); ``annualized_return`` the compound annual total return;
    ``volatility`` the annualised standard deviation of daily total returns;
    ``tracking_error`` the annualised standard deviation of the daily difference
    from the base's total returns (on the sessions both have; 0 for the base);
    ``members_end`` and ``cap_min_end``/``cap_max_end`` the member lines at the
    last close and the smallest and largest of their market caps (shares times
    close, USD). Fractions, not percentages.
    """
    if not results:
        msg = "no variants to compare"
        raise SweepError(msg)
    base = _returns(results[0].levels).rename({"r": "b"})
    rows = []
    for res in results:
        r = _returns(res.levels)
        both = r.join(base, on="session", how="inner")
        diff = (both["r"] - both["b"]).to_numpy()
        turn = res.turnovers
        rows.append(
            {
                "variant": res.name,
                "rules": res.rules,
                "source": res.source,
                "base": res is results[0],
                "sessions": res.levels.height,
                "reconstitutions": len(turn),
                "turnover_mean": float(np.mean(turn)) if turn else math.nan,
                "turnover_max": max(turn) if turn else math.nan,
                "annualized_return": annualized_return(
                    r["r"].to_numpy(), periods_per_year=PERIODS_PER_YEAR
                ),
                "volatility": annualized_volatility(
                    r["r"].to_numpy(), periods_per_year=PERIODS_PER_YEAR
                ),
                "tracking_error": annualized_volatility(
                    diff, periods_per_year=PERIODS_PER_YEAR
                )
                if diff.size > 1
                else math.nan,
                "members_end": res.members_end,
                "cap_min_end": res.cap_min_end,
                "cap_max_end": res.cap_max_end,
            }
        )
    return pl.DataFrame(rows).select(TABLE_COLUMNS)


# ------------------------------------------------------------------ backends


def _local(tasks: Sequence[SweepTask]) -> list[VariantResult]:
    return [run_variant(t) for t in tasks]


def _dask(
    tasks: Sequence[SweepTask], address: str | None, workers: int | None
) -> tuple[list[VariantResult], int]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a locked dependency
        msg = "--backend dask needs dask[distributed]: install r2k with it"
        raise SweepError(msg) from None
    if address is not None:
        try:
            client = Client(address, timeout=30)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            msg = f"cannot reach the Dask scheduler at {address}: {exc}"
            raise SweepError(msg) from None
        with client:
            return _submit(client, tasks), len(client.scheduler_info()["workers"])
    n = workers or min(len(tasks), _cpus())
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            host="127.0.0.1",
            env=_worker_env(n),
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        return _submit(client, tasks), n


def _submit(client: object, tasks: Sequence[SweepTask]) -> list[VariantResult]:
    futures = client.map(run_variant, list(tasks), pure=False)  # type: ignore[attr-defined]
    results: list[VariantResult] = client.gather(futures)  # type: ignore[attr-defined]
    return results


def _cpus() -> int:
    return max(1, os.cpu_count() or 1)


def _worker_env(workers: int) -> dict[str, str]:
    """Thread pools of each local worker process: this machine's cores shared out.

    Polars (and BLAS) would otherwise start one thread per core in every worker,
    so ``workers`` processes on ``cores`` cores run ``workers x cores`` threads
    that take turns; with ``POLARS_MAX_THREADS = cores // workers`` (at least 1)
    they do not.
    """
    threads = str(max(1, _cpus() // max(1, workers)))
    return {
        "POLARS_MAX_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }


def run_tasks(
    tasks: Sequence[SweepTask],
    *,
    backend: Backend = "local",
    address: str | None = None,
    workers: int | None = None,
) -> tuple[list[VariantResult], int]:
    """Run ``tasks`` on ``backend``; the results in the tasks' order, and workers.

    ``address`` is a Dask scheduler (``tcp://host:8786``); without it ``dask``
    starts a local cluster of ``workers`` processes (default: one per task, at
    most one per CPU). ``ray`` is not supported (:class:`SweepError`).
    """
    if backend == "local":
        if address is not None:
            msg = "--address needs --backend dask"
            raise SweepError(msg)
        return _local(tasks), 1
    if backend == "dask":
        return _dask(tasks, address, workers)
    if backend == "ray":
        msg = (
            "--backend ray is not supported (Ray is not installed): use --backend dask"
        )
        raise SweepError(msg)
    msg = f"--backend {backend!r}: use one of {', '.join(BACKENDS)}"
    raise SweepError(msg)


def _check_window(start: date, end: date) -> None:
    if end <= start:
        msg = f"the end {end} must be after the start {start}"
        raise SweepError(msg)


def sweep(
    variants: Sequence[Variant],
    *,
    start: date,
    end: date,
    index: IndexCode = "r2000",
    companies: int = 3000,
    seed: int = 0,
    data: str | Path | None = None,
    backend: Backend = "local",
    address: str | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run every variant's history as one task and compare them.

    Parameters
    ----------
    variants
        The rule variants; the first is the base of the tracking error. None
        given: the packaged default alone.
    start, end
        The window (the first session on or after ``start`` is the base, 100).
    index
        The index of the family calculated for every variant.
    companies, seed
        The synthetic market (ignored with ``data``).
    data
        A data directory instead of the synthetic market (read by each worker:
        with a remote cluster, a path every worker sees).
    backend, address, workers
        Where the tasks run (:func:`run_tasks`).
    progress
        Called with a line of text as the sweep goes (None: quiet).
    """
    chosen = list(variants) or [Variant.from_file(DEFAULT_VARIANT)]
    names = [v.name for v in chosen]
    if len(set(names)) != len(names):
        msg = f"two variants share a name ({', '.join(names)}): rename a rule file"
        raise SweepError(msg)
    root = None if data is None else str(data)
    _check_window(start, end)
    tasks = [
        SweepTask(
            variant=v,
            start=start,
            end=end,
            index=index,
            companies=companies,
            seed=seed,
            data=root,
        )
        for v in chosen
    ]
    if progress is not None:
        progress(f"{len(tasks)} variant(s) on {backend}")
    began = time.perf_counter()
    results, n = run_tasks(tasks, backend=backend, address=address, workers=workers)
    took = time.perf_counter() - began
    return SweepResult(
        table=comparison_table(results),
        results=tuple(results),
        backend=backend,
        workers=n,
        seconds=took,
    )
