"""Loss-curve laws on real training runs (``fsl.md`` §5–6, issue 6): fit on some runs, predict the others.

Data (:func:`lrwb.numerics.lawfit.curves.default_data_root`: ``$LRWB_DATA`` if set, else the copy bundled with the package):

* ``multipower`` (Luo et al. 2025): the MPL split — fit on cosine_24000 + constant_24000 + wsdcon_9, predict
  constant_72000, cosine_72000, wsd_20000_24000, wsdld_20000_24000, wsdcon_3, wsdcon_18 — for the 25M, 100M
  and 400M models (``quick``: 25M and 400M). Raw training loss at the logged steps.
* ``lr-scheduling`` (Schaipp et al. 2025): per model, fit the cosine runs and predict every WSD run
  (cooldowns joined to their base run), validation loss (``quick``: the 8-layer 384-wide SlimPajama model;
  full: all 11 models).

Laws and fit methods (:mod:`lrwb.numerics.lawfit.fit`): the FSL-N law (``fsln``) and the momentum law fitted to a converged
minimum (``converged``: TRF + L-BFGS-B), the multi-power law with its authors' protocol (``adamw``: 135-point
surrogate grid, then AdamW from the surrogate); in the full run also the FSL ansatz and the MPL fitted to
convergence, to show what the protocol does. Metrics on the predicted runs (mean over runs, as the MPL paper averages): R², RMSE,
MAE, final-loss error on the whole logged curve after the warmup and RMSE on the decay region.

Claims: per multipower size, the MPL's unrounded R² and RMSE against the published bar (the MPL code release's
README table) with a stated tolerance of half a unit in the bar's last published digit (R² published to 4
decimals: ≥ bar − 5e−5; RMSE to 3 significant digits: ≤ bar + 5e−6) — the authors' own parameters give
0.997763 at 400M, inside the tolerance of "0.9978" but below it unrounded, which the claim's note states;
and the fitted MPL parameters against the published ones (maximum relative deviation ≤ 1e−3: the protocol is
reproduced, not only its metrics). Targets of issue 14, measured side by side in the same run and protocol
(recorded as claims so that a miss shows as a fail): the FSL-N law (``fsln``, :class:`lrwb.numerics.lawfit.laws.NoiseLaw`)
beats the MPL with its authors' procedure on RMSE at every multipower size, by ≥ 20% at 400M; and predicts
the WSD runs of every lr-scheduling model with R² ≥ 0.95.

The evaluation protocol's comparison table (:mod:`lrwb.numerics.lawfit.evaluation`: the protocols ``loso``, ``wsd->cos``
and the sparse spec-scheduled curves besides the two above) is written as ``real_curves_comparison.csv/.md``
and a predicted-vs-actual figure; quick: the sparse version of the quick model; full: every task.

Outputs (prefix ``real_curves``): ``_summary.csv`` (one row per source, law and method), ``_metrics.csv``
(per run and region), ``_params.json`` (fits) and one overlay figure per source (PNG and PDF): data dots,
fitted runs dashed, predicted runs solid.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrwb.numerics.lawfit.curves import (MULTIPOWER_FIT, MULTIPOWER_SIZES, MULTIPOWER_TEST, TrainingCurve, default_data_root,
                             load_multipower, lr_scheduling_models)
from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim, SanityCheck
from lrwb.numerics.lawfit.fit import AdamWSettings, FitResult, PredictionRow, average_metrics, evaluate_fit, fit_law
from lrwb.numerics.io import atomic_write, save_figure
from lrwb.numerics.lawfit import evaluation

__all__ = ["MPL_BAR", "MPL_PUBLISHED_PARAMS", "MPL_SOURCE", "QUICK_MODELS", "VARIANTS", "FULL_VARIANTS",
           "SourceFit", "RealCurvesResult", "fit_source", "real_curves"]

#: Luo et al. 2025, MPL code release README ("Evaluation Metrics"): (R², RMSE) averaged over the 6 test runs.
MPL_BAR = {25: (0.9988, 0.00465), 100: (0.9983, 0.00592), 400: (0.9978, 0.00730)}
#: the same release's config.py: fitted (L0, A, α, B, C, β, γ) per size.
MPL_PUBLISHED_PARAMS = {
    25: (3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257),
    100: (2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644),
    400: (2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457),
}
MPL_SOURCE = "Luo et al. 2025 (multi-power law, arXiv 2503.12811), code-release README Evaluation Metrics table"
PARAMS_TOLERANCE = 1e-3  # relative; the protocol reproduces the published parameters to ~1e−5 (kernel 1e−9)
QUICK_MODELS = ("slimpajama_L8H6E384B50x2",)
QUICK_SIZES = (25, 400)
#: (law, method): each law with its authors' protocol (the FSL-N law, fsln, is the workbench's own)
VARIANTS = (("fsln", "converged"), ("mpl", "adamw"), ("momentum", "converged"))
FULL_VARIANTS = VARIANTS + (("fsl", "converged"), ("mpl", "converged"))
R2_BAR_TOLERANCE = 5e-5  # half a unit of the published R²'s 4th decimal
RMSE_BAR_TOLERANCE = 5e-6  # half a unit of the published RMSE's 3rd significant digit (1e−5 at 0.00x)
TARGET_400M_GAIN = 0.2  # issue 14: beat the MPL (authors' procedure) on RMSE by >= 20% at 400M
TARGET_WSD_R2 = 0.95  # issue 14: R² >= 0.95 on the predicted WSD runs of every lr-scheduling model


@dataclass(frozen=True)
class SourceFit:
    """One law fitted on one source (a multipower size or an lr-scheduling model) and its prediction rows."""

    dataset: str
    source: str
    fit: FitResult
    rows: tuple[PredictionRow, ...]

    def mean(self, region: str = "whole"):
        return average_metrics(list(self.rows), "predict", region)


@dataclass(frozen=True)
class RealCurvesResult:
    """Fits, the MPL-bar claims, the wall time and the written files."""

    fits: tuple[SourceFit, ...]
    claims: tuple[Claim, ...]
    runtime_s: float
    files: tuple[str, ...]

    def markdown(self) -> str:
        """Prediction table (mean over predicted runs) per source, law and method."""
        lines = ["| data | source | law | method | R² | RMSE | MAE | final err | decay RMSE | fit s |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        for f in self.fits:
            w, d = f.mean("whole"), f.mean("decay")
            lines.append(f"| {f.dataset} | {f.source} | {f.fit.law} | {f.fit.method} | {w.r2:.5f} | {w.rmse:.5f} | "
                         f"{w.mae:.5f} | {w.final_error:+.5f} | {d.rmse:.5f} | {f.fit.wall_time_s:.1f} |")
        return "\n".join(lines)


def fit_source(dataset: str, source: str, curves: dict[str, TrainingCurve], fit_on, predict, variants,
               adamw: AdamWSettings = AdamWSettings()) -> list[SourceFit]:
    """Fit every (law, method) of ``variants`` on ``fit_on`` and evaluate it on ``fit_on`` + ``predict``."""
    roles = {n: "fit" for n in fit_on} | {n: "predict" for n in predict}
    out = []
    for law, method in variants:
        fit = fit_law(law, [curves[n] for n in fit_on], method=method, adamw=adamw)
        rows = evaluate_fit(fit, [curves[n] for n in roles], roles)
        out.append(SourceFit(dataset, source, fit, tuple(rows)))
    return out


def _mpl_claims(fits: list[SourceFit]) -> list[Claim]:
    claims = []
    for f in fits:
        if f.dataset != "multipower" or f.fit.law != "mpl" or f.fit.method != "adamw":
            continue
        size = int(f.source.rstrip("M"))
        r2_bar, rmse_bar = MPL_BAR[size]
        m = f.mean("whole")
        note = (f"MPL fitted with its authors' protocol (surrogate grid + AdamW) on {' + '.join(MULTIPOWER_FIT)}, "
                f"mean over {len(MULTIPOWER_TEST)} predicted runs")
        # unrounded measurement against the bar widened by half a unit of its last published digit
        claims.append(Claim.at_least("real_curves", f"MPL R² on multipower {size}M (mean of 6 test runs)",
                                     r2_bar - R2_BAR_TOLERANCE, float(m.r2), source=MPL_SOURCE,
                                     note=f"{note}; unrounded R² {m.r2:.6f} vs published {r2_bar}, bound "
                                     f"{r2_bar - R2_BAR_TOLERANCE:.5f} (tolerance {R2_BAR_TOLERANCE:g}: half a unit "
                                     "of its last digit)"))
        claims.append(Claim.at_most("real_curves", f"MPL RMSE on multipower {size}M (mean of 6 test runs)",
                                    rmse_bar + RMSE_BAR_TOLERANCE, float(m.rmse), source=MPL_SOURCE,
                                    note=f"{note}; unrounded RMSE {m.rmse:.7f} vs published {rmse_bar}, bound "
                                    f"{rmse_bar + RMSE_BAR_TOLERANCE:.6f} (tolerance {RMSE_BAR_TOLERANCE:g}: half a "
                                    "unit of its last digit)"))
        deviation = float(np.max(np.abs(f.fit.params / np.array(MPL_PUBLISHED_PARAMS[size]) - 1.0)))
        claims.append(Claim.at_most("real_curves", f"MPL parameters vs published, {size}M (max relative deviation)",
                                    PARAMS_TOLERANCE, deviation,
                                    source="Luo et al. 2025, MPL code release (src/config.py PARAMS)",
                                    note="all 7 parameters (L0, A, α, B, C, β, γ)"))
    return claims


def _target_claims(fits: list[SourceFit]) -> list[Claim]:
    """Issue 14's targets, measured side by side (same run, same protocol): fsln vs the MPL's authors' procedure.
    Sanity checks, not claims: the thresholds are the issue's, not derived values."""
    by = {(f.dataset, f.source, f.fit.law, f.fit.method): f for f in fits}
    claims = []
    src = "issue 14 target; both laws fitted in this run with the same split and metrics"
    for (dataset, source, law, method), f in by.items():
        if law != "fsln":
            continue
        mine = f.mean("whole")
        if dataset == "multipower" and (dataset, source, "mpl", "adamw") in by:
            ref = by[(dataset, source, "mpl", "adamw")].mean("whole")
            gain = TARGET_400M_GAIN if source == "400M" else 0.0
            claims.append(SanityCheck.at_most(
                "real_curves", f"fsln RMSE vs MPL (authors' procedure) × {1 - gain:g}, multipower {source}",
                (1 - gain) * ref.rmse, mine.rmse, source=src,
                note=f"fsln {mine.rmse:.5f} vs MPL {ref.rmse:.5f}: {100 * (1 - mine.rmse / ref.rmse):.1f}% lower"))
        if dataset == "lr-scheduling":
            claims.append(SanityCheck.at_least(
                "real_curves", f"fsln R² on the predicted WSD runs, {source}", TARGET_WSD_R2, mine.r2, source=src,
                note="fit the cosine runs (2× the WSD peak LR), predict every WSD run; mean R² over runs"))
    return claims


