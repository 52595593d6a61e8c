"""CLI: calculate, run (incremental, idempotent), validate tracking."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k.data.store import Store
from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir


_run = run_cli


def test_calculate_then_run_is_incremental_and_idempotent(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, out_file = tmp_path / "r2k.duckdb", tmp_path / "levels.csv"
    data = ["--data", str(data_dir.root), "--store", str(store)]
    code, out, _ = _run(
        [
            "calculate",
            "--start",
            "2026-07-01",
            "--end",
            "2026-07-20",
            "--out",
            str(out_file),
            "--json",
            *data,
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, out
    assert json.loads(out)["sessions"] == 13  # 2026-07-03 is a holiday
    written = pl.read_csv(out_file)
    assert written["level"][0] == 100.0
    code, out, _ = _run(
        ["run", "--session", "2026-07-21", "--json", *data], capsys, monkeypatch
    )
    assert code == 0
    first = json.loads(out)
    assert first["status"] == "calculated"
    with Store(store) as db:
        before = db.table_counts()
    code, out, _ = _run(
        ["run", "--session", "2026-07-21", "--json", *data], capsys, monkeypatch
    )
    assert code == 0
    again = json.loads(out)
    assert again["status"] == "already calculated, unchanged"
    assert again["price_return"] == first["price_return"]
    with Store(store) as db:
        assert db.table_counts() == before
    # Skipping a session is refused, with the session to run next.
    code, _, err = _run(["run", "--session", "2026-07-23", *data], capsys, monkeypatch)
    assert code == 2
    assert "next session to calculate is 2026-07-22" in err


def test_run_without_state_says_what_to_do(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [
        "run",
        "--session",
        "2026-07-21",
        "--data",
        str(data_dir.root),
        "--store",
        str(tmp_path / "s.duckdb"),
    ]
    code, _, err = _run(args, capsys, monkeypatch)
    assert code == 2
    assert "r2k calculate" in err


def test_validate_tracking_json_keys(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [
        "validate",
        "tracking",
        "--data",
        str(data_dir.root),
        "--start",
        "2026-04-10",
        "--end",
        "2026-06-26",
        "--weights",
        "holdings",
        "--json",
    ]
    code, out, _ = _run(args, capsys, monkeypatch)
    assert code == 0
    payload = json.loads(out)
    for key in (
        "sessions",
        "correlation",
        "tracking_error_bp",
        "mean_difference_bp",
        "max_abs_difference_bp",
        "cumulative_return",
        "reference_cumulative_return",
    ):
        assert key in payload
    assert payload["missing_prices"]["holdings_lines_without_panel_price"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weights", "iwm"], "--weights 'iwm'"),
        (["--start", "2026-07-25", "--end", "2026-07-31"], "no session"),
        (["--start", "2026-06-26", "--end", "2026-04-10"], "must be after --start"),
    ],
)
def test_bad_tracking_input_is_one_line(
    data_dir: DataDir,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = {"--start": "2026-04-10", "--end": "2026-06-26", "--weights": "holdings"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for kv in base.items() for x in kv]
    code, out, err = _run(
        ["validate", "tracking", "--data", str(data_dir.root), *flat],
        capsys,
        monkeypatch,
    )
    assert code == 2
    assert message in out + err


def test_demo_without_data_runs_on_the_synthetic_market(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--data", str(tmp_path / "absent"), "--store", "s.duckdb"]
    code, out, _ = _run(args, capsys, monkeypatch)
    assert code == 0
    assert "synthetic market" in out
    levels = pl.read_csv(tmp_path / "out" / "synthetic_r2000_levels.csv")
    assert levels.height > 700
    assert levels["price_return"][0] == 100.0
    with Store(tmp_path / "s.duckdb") as db:
        assert db.levels("r2000-synthetic").height == levels.height


def test_any_index_calculates_and_runs_incrementally(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--index midcap: seeded by r2k's June 2026 reconstitution; run adds a session."""
    store, out_file = tmp_path / "r2k.duckdb", tmp_path / "midcap.csv"
    data = ["--data", str(data_dir.root), "--store", str(store)]
    code, out, _ = _run(
        [
            "calculate",
            "--index",
            "midcap",
            "--start",
            "2026-06-26",
            "--end",
            "2026-07-20",
            "--out",
            str(out_file),
            "--json",
            *data,
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, out
    summary = json.loads(out)
    assert summary["index"] == "midcap"
    assert summary["stored_as"] == "midcap-r2k"
    assert any("starting membership of midcap" in n for n in summary["notes"])
    levels = pl.read_csv(out_file)
    assert levels.columns[:2] == ["session", "level"]
    assert {
        "market_value",
        "divisor",
        "price_return",
        "total_return",
        "net_total_return",
        "dividend_points",
        "net_dividend_points",
    } <= set(levels.columns)
    # the Midcap (R1000 ranks 201-1000) holds about 800 companies
    assert 700 < summary["members_at_end"] < 850
    code, out, _ = _run(
        ["run", "--index", "midcap", "--session", "2026-07-21", "--json", *data],
        capsys,
        monkeypatch,
    )
    assert code == 0, out
    assert json.loads(out)["status"] == "calculated"
    with Store(store) as db:
        assert db.levels("midcap-r2k").height == levels.height + 1


def test_index_without_a_seed_names_the_nearest_start(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "r2k.duckdb"
    code, _, err = _run(
        [
            "calculate",
            "--index",
            "r1000",
            "--start",
            "2026-04-10",
            "--end",
            "2026-05-01",
            "--data",
            str(data_dir.root),
            "--store",
            str(store),
        ],
        capsys,
        monkeypatch,
    )
    assert code == 2
    assert "nearest usable start is 2026-06-26" in " ".join(err.split())
    assert not store.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--index", "r5000"], "--index 'r5000'"),
        (["--index", "r1000", "--weights", "holdings"], "only the Russell 2000"),
    ],
)
def test_bad_index_options_are_one_line(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    needle: str,
) -> None:
    code, out, err = _run(
        [
            "calculate",
            "--start",
            "2026-06-26",
            "--end",
            "2026-07-01",
            *args,
            "--data",
            str(data_dir.root),
            "--store",
            str(tmp_path / "s.duckdb"),
        ],
        capsys,
        monkeypatch,
    )
    assert code == 2
    assert needle in " ".join((out + err).split())
