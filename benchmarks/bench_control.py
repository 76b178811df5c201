"""Benchmark of the optimal-schedule solver (numerics.control), one CPU core, float64.

Problem: the conventions' defaults (a = 3.5, b = 2, N = 1000, σ = 0.5, B = 5, η_max = 1), final loss.

- ``fast``: :func:`numerics.control.optimal_schedule` (numba forward/reverse kernels, L-BFGS-B in variables
  scaled by the Pontryagin curvature, preconditioned Newton polish) at T = 1000 and 1600; wall and CPU
  seconds, medians of ``--repeats`` runs, with the final loss and the stationarity residual.
- ``naive``: L-BFGS-B over all T values with the per-step Python-loop (NumPy) adjoint, unscaled, same start
  and same tolerances, timed at the smaller ``--naive-steps`` (median of ``--naive-repeats``) and
  extrapolated linearly in T. Linear extrapolation is generous to the naive solver (its iteration count also
  grows with T: ~500 at T = 1000 vs ~630 at T = 1600 here), so the quoted ratios are lower bounds.

The machine may be shared: every number is a median, and CPU seconds (process time) are shown next to wall
seconds since other load inflates only the latter.

    python benchmarks/bench_control.py              # T = 1000, 1600; naive at T = 200 (≈ 1–2 min)
    python benchmarks/bench_control.py --stretch    # also T = 10⁴ (the issue's 30 s stretch target)
    python benchmarks/bench_control.py --b 5        # the hard phase (many steps at η_max)
    python benchmarks/bench_control.py --quick      # smoke run (N = 200)
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402

from numerics import control  # noqa: E402
from numerics.spectra import power_law_spectrum  # noqa: E402

PROBLEM = dict(sigma=0.5, batch=5.0)
ETA_MAX = 1.0


def timed(func, repeats):
    """(median wall s, median CPU s, last result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def naive_solve(spectrum, steps):
    """L-BFGS-B with the per-step Python-loop adjoint, no scaling, no polish; same start as the fast solver."""
    problem = control._Problem(spectrum, steps, backend="numpy", **PROBLEM)
    x0 = control.default_start(spectrum, steps, eta_max=ETA_MAX, **PROBLEM)
    result = optimize.minimize(problem.scipy_fun, x0, jac=True, method="L-BFGS-B",
                               bounds=[(0.0, ETA_MAX)] * steps,
                               options=dict(maxiter=5000, maxcor=20, ftol=1e-15, gtol=1e-14, maxfun=20000))
    return result.fun, result.nit


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--b", type=float, default=2.0, help="spectrum exponent (2: easy phase, 5: hard)")
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 1600])
    parser.add_argument("--naive-steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-repeats", type=int, default=3)
    parser.add_argument("--stretch", action="store_true", help="also solve T = 10⁴ (one run)")
    parser.add_argument("--quick", action="store_true", help="N = 200, T ∈ {200, 400}, naive at T = 100")
    args = parser.parse_args(argv)
    if args.quick:
        args.features, args.steps, args.naive_steps, args.repeats, args.naive_repeats = 200, [200, 400], 100, 1, 1
    spectrum = power_law_spectrum(3.5, args.b, args.features)
    control.optimal_schedule(spectrum, 50, eta_max=ETA_MAX, **PROBLEM)  # compile the kernels

    print(f"a = 3.5, b = {args.b:g}, N = {args.features}, σ = 0.5, B = 5, η_max = 1; medians of runs (wall / CPU s)")
    naive_wall, naive_cpu, (naive_loss, naive_iters) = timed(lambda: naive_solve(spectrum, args.naive_steps),
                                                             args.naive_repeats)
    print(f"naive  T = {args.naive_steps:>5}: {naive_wall:8.2f} / {naive_cpu:8.2f} s  final loss {naive_loss:.10g} "
          f"({naive_iters} iterations)")
    horizons = list(args.steps) + ([10_000] if args.stretch else [])
    for steps in horizons:
        repeats = 1 if steps >= 5000 else args.repeats
        wall, cpu, res = timed(lambda: control.optimal_schedule(spectrum, steps, eta_max=ETA_MAX, **PROBLEM),
                               repeats)
        factor = steps / args.naive_steps
        print(f"fast   T = {steps:>5}: {wall:8.2f} / {cpu:8.2f} s  final loss {res.final_loss:.10g}  "
              f"residual {res.max_residual:.1e}  ({res.iterations} iterations, {res.evaluations} evaluations)"
              f"  | naive extrapolated {naive_wall * factor:8.1f} / {naive_cpu * factor:8.1f} s"
              f"  -> ratio {naive_wall * factor / wall:6.1f}× wall, {naive_cpu * factor / cpu:6.1f}× CPU")


if __name__ == "__main__":
    main()