def _write_tables(fits: list[SourceFit], out: Path) -> list[Path]:
    paths = [out / "real_curves_summary.csv", out / "real_curves_metrics.csv", out / "real_curves_params.json"]
    with atomic_write(paths[0]) as h:
        h.write("dataset,source,law,method,r2,rmse,mae,final_error,decay_rmse,n_predicted_runs,fit_time_s,"
                "objective\n")
        for f in fits:
            w, d = f.mean("whole"), f.mean("decay")
            n_runs = sum(r.role == "predict" for r in f.rows)
            h.write(f"{f.dataset},{f.source},{f.fit.law},{f.fit.method},{w.r2!r},{w.rmse!r},{w.mae!r},"
                    f"{w.final_error!r},{d.rmse!r},{n_runs},{f.fit.wall_time_s!r},{f.fit.objective!r}\n")
    with atomic_write(paths[1]) as h:
        h.write("dataset,source,law,method,run,role,region,rmse,r2,mae,final_error,n\n")
        for f in fits:
            for r in f.rows:
                for region in ("whole", "decay"):
                    m = getattr(r, region)
                    h.write(f"{f.dataset},{f.source},{f.fit.law},{f.fit.method},{r.run},{r.role},{region},"
                            f"{m.rmse!r},{m.r2!r},{m.mae!r},{m.final_error!r},{m.n}\n")
    with atomic_write(paths[2]) as h:
        json.dump([{"dataset": f.dataset, "source": f.source, **f.fit.to_dict()} for f in fits], h, indent=1)
    return paths


