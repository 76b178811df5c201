"""High-precision twin (lrwb.numerics.dynamics.highprec) and the float64 error it bounds."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from mpmath import mp

from lrwb.numerics.dynamics.expected import expected_loss
from lrwb.numerics.dynamics.highprec import expected_loss_mp
from lrwb.numerics.schedules import parse_schedule
from lrwb.numerics.spectra import power_law_spectrum
from lrwb.numerics.stability import DivergenceError

# conventions.md pins float64 vs 50-digit arithmetic at 1e-10 relative. Expected: float64 round-off of
# a contracting recursion grows ~linearly in T, ~1e-16 × a few per step → ≤ 1e-13 at T = 2000 (measured
# ≈ 2e-15), so the pinned 1e-10 has a wide margin and still catches any formula slip (those are O(1e-3+)).
FLOAT64_VS_EXACT = 1e-10


def _rel(a, b):
    """Largest relative difference; entries that are exactly 0 in ``b`` must be exactly 0 in ``a``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    zero = b == 0
    if np.any(a[zero] != 0):
        return np.inf
    return np.max(np.abs(a[~zero] - b[~zero]) / np.abs(b[~zero]))


def _schedule(steps):
    # Warmup to the η_max = 1 of the paper figures, then cosine decay: every step has a different η.
    return parse_schedule(f"cosine:1,0.01+warmup={steps // 20}").values(steps)


def _check_against_exact(features, steps, b, **kwargs):
    spec = power_law_spectrum(3.5, b, features)
    lr = _schedule(steps) * kwargs.pop("scale", 1.0)
    exact = expected_loss_mp(spec, lr, digits=50, **kwargs)
    fast = expected_loss(spec, lr, **kwargs)
    assert exact.digits == 50 and fast.digits is None
    assert _rel(fast.loss, exact.loss) <= FLOAT64_VS_EXACT
    assert _rel(fast.bias, exact.bias) <= FLOAT64_VS_EXACT
    assert _rel(fast.variance, exact.variance) <= FLOAT64_VS_EXACT  # 0 while η = 0 (warmup start)
    loss_only = expected_loss(spec, lr, parts=False, **kwargs)  # the separate loss-only kernel
    assert _rel(loss_only.loss, exact.loss) <= FLOAT64_VS_EXACT
    return exact, fast


@pytest.mark.parametrize("b", [2.0, 5.0])
def test_float64_matches_50_digits_ci_size(b):
    # CI size of conventions.md: N = 200, T = 2000, a = 3.5, B = 5, σ = 0.5 (≈ 4 s each in decimal).
    _check_against_exact(200, 2000, b, sigma=0.5, batch=5)


def test_float64_matches_50_digits_with_momentum_and_varying_batch():
    rng = np.random.default_rng(5)
    steps = 400
    batch = rng.integers(1, 9, steps).astype(float)
    momentum = np.clip(np.linspace(0.0, 0.9, steps) + rng.uniform(-0.05, 0.05, steps), 0.0, 0.95)
    _check_against_exact(80, steps, 2.0, sigma=0.5, batch=batch, momentum=momentum, scale=0.15)


@pytest.mark.slow
@pytest.mark.parametrize("b", [2.0, 5.0])
def test_float64_matches_50_digits_full_size(b):
    # Full size of the paper figures: N = 1000, T = 10⁴ (≈ 100 s each).
    _check_against_exact(1000, 10_000, b, sigma=0.5, batch=5)


@pytest.mark.parametrize("momentum", [0.0, 0.6])
def test_decimal_and_mpmath_arithmetics_agree(momentum):
    # Two independent arbitrary-precision libraries, same recursion: agreement to ~10^-(digits − 3)
    # (each is correctly rounded at 50 digits; the recursion loses at most a few digits over 150 steps).
    spec = power_law_spectrum(3.5, 2.0, 30)
    lr = _schedule(150) * (0.4 if momentum else 1.0)
    dec = expected_loss_mp(spec, lr, momentum=momentum, batch=3, keep_values=True)
    mpf = expected_loss_mp(spec, lr, momentum=momentum, batch=3, keep_values=True, arithmetic="mpmath")
    assert isinstance(dec.mp_values["loss"][0], Decimal) and isinstance(mpf.mp_values["loss"][0], mp.mpf)
    with mp.workdps(60):
        for key in ("loss", "bias"):
            worst = max(abs((x - mp.mpf(str(y))) / x) for x, y in zip(mpf.mp_values[key], dec.mp_values[key]))
            assert worst < mp.mpf("1e-45"), key


