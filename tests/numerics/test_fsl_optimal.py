"""Optimal schedules under the FSL objective: they beat the tuned baselines, the hard phase holds η_max
(WSD-like), the easy phase peaks below η_max and decays to ~0; the hard-phase loss exponent is s."""

from __future__ import annotations

import numpy as np
import pytest

from numerics.fsl import power_law_model
from numerics.fsl_optimal import decay_exponent, fixed_shape_loss, optimal_schedule


@pytest.fixture(scope="module")
def hard_optima():
    model = power_law_model(0.3, 2.0, sigma=0.5)
    return {n: optimal_schedule(model, n, eta_max=0.3) for n in (250, 500, 1000)}


def test_optimum_beats_constant_and_linear():
    model = power_law_model(1.0, 2.0, sigma=0.5)
    result = optimal_schedule(model, 500, eta_max=0.3)
    linear, _ = fixed_shape_loss(model, 500, 1.0, eta_max=0.3)
    assert result.converged
    assert result.loss < 0.75 * result.best_constant  # measured 0.68
    assert result.loss < linear
    # easy phase: peak below the cap, the schedule decays to (almost) zero at the end
    assert result.peak < 0.3
    assert result.lr[-1] < 0.1 * result.peak  # measured 0.05 (the last step still pays bias vs K(0)·η²σ²)


def test_hard_phase_is_wsd_like(hard_optima):
    for n, result in hard_optima.items():
        assert result.peak == pytest.approx(0.3)  # η_peak ≍ 1: the cap binds
        assert np.mean(result.lr[: n // 2] > 0.99 * 0.3) > 0.95  # stable phase at η_max
        assert result.lr[-1] < 0.2 * result.peak  # then a decay at the end (measured 0.13 at N = 250)


def test_hard_phase_loss_exponent(hard_optima):
    """E* ≍ N^{-s} (derived fsl_optimal_loss_hard); s = 0.3, measured 0.294 over N = 250…2000; ±0.05."""
    ns = np.array(sorted(hard_optima))
    losses = np.array([hard_optima[n].loss for n in ns])
    fitted = -np.polyfit(np.log(ns), np.log(losses), 1)[0]
    assert fitted == pytest.approx(0.3, abs=0.05)


def test_decay_exponent_recovers_a_power():
    lr = 0.2 * (1 - np.arange(1000) / 1000) ** 3.0
    assert decay_exponent(lr) == pytest.approx(3.0, abs=0.02)


def test_bad_input():
    model = power_law_model(1.0, 2.0, sigma=0.5)
    with pytest.raises(ValueError, match="eta_max"):
        optimal_schedule(model, 100, eta_max=-1.0)
    with pytest.raises(ValueError, match="steps"):
        optimal_schedule(model, 1, eta_max=0.3)


@pytest.mark.slow
def test_fixed_shape_effective_capacity_ordering():
    """s = 1, β = 3: effective capacity min{β, κ + 1} orders the rates floor (κ = 0: s/(s+1) = 0.5) < linear
    (α = 2: 0.667) < κ = 2 (α = 3: 0.75). Measured over N = 1e3 … 6.4e4: 0.564 < 0.628 < 0.670 (pre-asymptotic,
    so only the ordering and a ±0.1 band are asserted). ≈ 45 s."""
    model = power_law_model(1.0, 3.0, sigma=0.5)
    ns = np.array([1000, 4000, 16000, 64000])
    rates = {}
    for label, kappa, floor in (("floor", 1.0, 0.1), ("linear", 1.0, 0.0), ("kappa2", 2.0, 0.0)):
        losses = [fixed_shape_loss(model, int(n), kappa, eta_max=0.3, floor=floor)[0] for n in ns]
        rates[label] = -np.polyfit(np.log(ns), np.log(losses), 1)[0]
    assert rates["floor"] < rates["linear"] < rates["kappa2"]
    assert rates["linear"] == pytest.approx(2 / 3, abs=0.1)
    assert rates["kappa2"] == pytest.approx(0.75, abs=0.1)


def test_easy_phase_peak_exponent_nu():
    """η_peak ≍ N^{−ν}, ν = (s − 1 + 1/β)/(s + 1/β) (registry ``fsl_optimal_peak_exponent``): s = 1, β = 2,
    N = 1000 … 4000 gives 0.310 vs 1/3 (±0.05). The loss rate (0.59 vs 2/3 over N = 1e3…8e3) and the
    decay exponent (1.1 → 1.7 vs 2β − 1 = 3) are still pre-asymptotic: reported, not asserted."""
    from theory.results import registry

    nu = registry().get("fsl_optimal_peak_exponent").evaluate(s=1.0, beta=2.0)
    model = power_law_model(1.0, 2.0, sigma=0.5)
    ns = np.array([1000, 2000, 4000])
    peaks = [optimal_schedule(model, int(n), eta_max=0.3).peak for n in ns]
    fitted = -np.polyfit(np.log(ns), np.log(peaks), 1)[0]
    assert fitted == pytest.approx(nu, abs=0.05)
