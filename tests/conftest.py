"""Shared fixtures: the real data directory, read in place.

The real data live in ``../shared/data`` beside the checkout (override with the
``R2K_DATA`` environment variable). Tests that need them take the ``data_dir``
fixture, which skips only when that directory is absent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from r2k.data.datadir import ENV_VAR, DataDir
from r2k.data.sources.panel import read_market_panel

if TYPE_CHECKING:
    import polars as pl

SHARED_DATA = Path(__file__).parents[1].parent / "shared" / "data"


def _data_root() -> Path:
    chosen = os.environ.get(ENV_VAR, "").strip()
    return Path(chosen).expanduser() if chosen else SHARED_DATA


@pytest.fixture(scope="session")
def data_dir() -> DataDir:
    """The real data directory (skips the test if it is absent)."""
    root = _data_root()
    if not root.is_dir():
        pytest.skip(
            f"real data directory {root} is absent "
            f"(expected ../shared/data beside the checkout, or set {ENV_VAR})"
        )
    return DataDir.resolve(root)


@pytest.fixture(scope="session")
def market_panel(data_dir: DataDir) -> pl.DataFrame:
    """The real market panel as a MARKET frame (read once per test session)."""
    return read_market_panel(data_dir.market_panel)
