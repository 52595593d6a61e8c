"""Rule sets: the Russell US construction rules as data.

A rule set is a TOML file (see ``src/r2k/methodology/rules/``) read into frozen
dataclasses. The default, ``russell_us_current.toml``, follows FTSE Russell's
*Construction and Methodology* v7.0 (May 2026), sections 5 (eligibility), 6
(ranking, share classes, banding) and 7 (float). Older regimes are dated rule
sets; :func:`rule_set_for` picks the one in force on a rank day. A user variant
(another band, a different minimum cap) is a copy of a TOML file passed as
``--rules FILE``.

A rule file is input and is checked as such: every table and key is required, and
an unknown table or key, a value of the wrong type, a number out of its range (each
key's range is declared beside it, in its field's metadata) or sizes in the wrong
order is a :class:`~r2k.errors.MethodologyError` naming the file, the key as
``[table].key`` and the fix, every fault of the file in one message.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import (
    Any,
    Literal,
    TypeVar,
    get_args,
    get_origin,
    get_type_hints,
)

from r2k._typing import BandEdges  # noqa: TC001 (read at run time by get_type_hints)
from r2k.errors import MethodologyError

_T = TypeVar("_T")
_RULE_FILES = ("russell_us_1989.toml", "russell_us_current.toml")
_EXAMPLE_FILE = "russell_us_current.toml"  # examples in error messages come from it


@dataclass(frozen=True, slots=True)
class _Range:
    """The values a number of a rule file may take, and what the number is."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    what: str = ""

    def problem(self, value: float) -> str | None:
        """What is wrong with ``value``, or None."""
        if self.low is not None and (
            value < self.low or (self.low_open and value == self.low)
        ):
            return (
                f"is {value:g}, {'at or ' if self.low_open else ''}below {self.low:g}"
            )
        if self.high is not None and (
            value > self.high or (self.high_open and value == self.high)
        ):
            return (
                f"is {value:g}, {'at or ' if self.high_open else ''}above {self.high:g}"
            )
        return None

    def interval(self) -> str:
        """The allowed values: ``in [0, 100]``, ``in (0, 1]``, ``>= 0``."""
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return (
            f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
            f"{')' if self.high_open else ']'}"
        )


def _limit(
    low: float | None = None,
    high: float | None = None,
    *,
    what: str,
    low_open: bool = False,
    high_open: bool = False,
) -> dict[str, _Range]:
    return {"range": _Range(low, high, low_open, high_open, what)}


