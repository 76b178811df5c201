"""Learning-rate schedules: one vocabulary for the whole workbench (``conventions.md``, "Schedules").

Every schedule is a :class:`Schedule`: a frozen, horizon-aware object. ``schedule.values(T)`` returns
η_0 … η_{T−1} (float64, shape (T,)), where η_t is the learning rate used for the step t → t+1. The horizon T
enters the decaying families through the fraction **t/T** (never t/(T−1)): the value the formula reaches at
t = T (a cosine/linear FLOOR, an exp/WSD FINAL) is the *next* learning rate after training and is not among
the T values. This keeps ``wsd:P,1,F`` identical to ``exp:P,F`` and matches the cosine of the spec.

Factories (optax style; each docstring carries its formula)::

    constant(eta)                         η_t = η
    power(eta0, chi)                      η_t = η0 (1 + t)^(−χ)
    cosine(peak, floor)                   η_t = F + (P − F)·½(1 + cos(π t/T))
    linear(peak, floor)                   η_t = P + (F − P)·t/T
    exp_decay(peak, final)                η_t = P (F/P)^(t/T)
    wsd(peak, fraction, final, shape)     P until T − fraction·T, then a decay shape toward FINAL at t = T
    step811(peak)                         P, then P/√10 from t ≥ 0.8T, then P/10 from t ≥ 0.9T
    cyclic(peak, floor, period)           triangular wave between FLOOR and PEAK (Smith 2017)
    from_file(path), from_array(values)   explicit η_t
    with_warmup(schedule, steps, start_fraction)

The text grammar, parsed by :func:`parse_schedule` (``schedule.spec`` is its canonical form)::

    constant:ETA | power:ETA0,CHI | cosine:PEAK,FLOOR | linear:PEAK,FLOOR | exp:PEAK,FINAL
    | wsd:PEAK,FRACTION,FINAL[,shape=exp|linear|sqrt|power][,power=P] | step811:PEAK
    | cyclic:PEAK,FLOOR,PERIOD | file:PATH.csv
    any of them + "+warmup=W[,from=F]"

Each family is one :class:`ScheduleFamily` record (name, parameter names, factory, rule) in
:data:`SCHEDULE_FAMILIES`; the parser, its error messages and :data:`FAMILIES` derive from the records, so a
new family is one factory plus one record. ``+warmup`` is the :class:`ScheduleModifier` :data:`WARMUP`.
:data:`ScheduleLike` is what a user may pass for a schedule (a Schedule, a spec string, per-step rates).

Curve files (``step,lr``): row t holds η_t, rows t = 0 … T−1, and a last row ``T,`` with an empty lr
(:func:`write_schedule_csv`, :func:`read_schedule_csv`).
"""

from __future__ import annotations

import csv
import hashlib
import math
import numbers
import os
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Sequence, Union

import numpy as np

from lrwb.numerics.checks import check_finite_real, check_positive_int
from lrwb.numerics.io import atomic_write

__all__ = [
    "Schedule",
    "ScheduleLike",
    "ScheduleFamily",
    "ScheduleOption",
    "ScheduleModifier",
    "SCHEDULE_FAMILIES",
    "WARMUP",
    "constant",
    "power",
    "cosine",
    "linear",
    "exp_decay",
    "wsd",
    "step811",
    "cyclic",
    "from_file",
    "from_array",
    "piecewise",
    "with_warmup",
    "parse_schedule",
    "as_schedule",
    "schedule_matrix",
    "check_learning_rates",
    "write_schedule_csv",
    "read_schedule_csv",
    "FAMILIES",
    "WARMUP_FORM",
    "WSD_SHAPES",
    "WSD_DEFAULT_POWER",
]

#: The cooldown shapes of ``wsd`` (the first one is the default).
WSD_SHAPES = ("exp", "linear", "sqrt", "power")
#: Exponent p of the ``shape=power`` WSD cooldown (1 − x)^p when no ``power=P`` is given. A (1 − x)^γ tail
#: gives effective capacity min(β, γ + 1) (fsl.md §4); p = 2 is the tail of cosine-to-zero.
WSD_DEFAULT_POWER = 2.0

_SQRT10 = math.sqrt(10.0)


