"""Exact expected excess loss of online SGD on a quadratic with Gaussian features (``plrf.md`` §2).

SGD step (``conventions.md``): w ← w − (η_t/B_t) Σ_batch x (x·w − y), x ~ N(0, diag λ) in the eigenbasis,
y = w*·x + ε, ε ~ N(0, σ²). With e = w − w* and fresh samples each step, the second moments
c_k(t) = E e_k(t)² obey exactly (Gaussian fourth moments; a closed recursion of O(N) per step)

    c_k(t+1) = c_k(t)·[(1 − η_t λ_k)² + η_t² λ_k²/B_t] + (η_t²/B_t) λ_k L_t,
    L_t = σ² + δ_N + Σ_j λ_j c_j(t),

with c_k(0) = w*_k² (zero initialisation, ``spectrum.target``). The untrained tail δ_N (``spectrum.tail``:
modes beyond N, or the part of the target outside the random-feature span) acts as label noise, σ² → σ² + δ_N.

Heavy-ball momentum μ_t (v ← μ_t v + g, w ← w − η_t v, v(0) = 0) needs per mode the three second moments
C = E e², R = E e·v, V = E v². With G_k = E g_k² = ((B+1)/B) λ_k² C_k + (λ_k/B) L_t:

    V' = μ² V + 2μ λ R + G,    R' = μ R + λ C − η V',    C' = C − 2η (μ R + λ C) + η² V'.

μ = 0 gives back the SGD recursion (C' = C − 2ηλC + η²G).

Outputs (:class:`LossCurve`), all in excess-loss units Σλc (+ tail), no ½:

- ``loss[t]`` = Σ_k λ_k c_k(t) + δ_N, for t = 0 … T (step 0 is the initial loss);
- ``bias[t]`` = Σ_k λ_k (E w_k(t) − w*_k)², the deterministic mean recursion m ← (1 − ηλ) m (momentum:
  u ← μu + λm, m ← m − ηu), i.e. the loss gradient descent (B = ∞, σ = 0) would have;
- ``variance[t]`` = Σ_k λ_k Var w_k(t) = loss − bias − tail: everything driven by the label noise σ² (+ δ_N)
  and by the SGD sampling noise of the gradient; it is zero at t = 0 and stays zero when B = ∞.

The engine tracks the squared means and the variances separately (centred moments), so bias and variance
are each accurate even when one is much smaller than the other.

Engines: the numba kernels of :mod:`lrwb.numerics.dynamics.numba_kernels` (one fused loop per schedule) when numba is
installed, otherwise a vectorised NumPy loop over steps on (S, N) arrays; ``backend=`` picks one. The
high-precision twin is :func:`lrwb.numerics.dynamics.highprec.expected_loss_mp`.

Divergence: a schedule whose excess loss becomes non-finite or exceeds ``DIVERGENCE_FACTOR`` × (initial
loss + σ²) has diverged (SGD divergence is exponential, so the factor only shifts the reported step by a
few steps). A single schedule raises :class:`lrwb.numerics.stability.DivergenceError`; with
``on_divergence="flag"`` the curve is flagged and filled with +inf from that step on (never NaN).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from lrwb.numerics.dynamics import numba_kernels as _kernels
from lrwb.numerics.schedules import Schedule, check_learning_rates, schedule_matrix
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import (
    DivergenceError,
    UnstableLearningRateError,  # noqa: F401  (re-exported: raised by expected_loss)
    check_learning_rates as _check_stability,
    momentum_renewal_norm,
    momentum_stability_bound,
    stability_bound as _sgd_stability_bound,
)

__all__ = [
    "LossCurve",
    "ModeHistory",
    "expected_loss",
    "momentum_renewal_norm",
    "momentum_stability_bound",
    "run_stability_bound",
    "DIVERGENCE_FACTOR",
    "HAVE_NUMBA",
    "BACKENDS",
]

HAVE_NUMBA = _kernels.HAVE_NUMBA
BACKENDS = ("auto", "numba", "numpy", "torch")

#: A schedule has diverged once its excess loss exceeds this multiple of (initial loss + σ²) (or is not
#: finite). A stable run stays below L_0/(1 − ‖K‖₁) + σ²-driven terms, many orders of magnitude lower.
DIVERGENCE_FACTOR = 1e10

# When μ_t takes more distinct values than this, the run's stability bound is taken over this many
# quantiles of μ_t (an approximation, documented in run_stability_bound).
_MAX_MOMENTUM_VALUES = 64


# ----------------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModeHistory:
    """Per-mode moments at every step, shape (…, T+1, N) (only with ``record_modes=True``).

    Attributes:
        second_moment: C_k(t) = E e_k², e = w − w*.
        squared_mean: (E e_k)², whose λ-weighted sum is the bias.
        cross_moment: R_k(t) = E e_k v_k (momentum runs only, else ``None``).
        velocity_moment: V_k(t) = E v_k² (momentum runs only, else ``None``).
    """

    second_moment: np.ndarray
    squared_mean: np.ndarray
    cross_moment: np.ndarray | None = None
    velocity_moment: np.ndarray | None = None


@dataclass(frozen=True)
class LossCurve:
    """Expected excess-loss curve(s) of SGD (see the module docstring for the formulas).

    Shapes: one schedule → lr (T,), loss (T+1,); a batch of S schedules → lr (S, T), loss (S, T+1).

    Attributes:
        lr: η_t, t = 0 … T−1 (η_t is used for the step t → t+1).
        loss: excess loss Σλc + tail at t = 0 … T (+inf from the divergence step of a flagged schedule).
        bias: Σλ_k (E w_k − w*_k)² (``None`` when computed with ``parts=False``).
        variance: loss − bias − tail = Σλ_k Var w_k (label and SGD noise; ``None`` with ``parts=False``).
        tail: δ_N, the constant approximation error included in ``loss``.
        diverged: whether each schedule blew up (bool, or (S,) bool array for a batch).
        diverged_step: the first index t of ``loss`` that blew up (``None``/−1 when it did not).
        stability_bound: the smallest constant-LR stability bound over the (B_t, μ_t) the run uses
            (two-part bound of ``conventions.md``; :func:`run_stability_bound`).
        modes: per-mode moments at every step (only with ``record_modes=True``).
        digits: significant decimal digits of the arithmetic (``None`` = float64; set by the
            high-precision twin :func:`lrwb.numerics.dynamics.highprec.expected_loss_mp`).
        mp_values: the twin's high-precision numbers (``Decimal`` or ``mpf``) with ``keep_values=True``:
            dict of lists keyed ``"loss"``, ``"bias"``, ``"variance"``.
        warning: set when some step's η_t is above the stability bound of its (B_t, μ_t) (a run with
            ``allow_unstable=True``, or any ``on_divergence="flag"`` run): the first such step, η, the bound
            and the failing condition (:func:`lrwb.numerics.stability.check_learning_rates`); ``None`` otherwise.
    """

    lr: np.ndarray
    loss: np.ndarray
    bias: np.ndarray | None
    variance: np.ndarray | None
    tail: float
    diverged: bool | np.ndarray
    diverged_step: int | None | np.ndarray
    stability_bound: float
    modes: ModeHistory | None = None
    digits: int | None = None
    mp_values: dict | None = None
    warning: str | None = None

    @property
    def steps(self) -> int:
        """Horizon T."""
        return self.lr.shape[-1]

    @property
    def final_loss(self):
        """loss at t = T (float, or (S,) array for a batch)."""
        last = self.loss[..., -1]
        return float(last) if np.ndim(last) == 0 else last


# ----------------------------------------------------------------------------------------------------------
# Stability bound with momentum and batch
# ----------------------------------------------------------------------------------------------------------


# momentum_renewal_norm and momentum_stability_bound live in lrwb.numerics.stability (derivation there) and are
# re-exported here under their old names.


def run_stability_bound(eigenvalues, batch, momentum) -> float:
    """The smallest constant-LR stability bound over the (B_t, μ_t) pairs a run uses.

    The bound grows with B (less noise), so for each distinct μ only the smallest B with it matters. Without
    momentum this is ``stability_bound(eigenvalues, min B_t)`` (:mod:`lrwb.numerics.stability`; 2/λ_max for
    B = ∞). When μ_t takes more than 64 distinct values, the minimum is taken over 64 quantiles of μ_t
    (each with the smallest B overall) — an approximation. Results are cached (a bisection costs ~2 ms,
    more than a short run of the engines).
    """
    lam = np.ascontiguousarray(eigenvalues, dtype=float)
    batch = np.asarray(batch, dtype=float)
    momentum = np.asarray(momentum, dtype=float)
    b_min = float(batch.min())
    if not np.any(momentum):
        return _cached_bound(lam.tobytes(), (b_min,), (0.0,))
    batch, momentum = (a.ravel() for a in np.broadcast_arrays(batch, momentum))
    values = np.unique(momentum)
    if values.size > _MAX_MOMENTUM_VALUES:
        values = np.unique(np.quantile(momentum, np.linspace(0.0, 1.0, _MAX_MOMENTUM_VALUES)))
        batches = np.full(values.shape, b_min)
    else:
        batches = np.array([batch[momentum == v].min() for v in values])
    return _cached_bound(lam.tobytes(), tuple(batches.tolist()), tuple(values.tolist()))


@functools.lru_cache(maxsize=256)
def _cached_bound(lam_bytes: bytes, batches: tuple, momenta: tuple) -> float:
    lam = np.frombuffer(lam_bytes, dtype=float)
    if momenta == (0.0,):
        if np.isinf(batches[0]):
            return float(2.0 / lam.max())
        return float(_sgd_stability_bound(lam, batches[0]))
    return float(np.min(momentum_stability_bound(lam, np.array(batches), np.array(momenta))))


# ----------------------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------------------


def _is_schedule_like(obj) -> bool:
    return isinstance(obj, (Schedule, str)) or callable(getattr(obj, "values", None))


def _learning_rates(lr, steps) -> tuple[np.ndarray, bool]:
    """(lr as a C-contiguous (S, T) float64 copy, whether the input was one schedule)."""
    if _is_schedule_like(lr) or (isinstance(lr, (list, tuple)) and lr and all(_is_schedule_like(x) for x in lr)):
        if steps is None:
            raise ValueError("steps (the horizon T) is required when lr is a schedule or a list of schedules")
        single = _is_schedule_like(lr)
        if single and not isinstance(lr, (Schedule, str)):
            matrix = np.asarray(lr.values(int(steps)), dtype=float)[None, :]
        else:
            matrix = schedule_matrix(lr, int(steps))
        arr = matrix
    else:
        arr = np.asarray(lr, dtype=float)
        single = arr.ndim == 1
        if arr.ndim not in (1, 2):
            raise ValueError(f"lr must have shape (T,) or (S, T), got shape {arr.shape}")
        if steps is not None and arr.shape[-1] != steps:
            raise ValueError(f"lr has {arr.shape[-1]} steps but steps = {steps}")
    check_learning_rates(arr[0] if single and arr.ndim == 2 else arr)
    arr = np.array(np.atleast_2d(arr), dtype=np.float64, order="C")
    if arr.shape[-1] < 1 or arr.shape[0] < 1:
        raise ValueError(f"lr must hold at least one schedule of at least one step, got shape {arr.shape}")
    return arr, single


def _per_step(name: str, value, shape: tuple[int, int], single: bool) -> np.ndarray:
    """``value`` (scalar, (T,) or (S, T)) broadcast to (S, T) as a read-only view (no copy)."""
    arr = np.asarray(value, dtype=float)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        expected = "a scalar or shape (T,)" if single else "a scalar, shape (T,) or (S, T)"
        raise ValueError(f"{name} must be {expected} with T = {shape[1]}, got shape {arr.shape}") from None


def _first_bad(arr: np.ndarray, bad: np.ndarray, single: bool) -> str:
    s, t = (int(i) for i in np.argwhere(bad)[0])
    where = f"step {t}" if single else f"schedule {s}, step {t}"
    return f"{float(arr[s, t])!r} at {where}"


def _check_batch(batch: np.ndarray, single: bool) -> None:
    bad = ~(batch >= 1)  # NaN fails too; +inf (exact gradients) is allowed
    if bad.any():
        raise ValueError(f"batch size B = {_first_bad(batch, bad, single)} is outside its range: "
                         "B must be >= 1 (inf for exact gradients)")


def _check_momentum(momentum: np.ndarray, single: bool) -> None:
    bad = ~((momentum >= 0) & (momentum < 1))
    if bad.any():
        raise ValueError(f"momentum μ = {_first_bad(momentum, bad, single)} is outside its range [0, 1)")


def _check_sigma(sigma) -> float:
    sigma = float(sigma)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma = {sigma!r} must be finite and >= 0")
    return sigma


@dataclass(frozen=True)
class _Problem:
    """Checked inputs shared by the float64 engine and the mpmath twin."""

    eigenvalues: np.ndarray
    target: np.ndarray
    tail: float
    sigma: float
    lr: np.ndarray          # (S, T), C-contiguous
    batch: np.ndarray       # (S, T) read-only view
    inv_batch: np.ndarray   # 1/B, (S, T) read-only view (0 for B = ∞)
    momentum: np.ndarray    # (S, T) read-only view
    single: bool
    has_momentum: bool
    warning: str | None = None  # set when some step is above the stability bound (allowed or flag mode)

    @property
    def noise(self) -> float:
        """σ² + δ_N: label noise including the untrained tail."""
        return self.sigma**2 + self.tail

    @property
    def threshold(self) -> float:
        """Excess loss (without tail) above which a schedule counts as diverged."""
        scale = float(self.eigenvalues @ self.target) + self.tail + self.sigma**2
        return DIVERGENCE_FACTOR * scale if scale > 0 else np.inf


def _prepare(spectrum: Spectrum, lr, sigma, batch, momentum, steps, on_divergence, allow_unstable=False) -> _Problem:
    if not isinstance(spectrum, Spectrum):
        raise ValueError(f"spectrum must be a lrwb.numerics.spectra.Spectrum, got {type(spectrum).__name__}")
    if on_divergence not in ("raise", "flag"):
        raise ValueError(f"on_divergence = {on_divergence!r} must be 'raise' or 'flag'")
    lr_arr, single = _learning_rates(lr, steps)
    batch_arr = _per_step("batch", batch, lr_arr.shape, single)
    momentum_arr = _per_step("momentum", momentum, lr_arr.shape, single)
    _check_batch(batch_arr, single)
    _check_momentum(momentum_arr, single)
    # 1/B from the un-broadcast input, so a scalar batch costs no (S, T) array.
    inv_batch = np.broadcast_to(1.0 / np.asarray(batch, dtype=float), lr_arr.shape)
    # Every step's η_t against the true bound of its (B_t, μ_t), before any work (lrwb.numerics.stability). A single
    # run raises UnstableLearningRateError unless allowed; "flag" (sweeps, solvers) never raises but says so.
    batch_in, momentum_in = (np.asarray(x, dtype=float) for x in (batch, momentum))
    warning = _check_stability(lr_arr[0] if single else lr_arr, spectrum.eigenvalues,
                               batch_in if batch_in.ndim == 0 else batch_arr[0] if single else batch_arr,
                               momentum_in if momentum_in.ndim == 0 else momentum_arr[0] if single else momentum_arr,
                               allow_unstable=allow_unstable or on_divergence == "flag", single=single)
    return _Problem(
        eigenvalues=spectrum.eigenvalues,
        target=spectrum.target,
        tail=float(spectrum.tail),
        sigma=_check_sigma(sigma),
        lr=lr_arr,
        batch=batch_arr,
        inv_batch=inv_batch,
        momentum=momentum_arr,
        single=single,
        has_momentum=bool(np.any(momentum_arr)),
        warning=warning,
    )


# ----------------------------------------------------------------------------------------------------------
# NumPy engines (vectorised over schedules: per-step operations on (S, N) arrays). Same formulas, in the
# same order, as the numba kernels of lrwb.numerics.dynamics.numba_kernels.
# ----------------------------------------------------------------------------------------------------------


def _first_blowup(total: np.ndarray, threshold: float) -> np.ndarray:
    """Per schedule, the first index t with total[t] non-finite or above ``threshold`` (−1 if none)."""
    bad = ~(total <= threshold)  # True for NaN too
    return np.where(bad.any(axis=1), bad.argmax(axis=1), -1).astype(np.int64)


def _fill_after(diverged_step: np.ndarray, *arrays) -> None:
    """+inf from each schedule's divergence step on (axis 1 is the step axis)."""
    for s in np.flatnonzero(diverged_step >= 0):
        for arr in arrays:
            if arr is not None:
                arr[s, diverged_step[s]:] = np.inf


