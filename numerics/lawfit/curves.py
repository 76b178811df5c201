"""Loss-curve data: the :class:`TrainingCurve` every law is fitted to, and its readers.

A curve is the *full* per-step schedule η_0 … η_{K−1} (row t holds the η_t of step t → t+1, warmup included:
the laws' intrinsic time X_k = Σ_{i≤k} η_i starts at step 0) plus the loss logged at some steps.

Readers:
* :func:`read_curves_csv` — ``step,lr,loss[,run]`` (one file, many runs) — the CLI input;
* :func:`load_multipower` — ``multipower/`` of the data root (Luo et al. 2025): the per-step schedule is rebuilt
  from the file name (linear warmup 0 → 3e−4 over 2160 steps, then the named schedule) and checked against
  the sampled ``lr`` column;
* :func:`load_lr_scheduling` — ``lr-scheduling/`` of the data root (Schaipp et al. 2025) W&B JSON exports, WSD
  cooldown runs joined to their base (stable) run; :func:`lr_scheduling_models` groups them per model
  (architecture + batch + dataset) into the protocol "fit the cosine runs, predict every WSD run";
* :func:`read_tensorboard` — TensorBoard scalar logs (``events.out.tfevents.*``), read by a small built-in
  TFRecord/protobuf parser (:func:`tensorboard_scalars`): no TensorFlow, tensorboard or tbparse needed.

The data root (:func:`default_data_root`) is ``$LRWB_DATA`` if set, else the reduced copy bundled with the
package (:mod:`lrwb.numerics.data`). Both readers take the original files (``*.csv``, ``*.json``) and their gzipped
form (``*.csv.gz``, ``*.json.gz``, as bundled).
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
import struct
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lrwb.numerics.io import atomic_write

__all__ = ["default_data_root", "TrainingCurve", "validate_curve", "read_curves_csv", "write_curves_csv",
           "MULTIPOWER_PEAK", "MULTIPOWER_FLOOR", "MULTIPOWER_WARMUP", "MULTIPOWER_SIZES", "MULTIPOWER_FIT",
           "MULTIPOWER_TEST", "multipower_schedule", "load_multipower", "RunInfo", "load_lr_scheduling",
           "LRSchedulingModel", "lr_scheduling_run_name", "lr_scheduling_models", "select_lr_scheduling_model",
           "read_tensorboard", "tensorboard_scalars", "masked_crc32c"]


def default_data_root() -> Path:
    """The data folder (``multipower/``, ``lr-scheduling/``): ``$LRWB_DATA`` if set, else the bundled copy."""
    from lrwb.numerics.data import data_root

    return data_root()


def _missing(what: str, path: Path) -> FileNotFoundError:
    from lrwb.numerics.data import missing_data_error

    return missing_data_error(what, path)


def _glob_data(folder: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` and their gzipped form (``pattern`` + ``.gz``), sorted by run name."""
    found = {p for p in folder.glob(pattern) if p.is_file()} | {p for p in folder.glob(pattern + ".gz") if p.is_file()}
    by_run: dict[str, Path] = {}
    for p in sorted(found, key=lambda p: p.name.endswith(".gz")):  # a run in both forms: the plain file wins
        by_run.setdefault(_run_stem(p), p)
    return [by_run[k] for k in sorted(by_run)]


def _run_stem(path: Path) -> str:
    """``cosine_24000`` for ``cosine_24000.csv`` and ``cosine_24000.csv.gz`` (the run's name)."""
    name = Path(path).name.removesuffix(".gz")
    return name.rsplit(".", 1)[0] if "." in name else name


def _read_text(path: Path) -> str:
    raw = Path(path).read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


@dataclass(frozen=True)
class TrainingCurve:
    """A run: per-step schedule ``lr`` (length K), logged ``steps`` (< K, increasing) and their ``loss``.

    ``warmup``: steps of warmup (LR drops are counted after it); ``source`` says where the schedule came from.
    """

    name: str
    lr: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    warmup: int = 0
    source: str = ""

    def __post_init__(self):
        validate_curve(self)

    @property
    def horizon(self) -> int:
        return int(self.lr.size)

    def restricted(self, start: int | None = None, stop: int | None = None) -> "TrainingCurve":
        """The same run with only the logged points start ≤ step < stop (the schedule is kept whole)."""
        keep = np.ones(self.steps.size, dtype=bool)
        if start is not None:
            keep &= self.steps >= start
        if stop is not None:
            keep &= self.steps < stop
        return TrainingCurve(self.name, self.lr, self.steps[keep], self.loss[keep], self.warmup, self.source)


