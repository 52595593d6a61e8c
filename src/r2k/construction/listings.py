"""Which lines go on trading: ticker successions and lines that stop trading.

A sequence of lists of lines (the market panel's sessions, a fund's holdings or
membership snapshots) is given as one LISTINGS frame: one row per line per list,
``position`` numbering the lists in time order (0 = the first). From it:

* :func:`successions` finds the lines that **change symbol**: a line that ends
  (absent from the last list) and a line that starts (absent from the first list)
  at most ``max_gap`` lists later are the same security when

  1. both tickers carry the same SEC CIK (``ciks``), or
  2. they carry the same name (upper case, punctuation dropped): ``CSWI`` ->
     ``CSW`` "CSW INDUSTRIALS INC", ``KIND`` -> ``NXDR``, ``CLSKW`` -> ``CLSK``,
     ``XWIN`` -> ``XMAX``, or
  3. they carry the same size (``size``: total market cap in the panel, fund
     weight in a fund's lists) within ``size_rtol``, the size is at least
     ``min_size``, the new line starts in a quiet list (not a reconstitution)
     and is no warrant, right or other non-index line (:func:`is_index_line`),
     and the pair is the only candidate either way
     (``LANC`` -> ``MZTI`` at 0.14% of IWM, ``IGT`` -> ``BRSL`` at 0.07%,
     ``SCVL`` -> ``SHOE`` at the same market cap).

  Each rule pairs only lines that have exactly one candidate each way, so an
  ambiguous change (``OB`` -> ``TEAD`` at 0.00% next to another line ending at
  0.00%) is left unpaired rather than guessed.
* :func:`ceased_lines` lists the lines that **stop trading** inside the window:
  absent from the last list, and whose successor chain (if any) is absent too.
* :func:`despac_listings` finds **completed SPAC mergers** in a panel: a company
  whose shares and warrants start trading together.

Only presence, names and the size column are read: prices and volumes are not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.errors import SchemaError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import date

__all__ = [
    "LISTINGS",
    "ceased_lines",
    "despac_listings",
    "follow",
    "is_index_line",
    "line_name_key",
    "successions",
]

LISTINGS: Final = pl.Schema(
    {
        "position": pl.Int64,  # list number, 0 = first, in time order
        "security_id": pl.String,
        "name": pl.String,  # nullable
        "size": pl.Float64,  # nullable: market cap or fund weight
    }
)
"""One row per line per list."""


# Fund lines that are no index members, by name and symbol. Whole words, so
# FIRSTCASH, FARADAY FUTURE and FUTUREFUEL stay equities.
_NON_INDEX_NAME = re.compile(
    r"\bCVRS?\s*$|\bCONTINGENT VALUE\b|\bESCROW\b|^ESC\b|\bSTUB\b"
    r"|\bWARRANTS?\b|\bRIGHTS?\b|\bPRVT\b|\bVESTING\b|\bWHEN ISSUED\b"
    r"|^[A-Z]{3} CASH$|\bCASH COLLATERAL\b|\bBLK CSH FND\b|\bMONEY MARKET\b"
    r"|\bBALANCE WITH\b|\bEMINI\b|\bFUTURES? (?:CONTRACT|CME)\b",
    re.IGNORECASE,
)
_NON_INDEX_TICKER = re.compile(
    r"^(?:RTY|ES|NQ|M2K)[FGHJKMNQUVXZ]\d$"  # index futures (RTYU5)
    r"|\.(?:RT|WS|W|CVR)$"  # rights, warrants, CVRs written as a class
)
_NON_INDEX_TICKERS = frozenset({"USD", "CAD", "XTSLA", "MSFUT", "ETD.USD", "ETD_USD"})


def is_index_line(security_id: str | None, name: str | None) -> bool:
    """Whether a fund line can be an index member, by its symbol and name.

    Examples
    --------
    >>> is_index_line("FCFS", "FIRSTCASH HOLDINGS INC")
    True
    >>> is_index_line("FF", "FUTUREFUEL CORP")
    True
    >>> is_index_line("INH", "INHIBRX INC CVR")
    False
    >>> is_index_line("RTYU5", "RUSSELL 2000 EMINI CME SEP 25")
    False
    >>> is_index_line("P5N994", "Petrocorp Inc Escrow")
    False
    """
    if security_id is None:
        return False
    sid = security_id.strip().upper()
    if sid in _NON_INDEX_TICKERS or _NON_INDEX_TICKER.search(sid):
        return False
    if name is not None and _NON_INDEX_NAME.search(name):
        return False
    return bool(re.match(r"^[A-Z]{1,5}(?:\.[A-Z]{1,2})?$", sid))


def line_name_key(name: pl.Expr) -> pl.Expr:
    """Name compared across lists: upper case, non-alphanumeric runs as a space."""
    return (
        name.str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", " ").str.strip_chars(" ")
    )


def _spans(listings: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in LISTINGS if c not in listings.columns]
    if missing:
        msg = f"listings: missing column(s) {', '.join(missing)}"
        raise SchemaError(msg)
    frame = listings.select(
        pl.col("position").cast(pl.Int64),
        "security_id",
        name=pl.col("name").cast(pl.String),
        size=pl.col("size").cast(pl.Float64),
    )
    if not frame["position"].is_sorted():
        frame = frame.sort("position", maintain_order=True)
    # The name key of the first and last non-null name is the first and last
    # non-null key (a key is null exactly when its name is): one key per line,
    # not one per row.
    return (
        frame.group_by("security_id")
        .agg(
            first=pl.col("position").min(),
            last=pl.col("position").max(),
            key_first=pl.col("name").drop_nulls().first(),
            key_last=pl.col("name").drop_nulls().last(),
            size_first=pl.col("size").drop_nulls().first(),
            size_last=pl.col("size").drop_nulls().last(),
        )
        .with_columns(
            key_first=line_name_key(pl.col("key_first")),
            key_last=line_name_key(pl.col("key_last")),
        )
    )


def successions(
    listings: pl.DataFrame,
    *,
    ciks: Mapping[str, str] | None = None,
    max_gap: int = 5,
    size_rtol: float = 0.05,
    min_size: float = 0.0,
    use_size: bool = True,
    size_max_starts: float = 0.02,
) -> dict[str, str]:
    """Map each line that changes symbol inside the window to the symbol it takes.

    See the module docstring for the three rules. The size rule applies only to a
    line that starts in a quiet list (the lines starting there are at most
    ``size_max_starts`` of the list): across a reconstitution hundreds of lines
    come and go and equal
    weights are coincidences. Returns ``{old: new}`` for the direct pairs
    only; :func:`follow` walks a chain (``SHYF`` -> ``PCSHD`` -> ``AEBI``).
    """
    spans = _spans(listings)
    if spans.height == 0:
        return {}
    lo = int(spans["first"].min())  # type: ignore[arg-type]
    hi = int(spans["last"].max())  # type: ignore[arg-type]
    ended = spans.filter(pl.col("last") < hi).select(
        e="security_id",
        e_last="last",
        e_key="key_last",
        e_size="size_last",
    )
    started = spans.filter(pl.col("first") > lo).select(
        s="security_id",
        s_first="first",
        s_key="key_first",
        s_size="size_first",
        s_starts=pl.len().over("first"),
        s_equity=pl.struct("security_id", "key_first").map_elements(
            lambda r: is_index_line(r["security_id"].split("^")[0], r["key_first"]),
            return_dtype=pl.Boolean,
        ),
    )
    per_list = listings.group_by("position").agg(s_lines=pl.len())
    started = started.join(
        per_list.rename({"position": "s_first"}), on="s_first", how="left"
    )
    pairs = ended.join(started, how="cross").filter(
        (pl.col("s_first") > pl.col("e_last"))
        & (pl.col("s_first") - pl.col("e_last") <= max_gap)
        & (pl.col("e") != pl.col("s"))
    )
    cik = dict(ciks or {})
    pairs = pairs.with_columns(
        e_cik=pl.col("e").replace_strict(cik, default=None, return_dtype=pl.String),
        s_cik=pl.col("s").replace_strict(cik, default=None, return_dtype=pl.String),
    )
    rules: list[pl.Expr] = [
        pl.col("e_cik").is_not_null() & (pl.col("e_cik") == pl.col("s_cik")),
        pl.col("e_key").is_not_null()
        & (pl.col("e_key") != "")
        & (pl.col("e_key") == pl.col("s_key")),
    ]
    if use_size:
        big = pl.max_horizontal("e_size", "s_size")
        rules.append(
            pl.col("s_equity")
            & (pl.col("s_starts") <= size_max_starts * pl.col("s_lines"))
            & (pl.min_horizontal("e_size", "s_size") >= min_size)
            & (pl.min_horizontal("e_size", "s_size") > 0)
            & ((pl.col("e_size") - pl.col("s_size")).abs() <= size_rtol * big)
        )
    out: dict[str, str] = {}
    for rule in rules:
        open_pairs = pairs.filter(
            ~pl.col("e").is_in(list(out)) & ~pl.col("s").is_in(list(out.values()))
        )
        hits = open_pairs.filter(rule.fill_null(value=False))
        # Unique both ways among the candidates of this rule.
        hits = hits.filter(
            (pl.col("e").count().over("e") == 1) & (pl.col("s").count().over("s") == 1)
        )
        out.update(dict(hits.select("e", "s").iter_rows()))
    return out


def follow(security_id: str, successors: Mapping[str, str]) -> str:
    """The last symbol of a line's succession chain (itself if it has none)."""
    seen = {security_id}
    current = security_id
    while current in successors:
        current = successors[current]
        if current in seen:  # a cycle cannot happen in time order; stop anyway
            break
        seen.add(current)
    return current