# Rows are independent, so a blown-up schedule is left to run to inf/NaN (warnings silenced) and is
# found and overwritten with +inf after the loop: no per-step bookkeeping in the hot loop.


def _sgd_parts_numpy(lam, lam2, squared_mean0, lr, inv_batch, noise, threshold, record):
    n_sched, n_steps = lr.shape
    shape = (n_sched, lam.size)
    sq_mean = np.broadcast_to(squared_mean0, shape).copy()
    var = np.zeros(shape)
    bias = np.empty((n_sched, n_steps + 1))
    variance = np.empty((n_sched, n_steps + 1))
    hist = (np.empty((n_sched, n_steps + 1, lam.size)), np.empty((n_sched, n_steps + 1, lam.size))) if record else None
    bias[:, 0] = sq_mean @ lam
    variance[:, 0] = 0.0
    if record:
        hist[0][:, 0] = sq_mean
        hist[1][:, 0] = sq_mean
    u2, work, tmp = np.empty(shape), np.empty(shape), np.empty(shape)
    total = bias[:, :1] + variance[:, :1]
    with np.errstate(over="ignore", invalid="ignore"):
        eta_steps = np.ascontiguousarray(lr.T)[:, :, None]                 # (T, S, 1)
        r_steps = np.ascontiguousarray((lr * lr * inv_batch).T)[:, :, None]  # η²/B
        for t in range(n_steps):
            r = r_steps[t]
            q = r * (noise + total)
            np.multiply(eta_steps[t], lam, out=u2)   # u² = (1 − ηλ)²
            np.subtract(1.0, u2, out=u2)
            np.square(u2, out=u2)
            np.add(var, sq_mean, out=work)           # r λ² (v + p) + q λ
            np.multiply(r, lam2, out=tmp)
            work *= tmp
            np.multiply(q, lam, out=tmp)
            work += tmp
            var *= u2                                # v ← u² v + (…)
            var += work
            sq_mean *= u2                            # p ← u² p
            sb = bias[:, t + 1] = sq_mean @ lam
            sv = variance[:, t + 1] = var @ lam
            total = (sb + sv)[:, None]
            if record:
                hist[0][:, t + 1] = var + sq_mean
                hist[1][:, t + 1] = sq_mean
    diverged_step = _first_blowup(bias + variance, threshold)
    _fill_after(diverged_step, bias, variance, *(hist or ()))
    return bias, variance, diverged_step, hist


