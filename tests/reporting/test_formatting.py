"""The one set of formatters: rounding mode, scales, missing values."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from r2k.reporting.formatting import money, number, percent


def test_rounding_is_half_even() -> None:
    # 0.125 and 0.375 are exact binary ties: round-half-even gives 0.12 and 0.38
    assert number(0.125) == "0.12"
    assert number(0.375) == "0.38"
    assert percent(float("nan")) == "n/a"
    assert money(3.25e12) == "$3.25T"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (58.93e9, "$58.93B"),
        (952.5e6, "$952.5M"),
        (133.4e6, "$133.4M"),
        (999_999.0, "$999,999"),
        (-2.5e9, "$-2.50B"),
        (None, "n/a"),
        (float("inf"), "n/a"),
    ],
)
def test_money_scales(value: float | None, shown: str) -> None:
    assert money(value) == shown


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False))
def test_number_round_trips_to_its_digits(value: float) -> None:
    shown = number(value, 4)
    assert abs(float(shown.replace(",", "")) - value) <= 0.5e-4 * (1 + 1e-12)


def test_text_never_shows_python_containers() -> None:
    from r2k.reporting.formatting import text

    assert text({"stale_price": 2, "deletion": 1}) == "stale_price: 2, deletion: 1"
    assert text(["2026-06-26", "2026-12-11"]) == "2026-06-26, 2026-12-11"
    assert text(("a",)) == "a"
    assert text({"b", "a"}) == "a, b"
    assert text({}) == "none"
    assert text([]) == "none"
    assert text({"nested": {"x": 1}}) == "nested: x: 1"
    assert text(None) == "n/a"
    assert text(float("nan")) == "n/a"
    assert text(True) == "yes"
    assert text(0.1234567) == "0.123457"
    assert text(date(2026, 7, 22)) == "2026-07-22"
    assert text(1978) == "1978"
    for value in ({"a": [1, 2]}, [{"k": "v"}], ("x", ["y"])):
        shown = text(value)
        assert not set(shown) & set("{}[]'")
