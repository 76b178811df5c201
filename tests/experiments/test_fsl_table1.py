"""The fsl_table1 experiment: the table's verdicts (±0.05), its files and claims (the numbers are
lrwb.numerics.fsl.table1's, tested in tests/numerics/fsl/test_table1.py)."""

from __future__ import annotations

import pytest

from lrwb.experiments import fsl_table1 as exp
from lrwb.numerics.conventions import EXPONENT_TOLERANCE
from lrwb.numerics.fsl.table1 import SCHEDULES, Cell, Optimum, Table1

from tests.csv_check import assert_csvs_parse, read_numeric_csv


def _cell(fitted: float, derived: float = 0.5) -> Cell:
    optimum = Optimum(size=1e4, loss=1e-3, peak=0.1, ratio=10.0, fraction=1.0, features=100)
    return Cell("exp", "data", "easy", 1.0, 2.0, derived, 0.0, fitted, fitted, (optimum,), 1.0)


def test_verdict_is_the_pinned_tolerance():
    # 0.549 vs 0.5 passes, 0.551 fails (conventions.md: Table-1 exponents ±0.05)
    assert EXPONENT_TOLERANCE == 0.05
    assert exp.passes(_cell(0.549)) and not exp.passes(_cell(0.551)) and exp.passes(_cell(0.451))
    table = Table1((_cell(0.549), _cell(0.551)), ())
    assert not exp.all_pass(table) and exp.all_pass(Table1((_cell(0.549),), ()))
    rows = exp.table_markdown(table).splitlines()[2:]
    assert "pass (0.049)" in rows[0] and "FAIL (0.051)" in rows[1]
    csv = exp.exponents_csv(table).splitlines()
    assert csv[0].split(",")[11:13] == ["tolerance", "passed"] and len(csv) == 3


def test_experiment_writes_the_table_and_claims(tmp_path):
    """``fsl_table1`` end to end on one cell with 2 sizes (≈ 2 s; the exponents themselves are checked in
    tests/numerics/fsl/test_table1.py):
    files, one ±0.05 claim per family plus (ii) and (iii)."""
    from lrwb import experiments

    result = exp.fsl_table1(tmp_path, cells=["data-easy"], points=2)
    names = {p.split("/")[-1] for p in result.files}
    assert_csvs_parse(result.files)  # every CSV cell a number or a named text column (#11 §7)
    assert names == {"fsl_table1.md", "fsl_table1.csv", "fsl_table1_exponents.csv", "fsl_table1.png",
                     "fsl_table1.pdf"}
    # the CSV holds the cells' numbers exactly (repr round trip)
    _, rows = read_numeric_csv(tmp_path / "fsl_table1_exponents.csv")
    assert [(r["family"], r["derived_rate"], r["fitted_rate"]) for r in rows] == \
        [(c.family, c.derived_rate, c.fitted_rate) for c in result.table.cells]
    claims = result.claims
    assert len(claims) == len(SCHEDULES) + 2 + 2
    gain = next(c for c in claims if "log power" in c.claim)
    assert gain.derived == pytest.approx(1 / 3) and gain.tolerance == "±0.05"
    rates = [c for c in claims if c.claim.startswith("Table 1 rate")]
    assert [(c.derived, c.measured) for c in rates] == [(c.derived_rate, c.fitted_rate) for c in result.table.cells]
    assert all(c.is_exponent and not c.is_sanity for c in rates)
    # (ii) and "WSD beats exp" hold by construction: sanity checks; the log-power growth stays a claim
    assert [c.claim.split(",")[0] for c in claims if c.is_sanity] == ["(ii) exp beats constant",
                                                                      "(ii) wsd beats constant",
                                                                      "(iii) WSD beats exp"]
    assert all(cell.seconds > 0 for cell in result.table.cells)
    assert "fsl_table1" in experiments.names() and "Optimisation time" in result.markdown()
