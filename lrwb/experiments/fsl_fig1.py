"""FSL Fig. 1 left (Li et al. 2025, ``fsl.md`` §6): SGD vs the Functional Scaling Law vs the exact dynamics.

Setup (hard regime, s = 0.5 < 1 − 1/β = 0.75, β = 4): top-M model with M = 20 and its tail δ_M (λ_j = j^{−4},
λ_jθ_j² = j^{−3}, i.e. PLRF a = 1 + sβ = 3, b = β = 4), σ = 0.5, batch B = 1. The paper's N, M, σ and LRs
were not recovered; these are chosen so that all three FSL terms matter over the curve and the peak LR has
‖K‖₁ ≈ η·tr H/(2B) = 0.043 ≤ 0.05 (where the spec pins FSL vs exact at 5%). M = 20 costs nothing in the
law (the untrained modes j with λ_j t ≪ 1 only carry δ_M) and keeps the Monte Carlo cheap.

1. **Fig. 1 left**: cosine (to 0), WSD-like (decay over the last 20% to peak/100) and cyclic (triangular,
   period T/4, floor peak/10) at peak η = 0.08: the mean of ≥ 1000 SGD runs (:func:`lrwb.numerics.simulate.
   monte_carlo`, standard error SE) against the exact expected loss (:func:`lrwb.numerics.dynamics.expected.expected_loss`)
   and the FSL with the exact Gaussian constants (mode sums, first Picard iterate, :func:`lrwb.numerics.fsl.engine.
   fsl_curve`). Claims: MC vs exact within 4 SE (conventions.md); |FSL − MC| ≤ 5%·MC + 4 SE at every recorded
   step (the 5% FSL-vs-exact tolerance plus the MC tolerance at that step: the SE widens it, pointwise).
2. **Ratio bands**: FSL/exact along the whole curve for constant, exp (→ peak/100), WSD, cosine, cyclic at
   three LRs, ‖K‖₁ ≈ η tr H/(2B) = 0.045 (small), 0.1 and 0.2 (large), for the first Picard iterate (the
   FSL), the second and the full Volterra solution. Claims: within 5% at the small LR; at the larger LRs the
   end-of-training gap of the constant LR is the derived end ratio (:func:`predicted_end_ratio`, ±1%): the
   Neumann factor 1/(1 − R) (R = ‖K‖₁ the exact renewal norm of conventions.md; the floor σ²R/(1 − R) is the
   registry's ``noise_floor_constant_lr``) times the law's dropped O(η²λ²) drift — the FSL's step kernel has
   mass R_FSL = Σ(η²/B)λ²/(1 − e^{−2ηλ}) where the exact recursion has R (e^{−2ηλ} vs (1 − ηλ)² + η²λ²/B
   per step; large here because λ_1 = 1 carries 92% of tr H at β = 4) — and the untrained modes' signal.
   Measured 1.1200 vs derived 1.1201 at ‖K‖₁ ≈ 0.1, 1.5491 vs 1.5493 at 0.2 (the bare Neumann factor,
   1.138 and 1.446, misses by 1.6% and 7%). The Volterra solution removes most of the gap (the constant LR
   must reach its noise floor: ``band_steps`` ≳ 2000).
   ("Most" = more than half, a chosen threshold, so that one is a sanity check, as is "the unfitted FSL is at
   least as close as the 3-coefficient fit", whose bound is a measured error.)
3. **3-coefficient fit** (the paper's overlay): L ≈ c_a·1 + c_e·(1 + t)^{−s} + c_n·N_pow(t) with the FSL's
   power-law forms (unit constants; N_pow the noise convolution with K = (1 + u)^{−(2−1/β)}), fitted by
   non-negative least squares on relative residuals to the MC means of the three schedules at once, on the
   recorded steps with intrinsic time t ≥ 10 (the power forms hold for 1 ≲ t ≲ M^β; the table shows the
   fit for t ≥ 1, 3, 10, 30). Derived coefficients: c_e = Γ(s)/(β 2^s) (registry ``signal_continuum_fsl``,
   the t^{−s} prefactor of e_M) and c_n = ‖K_M‖₁/‖K_pow‖₁ (registry ``kernel_l1_norm`` = ζ(β)/2 over the
   power kernel's mass 1/(1 − 1/β)): the noise is dominated by the recent kernel mass when γ varies slowly.

Sizes: ``quick`` T = 2000 steps and 2500 runs per schedule (SE/MC ≤ 0.92%, conventions.md asks ≤ 1%), bands
over 4000 steps (≈ 10 s on one idle core); full T = 10⁴ steps, 10⁴ runs, bands over 2·10⁴ steps.

Outputs (``fsl_fig1``): ``fsl_fig1_curves.csv``, ``fsl_fig1_bands.csv``, ``fsl_fig1_fit.csv`` and
``fsl_fig1.png``/``.pdf``. Loss = excess loss in PLRF units (no ½; the FSL paper's E is half of it).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from lrwb.numerics.dynamics.expected import expected_loss
from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim, SanityCheck
from lrwb.numerics.conventions import DEFAULTS, FSL_EXACT_RELATIVE, MONTE_CARLO_SE
from lrwb.numerics.fsl.engine import fsl_curve, fsl_spectrum, intrinsic_times, mode_sum_model, power_law_model
from lrwb.numerics.io import atomic_write, save_figure, write_csv
from lrwb.numerics.schedules import parse_schedule
from lrwb.numerics.simulate import monte_carlo
from lrwb.numerics.spectra import Spectrum
from lrwb.numerics.stability import renewal_norm
from lrwb.theory.results import registry

__all__ = [
    "S", "BETA", "FEATURES", "SIGMA", "BATCH", "PEAK", "KERNEL_NORMS", "FIT_MIN_TIME", "SIZES",
    "Fig1Curve", "BandRow", "NeumannRow", "CoefficientFit", "Fig1Result",
    "fig1_spectrum", "fig1_schedules", "band_schedules", "eta_for_kernel_norm", "simulate_fig1",
    "ratio_bands", "neumann_rows", "three_coefficient_fit", "fsl_fig1",
]

NAME = "fsl_fig1"
SOURCE = "Li et al. 2025 (FSL), Fig. 1 left; fsl.md §2, §6"
S, BETA = 0.5, 4.0
FEATURES = 20
SIGMA = DEFAULTS.sigma
BATCH = 1  # not the PLRF default 5: this figure's FSL setting, B = 1 (module docstring)
PEAK = 0.08
#: LR levels of the ratio bands, as ‖K‖₁ ≈ η·tr H/(2B) (conventions.md's small-η form).
KERNEL_NORMS = {"small": 0.045, "moderate": 0.1, "large": 0.2}
#: conventions.md: FSL vs exact within 5% where ‖K‖₁ ≤ 0.05; MC vs exact within 4 SE.
FSL_TOLERANCE = FSL_EXACT_RELATIVE
MC_SIGMAS = MONTE_CARLO_SE
#: Tolerance of exact/FSL at the end of the constant LR against the derived end ratio (the Neumann factor
#: 1/(1 − R) with the step-kernel drift R_exact vs R_FSL, :func:`predicted_end_ratio`), at ‖K‖₁ ≈ 0.1 and 0.2:
#: 1% — the formula holds the slowly varying forcing δ + e(t) constant over the kernel's memory (≈ 1/(2ηλ_1)
#: steps); measured agreement 0.01–0.02%. The bare Neumann factor misses by 1.6% and 7% (shown in the note).
NEUMANN_TOLERANCE = {"moderate": 0.01, "large": 0.01}
#: "most of the gap": the Volterra solution removes more than half of the first Picard iterate's gap.
VOLTERRA_SHARE = 0.5
FIT_MIN_TIME = 10.0
FIT_WINDOWS = (1.0, 3.0, 10.0, 30.0)
#: relative tolerance on the fitted coefficients: pre-asymptotic (3–6 trained modes at t ≤ 10³); the fit
#: windows above move c_e by ±10% and c_n by more (table), so 20%.
FIT_TOLERANCE = 0.2
SIZES = {
    True: {"steps": 2000, "runs": 2500, "band_steps": 4000},  # 2500 runs: SE/MC ≤ 0.92% (conventions: ≤ 1%)
    False: {"steps": 10_000, "runs": 10_000, "band_steps": 20_000},
}
BAND_FAMILIES = ("constant", "exp", "wsd", "cosine", "cyclic")


# ----------------------------------------------------------------------------------------------------------
# problem and schedules
# ----------------------------------------------------------------------------------------------------------
def fig1_spectrum(features: int = FEATURES) -> Spectrum:
    """Top-M model of the figure with its tail δ_M (PLRF a = 1 + sβ = 3, b = β = 4)."""
    return fsl_spectrum(S, BETA, features, tail=True)


def fig1_schedules(peak: float, steps: int) -> dict[str, str]:
    """The figure's three schedules as grammar specs (conventions.md)."""
    return {"cosine": f"cosine:{peak!r},0", "wsd": f"wsd:{peak!r},0.2,{peak / 100!r}",
            "cyclic": f"cyclic:{peak!r},{peak / 10!r},{steps / 4!r}"}


