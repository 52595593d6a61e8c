"""Calculation against py-beacon (py-beacon-kit 0.9.7), issue 13.

The same index on the same panel in both libraries: ``names`` names (2,000) over
``years`` years (10) of XNYS sessions, every name trading every session with a
constant share count, 40% of them paying quarterly cash dividends; weighted by
market cap (close x shares, float factor 1), base 100, price return and total return
(dividends reinvested across the index on the ex-date). :func:`write_panel` writes
the panel to Parquet in a temporary folder; each library reads it in its own fresh
process and times its own calculation in process with ``time.perf_counter``, after a
warm-up on the first 20 sessions, best of ``repeat`` runs (2):

* r2k (``python -m bench.beacon_bench --side r2k DIR``, r2k's interpreter): the
  frames in memory to the levels: :class:`r2k.maintenance.market.MarketHistory`,
  :func:`r2k.maintenance.state.initial_state` and the batch
  :func:`r2k.maintenance.engine.calculate` (no reconstitution, no quarterly
  updates), which gives both series at once;
* py-beacon (``.venv-beacon/bin/python bench/peers/beacon_side.py DIR``, its own
  interpreter: it pins matplotlib<3.11, see ``bench/peers/py-beacon.in``): the
  frames in memory to the levels: its ``DataFetcher`` and two
  ``IndexCalculator.run`` (``PRICE`` and ``TOTAL_RETURN``).

The ratio is py-beacon's time over r2k's; the levels must agree to 1e-12 (largest
relative difference over every session, both series). ``make bench`` builds
``.venv-beacon``; ``python -m bench.beacon_bench`` runs this part alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from r2k.sessions import sessions_in_range

ROOT = Path(__file__).resolve().parent.parent
BEACON_PYTHON = ROOT / ".venv-beacon" / "bin" / "python"
BEACON_SIDE = ROOT / "bench" / "peers" / "beacon_side.py"
#: Sessions of the untimed warm-up: more than r2k.maintenance.book.COMPILED_SESSIONS,
#: so the warm-up loads the walk's compiled loops (Numba, about 1 s), no timed run.
WARM_SESSIONS = 20
TOLERANCE = 1e-12
PAYER_SHARE = 0.4
QUARTER = 63


@dataclass(frozen=True, slots=True, kw_only=True)
class BeaconBench:
    """Timings in seconds and the largest relative level differences."""

    names: int
    sessions: int
    dividends: int
    repeat: int
    r2k_s: float
    beacon_s: float
    beacon_price_s: float
    beacon_total_s: float
    price_diff: float
    total_diff: float

    @property
    def ratio(self) -> float:
        """py-beacon's time over r2k's."""
        return self.beacon_s / self.r2k_s


def panel_frames(
    names: int = 2000, years: int = 10, seed: int = 13
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The panel (session, security_id, close, shares_outstanding) and dividends."""
    days = sessions_in_range(date(2025 - years + 1, 1, 1), date(2025, 12, 31))
    rng = np.random.default_rng(seed)
    nt = len(days)
    steps = rng.normal(0.0003, 0.02, (nt, names))
    steps[0] = 0.0
    close = rng.uniform(5.0, 80.0, names) * np.exp(np.cumsum(steps, axis=0))
    shares = np.exp(rng.uniform(np.log(1e6), np.log(1e9), names))
    ids = [f"B{i:05d}" for i in range(names)]
    panel = pl.DataFrame(
        {
            "session": np.repeat(np.array(days, dtype="datetime64[D]"), names),
            "security_id": ids * nt,
            "close": close.ravel(),
            "shares_outstanding": np.tile(shares, nt),
        }
    ).with_columns(pl.col("session").cast(pl.Date))
    payers = np.flatnonzero(rng.random(names) < PAYER_SHARE)
    first = rng.integers(1, QUARTER + 1, payers.size)
    rows = [
        (p, t)
        for p, f in zip(payers, first, strict=True)
        for t in range(f, nt, QUARTER)
    ]
    p_idx = np.array([p for p, _ in rows], dtype=np.int64)
    t_idx = np.array([t for _, t in rows], dtype=np.int64)
    dividends = pl.DataFrame(
        {
            "security_id": [ids[p] for p in p_idx.tolist()],
            "ex_date": np.array(days, dtype="datetime64[D]")[t_idx],
            "amount": close[t_idx, p_idx] * rng.uniform(0.0025, 0.0075, p_idx.size),
        }
    ).with_columns(pl.col("ex_date").cast(pl.Date))
    return panel, dividends.sort("ex_date", "security_id")


def write_panel(folder: Path, names: int = 2000, years: int = 10) -> None:
    """Write ``panel.parquet`` and ``dividends.parquet`` into ``folder``."""
    panel, dividends = panel_frames(names, years)
    panel.write_parquet(folder / "panel.parquet")
    dividends.write_parquet(folder / "dividends.parquet")


def market_frame(panel: pl.DataFrame) -> pl.DataFrame:
    """The panel as r2k's MARKET frame (columns the index does not read filled)."""
    from r2k import schemas

    return panel.select(
        "session",
        "security_id",
        name=pl.col("security_id"),
        close="close",
        volume=pl.lit(0, dtype=pl.Int64),
        shares_outstanding="shares_outstanding",
        total_market_cap=pl.col("close") * pl.col("shares_outstanding"),
        sector=pl.lit("bench"),
    ).select(schemas.MARKET.names())


