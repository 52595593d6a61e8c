"""How closely calculated levels track a published index (e.g. RUT).

Daily returns are compared on the sessions both series have, from the first common
session (the base, no return) to the last. Conventions, stated once:

* returns are simple daily returns, as fractions, on consecutive common sessions;
* ``tracking_error_bp`` is the sample standard deviation (``ddof=1``) of the daily
  return differences (calculated - reference), in basis points, **not** annualised;
* ``mean_difference_bp`` and ``max_abs_difference_bp`` are of the same differences;
* ``cumulative_return`` and ``reference_cumulative_return`` are fractions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from r2k.errors import MissingDataError

if TYPE_CHECKING:
    from datetime import date

    import polars as pl

BP_PER_UNIT = 10_000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Tracking:
    """Tracking statistics of a calculated series against a reference."""

    start: date
    end: date
    sessions: int  # daily returns compared
    correlation: float
    tracking_error_bp: float
    mean_difference_bp: float
    max_abs_difference_bp: float
    cumulative_return: float
    reference_cumulative_return: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings)."""
        out = asdict(self)
        out["start"] = self.start.isoformat()
        out["end"] = self.end.isoformat()
        return out


def tracking(levels: pl.DataFrame, reference: pl.DataFrame) -> Tracking:
    """Compare ``levels`` (``session``, ``level``) with ``reference`` (same columns).

    Raises
    ------
    MissingDataError
        If the two series share fewer than three sessions (two returns).
    """
    joined = (
        levels.select("session", calc="level")
        .join(reference.select("session", ref="level"), on="session", how="inner")
        .drop_nulls()
        .sort("session")
    )
    if joined.height < 3:
        span = (
            f"{reference['session'].min()!s} .. {reference['session'].max()!s}"
            if reference.height
            else "no sessions"
        )
        msg = (
            f"the calculated and reference series share {joined.height} session(s); "
            f"at least 3 are needed (the reference covers {span})"
        )
        raise MissingDataError(msg)
    calc = joined["calc"].to_numpy()
    ref = joined["ref"].to_numpy()
    rc = calc[1:] / calc[:-1] - 1.0
    rr = ref[1:] / ref[:-1] - 1.0
    diff = rc - rr
    corr = float(np.corrcoef(rc, rr)[0, 1]) if rc.std() and rr.std() else math.nan
    return Tracking(
        start=joined["session"][0],
        end=joined["session"][-1],
        sessions=len(diff),
        correlation=corr,
        tracking_error_bp=float(np.std(diff, ddof=1)) * BP_PER_UNIT,
        mean_difference_bp=float(diff.mean()) * BP_PER_UNIT,
        max_abs_difference_bp=float(np.abs(diff).max()) * BP_PER_UNIT,
        cumulative_return=float(calc[-1] / calc[0] - 1.0),
        reference_cumulative_return=float(ref[-1] / ref[0] - 1.0),
    )
