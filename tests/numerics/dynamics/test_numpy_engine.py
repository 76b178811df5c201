"""The NumPy engine (lrwb.numerics.dynamics.numpy_engine): its entry point and the divergence bookkeeping.

Its numbers are checked in test_expected.py (by hand, brute force, limits, against numba) and
test_highprec.py (against 50 digits)."""

from __future__ import annotations

import doctest

import numpy as np

from lrwb.numerics.dynamics import numpy_engine
from lrwb.numerics.dynamics.numpy_engine import fill_after, first_blowup


def test_doctests():
    result = doctest.testmod(numpy_engine)
    assert result.attempted > 0 and result.failed == 0


def test_first_blowup_sees_nan_inf_and_the_threshold():
    total = np.array([[1.0, 2.0, 3.0], [1.0, np.nan, 1.0], [1.0, 1.0, np.inf], [1.0, 11.0, 1.0]])
    assert first_blowup(total, 10.0).tolist() == [-1, 1, 2, 1]


def test_fill_after_writes_inf_from_the_step_on_and_skips_none():
    a = np.zeros((2, 4))
    fill_after(np.array([-1, 2]), a, None)
    assert a[0].tolist() == [0.0] * 4 and a[1].tolist() == [0.0, 0.0, np.inf, np.inf]
