"""The torch engine of the exact dynamics (CPU in CI; CUDA when present) against the float64 engine."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lrwb.numerics.dynamics.expected import expected_loss  # noqa: E402
from lrwb.numerics.schedules import schedule_matrix  # noqa: E402
from lrwb.numerics.simulate import DeviceFallbackWarning  # noqa: E402
from lrwb.numerics.spectra import power_law_spectrum  # noqa: E402
from lrwb.numerics.stability import DivergenceError  # noqa: E402

SPEC = power_law_spectrum(3.5, 2.0, 200)
LR = schedule_matrix(["constant:0.5", "cosine:1,0", "wsd:1,0.2,0.01", "power:1,0.3"], 2000)


def test_torch_float64_equals_numpy_engine():
    ref = expected_loss(SPEC, LR, sigma=0.5, batch=5, parts=False, backend="numpy")
    out = expected_loss(SPEC, LR, sigma=0.5, batch=5, parts=False, backend="torch", dtype="float64")
    # Same operations in the same order in float64: agreement to rounding (1e-12 relative).
    np.testing.assert_allclose(out.loss, ref.loss, rtol=1e-12)


def test_torch_float32_error_is_bounded_against_float64():
    ref = expected_loss(SPEC, LR, sigma=0.5, batch=5, parts=False, backend="numpy")
    out = expected_loss(SPEC, LR, sigma=0.5, batch=5, parts=False, backend="torch", dtype="float32")
    # float32 rounding (6e-8 per op) accumulates over T = 2000 contracting steps; the measured worst
    # relative error is ~1e-6, bounded here at 1e-4.
    rel = np.max(np.abs(out.loss - ref.loss) / ref.loss)
    assert rel < 1e-4


def test_cuda_request_falls_back_to_cpu():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: no fallback to test")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = expected_loss(SPEC, LR[:1], sigma=0.5, batch=5, parts=False, backend="torch", device="cuda")
    assert any(issubclass(w.category, DeviceFallbackWarning) for w in caught)
    assert np.all(np.isfinite(out.loss))


def test_torch_divergence_and_unsupported_options():
    with pytest.raises(DivergenceError, match="stability bound"):
        expected_loss(SPEC, np.full(500, 2.0), sigma=0.5, batch=5, parts=False, backend="torch")
    with pytest.raises(ValueError, match="parts=False"):
        expected_loss(SPEC, LR[0], sigma=0.5, batch=5, backend="torch")
    with pytest.raises(ValueError, match="dtype"):
        expected_loss(SPEC, LR[0], sigma=0.5, batch=5, parts=False, backend="torch", dtype="float16")


@pytest.mark.gpu
def test_cuda_float32_matches_float64():
    ref = expected_loss(SPEC, LR, sigma=0.5, batch=5, parts=False, backend="numpy")
    out = expected_loss(SPEC, LR, sigma=0.5, batch=5, parts=False, backend="torch", device="cuda", dtype="float32")
    assert np.max(np.abs(out.loss - ref.loss) / ref.loss) < 1e-4


def test_engine_entry_point_doctest_and_direct_run():
    import doctest

    from lrwb.numerics.dynamics import torch_engine
    from lrwb.numerics.dynamics.problem import DynamicsProblem
    from lrwb.numerics.dynamics.torch_engine import TorchEngine

    result = doctest.testmod(torch_engine)
    assert result.attempted > 0 and result.failed == 0
    problem = DynamicsProblem.build(SPEC, LR[:2, :50], sigma=0.5, batch=5)
    direct = TorchEngine(dtype="float64").run(problem)
    ref = expected_loss(SPEC, LR[:2, :50], sigma=0.5, batch=5, parts=False, backend="torch")
    np.testing.assert_array_equal(direct.loss, ref.loss)  # the same engine on the same problem: bit for bit
    with pytest.raises(ValueError, match="dtype"):
        TorchEngine(dtype="float16").run(problem)
