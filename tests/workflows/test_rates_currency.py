"""r2k.workflows.rates and r2k.workflows.currency on the real data directory."""

from __future__ import annotations

import json
from datetime import date, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl
import pytest

from r2k.errors import MethodologyError, MissingDataError
from r2k.workflows.currency import analyze_in_currency, currency_versions, fx_rates
from r2k.workflows.rates import RSTAR_PROXY, RateView, rate_view

if TYPE_CHECKING:
    from pathlib import Path

    from r2k._typing import Frequency
    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation


def fake_calculation(
    start: date = date(2025, 12, 26), sessions: int = 140, seed: int = 2
) -> Calculation:
    """A stand-in for r2k's calculation: only ``levels.price_return`` is read."""
    rng = np.random.default_rng(seed)
    days: list[date] = []
    day = start
    while len(days) < sessions:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    level = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, sessions)))
    levels = pl.DataFrame({"session": days, "price_return": level})
    return cast("Calculation", SimpleNamespace(levels=levels))


@pytest.fixture(scope="module")
def rut_view(data_dir: DataDir) -> RateView:
    return rate_view(data_dir, "RUT")


def test_rut_rate_view(rut_view: RateView) -> None:
    v = rut_view
    assert (v.index, v.start, v.end) == ("RUT", date(1987, 9, 10), date(2026, 6, 26))
    table = v.sensitivity.table
    assert table.select("series", "factor").rows() == [
        ("index", "2y"),
        ("index", "10y"),
        ("index", "dollar"),
        ("relative", "2y"),
        ("relative", "10y"),
        ("relative", "dollar"),
    ]
    relative = v.sensitivity.beta("relative", "2y")
    assert relative["first"] >= date(2000, 1, 3)  # the S&P 500 file starts then
    # the periods tile the window; the phases cover every return
    assert v.periods.item(0, "start") == v.start
    assert v.periods.item(-1, "end") == v.end
    assert v.phases["sessions"].sum() == v.levels.height - 1
    assert v.events.events["kind"].to_list()[-1] == "first_cut"
    assert v.events.events.item(-1, "date") == date(2024, 9, 19)
    assert v.rstar_source == RSTAR_PROXY
    assert v.stance.item(0, "date") == date(2003, 1, 2)
    assert any("is a proxy" in n for n in v.notes)
    assert any("from 2008-12-16" in n for n in v.notes)
    latest = v.latest()
    assert latest is not None
    assert latest["stance"] == pytest.approx(
        latest["effective_rate"] - latest["breakeven_5y"] - latest["rstar"]
    )
    text = json.dumps(v.to_dict(series=True))
    assert "NaN" not in text
    assert json.loads(text)["units"]["rates"] == "percent"


def test_r2000_over_the_panel_window(data_dir: DataDir) -> None:
    v = rate_view(data_dir, "R2000", calculation=fake_calculation())
    assert v.index == "r2000"
    assert v.start == date(2025, 12, 26)
    assert v.sensitivity.rolling.height == 0
    assert any("fewer than the window of 156" in n for n in v.notes)
    assert v.events.events.height == 0
    assert any("the event study is empty" in n for n in v.notes)
    assert v.periods["phase"].to_list() == ["holding"]
    assert v.by_stance["periods"].sum() > 0


def test_user_rstar_replaces_the_proxy(data_dir: DataDir, tmp_path: Path) -> None:
    path = tmp_path / "rstar.csv"
    path.write_text("date,lw\n2024-01-15,0.7\n2024-04-15,0.8\n", encoding="utf-8")
    v = rate_view(
        data_dir,
        "RUT",
        rstar=path,
        rstar_column="lw",
        rstar_max_carry_days=100,
        start=date(2023, 6, 1),
    )
    assert v.rstar_source == str(path)
    stance = v.stance.drop_nulls("rstar")
    # used from its own date on, never before; at most 100 days after the last
    # (2024-01-15 is a holiday without a breakeven: the next business day)
    assert stance.item(0, "date") == date(2024, 1, 16)
    assert stance.item(-1, "date") <= date(2024, 4, 15) + timedelta(days=100)
    assert set(stance["rstar"].to_list()) == {0.7, 0.8}
    assert any(str(path) in n for n in v.notes)


