"""The compiled loop of the rolling variance: shifted running sums, a bound per window.

One pass over the series in blocks of ``block`` outputs, compiled by Numba
(imported only here, and this module only when a rolling variance is computed).
Within a block every value is taken relative to the block's middle value (exact:
one of the values), and the window sums of the deviations ``S1`` and of their
squares ``S2`` run forward: each value enters once and leaves once. The sum of
squared deviations of a window is ``m2 = S2 - S1^2 / w``.

Its rounding error is bounded a priori. The running sums are recursive sums of at
most ``k = w + 2 block + 4`` terms, so each is off by at most ``g T`` (Higham,
*Accuracy and Stability of Numerical Algorithms*, 2nd ed., eq. 4.4:
``g = k u / (1 - k u)``, ``u`` the unit roundoff, ``T`` the sum of the terms'
magnitudes so far, entering and leaving; every value that left had entered, or
was in the block's first window, which counts as entering, so ``T`` is at most
twice the magnitudes that entered, which is what the loop adds up; the rounding
of the deviations and squares themselves takes the 4 extra terms). Then
``S1^2 / w`` and the subtraction add at most ``(2 |S1| g T1 + (g T1)^2) / w +
4 u S2`` (``S1^2 / w <= S2``). A window whose ``m2`` is not at least
``1 / tolerance`` times that bound, or that lies near the subnormal range (``k``
squares each rounded to the smallest subnormal), is *flagged* (unless every
deviation the block has taken so far is exactly 0: a constant run, whose 0 is
exact): its value is left NaN for the caller to recompute by the corrected
two-pass algorithm (a value the loop computes is never NaN: a window that meets
the bound has a finite, non-negative sum), and its position is written to
``flagged`` while that has room (past it, the caller finds them by their NaN).
Every other window is within ``tolerance`` (relative) of the exact value.

Numba compiles the loop for :data:`SIGNATURE` when this module is first imported
and keeps it in its on-disk cache (``cache=True``: ``__pycache__`` beside this
file, or Numba's user cache folder when that is read-only), so later processes
load it (about 0.5 s with Numba's own start, 0.2 s more to import Numba) instead
of compiling it (about a second more); ``make install`` imports the module once
to fill the cache.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeAlias

import numba
import numpy as np
import numpy.typing as npt

from r2k.analytics._inputs import FloatArray

IntArray: TypeAlias = npt.NDArray[np.int64]
Kernel: TypeAlias = Callable[
    [FloatArray, int, FloatArray, float, bool, float, int, IntArray], int
]


def _rolling_sums(
    x: FloatArray,
    w: int,
    out: FloatArray,
    scale: float,
    root: bool,
    tolerance: float,
    block: int,
    flagged: IntArray,
) -> int:
    """Fill ``out`` with ``scale`` x each window's ``m2`` (its root if ``root``).

    ``out`` has ``len(x) - w + 1`` elements (``w >= 2``). Returns how many
    windows were flagged (their ``out`` is NaN until recomputed); the first
    ``len(flagged)`` of their positions are in ``flagged``.
    """
    n = x.size
    m = n - w + 1
    u = 2.0**-53
    tiny = 5e-324  # the smallest subnormal double
    inv_w = 1.0 / w
    margin = 1.0 / tolerance  # a product per window, not a division
    count = 0
    for s in range(0, m, block):
        e = min(s + block, m)
        c = x[s + (e - s + w - 1) // 2]
        k = w + 2 * (e - s) + 4
        g = k * u / (1.0 - k * u)
        floor = k * tiny * margin
        # The bound below, its constants folded, with every magnitude sum taken
        # as twice that of the terms entering (each value leaves after it
        # entered, or was in the block's first window, counted entering):
        # margin (g 2 t2 + (2 |s1| g 2 t1 + (g 2 t1)^2) / w + 4 u s2).
        c2 = 2.0 * g * margin
        c1 = 4.0 * g * inv_w * margin
        c11 = 4.0 * g * g * inv_w * margin
        cs = 4.0 * u * margin
        s1 = 0.0
        s2 = 0.0
        t1 = 0.0
        for j in range(s, s + w - 1):
            d = x[j] - c
            s1 += d
            s2 += d * d
            t1 += abs(d)
        t2 = s2
        for i in range(s, e):
            d = x[i + w - 1] - c
            q = d * d
            s1 += d
            s2 += q
            t1 += abs(d)
            t2 += q
            m2 = s2 - s1 * s1 * inv_w
            bound = c2 * t2 + (c1 * abs(s1) + c11 * t1) * t1 + cs * s2
            # t1 == 0: every deviation so far is exactly 0 (a constant run at the
            # block's middle value), so m2 == 0 is exact, no rounding to doubt.
            if (m2 >= bound and m2 >= floor) or t1 == 0.0:  # NaN fails both
                v = m2 * scale
                out[i] = math.sqrt(v) if root else v
            else:
                out[i] = math.nan
                if count < flagged.size:
                    flagged[count] = i
                count += 1
            d = x[i] - c
            s1 -= d
            s2 -= d * d
    return count


#: The argument types of :func:`_rolling_sums` (C-contiguous arrays): compiled
#: for these when this module is imported, or loaded from Numba's cache.
SIGNATURE = (
    "int64(float64[::1], int64, float64[::1], float64, boolean, float64, int64,"
    " int64[::1])"
)


def compile_loop(function: Callable[..., int]) -> Kernel:
    """``function`` compiled for :data:`SIGNATURE`, cached on disk when possible.

    Numba refuses to cache (``RuntimeError``) when neither the folder beside the
    source nor its user cache folder can be written (an installation on a
    read-only file system): the loop is then compiled in memory, each process
    paying about a second once, with the same values.
    """
    try:
        compiled: Kernel = numba.njit(SIGNATURE, cache=True, nogil=True)(function)
    except RuntimeError:
        compiled = numba.njit(SIGNATURE, nogil=True)(function)
    return compiled


#: :func:`_rolling_sums` compiled (``nogil``: other threads run meanwhile).
rolling_sums: Kernel = compile_loop(_rolling_sums)
