"""Security types, share classes and company keys from security names.

Listings name their securities: the Nasdaq screener panel writes "Alphabet Inc.
Class C Capital Stock", "Acme Acquisition Corp. Warrant", "Public Storage
Depositary Shares Each Representing 1/1000 of a 5.05% Cumulative Preferred Share";
iShares writes upper-case abbreviations ("HIMS HERS HEALTH INC CLASS A"). This
module reads those descriptions into the closed vocabulary
:data:`r2k._typing.SecurityType` with an ordered table of case-insensitive regular
expressions (:data:`RULES`): the first rule that matches wins. The same table drives
the scalar functions and the Polars expressions, so the two agree by construction
(the tests check it on every distinct name of the real panel).

Precedence follows "the most specific economic type wins":

1. lines that are not a tradable listing (when-issued, escrow, private vesting
   lines) are ``other``;
2. instrument types (ETF, warrant, right, note, preferred, unit) come before issuer
   types, so "Acme Acquisition Corp. Warrant" is a ``warrant`` and "Depositary
   Shares each representing 1/1000th of a share of Series A Preferred" is a
   ``preferred``;
3. issuer types (SPAC, BDC, closed-end fund, partnership, LLC, royalty/grantor
   trust) come before share types;
4. share types: ``depositary`` (ADS/ADR), ``ordinary``, ``class_share``, and
   ``common`` for everything else, including bare company names ("Visa Inc.").

REIT shares of beneficial interest ("Equity Residential Common Shares of Beneficial
Interest") are ``common``: they are eligible equity under Russell rules and IWM
holds them. Royalty and grantor trusts ("Permian Basin Royalty Trust", "Units of
Beneficial Interest") are ``trust``. See ``docs/data-formats.md`` for the table.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl

from r2k.tickers import normalize_ticker

if TYPE_CHECKING:
    from r2k._typing import SecurityType

__all__ = [
    "RULES",
    "LineClasses",
    "Rule",
    "classify_security",
    "company_key",
    "company_key_expr",
    "security_type_expr",
    "share_class_expr",
    "share_class_of",
]

_ROMAN = r"(?:i{1,3}|iv|vi{0,3}|ix|xi{0,3})"
_FUND_SPONSORS = (
    r"(?:blackrock|nuveen|eaton vance|pimco|gabelli|gamco|abrdn|aberdeen|invesco|"
    r"western asset|virtus|voya|doubleline|guggenheim|john hancock|cohen & steers|"
    r"calamos|mfs|putnam|royce|dws|thornburg|xai|nyli|pgim|allspring|clough|saba|"
    r"franklin|templeton|kayne anderson|tortoise|flaherty|neuberger|sprott|"
    r"first trust)"
)


def _rx(pattern: str) -> str:
    """Make a rule pattern case-insensitive and tolerant of repeated spaces."""
    return "(?i)" + pattern.replace(" ", r"\s+")


@dataclass(frozen=True, slots=True)
class Rule:
    """One classification rule: ``include`` matches and ``exclude`` does not."""

    security_type: SecurityType
    include: str
    exclude: str | None = None
    note: str = ""


RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "other",
        r"\bescrow\b|\bprvt\b|\bvesting\b",
        note="escrow and private vesting lines are not listings",
    ),
    Rule("etf", r"\betf\b|\betn\b|\bexchange[\s-]*traded\b", note="ETFs and ETNs"),
    Rule(
        "warrant",
        r"\bwarrants?\b|\bwts\b",
        exclude=r"\bunits?\b.*\bwarrants?\b",
        note="unless the name describes units containing warrants",
    ),
    Rule(
        "right",
        r"\brights?\b|\bcvrs?\s*$|\bcontingent value\b",
        exclude=r"\bunits?\b.*\brights?\b",
        note="rights and contingent value rights, unless units containing rights",
    ),
    Rule(
        "note",
        r"\bnotes?\b|\bdebentures?\b|\bbonds?\b.*\bdue\b|\bmortgage bonds\b"
        r"|\btrust securities\b|\bstrats\b|\bcorts\b|\btr certs\b|\btr ctf\b"
        r"|\bzones\b|\bbaby bonds?\b",
        note="notes, debentures, bonds due, structured trust certificates",
    ),
    Rule(
        "closed_end_fund",
        r"\bp(?:referred|fd)\b.*\bincome\b.*\bfund\b",
        exclude=r"\d%|\bseries\b",
        note="preferred-income funds' common shares (before the preferred rule)",
    ),
    Rule(
        "preferred",
        r"\spreferred\b|\spreference\b|\bpfd\b|\bprd\b|\bperpetual\b|\bcumulative\b"
        r"|\bcapital trust " + _ROMAN + r"\b"
        r"|\d%.*\bseries [a-z]{1,2}\b|\bseries [a-z]{1,2}\b.*\d%",
        note="preferred stock and its depositary shares, '% Series X', trust preferred",
    ),
    Rule(
        "preferred",
        r"\bdepos[ia]t[oa]ry (?:shares?|sh)\b",
        exclude=r"\bamerican\b|\bordinary\b|\bcommon\b|\bads\b",
        note="bare 'Depositary Shares' of US issuers are preferred (ADSs say American)",
    ),
    Rule(
        "unit",
        r"\bunits?\b",
        exclude=(
            r"limited partner|partnership|beneficial|\bl\.?p\b|common units"
            r"|trust units|units representing|limited liability"
        ),
        note="SPAC units, tangible equity units, corporate units",
    ),
    Rule(
        "spac",
        r"\bacquisitions?\b|\bacquisition\d|\bmerger corp|\bspac\b|\bblank check\b"
        r"|\bcantor equity partners\b|\bgigcapital\d*\b"
        r"|\bliquidity opportunity vehicle\b"
        r"|\bholdings " + _ROMAN + r" inc\b"
        r"|\b(?:corp|corporation|inc|co|company|partners)\.? " + _ROMAN + r"\b"
        r".*\bordinary shares?\b"
        r"|\bcapital (?:partners |investment )?corp(?:oration)?\b"
        r".*\bordinary shares?\b",
        note="blank-check companies: 'Acquisition Corp', serial sponsor vehicles",
    ),
    Rule(
        "bdc",
        r"\bbdc\b|\bbusiness development compan(?:y|ies)\b",
        note="only where the name says so (most BDCs do not)",
    ),
    Rule(
        "closed_end_fund",
        r"\bfunds?\b|\bterm trust\b|\bmunicipals?\b|\bclosed[\s-]*end\b"
        r"|\bcredit company\b",
        note="'Fund', term and municipal trusts, credit companies",
    ),
    Rule(
        "closed_end_fund",
        r"\b" + _FUND_SPONSORS + r"\b.*\b(?:trust|investors|beneficial)\b",
        exclude=r"\brealty\b|\breit\b|\breal estate investment trust\b",
        note="trusts of closed-end fund sponsors (not their REITs)",
    ),
    Rule(
        "trust",
        r"\broyal(?:i)?ty trust\b|\bunits? of (?:fractional )?(?:undivided )?"
        r"beneficial interests?\b|\btrust units\b"
        r"|\b(?:oil|gas|energy|petroleum|minerals?) trust\b|\bmesabi trust\b"
        r"|\b(?:bitcoin|ether|ethereum|gold|silver) trust\b",
        note="royalty and grantor trusts",
    ),
    Rule(
        "llc",
        r"\blimited liability company\b|\bllc interests?\b",
        note="LLC interests",
    ),
    Rule(
        "partnership",
        r"\bl\.?\s?p\b|\blimited partner|\bpartnership\b|\bcommon units\b"
        r"|\bunit certificates\b",
        note="L.P., limited partner interests, common units",
    ),
    Rule(
        "llc",
        r"\bllc\b|\bl\.l\.c\b",
        exclude=r"\bcommon stock\b",
        note="LLC shares; 'LLC ... Common Stock' is a corporation mislabelled",
    ),
    Rule(
        "depositary",
        r"\bamerican depos[ia]tary\b|\bdepos[ia]tary (?:shares?|receipts?)\b"
        r"|\bads\b|\badrs?\b|\bdep rcpts?\b",
        note="ADS/ADR and depositary receipts of common shares",
    ),
    Rule("ordinary", r"\bordinary\b|\bord shs?\b", note="ordinary shares"),
    Rule(
        "class_share",
        r"\b(?:class|cl)\.? [a-z]\b|\bseries [a-z]\b.*\b(?:common|stock|shares)\b"
        r"|\bcapital stock\b|\bsubordinate voting\b",
        note="class A/B/... common or capital stock",
    ),
)
"""The classification table, in precedence order (first match wins)."""

_DEFAULT: Final[SecurityType] = "common"
_WHEN_ISSUED = _rx(r"\bwhen[\s-]*issued\b")
_WHEN_ISSUED_SYMBOL = _rx(r"V$|[.\s]WI$")
_PREFERRED_SYMBOL = _rx(r"\^|\.PR[A-Z]?$")
_UNLISTED = _rx(r"\bno market\b|\bunlisted\b")
_PLAIN_EQUITY: Final[tuple[SecurityType, ...]] = ("common", "ordinary", "class_share")

_COMPILED: Final[tuple[tuple[Rule, re.Pattern[str], re.Pattern[str] | None], ...]] = (
    tuple(
        (
            rule,
            re.compile(_rx(rule.include)),
            re.compile(_rx(rule.exclude)) if rule.exclude else None,
        )
        for rule in RULES
    )
)


def _type_from_name(name: str) -> SecurityType:
    for rule, include, exclude in _COMPILED:
        if include.search(name) and not (exclude and exclude.search(name)):
            return rule.security_type
    return _DEFAULT


def classify_security(
    name: str, exchange: str | None = None, *, symbol: str | None = None
) -> SecurityType:
    """Return the security type of a listing described by ``name``.

    The name is matched against :data:`RULES` in order; then three adjustments
    apply, in this order:

    1. a name that says "When Issued" is ``"other"`` (a temporary when-issued
       line), unless ``symbol`` is given and lacks the when-issued suffix (Nasdaq
       appends ``V``, NYSE ``.WI``): the panel keeps a stale "When Issued" label on
       Cavco Industries (``CVCO``) for every session;
    2. a plain equity type (common, ordinary, class_share) with a Nasdaq preferred
       ``symbol`` (``"JPM^D"``) is ``"preferred"``: the panel sometimes names
       preferreds by the issuer only ("Citigroup Inc.");
    3. a plain equity type on an ``exchange`` that says the security has no market
       ("NO MARKET (E.G. UNLISTED)" in iShares files) is ``"other"``.

    Parameters
    ----------
    name
        The security name as the source writes it (any case).
    exchange
        The listing venue when known.
    symbol
        The source ticker when known, in any source form.

    Returns
    -------
    SecurityType
        One of the values of :data:`r2k._typing.SecurityType`.

    Examples
    --------
    >>> classify_security("Alphabet Inc. Class C Capital Stock")
    'class_share'
    >>> classify_security("Churchill Capital Corp X Unit")
    'unit'
    >>> classify_security("Citigroup Inc.", symbol="C^R")
    'preferred'
    """
    if re.search(_WHEN_ISSUED, name) and (
        symbol is None or re.search(_WHEN_ISSUED_SYMBOL, symbol.strip())
    ):
        return "other"
    kind = _type_from_name(name)
    if kind in _PLAIN_EQUITY:
        if symbol is not None and re.search(_PREFERRED_SYMBOL, symbol.strip()):
            return "preferred"
        if exchange is not None and re.search(_UNLISTED, exchange):
            return "other"
    return kind


def security_type_expr(
    name_col: str = "name",
    *,
    exchange_col: str | None = None,
    symbol_col: str | None = None,
) -> pl.Expr:
    """Vectorised :func:`classify_security`: a ``when/then`` chain over :data:`RULES`.

    Parameters
    ----------
    name_col
        Column of security names.
    exchange_col, symbol_col
        Optional columns of venues and source tickers; a null value means unknown,
        as ``None`` does for :func:`classify_security`.

    Returns
    -------
    pl.Expr
        A String expression named ``"security_type"``; null where the name is null.
    """
    return _adjusted_type_expr(
        _name_type_expr(name_col),
        name_col,
        exchange_col=exchange_col,
        symbol_col=symbol_col,
    )


def _name_type_expr(name_col: str) -> pl.Expr:
    """The type of the first rule of :data:`RULES` the name matches, unnamed.

    ``common`` when no rule matches (or the name is null).
    """
    name = pl.col(name_col)
    chain: pl.Expr = pl.lit(_DEFAULT)
    for rule in reversed(RULES):
        matched = name.str.contains(_rx(rule.include))
        if rule.exclude:
            matched = matched & ~name.str.contains(_rx(rule.exclude))
        chain = pl.when(matched).then(pl.lit(rule.security_type)).otherwise(chain)
    return chain


def _adjusted_type_expr(
    chain: pl.Expr,
    name_col: str,
    *,
    exchange_col: str | None = None,
    symbol_col: str | None = None,
) -> pl.Expr:
    """:func:`security_type_expr` from ``chain``, the :func:`_name_type_expr`."""
    name = pl.col(name_col)
    plain = chain.is_in(list(_PLAIN_EQUITY))
    kind = chain
    if symbol_col is not None:
        symbol = pl.col(symbol_col).str.strip_chars()
        preferred = symbol.str.contains(_PREFERRED_SYMBOL).fill_null(value=False)
        kind = pl.when(plain & preferred).then(pl.lit("preferred")).otherwise(kind)
        plain = plain & ~preferred
        when_issued_symbol = symbol.str.contains(_WHEN_ISSUED_SYMBOL).fill_null(
            value=True
        )
    else:
        when_issued_symbol = pl.lit(value=True)
    if exchange_col is not None:
        unlisted = pl.col(exchange_col).str.contains(_UNLISTED).fill_null(value=False)
        kind = pl.when(plain & unlisted).then(pl.lit("other")).otherwise(kind)
    when_issued = name.str.contains(_WHEN_ISSUED) & when_issued_symbol
    return (
        pl.when(name.is_null())
        .then(pl.lit(None, pl.String))
        .when(when_issued)
        .then(pl.lit("other"))
        .otherwise(kind)
        .alias("security_type")
    )


# ---------------------------------------------------------------------------
# Share classes
# ---------------------------------------------------------------------------

_CLASS_IN_NAME = _rx(r"\b(?:class|cl|series)\.? ([a-z])\b")
_CLASS_IN_TICKER = r"\.([A-Z])$"


def share_class_of(name: str, security_id: str) -> str | None:
    """Return the share-class letter of a listing, or ``None`` for a single class.

    The letter comes from "Class A" / "Cl A" / "Series C" in ``name`` (first
    occurrence), else from a one-letter ticker suffix (``"BRK.B"``, ``"BF/B"``).

    Examples
    --------
    >>> share_class_of("Alphabet Inc. Class C Capital Stock", "GOOG")
    'C'
    >>> share_class_of("Berkshire Hathaway Inc.", "BRK/B")
    'B'
    >>> share_class_of("Apple Inc. Common Stock", "AAPL") is None
    True
    """
    found = re.search(_CLASS_IN_NAME, name)
    if found:
        return found.group(1).upper()
    suffix = re.search(_CLASS_IN_TICKER, normalize_ticker(security_id))
    return suffix.group(1) if suffix else None


def share_class_expr(
    name_col: str = "name", security_id_col: str = "security_id"
) -> pl.Expr:
    """Vectorised :func:`share_class_of`, named ``"share_class"``.

    ``security_id_col`` must already hold canonical tickers (``"BRK.B"``).
    """
    from_name = pl.col(name_col).str.extract(_CLASS_IN_NAME, 1).str.to_uppercase()
    from_ticker = pl.col(security_id_col).str.extract(_CLASS_IN_TICKER, 1)
    return pl.coalesce(from_name, from_ticker).alias("share_class")


# ---------------------------------------------------------------------------
# Company keys
# ---------------------------------------------------------------------------

# Steps applied in order to the lower-cased name; each is (pattern, replacement).
_KEY_STEPS: Final[tuple[tuple[str, str], ...]] = (
    # share-class designators: "Class A", "Cl A", "Series C" (not "Series A Preferred"
    # text that follows; that is cut by the next step)
    (_rx(r"\b(?:class|cl|series)\.? [a-z]\b"), " "),
    # the security description and everything after it
    (
        _rx(
            r" (?:\d+(?:\.\d+)?\s*%|\$\d|\bcommon\b|\bcapital stock\b|\bordinary\b"
            r"|\bord shs?\b|\bsubordinate voting\b|\bamerican depos|\bdepos[ia]t"
            r"|\bdep shs?\b|\bads\b|\badrs?\b|\bwarrants?\b|\bunits?\b|\brights?\b"
            r"|\bpreferred\b|\bpreference\b|\bpfd\b|\bnotes?\b|\bdebentures?\b"
            r"|\bcumulative\b|\bnon-cumulative\b|\bredeemable\b|\bperpetual\b"
            r"|\bfixed\b|\bfloating\b|\bvariable\b|\bshares?\b|\bstock\b|\bex[\s-]*distribution\b"
            r"|\bwhen[\s-]*issued\b|\bcvr\b|\brepresenting\b|\beach\b).*$"
        ),
        "",
    ),
    # legal forms and articles, anywhere
    (
        _rx(
            r"\b(?:the|inc|incorporated|corp|corporation|co|company|ltd|limited|plc"
            r"|llc|l\.l\.c|lp|l\.p|n\.v|nv|s\.a|sa|ag|se|new|d/b/a)\b\.?"
        ),
        " ",
    ),
    (r"[^a-z0-9]+", " "),
)


def company_key(name: str) -> str:
    """Return a key that groups the share classes of one company.

    The key is the issuer part of ``name``: lower case, without share-class
    designators ("Class A", "Series C"), without the security description ("Common
    Stock", "Capital Stock", "5.25% Series A Preferred", "Warrant" ...), without
    legal forms ("Inc.", "Corporation", "Ltd") and punctuation. Tracking stocks keep
    their tracked business in the key, as Russell treats each as a company.

    Examples
    --------
    >>> company_key("Alphabet Inc. Class A Common Stock")
    'alphabet'
    >>> company_key("Alphabet Inc. Class C Capital Stock")
    'alphabet'
    >>> company_key("Liberty Media Corp. Series A Liberty Formula One Common Stock")
    'liberty media liberty formula one'
    """
    text = name.lower()
    for pattern, replacement in _KEY_STEPS:
        text = re.sub(pattern, replacement, text)
    return " ".join(text.split())


def company_key_expr(name_col: str = "name") -> pl.Expr:
    """Vectorised :func:`company_key`, named ``"company_key"``."""
    expr = pl.col(name_col).str.to_lowercase()
    for pattern, replacement in _KEY_STEPS:
        expr = expr.str.replace_all(pattern, replacement)
    return expr.str.replace_all(r"\s+", " ").str.strip_chars(" ").alias("company_key")


# ---------------------------------------------------------------------------
# Funds that look like companies: BDCs and closed-end funds (R7 §5.11.1)
# ---------------------------------------------------------------------------

# Business development companies and closed-end funds trade as plain "Common
# Stock" ("Ares Capital Corporation Common Stock"), so the name table above cannot
# tell them. These patterns use the issuer-name conventions of BDCs and funds, and
# the panel's sector: mortgage REITs ("Two Harbors Investment Corp", "Ready Capital
# Corporation") carry the same words but sit in Real Estate; utilities ("Pinnacle
# West Capital Corporation") in Utilities. Measured on the 2026-04-30 cross-section
# (tests/test_classify_funds.py): 40 plain-equity lines flagged, 1 an IWM holding.
_BDC_NAME = _rx(
    r"\b(?:capital|investment|finance) (?:corp|corporation|ltd)\b"
    r"|\bfinance inc\b|\bspecialty (?:finance|lending)\b|\bfloating rate\b"
    r"|\b(?:direct|secured) lending\b|\bbdc\b|\bbusiness development\b"
)
_CEF_NAME = _rx(
    r"\bfund\b|\bincome portfolio\b|\btax[- ](?:free|advantaged?)\b|\bmunicipal\b"
    r"|\bcmn shs of bi\b|\btri[- ]continental\b|\bdividend (?:opp|income)"
    r"|\bgold and precious metals\b|\b(?:corporate|participation) investors\b"
    r"|\bgeneral american investors\b"
)
_FUND_NOT = _rx(
    r"\blease finance\b|\bclass [a-z]\b|\binfrastructure\b|\bbancorp\b|\bbank\b"
    r"|\bmortgage\b|\brealty\b|\breal estate\b"
)
_FUND_SECTORS_EXCLUDED = ("Real Estate", "Utilities")


def fund_structure(name: str, sector: str | None) -> SecurityType | None:
    """``"bdc"`` or ``"closed_end_fund"`` for a fund named like a company, else None.

    Applies to lines the name table classifies as plain equity.

    Examples
    --------
    >>> fund_structure("Ares Capital Corporation Common Stock", "Finance")
    'bdc'
    >>> fund_structure("Two Harbors Investment Corp", "Real Estate") is None
    True
    >>> fund_structure("Tri Continental Corporation Common Stock", "Finance")
    'closed_end_fund'
    """
    if sector in _FUND_SECTORS_EXCLUDED:
        return None
    if re.search(_CEF_NAME, name):
        return "closed_end_fund"
    if re.search(_BDC_NAME, name) and not re.search(_FUND_NOT, name):
        return "bdc"
    return None


def fund_structure_expr(name_col: str = "name", sector_col: str = "sector") -> pl.Expr:
    """Vectorised :func:`fund_structure` (null where it returns None)."""
    name = pl.col(name_col)
    allowed = ~pl.col(sector_col).is_in(list(_FUND_SECTORS_EXCLUDED)).fill_null(
        value=False
    )
    return (
        pl.when(allowed & name.str.contains(_CEF_NAME))
        .then(pl.lit("closed_end_fund"))
        .when(allowed & name.str.contains(_BDC_NAME) & ~name.str.contains(_FUND_NOT))
        .then(pl.lit("bdc"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("fund_structure")
    )


# ---------------------------------------------------------------------------
# Each line classified once per data load
# ---------------------------------------------------------------------------

#: What identifies a line to the classifiers: its symbol, name and sector.
LINE_KEYS: Final[tuple[str, ...]] = ("security_id", "name", "sector")
#: Frames of at most this many rows are looked up row by row, not joined.
_FEW_ROWS: Final = 64
_CLASSES = pl.Schema(
    {
        "security_id": pl.String,
        "name": pl.String,
        "sector": pl.String,
        "security_type": pl.String,
        "company_key": pl.String,
        "fund_structure": pl.String,
    }
)


@cache
def _classify_exprs() -> tuple[pl.Expr, tuple[pl.Expr, ...]]:
    """The expressions of :meth:`LineClasses._classify`, built once."""
    return _name_type_expr("name").alias("_name_type"), (
        _adjusted_type_expr(pl.col("_name_type"), "name", symbol_col="security_id"),
        company_key_expr("name"),
        fund_structure_expr("name", "sector"),
    )


def _key_rows(
    frame: pl.DataFrame, rows: np.ndarray | None = None
) -> list[tuple[Any, ...]]:
    """The ``LINE_KEYS`` values of ``frame``'s rows (of ``rows`` only, when given).

    Read column by column, with no query (each would wait for the thread pool
    while another thread's queries hold it).
    """
    columns = (frame.get_column(k) for k in LINE_KEYS)
    picked = (c if rows is None else c[rows] for c in columns)
    return list(zip(*(c.to_list() for c in picked), strict=True))


class LineClasses:
    """The name classifiers of every line, each line run through them once.

    A memo over one data load (a market panel): every distinct ``security_id``,
    ``name``, ``sector`` triple is classified the first time a frame holds it
    (:func:`security_type_expr` with the symbol, :func:`company_key_expr`,
    :func:`fund_structure_expr`); later frames, such as the rank-day
    cross-sections of a long history, only look their lines up. The values are
    those of the expressions, row for row.

    Thread-safe: :meth:`attach` holds a lock, so a worker thread building a
    rank-day universe (:class:`r2k.workflows.synthetic_run.SyntheticReconstitutor`)
    and the calculation's screens can share the memo (a line is classified and
    remembered once).
    """

    def __init__(self) -> None:
        self._known = pl.DataFrame(schema=_CLASSES)
        self._by_key: dict[tuple[str | None, ...], tuple[str | None, ...]] = {}
        self._row_by_key: dict[tuple[str | None, ...], int] = {}  # in ``_known``
        # The row of ``_known`` each source line code had when last attached
        # (-1: none yet); a line's keys are checked against it at every use.
        self._code_row = np.zeros(0, dtype=np.int64)
        self._lock = threading.RLock()

    @property
    def classified(self) -> int:
        """How many lines have been classified so far."""
        return self._known.height

    def attach(
        self, frame: pl.DataFrame, codes: np.ndarray | None = None
    ) -> pl.DataFrame:
        """``frame`` with ``security_type``, ``company_key`` and ``fund_structure``.

        ``frame`` has the columns ``security_id``, ``name`` and ``sector`` (a market
        panel's); the row order is kept. ``security_type`` is the name table's
        type with the symbol's adjustments (:func:`security_type_expr` with
        ``symbol_col="security_id"``), ``fund_structure`` that of
        :func:`fund_structure_expr` (null: not a fund named like a company).

        ``codes``, when given, are the rows' line codes in their source (non-
        negative integers, such as :meth:`r2k.maintenance.market.MarketHistory.
        line_codes`): a line whose keys are those it had when last attached is
        found by its code, without a join (a rank day's cross-section is mostly
        the lines of the one before).

        Examples
        --------
        >>> classes = LineClasses()
        >>> frame = pl.DataFrame(
        ...     {
        ...         "security_id": ["ARCC", "ACAW"],
        ...         "name": ["Ares Capital Corporation Common Stock", "Acme Warrant"],
        ...         "sector": ["Finance", None],
        ...     }
        ... )
        >>> classes.attach(frame)["security_type", "fund_structure"].rows()
        [('common', 'bdc'), ('warrant', None)]
        >>> _ = classes.attach(frame.head(1))  # already known: nothing classified
        >>> classes.classified
        2
        """
        with self._lock:
            if codes is None or frame.height <= _FEW_ROWS:
                return self._attach(frame)
            return self._attach_by_code(frame, np.asarray(codes, dtype=np.int64))

    def security_types(self, frame: pl.DataFrame) -> list[str | None]:
        """The ``security_type`` :meth:`attach` gives each row of ``frame``, as a list.

        For a screen of a few rows (the quarter's IPOs, a spin-off's child): no
        frame is made, each row is a dictionary lookup.
        """
        with self._lock:
            if frame.height > _FEW_ROWS:
                types: list[str | None] = self._attach(frame)["security_type"].to_list()
                return types
            return self._lookup_rows(_key_rows(frame), frame.schema)[0]

    def _attach(self, frame: pl.DataFrame) -> pl.DataFrame:
        if frame.height <= _FEW_ROWS:
            return self._attach_few(frame, frame.select(LINE_KEYS))
        # Each known line is one row of ``_known``: a left join finds it. The
        # rows it leaves without a type are of new lines or of unnamed ones (a
        # null name has a null type): those few are looked up one by one.
        joined = frame.join(
            self._known_frame(),
            on=LINE_KEYS,
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        missing = np.flatnonzero(joined["security_type"].is_null().to_numpy())
        if missing.size == 0:
            return joined
        found = self._lookup(frame.select(LINE_KEYS)[missing])
        return joined.with_columns(
            joined[name].scatter(missing, pl.Series(values, dtype=pl.String))
            for name, values in zip(
                _CLASSES.names()[len(LINE_KEYS) :], found, strict=True
            )
        )

    def _attach_by_code(self, frame: pl.DataFrame, codes: np.ndarray) -> pl.DataFrame:
        """:meth:`attach` by the rows' line codes (see there)."""
        top = int(codes.max(initial=-1)) + 1
        if top > self._code_row.size:
            grown = np.full(max(top, 2 * self._code_row.size), -1, dtype=np.int64)
            grown[: self._code_row.size] = self._code_row
            self._code_row = grown
        rows = self._code_row[codes]
        same = np.zeros(frame.height, dtype=bool)
        mapped = np.flatnonzero(rows >= 0)
        # Column gathers, not frame ones (a frame's waits for Polars' thread
        # pool while another thread's queries hold it).
        if mapped.size:
            known = self._known_frame()
            at = rows[mapped]
            if all(
                frame.get_column(k)[mapped].equals(
                    known.get_column(k)[at], null_equal=True
                )
                for k in LINE_KEYS
            ):
                same[mapped] = True
        rest = np.flatnonzero(~same)  # new codes, or keys other than last time
        if rest.size:
            keys = _key_rows(frame, rest)
            self._lookup_rows(keys, frame.schema)  # classifies the new ones
            found = np.fromiter(
                (self._row_by_key[k] for k in keys), dtype=np.int64, count=rest.size
            )
            rows[rest] = found
            self._code_row[codes[rest]] = found
        known = self._known_frame()
        names = _CLASSES.names()[len(LINE_KEYS) :]
        return frame.hstack([known.get_column(name)[rows] for name in names])

    def _known_frame(self) -> pl.DataFrame:
        """The classified lines, in one piece (one is added per batch of new lines)."""
        if self._known.n_chunks() > 1:
            self._known = self._known.rechunk()
        return self._known

    def _lookup(self, keys: pl.DataFrame) -> list[list[str | None]]:
        """The classes of the lines of ``keys``, column by column.

        Lines not known yet are classified first.
        """
        return self._lookup_rows(keys.rows(), keys.schema)

    def _lookup_rows(
        self, rows: list[tuple[Any, ...]], schema: pl.Schema
    ) -> list[list[str | None]]:
        """:meth:`_lookup` of key rows (``LINE_KEYS`` values; ``schema`` holds them)."""
        new = [k for k in dict.fromkeys(rows) if k not in self._by_key]
        if new:
            keys = {name: schema[name] for name in LINE_KEYS}
            self._classify(pl.DataFrame(new, schema=keys, orient="row"))
        found = [self._by_key[k] for k in rows]
        return [[f[i] for f in found] for i in range(len(_CLASSES) - len(LINE_KEYS))]

    def _attach_few(self, frame: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
        """:meth:`attach` for a few rows: one dict lookup per row, no join."""
        names = _CLASSES.names()[len(LINE_KEYS) :]
        return frame.with_columns(
            pl.Series(name, values, dtype=pl.String)
            for name, values in zip(names, self._lookup(keys), strict=True)
        )

    def _classify(self, new: pl.DataFrame) -> pl.DataFrame:
        """Classify ``new`` lines (distinct, unknown) and remember them.

        :func:`security_type_expr` in two steps: the name table's type is
        computed once into a column, then adjusted (the one expression refers
        to it twice, and evaluating it is most of the cost); eager frames, as
        a lazy query's optimiser spends longer on the deep rule chain than the
        evaluation takes.
        """
        first, then = _classify_exprs()
        found = new.with_columns(first).with_columns(then).select(_CLASSES.names())
        start = self._known.height
        self._known = pl.concat([self._known, found])
        width = len(LINE_KEYS)
        for i, row in enumerate(found.rows()):
            self._by_key[row[:width]] = row[width:]
            self._row_by_key[row[:width]] = start + i
        return found
