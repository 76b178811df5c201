"""Power laws of the registered results (Result.power_laws) and their numbers in ``lrwb formulas --eval``."""

import json

import pytest
import sympy as sp

from lrwb.app.cli import main
from lrwb.theory import params as P
from lrwb.theory.results import Result, registry

#: a point inside every domain (the power-law extraction does not depend on the regime)
POINT = {P.a: sp.Rational(7, 2), P.b: 2, P.s: sp.Rational(5, 4), P.beta: 2, P.sigma: sp.Rational(1, 2), P.B: 1,
         P.eta_max: 1}
#: values for any other symbol a result carries (peak/final LR, κ, another size …): arbitrary positive numbers
OTHER = sp.Rational(17, 10)


def _log_value(expr, variable, level, fraction):
    """log |expr| at X = e^level (or 1 − x = e^{−level}), with 40-digit arithmetic."""
    at = 1 - sp.exp(-level) if fraction else sp.exp(level)
    value = expr.subs(variable, at)
    others = sorted(value.free_symbols, key=str)
    value = value.subs({sym: OTHER + sp.Rational(k, 10) for k, sym in enumerate(others)})  # distinct (peak ≠ final)
    return sp.log(sp.Abs(value)).evalf(40)


def test_every_power_law_matches_the_numeric_log_slope():
    """For each law X^e (log X)^l: log f(e^{L+1}) − log f(e^L) = e + l·log((L+1)/L) (exactly for a product of
    powers; up to e^{−L} for (1 + u)^p), at L = 60; 1e-9 leaves room for the e^{−60} corrections."""
    laws = 0
    for result in registry():
        for law in result.power_laws:
            fraction = not law.variable.is_Symbol  # 1 − x
            variable = next(iter(law.variable.free_symbols))
            expr = result.expr.subs(POINT)
            level = sp.Integer(60)
            slope = _log_value(expr, variable, level + 1, fraction) - _log_value(expr, variable, level, fraction)
            sign = -1 if fraction else 1  # log(1 − x) falls by 1 when L rises by 1
            expected = (law.exponent.subs(POINT) + law.log_power.subs(POINT) * sp.log((level + 1) / level)) * sign
            assert abs(float(slope - expected)) < 1e-9, (result.name, law)
            laws += 1
    assert laws >= 50  # the registry's power laws (loss rates, hyper-parameters, mode sums, shapes)


def test_power_law_reading_of_products_logs_and_non_power_laws():
    def laws(expr):
        return Result("probe", "y", expr, "probe", "test").power_laws

    (law,) = laws(P.T**2 * sp.log(P.T) ** 3)
    assert (law.exponent, law.log_power) == (2, 3)
    assert laws(sp.exp(-P.T)) == ()  # no finite exponent
    (law,) = laws((1 + P.u) ** sp.Rational(3, 4))  # asymptotic exponent through the limit
    assert (law.exponent, law.log_power) == (sp.Rational(3, 4), 0)
    (law,) = laws((1 - P.x) ** 5 * 7)
    assert law.variable == 1 - P.x and law.exponent == 5


def test_eval_gives_fsl_parameters_and_exponents(tmp_path, capsys):
    js = tmp_path / "f.json"
    names = "signal_continuum,kernel_continuum_fsl,fsl_min_r_wsd_compute_hard,lr_transfer_constant"
    assert main(["formulas", "--eval", "a=1.5,b=3", "--only", names, "--json", str(js)]) == 0
    listing = capsys.readouterr().out
    payload = json.loads(js.read_text())
    params = payload["parameters"]
    assert params["s"] == pytest.approx((1.5 - 1) / 3) and params["beta"] == 3  # β = b, s = (a − 1)/b
    assert f"s={params['s']:g}" in listing
    records = {r["name"]: r for r in payload["results"]}
    (signal,) = records["signal_continuum"]["power_laws"]
    # the PLRF signal exponent (a − 1)/b is the FSL s (fsl.md §1): the two are computed independently
    assert signal["variable"] == "t" and signal["exponent_value"] == pytest.approx(-params["s"], rel=1e-12)
    (kernel,) = records["kernel_continuum_fsl"]["power_laws"]
    assert kernel["exponent_value"] == pytest.approx(-(2 - 1 / params["beta"]), rel=1e-12)  # p = 2 − 1/β
    (r_min,) = records["fsl_min_r_wsd_compute_hard"]["power_laws"]  # hard phase at a = 1.5, b = 3
    s_, b_ = params["s"], params["beta"]
    assert r_min["log_power_value"] == 1
    assert r_min["exponent_value"] == pytest.approx(b_ * (s_ * b_ - b_ + 1) / ((b_ - 1) * (b_ + 1)), rel=1e-12)
    assert "t^-0.1667" in listing


def test_eval_outside_the_regime_gives_no_exponent_value(tmp_path):
    js = tmp_path / "f.json"
    assert main(["formulas", "--quiet", "--eval", "a=3.5,b=2", "--only", "fsl_min_r_wsd_compute_hard",
                 "--json", str(js)]) == 0
    (record,) = json.loads(js.read_text())["results"]
    (law,) = record["power_laws"]
    assert law["exponent_value"] is None and "hard" in law["reason"]
    (symbolic,) = registry().get("fsl_min_r_wsd_compute_hard").power_laws
    assert law["exponent"] == sp.sstr(symbolic.exponent)  # the closed form is still given
