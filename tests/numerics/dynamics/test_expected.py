"""Exact expected SGD dynamics (lrwb.numerics.dynamics.expected): limits, brute-force checks, backends, divergence, rate."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from lrwb.numerics.dynamics.expected import (
    DIVERGENCE_FACTOR,
    HAVE_NUMBA,
    LossCurve,
    expected_loss,
    momentum_renewal_norm,
    momentum_stability_bound,
    run_stability_bound,
)
from lrwb.numerics.schedules import parse_schedule
from lrwb.numerics.spectra import custom_spectrum, power_law_spectrum, random_feature_spectrum
from lrwb.numerics.stability import DivergenceError, renewal_norm, stability_bound

# Round-off of a few float64 operations per mode-step accumulated over ≤ 10³ steps of a contracting
# recursion: ~1e-14 relative at most (measured ≤ 3e-15); "exactly" below means to this level.
ROUNDOFF = 1e-12

needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")


@pytest.fixture(scope="module")
def easy():
    return power_law_spectrum(3.5, 2.0, 200)


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


def _warmup_cosine(steps, peak=1.0):
    return parse_schedule(f"cosine:{peak},0.01+warmup={steps // 10}").values(steps)


# ---------------------------------------------------------------------------------------------- limits


def test_plain_recursion_by_hand_two_modes():
    # Two modes, two steps, every term of plrf.md §2 written out by hand (σ² enters the noise term).
    lam = np.array([1.0, 0.25])
    c0 = np.array([0.5, 2.0])
    sigma, batch, lr = 0.3, 2.0, np.array([0.4, 0.7])
    spec = custom_spectrum(lam, c0)
    c = c0.copy()
    losses = [lam @ c]
    for eta in lr:
        big_l = sigma**2 + lam @ c
        c = c * ((1 - eta * lam) ** 2 + eta**2 * lam**2 / batch) + (eta**2 / batch) * lam * big_l
        losses.append(lam @ c)
    curve = expected_loss(spec, lr, sigma=sigma, batch=batch)
    assert _rel(curve.loss, losses) < ROUNDOFF
    bias = [lam @ (c0 * np.prod((1 - lr[:t, None] * lam) ** 2, axis=0)) for t in range(3)]
    assert _rel(curve.bias, bias) < ROUNDOFF
    assert isinstance(curve, LossCurve) and curve.loss.shape == (3,) and curve.steps == 2


def test_zero_momentum_reproduces_plain_sgd(easy):
    # The momentum engine with μ ≡ 0 (forced through it by a schedule with one tiny μ at the very last
    # step, which cannot change the loss before it) must give the plain-SGD curve to round-off.
    lr = _warmup_cosine(400)
    mu = np.zeros(400)
    mu[-1] = 1e-300
    plain = expected_loss(easy, lr, batch=3)
    heavy = expected_loss(easy, lr, batch=3, momentum=mu)
    assert _rel(heavy.loss, plain.loss) < ROUNDOFF
    assert _rel(heavy.bias, plain.bias) < ROUNDOFF
    assert _rel(heavy.variance[1:], plain.variance[1:]) < ROUNDOFF


def test_infinite_batch_is_gradient_descent(easy):
    lr = _warmup_cosine(300)
    gd = easy.target * np.cumprod(np.vstack([np.ones(easy.features), (1 - lr[:, None] * easy.eigenvalues) ** 2]), axis=0)
    gd_loss = gd @ easy.eigenvalues
    exact = expected_loss(easy, lr, sigma=0.5, batch=np.inf)
    assert _rel(exact.loss, gd_loss) < ROUNDOFF
    # B = 1e12: SGD noise only adds loss, at most (η²/B)(σ² + L_t) Σλ_k² per step (a contracting
    # propagation afterwards), so 0 ≤ L_SGD − L_GD ≤ T η_max² (σ² + L_0) Σλ²/B (+ round-off).
    batch = 1e12
    large = expected_loss(easy, lr, sigma=0.5, batch=batch)
    excess = large.loss - gd_loss
    envelope = lr.size * lr.max() ** 2 * (0.25 + gd_loss[0]) * np.sum(easy.eigenvalues**2) / batch
    assert np.all(excess >= -ROUNDOFF * gd_loss) and np.all(excess <= envelope + ROUNDOFF * gd_loss)


def test_noiseless_infinite_batch_is_pure_bias(easy):
    curve = expected_loss(easy, _warmup_cosine(300), sigma=0.0, batch=np.inf, momentum=0.3)
    assert np.all(curve.variance == 0.0)
    assert np.array_equal(curve.loss, curve.bias)
    plain = expected_loss(easy, _warmup_cosine(300), sigma=0.0, batch=np.inf)
    assert np.all(plain.variance == 0.0) and np.array_equal(plain.loss, plain.bias)


def test_parts_add_up_and_tail_is_included():
    spec = power_law_spectrum(2.0, 1.5, 100, tail=True)
    curve = expected_loss(spec, np.full(200, 0.3), sigma=0.2, batch=4)
    assert curve.tail == spec.tail > 0
    assert _rel(curve.loss, curve.bias + curve.variance + curve.tail) < ROUNDOFF
    assert curve.loss[0] == pytest.approx(spec.initial_loss(), rel=1e-14)
    assert curve.variance[0] == 0.0 and np.all(curve.variance[1:] > 0)
    loss_only = expected_loss(spec, np.full(200, 0.3), sigma=0.2, batch=4, parts=False)
    assert loss_only.bias is None and loss_only.variance is None
    assert _rel(loss_only.loss, curve.loss) < ROUNDOFF


def test_tail_acts_as_label_noise():
    # δ_N enters the noise exactly like σ²: (σ², δ) and (σ² + δ, 0) give the same excess loss − δ.
    spec = power_law_spectrum(2.0, 1.5, 80, tail=True)
    no_tail = custom_spectrum(spec.eigenvalues, spec.target)
    lr = np.full(150, 0.4)
    with_tail = expected_loss(spec, lr, sigma=0.3, batch=2)
    moved = expected_loss(no_tail, lr, sigma=np.sqrt(0.09 + spec.tail), batch=2)
    assert _rel(with_tail.loss - spec.tail, moved.loss) < ROUNDOFF


# ------------------------------------------------------------------------------ brute-force propagation


def _brute_force(hessian, e0, lr, batch, momentum, sigma):
    """Full 2d×2d second-moment propagation of z = (e, v) in a dense (non-eigen) basis.

    v' = μv + g, e' = e − ηv', g = He + ξ with E[ξξᵀ | e] = (1/B)(H e eᵀ H + (eᵀHe + σ²) H) (Gaussian
    fourth moments). No diagonal closure is assumed: every cross-mode moment is kept.
    """
    d = e0.size
    mean = np.concatenate([e0, np.zeros(d)])
    second = np.outer(mean, mean)
    eye = np.eye(d)
    losses, biases = [np.trace(hessian @ second[:d, :d])], [e0 @ hessian @ e0]
    for eta, b, mu in zip(lr, batch, momentum):
        step = np.block([[eye - eta * hessian, -eta * mu * eye], [hessian, mu * eye]])
        see = second[:d, :d]
        xi = (hessian @ see @ hessian + (np.trace(hessian @ see) + sigma**2) * hessian) / b
        noise = np.kron(np.array([[eta**2, -eta], [-eta, 1.0]]), xi)
        second = step @ second @ step.T + noise
        mean = step @ mean
        losses.append(np.trace(hessian @ second[:d, :d]))
        biases.append(mean[:d] @ hessian @ mean[:d])
    return np.array(losses), np.array(biases)


@pytest.mark.parametrize("with_momentum", [False, True])
def test_against_brute_force_covariance_in_a_rotated_basis(with_momentum):
    rng = np.random.default_rng(7)
    d, steps = 6, 60
    lam = np.arange(1, d + 1, dtype=float) ** -1.5
    w_star = rng.standard_normal(d)
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    hessian = basis @ np.diag(lam) @ basis.T
    lr = rng.uniform(0.2, 0.9, steps)
    batch = rng.integers(1, 6, steps).astype(float)
    momentum = rng.uniform(0.0, 0.8, steps) if with_momentum else np.zeros(steps)
    sigma = 0.4
    # Zero init: e(0) = −w* in the eigenbasis, −U w* in the rotated one.
    losses, biases = _brute_force(hessian, -basis @ w_star, lr, batch, momentum, sigma)
    # η up to 0.9 at B = 1 is above the stability bound: allowed, this checks the arithmetic, not stability.
    curve = expected_loss(custom_spectrum(lam, w_star**2), lr, sigma=sigma, batch=batch, momentum=momentum,
                          allow_unstable=True)
    # Dense 12×12 products vs the O(d) closure: agreement to round-off of the matrix products.
    assert _rel(curve.loss, losses) < 1e-11
    assert _rel(curve.bias, biases) < 1e-11


def test_momentum_bound_is_where_the_full_recursion_matrix_reaches_radius_one():
    # Build the 3N×3N linear map of (C, R, V) at constant (η, μ, B), shared noise term included, and check
    # its spectral radius crosses 1 at momentum_stability_bound (independent of the closed-form ‖K‖₁).
    lam = power_law_spectrum(3.5, 2.0, 30).eigenvalues
    n = lam.size

    def radius(eta, mu, batch):
        mat = np.zeros((3 * n, 3 * n))
        C, R, V = 0, n, 2 * n
        for k, l in enumerate(lam):
            # G_k = ((B+1)/B) λ² C_k + (λ/B) Σ_j λ_j C_j
            g_row = np.zeros(3 * n)
            g_row[C + k] += (batch + 1) / batch * l**2
            g_row[C:C + n] += l / batch * lam
            v_row = g_row.copy()
            v_row[V + k] += mu**2
            v_row[R + k] += 2 * mu * l
            r_row = -eta * v_row
            r_row[R + k] += mu
            r_row[C + k] += l
            c_row = eta**2 * v_row
            c_row[C + k] += 1 - 2 * eta * l
            c_row[R + k] += -2 * eta * mu
            mat[V + k], mat[R + k], mat[C + k] = v_row, r_row, c_row
        return np.max(np.abs(np.linalg.eigvals(mat)))

    for mu, batch in [(0.0, 2.0), (0.5, 1.0), (0.8, 4.0), (0.3, np.inf)]:
        bound = momentum_stability_bound(lam, batch, mu)
        b = 1e300 if np.isinf(batch) else batch
        assert radius(bound * (1 - 1e-6), mu, b) < 1 < radius(bound * (1 + 1e-6), mu, b), (mu, batch)


def test_momentum_norm_reduces_to_the_sgd_renewal_norm():
    lam = power_law_spectrum(3.5, 2.0, 1000).eigenvalues
    eta = np.linspace(0.05, 2.0, 40)  # past the per-mode limit 2B/(B+1) for both batches: inf entries too
    for batch in (1.0, 5.0):
        ours, sgd = momentum_renewal_norm(eta, lam, batch, 0.0), renewal_norm(eta, lam, batch)
        finite = np.isfinite(sgd)
        assert np.array_equal(np.isfinite(ours), finite) and 0 < finite.sum() < eta.size
        assert _rel(ours[finite], sgd[finite]) < 1e-13
        assert momentum_stability_bound(lam, batch, 0.0) == pytest.approx(stability_bound(lam, batch), rel=1e-11)
    assert momentum_stability_bound(lam, np.inf, 0.4) == pytest.approx(2 * 1.4 / lam[0], rel=1e-11)


def test_run_bound_uses_the_smallest_batch_and_every_momentum():
    lam = power_law_spectrum(3.5, 2.0, 1000).eigenvalues
    batch = np.array([8.0, 1.0, 5.0])
    assert run_stability_bound(lam, batch, np.zeros(3)) == stability_bound(lam, 1.0)
    mu = np.array([0.0, 0.5, 0.5])
    expected = min(momentum_stability_bound(lam, 8.0, 0.0), momentum_stability_bound(lam, 1.0, 0.5))
    assert run_stability_bound(lam, batch, mu) == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------------------------- backends


@needs_numba
@pytest.mark.parametrize("case", ["plain", "loss_only", "momentum", "varying", "random_features"])
def test_numba_and_numpy_paths_agree(case):
    rng = np.random.default_rng(3)
    steps = 300
    spec = power_law_spectrum(3.5, 2.0, 150)
    lr = np.stack([_warmup_cosine(steps, 1.0), np.full(steps, 0.4), rng.uniform(0, 1.2, steps)])
    kwargs = dict(sigma=0.5, batch=5)
    if case == "loss_only":
        kwargs["parts"] = False
    elif case == "momentum":
        kwargs["momentum"] = 0.6
        lr = lr * 0.4
    elif case == "varying":
        kwargs["batch"] = rng.integers(1, 9, steps).astype(float)
        kwargs["momentum"] = rng.uniform(0, 0.5, (3, steps))
        lr = lr * 0.3
    elif case == "random_features":
        spec = random_feature_spectrum(2.0, 1.5, 60, 400, seed=1)
    fast = expected_loss(spec, lr, backend="numba", **kwargs)
    slow = expected_loss(spec, lr, backend="numpy", **kwargs)
    assert _rel(fast.loss, slow.loss) < ROUNDOFF
    if fast.bias is not None:
        assert _rel(fast.bias, slow.bias) < ROUNDOFF
        assert _rel(fast.variance[:, 1:], slow.variance[:, 1:]) < ROUNDOFF


@needs_numba
@pytest.mark.parametrize("momentum", [0.0, 0.4])
def test_mode_history_backends_and_sums(momentum):
    spec = power_law_spectrum(3.5, 2.0, 40, tail=True)
    lr = np.full(80, 0.3)
    curves = [expected_loss(spec, lr, momentum=momentum, record_modes=True, backend=b) for b in ("numba", "numpy")]
    for curve in curves:
        modes = curve.modes
        assert modes.second_moment.shape == (81, 40)
        assert _rel(modes.second_moment @ spec.eigenvalues + spec.tail, curve.loss) < ROUNDOFF
        assert _rel(modes.squared_mean[1:] @ spec.eigenvalues, curve.bias[1:]) < ROUNDOFF
        assert (modes.cross_moment is None) == (momentum == 0.0)
        assert np.all(modes.second_moment >= modes.squared_mean * (1 - 1e-12))  # C ≥ (E e)²
    for field in ("second_moment", "squared_mean", "cross_moment", "velocity_moment"):
        a, b = getattr(curves[0].modes, field), getattr(curves[1].modes, field)
        if a is not None:
            assert _rel(a[1:], b[1:]) < ROUNDOFF


def test_batch_of_schedules_equals_single_runs(easy):
    lr = np.stack([np.full(100, 0.5), _warmup_cosine(100)])
    batch = expected_loss(easy, lr)
    assert batch.loss.shape == (2, 101) and batch.diverged.shape == (2,)
    for s in range(2):
        single = expected_loss(easy, lr[s])
        assert _rel(batch.loss[s], single.loss) < ROUNDOFF


def test_schedule_objects_and_specs_are_accepted(easy):
    sched = parse_schedule("wsd:0.8,0.2,0.01")
    by_array = expected_loss(easy, sched.values(200))
    assert np.array_equal(expected_loss(easy, sched, steps=200).loss, by_array.loss)
    assert np.array_equal(expected_loss(easy, "wsd:0.8,0.2,0.01", steps=200).loss, by_array.loss)
    both = expected_loss(easy, [sched, "constant:0.3"], steps=200)
    assert both.loss.shape == (2, 201) and np.array_equal(both.loss[0], by_array.loss)
    with pytest.raises(ValueError, match="steps"):
        expected_loss(easy, sched)


def test_memory_does_not_grow_with_steps_times_modes():
    # Without record_modes the engine keeps O(N) state per schedule: the traced peak is the (T+1)-long
    # outputs plus small work arrays, far below one float64 per mode-step (8·N·T bytes).
    spec = power_law_spectrum(3.5, 2.0, 1000)
    steps = 20_000
    lr = np.full(steps, 0.3)
    expected_loss(spec, lr[:10])  # compile / warm caches outside the measurement
    tracemalloc.start()
    expected_loss(spec, lr)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.01 * 8 * spec.features * steps


# ------------------------------------------------------------------------------------------ divergence


def test_above_the_bound_raises_with_step_and_bound():
    spec = power_law_spectrum(3.5, 2.0, 1000)
    bound = stability_bound(spec.eigenvalues, 1.0)
    assert bound == pytest.approx(0.611, abs=6e-4)  # conventions.md example
    with pytest.raises(DivergenceError) as info:  # the blow-up itself (the up-front check is allowed past)
        expected_loss(spec, np.full(3000, 0.7), batch=1, allow_unstable=True)
    err = info.value
    assert err.bound == pytest.approx(bound, rel=1e-9)
    assert 0 < err.step <= 3000
    assert f"step {err.step}" in str(err) and "0.611" in str(err)
    # The flagged run reports the same step: finite before it, +inf from it on, never NaN.
    flagged = expected_loss(spec, np.full(3000, 0.7), batch=1, on_divergence="flag")
    assert flagged.diverged and flagged.diverged_step == err.step
    assert np.all(np.isfinite(flagged.loss[: err.step])) and np.all(flagged.loss[err.step:] == np.inf)
    assert not np.any(np.isnan(flagged.loss))
    assert flagged.loss[err.step - 1] <= DIVERGENCE_FACTOR * (spec.initial_loss() + 0.25)


def _stationary_excess(spec, eta, batch, mu, sigma=0.5):
    """Fixed point of the constant-η recursion: Σλc = σ² ‖K‖₁ / (1 − ‖K‖₁) (renewal equation)."""
    norm = momentum_renewal_norm(eta, spec.eigenvalues, batch, mu)
    return sigma**2 * norm / (1 - norm)


@pytest.mark.parametrize("mu, batch", [(0.0, 1.0), (0.5, 1.0), (0.8, 4.0)])
def test_just_below_the_bound_settles_at_the_renewal_level(mu, batch):
    # At 0.97 × the bound the loss stays bounded and climbs to the stationary level σ²‖K‖/(1 − ‖K‖)
    # (≈ 3.6–4.6 here, ‖K‖ ≈ 0.94): the noise-driven part rises monotonically to it from below (a positive
    # linear system started at 0) and the initial-condition part has decayed by T = 2·10⁴, except in the
    # slowest modes (λ_N = 10⁻⁶), which keep it 1–4 % short (measured: 0.968–0.988 of the level).
    spec = power_law_spectrum(3.5, 2.0, 1000)
    eta = 0.97 * momentum_stability_bound(spec.eigenvalues, batch, mu)
    curve = expected_loss(spec, np.full(20_000, eta), batch=batch, momentum=mu)
    assert not curve.diverged and curve.diverged_step is None
    level = _stationary_excess(spec, eta, batch, mu)
    assert 0.95 * level < curve.loss[-1] < 1.01 * level
    assert np.all(np.isfinite(curve.loss)) and curve.loss.max() < 1.01 * level


@pytest.mark.parametrize("mu, batch", [(0.0, 1.0), (0.5, 1.0), (0.8, 4.0)])
def test_just_above_the_bound_diverges(mu, batch):
    spec = power_law_spectrum(3.5, 2.0, 1000)
    bound = momentum_stability_bound(spec.eigenvalues, batch, mu)
    with pytest.raises(DivergenceError) as info:  # past the up-front check: the dynamics themselves blow up
        expected_loss(spec, np.full(20_000, 1.1 * bound), batch=batch, momentum=mu, allow_unstable=True)
    assert info.value.bound == pytest.approx(bound, rel=1e-9)
    assert info.value.step > 0 and f"step {info.value.step}" in str(info.value)
    if mu:
        assert f"μ = {mu:g}" in str(info.value)


def test_batch_flags_per_schedule():
    spec = power_law_spectrum(3.5, 2.0, 1000)
    lr = np.stack([np.full(2000, 0.3), np.full(2000, 0.8), np.full(2000, 0.5)])
    curve = expected_loss(spec, lr, batch=1, on_divergence="flag")
    assert curve.diverged.tolist() == [False, True, False]
    assert curve.diverged_step[0] == -1 and curve.diverged_step[1] > 0
    assert np.all(np.isinf(curve.loss[1, curve.diverged_step[1]:]))
    assert np.all(np.isinf(curve.bias[1, curve.diverged_step[1]:]))
    assert not np.isnan(curve.loss).any() and np.all(np.isfinite(curve.loss[[0, 2]]))
    assert _rel(curve.loss[2], expected_loss(spec, lr[2], batch=1).loss) < ROUNDOFF
    with pytest.raises(DivergenceError, match="schedule 1"):
        expected_loss(spec, lr, batch=1)


def test_huge_learning_rate_is_caught_without_nan_or_warnings(easy):
    # η = 1e200 overflows in one step; the engines must flag it (the suite turns RuntimeWarnings into errors).
    for backend in ("numpy", "numba") if HAVE_NUMBA else ("numpy",):
        curve = expected_loss(easy, np.full((1, 5), 1e200), on_divergence="flag", backend=backend)
        assert curve.diverged_step[0] == 1 and np.all(curve.loss[0, 1:] == np.inf)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=np.array([0.1, -0.2, 0.1])), "negative"),
        (dict(lr=np.array([0.1, np.nan, 0.1])), "not finite"),
        (dict(lr=np.array([0.1, np.inf, 0.1])), "not finite"),
        (dict(batch=0.5), r"B = 0.5 at step 0.*>= 1"),
        (dict(batch=np.array([2.0, 0.0, 3.0])), r"B = 0.0 at step 1"),
        (dict(momentum=1.0), r"μ = 1.0 at step 0.*\[0, 1\)"),
        (dict(momentum=-0.1), r"μ = -0.1"),
        (dict(momentum=np.array([0.1, 0.2])), "shape"),
        (dict(sigma=-1.0), "sigma"),
        (dict(on_divergence="ignore"), "on_divergence"),
        (dict(backend="cuda"), "backend"),
        (dict(lr=np.ones((2, 2, 2))), "shape"),
    ],
)
def test_bad_input_is_a_clear_value_error(easy, kwargs, message):
    args = dict(lr=np.full(3, 0.1))
    args.update(kwargs)
    lr = args.pop("lr")
    with pytest.raises(ValueError, match=message):
        expected_loss(easy, lr, **args)


# ------------------------------------------------------------------------------------ scaling exponent


@pytest.mark.parametrize("b", [2.0, 5.0])
def test_best_constant_lr_loss_exponent(b):
    # Best constant η per horizon (bounded scalar search in log η below η_max = 1 < the stability bound
    # 1.406 at B = 5), then a least-squares slope of log L_T vs log T over T = 100…1600.
    # Theory value written out here; theory/ will own it (the lead switches this to the registry).
    a = 3.5
    xi_const = (a - 1) / (a + b - 1)
    spec = power_law_spectrum(a, b, 1000)
    assert stability_bound(spec.eigenvalues, 5.0) > 1.0
    horizons = np.array([100, 200, 400, 800, 1600])
    best = []
    for steps in horizons:
        def log_final(log_eta, steps=steps):
            curve = expected_loss(spec, np.full(steps, np.exp(log_eta)), sigma=0.5, batch=5, parts=False)
            return np.log(curve.final_loss)

        result = minimize_scalar(log_final, bounds=(np.log(1e-3), 0.0), method="bounded", options={"xatol": 1e-4})
        best.append(np.exp(result.fun))
    slope = -np.polyfit(np.log(horizons), np.log(best), 1)[0]
    assert slope == pytest.approx(xi_const, abs=0.05)  # conventions.md: ±0.05 at CI horizons


def test_numpy_fallback_when_numba_is_missing(easy, monkeypatch):
    import lrwb.numerics.dynamics.expected as dynamics

    lr = _warmup_cosine(200)
    reference = expected_loss(easy, lr, backend="numpy")
    monkeypatch.setattr(dynamics, "HAVE_NUMBA", False)
    fallback = dynamics.expected_loss(easy, lr)  # "auto" must pick NumPy
    assert np.array_equal(fallback.loss, reference.loss)
    with pytest.raises(ValueError, match="numba"):
        dynamics.expected_loss(easy, lr, backend="numba")


def test_engine_table_and_doctest():
    import doctest

    import lrwb.numerics.dynamics.expected as dynamics

    result = doctest.testmod(dynamics)
    assert result.attempted > 0 and result.failed == 0
    # every float64 backend name (but "auto") is an engine; "highprec" is reached through expected_loss_mp
    assert set(dynamics.BACKENDS) - {"auto"} | {"highprec"} == set(dynamics.ENGINES)
    assert all(cls.name == name for name, cls in dynamics.ENGINES.items())
