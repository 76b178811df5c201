"""Continuum limits of the mode sums: symbolic (the derivation gives the closed form, and follows a changed input)
and numeric (the asymptotic forms against exact N = ∞ sums at 40 digits, with an error envelope that shrinks)."""

import mpmath as mp
import pytest
import sympy as sp

from lrwb.theory import modesums as MS
from lrwb.theory import params as P

a, b, s, beta, t, N, M = P.a, P.b, P.s, P.beta, P.t, P.N, P.M

#: working precision of the exact sums (the spec asks for >= 30 digits; the errors measured go down to 1e-36)
DIGITS = 40


def same(x, y) -> bool:
    """SymPy proves x == y (Gamma factors and powers combined)."""
    return sp.simplify(sp.gammasimp(sp.powsimp(sp.expand_power_base(x - y, force=True), force=True))) == 0


# ---------------------------------------------------------------------------------------------------
# symbolic
# ---------------------------------------------------------------------------------------------------
def test_signal_continuum_is_the_gamma_law():
    e = MS.signal()
    assert same(e.expr, sp.gamma((a - 1) / b) / b * (2 * t) ** (-(a - 1) / b))
    assert same(e.exponent, (a - 1) / b)
    assert same(e.prefactor * t ** (-e.exponent), e.expr)


def test_kernel_continuum_is_the_gamma_law():
    K = MS.kernel()
    assert same(K.expr, sp.gamma(2 - 1 / b) / b * (2 * t) ** (-(2 - 1 / b)))
    assert same(K.exponent, 2 - 1 / b)


def test_change_of_variable_integral_is_the_mode_sum_integral():
    # the stored u-integral, substituted back u = k^-b, is the k-integral of the summand (a numeric spot check
    # of the Jacobian at p = 3.5, b = 2, t = 3)
    lim = MS.continuum_limit(sp.Rational(7, 2), 2, 3)
    u_value = float(lim.integral.evalf(30))
    k = sp.Symbol("k", positive=True)
    k_value = float(sp.Integral(k ** sp.Rational(-7, 2) * sp.exp(-6 * k**-2), (k, 1, sp.oo)).evalf(30))
    assert u_value == pytest.approx(k_value, rel=1e-12)  # quadrature of two smooth integrals: ~1e-15 possible


def test_task_power_as_free_symbol_moves_the_exponent():
    # change one input: λ_k w_k² = k^-p with p free; the exponent must follow (p - 1)/b and the prefactor Γ((p-1)/b)/b
    p = sp.Symbol("p", positive=True)
    lim = MS.continuum_limit(p)
    assert same(lim.exponent, (p - 1) / b)
    assert same(lim.expr, sp.gamma((p - 1) / b) / b * (2 * t) ** (-(p - 1) / b))
    # and a numeric spectrum exponent: b = 3 turns the kernel exponent into 2 - 1/3
    assert MS.kernel(3).exponent == sp.Rational(5, 3)
    assert same(MS.signal(a, 3).exponent, (a - 1) / 3)


def test_fsl_forms_follow_from_the_same_mechanism():
    assert same(MS.signal_fsl().expr, sp.gamma(s) / beta * (2 * t) ** (-s))
    assert same(MS.signal_fsl().exponent, s)
    assert same(MS.kernel_fsl().exponent, 2 - 1 / beta)
    assert same(MS.tail_fsl(), M ** (-s * beta) / (s * beta))
    # and the FSL signal is the PLRF signal under b = beta, a = 1 + s beta
    assert same(MS.signal().expr.subs(P.FSL_TO_PLRF, simultaneous=True), MS.signal_fsl().expr)


def test_tail_and_kernel_mass():
    assert same(MS.tail(), N ** (1 - a) / (a - 1))
    assert MS.kernel_l1_norm() == sp.zeta(b) / 2
    # finite N: tr H / 2 = (1 + 1/4 + 1/9)/2 for b = 2, N = 3
    assert MS.kernel_l1_norm(2, 3) == sp.Rational(49, 72)
    assert same(MS.renewal_mass(), P.eta * sp.zeta(b) / (2 * P.B))


