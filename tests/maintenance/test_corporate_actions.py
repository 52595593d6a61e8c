"""Per-action formulas: the worked examples in the docstrings are run here.

Sources: methodology.md TC4 (float buffer, R7 §9.3.4), TC5 (delayed-action merger
prices, R7 Appendix E), D5 (rights TERP), R7 §9.3 (intra-quarter thresholds).
"""

from __future__ import annotations

import doctest

import pytest

import r2k.maintenance.corporate_actions
import r2k.maintenance.levels
from r2k.maintenance.corporate_actions import (
    float_change_exceeds_buffer,
    merger_price,
    theoretical_ex_rights_price,
)
from r2k.methodology.rule_sets import RuleSet


@pytest.mark.parametrize(
    "module", [r2k.maintenance.corporate_actions, r2k.maintenance.levels]
)
def test_docstring_examples(module: object) -> None:
    failures, tried = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert tried > 0
    assert failures == 0


def test_tc5_prices() -> None:
    assert merger_price(12.0, 0.2, 0.0) == pytest.approx(2.40)
    assert merger_price(12.0, 0.2, 2.0) == pytest.approx(4.40)
    assert merger_price(None, 0.0, 5.02) == pytest.approx(5.02)


def test_d5_terp() -> None:
    assert theoretical_ex_rights_price(50.0, 0.25, 40.0) == pytest.approx(48.0)


def test_tc4_float_buffer_edges() -> None:
    rules = RuleSet.default().maintenance
    assert not float_change_exceeds_buffer(0.08, 0.09, rules)  # exactly 1 point
    assert float_change_exceeds_buffer(0.08, 0.0901, rules)
    assert not float_change_exceeds_buffer(0.50, 0.53, rules)  # 3 points above 15%
    assert float_change_exceeds_buffer(0.50, 0.5301, rules)
