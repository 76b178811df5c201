"""Input checks shared by every engine: one message format, naming the offending value and the valid range.

The engines accept per-step quantities (batch size B_t, momentum μ_t) as a scalar, one value per step (T,),
or one row per schedule (S, T); :func:`per_step` broadcasts them and the range checks name the first bad
entry by its place ("step t" or "schedule s, step t"), so an error message points at the value to fix.

>>> import numpy as np
>>> check_batch(5, (1, 3))
array([[5., 5., 5.]])
>>> check_momentum([0.0, 0.9, 1.0], (3,))
Traceback (most recent call last):
...
ValueError: momentum μ = 1.0 at step 2 is outside its range [0, 1)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["per_step", "first_bad", "check_sigma", "check_batch", "check_momentum", "check_positive_int",
           "check_finite_real"]


def per_step(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` (scalar, (T,) or (S, T)) broadcast to ``shape`` as a float64 array (read-only view)."""
    arr = np.asarray(value, dtype=np.float64)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} must be a scalar or one value per step (shape {shape}), "
                         f"got shape {arr.shape}") from None


def first_bad(arr: np.ndarray, bad: np.ndarray) -> str:
    """``"<value> at step t"`` (1-D) or ``"<value> at schedule s, step t"`` (2-D): the first True of ``bad``."""
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    value = float(arr[idx])
    if arr.ndim == 0:
        return repr(value)
    where = f"step {idx[-1]}" if arr.ndim == 1 else f"schedule {idx[0]}, step {idx[-1]}"
    return f"{value!r} at {where}"


def check_sigma(sigma) -> float:
    """The label-noise level σ as a float: finite and ≥ 0."""
    try:
        sigma = float(sigma)
    except (TypeError, ValueError):
        raise ValueError(f"sigma = {sigma!r} must be a finite number >= 0") from None
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma = {sigma!r} must be finite and >= 0")
    return sigma


def check_batch(batch, shape: tuple[int, ...], *, integer: bool = False) -> np.ndarray:
    """Batch sizes B_t ≥ 1 broadcast to ``shape``; +inf (exact gradients) is allowed unless ``integer``
    (a sampled batch has a whole, finite number of inputs)."""
    arr = per_step("batch", batch, shape)
    bad = ~(arr >= 1)  # NaN fails too
    if integer:
        bad |= ~np.isfinite(arr) | (arr != np.round(arr))
    if bad.any():
        rule = "an integer >= 1 (a sampled batch)" if integer else ">= 1 (inf for exact gradients)"
        raise ValueError(f"batch size B = {first_bad(arr, bad)} is outside its range: B must be {rule}")
    return arr


def check_momentum(momentum, shape: tuple[int, ...]) -> np.ndarray:
    """Momenta μ_t ∈ [0, 1) broadcast to ``shape``."""
    arr = per_step("momentum", momentum, shape)
    bad = ~((arr >= 0) & (arr < 1))
    if bad.any():
        raise ValueError(f"momentum μ = {first_bad(arr, bad)} is outside its range [0, 1)")
    return arr


def check_positive_int(value, name: str) -> int:
    """``value`` as an int ≥ 1 (integer-valued floats such as ``1e6`` are accepted; bools are not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} = {value!r} must be a positive integer")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif math.isfinite(value) and float(value).is_integer():
        out = int(value)
    else:
        raise ValueError(f"{name} = {value!r} must be a positive integer")
    if out < 1:
        raise ValueError(f"{name} = {out} must be a positive integer (>= 1)")
    return out


def check_finite_real(value, name: str) -> float:
    """``value`` as a finite float (not a bool), else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} = {value!r} is not a number")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} = {out!r} is not finite; it must be a finite number")
    return out
