"""Exact expected dynamics of SGD on the PLRF quadratic: one checked problem, several engines, one result.

- :class:`DynamicsProblem` (:mod:`.problem`): spectrum, learning rates (S, T), σ, batch B_t, momentum μ_t, tail;
  validated once.
- Engines (:data:`ENGINES`; protocol :class:`Engine` in :mod:`.engine`): ``numpy``, ``numba``, ``torch``,
  ``highprec`` (decimal/mpmath), one module each; :func:`solve` runs one on a problem.
- :func:`expected_loss` (float64; ``backend=`` picks the engine) and :func:`expected_loss_mp` (high precision)
  return a :class:`LossCurve` (loss, bias, variance, divergence; :class:`ModeHistory` on request).

>>> import numpy as np
>>> from lrwb.numerics.dynamics import DynamicsProblem, ENGINES, expected_loss, solve
>>> from lrwb.numerics.spectra import power_law_spectrum
>>> spectrum = power_law_spectrum(3.5, 2.0, 4)
>>> curve = expected_loss(spectrum, np.full(3, 0.5), sigma=0.5, batch=5, backend="numpy")
>>> problem = DynamicsProblem.build(spectrum, np.full(3, 0.5), sigma=0.5, batch=5)
>>> bool(np.array_equal(solve(ENGINES["numpy"](), problem).loss, curve.loss))
True
"""

from lrwb.numerics.dynamics.curve import LossCurve, ModeHistory
from lrwb.numerics.dynamics.engine import Engine, EngineResult, solve
from lrwb.numerics.dynamics.expected import BACKENDS, ENGINES, HAVE_NUMBA, expected_loss
from lrwb.numerics.dynamics.highprec import HighPrecisionEngine, expected_loss_mp
from lrwb.numerics.dynamics.numba_engine import NumbaEngine
from lrwb.numerics.dynamics.numpy_engine import NumpyEngine
from lrwb.numerics.dynamics.problem import DIVERGENCE_FACTOR, DynamicsProblem, run_stability_bound
from lrwb.numerics.dynamics.torch_engine import TorchEngine

__all__ = [
    "expected_loss",
    "expected_loss_mp",
    "LossCurve",
    "ModeHistory",
    "DynamicsProblem",
    "Engine",
    "EngineResult",
    "solve",
    "ENGINES",
    "BACKENDS",
    "NumpyEngine",
    "NumbaEngine",
    "TorchEngine",
    "HighPrecisionEngine",
    "run_stability_bound",
    "DIVERGENCE_FACTOR",
    "HAVE_NUMBA",
]
