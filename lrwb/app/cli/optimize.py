"""``lrwb optimize``: the schedule that minimises the final excess loss over 0 ≤ η_t ≤ η_max.

Writes ``step,lr[,momentum][,batch],loss`` (excess loss, PLRF units, no ½; T+1 rows, row t holds the controls
of step t → t+1 and the last row's controls are empty) and prints the final loss of the optimum and its
certificate and, with ``--baselines``, the final loss of each tuned SGD baseline at batch ``--batch`` (constant,
power law, cosine, linear-to-zero, WSD).

- default: η_t alone (:func:`lrwb.numerics.control.lr.optimal_schedule`);
- ``--optimize-momentum``: η_t and the heavy-ball momentum μ_t jointly, optimised in the authors' coordinates
  (η, β_A) ∈ [0, η_max] × (0, 1] (or ``--coordinates heavy_ball``) with the smoothness penalty
  ``--smoothness`` κ (:func:`lrwb.numerics.control.momentum.optimal_momentum_schedule`); the CSV reports heavy-ball
  coordinates (lr = η_HB = ηβ_A, momentum = μ = 1 − β_A; ``conventions.md``) and the printout adds the
  plain-SGD optimum of the same penalised problem;
- ``--optimize-batch``: the batch ramp at η ≡ η_max with the sample budget Σ B_t = ``--batch``·T and B_t ≥
  ``--batch-min`` (:func:`lrwb.numerics.control.batch.optimal_batch_schedule`); the printout adds the constant batch
  ``--batch`` at the same η.
"""

from __future__ import annotations

import argparse

import sys

from lrwb.app.cli.common import (DEFAULTS, add_allow_unstable, check_model_args, check_output, check_steps, emit_csv,
                                 integer, quiet_stability_warnings, report_warnings, spectrum_from_args)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "optimize",
        help="optimal learning-rate (and momentum or batch) schedule by the discrete adjoint",
        description="Minimise the exact expected final excess loss of online SGD on the PLRF model over "
        "0 <= eta_t <= eta_max (L-BFGS-B with the adjoint gradient, Newton polish) and write CSV: "
        "step,lr[,momentum][,batch],loss.",
    )
    g = p.add_argument_group("model")
    g.add_argument("--a", type=float, default=DEFAULTS.a, help="task exponent a > 1 (default %(default)s)")
    g.add_argument("--b", type=float, default=DEFAULTS.b, help="spectrum exponent b > 1 (default %(default)s)")
    g.add_argument("--features", type=integer, default=DEFAULTS.features, help="model size N (default %(default)s)")
    g.add_argument("--sigma", type=float, default=DEFAULTS.sigma, help="label-noise std σ (default %(default)s)")
    g.add_argument("--batch", type=float, default=DEFAULTS.batch,
                   help="batch size B >= 1; with --optimize-batch the mean batch (budget B·T) (default %(default)s)")
    g.add_argument("--steps", type=integer, default=DEFAULTS.steps, help="horizon T in steps (default %(default)s)")
    g.add_argument("--tail", action="store_true", help="top-N model with the untrained tail δ_N")
    o = p.add_argument_group("optimisation")
    o.add_argument("--eta-max", type=float, default=DEFAULTS.eta_max,
                   help="upper bound on η_t (with --optimize-momentum: on the authors' η) (default %(default)s)")
    o.add_argument("--window", type=integer, default=None,
                   help="minimise the mean excess loss over the last WINDOW steps instead of the final loss")
    o.add_argument("--baselines", action="store_true",
                   help="also tune the constant, power-law, cosine, linear and WSD baselines and print them")
    o.add_argument("--optimize-momentum", action="store_true",
                   help="optimise the heavy-ball momentum μ_t jointly with η_t (adds a momentum column)")
    o.add_argument("--smoothness", type=float, default=0.0,
                   help="with --optimize-momentum: penalty κ on Σ(Δη)² + Σ(Δβ)² (the authors use 1e-4…5e-2; "
                        "default %(default)s)")
    o.add_argument("--coordinates", choices=("authors", "heavy_ball"), default="authors",
                   help="with --optimize-momentum: optimise (η, β_A) (authors) or (η_HB, μ) (default %(default)s)")
    o.add_argument("--optimize-batch", action="store_true",
                   help="optimise the batch ramp B_t at η = η_max with Σ B_t = batch·T (adds a batch column)")
    o.add_argument("--batch-min", type=float, default=1.0,
                   help="with --optimize-batch: smallest batch allowed (default %(default)s)")
    p.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    p.add_argument("--allow-unstable", action="store_true",
                   help="keep an --eta-max above the stability bound (default: clip it to the bound, with a warning; "
                   "with --optimize-batch: error when no stable ramp fits the budget); the file then starts with "
                   "'# warning:' lines")
    p.set_defaults(func=run, model="top", input_dim=None, seed=0)


