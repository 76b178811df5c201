"""The result type of the exact dynamics (lrwb.numerics.dynamics.curve)."""

from __future__ import annotations

import doctest

import numpy as np

from lrwb.numerics.dynamics import curve as curve_module
from lrwb.numerics.dynamics.curve import LossCurve


def test_doctests():
    result = doctest.testmod(curve_module)
    assert result.attempted > 0 and result.failed == 0


def test_batch_final_loss_is_an_array():
    curve = LossCurve(lr=np.zeros((2, 3)), loss=np.array([[1.0, 0.5, 0.4, 0.3], [1.0, 0.9, 0.8, np.inf]]),
                      bias=None, variance=None, tail=0.0, diverged=np.array([False, True]),
                      diverged_step=np.array([-1, 3]), stability_bound=1.0)
    assert curve.steps == 3
    np.testing.assert_array_equal(curve.final_loss, [0.3, np.inf])
