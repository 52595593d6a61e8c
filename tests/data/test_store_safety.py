"""The store's safety: format version, writer lock, corruption, restatements."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest

from r2k.data.store import (
    STORE_FORMAT,
    Store,
    lock_path,
    preflight,
)
from r2k.errors import (
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    with Store(path):
        pass
    return path


def test_new_store_records_program_and_format(tmp_path: Path) -> None:
    path = _store(tmp_path)
    with Store(path) as db:
        assert db.format() == ("r2k", STORE_FORMAT)
    assert not lock_path(path).exists()


def test_store_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.close()
    with pytest.raises(StoreVersionError, match="not written by r2k"):
        Store(path)
    with pytest.raises(StoreVersionError):
        preflight(path)


def test_store_of_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = _store(tmp_path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    con.close()
    with pytest.raises(StoreVersionError, match="store format 99"):
        Store(path)


def test_old_format_needs_an_explicit_migration(tmp_path: Path) -> None:
    path = _store(tmp_path)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE meta; DROP TABLE calc_runs; DROP TABLE restatements")
    con.close()
    with pytest.raises(StoreVersionError, match="--migrate"):
        Store(path)
    with Store(path, migrate=True) as db:
        assert db.format() == ("r2k", STORE_FORMAT)
    with Store(path) as db:
        assert "restatements" in db.table_counts()


_HOLD = """
import sys, time
from r2k.data.store import Store
with Store(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_lock_held_by_another_process_names_it(tmp_path: Path) -> None:
    path = _store(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError) as info:
            Store(path)
        message = str(info.value)
        assert f"pid {proc.pid}" in message
        assert "since" in message
        assert "-c" in message  # the command
        with pytest.raises(StoreLockedError):
            preflight(path)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    # the holder died without releasing: its lock is taken over
    assert lock_path(path).exists()
    with Store(path):
        pass
    assert not lock_path(path).exists()


def test_lock_of_a_live_process_elsewhere(tmp_path: Path) -> None:
    path = _store(tmp_path)
    info = {"pid": 1, "host": "elsewhere", "command": "r2k run", "since": "x"}
    lock_path(path).write_text(json.dumps(info))
    with pytest.raises(StoreLockedError, match="pid 1 on elsewhere"):
        Store(path)


@pytest.mark.parametrize("keep", [0, 100, 12288 + 1000])
def test_truncated_store_is_reported(tmp_path: Path, keep: int) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as db:
        db._con.execute("CREATE TABLE filler AS SELECT range AS x FROM range(300000)")
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    before = path.read_bytes()
    with pytest.raises(StoreCorruptError, match=r"s\.duckdb") as info:
        Store(path)
    assert "rebuild" in str(info.value)
    with pytest.raises(StoreCorruptError):
        preflight(path)
    assert path.read_bytes() == before


def test_corrupted_block_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as db:
        db._con.execute("CREATE TABLE filler AS SELECT range AS x FROM range(300000)")
        db._con.execute("CHECKPOINT")
    data = bytearray(path.read_bytes())
    for i in range(12288, len(data), 4096):
        data[i : i + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))

    def use() -> None:
        with Store(path) as db:
            db._query("SELECT sum(x) FROM filler", [])

    with pytest.raises(StoreError):
        use()
    assert not lock_path(path).exists()


def test_damaged_state_is_reported(tmp_path: Path) -> None:
    path = _store(tmp_path)
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO calc_state VALUES ('r2000-r2k', DATE '2026-01-02', '{', '{}', "
        "TIMESTAMP '2026-01-02 00:00:00')"
    )
    con.close()
    with Store(path) as db, pytest.raises(StoreCorruptError, match="damaged"):
        db.load_state("r2000-r2k")


def test_restatement_recorded(tmp_path: Path, data_dir: DataDir) -> None:
    from r2k.workflows.real_index import calculate_real

    path = tmp_path / "s.duckdb"
    result = calculate_real(data_dir, date(2026, 1, 2), date(2026, 1, 9), weights="r2k")
    calc = result.calculation
    with Store(path) as db:
        db.save_calculation("r2000-r2k", calc, settings={"start": "2026-01-02"})
        assert db.restatements().height == 0
        # same calculation again: nothing restated
        db.save_calculation("r2000-r2k", calc, settings={"start": "2026-01-02"})
        assert db.restatements().height == 0
        old = db.levels("r2000-r2k").filter(pl.col("session") == date(2026, 1, 8))
        changed = calc.levels.with_columns(
            pl.when(pl.col("session") == date(2026, 1, 8))
            .then(pl.col("price_return") + 1)
            .otherwise(pl.col("price_return"))
            .alias("price_return")
        )
        restated = db.save_calculation(
            "r2000-r2k",
            dataclasses.replace(calc, levels=changed),
            settings={"start": "2026-01-02"},
            inputs={"x.csv": "abc"},
            command="r2k calculate (changed inputs)",
        )
        assert restated.height == 1
        row = db.restatements("r2000-r2k").row(0, named=True)
        assert row["session"] == date(2026, 1, 8)
        assert row["field"] == "price_return"
        assert row["old"] == old["price_return"][0]
        assert row["new"] == old["price_return"][0] + 1
        assert row["command"] == "r2k calculate (changed inputs)"
        runs = db.calc_runs()
        assert runs.height == 2  # the same run again is not recorded twice
        last = runs.row(-1, named=True)
        assert json.loads(last["inputs"]) == {"x.csv": "abc"}
        assert last["r2k_version"]


def test_must_exist_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none.duckdb"
    with pytest.raises(StoreError, match="does not exist"):
        Store(path, must_exist=True)
    assert not path.exists()
    assert not lock_path(path).exists()
    preflight(path)
    assert not path.exists()


def test_run_without_state_creates_no_store(tmp_path: Path) -> None:
    env = os.environ | {"R2K_STORE": str(tmp_path / "r2k.duckdb")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "r2k"), "run", "--session", "2026-01-05"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "r2k calculate" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_stores_of_one_process_share_the_lock(tmp_path: Path) -> None:
    path = _store(tmp_path)
    with Store(path) as a:
        with Store(path) as b:
            assert b.format() == a.format()
        assert lock_path(path).exists()
    assert not lock_path(path).exists()


def test_the_lock_file_is_whole_from_its_first_moment(tmp_path: Path) -> None:
    """The lock is linked into place already written: never empty, no leftovers."""
    from r2k.data.store import _create_lock_file

    lock = tmp_path / "s.duckdb.lock"
    _create_lock_file(lock, '{"pid": 1}')
    assert json.loads(lock.read_text(encoding="utf-8")) == {"pid": 1}
    with pytest.raises(FileExistsError):
        _create_lock_file(lock, '{"pid": 2}')
    assert json.loads(lock.read_text(encoding="utf-8")) == {"pid": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb.lock"]
