"""Preview of a full reconstitution, timed after the reconstitution itself (issue 11).

``python -m bench.preview_bench --data ../shared/data [--repeat 5]``: the
reconstitution of rank day 2026-04-30 (as of 2026-06-25) runs once, untimed; then
:func:`r2k.workflows.preview.run_preview` with that reconstitution (reading the
market panel and the IWM file, the ADV, the demand, the totals) is timed
``--repeat`` times, with the reconstitution's own time as the same-process
baseline. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

from r2k.data.datadir import DataDir
from r2k.workflows.pipeline import run_reconstitution
from r2k.workflows.preview import run_preview

RANK_DAY = date(2026, 4, 30)
AS_OF = date(2026, 6, 25)


def measure(data: DataDir, repeat: int) -> dict[str, float]:
    """Seconds: the reconstitution once, the preview ``repeat`` times (min/median)."""
    start = time.perf_counter()
    run = run_reconstitution(data, RANK_DAY, as_of=AS_OF)
    recon = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        preview = run_preview(data, RANK_DAY, as_of=AS_OF, run=run)
        times.append(time.perf_counter() - start)
    assert preview.frame.height > 2000
    return {
        "reconstitution_s": recon,
        "preview_min_s": min(times),
        "preview_median_s": statistics.median(times),
        "preview_max_s": max(times),
        "rows": float(preview.frame.height),
    }


def report(data: DataDir, repeat: int = 5) -> str:
    """The bench as one text line."""
    r = measure(data, repeat)
    return (
        f"preview after the reconstitution ({int(r['rows']):,} rows): "
        f"{r['preview_min_s']:.3f} / {r['preview_median_s']:.3f} / "
        f"{r['preview_max_s']:.3f} s (min / median / max; target < 1 s); "
        f"the reconstitution itself {r['reconstitution_s']:.2f} s "
        f"(preview = {r['preview_min_s'] / r['reconstitution_s']:.2f}x of it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(report(DataDir(args.data), args.repeat))


if __name__ == "__main__":
    main()
