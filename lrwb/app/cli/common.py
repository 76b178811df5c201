"""Argument groups shared by several sub-commands (one spelling of each flag, ``conventions.md``)."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
from pathlib import Path

# Defaults: the easy row of the PLRF Fig. 2 (conventions.md, "Defaults"), declared once; the commands take it from here.
from lrwb.numerics.conventions import DEFAULTS


def integer(text: str) -> int:
    """argparse type: an integer, also written as ``1e6`` or ``1_000_000`` when the value is integral."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer value: {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"invalid integer value: {text!r} (expected a whole number)")
    return int(value)


def add_model_arguments(parser: argparse.ArgumentParser, *, schedule: bool = True) -> None:
    """The PLRF problem: exponents, model, noise, batch, momentum, horizon and schedule."""
    g = parser.add_argument_group("model")
    g.add_argument("--a", type=float, default=DEFAULTS.a, help="task exponent a > 1 (λ_k w*_k² = k^-a; default %(default)s)")
    g.add_argument("--b", type=float, default=DEFAULTS.b, help="spectrum exponent b > 1 (λ_k = k^-b; default %(default)s)")
    g.add_argument("--features", type=integer, default=DEFAULTS.features, help="model size N (default %(default)s)")
    g.add_argument("--sigma", type=float, default=DEFAULTS.sigma, help="label-noise std σ (default %(default)s)")
    g.add_argument("--batch", type=float, default=DEFAULTS.batch, help="batch size B >= 1 (default %(default)s)")
    g.add_argument("--momentum", type=float, default=0.0, help="heavy-ball momentum μ in [0, 1) (default 0)")
    g.add_argument("--model", choices=("top", "random"), default="top",
                   help="top: diagonal top-N model; random: N Gaussian random features of --input-dim modes")
    g.add_argument("--input-dim", type=integer, default=None, help="input modes D for --model random (default 10·N)")
    g.add_argument("--seed", type=int, default=0, help="seed of the random projection / simulation (default 0)")
    g.add_argument("--tail", action="store_true", help="top-N model with the untrained tail δ_N = Σ_{k>N} k^-a")
    g.add_argument("--steps", type=integer, default=DEFAULTS.steps, help="horizon T in steps (default %(default)s)")
    if schedule:
        g.add_argument("--schedule", default="constant:0.5",
                       help="schedule spec, e.g. constant:0.5, cosine:1,0, wsd:1,0.2,0.01+warmup=50 (default %(default)s)")


def check_finite(args: argparse.Namespace, *names: str) -> None:
    """Each ``--NAME`` given is a finite number whose square is finite too (σ², η², B·T are formed)."""
    for name in names:
        value = getattr(args, name, None)
        if value is None:
            continue
        flag = "--" + name.replace("_", "-")
        if not math.isfinite(value):
            raise ValueError(f"{flag} = {value!r} must be a finite number")
        if abs(value) > 1e150:  # its square overflows float64 (max ≈ 1.8e308)
            raise ValueError(f"{flag} = {value:g} is too large (|value| must be <= 1e150 so that its square is "
                             "finite in float64)")


def check_model_args(args: argparse.Namespace) -> None:
    """The model flags shared by dynamics/simulate/optimize: finite numbers, sizes >= 1, memory that fits."""
    from lrwb.numerics import resources

    check_finite(args, "a", "b", "sigma", "momentum", "eta_max")  # --batch inf: exact gradients
    if args.features < 1:
        raise ValueError(f"--features = {args.features} must be >= 1")
    if getattr(args, "model", "top") == "random":
        dim = args.input_dim if args.input_dim is not None else 10 * args.features
        if dim < 1:
            raise ValueError(f"--input-dim = {dim} must be >= 1")
        resources.check_memory(resources.random_features_bytes(args.features, dim),
                               f"--model random with --features {args.features} and --input-dim {dim} "
                               "(a dense N × D projection)")
    else:
        resources.check_memory(resources.spectrum_bytes(args.features), f"--features {args.features}")


def spectrum_from_args(args: argparse.Namespace):
    """Build the :class:`~lrwb.numerics.spectra.Spectrum` the model arguments describe (memory checked first)."""
    from lrwb.numerics.spectra import power_law_spectrum, random_feature_spectrum

    check_model_args(args)
    if args.model == "random":
        dim = args.input_dim if args.input_dim is not None else 10 * args.features
        return random_feature_spectrum(args.a, args.b, args.features, dim, seed=args.seed)
    return power_law_spectrum(args.a, args.b, args.features, tail=args.tail)


def check_steps(args: argparse.Namespace) -> int:
    """The horizon ``--steps``, validated (>= 1)."""
    if args.steps < 1:
        raise ValueError(f"--steps = {args.steps} must be >= 1")
    return args.steps


def schedule_from_args(args: argparse.Namespace):
    """η_t for t = 0 … T−1 from ``--schedule`` and ``--steps``."""
    from lrwb.numerics.schedules import parse_schedule

    return parse_schedule(args.schedule).values(check_steps(args))


