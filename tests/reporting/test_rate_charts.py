"""The rate and currency charts, and the report's rates and currency sections."""

from __future__ import annotations

import re
import struct
from datetime import date
from typing import TYPE_CHECKING

import pytest

from r2k.data.datadir import DataDir
from r2k.errors import MethodologyError, MissingDataError
from r2k.reporting import charts, rate_charts
from r2k.reporting.rates_report import (
    RatesInputs,
    currency_section,
    gather_rates,
    rates_section,
    render_sections,
)
from r2k.workflows.currency import currency_versions
from r2k.workflows.rates import RateView, rate_view

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.figure import Figure

    from r2k.analytics.currency import CurrencyVersion


@pytest.fixture(scope="module")
def view(data_dir: DataDir) -> RateView:
    return rate_view(data_dir, "RUT")


@pytest.fixture(scope="module")
def versions(data_dir: DataDir) -> list[CurrencyVersion]:
    return currency_versions(data_dir)[0]


def _check(fig: Figure) -> None:
    ax = fig.axes[0]
    assert ax.get_title()
    assert ax.get_xlabel()
    assert ax.get_ylabel()
    data = charts.png_bytes(fig)
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 460)
    assert 5_000 < len(data) < 1_000_000


@pytest.mark.parametrize("name", list(rate_charts.RATE_CHARTS))
def test_every_rate_chart_renders_labelled(view: RateView, name: str) -> None:
    _check(rate_charts.rate_chart_by_name(name, view))


def test_currency_charts(versions: list[CurrencyVersion]) -> None:
    _check(rate_charts.currencies_chart(versions))
    _check(rate_charts.currency_chart(versions[0]))
    with pytest.raises(MissingDataError, match="no currency version"):
        rate_charts.currencies_chart([])


def test_chart_errors(view: RateView, data_dir: DataDir) -> None:
    with pytest.raises(MethodologyError, match="unknown rate chart 'pie'"):
        rate_charts.rate_chart_by_name("pie", view)
    short = rate_view(data_dir, "RUT", start=date(2026, 1, 1))
    with pytest.raises(MissingDataError, match="no rolling beta"):
        rate_charts.rate_betas_chart(short)
    with pytest.raises(MissingDataError, match="no first cut or first hike"):
        rate_charts.rate_events_chart(short)
    _check(rate_charts.policy_cycle_chart(short))


def test_sections(view: RateView, versions: list[CurrencyVersion]) -> None:
    html = rates_section(view)
    assert html.startswith('<section id="rates"><h2>Rates and the policy cycle</h2>')
    assert html.count("<img ") == 4
    assert "Rate sensitivity: weekly returns on yield changes" in html
    assert "Event study averages" in html
    assert "is a proxy" in html
    ccy = currency_section(tuple(versions), ("a note",))
    assert ccy.count("<img ") == 2
    assert "<td>EURUSD</td><td>USD per unit</td>" in ccy
    assert "<td>USDJPY</td><td>per USD</td>" in ccy
    assert '<p class="note">a note</p>' in ccy
    body, nav = render_sections(
        RatesInputs(rates=view, currencies=tuple(versions), notes=("x",))
    )
    assert nav == [("rates", "Rates"), ("currencies", "Currencies")]
    assert body.endswith('<p class="note">x</p>')
    assert render_sections(None) == ("", [])


def test_gather_without_rates_or_fx_files(data_dir: DataDir, tmp_path: Path) -> None:
    (tmp_path / "indices").symlink_to(data_dir.root / "indices")
    inputs = gather_rates(DataDir.resolve(tmp_path), "RUT")
    assert inputs.rates is None
    assert inputs.currencies == ()
    assert [re.sub(r":.*", "", n) for n in inputs.notes] == [
        "no rates section",
        "no currency section",
    ]
    assert "has no rates/us_rates_daily.csv" in inputs.notes[0]
    body, nav = render_sections(inputs)
    assert nav == []
    assert "no rates section" in body
