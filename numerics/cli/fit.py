"""``lrwb fit``: fit loss-curve laws (fsl, mpl, momentum) on some runs, predict the others.

Writes ``fit.json`` (parameters, standard errors, timing per law), ``metrics.csv`` (RMSE, R², MAE and
final-loss error per law and run, on the whole logged curve after the warmup and on the decay region, plus
the averages over predicted runs) and overlay figures ``overlay_<law>.png/.pdf``.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

from numerics.io import atomic_savefig, atomic_write

LAW_CHOICES = ("fsl", "mpl", "momentum", "all")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit loss-curve laws (FSL ansatz, multi-power, momentum) to training curves and predict other runs",
        description="Fit each law to the --fit-on runs (Huber δ=1e−3 on log-loss residuals, bounded multi-start "
        "L-BFGS-B, analytic gradients) and predict the --predict runs. CURVES is a CSV with columns step,lr,loss "
        "and optionally run (lr per step, or logged steps with --schedule SPEC / interpolation), or "
        "'multipower:SIZE' (25, 100, 400) for the shared multipower data. Losses are the raw training loss.",
    )
    p.add_argument("curves", metavar="CURVES", help="CSV file (step,lr,loss[,run]) or multipower:SIZE")
    p.add_argument("--law", choices=LAW_CHOICES, default="all", help="law to fit (default %(default)s)")
    p.add_argument("--fit-on", metavar="RUN[,RUN]", help="runs to fit on (default: every run)")
    p.add_argument("--predict", metavar="RUN,...", help="runs to predict (default: every other run)")
    p.add_argument("--schedule", metavar="SPEC", help="per-step schedule for runs whose lr column is not per step")
    p.add_argument("--warmup", type=int, default=None,
                   help="warmup steps: LR drops count after it (default 0; multipower: 2160)")
    p.add_argument("--beta", type=float, default=None, help="tie the FSL γ to 1 − 1/β (default: γ free)")
    p.add_argument("--starts", type=int, default=4, help="L-BFGS-B starts (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random starts (default %(default)s)")
    p.add_argument("--ema", type=float, default=None, help="EMA weight to smooth the fitted losses (default: none)")
    p.add_argument("--start-step", type=int, default=None, help="ignore logged points before this step")
    p.add_argument("--data-root", default=None, help="shared data folder for multipower:SIZE "
                   "(default: $LRWB_DATA or ../shared/data next to the repository)")
    p.add_argument("--no-figures", action="store_true", help="skip the overlay figures")
    p.add_argument("--out", metavar="DIR", required=True, help="output folder")
    p.set_defaults(func=run)


def _data_root(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("LRWB_DATA"):
        return Path(os.environ["LRWB_DATA"])
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def load_curves(args) -> dict:
    from numerics.curves import TrainingCurve, load_multipower, read_curves_csv

    spec = args.curves
    if spec.startswith("multipower:"):
        size = int(spec.split(":", 1)[1])
        curves = load_multipower(_data_root(args.data_root) / "multipower", size)
        if args.warmup is not None:
            curves = {n: TrainingCurve(c.name, c.lr, c.steps, c.loss, args.warmup, c.source) for n, c in curves.items()}
        return curves
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curves = read_curves_csv(spec, schedule=args.schedule, warmup=args.warmup)
    for w in caught:
        print(f"lrwb fit: warning: {w.message}")
    return curves


def _split(text: str | None) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()] if text else []


def run(args: argparse.Namespace) -> int:
    from numerics.curves import MULTIPOWER_FIT, MULTIPOWER_TEST
    from numerics.fit import average_metrics, evaluate_fit, fit_law
    from numerics.laws import get_law

    curves = load_curves(args)
    if args.starts < 1:
        raise ValueError(f"--starts = {args.starts} must be >= 1")
    fit_on = _split(args.fit_on)
    predict = _split(args.predict)
    if not fit_on:
        fit_on = list(MULTIPOWER_FIT) if args.curves.startswith("multipower:") else list(curves)
    if not predict:
        predict = ([n for n in MULTIPOWER_TEST if n in curves] if args.curves.startswith("multipower:")
                   else [n for n in curves if n not in fit_on])
    unknown = [n for n in fit_on + predict if n not in curves]
    if unknown:
        raise ValueError(f"unknown run(s) {unknown}; runs in {args.curves}: {', '.join(curves)}")
    laws = ["fsl", "mpl", "momentum"] if args.law == "all" else [args.law]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    roles = {n: "fit" for n in fit_on} | {n: "predict" for n in predict if n not in fit_on}
    fits, rows = {}, []
    for name in laws:
        law = get_law(name, beta=args.beta) if (name == "fsl" and args.beta is not None) else get_law(name)
        fit = fit_law(law, [curves[n] for n in fit_on], n_starts=args.starts, seed=args.seed, ema=args.ema,
                      start_step=args.start_step)
        fits[name] = fit
        rows += evaluate_fit(fit, [curves[n] for n in roles], roles)
        print(f"{name}: fitted on {', '.join(fit_on)} in {fit.wall_time_s:.1f} s "
              f"({fit.n_evaluations} evaluations, {fit.n_starts} starts); "
              + ", ".join(f"{k}={v:.4g}" for k, v in zip(fit.param_names, fit.params)))
    peak = max(float(curves[n].lr.max()) for n in fit_on)
    info = {
        "curves": args.curves,
        "fit_on": fit_on, "predict": predict,
        "warmup": int(max(curves[n].warmup for n in fit_on)),
        "peak_lr": peak,
        "horizons": {n: curves[n].horizon for n in roles},
        "laws": {n: f.to_dict() for n, f in fits.items()},
        "summary": {n: {region: average_metrics([r for r in rows if r.law == n], "predict", region).__dict__
                        for region in ("whole", "decay")} for n in fits},
    }
    with atomic_write(out / "fit.json") as handle:
        json.dump(info, handle, indent=2, default=float)
    with atomic_write(out / "metrics.csv") as handle:
        handle.write("law,run,role,region,rmse,r2,mae,final_error,n\n")
        for r in rows:
            for region in ("whole", "decay"):
                m = getattr(r, region)
                handle.write(f"{r.law},{r.run},{r.role},{region},{m.rmse!r},{m.r2!r},{m.mae!r},{m.final_error!r},{m.n}\n")
        for n in fits:
            for region in ("whole", "decay"):
                m = average_metrics([r for r in rows if r.law == n], "predict", region)
                handle.write(f"{n},mean,predict,{region},{m.rmse!r},{m.r2!r},{m.mae!r},{m.final_error!r},{m.n}\n")
    print("\nprediction (mean over predicted runs, raw loss at logged steps after warmup):")
    print(f"{'law':10s} {'R2':>9s} {'RMSE':>9s} {'MAE':>9s} {'final err':>10s} {'decay RMSE':>11s}")
    for n in fits:
        w = average_metrics([r for r in rows if r.law == n], "predict", "whole")
        d = average_metrics([r for r in rows if r.law == n], "predict", "decay")
        print(f"{n:10s} {w.r2:9.5f} {w.rmse:9.5f} {w.mae:9.5f} {w.final_error:10.5f} {d.rmse:11.5f}")
    if not args.no_figures:
        for n, fit in fits.items():
            _overlay(fit, [curves[r] for r in roles], roles, out / f"overlay_{n}")
    print(f"wrote {out / 'fit.json'}, {out / 'metrics.csv'}" + ("" if args.no_figures else " and overlay figures"))
    return 0


def _overlay(fit, curves, roles, stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, c in enumerate(curves):
        color = f"C{i % 10}"
        pred = fit.predict(c.lr, c.steps, warmup=c.warmup)
        ax.plot(c.steps, c.loss, ".", ms=2, color=color, alpha=0.5)
        ax.plot(c.steps, pred, "-" if roles.get(c.name) == "predict" else "--", color=color, lw=1,
                label=f"{c.name} ({roles.get(c.name)})")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(f"{fit.law}: dots = data, dashed = fitted runs, solid = predictions")
    ax.legend(fontsize=7)
    fig.tight_layout()
    for suffix in (".png", ".pdf"):
        atomic_savefig(fig, stem.with_suffix(suffix), dpi=130)
    plt.close(fig)
