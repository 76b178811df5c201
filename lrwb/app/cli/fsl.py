"""``lrwb fsl``: the Functional Scaling Law engine — ``curve``, ``table1``, ``optimal``.

``curve`` writes ``step,lr,intrinsic_time,loss,signal,noise,approx`` (T+1 rows; row t holds the η_t of step
t → t+1, the last row's lr is empty). Excess loss in PLRF units (no ½; the FSL paper's E = ½‖·‖²_H is half of
it). With ``--features M`` the law uses the mode sums of the top-M model (λ_j = j^{−β}, λ_jθ_j² = j^{−(sβ+1)},
exact Gaussian constants, tail δ_M with ``--tail``); without it, the power-law form with unit constants.
"""

from __future__ import annotations

import argparse
import sys

from lrwb.app.cli.common import (DEFAULTS, add_allow_unstable, check_finite, check_output, integer,
                                 quiet_stability_warnings, report_warnings)
from lrwb.numerics.io import atomic_write


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "fsl",
        help="Functional Scaling Law: loss curves, Table 1 numerically, optimal schedules",
        description="The FSL (Li et al. 2025) as a fast engine: E_k = δ + e(t_k) + Σ_i (η_i²/B) K(t_k − t_{i+1}) F_i "
        "in PLRF units (no ½), O(T·Q).",
    )
    sub = p.add_subparsers(dest="fsl_command", metavar="ACTION")
    sub.required = True

    c = sub.add_parser("curve", help="FSL loss curve of one schedule (CSV)",
                       description="FSL loss curve: step,lr,intrinsic_time,loss,signal,noise,approx (PLRF units).")
    _exponents(c)
    c.add_argument("--schedule", required=True, help="schedule spec, e.g. cosine:0.2,0 or wsd:0.3,0.2,0.003")
    c.add_argument("--steps", type=integer, default=DEFAULTS.steps, help="horizon K in steps (default %(default)s)")
    c.add_argument("--features", type=integer, default=None,
                   help="model size M: mode-sum form with exact constants (default: power-law form, unit constants)")
    c.add_argument("--tail", action="store_true", help="with --features: include δ_M = Σ_{j>M} j^{-(sβ+1)}")
    c.add_argument("--sigma", type=float, default=DEFAULTS.sigma, help="label-noise std σ (default %(default)s)")
    c.add_argument("--batch", type=float, default=DEFAULTS.batch, help="batch size B >= 1 (default %(default)s)")
    c.add_argument("--iterate", choices=("picard1", "picard2", "volterra"), default="picard1",
                   help="picard1: the FSL; picard2: second Picard iterate; volterra: full solution (default %(default)s)")
    c.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    add_allow_unstable(c)
    c.set_defaults(func=run_curve)

    t = sub.add_parser("table1", help="Table 1 of the FSL paper, numerically (derived vs fitted exponents)",
                       description="Optimise each schedule family under the top-M mode-sum FSL (B = 1) over a range "
                       "of D (and C), fit the exponents of the optimal final loss and compare with the derived ones.")
    t.add_argument("--out", metavar="DIR", required=True,
                   help="directory for table1.md, table1_exponents.csv (the table), table1.csv (every optimum) "
                   "and table1.png/.pdf")
    t.add_argument("--size", choices=("ci", "full"), default="ci", help="range of D/C (default %(default)s)")
    t.add_argument("--cells", default="all", help="comma-separated subset, e.g. data-easy,data-hard (default all)")
    t.set_defaults(func=run_table1)

    o = sub.add_parser("optimal", help="numerically optimal schedule under the FSL objective (CSV)",
                       description="Minimise the FSL final loss over η_0…η_{K−1} in [0, η_max] (L-BFGS-B, exact "
                       "gradient, NumPy); writes step,lr and prints the comparison with the power decay / WSD-like "
                       "shape and the stationarity law η ∝ (1 + u)^{(2β−1)/(2β)}.")
    _exponents(o)
    o.add_argument("--steps", type=integer, default=DEFAULTS.steps, help="horizon K in steps (default %(default)s)")
    o.add_argument("--eta-max", type=float, default=DEFAULTS.eta_max, help="LR cap η_max (default %(default)s)")
    o.add_argument("--sigma", type=float, default=DEFAULTS.sigma, help="label-noise std σ (default %(default)s)")
    o.add_argument("--batch", type=float, default=1.0, help="batch size B >= 1 (default %(default)s)")
    o.add_argument("--features", type=integer, default=None, help="mode-sum form with M features (default power laws)")
    o.add_argument("--out", metavar="FILE", required=True, help="CSV file step,lr to write")
    o.add_argument("--allow-unstable", action="store_true",
                   help="keep an --eta-max above the stability bound (default: clip it to the bound, with a warning); "
                   "the file then starts with a '# warning:' line")
    o.set_defaults(func=run_optimal)


def _exponents(p: argparse.ArgumentParser) -> None:
    p.add_argument("--s", type=float, required=True, help="source exponent s > 0")
    p.add_argument("--beta", type=float, required=True, help="capacity exponent beta > 1")


