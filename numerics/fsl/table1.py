"""Table 1 of the FSL paper, numerically: optimise each schedule family under the FSL, fit the exponents.

The law (``lrwb.numerics.fsl.engine`` conventions; PLRF units, no ½) is the FSL proper, in continuous intrinsic time z:

    E = δ_M + e_M(Z) + ∫_0^Z K_M(Z − z) γ(z) (δ_M + e_M(z) + σ²) dz,   Z the total intrinsic time,

for the top-M model λ_j = j^{−β}, λ_jθ_j² = j^{−(sβ+1)} (mode sums, exact Gaussian constants), B = 1. The three
families have γ(z) piecewise *linear in intrinsic time* (an exponential decay in steps, dη/dk = −λη, is
dη/dz = −λ), so with e_M and K_M compressed to sums of exponentials (``lrwb.numerics.sumexp.compress_modes``) the
integral is closed form, O(Q²) per evaluation and independent of D (:func:`continuous_final_loss`; checked
against the discrete step-unit engine in the tests):

- constant η: γ = η on [0, Z], Z = ηK;
- exponential decay η_p → η_f over K steps: Z = (η_p − η_f)K/log(η_p/η_f), γ linear from η_p to η_f;
- WSD: η_p for (1 − r)K steps (Z_1 = η_p(1 − r)K), then the exponential decay over rK steps.

Data-limited cells: D = K (B = 1), M so large that the modes beyond it never train (M^β ≥ 100 Z), their power
kept as the tail δ_M: the M = ∞ problem. (Without the tail, the ladder's largest size lost the power of the
modes beyond M — 25% of the untrained signal at s = 0.3 — and its loss dropped by that much: the last
local slopes steepened, 0.37 → 0.57 → 1.8 in the log power of E_exp/E_WSD at D = 10¹²…10¹⁶.)
Compute-limited cells: C = M·D with the tail δ_M = Σ_{j>M} j^{−(sβ+1)}, M optimised too. The LR is capped at
half the stability bound (conventions.md). The fitted exponent is the slope of log(E*/(log X)^l) against log X
with l the derived log power (``theory`` registry ``fsl_loss_*``); the raw slope is reported as well. The
log-factor claim (iii) is checked through the growth of E*_exp/E*_WSD against log X (:func:`wsd_gain`).

Numerics only: the optima, the fits, the table's data (:func:`build_table1`, :meth:`Table1.csv`) and its figure
(:func:`plot_table1`). The verdicts (±0.05), the table's markdown and its files are
:mod:`lrwb.experiments.fsl_table1`'s.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from lrwb.numerics.analysis.slopes import loglog_slope
from lrwb.numerics.fsl.engine import check_exponents
from lrwb.numerics.sumexp import ExpSum, compress_modes
from lrwb.numerics.io import atomic_savefig, csv_text
from lrwb.numerics.stability import stability_bound

SCHEDULES = ("constant", "exp", "wsd")
LIMITS = ("data", "compute")
PHASES = ("easy", "hard")
#: exponents used for each phase (β = 2: boundary s = 1/2).
PHASE_EXPONENTS = {"easy": (1.0, 2.0), "hard": (0.3, 2.0)}
#: ranges of D (data-limited) and C (compute-limited), as log10 (start, stop, points).
SIZES = {
    "ci": {"data": (4.0, 8.0, 9), "compute": (7.0, 11.0, 9), "gain": (4.0, 24.0, 11)},
    "full": {"data": (3.0, 10.0, 15), "compute": (6.0, 13.0, 15), "gain": (4.0, 40.0, 19)},
    # quick: the compute-limited cells on a short range (each size optimises M too: ≈ 40× a data-limited size)
    "quick": {"data": (4.0, 8.0, 9), "compute": (7.0, 11.0, 5), "gain": (4.0, 24.0, 11)},
}
#: M grid points per decade of the compute-limited search, per size
PER_DECADE = {"ci": 8, "full": 8, "quick": 3}
SIGMA = 0.5


# ---------------------------------------------------------------------------------------------------
# the continuous FSL for piecewise-linear γ(z)
# ---------------------------------------------------------------------------------------------------
def _exp_integrals(k: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(∫_0^L e^{−kv} dv, ∫_0^L v e^{−kv} dv) for k ≥ 0 elementwise (series near kL = 0)."""
    kl = k * length
    small = kl < 1e-4
    ks = np.where(small, 1.0, k)
    i0 = np.where(small, length * (1 - kl / 2 + kl**2 / 6), -np.expm1(-kl) / ks)
    i1 = np.where(small, length**2 * (0.5 - kl / 3 + kl**2 / 8),
                  (1.0 - np.exp(-kl) * (1.0 + kl)) / ks**2)
    return i0, i1


