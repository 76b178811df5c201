"""One evaluation protocol for every loss-curve law: fit on a stated subset of runs, predict the rest.

Tasks (data set × protocol; :func:`protocol_tasks`):

* ``multipower`` (Luo et al. 2025), per size 25M / 100M / 400M:
  ``authors`` — fit cosine_24000 + constant_24000 + wsdcon_9, predict the 6 other runs (the MPL paper's split);
  ``loso`` — leave one schedule out: for each of the 9 runs, fit the 8 others and predict it (the metrics
  average the 9 held-out predictions).
* ``lr-scheduling`` (Schaipp et al. 2025), per model (11): ``cos->wsd`` — fit every cosine run, predict every
  WSD run (the cosine runs mostly use 2× the WSD peak LR: the law must transfer across peak LR);
  ``wsd->cos`` — the reverse.
* ``sparse`` — lr-scheduling runs as a user would log them: validation loss only every ``SPARSE_EVERY`` = 1000
  steps and the schedule given as a grammar spec per run (:func:`lr_scheduling_spec`, read back through the
  ``schedule`` column of :func:`lrwb.numerics.lawfit.curves.read_curves_csv`): nothing is interpolated between the
  logged points; protocol ``cos->wsd``.

Runs that diverged (last logged loss above the run's minimum by more than ``DIVERGED_LOSS`` = 0.1) are left out
of fit and prediction sets alike (one lr-scheduling run: L12H12 cosine at LR 5e−3, final loss 7.5).

Laws and budget (:data:`VARIANTS`): every law is fitted with the same optimiser and budget — ``converged``
(:func:`lrwb.numerics.lawfit.fit.fit_law` defaults: 2 + 32 screened starts, 2 polished, ≤ 100 TRF + 400 L-BFGS-B
iterations each, Huber δ = 1e−3 on log residuals) — and the multi-power law also with its authors' procedure
(``adamw``: 135-point surrogate grid + AdamW), the published reference.

Metrics (raw loss at the logged points after the warmup), per predicted run, then averaged over the runs of a
task (the MPL paper's convention): RMSE and R² on the whole run; RMSE and R² on the last 10% of the run's
logged steps (steps ≥ 0.9 × the last logged step); the absolute final-loss error. 95% intervals: percentile
bootstrap over the predicted runs (``N_BOOT`` = 2000 resamples, seed 0); a task with one predicted run has no
interval (NaN).
"""

from __future__ import annotations

import csv
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lrwb.numerics.lawfit.curves import (MULTIPOWER_FIT, MULTIPOWER_SIZES, MULTIPOWER_TEST, TrainingCurve, default_data_root,
                             load_multipower, lr_scheduling_models)
from lrwb.numerics.lawfit.fit import FitResult, fit_law, prediction_metrics
from lrwb.numerics.io import atomic_write

__all__ = ["DIVERGED_LOSS", "LAST_FRACTION", "N_BOOT", "SPARSE_EVERY", "VARIANTS", "QUICK_VARIANTS", "METRICS",
           "Task", "RunScore", "TaskResult", "diverged", "score_run", "multipower_tasks", "lr_scheduling_tasks",
           "lr_scheduling_spec", "sparse_curves_csv", "sparse_tasks", "protocol_tasks", "evaluate_task",
           "evaluate_suite", "write_table_csv", "table_markdown", "table_text", "predicted_vs_actual_figure"]

DIVERGED_LOSS = 0.1  # a run whose last logged loss exceeds its minimum by more than this diverged
LAST_FRACTION = 0.1  # "last 10%": logged steps >= (1 − 0.1) × the last logged step
N_BOOT = 2000
SPARSE_EVERY = 1000
#: (label, law, method): the same converged budget for every law, plus the MPL with its authors' procedure
VARIANTS = (("fsln", "fsln", "converged"), ("mpl-authors", "mpl", "adamw"), ("mpl", "mpl", "converged"),
            ("fsl", "fsl", "converged"), ("momentum", "momentum", "converged"))
QUICK_VARIANTS = (("fsln", "fsln", "converged"), ("mpl-authors", "mpl", "adamw"))
METRICS = ("rmse", "r2", "rmse_last", "r2_last", "final_abs")


@dataclass(frozen=True)
class Task:
    """One fit/predict split: ``splits`` is a list of (fit_on, predict) (one for most protocols, 9 for loso)."""

    dataset: str
    source: str
    protocol: str
    curves: dict = field(repr=False)
    splits: tuple = ()


