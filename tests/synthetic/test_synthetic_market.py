"""The synthetic daily market: schemas, determinism, realism and action consistency."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from r2k import schemas
from r2k.construction.classify import security_type_expr
from r2k.construction.universe import build_universe
from r2k.synthetic import market as sm

EQUITY = ("common", "ordinary", "class_share")
START, END = date(2019, 1, 2), date(2022, 12, 30)
MOVE = 0.35  # bound on a daily log move of a line (60% annual vol is 3.8% a day)


@pytest.fixture(scope="module")
def market() -> sm.SyntheticMarket:
    return sm.synthetic_market(800, start=START, end=END, seed=3)


@pytest.fixture(scope="module")
def eventful() -> sm.SyntheticMarket:
    """A small market with the rare actions made frequent."""
    boosted = {
        "RIGHTS_RATE": 40.0,
        "STOCK_DIVIDEND_RATE": 20.0,
        "SPECIAL_DIVIDEND_RATE": 20.0,
        "SPINOFF_RATE": 20.0,
        "BANKRUPTCY_RATE": 15.0,
        "IDENTIFIER_CHANGE_RATE": 30.0,
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, rate in boosted.items():
            mp.setattr(sm, name, rate)
        return sm.synthetic_market(
            400, start=date(2020, 1, 2), end=date(2022, 12, 30), seed=5
        )


def _panel(market: sm.SyntheticMarket) -> pl.DataFrame:
    """Market rows with the previous row of the same line."""
    return market.market.sort("security_id", "session").with_columns(
        prev_session=pl.col("session").shift(1).over("security_id"),
        prev_close=pl.col("close").shift(1).over("security_id"),
        prev_shares=pl.col("shares_outstanding").shift(1).over("security_id"),
    )


@dataclass(frozen=True)
class Case:
    market: sm.SyntheticMarket
    panel: pl.DataFrame
    eventful: bool  # every action kind is present

    def at_least(self, rows: pl.DataFrame, n: int = 1) -> None:
        """Rare actions are only required in the eventful market."""
        assert rows.height >= (n if self.eventful else 0)


@pytest.fixture(scope="module", params=["default", "eventful"])
def case(request: pytest.FixtureRequest) -> Case:
    """A market (the default one, then the eventful one) and its panel."""
    eventful = request.param == "eventful"
    market: sm.SyntheticMarket = request.getfixturevalue(
        "eventful" if eventful else "market"
    )
    return Case(market, _panel(market), eventful)


def _at(
    panel: pl.DataFrame, actions: pl.DataFrame, col: str = "security_id"
) -> pl.DataFrame:
    """Join each action to the row of ``col`` on its ex-date (action order kept).

    The action's own ``shares_outstanding`` and ``float_factor`` become
    ``new_shares`` and ``new_float``; the panel's columns keep their names.
    """
    renamed = {"shares_outstanding": "new_shares", "float_factor": "new_float"}
    return actions.rename(renamed, strict=False).join(
        panel.rename({"security_id": col}),
        left_on=[col, "ex_date"],
        right_on=[col, "session"],
        how="left",
        maintain_order="left",
    )


def _num(value: object) -> float:
    """A Polars scalar as a float (the stubs type scalars broadly)."""
    assert isinstance(value, int | float)
    return float(value)


def _kind(market: sm.SyntheticMarket, action: str) -> pl.DataFrame:
    return market.actions.filter(pl.col("action") == action)


# --- shape ---------------------------------------------------------------------------


def test_schemas(market: sm.SyntheticMarket) -> None:
    assert market.market.schema == schemas.MARKET
    assert market.securities.schema == schemas.SECURITIES
    assert market.float_factors.schema == schemas.FLOAT_FACTORS
    assert market.voting.schema == sm.VOTING
    assert market.actions.schema == schemas.CORPORATE_ACTIONS
    assert market.seed == 3
    for frame in (market.market, market.actions):
        assert frame.height > 0


def test_sorted_and_unique(market: sm.SyntheticMarket) -> None:
    m = market.market
    assert m.equals(m.sort("session", "security_id"))
    assert m.select("session", "security_id").is_unique().all()
    a = market.actions
    assert a.equals(a.sort("ex_date", "security_id", "action"))
    assert market.securities["security_id"].is_unique().all()
    assert set(m["security_id"].unique()) == set(market.securities["security_id"])
    sessions = m["session"].unique()
    assert sessions.min() == date(2019, 1, 2)
    assert sessions.max() == date(2022, 12, 30)
    assert sessions.len() == 1008  # XNYS sessions 2019-2022


def test_reference_frames(market: sm.SyntheticMarket) -> None:
    equity = market.securities.filter(pl.col("security_type").is_in(EQUITY))
    assert set(market.voting["security_id"]) == set(equity["security_id"])
    votes = market.voting["voting_rights_pct"]
    assert _num((votes == 100.0).mean()) > 0.95
    assert ((votes > 0) & (votes <= 100)).all()
    ff = market.float_factors
    assert ff["source"].unique().to_list() == ["data"]
    assert ((ff["float_factor"] > 0) & (ff["float_factor"] <= 1)).all()
    assert set(ff["security_id"]) == set(equity["security_id"])
    first = ff.group_by("security_id").agg(pl.col("as_of").min())
    listed = market.market.group_by("security_id").agg(pl.col("session").min())
    joined = first.join(listed, on="security_id")
    assert (joined["as_of"] == joined["session"]).all()
    assert ff.filter(pl.col("float_factor") < 0.15).height > 0
    assert ff.select(pl.col("float_factor").is_between(0.6, 1.0).mean()).item() > 0.7
    assert _num(ff.group_by("security_id").len()["len"].max()) > 1  # dated changes


def test_same_seed_same_frames() -> None:
    a = sm.synthetic_market(120, start=date(2021, 1, 4), end=date(2021, 12, 31), seed=9)
    b = sm.synthetic_market(120, start=date(2021, 1, 4), end=date(2021, 12, 31), seed=9)
    c = sm.synthetic_market(
        120, start=date(2021, 1, 4), end=date(2021, 12, 31), seed=10
    )
    for name in ("market", "securities", "float_factors", "voting", "actions"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert not a.market.equals(c.market)
    assert not a.actions.equals(c.actions)


def test_empty_and_invalid_spans() -> None:
    empty = sm.synthetic_market(50, start=date(2021, 1, 2), end=date(2021, 1, 3))
    assert empty.market.height == 0
    assert empty.market.schema == schemas.MARKET
    one = sm.synthetic_market(50, start=date(2021, 1, 4), end=date(2021, 1, 4))
    assert one.market["session"].unique().to_list() == [date(2021, 1, 4)]
    assert one.actions.filter(pl.col("action") != "cash_dividend").height == 0
    with pytest.raises(ValueError, match="before start"):
        sm.synthetic_market(50, start=date(2021, 1, 5), end=date(2021, 1, 4))
    with pytest.raises(ValueError, match="at least 1"):
        sm.synthetic_market(0, start=date(2021, 1, 4), end=date(2021, 1, 8))


# --- realism -------------------------------------------------------------------------


def test_cap_distribution_at_2026_rank_day() -> None:
    rank_day = date(2026, 4, 30)
    m = sm.synthetic_market(4500, start=date(2026, 3, 2), end=date(2026, 5, 29), seed=1)
    build = build_universe(m.market, rank_day)
    caps = (
        build.universe.filter(pl.col("security_type").is_in(EQUITY))
        .group_by("company_id")
        .agg(cap=(pl.col("shares_outstanding") * pl.col("close")).sum())
        .sort("cap", descending=True)["cap"]
    )
    assert 4300 <= caps.len() <= 4700
    assert caps[999] == pytest.approx(5e9, rel=0.4)
    assert caps[2999] == pytest.approx(1.25e8, rel=0.4)
    assert caps[0] > 1e12
    # the engine's company grouping finds every multi-class company
    multi = m.securities.filter(pl.col("share_class") == "B")["company_id"]
    assert multi.len() > 50
    assert build.repairs.filter(pl.col("repair") == "company_level_shares").height == 0


def test_caps_scale_back_with_the_market() -> None:
    m = sm.synthetic_market(300, start=date(1979, 1, 2), end=date(1979, 3, 30), seed=2)
    top = m.market.filter(pl.col("session") == date(1979, 3, 30))["total_market_cap"]
    # 2026 rank 1 is near $4.6T; in 1979 the market is 10-100x smaller
    assert 4.6e12 / 100 < _num(top.max()) < 4.6e12 / 8


def test_companies_alive_balance(market: sm.SyntheticMarket) -> None:
    per_session = (
        market.market.filter(~pl.col("security_id").str.contains(r"\.[B-Z]"))
        .group_by("session")
        .len()["len"]
    )
    assert _num(per_session.min()) > 0.9 * 800
    assert _num(per_session.max()) < 1.1 * 800


def test_non_common_lines_rejected_by_the_classifier(
    market: sm.SyntheticMarket,
) -> None:
    lines = market.market.unique("security_id").join(
        market.securities.select("security_id", intended=pl.col("security_type")),
        on="security_id",
    )
    typed = lines.with_columns(security_type_expr("name", symbol_col="security_id"))
    non_common = typed.filter(~pl.col("intended").is_in(EQUITY))
    assert non_common.height > 30
    assert set(non_common["intended"]) >= {"warrant", "preferred", "spac", "unit"}
    assert not non_common["security_type"].is_in(EQUITY).any()
    assert (non_common["security_type"] == non_common["intended"]).all()
    equity = typed.filter(pl.col("intended").is_in(EQUITY))
    assert (equity["security_type"] == equity["intended"]).all()
    assert typed.filter(pl.col("intended") == "class_share").height > 10


def test_prices_and_volumes(market: sm.SyntheticMarket) -> None:
    m = market.market
    assert (m["close"] > 0).all()
    assert m["close"].is_finite().all()
    assert (m["volume"] >= 0).all()
    equity = m.filter(pl.col("shares_outstanding").is_not_null())
    assert (equity["shares_outstanding"] > 0).all()
    cap = equity["close"] * equity["shares_outstanding"]
    assert np.allclose(equity["total_market_cap"], cap, rtol=1e-12)
    assert m.filter(pl.col("shares_outstanding").is_null())[
        "total_market_cap"
    ].null_count() == (m["shares_outstanding"].null_count())
    assert _num((m["close"] < 1.0).mean()) > 0.005
    turnover = (equity["volume"] / equity["shares_outstanding"]).median()
    assert 0.003 < _num(turnover) < 0.007
    daily = (
        m.sort("security_id", "session")
        .select(r=pl.col("close").log().diff().over("security_id"))
        .drop_nulls()["r"]
    )
    annual = _num(daily.std()) * math.sqrt(252)
    assert 0.2 < annual < 0.6


# --- corporate actions: consistency with prices and shares ---------------------------


def test_every_action_line_trades_on_its_ex_date(case: Case) -> None:
    market, panel = case.market, case.panel
    a = market.actions
    renamed = a.filter(pl.col("action") == "identifier_change")
    rows = _at(panel, a.filter(pl.col("action") != "identifier_change"))
    assert rows["close"].null_count() == 0
    # the old identifier trades until the session before the change
    sessions = market.market["session"].unique().sort()
    previous = dict(zip(sessions[1:], sessions[:-1], strict=True))
    ends = dict(
        market.market.group_by("security_id").agg(pl.col("session").max()).iter_rows()
    )
    for old, ex in renamed.select("security_id", "ex_date").iter_rows():
        assert ends[old] == previous[ex]
    others = a.filter(pl.col("other_id").is_not_null())
    rows = _at(panel, others, "other_id")
    assert rows["close"].null_count() == 0
    kinds = {
        "split",
        "stock_dividend",
        "cash_dividend",
        "special_dividend",
        "rights",
        "spinoff",
        "merger",
        "delisting",
        "bankruptcy",
        "identifier_change",
        "share_change",
    }
    assert set(a["action"]) <= kinds
    if case.eventful:
        assert set(a["action"]) == kinds
    types = market.securities.select("security_id", "security_type")
    assert a.join(types, on="security_id")["security_type"].is_in(EQUITY).all()


def test_lines_trade_every_session_of_their_life(case: Case) -> None:
    m = case.market.market
    sessions = m["session"].unique().sort()
    index = pl.DataFrame(
        {"session": sessions, "k": pl.int_range(sessions.len(), eager=True)}
    )
    spans = (
        m.join(index, on="session")
        .group_by("security_id")
        .agg(rows=pl.len(), first=pl.col("k").min(), last=pl.col("k").max())
    )
    assert (spans["rows"] == spans["last"] - spans["first"] + 1).all()


def test_action_lines_trade_the_session_before(case: Case) -> None:
    sessions = case.market.market["session"].unique().sort()
    previous = pl.DataFrame({"ex_date": sessions[1:], "expected": sessions[:-1]})
    actions = case.market.actions.filter(pl.col("action") != "identifier_change")
    rows = _at(case.panel, actions).join(previous, on="ex_date", how="left")
    assert rows["expected"].null_count() == 0  # no action on the first session
    assert (rows["prev_session"] == rows["expected"]).all()
    assert rows["prev_session"].null_count() == 0


@pytest.mark.parametrize("action", ["split", "stock_dividend"])
def test_splits(case: Case, action: str) -> None:
    market, panel = case.market, case.panel
    rows = _at(panel, _kind(market, action))
    case.at_least(rows, 3)
    assert rows["prev_close"].null_count() == 0
    move = (rows["close"] / rows["prev_close"] * rows["ratio"]).log().abs()
    assert (move < MOVE).all()
    assert np.allclose(
        rows["shares_outstanding"] / rows["prev_shares"], rows["ratio"], rtol=1e-12
    )
    if action == "split":
        reverse = rows.filter(pl.col("ratio") < 1)
        assert (reverse["ratio"] == 0.1).all()
        assert (reverse["prev_close"] < 1.0).all()


@pytest.mark.parametrize("action", ["cash_dividend", "special_dividend"])
def test_dividends(case: Case, action: str) -> None:
    market, panel = case.market, case.panel
    rows = _at(panel, _kind(market, action))
    assert rows.height > 0
    assert (rows["amount"] > 0).all()
    total = ((rows["close"] + rows["amount"]) / rows["prev_close"]).log().abs()
    assert (total < MOVE).all()
    assert (rows["shares_outstanding"] == rows["prev_shares"]).all()
    share = rows["amount"] / (rows["close"] + rows["amount"])
    lo, hi = (0.0024, 0.0076) if action == "cash_dividend" else (0.049, 0.201)
    assert share.is_between(lo, hi).all()


def test_cash_dividend_payers(market: sm.SyntheticMarket) -> None:
    payers = _kind(market, "cash_dividend")["security_id"].n_unique()
    equity = market.securities.filter(pl.col("security_type").is_in(EQUITY)).height
    assert 0.3 < payers / equity < 0.5


def test_rights(case: Case) -> None:
    market, panel = case.market, case.panel
    rows = _at(panel, _kind(market, "rights"))
    itm = rows.filter(pl.col("amount") < pl.col("prev_close"))
    otm = rows.filter(pl.col("amount") >= pl.col("prev_close"))
    case.at_least(itm, 3)
    case.at_least(otm)
    terp = (itm["prev_close"] + itm["ratio"] * itm["amount"]) / (1 + itm["ratio"])
    assert ((itm["close"] / terp).log().abs() < MOVE).all()
    assert np.allclose(itm["shares_outstanding"] / itm["prev_shares"], 1 + itm["ratio"])
    assert (otm["shares_outstanding"] == otm["prev_shares"]).all()


def test_spinoffs(case: Case) -> None:
    market, panel = case.market, case.panel
    spins = _kind(market, "spinoff")
    case.at_least(spins, 3)
    first = market.market.group_by("security_id").agg(pl.col("session").min())
    child = spins.join(first, left_on="other_id", right_on="security_id")
    assert (child["session"] == child["ex_date"]).all()
    parent = _at(panel, spins)
    kid = _at(panel, spins.select("other_id", "ex_date"), "other_id")
    assert np.allclose(
        kid["shares_outstanding"],
        parent["shares_outstanding"] * parent["ratio"],
        rtol=1e-12,
    )
    value = parent["ratio"] * kid["close"]
    jump = ((parent["close"] + value) / parent["prev_close"]).log().abs()
    assert _num(jump.max()) < MOVE
    given_value = parent.filter(pl.col("amount").is_not_null())
    kid_given = kid.filter(parent["amount"].is_not_null())
    assert np.allclose(given_value["amount"], kid_given["close"], rtol=1e-12)


def test_mergers(case: Case) -> None:
    market, panel = case.market, case.panel
    mergers = _kind(market, "merger")
    assert mergers.height > 20
    last = market.market.group_by("security_id").agg(pl.col("session").max())
    ends = mergers.join(last, on="security_id")
    assert (ends["session"] == ends["ex_date"]).all()
    target = _at(panel, mergers)
    acquirer = _at(panel, mergers.select("other_id", "ex_date"), "other_id")
    terms = acquirer["close"].fill_null(0.0) * target["ratio"] + target[
        "amount"
    ].fill_null(0.0)
    assert np.allclose(target["close"], terms, rtol=1e-9)
    assert (target["ratio"] == 0).sum() > 0  # cash deals
    assert (target["amount"].is_null()).sum() > 0  # pure stock deals
    assert target["other_id"].null_count() > 0  # private buyers
    # acquirers' shares grow by target shares x ratio on the next session
    stock = target.filter(pl.col("ratio") > 0).select(
        "ex_date", "ratio", "other_id", target_shares="shares_outstanding"
    )
    after = panel.filter(pl.col("prev_session").is_in(stock["ex_date"].implode()))
    grown = stock.join(
        after, left_on=["other_id", "ex_date"], right_on=["security_id", "prev_session"]
    )
    assert grown.height > 0
    expected = grown["prev_shares"] + grown["target_shares"] * grown["ratio"]
    assert np.allclose(grown["shares_outstanding"], expected, rtol=1e-9)


def test_removals(case: Case) -> None:
    market, panel = case.market, case.panel
    last = market.market.group_by("security_id").agg(pl.col("session").max())
    for action in ("delisting", "bankruptcy"):
        rows = _kind(market, action).join(last, on="security_id")
        case.at_least(rows)
        assert (rows["session"] == rows["ex_date"]).all()
    bankrupt = _at(panel, _kind(market, "bankruptcy"))
    assert (bankrupt["close"] < 1.0).all()


def test_identifier_changes(case: Case) -> None:
    market = case.market
    changes = _kind(market, "identifier_change")
    assert changes.height > 0
    span = market.market.group_by("security_id").agg(
        first=pl.col("session").min(), last=pl.col("session").max()
    )
    old = changes.join(span, on="security_id")
    new = changes.join(span, left_on="other_id", right_on="security_id")
    assert (old["last"] < old["ex_date"]).all()
    assert (new["first"] == new["ex_date"]).all()
    assert changes["other_id"].is_in(market.securities["security_id"].implode()).all()
    company = dict(market.securities.select("security_id", "company_id").iter_rows())
    assert all(
        company[a] == company[b]
        for a, b in changes.select("security_id", "other_id").iter_rows()
    )


def test_share_changes(case: Case) -> None:
    market, panel = case.market, case.panel
    rows = _at(panel, _kind(market, "share_change"))
    assert rows.height > 0
    assert np.allclose(rows["new_shares"], rows["shares_outstanding"], rtol=1e-12)
    assert (rows["shares_outstanding"] != rows["prev_shares"]).all()
    assert np.allclose(rows["amount"], rows["close"], rtol=1e-12)
    value = (rows["shares_outstanding"] - rows["prev_shares"]).abs() * rows["close"]
    change = (rows["shares_outstanding"] / rows["prev_shares"] - 1).abs()
    large = (value >= 1e9) | ((change >= 0.05) & (value >= 2.5e8))
    assert large.sum() > 0
    with_float = rows.filter(pl.col("new_float").is_not_null())
    case.at_least(with_float)
    ff = market.float_factors.join(
        with_float.select("security_id", "ex_date", float_factor="new_float"),
        left_on=["security_id", "as_of"],
        right_on=["security_id", "ex_date"],
    )
    assert ff.height == with_float.height
    assert (ff["float_factor"] == ff["float_factor_right"]).all()


def test_shares_change_only_through_actions(case: Case) -> None:
    market, panel = case.market, case.panel
    changed = panel.filter(
        pl.col("prev_shares").is_not_null()
        & (pl.col("shares_outstanding") != pl.col("prev_shares"))
    ).select("security_id", "session")
    a = market.actions
    own = a.filter(
        pl.col("action").is_in(["split", "stock_dividend", "rights", "share_change"])
    ).select("security_id", session="ex_date")
    sessions = market.market["session"].unique().sort()
    next_session = dict(itertools.pairwise(sessions))
    issuance = (
        a.filter((pl.col("action") == "merger") & (pl.col("ratio") > 0))
        .select(
            security_id="other_id",
            session=pl.col("ex_date").replace_strict(next_session, default=None),
        )
        .drop_nulls()
    )
    explained = pl.concat([own, issuance]).unique()
    unexplained = changed.join(explained, on=["security_id", "session"], how="anti")
    assert unexplained.height == 0


def test_yearly_rates(market: sm.SyntheticMarket) -> None:
    years = market.market["session"].n_unique() / sm.SESSIONS_PER_YEAR
    companies = (
        market.market.filter(~pl.col("security_id").str.contains(r"\.[B-Z]"))
        .group_by("session")
        .len()["len"]
        .mean()
    )
    assert isinstance(companies, float)
    exposure = companies / 1000 * years
    a = market.actions.filter(~pl.col("security_id").str.ends_with(".B"))
    counts = dict(a.group_by("action").len().iter_rows())
    rates = {
        "split": sm.SPLIT_RATE,
        "stock_dividend": sm.STOCK_DIVIDEND_RATE,
        "special_dividend": sm.SPECIAL_DIVIDEND_RATE,
        "rights": sm.RIGHTS_RATE,
        "spinoff": sm.SPINOFF_RATE,
        "merger": sm.MERGER_RATE,
        "delisting": sm.DELISTING_RATE,
        "bankruptcy": sm.BANKRUPTCY_RATE,
        "identifier_change": sm.IDENTIFIER_CHANGE_RATE,
        "share_change": sm.SHARE_CHANGE_RATE,
    }
    for action, rate in rates.items():
        expected = rate * exposure
        band = 4 * math.sqrt(expected) + 0.2 * expected
        assert abs(counts.get(action, 0) - expected) <= band, (
            action,
            counts.get(action),
            expected,
        )
    dividends = counts["cash_dividend"] / exposure
    assert (
        0.8 * 4 * 1000 * sm.DIVIDEND_PAYER_SHARE
        < dividends
        < 1.2 * 4 * 1000 * sm.DIVIDEND_PAYER_SHARE
    )
    # IPOs: new companies that are neither spin-off children nor renamed lines
    first = market.market.group_by("security_id").agg(pl.col("session").min())
    new = first.filter(
        (pl.col("session") > START)
        & ~pl.col("security_id").str.contains(r"\.")
        & ~pl.col("security_id").is_in(a["other_id"].drop_nulls().implode())
    )
    multi_new = first.filter(
        (pl.col("session") > START) & pl.col("security_id").str.ends_with(".A")
    )
    ipos = new.height + multi_new.height
    expected = sm.IPO_RATE * exposure
    assert abs(ipos - expected) <= 4 * math.sqrt(expected) + 0.2 * expected


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_prices_positive_and_finite(seed: int) -> None:
    m = sm.synthetic_market(
        60, start=date(2024, 1, 2), end=date(2024, 12, 31), seed=seed
    )
    market = m.market
    assert (market["close"] > 0).all()
    assert market["close"].is_finite().all()
    shares = market["shares_outstanding"].drop_nulls()
    assert (shares > 0).all()
    assert shares.is_finite().all()
    assert (m.actions["amount"].drop_nulls() > 0).all()
    assert m.actions["amount"].drop_nulls().is_finite().all()
