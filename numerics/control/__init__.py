"""Optimal control of the exact SGD dynamics: learning-rate, momentum and batch-size schedules.

Layout (one concept per module):

- :mod:`~lrwb.numerics.control.adjoint`: the discrete adjoint of plain SGD (one forward and one reverse sweep,
  numba kernels and NumPy twins): J, ∂J/∂η_t, ∂J/∂(1/B_t) and the Pontryagin η*_t.
- :mod:`~lrwb.numerics.control.lr`: the optimal learning-rate schedule (L-BFGS-B, projected-Newton polish,
  Pontryagin stationarity certificate), and warm-started sweeps over horizons.
- :mod:`~lrwb.numerics.control.baselines`: the tuned parametric schedules the optimum is compared with.
- :mod:`~lrwb.numerics.control.momentum`: the joint (η_t, μ_t) optimum (heavy-ball recursion, its own sweeps).
- :mod:`~lrwb.numerics.control.batch`: the optimal batch ramp at a fixed sample budget.

>>> from lrwb.numerics import control
>>> from lrwb.numerics.spectra import power_law_spectrum
>>> opt = control.optimal_schedule(power_law_spectrum(3.5, 2.0, 20), 30, sigma=0.5, batch=5.0)
>>> best = control.best_constant(power_law_spectrum(3.5, 2.0, 20), 30, sigma=0.5, batch=5.0)
>>> bool(opt.final_loss < best.final_loss)
True
"""

from lrwb.numerics.control.adjoint import (
    BACKENDS,
    HAVE_NUMBA,
    AdjointGradient,
    SGDAdjoint,
    loss_and_gradient,
    objective_weights,
)
from lrwb.numerics.control.baselines import (
    BaselineSchedule,
    best_constant,
    best_cosine,
    best_linear,
    best_power_law,
    best_wsd,
    tuned_baselines,
)
from lrwb.numerics.control.batch import (
    CONVERGED_KKT,
    BatchGradient,
    OptimalBatchSchedule,
    RampFit,
    batch_loss_and_gradient,
    derived_batch_ramp,
    fit_ramp_exponent,
    optimal_batch_schedule,
    stable_batch_floor,
)
from lrwb.numerics.control.lr import (
    CONVERGED_RESIDUAL,
    OptimalSchedule,
    collapse_start,
    default_start,
    optimal_schedule,
    optimal_schedules,
    rescale_schedule,
    stationarity_residual,
)
from lrwb.numerics.control.momentum import (
    CONVERGED_DECREASE,
    ControlGradient,
    MomentumGradient,
    OptimalMomentumSchedule,
    authors_to_heavy_ball,
    heavy_ball_loss_and_gradient,
    heavy_ball_to_authors,
    momentum_loss_and_gradient,
    momentum_objective,
    optimal_momentum_schedule,
    optimal_momentum_schedules,
    smoothness_penalty,
)

__all__ = [
    # adjoint
    "BACKENDS", "HAVE_NUMBA", "AdjointGradient", "SGDAdjoint", "loss_and_gradient", "objective_weights",
    # optimal learning rate
    "CONVERGED_RESIDUAL", "OptimalSchedule", "optimal_schedule", "optimal_schedules", "stationarity_residual",
    "rescale_schedule", "collapse_start", "default_start",
    # baselines
    "BaselineSchedule", "best_constant", "best_power_law", "best_cosine", "best_linear", "best_wsd",
    "tuned_baselines",
    # momentum
    "CONVERGED_DECREASE", "MomentumGradient", "ControlGradient", "OptimalMomentumSchedule",
    "momentum_loss_and_gradient", "heavy_ball_loss_and_gradient", "momentum_objective", "smoothness_penalty",
    "authors_to_heavy_ball", "heavy_ball_to_authors", "optimal_momentum_schedule", "optimal_momentum_schedules",
    # batch
    "CONVERGED_KKT", "BatchGradient", "OptimalBatchSchedule", "RampFit", "batch_loss_and_gradient",
    "optimal_batch_schedule", "derived_batch_ramp", "fit_ramp_exponent", "stable_batch_floor",
]
