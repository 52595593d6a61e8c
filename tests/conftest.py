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
    from collections.abc import Iterator

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


@pytest.fixture(autouse=True, scope="session")
def _cache_in_a_temporary_home(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """The reconstitution cache of the command line lives in this session's tmp.

    The tests never write to the user's ``~/.cache`` (``XDG_CACHE_HOME``, read by
    :mod:`r2k.workflows.recon_cache` at each call); tests of the cache set their own.
    """
    home = tmp_path_factory.mktemp("xdg-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(home)
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before
