"""``r2k export``, ``r2k serve`` and ``r2k --version``, driven in-process."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from typer.testing import CliRunner

from r2k import __version__
from r2k.cli.app import app
from r2k.data.store import Store
from r2k.workflows.exports import CONSTITUENT_COLUMNS, clean_name

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir

runner = CliRunner()


def _invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def test_version_flag() -> None:
    result = _invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"r2k {__version__}"


def test_export_constituents_three_formats(data_dir: DataDir, tmp_path: Path) -> None:
    frames = {}
    for fmt in ("csv", "parquet", "json"):
        out = tmp_path / f"c.{fmt}"
        result = _invoke(
            "export",
            "constituents",
            "--index",
            "r2000",
            "--session",
            "2026-02-02",
            "--format",
            fmt,
            "--out",
            str(out),
            "--data",
            str(data_dir.root),
            "--store",
            str(tmp_path / "absent.duckdb"),
            "--json",
        )
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output)
        assert summary["rows"] > 1_700
        assert "calculated by r2k" in summary["source"]
        if fmt == "csv":
            frames[fmt] = pl.read_csv(out, try_parse_dates=True)
        elif fmt == "parquet":
            frames[fmt] = pl.read_parquet(out)
        else:
            frames[fmt] = pl.DataFrame(json.loads(out.read_text()))
    assert not (tmp_path / "absent.duckdb").exists()  # a missing store is not made
    parquet = frames["parquet"]
    assert parquet.schema == CONSTITUENT_COLUMNS
    assert parquet["session"].unique().to_list() == [date(2026, 2, 2)]
    assert parquet["weight"].sum() == pytest.approx(1.0)
    assert frames["csv"]["security_id"].to_list() == parquet["security_id"].to_list()
    assert frames["json"]["weight"].to_list() == pytest.approx(
        parquet["weight"].to_list()
    )


def test_export_constituents_prefers_the_store(
    data_dir: DataDir, tmp_path: Path
) -> None:
    from r2k.workflows.real_index import calculate_real

    store = tmp_path / "r2k.duckdb"
    run = calculate_real(
        data_dir, date(2026, 2, 2), date(2026, 2, 4), weights="r2k", constituents=True
    )
    with Store(store) as db:
        db.save_calculation("r2000-r2k", run.calculation, settings={})
    out = tmp_path / "c.csv"
    result = _invoke(
        "export",
        "constituents",
        "--session",
        "2026-02-04",
        "--out",
        str(out),
        "--data",
        str(data_dir.root),
        "--store",
        str(store),
    )
    assert result.exit_code == 0, result.output
    assert "store r2k.duckdb: r2000-r2k" in result.output
    assert pl.read_csv(out).height > 1_700


def test_export_changes(data_dir: DataDir, tmp_path: Path) -> None:
    out = tmp_path / "changes.csv"
    result = _invoke(
        "export",
        "changes",
        "--rank-day",
        "2026-04-30",
        "--format",
        "csv",
        "--out",
        str(out),
        "--data",
        str(data_dir.root),
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out, try_parse_dates=True)
    assert set(frame["change"]) == {"add", "delete", "migrate_up", "migrate_down"}
    assert frame["effective_date"].unique().to_list() == [date(2026, 6, 26)]
    assert not frame["name"].str.contains("Common Stock").any()
    assert "changes of rank day 2026-04-30" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--session", "2026-02-30", "--out", "x.csv"], "not a date"),
        (["--session", "2026-02-02", "--out", "x.xlsx"], "--format 'xlsx'"),
        (["--session", "2026-02-02", "--out", "x.csv", "--index", "ndx"], "ndx"),
    ],
)
def test_export_usage_errors(args: list[str], message: str) -> None:
    result = _invoke("export", "constituents", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_clean_name() -> None:
    assert clean_name("Riot Platforms Inc. Common Stock ") == "Riot Platforms Inc."
    assert clean_name("Rush Enterprises Inc. Common Stock Cl A") == (
        "Rush Enterprises Inc. Class A"
    )
    assert clean_name("X Corp. Warrants to buy Common Stock") == (
        "X Corp. Warrants to buy Common Stock"
    )
    assert clean_name(None) is None


def test_serve_starts_uvicorn_on_localhost(
    data_dir: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(application: Any, **kwargs: Any) -> None:
        seen["app"] = application
        seen.update(kwargs)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.delenv("R2K_API_KEY", raising=False)
    result = _invoke("serve", "--data", str(data_dir.root), "--no-warm")
    assert result.exit_code == 0, result.output
    assert seen["host"] == "127.0.0.1"
    assert seen["port"] == 8000
    assert "read-only" in result.output
    key = tmp_path / "key"
    key.write_text("k" * 32)
    result = _invoke(
        "serve", "--data", str(data_dir.root), "--api-key-file", str(key), "--no-warm"
    )
    assert "API key required" in result.output
    key.write_text("short")
    result = _invoke("serve", "--data", str(data_dir.root), "--api-key-file", str(key))
    assert result.exit_code != 0
