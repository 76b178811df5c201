"""Results: a derived formula together with its regime, assumptions, source and verdict — and the registry.

A :class:`Result` is what the rest of the workbench asks for instead of retyping a formula:
``registry().get("zeta_T_optimal_constant").evaluate(a=3.5, b=2)``. It renders itself to LaTeX and
lambdifies itself into a vectorised NumPy function (SymPy's ``lambdify``, as in its codegen docs).

Each theory module (``THEORY_MODULES``) exposes ``results() -> list[Result]``; :func:`registry` collects
them once (derivations take a few seconds, so the CLI and numerics share one cached registry).
"""

from __future__ import annotations

import difflib
import functools
import importlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import sympy as sp

from theory import params as P

#: Modules whose ``results()`` make up the registry, in the order the exports list them.
THEORY_MODULES = ("theory.modesums", "theory.plrf", "theory.fsl")


class NotApplicable(ValueError):
    """The parameters lie outside the regime where a result holds (it is not evaluated there)."""


@dataclass(frozen=True)
class Regime:
    """Where a result holds: a label for people and a SymPy condition for machines."""

    label: str = "all"
    condition: sp.Basic = sp.true

    def holds(self, point: dict[sp.Symbol, float]) -> bool:
        """Decide the condition at a numeric point; missing symbols make it undecidable (→ ``False``)."""
        if self.condition is sp.true:
            return True
        value = self.condition.subs(point)
        if value in (sp.true, sp.false):
            return bool(value)
        missing = sorted(str(sym) for sym in value.free_symbols)
        raise NotApplicable(f"regime {self.label!r} needs values for {', '.join(missing)}")


ALL = Regime()


@dataclass(frozen=True)
class Result:
    """One derived result.

    Attributes:
        name: identifier (snake_case), e.g. ``zeta_T_optimal_constant``.
        lhs: LaTeX of the left-hand side, e.g. ``r"\\zeta_T"``.
        expr: the SymPy expression derived by the theory module (never typed in as the answer).
        description: one sentence for people.
        regime: where it holds.
        source: paper and equation/figure/table it reproduces.
        assumptions: the modelling assumptions behind the derivation (asymptotic regime, …).
        relation: ``"="`` for identities, ``r"\\asymp"`` for rates up to constants, ``r"\\propto"``, ``r"\\sim"``.
        verdict: how the derivation compares to the spec/paper: "confirmed", "corrected: …", "open: …".
        derivation: how it was obtained (function and mechanism), for the report.
    """

    name: str
    lhs: str
    expr: sp.Expr
    description: str
    source: str
    regime: Regime = ALL
    assumptions: tuple[str, ...] = ()
    relation: str = "="
    verdict: str = "confirmed"
    derivation: str = ""
    tags: tuple[str, ...] = field(default=(), compare=False)

    # -- rendering -------------------------------------------------------------------------------
    def latex(self) -> str:
        """``lhs relation rhs`` in LaTeX (no surrounding math delimiters)."""
        return f"{self.lhs} {self.relation} {sp.latex(self.expr)}"

    def __str__(self) -> str:
        return f"{self.name} [{self.regime.label}]: {self.lhs} {self.relation} {sp.sstr(self.expr)}"

    # -- numerics --------------------------------------------------------------------------------
    @property
    def parameters(self) -> tuple[sp.Symbol, ...]:
        """Free symbols of the expression, sorted by name (the lambdified function's arguments)."""
        return tuple(sorted(self.expr.free_symbols, key=str))

    @functools.cached_property
    def _lambdified(self) -> Callable:
        return sp.lambdify(self.parameters, self.expr, modules=["scipy", "numpy"])

    def numpy(self) -> Callable:
        """A vectorised NumPy function of keyword arguments named like the symbols (``a=…, b=…``).

        Arguments broadcast against each other. Regime checks are the caller's (see :meth:`evaluate`).
        """
        names = [str(p) for p in self.parameters]
        fn = self._lambdified

        def evaluate(**kwargs):
            missing = [n for n in names if n not in kwargs]
            if missing:
                raise TypeError(f"{self.name} needs {', '.join(missing)} (parameters: {', '.join(names)})")
            return fn(*(kwargs[n] for n in names))

        evaluate.__name__ = self.name
        evaluate.__doc__ = f"{self.description}\n\n{self.latex()}"
        return evaluate

    def applies(self, **params) -> bool:
        """Whether the regime holds at these parameters (``--eval`` vocabulary, see ``evaluation_point``)."""
        return self.regime.holds(P.evaluation_point(**params))

    def evaluate(self, **params) -> float:
        """The result's value at a point given in the ``--eval`` vocabulary (PLRF or FSL exponents).

        Raises :class:`NotApplicable` if the regime does not hold there or a needed value is missing.
        """
        point = P.evaluation_point(**params)
        if not self.regime.holds(point):
            raise NotApplicable(f"{self.name} holds only in the {self.regime.label} regime ({self.regime.condition})")
        expr = self.expr.subs({sym: point[sym] for sym in self.expr.free_symbols if sym in point})
        if expr.free_symbols:
            missing = ", ".join(sorted(str(sym) for sym in expr.free_symbols))
            raise NotApplicable(f"{self.name} needs values for {missing}")
        return float(sp.N(expr, 17))


class Registry:
    """Results by name, in registration order."""

    def __init__(self, results: Iterable[Result] = ()):
        self._results: dict[str, Result] = {}
        for result in results:
            self.add(result)

    def add(self, result: Result) -> None:
        if result.name in self._results:
            raise ValueError(f"duplicate result name {result.name!r}")
        self._results[result.name] = result

    def get(self, name: str) -> Result:
        try:
            return self._results[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._results, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(self._results)}"
            raise KeyError(f"unknown result {name!r}{hint}") from None

    __getitem__ = get

    def names(self) -> list[str]:
        return list(self._results)

    def __iter__(self) -> Iterator[Result]:
        return iter(self._results.values())

    def __len__(self) -> int:
        return len(self._results)

    def __contains__(self, name: object) -> bool:
        return name in self._results


@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    """Every result of every module in :data:`THEORY_MODULES` (derived once per process)."""
    reg = Registry()
    for module_name in THEORY_MODULES:
        module = importlib.import_module(module_name)
        for result in module.results():
            reg.add(result)
    return reg


def get(name: str) -> Result:
    """Shortcut for ``registry().get(name)``."""
    return registry().get(name)
