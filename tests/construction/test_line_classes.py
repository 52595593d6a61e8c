"""Each line classified once per data load (issue 13), with unchanged results.

:class:`LineClasses` memoises the name classifiers; the universe build takes the
memo and the source's line codes. The oracle is the plain path: the Polars
expressions on every row, and :func:`build_universe` numbering and classifying
on its own.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.construction.classify import (
    LineClasses,
    company_key_expr,
    fund_structure_expr,
    security_type_expr,
)
from r2k.construction.universe import LineCodes, build_universe, split_lags
from r2k.errors import InputError
from r2k.maintenance.market import MarketHistory

RANK_DAY = date(2026, 4, 30)


def _direct(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        security_type_expr("name", symbol_col="security_id"),
        company_key_expr("name"),
        fund_structure_expr("name", "sector"),
    )


def test_memo_gives_the_expressions_values_and_classifies_once() -> None:
    frame = pl.DataFrame(
        {
            "security_id": ["ARCC", "ACAW", None, "C^R", "X", "X"],
            "name": [
                "Ares Capital Corporation Common Stock",
                "Acme Acquisition Corp. Warrant",
                "Nameless Holdings Units",
                "Citigroup Inc.",
                None,
                "X Corp Class A Common Stock",
            ],
            "sector": ["Finance", None, None, "Finance", "Energy", None],
        }
    )
    classes = LineClasses()
    assert_frame_equal(classes.attach(frame), _direct(frame))
    assert classes.classified == 6
    again = pl.concat([frame, frame]).reverse()
    assert_frame_equal(classes.attach(again), _direct(again))
    assert classes.classified == 6  # nothing new: nothing classified again


def test_memo_shared_by_threads_classifies_each_line_once() -> None:
    """Two threads attaching overlapping new lines at once (a worker building a
    rank-day universe beside the calculation's screens): the values are the
    expressions', and each line is remembered once (a duplicate in the memo would
    duplicate rows of every later join)."""
    names = [f"Company {i} Inc. Common Stock" for i in range(400)]
    frame = pl.DataFrame(
        {
            "security_id": [f"C{i}" for i in range(400)],
            "name": names,
            "sector": ["Technology"] * 400,
        }
    )
    halves = [frame.slice(0, 300), frame.slice(100, 300)]
    for _ in range(5):
        classes = LineClasses()
        barrier = threading.Barrier(2)

        def attach(
            part: pl.DataFrame,
            memo: LineClasses = classes,
            start: threading.Barrier = barrier,
        ) -> pl.DataFrame:
            start.wait()
            return memo.attach(part)

        with ThreadPoolExecutor(max_workers=2) as pool:
            outs = list(pool.map(attach, halves))
        for part, out in zip(halves, outs, strict=True):
            assert_frame_equal(out, _direct(part))
        assert classes.classified == 400
        assert_frame_equal(classes.attach(frame), _direct(frame))


def test_attach_by_line_code_checks_each_lines_keys() -> None:
    """A frame's rows found by their line codes get the values of the keys they
    have now: a renamed line (same code, new name) is classified by its new name,
    a new code is classified, a known one is not classified again."""
    n = 150
    base = pl.DataFrame(
        {
            "security_id": [f"L{i}" for i in range(n)],
            "name": [f"Line {i} Inc. Common Stock" for i in range(n)],
            "sector": [None if i % 7 == 0 else "Technology" for i in range(n)],
        }
    )
    classes = LineClasses()
    assert_frame_equal(classes.attach(base, np.arange(n)), _direct(base))
    assert classes.classified == n
    # Later: lines 0-9 gone, 10-19 renamed (a warrant, a null name), 20 new
    # codes past the last, the rows in another order.
    renamed = [None if i == 12 else f"Line {i} Inc. Warrant" for i in range(10, 20)]
    later = pl.concat(
        [
            base.slice(10, 10).with_columns(name=pl.Series(renamed)),
            base.slice(20, n - 20),
            pl.DataFrame(
                {
                    "security_id": [f"N{i}" for i in range(20)],
                    "name": [f"New {i} Holdings Units" for i in range(20)],
                    "sector": ["Finance"] * 20,
                }
            ),
        ]
    )
    codes = np.concatenate([np.arange(10, n), np.arange(n + 100, n + 120)])
    order = np.random.default_rng(3).permutation(later.height)
    later, codes = later[order], codes[order]
    assert_frame_equal(classes.attach(later, codes), _direct(later))
    assert classes.classified == n + 10 + 20
    assert_frame_equal(classes.attach(later, codes), _direct(later))
    assert classes.classified == n + 30  # all found by code: none classified
    # Back to the first names: found again (by their keys, then by code).
    assert_frame_equal(classes.attach(base, np.arange(n)), _direct(base))
    assert classes.classified == n + 30


def test_memo_on_the_real_panel_small_and_large_frames(
    market_panel: pl.DataFrame,
) -> None:
    classes = LineClasses()
    cross = market_panel.filter(pl.col("session") == RANK_DAY)
    for frame in (cross.head(40), cross, cross.sample(30, seed=1), cross.tail(500)):
        assert_frame_equal(classes.attach(frame), _direct(frame))
    assert (
        classes.classified == cross.select("security_id", "name", "sector").n_unique()
    )


def test_universe_from_the_markets_codes_and_memo(market_panel: pl.DataFrame) -> None:
    market = MarketHistory(market_panel)
    history = market.sessions[: market.sessions.index(RANK_DAY) + 1][-40:]
    rows = market.rows(history[0], RANK_DAY)
    codes = LineCodes(market.lines(), market.line_codes(history[0], RANK_DAY))
    plain = build_universe(rows, RANK_DAY)
    coded = build_universe(rows, RANK_DAY, classes=market.classes, codes=codes)
    assert_frame_equal(coded.universe, plain.universe)
    assert_frame_equal(coded.securities, plain.securities)
    assert plain.line_codes is None  # numbered by the build: no source codes
    assert coded.line_codes is not None
    lines = market.lines().gather(coded.line_codes)
    assert lines.to_list() == coded.universe["security_id"].to_list()
    # The history's numeric columns and the rank day's rows: the same universe.
    numeric = market.numeric_rows(history[0], RANK_DAY)
    assert set(numeric.columns) == {
        "session",
        "close",
        "volume",
        "shares_outstanding",
    }
    split = build_universe(
        numeric,
        RANK_DAY,
        classes=market.classes,
        codes=codes,
        cross_section=market.rows(RANK_DAY, RANK_DAY),
    )
    assert_frame_equal(split.universe, plain.universe)
    assert_frame_equal(split.repairs.sort(pl.all()), plain.repairs.sort(pl.all()))
    with pytest.raises(InputError, match="line codes"):
        build_universe(numeric, RANK_DAY, cross_section=market.rows(RANK_DAY, RANK_DAY))
    with pytest.raises(InputError, match="cross-section has"):
        build_universe(
            numeric,
            RANK_DAY,
            codes=codes,
            cross_section=market.rows(RANK_DAY, RANK_DAY).head(3),
        )
    assert_frame_equal(coded.repairs.sort(pl.all()), plain.repairs.sort(pl.all()))


@pytest.mark.parametrize("seed", [1, 2])
def test_split_lags_do_not_depend_on_row_order(
    market_panel: pl.DataFrame, seed: int
) -> None:
    lags = split_lags(market_panel, RANK_DAY)
    assert lags.height > 0  # the panel has lagging counts (AIRE, see split_lags)
    shuffled = market_panel.sample(fraction=1.0, shuffle=True, seed=seed)
    assert_frame_equal(split_lags(shuffled, RANK_DAY), lags)
