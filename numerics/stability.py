"""The true stability bound of constant-LR SGD on a quadratic (``conventions.md``, "Stability").

At constant η the expected second-moment recursion is linear with matrix diag(g_k) + (η²/B) λλᵀ,
g_k = (1 − ηλ_k)² + η²λ_k²/B. It is stable iff every g_k < 1 **and** the renewal condition holds:
‖K‖₁ = Σ_k (η/B) λ_k / (2 − ((B+1)/B) η λ_k) < 1. Both parts are monotone in η, so the bound is found
by bisection. Examples (N = 1000, λ_k = k^{-b}): B = 1, b = 2 → η < 0.611; B = 5, b = 2 → η < 1.406.
"""

from __future__ import annotations

import numpy as np


class DivergenceError(ValueError):
    """The expected loss of SGD blows up; the message names the step and the stability bound."""

    def __init__(self, message: str, *, step: int | None = None, bound: float | None = None):
        super().__init__(message)
        self.step = step
        self.bound = bound


def renewal_norm(eta, eigenvalues, batch: float = 1.0):
    """‖K‖₁ = Σ_k (η/B) λ_k / (2 − ((B+1)/B) η λ_k), the mass of the SGD-noise renewal kernel.

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
    """The largest stable constant LR η_crit (supremum of the stable set), by bisection."""
    lam = np.asarray(eigenvalues, dtype=float)
    if batch < 1:
        raise ValueError(f"batch = {batch!r} must be >= 1")
    hi = 2.0 / ((1.0 + 1.0 / batch) * lam.max())  # where the top mode's g_k reaches 1 (B = inf: 2/λ_max)
    lo = 0.0
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if renewal_norm(mid, lam, batch) < 1.0:
            lo = mid
        else:
            hi = mid
    return lo