def format_csv(lr, loss, *, momentum=None, batch=None) -> str:
    """``step,lr[,momentum][,batch],loss`` text: T+1 rows, the controls of the last row empty."""
    columns = [("lr", lr)] + ([("momentum", momentum)] if momentum is not None else []) \
        + ([("batch", batch)] if batch is not None else [])
    lines = ["step," + ",".join(name for name, _ in columns) + ",loss"]
    steps = len(lr)
    for t in range(steps + 1):
        cells = [repr(float(values[t])) if t < steps else "" for _, values in columns]
        lines.append(f"{t}," + ",".join(cells) + f",{float(loss[t])!r}")
    return "\n".join(lines) + "\n"


def _check_args(args: argparse.Namespace) -> None:
    from lrwb.numerics import resources

    if args.out is not None:
        check_output(args.out, "--out")
    check_steps(args)
    check_model_args(args)
    if args.window is not None and not 1 <= args.window <= args.steps:
        raise ValueError(f"--window = {args.window} must lie in [1, --steps = {args.steps}]")
    resources.check_memory(resources.control_bytes(args.steps, args.features, momentum=args.optimize_momentum),
                           f"optimize with --steps {args.steps} and --features {args.features}")
    if not args.eta_max > 0:
        raise ValueError(f"--eta-max = {args.eta_max} must be > 0")
    if args.optimize_momentum and args.optimize_batch:
        raise ValueError("--optimize-momentum and --optimize-batch cannot be combined (the batch ramp holds η at "
                         "η_max for plain SGD); run them separately")
    if not (args.smoothness >= 0):
        raise ValueError(f"--smoothness = {args.smoothness} must be >= 0")
    if args.smoothness and not args.optimize_momentum:
        raise ValueError("--smoothness applies to --optimize-momentum only")


def _run_momentum(args, spectrum, options):
    from lrwb.numerics.control.momentum import CONVERGED_DECREASE, optimal_momentum_schedule
    from lrwb.numerics.stability import find_violation

    common = dict(smoothness=args.smoothness, coordinates=args.coordinates, window=args.window,
                  allow_unstable=args.allow_unstable, **options)
    sgd = optimal_momentum_schedule(spectrum, args.steps, optimize_momentum=False, **common)
    joint = optimal_momentum_schedule(spectrum, args.steps, start=(sgd.lr, sgd.momentum), **common)
    lines = [f"optimal (η, μ): final excess loss {joint.final_loss:.6g} after T = {args.steps} steps "
             f"(objective {joint.objective:.6g} incl. smoothness penalty {joint.penalty:.3g}; {args.coordinates} "
             f"coordinates, κ = {args.smoothness:g}; max μ = {joint.momentum.max():.4g}; relative projected "
             f"gradient {joint.projected_gradient:.2g}; predicted Newton decrease {joint.predicted_decrease:.2g}; "
             f"{joint.iterations} iterations)",
             f"optimal η with μ = 0 (same penalty): final excess loss {sgd.final_loss:.6g} "
             f"(joint/this = {joint.final_loss / sgd.final_loss:.4f})"]
    failures = [_not_converged(name, r.predicted_decrease, "predicted relative Newton decrease",
                               CONVERGED_DECREASE, r.iterations, r.message)
                for name, r in (("optimal (η, μ)", joint), ("optimal η with μ = 0", sgd)) if not r.converged]
    notes = [joint.warning, sgd.warning]
    unstable = find_violation(joint.lr, spectrum.eigenvalues, args.batch, joint.momentum) is not None
    return (format_csv(joint.lr, joint.loss, momentum=joint.momentum), lines, joint.final_loss, failures, notes,
            unstable)


