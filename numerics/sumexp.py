"""Sums of exponentials: the one home for building them and for the O(K·Q) recursions they allow.

Why: every memory term of the workbench — the FSL noise convolution (:mod:`lrwb.numerics.fsl.engine`), its mode-sum signal,
the loss-curve laws (:mod:`lrwb.numerics.lawfit.laws`) — is a sum Σ_i w_i G(X_k − X_i) over a monotone (intrinsic-time)
grid. Done directly that is O(K²). Writing G as Q exponentials, G(x) ≈ Σ_q w_q e^{−ρ_q x} (:class:`ExpSum`),
turns it into Q first-order recursions, O(K·Q).

Builders (each returns an :class:`ExpSum`):

- **power laws** through the Laplace integral in the log variable v = log u,

      (1 + c x)^{−γ} = (1/Γ(γ)) ∫_{−∞}^{∞} e^{γ v − e^v} e^{−c e^v x} dv,

  discretised by the trapezoid rule (the integrand is analytic in the strip |Im v| < π/2 and decays
  double-exponentially for v → +∞, so the rule converges like e^{−π²/h}); the nodes and weights are shared:
  :func:`laplace_weights`. Two truncations, for two error models:

  * :func:`power_law_as_exponentials` — **absolute** error ≲ tol on [0, x_max]: the nodes below v_min (where
    c e^v x_max ≤ tol) are lumped into one constant term (rate 0, :func:`node_weights`). The loss-curve laws
    use this (with :func:`log_nodes`), because their kernels enter as 1 − (1 + c x)^{−γ}.
  * :func:`power_law_exp_sum` — **relative** error ≲ rtol uniformly on [0, horizon] (no lump: the nodes go
    down to v_min = log(ε^{1/p}/(1 + horizon)), below which the Laplace integral holds < ε of (1 + u)^{−p}),
    on a grid whose rates double every m nodes (``ExpSum.doubling``, which halves the exps per step). The FSL
    kernel (1 + u)^{−(2−1/β)} spans many decades, so it needs the relative form.

- **mode sums** Σ_j w_j e^{−ρ_j u} with many modes, compressed to Q ≪ M terms by a Gauss rule of the discrete
  mode measure on bins geometric in ρ (:func:`compress_modes`).

Recursions (numba when installed — extra ``fast`` — else the same loops in plain Python, slow but exact):

- :func:`decayed_sums`: per-rate memory sums H[k, q] = Σ_{i≤k} s_i e^{−ρ_q (X_k − X_i)} (the laws' gradients
  re-weight them, so they are returned per rate);
- :func:`exp_sum_convolution`: out_k = Σ_{i<k} w_i G(t_k − t_{i+1}) F_i with t the exclusive cumulative sum of
  the increments, summed over q in the loop (memory O(K), not O(K·Q)); F_i = forcing_i, or base_i + out_i
  (a Volterra equation, solved in step order);
- :func:`exp_sum_along`: G(t_k) at every grid point (the convolution of one unit injection at t = 0).

Both kernels update the per-rate decay factors e^{−ρ_q Δ_k} with :func:`update_decay` (no exp while Δ is
constant; a Taylor factor while it varies slowly; squaring along doubling nodes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

import numba as _numba  # a core dependency: the recursions below are compiled, never run as Python loops

DEFAULT_TOL = 1e-10

__all__ = [
    "DEFAULT_TOL",
    "ExpSum",
    "ExponentialSum",
    "laplace_weights",
    "log_nodes",
    "node_weights",
    "power_law_as_exponentials",
    "power_law_exp_sum",
    "compress_modes",
    "update_decay",
    "decayed_sums",
    "exp_sum_convolution",
    "exp_sum_along",
    "convolve_power_law",
    "convolve_power_law_naive",
]


def _jit(inline: bool = False):
    """numba.njit(cache=True), inlined into its callers when ``inline``."""
    return _numba.njit(cache=True, inline="always") if inline else _numba.njit(cache=True)


# ----------------------------------------------------------------------------------------------------------
# the representation
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExpSum:
    """G(u) = Σ_q weights_q · exp(−rates_q · u), u ≥ 0 (Q = rates.size terms).

    ``doubling`` m > 0 declares geometric nodes with rates[q + m] = 2·rates[q], so e^{−ρ_{q+m}η} =
    (e^{−ρ_q η})² saves the exp in the recursions.
    """

    rates: np.ndarray
    weights: np.ndarray
    doubling: int = 0

    def __post_init__(self):
        object.__setattr__(self, "rates", np.ascontiguousarray(self.rates, dtype=float))
        object.__setattr__(self, "weights", np.ascontiguousarray(self.weights, dtype=float))
        if self.rates.shape != self.weights.shape or self.rates.ndim != 1:
            raise ValueError(f"rates {self.rates.shape} and weights {self.weights.shape} must be 1-D of equal size")

    @property
    def size(self) -> int:
        return int(self.rates.size)

    @property
    def q(self) -> int:
        """Number of terms Q (alias of :attr:`size`)."""
        return self.size

    def __call__(self, u) -> np.ndarray:
        """Σ_q w_q e^{−ρ_q u} at the points u (any shape), in chunks that keep the (n, Q) temporary small."""
        u = np.asarray(u, dtype=float)
        out = np.empty(u.shape)
        flat, res = u.reshape(-1), out.reshape(-1)
        for start in range(0, flat.size, 8192):
            chunk = flat[start:start + 8192]
            res[start:start + 8192] = np.exp(-np.multiply.outer(chunk, self.rates)) @ self.weights
        return out


@dataclass(frozen=True, kw_only=True)
class ExponentialSum(ExpSum):
    """A power law (1 + scale·x)^{−exponent} as an :class:`ExpSum` on 0 ≤ x ≤ x_max, with its construction.

    ``log_nodes`` are the quadrature nodes v_j (rate_j = scale·e^{v_j}); the last term may be the lump
    (rate 0, ``log_nodes`` = v_min), flagged by ``is_lump``; ``max_abs_error`` is the measured error.
    """

    log_nodes: np.ndarray
    is_lump: np.ndarray
    exponent: float
    scale: float
    x_max: float
    step: float
    max_abs_error: float


# ----------------------------------------------------------------------------------------------------------
# power laws from the Laplace integral
# ----------------------------------------------------------------------------------------------------------
def laplace_weights(exponent: float, nodes: np.ndarray, h: float) -> np.ndarray:
    """Trapezoid weights h·e^{γv − e^v}/Γ(γ) of the Laplace integral of (1 + x)^{−γ} at the nodes v."""
    return np.exp(math.log(h) + exponent * np.asarray(nodes, dtype=float) - np.exp(nodes) - gammaln(exponent))


def log_nodes(exponent: float, scale_x_max: float, *, tol: float = DEFAULT_TOL, q: int | None = None,
              max_exponent: float | None = None) -> tuple[np.ndarray, float, float]:
    """Quadrature nodes v_j (ascending), their spacing h and v_min (start of the lumped tail).

    v_min: c·e^{v_min}·max(x_max, 1/c) = tol (below it e^{−c e^v x} = 1 to within tol, so that part is a constant);
    v_max: e^{v_max} = 40 + 2·(γ_max + 1) (the integrand e^{γv − e^v} is below e^{−40} beyond it);
    h: π²/h = log(1/tol) + 3 + 2γ_max (larger γ: larger integrand off the real axis) unless ``q`` nodes are asked for. ``max_exponent`` widens v_max for a fit that
    will vary γ (or use the γ + 1 identity for derivatives).
    """
    if not (exponent > 0 and math.isfinite(exponent)):
        raise ValueError(f"exponent = {exponent!r} must be a finite number > 0")
    if not (scale_x_max > 0 and math.isfinite(scale_x_max)):
        raise ValueError(f"scale·x_max = {scale_x_max!r} must be a finite number > 0")
    if not (0 < tol < 1e-2):
        raise ValueError(f"tol = {tol!r} must lie in (0, 1e-2)")
    top = max(exponent, max_exponent or exponent)
    v_min = math.log(tol / max(scale_x_max, 1.0))
    v_max = math.log(40.0 + 2.0 * (top + 1.0))
    if q is None:
        h = math.pi**2 / (math.log(1.0 / tol) + 3.0 + 2.0 * top)
        n = int(math.ceil((v_max - v_min) / h)) + 1
    else:
        if q < 3:
            raise ValueError(f"q = {q} must be >= 3 (two quadrature nodes and the lumped tail)")
        n = q - 1
        h = (v_max - v_min) / (n - 1)
    nodes = v_min + h * np.arange(n)
    return nodes, h, v_min


def node_weights(exponent: float, nodes: np.ndarray, h: float, v_min: float) -> np.ndarray:
    """:func:`laplace_weights` on ``nodes`` plus the lump (last entry): the trapezoid nodes below v_min summed
    as a geometric series, h·e^{γ(v_min − h)}/(Γ(γ)(1 − e^{−γh})) (≈ e^{γ v_min}/Γ(γ+1)).
    """
    w = laplace_weights(exponent, nodes, h)
    # the bi-infinite trapezoid sum's nodes below v_min, where e^{−e^v} = 1 to within e^{v} ≤ tol: a
    # geometric series h·Σ_{j≥1} e^{γ(v_min − j h)}/Γ(γ)
    lump = h * math.exp(exponent * (v_min - h) - gammaln(exponent)) / (-math.expm1(-exponent * h))
    return np.append(w, lump)


def power_law_as_exponentials(exponent: float, scale: float, q: int | None = None, x_max: float = 1.0, *,
                              tol: float = DEFAULT_TOL) -> ExponentialSum:
    """(1 + scale·x)^{−exponent} ≈ Σ_j w_j e^{−r_j x} on [0, x_max], absolute error ≲ tol (lumped tail).

    ``q`` fixes the number of terms (lump included); by default it follows from ``tol``.
    The achieved error is measured on 2000 log-spaced points of [0, x_max] and stored.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale = {scale!r} must be a finite number > 0")
    if not (x_max > 0 and math.isfinite(x_max)):
        raise ValueError(f"x_max = {x_max!r} must be a finite number > 0")
    nodes, h, v_min = log_nodes(exponent, scale * x_max, tol=tol, q=q)
    weights = node_weights(exponent, nodes, h, v_min)
    rates = np.append(scale * np.exp(nodes), 0.0)
    lump = np.zeros(weights.size, dtype=bool)
    lump[-1] = True
    xs = np.concatenate([[0.0], np.geomspace(x_max * 1e-9, x_max, 1999)])
    approx = np.exp(-np.multiply.outer(xs, rates)) @ weights
    exact = (1.0 + scale * xs) ** (-exponent)
    err = float(np.max(np.abs(approx - exact)))
    return ExponentialSum(rates=rates, weights=weights, log_nodes=np.append(nodes, v_min), is_lump=lump,
                          exponent=float(exponent), scale=float(scale), x_max=float(x_max), step=float(h),
                          max_abs_error=err)


