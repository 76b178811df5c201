"""Monte Carlo SGD throughput: samples/s of ``lrwb.numerics.simulate.monte_carlo`` against a plain per-step torch loop.

One sample = one input vector through one SGD step (R runs × B inputs per step × T steps). Model: top-N PLRF,
N = 1000, a = 3.5, b = 2, batch 1, constant η = 0.3, σ = 0.5, losses recorded at steps 0 and T only.

Reported per (backend, device, dtype, R): the median of ``--repeats`` timings (after one warm-up), and

- for the torch path, its ratio to a *plain per-step torch loop* (fresh ``torch.randn`` per step, unfused
  ops, the weights re-allocated every step) measured in the same run, on the same device and dtype;
- the RNG bound: samples/s if drawing the N standard normals of each sample were the only cost
  (on a CPU this is what limits the simulator).

Usage:  python benchmarks/bench_simulate.py            (CPU, < 60 s; adds CUDA at the same sizes when present)
        python benchmarks/bench_simulate.py --gpu      (CUDA at R up to 16384; without CUDA it runs the
                                                       fallback path on the CPU at reduced steps)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np

from lrwb.numerics.backends import DeviceFallbackWarning
from lrwb.numerics.simulate import monte_carlo
from lrwb.numerics.spectra import power_law_spectrum

FEATURES = 1000
LR = 0.3
SIGMA = 0.5


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _median_time(fn, repeats: int, device: str) -> float:
    fn()  # warm-up (allocations, library initialisation, CUDA context)
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain_torch_loop(spectrum, lr, runs: int, batch: int, dtype: str, device: str, seed: int = 0) -> float:
    """The baseline: a straightforward per-step torch loop of the same SGD; returns the final mean loss."""
    import torch

    dt = getattr(torch, dtype)
    gen = torch.Generator(device=device).manual_seed(seed)
    lam = torch.as_tensor(spectrum.eigenvalues, dtype=dt, device=device)
    sqrt_lam = lam.sqrt()
    w_star = torch.as_tensor(spectrum.target_weights, dtype=dt, device=device)
    n = lam.numel()
    w = torch.zeros(runs, n, dtype=dt, device=device)
    for eta in lr:
        x = torch.randn(runs, batch, n, generator=gen, dtype=dt, device=device) * sqrt_lam
        y = x @ w_star + SIGMA * torch.randn(runs, batch, generator=gen, dtype=dt, device=device)
        resid = (x @ w.unsqueeze(-1)).squeeze(-1) - y
        grad = (x * resid.unsqueeze(-1)).sum(dim=1) / batch
        w = w - float(eta) * grad
    return float((((w - w_star) ** 2) @ lam).mean())


def rng_only(runs: int, batch: int, steps: int, dtype: str, device: str, backend: str) -> None:
    """Draw exactly the standard normals the simulator needs (N per sample), nothing else."""
    if backend == "numpy":
        rng = np.random.default_rng(0)
        for _ in range(steps):
            rng.standard_normal((runs, batch, FEATURES), dtype=np.dtype(dtype))
        return
    import torch

    gen = torch.Generator(device=device).manual_seed(0)
    buf = torch.empty(runs, batch, FEATURES, dtype=getattr(torch, dtype), device=device)
    for _ in range(steps):
        buf.normal_(generator=gen)


def steps_for(runs: int, budget_samples: float, minimum: int = 5) -> int:
    """Enough steps for a measurable time, few enough to keep the whole benchmark short."""
    return max(minimum, int(round(budget_samples / runs)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="CUDA at larger R (runs the CPU fallback without CUDA)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per configuration (median; >= 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's own)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be >= 3 (the report is a median)")

    spectrum = power_law_spectrum(3.5, 2.0, FEATURES)
    batch = 1
    try:
        import torch

        has_torch, has_cuda = True, torch.cuda.is_available()
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        torch_threads = torch.get_num_threads()
    except ImportError:
        has_torch, has_cuda, torch_threads = False, False, 0

    configs = []  # (backend, device, dtype, runs, steps)
    cpu_budget = 2.0e4  # samples per timed call on the CPU: ~0.2–0.4 s each at N = 1000
    if not args.gpu:
        for runs in (256, 1024):
            steps = steps_for(runs, cpu_budget)
            configs += [("numpy", "cpu", dt, runs, steps) for dt in ("float64", "float32")]
            if has_torch:
                configs += [("torch", "cpu", dt, runs, steps) for dt in ("float64", "float32")]
            if has_cuda:
                configs += [("torch", "cuda", dt, runs, steps_for(runs, 2e6)) for dt in ("float32", "float64")]
    else:
        if not has_torch:
            parser.error("--gpu needs torch")
        for runs in (1024, 4096, 16384):
            steps = steps_for(runs, 4e6 if has_cuda else cpu_budget, minimum=20 if has_cuda else 3)
            configs += [("torch", "cuda", dt, runs, steps) for dt in ("float32", "float64")]

    print(f"Monte Carlo SGD, top-N PLRF N={FEATURES}, batch {batch}, one sample = one input through one step; "
          f"median of {args.repeats}; torch threads {torch_threads}; CUDA {'yes' if has_cuda else 'no'}")
    header = (f"{'backend':7s} {'device':6s} {'dtype':8s} {'R':>6s} {'T':>5s} {'samples/s':>11s} "
              f"{'plain loop':>11s} {'ratio':>6s} {'RNG bound':>11s}")
    print(header)
    rows = []
    for backend, device, dtype, runs, steps in configs:
        lr = np.full(steps, LR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeviceFallbackWarning)
            result = monte_carlo(spectrum, lr[:1], sigma=SIGMA, batch=batch, runs=1, backend=backend,
                                 device=device, dtype=dtype)
        used = result.device  # "cpu" when a CUDA request fell back

        def simulate():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeviceFallbackWarning)
                monte_carlo(spectrum, lr, sigma=SIGMA, batch=batch, runs=runs, backend=backend, device=device,
                            dtype=dtype, record_steps=[0, steps])

        samples = runs * batch * steps
        rate = samples / _median_time(simulate, args.repeats, used)
        rng_rate = samples / _median_time(lambda: rng_only(runs, batch, steps, dtype, used, backend),
                                          args.repeats, used)
        base_rate = ratio = None
        if backend == "torch":
            base_rate = samples / _median_time(
                lambda: plain_torch_loop(spectrum, lr, runs, batch, dtype, used), args.repeats, used)
            ratio = rate / base_rate
        row = dict(backend=backend, device=used, requested_device=device, dtype=dtype, runs=runs, steps=steps,
                   batch=batch, features=FEATURES, samples_per_s=rate, plain_loop_samples_per_s=base_rate,
                   ratio_to_plain_loop=ratio, rng_bound_samples_per_s=rng_rate)
        rows.append(row)
        fmt = lambda v: f"{v:11.3e}" if v is not None else f"{'—':>11s}"
        print(f"{backend:7s} {used:6s} {dtype:8s} {runs:6d} {steps:5d} {fmt(rate)} {fmt(base_rate)} "
              f"{(f'{ratio:6.2f}' if ratio is not None else '     —')} {fmt(rng_rate)}", flush=True)
    if args.json:
        from lrwb.numerics.io import atomic_write

        with atomic_write(args.json) as handle:
            json.dump(rows, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
