"""PLRF Fig. 4 (Bordelon & Mori, ``plrf.md`` §4, §6): compute-optimal loss L*_C against compute C = N·T.

Setup (the paper's Fig. 4, ``conventions.md``, Models): top-N model **with its tail** — the target power
outside the model, δ_N = Σ_{k>N} k^{−a}, acts as extra label noise (σ² → σ² + δ_N in the SGD noise term) and
is added to the excess loss (:func:`lrwb.numerics.spectra.power_law_spectrum` with ``tail=True``); σ = 0.5, B = 5,
η_max = 1; easy phase (a, b) = (2, 1.5), hard phase (1.5, 2). The authors' *script* convention (no
normalisation of w*: c_k(0) = k^{b−a}).

For every (N, T) the schedule is the **optimal** one, η*_{N,T} (:func:`lrwb.numerics.control.lr.optimal_schedule`),
warm-started from the same N's optimum at the previous horizon carried over in t/T (as
:func:`lrwb.numerics.control.lr.optimal_schedules` does). Not the best constant: the registry's compute-optimal
exponents are derived for the optimal schedule (the constant LR has its own, smaller exponent,
``compute_optimal_loss_constant_lr`` = (a−1)/(a+b)), so a constant would test a different claim.

IsoFLOP frontier (:func:`isoflop_frontier`). Compute budgets C_j are log-spaced, model sizes N_i lie on a
geometric grid, and T = round(C_j/N_i). At each budget only the model sizes around the minimum are solved:
the bracket starts at the grid size closest to the previous budget's N* (the frontier moves by less than one
grid step per budget) and grows towards the smaller loss until the minimum over N is interior, plus
``margin`` extra sizes on each side (for the per-N curves of the figure). This skips the far-from-optimal
corners (small N at large T), which are expensive (N·T large) and useless for the envelope. The lower
envelope at C_j is refined by a parabola through (log N, log L) at the grid minimum and its two neighbours:

    N*(C_j) = exp(argmin of the parabola),   L*(C_j) = exp(its minimum).

Fitted exponents (least squares in log-log over the budgets) against the registry
(:func:`lrwb.theory.results.registry`): ``compute_optimal_loss_{easy,hard}`` (L* ∝ C^{−(a−1)/(a+1)} easy,
C^{−(a−1)/(b+1)} hard) and ``compute_optimal_features_{easy,hard}`` (N* ∝ C^{1/(a+1)}, C^{1/(b+1)}), read off
the registry's expressions as the power of C (:func:`derived_exponent`). Tolerance ±0.05 (the pinned
tolerance for fitted loss exponents, ``conventions.md``); the N* fit is coarser (a parabola vertex on a grid
of ratio ``grid_ratio``), see :data:`FEATURES_TOLERANCE`.

Random-feature check (:func:`random_feature_check`): the same iso-FLOP search at two budgets for a Gaussian
random projection F (N × D, F_ij ~ N(0, 1/N), D = ``RF_INPUT_RATIO``·N input modes,
:func:`lrwb.numerics.spectra.random_feature_spectrum`); the input modes beyond D add ζ(a, D+1) to its tail, so both
models see the same infinite target. The projection mixes modes: its approximation error is a constant
factor above the top-N tail (≈ 4× easy, ≈ 1.35× hard, flat in N), so its L* is larger (≈ 2.0–2.4× easy,
1.2–1.3× hard) at a larger N* (≈ 2.2–3× easy, 1.3–1.5× hard). Only the exponent is universal, so that is what
is checked: the two-point L*_RF exponent against the registry's, ±``RF_EXPONENT_TOLERANCE``; the constant
ratios are reported.

Outputs (``plrf_fig4``): ``plrf_fig4_grid.csv`` (every solved (N, T)), ``plrf_fig4_frontier.csv`` (N*, L*
per budget), ``plrf_fig4_exponents.csv``, ``plrf_fig4_random_features.csv`` and ``plrf_fig4.png``/``.pdf``
(per phase: L vs C for each N, the envelope, the theory slope dashed; N* vs C with its theory slope dashed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp
from scipy import special

from lrwb.numerics.control import optimal_schedule, rescale_schedule
from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim
from lrwb.numerics.conventions import DEFAULTS, EXPONENT_TOLERANCE
from lrwb.numerics.analysis.slopes import loglog_slope
from lrwb.numerics.io import save_figure, write_csv
from lrwb.numerics.spectra import Spectrum, custom_spectrum, power_law_spectrum, random_feature_spectrum
from lrwb.theory import params as P
from lrwb.theory.balance import log_monomial
from lrwb.theory.results import registry

__all__ = [
    "PHASES",
    "SIGMA",
    "BATCH",
    "ETA_MAX",
    "MIN_STEPS",
    "LOSS_TOLERANCE",
    "FEATURES_TOLERANCE",
    "RF_INPUT_RATIO",
    "RF_EXPONENT_TOLERANCE",
    "THEORY_NAMES",
    "GridPoint",
    "Frontier",
    "ExponentRow",
    "RandomFeatureCheck",
    "Fig4Result",
    "fig4_setup",
    "default_rf_budgets",
    "derived_exponent",
    "random_feature_spectrum_with_tail",
    "envelope_minimum",
    "isoflop_frontier",
    "fit_exponent",
    "exponent_rows",
    "random_feature_check",
    "plrf_fig4",
]

#: phase → (a, b): easy b < a, hard b > a (the paper's Fig. 4).
PHASES = {"easy": (2.0, 1.5), "hard": (1.5, 2.0)}
SIGMA = DEFAULTS.sigma
BATCH = DEFAULTS.batch
ETA_MAX = DEFAULTS.eta_max
#: shortest horizon solved: below ~10 steps "T" is no longer a training run and the envelope there is noise.
MIN_STEPS = 10
#: conventions.md (Tolerances): fitted loss exponents vs derived ±0.05.
LOSS_TOLERANCE = EXPONENT_TOLERANCE
#: N* exponent: the same ±0.05. Its fit is noisier than L*'s (L* is flat in N at the minimum, so N* moves with
#: small changes of the loss); measured deviations are ≤ 0.03 on the quick ladder.
FEATURES_TOLERANCE = EXPONENT_TOLERANCE
#: random projection: D = RF_INPUT_RATIO·N input modes (the rest of the target joins the tail exactly).
RF_INPUT_RATIO = 8
#: random features: two-point L* exponent vs derived, the same ±0.05. Its spread over projection seeds is
#: ≈ ±0.02 (seeds 0, 1: 0.356, 0.320 easy; 0.189, 0.186 hard, C = 10^4 → 10^5.5; seed 0, C = 10^4 → 10^6:
#: 0.309 easy, 0.175 hard).
RF_EXPONENT_TOLERANCE = EXPONENT_TOLERANCE
#: phase → (registry name of the L* exponent, of the N* exponent).
THEORY_NAMES = {
    "easy": ("compute_optimal_loss_easy", "compute_optimal_features_easy"),
    "hard": ("compute_optimal_loss_hard", "compute_optimal_features_hard"),
}


# ----------------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridPoint:
    """One solved (N, T): the optimal schedule's final excess loss (tail included) and its certificate."""

    features: int
    steps: int
    compute: float
    final_loss: float
    peak_lr: float
    max_residual: float


