"""Exact expected loss of plain SGD on torch tensors (CPU or CUDA; float32 or float64).

The same recursion as :func:`lrwb.numerics.dynamics.expected.expected_loss` (loss only, no momentum), written as per-step
tensor operations on (S, N) arrays so that thousands of schedules run at once on a GPU:

    c ← c + λ [c (−2η + η²(1 + 1/B) λ) + (η²/B)(σ² + δ + Σ_j λ_j c_j)].

Use it through ``expected_loss(..., backend="torch", device="cuda", dtype="float32", parts=False)``. With no
CUDA device it falls back to the CPU with a :class:`~lrwb.numerics.backends.DeviceFallbackWarning`. float32 is
checked against float64 in the tests (relative error bounded there, see ``tests/numerics/dynamics/test_torch_engine.py``).

>>> import numpy as np
>>> from lrwb.numerics.dynamics.problem import DynamicsProblem
>>> from lrwb.numerics.spectra import power_law_spectrum
>>> problem = DynamicsProblem.build(power_law_spectrum(3.5, 2.0, 4), np.full(3, 0.5))
>>> result = TorchEngine(device="cpu").run(problem, parts=False)
>>> result.loss.shape
(1, 4)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from lrwb.numerics.backends import import_torch, torch_device
from lrwb.numerics.dynamics.engine import EngineResult, fill_after, first_blowup
from lrwb.numerics.dynamics.problem import DynamicsProblem

__all__ = ["TorchEngine", "sgd_loss_torch", "DTYPES"]

DTYPES = ("float64", "float32")

# The alternative named when PyTorch is missing.
_ALTERNATIVE = "backend='numba'/'numpy'"


class TorchEngine:
    """Plain SGD, loss only, on ``device`` (``cpu``, ``cuda``, ``cuda:INDEX``) in ``dtype`` (float64/float32)."""

    name: ClassVar[str] = "torch"

    def __init__(self, device: str = "cpu", dtype: str = "float64"):
        self.device = device
        self.dtype = dtype

    def run(self, problem: DynamicsProblem, *, parts: bool = False, record_modes: bool = False) -> EngineResult:
        """The loss curves; ValueError for momentum, ``parts`` or ``record_modes`` (not computed here)."""
        if problem.has_momentum or parts or record_modes:
            raise ValueError("backend = 'torch' computes the loss of plain SGD only: pass parts=False, momentum=0 "
                             "and record_modes=False (or use backend='numba'/'numpy')")
        lam = np.ascontiguousarray(problem.eigenvalues)
        c0 = np.ascontiguousarray(problem.target)
        excess, diverged_step = sgd_loss_torch(lam, c0, problem.lr, np.asarray(problem.inv_batch), problem.noise,
                                               problem.threshold, device=self.device, dtype=self.dtype)
        return EngineResult.from_parts(problem, None, None, diverged_step, excess=excess)


def sgd_loss_torch(lam, second0, lr, inv_batch, noise: float, threshold: float, *, device="cpu", dtype="float64"):
    """Excess loss without tail, (S, T+1) float64 NumPy, and the first diverged step per schedule (−1: none).

    Args mirror the NumPy engine: ``lr`` and ``inv_batch`` are (S, T); ``noise`` = σ² + δ; ``threshold`` the
    divergence level. Runs on ``device`` in ``dtype``; a blown-up schedule is left to overflow and is found
    afterwards (no per-step synchronisation with the host).
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype = {dtype!r} must be one of {', '.join(DTYPES)}")
    torch = import_torch(_ALTERNATIVE)
    # the warning points at the user's expected_loss call: expected_loss → solve → run → here → torch_device
    dev = torch_device(torch, device, stacklevel=5)
    tdtype = getattr(torch, dtype)
    lr = np.asarray(lr, dtype=float)
    n_sched, n_steps = lr.shape
    # a copy: the checked inputs are read-only broadcast views, which torch refuses to wrap without a warning
    as_t = lambda a: torch.as_tensor(np.array(a, order="C"), dtype=tdtype, device=dev)  # noqa: E731
    lam_t = as_t(lam)
    second = as_t(np.broadcast_to(second0, (n_sched, lam.size))).clone()
    # Per-step coefficients, (T, S, 1), computed once on the host in float64.
    r = lr * lr * np.asarray(inv_batch, dtype=float)
    alpha = as_t((-2.0 * lr).T[:, :, None])
    beta = as_t((lr * lr).T[:, :, None] + r.T[:, :, None])
    r_t = as_t(r.T[:, :, None])
    loss = torch.empty((n_steps + 1, n_sched), dtype=tdtype, device=dev)
    loss[0] = second @ lam_t
    total = loss[0][:, None]
    with torch.no_grad():
        for t in range(n_steps):
            q = r_t[t] * (noise + total)
            second += lam_t * (second * (alpha[t] + beta[t] * lam_t) + q)
            loss[t + 1] = second @ lam_t
            total = loss[t + 1][:, None]
    out = loss.T.to(torch.float64).cpu().numpy()
    diverged_step = first_blowup(out, threshold)
    fill_after(diverged_step, out)
    return out, diverged_step
