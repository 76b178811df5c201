"""PLRF easy-phase collapse (Bordelon & Mori, ``plrf.md`` §4): η*_T(t) ≈ T^{b/a−1} f(t/T), f(x) ∝ (1 − x)^δ.

Setup (the authors' momentum/collapse notebook, ``plrf.md`` §6): top-N model, N = 500, a = 2.5, b = 1.2,
σ = 0.1, B = 4, 0 ≤ η ≤ η_max = 2 (above the stability bound ≈ 1.14 here; the solver treats a divergent trial
as +∞), horizons T = 100 … 5000. The notebook's convention: w* normalised so that Σ_k λ_k w*_k² = 1
(``conventions.md``, Defaults), i.e. c_k(0) = k^{b−a}/Σ_{j≤N} j^{−a}. Optimal schedules by
:func:`lrwb.numerics.control.lr.optimal_schedules` (warm-started across horizons). A control ladder at N = 2000 (same
everything else) shows which deviations are finite-N effects.

Measured, each against :func:`lrwb.theory.results.registry` (never retyped):

- ξ_peak: −slope of log max_t η*_T against log T (``xi_peak`` = 1 − b/a = 0.52). The peak sits at the end of
  the optimum's warmup (t/T ≈ 0.30 at T = 100 down to 0.05 at T = 10⁴): the warmup ends when the
  loss-proportional SGD noise falls to the label noise, at a roughly T-independent intrinsic time, so the peak
  rides up the collapse function f towards f(0) as T grows and its local slope converges slowly, as a power
  law (the peak position falls as T^{−0.35}). Two effects, two controls: the N = 500 model saturates
  (local slope 0.32 → 0.24 at T ≈ 3·10⁴), and the peak sits near the stability limit, whose kernel mass
  Σ_{k≤N} λ_k converges only as N^{−0.2} at b = 1.2. The claim is therefore measured on the large-N ladder
  (N = 4000, T = 100 … 10⁴ quick; N = 8000, T ≤ 4·10⁴ full), its local slopes extrapolated to T → ∞ with
  the stated model ξ_i = ξ_∞ + c·T̄^{−p} (:func:`lrwb.numerics.analysis.asymptotics.extrapolate`): measured 0.502 at
  N = 4000, T ≤ 2·10⁴ (local slopes 0.218 … 0.451), 0.460 at N = 2000 (its slopes flatten at 0.43 once
  λ_N F_T ≳ 0.05). The N = 500 fit (0.29) is shown in the note as the trend.
- ξ_mid: the same slope for η*_T(T/2), the collapse's scale away from the warmup and the end (±0.05).
- κ, the stationarity exponent: η*_t ∝ u_t^κ with u_t = Σ_{s≥t} η_s the remaining intrinsic time
  (``eta_opt_stationarity``: κ = 1 − 1/(2b)), fitted at the longest horizon over 1 ≤ u ≤ F_T/4 (u ≥ 1/λ_1 = 1:
  below it every mode is frozen and the law has no power-law regime; u ≤ F_T/4 keeps out the warmup), ±0.05.
- δ = κ/(1 − κ) from it, against ``delta_decay`` = 2b − 1 (du/dw = η ∝ u^κ with w = T − t gives η ∝ w^{κ/(1−κ)}),
  ±0.05: a sanity check, not a claim — it re-expresses the fitted κ against the re-expressed derived κ, so
  it adds no independent measurement (the conversion multiplies κ's error by 1/(1 − κ)² ≈ 5.8).
- δ_steps: the direct fit of log η against log(1 − t/T) over 0.5 ≤ t/T ≤ 0.9, per horizon (the spec's caveat:
  "fitted δ stays below 2b − 1", ≈ 1.2 at T = 5000): the last steps, where u < 1, bend the profile; their
  share of the window shrinks as F_T grows, so δ_steps(T) rises towards 2b − 1. Claimed as its T → ∞ limit
  under δ_steps(T) = δ_∞ + c·T^{−p} (:func:`lrwb.numerics.analysis.asymptotics.extrapolate_values`; values 0.76 … 1.22 at
  T = 100 … 5000, limit 1.355 against 1.4).
- ξ_mid on the large-N ladder as well (the same least-squares slope).

Outputs (``plrf_collapse``): ``plrf_collapse_schedules.csv`` (every η*_T), ``plrf_collapse_scaling.csv`` (per
horizon: peak, its position, η*(T/2), intrinsic time, δ_steps, κ), ``plrf_collapse_exponents.csv`` and
``plrf_collapse.png``/``.pdf`` (raw profiles; collapsed T^{1−b/a}η* against t/T with A(1−x)^{2b−1} dashed;
η* against u with slope κ dashed; peak and mid-training LR against T with slope −ξ dashed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from lrwb.numerics.analysis.asymptotics import extrapolate, extrapolate_values
from lrwb.numerics.control import OptimalSchedule, optimal_schedules
from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim, SanityCheck
from lrwb.numerics.conventions import EXPONENT_TOLERANCE
from lrwb.numerics.analysis.exponents import fit_scaling, remaining_intrinsic_time, stationarity_exponent
from lrwb.numerics.analysis.slopes import local_slopes, loglog_slope
from lrwb.numerics.io import save_figure, write_csv
from lrwb.numerics.spectra import Spectrum, custom_spectrum, power_law_spectrum
from lrwb.theory import params as P
from lrwb.theory.balance import log_monomial
from lrwb.theory.results import registry

__all__ = [
    "A",
    "B_EXPONENT",
    "FEATURES",
    "CONTROL_FEATURES",
    "CONTROL_FEATURES_FULL",
    "SIGMA",
    "BATCH",
    "ETA_MAX",
    "MID_FRACTION",
    "STEPS_WINDOW",
    "Ladder",
    "ExponentRow",
    "CollapseResult",
    "collapse_horizons",
    "control_horizons",
    "normalised_spectrum",
    "compute_ladder",
    "step_decay_exponent",
    "exponent_rows",
    "plrf_collapse",
]

# Not the project defaults: the authors' collapse notebook's problem (a, b, N, σ, B, η_max), reproduced as is.
A = 2.5
B_EXPONENT = 1.2
FEATURES = 500
#: the large-N ladder of the ξ_peak claim: same problem, 8× the model (16× in --full).
CONTROL_FEATURES = 4000
CONTROL_FEATURES_FULL = 8000
SIGMA = 0.1
BATCH = 4
ETA_MAX = 2.0
#: ξ_mid is measured at t = MID_FRACTION·T.
MID_FRACTION = 0.5
#: δ_steps is fitted over this window of t/T.
STEPS_WINDOW = (0.5, 0.9)


@dataclass(frozen=True)
class Ladder:
    """Optimal schedules of one model over a ladder of horizons."""

    features: int
    horizons: tuple[int, ...]
    schedules: tuple[OptimalSchedule, ...]

    def peaks(self) -> np.ndarray:
        """max_t η*_T per horizon."""
        return np.array([s.lr.max() for s in self.schedules])

    def peak_positions(self) -> np.ndarray:
        """argmax_t η*_T / T per horizon."""
        return np.array([np.argmax(s.lr) / t for s, t in zip(self.schedules, self.horizons)])

    def mids(self) -> np.ndarray:
        """η*_T at t = MID_FRACTION·T per horizon."""
        return np.array([s.lr[int(MID_FRACTION * t)] for s, t in zip(self.schedules, self.horizons)])

    def intrinsic_times(self) -> np.ndarray:
        """F_T = Σ_t η*_t per horizon."""
        return np.array([s.lr.sum() for s in self.schedules])


@dataclass(frozen=True)
class ExponentRow:
    """A fitted exponent against the registry value it tests."""

    quantity: str
    features: int
    theory_name: str
    derived: float
    fitted: float
    tolerance: float
    passed: bool
    claimed: bool
    note: str = ""


@dataclass(frozen=True)
class CollapseResult:
    """Result of :func:`plrf_collapse`."""

    ladder: Ladder
    control: Ladder | None
    rows: tuple[ExponentRow, ...]
    runtime_s: float
    files: tuple[str, ...]

    @property
    def claims(self) -> tuple[Claim, ...]:
        """Every row of :func:`exponent_rows` against the registry, ±0.05 (conventions.md; the extrapolated rows
        state their finite-size model in the note), except δ = κ/(1−κ): a sanity check (it re-expresses the
        fitted κ, so it passes or fails with κ)."""
        src = "Bordelon & Mori, collapse notebook; plrf.md §4"
        out = []
        for r in self.rows:
            if not r.claimed:
                continue
            name = f"{r.quantity} (a={A:g}, b={B_EXPONENT:g}, N={r.features})"
            note = f"registry: {r.theory_name}" + (f"; {r.note}" if r.note else "")
            if r.quantity.startswith("δ = κ/(1−κ)"):
                out.append(SanityCheck.within("plrf_collapse", name, r.derived, r.fitted, EXPONENT_TOLERANCE,
                                              source=src, note="δ is computed from the fitted κ and 2b − 1 = "
                                              "κ/(1−κ) from the derived κ: the same measurement as the κ claim; "
                                              + note))
            else:
                out.append(Claim.exponent("plrf_collapse", name, r.derived, r.fitted, source=src, note=note))
        return tuple(out)

    def markdown(self) -> str:
        """All fitted exponents as Markdown."""
        lines = ["| quantity | N | theory | fitted | |Δ| | tol | verdict | note |", "|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            verdict = ("pass" if r.passed else "FAIL") if r.claimed else "reported"
            lines.append(f"| {r.quantity} | {r.features} | {r.derived:.4f} | {r.fitted:.4f} | "
                         f"{abs(r.fitted - r.derived):.4f} | {r.tolerance:g} | {verdict} | {r.note} |")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
# Computation
# ----------------------------------------------------------------------------------------------------------


def collapse_horizons(quick: bool = True) -> tuple[int, ...]:
    """T = 100 … 5000 log-spaced: 7 horizons (quick) or 13."""
    count = 7 if quick else 13
    return tuple(int(t) for t in np.unique(np.round(np.geomspace(100, 5000, count)).astype(int)))


def control_horizons(quick: bool = True) -> tuple[int, ...]:
    """Horizons of the large-N ladder: T = 100 … 10⁴, 8 log-spaced (quick), or 100 … 4·10⁴, 11."""
    hi, count = (1e4, 8) if quick else (4e4, 11)
    return tuple(int(t) for t in np.unique(np.round(np.geomspace(100, hi, count)).astype(int)))


def normalised_spectrum(features: int, a: float = A, b: float = B_EXPONENT) -> Spectrum:
    """Top-N power law with the notebook's normalisation Σ_k λ_k c_k(0) = 1 (no tail)."""
    raw = power_law_spectrum(a, b, features)
    return custom_spectrum(raw.eigenvalues, raw.target / raw.initial_loss(),
                           label=f"top-{features} power law a={a:g}, b={b:g}, Σλw*² = 1")


