"""Everyday commands start fast: no pandas, calendar build or heavy stack on import.

Each check runs in a fresh interpreter (a subprocess), because this test session has
long imported everything; ``sys.modules`` there tells what the command pulled in.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

#: Never imported by ``import r2k.cli.app`` (and so by ``r2k --help``). pydantic:
#: Typer 0.29 builds a pydantic TypeAdapter for every parameter (about 0.1 s a
#: command), which is why the lock holds Typer below 0.29. numba: about 0.7 s
#: to import and load the compiled rolling-variance loop, which only a long
#: rolling variance loads.
HEAVY = (
    "pandas",
    "exchange_calendars",
    "matplotlib",
    "fastapi",
    "polars",
    "duckdb",
    "pydantic",
    "numba",
)


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"import sys\n{code}\n"
        f"print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    line = run.stdout.strip().splitlines()[-1]
    assert line.startswith("loaded:"), run.stdout
    return [m for m in line.removeprefix("loaded:").split(",") if m]


def test_importing_the_cli_imports_no_heavy_module() -> None:
    assert _loaded_after("import r2k.cli.app") == []


def test_analytics_load_numba_only_for_a_long_rolling_variance() -> None:
    setup = "import numpy as np, r2k.analytics as a\n"
    # Ten thousand sessions of a 252-session window: two passes, no Numba.
    short = (
        "a.rolling_volatility(np.full(10_000, 0.01), 252, periods_per_year=252, ddof=1)"
    )
    assert "numba" not in _loaded_after(setup + short)
    long = "a.rolling_standard_deviation(np.ones(1_000_000), 20, ddof=0)"
    assert "numba" in _loaded_after(setup + long)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["calendar", "2026"], ["calendar", "2026", "--json"]],
)
def test_everyday_commands_import_no_heavy_module(argv: list[str]) -> None:
    code = (
        "import contextlib, io\n"
        f"sys.argv = ['r2k', *{argv!r}]\n"
        "from r2k.cli.app import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
    )
    assert _loaded_after(code) == []


def test_a_calculation_loads_numba_only_for_long_blocks() -> None:
    # The nightly run's one-session block is walked by NumPy steps; a batch's
    # yearly blocks by the compiled loops (r2k.maintenance.book.COMPILED_SESSIONS).
    setup = (
        "from datetime import date\n"
        "from r2k.workflows.synthetic_run import run_synthetic\n"
        "def run(end):\n"
        "    run_synthetic(300, start=date(2024, 1, 2), end=end, index='r3000')\n"
    )
    assert "numba" not in _loaded_after(setup + "run(date(2024, 1, 19))")
    assert "numba" in _loaded_after(setup + "run(date(2024, 3, 29))")
