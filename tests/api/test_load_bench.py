"""The load bench's client and report, on a few requests to the live server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.load_bench import Result, measure, report

if TYPE_CHECKING:
    from r2k.api.server import LocalServer


def test_measure_and_report(live: LocalServer) -> None:
    path = "/indexes/RUT/levels?start=2025-06-26&end=2026-06-26"
    result = measure(live.url, live.port, "levels", path, clients=4, total=40)
    assert result.requests == 40
    assert result.rows == 252
    assert 0 < result.p50_ms <= result.p99_ms
    text = report([result])
    assert "| levels | 252 | 4 | 40 |" in text
    slow = Result("x", 8, 10, 1.0, 60.0, 90.0, 1)
    assert report([slow]).endswith("NOT met")
