"""Rule sets: the packaged files load, and a faulty rule file is a clear error.

Each faulty file is the packaged default with one edit; its error must name the
file, the key as ``[table].key`` and the fix.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING

import pytest

from r2k.cli.app import main
from r2k.errors import MethodologyError
from r2k.methodology.rule_sets import (
    BandingRules,
    EligibilityRules,
    FloatRules,
    MaintenanceRules,
    RankingRules,
    RuleSet,
    ShareClassRules,
    packaged_rule_sets,
    rule_set_for,
)

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT = (
    resources.files("r2k.methodology.rules")
    .joinpath("russell_us_current.toml")
    .read_text(encoding="utf-8")
)


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    """The packaged default with ``old`` (which must occur once) replaced."""
    assert DEFAULT.count(old) == 1, old
    path = tmp_path / "variant.toml"
    path.write_text(DEFAULT.replace(old, new), encoding="utf-8")
    return path


def _error(tmp_path: Path, old: str, new: str) -> str:
    path = _variant(tmp_path, old, new)
    with pytest.raises(MethodologyError) as caught:
        RuleSet.from_toml(path)
    message = str(caught.value)
    assert message.startswith(f"rule set {path}: ")
    assert "\n" not in message
    return message


def test_packaged_rule_sets_load() -> None:
    old, current = packaged_rule_sets()
    assert (old.label, current.label) == (
        "russell-us-pre2007@1989.1",
        "russell-us@2026.1",
    )
    assert RuleSet.default() == current
    assert not old.banding.enabled
    assert current.banding.enabled
    assert current.banding.edges == "inclusive"
    assert current.float.fallback == "median"
    assert current.ranking.r3000e_size == 4000
    assert current.eligibility.eligible_countries == ("US",)
    assert rule_set_for(date(2006, 5, 31)) == old
    assert rule_set_for(date(2026, 4, 30)) == current
    assert len(current.digest) == 64


def test_every_number_declares_its_range() -> None:
    """A new numeric key must say which values it takes (its field's metadata)."""
    tables = (
        EligibilityRules,
        RankingRules,
        BandingRules,
        ShareClassRules,
        FloatRules,
        MaintenanceRules,
    )
    unbounded = [
        f"{table.__name__}.{f.name}"
        for table in tables
        for f in fields(table)
        if f.type in ("int", "float") and "range" not in f.metadata
    ]
    assert unbounded == []


def test_a_valid_variant_loads(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'fallback = "median"', "fallback = 0.5")
    rules = RuleSet.from_toml(path)
    assert rules.float.fallback == 0.5
    assert rules.digest != RuleSet.default().digest
    # microcap_top may lie anywhere between the Russell 1000 and the 3000E sizes
    path = _variant(tmp_path, "microcap_top = 2000", "microcap_top = 3500")
    assert RuleSet.from_toml(path).ranking.microcap_top == 3500


def test_unseen_companies_estimate_is_optional(tmp_path: Path) -> None:
    """On in the packaged current file; a file without the key loads with it off."""
    old, current = packaged_rule_sets()
    assert current.ranking.unseen_companies_estimate
    assert not old.ranking.unseen_companies_estimate
    key = "unseen_companies_estimate = true\n"
    path = _variant(tmp_path, key, "")
    assert not RuleSet.from_toml(path).ranking.unseen_companies_estimate
    message = _error(tmp_path, key, "unseen_companies_estimate = 1\n")
    assert "[ranking].unseen_companies_estimate" in message


@pytest.mark.parametrize(
    ("old", "new", "key", "fix"),
    [
        pytest.param(
            "r1000_band_pct = 2.5",
            "r1000_band = 2.5",
            "[banding].r1000_band is not one of the keys of [banding]",
            "did you mean [banding].r1000_band_pct? Rename it",
            id="unknown-key-misspelt",
        ),
        pytest.param(
            "enabled = true",
            "enabled = true\nfrobnicate = 1",
            "[banding].frobnicate is not one of the keys of [banding]",
            "remove it (the keys of [banding] are enabled, edges,",
            id="unknown-key",
        ),
        pytest.param(
            "[banding]",
            "[bandng]",
            "[bandng] is not one of the tables of a rule set",
            "did you mean [banding]? Rename it",
            id="unknown-table",
        ),
        pytest.param(
            "microcap_band_pct = 0.5\n",
            "",
            "[banding].microcap_band_pct is missing",
            "add it, e.g. microcap_band_pct = 0.5",
            id="missing-key",
        ),
        pytest.param(
            "valid_from = 2007-01-01 ",
            "",
            "[ruleset].valid_from is missing",
            "add it, e.g. valid_from = 2007-01-01",
            id="missing-head-key",
        ),
        pytest.param(
            "[float]\n",
            "[floats]\n",
            "[floats] is not one of the tables of a rule set",
            "did you mean [float]? Rename it",
            id="missing-table-misspelt",
        ),
        pytest.param(
            "r1000_band_pct = 2.5",
            'r1000_band_pct = "2.5"',
            '[banding].r1000_band_pct is "2.5" (a string), not a number',
            "write e.g. r1000_band_pct = 2.5",
            id="string-for-number",
        ),
        pytest.param(
            "r3000_size = 3000",
            "r3000_size = 3000.5",
            "[ranking].r3000_size is 3000.5 (a number), not a whole number",
            "write e.g. r3000_size = 3000",
            id="float-for-whole-number",
        ),
        pytest.param(
            "enabled = true",
            'enabled = "yes"',
            '[banding].enabled is "yes" (a string), not true or false',
            "write e.g. enabled = true",
            id="string-for-boolean",
        ),
        pytest.param(
            'eligible_countries = ["US"]',
            'eligible_countries = "US"',
            "[eligibility].eligible_countries is",
            'not a list of one or more strings: write e.g. eligible_countries = ["US"]',
            id="string-for-list",
        ),
        pytest.param(
            "min_price = 1.00",
            "min_price = nan",
            "[eligibility].min_price is nan (a number), not a finite number",
            "write e.g. min_price = 1.0",
            id="not-finite",
        ),
        pytest.param(
            "r1000_band_pct = 2.5",
            "r1000_band_pct = -1",
            "[banding].r1000_band_pct is -1, below 0",
            "use a number in [0, 50) (a half-width in cumulative-percentile points",
            id="band-below-0",
        ),
        pytest.param(
            "top200_band_pct = 2.5",
            "top200_band_pct = 150",
            "[banding].top200_band_pct is 150, at or above 50",
            "e.g. top200_band_pct = 2.5",
            id="band-above-100",
        ),
        pytest.param(
            "top500_size = 500",
            "top500_size = 150",
            "[ranking].top500_size is 150, below [ranking].top200_size (200)",
            "the sizes must run top200_size < top500_size < r1000_size < r3000_size "
            "<= r3000e_size: raise top500_size or lower top200_size",
            id="sizes-out-of-order",
        ),
        pytest.param(
            "r3000e_size = 4000",
            "r3000e_size = 2999",
            "[ranking].r3000e_size is 2999, below [ranking].r3000_size (3000)",
            "raise r3000e_size or lower r3000_size",
            id="r3000e-below-r3000",
        ),
        pytest.param(
            "microcap_top = 2000",
            "microcap_top = 900",
            "[ranking].microcap_top is 900, not between [ranking].r1000_size (1000) "
            "and [ranking].r3000e_size (4000)",
            "use a rank in between, e.g. microcap_top = 2000",
            id="microcap-top-outside",
        ),
        pytest.param(
            "top200_size = 200",
            "top200_size = 0",
            "[ranking].top200_size is 0, below 1",
            "use a number >= 1 (a number of companies), e.g. top200_size = 200",
            id="size-not-positive",
        ),
        pytest.param(
            "min_voting_rights_pct = 5.0",
            "min_voting_rights_pct = 105",
            "[eligibility].min_voting_rights_pct is 105, above 100",
            "use a number in [0, 100] (a percentage), e.g. min_voting_rights_pct = 5.0",
            id="percentage-above-100",
        ),
        pytest.param(
            "shares_buffer_pct = 1.0",
            "shares_buffer_pct = -0.5",
            "[maintenance].shares_buffer_pct is -0.5, below 0",
            "use a number in [0, 100] (a percentage), e.g. shares_buffer_pct = 1.0",
            id="percentage-below-0",
        ),
        pytest.param(
            "min_price = 1.00",
            "min_price = -1.00",
            "[eligibility].min_price is -1, below 0",
            "use a number >= 0 (US dollars), e.g. min_price = 1.0",
            id="negative-min-price",
        ),
        pytest.param(
            'edges = "inclusive"',
            'edges = "inclusve"',
            '[banding].edges is "inclusve" (a string), not "inclusive" or '
            '"exclusive" (did you mean "inclusive"?)',
            'write e.g. edges = "inclusive"',
            id="unknown-edges",
        ),
        pytest.param(
            'fallback = "median"',
            'fallback = "mean"',
            '[float].fallback is "mean" (a string), not "median" or a number in (0, 1]',
            'write e.g. fallback = "median"',
            id="unknown-fallback",
        ),
        pytest.param(
            'fallback = "median"',
            "fallback = 1.5",
            "[float].fallback is 1.5 (a number), not",
            'write e.g. fallback = "median"',
            id="fallback-out-of-range",
        ),
        pytest.param(
            "holdings_ratio_quantile = 0.90",
            "holdings_ratio_quantile = 0",
            "[float].holdings_ratio_quantile is 0, at or below 0",
            "use a number in (0, 1] (a quantile)",
            id="quantile-zero",
        ),
        pytest.param(
            "valid_from = 2007-01-01",
            'valid_from = "2007-01-01"',
            '[ruleset].valid_from is "2007-01-01" (a string), not a date without '
            "quotes",
            "write e.g. valid_from = 2007-01-01",
            id="valid-from-string",
        ),
        pytest.param(
            "valid_from = 2007-01-01",
            "valid_from = 2007-01-01T09:30:00",
            "[ruleset].valid_from is 2007-01-01T09:30:00 (a date-time), not a date",
            "write e.g. valid_from = 2007-01-01",
            id="valid-from-date-time",
        ),
    ],
)
def test_a_fault_names_the_file_the_key_and_the_fix(
    tmp_path: Path, old: str, new: str, key: str, fix: str
) -> None:
    message = _error(tmp_path, old, new)
    assert f"{key}" in message
    assert fix in message
    assert "problems" not in message  # one edit, one fault


def test_a_table_that_is_not_a_table(tmp_path: Path) -> None:
    message = _error(tmp_path, "[ruleset]\n", "ruleset = 3\n[old_head]\n")
    assert "[ruleset] is 3 (a number), not a table" in message
    assert "write it as a [ruleset] section of keys" in message
    assert "[old_head] is not one of the tables of a rule set: remove it" in message


def test_a_missing_table(tmp_path: Path) -> None:
    start = DEFAULT.index("[float]")
    end = DEFAULT.index("# Maintenance between")
    path = tmp_path / "no_float.toml"
    path.write_text(DEFAULT[:start] + DEFAULT[end:], encoding="utf-8")
    with pytest.raises(MethodologyError) as caught:
        RuleSet.from_toml(path)
    message = str(caught.value)
    assert str(path) in message
    assert "[float] is missing: add the table with its keys" in message
    assert "holdings_ratio_quantile, fallback" in message


def test_every_fault_of_a_file_is_in_one_message(tmp_path: Path) -> None:
    text = (
        DEFAULT.replace("r1000_band_pct = 2.5", "r1000_band_pct = -1")
        .replace("min_voting_rights_pct = 5.0", "min_voting_rights_pct = 105")
        .replace('edges = "inclusive"', 'edges = "both"')
    )
    path = tmp_path / "three.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MethodologyError, match=r"three\.toml: 3 problems: ") as caught:
        RuleSet.from_toml(path)
    message = str(caught.value)
    for key in (
        "[eligibility].min_voting_rights_pct",
        "[banding].edges",
        "[banding].r1000_band_pct",
    ):
        assert key in message


def test_not_toml_and_unreadable(tmp_path: Path) -> None:
    message = _error(tmp_path, "[float]", "[float")
    assert "not valid TOML" in message
    assert "line " in message
    assert "fix the syntax there" in message
    missing = tmp_path / "nope.toml"
    with pytest.raises(
        MethodologyError,
        match=r"nope\.toml: cannot be read \(No such file or directory\): check",
    ):
        RuleSet.from_toml(missing)


def test_cli_bad_rule_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = _variant(tmp_path, "r1000_band_pct = 2.5", "r1000_band_pct = -1")
    args = [
        "r2k",
        "reconstitute",
        "--data",
        str(tmp_path),
        "--rank-day",
        "2026-04-30",
        "--rules",
        str(bad),
        "--store",
        str(tmp_path / "s.duckdb"),
    ]
    monkeypatch.setattr(sys, "argv", args)
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert str(bad) in lines[0]
    assert "r1000_band_pct is -1, below 0" in lines[0]
    assert "e.g. r1000_band_pct = 2.5" in lines[0]
    assert not (tmp_path / "s.duckdb").exists()  # nothing was written
