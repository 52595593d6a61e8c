"""The reconstitution cache of the command line (:mod:`r2k.workflows.recon_cache`).

A hit must give what a miss computes (the real 2026 run, field by field, and the
command's JSON), and the key must change with the data, the question and the rule
set; the cache never goes inside the data directory, is off with
``R2K_NO_CACHE=1``, and ignores an unreadable entry. The mechanics are tested with
a small stand-in run (the pipeline patched out); the equality with the real run.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.construction.reconstitution import Reconstitution
from r2k.data.datadir import DataDir
from r2k.data.sources.quality import collect_warnings, data_warning
from r2k.methodology.rule_sets import RuleSet, rule_set_for
from r2k.methodology.schedule import reconstitution_for_rank_day
from r2k.workflows import pipeline, recon_cache
from r2k.workflows.recon_run import ReconRun

RANK_DAY = date(2026, 4, 30)
AS_OF = date(2026, 6, 25)


def _assert_same(a: ReconRun, b: ReconRun) -> None:
    for f in fields(ReconRun):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "result":
            for g in fields(Reconstitution):
                u, v = getattr(x, g.name), getattr(y, g.name)
                if isinstance(u, pl.DataFrame):
                    assert_frame_equal(u, v, check_exact=True)
                else:
                    assert u == v, g.name
        elif isinstance(x, pl.DataFrame):
            assert_frame_equal(x, y, check_exact=True)
        else:
            assert x == y, f.name


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv(recon_cache.ENV_DISABLE, raising=False)
    return home / "r2k" / "recon"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.r2kc")) if folder.is_dir() else []


# --- the real run ---------------------------------------------------------------------


def test_hit_equals_miss_on_the_real_run(
    data_dir: DataDir, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    miss = recon_cache.cached_reconstitution(data_dir, RANK_DAY, as_of=AS_OF)
    assert len(_entries(cache_home)) == 1

    def fail(*args: object, **kwargs: object) -> ReconRun:
        raise AssertionError("a hit must not run the pipeline")

    monkeypatch.setattr(pipeline, "run_reconstitution", fail)
    hit = recon_cache.cached_reconstitution(data_dir, RANK_DAY, as_of=AS_OF)
    _assert_same(hit, miss)
    assert hit.result.counts() == miss.result.counts()
    assert hit.result.change_counts() == miss.result.change_counts()


def test_cli_json_is_the_same_from_the_cache(
    data_dir: DataDir, cache_home: Path, tmp_path: Path
) -> None:
    # The command itself, run twice in fresh interpreters: a miss then a hit.
    import subprocess

    argv = [
        str(Path(sys.executable).with_name("r2k")),
        "reconstitute",
        "--rank-day",
        str(RANK_DAY),
        "--data",
        str(data_dir.root),
        "--store",
        str(tmp_path / "s.duckdb"),
        "--json",
    ]
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home.parents[1]))
    runs = [
        subprocess.run(argv, env=env, capture_output=True, check=True) for _ in "ab"
    ]
    first, second = (json.loads(run.stdout) for run in runs)
    assert len(_entries(cache_home)) == 1
    assert (first.pop("stored"), second.pop("stored")) == (True, False)
    assert first == second


# --- the mechanics, with a stand-in run ----------------------------------------------


def _stand_in(rank_day: date = RANK_DAY, as_of: date | None = None) -> ReconRun:
    frame = pl.DataFrame(
        {"security_id": ["AAA", "BBB"], "x": [1.5, None], "d": [rank_day, None]}
    )
    result = Reconstitution(
        rank_day=rank_day,
        effective_date=date(2026, 6, 26),
        rules="test@1",
        rules_digest="abc",
        membership=frame,
        exclusions=frame.head(1),
        changes=frame.tail(1),
        breakpoints=pl.DataFrame({"name": ["r1000"], "cap": [float("nan")]}),
        float_ownership_ratio=None,
    )
    return ReconRun(
        result=result,
        schedule=reconstitution_for_rank_day(rank_day),
        universe_source="u",
        incumbent_source="i",
        universe_ids=frozenset({"AAA", "BBB"}),
        inputs={"a.csv": "00ff"},
        repairs=pl.DataFrame(schema={"security_id": pl.String, "repair": pl.String}),
        notes=("one", "two — ±"),
        as_of=as_of,
    )


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> list[date | None]:
    """The pipeline replaced by :func:`_stand_in`, which warns; its calls' as_of."""
    calls: list[date | None] = []

    def run(
        data: DataDir,
        rank_day: date,
        *,
        rules: RuleSet | None = None,
        as_of: date | None = None,
    ) -> ReconRun:
        calls.append(as_of)
        data_warning("panel.parquet: 2 exact duplicate rows dropped")
        return _stand_in(rank_day, as_of)

    monkeypatch.setattr(pipeline, "run_reconstitution", run)
    return calls


