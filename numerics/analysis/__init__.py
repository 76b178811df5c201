"""Analysis of measured ladders: log-log slopes, their finite-size limits, and the exponents read off schedules.

- :mod:`~lrwb.numerics.analysis.slopes`: :func:`loglog_slope` (least squares, optional mask and divided-out log
  power), :func:`log_slope`, :func:`local_slopes` (neighbour slopes at the geometric midpoints) — the one
  implementation of every log-log slope of the package;
- :mod:`~lrwb.numerics.analysis.asymptotics`: :func:`extrapolate` the local slopes to X → ∞ under a stated
  finite-size model, :func:`asymptotic_exponent` (the value a claim uses, with its note), :func:`extrapolate_values`;
- :mod:`~lrwb.numerics.analysis.exponents`: horizon scaling (:func:`fit_scaling`, :func:`fit_loss_exponent`,
  :func:`fit_with_error`, :func:`is_resolved`) and exponents inside one schedule (:func:`stationarity_exponent`,
  :func:`anneal_start`, :func:`anneal_stationarity_exponent`, :func:`remaining_intrinsic_time`).

The heavier modules are imported by their own path: :mod:`lrwb.numerics.analysis.hyperparameters` (term models
minimised numerically) and :mod:`lrwb.numerics.analysis.phase_diagram` (the (a, b) sweep's per-point work).

>>> import numpy as np
>>> from lrwb.numerics.analysis import extrapolate, fit_scaling, local_slopes, loglog_slope
>>> t = np.array([100.0, 200.0, 400.0, 800.0, 1600.0])
>>> loss = 2.0 * t**-0.7 * (1 + 3.0 / t)             # ζ = 0.7 with a 1/T correction
>>> round(loglog_slope(t, 2.0 * t**-0.7), 12), round(fit_scaling(t, 2.0 * t**-0.7), 12)
(-0.7, 0.7)
>>> _, zeta = local_slopes(t, loss)                 # decay rates between neighbours, approaching 0.7
>>> bool(np.all(np.diff(zeta) < 0)), round(float(zeta[-1]), 4)
(True, 0.7027)
>>> round(extrapolate(t, loss, model="power").value, 3)
0.7
"""

from lrwb.numerics.analysis.asymptotics import (MODELS, Extrapolation, asymptotic_exponent, extrapolate,
                                                extrapolate_values)
from lrwb.numerics.analysis.exponents import (anneal_start, anneal_stationarity_exponent, fit_loss_exponent,
                                              fit_scaling, fit_with_error, is_resolved, remaining_intrinsic_time,
                                              stationarity_exponent)
from lrwb.numerics.analysis.slopes import local_slopes, log_slope, loglog_slope

__all__ = [
    "loglog_slope",
    "log_slope",
    "local_slopes",
    "Extrapolation",
    "MODELS",
    "extrapolate",
    "extrapolate_values",
    "asymptotic_exponent",
    "fit_scaling",
    "fit_loss_exponent",
    "fit_with_error",
    "is_resolved",
    "remaining_intrinsic_time",
    "stationarity_exponent",
    "anneal_start",
    "anneal_stationarity_exponent",
]
