"""Optimised sampling: ``names`` lines weighted for the least predicted tracking error.

The predicted tracking variance of fund weights ``w`` against index weights ``b``
(daily) is, with a factor model ``Sigma = B F B' + D``::

    TE^2(w) = (w - b)' B F B' (w - b) + sum_i D_i (w_i - b_i)^2

**Risk model** (:func:`statistical_risk_model`), point in time: the daily
returns of the index's lines over a trailing window of ``risk_window`` sessions
ending at the as-of close (nothing later is passed in). A line's missing returns
are the session's cross-sectional mean; the columns are demeaned; the
``factors`` first principal components of the window (a singular value
decomposition) are the factors, so ``F`` is diagonal (``s_k^2 / (T - 1)``) and
``B`` their loadings; ``D`` is each line's residual variance (``ddof = 1``),
floored at :data:`MIN_SPECIFIC_VARIANCE`, a line with returns on fewer than
half the sessions gets at least the median ``D``, and every ``D`` is shrunk
halfway to the cross-sectional median (:data:`SPECIFIC_SHRINKAGE`). With fewer than
``min_history`` sessions of history the **prior** model
(:func:`prior_risk_model`) stands in: a market factor, one factor per sector and
one per size tercile, with annual volatilities of 16% (market) and 10% (sector),
those of the synthetic market's generator (:mod:`r2k.synthetic.market`), and 5%
(size) and 40% (specific), assumed; the optimiser then matches sector and size
exposures.

**Cardinality** (at most ``names`` lines) makes the exact problem a mixed-integer
quadratic programme. The heuristic used: the candidates are the ``names``
largest lines by index weight (the same ranking whatever the risk model, so a
new model does not reshuffle the fund), lines already held first while they
rank within ``names x (1 + keep_buffer)``; the convex problem over them (``w >= 0``,
``sum w = 1``) is solved with Clarabel through cvxpy; candidates given no weight
are swapped for the next lines of the ranking, ``swap_rounds`` times at most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from r2k.errors import MethodologyError
from r2k.funds.sampling import size_buckets

__all__ = [
    "MIN_SPECIFIC_VARIANCE",
    "RiskModel",
    "min_tracking_error",
    "prior_risk_model",
    "statistical_risk_model",
]

MIN_SPECIFIC_VARIANCE: Final = (0.05**2) / 252.0
"""Floor of a line's daily specific variance (5% a year)."""

SPECIFIC_SHRINKAGE: Final = 0.5
"""Weight of the cross-sectional median in each line's specific variance."""

_PRIOR_VOL: Final = {"market": 0.16, "sector": 0.10, "size": 0.05, "specific": 0.40}
_SCALE: Final = 252.0 * 1e4  # objective in annual variance x 1e4 (TE in % squared)
_ZERO: Final = 1e-7  # a candidate weight below this is "not held"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskModel:
    """A factor model of daily returns: ``Sigma = B diag(F) B' + diag(D)``.

    Attributes
    ----------
    exposures
        ``B``, lines x factors.
    factor_variance
        ``F``, daily variance of each factor (the factors are uncorrelated).
    specific_variance
        ``D``, daily specific variance of each line.
    observations
        Sessions of history the model was estimated on (0 for the prior).
    kind
        ``"statistical"`` (principal components) or ``"prior"``.
    """

    exposures: np.ndarray
    factor_variance: np.ndarray
    specific_variance: np.ndarray
    observations: int
    kind: Literal["statistical", "prior"]

    def tracking_variance(self, active: np.ndarray) -> float:
        """Predicted daily tracking variance of the active weights ``w - b``."""
        x = self.exposures.T @ active
        return float(x @ (self.factor_variance * x)) + float(
            (self.specific_variance * active**2).sum()
        )


def statistical_risk_model(returns: np.ndarray, *, factors: int = 10) -> RiskModel:
    """Principal-component factor model of a window of daily returns.

    Parameters
    ----------
    returns
        Sessions x lines, NaN where a line has no return.
    factors
        Principal components kept (at most sessions - 1).
    """
    t, n = returns.shape
    if t < 2:
        msg = f"a statistical risk model needs at least 2 sessions of returns, not {t}"
        raise MethodologyError(msg)
    x = np.array(returns, dtype=float)
    seen = np.isfinite(x)
    row_mean = (
        np.where(seen.any(axis=1), np.nanmean(np.where(seen, x, np.nan), axis=1), 0.0)
        if n
        else np.zeros(t)
    )
    x = np.where(seen, x, row_mean[:, None])
    x -= x.mean(axis=0, keepdims=True)
    k = max(0, min(factors, t - 1, n))
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    loadings = vt[:k].T
    factor_variance = s[:k] ** 2 / (t - 1)
    residual = x - (u[:, :k] * s[:k]) @ vt[:k]
    specific = (residual**2).sum(axis=0) / (t - 1)
    specific = np.maximum(specific, MIN_SPECIFIC_VARIANCE)
    sparse = seen.sum(axis=0) < t / 2
    if sparse.any() and (~sparse).any():
        specific[sparse] = np.maximum(specific[sparse], np.median(specific[~sparse]))
    # halfway to the cross-sectional median: a short window's noise in D would
    # otherwise steer the weights to lines that merely looked calm
    specific = (
        SPECIFIC_SHRINKAGE * np.median(specific) + (1.0 - SPECIFIC_SHRINKAGE) * specific
    )
    return RiskModel(
        exposures=loadings,
        factor_variance=factor_variance,
        specific_variance=specific,
        observations=t,
        kind="statistical",
    )


