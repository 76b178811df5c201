"""The Functional Scaling Law (FSL): the O(T·Q) engine and the optimal schedules it predicts.

- :mod:`~lrwb.numerics.fsl.engine`: models (:func:`power_law_model`, :func:`mode_sum_model`), the loss curve
  :func:`fsl_curve` (Picard iterates, Volterra solution), :func:`final_loss`, the stability bound;
- :mod:`~lrwb.numerics.fsl.optimal`: :func:`optimal_schedule` and the exponents of optimal schedules;
- :mod:`~lrwb.numerics.fsl.table1`: the Table-1 numerics (imported on its own; not re-exported here).

>>> from lrwb.numerics.fsl import fsl_curve, power_law_model
>>> fsl_curve(power_law_model(1.0, 2.0, sigma=0.0), [0.1, 0.1]).loss.shape
(3,)
"""

from __future__ import annotations

from lrwb.lazy import lazy_exports

#: the public names of the package, by the module that defines them (each module's ``__all__``)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "engine": (
        "ITERATES", "from_half_convention", "to_half_convention", "check_exponents", "check_schedule",
        "check_fsl_batch", "FSLModel", "mode_sum_model", "power_law_model", "fsl_spectrum", "exp_sum_along",
        "fast_noise", "naive_noise", "FSLCurve", "intrinsic_times", "power_law_renewal_norm", "fsl_stability_bound",
        "fsl_stability_check", "fsl_curve", "neumann_factor", "exact_renewal_norm", "final_loss",
    ),
    "optimal": (
        "fsl_objective", "OptimalSchedule", "best_constant", "decay_exponent", "stationarity_exponent",
        "decay_fraction", "rescale_schedule", "optimal_schedule", "optimal_schedules", "write_optimal_csv",
        "fixed_shape_loss",
    ),
}
__all__ = [name for names in _EXPORTS.values() for name in names]
__getattr__, __dir__ = lazy_exports(__name__, names={name: module for module, names in _EXPORTS.items()
                                                     for name in names})
