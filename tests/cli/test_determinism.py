"""Determinism: the same command on the same inputs gives the same bytes.

Every command of the ``r2k`` app (found by walking the Typer app, sub-apps
included) has at least one case below, or a commented entry in :data:`SKIP` when
it writes nothing; a new command with neither fails
:func:`test_every_command_has_a_determinism_case`.

Each case runs twice, at the same time, each in a new working folder (paths in
the arguments are relative to it), on the real data read in place: once in this
process through :func:`r2k.cli.app.main`, once as a new ``r2k`` process with
another ``PYTHONHASHSEED``. A new process also draws new Polars hash seeds,
which order the groups of a ``group_by`` and the rows of some joins: an output
that follows such an order differs between processes, never within one (the
repairs of ``reconstitute --json`` did). Then:

* every file written (CSV, Parquet, JSON, HTML, PNG, SVG, PDF) has the same bytes;
* a DuckDB store has the same rows in every table, less the columns that hold
  the time of a write (:data:`STORE_TIMESTAMPS`): the file's own bytes carry
  DuckDB's block layout, which is not r2k's output;
* the ``--json`` object on stdout is the same, less the keys in
  :data:`VOLATILE_KEYS` (durations);
* the exit code is the same (and the expected one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb
import polars as pl
import pytest
import typer.main

from r2k.cli.app import app, main

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir

R2K = str(Path(sys.executable).parent / "r2k")

#: Keys of a --json object whose value is not the command's result but how long it
#: took (``r2k sweep``: the whole sweep and each variant's task, in seconds).
VOLATILE_KEYS = frozenset({"seconds", "task_seconds"})
#: Store columns holding the wall-clock time of a write.
STORE_TIMESTAMPS = frozenset({"loaded_at", "created_at", "saved_at", "restated_at"})
#: A week calculated into ``s.duckdb``: the store that ``run``, ``check`` and
#: ``export constituents`` read.
WEEK = "calculate --start 2026-01-02 --end 2026-01-09 --data {data} --store s.duckdb"
RUT_WINDOW = "--start 2025-01-02 --end 2026-06-26"


class Case(NamedTuple):
    """A command line, what runs before it in the same folder, its exit code.

    Both are the words after ``r2k``, split on spaces; ``{data}`` is the data
    directory. Paths are relative to the working folder.
    """

    args: str
    setup: str = ""
    code: int = 0


#: Commands that write no output of their own, and why.
SKIP: dict[str, str] = {
    # a long-running HTTP server: it writes no file and prints no result; its
    # answers are those of the API, tested in tests/api
    "serve": "a server, no output",
}

#: Command (its words after ``r2k``) -> the cases that run it.
CASES: dict[str, list[Case]] = {
    "calendar": [Case("calendar 2026 --json")],
    "version": [Case("version --json")],
    "reconstitute": [
        Case(
            "reconstitute --rank-day 2026-04-30 --data {data} "
            "--out membership.parquet --store s.duckdb --json"
        )
    ],
    "calculate": [
        Case(
            "calculate --start 2026-01-02 --end 2026-01-13 --return total "
            "--data {data} --out levels.parquet --store s.duckdb --json"
        )
    ],
    "run": [
        Case(
            "run --session 2026-01-12 --data {data} --store s.duckdb --json",
            setup=WEEK,
        )
    ],
    # the real-data demo: membership Parquet and levels CSV in ./out, the store
    "demo": [Case("demo --data {data} --store s.duckdb --json")],
    "analyze": [
        Case(f"analyze --data {{data}} {RUT_WINDOW} --json"),
        Case("analyze --data {data} --currency EUR --json"),
    ],
    "report": [Case(f"report --out report.html --data {{data}} {RUT_WINDOW} --json")],
    "plot": [
        Case(f"plot --chart level --out level.png --data {{data}} {RUT_WINDOW} --json"),
        Case("plot --chart sectors --out sectors.svg --data {data} --json"),
        Case("plot --chart currency --currency EUR --out fx.pdf --data {data} --json"),
    ],
    "rates": [Case("rates --data {data} --json")],
    "preview": [
        Case("preview --rank-day 2026-04-30 --data {data} --out preview.csv --json")
    ],
    "recon-effect": [Case("recon-effect --rank-day 2026-04-30 --data {data} --json")],
    # 1,200 companies: the packaged rule set's Russell 2000 has members
    "sweep": [
        Case(
            "sweep --synthetic --companies 1200 --seed 3 --start 2016 --end 2017 "
            "--out sweep.csv --json"
        )
    ],
    "check": [Case("check --data {data} --store s.duckdb --json", setup=WEEK)],
    # the data hold no membership snapshot far enough after any effective date
    # the panel reaches (exit 3): the result is the error object, still the same
    "validate recon": [
        Case("validate recon --effective 2026-06-26 --data {data} --json", code=3)
    ],
    "validate tracking": [
        Case(
            "validate tracking --start 2026-01-02 --end 2026-01-13 --data {data} --json"
        )
    ],
    "validate preview": [
        Case("validate preview --effective 2026-06-26 --data {data} --json")
    ],
    "export constituents": [
        Case(
            "export constituents --session 2026-01-09 --data {data} "
            "--store s.duckdb --out constituents.csv --json",
            setup=WEEK,
        )
    ],
    "export changes": [
        Case(
            "export changes --rank-day 2026-04-30 --data {data} --out changes.json "
            "--json"
        )
    ],
    "fund simulate": [
        Case(
            "fund simulate --data {data} --start 2026-01-02 --end 2026-01-30 "
            f"--method {method} --names 300 --out fund --json"
        )
        for method in ("sampling", "optimized")
    ],
}


def _commands(command: Any, words: tuple[str, ...] = ()) -> list[str]:
    """The leaf commands under ``command``, as their words after ``r2k``."""
    subs = getattr(command, "commands", None)
    if subs is None:
        return [" ".join(words)]
    return [
        name
        for word, sub in sorted(subs.items())
        for name in _commands(sub, (*words, word))
    ]


def test_every_command_has_a_determinism_case() -> None:
    commands = set(_commands(typer.main.get_command(app)))
    missing = sorted(commands - CASES.keys() - SKIP.keys())
    assert not missing, (
        f"commands without a determinism case (or SKIP entry): {missing}"
    )
    gone = sorted((CASES.keys() | SKIP.keys()) - commands)
    assert not gone, f"cases of commands that no longer exist: {gone}"
    assert not CASES.keys() & SKIP.keys()


class Result(NamedTuple):
    code: int
    stdout: str
    files: dict[str, bytes]
    stores: dict[str, dict[str, pl.DataFrame]]


def _in_process(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    sys.argv = ["r2k", *args]
    code = 0
    with warnings.catch_warnings():
        # as on the command line: a data-quality warning is shown, not raised
        warnings.simplefilter("default")
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, captured.out


def _new_process(args: list[str], work: Path) -> tuple[int, str]:
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    done = subprocess.run(
        [R2K, *args],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
        env=os.environ | {"PYTHONHASHSEED": seed},
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def _store(path: Path) -> dict[str, pl.DataFrame]:
    """Every table of a store, sorted, less the write timestamps (read only)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {}
        for (name,) in sorted(con.sql("SHOW TABLES").fetchall()):
            cols = [c for c in con.table(name).columns if c not in STORE_TIMESTAMPS]
            listed = ", ".join(f'"{c}"' for c in cols)
            sql = f'SELECT {listed} FROM "{name}" ORDER BY ALL'
            tables[str(name)] = pl.from_arrow(con.sql(sql).to_arrow_table())
    finally:
        con.close()
    return tables  # type: ignore[return-value]


