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

- **mode sums** of a :class:`~numerics.spectra.Spectrum` (exact Gaussian constants): e_M(t) = Σ λ_j c_j(0)
  e^{−2λ_j t}, K_M(u) = Σ λ_j² e^{−2λ_j u}, δ = the spectrum's tail (which also joins σ² in F, as in the exact
  recursion of plrf.md §2, whose O(η²λ²) drift terms are what the law drops);
- **power laws** with unit constants: e(t) = (1 + t)^{−s}, K(u) = (1 + u)^{−(2−1/β)}, δ = 0.

Fast convolution: K (and e_M) are written as sums of Q exponentials Σ_q w_q e^{−ρ_q u} (:class:`ExpSum`); then
A_q(k+1) = e^{−ρ_q η_k} A_q(k) + w_k F_k gives N_k = Σ_q w_q A_q(k) exactly, O(T·Q) (a numba loop).
Mode sums are compressed to Q terms by Gauss quadrature of the discrete mode measure on bins geometric in λ
(:func:`compress_modes`); a power law uses its Laplace representation (1 + u)^{−p} = Γ(p)^{−1} ∫ x^{p−1}
e^{−x(1+u)} dx, discretised by the trapezoid rule in y = log x (:func:`power_law_exp_sum`), which converges
geometrically. :func:`naive_noise` is the O(T²) direct sum with the exact kernel, kept as the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy import special

from numerics.spectra import Spectrum
from numerics.stability import DivergenceError, renewal_norm, stability_bound

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
    """Learning rates as float array (T,) or (S, T): finite, ≥ 0, at least one step."""
    lr = np.asarray(lr, dtype=float)
    if lr.ndim not in (1, 2) or lr.shape[-1] < 1:
        raise ValueError(f"schedule must have shape (T,) or (S, T) with T >= 1, got {lr.shape}")
    bad = ~np.isfinite(lr)
    if bad.any():
        step = int(np.argwhere(bad)[0][-1])
        raise ValueError(f"schedule is not finite at step {step} (lr = {lr.reshape(-1, lr.shape[-1])[:, step]!r})")
    if (lr < 0).any():
        step = int(np.argwhere(lr < 0)[0][-1])
        raise ValueError(f"schedule has a negative learning rate at step {step}: lr must be >= 0")
    return lr


def _check_batch(batch, shape) -> np.ndarray:
    batch = np.asarray(batch, dtype=float)
    if not (np.all(np.isfinite(batch)) and np.all(batch >= 1)):
        raise ValueError(f"batch = {batch!r} must be finite and >= 1 (a number or one value per step)")
    try:
        return np.broadcast_to(batch, shape)
    except ValueError:
        raise ValueError(f"batch schedule of shape {batch.shape} does not match the schedule's shape {shape}") from None


def _check_sigma(sigma) -> float:
    sigma = float(sigma)
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma = {sigma!r} must be finite and >= 0")
    return sigma


# ---------------------------------------------------------------------------------------------------
# sums of exponentials
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExpSum:
    """f(u) = Σ_q weights_q · exp(−rates_q · u), u ≥ 0 (Q = rates.size terms)."""

    rates: np.ndarray
    weights: np.ndarray
    #: m > 0: rates[q + m] = 2·rates[q] (geometric nodes), so e^{−ρ_{q+m}η} = (e^{−ρ_q η})² saves the exp.
    doubling: int = 0

    def __post_init__(self):
        object.__setattr__(self, "rates", np.ascontiguousarray(self.rates, dtype=float))
        object.__setattr__(self, "weights", np.ascontiguousarray(self.weights, dtype=float))

    @property
    def size(self) -> int:
        return self.rates.size

    def __call__(self, u) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        out = np.empty(u.shape)
        flat, res = u.reshape(-1), out.reshape(-1)
        for start in range(0, flat.size, 8192):  # chunks keep the (n, Q) temporary small
            chunk = flat[start:start + 8192]
            res[start:start + 8192] = np.exp(-np.multiply.outer(chunk, self.rates)) @ self.weights
        return out