def validate_curve(curve: TrainingCurve) -> None:
    """Clear errors for bad curves: NaN, non-increasing steps, LR ≤ 0 after the warmup, misaligned arrays."""
    name = curve.name or "<curve>"
    lr = np.asarray(curve.lr, dtype=float)
    steps = np.asarray(curve.steps)
    loss = np.asarray(curve.loss, dtype=float)
    object.__setattr__(curve, "lr", lr)
    object.__setattr__(curve, "loss", loss)
    if lr.ndim != 1 or lr.size == 0:
        raise ValueError(f"curve {name}: lr must be a non-empty 1-D per-step schedule")
    if steps.ndim != 1 or steps.size == 0 or steps.size != loss.size:
        raise ValueError(f"curve {name}: steps ({steps.size}) and loss ({loss.size}) must be non-empty and "
                         "of equal length")
    if not np.all(np.equal(np.mod(steps, 1), 0)):
        raise ValueError(f"curve {name}: steps must be integers")
    steps = steps.astype(np.int64)
    object.__setattr__(curve, "steps", steps)
    bad = np.flatnonzero(np.diff(steps) <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"curve {name}: steps must be strictly increasing; step {steps[i + 1]} follows "
                         f"{steps[i]}")
    if steps[0] < 0 or steps[-1] >= lr.size:
        raise ValueError(f"curve {name}: logged steps [{steps[0]}, {steps[-1]}] must lie in [0, {lr.size - 1}]")
    if not np.all(np.isfinite(loss)):
        i = int(np.flatnonzero(~np.isfinite(loss))[0])
        raise ValueError(f"curve {name}: loss at step {steps[i]} is {loss[i]!r}; losses must be finite")
    if np.any(loss <= 0):
        i = int(np.flatnonzero(loss <= 0)[0])
        raise ValueError(f"curve {name}: loss at step {steps[i]} is {loss[i]!r}; the laws need loss > 0 "
                         "(they fit log-loss residuals)")
    if not np.all(np.isfinite(lr)):
        i = int(np.flatnonzero(~np.isfinite(lr))[0])
        raise ValueError(f"curve {name}: lr at step {i} is {lr[i]!r}; learning rates must be finite")
    if not (0 <= curve.warmup < lr.size):
        raise ValueError(f"curve {name}: warmup = {curve.warmup} must lie in [0, {lr.size - 1}]")
    post = lr[curve.warmup:]
    if np.any(post <= 0) or np.any(lr < 0):
        i = int(np.flatnonzero(lr <= 0)[-1] if np.any(post <= 0) else np.flatnonzero(lr < 0)[0])
        raise ValueError(f"curve {name}: lr at step {i} is {lr[i]!r}; learning rates must be > 0 after the "
                         f"warmup ({curve.warmup} steps) and >= 0 in it")


# ----------------------------------------------------------------------------------------------------------
# CSV


