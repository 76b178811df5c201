"""Hyper-parameter scalings on the numerically minimised term model (lrwb.numerics.analysis.hyperparameters) and the two
experiments that check every registered one (fsl_hyperparameters, plrf_hyperparameters)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lrwb import experiments
from tests.csv_check import read_numeric_csv
from lrwb.experiments.fsl_hyperparameters import fsl_hyperparameters
from lrwb.experiments.plrf_hyperparameters import plrf_hyperparameters
from lrwb.numerics.analysis.hyperparameters import CheckSpec, TermModel, derived_exponent, fit_decision, optima
from lrwb.theory import fsl as F
from lrwb.theory import params as P
from lrwb.theory.balance import balance
from lrwb.theory.results import registry

#: conventions.md: fitted exponents vs derived ones, ±0.05
TOL = 0.05
SIZES = np.logspace(10, 40, 4)


def _m_branch_lower_end(point):
    """The lower end of r's valley in the WSD compute-hard balance with Min(M, T^{1/β}) → M (the branch the
    registry used before issue 12), at ``point``."""
    terms, decisions, constraints = F.schedule_terms("wsd", "compute")
    terms = {k: v.replace(sp.Min, lambda *args: F.M) for k, v in terms.items()}
    single = balance(terms, P.C, decisions, F.DEFAULT.sample("hard"), constraints, regime=F.HARD.condition)
    return float(single.valleys[F.r].lower.subs(point))


@pytest.mark.parametrize("s_value, beta_value", [(0.321, 2.8), (0.2, 2.0)])
def test_min_r_wsd_compute_hard_matches_the_minimised_term_model(s_value, beta_value):
    """Issue 12: minimising the term model gives −0.368 (s = 0.321, β = 2.8) and −0.400 (s = 0.2, β = 2); the
    registry must agree within ±0.05, and the single-branch end it used to give (−0.237, −0.200) must not."""
    point = {P.s: s_value, P.beta: beta_value, P.sigma: 0.5}
    spec = CheckSpec("fsl_min_r_wsd_compute_hard", "test", F.table1_cell("wsd", "compute", "hard"), F.r, "lower", point)
    derived, log_power = derived_exponent(spec)
    model = TermModel.from_balance(spec.balance, point)
    fitted = fit_decision(model, F.r, SIZES, kind="lower", log_power=log_power).exponent
    assert abs(fitted - derived) <= TOL, (fitted, derived)
    # the old (single-branch) end is more than the tolerance away: this test fails on the old registry
    assert abs(fitted - _m_branch_lower_end(point)) > TOL


def test_pinned_decision_with_a_log_factor():
    """exp decay, compute, hard: M* ≍ (C/log C)^{1/(1+β)}; with the derived log power divided out the slope is
    1/(1+β) (the log factor alone would shift a raw fit over 10^10…10^40 by ≈ −0.01 per unit log power)."""
    point = {P.s: 0.3, P.beta: 2.0, P.sigma: 0.5}
    spec = CheckSpec("fsl_opt_model_exp_compute_hard", "test", F.table1_cell("exp", "compute", "hard"), F.M,
                     "argmin", point)
    derived, log_power = derived_exponent(spec)
    model = TermModel.from_balance(spec.balance, point)
    solved = optima(model, SIZES)
    fit = fit_decision(model, F.M, kind="argmin", log_power=log_power, solved=solved)
    # 0.005: the optimum is smooth (SLSQP to 1e-12 in log E); over 30 decades the fit is ~exact
    assert abs(fit.exponent - derived) <= 0.005
    data = fit_decision(model, F.M, kind="data", log_power=-log_power, solved=solved)
    # D* = C/M*: the complementary exponent from the same optima, to rounding
    assert data.exponent == pytest.approx(1.0 - fit.exponent, abs=1e-9)


def test_term_model_errors_name_the_problem():
    cell = F.table1_cell("constant", "data", "easy")
    with pytest.raises(ValueError, match="sigma"):
        TermModel.from_balance(cell, {P.s: 1.0, P.beta: 2.0})  # σ missing
    model = TermModel.from_balance(cell, {P.s: 1.0, P.beta: 2.0, P.sigma: 0.5})
    with pytest.raises(ValueError, match="kind"):
        fit_decision(model, P.gamma, SIZES, kind="median")
    with pytest.raises(ValueError, match="not one of the balance's decisions"):
        fit_decision(model, P.M, SIZES)


def _registered_hyperparameters():
    prefixes = ("fsl_opt_gamma_", "fsl_opt_model_", "fsl_opt_data_", "fsl_opt_r_", "fsl_min_r_")
    return {r.name for r in registry() if r.name.startswith(prefixes)}


def test_fsl_experiment_checks_every_registered_hyperparameter(tmp_path):
    res = fsl_hyperparameters(tmp_path, quick=True, points=3)
    checked = {c.spec.result for c in res.checks}
    assert _registered_hyperparameters() <= checked
    assert {"fsl_optimal_peak_exponent", "fsl_hard_decay_length"} <= checked
    cells = {(c.spec.label) for c in res.checks if c.spec.result.startswith("fsl_opt_gamma_")}
    assert len(cells) == 12  # every Table-1 cell (constant LR at both phases' exponents)
    for claim in res.claims:
        # ±0.05 (conventions.md); 3 sizes over 30 decades suffice for the term model
        assert abs(claim.measured - claim.derived) <= TOL, claim
    _, rows = read_numeric_csv(tmp_path / "fsl_hyperparameters.csv")
    assert [row["fitted_exponent"] for row in rows] == pytest.approx([c.fitted for c in res.checks], rel=1e-12)
    assert "fsl_hyperparameters" in experiments.names()


def test_plrf_experiment_checks_compute_optimal_and_lr_scalings(tmp_path):
    res = plrf_hyperparameters(tmp_path, quick=True, points=3)
    checked = {c.spec.result for c in res.checks}
    assert {"compute_optimal_features_easy", "compute_optimal_features_hard", "lr_transfer_constant",
            "lr_transfer_annealed_easy", "lr_transfer_annealed_hard", "anneal_length_hard",
            "anneal_length_sufficient_hard"} <= checked
    for claim in res.claims:
        assert abs(claim.measured - claim.derived) <= TOL, claim  # ±0.05 (conventions.md)
    # the compute-optimal points separate the phases: the other phase's N* exponent is > 0.05 away
    other = {"easy": "compute_optimal_features_hard", "hard": "compute_optimal_features_easy"}
    for c in res.checks:
        if c.spec.result.startswith("compute_optimal_features_") and c.spec.kind == "argmin":
            phase = c.spec.result.rsplit("_", 1)[1]
            wrong = CheckSpec(other[phase], "", c.spec.balance, c.spec.decision, "argmin", c.spec.point)
            assert abs(c.fitted - derived_exponent(wrong)[0]) > TOL


@pytest.mark.slow
def test_engine_hyperparameters_data_limited():
    """--full's engine checks (lrwb.numerics.fsl.table1 optima, D = 10^4…10^8): every pinned registered
    hyper-parameter of the data-limited cells within ±0.05 of its derived exponent (≈ 30 s on 2 cores)."""
    from lrwb.experiments.fsl_hyperparameters import engine_checks

    checks = engine_checks(["data-easy", "data-hard"], points=5)
    assert {c.result for c in checks} >= {"fsl_opt_gamma_constant_data", "fsl_opt_gamma_exp_data_easy",
                                          "fsl_opt_gamma_wsd_data_easy", "fsl_opt_r_wsd_data_easy"}
    for c in checks:
        assert abs(c.fitted - c.derived) <= TOL, (c.result, c.label, c.fitted, c.derived)  # ±0.05 (conventions.md)
