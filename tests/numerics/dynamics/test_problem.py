"""The exact-dynamics problem (lrwb.numerics.dynamics.problem): checked once, shapes, derived quantities."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pytest

from lrwb.numerics.dynamics import problem as problem_module
from lrwb.numerics.dynamics.problem import (
    DIVERGENCE_FACTOR,
    DynamicsProblem,
    check_on_divergence,
    run_stability_bound,
)
from lrwb.numerics.spectra import power_law_spectrum
from lrwb.numerics.stability import UnstableLearningRateError, stability_bound

SPEC = power_law_spectrum(3.5, 2.0, 20, tail=True)


def test_doctests():
    result = doctest.testmod(problem_module)
    assert result.attempted > 0 and result.failed == 0


def test_single_schedule_is_one_row_and_per_step_values_are_views():
    problem = DynamicsProblem.build(SPEC, np.full(7, 0.3), sigma=0.2, batch=4, momentum=0.5)
    assert problem.single and problem.shape == (1, 7) and problem.has_momentum
    assert problem.lr.flags.c_contiguous and problem.lr.dtype == np.float64
    # scalars are broadcast, not copied: read-only (S, T) views
    for arr in (problem.batch, problem.inv_batch, problem.momentum):
        assert arr.shape == (1, 7) and not arr.flags.writeable
    assert problem.inv_batch[0, 0] == 0.25
    assert problem.noise == 0.2**2 + SPEC.tail
    assert problem.threshold == DIVERGENCE_FACTOR * (float(SPEC.eigenvalues @ SPEC.target) + SPEC.tail + 0.04)
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.sigma = 1.0


def test_batch_of_schedules_and_per_step_arrays():
    lr = np.stack([np.full(5, 0.3), np.linspace(0.5, 0.1, 5)])
    batch = np.array([1.0, 2.0, np.inf, 4.0, 5.0])
    problem = DynamicsProblem.build(SPEC, lr, batch=batch)
    assert not problem.single and problem.shape == (2, 5) and not problem.has_momentum
    np.testing.assert_array_equal(problem.batch[1], batch)
    assert problem.inv_batch[0, 2] == 0.0  # B = ∞: exact gradients


def test_schedule_specs_need_steps():
    problem = DynamicsProblem.build(SPEC, "cosine:0.5,0", steps=9)
    assert problem.single and problem.shape == (1, 9)
    with pytest.raises(ValueError, match="steps"):
        DynamicsProblem.build(SPEC, "cosine:0.5,0")


@pytest.mark.parametrize(
    "lr, kwargs, message",
    [
        (np.full(3, 0.1), dict(batch=np.array([2.0, 0.0, 3.0])), r"B = 0.0 at step 1 is outside its range"),
        (np.full((2, 3), 0.1), dict(batch=np.array([[2.0] * 3, [2.0, 0.5, 2.0]])), r"B = 0.5 at schedule 1, step 1"),
        (np.full(3, 0.1), dict(momentum=np.array([0.0, 0.0, 1.0])), r"μ = 1.0 at step 2 is outside its range \[0, 1\)"),
        (np.full(3, 0.1), dict(momentum=np.zeros(4)), r"one value per step \(shape \(3,\)\), got shape \(4,\)"),
        (np.full(3, 0.1), dict(sigma=np.nan), "sigma"),
        (np.full(3, -0.1), {}, "negative"),
        (np.ones((2, 2, 2)), {}, "shape"),
    ],
)
def test_bad_inputs_name_the_value_and_the_range(lr, kwargs, message):
    with pytest.raises(ValueError, match=message):
        DynamicsProblem.build(SPEC, lr, **kwargs)


def test_not_a_spectrum():
    with pytest.raises(ValueError, match="Spectrum"):
        DynamicsProblem.build(SPEC.eigenvalues, np.full(3, 0.1))


def test_unstable_learning_rate_raises_unless_allowed_then_warns():
    bound = stability_bound(SPEC.eigenvalues, 1.0)
    lr = np.full(4, 1.1 * bound)
    with pytest.raises(UnstableLearningRateError, match="step 0"):
        DynamicsProblem.build(SPEC, lr, batch=1)
    problem = DynamicsProblem.build(SPEC, lr, batch=1, allow_unstable=True)
    assert problem.warning is not None and "step 0" in problem.warning
    assert DynamicsProblem.build(SPEC, 0.5 * lr, batch=1).warning is None


def test_stability_bound_is_the_run_bound():
    batch = np.array([4.0, 2.0, 8.0])
    problem = DynamicsProblem.build(SPEC, np.full(3, 0.1), batch=batch)
    # without momentum the run bound is the SGD bound at the smallest batch (the bound grows with B)
    assert problem.stability_bound() == run_stability_bound(SPEC.eigenvalues, batch, 0.0)
    assert problem.stability_bound() == pytest.approx(stability_bound(SPEC.eigenvalues, 2.0), rel=1e-12)


def test_on_divergence_choices():
    assert check_on_divergence("flag") == "flag"
    with pytest.raises(ValueError, match="'raise' or 'flag'"):
        check_on_divergence("ignore")