_PCT = _limit(0, 100, what="a percentage")
_PP = _limit(0, 100, what="percentage points")
_USD = _limit(0, what="US dollars")
_COUNT = _limit(1, what="a number of companies")
_BAND = _limit(
    0,
    50,
    high_open=True,
    what="a half-width in cumulative-percentile points, 0: no band",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityRules:
    """Security- and company-level screens (R7 §5)."""

    eligible_exchanges: tuple[str, ...]
    eligible_security_types: tuple[str, ...]
    min_price: float = field(metadata=_USD)
    incumbent_price_rescue_days: int = field(metadata=_limit(0, what="days"))
    min_total_market_cap: float = field(metadata=_USD)
    min_float_pct: float = field(metadata=_PCT)
    min_voting_rights_pct: float = field(metadata=_PCT)
    eligible_countries: tuple[str, ...]
    # Real data only (r2k's inference, not a Russell rule): a company already
    # listed when the data start, never held by IWM, with a cap of at least this
    # multiple of the #3,000 cap is taken as failing a screen the data cannot show
    # (voting rights, country, BDC). 0 turns the inference off. See
    # docs/methodology.md, "Established outsiders".
    established_outsider_cap_multiple: float = field(
        default=6.0, metadata=_limit(0, what="a multiple of the #3,000 cap, 0: off")
    )
    # R7 §4.3.4: a de-SPAC is considered only after its longest stated lock-up
    # expires. Real data only: a company whose shares and warrants began trading
    # together (a completed SPAC merger) fewer than this many days before the rank
    # day is in its lock-up. The lock-ups are not in the data; r2k assumes 365 (a
    # SPAC sponsor's usual 12 months). 0 turns it off. docs/methodology.md,
    # "De-SPACs in their lock-up".
    despac_lockup_days: int = field(
        default=365, metadata=_limit(0, what="days, 0: off")
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RankingRules:
    """Index sizes by company rank (R7 §6.10)."""

    r3000e_size: int = field(metadata=_COUNT)
    r3000_size: int = field(metadata=_COUNT)
    r1000_size: int = field(metadata=_COUNT)
    top200_size: int = field(metadata=_COUNT)
    top500_size: int = field(metadata=_COUNT)
    microcap_top: int = field(metadata=_COUNT)
    # Real data only (r2k's estimate, not a Russell rule): move the #3,000 cut up
    # by the companies Russell ranks that the market panel cannot show (see
    # docs/methodology.md, "Companies the panel cannot show"). Off by default,
    # so older rule files keep the plain rank cut.
    unseen_companies_estimate: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BandingRules:
    """Cumulative-percentile bands around breakpoints (R7 §6.11)."""

    enabled: bool
    edges: BandEdges
    percentile_decimals: int = field(
        metadata=_limit(-1, what="decimals, -1: unrounded")
    )
    top200_band_pct: float = field(metadata=_BAND)
    top500_band_pct: float = field(metadata=_BAND)
    r1000_band_pct: float = field(metadata=_BAND)
    microcap_band_pct: float = field(metadata=_BAND)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareClassRules:
    """Pricing vehicle and additional share classes (R7 §6.5-6.7)."""

    pricing_vehicle_volume_tolerance: float = field(
        metadata=_limit(0, 1, what="a fraction")
    )
    extra_class_min_total_market_cap: float = field(metadata=_USD)
    extra_class_min_addtv_usd: float = field(metadata=_USD)
    extra_class_min_float_pct: float = field(metadata=_PCT)


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatRules:
    """How float factors are estimated where no float data exists (R7 §7)."""

    holdings_ratio_quantile: float = field(
        metadata=_limit(0, 1, low_open=True, what="a quantile")
    )
    fallback: str | float  # "median", or a float factor in (0, 1]


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceRules:
    """Maintenance between reconstitutions (R7 §9, methodology.md §8-9)."""

    # quarterly: cumulative shares change > this, percent
    shares_buffer_pct: float = field(metadata=_PCT)
    # quarterly: float change > this, percentage points ...
    float_buffer_pp: float = field(metadata=_PP)
    # ... and this when the float is at or below low_float_pct
    low_float_buffer_pp: float = field(metadata=_PP)
    low_float_pct: float = field(metadata=_PCT)
    # an offering is applied at once if its value is >= this ...
    intra_quarter_min_value_usd: float = field(metadata=_USD)
    # ... or if it changes index shares by >= this, percent ...
    intra_quarter_min_change_pct: float = field(metadata=_PCT)
    # ... and its value is >= this
    intra_quarter_min_value_with_pct_usd: float = field(metadata=_USD)
    # a member without a price this many sessions is removed
    stale_price_removal_sessions: int = field(metadata=_limit(1, what="sessions"))
    # a bankrupt line with no price is removed at this price
    nominal_removal_price: float = field(metadata=_USD)
    ipo_additions: bool  # quarterly IPO additions between reconstitutions


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    """A complete, dated rule set."""

    name: str
    version: str
    source: str
    valid_from: date
    eligibility: EligibilityRules
    ranking: RankingRules
    banding: BandingRules
    share_classes: ShareClassRules
    float: FloatRules
    maintenance: MaintenanceRules
    digest: str

    @property
    def label(self) -> str:
        """``name@version``, recorded with every run."""
        return f"{self.name}@{self.version}"

    @classmethod
    def from_toml(cls, path: str | Path) -> RuleSet:
        """Read and validate a rule set file.

        Raises
        ------
        MethodologyError
            If the file cannot be read, a key is missing or unknown, or a value is
            out of range. The message names the file and the key.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            msg = f"rule set {path}: cannot be read ({exc.strerror}): check the path"
            raise MethodologyError(msg) from None
        return _parse(raw, source=str(path))

    @classmethod
    def from_bytes(cls, raw: bytes, *, source: str) -> RuleSet:
        """Read and validate the bytes of a rule set file (``source`` names it).

        What a worker of a sweep (:mod:`r2k.workflows.sweep`) receives instead of
        a path. Raises :class:`MethodologyError` as :meth:`from_toml` does.
        """
        return _parse(raw, source=source)

    @classmethod
    def default(cls) -> RuleSet:
        """The current Russell US rules (``russell_us_current.toml``)."""
        return _packaged("russell_us_current.toml")


def _packaged(name: str) -> RuleSet:
    raw = resources.files("r2k.methodology.rules").joinpath(name).read_bytes()
    return _parse(raw, source=f"r2k/methodology/rules/{name}")


@cache
def packaged_rule_sets() -> tuple[RuleSet, ...]:
    """Every packaged rule set, oldest first."""
    sets = [_packaged(name) for name in _RULE_FILES]
    return tuple(sorted(sets, key=lambda r: r.valid_from))


def rule_set_for(rank_day: date) -> RuleSet:
    """The packaged rule set in force on ``rank_day`` (latest ``valid_from``)."""
    candidates = [r for r in packaged_rule_sets() if r.valid_from <= rank_day]
    if not candidates:
        first = packaged_rule_sets()[0].valid_from
        msg = f"no rule set covers rank day {rank_day}; the first starts {first}"
        raise MethodologyError(msg)
    return candidates[-1]


# ------------------------------------------------------------ reading a rule file


@dataclass(frozen=True, slots=True, kw_only=True)
class _Head:
    """The ``[ruleset]`` table."""

    name: str
    version: str
    source: str
    valid_from: date


_TABLES: dict[str, type[Any]] = {
    "ruleset": _Head,
    "eligibility": EligibilityRules,
    "ranking": RankingRules,
    "banding": BandingRules,
    "share_classes": ShareClassRules,
    "float": FloatRules,
    "maintenance": MaintenanceRules,
}
_SIZE_ORDER = ("top200_size", "top500_size", "r1000_size", "r3000_size", "r3000e_size")


class _Faults:
    """The faults of one rule file: ``[table].key``, what is wrong, how to fix it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, where: str, problem: str, fix: str) -> None:
        self.items.append(f"{where} {problem}: {fix}")

    def raise_any(self) -> None:
        if not self.items:
            return
        head = f"rule set {self.source}: "
        if len(self.items) > 1:
            head += f"{len(self.items)} problems: "
        raise MethodologyError(head + "; ".join(self.items))


@cache
def _examples() -> dict[str, Any]:
    """The packaged default rule file as TOML data (the examples of the fixes)."""
    text = resources.files("r2k.methodology.rules").joinpath(_EXAMPLE_FILE)
    return tomllib.loads(text.read_text(encoding="utf-8"))


def _show(value: Any) -> str:
    """``value`` as TOML writes it."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | str | list):
        return json.dumps(value, default=str)
    if isinstance(value, dict):
        return "{...}"
    return str(value)


def _example(table: str, key: str) -> str:
    """``key = <its value in the packaged default>``."""
    return f"{key} = {_show(_examples()[table][key])}"


def _unknowns(
    faults: _Faults, names: list[str], valid: list[str], *, where: str, known: str
) -> set[str]:
    """Add a fault for each of ``names`` not in ``valid``; return the names suggested.

    ``where`` formats a name as the message shows it (``[{}]``, ``[table].{}``).
    """
    suggested: set[str] = set()
    for name in names:
        if name in valid:
            continue
        close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
        if close and close[0] not in names:
            suggested.add(close[0])
            fix = f"did you mean {where.format(close[0])}? Rename it"
        else:
            shown = valid if "." in where else [where.format(v) for v in valid]
            fix = f"remove it (the {known} are {', '.join(shown)})"
        faults.add(where.format(name), f"is not one of the {known}", fix)
    return suggested


def _typed(value: Any, hint: Any) -> tuple[Any, str | None]:
    """``value`` as ``hint`` asks, and the problem (None: none)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    ok: bool
    if hint is bool:
        ok, wanted = isinstance(value, bool), "true or false"
    elif hint is int:
        ok, wanted = number and isinstance(value, int), "a whole number"
    elif hint is float:
        ok, wanted = (
            number and math.isfinite(value),
            "a finite number" if number else "a number",
        )
        value = float(value) if ok else value
    elif hint is str:
        ok, wanted = isinstance(value, str), "a string"
    elif hint is date:
        ok = isinstance(value, date) and not isinstance(value, datetime)
        wanted = "a date without quotes"
    elif get_origin(hint) is tuple:
        ok = isinstance(value, list) and bool(value)
        ok = ok and all(isinstance(v, str) for v in value)
        wanted = "a list of one or more strings"
        value = tuple(value) if ok else value
    elif get_origin(hint) is Literal:
        ok = value in get_args(hint)
        wanted = " or ".join(json.dumps(c) for c in get_args(hint))
        close = difflib.get_close_matches(str(value), get_args(hint), n=1)
        if not ok and close:
            wanted += f" (did you mean {json.dumps(close[0])}?)"
    elif hint == str | float:  # the float fallback
        ok = value == "median" or (number and 0 < value <= 1)
        wanted = '"median" or a number in (0, 1]'
    else:
        msg = f"rule sets cannot read a value of type {hint}; add it to _typed"
        raise TypeError(msg)
    if ok:
        return value, None
    return value, f"is {_show(value)} ({_kind(value)}), not {wanted}"


def _kind(value: Any) -> str:
    """What a TOML value is, in words."""
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "a boolean"),
        (str, "a string"),
        ((int, float), "a number"),
        (datetime, "a date-time"),
        (date, "a date"),
        (list, "a list"),
        (dict, "a table"),
    )
    return next((name for t, name in kinds if isinstance(value, t)), "a time")


