"""Every docstring example in the package runs, module by module."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import r2k


def _modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(r2k.__path__, prefix="r2k.")]
    return sorted(n for n in names if not n.endswith("__main__"))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples fail"
