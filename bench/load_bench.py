"""Load test of ``r2k serve`` on 127.0.0.1: throughput and p50/p99 latency.

Starts the server in a child process (``r2k serve`` on a free loopback port),
waits until it answers, then for each case sends a fixed number of requests with
1, 8 and 32 concurrent clients (asyncio + httpx) and stops by itself. Only the
loopback address is ever contacted.

Cases: a one-year level series (``/indexes/RUT/levels``, 252 rows) and a
2,000-row constituent page (``/indexes/r2000/constituents``). Target: p99 under
50 ms for both at 8 clients on a 2-core machine.

    python -m bench.load_bench --data ../shared/data [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np

HOST = "127.0.0.1"
CLIENTS = (1, 8, 32)
TARGET_P99_MS = 50.0
TARGET_CLIENTS = 8


@dataclass(frozen=True, slots=True)
class Result:
    case: str
    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    rows: int

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    """``r2k serve`` in a child process (read-only, warmed at start-up)."""
    env = {k: v for k, v in os.environ.items() if k != "R2K_API_KEY"}
    code = "import sys; from r2k.cli.app import main; sys.exit(main())"
    args = ["serve", "--data", str(data), "--host", HOST, "--port", str(port)]
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_ready(url: str, paths: list[str], timeout: float = 120.0) -> None:
    """Wait until every path answers 200 (the first calls compute the caches)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=timeout) as client:
        for path in paths:
            while True:
                try:
                    if client.get(path).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    msg = f"the server at {url} did not answer {path} in {timeout} s"
                    raise RuntimeError(msg)
                time.sleep(0.2)


class _Connection:
    """One keep-alive HTTP/1.1 connection to the loopback server.

    A minimal client (GET, Content-Length bodies) so the load generator spends
    little of the machine's two cores on itself.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def get(self, path: str) -> int:
        """Send a GET, read the whole response; return the status."""
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: application/json"
            "\r\n\r\n".encode()
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def _run(
    port: int, path: str, clients: int, total: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    issued = 0
    connections = [await _Connection.open(port) for _ in range(clients)]

    async def worker(connection: _Connection) -> None:
        nonlocal issued
        while issued < total:
            issued += 1
            start = time.perf_counter()
            status = await connection.get(path)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                msg = f"GET {path}: HTTP {status}"
                raise RuntimeError(msg)

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    seconds = time.perf_counter() - start
    for c in connections:
        await c.close()
    return seconds, latencies


def measure(
    url: str, port: int, case: str, path: str, clients: int, total: int
) -> Result:
    """Send ``total`` requests to ``path`` with ``clients`` concurrent clients."""
    with httpx.Client(base_url=url, timeout=30) as client:
        first = client.get(path)
        first.raise_for_status()
        rows = len(first.json().get("items", []))
        for _ in range(min(20, total)):  # warm the connection and the caches
            client.get(path)
    seconds, latencies = asyncio.run(_run(port, path, clients, total))
    ms = np.array(latencies) * 1000.0
    return Result(
        case=case,
        clients=clients,
        requests=len(latencies),
        seconds=seconds,
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        rows=rows,
    )


def _wait_warm(url: str, timeout: float = 180.0) -> None:
    """Wait until the server's start-up precomputation is done."""
    deadline = time.monotonic() + timeout
    while not httpx.get(f"{url}/health").json().get("ready"):
        if time.monotonic() > deadline:
            msg = f"the server at {url} did not finish warming in {timeout} s"
            raise RuntimeError(msg)
        time.sleep(0.25)


def cases(last_rut: date) -> dict[str, str]:
    """The two cases: a one-year level series and a 2,000-row constituent page."""
    start = last_rut - timedelta(days=365)
    return {
        "levels, 1 year (RUT)": f"/indexes/RUT/levels?start={start}&end={last_rut}",
        "constituents, one page (r2000)": "/indexes/r2000/constituents?page_size=2500",
    }


def report(results: list[Result]) -> str:
    """A Markdown table and the verdict on the target."""
    lines = [
        "| case | rows | clients | requests | throughput | p50 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.case} | {r.rows:,} | {r.clients} | {r.requests:,} | "
            f"{r.throughput:,.0f} req/s | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms |"
        )
    at_target = [r for r in results if r.clients == TARGET_CLIENTS]
    ok = all(r.p99_ms < TARGET_P99_MS for r in at_target)
    lines.append(
        f"\ntarget p99 < {TARGET_P99_MS:.0f} ms at {TARGET_CLIENTS} clients: "
        + ("met" if ok else "NOT met")
    )
    return "\n".join(lines)


def run(data: Path, requests: int = 2000) -> list[Result]:
    """Start the server, measure every case at 1, 8 and 32 clients, stop it."""
    port = _free_port()
    url = f"http://{HOST}:{port}"
    server = start_server(data, port)
    try:
        wait_ready(url, ["/health"])
        _wait_warm(url)
        rut = httpx.get(f"{url}/indexes/RUT/levels?page=1&page_size=1").json()
        last = date.fromisoformat(
            httpx.get(
                f"{url}/indexes/RUT/levels?page={rut['total']}&page_size=1"
            ).json()["items"][0]["session"]
        )
        paths = cases(last)
        wait_ready(url, list(paths.values()))
        return [
            measure(url, port, case, path, clients, requests)
            for case, path in paths.items()
            for clients in CLIENTS
        ]
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    print(f"r2k serve on {HOST}, {args.requests} requests per row:\n")
    print(report(run(args.data, args.requests)))


if __name__ == "__main__":
    main()
