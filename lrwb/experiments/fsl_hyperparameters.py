"""Every registered FSL hyper-parameter scaling, checked numerically (issue 12 §1).

For each of the 12 Table-1 cells (constant / exponential decay / WSD × data- / compute-limited × easy / hard;
``lrwb.theory.fsl.table1_cell``) and each registered optimal hyper-parameter of that cell — γ* (``fsl_opt_gamma_*``),
M* (``fsl_opt_model_*``), D* = C/M* (``fsl_opt_data_*``), the WSD decay fraction (``fsl_opt_r_*``) and the lower
end of its flat valley (``fsl_min_r_*``) — and for the follow-up's optimal peak ν (``fsl_optimal_peak_exponent``)
and hard-phase decay length (``fsl_hard_decay_length``): the term model the balance solved is minimised
NUMERICALLY (:mod:`lrwb.numerics.analysis.hyperparameters`: SLSQP in log-decisions, no LP, no active set, no Min branch) at
sizes X = 10^10…10^40, the optimal decision (or the valley's lower end: the smallest value whose best loss is
within 2× the optimum) is fitted as X^g (log X)^l with the derived log power l divided out, and g is compared
with the registry's exponent (±0.05, conventions.md). The constant-LR results hold in both phases and are
checked at both phases' exponents. A valley end found by a single Min branch (the fault of issue 12:
``fsl_min_r_wsd_compute_hard`` was C^{(sβ−β+1)/(β+1)} log C, −0.133 at s = 0.3, β = 2, where the term model gives
−0.267) fails here.

Exponents: easy s = 1, β = 2; hard s = 0.3, β = 2 (``lrwb.numerics.fsl.table1.PHASE_EXPONENTS``, the loss-exponent
experiment's); σ = 0.5. Quick and full both run every check; ``full`` uses 9 sizes over 10^8…10^48 instead of
5 over 10^10…10^40, and adds the same fits on the optima of the FSL engine itself (:func:`engine_checks`:
``lrwb.numerics.fsl.table1``, the continuous top-M mode-sum FSL with every family's hyper-parameters and M
optimised per size, D = 10^4…10^8, C = 10^7…10^11; the compute-limited cells take ≈ 10–15 min). Valley ends are
not argmins, so they are checked on the term model only.

Outputs (``fsl_hyperparameters``): ``fsl_hyperparameters.md`` (the table), ``fsl_hyperparameters.csv``;
``--full`` adds ``fsl_hyperparameters_engine.md``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim
from lrwb.numerics.conventions import DEFAULTS, EXPONENT_TOLERANCE
from lrwb.numerics.analysis.slopes import log_slope, loglog_slope
from lrwb.numerics.fsl.table1 import PHASE_EXPONENTS
from lrwb.experiments.hyperparameter_checks import checks_markdown, claim_note, write_checks
from lrwb.numerics.analysis.hyperparameters import CheckResult, CheckSpec, derived_exponent, log_sizes, run_checks

__all__ = ["SIZES", "SIGMA", "fsl_specs", "EngineCheck", "engine_checks", "HyperResult", "fsl_hyperparameters"]

NAME = "fsl_hyperparameters"
#: sizes X (D, C or N) as log10 (start, stop, points)
SIZES = {"quick": (10.0, 40.0, 5), "full": (8.0, 48.0, 9)}
SIGMA = DEFAULTS.sigma
#: registry prefix → (decision attribute of lrwb.theory.fsl, kind, what)
_PREFIXES = {
    "fsl_opt_gamma_": ("gamma", None, "peak gamma = eta/B"),
    "fsl_opt_model_": ("M", "argmin", "model size M"),
    "fsl_opt_data_": ("M", "data", "data size D = C/M"),
    "fsl_opt_r_": ("r", "argmin", "WSD decay fraction r"),
    "fsl_min_r_": ("r", "lower", "WSD decay fraction r (valley lower end)"),
}


def fsl_specs() -> list[CheckSpec]:
    """One :class:`CheckSpec` per registered FSL hyper-parameter scaling and cell (found in the registry)."""
    from lrwb.theory import fsl as F
    from lrwb.theory import params as P
    from lrwb.theory.results import registry

    reg = registry()
    specs: list[CheckSpec] = []
    for schedule in F.SCHEDULES:
        for limit in F.LIMITS:
            for phase in F.PHASES:
                s_value, beta_value = PHASE_EXPONENTS[phase]
                point = {P.s: s_value, P.beta: beta_value, P.sigma: SIGMA}
                cell = F.table1_cell(schedule, limit, phase)
                tag = f"{schedule}_{limit}" + ("" if schedule == "constant" else f"_{phase}")
                label = f"{schedule}, {limit}-limited, {phase} (s={s_value:g}, β={beta_value:g})"
                for prefix, (attribute, kind, what) in _PREFIXES.items():
                    name = prefix + tag
                    if name not in reg:
                        continue
                    decision = getattr(F, attribute)
                    if kind is None:  # γ: pinned, or the lower end of a flat valley (exp compute easy)
                        kind = "argmin" if decision in cell.exponents else "lower"
                    specs.append(CheckSpec(name, label, cell, decision, kind, point, what=what))
    # the follow-up (fsl.md §4): the optimal schedule's peak and the hard phase's decay length
    for phase in ("easy",):
        s_value, beta_value = PHASE_EXPONENTS[phase]
        point = {P.s: s_value, P.beta: beta_value, P.sigma: SIGMA}
        specs.append(CheckSpec("fsl_optimal_peak_exponent", f"optimal schedule, {phase} (s={s_value:g}, β={beta_value:g})",
                               F.optimal_schedule_balance(phase), F.eta_peak, "argmin", point, form="exponent",
                               sign=-1.0, what="peak eta_peak ~ N^(-nu)"))
    s_value, beta_value = PHASE_EXPONENTS["hard"]
    point = {P.s: s_value, P.beta: beta_value, P.sigma: SIGMA}
    specs.append(CheckSpec("fsl_hard_decay_length", f"optimal schedule, hard (s={s_value:g}, β={beta_value:g})",
                           F.hard_phase_decay_balance(), F.n_decay, "argmin", point, what="decay length N_d"))
    return specs


@dataclass(frozen=True)
class EngineCheck:
    """A registered hyper-parameter fitted on the optima of the FSL engine itself (``lrwb.numerics.fsl.table1``: the
    continuous top-M mode-sum FSL, every family's hyper-parameters and M optimised per size)."""

    result: str
    label: str
    what: str
    derived: float
    log_power: float
    fitted: float
    sizes: tuple[float, ...]
    values: tuple[float, ...]

    @property
    def passes(self) -> bool:
        return abs(self.fitted - self.derived) <= EXPONENT_TOLERANCE

    @property
    def trend(self) -> tuple[float, float]:
        """(slope over the lower half of the sizes, slope over the upper half): where a miss is heading."""
        half = (len(self.sizes) + 1) // 2
        return (loglog_slope(self.sizes, self.values, log_power=self.log_power, mask=slice(None, half)),
                loglog_slope(self.sizes, self.values, log_power=self.log_power, mask=slice(-half, None)))


#: registry prefix → (attribute of lrwb.numerics.fsl.table1.Optimum, what, transform of log value: X/v for D*)
_ENGINE = {
    "fsl_opt_gamma_": ("peak", "peak gamma = eta/B (B = 1)", False),
    "fsl_opt_model_": ("features", "model size M", False),
    "fsl_opt_data_": ("features", "data size D = C/M", True),
    "fsl_opt_r_": ("fraction", "WSD decay fraction r", False),
}


def engine_checks(cells=None, *, points: int | None = None) -> list[EngineCheck]:
    """Fit the registered hyper-parameters on the FSL engine's optima (``lrwb.numerics.fsl.table1.table1_cell``,
    CI size ranges D = 10^4…10^8, C = 10^7…10^11) for ``cells`` ("data-easy", … ; default all four).

    Valley lower ends (``fsl_min_r_*``, the γ valley of exp decay at compute, easy) are not argmins — the
    engine's optimiser may land anywhere in a flat valley — so they are checked on the term model only.
    """
    import math

    import numpy as np

    from lrwb.numerics.fsl.table1 import SCHEDULES, parse_cells, table1_cell
    from lrwb.theory import fsl as F
    from lrwb.theory.results import registry

    reg = registry()
    out = []
    for limit, phase in parse_cells(cells):
        s_value, beta_value = PHASE_EXPONENTS[phase]
        point = {F.s: s_value, F.beta: beta_value}
        for family in SCHEDULES:
            theory_cell = F.table1_cell(family, limit, phase)
            tag = f"{family}_{limit}" + ("" if family == "constant" else f"_{phase}")
            names = [prefix + tag for prefix in _ENGINE if prefix + tag in reg]
            if not names:
                continue
            cell = table1_cell(family, limit, phase, points=points)
            sizes = np.array([o.size for o in cell.optima])
            for name in names:
                prefix = next(p for p in _ENGINE if name.startswith(p))
                attribute, what, complement = _ENGINE[prefix]
                decision = {"peak": F.gamma, "features": F.M, "fraction": F.r}[attribute]
                if decision not in theory_cell.exponents:
                    continue  # a valley end: term model only
                spec = CheckSpec(name, "", theory_cell, decision, "argmin", point)
                derived, log_power = derived_exponent(spec)
                logs = np.log([float(getattr(o, attribute)) for o in cell.optima])
                if complement:
                    logs = np.log(sizes) - logs
                fitted = log_slope(sizes, logs, log_power=log_power)
                label = f"FSL engine: {family}, {limit}-limited, {phase} (s={s_value:g}, β={beta_value:g})"
                out.append(EngineCheck(name, label, what, derived, log_power, fitted, tuple(sizes.tolist()),
                                       tuple(float(math.exp(v)) for v in logs)))
    return out


def engine_markdown(checks) -> str:
    lines = ["| registry result | setting | scaling of | derived exponent | log power (divided out) | fitted | "
             "local slope lower → upper half | |Δ| | ±0.05 | sizes |", "|---|---|---|---|---|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| `{c.result}` | {c.label} | {c.what} | {c.derived:.4f} | {c.log_power:.3g} | {c.fitted:.4f} | "
                     f"{c.trend[0]:.3f} → {c.trend[1]:.3f} | {abs(c.fitted - c.derived):.4f} | "
                     f"{'pass' if c.passes else 'FAIL'} | {c.sizes[0]:.0e}…{c.sizes[-1]:.0e} ({len(c.sizes)}) |")
    return "\n".join(lines)


@dataclass(frozen=True)
class HyperResult:
    """The term-model checks, the engine checks (``--full`` only), the wall time and the files."""

    checks: tuple[CheckResult, ...]
    runtime_s: float
    files: tuple[str, ...]
    experiment: str = NAME
    engine: tuple[EngineCheck, ...] = ()

    @property
    def claims(self) -> tuple[Claim, ...]:
        out = []
        for c in self.checks:
            out.append(Claim.exponent(
                self.experiment, f"exponent of {c.spec.what or c.spec.decision}: {c.spec.result} ({c.spec.label})",
                c.derived, c.fitted, source=_source(c.spec.result), note=claim_note(c)))
        for c in self.engine:
            out.append(Claim.exponent(
                self.experiment, f"exponent of {c.what}: {c.result} ({c.label})", c.derived, c.fitted,
                source=_source(c.result),
                note=(f"optima of the continuous top-M FSL (lrwb.numerics.fsl.table1) at X = {c.sizes[0]:.0e}…{c.sizes[-1]:.0e} "
                      f"({len(c.sizes)} sizes); derived log power {c.log_power:.3g} divided out; local slope "
                      f"{c.trend[0]:.3f} (lower half) → {c.trend[1]:.3f} (upper half)")))
        return tuple(out)

    def markdown(self) -> str:
        text = checks_markdown(self.checks)
        if self.engine:
            text += "\n\nOn the FSL engine itself:\n\n" + engine_markdown(self.engine)
        return text + f"\n\nWall time {self.runtime_s:.1f} s."


def _source(name: str) -> str:
    from lrwb.theory.results import registry

    return registry().get(name).source


@experiment(NAME, title="FSL optimal hyper-parameters (gamma*, M*, D*, r, r_min; nu, decay length) vs the term model",
            source="Li et al. 2025 (FSL), Table 1 and Sec. 5; Li et al. 2026; fsl.md §3-4", budget_s=10)
def fsl_hyperparameters(out_dir, quick: bool = True, *, points: int | None = None, engine_cells=None) -> HyperResult:
    """Fit every registered FSL hyper-parameter exponent on the numerically minimised term model (``points``
    overrides the number of sizes); with ``quick=False`` also on the FSL engine's optima in ``engine_cells``
    (default all four; the compute-limited ones optimise M too and take ≈ 10–15 min)."""
    clock = time.perf_counter()
    start, stop, count = SIZES["quick" if quick else "full"]
    checks = tuple(run_checks(fsl_specs(), log_sizes(start, stop, points or count)))
    engine = () if quick else tuple(engine_checks(engine_cells))
    runtime = time.perf_counter() - clock
    files = write_checks(checks, out_dir, NAME)
    if engine:
        from lrwb.numerics.io import atomic_write

        path = Path(out_dir) / f"{NAME}_engine.md"
        with atomic_write(path) as handle:
            handle.write(engine_markdown(engine) + "\n")
        files.append(path)
    return HyperResult(checks, runtime, tuple(str(p) for p in files), engine=engine)


if __name__ == "__main__":  # pragma: no cover
    import sys

    from lrwb.experiments.claims import claims_markdown

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/fsl_hyperparameters")
    res = fsl_hyperparameters(target, quick="--full" not in sys.argv)
    print(res.markdown())
    print(claims_markdown(res.claims))
