"""Calculation benchmark: the synthetic market, batch against a dense NumPy pass.

Cases (issues 3 and 13), each timed in one process:

* **batch end to end**: 4,000 companies x 40 years of the synthetic market with its
  full corporate-action flow, reconstitutions, quarterly updates and IPOs, from the
  in-memory typed panel (held compact, see
  :func:`r2k.workflows.synthetic_run.market_history`) to the levels (market
  generation is timed apart: it is the data source, not the calculation);
* **dense NumPy pass** over the same market: price return and total return of every
  listed line weighted by its shares, as ``sessions x columns`` matrices (close,
  shares held over each session, cash dividends; a column is reused by lines that
  never trade at the same time), built outside the timing. After the first batch
  (which also classifies the market's lines once, a per-load memo), the batch and
  the dense pass run ``repeat`` times alternating, as the peers bench does; the
  ratio is of their minima (issue 13: at most 30x), the first run's ratio shown
  beside it;
* **fixed membership**: the engine (:func:`r2k.maintenance.engine.calculate`, no
  reconstitution, no quarterly update, no action) over a panel where every one of
  ``fixed_names`` names trades every session for ``fixed_years`` years, against the
  same dense pass over that panel: the engine's own loop ratio;
* **per-session loop**: :func:`r2k.maintenance.engine.calculate_session` in a
  Python loop over the first ``baseline_years`` years against the batch over the
  same span (reported, no longer a target);
* **one incremental session**: the last session from the state at the close before,
  best of ``repeat``.

:func:`bench_scaling` times the batch over a grid of years and companies and
:func:`peak_rss` the peak memory of generating the 40-year market and of the 40-year
batch, each in a fresh process (:func:`peak_bytes`).
"""

from __future__ import annotations

import heapq
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from r2k.maintenance.engine import Calculation, calculate, calculate_session
from r2k.maintenance.settings import Settings
from r2k.maintenance.state import IndexState, initial_state
from r2k.methodology.rule_sets import rule_set_for
from r2k.synthetic.market import SyntheticMarket, synthetic_market
from r2k.workflows.synthetic_run import SyntheticReconstitutor, market_history

if TYPE_CHECKING:
    from collections.abc import Callable

    from r2k.maintenance.market import MarketHistory

START = date(1986, 1, 2)
END = date(2025, 12, 31)


@dataclass(frozen=True, slots=True, kw_only=True)
class CalcBench:
    """Timings in seconds."""

    companies: int
    sessions: int
    market_rows: int
    actions: int
    reconstitutions: int
    generate_s: float
    batch_s: float  # the first run: also builds the market's memo of line classes
    batch_runs: tuple[float, ...]  # later runs, alternating with the dense pass
    dense_runs: tuple[float, ...]
    dense_columns: int
    fixed_names: int
    fixed_sessions: int
    fixed_engine_s: float
    fixed_dense_s: float
    baseline_sessions: int
    baseline_batch_s: float
    baseline_loop_s: float
    incremental_s: float

    @property
    def dense_s(self) -> float:
        """Best time of the dense pass."""
        return min(self.dense_runs)

    @property
    def dense_ratio(self) -> float:
        """Best batch time / best dense NumPy pass over the same market."""
        return min(self.batch_runs) / self.dense_s

    @property
    def first_ratio(self) -> float:
        """First (cold) batch time / best dense pass."""
        return self.batch_s / self.dense_s

    @property
    def fixed_ratio(self) -> float:
        """Engine time / dense NumPy pass on the fixed-membership panel."""
        return self.fixed_engine_s / self.fixed_dense_s

    @property
    def loop_ratio(self) -> float:
        """Per-session loop time / batch time on the same span."""
        return self.baseline_loop_s / self.baseline_batch_s


@dataclass(frozen=True, slots=True)
class Dense:
    """A panel as dense matrices (row 0 is the base session)."""

    close: np.ndarray  # sessions x columns, 0 where no line trades
    held: np.ndarray  # (sessions - 1) x columns: shares held over session t + 1
    dividends: np.ndarray  # sessions x columns, cash per share going ex


def dense_pass(d: Dense) -> tuple[np.ndarray, np.ndarray]:
    """Price and total return (base 100) of the share-weighted panel.

    ``PR_t = PR_{t-1} sum(N P_t) / sum(N P_{t-1})`` and the same with ``P_t + d_t``
    on top for total return, ``N`` the shares held over session ``t``.
    """
    held = d.held
    mv = np.einsum("ij,ij->i", held, d.close[1:])
    ref = np.einsum("ij,ij->i", held, d.close[:-1])
    dv = np.einsum("ij,ij->i", held, d.dividends[1:])
    pr = 100.0 * np.cumprod(mv / ref)
    tr = 100.0 * np.cumprod((mv + dv) / ref)
    return pr, tr


