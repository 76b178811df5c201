"""Local slopes and their finite-size extrapolation (lrwb.numerics.analysis.asymptotics)."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.analysis.asymptotics import extrapolate, local_slopes


def test_local_slopes_of_a_pure_power_law_are_its_exponent():
    x = np.geomspace(10, 1e5, 6)
    mid, slopes = local_slopes(x, 3.0 * x**-0.7)
    assert slopes == pytest.approx(np.full(5, 0.7), abs=1e-12)
    assert mid == pytest.approx(np.sqrt(x[1:] * x[:-1]))


def test_power_model_recovers_the_limit_of_a_power_law_correction():
    # y = x^{−0.4}·exp(2 x^{−0.3}): local slope 0.4 + 2·0.3·(…)^{−0.3}-like, limit 0.4 exactly
    x = np.geomspace(100, 1e6, 9)
    y = x**-0.4 * np.exp(2.0 * x**-0.3)
    fit = extrapolate(x, y, model="power")
    # the model is exact up to the secant-vs-derivative difference of the midpoint: ~1e-3 here
    assert fit.value == pytest.approx(0.4, abs=3e-3)
    assert fit.correction_exponent == pytest.approx(0.3, abs=0.05)  # grid step 0.01; secant bias
    assert fit.slopes[-1] - 0.4 > 0.005  # the raw slopes stay well above the limit: why one extrapolates


def test_log_model_recovers_a_log_factor():
    # y = x^{−0.5} (log x)^{1}: d log y/d log x = −0.5 + 1/log x, so the −slope is 0.5 − 1/log x
    x = np.geomspace(1e3, 1e12, 10)
    fit = extrapolate(x, x**-0.5 * np.log(x), model="log")
    assert fit.value == pytest.approx(0.5, abs=2e-3)  # midpoint secant vs 1/log X̄: O(Δ²/log³) ≲ 1e-3


def test_bad_input_is_rejected_with_the_valid_range():
    with pytest.raises(ValueError, match="model"):
        extrapolate([1, 2, 3, 4], [1, 2, 3, 4], model="cubic")
    with pytest.raises(ValueError, match="needs >= 3"):
        extrapolate([1, 2, 3], [1.0, 0.5, 0.3], model="power")
    with pytest.raises(ValueError, match="increasing"):
        local_slopes([2, 1, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="> 0"):
        local_slopes([1, 2, 3], [1, 0, 3])