def _build(
    kind: type[_T], table: Any, key: str, faults: _Faults, *, renamed: bool = False
) -> _T | None:
    """Table ``[key]`` of the file as ``kind``, or None after adding its faults.

    ``renamed``: a misspelt table was taken for this one (its fault says so).
    """
    specs = {f.name: f for f in fields(kind)}  # type: ignore[arg-type]
    if table is None and renamed:
        return None
    if table is None:
        fix = (
            f"add the table with its keys {', '.join(specs)} "
            f"(see r2k/methodology/rules/{_EXAMPLE_FILE})"
        )
        faults.add(f"[{key}]", "is missing", fix)
        return None
    if not isinstance(table, dict):
        fix = f"write it as a [{key}] section of keys"
        faults.add(f"[{key}]", f"is {_show(table)} ({_kind(table)}), not a table", fix)
        return None
    before = len(faults.items)
    suggested = _unknowns(
        faults,
        list(table),
        list(specs),
        where=f"[{key}].{{}}",
        known=f"keys of [{key}]",
    )
    hints = get_type_hints(kind)
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        where, example = f"[{key}].{name}", _example(key, name)
        if name not in table:
            if spec.default is not MISSING:  # optional key: its default holds
                continue
            if name not in suggested:
                faults.add(where, "is missing", f"add it, e.g. {example}")
            continue
        value, problem = _typed(table[name], hints[name])
        limits: _Range | None = spec.metadata.get("range")
        if problem is None and limits is not None:
            problem = limits.problem(value)
            fix = f"use a number {limits.interval()} ({limits.what}), e.g. {example}"
        else:
            fix = f"write e.g. {example}"
        if problem is not None:
            faults.add(where, problem, fix)
        values[name] = value
    return kind(**values) if len(faults.items) == before else None


