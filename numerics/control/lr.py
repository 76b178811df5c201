"""Optimal learning-rate schedules by optimal control of the exact SGD dynamics (``plrf.md`` §5).

State: the per-mode second moments c_k(t) of plain SGD (batch B, no momentum; ``plrf.md`` §2),

    c_k(t+1) = g_k(η_t) c_k(t) + r_t λ_k (n + S_t),   S_t = Σ_j λ_j c_j(t),
    g_k(η) = (1 − ηλ_k)² + η²λ_k²/B,   r_t = η_t²/B,   n = σ² + δ_N (label noise plus the untrained tail).

Objective (excess loss, PLRF units, no ½): J = Σ_t w_t (S_t + δ_N) with weights w on t = 0 … T — the final
loss (w_T = 1) or the loss averaged over the last W steps (w_t = 1/W for t = T−W+1 … T).

Discrete adjoint (reverse sweep, O(N·T) time; the forward moments are stored, O(N·T) memory): with the
costate p_k(t) = ∂J/∂c_k(t) and P_t = Σ_k λ_k p_k(t),

    p_k(T) = w_T λ_k,   p_k(t) = g_k(η_t) p_k(t+1) + λ_k (r_t P_{t+1} + w_t),
    ∂J/∂η_t = Σ_k p_k(t+1) [g_k'(η_t) c_k(t) + (2η_t/B) λ_k (n + S_t)],   g_k'(η) = −2λ_k(1 − ηλ_k) + 2ηλ_k²/B.

Pontryagin: the Hamiltonian H_t(η) = Σ_k p_k(t+1) c_k(t+1) is quadratic in η_t, ∂H_t/∂η = 2(Q_t η − D_t) with
D_t = Σ_k p_k(t+1) λ_k c_k(t) and Q_t = ((B+1)/B) Σ_k p_k(t+1) λ_k² c_k(t) + P_{t+1}(n + S_t)/B, so given
the costates the stationary step size is η*_t = D_t/Q_t. The certificate of a schedule is the relative
stationarity residual |η_t − η*_t|/η*_t = |∂J/∂η_t| / (2 D_t) on the steps where the box 0 ≤ η_t ≤ η_max is
inactive (:func:`stationarity_residual`).

Solver (:func:`optimal_schedule`): scipy's L-BFGS-B over the box with the adjoint gradient, warm-started
from the best of a few clipped collapse shapes (:func:`default_start`) or, in a sweep of horizons
(:func:`optimal_schedules`), from the previous horizon's optimum carried over in t/T; in variables scaled by
the Pontryagin curvature (diagonal preconditioning, ~10× fewer iterations); then polished by projected
Newton steps on the inactive set (Hessian-vector products by finite differences of the adjoint gradient,
conjugate gradients preconditioned by the same curvature), which bring the residual to ~1e−13…1e−9.

Momentum: :func:`momentum_loss_and_gradient` gives the adjoint gradient in (η_t, μ_t) (NumPy; the numba twin and
the joint (η_t, μ_t) optimisation are in :mod:`lrwb.numerics.control.momentum`, the batch ramp in
:mod:`lrwb.numerics.control.batch`). A divergent trial point counts as +∞ internally
(a huge finite value for the line search); the solvers never raise on it.

Baselines (:func:`tuned_baselines`), each tuned per horizon on the same exact dynamics: best constant,
power law η0(1+t)^{−χ} (η0 ∈ [0, η_max], χ ≥ 0), cosine-to-zero, linear-to-zero and WSD (peak and decay
fraction; exponential decay to peak/1000, :func:`best_wsd`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from lrwb.numerics import schedules as _schedules
from lrwb.numerics.dynamics.expected import DIVERGENCE_FACTOR, expected_loss
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import stability_bound, stable_eta_max

#: The pinned Pontryagin stationarity tolerance (``conventions.md``): an optimum whose relative residual on the
#: inactive steps exceeds it is reported as not converged.
CONVERGED_RESIDUAL = 1e-6

try:  # numba is optional; the NumPy path below is the fallback (and the benchmark's naive baseline).
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False

__all__ = [
    "AdjointGradient",
    "MomentumGradient",
    "momentum_loss_and_gradient",
    "OptimalSchedule",
    "BaselineSchedule",
    "objective_weights",
    "loss_and_gradient",
    "stationarity_residual",
    "optimal_schedule",
    "optimal_schedules",
    "rescale_schedule",
    "collapse_start",
    "default_start",
    "best_constant",
    "best_power_law",
    "best_cosine",
    "best_linear",
    "best_wsd",
    "tuned_baselines",
    "BACKENDS",
]

BACKENDS = ("auto", "numba", "numpy")

# Objective value handed to the line search for a divergent trial point (it stands for +∞; scipy's line
# search needs a finite number to backtrack from).
_DIVERGED_VALUE = 1e30


# ----------------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdjointGradient:
    """Objective and its exact gradient for one schedule.

    Attributes:
        objective: J = Σ_t w_t (S_t + δ_N) (+inf when the run diverged).
        gradient: ∂J/∂η_t, shape (T,) (NaN-free; zeros when diverged).
        pontryagin_lr: η*_t = D_t/Q_t, the Hamiltonian's stationary step size given the costates, shape (T,).
        loss: excess loss S_t + δ_N at t = 0 … T, shape (T+1,).
        diverged: whether the forward run blew up.
    """

    objective: float
    gradient: np.ndarray
    pontryagin_lr: np.ndarray
    loss: np.ndarray
    diverged: bool


@dataclass(frozen=True)
class OptimalSchedule:
    """Result of :func:`optimal_schedule`.

    Attributes:
        lr: the optimal η_t, t = 0 … T−1.
        loss: excess loss along it, t = 0 … T.
        final_loss: loss[T].
        objective: the minimised J (final loss, or the window average).
        eta_max: the upper bound used.
        residual: relative stationarity residual |η_t − η*_t|/η*_t per step (NaN on steps at a bound).
        max_residual: max of ``residual`` over the inactive steps (0 if none).
        inactive: mask of steps strictly inside the box.
        iterations: L-BFGS-B iterations + polishing Newton steps.
        evaluations: objective/gradient evaluations.
        converged: ``max_residual`` ≤ :data:`CONVERGED_RESIDUAL` (the pinned Pontryagin tolerance).
        warning: the cap η_max was above the stability bound (clipped to it, or kept with ``allow_unstable``).
    """

    lr: np.ndarray
    loss: np.ndarray
    final_loss: float
    objective: float
    eta_max: float
    residual: np.ndarray
    max_residual: float
    inactive: np.ndarray
    iterations: int
    evaluations: int
    converged: bool = True
    warning: str | None = None


@dataclass(frozen=True)
class BaselineSchedule:
    """A tuned parametric schedule.

    Attributes:
        family: ``constant``, ``power``, ``cosine``, ``linear`` or ``wsd``.
        parameters: the tuned parameters by name (e.g. ``{"eta0": …, "chi": …}``).
        spec: the schedule in the project grammar (``conventions.md``), e.g. ``power:0.8,0.6``.
        lr: η_t, t = 0 … T−1.
        final_loss: excess loss at T.
    """

    family: str
    parameters: dict
    spec: str
    lr: np.ndarray
    final_loss: float


# ----------------------------------------------------------------------------------------------------------
# Kernels: forward (stores c(t)) and reverse (costates, gradient, Pontryagin η*)
# ----------------------------------------------------------------------------------------------------------


def _forward_kernel(lam, c0, lr, inv_batch, noise, threshold, hist, sums):
    """c(t) for t = 0 … T into hist (T+1, N), S_t into sums; returns the first blown-up t or −1.

    ``inv_batch`` holds 1/B_t per step (T,), so the batch-ramp solver (``control_batch``) shares this sweep."""
    n = lam.size
    s = 0.0
    for i in range(n):
        hist[0, i] = c0[i]
        s += lam[i] * c0[i]
    sums[0] = s
    for t in range(lr.size):
        eta = lr[t]
        r = eta * eta * inv_batch[t]
        q = r * (noise + s)
        s_new = 0.0
        for i in range(n):
            li = lam[i]
            u = 1.0 - eta * li
            g = u * u + r * li * li
            c = g * hist[t, i] + q * li
            hist[t + 1, i] = c
            s_new += li * c
        s = s_new
        sums[t + 1] = s
        if not (s <= threshold):
            return t + 1
    return -1


def _reverse_kernel(lam, hist, sums, lr, inv_batch, noise, weights, grad, lin, quad, p):
    """Reverse sweep (module docstring): gradient, D_t (lin) and Q_t (quad); p is a length-N work array."""
    n = lam.size
    steps = lr.size
    big_p = 0.0
    for i in range(n):
        p[i] = weights[steps] * lam[i]
        big_p += lam[i] * p[i]
    for t in range(steps - 1, -1, -1):
        eta = lr[t]
        r = eta * eta * inv_batch
        a_t = noise + sums[t]
        d = 0.0
        q2 = 0.0
        pl = 0.0
        add = r * big_p + weights[t]
        big_p_new = 0.0
        for i in range(n):
            li = lam[i]
            pi = p[i]
            ci = hist[t, i]
            pl += pi * li
            d += pi * li * ci
            q2 += pi * li * li * ci
            u = 1.0 - eta * li
            g = u * u + r * li * li
            pn = g * pi + li * add
            p[i] = pn
            big_p_new += li * pn
        quad_t = (1.0 + inv_batch) * q2 + inv_batch * pl * a_t
        lin[t] = d
        quad[t] = quad_t
        grad[t] = 2.0 * (quad_t * eta - d)
        big_p = big_p_new


if HAVE_NUMBA:
    from lrwb.numerics.resources import interruptible

    _jit = numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True)
    # in a helper thread when large, so Ctrl-C is seen during a long sweep (lrwb.numerics.resources)
    _forward_numba = interruptible(_jit(_forward_kernel))
    _reverse_numba = interruptible(_jit(_reverse_kernel))
else:  # pragma: no cover
    _forward_numba = _reverse_numba = None


def _forward_numpy(lam, c0, lr, inv_batch, noise, threshold, hist, sums):
    """NumPy twin of :func:`_forward_kernel` (Python loop over steps, vectorised over modes)."""
    hist[0] = c0
    sums[0] = lam @ c0
    lam2 = lam * lam
    for t in range(lr.size):
        eta = lr[t]
        r = eta * eta * inv_batch[t]
        g = (1.0 - eta * lam) ** 2 + r * lam2
        hist[t + 1] = g * hist[t] + (r * (noise + sums[t])) * lam
        sums[t + 1] = lam @ hist[t + 1]
        if not (sums[t + 1] <= threshold):
            return t + 1
    return -1


def _reverse_numpy(lam, hist, sums, lr, inv_batch, noise, weights, grad, lin, quad, p):
    """NumPy twin of :func:`_reverse_kernel` (the per-step Python-loop adjoint)."""
    steps = lr.size
    lam2 = lam * lam
    p[:] = weights[steps] * lam
    for t in range(steps - 1, -1, -1):
        eta = lr[t]
        r = eta * eta * inv_batch
        big_p = lam @ p
        pc = p * hist[t]
        d = lam @ pc
        quad_t = (1.0 + inv_batch) * (lam2 @ pc) + inv_batch * big_p * (noise + sums[t])
        lin[t] = d
        quad[t] = quad_t
        grad[t] = 2.0 * (quad_t * eta - d)
        g = (1.0 - eta * lam) ** 2 + r * lam2
        p[:] = g * p + lam * (r * big_p + weights[t])


def _pick_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend = {backend!r} must be one of {BACKENDS}")
    if backend == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    if backend == "numba" and not HAVE_NUMBA:
        raise ValueError("backend = 'numba' needs numba installed; use backend='numpy' or 'auto'")
    return backend


# ----------------------------------------------------------------------------------------------------------
# Objective and gradient
# ----------------------------------------------------------------------------------------------------------


def _check_problem(spectrum, sigma, batch):
    if not isinstance(spectrum, Spectrum):
        raise ValueError(f"spectrum must be a lrwb.numerics.spectra.Spectrum, got {type(spectrum).__name__}")
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma = {sigma!r} must be finite and >= 0")
    if not (np.isfinite(batch) and batch >= 1):
        raise ValueError(f"batch = {batch!r} must be finite and >= 1")


def objective_weights(steps: int, window: int | None = None) -> np.ndarray:
    """Weights w_t on the excess loss at t = 0 … T: the final loss (``window`` None or 1: w_T = 1) or the
    mean over the last ``window`` losses (w_t = 1/W for t = T−W+1 … T)."""
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps = {steps!r} must be an integer >= 1")
    w = np.zeros(steps + 1)
    if window is None:
        window = 1
    if not (isinstance(window, (int, np.integer)) and 1 <= window <= steps):
        raise ValueError(f"window = {window!r} must be an integer in [1, steps = {steps}]")
    w[steps + 1 - window:] = 1.0 / window
    return w


class _Problem:
    """Preallocated buffers for repeated objective/gradient evaluations of one (spectrum, T) problem."""

    def __init__(self, spectrum: Spectrum, steps: int, *, sigma: float, batch: float, window=None,
                 backend: str = "auto"):
        _check_problem(spectrum, sigma, batch)
        self.lam = np.ascontiguousarray(spectrum.eigenvalues, dtype=float)
        self.c0 = np.ascontiguousarray(spectrum.target, dtype=float)
        self.tail = float(spectrum.tail)
        self.noise = float(sigma) ** 2 + self.tail
        self.inv_batch = 1.0 / float(batch)
        self.steps = int(steps)
        self.weights = objective_weights(self.steps, window)
        scale = spectrum.initial_loss() + float(sigma) ** 2
        self.threshold = DIVERGENCE_FACTOR * scale if scale > 0 else np.inf
        n = self.lam.size
        self.hist = np.empty((self.steps + 1, n))
        self.sums = np.empty(self.steps + 1)
        self.p = np.empty(n)
        self.lin = np.empty(self.steps)
        self.quad = np.empty(self.steps)
        kind = _pick_backend(backend)
        self.forward = _forward_numba if kind == "numba" else _forward_numpy
        self.reverse = _reverse_numba if kind == "numba" else _reverse_numpy
        self.evaluations = 0

    def evaluate(self, lr: np.ndarray, gradient: bool = True):
        """(J, ∂J/∂η or None, diverged) for one schedule lr (T,)."""
        self.evaluations += 1
        lr = np.ascontiguousarray(lr, dtype=float)
        blown = self.forward(self.lam, self.c0, lr, np.full(lr.size, self.inv_batch), self.noise, self.threshold,
                             self.hist, self.sums)
        if blown >= 0:
            return np.inf, (np.zeros(self.steps) if gradient else None), True
        objective = float(self.weights @ self.sums) + self.tail * float(self.weights.sum())
        if not gradient:
            return objective, None, False
        grad = np.empty(self.steps)
        self.reverse(self.lam, self.hist, self.sums, lr, self.inv_batch, self.noise, self.weights, grad,
                     self.lin, self.quad, self.p)
        return objective, grad, False

    def scipy_fun(self, lr):
        value, grad, diverged = self.evaluate(lr)
        if diverged:
            return _DIVERGED_VALUE, grad
        return value, grad


def _check_lr(lr) -> np.ndarray:
    arr = np.asarray(lr, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"lr must be a non-empty 1-D array of learning rates, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        bad = int(np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))[0])
        raise ValueError(f"lr[{bad}] = {float(arr[bad])!r} must be finite and >= 0")
    return arr


def loss_and_gradient(spectrum: Spectrum, lr, *, sigma: float, batch: float, window: int | None = None,
                      backend: str = "auto") -> AdjointGradient:
    """J and ∂J/∂η_t for one schedule by the discrete adjoint (module docstring), plus the Pontryagin η*_t.

    ``window`` None: J = final excess loss; an integer W: the mean excess loss over t = T−W+1 … T.
    A divergent schedule gives objective +inf, a zero gradient and ``diverged=True`` (no exception).
    """
    arr = _check_lr(lr)
    problem = _Problem(spectrum, arr.size, sigma=sigma, batch=batch, window=window, backend=backend)
    value, grad, diverged = problem.evaluate(arr)
    if diverged:
        loss = np.full(arr.size + 1, np.inf)
        return AdjointGradient(np.inf, grad, np.full(arr.size, np.nan), loss, True)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta_star = np.where(problem.quad > 0, problem.lin / problem.quad, np.nan)
    return AdjointGradient(value, grad, eta_star, problem.sums + problem.tail, False)


def stationarity_residual(spectrum: Spectrum, lr, *, sigma: float, batch: float, eta_max: float,
                          window: int | None = None, bound_tol: float = 1e-10):
    """Relative Pontryagin residual |η_t − η*_t|/η*_t = |∂J/∂η_t|/(2 D_t) per step, NaN on steps within
    ``bound_tol``·η_max of a bound; returns (residual, inactive mask)."""
    arr = _check_lr(lr)
    problem = _Problem(spectrum, arr.size, sigma=sigma, batch=batch, window=window)
    value, grad, diverged = problem.evaluate(arr)
    if diverged:
        raise ValueError("stationarity_residual: the schedule diverges (excess loss above "
                         f"{problem.threshold:.3g}); no certificate")
    return _residual(arr, grad, problem.lin, eta_max, bound_tol)


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
    """J and its gradient in (η_t, μ_t) for heavy-ball SGD by the discrete adjoint (NumPy, per-step loop).

    Forward (``lrwb.numerics.dynamics.expected``, per mode; a = (B+1)/B, L_t = σ² + δ_N + Σ_j λ_j C_j):
        V' = μ²V + 2μλR + aλ²C + (λ/B) L,   R' = μR + λC − ηV',   C' = C − 2η(μR + λC) + η²V'.
    Reverse, with the costates (q_C, q_R, q_V) of (C', R', V') and q̃ = q_V − η q_R + η² q_C (V' feeds R', C'):
        p_C = q_C(1 − 2ηλ) + q_R λ + q̃ aλ² + λ (Σ_j q̃_j λ_j)/B + w_t λ,
        p_R = μ(q_R − 2η q_C + 2λ q̃),   p_V = μ² q̃,
        ∂J/∂η_t = Σ_k [q_C (2ηV' − 2(μR + λC)) − q_R V'],
        ∂J/∂μ_t = Σ_k [q̃ (2μV + 2λR) + q_R R − 2η q_C R].
    ``momentum`` is a scalar or a (T,) array in [0, 1). A divergent run gives +inf and zero gradients.
    """
    eta = _check_lr(lr)
    steps = eta.size
    mu = np.broadcast_to(np.asarray(momentum, dtype=float), (steps,)).copy()
    if not np.all((mu >= 0) & (mu < 1)):
        bad = int(np.flatnonzero(~((mu >= 0) & (mu < 1)))[0])
        raise ValueError(f"momentum[{bad}] = {float(mu[bad])!r} must be in [0, 1)")
    problem = _Problem(spectrum, steps, sigma=sigma, batch=batch, window=window, backend="numpy")
    lam, noise, inv_b, w = problem.lam, problem.noise, problem.inv_batch, problem.weights
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


def _residual(lr, grad, lin, eta_max, bound_tol=1e-10):
    inactive = (lr > bound_tol * eta_max) & (lr < eta_max * (1.0 - bound_tol))
    with np.errstate(divide="ignore", invalid="ignore"):
        res = np.abs(grad) / (2.0 * np.abs(lin))
    return np.where(inactive, res, np.nan), inactive


# ----------------------------------------------------------------------------------------------------------
# Optimal schedule
# ----------------------------------------------------------------------------------------------------------


def _check_eta_max(eta_max):
    if not (np.isfinite(eta_max) and eta_max > 0):
        raise ValueError(f"eta_max = {eta_max!r} must be finite and > 0")
    return float(eta_max)


def _check_steps(steps):
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps = {steps!r} must be an integer >= 1")
    return int(steps)


def collapse_start(steps: int, peak: float, delta_decay: float) -> np.ndarray:
    """Warm start shaped like the easy-phase collapse: η_t = peak · (1 − t/T)^δ, δ = 2b − 1, floored at
    1e−3·peak so every step starts strictly inside the box."""
    t = np.arange(steps, dtype=float)
    return np.maximum(peak * (1.0 - t / steps) ** delta_decay, 1e-3 * peak)


def default_start(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float) -> np.ndarray:
    """The solver's warm start: the best (lowest final loss, one batched forward pass) of the clipped collapse
    shapes min(η_max, peak·(1 − t/T)^δ) with peak ∈ η_max·{0.01 … 30} and δ ∈ {1, 3, 9} (δ = 2b − 1 for
    b = 1, 2, 5). Peaks above η_max give the hard phase's plateau at η_max followed by a decay; the best of
    them cuts the L-BFGS-B iterations 2–10× against any single fixed shape. Falls back to the constant
    η = ½·min(η_max, stability bound) if every candidate diverges."""
    candidates = [(peak, delta) for peak in eta_max * np.array([0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
                  for delta in (1.0, 3.0, 9.0)]
    matrix = np.stack([np.minimum(collapse_start(steps, peak, delta), eta_max) for peak, delta in candidates])
    finals = _final_losses(spectrum, matrix, sigma, batch)
    best = int(np.argmin(finals))
    if np.isfinite(finals[best]):
        return matrix[best]
    return np.full(steps, 0.5 * min(eta_max, stability_bound(spectrum.eigenvalues, batch)))


def _polish(problem: _Problem, lr: np.ndarray, eta_max: float, *, iterations: int, tol: float):
    """Projected Newton steps on the inactive set: H d = −g by conjugate gradients preconditioned with the
    Pontryagin curvature 2Q_t (∂²J/∂η_t² exactly), Hessian-vector products by finite differences of the
    adjoint gradient; a step is accepted only if it lowers J (else halved)."""
    lr = lr.copy()
    value, grad, _ = problem.evaluate(lr)
    done = 0
    for _ in range(iterations):
        res, inactive = _residual(lr, grad, problem.lin, eta_max)
        if not inactive.any() or np.nanmax(res) <= tol:
            break
        idx = np.flatnonzero(inactive)
        g = grad[idx]
        diag = 2.0 * problem.quad[idx]
        if not np.all(diag > 0):
            break
        base_grad = grad[idx].copy()

        def hess_vec(v):
            trial = lr.copy()
            scale = 1e-6 * float(np.max(lr[idx])) / max(float(np.max(np.abs(v))), 1e-300)
            trial[idx] += scale * v
            _, g2, div = problem.evaluate(trial)
            if div:
                return np.full(idx.size, np.nan)
            return (g2[idx] - base_grad) / scale

        step = _pcg(hess_vec, -g, diag, maxiter=40)
        if not np.all(np.isfinite(step)):
            break
        accepted = False
        alpha = 1.0
        for _ in range(20):
            trial = lr.copy()
            trial[idx] = np.clip(lr[idx] + alpha * step, 0.0, eta_max)
            v2, g2, div = problem.evaluate(trial)
            if not div and v2 <= value:
                lr, value, grad = trial, v2, g2
                accepted = True
                break
            alpha *= 0.5
        done += 1
        if not accepted:
            break
    problem.evaluate(lr)  # leave lin/quad/sums consistent with the returned schedule
    return lr, done


def _pcg(hess_vec, rhs, diag, maxiter=40, rtol=1e-10):
    """Diagonally preconditioned conjugate gradients for H x = rhs; on non-positive curvature it returns the
    iterate so far (the preconditioned steepest-descent step on the first pass)."""
    x = np.zeros_like(rhs)
    r = rhs.copy()
    z = r / diag
    d = z.copy()
    rz = r @ z
    stop = rtol * np.sqrt(r @ r)
    for k in range(maxiter):
        hd = hess_vec(d)
        curv = d @ hd
        if not np.isfinite(curv):
            return np.full_like(rhs, np.nan)
        if curv <= 0:
            return x if k else z
        alpha = rz / curv
        x = x + alpha * d
        r = r - alpha * hd
        if np.sqrt(r @ r) <= stop:
            return x
        z = r / diag
        rz_new = r @ z
        d = z + (rz_new / rz) * d
        rz = rz_new
    return x


def optimal_schedule(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = 1.0,
                     window: int | None = None, start=None, polish: int = 30, residual_tol: float = 1e-8,
                     maxiter: int = 5000, backend: str = "auto", allow_unstable: bool = False) -> OptimalSchedule:
    """min_η J(η) over 0 ≤ η_t ≤ η_max (J: final loss, or the mean over the last ``window`` losses).

    L-BFGS-B with the adjoint gradient from ``start`` (default: :func:`default_start`), then up to ``polish``
    projected Newton steps until the relative stationarity residual on inactive steps is ≤ ``residual_tol``.
    ``converged`` reports whether it reached :data:`CONVERGED_RESIDUAL` (``conventions.md``: 1e−6).
    A cap above the stability bound (:func:`lrwb.numerics.stability.stable_eta_max`) is clipped to the bound with a
    warning (an optimum never needs an unstable step; at finite T the objective alone does not forbid them);
    ``allow_unstable=True`` keeps it. Use :func:`optimal_schedules` for a sweep of horizons (warm starts).
    """
    steps = _check_steps(steps)
    eta_max = _check_eta_max(eta_max)
    _check_problem(spectrum, sigma, batch)
    eta_max, warning = stable_eta_max(eta_max, spectrum.eigenvalues, batch, allow_unstable=allow_unstable)
    problem = _Problem(spectrum, steps, sigma=sigma, batch=batch, window=window, backend=backend)
    if start is None:
        x0 = default_start(spectrum, steps, sigma=sigma, batch=batch, eta_max=eta_max)
    else:
        x0 = np.clip(_check_lr(start), 0.0, eta_max)
        if x0.size != steps:
            raise ValueError(f"start has {x0.size} steps, expected steps = {steps}")
    # Variables scaled by the Pontryagin curvature at the start, η_t = s_t x_t with s_t ∝ Q_t^{−1/2}: J's
    # diagonal Hessian is 2Q_t, which spans orders of magnitude over t; scaling cuts the iterations ~10×.
    if problem.evaluate(x0)[2]:  # a divergent start gives no gradient to follow: use the default start
        x0 = default_start(spectrum, steps, sigma=sigma, batch=batch, eta_max=eta_max)
        problem.evaluate(x0)
    quad = problem.quad.copy()
    scale = np.where(quad > 0, 1.0 / np.sqrt(np.where(quad > 0, quad, 1.0)), 0.0)
    scale = np.where(scale > 0, scale, scale.max() if scale.max() > 0 else 1.0)
    scale /= scale.max()

    def scaled(x):
        value, grad = problem.scipy_fun(x * scale)
        return value, grad * scale

    result = optimize.minimize(scaled, x0 / scale, jac=True, method="L-BFGS-B",
                               bounds=list(zip(np.zeros(steps), eta_max / scale)),
                               options=dict(maxiter=maxiter, maxcor=20, ftol=1e-15, gtol=1e-14,
                                            maxfun=4 * maxiter))
    lr = np.clip(result.x * scale, 0.0, eta_max)
    polished = 0
    if polish:
        lr, polished = _polish(problem, lr, eta_max, iterations=polish, tol=residual_tol)
    value, grad, diverged = problem.evaluate(lr)
    if diverged:  # only reachable if even the default start diverged
        raise ValueError(f"optimal_schedule: no stable schedule found below eta_max = {eta_max}")
    res, inactive = _residual(lr, grad, problem.lin, eta_max)
    max_res = float(np.nanmax(res)) if inactive.any() else 0.0
    loss = problem.sums + problem.tail
    return OptimalSchedule(lr=lr, loss=loss.copy(), final_loss=float(loss[-1]), objective=value,
                           eta_max=eta_max, residual=res, max_residual=max_res, inactive=inactive,
                           iterations=int(result.nit) + polished, evaluations=problem.evaluations,
                           converged=bool(max_res <= CONVERGED_RESIDUAL), warning=warning)


def rescale_schedule(lr, steps: int) -> np.ndarray:
    """A schedule of one horizon carried to another at equal fraction t/T (linear interpolation): the warm
    start for the next horizon of a sweep (the optimal profiles nearly collapse in t/T)."""
    arr = _check_lr(lr)
    steps = _check_steps(steps)
    old = (np.arange(arr.size) + 0.5) / arr.size
    new = (np.arange(steps) + 0.5) / steps
    return np.interp(new, old, arr)


def optimal_schedules(spectrum: Spectrum, horizons, *, sigma: float, batch: float, eta_max: float = 1.0,
                      window: int | None = None, backend: str = "auto",
                      allow_unstable: bool = False) -> list[OptimalSchedule]:
    """:func:`optimal_schedule` for each horizon in increasing order, each warm-started from the previous
    solution carried over by :func:`rescale_schedule` (the first from the collapse shape)."""
    horizons = [_check_steps(h) for h in horizons]
    if not horizons:
        raise ValueError("horizons must list at least one horizon T >= 1")
    order = np.argsort(horizons, kind="stable")
    results: list = [None] * len(horizons)
    previous = None
    for i in order:
        start = None if previous is None else np.clip(rescale_schedule(previous.lr, horizons[i]), 0.0, eta_max)
        previous = optimal_schedule(spectrum, horizons[i], sigma=sigma, batch=batch, eta_max=eta_max,
                                    window=window, start=start, backend=backend, allow_unstable=allow_unstable)
        results[i] = previous
    return results


# ----------------------------------------------------------------------------------------------------------
# Tuned baselines
# ----------------------------------------------------------------------------------------------------------


def _final_losses(spectrum, lr_matrix, sigma, batch):
    curve = expected_loss(spectrum, lr_matrix, sigma=sigma, batch=batch, parts=False, on_divergence="flag")
    final = np.atleast_1d(np.asarray(curve.final_loss, dtype=float))
    return np.where(np.isfinite(final), final, np.inf)


def _tune(spectrum, steps, sigma, batch, make, grid, bounds):
    """Minimise the final loss of ``make(params)`` (a T-array): best point of ``grid`` (batched through the
    exact dynamics), then Nelder–Mead inside ``bounds`` (divergent points count as +∞)."""
    grid = np.asarray(grid, dtype=float)
    matrix = np.stack([make(g) for g in grid])
    finals = _final_losses(spectrum, matrix, sigma, batch)
    best = grid[int(np.argmin(finals))]

    def fun(x):
        x = np.clip(x, [b[0] for b in bounds], [b[1] for b in bounds])
        return float(_final_losses(spectrum, make(x)[None, :], sigma, batch)[0])

    res = optimize.minimize(fun, best, method="Nelder-Mead", bounds=bounds,
                            options=dict(xatol=1e-6, fatol=0.0, maxiter=400))
    x = np.clip(res.x, [b[0] for b in bounds], [b[1] for b in bounds])
    value = fun(x)
    if not np.isfinite(value):
        raise ValueError("baseline tuning: every trial schedule diverged; lower eta_max")
    return x, value


def _baseline_args(spectrum, steps, sigma, batch, eta_max):
    """Checked (T, cap); a cap above the stability bound is clipped to it with a warning (as for the optimum:
    the tuned baselines compete inside the same stable box)."""
    _check_problem(spectrum, sigma, batch)
    eta_max = stable_eta_max(_check_eta_max(eta_max), spectrum.eigenvalues, batch)[0]
    return _check_steps(steps), eta_max


def best_constant(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = 1.0
                  ) -> BaselineSchedule:
    """The constant η ∈ (0, η_max] with the lowest final loss (grid in log η, then bounded Brent)."""
    steps, eta_max = _baseline_args(spectrum, steps, sigma, batch, eta_max)
    grid = eta_max * np.logspace(-4, 0, 41)
    finals = _final_losses(spectrum, np.repeat(grid[:, None], steps, axis=1), sigma, batch)
    i = int(np.argmin(finals))
    lo, hi = np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, grid.size - 1)])

    def fun(log_eta):
        return float(_final_losses(spectrum, np.full((1, steps), np.exp(log_eta)), sigma, batch)[0])

    res = optimize.minimize_scalar(fun, bounds=(lo, hi), method="bounded", options=dict(xatol=1e-9))
    eta, value = (float(np.exp(res.x)), float(res.fun)) if res.fun <= finals[i] else (float(grid[i]), float(finals[i]))
    return BaselineSchedule("constant", {"eta": eta}, f"constant:{eta!r}", np.full(steps, eta), value)


def best_power_law(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = 1.0
                   ) -> BaselineSchedule:
    """η_t = η0 (1+t)^{−χ} with η0 ∈ [0, η_max], χ ≥ 0 (searched in [0, 3]), no clipping."""
    steps, eta_max = _baseline_args(spectrum, steps, sigma, batch, eta_max)
    t = np.arange(steps, dtype=float)

    def make(x):
        return x[0] * (1.0 + t) ** (-x[1])

    grid = [(e, c) for e in eta_max * np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.85, 1.0])
            for c in np.linspace(0.0, 1.5, 16)]
    x, value = _tune(spectrum, steps, sigma, batch, make, grid, [(1e-12, eta_max), (0.0, 3.0)])
    params = {"eta0": float(x[0]), "chi": float(x[1])}
    return BaselineSchedule("power", params, f"power:{params['eta0']!r},{params['chi']!r}", make(x), value)


def _peak_family(family, spectrum, steps, sigma, batch, eta_max, factory):
    steps, eta_max = _baseline_args(spectrum, steps, sigma, batch, eta_max)

    def make(x):
        return factory(float(x[0]), 0.0).values(steps)

    grid = [(e,) for e in eta_max * np.linspace(0.05, 1.0, 20)]
    x, value = _tune(spectrum, steps, sigma, batch, make, grid, [(1e-12, eta_max)])
    peak = float(x[0])
    return BaselineSchedule(family, {"peak": peak, "floor": 0.0}, f"{family}:{peak!r},0", make(x), value)


def best_cosine(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = 1.0
                ) -> BaselineSchedule:
    """Cosine to zero, η_t = P·½(1 + cos(πt/T)), tuned peak P ∈ (0, η_max]."""
    return _peak_family("cosine", spectrum, steps, sigma, batch, eta_max, _schedules.cosine)


def best_linear(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = 1.0
                ) -> BaselineSchedule:
    """Linear to zero, η_t = P (1 − t/T), tuned peak P ∈ (0, η_max]."""
    return _peak_family("linear", spectrum, steps, sigma, batch, eta_max, _schedules.linear)


def best_wsd(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = 1.0,
             final_ratio: float = 1e-3) -> BaselineSchedule:
    """Warmup-free WSD ``wsd:PEAK,FRACTION,FINAL`` (exponential decay over the last FRACTION·T steps to
    FINAL = ``final_ratio``·PEAK), tuned peak ∈ (0, η_max] and fraction ∈ [0.01, 1]."""
    steps, eta_max = _baseline_args(spectrum, steps, sigma, batch, eta_max)

    def make(x):
        return _schedules.wsd(float(x[0]), float(x[1]), final_ratio * float(x[0])).values(steps)

    grid = [(e, f) for e in eta_max * np.linspace(0.1, 1.0, 10) for f in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)]
    x, value = _tune(spectrum, steps, sigma, batch, make, grid, [(1e-12, eta_max), (0.01, 1.0)])
    peak, fraction = float(x[0]), float(x[1])
    final = final_ratio * peak
    return BaselineSchedule("wsd", {"peak": peak, "fraction": fraction, "final": final},
                            f"wsd:{peak!r},{fraction!r},{final!r}", make(x), value)


def tuned_baselines(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = 1.0
                    ) -> dict[str, BaselineSchedule]:
    """All baselines tuned for this horizon, keyed by family."""
    kw = dict(sigma=sigma, batch=batch, eta_max=eta_max)
    return {
        "constant": best_constant(spectrum, steps, **kw),
        "power": best_power_law(spectrum, steps, **kw),
        "cosine": best_cosine(spectrum, steps, **kw),
        "linear": best_linear(spectrum, steps, **kw),
        "wsd": best_wsd(spectrum, steps, **kw),
    }