# ----------------------------------------------------------------------------------------------------------
# The schedule object
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Schedule:
    """A horizon-aware learning-rate schedule: η_t for t = 0 … T−1 given the horizon T.

    Attributes:
        name: the family (``"cosine"``, ``"wsd"``, ``"file"`` …; a label of your choice for
            :func:`from_array`). A warmup keeps its base schedule's name; ``spec`` tells them apart.
        spec: canonical grammar string; ``parse_schedule(s.spec)`` rebuilds an equal schedule (array
            schedules excepted: their spec ``array:T=…,sha1=…`` identifies them but cannot be parsed —
            persist them with :func:`write_schedule_csv` and ``file:PATH.csv``).
        peak: the largest LR of the base schedule before any warmup (PEAK, ETA, ETA0; the maximum of an
            explicit array). Used for stability checks and plot scales.
        rule: ``rule(t, T) -> η`` on an int64 array t with 0 ≤ t < T (elementwise; picklable partial).
        length: the only horizon T the schedule is defined for (file/array schedules), else ``None``.

    Equality compares name, spec, peak and length (array specs carry a content hash).
    """

    name: str
    spec: str
    peak: float
    rule: Callable[[np.ndarray, int], np.ndarray] = field(compare=False)
    length: int | None = None

    def values(self, steps: int) -> np.ndarray:
        """η_t for t = 0 … T−1 (float64, shape (T,)); T = ``steps``."""
        steps = self._check_horizon(steps)
        return np.asarray(self.rule(np.arange(steps, dtype=np.int64), steps), dtype=np.float64)

    def __call__(self, t, steps: int):
        """η_t at integer step(s) ``t`` (any shape, 0 ≤ t < T) for horizon T = ``steps``.

        Returns an array of t's shape (a NumPy float for scalar t).
        """
        steps = self._check_horizon(steps)
        t_arr = _as_steps(t, steps)
        out = np.asarray(self.rule(t_arr, steps), dtype=np.float64)
        return out[()] if out.ndim == 0 else out

    def _check_horizon(self, steps) -> int:
        steps = check_positive_int(steps, "steps (the horizon T)")
        if self.length is not None and steps != self.length:
            raise ValueError(
                f"schedule {self.spec!r} is defined for exactly T = {self.length} steps, got T = {steps}"
            )
        return steps

    def __repr__(self) -> str:
        return f"Schedule({self.spec!r})"

    def __str__(self) -> str:
        return self.spec


#: What a user may pass wherever a schedule is expected (:func:`as_schedule` turns each into a
#: :class:`Schedule`): a Schedule, a spec string of the grammar (``"cosine:1,0+warmup=50"``), or the explicit
#: per-step rates η_0 … η_{T−1} (a 1-D array or sequence of floats ≥ 0; defined only for T = its length).
ScheduleLike = Union[Schedule, str, np.ndarray, Sequence[float]]


# ----------------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    """Shortest text that parses back to exactly ``x`` (``1.0`` → ``1``; −0 → ``0``)."""
    text = repr(float(x) + 0.0)
    return text[:-2] if text.endswith(".0") else text


def _check_lr(value, label: str, family: str) -> float:
    """A learning rate: a finite number >= 0 (−0 becomes 0)."""
    value = check_finite_real(value, f"{family}: {label}")
    if value < 0:
        raise ValueError(f"{family}: {label} = {_fmt(value)} is a negative learning rate; it must be >= 0")
    return value + 0.0


def _check_not_above_peak(low: float, low_label: str, peak: float, family: str, strict_positive=False) -> None:
    if low > peak:
        lower = "0 <" if strict_positive else "0 <="
        raise ValueError(
            f"{family}: {low_label} = {_fmt(low)} exceeds PEAK = {_fmt(peak)}; need {lower} {low_label} <= PEAK"
        )


def _as_steps(t, steps: int) -> np.ndarray:
    """Integer step indices 0 ≤ t < T as int64 (integer-valued floats are accepted)."""
    arr = np.asarray(t)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"step indices must be integers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~(np.isfinite(arr) & (arr == np.round(arr)))
        if bad.any():
            raise ValueError(f"step index t = {float(arr[bad].flat[0])!r} is not an integer")
    idx = arr.astype(np.int64)
    out_of_range = (idx < 0) | (idx >= steps)
    if out_of_range.any():
        raise ValueError(f"step index t = {idx[out_of_range].flat[0]} is outside 0 <= t < T = {steps}")
    return idx


