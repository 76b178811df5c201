"""Fitting loss-curve laws to training curves, and the fit-on-some / predict-others protocol.

Objective (the MPL and FSL papers' protocol): the Huber loss of the log residuals r = log L̂(k) − log L(k),

    J(θ) = (1/n) Σ_points ρ_δ(r) / δ²,   ρ_δ(r) = r²/2 (|r| ≤ δ), δ(|r| − δ/2) (else),   δ = 1e−3,

(dividing by δ² makes J = O(1), which L-BFGS-B's relative stopping test needs), summed over every point of
every fitted curve. The gradient is analytic: ∂J/∂θ = (1/n) Σ clip(r, ±δ)/δ² · (∂L̂/∂θ)/L̂ with the laws'
exact Jacobians.

Starts. The *instant-drop surrogate* L̂ = L0 + A X_k^{−α} − B (η_peak − η_k) (every law's limit where an LR
drop acts at once and fully; X_k = Σ_{i≤k} η_i, η_peak the curve's largest LR) is fitted first from the MPL
authors' grid of 5·3·3·3 = 135 starts (L0 ∈ min L ± 0.2, A ∈ e^b ± 0.1, α ∈ −a ± 0.1 with a, b the slope
and intercept of log(L − min L + 0.01) against log X, B ∈ (0.03, 0.165, 0.3)/η_peak, which is the authors'
100, 550, 1000 at η_peak = 3e−4), each polished by L-BFGS-B with its analytic gradient on [0, ∞)⁴ — about a
second in all. Each law maps the surrogate to a start (:meth:`Law.surrogate_start`).

Two optimisers (``method``):

* ``"converged"``: from the surrogate start, the law's default guess and ``n_screen`` random points of the box
  (log-uniform for scale parameters), whose linear parameters (L0 and the amplitudes) are first solved by
  bounded least squares on relative residuals (variable projection), the ``n_starts`` best by J are each
  minimised by trust-region-reflective robust least squares (scipy ``least_squares``, Huber loss with
  f_scale = δ, which is exactly J; analytic Jacobian; z = log θ for scale parameters) and finished by bounded
  L-BFGS-B on J (which certifies the projected gradient); the lowest J wins. The Gauss–Newton steps matter:
  on the MPL's ill-conditioned (B, β) ridge L-BFGS-B alone needs 200–300 evaluations per start, TRF 30–70.
* ``"adamw"`` (the MPL authors' protocol, Luo et al. 2025, code release): AdamW on θ in natural units from
  the surrogate start, step sizes 5e−2 (L0, A, B, C: amplitudes and scales) and 5e−3 (exponents)
  (:attr:`Parameter.adam_lr`), β = (0.9, 0.999), ε = 1e−8, weight decay 1e−2, at most 200 steps, stopped after
  20 steps without a lower objective or when the gradient norm of the summed Huber loss drops below 1e−5;
  θ is kept in the law's box. Returned (``AdamWSettings.keep``): by default, as the reference code does, the
  parameters *after* the update made at the step with the lowest objective (it stores the parameters after
  ``optimizer.step()``); ``keep="best"`` returns the lowest-objective iterate itself. This does **not**
  converge J: it stops within a few percent of the surrogate's amplitude B (steps of 5e−2 on B ≈ 400) and so
  acts as a regulariser along the MPL's flat (B, β) ridge (β → 0 with B·β fixed fits the fitted runs better
  and predicts long horizons worse). On ``multipower`` it reproduces the published MPL parameters to 6–7
  digits, hence the published metrics; consecutive iterates differ by up to ~1e−3 in test RMSE, so the
  returned iterate matters (at 400M "best" gives RMSE 0.0084, "after-best" 0.0073). The step sizes of the
  FSL and momentum parameters are ours (the authors only fitted the MPL this way).

Uncertainty: Gauss–Newton standard errors cov = s² (JᵀJ)^{−1}, J = ∂r/∂θ, s² = Σr²/(n − P) (a pseudo-inverse
when JᵀJ is singular; the condition number is reported because the 7-parameter FSL ansatz is often poorly
identified), and optionally a residual moving-block bootstrap (:func:`bootstrap_fit`): the log residuals of
each fitted curve, centred, are resampled in blocks of ``block`` consecutive points (default ⌈n^{1/3}⌉ per
curve, keeping their autocorrelation), added to the fitted log curve and the law is refitted (``converged``:
one TRF + L-BFGS-B run warm-started at the fit; ``adamw``: the whole protocol); the standard deviation and the
2.5/97.5% percentiles over the replicates are reported.
Optional preprocessing (off by default, applied to fitted curves only): an EMA of the logged loss and a
cut of the points before a given step.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field, replace
from itertools import product

import numpy as np
from scipy.optimize import minimize

from lrwb.numerics.lawfit.curves import TrainingCurve
from lrwb.numerics.lawfit.laws import Law, get_law

__all__ = ["HUBER_DELTA", "FIT_KERNEL_TOL", "PENALTY", "METHODS", "AdamWSettings", "SurrogateFit", "FitResult",
           "huber", "smooth_ema", "fit_surrogate", "fit_law", "POOR_FIT_R2", "MIN_POINTS_PER_PARAMETER",
           "MAX_CONDITION", "fit_quality", "bootstrap_fit", "law_options", "PredictionMetrics", "prediction_metrics",
           "decay_mask", "PredictionRow", "evaluate_fit", "average_metrics", "default_method", "run_protocol"]

HUBER_DELTA = 1e-3
# kernel accuracy while fitting with L-BFGS-B (loss error ≲ 1e−7·B·Σ|d| ≪ 1e−3 noise; it converges to the same
# optimum); AdamW runs a fixed path that gradient errors of 1e−7 visibly bend (the MPL authors' 400M fit is
# reproduced to 7 digits at 1e−9, to 4 at 1e−7), so it uses the reporting accuracy 1e−9
FIT_KERNEL_TOL = {"converged": 1e-7, "adamw": 1e-9}
PENALTY = 1e6  # objective where a trial point predicts a non-positive or non-finite loss
METHODS = ("converged", "adamw")


@dataclass(frozen=True)
class AdamWSettings:
    """The MPL authors' AdamW fit: step sizes per parameter come from :attr:`Parameter.adam_lr`."""

    max_steps: int = 200
    patience: int = 20
    grad_tol: float = 1e-5  # on the gradient of the *summed* Huber loss (the authors' scale)
    weight_decay: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    # which iterate is returned: "after-best" = the parameters right after the update made at the step with the
    # lowest objective (what the reference code stores: it records the parameters after ``optimizer.step()``),
    # "best" = the iterate with the lowest objective itself
    keep: str = "after-best"

    def __post_init__(self):
        if self.keep not in ("after-best", "best"):
            raise ValueError(f"keep = {self.keep!r}; valid: after-best, best")
        if self.max_steps < 1 or self.patience < 1:
            raise ValueError(f"max_steps = {self.max_steps} and patience = {self.patience} must be >= 1")


