"""``lrwb design``: the schedule minimising a fitted law's predicted final loss at a new horizon.

Reads ``fit.json`` from ``lrwb fit``, writes the schedule as ``step,lr`` CSV (``file:PATH.csv`` in the
schedule grammar; load it in PyTorch with ``lrwb.numerics.lawfit.design.torch_lambda_lr``), a JSON sidecar with the
predicted final losses of the design and of cosine / WSD / 8-1-1 / constant at the same peak and horizon,
and optionally a figure of the predicted curves.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lrwb.app.cli.common import FIGURE_FORMATS, check_output, integer, read_json_file
from lrwb.numerics.io import atomic_savefig, atomic_write


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "design",
        help="design the schedule that minimises a fitted law's predicted final loss",
        description="Minimise the fitted law's predicted loss at step K−1 over schedules with η ≤ --peak-max "
        "(linear warmup, then a piecewise-linear schedule; monotone by default). Writes step,lr CSV.",
    )
    p.add_argument("fit_json", metavar="FIT_JSON", help="fit.json written by lrwb fit")
    p.add_argument("--steps", type=integer, required=True, help="horizon K in steps")
    p.add_argument("--peak-max", type=float, required=True, help="largest learning rate allowed")
    p.add_argument("--law", default=None,
                   help="which fitted law to use (default: fsln if present, else mpl, else the first)")
    p.add_argument("--accept-poor-fit", action="store_true",
                   help="design even from a fit that lrwb fit marked not usable or unidentifiable (loud warning)")
    p.add_argument("--warmup", type=integer, default=None, help="warmup steps (default: the fitted runs' warmup)")
    p.add_argument("--knots", type=integer, default=24, help="schedule knots (default %(default)s)")
    p.add_argument("--non-monotone", action="store_true", help="allow the schedule to increase after warmup")
    p.add_argument("--figure", metavar="FILE", help="also plot the predicted curves (PNG or PDF)")
    p.add_argument("--out", metavar="FILE", required=True, help="schedule CSV to write (a .json sidecar too)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lrwb.numerics.lawfit.design import design_schedule, write_design_csv
    from lrwb.numerics.lawfit.fit import FitResult

    from lrwb.numerics import resources

    # output targets, sizes and the fit file are all checked before the optimisation starts
    out = check_output(args.out, "--out")
    check_output(out.with_suffix(".json"), "--out (its .json sidecar)")
    if args.figure is not None:
        check_output(args.figure, "--figure", formats=FIGURE_FORMATS)
    path = Path(args.fit_json)
    info = read_json_file(path, "fit file", expect="the fit.json written by lrwb fit")
    laws = info.get("laws")
    if laws is not None and not isinstance(laws, dict):
        raise ValueError(f"{path}: 'laws' is a {type(laws).__name__}, expected an object of fitted laws "
                         "(the fit.json written by lrwb fit)")
    if not laws:
        raise ValueError(f"{path}: no fitted laws in it (expected the fit.json written by lrwb fit)")
    name = args.law or next((n for n in ("fsln", "mpl") if n in laws), next(iter(laws)))
    if name not in laws:
        raise ValueError(f"--law {name!r} not in {path}; fitted laws: {', '.join(laws)}")
    entry = laws[name]
    lacking = [k for k in ("law", "params") if not isinstance(entry, dict) or k not in entry]
    if lacking or not isinstance(entry.get("params"), dict):
        raise ValueError(f"{path}: fitted law {name!r} lacks {', '.join(lacking) or 'a params object'} "
                         "(expected the fit.json written by lrwb fit)")
    try:
        fit = FitResult.from_dict(entry)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: fitted law {name!r} is malformed ({type(err).__name__}: {err})") from None
    try:
        warmup = int(info.get("warmup", 0)) if args.warmup is None else args.warmup
    except (TypeError, ValueError):
        raise ValueError(f"{path}: warmup = {info.get('warmup')!r} is not an integer number of steps") from None
    if args.steps < 10:
        raise ValueError(f"--steps = {args.steps} must be >= 10")
    if args.knots < 2:
        raise ValueError(f"--knots = {args.knots} must be >= 2")
    if warmup < 0:
        raise ValueError(f"--warmup = {warmup} must be >= 0")
    if args.knots >= args.steps - warmup:
        raise ValueError(f"--knots = {args.knots} must be < --steps − warmup = {args.steps} − {warmup} = "
                         f"{args.steps - warmup} (one knot per step at most)")
    problems = list(fit.quality.get("problems", []))
    loose = list(fit.quality.get("unidentifiable", []))
    if loose:
        problems.append(f"unidentifiable parameter(s) {', '.join(loose)}")
    if problems and not args.accept_poor_fit:
        raise ValueError(f"{path}: the {name} fit is not fit for design ({'; '.join(problems)}); refit with more or "
                         "better data, or pass --accept-poor-fit to design from it anyway")
    resources.check_memory(resources.per_step_schedule_bytes(args.steps) * 4, f"design with --steps {args.steps}")
    if problems:
        print(f"lrwb design: WARNING: designing from a poor {name} fit ({'; '.join(problems)}); "
              "the predicted losses below are not trustworthy")
    design = design_schedule(fit, args.steps, args.peak_max, warmup=warmup, monotone=not args.non_monotone,
                             knots=args.knots)
    write_design_csv(out, design.lr)
    meta = design.to_dict()
    meta.pop("lr")
    meta["schedule_csv"] = str(out)
    from lrwb.numerics.lawfit.design import final_loss_interval

    lo, hi = final_loss_interval(fit, design.lr, warmup=warmup)
    meta["predicted_final_interval_95"] = [lo, hi]
    meta["fit_problems"] = problems
    with atomic_write(out.with_suffix(".json")) as handle:
        json.dump(meta, handle, indent=2)
    interval = "" if lo != lo else f" (95% interval from the parameter uncertainty [{lo:.5f}, {hi:.5f}])"
    print(f"designed with {name} for {args.steps} steps, peak <= {args.peak_max:g}: predicted final loss "
          f"{design.predicted_final:.5f}{interval}")
    for b, v in design.baselines.items():
        print(f"  {b:9s} {v['final']:.5f}  ({v['spec']})")
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        for label, loss in design.curves.items():
            a1.plot(design.curve_steps, loss, label=label)
        a1.set_xlabel("step")
        a1.set_ylabel(f"predicted loss ({name})")
        a1.legend(fontsize=8)
        a2.plot(design.lr)
        a2.set_xlabel("step")
        a2.set_ylabel("designed lr")
        fig.tight_layout()
        atomic_savefig(fig, args.figure, dpi=130)
        plt.close(fig)
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0
