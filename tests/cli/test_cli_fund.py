"""``r2k fund simulate``: real data over a short window, the synthetic market, errors.

Driven in process through :func:`r2k.cli.app.main` (as the ``r2k`` script runs).
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest

from r2k.data.sources.ishares import read_holdings
from tests.cli._driver import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir

SYNTHETIC = ["--synthetic", "--companies", "1500", "--start", "2024-01-02"]
ZERO_COSTS = [
    "--commission-bps",
    "0",
    "--half-spread-bps",
    "0,0,0,0",
    "--impact-bps",
    "0",
    "--fractional",
    "--drift-band",
    "0",
]


def run(
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[int, str, str]:
    return run_cli(["fund", "simulate", *args], capsys, monkeypatch)


def test_real_r2000_full_replication_against_iwm(
    data_dir: DataDir,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "fund"
    code, stdout, err = run(
        [
            "--data",
            str(data_dir.root),
            "--start",
            "2026-04-01",
            "--end",
            "2026-05-05",
            "--aum",
            "1e9",
            "--out",
            str(out),
            "--json",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["method"] == "full"
    assert summary["tracking"]["periods_per_year"] == 252
    # The IWM files of 2026-04-10 and 2026-05-05 fall in the window.
    proof = {row["date"]: row for row in summary["proof"]["files"]}
    assert set(proof) == {"2026-04-10", "2026-05-05"}
    for row in proof.values():
        # IWM holds the ~190 foreign-domiciled lines the market panel lacks
        # (README of the data: about 7% of IWM's value); the rest agrees closely.
        assert 0.05 < row["active_share"] < 0.15
        assert row["active_share_common_lines"] < 0.03
        assert row["lines_differ"] == row["lines_only_fund"] + row["lines_only_iwm"]
        assert row["lines_common"] > 1600
    nav = pl.read_csv(out / "nav.csv", try_parse_dates=True)
    assert nav["session"][0] == date(2026, 4, 1)
    assert nav["session"][-1] == date(2026, 5, 5)
    # The panel has no dividends: the index's total return is its price return.
    assert nav["dividends"].sum() == 0
    files = sorted(p.name for p in (out / "holdings").iterdir())
    assert files == ["SIMF_2026-04-10.csv", "SIMF_2026-05-05.csv"]
    held = read_holdings(out / "holdings" / "SIMF_2026-05-05.csv")
    assert held.fund == "SIMF"
    assert held.as_of == date(2026, 5, 5)
    assert held.equities.height == proof["2026-05-05"]["lines_fund"]
    assert held.frame["weight_pct"].sum() == pytest.approx(100.0, abs=0.5)
    assert (held.equities["quantity"] == held.equities["quantity"].round()).all()


def test_synthetic_zero_costs_tracks_the_index(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """End to end, with every corporate action of the synthetic market: the
    ideal fund (no costs, fractional shares, no band) is the index."""
    out = tmp_path / "ideal"
    args = [*SYNTHETIC, "--end", "2024-06-28", *ZERO_COSTS, "--out", str(out)]
    code, stdout, err = run(args, capsys, monkeypatch)
    assert code == 0, err
    assert "tracking error" in stdout
    nav = pl.read_csv(out / "nav.csv")
    gap = np.abs(nav["nav"].to_numpy() / nav["index_tr"].to_numpy() - 1).max()
    assert gap < 1e-10
    assert nav["dividends"].sum() > 0  # the synthetic market pays dividends
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tracking"]["costs_usd"] == 0
    assert "proof" not in summary


def test_synthetic_sampling_with_flows(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text("date,flow_usd\n2024-02-01,50000000\n2024-03-01,-20000000\n")
    out = tmp_path / "sampled"
    args = [
        *SYNTHETIC,
        "--end",
        "2024-03-28",
        "--method",
        "sampling",
        "--names",
        "60",
        "--flows",
        str(flows),
        "--out",
        str(out),
        "--json",
    ]
    code, stdout, err = run(args, capsys, monkeypatch)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["names"] == 60
    assert summary["lines_held_end"] <= 60
    against = summary["against_full_replication"]
    assert against["tracking_error"] > 0
    assert summary["tracking"]["commission_usd"] > 0
    nav = pl.read_csv(out / "nav.csv", try_parse_dates=True)
    assert nav.filter(pl.col("flow") != 0)["session"].to_list() == [
        date(2024, 2, 1),
        date(2024, 3, 1),
    ]
    assert nav["reselected"][0]
    assert (out / "holdings" / "SIMF_2024-03-28.csv").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "magic"], "--method 'magic'"),
        (["--names", "0"], "names=0"),
        (["--aum", "-5"], "aum=-5"),
        (["--half-spread-bps", "1,2"], "four numbers"),
        (["--commission-bps", "-1"], "must be finite and >= 0"),
        (["--end", "2023-12-01"], "must be after"),
        (["--data", "."], "--synthetic and --data"),
        (["--index", "r9000"], "--index 'r9000'"),
    ],
)
def test_bad_arguments_are_one_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = [*SYNTHETIC, "--end", "2024-03-28", "--out", str(tmp_path / "o")]
    code, stdout, err = run([*base, *args, "--json"], capsys, monkeypatch)
    assert code == 2
    assert message in json.loads(stdout)["message"]
    assert err.strip().count("\n") == 0
    assert not (tmp_path / "o").exists()


def test_output_and_flows_are_checked_before_any_work(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    base = [*SYNTHETIC, "--end", "2024-03-28"]
    code, stdout, _err = run(
        [*base, "--out", str(blocker), "--json"], capsys, monkeypatch
    )
    assert code == 2
    assert "is a file, not a folder" in json.loads(stdout)["message"]
    flows = tmp_path / "flows.csv"
    flows.write_text("date,flow_usd\n2025-02-03,1000\n")
    out = tmp_path / "o"
    args = [*base, "--flows", str(flows), "--out", str(out), "--json"]
    code, stdout, _err = run(args, capsys, monkeypatch)
    assert code == 2
    assert "outside the window" in json.loads(stdout)["message"]
    flows.write_text("date,flow_usd\n2024-02-03,abc\n")
    code, stdout, _err = run(args, capsys, monkeypatch)
    assert code == 2
    assert "line 2" in json.loads(stdout)["message"]
    assert not out.exists()