def compute_ladder(features: int, horizons, *, sigma: float = SIGMA, batch: float = BATCH,
                   eta_max: float = ETA_MAX) -> Ladder:
    """Optimal schedules of the normalised N-feature model at every horizon (warm starts across horizons)."""
    horizons = tuple(sorted(int(t) for t in horizons))
    if len(horizons) < 2:
        raise ValueError(f"horizons = {horizons!r} must list at least two horizons to fit an exponent")
    schedules = optimal_schedules(normalised_spectrum(features), horizons, sigma=sigma, batch=batch,
                                  eta_max=eta_max)
    return Ladder(int(features), horizons, tuple(schedules))


def step_decay_exponent(lr, window=STEPS_WINDOW) -> float:
    """δ_steps: slope of log η_t against log(1 − x), x = (t + ½)/T, over window[0] ≤ x ≤ window[1]."""
    arr = np.asarray(lr, float)
    x = (np.arange(arr.size) + 0.5) / arr.size
    sel = (x >= window[0]) & (x <= window[1])
    if sel.sum() < 3:
        raise ValueError(f"window = {window!r} holds {int(sel.sum())} steps of {arr.size}: need >= 3")
    return loglog_slope(1.0 - x, arr, mask=sel)


def _registry_value(name: str, variable: sp.Symbol | None = None) -> float:
    """A registry result at (a, b): its value, or — for an expression X^e — the power e of ``variable``."""
    result = registry()[name]
    if variable is None:
        return float(result.evaluate(a=A, b=B_EXPONENT))
    result.evaluate(a=A, b=B_EXPONENT, **{str(variable): 2.0})  # checks the regime
    _, power, _ = log_monomial(result.expr, variable, ())
    return float(sp.N(power.subs({P.a: A, P.b: B_EXPONENT})))


