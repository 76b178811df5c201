"""The Functional Scaling Law (FSL) as a fast engine: schedule → loss curve in O(T·Q).

Units (``conventions.md``): every ``loss`` is the excess loss in PLRF units, Σ_j λ_j c_j + δ_M, **no ½**.
The FSL paper writes E = ½‖·‖²_H and its Volterra equation as E = ½(δ_M + e_M) + ∫ K_M γ (E + σ²/2) dz;
multiplying by 2 gives the form used here (:func:`from_half_convention` / :func:`to_half_convention` convert).

The law, in step units (t_k = Σ_{i<k} η_i is the intrinsic time before step k, w_i = η_i²/B_i the noise
injected by step i, which then decays from t_{i+1}):

    E_k = δ + e(t_k) + N_k,   N_k = Σ_{i<k} w_i K(t_k − t_{i+1}) F_i,

- first Picard iterate (the FSL itself): F_i = δ + e(t_i) + σ²;
- second Picard iterate:               F_i = E^{(1)}_i + σ²;
- full Volterra solution:               F_i = E_i + σ² (the sum is solved step by step).

Two forms of (e, K):

- **mode sums** of a :class:`~lrwb.numerics.spectra.Spectrum` (exact Gaussian constants): e_M(t) = Σ λ_j c_j(0)
  e^{−2λ_j t}, K_M(u) = Σ λ_j² e^{−2λ_j u}, δ = the spectrum's tail (which also joins σ² in F, as in the exact
  recursion of plrf.md §2, whose O(η²λ²) drift terms are what the law drops);
- **power laws** with unit constants: e(t) = (1 + t)^{−s}, K(u) = (1 + u)^{−(2−1/β)}, δ = 0.

Fast convolution (all of it in :mod:`lrwb.numerics.sumexp`, the home of sums of exponentials): K (and e_M) are
written as sums of Q exponentials Σ_q w_q e^{−ρ_q u} (:class:`~lrwb.numerics.sumexp.ExpSum`); then
A_q(k+1) = e^{−ρ_q η_k} A_q(k) + w_k F_k gives N_k = Σ_q w_q A_q(k) exactly, O(T·Q)
(:func:`~lrwb.numerics.sumexp.exp_sum_convolution`). Mode sums are compressed to Q terms by Gauss quadrature of the
discrete mode measure on bins geometric in λ (:func:`~lrwb.numerics.sumexp.compress_modes`); a power law uses its
Laplace representation (1 + u)^{−p} = Γ(p)^{−1} ∫ x^{p−1} e^{−x(1+u)} dx, discretised by the trapezoid rule in
y = log x with uniform relative accuracy (:func:`~lrwb.numerics.sumexp.power_law_exp_sum`), which converges
geometrically. :func:`naive_noise` is the O(T²) direct sum with the exact kernel, kept as the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lrwb.numerics import schedules, sumexp
from lrwb.numerics.checks import check_sigma, first_bad, per_step
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import (
    DivergenceError,
    UnstableLearningRateError,
    check_learning_rates,
    renewal_norm,
    stability_bound,
)
from lrwb.numerics.sumexp import ExpSum, compress_modes, power_law_exp_sum  # noqa: F401  (re-exported: FSL users' names)

__all__ = ["ITERATES", "from_half_convention", "to_half_convention", "check_exponents", "check_schedule",
           "check_fsl_batch", "FSLModel", "mode_sum_model", "power_law_model", "fsl_spectrum", "exp_sum_along",
           "fast_noise", "naive_noise", "FSLCurve", "intrinsic_times", "power_law_renewal_norm",
           "fsl_stability_bound", "fsl_stability_check", "fsl_curve", "neumann_factor", "exact_renewal_norm",
           "final_loss"]

ITERATES = ("picard1", "picard2", "volterra")


# ---------------------------------------------------------------------------------------------------
# units
# ---------------------------------------------------------------------------------------------------
def from_half_convention(excess_half):
    """FSL-paper excess risk E = ½‖·‖²_H → PLRF units (×2). σ²/2 there is σ² here."""
    return 2.0 * np.asarray(excess_half, dtype=float)


def to_half_convention(loss):
    """PLRF-unit excess loss → the FSL paper's E = ½‖·‖²_H (×½)."""
    return 0.5 * np.asarray(loss, dtype=float)