def power_law_exp_sum(p: float, horizon: float, *, rtol: float = 1e-9, step: float | None = None) -> ExpSum:
    """(1 + u)^{−p} ≈ Σ_q w_q e^{−ρ_q u} with relative error ≲ rtol uniformly on 0 ≤ u ≤ horizon.

    Trapezoid rule in y = log x on the Laplace integral (module docstring), step h ≤ π²/log(1/ε), ε = rtol/100,
    rounded down to h = log 2/m so that the rates double every m nodes (``doubling``). Cut-offs:
    y_min = log(ε^{1/p}/(1 + horizon)) (the part x < e^{y_min} holds < ε of (1 + horizon)^{−p}) and y_max where
    e^{py − e^y} < ε. Weights :func:`laplace_weights`.
    
    >>> terms = power_law_exp_sum(1.5, 100.0)
    >>> bool(abs(terms(np.array([10.0]))[0] / 11.0 ** -1.5 - 1) < 1e-9)  # (1 + u)^(−p) at u = 10
    True
    """
    p = float(p)
    if not (math.isfinite(p) and p > 0):
        raise ValueError(f"power-law exponent p = {p!r} must be > 0")
    horizon = float(horizon)
    if not (math.isfinite(horizon) and horizon >= 0):
        raise ValueError(f"horizon = {horizon!r} must be finite and >= 0")
    eps = rtol * 1e-2
    h = step if step is not None else min(0.5, math.pi**2 / math.log(1.0 / eps))
    m = max(1, math.ceil(math.log(2.0) / h))
    h = math.log(2.0) / m
    y_min = math.log(eps ** (1.0 / p) / (1.0 + horizon))
    y_max = math.log(max(p, 1.0)) + 1.0
    while p * y_max - math.exp(y_max) > math.log(eps):
        y_max += 0.25
    count = int(math.ceil((y_max - y_min) / h)) + 1
    rates = math.exp(y_min) * 2.0 ** (np.arange(count) / m)  # = e^{y_min + q h}, exactly doubling
    return ExpSum(rates, laplace_weights(p, y_min + h * np.arange(count), h), doubling=m)


