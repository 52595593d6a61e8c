"""``r2k check``: what each data file holds, problems found, the store's state."""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING

import duckdb

from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from r2k.data.datadir import DataDir


_run = run_cli


def test_check_real_data_and_store(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "s.duckdb"
    args = ["calculate", "--start", "2026-01-02", "--end", "2026-01-09"]
    args += ["--data", str(data_dir.root), "--store", str(store)]
    assert _run(args, capsys, monkeypatch)[0] == 0
    code, out, err = _run(
        ["check", "--data", str(data_dir.root), "--store", str(store), "--json"],
        capsys,
        monkeypatch,
    )
    report = json.loads(out)
    files = {f["file"]: f for f in report["files"]}
    rut = files["indices/RUT_daily.csv"]
    assert rut["rows"] > 9000
    assert rut["first"] == "1987-09-10"
    assert any(name.startswith("market/") for name in files)
    assert any(name.startswith("ishares/") for name in files)
    s = report["store"]
    assert s["program"] == "r2k"
    assert s["format"] >= 2
    assert s["series"]["r2000-r2k"]["first"] == "2026-01-02"
    assert s["tables"]["calc_runs"] == 1
    assert code == (1 if report["errors"] else 0), err
    assert report["errors"] == sum(len(f["errors"]) for f in report["files"])


def test_check_reports_a_bad_file_and_exits_non_zero(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "data"
    (root / "indices").mkdir(parents=True)
    shutil.copy(data_dir.root / "indices" / "RUT_daily.csv", root / "indices")
    (root / "indices" / "SPX_daily.csv").write_text("not,a\nlevel,file\n")
    code, out, _ = _run(["check", "--data", str(root), "--json"], capsys, monkeypatch)
    assert code == 1
    report = json.loads(out)
    files = {f["file"]: f for f in report["files"]}
    assert files["indices/RUT_daily.csv"]["errors"] == []
    assert files["indices/SPX_daily.csv"]["errors"]
    assert files["indices/SPX_daily.csv"]["rows"] is None
    # the table form says the same
    code, out, _ = _run(["check", "--data", str(root)], capsys, monkeypatch)
    assert code == 1
    assert "error" in out


def test_check_reports_a_damaged_store(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "s.duckdb"
    store.write_bytes(b"\0" * 5000)
    before = store.read_bytes()
    code, out, _ = _run(["check", "--store", str(store), "--json"], capsys, monkeypatch)
    assert code == 1
    assert "rebuild" in json.loads(out)["store"]["errors"][0]
    assert store.read_bytes() == before


def test_check_migrates_an_old_store_explicitly(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from r2k.data.store import STORE_FORMAT, Store

    store = tmp_path / "s.duckdb"
    with Store(store):
        pass
    con = duckdb.connect(str(store))
    con.execute("DROP TABLE meta; DROP TABLE calc_runs; DROP TABLE restatements")
    con.close()
    code, out, _ = _run(["check", "--store", str(store), "--json"], capsys, monkeypatch)
    assert code == 1
    assert "--migrate" in json.loads(out)["store"]["errors"][0]
    code, out, _ = _run(
        ["check", "--store", str(store), "--migrate", "--json"], capsys, monkeypatch
    )
    assert code == 0, out
    assert json.loads(out)["store"]["format"] == STORE_FORMAT


def test_check_missing_data_directory(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = _run(
        ["check", "--data", str(tmp_path / "nope")], capsys, monkeypatch
    )
    assert code == 2
    assert "nope" in err
