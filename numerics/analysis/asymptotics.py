"""Finite-size extrapolation of fitted exponents: local slopes and their limit.

A quantity y(X) ≍ X^{−ζ} measured on a ladder X_1 < … < X_n has local slopes

    ζ_i = −(log y_{i+1} − log y_i)/(log X_{i+1} − log X_i)   at X̄_i = √(X_i X_{i+1}),

which approach ζ as X → ∞. Two stated finite-size models give the limit with its standard error:

- ``"power"``: ζ_i = ζ_∞ + c·X̄_i^{−p}, the correction exponent p > 0 chosen by least squares on a grid of p
  (a sub-leading power law, e.g. a finite-N or warm-up term), ζ_∞ and c linear given p;
- ``"log"``:   ζ_i = ζ_∞ + c/log X̄_i (a log factor the fit does not divide out).

The standard error is the ordinary least-squares one of the intercept (for ``"power"``: conditional on the
chosen p, stated as such); ``shift`` is how far ζ_∞ moves when the smallest size's slope is dropped (the
model's own stability check, which also carries the uncertainty of p). A limit counts as fixed by the data
(:attr:`Extrapolation.determined`) only if it lies within the slopes' own spread |last − first| of the last
slope; otherwise :func:`asymptotic_exponent` claims the last local slope (the largest sizes) and says so. :func:`extrapolate` returns an :class:`Extrapolation`, whose ``describe()`` is the
one-line note an experiment puts next to its claim (model, limit ± SE, the local slopes).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from lrwb.numerics.analysis.slopes import local_slopes

__all__ = ["Extrapolation", "local_slopes", "extrapolate", "extrapolate_values", "asymptotic_exponent", "MODELS"]

MODELS = ("power", "log")
#: the grid of correction exponents p scanned by the ``"power"`` model
_P_GRID = np.linspace(0.05, 2.0, 196)


@dataclass(frozen=True)
class Extrapolation:
    """The limit of local slopes under a stated finite-size model.

    Attributes:
        model: ``"power"`` or ``"log"`` (see the module docstring).
        value: ζ_∞, the extrapolated exponent.
        standard_error: SE of ζ_∞ (OLS; conditional on p for ``"power"``).
        shift: |ζ_∞ − ζ_∞ without the first slope| (NaN when too few slopes are left to refit).
        kind: what ``slopes`` holds (``"local slopes"``, or ``"values"`` for :func:`extrapolate_values`).
        correction_exponent: p of the ``"power"`` model (NaN for ``"log"``).
        midpoints, slopes: the local slopes the fit used, at X̄_i.
    """

    model: str
    value: float
    standard_error: float
    correction_exponent: float
    midpoints: tuple[float, ...]
    slopes: tuple[float, ...]
    shift: float = float("nan")
    kind: str = "local slopes"

    @property
    def last_slope(self) -> float:
        return self.slopes[-1]

    @property
    def determined(self) -> bool:
        """Whether the data fix the limit: False when the ``"power"`` fit ran to the smallest p of its grid (no
        curvature: the slopes move linearly in log X), or when ζ_∞ lies further from the last slope than the
        slopes' own spread |last − first| (the limit would be extrapolated beyond what the ladder shows)."""
        if self.model == "power" and self.correction_exponent <= _P_GRID[0] + 1e-12:
            return False
        return abs(self.value - self.slopes[-1]) <= abs(self.slopes[-1] - self.slopes[0])

    def describe(self, digits: int = 3) -> str:
        form = (f"ζ_i = ζ_∞ + c·X^−{self.correction_exponent:.2f}" if self.model == "power"
                else "ζ_i = ζ_∞ + c/log X")
        if not self.determined:
            slopes = ", ".join(f"{s:.{digits}f}" for s in self.slopes)
            return (f"no limit fixed by the data ({form} gives {self.value:.{digits}f}, beyond the {self.kind}' "
                    f"spread or at p's grid edge); {self.kind} {slopes}")
        slopes = ", ".join(f"{s:.{digits}f}" for s in self.slopes)
        shift = "" if math.isnan(self.shift) else f" (drop-first shift {self.shift:.{digits}f})"
        return (f"extrapolated ({form}) {self.value:.{digits}f} ± {self.standard_error:.{digits}f}{shift}; "
                f"{self.kind} {slopes}")


