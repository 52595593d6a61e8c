"""The dashboard in a real headless Chromium: figures match the API, the constituents
table sorts and filters, charts answer the mouse, no console errors; a screenshot
of each page is written to out/screenshots/ (override with ``R2K_SCREENSHOTS``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import expect

from r2k.api.app import create_app
from r2k.api.server import LocalServer
from r2k.api.service import Service

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Page

    from r2k.data.datadir import DataDir

SHOTS = Path(
    os.environ.get("R2K_SCREENSHOTS", Path(__file__).parents[2] / "out" / "screenshots")
)


class Dashboard:
    """The live server, an HTTP client for the API, and where screenshots go."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)
        self.shots = SHOTS

    def api(self, path: str) -> dict[str, Any]:
        r = self.http.get(path)
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body

    def screenshot(self, page: Page, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="module")
def dashboard(data_dir: DataDir) -> Iterator[Dashboard]:
    """The dashboard on 127.0.0.1 over the real data."""
    service = Service(data_dir)
    service.constituents("r2000")  # the slow items, before any page is timed
    service.factsheet("RUT")
    with LocalServer(create_app(service)) as server:
        board = Dashboard(server.url)
        yield board
        board.http.close()


def _open(page: Page, dashboard: Dashboard, path: str) -> None:
    page.goto(dashboard.url + path)
    page.wait_for_selector("body[data-ready]")
    assert page.get_attribute("body", "data-ready") == "yes", page.inner_text("main")


def _value(page: Page, field: str) -> float | None:
    raw = page.get_attribute(f'[data-field="{field}"]', "data-value")
    assert raw is not None, field
    return float(raw) if raw else None


_COLUMNS = ("security_id", "name", "sector", "weight", "close")


def _column(page: Page, key: str) -> list[str]:
    """Every shown row's value of one column (text, or data-value if numeric)."""
    n = _COLUMNS.index(key) + 1
    cells = page.locator(f"#constituents tbody tr td:nth-child({n})")
    if key in ("weight", "close"):
        return [
            str(v)
            for v in cells.evaluate_all("cells => cells.map(c => c.dataset.value)")
        ]
    return cells.all_inner_texts()


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


@pytest.mark.parametrize("index", ["RUT", "r2000"])
def test_factsheet_figures_match_the_api(
    page: Page, dashboard: Dashboard, index: str
) -> None:
    _open(page, dashboard, f"/factsheet?index={index}")
    sheet: dict[str, Any] = dashboard.api(f"/indexes/{index}/factsheet")
    assert page.inner_text("#title") == sheet["name"]
    for row in sheet["performance"]:
        for what in ("cumulative", "annualized"):
            shown = _value(page, f"performance.{row['period']}.{what}")
            assert shown == row[what], (row["period"], what)
            if row[what] is not None:
                text = page.inner_text(
                    f'[data-field="performance.{row["period"]}.{what}"]'
                )
                assert text == _pct(row[what])
    for row in sheet["risk"]:
        for what in ("volatility", "sharpe", "sortino", "max_drawdown"):
            assert _value(page, f"risk.{row['period']}.{what}") == row[what]
    for year in sheet["calendar_years"][-10:]:
        assert _value(page, f"calendar.{year['year']}") == year["return"]
    traits = sheet["characteristics"]
    assert traits is not None
    assert _value(page, "characteristics.constituents") == traits["constituents"]
    assert _value(page, "characteristics.median_cap") == traits["median_cap"]
    assert page.locator("#top10 tbody tr").count() == 10
    assert page.locator("#sectors tbody tr").count() == len(traits["sectors"])
    for chart in ("level", "drawdown", "roc", "rallies", "ranges"):
        assert page.locator(f"#chart-{chart} svg path.line").count() >= 1, chart
    dashboard.screenshot(page, f"factsheet_{index}")


def test_a_published_index_without_constituents(
    page: Page, dashboard: Dashboard
) -> None:
    _open(page, dashboard, "/factsheet?index=SPX")
    assert "No constituent data" in page.inner_text("#characteristics")
    sheet: dict[str, Any] = dashboard.api("/indexes/SPX/factsheet")
    assert _value(page, "last_level") == sheet["last_level"]


