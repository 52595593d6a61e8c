"""The r2k command line: output, exit codes, one-line errors (never a traceback)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import polars as pl
import pytest

from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir


@pytest.fixture(autouse=True)
def _store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never use a store left in the working directory (an explicit --store wins)."""
    monkeypatch.setenv("R2K_STORE", str(tmp_path / "r2k.duckdb"))


_run = run_cli


def test_calendar_2026_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(["calendar", "2026", "--json"], capsys, monkeypatch)
    assert code == 0
    payload = json.loads(out)
    effective = [r["effective_date"] for r in payload["reconstitutions"]]
    # methodology.md TC9: June 2026 effective 26 Jun, December 2026 effective 11 Dec.
    assert effective == ["2026-06-26", "2026-12-11"]
    assert payload["reconstitutions"][1]["rank_day"] == "2026-10-30"
    assert payload["quarters"][0]["ipo_effective_date"] == "2026-03-20"


def test_calendar_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(["calendar", "2025"], capsys, monkeypatch)
    assert code == 0
    assert "2025-04-30" in out
    assert "2025-06-27" in out


def test_calendar_year_out_of_range(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(["calendar", "1900"], capsys, monkeypatch)
    assert code == 2
    assert "1900" in err


def test_no_data_directory_is_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("R2K_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # no ../shared/data from here
    code, _, err = _run(
        ["reconstitute", "--rank-day", "2026-04-30"], capsys, monkeypatch
    )
    assert code == 2
    assert "no data directory given" in err
    assert "R2K_DATA" in err


def test_the_data_beside_the_checkout_is_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Without --data or R2K_DATA, ../shared/data from the working directory (the
    # project's layout: CI has ../shared beside the checkout); a given one wins.
    from r2k.data.datadir import DataDir

    monkeypatch.delenv("R2K_DATA", raising=False)
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "checkout").mkdir()
    monkeypatch.chdir(tmp_path / "checkout")
    assert DataDir.resolve().root.resolve() == (tmp_path / "shared" / "data")
    assert DataDir.resolve(tmp_path / "other").root == tmp_path / "other"
    monkeypatch.setenv("R2K_DATA", str(tmp_path / "other"))
    assert DataDir.resolve().root == tmp_path / "other"


def test_missing_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [
        "reconstitute",
        "--data",
        str(tmp_path / "nope"),
        "--rank-day",
        "2026-04-30",
    ]
    code, _, err = _run(args, capsys, monkeypatch)
    assert code == 2
    assert "does not exist" in err


def test_malformed_data_directory_names_the_missing_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["reconstitute", "--data", str(tmp_path), "--rank-day", "2026-04-30"]
    code, _, err = _run(args, capsys, monkeypatch)
    assert code == 2
    assert "has no ishares" in err


def test_not_a_rank_day(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["reconstitute", "--data", str(data_dir.root), "--rank-day", "2026-05-01"]
    code, _, err = _run(args, capsys, monkeypatch)
    assert code == 2
    assert "2026-04-30" in err  # the message names the valid rank day


def test_bad_date(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(
        ["reconstitute", "--rank-day", "30/04/2026"], capsys, monkeypatch
    )
    assert code == 2
    assert "YYYY-MM-DD" in err


def test_reconstitute_2026_stores_and_writes(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, out_file = tmp_path / "r2k.duckdb", tmp_path / "m.csv"
    args = [
        "reconstitute",
        "--data",
        str(data_dir.root),
        "--rank-day",
        "2026-04-30",
        "--store",
        str(store),
        "--out",
        str(out_file),
        "--json",
    ]
    code, out, _ = _run(args, capsys, monkeypatch)
    assert code == 0
    summary = json.loads(out)
    assert summary["effective_date"] == "2026-06-26"
    assert summary["stored"] is True
    counts = summary["counts"]
    # 3,000 less the 18 companies the panel cannot show, estimated from the
    # incumbents' rate (docs/methodology.md, [ranking].unseen_companies_estimate)
    assert counts["r3000"] == 2982
    assert counts["r1000"] + counts["r2000"] == 2982
    assert 1900 <= counts["r2000"] <= 2100
    membership = pl.read_csv(out_file, try_parse_dates=True)
    assert (
        membership.filter(pl.col("r2000") & pl.col("is_pricing_vehicle")).height
        == (counts["r2000"])
    )
    # The same work again changes nothing in the store.
    code, out, _ = _run(args, capsys, monkeypatch)
    assert code == 0
    assert json.loads(out)["stored"] is False


def test_validate_recon_2025(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [
        "validate",
        "recon",
        "--data",
        str(data_dir.root),
        "--effective",
        "2025-06-27",
    ]
    code, out, _ = _run([*args, "--json"], capsys, monkeypatch)
    assert code == 0
    result = json.loads(out)
    keys = {
        "rank_day",
        "effective_date",
        "predicted",
        "actual",
        "overlap",
        "precision",
        "recall",
        "actual_in_universe",
        "recall_in_universe",
    }
    assert keys <= set(result)
    assert result["rank_day"] == "2025-04-30"
    assert result["snapshot_as_of"] > "2025-06-27"
    assert result["overlap"] <= min(result["predicted"], result["actual"])
    assert result["precision"] == pytest.approx(result["overlap"] / result["predicted"])
    # Measured 2025 figures (docs/methodology.md); the floor guards regressions.
    assert result["precision"] > 0.9
    assert result["recall_in_universe"] > 0.9


def test_validate_recon_2026_has_no_answer_yet(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [
        "validate",
        "recon",
        "--data",
        str(data_dir.root),
        "--effective",
        "2026-06-26",
    ]
    code, _, err = _run([*args, "--json"], capsys, monkeypatch)
    assert code == 3
    assert "no snapshot after the effective date" in err


def test_validate_recon_rejects_a_non_effective_date(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(
        ["validate", "recon", "--effective", "2026-06-25"], capsys, monkeypatch
    )
    assert code == 2
    assert "2026-06-26" in err


def test_demo(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(["demo", "--data", str(data_dir.root)], capsys, monkeypatch)
    assert code == 0
    assert "R2000" in out
    assert (tmp_path / "out" / "membership_2026-04-30.parquet").is_file()
    assert (tmp_path / "r2k.duckdb").is_file()
