"""The plain-SGD discrete adjoint: gradient vs finite differences (float64 and 40-digit), the numba kernels vs
their NumPy twins, the Pontryagin step size, the per-step batch, divergence and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.control import adjoint
from lrwb.numerics.control.adjoint import SGDAdjoint, loss_and_gradient, objective_weights
from lrwb.numerics.dynamics.expected import expected_loss
from lrwb.numerics.spectra import power_law_spectrum
from lrwb.numerics.stability import stability_bound

BACKENDS = ["numpy"] + (["numba"] if adjoint.HAVE_NUMBA else [])


def _central_differences(spectrum, lr, step, **kw):
    grad = np.empty(lr.size)
    for t in range(lr.size):
        up, down = lr.copy(), lr.copy()
        up[t] += step
        down[t] -= step
        grad[t] = (loss_and_gradient(spectrum, up, **kw).objective
                   - loss_and_gradient(spectrum, down, **kw).objective) / (2 * step)
    return grad


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("window", [None, 7])
@pytest.mark.parametrize("seed", [0, 1])
def test_adjoint_gradient_matches_central_differences(backend, window, seed):
    rng = np.random.default_rng(seed)
    spectrum = power_law_spectrum(3.5, 2.0, 25, tail=bool(seed))  # seed 1: tail acts as extra noise
    lr = rng.uniform(0.05, 1.0, 30)
    kw = dict(sigma=0.5, batch=3.0, window=window, backend=backend)
    result = loss_and_gradient(spectrum, lr, **kw)
    # J is a polynomial in η of modest degree; h = 1e-5 makes the central-difference truncation error
    # O(h²·J''') ≈ 1e-10 relative and the rounding error ≈ 1e-16·J/h ≈ 1e-11, far below the 1e-6 pinned.
    fd = _central_differences(spectrum, lr, 1e-5, sigma=0.5, batch=3.0, window=window)
    assert np.max(np.abs(result.gradient - fd)) <= 1e-6 * np.max(np.abs(fd))
    # The objective is the exact dynamics' final (or window-mean) excess loss.
    curve = expected_loss(spectrum, lr, sigma=0.5, batch=3.0)
    expected = curve.loss[-(window or 1):].mean()
    assert result.objective == pytest.approx(expected, rel=1e-12)
    assert np.allclose(result.loss, curve.loss, rtol=1e-12)


def test_adjoint_gradient_matches_high_precision_differences():
    # Central differences of the 40-digit twin (lrwb.numerics.dynamics.highprec): the rates are multiples of 1/64 and
    # h = 2^-20, so η ± h is exact in float64 and the difference quotient has no float64 rounding at all;
    # its truncation error h²·J'''/6 is ~1e-12 relative. The float64 adjoint must agree to 1e-9 (its own
    # rounding over T = 15 steps of N = 12 modes is ~1e-14).
    from lrwb.numerics.dynamics.highprec import expected_loss_mp

    spectrum = power_law_spectrum(3.5, 2.0, 12)
    lr = np.random.default_rng(7).integers(4, 60, 15) / 64.0
    h = 2.0**-20
    kw = dict(sigma=0.5, batch=2)
    adjoint = loss_and_gradient(spectrum, lr, sigma=0.5, batch=2.0).gradient
    fd = np.empty(lr.size)
    for t in range(lr.size):
        up, down = lr.copy(), lr.copy()
        up[t] += h
        down[t] -= h
        hi = expected_loss_mp(spectrum, up, digits=40, keep_values=True, **kw).mp_values["loss"][-1]
        lo = expected_loss_mp(spectrum, down, digits=40, keep_values=True, **kw).mp_values["loss"][-1]
        fd[t] = float((hi - lo) / (2 * type(hi)(h)))
    assert np.max(np.abs(adjoint - fd)) <= 1e-9 * np.max(np.abs(fd))


def test_numba_and_numpy_backends_agree():
    if not adjoint.HAVE_NUMBA:
        pytest.skip("numba not installed")
    spectrum = power_law_spectrum(3.5, 2.0, 200)
    lr = np.random.default_rng(3).uniform(0.0, 1.0, 300)
    a = loss_and_gradient(spectrum, lr, sigma=0.5, batch=5.0, backend="numba")
    b = loss_and_gradient(spectrum, lr, sigma=0.5, batch=5.0, backend="numpy")
    # Same arithmetic up to reassociation of the mode sums (fastmath reassoc): a few ulps per sum.
    assert np.allclose(a.gradient, b.gradient, rtol=1e-10, atol=1e-14 * np.abs(b.gradient).max())


def test_pontryagin_step_is_the_exact_coordinate_minimiser():
    # The recursion is affine in c for fixed η and c(t+1) is quadratic in η_t, so J is exactly a parabola in
    # each η_t alone, minimised at η*_t = D_t/Q_t.
    spectrum = power_law_spectrum(3.5, 2.0, 40)
    lr = np.random.default_rng(5).uniform(0.1, 0.9, 25)
    kw = dict(sigma=0.5, batch=5.0)
    star = loss_and_gradient(spectrum, lr, **kw).pontryagin_lr
    for t in (0, 12, 24):
        def j(eta):
            trial = lr.copy()
            trial[t] = eta
            return loss_and_gradient(spectrum, trial, **kw).objective
        e = star[t]
        at_star = loss_and_gradient(spectrum, np.where(np.arange(25) == t, e, lr), **kw)
        # Stationary there (relative to the size of J's η-derivative terms, 2·D_t): rounding only.
        assert abs(at_star.gradient[t]) <= 1e-9 * abs(loss_and_gradient(spectrum, lr, **kw).gradient).max()
        assert j(e) < j(e * 1.01) and j(e) < j(e * 0.99)


def test_divergent_schedule_is_flagged_not_raised():
    spectrum = power_law_spectrum(3.5, 2.0, 50)
    bound = stability_bound(spectrum.eigenvalues, 1.0)
    result = loss_and_gradient(spectrum, np.full(400, 1.5 * bound), sigma=0.5, batch=1.0)
    assert result.diverged and result.objective == np.inf
    assert np.all(np.isfinite(result.gradient))


@pytest.mark.parametrize("call, match", [
    (lambda s: loss_and_gradient(s, [0.1, -0.2], sigma=0.5, batch=5.0), r"lr\[1\] = -0.2"),
    (lambda s: loss_and_gradient(s, [0.1, np.nan], sigma=0.5, batch=5.0), r"lr\[1\]"),
    (lambda s: loss_and_gradient(s, [0.1], sigma=-1.0, batch=5.0), "sigma"),
    (lambda s: loss_and_gradient(s, [0.1], sigma=0.5, batch=0.5), "batch"),
    (lambda s: loss_and_gradient(s, [0.1], sigma=0.5, batch=5.0, backend="gpu"), "backend"),
    (lambda s: loss_and_gradient(s, [0.1, 0.1], sigma=0.5, batch=5.0, window=3), "window"),
    (lambda s: loss_and_gradient("spectrum", [0.1], sigma=0.5, batch=5.0), "Spectrum"),
])
def test_bad_input_is_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call(power_law_spectrum(3.5, 2.0, 10))


def test_objective_weights():
    assert np.array_equal(objective_weights(3), [0, 0, 0, 1])
    assert np.allclose(objective_weights(4, 2), [0, 0, 0, 0.5, 0.5])




@pytest.mark.parametrize("backend", BACKENDS)
def test_per_step_batch_sweep_matches_the_engine_and_the_constant_batch(backend):
    # The one forward sweep takes 1/B_t per step: a constant per-step batch gives exactly the scalar-batch
    # objective (same arithmetic; the reverse sweep's compiled code reassociates the scalar and per-step cases
    # differently under fastmath, so the gradients agree to rounding, ~1e-13 relative; 1e-11 allowed), and a
    # varying batch the engine's per-step-batch loss (rounding only: 1e-11).
    spectrum = power_law_spectrum(3.5, 2.0, 30, tail=True)
    rng = np.random.default_rng(4)
    lr, batch = rng.uniform(0.1, 0.9, 20), rng.uniform(1.0, 8.0, 20)
    sweep = SGDAdjoint(spectrum, 20, sigma=0.5, batch=3.0, backend=backend)
    value, grad, diverged = sweep.evaluate(lr)
    again, grad_again, _ = sweep.evaluate(lr, inv_batch=np.full(20, 1.0 / 3.0))
    assert not diverged and again == value
    assert np.allclose(grad_again, grad, rtol=1e-11, atol=1e-14 * np.abs(grad).max())
    sweep.evaluate(lr, inv_batch=1.0 / batch)
    assert np.allclose(sweep.excess_loss, expected_loss(spectrum, lr, sigma=0.5, batch=batch).loss, rtol=1e-11)
    # Without the gradient: the same objective, no reverse sweep.
    assert sweep.evaluate(lr, gradient=False)[:2] == (value, None) and sweep.evaluations == 4


def test_inverse_batch_gradient_matches_central_differences():
    # ∂J/∂y_t from the reverse sweep vs central differences in y_t = 1/B_t; J is a polynomial in y of modest
    # degree, h = 1e-6 relative to y ~ 0.3 gives truncation ~h²·J''' ≈ 1e-12 and rounding ~1e-16·J/h ≈ 1e-10,
    # so 1e-6 relative is far above both.
    spectrum = power_law_spectrum(3.5, 2.0, 25)
    rng = np.random.default_rng(8)
    lr, y = rng.uniform(0.1, 0.9, 15), 1.0 / rng.uniform(1.0, 8.0, 15)
    sweep = SGDAdjoint(spectrum, 15, sigma=0.5, window=4)
    sweep.evaluate(lr, inv_batch=y)
    grad_y = sweep.inv_batch_gradient.copy()
    h = 1e-6
    fd = np.array([(sweep.evaluate(lr, False, y + h * u)[0] - sweep.evaluate(lr, False, y - h * u)[0]) / (2 * h)
                   for u in np.eye(15)])
    assert np.max(np.abs(grad_y - fd)) <= 1e-6 * np.max(np.abs(fd))


def test_divergent_point_counts_as_a_huge_finite_value():
    spectrum = power_law_spectrum(3.5, 2.0, 50)
    sweep = SGDAdjoint(spectrum, 400, sigma=0.5, batch=1.0)
    value, grad = sweep.scipy_fun(np.full(400, 1.5 * stability_bound(spectrum.eigenvalues, 1.0)))
    assert value == adjoint.DIVERGED_VALUE and np.array_equal(grad, np.zeros(400))


@pytest.mark.parametrize("call, match", [
    (lambda: adjoint.check_schedule([[0.1]]), "1-D"),
    (lambda: adjoint.check_eta_max(-1.0), "eta_max = -1.0"),
    (lambda: adjoint.check_eta_max("big"), "eta_max"),
    (lambda: SGDAdjoint(power_law_spectrum(3.5, 2.0, 10), 3, sigma=0.5, backend="gpu"), "backend = 'gpu'"),
    (lambda: objective_weights(0), "steps"),
    (lambda: SGDAdjoint(power_law_spectrum(3.5, 2.0, 10), 3, sigma=0.5, batch=[2.0, 0.5, 2.0]),
     "B = 0.5 at step 1"),
])
def test_checks_name_the_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()
