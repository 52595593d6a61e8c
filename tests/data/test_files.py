"""Output files are written atomically; a file that cannot be written is an error."""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from datetime import date
from typing import TYPE_CHECKING, BinaryIO

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.data.files import (
    MissingFolderError,
    OutputFileError,
    format_of,
    frame_bytes,
    write_atomic,
    write_bytes_atomic,
    write_frame,
)
from r2k.errors import R2KError

if TYPE_CHECKING:
    from pathlib import Path


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "session": [date(2026, 6, 26), date(2026, 6, 29)],
            "security_id": ["AAA", "BBB"],
            "weight": [0.25, float("nan")],
            "shares": [100, 200],
        }
    )


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    assert write_bytes_atomic(target, b"old") == target
    assert write_bytes_atomic(str(target), b"new") == target
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "private.txt"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_bytes_atomic(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_failing_writer_leaves_the_old_file_intact(tmp_path: Path) -> None:
    target = tmp_path / "levels.csv"
    target.write_bytes(b"old")

    def half(stream: BinaryIO) -> None:
        stream.write(b"half a fi")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_atomic(target, half)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["levels.csv"]


def test_a_failing_disk_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "levels.csv"
    target.write_bytes(b"old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputFileError) as caught:
        write_frame(_frame(), target)
    message = str(caught.value)
    assert message.startswith(f"cannot write {target}: No space left on device")
    assert "any old file is unchanged" in message
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["levels.csv"]


def test_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "no" / "r.html"
    with pytest.raises(MissingFolderError) as caught:
        write_bytes_atomic(target, b"x")
    assert isinstance(caught.value, FileNotFoundError)
    assert isinstance(caught.value, R2KError)
    assert str(caught.value) == (
        f"cannot write {target}: folder {target.parent} does not exist; "
        "create it or choose another path"
    )
    assert list(tmp_path.iterdir()) == []
    # parents=True makes the folder
    write_bytes_atomic(target, b"x", parents=True)
    assert target.read_bytes() == b"x"


def test_a_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"")
    target = tmp_path / "f" / "x.csv"
    for parents in (False, True):
        with pytest.raises(OutputFileError, match="is a file, not a folder"):
            write_bytes_atomic(target, b"x", parents=parents)


def test_a_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="it is a folder; name a file in it"):
        write_bytes_atomic(tmp_path, b"x")


def test_a_read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**_: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "r.html"
    with pytest.raises(OutputFileError) as caught:
        write_bytes_atomic(target, b"x")
    assert str(caught.value) == (
        f"cannot write {target}: permission denied in folder {tmp_path}; "
        "choose a folder you can write to"
    )


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes into read-only folders",
)
def test_a_read_only_folder_on_disk(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "old.csv").write_bytes(b"old")
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputFileError, match="permission denied in folder"):
            write_bytes_atomic(folder / "old.csv", b"new")
        assert (folder / "old.csv").read_bytes() == b"old"
    finally:
        folder.chmod(0o700)


def test_the_suffix_names_the_format(tmp_path: Path) -> None:
    assert format_of(tmp_path / "x.Parquet") == "parquet"
    assert format_of("x.json") == "json"
    with pytest.raises(OutputFileError) as caught:
        write_frame(_frame(), tmp_path / "x.txt", formats=("parquet", "csv"))
    assert str(caught.value) == (
        f"cannot write {tmp_path / 'x.txt'}: .txt is not a format r2k writes; "
        "name it .parquet or .csv"
    )
    with pytest.raises(OutputFileError, match="no suffix is not a format"):
        write_frame(_frame(), tmp_path / "x")
    with pytest.raises(OutputFileError, match=r"\.json is not a format"):
        write_frame(_frame(), tmp_path / "x.json", formats=("csv",))
    assert list(tmp_path.iterdir()) == []


def test_frames_round_trip(tmp_path: Path) -> None:
    frame = _frame()
    parquet = write_frame(frame, tmp_path / "m.parquet")
    assert_frame_equal(pl.read_parquet(parquet), frame)
    csv = write_frame(frame, tmp_path / "m.csv")
    assert_frame_equal(pl.read_csv(csv, try_parse_dates=True), frame)
    # an explicit format wins over the suffix
    other = write_frame(frame, tmp_path / "m.dat", "csv")
    assert other.read_bytes() == csv.read_bytes() == frame_bytes(frame, "csv")
    records = json.loads(write_frame(frame, tmp_path / "m.json").read_bytes())
    assert records == [
        {"session": "2026-06-26", "security_id": "AAA", "weight": 0.25, "shares": 100},
        {"session": "2026-06-29", "security_id": "BBB", "weight": None, "shares": 200},
    ]
