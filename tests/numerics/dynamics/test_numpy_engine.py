"""The NumPy engine (lrwb.numerics.dynamics.numpy_engine): its entry point.

Its numbers are checked in test_expected.py (by hand, brute force, limits, against numba) and
test_highprec.py (against 50 digits)."""

from __future__ import annotations

import doctest


from lrwb.numerics.dynamics import numpy_engine


def test_doctests():
    result = doctest.testmod(numpy_engine)
    assert result.attempted > 0 and result.failed == 0
