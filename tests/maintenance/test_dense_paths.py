"""The engine's fast paths against their plain definitions (issue 13).

The calculation numbers lines once per market, lays out only what it reads and
values a block on the columns held in it; each shortcut here is checked against
the plain computation it replaces (the string ids, :func:`ffill` over every
column, the share counts of every line, the full-width sums), so a shortcut
cannot change a level.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k import schemas
from r2k.construction.universe import LineCodes
from r2k.errors import SchemaError
from r2k.maintenance import MarketHistory, Settings, _kernels, calculate, initial_state
from r2k.maintenance import book as book_module
from r2k.maintenance.book import (
    EventBatch,
    _fill_forward,
    build_block,
    events_frame,
    ffill,
)
from r2k.maintenance.market import _HASHED_LOOKUPS
from r2k.methodology.rule_sets import RuleSet, rule_set_for
from r2k.sessions import sessions_in_range

DAYS = sessions_in_range(date(2024, 1, 2), date(2024, 3, 29))


def _rows(seed: int, lines: int = 12) -> pl.DataFrame:
    """Lines listing and delisting at random sessions, some with gaps."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(lines):
        sid = f"L{k:02d}" + (".B" if k % 5 == 4 else "")
        first, last = sorted(rng.integers(0, len(DAYS), 2).tolist())
        for i in range(first, last + 1):
            if rng.random() < 0.1:  # no row that session
                continue
            close = float(rng.uniform(5, 50))
            shares = None if rng.random() < 0.1 else float(rng.integers(1, 9) * 1e6)
            rows.append(
                {
                    "session": DAYS[i],
                    "security_id": sid,
                    "name": f"{sid} Inc. Common Stock",
                    "close": close,
                    "volume": 1000,
                    "shares_outstanding": shares,
                    "total_market_cap": None if shares is None else close * shares,
                    "sector": "Technology",
                }
            )
    return pl.DataFrame(rows, schema=schemas.MARKET, orient="row")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_line_codes_name_each_rows_line(seed: int) -> None:
    frame = _rows(seed)
    market = MarketHistory(frame.sample(fraction=1.0, shuffle=True, seed=seed))
    ordered = frame.sort("session", "security_id")
    assert market.frame.equals(ordered)  # sorted as before the codes existed
    assert market.lines().to_list() == sorted(set(frame["security_id"]))
    codes = market.line_codes(DAYS[0], DAYS[-1])
    assert (
        market.lines().gather(codes).equals(ordered["security_id"], check_names=False)
    )
    first = ordered.group_by("security_id").agg(pl.col("session").min())
    days = dict(zip(first["security_id"], first["session"], strict=True))
    expected = [(days[s] - date(1970, 1, 1)).days for s in market.lines()]
    assert market.first_days().tolist() == expected


