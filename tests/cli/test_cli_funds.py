"""``r2k preview``, ``r2k validate preview`` and ``r2k recon-effect`` (real data)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import polars as pl
from typer.testing import CliRunner

from r2k.cli.app import app
from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from r2k.data.datadir import DataDir

runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert "preview" in result.output
    assert "recon-effect" in result.output
    result = runner.invoke(app, ["validate", "--help"])
    assert "preview" in result.output


def test_bad_as_of_is_a_usage_error() -> None:
    result = runner.invoke(app, ["preview", "--rank-day", "2026-04-30", "--as-of", "x"])
    assert result.exit_code == 2


def test_preview_writes_csv_and_json(data_dir: DataDir, tmp_path: Path) -> None:
    out = tmp_path / "preview.csv"
    result = runner.invoke(
        app,
        [
            "preview",
            "--data",
            str(data_dir.root),
            "--rank-day",
            "2026-04-30",
            "--as-of",
            "2026-06-25",
            "--passive-aum",
            "400e9",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["passive_aum"]["r2000"] == 400e9
    frame = pl.read_csv(out)
    assert {"security_id", "change", "days_of_volume"} <= set(frame.columns)
    assert frame.filter(pl.col("change") == "add").height > 100


def test_validate_preview_json(data_dir: DataDir) -> None:
    result = runner.invoke(
        app,
        [
            "validate",
            "preview",
            "--data",
            str(data_dir.root),
            "--effective",
            "2026-06-26",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)["scores"]
    assert scores["changes"]["share_at_threshold"] > 0.8


def test_preview_on_the_synthetic_market_in_december(tmp_path: Path) -> None:
    out = tmp_path / "december.csv"
    args = ["preview", "--synthetic", "--companies", "3600", "--seed", "2"]
    args += ["--rank-day", "2026-10-30", "--as-of", "2026-11-13", "--out", str(out)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert (payload["rank_day"], payload["effective_date"]) == (
        "2026-10-30",
        "2026-12-11",
    )
    assert payload["totals"]["counts"]["add"] > 0
    frame = pl.read_csv(out)
    assert frame.height == sum(payload["totals"]["counts"].values())
    both = runner.invoke(app, [*args[:2], "--data", ".", *args[2:]])
    assert both.exit_code == 2
    assert "--synthetic and --data" in both.output


def test_recon_effect_outside_the_panel_is_an_error(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """2025's reconstitution predates the panel (2025-12-26 on): no study, exit 2."""
    args = ["recon-effect", "--data", str(data_dir.root), "--rank-day", "2025-04-30"]
    code, out, err = run_cli(args, capsys, monkeypatch)
    assert code == 2
    assert "the market panel covers 2025-12-26 .. 2026-07-22" in out + err
