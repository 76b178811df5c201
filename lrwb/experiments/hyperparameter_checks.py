"""The verdicts and report of the hyper-parameter checks, shared by ``fsl_hyperparameters`` and
``plrf_hyperparameters`` (a helper of the experiment layer, not an experiment).

:mod:`lrwb.numerics.analysis.hyperparameters` minimises the term models and fits the exponents
(:class:`~lrwb.numerics.analysis.hyperparameters.CheckResult`); here each check is judged against the pinned
tolerance (fitted vs derived exponent, ±0.05, ``conventions.md``) and written as a table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from lrwb.numerics.analysis.hyperparameters import CheckResult
from lrwb.numerics.conventions import EXPONENT_TOLERANCE
from lrwb.numerics.io import atomic_write, csv_text

__all__ = ["passes", "checks_markdown", "checks_csv", "write_checks", "claim_note"]


def passes(result: CheckResult) -> bool:
    """|fitted − derived exponent| ≤ :data:`lrwb.numerics.conventions.EXPONENT_TOLERANCE`."""
    return abs(result.fitted - result.derived) <= EXPONENT_TOLERANCE


def checks_markdown(results: Sequence[CheckResult]) -> str:
    """The table of checks: result, setting, what, derived exponent, log power, fitted, |Δ|, verdict, sizes."""
    lines = ["| registry result | setting | scaling of | derived exponent | log power (divided out) | fitted | "
             "|Δ| | ±0.05 | sizes |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        sizes = r.fit.sizes
        lines.append(f"| `{r.spec.result}` | {r.spec.label} | {r.spec.what or r.spec.decision} ({r.spec.kind}) | "
                     f"{r.derived:.4f} | {r.log_power:.3g} | {r.fitted:.4f} | {abs(r.fitted - r.derived):.4f} | "
                     f"{'pass' if passes(r) else 'FAIL'} | {sizes[0]:.0e}…{sizes[-1]:.0e} ({len(sizes)}) |")
    return "\n".join(lines)


def write_checks(results: Sequence[CheckResult], out_dir, prefix: str) -> list:
    """``PREFIX.md`` (the table) and ``PREFIX.csv`` under ``out_dir``, atomically; returns the paths."""
    paths = [Path(out_dir) / f"{prefix}.md", Path(out_dir) / f"{prefix}.csv"]
    with atomic_write(paths[0]) as handle:
        handle.write(checks_markdown(results) + "\n")
    with atomic_write(paths[1]) as handle:
        handle.write(checks_csv(results))
    return paths


def claim_note(result: CheckResult) -> str:
    """The note a claim carries: sizes, what was fitted, the log power divided out."""
    sizes = result.fit.sizes
    what = ("valley lower end (smallest value whose best loss is within 2x the optimum)" if result.spec.kind == "lower"
            else {"argmin": "argmin", "data": "X / argmin"}[result.spec.kind])
    return (f"term model minimised numerically at X = {sizes[0]:.0e}…{sizes[-1]:.0e} ({len(sizes)} sizes), {what}; "
            f"derived log power {result.log_power:.3g} divided out")


def checks_csv(results: Sequence[CheckResult]) -> str:
    """One row per check (``lrwb.numerics.io.csv_text``: plain numbers, quoted text)."""
    header = ["result", "setting", "decision", "kind", "derived_exponent", "log_power", "fitted_exponent", "abs_diff",
              "tolerance", "passed", "size_min", "size_max", "sizes", "seconds"]
    rows = [[r.spec.result, r.spec.label, str(r.spec.decision), r.spec.kind, r.derived, r.log_power, r.fitted,
             abs(r.fitted - r.derived), EXPONENT_TOLERANCE, passes(r), r.fit.sizes[0], r.fit.sizes[-1], len(r.fit.sizes),
             round(r.seconds, 3)] for r in results]
    return csv_text(header, rows)
