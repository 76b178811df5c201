"""Fitting loss-curve laws to training curves, and the fit-on-some / predict-others protocol.

Objective (the MPL and FSL papers' protocol): the Huber loss of the log residuals r = log L̂(k) − log L(k),

    J(θ) = (1/n) Σ_points ρ_δ(r) / δ²,   ρ_δ(r) = r²/2 (|r| ≤ δ), δ(|r| − δ/2) (else),   δ = 1e−3,

(dividing by δ² makes J = O(1), which L-BFGS-B's relative stopping test needs), summed over every point of
every fitted curve. The gradient is analytic: ∂J/∂θ = (1/n) Σ clip(r, ±δ)/δ² · (∂L̂/∂θ)/L̂ with the laws'
exact Jacobians. Optimiser: bounded L-BFGS-B from several starts — ``n_screen`` random points of the box
(log-uniform for scale parameters) plus the law's default guess are screened by J and the best ``n_starts``
are polished; the best result wins. Uncertainty: Gauss–Newton standard errors
cov = s² (JᵀJ)^{−1}, J = ∂r/∂θ, s² = Σr²/(n − P) (a pseudo-inverse when JᵀJ is singular; the condition
number is reported because the 7-parameter FSL ansatz is often poorly identified).
Optional preprocessing (off by default, applied to fitted curves only): an EMA of the logged loss and a
cut of the points before a given step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import minimize

from numerics.curves import TrainingCurve
from numerics.laws import Law, get_law

HUBER_DELTA = 1e-3
FIT_KERNEL_TOL = 1e-7  # kernel accuracy while fitting (loss error ≲ 1e−7·B·Σd ≪ 1e−3 noise); reports use 1e−9
PENALTY = 1e6  # objective where a trial point predicts a non-positive or non-finite loss


@dataclass(frozen=True)
class FitResult:
    """A fitted law: parameters (natural units), Gauss–Newton standard errors, objective, residuals, timing."""

    law: str
    law_options: dict
    param_names: tuple[str, ...]
    params: np.ndarray
    stderr: np.ndarray
    condition_number: float
    objective: float
    fit_on: tuple[str, ...]
    n_points: int
    residuals: dict = field(repr=False)  # run -> log residuals at its logged steps
    wall_time_s: float = 0.0
    n_evaluations: int = 0
    n_starts: int = 0
    converged: bool = False
    message: str = ""
    at_bound: tuple[str, ...] = ()  # parameters stuck at a bound: their standard errors mean nothing

    def make_law(self) -> Law:
        return get_law(self.law, **self.law_options)

    def predict(self, lr, steps, *, warmup: int = 0) -> np.ndarray:
        """The fitted law's loss for schedule ``lr`` at ``steps``."""
        return self.make_law().evaluate(self.params, lr, steps, warmup=warmup).loss

    def to_dict(self) -> dict:
        return {
            "law": self.law, "law_options": self.law_options,
            "params": dict(zip(self.param_names, map(float, self.params))),
            "stderr": dict(zip(self.param_names, map(float, self.stderr))),
            "condition_number": float(self.condition_number), "objective": float(self.objective),
            "fit_on": list(self.fit_on), "n_points": self.n_points, "wall_time_s": self.wall_time_s,
            "n_evaluations": self.n_evaluations, "n_starts": self.n_starts, "converged": self.converged,
            "message": self.message, "at_bound": list(self.at_bound),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "FitResult":
        names = tuple(d["params"])
        return cls(d["law"], dict(d.get("law_options", {})), names, np.array([d["params"][n] for n in names]),
                   np.array([d.get("stderr", {}).get(n, math.nan) for n in names]),
                   float(d.get("condition_number", math.nan)), float(d.get("objective", math.nan)),
                   tuple(d.get("fit_on", ())), int(d.get("n_points", 0)), {}, float(d.get("wall_time_s", 0.0)),
                   int(d.get("n_evaluations", 0)), int(d.get("n_starts", 0)), bool(d.get("converged", False)),
                   str(d.get("message", "")), tuple(d.get("at_bound", ())))


def huber(r: np.ndarray, delta: float = HUBER_DELTA) -> np.ndarray:
    """ρ_δ(r) = r²/2 for |r| ≤ δ, δ(|r| − δ/2) beyond."""
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def smooth_ema(curve: TrainingCurve, weight: float) -> TrainingCurve:
    """Bias-corrected EMA of the logged loss, ℓ̄_n = Σ_m weight^{n−m}(1 − weight) ℓ_m / (1 − weight^{n+1})."""
    if not (0 <= weight < 1):
        raise ValueError(f"EMA weight = {weight!r} must lie in [0, 1)")
    out = np.empty_like(curve.loss)
    acc = 0.0
    for n, v in enumerate(curve.loss):
        acc = weight * acc + (1 - weight) * v
        out[n] = acc / (1 - weight ** (n + 1))
    return TrainingCurve(curve.name, curve.lr, curve.steps, out, curve.warmup, curve.source + " (EMA)")


class _Objective:
    """J(z) and ∇J(z) over the fitted curves; z = log θ for log-scaled parameters, θ otherwise."""

    def __init__(self, law: Law, curves: list[TrainingCurve], delta: float):
        self.law, self.curves, self.delta = law, curves, delta
        self.is_log = np.array([p.log for p in law.params])
        self.n = sum(c.steps.size for c in curves)
        self.evaluations = 0

    def theta(self, z):
        return np.where(self.is_log, np.exp(z), z)

    def __call__(self, z, gradient=True):
        self.evaluations += 1
        th = self.theta(z)
        total, grad = 0.0, np.zeros(z.size)
        for c in self.curves:
            try:
                ev = self.law.evaluate(th, c.lr, c.steps, warmup=c.warmup, jacobian=gradient)
            except (ValueError, FloatingPointError, OverflowError):
                return (PENALTY, np.zeros(z.size)) if gradient else PENALTY
            pred = ev.loss
            if not np.all(np.isfinite(pred)) or np.any(pred <= 0):
                return (PENALTY, np.zeros(z.size)) if gradient else PENALTY
            r = np.log(pred) - np.log(c.loss)
            total += huber(r, self.delta).sum()
            if gradient:
                psi = np.clip(r, -self.delta, self.delta)
                grad += (psi / pred) @ ev.jacobian
        scale = 1.0 / (self.n * self.delta**2)
        if not gradient:
            return total * scale
        grad = grad * np.where(self.is_log, th, 1.0) * scale
        if not np.all(np.isfinite(grad)):
            return PENALTY, np.zeros(z.size)
        return total * scale, grad


def fit_law(law: Law | str, curves, *, n_starts: int = 4, n_screen: int = 64, seed: int = 0,
            delta: float = HUBER_DELTA, maxiter: int = 400, ema: float | None = None,
            start_step: int | None = None, kernel_tol: float = FIT_KERNEL_TOL) -> FitResult:
    """Fit ``law`` to one or more curves (see the module docstring); returns a :class:`FitResult`."""
    t0 = time.perf_counter()
    law = get_law(law) if isinstance(law, str) else law
    curves = list(curves.values()) if isinstance(curves, dict) else list(curves)
    if not curves:
        raise ValueError("fit_law needs at least one curve")
    if ema is not None:
        curves = [smooth_ema(c, ema) for c in curves]
    if start_step is not None:
        curves = [c.restricted(start=start_step) for c in curves]
    n = sum(c.steps.size for c in curves)
    n_par = len(law.params)
    if n <= n_par:
        raise ValueError(f"{law.name} has {n_par} parameters but the fitted curves have only {n} points; "
                         f"need more than {n_par}")
    fit_law_obj = replace(law, kernel_tol=kernel_tol) if hasattr(law, "kernel_tol") else law
    obj = _Objective(fit_law_obj, curves, delta)
    bounds = law.bounds()
    is_log = obj.is_log
    zb = np.where(is_log[:, None], np.log(np.maximum(bounds, 1e-300)), bounds)
    rng = np.random.default_rng(seed)
    guess = law.initial_guess(np.concatenate([c.loss for c in curves]))
    guess = np.clip(guess, bounds[:, 0], bounds[:, 1])
    candidates = [np.where(is_log, np.log(guess), guess)]
    candidates += list(zb[:, 0] + rng.random((n_screen, n_par)) * (zb[:, 1] - zb[:, 0]))
    # screening: for each random setting of the nonlinear parameters, the linear ones (the loss is linear
    # in them: L0, the power-law and drop amplitudes) are solved by bounded least squares on relative
    # residuals (≈ log residuals) — a variable-projection start, as the MPL code's grid of surrogate fits
    projected = [_project_linear(law, obj, z, curves, bounds) for z in candidates]
    candidates = [z for z, _ in projected]
    scores = np.array([score for _, score in projected])
    order = np.argsort(scores, kind="stable")[: max(1, n_starts)]
    best = None
    for i in order:
        res = minimize(obj, candidates[i], jac=True, method="L-BFGS-B", bounds=list(map(tuple, zb)),
                       options={"maxiter": maxiter, "ftol": 1e-13, "gtol": 1e-9, "maxcor": 20})
        if best is None or res.fun < best.fun:
            best = res
    theta = np.clip(obj.theta(best.x), bounds[:, 0], bounds[:, 1])
    # final residuals and uncertainty at the reporting accuracy
    residuals, jac_rows, r_all = {}, [], []
    for c in curves:
        ev = law.evaluate(theta, c.lr, c.steps, warmup=c.warmup, jacobian=True)
        r = np.log(ev.loss) - np.log(c.loss)
        residuals[c.name] = r
        r_all.append(r)
        jac_rows.append(ev.jacobian / ev.loss[:, None])
    r_all = np.concatenate(r_all)
    J = np.concatenate(jac_rows)
    s2 = float(r_all @ r_all) / max(n - n_par, 1)
    jtj = J.T @ J
    with np.errstate(all="ignore"):
        cond = float(np.linalg.cond(jtj))
    cov = s2 * np.linalg.pinv(jtj, rcond=1e-15)
    stderr = np.sqrt(np.clip(np.diag(cov), 0, None))
    zt = np.where(is_log, np.log(np.maximum(theta, 1e-300)), theta)
    span = zb[:, 1] - zb[:, 0]
    at_bound = tuple(nm for nm, v, lo_, sp in zip(law.param_names, zt, zb[:, 0], span)
                     if min(v - lo_, lo_ + sp - v) <= 1e-6 * sp)
    return FitResult(law.name, _law_options(law), law.param_names, theta, stderr, cond, float(best.fun),
                     tuple(c.name for c in curves), n, residuals, time.perf_counter() - t0, obj.evaluations,
                     len(order), bool(best.success), str(best.message), at_bound)


def _project_linear(law: Law, obj: "_Objective", z: np.ndarray, curves, bounds) -> tuple[np.ndarray, float]:
    """Replace the linear parameters of start ``z`` by their bounded least-squares optimum; return the new
    start and its objective (the loss is linear in those parameters, so no new law evaluation is needed)."""
    from scipy.optimize import lsq_linear

    lin = [law.param_names.index(n) for n in law.linear_params]
    if not lin:
        return z, obj(z, gradient=False)
    th = obj.theta(z)
    bases, rests = [], []
    try:
        for c in curves:
            ev = obj.law.evaluate(th, c.lr, c.steps, warmup=c.warmup, jacobian=True)
            basis = ev.jacobian[:, lin]  # ∂L/∂θ_lin: the basis functions the loss is linear in
            bases.append(basis)
            rests.append(ev.loss - basis @ th[lin])
    except (ValueError, FloatingPointError, OverflowError):
        return z, PENALTY
    A = np.concatenate([b / c.loss[:, None] for b, c in zip(bases, curves)])
    b = np.concatenate([(c.loss - r) / c.loss for r, c in zip(rests, curves)])
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        return z, PENALTY
    lo, hi = bounds[lin, 0], bounds[lin, 1]
    col = np.maximum(np.abs(A).max(axis=0), 1e-300)  # column scaling for the solver
    sol = np.clip(lsq_linear(A / col, b, bounds=(lo * col, hi * col), method="bvls").x / col, lo, hi)
    th = th.copy()
    th[lin] = sol
    total = 0.0
    for basis, rest, c in zip(bases, rests, curves):
        pred = rest + basis @ sol
        if np.any(pred <= 0) or not np.all(np.isfinite(pred)):
            return np.where(obj.is_log, np.log(np.maximum(th, 1e-300)), th), PENALTY
        total += huber(np.log(pred) - np.log(c.loss), obj.delta).sum()
    return np.where(obj.is_log, np.log(np.maximum(th, 1e-300)), th), total / (obj.n * obj.delta**2)


def _law_options(law: Law) -> dict:
    return {"beta": law.beta} if getattr(law, "beta", None) is not None else {}


# ----------------------------------------------------------------------------------------------------------
# metrics and protocol


@dataclass(frozen=True)
class PredictionMetrics:
    """Raw-loss metrics at the logged steps: RMSE, R², MAE and the final-loss error (predicted − observed)."""

    rmse: float
    r2: float
    mae: float
    final_error: float
    n: int


def prediction_metrics(observed, predicted) -> PredictionMetrics:
    """RMSE = √mean(e²), R² = 1 − Σe²/Σ(y − ȳ)², MAE = mean|e|, e = ŷ − y; final error = e at the last point."""
    y = np.asarray(observed, dtype=float)
    p = np.asarray(predicted, dtype=float)
    if y.size == 0:
        return PredictionMetrics(math.nan, math.nan, math.nan, math.nan, 0)
    e = p - y
    ss = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(e @ e) / ss if ss > 0 else math.nan
    return PredictionMetrics(float(np.sqrt(np.mean(e * e))), r2, float(np.mean(np.abs(e))), float(e[-1]), int(y.size))


def decay_mask(curve: TrainingCurve, rel: float = 1e-6) -> np.ndarray:
    """Logged points after the warmup where the schedule has dropped below its running peak (the decay region)."""
    running_peak = np.maximum.accumulate(curve.lr)
    k = curve.steps
    return (k > curve.warmup) & (curve.lr[k] < running_peak[k] * (1 - rel))


@dataclass(frozen=True)
class PredictionRow:
    law: str
    run: str
    role: str  # "fit" or "predict"
    whole: PredictionMetrics
    decay: PredictionMetrics


def evaluate_fit(fit: FitResult, curves, roles: dict[str, str] | None = None) -> list[PredictionRow]:
    """Metrics of a fitted law on each curve (whole curve and decay region); ``roles`` names fit/predict."""
    curves = list(curves.values()) if isinstance(curves, dict) else list(curves)
    law = fit.make_law()
    rows = []
    for c in curves:
        pred = law.evaluate(fit.params, c.lr, c.steps, warmup=c.warmup).loss
        m = decay_mask(c)
        role = (roles or {}).get(c.name, "fit" if c.name in fit.fit_on else "predict")
        rows.append(PredictionRow(fit.law, c.name, role, prediction_metrics(c.loss, pred),
                                  prediction_metrics(c.loss[m], pred[m])))
    return rows


def average_metrics(rows: list[PredictionRow], role: str = "predict", region: str = "whole") -> PredictionMetrics:
    """Plain average over runs (the MPL paper's protocol: metrics per curve, then averaged)."""
    ms = [getattr(r, region) for r in rows if r.role == role and getattr(r, region).n > 0]
    if not ms:
        return PredictionMetrics(math.nan, math.nan, math.nan, math.nan, 0)
    f = lambda a: float(np.nanmean([getattr(m, a) for m in ms]))  # noqa: E731
    return PredictionMetrics(f("rmse"), f("r2"), f("mae"), f("final_error"), sum(m.n for m in ms))


def run_protocol(curves: dict[str, TrainingCurve], fit_on, predict, laws=("fsl", "mpl", "momentum"),
                 **fit_kwargs) -> tuple[dict[str, FitResult], list[PredictionRow]]:
    """Fit each law on ``fit_on`` runs and evaluate it on ``fit_on`` + ``predict`` runs."""
    missing = [n for n in list(fit_on) + list(predict) if n not in curves]
    if missing:
        raise ValueError(f"unknown run(s) {missing}; available: {', '.join(curves)}")
    fits, rows = {}, []
    for name in laws:
        law = get_law(name) if isinstance(name, str) else name
        fit = fit_law(law, [curves[n] for n in fit_on], **fit_kwargs)
        fits[law.name] = fit
        roles = {n: "fit" for n in fit_on} | {n: "predict" for n in predict}
        rows += evaluate_fit(fit, [curves[n] for n in list(fit_on) + list(predict)], roles)
    return fits, rows
