"""The estimate of ranked companies no input shows (r2k.construction.ranking)."""

from __future__ import annotations

import pytest

from r2k.construction.ranking import unseen_companies


def test_the_incumbent_rate_applies_to_companies_in_no_list() -> None:
    # 2026 figures (docs/methodology.md): 131 of the incumbent file's 1,913
    # companies are outside the panel; 216 ranked companies are in no fund list.
    assert unseen_companies(outside_panel=131, in_panel=1782, in_no_list=216) == 16
    # twice the companies in no list, twice the estimate
    assert unseen_companies(outside_panel=100, in_panel=1000, in_no_list=400) == 40
    assert unseen_companies(outside_panel=100, in_panel=1000, in_no_list=200) == 20


@pytest.mark.parametrize(
    ("outside", "inside", "no_list"),
    [(0, 1800, 200), (120, 0, 200), (120, 1800, 0)],
)
def test_nothing_to_go_on_estimates_nothing(
    outside: int, inside: int, no_list: int
) -> None:
    assert (
        unseen_companies(outside_panel=outside, in_panel=inside, in_no_list=no_list)
        == 0
    )
