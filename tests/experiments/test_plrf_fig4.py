"""PLRF Fig. 4 reproduction: compute-optimal L* and N* against C with optimal schedules (plrf.md §4)."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb import experiments
from lrwb.experiments import plrf_fig4 as fig4
from lrwb.numerics.spectra import power_law_spectrum

from tests.csv_check import assert_csvs_parse, read_numeric_csv


# A reduced ladder for CI: C = 10^3 … 10^5 in half decades on the quick N grid (ratio 2). The quick ladder goes
# to 10^5.5; stopping at 10^5 keeps both phases at a few seconds and still spans two decades of C.
COMPUTES = np.logspace(3, 5, 5)


@pytest.fixture(scope="module")
def frontiers():
    _, grid, _ = fig4.fig4_setup(quick=True)
    return {phase: fig4.isoflop_frontier(phase, a, b, COMPUTES, grid) for phase, (a, b) in fig4.PHASES.items()}


def test_setup_grids():
    computes, grid, ratio = fig4.fig4_setup(quick=True)
    assert computes[0] == pytest.approx(1e3) and computes[-1] == pytest.approx(10 ** 5.5) and ratio == 2.0
    assert grid[0] == 4 and np.allclose(np.diff(np.log(grid)), np.log(2))
    full_computes, _, full_ratio = fig4.fig4_setup(quick=False)
    assert full_computes[-1] == pytest.approx(1e7) and full_ratio == pytest.approx(np.sqrt(2))
    for budget in fig4.default_rf_budgets(True) + fig4.default_rf_budgets(False):
        assert np.isclose(full_computes, budget).any()  # the random-feature budgets lie on the frontier's ladder
    assert np.isclose(computes, fig4.default_rf_budgets(True)[1]).any()


def test_derived_exponents_come_from_the_registry():
    # Hand values of the registry's formulas: easy (a−1)/(a+1) and 1/(a+1) at a = 2; hard (a−1)/(b+1), 1/(b+1)
    # at a = 1.5, b = 2 (a pin of a few closed forms, not of the experiment's output).
    assert fig4.derived_exponent("compute_optimal_loss_easy", 2.0, 1.5) == pytest.approx(-1 / 3)
    assert fig4.derived_exponent("compute_optimal_features_easy", 2.0, 1.5) == pytest.approx(1 / 3)
    assert fig4.derived_exponent("compute_optimal_loss_hard", 1.5, 2.0) == pytest.approx(-1 / 6)
    assert fig4.derived_exponent("compute_optimal_features_hard", 1.5, 2.0) == pytest.approx(1 / 3)


def test_envelope_minimum_recovers_a_parabola():
    n = np.array([8.0, 16.0, 32.0, 64.0])
    loss = np.exp(0.5 * (np.log(n) - np.log(20.0)) ** 2 + np.log(0.1))  # exact parabola in log-log, vertex 20
    n_opt, l_opt = fig4.envelope_minimum(n, loss)
    assert n_opt == pytest.approx(20.0, rel=1e-10) and l_opt == pytest.approx(0.1, rel=1e-10)
    # Minimum at an end of the grid: not bracketed, so no vertex.
    assert np.isnan(fig4.envelope_minimum(n, np.array([1.0, 2.0, 3.0, 4.0]))).all()


@pytest.mark.parametrize("phase", ["easy", "hard"])
def test_frontier_brackets_every_minimum_and_the_tail_bounds_the_loss(frontiers, phase):
    f = frontiers[phase]
    assert np.all(np.isfinite(f.features_opt)) and np.all(np.isfinite(f.loss_opt))
    a, b = fig4.PHASES[phase]
    for p in f.points:
        # The untrained tail δ_N is part of the excess loss: no schedule gets below it.
        assert p.final_loss > power_law_spectrum(a, b, p.features, tail=True).tail
        assert p.max_residual <= 1e-6  # every point is a certified optimum (conventions.md: 1e-6)
    for j in range(COMPUTES.size):
        n, loss = f.column(j)
        i = int(np.argmin(loss))
        assert 0 < i < n.size - 1  # interior minimum over N at every budget
        assert f.loss_opt[j] <= loss[i] * (1 + 1e-12)  # the refined vertex is at or below the grid minimum


@pytest.mark.parametrize("phase", ["easy", "hard"])
def test_fitted_exponents_match_registry(frontiers, phase):
    loss_row, size_row = fig4.exponent_rows(frontiers[phase])
    # ±0.05: the pinned tolerance for fitted exponents (conventions.md); measured deviations on this reduced
    # ladder are ≤ 0.03 (L*) and ≤ 0.04 (N*).
    assert abs(loss_row.fitted - loss_row.derived) <= 0.05, loss_row
    assert abs(size_row.fitted - size_row.derived) <= 0.05, size_row
    assert loss_row.passed and size_row.passed


def test_phases_have_different_loss_exponents(frontiers):
    # Easy 1/3 against hard 1/6: a gap of 0.17, far above the tolerance, so the fits tell the phases apart.
    easy = fig4.exponent_rows(frontiers["easy"])[0].fitted
    hard = fig4.exponent_rows(frontiers["hard"])[0].fitted
    assert easy - hard > 0.1


def test_random_feature_tail_includes_the_input_modes_beyond_d():
    spectrum = fig4.random_feature_spectrum_with_tail(2.0, 1.5, 16, input_ratio=4, seed=0)
    top = power_law_spectrum(2.0, 1.5, 16, tail=True)
    # Same infinite target: total power Σ_k k^{−a} = ζ(2) = π²/6 in both models (random features: learnable
    # part + tail; a float64 eigen-decomposition of a 16×16 matrix, so 1e-10 relative).
    assert spectrum.initial_loss() == pytest.approx(top.initial_loss(), rel=1e-10)
    assert spectrum.initial_loss() == pytest.approx(np.pi ** 2 / 6, rel=1e-10)
    assert spectrum.tail > top.tail  # the projection mixes modes: it explains less than the top 16


def test_experiment_writes_files_and_claims(tmp_path):
    # Tiny overrides: a smoke test of the output path (the exponents are checked above).
    computes = np.logspace(3.5, 4.0, 2)
    result = fig4.plrf_fig4(tmp_path, computes=computes, features=(4, 8, 16, 32, 64, 128, 256),
                            rf_budgets=(computes[0], computes[-1]), phases=("hard",))
    names = {p.split("/")[-1] for p in result.files}
    assert_csvs_parse(result.files)  # every CSV cell a number or a named text column (#11 §7)
    assert names == {"plrf_fig4_grid.csv", "plrf_fig4_frontier.csv", "plrf_fig4_exponents.csv",
                     "plrf_fig4_random_features.csv", "plrf_fig4.png", "plrf_fig4.pdf"}
    # the exponents CSV and the claims carry the same numbers as the result (repr round trip)
    _, rows = read_numeric_csv(tmp_path / "plrf_fig4_exponents.csv")
    expected = [(r.quantity, r.derived, r.fitted) for r in result.rows] + \
        [("loss", c.derived, c.fitted) for c in result.random_features]
    assert [(r["quantity"], r["derived"], r["fitted"]) for r in rows] == expected
    assert [(c.derived, c.measured) for c in result.claims] == [(d, f) for _, d, f in expected]
    assert all(c.experiment == "plrf_fig4" and c.is_exponent and c.tol == 0.05 for c in result.claims)
    # the frontier CSV (np.float64 reprs before #11 §7) holds the frontier's optima
    _, frontier = read_numeric_csv(tmp_path / "plrf_fig4_frontier.csv")
    f = result.frontiers[0]
    assert [(r["compute"], r["loss_opt"]) for r in frontier if r["model"] == "top_n"] == \
        [(float(c), float(v)) for c, v in zip(f.computes, f.loss_opt)]
    assert result.runtime_s > 0 and "random" in result.markdown()
    assert "plrf_fig4" in experiments.names()  # registered on import (the report lists it in _MODULES)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="features_grid"):
        fig4.isoflop_frontier("easy", 2.0, 1.5, [1e3, 1e4], [4, 8])
    with pytest.raises(ValueError, match="computes"):
        fig4.isoflop_frontier("easy", 2.0, 1.5, [1e4, 1e3], [4, 8, 16])
    with pytest.raises(ValueError, match="phases"):
        fig4.plrf_fig4(".", phases=("medium",))
