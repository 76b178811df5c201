"""Exponents read off optimal schedules and horizon ladders, shared by the experiments and the phase-diagram sweep.

- Horizon scaling: ξ = −slope of log value against log T (:func:`fit_scaling`; :func:`fit_loss_exponent` is
  the same fit for ζ of the final loss L_T ≍ T^{−ζ}), the slope with its standard
  error (:func:`fit_with_error`), adjacent-horizon local slopes (:func:`local_slopes`) and whether they have
  settled (:func:`is_resolved`).
- Inside one schedule: the remaining intrinsic time u_t = Σ_{s≥t} η_s, the stationarity exponent κ of
  η*_t ∝ u_t^κ (:func:`stationarity_exponent` after the peak, :func:`anneal_stationarity_exponent` inside a
  hard-phase anneal) and the anneal start t_s (:func:`anneal_start`).

Shared by the experiments (``plrf_collapse``, ``plrf_anneal``, ``plrf_fig1b``, ``plrf_fig2``, ``plrf_fig5``) and
:mod:`lrwb.numerics.analysis.phase_diagram`, so that no experiment imports another. The slopes themselves are
:mod:`lrwb.numerics.analysis.slopes`.
"""

from __future__ import annotations

import numpy as np

from lrwb.numerics.analysis import slopes
from lrwb.numerics.conventions import DEFAULTS, EXPONENT_TOLERANCE

__all__ = [
    "remaining_intrinsic_time",
    "stationarity_exponent",
    "fit_scaling",
    "fit_loss_exponent",
    "anneal_start",
    "fit_with_error",
    "local_slopes",
    "is_resolved",
    "anneal_stationarity_exponent",
]


def remaining_intrinsic_time(lr) -> np.ndarray:
    """u_t = Σ_{s ≥ t} η_s (the intrinsic time still to go when step t is taken, its own step included)."""
    arr = np.asarray(lr, float)
    return np.cumsum(arr[::-1])[::-1]


def stationarity_exponent(lr, u_min: float = 1.0, u_max_fraction: float = 0.25) -> float:
    """κ: slope of log η_t against log u_t over u_min ≤ u_t ≤ u_max_fraction·F_T, after the peak."""
    arr = np.asarray(lr, float)
    u = remaining_intrinsic_time(arr)
    sel = (u >= u_min) & (u <= u_max_fraction * u[0]) & (np.arange(arr.size) >= int(np.argmax(arr)))
    if sel.sum() < 3:
        raise ValueError(f"only {int(sel.sum())} steps with {u_min} <= u <= {u_max_fraction}·F_T = "
                         f"{u_max_fraction * u[0]:.3g}: the horizon is too short to fit κ")
    return slopes.loglog_slope(u, arr, mask=sel)


def fit_scaling(horizons, values) -> float:
    """ξ = −slope of the least-squares line through (log T, log value)."""
    x = np.asarray(horizons, float)
    y = np.asarray(values, float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"need >= 2 matching horizons and values, got shapes {x.shape} and {y.shape}")
    if not np.all(np.isfinite(y) & (y > 0)):
        bad = int(np.flatnonzero(~(np.isfinite(y) & (y > 0)))[0])
        raise ValueError(f"values[{bad}] = {float(y[bad])!r} must be finite and > 0 to fit in log-log")
    return -slopes.loglog_slope(x, y)


def fit_loss_exponent(horizons, final_losses) -> float:
    """ζ = −slope of the least-squares line through (log T, log L_T): :func:`fit_scaling` of the final losses."""
    return fit_scaling(horizons, final_losses)


def anneal_start(lr, eta_max: float = DEFAULTS.eta_max, level: float = 0.5) -> int:
    """t_s = the last step t with η_t ≥ level·η_max (−1 if there is none)."""
    arr = np.asarray(lr, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"lr must be a non-empty 1-d schedule, got shape {arr.shape}")
    if not (0 < level <= 1):
        raise ValueError(f"level = {level!r} must lie in (0, 1]")
    above = np.flatnonzero(arr >= level * eta_max)
    return int(above[-1]) if above.size else -1


def fit_with_error(horizons, values) -> tuple[float, float]:
    """(slope, standard error) of the least-squares line through (log T, log value)."""
    x = np.log(np.asarray(horizons, float))
    y = np.asarray(values, float)
    if x.shape != y.shape or x.size < 3:  # the upper half of a ladder needs >= 3 horizons as well
        raise ValueError(f"need >= 3 matching horizons and values, got shapes {x.shape} and {y.shape}")
    if not np.all(np.isfinite(y) & (y > 0)):
        raise ValueError(f"values = {y!r} must be finite and > 0 to fit in log-log")
    y = np.log(y)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    se = float(np.sqrt(resid @ resid / (x.size - 2) / np.sum((x - x.mean()) ** 2)))
    return float(slope), se


def local_slopes(horizons, values) -> np.ndarray:
    """Slopes between adjacent horizons, d log value / d log T (:func:`lrwb.numerics.analysis.slopes.local_slopes`
    with sign +1, without the midpoints)."""
    return slopes.local_slopes(horizons, values, sign=1.0)[1]


def is_resolved(slopes, tolerance: float = EXPONENT_TOLERANCE) -> bool:
    """Whether the local slopes over the upper half of the ladder have settled: max − min ≤ tolerance (all
    within ±tolerance/2 of their midpoint), so a fitted exponent means something at the verdict's precision."""
    s = np.asarray(slopes, float)
    upper = s[s.size // 2:]
    if upper.size < 2:
        raise ValueError(f"need >= 4 local slopes to judge the upper half, got {s.size}")
    return bool(np.ptp(upper) <= tolerance)


def anneal_stationarity_exponent(lr, eta_max: float = DEFAULTS.eta_max, level: float = 0.5) -> float:
    """κ: slope of log η_t against log u_t (u_t = Σ_{s≥t} η_s) over 1 ≤ u_t ≤ u_{t_s}, inside the anneal."""
    arr = np.asarray(lr, float)
    u = np.cumsum(arr[::-1])[::-1]
    t_s = anneal_start(arr, eta_max, level)
    sel = (np.arange(arr.size) > t_s) & (u >= 1.0)
    if sel.sum() < 3:
        raise ValueError(f"only {int(sel.sum())} anneal steps with u >= 1: the horizon is too short to fit κ")
    return slopes.loglog_slope(u, arr, mask=sel)
