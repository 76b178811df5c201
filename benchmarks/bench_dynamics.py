"""Benchmark of the exact expected-loss engines (lrwb.numerics.dynamics.expected), one CPU core, float64.

Prints mode-steps/s (S·N·T / seconds; median of ≥ 3 repeats; per CPU-second of this single-threaded
process, which other load on the machine does not inflate, and per wall-second) for

- ``baseline``: a plain per-step NumPy loop over the modes, one schedule at a time (what the issue measured
  at 5.5e7), loss only — timed on fewer steps (its rate does not depend on T) and reported as a rate;
- ``numpy``: the vectorised NumPy engine of lrwb.numerics.dynamics.expected (per-step operations on (S, N) arrays), with
  the bias/variance split (``parts``) and loss only — also timed on fewer steps;
- ``numba``: the fused numba kernels, with and without the split, on the full T;

for S = 1 and S = 64 schedules, N = 1000, T = 10⁵ by default, each with its ratio to the baseline measured in
the same run. Then the traced peak memory (tracemalloc; the engines allocate all their arrays through NumPy)
for T = 10⁴ and 10⁵, which grows only with the (T+1)-long output curves, not with N·T.

    python benchmarks/bench_dynamics.py            # full sizes (≈ 2–3 min on a slow core)
    python benchmarks/bench_dynamics.py --quick    # small sizes, a smoke run
"""

from __future__ import annotations

import os

# One core: keep BLAS (the NumPy paths' matrix-vector products) single-threaded. Must precede numpy.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from lrwb.numerics.dynamics.expected import HAVE_NUMBA, expected_loss  # noqa: E402
from lrwb.numerics.spectra import power_law_spectrum  # noqa: E402


def baseline_loop(lam, c0, lr, batch, sigma):
    """The plain per-step NumPy loop (one schedule): c ← c·[(1−ηλ)² + η²λ²/B] + (η²/B) λ (σ² + Σλc)."""
    c = c0.copy()
    loss = np.empty(lr.size + 1)
    loss[0] = lam @ c
    for t, eta in enumerate(lr):
        big_l = sigma**2 + lam @ c
        c = c * ((1 - eta * lam) ** 2 + eta**2 * lam**2 / batch) + (eta**2 / batch) * lam * big_l
        loss[t + 1] = lam @ c
    return loss


def schedules(count: int, steps: int) -> np.ndarray:
    """``count`` different stable schedules (cosine decays with peaks 0.3 … 1.0), shape (S, T)."""
    peaks = np.linspace(0.3, 1.0, count)[:, None]
    frac = np.arange(steps) / steps
    return 0.01 + (peaks - 0.01) * 0.5 * (1 + np.cos(np.pi * frac))


def median_rate(func, mode_steps: int, repeats: int) -> tuple[float, float]:
    """(mode-steps per CPU-second, per wall-second), medians over ``repeats`` runs.

    Everything runs on one thread, so the CPU time of this process is the compute time even when other
    jobs share the machine (the wall-clock rate then drops; both are printed).
    """
    cpu, wall = [], []
    for _ in range(repeats):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        func()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return mode_steps / statistics.median(cpu), mode_steps / statistics.median(wall)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100_000, help="T for the numba paths")
    parser.add_argument("--schedules", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--baseline-steps", type=int, default=5000, help="T for the baseline loop (rate only)")
    parser.add_argument("--numpy-steps", type=int, default=3000, help="T for the vectorised NumPy engine")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes: N = 200, T = 2000, S ∈ {1, 8}")
    args = parser.parse_args(argv)
    if args.quick:
        args.features, args.steps, args.schedules = 200, 2000, [1, 8]
        args.baseline_steps, args.numpy_steps = 500, 500
    repeats = max(args.repeats, 3)

    spec = power_law_spectrum(3.5, 2.0, args.features)
    lam, c0 = spec.eigenvalues, spec.target
    sigma, batch = 0.5, 5.0
    n = args.features
    print(f"exact dynamics benchmark: N = {n}, T = {args.steps}, float64, one core; "
          f"{platform.processor() or platform.machine()}, numpy {np.__version__}, numba {'yes' if HAVE_NUMBA else 'no'}")

    if HAVE_NUMBA:  # compile (or load the on-disk cache) outside the timings
        start = time.perf_counter()
        for parts in (True, False):
            expected_loss(spec, schedules(1, 10), sigma=sigma, batch=batch, parts=parts, backend="numba")
        print(f"numba kernels ready in {time.perf_counter() - start:.2f} s (compile or cache load, not timed below)")

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'S':>4} {'path':<22} {'T timed':>9} {'per CPU-s':>11} {'× baseline':>11} {'per wall-s':>11} {'× baseline':>11}")
    for count in args.schedules:
        # Baseline: S schedules one after another; its rate is per mode-step, so time on fewer steps.
        lr_base = schedules(count, args.baseline_steps)
        base = median_rate(lambda: [baseline_loop(lam, c0, row, batch, sigma) for row in lr_base],
                           count * n * args.baseline_steps, repeats)
        rows = [("baseline numpy loop", args.baseline_steps, base)]
        lr_np = schedules(count, args.numpy_steps)
        for parts in (True, False):
            rate = median_rate(lambda: expected_loss(spec, lr_np, sigma=sigma, batch=batch, parts=parts, backend="numpy"),
                               count * n * args.numpy_steps, repeats)
            rows.append((f"numpy vectorised {'parts' if parts else 'loss'}", args.numpy_steps, rate))
        if HAVE_NUMBA:
            lr_full = schedules(count, args.steps)
            for parts in (True, False):
                rate = median_rate(lambda: expected_loss(spec, lr_full, sigma=sigma, batch=batch, parts=parts, backend="numba"),
                                   count * n * args.steps, repeats)
                rows.append((f"numba {'parts' if parts else 'loss'}", args.steps, rate))
        for name, steps, (cpu, wall) in rows:
            print(f"{count:>4} {name:<22} {steps:>9} {cpu:>11.3e} {cpu / base[0]:>10.1f}× {wall:>11.3e} "
                  f"{wall / base[1]:>10.1f}×")

        # The engines agree with the baseline on the common steps (sanity, not timed).
        check = expected_loss(spec, lr_base, sigma=sigma, batch=batch, parts=False)
        ref = np.array([baseline_loop(lam, c0, row, batch, sigma) for row in lr_base])
        assert np.max(np.abs(np.atleast_2d(check.loss) / ref - 1)) < 1e-11

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("peak traced memory (tracemalloc), S = 1, parts (loss, bias, variance = 3 curves of T+1 floats):")
    for backend in (["numba"] if HAVE_NUMBA else []) + ["numpy"]:
        for steps in (args.steps // 10, args.steps):
            lr = schedules(1, steps)[0]
            tracemalloc.start()
            expected_loss(spec, lr, sigma=sigma, batch=batch, backend=backend)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"  {backend:<6} T = {steps:>7}: peak {peak / 2**20:8.2f} MiB = {peak / steps:6.1f} B/step "
                  f"(one float per mode-step would be {8 * n * steps / 2**20:,.0f} MiB)")


if __name__ == "__main__":
    main()
