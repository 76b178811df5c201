"""Table 1 numerically: the closed-form continuous FSL, its agreement with the step engine, the fitted
exponents of the optimal final loss (±0.05, conventions.md) and the WSD-vs-exp log-factor growth."""

from __future__ import annotations

import numpy as np
import pytest

from lrwb.numerics.conventions import EXPONENT_TOLERANCE as TOLERANCE  # Table-1 exponents ±0.05
from lrwb.numerics.fsl.engine import fsl_curve, fsl_spectrum, mode_sum_model
from lrwb.numerics.fsl.table1 import (
    PHASE_EXPONENTS,
    PHASES,
    SCHEDULES,
    SIGMA,
    TopModel,
    build_table1,
    parse_cells,
    table1_cell,
    wsd_gain,
)



@pytest.mark.parametrize("family, args, lr_of_k", [
    ("constant", (0.005,), lambda k, K: np.full(K, 0.005)),
    ("exp", (0.005, 100.0), lambda k, K: 0.005 * 100.0 ** (-k / K)),
    ("wsd", (0.005, 100.0, 0.2), lambda k, K: np.where(k < 0.8 * K, 0.005, 0.005 * 100.0 ** (-(k - 0.8 * K) / (0.2 * K)))),
])
def test_closed_form_matches_step_engine(family, args, lr_of_k):
    """The continuous-time closed form = the step-unit engine up to the O(η) discretisation: at η = 0.005
    the left-sum vs integral difference is ≈ η K(0)/(2∫K) ≈ 0.35% (3.2% measured at η = 0.05), plus the ≲ 2e-3
    compression of TopModel (order 3, bins ×4); 0.6% bounds it."""
    K = 200_000
    model = TopModel.build(1.0, 2.0, 2000, 1e3, tail=True)
    engine = mode_sum_model(fsl_spectrum(1.0, 2.0, 2000, tail=True), sigma=SIGMA)
    closed = model.loss(family, K, *args)
    stepped = fsl_curve(engine, lr_of_k(np.arange(K), K), batch=1.0).loss[-1]
    assert closed == pytest.approx(stepped, rel=0.006)


@pytest.fixture(scope="module")
def data_cells():
    """Data-limited cells for both phases, 5 sizes D = 1e4 … 1e8 (≈ 30 s)."""
    return {(family, phase): table1_cell(family, "data", phase, points=5) for phase in PHASES for family in SCHEDULES}


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("family", SCHEDULES)
def test_data_limited_exponents(data_cells, family, phase):
    cell = data_cells[(family, phase)]
    assert abs(cell.fitted_rate - cell.derived_rate) <= TOLERANCE, (cell.fitted_rate, cell.derived_rate)


def test_derived_gain_powers_are_the_difference_of_the_table_entries():
    # l_exp − l_WSD from the registry's Table-1 entries, recomputed by hand: data easy 2/3 − 1/3, data hard
    # 0.3 − 0, compute easy (βs − s(β−1))/(βs+2) = s/(βs+2) = 1/4, compute hard βs/(β+1) − 0 = 0.2
    from lrwb.numerics.fsl.table1 import derived_gain_power

    expected = {("data", "easy"): 1 / 3, ("data", "hard"): 0.3, ("compute", "easy"): 0.25, ("compute", "hard"): 0.2}
    for (limit, phase), value in expected.items():
        assert derived_gain_power(limit, phase, *PHASE_EXPONENTS[phase]) == pytest.approx(value, abs=1e-12)


def test_mode_quadrature_matches_the_mode_sum():
    # beyond EXACT_MODES the sums are a trapezoid rule in log j: Σ_{j≤M} j^−1.3 against the Hurwitz zeta
    # (midpoint Euler–Maclaurin error O(J^−2) ≈ 1e-7 relative at J = 2e4)
    from scipy.special import zeta

    from lrwb.numerics.fsl.table1 import mode_nodes

    j, mass = mode_nodes(10**9)
    assert j.size < 25_000
    assert float(np.sum(mass * j**-1.3)) == pytest.approx(zeta(1.3) - zeta(1.3, 10**9 + 1), rel=1e-6)


