"""CLI polish: --json everywhere (errors too), progress on stderr, chart formats,
readable tables and company names."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest
import typer.main
from rich.console import Console

from r2k.cli import app as app_module
from r2k.cli import options
from r2k.cli.app import app
from r2k.errors import MissingDataError, R2KError
from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import click

    from r2k.data.datadir import DataDir

ERROR_KEYS = {"error", "message", "hint"}


_run = run_cli


def _json_error(out: str, err: str) -> dict[str, str]:
    """The error object: the whole of stdout, one line; stderr the usual line."""
    assert err.startswith("r2k: ")
    assert len(err.strip().splitlines()) == 1
    assert len(out.strip().splitlines()) == 1
    payload: dict[str, str] = json.loads(out)
    assert set(payload) == ERROR_KEYS
    assert all(isinstance(v, str) and v for v in payload.values())
    return payload


def _commands(group: click.Group, path: str = "r2k") -> Iterator[tuple[str, object]]:
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        if sub is not None:
            yield from _commands(command, f"{path} {name}")  # type: ignore[arg-type]
        else:
            yield f"{path} {name}", command


# ------------------------------------------------------------------ --json


def test_every_command_takes_json() -> None:
    root = typer.main.get_command(app)
    commands = dict(_commands(root))  # type: ignore[arg-type]
    assert {"r2k calculate", "r2k plot", "r2k report", "r2k serve"} <= set(commands)
    assert "r2k export constituents" in commands
    assert "r2k validate tracking" in commands
    missing = [
        name
        for name, command in commands.items()
        if not any("--json" in p.opts for p in command.params)  # type: ignore[attr-defined]
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["calendar", "x"], "usage", "Invalid value for 'year'"),
        (["calculate", "--start", "2026-07-01"], "usage", "Missing option '--end'"),
        (["calendar", "1900"], "methodology", "is outside 1979..2039"),
        (["nosuch"], "usage", "No such command 'nosuch'"),
        (
            ["calculate", "--start", "2026-07-02", "--end", "2026-07-01"],
            "usage",
            "must be after --start",
        ),
    ],
)
def test_json_errors_are_objects_on_stdout(
    args: list[str],
    error: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = _run([*args, "--json"], capsys, monkeypatch)
    assert code == 2
    payload = _json_error(out, err)
    assert payload["error"] == error
    assert message in payload["message"]
    assert message in " ".join(err.split())
    if error == "usage":
        assert payload["hint"].startswith("run `r2k")
        assert "--help` for the options" in payload["hint"]


def test_json_error_of_a_missing_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "nowhere")
    code, out, err = _run(["analyze", "--data", missing, "--json"], capsys, monkeypatch)
    assert code == 2
    payload = _json_error(out, err)
    assert payload["error"] == "data_directory"
    assert "does not exist" in payload["message"]
    assert "--data DIR or set $R2K_DATA" in payload["hint"]


def test_json_error_of_an_empty_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "empty.duckdb")
    args = ["run", "--session", "2026-07-21", "--store", store, "--json"]
    code, out, err = _run(args, capsys, monkeypatch)
    assert code == 2
    payload = _json_error(out, err)
    assert payload["error"] == "r2k"
    assert "run `r2k calculate" in payload["message"]


def test_errors_without_json_stay_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _run(["calendar", "1900"], capsys, monkeypatch)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("r2k: error:")
    assert "{" not in err


def test_json_only_counts_before_a_double_dash() -> None:
    assert app_module._wants_json(["calendar", "2026", "--json"])
    assert not app_module._wants_json(["calendar", "--", "--json"])
    assert app_module._error_code(MissingDataError("x")) == "missing_data"
    assert app_module._error_code(R2KError("x")) == "r2k"


def test_version_and_help_with_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(["version", "--json"], capsys, monkeypatch)
    assert code == 0
    assert set(json.loads(out)) == {"version"}
    code, out, _ = _run(["--version"], capsys, monkeypatch)
    assert code == 0
    assert out.startswith("r2k ")
    code, out, _ = _run(["calendar", "--help", "--json"], capsys, monkeypatch)
    assert code == 0
    assert "Usage" in out


# ------------------------------------------------------------------ progress


def test_progress_shows_on_a_terminal_stderr_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(options, "err", terminal)
    with options.progress("calculating [r2000] ..."):
        pass
    assert "calculating [r2000] ..." in screen.getvalue()  # no markup eaten
    quiet = io.StringIO()
    monkeypatch.setattr(options, "err", Console(file=quiet, force_terminal=False))
    with options.progress("calculating ..."):
        pass
    assert quiet.getvalue() == ""  # not a terminal: nothing, not even a blank line


def test_calendar_json_stdout_is_clean_with_progress(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _run(["calendar", "2027", "--json"], capsys, monkeypatch)
    assert code == 0
    assert json.loads(out)["year"] == 2027
    assert err == ""


# ------------------------------------------------------------------ tables


def test_mapping_tables_show_no_python_containers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app_module._print_mapping(
        "toy",
        {
            "events": {"stale_price": 2, "deletion": 1},
            "reconstitutions_applied": ["2026-06-26"],
            "nothing": [],
            "missing_prices": {"lines": 3, "treatment": "left out from the start"},
            "notes": ["the panel has a gap [sic]"],
        },
    )
    shown = capsys.readouterr().out
    assert "stale_price: 2, deletion: 1" in shown
    assert "2026-06-26" in shown
    assert "none" in shown
    assert "treatment" in shown
    assert "left out from the start" in shown
    assert "note: the panel has a gap [sic]" in shown
    for raw in ("{", "}", "['", "']", "[]"):
        assert raw not in shown


def test_calculate_table_is_readable(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = str(tmp_path / "r2k.duckdb")
    args = ["calculate", "--start", "2026-07-01", "--end", "2026-07-10"]
    code, out, _ = _run(
        [*args, "--data", str(data_dir.root), "--store", store], capsys, monkeypatch
    )
    assert code == 0, out
    assert "events" in out
    for raw in ("{'", "['", "{}", "[]"):
        assert raw not in out


# ------------------------------------------------------------------ plot formats


@pytest.mark.parametrize(
    ("name", "magic"),
    [("dd.svg", b"<?xml"), ("dd.pdf", b"%PDF-"), ("dd.png", b"\x89PNG")],
)
def test_plot_writes_the_format_of_the_suffix(
    name: str,
    magic: bytes,
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / name
    args = ["plot", "--data", str(data_dir.root), "--chart", "drawdown"]
    args += ["--start", "2020-01-02", "--out", str(target), "--json"]
    code, out, _ = _run(args, capsys, monkeypatch)
    assert code == 0, out
    assert json.loads(out) == {
        "chart": "drawdown",
        "out": str(target),
        "format": name.rsplit(".", 1)[1],
        "warnings": 0,  # the real files raise no data warning
        "warning_messages": [],
    }
    assert target.read_bytes().startswith(magic)


def test_plot_unknown_suffix_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "dd.jpg"
    args = ["plot", "--chart", "drawdown", "--out", str(target)]
    code, out, err = _run(args, capsys, monkeypatch)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert ".jpg is not a chart format; name a .png, .svg, .pdf file" in err
    assert not target.exists()
    code, out, err = _run([*args, "--json"], capsys, monkeypatch)
    assert code == 2
    assert _json_error(out, err)["error"] == "methodology"


# ------------------------------------------------------------------ names


def test_one_clean_name_helper() -> None:
    from r2k import names
    from r2k.workflows import exports

    assert exports.clean_name is names.clean_name
    assert exports.clean_names is names.clean_names
    assert names.clean_name("Acme Corp. Common Stock") == "Acme Corp."
    assert names.clean_name("Beta plc Ordinary Shares Class A") == "Beta plc Class A"