def actions_frame(dividends: pl.DataFrame) -> pl.DataFrame:
    """The dividends as r2k's CORPORATE_ACTIONS (cash dividends)."""
    from r2k import schemas

    return dividends.select(
        "security_id",
        "ex_date",
        action=pl.lit("cash_dividend"),
        ratio=pl.lit(None, dtype=pl.Float64),
        amount="amount",
        other_id=pl.lit(None, dtype=pl.String),
        shares_outstanding=pl.lit(None, dtype=pl.Float64),
        float_factor=pl.lit(None, dtype=pl.Float64),
        source=pl.lit("bench"),
    ).select(schemas.CORPORATE_ACTIONS.names())


def r2k_levels(
    market_frame: pl.DataFrame, actions: pl.DataFrame, end: date | None = None
) -> pl.DataFrame:
    """r2k's calculation of the bench index: every line of the first session.

    No reconstitution and no quarterly update: a fixed membership.
    """
    from r2k.maintenance.engine import calculate
    from r2k.maintenance.market import MarketHistory
    from r2k.maintenance.settings import Settings
    from r2k.maintenance.state import initial_state
    from r2k.methodology.rule_sets import rule_set_for

    market = MarketHistory(market_frame)
    base = market.sessions[0]
    members = market.cross_section(base).select(
        "security_id", shares="shares_outstanding", float_factor=pl.lit(1.0)
    )
    state, _ = initial_state(base, members, market)
    settings = Settings(rules=rule_set_for(base), quarterly=False)
    return calculate(
        state, market, actions, settings, end=end or market.sessions[-1]
    ).levels


def r2k_side(folder: Path, repeat: int) -> dict[str, float]:
    """r2k's timed calculation on the panel in ``folder`` (writes its levels).

    Best of ``repeat`` runs, after a warm-up on the first 20 sessions.
    """
    panel = pl.read_parquet(folder / "panel.parquet")
    frame = market_frame(panel)
    actions = actions_frame(pl.read_parquet(folder / "dividends.parquet"))
    days = frame["session"].unique().sort()
    r2k_levels(frame, actions, days[WARM_SESSIONS])
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        levels = r2k_levels(frame, actions)
        times.append(time.perf_counter() - t0)
    seconds = min(times)
    levels.select("session", "price_return", "total_return").write_parquet(
        folder / "r2k_levels.parquet"
    )
    return {"seconds": seconds}


def _side(argv: list[str]) -> dict[str, float]:
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def _max_rel(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(ours / theirs - 1.0)))


def bench_beacon(
    names: int = 2000, years: int = 10, repeat: int = 2, python: Path = BEACON_PYTHON
) -> BeaconBench:
    """Both sides on one panel, each in its own fresh process, best of ``repeat``."""
    with tempfile.TemporaryDirectory(prefix="r2k-beacon-") as tmp:
        folder = Path(tmp)
        write_panel(folder, names, years)
        r2k = _side(
            [
                sys.executable,
                "-m",
                "bench.beacon_bench",
                "--side",
                str(folder),
                "--repeat",
                str(repeat),
            ]
        )
        beacon = _side([str(python), str(BEACON_SIDE), str(folder), str(repeat)])
        ours = pl.read_parquet(folder / "r2k_levels.parquet")
        theirs = pl.read_parquet(folder / "beacon_levels.parquet")
        sessions = pl.read_parquet(folder / "panel.parquet", columns=["session"])
        dividends = pl.read_parquet(folder / "dividends.parquet").height
    if ours["session"].to_list() != theirs["session"].to_list():
        msg = "r2k and py-beacon calculated different sessions"
        raise RuntimeError(msg)
    return BeaconBench(
        names=names,
        sessions=sessions["session"].n_unique(),
        dividends=dividends,
        repeat=repeat,
        r2k_s=r2k["seconds"],
        beacon_s=beacon["seconds"],
        beacon_price_s=beacon["price_s"],
        beacon_total_s=beacon["total_s"],
        price_diff=_max_rel(
            ours["price_return"].to_numpy(), theirs["price_return"].to_numpy()
        ),
        total_diff=_max_rel(
            ours["total_return"].to_numpy(), theirs["total_return"].to_numpy()
        ),
    )


def report_row(b: BeaconBench) -> str:
    """The row of the issue 13 table."""
    agree = max(b.price_diff, b.total_diff)
    verdict = "" if agree <= TOLERANCE else f" (NOT within {TOLERANCE:.0e})"
    return (
        f"| calculation against py-beacon 0.9.7, {b.names:,} names x "
        f"{b.sessions:,} sessions, price + total return ({b.dividends:,} "
        f"dividends), each timed in its own process, best of {b.repeat} | "
        f"r2k {b.r2k_s:,.2f} s, "
        f"py-beacon {b.beacon_s:,.1f} s (price {b.beacon_price_s:,.1f} s + total "
        f"{b.beacon_total_s:,.1f} s) | {b.ratio:,.0f}x faster | >= 100x; levels to "
        f"{agree:.1e}{verdict} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if args.side is not None:
        print(json.dumps(r2k_side(args.side, args.repeat)))
        return
    if not BEACON_PYTHON.exists():
        print(f"(py-beacon row skipped: {BEACON_PYTHON} is missing; `make bench`)")
        return
    print(report_row(bench_beacon(args.names, args.years, args.repeat)))


if __name__ == "__main__":
    main()
