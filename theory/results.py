"""The registry: every derived result of the theory modules, by name.

What the rest of the workbench asks for instead of retyping a formula::

    registry().get("zeta_T_optimal_constant").evaluate(a=3.5, b=2)

Each theory module of :data:`THEORY_MODULES` exposes ``results() -> list[Result]``; :func:`registry` collects
them once (derivations take a few seconds, so the CLI and numerics share one cached registry). The result type
itself lives in :mod:`lrwb.theory.result` and is re-exported here (``from lrwb.theory.results import Result``
keeps working): this module imports the theory modules, which import only the type, so nothing is circular.

>>> reg = registry()
>>> reg.get("zeta_T_optimal_constant").latex()
'\\\\zeta_T^{\\\\mathrm{const}} = \\\\frac{a - 1}{a + b - 1}'
>>> round(get("zeta_T_optimal_constant").evaluate(a=3.5, b=2), 4)
0.5556
"""

from __future__ import annotations

import functools

from lrwb.theory import fsl, modesums, plrf
from lrwb.theory.result import (ALL, FRACTION_VARIABLES, LARGE_VARIABLES, NotApplicable, PowerLaw, Regime,
                                Registry, Result, derived_here)

__all__ = ["THEORY_MODULES", "registry", "get",
           # the result type, re-exported for the callers that import it from here
           "ALL", "FRACTION_VARIABLES", "LARGE_VARIABLES", "NotApplicable", "PowerLaw", "Regime", "Registry",
           "Result", "derived_here"]

_SOURCES = (modesums, plrf, fsl)

#: Modules whose ``results()`` make up the registry, in the order the exports list them.
THEORY_MODULES = tuple(module.__name__ for module in _SOURCES)


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    """Every result of every module in :data:`THEORY_MODULES` (derived once per process).

    >>> reg = registry()
    >>> "zeta_T_optimal_constant" in reg, reg.names()[0] == next(iter(reg)).name
    (True, True)
    """
    reg = Registry()
    for module in _SOURCES:
        for result in module.results():
            reg.add(result)
    return reg


def get(name: str) -> Result:
    """Shortcut for ``registry().get(name)``.

    >>> get("zeta_T_optimal_constnt")
    Traceback (most recent call last):
    ...
    KeyError: "unknown result 'zeta_T_optimal_constnt'; did you mean zeta_T_optimal_constant, ...?"
    """
    return registry().get(name)
