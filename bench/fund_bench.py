"""Fund simulation: 20 years of daily full replication of about 2,000 names.

The synthetic market (:func:`r2k.workflows.synthetic_run.run_synthetic`, 3,400
companies: a Russell 2000 of about 2,000 lines) is generated and its index
calculated first, then laid out for the fund (:func:`r2k.workflows.fund.index_path`);
both are the inputs, timed apart. Timed, best of ``repeat``:

* **simulation**: :func:`r2k.funds.simulation.simulate`, full replication with
  the default settings (whole shares, costs, band rule, ADV lookups);
* **dense NumPy baseline**, in the same process on the same rows: the ideal
  fund's NAV (no costs, fractional shares) computed the plain way, a year of
  sessions at a time laid out as dense sessions x lines arrays and reduced
  (``sum(N (P + d)) / sum(N P_ref)`` chained). The ratio simulation / baseline is
  the price of the trading logic the baseline leaves out.

Run alone: ``.venv/bin/python -m bench.fund_bench`` (``--years``, ``--companies``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from r2k.funds.simulation import FundSettings, IndexPath, simulate
from r2k.workflows.fund import SYNTHETIC_HISTORY_DAYS, index_path
from r2k.workflows.synthetic_run import run_synthetic

END = date(2025, 12, 31)
COMPANIES = 3400
BUDGET_S = 10.0  # issue 11: a 20-year daily simulation of 2,000 names under 10 s


@dataclass(frozen=True, slots=True)
class FundBench:
    """Timings in seconds and the size of the case."""

    years: int
    sessions: int
    lines_mean: float
    lines_ever: int
    inputs_s: float
    layout_s: float
    simulate_s: float
    baseline_s: float
    baseline_gap: float  # max |baseline NAV / index TR - 1|

    @property
    def ratio(self) -> float:
        """Simulation time / dense NumPy baseline time."""
        return self.simulate_s / self.baseline_s


def dense_baseline(path: IndexPath, block: int = 252) -> np.ndarray:
    """The ideal fund's NAV (base: the index's first level), dense by blocks."""
    n_lines = len(path.ids)
    sessions = len(path.sessions)
    growth = np.ones(sessions)
    for first in range(1, sessions, block):
        last = min(first + block, sessions)
        rows = slice(int(path.offsets[first]), int(path.offsets[last]))
        counts = np.diff(path.offsets[first : last + 1])
        t = np.repeat(np.arange(last - first), counts)
        shape = (last - first, n_lines)
        n = np.zeros(shape)
        value = np.zeros(shape)
        ref = np.zeros(shape)
        n[t, path.line[rows]] = path.index_shares[rows]
        value[t, path.line[rows]] = path.close[rows] + path.dividend[rows]
        ref[t, path.line[rows]] = path.reference_price[rows]
        growth[first:last] = (n * value).sum(axis=1) / (n * ref).sum(axis=1)
    out: np.ndarray = path.index_total_return[0] * np.cumprod(growth)
    return out


def bench_fund(
    *, years: int = 20, companies: int = COMPANIES, seed: int = 0, repeat: int = 3
) -> FundBench:
    """Time the simulation and the baseline on one synthetic market."""
    start = date(END.year - years + 1, 1, 2)
    t0 = time.perf_counter()
    run = run_synthetic(
        companies,
        start=start - timedelta(days=SYNTHETIC_HISTORY_DAYS),
        end=END,
        seed=seed,
        constituents=True,
    )
    inputs_s = time.perf_counter() - t0
    levels = run.calculation.levels
    first = levels.filter(levels["session"] >= start)["session"][0]
    last = levels["session"][-1]
    t0 = time.perf_counter()
    path, _ = index_path(
        run.calculation.constituents,
        levels,
        run.market.market,
        first,
        last,
        adv_window=60,
    )
    layout_s = time.perf_counter() - t0
    del run
    settings = FundSettings()
    simulate_s = baseline_s = float("inf")
    nav = np.empty(0)
    for _ in range(repeat):
        t0 = time.perf_counter()
        simulate(path, settings)
        simulate_s = min(simulate_s, time.perf_counter() - t0)
        t0 = time.perf_counter()
        nav = dense_baseline(path)
        baseline_s = min(baseline_s, time.perf_counter() - t0)
    counts = np.diff(path.offsets)[1:-1]
    return FundBench(
        years=years,
        sessions=len(path.sessions) - 1,
        lines_mean=float(counts.mean()),
        lines_ever=len(path.ids),
        inputs_s=inputs_s,
        layout_s=layout_s,
        simulate_s=simulate_s,
        baseline_s=baseline_s,
        baseline_gap=float(np.abs(nav / path.index_total_return - 1).max()),
    )


def report(result: FundBench) -> str:
    """The bench as text lines."""
    verdict = "within" if result.simulate_s < BUDGET_S else "OVER"
    return "\n".join(
        [
            f"fund simulation, full replication: {result.years} years, "
            f"{result.sessions:,} sessions, {result.lines_mean:,.0f} lines a session "
            f"({result.lines_ever:,} ever)",
            f"  inputs (synthetic market + index calculation): "
            f"{result.inputs_s:.1f} s; layout: {result.layout_s:.1f} s (apart)",
            f"  simulate: {result.simulate_s:.2f} s ({verdict} the {BUDGET_S:.0f} s "
            "budget)",
            f"  dense NumPy baseline (ideal fund, no trading logic): "
            f"{result.baseline_s:.2f} s; ratio {result.ratio:.1f}x; baseline vs "
            f"index TR max gap {result.baseline_gap:.1e}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--companies", type=int, default=COMPANIES)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        report(
            bench_fund(years=args.years, companies=args.companies, repeat=args.repeat)
        )
    )


if __name__ == "__main__":
    main()