def band_schedules(peak: float, steps: int) -> dict[str, str]:
    """The five families of the ratio bands at one peak LR."""
    return {"constant": f"constant:{peak!r}", "exp": f"exp:{peak!r},{peak / 100!r}",
            "wsd": f"wsd:{peak!r},0.2,{peak / 100!r}", "cosine": f"cosine:{peak!r},0",
            "cyclic": f"cyclic:{peak!r},{peak / 10!r},{steps / 8!r}"}


def eta_for_kernel_norm(spectrum: Spectrum, norm: float, batch: float = BATCH) -> float:
    """The LR at which η·tr H/(2B) = ``norm``."""
    return float(norm * 2.0 * batch / spectrum.eigenvalues.sum())


# ----------------------------------------------------------------------------------------------------------
# 1. Fig. 1 left: SGD vs FSL vs exact
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fig1Curve:
    """One schedule of the figure at the recorded steps (PLRF units, no ½)."""

    schedule: str
    spec: str
    steps: np.ndarray
    lr: np.ndarray
    intrinsic_time: np.ndarray
    mc_mean: np.ndarray
    mc_se: np.ndarray
    runs: int
    exact: np.ndarray
    fsl: np.ndarray
    power_signal: np.ndarray = field(repr=False)
    power_noise: np.ndarray = field(repr=False)
    exact_full: np.ndarray = field(repr=False)
    fsl_full: np.ndarray = field(repr=False)

    def mc_z(self) -> np.ndarray:
        """(MC − exact)/SE at the recorded steps with SE > 0 (step 0 is deterministic)."""
        ok = self.mc_se > 0
        return (self.mc_mean[ok] - self.exact[ok]) / self.mc_se[ok]

    def fsl_excess(self) -> float:
        """max_k |FSL_k − MC_k| / (5%·MC_k + 4 SE_k): ≤ 1 when the FSL is within the FSL-vs-exact tolerance of
        the SGD mean, widened by the MC tolerance at that step."""
        return float(np.max(np.abs(self.fsl - self.mc_mean) / (FSL_TOLERANCE * self.mc_mean + MC_SIGMAS * self.mc_se)))


