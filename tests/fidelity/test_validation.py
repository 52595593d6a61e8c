"""The reconstitution check, naive and corrected, on a hand-built history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from r2k import schemas
from r2k.fidelity.validation import (
    CheckInputs,
    compare,
    is_equity_line,
    non_index_holdings,
)

RANK_DAY = date(2025, 4, 30)
EFFECTIVE = date(2025, 6, 27)

T1 = datetime(2025, 6, 10, 13, 0, tzinfo=UTC)  # as of 06-09
T2 = datetime(2025, 6, 28, 19, 0, tzinfo=UTC)  # as of 06-27 (effective date)
T3 = datetime(2025, 7, 1, 13, 0, tzinfo=UTC)  # as of 06-30
T4 = datetime(2025, 7, 27, 20, 19, tzinfo=UTC)  # as of 07-25: the snapshot

OLD_INDEX = [
    ("AAA", "ALPHA INC", 0.30),
    ("OLDN", "RENAMED HOLDINGS INC", 0.10),
    ("BBB", "BETA CORP", 0.20),
    ("ZZZ", "ACQUIRED CORP", 0.20),
    ("FCFS", "FIRSTCASH HOLDINGS INC", 0.19),
    ("DEL", "DELETED CORP", 0.00),
    ("SOLD", "SOLD DOWN CORP", 0.05),
]
NEW_LINES = [("NEWA", "NEW ADD INC", 0.05)]
FINAL = [
    ("AAA", "ALPHA INC", 0.30),
    ("NEWN", "RENAMED HOLDINGS INC", 0.10),
    ("BBB", "BETA CORP", 0.20),
    ("NEWA", "NEW ADD INC", 0.05),
    ("FCFS", "FIRSTCASH HOLDINGS INC", 0.19),
    ("INH", "INHIBRX INC CVR", 0.00),
    ("USD", "USD CASH", 0.10),
    ("RTYU5", "RUSSELL 2000 EMINI CME SEP 25", 0.00),
    ("SBT", "STERLING BANCORP INC", 0.00),
]


def _history() -> pl.DataFrame:
    rows = []
    snaps = {
        T1: OLD_INDEX,
        T2: OLD_INDEX + NEW_LINES,
        T3: [r for r in OLD_INDEX if r[0] != "OLDN"]
        + NEW_LINES
        + [("NEWN", "RENAMED HOLDINGS INC", 0.10)],
        T4: FINAL,
    }
    for taken, lines in snaps.items():
        rows += [(taken, "c", t, t, n, w, None) for t, n, w in lines]
    frame = pl.DataFrame(rows, schema=schemas.MEMBERSHIP_HISTORY, orient="row")
    return schemas.check_schema(frame, schemas.MEMBERSHIP_HISTORY, source="test")


def _holdings() -> pl.DataFrame:
    rows = [
        ("SBT", "STERLING BANCORP INC", "Equity", 5.81, 0.0, "NASDAQ"),
        ("AAA", "ALPHA INC", "Equity", 1e6, 10.0, "NASDAQ"),
        (
            "ADRO",
            "CHINOOK THERAPEUTICS INC",
            "Equity",
            2e5,
            0.17,
            "NO MARKET (E.G. UNLISTED)",
        ),
    ]
    return pl.DataFrame(
        {
            "as_of": [date(2025, 5, 13)] * len(rows),
            "fund": ["IWM"] * len(rows),
            "ticker": [r[0] for r in rows],
            "security_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "sector": ["x"] * len(rows),
            "asset_class": [r[2] for r in rows],
            "market_value": [r[3] for r in rows],
            "weight_pct": [0.0] * len(rows),
            "quantity": [1.0] * len(rows),
            "price": [r[4] for r in rows],
            "location": ["United States"] * len(rows),
            "exchange": [r[5] for r in rows],
            "currency": ["USD"] * len(rows),
        },
        schema=schemas.HOLDINGS,
    )


PREDICTED = {"AAA", "OLDN", "BBB", "ZZZ", "FCFS", "NEWA"}
UNIVERSE = PREDICTED | {"DEL", "SOLD"}


def _universe_lines() -> pl.DataFrame:
    names = {t: n for t, n, _ in OLD_INDEX + NEW_LINES}
    return pl.DataFrame(
        {"security_id": sorted(UNIVERSE), "name": [names[t] for t in sorted(UNIVERSE)]}
    )


def test_naive_figures_are_unchanged() -> None:
    result = compare(
        PREDICTED,
        _history(),
        rank_day=RANK_DAY,
        effective_date=EFFECTIVE,
        universe_ids=UNIVERSE,
    )
    # Naive: FCFS dropped by the CASH filter, INH (a CVR) and SBT kept, no renames.
    assert result.actual == 6  # AAA NEWN BBB NEWA INH SBT
    assert result.overlap == 3  # AAA BBB NEWA
    assert result.precision == pytest.approx(3 / 6)
    assert result.corrected is None
    assert "corrected_precision" not in result.as_dict()


def test_corrected_check() -> None:
    check = CheckInputs(
        universe_lines=_universe_lines(),
        holdings=(_holdings(),),
        later_listed=frozenset({"SOLD", "AAA", "BBB"}),
    )
    result = compare(
        PREDICTED,
        _history(),
        rank_day=RANK_DAY,
        effective_date=EFFECTIVE,
        universe_ids=UNIVERSE,
        check=check,
    )
    c = result.corrected
    assert c is not None
    assert c.renamed == {"OLDN": "NEWN"}
    assert set(c.non_index) == {"INH", "USD", "RTYU5", "SBT"}
    # ZZZ left at 0.20% and no later listing knows it: acquired after the
    # effective date. DEL left at 0.00% (sold down), SOLD is still listed.
    assert c.left_after_effective == ("ZZZ",)
    assert c.actual == 6  # AAA NEWN BBB NEWA FCFS ZZZ
    assert c.overlap == 6
    assert c.precision == pytest.approx(1.0)
    assert c.recall == pytest.approx(1.0)
    payload = result.as_dict()
    assert payload["precision"] == pytest.approx(3 / 6)  # old keys kept
    assert payload["corrected_precision"] == pytest.approx(1.0)


def test_first_cash_is_an_equity_only_in_the_corrected_rules() -> None:
    assert not is_equity_line("FCFS", "FIRSTCASH HOLDINGS INC")


def test_non_index_holdings_by_venue_price_and_class() -> None:
    got = non_index_holdings([_holdings()])
    assert got == {"SBT", "ADRO"}
    # The file nearest the snapshot decides: a later file with a zero price does
    # not make an earlier live line a non-member.
    later = _holdings().with_columns(
        as_of=pl.lit(date(2026, 4, 10)),
        price=pl.lit(0.0),
    )
    assert "AAA" not in non_index_holdings([_holdings(), later], near=date(2025, 7, 25))
    assert "AAA" in non_index_holdings([_holdings(), later], near=date(2026, 4, 10))
