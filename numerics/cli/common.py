"""Argument groups shared by several sub-commands (one spelling of each flag, ``conventions.md``)."""

from __future__ import annotations

import argparse
import contextlib

# Defaults: the easy row of the PLRF Fig. 2 (conventions.md, "Defaults").
DEFAULTS = dict(a=3.5, b=2.0, features=1000, sigma=0.5, batch=5, eta_max=1.0, steps=1000)


def add_model_arguments(parser: argparse.ArgumentParser, *, schedule: bool = True) -> None:
    """The PLRF problem: exponents, model, noise, batch, momentum, horizon and schedule."""
    g = parser.add_argument_group("model")
    g.add_argument("--a", type=float, default=DEFAULTS["a"], help="task exponent a > 1 (λ_k w*_k² = k^-a; default %(default)s)")
    g.add_argument("--b", type=float, default=DEFAULTS["b"], help="spectrum exponent b > 1 (λ_k = k^-b; default %(default)s)")
    g.add_argument("--features", type=int, default=DEFAULTS["features"], help="model size N (default %(default)s)")
    g.add_argument("--sigma", type=float, default=DEFAULTS["sigma"], help="label-noise std σ (default %(default)s)")
    g.add_argument("--batch", type=float, default=DEFAULTS["batch"], help="batch size B >= 1 (default %(default)s)")
    g.add_argument("--momentum", type=float, default=0.0, help="heavy-ball momentum μ in [0, 1) (default 0)")
    g.add_argument("--model", choices=("top", "random"), default="top",
                   help="top: diagonal top-N model; random: N Gaussian random features of --input-dim modes")
    g.add_argument("--input-dim", type=int, default=None, help="input modes D for --model random (default 10·N)")
    g.add_argument("--seed", type=int, default=0, help="seed of the random projection / simulation (default 0)")
    g.add_argument("--tail", action="store_true", help="top-N model with the untrained tail δ_N = Σ_{k>N} k^-a")
    g.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="horizon T in steps (default %(default)s)")
    if schedule:
        g.add_argument("--schedule", default="constant:0.5",
                       help="schedule spec, e.g. constant:0.5, cosine:1,0, wsd:1,0.2,0.01+warmup=50 (default %(default)s)")


def spectrum_from_args(args: argparse.Namespace):
    """Build the :class:`~numerics.spectra.Spectrum` the model arguments describe."""
    from numerics.spectra import power_law_spectrum, random_feature_spectrum

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
    from numerics.schedules import parse_schedule

    return parse_schedule(args.schedule).values(check_steps(args))


def emit_csv(text: str, out: str | None, summary: str) -> None:
    """Write ``text`` atomically to ``out`` (then print the summary), or to stdout (summary to stderr)."""
    import sys

    from numerics.io import atomic_write

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

    from numerics.stability import UnstableLearningRateWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableLearningRateWarning)
        yield
