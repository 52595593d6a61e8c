"""Share counts that lag a reverse split on the rank day (hand-built panel)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from r2k.construction.universe import split_lags

RANK_DAY = date(2026, 4, 30)


def _series(
    sid: str, closes: list[float], volumes: list[int], shares: list[float]
) -> pl.DataFrame:
    n = len(closes)
    days = [RANK_DAY - timedelta(days=n - 1 - i) for i in range(n)]
    return pl.DataFrame(
        {
            "session": days,
            "security_id": [sid] * n,
            "close": closes,
            "volume": volumes,
            "shares_outstanding": shares,
        }
    )


def _panel() -> pl.DataFrame:
    return pl.concat(
        [
            # reverse split 1:20 on the rank day; shares not yet updated
            _series(
                "RSPL", [0.16, 0.15, 3.0], [5_000_000, 6_000_000, 400_000], [1e8] * 3
            ),
            # a news jump: price x4 on heavy volume
            _series("NEWS", [2.0, 2.1, 8.4], [50_000, 60_000, 9_000_000], [1e7] * 3),
            # reverse split whose share count was updated the next session
            _series(
                "DONE", [0.5, 5.0, 5.1], [1_000_000, 90_000, 80_000], [1e8, 1e8, 1e7]
            ),
            # a 50% rise: no split
            _series("RISE", [10.0, 10.0, 15.0], [1000, 1000, 100], [1e6] * 3),
        ]
    )


def test_reverse_split_with_a_lagging_count_is_found() -> None:
    lags = split_lags(_panel(), RANK_DAY)
    assert lags["security_id"].to_list() == ["RSPL"]
    assert lags["ratio"].to_list() == [20.0]
    assert lags["session"].to_list() == [RANK_DAY]


def test_nothing_after_the_rank_day_is_read() -> None:
    panel = _panel()
    later = (
        panel.with_columns(session=pl.col("session") + timedelta(days=3))
        .filter(pl.col("session") > RANK_DAY)
        .with_columns(close=pl.col("close") * 100)
    )
    assert split_lags(pl.concat([panel, later]), RANK_DAY).equals(
        split_lags(panel, RANK_DAY)
    )
