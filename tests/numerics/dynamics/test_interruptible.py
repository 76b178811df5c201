"""Ctrl-C during long compiled loops: the numba dynamics and the FSL recursion run in chunks (chunked == one
call), and nogil kernels run in a helper thread when large (``lrwb.numerics.resources.interruptible``)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lrwb.numerics.dynamics import expected as dynamics
from lrwb.numerics.spectra import power_law_spectrum

needs_numba = pytest.mark.skipif(not dynamics.HAVE_NUMBA, reason="numba kernels only")


@needs_numba
@pytest.mark.parametrize("momentum", [0.0, 0.5])
@pytest.mark.parametrize("parts", [True, False])
@pytest.mark.parametrize("record", [False, True])
def test_chunked_equals_single_call(monkeypatch, momentum, parts, record):
    spectrum = power_law_spectrum(3.0, 2.0, 40)
    steps = 97  # not a multiple of the chunk, so the last chunk is short
    lr = np.stack([np.full(steps, 0.3), np.linspace(0.5, 0.01, steps), np.full(steps, 2.5)])  # the last diverges
    options = dict(sigma=0.5, batch=2.0, momentum=momentum, parts=parts, record_modes=record,
                   on_divergence="flag", backend="numba")
    whole = dynamics.expected_loss(spectrum, lr, **options)
    monkeypatch.setattr(dynamics, "CHUNK_MODE_STEPS", 40 * 7)  # 7 steps per call: 14 calls per schedule
    chunked = dynamics.expected_loss(spectrum, lr, **options)
    np.testing.assert_array_equal(chunked.diverged_step, whole.diverged_step)
    assert whole.diverged_step[2] > 0 and whole.diverged_step[0] < 0  # the check sees one stable, one diverged
    # rtol 1e-12: the chunks carry the running sums exactly; only fastmath reassociation may differ
    np.testing.assert_allclose(chunked.loss, whole.loss, rtol=1e-12)
    if record:
        np.testing.assert_allclose(chunked.modes.second_moment, whole.modes.second_moment, rtol=1e-12)


@needs_numba
def test_fsl_convolution_chunked_equals_single_call(monkeypatch):
    from lrwb.numerics import sumexp
    from lrwb.numerics.fsl.engine import fsl_curve, power_law_model

    model = power_law_model(1.0, 2.0, sigma=0.5)
    lr = np.stack([np.full(300, 0.2), np.linspace(0.3, 0.0, 300)])
    whole = fsl_curve(model, lr, iterate="volterra")
    monkeypatch.setattr(sumexp, "CHUNK_STEP_TERMS", 7 * 40)  # a few steps per call, state carried across calls
    chunked = fsl_curve(model, lr, iterate="volterra")
    # rtol 1e-12: the chunks carry the recursion state exactly (same operations in the same order)
    np.testing.assert_allclose(chunked.loss, whole.loss, rtol=1e-12)


def _slow_kernel(array, seconds):
    time.sleep(seconds)  # releases the GIL, as a nogil numba kernel does
    array[0] = 1.0
    return 7


def test_interruptible_passes_results_and_errors():
    from lrwb.numerics.resources import INTERRUPTIBLE_MIN_ELEMENTS, interruptible

    big = np.zeros(INTERRUPTIBLE_MIN_ELEMENTS)
    assert interruptible(_slow_kernel)(big, 0.01) == 7 and big[0] == 1.0  # threaded path
    assert interruptible(_slow_kernel)(np.zeros(3), 0.0) == 7  # direct path

    def failing(array):
        raise ZeroDivisionError("inside")

    with pytest.raises(ZeroDivisionError, match="inside"):
        interruptible(failing)(big)


def test_interruptible_sees_ctrl_c_during_a_long_call():
    import _thread
    import threading

    from lrwb.numerics.resources import INTERRUPTIBLE_MIN_ELEMENTS, interruptible

    big = np.zeros(INTERRUPTIBLE_MIN_ELEMENTS)
    timer = threading.Timer(0.2, _thread.interrupt_main)  # Ctrl-C 0.2 s into a 30 s compiled call
    timer.start()
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        interruptible(_slow_kernel)(big, 30.0)
    # 5 s: generous for a loaded machine; without the helper thread the call would hold Ctrl-C for 30 s
    assert time.perf_counter() - start < 5.0
