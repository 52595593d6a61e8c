"""The package's layers import one way only (docs/architecture.md).

Every ``import`` of an ``r2k`` module, including those inside functions and under
``TYPE_CHECKING``, must name a module of the same layer or of a lower one. The
package root (``r2k/__init__.py``) is the curated API and may re-export anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "r2k"

#: Lowest first. A module may import its own layer and the layers before it.
LAYERS: tuple[str, ...] = (
    "core",  # the root modules: _typing, errors, schemas, sessions, tickers, ...
    "methodology",
    "construction",
    "maintenance",
    "data",
    "synthetic",
    "analytics",
    "fidelity",
    "funds",
    "workflows",
    "reporting",
    "api",
    "cli",
)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in LAYERS:
        return parts[1]
    return "core"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "r2k":
                # ``from r2k import schemas``: the names are modules of the root.
                found += [(node.lineno, f"r2k.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return [(n, m) for n, m in found if m == "r2k" or m.startswith("r2k.")]


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


def test_every_package_is_a_known_layer() -> None:
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(LAYERS), packages - set(LAYERS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_run_downward(path: Path) -> None:
    own = LAYERS.index(_layer(_module_name(path)))
    upward = [
        f"line {line}: {module} ({_layer(module)})"
        for line, module in _imports(path)
        if LAYERS.index(_layer(module)) > own
    ]
    assert not upward, f"{path.relative_to(SRC)} imports a higher layer: {upward}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from r2k.cli.app import main\n")
    assert _imports(bad) == [(2, "r2k.cli.app")]
    assert LAYERS.index(_layer("r2k.cli.app")) > LAYERS.index("construction")
