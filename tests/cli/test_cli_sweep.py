"""``r2k sweep``: the comparison table, local and on a local Dask cluster.

The command runs through ``r2k.cli.app.main`` (errors are one line on stderr,
exit code 2). The Dask run starts its own local cluster of two worker processes
(``--workers 2``, on 127.0.0.1) and must write the same table as ``local``.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.cli.sweep import register
from tests.cli._driver import run_cli

if TYPE_CHECKING:
    import typer

DASK = ["--backend", "dask", "--workers", "2"]
WINDOW = ["--synthetic", "--companies", "400", "--seed", "3", "--start", "2016"]


PACKAGED = (
    Path(__file__).parents[2] / "src/r2k/methodology/rules/russell_us_current.toml"
)


def _set(text: str, key: str, value: float) -> str:
    new, n = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {value}  ", text)
    assert n == 1, key
    return new


def write_variants(folder: Path) -> list[Path]:
    """small.toml (sizes for 400 companies), wide.toml (band 10%), price2.toml."""
    small = PACKAGED.read_text(encoding="utf-8")
    sizes = {"r3000e_size": 400, "r3000_size": 300, "r1000_size": 100}
    sizes |= {"top200_size": 20, "top500_size": 50, "microcap_top": 200}
    for key, size in sizes.items():
        small = _set(small, key, size)
    files = {
        "small": small,
        "wide": _set(small, "r1000_band_pct", 10.0),
        "price2": _set(small, "min_price", 2.0),
    }
    for name, text in files.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return [folder / f"{name}.toml" for name in files]


def _register(app: typer.Typer) -> None:
    register(app)
    app.command("noop")(lambda: None)  # two commands: "sweep" stays a subcommand


_run = functools.partial(run_cli, register=_register)


def _rules(folder: Path) -> list[str]:
    args = []
    for path in write_variants(folder):
        args += ["--rules", str(path)]
    return args


def test_local_and_dask_write_the_same_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = _rules(tmp_path)
    local, dask = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    code, out, err = _run(
        ["sweep", *rules, *WINDOW, "--end", "2017", "--out", str(local), "--json"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["backend"] == "local"
    assert [v["variant"] for v in payload["variants"]] == ["small", "wide", "price2"]
    code, out, err = _run(
        ["sweep", *rules, *WINDOW, "--end", "2017", "--out", str(dask), *DASK],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert "dask, 2 worker(s)" in out
    assert "written to" in out
    assert_frame_equal(pl.read_parquet(dask), pl.read_parquet(local), check_exact=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "ray"], "ray is not supported"),
        (["--backend", "spark"], "--backend 'spark'"),
        (["--address", "tcp://127.0.0.1:1"], "--address needs --backend dask"),
        (["--rules", "missing.toml"], "missing.toml: cannot be read"),
        (["--start", "2019"], "must be after"),
        (["--start", "20x6"], "write a year"),
        (["--data", "."], "--synthetic and --data"),
    ],
)
def test_errors_are_one_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = ["sweep", *WINDOW, "--end", "2017", "--out", str(tmp_path / "t.parquet")]
    code, out, err = _run([*base, *args, "--json"], capsys, monkeypatch)
    assert code == 2
    assert message in json.loads(out)["message"]
    assert err.strip().count("\n") == 0
