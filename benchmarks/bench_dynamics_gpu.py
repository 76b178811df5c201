"""Exact dynamics on torch (CUDA when present, else the CPU fallback): mode-steps/s, medians of 3.

    python benchmarks/bench_dynamics_gpu.py [--schedules 1024 4096] [--steps 2000] [--features 1000]

Reports the torch per-step engine (lrwb.numerics.dynamics.torch_engine) in float32 and float64, and the float32 error
against float64. On a machine without CUDA it runs on the CPU (smaller default sizes) so that the script is
exercised everywhere; the GPU numbers of the issue need a CUDA device.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np


def main() -> None:
    import torch

    from lrwb.numerics.dynamics.expected import expected_loss
    from lrwb.numerics.spectra import power_law_spectrum

    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, nargs="+", default=[1024, 4096] if cuda else [16, 64])
    parser.add_argument("--steps", type=int, default=2000 if cuda else 500)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = "cuda" if cuda else "cpu"
    spec = power_law_spectrum(3.5, 2.0, args.features)
    print(f"device: {torch.cuda.get_device_name() if cuda else 'cpu (no CUDA: fallback)'}; N={args.features}, T={args.steps}")
    for n_sched in args.schedules:
        rng = np.random.default_rng(0)
        lr = rng.uniform(0.1, 1.0, size=(n_sched, args.steps))
        results = {}
        for dtype in ("float32", "float64"):
            times = []
            for _ in range(args.repeats):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if cuda:
                        torch.cuda.synchronize()
                    start = time.perf_counter()
                    curve = expected_loss(spec, lr, sigma=0.5, batch=5, parts=False, backend="torch",
                                          device=device, dtype=dtype, on_divergence="flag")
                    if cuda:
                        torch.cuda.synchronize()
                    times.append(time.perf_counter() - start)
            results[dtype] = curve.loss
            rate = n_sched * args.features * args.steps / statistics.median(times)
            print(f"S={n_sched:5d} {dtype}: median {statistics.median(times):.3f} s  ->  {rate:.3e} mode-steps/s")
        rel = np.max(np.abs(results["float32"] - results["float64"]) / results["float64"])
        print(f"S={n_sched:5d} float32 vs float64 max relative error: {rel:.2e}")


if __name__ == "__main__":
    main()
