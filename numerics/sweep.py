"""The PLRF phase diagram over a grid of (a, b), one Dask task per grid point: the engine of ``lrwb sweep``
and of the ``plrf_phase_diagram`` experiment (it lives in numerics so that both layers above may use it).

Each grid point is one pure task, :func:`lrwb.numerics.analysis.phase_diagram.evaluate_point` (optimal schedules and best
constants on a horizon ladder). The tasks run on ``dask.distributed``: a :class:`~distributed.LocalCluster` of
worker processes with one thread each on this machine's cores by default, or any running cluster given by its
scheduler address (``--scheduler tcp://host:8786``) — the same code, the same cache. No scheduling of our own:
tasks are submitted (largest first, as priorities) and collected with ``as_completed``.

Caching and resume: every finished point is written at once (atomically) to ``OUT/points/`` as one JSON file
named by the point and its key — SHA-256 of (a, b), the settings and the source of the modules that compute it
(:func:`lrwb.numerics.analysis.phase_diagram.point_key`). A later run reuses every file whose key matches and whose content
is complete, so an interrupted sweep resumes where it stopped; a corrupt or stale file is recomputed. The
results are written by the client, so workers on other machines need no shared file system.

Outputs: ``OUT/phase_diagram.csv`` (one row per point and quantity: derived, fitted, residual, verdict, local
slopes and trend), ``OUT/phase_diagram.png``/``.pdf`` (derived vs fitted over the plane) and
``OUT/phase_diagram_residual.png``/``.pdf`` (fitted − derived, the ±0.05 band marked).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from lrwb.numerics.conventions import EXPONENT_TOLERANCE
from lrwb.numerics.io import atomic_write, save_figure, write_csv
from lrwb.numerics.analysis.phase_diagram import (QUANTITIES, RECORD_VERSION, THEORY_NAMES, GridPoint, SweepSettings,
                                    check_point, derived_exponents, estimated_cost, evaluate_point,
                                    fitted_exponents, point_key, trend)

__all__ = [
    "QUICK_A",
    "QUICK_B",
    "FULL_A",
    "FULL_B",
    "FULL_HORIZONS",
    "SchedulerUnreachable",
    "Row",
    "SweepRun",
    "quick_grid",
    "full_grid",
    "product_grid",
    "parse_values",
    "default_workers",
    "cache_path",
    "load_cached",
    "connect",
    "run_sweep",
    "table_rows",
    "write_table",
    "plot_phase_diagram",
]

#: The quick grid (42 points): a → 1 (1.25), both phases, the boundary a = b (six points), large b (8).
QUICK_A = (1.25, 1.5, 2.0, 2.5, 3.5, 5.0)
QUICK_B = (1.25, 1.5, 2.0, 2.5, 3.5, 5.0, 8.0)
#: The full grid (110 points) and its ladder to T = 32000.
FULL_A = (1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.5, 6.0)
FULL_B = (1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 5.0, 8.0, 12.0)
FULL_HORIZONS = (250, 500, 1000, 2000, 4000, 8000, 16000, 32000)

_LOG = logging.getLogger(__name__)


class SchedulerUnreachable(ValueError):
    """No Dask scheduler answers at the given address (or it has no workers) within the timeout."""


# ----------------------------------------------------------------------------------------------------------
# Grids
# ----------------------------------------------------------------------------------------------------------


def product_grid(a_values: Iterable[float], b_values: Iterable[float]) -> tuple[GridPoint, ...]:
    """Every (a, b) of a_values × b_values, validated (a > 1, b > 1), sorted, duplicates dropped."""
    a_values, b_values = list(a_values), list(b_values)
    if not a_values or not b_values:
        raise ValueError(f"empty grid: a values {a_values!r}, b values {b_values!r}; give at least one of each")
    return tuple(sorted({check_point(a, b) for a, b in itertools.product(a_values, b_values)}))


def quick_grid() -> tuple[GridPoint, ...]:
    """:data:`QUICK_A` × :data:`QUICK_B` (42 points; the CI sweep)."""
    return product_grid(QUICK_A, QUICK_B)


def full_grid() -> tuple[GridPoint, ...]:
    """:data:`FULL_A` × :data:`FULL_B` (110 points; run it with ``FULL_HORIZONS``)."""
    return product_grid(FULL_A, FULL_B)


def parse_values(text: str, name: str) -> tuple[float, ...]:
    """``"1.5,2,3"`` (a list) or ``"LO:HI:COUNT"`` (COUNT values, geometric in x − 1 so they crowd towards 1)."""
    text = text.strip()
    if not text:
        raise ValueError(f"--{name} is empty: give values like 1.5,2,3 or LO:HI:COUNT like 1.2:5:6")
    try:
        if ":" in text:
            lo, hi, count = text.split(":")
            lo, hi, count = float(lo), float(hi), int(count)
            if not (1 < lo < hi and count >= 2):
                raise ValueError(f"--{name} {text!r}: LO:HI:COUNT needs 1 < LO < HI and COUNT >= 2")
            return tuple(float(1 + v) for v in np.geomspace(lo - 1, hi - 1, count))
        return tuple(float(v) for v in text.split(","))
    except ValueError as err:
        if str(err).startswith(f"--{name}"):
            raise
        raise ValueError(f"--{name} {text!r} is not a list of numbers (1.5,2,3) or LO:HI:COUNT (1.2:5:6)") from None


def default_workers() -> int:
    """The cores this process may run on (the local cluster's worker count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------------------------------------
# Cache
# ----------------------------------------------------------------------------------------------------------

_LIST_FIELDS = ("optimal_final_loss", "optimal_mid_lr", "optimal_peak_lr", "anneal_start", "constant_lr",
                "constant_final_loss")


def cache_path(out_dir, point: GridPoint, key: str) -> Path:
    """``OUT/points/a{a}_b{b}_{key}.json``."""
    return Path(out_dir) / "points" / f"a{point.a:g}_b{point.b:g}_{key}.json"


def load_cached(path: Path, key: str, settings: SweepSettings) -> dict | None:
    """The cached record at ``path`` if it was written under ``key`` and is complete (right fields, lengths and
    finite numbers); ``None`` otherwise (missing, corrupt or stale: the point is recomputed)."""
    try:
        record = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as err:
        _LOG.warning("cache file %s unreadable (%s): recomputing", path, err)
        return None
    try:
        ok = (isinstance(record, dict) and record.get("key") == key
              and record.get("record_version") == RECORD_VERSION
              and record.get("horizons") == list(settings.horizons)
              and all(len(record[f]) == len(settings.horizons) and all(math.isfinite(v) for v in record[f])
                      for f in _LIST_FIELDS)
              and len(record["kappa_by_horizon"]) == len(settings.horizons)
              and math.isfinite(record["cpu_s"]) and math.isfinite(record["resolved_modes"]))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        _LOG.warning("cache file %s is incomplete or stale: recomputing", path)
        return None
    return record


# ----------------------------------------------------------------------------------------------------------
# Dask
# ----------------------------------------------------------------------------------------------------------


def connect(scheduler: str | None = None, *, workers: int | None = None, timeout: float = 5.0):
    """A ``distributed.Client``: to the scheduler at ``scheduler`` (failing within ``timeout`` seconds with a
    :class:`SchedulerUnreachable` naming the address), or to a new local cluster of ``workers`` processes with
    one thread each (default: :func:`default_workers`), numba/BLAS threads pinned to 1."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        address = str(scheduler)
        if not address.strip():
            raise SchedulerUnreachable("--scheduler is empty: give an address like tcp://host:8786")
        try:
            client = Client(address, timeout=f"{timeout}s")
        except (OSError, TimeoutError, ValueError) as err:
            raise SchedulerUnreachable(
                f"no Dask scheduler reachable at {address} within {timeout:g} s ({type(err).__name__}); start one "
                f"with `dask scheduler` and workers with `dask worker {address}`, or leave --scheduler out to use "
                "a local cluster") from None
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (TimeoutError, OSError):
            client.close()
            raise SchedulerUnreachable(f"the Dask scheduler at {address} has no workers (waited {timeout:g} s); "
                                       f"start some with `dask worker {address}`") from None
        return client
    n = default_workers() if workers is None else int(workers)
    if n < 1:
        raise ValueError(f"workers = {workers!r} must be >= 1")
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.update({"NUMBA_NUM_THREADS": 1, "OMP_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1, "MKL_NUM_THREADS": 1})
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
    return Client(cluster)


class _Progress:
    """tqdm on a terminal; one plain line per finished point when stderr is not a TTY; nothing when off."""

    def __init__(self, total: int, enabled: bool | None):
        self.total, self.done = total, 0
        tty = sys.stderr.isatty()
        self.mode = "off" if enabled is False or total == 0 else ("bar" if tty else "lines")
        self.bar = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="sweep", unit="point", file=sys.stderr)

    def update(self, text: str) -> None:
        self.done += 1
        if self.mode == "bar":
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        elif self.mode == "lines":
            print(f"sweep: {self.done}/{self.total} {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ----------------------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One (point, quantity) of the phase-diagram table."""

    point: GridPoint
    quantity: str
    theory_name: str
    derived: float
    fitted: float | None
    local: tuple[float, ...]
    trend: str
    settled: bool | None
    features: int
    tail_reach: float
    resolved_modes: float
    reason: str = ""

    @property
    def residual(self) -> float | None:
        return None if self.fitted is None else self.fitted - self.derived

    @property
    def passed(self) -> bool:
        return self.fitted is not None and abs(self.fitted - self.derived) <= EXPONENT_TOLERANCE

    def note(self) -> str:
        """Local slopes and their trend (the finite-T story of a miss), or why nothing was measured."""
        if self.fitted is None:
            return f"not measured: {self.reason}"
        tail = f"N = {self.features}, modes resolved (η_max T)^(1/b) = {self.resolved_modes:.1f}"
        if not self.local:
            return tail
        what = "κ(T) over the ladder" if self.quantity == "kappa" else "local slopes"
        state = "" if self.settled is None else f"; upper half {'settled' if self.settled else 'not settled'}"
        return f"{what} {self.local[0]:.3f} → {self.local[-1]:.3f} ({self.trend} the derived value{state}); {tail}"


@dataclass(frozen=True)
class SweepRun:
    """Result of :func:`run_sweep`.

    Attributes:
        points: the grid.
        settings: the ladder and model settings.
        records: point → raw record (for every point that finished, cached or computed).
        computed: the points computed in this run; cached: the points read from the cache.
        errors: point → error line for points whose task raised (nothing cached for them).
        rows: the table (:func:`table_rows`).
        wall_s: wall time from the first submission to the last result (0 when nothing was computed).
        cpu_s: sum of the computed tasks' CPU times.
        workers: worker threads of the cluster; scheduler: its address.
        startup_s: time to start or reach the cluster.
        files: the table and figures written.
    """

    points: tuple[GridPoint, ...]
    settings: SweepSettings
    records: dict
    computed: tuple[GridPoint, ...]
    cached: tuple[GridPoint, ...]
    errors: dict
    rows: tuple[Row, ...]
    wall_s: float
    cpu_s: float
    workers: int
    scheduler: str
    startup_s: float
    files: tuple[str, ...] = field(default=())

    @property
    def ideal_s(self) -> float:
        """Σ task CPU / workers: the wall time of a perfectly balanced, overhead-free run."""
        return self.cpu_s / max(self.workers, 1)

    @property
    def efficiency_ratio(self) -> float:
        """wall / (Σ task CPU / workers) (target ≤ 1.3 on 2 cores); NaN when nothing was computed."""
        return self.wall_s / self.ideal_s if self.cpu_s > 0 else float("nan")

    @property
    def task_wall_s(self) -> float:
        """Σ of the computed tasks' own wall times (each includes any time its worker waited for a busy core)."""
        return float(sum(self.records[p]["wall_s"] for p in self.computed))

    @property
    def scheduling_ratio(self) -> float:
        """wall / (Σ task wall / workers): Dask's overhead and load imbalance alone, insensitive to other
        processes sharing the cores (which stretch the task walls and the sweep's wall alike)."""
        return self.wall_s * max(self.workers, 1) / self.task_wall_s if self.task_wall_s > 0 else float("nan")

    def counts(self) -> dict[str, tuple[int, int, int]]:
        """quantity → (passed, failed, not measured)."""
        out = {}
        for q in QUANTITIES:
            rows = [r for r in self.rows if r.quantity == q]
            measured = [r for r in rows if r.fitted is not None]
            out[q] = (sum(r.passed for r in measured), sum(not r.passed for r in measured), len(rows) - len(measured))
        return out

    def worst(self, quantity: str, count: int = 3) -> list[Row]:
        """The ``count`` largest |residual| rows of ``quantity``."""
        rows = [r for r in self.rows if r.quantity == quantity and r.fitted is not None]
        return sorted(rows, key=lambda r: -abs(r.residual))[:count]

    def markdown(self) -> str:
        """Per-quantity pass/fail counts, the worst residuals and where, and the timings."""
        lines = [f"Grid: {len(self.points)} points (a ∈ {sorted({p.a for p in self.points})}, "
                 f"b ∈ {sorted({p.b for p in self.points})}); horizons T = {', '.join(map(str, self.settings.horizons))}; "
                 f"σ = {self.settings.sigma:g}, B = {self.settings.batch:g}, η_max = {self.settings.eta_max:g}, "
                 f"top-N with tail, λ_N η_max T_max ≤ {self.settings.reach:g}.", "",
                 "| quantity | registry | pass | fail | not measured | worst residuals (fitted − derived, at a, b) |",
                 "|---|---|---|---|---|---|"]
        for q, (passed, failed, missing) in self.counts().items():
            worst = "; ".join(f"{r.residual:+.3f} at ({r.point.a:g}, {r.point.b:g}) [{r.trend}]" for r in self.worst(q))
            lines.append(f"| {q} | `{THEORY_NAMES[q]}` | {passed} | {failed} | {missing} | {worst} |")
        if self.errors:
            lines += ["", "Errors: " + "; ".join(f"({p.a:g}, {p.b:g}): {e}" for p, e in self.errors.items())]
        if not self.computed:
            lines += ["", f"Computed 0 points, {len(self.cached)} from the cache (no cluster started)."]
        else:
            lines += ["", f"Computed {len(self.computed)} points, {len(self.cached)} from the cache; "
                          f"{self.workers} workers at {self.scheduler}. Wall {self.wall_s:.1f} s vs Σ CPU / workers "
                          f"{self.ideal_s:.1f} s (ratio {self.efficiency_ratio:.2f}; vs Σ task wall / workers: "
                          f"{self.scheduling_ratio:.2f}); cluster start {self.startup_s:.1f} s."]
        return "\n".join(lines)


def _task_key(point: GridPoint, key: str) -> str:
    return f"plrf-point-a{point.a:g}-b{point.b:g}-{key}"


def run_sweep(points: Iterable[GridPoint], settings: SweepSettings | None = None, out_dir="results/sweep", *,
              scheduler: str | None = None, workers: int | None = None, client=None, progress: bool | None = None,
              force: bool = False, connect_timeout: float = 5.0, figures: bool = True,
              task: Callable = evaluate_point) -> SweepRun:
    """Evaluate every point (cached ones are read, the rest run on Dask), write the table and the figures.

    Args:
        points: the grid (validated: a > 1, b > 1, at least one point).
        settings: :class:`~lrwb.numerics.analysis.phase_diagram.SweepSettings` (default: the quick ladder).
        out_dir: output folder (``points/`` cache, table, figures).
        scheduler: address of a running Dask scheduler; ``None``: a local cluster of ``workers`` processes.
        client: an existing ``distributed.Client`` to use instead (left open).
        progress: ``None``: a bar on a terminal, plain lines otherwise; ``False``: silent.
        force: recompute every point even if cached.
        connect_timeout: seconds to wait for the scheduler (and for its first worker).
        figures: write the figures (the table is always written).
        task: the point function (tests pass an instrumented :func:`evaluate_point`).
    """
    from distributed import as_completed

    points = tuple(check_point(p.a, p.b) if isinstance(p, GridPoint) else check_point(*p) for p in points)
    if not points:
        raise ValueError("empty grid: give at least one (a, b) point (a > 1, b > 1)")
    points = tuple(sorted(set(points)))
    settings = SweepSettings() if settings is None else settings
    out = Path(out_dir)
    keys = {p: point_key(p, settings) for p in points}
    records, cached = {}, []
    for p in points:
        record = None if force else load_cached(cache_path(out, p, keys[p]), keys[p], settings)
        if record is not None:
            records[p] = record
            cached.append(p)
    missing = sorted((p for p in points if p not in records), key=lambda p: -estimated_cost(p, settings))
    computed, errors = [], {}
    wall, startup, n_workers, address = 0.0, 0.0, 0, "(nothing to compute)"
    if missing:
        t0 = time.perf_counter()
        own = client is None
        if own:
            client = connect(scheduler, workers=workers, timeout=connect_timeout)
        startup = time.perf_counter() - t0
        bar = _Progress(len(missing), progress)
        try:
            info = client.scheduler_info()
            n_workers = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            address = info.get("address", str(scheduler))
            start = time.perf_counter()
            futures = {client.submit(task, p.a, p.b, settings, key=_task_key(p, keys[p]), pure=True,
                                     priority=estimated_cost(p, settings)): p for p in missing}
            for future in as_completed(futures):
                p = futures[future]
                try:
                    record = dict(future.result())
                except Exception as err:  # noqa: BLE001 - one failed point is reported, the rest still run
                    errors[p] = f"{type(err).__name__}: {err}"
                    bar.update(f"{p.label} ERROR")
                    continue
                record["key"] = keys[p]
                with atomic_write(cache_path(out, p, keys[p])) as handle:
                    json.dump(record, handle)
                records[p] = record
                computed.append(p)
                bar.update(f"{p.label} ({record['cpu_s']:.1f} s CPU)")
            wall = time.perf_counter() - start
        finally:
            bar.close()
            if own:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    with contextlib.suppress(Exception):
                        cluster.close()
    rows = table_rows(points, records, settings)
    files = [write_table(rows, out / "phase_diagram.csv")]
    if figures and rows:
        files += plot_phase_diagram(rows, out / "phase_diagram")
    return SweepRun(points, settings, records, tuple(computed), tuple(cached), errors, tuple(rows), wall,
                    float(sum(records[p]["cpu_s"] for p in computed)), n_workers, address, startup,
                    tuple(str(f) for f in files))


# ----------------------------------------------------------------------------------------------------------
# Table and figures
# ----------------------------------------------------------------------------------------------------------


def table_rows(points, records: dict, settings: SweepSettings) -> list[Row]:
    """One :class:`Row` per point with a record and quantity applicable there (registry values, fits)."""
    rows = []
    for p in points:
        record = records.get(p)
        if record is None:
            continue
        derived = derived_exponents(p.a, p.b)
        fitted = fitted_exponents(record, settings.eta_max)
        for q in QUANTITIES:
            if q not in derived or q not in fitted:
                continue
            m = fitted[q]
            settled = None
            if len(m.local) >= 4:
                upper = np.asarray(m.local[len(m.local) // 2:])
                settled = bool(np.ptp(upper) <= EXPONENT_TOLERANCE)
            rows.append(Row(p, q, THEORY_NAMES[q], derived[q], m.value, m.local,
                            trend(m.local, derived[q], EXPONENT_TOLERANCE), settled, int(record["features"]),
                            float(record["tail_reach"]), float(record["resolved_modes"]), m.reason))
    return rows


def write_table(rows, path) -> Path:
    """The phase-diagram CSV (atomic, :func:`lrwb.numerics.io.write_csv`): one line per (point, quantity)."""
    header = ("a", "b", "phase", "features", "tail_reach", "resolved_modes", "quantity", "theory_name", "derived",
              "fitted", "residual", "tolerance", "passed", "local_first", "local_last", "trend", "settled", "note")
    return write_csv(path, header, [
        (r.point.a, r.point.b, r.point.phase, r.features, r.tail_reach, r.resolved_modes, r.quantity, r.theory_name,
         r.derived, r.fitted, r.residual, EXPONENT_TOLERANCE, r.passed, r.local[0] if r.local else None,
         r.local[-1] if r.local else None, r.trend, r.settled, r.note())
        for r in rows])


def plot_phase_diagram(rows, stem) -> list[Path]:
    """Two figures over the (a, b) plane, one column per quantity: ``stem`` (derived on top, fitted below, same
    colour scale) and ``stem_residual`` (fitted − derived, clipped at ±3×0.05; failures ringed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = Path(stem)
    quantities = [q for q in QUANTITIES if any(r.quantity == q for r in rows)]
    fig, axes = plt.subplots(2, len(quantities), figsize=(3.6 * len(quantities), 6.6), squeeze=False)
    ncol = min(3, len(quantities))
    nrow = -(-len(quantities) // ncol)
    fig_r, axes_r = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.8 * nrow), squeeze=False)
    for extra in axes_r.flat[len(quantities):]:
        extra.set_visible(False)
    a_ticks = sorted({r.point.a for r in rows})
    b_ticks = sorted({r.point.b for r in rows})
    limit = 3 * EXPONENT_TOLERANCE
    for j, q in enumerate(quantities):
        rs = [r for r in rows if r.quantity == q]
        a = np.array([r.point.a for r in rs])
        b = np.array([r.point.b for r in rs])
        derived = np.array([r.derived for r in rs])
        fitted = np.array([np.nan if r.fitted is None else r.fitted for r in rs])
        finite = np.concatenate([derived, fitted[np.isfinite(fitted)]])
        vmin, vmax = float(np.min(finite)), float(np.max(finite))
        for ax, values, what in ((axes[0, j], derived, "derived"), (axes[1, j], fitted, "fitted")):
            ok = np.isfinite(values)
            sc = ax.scatter(a[ok], b[ok], c=values[ok], cmap="viridis", vmin=vmin, vmax=vmax, s=70)
            ax.scatter(a[~ok], b[~ok], marker="x", color="gray", s=40)
            fig.colorbar(sc, ax=ax, shrink=0.8)
            ax.set_title(f"{q}: {what}", fontsize=9)
        residual = fitted - derived
        ok = np.isfinite(residual)
        ax = axes_r.flat[j]
        sc = ax.scatter(a[ok], b[ok], c=np.clip(residual[ok], -limit, limit), cmap="RdBu_r", vmin=-limit,
                        vmax=limit, s=70)
        fail = ok & (np.abs(np.where(ok, residual, 0.0)) > EXPONENT_TOLERANCE)
        ax.scatter(a[fail], b[fail], s=150, facecolors="none", edgecolors="k", linewidths=1.0)
        ax.scatter(a[~ok], b[~ok], marker="x", color="gray", s=40)
        fig_r.colorbar(sc, ax=ax, shrink=0.8)
        ax.set_title(f"{q}: fitted − derived\n(ringed: |Δ| > {EXPONENT_TOLERANCE:g})", fontsize=9)
        for axis in (axes[0, j], axes[1, j], ax):
            lo = min(a.min(), b.min()) * 0.95
            hi = max(a.max(), b.max()) * 1.05
            axis.plot([lo, hi], [lo, hi], "k--", lw=0.7)  # the phase boundary a = b (easy below, hard above)
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_xticks(a_ticks, [f"{v:g}" for v in a_ticks], minor=False)
            axis.set_yticks(b_ticks, [f"{v:g}" for v in b_ticks], minor=False)
            axis.minorticks_off()
            axis.tick_params(labelsize=7)
            axis.set_xlabel("a (task)")
            axis.set_ylabel("b (spectrum)")
    fig.suptitle("PLRF phase diagram: derived (registry) vs fitted exponents; dashed: a = b (hard above)")
    fig.tight_layout()
    fig_r.tight_layout()
    return save_figure(fig, stem) + save_figure(fig_r, stem.with_name(stem.name + "_residual"))
