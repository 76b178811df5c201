"""``lrwb sweep``: the PLRF phase diagram over a grid of (a, b) on Dask (:mod:`lrwb.numerics.sweep`).

At every grid point: ζ_T of the optimal schedule and of the best constant, the best constant's LR exponent
ξ_const, the collapse scale ξ (easy phase), the stationarity exponent κ and the anneal length exponent (hard
phase), each fitted on a horizon ladder and compared with the theory registry (±0.05). Writes
``OUT/phase_diagram.csv``, ``OUT/phase_diagram[_residual].png/.pdf`` and one cached JSON per point under
``OUT/points/`` (an interrupted sweep resumes). Runs on a local cluster (one process per core, one thread
each) or, with ``--scheduler tcp://host:8786``, on any running Dask cluster.
"""

from __future__ import annotations

import argparse

from lrwb.app.cli.common import DEFAULTS


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="phase diagram over the (a, b) plane: fitted vs derived exponents, on Dask",
        description="Fit the PLRF exponents (optimal and best-constant ζ_T, ξ_const, collapse ξ, κ, anneal "
        "length) at every point of an (a, b) grid on a horizon ladder and compare them with the theory registry "
        "(±0.05). One Dask task per point, each cached as a JSON file under OUT/points/, so a rerun resumes. "
        "Local cluster by "
        "default; --scheduler ADDRESS runs the same sweep on an existing Dask cluster.",
    )
    g = p.add_argument_group("grid")
    g.add_argument("--grid", choices=("quick", "full"), default="quick",
                   help="preset: quick = 42 points, T = 250…8000 (the CI sweep, < 3 min on 2 cores); full = 110 "
                        "points, T = 250…32000 (default %(default)s)")
    g.add_argument("--a", metavar="VALUES", default=None,
                   help="task exponents a > 1: a list 1.5,2,3 or LO:HI:COUNT (geometric in a − 1); "
                        "overrides the preset's a values")
    g.add_argument("--b", metavar="VALUES", default=None,
                   help="spectrum exponents b > 1, same forms; overrides the preset's b values")
    g.add_argument("--steps", metavar="T1,T2,...", default=None,
                   help="the horizon ladder (>= 3 increasing horizons); overrides the preset's")
    m = p.add_argument_group("model")
    m.add_argument("--sigma", type=float, default=DEFAULTS["sigma"], help="label-noise std σ (default %(default)s)")
    m.add_argument("--batch", type=float, default=DEFAULTS["batch"], help="batch size B >= 1 (default %(default)s)")
    m.add_argument("--eta-max", type=float, default=DEFAULTS["eta_max"],
                   help="upper bound on η_t (default %(default)s)")
    m.add_argument("--reach", type=float, default=0.1,
                   help="model size rule: N = ⌈(η_max T_max / reach)^(1/b)⌉, so λ_N η_max T_max <= reach and the "
                        "top-N model with its tail is the infinite model (default %(default)s)")
    m.add_argument("--max-features", type=int, default=16000, help="cap on N >= 1 (default %(default)s)")
    d = p.add_argument_group("execution")
    d.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="address of a running Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    d.add_argument("--workers", type=int, default=None,
                   help="local cluster size, one process with one thread each (default: this machine's cores)")
    d.add_argument("--connect-timeout", type=float, default=5.0,
                   help="seconds to wait for --scheduler and its first worker (default %(default)s)")
    d.add_argument("--out", metavar="DIR", default="results/sweep", help="output directory (default %(default)s)")
    d.add_argument("--force", action="store_true", help="recompute every point even if cached")
    d.add_argument("--no-figures", dest="figures", action="store_false", help="write the table only")
    d.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                   help="no progress bar or lines")
    d.add_argument("--strict", action="store_true", help="exit with status 1 when a comparison fails")
    p.set_defaults(func=run)


def settings_and_grid(args: argparse.Namespace):
    """(SweepSettings, grid points) from the arguments."""
    from lrwb.numerics import sweep
    from lrwb.numerics.analysis.phase_diagram import SweepSettings

    quick = args.grid == "quick"
    a_values = sweep.parse_values(args.a, "a") if args.a is not None else (sweep.QUICK_A if quick else sweep.FULL_A)
    b_values = sweep.parse_values(args.b, "b") if args.b is not None else (sweep.QUICK_B if quick else sweep.FULL_B)
    if args.steps is not None:
        try:
            horizons = tuple(int(t) for t in args.steps.split(","))
        except ValueError:
            raise ValueError(f"--steps {args.steps!r} must be a comma list of integer horizons, e.g. 250,1000,4000") from None
    else:
        horizons = SweepSettings().horizons if quick else sweep.FULL_HORIZONS
    settings = SweepSettings(horizons=horizons, sigma=args.sigma, batch=args.batch, eta_max=args.eta_max,
                             reach=args.reach, max_features=args.max_features,
                             min_features=max(1, min(SweepSettings.min_features, args.max_features)))
    return settings, sweep.product_grid(a_values, b_values)


def run(args: argparse.Namespace) -> int:
    from lrwb.numerics.sweep import run_sweep

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers = {args.workers} must be >= 1")
    if not args.connect_timeout > 0:
        raise ValueError(f"--connect-timeout = {args.connect_timeout} must be > 0 seconds")
    settings, points = settings_and_grid(args)
    result = run_sweep(points, settings, args.out, scheduler=args.scheduler, workers=args.workers,
                       progress=args.progress, force=args.force, connect_timeout=args.connect_timeout,
                       figures=args.figures)
    print(result.markdown())
    print(f"wrote {', '.join(result.files)}")
    failed = sum(not r.passed for r in result.rows)
    if result.errors:
        return 1
    return 1 if (args.strict and failed) else 0
