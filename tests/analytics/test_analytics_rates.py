"""r2k.analytics.rates: betas, the policy cycle, the event study, r* and stance.

Worked examples are computed by hand or with closed forms written out here
(no statistics library); properties run under Hypothesis; the real rates file
is checked against the public record of FOMC decisions.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k.analytics import rates as ar
from r2k.data.sources.levels import read_index_levels
from r2k.data.sources.rates import (
    rates_path,
    read_real_yields,
    read_us_rates,
    real_yields_path,
)
from r2k.errors import MethodologyError, SchemaError

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir

D0 = date(2024, 1, 1)  # a Monday


def _days(n: int, start: date = D0) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def _closed_form(y: np.ndarray, x: np.ndarray) -> dict[str, float]:
    """Textbook univariate OLS: slope, classical and HC1 standard errors."""
    n = y.size
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    beta = float(((x - xm) * (y - ym)).sum()) / sxx
    alpha = ym - beta * xm
    e = y - alpha - beta * x
    s2 = float((e**2).sum()) / (n - 2)
    hc0 = float((((x - xm) ** 2) * e**2).sum()) / sxx**2
    return {
        "beta": beta,
        "alpha": float(alpha),
        "se": math.sqrt(s2 / sxx),
        "alpha_se": math.sqrt(s2 * (1.0 / n + xm**2 / sxx)),
        "se_hc1": math.sqrt(hc0 * n / (n - 2)),
        "r_squared": 1.0 - float((e**2).sum()) / float(((y - ym) ** 2).sum()),
    }


# --- regression ------------------------------------------------------------------


def test_ols_worked_example_by_hand() -> None:
    # x = 0..3, y = 1, 3, 2, 5: Sxx = 5, Sxy = 5.5, beta = 1.1, alpha = 1.1,
    # residuals -0.1, 0.8, -1.3, 0.6: SSR = 2.7, s^2 = 1.35, se = sqrt(0.27)
    fit = ar.ols([1.0, 3.0, 2.0, 5.0], [0.0, 1.0, 2.0, 3.0])
    assert fit.n == 4
    assert fit.beta == pytest.approx(1.1, abs=1e-14)
    assert fit.alpha == pytest.approx(1.1, abs=1e-14)
    assert fit.se == pytest.approx(math.sqrt(0.27), abs=1e-14)
    # HC1: sum((x - xbar)^2 e^2) = 2.25*0.01 + 0.25*0.64 + 0.25*1.69 + 2.25*0.36
    meat = 2.25 * 0.01 + 0.25 * 0.64 + 0.25 * 1.69 + 2.25 * 0.36
    assert fit.se_hc1 == pytest.approx(math.sqrt(meat / 25.0 * 4 / 2), abs=1e-14)
    assert fit.t_stat == pytest.approx(1.1 / math.sqrt(0.27), abs=1e-12)
    assert fit.r_squared == pytest.approx(1.0 - 2.7 / 8.75, abs=1e-14)


def test_ols_matches_the_closed_forms_to_1e10() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 0.1, 2_000)  # weekly yield changes, pp
    y = 0.002 - 0.04 * x + rng.normal(0.0, 0.02, 2_000) * (1 + 5 * np.abs(x))
    fit = ar.ols(y, x)
    want = _closed_form(y, x)
    for key, value in want.items():
        assert getattr(fit, key) == pytest.approx(value, rel=1e-10, abs=1e-12), key


def test_ols_degenerate_and_warm_up() -> None:
    assert math.isnan(ar.ols([1.0, 2.0], [0.0, 1.0]).beta)
    assert math.isnan(ar.ols([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]).beta)
    # leading missing values of either are a common warm-up
    fit = ar.ols([np.nan, 1.0, 3.0, 2.0, 5.0], [9.0, 0.0, 1.0, 2.0, 3.0])
    assert fit.n == 4
    assert fit.beta == pytest.approx(1.1)
    with pytest.raises(SchemaError, match="missing value at position 2"):
        ar.ols([1.0, 2.0, np.nan, 4.0], [1.0, 2.0, 3.0, 4.0])


def test_rolling_ols_equals_ols_on_each_window() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = 0.5 * x + rng.normal(size=60)
    beta, se = ar.rolling_ols(y, x, 20)
    assert np.isnan(beta[:19]).all()
    for end in (19, 33, 59):
        fit = ar.ols(y[end - 19 : end + 1], x[end - 19 : end + 1])
        assert beta[end] == pytest.approx(fit.beta, rel=1e-12)
        assert se[end] == pytest.approx(fit.se, rel=1e-12)
    with pytest.raises(MethodologyError, match="`window` must be at least 3"):
        ar.rolling_ols(y, x, 2)


@settings(max_examples=40, deadline=None)
@given(
    scale=st.floats(0.01, 1e4),
    shift=st.floats(-5.0, 5.0),
    seed=st.integers(0, 10_000),
)
def test_betas_do_not_depend_on_the_price_scale(
    scale: float, shift: float, seed: int
) -> None:
    """Scaling the index's levels, or shifting the yield level, changes nothing."""
    rng = np.random.default_rng(seed)
    n = 80
    days = _days(n)
    level = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    yields = 3.0 + np.cumsum(rng.normal(0, 0.05, n))

    def run(lv: np.ndarray, y: np.ndarray) -> pl.DataFrame:
        factor = ar.Factor(
            name="2y",
            label="2y",
            change="difference",
            unit="1 pp",
            values=pl.DataFrame({"date": days, "value": y}),
        )
        return ar.rate_sensitivity(
            pl.DataFrame({"session": days, "level": lv}),
            [factor],
            frequency="daily",
            window=10,
        ).table.filter(pl.col("series") == "index")

    base = run(level, yields)
    moved = run(level * scale, yields + shift)
    for col in ("beta", "se", "se_hc1", "r_squared"):
        assert moved[col].to_list() == pytest.approx(base[col].to_list(), rel=1e-9)


