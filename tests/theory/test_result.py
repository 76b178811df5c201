"""The result type (lrwb.theory.result): evaluation, regimes, rendering, the Registry container."""

import numpy as np
import pytest

from lrwb.theory import params as P
from lrwb.theory.result import NotApplicable, Regime, Registry, Result

# A small stand-in result built from the symbols (the registry's own results are tested in their modules).
RATE = Result(
    name="toy_rate",
    lhs=r"\zeta",
    expr=(P.a - 1) / (P.a + P.b - 1),
    description="toy rate",
    source="test",
    regime=Regime("easy", P.EASY_PLRF),
    relation=r"\asymp",
)


def test_numpy_function_broadcasts():
    fn = RATE.numpy()
    a = np.array([2.0, 3.5])[:, None]
    b = np.array([1.5, 2.0, 5.0])[None, :]
    out = fn(a=a, b=b)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, (a - 1) / (a + b - 1), rtol=1e-15)


def test_numpy_function_names_missing_arguments():
    with pytest.raises(TypeError, match="needs b"):
        RATE.numpy()(a=2.0)


def test_evaluate_converts_fsl_parameters():
    # s = 1.25, beta = 2  <->  a = 3.5, b = 2
    assert RATE.evaluate(s=1.25, beta=2) == pytest.approx(2.5 / 4.5, rel=1e-14)


def test_evaluate_outside_regime_is_not_applicable():
    with pytest.raises(NotApplicable, match="easy"):
        RATE.evaluate(a=2.0, b=5.0)
    assert not RATE.applies(a=2.0, b=5.0) and RATE.applies(a=2.0, b=2.0)  # boundary counts as easy


def test_evaluate_rejects_domain_violations():
    with pytest.raises(ValueError, match="a > 1"):
        RATE.evaluate(a=0.5, b=2)


def test_latex_and_str():
    assert RATE.latex().startswith(r"\zeta \asymp")
    assert "toy_rate [easy]" in str(RATE)


def test_registry_rejects_duplicates_and_suggests_names():
    reg = Registry([RATE])
    with pytest.raises(ValueError, match="duplicate"):
        reg.add(RATE)
    with pytest.raises(KeyError, match="did you mean toy_rate"):
        reg.get("toy_rat")
    assert "toy_rate" in reg and len(reg) == 1
