"""Continuum limits of the spectral sums both theories are built from, DERIVED with SymPy, prefactors included.

For a power-law spectrum λ_k = k^{−b} (k = 1, 2, …) every sum of the form

    S_p(t) = Σ_{k≥1} k^{−p} e^{−2 k^{−b} t}

is, for large t, its integral over k; the change of variable u = λ = k^{−b} (k = u^{−1/b},
dk = −(1/b) u^{−1/b−1} du) turns it into a Gamma integral:

    S_p(t) ≈ ∫_1^∞ k^{−p} e^{−2k^{−b}t} dk = (1/b) ∫_0^1 u^{ν−1} e^{−2tu} du
           ~ (1/b) Γ(ν) (2t)^{−ν},          ν = (p − 1)/b > 0,

the upper limit 1 → ∞ costing only the incomplete-Gamma tail O(e^{−2t}). The sum-minus-integral error is
the Poisson-summation remainder of a function smooth on the scale k ~ t^{1/b}; it decays faster than any
power of t (the tests measure it against mpmath's N = ∞ sums).

- signal/bias  e(t) = Σ λ_k w_k² e^{−2λ_k t}, λ_k w_k² = k^{−a}:  p = a    → (1/b)Γ((a−1)/b)(2t)^{−(a−1)/b}
- kernel       K(t) = Σ λ_k² e^{−2λ_k t}:                          p = 2b   → (1/b)Γ(2−1/b)(2t)^{−(2−1/b)}
- tail         δ_N = Σ_{k>N} k^{−a} ~ ∫_N^∞ k^{−a} dk = N^{−(a−1)}/(a−1)
- kernel mass  ‖K‖₁ = ∫_0^∞ K = Σ_k λ_k/2 = tr H/2 (= ζ(b)/2 for N = ∞), exact (Tonelli), and the renewal
  mass (η/B)‖K‖₁, the leading order in η of the stability sum of ``conventions.md``.

In FSL variables (λ_j θ*_j² = j^{−(sβ+1)}, λ_j = j^{−β}) the same mechanism gives (1/β)Γ(s)(2t)^{−s},
(1/β)Γ(2−1/β)(2t)^{−(2−1/β)} and δ_M ~ M^{−sβ}/(sβ). No numerics here: SymPy only.
Units: these are mode sums, free of the ½ of the FSL's E = ½‖·‖²_H (``conventions.md``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from lrwb.theory import params as P
from lrwb.theory.result import Regime, Result

__all__ = [
    "ContinuumLimit",
    "continuum_limit",
    "signal",
    "kernel",
    "tail",
    "kernel_l1_norm",
    "renewal_mass",
    "signal_fsl",
    "kernel_fsl",
    "tail_fsl",
    "check_above",
    "power_tail",
    "results",
]

#: mode index (continuous after sum → integral) and the eigenvalue variable u = λ = k^{−b}.
k = sp.Symbol("k", positive=True)
lam = sp.Symbol("lambda", positive=True)

SOURCE_PLRF = ("derived here (from plrf.md §3 [derived], the continuous-time reduction; compare Bordelon & Mori "
               "2026 (arXiv 2602.04774), §3)")
SOURCE_FSL = ("Li et al. 2025 (arXiv 2509.19189), §2 (mode sums, power-law forms; the prefactors are derived here); "
              "fsl.md §2")
LARGE_T = ("t -> infinity (t >> 1), N = infinity (or t << N^b)", "sum over k replaced by its integral; u = k^(-b)")


# ---------------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------------
def check_above(name: str, value, lower: float, text: str) -> sp.Expr:
    """Sympify ``value``; raise ``ValueError`` naming it if it is decidably outside ``value > lower``."""
    expr = sp.sympify(value)
    if expr.is_number:
        if not expr.is_real or not bool(expr > lower):
            raise ValueError(f"{name} = {value!r} is outside its valid range: {text}")
    elif (expr - lower).is_nonpositive:
        raise ValueError(f"{name} = {value} is outside its valid range: {text}")
    return expr


# ---------------------------------------------------------------------------------------------------
# the generic continuum limit
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContinuumLimit:
    """Σ_{k≥1} k^{−power} e^{−2k^{−spectrum}·time} ~ prefactor · time^{−exponent} (= ``expr``).

    Attributes:
        power, spectrum, time: the inputs p, b, t.
        integral: the u-integral after the change of variable u = k^{−b} (limits 0 … 1), unevaluated.
        exponent: ν = (p − 1)/b, the decay exponent in t.
        prefactor: (1/b)Γ(ν)2^{−ν}, the coefficient of t^{−ν}.
        expr: the asymptotic form (1/b)Γ(ν)(2t)^{−ν}.
    """

    power: sp.Expr
    spectrum: sp.Expr
    time: sp.Expr
    integral: sp.Integral
    exponent: sp.Expr
    prefactor: sp.Expr
    expr: sp.Expr


@functools.lru_cache(maxsize=1)
def _gamma_integral() -> tuple[sp.Symbol, sp.Symbol, sp.Expr]:
    """(ν, t, ∫_0^∞ u^{ν−1} e^{−2tu} du) with ν, t > 0: SymPy gives Γ(ν)(2t)^{−ν}."""
    nu, time = sp.symbols("nu t", positive=True)
    value = sp.integrate(lam ** (nu - 1) * sp.exp(-2 * time * lam), (lam, 0, sp.oo), conds="none")
    return nu, time, sp.powsimp(value, force=True)


@functools.lru_cache(maxsize=1)
def _generic_limit() -> tuple[tuple[sp.Symbol, sp.Symbol, sp.Symbol], sp.Integral, sp.Expr, sp.Expr, sp.Expr]:
    """The derivation, once, with free p, b, t > 0: (symbols, u-integral, ν, coefficient c, Gamma value).

    Σ_k k^{−p}e^{−2k^{−b}t} → ∫_1^∞ dk; k = u^{−1/b} maps k = 1 → u = 1 and k → ∞ → u → 0, and
    dk = (dk/du) du with dk/du < 0, so ∫_1^∞ f(k) dk = ∫_0^1 f(u^{−1/b}) (−dk/du) du. The integrand is then
    read as c·u^{ν−1}e^{−2tu} and the Gamma integral ∫_0^∞ u^{ν−1}e^{−2tu} du is evaluated.
    """
    p, bexp, time = sp.symbols("p b t", positive=True)
    k_of_u = lam ** (-1 / bexp)
    summand = k ** (-p) * sp.exp(-2 * k ** (-bexp) * time)
    jacobian = -sp.diff(k_of_u, lam)
    integrand = sp.powsimp(sp.expand_power_base(summand.subs(k, k_of_u) * jacobian, force=True), force=True)
    integral = sp.Integral(integrand, (lam, 0, 1))
    exp_factors = [f for f in sp.Mul.make_args(integrand) if isinstance(f, sp.exp)]
    if len(exp_factors) != 1 or sp.expand(exp_factors[0].args[0] + 2 * time * lam) != 0:
        raise ArithmeticError(f"integrand {integrand} is not c·u^(nu-1)·exp(-2tu)")  # pragma: no cover
    algebraic = sp.powsimp(integrand / exp_factors[0], force=True)
    nu = sp.factor(sp.cancel(sp.diff(sp.expand_log(sp.log(algebraic), force=True), lam) * lam) + 1)
    coefficient = sp.powsimp(algebraic / lam ** (nu - 1), force=True)
    if coefficient.has(lam):  # pragma: no cover - guarded by the structure above
        raise ArithmeticError(f"integrand {integrand} is not a pure power of u")
    nu_sym, t_sym, gamma_integral = _gamma_integral()
    value = coefficient * gamma_integral.subs({nu_sym: nu, t_sym: time}, simultaneous=True)
    if not same(value, coefficient * sp.gamma(nu) * (2 * time) ** (-nu)):  # pragma: no cover - canonical form
        raise ArithmeticError(f"Gamma integral {value} is not c·Γ(ν)(2t)^(-ν)")
    return (p, bexp, time), integral, nu, coefficient, value


@functools.lru_cache(maxsize=None)
def continuum_limit(power, spectrum=P.b, time=P.t) -> ContinuumLimit:
    """Derive Σ_{k≥1} k^{−p} e^{−2k^{−b}t} ~ (1/b)Γ((p−1)/b)(2t)^{−(p−1)/b} (t → ∞).

    Steps (all SymPy, done once with free p, b, t and then specialised): the sum becomes ∫_1^∞ … dk; the
    substitution k = u^{−1/b} gives ∫_0^1 c·u^{ν−1}e^{−2tu} du with c and ν read off the integrand; the limit 1
    is moved to ∞ (error Γ(ν, 2t)(2t)^{−ν} = O(e^{−2t})) and the Gamma integral is evaluated.

    Raises ``ValueError`` if ν = (p − 1)/b is decidably ≤ 0 (the integral diverges at u → 0: the sum is
    then dominated by the modes k ≳ t^{1/b} and has no power-law limit of this form), or b ≤ 0.
    """
    p = sp.sympify(power)
    bexp = check_above("spectrum exponent b", spectrum, 0, "b > 0")
    time = sp.sympify(time)
    (p0, b0, t0), integral, nu0, coefficient0, _ = _generic_limit()
    point = {p0: p, b0: bexp, t0: time}
    nu = sp.factor(nu0.subs(point, simultaneous=True))
    if (nu.is_number and not bool(nu > 0)) or nu.is_nonpositive:
        raise ValueError(f"power p = {power} gives nu = (p - 1)/b = {nu} <= 0: the mode sum has no "
                         "power-law continuum limit (valid range: p > 1)")
    coefficient = sp.factor(coefficient0.subs(point, simultaneous=True))
    expr = coefficient * sp.gamma(nu) * (2 * time) ** (-nu)  # = value0 at this point (checked generically)
    prefactor = coefficient * sp.gamma(nu) * 2 ** (-nu)
    return ContinuumLimit(p, bexp, time, integral.subs(point, simultaneous=True), nu, prefactor, expr)


@functools.lru_cache(maxsize=1)
def _generic_antiderivative() -> tuple[sp.Symbol, sp.Symbol, sp.Expr]:
    """(q, v, SymPy's ∫ v^q dv on its generic branch q ≠ −1), derived once."""
    q, v = sp.Symbol("q"), sp.Symbol("v", positive=True)
    antiderivative = sp.integrate(v**q, v)
    if isinstance(antiderivative, sp.Piecewise):  # (v^{q+1}/(q+1), q ≠ −1), (log v, True)
        antiderivative = antiderivative.args[0][0]
    return q, v, antiderivative


def power_integral(coefficient: sp.Expr, power: sp.Expr, var: sp.Symbol, lower: sp.Expr, upper: sp.Expr) -> sp.Expr:
    """∫_lower^upper c·v^q dv from SymPy's antiderivative v^{q+1}/(q+1) (q ≠ −1, c free of v).

    A limit 0 needs q > −1 and a limit ∞ needs q < −1 (then that end contributes 0); a violation that SymPy can
    decide raises ``ValueError`` naming q.
    """
    q0, v0, antiderivative = _generic_antiderivative()
    primitive = coefficient * antiderivative.subs({q0: power, v0: var}, simultaneous=True)
    exponent = sp.factor(power + 1)

    def at(limit):
        if limit == 0:
            if exponent.is_nonpositive or (exponent.is_number and not bool(exponent > 0)):
                raise ValueError(f"integral of v^({power}) diverges at 0 (valid range: q > -1)")
            return sp.S.Zero
        if limit is sp.oo:
            if exponent.is_nonnegative or (exponent.is_number and not bool(exponent < 0)):
                raise ValueError(f"integral of v^({power}) diverges at infinity (valid range: q < -1)")
            return sp.S.Zero
        return primitive.subs(var, limit)

    return at(upper) - at(lower)


# ---------------------------------------------------------------------------------------------------
# the named sums (PLRF variables)
# ---------------------------------------------------------------------------------------------------
def signal(a=P.a, b=P.b, time=P.t) -> ContinuumLimit:
    """e(t) = Σ λ_k w_k² e^{−2λ_k t} with λ_k = k^{−b}, λ_k w_k² = k^{−a}: ~ (1/b)Γ((a−1)/b)(2t)^{−(a−1)/b}."""
    check_above("a", a, 1, "a > 1")
    check_above("b", b, 1, "b > 1")
    return continuum_limit(sp.sympify(a), sp.sympify(b), sp.sympify(time))


def kernel(b=P.b, time=P.t) -> ContinuumLimit:
    """K(t) = Σ λ_k² e^{−2λ_k t}, λ_k² = k^{−2b}: ~ (1/b)Γ(2 − 1/b)(2t)^{−(2−1/b)}."""
    check_above("b", b, 1, "b > 1")
    bexp = sp.sympify(b)
    return continuum_limit(2 * bexp, bexp, sp.sympify(time))


@functools.lru_cache(maxsize=1)
def _generic_tail() -> tuple[sp.Symbol, sp.Symbol, sp.Expr]:
    """(p₁, N, ∫_N^∞ k^{−(1+p₁)} dk) with p₁, N > 0 (SymPy: N^{−p₁}/p₁), derived once."""
    excess, size = sp.symbols("p_1 N", positive=True)
    return excess, size, sp.powsimp(sp.integrate(k ** (-(1 + excess)), (k, size, sp.oo)), force=True)


def power_tail(power: sp.Expr, size: sp.Expr) -> sp.Expr:
    """Σ_{k>N} k^{−p} ~ ∫_N^∞ k^{−p} dk for p > 1, integrated with p = 1 + p₁ (p₁ > 0) so SymPy converges."""
    excess, size0, value = _generic_tail()
    return sp.powsimp(value.subs({excess: power - 1, size0: size}, simultaneous=True), force=True)


def tail(a=P.a, size=P.N) -> sp.Expr:
    """δ_N = Σ_{k>N} λ_k w_k² = Σ_{k>N} k^{−a} ~ N^{−(a−1)}/(a − 1) (N → ∞; the untrained part of the target)."""
    aexp = check_above("a", a, 1, "a > 1")
    return power_tail(aexp, sp.sympify(size))


def kernel_l1_norm(b=P.b, size=sp.oo) -> sp.Expr:
    """‖K‖₁ = ∫_0^∞ Σ_{k≤N} λ_k² e^{−2λ_k t} dt = Σ_{k≤N} λ_k/2 = tr H/2; N = ∞: ζ(b)/2 (exact, not asymptotic).

    Each mode's integral ∫_0^∞ λ²e^{−2λt} dt = λ/2 is done by SymPy; the sum over k = 1 … N follows (Tonelli).
    The continuum form of K is not integrable at t → 0 (exponent 2 − 1/b > 1): the mass sits in the top modes.
    """
    bexp = check_above("b", b, 1, "b > 1")
    per_mode = sp.integrate(lam**2 * sp.exp(-2 * lam * P.t), (P.t, 0, sp.oo))
    per_unit_eigenvalue = sp.cancel(per_mode / lam)
    if per_unit_eigenvalue.has(lam):  # pragma: no cover - the mass must be linear in λ for tr H to appear
        raise ArithmeticError(f"per-mode kernel mass {per_mode} is not proportional to the eigenvalue")
    return per_unit_eigenvalue * _trace(bexp, sp.sympify(size))


@functools.lru_cache(maxsize=None)
def _trace(bexp: sp.Expr, size: sp.Expr) -> sp.Expr:
    """tr H = Σ_{k=1}^{N} k^{−b} (SymPy summation; N = ∞ gives ζ(b) on the model's domain b > 1)."""
    index = sp.Symbol("k", integer=True, positive=True)
    total = sp.summation(index ** (-bexp), (index, 1, size))
    if isinstance(total, sp.Piecewise):  # (ζ(b), b > 1), (Sum, True): b > 1 is the model's domain
        total = total.args[0][0]
    return total


def renewal_mass(eta=P.eta, batch=P.B, b=P.b) -> sp.Expr:
    """(η/B)‖K‖₁ = η ζ(b)/(2B): the leading order in η of the stability sum Σ_k (η/B)λ_k/(2 − ((B+1)/B)ηλ_k).

    Derived as the first Taylor term of that summand in η (SymPy ``diff`` at η = 0), summed over the modes.
    """
    bexp = check_above("b", b, 1, "b > 1")
    etav, batchv = sp.sympify(eta), sp.sympify(batch)
    summand = (P.eta / P.B) * lam / (2 - ((P.B + 1) / P.B) * P.eta * lam)
    leading = sp.diff(summand, P.eta).subs(P.eta, 0) * P.eta  # first Taylor term (the summand vanishes at η = 0)
    per_unit = sp.cancel(leading / lam)  # (η/B)/2 per unit eigenvalue: Σ_k λ_k · that = (η/B) tr H / 2
    norm = kernel_l1_norm(bexp)
    return (per_unit * 2 * norm).subs({P.eta: etav, P.B: batchv}, simultaneous=True)


# ---------------------------------------------------------------------------------------------------
# FSL variables (λ_j = j^{−β}, λ_j θ*_j² = j^{−(sβ+1)})
# ---------------------------------------------------------------------------------------------------
def signal_fsl(s=P.s, beta=P.beta, time=P.t) -> ContinuumLimit:
    """e(t) = Σ_j j^{−(sβ+1)} e^{−2j^{−β}t} ~ (1/β)Γ(s)(2t)^{−s}."""
    sexp = check_above("s", s, 0, "s > 0")
    bexp = check_above("beta", beta, 1, "beta > 1")
    return continuum_limit(sexp * bexp + 1, bexp, sp.sympify(time))


def kernel_fsl(beta=P.beta, time=P.t) -> ContinuumLimit:
    """K(t) = Σ_j j^{−2β} e^{−2j^{−β}t} ~ (1/β)Γ(2 − 1/β)(2t)^{−(2−1/β)}."""
    bexp = check_above("beta", beta, 1, "beta > 1")
    return continuum_limit(2 * bexp, bexp, sp.sympify(time))


def tail_fsl(s=P.s, beta=P.beta, size=P.M) -> sp.Expr:
    """δ_M = Σ_{j>M} j^{−(sβ+1)} ~ M^{−sβ}/(sβ)."""
    sexp = check_above("s", s, 0, "s > 0")
    bexp = check_above("beta", beta, 1, "beta > 1")
    return power_tail(sexp * bexp + 1, sp.sympify(size))


# ---------------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------------
ALL_PLRF = Regime("all (a > 1, b > 1)", sp.true)
ALL_FSL = Regime("all (s > 0, beta > 1)", sp.true)


def _normal(expr: sp.Expr) -> sp.Expr:
    """Every exponent and Gamma argument a cancelled rational function, then powers combined (canonical form)."""
    expr = sp.expand_power_base(sp.sympify(expr), force=True)
    expr = expr.replace(lambda e: (e.is_Pow and not e.exp.is_number) or isinstance(e, sp.gamma),
                        lambda e: e.func(*(sp.cancel(arg) for arg in e.args)))
    return sp.powsimp(expr, force=True)


def same(x: sp.Expr, y: sp.Expr) -> bool:
    """SymPy proves x == y: cheap comparisons first (difference, log of the ratio; then on canonical forms),
    ``simplify`` last."""
    x, y = sp.sympify(x), sp.sympify(y)
    if x == y:
        return True
    nx, ny = _normal(x), _normal(y)
    if nx == ny:
        return True
    for d, c in ((x, y), (nx, ny)):
        if sp.cancel(d - c) == 0:
            return True
        if d != 0 and c != 0 and sp.cancel(sp.expand_log(sp.log(d / c), force=True)) == 0:
            return True
    return sp.simplify(sp.gammasimp(_normal(x) - _normal(y))) == 0


def _verdict(derived: sp.Expr, claimed: sp.Expr, what: str, note: str = "", stated_in: str = "plrf.md §3 / fsl.md §2") -> str:
    """'confirmed' if SymPy proves derived == claimed, else 'corrected (<where stated>): …' naming both."""
    if same(derived, claimed):
        return "confirmed" + (f" ({note})" if note else "")
    return f"corrected (the spec's statement, {stated_in}): {what} is {sp.sstr(derived)}, not {sp.sstr(claimed)}"


@functools.lru_cache(maxsize=1)
def _all_results() -> tuple[Result, ...]:
    a, b, s, beta, t, N, M = P.a, P.b, P.s, P.beta, P.t, P.N, P.M
    e, K = signal(), kernel()
    e_f, K_f = signal_fsl(), kernel_fsl()
    delta_n, delta_m, norm, mass = tail(), tail_fsl(), kernel_l1_norm(), renewal_mass()
    out = [
        Result(
            name="signal_continuum",
            lhs="e(t)",
            expr=e.expr,
            description="Bias/signal mode sum sum_k k^-a exp(-2 k^-b t) for large t: the t^-s law, s = (a-1)/b.",
            source=SOURCE_PLRF,
            regime=ALL_PLRF,
            assumptions=LARGE_T,
            relation=r"\sim",
            verdict=_verdict(e.expr, sp.gamma((a - 1) / b) / b * (2 * t) ** (-(a - 1) / b), "the signal"),
            derivation="lrwb.theory.modesums.continuum_limit(a, b): sum -> integral, u = k^-b, Gamma integral",
        ),
        Result(
            name="kernel_continuum",
            lhs="K(t)",
            expr=K.expr,
            description="Forgetting kernel sum_k lambda_k^2 exp(-2 lambda_k t) for large t (lambda_k = k^-b).",
            source=SOURCE_PLRF,
            regime=ALL_PLRF,
            assumptions=LARGE_T,
            relation=r"\sim",
            verdict=_verdict(K.expr, sp.gamma(2 - 1 / b) / b * (2 * t) ** (-(2 - 1 / b)), "the kernel"),
            derivation="lrwb.theory.modesums.continuum_limit(2b, b)",
        ),
        Result(
            name="tail_continuum",
            lhs=r"\delta_N",
            expr=delta_n,
            description="Approximation error of a top-N model: the untrained target mass sum_{k>N} k^-a.",
            source=SOURCE_PLRF[:-1] + "; plrf.md §4 (compute-optimal, tail N^-(a-1)))",
            regime=ALL_PLRF,
            assumptions=("N -> infinity", "sum over k > N replaced by its integral"),
            relation=r"\sim",
            verdict=_verdict(delta_n, N ** (1 - a) / (a - 1), "the tail", "prefactor 1/(a-1) added"),
            derivation="lrwb.theory.modesums.tail: integral of k^-(1+a1) from N to infinity, a = 1 + a1",
        ),
        Result(
            name="kernel_l1_norm",
            lhs=r"\|K\|_1",
            expr=norm,
            description="Mass of the forgetting kernel, int_0^inf K = tr H / 2 (exact; N = infinity gives zeta(b)/2).",
            source="plrf.md §2-3; fsl.md §2 (Neumann factor 1/(1 - ||K||_1))",
            regime=ALL_PLRF,
            assumptions=("exact (Tonelli), N = infinity",),
            relation="=",
            verdict=_verdict(norm, sp.zeta(b) / 2, "||K||_1"),
            derivation="per-mode int lambda^2 exp(-2 lambda t) dt = lambda/2, summed over k (SymPy summation)",
        ),
        Result(
            name="renewal_mass",
            lhs=r"\tfrac{\eta}{B}\|K\|_1",
            expr=mass,
            description="Renewal mass per step of noise: the small-eta form of the stability sum; "
                        "the dynamics is stable only while it is < 1.",
            source="conventions.md (stability); fsl.md §2 (||K||_1 ~ eta tr H/(2B))",
            regime=ALL_PLRF,
            assumptions=("leading order in eta of sum_k (eta/B) lambda_k/(2 - ((B+1)/B) eta lambda_k)", "N = infinity"),
            relation=r"\approx",
            verdict=_verdict(mass, P.eta * sp.zeta(b) / (2 * P.B), "the renewal mass"),
            derivation="series in eta of the stability summand, times tr H = 2 ||K||_1",
        ),
        Result(
            name="signal_continuum_fsl",
            lhs="e(t)",
            expr=e_f.expr,
            description="FSL signal sum_j j^-(s beta + 1) exp(-2 j^-beta t): the t^-s law with its prefactor.",
            source=SOURCE_FSL,
            regime=ALL_FSL,
            assumptions=LARGE_T,
            relation=r"\sim",
            verdict=_verdict(e_f.exponent, s, "the exponent", "exponent s; prefactor Gamma(s)/beta added"),
            derivation="lrwb.theory.modesums.continuum_limit(s beta + 1, beta)",
        ),
        Result(
            name="kernel_continuum_fsl",
            lhs="K(t)",
            expr=K_f.expr,
            description="FSL forgetting kernel sum_j j^-2beta exp(-2 j^-beta t): the t^-(2-1/beta) law.",
            source=SOURCE_FSL,
            regime=ALL_FSL,
            assumptions=LARGE_T,
            relation=r"\sim",
            verdict=_verdict(K_f.expr, sp.gamma(2 - 1 / beta) / beta * (2 * t) ** (-(2 - 1 / beta)), "the kernel"),
            derivation="lrwb.theory.modesums.continuum_limit(2 beta, beta)",
        ),
        Result(
            name="tail_continuum_fsl",
            lhs=r"\delta_M",
            expr=delta_m,
            description="FSL approximation error of a top-M model, ~ M^-(s beta).",
            source=SOURCE_FSL,
            regime=ALL_FSL,
            assumptions=("M -> infinity",),
            relation=r"\sim",
            verdict=_verdict(delta_m, M ** (-s * beta) / (s * beta), "delta_M", "prefactor 1/(s beta) added"),
            derivation="lrwb.theory.modesums.tail_fsl",
        ),
    ]
    return tuple(out)


def results() -> list[Result]:
    """The mode-sum results (derived once per process)."""
    return list(_all_results())