def _pack(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, int]:
    """A column per line, reused by lines whose sessions do not overlap."""
    order = np.argsort(first, kind="stable")
    free: list[int] = []
    busy: list[tuple[int, int]] = []  # (last session, column)
    column = np.empty(first.size, dtype=np.int64)
    used = 0
    for k in order.tolist():
        while busy and busy[0][0] < first[k]:
            free.append(heapq.heappop(busy)[1])
        if free:
            c = free.pop()
        else:
            c, used = used, used + 1
        column[k] = c
        heapq.heappush(busy, (int(last[k]), c))
    return column, used


def dense_market(market: MarketHistory, actions: pl.DataFrame) -> Dense:
    """The market as dense matrices (every row of every line)."""
    frame = market.frame
    _, counts = market.session_rows(market.sessions[0], market.sessions[-1])
    nt = counts.size
    t = np.repeat(np.arange(nt), counts)
    codes = market.line_codes(market.sessions[0], market.sessions[-1]).astype(np.int64)
    spans = (
        pl.DataFrame({"code": codes, "t": t})
        .group_by("code")
        .agg(first=pl.col("t").min(), last=pl.col("t").max())
    )
    first = np.full(int(codes.max()) + 1, nt, dtype=np.int64)
    last = np.full(first.size, -1, dtype=np.int64)
    first[spans["code"].to_numpy()] = spans["first"].to_numpy()
    last[spans["code"].to_numpy()] = spans["last"].to_numpy()
    column, width = _pack(first, last)
    col = column[codes]
    close = np.zeros((nt, width))
    close[t, col] = frame["close"].to_numpy()
    shares = np.zeros((nt, width))
    shares[t, col] = frame["shares_outstanding"].fill_null(0.0).to_numpy()
    del t, col
    held = shares[:-1].copy()
    held[close[1:] == 0.0] = 0.0  # a line that stopped trading is not held
    del shares
    dividends = np.zeros((nt, width))
    paid = actions.filter(pl.col("action") == "cash_dividend")
    days = np.array([(s - date(1970, 1, 1)).days for s in market.sessions])
    at = np.searchsorted(days, paid["ex_date"].to_physical().to_numpy())
    lines = market.lines()
    pos = (
        paid["security_id"]
        .cast(pl.Enum(lines.to_list()), strict=False)
        .to_physical()
        .to_numpy()
    )
    amounts = paid["amount"].to_numpy()
    ok = (at < nt) & ~np.isnan(amounts)
    np.add.at(dividends, (at[ok], column[pos[ok]]), amounts[ok])
    return Dense(close=close, held=held, dividends=dividends)


def dense_panel(panel: pl.DataFrame, dividends: pl.DataFrame, names: int) -> Dense:
    """A panel where every name trades every session, as dense matrices."""
    close = panel["close"].to_numpy().reshape(-1, names)
    shares = panel["shares_outstanding"].to_numpy().reshape(-1, names)
    days = panel["session"].unique(maintain_order=True).to_physical().to_numpy()
    out = np.zeros_like(close)
    ids = panel["security_id"].head(names).to_list()
    pos = dividends["security_id"].replace_strict(ids, list(range(names))).to_numpy()
    at = np.searchsorted(days, dividends["ex_date"].to_physical().to_numpy())
    np.add.at(out, (at, pos), dividends["amount"].to_numpy())
    return Dense(close=close, held=shares[:-1].copy(), dividends=out)


def _start(market: MarketHistory, data: SyntheticMarket) -> tuple[IndexState, Settings]:
    recon = SyntheticReconstitutor(market, data)
    base = market.sessions[0]
    first = recon(base, frozenset(), base)
    members = first.members.select(
        "security_id", shares="shares_outstanding", float_factor="float_factor"
    )
    state, _ = initial_state(base, members, market)
    settings = Settings(
        rules=rule_set_for(base), reconstitute=recon, float_factors=data.float_factors
    )
    return state, settings


