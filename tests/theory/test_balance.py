"""The term-balance engine on textbook balances whose answers are known in closed form (worked by hand)."""

import pytest
import sympy as sp

from lrwb.theory.balance import Balance, BalanceError, balance, log_monomial, regime_points
from lrwb.theory.params import C, D, M, beta, gamma, s

EASY = sp.Ge(s, 1 - 1 / beta)
HARD = sp.Lt(s, 1 - 1 / beta)
L_D = sp.log(D)


def same(lhs, rhs) -> bool:
    return sp.simplify(lhs - rhs) == 0


def test_log_monomial_reads_exponents_and_log_powers():
    k, e0, l0 = log_monomial((gamma * D / L_D) ** (-s) * 3, D, [gamma])
    assert same(k[0], -s) and same(e0, -s) and same(l0, s)


def test_log_monomial_rejects_a_sum():
    with pytest.raises(BalanceError, match="not a monomial"):
        log_monomial(gamma + D, D, [gamma])


def test_bias_variance_balance_gives_the_constant_lr_rate():
    # (γD)^{-s} + γ: -s(g+1) = g ⇒ g = -s/(s+1), rate -s/(s+1), no log factor (by hand)
    result = balance({"bias": (gamma * D) ** (-s), "noise": gamma}, D, [gamma], {s: 0.8}, constraints={"gamma": gamma})
    assert isinstance(result, Balance)
    assert same(result.rate, -s / (s + 1)) and result.log_power == 0
    assert same(result.exponents[gamma], -s / (s + 1))
    assert set(result.active) == {"bias", "noise"} and result.active_constraints == ()
    assert len(result.verified_points) == 2


def test_a_free_exponent_follows_through():
    # change one input: noise γ^q and bias (γD)^{-p} with p, q free ⇒ g = -p/(p+q), rate -pq/(p+q)
    p, q = sp.symbols("p q", positive=True)
    result = balance({"bias": (gamma * D) ** (-p), "noise": gamma**q}, D, [gamma], {p: 0.7, q: 1.3})
    assert same(result.rate, -p * q / (p + q))
    assert same(result.exponents[gamma], -p / (p + q))


def test_log_factor_in_the_easy_phase():
    # exp-decay, data-limited: τ = γD/log D, τ^{-s} + τ^{1/β} log D / D (worked in fsl.md §3)
    tau = gamma * D / L_D
    result = balance({"bias": tau ** (-s), "noise": tau ** (1 / beta) * L_D / D}, D, [gamma], {s: 0.8, beta: 2},
                     constraints={"gamma": gamma}, regime=EASY)
    assert same(result.rate, -s * beta / (1 + s * beta))
    assert same(result.log_power, s * beta / (1 + s * beta))
    assert same(result.exponents[gamma], -(1 + s * beta - beta) / (1 + s * beta))
    assert same(result.log_powers[gamma], (1 + s * beta - beta) / (1 + s * beta))
    # the derived regime is the FSL easy phase: the free optimum needs γ → 0 iff 1 + sβ − β > 0
    (condition,) = result.conditions
    assert same(condition.lhs * (1 + s * beta), 1 + s * beta - beta)


def test_bound_becomes_active_in_the_hard_phase():
    tau = gamma * D / L_D
    result = balance({"bias": tau ** (-s), "noise": tau ** (1 / beta) * L_D / D}, D, [gamma], {s: 0.3, beta: 2},
                     constraints={"gamma<~1": gamma}, regime=HARD)
    assert result.rate == -s and result.log_power == s
    assert result.exponents[gamma] == 0 and result.log_powers[gamma] == 0
    assert result.active_constraints == ("gamma<~1",)
    assert result.holds_at({s: 0.3, beta: 2}) and not result.holds_at({s: 0.8, beta: 2})


def test_min_branch_and_tie_in_the_compute_limited_cell():
    # exp-decay at compute C = M·D: the noise min{M, τ^{1/β}} branches tie at first and second order
    tau = gamma * C / (M * sp.log(C))
    terms = {"approx": M ** (-s * beta), "bias": tau ** (-s), "noise": gamma * sp.Min(M, tau ** (1 / beta)) / tau}
    result = balance(terms, C, [gamma, M], {s: 0.8, beta: 2}, constraints={"gamma": gamma, "M<=C": M / C, "M>=1": 1 / M},
                     regime=EASY)
    assert same(result.rate, -s * beta / (2 + s * beta)) and same(result.log_power, s * beta / (2 + s * beta))
    assert same(result.exponents[M], 1 / (2 + s * beta)) and same(result.log_powers[M], -1 / (2 + s * beta))
    assert result.branch and result.tied_branches


def test_valley_reports_both_ends():
    # WSD hard phase: any decay fraction r between D^{(sβ+1−β)/(β−1)} log D and 1 is optimal
    r = sp.Symbol("r", positive=True)
    t2 = gamma * r * D / L_D
    result = balance({"bias": (gamma * D) ** (-s), "noise": gamma * t2 ** (1 / beta - 1)}, D, [gamma, r],
                     {s: 0.3, beta: 2}, constraints={"gamma": gamma, "r": r}, regime=HARD)
    valley = result.valleys[r]
    assert same(valley.lower, (s * beta + 1 - beta) / (beta - 1)) and valley.lower_log == 1
    assert valley.upper == 0 and r not in result.exponents
    with pytest.raises(BalanceError, match="not pinned"):
        result.scaling(r)


def test_unbounded_balance_is_an_error():
    with pytest.raises(BalanceError, match="unbounded|failed"):
        balance({"only": gamma ** (-1) * D ** (-1)}, D, [gamma], {})


def test_wrong_regime_claim_fails_verification():
    # claim the easy formula on both sides of the phase boundary: some sampled point is hard and must fail
    tau = gamma * D / L_D
    with pytest.raises(BalanceError, match="disagrees"):
        balance({"bias": tau ** (-s), "noise": tau ** (1 / beta) * L_D / D}, D, [gamma], {s: 0.55, beta: 2},
                constraints={"gamma": gamma}, verify=12, seed=1)


def test_sample_outside_regime_and_missing_values():
    with pytest.raises(BalanceError, match="outside the regime"):
        balance({"bias": (gamma * D) ** (-s), "noise": gamma}, D, [gamma], {s: 0.3, beta: 2}, regime=EASY)
    with pytest.raises(BalanceError, match="lacks values"):
        balance({"bias": (gamma * D) ** (-s), "noise": gamma}, D, [gamma], {})


def test_regime_points_stay_inside_domain_and_regime():
    points = regime_points({s: 0.6, beta: 1.2}, EASY, count=5)
    assert all(p[beta] > 1 and p[s] >= 1 - 1 / p[beta] for p in points)