def check_learning_rates(lr) -> np.ndarray:
    """``lr`` as a float64 array after checking every entry is finite and >= 0.

    The last axis is the step axis; for an (S, T) batch the message names the schedule row and the step.
    Raises ValueError naming the first offending entry (row-major order).
    """
    arr = np.asarray(lr, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        value = arr[where]
        if arr.ndim == 0:
            place = "the learning rate"
        elif arr.ndim == 1:
            place = f"learning rate at step {where[0]}"
        elif arr.ndim == 2:
            place = f"learning rate of schedule {where[0]} at step {where[1]}"
        else:
            place = f"learning rate at index {where} (step {where[-1]})"
        problem = "not finite" if not np.isfinite(value) else "negative"
        raise ValueError(f"{place} is {float(value)!r} ({problem}); learning rates must be finite and >= 0")
    return arr


# ----------------------------------------------------------------------------------------------------------
# Rules (module-level so that schedules pickle: partial of a module function)
# ----------------------------------------------------------------------------------------------------------


def _constant_rule(t, T, *, eta):
    return np.full(np.shape(t), eta, dtype=np.float64)


def _power_rule(t, T, *, eta0, chi):
    return eta0 * (1.0 + t) ** (-chi)


def _cosine_rule(t, T, *, peak, floor):
    return floor + (peak - floor) * 0.5 * (1.0 + np.cos(np.pi * t / T))


def _linear_rule(t, T, *, peak, floor):
    return peak + (floor - peak) * (t / T)


def _exp_rule(t, T, *, peak, final):
    return peak * (final / peak) ** (t / T)


def _wsd_rule(t, T, *, peak, fraction, final, shape, power):
    start = T * (1.0 - fraction)
    if abs(start - round(start)) <= 1e-9 * T:  # 0.2·1000 must start the decay at exactly t = 800
        start = float(round(start))
    length = T - start
    x = np.clip((t - start) / length, 0.0, None) if length > 0 else np.zeros(np.shape(t))
    if shape == "exp":
        return peak * (final / peak) ** x
    if shape == "linear":
        drop = x
    elif shape == "sqrt":
        drop = np.sqrt(x)
    else:  # power
        drop = 1.0 - (1.0 - x) ** power
    return final + (peak - final) * (1.0 - drop)


def _step811_rule(t, T, *, peak):
    # integer comparisons: 10 t >= 8 T avoids 0.8·T rounding
    return np.where(10 * t < 8 * T, peak, np.where(10 * t < 9 * T, peak / _SQRT10, peak / 10.0))


def _cyclic_rule(t, T, *, peak, floor, period):
    phase = np.mod(t, period) / period
    return floor + (peak - floor) * (1.0 - np.abs(2.0 * phase - 1.0))


def _array_rule(t, T, *, table):
    return table[t]


def _warmup_rule(t, T, *, base_rule, steps, start_fraction, peak):
    out = np.empty(np.shape(t), dtype=np.float64)
    ramp = t < steps
    out[ramp] = peak * (start_fraction + (1.0 - start_fraction) * t[ramp] / steps)
    rest = ~ramp
    if rest.any():
        out[rest] = base_rule(t[rest] - steps, T - steps)
    return out


# ----------------------------------------------------------------------------------------------------------
# Factories
# ----------------------------------------------------------------------------------------------------------


def constant(eta: float) -> Schedule:
    """Constant learning rate: η_t = η. Spec ``constant:ETA``.

    >>> constant(0.5).values(3).tolist()
    [0.5, 0.5, 0.5]
    """
    eta = _check_lr(eta, "ETA", "constant")
    return Schedule("constant", f"constant:{_fmt(eta)}", eta, partial(_constant_rule, eta=eta))


def power(eta0: float, chi: float) -> Schedule:
    """Power-law decay (the tuned baseline): η_t = η0 (1 + t)^(−χ), η0 >= 0, χ >= 0, no clipping.

    Independent of the horizon T. Spec ``power:ETA0,CHI``.
    
    >>> power(1.0, 0.5).values(4).round(4).tolist()
    [1.0, 0.7071, 0.5774, 0.5]
    """
    eta0 = _check_lr(eta0, "ETA0", "power")
    chi = check_finite_real(chi, "power: CHI")
    if chi < 0:
        raise ValueError(f"power: CHI = {_fmt(chi)} is negative; the decay exponent must be >= 0")
    return Schedule("power", f"power:{_fmt(eta0)},{_fmt(chi)}", eta0, partial(_power_rule, eta0=eta0, chi=chi + 0.0))


def cosine(peak: float, floor: float) -> Schedule:
    """Cosine decay to an absolute floor: η_t = F + (P − F)·½(1 + cos(π t/T)), 0 <= F <= P.

    η_0 = P; F would be reached at t = T. Spec ``cosine:PEAK,FLOOR``.
    
    >>> cosine(1.0, 0.0).values(4).round(4).tolist()
    [1.0, 0.8536, 0.5, 0.1464]
    """
    peak = _check_lr(peak, "PEAK", "cosine")
    floor = _check_lr(floor, "FLOOR", "cosine")
    _check_not_above_peak(floor, "FLOOR", peak, "cosine")
    return Schedule("cosine", f"cosine:{_fmt(peak)},{_fmt(floor)}", peak, partial(_cosine_rule, peak=peak, floor=floor))


def linear(peak: float, floor: float) -> Schedule:
    """Linear decay: η_t = P + (F − P)·t/T, 0 <= F <= P.

    Same t/T convention as :func:`cosine`: η_0 = P, η_{T−1} = F + (P − F)/T, and F would be reached at
    t = T (so ``linear:P,0`` never trains at LR 0). Spec ``linear:PEAK,FLOOR``.
    
    >>> linear(1.0, 0.0).values(4).tolist()
    [1.0, 0.75, 0.5, 0.25]
    """
    peak = _check_lr(peak, "PEAK", "linear")
    floor = _check_lr(floor, "FLOOR", "linear")
    _check_not_above_peak(floor, "FLOOR", peak, "linear")
    return Schedule("linear", f"linear:{_fmt(peak)},{_fmt(floor)}", peak, partial(_linear_rule, peak=peak, floor=floor))


def exp_decay(peak: float, final: float) -> Schedule:
    """Exponential (geometric) decay: η_t = P (F/P)^(t/T), 0 < F <= P.

    η_0 = P; F would be reached at t = T. Spec ``exp:PEAK,FINAL``.
    
    >>> exp_decay(1.0, 0.01).values(4).round(4).tolist()
    [1.0, 0.3162, 0.1, 0.0316]
    """
    peak = _check_lr(peak, "PEAK", "exp")
    final = _check_lr(final, "FINAL", "exp")
    if final <= 0:
        raise ValueError(f"exp: FINAL = {_fmt(final)} must be > 0 for an exponential decay; need 0 < FINAL <= PEAK")
    _check_not_above_peak(final, "FINAL", peak, "exp", strict_positive=True)
    return Schedule("exp", f"exp:{_fmt(peak)},{_fmt(final)}", peak, partial(_exp_rule, peak=peak, final=final))


def wsd(peak: float, fraction: float, final: float, shape: str = "exp", power: float | None = None) -> Schedule:
    """Warmup-stable-decay without the warmup (add one with :func:`with_warmup`).

    Stable at P for t < s = T − fraction·T, then a cooldown over the last fraction·T steps with
    x = (t − s)/(fraction·T) ∈ [0, 1) (F would be reached at x = 1, t = T):

    - ``exp`` (default, the FSL theory): η = P (F/P)^x, needs F > 0;
    - ``linear``: η = F + (P − F)(1 − x);
    - ``sqrt`` (the "1 − sqrt" cooldown of Hägele et al. 2024): η = F + (P − F)(1 − √x);
    - ``power``: η = F + (P − F)(1 − x)^p, p = ``power`` (> 0, default :data:`WSD_DEFAULT_POWER` = 2).

    fraction ∈ (0, 1], 0 <= F <= P; ``wsd:P,1,F`` equals ``exp:P,F``. When fraction·T is within 1e−9·T of an
    integer the decay starts exactly there. Spec ``wsd:PEAK,FRACTION,FINAL[,shape=…][,power=P]``.
    
    >>> wsd(1.0, 0.5, 0.01).values(4).round(4).tolist()
    [1.0, 1.0, 1.0, 0.1]
    >>> wsd(1.0, 0.5, 0.0, shape="linear").values(4).tolist()
    [1.0, 1.0, 1.0, 0.5]
    """
    peak = _check_lr(peak, "PEAK", "wsd")
    fraction = check_finite_real(fraction, "wsd: FRACTION")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"wsd: FRACTION = {_fmt(fraction)} is outside (0, 1]; it is the decay's share of the horizon")
    final = _check_lr(final, "FINAL", "wsd")
    if shape not in WSD_SHAPES:
        raise ValueError(f"wsd: shape = {shape!r} is unknown; valid shapes: {', '.join(WSD_SHAPES)}")
    if shape == "exp" and final <= 0:
        raise ValueError(
            f"wsd: FINAL = {_fmt(final)} must be > 0 for the exp cooldown; need 0 < FINAL <= PEAK "
            "(or use shape=linear|sqrt|power to decay to 0)"
        )
    _check_not_above_peak(final, "FINAL", peak, "wsd", strict_positive=shape == "exp")
    if shape == "power":
        power = WSD_DEFAULT_POWER if power is None else check_finite_real(power, "wsd: power")
        if power <= 0:
            raise ValueError(f"wsd: power = {_fmt(power)} must be > 0 (the cooldown is (1 - x)^power)")
    elif power is not None:
        shown = _fmt(power) if isinstance(power, numbers.Real) else repr(power)
        raise ValueError(f"wsd: power = {shown} is only valid with shape=power (got shape={shape})")
    spec = f"wsd:{_fmt(peak)},{_fmt(fraction)},{_fmt(final)}"
    if shape != "exp":
        spec += f",shape={shape}"
    if shape == "power":
        spec += f",power={_fmt(power)}"
    rule = partial(_wsd_rule, peak=peak, fraction=fraction, final=final, shape=shape, power=power)
    return Schedule("wsd", spec, peak, rule)


