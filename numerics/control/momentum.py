"""Joint optimal control of the learning rate and the momentum (``plrf.md`` §2, §4 "Momentum", §6 Fig. 5).

State: per mode the three second moments of heavy-ball SGD (v ← μ_t v + g, w ← w − η_t v; ``conventions.md``),
C = E e², R = E e·v, V = E v² (e = w − w*), with a_t = 1 + 1/B_t and L_t = σ² + δ_N + S_t, S_t = Σ_j λ_j C_j(t):

    V' = μ²V + 2μλR + a λ² C + (λ/B) L_t,    R' = μR + λC − ηV',    C' = C − 2η(μR + λC) + η²V'

(:mod:`lrwb.numerics.dynamics.expected`; μ = 0 is plain SGD). Objective, excess loss in PLRF units (no ½), plus the authors'
smoothness penalty on the two controls (x, y) that are optimised (``plrf.md`` §2: κΣ(Δη)², and the same for β):

    J = Σ_t w_t (S_t + δ_N) + κ Σ_{t<T−1} [(x_{t+1} − x_t)² + (y_{t+1} − y_t)²].

Discrete adjoint (reverse sweep, O(N·T) time, the forward moments stored, O(N·T) memory), costates (q_C, q_R, q_V)
of (C', R', V') and q̃ = q_V − η q_R + η² q_C (V' feeds R' and C'):

    p_C = q_C(1 − 2ηλ) + q_R λ + q̃ aλ² + λ (Σ_j q̃_j λ_j)/B + w_t λ,   p_R = μ(q_R − 2η q_C + 2λ q̃),   p_V = μ² q̃,
    ∂J/∂η_t = Σ_k [q_C (2ηV' − 2(μR + λC)) − q_R V'],   ∂J/∂μ_t = Σ_k [q̃ (2μV + 2λR) + q_R R − 2η q_C R].

(:func:`momentum_loss_and_gradient` is the NumPy twin; :func:`heavy_ball_loss_and_gradient` runs one fused numba loop
per sweep). These are momentum's own sweeps (three moments per mode); μ ≡ 0 reduces them to the plain-SGD adjoint
of :mod:`lrwb.numerics.control.adjoint`.

Coordinates (``conventions.md``, "Momentum conversion"): the authors' code weights the new gradient by β_A,
v ← (1 − β_A)v + β_A g, and optimises (η, β_A) in the box [0, 1]². Per step we map

    μ_t = 1 − β_t,   η_HB,t = η_t β_t,   so ∂J/∂η_t = β_t ∂J/∂η_HB,t,   ∂J/∂β_t = η_t ∂J/∂η_HB,t − ∂J/∂μ_t.

This is the conventions' per-step map. For constant β_A it is the authors' recursion (u = v/β_A is a heavy-ball
velocity), up to their initial velocity, which at most delays their first move by one step; for a varying β_A
their EMA velocity is a heavy ball with μ_t = (1 − β_t)β_{t−1}/β_t, a relative difference O(Δβ/β) that the
smoothness penalty keeps small. Their box is the non-box set η_HB ≤ 1 − μ of heavy-ball coordinates;
``coordinates="heavy_ball"`` optimises (η_HB, μ) in the box [0, η_max] × [0, 1 − β_min] instead (the penalty
then acts on Δη_HB and Δμ). β_A is kept ≥ ``beta_min`` (default 1e−4) so that μ < 1 as the engine requires.
Results are always reported in heavy-ball coordinates (``lr`` = η_HB, ``momentum`` = μ), with the authors'
(η, β_A) alongside.

Solver (:func:`optimal_momentum_schedule`): L-BFGS-B over the 2T controls with the adjoint gradient, started
from the plain-SGD optimum of the same penalised problem (β ≡ 1; :func:`optimal_momentum_schedule` with
``optimize_momentum=False``, itself started from :func:`lrwb.numerics.control.lr.optimal_schedule`), or from a given
start (warm starts across horizons: :func:`optimal_momentum_schedules`). L-BFGS-B never increases J, so the
joint optimum's objective is at most the SGD-only one's. A divergent trial point counts as +∞ internally (a huge
finite value for the line search); the solver never raises on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from lrwb.numerics.backends import resolve_backend
from lrwb.numerics.checks import check_batch, check_momentum, check_positive_int, check_sigma
from lrwb.numerics.control.adjoint import (
    BACKENDS,
    DIVERGED_VALUE,
    HAVE_NUMBA,
    check_eta_max,
    check_schedule,
    check_spectrum,
    divergence_threshold,
    objective_weights,
)
from lrwb.numerics.control.lr import optimal_schedule
from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import find_violation, stable_eta_max

if HAVE_NUMBA:
    import numba

__all__ = [
    "COORDINATES",
    "BACKENDS",
    "CONVERGED_DECREASE",
    "MomentumGradient",
    "momentum_loss_and_gradient",
    "OptimalMomentumSchedule",
    "heavy_ball_loss_and_gradient",
    "authors_to_heavy_ball",
    "heavy_ball_to_authors",
    "smoothness_penalty",
    "ControlGradient",
    "momentum_objective",
    "optimal_momentum_schedule",
    "optimal_momentum_schedules",
]

COORDINATES = ("authors", "heavy_ball")


# ----------------------------------------------------------------------------------------------------------
# Kernels
# ----------------------------------------------------------------------------------------------------------


def _forward_kernel(lam, c0, lr, mu, inv_batch, noise, threshold, hist_c, hist_r, hist_v, sums):
    """Raw moments C, R, V at t = 0 … T into hist_* (T+1, N), S_t into sums; returns the blown-up t or −1."""
    n = lam.size
    s = 0.0
    for i in range(n):
        hist_c[0, i] = c0[i]
        hist_r[0, i] = 0.0
        hist_v[0, i] = 0.0
        s += lam[i] * c0[i]
    sums[0] = s
    for t in range(lr.size):
        eta = lr[t]
        m = mu[t]
        ib = inv_batch[t]
        a = 1.0 + ib
        shared = ib * (noise + s)
        s_new = 0.0
        for i in range(n):
            li = lam[i]
            c = hist_c[t, i]
            r = hist_r[t, i]
            v_new = m * m * hist_v[t, i] + 2.0 * m * li * r + a * li * li * c + li * shared
            hist_v[t + 1, i] = v_new
            hist_r[t + 1, i] = m * r + li * c - eta * v_new
            c_new = c - 2.0 * eta * (m * r + li * c) + eta * eta * v_new
            hist_c[t + 1, i] = c_new
            s_new += li * c_new
        s = s_new
        sums[t + 1] = s
        if not (s <= threshold):
            return t + 1
    return -1


def _reverse_kernel(lam, hist_c, hist_r, hist_v, lr, mu, inv_batch, weights, grad_lr, grad_mu, hess_lr, hess_mu,
                    hess_cross, q_c, q_r, q_v):
    """Reverse sweep (module docstring); q_* are length-N work arrays (the costates).

    Also the exact diagonal second derivatives (J is quadratic in η_t and in μ_t taken one at a time, and the
    costates q(t+1) do not depend on the step-t controls): ∂²J/∂η_t² = 2Σ q_C V', ∂²J/∂μ_t² = 2Σ q̃ V and
    ∂²J/∂η_t∂μ_t = Σ [q_C (2η dV − 2R) − q_R dV], dV = ∂V'/∂μ = 2μV + 2λR (the solver's diagonal scaling).
    """
    n = lam.size
    steps = lr.size
    eta = lr[steps - 1]
    qt_lam = 0.0  # Σ_j q̃_j λ_j of the step being processed (accumulated one step ahead)
    for i in range(n):
        q_c[i] = weights[steps] * lam[i]
        q_r[i] = 0.0
        q_v[i] = 0.0
        qt_lam += eta * eta * q_c[i] * lam[i]
    for t in range(steps - 1, -1, -1):
        eta = lr[t]
        m = mu[t]
        ib = inv_batch[t]
        a = 1.0 + ib
        shared = ib * qt_lam
        eta_prev = lr[t - 1] if t > 0 else 0.0
        g_eta = 0.0
        g_mu = 0.0
        h_ee = 0.0
        h_mm = 0.0
        h_em = 0.0
        next_qt_lam = 0.0
        w_t = weights[t]
        for i in range(n):
            li = lam[i]
            c = hist_c[t, i]
            r = hist_r[t, i]
            v = hist_v[t, i]
            v_new = hist_v[t + 1, i]
            qc = q_c[i]
            qr = q_r[i]
            qt = q_v[i] - eta * qr + eta * eta * qc
            dv = 2.0 * m * v + 2.0 * li * r
            g_eta += qc * (2.0 * eta * v_new - 2.0 * (m * r + li * c)) - qr * v_new
            g_mu += qt * dv + qr * r - 2.0 * eta * qc * r
            h_ee += qc * v_new
            h_mm += qt * v
            h_em += qc * (2.0 * eta * dv - 2.0 * r) - qr * dv
            qc_new = qc * (1.0 - 2.0 * eta * li) + qr * li + qt * a * li * li + li * (shared + w_t)
            qr_new = m * (qr - 2.0 * eta * qc + 2.0 * li * qt)
            qv_new = m * m * qt
            q_c[i] = qc_new
            q_r[i] = qr_new
            q_v[i] = qv_new
            next_qt_lam += (qv_new - eta_prev * qr_new + eta_prev * eta_prev * qc_new) * li
        grad_lr[t] = g_eta
        grad_mu[t] = g_mu
        hess_lr[t] = 2.0 * h_ee
        hess_mu[t] = 2.0 * h_mm
        hess_cross[t] = h_em
        qt_lam = next_qt_lam


if HAVE_NUMBA:
    from lrwb.numerics.resources import interruptible

    _jit = numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True)
    # in a helper thread when large, so Ctrl-C is seen during a long sweep (lrwb.numerics.resources)
    _forward_numba = interruptible(_jit(_forward_kernel))
    _reverse_numba = interruptible(_jit(_reverse_kernel))
else:  # pragma: no cover
    _forward_numba = _reverse_numba = None


# ----------------------------------------------------------------------------------------------------------
# Objective and gradient in heavy-ball coordinates
# ----------------------------------------------------------------------------------------------------------


class _MomentumProblem:
    """Buffers for repeated evaluations of J and ∂J/∂(η_HB, μ) on one (spectrum, T, σ, B) problem."""

    def __init__(self, spectrum: Spectrum, steps: int, *, sigma: float, batch, window=None, backend="auto"):
        check_spectrum(spectrum)
        sigma = check_sigma(sigma)
        self.steps = check_positive_int(steps, "steps")
        self.inv_batch = np.ascontiguousarray(1.0 / check_batch(batch, (self.steps,)))
        self.lam = np.ascontiguousarray(spectrum.eigenvalues, dtype=float)
        self.c0 = np.ascontiguousarray(spectrum.target, dtype=float)
        self.tail = float(spectrum.tail)
        self.noise = float(sigma) ** 2 + self.tail
        self.weights = objective_weights(self.steps, window)
        self.threshold = divergence_threshold(spectrum, sigma)
        self.kind = resolve_backend(backend, BACKENDS, numba=HAVE_NUMBA)
        n = self.lam.size
        if self.kind == "numba":
            self.hist = tuple(np.empty((self.steps + 1, n)) for _ in range(3))
            self.costates = tuple(np.empty(n) for _ in range(3))
        # Diagonal second derivatives of the last evaluation: ∂²/∂η², ∂²/∂μ², ∂²/∂η∂μ per step (numba only).
        self.hessian = tuple(np.full(self.steps, np.nan) for _ in range(3))
        self.sums = np.empty(self.steps + 1)
        self.spectrum, self.sigma, self.batch, self.window = spectrum, float(sigma), batch, window
        self.evaluations = 0

    def evaluate(self, lr: np.ndarray, mu: np.ndarray):
        """(J, ∂J/∂η_HB, ∂J/∂μ, diverged); the excess-loss curve is left in ``self.sums`` (+ tail)."""
        self.evaluations += 1
        lr = np.ascontiguousarray(lr, dtype=float)
        mu = np.ascontiguousarray(mu, dtype=float)
        zeros = np.zeros(self.steps)
        if self.kind == "numpy":
            res = momentum_loss_and_gradient(self.spectrum, lr, mu, sigma=self.sigma,
                                                      batch=float(1.0 / self.inv_batch[0]), window=self.window) \
                if np.all(self.inv_batch == self.inv_batch[0]) else None
            if res is None:
                raise ValueError("backend = 'numpy' supports a constant batch only; use backend='numba'")
            self.sums[:] = res.loss - self.tail
            if res.diverged:
                return np.inf, zeros, zeros.copy(), True
            return res.objective, res.lr_gradient, res.momentum_gradient, False
        hc, hr, hv = self.hist
        blown = _forward_numba(self.lam, self.c0, lr, mu, self.inv_batch, self.noise, self.threshold, hc, hr, hv,
                               self.sums)
        if blown >= 0:
            return np.inf, zeros, zeros.copy(), True
        objective = float(self.weights @ self.sums) + self.tail * float(self.weights.sum())
        grad_lr = np.empty(self.steps)
        grad_mu = np.empty(self.steps)
        _reverse_numba(self.lam, hc, hr, hv, lr, mu, self.inv_batch, self.weights, grad_lr, grad_mu, *self.hessian,
                       *self.costates)
        return objective, grad_lr, grad_mu, False


@dataclass(frozen=True)
class MomentumGradient:
    """Objective and its gradient for heavy-ball SGD (v ← μ_t v + g, w ← w − η_t v).

    Attributes:
        objective: J = Σ_t w_t (Σ_k λ_k C_k(t) + δ_N) (+inf when the run diverged).
        lr_gradient: ∂J/∂η_t, shape (T,).
        momentum_gradient: ∂J/∂μ_t, shape (T,).
        loss: excess loss at t = 0 … T.
        diverged: whether the forward run blew up.
    """

    objective: float
    lr_gradient: np.ndarray
    momentum_gradient: np.ndarray
    loss: np.ndarray
    diverged: bool


def momentum_loss_and_gradient(spectrum: Spectrum, lr, momentum, *, sigma: float, batch: float,
                               window: int | None = None) -> MomentumGradient:
    """J and its gradient in (η_t, μ_t) for heavy-ball SGD by the discrete adjoint (NumPy, per-step loop; the
    fallback of :func:`heavy_ball_loss_and_gradient`, whose numba kernels compute the same sweeps).

    Forward (``lrwb.numerics.dynamics.expected``, per mode; a = (B+1)/B, L_t = σ² + δ_N + Σ_j λ_j C_j):
        V' = μ²V + 2μλR + aλ²C + (λ/B) L,   R' = μR + λC − ηV',   C' = C − 2η(μR + λC) + η²V'.
    Reverse, with the costates (q_C, q_R, q_V) of (C', R', V') and q̃ = q_V − η q_R + η² q_C (V' feeds R', C'):
        p_C = q_C(1 − 2ηλ) + q_R λ + q̃ aλ² + λ (Σ_j q̃_j λ_j)/B + w_t λ,
        p_R = μ(q_R − 2η q_C + 2λ q̃),   p_V = μ² q̃,
        ∂J/∂η_t = Σ_k [q_C (2ηV' − 2(μR + λC)) − q_R V'],
        ∂J/∂μ_t = Σ_k [q̃ (2μV + 2λR) + q_R R − 2η q_C R].
    ``momentum`` is a scalar or a (T,) array in [0, 1). A divergent run gives +inf and zero gradients.

    >>> import numpy as np
    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> out = momentum_loss_and_gradient(spectrum, np.full(10, 0.3), 0.0, sigma=0.5, batch=5.0)
    >>> out.loss.shape, out.diverged
    ((11,), False)
    """
    eta = check_schedule(lr)
    steps = eta.size
    mu = check_momentum(momentum, (steps,))
    check_batch(batch, ())
    problem = _MomentumProblem(spectrum, steps, sigma=sigma, batch=batch, window=window, backend="numpy")
    lam, noise, inv_b, w = problem.lam, problem.noise, float(problem.inv_batch[0]), problem.weights
    a = 1.0 + inv_b
    lam2 = lam * lam
    hist_c = np.empty((steps + 1, lam.size))
    hist_r = np.zeros_like(hist_c)
    hist_v = np.zeros_like(hist_c)
    hist_c[0] = problem.c0
    sums = np.empty(steps + 1)
    sums[0] = lam @ problem.c0
    for t in range(steps):
        c, r, v = hist_c[t], hist_r[t], hist_v[t]
        v_new = mu[t] ** 2 * v + 2 * mu[t] * lam * r + a * lam2 * c + inv_b * lam * (noise + sums[t])
        hist_v[t + 1] = v_new
        hist_r[t + 1] = mu[t] * r + lam * c - eta[t] * v_new
        hist_c[t + 1] = c - 2 * eta[t] * (mu[t] * r + lam * c) + eta[t] ** 2 * v_new
        sums[t + 1] = lam @ hist_c[t + 1]
        if not (sums[t + 1] <= problem.threshold):
            zeros = np.zeros(steps)
            return MomentumGradient(np.inf, zeros, zeros.copy(), np.full(steps + 1, np.inf), True)
    objective = float(w @ sums) + problem.tail * float(w.sum())
    grad_eta = np.empty(steps)
    grad_mu = np.empty(steps)
    q_c, q_r, q_v = w[steps] * lam, np.zeros_like(lam), np.zeros_like(lam)
    for t in range(steps - 1, -1, -1):
        c, r, v, v_new = hist_c[t], hist_r[t], hist_v[t], hist_v[t + 1]
        e, m = eta[t], mu[t]
        q_tilde = q_v - e * q_r + e * e * q_c
        grad_eta[t] = q_c @ (2 * e * v_new - 2 * (m * r + lam * c)) - q_r @ v_new
        grad_mu[t] = q_tilde @ (2 * m * v + 2 * lam * r) + q_r @ r - 2 * e * (q_c @ r)
        p_c = q_c * (1 - 2 * e * lam) + q_r * lam + q_tilde * a * lam2 + lam * (inv_b * (q_tilde @ lam) + w[t])
        p_r = m * (q_r - 2 * e * q_c + 2 * lam * q_tilde)
        p_v = m * m * q_tilde
        q_c, q_r, q_v = p_c, p_r, p_v
    return MomentumGradient(objective, grad_eta, grad_mu, sums + problem.tail, False)


def heavy_ball_loss_and_gradient(spectrum: Spectrum, lr, momentum, *, sigma: float, batch=DEFAULTS.batch,
                                 window: int | None = None, backend: str = "auto") -> MomentumGradient:
    """J = Σ_t w_t (excess loss) and its gradient in (η_t, μ_t) for heavy-ball SGD (module docstring).

    Same result as :func:`momentum_loss_and_gradient` (its NumPy twin), here by one fused numba loop per sweep;
    ``batch`` may also be per step (T,). A divergent run gives +inf, zero gradients and ``diverged=True`` (no
    exception).

    >>> import numpy as np
    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> out = heavy_ball_loss_and_gradient(spectrum, np.full(10, 0.3), 0.5, sigma=0.5, batch=5.0)
    >>> out.lr_gradient.shape, out.momentum_gradient.shape, out.diverged
    ((10,), (10,), False)
    """
    eta = check_schedule(lr)
    mu = check_momentum(momentum, (eta.size,))
    problem = _MomentumProblem(spectrum, eta.size, sigma=sigma, batch=batch, window=window, backend=backend)
    value, g_lr, g_mu, diverged = problem.evaluate(eta, mu)
    if diverged:
        return MomentumGradient(np.inf, g_lr, g_mu, np.full(eta.size + 1, np.inf), True)
    return MomentumGradient(value, g_lr, g_mu, problem.sums + problem.tail, False)


# ----------------------------------------------------------------------------------------------------------
# Coordinates and penalty
# ----------------------------------------------------------------------------------------------------------


def authors_to_heavy_ball(eta, beta) -> tuple[np.ndarray, np.ndarray]:
    """(η, β_A) of the authors' code → heavy-ball (η_HB, μ) = (η β_A, 1 − β_A), per step (``conventions.md``)."""
    eta = np.asarray(eta, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if np.any(~((beta > 0) & (beta <= 1))):
        raise ValueError(f"beta_A = {beta!r} must be in (0, 1] (beta_A = 0 would be momentum μ = 1)")
    return eta * beta, 1.0 - beta


def heavy_ball_to_authors(lr, momentum) -> tuple[np.ndarray, np.ndarray]:
    """Heavy-ball (η_HB, μ) → the authors' (η, β_A) = (η_HB/(1 − μ), 1 − μ)."""
    lr = np.asarray(lr, dtype=float)
    mu = np.asarray(momentum, dtype=float)
    if np.any(~((mu >= 0) & (mu < 1))):
        raise ValueError(f"momentum μ = {momentum!r} must be in [0, 1)")
    return lr / (1.0 - mu), 1.0 - mu


def smoothness_penalty(values, smoothness: float) -> tuple[float, np.ndarray]:
    """κ Σ_t (x_{t+1} − x_t)² and its gradient in x (one control sequence)."""
    x = np.asarray(values, dtype=float)
    diff = np.diff(x)
    grad = np.zeros_like(x)
    grad[:-1] -= 2.0 * smoothness * diff
    grad[1:] += 2.0 * smoothness * diff
    return float(smoothness * diff @ diff), grad


@dataclass(frozen=True)
class ControlGradient:
    """The penalised objective and its gradient in the optimised coordinates (:func:`momentum_objective`).

    Attributes:
        objective: J = (final or window-mean excess loss) + κΣ(Δx)² + κΣ(Δy)² (+inf when diverged).
        gradient_first, gradient_second: ∂J/∂x_t and ∂J/∂y_t, (x, y) = (η, β_A) or (η_HB, μ); zeros when diverged.
        penalty: the smoothness part of ``objective``.
        loss: excess loss at t = 0 … T.
        diverged: whether the forward run blew up.
    """

    objective: float
    gradient_first: np.ndarray
    gradient_second: np.ndarray
    penalty: float
    loss: np.ndarray
    diverged: bool


def momentum_objective(spectrum: Spectrum, first, second, *, sigma: float, batch=DEFAULTS.batch,
                       smoothness: float = 0.0, coordinates: str = "authors", window: int | None = None,
                       backend: str = "auto") -> ControlGradient:
    """J and ∂J/∂(x, y) in the optimised coordinates: (x, y) = (η, β_A) for ``coordinates="authors"`` (mapped per
    step to η_HB = xy, μ = 1 − y; ∂J/∂x = y ∂J/∂η_HB, ∂J/∂y = x ∂J/∂η_HB − ∂J/∂μ) or (η_HB, μ) for
    ``"heavy_ball"``, including the smoothness penalty κΣ(Δx)² + κΣ(Δy)².

    >>> import numpy as np
    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> out = momentum_objective(spectrum, np.full(10, 0.5), np.full(10, 0.5), sigma=0.5, smoothness=1e-3)
    >>> out.penalty, out.gradient_second.shape
    (0.0, (10,))
    """
    _check_options(coordinates, smoothness, 0.5, 1.0)
    x = check_schedule(first)
    y = np.asarray(second, dtype=float)
    if y.shape != x.shape:
        raise ValueError(f"second control has shape {y.shape}, expected {x.shape} (one value per step)")
    lr, mu = (authors_to_heavy_ball(x, y) if coordinates == "authors" else (x, check_momentum(y, (x.size,))))
    problem = _MomentumProblem(spectrum, x.size, sigma=sigma, batch=batch, window=window, backend=backend)
    value, g_lr, g_mu, diverged = problem.evaluate(lr, mu)
    if diverged:
        zeros = np.zeros(x.size)
        return ControlGradient(np.inf, zeros, zeros.copy(), np.nan, np.full(x.size + 1, np.inf), True)
    gx, gy = _gradient_in_coordinates(x, y, g_lr, g_mu, coordinates)
    px, dpx = smoothness_penalty(x, smoothness)
    py, dpy = smoothness_penalty(y, smoothness)
    return ControlGradient(value + px + py, gx + dpx, gy + dpy, px + py, problem.sums + problem.tail, False)


# ----------------------------------------------------------------------------------------------------------
# Solver
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimalMomentumSchedule:
    """Result of :func:`optimal_momentum_schedule`, reported in heavy-ball coordinates.

    Attributes:
        lr: heavy-ball η_HB,t, t = 0 … T−1.
        momentum: heavy-ball μ_t (all zero when ``optimize_momentum`` was False).
        eta_authors, beta_authors: the same schedule in the authors' (η, β_A) = (η_HB/(1 − μ), 1 − μ).
        loss: excess loss at t = 0 … T (PLRF units, no ½).
        final_loss: loss[T].
        objective: the minimised J = (final or window-mean loss) + smoothness penalty.
        penalty: the smoothness-penalty part of ``objective``.
        coordinates: ``"authors"`` or ``"heavy_ball"`` (the optimised pair and the penalised differences).
        smoothness: κ.
        eta_max: bound on the optimised learning-rate coordinate (η, or η_HB).
        projected_gradient: the largest KKT violation of the box problem in the optimised coordinates, max |g_i|
            over free variables and over the bound-violating signs at active ones (0 at a KKT point), relative to
            max |∇J| at the start.
        iterations: L-BFGS-B iterations (both stages when started from the SGD optimum).
        evaluations: objective/gradient evaluations.
        runtime_s: wall time of the solve.
        message: L-BFGS-B's stopping message.
        predicted_decrease: Σ_i of the decrease of J one diagonal Newton step per variable would give (clipped to
            the box; exact diagonal curvature of :func:`_reverse_kernel` + 4κ), relative to J: scale-free, and 0
            at a KKT point (NaN on the NumPy backend, which has no curvature).
        converged: ``predicted_decrease`` ≤ :data:`CONVERGED_DECREASE` and L-BFGS-B stopped before ``maxiter``
            (NumPy backend: L-BFGS-B's own success flag).
        warning: set when the cap was above the stability bound (clipped, or kept with ``allow_unstable``) or
            when an ``allow_unstable`` result has steps above the bound.
    """

    lr: np.ndarray
    momentum: np.ndarray
    eta_authors: np.ndarray
    beta_authors: np.ndarray
    loss: np.ndarray
    final_loss: float
    objective: float
    penalty: float
    coordinates: str
    smoothness: float
    eta_max: float
    projected_gradient: float
    iterations: int
    evaluations: int
    runtime_s: float
    message: str
    predicted_decrease: float = float("nan")
    converged: bool = True
    warning: str | None = None


#: Largest relative decrease of J still available to a diagonal Newton step that counts as converged. Measured
#: (a = 3.5, b = 2, B = 5, defaults): converged solves give 5e−12…1.5e−9, the one-iteration stop of issue #11
#: at T = 1000 gave 3.9e−6.
CONVERGED_DECREASE = 1e-7


def _diagonal_curvature(problem, x, y, coordinates, smoothness, optimize_momentum):
    """|∂²J/∂z_i²| in the optimised coordinates from the last evaluation, + 4κ (None without numba)."""
    h_ee, h_mm, h_em = problem.hessian
    if not np.all(np.isfinite(h_ee)):
        return None
    if coordinates == "authors":  # η_HB = xy, μ = 1 − y
        h_x, h_y = y * y * h_ee, x * x * h_ee - 2.0 * x * h_em + h_mm
    else:
        h_x, h_y = h_ee, h_mm
    return np.abs(np.concatenate([h_x, h_y]) if optimize_momentum else h_x) + 4.0 * smoothness


def _predicted_decrease(z, grad, curvature, lower, upper, value) -> float:
    """Σ_i max over the box of −(g_i d_i + ½ h_i d_i²), d_i = clip(z_i − g_i/h_i) − z_i, relative to |J|."""
    if curvature is None or not value:
        return float("nan")
    h = np.where(curvature > 0, curvature, np.inf)
    step = np.clip(z - grad / h, lower, upper) - z
    gain = -(grad * step + 0.5 * curvature * step * step)
    return float(np.sum(np.maximum(gain, 0.0)) / abs(value))


def _controls_from_coordinates(x, y, coordinates):
    """(η_HB, μ) and the chain-rule factors from the optimised pair (x, y)."""
    if coordinates == "authors":
        return x * y, 1.0 - y
    return x, y


def _gradient_in_coordinates(x, y, g_lr, g_mu, coordinates):
    if coordinates == "authors":  # η_HB = xy, μ = 1 − y
        return y * g_lr, x * g_lr - g_mu
    return g_lr, g_mu


def _check_options(coordinates, smoothness, beta_min, eta_max):
    if coordinates not in COORDINATES:
        raise ValueError(f"coordinates = {coordinates!r} must be one of {COORDINATES}")
    if not (np.isfinite(smoothness) and smoothness >= 0):
        raise ValueError(f"smoothness = {smoothness!r} must be finite and >= 0")
    if not (0 < beta_min < 1):
        raise ValueError(f"beta_min = {beta_min!r} must be in (0, 1)")
    return check_eta_max(eta_max)


def _start_pair(start, steps, coordinates):
    """A (lr, momentum) start in heavy-ball coordinates → the optimised pair (x, y)."""
    lr, mu = start
    lr = check_schedule(lr)
    mu = check_momentum(mu, (lr.size,))
    if lr.size != steps:
        raise ValueError(f"start has {lr.size} steps, expected steps = {steps}")
    if coordinates == "authors":
        return heavy_ball_to_authors(lr, mu)
    return lr, mu


def _projected_gradient(z, grad, lower, upper, bound_tol=1e-12) -> float:
    """max_i of |∂J/∂z_i| where z_i is free, max(∂J/∂z_i, 0) at a lower bound, max(−∂J/∂z_i, 0) at an upper one."""
    span = upper - lower
    at_lower = z <= lower + bound_tol * span
    at_upper = z >= upper - bound_tol * span
    violation = np.where(at_lower, np.maximum(-grad, 0.0), np.where(at_upper, np.maximum(grad, 0.0), np.abs(grad)))
    return float(violation.max()) if violation.size else 0.0


def _diagonal_scale(problem, x, y, coordinates, smoothness, optimize_momentum):
    """Per-variable scale s = |∂²J/∂z²|^{−1/2} (normalised to max 1) from the exact diagonal curvature of the
    last evaluation (:func:`_reverse_kernel`) plus the penalty's 4κ; the identity without numba."""
    h_ee, h_mm, h_em = problem.hessian
    if not np.all(np.isfinite(h_ee)):
        return np.ones(2 * x.size if optimize_momentum else x.size)
    if coordinates == "authors":  # η_HB = xy, μ = 1 − y
        h_x, h_y = y * y * h_ee, x * x * h_ee - 2.0 * x * h_em + h_mm
    else:
        h_x, h_y = h_ee, h_mm
    h = np.abs(np.concatenate([h_x, h_y]) if optimize_momentum else h_x) + 4.0 * smoothness
    h = np.maximum(h, 1e-10 * h.max()) if h.max() > 0 else np.ones_like(h)
    scale = 1.0 / np.sqrt(h)
    return scale / scale.max()


def _bounds(steps, eta_max, beta_min, coordinates, optimize_momentum):
    """Box of the optimised variables: x ∈ [0, η_max], y ∈ [β_min, 1] (authors) or [0, 1 − β_min] (heavy ball)."""
    y_lo, y_hi = (beta_min, 1.0) if coordinates == "authors" else (0.0, 1.0 - beta_min)
    if not optimize_momentum:
        return np.zeros(steps), np.full(steps, eta_max)
    return (np.concatenate([np.zeros(steps), np.full(steps, y_lo)]),
            np.concatenate([np.full(steps, eta_max), np.full(steps, y_hi)]))


def optimal_momentum_schedule(spectrum: Spectrum, steps: int, *, sigma: float, batch=DEFAULTS.batch,
                              eta_max: float = DEFAULTS.eta_max, smoothness: float = 0.0, coordinates: str = "authors",
                              optimize_momentum: bool = True, beta_min: float = 1e-4, window: int | None = None,
                              start=None, maxiter: int = 3000, tol: float = 1e-12, backend: str = "auto",
                              allow_unstable: bool = False) -> OptimalMomentumSchedule:
    """min over (η_t, μ_t) of J = (final or window-mean excess loss) + κ Σ(Δx)² + κ Σ(Δy)² (module docstring).

    ``coordinates="authors"``: (x, y) = (η, β_A) ∈ [0, η_max] × [β_min, 1]; ``"heavy_ball"``: (x, y) = (η_HB, μ)
    ∈ [0, η_max] × [0, 1 − β_min]. ``optimize_momentum=False`` pins μ ≡ 0 (β_A ≡ 1) and optimises η alone under
    the same penalty: the plain-SGD optimum the joint one is compared with. ``start``: a pair (lr, momentum) in
    heavy-ball coordinates, or a list of such pairs (the one with the lowest J is used); default: the SGD-only
    optimum of this penalised problem (itself started from :func:`lrwb.numerics.control.lr.optimal_schedule`), so the
    joint objective never exceeds the SGD-only one. ``tol``: L-BFGS-B's ftol (relative decrease of J per
    iteration, J normalised by its start value); 1e−9 gives J to ~1e−5 relative in a fraction of the iterations.
    ``converged`` and ``predicted_decrease`` say whether the result is a KKT point (:data:`CONVERGED_DECREASE`).

    Stability: the box's μ = 0 edge is plain SGD, so a cap above the SGD bound of the smallest batch is clipped
    to it with a warning (:func:`lrwb.numerics.stability.stable_eta_max`; ``allow_unstable=True`` keeps it). Trial
    points that diverge count as +∞. The returned schedule is checked step by step against the momentum bound
    (:func:`lrwb.numerics.stability.find_violation`): a finite-horizon optimum can pass through (η_t, μ_t) above the
    constant-LR bound for a few steps (e.g. the hard phase in heavy-ball coordinates, large μ mid-training),
    which its exact loss allows; that is reported in ``warning``, not raised.

    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> opt = optimal_momentum_schedule(spectrum, 10, sigma=0.5, batch=5.0, smoothness=1e-3, tol=1e-9)
    >>> opt.lr.shape, opt.momentum.shape, bool(opt.objective <= opt.loss[0])
    ((10,), (10,), True)
    """
    clock = time.perf_counter()
    steps = check_positive_int(steps, "steps")
    eta_max = _check_options(coordinates, smoothness, beta_min, eta_max)
    problem = _MomentumProblem(spectrum, steps, sigma=sigma, batch=batch, window=window, backend=backend)
    eta_max, cap_warning = stable_eta_max(eta_max, problem.lam, 1.0 / np.max(problem.inv_batch),
                                          allow_unstable=allow_unstable)
    iterations = 0
    if start is None:
        if optimize_momentum:
            sgd = optimal_momentum_schedule(spectrum, steps, sigma=sigma, batch=batch, eta_max=eta_max,
                                            smoothness=smoothness, coordinates=coordinates, optimize_momentum=False,
                                            beta_min=beta_min, window=window, maxiter=maxiter, tol=tol,
                                            backend=backend, allow_unstable=allow_unstable)
            iterations += sgd.iterations
            problem.evaluations += sgd.evaluations
            start = (sgd.lr, sgd.momentum)
        else:
            batch_mean = float(1.0 / np.mean(problem.inv_batch))
            sgd = optimal_schedule(spectrum, steps, sigma=sigma, batch=batch_mean, eta_max=eta_max,
                                            window=window, polish=0, maxiter=maxiter, backend=backend,
                                            allow_unstable=allow_unstable)
            iterations += sgd.iterations
            problem.evaluations += sgd.evaluations
            start = (sgd.lr, np.zeros(steps))
    lower, upper = _bounds(steps, eta_max, beta_min, coordinates, optimize_momentum)
    pinned_y = np.full(steps, 1.0 if coordinates == "authors" else 0.0)  # μ ≡ 0 when momentum is not optimised

    def split(z):
        return z[:steps], (z[steps:] if optimize_momentum else pinned_y)

    def total(z):
        x, y = split(z)
        lr, mu = _controls_from_coordinates(x, y, coordinates)
        value, g_lr, g_mu, diverged = problem.evaluate(lr, mu)
        if diverged:
            return DIVERGED_VALUE, np.zeros_like(z)
        gx, gy = _gradient_in_coordinates(x, y, g_lr, g_mu, coordinates)
        px, dpx = smoothness_penalty(x, smoothness)
        if not optimize_momentum:
            return value + px, gx + dpx
        py, dpy = smoothness_penalty(y, smoothness)
        return value + px + py, np.concatenate([gx + dpx, gy + dpy])

    candidates = [start] if isinstance(start, tuple) else list(start)
    if not candidates:
        raise ValueError("start must be a pair (lr, momentum) or a non-empty list of such pairs")
    starts = [np.clip(np.concatenate(_start_pair(c, steps, coordinates)) if optimize_momentum
                      else _start_pair(c, steps, coordinates)[0], lower, upper) for c in candidates]
    values = [total(z)[0] for z in starts]  # the candidate with the lowest J (a divergent one counts as +∞)
    z0 = starts[int(np.argmin(values))]
    start_value, start_grad = total(z0)  # also leaves the curvature of z0 in problem.hessian
    if start_value >= DIVERGED_VALUE:
        raise ValueError("optimal_momentum_schedule: the start diverges (its excess loss exceeds "
                         f"{problem.threshold:.3g}); give a stable start or lower eta_max = {eta_max}")
    grad_scale = float(np.max(np.abs(start_grad))) or 1.0
    # Variables scaled by the exact diagonal curvature at the start, z = s·ζ with s ∝ |∂²J/∂z²|^{−1/2}: it spans
    # orders of magnitude over t when the penalty is small (late steps act on a small loss).
    x0, y0 = split(z0)
    scale = _diagonal_scale(problem, x0, y0, coordinates, smoothness, optimize_momentum)

    # J divided by its start value: L-BFGS-B's ftol test is (J_k − J_{k+1})/max(|J_k|, |J_{k+1}|, 1), so an
    # unnormalised J ~ 1e−3 turns ftol = 1e−12 into 1e−9 relative and a first tiny step stops the solve.
    reference = abs(start_value) if start_value > 0 else 1.0

    def scaled(zeta):
        value, grad = total(zeta * scale)
        return value / reference, grad * (scale / reference)

    result = optimize.minimize(scaled, z0 / scale, jac=True, method="L-BFGS-B",
                               bounds=list(zip(lower / scale, upper / scale)),
                               options=dict(maxiter=maxiter, maxcor=30, ftol=tol, gtol=1e-14, maxfun=3 * maxiter))
    z = np.clip(result.x * scale, lower, upper)
    value, grad = total(z)
    if value > start_value:  # L-BFGS-B returns its last iterate, which never exceeds the start; guard anyway
        z, (value, grad) = z0, total(z0)
    x, y = split(z)
    decrease = _predicted_decrease(z, grad, _diagonal_curvature(problem, x, y, coordinates, smoothness,
                                                                optimize_momentum), lower, upper, value)
    converged = bool(decrease <= CONVERGED_DECREASE) if np.isfinite(decrease) else bool(result.success)
    converged = converged and int(result.nit) < maxiter
    lr, mu = _controls_from_coordinates(x, y, coordinates)
    loss = problem.sums + problem.tail
    # A finite-horizon optimum may pass through (η, μ) above the constant-LR bound for a few steps (its loss is
    # the exact one): not an error, but said loudly (and re-running it in an engine needs allow_unstable).
    found = find_violation(lr, problem.lam, 1.0 / problem.inv_batch, mu)
    step_warning = None if found is None else (
        "the optimum uses steps above the constant-(η, μ) stability bound: "
        + found.message(what="optimised learning rate")
        + " (a finite-horizon optimum passing through them; its loss is exact, but the engines need "
        "allow_unstable / --allow-unstable to re-run it)")
    warning = "; ".join(w for w in (cap_warning, step_warning) if w) or None
    penalty = smoothness_penalty(x, smoothness)[0]
    if optimize_momentum:
        penalty += smoothness_penalty(y, smoothness)[0]
    eta_a, beta_a = heavy_ball_to_authors(lr, mu)
    return OptimalMomentumSchedule(
        lr=lr, momentum=mu, eta_authors=eta_a, beta_authors=beta_a, loss=loss.copy(), final_loss=float(loss[-1]),
        objective=float(value), penalty=float(penalty), coordinates=coordinates, smoothness=float(smoothness),
        eta_max=eta_max, projected_gradient=_projected_gradient(z, grad, lower, upper) / grad_scale,
        iterations=iterations + int(result.nit), evaluations=problem.evaluations,
        runtime_s=time.perf_counter() - clock, message=str(result.message), predicted_decrease=decrease,
        converged=converged, warning=warning)


def _carry(previous: OptimalMomentumSchedule, steps: int, coordinates: str):
    """A previous optimum carried to another horizon at equal t/T, interpolated in the optimised coordinates
    (smooth in t/T), returned in heavy-ball coordinates."""
    old = (np.arange(previous.lr.size) + 0.5) / previous.lr.size
    new = (np.arange(steps) + 0.5) / steps
    if coordinates == "authors":
        return authors_to_heavy_ball(np.interp(new, old, previous.eta_authors),
                                     np.interp(new, old, previous.beta_authors))
    return np.interp(new, old, previous.lr), np.interp(new, old, previous.momentum)


def optimal_momentum_schedules(spectrum: Spectrum, horizons, *, sigma: float, batch=DEFAULTS.batch,
                               eta_max: float = DEFAULTS.eta_max, smoothness: float = 0.0, coordinates: str = "authors",
                               optimize_momentum: bool = True, extra_starts=None,
                               **kwargs) -> list[OptimalMomentumSchedule]:
    """:func:`optimal_momentum_schedule` for each horizon in increasing order; each after the first is
    warm-started from the previous optimum carried over in t/T. ``extra_starts``: per horizon (same order as
    ``horizons``) a further start candidate (lr, momentum) or None — e.g. the SGD-only optimum, which makes the
    joint objective at most the SGD-only one at every horizon (the better candidate is used).

    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> [r.lr.size for r in optimal_momentum_schedules(spectrum, [10, 5], sigma=0.5, smoothness=1e-3, tol=1e-9)]
    [10, 5]
    """
    horizons = [check_positive_int(h, "steps") for h in horizons]
    if not horizons:
        raise ValueError("horizons must list at least one horizon T >= 1")
    if extra_starts is not None and len(extra_starts) != len(horizons):
        raise ValueError(f"extra_starts has {len(extra_starts)} entries, expected one per horizon ({len(horizons)})")
    results: list = [None] * len(horizons)
    previous = None
    for i in np.argsort(horizons, kind="stable"):
        starts = [] if previous is None else [_carry(previous, horizons[i], coordinates)]
        if extra_starts is not None and extra_starts[i] is not None:
            starts.append(tuple(extra_starts[i]))
        previous = optimal_momentum_schedule(spectrum, horizons[i], sigma=sigma, batch=batch, eta_max=eta_max,
                                             smoothness=smoothness, coordinates=coordinates,
                                             optimize_momentum=optimize_momentum, start=starts or None, **kwargs)
        results[i] = previous
    return results
