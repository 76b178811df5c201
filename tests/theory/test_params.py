import pytest
import sympy as sp

from lrwb.theory import params as P


def test_plrf_fsl_round_trip():
    s_val, beta_val = P.fsl_from_plrf(3.5, 2.0)
    assert (s_val, beta_val) == (1.25, 2.0)
    assert P.plrf_from_fsl(s_val, beta_val) == (3.5, 2.0)


def test_symbolic_mapping_is_inverse():
    round_trip = {sym: expr.subs(P.FSL_TO_PLRF) for sym, expr in P.PLRF_TO_FSL.items()}
    assert sp.simplify(round_trip[P.s] - P.s) == 0
    assert round_trip[P.beta] == P.beta


def test_phase_boundaries_agree_under_mapping():
    # s >= 1 - 1/beta  <=>  (a-1)/b >= 1 - 1/b  <=>  a >= b (b > 0)
    fsl_in_plrf = P.EASY_FSL.subs(P.PLRF_TO_FSL)
    gap = sp.simplify((fsl_in_plrf.lhs - fsl_in_plrf.rhs) * P.b)
    assert sp.simplify(gap - (P.a - P.b)) == 0


@pytest.mark.parametrize("name, value, text", [("a", 1.0, "a > 1"), ("b", 0.5, "b > 1"), ("s", 0.0, "s > 0"),
                                               ("beta", 1.0, "beta > 1"), ("sigma", -0.1, "sigma >= 0"),
                                               ("B", 0.5, "B >= 1")])
def test_domain_errors_name_value_and_range(name, value, text):
    with pytest.raises(ValueError, match=text) as err:
        P.check_domain(name, value)
    assert repr(value) in str(err.value)


def test_non_finite_and_non_numeric_rejected():
    with pytest.raises(ValueError, match="not finite"):
        P.check_domain("a", float("nan"))
    with pytest.raises(ValueError, match="not a number"):
        P.check_domain("a", "x")


def test_evaluation_point_derives_sizes_and_exponents():
    point = P.evaluation_point(a=3.5, b=2, batch=5, steps=1000, features=100)
    assert point[P.s] == pytest.approx(1.25) and point[P.beta] == 2
    assert point[P.K] == 1000 and point[P.M] == 100
    assert point[P.D] == 5000 and point[P.C] == 500_000
    back = P.evaluation_point(s=1.25, beta=2)
    assert back[P.a] == pytest.approx(3.5) and back[P.b] == 2


def test_evaluation_point_rejects_contradictions_and_unknown_names():
    with pytest.raises(ValueError, match="contradicts"):
        P.evaluation_point(a=3.5, b=2, s=1.0)
    with pytest.raises(ValueError, match="unknown parameter 'alpha'"):
        P.evaluation_point(alpha=1)