@pytest.mark.parametrize("call, match", [
    (lambda: MS.signal(0.5), r"a = 0\.5 .*a > 1"),
    (lambda: MS.signal(a, 1), r"b = 1 .*b > 1"),
    (lambda: MS.kernel(0.9), r"b = 0\.9 .*b > 1"),
    (lambda: MS.tail(1), r"a = 1 .*a > 1"),
    (lambda: MS.continuum_limit(1, 2), r"p = 1 .*nu = .*p > 1"),
    (lambda: MS.continuum_limit(3, -1), r"b = -1 .*b > 0"),
    (lambda: MS.signal_fsl(-1), r"s = -1 .*s > 0"),
    (lambda: MS.kernel_fsl(1), r"beta = 1 .*beta > 1"),
])
def test_bad_input_names_value_and_range(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_registered_results():
    reg = {r.name: r for r in MS.results()}  # this module's results only (the full registry also derives fsl/plrf)
    assert len(reg) == len(MS.results())
    for name in ("signal_continuum", "kernel_continuum", "tail_continuum", "kernel_l1_norm", "renewal_mass",
                 "signal_continuum_fsl", "kernel_continuum_fsl", "tail_continuum_fsl"):
        result = reg[name]
        assert result.verdict.startswith("confirmed"), (name, result.verdict)
        assert result.source and result.regime.label
    assert reg["kernel_l1_norm"].evaluate(a=2, b=2) == pytest.approx(float(mp.pi**2 / 12), rel=1e-14)


# ---------------------------------------------------------------------------------------------------
# numeric: exact N = ∞ mode sums (mpmath, 40 digits) against the asymptotic forms
# ---------------------------------------------------------------------------------------------------
def exact_mode_sum(power, spectrum, time):
    """Σ_{k≥1} k^{-p} e^{-2k^{-b}t}: direct sum to K0 ≈ 5 t^{1/b} (past the peak of the summand), Euler–Maclaurin
    tail beyond (mpmath.sumem, derivatives at DIGITS precision) — the tail-corrected N = ∞ sum."""
    p, bb, tt = mp.mpf(power), mp.mpf(spectrum), mp.mpf(time)

    def f(k):
        return k ** (-p) * mp.exp(-2 * tt * k ** (-bb))

    k0 = int(mp.ceil(5 * tt ** (1 / bb))) + 10
    return mp.fsum(f(mp.mpf(k)) for k in range(1, k0)) + mp.sumem(f, [k0, mp.inf])


def asymptotic(expr, **values):
    return mp.mpf(str(sp.N(expr.subs({sp.Symbol(k, positive=True): sp.nsimplify(v) for k, v in values.items()}), DIGITS)))


@pytest.mark.parametrize("task, spectrum", [(3.5, 2.0), (2.5, 1.5)])
@pytest.mark.parametrize("which", ["signal", "kernel"])
def test_asymptotic_prefactor_error_envelope_decreases(task, spectrum, which):
    with mp.workdps(DIGITS):
        power = task if which == "signal" else 2 * spectrum
        expr = (MS.signal() if which == "signal" else MS.kernel()).expr
        errors = []
        for time in (10, 100, 1000, 10_000):
            exact = exact_mode_sum(power, spectrum, time)
            approx = asymptotic(expr, a=task, b=spectrum, t=time)
            errors.append(abs(exact / approx - 1))
        floor = mp.mpf(10) ** (-(DIGITS - 6))  # below this the comparison is at working precision
        # the continuum limit is already good at t = 10 (measured: 7e-4 (3.5, 2), 2e-4 kernel (2.5, 1.5))
        assert errors[0] < 2e-3, errors
        for earlier, later in zip(errors, errors[1:]):
            assert later < earlier or later < floor, errors
        # and it decays faster than any power: from t = 10 to 1e4 the error drops by > 10 orders
        assert errors[-1] < errors[0] * mp.mpf(10) ** -10, errors


def test_tail_error_envelope_is_one_over_n():
    # Σ_{k>N} k^{-a} = ζ(a, N + 1) exactly; the integral N^{1-a}/(a-1) misses the Euler–Maclaurin boundary term
    # -f(N)/2, i.e. a relative error -(a - 1)/(2N) + O(N^-2): check the envelope shrinks as 1/N with that constant
    task = 3.5
    expr = MS.tail()
    sizes = (10, 100, 1000, 10_000)
    with mp.workdps(DIGITS):
        errors = [mp.zeta(task, size + 1) / asymptotic(expr, a=task, N=size) - 1 for size in sizes]
    assert all(abs(later) < abs(earlier) / 5 for earlier, later in zip(errors, errors[1:])), errors
    # N·error → -(a - 1)/2 with an O(1/N) correction: at N = 1e4 within 1e-3 (relative), and closer than at N = 10
    scaled = [err * size for err, size in zip(errors, sizes)]
    assert float(scaled[-1]) == pytest.approx(-(task - 1) / 2, rel=1e-3)
    assert abs(scaled[-1] + (task - 1) / 2) < abs(scaled[0] + (task - 1) / 2)


def test_kernel_mass_against_quadrature_of_the_finite_sum():
    # ∫_0^∞ Σ_{k≤12} k^{-2b} e^{-2k^{-b}t} dt by quadrature vs the derived tr H/2 (b = 2)
    size, spectrum = 12, 2
    with mp.workdps(25):
        def kernel_sum(time):
            return mp.fsum(mp.mpf(k) ** (-2 * spectrum) * mp.exp(-2 * time * mp.mpf(k) ** (-spectrum)) for k in range(1, size + 1))

        breaks = [0] + [mp.mpf(10) ** j for j in range(-1, 4)] + [mp.inf]  # the modes' time scales 1 … 144
        integral = mp.quad(kernel_sum, breaks)
        derived = mp.mpf(str(sp.N(MS.kernel_l1_norm(spectrum, size), 25)))
        assert abs(integral / derived - 1) < mp.mpf(10) ** -15  # tanh-sinh at 25 digits: ~1e-20 reached


def test_renewal_mass_is_the_small_lr_limit_of_the_stability_sum():
    # exact stability sum Σ_k (η/B)λ_k/(2 - ((B+1)/B)ηλ_k) (N = ∞) vs η ζ(b)/(2B): relative gap O(η), shrinking 10x
    spectrum, batch = 2, 5
    expr = MS.renewal_mass()
    with mp.workdps(30):
        gaps = []
        for lr in (mp.mpf("1e-2"), mp.mpf("1e-3")):
            exact = mp.nsum(lambda k: (lr / batch) * k ** -spectrum / (2 - (batch + 1) / mp.mpf(batch) * lr * k ** -spectrum), [1, mp.inf])
            approx = mp.mpf(str(sp.N(expr.subs({P.eta: sp.nsimplify(lr), P.B: batch, b: spectrum}), 30)))
            gaps.append(abs(exact / approx - 1))
        assert gaps[0] < 1e-2 and gaps[1] < gaps[0] / 8, gaps
