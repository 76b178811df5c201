"""``lrwb``: the command-line interface, a thin layer over the API.

Each sub-command lives in its own module of this package exposing ``add_parser(subparsers)`` (which
registers the sub-command and sets ``func``) — adding a command is one module plus one entry below.

Exit status: 0 success; 1 a run that finished but failed its check (``reproduce`` errors or ``--strict``
failures, a ``fsl table1`` miss); 2 bad input — a usage error, an unreadable or malformed file, an output
target that cannot be written, a request above the memory limit — reported as ONE line
``lrwb COMMAND: error: ...`` naming the file or flag, before any work where it can be checked up front;
70 an unexpected internal error (one line asking for a report; the traceback with ``--debug`` or
``LRWB_DEBUG=1``); 130 interrupted (Ctrl-C), with no partial file and no output folder left behind.
``lrwb`` alone prints this help and exits 0.
"""

from __future__ import annotations

import argparse
import errno
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

EXIT_USAGE = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
DEBUG_ENV = "LRWB_DEBUG"
ISSUES = "https://github.com/lr-workbench/lr-workbench/issues"


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("lr-workbench")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


class OneLineParser(argparse.ArgumentParser):
    """argparse with usage errors as one line (``PROG: error: MESSAGE (see PROG --help)``), exit 2."""

    def error(self, message: str):
        message = " ".join(str(message).split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _leaf_parsers(parser: argparse.ArgumentParser):
    """The parsers that run a command (sub-commands without sub-commands of their own)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
        return
    seen = set()
    for action in subs:
        for child in action.choices.values():
            if id(child) not in seen:
                seen.add(id(child))
                yield from _leaf_parsers(child)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="lrwb",
        description="LR Workbench: learning-rate schedules and scaling laws, derived (SymPy) and checked (numerics).",
        epilog="Exit status: 0 ok; 1 a check failed; 2 bad input (one line naming the file or flag); "
        f"70 internal error (rerun with --debug or {DEBUG_ENV}=1 for the traceback); 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"lrwb {_version()}")
    parser.add_argument("--debug", action="store_true", default=False,
                        help=f"show the traceback of an error (also {DEBUG_ENV}=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    for leaf in _leaf_parsers(parser):
        if leaf is parser:
            continue
        g = leaf.add_argument_group("resources and errors")
        g.add_argument("--max-memory", metavar="GIB", default=None,
                       help="memory limit for the size check done before any work (default: $LRWB_MAX_MEMORY, "
                       "else half the available memory)")
        g.add_argument("--debug", dest="debug_command", action="store_true",
                       help=f"show the traceback of an error (also {DEBUG_ENV}=1)")
    return parser


def _command_name(args: argparse.Namespace) -> str:
    parts = [args.command] + [getattr(args, f"{args.command}_command", None) or ""]
    return " ".join(p for p in parts if p)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_error_message(err: OSError) -> str:
    where = err.filename if err.filename is not None else None
    reason = err.strerror or str(err)
    if err.errno == errno.ENOSPC:
        return f"no space left on the device while writing {where!s}" if where else "no space left on the device"
    if isinstance(err, FileNotFoundError) and where is None:
        return str(err)
    if where is None:
        return str(err)
    extra = f" -> {err.filename2}" if getattr(err, "filename2", None) else ""
    return f"{where}{extra}: {reason}"


def error_message(err: BaseException) -> tuple[str, int]:
    """(one-line message, exit status) for an exception that escaped a command."""
    if isinstance(err, KeyError):
        return _one_line(err.args[0] if err.args else repr(err)), EXIT_USAGE
    if isinstance(err, ValueError):  # bad input, by the project's convention (JSON/Unicode errors included)
        return _one_line(str(err)), EXIT_USAGE
    if isinstance(err, OSError):
        return _one_line(_os_error_message(err)), EXIT_USAGE
    if isinstance(err, OverflowError):
        return _one_line(f"numeric overflow ({err}); a number given is too large for float64 arithmetic "
                         "(check flags such as --sigma, --batch, --eta-max)"), EXIT_USAGE
    if isinstance(err, MemoryError):
        return _one_line(f"out of memory ({err or 'allocation failed'}); reduce the sizes (--features, --steps, "
                         "--runs, --batch) or --max-memory"), EXIT_USAGE
    return _one_line(f"internal error: {type(err).__name__}: {err} — please report it at {ISSUES} (rerun with "
                     f"--debug or {DEBUG_ENV}=1 for the traceback)"), EXIT_INTERNAL


def _install_warning_format(command: str):
    """Print each Python warning as one line ``lrwb COMMAND: warning: MESSAGE`` on stderr."""
    import warnings

    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"lrwb {command}: warning: {_one_line(message)}", file=file or sys.stderr)

    warnings.showwarning = show
    return previous


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    as_program = argv is None  # the console script / python -m: this process ends with the command
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help()
        return 0
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # usage error (one line, exit 2), --help or --version (exit 0)
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else EXIT_USAGE)
    from lrwb.app.cli import common
    from lrwb.numerics.resources import memory_limit_override

    command = _command_name(args)
    debug = args.debug or getattr(args, "debug_command", False) or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    import warnings

    previous_show = _install_warning_format(command)
    common.reset_created_folders()
    try:
        with memory_limit_override(getattr(args, "max_memory", None)):
            result = args.func(args)
    except KeyboardInterrupt:
        common.remove_created_folders()  # temporaries were already removed by atomic_write's handler
        print(f"lrwb {command}: interrupted", file=sys.stderr)
        if as_program:
            # Interpreter teardown with numba's compiled code loaded takes 0.4–0.7 s on a loaded machine: skip it
            # so Ctrl-C ends the process within ~0.1 s (nothing is left to flush but the standard streams).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - every error becomes one line (traceback with --debug)
        common.remove_created_folders()
        if debug:
            raise
        message, status = error_message(err)
        print(f"lrwb {command}: error: {message}", file=sys.stderr)
        return status
    finally:
        warnings.showwarning = previous_show
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