def _plot(dataset: str, source: str, fits: list[SourceFit], curves: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(fits), figsize=(4.6 * len(fits), 3.8), squeeze=False, sharey=True)
    for ax, f in zip(axes[0], fits):
        roles = {r.run: r.role for r in f.rows}
        shown = sorted(roles, key=lambda n: roles[n] != "fit")[:12]
        lo = np.inf
        for i, name in enumerate(shown):
            c = curves[name]
            color = f"C{i % 10}"
            pred = f.fit.predict(c.lr, c.steps, warmup=c.warmup)
            lo = min(lo, float(c.loss.min()), float(pred.min()))
            ax.plot(c.steps, c.loss, ".", ms=1.5, color=color, alpha=0.5)
            ax.plot(c.steps, pred, "--" if roles[name] == "fit" else "-", color=color, lw=1,
                    label=f"{name} ({roles[name]})")
        w = f.mean("whole")
        ax.set_title(f"{f.fit.law} ({f.fit.method}): R² {w.r2:.4f}, RMSE {w.rmse:.4f}", fontsize=9)
        ax.set_xlabel("step")
        # the late (decay) part is what differs between the laws: cut the early transient off the top
        hi = max(float(np.percentile(curves[n].loss, 60)) for n in shown)
        ax.set_ylim(lo - 0.03 * (hi - lo), hi)
    axes[0][0].set_ylabel("loss")
    axes[0][-1].legend(fontsize=5, loc="upper right")
    fig.suptitle(f"{dataset} {source}: fit on the dashed runs, predict the solid ones", fontsize=10)
    fig.tight_layout()
    stem = out / f"real_curves_{dataset.replace('-', '_')}_{source}"
    return save_figure(fig, stem)


