"""Index funds and the reconstitution trade (layer ``funds``).

Pure logic on frames: the passive demand of a reconstitution
(:mod:`r2k.funds.demand`), its score against the volume of the effective date
(:mod:`r2k.funds.scoring`) and the event study of the reconstitution effect
(:mod:`r2k.funds.event`). The joining of real data is
:mod:`r2k.workflows.preview`. Formulas and defaults: docs/funds.md.
"""

from __future__ import annotations

from r2k.funds.demand import (
    ADV_WINDOW,
    CHANGE_KINDS,
    PassiveAum,
    average_daily_volume,
    preview_demand,
    preview_totals,
)
from r2k.funds.event import event_study
from r2k.funds.scoring import score_preview, volume_ratios

__all__ = [
    "ADV_WINDOW",
    "CHANGE_KINDS",
    "PassiveAum",
    "average_daily_volume",
    "event_study",
    "preview_demand",
    "preview_totals",
    "score_preview",
    "volume_ratios",
]
