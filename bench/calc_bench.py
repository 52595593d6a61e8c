"""Calculation benchmark: the synthetic market, batch vs a per-session loop.

Cases (issue 3), all in one process:

* **batch end to end**: 4,000 companies x 40 years of the synthetic market with its
  full corporate-action flow, reconstitutions, quarterly updates and IPOs, from the
  in-memory market frame to the levels (market generation is timed apart: it is the
  data source, not the calculation);
* **per-session loop baseline**: the straightforward implementation, one session at
  a time from the previous state (:func:`r2k.maintenance.engine.calculate_session` in a
  Python loop), over the first ``baseline_years`` years, against the batch over the
  same span; the ratio is loop time / batch time on that span;
* **one incremental session**: the last session from the state at the close before,
  best of ``repeat``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from r2k.maintenance.engine import Calculation, calculate, calculate_session
from r2k.maintenance.market import MarketHistory
from r2k.maintenance.settings import Settings
from r2k.maintenance.state import IndexState, initial_state
from r2k.methodology.rule_sets import rule_set_for
from r2k.synthetic.market import SyntheticMarket, synthetic_market
from r2k.workflows.synthetic_run import SyntheticReconstitutor


@dataclass(frozen=True, slots=True, kw_only=True)
class CalcBench:
    """Timings in seconds."""

    companies: int
    sessions: int
    market_rows: int
    actions: int
    generate_s: float
    batch_s: float
    baseline_sessions: int
    baseline_batch_s: float
    baseline_loop_s: float
    incremental_s: float

    @property
    def loop_ratio(self) -> float:
        """Per-session loop time / batch time on the same span."""
        return self.baseline_loop_s / self.baseline_batch_s


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
    market = market or MarketHistory(data.market)
    state, settings = _start(market, data)
    return calculate(
        state, market, data.actions, settings, end=end or market.sessions[-1]
    )


def bench_calculation(
    *,
    companies: int = 4000,
    start: date = date(1986, 1, 2),
    end: date = date(2025, 12, 31),
    baseline_years: int = 2,
    repeat: int = 5,
) -> CalcBench:
    """Run the cases and return their timings."""
    t0 = time.perf_counter()
    data = synthetic_market(companies, start=start, end=end, seed=0)
    generate_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    full = _batch(data)
    batch_s = time.perf_counter() - t0

    # Batch and loop on the same span, sharing one indexed market (built outside).
    market = MarketHistory(data.market)
    span_end = date(start.year + baseline_years - 1, 12, 31)
    span = [s for s in market.sessions if s <= span_end]
    _batch(data, span[1], market)  # warm the line codes and caches
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
    return CalcBench(
        companies=companies,
        sessions=full.levels.height,
        market_rows=data.market.height,
        actions=data.actions.height,
        generate_s=generate_s,
        batch_s=batch_s,
        baseline_sessions=len(span),
        baseline_batch_s=baseline_batch_s,
        baseline_loop_s=baseline_loop_s,
        incremental_s=min(times),
    )


def report(b: CalcBench) -> str:
    """Markdown table of the timings."""
    return "\n".join(
        [
            "| case | time | target |",
            "|---|---:|---|",
            f"| generate the synthetic market ({b.companies:,} companies, "
            f"{b.sessions:,} sessions, {b.market_rows:,} rows, {b.actions:,} actions)"
            f" | {b.generate_s:,.1f} s | (data source) |",
            f"| batch end to end, {b.sessions:,} sessions | {b.batch_s:,.1f} s | "
            "< 10 s |",
            f"| batch, first {b.baseline_sessions:,} sessions | "
            f"{b.baseline_batch_s:,.2f} s | |",
            f"| per-session loop baseline, same {b.baseline_sessions:,} sessions | "
            f"{b.baseline_loop_s:,.1f} s | |",
            f"| speed-up of batch over the loop | {b.loop_ratio:,.0f}x | >= 50x |",
            f"| one incremental session (best of 5) | {b.incremental_s * 1000:,.0f} ms"
            " | < 50 ms |",
        ]
    )