# ----------------------------------------------------------------------------------------------------------
# mode sums
# ----------------------------------------------------------------------------------------------------------
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
    
    >>> lam = np.arange(1, 101.0) ** -2.0
    >>> terms = compress_modes(2 * lam, lam, horizon=100.0)
    >>> terms.size < lam.size, bool(abs(terms(np.array([5.0]))[0] / np.sum(lam * np.exp(-2 * lam * 5.0)) - 1) < 1e-6)
    (True, True)
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


# ----------------------------------------------------------------------------------------------------------
# the recursions
# ----------------------------------------------------------------------------------------------------------
#: exact exps at least every this many multiplicative (Taylor) updates, against rounding drift
REFRESH_EVERY = 256
#: step × term products per compiled call of the convolution (≈ 0.05 s): Python sees Ctrl-C between calls
CHUNK_STEP_TERMS = 1 << 25


@_jit(inline=True)
def update_decay(rates, doubling, inc, last, decay, rate_max, since_exact):  # pragma: no cover - numba
    """decay[q] ← e^{−rates_q·inc}, given decay[q] = e^{−rates_q·last} (last < 0: none yet); returns the count
    of multiplicative updates since the last exact one.

    inc == last: nothing to do (constant stretches cost no exp). Slowly varying increments
    (|Δ|·max ρ < 1e−3): multiply by a degree-5 Taylor factor of e^{−ρΔ} (relative error < 1e−20 per update),
    with exact exps every :data:`REFRESH_EVERY` updates. Otherwise exps, halved in number along doubling nodes
    (decay[q] = decay[q − m]², refreshed by an exp every 8 doublings since squaring doubles the rounding error).
    """
    if inc == last:
        return since_exact
    dx = inc - last
    if last >= 0.0 and abs(dx) * rate_max < 1e-3 and since_exact < REFRESH_EVERY:
        for q in range(rates.size):
            x = -rates[q] * dx
            decay[q] *= 1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0)))))
        return since_exact + 1
    if doubling > 0:
        for q in range(rates.size):
            if q % (8 * doubling) < doubling:
                decay[q] = math.exp(-rates[q] * inc)
            else:
                decay[q] = decay[q - doubling] ** 2
    else:
        for q in range(rates.size):
            decay[q] = math.exp(-rates[q] * inc)
    return 0


