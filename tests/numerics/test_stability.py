import numpy as np
import pytest

from lrwb.numerics.spectra import power_law_spectrum
from lrwb.numerics.stability import is_stable, renewal_norm, stability_bound


@pytest.mark.parametrize("batch, b, expected", [(1, 2.0, 0.611), (5, 2.0, 1.406), (1, 1.2, 0.389)])
def test_bound_matches_conventions_examples(batch, b, expected):
    # conventions.md quotes these to 3 decimals (N = 1000).
    lam = power_law_spectrum(3.5, b, 1000).eigenvalues
    assert stability_bound(lam, batch) == pytest.approx(expected, abs=6e-4)


def test_bound_is_below_the_naive_per_mode_bound():
    lam = power_law_spectrum(3.5, 2.0, 1000).eigenvalues
    naive = 2 * 5 / (6 * lam[0])  # g_1 < 1 only: 5/3 for B = 5
    assert stability_bound(lam, 5) < naive


def test_bound_agrees_with_spectral_radius_of_the_recursion():
    # The constant-η second-moment recursion matrix diag(g) + (η²/B) λλᵀ: spectral radius crosses 1 at the bound.
    lam = power_law_spectrum(3.5, 2.0, 60).eigenvalues
    batch = 2.0
    bound = stability_bound(lam, batch)

    def radius(eta):
        g = (1 - eta * lam) ** 2 + eta**2 * lam**2 / batch
        mat = np.diag(g) + (eta**2 / batch) * np.outer(lam, lam)
        return np.max(np.abs(np.linalg.eigvals(mat)))

    assert radius(bound * (1 - 1e-6)) < 1 < radius(bound * (1 + 1e-6))


def test_renewal_norm_vectorised_and_infinite_past_mode_bound():
    lam = np.array([1.0, 0.5])
    out = renewal_norm(np.array([0.1, 10.0]), lam, 1.0)
    assert np.isfinite(out[0]) and np.isinf(out[1])
    assert list(is_stable(np.array([0.1, 10.0]), lam, 1.0)) == [True, False]


def test_batch_below_one_rejected():
    with pytest.raises(ValueError, match=r"B = 0.5 is outside its range: B must be >= 1"):
        stability_bound([1.0], 0.5)


def test_infinite_batch_is_gradient_descent_bound():
    lam = power_law_spectrum(3.5, 2.0, 100).eigenvalues
    assert stability_bound(lam, float("inf")) == pytest.approx(2.0 / lam[0], rel=1e-10)


# ------------------------------------------------------------------ heavy-ball bound (derivation checks)

import sympy as sp  # noqa: E402

from lrwb.numerics.dynamics.expected import expected_loss  # noqa: E402
from lrwb.numerics.stability import (  # noqa: E402
    UnstableLearningRateError,
    check_learning_rates,
    find_violation,
    momentum_renewal_norm,
    momentum_stability_bound,
    stable_eta_max,
)


def test_noise_response_solves_the_lyapunov_equation_symbolically():
    # r = [P]₁₁ with P = M P Mᵀ + n nᵀ, M the heavy-ball mean map on (e, v), n = (−η, 1): the closed form
    # used by momentum_renewal_norm (a_k = λ_k² r_k / B), derived here from the 2×2 map, not typed in.
    eta, lam, mu, batch = sp.symbols("eta lambda mu B", positive=True)
    mean_map = sp.Matrix([[1 - eta * lam, -eta * mu], [lam, mu]])
    noise_dir = sp.Matrix([-eta, 1])
    p11, p12, p22 = sp.symbols("p11 p12 p22")
    cov = sp.Matrix([[p11, p12], [p12, p22]])
    eqs = cov - mean_map * cov * mean_map.T - noise_dir * noise_dir.T
    sol = sp.solve([eqs[0, 0], eqs[0, 1], eqs[1, 1]], [p11, p12, p22], dict=True)[0]
    gain = sp.simplify(lam**2 * sol[p11] / batch)
    closed = eta * lam * (1 + mu) / (batch * (1 - mu) * (2 * (1 + mu) - eta * lam))
    assert sp.simplify(gain - closed) == 0
    # and at μ = 0, a/(1 − a) is the SGD renewal term (η/B)λ/(2 − ((B+1)/B)ηλ) of conventions.md
    a0 = closed.subs(mu, 0)
    assert sp.simplify(a0 / (1 - a0) - (eta / batch) * lam / (2 - (batch + 1) / batch * eta * lam)) == 0
    # numerically, the engine's norm is Σ a/(1 − a) with this a
    lam_num = power_law_spectrum(3.5, 2.0, 50).eigenvalues
    gain_fn = sp.lambdify((eta, lam, mu, batch), closed)
    a = gain_fn(0.3, lam_num, 0.6, 2.0)
    assert momentum_renewal_norm(0.3, lam_num, 2.0, 0.6) == pytest.approx(np.sum(a / (1 - a)), rel=1e-13)  # round-off