# --- alignment ---------------------------------------------------------------


def test_align_asof_uses_only_past_values_within_the_limit() -> None:
    sessions = pl.Series([date(2024, 1, 2), date(2024, 1, 5), date(2024, 1, 12)])
    series = pl.DataFrame(
        {
            "date": [date(2024, 1, 1), date(2024, 1, 3), date(2024, 1, 6)],
            "v": [1.0, None, 3.0],
        }
    )
    out = ar.align_asof(sessions, series, "v", max_carry_days=4)
    # 01-02 takes 01-01 (carried 1 day); 01-05 cannot use the empty 01-03 and
    # 01-01 is 4 days old: still within the limit; 01-12: 01-06 is 6 days old
    assert out["v"].to_list() == [1.0, 1.0, None]
    assert out["v_date"].to_list() == [date(2024, 1, 1), date(2024, 1, 1), None]
    assert out["v_carried"].to_list() == [True, True, False]
    same_day = ar.align_asof(sessions, series, "v", max_carry_days=0)
    assert same_day["v"].to_list() == [None, None, None]


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 40), min_size=1, max_size=25, unique=True),
    probes=st.lists(st.integers(0, 45), min_size=1, max_size=25, unique=True),
    carry=st.integers(0, 7),
)
def test_align_asof_is_point_in_time(
    offsets: list[int], probes: list[int], carry: int
) -> None:
    series = pl.DataFrame(
        {
            "date": [D0 + timedelta(days=o) for o in sorted(offsets)],
            "v": [float(o) for o in sorted(offsets)],
        }
    )
    sessions = pl.Series([D0 + timedelta(days=p) for p in sorted(probes)])
    out = ar.align_asof(sessions, series, "v", max_carry_days=carry)
    for row in out.iter_rows(named=True):
        p = (row["session"] - D0).days
        known = [o for o in offsets if p - carry <= o <= p]
        if known:
            assert row["v"] == float(max(known))  # the latest known, never later
            assert row["v_date"] <= row["session"]
        else:
            assert row["v"] is None


def test_period_ends() -> None:
    days = pl.Series(_days(40))
    weekly = ar.period_ends(days, "weekly")
    assert all(d.weekday() == 6 for d in weekly[:-1])  # Sundays, then the last day
    assert weekly[-1] == days[-1]
    monthly = ar.period_ends(days, "monthly")
    assert monthly.to_list() == [date(2024, 1, 31), date(2024, 2, 9)]
    assert ar.period_ends(days, "daily").len() == 40
    with pytest.raises(MethodologyError, match="`frequency` must be one of"):
        ar.period_ends(days, "hourly")  # type: ignore[arg-type]


