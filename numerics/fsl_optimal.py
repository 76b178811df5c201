"""Numerically optimal schedules under the FSL objective (fsl.md §4; Li et al. 2026, arXiv 2602.06797).

Objective in step units (PLRF units, no ½), over 0 ≤ η_i ≤ η_max, i = 0…N−1, t_k = Σ_{i<k} η_i:

    E_N[η] = δ + e(t_N) + Σ_i (η_i²/B) K(t_N − t_{i+1}) (σ² [+ δ + e(t_i) with ``self_noise``]),

the discrete form of (1 + T_N)^{−s} + σ²∫K(T_N − T(z))η(z)²dz (the follow-up's noise-dominated objective drops
the SGD self-noise e(z)γ(z); ``self_noise=True`` keeps it, i.e. the full first Picard iterate). Minimised by
L-BFGS-B on all N learning rates with the exact gradient (torch autograd, float64).

Comparisons: easy phase — power decay η_peak(1 − z/N)^{2β−1} with η_peak ≍ N^{−ν}, ν = (s − 1 + 1/β)/(s + 1/β);
hard phase — WSD-like, η_max then a decay over a vanishing fraction N^{−(1−1/β−s)/(2−1/β)}; fixed shapes
η_peak·(1 − z/N)^κ (+ floor) — effective capacity min{β, κ + 1}. Derived values come from the theory registry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from numerics.fsl import FSLModel, check_schedule, final_loss
from numerics.io import atomic_write


def _torch_kernel(model: FSLModel, horizon: float):
    import torch

    if model.form == "power":
        p = model.kernel_exponent
        return lambda u: (1.0 + u) ** (-p), lambda t: (1.0 + t) ** (-model.s)
    ks = model.kernel_sum(horizon)
    ss = model.signal_sum(horizon)
    kr, kw = torch.tensor(ks.rates), torch.tensor(ks.weights)
    sr, sw = torch.tensor(ss.rates), torch.tensor(ss.weights)
    return (lambda u: torch.exp(-u[:, None] * kr) @ kw), (lambda t: torch.exp(-t.reshape(-1, 1) * sr) @ sw)


def fsl_objective(model: FSLModel, steps: int, *, eta_max: float, batch: float = 1.0, self_noise: bool = False):
    """(f(η) -> (value, gradient)) of E_N[η] for L-BFGS-B (numpy in, numpy out)."""
    import torch

    kernel, signal = _torch_kernel(model, eta_max * steps)
    sigma2, approx = model.sigma**2, model.approx

    def value_and_grad(x: np.ndarray):
        eta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        t = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(eta, 0)])
        forcing = sigma2 + (approx + signal(t[:-1]).reshape(-1) if self_noise else 0.0)
        noise = torch.sum(eta**2 / batch * kernel(t[-1] - t[1:]).reshape(-1) * forcing)
        loss = approx + signal(t[-1:]).reshape(()) + noise
        loss.backward()
        return float(loss.detach()), eta.grad.numpy().copy()

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

    def summary(self) -> str:
        lines = [f"optimal FSL final loss {self.loss:.6g} (best constant {self.best_constant:.6g} at η = "
                 f"{self.best_constant_lr:.4g}: ratio {self.loss / self.best_constant:.3f}); peak η = {self.peak:.4g}"]
        if self.beta is not None:
            lines.append(f"fitted decay exponent {self.fitted_decay_exponent:.3f} (power decay 2β−1 = "
                         f"{2 * self.beta - 1:.3f}); decay fraction (η < 0.9·peak at the end) {self.decay_fraction:.4f}")
        return "\n".join(lines)


def best_constant(model: FSLModel, steps: int, eta_max: float, batch: float = 1.0) -> tuple[float, float]:
    """(loss, η) of the best constant LR ≤ η_max under the same objective (first Picard iterate)."""
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
    return float(np.polyfit(np.log(1 - z[sel]), np.log(lr[sel]), 1)[0])


def optimal_schedule(model: FSLModel, steps: int, *, eta_max: float, batch: float = 1.0, self_noise: bool = False,
                     max_iterations: int = 3000) -> OptimalSchedule:
    """Minimise E_N[η] over 0 ≤ η_i ≤ η_max (module docstring); start from a linear decay from η_max/2."""
    if not (math.isfinite(eta_max) and eta_max > 0):
        raise ValueError(f"eta_max = {eta_max!r} must be finite and > 0")
    if int(steps) != steps or steps < 2:
        raise ValueError(f"steps = {steps!r} must be an integer >= 2")
    f = fsl_objective(model, steps, eta_max=eta_max, batch=batch, self_noise=self_noise)
    start = 0.5 * eta_max * (1 - np.arange(steps) / steps)
    res = optimize.minimize(f, start, jac=True, method="L-BFGS-B", bounds=[(0.0, eta_max)] * steps,
                            options={"maxiter": max_iterations, "maxfun": 2 * max_iterations, "ftol": 1e-15,
                                     "gtol": 1e-12})
    lr = check_schedule(res.x)
    const_loss, const_lr = best_constant(model, steps, eta_max, batch)
    peak = float(lr.max())
    below = lr < 0.9 * peak
    tail_start = steps - int(np.argmin(below[::-1])) if below[-1] else steps
    return OptimalSchedule(lr=lr, loss=float(res.fun), eta_max=eta_max, s=model.s, beta=model.beta,
                           best_constant=const_loss, best_constant_lr=const_lr, peak=peak,
                           fitted_decay_exponent=decay_exponent(lr), decay_fraction=(steps - tail_start) / steps,
                           converged=bool(res.success))


def write_optimal_csv(path, result: OptimalSchedule) -> None:
    """``step,lr`` (the schedule grammar's ``file:`` format)."""
    with atomic_write(path) as handle:
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
