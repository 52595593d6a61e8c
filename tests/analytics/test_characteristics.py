"""Index characteristics, S&P 600 overlap and reconstitution turnover.

Hand examples carry their arithmetic in comments; real-data tests check r2k's own
index on the last panel session (2026-07-22) and the latest IWM holdings file
against quantities recomputed independently (plain Python loops, the file's own
``Weight (%)`` column).
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest

from r2k.analytics.characteristics import (
    holdings_characteristics,
    index_characteristics,
    reconstitution_turnover,
    sp600_overlap,
)
from r2k.data.sources.ishares import Holdings, read_holdings
from r2k.data.sources.panel import cross_section
from r2k.data.sources.reference import read_sp_constituents
from r2k.errors import MissingDataError, SchemaError
from r2k.schemas import HOLDINGS

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir
    from r2k.maintenance.engine import Calculation

DAY = date(2026, 7, 22)


def _constituents(shares: dict[str, float], close: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "session": [DAY] * len(shares),
            "security_id": list(shares),
            "index_shares": list(shares.values()),
            "close": [close[k] for k in shares],
        }
    )


def _market(rows: list[tuple[str, float | None, int, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "session": [DAY] * len(rows),
            "security_id": [r[0] for r in rows],
            "name": [f"{r[0]} Inc." for r in rows],
            "close": [10.0] * len(rows),
            "volume": [r[2] for r in rows],
            "total_market_cap": [r[1] for r in rows],
            "sector": [r[3] for r in rows],
        },
        schema_overrides={"total_market_cap": pl.Float64},
    )


def test_index_characteristics_hand_example() -> None:
    # float caps: A 60, B 30, C 10 (index shares x close 10); D has 0 shares.
    cons = _constituents(
        {"A": 6.0, "B": 3.0, "C": 1.0, "D": 0.0},
        {"A": 10.0, "B": 10.0, "C": 10.0, "D": 10.0},
    )
    # C is not in the panel (a foreign-domiciled member): weight yes, cap no.
    market = _market(
        [("A", 200.0, 1_000, "Tech"), ("B", 50.0, 100, "Health"), ("D", 5.0, 1, "X")]
    )
    c = index_characteristics(cons, market)
    assert c.constituents == 3
    assert c.as_of == DAY
    assert c.float_market_cap == pytest.approx(100.0)
    assert c.cap_coverage == 2
    assert c.total_market_cap == pytest.approx(250.0)
    assert (c.smallest_cap, c.largest_cap) == (50.0, 200.0)
    assert c.median_cap == pytest.approx(125.0)
    assert c.mean_cap == pytest.approx(125.0)
    # weighted over the covered: (0.6 * 200 + 0.3 * 50) / 0.9 = 150
    assert c.weighted_average_cap == pytest.approx(150.0)
    # HHI = 0.36 + 0.09 + 0.01 = 0.46; effective N = 1 / 0.46
    assert c.hhi == pytest.approx(0.46)
    assert c.effective_constituents == pytest.approx(1 / 0.46)
    assert c.top10_weight == pytest.approx(1.0)
    # dollar volume: 10 x 1,000 + 10 x 100 (C unknown)
    assert c.dollar_volume == pytest.approx(11_000.0)
    assert c.members["security_id"].to_list() == ["A", "B", "C"]
    sectors = dict(zip(c.sectors["sector"], c.sectors["weight"], strict=True))
    assert sectors == pytest.approx({"Tech": 0.6, "Health": 0.3, "Unknown": 0.1})
    assert c.sectors["count"].to_list() == [1, 1, 1]


def test_index_characteristics_to_dict_is_json_ready() -> None:
    cons = _constituents({"A": 1.0}, {"A": 10.0})
    market = _market([("B", 10.0, 5, "Tech")])  # no cap for A: NaN statistics
    d = index_characteristics(cons, market).to_dict()
    assert d["as_of"] == "2026-07-22"
    assert d["median_cap"] is None
    assert d["top10"][0]["security_id"] == "A"


def test_index_characteristics_needs_one_session() -> None:
    cons = pl.concat(
        [
            _constituents({"A": 1.0}, {"A": 10.0}),
            _constituents({"A": 1.0}, {"A": 10.0}).with_columns(
                session=pl.lit(date(2026, 7, 21))
            ),
        ]
    )
    with pytest.raises(SchemaError, match=r"exactly one session.*filter"):
        index_characteristics(cons, _market([("A", 1.0, 1, "T")]))
    with pytest.raises(SchemaError, match=r"lacks column.*index_shares"):
        index_characteristics(cons.drop("index_shares"), _market([]))


def _holdings(rows: list[tuple[str, str, str, float, float]]) -> Holdings:
    frame = pl.DataFrame(
        {
            "as_of": [DAY] * len(rows),
            "fund": ["IWM"] * len(rows),
            "ticker": [r[0] for r in rows],
            "security_id": [r[0] for r in rows],
            "name": [r[0] for r in rows],
            "sector": [r[1] for r in rows],
            "asset_class": [r[2] for r in rows],
            "market_value": [r[3] for r in rows],
            "weight_pct": [r[4] for r in rows],
            "quantity": [1.0] * len(rows),
            "price": [1.0] * len(rows),
            "location": ["United States"] * len(rows),
            "exchange": ["NYSE"] * len(rows),
            "currency": ["USD"] * len(rows),
        },
        schema=HOLDINGS,
    )
    return Holdings(fund="IWM", as_of=DAY, fund_shares_outstanding=1.0, frame=frame)


def test_holdings_characteristics_equities_only() -> None:
    h = _holdings(
        [
            ("A", "Industrials", "Equity", 75.0, 74.0),
            ("B", "Financials", "Equity", 25.0, 24.0),
            ("USD", "Cash and/or Derivatives", "Cash", 2.0, 2.0),
        ]
    )
    c = holdings_characteristics(h)
    assert c.constituents == 2
    assert c.float_market_cap == pytest.approx(100.0)  # cash left out
    assert c.hhi == pytest.approx(0.75**2 + 0.25**2)
    assert math.isnan(c.median_cap)
    assert math.isnan(c.dollar_volume)
    assert c.sector_scheme.startswith("GICS")
    with_market = holdings_characteristics(h, _market([("A", 900.0, 10, "Tech")]))
    assert with_market.cap_coverage == 1
    assert with_market.weighted_average_cap == pytest.approx(900.0)
    assert with_market.dollar_volume == pytest.approx(100.0)


def test_sp600_overlap_matches_normalised_tickers() -> None:
    sp = pl.DataFrame(
        {
            "index": ["S&P 600", "S&P 600", "S&P 600", "S&P 500"],
            "security_id": ["MOG.A", "ABC", "XYZ", "BIG"],
            "sector": ["Industrials", "Financials", "Energy", "Tech"],
        }
    )
    members = pl.DataFrame(
        {"security_id": ["mog/a", "ABC", "BIG", "ZZZ"], "weight": [0.1, 0.2, 0.3, 0.4]}
    )
    o = sp600_overlap(members, sp)
    assert (o.members, o.sp600_size, o.in_sp600, o.in_sp500) == (4, 3, 2, 1)
    assert o.weight_in_sp600 == pytest.approx(0.3)
    assert o.weight_in_sp500 == pytest.approx(0.3)
    assert o.share_of_sp600 == pytest.approx(2 / 3)
    assert o.matched["security_id"].to_list() == ["BIG", "ABC", "MOG.A"]
    unweighted = sp600_overlap(members.select("security_id"), sp)
    assert unweighted.in_sp600 == 2
    assert math.isnan(unweighted.weight_in_sp600)
    assert unweighted.to_dict()["weight_in_sp600"] is None


def _weights(
    day: date, opening: dict[str, float], closing: dict[str, float]
) -> list[dict[str, object]]:
    return [
        {
            "session": day,
            "security_id": k,
            "index_shares": 1.0,
            "opening_weight": opening[k],
            "closing_weight": closing[k],
        }
        for k in opening
    ]


def test_reconstitution_turnover_hand_example() -> None:
    e, nxt = date(2026, 6, 26), date(2026, 6, 29)
    old = {"A": 0.5, "B": 0.3, "C": 0.2}
    new = {"A": 0.4, "B": 0.3, "D": 0.3}
    cons = pl.DataFrame(_weights(e, old, old) + _weights(nxt, new, new))
    events = pl.DataFrame(
        {
            "session": [e, e, e, date(2026, 3, 20)],
            "security_id": ["C", "D", "A", "B"],
            "action": [
                "reconstitution_deletion",
                "reconstitution_addition",
                "reconstitution_update",
                "quarterly_update",
            ],
        }
    )
    t = reconstitution_turnover(events, cons, e)
    # 0.5 x (|0.4 - 0.5| + |0.3 - 0.3| + |0 - 0.2| + |0.3 - 0|) = 0.3
    assert t.one_way_turnover == pytest.approx(0.3)
    assert t.addition_weight == pytest.approx(0.3)
    assert t.deletion_weight == pytest.approx(0.2)
    assert (t.additions, t.deletions, t.updates) == (1, 1, 1)
    assert (t.members_before, t.members_after) == (3, 3)
    assert t.next_session == nxt
    assert t.to_dict()["session"] == "2026-06-26"
    with pytest.raises(MissingDataError, match=r"no reconstitution.*2026-06-26"):
        reconstitution_turnover(events, cons, nxt)
    with pytest.raises(MissingDataError, match="session after it"):
        reconstitution_turnover(events, cons.filter(pl.col("session") == e), e)


# ------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def calc(data_dir: DataDir) -> Calculation:
    from r2k.workflows.explain import calculate_r2k

    return calculate_r2k(data_dir, constituents=True)


def test_r2k_index_characteristics_on_2026_07_22(
    calc: Calculation, market_panel: pl.DataFrame
) -> None:
    members = calc.constituents.filter(pl.col("session") == DAY)
    c = index_characteristics(members, cross_section(market_panel, DAY))
    assert c.as_of == DAY
    # independent recomputation, plain Python
    values = {
        r["security_id"]: r["index_shares"] * r["close"]
        for r in members.iter_rows(named=True)
        if r["index_shares"] > 0
    }
    total = sum(values.values())
    hhi = sum((v / total) ** 2 for v in values.values())
    top10 = sum(sorted(values.values(), reverse=True)[:10]) / total
    assert c.constituents == len(values)
    assert 1_500 < c.constituents < 2_100
    assert c.float_market_cap == pytest.approx(total, rel=1e-12)
    assert c.hhi == pytest.approx(hhi, rel=1e-9)
    assert c.effective_constituents == pytest.approx(1 / hhi, rel=1e-9)
    assert c.top10_weight == pytest.approx(top10, rel=1e-9)
    # the weights are the calculation's own closing weights
    joined = c.members.join(members, on="security_id")
    gap = (joined["weight"] - joined["closing_weight"]).abs().max()
    assert isinstance(gap, float)
    assert gap < 1e-12
    assert c.sectors["weight"].sum() == pytest.approx(1.0)
    assert c.cap_coverage > 0.95 * c.constituents
    assert c.smallest_cap <= c.median_cap <= c.largest_cap
    assert c.total_market_cap > c.float_market_cap  # float <= total cap
    assert c.dollar_volume > 1e9


def test_latest_iwm_file_characteristics(
    data_dir: DataDir, market_panel: pl.DataFrame
) -> None:
    holdings = read_holdings(data_dir.holdings_files("IWM")[-1])
    c = holdings_characteristics(holdings, cross_section(market_panel, holdings.as_of))
    assert c.as_of == date(2026, 5, 5)
    eq = holdings.equities.filter(pl.col("market_value") > 0)
    assert c.constituents == eq.height
    # the file's own Weight (%) column, renormalised over the equity lines,
    # agrees with market-value weights to its two decimals
    file_w = dict(zip(eq["security_id"], eq["weight_pct"], strict=True))
    scale = float(eq["weight_pct"].sum())
    for row in c.top10.iter_rows(named=True):
        assert row["weight"] == pytest.approx(
            file_w[row["security_id"]] / scale, abs=6e-5
        )
    assert c.top10["security_id"][0] == "BE"  # Bloom Energy, 1.94% of equities
    # the panel leaves out US-listed companies domiciled abroad (about 7%)
    assert 0.85 * c.constituents < c.cap_coverage < c.constituents


def test_sp600_overlap_real(calc: Calculation, data_dir: DataDir) -> None:
    sp = read_sp_constituents(data_dir.sp_constituents)
    members = calc.constituents.filter(pl.col("session") == DAY).select(
        "security_id", weight="closing_weight"
    )
    o = sp600_overlap(members, sp)
    assert o.sp600_size == 603
    # most of the S&P 600 is in the Russell 2000, and no S&P 500 member is
    assert 0.7 < o.share_of_sp600 <= 1.0
    assert 0.3 < o.weight_in_sp600 < 0.7
    assert o.in_sp500 <= 5


def test_reconstitution_turnover_2026(calc: Calculation) -> None:
    t = reconstitution_turnover(calc.events, calc.constituents, date(2026, 6, 26))
    assert t.next_session == date(2026, 6, 29)
    assert t.additions > 100
    assert t.deletions > 50
    # sum(dw) = 0, so each side of the turnover holds all of the additions
    # (bought) and all of the deletions (sold)
    assert t.one_way_turnover >= t.addition_weight
    assert t.one_way_turnover >= t.deletion_weight
    assert 0.05 < t.one_way_turnover < 0.5