# --- rate sensitivity ----------------------------------------------------------


def _weekly_fixture(
    n_weeks: int = 120, seed: int = 1
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    fridays = [date(2020, 1, 3) + timedelta(weeks=k) for k in range(n_weeks)]
    dy = rng.normal(0.0, 0.1, n_weeks)
    dy[0] = 0.0
    yields = 2.0 + np.cumsum(dy)
    r_bench = rng.normal(0.002, 0.02, n_weeks)
    r_idx = 0.001 - 0.05 * dy + 1.1 * r_bench + rng.normal(0, 0.005, n_weeks)
    r_idx[0] = r_bench[0] = 0.0
    idx = pl.DataFrame({"session": fridays, "level": 100 * np.cumprod(1 + r_idx)})
    bench = pl.DataFrame({"session": fridays, "level": 50 * np.cumprod(1 + r_bench)})
    y = pl.DataFrame({"date": fridays, "value": yields})
    return idx, bench, y


def test_rate_sensitivity_recovers_the_regression() -> None:
    idx, bench, y = _weekly_fixture()
    factor = ar.Factor(
        name="2y", label="2y", change="difference", unit="1 pp rise", values=y
    )
    s = ar.rate_sensitivity(idx, [factor], benchmark=bench, window=52)
    assert s.frequency == "weekly"
    assert s.periods_per_year == 52
    r = idx["level"].to_numpy()
    b = bench["level"].to_numpy()
    dy = np.diff(y["value"].to_numpy())
    r_idx = r[1:] / r[:-1] - 1.0
    rel = r_idx - (b[1:] / b[:-1] - 1.0)
    for series, target in (("index", r_idx), ("relative", rel)):
        row = s.beta(series, "2y")
        want = _closed_form(target, dy)
        assert row["n"] == 119
        assert row["beta"] == pytest.approx(want["beta"], rel=1e-10)
        assert row["se"] == pytest.approx(want["se"], rel=1e-10)
        assert row["se_hc1"] == pytest.approx(want["se_hc1"], rel=1e-10)
    # the rolling betas: the last window is the OLS of the last 52 weeks
    last = s.rolling.filter(
        (pl.col("series") == "index") & (pl.col("factor") == "2y")
    ).row(-1, named=True)
    assert last["beta"] == pytest.approx(_closed_form(r_idx[-52:], dy[-52:])["beta"])
    assert s.beta("index", "2y")["beta"] == pytest.approx(-0.05, abs=0.02)
    with pytest.raises(MethodologyError, match="no beta of 'index' on 'x'"):
        s.beta("index", "x")


def test_rate_sensitivity_is_point_in_time() -> None:
    """Yields published after a period end never enter that period's change."""
    idx, bench, y = _weekly_fixture(60)
    factor = ar.Factor(name="2y", label="2y", change="difference", unit="pp", values=y)
    full = ar.rate_sensitivity(idx, [factor], benchmark=bench, window=10)
    cut = date(2020, 6, 1)
    later = y.with_columns(
        pl.when(pl.col("date") > cut)
        .then(99.0)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    changed = ar.rate_sensitivity(
        idx,
        [
            ar.Factor(
                name="2y", label="2y", change="difference", unit="pp", values=later
            )
        ],
        benchmark=bench,
        window=10,
    )
    before = pl.col("period_end") <= cut
    assert full.sample.filter(before).equals(changed.sample.filter(before))


def test_rate_sensitivity_counts_carried_and_missing() -> None:
    idx, bench, y = _weekly_fixture(30)
    # drop the yield on two Fridays: the Thursday value is carried (1 day)
    thursday = y.filter(pl.col("date").is_in([date(2020, 2, 7), date(2020, 3, 6)]))
    thursday = thursday.with_columns(pl.col("date") - timedelta(days=1))
    gappy = pl.concat(
        [
            y.filter(~pl.col("date").is_in([date(2020, 2, 7), date(2020, 3, 6)])),
            thursday,
        ]
    ).sort("date")
    factor = ar.Factor(
        name="2y", label="2y", change="difference", unit="pp", values=gappy
    )
    s = ar.rate_sensitivity(idx, [factor], benchmark=bench, window=10, max_carry_days=3)
    assert s.carried["2y"] == 2
    assert s.missing["2y"] == 0
    strict = ar.rate_sensitivity(
        idx, [factor], benchmark=bench, window=10, max_carry_days=0
    )
    assert strict.missing["2y"] == 2
    assert strict.beta("index", "2y")["n"] == 29 - 4  # each gap loses two changes
    short = ar.rate_sensitivity(idx, [factor], window=100)
    assert any("fewer than the window of 100" in n for n in short.notes)
    assert "no benchmark: no relative betas" in short.notes


# --- the policy cycle --------------------------------------------------------------


def _rates_frame(
    days: list[date],
    dff: list[float],
    low: list[float] | None = None,
    high: list[float] | None = None,
) -> pl.DataFrame:
    n = len(days)
    return pl.DataFrame(
        {
            "date": days,
            "DFF": dff,
            "DFEDTARL": low if low is not None else [None] * n,
            "DFEDTARU": high if high is not None else [None] * n,
        },
        schema={
            "date": pl.Date,
            "DFF": pl.Float64,
            "DFEDTARL": pl.Float64,
            "DFEDTARU": pl.Float64,
        },
    )


def test_moves_from_a_noisy_effective_rate() -> None:
    rng = np.random.default_rng(0)
    days = _days(400, date(1995, 1, 1))
    target = np.full(400, 5.0)
    target[100:] = 5.25  # a hike on day 100
    target[250:] = 4.75  # a 50 bp cut on day 250
    dff = target + rng.normal(0.0, 0.03, 400)
    dff[180] = 7.0  # a settlement-day spike
    moves = ar.policy_moves(_rates_frame(days, list(dff)))
    assert moves["direction"].to_list() == ["hike", "cut"]
    assert moves["date"].to_list() == [days[100], days[250]]
    assert moves["rate_before"].to_list() == [5.0, 5.25]
    assert moves["rate_after"].to_list() == [5.25, 4.75]
    assert all(k >= d for k, d in zip(moves["known"], moves["date"], strict=True))
    assert set(moves["source"]) == {"effective rate"}


def test_blips_are_dropped_and_close_moves_merged() -> None:
    days = _days(300, date(1999, 1, 1))
    level = np.full(300, 4.75)
    level[100:110] = 4.25  # a year-end funding dip, undone within 60 days
    level[200:] = 5.0  # a hike ...
    level[205:] = 5.25  # ... and another five days later: one move of 50 bp
    moves = ar.policy_moves(
        _rates_frame(days, list(level)), ar.PolicyRule(median_days=3)
    )
    assert moves.select("date", "rate_before", "rate_after").rows() == [
        (days[200], 4.75, 5.25)
    ]


def test_moves_from_the_target_range_are_exact() -> None:
    days = _days(10, date(2024, 9, 15))
    low = [5.25] * 4 + [4.75] * 6
    high = [5.5] * 4 + [5.0] * 6
    moves = ar.policy_moves(_rates_frame(days, [5.33] * 10, low, high))
    assert moves.rows() == [
        (date(2024, 9, 19), date(2024, 9, 19), "cut", 5.375, 4.875, -0.5,
         "target range midpoint")
    ]  # fmt: skip


def test_policy_rule_checks() -> None:
    with pytest.raises(MethodologyError, match="above half the step"):
        ar.PolicyRule(trigger=0.1)
    with pytest.raises(MethodologyError, match="`median_days` must be at least 1"):
        ar.PolicyRule(median_days=0)
    with pytest.raises(MethodologyError, match="must be positive"):
        ar.PolicyRule(step=-0.25, trigger=-0.2)


def _moves(*rows: tuple[date, str, float, float]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "date": pl.Date,
            "direction": pl.String,
            "rate_before": pl.Float64,
            "rate_after": pl.Float64,
        },
        orient="row",
    )


MOVES = _moves(
    (date(2015, 12, 17), "hike", 0.125, 0.375),
    (date(2016, 12, 15), "hike", 0.375, 0.625),  # a year later: a pause between
    (date(2017, 3, 16), "hike", 0.625, 0.875),
    (date(2019, 8, 1), "cut", 2.375, 2.125),
    (date(2019, 9, 19), "cut", 2.125, 1.875),
)


def test_cycles_first_moves_and_periods() -> None:
    cycles = ar.policy_cycles(MOVES)
    assert cycles.select("cycle", "direction", "moves", "change").rows() == [
        (1, "hiking", 3, 0.75),
        (2, "cutting", 2, -0.5),
    ]
    firsts = ar.first_moves(MOVES)
    assert firsts.select("date", "kind", "rate_before", "rate_after").rows() == [
        (date(2015, 12, 17), "first_hike", 0.125, 0.375),
        (date(2019, 8, 1), "first_cut", 2.375, 2.125),
    ]
    assert ar.first_moves(MOVES, since=date(2016, 1, 1)).height == 1
    periods = ar.policy_periods(
        MOVES, start=date(2015, 12, 1), end=date(2019, 12, 31), pause_days=183
    )
    assert periods.select("phase", "start", "end", "moves").rows() == [
        ("holding", date(2015, 12, 1), date(2015, 12, 16), 0),
        ("hiking", date(2015, 12, 17), date(2015, 12, 17), 1),
        ("holding", date(2015, 12, 18), date(2016, 12, 14), 0),
        ("hiking", date(2016, 12, 15), date(2017, 3, 16), 2),
        ("holding", date(2017, 3, 17), date(2019, 7, 31), 0),
        ("cutting", date(2019, 8, 1), date(2019, 9, 19), 2),
        ("holding", date(2019, 9, 20), date(2019, 12, 31), 0),
    ]
    # the periods tile the span: contiguous, no overlap
    assert periods["days"].sum() == (date(2019, 12, 31) - date(2015, 12, 1)).days + 1
    starts, ends = periods["start"].to_list(), periods["end"].to_list()
    assert all(
        s == e + timedelta(days=1) for s, e in zip(starts[1:], ends[:-1], strict=True)
    )
    with pytest.raises(MethodologyError, match="is before `start`"):
        ar.policy_periods(MOVES, start=date(2020, 1, 1), end=date(2019, 1, 1))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.integers(5, 60))
