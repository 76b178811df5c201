"""One derived result: a formula together with its regime, assumptions, source and verdict.

A :class:`Result` is what the rest of the workbench asks for instead of retyping a formula. It renders itself to
LaTeX and lambdifies itself into a vectorised NumPy function (SymPy's ``lambdify``, as in its codegen docs); its
power laws are read off symbolically. A :class:`Registry` holds results by name.

The theory modules (:mod:`lrwb.theory.modesums`, :mod:`lrwb.theory.plrf`, :mod:`lrwb.theory.fsl`) build their
results from this module; :mod:`lrwb.theory.results` collects them into the one registry. Keeping the type here,
apart from the registry, is what keeps the imports acyclic (the registry imports the modules that import the type).

>>> from lrwb.theory import params as P
>>> r = Result("half_a", r"h", P.a / 2, "half of a", source="example")
>>> r.latex()
'h = \\\\frac{a}{2}'
>>> r.evaluate(a=3.5, b=2)
1.75
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import sympy as sp

from lrwb.theory import params as P

__all__ = ["NotApplicable", "Regime", "ALL", "derived_here", "LARGE_VARIABLES", "FRACTION_VARIABLES", "PowerLaw",
           "Result", "Registry"]


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


def derived_here(source: str) -> str:
    """The source of a formula the papers do not print: ``"derived here (from <spec [derived] part>; compare
    <paper part>)"`` from ``"<paper part>; <spec part> [derived …]"`` (parts separated by "; ").

    The spec marks with [derived] what was reconstructed by derivation, not read in a paper (plrf.md, fsl.md
    headers); such a formula cites the paper only as what it is compared with.
    """
    parts = [part.strip() for part in source.split(";") if part.strip()]
    spec = [part for part in parts if "[derived" in part or part.startswith("derived here")]
    paper = [part for part in parts if part not in spec]
    if not spec:
        raise ValueError(f"source {source!r} has no [derived] part: cite the paper directly")
    return "derived here (from " + "; ".join(spec) + ("; compare " + "; ".join(paper) if paper else "") + ")"

#: Variables a result can be a power law in: the large ones (sizes, horizons, times; X → ∞) and the fraction
#: of training x, whose power law is in 1 − x → 0 (a decay shape (1 − x)^δ).
LARGE_VARIABLES = (P.t, P.T, P.C, P.D, P.N, P.M, P.K, P.u)
FRACTION_VARIABLES = (P.x,)


@dataclass(frozen=True)
class PowerLaw:
    """``expr ≍ X^exponent (log X)^log_power`` as X → ∞ (``variable`` X), or, for a fraction x, the power law
    in 1 − x → 0 (``variable`` is then the expression ``1 - x``). Exponents are SymPy expressions in the model
    symbols (a, b, s, β, …); :meth:`Result.power_law_values` evaluates them."""

    variable: sp.Expr
    exponent: sp.Expr
    log_power: sp.Expr


def _power_law(expr: sp.Expr, variable: sp.Symbol, fraction: bool) -> PowerLaw | None:
    """The power law of ``expr`` in ``variable`` (None if it is not one).

    exponent = lim d log(expr)/d log X and log_power = lim (d log(expr)/d log X − exponent)·log X, with X the
    variable (or 1 − x for a fraction): SymPy differentiates the log and takes the limits in L = log X → ∞.
    For a product of powers (the common case) the structural reading of ``lrwb.theory.balance.log_monomial`` gives
    the same two numbers without limits.
    """
    from lrwb.theory.balance import BalanceError, log_monomial

    level = sp.Symbol("L_log", positive=True)
    if fraction:
        gap = sp.Symbol("w_gap", positive=True)
        target = expr.subs(variable, 1 - gap)
        shown: sp.Expr = 1 - variable
    else:
        gap, target, shown = variable, expr, variable
    if not target.has(gap):
        return None
    try:
        _, exponent, log_power = log_monomial(target, gap, ())
    except BalanceError:
        slope = sp.diff(sp.expand_log(sp.log(target), force=True), gap) * gap  # d log(expr)/d log X
        along = slope.subs(gap, sp.exp(-level) if fraction else sp.exp(level))
        sign = -1 if fraction else 1  # d log X/dL = −1 for X = 1 − x = e^{−L}
        try:
            exponent = sp.limit(sign * along, level, sp.oo)
            if isinstance(exponent, sp.Limit) or exponent.has(sp.oo, -sp.oo, sp.zoo, sp.nan, level):
                return None
            log_power = sp.limit((sign * along - exponent) * level, level, sp.oo)
        except (NotImplementedError, ValueError, TypeError):
            return None
        if isinstance(log_power, sp.Limit) or log_power.has(sp.oo, -sp.oo, sp.zoo, sp.nan, level):
            return None  # not X^e (log X)^l (e.g. an exponential or a log of a log)
    return PowerLaw(shown, sp.factor(sp.cancel(exponent)), sp.factor(sp.cancel(log_power)))


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
        """``lhs relation rhs`` in LaTeX (no surrounding math delimiters).

        >>> from lrwb.theory import params as P
        >>> Result("zeta", r"\\zeta", (P.a - 1) / P.a, "an exponent", "example", relation=r"\\asymp").latex()
        '\\\\zeta \\\\asymp \\\\frac{a - 1}{a}'
        """
        return f"{self.lhs} {self.relation} {sp.latex(self.expr)}"

    def __str__(self) -> str:
        return f"{self.name} [{self.regime.label}]: {self.lhs} {self.relation} {sp.sstr(self.expr)}"

    # -- power laws --------------------------------------------------------------------------------
    @functools.cached_property
    def power_laws(self) -> tuple[PowerLaw, ...]:
        """Every variable of :data:`LARGE_VARIABLES` / :data:`FRACTION_VARIABLES` the expression is a power law
        in, with its exponent and log power (symbolic; see :func:`_power_law`)."""
        out = []
        for variable in LARGE_VARIABLES + FRACTION_VARIABLES:
            if variable in self.expr.free_symbols:
                law = _power_law(self.expr, variable, variable in FRACTION_VARIABLES)
                if law is not None:
                    out.append(law)
        return tuple(out)

    def power_law_values(self, **params) -> list[dict]:
        """The power laws evaluated at a point of the ``--eval`` vocabulary: one dict per law with
        ``variable``, ``exponent``/``log_power`` (text) and ``exponent_value``/``log_power_value`` (floats, or
        None with ``reason`` when a needed value is missing or the regime does not hold)."""
        point = P.evaluation_point(**params)
        holds = True
        try:
            holds = self.regime.holds(point)
        except NotApplicable:
            holds = False
        out = []
        for law in self.power_laws:
            record = {"variable": sp.sstr(law.variable), "exponent": sp.sstr(law.exponent),
                      "log_power": sp.sstr(law.log_power)}
            if not holds:
                record.update(exponent_value=None, log_power_value=None,
                              reason=f"outside the {self.regime.label} regime")
            else:
                values = [law.exponent.subs(point), law.log_power.subs(point)]
                missing = sorted({str(sym) for v in values for sym in v.free_symbols})
                if missing:
                    record.update(exponent_value=None, log_power_value=None,
                                  reason=f"needs values for {', '.join(missing)}")
                else:
                    record.update(exponent_value=float(sp.N(values[0], 17)), log_power_value=float(sp.N(values[1], 17)))
            out.append(record)
        return out

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

        >>> from lrwb.theory import params as P
        >>> fast = Result("rate", "r", P.b / P.a, "a rate", "example", regime=Regime("b < a", P.b < P.a))
        >>> fast.evaluate(a=4, b=2)
        0.5
        >>> fast.evaluate(a=2, b=4)
        Traceback (most recent call last):
        ...
        lrwb.theory.result.NotApplicable: rate holds only in the b < a regime (b < a)
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
