"""Numerically optimal schedules under the FSL objective (fsl.md §4; Li et al. 2026, arXiv 2602.06797).

Objective in step units (PLRF units, no ½), over 0 ≤ η_i ≤ η_max, i = 0…N−1, t_k = Σ_{i<k} η_i:

    E_N[η] = δ + e(t_N) + Σ_i (η_i²/B) K(t_N − t_{i+1}) (σ² [+ δ + e(t_i) with ``self_noise``]),

the discrete form of (1 + T_N)^{−s} + σ²∫K(T_N − T(z))η(z)²dz (the follow-up's noise-dominated objective drops
the SGD self-noise e(z)γ(z); ``self_noise=True`` keeps it, i.e. the full first Picard iterate). Minimised by
L-BFGS-B on all N learning rates with the exact gradient (closed form, NumPy: no torch needed).

Comparisons: easy phase — power decay η_peak(1 − z/N)^{2β−1} with η_peak ≍ N^{−ν}, ν = (s − 1 + 1/β)/(s + 1/β);
hard phase — WSD-like, η_max then a decay over a vanishing fraction N^{−(1−1/β−s)/(2−1/β)}; fixed shapes
η_peak·(1 − z/N)^κ (+ floor) — effective capacity min{β, κ + 1}. Derived values come from the theory registry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from lrwb.numerics.analysis.slopes import loglog_slope
from lrwb.numerics.fsl.engine import FSLModel, check_schedule, final_loss, fsl_stability_bound, intrinsic_times
from lrwb.numerics.stability import clip_cap
from lrwb.numerics.sumexp import ExpSum
from lrwb.numerics.io import atomic_write

__all__ = ["fsl_objective", "OptimalSchedule", "best_constant", "decay_exponent", "stationarity_exponent",
           "decay_fraction", "rescale_schedule", "optimal_schedule", "optimal_schedules", "write_optimal_csv",
           "fixed_shape_loss"]


def _law_functions(model: FSLModel, horizon: float):
    """(K, K′, e, e′) as NumPy callables: closed forms for the power law, compressed exp sums for mode sums."""
    if model.form == "power":
        p, s = model.kernel_exponent, model.s
        return (lambda u: (1.0 + u) ** (-p), lambda u: -p * (1.0 + u) ** (-p - 1.0),
                lambda t: (1.0 + t) ** (-s), lambda t: -s * (1.0 + t) ** (-s - 1.0))
    kernel, signal = model.kernel_sum(horizon), model.signal_sum(horizon)

    def derivative(terms: ExpSum) -> ExpSum:
        return ExpSum(terms.rates, -terms.rates * terms.weights)

    return kernel, derivative(kernel), signal, derivative(signal)


def fsl_objective(model: FSLModel, steps: int, *, eta_max: float, batch: float = 1.0, self_noise: bool = False):
    """f(η) -> (E_N, ∇E_N) for L-BFGS-B, in O(N) (power law) or O(N·Q) (mode sums), NumPy only.

    With T_k = Σ_{i<k} η_i, u_j = T_N − T_{j+1} (the intrinsic time left after step j) and
    F_j = σ² [+ δ + e(T_j) with ``self_noise``]:

        E_N = δ + e(T_N) + (1/B) Σ_j η_j² K(u_j) F_j,
        ∂E_N/∂η_i = e′(T_N) + (1/B) [2η_i K(u_i) F_i + Σ_{j<i} η_j² K′(u_j) F_j + Σ_{j>i} η_j² K(u_j) ∂F_j],

    (∂u_j/∂η_i = [j < i], ∂T_j/∂η_i = [i < j], ∂F_j = e′(T_j) with ``self_noise``, else 0): the two sums are
    an exclusive prefix and an exclusive suffix cumulative sum.
    """
    kernel, kernel_prime, signal, signal_prime = _law_functions(model, eta_max * steps)
    sigma2, approx = model.sigma**2, model.approx

    def value_and_grad(x: np.ndarray):
        eta = np.asarray(x, dtype=float)
        t = np.concatenate(([0.0], np.cumsum(eta)))
        total = t[-1]
        left = np.maximum(total - t[1:], 0.0)  # u_j ≥ 0 (rounding)
        k, kp = kernel(left), kernel_prime(left)
        forcing = sigma2 + (approx + signal(t[:-1]) if self_noise else 0.0)
        sq = eta**2 / batch
        value = approx + float(signal(np.array([total]))[0]) + float(np.sum(sq * k * forcing))
        prefix = np.concatenate(([0.0], np.cumsum(sq * kp * forcing)[:-1]))
        grad = float(signal_prime(np.array([total]))[0]) + 2.0 * eta / batch * k * forcing + prefix
        if self_noise:
            tail = sq * k * signal_prime(t[:-1])
            grad += np.concatenate((np.cumsum(tail[::-1])[::-1][1:], [0.0]))
        return value, grad

    return value_and_grad


@dataclass(frozen=True)
class OptimalSchedule:
    """The optimum and the shape statistics compared with the theory."""

    lr: np.ndarray
    loss: float
    eta_max: float
    s: float | None
    beta: float | None
    best_constant: float
    best_constant_lr: float
    peak: float
    fitted_decay_exponent: float
    decay_fraction: float
    converged: bool
    stationarity_exponent: float = float("nan")
    iterations: int = 0
    warning: str | None = None  # the cap η_max was above the stability bound (clipped, or kept if allowed)

    def summary(self) -> str:
        lines = [f"optimal FSL final loss {self.loss:.6g} (best constant {self.best_constant:.6g} at η = "
                 f"{self.best_constant_lr:.4g}: ratio {self.loss / self.best_constant:.3f}); peak η = {self.peak:.4g}"]
        if self.beta is not None:
            lines.append(f"fitted decay exponent {self.fitted_decay_exponent:.3f} (power decay 2β−1 = "
                         f"{2 * self.beta - 1:.3f}); decay fraction (η < 0.9·peak at the end) {self.decay_fraction:.4f}")
            lines.append(f"η against the remaining intrinsic time u: η ∝ (1 + u)^{self.stationarity_exponent:.4f} "
                         f"(stationarity: (2β−1)/(2β) = {(2 * self.beta - 1) / (2 * self.beta):.4f})")
        return "\n".join(lines)


def best_constant(model: FSLModel, steps: int, eta_max: float, batch: float = 1.0) -> tuple[float, float]:
    """(loss, η) of the best constant LR ≤ η_max under the same objective (first Picard iterate).

    >>> from lrwb.numerics.fsl.engine import power_law_model
    >>> loss, eta = best_constant(power_law_model(1.0, 2.0, sigma=0.5), 20, 0.4)
    >>> round(loss, 3), bool(0 < eta <= 0.4)
    (0.333, True)
    """
    grid = eta_max * np.logspace(-4, 0, 60)
    losses = final_loss(model, np.repeat(grid[:, None], steps, axis=1), batch=batch)
    i = int(np.argmin(losses))
    return float(losses[i]), float(grid[i])


def decay_exponent(lr: np.ndarray, lo: float = 0.05, hi: float = 0.7) -> float:
    """Slope of log η against log(1 − z/N) over the part where η falls from ``hi`` to ``lo`` of the peak."""
    n = lr.size
    z = (np.arange(n) + 0.5) / n
    peak = lr.max()
    after = np.arange(n) >= int(np.argmax(lr))
    sel = after & (lr > lo * peak) & (lr < hi * peak)
    if sel.sum() < 3:
        return float("nan")
    return loglog_slope(1 - z, lr, mask=sel)


def stationarity_exponent(lr, lo: float = 0.05, hi: float = 0.7) -> float:
    """Slope of log η against log(1 + u), u_i = Σ_{j>i} η_j the intrinsic time left after step i, over the part
    after the peak where η falls from ``hi`` to ``lo`` of the peak.

    Stationarity of E_N gives η ∝ K(u)^{−1/2} = (1 + u)^{(2β−1)/(2β)} (registry ``fsl_stationary_lr_kernel``)
    at every N; the power decay (1 − z/N)^{2β−1} is its large-N form (u ∝ (N − z)^{2β} once u ≫ 1).
    """
    lr = np.asarray(lr, dtype=float)
    t = intrinsic_times(lr)
    left = t[-1] - t[1:]
    peak = lr.max()
    after = np.arange(lr.size) >= int(np.argmax(lr))
    sel = after & (lr > lo * peak) & (lr < hi * peak)
    if sel.sum() < 3:
        return float("nan")
    # log1p, not loglog_slope(1 + u): exact for u ≪ 1 (the last steps), where 1 + u rounds
    return float(np.polyfit(np.log1p(left[sel]), np.log(lr[sel]), 1)[0])


def decay_fraction(lr, level: float = 0.9) -> float:
    """Fraction of the horizon at the end where η < level·peak (the WSD-like schedule's decay phase)."""
    lr = np.asarray(lr, dtype=float)
    below = lr < level * lr.max()
    tail = int(np.argmin(below[::-1])) if not below.all() else lr.size
    return tail / lr.size


def rescale_schedule(lr, steps: int) -> np.ndarray:
    """A schedule carried to another horizon at equal fraction z/N (linear interpolation): a warm start."""
    lr = np.asarray(lr, dtype=float)
    return np.interp((np.arange(steps) + 0.5) / steps, (np.arange(lr.size) + 0.5) / lr.size, lr)


def optimal_schedule(model: FSLModel, steps: int, *, eta_max: float, batch: float = 1.0, self_noise: bool = False,
                     max_iterations: int = 3000, start=None, allow_unstable: bool = False) -> OptimalSchedule:
    """Minimise E_N[η] over 0 ≤ η_i ≤ η_max (module docstring) by L-BFGS-B with the exact gradient, from
    ``start`` (default: a linear decay from η_max/2).

    The objective has no feedback term, so it stays finite above the stability bound and would happily use
    steps there (a cap of 10⁶ gave a peak of 5·10⁵). A cap above the bound of the law's model
    (:func:`lrwb.numerics.fsl.engine.fsl_stability_bound`: the exact two-part bound for mode sums, the law's own discrete
    ‖K‖₁ < 1 for power laws) is therefore clipped to it, with an :class:`~lrwb.numerics.stability.UnstableLearningRateWarning`
    and the result's ``warning``; ``allow_unstable=True`` keeps the cap (and still sets ``warning``).
    
    >>> from lrwb.numerics.fsl.engine import power_law_model
    >>> model = power_law_model(1.0, 2.0, sigma=0.5)
    >>> result = optimal_schedule(model, 20, eta_max=0.4)
    >>> result.lr.shape, bool(result.loss < best_constant(model, 20, 0.4)[0])  # beats the best constant
    ((20,), True)
    """
    if not (math.isfinite(eta_max) and eta_max > 0):
        raise ValueError(f"eta_max = {eta_max!r} must be finite and > 0")
    description = ("exact two-part bound of the top-M model" if model.form == "modes"
                   else f"power-law FSL: ‖K‖₁ = (η²/B) Σ_j (1 + jη)^(−(2−1/β)) < 1, β = {model.beta:g}") \
        + f", B = {float(batch):g}"
    eta_max, warning = clip_cap(eta_max, fsl_stability_bound(model, float(batch)), description,
                                allow_unstable=allow_unstable)
    if int(steps) != steps or steps < 2:
        raise ValueError(f"steps = {steps!r} must be an integer >= 2")
    steps = int(steps)
    f = fsl_objective(model, steps, eta_max=eta_max, batch=batch, self_noise=self_noise)
    if start is None:
        start = 0.5 * eta_max * (1 - np.arange(steps) / steps)
    else:
        start = np.clip(check_schedule(start), 0.0, eta_max)
        if start.shape != (steps,):
            raise ValueError(f"start has shape {start.shape}, expected ({steps},)")
    res = optimize.minimize(f, start, jac=True, method="L-BFGS-B", bounds=[(0.0, eta_max)] * steps,
                            options={"maxiter": max_iterations, "maxfun": 2 * max_iterations, "ftol": 1e-15,
                                     "gtol": 1e-12})
    lr = check_schedule(res.x)
    const_loss, const_lr = best_constant(model, steps, eta_max, batch)
    return OptimalSchedule(lr=lr, loss=float(res.fun), eta_max=eta_max, s=model.s, beta=model.beta,
                           best_constant=const_loss, best_constant_lr=const_lr, peak=float(lr.max()),
                           fitted_decay_exponent=decay_exponent(lr), decay_fraction=decay_fraction(lr),
                           converged=bool(res.success), stationarity_exponent=stationarity_exponent(lr),
                           iterations=int(res.nit), warning=warning)


def optimal_schedules(model: FSLModel, horizons, *, eta_max: float, batch: float = 1.0, self_noise: bool = False,
                      max_iterations: int = 3000, allow_unstable: bool = False) -> list[OptimalSchedule]:
    """:func:`optimal_schedule` for each horizon, in increasing order, each warm-started from the previous optimum
    carried over by :func:`rescale_schedule` (the optimal profiles nearly collapse in z/N)."""
    horizons = [int(n) for n in horizons]
    results: list = [None] * len(horizons)
    previous = None
    for i in np.argsort(horizons, kind="stable"):
        start = None if previous is None else rescale_schedule(previous.lr, horizons[i])
        previous = optimal_schedule(model, horizons[i], eta_max=eta_max, batch=batch, self_noise=self_noise,
                                    max_iterations=max_iterations, start=start, allow_unstable=allow_unstable)
        results[i] = previous
    return results


def write_optimal_csv(path, result: OptimalSchedule, *, comment: str | None = None) -> None:
    """``step,lr`` (the schedule grammar's ``file:`` format), after a ``# warning: COMMENT`` line if given."""
    with atomic_write(path) as handle:
        if comment:
            handle.write(f"# warning: {comment}\n")
        handle.write("step,lr\n")
        for k, eta in enumerate(result.lr):
            handle.write(f"{k},{float(eta)!r}\n")


def fixed_shape_loss(model: FSLModel, steps: int, kappa: float, *, eta_max: float, floor: float = 0.0,
                     batch: float = 1.0) -> tuple[float, float]:
    """(best loss, η_peak) of η_peak·((1 − floor)(1 − z/N)^κ + floor) over η_peak ≤ η_max (grid + golden)."""
    z = np.arange(steps) / steps
    shape = (1 - floor) * (1 - z) ** kappa + floor

    def loss(log_peak):
        return float(final_loss(model, math.exp(log_peak) * shape[None], batch=batch)[0])

    grid = np.linspace(math.log(eta_max) - 12, math.log(eta_max), 37)
    vals = [loss(g) for g in grid]
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(loss, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return float(res.fun), math.exp(res.x)
