"""Stratified sampling: hold ``names`` lines that match the index cell by cell.

The index's lines are split into *cells*, sector x size bucket; the size buckets
are ``size_buckets`` groups of equal count by float-adjusted cap within the index
(terciles by default: the index's own large, middle and small thirds). Each cell
keeps its index weight; the ``names`` lines are shared out among the cells:

1. every non-empty cell gets one line, largest cells first, while lines remain;
2. the rest go in proportion to the cell weights: each round gives every cell
   the whole part of its share of the lines left, and when no whole part is
   left, one line to the cell with the largest fractional part; no cell gets
   more lines than it has;
3. within a cell, the chosen lines are its largest by index weight, and they
   share the cell's weight in proportion to their index weights. With
   ``held`` lines (a fund already holding some) and a ``keep_buffer``, a held
   line keeps its place while its rank in the cell is within ``k x (1 +
   keep_buffer)`` (``k`` the cell's lines), so a line near the edge is not
   bought and sold at every selection; the places left go to the largest others.

So the sample's weight in every cell equals the index's, and with ``names`` at
least the number of lines the sample is the index.

Examples
--------
One cell of four lines with index weights 0.10, 0.06, 0.03 and 0.01 (cell
weight 0.20), given two lines: the two largest share 0.20 as 0.10 : 0.06, i.e.
0.125 and 0.075 (tests/funds/test_simulation.py works it by hand).

>>> w = cell_sample_weights(np.array([0.10, 0.06, 0.03, 0.01]), 2)
>>> [round(float(x), 6) for x in w]
[0.125, 0.075, 0.0, 0.0]
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "allocate_names",
    "cell_sample_weights",
    "size_buckets",
    "stratified_weights",
]


def size_buckets(float_cap: np.ndarray, buckets: int) -> np.ndarray:
    """Bucket 0 (largest) .. ``buckets - 1`` of each line, equal counts by cap.

    Examples
    --------
    >>> size_buckets(np.array([5.0, 1.0, 3.0, 2.0, 4.0, 6.0]), 3).tolist()
    [0, 2, 1, 2, 1, 0]
    """
    n = len(float_cap)
    order = np.argsort(-float_cap, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    out: np.ndarray = (rank * buckets // max(n, 1)).astype(np.int64)
    return out


def allocate_names(
    cell_weight: np.ndarray, cell_count: np.ndarray, names: int
) -> np.ndarray:
    """Lines held in each cell: one per cell first, then in proportion to weight.

    Parameters
    ----------
    cell_weight
        Index weight of each cell.
    cell_count
        Lines in each cell.
    names
        Lines to hold in all.

    Returns
    -------
    np.ndarray
        Lines per cell, each ``<= cell_count``, summing to ``min(names, total)``.

    Examples
    --------
    Three cells weighing 0.5, 0.3 and 0.2 with 10 lines each, 5 names: one each;
    the two left in proportion, 2 x (0.5, 0.3, 0.2) = (1.0, 0.6, 0.4), give one
    to the first cell; the last, 1 x (0.5, 0.3, 0.2), by the largest fractional
    part, to the first again:

    >>> allocate_names(np.array([0.5, 0.3, 0.2]), np.array([10, 10, 10]), 5).tolist()
    [3, 1, 1]
    """
    count = np.asarray(cell_count, dtype=np.int64)
    weight = np.asarray(cell_weight, dtype=float)
    total = int(min(names, int(count.sum())))
    alloc = np.zeros(len(count), dtype=np.int64)
    order = np.lexsort((np.arange(len(count)), -weight))  # largest weight first
    for c in order:
        if alloc.sum() >= total:
            break
        if count[c] > 0:
            alloc[c] = 1
    while alloc.sum() < total:
        left = total - int(alloc.sum())
        room = count - alloc
        share = np.where(room > 0, weight, 0.0)
        if share.sum() <= 0:
            share = (room > 0).astype(float)
        ideal = left * share / share.sum()
        extra = np.minimum(np.floor(ideal).astype(np.int64), room)
        if extra.sum() == 0:
            remainder = np.where(room > 0, ideal - np.floor(ideal), -1.0)
            extra[int(np.lexsort((np.arange(len(count)), -remainder))[0])] = 1
        alloc += extra
    return alloc


def cell_sample_weights(
    weights: np.ndarray,
    k: int,
    held: np.ndarray | None = None,
    keep_buffer: float = 0.0,
) -> np.ndarray:
    """``k`` lines of one cell carrying the cell's weight, pro rata.

    The largest ``k`` by weight; with ``held``, the held lines ranked within
    ``k x (1 + keep_buffer)`` first (largest first, ``k`` at most), then the
    largest others.
    """
    out = np.zeros(len(weights))
    if k <= 0 or len(weights) == 0:
        return out
    order = np.argsort(-weights, kind="stable")
    if held is not None and keep_buffer > 0:
        reach = math.ceil(k * (1.0 + keep_buffer))
        kept = [i for i in order[:reach] if held[i]][:k]
        others = [i for i in order if i not in set(kept)]
        top = np.array(kept + others[: k - len(kept)], dtype=np.int64)
    else:
        top = order[:k]
    chosen = weights[top].sum()
    if chosen > 0:
        out[top] = weights[top] * weights.sum() / chosen
    return out


def stratified_weights(
    weights: np.ndarray,
    sector: np.ndarray,
    float_cap: np.ndarray,
    names: int,
    *,
    size_buckets_count: int = 3,
    held: np.ndarray | None = None,
    keep_buffer: float = 0.0,
) -> np.ndarray:
    """Weights of the stratified sample of the index lines ``weights`` (sum 1).

    Parameters
    ----------
    weights
        Index weight of each line.
    sector
        Sector code of each line (integers).
    float_cap
        Float-adjusted cap of each line (for the size buckets).
    names
        Lines to hold.
    size_buckets_count
        Size buckets within the index (3: terciles).
    held, keep_buffer
        Lines the fund holds, and how far down its cell a held line keeps its
        place (see the module's docstring).

    Returns
    -------
    np.ndarray
        The sample's weight of each line (zero: not held); cell weights equal
        the index's.
    """
    bucket = size_buckets(float_cap, size_buckets_count)
    cell_key = sector.astype(np.int64) * size_buckets_count + bucket
    cells, cell = np.unique(cell_key, return_inverse=True)
    cell_weight = np.bincount(cell, weights=weights, minlength=len(cells))
    cell_count = np.bincount(cell, minlength=len(cells))
    alloc = allocate_names(cell_weight, cell_count, names)
    out = np.zeros(len(weights))
    for c in np.flatnonzero(alloc):
        rows = np.flatnonzero(cell == c)
        out[rows] = cell_sample_weights(
            weights[rows],
            int(alloc[c]),
            None if held is None else held[rows],
            keep_buffer,
        )
    total = out.sum()
    if total > 0:
        out /= total
    return out
