"""The calculation bench's dense NumPy pass and fixed-membership panel (issue 13).

The dense pass is the floor the batch is compared with; it must compute the same
index as the engine on a fixed membership, or the ratio compares different work.
Expected values: methodology.md section 11 (price return chains sum(N P) /
sum(N P_ref); total return, "reinvest", adds sum(N d) to the numerator).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from bench.beacon_bench import actions_frame, market_frame, panel_frames, r2k_levels
from bench.calc_bench import Dense, _pack, dense_market, dense_panel, dense_pass

from r2k.maintenance.market import MarketHistory
from r2k.synthetic.market import synthetic_market


def test_dense_pass_by_hand() -> None:
    # two lines, three sessions; line 1 pays 1.0 going ex on session 2
    close = np.array([[10.0, 20.0], [11.0, 20.0], [11.0, 18.0]])
    held = np.array([[1.0, 2.0], [1.0, 2.0]])
    dividends = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    pr, tr = dense_pass(Dense(close=close, held=held, dividends=dividends))
    assert pr == pytest.approx([100 * 51 / 50, 100 * 51 / 50 * 47 / 51])
    assert tr == pytest.approx([100 * 51 / 50, 100 * 51 / 50 * 49 / 51])


def test_pack_reuses_columns_of_lines_that_never_overlap() -> None:
    first = np.array([0, 0, 5, 3, 6])
    last = np.array([4, 9, 8, 5, 7])
    column, width = _pack(first, last)
    assert width == 3
    for a in range(first.size):
        for b in range(a + 1, first.size):
            overlap = first[a] <= last[b] and first[b] <= last[a]
            if overlap:
                assert column[a] != column[b]


def test_engine_on_a_fixed_membership_is_the_dense_pass() -> None:
    panel, dividends = panel_frames(names=30, years=1, seed=3)
    assert dividends.height > 0
    levels = r2k_levels(market_frame(panel), actions_frame(dividends))
    pr, tr = dense_pass(dense_panel(panel, dividends, 30))
    np.testing.assert_allclose(levels["price_return"].to_numpy()[1:], pr, rtol=1e-12)
    np.testing.assert_allclose(levels["total_return"].to_numpy()[1:], tr, rtol=1e-12)
    assert not np.allclose(pr, tr, rtol=1e-6)  # the dividends count


def test_dense_market_holds_every_row() -> None:
    data = synthetic_market(200, start=date(2020, 1, 2), end=date(2020, 6, 30))
    market = MarketHistory(data.market)
    dense = dense_market(market, data.actions)
    assert dense.close.shape[0] == len(market.sessions)
    assert int((dense.close > 0).sum()) == data.market.height
    paid = data.actions.filter(pl.col("action") == "cash_dividend")
    assert dense.dividends.sum() == pytest.approx(paid["amount"].sum(), rel=1e-12)


def test_the_benchs_warm_up_loads_the_compiled_loops() -> None:
    # The timed runs of the beacon and fixed-membership benches follow a warm-up
    # of WARM_SESSIONS sessions: longer than COMPILED_SESSIONS, it pays Numba's
    # load (about 1 s) so that no timed run does.
    from bench.beacon_bench import WARM_SESSIONS

    from r2k.maintenance.book import COMPILED_SESSIONS

    assert WARM_SESSIONS > COMPILED_SESSIONS
