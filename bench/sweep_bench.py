"""Scale-out of a rule sweep: local vs a local Dask cluster of two workers.

Four variants of the packaged rules (the default, the Russell 1000 band at 5% and
at 10%, a $2 minimum price) over a synthetic market, each variant's whole
history one task (:mod:`r2k.workflows.sweep`). Timed: the in-process run
(``local``), the same tasks on a running two-worker cluster (cold: the first
sweep pays each worker's imports; warm: the second), and the cluster's
start. The projection for N machines uses the
measured task times: a sweep of V variants on N machines of C workers takes
about ``ceil(V / (N C))`` rounds of the mean task time, never less than the
longest task, plus the measured dispatch overhead.

Run alone: ``.venv/bin/python -m bench.sweep_bench``.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from polars.testing import assert_frame_equal

from r2k.workflows.sweep import Variant, sweep

START, END = date(2014, 1, 1), date(2018, 12, 31)
COMPANIES, SEED, WORKERS = 1500, 11, 2


@dataclass(frozen=True, slots=True)
class SweepBench:
    variants: int
    local_s: float
    dask_s: float  # on a running cluster, warm (its second sweep)
    cold_s: float  # the first sweep on the new cluster (imports, calendar)
    startup_s: float  # starting the two-worker cluster
    task_s: tuple[float, ...]  # per task, measured by the local run


def _variants(folder: Path) -> list[Variant]:
    text = (
        resources.files("r2k.methodology.rules")
        .joinpath("russell_us_current.toml")
        .read_text(encoding="utf-8")
    )

    def changed(key: str, value: float) -> str:
        new, n = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {value}  ", text)
        assert n == 1, key
        return new

    files = {
        "band5": changed("r1000_band_pct", 5.0),
        "band10": changed("r1000_band_pct", 10.0),
        "price2": changed("min_price", 2.0),
    }
    out = [Variant.from_file("default")]
    for name, body in files.items():
        path = folder / f"{name}.toml"
        path.write_text(body, encoding="utf-8")
        out.append(Variant.from_file(path))
    return out


def bench_sweep() -> SweepBench:
    """Time the sweep locally and on two Dask workers (results must be equal)."""
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        variants = _variants(Path(tmp))
        kw = {"start": START, "end": END, "companies": COMPANIES, "seed": SEED}
        local = sweep(variants, **kw)  # type: ignore[arg-type]
        began = time.perf_counter()
        with LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=WORKERS,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster:
            startup = time.perf_counter() - began
            cold, dask = (
                sweep(
                    variants,
                    backend="dask",
                    address=cluster.scheduler_address,
                    **kw,  # type: ignore[arg-type]
                )
                for _ in range(2)
            )
    assert_frame_equal(local.table, dask.table, check_exact=True)
    return SweepBench(
        variants=len(variants),
        local_s=local.seconds,
        dask_s=dask.seconds,
        cold_s=cold.seconds,
        startup_s=startup,
        task_s=tuple(r.seconds for r in local.results),
    )


def projection(b: SweepBench, machines: int, cores: int, variants: int) -> float:
    """Seconds for ``variants`` tasks on ``machines`` x ``cores`` workers."""
    mean = sum(b.task_s) / len(b.task_s)
    overhead = max(0.0, b.dask_s - math.ceil(b.variants / WORKERS) * mean)
    rounds = math.ceil(variants / (machines * cores))
    return max(rounds * mean, max(b.task_s)) + overhead


def report(b: SweepBench) -> str:
    """A Markdown table: the measured speed-up and the projection."""
    mean = sum(b.task_s) / len(b.task_s)
    lines = [
        f"{b.variants} variants, {COMPANIES:,} synthetic companies, "
        f"{START.year}-{END.year}; task time mean {mean:.2f} s "
        f"(min {min(b.task_s):.2f}, max {max(b.task_s):.2f})",
        "",
        "| backend | wall time | speed-up |",
        "|---|---:|---:|",
        f"| local (in process) | {b.local_s:.2f} s | 1.00x |",
        f"| dask, {WORKERS} workers (running cluster) | {b.dask_s:.2f} s | "
        f"{b.local_s / b.dask_s:.2f}x |",
        f"| dask, {WORKERS} workers, first sweep (cold workers) | {b.cold_s:.2f} s | "
        f"{b.local_s / b.cold_s:.2f}x |",
        f"| dask, {WORKERS} workers, cold and the cluster's start "
        f"({b.startup_s:.2f} s) | {b.cold_s + b.startup_s:.2f} s | "
        f"{b.local_s / (b.cold_s + b.startup_s):.2f}x |",
        "",
        "Projection, 256 variants of this size, machines of 8 workers:",
        "",
        "| machines | projected wall time | speed-up vs local |",
        "|---:|---:|---:|",
    ]
    serial = 256 * mean
    for machines in (1, 4, 16, 32):
        t = projection(b, machines, 8, 256)
        lines.append(f"| {machines} | {t:,.1f} s | {serial / t:,.1f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(bench_sweep()))