def continuous_final_loss(kernel: ExpSum, signal: ExpSum, approx: float, sigma: float,
                          segments: list[tuple[float, float, float, float]]) -> float:
    """E at Z = the last segment's end, for γ(z) = g0 + (g1 − g0)(z − z0)/(z1 − z0) on each (z0, z1, g0, g1).

    Each term ∫ e^{−ρ(Z − z) − r z} γ(z) dz (kernel node ρ, forcing node r; r = 0 for the constant
    forcing σ² + δ) is integrated exactly, measured from the segment end where the exponent is largest.
    """
    total_time = segments[-1][1]
    rho = kernel.rates[:, None]
    r = np.concatenate(([0.0], signal.rates))[None, :]
    f = np.concatenate(([sigma**2 + approx], signal.weights))[None, :]
    kappa = rho - r  # slope of the exponent A(z) = −ρ(Z − z) − r z
    noise = 0.0
    for z0, z1, g0, g1 in segments:
        length = z1 - z0
        if length <= 0:
            continue
        a0 = -rho * (total_time - z0) - r * z0
        a1 = -rho * (total_time - z1) - r * z1
        top_at_end = kappa >= 0
        peak = np.where(top_at_end, a1, a0)
        g_top = np.where(top_at_end, g1, g0)
        slope = np.where(top_at_end, -(g1 - g0), (g1 - g0)) / length  # dγ/dv, v = distance from the top end
        i0, i1 = _exp_integrals(np.abs(kappa), np.full_like(kappa, length))
        noise += float(np.sum(kernel.weights[:, None] * f * np.exp(peak) * (g_top * i0 + slope * i1)))
    return approx + float(signal(np.array([total_time]))[0]) + noise


def schedule_segments(family: str, steps: float, peak: float, ratio: float = 1.0, fraction: float = 1.0):
    """γ(z) segments of a family with K = ``steps`` (B = 1): ``ratio`` = η_p/η_f ≥ 1, ``fraction`` = r."""
    if family == "constant":
        return [(0.0, peak * steps, peak, peak)]
    final = peak / ratio
    decay_steps = steps if family == "exp" else fraction * steps
    stable = 0.0 if family == "exp" else peak * (1 - fraction) * steps
    decay = (peak - final) * decay_steps / math.log(ratio) if ratio > 1 + 1e-12 else peak * decay_steps
    segs = [(0.0, stable, peak, peak)] if stable > 0 else []
    return segs + [(stable, stable + decay, peak, final)]


