"""``lrwb``: the command-line interface, a thin layer over the API.

Each sub-command lives in its own module of this package exposing ``add_parser(subparsers)`` (which
registers the sub-command and sets ``func``) — adding a command is one module plus one entry below.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# The solvers call BLAS on small problems (L-BFGS-B over T ≲ 10⁴ variables, N ≲ 2000 modes), where OpenBLAS's
# threads only add contention: measured 6–30× slower FSL optima on a loaded 2-core machine. Set before NumPy
# loads; a user's explicit setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# Sub-command modules, in the order ``lrwb --help`` lists them.
COMMANDS = ("reproduce", "formulas", "dynamics", "simulate", "optimize", "fsl", "fit", "design", "sweep")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lrwb",
        description="LR Workbench: learning-rate schedules and scaling laws, derived (SymPy) and checked (numerics).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except (ValueError, KeyError, FileNotFoundError) as err:
        # Bad input is reported as one clear line, not a traceback.
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"lrwb {args.command}: error: {message}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