@dataclass(frozen=True)
class Frontier:
    """The iso-FLOP frontier of one phase.

    Attributes:
        phase, a, b: the problem.
        computes: the budgets C_j (nominal; each point's own N·T differs by the rounding of T).
        features_grid: the model-size grid N_i.
        points: every solved (N, T), in solving order.
        features_opt, loss_opt: N*(C_j), L*(C_j) from the parabola refinement (NaN where the minimum over the
            solved sizes is not interior).
    """

    phase: str
    a: float
    b: float
    computes: np.ndarray
    features_grid: tuple[int, ...]
    points: tuple[GridPoint, ...]
    features_opt: np.ndarray
    loss_opt: np.ndarray

    def column(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(N, L) of the points solved at budget C_j, sorted by N."""
        sel = [p for p in self.points if np.isclose(p.compute, self.computes[j])]
        sel.sort(key=lambda p: p.features)
        return np.array([p.features for p in sel], float), np.array([p.final_loss for p in sel], float)


@dataclass(frozen=True)
class ExponentRow:
    """Derived vs fitted exponent of L* or N* against C in one phase."""

    phase: str
    a: float
    b: float
    quantity: str
    theory_name: str
    derived: float
    fitted: float
    tolerance: float
    passed: bool


@dataclass(frozen=True)
class RandomFeatureCheck:
    """The iso-FLOP frontier of a Gaussian random projection at two budgets, next to the top-N model's.

    Attributes:
        frontier: the random-feature frontier (its ``computes`` are the two budgets).
        loss_opt_top, features_opt_top: the top-N L*, N* at the same budgets.
        derived: the registry's L* decay rate; fitted: −(two-point slope of log L*_RF against log C).
    """

    frontier: Frontier
    input_dim_ratio: int
    seed: int
    loss_opt_top: np.ndarray
    features_opt_top: np.ndarray
    theory_name: str
    derived: float
    fitted: float
    tolerance: float
    passed: bool

    @property
    def loss_ratio(self) -> np.ndarray:
        """L*_RF / L*_top per budget (a constant when both models share the exponent)."""
        return self.frontier.loss_opt / self.loss_opt_top


@dataclass(frozen=True)
class Fig4Result:
    """Result of :func:`plrf_fig4`."""

    rows: tuple[ExponentRow, ...]
    frontiers: tuple[Frontier, ...]
    random_features: tuple[RandomFeatureCheck, ...]
    grid_ratio: float
    runtime_s: float
    files: tuple[str, ...]

    @property
    def claims(self) -> tuple[Claim, ...]:
        """Per phase: fitted L* and N* exponents vs the registry (±0.05); the random projection's two-point L*
        exponent vs the same registry value (±RF_EXPONENT_TOLERANCE)."""
        src = "Bordelon & Mori, Fig. 4; plrf.md §4"
        out = [Claim.exponent("plrf_fig4", f"{'L*' if r.quantity == 'loss' else 'N*'} exponent in C, {r.phase} "
                              f"(a={r.a:g}, b={r.b:g})", r.derived, r.fitted, source=src,
                              note=f"registry: {r.theory_name}"
                                   + ("; L* ∝ C^{-exponent}" if r.quantity == "loss" else ""))
               for r in self.rows]
        for c in self.random_features:
            f = c.frontier
            out.append(Claim.exponent("plrf_fig4", f"L* exponent in C, random features, {f.phase} (a={f.a:g}, "
                                      f"b={f.b:g})", c.derived, c.fitted, source=src,
                                      note=f"two budgets C = {f.computes[0]:.3g}, {f.computes[-1]:.3g}; Gaussian "
                                           f"projection D = {c.input_dim_ratio}·N, seed {c.seed}; L*_RF/L*_top = "
                                           + ", ".join(f"{r:.2f}" for r in c.loss_ratio)))
        return tuple(out)

    def markdown(self) -> str:
        """Exponent table and random-feature comparison as Markdown."""
        lines = ["| phase | a | b | quantity | theory | fitted | |Δ| | tol | verdict |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r.phase} | {r.a:g} | {r.b:g} | {r.quantity} | {r.derived:.4f} | {r.fitted:.4f} | "
                         f"{abs(r.fitted - r.derived):.4f} | {r.tolerance:g} | {'pass' if r.passed else 'FAIL'} |")
        lines += ["", "| phase | C | N* top-N | L* top-N | N* random | L* random | L*_RF/L*_top |",
                  "|---|---|---|---|---|---|---|"]
        for c in self.random_features:
            f = c.frontier
            for j, compute in enumerate(f.computes):
                lines.append(f"| {f.phase} | {compute:.3g} | {c.features_opt_top[j]:.1f} | {c.loss_opt_top[j]:.4g} | "
                             f"{f.features_opt[j]:.1f} | {f.loss_opt[j]:.4g} | {c.loss_ratio[j]:.3f} |")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
# Computation
# ----------------------------------------------------------------------------------------------------------


def fig4_setup(quick: bool = True) -> tuple[np.ndarray, tuple[int, ...], float]:
    """(budgets C, model-size grid N, grid ratio): quick C = 10^3…10^5.5 in half decades and N = 2^2…2^11
    (the 10^6 column alone costs as much as the rest: 10^3…10^6 fits the same exponents to ±0.01);
    full C = 10^3…10^7 in quarter decades and N on a √2 grid 4…2048."""
    if quick:
        computes = np.logspace(3, 5.5, 6)
        ratio = 2.0
    else:
        computes = np.logspace(3, 7, 17)
        ratio = np.sqrt(2.0)
    features = tuple(int(n) for n in np.unique(np.round(4 * ratio ** np.arange(0, 40))) if n <= 2048)
    return computes, features, float(ratio)


def default_rf_budgets(quick: bool = True) -> tuple[float, float]:
    """The two budgets of the random-feature check: C = 10^4 and 10^5.5 (quick) or 10^6 (full)."""
    return (1e4, 10 ** 5.5) if quick else (1e4, 1e6)


def derived_exponent(name: str, a: float, b: float, variable: sp.Symbol = P.C) -> float:
    """The power of ``variable`` in the registry result ``name`` (an expression X^e), at (a, b).

    The regime is checked by evaluating the result at (a, b, X = 2) (raises ``NotApplicable`` outside it).
    """
    result = registry()[name]
    result.evaluate(a=a, b=b, **{str(variable): 2.0})
    _, power, _ = log_monomial(result.expr, variable, ())
    return float(sp.N(power.subs({P.a: a, P.b: b})))


def envelope_minimum(features, losses) -> tuple[float, float]:
    """(N*, L*) from the parabola through (log N, log L) at the smallest loss and its two neighbours;
    (NaN, NaN) if the smallest loss is at either end of ``features`` (the minimum is not bracketed)."""
    n = np.asarray(features, float)
    loss = np.asarray(losses, float)
    if n.shape != loss.shape or n.size < 3:
        return float("nan"), float("nan")
    order = np.argsort(n)
    n, loss = n[order], loss[order]
    i = int(np.argmin(loss))
    if i == 0 or i == n.size - 1:
        return float("nan"), float("nan")
    x, y = np.log(n[i - 1:i + 2]), np.log(loss[i - 1:i + 2])
    curv, slope, const = np.polyfit(x, y, 2)
    if not curv > 0:
        return float(n[i]), float(loss[i])
    vertex = -slope / (2 * curv)
    return float(np.exp(vertex)), float(np.exp(np.polyval([curv, slope, const], vertex)))


def _solve(spectrum: Spectrum, steps: int, previous, sigma, batch, eta_max):
    start = None if previous is None else np.clip(rescale_schedule(previous.lr, steps), 0.0, eta_max)
    return optimal_schedule(spectrum, steps, sigma=sigma, batch=batch, eta_max=eta_max, start=start)


def isoflop_frontier(phase: str, a: float, b: float, computes, features_grid, *, margin: int = 0,
                     start_features: int | None = None, sigma: float = SIGMA, batch: float = BATCH,
                     eta_max: float = ETA_MAX, spectrum_factory=None) -> Frontier:
    """Solve the optimal schedule on the model sizes around the iso-C minimum at each budget (module
    docstring) and refine the envelope. The first bracket is centred on the grid size closest to
    ``start_features`` (default: the smallest). ``spectrum_factory(N)`` builds the model of size N (default:
    top-N power law with its tail); each N's solutions warm-start its next horizon."""
    computes = np.asarray(computes, float)
    grid = tuple(sorted(int(n) for n in features_grid))
    if computes.ndim != 1 or computes.size < 1 or not np.all(np.diff(computes) > 0):
        raise ValueError(f"computes = {computes!r} must be >= 1 increasing budgets")
    if len(grid) < 3:
        raise ValueError(f"features_grid = {grid!r} needs >= 3 model sizes to bracket a minimum")
    if margin < 0:
        raise ValueError(f"margin = {margin!r} must be >= 0")
    factory = spectrum_factory or (lambda n: power_law_spectrum(a, b, n, tail=True))
    spectra: dict[int, Spectrum] = {}
    last: dict[int, object] = {}  # N -> its latest optimal schedule (warm start for the next horizon)
    points: list[GridPoint] = []
    n_opt, l_opt = np.full(computes.size, np.nan), np.full(computes.size, np.nan)
    centre = 0 if start_features is None else int(np.argmin(np.abs(np.log(np.asarray(grid) / start_features))))

    def solve(i: int, compute: float) -> float:
        """Final loss of the optimal schedule at (grid[i], T = round(C/N)); +inf below MIN_STEPS."""
        n = grid[i]
        steps = int(round(compute / n))
        if steps < MIN_STEPS:
            return np.inf
        if n not in spectra:
            spectra[n] = factory(n)
        result = _solve(spectra[n], steps, last.get(n), sigma, batch, eta_max)
        last[n] = result
        points.append(GridPoint(n, steps, float(compute), result.final_loss, float(result.lr.max()),
                                result.max_residual))
        return result.final_loss

    for j, compute in enumerate(computes):
        losses: dict[int, float] = {}
        # N* grows with C, by less than one grid step per budget here: start from {centre, centre + 1}.
        for i in (centre, min(centre + 1, len(grid) - 1)):
            losses[i] = solve(i, compute)
        # Grow the bracket towards the smaller loss until the minimum is interior (or the grid ends).
        while True:
            best = min(losses, key=losses.get)
            if best == min(losses) and best > 0:
                losses[best - 1] = solve(best - 1, compute)
            elif best == max(losses) and best < len(grid) - 1:
                losses[best + 1] = solve(best + 1, compute)
            else:
                break
        best = min(losses, key=losses.get)
        for k in range(1, margin + 1):
            for i in (best - 1 - k, best + 1 + k):
                if 0 <= i < len(grid) and i not in losses:
                    losses[i] = solve(i, compute)
        finite = sorted(i for i in losses if np.isfinite(losses[i]))
        n_opt[j], l_opt[j] = envelope_minimum([grid[i] for i in finite], [losses[i] for i in finite])
        centre = best
    return Frontier(phase, float(a), float(b), computes, grid, tuple(points), n_opt, l_opt)


def fit_exponent(computes, values) -> float:
    """Slope of the least-squares line through (log C, log value), over the finite values."""
    y = np.asarray(values, float)
    ok = np.isfinite(y) & (y > 0)
    if ok.sum() < 2:
        raise ValueError(f"need >= 2 finite positive values to fit an exponent, got {int(ok.sum())}")
    return loglog_slope(computes, y, mask=ok)


def exponent_rows(frontier: Frontier) -> tuple[ExponentRow, ExponentRow]:
    """(L* row, N* row): fitted vs derived exponents of ``frontier``. The L* row is in the registry's sign
    convention flipped to a positive decay rate: fitted = −slope of log L* and derived = −power of C."""
    loss_name, features_name = THEORY_NAMES[frontier.phase]
    a, b = frontier.a, frontier.b
    loss_derived = -derived_exponent(loss_name, a, b)
    loss_fitted = -fit_exponent(frontier.computes, frontier.loss_opt)
    n_derived = derived_exponent(features_name, a, b)
    n_fitted = fit_exponent(frontier.computes, frontier.features_opt)
    return (ExponentRow(frontier.phase, a, b, "loss", loss_name, loss_derived, loss_fitted, LOSS_TOLERANCE,
                        bool(abs(loss_fitted - loss_derived) <= LOSS_TOLERANCE)),
            ExponentRow(frontier.phase, a, b, "features", features_name, n_derived, n_fitted, FEATURES_TOLERANCE,
                        bool(abs(n_fitted - n_derived) <= FEATURES_TOLERANCE)))


def random_feature_spectrum_with_tail(a: float, b: float, features: int, input_ratio: int = RF_INPUT_RATIO,
                                      seed: int = 0) -> Spectrum:
    """Gaussian projection of D = ``input_ratio``·N input modes; the target beyond D, ζ(a, D+1), joins the tail
    (independent of the features for Gaussian inputs), so the total target is the top-N model's."""
    d = int(input_ratio * features)
    rf = random_feature_spectrum(a, b, features, d, seed=seed)
    return custom_spectrum(rf.eigenvalues, rf.target, tail=rf.tail + float(special.zeta(a, d + 1)),
                           label=f"random features N={features}, D={d}, a={a:g}, b={b:g}, seed={seed}")


def random_feature_check(frontier: Frontier, budgets, *, input_ratio: int = RF_INPUT_RATIO, seed: int = 0,
                         sigma: float = SIGMA, batch: float = BATCH, eta_max: float = ETA_MAX) -> RandomFeatureCheck:
    """The iso-FLOP frontier of the Gaussian random projection at two ``budgets`` (taken from
    ``frontier.computes``), its two-point L* exponent against the registry, and the top-N values there."""
    budgets = np.asarray(budgets, float)
    if budgets.shape != (2,) or not budgets[0] < budgets[1]:
        raise ValueError(f"budgets = {budgets!r} must be two increasing compute budgets")
    index = [int(np.argmin(np.abs(np.log(frontier.computes / c)))) for c in budgets]
    if not np.allclose(frontier.computes[index], budgets, rtol=1e-9):
        raise ValueError(f"budgets = {budgets!r} must be among the top-N frontier's computes {frontier.computes!r}")
    a, b = frontier.a, frontier.b
    rf = isoflop_frontier(frontier.phase, a, b, budgets, frontier.features_grid,
                          start_features=frontier.features_opt[index[0]], sigma=sigma, batch=batch, eta_max=eta_max,
                          spectrum_factory=lambda n: random_feature_spectrum_with_tail(a, b, n, input_ratio, seed))
    name = THEORY_NAMES[frontier.phase][0]
    derived = -derived_exponent(name, a, b)
    fitted = -fit_exponent(rf.computes, rf.loss_opt)
    return RandomFeatureCheck(rf, int(input_ratio), int(seed), frontier.loss_opt[index].copy(),
                              frontier.features_opt[index].copy(), name, derived, fitted, RF_EXPONENT_TOLERANCE,
                              bool(abs(fitted - derived) <= RF_EXPONENT_TOLERANCE))


# ----------------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------------


def _write_tables(rows, frontiers, checks, out: Path) -> list[Path]:
    paths = [out / "plrf_fig4_grid.csv", out / "plrf_fig4_frontier.csv", out / "plrf_fig4_exponents.csv",
             out / "plrf_fig4_random_features.csv"]
    models = [("top_n", f) for f in frontiers] + [("random_features", c.frontier) for c in checks]
    write_csv(paths[0], ["phase", "a", "b", "model", "features", "steps", "compute", "final_loss", "peak_lr",
                         "max_residual"],
              [(f.phase, f.a, f.b, model, p.features, p.steps, p.compute, p.final_loss, p.peak_lr, p.max_residual)
               for model, f in models for p in f.points])
    write_csv(paths[1], ["phase", "a", "b", "model", "compute", "features_opt", "loss_opt"],
              [(f.phase, f.a, f.b, model, c, n, loss)
               for model, f in models for c, n, loss in zip(f.computes, f.features_opt, f.loss_opt)])
    write_csv(paths[2], ["phase", "a", "b", "model", "quantity", "theory_name", "derived", "fitted", "abs_diff",
                         "tolerance", "passed"],
              [(r.phase, r.a, r.b, "top_n", r.quantity, r.theory_name, r.derived, r.fitted, abs(r.fitted - r.derived),
                r.tolerance, r.passed) for r in rows]
              + [(c.frontier.phase, c.frontier.a, c.frontier.b, "random_features", "loss", c.theory_name, c.derived,
                  c.fitted, abs(c.fitted - c.derived), c.tolerance, c.passed) for c in checks])
    write_csv(paths[3], ["phase", "a", "b", "compute", "input_dim_ratio", "seed", "features_opt_top", "loss_opt_top",
                         "features_opt_random", "loss_opt_random", "loss_ratio"],
              [(c.frontier.phase, c.frontier.a, c.frontier.b, compute, c.input_dim_ratio, c.seed,
                c.features_opt_top[j], c.loss_opt_top[j], c.frontier.features_opt[j], c.frontier.loss_opt[j],
                c.loss_ratio[j]) for c in checks for j, compute in enumerate(c.frontier.computes)])
    return paths


def _theory_line(ax, x, y, exponent, **kw):
    """Slope ``exponent`` through the geometric mean of the finite (x, y) (prefactors are not derived)."""
    ok = np.isfinite(y)
    anchor = np.mean(np.log(y[ok])) - exponent * np.mean(np.log(x[ok]))
    ax.loglog(x, np.exp(anchor) * x ** exponent, "--", **kw)


def _plot(rows, frontiers, checks, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(frontiers), 2, figsize=(11.5, 4.2 * len(frontiers)), squeeze=False)
    for (ax_loss, ax_size), f in zip(axes, frontiers):
        loss_row = next(r for r in rows if r.phase == f.phase and r.quantity == "loss")
        size_row = next(r for r in rows if r.phase == f.phase and r.quantity == "features")
        check = next((c for c in checks if c.frontier.phase == f.phase), None)
        cmap = plt.get_cmap("viridis")
        sizes = sorted({p.features for p in f.points})
        for i, n in enumerate(sizes):
            pts = sorted((p for p in f.points if p.features == n), key=lambda p: p.steps)
            ax_loss.loglog([p.features * p.steps for p in pts], [p.final_loss for p in pts], "o-", ms=3, lw=0.8,
                           color=cmap(i / max(len(sizes) - 1, 1)), label=f"N={n}")
        ok = np.isfinite(f.loss_opt)
        ax_loss.loglog(f.computes[ok], f.loss_opt[ok], "k-", lw=2, label=f"envelope L*: fit C^-{loss_row.fitted:.3f}")
        _theory_line(ax_loss, f.computes, f.loss_opt, -loss_row.derived, color="k", lw=1,
                     label=f"theory C^-{loss_row.derived:.3f}")
        if check is not None:
            ax_loss.loglog(check.frontier.computes, check.frontier.loss_opt, "rx-", ms=8,
                           label=f"random features L*: C^-{check.fitted:.3f}")
        ax_loss.set_xlabel("compute C = N·T")
        ax_loss.set_ylabel("final excess loss (tail included)")
        ax_loss.set_title(f"{f.phase}: a={f.a:g}, b={f.b:g}, optimal schedule per (N, T)")
        ax_loss.legend(fontsize=6, ncol=2)

        ok = np.isfinite(f.features_opt)
        ax_size.loglog(f.computes[ok], f.features_opt[ok], "ko", label=f"N*: fit C^{size_row.fitted:.3f}")
        _theory_line(ax_size, f.computes, f.features_opt, size_row.derived, color="k", lw=1,
                     label=f"theory C^{size_row.derived:.3f}")
        if check is not None:
            ax_size.loglog(check.frontier.computes, check.frontier.features_opt, "rx", ms=8,
                           label="random features N*")
        ax_size.set_xlabel("compute C = N·T")
        ax_size.set_ylabel("compute-optimal N*")
        ax_size.set_title("compute-optimal model size (dashed: theory slope)")
        ax_size.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out / "plrf_fig4")


