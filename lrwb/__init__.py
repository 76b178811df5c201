"""LR Workbench: learning-rate schedules and scaling laws, derived (SymPy) and checked numerically (NumPy/numba).

One import namespace in four layers, each importing only the layers below it (docs/architecture.md):

- :mod:`lrwb.theory` — SymPy only: parameters, mode sums, the papers' derived results, LaTeX export;
- :mod:`lrwb.numerics` — schedules, spectra, exact dynamics, Monte Carlo, control, FSL, loss-curve laws;
- :mod:`lrwb.experiments` — one module per figure/table of the papers: data, figures, checked claims;
- :mod:`lrwb.app` — the ``lrwb`` command, the cached runner (``lrwb reproduce``), the report.

The entry points a user starts with are re-exported here and imported on first use, so ``import lrwb`` stays
cheap (it loads neither SymPy nor NumPy):

>>> import lrwb
>>> round(lrwb.registry().get("zeta_T_optimal_constant").evaluate(a=3.5, b=2), 4)   # a derived exponent
0.5556
>>> spectrum = lrwb.power_law_spectrum(a=3.5, b=2.0, features=100)
>>> curve = lrwb.expected_loss(spectrum, lrwb.parse_schedule("cosine:1,0"), sigma=0.5, batch=5, steps=100)
>>> curve.loss.shape, bool(curve.loss[-1] < curve.loss[0])   # t = 0, 1, …, T
((101,), True)
"""

from __future__ import annotations

from importlib import metadata as _metadata

from lrwb.lazy import lazy_exports

try:
    __version__ = _metadata.version("lr-workbench")
except _metadata.PackageNotFoundError:  # pragma: no cover - the packages work only once installed
    __version__ = "0+unknown"

#: The sub-packages, one per layer.
SUBPACKAGES = ("theory", "numerics", "experiments", "app")

#: The entry points re-exported here: name -> the module that defines it.
ENTRY_POINTS = {
    "registry": "lrwb.theory.results",  # every derived result, by name
    "parse_schedule": "lrwb.numerics.schedules",  # a schedule from its grammar string (conventions.md)
    "power_law_spectrum": "lrwb.numerics.spectra",  # the PLRF spectrum λ_k = k^(-b), target k^(-a)
    "expected_loss": "lrwb.numerics.dynamics.expected",  # the exact expected SGD loss curve
    "reproduce": "lrwb.app.reproduce",  # run every experiment (cached): what ``lrwb reproduce`` does
    "load": "lrwb.app.reproduce",  # read a results folder back: claims, files, data
}

__all__ = ["__version__", *SUBPACKAGES, *ENTRY_POINTS]


# PEP 562: the sub-packages and entry points load SymPy, NumPy, numba, Dask on first use only
__getattr__, __dir__ = lazy_exports(__name__, SUBPACKAGES, ENTRY_POINTS)
