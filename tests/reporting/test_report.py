"""The HTML report: its content, self-containment, images and atomic write."""

from __future__ import annotations

import base64
import re
import struct
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest

from r2k.analytics.analysis import analyze
from r2k.reporting.formatting import money, number, percent
from r2k.reporting.report import (
    ReportInputs,
    gather_report,
    render_report,
    write_report,
)

if TYPE_CHECKING:
    from pathlib import Path

    from r2k.data.datadir import DataDir

DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


@pytest.fixture(scope="module")
def real(data_dir: DataDir) -> tuple[ReportInputs, str]:
    inputs = gather_report(data_dir, index="RUT")
    return inputs, render_report(inputs)


def _without_images(text: str) -> str:
    return DATA_URI.sub("data:image/png;base64,", text)


def test_report_sections_and_numbers(real: tuple[ReportInputs, str]) -> None:
    inputs, text = real
    assert text.startswith("<!DOCTYPE html>")
    titles = re.findall(r"<h2>(.*?)</h2>", text)
    assert titles == [
        "Factsheet",
        "Summary",
        "Level vs large caps, rallies and range-bound periods",
        "Rate of change",
        "Rolling volatility",
        "Drawdowns",
        "Rallies",
        "Range-bound periods",
        "Index characteristics",
        "Sector mix",
        "Cap distribution",
        "Reconstitution effect",
        "Rates and the policy cycle",
        "Currencies",
        "Data provenance",
    ]
    # RUT since 1987: 855.77 (2007-07-13) to 343.26 (2009-03-09) is -59.89%
    assert "<td>-59.89% (2007-07-13 to 2009-03-09, recovered 2011-04-27)</td>" in text
    assert "<td>1987-09-10 to 2026-06-26</td>" in text
    assert "<td>9,772</td>" in text
    a = inputs.analysis
    assert f"({a.rallies.height})</caption>" in text
    assert f"Range-bound periods ({a.ranges.height};" in text
    assert "S&amp;P 500 (SPX)" in text
    # characteristics of both, overlap and turnover
    ours, theirs = inputs.index_characteristics, inputs.holdings_characteristics
    assert ours is not None
    assert theirs is not None
    assert "<th>r2k index</th><th>IWM holdings file</th>" in text
    assert f"<td>{ours.constituents:,}</td><td>{theirs.constituents:,}</td>" in text
    assert "S&amp;P 600 overlap" in text
    assert "one-way turnover" in text
    # provenance names the files and their dates
    assert "RUT_daily.csv" in text
    assert "IWM_2026-05-05.csv" in text
    assert "us_equities_daily_2025-12-26_2026-07-22.parquet" in text
    assert "round-half-even" in text


def test_report_reconstitution_effect(real: tuple[ReportInputs, str]) -> None:
    """Issue 11 item 4: the event study of the 2026 reconstitution in the report."""
    inputs, text = real
    effect = inputs.recon_effect
    assert effect is not None
    assert (str(effect.rank_day), str(effect.preliminary_list)) == (
        "2026-04-30",
        "2026-05-22",
    )
    assert str(effect.effective_date) == "2026-06-26"
    kinds = set(effect.summary["change"].to_list())
    assert {"add", "delete", "migrate_up", "migrate_down"} <= kinds
    # the path ends where the per-line windows end: the last session's mean CAR
    # equals the summary's whole-span mean for every kind of change
    last = effect.paths.group_by("change").agg(pl.col("car_mean").last())
    whole = effect.summary.select("change", "rank_to_post_20_mean")
    joined = last.join(whole, on="change")
    assert joined.height == len(kinds)
    for row in joined.iter_rows(named=True):
        assert row["car_mean"] == pytest.approx(row["rank_to_post_20_mean"], abs=1e-12)
    # adds rise against the benchmark into the effective date, deletes fall
    by_kind = {r["change"]: r for r in effect.summary.iter_rows(named=True)}
    assert (
        by_kind["add"]["rank_to_effective_mean"]
        > by_kind["delete"]["rank_to_effective_mean"]
    )
    assert 'id="recon-effect"' in text
    assert "preliminary lists 2026-05-22" in text


