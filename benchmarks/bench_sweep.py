"""Benchmark of ``lrwb sweep`` on Dask: the sweep's wall time against (Σ task CPU time) / workers.

Run: ``python benchmarks/bench_sweep.py`` from the repository root (``PYTHONPATH=.`` when the installed package is
another checkout) (default: the quick grid, 42 points, a local cluster of 2 worker
processes with 1 thread each, 3 repeats, each into a fresh cache so every point is computed).

For each repeat it prints the wall time from the first submission to the last result, the sum of the tasks' own
CPU times (the worker process's CPU time while :func:`lrwb.numerics.analysis.phase_diagram.evaluate_point` runs), the ideal wall time Σ CPU / workers
and their ratio (target ≤ 1.3: scheduling, serialisation, worker start-up imports and load imbalance together
cost at most 30%), plus the cluster start-up and the load average around the run (the ratio is only meaningful
on otherwise idle cores: other processes stretch the wall time, not the CPU time; the last column, wall against
Σ task wall / workers, isolates Dask's own overhead and the load imbalance on a shared machine). Then the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from lrwb.numerics.analysis.phase_diagram import SweepSettings
from lrwb.numerics.sweep import product_grid, quick_grid, run_sweep

#: a 12-point grid for a fast check (both phases, the boundary, a → 1, large b).
SMALL_A = (1.25, 2.0, 3.5)
SMALL_B = (1.5, 2.0, 3.5, 8.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=("quick", "small"), default="quick")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    points = quick_grid() if args.grid == "quick" else product_grid(SMALL_A, SMALL_B)
    settings = SweepSettings()
    print(f"grid {args.grid}: {len(points)} points, horizons {settings.horizons}, {args.workers} workers "
          f"(1 thread each), {os.cpu_count()} cores visible")
    print("| repeat | cluster start (s) | wall (s) | Σ task CPU (s) | Σ CPU / workers (s) | ratio | "
          "wall / (Σ task wall / workers) | load avg before → after |")
    print("|---|---|---|---|---|---|---|---|")
    walls, ideals, ratios, sched = [], [], [], []
    for i in range(args.repeat):
        load0 = os.getloadavg()[0]
        with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
            t0 = time.perf_counter()
            run = run_sweep(points, settings, tmp, workers=args.workers, progress=False, figures=False)
            total = time.perf_counter() - t0
        load1 = os.getloadavg()[0]
        walls.append(run.wall_s)
        ideals.append(run.ideal_s)
        ratios.append(run.efficiency_ratio)
        sched.append(run.scheduling_ratio)
        print(f"| {i + 1} | {run.startup_s:.1f} | {run.wall_s:.1f} | {run.cpu_s:.1f} | {run.ideal_s:.1f} | "
              f"{run.efficiency_ratio:.3f} | {run.scheduling_ratio:.3f} | {load0:.1f} → {load1:.1f} |", flush=True)
        if run.errors:
            print(f"errors: {run.errors}")
            return 1
        print(f"  (end to end with the table and the registry: {total:.1f} s)")
    print(f"\nmedian wall {statistics.median(walls):.1f} s, median Σ CPU / workers {statistics.median(ideals):.1f} s, "
          f"median ratio {statistics.median(ratios):.3f} (target ≤ 1.3); median wall / (Σ task wall / workers) "
          f"{statistics.median(sched):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