def simulate_fig1(spectrum: Spectrum, steps: int, runs: int, *, peak: float = PEAK, seed: int = 0,
                  device: str = "cpu") -> tuple[Fig1Curve, ...]:
    """MC mean ± SE, exact expected loss and the FSL (mode sums and power-law terms) for the three schedules."""
    law = mode_sum_model(spectrum, sigma=SIGMA)
    power = power_law_model(S, BETA, sigma=SIGMA)
    backend = "numpy" if device == "cpu" else "torch"
    out = []
    for i, (name, spec) in enumerate(fig1_schedules(peak, steps).items()):
        lr = parse_schedule(spec).values(steps)
        mc = monte_carlo(spectrum, lr, sigma=SIGMA, batch=BATCH, runs=runs, seed=seed + i, backend=backend,
                         device=device)
        exact = np.asarray(expected_loss(spectrum, lr, sigma=SIGMA, batch=BATCH, parts=False).loss, dtype=float)
        fsl = fsl_curve(law, lr, batch=BATCH).loss
        pw = fsl_curve(power, lr, batch=BATCH)
        at = mc.steps
        out.append(Fig1Curve(name, spec, at, np.append(lr, np.nan)[at], intrinsic_times(lr)[at], mc.loss_mean,
                             mc.loss_se, runs, exact[at], fsl[at], pw.signal[at], pw.noise[at], exact, fsl))
    return tuple(out)


# ----------------------------------------------------------------------------------------------------------
# 2. ratio bands and the Neumann factor
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BandRow:
    """min/max/end of FSL/exact along one curve (steps 1…T)."""

    level: str
    kernel_norm: float
    eta: float
    renewal_norm: float
    schedule: str
    iterate: str
    ratio_min: float
    ratio_max: float
    ratio_end: float
    ratio: np.ndarray = field(repr=False)

    @property
    def max_deviation(self) -> float:
        return float(max(abs(self.ratio_min - 1.0), abs(self.ratio_max - 1.0)))


def ratio_bands(spectrum: Spectrum, steps: int, levels: dict[str, float] = KERNEL_NORMS) -> tuple[BandRow, ...]:
    """FSL/exact for every level × family × iterate (exact dynamics and the FSL engine, no sampling)."""
    law = mode_sum_model(spectrum, sigma=SIGMA)
    rows = []
    for level, norm in levels.items():
        eta = eta_for_kernel_norm(spectrum, norm)
        exact_norm = float(renewal_norm(eta, spectrum.eigenvalues, BATCH))
        specs = band_schedules(eta, steps)
        lrs = np.stack([parse_schedule(spec).values(steps) for spec in specs.values()])
        exact = np.asarray(expected_loss(spectrum, lrs, sigma=SIGMA, batch=BATCH, parts=False).loss, dtype=float)
        for iterate in ("picard1", "picard2", "volterra"):
            ratio = fsl_curve(law, lrs, batch=BATCH, iterate=iterate).loss[:, 1:] / exact[:, 1:]
            for name, r in zip(specs, ratio):
                rows.append(BandRow(level, norm, eta, exact_norm, name, iterate, float(r.min()), float(r.max()),
                                    float(r[-1]), r))
    return tuple(rows)


