"""Memory estimates checked before allocating: a run that would not fit is refused with one clear error.

The limit L (bytes) is, in order of precedence: :func:`memory_limit_override` (the CLI's ``--max-memory GIB``),
the environment variable ``LRWB_MAX_MEMORY`` (GiB), else half the memory available now
(``MemAvailable`` of ``/proc/meminfo``, or ``os.sysconf`` pages × page size). An estimate E > L raises
:class:`ResourceError` (a ValueError) that gives E, L and how to raise L.

The estimates count the arrays an engine allocates (float64 = 8 bytes each); they are lower bounds of the
peak (temporaries of NumPy expressions come on top), which is why the default limit leaves half the
memory free.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Iterator

__all__ = ["GIB", "ENV_VAR", "FLOAT", "ResourceError", "available_memory", "parse_gib", "memory_limit",
           "memory_limit_override", "format_bytes", "check_memory", "dynamics_bytes", "control_bytes",
           "random_features_bytes", "spectrum_bytes", "simulate_bytes", "fsl_curve_bytes", "per_step_schedule_bytes",
           "DYNAMICS_SECONDS_PER_MODE_STEP", "FSL_SECONDS_PER_STEP_TERM", "LONG_RUN_S", "format_seconds",
           "long_run_note", "INTERRUPTIBLE_MIN_ELEMENTS", "interruptible"]

GIB = 1024**3
ENV_VAR = "LRWB_MAX_MEMORY"
FLOAT = 8  # bytes per float64

_override: float | None = None


class ResourceError(ValueError):
    """The estimated memory of a request exceeds the limit (raised before anything is allocated)."""


def available_memory() -> int:
    """Bytes of memory available now: ``MemAvailable`` of /proc/meminfo, else free pages × page size."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * GIB


def parse_gib(text, what: str) -> float:
    """A memory size in GiB (> 0, finite) from a flag or the environment, validated."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} = {text!r} is not a number of GiB (e.g. 16 or 0.5)") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{what} = {text!r} must be a finite number of GiB > 0")
    return value


def memory_limit() -> tuple[int, str]:
    """(limit in bytes, where it comes from) — the override, ``LRWB_MAX_MEMORY``, or half the available memory."""
    if _override is not None:
        return int(_override * GIB), "--max-memory"
    env = os.environ.get(ENV_VAR)
    if env:
        return int(parse_gib(env, ENV_VAR) * GIB), ENV_VAR
    return available_memory() // 2, "half the available memory"


@contextlib.contextmanager
def memory_limit_override(gib: float | None) -> Iterator[None]:
    """Within the block, the limit is ``gib`` GiB (None: no override)."""
    global _override
    previous = _override
    _override = gib if gib is None else parse_gib(gib, "--max-memory")
    try:
        yield
    finally:
        _override = previous


def format_bytes(n: float) -> str:
    """``n`` bytes as a short human figure (e.g. ``7.45 GiB``, ``12 MiB``, ``8.0 TiB``).

    >>> format_bytes(3 * 2**30)
    '3 GiB'
    """
    for unit, size in (("TiB", 1024**4), ("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def check_memory(estimate: float, what: str) -> None:
    """Raise :class:`ResourceError` when ``estimate`` bytes (for ``what``) exceed :func:`memory_limit`."""
    limit, source = memory_limit()
    if not (estimate <= limit):  # also refuses an estimate that overflowed to inf / NaN
        raise ResourceError(
            f"{what} needs about {format_bytes(estimate)} of memory, above the limit of {format_bytes(limit)} "
            f"({source}); reduce the size, or raise the limit with --max-memory GIB or {ENV_VAR}=GIB")


# ----------------------------------------------------------------------------------------------------------
# estimates (bytes) of the engines' allocations; sizes are taken as floats so 10^12 cannot overflow


def dynamics_bytes(schedules: float, steps: float, features: float, *, parts: bool = True,
                   record_modes: bool = False, momentum: bool = False) -> float:
    """Exact expected loss (:func:`lrwb.numerics.dynamics.expected.expected_loss`): the learning rates, batch and momentum
    per step (S·T each), the curves (S·(T+1) × 2–3), the per-mode state (N × 5) and with ``record_modes`` the
    history S·(T+1)·N × (2, or 4 with momentum)."""
    st = float(schedules) * (float(steps) + 1)
    arrays = 3 + (3 if parts else 1) + (1 if momentum else 0)
    total = arrays * st + 8 * float(features)
    if record_modes:
        total += (4 if momentum else 2) * st * float(features)
    return FLOAT * total


def control_bytes(steps: float, features: float, *, momentum: bool = False) -> float:
    """Optimal control (:mod:`lrwb.numerics.control.lr`): the forward history (T+1)·N per state (1, or 3 with
    momentum, plus their Hessian-vector copies) and L-BFGS-B's memory (~30 vectors of T)."""
    per_state = 6 if momentum else 2
    return FLOAT * (per_state * (float(steps) + 1) * float(features) + 30 * float(steps) + 8 * float(features))


