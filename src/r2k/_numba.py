"""How r2k's compiled loops are declared (Numba), in one place.

Every loop is compiled for explicit signatures with ``nogil`` (it runs beside
the Python work of another thread) and cached on disk beside its module when the
folder allows (``make install`` imports the loop modules once to fill the
cache), in memory otherwise. The modules that hold loops
(:mod:`r2k.maintenance._kernels`, :mod:`r2k.construction._stats_kernel`) are
imported only when a long calculation runs, so no everyday command loads Numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numba
from numba import types

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["array_type", "compile_loop"]


def array_type(dtype: str, ndim: int = 1, *, writes: bool = False) -> types.Array:
    """A C-contiguous array type; one the loop only reads accepts read-only arrays.

    (Polars hands out its buffers read-only; a writable array converts to the
    read-only type, not the other way round.)
    """
    return types.Array(getattr(types, dtype), ndim, "C", readonly=not writes)


def compile_loop(signatures: list[Any]) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit`` for ``signatures``, cached on disk when the folder allows."""

    def compile_(function: Callable[..., Any]) -> Any:
        try:
            return numba.njit(signatures, cache=True, nogil=True)(function)
        except RuntimeError:  # no cache folder can be written
            return numba.njit(signatures, nogil=True)(function)

    return compile_
