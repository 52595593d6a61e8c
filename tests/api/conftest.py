"""Fixtures of the API tests: one warmed service on the real data, its app and a
live server on 127.0.0.1 (for Schemathesis)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import schemathesis
from fastapi.testclient import TestClient

from r2k.api.app import create_app
from r2k.api.server import LocalServer
from r2k.api.service import Service

if TYPE_CHECKING:
    from collections.abc import Iterator

    from schemathesis.specs.openapi.schemas import OpenApiSchema

    from r2k.data.datadir import DataDir


@pytest.fixture(scope="session")
def service(data_dir: DataDir) -> Service:
    """The read-only service over the real data (computed lazily, then cached)."""
    return Service(data_dir)


@pytest.fixture(scope="session")
def client(service: Service) -> TestClient:
    return TestClient(create_app(service))


@pytest.fixture(scope="session")
def live(service: Service) -> Iterator[LocalServer]:
    with LocalServer(create_app(service)) as server:
        yield server


@pytest.fixture(scope="session")
def api_schema(live: LocalServer) -> OpenApiSchema:
    """The OpenAPI document as the live server publishes it."""
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json")
