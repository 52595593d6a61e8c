"""A straightforward per-company Python reconstitution: the baseline and the oracle.

Written from methodology.md §3-§5 without reusing any r2k engine code: plain dicts
and loops, one company at a time. ``make bench`` times it against the vectorised
engine; ``tests/test_naive_oracle.py`` requires both to agree company by company.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from r2k.methodology.rule_sets import RuleSet

EQUITY = ("common", "ordinary", "class_share")


def naive_reconstitute(
    universe: pl.DataFrame, incumbents: pl.DataFrame, rules: RuleSet
) -> dict[str, dict[str, Any]]:
    """Company id -> {rank, cum_pct, r1000, r2000, microcap, top200} for the R3000E."""
    e, r, b = rules.eligibility, rules.ranking, rules.banding
    rows = universe.to_dicts()
    inc: dict[str, dict[str, Any]] = {}
    line_company = {row["security_id"]: row["company_id"] for row in rows}
    for row in incumbents.to_dicts():
        company = line_company.get(row["security_id"])
        if company is not None:
            inc.setdefault(company, row)
    shares: dict[str, float | None] = {}
    eligible: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["security_type"] in e.eligible_security_types:
            if row["shares_outstanding"] is not None:
                shares[row["company_id"]] = (
                    shares.get(row["company_id"]) or 0.0
                ) + row["shares_outstanding"]
            else:
                shares.setdefault(row["company_id"], None)
        else:
            continue
        exchange = row["exchange"]
        if exchange is not None and exchange.upper() not in e.eligible_exchanges:
            continue
        if row["country"] is not None and row["country"] not in e.eligible_countries:
            continue
        if row["close"] is None or row["close"] <= 0:
            continue
        eligible.setdefault(row["company_id"], []).append(row)
    companies = []
    tol = rules.share_classes.pricing_vehicle_volume_tolerance
    for company, lines in eligible.items():
        top = max((line["avg_volume"] or 0.0) for line in lines)
        close = [
            line for line in lines if (line["avg_volume"] or 0.0) >= top * (1 - tol)
        ]
        close.sort(
            key=lambda line: (
                -(
                    line["shares_outstanding"]
                    if line["shares_outstanding"] is not None
                    else -1
                ),
                -(line["avg_volume"] or 0.0),
                line["security_id"],
            )
        )
        pv = close[0]
        total = shares.get(company)
        if total is None:
            continue
        cap = total * pv["close"]
        if cap < e.min_total_market_cap:
            continue
        incumbent = company in inc
        price_ok = pv["close"] >= e.min_price or (
            incumbent
            and pv["avg_close_30d"] is not None
            and pv["avg_close_30d"] >= e.min_price
        )
        if not price_ok:
            continue
        if (
            pv["float_factor"] is not None
            and pv["float_factor"] * 100 < e.min_float_pct
        ):
            continue
        vote = pv["voting_rights_pct"]
        if vote is not None and vote < e.min_voting_rights_pct:
            continue
        companies.append((cap, company))
    companies.sort(key=lambda item: (-item[0], item[1]))
    members = companies[: r.r3000e_size]
    total_cap = sum(cap for cap, _ in members)
    out: dict[str, dict[str, Any]] = {}
    running = 0.0
    for rank, (cap, company) in enumerate(members, start=1):
        running += cap
        out[company] = {"rank": rank, "cum_pct": 100.0 * running / total_cap}

    def side(company: str, breakpoint: int, band: float, key: str, flip: bool) -> bool:
        by_rank = bool(out[company]["rank"] <= breakpoint)
        if not b.enabled or len(members) < breakpoint:
            return by_rank
        c_b = out[members[breakpoint - 1][1]]["cum_pct"]
        pct = out[company]["cum_pct"]
        old = inc.get(company, {}).get(key)
        if old is None or not (c_b - band <= pct <= c_b + band):
            return by_rank
        return (not old) if flip else bool(old)

    for company in out:
        in_3000 = out[company]["rank"] <= r.r3000_size
        r1000 = in_3000 and side(
            company, r.r1000_size, b.r1000_band_pct, "r1000", False
        )
        top200 = r1000 and side(
            company, r.top200_size, b.top200_band_pct, "top200", False
        )
        above2000 = side(company, r.microcap_top, b.microcap_band_pct, "microcap", True)
        out[company].update(
            r1000=r1000,
            r2000=in_3000 and not r1000,
            top200=top200,
            microcap=not r1000 and not above2000,
        )
    return out
