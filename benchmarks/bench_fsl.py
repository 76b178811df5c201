"""Benchmark of the FSL engine (``lrwb.numerics.fsl.engine``): fast O(T·Q) convolution vs the naive O(T²) quadrature.

Run: ``python benchmarks/bench_fsl.py`` (one core: ``NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1``).
Reports (1) the T = 10⁶ curve time and the speed-up over the naive quadrature timed at T = 10⁴ and
extrapolated ×(10⁶/10⁴)²; (2) cost against T and Q; (3) accuracy (max relative error of the loss curve against
a reference with a much tighter compression) against Q; (4) the recursion's rounding over a long slowly varying
schedule: the O(T·Q) sums (:mod:`lrwb.numerics.sumexp`, whose decay factors are updated multiplicatively with an exact
refresh every 256 updates) against the same compressed sums with one exp per term and step.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lrwb.numerics.fsl.engine import fsl_curve, fsl_spectrum, intrinsic_times, mode_sum_model, power_law_model
from lrwb.numerics.sumexp import exp_sum_along, exp_sum_convolution


def cosine(peak: float, steps: int) -> np.ndarray:
    return peak * 0.5 * (1 + np.cos(np.pi * np.arange(steps) / steps))


def wsd(peak: float, steps: int) -> np.ndarray:
    k = np.arange(steps)
    start = int(0.8 * steps)
    return np.where(k < start, peak, peak * 0.001 ** ((k - start) / (steps - start)))


def timed(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--naive-steps", type=int, default=10_000)
    args = parser.parse_args(argv)

    models = {
        "power s=0.5 beta=4": (power_law_model(0.5, 4.0, sigma=0.5), 0.2),
        "modes M=1000 s=1.25 beta=2": (mode_sum_model(fsl_spectrum(1.25, 2.0, 1000), sigma=0.5), 0.3),
    }
    # the naive mode-sum quadrature costs T²·M/2 exps (10⁴ steps: 5·10¹⁰): time it at T/10, extrapolate T²
    naive_steps = {"power s=0.5 beta=4": args.naive_steps, "modes M=1000 s=1.25 beta=2": args.naive_steps // 10}
    fsl_curve(models["power s=0.5 beta=4"][0], cosine(0.2, 10))  # numba compile / cache load
    fsl_curve(models["modes M=1000 s=1.25 beta=2"][0], cosine(0.2, 10))

    print(f"## (1) T = {args.steps:.0e} curve vs naive O(T^2) at T = {args.naive_steps:.0e}, extrapolated")
    print("| model | schedule | iterate | Q | fast T=1e6 (s) | naive T_n | naive at T_n (s) | naive extrapolated (s) | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (model, peak) in models.items():
        for sched_name, sched in (("cosine", cosine), ("wsd", wsd)):
            for iterate in ("picard1", "volterra"):
                lr = sched(peak, args.steps)
                fast = timed(lambda: fsl_curve(model, lr, iterate=iterate))
                q = fsl_curve(model, lr, iterate=iterate).kernel_terms
                n_small = naive_steps[name]
                small = sched(peak, n_small)
                naive = timed(lambda: fsl_curve(model, small, iterate=iterate, method="naive"), repeat=1)
                extrap = naive * (args.steps / n_small) ** 2
                print(f"| {name} | {sched_name} | {iterate} | {q} | {fast:.3f} | {n_small} | {naive:.2f} | {extrap:.3g} | "
                      f"{extrap / fast:.3g}x |")

    print("\n## (2) cost against T (cosine, picard1)")
    print("| model | T | Q | time (s) | ns per step·term |")
    print("|---|---|---|---|---|")
    for name, (model, peak) in models.items():
        for steps in (10_000, 100_000, 1_000_000):
            lr = cosine(peak, steps)
            curve = fsl_curve(model, lr)
            t = timed(lambda: fsl_curve(model, lr))
            print(f"| {name} | {steps:.0e} | {curve.kernel_terms} | {t:.4f} | {1e9 * t / (steps * curve.kernel_terms):.2f} |")

    print("\n## (3) accuracy against Q (T = 1e5, WSD: max |loss/reference - 1| over the curve)")
    print("| model | setting | Q | max rel. error | time (s) |")
    print("|---|---|---|---|---|")
    steps = 100_000
    model, peak = models["power s=0.5 beta=4"]
    lr = wsd(peak, steps)
    ref = fsl_curve(model, lr, rtol=1e-13).loss
    for rtol in (1e-3, 1e-4, 1e-6, 1e-8, 1e-10):
        curve = fsl_curve(model, lr, rtol=rtol)
        t = timed(lambda: fsl_curve(model, lr, rtol=rtol))
        print(f"| power | rtol={rtol:g} | {curve.kernel_terms} | {np.max(np.abs(curve.loss / ref - 1)):.2e} | {t:.4f} |")
    model, peak = models["modes M=1000 s=1.25 beta=2"]
    lr = wsd(peak, steps)
    ref = fsl_curve(model, lr, order=10_000).loss  # one Gauss rule per bin with all its modes: exact sums
    for order, ratio in ((1, 4.0), (2, 4.0), (3, 3.0), (4, 3.0), (6, 2.0), (8, 2.0)):
        curve = fsl_curve(model, lr, order=order, ratio=ratio)
        t = timed(lambda: fsl_curve(model, lr, order=order, ratio=ratio))
        print(f"| modes | order={order}, ratio={ratio:g} | {curve.kernel_terms} | "
              f"{np.max(np.abs(curve.loss / ref - 1)):.2e} | {t:.4f} |")

    print(f"\n## (4) rounding over T = {args.steps:.0e} slowly varying steps (cosine, modes M=1000): recursion vs exps")
    model, peak = models["modes M=1000 s=1.25 beta=2"]
    lr = cosine(peak, args.steps)
    t = intrinsic_times(lr)
    signal, kernel = model.signal_sum(float(t[-1])), model.kernel_sum(float(t[-1]))
    along = exp_sum_along(signal, lr)[0]
    direct = np.concatenate([signal(t[a:a + 20_000]) for a in range(0, t.size, 20_000)])
    noise = exp_sum_convolution(kernel, lr, lr**2, np.ones_like(lr))[0]
    acc, ref_noise = np.zeros(kernel.size), np.empty(args.steps + 1)
    for k in range(args.steps):  # one exp per term and step: the reference (slow, Python)
        ref_noise[k] = kernel.weights @ acc
        acc = np.exp(-kernel.rates * lr[k]) * acc + lr[k] ** 2
    ref_noise[-1] = kernel.weights @ acc
    print("| quantity | max rel. error |\n|---|---|")
    print(f"| signal e_M(t_k) (running product vs exp of t_k) | {np.max(np.abs(along / direct - 1)):.2e} |")
    print(f"| noise sum (recursion vs one exp per step) | {np.max(np.abs(noise[1:] / ref_noise[1:] - 1)):.2e} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
