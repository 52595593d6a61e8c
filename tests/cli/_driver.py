"""Drive the ``r2k`` command line in process, the one way every CLI test does.

:func:`run_cli` sets ``sys.argv``, calls :func:`r2k.cli.app.main` (optionally on a
small app holding only the commands a test registers), turns ``SystemExit`` into
the exit code and checks that no traceback was printed.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

import r2k.cli.app

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest


def run_cli(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    register: Callable[[typer.Typer], object] | None = None,
) -> tuple[int, str, str]:
    """``r2k ARGS`` in process: the exit code, stdout and stderr.

    ``register`` builds a small app in place of the full one (a test of one group
    of commands). A printed traceback fails the calling test.
    """
    if register is not None:
        app = typer.Typer(
            name="r2k", no_args_is_help=True, pretty_exceptions_enable=False
        )
        register(app)
        monkeypatch.setattr(r2k.cli.app, "app", app)
    monkeypatch.setattr(sys, "argv", ["r2k", *args])
    code = 0
    try:
        r2k.cli.app.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err