def step811(peak: float) -> Schedule:
    """The 8-1-1 step schedule: η_t = P for t < 0.8T, P/√10 for 0.8T <= t < 0.9T, P/10 for t >= 0.9T.

    The drops happen at the first steps t >= 0.8T and t >= 0.9T (t = 800 and 900 at T = 1000). Spec
    ``step811:PEAK``.
    
    >>> step811(1.0).values(10).round(4).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.3162, 0.1]
    """
    peak = _check_lr(peak, "PEAK", "step811")
    return Schedule("step811", f"step811:{_fmt(peak)}", peak, partial(_step811_rule, peak=peak))


def cyclic(peak: float, floor: float, period: float) -> Schedule:
    """Triangular cyclical LR (Smith 2017): η_t = F + (P − F)·(1 − |2 φ − 1|), φ = (t mod period)/period.

    PERIOD is the full cycle (Smith's 2 × stepsize, >= 1, may be fractional): η = F at the start of each
    cycle, P half-way through. Independent of the horizon T. Spec ``cyclic:PEAK,FLOOR,PERIOD``.
    
    >>> cyclic(1.0, 0.0, 4).values(5).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    peak = _check_lr(peak, "PEAK", "cyclic")
    floor = _check_lr(floor, "FLOOR", "cyclic")
    _check_not_above_peak(floor, "FLOOR", peak, "cyclic")
    period = check_finite_real(period, "cyclic: PERIOD")
    if period < 1:
        raise ValueError(f"cyclic: PERIOD = {_fmt(period)} must be >= 1 step")
    spec = f"cyclic:{_fmt(peak)},{_fmt(floor)},{_fmt(period)}"
    return Schedule("cyclic", spec, peak, partial(_cyclic_rule, peak=peak, floor=floor, period=period))


def from_array(values, name: str = "array") -> Schedule:
    """An explicit schedule η_t = values[t] (optimal schedules, tests); defined only for T = len(values).

    ``values`` must be 1-D, non-empty, finite and >= 0 (a read-only copy is kept). Its spec
    ``array:T=…,sha1=…`` identifies the content but is not parseable; persist it with
    :func:`write_schedule_csv` and load it back with ``file:PATH.csv``.
    
    >>> s = from_array([0.3, 0.2, 0.1])
    >>> s.values(3).tolist(), s.peak, s.length
    ([0.3, 0.2, 0.1], 0.3, 3)
    """
    table = check_learning_rates(values).copy()
    if table.ndim != 1 or table.size == 0:
        raise ValueError(f"an explicit schedule needs a non-empty 1-D array of learning rates, got shape {table.shape}")
    table.setflags(write=False)
    digest = hashlib.sha1(table.tobytes()).hexdigest()[:12]
    spec = f"array:T={table.size},sha1={digest}"
    return Schedule(str(name), spec, float(table.max()), partial(_array_rule, table=table), length=int(table.size))


#: Alias of :func:`from_array` (an explicit per-step schedule).
piecewise = from_array


def from_file(path: str | os.PathLike) -> Schedule:
    """The schedule stored in a ``step,lr`` curve file (see :func:`read_schedule_csv`); η_t = row t.

    The file is read now (errors surface at parse time); the schedule is defined only for T = the number of
    learning rates in the file. Spec ``file:PATH`` with the path as given.
    
    >>> import tempfile, pathlib
    >>> path = write_schedule_csv(pathlib.Path(tempfile.mkdtemp()) / "lr.csv", [0.3, 0.1])
    >>> from_file(path).values(2).tolist()
    [0.3, 0.1]
    """
    table = read_schedule_csv(path)
    table.setflags(write=False)
    return Schedule("file", f"file:{os.fspath(path)}", float(table.max()), partial(_array_rule, table=table),
                    length=int(table.size))


def with_warmup(schedule: Schedule, steps: int, start_fraction: float = 0.0) -> Schedule:
    """Linear warmup over W = ``steps`` steps from F·peak (F = ``start_fraction``), then the base schedule.

    η_t = peak·(F + (1 − F)·t/W) for t < W, and η_t = base(t − W; horizon T − W) for W <= t < T, where
    peak = ``schedule.peak``. The base runs over the remaining T − W steps (as optax/HF/nanoGPT warmup-cosine
    do), so a base that starts at its peak continues the ramp without a jump, and e.g. a WSD base decays over
    its FRACTION of T − W. Needs W < T at evaluation. W = 0 is a no-op that keeps the ``+warmup=0`` spec.
    Spec: the base spec + ``+warmup=W`` (+ ``,from=F`` when F ≠ 0).
    
    >>> with_warmup(constant(1.0), 2).values(4).tolist()
    [0.0, 0.5, 1.0, 1.0]
    >>> with_warmup(constant(1.0), 2, 0.5).spec
    'constant:1+warmup=2,from=0.5'
    """
    if not isinstance(schedule, Schedule):
        raise ValueError(f"with_warmup needs a Schedule, got {type(schedule).__name__}")
    if "+warmup=" in schedule.spec:
        raise ValueError(f"schedule {schedule.spec!r} already has a warmup; only one +warmup is allowed")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"warmup W = {steps!r} must be an integer number of steps >= 0")
    steps = int(steps)
    start_fraction = check_finite_real(start_fraction, "warmup: from F")
    if not 0.0 <= start_fraction <= 1.0:
        raise ValueError(f"warmup: from F = {_fmt(start_fraction)} is outside [0, 1]; the ramp starts at F·peak")
    start_fraction += 0.0
    spec = f"{schedule.spec}+warmup={steps}"
    if start_fraction != 0.0:
        spec += f",from={_fmt(start_fraction)}"
    rule = partial(_warmup_checked_rule, base_rule=schedule.rule, steps=steps, start_fraction=start_fraction,
                   peak=schedule.peak, spec=spec)
    length = None if schedule.length is None else schedule.length + steps
    return Schedule(schedule.name, spec, schedule.peak, rule, length=length)


def _warmup_checked_rule(t, T, *, base_rule, steps, start_fraction, peak, spec):
    if steps >= T and steps > 0:
        raise ValueError(f"schedule {spec!r}: the warmup W = {steps} must be shorter than the horizon T = {T}")
    return _warmup_rule(t, T, base_rule=base_rule, steps=steps, start_fraction=start_fraction, peak=peak)


# ----------------------------------------------------------------------------------------------------------
# Grammar: one record per family; the parser's tables (names, arities, forms, options) derive from them
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleOption:
    """A keyword option ``NAME=VALUE`` after a family's positional numbers (e.g. wsd's ``shape=sqrt``).

    ``choices`` lists the valid words; ``None`` means the value is a number. ``form`` is how the grammar
    shows it (``shape=exp|linear|sqrt|power``, ``power=P``). The value is passed to the factory as the
    keyword argument ``name``.
    """

    name: str
    form: str
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ScheduleFamily:
    """One family of the schedule grammar: everything the parser, its errors and its help need.

    Attributes:
        name: the keyword before the colon (``cosine``).
        params: the positional parameters, in grammar order (``("PEAK", "FLOOR")``); the factory takes them
            positionally. For ``takes_path`` families, the one parameter is the file path.
        factory: builds the :class:`Schedule` (and enforces ``rule``); ``factory(*numbers, **options)``.
        rule: the constraint on the parameters, as text (``0 <= FLOOR <= PEAK``); ``factory`` enforces it.
        options: the keyword options the family accepts (``wsd``: shape and power).
        takes_path: the argument is a path taken verbatim (it may hold ',', '+' and '=').

    Adding a family is one edit: a factory (a small pure function, its formula in the docstring) and one
    record in :data:`SCHEDULE_FAMILIES`.

    >>> SCHEDULE_FAMILIES["cosine"].form
    'cosine:PEAK,FLOOR'
    >>> SCHEDULE_FAMILIES["cosine"].factory(1.0, 0.0).spec
    'cosine:1,0'
    """

    name: str
    params: tuple[str, ...]
    factory: Callable[..., Schedule]
    rule: str
    options: tuple[ScheduleOption, ...] = ()
    takes_path: bool = False

    @property
    def form(self) -> str:
        """The grammar form, e.g. ``wsd:PEAK,FRACTION,FINAL[,shape=exp|linear|sqrt|power][,power=P]``."""
        return f"{self.name}:{','.join(self.params)}" + "".join(f"[,{option.form}]" for option in self.options)


@dataclass(frozen=True)
class ScheduleModifier:
    """A suffix ``+NAME=VALUE[,KEY=VALUE]`` that wraps any schedule (only ``+warmup`` exists).

    ``apply(schedule, *values)`` builds the wrapped schedule (warmup: W, F); ``form`` shows the grammar and
    ``rule`` the constraint.
    """

    name: str
    form: str
    apply: Callable[..., Schedule]
    rule: str


_WSD_OPTIONS = (ScheduleOption("shape", f"shape={'|'.join(WSD_SHAPES)}", WSD_SHAPES), ScheduleOption("power", "power=P"))

#: Every family of the grammar, in the order error messages and help list them (``conventions.md``).
SCHEDULE_FAMILIES: dict[str, ScheduleFamily] = {
    family.name: family
    for family in (
        ScheduleFamily("constant", ("ETA",), constant, "ETA >= 0"),
        ScheduleFamily("power", ("ETA0", "CHI"), power, "ETA0 >= 0, CHI >= 0"),
        ScheduleFamily("cosine", ("PEAK", "FLOOR"), cosine, "0 <= FLOOR <= PEAK"),
        ScheduleFamily("linear", ("PEAK", "FLOOR"), linear, "0 <= FLOOR <= PEAK"),
        ScheduleFamily("exp", ("PEAK", "FINAL"), exp_decay, "0 < FINAL <= PEAK"),
        ScheduleFamily("wsd", ("PEAK", "FRACTION", "FINAL"), wsd,
                       "0 < FRACTION <= 1, 0 <= FINAL <= PEAK (0 < FINAL for shape=exp), power > 0", _WSD_OPTIONS),
        ScheduleFamily("step811", ("PEAK",), step811, "PEAK >= 0"),
        ScheduleFamily("cyclic", ("PEAK", "FLOOR", "PERIOD"), cyclic, "0 <= FLOOR <= PEAK, PERIOD >= 1"),
        ScheduleFamily("file", ("PATH.csv",), from_file, "a step,lr file: steps 0, 1, 2, ..., lr finite and >= 0",
                       takes_path=True),
    )
}

#: The warmup modifier: ``+warmup=W[,from=F]`` (:func:`with_warmup`).
WARMUP = ScheduleModifier("warmup", "+warmup=W[,from=F]", with_warmup, "W >= 0 integer steps, 0 <= F <= 1, W < T")

#: The grammar form of every family (derived from :data:`SCHEDULE_FAMILIES`).
FAMILIES: dict[str, str] = {name: family.form for name, family in SCHEDULE_FAMILIES.items()}
WARMUP_FORM = WARMUP.form

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_MODIFIER_SPLIT = re.compile(r"\+(?=[A-Za-z_]\w*\s*=)")  # a '+' that starts "name=", never the one in 1e+5


def _parse_number(text: str, label: str, family: str, form: str | None = None) -> float:
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise ValueError(f"{family}: {label} = {text!r} is not finite; it must be a finite number")
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{family}: {label} = {text!r} is not a number (expected {form or family})")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{family}: {label} = {text!r} is not finite; it must be a finite number")
    return value


def _unknown_family(family: str, spec: str) -> ValueError:
    hint = ""
    if family == "array":
        hint = " (array schedules have no text form: write them with write_schedule_csv and use file:PATH.csv)"
    forms = [record.form for record in SCHEDULE_FAMILIES.values()]
    return ValueError(
        f"unknown schedule family {family!r} in {spec!r}{hint}; valid families: {', '.join(SCHEDULE_FAMILIES)} "
        f"(forms: {' | '.join(forms)}, each optionally followed by {WARMUP_FORM})"
    )


def _parse_warmup(text: str, spec: str) -> tuple[int, float]:
    items = [item.strip() for item in text.split(",")]
    if not re.fullmatch(r"\d+", items[0]):
        raise ValueError(f"warmup W = {items[0]!r} in {spec!r} must be an integer number of steps >= 0 ({WARMUP_FORM})")
    start_fraction = 0.0
    for item in items[1:]:
        key, eq, value = item.partition("=")
        if not eq or key.strip() != "from":
            raise ValueError(f"unknown warmup option {item!r} in {spec!r}; the form is {WARMUP_FORM}")
        start_fraction = _parse_number(value.strip(), "from F", "warmup")
        if not 0.0 <= start_fraction <= 1.0:
            raise ValueError(f"warmup: from F = {value.strip()} is outside [0, 1]; the ramp starts at F·peak")
    return int(items[0]), start_fraction


def _split_warmup(spec: str, family: ScheduleFamily) -> tuple[str, tuple[int, float] | None]:
    marker = f"+{WARMUP.name}="
    if family.takes_path:  # paths may hold '+' and '='; only a trailing +warmup= is a modifier
        base, sep, text = spec.rpartition(marker)
        return (base, _parse_warmup(text, spec)) if sep else (spec, None)
    base, *modifiers = _MODIFIER_SPLIT.split(spec)
    warmup = None
    for modifier in modifiers:
        key, _, text = modifier.partition("=")
        if key.strip() != WARMUP.name:
            raise ValueError(f"unknown modifier '+{modifier}' in {spec!r}; the only modifier is {WARMUP_FORM}")
        if warmup is not None:
            raise ValueError(f"{spec!r} has more than one +warmup; only one is allowed")
        warmup = _parse_warmup(text, spec)
    return base, warmup


def parse_schedule(spec: str) -> Schedule:
    """Build the :class:`Schedule` a grammar string describes (``conventions.md``, "Schedules").

    Forms (:data:`SCHEDULE_FAMILIES`): ``constant:ETA``, ``power:ETA0,CHI``, ``cosine:PEAK,FLOOR``,
    ``linear:PEAK,FLOOR``, ``exp:PEAK,FINAL``, ``wsd:PEAK,FRACTION,FINAL[,shape=exp|linear|sqrt|power][,power=P]``,
    ``step811:PEAK``, ``cyclic:PEAK,FLOOR,PERIOD``, ``file:PATH.csv``; any of them may end in
    ``+warmup=W[,from=F]`` (:data:`WARMUP`). Whitespace around items is ignored. Every malformed or
    out-of-range spec raises ValueError naming the offending value and the valid form/range.

    >>> s = parse_schedule(" cosine: 1.0, 0+warmup=2")
    >>> s.spec
    'cosine:1,0+warmup=2'
    >>> s.values(6).round(4).tolist()
    [0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464]
    """
    if not isinstance(spec, str):
        raise ValueError(f"a schedule spec must be a string, got {spec!r}")
    text = spec.strip()
    name, colon, _ = text.partition(":")
    family = SCHEDULE_FAMILIES.get(name.strip())
    if family is None:
        raise _unknown_family(name.strip(), spec)
    base_text, warmup = _split_warmup(text, family)
    args = base_text.partition(":")[2].strip() if colon else ""
    if family.takes_path:
        if not args:
            raise ValueError(f"{family.name}: missing PATH in {spec!r}; expected {family.form}")
        schedule = family.factory(args)
    else:
        schedule = _parse_family(family, args, spec)
    if warmup is not None:
        schedule = WARMUP.apply(schedule, warmup[0], warmup[1])
    return schedule


def _parse_family(family: ScheduleFamily, args: str, spec: str) -> Schedule:
    items = [item.strip() for item in args.split(",")] if args else []
    name, names = family.name, family.params
    positional = [item for item in items if "=" not in item]
    keywords = [item for item in items if "=" in item]
    if any(item == "" for item in items) or items[: len(positional)] != positional or len(positional) != len(names):
        raise ValueError(
            f"{name} expects {len(names)} number{'s' if len(names) > 1 else ''} ({family.form}), got {spec!r}"
        )
    numbers_ = [_parse_number(item, label, name, family.form) for item, label in zip(positional, names)]
    options = {option.name: option for option in family.options}
    kwargs = {}
    for item in keywords:
        key, _, value = (part.strip() for part in item.partition("="))
        option = options.get(key)
        if option is None:
            allowed = " and ".join(f"{o.name}=…" for o in family.options) or "no options"
            raise ValueError(f"{name}: unknown option {item!r} in {spec!r}; {name} takes {allowed} ({family.form})")
        if key in kwargs:
            raise ValueError(f"{name}: option {key!r} given twice in {spec!r}")
        if option.choices is None:
            kwargs[key] = _parse_number(value, key, name, family.form)
        elif value in option.choices:
            kwargs[key] = value
        else:
            raise ValueError(f"{name}: {key} = {value!r} is unknown; valid {key}s: {', '.join(option.choices)}")
    return family.factory(*numbers_, **kwargs)


def as_schedule(schedule: ScheduleLike) -> Schedule:
    """A :class:`Schedule` from a Schedule (returned as is), a spec string, or a 1-D array of η_t.

    >>> as_schedule("exp:1,0.01") == exp_decay(1.0, 0.01)
    True
    >>> as_schedule([0.2, 0.1]).values(2).tolist()
    [0.2, 0.1]
    """
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str):
        return parse_schedule(schedule)
    return from_array(schedule)


def schedule_matrix(schedules: ScheduleLike | Iterable[ScheduleLike], steps: int) -> np.ndarray:
    """The (S, T) float64 matrix whose row s is ``schedules[s].values(steps)``.

    Accepts one schedule or an iterable of Schedules / spec strings / 1-D arrays (see :func:`as_schedule`).
    
    >>> schedule_matrix(["constant:1", linear(1.0, 0.0)], 2).tolist()
    [[1.0, 1.0], [1.0, 0.5]]
    """
    if isinstance(schedules, (Schedule, str)):
        schedules = [schedules]
    elif isinstance(schedules, np.ndarray) and schedules.ndim == 1:
        schedules = [schedules]
    steps = check_positive_int(steps, "steps (the horizon T)")
    rows = [as_schedule(item).values(steps) for item in schedules]
    if not rows:
        return np.empty((0, steps), dtype=np.float64)
    return np.stack(rows)


# ----------------------------------------------------------------------------------------------------------
# Curve files
# ----------------------------------------------------------------------------------------------------------


def write_schedule_csv(path: str | os.PathLike, lr) -> Path:
    """Write η_0 … η_{T−1} as a ``step,lr`` file (atomically): rows ``t,η_t`` for t < T and a last row ``T,``.

    The values are written with ``repr`` so that :func:`read_schedule_csv` returns them bit for bit.
    """
    values = check_learning_rates(lr)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"write_schedule_csv needs a non-empty 1-D array of learning rates, got shape {values.shape}")
    target = Path(path)
    with atomic_write(target, "w", newline="") as handle:
        handle.write("step,lr\n")
        for t, eta in enumerate(values):
            handle.write(f"{t},{float(eta)!r}\n")
        handle.write(f"{values.size},\n")
    return target


def read_schedule_csv(path: str | os.PathLike) -> np.ndarray:
    """η_0 … η_{T−1} from a ``step,lr`` file (float64, shape (T,)).

    Columns ``step`` and ``lr`` (any order; others ignored). Steps must be the integers 0, 1, 2, …; every lr
    must be a finite number >= 0 except in the last row, where an empty lr (the conventions' closing row
    ``T,``) is accepted and dropped. Raises ValueError naming the file, the row and the offending value.
    """
    where = os.fspath(path)
    try:
        with open(where, newline="", encoding="utf-8-sig") as handle:  # a UTF-8 BOM is valid input
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise ValueError(f"schedule file {where!r} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"schedule file {where!r} cannot be read: {err}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"schedule file {where!r} is empty; expected a header step,lr")
    header = [cell.strip() for cell in rows[0]]
    for column in ("step", "lr"):
        if column not in header:
            raise ValueError(f"schedule file {where!r}: missing column {column!r} (header is {header}); "
                             "expected columns step,lr")
    i_step, i_lr = header.index("step"), header.index("lr")
    body = rows[1:]
    values = []
    previous = None
    for number, row in enumerate(body, start=2):  # line numbers as an editor shows them (header = 1)
        if len(row) <= max(i_step, i_lr):
            raise ValueError(f"schedule file {where!r}, line {number}: {len(row)} fields, expected {len(header)}")
        step_text, lr_text = row[i_step].strip(), row[i_lr].strip()
        try:
            step_value = float(step_text)
        except ValueError:
            step_value = math.nan
        if not (math.isfinite(step_value) and step_value == int(step_value)):
            raise ValueError(f"schedule file {where!r}, line {number}: step = {step_text!r} is not an integer")
        step = int(step_value)
        if previous is None and step != 0:
            raise ValueError(f"schedule file {where!r}: the first step is {step}; steps must start at 0")
        if previous is not None and step <= previous:
            raise ValueError(f"schedule file {where!r}, line {number}: step {step} does not increase "
                             f"(previous step {previous}); steps must be 0, 1, 2, ...")
        if previous is not None and step != previous + 1:
            raise ValueError(f"schedule file {where!r}, line {number}: step {step} follows step {previous}; "
                             "steps must be consecutive (0, 1, 2, ...), one row per step")
        previous = step
        if lr_text == "":
            if number == len(body) + 1:
                break  # the closing row "T," of the conventions
            raise ValueError(f"schedule file {where!r}, line {number}: missing lr at step {step} "
                             "(only the last row may leave lr empty)")
        try:
            eta = float(lr_text)
        except ValueError:
            raise ValueError(f"schedule file {where!r}, line {number}: lr = {lr_text!r} at step {step} "
                             "is not a number") from None
        if not math.isfinite(eta):
            raise ValueError(f"schedule file {where!r}, line {number}: lr = {lr_text!r} at step {step} is not "
                             "finite; learning rates must be finite and >= 0")
        if eta < 0:
            raise ValueError(f"schedule file {where!r}, line {number}: lr = {lr_text} at step {step} is "
                             "negative; learning rates must be >= 0")
        values.append(eta)
    if not values:
        raise ValueError(f"schedule file {where!r} holds no learning rates")
    return np.asarray(values, dtype=np.float64)