@_jit()
def _decayed_sums_kernel(increments, rates, sources, out_index, lagged):  # pragma: no cover - numba
    """H[o, m, j] = Σ_{i ≤ k_o} sources[i, m] · exp(−rates_j (X_{k_o} − X_i)) (X_{i−1} if ``lagged``).

    Recursion: H(k) = H(k−1)·e^{−r Δ_k} + s_k (lagged: (H(k−1) + s_k)·e^{−r Δ_k}), Δ_k = increments[k].
    """
    n_src = sources.shape[1]
    q = rates.shape[0]
    n_out = out_index.shape[0]
    out = np.zeros((n_out, n_src, q))
    state = np.zeros((n_src, q))
    decay = np.ones(q)
    last = -1.0
    since_exact = 0
    r_max = 0.0
    for j in range(q):
        r_max = max(r_max, rates[j])
    o = 0
    for k in range(increments.shape[0]):
        if o >= n_out:
            break
        since_exact = update_decay(rates, 0, increments[k], last, decay, r_max, since_exact)
        last = increments[k]
        for m in range(n_src):
            s = sources[k, m]
            if lagged:
                for j in range(q):
                    state[m, j] = (state[m, j] + s) * decay[j]
            else:
                for j in range(q):
                    state[m, j] = state[m, j] * decay[j] + s
        while o < n_out and out_index[o] == k:
            out[o] = state
            o += 1
    return out


