"""The "Rates & currencies" dashboard page in a real headless Chromium: the figures
match the API, the charts answer the mouse, the currency selector redraws, no
console errors (the ``page`` fixture); a screenshot goes to out/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from r2k.api.app import create_app
from r2k.api.server import LocalServer
from r2k.api.service import Service

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Page

    from r2k.data.datadir import DataDir

SHOTS = Path(  # the artefact directory of tests/browser/test_dashboard.py
    os.environ.get("R2K_SCREENSHOTS", Path(__file__).parents[2] / "out" / "screenshots")
)


@pytest.fixture(scope="module")
def server(data_dir: DataDir) -> Iterator[str]:
    """The dashboard on 127.0.0.1 over the real data, rate view computed."""
    service = Service(data_dir)
    service.rate_view("RUT")
    with LocalServer(create_app(service)) as live:
        yield live.url


def _api(url: str, path: str) -> dict[str, Any]:
    r = httpx.get(url + path, timeout=30)
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    return body


def _value(page: Page, field: str) -> float | None:
    raw = page.get_attribute(f'[data-field="{field}"]', "data-value")
    assert raw is not None, field
    return float(raw) if raw else None


def test_rates_page(page: Page, server: str) -> None:
    page.goto(server + "/rates-and-currencies")
    page.wait_for_selector("body[data-ready]")
    assert page.get_attribute("body", "data-ready") == "yes", page.inner_text("main")
    assert page.locator('nav a[href="/rates-and-currencies"]').count() == 1

    view = _api(server, "/rates?index=RUT")
    for b in view["sensitivity"]["betas"]:
        key = f"{b['series']}.{b['factor']}"
        assert _value(page, f"beta.{key}") == b["beta"], key
        assert _value(page, f"se_hc1.{key}") == b["se_hc1"], key
    for r in view["policy"]["phases"]:
        assert (
            _value(page, f"phase.{r['phase']}.small_minus_large")
            == (r["small_minus_large"])
        )
    for chart in ("betas", "policy", "stance", "currency", "decomposition"):
        assert page.locator(f"#chart-{chart} svg path.line").count() >= 1, chart
    assert page.locator("#chart-policy svg rect.band.hiking").count() >= 1

    eur = _api(server, "/indexes/RUT/currency/EUR")
    assert page.get_attribute("#currency-window", "data-currency") == "EUR"
    for key in ("usd_return", "currency_return", "cross_term", "local_return"):
        assert _value(page, f"currency.{key}") == eur[key], key
    assert "window limited to the FX data" in page.inner_text("#currency-window")

    svg = page.locator("#chart-betas svg")
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    assert box is not None
    tip = page.locator("#chart-betas .r2k-tooltip")
    assert tip.is_hidden()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    assert tip.is_visible()
    day = tip.get_attribute("data-session")
    assert day is not None
    assert day in tip.inner_text()
    assert "beta to the 2y yield" in tip.inner_text()

    page.select_option("#currency-select", "JPY")
    page.wait_for_selector('#currency-window[data-currency="JPY"]')
    page.wait_for_selector('body[data-ready="yes"]')
    jpy = _api(server, "/indexes/RUT/currency/JPY")
    assert _value(page, "currency.local_return") == jpy["local_return"]

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "rates_RUT.png"), full_page=True)