def read_text_file(path, what: str) -> str:
    """The UTF-8 text of an input file (a BOM is dropped), with errors that name the file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {path} not found")
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder; expected a file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{what} {path} is not UTF-8 text (byte {err.start}: {err.reason})") from None


def read_json_file(path, what: str, *, expect: str) -> dict:
    """A JSON object from ``path``; a file that is not JSON, or JSON that is not an object, is a ValueError
    naming the file, the position and what was expected."""
    import json

    text = read_text_file(path, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} {path} is not valid JSON ({err.msg} at line {err.lineno} column {err.colno}); "
                         f"expected {expect}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{what} {path} holds a JSON {type(data).__name__}, expected an object ({expect})")
    return data


# ----------------------------------------------------------------------------------------------------------
# Output targets: checked before any work; folders that a failed or interrupted run created are removed

#: Figure formats ``--figure`` accepts (matplotlib's savefig formats that need no extra package).
FIGURE_FORMATS = ("png", "pdf", "svg", "svgz", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp")

_created_folders: list[Path] = []


def reset_created_folders() -> None:
    """Forget the folders recorded by :func:`check_output` (called at the start of each command)."""
    _created_folders.clear()


def remove_created_folders() -> None:
    """Remove the folders a failed run would have created, deepest first, where they are still empty."""
    for folder in sorted(set(_created_folders), key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:  # not empty (kept: a partial resumable result) or never created
            pass
    _created_folders.clear()


def _existing_ancestor(path: Path, flag: str, shown: str) -> tuple[Path, list[Path]]:
    """The nearest existing ancestor of ``path`` (a folder, else an error) and the missing folders below it."""
    missing = []
    parent = path.parent
    while not parent.exists():
        if parent.is_symlink():
            raise ValueError(f"{flag} {shown}: {parent} is a dangling symbolic link")
        missing.append(parent)
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{flag} {shown}: {parent} is a file, not a folder; expected a folder to write in")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {shown}: folder {parent} is not writable")
    return parent, missing


def check_output(path, flag: str, *, kind: str = "file", formats: tuple[str, ...] | None = None) -> Path:
    """Check an output target before computing: ``kind`` "file" (a file path, not a folder; an existing file is
    replaced) or "dir" (a folder or a path where one can be created); its nearest existing ancestor must be a
    writable folder; with ``formats``, the file suffix must be one of them. Records the folders that writing
    will create, so a failed run can remove them (:func:`remove_created_folders`). Returns the path."""
    shown = str(path)
    if not shown.strip():
        raise ValueError(f"{flag} is empty; expected a {'folder' if kind == 'dir' else 'file'} path")
    target = Path(path)
    if kind == "file":
        if shown.endswith(("/", os.sep)) or target.is_dir():
            raise ValueError(f"{flag} {shown} is a folder; expected a file path")
        if target.exists() and not target.is_file():  # a FIFO or device: replacing it would destroy it
            raise ValueError(f"{flag} {shown} exists and is not a regular file; expected a file path")
        if formats is not None:
            suffix = target.suffix.lower().lstrip(".")
            if suffix not in formats:
                raise ValueError(f"{flag} {shown}: unsupported format {suffix or '(no suffix)'!r}; expected a file "
                                 f"ending in one of .{', .'.join(formats)}")
        if target.exists() and not os.access(target, os.W_OK):
            raise ValueError(f"{flag} {shown}: existing file is not writable")
        _, missing = _existing_ancestor(target, flag, shown)
    elif kind == "dir":
        if target.exists():
            if not target.is_dir():
                raise ValueError(f"{flag} {shown} is a file; expected a folder")
            if not os.access(target, os.W_OK | os.X_OK):
                raise ValueError(f"{flag} {shown}: folder is not writable")
            missing = []
        else:
            _, missing = _existing_ancestor(target, flag, shown)
            missing.insert(0, target)
    else:  # pragma: no cover - programming error
        raise ValueError(f"kind = {kind!r} must be 'file' or 'dir'")
    _created_folders.extend(missing)
    return target


def emit_csv(text: str, out: str | None, summary: str) -> None:
    """Write ``text`` atomically to ``out`` (then print the summary), or to stdout (summary to stderr)."""
    import sys

    from lrwb.numerics.io import atomic_write

    if out:
        with atomic_write(out) as handle:
            handle.write(text)
        print(f"wrote {out}: {summary}")
    else:
        sys.stdout.write(text)
        print(summary, file=sys.stderr)


def add_allow_unstable(parser: argparse.ArgumentParser) -> None:
    """``--allow-unstable``: run even with a learning rate above the stability bound (``conventions.md``)."""
    parser.add_argument("--allow-unstable", action="store_true",
                        help="run even when a learning rate is above the stability bound (default: error); the "
                        "output then carries a warning (stderr line, '# warning:' line at the top of the file)")


def report_warnings(command: str, *texts: str | None, text: str | None = None) -> str | None:
    """Print each warning as one ``lrwb COMMAND: warning: …`` line on stderr; with ``text`` (file contents) return
    it prefixed by one ``# warning: …`` comment line per warning."""
    import sys

    found = [t for t in texts if t]
    for t in found:
        print(f"lrwb {command}: warning: {t}", file=sys.stderr)
    if text is None:
        return None
    return "".join(f"# warning: {t}\n" for t in found) + text


@contextlib.contextmanager
def quiet_stability_warnings():
    """Hide Python's UnstableLearningRateWarning inside (the CLI prints its own one-line warning instead)."""
    import warnings

    from lrwb.numerics.stability import UnstableLearningRateWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableLearningRateWarning)
        yield
