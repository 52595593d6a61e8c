"""Run the application in a background thread on this machine (tests, benchmarks).

:class:`LocalServer` starts uvicorn on ``127.0.0.1`` and a free port, waits until
it accepts requests, and stops it on exit::

    with LocalServer(create_app(service)) as server:
        httpx.get(server.url + "/health")

It binds the loopback address only; there is no way to bind anything else.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Self

import uvicorn

from r2k.errors import R2KError

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["LocalServer"]

_HOST = "127.0.0.1"


class LocalServer:
    """uvicorn serving ``app`` on ``127.0.0.1`` in a daemon thread.

    Parameters
    ----------
    app : FastAPI
        The application.
    port : int, default 0
        0: a free port chosen by the system.
    start_timeout : float, default 20
        Seconds to wait for the server to accept requests.
    """

    def __init__(self, app: FastAPI, *, port: int = 0, start_timeout: float = 20.0):
        config = uvicorn.Config(
            app, host=_HOST, port=port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name="r2k-server", daemon=True
        )
        self._timeout = start_timeout
        self.port = port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{_HOST}:{self.port}"

    def start(self) -> Self:
        """Start and wait until the server listens."""
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                msg = f"the local server did not start within {self._timeout} s"
                raise R2KError(msg)
            time.sleep(0.02)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        """Ask the server to stop and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
