"""The project's defaults and pinned tolerances, declared once (``conventions.md``, binding).

Every engine signature, experiment and CLI flag that needs one of these values imports it from here, so a
change of convention is one edit.

>>> from lrwb.numerics.conventions import DEFAULTS
>>> DEFAULTS.a, DEFAULTS.b, DEFAULTS.features, DEFAULTS.sigma, DEFAULTS.batch, DEFAULTS.eta_max, DEFAULTS.steps
(3.5, 2.0, 1000, 0.5, 5.0, 1.0, 1000)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Defaults", "DEFAULTS", "EXPONENT_TOLERANCE", "STATIONARITY_RESIDUAL", "MONTE_CARLO_SE",
           "FSL_EXACT_RELATIVE", "FSL_SMALL_KERNEL"]


@dataclass(frozen=True)
class Defaults:
    """The easy row of the PLRF Fig. 2 (``conventions.md`` § Defaults).

    a: capacity exponent of the spectrum λ_k = k^{−a}; b: source exponent of the target (λ_k w*_k² = k^{−b});
    features: N, the model size; sigma: label-noise standard deviation σ; batch: B; eta_max: the learning-rate
    cap η_max; steps: the horizon T. Zero initialisation: c_k(0) = w*_k².
    """

    a: float = 3.5
    b: float = 2.0
    features: int = 1000
    sigma: float = 0.5
    batch: float = 5.0
    eta_max: float = 1.0
    steps: int = 1000


#: the project's defaults; ``dataclasses.replace(DEFAULTS, b=5.0)`` for another row.
DEFAULTS = Defaults()

#: fitted exponents (loss, schedule, Table-1) vs derived: ±0.05 at CI horizons.
EXPONENT_TOLERANCE = 0.05
#: Pontryagin stationarity residual (relative) on steps where the bound is inactive.
STATIONARITY_RESIDUAL = 1e-6
#: Monte Carlo vs exact: agreement within this many standard errors.
MONTE_CARLO_SE = 4.0
#: FSL vs exact dynamics: relative agreement where ‖K‖₁ ≤ :data:`FSL_SMALL_KERNEL`.
FSL_EXACT_RELATIVE = 0.05
FSL_SMALL_KERNEL = 0.05
