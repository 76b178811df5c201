"""The NumPy engine of the exact dynamics: per-step vectorised operations on (S, N) arrays (no compiler needed).

Same formulas, in the same order, as the numba kernels (:mod:`lrwb.numerics.dynamics.numba_kernels`); the
recursion is written out in :mod:`lrwb.numerics.dynamics.expected`. Rows are independent, so a blown-up
schedule is left to run to inf/NaN (warnings silenced) and is found and overwritten with +inf after the loop:
no per-step bookkeeping in the hot loop.

>>> import numpy as np
>>> from lrwb.numerics.dynamics.problem import DynamicsProblem
>>> from lrwb.numerics.spectra import power_law_spectrum
>>> result = NumpyEngine().run(DynamicsProblem.build(power_law_spectrum(3.5, 2.0, 4), np.full(3, 0.5)))
>>> result.loss.shape, result.diverged_step.tolist()
((1, 4), [-1])
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from lrwb.numerics.dynamics.engine import EngineResult, fill_after, first_blowup, run_kernels
from lrwb.numerics.dynamics.problem import DynamicsProblem

__all__ = ["NumpyEngine"]


class NumpyEngine:
    """Vectorised NumPy loop over steps (the fallback when numba is missing)."""

    name: ClassVar[str] = "numpy"

    def run(self, problem: DynamicsProblem, *, parts: bool = True, record_modes: bool = False) -> EngineResult:
        """Bias/variance (``parts`` or ``record_modes``) or the loss alone; momentum when ``problem`` has it."""
        return run_kernels(problem, sgd_loss=_sgd_loss_numpy, sgd_parts=_sgd_parts_numpy, momentum=_momentum_numpy,
                           parts=parts, record_modes=record_modes)


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
    diverged_step = first_blowup(bias + variance, threshold)
    fill_after(diverged_step, bias, variance, *(hist or ()))
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
    diverged_step = first_blowup(loss, threshold)
    fill_after(diverged_step, loss)
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
    diverged_step = first_blowup(bias + variance, threshold)
    fill_after(diverged_step, bias, variance, *(hist or ()))
    return bias, variance, diverged_step, hist
