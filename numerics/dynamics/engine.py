"""The engine protocol of the exact dynamics, and :func:`solve`: run an engine on a problem, get a LossCurve.

An engine (NumPy, numba, torch, high precision; one module each) runs the recursion of
:mod:`lrwb.numerics.dynamics.expected` on a checked :class:`~lrwb.numerics.dynamics.problem.DynamicsProblem`
and returns an :class:`EngineResult`: (S, T+1) arrays, +inf from each diverged schedule's divergence step on.
:func:`solve` does what every engine shares: the stability bound of the run, raising
:class:`~lrwb.numerics.stability.DivergenceError` (``on_divergence="raise"``) with a message naming the step, the
learning rate and the bound, and the :class:`~lrwb.numerics.dynamics.curve.LossCurve` (schedule axis dropped for
one schedule).

>>> import numpy as np
>>> from lrwb.numerics.spectra import power_law_spectrum
>>> from lrwb.numerics.dynamics.numpy_engine import NumpyEngine
>>> problem = DynamicsProblem.build(power_law_spectrum(3.5, 2.0, 4), np.full(3, 0.5))
>>> curve = solve(NumpyEngine(), problem, parts=False)
>>> curve.loss.shape, bool(curve.diverged)
((4,), False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from lrwb.numerics.dynamics.curve import LossCurve, ModeHistory
from lrwb.numerics.dynamics.problem import DIVERGENCE_FACTOR, DynamicsProblem, check_on_divergence
from lrwb.numerics.stability import DivergenceError, momentum_stability_bound, stability_bound

__all__ = ["Engine", "EngineResult", "solve", "divergence_message", "run_kernels", "first_blowup", "fill_after"]


@dataclass(frozen=True)
class EngineResult:
    """What an engine computes, with the schedule axis: loss (S, T+1) (tail included), bias and variance
    (S, T+1) or ``None``, diverged_step (S,) int64 (−1: did not diverge), the per-mode history (S, T+1, N) or
    ``None``; a high-precision engine also sets ``digits`` and ``mp_values`` (one list per schedule)."""

    loss: np.ndarray
    bias: np.ndarray | None
    variance: np.ndarray | None
    diverged_step: np.ndarray
    modes: ModeHistory | None = None
    digits: int | None = None
    mp_values: dict | None = None

    @classmethod
    def from_parts(cls, problem: DynamicsProblem, bias, variance, diverged_step, *, excess=None, parts: bool = True,
                   modes: ModeHistory | None = None) -> EngineResult:
        """loss = bias + variance (or ``excess`` when the parts were not computed) + tail; the parts are dropped
        unless ``parts`` (they may have been computed only for ``record_modes``)."""
        loss = (bias + variance if bias is not None else excess) + problem.tail
        if bias is not None and not parts:
            bias = variance = None
        return cls(loss=loss, bias=bias, variance=variance, diverged_step=diverged_step, modes=modes)


@runtime_checkable
class Engine(Protocol):
    """An exact-dynamics engine: ``name`` (its key in :data:`~lrwb.numerics.dynamics.expected.ENGINES`) and
    ``run``. Options (device, dtype, digits …) go to the constructor; ``run`` raises ValueError for an option
    combination it cannot compute (e.g. torch with ``parts=True``)."""

    name: ClassVar[str]

    def run(self, problem: DynamicsProblem, *, parts: bool = True, record_modes: bool = False) -> EngineResult:
        """The curves of every schedule of ``problem`` (see :class:`EngineResult`)."""
        ...


def divergence_message(problem: DynamicsProblem, s: int, t: int, bound: float) -> str:
    """Name the step, the LR/batch/momentum used for it and the stability bound."""
    step = t - 1  # loss[t] is produced by the step t−1 → t
    eta = problem.lr[s, : step + 1].max()
    b_t, mu_t = problem.batch[s, step], problem.momentum[s, step]
    local = momentum_stability_bound(problem.eigenvalues, b_t, mu_t) if mu_t else (
        stability_bound(problem.eigenvalues, b_t) if np.isfinite(b_t) else 2.0 / problem.eigenvalues.max())
    which = "" if problem.single else f"schedule {s}: "
    what = f"is not finite or exceeds {DIVERGENCE_FACTOR:.0e} × (initial loss + σ²)"
    hyper = f"B = {b_t:g}" + (f", μ = {mu_t:g}" if problem.has_momentum else "")
    overall = "" if abs(local - bound) <= 1e-9 * bound else f"; smallest bound over the run: η < {bound:.6g}"
    return (f"{which}expected loss diverged at step {t}: excess loss {what}; largest learning rate so far "
            f"η = {eta:.6g}; stability bound η < {local:.6g} for {hyper} (two-part bound: every g_k < 1 and "
            f"‖K‖₁ < 1){overall}")


def solve(engine: Engine, problem: DynamicsProblem, *, on_divergence: str = "raise", parts: bool = True,
          record_modes: bool = False) -> LossCurve:
    """Run ``engine`` on ``problem``; raise on divergence (``on_divergence="raise"``) or flag it; the LossCurve."""
    check_on_divergence(on_divergence)
    result = engine.run(problem, parts=parts, record_modes=record_modes)
    bound = problem.stability_bound()
    diverged = result.diverged_step >= 0
    if diverged.any() and on_divergence == "raise":
        s = int(np.flatnonzero(diverged)[0])
        t = int(result.diverged_step[s])
        raise DivergenceError(divergence_message(problem, s, t, bound), step=t, bound=bound)
    return _assemble(problem, result, bound)


def _assemble(problem: DynamicsProblem, result: EngineResult, bound: float) -> LossCurve:
    """Squeeze the schedule axis for a single schedule and build the LossCurve."""
    if problem.single:
        first = lambda a: None if a is None else a[0]  # noqa: E731
        step = int(result.diverged_step[0])
        modes = result.modes
        if modes is not None:
            modes = ModeHistory(*(first(getattr(modes, f)) for f in ("second_moment", "squared_mean",
                                                                      "cross_moment", "velocity_moment")))
        values = None if result.mp_values is None else {k: v[0] for k, v in result.mp_values.items()}
        return LossCurve(lr=problem.lr[0], loss=result.loss[0], bias=first(result.bias),
                         variance=first(result.variance), tail=problem.tail, diverged=step >= 0,
                         diverged_step=step if step >= 0 else None, stability_bound=bound, modes=modes,
                         digits=result.digits, mp_values=values, warning=problem.warning)
    return LossCurve(lr=problem.lr, loss=result.loss, bias=result.bias, variance=result.variance, tail=problem.tail,
                     diverged=result.diverged_step >= 0, diverged_step=result.diverged_step, stability_bound=bound,
                     modes=result.modes, digits=result.digits, mp_values=result.mp_values, warning=problem.warning)


def run_kernels(problem: DynamicsProblem, *, sgd_loss, sgd_parts, momentum, parts: bool,
                record_modes: bool) -> EngineResult:
    """The float64 engines' dispatch: the momentum recursion, the SGD bias/variance split, or the SGD loss alone.

    The three callables share one signature per kind (NumPy and numba engines, same formulas in the same order):
    ``momentum(λ, λ², mean0, η, 1/B, μ, noise, threshold, record)`` and ``sgd_parts(λ, λ², c0, η, 1/B, noise,
    threshold, record)`` → (bias, variance, diverged_step, history); ``sgd_loss(λ, λ², c0, η, 1/B, noise,
    threshold)`` → (excess, diverged_step).
    """
    lam = np.ascontiguousarray(problem.eigenvalues)
    lam2 = lam * lam
    c0 = np.ascontiguousarray(problem.target)
    noise, threshold = problem.noise, problem.threshold
    modes = None
    if problem.has_momentum:
        mean0 = -np.sqrt(c0)  # e(0) = 0 − w*
        bias, variance, diverged_step, hist = momentum(lam, lam2, mean0, problem.lr, problem.inv_batch,
                                                       problem.momentum, noise, threshold, record_modes)
    elif parts or record_modes:
        bias, variance, diverged_step, hist = sgd_parts(lam, lam2, c0, problem.lr, problem.inv_batch, noise,
                                                        threshold, record_modes)
    else:
        excess, diverged_step = sgd_loss(lam, lam2, c0, problem.lr, problem.inv_batch, noise, threshold)
        return EngineResult.from_parts(problem, None, None, diverged_step, excess=excess)
    if record_modes:
        modes = ModeHistory(*hist)
    return EngineResult.from_parts(problem, bias, variance, diverged_step, parts=parts, modes=modes)


def first_blowup(total: np.ndarray, threshold: float) -> np.ndarray:
    """Per schedule, the first index t with total[t] non-finite or above ``threshold`` (−1 if none)."""
    bad = ~(total <= threshold)  # True for NaN too
    return np.where(bad.any(axis=1), bad.argmax(axis=1), -1).astype(np.int64)


def fill_after(diverged_step: np.ndarray, *arrays) -> None:
    """+inf from each schedule's divergence step on (axis 1 is the step axis)."""
    for s in np.flatnonzero(diverged_step >= 0):
        for arr in arrays:
            if arr is not None:
                arr[s, diverged_step[s]:] = np.inf