# ---------------------------------------------------------------------------------------------------
# one FSL problem (top-M mode sums)
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TopModel:
    """Compressed top-M mode sums: K_M, e_M (for intrinsic times up to ``horizon``) and δ_M."""

    s: float
    beta: float
    features: int
    kernel: ExpSum
    signal: ExpSum
    approx: float

    @classmethod
    def build(cls, s: float, beta: float, features: int, horizon: float, *, tail: bool, order: int = 3,
              ratio: float = 4.0) -> "TopModel":
        """Compression (order 3, bins ×4): ~2e−3 relative on the final loss vs order 6 / ×2 (an exponent error
        ≲ 1e−3 over 4 decades), 6× cheaper; order 4 / ×3 gives 4e−5 at 4× cheaper.

        Beyond ``EXACT_MODES`` modes the sums are a quadrature (:func:`mode_nodes`), so M (and D) can be huge."""
        j, mass = mode_nodes(int(features))
        lam = j**-beta
        power = mass * j ** -(s * beta + 1)  # λ_j θ_j² (times the number of modes a node stands for)
        approx = float(special.zeta(s * beta + 1, features + 1)) if tail else 0.0
        return cls(s, beta, int(features), compress_modes(2 * lam, mass * lam**2, horizon=horizon, order=order,
                                                          ratio=ratio),
                   compress_modes(2 * lam, power, horizon=horizon, order=order, ratio=ratio), approx)

    def loss(self, family: str, steps: float, peak: float, ratio: float = 1.0, fraction: float = 1.0) -> float:
        segs = schedule_segments(family, steps, peak, ratio, fraction)
        return continuous_final_loss(self.kernel, self.signal, self.approx, SIGMA, segs)


#: modes summed one by one; beyond, the sums over j are a quadrature (mode_nodes)
EXACT_MODES = 20_000
#: quadrature nodes per decade of j beyond EXACT_MODES
NODES_PER_DECADE = 64


def mode_nodes(features: int) -> tuple[np.ndarray, np.ndarray]:
    """(j, multiplicity) standing for the modes 1 … M: every j ≤ ``EXACT_MODES`` with multiplicity 1, then
    Σ_{J<j≤M} f(j) ≈ ∫_{J+½}^{M+½} f(j) dj (midpoint Euler–Maclaurin, relative error O(J^{−2})) by the
    trapezoid rule in log j, ``NODES_PER_DECADE`` nodes per decade (f = j^{−p}e^{−c j^{−β}} is smooth in log j:
    the rule is spectrally accurate; 1e−9 relative on Σ j^{−2} checked in the tests)."""
    m = int(features)
    if m <= EXACT_MODES:
        return np.arange(1, m + 1, dtype=float), np.ones(m)
    exact = np.arange(1, EXACT_MODES + 1, dtype=float)
    lo, hi = math.log(EXACT_MODES + 0.5), math.log(m + 0.5)
    count = max(int(math.ceil(NODES_PER_DECADE * (hi - lo) / math.log(10.0))), 2) + 1
    x = np.linspace(lo, hi, count)
    w = np.full(count, (hi - lo) / (count - 1))
    w[[0, -1]] *= 0.5
    nodes = np.exp(x)
    return np.concatenate([exact, nodes]), np.concatenate([np.ones(EXACT_MODES), w * nodes])  # dj = j d log j


def data_limited_features(beta: float, horizon: float) -> int:
    """M with M^β ≥ 100·Z (the untrained modes never move: e_M = e_∞ on [0, Z]), at least 1000."""
    return int(max(1000, math.ceil((100.0 * horizon) ** (1.0 / beta))))


@dataclass(frozen=True)
class Optimum:
    """The best hyper-parameters of one family at one size, and its final loss."""

    size: float
    loss: float
    peak: float
    ratio: float = 1.0
    fraction: float = 1.0
    features: int = 0


