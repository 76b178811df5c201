"""The exact-dynamics problem, checked once: spectrum, learning rates, σ, batch B_t and momentum μ_t.

Every engine (NumPy, numba, torch, high precision) runs the recursion of :mod:`lrwb.numerics.dynamics.expected`
on a :class:`DynamicsProblem`; building one is the only place the inputs are validated:

- η (S, T): finite and ≥ 0 (:func:`lrwb.numerics.schedules.check_learning_rates`);
- σ finite ≥ 0, B_t ≥ 1 (∞ = exact gradients), μ_t ∈ [0, 1) (:mod:`lrwb.numerics.checks`);
- every step's η_t against the stability bound of its (B_t, μ_t) (:func:`lrwb.numerics.stability.check_learning_rates`):
  an unstable step raises :class:`~lrwb.numerics.stability.UnstableLearningRateError` unless allowed, and then
  sets ``warning``.

>>> import numpy as np
>>> from lrwb.numerics.spectra import power_law_spectrum
>>> problem = DynamicsProblem.build(power_law_spectrum(3.5, 2.0, 4), np.full(3, 0.5), sigma=0.5, batch=5)
>>> problem.lr.shape, problem.single, problem.has_momentum, problem.noise
((1, 3), True, False, 0.25)
>>> DynamicsProblem.build(power_law_spectrum(3.5, 2.0, 4), np.full(3, 0.5), batch=0.5)
Traceback (most recent call last):
...
ValueError: batch size B = 0.5 at step 0 is outside its range: B must be >= 1 (inf for exact gradients)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.checks import check_batch, check_momentum, check_sigma
from lrwb.numerics.schedules import Schedule, check_learning_rates, schedule_matrix
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import (
    check_learning_rates as check_stability,
    momentum_stability_bound,
    stability_bound as sgd_stability_bound,
)

__all__ = ["DynamicsProblem", "DIVERGENCE_FACTOR", "run_stability_bound", "check_on_divergence",
           "ON_DIVERGENCE"]

#: A schedule has diverged once its excess loss exceeds this multiple of (initial loss + σ²) (or is not
#: finite). A stable run stays below L_0/(1 − ‖K‖₁) + σ²-driven terms, many orders of magnitude lower.
DIVERGENCE_FACTOR = 1e10

#: What a run does when a schedule diverges: raise DivergenceError, or flag it and fill +inf.
ON_DIVERGENCE = ("raise", "flag")

# When μ_t takes more distinct values than this, the run's stability bound is taken over this many
# quantiles of μ_t (an approximation, documented in run_stability_bound).
_MAX_MOMENTUM_VALUES = 64


def check_on_divergence(on_divergence) -> str:
    """``on_divergence`` if it is ``"raise"`` or ``"flag"``."""
    if on_divergence not in ON_DIVERGENCE:
        raise ValueError(f"on_divergence = {on_divergence!r} must be 'raise' or 'flag'")
    return on_divergence


# ----------------------------------------------------------------------------------------------------------
# Stability bound with momentum and batch
# ----------------------------------------------------------------------------------------------------------


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
        return float(sgd_stability_bound(lam, batches[0]))
    return float(np.min(momentum_stability_bound(lam, np.array(batches), np.array(momenta))))


# ----------------------------------------------------------------------------------------------------------
# Learning rates and per-step quantities
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


def _per_step(check, value, shape: tuple[int, int], single: bool) -> np.ndarray:
    """``check(value)`` broadcast to (S, T) as a read-only view (no copy). One schedule is checked as its row
    (T,), so an error names "step t" rather than "schedule 0, step t"."""
    if not single:
        return check(value, shape)
    try:
        row = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)[0]
    except ValueError:
        row = value  # not broadcastable: let the check name the expected shape (T,)
    return check(row, shape[1:])[None, :]


# ----------------------------------------------------------------------------------------------------------
# The problem
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DynamicsProblem:
    """Checked inputs of the exact dynamics, shared by every engine (build with :meth:`build`).

    Attributes:
        eigenvalues: λ_k, shape (N,).
        target: c_k(0) = w*_k² (zero initialisation), shape (N,).
        tail: δ_N, the untrained tail (acts as label noise).
        sigma: label-noise standard deviation σ.
        lr: η_t, (S, T) float64, C-contiguous (one schedule: S = 1 and ``single``).
        batch: B_t, (S, T) read-only view (+inf = exact gradients).
        inv_batch: 1/B_t, (S, T) read-only view (0 for B = ∞).
        momentum: μ_t, (S, T) read-only view.
        single: whether one schedule was given (results drop the schedule axis).
        has_momentum: whether any μ_t ≠ 0 (selects the momentum recursion).
        warning: set when some step's η_t is above the stability bound of its (B_t, μ_t) (an allowed run).
    """

    eigenvalues: np.ndarray
    target: np.ndarray
    tail: float
    sigma: float
    lr: np.ndarray
    batch: np.ndarray
    inv_batch: np.ndarray
    momentum: np.ndarray
    single: bool
    has_momentum: bool
    warning: str | None = None

    @classmethod
    def build(cls, spectrum: Spectrum, lr, *, sigma: float = DEFAULTS.sigma, batch=DEFAULTS.batch, momentum=0.0,
              steps: int | None = None,
              allow_unstable: bool = False) -> DynamicsProblem:
        """Check the inputs of :func:`~lrwb.numerics.dynamics.expected.expected_loss` (same meaning) and hold them.

        ``allow_unstable``: accept η_t above the stability bound of its (B_t, μ_t) and record it in ``warning``
        (the engines' ``on_divergence="flag"`` passes True); otherwise raise
        :class:`~lrwb.numerics.stability.UnstableLearningRateError` naming the step, η, the bound and the condition.
        """
        if not isinstance(spectrum, Spectrum):
            raise ValueError(f"spectrum must be a lrwb.numerics.spectra.Spectrum, got {type(spectrum).__name__}")
        lr_arr, single = _learning_rates(lr, steps)
        batch_arr = _per_step(check_batch, batch, lr_arr.shape, single)
        momentum_arr = _per_step(check_momentum, momentum, lr_arr.shape, single)
        # 1/B from the un-broadcast input, so a scalar batch costs no (S, T) array.
        inv_batch = np.broadcast_to(1.0 / np.asarray(batch, dtype=float), lr_arr.shape)
        # Every step's η_t against the true bound of its (B_t, μ_t), before any work (lrwb.numerics.stability).
        # Scalars stay scalars, so the check costs one bound, not one per step.
        batch_in, momentum_in = (np.asarray(x, dtype=float) for x in (batch, momentum))
        warning = check_stability(lr_arr[0] if single else lr_arr, spectrum.eigenvalues,
                                  batch_in if batch_in.ndim == 0 else batch_arr[0] if single else batch_arr,
                                  momentum_in if momentum_in.ndim == 0 else momentum_arr[0] if single else momentum_arr,
                                  allow_unstable=allow_unstable, single=single)
        return cls(
            eigenvalues=spectrum.eigenvalues,
            target=spectrum.target,
            tail=float(spectrum.tail),
            sigma=check_sigma(sigma),
            lr=lr_arr,
            batch=batch_arr,
            inv_batch=inv_batch,
            momentum=momentum_arr,
            single=single,
            has_momentum=bool(np.any(momentum_arr)),
            warning=warning,
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(S, T): schedules × steps."""
        return self.lr.shape

    @property
    def noise(self) -> float:
        """σ² + δ_N: label noise including the untrained tail."""
        return self.sigma**2 + self.tail

    @property
    def threshold(self) -> float:
        """Excess loss (without tail) above which a schedule counts as diverged."""
        scale = float(self.eigenvalues @ self.target) + self.tail + self.sigma**2
        return DIVERGENCE_FACTOR * scale if scale > 0 else np.inf

    def stability_bound(self) -> float:
        """The smallest constant-LR stability bound over the run's (B_t, μ_t) (:func:`run_stability_bound`)."""
        return run_stability_bound(np.ascontiguousarray(self.eigenvalues), self.batch, self.momentum)
