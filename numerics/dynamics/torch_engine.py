"""Exact expected loss of plain SGD on torch tensors (CPU or CUDA; float32 or float64).

The same recursion as :func:`lrwb.numerics.dynamics.expected.expected_loss` (loss only, no momentum), written as per-step
tensor operations on (S, N) arrays so that thousands of schedules run at once on a GPU:

    c ← c + λ [c (−2η + η²(1 + 1/B) λ) + (η²/B)(σ² + δ + Σ_j λ_j c_j)].

Use it through ``expected_loss(..., backend="torch", device="cuda", dtype="float32", parts=False)``. With no
CUDA device it falls back to the CPU with a :class:`~lrwb.numerics.simulate.DeviceFallbackWarning`. float32 is
checked against float64 in the tests (relative error bounded there, see ``tests/numerics/test_dynamics_torch.py``).
"""

from __future__ import annotations

import warnings

import numpy as np

DTYPES = ("float64", "float32")


def _torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("backend='torch' needs PyTorch, which is not installed: pip install 'lr-workbench[torch]' "
                          "(or use backend='numba'/'numpy')") from err
    return torch


def resolve_device(device: str):
    """A ``torch.device``; ``cuda`` without a CUDA device falls back to the CPU with a warning."""
    from lrwb.numerics.simulate import DeviceFallbackWarning

    torch = _torch()
    device = str(device)
    if not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"device = {device!r} must be cpu, cuda or cuda:INDEX")
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"device={device!r} was requested but no CUDA device is available; running on the CPU",
                      DeviceFallbackWarning, stacklevel=3)
        return torch.device("cpu")
    return torch.device(device)


def sgd_loss_torch(lam, second0, lr, inv_batch, noise: float, threshold: float, *, device="cpu", dtype="float64"):
    """Excess loss without tail, (S, T+1) float64 NumPy, and the first diverged step per schedule (−1: none).

    Args mirror the NumPy engine: ``lr`` and ``inv_batch`` are (S, T); ``noise`` = σ² + δ; ``threshold`` the
    divergence level. Runs on ``device`` in ``dtype``; a blown-up schedule is left to overflow and is found
    afterwards (no per-step synchronisation with the host).
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype = {dtype!r} must be one of {', '.join(DTYPES)}")
    torch = _torch()
    dev = resolve_device(device)
    tdtype = getattr(torch, dtype)
    lr = np.asarray(lr, dtype=float)
    n_sched, n_steps = lr.shape
    as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=tdtype, device=dev)  # noqa: E731
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
    bad = ~(out <= threshold)
    diverged_step = np.where(bad.any(axis=1), bad.argmax(axis=1), -1).astype(np.int64)
    for s in np.flatnonzero(diverged_step >= 0):
        out[s, diverged_step[s]:] = np.inf
    return out, diverged_step
