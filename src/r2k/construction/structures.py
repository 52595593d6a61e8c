"""Ineligible company structures the name table misses (R7 §5.11.1, §5.15).

R7 §5.11.1 excludes royalty trusts, US LLCs, closed-end investment companies
(business development companies included), blank-cheque companies and SPACs, and
limited partnerships. Most of these trade as plain "Common Stock" in the market
panel, so :mod:`r2k.construction.classify` cannot tell them by the security
name alone. :func:`structure_screen` uses every other field the data have:

=================  ===================================================================
rule               evidence
=================  ===================================================================
``sec_llc``        the SEC ticker map names the issuer "..., LLC" (Global Indemnity
                   Group, LLC; the panel writes "LLC Class A Common Stock")
``sec_lp``         the SEC map names the issuer "..., L.P."
``sec_fund``       the SEC map names a fund ("Calamos Strategic Total Return Fund")
``spac_units``     the issuer also lists units (``CUB`` and ``CUBWU``, ``APXT`` and
                   ``APXTU``): units of a share and a warrant or right are how blank-
                   cheque companies list; they separate and go at the merger
``bdc_name``       "... Capital Inc." in the Finance sector (Hercules Capital,
                   Trinity Capital)
``cef_name``       fund words: "credit opportunities", "total return", "securities
                   corporation", or a closed-end fund sponsor's name with an
                   investment word ("Tortoise Energy Infrastructure Corporation")
``non_voting``     every listed class of the company says "Non Voting" (EZCORP):
                   the listed shares carry no votes, so fewer than 5% of the votes
                   are in unrestricted hands (R7 §5.15)
=================  ===================================================================

**Membership guard.** A company that a fund replicating the index holds (a current
member) passed FTSE Russell's structure review, and structures rarely change, so
these rules do not apply to it; the guard also lifts the BDC name rule of
:func:`r2k.construction.classify.fund_structure` from members (MGIC Investment,
``MTG``, a mortgage insurer; Runway Growth Finance, ``RWAY``, which IWM holds).
The rules' false positives measured on the 2026-04-30 cross-section (lines the
rule flags that IWM or IWV hold, i.e. that the guard saves) are kept in
docs/methodology.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.construction.classify import (
    _FUND_SPONSORS,
    company_key_expr,
    security_type_expr,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["FLAGS", "STRUCTURE_RULES", "structure_screen"]

_PLAIN: Final = ("common", "ordinary", "class_share")
_FUND_TYPES: Final = ("bdc", "closed_end_fund")
_EXCLUDED_SECTORS: Final = ("Real Estate", "Utilities")

STRUCTURE_RULES: Final[dict[str, str]] = {
    "sec_llc": "llc",
    "sec_lp": "partnership",
    "sec_fund": "closed_end_fund",
    "spac_units": "spac",
    "bdc_name": "bdc",
    "cef_name": "closed_end_fund",
}
"""Rule name -> the security type it assigns (``non_voting`` sets no type)."""

FLAGS: Final = pl.Schema(
    {"security_id": pl.String, "rule": pl.String, "detail": pl.String}
)

_SEC_LLC = r"(?i)\bL\.?\s?L\.?\s?C\.?\s*$"
_SEC_LP = r"(?i)\bL\.?\s?P\.?\s*$"
_SEC_FUND = r"(?i)\bfund\b|\bbdc\b"
_BDC_NAME = r"(?i)\bcapital,?\s+inc\b"
_CEF_NAME = (
    r"(?i)\bcredit opportunities\b|\btotal return\b|\bsecurities corp(?:oration)?\b"
    r"|\b" + _FUND_SPONSORS + r"\b.*\b(?:energy|infrastructure|income|credit"
    r"|opportunit(?:y|ies)|return)\b"
)
_NON_VOTING = r"(?i)\bnon[\s-]*voting\b|\bnonvoting\b"


def _rules(sec_name: pl.Expr, sector_ok: pl.Expr) -> dict[str, pl.Expr]:
    name = pl.col("name")
    return {
        "sec_llc": sec_name.str.contains(_SEC_LLC),
        "sec_lp": sec_name.str.contains(_SEC_LP),
        "sec_fund": sec_name.str.contains(_SEC_FUND),
        "spac_units": pl.col("_has_units"),
        "bdc_name": name.str.contains(_BDC_NAME) & (pl.col("sector") == "Finance"),
        "cef_name": name.str.contains(_CEF_NAME) & sector_ok,
    }


def structure_screen(
    universe: pl.DataFrame,
    *,
    members: Iterable[str] = (),
    sec: pl.DataFrame | None = None,
    guard: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Reclassify plain-equity lines of ineligible structures.

    Parameters
    ----------
    universe
        The rank-day universe (:data:`r2k.schemas.UNIVERSE`).
    members
        Security ids held by the incumbent fund files (IWM, IWV); every company
        with such a line is exempt (the membership guard, see the module text).
    sec
        The SEC ticker map (``security_id``, ``name``), or None.
    guard
        False applies the rules to members too (used to measure their false
        positives).

    Returns
    -------
    tuple
        The universe with ``security_type`` (and ``voting_rights_pct`` for
        ``non_voting``) changed, and one :data:`FLAGS` row per changed line.
    """
    member_ids = list(set(members))
    frame = universe.with_columns(
        _member=pl.col("security_id")
        .is_in(member_ids)
        .any()
        .over("company_id")
        .fill_null(value=False)
        & pl.lit(guard)
    )
    if sec is not None:
        names = sec.select("security_id", _sec_name=pl.col("name")).unique(
            "security_id", keep="first"
        )
        frame = frame.join(names, on="security_id", how="left")
    else:
        frame = frame.with_columns(_sec_name=pl.lit(None, dtype=pl.String))
    frame = frame.with_columns(_key=company_key_expr("name"))
    frame = frame.with_columns(_has_units=_has_units(frame))
    plain = pl.col("security_type").is_in(list(_PLAIN))
    sector_ok = ~pl.col("sector").is_in(list(_EXCLUDED_SECTORS)).fill_null(value=False)
    # 1. Members keep the type the name table gives them.
    name_type = security_type_expr("name", symbol_col="security_id")
    restore = (
        pl.col("_member")
        & pl.col("security_type").is_in(list(_FUND_TYPES))
        & name_type.is_in(list(_PLAIN))
    )
    frame = frame.with_columns(
        _restored=restore,
        security_type=pl.when(restore).then(name_type).otherwise("security_type"),
    )
    # 2. Structure rules, first match wins, on non-member plain lines.
    rule_col: pl.Expr = pl.lit(None, dtype=pl.String)
    for rule, expr in reversed(list(_rules(pl.col("_sec_name"), sector_ok).items())):
        rule_col = (
            pl.when(expr.fill_null(value=False)).then(pl.lit(rule)).otherwise(rule_col)
        )
    frame = frame.with_columns(_rule=pl.when(plain & ~pl.col("_member")).then(rule_col))
    frame = frame.with_columns(
        security_type=pl.when(pl.col("_rule").is_not_null())
        .then(pl.col("_rule").replace_strict(STRUCTURE_RULES, return_dtype=pl.String))
        .otherwise("security_type")
    )
    # 3. Non-voting companies: every plain line says non-voting.
    plain_now = pl.col("security_type").is_in(list(_PLAIN))
    nv = pl.col("name").str.contains(_NON_VOTING).fill_null(value=False)
    all_nv = ((plain_now & ~nv).sum().over("company_id") == 0) & (
        plain_now & nv
    ).any().over("company_id")
    frame = frame.with_columns(_non_voting=all_nv & ~pl.col("_member") & plain_now)
    frame = frame.with_columns(
        voting_rights_pct=pl.when(pl.col("_non_voting"))
        .then(pl.lit(0.0))
        .otherwise("voting_rights_pct")
    )
    flags = pl.concat(
        [
            frame.filter(pl.col("_restored")).select(
                "security_id",
                rule=pl.lit("member_guard"),
                detail=pl.format("held by the fund: kept as {}", "security_type"),
            ),
            frame.filter(pl.col("_rule").is_not_null()).select(
                "security_id",
                rule="_rule",
                detail=pl.format("{} -> {}", "name", "security_type"),
            ),
            frame.filter(pl.col("_non_voting")).select(
                "security_id",
                rule=pl.lit("non_voting"),
                detail=pl.format("{}: voting rights 0%", "name"),
            ),
        ]
    )
    out = frame.select(universe.columns)
    return out, flags.cast(dict(FLAGS)).sort("security_id")  # type: ignore[arg-type]


def _has_units(frame: pl.DataFrame) -> pl.Series:
    """Whether a line's issuer also lists units (same company key, symbol prefix)."""
    units = frame.filter(pl.col("security_type") == "unit").select(
        "security_id", "_key"
    )
    by_key: dict[str, list[str]] = {}
    for sid, key in units.iter_rows():
        if key:
            by_key.setdefault(key, []).append(sid)
    out = []
    for sid, key in frame.select("security_id", "_key").iter_rows():
        root = sid.split(".", 1)[0]
        out.append(
            bool(key)
            and any(u != sid and u.startswith(root) for u in by_key.get(key, ()))
        )
    return pl.Series("_has_units", out, dtype=pl.Boolean)
