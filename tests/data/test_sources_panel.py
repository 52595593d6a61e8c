"""r2k.data.sources.panel on the real market panel and on small broken panels."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.data.sources.panel import as_of, cross_section, read_market_panel
from r2k.errors import (
    DataQualityWarning,
    MissingDataError,
    SchemaError,
    SourceFormatError,
)
from r2k.schemas import MARKET
from r2k.sessions import sessions_in_range

if TYPE_CHECKING:
    from pathlib import Path


# --- real panel ---------------------------------------------------------------------


def test_shape_and_schema(market_panel: pl.DataFrame) -> None:
    assert market_panel.schema == MARKET
    assert market_panel.height == 757_365
    assert market_panel.get_column("security_id").n_unique() == 5_942


def test_sessions_are_the_142_consecutive_xnys_sessions(
    market_panel: pl.DataFrame,
) -> None:
    sessions = market_panel.get_column("session").unique().sort().to_list()
    assert len(sessions) == 142
    assert sessions[0] == date(2025, 12, 26)
    assert sessions[-1] == date(2026, 7, 22)
    assert sessions == sessions_in_range(sessions[0], sessions[-1])


def test_one_row_per_session_and_security(market_panel: pl.DataFrame) -> None:
    assert not market_panel.select(
        pl.struct("session", "security_id").is_duplicated().any()
    ).item()


def test_tickers_are_canonical(market_panel: pl.DataFrame) -> None:
    ids = market_panel.get_column("security_id")
    assert not ids.str.contains("/").any()
    assert {"BRK.A", "BRK.B", "BF.A", "BF.B", "CRD.A", "CRD.B"} <= set(ids.to_list())


def test_spot_values(market_panel: pl.DataFrame) -> None:
    day = cross_section(market_panel, date(2026, 4, 30))
    assert day.height == 5_385
    aapl = day.filter(pl.col("security_id") == "AAPL").row(0, named=True)
    assert aapl["close"] == pytest.approx(271.35)
    assert aapl["volume"] == 89_993_046
    assert aapl["sector"] == "Technology"
    assert aapl["shares_outstanding"] * aapl["close"] == pytest.approx(
        aapl["total_market_cap"]
    )
    brown = day.filter(pl.col("security_id") == "BF.A").row(0, named=True)
    assert brown["close"] == pytest.approx(26.28)
    assert brown["total_market_cap"] is None
    assert brown["shares_outstanding"] is None


def test_prices_positive_and_zero_caps_unknown(market_panel: pl.DataFrame) -> None:
    assert market_panel.get_column("close").null_count() == 0
    assert market_panel.get_column("close").min() > 0  # type: ignore[operator]
    # 50,241 empty and 96,946 zero market caps in the file are all "unknown".
    caps = market_panel.get_column("total_market_cap")
    assert caps.null_count() == 147_187
    assert caps.min() > 0  # type: ignore[operator]
    shares = market_panel.get_column("shares_outstanding")
    assert (shares.is_null() == caps.is_null()).all()


def test_cross_section_missing_session_names_neighbours(
    market_panel: pl.DataFrame,
) -> None:
    with pytest.raises(
        MissingDataError,
        match=r"2026-05-02 \(not an XNYS session.*previous 2026-05-01, next 2026-05-04",
    ):
        cross_section(market_panel, date(2026, 5, 2))
    with pytest.raises(MissingDataError, match="next 2025-12-26"):
        cross_section(market_panel, date(2025, 5, 2))


def test_as_of_is_point_in_time(market_panel: pl.DataFrame) -> None:
    known = as_of(market_panel, date(2026, 1, 4))  # a Sunday
    assert known.get_column("session").max() == date(2026, 1, 2)
    assert known.get_column("session").n_unique() == 5
    assert as_of(market_panel, date(2026, 12, 31)).height == market_panel.height
    with pytest.raises(MissingDataError, match="first session is 2025-12-26"):
        as_of(market_panel, date(2025, 12, 24))


# --- synthetic panels ---------------------------------------------------------------


def _row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "asof_date": date(2026, 4, 30),
        "symbol": "AAA",
        "name": "Alpha Inc. Common Stock",
        "price": 10.0,
        "market_cap": 1_000.0,
        "volume": 5,
        "industry": "Technology",
    }
    row.update(changes)
    return row


def _write(
    tmp_path: Path, rows: list[dict[str, Any]], drop: str | None = None, hour: int = 0
) -> Path:
    frame = pl.DataFrame(
        rows,
        schema={
            "asof_date": pl.Date,
            "symbol": pl.String,
            "name": pl.String,
            "price": pl.Float64,
            "market_cap": pl.Float64,
            "volume": pl.Int64,
            "industry": pl.Categorical,
        },
    )
    # The real file stores asof_date as a midnight Datetime.
    frame = frame.with_columns(
        pl.col("asof_date").cast(pl.Datetime("us")) + pl.duration(hours=hour)
    )
    if drop:
        frame = frame.drop(drop)
    path = tmp_path / "panel.parquet"
    frame.write_parquet(path)
    return path


def test_synthetic_panel_reads(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _row(symbol="MOG/A", name="Moog Inc. Class A", price=200.0, market_cap=6e9),
            _row(symbol="AAA", market_cap=0.0),
            _row(symbol="AAA", asof_date=date(2026, 4, 29), market_cap=None),
        ],
    )
    got = read_market_panel(path)
    expected = pl.DataFrame(
        {
            "session": [date(2026, 4, 29), date(2026, 4, 30), date(2026, 4, 30)],
            "security_id": ["AAA", "AAA", "MOG.A"],
            "name": ["Alpha Inc. Common Stock"] * 2 + ["Moog Inc. Class A"],
            "close": [10.0, 10.0, 200.0],
            "volume": [5, 5, 5],
            "shares_outstanding": [None, None, 3e7],
            "total_market_cap": [None, None, 6e9],
            "sector": ["Technology"] * 3,
        },
        schema=MARKET,
    )
    assert_frame_equal(got, expected)


def test_missing_column(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row()], drop="market_cap")
    with pytest.raises(
        SchemaError, match=r"panel\.parquet: missing column\(s\) market_cap"
    ):
        read_market_panel(path)


@pytest.mark.parametrize("price", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_prices_are_repaired_with_a_warning(tmp_path: Path, price: float) -> None:
    path = _write(tmp_path, [_row(), _row(symbol="BBB", price=price)])
    with pytest.warns(
        DataQualityWarning, match="set 1 non-positive or non-finite price"
    ):
        got = read_market_panel(path)
    bad = got.filter(pl.col("security_id") == "BBB").row(0, named=True)
    assert bad["close"] is None
    assert bad["shares_outstanding"] is None
    assert bad["total_market_cap"] == 1_000.0


def test_negative_market_cap(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(), _row(symbol="BBB", market_cap=-5.0)])
    with pytest.raises(
        SourceFormatError,
        match=r"negative market_cap -5\.0 for symbol 'BBB' on 2026-04-30",
    ):
        read_market_panel(path)


def test_exact_duplicates_are_dropped_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(), _row(), _row(symbol="BBB")])
    with pytest.warns(DataQualityWarning, match="dropped 1 exact duplicate row"):
        got = read_market_panel(path)
    assert got.get_column("security_id").to_list() == ["AAA", "BBB"]


def test_conflicting_duplicates(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(), _row(price=11.0)])
    with pytest.raises(
        SourceFormatError,
        match=r"symbol 'AAA' on 2026-04-30 appears with different values",
    ):
        read_market_panel(path)


def test_duplicates_after_normalisation_conflict(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(symbol="BF/B"), _row(symbol="BF.B", price=12.0)])
    with pytest.raises(SourceFormatError, match="conflicting rows"):
        read_market_panel(path)


def test_non_session_date(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row(), _row(asof_date=date(2026, 5, 2))])
    with pytest.raises(
        SourceFormatError,
        match=r"1 asof_date value\(s\) are not XNYS sessions \(first: 2026-05-02\)",
    ):
        read_market_panel(path)


def test_time_of_day_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row()], hour=16)
    with pytest.raises(SourceFormatError, match="is not at midnight"):
        read_market_panel(path)


def test_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "panel.parquet"
    path.write_text("asof_date,symbol\n")
    with pytest.raises(SourceFormatError, match="cannot be read as Parquet"):
        read_market_panel(path)
