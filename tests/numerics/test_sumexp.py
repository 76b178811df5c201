"""Sum-of-exponentials power laws and the O(K·Q) recursive convolution (numerics.sumexp)."""

from __future__ import annotations

import numpy as np
import pytest

from numerics.sumexp import (convolve_power_law, convolve_power_law_naive, decayed_sums,
                             power_law_as_exponentials)


@pytest.mark.parametrize("exponent", [0.05, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("scale_x_max", [1e-2, 1.0, 1e5])
def test_exponential_sum_meets_its_tolerance(exponent, scale_x_max):
    # checked independently of the stored self-estimate, at random points of [0, x_max]
    tol = 1e-9
    k = power_law_as_exponentials(exponent, 2.0, None, scale_x_max / 2.0, tol=tol)
    x = np.concatenate([[0.0], np.random.default_rng(1).uniform(0, scale_x_max / 2.0, 500)])
    err = np.abs(k(x) - (1 + 2.0 * x) ** (-exponent))
    # absolute error ≤ tol (the construction's budget: quadrature e^{−π²/h} and the lumped tail, each ≲ tol)
    assert err.max() <= tol
    assert k.max_abs_error <= tol


def test_fixed_q_trades_accuracy_for_size():
    coarse = power_law_as_exponentials(0.7, 1.0, 20, 1e3)
    fine = power_law_as_exponentials(0.7, 1.0, 80, 1e3)
    assert coarse.q == 20 and fine.q == 80
    assert fine.max_abs_error < coarse.max_abs_error


def _grid(k, seed=0):
    # monotone intrinsic-time grid with constant stretches (exact-exp branch) and slowly varying
    # increments (Taylor branch of the recursion) and a few jumps
    t = np.arange(k)
    inc = np.where(t < k // 3, 0.01, 0.005 + 0.005 * np.cos(np.pi * t / k))
    inc[k // 2] = 0.3
    return np.cumsum(inc), np.random.default_rng(seed).standard_normal(k)


@pytest.mark.parametrize("exponent, scale", [(0.3, 5.0), (1.2, 0.5), (2.0, 50.0)])
def test_fast_convolution_equals_naive_sum(exponent, scale):
    x, w = _grid(3000)
    out = np.arange(0, 3000, 7)
    fast = convolve_power_law(x, w, exponent, scale, out_index=out)
    naive = convolve_power_law_naive(x, w, exponent, scale, out_index=out)
    # kernel error ≤ 1e−10 per term, Σ|w| ≈ 2400 → ≤ 2.4e−7 worst case; require 1e−8 relative to Σ|w|
    assert np.max(np.abs(fast - naive)) <= 1e-8 * np.abs(w).sum()
    assert np.max(np.abs(fast - naive)) <= 1e-8 * max(1.0, np.abs(naive).max())


def test_lagged_sums_match_direct_definition():
    x, w = _grid(400, seed=3)
    inc = np.diff(x, prepend=0.0)
    rates = np.array([0.0, 0.3, 4.0, 40.0])
    h = decayed_sums(inc, rates, w, lagged=True)
    x_prev = np.concatenate([[0.0], x[:-1]])
    direct = np.array([[np.sum(w[: k + 1] * np.exp(-r * (x[k] - x_prev[: k + 1]))) for r in rates]
                       for k in range(400)])
    np.testing.assert_allclose(h, direct, rtol=1e-12, atol=1e-12)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="non-decreasing"):
        convolve_power_law([0.0, 1.0, 0.5], [1, 1, 1], 0.5, 1.0)
    with pytest.raises(ValueError, match="exponent"):
        power_law_as_exponentials(0.0, 1.0, None, 10.0)
    with pytest.raises(ValueError, match="scale"):
        power_law_as_exponentials(1.0, -1.0, None, 10.0)
    with pytest.raises(ValueError, match="increments"):
        decayed_sums(np.array([0.1, -0.1]), np.ones(2), np.ones(2))