def _ols(u: np.ndarray, s: np.ndarray) -> tuple[float, float, float]:
    """(intercept, slope, SE of the intercept) of s = intercept + slope·u (SE 0 for an exact 2-point line)."""
    design = np.stack([np.ones_like(u), u], axis=1)
    coef, *_ = np.linalg.lstsq(design, s, rcond=None)
    resid = s - design @ coef
    dof = s.size - 2
    if dof <= 0:
        return float(coef[0]), float(coef[1]), 0.0
    cov = (resid @ resid / dof) * np.linalg.inv(design.T @ design)
    return float(coef[0]), float(coef[1]), float(math.sqrt(max(cov[0, 0], 0.0)))


def extrapolate(x, y, *, model: str = "power", sign: float = -1.0, last: int | None = None) -> Extrapolation:
    """Extrapolate the local slopes of (x, y) to X → ∞ under ``model``, using the ``last`` slopes (default all).

    ``"power"`` needs ≥ 3 slopes (p, ζ_∞, c), ``"log"`` ≥ 2.
    """
    if model not in MODELS:
        raise ValueError(f"model = {model!r} must be one of {MODELS}")
    mid, slopes = local_slopes(x, y, sign=sign)
    if last is not None:
        if last < 2:
            raise ValueError(f"last = {last!r} must be >= 2 local slopes")
        mid, slopes = mid[-last:], slopes[-last:]
    need = 3 if model == "power" else 2
    if slopes.size < need:
        raise ValueError(f"model {model!r} needs >= {need} local slopes (>= {need + 1} sizes), got {slopes.size}")
    full = _extrapolate_slopes(mid, slopes, model)
    if slopes.size > need:
        reduced = _extrapolate_slopes(mid[1:], slopes[1:], model)
        return dataclasses.replace(full, shift=abs(full.value - reduced.value))
    return full


def asymptotic_exponent(x, y, *, sign: float = -1.0) -> tuple[float, str]:
    """(the X → ∞ exponent a claim uses, a note stating how it was measured):

    - ≥ 5 sizes: the ``"power"`` limit, or the last local slope when that fit finds no curvature
      (:attr:`Extrapolation.determined` False: no limit is fixed by the data, so the claim is judged on the
      largest sizes);
    - 3–4 sizes: the ``"log"`` limit;
    - 2 sizes: the single slope."""
    n = len(x)
    if n >= 3:
        e = extrapolate(x, y, model="power" if n >= 5 else "log", sign=sign)
        if e.determined:
            return e.value, e.describe()
        return e.last_slope, e.describe() + "; claimed: the last local slope"
    _, slopes = local_slopes(x, y, sign=sign)
    return float(slopes[0]), f"one local slope {slopes[0]:.3f} (two sizes: no extrapolation)"


def extrapolate_values(x, values, *, model: str = "power") -> Extrapolation:
    """The X → ∞ limit of a finite-size estimate q(X) (e.g. an exponent fitted at each X) under ``model``:
    q = q_∞ + c·X^{−p} or q_∞ + c/log X (same fits and ``shift`` as :func:`extrapolate`)."""
    if model not in MODELS:
        raise ValueError(f"model = {model!r} must be one of {MODELS}")
    xs, qs = np.asarray(x, float), np.asarray(values, float)
    if xs.shape != qs.shape or xs.ndim != 1 or not (np.all(np.isfinite(xs) & (xs > 1)) and np.all(np.isfinite(qs))):
        raise ValueError(f"x = {x!r} must be > 1 and match finite values = {values!r}")
    if np.any(np.diff(xs) <= 0):
        raise ValueError(f"x = {x!r} must be strictly increasing")
    need = 3 if model == "power" else 2
    if qs.size < need:
        raise ValueError(f"model {model!r} needs >= {need} values, got {qs.size}")
    full = dataclasses.replace(_extrapolate_slopes(xs, qs, model), kind="values")
    if qs.size > need:
        return dataclasses.replace(full, shift=abs(full.value - _extrapolate_slopes(xs[1:], qs[1:], model).value))
    return full


def _extrapolate_slopes(mid: np.ndarray, slopes: np.ndarray, model: str) -> Extrapolation:
    if model == "log":
        value, _, se = _ols(1.0 / np.log(mid), slopes)
        return Extrapolation(model, value, se, float("nan"), tuple(map(float, mid)), tuple(map(float, slopes)))
    best = None
    scale = mid[0]  # u = (X̄/X̄_1)^{−p} keeps the design well conditioned
    for p in _P_GRID:
        u = (mid / scale) ** -p
        value, c, se = _ols(u, slopes)
        rss = float(np.sum((slopes - value - c * u) ** 2))
        if best is None or rss < best[0] - 1e-18:
            best = (rss, value, se, float(p))
    _, value, se, p = best
    return Extrapolation(model, value, se, p, tuple(map(float, mid)), tuple(map(float, slopes)))
