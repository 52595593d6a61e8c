"""The fund simulation: costs and a sampling cell worked by hand, and properties.

Expected values come from hand calculations written out in each test; the
properties compare the fund with the index's total return chained by r2k's one
level-chaining function (:func:`r2k.maintenance.levels.chain_levels`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r2k.funds.costs import CostSettings, size_class, trade_costs
from r2k.funds.optimizer import (
    min_tracking_error,
    prior_risk_model,
    statistical_risk_model,
)
from r2k.funds.sampling import (
    allocate_names,
    cell_sample_weights,
    stratified_weights,
)
from r2k.funds.simulation import (
    FundSettings,
    IndexPath,
    simulate,
    tracking_summary,
)
from r2k.maintenance.levels import SUMS, base_state, chain_levels

ZERO = CostSettings.zero()
IDEAL = FundSettings(costs=ZERO, whole_shares=False, drift_band=0.0)


# ------------------------------------------------------------------ paths


def make_path(
    seed: int, sessions: int = 30, lines: int = 25, *, actions: bool = True
) -> IndexPath:
    """A random index: price moves, splits, special dividends (through P_ref),
    share changes at the open, cash dividends, lines joining and leaving at the
    close; its total return chained by r2k's level code."""
    rng = np.random.default_rng(seed)
    days = tuple(date(2020, 1, 1) + timedelta(days=i) for i in range(sessions + 1))
    close = rng.uniform(5, 100, lines)
    shares = rng.uniform(1e5, 1e7, lines)
    member = rng.random(lines) < 0.7
    member[0] = True
    cols: dict[str, list[float]] = {k: [] for k in ("line", "n", "ref", "p", "d")}
    offsets = [0, 0]
    for t in range(1, sessions + 2):
        ratio = np.ones(lines)
        special = np.zeros(lines)
        if actions:
            ratio = np.where(
                rng.random(lines) < 0.05, rng.choice([0.5, 2, 3], lines), 1
            )
            special = np.where(rng.random(lines) < 0.03, 0.05 * close, 0.0)
            shares = shares * np.where(
                rng.random(lines) < 0.05, rng.uniform(0.8, 1.2, lines), 1.0
            )
        ref = close / ratio - special
        shares = shares * ratio
        new_close = ref * np.exp(rng.normal(0, 0.02, lines))
        div = np.where(rng.random(lines) < 0.03, 0.01 * new_close, 0.0)
        idx = np.flatnonzero(member)
        last = t == sessions + 1
        cols["line"] += idx.tolist()
        cols["n"] += shares[idx].tolist()
        cols["ref"] += ref[idx].tolist()
        cols["p"] += (np.full(len(idx), np.nan) if last else new_close[idx]).tolist()
        cols["d"] += (np.zeros(len(idx)) if last else div[idx]).tolist()
        offsets.append(len(cols["line"]))
        close = new_close
        flip = rng.random(lines) < 0.05
        member = np.where(flip, ~member, member)
        member[0] = True
    arr = {k: np.array(v) for k, v in cols.items()}
    off = np.array(offsets, dtype=np.int64)
    sums = []
    for t in range(1, sessions + 1):
        r = slice(off[t], off[t + 1])
        n, p, ref_, d = arr["n"][r], arr["p"][r], arr["ref"][r], arr["d"][r]
        sums.append(
            {
                "session": days[t],
                "market_value": float((n * p).sum()),
                "reference_value": float((n * ref_).sum()),
                "has_reference": True,
                "dividends": float((n * d).sum()),
                "net_dividends": 0.0,
            }
        )
    levels = chain_levels(
        base_state(days[0]), pl.DataFrame(sums, schema=SUMS, orient="row")
    )
    adv = rng.uniform(1e4, 1e6, (sessions + 1, lines))
    returns = rng.normal(0, 0.02, (sessions + 1 + 40, lines))
    return IndexPath(
        sessions=days,
        ids=tuple(f"L{i:03d}" for i in range(lines)),
        offsets=off,
        line=arr["line"].astype(np.int64),
        index_shares=arr["n"],
        reference_price=arr["ref"],
        close=arr["p"],
        dividend=arr["d"],
        index_total_return=levels["total_return"].to_numpy(),
        sector=rng.integers(0, 4, lines),
        adv=adv,
        returns=returns,
        returns_lead=40,
    )


def relative_gap(path: IndexPath, fund_settings: FundSettings) -> float:
    nav = simulate(path, fund_settings).nav
    return float(np.abs(nav["nav"].to_numpy() / nav["index_tr"].to_numpy() - 1).max())


