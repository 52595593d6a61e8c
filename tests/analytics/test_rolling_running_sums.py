"""Rolling variance by running sums agrees with the two-pass values to 1e-9.

The reference is the corrected two-pass algorithm over every window
(:func:`r2k.analytics._inputs.squared_deviations`), which meets NIST StRD NumAcc 1-4;
the fast path (:func:`r2k.analytics.variance.rolling_variance_into`: blocks summed
relative to their middle value by running window sums, an error bound per window
and a two-pass recomputation of the flagged ones) must agree with it on returns,
trending prices, large means with a tiny spread (NumAcc-like), constant stretches,
jumps, subnormal values, and across its block boundaries (shrunk here so that
small series cross many of them).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from r2k import analytics
from r2k.analytics._inputs import squared_deviations, windows
from r2k.analytics.variance import rolling_variance_core
from r2k.errors import SchemaError

# ``r2k.analytics.variance`` the attribute is the function ``variance``.
variance_module = sys.modules["r2k.analytics.variance"]


def _two_pass(x: np.ndarray, w: int, ddof: int) -> np.ndarray:
    return squared_deviations(np.ascontiguousarray(windows(x, w)), ddof)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-9 * np.abs(b) + 1e-300))


def _agrees(x: np.ndarray, window: int, ddof: int) -> None:
    got = rolling_variance_core(x, window, ddof)
    want = _two_pass(x, window, ddof)
    assert got.shape == want.shape
    # Two-pass values themselves carry ~eps * (mean / spread)^2 of error on
    # near-constant windows; compare with that floor.
    floor = 64 * np.finfo(np.float64).eps * (np.abs(x).max() if x.size else 0.0) ** 2
    assert np.all(np.abs(got - want) <= 1e-9 * np.abs(want) + floor)


@pytest.fixture(autouse=True)
def compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every series takes the compiled pass, however short (not the two-pass one)."""
    monkeypatch.setattr(variance_module, "_COMPILED_FROM", 0)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of ``max(2, 2 w)`` outputs: a few hundred values cross many."""
    monkeypatch.setattr(variance_module, "_BLOCK", 2)


_RNG = np.random.default_rng(20261203)
SERIES = {
    "returns": _RNG.normal(0.0, 0.01, 50_000),
    "prices": 100.0 * np.exp(np.cumsum(_RNG.normal(0.0, 0.01, 50_000))),
    "numacc": 1e7 + _RNG.integers(0, 3, 5_000) * 0.1,
    "constant": np.full(3_000, 5.0),
    "jump": np.r_[np.full(1_500, 1.0), np.full(1_500, 1e6)],
    # a halted line: a constant run far from its block's middle value
    "halt": np.r_[np.linspace(10.0, 20.0, 3_000), np.full(300, 3.3), np.ones(2_000)],
    # ten decades of price: the bench series (1,000,000 points) drifts like this
    "decades": np.exp(np.cumsum(_RNG.normal(0.0, 0.05, 20_000))),
}


@pytest.mark.parametrize("name", sorted(SERIES))
@pytest.mark.parametrize("window", [2, 5, 20, 63, 252])
@pytest.mark.parametrize("ddof", [0, 1])
def test_matches_two_pass(name: str, window: int, ddof: int) -> None:
    x = SERIES[name]
    assert _close(rolling_variance_core(x, window, ddof), _two_pass(x, window, ddof))


@pytest.mark.parametrize("window", [1, 3, 16, 17, 40, 64, 100])
def test_matches_two_pass_across_blocks(small_blocks: None, window: int) -> None:
    # Blocks of max(2, 2 w) outputs, a shorter last block.
    x = SERIES["prices"][: 997 + 8 * window]
    for ddof in (0, 1):
        if window > ddof:
            assert _close(
                rolling_variance_core(x, window, ddof), _two_pass(x, window, ddof)
            )


def test_flagged_windows_are_the_two_pass_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A tolerance no window meets flags every one: the result is then the
    # two-pass recomputation itself, bit for bit.
    x = SERIES["decades"][:3_000]
    monkeypatch.setattr(variance_module, "_ROLLING_TOLERANCE", 1e-300)
    np.testing.assert_array_equal(rolling_variance_core(x, 20, 1), _two_pass(x, 20, 1))


def test_compiled_loop_is_the_python_loop() -> None:
    # Numba compiles the loop without reordering (no fastmath): the compiled
    # values and flags are those of the same function run by Python.
    from r2k.analytics import _rolling_kernel as kernel

    x = np.r_[SERIES["prices"][:700], np.full(50, 3.3), SERIES["numacc"][:250]]
    results = []
    for run in (kernel.rolling_sums, kernel._rolling_sums):
        out = np.empty(x.size - 19)
        flagged = np.empty(8, dtype=np.int64)  # fewer than are flagged
        count = run(x, 20, out, 1 / 19, True, 5e-10, 64, flagged)
        nan = np.flatnonzero(np.isnan(out))  # flagged windows are left NaN
        assert count == nan.size > flagged.size
        np.testing.assert_array_equal(flagged, nan[:8])
        results.append(out)
    compiled, python = results
    np.testing.assert_array_equal(compiled, python)  # NaN where NaN


def test_constant_runs_are_exact_without_recomputation() -> None:
    # A window of one repeated value at its block's middle value is 0 exactly:
    # not flagged (a constant series was recomputed window by window, ~300x slower).
    from r2k.analytics import _rolling_kernel as kernel

    x = np.r_[np.full(2_000, 5.0), SERIES["prices"][:500], np.full(2_000, 0.25)]
    out = np.empty(x.size - 19)
    flagged = np.empty(16, dtype=np.int64)
    count = kernel.rolling_sums(x, 20, out, 1 / 20, False, 5e-10, 128, flagged)
    # Only windows of blocks that hold prices are flagged (131 of the 4,481 here:
    # beside a constant run far from them, their deviations from the block's
    # middle value dwarf their spread); the constant runs' windows are not.
    assert count < 200
    assert np.all(out[:1_900] == 0.0)
    assert np.all(out[-1_900:] == 0.0)
    assert rolling_variance_core(np.full(3_000, 7.5), 20, 0).tolist() == [0.0] * 2981


def test_more_flagged_windows_than_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # Past the positions kept, flagged windows are found by their NaN.
    monkeypatch.setattr(variance_module, "_FLAGGED_KEPT", 3)
    x = np.r_[SERIES["prices"][:700], np.full(50, 3.3), SERIES["numacc"][:250]]
    for ddof in (0, 1):
        _agrees(x, 20, ddof)


def test_short_series_are_the_two_pass_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # Up to _COMPILED_FROM window values, every window is computed by two passes.
    monkeypatch.setattr(variance_module, "_COMPILED_FROM", 1 << 22)
    monkeypatch.setattr(variance_module, "_REDO_BLOCK", 200)  # blocks of 10 windows
    x = SERIES["prices"][:5_000]
    np.testing.assert_array_equal(rolling_variance_core(x, 20, 1), _two_pass(x, 20, 1))
    std = analytics.rolling_standard_deviation(x, 20, ddof=0)
    np.testing.assert_array_equal(std[19:], np.sqrt(_two_pass(x, 20, 0)))


def test_shorter_than_window_is_empty() -> None:
    assert rolling_variance_core(np.arange(3.0), 5, 0).size == 0


def test_window_of_one_is_zero() -> None:
    assert np.all(rolling_variance_core(SERIES["prices"][:100], 1, 0) == 0.0)


def test_subnormal_values_match() -> None:
    # Squares of 1e-161 are subnormal: their rounding is caught by the floor.
    x = np.array([4.5153052e-161, 0.0, 3e-161, 1e-162, 0.0, 2.5e-161])
    _agrees(x, 2, 1)
    _agrees(x, 3, 0)


def test_root_and_factor_are_the_scaled_square_root() -> None:
    x = SERIES["returns"][:5_000]
    var = analytics.rolling_variance(x, 21, ddof=1)
    std = analytics.rolling_standard_deviation(x, 21, ddof=1)
    vol = analytics.rolling_volatility(x, 21, periods_per_year=252, ddof=1)
    assert np.isnan(std[:20]).all()
    assert np.isnan(vol[:20]).all()
    np.testing.assert_allclose(std[20:], np.sqrt(var[20:]), rtol=1e-15)
    np.testing.assert_allclose(vol[20:], np.sqrt(var[20:] * 252), rtol=1e-15)


def test_warm_up_is_kept_missing() -> None:
    x = np.r_[np.full(7, np.nan), SERIES["prices"][:500]]
    got = analytics.rolling_standard_deviation(x, 20, ddof=0)
    assert np.isnan(got[: 7 + 19]).all()
    np.testing.assert_allclose(
        got[7 + 19 :] ** 2, _two_pass(x[7:], 20, 0), rtol=1e-9, atol=0.0
    )


_FLOATS = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)


@settings(max_examples=200, deadline=None)
@given(
    x=arrays(np.float64, st.integers(1, 400), elements=_FLOATS),
    window=st.integers(2, 40),
    shift=st.sampled_from([0.0, 1e3, 1e7]),
)
def test_property_matches_two_pass(x: np.ndarray, window: int, shift: float) -> None:
    _agrees(x + shift, window, 1)


# The fixture only patches module constants, the same for every example.
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=arrays(np.float64, st.integers(30, 600), elements=st.floats(-1.0, 1.0)),
    window=st.integers(2, 60),
    offset=st.sampled_from([0.0, 1e4, 1e8, -1e12]),
    spread=st.sampled_from([1e-6, 1e-2, 1.0]),
    runs=st.lists(st.tuples(st.integers(0, 599), st.integers(1, 80)), max_size=4),
    ddof=st.integers(0, 1),
)
def test_property_adversarial_matches_two_pass(
    small_blocks: None,
    steps: np.ndarray,
    window: int,
    offset: float,
    spread: float,
    runs: list[tuple[int, int]],
    ddof: int,
) -> None:
    # A large offset beside a small spread, a random walk (a trend within blocks),
    # and constant runs (a halted line), through shrunk blocks.
    x = offset + spread * np.cumsum(steps)
    for at, length in runs:
        x[at : at + length] = x[min(at, x.size - 1)]
    if window > ddof:
        _agrees(x, window, ddof)


@pytest.mark.parametrize("compiled_from", [0, 1 << 22])
@pytest.mark.parametrize(
    ("bad", "message"),
    [(np.nan, "missing value at position 1234"), (np.inf, "non-finite value")],
)
def test_bad_value_is_reported_by_position(
    monkeypatch: pytest.MonkeyPatch, compiled_from: int, bad: float, message: str
) -> None:
    # A float64 array goes to the pass unparsed; the value check runs when a
    # window is flagged (the bad value's windows always are) and names it.
    monkeypatch.setattr(variance_module, "_COMPILED_FROM", compiled_from)
    x = SERIES["returns"][:5_000].copy()
    x[1234] = bad
    for rolling in (analytics.rolling_standard_deviation, analytics.rolling_variance):
        with pytest.raises(SchemaError, match=message):
            rolling(x, 20, ddof=0)


def test_loop_compiles_without_a_writable_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Numba raises RuntimeError when it finds no folder to cache in: the loop
    # is then compiled in memory, with the same values.
    import numba

    from r2k.analytics import _rolling_kernel as kernel

    real = numba.njit

    def no_cache(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("cache"):
            msg = "cannot cache function: no locator available for file"
            raise RuntimeError(msg)
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", no_cache)
    loop = kernel.compile_loop(kernel._rolling_sums)
    x = SERIES["prices"][:2_000]
    out = np.empty(x.size - 19)
    loop(x, 20, out, 1 / 20, False, 5e-10, 128, np.empty(16, dtype=np.int64))
    np.testing.assert_allclose(out, _two_pass(x, 20, 0), rtol=1e-9)