@_jit()
def _convolution_kernel(rates, weights, doubling, increments, source_weight, forcing, feedback, out,
                        k_begin, k_end, acc, decay, state):  # pragma: no cover - numba
    """out[s, k] = Σ_{i<k} source_weight[s, i] G(t_k − t_{i+1}) F[s, i], G = Σ_q weights_q e^{−rates_q u},
    t_k = Σ_{i<k} increments[s, i]; F = forcing (feedback False) or forcing + out (feedback True).

    A_q(k+1) = e^{−ρ_q Δ_k} A_q(k) + w_k F_k and out_k = Σ_q weights_q A_q(k).
    Steps k_begin ≤ k < k_end only: k_begin = 0 starts each row afresh; a later chunk (one row per call)
    continues from ``acc``, ``decay`` and ``state`` = (last increment, updates since an exact exp).
    """
    n_rows, n_steps = increments.shape
    n_q = rates.size
    rate_max = rates.max()
    for s in range(n_rows):
        if k_begin == 0:
            acc[:] = 0.0
            last = -1.0
            since_exact = 0
        else:
            last = state[0]
            since_exact = int(state[1])
        for k in range(k_begin, k_end):
            total = 0.0
            for q in range(n_q):
                total += weights[q] * acc[q]
            out[s, k] = total
            f = forcing[s, k] + total if feedback else forcing[s, k]
            inj = source_weight[s, k] * f
            since_exact = update_decay(rates, doubling, increments[s, k], last, decay, rate_max, since_exact)
            last = increments[s, k]
            for q in range(n_q):
                acc[q] = decay[q] * acc[q] + inj
        state[0] = last
        state[1] = since_exact
        if k_end == n_steps:
            total = 0.0
            for q in range(n_q):
                total += weights[q] * acc[q]
            out[s, n_steps] = total


def _increments_2d(increments) -> np.ndarray:
    inc = np.ascontiguousarray(np.atleast_2d(np.asarray(increments, dtype=float)))
    if inc.ndim != 2:
        raise ValueError(f"increments must have shape (K,) or (S, K), got {np.shape(increments)}")
    if not np.all(np.isfinite(inc)) or np.any(inc < 0):
        raise ValueError("increments must be finite and >= 0 (the intrinsic-time grid must be monotone)")
    return inc


def decayed_sums(increments, rates, sources, out_index=None, *, lagged: bool = False) -> np.ndarray:
    """Per-rate memory sums H[o, m, j] = Σ_{i≤k_o} sources[i, m] e^{−rates_j (X_{k_o} − X_i)} in O(K·Q·M).

    ``increments[k] = X_k − X_{k−1}`` ≥ 0 (X monotone; increments[0] is X_0 − X_{−1}); ``sources`` has shape
    (K,) or (K, M); ``out_index`` (sorted, default all k) picks the rows returned. ``lagged=True`` measures
    each source from X_{i−1} instead of X_i (a source decays already during its own step).
    """
    inc = np.ascontiguousarray(increments, dtype=float)
    if inc.ndim != 1:
        raise ValueError(f"increments must be 1-D, got shape {inc.shape}")
    _increments_2d(inc)
    src = np.asarray(sources, dtype=float)
    squeeze = src.ndim == 1
    src = np.ascontiguousarray(src.reshape(src.shape[0], -1))
    if src.shape[0] != inc.size:
        raise ValueError(f"sources have {src.shape[0]} rows, increments {inc.size}")
    idx = np.arange(inc.size) if out_index is None else np.asarray(out_index, dtype=np.int64)
    if idx.size and (np.any(np.diff(idx) < 0) or idx[0] < 0 or idx[-1] >= inc.size):
        raise ValueError(f"out_index must be sorted and within [0, {inc.size - 1}]")
    out = _decayed_sums_kernel(inc, np.ascontiguousarray(rates, dtype=float), src,
                               np.ascontiguousarray(idx, dtype=np.int64), bool(lagged))
    return out[:, 0, :] if squeeze else out


