"""Crash safety: SIGKILL `r2k calculate` and `r2k run` at seeded random moments.

After each kill the store must open (a lock left by the dead writer is taken
over), hold either the previous state or the complete new one, and a rerun must
give exactly the state of an uninterrupted run. About 6 kills by default;
``R2K_CRASH_KILLS=N`` runs N (and ``R2K_CRASH_SEED`` changes the seed).
Runs on a small window of the real data, read in place.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from r2k.data.store import Store, lock_path

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir

R2K = str(Path(sys.executable).parent / "r2k")
KILLS = int(os.environ.get("R2K_CRASH_KILLS", "6"))
SEED = int(os.environ.get("R2K_CRASH_SEED", "20261203"))
NAME = "r2000-r2k"
State = tuple[pl.DataFrame, pl.DataFrame, str]


def _commands(data: Path) -> dict[str, list[str]]:
    common = ["--data", str(data)]
    return {
        "calculate": [
            R2K,
            "calculate",
            "--start",
            "2026-01-02",
            "--end",
            "2026-01-13",
            *common,
        ],
        "run": [R2K, "run", "--session", "2026-01-12", *common],
    }


def _state(store: Path) -> State:
    """Levels, constituents and the stored book (what must be whole)."""
    with Store(store, must_exist=True) as db:
        levels = db.levels(NAME)
        cons = db._query("SELECT * FROM constituents ORDER BY session, security_id", [])
        rows = db._con.sql("SELECT state FROM calc_state").fetchall()
    return levels, cons, str(rows[0][0]) if rows else ""


def _same(
    a: tuple[pl.DataFrame, pl.DataFrame, str], b: tuple[pl.DataFrame, pl.DataFrame, str]
) -> bool:
    return a[0].equals(b[0]) and a[1].equals(b[1]) and a[2] == b[2]


def _exec(cmd: list[str], store: Path) -> float:
    began = time.monotonic()
    subprocess.run(
        [*cmd, "--store", str(store)],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=store.parent,
    )
    return time.monotonic() - began


def test_sigkill_leaves_previous_or_complete_state(
    data_dir: DataDir, tmp_path: Path
) -> None:
    base = tmp_path / "base.duckdb"
    _exec(
        [
            R2K,
            "calculate",
            "--start",
            "2026-01-02",
            "--end",
            "2026-01-09",
            "--data",
            str(data_dir.root),
        ],
        base,
    )
    previous = _state(base)
    commands = _commands(data_dir.root)
    complete: dict[str, State] = {}
    duration: dict[str, float] = {}
    for name, cmd in commands.items():
        ref = tmp_path / f"ref-{name}" / "s.duckdb"
        ref.parent.mkdir()
        shutil.copy(base, ref)
        duration[name] = _exec(cmd, ref)
        complete[name] = _state(ref)
        # same inputs, same command: nothing changes
        _exec(cmd, ref)
        assert _same(_state(ref), complete[name])
        assert not _same(complete[name], previous)

    rng = random.Random(SEED)
    outcomes = []
    for i in range(KILLS):
        name = rng.choice(sorted(commands))
        folder = tmp_path / f"kill-{i}"
        folder.mkdir()
        store = folder / "s.duckdb"
        shutil.copy(base, store)
        delay = rng.uniform(0.0, duration[name] * 1.1)
        proc = subprocess.Popen(
            [*commands[name], "--store", str(store)],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = _state(store)  # opens: the dead writer's lock is taken over
        assert not lock_path(store).exists()
        if _same(after, previous):
            outcomes.append("previous")
        else:
            assert _same(after, complete[name]), f"kill {i} ({name} at {delay:.2f}s)"
            outcomes.append("complete")
        _exec(commands[name], store)
        assert _same(_state(store), complete[name]), f"rerun after kill {i}"
    assert len(outcomes) == KILLS