def _check_sizes(args, what: str, bytes_needed: float) -> None:
    """Finite numbers, M >= 1, and the memory of the run and of the top-M spectrum below the limit."""
    from lrwb.numerics import resources

    check_finite(args, "s", "beta", "sigma", "eta_max")
    if args.features is not None:
        if args.features < 1:
            raise ValueError(f"--features = {args.features} must be >= 1")
        bytes_needed += resources.spectrum_bytes(args.features)
    resources.check_memory(bytes_needed, what)


def _model(args):
    from lrwb.numerics.fsl.engine import fsl_spectrum, mode_sum_model, power_law_model

    if args.features is None:
        if getattr(args, "tail", False):
            raise ValueError("--tail needs --features (the power-law form has no model size)")
        return power_law_model(args.s, args.beta, sigma=args.sigma)
    return mode_sum_model(fsl_spectrum(args.s, args.beta, args.features, tail=getattr(args, "tail", False)),
                          sigma=args.sigma)


def format_curve_csv(curve) -> str:
    """CSV text of a single-schedule :class:`~lrwb.numerics.fsl.engine.FSLCurve`."""
    lines = ["step,lr,intrinsic_time,loss,signal,noise,approx"]
    steps = curve.lr.size
    approx = repr(float(curve.approx))
    for k in range(steps + 1):
        lr_text = repr(float(curve.lr[k])) if k < steps else ""
        lines.append(f"{k},{lr_text},{float(curve.intrinsic_time[k])!r},{float(curve.loss[k])!r},"
                     f"{float(curve.signal[k])!r},{float(curve.noise[k])!r},{approx}")
    return "\n".join(lines) + "\n"


def run_curve(args: argparse.Namespace) -> int:
    from lrwb.numerics import resources
    from lrwb.numerics.fsl.engine import fsl_curve
    from lrwb.numerics.schedules import parse_schedule

    if args.out is not None:
        check_output(args.out, "--out")
    if args.steps < 1:
        raise ValueError(f"--steps = {args.steps} must be >= 1")
    _check_sizes(args, f"fsl curve with --steps {args.steps}" + (f" and --features {args.features}"
                                                                  if args.features else ""),
                 resources.fsl_curve_bytes(args.steps, 128 if args.iterate == "volterra" else 64))
    model = _model(args)
    lr = parse_schedule(args.schedule).values(args.steps)
    curve = fsl_curve(model, lr, batch=args.batch, iterate=args.iterate, allow_unstable=args.allow_unstable)
    text = report_warnings("fsl curve", curve.warning, text=format_curve_csv(curve))
    if args.out:
        with atomic_write(args.out) as handle:
            handle.write(text)
        print(f"wrote {args.out}: {model.label}, {args.iterate}, Q = {curve.kernel_terms} kernel terms; final excess "
              f"loss {curve.loss[-1]:.6g} (signal {curve.signal[-1]:.4g}, noise {curve.noise[-1]:.4g}, "
              f"approx {curve.approx:.4g})")
    else:
        sys.stdout.write(text)
    return 0


def run_table1(args: argparse.Namespace) -> int:
    from lrwb.experiments.fsl_table1 import all_pass, run_table1 as build, table_markdown
    from lrwb.numerics.fsl.table1 import parse_cells

    check_output(args.out, "--out", kind="dir")
    cells = None if args.cells == "all" else [c.strip() for c in args.cells.split(",") if c.strip()]
    if cells is not None and not cells:
        raise ValueError(f"--cells {args.cells!r} names no cell; expected all or a comma-separated subset of "
                         "data-easy,data-hard,compute-easy,compute-hard")
    parse_cells(cells)  # unknown names fail here, before any optimisation
    table = build(args.out, size=args.size, cells=cells)
    print(table_markdown(table))
    return 0 if all_pass(table) else 1


def run_optimal(args: argparse.Namespace) -> int:
    from lrwb.numerics import resources
    from lrwb.numerics.fsl.optimal import optimal_schedule, write_optimal_csv

    check_output(args.out, "--out")
    if args.steps < 2:
        raise ValueError(f"--steps = {args.steps} must be >= 2")
    # L-BFGS-B keeps ~2·10 correction vectors of K plus the FSL curve's arrays and its gradient
    _check_sizes(args, f"fsl optimal with --steps {args.steps}", resources.fsl_curve_bytes(args.steps) * 4)
    model = _model(args)
    with quiet_stability_warnings():
        result = optimal_schedule(model, args.steps, eta_max=args.eta_max, batch=args.batch,
                                  allow_unstable=args.allow_unstable)
    report_warnings("fsl optimal", result.warning)
    # Only a kept unstable cap marks the file (a clipped optimum is a stable, reusable file: schedule).
    write_optimal_csv(args.out, result, comment=result.warning if args.allow_unstable else None)
    print(f"wrote {args.out}")
    print(result.summary())
    return 0