@dataclass(frozen=True)
class SurrogateFit:
    """The instant-drop surrogate L0 + A X_k^{−α} − B (η_peak − η_k) fitted to the curves (the starts' source)."""

    L0: float
    A: float
    alpha: float
    B: float
    objective: float  # J in the units of the module docstring
    n_starts: int
    x_typical: float  # geometric mean of X at the fitted points


@dataclass(frozen=True)
class FitResult:
    """A fitted law: parameters (natural units), Gauss–Newton standard errors, objective, residuals, timing.

    ``bootstrap_stderr`` / ``bootstrap_interval`` (2.5% and 97.5% percentiles, shape (P, 2)) are set when
    the fit was bootstrapped (``fit_law(..., bootstrap=N)``); None otherwise.
    """

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
    method: str = "converged"
    bootstrap_stderr: np.ndarray | None = None
    bootstrap_interval: np.ndarray | None = None
    n_bootstrap: int = 0
    bootstrap_block: int = 0
    covariance: np.ndarray | None = field(default=None, repr=False)  # Gauss–Newton, natural units (P, P)
    quality: dict = field(default_factory=dict)  # :func:`fit_quality`: usable, problems, unidentifiable, r2_fit

    @property
    def usable(self) -> bool:
        """False when :func:`fit_quality` found a poor fit, too few points or a rising loss."""
        return bool(self.quality.get("usable", True))

    def make_law(self) -> Law:
        return get_law(self.law, **self.law_options)

    def predict(self, lr, steps, *, warmup: int = 0) -> np.ndarray:
        """The fitted law's loss for schedule ``lr`` at ``steps``."""
        return self.make_law().evaluate(self.params, lr, steps, warmup=warmup).loss

    def to_dict(self) -> dict:
        out = {
            "law": self.law, "law_options": self.law_options, "method": self.method,
            "params": dict(zip(self.param_names, map(float, self.params))),
            "stderr": dict(zip(self.param_names, map(float, self.stderr))),
            "condition_number": float(self.condition_number), "objective": float(self.objective),
            "fit_on": list(self.fit_on), "n_points": self.n_points, "wall_time_s": self.wall_time_s,
            "n_evaluations": self.n_evaluations, "n_starts": self.n_starts, "converged": self.converged,
            "message": self.message, "at_bound": list(self.at_bound),
        }
        if self.quality:
            out["quality"] = self.quality
        if self.covariance is not None:
            out["covariance"] = [[float(v) for v in row] for row in self.covariance]
        if self.n_bootstrap:
            out["bootstrap"] = {
                "replicates": self.n_bootstrap, "block": self.bootstrap_block,
                "stderr": dict(zip(self.param_names, map(float, self.bootstrap_stderr))),
                "interval_95": {n: [float(a), float(b)]
                                for n, (a, b) in zip(self.param_names, self.bootstrap_interval)},
            }
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "FitResult":
        names = tuple(d["params"])
        boot = d.get("bootstrap") or {}
        b_se = np.array([boot["stderr"][n] for n in names]) if boot else None
        b_iv = np.array([boot["interval_95"][n] for n in names]) if boot else None
        return cls(d["law"], dict(d.get("law_options", {})), names, np.array([d["params"][n] for n in names]),
                   np.array([d.get("stderr", {}).get(n, math.nan) for n in names]),
                   float(d.get("condition_number", math.nan)), float(d.get("objective", math.nan)),
                   tuple(d.get("fit_on", ())), int(d.get("n_points", 0)), {}, float(d.get("wall_time_s", 0.0)),
                   int(d.get("n_evaluations", 0)), int(d.get("n_starts", 0)), bool(d.get("converged", False)),
                   str(d.get("message", "")), tuple(d.get("at_bound", ())), str(d.get("method", "converged")),
                   b_se, b_iv, int(boot.get("replicates", 0)), int(boot.get("block", 0)),
                   np.array(d["covariance"], dtype=float) if d.get("covariance") is not None else None,
                   dict(d.get("quality") or {}))


