"""r2k.analytics.rallies: zig-zag turning points and the rally table."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from r2k.analytics.rallies import rallies, turning_points
from r2k.data.sources.levels import read_index_levels
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir

START = date(2000, 1, 3)


def _days(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def _table(levels: list[float], **kw: float) -> pl.DataFrame:
    return rallies(levels, _days(len(levels)), **kw)


# Paths of levels: 100 compounded by daily moves of -20% .. +25%.
moves = st.lists(
    st.floats(-0.2, 0.25, allow_nan=False, allow_subnormal=False),
    min_size=1,
    max_size=150,
)
thresholds = st.floats(0.02, 0.5, allow_nan=False)


def _path(steps: list[float]) -> list[float]:
    levels: list[float] = (100.0 * np.cumprod(1.0 + np.array([0.0, *steps]))).tolist()
    return levels


# --- hand examples -------------------------------------------------------------


def test_one_rally_by_hand() -> None:
    table = _table([100.0, 80.0, 96.0, 90.0, 99.0, 95.0])
    assert table.height == 1
    row = table.row(0, named=True)
    assert row["preceding_peak_session"] == START
    assert row["preceding_peak_level"] == 100.0
    assert row["trough_session"] == START + timedelta(days=1)
    assert row["trough_level"] == 80.0
    assert row["peak_session"] == START + timedelta(days=4)
    assert row["peak_level"] == 99.0
    assert row["gain"] == pytest.approx(99.0 / 80.0 - 1.0)
    assert row["preceding_decline"] == pytest.approx(-0.2)
    assert row["length_sessions"] == 3
    assert row["ongoing"] is True


def test_rally_ends_at_the_peak_before_a_decline() -> None:
    #         peak   trough        peak (rally 1 ends)  trough  rally 2 (ongoing)
    levels = [100.0, 85.0, 95.0, 102.0, 99.0, 90.0, 88.0, 99.0]
    table = _table(levels)
    assert table.select("trough_level", "peak_level", "ongoing").rows() == [
        (85.0, 102.0, False),
        (88.0, 99.0, True),
    ]
    assert table.get_column("preceding_peak_level").to_list() == [100.0, 102.0]


def test_small_moves_are_no_rally() -> None:
    # a 9% dip and a 9% rebound do not pass 10% thresholds
    assert _table([100.0, 91.0, 99.0, 91.5, 99.5]).is_empty()
    # ... but pass 5% ones: 91 -> 99 and 91.5 -> 99.5 (still running)
    table = _table(
        [100.0, 91.0, 99.0, 91.5, 99.5], decline_threshold=0.05, rally_threshold=0.05
    )
    assert table.select("trough_level", "peak_level", "ongoing").rows() == [
        (91.0, 99.0, False),
        (91.5, 99.5, True),
    ]


def test_thresholds_are_inclusive_and_asymmetric() -> None:
    # exactly -12.5% then exactly +25% (binary fractions: no rounding at all)
    levels = [100.0, 87.5, 109.375]
    kw = {"decline_threshold": 0.125, "rally_threshold": 0.25}
    assert _table(levels, **kw).select("gain", "preceding_decline").rows() == [
        (0.25, -0.125)
    ]
    assert _table(levels, **(kw | {"rally_threshold": 0.26})).is_empty()
    assert _table(levels, **(kw | {"decline_threshold": 0.13})).is_empty()


def test_first_swing_up_is_not_a_rally() -> None:
    # the series starts by rising: no decline precedes the first trough
    points = turning_points([100.0, 120.0, 100.0, 125.0], _days(4))
    assert points.select("position", "kind", "confirmed").rows() == [
        (0, "trough", True),
        (1, "peak", True),
        (2, "trough", True),
        (3, "peak", False),
    ]
    table = _table([100.0, 120.0, 100.0, 125.0])
    assert table.select("trough_level", "peak_level").rows() == [(100.0, 125.0)]
    assert table.item(0, "preceding_peak_level") == 120.0


def test_unequal_thresholds_move_a_turning_point() -> None:
    # -10% confirms the peak at 100, but 90 -> 105 is no 20% rally: the peak is
    # withdrawn and the rise goes on; the fall to 80 then confirms 105 as a peak
    levels = [100.0, 90.0, 105.0, 80.0, 100.0]
    points = turning_points(levels, _days(5), rally_threshold=0.2)
    assert points.select("position", "kind").rows() == [
        (2, "peak"),
        (3, "trough"),
        (4, "peak"),
    ]
    table = _table(levels, rally_threshold=0.2)
    assert table.select(
        "preceding_peak_level", "trough_level", "peak_level"
    ).rows() == [(105.0, 80.0, 100.0)]


def test_ties_take_the_first_session() -> None:
    points = turning_points([100.0, 80.0, 80.0, 100.0, 100.0, 80.0], _days(6))
    assert points.get_column("position").to_list() == [0, 1, 3, 5]


def test_warm_up_and_polars_input() -> None:
    levels = [None, None, 100.0, 80.0, 96.0]
    days = pl.Series("d", _days(5))
    table = rallies(pl.Series("close", levels, dtype=pl.Float64), days)
    assert table.item(0, "trough_session") == START + timedelta(days=3)
    assert table.item(0, "preceding_peak_session") == START + timedelta(days=2)
    points = turning_points(np.array(levels, dtype=float), days)
    assert points.get_column("position").to_list() == [2, 3, 4]


def test_empty_and_single_level() -> None:
    assert rallies([], []).is_empty()
    assert turning_points([100.0], [START]).is_empty()
    assert set(rallies([], []).columns) >= {
        "trough_session",
        "peak_session",
        "gain",
        "length_sessions",
        "preceding_decline",
        "ongoing",
    }


# --- errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"decline_threshold": 10.0}, "decline_threshold"),
        ({"decline_threshold": 0.0}, "decline_threshold"),
        ({"rally_threshold": -0.1}, "rally_threshold"),
        ({"rally_threshold": float("nan")}, "rally_threshold"),
    ],
)
def test_bad_thresholds(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(MethodologyError, match=name):
        _table([100.0, 90.0], **kwargs)


def test_rally_threshold_may_exceed_one() -> None:
    assert _table([100.0, 50.0, 140.0], rally_threshold=2.0).is_empty()
    assert _table([100.0, 50.0, 140.0], rally_threshold=1.0).height == 1


def test_bad_inputs() -> None:
    with pytest.raises(SchemaError, match="sessions"):
        rallies([100.0, 90.0], _days(3))
    with pytest.raises(SchemaError, match="strictly increasing"):
        rallies([100.0, 90.0], [START, START])
    with pytest.raises(SchemaError, match="positive"):
        rallies([100.0, 0.0], _days(2))
    with pytest.raises(SchemaError, match="missing value"):
        rallies([100.0, None, 90.0], _days(3))  # type: ignore[list-item]


# --- properties ----------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(steps=moves, decline=thresholds, rally=thresholds)
def test_rallies_meet_both_thresholds(
    steps: list[float], decline: float, rally: float
) -> None:
    table = _table(_path(steps), decline_threshold=decline, rally_threshold=rally)
    assert (table.get_column("gain") >= rally).all()
    assert (table.get_column("preceding_decline") <= -decline).all()
    assert (table.get_column("length_sessions") > 0).all()
    # only the last rally can still be running
    assert not table.get_column("ongoing").head(max(table.height - 1, 0)).any()


@settings(max_examples=150, deadline=None)
@given(steps=moves, decline=thresholds, rally=thresholds)
def test_turning_points_alternate_and_bound_the_path(
    steps: list[float], decline: float, rally: float
) -> None:
    levels = _path(steps)
    points = turning_points(
        levels, _days(len(levels)), decline_threshold=decline, rally_threshold=rally
    )
    kinds = points.get_column("kind").to_list()
    assert all(a != b for a, b in pairwise(kinds))
    pos = points.get_column("position").to_list()
    assert pos == sorted(set(pos))
    assert points.get_column("confirmed").to_list() == [True] * (len(pos) - 1) + [
        False
    ] * bool(pos)
    x = np.array(levels)
    for (a, kind), b in zip(zip(pos, kinds, strict=True), pos[1:], strict=False):
        swing = x[a : b + 1]
        if kind == "peak":  # a peak is the top of the leg down to the next trough
            assert swing.max() == x[a]
            assert swing.min() == x[b]
            assert x[b] / x[a] - 1.0 <= -decline
        else:
            assert swing.min() == x[a]
            assert swing.max() == x[b]
            assert x[b] / x[a] - 1.0 >= rally
    # the rally table is the trough -> peak legs after a peak -> trough leg
    table = rallies(
        levels, _days(len(levels)), decline_threshold=decline, rally_threshold=rally
    )
    legs = [
        (pos[k - 1], pos[k], pos[k + 1])
        for k in range(1, len(pos) - 1)
        if kinds[k] == "trough"
    ]
    assert table.height == len(legs)
    assert table.get_column("trough_level").to_list() == [x[t] for _, t, _ in legs]
    starts = table.get_column("preceding_peak_session").to_list()
    troughs = table.get_column("trough_session").to_list()
    peaks = table.get_column("peak_session").to_list()
    assert all(s < t < p for s, t, p in zip(starts, troughs, peaks, strict=True))
    assert all(p <= s for p, s in zip(peaks, starts[1:], strict=False))


@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(st.floats(0.0, 0.3, allow_subnormal=False), max_size=150),
    decline=thresholds,
    rally=thresholds,
)
def test_a_rising_series_has_no_rally(
    steps: list[float], decline: float, rally: float
) -> None:
    table = _table(_path(steps), decline_threshold=decline, rally_threshold=rally)
    assert table.is_empty()


@settings(max_examples=100, deadline=None)
@given(steps=moves, power=st.integers(-20, 20))
def test_scaling_by_a_power_of_two_changes_nothing(
    steps: list[float], power: int
) -> None:
    levels = _path(steps)
    scaled = [v * 2.0**power for v in levels]
    a, b = _table(levels), _table(scaled)
    cols = ["trough_session", "peak_session", "gain", "preceding_decline", "ongoing"]
    assert a.select(cols).equals(b.select(cols))
    assert np.allclose(
        b.get_column("peak_level"), a.get_column("peak_level") * 2**power
    )


@settings(max_examples=100, deadline=None)
@given(steps=moves, k=st.floats(1e-3, 1e3), decline=thresholds, rally=thresholds)
def test_scaling_by_any_factor_changes_nothing(
    steps: list[float], k: float, decline: float, rally: float
) -> None:
    levels = np.array(_path(steps))
    # away from exact ties with a threshold, where rounding could tip a comparison
    ratio = levels[:, None] / levels[None, :] - 1.0
    near = np.isclose(ratio, rally, rtol=0, atol=1e-9) | np.isclose(
        ratio, -decline, rtol=0, atol=1e-9
    )
    # and away from two distinct levels so close that scaling rounds them equal
    # (or swaps them), which changes which session is the peak or trough
    near |= (np.abs(ratio) < 1e-9) & (ratio != 0.0)
    assume(not near.any())
    kw = {"decline_threshold": decline, "rally_threshold": rally}
    a = _table(levels.tolist(), **kw)
    b = _table((levels * k).tolist(), **kw)
    cols = ["trough_session", "peak_session", "preceding_peak_session", "ongoing"]
    assert a.select(cols).equals(b.select(cols))
    assert np.allclose(a.get_column("gain"), b.get_column("gain"), rtol=1e-12)


# --- real data -----------------------------------------------------------------


@pytest.fixture(scope="module")
def rut(data_dir: DataDir) -> pl.DataFrame:
    return read_index_levels(data_dir.index_levels("RUT"), "RUT")


def test_rut_rally_table_with_defaults(rut: pl.DataFrame) -> None:
    table = rallies(rut.get_column("close"), rut.get_column("session"))
    # 10% corrections and rebounds: one every year or so since 1987
    assert 40 <= table.height <= 80
    assert (table.get_column("gain") >= 0.10).all()
    assert (table.get_column("preceding_decline") <= -0.10).all()
    by_trough = {r["trough_session"]: r for r in table.iter_rows(named=True)}
    # the crash of October 1987, the 2009 low and the 2020 low are rally troughs
    crash = by_trough[date(1987, 10, 28)]
    assert crash["preceding_decline"] < -0.35
    gfc = by_trough[date(2009, 3, 9)]
    assert gfc["trough_level"] == pytest.approx(343.26)
    assert gfc["gain"] > 1.0  # more than doubled by April 2010
    covid = by_trough[date(2020, 3, 18)]
    assert covid["preceding_peak_session"] == date(2020, 1, 16)
    assert covid["preceding_decline"] < -0.40
    # a 10% pull-back ended it within days; the next rallies carried on
    assert table.filter(pl.col("trough_session").dt.year() == 2020).height == 3
    # only the last rally may still be running
    assert table.get_column("ongoing").sum() <= 1
    assert not table.get_column("ongoing").head(table.height - 1).any()


def test_rut_bull_markets_with_20_percent_thresholds(rut: pl.DataFrame) -> None:
    table = rallies(
        rut.get_column("close"),
        rut.get_column("session"),
        decline_threshold=0.20,
        rally_threshold=0.20,
    )
    assert 10 <= table.height <= 25
    covid = table.filter(pl.col("trough_session") == date(2020, 3, 18)).row(
        0, named=True
    )
    assert covid["peak_session"] == date(2021, 11, 8)
    assert covid["gain"] > 0.5
    assert covid["gain"] == pytest.approx(2442.74 / 991.16 - 1.0)
