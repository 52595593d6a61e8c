"""r2k: an open implementation of the Russell 2000 small-cap index system."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
