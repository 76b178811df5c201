"""High-precision twin of :func:`lrwb.numerics.dynamics.expected.expected_loss` (default 50 significant digits).

It runs the recursion in its textbook (raw-moment) form of ``plrf.md`` §2, independently of the centred
form the float64 engines use, so comparing the two bounds the float64 rounding error:

    c_k ← c_k [(1 − ηλ_k)² + η²λ_k²/B] + (η²/B) λ_k (σ² + δ_N + Σ_j λ_j c_j),     p_k ← (1 − ηλ_k)² p_k,

with p_k = (E e_k)² (bias = Σλp), and with momentum the raw moments C, R, V and the means m, u:

    G = ((B+1)/B) λ² C + (λ/B)(σ² + δ_N + Σλ_j C_j),  V' = μ²V + 2μλR + G,  R' = μR + λC − ηV',
    C' = C − 2η(μR + λC) + η²V',  u' = μu + λm,  m' = m − ηu'.

Inputs (η_t, λ_k, c_k(0), σ, B_t, μ_t) are float64 numbers converted exactly; 1/B is formed at the working
precision.

Two arbitrary-precision arithmetics run the same code, both correctly rounded to ``digits`` significant
decimal digits on every operation:

- ``"decimal"`` (default): the standard library's :mod:`decimal` (C-accelerated libmpdec), ≈ 10 µs per
  mode-step here, so the CI check (N = 200, T = 2000) takes seconds;
- ``"mpmath"``: ``mp.mpf`` at ``mp.dps = digits``, pure Python, ≈ 6–8× slower (its ops cost 5–15 µs each
  without gmpy2). The tests check that the two agree to ~10^−(digits−5).

Meant for tests and ill-conditioned cases (large b, long horizons), not for sweeps.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from operator import mul
from typing import Callable, ClassVar

import numpy as np
from mpmath import mp

from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.dynamics.curve import LossCurve
from lrwb.numerics.dynamics.engine import EngineResult, solve
from lrwb.numerics.dynamics.problem import DIVERGENCE_FACTOR, DynamicsProblem, check_on_divergence
from lrwb.numerics.spectra import Spectrum

__all__ = ["expected_loss_mp", "HighPrecisionEngine", "DEFAULT_DIGITS", "ARITHMETICS"]

DEFAULT_DIGITS = 50
ARITHMETICS = ("decimal", "mpmath")


@dataclass(frozen=True)
class _Arithmetic:
    """The few operations the recursion needs beyond + − × (exact float conversion, dot, √, finiteness)."""

    number: Callable          # float -> high-precision number (exact)
    dot: Callable             # (list, list) -> Σ a_i b_i
    sqrt: Callable
    isfinite: Callable


def _decimal_dot(a, b):
    return sum(map(mul, a, b))


_DECIMAL = _Arithmetic(number=decimal.Decimal, dot=_decimal_dot, sqrt=lambda x: x.sqrt(),
                       isfinite=lambda x: x.is_finite())
_MPMATH = _Arithmetic(number=mp.mpf, dot=mp.fdot, sqrt=mp.sqrt, isfinite=mp.isfinite)


def _precision(arithmetic: str, digits: int):
    """Context manager setting the working precision of the chosen arithmetic."""
    if arithmetic == "decimal":
        return decimal.localcontext(prec=digits)
    return mp.workdps(digits)


def _check_digits(digits) -> int:
    if int(digits) != digits or not 16 <= digits <= 10_000:
        raise ValueError(f"digits = {digits!r} must be an integer in [16, 10000] (float64 carries ~16)")
    return int(digits)


def _sgd_schedule(ar, lam, lam2, c0, lr, inv_batch, noise, threshold):
    """One schedule, plain SGD: lists (T+1) of excess loss and bias, and the divergence step (−1)."""
    c = list(c0)
    p = list(c0)
    one = ar.number(1.0)
    total = [ar.dot(lam, c)]
    bias = [ar.dot(lam, p)]
    for eta, ib in zip(lr, inv_batch):
        r = eta * eta * ib
        noise_coef = r * (noise + total[-1])
        u = [one - eta * l for l in lam]
        decay = list(map(mul, u, u))
        c = [ck * (dk + r * l2) + noise_coef * l for ck, dk, l, l2 in zip(c, decay, lam, lam2)]
        p = list(map(mul, p, decay))
        total.append(ar.dot(lam, c))
        bias.append(ar.dot(lam, p))
        if not (ar.isfinite(total[-1]) and total[-1] <= threshold):
            return total, bias, len(total) - 1
    return total, bias, -1


def _momentum_schedule(ar, lam, lam2, c0, lr, inv_batch, momentum, noise, threshold):
    """One schedule, heavy ball, raw moments C, R, V and means m, u."""
    zero = ar.number(0.0)
    one = ar.number(1.0)
    two = ar.number(2.0)
    second = list(c0)
    cross = [zero] * len(lam)
    velocity = [zero] * len(lam)
    mean_e = [-ar.sqrt(c) for c in c0]  # e(0) = 0 − w*
    mean_v = [zero] * len(lam)
    total = [ar.dot(lam, second)]
    bias = [total[0]]  # deterministic start: (E e)² = E e² = c(0) exactly (the rounded √ would differ by 1 ulp)
    for eta, ib, mu in zip(lr, inv_batch, momentum):
        shared = ib * (noise + total[-1])
        own = one + ib
        new_c, new_r, new_v = [], [], []
        for l, l2, c, r, v in zip(lam, lam2, second, cross, velocity):
            g = own * l2 * c + l * shared
            v_next = mu * mu * v + two * mu * l * r + g
            new_v.append(v_next)
            new_r.append(mu * r + l * c - eta * v_next)
            new_c.append(c - two * eta * (mu * r + l * c) + eta * eta * v_next)
        second, cross, velocity = new_c, new_r, new_v
        mean_v = [mu * u + l * m for u, l, m in zip(mean_v, lam, mean_e)]
        mean_e = [m - eta * u for m, u in zip(mean_e, mean_v)]
        total.append(ar.dot(lam, second))
        bias.append(ar.dot(lam, list(map(mul, mean_e, mean_e))))
        if not (ar.isfinite(total[-1]) and total[-1] <= threshold):
            return total, bias, len(total) - 1
    return total, bias, -1


def expected_loss_mp(
    spectrum: Spectrum,
    lr,
    *,
    sigma: float = DEFAULTS.sigma,
    batch=DEFAULTS.batch,
    momentum=0.0,
    steps: int | None = None,
    digits: int = DEFAULT_DIGITS,
    arithmetic: str = "decimal",
    on_divergence: str = "raise",
    keep_values: bool = False,
    allow_unstable: bool = False,
) -> LossCurve:
    """:func:`lrwb.numerics.dynamics.expected.expected_loss` at ``digits`` significant decimal digits.

    Same arguments, checks (the up-front stability check and ``allow_unstable`` included), divergence rule and :class:`~lrwb.numerics.dynamics.expected.LossCurve` (float64 arrays
    rounded from the high-precision values, ``digits`` set; no per-mode history). ``arithmetic`` is
    ``"decimal"`` (fast, default) or ``"mpmath"`` (``mp.mpf``). With ``keep_values=True`` the curve's
    ``mp_values`` holds the high-precision numbers (``Decimal`` or ``mpf``):
    ``{"loss": [...], "bias": [...], "variance": [...]}``, one list of T+1 per schedule (a single list for
    one schedule; a diverged schedule's list stops before the divergence step).

    >>> import numpy as np
    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> curve = expected_loss_mp(power_law_spectrum(3.5, 2.0, 4), np.full(3, 0.5), digits=30, keep_values=True)
    >>> curve.digits, curve.loss.shape, len(curve.mp_values["loss"])
    (30, (4,), 4)
    """
    engine = HighPrecisionEngine(digits=digits, arithmetic=arithmetic, keep_values=keep_values)
    check_on_divergence(on_divergence)
    problem = DynamicsProblem.build(spectrum, lr, sigma=sigma, batch=batch, momentum=momentum, steps=steps,
                                    allow_unstable=allow_unstable or on_divergence == "flag")
    return solve(engine, problem, on_divergence=on_divergence)


class HighPrecisionEngine:
    """The recursion in ``digits``-digit arithmetic (``"decimal"`` or ``"mpmath"``), bias/variance always;
    ``keep_values`` keeps the high-precision numbers (``EngineResult.mp_values``)."""

    name: ClassVar[str] = "highprec"

    def __init__(self, digits: int = DEFAULT_DIGITS, arithmetic: str = "decimal", keep_values: bool = False):
        self.digits = _check_digits(digits)
        if arithmetic not in ARITHMETICS:
            raise ValueError(f"arithmetic = {arithmetic!r} must be one of {', '.join(ARITHMETICS)}")
        self.arithmetic = arithmetic
        self.keep_values = keep_values

    def run(self, problem: DynamicsProblem, *, parts: bool = True, record_modes: bool = False) -> EngineResult:
        """Loss, bias and variance of every schedule (``parts`` is ignored: the split is always computed)."""
        if record_modes:
            raise ValueError("the high-precision engine keeps no per-mode history: pass record_modes=False")
        digits, arithmetic = self.digits, self.arithmetic
        ar = _DECIMAL if arithmetic == "decimal" else _MPMATH
        n_sched, n_steps = problem.lr.shape
        loss = np.full((n_sched, n_steps + 1), np.inf)
        bias = np.full((n_sched, n_steps + 1), np.inf)
        variance = np.full((n_sched, n_steps + 1), np.inf)
        diverged_step = np.full(n_sched, -1, dtype=np.int64)
        kept = {"loss": [], "bias": [], "variance": []}
        num = ar.number
        with _precision(arithmetic, digits):
            lam = [num(float(x)) for x in problem.eigenvalues]
            lam2 = [x * x for x in lam]
            c0 = [num(float(x)) for x in problem.target]
            tail = num(problem.tail)
            sigma2 = num(problem.sigma) * num(problem.sigma)
            noise = sigma2 + tail
            scale = ar.dot(lam, c0) + tail + sigma2
            threshold = num(DIVERGENCE_FACTOR) * scale if scale > 0 else num(float("inf"))
            for s in range(n_sched):
                lr_s = [num(float(x)) for x in problem.lr[s]]
                inv_b = [num(0.0) if np.isinf(b) else num(1.0) / num(float(b)) for b in problem.batch[s]]
                if problem.has_momentum:
                    mu_s = [num(float(x)) for x in problem.momentum[s]]
                    total, bias_hp, step = _momentum_schedule(ar, lam, lam2, c0, lr_s, inv_b, mu_s, noise, threshold)
                else:
                    total, bias_hp, step = _sgd_schedule(ar, lam, lam2, c0, lr_s, inv_b, noise, threshold)
                good = len(total) if step < 0 else step  # entries before the blow-up
                loss_hp = [x + tail for x in total[:good]]
                var_hp = [x - y for x, y in zip(total[:good], bias_hp[:good])]
                loss[s, :good] = [float(x) for x in loss_hp]
                bias[s, :good] = [float(x) for x in bias_hp[:good]]
                variance[s, :good] = [float(x) for x in var_hp]
                diverged_step[s] = step
                if self.keep_values:
                    kept["loss"].append(loss_hp)
                    kept["bias"].append(bias_hp[:good])
                    kept["variance"].append(var_hp)
        values = kept if self.keep_values else None
        return EngineResult(loss=loss, bias=bias, variance=variance, diverged_step=diverged_step, digits=digits,
                            mp_values=values)
