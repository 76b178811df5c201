"""The true stability bound of SGD (and heavy-ball SGD) on a quadratic (``conventions.md``, "Stability").

Plain SGD, batch B, constant η. The expected second moments c_k = E e_k² obey c' = (diag g + (η²/B) λλᵀ) c
(+ label noise), g_k = (1 − ηλ_k)² + η²λ_k²/B. It is stable iff every g_k < 1 **and** the renewal
condition holds:

    ‖K‖₁ = Σ_k (η/B) λ_k / (2 − ((B+1)/B) η λ_k) < 1.

Heavy ball, momentum μ ∈ [0, 1) (v ← μv + g, w ← w − ηv; derivation below). Per mode, with

    a_k = η λ_k (1 + μ) / (B (1 − μ) (2(1 + μ) − η λ_k)),

it is stable iff every η λ_k < 2(1 + μ), every a_k < 1, **and** ‖K‖₁ = Σ_k a_k / (1 − a_k) < 1.
At μ = 0: a_k < 1 ⟺ g_k < 1 and a_k/(1 − a_k) = (η/B)λ_k / (2 − ((B+1)/B)ηλ_k), the two conditions above.

Derivation (momentum). In the eigenbasis one step is v' = μv + λe + ξ, e' = e − ηv', where the gradient
noise ξ has conditional variance (λ/B)(λ e² + Σ_j λ_j e_j² + σ²) (Gaussian fourth moments). Per mode the
second moments X = (C, R, V) = (E e², E ev, E v²) obey a 3×3 linear map, the symmetric square of the mean map

    M = [[1 − ηλ, −ημ], [λ, μ]]   (on (e, v); trace 1 + μ − ηλ, det μ),

plus the noise, which enters along n nᵀ, n = (−η, 1) (it adds (η², −η, 1)·Var ξ to (C, R, V)):

    X' = (M ⊗ M) X + (λ²/B) C · n nᵀ  +  (λ/B) (σ² + Σ_j λ_j C_j) · n nᵀ.

1. Mean map: M is stable iff |trace| < 1 + det and det < 1, i.e. 0 < ηλ < 2(1 + μ).
2. A unit of noise variance injected once raises Σ_{t≥1} C_t by r = [P]₁₁, where P = M P Mᵀ + n nᵀ
   (discrete Lyapunov equation); solving it (SymPy, ``tests/numerics/test_stability.py``):
   r = η(1 + μ) / (λ (1 − μ)(2(1 + μ) − ηλ)).
3. Own-mode loop: C feeds noise (λ²/B) C back, gain a_k = λ_k² r_k / B. The 3×3 per-mode map (M ⊗ M plus
   this rank-one term) preserves the cone of PSD 2×2 matrices, so it is stable iff M is and a_k < 1.
4. Shared loop (rank one, through L = Σ_j λ_j C_j): an injection of shared variance s into mode k yields
   Σ_t C_k = r_k (λ_k/B) s / (1 − a_k), so one round trip has gain ‖K‖₁ = Σ_k (λ_k² r_k / B) / (1 − a_k)
   = Σ_k a_k / (1 − a_k). For a cone-preserving stable D and u, v in the cone and its dual, ρ(D + u vᵀ) < 1
   ⟺ vᵀ(I − D)⁻¹u < 1, which is this condition.

The full 3N×3N map's spectral radius crosses 1 exactly at the bound (checked in the tests, as is the exact
momentum dynamics just below/above it). Every part is monotone in η, so the stable set is [0, η_c) and
η_c is found by bisection. Examples (N = 1000, λ_k = k^{−b}): B = 1, b = 2 → η < 0.611068; B = 5, b = 2 →
η < 1.406; with μ the bound on η_HB shrinks roughly like (1 − μ) (the noise is amplified by 1/(1 − μ)).

Checks: :func:`check_learning_rates` tests every step's (η_t, B_t, μ_t) up front (the engines call it) and
raises :class:`UnstableLearningRateError`, naming the step, η, the bound and the failing condition, or, with
``allow_unstable=True``, returns that text as a warning. :func:`stable_eta_max` does the same for an
optimiser's cap η_max (clipped to the bound unless ``allow_unstable``).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from lrwb.numerics.checks import check_batch, check_momentum

__all__ = [
    "DivergenceError",
    "UnstableLearningRateError",
    "UnstableLearningRateWarning",
    "StabilityViolation",
    "renewal_norm",
    "is_stable",
    "stability_bound",
    "momentum_renewal_norm",
    "momentum_stability_bound",
    "check_learning_rates",
    "find_violation",
    "stable_eta_max",
    "clip_cap",
    "bound_description",
]


class DivergenceError(ValueError):
    """The expected loss of SGD blows up; the message names the step and the stability bound."""

    def __init__(self, message: str, *, step: int | None = None, bound: float | None = None):
        super().__init__(message)
        self.step = step
        self.bound = bound


class UnstableLearningRateError(DivergenceError):
    """A learning rate above the stability bound, found before any work (``allow_unstable=True`` runs anyway).

    Attributes: ``step`` (first offending step t), ``eta`` (η_t), ``bound`` (η_c for that step's B_t, μ_t),
    ``condition`` (which part fails: ``"per-mode"`` or ``"renewal"``).
    """

    def __init__(self, message: str, *, step: int | None = None, eta: float | None = None,
                 bound: float | None = None, condition: str | None = None):
        super().__init__(message, step=step, bound=bound)
        self.eta = eta
        self.condition = condition


class UnstableLearningRateWarning(UserWarning):
    """A result computed above the stability bound (``allow_unstable=True``) or with η_max clipped to it."""


# ----------------------------------------------------------------------------------------------------------
# The norms and bounds
# ----------------------------------------------------------------------------------------------------------


def renewal_norm(eta, eigenvalues, batch: float = 1.0):
    """‖K‖₁ = Σ_k (η/B) λ_k / (2 − ((B+1)/B) η λ_k), the mass of the SGD-noise renewal kernel (μ = 0).

    Broadcasts over ``eta``; returns +inf where some mode is already unstable (g_k ≥ 1).
    """
    eta = np.asarray(eta, dtype=float)
    lam = np.asarray(eigenvalues, dtype=float)
    # (B+1)/B written as 1 + 1/B so that B = inf (exact gradients) gives 1, not inf/inf.
    denom = 2.0 - (1.0 + 1.0 / batch) * eta[..., None] * lam
    with np.errstate(divide="ignore"):
        terms = np.where(denom > 0, (eta[..., None] / batch) * lam / np.where(denom > 0, denom, 1.0), np.inf)
    return terms.sum(axis=-1)


def is_stable(eta, eigenvalues, batch: float = 1.0):
    """Whether constant-η SGD has bounded expected loss (both parts of the bound). Broadcasts over η."""
    return renewal_norm(eta, eigenvalues, batch) < 1.0


def stability_bound(eigenvalues, batch: float = 1.0, *, rtol: float = 1e-12) -> float:
    """The largest stable constant LR η_crit (supremum of the stable set; the returned value is stable).

    >>> eta = stability_bound([1.0, 0.5])
    >>> round(float(eta), 4), round(float(renewal_norm(eta, [1.0, 0.5])), 6)  # the renewal norm is 1 at the bound
    (0.6096, 1.0)
    """
    lam = np.asarray(eigenvalues, dtype=float)
    check_batch(batch, np.shape(batch))  # B >= 1; inf (exact gradients) allowed; NaN refused
    hi = 2.0 / ((1.0 + 1.0 / batch) * lam.max())  # where the top mode's g_k reaches 1 (B = inf: 2/λ_max)
    lo = 0.0
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if renewal_norm(mid, lam, batch) < 1.0:
            lo = mid
        else:
            hi = mid
    return lo


def _momentum_gain(eta, lam, batch, mu):
    """(a_k, margin_k = 2(1 + μ) − ηλ_k) with η, B, μ of shape S (or scalars) against λ of shape N."""
    eta = np.asarray(eta, dtype=float)[..., None]
    batch = np.asarray(batch, dtype=float)[..., None]
    mu = np.asarray(mu, dtype=float)[..., None]
    margin = 2.0 * (1.0 + mu) - eta * lam
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = eta * lam * (1.0 + mu) / (batch * (1.0 - mu) * np.where(margin > 0, margin, 1.0))
    return gain, margin


def momentum_renewal_norm(eta, eigenvalues, batch=1.0, momentum=0.0):
    """‖K‖₁ = Σ_k a_k/(1 − a_k) of constant-(η, B, μ) heavy-ball SGD (module docstring), +inf where a mode is
    unstable (ηλ_k ≥ 2(1 + μ) or a_k ≥ 1). ``eta``, ``batch``, ``momentum`` broadcast to one shape; B = inf
    (exact gradients) gives 0 wherever the modes are stable. At μ = 0 it equals :func:`renewal_norm`."""
    lam = np.asarray(eigenvalues, dtype=float)
    eta, batch, mu = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (eta, batch, momentum)))
    gain, margin = _momentum_gain(eta, lam, batch, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((margin > 0) & (gain < 1.0), gain / (1.0 - gain), np.inf)
    return terms.sum(axis=-1)


def momentum_stability_bound(eigenvalues, batch=1.0, momentum=0.0, *, rtol: float = 1e-12):
    """The largest stable constant LR η_c for batch B and heavy-ball momentum μ (bisection; the returned value
    is stable). At μ = 0 this is :func:`stability_bound`; at B = ∞ it is 2(1 + μ)/λ_max.
    Vectorised: ``batch`` and ``momentum`` may be arrays of one shape (one bound per pair).

    >>> round(momentum_stability_bound([1.0, 0.5], 1.0, 0.9), 4)
    0.0829
    """
    lam = np.asarray(eigenvalues, dtype=float)
    batch_arr, mu_arr = np.broadcast_arrays(np.asarray(batch, dtype=float), np.asarray(momentum, dtype=float))
    check_batch(batch_arr, batch_arr.shape)
    check_momentum(mu_arr, mu_arr.shape)
    hi = 2.0 * (1.0 + mu_arr) / lam.max()  # where the top mode's mean dynamics stop being stable
    lo = np.zeros_like(hi)
    while np.any(hi - lo > rtol * hi):
        mid = 0.5 * (lo + hi)
        stable = momentum_renewal_norm(mid, lam, batch_arr, mu_arr) < 1.0
        lo = np.where(stable, mid, lo)
        hi = np.where(stable, hi, mid)
    return float(lo) if lo.ndim == 0 else lo


@functools.lru_cache(maxsize=512)
def _cached_bound(lam_bytes: bytes, batch: float, momentum: float) -> float:
    lam = np.frombuffer(lam_bytes, dtype=float)
    if momentum == 0.0:
        return float(2.0 / lam.max()) if np.isinf(batch) else float(stability_bound(lam, batch))
    return float(momentum_stability_bound(lam, batch, momentum))


def bound_for(eigenvalues, batch: float = 1.0, momentum: float = 0.0) -> float:
    """η_c for one (B, μ) pair (cached: a bisection costs ~2 ms at N = 1000)."""
    lam = np.ascontiguousarray(eigenvalues, dtype=float)
    return _cached_bound(lam.tobytes(), float(batch), float(momentum))


def bound_description(batch: float, momentum: float = 0.0) -> str:
    """Which bound: 'B = 5, μ = 0.9; two-part bound: …' (for messages)."""
    hyper = f"B = {batch:g}" + (f", μ = {momentum:g}" if momentum else "")
    parts = ("every ηλ_k < 2(1+μ) and a_k < 1, and ‖K‖₁ = Σ a_k/(1−a_k) < 1" if momentum
             else "every g_k < 1 and ‖K‖₁ < 1")
    return f"{hyper}; two-part bound: {parts}"


# ----------------------------------------------------------------------------------------------------------
# Up-front checks of a run
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StabilityViolation:
    """The first step of a run above the stability bound.

    Attributes: schedule (row, for a batch), step t, eta η_t, batch B_t, momentum μ_t, bound η_c(B_t, μ_t),
    condition (``"per-mode"``: some ηλ_k ≥ 2(1+μ) or g_k / a_k ≥ 1; ``"renewal"``: ‖K‖₁ ≥ 1), norm (‖K‖₁ at
    η_t, inf when a mode fails), violating (how many steps of the run are above the bound; −1 when not counted).
    """

    schedule: int
    step: int
    eta: float
    batch: float
    momentum: float
    bound: float
    condition: str
    norm: float
    violating: int

    def message(self, *, single: bool = True, what: str = "learning rate") -> str:
        where = f"step {self.step}" if single else f"schedule {self.schedule}, step {self.step}"
        if self.condition == "per-mode":
            why = ("the per-mode condition fails (g_k ≥ 1 for the top mode)" if not self.momentum
                   else "the per-mode condition fails (ηλ_1 ≥ 2(1+μ) or a_1 ≥ 1 for the top mode)")
        else:
            why = f"the renewal condition fails (‖K‖₁ = {self.norm:.4g} ≥ 1)"
        more = f"; {self.violating} steps above the bound in all" if self.violating > 1 else ""
        return (f"{what} η = {self.eta:.6g} at {where} is above the stability bound η < {self.bound:.6g} "
                f"({bound_description(self.batch, self.momentum)}): {why}{more}")


def _condition(eta: float, lam: np.ndarray, batch: float, momentum: float) -> tuple[str, float]:
    gain, margin = _momentum_gain(eta, lam, batch, momentum)
    per_mode = bool(np.any(margin <= 0) or np.any(gain >= 1.0))
    norm = float(momentum_renewal_norm(eta, lam, batch, momentum))
    return ("per-mode" if per_mode else "renewal"), norm


def find_violation(lr, eigenvalues, batch=1.0, momentum=0.0) -> StabilityViolation | None:
    """The first (schedule, step) whose (η_t, B_t, μ_t) is outside the stable set, or ``None``.

    ``lr`` (T,) or (S, T); ``batch``/``momentum`` scalars or broadcastable to it. ‖K‖₁ is monotone in η, so
    per distinct (B, μ) pair only its largest η_t is tested (one O(N) norm per pair); bounds (bisection) are
    computed only for the pairs that fail. Cost O(pairs·N + S·T). η_t ≤ η_c counts as stable (η_c itself is
    stable: the bisection returns the stable end).
    """
    lam = np.asarray(eigenvalues, dtype=float)
    lr2 = np.atleast_2d(np.asarray(lr, dtype=float))
    if lam.size == 0 or lr2.size == 0:
        return None
    b2 = np.broadcast_to(np.asarray(batch, dtype=float), lr2.shape)
    m2 = np.broadcast_to(np.asarray(momentum, dtype=float), lr2.shape)
    if np.ndim(batch) == 0 and np.ndim(momentum) == 0:
        pairs, inverse = np.array([[float(batch), float(momentum)]]), np.zeros(lr2.size, dtype=np.int64)
    else:
        pairs, inverse = np.unique(np.stack([b2.ravel(), m2.ravel()], axis=1), axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
    if len(pairs) == 1:
        top = np.array([lr2.max()])
    else:
        top = np.full(len(pairs), -np.inf)
        np.maximum.at(top, inverse, lr2.ravel())
    norms = np.empty(len(pairs))
    chunk = max(1, 4_000_000 // lam.size)  # bounded (pairs × N) work arrays
    for i in range(0, len(pairs), chunk):
        sl = slice(i, i + chunk)
        norms[sl] = momentum_renewal_norm(top[sl], lam, pairs[sl, 0], pairs[sl, 1])
    failing = np.flatnonzero(~(norms < 1.0))
    if failing.size == 0:
        return None
    flat_lr, flat_b, flat_m = lr2.ravel(), b2.ravel(), m2.ravel()
    if failing.size <= 64:  # usual case: bound each failing pair (bisection, cached), compare η_t with it: O(S·T)
        bounds = np.full(len(pairs), np.inf)
        for i in failing:
            bounds[i] = bound_for(lam, pairs[i, 0], pairs[i, 1])
        bad = flat_lr > bounds[inverse]
        if not bad.any():  # η_t within rtol of η_c: the norm said unstable, the bisection stable; call it stable
            return None
        first, violating = int(np.argmax(bad)), int(bad.sum())
    else:  # many (B, μ) pairs fail (per-step batches): the first step whose own ‖K‖₁ ≥ 1, in chunks
        candidates = np.flatnonzero(np.isin(inverse, failing))
        first, violating = -1, -1  # the count is not computed here
        for i in range(0, candidates.size, chunk):
            idx = candidates[i:i + chunk]
            bad_here = ~(momentum_renewal_norm(flat_lr[idx], lam, flat_b[idx], flat_m[idx]) < 1.0)
            if bad_here.any():
                first = int(idx[np.argmax(bad_here)])
                break
        if first < 0:
            return None
    s, t = divmod(first, lr2.shape[1])
    eta, b_t, mu_t = float(flat_lr[first]), float(flat_b[first]), float(flat_m[first])
    bound_t = bound_for(lam, b_t, mu_t)
    condition, norm = _condition(eta, lam, b_t, mu_t)
    return StabilityViolation(schedule=s, step=t, eta=eta, batch=b_t, momentum=mu_t, bound=bound_t,
                              condition=condition, norm=norm, violating=violating)


def check_learning_rates(lr, eigenvalues, batch=1.0, momentum=0.0, *, allow_unstable: bool = False,
                         single: bool | None = None, what: str = "learning rate") -> str | None:
    """Check every step's η_t against the true bound for its (B_t, μ_t) before any work.

    Raises :class:`UnstableLearningRateError` (naming the step, η, the bound and the failing condition) at
    the first violation; with ``allow_unstable=True`` returns the same text, prefixed "unstable run:", as a
    warning for the output instead (and ``None`` when the run is stable).
    """
    found = find_violation(lr, eigenvalues, batch, momentum)
    if found is None:
        return None
    single = np.ndim(lr) == 1 if single is None else single
    text = found.message(single=single, what=what)
    if not allow_unstable:
        raise UnstableLearningRateError(f"{text} (allow_unstable=True / --allow-unstable runs it anyway)",
                                        step=found.step, eta=found.eta, bound=found.bound,
                                        condition=found.condition)
    return f"unstable run: {text}; the result is shown as computed (--allow-unstable)"


def stable_eta_max(eta_max: float, eigenvalues, batch=1.0, momentum=0.0, *, allow_unstable: bool = False,
                   what: str = "eta_max") -> tuple[float, str | None]:
    """An optimiser's cap η_max against the stability bound η_c (the smallest over the given B, μ values).

    A cap is a constraint, not a value: the feasible set of a stable optimiser is [0, min(η_max, η_c)], so a
    cap above η_c is clipped to η_c (an optimum never needs an unstable step) and the clip is stated:
    returns (cap to use, warning or ``None``), and emits :class:`UnstableLearningRateWarning`. With
    ``allow_unstable=True`` the cap is kept (the solver treats divergent trial points as +∞) and the warning
    says so.
    """
    pairs = np.unique(np.stack(np.broadcast_arrays(np.ravel(np.asarray(batch, dtype=float)),
                                                   np.ravel(np.asarray(momentum, dtype=float))), axis=1), axis=0)
    bound, b_min, m_at = min((bound_for(eigenvalues, b, m), b, m) for b, m in pairs)
    return clip_cap(eta_max, bound, bound_description(b_min, m_at), allow_unstable=allow_unstable, what=what)


def clip_cap(eta_max: float, bound: float, description: str, *, allow_unstable: bool = False,
             what: str = "eta_max") -> tuple[float, str | None]:
    """(cap, warning) for a cap η_max against a given bound (see :func:`stable_eta_max`)."""
    if eta_max <= bound:
        return float(eta_max), None
    if allow_unstable:
        text = (f"{what} = {eta_max:g} is above the stability bound η < {bound:.6g} ({description}); kept as asked "
                "(--allow-unstable): the result may use unstable steps")
        keep = float(eta_max)
    else:
        text = (f"{what} = {eta_max:g} is above the stability bound η < {bound:.6g} ({description}); clipped to "
                f"{bound:.6g} (--allow-unstable keeps it)")
        keep = float(bound)
    warnings.warn(text, UnstableLearningRateWarning, stacklevel=3)
    return keep, text