def _sgd_loss_numpy(lam, lam2, second0, lr, inv_batch, noise, threshold):
    n_sched, n_steps = lr.shape
    shape = (n_sched, lam.size)
    second = np.broadcast_to(second0, shape).copy()
    loss = np.empty((n_sched, n_steps + 1))
    loss[:, 0] = second @ lam
    work = np.empty(shape)
    total = loss[:, :1]
    with np.errstate(over="ignore", invalid="ignore"):
        alpha_steps = np.ascontiguousarray(-2.0 * lr.T)[:, :, None]                      # (T, S, 1)
        r_steps = np.ascontiguousarray((lr * lr * inv_batch).T)[:, :, None]             # η²/B
        beta_steps = np.ascontiguousarray((lr * lr).T)[:, :, None] + r_steps            # η²(1 + 1/B)
        for t in range(n_steps):
            q = r_steps[t] * (noise + total)
            np.multiply(beta_steps[t], lam, out=work)   # c ← c + λ [c (α + βλ) + q]
            work += alpha_steps[t]
            work *= second
            work += q
            work *= lam
            second += work
            loss[:, t + 1] = second @ lam
            total = loss[:, t + 1 : t + 2]
    diverged_step = _first_blowup(loss, threshold)
    _fill_after(diverged_step, loss)
    return loss, diverged_step