def exp_sum_convolution(terms: ExpSum, increments, source_weight, forcing, *, feedback: bool = False) -> np.ndarray:
    """out_k = Σ_{i<k} w_i G(t_k − t_{i+1}) F_i for k = 0…K, rows batched: shape (S, K+1), O(S·K·Q).

    G = ``terms``; t_k = Σ_{i<k} increments_i (the exclusive intrinsic time); w = ``source_weight`` (S, K);
    F = ``forcing`` (S, ≥K), or with ``feedback`` the Volterra equation F_i = forcing_i + out_i, solved in
    step order.
    """
    inc = _increments_2d(increments)
    f = np.ascontiguousarray(np.atleast_2d(np.asarray(forcing, dtype=float)))
    w = np.ascontiguousarray(np.broadcast_to(np.atleast_2d(np.asarray(source_weight, dtype=float)), inc.shape))
    if f.shape[0] != inc.shape[0] or f.shape[1] < inc.shape[1]:
        raise ValueError(f"forcing of shape {f.shape} does not cover increments of shape {inc.shape}")
    out = np.empty((inc.shape[0], inc.shape[1] + 1))
    n_rows, n_steps = inc.shape
    n_q = terms.rates.size
    acc, decay, state = np.zeros(n_q), np.ones(n_q), np.zeros(2)

    def call(rows: slice, k_begin: int, k_end: int) -> None:
        _convolution_kernel(terms.rates, terms.weights, int(terms.doubling), inc[rows], w[rows], f[rows],
                            bool(feedback), out[rows], k_begin, k_end, acc, decay, state)

    # Chunks of about CHUNK_STEP_TERMS step-terms per compiled call, so Ctrl-C is seen between calls.
    per_call = max(1, CHUNK_STEP_TERMS // max(n_q, 1))
    if n_steps <= per_call:
        group = max(1, per_call // max(n_steps, 1))
        for s0 in range(0, n_rows, group):
            call(slice(s0, s0 + group), 0, n_steps)
    else:
        for s in range(n_rows):
            for k0 in range(0, n_steps, per_call):
                call(slice(s, s + 1), k0, min(k0 + per_call, n_steps))
    return out


def exp_sum_along(terms: ExpSum, increments) -> np.ndarray:
    """G(t_k) = Σ_q w_q e^{−ρ_q t_k} at t_k = Σ_{i<k} increments_i, k = 0…K, rows batched: (S, K+1), O(S·K·Q).

    The convolution of one unit injection at t = 0: on the grid with a zero increment prepended,
    out_{k+1} = G(t_k − 0) (the running product e^{−ρ_q t_k} without an exp per step).
    """
    inc = _increments_2d(increments)
    padded = np.concatenate([np.zeros((inc.shape[0], 1)), inc], axis=1)
    unit = np.zeros_like(padded)
    unit[:, 0] = 1.0
    return exp_sum_convolution(terms, padded, unit, np.ones_like(padded))[:, 1:]


# ----------------------------------------------------------------------------------------------------------
# power-law convolution on a grid
# ----------------------------------------------------------------------------------------------------------
def convolve_power_law(positions, weights, exponent: float, scale: float, *, out_index=None,
                       tol: float = DEFAULT_TOL, q: int | None = None) -> np.ndarray:
    """Σ_{i≤k} w_i (1 + scale·(X_k − X_i))^{−exponent} for a monotone grid X = ``positions``, O(K·Q).

    The general helper (the FSL engine's memory term is of this form). Accuracy: |error| ≲ tol·Σ|w_i|.
    """
    x = np.asarray(positions, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError("positions must be a non-empty 1-D array")
    if np.any(np.diff(x) < 0):
        raise ValueError("positions must be non-decreasing (a monotone intrinsic-time grid)")
    span = max(float(x[-1] - x[0]), 1e-300)
    kern = power_law_as_exponentials(exponent, scale, q, span, tol=tol)
    inc = np.diff(x, prepend=x[0])
    h = decayed_sums(inc, kern.rates, np.asarray(weights, dtype=float), out_index)
    return h @ kern.weights


def convolve_power_law_naive(positions, weights, exponent: float, scale: float, *, out_index=None) -> np.ndarray:
    """The O(K²) reference: Σ_{i≤k} w_i (1 + scale·(X_k − X_i))^{−exponent}, row by row."""
    x = np.asarray(positions, dtype=float)
    w = np.asarray(weights, dtype=float)
    idx = np.arange(x.size) if out_index is None else np.asarray(out_index)
    return np.array([np.dot(w[: k + 1], (1.0 + scale * (x[k] - x[: k + 1])) ** (-exponent)) for k in idx])