def read_curves_csv(path, *, schedule: str | None = None, warmup: int | None = None,
                    run: str | None = None) -> dict[str, TrainingCurve]:
    """Curves from a CSV with columns ``step,lr,loss`` and optionally ``run`` (one file, many runs).

    If a run's rows cover every step 0 … K−1, its ``lr`` column is the per-step schedule (an empty ``lr`` in
    the last row is allowed: no step follows it). Otherwise the schedule is, in this order: the run's
    ``schedule`` column (a spec of the project grammar; curves logged only at evaluation steps need no ``lr``
    column then), ``schedule`` (one spec for every run), each evaluated over K steps (the run's ``horizon``
    column when present, else last step + 1); without a spec, the logged lr interpolated linearly between
    logged steps, with a warning; before the first logged step it is a linear warmup from 0 over ``warmup``
    steps when given, else held at the first logged value.
    ``warmup`` (default 0) also tells the laws where LR drops start to count.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"curve file {path} not found")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # utf-8-sig: a BOM is valid input
            return _read_curves_rows(path, handle, schedule, warmup, run)
    except UnicodeDecodeError as err:
        raise ValueError(f"curve file {path} is not UTF-8 text (byte {err.start}: {err.reason}); expected a CSV "
                         "step,lr,loss[,run]") from None


def _read_curves_rows(path: Path, handle, schedule, warmup, run) -> dict[str, TrainingCurve]:
    reader = csv.DictReader(handle)
    fields = [f.strip() for f in (reader.fieldnames or [])]
    if not fields:
        raise ValueError(f"{path}: empty file; expected a header step,lr,loss[,run] and data rows")
    has_specs = "schedule" in fields
    missing = {"step", "loss"} - set(fields) | ({"lr"} - set(fields) if not has_specs else set())
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected step,lr,loss[,run] "
                         f"(or step,loss,schedule[,horizon,run]), got {fields}")
    rows: dict[str, list[tuple[float, float, float]]] = {}
    specs: dict[str, tuple[str, int | None]] = {}
    for line, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        name = row.get("run") or path.stem
        try:
            step = float(row["step"])
            lr = float(row["lr"]) if row.get("lr", "") != "" else math.nan
            loss = float(row["loss"]) if row["loss"] != "" else math.nan
            horizon = int(row["horizon"]) if row.get("horizon", "") != "" else None
        except ValueError as err:
            raise ValueError(f"{path}:{line}: not a number ({err})") from None
        if not math.isnan(lr) and lr <= 0 and (warmup is None or step >= warmup):
            raise ValueError(f"{path}:{line}: lr = {lr!r} at step {step:g}; learning rates must be > 0")
        if has_specs and row.get("schedule"):
            if name in specs and specs[name] != (row["schedule"], horizon):
                raise ValueError(f"{path}:{line}: run {name!r} names two schedules ({specs[name][0]!r} and "
                                 f"{row['schedule']!r}); one schedule (and horizon) per run")
            specs[name] = (row["schedule"], horizon)
        rows.setdefault(name, []).append((step, lr, loss))
    if not rows:
        raise ValueError(f"{path}: no data rows")
    if run is not None:
        if run not in rows:
            raise ValueError(f"{path}: run {run!r} not found; runs: {', '.join(rows)}")
        rows = {run: rows[run]}
    out = {}
    for name, r in rows.items():
        spec, horizon = specs.get(name, (schedule, None))
        out[name] = _curve_from_rows(name, np.array(r, dtype=float), spec, warmup, str(path), horizon)
    return out


def _check_horizon(last_step: float, where: str) -> None:
    """Refuse (before allocating) a run whose last logged step implies a per-step schedule that does not fit in
    memory: the laws need η at every step 0 … K−1, so a sparse log up to step 10^12 cannot be held."""
    from lrwb.numerics import resources

    resources.check_memory(resources.per_step_schedule_bytes(float(last_step) + 1),
                           f"{where}: the last logged step {float(last_step):.0f} (a per-step schedule of "
                           f"{float(last_step) + 1:.3g} steps)")


def _curve_from_rows(name, arr, schedule, warmup, source, horizon: int | None = None) -> TrainingCurve:
    step, lr, loss = arr[:, 0], arr[:, 1], arr[:, 2]
    if np.any(np.diff(step) <= 0):
        i = int(np.flatnonzero(np.diff(step) <= 0)[0])
        raise ValueError(f"run {name}: steps must be strictly increasing; step {step[i + 1]:g} follows {step[i]:g}")
    if np.any(step != np.round(step)) or step[0] < 0:
        raise ValueError(f"run {name}: steps must be non-negative integers")
    _check_horizon(step[-1], f"{source}: run {name}")
    steps = step.astype(np.int64)
    if horizon is not None and horizon < int(steps[-1]) + 1:
        raise ValueError(f"run {name}: horizon = {horizon} but a loss is logged at step {int(steps[-1])}; "
                         f"the horizon must be > every logged step")
    if horizon is not None:
        _check_horizon(horizon - 1, f"{source}: run {name} (horizon column)")
    horizon = int(steps[-1]) + 1 if horizon is None else int(horizon)
    w = int(warmup or 0)
    if schedule is not None:
        from lrwb.numerics.schedules import parse_schedule

        per_step = np.asarray(parse_schedule(schedule).values(horizon), dtype=float)
        return TrainingCurve(name, per_step, steps, loss, w, f"{source} (schedule {schedule})")
    # the last row may carry no lr (no step follows it)
    if math.isnan(lr[-1]) and lr.size > 1:
        lr = lr.copy()
        lr[-1] = lr[-2]
    if np.any(np.isnan(lr)):
        raise ValueError(f"run {name}: empty lr at step {int(steps[np.isnan(lr)][0])} (only the last row may be empty)")
    if steps[0] == 0 and np.all(np.diff(steps) == 1):
        per_step = lr
        how = "per-step lr column"
    else:
        warnings.warn(f"run {name}: lr is logged only at {steps.size} of {horizon} steps; interpolating "
                      "linearly between logged steps (pass --schedule SPEC for the exact schedule)", stacklevel=3)
        grid = np.arange(horizon)
        per_step = np.interp(grid, steps, lr)
        if steps[0] > 0 and w > 0:
            ramp = grid < min(w, steps[0])
            per_step[ramp] = lr[0] * grid[ramp] / min(w, steps[0])
        how = "interpolated lr column"
    return TrainingCurve(name, per_step, steps, loss, w, f"{source} ({how})")


def write_curves_csv(path, curves: dict[str, TrainingCurve] | list[TrainingCurve]) -> None:
    """Write logged points as ``run,step,lr,loss`` (lr = the schedule's η at that step)."""
    items = curves.values() if isinstance(curves, dict) else curves
    with atomic_write(path) as handle:
        handle.write("run,step,lr,loss\n")
        for c in items:
            for k, l in zip(c.steps, c.loss):
                handle.write(f"{c.name},{int(k)},{float(c.lr[k])!r},{float(l)!r}\n")


# ----------------------------------------------------------------------------------------------------------
# multipower (Luo et al. 2025)

MULTIPOWER_PEAK = 3e-4
MULTIPOWER_FLOOR = 3e-5
MULTIPOWER_WARMUP = 2160
MULTIPOWER_SIZES = (25, 100, 400)
MULTIPOWER_FIT = ("cosine_24000", "constant_24000", "wsdcon_9")
MULTIPOWER_TEST = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3",
                   "wsdcon_18")


