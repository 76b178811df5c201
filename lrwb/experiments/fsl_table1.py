"""FSL Table 1 (Li et al. 2025, ``fsl.md`` §3), numerically: the optimal final loss of each schedule family.

For constant, exponential-decay and WSD schedules and each cell (data-/compute-limited × easy/hard), the
family's hyper-parameters (and M in the compute-limited cells) are optimised under the top-M mode-sum FSL
(B = 1, LR ≤ half the stability bound) at each size of a log-spaced range of D (or C); the fitted exponent of
E*(X)/(log X)^l, l the derived log power, is compared with the registry's entry ``fsl_loss_<family>_<limit>
[_<phase>]`` (±0.05, conventions.md). All of it is :mod:`lrwb.numerics.fsl.table1` (``lrwb fsl table1``); this
module turns it into claims and files. Exponents: easy s = 1, β = 2; hard s = 0.3, β = 2 (boundary s = 1/2).

Sizes: D = 10⁴…10⁸, 9 points, in both modes; C = 10⁷…10¹¹ with 5 points and a coarser M search (3 per
decade, then the local refinement) in ``quick``, 9 points and 8 per decade with ``quick=False``: all twelve
cells run in both modes (each compute-limited size optimises M as well: ≈ 40× a data-limited size).

Checks per (limit, phase) besides the per-cell exponents (claims):

- (ii) decay beats constant: max over sizes of E*_decay/E*_constant ≤ 1 (exp and WSD) — a sanity check: the
  decaying families contain (up to η_p/η_f ≥ e^0.01) the constant, so it holds by construction;
- (iii) WSD beats exp: min over sizes of E*_exp/E*_WSD ≥ 1 — a sanity check (WSD with r = 1 is exp); and,
  claimed, **the log power of the ratio** against the derived one, l_exp − l_WSD from the registry's Table-1
  entries (``fsl_claim_wsd_gain_*``: s/(sβ+1) = 1/3 data-easy, s = 0.3 data-hard, s/(sβ+2) = 1/4
  compute-easy, sβ/(β+1) = 0.2 compute-hard), ±0.05. A log power needs a wide range of log X: the
  data-limited ratio has its own ladder D = 10⁴…10²⁴ (11 sizes; the continuous FSL costs the same at any D,
  and the mode sums beyond 2·10⁴ modes are a quadrature), the compute-limited one uses the cells' sizes.
  Measured: the local log powers d log ratio/d log log X, extrapolated in log X (:class:`lrwb.numerics.fsl.table1.
  Gain`), or the last one when they show no curvature.

Outputs (``fsl_table1``): ``fsl_table1.md``, ``fsl_table1_exponents.csv`` (the table), ``fsl_table1.csv``
(every optimum), ``fsl_table1.png``/``.pdf``. The verdicts of the table (:func:`passes`, :func:`all_pass`,
:func:`table_markdown`, :func:`exponents_csv`) and its files (:func:`write_table1`, :func:`run_table1`, which
``lrwb fsl table1`` uses) live here; :mod:`lrwb.numerics.fsl.table1` computes the numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim, SanityCheck
from lrwb.numerics.conventions import EXPONENT_TOLERANCE
from lrwb.numerics.fsl import table1 as numerics_table1  # build_table1 through the module: patchable in tests
from lrwb.numerics.fsl.table1 import Cell, Table1
from lrwb.numerics.io import atomic_write, csv_text

__all__ = ["QUICK_CELLS", "Table1Result", "fsl_table1", "passes", "all_pass", "table_markdown", "exponents_csv",
           "write_table1", "run_table1"]

NAME = "fsl_table1"
SOURCE = "Li et al. 2025 (FSL), Table 1; fsl.md §3"
#: the cells ``quick`` runs: all four (the compute-limited ones on the "quick" size table)
QUICK_CELLS = ("data-easy", "data-hard", "compute-easy", "compute-hard")


@dataclass(frozen=True)
class Table1Result:
    """The table (:class:`lrwb.numerics.fsl.table1.Table1`), the wall time and the files."""

    table: Table1
    runtime_s: float
    files: tuple[str, ...]

    @property
    def claims(self) -> tuple[Claim, ...]:
        out = []
        for c in self.table.cells:
            out.append(Claim.exponent(NAME, f"Table 1 rate, {c.family}, {c.limit}-limited, {c.phase} (s={c.s:g}, "
                                      f"β={c.beta:g})", c.derived_rate, c.fitted_rate, source=SOURCE,
                                      note=f"registry {c.result_name}; log power {c.derived_log_power:.4g} divided "
                                           f"out; raw slope {c.raw_rate:.4f}; {len(c.optima)} sizes "
                                           f"{c.optima[0].size:.0e}…{c.optima[-1].size:.0e}"))
        for g in self.table.gains:
            limit, phase = g.limit, g.phase
            cells = {c.family: c for c in self.table.cells if (c.limit, c.phase) == (limit, phase)}
            const = np.array([o.loss for o in cells["constant"].optima])
            for family in ("exp", "wsd"):
                worst = float(np.max(np.array([o.loss for o in cells[family].optima]) / const))
                out.append(SanityCheck.at_most(NAME, f"(ii) {family} beats constant, {limit}-limited, {phase}: max "
                                               "E*/E*_const", 1.0, worst, source=SOURCE,
                                               note=f"≤ 1 by construction up to the optimiser: {family} with "
                                                    "η_p/η_f → 1 is the constant (the polynomial gain is the "
                                                    "rate claims above)"))
            out.append(SanityCheck.at_least(NAME, f"(iii) WSD beats exp, {limit}-limited, {phase}: min E*_exp/E*_WSD",
                                            1.0, float(np.min(g.ratio)), source=SOURCE,
                                            note="≥ 1 by construction: WSD with fraction 1 is the exp decay (up to "
                                                 "the optimiser's tolerance)"))
            out.append(Claim.exponent(NAME, f"(iii) log power of E*_exp/E*_WSD in log X, {limit}-limited, {phase}",
                                      g.derived, g.measured, source=SOURCE,
                                      note=f"registry fsl_claim_wsd_gain_{limit}_{phase} (l_exp − l_WSD); {g.note()}"))
        return tuple(out)

    def markdown(self) -> str:
        timing = ", ".join(f"{c.family}/{c.limit}/{c.phase} {c.seconds:.1f} s" for c in self.table.cells)
        return table_markdown(self.table) + f"\n\nOptimisation time per cell: {timing}."


# ---------------------------------------------------------------------------------------------------
# the table's verdicts and files (the numbers are lrwb.numerics.fsl.table1's)
# ---------------------------------------------------------------------------------------------------
def passes(cell: Cell) -> bool:
    """|fitted − derived rate| ≤ :data:`lrwb.numerics.conventions.EXPONENT_TOLERANCE` (Table-1 exponents ±0.05)."""
    return abs(cell.fitted_rate - cell.derived_rate) <= EXPONENT_TOLERANCE


def all_pass(table: Table1) -> bool:
    """Whether every cell's rate :func:`passes`."""
    return all(passes(c) for c in table.cells)