def test_codes_of_a_few_ids_and_of_many_agree() -> None:
    market = MarketHistory(_rows(3, lines=30))
    lines = market.lines().to_list()
    few = pl.Series([lines[3], "NOPE", None, lines[0]], dtype=pl.String)
    assert market.codes_of(few).tolist() == [3, -1, -1, 0]
    many = pl.Series((few.to_list() * _HASHED_LOOKUPS)[: _HASHED_LOOKUPS + 2])
    assert (
        market.codes_of(many).tolist()
        == ([3, -1, -1, 0] * _HASHED_LOOKUPS)[: _HASHED_LOOKUPS + 2]
    )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(1, 6),
    st.integers(0, 25),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_fill_forward_is_ffill(
    rows: int, cols: int, limit: int, gaps: float, seed: int, compiled: bool
) -> None:
    # By the compiled loop (a long block's) or by ffill on the gap columns.
    rng = np.random.default_rng(seed)
    values = rng.random((rows, cols))
    values[rng.random((rows, cols)) < gaps] = np.nan
    missing = np.isnan(values)
    seeded = values.copy()  # some gaps seeded afterwards, as the state's closes
    seeded[missing & (rng.random((rows, cols)) < 0.2)] = 7.0
    expected = ffill(seeded, limit)
    _fill_forward(seeded, missing, limit, compiled=compiled)
    assert np.array_equal(seeded, expected, equal_nan=True)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["uint8", "uint16", "uint32", "int64", "int32"]),
    st.integers(1, 12),
    st.integers(1, 40),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_block_layout_places_each_row_as_the_flat_index_did(
    dtype: str, sessions: int, lines: int, read_only: bool, seed: int
) -> None:
    # Rows of each session in ascending line order, some sessions skipped (no
    # row of the block), the lines placed in a subset of the block's columns.
    rng = np.random.default_rng(seed)
    width = lines + 3
    code_column = np.where(rng.random(lines) < 0.8, rng.permutation(width)[:lines], -1)
    placed = np.flatnonzero(code_column >= 0)
    rows = np.sort(rng.choice(sessions + 2, size=sessions, replace=False))
    per = [
        np.sort(
            rng.choice(placed, size=rng.integers(0, placed.size + 1), replace=False)
        )
        for _ in range(sessions)
    ]
    counts = np.array([p.size for p in per], dtype=np.int64)
    codes = np.concatenate(per).astype(dtype)
    prices = rng.random(codes.size)
    prices[rng.random(codes.size) < 0.1] = np.nan
    if read_only:  # as Polars hands its buffers out
        codes.flags.writeable = prices.flags.writeable = False
    expected = np.full((sessions + 2, width), np.nan)
    flat = np.repeat(rows, counts) * width + code_column[codes.astype(np.intp)]
    expected.reshape(-1)[flat] = prices
    out = np.full((sessions + 2, width), np.nan)
    _kernels.place_rows(codes, counts, rows, code_column, prices, out)
    assert np.array_equal(out, expected, equal_nan=True)
    seen, marked = np.zeros(lines, dtype=bool), np.zeros(lines, dtype=bool)
    seen[codes.astype(np.intp)] = True
    _kernels.mark_lines(codes, marked)
    assert np.array_equal(marked, seen)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_latest_values_are_those_of_the_session_by_session_steps(
    sessions: int, lines: int, seed: int
) -> None:
    # Each line's latest known value, the sessions read from the last back.
    rng = np.random.default_rng(seed)
    per = [
        np.sort(rng.choice(lines, rng.integers(0, lines + 1), replace=False))
        for _ in range(sessions)
    ]
    counts = np.array([p.size for p in per], dtype=np.int64)
    columns = np.concatenate(per).astype(np.int64)
    values = rng.random(columns.size)
    values[rng.random(columns.size) < 0.3] = np.nan
    expected = np.full(lines, np.nan)
    stop = values.size
    for count in counts[::-1]:
        at, got = columns[stop - count : stop], values[stop - count : stop]
        take = np.isnan(expected[at]) & ~np.isnan(got)
        expected[at[take]] = got[take]
        stop -= count
    out = np.full(lines, np.nan)
    _kernels.latest_values(values, counts, columns, out)
    assert np.array_equal(out, expected, equal_nan=True)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(0, 6), st.integers(0, 2**32 - 1))
