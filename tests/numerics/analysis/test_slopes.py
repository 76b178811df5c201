"""The one log-log slope of the package (lrwb.numerics.analysis.slopes): least squares, masks, log powers,
local slopes, and bit-identity with the np.polyfit calls it replaced."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest

from lrwb.numerics.analysis import slopes
from lrwb.numerics.analysis.slopes import local_slopes, log_slope, loglog_slope


def test_doctests_run():
    assert doctest.testmod(slopes).failed == 0


def test_loglog_slope_is_the_polyfit_it_replaced_bit_for_bit():
    rng = np.random.default_rng(0)
    x = np.logspace(1, 4, 17)
    y = 3.0 * x**-0.61 * np.exp(0.05 * rng.standard_normal(x.size))
    sel = (x > 50) & (x < 5000)
    assert loglog_slope(x, y) == float(np.polyfit(np.log(x), np.log(y), 1)[0])
    assert loglog_slope(x, y, mask=sel) == float(np.polyfit(np.log(x[sel]), np.log(y[sel]), 1)[0])
    # the Table-1 / hyper-parameter form: a derived log power l divided out
    expected = float(np.polyfit(np.log(x), np.log(y) - 0.4 * np.log(np.log(x)), 1)[0])
    assert loglog_slope(x, y, log_power=0.4) == expected
    assert log_slope(x, np.log(y), log_power=0.4) == expected


def test_mask_is_applied_before_the_log():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = np.array([8.0, 4.0, 0.0, -1.0])  # the excluded points have no log
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loglog_slope(x, y, mask=y > 0) == pytest.approx(-1.0, abs=1e-12)


def test_local_slopes_both_signs_and_midpoints():
    x = np.array([1.0, 4.0, 16.0])
    y = x**1.5
    mid, rate = local_slopes(x, y)
    np.testing.assert_allclose(mid, [2.0, 8.0], rtol=1e-14)
    np.testing.assert_allclose(rate, [-1.5, -1.5], rtol=1e-14)
    _, up = local_slopes(x, y, sign=1.0)
    np.testing.assert_allclose(up, [1.5, 1.5], rtol=1e-14)


@pytest.mark.parametrize("x, y, match", [
    ([1.0, 2.0], [1.0], "matching 1-d ladders"),
    ([1.0, 2.0, 3.0], [1.0, 0.0, 1.0], "finite and > 0"),
    ([2.0, 1.0, 3.0], [1.0, 2.0, 3.0], "strictly increasing"),
])
def test_local_slopes_rejects_bad_ladders(x, y, match):
    with pytest.raises(ValueError, match=match):
        local_slopes(x, y)
