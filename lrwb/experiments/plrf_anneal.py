"""PLRF hard-phase anneal length (Bordelon & Mori, ``plrf.md`` §4, Figs. 6–7): T − t_s ∝ T^{(a+b−1)/(2b−1)}.

In the hard phase (b > a) the optimal schedule sits at the cap η_max, then anneals. t_s is the last step with
η*_t ≥ level·η_max (level 0.5, ``conventions.md``; also 0.9). The anneal length T − t_s is fitted against T by
least squares in log-log and compared with ``anneal_length_hard`` from :func:`lrwb.theory.results.registry`
(the power of T in T^{(a+b−1)/(2b−1)}, never retyped).

Two problems:

- **The claim, a = 1.5, b = 3** (exponent 0.7): top-N model with N = 128 **and its tail**
  (:func:`lrwb.numerics.spectra.power_law_spectrum` with ``tail=True``: the modes beyond N act as label noise and add
  to the loss), σ = 0.5, B = 5, η_max = 1, T = 100 … 10⁴ (quick; full to 3·10⁴). Why these values: the theory
  is an N = ∞ statement, and with the tail the N-mode model *is* the N = ∞ model for every mode the schedule
  cannot reach — a mode k > N moves by at most 2λ_k η_max T ≤ 2·128^{−3}·3·10⁴ ≈ 0.03 of its error (λ_N F_T ≪ 1),
  and without a tail a = 1.5's slowly decaying target would shift the SGD self-noise Σλc by ≈ 2/√N (N = 256 and
  512 without a tail fit 0.681 and 0.690; with a tail N = 128 and 256 agree to 0.001). σ, B and η_max are the
  Fig. 2 values; η_max = 1 lies below the stability bound (≈ 1.42 for B = 5, b = 3), so the plateau is at η_max
  and "level·η_max" means what it says. Noticed: the finite-T fit depends on σ (σ = 1 gives 0.74 at T ≤ 10⁴,
  local slopes falling towards 0.7 from above; σ = 0.5 approaches from below) — the asymptote is the same.
- **The Fig. 2 values, a = 3.5, b = 5** (exponent 0.833), claimed as well: the Fig. 2 problem (σ, B, η_max as
  above) with N = 64 **and its tail** in place of the figure's N = 1000 without one — the same problem for every
  mode the schedule reaches (λ_64 η_max T ≤ 10⁻⁴ at T = 10⁵; the modes 65…1000 are frozen and carry their
  power as the tail), which makes T = 3·10⁴ (quick) and 10⁵ (full) affordable. The anneal *fraction*
  1 − t_s/T ∝ T^{−(b−a)/(2b−1)} = T^{−0.17} falls slowly, and at b = 5 only the modes with λ_k η T ≳ 1, i.e.
  k ≲ T^{1/5} ≈ 10, are trained: the local slopes oscillate as modes enter one by one (log-periodic, e.g.
  0.65, 0.72, 1.08, 0.98, 0.93, 0.85, 0.89, 0.95, 0.89, 0.88 at level 0.5 over T = 100 … 10⁵), around ≈ 0.89
  with no drift towards 0.833 up to T = 10⁵. The claim states this and fails if it misses.

For both problems the **measured exponent is the least-squares slope over the upper half of the ladder**
(T ≥ √(T_min T_max)), which averages the oscillation over the largest horizons; its standard error and the
local slopes (adjacent horizons) are in the note, and :func:`is_resolved` says whether the upper-half local
slopes have settled (max − min ≤ ``EXPONENT_TOLERANCE``).

Also claimed (±0.05): the decay inside the anneal, η*_t ∝ u_t^κ in the remaining intrinsic time u_t = Σ_{s≥t} η_s
(``eta_opt_stationarity``: κ = 1 − 1/(2b); the anneal's η ∝ ((T − t)/(T − t_s))^{2b−1},
``anneal_decay_exponent_hard``, is the same law integrated), fitted at the longest horizon over
1 ≤ u ≤ u_{t_s}.

Outputs (``plrf_anneal``): ``plrf_anneal_lengths.csv`` (per problem, horizon, level: t_s, T − t_s, fraction),
``plrf_anneal_schedules.csv``, ``plrf_anneal_exponents.csv`` and ``plrf_anneal.png``/``.pdf`` (schedules against
T − t; T − t_s against T with the theory slope dashed; the fraction 1 − t_s/T).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from lrwb.numerics.control import OptimalSchedule, optimal_schedules
from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim
from lrwb.numerics.conventions import DEFAULTS, EXPONENT_TOLERANCE
from lrwb.numerics.analysis.exponents import (anneal_start, anneal_stationarity_exponent, fit_with_error, is_resolved,
                                 local_slopes)
from lrwb.numerics.io import atomic_write, save_figure
from lrwb.numerics.spectra import power_law_spectrum
from lrwb.theory import params as P
from lrwb.theory.balance import log_monomial
from lrwb.theory.results import registry

__all__ = [
    "PROBLEMS",
    "SIGMA",
    "BATCH",
    "ETA_MAX",
    "LEVELS",
    "Problem",
    "AnnealLadder",
    "LengthFit",
    "AnnealResult",
    "HORIZON_RANGES",
    "anneal_horizons",
    "compute_ladder",
    "length_fits",
    "plrf_anneal",
]

SIGMA = DEFAULTS.sigma
BATCH = DEFAULTS.batch
ETA_MAX = DEFAULTS.eta_max
#: t_s = last step with η ≥ level·η_max; 0.5 is the definition (conventions.md), 0.9 the spec's second level.
LEVELS = (0.5, 0.9)


@dataclass(frozen=True)
class Problem:
    """One hard-phase problem: exponents, model size, whether the tail is modelled, and whether it is claimed."""

    name: str
    a: float
    b: float
    features: int
    tail: bool
    claimed: bool


#: The claim (a = 1.5, b = 3, exponent 0.7) and the Fig. 2 values (a = 3.5, b = 5, exponent 0.833), both claimed.
PROBLEMS = (
    Problem("claim", 1.5, 3.0, 128, True, True),
    Problem("fig2", 3.5, 5.0, 64, True, True),
)
#: (largest T, number of log-spaced horizons from T = 100) per problem: {quick: ..., full: ...}
HORIZON_RANGES = {"claim": {True: (1e4, 9), False: (3e4, 17)}, "fig2": {True: (3e4, 10), False: (1e5, 13)}}


@dataclass(frozen=True)
class AnnealLadder:
    """Optimal schedules of one problem over a ladder of horizons."""

    problem: Problem
    horizons: tuple[int, ...]
    schedules: tuple[OptimalSchedule, ...]

    def lengths(self, level: float) -> np.ndarray:
        """T − t_s at ``level`` per horizon."""
        return np.array([t - anneal_start(s.lr, ETA_MAX, level) for t, s in zip(self.horizons, self.schedules)],
                        dtype=float)


@dataclass(frozen=True)
class LengthFit:
    """Fitted anneal-length exponent of one problem at one level, against the registry."""

    problem: Problem
    level: float
    theory_name: str
    derived: float
    fitted: float
    standard_error: float
    local_slopes: tuple[float, ...]
    resolved: bool
    tolerance: float
    passed: bool
    horizons: tuple[int, ...] = ()


@dataclass(frozen=True)
class AnnealResult:
    """Result of :func:`plrf_anneal`."""

    ladders: tuple[AnnealLadder, ...]
    fits: tuple[LengthFit, ...]
    kappas: tuple[tuple[str, float, float], ...]  # (problem name, fitted κ, derived κ) at the longest horizon
    runtime_s: float
    files: tuple[str, ...]

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The anneal-length exponent of every problem at both levels, ±0.05 (upper-half fit; trend in the note)."""
        out = []
        for f in self.fits:
            if not f.problem.claimed:
                continue
            p = f.problem
            out.append(Claim.exponent("plrf_anneal", f"anneal length T − t_s exponent, level {f.level:g}·η_max "
                                      f"(a={p.a:g}, b={p.b:g})", f.derived, f.fitted,
                                      source="Bordelon & Mori, Figs. 6–7; plrf.md §4",
                                      note=f"registry: {f.theory_name}; upper-half fit ± SE {f.fitted:.3f} ± "
                                           f"{f.standard_error:.3f}; local slopes "
                                           + ", ".join(f"{v:.3f}" for v in f.local_slopes)
                                           + f" (upper half {'settled' if f.resolved else 'not settled'}); "
                                           f"N = {p.features}{' with tail' if p.tail else ''}, T = {f.horizons[0]}…"
                                           f"{f.horizons[-1]}"))
        for (name, fitted, derived), lad in zip(self.kappas, self.ladders):
            p = lad.problem
            out.append(Claim.exponent("plrf_anneal", f"κ inside the anneal, η* ∝ u^κ (a={p.a:g}, b={p.b:g})",
                                      derived, fitted, source="Bordelon & Mori, Figs. 6–7; plrf.md §4",
                                      note=f"registry: eta_opt_stationarity (1 − 1/(2b)); T = {lad.horizons[-1]}, "
                                           f"1 ≤ u ≤ u_(t_s); N = {p.features}{' with tail' if p.tail else ''}"))
        return tuple(out)

    def markdown(self) -> str:
        """Every fit as Markdown."""
        lines = ["| a | b | N | level | theory | upper-half fit ± SE | |Δ| | local slopes (upper half) | resolved | verdict |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        for f in self.fits:
            p = f.problem
            upper = f.local_slopes[len(f.local_slopes) // 2:]
            verdict = "pass" if f.passed else "FAIL"
            lines.append(f"| {p.a:g} | {p.b:g} | {p.features}{'+tail' if p.tail else ''} | {f.level:g} | "
                         f"{f.derived:.4f} | {f.fitted:.4f} ± {f.standard_error:.4f} | "
                         f"{abs(f.fitted - f.derived):.4f} | "
                         f"{min(upper):.3f}…{max(upper):.3f} | {'yes' if f.resolved else 'no'} | {verdict} |")
        lines += ["", "| problem | κ fitted (anneal, longest T) | κ theory 1 − 1/(2b) |", "|---|---|---|"]
        for name, fitted, derived in self.kappas:
            lines.append(f"| {name} | {fitted:.4f} | {derived:.4f} |")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
# Computation
# ----------------------------------------------------------------------------------------------------------


def anneal_horizons(quick: bool = True, problem: str = "claim") -> tuple[int, ...]:
    """T = 100 … T_max log-spaced, per :data:`HORIZON_RANGES` (claim: 10⁴, 9 quick / 3·10⁴, 17 full; fig2:
    3·10⁴, 10 / 10⁵, 13)."""
    if problem not in HORIZON_RANGES:
        raise ValueError(f"problem = {problem!r} must be one of {list(HORIZON_RANGES)}")
    hi, count = HORIZON_RANGES[problem][bool(quick)]
    return tuple(int(t) for t in np.unique(np.round(np.geomspace(100, hi, count)).astype(int)))


def compute_ladder(problem: Problem, horizons, *, sigma: float = SIGMA, batch: float = BATCH,
                   eta_max: float = ETA_MAX) -> AnnealLadder:
    """Optimal schedules of ``problem`` at every horizon (warm starts across horizons)."""
    horizons = tuple(sorted(int(t) for t in horizons))
    if len(horizons) < 3:
        raise ValueError(f"horizons = {horizons!r} must list at least three horizons")
    if not problem.b > problem.a:
        raise ValueError(f"problem {problem.name}: a = {problem.a}, b = {problem.b} is not in the hard phase (b > a)")
    spectrum = power_law_spectrum(problem.a, problem.b, problem.features, tail=problem.tail)
    schedules = optimal_schedules(spectrum, horizons, sigma=sigma, batch=batch, eta_max=eta_max)
    return AnnealLadder(problem, horizons, tuple(schedules))


def _length_exponent(a: float, b: float) -> float:
    """The power of T in the registry's ``anneal_length_hard`` at (a, b) (regime checked by evaluating it)."""
    result = registry()["anneal_length_hard"]
    result.evaluate(a=a, b=b, steps=2.0)
    _, power, _ = log_monomial(result.expr, P.T, ())
    return float(sp.N(power.subs({P.a: a, P.b: b})))


def length_fits(ladder: AnnealLadder, levels=LEVELS) -> tuple[LengthFit, ...]:
    """The anneal-length exponent of ``ladder`` at each level, with its standard error and local slopes."""
    p = ladder.problem
    derived = _length_exponent(p.a, p.b)
    fits = []
    for level in levels:
        lengths = ladder.lengths(level)
        if np.any(lengths > np.asarray(ladder.horizons)):  # t_s = −1: never reached level·η_max
            raise ValueError(f"problem {p.name}: η* never reaches {level}·η_max at some horizon; no anneal start")
        horizons = np.asarray(ladder.horizons, float)
        upper = horizons >= np.sqrt(horizons[0] * horizons[-1]) * (1 - 1e-12)  # the upper half in log T
        fitted, se = fit_with_error(horizons[upper], lengths[upper])
        slopes = local_slopes(ladder.horizons, lengths)
        fits.append(LengthFit(p, float(level), "anneal_length_hard", derived, fitted, se,
                              tuple(float(s) for s in slopes), is_resolved(slopes), EXPONENT_TOLERANCE,
                              bool(abs(fitted - derived) <= EXPONENT_TOLERANCE), tuple(ladder.horizons)))
    return tuple(fits)


# ----------------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------------


def _write_tables(ladders, fits, out: Path) -> list[Path]:
    paths = [out / "plrf_anneal_lengths.csv", out / "plrf_anneal_schedules.csv", out / "plrf_anneal_exponents.csv"]
    with atomic_write(paths[0]) as h:
        h.write("problem,a,b,features,tail,steps,level,anneal_start,anneal_length,anneal_fraction,final_loss\n")
        for lad in ladders:
            p = lad.problem
            for t, s in zip(lad.horizons, lad.schedules):
                for level in LEVELS:
                    t_s = anneal_start(s.lr, ETA_MAX, level)
                    h.write(f"{p.name},{p.a!r},{p.b!r},{p.features},{p.tail},{t},{level!r},{t_s},{t - t_s},"
                            f"{(t - t_s) / t!r},{s.final_loss!r}\n")
    with atomic_write(paths[1]) as h:
        h.write("problem,a,b,steps,step,lr,loss\n")
        for lad in ladders:
            p = lad.problem
            for t, s in zip(lad.horizons, lad.schedules):
                for step in range(t + 1):
                    lr_text = "" if step == t else repr(float(s.lr[step]))  # no step is taken from T
                    h.write(f"{p.name},{p.a!r},{p.b!r},{t},{step},{lr_text},{float(s.loss[step])!r}\n")
    with atomic_write(paths[2]) as h:
        h.write("problem,a,b,features,tail,level,theory_name,derived,fitted,standard_error,abs_diff,tolerance,"
                "local_slope_min_upper,local_slope_max_upper,resolved,claimed,passed\n")
        for f in fits:
            p = f.problem
            upper = f.local_slopes[len(f.local_slopes) // 2:]
            h.write(f"{p.name},{p.a!r},{p.b!r},{p.features},{p.tail},{f.level!r},{f.theory_name},{f.derived!r},"
                    f"{f.fitted!r},{f.standard_error!r},{abs(f.fitted - f.derived)!r},{f.tolerance!r},"
                    f"{min(upper)!r},{max(upper)!r},{f.resolved},{p.claimed},{f.passed}\n")
    return paths


def _plot(ladders, fits, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(ladders), 3, figsize=(15, 4.2 * len(ladders)), squeeze=False)
    for (ax_lr, ax_len, ax_frac), lad in zip(axes, ladders):
        p = lad.problem
        cmap = plt.get_cmap("viridis")
        n = len(lad.horizons)
        for i, (t, s) in enumerate(zip(lad.horizons, lad.schedules)):
            ax_lr.plot(t - np.arange(t), s.lr, color=cmap(i / max(n - 1, 1)), lw=1, label=f"T={t}")
        for level, style in zip(LEVELS, (":", "-.")):
            ax_lr.axhline(level * ETA_MAX, color="gray", lw=0.8, ls=style)
        ax_lr.set_xscale("log")
        ax_lr.set_xlabel("steps to go, T − t")
        ax_lr.set_ylabel("η*_T(t)")
        ax_lr.set_title(f"a={p.a:g}, b={p.b:g}, N={p.features}{' + tail' if p.tail else ''}: optimal schedules")
        ax_lr.legend(fontsize=6, ncol=2)
        horizons = np.asarray(lad.horizons, float)
        for f, color in zip((f for f in fits if f.problem is p), ("C0", "C3")):
            lengths = lad.lengths(f.level)
            ax_len.loglog(horizons, lengths, "o", color=color,
                          label=f"level {f.level:g}: fit {f.fitted:.3f} ± {f.standard_error:.3f}")
            anchor = np.exp(np.mean(np.log(lengths)) - f.derived * np.mean(np.log(horizons)))
            ax_len.loglog(horizons, anchor * horizons ** f.derived, "--", color=color, lw=1,
                          label=f"theory T^{f.derived:.3f}")
            ax_frac.semilogx(horizons, lengths / horizons, "o-", color=color, label=f"level {f.level:g}")
        status = "claimed"
        ax_len.set_xlabel("horizon T")
        ax_len.set_ylabel("anneal length T − t_s")
        ax_len.set_title(f"anneal length ({status}; dashed: theory slope)")
        ax_len.legend(fontsize=7)
        ax_frac.set_xlabel("horizon T")
        ax_frac.set_ylabel("anneal fraction 1 − t_s/T")
        ax_frac.set_title("anneal fraction")
        ax_frac.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out / "plrf_anneal")


@experiment("plrf_anneal", title="Hard-phase anneal length T − t_s against T",
            source="Bordelon & Mori, Figs. 6–7; plrf.md §4", budget_s=30)
def plrf_anneal(out_dir, quick: bool = True, *, horizons=None, problems=None) -> AnnealResult:
    """Both problems' ladders, fits, CSVs and the figure. Overrides (for tests): ``horizons``, ``problems``
    (a subset of :data:`PROBLEMS`). ``runtime_s`` counts the computation (not the file output)."""
    out = Path(out_dir)
    problems = PROBLEMS if problems is None else tuple(problems)
    start = time.perf_counter()
    ladders = tuple(compute_ladder(p, anneal_horizons(quick, p.name if p.name in HORIZON_RANGES else "claim")
                                   if horizons is None else horizons) for p in problems)
    fits = tuple(f for lad in ladders for f in length_fits(lad))
    kappas = []
    for lad in ladders:
        derived = float(sp.N(log_monomial(registry()["eta_opt_stationarity"].expr, P.u, ())[1]
                             .subs({P.b: lad.problem.b})))
        kappas.append((lad.problem.name, anneal_stationarity_exponent(lad.schedules[-1].lr), derived))
    runtime = time.perf_counter() - start
    files = _write_tables(ladders, fits, out) + _plot(ladders, fits, out)
    return AnnealResult(ladders, fits, tuple(kappas), runtime, tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/plrf_anneal")
    result = plrf_anneal(target, quick="--full" not in sys.argv)
    print(result.markdown())
    print(f"runtime {result.runtime_s:.1f} s; files: {', '.join(result.files)}")
