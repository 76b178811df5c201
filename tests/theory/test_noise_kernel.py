"""The FSL-N annealing kernel registered by theory (fsl_noise_by_parts_kernel) against direct quadrature."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from lrwb.theory.results import get


@pytest.mark.parametrize("gamma, lam0", [(0.5, 1.0), (0.8, 3.0), (1.7, 0.2)])
def test_kernel_slope_is_the_variance_kernel_by_quadrature(gamma, lam0):
    # κ = 1 − G/G(∞) with G' = K, K(τ) = ∫ λ² ρ(λ) e^{−2λτ} dλ, ρ = λ^{γ−2} e^{−λ/λ0}: so κ'(τ)/κ'(0) = K(τ)/K(0)
    # (no G(∞) needed), K by adaptive quadrature, κ' by central differences of the registered formula
    def K(t):
        return quad(lambda lam: lam**gamma * np.exp(-lam / lam0 - 2 * lam * t), 0, np.inf, limit=200,
                    epsabs=0, epsrel=1e-12)[0]

    f = get("fsl_noise_by_parts_kernel").numpy()

    def slope(t, h):
        return (f(tau=t + h, lambda_0=lam0, gamma=gamma) - f(tau=t - h, lambda_0=lam0, gamma=gamma)) / (2 * h)

    assert f(tau=0.0, lambda_0=lam0, gamma=gamma) == pytest.approx(1.0, abs=1e-15)  # κ(0) = 1 by definition
    assert f(tau=1e12, lambda_0=lam0, gamma=gamma) < 1e-4  # κ(∞) = 0: the whole drop is annealed eventually
    s0 = slope(1e-4, 1e-7)  # both ratios are taken against τ = 1e-4
    for tau in (0.05, 0.3, 2.0, 20.0):
        ratio_formula = slope(tau, 1e-6 * tau) / s0
        ratio_quadrature = K(tau) / K(1e-4)
        # central differences ~1e-9 relative, quadrature ~1e-12: 1e-5 leaves room and would catch a wrong exponent
        assert ratio_formula == pytest.approx(ratio_quadrature, rel=1e-5)