def _momentum_numpy(lam, lam2, mean0, lr, inv_batch, momentum, noise, threshold, record):
    n_sched, n_steps = lr.shape
    shape = (n_sched, lam.size)
    mean_e = np.broadcast_to(mean0, shape).copy()
    mean_v = np.zeros(shape)
    var_e = np.zeros(shape)
    cov_ev = np.zeros(shape)
    var_v = np.zeros(shape)
    bias = np.empty((n_sched, n_steps + 1))
    variance = np.empty((n_sched, n_steps + 1))
    hist = tuple(np.empty((n_sched, n_steps + 1, lam.size)) for _ in range(4)) if record else None
    bias[:, 0] = (mean_e * mean_e) @ lam
    variance[:, 0] = 0.0
    if record:
        hist[0][:, 0] = mean_e * mean_e
        hist[1][:, 0] = mean_e * mean_e
        hist[2][:, 0] = 0.0
        hist[3][:, 0] = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            eta = lr[:, t : t + 1]
            mu = momentum[:, t : t + 1]
            ib = inv_batch[:, t : t + 1]
            shared = ib * (noise + bias[:, t : t + 1] + variance[:, t : t + 1])
            u_new = mu * mean_v + lam * mean_e
            m_new = mean_e - eta * u_new
            grad_noise = ib * lam2 * (var_e + mean_e * mean_e) + lam * shared
            v_new = mu * mu * var_v + 2.0 * mu * lam * cov_ev + lam2 * var_e + grad_noise
            r_new = mu * cov_ev + lam * var_e - eta * v_new
            c_new = var_e - 2.0 * eta * (mu * cov_ev + lam * var_e) + eta * eta * v_new
            mean_v, mean_e, var_v, cov_ev, var_e = u_new, m_new, v_new, r_new, c_new
            bias[:, t + 1] = (mean_e * mean_e) @ lam
            variance[:, t + 1] = var_e @ lam
            if record:
                hist[0][:, t + 1] = var_e + mean_e * mean_e
                hist[1][:, t + 1] = mean_e * mean_e
                hist[2][:, t + 1] = cov_ev + mean_e * mean_v
                hist[3][:, t + 1] = var_v + mean_v * mean_v
    diverged_step = _first_blowup(bias + variance, threshold)
    _fill_after(diverged_step, bias, variance, *(hist or ()))
    return bias, variance, diverged_step, hist