@dataclass(frozen=True)
class NeumannRow:
    """End of the constant LR: the gap exact/FSL against the Neumann factor 1/(1 − ‖K‖₁)."""

    level: str
    eta: float
    kernel_norm: float          # η tr H/(2B)
    renewal_norm: float         # the exact ‖K‖₁ (conventions.md, stability)
    neumann: float              # registry noise_floor/(σ² R) at R = the exact renewal norm
    neumann_small_eta: float    # the same with the registry's R = η ζ(β)/(2B)
    exact_over_picard1: float
    exact_over_volterra: float
    step_kernel_mass: float = float("nan")   # R_FSL = Σ_k (η²/B) λ_k²/(1 − e^{−2ηλ_k}), the FSL's kernel mass
    predicted: float = float("nan")          # derived exact/Picard-1 at the end (predicted_end_ratio)

    @property
    def volterra_share(self) -> float:
        """Fraction of the first Picard iterate's log-gap that the Volterra solution removes (NaN: no gap)."""
        gap = math.log(self.exact_over_picard1)
        return 1.0 - math.log(self.exact_over_volterra) / gap if gap > 0 else float("nan")


def neumann_factor_from_registry(norm: float, beta: float = BETA, batch: float = BATCH) -> float:
    """1/(1 − R) read off the registry: ``noise_floor_constant_lr`` = σ²R/(1 − R) with R = ``renewal_mass``
    (η ζ(b)/(2B), linear in η), evaluated at the η where that mass equals ``norm``."""
    reg = registry()
    eta = norm / float(reg.get("renewal_mass").evaluate(eta=1.0, B=batch, b=beta))
    return float(reg.get("noise_floor_constant_lr").evaluate(eta=eta, B=batch, b=beta, sigma=1.0)) / norm


def step_kernel_mass(eta: float, eigenvalues, batch: float = BATCH) -> float:
    """R_FSL = Σ_{m≥0} (η²/B) K(mη) = Σ_k (η²/B) λ_k²/(1 − e^{−2ηλ_k}): the kernel mass the FSL's step sum
    E_k = … + Σ_{i<k} (η²/B) K(t_k − t_{i+1}) F_i gives a constant η, with K(u) = Σ_k λ_k² e^{−2λ_k u}.
    The exact recursion's per-step contraction is g_k = (1 − ηλ_k)² + η²λ_k²/B instead of e^{−2ηλ_k} (the
    O(η²λ²) drift the FSL drops): its mass is the renewal norm R = Σ_k (η²/B) λ_k²/(1 − g_k)."""
    lam = np.asarray(eigenvalues, dtype=float)
    return float(np.sum(eta**2 / batch * lam**2 / -np.expm1(-2.0 * eta * lam)))


def predicted_end_ratio(eta: float, steps: int, spectrum: Spectrum, batch: float = BATCH,
                        sigma: float = SIGMA) -> tuple[float, float]:
    """(exact/Picard-1 at the end of a constant η run, R_FSL), derived for a slowly varying forcing:

        exact:      L = (δ + e)/(1 − R) + σ²R/(1 − R)    (the Neumann factor 1/(1 − R); σ²R/(1 − R) is the
                                                           registry's ``noise_floor_constant_lr``)
        Picard-1:   L = δ + e + R_FSL (σ² + δ + e)       (one pass of the FSL's own kernel, mass R_FSL)

    with R the exact renewal norm, R_FSL :func:`step_kernel_mass` and e = Σ_k λ_k c_k(0) e^{−2λ_k ηT} the
    signal left at the end (the untrained modes; δ the tail). The bare Neumann factor is the limit R_FSL → R,
    e, δ → 0."""
    lam = spectrum.eigenvalues
    r_exact = float(renewal_norm(eta, lam, batch))
    r_fsl = step_kernel_mass(eta, lam, batch)
    signal = float(np.sum(lam * spectrum.target * np.exp(-2.0 * lam * eta * steps))) + float(spectrum.tail)
    floor = neumann_factor_from_registry(r_exact) * r_exact * sigma**2  # σ²R/(1 − R)
    exact = signal * neumann_factor_from_registry(r_exact) + floor
    return exact / (signal + r_fsl * (sigma**2 + signal)), r_fsl


