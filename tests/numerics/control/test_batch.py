"""Batch ramp: the per-step-batch adjoint against finite differences and the engine, the derived ramp's
normalisation, the exponent fit, and the solver's budget, floor and KKT certificate."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.stability import UnstableLearningRateError

from lrwb.numerics.control import adjoint
from lrwb.numerics.control import batch as cb
from lrwb.numerics.dynamics.expected import expected_loss
from lrwb.numerics.spectra import power_law_spectrum

BACKENDS = ["numpy"] + (["numba"] if adjoint.HAVE_NUMBA else [])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("window, tail", [(None, False), (6, True)])
def test_adjoint_matches_central_differences(backend, window, tail):
    spectrum = power_law_spectrum(3.5, 2.0, 25, tail=tail)
    rng = np.random.default_rng(0)
    lr, batch = rng.uniform(0.1, 0.9, 30), rng.uniform(1.0, 8.0, 30)
    kw = dict(sigma=0.5, window=window, backend=backend)
    result = cb.batch_loss_and_gradient(spectrum, lr, batch, **kw)

    def j(eta, b):
        return cb.batch_loss_and_gradient(spectrum, eta, b, **kw).objective

    # h = 1e-6: truncation ~h²·J''' ≈ 1e-12, rounding ~1e-16·J/h ≈ 1e-10 relative, far below the pinned 1e-6.
    h = 1e-6
    unit = np.eye(30)
    fd_lr = np.array([(j(lr + h * u, batch) - j(lr - h * u, batch)) / (2 * h) for u in unit])
    fd_b = np.array([(j(lr, batch + h * u) - j(lr, batch - h * u)) / (2 * h) for u in unit])
    assert np.max(np.abs(result.lr_gradient - fd_lr)) <= 1e-6 * np.max(np.abs(fd_lr))
    assert np.max(np.abs(result.batch_gradient - fd_b)) <= 1e-6 * np.max(np.abs(fd_b))
    # The loss is the engine's with a per-step batch.
    curve = expected_loss(spectrum, lr, sigma=0.5, batch=batch)
    assert np.allclose(result.loss, curve.loss, rtol=1e-11)


def test_constant_batch_reduces_to_the_plain_adjoint():
    spectrum = power_law_spectrum(3.5, 2.0, 40)
    lr = np.random.default_rng(1).uniform(0.1, 1.0, 50)
    plain = adjoint.loss_and_gradient(spectrum, lr, sigma=0.5, batch=5.0)
    mine = cb.batch_loss_and_gradient(spectrum, lr, 5.0, sigma=0.5)
    assert mine.objective == pytest.approx(plain.objective, rel=1e-13)
    assert np.allclose(mine.lr_gradient, plain.gradient, rtol=1e-11, atol=1e-14 * np.abs(plain.gradient).max())


def test_derived_ramp_spends_the_budget_and_respects_floor_and_cap():
    ramp = cb.derived_batch_ramp(100, 1600.0, -0.75)
    assert ramp.sum() == pytest.approx(1600.0, rel=1e-10)
    # An exact power of the remaining fraction 1 − t/T (no clipping is active here).
    ratio = ramp / (1 - np.arange(100) / 100) ** -0.75
    assert np.allclose(ratio, ratio[0], rtol=1e-12)
    capped = cb.derived_batch_ramp(100, 1600.0, -0.75, batch_min=8.0, batch_max=40.0)
    assert capped.sum() == pytest.approx(1600.0, rel=1e-10)
    assert capped.min() >= 8.0 and capped.max() == pytest.approx(40.0)
    with pytest.raises(ValueError, match="total_samples"):
        cb.derived_batch_ramp(100, 50.0, -0.75)


def test_fit_recovers_an_exact_power_of_the_midpoint_remaining_fraction():
    steps = 400
    remaining = 1 - (np.arange(steps) + 0.5) / steps
    fit = cb.fit_ramp_exponent(3.0 * remaining ** -0.6, window=(0.1, 0.9))
    assert fit.exponent == pytest.approx(-0.6, abs=1e-12) and fit.prefactor == pytest.approx(3.0, rel=1e-12)
    with pytest.raises(ValueError, match="window"):
        cb.fit_ramp_exponent(np.ones(10), window=(0.5, 0.55))


@pytest.fixture(scope="module")
def ramp():
    spectrum = power_law_spectrum(3.5, 2.0, 200)
    return spectrum, cb.optimal_batch_schedule(spectrum, 200, total_samples=64 * 200, eta_max=1.0, sigma=0.5)


def test_optimal_ramp_keeps_the_budget_beats_constant_and_is_certified(ramp):
    spectrum, result = ramp
    assert result.batch.sum() == pytest.approx(64 * 200, rel=1e-12)
    assert result.batch.min() >= 1.0 and np.all(result.lr == 1.0)
    # Same samples, same η: the ramp wins by a large factor (measured 14× at this size).
    assert result.final_loss < 0.2 * result.constant_objective
    # KKT of the budget: one multiplier on every step above the floor (softmax variables reach ~1e-4).
    assert result.kkt_residual <= 1e-3
    curve = expected_loss(spectrum, result.lr, sigma=0.5, batch=result.batch)
    assert np.allclose(result.loss, curve.loss, rtol=1e-11)
    # It is a ramp: the batch grows over the second half of training (the first steps are special: the large
    # initial loss makes the SGD noise large, so the optimum spends more samples there).
    half = result.batch[100:]
    assert np.all(np.diff(half) > 0)
    assert result.batch[-1] > 10 * result.batch[100]


def test_moving_samples_between_steps_does_not_help(ramp):
    # A direct optimality check independent of the certificate: shifting 1% of one step's batch to another
    # (budget kept) never lowers the final loss.
    spectrum, result = ramp
    base = result.final_loss
    for i, j in ((10, 150), (150, 10), (50, 199), (199, 50)):
        trial = result.batch.copy()
        delta = 0.01 * trial[i]
        trial[i] -= delta
        trial[j] += delta
        assert expected_loss(spectrum, result.lr, sigma=0.5, batch=trial).final_loss >= base * (1 - 1e-9)


def test_start_and_bad_input():
    spectrum = power_law_spectrum(3.5, 2.0, 50)
    cold = cb.optimal_batch_schedule(spectrum, 60, total_samples=600.0, sigma=0.5)
    warm = cb.optimal_batch_schedule(spectrum, 60, total_samples=600.0, sigma=0.5, start=cold.batch)
    assert warm.final_loss == pytest.approx(cold.final_loss, rel=1e-6)
    with pytest.raises(ValueError, match="total_samples"):
        cb.optimal_batch_schedule(spectrum, 60, total_samples=60.0, sigma=0.5)
    with pytest.raises(ValueError, match="batch_min"):
        cb.optimal_batch_schedule(spectrum, 60, total_samples=600.0, sigma=0.5, batch_min=0.5)
    with pytest.raises(ValueError, match="start has"):
        cb.optimal_batch_schedule(spectrum, 60, total_samples=600.0, sigma=0.5, start=np.ones(59) * 10)
    with pytest.raises(ValueError, match="batch size B = 0.5 at step 2"):
        cb.batch_loss_and_gradient(spectrum, np.full(3, 0.5), [2.0, 2.0, 0.5], sigma=0.5)
    with pytest.raises(ValueError, match="horizon"):
        cb.batch_loss_and_gradient(spectrum, 0.5, 2.0, sigma=0.5)
    # η = 3 is unstable at every batch (η·λ_1 ≥ 2): refused up front, naming the bound and the condition ...
    with pytest.raises(UnstableLearningRateError, match=r"η < 0\.612624 at B = 1: no batch makes it stable"):
        cb.optimal_batch_schedule(spectrum, 300, total_samples=600.0, sigma=0.5, eta_max=3.0)
    # ... and, allowed past that check, the divergent start is still refused with the reason.
    with pytest.raises(ValueError, match="diverges"):
        cb.optimal_batch_schedule(spectrum, 300, total_samples=600.0, sigma=0.5, eta_max=3.0, allow_unstable=True)
    # η = 1 needs B ≥ 2.2 here: the floor is raised to it (the optimum never goes below), not refused
    ramp = cb.optimal_batch_schedule(spectrum, 60, total_samples=600.0, sigma=0.5, eta_max=1.0)
    assert ramp.stability_floor == pytest.approx(cb.stable_batch_floor(spectrum.eigenvalues, 1.0))
    assert ramp.batch.min() >= ramp.stability_floor > 2.0 and ramp.warning is None
