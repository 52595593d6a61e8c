"""The rate view and the currency versions through the REST API: values equal the
workflows' (``r2k rates``, ``r2k analyze --currency``), errors are problem
details, bodies match their OpenAPI models."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from r2k.api import models
from r2k.workflows.currency import analyze_in_currency
from r2k.workflows.rates import rate_view

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from r2k.data.datadir import DataDir
    from r2k.workflows.rates import RateView

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def view(data_dir: DataDir) -> RateView:
    """The workflow's rate view of RUT (what ``r2k rates --json`` prints)."""
    return rate_view(data_dir, "RUT")


def _ok(client: TestClient, path: str) -> dict[str, Any]:
    r = client.get(path)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _problem(client: TestClient, path: str, status: int) -> dict[str, Any]:
    r = client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["detail"]
    return body


def test_rates_equal_the_workflow(client: TestClient, view: RateView) -> None:
    body = _ok(client, "/rates?index=RUT")
    models.RatesOut.model_validate(body)
    expected = view.to_dict()
    assert body["start"] == expected["start"]
    assert body["end"] == expected["end"]
    assert body["sensitivity"]["betas"] == expected["sensitivity"]["betas"]
    assert {(b["series"], b["factor"]) for b in body["sensitivity"]["betas"]} >= {
        ("index", "2y"),
        ("index", "10y"),
        ("relative", "2y"),
        ("relative", "10y"),
    }
    for beta in body["sensitivity"]["betas"]:
        assert beta["se"] > 0
        assert beta["se_hc1"] > 0
    for block in ("periods", "phases", "cycles"):
        assert body["policy"][block] == expected["policy"][block], block
    assert {p["phase"] for p in body["policy"]["phases"]} == {
        "hiking",
        "cutting",
        "holding",
    }
    assert body["events"] == expected["events"]
    for block in ("source", "band", "latest", "by_stance", "yearly", "counts"):
        assert body["rstar"][block] == expected["rstar"][block], block
    assert body["notes"] == expected["notes"]
    assert any("proxy is a proxy" in n for n in body["notes"])
    for source in body["sources"]:  # relative to the data directory, no server paths
        assert not source["path"].startswith(("/", ".."))


def test_rate_series_equal_the_workflow(client: TestClient, view: RateView) -> None:
    rolling = _ok(client, "/rates/rolling-betas?series=index&factor=10y")
    models.RollingBetasOut.model_validate(rolling)
    want = view.sensitivity.rolling.filter(
        (pl.col("series") == "index") & (pl.col("factor") == "10y")
    )
    assert len(rolling["items"]) == want.height > 0
    last = rolling["items"][-1]
    assert last["period_end"] == want.item(-1, "period_end").isoformat()
    assert last["beta"] == want.item(-1, "beta")

    policy = _ok(client, "/rates/policy")
    models.PolicyRateOut.model_validate(policy)
    assert len(policy["items"]) == view.policy.height
    assert policy["items"][-1]["rate"] == view.policy.item(-1, "rate")
    assert len(policy["periods"]) == view.periods.height

    stance = _ok(client, "/rates/stance")
    models.StanceOut.model_validate(stance)
    assert stance["items"][0]["date"] >= "2003-01-01"
    got = {r["date"]: r for r in stance["items"]}
    latest = view.latest()
    assert latest is not None
    row = got[latest["date"].isoformat()]
    assert row["stance"] == latest["stance"]
    assert math.isclose(
        row["stance"], row["real_policy_rate"] - row["rstar"], abs_tol=1e-12
    )

    csv = client.get("/rates/rolling-betas?factor=2y&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    frame = pl.read_csv(io.BytesIO(csv.content))
    assert frame.columns == ["period_end", "series", "factor", "beta", "se"]
    parquet = client.get("/rates/stance?format=parquet")
    assert pl.read_parquet(io.BytesIO(parquet.content)).height == view.stance.height


def test_currency_equals_the_workflow(client: TestClient, data_dir: DataDir) -> None:
    listed = _ok(client, "/currencies")
    models.CurrencyList.model_validate(listed)
    codes = [c["code"] for c in listed["items"]]
    assert {"EUR", "JPY", "GBP"} <= set(codes)
    quotes = {c["code"]: c["fx_quote"] for c in listed["items"]}
    assert quotes["EUR"] == "usd_per_target"
    assert quotes["JPY"] == "target_per_usd"

    for code in ("EUR", "JPY"):
        body = _ok(client, f"/indexes/RUT/currency/{code.lower()}")
        models.CurrencyOut.model_validate(body)
        want = analyze_in_currency(data_dir, "RUT", code).version
        expected = want.to_dict()
        for key in (
            "start",
            "end",
            "sessions",
            "fx_column",
            "fx_quote",
            "usd_return",
            "currency_return",
            "cross_term",
            "local_return",
            "local_volatility",
            "local_max_drawdown",
        ):
            assert body[key] == expected[key], (code, key)
        assert body["usd_start"] < body["start"]
        assert "window limited to the FX data" in body["window_note"]
        items = body["items"]
        assert len(items) == want.levels.height
        assert [r["local"] for r in items] == want.levels.get_column("local").to_list()
        end = items[-1]  # the cumulative split ends at the window's decomposition
        for key in ("usd_return", "currency_return", "cross_term", "local_return"):
            assert math.isclose(end[key], body[key], rel_tol=1e-12, abs_tol=1e-15)
        for r in items:
            parts = r["usd_return"] + r["currency_return"] + r["cross_term"]
            assert math.isclose(parts, r["local_return"], abs_tol=1e-14)
            assert math.isclose(r["local"] / items[0]["local"] - 1, r["local_return"])


def test_currency_csv_and_other_indexes(client: TestClient) -> None:
    r = client.get("/indexes/SPX/currency/GBP?format=csv")
    assert r.status_code == 200
    frame = pl.read_csv(io.BytesIO(r.content))
    assert frame.columns[:5] == [
        "session",
        "usd",
        "fx_target_per_usd",
        "fx_filled",
        "local",
    ]
    assert frame.height > 100


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/indexes/RUT/currency/XYZ", 404),  # not a column of the FX file
        ("/indexes/RUT/currency/DXY", 404),  # an index in the file, not a currency
        ("/indexes/RUT/currency/EURO", 422),
        ("/indexes/RUT/currency/E1R", 422),
        ("/indexes/NOPE/currency/EUR", 404),
        ("/rates?index=RUA", 422),
        ("/rates?frequency=hourly", 422),
        ("/rates?start=2020-01-01&end=2019-01-01", 422),
        ("/rates?start=2026-06-26&end=2026-06-26", 404),
        ("/rates/rolling-betas?factor=5y", 422),
    ],
)
def test_bad_inputs_are_problems(client: TestClient, path: str, status: int) -> None:
    body = _problem(client, path, status)
    if path.endswith("XYZ"):
        assert "EUR" in body["detail"]  # says which currencies have data


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    spec = _ok(client, "/openapi.json")
    for path in (
        "/rates",
        "/rates/rolling-betas",
        "/rates/policy",
        "/rates/stance",
        "/currencies",
        "/indexes/{index_id}/currency/{code}",
    ):
        assert path in spec["paths"], path
    assert "RatesOut" in spec["components"]["schemas"]
    assert "CurrencyOut" in spec["components"]["schemas"]