def _run_batch(args, spectrum):
    from lrwb.numerics.control.batch import CONVERGED_KKT, optimal_batch_schedule

    result = optimal_batch_schedule(spectrum, args.steps, total_samples=args.batch * args.steps,
                                    eta_max=args.eta_max, sigma=args.sigma, batch_min=args.batch_min,
                                    window=args.window, allow_unstable=args.allow_unstable)
    floor = (f"; stability needs B ≥ {result.stability_floor:.4g}" if result.stability_floor > args.batch_min
             else "")
    lines = [f"optimal batch ramp at η = {args.eta_max:g}: final excess loss {result.final_loss:.6g} after "
             f"T = {args.steps} steps with Σ B_t = {result.total_samples:g} (B from {result.batch.min():.4g} to "
             f"{result.batch.max():.4g}{floor}; KKT residual {result.kkt_residual:.2g}; {result.iterations} iterations)",
             f"constant batch {args.batch:g} at η = {args.eta_max:g}: objective {result.constant_objective:.6g} "
             f"(ramp/this = {result.objective / result.constant_objective:.4f})"]
    failures = [] if result.converged else [
        _not_converged("optimal batch ramp", result.kkt_residual, "KKT residual", CONVERGED_KKT, result.iterations,
                       result.message)]
    return (format_csv(result.lr, result.loss, batch=result.batch), lines, result.final_loss, failures,
            [result.warning], result.warning is not None)


def _not_converged(name, measure, what, tolerance, iterations, message) -> str:
    return (f"{name} did not converge: {what} {measure:.2g} > {tolerance:g} after {iterations} iterations "
            f"(L-BFGS-B: {message}); the schedule written is the best point found, not an optimum")


def run(args: argparse.Namespace) -> int:
    from lrwb.numerics.control.baselines import tuned_baselines
    from lrwb.numerics.control.lr import CONVERGED_RESIDUAL, optimal_schedule
    from lrwb.numerics.stability import stable_eta_max

    _check_args(args)
    spectrum = spectrum_from_args(args)
    with quiet_stability_warnings():
        # One clip (and one warning) for the optimum and the baselines alike; the batch ramp holds η = η_max and
        # enforces stability through its batch floor instead.
        eta_max, cap_warning = (args.eta_max, None) if args.optimize_batch else stable_eta_max(
            args.eta_max, spectrum.eigenvalues, args.batch, allow_unstable=args.allow_unstable, what="--eta-max")
        options = dict(sigma=args.sigma, batch=args.batch, eta_max=eta_max)
        if args.optimize_momentum:
            text, lines, final, failures, notes, unstable = _run_momentum(args, spectrum, options)
        elif args.optimize_batch:
            text, lines, final, failures, notes, unstable = _run_batch(args, spectrum)
        else:
            result = optimal_schedule(spectrum, args.steps, window=args.window, allow_unstable=args.allow_unstable,
                                      **options)
            text, final = format_csv(result.lr, result.loss), result.final_loss
            lines = [f"optimal: final excess loss {result.final_loss:.6g} after T = {args.steps} steps "
                     f"(max relative stationarity residual {result.max_residual:.2g} on "
                     f"{int(result.inactive.sum())} inactive steps; {result.iterations} iterations)"]
            failures = [] if result.converged else [
                _not_converged("optimal", result.max_residual, "max relative stationarity residual",
                               CONVERGED_RESIDUAL, result.iterations, "projected Newton polish")]
            notes, unstable = [], args.allow_unstable and result.warning is not None
        if args.baselines:
            for family, base in tuned_baselines(spectrum, args.steps, **options).items():
                lines.append(f"{family}: final excess loss {base.final_loss:.6g} ({base.spec}; optimum/this = "
                             f"{final / base.final_loss:.4f})")
    notes = list(dict.fromkeys(n for n in (cap_warning, *notes) if n))  # each warning once, in order
    # The file is marked only when it may hold unstable steps (a clipped optimum is a stable, reusable schedule).
    marked = report_warnings("optimize", *notes, text=text) if unstable or args.allow_unstable else (
        report_warnings("optimize", *notes) or text)
    emit_csv(marked, args.out, "\n".join(lines))
    for failure in failures:
        print(f"lrwb optimize: error: {failure}", file=sys.stderr)
    return 1 if failures else 0
