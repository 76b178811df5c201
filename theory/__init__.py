"""The theory layer of LR Workbench (SymPy only; imports nothing else of the workbench).

- :mod:`~lrwb.theory.params` — the model symbols and the ``--eval`` vocabulary;
- :mod:`~lrwb.theory.modesums` — mode sums and their continuum limits (signal, kernel, tail);
- :mod:`~lrwb.theory.balance` — term balance: which terms of a sum dominate where;
- :mod:`~lrwb.theory.plrf`, :mod:`~lrwb.theory.fsl` — the two papers' results, derived;
- :mod:`~lrwb.theory.result` — one derived result (:class:`Result`: formula, regime, source, verdict);
- :mod:`~lrwb.theory.results` — the registry of every result (:func:`registry`);
- :mod:`~lrwb.theory.export` — LaTeX, Markdown and JSON renderings.

Modules and the names below load on first use:

>>> import lrwb.theory
>>> lrwb.theory.registry().get("zeta_T_optimal_constant").regime.label
'all (a > 1, b > 1)'
"""

from __future__ import annotations

from lrwb.lazy import lazy_exports

#: The modules of the layer, imported on first attribute access.
MODULES = ("params", "modesums", "balance", "plrf", "fsl", "result", "results", "export")

#: Names re-exported from the modules: name -> module.
EXPORTS = {"registry": "results", "get": "results", "Result": "result", "Regime": "result",
           "NotApplicable": "result", "Registry": "result"}

__all__ = [*MODULES, *EXPORTS]


# PEP 562: the modules derive their results lazily, but importing them still loads SymPy
__getattr__, __dir__ = lazy_exports(__name__, MODULES, EXPORTS)
