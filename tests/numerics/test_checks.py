"""The shared input checks: each names the offending value and its place, and the valid range."""

import numpy as np
import pytest

from lrwb.numerics.checks import (check_batch, check_finite_real, check_momentum, check_positive_int, check_sigma,
                                  per_step)


def test_per_step_broadcasts_and_names_a_wrong_shape():
    assert per_step("batch", 2.0, (2, 3)).shape == (2, 3)
    assert np.array_equal(per_step("batch", [1, 2, 3], (2, 3))[1], [1, 2, 3])
    with pytest.raises(ValueError, match=r"batch must be a scalar or one value per step \(shape \(2, 3\)\), got shape \(2,\)"):
        per_step("batch", [1, 2], (2, 3))


@pytest.mark.parametrize("value, message", [
    (0.5, r"B = 0.5 at step 0 is outside its range: B must be >= 1"),
    (np.nan, r"B = nan at step 0"),
])
def test_batch_range(value, message):
    with pytest.raises(ValueError, match=message):
        check_batch(value, (4,))


def test_batch_names_schedule_and_step_and_allows_exact_gradients():
    batch = np.ones((2, 3))
    batch[1, 2] = 0.0
    with pytest.raises(ValueError, match=r"B = 0.0 at schedule 1, step 2"):
        check_batch(batch, (2, 3))
    assert np.isinf(check_batch(np.inf, (3,))).all()
    with pytest.raises(ValueError, match=r"B = inf at step 0 .* an integer >= 1"):
        check_batch(np.inf, (3,), integer=True)
    with pytest.raises(ValueError, match=r"B = 2.5 at step 1 .* an integer >= 1"):
        check_batch([2, 2.5], (2,), integer=True)


@pytest.mark.parametrize("bad", [-0.1, 1.0, np.nan])
def test_momentum_range(bad):
    with pytest.raises(ValueError, match=r"momentum μ = .* at step 1 is outside its range \[0, 1\)"):
        check_momentum([0.5, bad], (2,))


def test_scalars():
    assert check_sigma(0) == 0.0
    for bad in (-1, np.inf, "x", None):
        with pytest.raises(ValueError, match="sigma = .* must be"):
            check_sigma(bad)
    assert check_positive_int(1e6, "steps") == 1_000_000
    for bad in (0, 2.5, True, "3", np.nan):
        with pytest.raises(ValueError, match="steps = .* must be a positive integer"):
            check_positive_int(bad, "steps")
    assert check_finite_real(2, "eta") == 2.0
    with pytest.raises(ValueError, match="eta = inf is not finite"):
        check_finite_real(np.inf, "eta")
    with pytest.raises(ValueError, match="eta = True is not a number"):
        check_finite_real(True, "eta")