def test_report_is_self_contained(real: tuple[ReportInputs, str]) -> None:
    _, text = real
    images = DATA_URI.findall(text)
    # level, relative, roc, volatility, drawdown, rallies, ranges, for both
    # the r2k index and the IWM file: sectors and caps; the four rate charts
    # and the two currency charts; the reconstitution effect
    assert len(images) == 18
    assert text.count("<img ") == 18
    for encoded in images:
        png = base64.b64decode(encoded)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 800
        assert height >= 250
        assert 5_000 < len(png) < 1_000_000
    rest = _without_images(text)
    assert "http" not in rest  # no external resource, link or font
    assert "<script" not in rest
    assert "<link" not in rest
    assert "url(" not in rest
    assert 'src="data:image/png;base64,"' in rest  # every src is a data URI
    assert len(re.findall(r'src="', rest)) == 18


def test_report_opens_with_the_factsheet(real: tuple[ReportInputs, str]) -> None:
    """The factsheet summary of the dashboard, first, from the same pure module."""
    from r2k.analytics.factsheet import factsheet

    inputs, text = real
    a = inputs.analysis
    body = text.split("</nav>", 1)[1]
    assert body.startswith('<section id="factsheet"><h2>Factsheet</h2>')
    section = body.split("</section>", 1)[0]
    sheet = factsheet(a.daily.select("session", "level"), name=a.name)
    # the same figures as /indexes/RUT/factsheet, formatted once
    for period in ("1M", "3M", "YTD", "1Y", "3Y", "5Y", "10Y", "Since start"):
        assert f"<th>{period}</th>" in section
    one_year = sheet.period("1Y").cumulative
    assert f"<td>{percent(one_year)}</td>" in section
    assert f"<td>{percent(sheet.risk_of('5Y').volatility)}</td>" in section
    assert f"<td>{number(sheet.risk_of('3Y').sortino)}</td>" in section
    last_year = sheet.calendar_years[-1]
    assert f"<td>{percent(last_year.value, sign=True)}</td>" in section
    # RUT's size, top 10 and sectors are those of the latest IWM file
    theirs = inputs.holdings_characteristics
    assert theirs is not None
    assert f"Size: {theirs.source}" in section
    assert f"<td>constituents</td><td>{theirs.constituents:,}</td>" in section
    assert f"<td>{money(theirs.median_cap)}</td>" in section
    assert "<caption>Top 10</caption>" in section
    assert section.count("<tr><td>", section.index("Top 10")) >= 10
    assert "Sector weights" in section
    assert '<a href="#factsheet">Factsheet</a>' in text


def test_report_prints_well(real: tuple[ReportInputs, str]) -> None:
    _, text = real
    css = text.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "@media print{" in css
    printed = css.split("@media print{", 1)[1]
    assert "nav{display:none}" in printed
    assert "break-inside:avoid" in printed
    assert "thead{display:table-header-group}" in printed
    assert "#factsheet{break-after:page}" in printed
    assert "url(" not in css  # still offline: no font or image fetched


def test_report_names_without_security_types(real: tuple[ReportInputs, str]) -> None:
    _, text = real
    shown = _without_images(text)
    assert "Common Stock" not in shown
    assert "Ordinary Shares" not in shown


def test_report_without_characteristics() -> None:
    rng = np.random.default_rng(3)
    n = 400
    days = [date(2024, 1, 1) + timedelta(days=k) for k in range(n)]
    levels = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    a = analyze(pl.DataFrame({"session": days, "level": levels}), name="TOY")
    text = render_report(ReportInputs(analysis=a), title="Toy <report>")
    assert "<h1>Toy &lt;report&gt;</h1>" in text
    assert "Index characteristics" not in text.split("<nav>")[1].split("</nav>")[1]
    assert len(DATA_URI.findall(text)) == 6  # no benchmark: no relative chart
    factsheet_part = text.split('<section id="factsheet">')[1].split("</section>")[0]
    assert "Performance to" in factsheet_part
    assert "Top 10" not in factsheet_part  # no characteristics: no size table
    assert "Data provenance" in text


def test_write_report_atomic(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")
    assert write_report(target, "<html>é</html>") == target
    assert target.read_text(encoding="utf-8") == "<html>é</html>"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    with pytest.raises(FileNotFoundError):
        write_report(tmp_path / "no" / "r.html", "x")