def _parse(raw: bytes, *, source: str) -> RuleSet:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = (
            f"rule set {source}: not valid TOML ({exc}): fix the syntax there, "
            f"or start from a copy of r2k/methodology/rules/{_EXAMPLE_FILE}"
        )
        raise MethodologyError(msg) from None
    faults = _Faults(source)
    suggested = _unknowns(
        faults, list(data), list(_TABLES), where="[{}]", known="tables of a rule set"
    )
    built = {
        name: _build(kind, data.get(name), name, faults, renamed=name in suggested)
        for name, kind in _TABLES.items()
    }
    faults.raise_any()
    head = built["ruleset"]
    assert isinstance(head, _Head)  # no fault: every table was built
    parts: dict[str, Any] = {
        name: table for name, table in built.items() if name != "ruleset"
    }
    rules = RuleSet(
        name=head.name,
        version=head.version,
        source=head.source,
        valid_from=head.valid_from,
        digest=hashlib.sha256(raw).hexdigest(),
        **parts,
    )
    _validate(rules, faults)
    faults.raise_any()
    return rules


def _validate(rules: RuleSet, faults: _Faults) -> None:
    """Faults between keys: the order of the index sizes."""
    r = rules.ranking
    order = " < ".join(_SIZE_ORDER[:-1]) + f" <= {_SIZE_ORDER[-1]}"
    for smaller, larger in itertools.pairwise(_SIZE_ORDER):
        low, high = getattr(r, smaller), getattr(r, larger)
        if low < high or (larger == "r3000e_size" and low == high):
            continue
        faults.add(
            f"[ranking].{larger}",
            f"is {high}, {'below' if low > high else 'not above'} "
            f"[ranking].{smaller} ({low})",
            f"the sizes must run {order}: raise {larger} or lower {smaller}",
        )
    if not r.r1000_size < r.microcap_top < r.r3000e_size:
        faults.add(
            "[ranking].microcap_top",
            f"is {r.microcap_top}, not between [ranking].r1000_size "
            f"({r.r1000_size}) and [ranking].r3000e_size ({r.r3000e_size})",
            f"use a rank in between, e.g. {_example('ranking', 'microcap_top')}",
        )