@pytest.fixture
def small_data(tmp_path: Path) -> DataDir:
    root = tmp_path / "data"
    (root / "market").mkdir(parents=True)
    (root / "market" / "panel.parquet").write_bytes(b"panel")
    (root / "README.md").write_text("data")
    return DataDir.resolve(root)


def _cached(data: DataDir, as_of: date | None = None) -> ReconRun:
    """Through the cache, the stand-in's warning collected (not an error)."""
    with collect_warnings():
        return recon_cache.cached_reconstitution(data, RANK_DAY, as_of=as_of)


def test_encode_decode_round_trip() -> None:
    run = _stand_in(as_of=AS_OF)
    back, warned = recon_cache.decode(recon_cache.encode(run, "k", ["w1", "w2"]), "k")
    _assert_same(back, run)
    assert warned == ["w1", "w2"]
    with pytest.raises(ValueError, match="another key"):
        recon_cache.decode(recon_cache.encode(run, "k", []), "other")


def test_second_call_is_a_hit_with_the_same_warnings(
    small_data: DataDir, cache_home: Path, stand_in: list[date | None]
) -> None:
    seen = []
    for _ in range(2):
        with collect_warnings() as found:
            run = recon_cache.cached_reconstitution(small_data, RANK_DAY)
        seen.append(found)
        _assert_same(run, _stand_in())
    assert stand_in == [None]  # computed once
    assert seen == [["panel.parquet: 2 exact duplicate rows dropped"]] * 2
    assert len(_entries(cache_home)) == 1


def test_key_follows_data_question_and_rules(
    small_data: DataDir, cache_home: Path, stand_in: list[date | None]
) -> None:
    rules = rule_set_for(RANK_DAY)
    key = recon_cache.cache_key(small_data, RANK_DAY, RANK_DAY, rules)
    assert key == recon_cache.cache_key(small_data, RANK_DAY, RANK_DAY, rules)
    assert key != recon_cache.cache_key(small_data, RANK_DAY, AS_OF, rules)
    other = replace(rules, digest="another rule file")
    assert key != recon_cache.cache_key(small_data, RANK_DAY, RANK_DAY, other)
    panel = small_data.root / "market" / "panel.parquet"
    stat = panel.stat()
    os.utime(panel, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))
    assert key != recon_cache.cache_key(small_data, RANK_DAY, RANK_DAY, rules)
    # and through the cache: a new file, a new computation
    _cached(small_data)
    (small_data.root / "market" / "new.csv").write_text("x")
    _cached(small_data)
    _cached(small_data, AS_OF)
    assert stand_in == [None, None, AS_OF]
    assert len(_entries(cache_home)) == 3


def test_linked_folders_count_in_the_key(small_data: DataDir, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "market").symlink_to(small_data.root / "market")
    data = DataDir.resolve(linked)
    rules = rule_set_for(RANK_DAY)
    key = recon_cache.cache_key(data, RANK_DAY, RANK_DAY, rules)
    (small_data.root / "market" / "panel.parquet").write_bytes(b"a longer panel")
    assert key != recon_cache.cache_key(data, RANK_DAY, RANK_DAY, rules)


def test_off_with_the_environment_variable(
    small_data: DataDir,
    cache_home: Path,
    stand_in: list[date | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(recon_cache.ENV_DISABLE, "1")
    for _ in range(2):
        _cached(small_data)
    assert stand_in == [None, None]
    assert not cache_home.exists()


def test_never_inside_the_data_directory(
    small_data: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(recon_cache.ENV_DISABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(small_data.root / "cache"))
    assert recon_cache.cache_dir(small_data) is None


def test_an_unreadable_entry_is_recomputed_and_replaced(
    small_data: DataDir, cache_home: Path, stand_in: list[date | None]
) -> None:
    _cached(small_data)
    (entry,) = _entries(cache_home)
    for garbage in (b"", b"R2KRECON 1\n\xff\xff", entry.read_bytes()[:-40]):
        entry.write_bytes(garbage)
        _assert_same(_cached(small_data), _stand_in())
    assert stand_in == [None] * 4
    _assert_same(recon_cache.decode(entry.read_bytes(), entry.stem)[0], _stand_in())


def test_old_entries_are_pruned(
    small_data: DataDir,
    cache_home: Path,
    stand_in: list[date | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recon_cache, "MAX_ENTRIES", 2)
    for day in (date(2026, 4, 30), date(2026, 5, 1), date(2026, 5, 4)):
        _cached(small_data, day)
    assert len(_entries(cache_home)) == 2
