"""The PLRF exponents at one point of the (a, b) plane: what the sweep computes per grid point, and the fits.

At a point (a, b) (``plrf.md`` §4; easy b ≤ a, hard b > a) on a horizon ladder T_1 < … < T_n, one task
(:func:`evaluate_point`, pure: same inputs → same numbers) computes on the exact SGD dynamics

- the optimal schedule η*_T at every T (:func:`lrwb.numerics.control.lr.optimal_schedules`, warm-started across T):
  its final excess loss L*_T, η*_T(T/2), its peak, the anneal start t_s (last step with η ≥ level·η_max) and the
  stationarity exponent κ at the longest horizon (η*_t ∝ u_t^κ, u_t = Σ_{s≥t} η_s: fitted after the peak over
  1 ≤ u ≤ F_T/4 in the easy phase, inside the anneal over 1 ≤ u ≤ u_{t_s} in the hard phase);
- the best constant LR η_c(T) and its final loss (:func:`lrwb.numerics.control.baselines.best_constant`).

Model: top-N with its untrained tail (the modes beyond N act as label noise and add δ_N to the loss), with N
chosen so that the modes beyond N cannot move within the longest horizon, λ_N·η_max·T_n ≤ ``reach``:
N = ⌈(η_max T_n / reach)^{1/b}⌉ (clipped to [min_features, max_features]). Then the N-mode model with its tail
is the N = ∞ model up to O(reach) in the tail's error, so the exponents are the infinite-model ones — a fixed N
would saturate at small b (N = 500 at a = 1.5, b = 1.25 drops the local ζ slope from 0.36 to 0.12 by T = 8000).

The fits (:func:`fitted_exponents`, on the client, from the cached raw numbers), each = −slope of the
least-squares line in log-log over the whole ladder unless stated:

- ``zeta_opt``: L*_T ∼ T^{−ζ} against ``zeta_T_optimal_schedule`` (both phases);
- ``zeta_const``: the best constant's L_T ∼ T^{−ζ} against ``zeta_T_optimal_constant`` (both phases);
- ``xi_const``: η_c(T) ∼ T^{−ξ} against ``xi_const`` (both phases);
- ``xi_collapse``: η*_T(T/2) ∼ T^{−ξ}, the collapse's scale, against ``xi_peak`` = 1 − b/a (easy phase);
- ``kappa``: η*_t ∝ u_t^κ at the longest T (κ at every T for the trend) against the power of u in
  ``eta_opt_stationarity`` (both phases);
- ``anneal_length``: T − t_s ∼ T^{+p} (the slope itself) against the power of T in ``anneal_length_hard``
  (hard phase).

Every ladder fit also carries its local slopes (adjacent horizons), so a miss comes with its trend: whether the
local slope moves towards the derived value as T grows (finite-T effect) or not.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from importlib import util as _importlib_util

import numpy as np

from lrwb.numerics.conventions import DEFAULTS
from lrwb.numerics.analysis.exponents import (anneal_start, anneal_stationarity_exponent, fit_scaling, local_slopes,
                                stationarity_exponent)

__all__ = [
    "QUANTITIES",
    "THEORY_NAMES",
    "SweepSettings",
    "GridPoint",
    "check_point",
    "features_for",
    "evaluate_point",
    "derived_exponents",
    "fitted_exponents",
    "Measurement",
    "trend",
    "code_version",
    "point_key",
    "estimated_cost",
]

#: The measured quantities, in table order.
QUANTITIES = ("zeta_opt", "zeta_const", "xi_const", "xi_collapse", "kappa", "anneal_length")
#: quantity → the registry result it is compared with.
THEORY_NAMES = {
    "zeta_opt": "zeta_T_optimal_schedule",
    "zeta_const": "zeta_T_optimal_constant",
    "xi_const": "xi_const",
    "xi_collapse": "xi_peak",
    "kappa": "eta_opt_stationarity",
    "anneal_length": "anneal_length_hard",
}
#: Version of the raw record :func:`evaluate_point` returns (a cache written by another version is recomputed).
RECORD_VERSION = 2
#: Modules whose source determines the raw record (hashed into every cache key, with the source of
#: :func:`evaluate_point` and its helpers in this module — not the fits, which run on the client from the record).
# The code a point's numbers depend on: whole sub-packages (the engines are split into several modules, so a
# list of single modules went stale when they were split) plus the flat modules they use. Over-inclusive on
# purpose: an edit recomputes, never serves a stale point.
_CODE_PACKAGES = ("lrwb.numerics.analysis", "lrwb.numerics.control", "lrwb.numerics.dynamics")
_CODE_MODULES = ("lrwb.numerics.backends", "lrwb.numerics.checks", "lrwb.numerics.conventions",
                 "lrwb.numerics.spectra", "lrwb.numerics.stability", "lrwb.numerics.schedules")


@dataclass(frozen=True)
class SweepSettings:
    """Everything a grid point's numbers depend on besides (a, b).

    Attributes:
        horizons: the ladder T_1 < … < T_n (at least 3, each >= 10).
        sigma, batch, eta_max: label noise σ, batch B, LR cap η_max (``conventions.md`` defaults 0.5, 5, 1).
        reach: λ_N·η_max·T_n of the first mode outside the model (sets N, see :func:`features_for`).
        min_features, max_features: clip of N.
        level: t_s = last step with η* ≥ level·η_max (0.5: ``conventions.md``).
    """

    horizons: tuple[int, ...] = (250, 500, 1000, 2000, 4000, 8000)
    sigma: float = DEFAULTS.sigma
    batch: float = DEFAULTS.batch
    eta_max: float = DEFAULTS.eta_max
    reach: float = 0.1
    min_features: int = 64
    max_features: int = 16000
    level: float = 0.5

    def __post_init__(self):
        horizons = tuple(int(t) for t in self.horizons)
        if len(horizons) < 3 or any(t < 10 for t in horizons) or list(horizons) != sorted(set(horizons)):
            raise ValueError(f"horizons = {self.horizons!r} must be >= 3 distinct increasing integers >= 10 "
                             "(three to fit an exponent and see its trend)")
        object.__setattr__(self, "horizons", horizons)
        for name, lo in (("sigma", 0.0), ("eta_max", 0.0), ("reach", 0.0)):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > lo):
                raise ValueError(f"{name} = {value!r} must be finite and > {lo:g}")
        if not (math.isfinite(self.batch) and self.batch >= 1):
            raise ValueError(f"batch = {self.batch!r} must be finite and >= 1")
        if not (1 <= int(self.min_features) <= int(self.max_features)):
            raise ValueError(f"min_features = {self.min_features!r}, max_features = {self.max_features!r}: "
                             "need 1 <= min_features <= max_features")
        if not (0 < self.level <= 1):
            raise ValueError(f"level = {self.level!r} must lie in (0, 1]")

    def as_dict(self) -> dict:
        out = asdict(self)
        out["horizons"] = list(self.horizons)
        return out


@dataclass(frozen=True, order=True)
class GridPoint:
    """One point (a, b) of the plane."""

    a: float
    b: float

    @property
    def phase(self) -> str:
        """``easy`` (b ≤ a, the boundary a = b included, as the registry counts it) or ``hard``."""
        return "easy" if self.b <= self.a else "hard"

    @property
    def label(self) -> str:
        return f"a={self.a:g}, b={self.b:g}"


def check_point(a, b) -> GridPoint:
    """(a, b) validated: both finite and > 1 (the PLRF needs a summable task and spectrum)."""
    for name, value in (("a", a), ("b", b)):
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 1):
            raise ValueError(f"{name} = {value!r} is outside the PLRF plane: {name} must be finite and > 1")
    return GridPoint(float(a), float(b))


def features_for(b: float, settings: SweepSettings) -> int:
    """N = ⌈(η_max T_n / reach)^{1/b}⌉ clipped to [min_features, max_features]: λ_N η_max T_n ≤ reach."""
    n = math.ceil((settings.eta_max * settings.horizons[-1] / settings.reach) ** (1.0 / b))
    return int(min(max(n, settings.min_features), settings.max_features))


def estimated_cost(point: GridPoint, settings: SweepSettings) -> float:
    """A cost proxy for ordering tasks (largest first): N·Σ T (the dynamics are O(N T) per evaluation)."""
    return float(features_for(point.b, settings) * sum(settings.horizons))


def _single_threaded() -> None:
    """One thread per task: numba and BLAS threads only add contention to O(N T) sweeps on a busy worker."""
    try:
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):  # pragma: no cover - numba missing, or a launch limit below 1
        pass


def evaluate_point(a: float, b: float, settings: SweepSettings) -> dict:
    """The raw numbers of one grid point (plain JSON types; see the module docstring).

    Pure and idempotent: the same (a, b, settings) and code give the same numbers, so the result can be cached
    and a task rerun anywhere. ``cpu_s`` is the CPU time of the worker process while the task ran (process
    time: long compiled calls run in a helper thread, :func:`lrwb.numerics.resources.interruptible`, so the task
    thread's own time would miss them; a worker runs one task at a time), ``wall_s`` its wall time.
    """
    from lrwb.numerics.control import best_constant, optimal_schedules
    from lrwb.numerics.spectra import power_law_spectrum

    point = check_point(a, b)
    _single_threaded()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    features = features_for(point.b, settings)
    spectrum = power_law_spectrum(point.a, point.b, features, tail=True)
    kw = dict(sigma=settings.sigma, batch=settings.batch, eta_max=settings.eta_max)
    optima = optimal_schedules(spectrum, settings.horizons, **kw)
    constants = [best_constant(spectrum, t, **kw) for t in settings.horizons]
    kappas, kappa_error = [], ""
    for s in optima:
        try:
            if point.phase == "easy":
                kappas.append(stationarity_exponent(s.lr))
            else:
                kappas.append(anneal_stationarity_exponent(s.lr, settings.eta_max, settings.level))
            kappa_error = ""
        except ValueError as err:  # horizon too short for a u ≥ 1 window: recorded, reported as not measured
            kappas.append(None)
            kappa_error = str(err)
    return {
        "record_version": RECORD_VERSION,
        "a": point.a,
        "b": point.b,
        "phase": point.phase,
        "features": features,
        "tail_reach": float(spectrum.eigenvalues[-1] * settings.eta_max * settings.horizons[-1]),
        # modes the longest horizon can learn, k with λ_k η_max T_n ≥ 1: few at large b (a staircase, not a law)
        "resolved_modes": float((settings.eta_max * settings.horizons[-1]) ** (1.0 / point.b)),
        "horizons": list(settings.horizons),
        "optimal_final_loss": [float(s.final_loss) for s in optima],
        "optimal_mid_lr": [float(s.lr[t // 2]) for s, t in zip(optima, settings.horizons)],
        "optimal_peak_lr": [float(s.lr.max()) for s in optima],
        "optimal_peak_position": [float(np.argmax(s.lr) / t) for s, t in zip(optima, settings.horizons)],
        "anneal_start": [anneal_start(s.lr, settings.eta_max, settings.level) for s in optima],
        "optimal_max_residual": [float(s.max_residual) for s in optima],
        "constant_lr": [float(c.parameters["eta"]) for c in constants],
        "constant_final_loss": [float(c.final_loss) for c in constants],
        "kappa_by_horizon": kappas,
        "kappa": kappas[-1],
        "kappa_error": kappa_error,
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.perf_counter() - wall0,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "finished_at": time.time(),
    }


# ----------------------------------------------------------------------------------------------------------
# Derived (registry) and fitted exponents
# ----------------------------------------------------------------------------------------------------------


def _power_of(name: str, variable, a: float, b: float) -> float:
    """The power of ``variable`` in the registry result ``name`` at (a, b) (its regime checked first)."""
    import sympy as sp

    from lrwb.theory import params as P
    from lrwb.theory.balance import log_monomial
    from lrwb.theory.results import registry

    result = registry()[name]
    result.evaluate(a=a, b=b, **{str(variable): 2.0})  # raises NotApplicable outside the result's regime
    _, power, _ = log_monomial(result.expr, variable, ())
    return float(sp.N(power.subs({P.a: a, P.b: b})))


def derived_exponents(a: float, b: float) -> dict[str, float]:
    """Each quantity's derived value at (a, b) from :func:`lrwb.theory.results.registry` (never retyped); the
    quantities outside their regime (``xi_collapse`` in the hard phase, ``anneal_length`` in the easy) are
    left out."""
    from lrwb.theory import params as P
    from lrwb.theory.results import NotApplicable, registry

    reg = registry()
    out = {}
    for quantity in ("zeta_opt", "zeta_const", "xi_const", "xi_collapse"):
        try:
            out[quantity] = float(reg[THEORY_NAMES[quantity]].evaluate(a=a, b=b))
        except NotApplicable:
            pass
    out["kappa"] = _power_of(THEORY_NAMES["kappa"], P.u, a, b)
    try:
        out["anneal_length"] = _power_of(THEORY_NAMES["anneal_length"], P.T, a, b)
    except NotApplicable:
        pass
    return out


@dataclass(frozen=True)
class Measurement:
    """One fitted quantity at one point.

    Attributes:
        value: the fitted exponent (None when it could not be measured; ``reason`` says why).
        local: local slopes between adjacent horizons (same sign convention as ``value``); for κ, κ fitted at
            each horizon where it is measurable (``value`` is the longest horizon's).
        reason: why ``value`` is None, else "".
    """

    value: float | None
    local: tuple[float, ...] = ()
    reason: str = ""


def _ladder_fit(horizons, values, sign: float = -1.0) -> Measurement:
    """sign·slope of log values against log T (−: a decay exponent, +: a growth exponent), with local slopes."""
    values = np.asarray(values, float)
    if not np.all(np.isfinite(values) & (values > 0)):
        return Measurement(None, reason=f"non-positive values on the ladder: {values.tolist()}")
    slope = -fit_scaling(horizons, values)
    return Measurement(sign * slope, tuple(float(sign * s) for s in local_slopes(horizons, values)))


def _capped_fit(horizons, values, eta_max: float, what: str) -> Measurement:
    """A learning-rate exponent, unless the LR sits at the cap η_max at every horizon: then the box, not the
    dynamics, sets it (its "exponent" 0 holds by construction) and nothing is measured."""
    if np.all(np.asarray(values, float) >= (1 - 1e-9) * eta_max):
        return Measurement(None, reason=f"{what} = η_max = {eta_max:g} at every horizon: pinned by the box "
                                        "0 ≤ η ≤ η_max, so its exponent 0 holds by construction (not a measurement)")
    return _ladder_fit(horizons, values)


def fitted_exponents(record: dict, eta_max: float = DEFAULTS.eta_max) -> dict[str, Measurement]:
    """Each applicable quantity's fitted exponent from a raw record of :func:`evaluate_point` (``eta_max``: the
    settings' cap, to recognise a learning rate pinned at it)."""
    t = np.asarray(record["horizons"], float)
    out = {
        "zeta_opt": _ladder_fit(t, record["optimal_final_loss"]),
        "zeta_const": _ladder_fit(t, record["constant_final_loss"]),
        "xi_const": _capped_fit(t, record["constant_lr"], eta_max, "the best constant LR"),
    }
    if record["phase"] == "easy":
        out["xi_collapse"] = _capped_fit(t, record["optimal_mid_lr"], eta_max, "η*_T(T/2)")
    else:
        starts = np.asarray(record["anneal_start"], float)
        if np.any(starts < 0):
            out["anneal_length"] = Measurement(None, reason="η* never reaches level·η_max at some horizon "
                                                            "(no plateau, so no anneal start)")
        else:
            out["anneal_length"] = _ladder_fit(t, t - starts, sign=+1.0)
    kappa = record.get("kappa")
    by_horizon = tuple(float(k) for k in record.get("kappa_by_horizon", ()) if k is not None)
    out["kappa"] = (Measurement(float(kappa), by_horizon) if kappa is not None
                    else Measurement(None, reason=record.get("kappa_error") or "not measured"))
    return out


def trend(local: tuple[float, ...], derived: float, tolerance: float) -> str:
    """How the local slopes move relative to the derived value as T grows: ``towards``/``away`` (the distance
    of the last local slope differs from the first's by more than tolerance/5) or ``flat``."""
    if len(local) < 2:
        return ""
    first, last = abs(local[0] - derived), abs(local[-1] - derived)
    if last < first - tolerance / 5:
        return "towards"
    if last > first + tolerance / 5:
        return "away"
    return "flat"


# ----------------------------------------------------------------------------------------------------------
# Cache keys
# ----------------------------------------------------------------------------------------------------------


def code_version() -> str:
    """SHA-256 (16 hex digits) of the code that determines a raw record: :func:`evaluate_point` and its helpers
    here, and the files of ``_CODE_PACKAGES`` and ``_CODE_MODULES``."""
    import inspect

    digest = hashlib.sha256()
    for obj in (SweepSettings, GridPoint, check_point, features_for, _single_threaded, evaluate_point):
        digest.update(inspect.getsource(obj).encode())
    for label, path in code_files():
        digest.update(label.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def code_files() -> list[tuple[str, Path]]:
    """(label, file) of every module :func:`code_version` hashes, sorted."""
    files = []
    for name in _CODE_PACKAGES + _CODE_MODULES:
        spec = _importlib_util.find_spec(name)
        if spec is None or spec.origin is None:  # pragma: no cover - a module of this package is missing
            raise ValueError(f"module {name} not found: the package is incomplete")
        origin = Path(spec.origin)
        if name in _CODE_PACKAGES:
            files += [(f"{name}:{f.relative_to(origin.parent).as_posix()}", f) for f in origin.parent.rglob("*.py")]
        else:
            files.append((name, origin))
    return sorted(files)


def point_key(point: GridPoint, settings: SweepSettings, version: str | None = None) -> str:
    """The cache key of a grid point: SHA-256 (16 hex digits) of (a, b), the settings and the code version."""
    payload = json.dumps({"a": point.a, "b": point.b, "settings": settings.as_dict(),
                          "code": code_version() if version is None else version,
                          "record_version": RECORD_VERSION}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