def neumann_rows(bands: tuple[BandRow, ...], steps: int | None = None,
                 spectrum: Spectrum | None = None) -> tuple[NeumannRow, ...]:
    """One row per LR level, from the constant schedule's end-of-training ratios (and, given the bands'
    ``steps``, the derived end ratio :func:`predicted_end_ratio`)."""
    spectrum = fig1_spectrum() if spectrum is None else spectrum
    out = []
    for level in dict.fromkeys(b.level for b in bands):
        end = {b.iterate: b for b in bands if b.level == level and b.schedule == "constant"}
        p1 = end["picard1"]
        small = float(registry().get("renewal_mass").evaluate(eta=p1.eta, B=BATCH, b=BETA))
        predicted, r_fsl = (predicted_end_ratio(p1.eta, steps, spectrum) if steps is not None
                            else (float("nan"), step_kernel_mass(p1.eta, spectrum.eigenvalues)))
        out.append(NeumannRow(level, p1.eta, p1.kernel_norm, p1.renewal_norm,
                              neumann_factor_from_registry(p1.renewal_norm), neumann_factor_from_registry(small),
                              1.0 / p1.ratio_end, 1.0 / end["volterra"].ratio_end, r_fsl, predicted))
    return tuple(out)


# ----------------------------------------------------------------------------------------------------------
# 3. the paper's 3-coefficient fit
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoefficientFit:
    """L ≈ c_approx + c_signal (1 + t)^{−s} + c_noise N_pow(t) on the points with t ≥ t_min."""

    t_min: float
    c_approx: float
    c_signal: float
    c_noise: float
    max_rel_error: float
    rms_rel_error: float
    points: int
    unfitted_max_rel_error: float   # the exact-constant FSL on the same points

    def predict(self, curve: Fig1Curve) -> np.ndarray:
        return self.c_approx + self.c_signal * curve.power_signal + self.c_noise * curve.power_noise


def three_coefficient_fit(curves: tuple[Fig1Curve, ...], t_min: float = FIT_MIN_TIME) -> CoefficientFit:
    """Non-negative least squares on relative residuals, all schedules at once."""
    design, target, unfitted = [], [], []
    for c in curves:
        sel = c.intrinsic_time >= t_min
        design.append(np.stack([np.ones(sel.sum()), c.power_signal[sel], c.power_noise[sel]], axis=1))
        target.append(c.mc_mean[sel])
        unfitted.append(c.fsl[sel])
    a, y, u = np.concatenate(design), np.concatenate(target), np.concatenate(unfitted)
    if y.size < 3:
        raise ValueError(f"t_min = {t_min!r} leaves {y.size} points: the fit needs at least 3")
    coef, _ = nnls(a / y[:, None], np.ones_like(y))
    rel = a @ coef / y - 1.0
    return CoefficientFit(float(t_min), *(float(c) for c in coef), float(np.max(np.abs(rel))),
                          float(np.sqrt(np.mean(rel**2))), int(y.size), float(np.max(np.abs(u / y - 1.0))))


def derived_coefficients() -> dict[str, float]:
    """c_signal = Γ(s)/(β 2^s) (t^{−s} prefactor of e_M), c_noise = (ζ(β)/2)/‖(1 + u)^{−(2−1/β)}‖₁."""
    reg = registry()
    signal = float(reg.get("signal_continuum_fsl").evaluate(s=S, beta=BETA, t=1.0))
    mass = float(reg.get("kernel_l1_norm").evaluate(b=BETA))
    return {"signal": signal, "noise": mass / power_law_model(S, BETA, sigma=SIGMA).kernel_mass()}


