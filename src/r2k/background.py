"""The one background thread the calculation hands work to.

Work that nothing needs until later runs here while the caller goes on: the
valuation of a finished block of the batch walk
(:func:`r2k.maintenance.engine.calculate`) and the universe of the next rank day
(:class:`r2k.workflows.synthetic_run.SyntheticReconstitutor`). Both are NumPy or
Polars work, which releases the GIL, so on a machine with two cores or more it
overlaps the walk. One thread, in submission order: a job never waits for one
submitted after it, and the results do not depend on the timing.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

__all__ = ["worker"]


@cache
def worker() -> ThreadPoolExecutor:
    """The background thread (made on first use, one per process)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="r2k-background")
