"""How to calculate: the index, the rule set and the conventions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from r2k._typing import INDEX_CODES, TotalReturnConvention
from r2k.errors import MethodologyError
from r2k.maintenance.levels import DEFAULT_WITHHOLDING

if TYPE_CHECKING:
    import polars as pl

    from r2k._typing import IndexCode
    from r2k.construction.reconstitution import Reconstitution
    from r2k.maintenance.state import ReconDecision
    from r2k.methodology.rule_sets import RuleSet

#: Called on a rank day with the current members; returns the new membership:
#: a reconstitution of the whole family (the engine takes the lines of
#: :attr:`Settings.index`), one index's :class:`~r2k.maintenance.state.ReconDecision`
#: (it must be of :attr:`Settings.index`), or None (no reconstitution).
Reconstitutor = Callable[
    [date, frozenset[str]], "Reconstitution | ReconDecision | None"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How to calculate (the rule set's maintenance section plus conventions).

    Attributes
    ----------
    rules
        The rule set: its ``maintenance`` section (buffers, thresholds), its
        eligibility (security types and minimum price of IPO additions and
        spin-off children) and its ranking (IPO size ranges).
    index
        The index of the family calculated (:data:`r2k._typing.INDEX_CODES`).
    base_value
        Level of every series on the base session.
    withholding_rate, convention
        Net total return withholding and total-return convention (see
        :mod:`r2k.maintenance.levels`).
    reconstitute
        Called on every rank day (None: no reconstitution).
    float_factors
        :data:`r2k.schemas.FLOAT_FACTORS` known over time (quarterly float
        updates, IPO additions).
    quarterly
        Whether to run quarterly share/float updates and IPO additions.
    reconstitution_dates
        (rank day, effective date) of the reconstitutions; None: the Russell
        calendar.
    fallback_float
        Float factor of an IPO with no float data.
    """

    rules: RuleSet
    index: IndexCode = "r2000"
    base_value: float = 100.0
    withholding_rate: float = DEFAULT_WITHHOLDING
    convention: TotalReturnConvention = "reinvest"
    reconstitute: Reconstitutor | None = None
    float_factors: pl.DataFrame | None = None
    quarterly: bool = True
    reconstitution_dates: tuple[tuple[date, date], ...] | None = None
    fallback_float: float = 1.0

    def __post_init__(self) -> None:
        if self.index not in INDEX_CODES:
            msg = (
                f"unknown index {self.index!r}; choose one of {', '.join(INDEX_CODES)}"
            )
            raise MethodologyError(msg)
