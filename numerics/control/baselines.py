"""Tuned parametric baselines, each tuned per horizon on the same exact dynamics (``plrf.md`` §5).

Families (``conventions.md`` schedule grammar): best constant, power law η0(1+t)^{−χ} (η0 ∈ [0, η_max], χ ≥ 0),
cosine-to-zero, linear-to-zero and WSD (peak and decay fraction; exponential decay to peak/1000). Each is tuned
on the final excess loss of the exact expected dynamics (:func:`lrwb.numerics.dynamics.expected.expected_loss`):
the best point of a grid (one batched forward pass), then a bounded Nelder–Mead or Brent search; divergent
trial schedules count as +∞. A cap above the stability bound is clipped to it with a warning, as for the
optimum (:func:`lrwb.numerics.control.lr.optimal_schedule`): the baselines compete inside the same stable box.

>>> from lrwb.numerics.spectra import power_law_spectrum
>>> best = best_constant(power_law_spectrum(3.5, 2.0, 20), 30, sigma=0.5, batch=5.0)
>>> best.family, best.lr.shape, best.spec.startswith("constant:")
('constant', (30,), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from lrwb.numerics import schedules as _schedules
from lrwb.numerics.checks import check_positive_int
from lrwb.numerics.control.adjoint import check_eta_max, check_problem
from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.dynamics.expected import expected_loss
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import stable_eta_max

__all__ = [
    "BaselineSchedule",
    "final_losses",
    "best_constant",
    "best_power_law",
    "best_cosine",
    "best_linear",
    "best_wsd",
    "tuned_baselines",
]


@dataclass(frozen=True)
class BaselineSchedule:
    """A tuned parametric schedule.

    Attributes:
        family: ``constant``, ``power``, ``cosine``, ``linear`` or ``wsd``.
        parameters: the tuned parameters by name (e.g. ``{"eta0": …, "chi": …}``).
        spec: the schedule in the project grammar (``conventions.md``), e.g. ``power:0.8,0.6``.
        lr: η_t, t = 0 … T−1.
        final_loss: excess loss at T.
    """

    family: str
    parameters: dict
    spec: str
    lr: np.ndarray
    final_loss: float




def final_losses(spectrum, lr_matrix, sigma, batch) -> np.ndarray:
    """Final excess loss of each schedule (row) of ``lr_matrix`` (S, T) by one batched pass of the exact
    dynamics; a divergent schedule gives +inf."""
    curve = expected_loss(spectrum, lr_matrix, sigma=sigma, batch=batch, parts=False, on_divergence="flag")
    final = np.atleast_1d(np.asarray(curve.final_loss, dtype=float))
    return np.where(np.isfinite(final), final, np.inf)


def _tune(spectrum, steps, sigma, batch, make, grid, bounds):
    """Minimise the final loss of ``make(params)`` (a T-array): best point of ``grid`` (batched through the
    exact dynamics), then Nelder–Mead inside ``bounds`` (divergent points count as +∞)."""
    grid = np.asarray(grid, dtype=float)
    matrix = np.stack([make(g) for g in grid])
    finals = final_losses(spectrum, matrix, sigma, batch)
    best = grid[int(np.argmin(finals))]

    def fun(x):
        x = np.clip(x, [b[0] for b in bounds], [b[1] for b in bounds])
        return float(final_losses(spectrum, make(x)[None, :], sigma, batch)[0])

    res = optimize.minimize(fun, best, method="Nelder-Mead", bounds=bounds,
                            options=dict(xatol=1e-6, fatol=0.0, maxiter=400))
    x = np.clip(res.x, [b[0] for b in bounds], [b[1] for b in bounds])
    value = fun(x)
    if not np.isfinite(value):
        raise ValueError("baseline tuning: every trial schedule diverged; lower eta_max")
    return x, value


def _baseline_args(spectrum, steps, sigma, batch, eta_max):
    """Checked (T, cap); a cap above the stability bound is clipped to it with a warning (as for the optimum:
    the tuned baselines compete inside the same stable box)."""
    check_problem(spectrum, sigma, batch)
    eta_max = stable_eta_max(check_eta_max(eta_max), spectrum.eigenvalues, batch)[0]
    return check_positive_int(steps, "steps"), eta_max


def best_constant(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = DEFAULTS.eta_max
                  ) -> BaselineSchedule:
    """The constant η ∈ (0, η_max] with the lowest final loss (grid in log η, then bounded Brent)."""
    steps, eta_max = _baseline_args(spectrum, steps, sigma, batch, eta_max)
    grid = eta_max * np.logspace(-4, 0, 41)
    finals = final_losses(spectrum, np.repeat(grid[:, None], steps, axis=1), sigma, batch)
    i = int(np.argmin(finals))
    lo, hi = np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, grid.size - 1)])

    def fun(log_eta):
        return float(final_losses(spectrum, np.full((1, steps), np.exp(log_eta)), sigma, batch)[0])

    res = optimize.minimize_scalar(fun, bounds=(lo, hi), method="bounded", options=dict(xatol=1e-9))
    eta, value = (float(np.exp(res.x)), float(res.fun)) if res.fun <= finals[i] else (float(grid[i]), float(finals[i]))
    return BaselineSchedule("constant", {"eta": eta}, f"constant:{eta!r}", np.full(steps, eta), value)


def best_power_law(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = DEFAULTS.eta_max
                   ) -> BaselineSchedule:
    """η_t = η0 (1+t)^{−χ} with η0 ∈ [0, η_max], χ ≥ 0 (searched in [0, 3]), no clipping.

    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> best_power_law(spectrum, 20, sigma=0.5, batch=5.0).family
    'power'
    """
    steps, eta_max = _baseline_args(spectrum, steps, sigma, batch, eta_max)
    t = np.arange(steps, dtype=float)

    def make(x):
        return x[0] * (1.0 + t) ** (-x[1])

    grid = [(e, c) for e in eta_max * np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.85, 1.0])
            for c in np.linspace(0.0, 1.5, 16)]
    x, value = _tune(spectrum, steps, sigma, batch, make, grid, [(1e-12, eta_max), (0.0, 3.0)])
    params = {"eta0": float(x[0]), "chi": float(x[1])}
    return BaselineSchedule("power", params, f"power:{params['eta0']!r},{params['chi']!r}", make(x), value)


def _peak_family(family, spectrum, steps, sigma, batch, eta_max, factory):
    steps, eta_max = _baseline_args(spectrum, steps, sigma, batch, eta_max)

    def make(x):
        return factory(float(x[0]), 0.0).values(steps)

    grid = [(e,) for e in eta_max * np.linspace(0.05, 1.0, 20)]
    x, value = _tune(spectrum, steps, sigma, batch, make, grid, [(1e-12, eta_max)])
    peak = float(x[0])
    return BaselineSchedule(family, {"peak": peak, "floor": 0.0}, f"{family}:{peak!r},0", make(x), value)


def best_cosine(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = DEFAULTS.eta_max
                ) -> BaselineSchedule:
    """Cosine to zero, η_t = P·½(1 + cos(πt/T)), tuned peak P ∈ (0, η_max]."""
    return _peak_family("cosine", spectrum, steps, sigma, batch, eta_max, _schedules.cosine)


def best_linear(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = DEFAULTS.eta_max
                ) -> BaselineSchedule:
    """Linear to zero, η_t = P (1 − t/T), tuned peak P ∈ (0, η_max]."""
    return _peak_family("linear", spectrum, steps, sigma, batch, eta_max, _schedules.linear)


def best_wsd(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = DEFAULTS.eta_max,
             final_ratio: float = 1e-3) -> BaselineSchedule:
    """Warmup-free WSD ``wsd:PEAK,FRACTION,FINAL`` (exponential decay over the last FRACTION·T steps to
    FINAL = ``final_ratio``·PEAK), tuned peak ∈ (0, η_max] and fraction ∈ [0.01, 1]."""
    steps, eta_max = _baseline_args(spectrum, steps, sigma, batch, eta_max)

    def make(x):
        return _schedules.wsd(float(x[0]), float(x[1]), final_ratio * float(x[0])).values(steps)

    grid = [(e, f) for e in eta_max * np.linspace(0.1, 1.0, 10) for f in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)]
    x, value = _tune(spectrum, steps, sigma, batch, make, grid, [(1e-12, eta_max), (0.01, 1.0)])
    peak, fraction = float(x[0]), float(x[1])
    final = final_ratio * peak
    return BaselineSchedule("wsd", {"peak": peak, "fraction": fraction, "final": final},
                            f"wsd:{peak!r},{fraction!r},{final!r}", make(x), value)


def tuned_baselines(spectrum: Spectrum, steps: int, *, sigma: float, batch: float, eta_max: float = DEFAULTS.eta_max
                    ) -> dict[str, BaselineSchedule]:
    """All baselines tuned for this horizon, keyed by family.

    >>> from lrwb.numerics.spectra import power_law_spectrum
    >>> spectrum = power_law_spectrum(3.5, 2.0, 20)
    >>> sorted(tuned_baselines(spectrum, 20, sigma=0.5, batch=5.0))
    ['constant', 'cosine', 'linear', 'power', 'wsd']
    """
    kw = dict(sigma=sigma, batch=batch, eta_max=eta_max)
    return {
        "constant": best_constant(spectrum, steps, **kw),
        "power": best_power_law(spectrum, steps, **kw),
        "cosine": best_cosine(spectrum, steps, **kw),
        "linear": best_linear(spectrum, steps, **kw),
        "wsd": best_wsd(spectrum, steps, **kw),
    }