# ----------------------------------------------------------------------------------------------------------
# result, claims, files
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fig1Result:
    """Everything :func:`fsl_fig1` computed; ``claims`` are derived from it."""

    curves: tuple[Fig1Curve, ...]
    bands: tuple[BandRow, ...]
    neumann: tuple[NeumannRow, ...]
    fits: tuple[CoefficientFit, ...]
    derived_fit: dict
    runtime_s: float
    files: tuple[str, ...]

    @property
    def fit(self) -> CoefficientFit:
        """The fit the claims use (t ≥ FIT_MIN_TIME)."""
        return next(f for f in self.fits if f.t_min == FIT_MIN_TIME)

    @property
    def claims(self) -> tuple[Claim, ...]:
        kw = {"source": SOURCE}
        out = []
        for c in self.curves:
            out.append(Claim.at_most(NAME, f"MC vs exact, {c.schedule}: max |z|", MC_SIGMAS,
                                     float(np.max(np.abs(c.mc_z()))),
                                     note=f"{c.runs} runs, {c.steps.size} log-spaced steps, T = {c.steps[-1]}",
                                     **kw))
        for c in self.curves:
            out.append(Claim.at_most(NAME, f"FSL vs SGD mean, {c.schedule}: max |FSL−MC|/(5%·MC + 4 SE)",
                                     1.0, c.fsl_excess(),
                                     note=f"peak η = {PEAK:g}, ‖K‖₁ ≈ {PEAK * fig1_norm_per_lr():.3f}; max SE/MC = "
                                          f"{np.max(c.mc_se / c.mc_mean):.3g}", **kw))
        small = [b for b in self.bands if b.level == "small"]
        for b in small:
            if b.iterate == "picard1":
                out.append(Claim.at_most(NAME, f"FSL/exact band, {b.schedule}, ‖K‖₁ ≈ {b.kernel_norm:g}: max |ratio−1|",
                                         FSL_TOLERANCE, b.max_deviation,
                                         note=f"first Picard iterate; band [{b.ratio_min:.4f}, {b.ratio_max:.4f}]", **kw))
        for iterate in ("picard2", "volterra"):
            worst = max((b for b in small if b.iterate == iterate), key=lambda b: b.max_deviation)
            out.append(Claim.at_most(NAME, f"{iterate}/exact band, all schedules, ‖K‖₁ ≈ {worst.kernel_norm:g}",
                                     FSL_TOLERANCE, worst.max_deviation, note=f"worst: {worst.schedule}", **kw))
        for row in self.neumann:
            if row.level not in NEUMANN_TOLERANCE:
                continue
            out.append(Claim.relative(NAME, f"Neumann factor with the step-kernel drift: exact/FSL at the end of "
                                      f"constant η = {row.eta:.3g}", row.predicted, row.exact_over_picard1,
                                      NEUMANN_TOLERANCE[row.level],
                                      note=f"derived (δ+e+σ²R)/(1−R) ÷ (δ+e+R_FSL(σ²+δ+e)): exact renewal norm "
                                           f"R = {row.renewal_norm:.4f}, FSL step-kernel mass R_FSL = "
                                           f"{row.step_kernel_mass:.4f} (dropped O(η²λ²) drift, ηλ_1 = "
                                           f"{row.eta:.3f}); the bare Neumann factor 1/(1−R) = {row.neumann:.4f} "
                                           f"misses by {100 * abs(row.exact_over_picard1 / row.neumann - 1):.1f}% "
                                           f"(η trH/(2B) = {row.kernel_norm:g} gives {row.neumann_small_eta:.4f}); "
                                           f"Volterra leaves exact/FSL = {row.exact_over_volterra:.4f}", **kw))
            out.append(SanityCheck.at_least(NAME, f"Volterra removes most of the gap at η = {row.eta:.3g}",
                                            VOLTERRA_SHARE, row.volterra_share,
                                            note="no derived value: ½ is a chosen threshold; share of "
                                                 "log(exact/FSL) removed", **kw))
        fit, derived = self.fit, self.derived_fit
        out.append(Claim.relative(NAME, f"3-coef fit: c_signal (t ≥ {fit.t_min:g})", derived["signal"], fit.c_signal,
                                  FIT_TOLERANCE, note="registry signal_continuum_fsl at t = 1: Γ(s)/(β 2^s)", **kw))
        out.append(Claim.relative(NAME, f"3-coef fit: c_noise (t ≥ {fit.t_min:g})", derived["noise"], fit.c_noise,
                                  FIT_TOLERANCE, note="registry kernel_l1_norm / power kernel mass β/(β−1)", **kw))
        out.append(SanityCheck.at_most(NAME, "exact-constant FSL (unfitted) at least as close as the 3-coef fit",
                                       fit.max_rel_error, fit.unfitted_max_rel_error,
                                       note=f"no derived value: the bound is the fit's measured error; max "
                                            f"relative error vs the SGD mean on t ≥ {fit.t_min:g}", **kw))
        return tuple(out)

    def markdown(self) -> str:
        lines = [f"FSL Fig. 1 left: s = {S:g}, β = {BETA:g} (hard), top-M = {FEATURES} with tail, σ = {SIGMA:g}, "
                 f"B = {BATCH}, peak η = {PEAK:g}.", "",
                 "| schedule | runs | max SE/MC | max |MC−exact|/SE | FSL/MC range | max |FSL−MC|/(5%·MC + 4SE) |",
                 "|---|---|---|---|---|---|"]
        for c in self.curves:
            r = c.fsl / c.mc_mean
            lines.append(f"| {c.schedule} | {c.runs} | {np.max(c.mc_se / c.mc_mean):.4f} | "
                         f"{np.max(np.abs(c.mc_z())):.2f} | [{r.min():.4f}, {r.max():.4f}] | {c.fsl_excess():.4f} |")
        lines += ["", "FSL/exact along the curve (min–max over steps 1…T; end value):", "",
                  "| ‖K‖₁ ≈ ηtrH/2B | η | exact ‖K‖₁ | schedule | Picard-1 | Picard-2 | Volterra |", "|---|---|---|---|---|---|---|"]
        for level in dict.fromkeys(b.level for b in self.bands):
            for name in BAND_FAMILIES:
                cells = {b.iterate: b for b in self.bands if b.level == level and b.schedule == name}
                b = cells["picard1"]
                lines.append(f"| {b.kernel_norm:g} | {b.eta:.4f} | {b.renewal_norm:.4f} | {name} | " + " | ".join(
                    f"{cells[i].ratio_min:.3f}–{cells[i].ratio_max:.3f} ({cells[i].ratio_end:.3f})"
                    for i in ("picard1", "picard2", "volterra")) + " |")
        lines += ["", "| level | η | exact ‖K‖₁ | FSL step mass | 1/(1−‖K‖₁) | 1/(1−ηtrH/2B) | derived end ratio | "
                  "exact/Picard-1 | exact/Volterra |", "|---|---|---|---|---|---|---|---|---|"]
        for n in self.neumann:
            lines.append(f"| {n.level} | {n.eta:.4f} | {n.renewal_norm:.4f} | {n.step_kernel_mass:.4f} | {n.neumann:.4f} | "
                         f"{n.neumann_small_eta:.4f} | {n.predicted:.4f} | {n.exact_over_picard1:.4f} | "
                         f"{n.exact_over_volterra:.4f} |")
        d = self.derived_fit
        lines += ["", f"3-coefficient fit (power-law forms; derived c_signal = {d['signal']:.4f}, c_noise = {d['noise']:.4f}):",
                  "", "| t ≥ | points | c_approx | c_signal | c_noise | max rel err | rms rel err | unfitted exact-constant FSL max |",
                  "|---|---|---|---|---|---|---|---|"]
        for f in self.fits:
            lines.append(f"| {f.t_min:g} | {f.points} | {f.c_approx:.4g} | {f.c_signal:.4f} | {f.c_noise:.4f} | "
                         f"{f.max_rel_error:.4f} | {f.rms_rel_error:.4f} | {f.unfitted_max_rel_error:.4f} |")
        return "\n".join(lines)


