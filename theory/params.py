"""Symbols of both theories, their domains, and the PLRF (a, b) <-> FSL (s, β) dictionary.

One symbol per quantity (``conventions.md``, "Names"): ``a, b`` PLRF task/spectrum exponents; ``s, beta``
FSL source/capacity exponents; ``B`` batch size; ``T`` horizon in steps (the FSL's K); ``N`` model size
(the FSL's M); ``D`` data = B·K; ``C`` compute = M·D. SymPy symbol assumptions can only say "positive";
the sharper domains (a > 1, …) live in :data:`DOMAINS` as relations, used both to validate numeric input
and, through :func:`excess_substitution`, to let SymPy prove statements that need them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

# --- model exponents -------------------------------------------------------------------------------
a = sp.Symbol("a", positive=True)  # PLRF task exponent: λ_k w*_k² = k^{-a}
b = sp.Symbol("b", positive=True)  # PLRF spectrum exponent: λ_k = k^{-b}
s = sp.Symbol("s", positive=True)  # FSL source exponent: λ_j θ*_j² ≍ j^{-(sβ+1)}
beta = sp.Symbol("beta", positive=True)  # FSL capacity exponent: λ_j ≍ j^{-β}

# --- problem sizes and hyper-parameters ------------------------------------------------------------
sigma = sp.Symbol("sigma", nonnegative=True)  # label-noise standard deviation
B = sp.Symbol("B", positive=True)  # batch size
T = sp.Symbol("T", positive=True)  # horizon in steps (FSL: K)
N = sp.Symbol("N", positive=True)  # model size / features (FSL: M)
M = sp.Symbol("M", positive=True)  # FSL model size (= N)
D = sp.Symbol("D", positive=True)  # data = B·K
C = sp.Symbol("C", positive=True)  # compute = M·D
K = sp.Symbol("K", positive=True)  # FSL horizon in steps (= T)
eta = sp.Symbol("eta", positive=True)  # learning rate
gamma = sp.Symbol("gamma", positive=True)  # FSL noise strength η/B
eta_max = sp.Symbol("eta_max", positive=True)  # learning-rate cap

# --- time variables --------------------------------------------------------------------------------
t = sp.Symbol("t", positive=True)  # intrinsic time (or step, where stated)
u = sp.Symbol("u", positive=True)  # remaining intrinsic time / kernel argument
x = sp.Symbol("x", positive=True)  # fraction of training t/T

#: PLRF -> FSL (fsl.md §1): β = b, s = (a − 1)/b.
PLRF_TO_FSL = {beta: b, s: (a - 1) / b}
#: FSL -> PLRF: b = β, a = 1 + sβ.
FSL_TO_PLRF = {b: beta, a: 1 + s * beta}

#: Easy phase, boundary included (conventions.md: a = b is registered as easy).
EASY_PLRF = sp.Le(b, a)
EASY_FSL = sp.Ge(s, 1 - 1 / beta)


@dataclass(frozen=True)
class Domain:
    """The valid range of one parameter: a SymPy relation plus its human-readable form."""

    symbol: sp.Symbol
    lower: float
    strict: bool
    text: str

    def contains(self, value: float) -> bool:
        return value > self.lower if self.strict else value >= self.lower


DOMAINS: dict[str, Domain] = {
    "a": Domain(a, 1.0, True, "a > 1"),
    "b": Domain(b, 1.0, True, "b > 1"),
    "s": Domain(s, 0.0, True, "s > 0"),
    "beta": Domain(beta, 1.0, True, "beta > 1"),
    "sigma": Domain(sigma, 0.0, False, "sigma >= 0"),
    "B": Domain(B, 1.0, False, "batch B >= 1"),
    "T": Domain(T, 0.0, True, "T > 0"),
    "N": Domain(N, 0.0, True, "N > 0"),
    "M": Domain(M, 0.0, True, "M > 0"),
    "D": Domain(D, 0.0, True, "D > 0"),
    "C": Domain(C, 0.0, True, "C > 0"),
    "K": Domain(K, 0.0, True, "K > 0"),
}


def check_domain(name: str, value) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming it and its valid range."""
    domain = DOMAINS.get(name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"parameter {name} = {value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"parameter {name} = {value!r} is not finite")
    if domain is not None and not domain.contains(number):
        raise ValueError(f"parameter {name} = {value!r} is outside its domain: {domain.text}")
    return number


def fsl_from_plrf(a_value: float, b_value: float) -> tuple[float, float]:
    """(a, b) -> (s, β) with β = b, s = (a − 1)/b, after validating a, b > 1."""
    av, bv = check_domain("a", a_value), check_domain("b", b_value)
    return (av - 1.0) / bv, bv


def plrf_from_fsl(s_value: float, beta_value: float) -> tuple[float, float]:
    """(s, β) -> (a, b) with b = β, a = 1 + sβ, after validating s > 0, β > 1."""
    sv, bv = check_domain("s", s_value), check_domain("beta", beta_value)
    return 1.0 + sv * bv, bv


def excess_substitution() -> dict[sp.Symbol, sp.Expr]:
    """Write each exponent as its lower bound plus a positive symbol (a = 1 + a₁, β = 1 + β₁, …).

    SymPy assumptions cannot state a > 1; after this substitution they can, so ``simplify``/``is_positive``
    can prove statements that hold on the whole domain.
    """
    a1, b1, beta1 = sp.symbols("a_1 b_1 beta_1", positive=True)
    return {a: 1 + a1, b: 1 + b1, beta: 1 + beta1}


#: CLI/JSON parameter names (conventions.md, ``--eval``) -> symbols.
EVAL_NAMES: dict[str, sp.Symbol] = {
    "a": a,
    "b": b,
    "s": s,
    "beta": beta,
    "sigma": sigma,
    "batch": B,
    "steps": T,
    "features": N,
    "eta_max": eta_max,
}


def evaluation_point(**params) -> dict[sp.Symbol, float]:
    """Numeric values of every symbol a result may need, from the ``--eval`` vocabulary.

    Accepts PLRF (a, b) or FSL (s, beta) exponents (the other pair is derived), ``batch``, ``steps``,
    ``features``, ``sigma``, ``eta_max`` and raw symbol names (D, C, M, K, t, u, …). Derived sizes:
    K = T, M = N, D = B·K, C = M·D, unless given. Raises ``ValueError`` naming an invalid value.
    """
    by_name = {str(sym): sym for sym in (a, b, s, beta, sigma, B, T, N, M, D, C, K, eta, gamma, eta_max, t, u, x)}
    values: dict[sp.Symbol, float] = {}
    for key, value in params.items():
        sym = EVAL_NAMES.get(key, by_name.get(key))
        if sym is None:
            valid = ", ".join(sorted(set(EVAL_NAMES) | set(by_name)))
            raise ValueError(f"unknown parameter {key!r}; valid names: {valid}")
        values[sym] = check_domain(str(sym) if str(sym) in DOMAINS else key, value)
    if a in values and b in values:
        sv, bv = fsl_from_plrf(values[a], values[b])
        for sym, derived in ((s, sv), (beta, bv)):
            if sym in values and abs(values[sym] - derived) > 1e-12 * max(1.0, abs(derived)):
                raise ValueError(f"{sym} = {values[sym]} contradicts a = {values[a]}, b = {values[b]} ({sym} = {derived})")
            values[sym] = derived
    elif s in values and beta in values:
        values[a], values[b] = plrf_from_fsl(values[s], values[beta])
    if T in values:
        values.setdefault(K, values[T])
    if K in values:
        values.setdefault(T, values[K])
    if N in values:
        values.setdefault(M, values[N])
    if M in values:
        values.setdefault(N, values[M])
    if B in values and K in values:
        values.setdefault(D, values[B] * values[K])
    if M in values and D in values:
        values.setdefault(C, values[M] * values[D])
    return values