def _row(quantity, features, name, derived, fitted, claimed=True, note=""):
    return ExponentRow(quantity, int(features), name, float(derived), float(fitted), EXPONENT_TOLERANCE,
                       bool(abs(fitted - derived) <= EXPONENT_TOLERANCE), claimed, note)


def exponent_rows(ladder: Ladder, control: Ladder | None = None) -> tuple[ExponentRow, ...]:
    """Every row is claimed: ξ_peak (extrapolated on the large-N ``control`` ladder when given, else on
    ``ladder``), ξ_mid, κ, δ from κ and δ_steps (extrapolated in T) for ``ladder``; ξ_mid for ``control``."""
    xi = _registry_value("xi_peak")
    kappa_theory = _registry_value("eta_opt_stationarity", P.u)
    delta = _registry_value("delta_decay")
    longest = ladder.schedules[-1].lr
    kappa = stationarity_exponent(longest)
    peaks, positions = ladder.peaks(), ladder.peak_positions()
    t = np.asarray(ladder.horizons, float)
    _, local = local_slopes(t, peaks)
    big = control if control is not None else ladder
    peak_limit = extrapolate(big.horizons, big.peaks(), model="power")
    steps_deltas = [step_decay_exponent(s.lr) for s in ladder.schedules]
    steps_limit = extrapolate_values(ladder.horizons, steps_deltas, model="power")
    rows = [
        _row("ξ_peak (peak LR ∼ T^−ξ), T → ∞", big.features, "xi_peak", xi, peak_limit.value,
             note=f"T = {big.horizons[0]}…{big.horizons[-1]}: {peak_limit.describe()}; peak at t/T = "
                  f"{big.peak_positions()[0]:.2f} → {big.peak_positions()[-1]:.2f}; trend at N = {ladder.features}: "
                  f"fit {fit_scaling(t, peaks):.3f}, local slopes {local[0]:.2f} → {local[-1]:.2f} (see docstring)"),
        _row("ξ_mid (η*(T/2) ∼ T^−ξ)", ladder.features, "xi_peak", xi, fit_scaling(t, ladder.mids())),
        _row("κ (η* ∝ u^κ, remaining intrinsic time u)", ladder.features, "eta_opt_stationarity", kappa_theory,
             kappa, note=f"T = {ladder.horizons[-1]}, 1 ≤ u ≤ F_T/4"),
        _row("δ = κ/(1−κ)", ladder.features, "delta_decay", delta, kappa / (1.0 - kappa),
             note=f"T = {ladder.horizons[-1]}"),
        _row("δ_steps (η* vs 1 − t/T, 0.5 ≤ t/T ≤ 0.9), T → ∞", ladder.features, "delta_decay", delta,
             steps_limit.value, note=f"per T = {ladder.horizons[0]}…{ladder.horizons[-1]}: {steps_limit.describe()} "
                                     "(the last steps, u < 1, bias each finite-T fit low)"),
    ]
    if control is not None:
        tc = np.asarray(control.horizons, float)
        rows.append(_row("ξ_mid (η*(T/2) ∼ T^−ξ)", control.features, "xi_peak", xi, fit_scaling(tc, control.mids()),
                         note=f"large-N ladder, T = {control.horizons[0]}…{control.horizons[-1]}"))
    return tuple(rows)


