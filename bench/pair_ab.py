"""Paired A/B of the synthetic batch in two checkouts, runs interleaved.

On this machine the same batch takes anywhere from 1.7 to 2.9 s within an hour
(the host's speed moves in phases), so two versions timed one after the other
compare the phases, not the code. Here each checkout runs in its own long-lived
process that generates the market once; the two then run the batch in turn,
alternating which goes first, and every pair (A then B, or B then A, seconds
apart) gives one ratio B / A. The median of the paired ratios is the comparison;
their range shows the noise left.

Usage (a checkout is any directory with ``src/r2k`` and ``bench``, such as a
``git worktree`` of an earlier commit)::

    git worktree add /tmp/base HEAD~1
    .venv/bin/python -m bench.pair_ab /tmp/base . --years 20 --pairs 10

Each side runs with this interpreter and imports ``r2k`` and ``bench`` from its
own checkout (checked), so the two must share the locked dependencies.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: What each side runs: generate the market once, then one batch per line read.
_SIDE = """
import sys, time
from datetime import date
src = sys.argv[1]
sys.path[:0] = [src + "/src", src]
import r2k
assert r2k.__file__.startswith(src), r2k.__file__
from bench.calc_bench import _batch
from r2k.synthetic.market import synthetic_market
from r2k.workflows.synthetic_run import market_history
years = int(sys.argv[2])
data = synthetic_market(
    int(sys.argv[3]), start=date(2026 - years, 1, 2), end=date(2025, 12, 31), seed=0
)
market = market_history(data)
_batch(data, market=market)
print("ready", flush=True)
for _ in sys.stdin:
    t = time.perf_counter()
    _batch(data, market=market)
    print(f"{time.perf_counter() - t:.6f}", flush=True)
"""


@dataclass(frozen=True, slots=True)
class Paired:
    """Batch seconds of each side, pair by pair."""

    a: tuple[float, ...]
    b: tuple[float, ...]

    @property
    def ratios(self) -> tuple[float, ...]:
        """B / A of every pair."""
        return tuple(y / x for x, y in zip(self.a, self.b, strict=True))

    def report(self, a: str, b: str) -> str:
        """The medians, the paired ratio's median and range."""
        r = self.ratios
        sides = [
            f"{label} {name}: min {min(t):.2f} s, median {statistics.median(t):.2f} s"
            for label, name, t in (("A", a, self.a), ("B", b, self.b))
        ]
        return "\n".join(
            [
                *sides,
                f"B / A over {len(r)} pairs: median {statistics.median(r):.3f} "
                f"(range {min(r):.3f} - {max(r):.3f})",
            ]
        )


def run_pairs(a: Path, b: Path, *, years: int, companies: int, pairs: int) -> Paired:
    """Time the batch of each checkout ``pairs`` times, interleaved."""
    sides = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SIDE,
                str(src.resolve()),
                str(years),
                str(companies),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for src in (a, b)
    ]
    times: list[list[float]] = [[], []]
    try:
        for side in sides:
            assert side.stdout is not None
            if side.stdout.readline().strip() != "ready":
                msg = "a side stopped before its first batch (see its error above)"
                raise SystemExit(msg)
        for i in range(pairs):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for k in order:
                side = sides[k]
                assert side.stdin is not None
                assert side.stdout is not None
                side.stdin.write("run\n")
                side.stdin.flush()
                times[k].append(float(side.stdout.readline()))
    finally:
        for side in sides:
            if side.stdin is not None:
                side.stdin.close()
            side.wait()
            if side.stdout is not None:
                side.stdout.close()
    return Paired(tuple(times[0]), tuple(times[1]))


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.pair_ab A B [--years N] [--companies N] [--pairs N]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path, help="checkout A (the baseline)")
    parser.add_argument("b", type=Path, help="checkout B")
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--companies", type=int, default=4000)
    parser.add_argument("--pairs", type=int, default=10)
    args = parser.parse_args(argv)
    for src in (args.a, args.b):
        if not (src / "src" / "r2k").is_dir() or not (src / "bench").is_dir():
            parser.error(f"{src} is not an r2k checkout (no src/r2k and bench)")
    paired = run_pairs(
        args.a, args.b, years=args.years, companies=args.companies, pairs=args.pairs
    )
    print(paired.report(str(args.a), str(args.b)))


if __name__ == "__main__":
    main()
