"""The numba engine (lrwb.numerics.dynamics.numba_engine): entry point and chunk size.

Its numbers are checked against the NumPy engine in test_expected.py; chunked runs against one call in
test_interruptible.py."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from lrwb.numerics.dynamics import numba_engine
from lrwb.numerics.dynamics.numba_engine import CHUNK_MODE_STEPS, NumbaEngine
from lrwb.numerics.dynamics.problem import DynamicsProblem
from lrwb.numerics.backends import HAVE_NUMBA
from lrwb.numerics.spectra import power_law_spectrum

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")


def test_doctests():
    result = doctest.testmod(numba_engine)
    assert result.attempted > 0 and result.failed == 0


def test_chunk_size_is_an_engine_option():
    assert NumbaEngine().chunk_mode_steps == CHUNK_MODE_STEPS
    problem = DynamicsProblem.build(power_law_spectrum(3.0, 2.0, 10), np.linspace(0.5, 0.05, 31), batch=2,
                                    momentum=0.2)
    whole = NumbaEngine().run(problem)
    chunked = NumbaEngine(chunk_mode_steps=10 * 4).run(problem)  # 4 steps per compiled call
    # rtol 1e-12: the chunks carry the running sums exactly; only fastmath reassociation may differ
    np.testing.assert_allclose(chunked.loss, whole.loss, rtol=1e-12)