# ----------------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------------


def _write_tables(ladders, rows, out: Path) -> list[Path]:
    paths = [out / "plrf_collapse_schedules.csv", out / "plrf_collapse_scaling.csv",
             out / "plrf_collapse_exponents.csv"]
    schedules = []
    for ladder in ladders:
        for t, s in zip(ladder.horizons, ladder.schedules):
            u = remaining_intrinsic_time(s.lr)
            schedules += [(ladder.features, t, step, *((s.lr[step], u[step]) if step < t else (None, None)),
                           s.loss[step]) for step in range(t + 1)]  # no step is taken from T
    write_csv(paths[0], ["features", "steps", "step", "lr", "remaining_intrinsic_time", "loss"], schedules)
    scaling = []
    for ladder in ladders:
        for t, s, peak, pos, mid, f in zip(ladder.horizons, ladder.schedules, ladder.peaks(),
                                           ladder.peak_positions(), ladder.mids(), ladder.intrinsic_times()):
            try:
                kappa = stationarity_exponent(s.lr)
            except ValueError:  # short horizons: no 1 ≤ u ≤ F/4 window
                kappa = float("nan")
            scaling.append((ladder.features, t, peak, pos, mid, f, step_decay_exponent(s.lr), kappa, s.final_loss,
                            s.max_residual))
    write_csv(paths[1], ["features", "steps", "peak_lr", "peak_position", "mid_lr", "intrinsic_time", "delta_steps",
                         "kappa", "final_loss", "max_residual"], scaling)
    write_csv(paths[2], ["quantity", "features", "theory_name", "derived", "fitted", "abs_diff", "tolerance",
                         "claimed", "passed", "note"],
              [(r.quantity, r.features, r.theory_name, r.derived, r.fitted, abs(r.fitted - r.derived), r.tolerance,
                r.claimed, r.passed, r.note) for r in rows])
    return paths