def test_rate_view_errors(data_dir: DataDir) -> None:
    with pytest.raises(MethodologyError, match=r"takes RUT or r2000 today"):
        rate_view(data_dir, "r1000")
    with pytest.raises(MethodologyError, match="`frequency` must be one of"):
        rate_view(data_dir, frequency=cast("Frequency", "yearly"))
    with pytest.raises(MissingDataError, match="widen the window"):
        rate_view(data_dir, start=date(2030, 1, 1))


def test_rut_in_euros(data_dir: DataDir) -> None:
    result = analyze_in_currency(data_dir, "RUT", "eur")
    v = result.version
    assert (v.currency, v.column, v.quote) == ("EUR", "EURUSD", "usd_per_target")
    assert v.start == date(2024, 8, 21)
    assert v.end == date(2026, 6, 26)
    # the analysis is of the converted levels: its total return is the local one
    assert result.analysis.total_return == pytest.approx(
        v.decomposition.local_return, abs=1e-12
    )
    assert result.analysis.name == "RUT in EUR"
    # by hand from the files: RUT and EUR/USD on the first and last session
    rut = v.levels.row(0, named=True), v.levels.row(-1, named=True)
    usd = rut[1]["usd"] / rut[0]["usd"] - 1
    ccy = rut[1]["fx_target_per_usd"] / rut[0]["fx_target_per_usd"] - 1
    assert v.decomposition.usd_return == pytest.approx(usd)
    assert v.decomposition.currency_return == pytest.approx(ccy)
    assert v.decomposition.cross_term == pytest.approx(usd * ccy)
    assert v.filled == 1  # Easter Monday 2025 has no EUR/USD close
    assert any("window limited to the FX data" in n for n in result.notes)
    spx = next(b for b in result.analysis.benchmarks if b.code == "SPX")
    assert spx.sessions == v.sessions
    out = result.to_dict()
    assert out["currency"]["fx_column"] == "EURUSD"
    assert json.dumps(out)


def test_every_currency_and_the_repairs(data_dir: DataDir) -> None:
    fx = fx_rates(data_dir)
    assert fx.repaired == {
        "USDZAR": (date(2024, 11, 15), date(2025, 1, 15), date(2025, 1, 17))
    }
    assert set(fx.skipped) == {"DXY", "EURJPY"}
    versions, notes = currency_versions(data_dir)
    codes = [v.currency for v in versions]
    assert codes == sorted(set(fx.pairs) - {"CNH"})
    assert any(n.startswith("CNH: no version") for n in notes)
    for v in versions:
        d = v.decomposition
        assert d.local_return == d.usd_return + d.currency_return + d.cross_term
        levels = v.levels
        assert levels.item(-1, "local") / levels.item(0, "local") - 1 == pytest.approx(
            d.local_return, abs=1e-12
        )
    usd_returns = {round(v.decomposition.usd_return, 12) for v in versions}
    assert len(usd_returns) == 1  # the same dollar return whatever the currency


def test_currency_errors(data_dir: DataDir) -> None:
    with pytest.raises(MissingDataError, match="currencies with data: AUD, BRL"):
        analyze_in_currency(data_dir, "RUT", "XAU")
    with pytest.raises(MissingDataError, match="no session with a USDCNH rate"):
        analyze_in_currency(data_dir, "RUT", "CNH")
    calc = fake_calculation()
    r2k = analyze_in_currency(data_dir, "r2k", "JPY", calculation=calc)
    assert r2k.version.start == date(2025, 12, 26)
    rows: dict[str, Any] = r2k.to_dict()
    assert rows["currency"]["currency"] == "JPY"
