"""Sweeps of rule variants (r2k.workflows.sweep): local and on a real Dask cluster.

A small synthetic market (400 companies, 2016-2018) with index sizes scaled down
to it (a Russell 1000 of 100, a Russell 3000 of 300) is the base; the variants are
a wider Russell 1000 band and a $2 minimum price. The Dask runs use a real local
cluster of two worker processes on 127.0.0.1 and must give results identical to
the in-process run, bit for bit.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from polars.testing import assert_frame_equal

from r2k.methodology.rule_sets import RuleSet
from r2k.workflows.sweep import (
    TABLE_COLUMNS,
    SweepError,
    SweepResult,
    SweepTask,
    Variant,
    run_tasks,
    run_variant,
    sweep,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from distributed import LocalCluster

START, END = date(2016, 1, 1), date(2018, 12, 31)
COMPANIES, SEED = 400, 3
PACKAGED = (
    Path(__file__).parents[2] / "src/r2k/methodology/rules/russell_us_current.toml"
)


def _set(text: str, key: str, value: float) -> str:
    new, n = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {value}  ", text)
    assert n == 1, key
    return new


def write_variants(folder: Path) -> list[Path]:
    """small.toml (the base), wide.toml (R1000 band 10%), price2.toml ($2)."""
    small = PACKAGED.read_text(encoding="utf-8")
    for key, size in (
        ("r3000e_size", 400),
        ("r3000_size", 300),
        ("r1000_size", 100),
        ("top200_size", 20),
        ("top500_size", 50),
        ("microcap_top", 200),
    ):
        small = _set(small, key, size)
    files = {
        "small": small,
        "wide": _set(small, "r1000_band_pct", 10.0),
        "price2": _set(small, "min_price", 2.0),
    }
    paths = []
    for name, text in files.items():
        path = folder / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> list[Variant]:
    return [
        Variant.from_file(p) for p in write_variants(tmp_path_factory.mktemp("rules"))
    ]


@pytest.fixture(scope="module")
def local_run(variants: list[Variant]) -> SweepResult:
    return sweep(variants, start=START, end=END, companies=COMPANIES, seed=SEED)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A real local Dask cluster: two worker processes, one thread each."""
    from distributed import LocalCluster

    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        host="127.0.0.1",
    ) as running:
        yield running


def test_variants_differ_and_the_table_is_complete(local_run: SweepResult) -> None:
    table = local_run.table
    assert table.columns == list(TABLE_COLUMNS)
    assert table["variant"].to_list() == ["small", "wide", "price2"]
    assert table["base"].to_list() == [True, False, False]
    assert table["tracking_error"][0] == 0.0
    assert (table["tracking_error"][1:] > 0).all()
    assert (table["reconstitutions"] == 3).all()
    # A wider band keeps more incumbents: less turnover than the base.
    assert table["turnover_mean"][1] < table["turnover_mean"][0]
    assert (table["cap_min_end"] <= table["cap_max_end"]).all()
    assert (table["members_end"] > 0).all()
    assert local_run.backend == "local"


def test_a_task_is_a_pure_function_of_its_small_inputs(variants: list[Variant]) -> None:
    task = SweepTask(
        variant=variants[1], start=START, end=END, companies=COMPANIES, seed=SEED
    )
    one, two = run_variant(task), run_variant(task)
    assert_frame_equal(one.levels, two.levels, check_exact=True)
    assert one.turnovers == two.turnovers
    assert variants[1].rules() == RuleSet.from_toml(variants[1].source)


def test_dask_results_are_identical_to_local(
    cluster: LocalCluster, variants: list[Variant], local_run: SweepResult
) -> None:
    run = sweep(
        variants,
        start=START,
        end=END,
        companies=COMPANIES,
        seed=SEED,
        backend="dask",
        address=cluster.scheduler_address,
    )
    assert run.workers == 2
    assert_frame_equal(run.table, local_run.table, check_exact=True)
    for ours, theirs in zip(run.results, local_run.results, strict=True):
        assert_frame_equal(ours.levels, theirs.levels, check_exact=True)
        assert ours.turnovers == theirs.turnovers


def test_ray_and_bad_inputs_are_one_line_errors(variants: list[Variant]) -> None:
    with pytest.raises(SweepError, match="ray is not supported"):
        run_tasks([], backend="ray")
    with pytest.raises(SweepError, match="--address needs --backend dask"):
        run_tasks([], backend="local", address="tcp://127.0.0.1:1")
    with pytest.raises(SweepError, match="share a name"):
        sweep([variants[0], variants[0]], start=START, end=END)
    with pytest.raises(SweepError, match="must be after"):
        sweep(variants, start=END, end=START)


def test_no_variant_is_the_packaged_default() -> None:
    default = Variant.from_file("default")
    assert default.toml is None
    assert default.rules() == RuleSet.default()


def test_local_workers_share_the_cores_out() -> None:
    """Each local worker's thread pools get cores // workers threads (at least 1).

    ``LocalCluster(env=...)`` sets them in each worker process before it imports
    Polars (checked by hand with ``polars.thread_pool_size()`` in the workers;
    a second cluster here would make the suite slower and flaky under load).
    """
    from r2k.workflows.sweep import _cpus, _worker_env

    for workers in (1, 2, 3, 64):
        env = _worker_env(workers)
        threads = str(max(1, _cpus() // workers))
        assert env == {
            "POLARS_MAX_THREADS": threads,
            "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
        }
