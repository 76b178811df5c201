"""Loss-curve laws: the O(K·Q) evaluation equals the naive sum, and the analytic Jacobian is right."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.lawfit.laws import FSLLaw, MomentumLaw, MultiPowerLaw, NoiseLaw, get_law

K, WARMUP = 4000, 300
THETAS = {
    "fsl": [3.0, 0.4, 0.5, 5.0, 2.0, 3.0, 0.6],
    "mpl": [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.5],
    "momentum": [3.0, 0.5, 0.5, 30.0, 0.999],
    "fsln": [3.0, 0.5, 0.5, 300.0, 2.0, 0.7, 2e-3, 0.4, 150.0],
    "fsln7": [3.0, 0.5, 0.5, 300.0, 2.0, 0.7, 2e-3],  # the law without its step-limited transient
}


def _law(name):
    return NoiseLaw(transient=False) if name == "fsln7" else get_law(name)


def _schedule():
    # warmup, cosine decay (slowly varying η), a sudden drop and a constant stretch: every code path
    t = np.arange(K)
    lr = np.where(t < WARMUP, 3e-3 * t / WARMUP, 3e-4 + 2.7e-3 * 0.5 * (1 + np.cos(np.pi * (t - WARMUP) / (K - WARMUP))))
    lr[2500:3000] = 1e-3
    return lr, np.arange(WARMUP + 1, K, 37)


@pytest.mark.parametrize("name", list(THETAS))
def test_fast_evaluation_equals_naive_sum(name):
    lr, steps = _schedule()
    law = _law(name)
    fast = law.evaluate(THETAS[name], lr, steps, warmup=WARMUP).loss
    naive = law.evaluate_naive(THETAS[name], lr, steps, warmup=WARMUP)
    # the drop terms are O(0.1–1) here (c2·Σd ≈ 0.015·…, B·Σd ≈ 1.1), so 1e−8 absolute is a real test
    # of the kernel (tol 1e−9 per unit drop) and of the recursion
    assert np.max(np.abs(fast - naive)) <= 1e-8
    assert np.ptp(naive) > 0.05  # the schedule actually moves the loss


@pytest.mark.parametrize("name", list(THETAS))
def test_jacobian_matches_central_differences(name):
    lr, steps = _schedule()
    law = _law(name)
    th = np.array(THETAS[name], dtype=float)
    jac = law.evaluate(th, lr, steps, warmup=WARMUP, jacobian=True).jacobian
    for p in range(th.size):
        h = 1e-6 * max(abs(th[p]), 1e-3)
        up, down = th.copy(), th.copy()
        up[p] += h
        down[p] -= h
        fd = (law.evaluate(up, lr, steps, warmup=WARMUP).loss - law.evaluate(down, lr, steps, warmup=WARMUP).loss) / (2 * h)
        # central differences are O(h²) ≈ 1e−12 relative plus rounding ~1e−16/1e−6: 1e−5 is generous for
        # an exact gradient and far below a wrong term
        scale = max(np.abs(fd).max(), 1e-12)
        assert np.max(np.abs(fd - jac[:, p])) <= 1e-5 * scale, law.param_names[p]


def test_tied_gamma_is_the_free_law_at_one_minus_inverse_beta():
    lr, steps = _schedule()
    tied = FSLLaw(beta=2.5)
    assert tied.param_names == ("L0", "c1", "s", "c2", "c3", "c4")
    th = THETAS["fsl"][:6]
    a = tied.evaluate(th, lr, steps, warmup=WARMUP).loss
    b = FSLLaw().evaluate(th + [1 - 1 / 2.5], lr, steps, warmup=WARMUP).loss
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="beta"):
        FSLLaw(beta=0.9)


def test_constant_schedule_has_no_drop_term():
    # with no LR drop every law is L0 + A X^{−α}: a closed form
    lr = np.full(1000, 2e-3)
    steps = np.arange(10, 1000, 10)
    x = 2e-3 * (steps + 1)
    assert np.allclose(MultiPowerLaw().evaluate(THETAS["mpl"], lr, steps).loss, 3.0 + 0.5 * x ** -0.5, rtol=1e-13)
    assert np.allclose(MomentumLaw().evaluate(THETAS["momentum"], lr, steps).loss, 3.0 + 0.5 * x ** -0.5, rtol=1e-13)
    assert np.allclose(FSLLaw().evaluate(THETAS["fsl"], lr, steps).loss, 3.0 + 0.4 * x ** -0.5, rtol=1e-13)


def test_bad_inputs_raise():
    lr, steps = _schedule()
    law = get_law("mpl")
    with pytest.raises(ValueError, match="eval_steps must lie"):
        law.evaluate(THETAS["mpl"], lr, [K + 5])
    with pytest.raises(ValueError, match=r"learning rate at step 3 is -1.0 \(negative\); learning rates must be finite"):
        bad = lr.copy()
        bad[3] = -1.0
        law.evaluate(THETAS["mpl"], bad, steps)
    with pytest.raises(ValueError, match="7 parameters"):
        law.evaluate([1.0, 2.0], lr, steps)
    with pytest.raises(ValueError, match="9 parameters"):
        get_law("fsln").evaluate(THETAS["fsln7"], lr, steps)
    with pytest.raises(ValueError, match="unknown law"):
        get_law("nope")


def _mpl_reference(theta, lr, steps):
    """The MPL as the authors' code evaluates it (independent of lrwb.numerics.lawfit.laws): every LR change counts,
    the warmup's increases included, L = L0 + A S_s^{−α} + B Σ_{k=1}^{s} (η_k − η_{k−1})·
    (1 − (1 + C η_k^{−γ} (S_s − S_{k−1}))^{−β}), S_s = Σ_{τ≤s} η_τ."""
    L0, A, alpha, B, C, beta, gamma = theta
    cum = np.cumsum(lr)
    gap = np.diff(lr)  # gap[k − 1] = η_k − η_{k−1}
    out = []
    for s in steps:
        k = np.arange(1, s + 1)
        g = gap[k - 1]
        nz = g != 0
        kk = k[nz]
        drop = np.sum(g[nz] * (1 - (1 + C * lr[kk] ** (-gamma) * (cum[s] - cum[kk - 1])) ** (-beta)))
        out.append(L0 + A * cum[s] ** (-alpha) + B * drop)
    return np.array(out)


def test_mpl_is_the_reference_formula_with_warmup_increases():
    # the published MPL fits (Luo et al. 2025) count the warmup's LR increases as negative drops; the default
    # MultiPowerLaw must be exactly that formula (no drop falls below the 1e−3·peak floor here)
    t = np.arange(3000)
    lr = np.where(t < 300, 3e-3 * t / 299, 3e-3 * 0.5 * (1 + np.cos(np.pi * (t - 300) / 2700)) + 3e-4)
    lr[2000:] = np.minimum(lr[2000:], 6e-4)
    steps = np.arange(350, 3000, 41)
    law = MultiPowerLaw()
    assert law.warmup_drops
    ref = _mpl_reference(THETAS["mpl"], lr, steps)
    fast = law.evaluate(THETAS["mpl"], lr, steps, warmup=300).loss
    # the warmup term alone is B·peak ≈ 1.2 here: 1e−8 absolute tests it and the kernel (tol 1e−9 per unit drop)
    assert np.max(np.abs(fast - ref)) <= 1e-8
    post_only = MultiPowerLaw(warmup_drops=False).evaluate(THETAS["mpl"], lr, steps, warmup=300).loss
    assert np.min(np.abs(post_only - ref)) > 0.1  # the convention matters (≈ B·peak·G)


NON_MONOTONE = dict(THETAS, mpl_extreme=[3.0, 0.5, 0.5, 400.0, 1e-3, 0.6, 1.2])


@pytest.mark.parametrize("case", list(NON_MONOTONE))
def test_non_monotone_schedule_equals_naive_sum(case):
    # LR that falls to 1% of the peak and rises again (cyclic): MPL kernel nodes that get no source while η
    # is large must still decay. With C at its lower bound and γ at its upper one such nodes keep a long
    # memory; a kernel that skipped their decay was off by 2.7e−6 here
    t = np.arange(K)
    lr = np.where(t < WARMUP, 3e-3 * t / WARMUP,
                  3e-3 * (0.01 + 0.99 * 0.5 * (1 + np.cos(2 * np.pi * (t - WARMUP) / 900))))
    steps = np.arange(WARMUP + 1, K, 29)
    for drops in (False, True):
        name = case.split("_")[0]
        # fsln: the warmup is a drop (no warmup_drops option)
        law = _law(name) if name.startswith("fsln") else get_law(name, warmup_drops=drops)
        fast = law.evaluate(NON_MONOTONE[case], lr, steps, warmup=WARMUP).loss
        naive = law.evaluate_naive(NON_MONOTONE[case], lr, steps, warmup=WARMUP)
        assert np.max(np.abs(fast - naive)) <= 1e-8, drops


def test_surrogate_starts_are_inside_the_bounds():
    for name in THETAS:
        law = _law(name)
        th = law.surrogate_start(3.0, 0.5, 0.5, 400.0, 2.0)
        b = law.bounds()
        assert th.shape == (len(law.params),) and np.all((b[:, 0] <= th) & (th <= b[:, 1]))


def test_fsln_constant_lr_closed_form_and_noise_floor():
    # at constant η from step 0 the only "drop" is the rise from η_{−1} = 0 at step 0 (the warmup as a drop):
    # L = L0 + A X^{−α} + σ g (1 − (1 + c (X_k − X_0))^{−γ}) + B e^{−k/τ}, g = η/(1 + η/η_s) — the floor rises
    # by σ g(η); the transient B e^{−k/τ} (warmup 0) is the same at both LRs
    L0, A, alpha, sigma, c, gam, eta_s, B, tau = THETAS["fsln"]
    law = NoiseLaw()
    steps = np.arange(10, 20000, 50)
    floors = []
    for eta in (1e-3, 2e-3):
        g = eta / (1 + eta / eta_s)
        x = g * (steps + 1)
        expected = L0 + A * x ** -alpha + sigma * g * (1 - (1 + c * (x - g)) ** -gam) + B * np.exp(-steps / tau)
        got = law.evaluate(THETAS["fsln"], np.full(20000, eta), steps).loss
        # the kernel is a sum of exponentials with absolute error 1e−9 per unit source (σ g ≈ 0.2–0.3 here)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8)
        floors.append(got[-1] - L0 - A * x[-1] ** -alpha)
    # late in the run the noise term is the floor σ g(η): its LR dependence is what transfers across peak LR
    g1, g2 = (e / (1 + e / eta_s) for e in (1e-3, 2e-3))
    # κ(X_k) = (1 + c X_k)^{−0.7} is still 0.06–0.1 at X_k ≈ 13–27, so the two floors' difference is ~3% short
    assert floors[1] - floors[0] == pytest.approx(sigma * (g2 - g1), rel=5e-2)


def test_fsln_lr_decay_lowers_the_loss_by_sigma_times_the_drop():
    # a step decay η → η/10 at step 5000: long after it the loss is lower by σ (g(η) − g(η/10)) minus the
    # signal term's change; compare with a constant run continued at η/10 from the start of the decay
    law = NoiseLaw()
    L0, A, alpha, sigma, c, gam, eta_s = THETAS["fsln"][:7]  # the transient e^{−k/150} is gone at k ≈ 2e5
    lr = np.full(200000, 2e-3)
    lr[5000:] = 2e-4
    k = np.array([199999])
    x = np.cumsum(lr / (1 + lr / eta_s))[k]
    got = law.evaluate(THETAS["fsln"], lr, k).loss[0] - L0 - A * x[0] ** -alpha
    g_low = 2e-4 / (1 + 2e-4 / eta_s)
    # the residual memory of both LR changes at X_k − X_i ≈ 36 is (1 + 72)^{−0.7} ≈ 5% of each source
    assert got == pytest.approx(sigma * g_low, rel=0.1)


def test_fsln_transient_counts_steps_after_the_warmup_at_every_peak_lr():
    # the transient B e^{−(k − W)⁺/τ} is step-limited: the same excess at 1e−3 and 2e−3, counted from the end
    # of the warmup; B = 0 is the 7-parameter law exactly
    full, bare = NoiseLaw(), NoiseLaw(transient=False)
    th = np.array(THETAS["fsln"], dtype=float)
    steps = np.arange(WARMUP + 1, K, 37)
    for peak in (1e-3, 2e-3):
        lr = np.where(np.arange(K) < WARMUP, peak * (0.01 + 0.99 * np.arange(K) / WARMUP), peak)
        excess = full.evaluate(th, lr, steps, warmup=WARMUP).loss - bare.evaluate(th[:7], lr, steps, warmup=WARMUP).loss
        # both paths share every other term exactly; only rounding separates them
        np.testing.assert_allclose(excess, th[7] * np.exp(-(steps - WARMUP) / th[8]), rtol=1e-12, atol=1e-14)
        zero = th.copy()
        zero[7] = 0.0
        np.testing.assert_allclose(full.evaluate(zero, lr, steps, warmup=WARMUP).loss,
                                   bare.evaluate(th[:7], lr, steps, warmup=WARMUP).loss, rtol=0, atol=1e-14)
    assert bare.param_names == full.param_names[:7] and full.param_names[7:] == ("B", "tau")


def test_entry_points_carry_a_docstring_example():
    """Each public factory / entry point shows its use; tests/test_doctests.py runs every example."""
    import importlib

    module = importlib.import_module("lrwb.numerics.lawfit.laws")
    for name in ("get_law",):
        assert ">>>" in (getattr(module, name).__doc__ or ""), name
