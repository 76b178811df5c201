"""Loss-curve laws fitted to training runs, and the schedules they design.

- :mod:`~lrwb.numerics.lawfit.laws`: the laws (:func:`get_law`: ``fsl``, ``mpl``, ``momentum``, ``fsln``);
- :mod:`~lrwb.numerics.lawfit.curves`: training curves and their readers (CSV, multipower, lr-scheduling,
  TensorBoard);
- :mod:`~lrwb.numerics.lawfit.fit`: :func:`fit_law` and the prediction metrics;
- :mod:`~lrwb.numerics.lawfit.design`: :func:`design_schedule` (the schedule a fitted law prefers);
- :mod:`~lrwb.numerics.lawfit.evaluation`: the prediction benchmark over tasks.

>>> from lrwb.numerics.lawfit import get_law
>>> get_law("fsl").name
'fsl'
"""

from __future__ import annotations

from lrwb.lazy import lazy_exports

#: the public names of the package, by the module that defines them (each module's ``__all__``)
_EXPORTS: dict[str, tuple[str, ...]] = {
    "laws": (
        "KERNEL_TOL", "Parameter", "LawEvaluation", "validate_schedule", "lr_drops", "Law", "FSLLaw",
        "ETA_FLOOR_FRACTION", "MultiPowerLaw", "TAYLOR_MAX", "TAYLOR_REFRESH", "MomentumLaw", "NoiseLaw", "LAWS",
        "get_law",
    ),
    "curves": (
        "default_data_root", "TrainingCurve", "validate_curve", "read_curves_csv", "write_curves_csv",
        "MULTIPOWER_PEAK", "MULTIPOWER_FLOOR", "MULTIPOWER_WARMUP", "MULTIPOWER_SIZES", "MULTIPOWER_FIT",
        "MULTIPOWER_TEST", "multipower_schedule", "load_multipower", "RunInfo", "load_lr_scheduling",
        "LRSchedulingModel", "lr_scheduling_run_name", "lr_scheduling_models", "select_lr_scheduling_model",
        "read_tensorboard", "tensorboard_scalars", "masked_crc32c",
    ),
    "fit": (
        "HUBER_DELTA", "FIT_KERNEL_TOL", "PENALTY", "METHODS", "AdamWSettings", "SurrogateFit", "FitResult", "huber",
        "smooth_ema", "fit_surrogate", "fit_law", "POOR_FIT_R2", "MIN_POINTS_PER_PARAMETER", "MAX_CONDITION",
        "fit_quality", "bootstrap_fit", "law_options", "PredictionMetrics", "prediction_metrics", "decay_mask",
        "PredictionRow", "evaluate_fit", "average_metrics", "default_method", "run_protocol",
    ),
    "design": (
        "MIN_RATIO", "DesignedSchedule", "knot_fractions", "schedule_from_knots", "design_schedule",
        "baseline_schedules", "write_design_csv", "schedule_callable", "torch_lambda_lr", "final_loss_interval",
    ),
    "evaluation": (
        "DIVERGED_LOSS", "LAST_FRACTION", "N_BOOT", "SPARSE_EVERY", "VARIANTS", "QUICK_VARIANTS", "METRICS", "Task",
        "RunScore", "TaskResult", "diverged", "score_run", "multipower_tasks", "lr_scheduling_tasks",
        "lr_scheduling_spec", "sparse_curves_csv", "sparse_tasks", "protocol_tasks", "evaluate_task",
        "evaluate_suite", "write_table_csv", "table_markdown", "table_text", "predicted_vs_actual_figure",
    ),
}
__all__ = [name for names in _EXPORTS.values() for name in names]
__getattr__, __dir__ = lazy_exports(__name__, names={name: module for module, names in _EXPORTS.items()
                                                     for name in names})
