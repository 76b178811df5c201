"""Optimal batch-size schedule at a fixed sample budget: the batch ramp (``plrf.md`` §4 "Batch size", Fig. 7).

Dynamics (plain SGD, ``plrf.md`` §2) with a per-step batch B_t, y_t = 1/B_t, r_t = η_t² y_t, n = σ² + δ_N:

    c_k(t+1) = g_k c_k(t) + r_t λ_k (n + S_t),   g_k = (1 − η_t λ_k)² + r_t λ_k²,   S_t = Σ_j λ_j c_j(t).

Why a ramp: per sample only r = η/B is pinned down (in intrinsic time the noise injected is ∝ η·r and the
samples spent are ∝ 1/r), so the joint (η_t, B_t) problem at a fixed sample budget Σ B_t = D is degenerate (a
singular arc of Pontryagin's conditions). At a fixed step count T the degeneracy is lifted by holding η at
its maximum (most intrinsic time, u = η_max (T − t) remaining) and spending the samples on a batch ramp:

    min_{B_t ≥ B_min} L_T(η ≡ η_max, B)   subject to   Σ_t B_t = D,

whose continuum solution is B*(t) ∝ (1 − t/T)^{1/(2b) − 1} in the easy phase (registry ``batch_ramp``;
:mod:`lrwb.theory.plrf`). It grows without bound as t → T (integrably), so in practice it is capped.

Gradients: the plain-SGD discrete adjoint (:mod:`lrwb.numerics.control.adjoint`, one forward and one reverse
sweep) gives ∂J/∂η_t and ∂J/∂y_t, and ∂J/∂B_t = −y_t² ∂J/∂y_t.

Solver (:func:`optimal_batch_schedule`): the budget and the floor are built into the variables,
B_t = B_min + (D − T·B_min)·softmax(z)_t, and L-BFGS-B minimises over z (unconstrained). The certificate is the
Karush–Kuhn–Tucker condition of the budget: ∂J/∂B_t equals one multiplier −ν on every step above the floor
(:attr:`OptimalBatchSchedule.kkt_residual`, the relative spread of ∂J/∂B_t over those steps).

>>> from lrwb.numerics.spectra import power_law_spectrum
>>> ramp = optimal_batch_schedule(power_law_spectrum(3.5, 2.0, 20), 20, total_samples=200.0, eta_max=0.5)
>>> round(float(ramp.batch.sum()), 6), bool(ramp.objective <= ramp.constant_objective)
(200.0, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from lrwb.numerics.checks import check_batch, check_positive_int, check_sigma
from lrwb.numerics.control.adjoint import DIVERGED_VALUE, SGDAdjoint, check_eta_max, check_schedule, check_spectrum
from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import UnstableLearningRateError, bound_for, renewal_norm

__all__ = [
    "BatchGradient",
    "OptimalBatchSchedule",
    "RampFit",
    "batch_loss_and_gradient",
    "optimal_batch_schedule",
    "derived_batch_ramp",
    "fit_ramp_exponent",
    "stable_batch_floor",
    "CONVERGED_KKT",
]


class _BatchProblem:
    """J and its gradients in (η_t, B_t) on one (spectrum, T, σ) problem: the plain-SGD adjoint
    (:class:`~lrwb.numerics.control.adjoint.SGDAdjoint`) evaluated at y_t = 1/B_t, with ∂J/∂B_t = −y_t² ∂J/∂y_t."""

    def __init__(self, spectrum: Spectrum, steps: int, *, sigma: float, window=None, backend: str = "auto"):
        self.sweep = SGDAdjoint(spectrum, steps, sigma=sigma, batch=1.0, window=window, backend=backend)
        self.steps = self.sweep.steps
        self.threshold = self.sweep.threshold

    @property
    def evaluations(self) -> int:
        return self.sweep.evaluations

    @property
    def excess_loss(self) -> np.ndarray:
        return self.sweep.excess_loss

    def evaluate(self, lr, batch):
        """(J, ∂J/∂η, ∂J/∂B, diverged) for one schedule (lr, batch), each (T,)."""
        inv_batch = np.ascontiguousarray(1.0 / np.asarray(batch, dtype=float))
        objective, grad_lr, diverged = self.sweep.evaluate(lr, inv_batch=inv_batch)
        if diverged:
            return np.inf, grad_lr, np.zeros(self.steps), True
        return objective, grad_lr, -inv_batch * inv_batch * self.sweep.inv_batch_gradient, False


@dataclass(frozen=True)
class BatchGradient:
    """Objective and its gradients for SGD with per-step (η_t, B_t).

    Attributes:
        objective: J = Σ_t w_t (excess loss at t) (+inf when diverged).
        lr_gradient: ∂J/∂η_t, (T,).
        batch_gradient: ∂J/∂B_t, (T,).
        loss: excess loss at t = 0 … T.
        diverged: whether the forward run blew up (gradients are zeros then).
    """

    objective: float
    lr_gradient: np.ndarray
    batch_gradient: np.ndarray
    loss: np.ndarray
    diverged: bool


def batch_loss_and_gradient(spectrum: Spectrum, lr, batch, *, sigma: float, window: int | None = None,
                            backend: str = "auto") -> BatchGradient:
    """J and its gradients in η_t and B_t by the discrete adjoint (module docstring); ``lr`` and ``batch`` are
    scalars or (T,) arrays (at least one of them an array, which sets T). A divergent run gives +inf.

    >>> import numpy as np
    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> out = batch_loss_and_gradient(spectrum, 0.5, np.linspace(2.0, 8.0, 10), sigma=0.5)
    >>> out.batch_gradient.shape, bool(np.all(out.batch_gradient < 0))
    ((10,), True)
    """
    lr_arr, batch_arr = np.asarray(lr, dtype=float), np.asarray(batch, dtype=float)
    steps = max(lr_arr.size if lr_arr.ndim else 0, batch_arr.size if batch_arr.ndim else 0)
    if steps == 0:
        raise ValueError("lr or batch must be a (T,) array to fix the horizon T")
    lr_arr = check_schedule(np.broadcast_to(lr_arr, (steps,)) if lr_arr.ndim == 0 else lr_arr)
    if lr_arr.size != steps:
        raise ValueError(f"lr has {lr_arr.size} steps but batch has {steps}")
    batch_arr = check_batch(batch_arr, (steps,))
    problem = _BatchProblem(spectrum, steps, sigma=sigma, window=window, backend=backend)
    value, g_lr, g_b, diverged = problem.evaluate(lr_arr, batch_arr)
    loss = np.full(steps + 1, np.inf) if diverged else problem.excess_loss
    return BatchGradient(value, g_lr, g_b, loss, diverged)


# ----------------------------------------------------------------------------------------------------------
# The derived ramp and the fit of its exponent
# ----------------------------------------------------------------------------------------------------------


def derived_batch_ramp(steps: int, total_samples: float, exponent: float, *, batch_min: float = 1.0,
                       batch_max: float = np.inf) -> np.ndarray:
    """B_t = clip(c·(1 − t/T)^p, B_min, B_max), t = 0 … T−1, with c set (by bisection) so that Σ_t B_t = D.

    ``exponent`` p is the derived 1/(2b) − 1 (registry ``batch_ramp``; pass it in, never retype it). The cap
    B_max is the "capped in practice" of ``plrf.md`` (the continuum ramp is unbounded at t → T).

    >>> ramp = derived_batch_ramp(10, 100.0, -0.75)
    >>> round(float(ramp.sum()), 9), bool(ramp[-1] > ramp[0])
    (100.0, True)
    """
    steps = check_positive_int(steps, "steps")
    if not (np.isfinite(exponent)):
        raise ValueError(f"exponent = {exponent!r} must be finite")
    if not (1 <= batch_min < batch_max):
        raise ValueError(f"need 1 <= batch_min < batch_max, got batch_min = {batch_min!r}, batch_max = {batch_max!r}")
    if not (steps * batch_min <= total_samples <= steps * batch_max):
        raise ValueError(f"total_samples = {total_samples!r} must lie in [T·batch_min, T·batch_max] = "
                         f"[{steps * batch_min:g}, {steps * batch_max:g}]")
    shape = (1.0 - np.arange(steps) / steps) ** exponent

    def spent(log_c):
        return float(np.clip(np.exp(log_c) * shape, batch_min, batch_max).sum())

    lo, hi = np.log(batch_min / shape.max()) - 1.0, np.log(max(batch_max, total_samples) / shape.min()) + 1.0
    if not np.isfinite(hi):
        hi = np.log(total_samples / shape.min()) + 1.0
    for _ in range(200):  # Σ clip(c·shape) is continuous and nondecreasing in c
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if spent(mid) < total_samples else (lo, mid)
    return np.clip(np.exp(hi) * shape, batch_min, batch_max)


@dataclass(frozen=True)
class RampFit:
    """Least-squares power law B_t ≈ c·(remaining fraction)^p over a window of t/T.

    Attributes:
        exponent: fitted p.
        prefactor: fitted c.
        window: the (lo, hi) range of t/T used.
        points: number of steps in the window.
    """

    exponent: float
    prefactor: float
    window: tuple[float, float]
    points: int


def fit_ramp_exponent(batch, *, window=(0.2, 0.9)) -> RampFit:
    """Fit log B_t = log c + p·log(1 − (t + ½)/T) over the steps with t/T in ``window``.

    The remaining fraction is taken at the middle of step t (its samples act over t → t+1), which removes the
    O(1/T) offset of the left end. The window leaves out the first steps (the early loss-proportional SGD noise
    shapes them; plrf.md §4 "warmup") and the last ones (the discrete end).

    >>> import numpy as np
    >>> steps = 100
    >>> batch = 3.0 * (1.0 - (np.arange(steps) + 0.5) / steps) ** -0.75
    >>> round(fit_ramp_exponent(batch).exponent, 9)
    -0.75
    """
    b = np.asarray(batch, dtype=float)
    lo, hi = window
    if not (0 <= lo < hi <= 1):
        raise ValueError(f"window = {window!r} must satisfy 0 <= lo < hi <= 1")
    steps = b.size
    x = np.arange(steps) / steps
    keep = (x >= lo) & (x <= hi)
    if keep.sum() < 3:
        raise ValueError(f"window = {window!r} holds {int(keep.sum())} steps of T = {steps}; need >= 3")
    if not np.all(np.isfinite(b[keep]) & (b[keep] > 0)):
        raise ValueError("batch must be finite and > 0 inside the fit window")
    remaining = 1.0 - (np.arange(steps) + 0.5) / steps
    slope, intercept = np.polyfit(np.log(remaining[keep]), np.log(b[keep]), 1)
    return RampFit(float(slope), float(np.exp(intercept)), (float(lo), float(hi)), int(keep.sum()))


# ----------------------------------------------------------------------------------------------------------
# Solver
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimalBatchSchedule:
    """Result of :func:`optimal_batch_schedule`.

    Attributes:
        batch: the optimal B_t, t = 0 … T−1 (Σ B_t = total_samples).
        lr: η_t ≡ η_max.
        loss: excess loss at t = 0 … T along (lr, batch).
        final_loss: loss[T].
        objective: the minimised J (final loss, or the window mean).
        total_samples: D = Σ B_t.
        batch_min: the floor B_min.
        constant_objective: J of the constant batch D/T at the same η (the reference the ramp beats).
        kkt_residual: relative spread max|∂J/∂B_t − ν̄|/|ν̄| over the steps above the floor (ν̄ their mean): 0 at
            the exact optimum (one Lagrange multiplier for the budget).
        iterations, evaluations: L-BFGS-B iterations and objective/gradient evaluations.
        runtime_s: wall time of the solve.
        message: L-BFGS-B's stopping message.
        converged: ``kkt_residual`` ≤ :data:`CONVERGED_KKT` and L-BFGS-B stopped before ``maxiter``.
        stability_floor: the smallest batch at which η_max is stable (:func:`stable_batch_floor`); the solver
            keeps B_t ≥ max(batch_min, stability_floor) (1 when η_max is stable at every batch).
        warning: set with ``allow_unstable=True`` when the floor was not applied.
    """

    batch: np.ndarray
    lr: np.ndarray
    loss: np.ndarray
    final_loss: float
    objective: float
    total_samples: float
    batch_min: float
    constant_objective: float
    kkt_residual: float
    iterations: int
    evaluations: int
    runtime_s: float
    message: str
    converged: bool = True
    stability_floor: float = 1.0
    warning: str | None = None


#: Largest relative spread of the budget multiplier ∂J/∂B_t over the free steps that counts as converged.
CONVERGED_KKT = 1e-3


def stable_batch_floor(eigenvalues, eta: float, *, rtol: float = 1e-10) -> float:
    """The smallest batch B ≥ 1 at which constant η is stable (two-part bound of :mod:`lrwb.numerics.stability`).

    ‖K‖₁ = Σ_k (η/B)λ_k/(2 − ((B+1)/B)ηλ_k) falls as B grows, so the stable batches form [B_c, ∞) (bisection;
    the returned value is stable). Returns 1 when η is stable at B = 1 and inf when η ≥ 2/λ_max (unstable even
    with exact gradients).
    """
    lam = np.asarray(eigenvalues, dtype=float)
    if renewal_norm(eta, lam, 1.0) < 1.0:
        return 1.0
    if not eta * lam.max() < 2.0:
        return float("inf")
    lo, hi = 1.0, 2.0
    while not renewal_norm(eta, lam, hi) < 1.0:
        lo, hi = hi, 2.0 * hi
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if renewal_norm(eta, lam, mid) < 1.0:
            hi = mid
        else:
            lo = mid
    return hi


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def optimal_batch_schedule(spectrum: Spectrum, steps: int, *, total_samples: float, eta_max: float = DEFAULTS.eta_max,
                           sigma: float = DEFAULTS.sigma, batch_min: float = 1.0, window: int | None = None, start=None,
                           maxiter: int = 5000, tol: float = 1e-13, backend: str = "auto",
                           allow_unstable: bool = False) -> OptimalBatchSchedule:
    """min over B_t ≥ B_min with Σ_t B_t = D of J(η ≡ η_max, B) (final loss, or the mean over the last ``window``
    losses) by L-BFGS-B in softmax variables (module docstring). ``start``: a batch schedule (T,) (rescaled to
    the budget); default the constant batch D/T. Divergent trial points count as +∞ (never raised).

    Stability: η is held at η_max, so every step needs B_t ≥ B_c(η_max) (:func:`stable_batch_floor`); the floor
    used is max(B_min, B_c). When no stable ramp exists (η_max ≥ 2/λ_max, or T·B_c ≥ D) this raises
    :class:`~lrwb.numerics.stability.UnstableLearningRateError` before solving; ``allow_unstable=True`` keeps B_min
    and sets the result's ``warning``.
    """
    clock = time.perf_counter()
    steps = check_positive_int(steps, "steps")
    eta_max = check_eta_max(eta_max)
    if not (np.isfinite(batch_min) and batch_min >= 1):
        raise ValueError(f"batch_min = {batch_min!r} must be finite and >= 1")
    check_spectrum(spectrum)
    check_sigma(sigma)
    requested_min = float(batch_min)
    floor = stable_batch_floor(spectrum.eigenvalues, eta_max)
    warning = None
    if floor > batch_min:
        if not (steps * floor < total_samples) or not np.isfinite(floor):
            need = ("no batch makes it stable (η_max·λ_max ≥ 2: the per-mode condition fails at every B)"
                    if not np.isfinite(floor) else f"stable batches need B ≥ {floor:.6g}, i.e. Σ B_t > "
                    f"{steps * floor:.6g}, but the budget is total_samples = {total_samples:g}")
            text = (f"eta_max = {eta_max:g} (held at every step of the batch ramp) is above the stability bound "
                    f"η < {bound_for(spectrum.eigenvalues, batch_min):.6g} at B = {batch_min:g}: {need}")
            if not allow_unstable:
                raise UnstableLearningRateError(f"{text} (lower eta_max, raise the budget, or allow_unstable=True / "
                                                "--allow-unstable)", step=0, eta=eta_max,
                                                bound=bound_for(spectrum.eigenvalues, batch_min),
                                                condition="per-mode" if not np.isfinite(floor) else "renewal")
            warning = f"unstable run: {text}; solved with B_t ≥ {batch_min:g} as asked (--allow-unstable)"
        elif allow_unstable:
            warning = (f"unstable run: B_t ≥ {batch_min:g} kept as asked (--allow-unstable), although eta_max = "
                       f"{eta_max:g} needs B ≥ {floor:.6g} to be stable")
        else:
            batch_min = floor
    if not (np.isfinite(total_samples) and total_samples > steps * batch_min):
        raise ValueError(f"total_samples = {total_samples!r} must be finite and > T·batch_min = {steps * batch_min:g} "
                         "(else every batch sits at the floor)")
    problem = _BatchProblem(spectrum, steps, sigma=sigma, window=window, backend=backend)
    lr = np.full(steps, eta_max)
    spare = float(total_samples) - steps * batch_min

    def batches(z):
        return batch_min + spare * _softmax(z)

    def fun(z):
        s = _softmax(z)
        value, _, g_b, diverged = problem.evaluate(lr, batch_min + spare * s)
        if diverged:
            return DIVERGED_VALUE, np.zeros_like(z)
        return value, spare * s * (g_b - s @ g_b)  # chain rule through the softmax

    constant = float(total_samples) / steps
    constant_value, _, _, constant_diverged = problem.evaluate(lr, np.full(steps, constant))
    if start is None:
        z0 = np.zeros(steps)
    else:
        b0 = np.asarray(start, dtype=float)
        if b0.shape != (steps,):
            raise ValueError(f"start has shape {b0.shape}, expected one batch per step, shape ({steps},)")
        b0 = check_batch(b0, (steps,))
        if not np.all(np.isfinite(b0)):
            raise ValueError("start must hold finite batch sizes (the budget Σ B_t is finite)")
        extra = np.maximum(b0 - batch_min, 1e-12 * spare)
        z0 = np.log(extra / extra.sum())
    if fun(z0)[0] >= DIVERGED_VALUE:
        raise ValueError(f"optimal_batch_schedule: the start diverges at eta_max = {eta_max}; raise total_samples "
                         "or lower eta_max (the stability bound grows with the batch)")
    result = optimize.minimize(fun, z0, jac=True, method="L-BFGS-B",
                               options=dict(maxiter=maxiter, maxcor=30, ftol=tol, gtol=1e-16, maxfun=3 * maxiter))
    z = result.x if fun(result.x)[0] <= fun(z0)[0] else z0
    batch = batches(z)
    value, _, g_b, _ = problem.evaluate(lr, batch)
    free = batch > batch_min * (1.0 + 1e-6) + 1e-9 * spare
    nu = float(np.mean(g_b[free])) if free.any() else 0.0
    kkt = float(np.max(np.abs(g_b[free] - nu)) / abs(nu)) if free.any() and nu != 0 else 0.0
    loss = problem.excess_loss
    return OptimalBatchSchedule(
        batch=batch, lr=lr, loss=loss, final_loss=float(loss[-1]), objective=float(value),
        total_samples=float(total_samples), batch_min=requested_min,
        constant_objective=float(np.inf if constant_diverged else constant_value), kkt_residual=kkt,
        iterations=int(result.nit), evaluations=problem.evaluations, runtime_s=time.perf_counter() - clock,
        message=str(result.message), converged=bool(kkt <= CONVERGED_KKT and result.nit < maxiter),
        stability_floor=float(floor), warning=warning)
