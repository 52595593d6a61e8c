"""py-beacon's side of the calculation benchmark, run in ``.venv-beacon``.

``.venv-beacon/bin/python bench/peers/beacon_side.py DIR`` reads ``DIR/panel.parquet``
(``session``, ``security_id``, ``close``, ``shares_outstanding``) and
``DIR/dividends.parquet`` (``security_id``, ``ex_date``, ``amount``) written by
:mod:`bench.beacon_bench`, and calculates with py-beacon-kit 0.9.7 the index r2k
calculates on the same panel: every name of the panel from its first session, weighted
by market cap (close x shares outstanding, no float adjustment), base 100, as a
price index and as a total-return index (cash dividends reinvested across the index
on the ex-date). py-beacon rebalances once a year at the earliest; with constant
share counts the rebalance keeps the holdings (units = weight x value / close =
shares), so it is the same index.

It runs each return type once on the first 20 sessions (imports, calendar, caches),
then times ``DataFetcher`` construction plus the two full runs with
``time.perf_counter`` in this process, best of ``REPEAT`` rounds (the optional
second argument, default 1), writes ``DIR/beacon_levels.parquet``
(``session``, ``price_return``, ``total_return``) and prints the timings as JSON.

This file imports nothing from r2k: it runs in py-beacon's own interpreter.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

WARM_SESSIONS = 20


def _fetcher(panel: pd.DataFrame, dividends: pd.DataFrame) -> Any:
    from beacon.data import (  # type: ignore[import-not-found]
        DataFetcher,
        MarketData,
        ReferenceData,
    )
    from beacon.data.corporate_actions import (  # type: ignore[import-not-found]
        CorporateActions,
    )

    names = sorted(panel["IDENTIFIER"].unique())
    listings = pd.DataFrame(
        {
            "IDENTIFIER": names,
            "NAME": names,
            "CURRENCY": "USD",
            "EXCHANGE": "XNYS",
            "DATE_FROM": "1970-01-01",
        }
    )
    return DataFetcher(
        MarketData.from_dataframe(panel),
        ReferenceData.from_dataframe(listings),
        CorporateActions.from_dataframe(dividends),
    )


def _run(data: Any, names: list[str], base: str, end: str, kind: str) -> pd.Series:
    from beacon.index import (  # type: ignore[import-not-found]
        IndexCalculator,
        IndexDefinition,
        MarketCapWeighted,
    )

    definition = IndexDefinition(
        index_id="BENCH",
        index_name="r2k bench, cap weighted",
        base_date=base,
        base_value=100.0,
        currency="USD",
        eligibility_rules=[],
        weighting_scheme=MarketCapWeighted(),
        rebalancing_frequency="ANNUAL",
        calendar="XNYS",
        universe_identifiers=names,
        return_type=kind,
    )
    levels: pd.Series = IndexCalculator(definition, data).run(end_date=end).index_levels
    return levels


def main() -> None:
    logging.getLogger("beacon").setLevel(logging.ERROR)
    folder = Path(sys.argv[1])
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    raw = pd.read_parquet(folder / "panel.parquet")
    panel = pd.DataFrame(
        {
            "IDENTIFIER": raw["security_id"],
            "DATE": pd.to_datetime(raw["session"]).dt.strftime("%Y-%m-%d"),
            "CLOSE": raw["close"],
            "SHARES_OUTSTANDING": raw["shares_outstanding"],
        }
    )
    div = pd.read_parquet(folder / "dividends.parquet")
    dividends = pd.DataFrame(
        {
            "IDENTIFIER": div["security_id"],
            "EX_DATE": pd.to_datetime(div["ex_date"]),
            "TYPE": "DIVIDEND",
            "VALUE": div["amount"],
        }
    )
    names = sorted(panel["IDENTIFIER"].unique())
    days = sorted(panel["DATE"].unique())
    base, end = days[0], days[-1]

    warm = _fetcher(panel, dividends)
    for kind in ("PRICE", "TOTAL_RETURN"):
        _run(warm, names, base, days[WARM_SESSIONS], kind)

    rounds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        data = _fetcher(panel, dividends)
        t1 = time.perf_counter()
        price = _run(data, names, base, end, "PRICE")
        t2 = time.perf_counter()
        total = _run(data, names, base, end, "TOTAL_RETURN")
        t3 = time.perf_counter()
        rounds.append((t3 - t0, t1 - t0, t2 - t1, t3 - t2))
    seconds, fetcher_s, price_s, total_s = min(rounds)

    pd.DataFrame(
        {
            "session": pd.to_datetime(price.index).date,
            "price_return": price.to_numpy(),
            "total_return": total.reindex(price.index).to_numpy(),
        }
    ).to_parquet(folder / "beacon_levels.parquet", index=False)
    print(
        json.dumps(
            {
                "fetcher_s": fetcher_s,
                "price_s": price_s,
                "total_s": total_s,
                "seconds": seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
