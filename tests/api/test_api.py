"""The REST API on the real data, through FastAPI's test client."""

from __future__ import annotations

import io
import math
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from r2k.analytics.factsheet import factsheet
from r2k.api import models
from r2k.workflows.explain import analyze_index, load_index_levels

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from r2k.api.service import Service
    from r2k.data.datadir import DataDir

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"]
    assert body["detail"]
    assert body["instance"].startswith("/")
    return body


def test_health(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = models.HealthOut.model_validate(r.json())
    assert body.status == "ok"
    assert body.write_enabled is False
    assert r.headers["x-content-type-options"] == "nosniff"


def test_indexes_list_published_and_calculated(client: TestClient) -> None:
    body = models.IndexList.model_validate(client.get("/indexes").json())
    ids = {i.id: i for i in body.items}
    assert {"RUT", "RUA", "SPX", "r2000"} <= set(ids)
    assert ids["RUT"].returns == ["price"]
    assert ids["r2000"].constituents is True
    assert ids["r2000"].returns == ["price", "total", "net"]


def test_levels_of_a_year_match_the_file(client: TestClient, data_dir: DataDir) -> None:
    r = client.get("/indexes/RUT/levels?start=2025-06-27&end=2026-06-26")
    assert r.status_code == 200
    page = models.LevelsPage.model_validate(r.json())
    expected = load_index_levels(data_dir, "RUT").filter(
        pl.col("session").is_between(date(2025, 6, 27), date(2026, 6, 26))
    )
    assert page.total == expected.height == len(page.items)
    assert [p.level for p in page.items] == expected["level"].to_list()
    assert page.first_session == date(2025, 6, 27)
    assert page.last_session == date(2026, 6, 26)
    assert page.items[-1].level == pytest.approx(3010.08)


def test_levels_are_paged(client: TestClient) -> None:
    whole = client.get("/indexes/RUT/levels?start=2026-01-01").json()
    r = client.get("/indexes/RUT/levels?start=2026-01-01&page=2&page_size=10")
    body = r.json()
    assert r.headers["x-total-count"] == str(whole["total"])
    assert body["pages"] == math.ceil(whole["total"] / 10)
    assert body["items"] == whole["items"][10:20]
    beyond = client.get("/indexes/RUT/levels?start=2026-01-01&page=999").json()
    assert beyond["items"] == []


def test_levels_as_csv_and_parquet(client: TestClient) -> None:
    url = "/indexes/SPX/levels?start=2026-06-01&end=2026-06-30"
    items = client.get(url).json()["items"]
    csv = client.get(url + "&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    frame = pl.read_csv(io.BytesIO(csv.content), try_parse_dates=True)
    assert frame["level"].to_list() == [p["level"] for p in items]
    parquet = client.get(url, headers={"Accept": "application/vnd.apache.parquet"})
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    frame = pl.read_parquet(io.BytesIO(parquet.content))
    assert frame["session"].to_list()[0] == date.fromisoformat(items[0]["session"])


def test_calculated_levels_have_three_kinds(client: TestClient) -> None:
    price = client.get("/indexes/r2000/levels").json()
    net = client.get("/indexes/r2000/levels?return=net").json()
    assert price["items"][0]["level"] == 100.0
    assert price["total"] == net["total"] > 100
    # The panel has no dividends: net total return equals price return.
    assert net["items"][-1]["level"] == pytest.approx(price["items"][-1]["level"])


def test_a_published_index_has_no_total_return(client: TestClient) -> None:
    body = _problem(client.get("/indexes/RUT/levels?return=total"), 404)
    assert "price index only" in body["detail"]


def test_unknown_index_lists_the_known_ones(client: TestClient) -> None:
    body = _problem(client.get("/indexes/NDX/levels"), 404)
    assert "RUT" in body["detail"]
    assert "r2000" in body["detail"]


def test_constituents_one_page_of_two_thousand(client: TestClient) -> None:
    r = client.get("/indexes/r2000/constituents")
    assert r.status_code == 200
    page = models.ConstituentsPage.model_validate(r.json())
    assert 1_700 <= page.total == len(page.items) <= 2_100
    weights = [c.weight or 0.0 for c in page.items]
    assert sum(weights) == pytest.approx(1.0, abs=1e-9)
    assert weights == sorted(weights, reverse=True)
    assert page.session == date(2026, 7, 22)
    assert all("Common Stock" not in (c.name or "") for c in page.items)


def test_constituents_sort_search_and_session(client: TestClient) -> None:
    by_name = client.get("/indexes/r2000/constituents?sort=name&order=asc").json()
    names = [i["name"] for i in by_name["items"] if i["name"] is not None]
    assert names == sorted(names)
    found = client.get("/indexes/r2000/constituents?q=health").json()
    assert 0 < found["total"] < by_name["total"]
    assert all(
        "health" in f"{i['security_id']} {i['name']} {i['sector']}".lower()
        for i in found["items"]
    )
    sessions = client.get("/indexes/r2000/sessions").json()["sessions"]
    earlier = client.get(f"/indexes/r2000/constituents?session={sessions[0]}").json()
    assert earlier["session"] == sessions[0]


def test_constituents_errors(client: TestClient) -> None:
    _problem(client.get("/indexes/r2000/constituents?session=2026-07-04"), 404)
    _problem(client.get("/indexes/RUT/constituents"), 404)
    body = _problem(client.get("/indexes/r2000/constituents?sort=secret"), 422)
    assert body["errors"][0]["loc"] == ["query", "sort"]


def test_factsheet_matches_the_pure_module(
    client: TestClient, data_dir: DataDir
) -> None:
    body = client.get("/indexes/RUT/factsheet").json()
    sheet = models.FactsheetOut.model_validate(body)
    expected = factsheet(load_index_levels(data_dir, "RUT"), name="x").to_dict()
    assert body["performance"] == expected["performance"]
    assert body["risk"] == expected["risk"]
    assert body["calendar_years"] == expected["calendar_years"]
    assert [p.period for p in sheet.performance] == [
        "1M",
        "3M",
        "YTD",
        "1Y",
        "3Y",
        "5Y",
        "10Y",
        "Since start",
    ]
    traits = sheet.characteristics
    assert traits is not None
    assert traits.constituents > 1_800
    assert len(traits.top10) == 10
    assert sum(s.weight for s in traits.sectors) == pytest.approx(1.0)
    assert client.get("/indexes/SPX/factsheet").json()["characteristics"] is None


def test_analytics_summary_matches_analyze(
    client: TestClient, data_dir: DataDir
) -> None:
    body = client.get("/indexes/RUT/analytics/summary?start=2000-01-03").json()
    models.AnalyticsSummary.model_validate(body)
    a = analyze_index(data_dir, "RUT", start=date(2000, 1, 3))
    assert body["annualized_return"] == a.annualized_return
    assert body["max_drawdown"] == a.max_drawdown
    assert [b["code"] for b in body["benchmarks"]] == ["SPX", "RUA"]


def test_analytics_series(client: TestClient) -> None:
    roc = client.get("/indexes/RUT/analytics/rate-of-change?period=5&start=2026-06-01")
    items = roc.json()["items"]
    assert items[0]["value"] is None  # warm-up inside the window
    assert items[5]["value"] == pytest.approx(
        (items[5]["level"] / items[0]["level"] - 1) * 100
    )
    dd = client.get("/indexes/RUT/analytics/drawdown").json()
    assert min(i["value"] for i in dd["items"]) == pytest.approx(
        min(e["depth"] for e in dd["episodes"])
    )
    rallies = client.get("/indexes/RUT/analytics/rallies").json()
    assert rallies["items"]
    assert all(r["gain"] >= rallies["rally_threshold"] for r in rallies["items"][:-1])
    ranges = client.get("/indexes/RUT/analytics/ranges?format=csv")
    assert ranges.text.startswith("start_session,end_session")


def test_reconstitution_endpoints(client: TestClient) -> None:
    days = [r["rank_day"] for r in client.get("/reconstitutions").json()["items"]]
    assert "2026-04-30" in days
    summary = models.ReconSummary.model_validate(
        client.get("/reconstitutions/2026-04-30").json()
    )
    assert summary.effective_date == date(2026, 6, 26)
    # 3,000 less the 16 companies estimated unseen (docs/methodology.md)
    assert summary.counts["r3000"] == 2_982  # 3,000 less 18 unseen companies
    adds = client.get("/reconstitutions/2026-04-30/changes?change=add").json()
    assert adds["total"] == sum(
        n for k, n in summary.changes.items() if k.startswith("add")
    )
    assert {i["change"] for i in adds["items"]} == {"add"}
    bp = client.get("/reconstitutions/2026-04-30/breakpoints").json()["items"]
    assert [b["rank"] for b in bp][:3] == [200, 500, 1_000]
    members = client.get("/reconstitutions/2026-04-30/membership?page_size=50").json()
    assert members["total"] == summary.line_counts["r2000"]
    assert len(members["items"]) == 50


def test_reconstitution_errors(client: TestClient) -> None:
    body = _problem(client.get("/reconstitutions/2026-05-01"), 404)
    assert "2026-04-30" in body["detail"]
    _problem(client.get("/reconstitutions/2026-13-40"), 422)


def test_calendar(client: TestClient) -> None:
    body = models.CalendarOut.model_validate(client.get("/calendars/2026").json())
    assert [r["effective_date"] for r in body.reconstitutions] == [
        "2026-06-26",
        "2026-12-11",
    ]
    _problem(client.get("/calendars/1900"), 422)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/indexes/..%2F..%2Fetc%2Fpasswd/levels", 404),
        ("/indexes/%2e%2e/levels", 422),
        ("/static/..%2F..%2Fpyproject.toml", 404),
        ("/static/../app.py", 404),
        ("/static/index.html", 404),
        ("/indexes/RUT%27%20OR%201%3D1--/levels", 422),
        ("/indexes/" + "A" * 500 + "/levels", 422),
        ("/indexes/RUT/levels?start=0001-01-01", 422),
        ("/indexes/RUT/levels?start=2026-01-01&end=2025-01-01", 422),
        ("/indexes/RUT/levels?page_size=1000000000", 422),
        ("/indexes/RUT/levels?page=-1", 422),
        ("/indexes/RUT/levels?start=yesterday", 422),
        ("/indexes/RUT/analytics/rate-of-change?period=99999999", 422),
        ("/indexes/r2000/constituents?q=" + "x" * 65, 422),
        ("/indexes/r2000/constituents?sort=weight;DROP%20TABLE%20levels", 422),
        ("/calendars/99999999999999999999", 422),
    ],
)
def test_hostile_inputs_are_problems(client: TestClient, url: str, status: int) -> None:
    _problem(client.get(url), status)