def huber(r: np.ndarray, delta: float = HUBER_DELTA) -> np.ndarray:
    """ρ_δ(r) = r²/2 for |r| ≤ δ, δ(|r| − δ/2) beyond."""
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def smooth_ema(curve: TrainingCurve, weight: float) -> TrainingCurve:
    """Bias-corrected EMA of the logged loss, ℓ̄_n = Σ_m weight^{n−m}(1 − weight) ℓ_m / (1 − weight^{n+1})."""
    if not (0 <= weight < 1):
        raise ValueError(f"EMA weight = {weight!r} must lie in [0, 1)")
    from scipy.signal import lfilter

    acc = lfilter([1.0 - weight], [1.0, -weight], curve.loss)
    out = acc / (1.0 - weight ** np.arange(1, curve.loss.size + 1))
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

    def z(self, theta):
        return np.where(self.is_log, np.log(np.maximum(theta, 1e-300)), theta)

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

    def natural(self, theta):
        """(Σ ρ_δ, ∇_θ Σ ρ_δ): the summed Huber loss and its gradient in natural units (the AdamW scale)."""
        f, g = self(self.z(theta))
        unscale = self.n * self.delta**2
        return f * unscale, g / np.where(self.is_log, theta, 1.0) * unscale


# ----------------------------------------------------------------------------------------------------------
# the instant-drop surrogate (starts)


def _surrogate_data(curves):
    x = np.concatenate([np.cumsum(c.lr)[c.steps] for c in curves])
    drop = np.concatenate([float(c.lr.max()) - c.lr[c.steps] for c in curves])
    y = np.concatenate([c.loss for c in curves])
    peak = max(float(c.lr.max()) for c in curves)
    return x, drop, y, peak


