"""Optimal learning-rate schedules by optimal control of the exact SGD dynamics (``plrf.md`` §5).

Problem: min over 0 ≤ η_t ≤ η_max of J = Σ_t w_t (S_t + δ_N), the final (or window-mean) excess loss of plain
SGD's exact second-moment recursion (:mod:`lrwb.numerics.control.adjoint`, which gives J, ∂J/∂η_t and the
Pontryagin quantities D_t, Q_t by one forward and one reverse sweep).

Pontryagin: J is a parabola in each η_t alone, ∂J/∂η_t = 2(Q_t η_t − D_t), so given the costates the stationary
step size is η*_t = D_t/Q_t. The certificate of a schedule is the relative stationarity residual
|η_t − η*_t|/η*_t = |∂J/∂η_t| / (2 D_t) on the steps where the box 0 ≤ η_t ≤ η_max is inactive
(:func:`stationarity_residual`).

Solver (:func:`optimal_schedule`): scipy's L-BFGS-B over the box with the adjoint gradient, warm-started
from the best of a few clipped collapse shapes (:func:`default_start`) or, in a sweep of horizons
(:func:`optimal_schedules`), from the previous horizon's optimum carried over in t/T; in variables scaled by
the Pontryagin curvature (diagonal preconditioning, ~10× fewer iterations); then polished by projected
Newton steps on the inactive set (Hessian-vector products by finite differences of the adjoint gradient,
conjugate gradients preconditioned by the same curvature), which bring the residual to ~1e−13…1e−9.

The sweeps are shared with the batch ramp (:mod:`lrwb.numerics.control.batch`); the joint (η_t, μ_t) optimisation
is :mod:`lrwb.numerics.control.momentum`, the tuned baselines the optimum is compared with
:mod:`lrwb.numerics.control.baselines`. A divergent trial point counts as +∞ internally (a huge finite value for
the line search); the solvers never raise on it.

>>> from lrwb.numerics.spectra import power_law_spectrum
>>> opt = optimal_schedule(power_law_spectrum(3.5, 2.0, 20), 30, sigma=0.5, batch=5.0)
>>> opt.lr.shape, opt.converged
((30,), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from lrwb.numerics.checks import check_positive_int
from lrwb.numerics.control.adjoint import (
    SGDAdjoint,
    check_eta_max,
    check_problem,
    check_schedule,
)
from lrwb.numerics.control.baselines import final_losses
from lrwb.numerics.conventions import DEFAULTS, STATIONARITY_RESIDUAL
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import stability_bound, stable_eta_max

#: The pinned Pontryagin stationarity tolerance (``conventions.md``): an optimum whose relative residual on the
#: inactive steps exceeds it is reported as not converged.
CONVERGED_RESIDUAL = STATIONARITY_RESIDUAL

__all__ = [
    "CONVERGED_RESIDUAL",
    "OptimalSchedule",
    "stationarity_residual",
    "optimal_schedule",
    "optimal_schedules",
    "rescale_schedule",
    "collapse_start",
    "default_start",
]


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


def stationarity_residual(spectrum: Spectrum, lr, *, sigma: float, batch: float, eta_max: float,
                          window: int | None = None, bound_tol: float = 1e-10):
    """Relative Pontryagin residual |η_t − η*_t|/η*_t = |∂J/∂η_t|/(2 D_t) per step, NaN on steps within
    ``bound_tol``·η_max of a bound; returns (residual, inactive mask).

    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> opt = optimal_schedule(spectrum, 30, sigma=0.5, batch=5.0)
    >>> res, inactive = stationarity_residual(spectrum, opt.lr, sigma=0.5, batch=5.0, eta_max=1.0)
    >>> bool(np.nanmax(res) <= 1e-6)
    True
    """
    arr = check_schedule(lr)
    problem = SGDAdjoint(spectrum, arr.size, sigma=sigma, batch=batch, window=window)
    value, grad, diverged = problem.evaluate(arr)
    if diverged:
        raise ValueError("stationarity_residual: the schedule diverges (excess loss above "
                         f"{problem.threshold:.3g}); no certificate")
    return _residual(arr, grad, problem.lin, eta_max, bound_tol)


def _residual(lr, grad, lin, eta_max, bound_tol=1e-10):
    inactive = (lr > bound_tol * eta_max) & (lr < eta_max * (1.0 - bound_tol))
    with np.errstate(divide="ignore", invalid="ignore"):
        res = np.abs(grad) / (2.0 * np.abs(lin))
    return np.where(inactive, res, np.nan), inactive


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
    finals = final_losses(spectrum, matrix, sigma, batch)
    best = int(np.argmin(finals))
    if np.isfinite(finals[best]):
        return matrix[best]
    return np.full(steps, 0.5 * min(eta_max, stability_bound(spectrum.eigenvalues, batch)))


def _polish(problem: SGDAdjoint, lr: np.ndarray, eta_max: float, *, iterations: int, tol: float):
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


def optimal_schedule(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = DEFAULTS.eta_max,
                     window: int | None = None, start=None, polish: int = 30, residual_tol: float = 1e-8,
                     maxiter: int = 5000, backend: str = "auto", allow_unstable: bool = False) -> OptimalSchedule:
    """min_η J(η) over 0 ≤ η_t ≤ η_max (J: final loss, or the mean over the last ``window`` losses).

    L-BFGS-B with the adjoint gradient from ``start`` (default: :func:`default_start`), then up to ``polish``
    projected Newton steps until the relative stationarity residual on inactive steps is ≤ ``residual_tol``.
    ``converged`` reports whether it reached :data:`CONVERGED_RESIDUAL` (``conventions.md``: 1e−6).
    A cap above the stability bound (:func:`lrwb.numerics.stability.stable_eta_max`) is clipped to the bound with a
    warning (an optimum never needs an unstable step; at finite T the objective alone does not forbid them);
    ``allow_unstable=True`` keeps it. Use :func:`optimal_schedules` for a sweep of horizons (warm starts).

    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> opt = optimal_schedule(spectrum, 30, sigma=0.5, batch=5.0, eta_max=1.0)
    >>> bool(0 <= opt.lr.min() and opt.lr.max() <= 1.0), opt.converged
    (True, True)
    """
    steps = check_positive_int(steps, "steps")
    eta_max = check_eta_max(eta_max)
    check_problem(spectrum, sigma, batch)
    eta_max, warning = stable_eta_max(eta_max, spectrum.eigenvalues, batch, allow_unstable=allow_unstable)
    problem = SGDAdjoint(spectrum, steps, sigma=sigma, batch=batch, window=window, backend=backend)
    if start is None:
        x0 = default_start(spectrum, steps, sigma=sigma, batch=batch, eta_max=eta_max)
    else:
        x0 = np.clip(check_schedule(start), 0.0, eta_max)
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
    loss = problem.excess_loss
    return OptimalSchedule(lr=lr, loss=loss, final_loss=float(loss[-1]), objective=value,
                           eta_max=eta_max, residual=res, max_residual=max_res, inactive=inactive,
                           iterations=int(result.nit) + polished, evaluations=problem.evaluations,
                           converged=bool(max_res <= CONVERGED_RESIDUAL), warning=warning)


def rescale_schedule(lr, steps: int) -> np.ndarray:
    """A schedule of one horizon carried to another at equal fraction t/T (linear interpolation): the warm
    start for the next horizon of a sweep (the optimal profiles nearly collapse in t/T).

    >>> rescale_schedule([1.0, 0.0], 4)
    array([1.  , 0.75, 0.25, 0.  ])
    """
    arr = check_schedule(lr)
    steps = check_positive_int(steps, "steps")
    old = (np.arange(arr.size) + 0.5) / arr.size
    new = (np.arange(steps) + 0.5) / steps
    return np.interp(new, old, arr)


def optimal_schedules(spectrum: Spectrum, horizons, *, sigma: float, batch: float, eta_max: float = DEFAULTS.eta_max,
                      window: int | None = None, backend: str = "auto",
                      allow_unstable: bool = False) -> list[OptimalSchedule]:
    """:func:`optimal_schedule` for each horizon in increasing order, each warm-started from the previous
    solution carried over by :func:`rescale_schedule` (the first from the collapse shape).

    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> [r.lr.size for r in optimal_schedules(spectrum, [40, 20], sigma=0.5, batch=5.0)]
    [40, 20]
    """
    horizons = [check_positive_int(h, "steps") for h in horizons]
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