def test_period_returns_compound_to_the_whole(seed: int, cut: int) -> None:
    rng = np.random.default_rng(seed)
    days = _days(90, date(2016, 11, 20))
    level = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 90)))
    levels = pl.DataFrame({"session": days, "level": level})
    periods = ar.policy_periods(MOVES, start=days[0], end=days[-1], pause_days=cut)
    out = ar.period_returns(periods, levels, benchmark=levels)
    growth = float((1.0 + out["index_return"].fill_null(0.0)).product())
    assert growth == pytest.approx(level[-1] / level[0], rel=1e-12)
    # against itself, small minus large is zero in every period
    assert out["small_minus_large"].drop_nulls().abs().max() == pytest.approx(0.0)


def test_period_and_phase_returns_by_hand() -> None:
    days = _days(6, date(2019, 7, 29))  # Mon 07-29 .. Sat 08-03
    levels = pl.DataFrame({"session": days, "level": [100.0, 110, 99, 108.9, 100, 90]})
    bench = pl.DataFrame({"session": days, "level": [50.0, 50, 55, 55, 50, 50]})
    periods = pl.DataFrame(
        {
            "phase": ["holding", "cutting"],
            "start": [date(2019, 7, 29), date(2019, 8, 1)],
            "end": [date(2019, 7, 31), date(2019, 8, 3)],
        }
    )
    out = ar.period_returns(periods, levels, benchmark=bench)
    # holding: 100 -> 99 (sessions 07-30, 07-31), cutting: 99 -> 90
    assert out["index_return"].to_list() == pytest.approx([-0.01, 90 / 99 - 1])
    assert out["benchmark_return"].to_list() == pytest.approx([0.1, 50 / 55 - 1])
    assert out["sessions"].to_list() == [2, 3]
    phases = ar.phase_summary(periods, levels, benchmark=bench, periods_per_year=2)
    row = phases.filter(pl.col("phase") == "holding").row(0, named=True)
    assert row["index_annualized"] == pytest.approx(0.99 ** (2 / 2) - 1)
    assert row["small_minus_large"] == pytest.approx(0.99 - 1.1)
    cutting = phases.filter(pl.col("phase") == "cutting").row(0, named=True)
    assert cutting["index_annualized"] == pytest.approx((90 / 99) ** (2 / 3) - 1)
    assert cutting["share"] == pytest.approx(3 / 5)


