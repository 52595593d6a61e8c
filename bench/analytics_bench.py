"""Analytics benchmark: 40 years of daily data, the index and 4,000 constituents.

Cases, all in one process on seeded synthetic data (10,080 sessions = 40 x 252):

* **index**: :func:`r2k.analytics.analysis.analyze` on one level series with two
  benchmarks (returns, volatility, rolling volatility, drawdown table, beta,
  correlation, capture, rates of change, rallies, range-bound periods), best of
  ``repeat``;
* **constituents, vectorised**: the per-security analytics (daily returns,
  rolling 63-session volatility, rate of change over 21/63/252 sessions,
  drawdown series, maximum drawdown, annualised return and volatility) for
  4,000 columns at once with NumPy 2-D operations, a block of columns at a time
  to bound memory;
* **constituents, per-constituent loop** (the baseline): the same quantities by
  calling the :mod:`r2k.analytics` functions once per column in a Python loop.

The ratio is loop time / vectorised time. Both paths must agree: the largest
relative difference of the rolling volatility and the largest absolute
difference of the drawdown are reported (the vectorised rolling variance uses
running sums of the returns less their column mean, the analytics functions a
corrected two-pass variance per window, so they differ by rounding only).
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from r2k import analytics
from r2k.analytics.analysis import analyze

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    Matrix = npt.NDArray[np.float64]

SESSIONS = 10_080  # 40 years of 252 sessions
CONSTITUENTS = 4_000
WINDOW = 63
PERIODS = (21, 63, 252)
PPY = 252.0
BLOCK = 500  # columns per vectorised block (10,080 x 500 x 8 B = 40 MB an array)


def synthetic_levels(sessions: int, columns: int, *, seed: int) -> Matrix:
    """Seeded geometric random walks, one column per security, starting at 100.

    Daily volatility differs by column (1% to 4%) and drift is small, so the
    paths have realistic drawdowns and rallies.
    """
    rng = np.random.default_rng(seed)
    vol = rng.uniform(0.01, 0.04, size=columns)
    drift = rng.normal(0.0003, 0.0002, size=columns)
    steps = rng.standard_normal((sessions - 1, columns)) * vol + drift - vol**2 / 2
    out = np.empty((sessions, columns))
    out[0] = 100.0
    np.cumsum(steps, axis=0, out=out[1:])
    out[1:] = 100.0 * np.exp(out[1:])
    return out


def _sessions(count: int) -> pl.Series:
    days: list[date] = []
    day = date(1986, 1, 1)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return pl.Series("session", days, dtype=pl.Date)


def outputs(
    sessions: int, columns: int, *, order: Literal["C", "F"]
) -> dict[str, Matrix]:
    """Preallocated result arrays (``order`` "C" or "F"), NaN-filled.

    Both paths write into arrays allocated before the clock starts, so the
    timings measure the analytics, not the first touch of 2 GB of fresh pages.
    """
    shape = (sessions, columns)
    out: dict[str, Matrix] = {
        name: np.full(shape, np.nan, order=order)
        for name in ("rolling_volatility", "drawdown", *(f"roc_{p}" for p in PERIODS))
    }
    for name in ("max_drawdown", "annualized_return", "annualized_volatility"):
        out[name] = np.full(columns, np.nan)
    return out


def vectorised(levels: Matrix, out: dict[str, Matrix]) -> dict[str, Matrix]:
    """All per-security analytics for every column of ``levels`` (NumPy 2-D).

    Returns arrays aligned with ``levels`` (NaN in the warm-up) for the rolling
    volatility, drawdown and rates of change, and one value per column for the
    maximum drawdown and the annualised return and volatility.
    """
    n, m = levels.shape
    vol, dd = out["rolling_volatility"], out["drawdown"]
    roc = {p: out[f"roc_{p}"] for p in PERIODS}
    max_dd = out["max_drawdown"]
    ann_ret, ann_vol = out["annualized_return"], out["annualized_volatility"]
    for lo in range(0, m, BLOCK):
        x = levels[:, lo : lo + BLOCK]
        r = x[1:] / x[:-1] - 1.0
        centred = r - r.mean(axis=0)
        s1 = np.zeros((n, x.shape[1]))
        s2 = np.zeros((n, x.shape[1]))
        np.cumsum(centred, axis=0, out=s1[1:])
        np.cumsum(centred * centred, axis=0, out=s2[1:])
        w1 = s1[WINDOW:] - s1[:-WINDOW]
        w2 = s2[WINDOW:] - s2[:-WINDOW]
        var = np.maximum(w2 - w1 * w1 / WINDOW, 0.0) / (WINDOW - 1)
        vol[WINDOW:, lo : lo + BLOCK] = np.sqrt(var * PPY)
        high = np.maximum.accumulate(x, axis=0)
        dd[:, lo : lo + BLOCK] = x / high - 1.0
        max_dd[lo : lo + BLOCK] = dd[:, lo : lo + BLOCK].min(axis=0)
        for p in PERIODS:
            roc[p][p:, lo : lo + BLOCK] = 100.0 * (x[p:] / x[:-p] - 1.0)
        ann_ret[lo : lo + BLOCK] = np.expm1(np.log1p(r).sum(axis=0) * PPY / (n - 1))
        ann_vol[lo : lo + BLOCK] = r.std(axis=0, ddof=1) * np.sqrt(PPY)
    return out


def per_constituent(levels: Matrix, out: dict[str, Matrix]) -> dict[str, Matrix]:
    """The same analytics by calling :mod:`r2k.analytics` once per column.

    Pass ``levels`` and ``out`` in column-major order (``np.asfortranarray``,
    ``outputs(..., order="F")``) so that each column is a contiguous series, as
    a per-security store would hold it.
    """
    m = levels.shape[1]
    vol, dd = out["rolling_volatility"], out["drawdown"]
    roc = {p: out[f"roc_{p}"] for p in PERIODS}
    max_dd = out["max_drawdown"]
    ann_ret, ann_vol = out["annualized_return"], out["annualized_volatility"]
    for j in range(m):
        x = levels[:, j]
        r = analytics.simple_returns(x)
        vol[:, j] = analytics.rolling_volatility(
            r, WINDOW, periods_per_year=PPY, ddof=1
        )
        dd[:, j] = analytics.drawdown(x)
        max_dd[j] = analytics.max_drawdown(x)
        for p in PERIODS:
            roc[p][:, j] = analytics.rate_of_change(x, p, unit="percent")
        ann_ret[j] = analytics.annualized_return(r, periods_per_year=PPY)
        ann_vol[j] = analytics.annualized_volatility(r, periods_per_year=PPY, ddof=1)
    return out


def _best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def _max_rel(a: Matrix, b: Matrix) -> float:
    both = np.isfinite(a) & np.isfinite(b)
    if np.isnan(a).sum() != np.isnan(b).sum():
        return float("inf")  # warm-ups differ: the paths disagree
    return float(np.max(np.abs(a[both] - b[both]) / np.abs(b[both])))


def bench_analytics(
    *,
    sessions: int = SESSIONS,
    constituents: int = CONSTITUENTS,
    seed: int = 20260722,
    repeat: int = 3,
    loop_repeat: int = 1,
) -> dict[str, float]:
    """Time the analytics on 40 years of daily data; return the timings.

    Parameters
    ----------
    sessions : int, default 10,080
        Sessions of every series (40 years of 252).
    constituents : int, default 4,000
        Columns of the constituent panel.
    seed : int
        Seed of the synthetic data.
    repeat : int, default 3
        Runs of the index and vectorised cases (the best is kept).
    loop_repeat : int, default 1
        Runs of the per-constituent loop (it is the slow one).

    Returns
    -------
    dict of str to float
        ``sessions``, ``constituents``, ``generate_s``, ``index_analyze_s``,
        ``vectorised_s``, ``loop_s``, ``loop_ratio`` (loop / vectorised),
        ``per_constituent_loop_ms``, ``max_rel_diff_volatility``,
        ``max_abs_diff_drawdown``, ``max_abs_diff_roc`` (agreement of the two
        paths); timings in seconds, best of the runs.
    """
    t0 = time.perf_counter()
    panel = synthetic_levels(sessions, constituents, seed=seed)
    market = synthetic_levels(sessions, 3, seed=seed + 1)
    generate_s = time.perf_counter() - t0

    days = _sessions(sessions)
    index = pl.DataFrame({"session": days, "level": market[:, 0]})
    benchmarks = {
        "SPX": pl.DataFrame({"session": days, "level": market[:, 1]}),
        "RUA": pl.DataFrame({"session": days, "level": market[:, 2]}),
    }
    index_s, _ = _best(
        repeat, lambda: analyze(index, benchmarks=benchmarks, name="synthetic")
    )
    fast_out = outputs(sessions, constituents, order="C")
    vector_s, fast = _best(repeat, lambda: vectorised(panel, fast_out))
    by_column = np.asfortranarray(panel)  # the loop's natural layout, not timed
    slow_out = outputs(sessions, constituents, order="F")
    loop_s, slow = _best(loop_repeat, lambda: per_constituent(by_column, slow_out))
    roc_diff = max(
        float(np.nanmax(np.abs(fast[f"roc_{p}"] - slow[f"roc_{p}"]))) for p in PERIODS
    )
    return {
        "sessions": float(sessions),
        "constituents": float(constituents),
        "generate_s": generate_s,
        "index_analyze_s": index_s,
        "vectorised_s": vector_s,
        "loop_s": loop_s,
        "loop_ratio": loop_s / vector_s,
        "per_constituent_loop_ms": loop_s / constituents * 1000.0,
        "max_rel_diff_volatility": _max_rel(
            fast["rolling_volatility"], slow["rolling_volatility"]
        ),
        "max_abs_diff_drawdown": float(
            np.max(np.abs(fast["drawdown"] - slow["drawdown"]))
        ),
        "max_abs_diff_roc": roc_diff,
    }


def report(result: dict[str, float]) -> str:
    """The timings as a Markdown table."""
    n, m = int(result["sessions"]), int(result["constituents"])
    lines = [
        "| case | time | note |",
        "|---|---:|---|",
        f"| synthetic data ({n:,} sessions x {m:,} + 3 series) | "
        f"{result['generate_s'] * 1000:,.0f} ms | not analytics |",
        f"| index: analyze() with 2 benchmarks, {n:,} sessions | "
        f"{result['index_analyze_s'] * 1000:,.0f} ms | every statistic and table |",
        f"| {m:,} constituents, vectorised (NumPy 2-D) | "
        f"{result['vectorised_s'] * 1000:,.0f} ms | returns, rolling vol, ROC x3, "
        "drawdown, max DD, ann. return/vol |",
        f"| {m:,} constituents, per-constituent loop | "
        f"{result['loop_s'] * 1000:,.0f} ms | "
        f"{result['per_constituent_loop_ms']:.2f} ms per constituent |",
        f"| speed-up of the vectorised path | {result['loop_ratio']:,.1f}x | "
        f"agreement: vol rel {result['max_rel_diff_volatility']:.1e}, drawdown abs "
        f"{result['max_abs_diff_drawdown']:.1e}, ROC abs "
        f"{result['max_abs_diff_roc']:.1e} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--constituents", type=int, default=CONSTITUENTS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(report(bench_analytics(constituents=args.constituents, repeat=args.repeat)))


if __name__ == "__main__":
    main()