def test_more_digits_converge():
    # 30 vs 60 digits differ by ≈ 1e-30 relative (the 30-digit rounding), far below float64.
    spec = power_law_spectrum(3.5, 5.0, 40)
    lr = _schedule(200)
    low = expected_loss_mp(spec, lr, digits=30, keep_values=True).mp_values["loss"]
    high = expected_loss_mp(spec, lr, digits=60, keep_values=True).mp_values["loss"]
    worst = max(abs((x - y) / y) for x, y in zip(low, high))
    assert worst < Decimal("1e-26")


def test_divergence_step_matches_float64():
    spec = power_law_spectrum(3.5, 2.0, 100)
    lr = np.stack([np.full(400, 0.3), np.full(400, 1.2)])
    fast = expected_loss(spec, lr, batch=1, on_divergence="flag")
    exact = expected_loss_mp(spec, lr, batch=1, on_divergence="flag")
    assert exact.diverged.tolist() == [False, True] == fast.diverged.tolist()
    assert exact.diverged_step[1] == fast.diverged_step[1]
    assert np.all(np.isinf(exact.loss[1, exact.diverged_step[1]:])) and not np.isnan(exact.loss).any()
    with pytest.raises(DivergenceError, match=f"step {fast.diverged_step[1]}"):
        expected_loss_mp(spec, lr[1], batch=1, allow_unstable=True)


def test_tail_and_parts_in_high_precision():
    spec = power_law_spectrum(2.0, 1.5, 50, tail=True)
    lr = np.full(100, 0.4)
    exact = expected_loss_mp(spec, lr, sigma=0.2, batch=2)
    fast = expected_loss(spec, lr, sigma=0.2, batch=2)
    assert exact.tail == spec.tail
    assert _rel(exact.loss, fast.loss) <= FLOAT64_VS_EXACT
    assert _rel(exact.loss, exact.bias + exact.variance + exact.tail) < 1e-14


@pytest.mark.parametrize("kwargs, message", [
    (dict(digits=10), "digits"),
    (dict(digits=30.5), "digits"),
    (dict(arithmetic="float128"), "arithmetic"),
    (dict(batch=0.0), "B = 0.0"),
    (dict(momentum=1.5), "μ = 1.5"),
])
def test_bad_input(kwargs, message):
    spec = power_law_spectrum(3.5, 2.0, 10)
    with pytest.raises(ValueError, match=message):
        expected_loss_mp(spec, np.full(5, 0.1), **kwargs)


def test_engine_entry_point_doctest_and_direct_run():
    import doctest

    from lrwb.numerics.dynamics import highprec
    from lrwb.numerics.dynamics.highprec import HighPrecisionEngine
    from lrwb.numerics.dynamics.problem import DynamicsProblem

    result = doctest.testmod(highprec)
    assert result.attempted > 0 and result.failed == 0
    spec = power_law_spectrum(3.5, 2.0, 6)
    lr = np.full(10, 0.4)
    direct = HighPrecisionEngine(digits=30, keep_values=True).run(DynamicsProblem.build(spec, lr, batch=3))
    curve = expected_loss_mp(spec, lr, batch=3, digits=30, keep_values=True)
    np.testing.assert_array_equal(direct.loss[0], curve.loss)  # same arithmetic on the same problem
    assert direct.digits == 30 and direct.mp_values["loss"][0] == curve.mp_values["loss"]
    with pytest.raises(ValueError, match="per-mode history"):
        HighPrecisionEngine().run(DynamicsProblem.build(spec, lr, batch=3), record_modes=True)
    with pytest.raises(ValueError, match="arithmetic"):
        HighPrecisionEngine(arithmetic="gmpy")