def multipower_schedule(name: str, horizon: int) -> np.ndarray:
    """The per-step schedule of a multipower run (README of the data): linear warmup 0 → 3e−4 over 2160 steps
    (η_t = 3e−4·t/2159, t < 2160: the peak is reached at step 2159, as in the MPL authors' code),
    then ``constant_N``, ``cosine_N`` (to 3e−5 at step N), ``wsd_S_E`` (exponential 3e−4 → 3e−5 over S…E),
    ``wsdld_S_E`` (linear over S…E) or ``wsdcon_K`` (K·1e−5 from step 8000 on)."""
    t = np.arange(horizon, dtype=float)
    peak, floor, w = MULTIPOWER_PEAK, MULTIPOWER_FLOOR, MULTIPOWER_WARMUP
    if m := re.fullmatch(r"constant_(\d+)", name):
        post = np.full(horizon, peak)
    elif m := re.fullmatch(r"cosine_(\d+)", name):
        total = int(m.group(1))
        post = floor + (peak - floor) * 0.5 * (1 + np.cos(np.pi * np.clip(t - w, 0, None) / (total - w)))
    elif m := re.fullmatch(r"wsd_(\d+)_(\d+)", name):
        start, end = int(m.group(1)), int(m.group(2))
        frac = np.clip((t - start) / (end - start), 0, 1)
        post = peak * (floor / peak) ** frac
    elif m := re.fullmatch(r"wsdld_(\d+)_(\d+)", name):
        start, end = int(m.group(1)), int(m.group(2))
        frac = np.clip((t - start) / (end - start), 0, 1)
        post = peak - (peak - floor) * frac
    elif m := re.fullmatch(r"wsdcon_(\d+)", name):
        post = np.where(t < 8000, peak, int(m.group(1)) * 1e-5)
    else:
        raise ValueError(f"unknown multipower run {name!r}; expected constant_N, cosine_N, wsd_S_E, wsdld_S_E "
                         "or wsdcon_K")
    # linear warmup 0 → peak reached at step W − 1 (numpy.linspace(0, peak, W), as the MPL authors' code)
    return np.where(t < w, peak * t / (w - 1), post)


def load_multipower(root, size: int, names=None, *, check_tol: float = 1e-6) -> dict[str, TrainingCurve]:
    """The multipower runs of one model ``size`` (25, 100 or 400; millions of parameters) as curves.

    ``root`` is ``.../shared/data/multipower``. The rebuilt schedule must match the file's sampled lr to a
    relative ``check_tol`` (else ValueError: the file is not what its name says).
    """
    if size not in MULTIPOWER_SIZES:
        raise ValueError(f"size = {size!r}; multipower sizes are {MULTIPOWER_SIZES}")
    folder = Path(root) / "loss_curve_repo" / f"csv_{size}"
    if not folder.is_dir():
        raise _missing("multipower folder", folder)
    if names is None:
        files = _glob_data(folder, "*.csv")
    else:
        files = []
        for n in names:
            found = [p for p in (folder / f"{n}.csv", folder / f"{n}.csv.gz") if p.is_file()]
            if not found:
                raise _missing("multipower run", folder / f"{n}.csv")
            files.append(found[0])
    out = {}
    for f in files:
        name = _run_stem(f)
        try:  # numpy reads .gz transparently
            with warnings.catch_warnings():  # an empty file is reported below, not as a loadtxt warning
                warnings.simplefilter("ignore", UserWarning)
                arr = np.loadtxt(f, delimiter=",", skiprows=1, ndmin=2, encoding="utf-8-sig")
        except (ValueError, UnicodeDecodeError, EOFError, OSError) as err:
            raise ValueError(f"multipower run {f} is not a numeric CSV step,lr,loss ({err})") from None
        if arr.shape[0] == 0 or arr.shape[1] < 3:
            raise ValueError(f"multipower run {f} has {arr.shape[0]} data rows of {arr.shape[1]} columns; expected "
                             "a header and rows step,lr,loss")
        _check_horizon(arr[-1, 0], f"multipower run {f}")
        steps = arr[:, 0].astype(np.int64)
        sched = multipower_schedule(name, int(steps[-1]) + 1)
        rel = np.max(np.abs(sched[steps] - arr[:, 1]) / arr[:, 1])
        if rel > check_tol:
            raise ValueError(f"{f}: rebuilt schedule differs from the logged lr by {rel:.2g} (relative) "
                             f"> {check_tol:g}")
        out[name] = TrainingCurve(name, sched, steps, arr[:, 2], MULTIPOWER_WARMUP, f"{f} (rebuilt schedule)")
    return out


# ----------------------------------------------------------------------------------------------------------
# lr-scheduling (Schaipp et al. 2025)


@dataclass(frozen=True)
class RunInfo:
    """What identifies an lr-scheduling run: model (layers, heads), dataset, peak LR, scheduler, horizon."""

    path: str
    model: str
    dataset: str
    lr: float
    scheduler: str
    iterations: int
    warmup: int
    decay_fraction: float | None
    decay_shape: str | None
    final_lr_scale: float
    resume_from: str | None