@dataclass(frozen=True)
class RunScore:
    run: str
    rmse: float
    r2: float
    rmse_last: float
    r2_last: float
    final_abs: float
    steps: np.ndarray = field(repr=False, default=None)
    observed: np.ndarray = field(repr=False, default=None)
    predicted: np.ndarray = field(repr=False, default=None)


@dataclass(frozen=True)
class TaskResult:
    """A law on a task: per-run scores, means with bootstrap 95% intervals, fits and fit time."""

    task: Task
    label: str
    law: str
    method: str
    runs: tuple[RunScore, ...]
    fits: tuple[FitResult, ...]
    fit_time_s: float  # mean wall time of one fit

    def mean(self, metric: str) -> float:
        return float(np.mean([getattr(r, metric) for r in self.runs]))

    def interval(self, metric: str, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float]:
        """Percentile bootstrap 95% interval of the run-mean of ``metric`` (resampling the predicted runs)."""
        v = np.array([getattr(r, metric) for r in self.runs], dtype=float)
        if v.size < 2:
            return (math.nan, math.nan)
        idx = np.random.default_rng(seed).integers(0, v.size, size=(n_boot, v.size))
        means = v[idx].mean(axis=1)
        return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))

    def row(self) -> dict:
        out = {"dataset": self.task.dataset, "source": self.task.source, "protocol": self.task.protocol,
               "law": self.label, "method": self.method, "n_predicted": len(self.runs),
               "n_fits": len(self.fits), "fit_time_s": self.fit_time_s}
        for m in METRICS:
            lo, hi = self.interval(m)
            out[m], out[m + "_lo"], out[m + "_hi"] = self.mean(m), lo, hi
        return out


def diverged(curve: TrainingCurve, tol: float = DIVERGED_LOSS) -> bool:
    """True when the run's last logged loss exceeds its minimum by more than ``tol``."""
    return bool(curve.loss[-1] > curve.loss.min() + tol)


def score_run(curve: TrainingCurve, predicted: np.ndarray) -> RunScore:
    """The protocol's metrics of one predicted run (module docstring)."""
    whole = prediction_metrics(curve.loss, predicted)
    last = curve.steps >= (1.0 - LAST_FRACTION) * curve.steps[-1]
    tail = prediction_metrics(curve.loss[last], predicted[last])
    return RunScore(curve.name, whole.rmse, whole.r2, tail.rmse, tail.r2, abs(whole.final_error),
                    curve.steps, curve.loss, np.asarray(predicted))


# ----------------------------------------------------------------------------------------------------------
# tasks


def multipower_tasks(root, sizes=MULTIPOWER_SIZES, protocols=("authors", "loso")) -> list[Task]:
    out = []
    for size in sizes:
        curves = load_multipower(Path(root) / "multipower", size)
        if "authors" in protocols:
            out.append(Task("multipower", f"{size}M", "authors", curves, ((MULTIPOWER_FIT, MULTIPOWER_TEST),)))
        if "loso" in protocols:
            names = tuple(curves)
            splits = tuple((tuple(n for n in names if n != held), (held,)) for held in names)
            out.append(Task("multipower", f"{size}M", "loso", curves, splits))
    return out


def _lr_models(root, models):
    found = lr_scheduling_models(Path(root) / "lr-scheduling")
    keys = tuple(found) if models is None else tuple(models)
    missing = [k for k in keys if k not in found]
    if missing:
        raise ValueError(f"lr-scheduling model(s) {missing} not found; models: {', '.join(found)}")
    return found, keys


def lr_scheduling_tasks(root, models=None, protocols=("cos->wsd", "wsd->cos")) -> list[Task]:
    found, keys = _lr_models(root, models)
    out = []
    for key in keys:
        m = found[key]
        cos = tuple(n for n in m.fit if not diverged(m.curves[n]))
        wsd = tuple(n for n in m.predict if not diverged(m.curves[n]))
        for p in protocols:
            split = (cos, wsd) if p == "cos->wsd" else (wsd, cos)
            out.append(Task("lr-scheduling", key, p, m.curves, (split,)))
    return out