# ---------------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------------
def check_exponents(s: float, beta: float) -> tuple[float, float]:
    """FSL exponents: s > 0 (source), β > 1 (capacity); a clear error otherwise."""
    s, beta = float(s), float(beta)
    if not (math.isfinite(s) and s > 0):
        raise ValueError(f"source exponent s = {s!r} is outside its domain s > 0")
    if not (math.isfinite(beta) and beta > 1):
        raise ValueError(f"capacity exponent beta = {beta!r} is outside its domain beta > 1")
    return s, beta


def check_schedule(lr) -> np.ndarray:
    """Learning rates as float array (T,) or (S, T): finite, ≥ 0, at least one step.

    >>> check_schedule([0.1, 0.2]).tolist()
    [0.1, 0.2]
    """
    lr = np.asarray(lr, dtype=float)
    if lr.ndim not in (1, 2) or lr.shape[-1] < 1:
        raise ValueError(f"schedule must have shape (T,) or (S, T) with T >= 1, got {lr.shape}")
    return schedules.check_learning_rates(lr)


def check_fsl_batch(batch, shape: tuple[int, ...]) -> np.ndarray:
    """Batch sizes B_t, finite and ≥ 1, broadcast to ``shape`` (a number or one value per step).

    Unlike :func:`~lrwb.numerics.checks.check_batch`, B = inf is refused: the FSL is a law of noisy SGD.
    """
    arr = per_step("batch", batch, shape)
    bad = ~(np.isfinite(arr) & (arr >= 1))  # NaN fails too
    if bad.any():
        raise ValueError(f"batch size B = {first_bad(arr, bad)} is outside its range: B must be finite and >= 1 "
                         "(a number or one value per step)")
    return arr


# ---------------------------------------------------------------------------------------------------
# the law's ingredients
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FSLModel:
    """The signal e, kernel K and approximation error δ of one FSL, with the label noise σ².

    Build with :func:`mode_sum_model` (exact Gaussian constants) or :func:`power_law_model` (unit constants).
    ``form`` is "modes" or "power". For "modes": ``eigenvalues``/``target`` are λ_j, c_j(0).
    For "power": ``s``/``beta``.
    """

    form: str
    sigma: float
    approx: float = 0.0
    eigenvalues: np.ndarray | None = field(default=None, repr=False)
    target: np.ndarray | None = field(default=None, repr=False)
    s: float | None = None
    beta: float | None = None
    label: str = ""

    # exact evaluation ------------------------------------------------------------------------------
    def signal(self, t) -> np.ndarray:
        """e(t): Σ λ_j c_j(0) e^{−2λ_j t} (modes) or (1 + t)^{−s} (power)."""
        t = np.asarray(t, dtype=float)
        if self.form == "power":
            return (1.0 + t) ** (-self.s)
        return ExpSum(2 * self.eigenvalues, self.eigenvalues * self.target)(t)

    def kernel(self, u) -> np.ndarray:
        """K(u): Σ λ_j² e^{−2λ_j u} (modes) or (1 + u)^{−(2 − 1/β)} (power)."""
        u = np.asarray(u, dtype=float)
        if self.form == "power":
            return (1.0 + u) ** (-self.kernel_exponent)
        return ExpSum(2 * self.eigenvalues, self.eigenvalues**2)(u)

    @property
    def kernel_exponent(self) -> float:
        """p = 2 − 1/β (power form)."""
        return 2.0 - 1.0 / self.beta

    def kernel_mass(self) -> float:
        """∫_0^∞ K = Σ λ_j / 2 = tr H / 2 (modes) or 1/(p − 1) (power); γ·mass is ‖K‖₁ at constant γ."""
        if self.form == "power":
            return 1.0 / (self.kernel_exponent - 1.0)
        return 0.5 * float(self.eigenvalues.sum())

    # compressed -------------------------------------------------------------------------------------
    def kernel_sum(self, horizon: float, *, order: int = 6, ratio: float = 2.0, rtol: float = 1e-9) -> ExpSum:
        """K as Q exponentials, accurate on [0, horizon]."""
        if self.form == "power":
            return power_law_exp_sum(self.kernel_exponent, horizon, rtol=rtol)
        return compress_modes(2 * self.eigenvalues, self.eigenvalues**2, horizon=horizon, order=order, ratio=ratio)

    def signal_sum(self, horizon: float, *, order: int = 6, ratio: float = 2.0) -> ExpSum | None:
        """e as Q exponentials (modes; ``None`` for the power form, evaluated in closed form)."""
        if self.form == "power":
            return None
        return compress_modes(2 * self.eigenvalues, self.eigenvalues * self.target, horizon=horizon, order=order, ratio=ratio)


