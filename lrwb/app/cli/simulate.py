"""``lrwb simulate``: Monte Carlo SGD on the PLRF model; writes ``step,lr,loss_mean,loss_se`` (excess loss).

Same model arguments as ``lrwb dynamics`` (``common.add_model_arguments``); ``--seed`` seeds both the random
projection (``--model random``) and the simulation.
"""

from __future__ import annotations

import argparse
import sys

from lrwb.app.cli.common import (add_allow_unstable, add_model_arguments, check_model_args, check_output, check_steps,
                                 emit_csv, integer, report_warnings, schedule_from_args, spectrum_from_args)

DEFAULT_RUNS = 1000


def add_parser(subparsers) -> None:
    from lrwb.numerics.simulate import BACKENDS, DTYPES

    p = subparsers.add_parser(
        "simulate",
        help="Monte Carlo SGD (sampled inputs and noise, real updates): mean excess loss and its standard error",
        description="Simulate R independent online-SGD runs of the PLRF model and write the mean excess loss "
        "(PLRF units, no ½) and its standard error at ≤ 50 log-spaced steps as CSV: step,lr,loss_mean,loss_se "
        "(row t holds the η_t of step t → t+1; the last row's lr is empty).",
    )
    add_model_arguments(p)
    g = p.add_argument_group("simulation")
    g.add_argument("--runs", type=integer, default=DEFAULT_RUNS,
                   help="independent runs R (default %(default)s; the standard error falls as 1/√R)")
    g.add_argument("--backend", choices=BACKENDS, default="numpy", help="array library (default %(default)s)")
    g.add_argument("--device", default="cpu",
                   help="cpu or cuda[:INDEX] (torch only; falls back to cpu with a warning; default %(default)s)")
    g.add_argument("--dtype", choices=DTYPES, default="float64", help="simulation precision (default %(default)s)")
    g.add_argument("--points", type=integer, default=50,
                   help="at most this many log-spaced recorded steps, 0 and T included (default %(default)s)")
    g.add_argument("--chunk-runs", type=integer, default=None, help="runs simulated at once (default: memory-bounded)")
    g.add_argument("--progress", action="store_true", help="show a progress bar (default: only when stderr is a TTY)")
    g.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    add_allow_unstable(g)
    p.set_defaults(func=run)


def format_csv(result) -> str:
    """The CSV text of a :class:`~lrwb.numerics.simulate.SimulationResult` (empty lr where no step follows)."""
    lines = ["step,lr,loss_mean,loss_se"]
    for step, lr, mean, se in zip(result.steps, result.lr, result.loss_mean, result.loss_se):
        lr_text = "" if lr != lr else repr(float(lr))  # NaN marks the last row: no step follows
        lines.append(f"{int(step)},{lr_text},{float(mean)!r},{float(se)!r}")
    return "\n".join(lines) + "\n"


def summary(result) -> str:
    """One line: final mean excess loss ± 1 SE and how it was simulated."""
    return (f"final excess loss {result.loss_mean[-1]:.6g} ± {result.loss_se[-1]:.2g} (1 SE) after "
            f"T = {int(result.steps[-1])} steps, {result.runs} runs ({result.backend}, {result.device}, "
            f"{result.dtype}, seed {result.seed})")


def run(args: argparse.Namespace) -> int:
    from lrwb.numerics import resources
    from lrwb.numerics.simulate import default_record_steps, monte_carlo

    if args.out is not None:
        check_output(args.out, "--out")
    check_steps(args)
    if args.points < 2:
        raise ValueError(f"--points = {args.points} must be >= 2 (step 0 and step T)")
    if args.runs < 1:
        raise ValueError(f"--runs = {args.runs} must be >= 1")
    check_model_args(args)
    if not args.batch >= 1:
        raise ValueError(f"--batch = {args.batch:g} must be >= 1")
    points = args.points
    input_dim = (args.input_dim or 10 * args.features) if args.model == "random" else args.features
    # the smallest chunk the engine can run: one run with one step of B inputs in flight
    resources.check_memory(
        resources.simulate_bytes(min(args.runs, args.chunk_runs or 1), args.features, args.steps, points,
                                 batch=args.batch, input_dim=input_dim, momentum=bool(args.momentum)),
        f"simulate with --batch {args.batch:g}, --features {args.features}, --steps {args.steps}")
    spectrum = spectrum_from_args(args)
    lr = schedule_from_args(args)
    try:
        result = monte_carlo(
            spectrum, lr, sigma=args.sigma, batch=args.batch, momentum=args.momentum, runs=args.runs,
            seed=args.seed, backend=args.backend, device=args.device, dtype=args.dtype,
            record_steps=default_record_steps(args.steps, args.points), chunk_runs=args.chunk_runs,
            progress=args.progress or sys.stderr.isatty(), allow_unstable=args.allow_unstable,
        )
    except ImportError as err:  # torch missing: one clear line from the CLI, not a traceback
        raise ValueError(str(err)) from err
    emit_csv(report_warnings("simulate", result.warning, text=format_csv(result)), args.out, summary(result))
    return 0