def _plot(ladder: Ladder, control: Ladder | None, rows, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xi = next(r for r in rows if r.theory_name == "xi_peak").derived
    kappa_row = next(r for r in rows if r.theory_name == "eta_opt_stationarity")
    delta = next(r for r in rows if r.theory_name == "delta_decay").derived
    fig, axes = plt.subplots(2, 2, figsize=(11.5, 8.4))
    (ax_raw, ax_col), (ax_u, ax_t) = axes
    cmap = plt.get_cmap("viridis")
    n = len(ladder.horizons)
    for i, (t, s) in enumerate(zip(ladder.horizons, ladder.schedules)):
        color = cmap(i / max(n - 1, 1))
        x = (np.arange(t) + 0.5) / t
        ax_raw.plot(np.arange(t), s.lr, color=color, lw=1, label=f"T={t}")
        ax_col.plot(x, s.lr * t ** xi, color=color, lw=1, label=f"T={t}")
        u = remaining_intrinsic_time(s.lr)
        ax_u.loglog(u, s.lr, color=color, lw=1)
    ax_raw.set_xscale("log")
    ax_raw.set_xlabel("step t")
    ax_raw.set_ylabel("η*_T(t)")
    ax_raw.set_title(f"raw optimal schedules, a={A:g}, b={B_EXPONENT:g}, N={ladder.features}")
    ax_raw.legend(fontsize=7)
    # Theory: A (1 − x)^{2b−1}; the prefactor is not derived: anchored at the longest horizon's t = T/2.
    t_last = ladder.horizons[-1]
    anchor = ladder.mids()[-1] * t_last ** xi / (1.0 - MID_FRACTION) ** delta
    x = np.linspace(0, 1, 400)
    ax_col.plot(x, anchor * (1 - x) ** delta, "k--", lw=1.2, label=f"{anchor:.1f}(1−t/T)^{delta:g}")
    ax_col.set_xlabel("t/T")
    ax_col.set_ylabel(rf"$T^{{{xi:.2f}}}\,\eta^*_T(t)$")
    ax_col.set_title(r"collapsed: $T^{1-b/a}\,\eta^*_T$ against $t/T$ (dashed: theory shape)")
    ax_col.legend(fontsize=7)
    last = ladder.schedules[-1].lr
    u_last = remaining_intrinsic_time(last)
    sel = (u_last >= 1.0) & (u_last <= 0.25 * u_last[0])
    if sel.any():
        u0 = np.exp(np.mean(np.log(u_last[sel])))
        c = np.exp(np.mean(np.log(last[sel])))
        grid = np.geomspace(u_last[sel].min(), u_last[sel].max(), 50)
        ax_u.loglog(grid, c * (grid / u0) ** kappa_row.derived, "k--", lw=1.5,
                    label=f"theory u^{kappa_row.derived:.3f} (fit {kappa_row.fitted:.3f}, T={t_last})")
    ax_u.set_xlabel(r"remaining intrinsic time $u_t = \sum_{s\geq t} \eta_s$")
    ax_u.set_ylabel("η*_T(t)")
    ax_u.set_title(r"stationarity law $\eta^* \propto u^{1-1/(2b)}$")
    ax_u.legend(fontsize=7)
    series = [(ladder, "o", "")] + ([(control, "s", " (control)")] if control is not None else [])
    for lad, marker, suffix in series:
        t = np.asarray(lad.horizons, float)
        for values, color, label in ((lad.peaks(), "C0", "peak"), (lad.mids(), "C1", "η*(T/2)")):
            fitted = fit_scaling(t, values)
            ax_t.loglog(t, values, marker, color=color, mfc="none" if suffix else color,
                        label=f"{label}, N={lad.features}{suffix}: fit T^-{fitted:.3f}")
            anchor_t = np.exp(np.mean(np.log(values)) + xi * np.mean(np.log(t)))
            ax_t.loglog(t, anchor_t * t ** (-xi), "--", color=color, lw=0.8)
    ax_t.set_xlabel("horizon T")
    ax_t.set_ylabel("learning rate")
    ax_t.set_title(f"peak and mid-training LR (dashed: theory T^-{xi:.2f})")
    ax_t.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out / "plrf_collapse")


