"""Bad --out and --store paths: exit 2, one line, no traceback, nothing written.

Every path is checked before any computation, so a failing command leaves the
store and every file exactly as they were (bytes and modification time).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir


_run = run_cli


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (
            p.read_bytes() if p.is_file() else b"<dir>",
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def stored(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A store holding a calculated week, and a file ``plain.txt``."""
    store = tmp_path / "r2k.duckdb"
    args = ["calculate", "--start", "2026-01-02", "--end", "2026-01-09"]
    args += ["--data", str(data_dir.root), "--store", str(store)]
    code, _, err = _run(args, capsys, monkeypatch)
    assert code == 0, err
    (tmp_path / "plain.txt").write_text("a file\n")
    (tmp_path / "folder.csv").mkdir()
    return store


def _bad_outs(tmp_path: Path) -> dict[str, Path]:
    return {
        "parent missing": tmp_path / "missing" / "levels.csv",
        "parent is a file": tmp_path / "plain.txt" / "levels.csv",
        "unknown suffix": tmp_path / "levels.xlsx",
        "no suffix": tmp_path / "levels",
        "is a directory": tmp_path / "folder.csv",
    }


_CASES = ["parent missing", "parent is a file", "unknown suffix", "no suffix"]
_CASES += ["is a directory"]


@pytest.mark.parametrize("case", _CASES)
@pytest.mark.parametrize("command", ["calculate", "reconstitute"])
def test_bad_out_writes_nothing(
    case: str,
    command: str,
    stored: Path,
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = _bad_outs(tmp_path)[case]
    before = _snapshot(tmp_path)
    if command == "calculate":
        args = ["calculate", "--start", "2026-01-02", "--end", "2026-01-12"]
    else:
        args = ["reconstitute", "--rank-day", "2026-04-30"]
    args += ["--data", str(data_dir.root), "--store", str(stored)]
    code, out, err = _run([*args, "--out", str(target)], capsys, monkeypatch)
    assert code == 2, err
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert str(target.name) in err
    assert _snapshot(tmp_path) == before


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere"
)
def test_read_only_out_folder_writes_nothing(
    stored: Path,
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        before = _snapshot(tmp_path)
        args = ["calculate", "--start", "2026-01-02", "--end", "2026-01-12"]
        args += ["--data", str(data_dir.root), "--store", str(stored)]
        code, _, err = _run(
            [*args, "--out", str(folder / "l.csv")], capsys, monkeypatch
        )
        assert code == 2
        assert "permission denied" in err
        assert _snapshot(tmp_path) == before
    finally:
        folder.chmod(0o755)


def test_read_only_check_is_made_up_front(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root nothing is read-only: the check itself is tested with os.access."""
    from r2k.data.files import OutputFileError, check_output_path

    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)
    with pytest.raises(OutputFileError, match="permission denied"):
        check_output_path(tmp_path / "l.csv")


@pytest.mark.parametrize(
    "case", ["store parent missing", "store parent is a file", "store is a folder"]
)
def test_bad_store_path_writes_nothing(
    case: str,
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "plain.txt").write_text("x")
    (tmp_path / "dir.duckdb").mkdir()
    store = {
        "store parent missing": tmp_path / "missing" / "s.duckdb",
        "store parent is a file": tmp_path / "plain.txt" / "s.duckdb",
        "store is a folder": tmp_path / "dir.duckdb",
    }[case]
    before = _snapshot(tmp_path)
    args = ["calculate", "--start", "2026-01-02", "--end", "2026-01-09"]
    args += ["--data", str(data_dir.root), "--store", str(store)]
    code, _, err = _run(args, capsys, monkeypatch)
    assert code == 2, err
    assert len([x for x in err.splitlines() if x.strip()]) == 1, err
    assert _snapshot(tmp_path) == before


def test_tracking_end_before_start_is_clear(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["validate", "tracking", "--start", "2026-03-02", "--end", "2026-01-05"]
    code, _, err = _run([*args, "--data", str(data_dir.root)], capsys, monkeypatch)
    assert code == 2
    assert "--end 2026-01-05 must be after --start 2026-03-02" in " ".join(err.split())