def mode_sum_model(spectrum: Spectrum, *, sigma: float) -> FSLModel:
    """FSL with the exact Gaussian constants of a spectrum (PLRF units): e_M, K_M as above, δ = spectrum.tail.

    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> model = mode_sum_model(power_law_spectrum(3.5, 2.0, 100), sigma=0.5)
    >>> fsl_curve(model, [0.5, 0.5, 0.5]).loss.round(4).tolist()
    [1.1267, 0.8446, 0.5667, 0.3933]
    """
    return FSLModel(form="modes", sigma=check_sigma(sigma), approx=float(spectrum.tail),
                    eigenvalues=spectrum.eigenvalues, target=spectrum.target, label=f"mode sums, {spectrum.label}")


def power_law_model(s: float, beta: float, *, sigma: float) -> FSLModel:
    """FSL with unit constants: e(t) = (1 + t)^{−s}, K(u) = (1 + u)^{−(2 − 1/β)}, δ = 0.

    >>> model = power_law_model(1.0, 2.0, sigma=0.5)
    >>> model.signal(np.array([0.0, 1.0])).tolist()  # e(t) = (1 + t)^(−s)
    [1.0, 0.5]
    """
    s, beta = check_exponents(s, beta)
    return FSLModel(form="power", sigma=check_sigma(sigma), s=s, beta=beta,
                    label=f"power laws s={s:g}, beta={beta:g}")


def fsl_spectrum(s: float, beta: float, features: int, *, tail: bool = False) -> Spectrum:
    """The top-M FSL model as a PLRF spectrum: λ_j = j^{−β}, λ_j θ*_j² = j^{−(sβ+1)} (a = 1 + sβ, b = β)."""
    from lrwb.numerics.spectra import power_law_spectrum

    s, beta = check_exponents(s, beta)
    return power_law_spectrum(1.0 + s * beta, beta, features, tail=tail)


# ---------------------------------------------------------------------------------------------------
# the O(T·Q) convolution
# ---------------------------------------------------------------------------------------------------
def exp_sum_along(terms: ExpSum, lr: np.ndarray) -> np.ndarray:
    """Σ_q w_q e^{−ρ_q t_k} at the intrinsic times of each row of ``lr`` (S, T) → (S, T+1), in O(S·T·Q)."""
    return sumexp.exp_sum_along(terms, lr)


def fast_noise(kernel: ExpSum, lr: np.ndarray, noise_weight: np.ndarray, forcing: np.ndarray | None = None,
               *, base: np.ndarray | None = None) -> np.ndarray:
    """N_k = Σ_{i<k} w_i K(t_k − t_{i+1}) F_i for k = 0…T, batched over rows; O(S·T·Q).

    Give ``forcing`` (F_i, shape (S, T) or (S, T+1)) for a Picard iterate, or ``base`` (shape (S, T+1)) for
    the Volterra solution F_i = base_i + N_i (:func:`lrwb.numerics.sumexp.exp_sum_convolution`).
    """
    feedback = forcing is None
    return sumexp.exp_sum_convolution(kernel, lr, noise_weight, base if feedback else forcing, feedback=feedback)


def naive_noise(model: FSLModel, lr, noise_weight, forcing=None, *, base=None, chunk: int = 256) -> np.ndarray:
    """Reference O(T²) quadrature with the exact kernel: same sums as :func:`fast_noise` (1-D or 2-D rows)."""
    lr2 = np.atleast_2d(np.asarray(lr, float))
    w2 = np.atleast_2d(np.asarray(noise_weight, float))
    f2 = np.atleast_2d(np.asarray(base if forcing is None else forcing, float))
    out = np.zeros((lr2.shape[0], lr2.shape[1] + 1))
    for s in range(lr2.shape[0]):
        t = np.concatenate(([0.0], np.cumsum(lr2[s])))
        n = lr2.shape[1]
        if forcing is not None:
            g = w2[s] * f2[s, :n]
            for start in range(1, n + 1, chunk):
                ks = np.arange(start, min(start + chunk, n + 1))
                u = t[ks][:, None] - t[None, 1:n + 1]
                mask = np.arange(n)[None, :] < ks[:, None]
                kern = np.where(mask, model.kernel(np.where(mask, u, 0.0)), 0.0)
                out[s, ks] = kern @ g
        else:
            g = np.zeros(n)
            for k in range(n + 1):
                out[s, k] = model.kernel(t[k] - t[1:k + 1]) @ g[:k] if k else 0.0
                if k < n:
                    g[k] = w2[s, k] * (f2[s, k] + out[s, k])
    return out


