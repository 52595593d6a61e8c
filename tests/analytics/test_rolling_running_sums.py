"""Rolling variance by running sums (O(n)) agrees with the two-pass values to 1e-9.

The reference is the corrected two-pass algorithm over every window
(:func:`r2k.analytics._inputs.squared_deviations`), which meets NIST StRD NumAcc 1-4;
the running-sum path must agree with it on returns, trending prices, large means
with a tiny spread (NumAcc-like), constant stretches and jumps.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from r2k.analytics._inputs import rolling_variance_core, squared_deviations, windows


def _two_pass(x: np.ndarray, w: int, ddof: int) -> np.ndarray:
    return squared_deviations(np.ascontiguousarray(windows(x, w)), ddof)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-9 * np.abs(b) + 1e-300))


_RNG = np.random.default_rng(20261203)
SERIES = {
    "returns": _RNG.normal(0.0, 0.01, 50_000),
    "prices": 100.0 * np.exp(np.cumsum(_RNG.normal(0.0, 0.01, 50_000))),
    "numacc": 1e7 + _RNG.integers(0, 3, 5_000) * 0.1,
    "constant": np.full(3_000, 5.0),
    "jump": np.r_[np.full(1_500, 1.0), np.full(1_500, 1e6)],
}


@pytest.mark.parametrize("name", sorted(SERIES))
@pytest.mark.parametrize("window", [2, 5, 20, 63, 252])
@pytest.mark.parametrize("ddof", [0, 1])
def test_matches_two_pass(name: str, window: int, ddof: int) -> None:
    x = SERIES[name]
    assert _close(rolling_variance_core(x, window, ddof), _two_pass(x, window, ddof))


def test_shorter_than_window_is_empty() -> None:
    assert rolling_variance_core(np.arange(3.0), 5, 0).size == 0


@settings(max_examples=200, deadline=None)
@given(
    x=arrays(
        np.float64,
        st.integers(1, 400),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
    ),
    window=st.integers(2, 40),
    shift=st.sampled_from([0.0, 1e3, 1e7]),
)
def test_property_matches_two_pass(x: np.ndarray, window: int, shift: float) -> None:
    x = x + shift
    got = rolling_variance_core(x, window, 1)
    want = _two_pass(x, window, 1)
    assert got.shape == want.shape
    # Two-pass values themselves carry ~eps * (mean / spread)^2 of error on
    # near-constant windows; compare with that floor.
    floor = 64 * np.finfo(np.float64).eps * (np.abs(x).max() if x.size else 0.0) ** 2
    assert np.all(np.abs(got - want) <= 1e-9 * np.abs(want) + floor)