def fit_surrogate(curves, *, delta: float = HUBER_DELTA, polish: int = 4) -> SurrogateFit:
    """The instant-drop surrogate L0 + A X^{−α} − B (η_peak − η_k), Huber on log residuals, from the MPL
    authors' 135-point grid (module docstring): every grid point is scored (one vectorised pass) and the
    ``polish`` best are polished by L-BFGS-B (the authors polish all 135; on the ``multipower`` runs they all
    reach the same optimum, so polishing the best few finds it ~15× faster); returns the best."""
    curves = list(curves.values()) if isinstance(curves, dict) else list(curves)
    x, drop, y, peak = _surrogate_data(curves)
    lx = np.log(x)
    n = y.size
    scale = 1.0 / (n * delta**2)
    log_y = np.log(y)

    def objective(u):
        # u = (L0, A, α, B·η_peak): O(1) coordinates for the optimiser
        L0, A, alpha, b = u
        xa = np.exp(-alpha * lx)
        pred = L0 + A * xa - (b / peak) * drop
        if not np.all(pred > 0):
            return PENALTY, np.zeros(4)
        r = np.log(pred) - log_y
        w = np.clip(r, -delta, delta) / pred
        grad = np.array([w.sum(), w @ xa, -A * (w @ (xa * lx)), -(w @ drop) / peak])
        return huber(r, delta).sum() * scale, grad * scale

    lo = float(y.min())
    slope, intercept = np.polyfit(lx, np.log(y - lo + 0.01), 1)
    grid = np.maximum(np.array(list(product(
        np.linspace(lo - 0.2, lo + 0.2, 5), math.exp(intercept) + np.array([-0.1, 0.0, 0.1]),
        -slope + np.array([-0.1, 0.0, 0.1]), np.array([0.03, 0.165, 0.3])))), 0.0)
    pred = grid[:, :1] + grid[:, 1:2] * np.exp(-grid[:, 2:3] * lx) - grid[:, 3:4] / peak * drop
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(np.all(pred > 0, axis=1),
                          huber(np.log(np.where(pred > 0, pred, 1.0)) - log_y, delta).sum(axis=1), np.inf)
    best = None
    for i in np.argsort(scores, kind="stable")[: max(1, polish)]:
        res = minimize(objective, grid[i], jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * 4,
                       options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-10})
        if best is None or res.fun < best.fun:
            best = res
    L0, A, alpha, b = map(float, best.x)
    return SurrogateFit(L0, A, alpha, b / peak, float(best.fun), int(grid.shape[0]), float(np.exp(lx.mean())))


# ----------------------------------------------------------------------------------------------------------
# fitting


def fit_law(law: Law | str, curves, *, method: str = "converged", n_starts: int = 2, n_screen: int = 32,
            seed: int = 0, delta: float = HUBER_DELTA, maxiter: int = 400, trf_evaluations: int = 100,
            ema: float | None = None, start_step: int | None = None, kernel_tol: float | None = None,
            adamw: AdamWSettings = AdamWSettings(), bootstrap: int = 0, block: int | None = None) -> FitResult:
    """Fit ``law`` to one or more curves (see the module docstring); returns a :class:`FitResult`.

    ``method``: ``"converged"`` (multi-start TRF + L-BFGS-B to a minimum of J; ``n_screen`` random starts
    screened, ``n_starts`` polished, at most ``trf_evaluations`` TRF and ``maxiter`` L-BFGS-B iterations each)
    or ``"adamw"`` (the MPL authors' protocol, ``adamw`` settings). ``kernel_tol``: the laws' kernel accuracy
    while fitting (default :data:`FIT_KERNEL_TOL` of the method). ``bootstrap`` ≥ 2 adds a residual block
    bootstrap with that many replicates and blocks of ``block`` points (:func:`bootstrap_fit`).
    
    >>> from lrwb.numerics.schedules import parse_schedule
    >>> lr, steps = parse_schedule("cosine:0.01,0.001").values(400), np.arange(20, 400, 10)
    >>> loss = get_law("fsl").evaluate([2.0, 1.0, 0.5, 10.0, 1.0, 10.0, 0.5], lr, steps).loss  # a curve of the law
    >>> fit = fit_law("fsl", [TrainingCurve("cos", lr, steps, loss)], n_starts=1, n_screen=4)
    >>> fit.params[:3].round(3).tolist()  # L0, c1, s recovered
    [2.0, 1.0, 0.5]
    """
    t0 = time.perf_counter()
    law = get_law(law) if isinstance(law, str) else law
    if method not in METHODS:
        raise ValueError(f"method = {method!r}; valid: {', '.join(METHODS)}")
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
    if bootstrap < 0 or bootstrap == 1:
        raise ValueError(f"bootstrap = {bootstrap} must be 0 (off) or >= 2 replicates")
    if method == "adamw" and law.name != "mpl":
        warnings.warn(f"method='adamw' is the MPL authors' protocol; its step sizes are not tuned for {law.name} "
                      "(it tends to stop far from the optimum): prefer method='converged'", stacklevel=2)
    kernel_tol = FIT_KERNEL_TOL[method] if kernel_tol is None else kernel_tol
    fit_law_obj = replace(law, kernel_tol=kernel_tol) if hasattr(law, "kernel_tol") else law
    obj = _Objective(fit_law_obj, curves, delta)
    surrogate = fit_surrogate(curves, delta=delta)
    if method == "adamw":
        theta, fun, success, message, n_runs = _fit_adamw(obj, law, surrogate, adamw)
    else:
        theta, fun, success, message, n_runs = _fit_converged(obj, law, curves, surrogate, n_starts=n_starts,
                                                             n_screen=n_screen, seed=seed, maxiter=maxiter,
                                                             trf_evaluations=trf_evaluations)
    result = _finish(law, curves, theta, fun, success, message, n_runs, method, obj.evaluations, t0)
    if bootstrap:
        result = bootstrap_fit(law, curves, result, replicates=bootstrap, block=block, seed=seed, delta=delta,
                               kernel_tol=kernel_tol, maxiter=maxiter, adamw=adamw)
        result = replace(result, wall_time_s=time.perf_counter() - t0, quality=fit_quality(result, curves))
    return result


