"""``lrwb optimize``: the schedule that minimises the final excess loss over 0 ≤ η_t ≤ η_max.

Writes ``step,lr,loss`` (excess loss, PLRF units, no ½; T+1 rows, row t holds the η_t of step t → t+1 and the
last row's lr is empty) and prints the final loss of the optimum, its Pontryagin stationarity residual and,
with ``--baselines``, the final loss of each tuned baseline (constant, power law, cosine, linear-to-zero, WSD).
"""

from __future__ import annotations

import argparse

from numerics.cli.common import DEFAULTS, check_steps, emit_csv, spectrum_from_args


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "optimize",
        help="optimal learning-rate schedule (min final excess loss) by the discrete adjoint",
        description="Minimise the exact expected final excess loss of online SGD on the PLRF model over "
        "0 <= eta_t <= eta_max (L-BFGS-B with the adjoint gradient, Newton polish) and write CSV: step,lr,loss.",
    )
    g = p.add_argument_group("model")
    g.add_argument("--a", type=float, default=DEFAULTS["a"], help="task exponent a > 1 (default %(default)s)")
    g.add_argument("--b", type=float, default=DEFAULTS["b"], help="spectrum exponent b > 1 (default %(default)s)")
    g.add_argument("--features", type=int, default=DEFAULTS["features"], help="model size N (default %(default)s)")
    g.add_argument("--sigma", type=float, default=DEFAULTS["sigma"], help="label-noise std σ (default %(default)s)")
    g.add_argument("--batch", type=float, default=DEFAULTS["batch"], help="batch size B >= 1 (default %(default)s)")
    g.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="horizon T in steps (default %(default)s)")
    g.add_argument("--tail", action="store_true", help="top-N model with the untrained tail δ_N")
    o = p.add_argument_group("optimisation")
    o.add_argument("--eta-max", type=float, default=DEFAULTS["eta_max"],
                   help="upper bound on η_t (default %(default)s)")
    o.add_argument("--window", type=int, default=None,
                   help="minimise the mean excess loss over the last WINDOW steps instead of the final loss")
    o.add_argument("--baselines", action="store_true",
                   help="also tune the constant, power-law, cosine, linear and WSD baselines and print them")
    p.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    p.set_defaults(func=run, model="top", input_dim=None, seed=0)


def format_csv(lr, loss) -> str:
    """``step,lr,loss`` text: T+1 rows, the last with an empty lr."""
    lines = ["step,lr,loss"]
    steps = len(lr)
    for t in range(steps + 1):
        lr_text = repr(float(lr[t])) if t < steps else ""
        lines.append(f"{t},{lr_text},{float(loss[t])!r}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from numerics.control import optimal_schedule, tuned_baselines

    check_steps(args)
    if not args.eta_max > 0:
        raise ValueError(f"--eta-max = {args.eta_max} must be > 0")
    spectrum = spectrum_from_args(args)
    options = dict(sigma=args.sigma, batch=args.batch, eta_max=args.eta_max)
    result = optimal_schedule(spectrum, args.steps, window=args.window, **options)
    lines = [f"optimal: final excess loss {result.final_loss:.6g} after T = {args.steps} steps "
             f"(max relative stationarity residual {result.max_residual:.2g} on {int(result.inactive.sum())} "
             f"inactive steps; {result.iterations} iterations)"]
    if args.baselines:
        for family, base in tuned_baselines(spectrum, args.steps, **options).items():
            lines.append(f"{family}: final excess loss {base.final_loss:.6g} ({base.spec}; optimum/this = "
                         f"{result.final_loss / base.final_loss:.4f})")
    emit_csv(format_csv(result.lr, result.loss), args.out, "\n".join(lines))
    return 0
