"""The result of a reconstitution from a data directory, with its inputs.

Defined apart from :mod:`r2k.workflows.pipeline` (which builds it, and re-exports
it) so that reading a stored one (:mod:`r2k.workflows.recon_cache`) does not
import the whole pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from datetime import date

    from r2k.construction.reconstitution import Reconstitution
    from r2k.methodology.schedule import ReconSchedule

__all__ = ["ReconRun"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconRun:
    """A reconstitution with the inputs it was built from."""

    result: Reconstitution
    schedule: ReconSchedule
    universe_source: str
    incumbent_source: str
    universe_ids: frozenset[str]  # lines of the rank-day market data (not added ones)
    inputs: dict[str, str]  # file name -> sha256
    repairs: pl.DataFrame
    notes: tuple[str, ...]
    # security_id and name of every universe line (rank-day data and added lines)
    universe_lines: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"security_id": pl.String, "name": pl.String}
        )
    )
    as_of: date | None = None  # the last day read to learn which lines ceased