def _fit_converged(obj, law, curves, surrogate, *, n_starts, n_screen, seed, maxiter, trf_evaluations=100,
                   starts=None):
    bounds = law.bounds()
    zb = obj.z(bounds.T).T
    n_par = len(law.params)
    if starts is None:
        rng = np.random.default_rng(seed)
        guess = np.clip(law.initial_guess(np.concatenate([c.loss for c in curves])), bounds[:, 0], bounds[:, 1])
        sur = law.surrogate_start(surrogate.L0, surrogate.A, surrogate.alpha, surrogate.B, surrogate.x_typical)
        candidates = [obj.z(sur), obj.z(guess)]
        candidates += list(zb[:, 0] + rng.random((n_screen, n_par)) * (zb[:, 1] - zb[:, 0]))
        # screening: for each setting of the nonlinear parameters the linear ones (L0 and the amplitudes) are
        # solved by bounded least squares on relative residuals (≈ log residuals) — a variable projection
        projected = [_project_linear(law, obj, z, curves, bounds) for z in candidates]
        candidates = [z for z, _ in projected]
        scores = np.array([score for _, score in projected])
        order = np.argsort(scores, kind="stable")[: max(1, n_starts)]
        starts = [candidates[i] for i in order]
    best = None
    for z0 in starts:
        z1 = _robust_least_squares(obj, z0, zb, max_nfev=trf_evaluations)
        res = minimize(obj, z1, jac=True, method="L-BFGS-B", bounds=list(map(tuple, zb)),
                       options={"maxiter": maxiter, "ftol": 1e-13, "gtol": 1e-9, "maxcor": 20})
        if best is None or res.fun < best.fun:
            best = res
    theta = np.clip(obj.theta(best.x), bounds[:, 0], bounds[:, 1])
    return theta, float(best.fun), bool(best.success), str(best.message), len(starts)


def _robust_least_squares(obj: "_Objective", z0: np.ndarray, zb: np.ndarray, max_nfev: int) -> np.ndarray:
    """Minimise J by trust-region-reflective robust least squares (scipy ``least_squares``, loss "huber",
    f_scale = δ: ½δ²ρ(r²/δ²) is exactly ρ_δ(r)) on the log residuals with their exact Jacobian. A
    Gauss–Newton-type method: on the MPL's ill-conditioned ridge it needs ~30–70 evaluations where L-BFGS-B
    alone needs 200–300 (same optimum). Returns ``z0`` unchanged when the start cannot be evaluated."""
    from scipy.optimize import least_squares

    cache = {}

    def residuals(z):
        th = obj.theta(z)
        obj.evaluations += 1
        rows, jac = [], []
        for c in obj.curves:
            ev = obj.law.evaluate(th, c.lr, c.steps, warmup=c.warmup, jacobian=True)
            if not np.all(np.isfinite(ev.loss)) or np.any(ev.loss <= 0):
                raise FloatingPointError("non-positive predicted loss")
            rows.append(np.log(ev.loss) - np.log(c.loss))
            jac.append(ev.jacobian / ev.loss[:, None] * np.where(obj.is_log, th, 1.0))
        cache["jac"] = np.concatenate(jac)
        return np.concatenate(rows)

    lo, hi = zb[:, 0], zb[:, 1]
    # least_squares needs a strictly feasible start
    z_start = np.clip(z0, lo + 1e-10 * (hi - lo), hi - 1e-10 * (hi - lo))
    try:
        res = least_squares(residuals, z_start, jac=lambda z: cache["jac"], bounds=(lo, hi), method="trf",
                            loss="huber", f_scale=obj.delta, x_scale="jac", max_nfev=max_nfev,
                            ftol=1e-12, xtol=1e-12, gtol=1e-12)
    except (ValueError, FloatingPointError, OverflowError, np.linalg.LinAlgError):
        return z0
    return res.x


