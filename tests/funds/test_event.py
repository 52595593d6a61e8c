"""Event study: abnormal returns summed over the windows, by hand."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from r2k.funds.event import car_paths, event_study


def test_car_by_hand() -> None:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(6)]
    closes = [100.0, 110.0, 121.0, 121.0, 121.0, 121.0]  # +10%, +10%, then flat
    market = pl.DataFrame({"session": days, "security_id": ["A"] * 6, "close": closes})
    bench = pl.DataFrame({"session": days, "benchmark_return": [0.0, 0.05] + [0.0] * 4})
    events = pl.DataFrame({"security_id": ["A"], "change": ["add"]})
    lines, summary = event_study(
        market, events, bench, rank_day=days[0], effective=days[2], post_sessions=3
    )
    row = lines.to_dicts()[0]
    assert row["rank_to_effective"] == pytest.approx(0.10 - 0.05 + 0.10)
    assert row["effective_day"] == pytest.approx(0.10)
    assert row["post_20"] == pytest.approx(0.0)
    assert summary.item(0, "n") == 1


def test_needs_a_session_after() -> None:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(2)]
    market = pl.DataFrame(
        {"session": days, "security_id": ["A"] * 2, "close": [1.0] * 2}
    )
    bench = pl.DataFrame({"session": days, "benchmark_return": [0.0] * 2})
    events = pl.DataFrame({"security_id": ["A"], "change": ["add"]})
    with pytest.raises(ValueError, match="no session after"):
        event_study(market, events, bench, rank_day=days[0], effective=days[1])


def test_car_paths_by_hand() -> None:
    """Two adds, one stops trading: its CAR is carried, the mean is of both."""
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(4)]
    market = pl.DataFrame(
        {
            "session": days + days[:3],
            "security_id": ["A"] * 4 + ["B"] * 3,
            "close": [100.0, 110.0, 110.0, 121.0, 100.0, 100.0, 90.0],
        }
    )
    bench = pl.DataFrame({"session": days, "benchmark_return": [0.0, 0.0, 0.0, 0.05]})
    events = pl.DataFrame({"security_id": ["A", "B"], "change": ["add", "add"]})
    paths = car_paths(
        market, events, bench, rank_day=days[0], effective=days[2], post_sessions=1
    )
    # A: +10%, 0, +10% - 5%; B: 0, -10%, (no row)
    assert paths["car_mean"].to_list() == pytest.approx([0.05, 0.0, (0.15 - 0.10) / 2])
    assert paths["n"].to_list() == [2, 2, 2]
    _, summary = event_study(
        market, events, bench, rank_day=days[0], effective=days[2], post_sessions=1
    )
    assert paths["car_mean"][-1] == pytest.approx(summary["rank_to_post_20_mean"][0])