@pytest.mark.parametrize("mu, batch", [(0.0, 1.0), (0.5, 1.0), (0.9, 5.0)])
def test_momentum_bound_both_sides_in_the_exact_dynamics(mu, batch):
    # Just below the bound (0.99 η_c) the loss settles; just above (1.02 η_c) it grows geometrically. N = 100
    # keeps the slowest mode's relaxation (~1/(ηλ_N) ≈ 10⁴ steps at μ = 0) inside T = 4·10⁴.
    spec = power_law_spectrum(3.5, 2.0, 100)
    bound = momentum_stability_bound(spec.eigenvalues, batch, mu)
    steps = 40_000
    below = expected_loss(spec, np.full(steps, 0.99 * bound), batch=batch, momentum=mu, parts=False)
    # Stationary level σ²‖K‖/(1 − ‖K‖): the last quarter stays within 2 % of it (slow modes still relaxing).
    norm = momentum_renewal_norm(0.99 * bound, spec.eigenvalues, batch, mu)
    level = 0.25 * norm / (1 - norm)
    assert np.all(np.abs(below.loss[-steps // 4:] / level - 1) < 0.02)
    above = expected_loss(spec, np.full(steps, 1.02 * bound), batch=batch, momentum=mu, parts=False,
                          allow_unstable=True, on_divergence="flag")
    finite = above.loss[np.isfinite(above.loss)]
    # Growth: the excess loss exceeds 100× the stable level (it grows without bound: flagged or still rising).
    assert above.diverged or finite[-1] > 100 * level
    assert above.warning.startswith("unstable run:") and f"{bound:.6g}" in above.warning


@pytest.mark.parametrize("eta, stable", [(0.611, True), (0.6115, False), (0.62, False)])
def test_issue_example_b1_b2_n1000(eta, stable):
    lam = power_law_spectrum(3.5, 2.0, 1000).eigenvalues
    lr = np.full(1000, eta)
    if stable:
        assert check_learning_rates(lr, lam, 1.0) is None
        return
    with pytest.raises(UnstableLearningRateError) as info:
        check_learning_rates(lr, lam, 1.0)
    err = info.value
    assert isinstance(err, ValueError) and err.step == 0 and err.eta == eta
    assert err.bound == pytest.approx(0.611068, abs=5e-7)  # the bound to the 6 digits the message prints
    assert err.condition == "renewal" and "0.611068" in str(err) and "‖K‖₁" in str(err)
    warning = check_learning_rates(lr, lam, 1.0, allow_unstable=True)
    assert warning.startswith("unstable run:") and f"η = {eta:g}" in warning


def test_violation_names_the_first_bad_step_and_the_per_mode_condition():
    lam = power_law_spectrum(3.5, 2.0, 1000).eigenvalues
    lr = np.full(500, 0.3)
    lr[123] = 1.5  # g_1 = (1 − 1.5)² + 1.5² ≥ 1 at B = 1: the top mode itself is unstable
    lr[400] = 0.65
    found = find_violation(lr, lam, 1.0)
    assert (found.step, found.eta, found.condition, found.violating) == (123, 1.5, "per-mode", 2)
    # per-step batch: the same η is stable at B = 5 (bound 1.406) but not at B = 1
    batch = np.full(500, 5.0)
    batch[300] = 1.0
    found = find_violation(np.full(500, 1.0), lam, batch)
    assert found.step == 300 and found.batch == 1.0
    # momentum: η_HB = 0.5 is stable without momentum at B = 1 but not with μ = 0.5 (bound 0.373)
    assert find_violation(np.full(10, 0.5), lam, 1.0, 0.0) is None
    found = find_violation(np.full(10, 0.5), lam, 1.0, np.r_[np.zeros(7), np.full(3, 0.5)])
    assert found.step == 7 and found.momentum == 0.5
    assert found.bound == pytest.approx(momentum_stability_bound(lam, 1.0, 0.5), rel=1e-12)  # same bisection


def test_cap_is_clipped_with_a_warning_or_kept_when_allowed():
    lam = power_law_spectrum(3.5, 2.0, 1000).eigenvalues
    bound = stability_bound(lam, 1.0)
    assert stable_eta_max(0.5, lam, 1.0) == (0.5, None)
    with pytest.warns(UserWarning, match="clipped"):
        cap, text = stable_eta_max(1e6, lam, 1.0)
    assert cap == bound and "0.611068" in text
    assert check_learning_rates(np.full(10, cap), lam, 1.0) is None  # the clipped cap itself is stable
    with pytest.warns(UserWarning, match="kept"):
        assert stable_eta_max(1e6, lam, 1.0, allow_unstable=True)[0] == 1e6


# ------------------------------------------------------------------ every engine checks up front

from lrwb.numerics.dynamics.highprec import expected_loss_mp  # noqa: E402
from lrwb.numerics.fsl.engine import fsl_curve, fsl_stability_bound, mode_sum_model, power_law_model, power_law_renewal_norm  # noqa: E402
from lrwb.numerics.simulate import monte_carlo  # noqa: E402

SPEC = power_law_spectrum(3.5, 2.0, 1000)
ETA_OK, ETA_BAD = 0.611, 0.6115  # B = 1 bound 0.611068 (conventions.md example)


def _engines():
    def torch_dynamics(lr, **kw):
        pytest.importorskip("torch")
        return expected_loss(SPEC, lr, batch=1, parts=False, backend="torch", **kw)

    def torch_simulation(lr, **kw):
        pytest.importorskip("torch")
        return monte_carlo(SPEC, lr, batch=1, runs=2, backend="torch", **kw)

    return {
        "numba": lambda lr, **kw: expected_loss(SPEC, lr, batch=1, backend="numba", **kw),
        "numpy": lambda lr, **kw: expected_loss(SPEC, lr, batch=1, backend="numpy", **kw),
        "torch": torch_dynamics,
        "mpmath": lambda lr, **kw: expected_loss_mp(power_law_spectrum(3.5, 2.0, 1000), lr[:5], batch=1, digits=20,
                                                    arithmetic="mpmath", **kw),
        "simulate-numpy": lambda lr, **kw: monte_carlo(SPEC, lr, batch=1, runs=2, **kw),
        "simulate-torch": torch_simulation,
        "fsl-modes": lambda lr, **kw: fsl_curve(mode_sum_model(SPEC, sigma=0.5), lr, batch=1, **kw),
    }


@pytest.mark.parametrize("engine", list(_engines()))
def test_every_engine_checks_the_bound_up_front(engine):
    run = _engines()[engine]
    if engine == "numba":
        pytest.importorskip("numba")
    assert run(np.full(20, ETA_OK)).warning is None
    lr = np.full(20, ETA_BAD)
    lr[:3] = 0.3
    with pytest.raises(UnstableLearningRateError) as info:
        run(lr)
    assert info.value.step == 3 and "0.611068" in str(info.value)
    assert run(lr, allow_unstable=True).warning.startswith("unstable run:")


def test_flag_mode_never_raises_but_says_so():
    curve = expected_loss(SPEC, np.stack([np.full(20, 0.3), np.full(20, ETA_BAD)]), batch=1, on_divergence="flag")
    assert "schedule 1, step 0" in curve.warning and not curve.diverged.any()


@pytest.mark.parametrize("iterate", ["picard1", "picard2", "volterra"])
def test_power_law_fsl_checks_its_own_discrete_kernel(iterate):
    model = power_law_model(0.5, 2.0, sigma=0.5)
    bound = fsl_stability_bound(model, 5.0)
    # the bound is where the law's discrete ‖K‖₁ = (η²/B) Σ_j (1 + jη)^{−p} reaches 1; checked by a direct sum
    # (10⁶ terms; the tail beyond is ∫ ≈ 2(jη)^{−1/2}/η ≈ 1.2e−3 of the sum, added in closed form)
    j = np.arange(1_000_000)
    direct = bound**2 / 5.0 * (np.sum((1 + j * bound) ** -1.5) + 2 / bound * (1 + 1e6 * bound) ** -0.5)
    assert direct == pytest.approx(1.0, abs=1e-5)  # Euler–Maclaurin remainder of the tail estimate
    assert power_law_renewal_norm(bound, 1.5, 5.0) < 1.0 <= power_law_renewal_norm(bound * (1 + 1e-9), 1.5, 5.0)
    assert fsl_curve(model, np.full(2000, 0.999 * bound), batch=5, iterate=iterate).warning is None
    with pytest.raises(UnstableLearningRateError, match="renewal condition"):
        fsl_curve(model, np.full(2000, 1.001 * bound), batch=5, iterate=iterate)


def test_volterra_stays_bounded_just_below_and_diverges_just_above_the_power_law_bound():
    # The check's bound is where the engine's own Volterra solution stops being bounded.
    model = power_law_model(0.5, 2.0, sigma=0.5)
    bound = fsl_stability_bound(model, 5.0)
    below = fsl_curve(model, np.full(20_000, 0.98 * bound), batch=5, iterate="volterra")
    # Below: settling (measured 7.40 → 7.75 over the second half; heavy-tailed kernel, slow approach).
    assert below.loss[-1] < 1.1 * below.loss[10_000]
    above = fsl_curve(model, np.full(20_000, 1.02 * bound), batch=5, iterate="volterra", allow_unstable=True)
    # Above: geometric growth (measured ×1.4e4 over the second half); 100× leaves room for the rate's drift.
    assert above.loss[-1] > 100 * above.loss[10_000]


def test_entry_points_carry_a_docstring_example():
    """Each public factory / entry point shows its use; tests/test_doctests.py runs every example."""
    import importlib

    module = importlib.import_module("lrwb.numerics.stability")
    for name in ("stability_bound", "momentum_stability_bound"):
        assert ">>>" in (getattr(module, name).__doc__ or ""), name
