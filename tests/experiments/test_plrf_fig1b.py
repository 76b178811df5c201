"""PLRF Fig. 1b reproduction: the best fixed η shifts as T^{−ξ_const} (registry exponent, plrf.md §6)."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb import experiments
from lrwb.experiments import plrf_fig1b as fig1b
from lrwb.theory.results import registry

from tests.csv_check import assert_csvs_parse, read_numeric_csv


@pytest.fixture(scope="module")
def quick_grid():
    # Quick grid: N = 2000, T = 2^7…2^11, 40 η in logspace(−2, 0.25); < 1 s after numba's compile.
    features, horizons, etas = fig1b.fig1b_setup(quick=True)
    finals = fig1b.loss_grid(features, horizons, etas)
    return horizons, etas, finals, fig1b.optimum_rows(horizons, etas, finals)


def test_quick_setup_matches_spec_grid():
    features, horizons, etas = fig1b.fig1b_setup(quick=True)
    assert features == 2000 and horizons == (128, 256, 512, 1024, 2048) and etas.size == 40
    assert etas[0] == pytest.approx(1e-2) and etas[-1] == pytest.approx(10 ** 0.25)
    _, full_horizons, full_etas = fig1b.fig1b_setup(quick=False)
    assert full_horizons[-1] == 8192 and full_etas.size == 100


def test_grid_brackets_the_optimum_and_flags_divergence(quick_grid):
    horizons, etas, finals, optima = quick_grid
    for row in finals:
        i = int(np.argmin(row))
        assert 0 < i < etas.size - 1  # an interior minimum: the grid brackets η*
    # The largest η (≈ 1.78) is past the stability bound at every T: flagged as +inf, never NaN.
    assert not np.isnan(finals).any() and np.isinf(finals[:, -1]).all()


def test_optimum_shifts_left_with_T(quick_grid):
    _, _, _, optima = quick_grid
    eta_star = np.array([r.eta_refined for r in optima])
    assert np.all(np.diff(eta_star) < 0)
    # Spec's reading of the paper's plot: η* ≈ 0.3 at T = 128. A value read off a log-scale figure: allow a
    # factor 1.5 (0.18 decade, ~8 grid cells); measured 0.38.
    assert fig1b.SPEC_OPTIMUM[128] / 1.5 <= optima[0].eta_refined <= 1.5 * fig1b.SPEC_OPTIMUM[128]


def test_fitted_optimum_exponent_lags_xi_const_on_the_figure_grid(quick_grid):
    horizons, _, _, optima = quick_grid
    derived = float(registry().get("xi_const").evaluate(a=fig1b.A, b=fig1b.B_EXPONENT))  # 1.3/3.05 = 0.426
    fitted = fig1b.fit_optimum_exponent(optima)
    # The all-T fit over the figure's T ≤ 2^11 is pre-asymptotic (measured 0.367): it misses ±0.05, which is why
    # the claim uses the extrapolated ladder. It still lies within 0.1 and rejects ξ = (a−1)/a = 0.565.
    assert 0.05 < derived - fitted <= 0.1, (fitted, derived)


@pytest.fixture(scope="module")
def ladder():
    # T = 2^7…2^12 (6 horizons, 5 local slopes: enough for the 3-parameter power model), < 1 s.
    return fig1b.optimum_ladder(2000, [2 ** k for k in range(7, 13)])


def test_zoomed_ladder_agrees_with_the_grid_refinement(ladder, quick_grid):
    _, _, _, optima = quick_grid
    grid = {r.steps: r.eta_refined for r in optima}
    for steps, eta in ladder:
        if steps in grid:
            # the figure's grid refines η* to a parabola vertex over 0.058-decade cells: ~3% (measured ≤ 1.4%)
            assert eta == pytest.approx(grid[steps], rel=0.03), (steps, eta, grid[steps])


def test_extrapolated_ladder_slope_matches_xi_const(ladder):
    from lrwb.numerics.analysis.asymptotics import extrapolate

    derived = float(registry().get("xi_const").evaluate(a=fig1b.A, b=fig1b.B_EXPONENT))
    x = extrapolate([t for t, _ in ladder], [e for _, e in ladder], model="power")
    # conventions.md: exponents ±0.05 (the extrapolation is the stated finite-size correction); measured 0.429
    # from T ≤ 2^12 (0.427 from T ≤ 2^16), while the last raw local slope is 0.400.
    assert abs(x.value - derived) <= 0.05, x.describe()
    # the local slopes rise monotonically towards the limit: the correction is a one-signed power law
    assert np.all(np.diff(x.slopes) > 0) and x.slopes[-1] < x.value


def test_refine_argmin_recovers_parabola_vertex_and_keeps_edges():
    etas = np.logspace(-2, 0, 21)
    losses = np.exp((np.log(etas) - np.log(0.2)) ** 2)  # exactly a parabola in (log η, log L), vertex at 0.2
    assert fig1b.refine_argmin(etas, losses) == pytest.approx(0.2, rel=1e-10)
    assert fig1b.refine_argmin(etas, etas) == etas[0]  # minimum on the edge: no bracket, grid value kept
    with pytest.raises(ValueError, match="diverged"):
        fig1b.refine_argmin(etas, np.full(etas.size, np.inf))


def test_experiment_writes_files_and_registers(tmp_path):
    result = fig1b.plrf_fig1b(tmp_path, quick=True)
    names = {p.split("/")[-1] for p in result.files}
    assert_csvs_parse(result.files)  # every CSV cell a number or a named text column (#11 §7)
    assert names == {"plrf_fig1b_losses.csv", "plrf_fig1b_optimum.csv", "plrf_fig1b_ladder.csv", "plrf_fig1b.png",
                     "plrf_fig1b.pdf"}
    # the losses CSV holds the grid L_T(η) exactly (repr round trip; empty where η diverged)
    _, rows = read_numeric_csv(tmp_path / "plrf_fig1b_losses.csv")
    assert [(r["steps"], r["eta"], r["final_loss"]) for r in rows] == \
        [(t, float(eta), float(loss) if np.isfinite(loss) else None) for t, row in zip(result.horizons,
                                                                                      result.final_losses)
         for eta, loss in zip(result.etas, row)]
    assert result.xi_theory == pytest.approx(1.3 / 3.05) and "ξ_const" in result.markdown()
    (claim,) = result.claims
    # the claim measures the extrapolated ladder (T = 2^7…2^14), not the figure grid's lagging fit
    assert claim.measured == result.extrapolation.value and [t for t, _ in result.ladder] == list(
        fig1b.ladder_horizons(True))
    _, ladder_rows = read_numeric_csv(tmp_path / "plrf_fig1b_ladder.csv")
    assert [(r["steps"], r["eta_star"]) for r in ladder_rows] == [(t, e) for t, e in result.ladder]
    assert [r["local_slope_to_next"] for r in ladder_rows[:-1]] == pytest.approx(list(result.extrapolation.slopes))
    assert "plrf_fig1b" in experiments.names()
