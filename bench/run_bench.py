"""``make bench``: reconstitution and calculation speed, as in-process ratios.

Issue 13's ratios (startup against ``import polars, duckdb``, rate of change and
rolling standard deviation against TA-Lib): see :mod:`bench.peers_bench`, printed
first (``--skip-peers`` leaves them out).
Calculation against py-beacon (its own interpreter, ``.venv-beacon``): see
:mod:`bench.beacon_bench` (``--skip-beacon`` leaves it out).
Calculation cases, the 40-year batch against a dense NumPy pass and the engine on a
fixed membership: see :mod:`bench.calc_bench` (``--skip-calc`` leaves them out);
its scaling table over years and companies (``--skip-scaling``) and the peak memory
of the 40-year market (``--skip-memory``), each case in a fresh process.
Load test of ``r2k serve`` on 127.0.0.1: see :mod:`bench.load_bench` (real data
only; ``--skip-load`` leaves it out).
Scale-out of a rule sweep, local vs Dask: see :mod:`bench.sweep_bench`
(``--skip-sweep`` leaves it out).
Issue 11: the reconstitution preview after its reconstitution
(:mod:`bench.preview_bench`, real data) and a 20-year full-replication fund
(:mod:`bench.fund_bench`); ``--skip-funds`` leaves both out.

Reconstitution cases:
* the full 2026 rank day from the real data (universe build + engine), when the
  data directory is present;
* a synthetic universe 10x the size of the 2026 rank day.

For each case the vectorised engine is timed against :func:`naive_reconstitute`
(a per-company Python loop) on the same input, best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bench.naive_recon import naive_reconstitute
from r2k.construction.reconstitution import reconstitute
from r2k.data.datadir import DataDir
from r2k.errors import DataDirectoryError
from r2k.methodology.rule_sets import RuleSet
from r2k.synthetic.universe import synthetic_universe

if TYPE_CHECKING:
    from collections.abc import Callable

RANK_DAY = date(2026, 4, 30)
EFFECTIVE = date(2026, 6, 26)


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-calc", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--skip-beacon", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-funds", action="store_true")
    args = parser.parse_args()
    rules = RuleSet.default()
    rows: list[tuple[str, int, float, float]] = []
    if not args.skip_peers:
        from bench.peers_bench import report as peers_report

        print("Issue 13 ratios (one run, alternating; `make bench`):\n")
        print(peers_report(args.data, args.repeat))
        print()
    if not args.skip_beacon:
        from bench.beacon_bench import BEACON_PYTHON, bench_beacon, report_row

        if BEACON_PYTHON.exists():
            print("Calculation against py-beacon (each side in its own process):\n")
            print("| case | time | ratio | target |\n|---|---:|---:|---|")
            print(report_row(bench_beacon()))
            print()
        else:
            print(f"(py-beacon row skipped: no {BEACON_PYTHON}; `make bench` makes it)")

    try:
        data = DataDir.resolve(args.data)
    except DataDirectoryError as exc:
        print(f"(real-data case skipped: {exc})")
        data = None
    if data is not None:
        from r2k.construction.universe import build_universe
        from r2k.data.sources.ishares import read_holdings
        from r2k.data.sources.panel import read_market_panel
        from r2k.workflows.pipeline import incumbents_from_holdings

        panel = read_market_panel(data.market_panel)
        holdings = read_holdings(data.ishares_dir / "IWM_2026-04-10.csv")
        incumbents = incumbents_from_holdings(holdings)
        build = build_universe(panel, RANK_DAY)

        build_s = best_of(args.repeat, lambda: build_universe(panel, RANK_DAY))
        print(
            f"universe build from the panel ({panel.height:,} rows): "
            f"{build_s * 1000:,.0f} ms (no baseline)"
        )
        engine = best_of(
            args.repeat,
            lambda: reconstitute(
                build.universe,
                incumbents,
                rules,
                rank_day=RANK_DAY,
                effective_date=EFFECTIVE,
            ),
        )
        naive = best_of(
            args.repeat, lambda: naive_reconstitute(build.universe, incumbents, rules)
        )
        rows.append(
            (
                "2026 rank day, real (engine)",
                build.universe.height,
                engine,
                naive,
            )
        )

    big = synthetic_universe(45_000, seed=1)
    engine = best_of(
        args.repeat,
        lambda: reconstitute(
            big.universe,
            big.incumbents,
            rules,
            rank_day=RANK_DAY,
            effective_date=EFFECTIVE,
        ),
    )
    naive = best_of(
        args.repeat, lambda: naive_reconstitute(big.universe, big.incumbents, rules)
    )
    rows.append(
        ("synthetic 10x (45,000 companies)", big.universe.height, engine, naive)
    )

    print("| case | lines | r2k engine | naive loop (baseline) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for name, lines, engine_s, naive_s in rows:
        print(
            f"| {name} | {lines:,} | {engine_s * 1000:,.0f} ms | "
            f"{naive_s * 1000:,.0f} ms | {naive_s / engine_s:,.1f}x |"
        )
    print(f"\nbest of {args.repeat} runs each; `make bench` on this machine")
    if not args.skip_calc:
        from bench.calc_bench import bench_calculation, report

        print("\nIndex calculation (synthetic market; batch, dense NumPy pass):\n")
        print(report(bench_calculation(repeat=args.repeat)))
    if not args.skip_memory:
        from bench.calc_bench import peak_rss

        print("\nPeak memory of the 40-year synthetic market (fresh processes):\n")
        print(peak_rss())
    if not args.skip_scaling:
        from bench.calc_bench import bench_scaling, report_scaling

        print("\nScaling of the batch (each case in a fresh process):\n")
        print(report_scaling(bench_scaling()))

    if not args.skip_funds:
        from bench.fund_bench import bench_fund
        from bench.fund_bench import report as fund_report

        print("\nIndex funds (issue 11):\n")
        if data is not None:
            from bench.preview_bench import report as preview_report

            print(preview_report(data, args.repeat))
        print(fund_report(bench_fund()))

    if data is not None and not args.skip_load:
        from bench.load_bench import report as load_report
        from bench.load_bench import run as load_run

        print("\nAPI load test (r2k serve on 127.0.0.1, 2,000 requests per row):\n")
        print(load_report(load_run(data.root)))

    if not args.skip_sweep:
        from bench.sweep_bench import bench_sweep
        from bench.sweep_bench import report as sweep_report

        print("\nScale-out of a rule sweep (local vs Dask, 2 workers):\n")
        print(sweep_report(bench_sweep()))


if __name__ == "__main__":
    main()