def lr_scheduling_spec(info, curve: TrainingCurve) -> str:
    """The grammar spec of an lr-scheduling run (schedules.py): the run's cosine or WSD cooldown with its 300-step
    warmup from 1% of the peak (the grammar's warmup is linear; its WSD fraction is taken of T − W, so the
    trainer's fraction of T is converted). The cosine floor (10% of the peak, or 0 in the
    ``cos-zero`` runs: the config's ``cos_final_lr`` is not in every export) is read off the run's last logged
    LR, rounded to a tenth of the peak, as its run name does."""
    warm = f"+warmup={info.warmup},from=0.01" if info.warmup else ""
    if info.scheduler.startswith("cos"):
        floor = round(float(curve.lr[curve.steps[-1]]) / info.lr, 1) * info.lr
        return f"cosine:{info.lr:g},{floor:g}{warm}"
    frac = info.decay_fraction or 0.0
    if frac <= 0:
        return f"constant:{info.lr:g}{warm}"
    shape = info.decay_shape if info.decay_shape in ("linear", "sqrt", "exp") else "linear"
    # the trainer cools down over the last frac·T steps; the grammar's WSD decays over FRACTION of T − W
    frac_after_warmup = frac * info.iterations / (info.iterations - info.warmup)
    return f"wsd:{info.lr:g},{frac_after_warmup:.12g},0,shape={shape}{warm}"


def sparse_curves_csv(model, path, every: int = SPARSE_EVERY) -> Path:
    """Write a model's runs as a user would have them: ``run,step,loss,schedule,horizon`` with the loss only
    at multiples of ``every`` steps and the schedule as a grammar spec per run (no lr column)."""
    with atomic_write(path) as handle:
        w = csv.writer(handle)
        w.writerow(["run", "step", "lr", "loss", "schedule", "horizon"])
        for name, c in model.curves.items():
            if diverged(c):
                continue
            info = model.infos[name]
            spec = lr_scheduling_spec(info, c)
            keep = np.flatnonzero(c.steps % every == 0)
            for i in keep:
                w.writerow([name, int(c.steps[i]), "", repr(float(c.loss[i])), spec, info.iterations])
    return Path(path)


def sparse_tasks(root, models, workdir, prefix: str = "") -> list[Task]:
    """``cos->wsd`` on the sparse, spec-scheduled version of each model (module docstring)."""
    from lrwb.numerics.lawfit.curves import read_curves_csv

    found, keys = _lr_models(root, models)
    out = []
    for key in keys:
        m = found[key]
        path = sparse_curves_csv(m, Path(workdir) / f"{prefix}sparse_{key}.csv")
        curves = read_curves_csv(path, warmup=300)
        cos = tuple(n for n in m.fit if n in curves and curves[n].steps.size > 3)
        wsd = tuple(n for n in m.predict if n in curves and curves[n].steps.size > 3)
        out.append(Task("sparse", key, "cos->wsd", curves, ((cos, wsd),)))
    return out


def protocol_tasks(quick: bool, root=None, workdir=None) -> list[Task]:
    """The tasks of the comparison: ``quick`` — multipower 25M and 400M (authors' split), one lr-scheduling
    model each way, its sparse version; full — every size, model and protocol."""
    root = Path(root) if root is not None else default_data_root()
    workdir = Path(workdir) if workdir is not None else Path(".")
    if quick:
        one = ("slimpajama_L12H10E640B50x2",)
        return (multipower_tasks(root, (25, 400), ("authors",)) + lr_scheduling_tasks(root, one)
                + sparse_tasks(root, one, workdir))
    return multipower_tasks(root) + lr_scheduling_tasks(root) + sparse_tasks(root, None, workdir)


# ----------------------------------------------------------------------------------------------------------
# running


def evaluate_task(task: Task, label: str, law: str, method: str, **fit_kwargs) -> TaskResult:
    """Fit ``law`` with ``method`` on each split of ``task`` and score every predicted run."""
    runs, fits, times = [], [], []
    for fit_on, predict in task.splits:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # adamw on non-MPL laws etc. are stated in the protocol
            t0 = time.perf_counter()
            fit = fit_law(law, [task.curves[n] for n in fit_on], method=method, **fit_kwargs)
            times.append(time.perf_counter() - t0)
        fits.append(fit)
        for name in predict:
            c = task.curves[name]
            runs.append(score_run(c, fit.predict(c.lr, c.steps, warmup=c.warmup)))
    return TaskResult(task, label, law, method, tuple(runs), tuple(fits), float(np.mean(times)))