def test_event_study_by_hand() -> None:
    days = _days(10, date(2024, 9, 16))
    level = [100.0, 101, 102, 104, 103, 110, 99, 100, 105, 106]
    bench = [10.0] * 10
    events = pl.DataFrame({"date": [date(2024, 9, 19)], "kind": ["first_cut"]})
    study = ar.event_study(
        pl.DataFrame({"session": days, "level": level}),
        events,
        benchmark=pl.DataFrame({"session": days, "level": bench}),
        pre=2,
        horizons=(1, 3, 20),
        path_sessions=3,
    )
    row = study.events.row(0, named=True)
    # day 0 is 09-19 (104); the reference is the close of 09-18 (102)
    assert row["day0"] == date(2024, 9, 19)
    assert row["pre_2"] == pytest.approx(102 / 100 - 1)
    assert row["post_1"] == pytest.approx(104 / 102 - 1)
    assert row["post_3"] == pytest.approx(110 / 102 - 1)
    assert row["post_20"] is None  # beyond the data
    assert row["sml_post_3"] == pytest.approx(110 / 102 - 1)  # flat benchmark
    summary = study.summary.filter(pl.col("horizon") == 20).row(0, named=True)
    assert summary["events"] == 0
    path = study.paths.filter(pl.col("kind") == "first_cut")
    assert path["offset"].to_list() == [-2, -1, 0, 1, 2, 3]
    assert path["mean"].to_list() == pytest.approx(
        [100 / 102 - 1, 101 / 102 - 1, 0.0, 104 / 102 - 1, 103 / 102 - 1, 110 / 102 - 1]
    )
    with pytest.raises(MethodologyError, match="`horizons` is empty"):
        ar.event_study(
            pl.DataFrame({"session": days, "level": level}), events, horizons=()
        )


