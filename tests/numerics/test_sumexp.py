"""Sums of exponentials (lrwb.numerics.sumexp): the builders (power laws, absolute and relative; compressed mode
sums) and the O(K·Q) recursions (memory sums, the step convolution with and without feedback, G along a grid)."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.sumexp import (ExpSum, ExponentialSum, compress_modes, convolve_power_law, convolve_power_law_naive,
                             decayed_sums, exp_sum_along, exp_sum_convolution, power_law_as_exponentials,
                             power_law_exp_sum)


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


# -- relative-accuracy power laws and compressed mode sums (the FSL kernels) ---------------------------
def test_power_law_exp_sum_is_uniformly_relative():
    """(1 + u)^{-p} from its Laplace representation, uniformly relative on [0, horizon] (rtol 1e-9; 1e-8
    allows the trapezoid error's constant), on doubling nodes."""
    for p in (0.5, 1.1, 1.5, 1.875):
        terms = power_law_exp_sum(p, 1e6)
        u = np.concatenate(([0.0], np.logspace(-3, 6, 400)))
        assert np.max(np.abs(terms(u) * (1 + u) ** p - 1)) < 1e-8
        m = terms.doubling
        np.testing.assert_allclose(terms.rates[m:], 2 * terms.rates[:-m], rtol=1e-12)


def test_absolute_power_law_sum_is_an_exp_sum():
    k = power_law_as_exponentials(0.7, 1.0, None, 1e3)
    assert isinstance(k, ExpSum) and isinstance(k, ExponentialSum) and k.q == k.size == k.rates.size
    assert k.is_lump[-1] and k.rates[-1] == 0.0


def test_compression_exact_for_few_modes_and_accurate_for_many():
    lam = np.arange(1, 5001, dtype=float) ** -2.0
    full = ExpSum(2 * lam, lam**2)
    few = compress_modes(2 * lam[:5], lam[:5] ** 2, horizon=1e5)
    np.testing.assert_allclose(np.sort(few.rates), np.sort(2 * lam[:5]))  # ≤ order modes per bin: kept as is
    many = compress_modes(2 * lam, lam**2, horizon=1e5)
    u = np.concatenate(([0.0], np.logspace(-2, 5, 200)))
    assert many.size < 120
    assert np.max(np.abs(many(u) / full(u) - 1)) < 1e-8


# -- the step convolution and G along a grid ---------------------------------------------------------------
def _direct_convolution(terms, inc, w, forcing, feedback):
    """out_k = Σ_{i<k} w_i G(t_k − t_{i+1}) F_i term by term (O(K²)), F_i = forcing_i (+ out_i)."""
    t = np.concatenate(([0.0], np.cumsum(inc)))
    out = np.zeros(inc.size + 1)
    f = np.zeros(inc.size)
    for k in range(inc.size + 1):
        out[k] = np.sum(w[:k] * terms(t[k] - t[1:k + 1]) * f[:k]) if k else 0.0
        if k < inc.size:
            f[k] = forcing[k] + (out[k] if feedback else 0.0)
    return out


@pytest.mark.parametrize("feedback", [False, True])
def test_step_convolution_equals_direct_sum(feedback):
    """Doubling power-law nodes (the squaring path), constant stretches (no exp), slowly varying increments
    (the Taylor path) and jumps; batched rows equal single rows. 1e-10: kernel rtol 1e-9 times the <1 mass."""
    x, w = _grid(1500, seed=5)
    inc = np.diff(x, prepend=0.0)
    terms = power_law_exp_sum(1.4, float(x[-1]), rtol=1e-11)
    weights = 0.05 * np.abs(w)
    forcing = 1.0 + 0.5 * np.sin(np.arange(inc.size) / 50.0)
    fast = exp_sum_convolution(terms, inc, weights, forcing, feedback=feedback)[0]
    direct = _direct_convolution(terms, inc, weights, forcing, feedback)
    assert np.max(np.abs(fast[1:] / direct[1:] - 1)) < 1e-10
    rows = exp_sum_convolution(terms, np.stack([inc, inc[::-1]]), np.stack([weights, weights]),
                               np.stack([forcing, forcing]), feedback=feedback)
    np.testing.assert_allclose(rows[0], fast, rtol=1e-14)


def test_exp_sum_along_does_not_drift_over_long_slow_schedules():
    """2·10⁵ slowly varying increments (every step on the Taylor path): the exact refresh keeps the running
    product within 1e-9 of e^{−ρ t_k} (measured 2.8e-10: the product of per-step exps and the exp of the
    cumulative sum differ by ρ·(rounding of t) ~ 1e-10 at ρt ~ 10⁴); without the refresh it drifted to 2.7e-7."""
    lam = np.arange(1, 1001, dtype=float) ** -2.0
    steps = 200_000
    inc = 0.3 * 0.5 * (1 + np.cos(np.pi * np.arange(steps) / steps))
    terms = compress_modes(2 * lam, lam**-0.25 * lam, horizon=float(inc.sum()))
    along = exp_sum_along(terms, inc)[0]
    t = np.concatenate(([0.0], np.cumsum(inc)))
    direct = terms(t)
    assert np.max(np.abs(along / direct - 1)) < 1e-9


def test_recursion_inputs_are_checked():
    terms = ExpSum([1.0], [1.0])
    with pytest.raises(ValueError, match="increments"):
        exp_sum_along(terms, [0.1, -0.1])
    with pytest.raises(ValueError, match="forcing"):
        exp_sum_convolution(terms, np.ones((2, 5)), np.ones((2, 5)), np.ones((1, 5)))
    with pytest.raises(ValueError, match="rates"):
        ExpSum([1.0, 2.0], [1.0])


def test_entry_points_carry_a_docstring_example():
    """Each public factory / entry point shows its use; tests/test_doctests.py runs every example."""
    import importlib

    module = importlib.import_module("lrwb.numerics.sumexp")
    for name in ("power_law_exp_sum", "compress_modes"):
        assert ">>>" in (getattr(module, name).__doc__ or ""), name
