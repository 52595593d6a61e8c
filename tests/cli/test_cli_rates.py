"""``r2k rates``, ``r2k analyze --currency`` and the rate charts of ``r2k plot``.

The commands run through ``r2k.cli.app.main`` on a fresh Typer app (errors are
one line on stderr, exit code 2; never a traceback), as in test_cli_analytics.py.
r2k's own index is replaced by a small stand-in (its calculation is tested
elsewhere; here the wiring is under test).
"""

from __future__ import annotations

import functools
import json
from datetime import date, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import numpy as np
import polars as pl
import pytest

import r2k.cli.app
import r2k.workflows.explain
from r2k.cli.analytics import register as register_analytics
from r2k.cli.rates import PLOT_CHARTS, beta_effect
from r2k.cli.rates import register as register_rates
from r2k.reporting import rate_charts
from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    import typer

    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _register(app: typer.Typer) -> None:
    register_analytics(app)
    register_rates(app)


_run = functools.partial(run_cli, register=_register)


@pytest.fixture
def small_r2k(monkeypatch: pytest.MonkeyPatch) -> None:
    """r2k's index replaced by 140 sessions of a random walk from 2025-12-26."""
    rng = np.random.default_rng(2)
    every = [date(2025, 12, 26) + timedelta(k) for k in range(200)]
    days = [d for d in every if d.weekday() < 5][:140]
    level = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
    calc = SimpleNamespace(
        levels=pl.DataFrame({"session": days, "price_return": level})
    )

    def cached(data: DataDir, *, constituents: bool = False) -> Calculation:
        return cast("Calculation", calc)

    monkeypatch.setattr(r2k.workflows.explain, "calculate_r2k", cached)


def test_plot_chart_names_match_the_library() -> None:
    assert PLOT_CHARTS == rate_charts.RATE_CHARTS | rate_charts.CURRENCY_CHARTS


def test_beta_effect() -> None:
    assert beta_effect(-0.0488, "difference") == "-4.88%"  # per +100 bp
    assert beta_effect(-2.098, "return") == "-2.10%"  # per +1% in the dollar
    assert beta_effect(None, "return") == "n/a"


def test_rates_json(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = _run(
        ["rates", "--data", str(data_dir.root), "--json"], capsys, monkeypatch
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["index"] == "RUT"
    assert payload["units"]["yield_change"] == "percentage points"
    betas = {(b["series"], b["factor"]): b for b in payload["sensitivity"]["betas"]}
    assert set(betas) >= {("index", "2y"), ("index", "10y"), ("relative", "10y")}
    assert betas[("index", "10y")]["n"] > 2_000
    firsts = [e["date"] for e in payload["events"]["events"]]
    assert "2024-09-19" in firsts
    assert payload["rstar"]["latest"]["date"] == "2026-08-21"
    assert {r["stance"] for r in payload["rstar"]["by_stance"]} == {
        "accommodative",
        "neutral",
        "restrictive",
    }


def test_rates_tables(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _run(
        ["rates", "--data", str(data_dir.root), "--frequency", "monthly"],
        capsys,
        monkeypatch,
    )
    assert code == 0
    for title in (
        "Rate sensitivity of RUT: monthly returns",
        "Rolling betas, 36 monthly periods a window",
        "Policy cycles since 1987-09-10",
        "Returns by phase, annualised",
        "First cut and first hike of each cycle",
        "r* and stance",
        "RUT by stance at the start of each monthly period",
        "Stance by year",
    ):
        assert title in out
    assert "is a proxy" in out


def test_rates_r2000(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    small_r2k: None,
) -> None:
    code, out, _ = _run(
        ["rates", "--data", str(data_dir.root), "--index", "r2000", "--json"],
        capsys,
        monkeypatch,
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["index"] == "r2000"
    assert payload["start"] == "2025-12-26"
    assert any("fewer than the window" in n for n in payload["notes"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--index", "r1000"], "takes RUT or r2000 today"),
        (["--frequency", "hourly"], "--frequency 'hourly': use daily, weekly, monthly"),
        (["--rstar", "/nonexistent/r.csv"], "cannot be read as CSV"),
        (["--start", "2030-01-01"], "widen the window"),
    ],
)
def test_rates_errors_are_one_line(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    code, _, err = _run(
        ["rates", "--data", str(data_dir.root), *args], capsys, monkeypatch
    )
    assert code == 2
    assert message in err
    assert err.strip().startswith("r2k: error:")


def test_analyze_in_a_currency(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = _run(
        ["analyze", "--data", str(data_dir.root), "--currency", "GBP", "--json"],
        capsys,
        monkeypatch,
    )
    assert code == 0
    payload = json.loads(out)
    ccy = payload["currency"]
    assert (ccy["currency"], ccy["fx_column"], ccy["fx_quote"]) == (
        "GBP",
        "GBPUSD",
        "usd_per_target",
    )
    assert payload["start"] == ccy["start"] == "2024-08-21"
    assert payload["total_return"] == pytest.approx(ccy["local_return"], abs=1e-12)
    total = ccy["usd_return"] + ccy["currency_return"] + ccy["cross_term"]
    assert total == ccy["local_return"]
    assert any("window limited to the FX data" in n for n in payload["notes"])
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _run(
        ["analyze", "--data", str(data_dir.root), "--currency", "jpy"],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert "RUT in JPY: 2024-08-21 to 2026-06-26" in out
    assert "cross term (USD return x currency return)" in out
    code, _, err = _run(
        ["analyze", "--data", str(data_dir.root), "--currency", "XAU"],
        capsys,
        monkeypatch,
    )
    assert code == 2
    assert "no exchange rate between USD and 'XAU'" in err


@pytest.mark.parametrize("chart", ["policy_cycle", "currencies"])
def test_plot_rate_and_currency_charts(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    chart: str,
) -> None:
    target = tmp_path / f"{chart}.png"
    code, out, _ = _run(
        ["plot", "--data", str(data_dir.root), "--chart", chart, "--out", str(target)],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert f"{chart} chart written to" in out
    assert target.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_currency_needs_a_currency(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["plot", "--data", str(data_dir.root), "--chart", "currency"]
    code, _, err = _run([*args, "--out", str(tmp_path / "c.png")], capsys, monkeypatch)
    assert code == 2
    assert "--chart currency needs --currency XXX" in err
    code, _, _ = _run(
        [*args, "--currency", "CHF", "--out", str(tmp_path / "c.png")],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG_SIGNATURE


def test_plot_help_lists_the_rate_charts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    code, out, _ = _run(["plot", "--help"], capsys, monkeypatch)
    assert code == 0
    for name in PLOT_CHARTS:
        assert name in out
