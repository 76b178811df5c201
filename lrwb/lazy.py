"""Lazy package exports (PEP 562): the one mechanism every package of the namespace uses to list its API.

A package names its sub-modules and the names it re-exports; :func:`lazy_exports` returns the module-level
``__getattr__`` and ``__dir__`` that import each on first use. So ``import lrwb`` (or ``lrwb.numerics.fsl``)
loads no SymPy, NumPy, numba, Dask or torch until a name is touched, and importing one module of a package
does not import its siblings.

Stdlib only, and below every layer (``tests/test_architecture.py``): theory may use it too.

>>> import sys
>>> import lrwb.numerics.fsl as fsl
>>> "lrwb.numerics.fsl.optimal" in sys.modules or "optimal_schedule" in dir(fsl)  # listed before it loads
True
>>> fsl.optimal_schedule is sys.modules["lrwb.numerics.fsl.optimal"].optimal_schedule
True
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, Iterable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, modules: Iterable[str] = (), names: Mapping[str, str] | None = None
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``.

    modules: sub-modules of ``package`` imported on first access (``package.<name>``).
    names: re-exported name -> the module defining it: a sub-module of ``package`` (``"engine"``), or an
    absolute dotted name (``"lrwb.app.reproduce"``). A name, once looked up, is stored on the package, so
    later accesses cost nothing.
    """
    modules = tuple(modules)
    names = dict(names or {})
    public = (*modules, *names)

    def __getattr__(name: str):
        if name in modules:
            return importlib.import_module(f"{package}.{name}")
        if name not in names:
            listing = ", ".join(public) if len(public) <= 12 else f"{len(public)} names (see its __all__)"
            raise AttributeError(f"module {package!r} has no attribute {name!r}; it exports {listing}")
        module = names[name] if "." in names[name] else f"{package}.{names[name]}"
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(public))

    return __getattr__, __dir__
