"""``lrwb design``: the schedule minimising a fitted law's predicted final loss at a new horizon.

Reads ``fit.json`` from ``lrwb fit``, writes the schedule as ``step,lr`` CSV (``file:PATH.csv`` in the
schedule grammar; load it in PyTorch with ``numerics.design.torch_lambda_lr``), a JSON sidecar with the
predicted final losses of the design and of cosine / WSD / 8-1-1 / constant at the same peak and horizon,
and optionally a figure of the predicted curves.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from numerics.io import atomic_savefig, atomic_write


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "design",
        help="design the schedule that minimises a fitted law's predicted final loss",
        description="Minimise the fitted law's predicted loss at step K−1 over schedules with η ≤ --peak-max "
        "(linear warmup, then a piecewise-linear schedule; monotone by default). Writes step,lr CSV.",
    )
    p.add_argument("fit_json", metavar="FIT_JSON", help="fit.json written by lrwb fit")
    p.add_argument("--steps", type=int, required=True, help="horizon K in steps")
    p.add_argument("--peak-max", type=float, required=True, help="largest learning rate allowed")
    p.add_argument("--law", default=None,
                   help="which fitted law to use (default: fsln if present, else mpl, else the first)")
    p.add_argument("--accept-poor-fit", action="store_true",
                   help="design even from a fit that lrwb fit marked not usable or unidentifiable (loud warning)")
    p.add_argument("--warmup", type=int, default=None, help="warmup steps (default: the fitted runs' warmup)")
    p.add_argument("--knots", type=int, default=24, help="schedule knots (default %(default)s)")
    p.add_argument("--non-monotone", action="store_true", help="allow the schedule to increase after warmup")
    p.add_argument("--figure", metavar="FILE", help="also plot the predicted curves (PNG or PDF)")
    p.add_argument("--out", metavar="FILE", required=True, help="schedule CSV to write (a .json sidecar too)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from numerics.design import design_schedule, write_design_csv
    from numerics.fit import FitResult

    path = Path(args.fit_json)
    if not path.is_file():
        raise FileNotFoundError(f"fit file {path} not found")
    info = json.loads(path.read_text())
    laws = info.get("laws") or {}
    if not laws:
        raise ValueError(f"{path}: no fitted laws in it")
    name = args.law or next((n for n in ("fsln", "mpl") if n in laws), next(iter(laws)))
    if name not in laws:
        raise ValueError(f"--law {name!r} not in {path}; fitted laws: {', '.join(laws)}")
    fit = FitResult.from_dict(laws[name])
    problems = list(fit.quality.get("problems", []))
    loose = list(fit.quality.get("unidentifiable", []))
    if loose:
        problems.append(f"unidentifiable parameter(s) {', '.join(loose)}")
    if problems and not args.accept_poor_fit:
        raise ValueError(f"{path}: the {name} fit is not fit for design ({'; '.join(problems)}); refit with more or "
                         "better data, or pass --accept-poor-fit to design from it anyway")
    if problems:
        print(f"lrwb design: WARNING: designing from a poor {name} fit ({'; '.join(problems)}); "
              "the predicted losses below are not trustworthy")
    warmup = int(info.get("warmup", 0)) if args.warmup is None else args.warmup
    design = design_schedule(fit, args.steps, args.peak_max, warmup=warmup, monotone=not args.non_monotone,
                             knots=args.knots)
    out = Path(args.out)
    write_design_csv(out, design.lr)
    meta = design.to_dict()
    meta.pop("lr")
    meta["schedule_csv"] = str(out)
    from numerics.design import final_loss_interval

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