def _read_run_json(path: Path) -> dict:
    """One lr-scheduling run file: a JSON object with ``config`` and ``history`` (errors name the file)."""
    try:
        data = json.loads(_read_text(path).removeprefix("\ufeff"))
    except (OSError, EOFError) as err:  # a .gz that is not gzip
        raise ValueError(f"lr-scheduling run {path} cannot be read ({err})") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"lr-scheduling run {path} is not UTF-8 text (byte {err.start}: {err.reason})") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"lr-scheduling run {path} is not valid JSON ({err.msg} at line {err.lineno} column "
                         f"{err.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict) or "history" not in data:
        raise ValueError(f"lr-scheduling run {path}: expected a JSON object with 'config' (an object) and "
                         "'history'")
    return data


def _run_info(path: Path, cfg: dict) -> RunInfo:
    lacking = [k for k in ("lr", "iterations", "scheduler") if cfg.get(k) is None]
    if lacking:
        raise ValueError(f"lr-scheduling run {path}: config lacks {', '.join(lacking)} (needed to name the run "
                         "and rebuild its schedule)")
    try:
        float(cfg["lr"]), int(cfg["iterations"]), int(cfg.get("warmup_steps", 0))
    except (TypeError, ValueError):
        raise ValueError(f"lr-scheduling run {path}: config lr = {cfg['lr']!r}, iterations = "
                         f"{cfg['iterations']!r}, warmup_steps = {cfg.get('warmup_steps', 0)!r} must be numbers") from None
    model = (f"L{cfg.get('n_layer')}H{cfg.get('n_head')}E{cfg.get('n_embd')}"
             f"B{cfg.get('batch_size')}x{cfg.get('acc_steps')}")
    sched = str(cfg.get("scheduler"))
    shape = None
    if sched == "wsd":
        shape = "exp" if cfg.get("wsd_exponential_decay") else str(cfg.get("decay_type") or "linear")
    return RunInfo(str(path), model, str(cfg.get("dataset")), float(cfg.get("lr")), sched,
                   int(cfg.get("iterations")), int(cfg.get("warmup_steps", 0)),
                   float(cfg["wsd_fract_decay"]) if sched == "wsd" and "wsd_fract_decay" in cfg else None,
                   shape, float(cfg.get("wsd_final_lr_scale", 0.0) or 0.0), cfg.get("resume_from"))


def _floats(values) -> np.ndarray:
    return np.asarray([math.nan if v is None else v for v in values], dtype=float)