def random_features_bytes(features: float, input_dim: float) -> float:
    """Random-feature spectrum: the dense N × D Gaussian projection and its N × N Gram matrix (+ eigenvectors)."""
    n, d = float(features), float(input_dim)
    return FLOAT * (n * d + 3 * n * n + d)


def spectrum_bytes(features: float) -> float:
    """Top-N spectrum: a handful of length-N arrays."""
    return FLOAT * 6 * float(features)


def simulate_bytes(runs: float, features: float, steps: float, points: float, *, batch: float = 1.0,
                   input_dim: float | None = None, momentum: bool = False) -> float:
    """Monte Carlo SGD (:func:`lrwb.numerics.simulate.monte_carlo`) for one chunk of ``runs``: per run the weights,
    gradient (and velocity) and per-sample products N·(2 + μ + B), one step of B inputs B·(D + N + 2), the
    recorded losses (points); plus the per-step schedule arrays (T × 3)."""
    r, n, b = float(runs), float(features), float(batch)
    d = n if input_dim is None else float(input_dim)
    per_run = n * (2 + (1 if momentum else 0) + b) + b * (d + n + 2) + 2 * float(points)
    return FLOAT * (r * per_run + 3 * float(steps) + 3 * float(points) + 6 * n)


def fsl_curve_bytes(steps: float, terms: float = 64.0) -> float:
    """FSL curve: about ten length-(K+1) arrays (lr, intrinsic time, signal, noise, loss, …) and the Q-term state."""
    return FLOAT * (12 * (float(steps) + 1) + 4 * float(terms))


def per_step_schedule_bytes(steps: float) -> float:
    """A per-step schedule of K steps with its step grid and a couple of working copies (a fit keeps ~6)."""
    return FLOAT * 6 * float(steps)


# ----------------------------------------------------------------------------------------------------------
# time: a rough figure from the size of the work, printed as a note before a run of more than a minute

#: seconds per mode-step of the exact dynamics with its bias/variance split (numba; ≈ 1.3 ns measured on the
#: 2-core development machine, rounded up; the NumPy fallback is ~10× slower)
DYNAMICS_SECONDS_PER_MODE_STEP = 2e-9
#: seconds per step × kernel term of the FSL recursion (numba; ≈ 2 ns measured, rounded up)
FSL_SECONDS_PER_STEP_TERM = 3e-9
LONG_RUN_S = 60.0


def format_seconds(seconds: float) -> str:
    """``seconds`` as ``45 s``, ``12 min`` or ``3.2 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.2g} h"


def long_run_note(seconds: float, what: str) -> str | None:
    """A one-line note for a run estimated above :data:`LONG_RUN_S` seconds, else None."""
    if seconds <= LONG_RUN_S:
        return None
    return f"note: {what} takes roughly {format_seconds(seconds)} (estimate); Ctrl-C stops it cleanly"


# ----------------------------------------------------------------------------------------------------------
# Ctrl-C inside long compiled calls

#: arrays at least this large make a compiled call long enough (≳ 10 ms) to be worth a helper thread
INTERRUPTIBLE_MIN_ELEMENTS = 1 << 21


def interruptible(kernel):
    """Wrap a ``nogil`` compiled kernel so that Ctrl-C is seen while a long call runs.

    Python raises KeyboardInterrupt only between bytecodes of the main thread, so a compiled loop of seconds
    would hold it back. For inputs with an array of ≥ :data:`INTERRUPTIBLE_MIN_ELEMENTS` elements the call runs
    in a daemon thread (the kernel releases the GIL) while the main thread waits in 50 ms joins, where the
    KeyboardInterrupt surfaces at once. The abandoned call finishes in the background (the CLI then ends the
    process); small calls run directly (no thread overhead).
    """
    import functools
    import threading

    @functools.wraps(kernel)
    def call(*args):
        size = max((getattr(a, "size", 0) for a in args if hasattr(a, "ndim")), default=0)
        if size < INTERRUPTIBLE_MIN_ELEMENTS:
            return kernel(*args)
        outcome: dict = {}

        def work():
            try:
                outcome["value"] = kernel(*args)
            except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
                outcome["error"] = err

        worker = threading.Thread(target=work, name=f"lrwb-{getattr(kernel, '__name__', 'kernel')}", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.05)
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    return call
