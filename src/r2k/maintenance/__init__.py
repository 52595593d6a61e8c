"""Between reconstitutions: corporate actions, the engine, the state and the levels.

The calculation engine runs in batch and incremental mode on one code path. The
modules, from the inputs to the engine (``docs/calculation.md`` has the map):

* :mod:`~r2k.maintenance.market`: :class:`MarketHistory`, the market read point in
  time;
* :mod:`~r2k.maintenance.levels`: level chaining (price, total, net total return);
* :mod:`~r2k.maintenance.state`: :class:`ReconDecision`, :class:`IndexState` and
  their JSON, :func:`initial_state`;
* :mod:`~r2k.maintenance.settings`: :class:`Settings` (the index among them);
* :mod:`~r2k.maintenance.eligibility`: which new lines may enter between
  reconstitutions (the rule set's screens);
* :mod:`~r2k.maintenance.book`: the book of one block and its dense arrays;
* :mod:`~r2k.maintenance.actions`: the table of corporate-action kinds, their
  formulas and handlers;
* :mod:`~r2k.maintenance.scheduled`: reconstitution, quarterly updates, IPO
  additions;
* :mod:`~r2k.maintenance.engine`: :func:`calculate`, :func:`calculate_session`.

Inside r2k, import from the defining module; this package re-exports the public
API for users.
"""

from r2k._typing import TotalReturnConvention
from r2k.maintenance.actions import (
    ACTIONS,
    KINDS,
    ActionKind,
    Adjustment,
    check_actions,
    empty_actions,
)
from r2k.maintenance.engine import Calculation, calculate, calculate_session
from r2k.maintenance.levels import (
    DEFAULT_WITHHOLDING,
    LevelState,
    chain_levels,
    levels_from_sums,
)
from r2k.maintenance.market import MarketHistory
from r2k.maintenance.scheduled import recon_schedule
from r2k.maintenance.settings import Reconstitutor, Settings
from r2k.maintenance.state import (
    IPO_SIZE_RANGES,
    IndexState,
    PendingRemoval,
    ReconDecision,
    initial_state,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_WITHHOLDING",
    "IPO_SIZE_RANGES",
    "KINDS",
    "ActionKind",
    "Adjustment",
    "Calculation",
    "IndexState",
    "LevelState",
    "MarketHistory",
    "PendingRemoval",
    "ReconDecision",
    "Reconstitutor",
    "Settings",
    "TotalReturnConvention",
    "calculate",
    "calculate_session",
    "chain_levels",
    "check_actions",
    "empty_actions",
    "initial_state",
    "levels_from_sums",
    "recon_schedule",
]
