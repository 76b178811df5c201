"""``lrwb fit``: fit loss-curve laws (fsl, mpl, momentum) on some runs, predict the others.

Sources (``CURVES``): a CSV ``step,lr,loss[,run]``; a TensorBoard run folder or event file (or a log folder
whose sub-folders are runs); ``multipower:SIZE`` (25, 100, 400 or ``all``: the MPL split); or
``lr-scheduling:MODEL`` (a model key or a unique part of it, or ``all``: per model, fit the cosine runs and
predict every WSD run). Writes ``fit.json`` (parameters, standard errors, method and timing per law),
``metrics.csv`` (RMSE, R², MAE and final-loss error per law and run, on the whole logged curve after the
warmup and on the decay region, plus the averages over predicted runs) and overlay figures
``overlay_<law>.png/.pdf``; with several sources (``:all``) one sub-folder each and ``summary.csv``.

``compare:quick`` / ``compare:full``: the evaluation protocol of :mod:`lrwb.numerics.lawfit.evaluation` (every law, every
data set and protocol; quick: a subset) — prints the comparison table and writes ``comparison.csv``,
``comparison.md`` and ``comparison_predicted_vs_actual.png/.pdf``.

Fit quality (:func:`lrwb.numerics.lawfit.fit.fit_quality`): a fit that is poor (R² < 0.9 on the fitted runs), has fewer
than 3 points per parameter or was made on a rising loss is reported on screen as ``POOR FIT`` and marked
``usable: false`` in fit.json (``lrwb design`` refuses it); the command then exits 3. Unidentifiable
parameters (at a bound, standard error above the value, or an infinite condition number) are listed too.
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from lrwb.app.cli.common import check_output, integer
from lrwb.numerics.io import atomic_savefig, atomic_write

LAW_CHOICES = ("fsln", "fsl", "mpl", "momentum", "all")
METHOD_CHOICES = ("auto", "converged", "adamw")
REGIONS = ("whole", "decay")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit loss-curve laws (FSL ansatz, multi-power, momentum) to training curves and predict other runs",
        description="Fit each law to the --fit-on runs (Huber δ=1e−3 on log-loss residuals, analytic gradients) and "
        "predict the --predict runs. CURVES is a CSV with columns step,lr,loss and optionally run (lr per step, "
        "or logged steps with --schedule SPEC / interpolation), a TensorBoard run folder or event file, "
        "'multipower:SIZE' (25, 100, 400, all) or 'lr-scheduling:MODEL' (a model key, a unique part of one, or "
        "all) for the real data (bundled with the package, or $LRWB_DATA). Losses are the raw training "
        "(multipower) or validation (lr-scheduling) loss.",
    )
    p.add_argument("curves", metavar="CURVES",
                   help="CSV file, TensorBoard folder/file, multipower:SIZE|all, lr-scheduling:MODEL|all, or "
                   "compare:quick|full (the evaluation protocol: every law on every data set)")
    p.add_argument("--law", choices=LAW_CHOICES, default="all", help="law to fit (default %(default)s)")
    p.add_argument("--method", choices=METHOD_CHOICES, default="auto",
                   help="optimiser: converged (multi-start TRF + L-BFGS-B to a minimum), adamw (the MPL authors' "
                   "protocol) or auto = adamw for mpl on language-model-scale curves (loss >= 1, peak LR <= 1e-2), "
                   "converged otherwise (default %(default)s)")
    p.add_argument("--fit-on", metavar="RUN[,RUN]", help="runs to fit on (default: the source's split, or every run)")
    p.add_argument("--predict", metavar="RUN,...", help="runs to predict (default: every other run)")
    p.add_argument("--schedule", metavar="SPEC", help="per-step schedule for runs whose lr is not logged per step")
    p.add_argument("--warmup", type=integer, default=None,
                   help="warmup steps: LR drops count after it (default 0; multipower 2160, lr-scheduling 300)")
    p.add_argument("--beta", type=float, default=None, help="tie the FSL γ to 1 − 1/β (default: γ free)")
    p.add_argument("--warmup-drops", choices=("auto", "on", "off"), default="auto",
                   help="count the warmup's LR increases as (negative) drops: on, off, or auto = each law's default "
                   "(mpl on, as its authors' code; fsl and momentum off)")
    p.add_argument("--starts", type=integer, default=2,
                   help="polished starts of the converged method (default %(default)s)")
    p.add_argument("--seed", type=integer, default=0,
                   help="seed of the random starts and the bootstrap (default %(default)s)")
    p.add_argument("--bootstrap", type=integer, default=0, metavar="N",
                   help="residual block-bootstrap replicates for parameter uncertainty (default: none)")
    p.add_argument("--block", type=integer, default=None, help="bootstrap block length in points (default ⌈n^{1/3}⌉)")
    p.add_argument("--ema", type=float, default=None, help="EMA weight to smooth the fitted losses (default: none)")
    p.add_argument("--start-step", type=integer, default=None, help="ignore logged points before this step")
    p.add_argument("--loss-tag", default="train/loss", help="TensorBoard loss scalar (default %(default)s)")
    p.add_argument("--lr-tag", default="train/lr", help="TensorBoard learning-rate scalar (default %(default)s)")
    p.add_argument("--data-root", default=None, help="data folder for multipower:/lr-scheduling: "
                   "(default: $LRWB_DATA if set, else the data bundled with the package)")
    p.add_argument("--no-figures", action="store_true", help="skip the overlay figures")
    p.add_argument("--out", metavar="DIR", required=True, help="output folder")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class CurveSource:
    """Curves and their split: ``name`` is the sub-folder when a spec expands to several sources."""

    name: str
    curves: dict
    fit_on: tuple[str, ...]
    predict: tuple[str, ...]


def _split(text: str | None) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()] if text else []


def _data_root(arg: str | None) -> Path:
    from lrwb.numerics.lawfit.curves import default_data_root

    return Path(arg) if arg else default_data_root()


def _with_warmup(curves: dict, warmup: int | None) -> dict:
    from lrwb.numerics.lawfit.curves import TrainingCurve

    if warmup is None:
        return curves
    return {n: TrainingCurve(c.name, c.lr, c.steps, c.loss, warmup, c.source) for n, c in curves.items()}


def load_sources(args) -> list[CurveSource]:
    """The sources named by ``args.curves`` with their default splits (``--fit-on``/``--predict`` override)."""
    from lrwb.numerics.lawfit.curves import (MULTIPOWER_FIT, MULTIPOWER_SIZES, MULTIPOWER_TEST, load_multipower,
                                 lr_scheduling_models, read_curves_csv, select_lr_scheduling_model)

    spec = args.curves
    sources = []
    if spec.startswith("multipower:"):
        which = spec.split(":", 1)[1]
        if which == "all":
            sizes = MULTIPOWER_SIZES
        else:
            try:
                sizes = (int(which),)
            except ValueError:
                raise ValueError(f"multipower:{which}: expected a size {MULTIPOWER_SIZES} or all") from None
        for size in sizes:
            curves = _with_warmup(load_multipower(_data_root(args.data_root) / "multipower", size), args.warmup)
            sources.append(CurveSource(f"multipower_{size}M", curves, MULTIPOWER_FIT,
                                       tuple(n for n in MULTIPOWER_TEST if n in curves)))
    elif spec.startswith("lr-scheduling:"):
        which = spec.split(":", 1)[1]
        models = lr_scheduling_models(_data_root(args.data_root) / "lr-scheduling")
        chosen = list(models.values()) if which == "all" else [select_lr_scheduling_model(models, which)]
        for m in chosen:
            sources.append(CurveSource(m.key, _with_warmup(m.curves, args.warmup), m.fit, m.predict))
    else:
        path = Path(spec)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if path.is_dir() or "tfevents" in path.name:
                curves = _tensorboard_runs(path, args)
            else:
                curves = read_curves_csv(path, schedule=args.schedule, warmup=args.warmup)
        for w in caught:
            print(f"lrwb fit: warning: {w.message}")
        sources.append(CurveSource("", curves, tuple(curves), ()))
    fit_on, predict = _split(args.fit_on), _split(args.predict)
    for flag, given, names in (("--fit-on", args.fit_on, fit_on), ("--predict", args.predict, predict)):
        if given is not None and not names:
            raise ValueError(f"{flag} {given!r} names no run; expected RUN[,RUN]")
        if len(set(names)) < len(names):
            raise ValueError(f"{flag} names a run twice: {given!r}")
    both = [n for n in predict if n in fit_on]
    if both:
        raise ValueError(f"run(s) {', '.join(both)} in both --fit-on and --predict; a fitted run cannot also be "
                         "a prediction (its error would be the fit residual): drop it from one of them")
    if (fit_on or predict) and len(sources) > 1:
        raise ValueError(f"--fit-on/--predict name runs of one source; {spec} has {len(sources)} sources")
    out = []
    for src in sources:
        f = tuple(fit_on) or src.fit_on
        p = tuple(predict) or (src.predict if not fit_on else ())
        if not p:
            p = tuple(n for n in src.curves if n not in f)
        unknown = [n for n in f + p if n not in src.curves]
        if unknown:
            raise ValueError(f"unknown run(s) {unknown}; runs in {spec}: {', '.join(src.curves)}")
        out.append(CurveSource(src.name, src.curves, f, tuple(n for n in p if n not in f)))
    return out


def _tensorboard_runs(path: Path, args) -> dict:
    """One run (a folder with event files, or one event file) or a log folder whose sub-folders are runs."""
    from lrwb.numerics.lawfit.curves import read_tensorboard

    kw = dict(loss_tag=args.loss_tag, lr_tag=args.lr_tag, schedule=args.schedule, warmup=args.warmup or 0)
    if path.is_file() or any(path.glob("*tfevents*")):
        curve = read_tensorboard(path, **kw)
        return {curve.name: curve}
    runs = sorted(d for d in path.iterdir() if d.is_dir() and any(d.glob("*tfevents*")))
    if not runs:
        raise FileNotFoundError(f"{path}: no TensorBoard event files in it or in its sub-folders")
    return {d.name: read_tensorboard(d, name=d.name, **kw) for d in runs}


def run_compare(args: argparse.Namespace) -> int:
    """``compare:quick|full``: the comparison table of :mod:`lrwb.numerics.lawfit.evaluation`."""
    from lrwb.numerics.lawfit import evaluation as ev

    which = args.curves.split(":", 1)[1]
    if which not in ("quick", "full"):
        raise ValueError(f"{args.curves}: expected compare:quick or compare:full")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    root = _data_root(args.data_root)
    tasks = ev.protocol_tasks(which == "quick", root=root, workdir=out)
    variants = ev.QUICK_VARIANTS if which == "quick" else ev.VARIANTS
    if args.law != "all":
        variants = tuple(v for v in ev.VARIANTS if v[1] == args.law)
    results = ev.evaluate_suite(tasks, variants, progress=lambda line: print(line, flush=True), seed=args.seed,
                                n_starts=args.starts)
    print()
    print(ev.table_text(results))
    paths = [ev.write_table_csv(results, out / "comparison.csv")]
    with atomic_write(out / "comparison.md") as handle:
        handle.write(ev.table_markdown(results) + "\n")
    paths.append(out / "comparison.md")
    if not args.no_figures:
        paths += ev.predicted_vs_actual_figure(results, out / "comparison_predicted_vs_actual")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.curves.startswith("compare:"):
        return run_compare(args)
    if args.starts < 1:
        raise ValueError(f"--starts = {args.starts} must be >= 1")
    if args.bootstrap < 0 or args.bootstrap == 1:
        raise ValueError(f"--bootstrap = {args.bootstrap} must be 0 (off) or >= 2 replicates")
    if args.ema is not None and not 0 <= args.ema < 1:
        raise ValueError(f"--ema = {args.ema} must lie in [0, 1)")
    # the output folder is checked first and created only when the first file is written (atomic_write)
    out = check_output(args.out, "--out", kind="dir")
    sources = load_sources(args)
    summary, poor = [], 0
    for src in sources:
        folder = out / src.name if len(sources) > 1 else out
        if len(sources) > 1:
            print(f"\n== {src.name}: fit on {len(src.fit_on)} run(s), predict {len(src.predict)} ==")
        rows, unusable = _fit_source(src, args, folder)
        summary += rows
        poor += unusable
    if len(sources) > 1:
        with atomic_write(out / "summary.csv") as handle:
            handle.write("source,law,method,region,rmse,r2,mae,final_error,n,fit_time_s\n")
            for row in summary:
                handle.write(",".join(str(v) if isinstance(v, str) else repr(v) for v in row) + "\n")
        print(f"\nwrote {out / 'summary.csv'} and one folder per source")
    if poor:
        print(f"lrwb fit: {poor} fit(s) not usable (POOR FIT above; marked usable: false in fit.json)")
        return 3
    return 0


def _fit_source(src: CurveSource, args, out: Path) -> list[tuple]:
    from lrwb.numerics.lawfit.fit import average_metrics, default_method, evaluate_fit, fit_law
    from lrwb.numerics.lawfit.laws import get_law

    curves = src.curves
    laws = ["fsln", "fsl", "mpl", "momentum"] if args.law == "all" else [args.law]
    roles = {n: "fit" for n in src.fit_on} | {n: "predict" for n in src.predict}
    fits, rows, unusable = {}, [], 0
    for name in laws:
        options = {} if args.warmup_drops == "auto" or name == "fsln" else {"warmup_drops": args.warmup_drops == "on"}
        if name == "fsl" and args.beta is not None:
            options["beta"] = args.beta
        law = get_law(name, **options)
        method = default_method(name, [curves[n] for n in src.fit_on]) if args.method == "auto" else args.method
        fit = fit_law(law, [curves[n] for n in src.fit_on], method=method, n_starts=args.starts, seed=args.seed,
                      ema=args.ema, start_step=args.start_step, bootstrap=args.bootstrap, block=args.block)
        fits[name] = fit
        rows += evaluate_fit(fit, [curves[n] for n in roles], roles)
        print(f"{name} ({method}): fitted on {len(src.fit_on)} run(s) in {fit.wall_time_s:.1f} s "
              f"({fit.n_evaluations} evaluations); " + ", ".join(
                  f"{k}={v:.4g}" + (_spread(k, b, fit) if fit.n_bootstrap else "")
                  for k, v, b in zip(fit.param_names, fit.params,
                                     fit.bootstrap_stderr if fit.n_bootstrap else fit.stderr)))
        q = fit.quality
        if not fit.usable:
            print(f"lrwb fit: POOR FIT ({name}): {'; '.join(q['problems'])}; not usable for prediction or design")
            unusable += 1
        if q.get("unidentifiable"):
            print(f"lrwb fit: warning ({name}): unidentifiable parameter(s) {', '.join(q['unidentifiable'])} "
                  f"(condition number {fit.condition_number:.3g}): their values mean little")
    peak = max(float(curves[n].lr.max()) for n in src.fit_on)
    means = {n: {r: average_metrics([x for x in rows if x.law == n], "predict", r) for r in REGIONS} for n in fits}
    info = {
        "curves": args.curves, "source": src.name,
        "fit_on": list(src.fit_on), "predict": list(src.predict),
        "warmup": int(max(curves[n].warmup for n in src.fit_on)),
        "peak_lr": peak,
        "horizons": {n: curves[n].horizon for n in roles},
        "laws": {n: f.to_dict() for n, f in fits.items()},
        "summary": {n: {r: m.__dict__ for r, m in means[n].items()} for n in fits},
    }
    with atomic_write(out / "fit.json") as handle:
        json.dump(info, handle, indent=2, default=float)
    with atomic_write(out / "metrics.csv") as handle:
        handle.write("law,run,role,region,rmse,r2,mae,final_error,n\n")
        for r in rows:
            for region in REGIONS:
                m = getattr(r, region)
                handle.write(f"{r.law},{r.run},{r.role},{region},{m.rmse!r},{m.r2!r},{m.mae!r},"
                             f"{m.final_error!r},{m.n}\n")
        for n in fits:
            for region in REGIONS:
                m = means[n][region]
                handle.write(f"{n},mean,predict,{region},{m.rmse!r},{m.r2!r},{m.mae!r},{m.final_error!r},{m.n}\n")
    print(f"prediction (mean over {len(src.predict)} predicted run(s), loss at logged steps after warmup):")
    print(f"{'law':10s} {'method':9s} {'R2':>9s} {'RMSE':>9s} {'MAE':>9s} {'final err':>10s} {'decay RMSE':>11s} "
          f"{'fit s':>7s}")
    summary = []
    for n, fit in fits.items():
        w, d = means[n]["whole"], means[n]["decay"]
        print(f"{n:10s} {fit.method:9s} {w.r2:9.5f} {w.rmse:9.5f} {w.mae:9.5f} {w.final_error:10.5f} {d.rmse:11.5f} "
              f"{fit.wall_time_s:7.1f}")
        for region in REGIONS:
            m = means[n][region]
            summary.append((src.name, n, fit.method, region, m.rmse, m.r2, m.mae, m.final_error, m.n, fit.wall_time_s))
    if not args.no_figures:
        for n, fit in fits.items():
            overlay_figure(fit, [curves[r] for r in roles], roles, out / f"overlay_{n}")
    print(f"wrote {out / 'fit.json'}, {out / 'metrics.csv'}" + ("" if args.no_figures else " and overlay figures"))
    return summary, unusable


def _spread(name: str, se: float, fit) -> str:
    """``±se`` of a bootstrapped parameter, or why it has none: a parameter stuck at a bound (every replicate
    lands there too) or with zero spread is not identified, and ``±0`` would read as exact."""
    if name in fit.at_bound:
        return "(at bound)"
    if not se > 0:
        return "(no spread: not identified)"
    return f"±{se:.2g}"


def overlay_figure(fit, curves, roles, stem: Path, max_runs: int = 12) -> list[Path]:
    """Data (dots) and the fitted law (dashed: fitted runs, solid: predicted runs); at most ``max_runs``
    runs (the fitted ones first). Writes ``stem``.png and .pdf."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = sorted(curves, key=lambda c: roles.get(c.name) != "fit")[:max_runs]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, c in enumerate(ordered):
        color = f"C{i % 10}"
        pred = fit.predict(c.lr, c.steps, warmup=c.warmup)
        ax.plot(c.steps, c.loss, ".", ms=2, color=color, alpha=0.5)
        ax.plot(c.steps, pred, "-" if roles.get(c.name) == "predict" else "--", color=color, lw=1,
                label=f"{c.name} ({roles.get(c.name)})")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"{fit.law} ({fit.method}): dots = data, dashed = fitted runs, solid = predictions", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for path in paths:
        atomic_savefig(fig, path, dpi=130)
    plt.close(fig)
    return paths