# ---------------------------------------------------------------------------------------------------
# the curve
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FSLCurve:
    """An FSL loss curve (rows: schedules, columns: k = 0…T; lr has T columns). PLRF units, no ½.

    loss = approx + signal + noise; ``iterate`` is "picard1" (the FSL), "picard2" or "volterra".
    """

    lr: np.ndarray
    intrinsic_time: np.ndarray
    loss: np.ndarray
    signal: np.ndarray
    noise: np.ndarray
    approx: float
    iterate: str
    kernel_terms: int
    label: str = ""
    warning: str | None = None  # set when run with allow_unstable=True above the bound (fsl_stability_check)

    @property
    def steps(self) -> np.ndarray:
        return np.arange(self.loss.shape[-1])

    @property
    def final_loss(self) -> np.ndarray:
        return self.loss[..., -1]


def intrinsic_times(lr: np.ndarray) -> np.ndarray:
    """t_k = Σ_{i<k} η_i, k = 0…T (exclusive), rows broadcast."""
    lr = np.asarray(lr, float)
    return np.concatenate([np.zeros(lr.shape[:-1] + (1,)), np.cumsum(lr, axis=-1)], axis=-1)


def power_law_renewal_norm(eta, p: float, batch=1.0):
    """‖K‖₁ of the power-law FSL's own discrete renewal equation at constant η (unit constants):

        ‖K‖₁ = (η²/B) Σ_{j≥0} K(jη) = (η²/B) Σ_{j≥0} (1 + jη)^{−p} = (η^{2−p}/B) ζ(p, 1/η),

    ζ the Hurwitz zeta function, p = 2 − 1/β. At constant η the Volterra iterate is F_k = E_k + σ² with
    N_k = (η²/B) Σ_{j≥0} K(jη) F_{k−1−j}, so it stays bounded iff this is < 1. For η → 0 it tends to the
    continuum (η/B)∫K = (η/B)·β/(β − 1); at η = O(1) the left Riemann sum is much larger (1.88 against 1.0 at
    η = 2.49, β = 2, B = 5), which is why the continuum value cannot be the check.
    """
    from scipy.special import zeta

    eta = np.asarray(eta, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(eta > 0, eta ** (2.0 - p) * zeta(p, 1.0 / np.where(eta > 0, eta, 1.0)), 0.0)
    return norm / np.asarray(batch, dtype=float)


def fsl_stability_bound(model: FSLModel, batch: float = 1.0, *, rtol: float = 1e-12) -> float:
    """The largest stable constant LR of the FSL's model (``conventions.md``, "Stability"); the value returned
    is stable (the stable end of a bisection).

    - mode sums (explicit λ_j): the true two-part bound of the exact SGD recursion the law approximates
      (:func:`lrwb.numerics.stability.stability_bound`: every g_k < 1 and Σ_k (η/B)λ_k/(2 − ((B+1)/B)ηλ_k) < 1).
    - power laws (no λ_j): the law's own renewal condition, ‖K‖₁ = (η^{2−p}/B) ζ(p, 1/η) < 1
      (:func:`power_law_renewal_norm`, the discrete kernel mass the engine iterates; monotone in η).
    
    >>> round(fsl_stability_bound(power_law_model(1.0, 2.0, sigma=0.5)), 4)
    0.4451
    """
    if model.form == "modes":
        return float(stability_bound(model.eigenvalues, float(batch)))
    p = model.kernel_exponent
    lo, hi = 0.0, float(batch) / model.kernel_mass()  # the continuum bound; the discrete norm is larger
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if power_law_renewal_norm(mid, p, batch) < 1.0:
            lo = mid
        else:
            hi = mid
    return lo


def fsl_stability_check(model: FSLModel, lr, batch=1.0, *, allow_unstable: bool = False) -> str | None:
    """Every step's η_t against :func:`fsl_stability_bound` for its B_t, before any work.

    Raises :class:`~lrwb.numerics.stability.UnstableLearningRateError` (step, η, bound, condition) unless
    ``allow_unstable``, which returns the text as a warning instead (``None`` when stable). Checked quantity:
    for mode sums the exact recursion's two conditions (:func:`lrwb.numerics.stability.check_learning_rates`); for
    power laws the law's own discrete ‖K‖₁ at η_t (:func:`power_law_renewal_norm`) < 1.
    """
    lr2 = np.atleast_2d(np.asarray(lr, dtype=float))
    single = np.ndim(lr) == 1
    batch2 = np.broadcast_to(np.asarray(batch, dtype=float), lr2.shape)
    if model.form == "modes":
        return check_learning_rates(lr2[0] if single else lr2, model.eigenvalues,
                                    batch2[0] if single else batch2, allow_unstable=allow_unstable, single=single)
    values, inverse = np.unique(batch2, return_inverse=True)
    bounds = np.array([fsl_stability_bound(model, b) for b in values])[np.asarray(inverse).reshape(lr2.shape)]
    bad = lr2 > bounds
    if not bad.any():
        return None
    s, t = (int(i) for i in np.argwhere(bad)[0])
    where = f"step {t}" if single else f"schedule {s}, step {t}"
    eta, b_t, bound = float(lr2[s, t]), float(batch2[s, t]), float(bounds[s, t])
    norm = float(power_law_renewal_norm(eta, model.kernel_exponent, b_t))
    text = (f"learning rate η = {eta:.6g} at {where} is above the stability bound of the power-law FSL, "
            f"η < {bound:.6g} (B = {b_t:g}, β = {model.beta:g}): the renewal condition of the law's own kernel, "
            f"‖K‖₁ = (η²/B) Σ_j (1 + jη)^(−(2−1/β)) = {norm:.4g} ≥ 1, fails"
            + (f"; {int(bad.sum())} steps above the bound in all" if bad.sum() > 1 else ""))
    if not allow_unstable:
        raise UnstableLearningRateError(f"{text} (allow_unstable=True / --allow-unstable runs it anyway)", step=t,
                                        eta=eta, bound=bound, condition="renewal")
    return f"unstable run: {text}; the result is shown as computed (--allow-unstable)"


def fsl_curve(model: FSLModel, lr, *, batch=1.0, iterate: str = "picard1", method: str = "fast",
              order: int = 6, ratio: float = 2.0, rtol: float = 1e-9, allow_unstable: bool = False) -> FSLCurve:
    """The FSL loss curve of a schedule (or a batch of schedules, shape (S, T)).

    E_k = δ + e(t_k) + Σ_{i<k} (η_i²/B_i) K(t_k − t_{i+1}) F_i (module docstring). ``method`` "fast" is the
    O(T·Q) recursion on the compressed kernel (``order``/``ratio`` for mode sums, ``rtol`` for power laws),
    "naive" the O(T²) quadrature with the exact kernel. ``batch`` is a number or one value per step.
    Every step's η_t is checked against :func:`fsl_stability_bound` first, for every iterate (the Picard
    iterates stay finite above it, silently wrong): :class:`~lrwb.numerics.stability.UnstableLearningRateError`
    unless ``allow_unstable=True``, which runs anyway and sets the curve's ``warning``. The Volterra solution
    still raises :class:`DivergenceError` if it blows up.
    
    >>> curve = fsl_curve(power_law_model(1.0, 2.0, sigma=0.5), [0.1, 0.1, 0.1])
    >>> curve.loss.round(4).tolist()  # E_0 … E_T (T + 1 values)
    [1.0, 0.9216, 0.8558, 0.7996]
    """
    if iterate not in ITERATES:
        raise ValueError(f"iterate = {iterate!r} must be one of {', '.join(ITERATES)}")
    if method not in ("fast", "naive"):
        raise ValueError(f"method = {method!r} must be 'fast' or 'naive'")
    lr = check_schedule(lr)
    squeeze = lr.ndim == 1
    lr2 = np.atleast_2d(lr)
    batch2 = check_fsl_batch(batch, lr2.shape)
    warning = fsl_stability_check(model, lr, batch2[0] if squeeze else batch2, allow_unstable=allow_unstable)
    w = lr2**2 / batch2
    t = intrinsic_times(lr2)
    horizon = float(t[:, -1].max()) if t.size else 0.0
    if model.form == "modes" and method == "fast":
        sig = exp_sum_along(model.signal_sum(horizon, order=order, ratio=ratio), lr2)
    else:
        sig = model.signal(t)
    base = model.approx + sig
    forcing = base + model.sigma**2
    if method == "fast":
        kern = model.kernel_sum(horizon, order=order, ratio=ratio, rtol=rtol)
        q = kern.size

        def conv(f=None, b=None):
            return fast_noise(kern, lr2, w, f, base=b)
    else:
        q = 0

        def conv(f=None, b=None):
            return naive_noise(model, lr2, w, f, base=b)

    if iterate == "volterra":
        with np.errstate(over="ignore", invalid="ignore"):
            noise = conv(b=forcing)
        _check_volterra(noise, base, model, lr2, batch2)
    else:
        noise = conv(f=forcing)
        if iterate == "picard2":
            noise = conv(f=forcing + noise)
    loss = base + noise
    if squeeze:
        lr2, t, loss, sig, noise = lr2[0], t[0], loss[0], sig[0], noise[0]
    return FSLCurve(lr=lr2, intrinsic_time=t, loss=loss, signal=sig, noise=noise, approx=model.approx,
                    iterate=iterate, kernel_terms=q, label=model.label, warning=warning)


def _check_volterra(noise, base, model, lr, batch) -> None:
    bad = ~np.isfinite(noise) | (noise > 1e12 * (base[:, :1] + model.sigma**2 + 1.0))
    if bad.any():
        row, step = np.argwhere(bad)[0]
        eta = float(lr[row].max())
        bound = fsl_stability_bound(model, float(batch[row].min()))
        raise DivergenceError(f"the FSL Volterra solution diverges at step {step} (max lr {eta:.4g}; "
                              f"the stability bound is lr < {bound:.4g})", step=int(step), bound=bound)


def neumann_factor(model: FSLModel, lr: float, batch: float = 1.0) -> float:
    """1/(1 − ‖K‖₁) at constant lr, ‖K‖₁ ≈ (η/B)·∫K (= η tr H/(2B) for mode sums): the Volterra/Picard gap."""
    norm = (lr / batch) * model.kernel_mass()
    return 1.0 / (1.0 - norm) if norm < 1 else math.inf


def exact_renewal_norm(model: FSLModel, lr: float, batch: float = 1.0) -> float:
    """The exact recursion's ‖K‖₁ (``lrwb.numerics.stability.renewal_norm``), mode sums only."""
    return float(renewal_norm(lr, model.eigenvalues, batch))


# ---------------------------------------------------------------------------------------------------
# the final loss only (vectorised over many schedules; used by the optimisers)
# ---------------------------------------------------------------------------------------------------
def final_loss(model: FSLModel, lr, *, batch=1.0, kernel: ExpSum | None = None, signal: ExpSum | None = None,
               order: int = 6, ratio: float = 2.0) -> np.ndarray:
    """E_T of the first Picard iterate for each row of ``lr`` (S, T), vectorised over rows in NumPy.

    E_T = δ + e(t_T) + Σ_i (η_i²/B_i) K(t_T − t_{i+1}) (δ + e(t_i) + σ²). The power-law form uses its closed
    forms (O(S·T)); mode sums their compressed exp sums (O(S·T·Q); pass precomputed ``kernel``/``signal`` sums,
    for a horizon ≥ every row's intrinsic time, to reuse them across calls).
    
    >>> final_loss(power_law_model(1.0, 2.0, sigma=0.5), [[0.1, 0.1, 0.1]]).round(4).tolist()  # = fsl_curve(...).loss[-1]
    [0.7996]
    """
    lr2 = np.atleast_2d(check_schedule(lr))
    batch2 = check_fsl_batch(batch, lr2.shape)
    t = intrinsic_times(lr2)
    if model.form == "power":
        kernel_at, signal_at = model.kernel, model.signal
    else:
        horizon = float(t[:, -1].max())
        kernel_at = kernel if kernel is not None else model.kernel_sum(horizon, order=order, ratio=ratio)
        signal_at = signal if signal is not None else model.signal_sum(horizon, order=order, ratio=ratio)
    e = signal_at(t)
    forcing = model.approx + e[:, :-1] + model.sigma**2
    remaining = t[:, -1:] - t[:, 1:]
    return model.approx + e[:, -1] + np.sum(lr2**2 / batch2 * forcing * kernel_at(remaining), axis=1)
