"""Fixtures of the browser tests: the dashboard served on 127.0.0.1 and a real
headless Chromium (Debian's ``chromium`` package) driven by Playwright.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``
(override with ``R2K_CHROMIUM``). ``make browser`` installs it when missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import sync_playwright

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page, Route


CHROMIUM = Path(os.environ.get("R2K_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `make browser` (as root it runs "
            "`apt-get install -y chromium`), or set R2K_CHROMIUM to a Chromium binary"
        )
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; the test fails on a console error, a page exception, or a
    request leaving this machine (the dashboard works offline)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []

    def outside(route: Route) -> None:
        errors.append(f"request outside 127.0.0.1: {route.request.url}")
        route.abort()

    context.route(lambda url: not url.startswith("http://127.0.0.1:"), outside)
    opened = context.new_page()
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.set_default_timeout(20_000)
    yield opened
    context.close()
    assert not errors, f"console errors: {errors}"
