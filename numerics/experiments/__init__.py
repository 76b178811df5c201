"""Reproduction experiments: a tiny registry of named scripts that write data + figures.

An experiment is a function ``f(out_dir: Path, quick: bool) -> result`` (a frozen dataclass) registered with
``@experiment("name")``; :func:`run` looks it up by name. Modules listed in ``_MODULES`` are imported lazily
on the first look-up, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable

__all__ = ["experiment", "run", "names"]

_REGISTRY: dict[str, Callable] = {}

# Modules whose import registers experiments (imported on demand by :func:`names` and :func:`run`).
_MODULES = ("numerics.experiments.plrf_fig1b", "numerics.experiments.plrf_fig2", "numerics.experiments.plrf_fig3")


def experiment(name: str) -> Callable[[Callable], Callable]:
    """Decorator: register ``func(out_dir, quick)`` under ``name`` (a name may be registered once)."""
    if not (isinstance(name, str) and name):
        raise ValueError(f"experiment name = {name!r} must be a non-empty string")

    def register(func: Callable) -> Callable:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.__qualname__ != func.__qualname__:
            raise ValueError(f"experiment name = {name!r} is already registered to {existing.__qualname__}")
        _REGISTRY[name] = func
        return func

    return register


def _load_all() -> None:
    for module in _MODULES:
        importlib.import_module(module)


def names() -> tuple[str, ...]:
    """The registered experiment names, sorted."""
    _load_all()
    return tuple(sorted(_REGISTRY))


def run(name: str, out_dir, quick: bool = True):
    """Run the experiment ``name``, writing its files under ``out_dir``; returns its result dataclass."""
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"experiment name = {name!r} is unknown; valid names: {sorted(_REGISTRY)}")
    return _REGISTRY[name](Path(out_dir), bool(quick))
