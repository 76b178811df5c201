"""Optimal hyper-parameters, numerically: minimise a balance's term model at finite sizes and fit the exponents.

A :class:`lrwb.theory.balance.Balance` keeps the problem it solved (``terms``, ``decisions``, ``constraints``):
positive terms f_i(v; X) — monomials in the large variable X, log X and the decisions v, with ``Min`` — and
constraints c_k(v; X) ≲ 1. Here the SAME term model is minimised numerically, without the balance's LPs,
active sets or Min branches. With x = log v (every decision is positive),

    log E*(X) = min_x  LSE_i log f_i(e^x; X)   s.t.  log c_k(e^x; X) ≤ 0,   |x| ≤ 2 log X,

at each X of a log-spaced range (SLSQP from several starts and from the previous size's optimum). A
``Min(p, q)`` is evaluated as the smooth (p^{−4} + q^{−4})^{−1/4}, within a factor 2^{1/4} of the min — a
constant factor, which moves no exponent of a ≍ law. Everything is done in logs (LSE = log-sum-exp), so sizes
up to X = 10^{40} neither overflow nor underflow. Then, per registered hyper-parameter:

- a pinned decision v* ≍ X^g (log X)^h: g is the slope of log v*(X) − h log log X against log X (h, the derived
  log power, divided out as for the Table-1 loss fits);
- the lower end of a flat valley (the WSD r_min, the smallest γ of a flat γ valley): the smallest v with
  min over the other decisions of E ≤ κ·E*(X) (κ = 2), i.e. min x_v s.t. log E ≤ log E* + log κ: a valley end
  X^g (log X)^h keeps the optimal rate up to a constant factor, and the constant κ moves no exponent;
- the data size D* = C/M* of a compute-limited cell.

The fitted exponent is compared with the derived one (±0.05, ``conventions.md``) by the experiments
(``lrwb.experiments.hyperparameter_checks``: the verdicts, the table and its files). Only SciPy/NumPy here;
``theory`` provides the problems and the derived exponents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy import optimize

from lrwb.numerics.analysis.slopes import log_slope

__all__ = ["TermModel", "Fit", "optima", "fit_decision", "log_term", "EXCESS_FACTOR", "CheckSpec",
           "CheckResult", "derived_exponent", "run_checks", "log_sizes"]

#: κ of a valley end: the smallest v whose best loss is within this factor of the optimum.
EXCESS_FACTOR = 2.0
#: p of the smooth min (p^{-P} + q^{-P})^{-1/P}: within 2^{1/P} of min(p, q).
_SOFTMIN_POWER = 4.0
#: decisions are searched in |log v| ≤ this × log X (every derived exponent here lies in [−1.5, 1.5]).
_BOX = 2.0


def _softmin_log(*logs):
    """log of (Σ e^{−P·l_i})^{−1/P}: the smooth min in log space (numerically stable log-sum-exp)."""
    stacked = np.stack(np.broadcast_arrays(*logs))
    return -np.logaddexp.reduce(-_SOFTMIN_POWER * stacked, axis=0) / _SOFTMIN_POWER


def log_term(expr, variable, decisions, log_symbols: Mapping, values: Mapping):
    """SymPy expression for log(expr): a decision v becomes its log, ``log_symbols[v]``; log X and log log X
    become the symbols ``log_X``, ``loglog_X``.

    ``expr`` is a product of powers of X, log X, the decisions, constants and ``Min`` of such products (the
    balance's term grammar). A ``Min`` becomes the function ``softmin_log`` of its arguments' logs. Symbols in
    ``values`` (model exponents, σ, …) are substituted. Raises ``ValueError`` on anything else.
    """
    import sympy as sp

    softmin = sp.Function("softmin_log")
    log_x, loglog_x = sp.Symbol("log_X"), sp.Symbol("loglog_X")
    values = {sp.sympify(k): sp.Float(v) for k, v in values.items()}

    def walk(node):
        node = sp.sympify(node)
        if node == variable:
            return log_x
        if node == sp.log(variable):
            return loglog_x
        if node in log_symbols:
            return log_symbols[node]
        watched = {variable, *decisions}
        if not (node.free_symbols & watched):
            number = node.xreplace(values)
            if number.free_symbols:
                missing = ", ".join(sorted(map(str, number.free_symbols)))
                raise ValueError(f"term {expr}: no value given for {missing} (pass them in values)")
            return sp.log(number)
        if isinstance(node, sp.Min):
            return softmin(*(walk(arg) for arg in node.args))
        if node.is_Mul:
            return sp.Add(*(walk(arg) for arg in node.args))
        if node.is_Pow and not (node.exp.free_symbols & watched):
            return node.exp.xreplace(values) * walk(node.base)
        raise ValueError(f"term {expr} is not a monomial in {variable}, log {variable} and the decisions "
                         f"(offending part: {node})")

    return walk(expr), log_x, loglog_x, softmin


@dataclass
class TermModel:
    """The term model of one balance at numeric model exponents: log E(x; X) and the constraints, in logs.

    Build it with :meth:`from_balance`; :meth:`minimum` gives (log E*, x*) at one X and :meth:`lowest` the
    lower end of a decision's valley. The constraints are affine in x (monomials): ``A x ≤ b(log X, log log X)``.
    """

    variable: object
    decisions: tuple
    term_logs: Callable  # (x of shape (n, k), log X, log log X) -> list of log f_i, each of shape (k,)
    constraint_matrix: np.ndarray  # A, shape (constraints, n)
    constraint_offset: Callable  # (log X, log log X) -> b, shape (constraints,)

    @classmethod
    def from_balance(cls, balance, values: Mapping) -> "TermModel":
        """The problem kept by ``balance`` (terms, decisions, constraints) with ``values`` for every other symbol."""
        import sympy as sp

        if not balance.terms:
            raise ValueError("the balance carries no problem (terms); build it with lrwb.theory.balance.balance")
        decisions = tuple(balance.decisions)
        xs = sp.symbols(f"x0:{len(decisions)}")
        logs = dict(zip(decisions, xs))  # log v = x_v
        bodies, log_x, loglog_x = [], None, None
        for expr in balance.terms.values():
            body, log_x, loglog_x, _ = log_term(expr, balance.variable, decisions, logs, values)
            bodies.append(body)
        term_logs = sp.lambdify([xs, log_x, loglog_x], bodies, modules=[{"softmin_log": _softmin_log}, "numpy"])
        rows, offsets = [], []
        for expr in balance.constraints.values():
            body, log_x, loglog_x, _ = log_term(expr, balance.variable, decisions, logs, values)
            row = [sp.diff(body, x) for x in xs]
            if any(coef.free_symbols for coef in row):
                raise ValueError(f"constraint {expr} is not a monomial in the decisions")
            rows.append([float(coef) for coef in row])
            offsets.append(-body.subs({x: 0 for x in xs}))  # A x + (body at 0) ≤ 0
        offset = sp.lambdify([log_x, loglog_x], offsets or [sp.S.Zero], "numpy")
        matrix = np.array(rows, float).reshape(len(rows), len(decisions))
        return cls(balance.variable, decisions, term_logs, matrix,
                   lambda lx, llx: np.asarray(offset(lx, llx), float)[: len(rows)])

    # -- evaluation --------------------------------------------------------------------------------------
    def log_loss(self, x, lx: float, llx: float):
        """log E at x (shape (n,) or (n, k)): log-sum-exp of the term logs."""
        x = np.asarray(x, float)
        columns = x if x.ndim == 2 else x[:, None]
        parts = [np.broadcast_to(np.asarray(p, float), columns.shape[1:]) for p in self.term_logs(columns, lx, llx)]
        value = np.logaddexp.reduce(np.stack(parts), axis=0)
        return value if x.ndim == 2 else float(value[0])

    def _value_and_gradient(self, x, lx, llx, step=1e-7):
        """log E and its forward-difference gradient, in one vectorised evaluation of n + 1 points."""
        n = len(x)
        points = np.repeat(np.asarray(x, float)[:, None], n + 1, axis=1)
        points[np.arange(n), np.arange(1, n + 1)] += step
        values = self.log_loss(points, lx, llx)
        return values[0], (values[1:] - values[0]) / step

    def _linear_constraints(self, lx, llx):
        if not len(self.constraint_matrix):
            return []
        A, b = self.constraint_matrix, self.constraint_offset(lx, llx)
        return [{"type": "ineq", "fun": lambda x: b - A @ x, "jac": lambda x: -A}]

    def _feasible(self, x, lx, llx, tol=1e-6) -> bool:
        if not len(self.constraint_matrix):
            return True
        return bool(np.all(self.constraint_matrix @ x <= self.constraint_offset(lx, llx) + tol))

    def _starts(self, lx, previous, rng, count):
        n = len(self.decisions)
        starts = [] if previous is None else [np.asarray(previous, float)]
        starts += [np.zeros(n), np.full(n, -0.3 * lx)]
        starts += [rng.uniform(-1.0, 0.5, n) * lx for _ in range(count)]
        return starts

    # -- one size ------------------------------------------------------------------------------------------
    def minimum(self, size: float, previous=None, *, starts: int = 3, seed: int = 0) -> tuple[float, np.ndarray]:
        """(log E*(X), x*) at X = ``size``; ``previous`` (x* at a nearby size) seeds the search."""
        lx = math.log(size)
        llx = math.log(lx)
        bounds = [(-_BOX * lx, _BOX * lx)] * len(self.decisions)
        rng = np.random.default_rng(seed)
        best = (math.inf, None)
        for x0 in self._starts(lx, previous, rng, starts):
            x0 = np.clip(x0, -_BOX * lx, _BOX * lx)
            res = optimize.minimize(self._value_and_gradient, x0, args=(lx, llx), jac=True, method="SLSQP",
                                    bounds=bounds, constraints=self._linear_constraints(lx, llx),
                                    options={"maxiter": 500, "ftol": 1e-12})
            if self._feasible(res.x, lx, llx):
                value = self.log_loss(res.x, lx, llx)
                if value < best[0]:
                    best = (value, res.x)
        if best[1] is None:
            raise RuntimeError(f"no feasible optimum of the term model found at X = {size:g}")
        return best

    def lowest(self, size: float, index: int, log_optimum: float, x_optimum, *, factor: float = EXCESS_FACTOR,
               starts: int = 4, seed: int = 1) -> float:
        """min x_index s.t. log E(x) ≤ log E* + log(factor) (and the constraints): the valley's lower end, in logs."""
        lx = math.log(size)
        llx = math.log(lx)
        level = log_optimum + math.log(factor)
        n = len(self.decisions)
        bounds = [(-_BOX * lx, _BOX * lx)] * n
        unit = np.eye(n)[index]

        def slack(x):
            return level - self._value_and_gradient(x, lx, llx)[0]

        def slack_jac(x):
            return -self._value_and_gradient(x, lx, llx)[1]

        within = {"type": "ineq", "fun": slack, "jac": slack_jac}
        rng = np.random.default_rng(seed)
        best = float(x_optimum[index])  # the optimum itself is feasible
        for x0 in [np.asarray(x_optimum, float)] + self._starts(lx, None, rng, starts):
            x0 = np.clip(x0, -_BOX * lx, _BOX * lx)
            res = optimize.minimize(lambda x: (x[index], unit), x0, jac=True, method="SLSQP", bounds=bounds,
                                    constraints=self._linear_constraints(lx, llx) + [within],
                                    options={"maxiter": 500, "ftol": 1e-12})
            if self._feasible(res.x, lx, llx) and self.log_loss(res.x, lx, llx) <= level + 1e-6:
                best = min(best, float(res.x[index]))
        return best


@dataclass(frozen=True)
class Fit:
    """A fitted hyper-parameter exponent over a range of X."""

    sizes: tuple[float, ...]
    values: tuple[float, ...]  # log v at each size (v = the decision, its valley end, or C/M*)
    log_power: float  # derived log power divided out
    exponent: float  # slope of log v − log_power · log log X against log X




def optima(model: TermModel, sizes: Sequence[float]) -> list[tuple[float, float, np.ndarray]]:
    """(X, log E*(X), x*(X)) for each size, ascending; each search is seeded by the previous optimum."""
    previous, out = None, []
    for size in sorted(float(x) for x in sizes):
        log_opt, x_opt = model.minimum(size, previous)
        out.append((size, log_opt, x_opt))
        previous = x_opt * math.log(size * 10.0) / math.log(size)  # exponents are ~constant: scale toward the next X
    return out


def fit_decision(model: TermModel, decision, sizes: Sequence[float] | None = None, *, kind: str = "argmin",
                 log_power: float = 0.0, solved=None) -> Fit:
    """Fit the exponent of ``decision``: ``kind`` = "argmin" (v*), "lower" (the lower end of its valley) or
    "data" (X/v*, e.g. D* = C/M*). ``solved`` (from :func:`optima`) reuses the optima of a previous fit."""
    if kind not in ("argmin", "lower", "data"):
        raise ValueError(f"kind = {kind!r}; valid: argmin, lower, data")
    if decision not in model.decisions:
        raise ValueError(f"decision {decision} is not one of the balance's decisions {model.decisions}")
    if solved is None:
        if sizes is None:
            raise ValueError("fit_decision needs sizes or solved optima")
        solved = optima(model, sizes)
    index = model.decisions.index(decision)
    values = []
    for size, log_opt, x_opt in solved:
        if kind == "argmin":
            values.append(float(x_opt[index]))
        elif kind == "data":
            values.append(math.log(size) - float(x_opt[index]))
        else:
            values.append(model.lowest(size, index, log_opt, x_opt))
    ordered = tuple(size for size, _, _ in solved)
    return Fit(ordered, tuple(values), float(log_power), log_slope(ordered, values, log_power=float(log_power)))


# ---------------------------------------------------------------------------------------------------
# checks of registered results (shared by the fsl_ and plrf_hyperparameters experiments)
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckSpec:
    """One registered hyper-parameter scaling to check on the term model of ``balance``.

    result: registry name; label: the cell/setting shown in the report; decision: the balance's decision;
    kind: "argmin", "lower" (valley lower end) or "data" (X/v*); point: values of every symbol of the
    problem besides X and the decisions (model exponents, σ, B, η_max); form: how the registry expression
    holds the exponent — "scaling" (X^e (log X)^l) or "exponent" (the number e itself, times ``sign``, e.g.
    ν with η_peak ≍ N^{−ν}); complement: the registry holds v's law but the check is on X/v (T* = C/N*).
    """

    result: str
    label: str
    balance: object
    decision: object
    kind: str = "argmin"
    point: Mapping = ()
    form: str = "scaling"
    sign: float = 1.0
    complement: bool = False
    what: str = ""


@dataclass(frozen=True)
class CheckResult:
    spec: CheckSpec
    derived: float
    log_power: float
    fit: Fit
    seconds: float

    @property
    def fitted(self) -> float:
        return self.fit.exponent


def derived_exponent(spec: CheckSpec) -> tuple[float, float]:
    """(exponent, log power) of the registered result at ``spec.point`` (see :class:`CheckSpec`)."""
    import sympy as sp

    from lrwb.theory.balance import log_monomial
    from lrwb.theory.results import registry

    expr = registry().get(spec.result).expr
    point = {sp.sympify(k): v for k, v in dict(spec.point).items()}
    if spec.form == "exponent":
        return spec.sign * float(sp.N(expr.subs(point))), 0.0
    if spec.form != "scaling":
        raise ValueError(f"form = {spec.form!r}; valid: scaling, exponent")
    _, power, log_power = log_monomial(expr, spec.balance.variable, ())
    power = float(sp.N(sp.sympify(power).subs(point)))
    log_power = float(sp.N(sp.sympify(log_power).subs(point)))
    if spec.complement:  # the registry holds v ≍ X^e (log X)^l; the check is on X/v ≍ X^{1−e} (log X)^{−l}
        return 1.0 - power, -log_power
    return power, log_power


def run_checks(specs: Sequence[CheckSpec], sizes: Sequence[float]) -> list[CheckResult]:
    """Minimise each distinct (balance, point) term model over ``sizes`` once, then fit every spec on it."""
    import time

    models: dict = {}
    out = []
    for spec in specs:
        clock = time.perf_counter()
        key = (id(spec.balance), tuple(sorted((str(k), v) for k, v in dict(spec.point).items())))
        if key not in models:
            model = TermModel.from_balance(spec.balance, dict(spec.point))
            models[key] = (model, optima(model, sizes))
        model, solved = models[key]
        derived, log_power = derived_exponent(spec)
        fit = fit_decision(model, spec.decision, kind=spec.kind, log_power=log_power, solved=solved)
        out.append(CheckResult(spec, derived, log_power, fit, time.perf_counter() - clock))
    return out


def log_sizes(start: float, stop: float, count: int) -> np.ndarray:
    """``count`` sizes 10^start … 10^stop (log-spaced)."""
    return np.logspace(start, stop, int(count))
