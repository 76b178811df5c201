"""The numerics layer of LR Workbench: evaluate, simulate, optimise and fit. Imports :mod:`lrwb.theory` only
(never the experiments or the app).

Sub-packages, by concept:

- :mod:`~lrwb.numerics.dynamics` — the exact expected SGD loss (numpy / numba / torch / high-precision engines);
- :mod:`~lrwb.numerics.control` — optimal learning-rate, momentum and batch schedules (adjoint sweeps);
- :mod:`~lrwb.numerics.fsl` — the Functional Scaling Law: engine, optimal schedules, Table 1 numerics;
- :mod:`~lrwb.numerics.lawfit` — loss-curve laws, their fit and design, the real-curve readers;
- :mod:`~lrwb.numerics.analysis` — log-log slopes, asymptotics, hyper-parameter scaling, the phase diagram;
- :mod:`~lrwb.numerics.data` — the bundled real loss curves.

Modules: :mod:`~lrwb.numerics.schedules` (the schedule grammar), :mod:`~lrwb.numerics.spectra`,
:mod:`~lrwb.numerics.stability`, :mod:`~lrwb.numerics.simulate` (Monte Carlo SGD), :mod:`~lrwb.numerics.sumexp`,
:mod:`~lrwb.numerics.sweep` (the (a, b) grid on Dask), :mod:`~lrwb.numerics.io` (atomic files),
:mod:`~lrwb.numerics.resources`, :mod:`~lrwb.numerics.conventions` (defaults and tolerances, once) and
:mod:`~lrwb.numerics.checks` (the shared input checks).

Each loads on first use:

>>> import lrwb.numerics
>>> float(lrwb.numerics.schedules.parse_schedule("constant:0.5")(3, 10))   # η at step 3 of 10
0.5
"""

from __future__ import annotations

from lrwb.lazy import lazy_exports

#: The sub-packages and modules of the layer, imported on first attribute access.
MODULES = ("dynamics", "control", "fsl", "lawfit", "analysis", "data", "schedules", "spectra", "stability",
           "simulate", "sumexp", "sweep", "io", "resources", "conventions", "checks")

__all__ = list(MODULES)


# PEP 562: numba, Dask and torch load only with the modules that need them
__getattr__, __dir__ = lazy_exports(__name__, MODULES)
