"""The analytics commands (analyze, report, plot) through ``r2k.cli.app.main``.

``register`` is called on a fresh Typer app that replaces ``r2k.cli.app.app`` for the
test, so the commands run exactly as the ``r2k`` script runs them: errors become
one line on stderr and exit code 2. r2k's own index is calculated once per module
and handed to the commands (its calculation is tested in test_real_index.py and
test_analysis.py; here the wiring is under test).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from typing import TYPE_CHECKING

import pytest

import r2k.analytics.analysis
import r2k.cli.app
import r2k.reporting.report
import r2k.workflows.explain
from r2k.cli.analytics import CHART_NAMES, register
from r2k.reporting import charts
from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    import typer

    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _register(app: typer.Typer) -> None:
    register(app)


_run = functools.partial(run_cli, register=_register)


@pytest.fixture(scope="module")
def calc(data_dir: DataDir) -> Calculation:
    return r2k.workflows.explain.calculate_r2k(data_dir, constituents=True)


@pytest.fixture
def cached_r2k(calc: Calculation, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand the module's calculation to every command that would calculate it."""

    def cached(data: DataDir, *, constituents: bool = False) -> Calculation:
        return calc

    monkeypatch.setattr(r2k.workflows.explain, "calculate_r2k", cached)
    monkeypatch.setattr(r2k.reporting.report, "calculate_r2k", cached)


def test_chart_names_match_the_library() -> None:
    assert CHART_NAMES == charts.CHARTS


def test_analyze_rut_json(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = _run(
        ["analyze", "--data", str(data_dir.root), "--json"], capsys, monkeypatch
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["name"] == "RUT"
    assert payload["start"] == "1987-09-10"
    assert payload["sessions"] == 9772
    # unrounded: the closed form of the geometric annual return, to the last bits
    first, last = payload["first_level"], payload["last_level"]
    expected = (last / first) ** (252 / 9771) - 1.0
    assert payload["annualized_return"] == pytest.approx(expected, rel=1e-12)
    assert payload["deepest_drawdown"]["start"] == "2007-07-13"
    assert payload["deepest_drawdown"]["trough"] == "2009-03-09"
    assert [b["code"] for b in payload["benchmarks"]] == ["SPX", "RUA"]
    assert [r["period"] for r in payload["rate_of_change"]] == [21, 63, 252]
    assert len(payload["rallies"]) > 20


def test_analyze_window_tables(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = _run(
        [
            "analyze",
            "--data",
            str(data_dir.root),
            "--index",
            "rut",
            "--start",
            "2020-01-01",
            "--end",
            "2020-12-31",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert "RUT: 2020-01-02 to 2020-12-31" in out
    assert "2020-03-18" in out  # the Covid trough
    assert "S&P 500" in out
    assert "round-half-even" in out


@pytest.mark.usefixtures("cached_r2k")
def test_analyze_r2k_tables(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = _run(
        ["analyze", "--data", str(data_dir.root), "--index", "r2k"], capsys, monkeypatch
    )
    assert code == 0
    assert "r2k: 2025-12-26 to 2026-07-22" in out
    assert "Russell 2000" in out
    assert "note:" in out  # RUA ends in 2022: no comparison


@pytest.mark.usefixtures("cached_r2k")
def test_report_command_content(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "report.html"
    code, out, _ = _run(
        ["report", "--data", str(data_dir.root), "--out", str(target)],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert "report written to" in out
    assert "18 charts" in out
    text = target.read_text(encoding="utf-8")
    for title in (
        "Summary",
        "Level vs large caps, rallies and range-bound periods",
        "Rate of change",
        "Rolling volatility",
        "Drawdowns",
        "Rallies",
        "Range-bound periods",
        "Index characteristics",
        "Sector mix",
        "Cap distribution",
        "Reconstitution effect",
        "Rates and the policy cycle",
        "Currencies",
        "Data provenance",
    ):
        assert f"<h2>{title}</h2>" in text
    # RUT maximum drawdown since 1987, formatted (855.77 -> 343.26)
    assert "-59.89% (2007-07-13 to 2009-03-09" in text
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(images) == 18
    assert all(base64.b64decode(i)[:8] == PNG_SIGNATURE for i in images)
    rest = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", text)
    assert "http" not in rest
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_plot_level_png(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "level.png"
    code, out, _ = _run(
        [
            "plot",
            "--data",
            str(data_dir.root),
            "--chart",
            "level",
            "--out",
            str(target),
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert "level chart written to" in out
    data = target.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert 20_000 < len(data) < 1_000_000


def test_plot_caps_from_the_iwm_file(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "caps.png"
    code, _, _ = _run(
        ["plot", "--data", str(data_dir.root), "--chart", "caps", "--out", str(target)],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert target.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.usefixtures("cached_r2k")
def test_plot_r2k_sectors(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "sectors.png"
    args = ["plot", "--data", str(data_dir.root), "--index", "r2k"]
    code, _, _ = _run(
        [*args, "--chart", "sectors", "--out", str(target)], capsys, monkeypatch
    )
    assert code == 0
    assert target.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_help_lists_every_chart(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(["plot", "--help"], capsys, monkeypatch)
    assert code == 0
    flat = " ".join(out.split())
    for name in CHART_NAMES:
        assert f"{name}:" in flat


def test_unknown_chart_is_one_line(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["plot", "--data", str(data_dir.root), "--chart", "pie"]
    code, _, err = _run([*args, "--out", str(tmp_path / "x.png")], capsys, monkeypatch)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "--chart 'pie' is not a chart; choose one of: level, relative" in err
    assert list(tmp_path.iterdir()) == []


def test_bad_index_and_date(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = ["analyze", "--data", str(data_dir.root)]
    code, _, err = _run([*base, "--index", "SPX"], capsys, monkeypatch)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "choose RUT or r2k" in err
    code, _, err = _run([*base, "--start", "1/2/2020"], capsys, monkeypatch)
    assert code == 2
    assert "is not a date; write it as YYYY-MM-DD" in " ".join(err.split())


def test_missing_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere"
    code, _, err = _run(["analyze", "--data", str(missing)], capsys, monkeypatch)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "does not exist" in err