def _run(
    case: Case,
    data: Path,
    work: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    in_process: bool,
) -> Result:
    """Run ``case`` in a new ``work`` folder; what it wrote and printed."""
    work.mkdir(parents=True)
    if in_process:
        os.chdir(work)  # ./out of `demo`; the test's monkeypatch changes it back

    def call(args: str) -> tuple[int, str]:
        words = [str(data) if a == "{data}" else a for a in args.split()]
        return _in_process(words, capsys) if in_process else _new_process(words, work)

    if case.setup:
        code, _ = call(case.setup)
        assert code == 0
    code, stdout = call(case.args)
    files = {}
    stores = {}
    for path in sorted(p for p in work.rglob("*") if p.is_file()):
        name = path.relative_to(work).as_posix()
        if path.suffix == ".duckdb":
            stores[name] = _store(path)
        else:
            files[name] = path.read_bytes()
    return Result(code, stdout, files, stores)


def _drop_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _drop_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS
        }
    if isinstance(value, list):
        return [_drop_volatile(v) for v in value]
    return value


def _first_difference(a: bytes, b: bytes) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
        min(len(a), len(b)),
    )
    return f"{len(a)} vs {len(b)} bytes, first difference at byte {at}: " + repr(
        (a[max(at - 60, 0) : at + 60], b[max(at - 60, 0) : at + 60])
    )


_PARAMS = [
    pytest.param(name, case, id=f"{name}-{i}" if len(cases) > 1 else name)
    for name, cases in CASES.items()
    for i, case in enumerate(cases)
]


@pytest.mark.parametrize(("name", "case"), _PARAMS)
def test_same_inputs_give_the_same_outputs(
    name: str,
    case: Case,
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here, there = tmp_path / "1" / "work", tmp_path / "2" / "work"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["r2k"])  # restored after the test
    monkeypatch.delenv("R2K_STORE", raising=False)
    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(_run, case, data_dir.root, there, capsys, in_process=False)
        first = _run(case, data_dir.root, here, capsys, in_process=True)
        second = later.result()

    assert first.code == case.code, first.stdout
    assert second.code == first.code
    assert first.stdout.strip(), f"{name} printed nothing"
    if "--json" in case.args.split():
        # as text, so the order of the keys counts too
        one, two = (
            json.dumps(_drop_volatile(json.loads(r.stdout))).encode()
            for r in (first, second)
        )
        assert one == two, "--json: " + _first_difference(one, two)
    else:
        assert first.stdout == second.stdout
    assert first.files.keys() == second.files.keys()
    for file, content in first.files.items():
        assert content == second.files[file], f"{file}: " + _first_difference(
            content, second.files[file]
        )
    assert first.stores.keys() == second.stores.keys()
    for store, tables in first.stores.items():
        assert tables.keys() == second.stores[store].keys()
        for table, frame in tables.items():
            assert frame.equals(second.stores[store][table]), f"{store}: {table}"
    # the case exercises what it is meant to: its output files were written
    words = case.args.split()
    outs = [words[i + 1] for i, a in enumerate(words) if a == "--out"]
    for out in outs:  # a file, or a folder of files
        assert any(f == out or f.startswith(f"{out}/") for f in first.files), out