# ------------------------------------------------------------ costs by hand


def test_costs_worked_by_hand() -> None:
    # 10,000 shares at $100 = $1m notional, small cap (class 2), ADV 1m shares:
    # commission 1 bp = $100; half-spread 10 bp = $1,000;
    # impact 100 bp x sqrt(10,000 / 1,000,000) = 100 bp x 0.1 = 10 bp = $1,000.
    # The same sold with ADV 250,000: sqrt(0.04) = 0.2, impact 20 bp = $2,000.
    # Unknown ADV: participation 1, impact 100 bp = $10,000.
    # A micro cap (class 3): half-spread 25 bp = $2,500.
    costs = trade_costs(
        np.array([10_000.0, -10_000.0, 10_000.0, 10_000.0]),
        np.array([100.0] * 4),
        np.array([1e6, 250_000.0, np.nan, 1e6]),
        np.array([2, 2, 2, 3], dtype=np.int8),
        CostSettings(),
    )
    assert costs.commission.tolist() == pytest.approx([100.0] * 4)
    assert costs.spread.tolist() == pytest.approx([1_000.0, 1_000.0, 1_000.0, 2_500.0])
    assert costs.impact.tolist() == pytest.approx([1_000.0, 2_000.0, 10_000.0, 1_000.0])


def test_size_classes_at_their_floors() -> None:
    # floors: large >= $10bn, mid >= $2bn, small >= $300m, else micro
    caps = np.array([10e9, 9.99e9, 2e9, 1.99e9, 300e6, 299e6])
    assert size_class(caps).tolist() == [0, 1, 1, 2, 2, 3]


def test_launch_costs_of_a_two_line_fund_by_hand() -> None:
    # Index: A 1,000 shares at $50, B 3,000 shares at $50 (weights 0.25, 0.75).
    # $1m fund, costs 1 bp commission only: pass 1 buys $250,000 of A (5,000
    # shares) and $750,000 of B (15,000 shares), commission $100; pass 2 invests
    # $999,900: A 4,999.5 -> 4,999 shares, B 14,998.5 -> 14,998 (whole shares),
    # $999,850 bought, commission $99.985, cash 1e6 - 999,850 - 99.985 = 50.015.
    days = (date(2024, 1, 2), date(2024, 1, 3))
    path = IndexPath(
        sessions=days,
        ids=("A", "B"),
        offsets=np.array([0, 0, 2, 4]),
        line=np.array([0, 1, 0, 1]),
        index_shares=np.array([1000.0, 3000.0, 1000.0, 3000.0]),
        reference_price=np.array([50.0, 50.0, 50.0, 50.0]),
        close=np.array([50.0, 50.0, np.nan, np.nan]),
        dividend=np.zeros(4),
        index_total_return=np.array([100.0, 100.0]),
        sector=np.array([0, 0]),
    )
    costs = CostSettings(
        commission_bps=1.0, half_spread_bps=(0.0, 0.0, 0.0, 0.0), impact_bps=0.0
    )
    result = simulate(path, FundSettings(aum=1e6, costs=costs))
    first = result.nav.row(0, named=True)
    assert first["commission"] == pytest.approx(99.985)
    assert first["buys"] == pytest.approx(999_850.0)
    assert first["cash"] == pytest.approx(50.015)
    # NAV before costs equals the index level (100); the launch costs take 1e-4.
    assert first["nav"] == pytest.approx(100.0 * (1 - 99.985 / 1e6))
    snap = result.holdings[-1]
    assert dict(zip(snap.ids, snap.shares.tolist(), strict=True)) == {
        "A": 4999.0,
        "B": 14998.0,
    }


# ------------------------------------------------------ a sampling cell by hand


def test_one_cell_worked_by_hand() -> None:
    # A cell of four lines weighing 0.10, 0.06, 0.03, 0.01 (0.20 in all), two
    # lines: the two largest carry 0.20 as 0.10 : 0.06 -> 0.125 and 0.075.
    w = cell_sample_weights(np.array([0.10, 0.06, 0.03, 0.01]), 2)
    assert w.tolist() == pytest.approx([0.125, 0.075, 0.0, 0.0])
    # Holding the third line, with a buffer of 0.5 (reach ceil(2 x 1.5) = 3):
    # it keeps its place; the other place goes to the largest, 0.10. They carry
    # 0.20 as 0.10 : 0.03 -> 0.153846 and 0.046154.
    held = np.array([False, False, True, False])
    w = cell_sample_weights(np.array([0.10, 0.06, 0.03, 0.01]), 2, held, 0.5)
    assert w.tolist() == pytest.approx([0.20 * 10 / 13, 0.0, 0.20 * 3 / 13, 0.0])