def optimise_family(model: TopModel, family: str, steps: float, eta_cap: float, *,
                    start: Optimum | None = None) -> Optimum:
    """Minimise the final loss over log η_p ∈ [log(η_cap) − 20, log η_cap], log(η_p/η_f) ∈ [0.01, 60],
    r ∈ [1e−8, 1] (WSD; r* falls as D^{−0.4} log D in the hard phase, below 1e−4 beyond D ≈ 1e20): a coarse grid, then L-BFGS-B from the best grid points (WSD: the best 4 of a 9-point
    grid in log r — with fewer, L-BFGS-B can stop on the r = 1 edge, i.e. at the exp decay, at some sizes).
    ``start``: a neighbouring problem's optimum (the next M of a compute-limited search): L-BFGS-B from it and
    from the best point of a coarse grid (5 × 3 × 5), instead of the full grid."""
    lo_eta = math.log(eta_cap) - 20.0

    def unpack(x):
        peak = math.exp(min(x[0], math.log(eta_cap)))
        ratio = math.exp(x[1]) if family != "constant" else 1.0
        fraction = 10.0 ** x[2] if family == "wsd" else 1.0
        return peak, ratio, min(fraction, 1.0)

    def objective(x):
        return math.log(model.loss(family, steps, *unpack(x)))

    bounds = [(lo_eta, math.log(eta_cap))]
    grids = [np.linspace(lo_eta, math.log(eta_cap), 17)]
    if family != "constant":
        bounds.append((0.01, 60.0))
        grids.append(np.linspace(0.01, 60.0, 7))
    if family == "wsd":
        bounds.append((-8.0, 0.0))
        grids.append(np.linspace(-8.0, 0.0, 9))
    if start is not None:  # warm start: a coarse grid for a second start only
        grids = [g[:: max(1, (g.size - 1) // k)] for g, k in zip(grids, (4, 2, 4))]
    mesh = np.stack(np.meshgrid(*grids, indexing="ij"), -1).reshape(-1, len(grids))
    values = np.array([objective(x) for x in mesh])
    starts = list(mesh[np.argsort(values)[:4 if family == "wsd" else 2]])
    if start is not None:
        warm = [math.log(start.peak), math.log(max(start.ratio, 1.0 + 1e-12)), math.log10(max(start.fraction, 1e-8))]
        starts = [np.clip(warm[:len(bounds)], [b[0] for b in bounds], [b[1] for b in bounds])] + starts[:1]
    best_x, best_v = None, np.inf
    for start_x in starts:
        res = optimize.minimize(objective, start_x, method="L-BFGS-B", bounds=bounds)
        if res.fun < best_v:
            best_x, best_v = res.x, res.fun
    peak, ratio, fraction = unpack(best_x)
    return Optimum(size=steps, loss=math.exp(best_v), peak=peak, ratio=ratio, fraction=fraction,
                   features=model.features)


def eta_cap_for(beta: float, batch: float = 1.0) -> float:
    """Half the stability bound of the top-M model (M = 10⁴ modes; the bound falls with M, to its limit)."""
    lam = np.arange(1, 10_001, dtype=float) ** -beta
    return 0.5 * stability_bound(lam, batch)


def data_limited_optima(s: float, beta: float, family: str, sizes: np.ndarray) -> list[Optimum]:
    """Optimal final loss of a family for each data size D (B = 1, K = D), M = ∞ in effect."""
    cap = eta_cap_for(beta)
    horizon = cap * float(np.max(sizes))
    model = TopModel.build(s, beta, data_limited_features(beta, horizon), horizon, tail=True)
    out: list[Optimum] = []
    for d in sizes:  # warm start from the previous size (the optimum moves smoothly with log D)
        out.append(optimise_family(model, family, float(d), cap, start=out[-1] if out else None))
    return out


def compute_limited_optima(s: float, beta: float, family: str, sizes: np.ndarray, *, per_decade: int = 8
                           ) -> list[Optimum]:
    """Optimal final loss of a family for each compute C = M·D, over M (log grid, then a local refinement)."""
    cap = eta_cap_for(beta)
    out = []
    cache: dict[int, TopModel] = {}
    horizon = cap * float(np.max(sizes)) / 2.0

    def at(m: int, c: float, previous: Optimum | None = None) -> Optimum:
        if m not in cache:
            cache[m] = TopModel.build(s, beta, m, horizon, tail=True)
        opt = optimise_family(cache[m], family, c / m, cap, start=previous)
        return Optimum(size=c, loss=opt.loss, peak=opt.peak, ratio=opt.ratio, fraction=opt.fraction, features=m)

    for c in sizes:
        grid = np.unique(np.round(np.logspace(1, math.log10(c) / 2, int(per_decade * math.log10(c) / 2))).astype(int))
        results = []
        for m in grid:  # warm start from the neighbouring M (the optimum moves smoothly with M)
            results.append(at(int(m), float(c), results[-1] if results else None))
        best = min(range(len(results)), key=lambda i: results[i].loss)
        lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        fine = np.unique(np.round(np.geomspace(lo, hi, 7)).astype(int))
        nearest = results[best]
        results += [at(int(m), float(c), nearest) for m in fine if m not in grid]
        out.append(min(results, key=lambda o: o.loss))
    return out


# ---------------------------------------------------------------------------------------------------
# derived entries and fits
# ---------------------------------------------------------------------------------------------------
def result_name(family: str, limit: str, phase: str) -> str:
    """Registry name of the Table-1 entry (the constant LR has one entry for both phases)."""
    return f"fsl_loss_{family}_{limit}" + ("" if family == "constant" else f"_{phase}")


def _registry_get(name: str):
    from lrwb.theory.results import registry

    return registry().get(name)


def derived_exponents(family: str, limit: str, phase: str, s: float, beta: float) -> tuple[float, float]:
    """(rate, log power) of the derived entry X^{−rate}(log X)^{log power} at (s, β), from the theory registry."""
    import sympy as sp

    from lrwb.theory import params as P
    from lrwb.theory.balance import log_monomial

    result = _registry_get(result_name(family, limit, phase))
    big = P.D if limit == "data" else P.C
    _, power, log_power = log_monomial(result.expr, big, ())
    point = {P.s: s, P.beta: beta}
    return -float(sp.N(power.subs(point))), float(sp.N(sp.sympify(log_power).subs(point)))


def fit_exponent(sizes, losses, log_power: float = 0.0) -> float:
    """Slope −d log(E/(log X)^l)/d log X by least squares."""
    return -loglog_slope(sizes, losses, log_power=log_power)


@dataclass(frozen=True)
class Cell:
    """One Table-1 cell: derived vs fitted rate, and the optima behind the fit."""

    family: str
    limit: str
    phase: str
    s: float
    beta: float
    derived_rate: float
    derived_log_power: float
    fitted_rate: float
    raw_rate: float
    optima: tuple[Optimum, ...] = field(repr=False)
    seconds: float = 0.0  # wall time of the optimisation (one core)

    @property
    def result_name(self) -> str:
        """Registry name of the derived entry."""
        return result_name(self.family, self.limit, self.phase)


def table1_cell(family: str, limit: str, phase: str, *, size: str = "ci", points: int | None = None) -> Cell:
    """Optimise ``family`` over the size range of ``size`` (``points`` overrides the number of sizes)."""
    s, beta = check_exponents(*PHASE_EXPONENTS[phase])
    start, stop, n = SIZES[size][limit]
    sizes = np.logspace(start, stop, points or n)
    clock = time.perf_counter()
    if limit == "data":
        optima = data_limited_optima(s, beta, family, sizes)
    else:
        optima = compute_limited_optima(s, beta, family, sizes, per_decade=PER_DECADE[size])
    seconds = time.perf_counter() - clock
    rate, logp = derived_exponents(family, limit, phase, s, beta)
    losses = [o.loss for o in optima]
    return Cell(family, limit, phase, s, beta, rate, logp, fit_exponent(sizes, losses, logp),
                fit_exponent(sizes, losses), tuple(optima), seconds)


@dataclass(frozen=True)
class Gain:
    """Claim (iii): E*_exp/E*_WSD against log X, its local log powers and their limit.

    The local log power between neighbouring sizes is d log(E_exp/E_WSD)/d log log X; the measured value is its
    X → ∞ limit under p_i = p_∞ + c·(log X̄_i)^{−q} (:func:`lrwb.numerics.analysis.asymptotics.extrapolate` with x = log X)
    over the upper half of the ladder (≥ 7 sizes; the log model p_∞ + c/log log X̄ otherwise), or the last local
    power when that fit finds no curvature (``extrapolation.determined`` False)."""

    limit: str
    phase: str
    derived: float
    sizes: tuple[float, ...]
    ratio: tuple[float, ...]
    fitted: float                      # least squares of log ratio against log log X over all sizes
    extrapolation: object              # lrwb.numerics.analysis.asymptotics.Extrapolation

    @property
    def measured(self) -> float:
        x = self.extrapolation
        return x.value if x.determined else x.last_slope

    def note(self) -> str:
        x = self.extrapolation
        return (f"X = {self.sizes[0]:.0e}…{self.sizes[-1]:.0e} ({len(self.sizes)} sizes); local log powers "
                + ", ".join(f"{v:.3f}" for v in x.slopes)
                + (("; extrapolated (p_i = p_∞ + c·(log X)^−" + f"{x.correction_exponent:.2f})"
                    if x.model == "power" else "; extrapolated (p_i = p_∞ + c/log log X)")
                   + f" {x.value:.3f} ± {x.standard_error:.3f}" if x.determined
                   else f"; no limit fixed by the data (the {x.model} fit gives {x.value:.3f}, beyond the local "
                        "powers' spread): claimed at the last local power")
                + f"; all-size fit {self.fitted:.3f}; ratio {self.ratio[0]:.3f} → {self.ratio[-1]:.3f}")


def wsd_gain(exp_optima, wsd_optima, derived: float, limit: str = "data", phase: str = "easy") -> Gain:
    """Claim (iii) from matched exp and WSD optima (same sizes); ``derived`` = the registry's log power."""
    from lrwb.numerics.analysis.asymptotics import extrapolate

    ratio = np.array([a.loss / b.loss for a, b in zip(exp_optima, wsd_optima)])
    sizes = np.array([o.size for o in exp_optima], dtype=float)
    logx = np.log(sizes)
    fitted = loglog_slope(logx, ratio)
    model = "power" if ratio.size >= 7 else "log"
    # the upper half of the local powers (at least 3): the corrections are sub-leading in log X, and the first
    # sizes (D ≲ 1e8) bend the fit (easy: all ten slopes extrapolate to 0.455, the upper five to ≈ 0.2)
    last = max(3, (ratio.size - 1) // 2) if model == "power" else None
    return Gain(limit, phase, float(derived), tuple(map(float, sizes)), tuple(map(float, ratio)), fitted,
                extrapolate(logx, ratio, model=model, sign=1.0, last=last))


def derived_gain_power(limit: str, phase: str, s: float, beta: float) -> float:
    """The log power of E_exp/E_WSD from the registry (``fsl_claim_wsd_gain_<limit>_<phase>`` = (log X)^l)."""
    import sympy as sp

    from lrwb.theory import params as P
    from lrwb.theory.balance import log_monomial

    result = _registry_get(f"fsl_claim_wsd_gain_{limit}_{phase}")
    big = P.D if limit == "data" else P.C
    _, power, log_power = log_monomial(result.expr, big, ())
    if sp.N(power.subs({P.s: s, P.beta: beta})) != 0:
        raise ArithmeticError(f"fsl_claim_wsd_gain_{limit}_{phase} = {result.expr} is not a pure log factor")
    return float(sp.N(sp.sympify(log_power).subs({P.s: s, P.beta: beta})))


# ---------------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table1:
    cells: tuple[Cell, ...]
    gains: tuple[Gain, ...]

    def csv(self) -> str:
        """Every optimum behind the fits (one row per cell and size)."""
        return csv_text(["family", "limit", "phase", "s", "beta", "size", "loss", "peak", "ratio", "fraction",
                         "features"],
                        [(c.family, c.limit, c.phase, c.s, c.beta, o.size, o.loss, o.peak, o.ratio, o.fraction,
                          o.features) for c in self.cells for o in c.optima])


def parse_cells(cells) -> list[tuple[str, str]]:
    """'data-easy' style (limit-phase) names → list; ``None`` → all four."""
    allowed = [(limit, phase) for limit in LIMITS for phase in PHASES]
    if cells is None:
        return allowed
    out = []
    for name in cells:
        limit, _, phase = name.partition("-")
        if (limit, phase) not in allowed:
            raise ValueError(f"unknown Table-1 cell {name!r}; valid: {', '.join(f'{l}-{p}' for l, p in allowed)}")
        out.append((limit, phase))
    return out


def build_table1(*, size: str = "ci", cells=None, points: int | None = None) -> Table1:
    """All three families for each (limit, phase) cell of ``cells`` (default all four); ``points`` overrides the
    number of sizes of the range."""
    if size not in SIZES:
        raise ValueError(f"size = {size!r} must be one of {', '.join(SIZES)}")  # ci, full, quick
    built, gains = [], []
    for limit, phase in parse_cells(cells):
        row = {family: table1_cell(family, limit, phase, size=size, points=points) for family in SCHEDULES}
        built += list(row.values())
        s, beta = PHASE_EXPONENTS[phase]
        derived = derived_gain_power(limit, phase, s, beta)
        if limit == "data":  # the log factor needs a wide range of log D: its own ladder (cost independent of D)
            start, stop, n = SIZES[size]["gain"]
            sizes = np.logspace(start, stop, n if points is None else max(points, 3))
            exp_opt, wsd_opt = (data_limited_optima(s, beta, f, sizes) for f in ("exp", "wsd"))
        else:
            exp_opt, wsd_opt = row["exp"].optima, row["wsd"].optima
        gains.append(wsd_gain(exp_opt, wsd_opt, derived, limit, phase))
    return Table1(tuple(built), tuple(gains))


def plot_table1(table: Table1, paths) -> None:
    """Top: optimal final loss against D or C (markers) and the derived X^{−rate}(log X)^l through the data's
    geometric mean (dashed); bottom: E*_exp/E*_WSD against log X with the derived log power (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({(c.limit, c.phase) for c in table.cells})
    fig, axes = plt.subplots(2, len(panels), figsize=(4.4 * len(panels), 7.0), squeeze=False)
    for col, (limit, phase) in enumerate(panels):
        ax = axes[0][col]
        for i, c in enumerate(cl for cl in table.cells if (cl.limit, cl.phase) == (limit, phase)):
            x = np.array([o.size for o in c.optima])
            y = np.array([o.loss for o in c.optima])
            ax.loglog(x, y, "o", ms=4, color=f"C{i}", label=f"{c.family}: fit {c.fitted_rate:.3f}, derived {c.derived_rate:.3f}")
            theory = x ** (-c.derived_rate) * np.log(x) ** c.derived_log_power
            ax.loglog(x, theory * np.exp(np.mean(np.log(y) - np.log(theory))), "--", color=f"C{i}", lw=1)
        ax.set_xlabel("D" if limit == "data" else "C")
        ax.set_title(f"{limit}-limited, {phase} (s={PHASE_EXPONENTS[phase][0]:g}, β={PHASE_EXPONENTS[phase][1]:g})")
        ax.legend(fontsize=7, loc="lower left")
        ax = axes[1][col]
        for g in table.gains:
            if (g.limit, g.phase) != (limit, phase):
                continue
            logx = np.log(g.sizes)
            ratio = np.asarray(g.ratio)
            ax.loglog(logx, ratio, "o", color="C3", label=f"E*_exp/E*_WSD: log power {g.measured:.3f}")
            anchor = np.exp(np.mean(np.log(ratio[-3:]) - g.derived * np.log(logx[-3:])))
            ax.loglog(logx, anchor * logx**g.derived, "--", color="k", lw=1, label=f"derived (log X)^{g.derived:.3f}")
        ax.set_xlabel("log D" if limit == "data" else "log C")
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("optimal final excess loss (PLRF units)")
    axes[1][0].set_ylabel("E*_exp / E*_WSD")
    fig.tight_layout()
    for path in paths:
        atomic_savefig(fig, path, dpi=120)
    plt.close(fig)
