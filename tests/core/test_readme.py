"""The README's Python snippets run as written, in order, from the repository root.

They load their own inputs from ``../shared/data``; the figures their comments quote
are checked here too, so the README cannot drift from the code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
SNIPPET = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _snippets() -> list[str]:
    return SNIPPET.findall((ROOT / "README.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def namespace(data_dir: object) -> dict[str, Any]:
    """Every snippet run in one namespace (later ones use earlier results)."""
    del data_dir  # skips when the shared data is absent
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        ns: dict[str, Any] = {}
        for code in _snippets():
            exec(compile(code, "README.md", "exec"), ns)
        return ns
    finally:
        os.chdir(here)


def test_readme_has_snippets() -> None:
    assert len(_snippets()) >= 3


def test_reconstitution_snippet(namespace: dict[str, Any]) -> None:
    counts = namespace["run"].result.counts()
    assert counts["r2000"] > 1900


def test_calculation_snippet(namespace: dict[str, Any]) -> None:
    levels = namespace["calc"].levels
    assert levels.height > 10
    assert levels["price_return"][0] == 100.0


def test_analytics_snippet(namespace: dict[str, Any]) -> None:
    assert float(namespace["roc"][-1]) == pytest.approx(40.91, abs=0.01)
    assert namespace["vol"] == pytest.approx(0.2153, abs=5e-5)
    assert namespace["mdd"] == pytest.approx(-0.5989, abs=5e-5)