def test_chart_hover_and_zoom(page: Page, dashboard: Dashboard) -> None:
    _open(page, dashboard, "/factsheet?index=RUT")
    chart = page.locator("#chart-level")
    chart.scroll_into_view_if_needed()
    box = page.locator("#chart-level svg").bounding_box()
    assert box is not None
    tip = page.locator("#chart-level .r2k-tooltip")
    assert tip.is_hidden()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    assert tip.is_visible()
    first = tip.get_attribute("data-session")
    assert first is not None
    assert first in tip.inner_text()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5)
    second = tip.get_attribute("data-session")
    assert second is not None
    assert second > first
    reset = page.locator("#chart-level .chart-reset")
    assert reset.is_disabled()
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.6, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=5)
    page.mouse.up()
    assert reset.is_enabled()
    labels = page.locator("#chart-level text.tick.x").all_inner_texts()
    dashboard.screenshot(page, "factsheet_RUT_zoomed")
    page.locator("#chart-level svg").dblclick()
    assert reset.is_disabled()
    assert page.locator("#chart-level text.tick.x").all_inner_texts() != labels
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.locator('button[data-span="1"]').click()
    assert page.locator("#chart-drawdown .chart-reset").is_enabled()


def test_constituents_sort_and_filter(page: Page, dashboard: Dashboard) -> None:
    start = time.perf_counter()
    _open(page, dashboard, "/constituents?index=r2000")
    loaded = time.perf_counter() - start
    api: dict[str, Any] = dashboard.api("/indexes/r2000/constituents")
    rows = page.locator("#constituents tbody tr")
    assert rows.count() == api["total"] > 1_700
    assert page.get_attribute("#count", "data-shown") == str(api["total"])
    assert loaded < 5.0
    # Default: largest weight first, as the API.
    ids = [i["security_id"] for i in api["items"]]
    assert _column(page, "security_id") == ids
    # Sort by name, then back the other way.
    header = page.locator('#constituents th[data-key="name"]')
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    names = [n for n in _column(page, "name") if n]
    assert names == sorted(names)
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    names = [n for n in _column(page, "name") if n]
    assert names == sorted(names, reverse=True)
    # Sort by close (numeric, largest first).
    page.locator('#constituents th[data-key="close"]').click()
    closes = [float(v) for v in _column(page, "close") if v]
    assert closes == sorted(closes, reverse=True)
    # Filter: the same lines as the API's search.
    found: dict[str, Any] = dashboard.api("/indexes/r2000/constituents?q=health")
    page.fill("#search", "health")
    expect(page.locator("#count")).to_have_attribute("data-shown", str(found["total"]))
    assert rows.count() == found["total"]
    dashboard.screenshot(page, "constituents_filtered")
    page.fill("#search", "")
    expect(page.locator("#count")).to_have_attribute("data-shown", str(api["total"]))
    # Re-sorting 2,000 rows is quick.
    took = page.evaluate(
        """() => { const t = performance.now();
        document.querySelector('#constituents th[data-key="weight"]').click();
        return performance.now() - t; }"""
    )
    assert took < 500
    dashboard.screenshot(page, "constituents")


def test_reconstitution_page(page: Page, dashboard: Dashboard) -> None:
    _open(page, dashboard, "/reconstitution?rank_day=2026-04-30")
    summary: dict[str, Any] = dashboard.api("/reconstitutions/2026-04-30")
    counts: dict[str, int] = summary["counts"]
    for name, n in counts.items():
        assert _value(page, f"counts.{name}") == n
    assert page.locator("#breakpoints tbody tr").count() >= 5
    adds: dict[str, Any] = dashboard.api(
        "/reconstitutions/2026-04-30/changes?change=add"
    )
    page.select_option("#change-filter", "add")
    assert page.get_attribute("#change-count", "data-shown") == str(adds["total"])
    dashboard.screenshot(page, "reconstitution")


def test_home_and_docs(page: Page, dashboard: Dashboard) -> None:
    _open(page, dashboard, "/")
    listed = page.locator("#indexes tbody tr").count()
    indexes: dict[str, Any] = dashboard.api("/indexes")
    assert listed == len(indexes["items"])
    dashboard.screenshot(page, "home")
    page.goto(dashboard.url + "/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "r2k" in page.inner_text(".swagger-ui .info .title")
    dashboard.screenshot(page, "api_docs")


def test_print_layout_hides_the_controls(page: Page, dashboard: Dashboard) -> None:
    _open(page, dashboard, "/factsheet?index=RUT")
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()
    assert page.locator("#performance").is_visible()
    page.emulate_media(media="screen")
