"""``lrwb dynamics``: exact expected loss of online SGD; writes ``step,lr,loss,bias,variance,tail``.

Excess loss in PLRF units (no ½): loss = bias + variance + tail, T+1 rows (step 0 is the initial loss;
row t holds the η_t of step t → t+1, the last row's lr is empty). ``--precision DIGITS`` runs the
high-precision twin (:mod:`lrwb.numerics.dynamics.highprec`) instead of float64.
"""

from __future__ import annotations

import argparse
import sys

from lrwb.app.cli.common import (add_allow_unstable, add_model_arguments, check_model_args, check_output,
                                 check_steps, emit_csv, report_warnings, schedule_from_args, spectrum_from_args)

# Above this many mode-steps the high-precision path takes minutes (≈ 10 µs per mode-step): say so.
_SLOW_PRECISION_WORK = 2e7


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "dynamics",
        help="exact expected excess loss of SGD (bias/variance split) for a schedule",
        description="Compute the exact expected excess loss of online SGD on the PLRF model (Gaussian features; "
        "PLRF units, no ½) and write CSV: step,lr,loss,bias,variance,tail with loss = bias + variance + tail "
        "(bias: the mean's part; variance: label and SGD noise; tail: the untrained δ_N).",
    )
    add_model_arguments(p)
    g = p.add_argument_group("output")
    g.add_argument("--precision", type=int, default=None, metavar="DIGITS",
                   help="run the recursion at DIGITS significant digits (e.g. 50; slow: ~10 µs per mode-step) "
                   "instead of float64")
    g.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    add_allow_unstable(g)
    p.set_defaults(func=run)


def format_csv(curve) -> str:
    """The CSV text of a single-schedule :class:`~lrwb.numerics.dynamics.expected.LossCurve`."""
    lines = ["step,lr,loss,bias,variance,tail"]
    tail = repr(float(curve.tail))
    steps = curve.steps
    for t in range(steps + 1):
        lr_text = repr(float(curve.lr[t])) if t < steps else ""
        lines.append(f"{t},{lr_text},{float(curve.loss[t])!r},{float(curve.bias[t])!r},"
                     f"{float(curve.variance[t])!r},{tail}")
    return "\n".join(lines) + "\n"


def summary(curve, batch: float, momentum: float) -> str:
    """One line: final loss and its parts, and the stability bound."""
    hyper = f"B = {batch:g}" + (f", μ = {momentum:g}" if momentum else "")
    arithmetic = "float64" if curve.digits is None else f"{curve.digits} digits"
    return (f"final excess loss {curve.final_loss:.6g} after T = {curve.steps} steps (bias {curve.bias[-1]:.4g}, "
            f"variance {curve.variance[-1]:.4g}, tail {curve.tail:.4g}; {arithmetic}); "
            f"stability bound η < {curve.stability_bound:.6g} ({hyper}), max η = {curve.lr.max():.6g}")


def run(args: argparse.Namespace) -> int:
    from lrwb.numerics import resources
    from lrwb.numerics.dynamics.expected import expected_loss
    from lrwb.numerics.dynamics.highprec import expected_loss_mp

    # Everything checkable is checked before any work: the output target, the numbers, the memory.
    if args.out is not None:
        check_output(args.out, "--out")
    if args.precision is not None and args.precision < 1:
        raise ValueError(f"--precision = {args.precision} must be >= 1 significant digits (e.g. 50)")
    check_model_args(args)
    steps = check_steps(args)
    resources.check_memory(resources.dynamics_bytes(1, steps, args.features, momentum=bool(args.momentum)),
                           f"--steps {steps} with --features {args.features}")
    if args.precision is None:
        note = resources.long_run_note(resources.DYNAMICS_SECONDS_PER_MODE_STEP * steps * args.features,
                                       f"N·T = {steps * args.features:.3g} mode-steps")
        if note:
            print(f"lrwb dynamics: {note}", file=sys.stderr)
    lr = schedule_from_args(args)
    spectrum = spectrum_from_args(args)
    options = dict(sigma=args.sigma, batch=args.batch, momentum=args.momentum, allow_unstable=args.allow_unstable)
    if args.precision is None:
        curve = expected_loss(spectrum, lr, **options)
    else:
        if spectrum.features * args.steps > _SLOW_PRECISION_WORK:
            print(f"lrwb dynamics: note: --precision {args.precision} with N·T = {spectrum.features * args.steps:.3g} "
                  "mode-steps takes a while (~10 µs each)", file=sys.stderr)
        curve = expected_loss_mp(spectrum, lr, digits=args.precision, **options)
    text = report_warnings("dynamics", curve.warning, text=format_csv(curve))
    emit_csv(text, args.out, summary(curve, args.batch, args.momentum))
    return 0