@experiment("plrf_fig4", title="Compute-optimal loss and model size with optimal schedules",
            source="Bordelon & Mori, Fig. 4", budget_s=20)
def plrf_fig4(out_dir, quick: bool = True, *, computes=None, features=None, rf_budgets=None,
              phases=None) -> Fig4Result:
    """Both phases' iso-FLOP frontiers, their exponents and the random-feature check; writes the CSVs and the
    figure. Overrides (for tests): ``computes``, ``features`` (grid), ``rf_budgets`` (two of ``computes``, or
    ``()`` to skip the random-feature check), ``phases`` (subset of :data:`PHASES`). ``runtime_s`` counts the
    computation (not the file output)."""
    out = Path(out_dir)
    default_computes, default_features, ratio = fig4_setup(quick)
    computes = default_computes if computes is None else np.asarray(computes, float)
    features = default_features if features is None else tuple(int(n) for n in features)
    if features is not None and len(features) > 1:
        ratio = float(np.exp(np.mean(np.diff(np.log(features)))))
    rf_budgets = default_rf_budgets(quick) if rf_budgets is None else tuple(rf_budgets)
    phases = tuple(PHASES) if phases is None else tuple(phases)
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        raise ValueError(f"phases = {phases!r}: {unknown} not in {tuple(PHASES)}")
    start = time.perf_counter()
    frontiers, rows, checks = [], [], []
    for phase in phases:
        a, b = PHASES[phase]
        frontier = isoflop_frontier(phase, a, b, computes, features, margin=0 if quick else 1)
        frontiers.append(frontier)
        rows.extend(exponent_rows(frontier))
        if rf_budgets:
            checks.append(random_feature_check(frontier, rf_budgets))
    runtime = time.perf_counter() - start
    files = _write_tables(rows, frontiers, checks, out) + _plot(rows, frontiers, checks, out)
    return Fig4Result(tuple(rows), tuple(frontiers), tuple(checks), ratio, runtime, tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/plrf_fig4")
    result = plrf_fig4(target, quick="--full" not in sys.argv)
    print(result.markdown())
    print(f"runtime {result.runtime_s:.1f} s; files: {', '.join(result.files)}")