def test_sql_looking_search_is_literal_text(client: TestClient) -> None:
    r = client.get(
        "/indexes/r2000/constituents",
        params={"q": "'; DROP TABLE constituents; --"},
    )
    assert r.status_code == 200
    assert r.json()["total"] == 0
    again = client.get("/indexes/r2000/constituents?page_size=1")
    assert again.json()["total"] > 1_000


def test_a_large_body_is_refused(client: TestClient) -> None:
    r = client.post(
        "/calculations",
        content=b"{" + b" " * 100_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    _problem(r, 413)


def test_writes_are_off_without_a_key(client: TestClient) -> None:
    body = {"index": "r2000", "start": "2026-06-01", "end": "2026-06-10"}
    _problem(client.post("/calculations", json=body), 403)
    _problem(client.post("/calculations", json=body, headers={"X-API-Key": "x"}), 403)
    _problem(client.post("/sessions", json={"session": "2026-06-11"}), 403)


def test_openapi_and_offline_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "r2k"
    paths = set(spec["paths"])
    assert {
        "/health",
        "/indexes/{index_id}/levels",
        "/indexes/{index_id}/constituents",
        "/reconstitutions/{rank_day}/changes",
        "/calendars/{year}",
        "/calculations",
    } <= paths
    assert "/" not in paths
    docs = client.get("/docs").text
    assert "/static/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    bundle = client.get("/static/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000


@pytest.mark.parametrize(
    "path", ["/", "/factsheet", "/constituents", "/reconstitution"]
)
def test_dashboard_pages_are_offline(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe" not in csp  # no inline script or style on the dashboard
    for asset in ("dashboard.js", "chart.js", "dashboard.css"):
        text = client.get(f"/static/{asset}").text
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text


def test_service_caches_failures(service: Service) -> None:
    from r2k.errors import MissingDataError

    for _ in range(2):
        with pytest.raises(MissingDataError):
            service.reconstitution(date(2024, 4, 30))