def test_a_sessions_open_is_the_numpy_steps(lines: int, limit: int, seed: int) -> None:
    # Index shares N = shares x floats, runs grown where no price and ended at
    # one, and the held lines whose run reached the limit: the steps the walk
    # took with NumPy before its open was one loop.
    rng = np.random.default_rng(seed)
    shares = np.where(rng.random(lines) < 0.5, rng.random(lines) * 1e6, 0.0)
    floats = rng.random(lines)
    run = rng.integers(0, 2 * limit + 2, lines)
    missing = rng.random(lines) < rng.random()
    expected_run = (run + 1) * missing
    expected_stale = np.flatnonzero((expected_run >= limit) & (shares > 0))
    index_shares, stale = np.full(lines, np.nan), np.full(lines, -1)
    n = _kernels.open_session(shares, floats, run, missing, index_shares, limit, stale)
    assert np.array_equal(index_shares, shares * floats)
    assert np.array_equal(run, expected_run)
    assert stale[:n].tolist() == expected_stale.tolist()


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("few", [64, 10**9])
def test_share_counts_of_some_lines_are_those_of_every_line(
    seed: int, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Up to _FEW_COLUMNS columns are looked up session by session back, more
    # read from the layout of every line: with the bound out of reach, every
    # lookup goes back session by session, and still gives the layout's counts.
    monkeypatch.setattr(book_module, "_FEW_COLUMNS", few)
    market = MarketHistory(_rows(seed))
    nobody = pl.DataFrame(
        schema={
            "security_id": pl.String,
            "shares": pl.Float64,
            "float_factor": pl.Float64,
        }
    )
    state, _ = initial_state(market.sessions[10], nobody, market)
    block = build_block(state, list(market.sessions[11:40]), market)
    rng = np.random.default_rng(seed)
    for t in range(len(block.sessions)):
        every = block.shares_at(t)
        for count in (5, len(block.ids)):
            some = np.sort(rng.choice(len(block.ids), count, replace=False))
            got = block.shares_at(t, some)
            assert np.array_equal(got, every[some], equal_nan=True)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_block_from_the_codes_of_the_block_before_is_the_same(seed: int) -> None:
    """The batch hands each block the market codes of its starting lines (those
    of the block before); the block is the one built from their ids, a line the
    market does not have included."""
    market = MarketHistory(_rows(seed))
    base = market.sessions[10]
    members = market.cross_section(base).select(
        "security_id", shares="shares_outstanding", float_factor=pl.lit(1.0)
    )
    state, _ = initial_state(base, members, market)
    gone = pl.DataFrame(  # a line the market does not have, carried by the state
        {
            "security_id": ["ZZ-GONE"],
            "shares": [1e6],
            "float_factor": [1.0],
            "last_close": [5.0],
            "missing_run": [0],
        },
        schema=schemas.STATE_LINES,
    )
    state = dataclasses.replace(
        state, lines=pl.concat([state.lines, gone]).sort("security_id")
    )
    settings = Settings(rules=rule_set_for(base))
    first = list(market.sessions[11:30])
    from r2k.maintenance.actions import prepare_actions
    from r2k.maintenance.engine import run_block

    actions = prepare_actions(pl.DataFrame(schema=schemas.CORPORATE_ACTIONS), market)
    after, values = run_block(state, first, market, actions, settings, [], False)
    assert (
        values.line_codes.tolist()
        == market.codes_of(after.lines["security_id"]).tolist()
    )
    later = list(market.sessions[30:45])
    start_codes = market.codes_of(state.lines["security_id"])
    assert (start_codes < 0).any()  # the line the market does not have
    for start, sessions, codes in (
        (state, first, start_codes),
        (after, later, values.line_codes),
    ):
        coded = build_block(start, sessions, market, codes)
        plain = build_block(start, sessions, market)
        assert coded.ids == plain.ids
        for name in ("close_ff", "missing", "missing_run", "state_columns"):
            assert np.array_equal(
                getattr(coded, name), getattr(plain, name), equal_nan=True
            ), name


def _line(sid: str) -> pl.DataFrame:
    n = len(DAYS)
    return pl.DataFrame(
        {
            "session": DAYS,
            "security_id": [sid] * n,
            "name": [f"{sid} Inc. Common Stock"] * n,
            "close": [10.0] * n,
            "volume": [1000] * n,
            "shares_outstanding": [1e6] * n,
            "total_market_cap": [1e7] * n,
            "sector": ["Technology"] * n,
        },
        schema=schemas.MARKET,
    )


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_a_non_finite_dividend_is_an_error_naming_its_row(bad: float) -> None:
    # A NaN or infinite amount would reach every session sum (0 shares x inf is
    # NaN): it is bad input, refused before any calculation, naming row and field.
    market = MarketHistory(pl.concat([_line("A"), _line("B")]))
    rows = [
        {"security_id": sid, "ex_date": DAYS[3], "action": "cash_dividend", "amount": a}
        for sid, a in (("A", 0.5), ("B", bad))
    ]
    acts = pl.DataFrame(
        [{n: r.get(n) for n in schemas.CORPORATE_ACTIONS.names()} for r in rows],
        schema=schemas.CORPORATE_ACTIONS,
        orient="row",
    )
    held = pl.DataFrame({"security_id": ["A"], "shares": [1e6], "float_factor": [1.0]})
    state, _ = initial_state(DAYS[0], held, market)
    cfg = Settings(rules=RuleSet.default(), quarterly=False, reconstitution_dates=())
    with pytest.raises(SchemaError, match="row 1: amount must be a finite number"):
        calculate(state, market, acts, cfg, end=DAYS[5])
    finite = acts.with_columns(amount=pl.Series([0.5, 0.25]))
    points = calculate(state, market, finite, cfg, end=DAYS[5]).levels[
        "dividend_points"
    ]
    assert points[3] == pytest.approx(0.5 * 1e6 / (1e7 / 100.0))  # A's dividend only


def test_a_sources_line_codes_are_used_when_they_fit() -> None:
    frame = _rows(7).sort("session", "security_id")
    plain = MarketHistory(frame)
    lines = plain.lines()
    codes = plain.line_codes(DAYS[0], DAYS[-1]).copy()
    coded = MarketHistory(frame, codes=LineCodes(lines, codes))
    assert coded.lines().equals(lines)
    assert np.array_equal(coded.line_codes(DAYS[0], DAYS[-1]), codes)
    assert coded.first_sessions().equals(plain.first_sessions())
    # Codes that name other lines, or in no order, are not used.
    wrong = (codes + 1) % lines.len()
    for bad in (LineCodes(lines, wrong), LineCodes(lines.reverse(), codes)):
        market = MarketHistory(frame, codes=bad)
        assert np.array_equal(market.line_codes(DAYS[0], DAYS[-1]), codes)
        assert market.lines().equals(lines)


def _fixed_panel(seed: int, lines: int = 8, swap: bool = False) -> pl.DataFrame:
    """Every session lists the same lines (``swap``: one session lists another)."""
    rng = np.random.default_rng(seed)
    ids = [f"F{k:02d}" for k in range(lines)]
    rows = []
    for i, day in enumerate(DAYS):
        for sid in ids:
            if swap and i == 30 and sid == ids[3]:
                sid = "G99"  # same count, another line: not a fixed panel
            close = float(rng.uniform(5, 50))
            rows.append(
                {
                    "session": day,
                    "security_id": sid,
                    "name": f"{sid} Inc. Common Stock",
                    "close": None if rng.random() < 0.05 else close,
                    "volume": 1000,
                    "shares_outstanding": 1e6,
                    "total_market_cap": close * 1e6,
                    "sector": "Technology",
                }
            )
    return pl.DataFrame(rows, schema=schemas.MARKET, orient="row")


@pytest.mark.parametrize(("seed", "swap"), [(0, False), (1, True), (2, False)])
def test_a_fixed_panels_codes_are_the_general_numbering(seed: int, swap: bool) -> None:
    # The fixed-lines path numbers without hashing; the plain definition is the
    # position of each row's id among the sorted distinct ids.
    frame = _fixed_panel(seed, swap=swap)
    market = MarketHistory(frame)
    lines = sorted(set(frame["security_id"]))
    assert market.lines().to_list() == lines
    expected = [lines.index(s) for s in market.frame["security_id"]]  # its order
    assert market.line_codes(DAYS[0], DAYS[-1]).tolist() == expected
    first = market.first_sessions().sort("security_id")
    by_line = (
        frame.group_by("security_id").agg(pl.col("session").min()).sort("security_id")
    )
    assert first["first_session"].to_list() == by_line["session"].to_list()


def _levels_and_state(
    frame: pl.DataFrame, monkeypatch: pytest.MonkeyPatch | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    if monkeypatch is not None:  # force the general layout and valuation
        from r2k.maintenance import book

        monkeypatch.setattr(book, "_same_lines_layout", lambda *a: None)
        monkeypatch.setattr(
            book,
            "_special_columns",
            lambda at, gaps, changes: np.arange(gaps.size),
        )
    market = MarketHistory(frame)
    base = market.sessions[0]
    members = market.cross_section(base).select(
        "security_id", shares="shares_outstanding", float_factor=pl.lit(0.5)
    )
    state, _ = initial_state(base, members, market)
    ids = members["security_id"].to_list()
    actions = pl.DataFrame(
        {
            "security_id": [ids[1], ids[1], ids[2], ids[5]],
            "ex_date": [DAYS[10], DAYS[10], DAYS[10], DAYS[40]],
            "action": ["cash_dividend"] * 4,
            "ratio": [None] * 4,
            "amount": [0.1, 0.25, 0.3, 0.2],
            "other_id": [None] * 4,
            "shares_outstanding": [None] * 4,
            "float_factor": [None] * 4,
            "source": ["test"] * 4,
        },
        schema=schemas.CORPORATE_ACTIONS,
    )
    settings = Settings(rules=rule_set_for(DAYS[0]), quarterly=False)
    out = calculate(
        state,
        market,
        actions,
        settings,
        end=market.sessions[-1],
        constituents=True,
        block_sessions=20,
    )
    return out.levels, out.constituents


@pytest.mark.parametrize("seed", [3, 4])
def test_fast_layout_and_plain_columns_value_as_the_general_steps(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fixed panel (with gaps: some closes null) takes the reshape layout and
    # values its gap-free columns as plain; forcing the placement and the
    # general steps on every column must give the same levels and constituents
    # (bit for bit but the dividend sums, added sparse: to 1e-15).
    frame = _fixed_panel(seed)
    fast_levels, fast_parts = _levels_and_state(frame, None)
    slow_levels, slow_parts = _levels_and_state(frame, monkeypatch)
    assert fast_parts.equals(slow_parts)
    for column in ("market_value", "price_return"):
        assert fast_levels[column].to_list() == slow_levels[column].to_list()
    np.testing.assert_allclose(
        fast_levels["total_return"].to_numpy(),
        slow_levels["total_return"].to_numpy(),
        rtol=1e-15,
    )


@pytest.mark.parametrize("seed", [3, 8])
def test_compiled_loops_and_numpy_steps_calculate_the_same_index(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Yearly blocks run the compiled layout and open (COMPILED_SESSIONS); with
    # the bound out of reach they run the NumPy steps a one-session block runs.
    # Every level, event and carried price is the same, stale-price exits included.
    from r2k.workflows.synthetic_run import run_synthetic

    def run() -> tuple[pl.DataFrame, ...]:
        calc = run_synthetic(
            400,
            start=date(2019, 1, 2),
            end=date(2021, 12, 31),
            seed=seed,
            index="r3000",
        ).calculation
        return calc.levels, calc.events, calc.carried

    compiled = run()
    monkeypatch.setattr(book_module, "COMPILED_SESSIONS", 10**9)
    steps = run()
    for got, expected in zip(compiled, steps, strict=True):
        assert got.equals(expected)
    assert compiled[1].filter(pl.col("action") == "stale_price").height > 0


def test_event_batches_make_the_rows_a_frame_per_batch_made() -> None:
    # Book.log_many keeps batches; events_frame joins consecutive ones. The
    # frame is the one a frame per batch made, in the order written: one action
    # for all or one per line, no price (null) apart from a NaN price (kept).
    day = date(2024, 1, 2)
    ids = pl.Series(["A", "B", "C"])
    batches = [
        EventBatch(
            day,
            ids[:2],
            "quarterly_update",
            "open",
            np.array([1.0, 2.0]),
            np.array([3.0, 4.0]),
            np.array([5.0, np.nan]),
            ["shares", "float"],
        ),
        EventBatch(
            day,
            ids[2:],
            ["reconstitution_deletion"],
            "close",
            np.array([6.0]),
            np.array([0.0]),
            None,
            "removed",
        ),
    ]
    row = {
        "session": date(2024, 1, 3),
        "security_id": "A",
        "action": "split",
        "timing": "open",
        "index_shares_before": 1.0,
        "index_shares_after": 2.0,
        "price": None,
        "detail": "",
    }

    def per_batch(b: EventBatch) -> pl.DataFrame:
        n = b.ids.len()
        return pl.DataFrame(
            {
                "session": [b.session] * n,
                "security_id": b.ids,
                "action": [b.actions] * n if isinstance(b.actions, str) else b.actions,
                "timing": [b.timing] * n,
                "index_shares_before": b.before,
                "index_shares_after": b.after,
                "price": pl.Series([None] * n, dtype=pl.Float64)
                if b.prices is None
                else b.prices,
                "detail": [b.detail] * n if isinstance(b.detail, str) else b.detail,
            },
            schema=schemas.EVENTS,
        )

    got = events_frame([*batches, row, batches[1]])
    one_row = pl.DataFrame([row], schema=schemas.EVENTS, orient="row")
    expected = pl.concat([*map(per_batch, batches), one_row, per_batch(batches[1])])
    assert got.equals(expected)
    assert got["price"].is_nan().fill_null(value=False).sum() == 1
    assert got["price"].null_count() == 3
    assert events_frame([]).equals(pl.DataFrame(schema=schemas.EVENTS))
    assert events_frame([row, row]).equals(pl.concat([one_row, one_row]))
    first = events_frame([row, *batches])
    assert first.equals(pl.concat([one_row, *map(per_batch, batches)]))


@pytest.mark.parametrize("bound", [0, 10**9])  # compiled loops, NumPy steps
def test_sessions_with_every_price_skip_the_runs_with_the_same_index(
    bound: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A session where every line has a price ends every run at once (no loop);
    # with that shortcut taken away (every row marked as having a gap), the
    # levels and events are the same, a stale-price exit included.
    monkeypatch.setattr(book_module, "COMPILED_SESSIONS", bound)
    frames = []
    for k, sid in enumerate(["A", "B", "C", "D"]):
        line = _line(sid).with_columns(close=pl.lit(10.0 + k))
        gone = {"B": range(20, 30), "C": range(40, 42)}.get(sid, range(0))
        frames.append(line.filter(~pl.int_range(pl.len()).is_in(list(gone))))
    market = MarketHistory(pl.concat(frames))
    held = pl.DataFrame(
        {"security_id": ["A", "B", "C"], "shares": [1e6] * 3, "float_factor": [1.0] * 3}
    )
    state, _ = initial_state(DAYS[0], held, market)
    cfg = Settings(rules=RuleSet.default(), quarterly=False, reconstitution_dates=())
    no_actions = pl.DataFrame(schema=schemas.CORPORATE_ACTIONS)

    def run() -> tuple[pl.DataFrame, pl.DataFrame]:
        calc = calculate(state, market, no_actions, cfg, end=DAYS[-1])
        return calc.levels, calc.events

    levels, events = run()
    from r2k.maintenance import engine

    def every_row_a_gap(*args: object) -> book_module.Block:
        block = book_module.build_block(*args)  # type: ignore[arg-type]
        block.gap_rows[:] = True
        return block

    monkeypatch.setattr(engine, "build_block", every_row_a_gap)
    assert run()[0].equals(levels)
    assert run()[1].equals(events)
    assert events.filter(pl.col("action") == "stale_price")[
        "security_id"
    ].to_list() == ["B"]
