"""The verdicts and the report of the hyper-parameter checks (lrwb.experiments.hyperparameter_checks)."""

from __future__ import annotations

from lrwb.experiments import hyperparameter_checks as hc
from lrwb.numerics.analysis.hyperparameters import CheckResult, CheckSpec, Fit

from tests.csv_check import assert_csvs_parse, read_numeric_csv


def _result(fitted: float, derived: float = 0.5) -> CheckResult:
    spec = CheckSpec("fsl_opt_gamma_x", "a cell", balance=None, decision="gamma", what="γ*")
    return CheckResult(spec, derived, 0.0, Fit((1e10, 1e20, 1e30), (0.0, -1.0, -2.0), 0.0, fitted), 0.25)


def test_verdict_is_the_pinned_tolerance():
    # conventions.md: ±0.05 on exponents; 0.549 vs 0.5 passes, 0.551 fails
    assert hc.passes(_result(0.549)) and hc.passes(_result(0.451)) and not hc.passes(_result(0.551))
    rows = hc.checks_markdown([_result(0.549), _result(0.551)]).splitlines()[2:]
    assert "| pass |" in rows[0] and "| FAIL |" in rows[1]


def test_files_hold_the_table_and_the_verdicts(tmp_path):
    results = [_result(0.549), _result(0.551)]
    paths = hc.write_checks(results, tmp_path, "checks")
    assert [p.name for p in paths] == ["checks.md", "checks.csv"]
    assert_csvs_parse([str(p) for p in paths if p.suffix == ".csv"])
    _, rows = read_numeric_csv(tmp_path / "checks.csv")
    assert [(r["fitted_exponent"], r["tolerance"], r["passed"]) for r in rows] == [(0.549, 0.05, "True"),
                                                                                 (0.551, 0.05, "False")]
    assert "X = 1e+10…1e+30 (3 sizes), argmin" in hc.claim_note(results[0])