def ceased_lines(
    listings: pl.DataFrame,
    candidates: Iterable[str],
    successors: Mapping[str, str],
) -> set[str]:
    """Candidates that stop trading inside the window.

    A candidate ceases when neither it nor the end of its succession chain is in
    the last list. Candidates absent from every list are not judged (the lists say
    nothing about them).
    """
    spans = _spans(listings)
    if spans.height == 0:
        return set()
    last = dict(spans.select("security_id", "last").iter_rows())
    hi = max(last.values())
    out: set[str] = set()
    for sid in candidates:
        if sid not in last:
            continue
        end = follow(sid, successors)
        if last.get(end, -1) < hi:
            out.add(sid)
    return out


#: Security types of a company's shares (the plain equity lines).
_SHARES: Final = ("common", "ordinary", "class_share")


def despac_listings(
    lines: pl.DataFrame,
    *,
    after: date,
    renamed: Iterable[str] = (),
    max_gap_days: int = 7,
) -> pl.DataFrame:
    """Companies whose shares and warrants began trading together after ``after``.

    At a SPAC's merger the SPAC's shares and warrants take the new company's
    symbols, so in a market panel the company's share line and a warrant line of
    the same company start within days of each other (Eagle Nuclear: ``NUCL`` and
    ``NUCLW`` on 2026-02-25). A company listing in an ordinary IPO has no warrant
    line. A line that only changed symbol (in ``renamed``: the new symbols of
    :func:`successions`) is no new listing, nor is one that starts on ``after``
    itself (the panel's first session: it may be older).

    Parameters
    ----------
    lines
        ``security_id``, ``company_id``, ``security_type`` and ``first_session``
        (the line's first session in the panel).
    after
        The panel's first session.
    renamed
        Lines that continue an earlier symbol.
    max_gap_days
        Most calendar days between the share line's first session and the
        warrant line's.

    Returns
    -------
    pl.DataFrame
        ``security_id``, ``company_id``, ``first_session`` of the share lines.

    Examples
    --------
    >>> from datetime import date
    >>> lines = pl.DataFrame(
    ...     {
    ...         "security_id": ["NUCL", "NUCLW", "IPO", "OLD", "OLDW"],
    ...         "company_id": ["nucl", "nucl", "ipo", "old", "old"],
    ...         "security_type": ["common", "warrant", "common", "common", "warrant"],
    ...         "first_session": [date(2026, 2, 25)] * 3 + [date(2025, 12, 26)] * 2,
    ...     }
    ... )
    >>> despac_listings(lines, after=date(2025, 12, 26))["security_id"].to_list()
    ['NUCL']
    """
    new = pl.col("first_session") > after
    fresh = ~pl.col("security_id").is_in(list(renamed))
    shares = lines.filter(pl.col("security_type").is_in(_SHARES) & new & fresh)
    warrants = lines.filter((pl.col("security_type") == "warrant") & new).select(
        "company_id", warrant_first=pl.col("first_session")
    )
    gap = (pl.col("warrant_first") - pl.col("first_session")).dt.total_days().abs()
    return (
        shares.join(warrants, on="company_id", how="inner")
        .filter(gap <= max_gap_days)
        .select("security_id", "company_id", "first_session")
        .unique("security_id")
        .sort("security_id")
    )
