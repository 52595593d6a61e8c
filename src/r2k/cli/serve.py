"""``r2k serve``: the REST API and the web dashboard in one local process.

:func:`register` adds the command to a Typer app (``r2k.cli.app`` calls it)::

    r2k serve --data DIR [--store FILE] [--host 127.0.0.1] [--port 8000]

Read-only by default: the endpoints that change state (calculate an index, run a
session) answer 403 unless the server is started with an API key
(``$R2K_API_KEY`` or ``--api-key-file``), and then require it in ``X-API-Key``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path  # noqa: TC003 (Typer reads the annotations)
from typing import Annotated

import typer

from r2k.cli.options import DataOpt, JsonOpt, StoreOpt, err, out
from r2k.errors import R2KError

__all__ = ["API_KEY_ENV", "register"]

API_KEY_ENV = "R2K_API_KEY"


def _api_key(path: Path | None) -> str | None:
    if path is not None:
        try:
            key = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            msg = f"--api-key-file {path}: cannot be read ({exc.strerror})"
            raise R2KError(msg) from None
        if len(key) < 16:
            msg = f"--api-key-file {path}: the key must have at least 16 characters"
            raise R2KError(msg)
        return key
    key = os.environ.get(API_KEY_ENV, "").strip()
    if key and len(key) < 16:
        msg = f"${API_KEY_ENV} must have at least 16 characters"
        raise R2KError(msg)
    return key or None


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command()
    def serve(
        data: DataOpt = None,
        store: StoreOpt = None,
        host: Annotated[
            str,
            typer.Option(
                "--host",
                help="Address to bind (default 127.0.0.1: this machine only).",
            ),
        ] = "127.0.0.1",
        port: Annotated[
            int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
        ] = 8000,
        api_key_file: Annotated[
            Path | None,
            typer.Option(
                "--api-key-file",
                help=f"File holding the API key that enables the state-changing "
                f"endpoints (default: ${API_KEY_ENV}; none: read-only).",
            ),
        ] = None,
        warm: Annotated[
            bool,
            typer.Option(
                "--warm/--no-warm",
                help="Precompute the r2k calculation and analyses at start-up.",
            ),
        ] = True,
        as_json: JsonOpt = False,
    ) -> None:
        """Serve the REST API (/docs) and the dashboard (/) on one port."""
        import uvicorn

        from r2k.api.app import create_app
        from r2k.api.service import Service
        from r2k.data.datadir import DataDir
        from r2k.data.store import resolve_store_path

        source = DataDir.resolve(data)
        store_path = resolve_store_path(store) if store is not None else None
        if store_path is None and resolve_store_path(None).is_file():
            store_path = resolve_store_path(None)
        key = _api_key(api_key_file)
        service = Service(source, store=store_path, api_key=key)
        application = create_app(service, warm=warm)
        if host not in ("127.0.0.1", "localhost", "::1"):
            err.print(
                f"[yellow]r2k: warning:[/yellow] binding {host}: the server is "
                "reachable from other machines"
            )
        mode = "read-write (API key required)" if key else "read-only"
        if as_json:
            payload = {
                "url": f"http://{host}:{port}/",
                "docs": f"http://{host}:{port}/docs",
                "mode": "read-write" if key else "read-only",
                "data": str(source.root),
                "store": None if store_path is None else str(store_path),
            }
            out.print_json(json.dumps(payload))
        else:
            out.print(
                f"r2k API and dashboard on http://{host}:{port}/ ({mode}); "
                f"docs at /docs; data {source.root}"
                + (f"; store {store_path}" if store_path else "")
            )
        uvicorn.run(application, host=host, port=port, log_level="warning")