# --- r* and stance -------------------------------------------------------------


def test_rstar_proxy_by_hand() -> None:
    real = pl.DataFrame(
        {"date": _days(2), "DFII5": [1.75, None], "DFII10": [2.43, 2.0]}
    )
    out = ar.rstar_proxy(real)
    # (10 x 2.43 - 5 x 1.75) / 5 = (24.3 - 8.75) / 5 = 3.11
    assert out.rows() == [(D0, pytest.approx(3.11))]


def test_policy_stance_by_hand_and_point_in_time() -> None:
    days = _days(4)
    effective = pl.DataFrame({"date": days[:3], "DFF": [5.33, None, 5.08]})
    breakeven = pl.DataFrame({"date": days, "T5YIE": [2.3, 2.2, 2.1, 2.0]})
    rstar = pl.DataFrame({"date": [days[1]], "rstar": [1.5]})
    frame, counts = ar.policy_stance(
        effective, breakeven, rstar, max_carry_days=1, rstar_max_carry_days=1
    )
    assert frame["real_policy_rate"].to_list() == pytest.approx(
        [5.33 - 2.3, 5.33 - 2.2, 5.08 - 2.1, 5.08 - 2.0]
    )
    # r* is not used before its own date, and at most one day after it
    assert frame["rstar"].to_list() == [None, 1.5, 1.5, None]
    assert frame["stance"].to_list()[1] == pytest.approx(5.33 - 2.2 - 1.5)
    assert counts == {
        "dates": 4,
        "effective_carried": 2,
        "effective_missing": 0,
        "rstar_carried": 1,
        "rstar_missing": 2,
    }


def test_returns_by_stance_use_the_stance_at_the_start() -> None:
    days = _days(5)
    levels = pl.DataFrame({"session": days, "level": [100.0, 110, 121, 108.9, 108.9]})
    # restrictive on day 0 and 1, accommodative from day 2 (same-day values)
    stance = pl.DataFrame({"date": days, "stance": [1.0, 0.8, -1.0, -1.0, 0.0]})
    out = ar.returns_by_stance(
        levels, stance, frequency="daily", band=0.5, max_carry_days=0
    )
    rows = {r["stance"]: r for r in out.iter_rows(named=True)}
    # day 1's +10% and day 2's +10% began restrictive; day 3's -10% and day 4's
    # 0% began accommodative
    assert rows["restrictive"]["periods"] == 2
    assert rows["restrictive"]["index_annualized"] == pytest.approx(
        1.21 ** (252 / 2) - 1
    )
    assert rows["accommodative"]["periods"] == 2
    assert rows["accommodative"]["mean_stance"] == pytest.approx(-1.0)
    assert rows["neutral"]["periods"] == 0
    with pytest.raises(MethodologyError, match="`band` must be"):
        ar.returns_by_stance(levels, stance, band=-1.0)