@experiment("plrf_collapse", title="Easy-phase collapse of the optimal schedule onto T^{b/a-1} f(t/T)",
            source="Bordelon & Mori, collapse notebook (a=2.5, b=1.2)", budget_s=40)
def plrf_collapse(out_dir, quick: bool = True, *, horizons=None, features: int = FEATURES,
                  control_horizons_override=None, control: bool = True,
                  control_features: int | None = None) -> CollapseResult:
    """The N = 500 ladder (and the large-N ladder unless ``control=False``), fitted exponents, CSVs and the
    figure. ``runtime_s`` counts the computation (not the file output)."""
    out = Path(out_dir)
    horizons = collapse_horizons(quick) if horizons is None else tuple(int(t) for t in horizons)
    start = time.perf_counter()
    ladder = compute_ladder(features, horizons)
    ctrl = None
    if control:
        ctrl_h = control_horizons(quick) if control_horizons_override is None else control_horizons_override
        n_ctrl = control_features or (CONTROL_FEATURES if quick else CONTROL_FEATURES_FULL)
        ctrl = compute_ladder(n_ctrl, ctrl_h)
    rows = exponent_rows(ladder, ctrl)
    runtime = time.perf_counter() - start
    ladders = [ladder] + ([ctrl] if ctrl is not None else [])
    files = _write_tables(ladders, rows, out) + _plot(ladder, ctrl, rows, out)
    return CollapseResult(ladder, ctrl, rows, runtime, tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/plrf_collapse")
    result = plrf_collapse(target, quick="--full" not in sys.argv)
    print(result.markdown())
    print(f"runtime {result.runtime_s:.1f} s; files: {', '.join(result.files)}")
