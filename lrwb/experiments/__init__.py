"""Reproduction experiments: a tiny registry of named scripts that write data, figures and checked claims.

Registering an experiment is one function and one decorator::

    @experiment("plrf_fig2", title="Optimal schedules and their loss exponents", source="Bordelon & Mori, Fig. 2",
                budget_s=60)
    def plrf_fig2(out_dir: Path, quick: bool = True) -> Fig2Result: ...

The function writes its files under ``out_dir`` (atomically) and returns a frozen dataclass with at least
``claims`` (tuple of :class:`~lrwb.experiments.claims.Claim`), ``files`` (written paths), ``runtime_s`` and
``markdown()``. A function that takes a ``device`` keyword gets ``--device`` passed through. ``budget_s`` is
the wall-time budget of the ``--quick`` run on 2 CPU cores (shown in the docs and checked by
``lrwb reproduce``, which warns when an experiment overruns it).

Modules listed in ``_MODULES`` are imported lazily on the first look-up, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = ["ExperimentSpec", "experiment", "run", "names", "spec"]


@dataclass(frozen=True)
class ExperimentSpec:
    """A registered experiment: its function and what the report and the budget table show about it."""

    name: str
    func: Callable
    title: str
    source: str
    budget_s: float

    @property
    def module(self) -> str:
        return self.func.__module__

    @property
    def takes_device(self) -> bool:
        return "device" in inspect.signature(self.func).parameters


_REGISTRY: dict[str, ExperimentSpec] = {}

# Modules whose import registers experiments (imported on demand by :func:`names` and :func:`run`).
# Order is the report's order: PLRF figures, then FSL, then real curves.
_MODULES = (
    "lrwb.experiments.plrf_fig1b",
    "lrwb.experiments.plrf_fig2",
    "lrwb.experiments.plrf_fig3",
    "lrwb.experiments.plrf_fig4",
    "lrwb.experiments.plrf_fig5",
    "lrwb.experiments.plrf_collapse",
    "lrwb.experiments.plrf_anneal",
    "lrwb.experiments.plrf_batch_ramp",
    "lrwb.experiments.plrf_hyperparameters",
    "lrwb.experiments.plrf_phase_diagram",
    "lrwb.experiments.fsl_fig1",
    "lrwb.experiments.fsl_table1",
    "lrwb.experiments.fsl_optimal",
    "lrwb.experiments.fsl_hyperparameters",
    "lrwb.experiments.real_curves",
)


def experiment(name: str, *, title: str = "", source: str = "", budget_s: float = 60.0
               ) -> Callable[[Callable], Callable]:
    """Decorator: register ``func(out_dir, quick)`` under ``name`` (a name may be registered once)."""
    if not (isinstance(name, str) and name.isidentifier()):
        raise ValueError(f"experiment name = {name!r} must be a non-empty identifier (letters, digits, _)")
    if not budget_s > 0:
        raise ValueError(f"budget_s = {budget_s!r} must be > 0 seconds")

    def register(func: Callable) -> Callable:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"experiment name = {name!r} is already registered to {existing.func.__qualname__}")
        doc_title = (func.__doc__ or name).strip().splitlines()[0]
        _REGISTRY[name] = ExperimentSpec(name, func, title or doc_title, source, float(budget_s))
        return func

    return register


def _load_all() -> None:
    for module in _MODULES:
        importlib.import_module(module)


def names() -> tuple[str, ...]:
    """The registered experiment names, in report order (the order of ``_MODULES``, then registration).

    >>> names()[:3]
    ('plrf_fig1b', 'plrf_fig2', 'plrf_fig3')
    """
    _load_all()
    rank = {module: i for i, module in enumerate(_MODULES)}
    return tuple(sorted(_REGISTRY, key=lambda n: (rank.get(_REGISTRY[n].module, len(rank)), n)))


def spec(name: str) -> ExperimentSpec:
    """The :class:`ExperimentSpec` registered under ``name``."""
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"experiment name = {name!r} is unknown; valid names: {list(_REGISTRY)}")
    return _REGISTRY[name]


def run(name: str, out_dir, quick: bool = True, device: str | None = None):
    """Run the experiment ``name``, writing its files under ``out_dir``; returns its result dataclass (with
    ``claims``, ``files``, ``runtime_s`` and ``markdown()``). ``lrwb reproduce`` adds the cache and the report.

    >>> run("plrf_fig9", "results/plrf_fig9")
    Traceback (most recent call last):
    ...
    ValueError: experiment name = 'plrf_fig9' is unknown; valid names: [...'plrf_fig2'...]
    """
    entry = spec(name)
    kwargs = {"device": device} if (device is not None and entry.takes_device) else {}
    return entry.func(Path(out_dir), bool(quick), **kwargs)
