"""Trading costs of an index fund's orders at the close (docs/funds.md).

Three costs, each a setting of :class:`CostSettings`, all in basis points of the
order's notional ``|q| p`` (``q`` shares at the price ``p``):

* **commission**: ``commission_bps``;
* **half-spread**: the half of the bid-ask spread paid crossing it, by size
  class of the line (:data:`SIZE_CLASSES`, float-adjusted cap ``N P`` of the
  index's line): ``half_spread_bps[class]``;
* **market impact**: ``impact_bps * sqrt(|q| / ADV)``, the square-root law of
  impact (cost grows with the square root of the order over the daily volume;
  Tóth et al. 2011, "Anomalous price impact and the critical nature of
  liquidity", Phys. Rev. X 1, 021006: impact ``Y sigma sqrt(Q / V)`` with ``Y``
  of order one). ``impact_bps`` stands for ``Y sigma``. ``ADV`` is the median
  daily share volume of the ``adv_window`` sessions before the order's session
  (:data:`r2k.funds.demand.ADV_WINDOW`, the same median as the reconstitution
  preview). An order on a line without known volume (or an ADV below one
  share) pays the impact of a whole day's volume (participation 1): the cost
  is never left out for lack of data.

Every cost is ``>= 0`` and zero for a zero order (a property test checks it).

Examples
--------
A $1m order of 10,000 shares at $100 in a small-cap line (class ``"small"``)
whose ADV is 1,000,000 shares, with the defaults (1 bp commission, 10 bp
half-spread for small caps, 100 bp impact coefficient)::

    commission = 1e6 x 1e-4                      = $100
    spread     = 1e6 x 10e-4                     = $1,000
    impact     = 1e6 x 100e-4 x sqrt(0.01)       = $1,000

>>> import numpy as np
>>> c = trade_costs(
...     np.array([10_000.0]), np.array([100.0]), np.array([1e6]),
...     np.array([2], dtype=np.int8), CostSettings(),
... )
>>> [round(float(x[0]), 6) for x in (c.commission, c.spread, c.impact)]
[100.0, 1000.0, 1000.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from r2k.errors import InputError
from r2k.funds.demand import ADV_WINDOW

__all__ = [
    "COST_KINDS",
    "SIZE_CLASSES",
    "SIZE_CLASS_FLOORS",
    "CostSettings",
    "TradeCosts",
    "size_class",
    "trade_costs",
]

SIZE_CLASSES: Final = ("large", "mid", "small", "micro")
"""Size classes of a line for its half-spread, largest first."""

SIZE_CLASS_FLOORS: Final = (10e9, 2e9, 300e6)
"""Lowest float-adjusted cap (USD) of ``large``, ``mid`` and ``small``; below the
last is ``micro``. The usual US market-cap classes (large above $10bn, mid $2-10bn,
small $300m-2bn, micro below), applied to the index's float-adjusted cap."""

COST_KINDS: Final = ("commission", "spread", "impact")


@dataclass(frozen=True, slots=True, kw_only=True)
class CostSettings:
    """How an order at the close is charged (all basis points of notional).

    Attributes
    ----------
    commission_bps
        Broker commission (default 1 bp, an assumption: institutional program
        trades pay about that).
    half_spread_bps
        Half-spread by size class, in the order of :data:`SIZE_CLASSES` (default
        2, 5, 10, 25 bp: assumptions of the order of quoted half-spreads of US
        large, mid, small and micro caps; the data directory has no quotes to
        measure them).
    impact_bps
        Coefficient of the square-root impact, ``Y sigma`` (default 100 bp:
        ``sigma`` = 3.1%, the median daily volatility of the members of the IWM
        file of 2026-04-10 on the market panel, measured (docs/funds.md), times
        ``Y`` = 0.32, an assumption below the order-one ``Y`` of Tóth et al.
        2011).
    adv_window
        Sessions in the median daily volume (default
        :data:`r2k.funds.demand.ADV_WINDOW`).
    """

    commission_bps: float = 1.0
    half_spread_bps: tuple[float, float, float, float] = (2.0, 5.0, 10.0, 25.0)
    impact_bps: float = 100.0
    adv_window: int = ADV_WINDOW

    def __post_init__(self) -> None:
        values = (self.commission_bps, self.impact_bps, *self.half_spread_bps)
        if len(self.half_spread_bps) != len(SIZE_CLASSES):
            msg = (
                f"half_spread_bps needs {len(SIZE_CLASSES)} values "
                f"({', '.join(SIZE_CLASSES)}), not {len(self.half_spread_bps)}"
            )
            raise InputError(msg)
        if not all(math.isfinite(v) and v >= 0 for v in values):
            msg = f"costs must be finite and >= 0 bp, not {values}"
            raise InputError(msg)
        if self.adv_window < 1:
            msg = f"adv_window must be at least 1 session, not {self.adv_window}"
            raise InputError(msg)

    @classmethod
    def zero(cls) -> CostSettings:
        """No costs at all (the ideal fund of the tracking property)."""
        return cls(
            commission_bps=0.0, half_spread_bps=(0.0, 0.0, 0.0, 0.0), impact_bps=0.0
        )


@dataclass(frozen=True, slots=True)
class TradeCosts:
    """Costs of a batch of orders in USD, one entry per order, by kind."""

    commission: np.ndarray
    spread: np.ndarray
    impact: np.ndarray

    def total(self) -> np.ndarray:
        """Commission + spread + impact of each order."""
        out: np.ndarray = self.commission + self.spread + self.impact
        return out


def size_class(float_cap: np.ndarray) -> np.ndarray:
    """Size class of each line (index into :data:`SIZE_CLASSES`) by float cap (USD).

    Examples
    --------
    >>> size_class(np.array([20e9, 5e9, 1e9, 1e8, np.nan])).tolist()
    [0, 1, 2, 3, 3]
    """
    floors = np.array(SIZE_CLASS_FLOORS)
    cap = np.nan_to_num(float_cap, nan=0.0)
    out: np.ndarray = (cap[:, None] < floors[None, :]).sum(axis=1).astype(np.int8)
    return out


def trade_costs(
    shares: np.ndarray,
    price: np.ndarray,
    adv: np.ndarray,
    size: np.ndarray,
    settings: CostSettings,
) -> TradeCosts:
    """Costs of orders of ``shares`` (signed) at ``price``, by kind (USD, >= 0).

    Parameters
    ----------
    shares
        Shares bought (> 0) or sold (< 0) per order.
    price
        Execution price (the close).
    adv
        Median daily share volume before the session (NaN or below one share:
        unknown, participation taken as 1).
    size
        Size class of each line (:func:`size_class`).
    settings
        The cost settings.
    """
    q = np.abs(shares)
    notional = q * price
    safe = np.where(np.isfinite(adv) & (adv >= 1.0), adv, np.nan)
    participation = np.where(
        np.isnan(safe), 1.0, q / np.where(np.isnan(safe), 1.0, safe)
    )
    half = np.asarray(settings.half_spread_bps, dtype=float)[size.astype(np.intp)]
    return TradeCosts(
        commission=notional * (settings.commission_bps * 1e-4),
        spread=notional * half * 1e-4,
        impact=notional * (settings.impact_bps * 1e-4) * np.sqrt(participation),
    )
