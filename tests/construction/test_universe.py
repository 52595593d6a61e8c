"""Rank-day universe from the real market panel: point-in-time, share classes."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.construction.universe import build_universe, company_ids

RANK_DAY = date(2026, 4, 30)


@pytest.fixture(scope="module")
def universe(market_panel: pl.DataFrame) -> pl.DataFrame:
    return build_universe(market_panel, RANK_DAY).universe


def test_point_in_time_rows_after_the_rank_day_change_nothing(
    market_panel: pl.DataFrame, universe: pl.DataFrame
) -> None:
    # Corrupt every row dated after the rank day: the universe must not move.
    future = pl.col("session") > RANK_DAY
    poisoned = market_panel.with_columns(
        close=pl.when(future).then(pl.col("close") * 1000).otherwise(pl.col("close")),
        shares_outstanding=pl.when(future)
        .then(None)
        .otherwise(pl.col("shares_outstanding")),
        volume=pl.when(future).then(0).otherwise(pl.col("volume")),
    )
    assert_frame_equal(build_universe(poisoned, RANK_DAY).universe, universe)


def test_shuffled_panel_gives_the_same_universe(
    market_panel: pl.DataFrame, universe: pl.DataFrame
) -> None:
    shuffled = market_panel.sample(fraction=1.0, shuffle=True, seed=3)
    assert_frame_equal(build_universe(shuffled, RANK_DAY).universe, universe)


def test_missing_rank_day_names_the_nearest_sessions(
    market_panel: pl.DataFrame,
) -> None:
    with pytest.raises(
        LookupError, match=r"no rows for rank day 2026-05-02.*2026-05-01"
    ):
        build_universe(market_panel, date(2026, 5, 2))


@pytest.mark.parametrize(
    ("lines", "same"),
    [
        (("GOOG", "GOOGL"), True),
        (("FOX", "FOXA"), True),
        (("Z", "ZG"), True),
        (("BATRA", "BATRK"), True),
        (("UA", "UAA"), True),
        (("BRK.A", "BRK.B"), True),
        (("OWL", "OBDC"), False),  # Blue Owl Capital Inc. vs Blue Owl Capital Corp.
        (("INDB", "IBCP"), False),  # two banks both named Independent Bank
    ],
)
def test_company_grouping(
    universe: pl.DataFrame, lines: tuple[str, str], same: bool
) -> None:
    ids = universe.filter(pl.col("security_id").is_in(list(lines)))["company_id"]
    assert ids.len() == 2
    assert (ids.n_unique() == 1) is same


def test_company_level_share_counts_are_kept_once(universe: pl.DataFrame) -> None:
    # Nasdaq reports Fox's 425M total shares on both FOX and FOXA; the company
    # must not be counted twice.
    fox = universe.filter(pl.col("company_id") == "FOX").sort("security_id")
    shares = fox["shares_outstanding"].to_list()
    assert sum(s is not None for s in shares) == 1
    assert max(s for s in shares if s is not None) == pytest.approx(4.254e8, rel=1e-3)


def test_company_ids_need_a_shared_ticker_root() -> None:
    frame = pl.DataFrame(
        {
            "security_id": ["MOG.A", "MOG.B", "ABC", "XYZ"],
            "company_key": ["moog", "moog", "same name", "same name"],
        }
    )
    assert company_ids(frame).to_list() == ["MOG.A", "MOG.A", "ABC", "XYZ"]


def test_rank_day_statistics(
    universe: pl.DataFrame, market_panel: pl.DataFrame
) -> None:
    # avg_close_30d is the mean close over the sessions in the 30 calendar days
    # before the rank day, recomputed here the naive way for one security.
    rows = market_panel.filter(
        (pl.col("security_id") == "AAPL")
        & (pl.col("session") >= date(2026, 3, 31))
        & (pl.col("session") < RANK_DAY)
    )
    expected = sum(rows["close"].to_list()) / rows.height
    got = universe.filter(pl.col("security_id") == "AAPL")["avg_close_30d"].item()
    assert got == pytest.approx(expected, rel=1e-12)


def test_securities_frame(market_panel: pl.DataFrame) -> None:
    build = build_universe(market_panel, RANK_DAY)
    sec = build.securities
    assert sec.height == build.universe.height
    row = sec.filter(pl.col("security_id") == "BRK.B").row(0, named=True)
    assert row["share_class"] == "B"
    assert row["company_id"] == "BRK.A"
    goog = sec.filter(pl.col("security_id") == "GOOG").row(0, named=True)
    assert goog["share_class"] == "C"
    assert goog["security_type"] == "class_share"
