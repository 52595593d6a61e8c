"""The state-changing endpoints with an API key: refused without it, done with it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from r2k.api.app import create_app
from r2k.api.service import Service

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir

KEY = "test-key-0123456789abcdef"


@pytest.fixture
def keyed(data_dir: DataDir, tmp_path: Path) -> TestClient:
    service = Service(data_dir, store=tmp_path / "r2k.duckdb", api_key=KEY)
    return TestClient(create_app(service))


def test_a_key_is_required(keyed: TestClient) -> None:
    body = {"index": "r2000", "start": "2026-06-01", "end": "2026-06-10"}
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}):
        r = keyed.post("/calculations", json=body, headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("ApiKey")
        assert r.headers["content-type"].startswith("application/problem+json")
    assert keyed.get("/health").json()["write_enabled"] is True


def test_bad_bodies_are_refused_after_the_key(keyed: TestClient) -> None:
    headers = {"X-API-Key": KEY}
    r = keyed.post(
        "/calculations",
        json={"index": "r2000", "start": "2026-06-10", "end": "2026-06-01"},
        headers=headers,
    )
    assert r.status_code == 422
    r = keyed.post("/calculations", json={"index": "ndx"}, headers=headers)
    assert r.status_code == 422
    r = keyed.post("/sessions", json={"session": "2026-06-11"}, headers=headers)
    assert r.status_code == 404  # nothing calculated yet


def test_calculate_then_run_a_session(keyed: TestClient) -> None:
    headers = {"X-API-Key": KEY}
    r = keyed.post(
        "/calculations",
        json={"index": "r2000", "start": "2026-06-01", "end": "2026-06-10"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["stored_as"] == "r2000-r2k"
    indexes = {i["id"]: i for i in keyed.get("/indexes").json()["items"]}
    assert indexes["r2000"]["source"].startswith("store r2k.duckdb")
    levels = keyed.get("/indexes/r2000/levels").json()
    assert levels["first_session"] == "2026-06-01"
    assert levels["last_session"] == "2026-06-10"
    r = keyed.post("/sessions", json={"session": "2026-06-11"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "calculated"
    after = keyed.get("/indexes/r2000/levels").json()
    assert after["last_session"] == "2026-06-11"
    cons = keyed.get("/indexes/r2000/constituents?session=2026-06-11").json()
    assert cons["total"] > 1_700
    again = keyed.post("/sessions", json={"session": "2026-06-11"}, headers=headers)
    assert again.json()["status"] == "already calculated, unchanged"
