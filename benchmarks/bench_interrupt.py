"""Ctrl-C latency of ``lrwb``: SIGINT sent to a long run, time until the process has exited (target < 1 s).

Each command runs in a subprocess exactly as the console script calls it; after ``--warmup`` seconds (past the
imports, inside the long loop: numba dynamics kernel, numba FSL recursion, NumPy Monte Carlo loop, the
optimiser) it gets SIGINT. Reported per command: median (and max) seconds from the signal to the one-line
message and to the exit, the exit status (130 expected) and whether anything was left in the output folder.

    python benchmarks/bench_interrupt.py [--repeats 5] [--warmup 4] [--repo PATH] [--only NAME]

``--repo`` runs another checkout (e.g. an export of an older commit) as the baseline, in the same session; a run
that has not ended ``--cap`` seconds after the signal is killed and reported as ``> cap``.
"""

from __future__ import annotations

import argparse
import math
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROGRAM = "import sys; from lrwb.app.cli import main; sys.exit(main())"
LONG_RUNS = {
    "dynamics (numba kernel)": ["dynamics", "--features", "20000", "--steps", "3000000"],
    "fsl curve (numba recursion)": ["fsl", "curve", "--s", "1", "--beta", "2", "--schedule", "constant:0.2",
                                    "--steps", "3000000", "--iterate", "picard2"],
    "simulate (NumPy loop)": ["simulate", "--features", "2000", "--steps", "100000", "--runs", "200"],
    "optimize (adjoint + L-BFGS-B)": ["optimize", "--features", "2000", "--steps", "20000"],
}


def one(argv: list[str], warmup: float, repo: Path, cap: float) -> tuple[float, float, int, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "new" / "run.csv"
        proc = subprocess.Popen([sys.executable, "-c", PROGRAM, *argv, "--out", str(out)], cwd=repo,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(warmup)
        if proc.poll() is not None:
            raise RuntimeError(f"{argv} ended before the signal: {proc.stderr.read()}")
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=cap)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return math.inf, math.inf, proc.returncode, any(Path(tmp).iterdir())
        to_exit = time.perf_counter() - sent
        to_line = to_exit  # the message is written just before the exit
        proc.stderr.read()
        left = any(Path(tmp).iterdir())
        return to_line, to_exit, proc.returncode, left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout to run (default: this one)")
    parser.add_argument("--only", default=None, help="run only the commands whose name starts with this")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds to wait after the signal")
    args = parser.parse_args()
    print(f"repository {args.repo}")
    print(f"{'command':32s} {'signal to exit (median / max s)':>32s}  status  left")
    for name, argv in LONG_RUNS.items():
        if args.only and not name.startswith(args.only):
            continue
        runs = [one(argv, args.warmup, args.repo, args.cap) for _ in range(args.repeats)]
        done = [r[1] for r in runs]
        codes = sorted({r[2] for r in runs})
        shown = [f"> {args.cap:g}" if math.isinf(x) else f"{x:.3f}" for x in (statistics.median(done), max(done))]
        print(f"{name:32s} {shown[0]:>20s} / {shown[1]:>8s}   {codes}  {any(r[3] for r in runs)}")


if __name__ == "__main__":
    main()
