"""Charts: every chart renders, is labelled, and saves as a valid PNG atomically."""

from __future__ import annotations

import struct
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from matplotlib.figure import Figure

from r2k.analytics.analysis import Analysis, analyze
from r2k.analytics.characteristics import Characteristics, index_characteristics
from r2k.errors import MethodologyError, MissingDataError
from r2k.reporting import charts
from r2k.workflows.explain import analyze_index

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk (bytes 16-24 of a PNG)."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def toy() -> Analysis:
    rng = np.random.default_rng(7)
    n = 900
    levels = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n)))
    days = [date(2020, 1, 1) + timedelta(days=k) for k in range(n)]
    frame = pl.DataFrame({"session": days, "level": levels})
    bench = pl.DataFrame(
        {"session": days, "level": 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))}
    )
    return analyze(frame, benchmarks={"SPX": bench}, name="TOY")


@pytest.fixture(scope="module")
def traits() -> Characteristics:
    day = date(2026, 7, 22)
    ids = [f"S{k:03d}" for k in range(60)]
    caps = np.geomspace(5e7, 8e9, 60)
    cons = pl.DataFrame(
        {
            "session": [day] * 60,
            "security_id": ids,
            "index_shares": caps / 20.0,
            "close": [10.0] * 60,
        }
    )
    market = pl.DataFrame(
        {
            "session": [day] * 60,
            "security_id": ids,
            "name": ids,
            "close": [10.0] * 60,
            "volume": [1_000] * 60,
            "total_market_cap": caps,
            "sector": [
                ("Finance", "Health Care", "Technology")[k % 3] for k in range(60)
            ],
        }
    )
    return index_characteristics(cons, market)


def _labelled(fig: Figure) -> None:
    ax = fig.axes[0]
    assert ax.get_title()
    assert ax.get_xlabel()
    assert ax.get_ylabel()


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_every_chart_renders_labelled(
    name: str, toy: Analysis, traits: Characteristics
) -> None:
    fig = charts.chart_by_name(name, toy, traits)
    assert isinstance(fig, Figure)
    _labelled(fig)
    data = charts.png_bytes(fig)
    width, height = _png_size(data)
    assert width >= 800
    assert height >= 250
    assert 5_000 < len(data) < 1_000_000
    assert b"matplotlib.org" not in data  # no URL in the metadata


def test_level_chart_axes_and_legend(toy: Analysis) -> None:
    fig = charts.level_chart(toy)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[0] == "TOY"
    assert "S&P 500 (SPX)" in labels
    assert "rebased (start = 100)" in ax.get_ylabel()
    # the index line starts at 100
    first = np.asarray(ax.get_lines()[0].get_ydata())[0]
    assert first == pytest.approx(100.0)


def test_save_png_is_atomic(tmp_path: Path, toy: Analysis) -> None:
    target = tmp_path / "dd.png"
    target.write_bytes(b"old")
    path = charts.save_png(charts.drawdown_chart(toy), target)
    assert path == target
    data = target.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert _png_size(data) == (1000, 460)  # 10 x 4.6 inches at 100 dpi
    assert [p.name for p in tmp_path.iterdir()] == ["dd.png"]  # no temporary left
    with pytest.raises(FileNotFoundError):
        charts.save_png(charts.roc_chart(toy), tmp_path / "missing" / "x.png")
    assert [p.name for p in tmp_path.iterdir()] == ["dd.png"]


@pytest.mark.parametrize(
    ("suffix", "magic"),
    [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<?xml"), ("pdf", b"%PDF-")],
)
def test_save_figure_writes_the_format_of_the_suffix(
    tmp_path: Path, toy: Analysis, suffix: str, magic: bytes
) -> None:
    target = tmp_path / f"dd.{suffix.upper() if suffix == 'pdf' else suffix}"
    path = charts.save_figure(charts.drawdown_chart(toy), target)
    data = path.read_bytes()
    assert data.startswith(magic)
    if suffix == "svg":
        assert b"<svg" in data
    # no creation date: the same figure gives the same bytes
    again = charts.figure_bytes(charts.drawdown_chart(toy), suffix)
    assert again == data


def test_save_figure_refuses_an_unknown_suffix(tmp_path: Path, toy: Analysis) -> None:
    for name in ("dd.jpg", "dd"):
        with pytest.raises(MethodologyError, match=r"not a chart format; name a \.png"):
            charts.save_figure(charts.drawdown_chart(toy), tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    assert charts.figure_format("x.Svg") == "svg"


def test_chart_errors(toy: Analysis) -> None:
    with pytest.raises(MethodologyError, match="unknown chart 'pie'; choose one of"):
        charts.chart_by_name("pie", toy)
    with pytest.raises(MissingDataError, match="needs index characteristics"):
        charts.chart_by_name("sectors", toy)
    with pytest.raises(MissingDataError, match="no benchmark 'RUA'"):
        charts.relative_chart(toy, benchmark="RUA")


def test_real_rut_level_chart(data_dir: DataDir) -> None:
    a = analyze_index(data_dir, "RUT")
    fig = charts.level_chart(a)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"  # RUT rose 17-fold since 1987
    assert "1987-09-10 to 2026-06-26" in ax.get_title()
    # one shaded span per rally and per range-bound period
    assert len(ax.patches) == a.rallies.height + a.ranges.height
    _png_size(charts.png_bytes(fig))