def _batch(
    data: SyntheticMarket, end: date | None = None, market: MarketHistory | None = None
) -> Calculation:
    market = market or market_history(data)
    state, settings = _start(market, data)
    return calculate(
        state, market, data.actions, settings, end=end or market.sessions[-1]
    )


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """Best wall time of ``repeat`` calls of ``work``, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_fixed(names: int, years: int, repeat: int) -> tuple[int, float, float]:
    """Engine vs dense pass on a fixed membership: sessions, engine s, dense s."""
    from bench.beacon_bench import (
        WARM_SESSIONS,
        market_frame,
        panel_frames,
        r2k_levels,
    )

    panel, dividends = panel_frames(names, years)
    frame = market_frame(panel)
    no_actions = _actions_empty()
    dense = dense_panel(panel, dividends.clear(), names)
    r2k_levels(frame, no_actions, frame["session"][names * WARM_SESSIONS])  # warm
    t0 = time.perf_counter()
    levels = r2k_levels(frame, no_actions)
    engine_s = time.perf_counter() - t0
    dense_s = best_of(repeat, lambda: dense_pass(dense))
    pr, _ = dense_pass(dense)
    ours = levels["price_return"].to_numpy()[1:]
    if not np.allclose(ours, pr, rtol=1e-12, atol=0.0):
        msg = "the engine and the dense pass disagree on the fixed membership"
        raise RuntimeError(msg)
    return levels.height, engine_s, dense_s


def _actions_empty() -> pl.DataFrame:
    from r2k import schemas

    return pl.DataFrame(schema=schemas.CORPORATE_ACTIONS)


def bench_calculation(
    *,
    companies: int = 4000,
    start: date = START,
    end: date = END,
    baseline_years: int = 2,
    repeat: int = 5,
    fixed_names: int = 4000,
    fixed_years: int = 10,
) -> CalcBench:
    """Run the cases and return their timings."""
    t0 = time.perf_counter()
    data = synthetic_market(companies, start=start, end=end, seed=0)
    generate_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    market = market_history(data)  # the panel itself, lines numbered by its codes
    state, settings = _start(market, data)
    full = calculate(state, market, data.actions, settings, end=market.sessions[-1])
    batch_s = time.perf_counter() - t0
    assert isinstance(settings.reconstitute, SyntheticReconstitutor)
    reconstitutions = len(settings.reconstitute.results)
    sessions = full.levels.height

    # The batch again, alternating with the dense pass (min / median / max of each,
    # as in the peers bench): both then run on warm memory and caches.
    dense = dense_market(market, data.actions)
    dense_columns = dense.close.shape[1]
    dense_pass(dense)
    batch_runs, dense_runs = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        dense_pass(dense)
        dense_runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _batch(data, market=market)
        batch_runs.append(time.perf_counter() - t0)
    del dense

    # Batch and loop on the same span, sharing one indexed market.
    span_end = date(start.year + baseline_years - 1, 12, 31)
    span = [s for s in market.sessions if s <= span_end]
    t0 = time.perf_counter()
    _batch(data, span[-1], market)
    baseline_batch_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    state, settings = _start(market, data)
    for session in span[1:]:
        state = calculate_session(
            state, market, data.actions, settings, session=session
        ).state
    baseline_loop_s = time.perf_counter() - t0

    # One incremental session: the last one, from the batch state the session before.
    before = _batch(data, market.sessions[-2], market)
    _, settings = _start(market, data)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        calculate_session(
            before.state,
            market,
            data.actions,
            settings,
            session=market.sessions[-1],
        )
        times.append(time.perf_counter() - t0)
    sizes = (data.panel.height, data.actions.height)
    del data, market, full, before
    fixed_sessions, fixed_engine_s, fixed_dense_s = bench_fixed(
        fixed_names, fixed_years, repeat
    )
    return CalcBench(
        companies=companies,
        sessions=sessions,
        market_rows=sizes[0],
        actions=sizes[1],
        reconstitutions=reconstitutions,
        generate_s=generate_s,
        batch_s=batch_s,
        batch_runs=tuple(batch_runs),
        dense_runs=tuple(dense_runs),
        dense_columns=dense_columns,
        fixed_names=fixed_names,
        fixed_sessions=fixed_sessions,
        fixed_engine_s=fixed_engine_s,
        fixed_dense_s=fixed_dense_s,
        baseline_sessions=len(span),
        baseline_batch_s=baseline_batch_s,
        baseline_loop_s=baseline_loop_s,
        incremental_s=min(times),
    )


def _spread(times: tuple[float, ...], scale: float, unit: str) -> str:
    """``min / median / max`` of ``times`` (seconds) times ``scale``, in ``unit``."""
    low, mid, high = (scale * x for x in (min(times), median(times), max(times)))
    digits = 2 if unit == "s" else 0
    return f"{low:,.{digits}f} / {mid:,.{digits}f} / {high:,.{digits}f} {unit}"


def report(b: CalcBench) -> str:
    """Markdown table of the timings."""
    return "\n".join(
        [
            "| case | time | ratio | target |",
            "|---|---:|---:|---|",
            f"| generate the synthetic market ({b.companies:,} companies, "
            f"{b.sessions:,} sessions, {b.market_rows:,} rows, {b.actions:,} actions)"
            f", typed panel | {b.generate_s:,.1f} s | | (data source) |",
            f"| batch end to end (`MarketHistory` to levels), {b.sessions:,} sessions, "
            f"{b.reconstitutions} reconstitutions, first run (it also classifies the "
            f"market's lines once) | {b.batch_s:,.1f} s | "
            f"{b.first_ratio:,.0f}x the dense pass | < 10 s |",
            f"| the same batch again, {len(b.batch_runs)} runs alternating with the "
            f"dense pass (min / median / max) | {_spread(b.batch_runs, 1, 's')} | | |",
            f"| dense NumPy price + total-return pass, same market "
            f"({b.sessions:,} x {b.dense_columns:,} matrices; min / median / max) | "
            f"{_spread(b.dense_runs, 1000, 'ms')} | batch {b.dense_ratio:,.0f}x "
            "(of the minima) | <= 30x |",
            f"| engine, fixed membership ({b.fixed_names:,} names x "
            f"{b.fixed_sessions:,} sessions, no action) / dense pass "
            f"({b.fixed_dense_s * 1000:,.0f} ms) | {b.fixed_engine_s:,.2f} s | "
            f"{b.fixed_ratio:,.0f}x | (reported) |",
            f"| per-session loop, first {b.baseline_sessions:,} sessions / batch "
            f"({b.baseline_batch_s:,.2f} s) | {b.baseline_loop_s:,.1f} s | "
            f"{b.loop_ratio:,.0f}x | (reported, no longer a target) |",
            f"| one incremental session (best of 5) | {b.incremental_s * 1000:,.0f} ms"
            " | | < 50 ms |",
        ]
    )


# --- scaling and memory, each case in a fresh process ------------------------------


def _case(companies: int, years: int, batch: bool) -> dict[str, float]:
    """Generate (and calculate) in this process; timings and peak RSS."""
    start = date(END.year - years + 1, 1, 2)
    t0 = time.perf_counter()
    data = synthetic_market(companies, start=start, end=END, seed=0)
    out: dict[str, float] = {
        "generate_s": time.perf_counter() - t0,
        "rows": data.panel.height,
    }
    if batch:
        t0 = time.perf_counter()
        _batch(data)
        out["batch_s"] = time.perf_counter() - t0
    out["peak_bytes"] = peak_bytes()
    return out


def peak_bytes() -> int:
    """Peak resident memory of this process, in bytes.

    ``VmHWM`` of ``/proc/self/status`` where there is one: on Linux ``ru_maxrss``
    (``resource.getrusage``, the fallback) keeps the high-water mark of the process
    that forked this one across ``exec``, so a fresh interpreter started by a large
    process would report the parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fresh_case(companies: int, years: int, *, batch: bool) -> dict[str, float]:
    """:func:`_case` in a fresh interpreter."""
    code = (
        "import json; from bench.calc_bench import _case; "
        f"print(json.dumps(_case({companies}, {years}, {batch})))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        msg = f"case {companies} x {years} years failed:\n{run.stderr[-2000:]}"
        raise RuntimeError(msg)
    result: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def bench_scaling(
    companies: tuple[int, ...] = (2000, 3000, 4000),
    years: tuple[int, ...] = (10, 20, 40),
) -> list[tuple[int, int, dict[str, float]]]:
    """Batch time and peak RSS over the grid, each case in a fresh process."""
    return [(c, y, fresh_case(c, y, batch=True)) for y in years for c in companies]


def report_scaling(cases: list[tuple[int, int, dict[str, float]]]) -> str:
    """Markdown table of :func:`bench_scaling`."""
    lines = [
        "| years | companies | market rows | generate | batch | batch per row | "
        "peak RSS (generate + batch) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c, y, r in cases:
        lines.append(
            f"| {y} | {c:,} | {r['rows'] / 1e6:,.1f}M | {r['generate_s']:,.1f} s | "
            f"{r['batch_s']:,.1f} s | {r['batch_s'] / r['rows'] * 1e9:,.0f} ns | "
            f"{r['peak_bytes'] / 2**30:,.2f} GiB |"
        )
    return "\n".join(lines)


def peak_rss(companies: int = 4000, years: int = 40) -> str:
    """Markdown rows: peak RSS of generating the market, and of the batch."""
    gen = fresh_case(companies, years, batch=False)
    both = fresh_case(companies, years, batch=True)
    return "\n".join(
        [
            "| case (fresh process, peak RSS `VmHWM`) | peak RSS | time | target |",
            "|---|---:|---:|---|",
            f"| generate the {years}-year market ({companies:,} companies, "
            f"{gen['rows'] / 1e6:,.1f}M rows) | {gen['peak_bytes'] / 2**30:,.2f} GiB"
            f" | {gen['generate_s']:,.1f} s | < 2 GiB |",
            f"| generate it and run the {years}-year batch | "
            f"{both['peak_bytes'] / 2**30:,.2f} GiB | {both['batch_s']:,.1f} s "
            "(batch) | |",
        ]
    )
