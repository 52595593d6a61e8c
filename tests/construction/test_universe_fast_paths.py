"""The universe build's shortcuts give the plain paths' results (issue 13).

The oracles: :func:`r2k.construction.universe._lags_plain` (the split-lag search
on rows in any order), a filter for :func:`_rows_on`, the grouping rule of
:func:`company_ids` as written before issue 13 (:func:`_company_ids_reference`),
the Polars expressions for :class:`LineClasses`, and hand-built expectations for
the share repairs.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

from r2k.construction._stats_kernel import KAHAN_ROWS
from r2k.construction.classify import (
    LineClasses,
    company_key_expr,
    fund_structure_expr,
    security_type_expr,
)
from r2k.construction.universe import (
    LineCodes,
    _coded,
    _company_level_dropped,
    _groups_by_codes,
    _groups_by_window,
    _history_stats,
    _history_stats_compiled,
    _lags_plain,
    _lags_sorted,
    _repair_shares,
    _rows_on,
    _with_stats,
    company_ids,
)

START = date(2026, 1, 5)


def _random_panel(seed: int, *, lines: int = 12, sessions: int = 14) -> pl.DataFrame:
    """Closes with reverse splits, news jumps, gaps, nulls and zeros, by session."""
    rng = random.Random(seed)
    rows = []
    for n in range(lines):
        sid = f"L{n:02d}"
        close, volume, shares = rng.uniform(0.1, 5.0), rng.randint(1, 10**6), 1e7
        for d in range(sessions):
            if rng.random() < 0.1:  # the line has no row this session
                continue
            move = rng.random()
            if move < 0.25:  # reverse split: price up, volume down
                close *= rng.choice([3.0, 5.0, 10.0, 20.0])
                volume = max(1, volume // rng.choice([5, 50]))
            elif move < 0.35:  # news jump on heavy volume
                close *= 4.0
                volume *= 10
            elif move < 0.45:  # the share count catches up
                shares /= rng.choice([1.0, 10.0])
            row_close: float | None = close
            if rng.random() < 0.04:
                row_close = None
            elif rng.random() < 0.03:
                row_close = 0.0
            rows.append(
                {
                    "session": START + timedelta(days=d),
                    "security_id": sid,
                    "close": row_close,
                    "volume": None if rng.random() < 0.03 else volume,
                    "shares_outstanding": None if rng.random() < 0.05 else shares,
                }
            )
    return pl.DataFrame(rows).sort("session", "security_id")


@pytest.mark.parametrize("seed", range(12))
def test_sorted_split_lag_search_equals_the_plain_one(seed: int) -> None:
    panel = _random_panel(seed)
    ids, coded = _coded(panel)
    found = 0
    for offset in (0, 1, 6, 13, 20):  # before, inside and after the sessions
        rank_day = START + timedelta(days=offset)
        for window in (1, 4, 30):
            plain = _lags_plain(coded, ids, rank_day, sessions=window, min_ratio=3.0)
            for compiled in (False, True):  # the stable sort, the compiled pairing
                fast = _lags_sorted(
                    coded,
                    ids,
                    rank_day,
                    sessions=window,
                    min_ratio=3.0,
                    compiled=compiled,
                )
                assert_frame_equal(fast, plain)
            found += fast.height
    if seed == 0:  # the comparison is not only of empty frames
        assert found > 0


@pytest.mark.parametrize("day", [START, START + timedelta(days=3), date(2030, 1, 1)])
def test_rows_of_a_day_are_the_filtered_rows(day: date) -> None:
    panel = _random_panel(1)
    for frame in (panel, panel.reverse()):  # sorted (slice) and not (filter)
        assert_frame_equal(_rows_on(frame, day), frame.filter(pl.col("session") == day))


@pytest.mark.parametrize("seed", range(4))
def test_statistics_beside_the_rows_equal_the_join(seed: int) -> None:
    panel = _random_panel(seed)
    day = START + timedelta(days=10)
    _, coded = _coded(panel)
    stats = _history_stats(coded, day)
    cross = _rows_on(coded, day)
    for rows in (cross, cross.reverse(), pl.concat([cross, cross.head(2)])):
        joined = rows.join(stats, on="_line", how="left", maintain_order="left")
        assert_frame_equal(_with_stats(rows, stats), joined)
    # a line without statistics (not in the history): the join's nulls
    few = stats.filter(pl.col("_line") != cross["_line"][0])
    joined = cross.join(few, on="_line", how="left", maintain_order="left")
    assert_frame_equal(_with_stats(cross, few), joined)


@pytest.mark.parametrize("seed", range(10))
def test_compiled_statistics_are_the_group_bys_bit_for_bit(seed: int) -> None:
    """Polars sums a group in row order with Kahan compensation; the compiled
    loop takes the same steps (closes that jump by 3-20x, nulls, zeros, lines
    missing sessions, rank days before, inside and after the rows)."""
    panel = _random_panel(seed, lines=30, sessions=KAHAN_ROWS)
    _, coded = _coded(panel)
    for offset in (0, 20, 45, KAHAN_ROWS - 1, 90):
        day = START + timedelta(days=offset)
        some = coded.filter(pl.col("session") <= day)
        # Volumes with nulls (read as floats) and without (read as integers).
        for history in (some, some.with_columns(pl.col("volume").fill_null(7))):
            compiled = _history_stats_compiled(history, day)
            assert compiled is not None  # the loop, not the fallback
            plain = _history_stats(history, day).sort("_line")
            assert_frame_equal(compiled.sort("_line"), plain, check_exact=True)
            assert_frame_equal(
                _history_stats(history, day, compiled=True).sort("_line"), plain
            )


def test_compiled_statistics_fall_back_where_they_would_differ() -> None:
    panel = _random_panel(0, lines=5, sessions=KAHAN_ROWS + 1)
    _, coded = _coded(panel)
    day = START + timedelta(days=KAHAN_ROWS + 1)
    # A line with more rows than KAHAN_ROWS: Polars sums long groups otherwise.
    long = coded.with_columns(_line=pl.lit(0, dtype=coded["_line"].dtype))
    assert _history_stats_compiled(long, day) is None
    nan = coded.with_columns(close=pl.col("close").fill_null(float("nan")))
    assert _history_stats_compiled(nan, day) is None  # a NaN that is no null
    assert _history_stats_compiled(coded.reverse(), day) is None  # not by session
    assert_frame_equal(
        _history_stats(nan, day, compiled=True).sort("_line"),
        _history_stats(nan, day).sort("_line"),
    )


def test_compiled_statistics_on_the_real_panel(market_panel: pl.DataFrame) -> None:
    from r2k.maintenance.market import MarketHistory

    market = MarketHistory(market_panel)
    day = date(2026, 4, 30)
    first = market.sessions[market.sessions.index(day) - 39]
    codes = LineCodes(market.lines(), market.line_codes(first, day))
    _, coded = _coded(market.rows(first, day), codes)
    compiled = _history_stats_compiled(coded, day)
    assert compiled is not None
    plain = _history_stats(coded, day).sort("_line")
    assert_frame_equal(compiled.sort("_line"), plain, check_exact=True)
    assert np.isfinite(plain["avg_volume"].drop_nulls().to_numpy()).all()


def _root(security_id: str) -> str:
    return security_id.split(".", 1)[0]


def _company_ids_reference(lines: pl.DataFrame) -> pl.Series:
    """:func:`company_ids` as written before issue 13 (loops over row indices)."""
    ids = lines["security_id"].to_list()
    keys = lines["company_key"].to_list()
    seen: dict[str, int] = {}
    for i, k in enumerate(keys):
        group = ids[i] if k is None or k == "" else k
        seen[group] = seen.get(group, 0) + 1
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        group = ids[i] if k is None or k == "" else k
        if seen[group] > 1:
            groups.setdefault(k or ids[i], []).append(i)
    out = list(ids)
    for members in groups.values():
        members.sort(key=lambda i: ids[i])
        clusters: list[list[int]] = []
        for i in members:
            root = _root(ids[i])
            for cluster in clusters:
                other = _root(ids[cluster[0]])
                n = 0
                for x, y in zip(root, other, strict=False):
                    if x != y:
                        break
                    n += 1
                if n >= min(2, len(root), len(other)):
                    cluster.append(i)
                    break
            else:
                clusters.append([i])
        for cluster in clusters:
            for i in cluster:
                out[i] = ids[cluster[0]]
    return pl.Series("company_id", out, dtype=pl.String)


@pytest.mark.parametrize("seed", range(40))
def test_company_ids_equal_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    tickers = ["GOOG", "GOOGL", "Z", "ZG", "MOG.A", "MOG.B", "OWL", "OBDC", "A", "AB"]
    tickers += [f"{c}{d}" for c in "XY" for d in ("", "A", "B.C")]
    tickers += ["Q.A", "Q.B", "QQ", ".Q", "QQQ.U"]
    keys = [None, "", "alphabet", "blue owl", "moog", "x"]
    n = rng.randint(0, 30)
    lines = pl.DataFrame(
        {
            "security_id": [rng.choice(tickers) for _ in range(n)],
            "company_key": [rng.choice(keys) for _ in range(n)],
        },
        schema={"security_id": pl.String, "company_key": pl.String},
    )
    assert_series_equal(company_ids(lines), _company_ids_reference(lines))
    if n:  # the numbered groups against the window queries they replaced
        first, one = _groups_by_codes(lines)
        first_w, one_w = _groups_by_window(lines)
        assert_series_equal(first, first_w)
        assert one.tolist() == one_w.tolist()


def test_share_repairs_on_whole_companies_only() -> None:
    lines = pl.DataFrame(
        {
            "security_id": ["FOX", "FOXA", "FOX.NT", "SOLO", "SOLO.NT", "NEW"],
            "company_id": ["FOX", "FOX", "FOX", "SOLO", "SOLO", "NEW"],
            "security_type": ["class_share", "class_share", "note", "common"] * 1
            + ["note", "common"],
            "shares_outstanding": [425e6, 425e6, None, 1e6, 5e5, None],
            "last_shares": [425e6, 425e6, None, 1e6, 5e5, 2e6],
            "close": [30.0, 31.0, 100.0, 5.0, 100.0, 7.0],
            "avg_volume": [10.0, 20.0, 1.0, 5.0, 1.0, 3.0],
        }
    )
    out, repairs = _repair_shares(lines)
    # FOX carries the company total on both classes: the most traded keeps it;
    # SOLO's note is no equity line; NEW's count is carried forward.
    assert out["shares_outstanding"].to_list() == [
        None,
        425e6,
        None,
        1e6,
        5e5,
        2e6,
    ]
    assert repairs.rows() == [
        (
            "NEW",
            "shares_carried_forward",
            "no rank-day cap; shares 2000000.0 from an earlier session",
        ),
        (
            "FOX",
            "company_level_shares",
            "company total kept once on another class of FOX",
        ),
    ]
    untouched, none = _repair_shares(lines.filter(pl.col("company_id") == "SOLO"))
    assert_frame_equal(untouched, lines.filter(pl.col("company_id") == "SOLO"))
    assert none.height == 0


_EQUITY_TYPES = ["common", "ordinary", "class_share"]


def _company_level_dropped_reference(lines: pl.DataFrame) -> pl.Series:
    """The company-level share repair as window queries (before issue 13)."""
    equity = pl.col("security_type").is_in(_EQUITY_TYPES)
    cap = pl.col("shares_outstanding") * pl.col("close")
    known = equity & pl.col("shares_outstanding").is_not_null()
    n_known = known.sum().over("company_id")

    def spread(expr: pl.Expr) -> pl.Expr:
        kept = pl.when(known).then(expr)
        return (kept.max() / kept.min()).over("company_id") - 1.0

    company_level = (
        known
        & (n_known >= 2)
        & ((spread(pl.col("shares_outstanding")) <= 0.02) | (spread(cap) <= 0.02))
    )
    level = pl.col("_company_level")
    keeper = (
        pl.col("security_id")
        .filter(level)
        .sort_by(
            [
                pl.col("avg_volume").filter(level).fill_null(0.0),
                pl.col("security_id").filter(level),
            ],
            descending=[True, False],
        )
        .first()
        .over("company_id")
    )
    lines = lines.with_columns(_company_level=company_level)
    return lines.select(level & (pl.col("security_id") != keeper)).to_series()


@pytest.mark.parametrize("seed", range(60))
def test_company_level_repair_equals_the_window_queries(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 40)
    nan = float("nan")
    lines = pl.DataFrame(
        {
            "security_id": [
                rng.choice("ABCDEFGH") + rng.choice("XY") for _ in range(n)
            ],
            "company_id": [rng.choice(["C1", "C2", "C3", None]) for _ in range(n)],
            "security_type": [
                rng.choice([*_EQUITY_TYPES, "note", None]) for _ in range(n)
            ],
            "shares_outstanding": [
                rng.choice([None, nan, 0.0, 100.0, 101.0, 101.9, 150.0])
                for _ in range(n)
            ],
            "close": [rng.choice([None, nan, 1.0, 1.01, 2.0]) for _ in range(n)],
            "avg_volume": [
                rng.choice([None, nan, 0.0, 5.0, 5.0, 9.0, float("inf")])
                for _ in range(n)
            ],
        },
        schema={
            "security_id": pl.String,
            "company_id": pl.String,
            "security_type": pl.String,
            "shares_outstanding": pl.Float64,
            "close": pl.Float64,
            "avg_volume": pl.Float64,
        },
    )
    expected = _company_level_dropped_reference(lines).fill_null(value=False)
    assert _company_level_dropped(lines).tolist() == expected.to_list()


def _direct(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        security_type_expr("name", symbol_col="security_id"),
        company_key_expr("name"),
        fund_structure_expr("name", "sector"),
    )


def test_memo_join_path_with_new_and_unnamed_lines() -> None:
    rng = random.Random(5)
    names = [
        "Ares Capital Corporation Common Stock",
        "Acme Acquisition Corp. Warrant",
        "Alphabet Inc. Class C Capital Stock",
        "Citigroup Inc.",
        "Public Storage Depositary Shares Each Representing 1/1000 of a Preferred",
        None,
    ]
    symbols = ["ARCC", "ACAW", "GOOG", "C^R", "PSA^H", None, "CVCO"]
    sectors = ["Finance", None, "Technology"]

    def frame(n: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "security_id": [rng.choice(symbols) for _ in range(n)],
                "name": [rng.choice(names) for _ in range(n)],
                "sector": [rng.choice(sectors) for _ in range(n)],
                "close": [float(i) for i in range(n)],
            },
            schema={
                "security_id": pl.String,
                "name": pl.String,
                "sector": pl.String,
                "close": pl.Float64,
            },
        )

    classes = LineClasses()
    first = frame(100).head(70)  # more rows than the row-by-row lookup takes
    assert_frame_equal(classes.attach(first), _direct(first))
    for n in (200, 90, 10):  # some lines known, some new, some unnamed
        more = frame(n)
        assert_frame_equal(classes.attach(more), _direct(more))
