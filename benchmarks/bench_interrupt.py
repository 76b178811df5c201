"""Ctrl-C latency of ``lrwb``: SIGINT sent to a long run, time until the process has exited (target < 1 s).

Each command runs in a subprocess exactly as the console script calls it; after ``--warmup`` seconds (past the
imports, inside the long loop: numba dynamics kernel, numba FSL recursion, NumPy Monte Carlo loop, the
optimiser) it gets SIGINT. Reported per command: median (and max) seconds from the signal to the one-line
message and to the exit, the exit status (130 expected) and whether anything was left in the output folder.

    python benchmarks/bench_interrupt.py [--repeats 5] [--warmup 4]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROGRAM = "import sys; from numerics.cli import main; sys.exit(main())"
LONG_RUNS = {
    "dynamics (numba kernel)": ["dynamics", "--features", "20000", "--steps", "3e6"],
    "fsl curve (numba recursion)": ["fsl", "curve", "--s", "1", "--beta", "2", "--schedule", "constant:0.2",
                                    "--steps", "3e6", "--iterate", "picard2"],
    "simulate (NumPy loop)": ["simulate", "--features", "2000", "--steps", "100000", "--runs", "200"],
    "optimize (adjoint + L-BFGS-B)": ["optimize", "--features", "2000", "--steps", "20000"],
}


def one(argv: list[str], warmup: float) -> tuple[float, float, int, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "new" / "run.csv"
        proc = subprocess.Popen([sys.executable, "-c", PROGRAM, *argv, "--out", str(out)], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(warmup)
        if proc.poll() is not None:
            raise RuntimeError(f"{argv} ended before the signal: {proc.stderr.read()}")
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        proc.stderr.readline()
        to_line = time.perf_counter() - sent
        proc.wait(timeout=60)
        to_exit = time.perf_counter() - sent
        left = any(Path(tmp).iterdir())
        return to_line, to_exit, proc.returncode, left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=4.0)
    args = parser.parse_args()
    print(f"{'command':32s} {'to line (med/max s)':>20s} {'to exit (med/max s)':>20s}  status  left")
    for name, argv in LONG_RUNS.items():
        runs = [one(argv, args.warmup) for _ in range(args.repeats)]
        line = [r[0] for r in runs]
        done = [r[1] for r in runs]
        codes = sorted({r[2] for r in runs})
        print(f"{name:32s} {statistics.median(line):9.3f} / {max(line):6.3f}   {statistics.median(done):9.3f} / "
              f"{max(done):6.3f}   {codes}  {any(r[3] for r in runs)}")


if __name__ == "__main__":
    main()
