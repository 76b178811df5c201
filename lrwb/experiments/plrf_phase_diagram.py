"""PLRF phase diagram (Bordelon & Mori, ``plrf.md`` §4): the exponents checked across the (a, b) plane, not at one
or two points.

The quick sweep of :mod:`lrwb.numerics.sweep` — 42 points, a ∈ {1.25, 1.5, 2, 2.5, 3.5, 5} × b ∈ {1.25, 1.5, 2, 2.5,
3.5, 5, 8} (both phases, six points on the boundary a = b, a → 1, large b), horizons T = 250 … 8000, σ = 0.5,
B = 5, η_max = 1, top-N model with its tail and N large enough that the tail cannot move
(:func:`lrwb.numerics.analysis.phase_diagram.features_for`) — on a local Dask cluster. At every point each applicable
quantity of :data:`lrwb.numerics.analysis.phase_diagram.QUANTITIES` (ζ_T optimal and best-constant, ξ_const, collapse ξ,
κ, anneal length) is fitted and compared with :func:`lrwb.theory.results.registry`; every comparison is one claim,
±0.05 (``conventions.md``), with its local slopes and their trend in the note — near a → 1, a ≈ b and at large
b the finite-T effects are reported as fails with their trend, not hidden behind a wider tolerance.

Outputs (``plrf_phase_diagram``): ``phase_diagram.csv``, ``phase_diagram.png``/``.pdf``,
``phase_diagram_residual.png``/``.pdf`` and the per-point cache ``points/*.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from lrwb.experiments import experiment
from lrwb.experiments.claims import Claim
from lrwb.numerics.analysis.phase_diagram import SweepSettings
from lrwb.numerics.sweep import FULL_HORIZONS, SweepRun, full_grid, quick_grid, run_sweep

__all__ = ["PhaseDiagramResult", "plrf_phase_diagram"]

SOURCE = "Bordelon & Mori, plrf.md §4 (exponents across the (a, b) plane)"


@dataclass(frozen=True)
class PhaseDiagramResult:
    """Result of :func:`plrf_phase_diagram`."""

    run: SweepRun
    runtime_s: float
    files: tuple[str, ...]

    @property
    def claims(self) -> tuple[Claim, ...]:
        """One exponent claim per (point, quantity) that was measured, fitted vs derived, ±0.05 (no finite-size
        correction: the local slopes and their trend are in the note)."""
        out = []
        for r in self.run.rows:
            if r.fitted is None:
                continue
            out.append(Claim.exponent("plrf_phase_diagram", f"{r.quantity} at a={r.point.a:g}, b={r.point.b:g} "
                                      f"({r.point.phase})", r.derived, r.fitted, source=SOURCE,
                                      note=f"registry: {r.theory_name}; {r.note()}"))
        return tuple(out)

    def markdown(self) -> str:
        """Counts per quantity, worst residuals, timings; the points where nothing could be measured."""
        text = self.run.markdown()
        missing = [r for r in self.run.rows if r.fitted is None]
        if missing:
            text += "\n\nNot measured (no claim): " + "; ".join(
                f"{r.quantity} at ({r.point.a:g}, {r.point.b:g}): {r.reason}" for r in missing)
        return text


@experiment("plrf_phase_diagram", title="Phase diagram: the PLRF exponents across the (a, b) plane (Dask sweep)",
            source=SOURCE, budget_s=120)
def plrf_phase_diagram(out_dir, quick: bool = True, *, points=None, settings: SweepSettings | None = None,
                       scheduler: str | None = None) -> PhaseDiagramResult:
    """The quick sweep on a local cluster of this machine's cores (``quick=False``: the full sweep, 110 points,
    T = 250 … 32000, the same as ``lrwb sweep --grid full``). Overrides for tests: ``points``, ``settings``,
    ``scheduler`` (the address of a running cluster)."""
    start = time.perf_counter()
    if points is None:
        points = quick_grid() if quick else full_grid()
    if settings is None:
        settings = SweepSettings() if quick else SweepSettings(horizons=FULL_HORIZONS)
    run = run_sweep(points, settings, Path(out_dir), scheduler=scheduler, progress=False)
    return PhaseDiagramResult(run, time.perf_counter() - start, run.files)