@experiment("real_curves", title="Loss-curve laws on real training runs: fit some schedules, predict the others",
            source="Luo et al. 2025 (multi-power law); Schaipp et al. 2025 (lr-scheduling); fsl.md §5–6", budget_s=90)
def real_curves(out_dir, quick: bool = True, *, sizes=None, models=None, variants=None, adamw_steps: int | None = None,
                data_root=None, compare: bool = True) -> RealCurvesResult:
    """Fit and predict on ``multipower`` (``sizes``) and ``lr-scheduling`` (``models``) with each law; write the
    tables and figures; ``runtime_s`` counts the fits and predictions (not the data loading or the output).
    Overrides for tests: ``variants`` ((law, method) pairs), ``adamw_steps`` (cap on the AdamW steps),
    ``compare=False`` (skip the evaluation protocol's further tasks)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(data_root) if data_root is not None else default_data_root()
    sizes = (QUICK_SIZES if quick else MULTIPOWER_SIZES) if sizes is None else tuple(int(s) for s in sizes)
    unknown = [s for s in sizes if s not in MULTIPOWER_SIZES]
    if unknown:
        raise ValueError(f"sizes = {unknown} not in the multipower sizes {MULTIPOWER_SIZES}")
    variants = (VARIANTS if quick else FULL_VARIANTS) if variants is None else tuple(variants)
    adamw = AdamWSettings() if adamw_steps is None else AdamWSettings(max_steps=int(adamw_steps))
    models_all = lr_scheduling_models(root / "lr-scheduling") if (models is None or models) else {}
    models = ((QUICK_MODELS if quick else tuple(models_all)) if models is None else tuple(models))
    missing = [m for m in models if m not in models_all]
    if missing:
        raise ValueError(f"lr-scheduling models {missing} not found; models: {', '.join(models_all)}")
    fits, files, runtime = [], [], 0.0
    for size in sizes:
        curves = load_multipower(root / "multipower", size)
        start = time.perf_counter()
        got = fit_source("multipower", f"{size}M", curves, MULTIPOWER_FIT, MULTIPOWER_TEST, variants, adamw)
        runtime += time.perf_counter() - start
        fits += got
        files += _plot("multipower", f"{size}M", got, curves, out)
    for key in models:
        m = models_all[key]
        start = time.perf_counter()
        got = fit_source("lr-scheduling", key, m.curves, m.fit, m.predict, variants, adamw)
        runtime += time.perf_counter() - start
        fits += got
        files += _plot("lr-scheduling", key, got, m.curves, out)
    files = _write_tables(fits, out) + files
    if compare:
        # the protocols not covered above: quick — the sparse, spec-scheduled version of the quick models;
        # full — leave-one-schedule-out, WSD → cosine and the sparse curves of every model
        start = time.perf_counter()
        if quick:
            tasks = evaluation.sparse_tasks(root, models, out, "real_curves_")
            variants_cmp = evaluation.QUICK_VARIANTS
        else:
            tasks = (evaluation.multipower_tasks(root, sizes, ("loso",))
                     + evaluation.lr_scheduling_tasks(root, models, ("wsd->cos",))
                     + evaluation.sparse_tasks(root, models, out, "real_curves_"))
            variants_cmp = evaluation.VARIANTS
        compared = evaluation.evaluate_suite(tasks, variants_cmp)
        runtime += time.perf_counter() - start
        files += [evaluation.write_table_csv(compared, out / "real_curves_comparison.csv")]
        with atomic_write(out / "real_curves_comparison.md") as h:
            h.write(evaluation.table_markdown(compared) + "\n")
        files.append(out / "real_curves_comparison.md")
        files += evaluation.predicted_vs_actual_figure(compared, out / "real_curves_comparison_predicted_vs_actual")
        for p in sorted(Path(out).glob("real_curves_sparse_*.csv")):  # the sparse inputs are outputs too (what was fitted)
            files.append(p)
    claims = _mpl_claims(fits) + _target_claims(fits)
    return RealCurvesResult(tuple(fits), tuple(claims), runtime, tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/real_curves")
    result = real_curves(target, quick="--full" not in sys.argv)
    print(result.markdown())
    from lrwb.experiments.claims import claims_markdown

    print(claims_markdown(result.claims))
    print(f"runtime {result.runtime_s:.1f} s; files: {', '.join(result.files)}")
