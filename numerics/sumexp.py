"""Power-law kernels as sums of exponentials, and the O(K·Q) recursive convolution they allow.

Why: every loss-curve law (and the FSL engine) needs memory sums Σ_{i≤k} w_i G(X_k − X_i) with a power-law
kernel G(x) = (1 + c·x)^{−γ}. Done directly that is O(K²). Writing G as Q exponentials turns it into Q
first-order recursions, O(K·Q).

The representation is the Laplace integral of the power law in the log variable v = log u:

    (1 + c x)^{−γ} = (1/Γ(γ)) ∫_0^∞ u^{γ−1} e^{−u} e^{−u c x} du
                   = (1/Γ(γ)) ∫_{−∞}^{∞} e^{γ v − e^v} e^{−c e^v x} dv,

discretised by the trapezoid rule on v_j = v_min + j·h (the integrand is analytic in the strip |Im v| < π/2
and decays double-exponentially for v → +∞, so the rule converges like e^{−π²/h}). The part v < v_min,
where c e^v x_max ≤ tol, is lumped into one constant term (rate 0): the trapezoid nodes below v_min summed
as a geometric series (≈ e^{γ v_min}/Γ(γ + 1)); its error is ≲ tol times that weight. So

    (1 + c x)^{−γ} ≈ Σ_j w_j e^{−r_j x},   r_j = c e^{v_j},  w_j = h e^{γ v_j − e^{v_j}}/Γ(γ)  (+ the lump),

with an absolute error ≲ tol on 0 ≤ x ≤ x_max, measured and stored (``max_abs_error``) on a log grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

try:  # optional compiled recursion; the NumPy loop below is the fallback
    import numba as _numba
except ImportError:  # pragma: no cover - exercised only without numba
    _numba = None

DEFAULT_TOL = 1e-10


@dataclass(frozen=True)
class ExponentialSum:
    """G(x) ≈ Σ_j weights_j · exp(−rates_j · x) on 0 ≤ x ≤ x_max (absolute error ``max_abs_error``).

    ``log_nodes`` are the quadrature nodes v_j (rate_j = scale·e^{v_j}); the last node may be the lump
    (rate 0, ``log_nodes`` = v_min) — it is flagged by ``is_lump``.
    """

    weights: np.ndarray
    rates: np.ndarray
    log_nodes: np.ndarray
    is_lump: np.ndarray
    exponent: float
    scale: float
    x_max: float
    step: float
    max_abs_error: float

    @property
    def q(self) -> int:
        return int(self.weights.size)

    def __call__(self, x) -> np.ndarray:
        """Σ_j w_j e^{−r_j x} at the points x (any shape)."""
        x = np.asarray(x, dtype=float)
        return np.exp(-np.multiply.outer(x, self.rates)) @ self.weights


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
    """Trapezoid weights h·e^{γv − e^v}/Γ(γ) on ``nodes`` plus the lump (last entry): the trapezoid nodes
    below v_min summed as a geometric series, h·e^{γ(v_min − h)}/(Γ(γ)(1 − e^{−γh})) (≈ e^{γ v_min}/Γ(γ+1)).
    """
    log_w = math.log(h) + exponent * nodes - np.exp(nodes) - gammaln(exponent)
    w = np.exp(log_w)
    # the bi-infinite trapezoid sum's nodes below v_min, where e^{−e^v} = 1 to within e^{v} ≤ tol: a
    # geometric series h·Σ_{j≥1} e^{γ(v_min − j h)}/Γ(γ)
    lump = h * math.exp(exponent * (v_min - h) - gammaln(exponent)) / (-math.expm1(-exponent * h))
    return np.append(w, lump)


def power_law_as_exponentials(exponent: float, scale: float, q: int | None = None, x_max: float = 1.0, *,
                              tol: float = DEFAULT_TOL) -> ExponentialSum:
    """(1 + scale·x)^{−exponent} ≈ Σ_j w_j e^{−r_j x} on [0, x_max] (see the module docstring).

    ``q`` fixes the number of terms (lump included); by default it follows from ``tol`` (absolute error).
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
    return ExponentialSum(weights, rates, np.append(nodes, v_min), lump, float(exponent), float(scale),
                          float(x_max), float(h), err)


# ----------------------------------------------------------------------------------------------------------
# the recursion


def _decayed_sums_py(increments, rates, sources, out_index, lagged):
    """H[o, m, j] = Σ_{i ≤ k_o} sources[i, m] · exp(−rates_j (X_{k_o} − X_i)) (X_{i−1} if ``lagged``).

    X_k − X_{k−1} = increments[k]. Recursion: H(k) = H(k−1)·e^{−r Δ_k} + s_k (lagged: (H(k−1) + s_k)·e^{−r Δ_k}).
    The decay vector e^{−r Δ_k} is recomputed only when Δ_k changes (constant-LR stretches cost no exp).
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
        if increments[k] != last:
            x0 = -(increments[k] - last)
            if last >= 0.0 and abs(x0) * r_max < 1e-3 and since_exact < 256:
                # slowly varying increments: multiply by e^{−r·ΔΔ} (4th-order Taylor, error ≤ 1e−17 per
                # update, exact refresh every 256 updates)
                for j in range(q):
                    x = rates[j] * x0
                    decay[j] *= 1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0))))
                since_exact += 1
            else:
                for j in range(q):
                    decay[j] = math.exp(-rates[j] * increments[k])
                since_exact = 0
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


if _numba is not None:
    _decayed_sums_kernel = _numba.njit(cache=True, fastmath=False)(_decayed_sums_py)
else:  # pragma: no cover
    def _decayed_sums_kernel(increments, rates, sources, out_index, lagged):
        # NumPy fallback: vectorised over (m, j), a Python loop over k
        n_src, q = sources.shape[1], rates.shape[0]
        out = np.zeros((out_index.shape[0], n_src, q))
        state = np.zeros((n_src, q))
        o = 0
        for k in range(increments.shape[0]):
            if o >= out_index.shape[0]:
                break
            decay = np.exp(-rates * increments[k])
            state = (state + sources[k][:, None]) * decay if lagged else state * decay + sources[k][:, None]
            while o < out_index.shape[0] and out_index[o] == k:
                out[o] = state
                o += 1
        return out


def decayed_sums(increments, rates, sources, out_index=None, *, lagged: bool = False) -> np.ndarray:
    """Per-rate memory sums H[o, m, j] = Σ_{i≤k_o} sources[i, m] e^{−rates_j (X_{k_o} − X_i)} in O(K·Q·M).

    ``increments[k] = X_k − X_{k−1}`` ≥ 0 (X monotone; increments[0] is X_0 − X_{−1}); ``sources`` has shape
    (K,) or (K, M); ``out_index`` (sorted, default all k) picks the rows returned. ``lagged=True`` measures
    each source from X_{i−1} instead of X_i (a source decays already during its own step).
    """
    inc = np.ascontiguousarray(increments, dtype=float)
    if inc.ndim != 1:
        raise ValueError(f"increments must be 1-D, got shape {inc.shape}")
    if not np.all(np.isfinite(inc)) or np.any(inc < 0):
        raise ValueError("increments must be finite and >= 0 (the intrinsic-time grid must be monotone)")
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
