"""PLRF Fig. 2 (Bordelon & Mori, ``plrf.md`` §4–5): optimal schedules vs tuned baselines in both phases.

Setup (``conventions.md`` defaults): a = 3.5, b ∈ {2 (easy, b ≤ a), 5 (hard, b > a)}, top-N model with
N = 1000 (no tail), σ = 0.5, B = 5, η_max = 1, horizons T = 100 … 1600 log-spaced (``quick``: 6 of them).
For each horizon: the optimal schedule η*_T (:func:`lrwb.numerics.control.lr.optimal_schedules`, warm-started across
horizons), the best constant LR and the best power law η0(1+t)^{−χ}, each tuned per horizon on the exact
dynamics. The final excess loss L_T ∼ T^{−ζ} is fitted by least squares in log-log,

    ζ_fit = −slope of log L_T against log T,

and compared with the theory's exponents from :func:`lrwb.theory.results.registry` (never retyped here):
``zeta_T_optimal_schedule`` = min((a−1)/a, (a−1)/b), ``zeta_T_optimal_constant`` = (a−1)/(a+b−1) and
``zeta_T_optimal_power_law`` (the same as the constant's). Verdict per row: |ζ_fit − ζ_theory| ≤ 0.05.

Outputs (``plrf_fig2``): ``plrf_fig2_exponents.csv`` (the table), ``plrf_fig2_final_losses.csv``,
``plrf_fig2_schedules.csv`` (every schedule and its loss curve) and ``plrf_fig2.png``/``.pdf`` (rows: phases;
columns: optimal profiles η*_T against t/T, loss curves at the longest horizon, final-loss scaling with the
theory slopes dashed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrwb.numerics.control import BaselineSchedule, OptimalSchedule, best_constant, best_power_law, optimal_schedules
from lrwb.numerics.dynamics.expected import expected_loss
from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim
from lrwb.numerics.conventions import DEFAULTS, EXPONENT_TOLERANCE
from lrwb.numerics.analysis.exponents import fit_loss_exponent
from lrwb.numerics.io import atomic_write, save_figure, write_csv
from lrwb.numerics.spectra import Spectrum, power_law_spectrum
from lrwb.theory.results import registry

__all__ = [
    "A",
    "PHASES",
    "FEATURES",
    "SIGMA",
    "BATCH",
    "ETA_MAX",
    "THEORY_NAMES",
    "PhaseRun",
    "ExponentRow",
    "Fig2Result",
    "fig2_horizons",
    "compute_phase",
    "exponent_rows",
    "plrf_fig2",
]

A = DEFAULTS.a
PHASES = {"easy": DEFAULTS.b, "hard": 5.0}  # the easy row is the defaults; the hard row b = 5
FEATURES = DEFAULTS.features
SIGMA = DEFAULTS.sigma
BATCH = DEFAULTS.batch
ETA_MAX = DEFAULTS.eta_max
#: schedule family → the registry result holding its loss exponent ζ_T.
THEORY_NAMES = {
    "optimal": "zeta_T_optimal_schedule",
    "constant": "zeta_T_optimal_constant",
    "power": "zeta_T_optimal_power_law",
}


@dataclass(frozen=True)
class PhaseRun:
    """All schedules of one phase, one entry per horizon (same order as ``horizons``)."""

    phase: str
    a: float
    b: float
    horizons: tuple[int, ...]
    optimal: tuple[OptimalSchedule, ...]
    constant: tuple[BaselineSchedule, ...]
    power: tuple[BaselineSchedule, ...]

    def final_losses(self, family: str) -> np.ndarray:
        """Final excess losses L_T of ``family`` (``optimal``, ``constant`` or ``power``) over the horizons."""
        if family not in THEORY_NAMES:
            raise ValueError(f"family = {family!r} must be one of {tuple(THEORY_NAMES)}")
        return np.array([s.final_loss for s in getattr(self, family)], dtype=float)


@dataclass(frozen=True)
class ExponentRow:
    """Derived vs fitted loss exponent ζ_T of one schedule family in one phase."""

    phase: str
    a: float
    b: float
    family: str
    theory_name: str
    derived: float
    fitted: float
    tolerance: float
    passed: bool


@dataclass(frozen=True)
class Fig2Result:
    """Result of :func:`plrf_fig2`: the exponent table, the runs behind it, the wall time and the files."""

    rows: tuple[ExponentRow, ...]
    runs: tuple[PhaseRun, ...]
    runtime_s: float
    files: tuple[str, ...]

    @property
    def claims(self) -> tuple[Claim, ...]:
        """One claim per (phase, schedule family): fitted ζ_T vs derived, ±0.05 (conventions.md)."""
        return tuple(Claim.exponent("plrf_fig2", f"ζ_T {r.family}, {r.phase} (a={r.a:g}, b={r.b:g})", r.derived,
                                    r.fitted, source="Bordelon & Mori, Fig. 2; plrf.md §4",
                                    note=f"registry: {r.theory_name}") for r in self.rows)

    def markdown(self) -> str:
        """The exponent table as Markdown."""
        lines = ["| phase | a | b | schedule | ζ theory | ζ fitted | |Δ| | tol | verdict |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r.phase} | {r.a:g} | {r.b:g} | {r.family} | {r.derived:.4f} | {r.fitted:.4f} | "
                         f"{abs(r.fitted - r.derived):.4f} | {r.tolerance:g} | {'pass' if r.passed else 'FAIL'} |")
        return "\n".join(lines)


def fig2_horizons(quick: bool = True, lo: int = 100, hi: int = 1600) -> tuple[int, ...]:
    """Log-spaced integer horizons from ``lo`` to ``hi``: 6 when ``quick``, else a quarter-octave ladder."""
    if not (isinstance(lo, (int, np.integer)) and isinstance(hi, (int, np.integer)) and 1 <= lo < hi):
        raise ValueError(f"horizons need integers 1 <= lo < hi, got lo = {lo!r}, hi = {hi!r}")
    count = 6 if quick else int(round(4 * np.log2(hi / lo))) + 1
    return tuple(int(t) for t in np.unique(np.round(np.geomspace(lo, hi, count)).astype(int)))


def compute_phase(phase: str, a: float, b: float, horizons, *, features: int = FEATURES, sigma: float = SIGMA,
                  batch: float = BATCH, eta_max: float = ETA_MAX) -> PhaseRun:
    """Optimal schedule (warm-started across horizons), best constant and best power law at each horizon."""
    horizons = tuple(int(t) for t in horizons)
    if len(horizons) < 2:
        raise ValueError(f"horizons = {horizons!r} must list at least two horizons to fit an exponent")
    spectrum = power_law_spectrum(a, b, features)
    kw = dict(sigma=sigma, batch=batch, eta_max=eta_max)
    optimal = tuple(optimal_schedules(spectrum, horizons, **kw))
    constant = tuple(best_constant(spectrum, t, **kw) for t in horizons)
    power = tuple(best_power_law(spectrum, t, **kw) for t in horizons)
    return PhaseRun(phase, float(a), float(b), horizons, optimal, constant, power)


def exponent_rows(run: PhaseRun, tolerance: float = EXPONENT_TOLERANCE) -> tuple[ExponentRow, ...]:
    """Fitted vs registry exponent for each family of ``run``."""
    results = registry()
    rows = []
    for family, name in THEORY_NAMES.items():
        derived = float(results[name].evaluate(a=run.a, b=run.b))
        fitted = fit_loss_exponent(run.horizons, run.final_losses(family))
        rows.append(ExponentRow(run.phase, run.a, run.b, family, name, derived, fitted, float(tolerance),
                                bool(abs(fitted - derived) <= tolerance)))
    return tuple(rows)


# ----------------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------------


def _loss_curve(spectrum: Spectrum, lr: np.ndarray) -> np.ndarray:
    return np.asarray(expected_loss(spectrum, lr, sigma=SIGMA, batch=BATCH, parts=False).loss, dtype=float)


def _write_tables(rows, runs, out: Path) -> list[Path]:
    paths = [out / "plrf_fig2_exponents.csv", out / "plrf_fig2_final_losses.csv", out / "plrf_fig2_schedules.csv"]
    with atomic_write(paths[0]) as h:
        h.write("phase,a,b,schedule,theory_name,zeta_theory,zeta_fitted,abs_diff,tolerance,passed\n")
        for r in rows:
            h.write(f"{r.phase},{r.a!r},{r.b!r},{r.family},{r.theory_name},{r.derived!r},{r.fitted!r},"
                    f"{abs(r.fitted - r.derived)!r},{r.tolerance!r},{r.passed}\n")
    # the spec column holds schedule specs with commas ("power:1.0,0.49"): the csv module quotes them
    write_csv(paths[1], ["phase", "a", "b", "steps", "schedule", "final_loss", "spec"],
              [(run.phase, run.a, run.b, t, family, base.final_loss, "optimal" if family == "optimal" else base.spec)
               for run in runs for i, t in enumerate(run.horizons)
               for family, base in (("optimal", run.optimal[i]), ("constant", run.constant[i]),
                                    ("power", run.power[i]))])
    with atomic_write(paths[2]) as h:
        h.write("phase,a,b,steps,schedule,step,lr,loss\n")
        for run in runs:
            spectrum = power_law_spectrum(run.a, run.b, FEATURES)
            for i, t in enumerate(run.horizons):
                curves = {"optimal": (run.optimal[i].lr, run.optimal[i].loss)}
                for family in ("constant", "power"):
                    lr = getattr(run, family)[i].lr
                    curves[family] = (lr, _loss_curve(spectrum, lr))
                for family, (lr, loss) in curves.items():
                    lr_ext = np.append(lr, np.nan)  # no step is taken from t = T
                    for step in range(t + 1):
                        lr_text = "" if step == t else repr(float(lr_ext[step]))
                        h.write(f"{run.phase},{run.a!r},{run.b!r},{t},{family},{step},{lr_text},"
                                f"{float(loss[step])!r}\n")
    return paths


def _plot(rows, runs, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"optimal": "C0", "constant": "C1", "power": "C2"}
    fig, axes = plt.subplots(len(runs), 3, figsize=(13.5, 3.8 * len(runs)), squeeze=False)
    for row_axes, run in zip(axes, runs):
        ax_prof, ax_curve, ax_scale = row_axes
        cmap = plt.get_cmap("viridis")
        for i, (t, opt) in enumerate(zip(run.horizons, run.optimal)):
            shade = cmap(i / max(len(run.horizons) - 1, 1))
            ax_prof.plot(np.arange(t) / t, opt.lr, color=shade, lw=1.2, label=f"T={t}")
        ax_prof.set_xlabel("t/T")
        ax_prof.set_ylabel("η*_T(t)")
        ax_prof.set_title(f"{run.phase}: a={run.a:g}, b={run.b:g} — optimal profiles")
        ax_prof.legend(fontsize=7)

        spectrum = power_law_spectrum(run.a, run.b, FEATURES)
        t = run.horizons[-1]
        steps = np.arange(t + 1)
        ax_curve.loglog(steps[1:], run.optimal[-1].loss[1:], color=colors["optimal"], label="optimal")
        for family in ("constant", "power"):
            base = getattr(run, family)[-1]
            params = ", ".join(f"{k}={v:.3g}" for k, v in base.parameters.items())
            ax_curve.loglog(steps[1:], _loss_curve(spectrum, base.lr)[1:], color=colors[family],
                            label=f"best {family} ({params})")
        ax_curve.set_xlabel("step t")
        ax_curve.set_ylabel("excess loss")
        ax_curve.set_title(f"loss curves, T={t}")
        ax_curve.legend(fontsize=7)

        horizons = np.asarray(run.horizons, dtype=float)
        for r in rows:
            if r.phase != run.phase:
                continue
            losses = run.final_losses(r.family)
            ax_scale.loglog(horizons, losses, "o", color=colors[r.family],
                            label=f"{r.family}: fit {r.fitted:.3f}, theory {r.derived:.3f}")
            # Theory line: slope −ζ_theory through the geometric mean of the data (prefactors are not derived).
            anchor = np.exp(np.mean(np.log(losses)) + r.derived * np.mean(np.log(horizons)))
            ax_scale.loglog(horizons, anchor * horizons ** (-r.derived), "--", color=colors[r.family], lw=1)
        ax_scale.set_xlabel("horizon T")
        ax_scale.set_ylabel("final excess loss L_T")
        ax_scale.set_title("final-loss scaling (dashed: theory slope)")
        ax_scale.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out / "plrf_fig2")


@experiment("plrf_fig2", title="Optimal schedules and their loss exponents in both phases",
            source="Bordelon & Mori, Fig. 2", budget_s=25)
def plrf_fig2(out_dir, quick: bool = True, *, horizons=None) -> Fig2Result:
    """Compute both phases, fit the exponents, write the CSVs and the figure; ``runtime_s`` counts the
    computation and the fits (not the file output)."""
    out = Path(out_dir)
    horizons = fig2_horizons(quick) if horizons is None else tuple(int(t) for t in horizons)
    start = time.perf_counter()
    runs = tuple(compute_phase(phase, A, b, horizons) for phase, b in PHASES.items())
    rows = tuple(row for run in runs for row in exponent_rows(run))
    runtime = time.perf_counter() - start
    files = _write_tables(rows, runs, out) + _plot(rows, runs, out)
    return Fig2Result(rows, runs, runtime, tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/plrf_fig2")
    result = plrf_fig2(target, quick="--full" not in sys.argv)
    print(result.markdown())
    print(f"runtime {result.runtime_s:.1f} s; files: {', '.join(result.files)}")