def test_cells_and_allocation_by_hand() -> None:
    # Six lines, two sectors, one size bucket: sector 0 weighs 0.6 (0.3, 0.2,
    # 0.1), sector 1 weighs 0.4 (0.25, 0.1, 0.05). Three names: one per cell,
    # then 1 x (0.6, 0.4) -> sector 0 by the larger remainder.
    # Sector 0 holds 0.3 and 0.2 scaled to 0.6: 0.36, 0.24; sector 1 holds
    # 0.25 scaled to 0.4.
    weights = np.array([0.3, 0.2, 0.1, 0.25, 0.1, 0.05])
    sector = np.array([0, 0, 0, 1, 1, 1])
    cap = weights * 1e9
    assert allocate_names(np.array([0.6, 0.4]), np.array([3, 3]), 3).tolist() == [2, 1]
    out = stratified_weights(weights, sector, cap, 3, size_buckets_count=1)
    assert out.tolist() == pytest.approx([0.36, 0.24, 0.0, 0.4, 0.0, 0.0])


def test_allocation_keeps_within_cells() -> None:
    # 10 names for cells of 2 and 20 lines weighing 0.9 and 0.1: the first
    # cell can take only 2; the rest go to the second.
    assert allocate_names(np.array([0.9, 0.1]), np.array([2, 20]), 10).tolist() == [
        2,
        8,
    ]
    # Fewer names than cells: the largest cells get one each.
    assert allocate_names(
        np.array([0.2, 0.5, 0.3]), np.array([5, 5, 5]), 2
    ).tolist() == [
        0,
        1,
        1,
    ]


# ------------------------------------------------------------------ optimiser


def test_optimiser_beats_the_largest_names_on_its_own_model() -> None:
    rng = np.random.default_rng(3)
    n = 80
    returns = rng.normal(0, 0.02, (120, n)) + rng.normal(0, 0.01, (120, 1))
    model = statistical_risk_model(returns, factors=5)
    b = rng.dirichlet(np.ones(n))
    w = min_tracking_error(b, model, 20)
    assert (w >= 0).all()
    assert w.sum() == pytest.approx(1.0)
    assert int((w > 0).sum()) <= 20
    top = np.zeros(n)
    largest = np.argsort(-b)[:20]
    top[largest] = b[largest] / b[largest].sum()
    assert model.tracking_variance(w - b) < model.tracking_variance(top - b)
    assert min_tracking_error(b, model, n).tolist() == pytest.approx(b.tolist())


def test_prior_model_is_used_without_history() -> None:
    path = make_path(5, sessions=12)
    path = replace(path, returns=None)
    result = simulate(path, FundSettings(method="optimized", names=8, costs=ZERO))
    assert {kind for _, kind in result.selections} == {"prior"}
    model = prior_risk_model(np.array([0, 0, 1]), np.array([3.0, 2.0, 1.0]))
    # market + 2 sectors + 3 size buckets
    assert model.exposures.shape == (3, 6)


# ------------------------------------------------------------------ properties


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), lines=st.integers(2, 40))
def test_full_replication_without_costs_tracks_the_index(seed: int, lines: int) -> None:
    path = make_path(seed, lines=lines)
    assert relative_gap(path, IDEAL) < 1e-10