# ----------------------------------------------------------------------------------------------------------
# numba dispatch (state arrays are allocated here, so tracemalloc sees all memory)
# ----------------------------------------------------------------------------------------------------------


#: Mode-steps per compiled call (≈ 0.03–0.2 s): Python sees Ctrl-C only between calls, so a long run is cut
#: into chunks of this much work (whole schedules grouped when small, else step ranges of one schedule).
CHUNK_MODE_STEPS = 1 << 25


def _run_in_chunks(kernel, per_schedule: tuple, shared: tuple, n_sched: int, n_steps: int, n_modes: int,
                   diverged_step: np.ndarray, carry_size: int = 2) -> None:
    """Call ``kernel(*shared_head, *per_schedule[s0:s1] ..., t_begin, t_end, carry)`` over chunks.

    ``per_schedule`` holds (position, array) pairs of the arguments indexed by schedule (sliced per chunk);
    ``shared`` the full argument tuple with those positions to be replaced."""
    per_call = max(1, CHUNK_MODE_STEPS // max(n_modes, 1))

    def call(rows: slice, t_begin: int, t_end: int, carry: np.ndarray) -> None:
        args = list(shared)
        for position, array in per_schedule:
            args[position] = array[rows]
        kernel(*args, t_begin, t_end, carry)

    if n_steps <= per_call:  # whole schedules, grouped so that each call does about per_call mode-steps
        group = max(1, per_call // max(n_steps, 1))
        for s0 in range(0, n_sched, group):
            call(slice(s0, s0 + group), 0, n_steps, np.zeros(carry_size))
        return
    for s in range(n_sched):  # one schedule in step ranges, its state carried from call to call
        carry = np.zeros(carry_size)
        for t0 in range(0, n_steps, per_call):
            call(slice(s, s + 1), t0, min(t0 + per_call, n_steps), carry)
            if diverged_step[s] >= 0:
                break


def _sgd_parts_numba(lam, lam2, squared_mean0, lr, inv_batch, noise, threshold, record):
    n_sched, n_steps = lr.shape
    n = lam.size
    bias = np.empty((n_sched, n_steps + 1))
    variance = np.empty((n_sched, n_steps + 1))
    diverged_step = np.empty(n_sched, dtype=np.int64)
    hist_shape = (n_sched, n_steps + 1, n) if record else (0, 0, 0)
    hist = (np.empty(hist_shape), np.empty(hist_shape))
    args = (lam, lam2, squared_mean0, lr, inv_batch, float(noise), float(threshold),
            bias, variance, diverged_step, np.empty(n), np.empty(n), bool(record), *hist)
    rows = [(3, lr), (4, inv_batch), (7, bias), (8, variance), (9, diverged_step)]
    rows += [(13, hist[0]), (14, hist[1])] if record else []
    _run_in_chunks(_kernels.sgd_parts_kernel, rows, args, n_sched, n_steps, n, diverged_step)
    return bias, variance, diverged_step, hist if record else None


def _sgd_loss_numba(lam, lam2, second0, lr, inv_batch, noise, threshold):
    n_sched, n_steps = lr.shape
    loss = np.empty((n_sched, n_steps + 1))
    diverged_step = np.empty(n_sched, dtype=np.int64)
    args = (lam, lam2, second0, lr, inv_batch, float(noise), float(threshold), loss, diverged_step,
            np.empty(lam.size))
    rows = [(3, lr), (4, inv_batch), (7, loss), (8, diverged_step)]
    _run_in_chunks(_kernels.sgd_loss_kernel, rows, args, n_sched, n_steps, lam.size, diverged_step)
    return loss, diverged_step


def _momentum_numba(lam, lam2, mean0, lr, inv_batch, momentum, noise, threshold, record):
    n_sched, n_steps = lr.shape
    n = lam.size
    bias = np.empty((n_sched, n_steps + 1))
    variance = np.empty((n_sched, n_steps + 1))
    diverged_step = np.empty(n_sched, dtype=np.int64)
    hist_shape = (n_sched, n_steps + 1, n) if record else (0, 0, 0)
    hist = tuple(np.empty(hist_shape) for _ in range(4))
    state = tuple(np.empty(n) for _ in range(5))
    args = (lam, lam2, mean0, lr, inv_batch, momentum, float(noise), float(threshold),
            bias, variance, diverged_step, *state, bool(record), *hist)
    rows = [(3, lr), (4, inv_batch), (5, momentum), (8, bias), (9, variance), (10, diverged_step)]
    rows += [(17 + k, hist[k]) for k in range(4)] if record else []
    _run_in_chunks(_kernels.momentum_kernel, rows, args, n_sched, n_steps, n, diverged_step)
    return bias, variance, diverged_step, hist if record else None


def _pick_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend = {backend!r} must be one of {', '.join(BACKENDS)}")
    if backend == "numba" and not HAVE_NUMBA:
        raise ValueError("backend = 'numba' needs numba (pip install 'lr-workbench[fast]')")
    if backend == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    return backend


# ----------------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------------


def _divergence_message(problem: _Problem, s: int, t: int, bound: float) -> str:
    """Name the step, the LR/batch/momentum used for it and the stability bound."""
    step = t - 1  # loss[t] is produced by the step t−1 → t
    eta = problem.lr[s, : step + 1].max()
    b_t, mu_t = problem.batch[s, step], problem.momentum[s, step]
    local = momentum_stability_bound(problem.eigenvalues, b_t, mu_t) if mu_t else (
        _sgd_stability_bound(problem.eigenvalues, b_t) if np.isfinite(b_t) else 2.0 / problem.eigenvalues.max())
    which = "" if problem.single else f"schedule {s}: "
    what = f"is not finite or exceeds {DIVERGENCE_FACTOR:.0e} × (initial loss + σ²)"
    hyper = f"B = {b_t:g}" + (f", μ = {mu_t:g}" if problem.has_momentum else "")
    overall = "" if abs(local - bound) <= 1e-9 * bound else f"; smallest bound over the run: η < {bound:.6g}"
    return (f"{which}expected loss diverged at step {t}: excess loss {what}; largest learning rate so far "
            f"η = {eta:.6g}; stability bound η < {local:.6g} for {hyper} (two-part bound: every g_k < 1 and "
            f"‖K‖₁ < 1){overall}")


def expected_loss(
    spectrum: Spectrum,
    lr,
    *,
    sigma: float = 0.5,
    batch=5,
    momentum=0.0,
    steps: int | None = None,
    parts: bool = True,
    record_modes: bool = False,
    on_divergence: str = "raise",
    backend: str = "auto",
    device: str = "cpu",
    dtype: str = "float64",
    allow_unstable: bool = False,
) -> LossCurve:
    """Exact expected excess loss of online SGD (Gaussian features), batched over schedules.

    Args:
        spectrum: eigenvalues λ_k, initial second moments c_k(0) and tail δ_N (:mod:`lrwb.numerics.spectra`).
        lr: η_t as an array (T,) or a batch (S, T); or a :class:`~lrwb.numerics.schedules.Schedule`, a spec string
            (``"cosine:1,0"``) or a list of them, evaluated at ``steps``.
        sigma: label-noise standard deviation σ ≥ 0.
        batch: B ≥ 1, scalar or per step ((T,) or (S, T)); ``inf`` means exact gradients.
        momentum: heavy-ball μ ∈ [0, 1), scalar or per step.
        steps: horizon T (needed when ``lr`` is a schedule).
        parts: compute the bias/variance split (about 2× the cost of the loss alone, plain SGD).
        record_modes: also return the per-mode moments at every step (memory ∝ S·T·N).
        on_divergence: ``"raise"`` (DivergenceError naming the step and the stability bound) or ``"flag"``
            (mark the schedule, fill its curve with +inf from the divergence step on).
        backend: ``"auto"`` (numba when installed), ``"numba"``, ``"numpy"`` or ``"torch"`` (plain SGD, loss
            only: needs ``parts=False`` and no momentum; see :mod:`lrwb.numerics.dynamics.torch_engine`).
        device, dtype: for ``backend="torch"`` only: ``"cpu"``/``"cuda"`` (CPU fallback with a warning) and
            ``"float64"``/``"float32"``.
        allow_unstable: run even when some η_t is above the stability bound of its (B_t, μ_t) (the curve's
            ``warning`` says so). Default: such a run raises
            :class:`lrwb.numerics.stability.UnstableLearningRateError` up front, naming the step, η, the bound and the
            failing condition. ``on_divergence="flag"`` never raises on it (sweeps and solvers see the finite
            curve or the flagged blow-up) but sets ``warning``.

    Memory: O(S·T) for the curves plus O(N) state per schedule; O(S·T·N) only with ``record_modes``.
    """
    problem = _prepare(spectrum, lr, sigma, batch, momentum, steps, on_divergence, allow_unstable)
    from lrwb.numerics import resources

    n_sched, n_steps = problem.lr.shape
    resources.check_memory(resources.dynamics_bytes(n_sched, n_steps, problem.eigenvalues.size, parts=parts,
                                                    record_modes=record_modes, momentum=problem.has_momentum),
                           f"the expected loss of {n_sched} schedule(s) × T = {n_steps} steps × N = "
                           f"{problem.eigenvalues.size} modes" + (" with record_modes" if record_modes else ""))
    engine = _pick_backend(backend)
    lam = np.ascontiguousarray(problem.eigenvalues)
    lam2 = lam * lam
    c0 = np.ascontiguousarray(problem.target)
    inv_batch = problem.inv_batch
    noise, threshold = problem.noise, problem.threshold
    modes = None
    if engine == "torch":
        if problem.has_momentum or parts or record_modes:
            raise ValueError("backend = 'torch' computes the loss of plain SGD only: pass parts=False, momentum=0 "
                             "and record_modes=False (or use backend='numba'/'numpy')")
        from lrwb.numerics.dynamics.torch_engine import sgd_loss_torch

        excess, diverged_step = sgd_loss_torch(lam, c0, problem.lr, np.asarray(inv_batch), noise, threshold,
                                               device=device, dtype=dtype)
        bias = variance = None
    elif problem.has_momentum:
        mean0 = -np.sqrt(c0)  # e(0) = 0 − w*
        run = _momentum_numba if engine == "numba" else _momentum_numpy
        bias, variance, diverged_step, hist = run(lam, lam2, mean0, problem.lr, inv_batch, problem.momentum,
                                                  noise, threshold, record_modes)
        if record_modes:
            modes = ModeHistory(*hist)
    elif parts or record_modes:
        run = _sgd_parts_numba if engine == "numba" else _sgd_parts_numpy
        bias, variance, diverged_step, hist = run(lam, lam2, c0, problem.lr, inv_batch, noise, threshold, record_modes)
        if record_modes:
            modes = ModeHistory(*hist)
    else:
        run = _sgd_loss_numba if engine == "numba" else _sgd_loss_numpy
        excess, diverged_step = run(lam, lam2, c0, problem.lr, inv_batch, noise, threshold)
        bias = variance = None
    loss = (bias + variance if bias is not None else excess) + problem.tail
    if bias is not None and not parts:
        bias = variance = None
    bound = run_stability_bound(lam, problem.batch, problem.momentum)
    diverged = diverged_step >= 0
    if diverged.any() and on_divergence == "raise":
        s = int(np.flatnonzero(diverged)[0])
        t = int(diverged_step[s])
        raise DivergenceError(_divergence_message(problem, s, t, bound), step=t, bound=bound)
    return _assemble(problem, loss, bias, variance, diverged_step, bound, modes)


def _assemble(problem: _Problem, loss, bias, variance, diverged_step, bound, modes, *, digits=None, mp_values=None):
    """Squeeze the schedule axis for a single schedule and build the LossCurve."""
    if problem.single:
        first = lambda a: None if a is None else a[0]  # noqa: E731
        step = int(diverged_step[0])
        if modes is not None:
            modes = ModeHistory(*(first(getattr(modes, f)) for f in ("second_moment", "squared_mean",
                                                                      "cross_moment", "velocity_moment")))
        return LossCurve(lr=problem.lr[0], loss=loss[0], bias=first(bias), variance=first(variance),
                         tail=problem.tail, diverged=step >= 0, diverged_step=step if step >= 0 else None,
                         stability_bound=bound, modes=modes, digits=digits, mp_values=mp_values,
                         warning=problem.warning)
    return LossCurve(lr=problem.lr, loss=loss, bias=bias, variance=variance, tail=problem.tail,
                     diverged=diverged_step >= 0, diverged_step=diverged_step, stability_bound=bound,
                     modes=modes, digits=digits, mp_values=mp_values, warning=problem.warning)