def prior_risk_model(
    sector: np.ndarray, float_cap: np.ndarray, *, size_buckets_count: int = 3
) -> RiskModel:
    """Market, sector and size-bucket factors with fixed volatilities (no history)."""
    n = len(sector)
    sectors, sector_code = np.unique(sector, return_inverse=True)
    bucket = size_buckets(float_cap, size_buckets_count)
    exposures = np.zeros((n, 1 + len(sectors) + size_buckets_count))
    exposures[:, 0] = 1.0
    exposures[np.arange(n), 1 + sector_code] = 1.0
    exposures[np.arange(n), 1 + len(sectors) + bucket] = 1.0
    daily = {k: v**2 / 252.0 for k, v in _PRIOR_VOL.items()}
    factor_variance = np.array(
        [daily["market"]]
        + [daily["sector"]] * len(sectors)
        + [daily["size"]] * size_buckets_count
    )
    return RiskModel(
        exposures=exposures,
        factor_variance=factor_variance,
        specific_variance=np.full(n, daily["specific"]),
        observations=0,
        kind="prior",
    )


def min_tracking_error(
    benchmark: np.ndarray,
    model: RiskModel,
    names: int,
    *,
    swap_rounds: int = 3,
    held: np.ndarray | None = None,
    keep_buffer: float = 0.0,
) -> np.ndarray:
    """Long-only weights on at most ``names`` lines of least predicted tracking error.

    Parameters
    ----------
    benchmark
        Index weights ``b`` (sum 1).
    model
        The risk model of the same lines.
    names
        Lines the fund may hold.
    swap_rounds
        Rounds of swapping candidates the solution leaves empty.
    held, keep_buffer
        Lines the fund holds, kept as candidates while they rank within
        ``names x (1 + keep_buffer)``.

    Returns
    -------
    np.ndarray
        Fund weights (sum 1, ``>= 0``).

    Raises
    ------
    MethodologyError
        If the solver finds no solution.
    """
    import cvxpy as cp  # imported here: only the optimised method needs it

    n = len(benchmark)
    if names >= n:
        return np.asarray(benchmark, dtype=float).copy()
    ranking = np.lexsort((np.arange(n), -benchmark))
    if held is not None and keep_buffer > 0:
        reach = math.ceil(names * (1.0 + keep_buffer))
        kept = [i for i in ranking[:reach] if held[i]][:names]
        taken = set(kept)
        ranking = np.array(
            kept + [i for i in ranking if i not in taken], dtype=np.int64
        )
    chosen = ranking[:names]
    pool = list(ranking[names:])
    sqrt_f = np.sqrt(model.factor_variance * _SCALE)
    target = model.exposures.T @ benchmark
    weights = np.zeros(n)
    for _ in range(swap_rounds + 1):
        b_c = benchmark[chosen]
        exposure = model.exposures[chosen]
        w = cp.Variable(len(chosen), nonneg=True)
        objective = cp.sum_squares(
            cp.multiply(sqrt_f, exposure.T @ w - target)
        ) + cp.sum_squares(
            cp.multiply(np.sqrt(model.specific_variance[chosen] * _SCALE), w - b_c)
        )
        problem = cp.Problem(cp.Minimize(objective), [cp.sum(w) == 1])
        problem.solve(solver=cp.CLARABEL)
        if w.value is None or problem.status not in ("optimal", "optimal_inaccurate"):
            msg = (
                f"the tracking-error optimisation over {len(chosen)} lines ended "
                f"with status {problem.status!r}; use --method sampling"
            )
            raise MethodologyError(msg)
        value = np.clip(np.asarray(w.value, dtype=float), 0.0, None)
        weights = np.zeros(n)
        weights[chosen] = value
        empty = value < _ZERO
        if not empty.any() or not pool:
            break
        swap = min(int(empty.sum()), len(pool))
        keep = chosen[~empty]
        dropped = chosen[empty]
        chosen = np.concatenate(
            [keep, dropped[swap:], np.array(pool[:swap], dtype=np.int64)]
        )
        pool = pool[swap:]
    weights[weights < _ZERO] = 0.0
    total = weights.sum()
    if total <= 0:
        msg = "the tracking-error optimisation gave no weight to any line"
        raise MethodologyError(msg)
    out: np.ndarray = weights / total
    return out
