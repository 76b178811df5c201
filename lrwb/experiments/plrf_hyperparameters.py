"""Every registered PLRF hyper-parameter scaling, checked numerically on its term model (issue 12 §1).

The balances of ``lrwb.theory.plrf`` keep their problems (terms, decisions, constraints); each is minimised
NUMERICALLY (:mod:`lrwb.numerics.analysis.hyperparameters`: SLSQP in log-decisions, no LP, no active set, no Min branch) at
sizes X = 10^10…10^40 (T, or C = N·T), the optimal decision is fitted as X^g (log X)^l and g is compared with the
registry (±0.05, conventions.md):

- compute-optimal model size N* (``compute_optimal_features_easy``/``_hard``) and horizon T* = C/N* (derived
  1 − g_N from the same registry result), at easy a = 3.5, b = 2 and hard a = 1.5, b = 3 (Fig. 4's points
  (2, 1.5) and (1.5, 2) both give N* ≍ C^{1/3} in either phase's formula, so they could not tell a wrong
  phase formula from the right one; at these points the two formulas differ by ≥ 0.11);
- the best constant LR η* ≍ T^{−ξ_const} (``lr_transfer_constant``; ``xi_const`` is the same exponent), at both
  phases' sample exponents (a = 3.5, b = 2 and 5), since it holds in both;
- the optimal schedule's peak (``lr_transfer_annealed_easy`` ≍ T^{−ξ_peak}; ``lr_transfer_annealed_hard`` = η_max);
- the hard-phase anneal: its optimal length (``anneal_length_hard``; the fraction ``anneal_fraction_hard`` is
  the same exponent minus 1) and the merely sufficient length (``anneal_length_sufficient_hard``), at a = 1.5,
  b = 3 (plrf.md's measured point).

The exact-dynamics checks of the same scalings at finite T live in the figure experiments (plrf_fig1b: the
constant-LR transfer; plrf_anneal: the anneal length; plrf_fig4: the compute-optimal N*); this experiment
checks the asymptotic solver itself. Constants: σ = 0.5, B = 1, η_max = 1.

Outputs (``plrf_hyperparameters``): ``plrf_hyperparameters.md``, ``plrf_hyperparameters.csv``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim
from lrwb.numerics.conventions import DEFAULTS
from lrwb.experiments.hyperparameter_checks import checks_markdown, claim_note, write_checks
from lrwb.numerics.analysis.hyperparameters import CheckResult, CheckSpec, log_sizes, run_checks

__all__ = ["SIZES", "EXPONENTS", "plrf_specs", "PLRFHyperResult", "plrf_hyperparameters"]

NAME = "plrf_hyperparameters"
#: sizes X (T or C) as log10 (start, stop, points)
SIZES = {"quick": (10.0, 40.0, 5), "full": (8.0, 48.0, 9)}
#: (a, b) per setting: Fig. 4's compute-optimal points, the balances' sample points, plrf.md's anneal point
EXPONENTS = {"compute easy": (DEFAULTS.a, DEFAULTS.b), "compute hard": (1.5, 3.0), "easy": (DEFAULTS.a, DEFAULTS.b),
             "hard": (DEFAULTS.a, 5.0),
             "anneal": (1.5, 3.0)}
# B = 1, not the default 5: this check's stated constants (module docstring); σ and η_max are the defaults
CONSTANTS = {"sigma": DEFAULTS.sigma, "B": 1.0, "eta_max": DEFAULTS.eta_max}


def plrf_specs() -> list[CheckSpec]:
    """One :class:`CheckSpec` per registered PLRF hyper-parameter scaling and setting."""
    from lrwb.theory import params as P
    from lrwb.theory import plrf as L

    def point(setting):
        a_value, b_value = EXPONENTS[setting]
        return {P.a: a_value, P.b: b_value, P.sigma: CONSTANTS["sigma"], P.B: CONSTANTS["B"],
                P.eta_max: CONSTANTS["eta_max"]}

    def label(setting, text):
        a_value, b_value = EXPONENTS[setting]
        return f"{text} (a={a_value:g}, b={b_value:g})"

    specs = []
    for phase in ("easy", "hard"):
        balance = L.compute_optimal_balance(phase)
        setting = f"compute {phase}"
        specs.append(CheckSpec(f"compute_optimal_features_{phase}", label(setting, f"compute-optimal, {phase}"),
                               balance, L.N, "argmin", point(setting), what="model size N*"))
        specs.append(CheckSpec(f"compute_optimal_features_{phase}", label(setting, f"compute-optimal, {phase}"),
                               balance, L.N, "data", point(setting), complement=True, what="horizon T* = C/N*"))
    for phase in ("easy", "hard"):
        specs.append(CheckSpec("lr_transfer_constant", label(phase, f"best constant LR, {phase}"),
                               L.constant_lr_balance(), L.eta, "argmin", point(phase), what="constant LR eta*"))
    specs.append(CheckSpec("lr_transfer_annealed_easy", label("easy", "optimal schedule, easy"),
                           L.optimal_schedule_balance("easy"), L.eta_peak, "argmin", point("easy"), what="peak LR"))
    specs.append(CheckSpec("lr_transfer_annealed_hard", label("hard", "optimal schedule, hard"),
                           L.optimal_schedule_balance("hard"), L.eta_peak, "argmin", point("hard"), what="peak LR"))
    specs.append(CheckSpec("anneal_length_hard", label("anneal", "hard-phase anneal"),
                           L.hard_anneal_balance(), L.n_anneal, "argmin", point("anneal"), what="anneal length T - t_s"))
    specs.append(CheckSpec("anneal_length_sufficient_hard", label("anneal", "hard-phase anneal"),
                           L.sufficient_anneal_balance(), L.n_anneal, "argmin", point("anneal"),
                           what="sufficient anneal length"))
    return specs


@dataclass(frozen=True)
class PLRFHyperResult:
    """The checks, the wall time and the files."""

    checks: tuple[CheckResult, ...]
    runtime_s: float
    files: tuple[str, ...]

    @property
    def claims(self) -> tuple[Claim, ...]:
        from lrwb.theory.results import registry

        return tuple(Claim.exponent(NAME, f"exponent of {c.spec.what}: {c.spec.result} ({c.spec.label})", c.derived,
                                  c.fitted, source=registry().get(c.spec.result).source,
                                  note=claim_note(c)) for c in self.checks)

    def markdown(self) -> str:
        return checks_markdown(self.checks) + f"\n\nWall time {self.runtime_s:.1f} s."


@experiment(NAME, title="PLRF optimal hyper-parameters (N*, T*, constant and peak LR, anneal lengths) vs the term model",
            source="Bordelon & Mori 2026 (arXiv 2602.04774), Figs. 1, 4, 6-7; plrf.md §4", budget_s=8)
def plrf_hyperparameters(out_dir, quick: bool = True, *, points: int | None = None) -> PLRFHyperResult:
    """Fit every registered PLRF hyper-parameter exponent on the numerically minimised term model
    (``points`` overrides the number of sizes)."""
    clock = time.perf_counter()
    start, stop, count = SIZES["quick" if quick else "full"]
    checks = tuple(run_checks(plrf_specs(), log_sizes(start, stop, points or count)))
    runtime = time.perf_counter() - clock
    files = write_checks(checks, out_dir, NAME)
    return PLRFHyperResult(checks, runtime, tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    from lrwb.experiments.claims import claims_markdown

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/plrf_hyperparameters")
    res = plrf_hyperparameters(target, quick="--full" not in sys.argv)
    print(res.markdown())
    print(claims_markdown(res.claims))
