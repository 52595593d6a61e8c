"""Issue 13's first four rows, each a ratio measured in one process, alternating.

* ``r2k reconstitute --rank-day 2026-04-30`` and ``r2k calendar 2026``, whole
  process (``subprocess``), against ``python -c "import polars, duckdb"``; the
  first, untimed run of each command fills r2k's reconstitution cache
  (``docs/performance.md``), which the timed runs then read, as a user's second
  run does (``R2K_NO_CACHE=1`` in the environment times the pipeline instead);
* ``analytics.rate_of_change`` on 1,000,000 points against TA-Lib's ``ROC``;
* ``analytics.rolling_standard_deviation(window=20, ddof=0)`` against TA-Lib's
  ``STDDEV(timeperiod=20, nbdev=1)`` (population), with the largest relative
  difference of the values.

TA-Lib comes from the bench-only dependency group (``make bench`` installs it).
Each case is run ``repeat`` times, the contenders alternating; min, median and max
are printed, the ratio is of the minima (the least disturbed runs).

``python -m bench.peers_bench --data ../shared/data`` runs this module alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

POINTS = 1_000_000
ROC_PERIOD = 10
STD_WINDOW = 20
R2K = str(Path(sys.executable).with_name("r2k"))


def alternate(
    repeat: int, cases: dict[str, Callable[[], object]]
) -> dict[str, list[float]]:
    """Wall times of each case, ``repeat`` rounds, the cases alternating."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, work in cases.items():
            start = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - start)
    return times


def _process(argv: list[str], env: dict[str, str]) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(argv, env=env, capture_output=True, check=True)

    return run


def _spread(values: list[float], unit: float, suffix: str) -> str:
    lo, mid, hi = min(values), statistics.median(values), max(values)
    return f"{lo * unit:,.2f} / {mid * unit:,.2f} / {hi * unit:,.2f} {suffix}"


def startup_rows(data: Path | None, repeat: int) -> list[str]:
    """Rows of the startup ratios (whole processes)."""
    env = dict(os.environ)
    if data is not None:
        env["R2K_DATA"] = str(data)
    cases: dict[str, Callable[[], object]] = {
        "reference": _process([sys.executable, "-c", "import polars, duckdb"], env),
        "calendar": _process([R2K, "calendar", "2026"], env),
    }
    if data is not None:
        cases["reconstitute"] = _process(
            [R2K, "reconstitute", "--rank-day", "2026-04-30"], env
        )
    for work in cases.values():  # warm the file cache (and r2k's cache) once
        work()
    times = alternate(repeat, cases)
    ref = min(times["reference"])
    rows = [
        f'| `python -c "import polars, duckdb"` (reference) | '
        f"{_spread(times['reference'], 1, 's')} | 1.00x | |"
    ]
    targets = {"reconstitute": 3.0, "calendar": 1.5}
    commands = {
        "reconstitute": "`r2k reconstitute --rank-day 2026-04-30`",
        "calendar": "`r2k calendar 2026`",
    }
    for name in ("reconstitute", "calendar"):
        if name not in times:
            continue
        rows.append(
            f"| {commands[name]} | {_spread(times[name], 1, 's')} | "
            f"{min(times[name]) / ref:.2f}x | <= {targets[name]}x |"
        )
    return rows


def analytics_rows(repeat: int) -> list[str]:
    """Rows of ROC and rolling standard deviation against TA-Lib."""
    import talib

    from r2k import analytics

    rng = np.random.default_rng(13)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, POINTS)))
    # Values first: these calls are also the warm-up (the first long rolling
    # variance loads its compiled loop, about 0.7 s, once per process).
    ours = analytics.rolling_standard_deviation(close, STD_WINDOW, ddof=0)
    theirs = talib.STDDEV(close, timeperiod=STD_WINDOW, nbdev=1)
    std_diff = float(np.nanmax(np.abs(ours - theirs) / ours))
    roc_diff = float(
        np.nanmax(
            np.abs(
                analytics.rate_of_change(close, ROC_PERIOD)
                - talib.ROC(close, timeperiod=ROC_PERIOD)
            )
        )
    )
    times = alternate(
        repeat,
        {
            "talib_roc": lambda: talib.ROC(close, timeperiod=ROC_PERIOD),
            "roc": lambda: analytics.rate_of_change(close, ROC_PERIOD),
            "talib_std": lambda: talib.STDDEV(close, timeperiod=STD_WINDOW, nbdev=1),
            "std": lambda: analytics.rolling_standard_deviation(
                close, STD_WINDOW, ddof=0
            ),
        },
    )
    roc = min(times["roc"]) / min(times["talib_roc"])
    std = min(times["std"]) / min(times["talib_std"])
    return [
        f"| `analytics.rate_of_change` 1,000,000 points (TA-Lib `ROC` "
        f"{_spread(times['talib_roc'], 1e3, 'ms')}) | "
        f"{_spread(times['roc'], 1e3, 'ms')} | {roc:.2f}x TA-Lib | <= 2x "
        f"(max abs diff {roc_diff:.1e}) |",
        f"| `analytics.rolling_standard_deviation` window 20 (TA-Lib `STDDEV` "
        f"{_spread(times['talib_std'], 1e3, 'ms')}) | "
        f"{_spread(times['std'], 1e3, 'ms')} | {std:.2f}x TA-Lib | <= 2x "
        f"(max rel diff {std_diff:.1e}) |",
    ]


def report(data: Path | None, repeat: int) -> str:
    """The table: case, min / median / max, ratio, target."""
    lines = [
        "| case | min / median / max | ratio | target |",
        "|---|---:|---:|---|",
        *startup_rows(data, repeat),
        *analytics_rows(max(repeat, 15)),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(report(args.data, args.repeat))


if __name__ == "__main__":
    main()
