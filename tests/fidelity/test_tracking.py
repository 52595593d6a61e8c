"""Tracking statistics: hand examples (conventions in r2k.fidelity.tracking)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from r2k.errors import MissingDataError
from r2k.fidelity.tracking import tracking

DAYS = [date(2026, 1, d) for d in (5, 6, 7, 8, 9)]


def series(values: list[float], days: list[date] = DAYS) -> pl.DataFrame:
    return pl.DataFrame(
        {"session": days[: len(values)], "level": pl.Series(values, dtype=pl.Float64)}
    )


def test_identical_series_track_perfectly() -> None:
    s = series([100, 101, 99, 102, 103])
    t = tracking(s, s)
    assert t.sessions == 4
    assert t.correlation == pytest.approx(1.0)
    assert t.tracking_error_bp == 0.0
    assert t.max_abs_difference_bp == 0.0
    assert t.cumulative_return == pytest.approx(0.03)


def test_hand_computed_differences() -> None:
    calc = series([100, 101, 100.0, 102])
    ref = series([100, 100.9, 100.1, 101.9])
    rc = np.array([0.01, 100 / 101 - 1, 0.02])
    rr = np.array([0.009, 100.1 / 100.9 - 1, 101.9 / 100.1 - 1])
    t = tracking(calc, ref)
    assert t.tracking_error_bp == pytest.approx(np.std(rc - rr, ddof=1) * 1e4)
    assert t.mean_difference_bp == pytest.approx((rc - rr).mean() * 1e4)
    assert t.reference_cumulative_return == pytest.approx(0.019)
    assert t.to_dict()["start"] == "2026-01-05"


def test_only_common_sessions_count() -> None:
    calc = series([100, 101, 102, 103, 104])
    ref = series([100, 101, 102], [DAYS[0], DAYS[2], DAYS[4]])
    assert tracking(calc, ref).sessions == 2


def test_too_few_common_sessions() -> None:
    with pytest.raises(MissingDataError, match="share 2 session"):
        tracking(series([100, 101]), series([100, 101]))


def test_scaling_either_series_changes_nothing() -> None:
    calc, ref = series([100, 101, 99, 102, 103]), series([50, 50.4, 49.7, 51, 51.2])
    base = tracking(calc, ref)
    scaled = tracking(
        calc.with_columns(pl.col("level") * 7), ref.with_columns(pl.col("level") / 3)
    )
    assert scaled.tracking_error_bp == pytest.approx(base.tracking_error_bp)
    assert scaled.correlation == pytest.approx(base.correlation)
