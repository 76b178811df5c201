"""Log-log slopes: the least-squares slope of log y against log x, and the local slopes between neighbours.

A power law y ≍ x^e is a line of slope e in (log x, log y). :func:`loglog_slope` is the least-squares slope
(``np.polyfit`` of degree 1) over the points a ``mask`` selects, optionally with a derived log power l divided
out (the slope of log y − l·log log x, for laws x^e (log x)^l); :func:`log_slope` is the same fit when log y is
already at hand. :func:`local_slopes` gives the slopes between neighbouring points,

    e_i = (log y_{i+1} − log y_i)/(log x_{i+1} − log x_i)   at x̄_i = √(x_i x_{i+1}),

the finite-size estimates that :mod:`lrwb.numerics.analysis.asymptotics` extrapolates. Every log-log slope of
the package is one of these three (one fit, so the numbers agree to the bit wherever the same points are fitted).

>>> import numpy as np
>>> x = np.array([10.0, 100.0, 1000.0])
>>> round(loglog_slope(x, 3.0 * x**-0.5), 12)
-0.5
>>> mid, s = local_slopes(x, 3.0 * x**-0.5)       # sign = −1: the decay rate
>>> mid.round(6).tolist(), s.round(12).tolist()
([31.622777, 316.227766], [0.5, 0.5])
"""

from __future__ import annotations

import numpy as np

__all__ = ["loglog_slope", "log_slope", "local_slopes"]


def log_slope(x, log_y, *, mask=None, log_power: float = 0.0) -> float:
    """Least-squares slope of ``log_y`` − l·log log x against log x over ``x[mask]`` (all points by default).

    ``log_y`` is already a logarithm (e.g. log v* stored by a fit); ``log_power`` l divides out a derived factor
    (log x)^l. The mask is applied before any log is taken, so excluded points may be non-positive.
    """
    xs, ly = np.asarray(x, float), np.asarray(log_y, float)
    if mask is not None:
        xs, ly = xs[mask], ly[mask]
    lx = np.log(xs)
    if log_power:
        ly = ly - log_power * np.log(lx)
    return float(np.polyfit(lx, ly, 1)[0])


def loglog_slope(x, y, *, mask=None, log_power: float = 0.0) -> float:
    """Least-squares slope e of log y against log x (y ≍ x^e) over ``x[mask]``, ``y[mask]``; with ``log_power``
    l, the slope of log(y/(log x)^l) (y ≍ x^e (log x)^l).

    >>> round(loglog_slope([1.0, 2.0, 4.0, 8.0], [5.0, 1.0, 0.0, 2.0], mask=[True, True, False, False]), 9)
    -2.321928095
    """
    ys = np.asarray(y, float)
    if mask is not None:
        ys = ys[mask]
        x = np.asarray(x, float)[mask]
    return log_slope(x, np.log(ys), log_power=log_power)


def local_slopes(x, y, *, sign: float = -1.0) -> tuple[np.ndarray, np.ndarray]:
    """(x̄_i, sign·d log y/d log x between neighbours): ``sign = −1`` gives the decay rate ζ of y ≍ x^{−ζ},
    ``sign = +1`` the slopes themselves. x must be strictly increasing, x and y finite and > 0."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    if xs.shape != ys.shape or xs.ndim != 1 or xs.size < 2:
        raise ValueError(f"x and y must be matching 1-d ladders of >= 2 points, got shapes {xs.shape}, {ys.shape}")
    if not (np.all(np.isfinite(xs) & (xs > 0)) and np.all(np.isfinite(ys) & (ys > 0))):
        raise ValueError(f"x = {x!r} and y = {y!r} must be finite and > 0 (log-log slopes)")
    lx, ly = np.log(xs), np.log(ys)
    if np.any(np.diff(lx) <= 0):
        raise ValueError(f"x = {x!r} must be strictly increasing")
    return np.exp(0.5 * (lx[1:] + lx[:-1])), sign * np.diff(ly) / np.diff(lx)