def _gauss_discrete(x: np.ndarray, w: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss rule of ``order`` nodes for the discrete measure Σ w_j δ(x − x_j) (Stieltjes + Golub–Welsch).

    Exact for polynomials of degree ≤ 2·order − 1. x is mapped to [−1, 1] first for stability.
    """
    lo, hi = x.min(), x.max()
    if x.size <= order or hi - lo <= 1e-15 * hi:
        return x.copy(), w.copy()
    mid, half = 0.5 * (hi + lo), 0.5 * (hi - lo)
    y = (x - mid) / half
    mass = w.sum()
    p = w / mass
    alpha, beta_ = np.zeros(order), np.zeros(order)
    prev, cur = np.zeros_like(y), np.ones_like(y)
    norm_prev = 1.0
    for n in range(order):
        norm = np.sum(p * cur * cur)
        alpha[n] = np.sum(p * y * cur * cur) / norm
        if n > 0:
            beta_[n] = norm / norm_prev
        nxt = (y - alpha[n]) * cur - (beta_[n] * prev if n > 0 else 0.0)
        prev, cur, norm_prev = cur, nxt, norm
    jacobi = np.diag(alpha) + np.diag(np.sqrt(beta_[1:]), 1) + np.diag(np.sqrt(beta_[1:]), -1)
    nodes, vecs = np.linalg.eigh(jacobi)
    return mid + half * nodes, mass * vecs[0] ** 2


def compress_modes(rates, weights, *, horizon: float, order: int = 6, ratio: float = 2.0) -> ExpSum:
    """Σ_j weights_j e^{−rates_j u} compressed to Q ≪ M terms, accurate for 0 ≤ u ≤ horizon.

    The modes are binned geometrically in the rate (bins [ρ, ratio·ρ)); each bin with more than ``order``
    modes is replaced by its ``order``-node Gauss rule (exact for polynomials of degree 2·order − 1 in ρ, so
    the error on e^{−ρu} is ~((ratio − 1)/4)^{2·order} of the bin's share). Rates with ρ·horizon ≤ 1 —
    where e^{−ρu} is nearly polynomial on [0, horizon] — share one bin.
    """
    rates = np.asarray(rates, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if order < 1 or ratio <= 1:
        raise ValueError(f"order = {order} must be >= 1 and ratio = {ratio} > 1")
    keep = weights > 0
    rates, weights = rates[keep], weights[keep]
    if rates.size == 0:
        return ExpSum(np.zeros(1), np.zeros(1))
    floor = 1.0 / max(float(horizon), 1e-300)
    level = np.floor(np.log(np.maximum(rates, floor) / floor) / np.log(ratio)).astype(np.int64)
    out_r, out_w = [], []
    for lev in np.unique(level):
        sel = level == lev
        r_, w_ = _gauss_discrete(rates[sel], weights[sel], order)
        out_r.append(r_)
        out_w.append(w_)
    return ExpSum(np.concatenate(out_r), np.concatenate(out_w))


def power_law_exp_sum(p: float, horizon: float, *, rtol: float = 1e-9, step: float | None = None) -> ExpSum:
    """(1 + u)^{−p} ≈ Σ_q w_q e^{−ρ_q u} for 0 ≤ u ≤ horizon, from the Laplace representation.

    (1 + u)^{−p} = Γ(p)^{−1} ∫_R exp(p y − e^y) e^{−e^y u} dy (x = e^y); the trapezoid rule with step h in y
    has error ~ e^{−π²/h} (the integrand is analytic in a strip), the cut-offs y_min = log(ε^{1/p}/(1 + horizon))
    and y_max where e^{py − e^y} < ε bound the truncation. Nodes ρ_q = e^{y_q}, weights h e^{p y_q − e^{y_q}}/Γ(p).
    """
    p = float(p)
    if not (math.isfinite(p) and p > 0):
        raise ValueError(f"power-law exponent p = {p!r} must be > 0")
    eps = rtol * 1e-2
    h = step if step is not None else min(0.5, math.pi**2 / math.log(1.0 / eps))
    # h = log 2 / m makes the nodes double every m terms (ExpSum.doubling): m exps per step instead of Q.
    m = max(1, math.ceil(math.log(2.0) / h))
    h = math.log(2.0) / m
    y_min = math.log(eps ** (1.0 / p) / (1.0 + float(horizon)))
    y_max = math.log(max(p, 1.0)) + 1.0
    while p * y_max - math.exp(y_max) > math.log(eps):
        y_max += 0.25
    y = y_min + h * np.arange(int(math.ceil((y_max - y_min) / h)) + 1)
    rates = np.exp(y_min) * 2.0 ** (np.arange(y.size) / m)
    weights = h * np.exp(p * y - rates - special.gammaln(p))
    return ExpSum(rates, weights, doubling=m)


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
    """FSL with the exact Gaussian constants of a spectrum (PLRF units): e_M, K_M as above, δ = spectrum.tail."""
    return FSLModel(form="modes", sigma=_check_sigma(sigma), approx=float(spectrum.tail),
                    eigenvalues=spectrum.eigenvalues, target=spectrum.target, label=f"mode sums, {spectrum.label}")


def power_law_model(s: float, beta: float, *, sigma: float) -> FSLModel:
    """FSL with unit constants: e(t) = (1 + t)^{−s}, K(u) = (1 + u)^{−(2 − 1/β)}, δ = 0."""
    s, beta = check_exponents(s, beta)
    return FSLModel(form="power", sigma=_check_sigma(sigma), s=s, beta=beta,
                    label=f"power laws s={s:g}, beta={beta:g}")


def fsl_spectrum(s: float, beta: float, features: int, *, tail: bool = False) -> Spectrum:
    """The top-M FSL model as a PLRF spectrum: λ_j = j^{−β}, λ_j θ*_j² = j^{−(sβ+1)} (a = 1 + sβ, b = β)."""
    from numerics.spectra import power_law_spectrum

    s, beta = check_exponents(s, beta)
    return power_law_spectrum(1.0 + s * beta, beta, features, tail=tail)


# ---------------------------------------------------------------------------------------------------
# the O(T·Q) convolution
# ---------------------------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _update_decay(rates, doubling, eta, last, decay, rate_max):  # pragma: no cover - numba
    """decay[q] ← e^{−rates_q·eta}, given decay[q] = e^{−rates_q·last} (last < 0: none yet).

    Slowly varying schedules (|Δη|·max ρ < 1e−3) update multiplicatively with a degree-5 Taylor factor of
    e^{−ρΔη} (relative error < 1e−20 per step), avoiding Q exps per step; otherwise exps, halved in number
    for doubling nodes.
    """
    if eta == last:
        return
    dx = eta - last
    if last >= 0.0 and abs(dx) * rate_max < 1e-3:
        for q in range(rates.size):
            x = -rates[q] * dx
            decay[q] *= 1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0)))))
    elif doubling > 0:
        for q in range(rates.size):
            # squaring doubles the relative rounding error: refresh with an exp every 8 doublings
            if q % (8 * doubling) < doubling:
                decay[q] = math.exp(-rates[q] * eta)
            else:
                decay[q] = decay[q - doubling] ** 2
    else:
        for q in range(rates.size):
            decay[q] = math.exp(-rates[q] * eta)


@numba.njit(cache=True)
def _convolve(rates, weights, doubling, lr, noise_weight, forcing, feedback, base, out):  # pragma: no cover
    """out[s, k] = Σ_{i<k} noise_weight[s,i] K(t_k − t_{i+1}) F[s,i], K = Σ_q weights_q e^{−rates_q u}.

    F = forcing (feedback False) or base + out (feedback True: the Volterra equation, solved in step order).
    A_q(k+1) = e^{−ρ_q η_k} A_q(k) + w_k F_k and out_k = Σ_q weights_q A_q(k).
    """
    n_sched, n_steps = lr.shape
    n_q = rates.size
    rate_max = rates.max()
    acc = np.empty(n_q)
    decay = np.empty(n_q)
    for s in range(n_sched):
        acc[:] = 0.0
        last = -1.0
        for k in range(n_steps):
            total = 0.0
            for q in range(n_q):
                total += weights[q] * acc[q]
            out[s, k] = total
            f = base[s, k] + total if feedback else forcing[s, k]
            inj = noise_weight[s, k] * f
            eta = lr[s, k]
            _update_decay(rates, doubling, eta, last, decay, rate_max)
            last = eta
            for q in range(n_q):
                acc[q] = decay[q] * acc[q] + inj
        total = 0.0
        for q in range(n_q):
            total += weights[q] * acc[q]
        out[s, n_steps] = total


@numba.njit(cache=True)
def _exp_sum_along(rates, weights, lr, out):  # pragma: no cover - numba
    """out[s, k] = Σ_q weights_q e^{−rates_q t_k}, t_k = Σ_{i<k} lr[s, i], by the running product (Q exps/step)."""
    n_sched, n_steps = lr.shape
    n_q = rates.size
    rate_max = rates.max()
    acc = np.empty(n_q)
    decay = np.empty(n_q)
    for s in range(n_sched):
        acc[:] = weights
        last = -1.0
        for k in range(n_steps + 1):
            total = 0.0
            for q in range(n_q):
                total += acc[q]
            out[s, k] = total
            if k < n_steps:
                _update_decay(rates, 0, lr[s, k], last, decay, rate_max)
                last = lr[s, k]
                for q in range(n_q):
                    acc[q] *= decay[q]


def exp_sum_along(terms: ExpSum, lr: np.ndarray) -> np.ndarray:
    """Σ_q w_q e^{−ρ_q t_k} at the intrinsic times of each row of ``lr`` (S, T) → (S, T+1), in O(S·T·Q)."""
    lr = np.ascontiguousarray(lr, dtype=float)
    out = np.empty((lr.shape[0], lr.shape[1] + 1))
    _exp_sum_along(terms.rates, terms.weights, lr, out)
    return out


def fast_noise(kernel: ExpSum, lr: np.ndarray, noise_weight: np.ndarray, forcing: np.ndarray | None = None,
               *, base: np.ndarray | None = None) -> np.ndarray:
    """N_k = Σ_{i<k} w_i K(t_k − t_{i+1}) F_i for k = 0…T, batched over rows; O(S·T·Q).

    Give ``forcing`` (F_i, shape (S, T) or (S, T+1)) for a Picard iterate, or ``base`` (shape (S, T+1)) for
    the Volterra solution F_i = base_i + N_i.
    """
    lr = np.ascontiguousarray(lr, dtype=float)
    out = np.empty((lr.shape[0], lr.shape[1] + 1))
    feedback = forcing is None
    f = np.ascontiguousarray(base if feedback else forcing, dtype=float)
    _convolve(kernel.rates, kernel.weights, kernel.doubling, lr, np.ascontiguousarray(noise_weight, dtype=float), f, feedback, f, out)
    return out


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


def fsl_curve(model: FSLModel, lr, *, batch=1.0, iterate: str = "picard1", method: str = "fast",
              order: int = 6, ratio: float = 2.0, rtol: float = 1e-9) -> FSLCurve:
    """The FSL loss curve of a schedule (or a batch of schedules, shape (S, T)).

    E_k = δ + e(t_k) + Σ_{i<k} (η_i²/B_i) K(t_k − t_{i+1}) F_i (module docstring). ``method`` "fast" is the
    O(T·Q) recursion on the compressed kernel (``order``/``ratio`` for mode sums, ``rtol`` for power laws),
    "naive" the O(T²) quadrature with the exact kernel. ``batch`` is a number or one value per step.
    The Volterra solution raises :class:`DivergenceError` if it blows up (‖K‖₁ ≥ 1 somewhere).
    """
    if iterate not in ITERATES:
        raise ValueError(f"iterate = {iterate!r} must be one of {', '.join(ITERATES)}")
    if method not in ("fast", "naive"):
        raise ValueError(f"method = {method!r} must be 'fast' or 'naive'")
    lr = check_schedule(lr)
    squeeze = lr.ndim == 1
    lr2 = np.atleast_2d(lr)
    batch2 = _check_batch(batch, lr2.shape)
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
                    iterate=iterate, kernel_terms=q, label=model.label)


def _check_volterra(noise, base, model, lr, batch) -> None:
    bad = ~np.isfinite(noise) | (noise > 1e12 * (base[:, :1] + model.sigma**2 + 1.0))
    if bad.any():
        row, step = np.argwhere(bad)[0]
        eta = float(lr[row].max())
        if model.form == "modes":
            bound = stability_bound(model.eigenvalues, float(batch[row].min()))
        else:
            bound = float(batch[row].min()) / model.kernel_mass()  # γ‖K‖₁ = 1
        raise DivergenceError(f"the FSL Volterra solution diverges at step {step} (max lr {eta:.4g}; "
                              f"the stability bound is lr < {bound:.4g})", step=int(step), bound=bound)


def neumann_factor(model: FSLModel, lr: float, batch: float = 1.0) -> float:
    """1/(1 − ‖K‖₁) at constant lr, ‖K‖₁ ≈ (η/B)·∫K (= η tr H/(2B) for mode sums): the Volterra/Picard gap."""
    norm = (lr / batch) * model.kernel_mass()
    return 1.0 / (1.0 - norm) if norm < 1 else math.inf


def exact_renewal_norm(model: FSLModel, lr: float, batch: float = 1.0) -> float:
    """The exact recursion's ‖K‖₁ (``numerics.stability.renewal_norm``), mode sums only."""
    return float(renewal_norm(lr, model.eigenvalues, batch))


# ---------------------------------------------------------------------------------------------------
# the final loss only (vectorised over many schedules; used by the optimisers)
# ---------------------------------------------------------------------------------------------------
def final_loss(model: FSLModel, lr, *, batch=1.0, kernel: ExpSum | None = None, signal: ExpSum | None = None,
               order: int = 6, ratio: float = 2.0, rtol: float = 1e-9) -> np.ndarray:
    """E_T of the first Picard iterate for each row of ``lr`` (S, T), O(S·T·Q) in NumPy, no recursion.

    E_T = δ + e(t_T) + Σ_i (η_i²/B_i) K(t_T − t_{i+1}) (δ + e(t_i) + σ²). Pass precomputed ``kernel``/``signal``
    sums (for a horizon ≥ every row's intrinsic time) to reuse them across calls.
    """
    lr2 = np.atleast_2d(check_schedule(lr))
    batch2 = _check_batch(batch, lr2.shape)
    t = intrinsic_times(lr2)
    horizon = float(t[:, -1].max())
    if kernel is None:
        kernel = model.kernel_sum(horizon, order=order, ratio=ratio, rtol=rtol)
    if model.form == "modes":
        if signal is None:
            signal = model.signal_sum(horizon, order=order, ratio=ratio)
        sig_at = signal
    else:
        sig_at = model.signal
    out = np.empty(lr2.shape[0])
    for s in range(lr2.shape[0]):
        ts = t[s]
        e = sig_at(ts)
        f = model.approx + e[:-1] + model.sigma**2
        remaining = ts[-1] - ts[1:]
        out[s] = model.approx + e[-1] + (lr2[s] ** 2 / batch2[s] * f) @ kernel(remaining)
    return out
