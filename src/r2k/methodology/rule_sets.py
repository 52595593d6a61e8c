"""Rule sets: the Russell US construction rules as data.

A rule set is a TOML file (see ``src/r2k/methodology/rules/``) read into frozen
dataclasses. The
default, ``russell_us_current.toml``, follows FTSE Russell's *Construction and
Methodology* v7.0 (May 2026), sections 5 (eligibility), 6 (ranking, share classes,
banding) and 7 (float). Older regimes are dated rule sets; :func:`rule_set_for`
picks the one in force on a rank day. A user variant (another band, a different
minimum cap) is a copy of a TOML file passed as ``--rules FILE``.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, fields
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from r2k.errors import MethodologyError

BandEdges = Literal["inclusive", "exclusive"]
_T = TypeVar("_T")
_RULE_FILES = ("russell_us_1989.toml", "russell_us_current.toml")


@dataclass(frozen=True, slots=True, kw_only=True)
class EligibilityRules:
    """Security- and company-level screens (R7 §5)."""

    eligible_exchanges: tuple[str, ...]
    eligible_security_types: tuple[str, ...]
    min_price: float
    incumbent_price_rescue_days: int
    min_total_market_cap: float
    min_float_pct: float
    min_voting_rights_pct: float
    eligible_countries: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RankingRules:
    """Index sizes by company rank (R7 §6.10)."""

    r3000e_size: int
    r3000_size: int
    r1000_size: int
    top200_size: int
    top500_size: int
    microcap_top: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BandingRules:
    """Cumulative-percentile bands around breakpoints (R7 §6.11)."""

    enabled: bool
    edges: BandEdges
    percentile_decimals: int
    top200_band_pct: float
    top500_band_pct: float
    r1000_band_pct: float
    microcap_band_pct: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareClassRules:
    """Pricing vehicle and additional share classes (R7 §6.5-6.7)."""

    pricing_vehicle_volume_tolerance: float
    extra_class_min_total_market_cap: float
    extra_class_min_addtv_usd: float
    extra_class_min_float_pct: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatRules:
    """How float factors are estimated where no float data exists (R7 §7)."""

    holdings_ratio_quantile: float
    fallback: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceRules:
    """Maintenance between reconstitutions (R7 §9, methodology.md §8-9)."""

    shares_buffer_pct: float  # quarterly: cumulative shares change > this, percent
    float_buffer_pp: float  # quarterly: float change > this, percentage points
    low_float_buffer_pp: float  # ... when the float is at or below low_float_pct
    low_float_pct: float
    intra_quarter_min_value_usd: float  # offering applied at once if >= this ...
    intra_quarter_min_change_pct: float  # ... or >= this change in index shares
    intra_quarter_min_value_with_pct_usd: float  # ... and >= this value
    stale_price_removal_sessions: int  # member without a price this long: removed
    nominal_removal_price: float  # bankrupt line with no price is removed at this
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
            msg = f"rule set {path}: cannot be read ({exc.strerror})"
            raise MethodologyError(msg) from None
        return _parse(raw, source=str(path))

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


def _section(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        msg = f"rule set {source}: missing table [{key}]"
        raise MethodologyError(msg)
    return value


def _build(kind: type[_T], table: dict[str, Any], key: str, source: str) -> _T:
    names = [f.name for f in fields(kind)]  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(names))
    if unknown:
        msg = f"rule set {source}: unknown key(s) in [{key}]: {', '.join(unknown)}"
        raise MethodologyError(msg)
    missing = [n for n in names if n not in table]
    if missing:
        msg = f"rule set {source}: missing key(s) in [{key}]: {', '.join(missing)}"
        raise MethodologyError(msg)
    values = {n: tuple(v) if isinstance(v, list) else v for n, v in table.items()}
    try:
        return kind(**values)
    except TypeError as exc:
        msg = f"rule set {source}: [{key}] {exc}"
        raise MethodologyError(msg) from None


def _parse(raw: bytes, *, source: str) -> RuleSet:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"rule set {source}: not valid TOML ({exc})"
        raise MethodologyError(msg) from None
    head = _section(data, "ruleset", source)
    for key in ("name", "version", "source", "valid_from"):
        if key not in head:
            msg = f"rule set {source}: missing key [ruleset].{key}"
            raise MethodologyError(msg)
    if not isinstance(head["valid_from"], date):
        msg = f"rule set {source}: [ruleset].valid_from must be a date like 2007-01-01"
        raise MethodologyError(msg)
    rules = RuleSet(
        name=str(head["name"]),
        version=str(head["version"]),
        source=str(head["source"]),
        valid_from=head["valid_from"],
        eligibility=_build(
            EligibilityRules,
            _section(data, "eligibility", source),
            "eligibility",
            source,
        ),
        ranking=_build(
            RankingRules, _section(data, "ranking", source), "ranking", source
        ),
        banding=_build(
            BandingRules, _section(data, "banding", source), "banding", source
        ),
        share_classes=_build(
            ShareClassRules,
            _section(data, "share_classes", source),
            "share_classes",
            source,
        ),
        float=_build(FloatRules, _section(data, "float", source), "float", source),
        maintenance=_build(
            MaintenanceRules,
            _section(data, "maintenance", source),
            "maintenance",
            source,
        ),
        digest=hashlib.sha256(raw).hexdigest(),
    )
    _validate(rules, source)
    return rules


def _validate(rules: RuleSet, source: str) -> None:
    problems: list[str] = []
    r = rules.ranking
    if not 0 < r.top200_size < r.top500_size < r.r1000_size < r.microcap_top:
        problems.append(
            "[ranking] sizes must satisfy 0 < top200 < top500 < r1000 < microcap_top"
        )
    if not r.microcap_top < r.r3000_size <= r.r3000e_size:
        problems.append("[ranking] sizes must satisfy microcap_top < r3000 <= r3000e")
    b = rules.banding
    if b.edges not in ("inclusive", "exclusive"):
        problems.append("[banding].edges must be 'inclusive' or 'exclusive'")
    for name in (
        "top200_band_pct",
        "top500_band_pct",
        "r1000_band_pct",
        "microcap_band_pct",
    ):
        if not 0 <= getattr(b, name) < 50:
            problems.append(f"[banding].{name} must be in [0, 50)")
    e = rules.eligibility
    if e.min_price < 0 or e.min_total_market_cap < 0:
        problems.append("[eligibility] min_price and min_total_market_cap must be >= 0")
    if not 0 <= e.min_float_pct <= 100 or not 0 <= e.min_voting_rights_pct <= 100:
        problems.append("[eligibility] percentages must be in [0, 100]")
    f = rules.float
    if not 0 < f.holdings_ratio_quantile <= 1:
        problems.append("[float].holdings_ratio_quantile must be in (0, 1]")
    if f.fallback != "median":
        try:
            value = float(f.fallback)
        except ValueError:
            value = -1.0
        if not 0 < value <= 1:
            problems.append("[float].fallback must be 'median' or a number in (0, 1]")
    if problems:
        msg = f"rule set {source}: " + "; ".join(problems)
        raise MethodologyError(msg)