@pytest.fixture(scope="module")
def hard_gain():
    # the hard data-limited ratio on D = 1e4…1e16 (7 sizes; ≈ 10 s): the regime where r* stays inside its bounds
    sizes = np.logspace(4, 16, 7)
    s, beta = PHASE_EXPONENTS["hard"]
    from lrwb.numerics.fsl.table1 import data_limited_optima, derived_gain_power

    exp_opt, wsd_opt = (data_limited_optima(s, beta, f, sizes) for f in ("exp", "wsd"))
    return wsd_gain(exp_opt, wsd_opt, derived_gain_power("data", "hard", s, beta), "data", "hard")


def test_wsd_gain_numbers_are_recomputed(hard_gain):
    """The ratio, the all-size fitted log power and the local log powers, recomputed from the optima' losses
    (closed-form least squares; differences of logs): the same floats, so 1e-12 relative / 1e-10 absolute."""
    g = hard_gain
    logx = np.log(np.asarray(g.sizes))
    y = np.log(np.asarray(g.ratio))
    x = np.log(logx)
    assert g.fitted == pytest.approx(np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2), abs=1e-10)
    slopes = np.diff(y) / np.diff(x)
    # the extrapolation uses the upper half of the local powers (here the last 3 of 6)
    np.testing.assert_allclose(g.extrapolation.slopes, slopes[-len(g.extrapolation.slopes):], rtol=1e-12)
    assert len(g.extrapolation.slopes) == 3
    # the claimed value: the extrapolation when determined, else the last local power
    assert g.measured == (g.extrapolation.value if g.extrapolation.determined else g.extrapolation.slopes[-1])


def test_wsd_gain_log_power_hard_phase(hard_gain):
    """Claim (iii), hard phase: E_exp/E_WSD ≍ (log D)^s, s = 0.3. WSD with r = 1 is the exponential decay, so
    the ratio is ≥ 1 up to the optimiser's tolerance (1e-6)."""
    g = hard_gain
    assert np.all(np.asarray(g.ratio) > 1 - 1e-6)
    # the upper local log powers over D = 1e4…1e16 (measured 0.354, 0.339, 0.316) against the derived 0.3: ±0.1 (the
    # ±0.05 claim is made on the quick ladder to 1e24; these still carry the finite-D correction, falling towards 0.3)
    assert np.all(np.abs(np.asarray(g.extrapolation.slopes) - g.derived) <= 0.1), g.note()
    assert np.all(np.diff(g.extrapolation.slopes) < 0)
    # an independent estimate: the two-point log power over the whole range, log(R_last/R_first)/log(log D ratio)
    two_point = np.log(g.ratio[-1] / g.ratio[0]) / np.log(np.log(g.sizes[-1]) / np.log(g.sizes[0]))
    assert two_point == pytest.approx(g.fitted, abs=0.03)  # least squares vs two-point: same data, ±0.03


def test_decay_gain_exponent_against_the_derived_rates(data_cells):
    """Claim (ii) quantitatively: E*_const/E*_decay grows as D^{rate_decay − rate_const} (log powers divided
    out). (E*_decay ≤ E*_const alone holds by construction: η_p/η_f → 1 is the constant schedule.)"""
    for phase in PHASES:
        const = data_cells[("constant", phase)]
        sizes = np.array([o.size for o in const.optima])
        for family in ("exp", "wsd"):
            decay = data_cells[(family, phase)]
            gain = np.array([c.loss / d.loss for c, d in zip(const.optima, decay.optima)])
            log_factor = np.log(sizes) ** (decay.derived_log_power - const.derived_log_power)
            slope = np.polyfit(np.log(sizes), np.log(gain * log_factor), 1)[0]
            derived = decay.derived_rate - const.derived_rate  # 1/6 easy, 0.3 − 3/13 hard
            # two fitted exponents, each ±0.05 (conventions.md): their difference ±0.1 (measured ≤ 0.03)
            assert abs(slope - derived) <= 0.1, (phase, family, slope, derived)


def test_bad_cell_names():
    with pytest.raises(ValueError, match="unknown Table-1 cell"):
        parse_cells(["data-medium"])


@pytest.mark.slow
def test_compute_limited_exponents():
    """Compute-limited cells (C = 1e7 … 1e11, M optimised): ≈ 10 min on one core."""
    table = build_table1(cells=["compute-easy", "compute-hard"])
    for cell in table.cells:
        assert abs(cell.fitted_rate - cell.derived_rate) <= TOLERANCE, (cell.family, cell.phase, cell.fitted_rate)
