"""Loss-curve-law fitting speed, and the O(K·Q) evaluation against the naive O(K²) sum.

1. Fit time: each law (fsl, mpl, momentum, fsln) fitted to one 30,000-step synthetic curve it generated itself
   (warmup 1,000 steps to η = 3e−4, then cosine to 3e−5; loss logged every 100 steps; multiplicative noise
   1e−3), with each fit method at its defaults: ``converged`` (surrogate grid, 32 screened starts, 2 polished
   by TRF + L-BFGS-B) and, for the MPL, ``adamw`` (surrogate grid, then the MPL authors' AdamW, ≤ 200 steps).
   Wall and CPU time on one thread (BLAS single-threaded), everything included (surrogate, screening, restarts).
2. Evaluation: the loss at every one of K = 30,000 steps by the O(K·Q) recursion vs the direct O(K²) double
   sum (``Law.evaluate_naive``), for fsl and mpl; the speed-up and the largest difference.

3. Protocol on exact PLRF curves (``lrwb.numerics.dynamics.expected.expected_loss``; defaults a = 3.5, b = 2, N = 1000,
   σ = 0.5, B = 5; T = 2000, peak η = 0.5, 50 warmup steps; excess loss): each law fitted on the cosine run,
   predicting WSD, 8-1-1 and constant; RMSE and R² per law (``--plrf``; the laws model the excess loss
   L(k) = loss after step k, i.e. the exact curve's entry k + 1).

Usage:  python benchmarks/bench_fit.py [--steps 30000] [--methods converged,adamw] [--no-naive] [--json OUT.json]
        [--plrf]
Run it on an otherwise idle core for the numbers you report (CPU time is printed next to wall time).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):  # one core, as the target says
    os.environ.setdefault(_var, "1")

import argparse
import json
import time

import numpy as np

from lrwb.numerics.lawfit.curves import TrainingCurve
from lrwb.numerics.lawfit.fit import fit_law
from lrwb.numerics.lawfit.laws import get_law

TRUE = {"fsl": [2.5, 0.6, 0.4, 0.6, 30.0, 100.0, 0.5], "mpl": [2.5, 0.6, 0.4, 800.0, 2.0, 0.3, 0.5],
        "momentum": [2.5, 0.6, 0.4, 1.0, 0.998], "fsln": [2.5, 0.6, 0.4, 500.0, 20.0, 0.7, 1e-3, 0.3, 300.0]}


def schedule(steps: int, warmup: int = 1000) -> np.ndarray:
    t = np.arange(steps)
    cos = 3e-5 + 2.7e-4 * 0.5 * (1 + np.cos(np.pi * (t - warmup) / (steps - warmup)))
    return np.where(t < warmup, 3e-4 * t / warmup, cos)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--json", default=None)
    ap.add_argument("--plrf", action="store_true", help="only the protocol on exact PLRF curves")
    ap.add_argument("--methods", default="converged,adamw", help="fit methods to time (default %(default)s)")
    ap.add_argument("--no-naive", action="store_true", help="skip the O(K²) evaluation timing")
    args = ap.parse_args()
    if args.plrf:
        plrf_protocol()
        return
    K, W = args.steps, 1000
    lr = schedule(K, W)
    logged = np.arange(W + 100, K, 100)
    rng = np.random.default_rng(0)
    report = {"steps": K, "fit": {}, "evaluation": {}}
    for name, th in TRUE.items():
        law = get_law(name)
        loss = law.evaluate(th, lr, logged, warmup=W).loss * np.exp(1e-3 * rng.standard_normal(logged.size))
        curve = TrainingCurve("synthetic", lr, logged, loss, W)
        law.evaluate(th, lr, logged[:3], warmup=W, jacobian=True)  # JIT compile outside the timing
        for method in args.methods.split(","):
            if method == "adamw" and name != "mpl":
                continue  # the AdamW protocol is the MPL authors'; its step sizes are not tuned for the others
            c0, w0 = time.process_time(), time.perf_counter()
            fit = fit_law(law, [curve], method=method)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            rms = float(np.sqrt(np.mean(np.concatenate(list(fit.residuals.values())) ** 2)))
            report["fit"][f"{name}/{method}"] = {"wall_s": wall, "cpu_s": cpu, "evaluations": fit.n_evaluations,
                                                 "starts": fit.n_starts, "rms_log_residual": rms}
            print(f"fit {name:9s} {method:6s} K={K}: wall {wall:6.2f} s, cpu {cpu:6.2f} s, "
                  f"{fit.n_evaluations} evaluations, {fit.n_starts} polished start(s), rms log residual {rms:.2e} "
                  "(noise 1e-3)", flush=True)
    every = np.arange(W + 1, K)
    for name in () if args.no_naive else ("fsl", "mpl"):
        law = get_law(name)
        th = TRUE[name]
        law.evaluate(th, lr, every[:3], warmup=W)
        c0 = time.process_time()
        fast = law.evaluate(th, lr, every, warmup=W).loss
        t_fast = time.process_time() - c0
        c0 = time.process_time()
        naive = law.evaluate_naive(th, lr, every, warmup=W)
        t_naive = time.process_time() - c0
        diff = float(np.max(np.abs(fast - naive)))
        report["evaluation"][name] = {"fast_cpu_s": t_fast, "naive_cpu_s": t_naive, "speedup": t_naive / t_fast,
                                      "max_abs_diff": diff}
        print(f"evaluate {name:4s} at all {every.size} steps: O(K·Q) {t_fast * 1e3:8.1f} ms, O(K²) {t_naive:7.2f} s, "
              f"speed-up {t_naive / t_fast:7.0f}x, max |diff| {diff:.1e}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)


def plrf_protocol(steps: int = 2000, peak: float = 0.5, warmup: int = 50) -> dict:
    from lrwb.numerics.dynamics.expected import expected_loss
    from lrwb.numerics.lawfit.fit import average_metrics, run_protocol
    from lrwb.numerics.schedules import parse_schedule
    from lrwb.numerics.spectra import power_law_spectrum

    spectrum = power_law_spectrum(3.5, 2.0, 1000)
    specs = {"cosine": f"cosine:{peak},{0.1 * peak}", "wsd": f"wsd:{peak},0.2,{0.1 * peak}",
             "step811": f"step811:{peak}", "constant": f"constant:{peak}"}
    logged = np.unique(np.geomspace(warmup + 1, steps - 1, 120).astype(int))
    curves = {}
    for name, spec in specs.items():
        lr = parse_schedule(f"{spec}+warmup={warmup}").values(steps)
        exact = expected_loss(spectrum, lr, sigma=0.5, batch=5).loss
        curves[name] = TrainingCurve(name, lr, logged, exact[logged + 1], warmup)
    fits, rows = run_protocol(curves, ["cosine"], ["wsd", "step811", "constant"])
    out = {}
    for law in fits:
        m = average_metrics([r for r in rows if r.law == law], "predict", "whole")
        per = {r.run: r.whole.rmse / float(np.mean(curves[r.run].loss)) for r in rows if r.law == law}
        out[law] = {"r2": m.r2, "rmse": m.rmse, "relative_rmse_per_run": per}
        print(f"PLRF fit on cosine, predict wsd/8-1-1/constant: {law:9s} R² {m.r2:.5f}  RMSE {m.rmse:.3e}  "
              + "  ".join(f"{k} {v:.1%}" for k, v in per.items()))
    return out


if __name__ == "__main__":
    main()
