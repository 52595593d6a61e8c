"""Who is a current member: incumbency from the fund lists, followed to the rank day.

The real data say who the current members are only through the funds that hold
them: IWM (iShares Russell 2000) holds every Russell 2000 line, IWV (iShares
Russell 3000) a *sample* of the Russell 3000. A company of the rank-day universe
is

* a **Russell 2000 incumbent** when the incumbent IWM file holds one of its lines;
* a **Russell 1000 incumbent** when the latest IWV file holds one of its lines
  and IWM does not, *unless* IWM held it just before the last reconstitution and
  it is now below the #1,000 band's lower edge (:func:`deleted_at_last_recon`:
  an IWV file older than that reconstitution still lists the Russell 2000
  members it deleted). IWV's symbols are a year old by the 2026 rank day, so they are
  followed to the rank day: through the market data's symbol changes
  (:func:`r2k.construction.listings.successions`, e.g. ``MMC`` -> ``MRSH``,
  ``MPW`` -> ``MPT``) and, for a line the market data never knew under its IWV
  symbol, by a company name key shared with exactly one unclaimed universe
  company (:func:`match_by_name`, e.g. ``FI`` -> ``FISV``, ``CCCS`` -> ``CCC``);
* otherwise **not a member** (a new listing, a company growing in from the
  Microcap or from below it, a company Russell found ineligible), *except* a
  company that was already listed and large when the data start
  (:func:`established_r1000`): IWM's lists observe the whole Russell 2000,
  quarterly IPO additions included, so an eligible company whose cap was above the
  #1,000 band's lower edge before the incumbent file and which IWM never held was
  in the Russell 1000 (a large IPO added to it, a spin-off of a member, or one of
  the members IWV's sample leaves out: SNAP, CHWY, ERIE ... are not in
  ``IWV_2025-05-02.csv``).

Everything here is a pure function of frames; :mod:`r2k.workflows.pipeline`
reads the files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from r2k.construction.classify import company_key_expr

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "deleted_at_last_recon",
    "established_outsiders",
    "established_r1000",
    "match_by_name",
]


def match_by_name(old: pl.DataFrame, new: pl.DataFrame) -> dict[str, str]:
    """Pair lines of ``old`` with lines of ``new`` by company name key.

    Both frames have ``security_id`` and ``name`` (any source's spelling: the key
    drops case, legal forms and the security description,
    :func:`r2k.construction.classify.company_key`, and the word REIT that iShares
    appends). A pair is kept only when the
    key is non-empty and names exactly one line on each side, so two issuers that
    share a key are left unpaired rather than guessed.

    Examples
    --------
    >>> old = pl.DataFrame({"security_id": ["FI"], "name": ["FISERV INC"]})
    >>> new = pl.DataFrame(
    ...     {"security_id": ["FISV"], "name": ["Fiserv Inc. Common Stock"]}
    ... )
    >>> match_by_name(old, new)
    {'FI': 'FISV'}
    """

    def keyed(frame: pl.DataFrame, suffix: str) -> pl.DataFrame:
        out = (
            frame.select(
                pl.col("security_id").alias(f"id_{suffix}"),
                key=company_key_expr("name"),
            )
            # iShares appends the REIT label ("MEDICAL PROPERTIES TRUST REIT INC")
            .with_columns(
                key=pl.col("key")
                .str.replace_all(r"\breit\b", " ")
                .str.replace_all(r"\s+", " ")
                .str.strip_chars(" ")
            )
            .filter(pl.col("key").is_not_null() & (pl.col("key") != ""))
        )
        return out.filter(pl.len().over("key") == 1)

    pairs = keyed(old, "old").join(keyed(new, "new"), on="key", how="inner")
    return dict(pairs.select("id_old", "id_new").iter_rows())


def established_r1000(
    first_caps: pl.DataFrame,
    *,
    unlisted: Iterable[str],
    threshold: float,
) -> frozenset[str]:
    """Companies in neither fund list taken as Russell 1000 incumbents.

    Parameters
    ----------
    first_caps
        ``company_id`` and ``total_market_cap`` of each company on the first
        market-data session after the last reconstitution (before the incumbent
        file); a company absent from that session is a new listing.
    unlisted
        Company ids that neither fund list holds.
    threshold
        The cap a company must have had: the #1,000 band's lower edge on the rank
        day (the smallest cap at which a Russell 1000 member keeps its place).

    Examples
    --------
    >>> caps = pl.DataFrame(
    ...     {"company_id": ["BIG", "SMALL"], "total_market_cap": [4e9, 7e8]}
    ... )
    >>> sorted(established_r1000(caps, unlisted=["BIG", "SMALL", "NEW"],
    ...                          threshold=2e9))
    ['BIG']
    """
    wanted = list(set(unlisted))
    hit = first_caps.filter(
        pl.col("company_id").is_in(wanted) & (pl.col("total_market_cap") >= threshold)
    )
    return frozenset(hit["company_id"].to_list())


def established_outsiders(
    first_caps: pl.DataFrame,
    *,
    unlisted: Iterable[str],
    low: float,
    high: float,
) -> frozenset[str]:
    """Companies in neither fund list taken as ineligible (a screen r2k cannot see).

    IWM's lists observe the whole Russell 2000, quarterly IPO additions included.
    A company that was already listed when the data start, with a total cap in
    ``[low, high)`` (well inside the Russell 2000's range: ``low`` is a multiple of
    the #3,000 company's cap), and that IWM never held, was passed over by Russell
    at the last reconstitution and at the quarterly IPO additions since: it fails a
    screen whose inputs the market data lack (voting rights held by unrestricted
    shareholders above 5%, country of incorporation and headquarters, business
    development companies, R7 §5). It stays out until the data show otherwise.

    Parameters
    ----------
    first_caps
        ``company_id`` and ``total_market_cap`` on the first market-data session
        after the last reconstitution (see :func:`established_r1000`).
    unlisted
        Company ids that neither fund list holds.
    low, high
        The cap range: from ``low`` up to the #1,000 band's lower edge (above it the
        company is an established Russell 1000 member).

    Examples
    --------
    >>> caps = pl.DataFrame(
    ...     {"company_id": ["BIG", "MID", "SMALL"],
    ...      "total_market_cap": [4e9, 9e8, 2e8]}
    ... )
    >>> sorted(established_outsiders(caps, unlisted=["BIG", "MID", "SMALL"],
    ...                              low=6e8, high=2e9))
    ['MID']
    """
    wanted = list(set(unlisted))
    hit = first_caps.filter(
        pl.col("company_id").is_in(wanted)
        & (pl.col("total_market_cap") >= low)
        & (pl.col("total_market_cap") < high)
    )
    return frozenset(hit["company_id"].to_list())


def deleted_at_last_recon(
    caps: pl.DataFrame,
    *,
    candidates: Iterable[str],
    left: Iterable[str],
    edge: float,
) -> frozenset[str]:
    """Russell 1000 candidates (from IWV) that the Russell 2000 deleted instead.

    An IWV file taken before the last reconstitution lists that reconstitution's
    whole Russell 3000; the lines it holds and the incumbent IWM file does not are
    Russell 1000 members *or* Russell 2000 members that left at the
    reconstitution (deleted, or moved up) or since (deleted). A company whose
    lines IWM held just before the reconstitution (``left``: held then, not held
    by the incumbent file) was in the Russell 2000 then; it moved up only if it
    was above the #1,000 band's upper edge, and a company that did so is not
    below the band's lower edge a year later but in rare crashes. So one that is
    below the lower edge on the rank day (``edge``) was deleted: a non-member
    now, not a Russell 1000 incumbent (which would report its return to the
    Russell 2000 as a move down from the Russell 1000, and its drop below the
    #3,000 cut as a deletion).
    Companies above the edge keep the IWV reading.

    Parameters
    ----------
    caps
        ``company_id`` and ``total_market_cap`` on the rank day (one row per
        company).
    candidates
        Company ids taken as Russell 1000 incumbents from IWV.
    left
        Company ids with a line IWM held before the last reconstitution and no
        line the incumbent IWM file holds.
    edge
        The #1,000 band's lower edge cap on the rank day.

    Examples
    --------
    >>> caps = pl.DataFrame(
    ...     {"company_id": ["BIO", "RH", "BIG"], "total_market_cap": [3e8, 2e9, 9e9]}
    ... )
    >>> sorted(deleted_at_last_recon(caps, candidates=["BIO", "RH", "BIG"],
    ...                              left=["BIO", "BIG"], edge=2.5e9))
    ['BIO']
    """
    wanted = list(set(candidates) & set(left))
    small = caps.filter(
        pl.col("company_id").is_in(wanted) & (pl.col("total_market_cap") < edge)
    )
    return frozenset(small["company_id"].to_list())
