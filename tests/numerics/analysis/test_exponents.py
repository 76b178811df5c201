"""Exponents of horizon ladders and of single schedules (lrwb.numerics.analysis.exponents), on exact power laws."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.analysis import exponents as ex
from lrwb.numerics.analysis.slopes import local_slopes


def test_remaining_intrinsic_time():
    np.testing.assert_allclose(ex.remaining_intrinsic_time([3.0, 2.0, 1.0]), [6.0, 3.0, 1.0])


def test_fit_scaling_and_fit_loss_exponent_recover_exact_power_laws():
    t = np.array([100, 200, 400, 800])
    # exact power laws: the least-squares slope is exact up to float64 rounding
    assert ex.fit_scaling(t, 2.0 * t ** -0.52) == pytest.approx(0.52, abs=1e-12)
    assert ex.fit_loss_exponent(t, 3.0 * t ** -0.7) == pytest.approx(0.7, abs=1e-12)
    assert ex.fit_loss_exponent(t, 3.0 * t ** -0.7) == ex.fit_scaling(t, 3.0 * t ** -0.7)


@pytest.mark.parametrize("fit", [ex.fit_scaling, ex.fit_loss_exponent])
def test_fits_name_the_bad_value(fit):
    with pytest.raises(ValueError, match=r"values\[1\] = 0.0 must be finite and > 0"):
        fit([100, 200], [1e-3, 0.0])
    with pytest.raises(ValueError, match="need >= 2 matching horizons"):
        fit([100, 200, 400], [1e-3, 1e-4])


def test_stationarity_exponent_needs_a_long_enough_horizon():
    with pytest.raises(ValueError, match="too short"):
        ex.stationarity_exponent(np.full(5, 0.01))


def test_local_slopes_is_the_shared_implementation_with_sign_plus_one():
    t = np.array([100.0, 200.0, 400.0, 900.0])
    v = 2.0 * t**-0.4 * (1 + 5 / t)
    np.testing.assert_array_equal(ex.local_slopes(t, v), local_slopes(t, v, sign=1.0)[1])
    # the arithmetic it had before (bit-identical)
    np.testing.assert_array_equal(ex.local_slopes(t, v), np.diff(np.log(v)) / np.diff(np.log(t)))


def test_anneal_start_fit_with_error_and_is_resolved():
    assert ex.anneal_start([1.0, 1.0, 0.6, 0.4, 0.1]) == 2
    assert ex.anneal_start([1.0, 0.95, 0.5], level=0.9) == 1
    assert ex.anneal_start([0.3, 0.2]) == -1
    t = np.array([100, 200, 400, 800, 1600])
    slope, se = ex.fit_with_error(t, 3.0 * t ** 0.7)
    assert slope == pytest.approx(0.7, abs=1e-12) and se < 1e-10  # exact power law: float64 rounding only
    assert ex.is_resolved([0.5, 0.9, 0.70, 0.71, 0.72, 0.70])  # upper half 0.71…0.70: settled
    assert not ex.is_resolved([0.7, 0.7, 0.85, 0.96, 0.84, 0.87])  # upper half spread 0.12 > 0.05
    assert not ex.is_resolved([0.7, 0.7, 0.85, 0.93, 0.87, 0.87])  # 0.06 > 0.05: not settled either
