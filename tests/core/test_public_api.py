"""The curated API of ``import r2k``: every exported name resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import r2k


@pytest.mark.parametrize("name", [n for n in r2k.__all__ if n != "__version__"])
def test_every_exported_name_resolves(name: str) -> None:
    value = getattr(r2k, name)
    assert value is not None
    assert name in dir(r2k)


def test_all_lists_every_export() -> None:
    assert sorted(r2k.__all__) == sorted(["__version__", *r2k._EXPORTS])


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = r2k.nope


def test_import_is_lazy() -> None:
    """``import r2k`` loads none of the engines (the command line starts fast)."""
    code = (
        "import sys, r2k; print(sorted(m for m in sys.modules if m.startswith('r2k.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
