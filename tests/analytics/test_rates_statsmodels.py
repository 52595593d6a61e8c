"""Rate betas against statsmodels OLS on the same inputs, to 1e-10.

statsmodels (a test-only dependency) fits ``y = a + b x`` with classical and White
HC1 standard errors; :func:`r2k.analytics.rates.ols` must give the same numbers,
on hand-made data and on the real weekly RUT regressions on yield changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import statsmodels.api as sm

from r2k.analytics.rates import ols

if TYPE_CHECKING:
    from r2k.data.datadir import DataDir


def _reference(y: np.ndarray, x: np.ndarray) -> tuple[Any, Any]:
    model = sm.OLS(y, sm.add_constant(x))
    return model.fit(), model.fit(cov_type="HC1")


def _check(y: np.ndarray, x: np.ndarray) -> None:
    fit = ols(y, x)
    ref, hc1 = _reference(y, x)
    rel = 1e-10
    assert fit.n == y.size
    assert fit.alpha == pytest.approx(ref.params[0], rel=rel, abs=1e-14)
    assert fit.beta == pytest.approx(ref.params[1], rel=rel, abs=1e-14)
    assert fit.alpha_se == pytest.approx(ref.bse[0], rel=rel)
    assert fit.se == pytest.approx(ref.bse[1], rel=rel)
    assert fit.se_hc1 == pytest.approx(hc1.bse[1], rel=rel)
    assert fit.t_stat == pytest.approx(ref.tvalues[1], rel=rel)
    assert fit.r_squared == pytest.approx(ref.rsquared, rel=rel, abs=1e-14)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("n", [5, 60, 2000])
def test_matches_statsmodels_on_generated_data(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.1, n)  # weekly yield changes, percentage points
    y = 0.001 + 0.04 * x + rng.standard_t(4, n) * 0.02 * (1 + np.abs(x))
    _check(y, x)


def test_matches_statsmodels_on_real_weekly_rut(data_dir: DataDir) -> None:
    """RUT weekly returns on weekly changes of the 2- and 10-year yields."""
    from r2k.analytics.rates import Factor, rate_sensitivity
    from r2k.data.sources.rates import read_us_rates
    from r2k.workflows.explain import load_index_levels

    levels = load_index_levels(data_dir, "RUT").select("session", "level")
    rates = read_us_rates(data_dir.root / "rates" / "us_rates_daily.csv")
    factors = [
        Factor(
            name=column,
            label=column,
            change="difference",
            unit="1 pp rise",
            values=rates.select("date", value=column),
        )
        for column in ("DGS2", "DGS10")
    ]
    result = rate_sensitivity(levels, factors, frequency="weekly")
    for column in ("DGS2", "DGS10"):
        frame = result.sample.select("index_return", f"{column}_change").drop_nulls()
        y = frame["index_return"].to_numpy()
        x = frame[f"{column}_change"].to_numpy()
        assert y.size > 1000
        _check(y, x)
