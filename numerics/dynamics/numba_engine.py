"""The numba engine of the exact dynamics: one fused compiled loop per schedule (:mod:`lrwb.numerics.dynamics.numba_kernels`).

The state arrays are allocated here (so tracemalloc sees all memory) and long runs are cut into chunks of
:data:`CHUNK_MODE_STEPS` mode-steps, so that Ctrl-C, which Python sees only between compiled calls, stops a
run promptly. Needs numba (:data:`lrwb.numerics.backends.HAVE_NUMBA`).

>>> import numpy as np
>>> from lrwb.numerics.dynamics.problem import DynamicsProblem
>>> from lrwb.numerics.spectra import power_law_spectrum
>>> result = NumbaEngine().run(DynamicsProblem.build(power_law_spectrum(3.5, 2.0, 4), np.full(3, 0.5)))
>>> result.loss.shape, result.diverged_step.tolist()
((1, 4), [-1])
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

import numpy as np

from lrwb.numerics.backends import HAVE_NUMBA
from lrwb.numerics.dynamics import numba_kernels as _kernels
from lrwb.numerics.dynamics.engine import EngineResult, run_kernels
from lrwb.numerics.dynamics.problem import DynamicsProblem

__all__ = ["NumbaEngine", "CHUNK_MODE_STEPS"]

#: Mode-steps per compiled call (≈ 0.03–0.2 s): Python sees Ctrl-C only between calls, so a long run is cut
#: into chunks of this much work (whole schedules grouped when small, else step ranges of one schedule).
CHUNK_MODE_STEPS = 1 << 25


def _run_in_chunks(kernel, per_schedule: tuple, shared: tuple, n_sched: int, n_steps: int, n_modes: int,
                   diverged_step: np.ndarray, chunk: int, carry_size: int = 2) -> None:
    """Call ``kernel(*shared_head, *per_schedule[s0:s1] ..., t_begin, t_end, carry)`` over chunks.

    ``per_schedule`` holds (position, array) pairs of the arguments indexed by schedule (sliced per chunk);
    ``shared`` the full argument tuple with those positions to be replaced."""
    per_call = max(1, chunk // max(n_modes, 1))

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


def _sgd_parts_numba(lam, lam2, squared_mean0, lr, inv_batch, noise, threshold, record, *, chunk):
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
    _run_in_chunks(_kernels.sgd_parts_kernel, rows, args, n_sched, n_steps, n, diverged_step, chunk)
    return bias, variance, diverged_step, hist if record else None


def _sgd_loss_numba(lam, lam2, second0, lr, inv_batch, noise, threshold, *, chunk):
    n_sched, n_steps = lr.shape
    loss = np.empty((n_sched, n_steps + 1))
    diverged_step = np.empty(n_sched, dtype=np.int64)
    args = (lam, lam2, second0, lr, inv_batch, float(noise), float(threshold), loss, diverged_step,
            np.empty(lam.size))
    rows = [(3, lr), (4, inv_batch), (7, loss), (8, diverged_step)]
    _run_in_chunks(_kernels.sgd_loss_kernel, rows, args, n_sched, n_steps, lam.size, diverged_step, chunk)
    return loss, diverged_step


def _momentum_numba(lam, lam2, mean0, lr, inv_batch, momentum, noise, threshold, record, *, chunk):
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
    _run_in_chunks(_kernels.momentum_kernel, rows, args, n_sched, n_steps, n, diverged_step, chunk)
    return bias, variance, diverged_step, hist if record else None


class NumbaEngine:
    """Compiled kernels, one fused loop per schedule, run in chunks of ``chunk_mode_steps`` mode-steps
    (default :data:`CHUNK_MODE_STEPS`)."""

    name: ClassVar[str] = "numba"

    def __init__(self, chunk_mode_steps: int | None = None):
        if not HAVE_NUMBA:
            raise ValueError("the numba engine needs numba (pip install 'lr-workbench[fast]'); use the NumPy engine")
        self.chunk_mode_steps = CHUNK_MODE_STEPS if chunk_mode_steps is None else int(chunk_mode_steps)

    def run(self, problem: DynamicsProblem, *, parts: bool = True, record_modes: bool = False) -> EngineResult:
        """Bias/variance (``parts`` or ``record_modes``) or the loss alone; momentum when ``problem`` has it."""
        chunk = self.chunk_mode_steps
        return run_kernels(problem, sgd_loss=partial(_sgd_loss_numba, chunk=chunk),
                           sgd_parts=partial(_sgd_parts_numba, chunk=chunk),
                           momentum=partial(_momentum_numba, chunk=chunk), parts=parts, record_modes=record_modes)
