"""The engine protocol and solve (lrwb.numerics.dynamics.engine): every engine of ENGINES, one result type."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from lrwb.numerics.dynamics import engine as engine_module
from lrwb.numerics.dynamics.engine import Engine, EngineResult, fill_after, first_blowup, solve
from lrwb.numerics.dynamics.expected import ENGINES, HAVE_NUMBA, expected_loss
from lrwb.numerics.dynamics.numpy_engine import NumpyEngine
from lrwb.numerics.dynamics.problem import DynamicsProblem
from lrwb.numerics.spectra import power_law_spectrum
from lrwb.numerics.stability import DivergenceError

SPEC = power_law_spectrum(3.5, 2.0, 8)
# schedule 1 diverges (η = 3 is far above the bound ≈ 0.6 at B = 1); the others are stable
LR = np.stack([np.full(12, 0.3), np.full(12, 3.0), np.linspace(0.5, 0.0, 12)])


def _options(name):
    if name == "numba" and not HAVE_NUMBA:
        pytest.skip("numba not installed")
    if name == "torch":
        pytest.importorskip("torch")
    return dict(parts=False) if name == "torch" else {}  # torch: plain-SGD loss only


def test_doctests():
    result = doctest.testmod(engine_module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_engine_follows_the_protocol(name):
    options = _options(name)
    engine = ENGINES[name]()
    assert isinstance(engine, Engine) and engine.name == name
    problem = DynamicsProblem.build(SPEC, LR, batch=1, allow_unstable=True)
    result = engine.run(problem, **options)
    assert isinstance(result, EngineResult)
    assert result.loss.shape == (3, 13) and result.diverged_step.dtype == np.int64
    # The divergence rule is shared, so every engine flags the same schedule; the step may differ by
    # rounding at the threshold only in principle (it does not here: growth is ×~10 per step).
    assert result.diverged_step[[0, 2]].tolist() == [-1, -1] and result.diverged_step[1] > 0
    assert np.all(result.loss[1, result.diverged_step[1]:] == np.inf) and not np.isnan(result.loss).any()
    if "parts" not in options:
        finite = np.isfinite(result.loss)
        # loss = bias + variance + tail: the float64 engines add exactly these arrays; the high-precision one
        # rounds each of the three separately, so a few ulp (1e-14 relative) apart at most
        np.testing.assert_allclose((result.bias + result.variance + SPEC.tail)[finite], result.loss[finite],
                                   rtol=1e-14)


def test_solve_raises_or_flags_divergence():
    problem = DynamicsProblem.build(SPEC, LR, batch=1, allow_unstable=True)
    with pytest.raises(DivergenceError, match="schedule 1: expected loss diverged at step") as info:
        solve(NumpyEngine(), problem)
    curve = solve(NumpyEngine(), problem, on_divergence="flag")
    assert curve.diverged.tolist() == [False, True, False] and curve.diverged_step[1] == info.value.step
    assert curve.stability_bound == info.value.bound == problem.stability_bound()
    with pytest.raises(ValueError, match="on_divergence"):
        solve(NumpyEngine(), problem, on_divergence="ignore")


def test_solve_drops_the_schedule_axis_for_one_schedule():
    problem = DynamicsProblem.build(SPEC, LR[0], batch=2, momentum=0.3)
    curve = solve(NumpyEngine(), problem, record_modes=True)
    assert curve.loss.shape == (13,) and curve.diverged is False and curve.diverged_step is None
    assert curve.modes.second_moment.shape == (13, 8) and curve.modes.cross_moment.shape == (13, 8)


def test_solve_is_what_expected_loss_runs():
    problem = DynamicsProblem.build(SPEC, LR[[0, 2]], batch=2)
    ours = solve(NumpyEngine(), problem, parts=False)
    theirs = expected_loss(SPEC, LR[[0, 2]], batch=2, parts=False, backend="numpy")
    np.testing.assert_array_equal(ours.loss, theirs.loss)  # same engine, same inputs: bit for bit
    assert ours.bias is None and theirs.bias is None


def test_parts_computed_for_the_history_are_dropped_when_not_asked():
    problem = DynamicsProblem.build(SPEC, LR[0], batch=2)
    curve = solve(NumpyEngine(), problem, parts=False, record_modes=True)
    assert curve.bias is None and curve.variance is None and curve.modes is not None


def test_first_blowup_sees_nan_inf_and_the_threshold():
    total = np.array([[1.0, 2.0, 3.0], [1.0, np.nan, 1.0], [1.0, 1.0, np.inf], [1.0, 11.0, 1.0]])
    assert first_blowup(total, 10.0).tolist() == [-1, 1, 2, 1]


def test_fill_after_writes_inf_from_the_step_on_and_skips_none():
    a = np.zeros((2, 4))
    fill_after(np.array([-1, 2]), a, None)
    assert a[0].tolist() == [0.0] * 4 and a[1].tolist() == [0.0, 0.0, np.inf, np.inf]