def table_markdown(table: Table1) -> str:
    """The table: derived vs fitted rate per cell with its verdict, then claim (iii) per (limit, phase)."""
    lines = ["| schedule | limit | phase | s | beta | derived rate | log power | fitted (log-corrected) | raw slope | |Δ| ≤ 0.05 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for c in table.cells:
        lines.append(f"| {c.family} | {c.limit} | {c.phase} | {c.s:g} | {c.beta:g} | {c.derived_rate:.4f} | "
                     f"{c.derived_log_power:.4f} | {c.fitted_rate:.4f} | {c.raw_rate:.4f} | "
                     f"{'pass' if passes(c) else 'FAIL'} ({abs(c.fitted_rate - c.derived_rate):.3f}) |")
    if table.gains:
        lines += ["", "| claim (iii) | limit | phase | sizes | E_exp/E_WSD (first → last) | local log powers | "
                  "measured log power | derived | |Δ| ≤ 0.05 |", "|---|---|---|---|---|---|---|---|---|"]
        for g in table.gains:
            lines.append(f"| WSD beats exp | {g.limit} | {g.phase} | {g.sizes[0]:.0e}…{g.sizes[-1]:.0e} | "
                         f"{g.ratio[0]:.3f} → {g.ratio[-1]:.3f} | "
                         + ", ".join(f"{v:.3f}" for v in g.extrapolation.slopes)
                         + f" | {g.measured:.3f} | {g.derived:.3f} | "
                         f"{'pass' if abs(g.measured - g.derived) <= EXPONENT_TOLERANCE else 'FAIL'} |")
    return "\n".join(lines)


def exponents_csv(table: Table1) -> str:
    """The table itself: derived vs fitted rate per cell, with the tolerance and the verdict."""
    header = ["family", "limit", "phase", "s", "beta", "registry_name", "derived_rate", "derived_log_power",
              "fitted_rate", "raw_rate", "abs_diff", "tolerance", "passed", "sizes", "size_min", "size_max",
              "seconds"]
    return csv_text(header, [(c.family, c.limit, c.phase, c.s, c.beta, c.result_name, c.derived_rate,
                              c.derived_log_power, c.fitted_rate, c.raw_rate, abs(c.fitted_rate - c.derived_rate),
                              EXPONENT_TOLERANCE, passes(c), len(c.optima), min(o.size for o in c.optima),
                              max(o.size for o in c.optima), round(c.seconds, 3)) for c in table.cells])


def write_table1(table: Table1, out_dir, prefix: str = "table1") -> list[Path]:
    """``PREFIX.md`` (the table), ``PREFIX.csv`` (every optimum), ``PREFIX_exponents.csv`` (derived vs fitted)
    and ``PREFIX.png``/``.pdf`` (optimal final loss against D or C, one panel per cell)."""
    out = Path(out_dir)
    paths = [out / f"{prefix}.md", out / f"{prefix}.csv", out / f"{prefix}_exponents.csv"]
    for path, text in zip(paths, (table_markdown(table) + "\n", table.csv(), exponents_csv(table))):
        with atomic_write(path) as handle:
            handle.write(text)
    figures = [out / f"{prefix}.png", out / f"{prefix}.pdf"]
    numerics_table1.plot_table1(table, figures)
    return paths + figures


def run_table1(out_dir, *, size: str = "ci", cells=None, points: int | None = None, prefix: str = "table1") -> Table1:
    """Build the table (:func:`lrwb.numerics.fsl.table1.build_table1`) and write it (:func:`write_table1`)."""
    table = numerics_table1.build_table1(size=size, cells=cells, points=points)
    write_table1(table, out_dir, prefix)
    return table


@experiment(NAME, title="Table 1: optimal final-loss exponents of constant, exp-decay and WSD schedules",
            source="Li et al. 2025 (FSL), Table 1", budget_s=90)
def fsl_table1(out_dir, quick: bool = True, *, cells=None, points: int | None = None) -> Table1Result:
    """Optimise every family in the chosen cells (default: the data-limited ones when ``quick``, all four
    otherwise), write the table and the figure; ``points`` overrides the number of sizes per range."""
    if cells is None:
        cells = QUICK_CELLS if quick else None
    start = time.perf_counter()
    table = numerics_table1.build_table1(size="quick" if quick else "ci", cells=cells, points=points)
    runtime = time.perf_counter() - start
    files = write_table1(table, Path(out_dir), prefix=NAME)
    return Table1Result(table, runtime, tuple(str(p) for p in files))


if __name__ == "__main__":  # pragma: no cover
    import sys

    from lrwb.experiments.claims import claims_markdown

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/fsl_table1")
    res = fsl_table1(target, quick="--full" not in sys.argv)
    print(res.markdown())
    print(claims_markdown(res.claims))
    print(f"runtime {res.runtime_s:.1f} s; files: {', '.join(res.files)}")