def fig1_norm_per_lr() -> float:
    """‖K‖₁/η ≈ tr H/(2B) of the figure's model."""
    return float(fig1_spectrum().eigenvalues.sum() / (2.0 * BATCH))


def _write_csv(result: Fig1Result, out: Path) -> list[Path]:
    paths = [out / f"{NAME}_curves.csv", out / f"{NAME}_bands.csv", out / f"{NAME}_fit.csv"]
    fit = result.fit
    rows = []
    for c in result.curves:
        pred = fit.predict(c)
        # specs hold commas ("cosine:0.08,0"): write_csv quotes them; no LR is taken at the last step
        rows += [(c.schedule, c.spec, int(step), c.lr[i] if np.isfinite(c.lr[i]) else None, c.intrinsic_time[i],
                  c.mc_mean[i], c.mc_se[i], c.runs, c.exact[i], c.fsl[i], pred[i]) for i, step in enumerate(c.steps)]
    write_csv(paths[0], ["schedule", "spec", "step", "lr", "intrinsic_time", "mc_mean", "mc_se", "runs", "exact", "fsl",
                         "fsl_3coef_fit"], rows)
    with atomic_write(paths[1]) as h:
        h.write("level,kernel_norm,eta,renewal_norm,schedule,iterate,ratio_min,ratio_max,ratio_end\n")
        for b in result.bands:
            h.write(f"{b.level},{b.kernel_norm!r},{b.eta!r},{b.renewal_norm!r},{b.schedule},{b.iterate},"
                    f"{b.ratio_min!r},{b.ratio_max!r},{b.ratio_end!r}\n")
    with atomic_write(paths[2]) as h:
        h.write("t_min,points,c_approx,c_signal,c_noise,max_rel_error,rms_rel_error,unfitted_max_rel_error,"
                "derived_c_signal,derived_c_noise\n")
        for f in result.fits:
            h.write(f"{f.t_min!r},{f.points},{f.c_approx!r},{f.c_signal!r},{f.c_noise!r},{f.max_rel_error!r},"
                    f"{f.rms_rel_error!r},{f.unfitted_max_rel_error!r},{result.derived_fit['signal']!r},"
                    f"{result.derived_fit['noise']!r}\n")
    return paths