def _history(data: dict, which: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(loss iters, loss, lr iters, lr) from the W&B history; ``which`` = "train" or "val" loss."""
    tr = data["history"]["train"]
    t_it = _floats(tr["iter"])
    t_lr = _floats(tr.get("train_lr", [None] * t_it.size))
    ok = np.isfinite(t_it) & np.isfinite(t_lr)
    lr_it, lr = t_it[ok], t_lr[ok]
    if which == "train":
        it, loss = t_it, _floats(tr["train_loss"])
    elif which == "val":
        va = data["history"]["val"]
        it, loss = _floats(va["iter"]), _floats(va["val_loss"])
    else:
        raise ValueError(f"loss = {which!r}; valid: train, val")
    ok = np.isfinite(it) & np.isfinite(loss)
    o1, o2 = np.argsort(it[ok], kind="stable"), np.argsort(lr_it, kind="stable")
    return it[ok][o1], loss[ok][o1], lr_it[o2], lr[o2]


def load_lr_scheduling(root, *, folder: str | None = None, pattern: str = "*.json",
                       base_pattern: str | None = None, loss: str = "val") -> list[tuple[RunInfo, TrainingCurve]]:
    """Every run of ``lr-scheduling/data`` (or a sub-folder) as (info, curve); cooldowns joined to base runs.

    ``loss="val"`` (default) uses the validation loss (every 200 steps, one fixed held-out set: smooth and
    comparable across runs); ``"train"`` the per-batch training loss (every 50 steps; its batch-to-batch noise
    is ≈ 0.14, larger than every law's prediction error).
    Schedule: the logged ``train_lr`` interpolated linearly between logged iterations, with the warmup
    rebuilt from 0.01·peak (cosine ramp for ``cos`` runs, linear for ``wsd``; ``warmup_steps`` long).
    A run whose log starts later than its warmup (a cooldown branched off a stable run) is joined to the
    base run with the same model, dataset and peak LR whose log covers the branch point: the base run's
    points before the branch come first. Runs that cannot be joined are skipped with a warning.
    """
    base_dir = Path(root) / "data"
    if folder:
        base_dir = base_dir / folder
    if not base_dir.is_dir():
        raise _missing("lr-scheduling folder", base_dir)
    # ``pattern`` (a glob) selects the runs returned; their base runs are looked up among the files that
    # contain the pattern's core (e.g. "*nlayers8_nhead6_lr0.001*" also finds the "sl_…" stable runs).
    # A run is named by its file name without .json/.json.gz, so the full and the bundled data match alike.
    wanted = {_run_stem(f) for f in _glob_data(base_dir, pattern)}
    core = pattern.replace("*", "").removesuffix(".json")
    pool = _glob_data(base_dir, base_pattern or (f"*{core}*" if core else "*.json"))
    pool = [f for f in pool if f.name.endswith((".json", ".json.gz"))]
    raw = []
    for f in pool:
        data = _read_run_json(f)
        info = _run_info(f, data["config"])
        try:
            it, values, lr_it, lr = _history(data, loss)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"lr-scheduling run {f}: malformed history ({type(err).__name__}: {err}); expected "
                             "history.train.iter/train_lr/train_loss and history.val.iter/val_loss lists") from None
        if it.size < 5 or lr_it.size < 2:
            continue
        raw.append((info, it, values, lr_it, lr))
    out = []
    for info, it, values, lr_it, lr in raw:
        if _run_stem(Path(info.path)) not in wanted:
            continue
        if lr_it[0] > max(info.warmup, 1) * 2:
            base = _find_base(info, lr_it[0], raw)
            if base is None:
                warnings.warn(f"{Path(info.path).name}: log starts at {lr_it[0]:g} and no base run found; skipped",
                              stacklevel=2)
                continue
            _, bit, bval, blr_it, blr = base
            start = lr_it[0]
            keep, keep_lr = bit < min(start, it[0]), blr_it < start
            it, values = np.concatenate([bit[keep], it]), np.concatenate([bval[keep], values])
            lr_it, lr = np.concatenate([blr_it[keep_lr], lr_it]), np.concatenate([blr[keep_lr], lr])
        curve = _lr_scheduling_curve(info, it, values, lr_it, lr)
        if curve is not None:
            out.append((info, curve))
    return out


def _find_base(info: RunInfo, start: float, raw):
    best = None
    for cand in raw:
        ci, cit = cand[0], cand[3]  # the lr log tells where a run starts and ends
        if ci.path == info.path or ci.model != info.model or ci.dataset != info.dataset:
            continue
        if not math.isclose(ci.lr, info.lr, rel_tol=1e-9) or ci.scheduler != "wsd":
            continue
        if cit[0] > 2 * max(ci.warmup, 1) or cit[-1] < start:
            continue
        # the base must still be in its stable phase at the branch point
        stable_end = ci.iterations * (1 - (ci.decay_fraction or 0.0))
        if stable_end + 1 < start:
            continue
        if best is None or cand[3][-1] > best[3][-1]:
            best = cand
    return best


def _lr_scheduling_curve(info: RunInfo, it, loss, lr_it, lr) -> TrainingCurve | None:
    horizon = int(max(it[-1], lr_it[-1])) + 1
    grid = np.arange(horizon, dtype=float)
    if lr_it.size < 2:
        return None
    sched = np.interp(grid, lr_it, lr)
    w = info.warmup
    if w > 0:
        ramp = grid < w
        frac = grid[ramp] / w
        lo = 0.01 * info.lr
        if info.scheduler.startswith("cos"):
            sched[ramp] = lo + (info.lr - lo) * 0.5 * (1 - np.cos(np.pi * frac))
        else:
            sched[ramp] = lo + (info.lr - lo) * frac
    sched = np.maximum(sched, 0.0)
    steps = it.astype(np.int64)
    keep = steps > w
    # drop duplicated iterations (joined logs)
    steps, loss = steps[keep], loss[keep]
    uniq = np.concatenate([[True], np.diff(steps) > 0])
    steps, loss = steps[uniq], loss[uniq]
    if steps.size < 10 or np.any(sched[w:] <= 0):
        # a decay to exactly 0 at the last step: keep the curve, floor the LR at 1e-3·peak there
        sched[w:] = np.maximum(sched[w:], 1e-3 * info.lr)
    name = _run_stem(Path(info.path))
    return TrainingCurve(name, sched, steps, loss, w, f"{info.path} (train_lr interpolated)")


@dataclass(frozen=True)
class LRSchedulingModel:
    """One model of ``lr-scheduling`` (architecture, batch and dataset) with its protocol split.

    ``fit``: the cosine runs (every peak LR and horizon); ``predict``: every WSD run (cooldowns joined to their
    base run; a WSD run without cooldown is the constant-LR base run). Run names are short and unique:
    ``cos_lr0.002_T7000_to0.1`` (cosine to 10% of the peak), ``wsd_lr0.001_T7000_cd0.2_linear``.
    """

    key: str
    fit: tuple[str, ...]
    predict: tuple[str, ...]
    curves: dict = field(repr=False)  # run name -> TrainingCurve
    infos: dict = field(repr=False)  # run name -> RunInfo


def lr_scheduling_run_name(info: RunInfo, curve: TrainingCurve) -> str:
    """Short run name from the config (see :class:`LRSchedulingModel`)."""
    if info.scheduler.startswith("cos"):
        final = float(curve.lr[curve.steps[-1]]) / info.lr
        return f"cos_lr{info.lr:g}_T{info.iterations}_to{round(final, 1):g}"
    if info.scheduler == "wsd":
        if not info.decay_fraction:
            return f"wsd_lr{info.lr:g}_T{info.iterations}_stable"
        return f"wsd_lr{info.lr:g}_T{info.iterations}_cd{info.decay_fraction:g}_{info.decay_shape}"
    return f"{info.scheduler}_lr{info.lr:g}_T{info.iterations}"


def lr_scheduling_models(root, *, folder: str | None = None, loss: str = "val") -> dict[str, LRSchedulingModel]:
    """Every model of ``lr-scheduling`` (key ``DATASET_L{layers}H{heads}E{embd}B{batch}x{acc}``) with its
    cosine (fit) and WSD (predict) runs; models lacking either kind are left out."""
    groups: dict[str, list] = {}
    for info, curve in load_lr_scheduling(root, folder=folder, loss=loss):
        groups.setdefault(f"{info.dataset}_{info.model}", []).append((info, curve))
    out = {}
    for key in sorted(groups):
        runs = sorted(groups[key], key=lambda r: (r[0].scheduler, r[0].lr, r[0].iterations, r[0].path))
        names = [lr_scheduling_run_name(i, c) for i, c in runs]
        seen: Counter = Counter()
        total = Counter(names)
        unique = []
        for n in names:  # two runs with the same name (a repeated configuration): suffix #1, #2
            seen[n] += 1
            unique.append(n if total[n] == 1 else f"{n}#{seen[n]}")
        curves, infos = {}, {}
        for n, (info, curve) in zip(unique, runs):
            curves[n] = TrainingCurve(n, curve.lr, curve.steps, curve.loss, curve.warmup, curve.source)
            infos[n] = info
        fit = tuple(n for n in unique if infos[n].scheduler.startswith("cos"))
        predict = tuple(n for n in unique if infos[n].scheduler == "wsd")
        if fit and predict:
            out[key] = LRSchedulingModel(key, fit, predict, curves, infos)
    return out


def select_lr_scheduling_model(models: dict[str, LRSchedulingModel], name: str) -> LRSchedulingModel:
    """The model whose key is ``name`` or, failing that, the only one whose key contains it."""
    if name in models:
        return models[name]
    hits = [k for k in models if name.lower() in k.lower()]
    if len(hits) == 1:
        return models[hits[0]]
    what = "matches several models" if hits else "matches no model"
    raise ValueError(f"lr-scheduling model {name!r} {what}; models: {', '.join(hits or models)}")


# ----------------------------------------------------------------------------------------------------------
# TensorBoard: a minimal reader of event files (TFRecord framing + the few protobuf fields of scalars)

_EVENT_GLOB = "*tfevents*"


def read_tensorboard(logdir, *, loss_tag: str = "train/loss", lr_tag: str | None = "train/lr",
                     schedule: str | None = None, warmup: int = 0, name: str | None = None) -> TrainingCurve:
    """A curve from a TensorBoard run folder (or one event file): the ``loss_tag`` scalar at its logged steps
    and the per-step schedule from the ``lr_tag`` scalar.

    The schedule: the ``lr_tag`` values when they cover every step 0 … K−1 (K = last loss step + 1); else the
    spec ``schedule`` when given; else the logged lr interpolated linearly between its steps, with a warning
    (before its first logged step: a linear ramp from 0 over ``warmup`` steps when ``warmup`` > 0, else held).
    Scalars are taken at their global step as logged. Several event files in one folder (a resumed run) are
    read in name order; a step logged twice keeps its last value.
    """
    path = Path(logdir)
    scalars = tensorboard_scalars(path)
    if loss_tag not in scalars:
        raise ValueError(f"{path}: no scalar tag {loss_tag!r}; tags: {', '.join(sorted(scalars)) or 'none'}")
    steps, loss = scalars[loss_tag]
    name = name or (path.name if path.is_dir() else path.parent.name)
    _check_horizon(steps[-1], f"{path}: {loss_tag}")
    if lr_tag is not None and lr_tag in scalars and schedule is None:
        _check_horizon(scalars[lr_tag][0][-1], f"{path}: {lr_tag}")
    horizon = int(steps[-1]) + 1
    if schedule is not None:
        from lrwb.numerics.schedules import parse_schedule

        lr = np.asarray(parse_schedule(schedule).values(horizon), dtype=float)
        how = f"schedule {schedule}"
    else:
        if lr_tag is None or lr_tag not in scalars:
            raise ValueError(f"{path}: no scalar tag {lr_tag!r} for the learning rate (pass schedule=SPEC); "
                             f"tags: {', '.join(sorted(scalars))}")
        lr_steps, lr_values = scalars[lr_tag]
        horizon = max(horizon, int(lr_steps[-1]) + 1)
        if lr_steps[0] == 0 and lr_steps.size == horizon:  # strictly increasing, so every step is there
            lr, how = lr_values.astype(float), f"per-step {lr_tag} scalar"
        else:
            warnings.warn(f"{name}: {lr_tag} is logged at {lr_steps.size} of {horizon} steps; interpolating "
                          "linearly between logged steps (pass schedule=SPEC for the exact schedule)", stacklevel=2)
            grid = np.arange(horizon)
            lr = np.interp(grid, lr_steps, lr_values)
            if warmup > 0 and lr_steps[0] > 0:
                ramp = grid < min(warmup, int(lr_steps[0]))
                lr[ramp] = lr_values[0] * grid[ramp] / min(warmup, int(lr_steps[0]))
            how = f"{lr_tag} scalar interpolated"
    return TrainingCurve(name, lr, steps, loss, int(warmup), f"{path} ({how})")


def tensorboard_scalars(path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """tag -> (steps, values) of every scalar in a run folder's event files (or in one event file), sorted
    by step. Scalars come as ``simple_value`` (``SummaryWriter.add_scalar`` of torch and TF1) or as a
    float/double scalar tensor (TF2 ``tf.summary.scalar``); other summaries are skipped."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob(_EVENT_GLOB) if p.is_file())
        if not files:
            raise FileNotFoundError(f"{path}: no TensorBoard event files ({_EVENT_GLOB})")
    elif path.is_file():
        files = [path]
    else:
        raise FileNotFoundError(f"TensorBoard log {path} not found")
    table: dict[str, dict[int, float]] = {}
    for f in files:
        for step, tag, value in _event_file_scalars(f):
            table.setdefault(tag, {})[step] = value
    out = {}
    for tag, by_step in table.items():
        steps = np.array(sorted(by_step), dtype=np.int64)
        out[tag] = (steps, np.array([by_step[s] for s in steps], dtype=float))
    return out


def _event_file_scalars(path: Path):
    """Yield (step, tag, value) from one event file. TFRecord framing: uint64 length, uint32 masked CRC-32C of
    the length, the record, uint32 masked CRC-32C of the record (little endian). The length CRC is checked
    (a misframed or corrupted file raises); a truncated last record (a writer still running) ends the file
    with a warning."""
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        if pos + 12 > len(data):
            warnings.warn(f"{path}: truncated record header at byte {pos}; stopped there", stacklevel=3)
            return
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if masked_crc32c(header) != length_crc:
            raise ValueError(f"{path}: corrupted TFRecord at byte {pos} (length checksum mismatch); "
                             "not a TensorBoard event file?")
        end = pos + 12 + length + 4
        if end > len(data):
            warnings.warn(f"{path}: truncated record at byte {pos}; stopped there", stacklevel=3)
            return
        yield from _event_scalars(data[pos + 12:pos + 12 + length])
        pos = end


def _event_scalars(event: bytes):
    """Scalars of one ``tensorflow.Event``: step (field 2) and summary (field 5) → values (field 1)."""
    step, summary = 0, None
    for number, wire, value in _proto_fields(event):
        if number == 2 and wire == 0:
            step = value - (1 << 64) if value >= 1 << 63 else value  # int64 two's complement
        elif number == 5 and wire == 2:
            summary = value
    if summary is None:
        return
    for number, wire, value in _proto_fields(summary):
        if number != 1 or wire != 2:
            continue
        tag, scalar = None, None
        for n, w, v in _proto_fields(value):  # Summary.Value: tag 1, simple_value 2, tensor 8
            if n == 1 and w == 2:
                tag = v.decode("utf-8", errors="replace")
            elif n == 2 and w == 5:
                scalar = struct.unpack("<f", v)[0]
            elif n == 8 and w == 2:
                scalar = _scalar_tensor(v)
        if tag is not None and scalar is not None:
            yield int(step), tag, float(scalar)


def _scalar_tensor(tensor: bytes) -> float | None:
    """The value of a float (dtype 1) or double (dtype 2) scalar ``TensorProto``, else None."""
    dtype, content, floats, doubles = 0, b"", b"", b""
    for n, w, v in _proto_fields(tensor):
        if n == 1 and w == 0:
            dtype = v
        elif n == 4 and w == 2:
            content = v
        elif n == 5:  # float_val: packed (wire 2) or one fixed32 (wire 5)
            floats += v
        elif n == 6:
            doubles += v
    if dtype == 1:
        raw = content or floats
        return struct.unpack("<f", raw[:4])[0] if len(raw) >= 4 else None
    if dtype == 2:
        raw = content or doubles
        return struct.unpack("<d", raw[:8])[0] if len(raw) >= 8 else None
    return None


def _proto_fields(buf: bytes):
    """Yield (field number, wire type, value) of a protobuf message: varints as int, fixed64/fixed32 and
    length-delimited fields as bytes."""
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"protobuf wire type {wire} (groups) is not used by event files; corrupted data?")
        if pos > n:
            raise ValueError("truncated protobuf field in a TensorBoard event")
        yield number, wire, value


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint in a TensorBoard event")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1  # Castagnoli polynomial, reflected
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C: rotate right by 15 and add 0xa282ead8 (mod 2³²).

    Public so that tests and tools can write valid TensorBoard event files.

    >>> hex(masked_crc32c(b""))
    '0xa282ead8'
    """
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
