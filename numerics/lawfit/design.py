"""Schedule designer: the learning-rate schedule that minimises a fitted law's predicted final loss.

Given a fitted law (:class:`lrwb.numerics.lawfit.fit.FitResult`), a horizon K, a peak bound η ≤ ``peak_max`` and a
warmup (linear from 0 over W steps, as in the fitted runs), we minimise L̂(K − 1) over the post-warmup
schedule. The schedule is piecewise linear between n knots at fractions τ_i = 1 − (1 − i/(n−1))² of the
post-warmup span (denser near the end, where decays happen), joined linearly or held piecewise constant
(both are optimised, the better wins: some laws, MPL among them, reward sharp drops), with log η_i ∈ [log(ratio·peak_max),
log peak_max]; ``monotone=True`` parametrises log η_i = y_0 − Σ_{m≤i} δ_m with δ_m ≥ 0 (non-increasing
after the warmup). Bounded L-BFGS-B with finite-difference gradients in the n knot values (each evaluation is
one O(K·Q) law evaluation), from the baselines sampled at the knots.

The result carries the designed per-step schedule, its predicted curve and final loss, and the same for
cosine (to 0.1·peak), WSD (20% exponential decay to 0.1·peak) and 8-1-1 at the same peak, horizon and
warmup. Use it as a plain callable (``design(step)``), write it with :func:`write_design_csv`, or build a
PyTorch ``LambdaLR`` with :func:`torch_lambda_lr` (torch optional).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from lrwb.numerics.lawfit.fit import FitResult

__all__ = ["MIN_RATIO", "DesignedSchedule", "knot_fractions", "schedule_from_knots", "design_schedule",
           "baseline_schedules", "write_design_csv", "schedule_callable", "torch_lambda_lr", "final_loss_interval"]

MIN_RATIO = 1e-3  # knot values stay ≥ 1e−3·peak_max (laws are not trusted below the data's LR range)


@dataclass(frozen=True)
class DesignedSchedule:
    """A designed schedule (per-step ``lr``) with predicted final losses of it and of the baselines."""

    lr: np.ndarray
    predicted_final: float
    law: str
    steps: int
    peak_max: float
    warmup: int
    monotone: bool
    baselines: dict = field(default_factory=dict)  # name -> {"spec": str, "final": float}
    curve_steps: np.ndarray = field(default=None, repr=False)
    curves: dict = field(default_factory=dict, repr=False)  # name -> predicted loss at curve_steps

    def __call__(self, step) -> float:
        """η at integer ``step`` (clamped to the horizon): the plain-Python-callable form."""
        t = min(max(int(step), 0), self.lr.size - 1)
        return float(self.lr[t])

    def to_dict(self) -> dict:
        return {"law": self.law, "steps": self.steps, "peak_max": self.peak_max, "warmup": self.warmup,
                "monotone": self.monotone, "predicted_final": self.predicted_final, "baselines": self.baselines,
                "lr": [float(v) for v in self.lr]}


def knot_fractions(n: int) -> np.ndarray:
    """τ_i = 1 − (1 − i/(n−1))², i = 0 … n−1: knots denser towards the end of the horizon."""
    if n < 2:
        raise ValueError(f"knots = {n} must be >= 2")
    return 1.0 - (1.0 - np.arange(n) / (n - 1)) ** 2


def schedule_from_knots(log_values: np.ndarray, steps: int, warmup: int, peak: float,
                        shape: str = "linear") -> np.ndarray:
    """Linear warmup 0 → η(τ=0) over ``warmup`` steps, then exp(log_values) at the knots τ_i, joined linearly
    (``shape="linear"``) or held constant until the next knot (``shape="step"``: sharp drops, as 8-1-1)."""
    vals = np.exp(log_values)
    post = steps - warmup
    tau = (np.arange(post) + 0.5) / post
    lr = np.empty(steps)
    knots_at = knot_fractions(vals.size)
    if shape == "linear":
        lr[warmup:] = np.interp(tau, knots_at, vals)
    elif shape == "step":
        lr[warmup:] = vals[np.clip(np.searchsorted(knots_at, tau, side="right") - 1, 0, vals.size - 1)]
    else:
        raise ValueError(f"shape = {shape!r}; valid: linear, step")
    if warmup:
        lr[:warmup] = vals[0] * np.arange(warmup) / warmup
    return np.minimum(lr, peak)


def _monotone_to_log(x: np.ndarray) -> np.ndarray:
    return x[0] - np.concatenate([[0.0], np.cumsum(x[1:])])


def design_schedule(fit: FitResult, steps: int, peak_max: float, *, warmup: int = 0, monotone: bool = True,
                    knots: int = 24, maxiter: int = 200, curve_points: int = 200) -> DesignedSchedule:
    """Minimise the fitted law's predicted loss at the last step (see the module docstring).

    >>> fit = FitResult.from_dict({"law": "fsl", "params": dict(L0=2.0, c1=1.0, s=0.5, c2=10.0, c3=1.0, c4=10.0,
    ...                                                          gamma=0.5)})
    >>> designed = design_schedule(fit, 100, 0.01, knots=6, maxiter=50)
    >>> designed.lr.shape, all(designed.predicted_final <= b["final"] + 1e-9 for b in designed.baselines.values())
    ((100,), True)
    """
    if steps < 10:
        raise ValueError(f"steps = {steps} must be >= 10")
    if not (peak_max > 0 and math.isfinite(peak_max)):
        raise ValueError(f"peak_max = {peak_max!r} must be a finite number > 0")
    if not (0 <= warmup < steps - knots):
        raise ValueError(f"warmup = {warmup} must lie in [0, steps − knots) = [0, {steps - knots})")
    law = fit.make_law()
    last = np.array([steps - 1])
    lo, hi = math.log(MIN_RATIO * peak_max), math.log(peak_max)

    def final_loss(lr):
        try:
            v = float(law.evaluate(fit.params, lr, last, warmup=warmup).loss[0])
        except ValueError:
            return math.inf
        return v if math.isfinite(v) else math.inf

    # starts: the baselines (cosine, WSD, 8-1-1, constant) sampled at the knots, so the design can only
    # improve on their knot-interpolated versions
    post = steps - warmup
    at_knots = warmup + np.minimum((knot_fractions(knots) * post).astype(int), post - 1)
    base_logs = [np.clip(np.log(np.maximum(sched[at_knots], 1e-300)), lo, hi)
                 for _, _, sched in baseline_schedules(steps, peak_max, warmup)]
    if monotone:
        bounds = [(lo, hi)] + [(0.0, hi - lo)] * (knots - 1)
        to_log = _monotone_to_log
        starts = [np.r_[b[0], np.maximum(-np.diff(np.minimum.accumulate(b)), 0.0)] for b in base_logs]
    else:
        bounds = [(lo, hi)] * knots
        to_log = lambda x: x  # noqa: E731
        starts = base_logs

    best, best_shape = None, None
    for shape in ("linear", "step"):
        def objective(x, shape=shape):
            return final_loss(schedule_from_knots(np.clip(to_log(x), lo, hi), steps, warmup, peak_max, shape))

        # polish the two best starts of this shape
        x0s = [np.clip(x0, [b[0] for b in bounds], [b[1] for b in bounds]) for x0 in starts]
        for x0 in sorted(x0s, key=objective)[:2]:
            res = minimize(objective, x0, method="L-BFGS-B", bounds=bounds,
                           options={"maxiter": maxiter, "eps": 1e-4, "ftol": 1e-12})
            if best is None or res.fun < best.fun:
                best, best_shape = res, shape
    lr = schedule_from_knots(np.clip(to_log(best.x), lo, hi), steps, warmup, peak_max, best_shape)
    eval_steps = np.unique(np.linspace(max(warmup, 1), steps - 1, curve_points).astype(int))
    curves = {"designed": law.evaluate(fit.params, lr, eval_steps, warmup=warmup).loss}
    baselines = {}
    for name, spec, sched in baseline_schedules(steps, peak_max, warmup):
        baselines[name] = {"spec": spec, "final": final_loss(sched)}
        curves[name] = law.evaluate(fit.params, sched, eval_steps, warmup=warmup).loss
    return DesignedSchedule(lr, final_loss(lr), fit.law, steps, float(peak_max), warmup, monotone, baselines,
                            eval_steps, curves)


def baseline_schedules(steps: int, peak: float, warmup: int):
    """(name, spec, per-step lr) of cosine to 0.1·peak, WSD (20% exp decay to 0.1·peak), 8-1-1, constant."""
    from lrwb.numerics.schedules import parse_schedule

    wu = f"+warmup={warmup}" if warmup else ""
    specs = {"cosine": f"cosine:{peak!r},{0.1 * peak!r}{wu}", "wsd": f"wsd:{peak!r},0.2,{0.1 * peak!r}{wu}",
             "step811": f"step811:{peak!r}{wu}", "constant": f"constant:{peak!r}{wu}"}
    out = []
    for name, spec in specs.items():
        lr = np.asarray(parse_schedule(spec).values(steps), dtype=float)
        out.append((name, spec, lr))
    return out


def write_design_csv(path, lr) -> None:
    """``step,lr`` CSV (the project's schedule file format, readable by ``file:PATH.csv``)."""
    try:
        from lrwb.numerics.schedules import write_schedule_csv
    except ImportError:  # pragma: no cover - schedules module absent
        write_schedule_csv = None
    if write_schedule_csv is not None:
        write_schedule_csv(path, lr)
        return
    from lrwb.numerics.io import atomic_write  # pragma: no cover

    with atomic_write(path) as handle:  # pragma: no cover
        handle.write("step,lr\n" + "".join(f"{t},{float(v)!r}\n" for t, v in enumerate(lr)))


def schedule_callable(lr):
    """A plain callable step ↦ η (clamped to the last step) for a per-step schedule array."""
    values = np.asarray(lr, dtype=float)

    def eta(step: int) -> float:
        return float(values[min(max(int(step), 0), values.size - 1)])

    return eta


def torch_lambda_lr(optimizer, lr):
    """``torch.optim.lr_scheduler.LambdaLR`` that makes the optimizer follow the per-step schedule ``lr``.

    LambdaLR multiplies each group's initial lr by the lambda, so the lambda is η_t / initial lr; the
    optimizer's lr is set to η_0 first when it is 0. Requires torch (ImportError otherwise).
    """
    try:
        from torch.optim.lr_scheduler import LambdaLR
    except ImportError:
        raise ImportError("torch_lambda_lr needs PyTorch (pip install torch)") from None
    values = np.asarray(lr, dtype=float)
    ref = float(values.max())
    for group in optimizer.param_groups:
        group["lr"] = ref
        group["initial_lr"] = ref
    return LambdaLR(optimizer, lambda t: float(values[min(t, values.size - 1)]) / ref)


def final_loss_interval(fit: FitResult, lr, *, warmup: int = 0, z: float = 1.959963984540054) -> tuple[float, float]:
    """95% interval of the predicted final loss from the fit's parameter uncertainty (delta method):
    L̂ ± z·√(gᵀ Σ g), g = ∂L̂(K−1)/∂θ, Σ the Gauss–Newton covariance stored with the fit. It covers the
    parameter uncertainty only, not the law's own error (the evaluation protocol measures that:
    docs/evaluation.md). (NaN, NaN) when the fit carries no covariance (an old fit.json)."""
    if fit.covariance is None:
        return (math.nan, math.nan)
    eta = np.asarray(lr, dtype=float)
    ev = fit.make_law().evaluate(fit.params, eta, np.array([eta.size - 1]), warmup=warmup, jacobian=True)
    g = ev.jacobian[0]
    sd = math.sqrt(max(float(g @ fit.covariance @ g), 0.0))
    return float(ev.loss[0] - z * sd), float(ev.loss[0] + z * sd)
