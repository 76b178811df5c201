"""The discrete adjoint of plain SGD's second-moment recursion: one forward sweep, one reverse sweep.

State: the per-mode second moments c_k(t) of plain SGD with a per-step batch B_t (``plrf.md`` §2),
y_t = 1/B_t, r_t = η_t² y_t, n = σ² + δ_N (label noise plus the untrained tail), S_t = Σ_j λ_j c_j(t):

    c_k(t+1) = g_k(η_t) c_k(t) + r_t λ_k (n + S_t),   g_k(η_t) = (1 − η_t λ_k)² + r_t λ_k².

Objective (excess loss, PLRF units, no ½): J = Σ_t w_t (S_t + δ_N) with weights w on t = 0 … T
(:func:`objective_weights`: the final loss, or the mean over the last W losses).

Reverse sweep (O(N·T) time; the forward moments are stored, O(N·T) memory): with the costate
p_k(t) = ∂J/∂c_k(t) and P_t = Σ_k λ_k p_k(t),

    p_k(T) = w_T λ_k,   p_k(t) = g_k(η_t) p_k(t+1) + λ_k (r_t P_{t+1} + w_t),
    ∂J/∂η_t = 2(Q_t η_t − D_t),   ∂J/∂y_t = η_t² [Σ_k p_k(t+1) λ_k² c_k(t) + P_{t+1} (n + S_t)],

with D_t = Σ_k p_k(t+1) λ_k c_k(t) and Q_t = (1 + y_t) Σ_k p_k(t+1) λ_k² c_k(t) + y_t P_{t+1} (n + S_t): J is a
parabola in each η_t alone, so η*_t = D_t/Q_t is the Pontryagin (Hamiltonian-stationary) step size given the
costates, and 2Q_t = ∂²J/∂η_t² is the exact diagonal curvature the solvers precondition with.

This module is the one place the plain-SGD adjoint lives: :mod:`lrwb.numerics.control.lr` (optimal η_t) and
:mod:`lrwb.numerics.control.batch` (optimal B_t) build on :class:`SGDAdjoint`; the momentum recursion (three
moments per mode) has its own sweeps in :mod:`lrwb.numerics.control.momentum`. Each sweep has a numba kernel
and a NumPy twin (Python loop over steps, vectorised over modes; the fallback without numba).

>>> import numpy as np
>>> from lrwb.numerics.spectra import power_law_spectrum
>>> result = loss_and_gradient(power_law_spectrum(3.5, 2.0, 20), np.full(10, 0.5), sigma=0.5, batch=5.0)
>>> result.gradient.shape, bool(result.objective < result.loss[0])
((10,), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrwb.numerics.backends import HAVE_NUMBA, resolve_backend
from lrwb.numerics.checks import check_batch, check_finite_real, check_positive_int, check_sigma
from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.dynamics.problem import DIVERGENCE_FACTOR
from lrwb.numerics.spectra import Spectrum

# numba is optional (lrwb.numerics.backends detects it); the NumPy twins below are the fallback (and the
# benchmark's naive baseline).
if HAVE_NUMBA:
    import numba

__all__ = [
    "AdjointGradient",
    "SGDAdjoint",
    "loss_and_gradient",
    "objective_weights",
    "divergence_threshold",
    "check_spectrum",
    "check_problem",
    "check_schedule",
    "check_eta_max",
    "BACKENDS",
    "HAVE_NUMBA",
    "DIVERGED_VALUE",
]

BACKENDS = ("auto", "numba", "numpy")

#: Objective handed to a line search for a divergent trial point: it stands for +∞ (scipy's line searches need
#: a finite number to backtrack from), so the solvers never raise on a divergent trial.
DIVERGED_VALUE = 1e30


# ----------------------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------------------


def check_spectrum(spectrum) -> Spectrum:
    """``spectrum`` itself, if it is a :class:`~lrwb.numerics.spectra.Spectrum`."""
    if not isinstance(spectrum, Spectrum):
        raise ValueError(f"spectrum must be a lrwb.numerics.spectra.Spectrum, got {type(spectrum).__name__}")
    return spectrum


def check_problem(spectrum, sigma, batch) -> None:
    """The shared inputs of a plain-SGD problem: a Spectrum, σ finite ≥ 0, one batch B ≥ 1 (inf: exact
    gradients)."""
    check_spectrum(spectrum)
    check_sigma(sigma)
    check_batch(batch, ())


def check_schedule(lr) -> np.ndarray:
    """A learning-rate schedule η_t as a float array: non-empty, 1-D, finite and ≥ 0."""
    arr = np.asarray(lr, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"lr must be a non-empty 1-D array of learning rates, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        bad = int(np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))[0])
        raise ValueError(f"lr[{bad}] = {float(arr[bad])!r} must be finite and >= 0")
    return arr


def check_eta_max(eta_max) -> float:
    """The learning-rate cap η_max as a float: finite and > 0."""
    value = check_finite_real(eta_max, "eta_max")
    if not value > 0:
        raise ValueError(f"eta_max = {eta_max!r} must be finite and > 0")
    return value


def objective_weights(steps: int, window: int | None = None) -> np.ndarray:
    """Weights w_t on the excess loss at t = 0 … T: the final loss (``window`` None or 1: w_T = 1) or the
    mean over the last ``window`` losses (w_t = 1/W for t = T−W+1 … T).

    >>> objective_weights(4, 2)
    array([0. , 0. , 0. , 0.5, 0.5])
    """
    steps = check_positive_int(steps, "steps")
    w = np.zeros(steps + 1)
    if window is None:
        window = 1
    if not (isinstance(window, (int, np.integer)) and 1 <= window <= steps):
        raise ValueError(f"window = {window!r} must be an integer in [1, steps = {steps}]")
    w[steps + 1 - window:] = 1.0 / window
    return w


def divergence_threshold(spectrum: Spectrum, sigma: float) -> float:
    """The excess loss above which a run counts as diverged: the engine's DIVERGENCE_FACTOR times the initial
    loss plus σ² (+∞ when both are zero)."""
    scale = spectrum.initial_loss() + float(sigma) ** 2
    return DIVERGENCE_FACTOR * scale if scale > 0 else np.inf


# ----------------------------------------------------------------------------------------------------------
# Kernels: forward (stores c(t)) and reverse (costates, ∂J/∂η, ∂J/∂y, D_t, Q_t)
# ----------------------------------------------------------------------------------------------------------


def _forward_kernel(lam, c0, lr, inv_batch, noise, threshold, hist, sums):
    """c(t) for t = 0 … T into hist (T+1, N), S_t into sums; returns the first blown-up t or −1.
    ``inv_batch`` holds y_t = 1/B_t per step (T,)."""
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


def _batch_at(inv_batch, t):
    """y_t: ``inv_batch`` is one value per step (T,) or one scalar for every step (a constant batch)."""
    return inv_batch[t] if np.ndim(inv_batch) else inv_batch


def _reverse_kernel(lam, hist, sums, lr, inv_batch, noise, weights, grad, grad_inv_batch, lin, quad, p):
    """Reverse sweep (module docstring): ∂J/∂η (grad), ∂J/∂y (grad_inv_batch), D_t (lin) and Q_t (quad);
    p is a length-N work array (the costate); ``inv_batch`` is y_t per step (T,) or one scalar."""
    n = lam.size
    steps = lr.size
    big_p = 0.0
    for i in range(n):
        p[i] = weights[steps] * lam[i]
        big_p += lam[i] * p[i]
    for t in range(steps - 1, -1, -1):
        eta = lr[t]
        y = _batch_at(inv_batch, t)
        r = eta * eta * y
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
        quad_t = (1.0 + y) * q2 + y * pl * a_t
        lin[t] = d
        quad[t] = quad_t
        grad[t] = 2.0 * (quad_t * eta - d)
        grad_inv_batch[t] = eta * eta * (q2 + pl * a_t)
        big_p = big_p_new


if HAVE_NUMBA:
    from numba.extending import overload

    from lrwb.numerics.resources import interruptible

    @overload(_batch_at, inline="always")
    def _batch_at_compiled(inv_batch, t):
        # Resolved at compile time: a scalar y keeps the loop-invariant arithmetic of a constant batch (the
        # compiled code, and so its rounding, of the plain learning-rate problem), an array is read per step.
        if isinstance(inv_batch, numba.types.Float):
            return lambda inv_batch, t: inv_batch
        return lambda inv_batch, t: inv_batch[t]

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


def _reverse_numpy(lam, hist, sums, lr, inv_batch, noise, weights, grad, grad_inv_batch, lin, quad, p):
    """NumPy twin of :func:`_reverse_kernel` (the per-step Python-loop adjoint)."""
    steps = lr.size
    lam2 = lam * lam
    per_step = np.ndim(inv_batch) > 0
    p[:] = weights[steps] * lam
    for t in range(steps - 1, -1, -1):
        eta = lr[t]
        y = inv_batch[t] if per_step else inv_batch
        r = eta * eta * y
        big_p = lam @ p
        pc = p * hist[t]
        d = lam @ pc
        q2 = lam2 @ pc
        a_t = noise + sums[t]
        quad_t = (1.0 + y) * q2 + y * big_p * a_t
        lin[t] = d
        quad[t] = quad_t
        grad[t] = 2.0 * (quad_t * eta - d)
        grad_inv_batch[t] = eta * eta * (q2 + big_p * a_t)
        g = (1.0 - eta * lam) ** 2 + r * lam2
        p[:] = g * p + lam * (r * big_p + weights[t])


# ----------------------------------------------------------------------------------------------------------
# The adjoint of one (spectrum, T, σ) problem
# ----------------------------------------------------------------------------------------------------------


class SGDAdjoint:
    """Preallocated sweeps for repeated evaluations of J and its gradients on one (spectrum, T, σ) problem.

    ``batch`` (scalar or one value per step, ≥ 1, inf for exact gradients) is the default batch of
    :meth:`evaluate`. After an evaluation with the gradient: ``sums`` (S_t, t = 0 … T), ``lin`` (D_t), ``quad``
    (Q_t) and ``inv_batch_gradient`` (∂J/∂y_t) describe the evaluated schedule; ``evaluations`` counts calls.

    >>> import numpy as np
    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> sweep = SGDAdjoint(power_law_spectrum(3.5, 2.0, 20), 10, sigma=0.5, batch=5.0)
    >>> value, grad, diverged = sweep.evaluate(np.full(10, 0.5))
    >>> grad.shape, diverged, sweep.evaluations
    ((10,), False, 1)
    """

    def __init__(self, spectrum: Spectrum, steps: int, *, sigma: float, batch=DEFAULTS.batch,
                 window: int | None = None, backend: str = "auto"):
        check_spectrum(spectrum)
        sigma = check_sigma(sigma)
        self.steps = check_positive_int(steps, "steps")
        self.inv_batch = np.ascontiguousarray(1.0 / check_batch(batch, (self.steps,)))
        # one y for every step: the reverse sweep takes it as a scalar (see _batch_at_compiled)
        self._constant_inv_batch = float(self.inv_batch[0]) if np.all(self.inv_batch == self.inv_batch[0]) else None
        self.lam = np.ascontiguousarray(spectrum.eigenvalues, dtype=float)
        self.c0 = np.ascontiguousarray(spectrum.target, dtype=float)
        self.tail = float(spectrum.tail)
        self.noise = sigma ** 2 + self.tail
        self.weights = objective_weights(self.steps, window)
        self.threshold = divergence_threshold(spectrum, sigma)
        n = self.lam.size
        self.hist = np.empty((self.steps + 1, n))
        self.sums = np.empty(self.steps + 1)
        self.p = np.empty(n)
        self.lin = np.empty(self.steps)
        self.quad = np.empty(self.steps)
        self.inv_batch_gradient = np.empty(self.steps)
        kind = resolve_backend(backend, BACKENDS, numba=HAVE_NUMBA)
        self._forward = _forward_numba if kind == "numba" else _forward_numpy
        self._reverse = _reverse_numba if kind == "numba" else _reverse_numpy
        self.evaluations = 0

    def evaluate(self, lr: np.ndarray, gradient: bool = True, inv_batch: np.ndarray | None = None):
        """(J, ∂J/∂η or None, diverged) for one schedule lr (T,), at 1/B_t = ``inv_batch`` (T,) (default: the
        problem's batch). A divergent run gives (+inf, zeros, True)."""
        self.evaluations += 1
        lr = np.ascontiguousarray(lr, dtype=float)
        if inv_batch is None:
            inv_batch, reverse_inv_batch = self.inv_batch, self._constant_inv_batch
        else:
            inv_batch = reverse_inv_batch = np.ascontiguousarray(inv_batch, dtype=float)
        if reverse_inv_batch is None:
            reverse_inv_batch = inv_batch
        blown = self._forward(self.lam, self.c0, lr, inv_batch, self.noise, self.threshold, self.hist, self.sums)
        if blown >= 0:
            return np.inf, (np.zeros(self.steps) if gradient else None), True
        objective = float(self.weights @ self.sums) + self.tail * float(self.weights.sum())
        if not gradient:
            return objective, None, False
        grad = np.empty(self.steps)
        self._reverse(self.lam, self.hist, self.sums, lr, reverse_inv_batch, self.noise, self.weights, grad,
                      self.inv_batch_gradient, self.lin, self.quad, self.p)
        return objective, grad, False

    def scipy_fun(self, lr):
        """(J, ∂J/∂η) for scipy.optimize, a divergent point counting as :data:`DIVERGED_VALUE`."""
        value, grad, diverged = self.evaluate(lr)
        if diverged:
            return DIVERGED_VALUE, grad
        return value, grad

    @property
    def excess_loss(self) -> np.ndarray:
        """Excess loss S_t + δ_N at t = 0 … T of the last evaluated schedule (a view of the buffer)."""
        return self.sums + self.tail


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


def loss_and_gradient(spectrum: Spectrum, lr, *, sigma: float, batch: float, window: int | None = None,
                      backend: str = "auto") -> AdjointGradient:
    """J and ∂J/∂η_t for one schedule by the discrete adjoint (module docstring), plus the Pontryagin η*_t.

    ``window`` None: J = final excess loss; an integer W: the mean excess loss over t = T−W+1 … T.
    A divergent schedule gives objective +inf, a zero gradient and ``diverged=True`` (no exception).

    >>> import numpy as np
    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> out = loss_and_gradient(power_law_spectrum(3.5, 2.0, 20), np.full(8, 0.4), sigma=0.5, batch=5.0)
    >>> out.loss.shape, out.diverged
    ((9,), False)
    """
    arr = check_schedule(lr)
    problem = SGDAdjoint(spectrum, arr.size, sigma=sigma, batch=batch, window=window, backend=backend)
    value, grad, diverged = problem.evaluate(arr)
    if diverged:
        loss = np.full(arr.size + 1, np.inf)
        return AdjointGradient(np.inf, grad, np.full(arr.size, np.nan), loss, True)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta_star = np.where(problem.quad > 0, problem.lin / problem.quad, np.nan)
    return AdjointGradient(value, grad, eta_star, problem.excess_loss, False)