def _fit_adamw(obj, law, surrogate, settings: AdamWSettings, theta0=None):
    """AdamW on θ (natural units) with the authors' stopping rules; returns the iterate ``settings.keep`` names
    (module docstring), its J, and the stopping reason."""
    bounds = law.bounds()
    lr = np.array([p.adam_lr for p in law.params])
    if theta0 is None:
        theta0 = law.surrogate_start(surrogate.L0, surrogate.A, surrogate.alpha, surrogate.B, surrogate.x_typical)
    theta = np.clip(np.asarray(theta0, dtype=float), bounds[:, 0], bounds[:, 1])
    b1, b2 = settings.betas
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    best_f, best_theta = math.inf, theta.copy()
    lowest, stale, message = math.inf, 0, f"reached {settings.max_steps} steps"
    for k in range(1, settings.max_steps + 1):
        f, g = obj.natural(theta)
        if f < lowest:
            lowest, stale = f, 0
        else:
            stale += 1
        if k > settings.patience + 1 and stale >= settings.patience:
            message = f"no lower objective for {settings.patience} steps (step {k})"
            break
        if float(np.linalg.norm(g)) < settings.grad_tol:
            message = f"gradient norm below {settings.grad_tol:g} (step {k})"
            break
        improved = f < best_f
        if improved:
            best_f, best_theta = f, theta.copy()
        theta = theta * (1.0 - lr * settings.weight_decay)  # decoupled weight decay (torch AdamW)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        step = lr * (m / (1 - b1**k)) / (np.sqrt(v / (1 - b2**k)) + settings.eps)
        theta = np.clip(theta - step, bounds[:, 0], bounds[:, 1])
        if improved and settings.keep == "after-best":
            best_theta = theta.copy()
    if settings.keep == "after-best":
        best_f = obj.natural(best_theta)[0]  # the objective of the iterate actually returned
    return best_theta, best_f / (obj.n * obj.delta**2), True, message, 1


def _finish(law, curves, theta, fun, success, message, n_runs, method, n_eval, t0) -> FitResult:
    """Residuals and Gauss–Newton uncertainty at the reporting accuracy, bound flags, the result."""
    n = sum(c.steps.size for c in curves)
    n_par = len(law.params)
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
    bounds = law.bounds()
    is_log = np.array([p.log for p in law.params])
    zb = np.where(is_log[:, None], np.log(np.maximum(bounds, 1e-300)), bounds)
    zt = np.where(is_log, np.log(np.maximum(theta, 1e-300)), theta)
    span = zb[:, 1] - zb[:, 0]
    at_bound = tuple(nm for nm, v, lo_, sp in zip(law.param_names, zt, zb[:, 0], span)
                     if min(v - lo_, lo_ + sp - v) <= 1e-6 * sp)
    result = FitResult(law.name, law_options(law), law.param_names, theta, stderr, cond, float(fun),
                       tuple(c.name for c in curves), n, residuals, time.perf_counter() - t0, n_eval, n_runs,
                       success, message, at_bound, method, covariance=cov)
    return replace(result, quality=fit_quality(result, curves))


POOR_FIT_R2 = 0.9  # R² of the fitted runs (raw loss) below which a fit is called poor: real curves give > 0.99
MIN_POINTS_PER_PARAMETER = 3  # fewer logged points than 3 per parameter cannot pin a 5–7 parameter law
MAX_CONDITION = 1e16  # cond(JᵀJ) beyond double precision: some direction of θ is not determined at all