def evaluate_suite(tasks, variants=VARIANTS, progress=None, **fit_kwargs) -> list[TaskResult]:
    """Every variant on every task (``progress``: optional callable taking one line of text)."""
    out = []
    for task in tasks:
        for label, law, method in variants:
            res = evaluate_task(task, label, law, method, **fit_kwargs)
            out.append(res)
            if progress is not None:
                progress(f"{task.dataset} {task.source} {task.protocol} {label}: R² {res.mean('r2'):.4f} "
                         f"RMSE {res.mean('rmse'):.5f} ({res.fit_time_s:.1f} s/fit)")
    return out


def write_table_csv(results: list[TaskResult], path) -> Path:
    rows = [r.row() for r in results]
    cols = list(rows[0]) if rows else []
    with atomic_write(path) as handle:
        w = csv.writer(handle)
        w.writerow(cols)
        for r in rows:
            w.writerow([f"{v!r}" if isinstance(v, float) else v for v in r.values()])
    return Path(path)


def table_markdown(results: list[TaskResult]) -> str:
    """law × data set × protocol: mean over predicted runs [95% bootstrap interval]."""
    lines = ["| data | source | protocol | law | R² | RMSE | R² last 10% | RMSE last 10% | abs. final error "
             "| s/fit |",
             "|---|---|---|---|---|---|---|---|---|---|"]

    def fmt(r, m, spec):
        lo, hi = r.interval(m)
        core = format(r.mean(m), spec)
        return core if math.isnan(lo) else f"{core} [{format(lo, spec)}, {format(hi, spec)}]"

    for r in results:
        lines.append(f"| {r.task.dataset} | {r.task.source} | {r.task.protocol} | {r.label} | {fmt(r, 'r2', '.4f')} | "
                     f"{fmt(r, 'rmse', '.5f')} | {fmt(r, 'r2_last', '.3f')} | {fmt(r, 'rmse_last', '.5f')} | "
                     f"{fmt(r, 'final_abs', '.5f')} | {r.fit_time_s:.1f} |")
    return "\n".join(lines)


def table_text(results: list[TaskResult]) -> str:
    """The comparison for a terminal: one line per task and law."""
    head = (f"{'data':13s} {'source':28s} {'protocol':9s} {'law':12s} {'R2':>8s} {'RMSE':>9s} {'R2 last':>8s} "
            f"{'RMSE last':>9s} {'|final|':>8s} {'s/fit':>6s}")
    lines = [head]
    for r in results:
        lines.append(f"{r.task.dataset:13s} {r.task.source:28s} {r.task.protocol:9s} {r.label:12s} "
                     f"{r.mean('r2'):8.4f} {r.mean('rmse'):9.5f} {r.mean('r2_last'):8.3f} {r.mean('rmse_last'):9.5f} "
                     f"{r.mean('final_abs'):8.5f} {r.fit_time_s:6.1f}")
    return "\n".join(lines)


def predicted_vs_actual_figure(results: list[TaskResult], stem) -> list[Path]:
    """One panel per (task, law): predicted vs observed loss at every predicted point, one colour per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lrwb.numerics.io import save_figure

    tasks = list(dict.fromkeys((r.task.dataset, r.task.source, r.task.protocol) for r in results))
    labels = list(dict.fromkeys(r.label for r in results))
    fig, axes = plt.subplots(len(tasks), len(labels), figsize=(2.6 * len(labels), 2.4 * len(tasks)),
                             squeeze=False)
    for r in results:
        i = tasks.index((r.task.dataset, r.task.source, r.task.protocol))
        ax = axes[i][labels.index(r.label)]
        lo, hi = math.inf, -math.inf
        for j, s in enumerate(r.runs):
            ax.plot(s.observed, s.predicted, ".", ms=1.5, color=f"C{j % 10}")
            lo, hi = min(lo, s.observed.min(), s.predicted.min()), max(hi, s.observed.max(), s.predicted.max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.5)
        ax.set_title(f"{r.task.source} {r.task.protocol}\n{r.label}: R² {r.mean('r2'):.3f}", fontsize=6)
        ax.tick_params(labelsize=5)
    for ax in axes[-1]:
        ax.set_xlabel("actual loss", fontsize=6)
    for row in axes:
        row[0].set_ylabel("predicted loss", fontsize=6)
    fig.tight_layout()
    return save_figure(fig, Path(stem))
