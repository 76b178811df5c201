"""Optional array back ends: numba and PyTorch detection, the engine resolver, device choice and its fallback warning.

Every engine that can run on numba or torch asks here, so there is one rule for each choice:

- :func:`resolve_backend` turns a ``backend=`` string into the engine to run (``"auto"`` → numba when
  installed, else NumPy) or raises naming the valid choices;
- :func:`import_torch` imports PyTorch or raises an ImportError that says how to install it;
- :func:`check_device` / :func:`torch_device` validate ``device=`` (``cpu``, ``cuda``, ``cuda:INDEX``) and fall
  back to the CPU with a :class:`DeviceFallbackWarning` when CUDA is asked for but absent.

This module imports no engine (the engines import it), so it breaks the old import cycle
dynamics → torch engine → simulate → dynamics.

>>> resolve_backend("numpy", ("auto", "numba", "numpy"))
'numpy'
>>> resolve_backend("auto", ("auto", "numba", "numpy"), numba=False)
'numpy'
>>> resolve_backend("jax", ("auto", "numpy"))
Traceback (most recent call last):
...
ValueError: backend = 'jax' must be one of auto, numpy
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["HAVE_NUMBA", "have_numba", "DeviceFallbackWarning", "resolve_backend", "import_torch", "check_device",
           "torch_device"]


@functools.cache
def have_numba() -> bool:
    """Whether numba imports (optional extra "fast"; every engine has a NumPy path without it). Asked on first
    use, so importing this module (e.g. for the Monte Carlo simulator) does not import numba."""
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only on installs without numba
        return False
    return True


def __getattr__(name: str):
    # HAVE_NUMBA is computed on first access (PEP 562), for the reason given in have_numba.
    if name == "HAVE_NUMBA":
        return have_numba()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DeviceFallbackWarning(UserWarning):
    """A CUDA device was asked for but none is present; the computation runs on the CPU."""


def resolve_backend(name: str, allowed, *, numba: bool | None = None) -> str:
    """The engine to run for ``backend=name``: ``"auto"`` → ``"numba"`` when numba is installed, else ``"numpy"``.

    Args:
        name: the requested back end.
        allowed: the names the caller accepts (``"auto"`` among them if it is accepted).
        numba: whether numba is usable (default: :func:`have_numba`; callers may pass their module's flag, so
            tests can switch it off).

    Raises:
        ValueError: ``name`` not in ``allowed``, or ``"numba"`` without numba installed.
    """
    if name not in allowed:
        raise ValueError(f"backend = {name!r} must be one of {', '.join(allowed)}")
    if name in ("auto", "numba") and numba is None:
        numba = have_numba()
    if name == "numba" and not numba:
        raise ValueError("backend = 'numba' needs numba (pip install 'lr-workbench[fast]'); "
                         "use backend='numpy' or 'auto'")
    if name == "auto":
        return "numba" if numba else "numpy"
    return name


def import_torch(alternative: str = "backend='numpy'"):
    """The ``torch`` module, or an ImportError naming the install command and ``alternative``."""
    try:
        import torch
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("backend='torch' needs PyTorch, which is not installed: pip install 'lr-workbench[torch]' "
                          f"(or use {alternative})") from err
    return torch


def check_device(device) -> str:
    """``device`` as a string, if it is ``cpu``, ``cuda`` or ``cuda:INDEX``."""
    device = str(device)
    if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
        raise ValueError(f"device = {device!r} must be cpu, cuda or cuda:INDEX")
    return device


def torch_device(torch, device: str, *, stacklevel: int = 2):
    """A ``torch.device``; ``cuda`` without a CUDA device falls back to the CPU with a
    :class:`DeviceFallbackWarning`. ``stacklevel`` counts frames from the caller of this function, as for
    :func:`warnings.warn` (2: the warning points at the caller's caller)."""
    device = check_device(device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"device={device!r} was requested but no CUDA device is available; running on the CPU",
                      DeviceFallbackWarning, stacklevel=stacklevel + 1)
        return torch.device("cpu")
    return torch.device(device)