def fit_quality(fit: FitResult, curves) -> dict:
    """Whether a fit can be used, and why not (shown by ``lrwb fit``, stored in fit.json, checked by ``design``).

    Problems (any makes ``usable`` False): R² of the fitted runs < :data:`POOR_FIT_R2` (e.g. pure noise);
    fewer than :data:`MIN_POINTS_PER_PARAMETER` points per parameter; a fitted run whose loss rises (mean of
    its last third above the mean of its first third: the laws describe a decreasing loss).
    Unidentifiable parameters (reported; they do not by themselves make a fit unusable for prediction): stuck
    at a bound, standard error (bootstrap when present, else Gauss–Newton) larger than the value, or every
    parameter when cond(JᵀJ) > :data:`MAX_CONDITION` or is not finite.
    """
    curves = list(curves.values()) if isinstance(curves, dict) else list(curves)
    problems = []
    y = np.concatenate([c.loss for c in curves])
    pred = np.concatenate([c.loss * np.exp(fit.residuals[c.name]) for c in curves])
    ss = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((pred - y) ** 2)) / ss if ss > 0 else math.nan
    if not r2 >= POOR_FIT_R2:
        problems.append(f"poor fit: R² {r2:.4f} on the fitted runs (< {POOR_FIT_R2})")
    n_par = len(fit.param_names)
    if fit.n_points < MIN_POINTS_PER_PARAMETER * n_par:
        problems.append(f"too few points: {fit.n_points} for {n_par} parameters "
                        f"(need >= {MIN_POINTS_PER_PARAMETER * n_par})")
    for c in curves:
        third = max(1, c.loss.size // 3)
        if c.loss.size >= 3 and c.loss[-third:].mean() > c.loss[:third].mean():
            problems.append(f"rising loss in run {c.name}: the laws describe a decreasing loss")
    se = fit.bootstrap_stderr if fit.n_bootstrap else fit.stderr
    if not (math.isfinite(fit.condition_number) and fit.condition_number <= MAX_CONDITION):
        loose = list(fit.param_names)
    else:
        loose = [n for n, v, e in zip(fit.param_names, fit.params, se) if n in fit.at_bound or not e <= abs(v)]
    return {"usable": not problems, "problems": problems, "unidentifiable": loose, "r2_fit": r2}


def bootstrap_fit(law: Law | str, curves, fit: FitResult, *, replicates: int = 50, block: int | None = None,
                  seed: int = 0, delta: float = HUBER_DELTA, kernel_tol: float | None = None, maxiter: int = 400,
                  adamw: AdamWSettings = AdamWSettings()) -> FitResult:
    """``fit`` with residual moving-block bootstrap standard errors and 95% percentile intervals.

    Replicate b: for each fitted curve, log L*_k = log L̂_k − r*_k with r* the curve's centred log residuals
    resampled in blocks of ``block`` consecutive points (default ⌈n_c^{1/3}⌉ for a curve of n_c points);
    the law is refitted with the fit's method (``converged``: one TRF + L-BFGS-B run from the fitted θ; ``adamw``:
    the whole protocol, surrogate included). Replicates whose refit fails are dropped (counted in the result).

    For ``adamw`` the spread is that of the early-stopped estimator (far smaller than its Gauss–Newton errors,
    which describe the flat objective, not the estimator), and the interval need not contain the fit: the
    replicates are generated from the fitted MPL, on which the surrogate (hence B) lands elsewhere than on
    the data (multipower 25M: B = 364 fitted, bootstrap interval [328, 336]).
    """
    law = get_law(law) if isinstance(law, str) else law
    curves = list(curves.values()) if isinstance(curves, dict) else list(curves)
    if replicates < 2:
        raise ValueError(f"replicates = {replicates} must be >= 2 for a bootstrap spread")
    if block is not None and block < 1:
        raise ValueError(f"block = {block} must be >= 1 point")
    missing = [c.name for c in curves if c.name not in fit.residuals]
    if missing:
        raise ValueError(f"bootstrap_fit: the fit has no residuals for {missing}; pass the curves it was fitted on")
    rng = np.random.default_rng(seed)
    kernel_tol = FIT_KERNEL_TOL[fit.method] if kernel_tol is None else kernel_tol
    fit_law_obj = replace(law, kernel_tol=kernel_tol) if hasattr(law, "kernel_tol") else law
    samples, blocks_used = [], []
    for _ in range(replicates):
        boot = []
        for c in curves:
            r = fit.residuals[c.name]
            nc = r.size
            b = block or max(1, math.ceil(nc ** (1.0 / 3.0)))
            blocks_used.append(b)
            starts = rng.integers(0, max(nc - b, 0) + 1, size=math.ceil(nc / b))
            r_star = np.concatenate([r[s:s + b] for s in starts])[:nc]
            r_star = r_star - r_star.mean()
            fitted_log = np.log(c.loss) + r  # log L̂ (r = log L̂ − log L)
            boot.append(TrainingCurve(c.name, c.lr, c.steps, np.exp(fitted_log - r_star), c.warmup, c.source))
        obj = _Objective(fit_law_obj, boot, delta)
        try:
            if fit.method == "adamw":
                theta = _fit_adamw(obj, law, fit_surrogate(boot, delta=delta), adamw)[0]
            else:
                theta = _fit_converged(obj, law, boot, None, n_starts=1, n_screen=0, seed=0, maxiter=maxiter,
                                       starts=[obj.z(fit.params)])[0]
        except (ValueError, FloatingPointError):
            continue
        samples.append(theta)
    if len(samples) < 2:
        raise ValueError(f"bootstrap: only {len(samples)} of {replicates} replicates could be refitted")
    samples = np.array(samples)
    return replace(fit, bootstrap_stderr=samples.std(axis=0, ddof=1),
                   bootstrap_interval=np.percentile(samples, [2.5, 97.5], axis=0).T, n_bootstrap=len(samples),
                   bootstrap_block=int(max(blocks_used)))


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
            return obj.z(th), PENALTY
        total += huber(np.log(pred) - np.log(c.loss), obj.delta).sum()
    return obj.z(th), total / (obj.n * obj.delta**2)


def law_options(law: Law) -> dict:
    """The constructor options that make ``get_law(law.name, **options)`` rebuild ``law`` (saved in fit.json)."""
    out = {}
    if getattr(law, "beta", None) is not None and law.name == "fsl":
        out["beta"] = law.beta
    if law.name == "fsln" and not getattr(law, "transient", True):
        out["transient"] = False
    if hasattr(law, "warmup_drops"):
        out["warmup_drops"] = bool(law.warmup_drops)
    return out


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


def default_method(law_name: str, curves=None) -> str:
    """Each law's own authors' protocol: ``adamw`` for the MPL (its code release), ``converged`` otherwise
    (the momentum law's authors fitted with L-BFGS; the FSL ansatz has no reference fit code).

    The AdamW step sizes are absolute (5e−2 on L0 and A, 5e−3 on the exponents), made for language-model
    losses O(3) at learning rates O(1e−4–1e−3); for other ``curves`` (loss below 1 or a peak LR above 1e−2,
    e.g. PLRF excess losses) the MPL is fitted ``converged`` as well."""
    if law_name != "mpl":
        return "converged"
    if curves is not None:
        curves = list(curves.values()) if isinstance(curves, dict) else list(curves)
        if min(float(c.loss.min()) for c in curves) < 1.0 or max(float(c.lr.max()) for c in curves) > 1e-2:
            return "converged"
    return "adamw"


def run_protocol(curves: dict[str, TrainingCurve], fit_on, predict, laws=("fsl", "mpl", "momentum"),
                 method: str = "auto", **fit_kwargs) -> tuple[dict[str, FitResult], list[PredictionRow]]:
    """Fit each law on ``fit_on`` runs and evaluate it on ``fit_on`` + ``predict`` runs.

    ``method``: ``"auto"`` (:func:`default_method` per law), ``"converged"`` or ``"adamw"``.
    """
    missing = [n for n in list(fit_on) + list(predict) if n not in curves]
    if missing:
        raise ValueError(f"unknown run(s) {missing}; available: {', '.join(curves)}")
    if method != "auto" and method not in METHODS:
        raise ValueError(f"method = {method!r}; valid: auto, {', '.join(METHODS)}")
    fits, rows = {}, []
    roles = {n: "fit" for n in fit_on} | {n: "predict" for n in predict if n not in fit_on}
    for name in laws:
        law = get_law(name) if isinstance(name, str) else name
        how = default_method(law.name, [curves[n] for n in fit_on]) if method == "auto" else method
        fit = fit_law(law, [curves[n] for n in fit_on], method=how, **fit_kwargs)
        fits[law.name] = fit
        rows += evaluate_fit(fit, [curves[n] for n in roles], roles)
    return fits, rows