# --- the real rates file ---------------------------------------------------------

#: First move of each cycle since 1989 in the public FOMC record (decision day)
#: and how far the date read from the effective rate may be from it.
FOMC_FIRST_MOVES = [
    (date(1989, 6, 6), "first_cut", 7),
    (date(1994, 2, 4), "first_hike", 7),
    (date(1995, 7, 6), "first_cut", 7),
    (date(1997, 3, 25), "first_hike", 7),
    (date(1998, 9, 29), "first_cut", 21),  # quarter-end noise delays it
    (date(1999, 6, 30), "first_hike", 7),
    (date(2001, 1, 3), "first_cut", 7),
    (date(2004, 6, 30), "first_hike", 7),
    (date(2007, 9, 18), "first_cut", 45),  # the rate fell below target in August
    (date(2015, 12, 16), "first_hike", 1),  # from here: the range, effective next day
    (date(2019, 7, 31), "first_cut", 1),
    (date(2022, 3, 16), "first_hike", 1),
    (date(2024, 9, 18), "first_cut", 1),
]


def test_real_cycles_match_the_fomc_record(data_dir: DataDir) -> None:
    rates = read_us_rates(rates_path(data_dir))
    moves = ar.policy_moves(rates)
    firsts = ar.first_moves(moves, since=date(1989, 1, 1))
    assert firsts["kind"].to_list() == [k for _, k, _ in FOMC_FIRST_MOVES]
    for (decision, _, tolerance), found in zip(
        FOMC_FIRST_MOVES, firsts["date"].to_list(), strict=True
    ):
        assert abs((found - decision).days) <= tolerance, (decision, found)
    # since the range: one move per change of the range, dated when it changes
    ranged = rates.drop_nulls("DFEDTARU")
    mid = (ranged["DFEDTARL"] + ranged["DFEDTARU"]) / 2
    changes = int((mid.diff().fill_null(0.0) != 0).sum())
    assert moves.filter(pl.col("source") == "target range midpoint").height == changes
    assert moves.filter(pl.col("date") == date(2024, 9, 19)).row(0)[3:6] == (
        5.375,
        4.875,
        -0.5,
    )


def test_real_stance_and_betas(data_dir: DataDir) -> None:
    rates = read_us_rates(rates_path(data_dir))
    real = read_real_yields(real_yields_path(data_dir))
    proxy = ar.rstar_proxy(real)
    first = proxy.row(0, named=True)
    assert first["date"] == date(2003, 1, 2)
    assert first["rstar"] == pytest.approx((10 * 2.43 - 5 * 1.75) / 5)
    stance, counts = ar.policy_stance(
        rates.select("date", "DFF"), real.select("date", "T5YIE"), proxy
    )
    assert counts["dates"] == real.drop_nulls("T5YIE").height
    assert counts["effective_missing"] == 0
    row = stance.filter(pl.col("date") == date(2024, 1, 2)).row(0, named=True)
    assert row["real_policy_rate"] == pytest.approx(
        row["effective_rate"] - row["breakeven_5y"]
    )
    assert row["stance"] == pytest.approx(row["real_policy_rate"] - row["rstar"])
    rut = read_index_levels(data_dir.index_levels("RUT"), "RUT").select(
        "session", level="close"
    )
    factor = ar.Factor(
        name="10y",
        label="10y",
        change="difference",
        unit="pp",
        values=rates.select("date", value="DGS10"),
    )
    s = ar.rate_sensitivity(rut, [factor])
    row = s.beta("index", "10y")
    assert row["n"] > 2_000  # weekly since 1987
    assert row["first"] > date(1987, 9, 10)
    assert abs(row["t_stat"]) < 50.0
