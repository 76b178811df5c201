"""Every registered FSL hyper-parameter scaling, checked numerically (issue 12 §1).

For each of the 12 Table-1 cells (constant / exponential decay / WSD × data- / compute-limited × easy / hard;
``theory.fsl.table1_cell``) and each registered optimal hyper-parameter of that cell — γ* (``fsl_opt_gamma_*``),
M* (``fsl_opt_model_*``), D* = C/M* (``fsl_opt_data_*``), the WSD decay fraction (``fsl_opt_r_*``) and the lower
end of its flat valley (``fsl_min_r_*``) — and for the follow-up's optimal peak ν (``fsl_optimal_peak_exponent``)
and hard-phase decay length (``fsl_hard_decay_length``): the term model the balance solved is minimised
NUMERICALLY (:mod:`numerics.hyperparameters`: SLSQP in log-decisions, no LP, no active set, no Min branch) at
sizes X = 10^10…10^40, the optimal decision (or the valley's lower end: the smallest value whose best loss is
within 2× the optimum) is fitted as X^g (log X)^l with the derived log power l divided out, and g is compared
with the registry's exponent (±0.05, conventions.md). The constant-LR results hold in both phases and are
checked at both phases' exponents. A valley end found by a single Min branch (the fault of issue 12:
``fsl_min_r_wsd_compute_hard`` was C^{(sβ−β+1)/(β+1)} log C, −0.133 at s = 0.3, β = 2, where the term model gives
−0.267) fails here.

Exponents: easy s = 1, β = 2; hard s = 0.3, β = 2 (``numerics.fsl_table1.PHASE_EXPONENTS``, the loss-exponent
experiment's); σ = 0.5. Quick and full both run every check; ``full`` uses 9 sizes over 10^8…10^48 instead of
5 over 10^10…10^40.

Outputs (``fsl_hyperparameters``): ``fsl_hyperparameters.md`` (the table), ``fsl_hyperparameters.csv``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from numerics.experiments import experiment
from numerics.experiments.claims import EXPONENT_TOLERANCE, Claim
from numerics.fsl_table1 import PHASE_EXPONENTS
from numerics.hyperparameters import (CheckResult, CheckSpec, checks_markdown, claim_note, log_sizes, run_checks,
                                      write_checks)

__all__ = ["SIZES", "SIGMA", "fsl_specs", "HyperResult", "fsl_hyperparameters"]

NAME = "fsl_hyperparameters"
#: sizes X (D, C or N) as log10 (start, stop, points)
SIZES = {"quick": (10.0, 40.0, 5), "full": (8.0, 48.0, 9)}
SIGMA = 0.5
#: registry prefix → (decision attribute of theory.fsl, kind, what)
_PREFIXES = {
    "fsl_opt_gamma_": ("gamma", None, "peak gamma = eta/B"),
    "fsl_opt_model_": ("M", "argmin", "model size M"),
    "fsl_opt_data_": ("M", "data", "data size D = C/M"),
    "fsl_opt_r_": ("r", "argmin", "WSD decay fraction r"),
    "fsl_min_r_": ("r", "lower", "WSD decay fraction r (valley lower end)"),
}


def fsl_specs() -> list[CheckSpec]:
    """One :class:`CheckSpec` per registered FSL hyper-parameter scaling and cell (found in the registry)."""
    from theory import fsl as F
    from theory import params as P
    from theory.results import registry

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
class HyperResult:
    """The checks, the wall time and the files."""

    checks: tuple[CheckResult, ...]
    runtime_s: float
    files: tuple[str, ...]
    experiment: str = NAME

    @property
    def claims(self) -> tuple[Claim, ...]:
        out = []
        for c in self.checks:
            out.append(Claim.within(
                self.experiment, f"exponent of {c.spec.what or c.spec.decision}: {c.spec.result} ({c.spec.label})",
                c.derived, c.fitted, EXPONENT_TOLERANCE, source=_source(c.spec.result), note=claim_note(c)))
        return tuple(out)

    def markdown(self) -> str:
        return checks_markdown(self.checks) + f"\n\nWall time {self.runtime_s:.1f} s."


def _source(name: str) -> str:
    from theory.results import registry

    return registry().get(name).source


@experiment(NAME, title="FSL optimal hyper-parameters (gamma*, M*, D*, r, r_min; nu, decay length) vs the term model",
            source="Li et al. 2025 (FSL), Table 1 and Sec. 5; Li et al. 2026; fsl.md §3-4", budget_s=10)
def fsl_hyperparameters(out_dir, quick: bool = True, *, points: int | None = None) -> HyperResult:
    """Fit every registered FSL hyper-parameter exponent on the numerically minimised term model
    (``points`` overrides the number of sizes)."""
    clock = time.perf_counter()
    start, stop, count = SIZES["quick" if quick else "full"]
    checks = tuple(run_checks(fsl_specs(), log_sizes(start, stop, points or count)))
    runtime = time.perf_counter() - clock
    files = write_checks(checks, out_dir, NAME)
    return HyperResult(checks, runtime, tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    from numerics.experiments.claims import claims_markdown

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/fsl_hyperparameters")
    res = fsl_hyperparameters(target, quick="--full" not in sys.argv)
    print(res.markdown())
    print(claims_markdown(res.claims))