@settings(max_examples=30, deadline=None)
@given(
    shares=st.lists(st.floats(-1e7, 1e7), min_size=1, max_size=20),
    price=st.floats(0.01, 1e4),
    adv=st.one_of(st.just(math.nan), st.floats(0.0, 1e8)),
    size=st.integers(0, 3),
)
def test_costs_are_never_negative(
    shares: list[float], price: float, adv: float, size: int
) -> None:
    q = np.array(shares)
    costs = trade_costs(
        q,
        np.full(len(q), price),
        np.full(len(q), adv),
        np.full(len(q), size, dtype=np.int8),
        CostSettings(),
    )
    for kind in (costs.commission, costs.spread, costs.impact):
        assert (kind >= 0).all()
        assert (kind[q == 0] == 0).all()


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["full", "sampling"]),
    aum=st.floats(1e5, 1e10),
)
def test_costs_in_a_simulation_are_never_negative(
    seed: int, method: str, aum: float
) -> None:
    nav = simulate(
        make_path(seed),
        FundSettings(method=method, names=6, aum=aum),  # type: ignore[arg-type]
    ).nav
    for kind in ("commission", "spread", "impact", "costs"):
        assert (nav[kind] >= 0).all()


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    cut=st.integers(1, 25),
    method=st.sampled_from(["full", "sampling"]),
)
def test_no_look_ahead(seed: int, cut: int, method: str) -> None:
    """Outputs through the close of ``cut`` ignore everything later than the
    next session's pro-forma (its index shares and reference prices)."""
    path = make_path(seed)
    rng = np.random.default_rng(seed + 1)
    later = slice(int(path.offsets[cut + 2]), len(path.line))  # sessions >= cut + 2
    nxt = slice(int(path.offsets[cut + 1]), int(path.offsets[cut + 2]))  # cut + 1
    scale = rng.uniform(0.5, 2.0, len(path.line))
    close = path.close.copy()
    close[nxt] *= scale[nxt]
    close[later] *= scale[later]
    dividend = path.dividend.copy()
    dividend[nxt] += 0.5
    n = path.index_shares.copy()
    n[later] *= scale[later]
    ref = path.reference_price.copy()
    ref[later] *= scale[later][::-1]
    assert path.adv is not None
    assert path.returns is not None
    adv = path.adv.copy()
    adv[cut + 1 :] *= 7.0
    returns = path.returns.copy()
    returns[path.returns_lead + cut + 1 :] += 0.3
    tr = path.index_total_return.copy()
    tr[cut + 1 :] *= 1.5
    changed = replace(
        path,
        close=close,
        dividend=dividend,
        index_shares=n,
        reference_price=ref,
        adv=adv,
        returns=returns,
        index_total_return=tr,
    )
    s = FundSettings(method=method, names=6, aum=1e7)  # type: ignore[arg-type]
    before = simulate(path, s).nav.head(cut + 1)
    after = simulate(changed, s).nav.head(cut + 1)
    assert before.equals(after)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), flow=st.floats(-0.5, 2.0))
def test_flows_leave_the_nav_on_the_index_without_costs(seed: int, flow: float) -> None:
    path = make_path(seed)
    flows = np.zeros(len(path.sessions))
    flows[10] = flow * IDEAL.aum
    nav = simulate(path, IDEAL, flows=flows).nav
    gap = np.abs(nav["nav"].to_numpy() / nav["index_tr"].to_numpy() - 1).max()
    assert gap < 1e-10
    # units issued (redeemed) at the NAV of the flow's close
    issued = flows[10] / nav["nav"][10]
    assert nav["units"][10] == pytest.approx(nav["units"][9] + issued, rel=1e-12)


def test_a_redemption_larger_than_the_fund_is_an_error() -> None:
    path = make_path(1)
    flows = np.zeros(len(path.sessions))
    flows[5] = -10 * IDEAL.aum
    with pytest.raises(ValueError, match="exceeds the fund's assets"):
        simulate(path, IDEAL, flows=flows)


def test_whole_shares_and_cash_with_default_settings() -> None:
    path = make_path(11, sessions=40, lines=30)
    result = simulate(path, FundSettings(aum=1e8))
    for snap in result.holdings:
        assert (snap.shares == np.floor(snap.shares)).all()
    assert (result.nav["cash"] >= -1e-6).all()
    summary = tracking_summary(result.nav)
    assert summary["periods_per_year"] == 252
    assert summary["ddof"] == 1
    assert summary["tracking_error"] > 0
    assert summary["costs_usd"] == pytest.approx(
        summary["commission_usd"] + summary["spread_usd"] + summary["impact_usd"]
    )


def test_tracking_error_is_the_stated_formula() -> None:
    result = simulate(make_path(2), FundSettings(aum=1e7))
    nav = result.nav
    fund = nav["nav"].to_numpy()
    index = nav["index_tr"].to_numpy()
    active = (fund[1:] / fund[:-1] - 1) - (index[1:] / index[:-1] - 1)
    expected = float(np.std(active, ddof=1) * math.sqrt(252))
    assert tracking_summary(nav)["tracking_error"] == pytest.approx(expected, rel=1e-12)


def test_sampling_holds_at_most_names_lines() -> None:
    path = make_path(4, sessions=30, lines=40, actions=False)
    result = simulate(path, FundSettings(method="sampling", names=7, costs=ZERO))
    assert result.nav.select(pl.col("lines_held").max()).item() <= 7
    assert result.selections[0][0] == path.sessions[0]