def _plot(result: Fig1Result, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    fit = result.fit
    for i, c in enumerate(result.curves):
        color = f"C{i}"
        x = np.maximum(c.steps, 1)
        ax.errorbar(x, c.mc_mean, yerr=MC_SIGMAS * c.mc_se, fmt="o", ms=3, color=color, alpha=0.7,
                    label=f"{c.schedule}: SGD mean ({c.runs} runs, ±4 SE)")
        steps = np.unique(np.geomspace(1, c.exact_full.size - 1, 800).astype(int))
        ax.loglog(steps, c.exact_full[steps], "-", color=color, lw=0.8, alpha=0.6)
        ax.loglog(steps, c.fsl_full[steps], "--", color="k", lw=1.0)
        fitted = c.intrinsic_time >= fit.t_min  # the power forms are fitted (and hold) only there
        ax.loglog(x[fitted], fit.predict(c)[fitted], ":", color=color, lw=1.6)
    ax.plot([], [], "-", color="gray", lw=0.8, label="exact expected loss")
    ax.plot([], [], "--", color="k", label="FSL, exact constants (unfitted)")
    ax.plot([], [], ":", color="gray", label=f"FSL power form, 3-coef fit (t ≥ {fit.t_min:g})")
    ax.set_xlabel("step k")
    ax.set_ylabel("excess loss (PLRF units)")
    ax.set_title(f"Fig. 1 left: s={S:g}, β={BETA:g}, peak η={PEAK:g}")
    ax.legend(fontsize=6, loc="lower left")
    for ax, level in zip(axes[1:], ("small", "large")):
        rows = [b for b in result.bands if b.level == level]
        for i, name in enumerate(BAND_FAMILIES):
            for b in rows:
                if b.schedule != name or b.iterate == "picard2":
                    continue
                style = "-" if b.iterate == "picard1" else ":"
                # every step up to 200, then ~600 log-spaced ones (keeps the cyclic wiggles, not 10⁴ points)
                at = np.unique(np.concatenate([np.arange(1, min(200, b.ratio.size) + 1),
                                               np.geomspace(1, b.ratio.size, 600).astype(int)]))
                ax.semilogx(at, b.ratio[at - 1], style, color=f"C{i}", lw=1.0,
                            label=f"{name}" if b.iterate == "picard1" else None)
        norm = rows[0]
        if level == "small":
            ax.axhspan(1 - FSL_TOLERANCE, 1 + FSL_TOLERANCE, color="0.9", zorder=0)
        else:
            neumann = next(n for n in result.neumann if n.level == level)
            ax.axhline(1.0 / neumann.neumann, ls="--", color="k", lw=1.0, label="1/Neumann factor")
        ax.set_xlabel("step k")
        ax.set_ylabel("FSL / exact")
        ax.plot([], [], ":", color="gray", label="Volterra (solid: Picard-1 = FSL)")
        ax.set_title(f"FSL/exact at η = {norm.eta:.3f} (ηtrH/2B = {norm.kernel_norm:g})")
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return save_figure(fig, out / f"{NAME}")


@experiment(NAME, title="FSL vs SGD vs exact dynamics: Fig. 1 left, ratio bands, Neumann factor, 3-coef fit",
            source="Li et al. 2025 (FSL), Fig. 1 left", budget_s=30)
def fsl_fig1(out_dir, quick: bool = True, *, steps: int | None = None, runs: int | None = None,
             band_steps: int | None = None, seed: int = 0, device: str = "cpu") -> Fig1Result:
    """Compute the figure, the bands and the fit, write CSVs and the figure; ``runtime_s`` counts the computation."""
    size = dict(SIZES[bool(quick)])
    size.update({k: v for k, v in (("steps", steps), ("runs", runs), ("band_steps", band_steps)) if v is not None})
    out = Path(out_dir)
    start = time.perf_counter()
    spectrum = fig1_spectrum()
    boundary = float(registry().get("fsl_phase_boundary").evaluate(beta=BETA))
    if not S < boundary:
        raise ValueError(f"s = {S} must be < 1 − 1/β = {boundary} (the figure is the hard regime)")
    curves = simulate_fig1(spectrum, size["steps"], size["runs"], seed=seed, device=device)
    bands = ratio_bands(spectrum, size["band_steps"])
    # the sensitivity windows that have points at this horizon (the claims' window t ≥ 10 must)
    fits = tuple(three_coefficient_fit(curves, t) for t in FIT_WINDOWS
                 if t == FIT_MIN_TIME or sum(int(np.sum(c.intrinsic_time >= t)) for c in curves) >= 3)
    result = Fig1Result(curves, bands, neumann_rows(bands, size["band_steps"], spectrum), fits, derived_coefficients(),
                        time.perf_counter() - start, ())
    files = _write_csv(result, out) + _plot(result, out)
    return Fig1Result(curves, bands, result.neumann, fits, result.derived_fit, result.runtime_s,
                      tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/fsl_fig1")
    res = fsl_fig1(target, quick="--full" not in sys.argv)
    print(res.markdown())
    from lrwb.experiments.claims import claims_markdown

    print(claims_markdown(res.claims))
    print(f"runtime {res.runtime_s:.1f} s; files: {', '.join(res.files)}")
