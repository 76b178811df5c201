"""Term balance: the asymptotic minimum of a sum of power laws (with log factors) over decision exponents.

One mechanism behind ζ_T, the FSL's Table 1 and the compute-optimal allocations. Given positive terms
``f_i`` in a large variable ``X`` (data D, compute C or horizon T) and decision variables ``v`` (γ, M, r, …),
write every decision as a power law with a log factor,

    v = X^{g_v} (log X)^{h_v},

so that each term becomes ``f_i ≍ X^{e_i(g)} (log X)^{l_i(h)}`` with ``e_i(g) = k_i·g + e0_i`` and
``l_i(h) = k_i·h + l0_i`` (the same coefficients ``k_i``: a log power in ``v`` is a small shift of its
exponent). Constraints are monomials that must stay ``≲ 1`` (``γ ≲ 1``: ``γ``; ``M ≤ C``: ``M/C``). Then

    min_v Σ_i f_i  ≍  X^{z*} (log X)^{w*},
    z* = min_g max_i e_i(g)                 (first-order LP; the terms attaining z* are *active*)
    w* = min_h max_{i active} l_i(h)        (second-order LP on the log powers of the active terms).

Mechanism: both LPs are solved numerically (``scipy.optimize.linprog``) at a sample point of the model
exponents to find the active terms and constraints; the active balance equations are then solved
SYMBOLICALLY (``sympy.linsolve``), so exponents come out as expressions in the model symbols (s, β, a, b …).
The symbolic solution is checked against the numeric LPs at random points of the regime; a mismatch raises
:class:`BalanceError` (never a silent wrong answer).

``Min(p, q)`` inside a term is handled by branching: ``min_v [F + min(P, Q)] = min(min_v F + P, min_v F + Q)``,
so each branch is an ordinary balance and the best branch (lexicographically in (z*, w*)) gives the optimal
value. The optimal SET is the union of the optimal faces of every branch attaining (z*, w*) (the tied
branches): ``F + min(P, Q) ≤ z`` iff ``F + P ≤ z`` or ``F + Q ≤ z``. So a decision is pinned only if every tied
branch pins it at the same (g, h), and a valley end is the extreme end over the tied branches — one branch's
face alone can miss the far end of a valley (e.g. the WSD decay fraction at compute C: the branch
min = M stops at C^{(sβ−β+1)/(β+1)} log C, the branch min = T^{1/β}, which is the smaller alternative there,
reaches C^{β(sβ−β+1)/((β−1)(β+1))} log C).

Decisions that the balance does not pin down (a flat valley of the exponent, e.g. the WSD decay fraction in the
hard phase) are reported with the two ends of their valley instead of a single exponent.

Besides the exponents, :class:`Balance` carries ``conditions``: the symbolic inequalities under which the
active set stays optimal (inactive terms below the rate, inactive constraints satisfied, LP multipliers ≥ 0).
They are the *derived* regime of the formula — e.g. the FSL phase boundary s ≥ 1 − 1/β is where the
unconstrained optimum of the bias–variance balance stops needing γ ≲ 1.

Numerics are used only to choose the active set; scipy is imported lazily so that importing ``theory`` stays
SymPy-only and cheap.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import sympy as sp

from lrwb.theory import params as P

__all__ = ["Balance", "BalanceError", "Valley", "balance", "log_monomial", "regime_points"]

#: LP feasibility/activity tolerance (HiGHS solves these tiny LPs to ~1e-12; 1e-7 leaves room).
_ACTIVE_TOL = 1e-7
#: Tolerance when comparing the symbolic solution with the numeric LP (exponents are O(1) numbers).
_VERIFY_TOL = 1e-6
#: Valley ends are extreme vertices of the optimal face widened by _ACTIVE_TOL; a term coefficient k moves the
#: end by ~_ACTIVE_TOL/k per active term (k ≳ 0.1 here), so ends are compared to 1e-5.
_VALLEY_TOL = 1e-5
#: A log power this large means "unbounded" (LPs are boxed at ±_BIG to keep them bounded).
_BIG = 1e4


class BalanceError(ValueError):
    """The balance is ill-posed (unbounded, not a monomial) or its symbolic solution failed verification."""


# ---------------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Valley:
    """A decision the first-order balance leaves free: its exponent may lie anywhere in ``[lower, upper]``.

    ``lower``/``upper`` are the exponent ends (``None`` if unbounded, e.g. M = ∞ allowed); ``lower_log``/
    ``upper_log`` the log powers needed at each end to keep the optimal log factor (``None`` if the end cannot
    keep it or is unbounded).
    """

    lower: sp.Expr | None
    upper: sp.Expr | None
    lower_log: sp.Expr | None = None
    upper_log: sp.Expr | None = None


@dataclass(frozen=True)
class Balance:
    """``min Σ terms ≍ X^rate (log X)^log_power``, attained at ``v ≍ X^{exponents[v]} (log X)^{log_powers[v]}``.

    Attributes:
        variable: the large variable X.
        rate, log_power: exponents of the optimal value.
        exponents, log_powers: optimal decision exponents (decisions in a valley are absent; see ``valleys``).
        valleys: decision → :class:`Valley` for decisions the balance leaves free.
        active: labels of the terms attaining the rate; ``log_active`` those that set the log power.
        active_constraints: labels of the constraints holding with equality.
        branch: the alternative chosen in each ``Min`` (label text), empty without ``Min``.
        tied_branches: other branches with the same (rate, log_power), if any.
        conditions: derived inequalities (each ``expr > 0`` or ``expr >= 0``) under which the active set
            stays optimal — the regime of validity of the formulas.
        verified_points: the random regime points where the symbolic solution matched the numeric LPs.
        terms, decisions, constraints: the problem as posed (``Min`` kept), so that numerics can minimise the
            same term model directly (``lrwb.numerics.analysis.hyperparameters``) and check every exponent above.
    """

    variable: sp.Symbol
    rate: sp.Expr
    log_power: sp.Expr
    exponents: Mapping[sp.Symbol, sp.Expr]
    log_powers: Mapping[sp.Symbol, sp.Expr]
    valleys: Mapping[sp.Symbol, Valley] = field(default_factory=dict)
    active: tuple[str, ...] = ()
    log_active: tuple[str, ...] = ()
    active_constraints: tuple[str, ...] = ()
    branch: tuple[str, ...] = ()
    tied_branches: tuple[tuple[str, ...], ...] = ()
    conditions: tuple[sp.Basic, ...] = ()
    verified_points: tuple[Mapping[sp.Symbol, float], ...] = ()
    terms: Mapping[str, sp.Expr] = field(default_factory=dict, compare=False)
    decisions: tuple[sp.Symbol, ...] = ()
    constraints: Mapping[str, sp.Expr] = field(default_factory=dict, compare=False)

    def value(self) -> sp.Expr:
        """The optimal value as a function of X: ``X^rate (log X)^log_power``."""
        return self.variable**self.rate * sp.log(self.variable) ** self.log_power

    def scaling(self, decision: sp.Symbol) -> sp.Expr:
        """The optimal decision as a function of X: ``X^g (log X)^h`` (``BalanceError`` if in a valley)."""
        if decision not in self.exponents:
            raise BalanceError(f"{decision} is not pinned by the balance (valley {self.valleys.get(decision)})")
        return self.variable ** self.exponents[decision] * sp.log(self.variable) ** self.log_powers.get(decision, 0)

    def holds_at(self, point: Mapping[sp.Symbol, float]) -> bool:
        """Whether every derived condition holds at a numeric point of the model exponents."""
        return all(bool(cond.subs(point)) for cond in self.conditions)


# ---------------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Monomial:
    """``X^{k·g + e0} (log X)^{k·h + l0}`` (constant prefactors dropped)."""

    label: str
    k: tuple[sp.Expr, ...]
    e0: sp.Expr
    l0: sp.Expr


def log_monomial(expr: sp.Expr, variable: sp.Symbol, decisions: Sequence[sp.Symbol]) -> tuple[tuple[sp.Expr, ...], sp.Expr, sp.Expr]:
    """Coefficients ``(k, e0, l0)`` with ``expr ≍ X^{Σ k_v g_v + e0} (log X)^{Σ k_v h_v + l0}``.

    A structural walk: a product adds, a power multiplies by its (X-free) exponent, ``X`` gives e0 = 1,
    ``log X`` gives l0 = 1, a decision v gives k_v = 1, and anything free of X and the decisions is a constant
    prefactor (dropped). Anything else (a sum, ``exp``, a log of a decision) raises :class:`BalanceError`.
    """
    index = {v: j for j, v in enumerate(decisions)}
    watched = {variable, *decisions}
    log_x = sp.log(variable)

    def walk(node):
        if not (node.free_symbols & watched):
            return [sp.S.Zero] * len(decisions), sp.S.Zero, sp.S.Zero
        if node == variable:
            return [sp.S.Zero] * len(decisions), sp.S.One, sp.S.Zero
        if node == log_x:
            return [sp.S.Zero] * len(decisions), sp.S.Zero, sp.S.One
        if node in index:
            k = [sp.S.Zero] * len(decisions)
            k[index[node]] = sp.S.One
            return k, sp.S.Zero, sp.S.Zero
        if node.is_Mul:
            parts = [walk(arg) for arg in node.args]
            return ([sum((p[0][j] for p in parts), sp.S.Zero) for j in range(len(decisions))],
                    sum((p[1] for p in parts), sp.S.Zero), sum((p[2] for p in parts), sp.S.Zero))
        if node.is_Pow and not (node.exp.free_symbols & watched):
            k, e0, l0 = walk(node.base)
            return [node.exp * kj for kj in k], node.exp * e0, node.exp * l0
        raise BalanceError(f"term {expr} is not a monomial in {variable}, log {variable} and the decisions "
                           f"(offending part: {node})")

    k, e0, l0 = walk(sp.sympify(expr))
    return tuple(sp.expand(kj) for kj in k), sp.expand(e0), sp.expand(l0)


def _branches(terms: Mapping[str, sp.Expr]) -> list[tuple[tuple[str, ...], dict[str, sp.Expr]]]:
    """Expand every ``Min`` (each term may hold several) into the product of its alternatives."""
    mins = sorted({m for expr in terms.values() for m in sp.sympify(expr).atoms(sp.Min)}, key=sp.default_sort_key)
    if not mins:
        return [((), dict(terms))]
    out = []
    for choice in itertools.product(*(m.args for m in mins)):
        mapping = dict(zip(mins, choice))
        chosen = {label: sp.sympify(expr).subs(mapping) for label, expr in terms.items()}
        out.append((tuple(f"min{{{sp.sstr(m.args)[1:-1]}}} = {sp.sstr(c)}" for m, c in mapping.items()), chosen))
    return out


# ---------------------------------------------------------------------------------------------------
# the numeric LPs (one branch, one point)
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _NumericSolution:
    z: float
    w: float
    g: tuple[float, ...]  # a point of the optimal face (average of its extreme points)
    h: tuple[float | None, ...]  # None: not pinned at second order
    ranges: tuple[tuple[float, float], ...]  # per decision, first-order range on the optimal face
    active: tuple[int, ...]
    active_constraints: tuple[int, ...]
    log_active: tuple[int, ...]
    log_active_constraints: tuple[int, ...]
    ends: dict  # (decision index, "lower"/"upper") -> (g vertex, active, active_constraints)


def _linprog(c, A, b, n):
    from scipy.optimize import linprog  # lazy: theory stays cheap to import

    res = linprog(c, A_ub=A or None, b_ub=b or None, bounds=[(-_BIG, _BIG)] * n, method="highs")
    if res.status != 0:
        raise BalanceError(f"linear program failed: {res.message}")
    return res


def _unique_optimum(res, A) -> bool:
    """True if the LP optimum ``res.x`` is unique (so no range LPs are needed).

    Every optimal point satisfies complementary slackness with the dual solution found: constraints with a
    non-zero multiplier are tight at *every* optimum. If those rows have full column rank, the optimum is a
    single point. (Sufficient, not necessary: otherwise the caller measures the optimal face.)
    """
    import numpy as np

    if np.any(np.abs(res.lower.marginals) > 1e-9) or np.any(np.abs(res.upper.marginals) > 1e-9):
        return False  # an artificial ±_BIG box is binding: unbounded direction
    strong = [row for row, m in zip(A, res.ineqlin.marginals) if abs(m) > 1e-9]
    return bool(strong) and np.linalg.matrix_rank(np.array(strong, dtype=float), tol=1e-9) == len(res.x)


def _face(A_face, b_face, n, start, unique):
    """Per-decision ranges over the optimal face and its extreme points (2n LPs unless ``unique``)."""
    if unique:
        x = list(start[:n])
        return [(v, v) for v in x], [x], {(j, end): x for j in range(n) for end in ("lower", "upper")}
    ranges, vertices, ends = [], [], {}
    for j in range(n):
        lo_hi = []
        for sign, end in ((1.0, "lower"), (-1.0, "upper")):
            c = [0.0] * n
            c[j] = sign
            r = _linprog(c, A_face, b_face, n)
            vertices.append(list(r.x))
            lo_hi.append(r.x[j])
            ends[(j, end)] = list(r.x)
        ranges.append((lo_hi[0], lo_hi[1]))
    return ranges, vertices, ends


def _numeric(terms, constraints, point, n) -> _NumericSolution:
    """Solve both LPs of one branch at a numeric point of the model exponents."""
    tv = [([float(k.xreplace(point)) for k in m.k], float(m.e0.xreplace(point)), float(m.l0.xreplace(point))) for m in terms]
    cv = [([float(k.xreplace(point)) for k in m.k], float(m.e0.xreplace(point)), float(m.l0.xreplace(point))) for m in constraints]
    # first order: min z s.t. k_i·g + e0_i ≤ z, k_c·g + e0_c ≤ 0; variables (g, z)
    A = [k + [-1.0] for k, _, _ in tv] + [k + [0.0] for k, _, _ in cv]
    bvec = [-e0 for _, e0, _ in tv] + [-e0 for _, e0, _ in cv]
    res = _linprog([0.0] * n + [1.0], A, bvec, n + 1)
    z = res.fun
    if z < -_BIG / 10:
        raise BalanceError("the balance is unbounded below: some decision can shrink every term at once")
    # the optimal face: every term ≤ z* (+tol); its extreme points per decision
    A_face = [k for k, _, _ in tv] + [k for k, _, _ in cv]
    b_face = [z - e0 + _ACTIVE_TOL for _, e0, _ in tv] + [-e0 + _ACTIVE_TOL for _, e0, _ in cv]
    ranges, vertices, ends = _face(A_face, b_face, n, res.x, _unique_optimum(res, A))
    g = [sum(v[j] for v in vertices) / len(vertices) for j in range(n)]
    act = tuple(i for i, (k, e0, _) in enumerate(tv) if sum(a * x for a, x in zip(k, g)) + e0 >= z - 10 * _ACTIVE_TOL)
    act_c = tuple(i for i, (k, e0, _) in enumerate(cv) if sum(a * x for a, x in zip(k, g)) + e0 >= -10 * _ACTIVE_TOL)
    # second order on the active terms: min w s.t. k_i·h + l0_i ≤ w (i active), k_c·h + l0_c ≤ 0 (c active)
    A2 = [tv[i][0] + [-1.0] for i in act] + [cv[c][0] + [0.0] for c in act_c]
    b2 = [-tv[i][2] for i in act] + [-cv[c][2] for c in act_c]
    res2 = _linprog([0.0] * n + [1.0], A2, b2, n + 1)
    w = res2.fun
    if w < -_BIG / 10:
        raise BalanceError("the second-order (log) balance is unbounded below")
    A2f = [tv[i][0] for i in act] + [cv[c][0] for c in act_c]
    b2f = [w - tv[i][2] + _ACTIVE_TOL for i in act] + [-cv[c][2] + _ACTIVE_TOL for c in act_c]
    hranges, hverts, _ = _face(A2f, b2f, n, res2.x, _unique_optimum(res2, A2))
    h = tuple(0.5 * (lo + hi) if hi - lo < 1e-5 and ranges[j][1] - ranges[j][0] < 1e-5 else None
              for j, (lo, hi) in enumerate(hranges))
    hc = [sum(v[j] for v in hverts) / len(hverts) for j in range(n)]
    log_act = tuple(i for i in act if sum(a * x for a, x in zip(tv[i][0], hc)) + tv[i][2] >= w - 10 * _ACTIVE_TOL)
    log_act_c = tuple(c for c in act_c if sum(a * x for a, x in zip(cv[c][0], hc)) + cv[c][2] >= -10 * _ACTIVE_TOL)
    return _NumericSolution(z, w, tuple(g), h, tuple(ranges), act, act_c, log_act, log_act_c, ends)


# ---------------------------------------------------------------------------------------------------
# symbolic solution of an active set
# ---------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _tidy(expr: sp.Expr) -> sp.Expr:
    return sp.factor(sp.cancel(sp.together(expr)))


def _solve_active(terms, constraints, active, active_c, n, level, fixed_g=None):
    """Solve the active balance equations for (x_1..x_n, z): x = g (level 1) or h (level 2, z = w)."""
    xs = sp.symbols(f"x0:{n}")
    z = sp.Symbol("zeta")
    eqs = []
    for i in active:
        m = terms[i]
        offset = m.e0 if level == 1 else m.l0
        eqs.append(sum(k * x for k, x in zip(m.k, xs)) + offset - z)
    for c in active_c:
        m = constraints[c]
        offset = m.e0 if level == 1 else m.l0
        eqs.append(sum(k * x for k, x in zip(m.k, xs)) + offset)
    sol = sp.linsolve(eqs, [*xs, z])
    if sol == sp.EmptySet or not sol:
        raise BalanceError(f"the active balance equations (level {level}) have no symbolic solution: {eqs}")
    (values,) = list(sol)
    values = [_tidy(v) for v in values]
    free = set(xs) | {z}
    pinned = {j: values[j] for j in range(n) if not (values[j].free_symbols & free)}
    zval = values[n]
    if zval.free_symbols & free:
        raise BalanceError(f"level-{level} rate not pinned by the active equations: {zval}")
    return zval, pinned


def _holds_on_domain(condition: sp.Basic) -> bool:
    """True if SymPy proves ``expr > 0`` (or ``≥ 0``) on the whole domain (β > 1, a > 1, b > 1, s > 0)."""
    expr = sp.factor(condition.lhs.subs(P.excess_substitution()))
    return bool(expr.is_positive) or (isinstance(condition, sp.GreaterThan) and bool(expr.is_nonnegative))


def _dual_conditions(terms, constraints, active, active_c, n) -> list[sp.Basic]:
    """LP multipliers of the active set: Σ μ_i k_i + Σ ν_c k_c = 0, Σ μ_i = 1; conditions μ, ν ≥ 0."""
    mus = sp.symbols(f"mu0:{len(active)}")
    nus = sp.symbols(f"nu0:{len(active_c)}")
    eqs = [sum(mu * terms[i].k[j] for mu, i in zip(mus, active)) + sum(nu * constraints[c].k[j] for nu, c in zip(nus, active_c)) for j in range(n)]
    eqs.append(sum(mus) - 1)
    sol = sp.linsolve(eqs, [*mus, *nus])
    if not sol or sol == sp.EmptySet:
        return []
    (values,) = list(sol)
    unknowns = set(mus) | set(nus)
    return [sp.Ge(_tidy(v), 0) for v in values if not (v.free_symbols & unknowns) and not v.is_number]


# ---------------------------------------------------------------------------------------------------
# regime sampling
# ---------------------------------------------------------------------------------------------------
def regime_points(sample: Mapping[sp.Symbol, float], regime: sp.Basic = sp.true, count: int = 3, seed: int = 0, spread: float = 0.35) -> list[dict[sp.Symbol, float]]:
    """``count`` random points near ``sample`` (log-uniform factors e^{±spread}) inside the regime and domains."""
    rng = random.Random(seed)
    names = {sym: str(sym) for sym in sample}
    points: list[dict[sp.Symbol, float]] = []
    for _ in range(400 * max(count, 1)):
        if len(points) >= count:
            break
        candidate = {sym: val * math.exp(rng.uniform(-spread, spread)) for sym, val in sample.items()}
        if any(names[sym] in P.DOMAINS and not P.DOMAINS[names[sym]].contains(val) for sym, val in candidate.items()):
            continue
        if regime is not sp.true and not bool(sp.sympify(regime).subs(candidate)):
            continue
        points.append(candidate)
    if len(points) < count:
        raise BalanceError(f"could not sample {count} points of the regime {regime} near {dict(sample)}")
    return points


# ---------------------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _BranchSolution:
    branch: tuple[str, ...]
    terms: tuple[_Monomial, ...]
    numeric: _NumericSolution


def _parse(labelled, variable, decisions):
    return tuple(_Monomial(label, *log_monomial(expr, variable, decisions)) for label, expr in labelled.items())


def _key(sol: _NumericSolution):
    return (round(sol.z, 6), round(sol.w, 6))


def balance(
    terms: Mapping[str, sp.Expr],
    variable: sp.Symbol,
    decisions: Sequence[sp.Symbol],
    sample: Mapping[sp.Symbol, float],
    constraints: Mapping[str, sp.Expr] | None = None,
    regime: sp.Basic = sp.true,
    verify: int = 2,
    seed: int = 0,
    valley_ends: Sequence[sp.Symbol] | None = None,
) -> Balance:
    """Asymptotic minimum of ``Σ terms`` over ``decisions`` as ``variable → ∞`` (see the module docstring).

    Args:
        terms: label → positive monomial (powers of X, log X, decisions, constants); ``Min(·,·)`` allowed.
        variable: the large variable X.
        decisions: the symbols optimised over; each is parametrised as X^g (log X)^h.
        sample: a numeric point of the model exponents inside the regime (every symbol in an exponent).
        constraints: label → monomial that must stay ≲ 1 (e.g. ``gamma`` for γ ≲ 1, ``M/C`` for M ≤ C).
        regime: SymPy condition on the model exponents where the answer is claimed; verification samples it.
        verify: number of random regime points where the symbolic answer is checked against the LPs.
        seed: seed of the regime sampler.
        valley_ends: decisions whose valley ends are solved symbolically (``None``: all; others get a
            :class:`Valley` with ``None`` ends, which saves time when only the rate matters).

    Raises:
        BalanceError: unbounded/ill-posed balance, or the symbolic answer disagrees with the numeric LP.
    """
    decisions = tuple(decisions)
    n = len(decisions)
    constraints = dict(constraints or {})
    sample = {sym: float(v) for sym, v in sample.items()}
    if regime is not sp.true and not bool(sp.sympify(regime).subs(sample)):
        raise BalanceError(f"the sample point {sample} is outside the regime {regime}")
    cons = _parse(constraints, variable, decisions)
    exponent_symbols = {s for m in cons for e in (*m.k, m.e0, m.l0) for s in e.free_symbols}

    # --- every Min branch, numerically, at the sample point -----------------------------------------
    solved: list[_BranchSolution] = []
    for branch, chosen in _branches(terms):
        parsed = _parse(chosen, variable, decisions)
        exponent_symbols |= {s for m in parsed for e in (*m.k, m.e0, m.l0) for s in e.free_symbols}
        missing = exponent_symbols - set(sample)
        if missing:
            raise BalanceError(f"the sample point lacks values for {sorted(map(str, missing))}")
        solved.append(_BranchSolution(branch, parsed, _numeric(parsed, cons, sample, n)))
    best_key = min(_key(b.numeric) for b in solved)
    tied = [b for b in solved if _key(b.numeric) == best_key]
    # among ties prefer the branch that pins the most decisions (a unique optimum is the informative one)
    best = min(tied, key=lambda b: sum(h is None for h in b.numeric.h))
    num = best.numeric
    terms_b = best.terms

    # --- symbolic first and second order -------------------------------------------------------------
    rate, g_sym = _solve_active(terms_b, cons, num.active, num.active_constraints, n, level=1)
    for j in range(n):
        lo, hi = num.ranges[j]
        if hi - lo < 1e-5 and j not in g_sym:  # the LP pins it, the active equations must too
            raise BalanceError(f"{decisions[j]} is pinned numerically ({lo:.6g}) but not by the active equations "
                               f"{[terms_b[i].label for i in num.active]} + {[cons[c].label for c in num.active_constraints]}")
    exponents = {decisions[j]: g_sym[j] for j in range(n) if num.h[j] is not None and j in g_sym}
    # second order: the k_i are the same expressions; only log offsets change
    log_power, h_sym = _solve_active(terms_b, cons, num.log_active, num.log_active_constraints, n, level=2)
    log_powers = {decisions[j]: h_sym[j] for j in range(n) if decisions[j] in exponents and j in h_sym}
    for v in list(exponents):
        if v not in log_powers:  # exponent pinned but log power free: treat as a valley of the log factor
            exponents.pop(v)

    # --- the optimal set is the union of the tied branches' faces (module docstring) -------------------
    union = _union_faces([b.numeric for b in tied], num, n)
    for j, v in enumerate(decisions):
        if v in exponents and not union[j].pinned:  # another tied branch moves it: a valley, not a value
            exponents.pop(v)
            log_powers.pop(v, None)

    # --- valleys: ends of each free decision, each solved symbolically at its extreme vertex -----------
    valleys: dict[sp.Symbol, Valley] = {}
    for j, v in enumerate(decisions):
        if v in exponents:
            continue
        if valley_ends is not None and v not in valley_ends:
            valleys[v] = Valley(None, None)
            continue
        ends = {}
        for end in ("lower", "upper"):
            extreme = union[j].lower if end == "lower" else union[j].upper
            if abs(extreme) > _BIG / 10:
                ends[end] = (None, None)
                continue
            # every tied branch whose face reaches the extreme; keep the most extreme log power among them
            found = [_valley_end(b.terms, cons, sample, b.numeric, b.numeric.ends[(j, end)], j, n, log_power, end)
                     for b in tied if abs(b.numeric.ranges[j][0 if end == "lower" else 1] - extreme) < 1e-6]
            ends[end] = _most_extreme(found, sample, end)
        valleys[v] = Valley(ends["lower"][0], ends["upper"][0], ends["lower"][1], ends["upper"][1])

    # --- derived conditions (regime of validity of this active set) -----------------------------------
    g_all = {j: g_sym[j] for j in g_sym}
    conditions: list[sp.Basic] = []
    for i, m in enumerate(terms_b):
        if i in num.active or any(m.k[j] != 0 and j not in g_all for j in range(n)):
            continue
        gap = _tidy(rate - (sum(m.k[j] * g_all[j] for j in range(n) if m.k[j] != 0) + m.e0))
        if not gap.is_number:
            conditions.append(sp.Gt(gap, 0))
    for c, m in enumerate(cons):
        if c in num.active_constraints or any(m.k[j] != 0 and j not in g_all for j in range(n)):
            continue
        slack = _tidy(-(sum(m.k[j] * g_all[j] for j in range(n) if m.k[j] != 0) + m.e0))
        if not slack.is_number:
            conditions.append(sp.Gt(slack, 0))
    conditions += _dual_conditions(terms_b, cons, num.active, num.active_constraints, n)
    conditions = [c for c in conditions if c is not sp.true and not _holds_on_domain(c)]
    if any(c is sp.false for c in conditions):
        raise BalanceError(f"the active set {num.active} is never optimal (a derived condition is False)")

    result = Balance(
        variable=variable,
        rate=rate,
        log_power=log_power,
        exponents=exponents,
        log_powers=log_powers,
        valleys=valleys,
        active=tuple(terms_b[i].label for i in num.active),
        log_active=tuple(terms_b[i].label for i in num.log_active),
        active_constraints=tuple(cons[c].label for c in num.active_constraints),
        branch=best.branch,
        tied_branches=tuple(b.branch for b in tied if b is not best),
        conditions=tuple(conditions),
        terms={label: sp.sympify(expr) for label, expr in terms.items()},
        decisions=decisions,
        constraints={label: sp.sympify(expr) for label, expr in constraints.items()},
    )
    points = regime_points(sample, regime, verify, seed) if verify else []
    for point in points:
        _verify(result, best, solved, cons, decisions, point, n)
    return dataclasses.replace(result, verified_points=tuple(points))


@dataclass(frozen=True)
class _UnionRange:
    """One decision over the union of the tied branches' optimal faces."""

    lower: float
    upper: float
    pinned: bool  # every tied branch pins it at the same exponent and log power


def _union_faces(tied: Sequence[_NumericSolution], best: _NumericSolution, n: int) -> list[_UnionRange]:
    """Per decision: the range of its exponent over the union of the tied faces, and whether it is pinned."""
    out = []
    for j in range(n):
        lower = min(sol.ranges[j][0] for sol in tied)
        upper = max(sol.ranges[j][1] for sol in tied)
        pinned = (upper - lower < 1e-5 and best.h[j] is not None
                  and all(sol.h[j] is not None and abs(sol.h[j] - best.h[j]) < 1e-5 for sol in tied))
        out.append(_UnionRange(lower, upper, pinned))
    return out


def _most_extreme(found, sample, end):
    """Among (exponent, log power) candidates of one valley end, the lowest (``end='lower'``) or highest one.

    Candidates share the extreme exponent (up to the LP tolerance); the log power decides (lexicographic order
    of X^g (log X)^h). A candidate whose exponent could not be solved symbolically is dropped.
    """
    usable = [(g, h) for g, h in found if g is not None]
    if not usable:
        return (None, None)
    sign = 1.0 if end == "lower" else -1.0

    def key(item):
        g, h = item
        h_value = float(h.xreplace(sample)) if h is not None else sign * math.inf  # unknown log power: last
        return (sign * float(g.xreplace(sample)), sign * h_value)

    return min(usable, key=key)


def _valley_end(terms, cons, sample, num, gv, j, n, log_power, end):
    """Symbolic exponent (and log power) of decision j at one end (``"lower"``/``"upper"``) of its valley,
    at the vertex ``gv`` of one branch's optimal face (``num``)."""
    tv = [(float(sum(k.xreplace(sample) * x for k, x in zip(m.k, gv)) + m.e0.xreplace(sample))) for m in terms]
    cv = [(float(sum(k.xreplace(sample) * x for k, x in zip(m.k, gv)) + m.e0.xreplace(sample))) for m in cons]
    act = tuple(i for i, e in enumerate(tv) if e >= num.z - 10 * _ACTIVE_TOL)
    act_c = tuple(c for c, e in enumerate(cv) if e >= -10 * _ACTIVE_TOL)
    try:
        _, g_end = _solve_active(terms, cons, act, act_c, n, level=1)
    except BalanceError:
        return (None, None)
    g_value = g_end.get(j)
    # log power at this end: the extreme h_j keeping every active log power ≤ w*
    from scipy.optimize import linprog

    k_num = lambda m: [float(k.xreplace(sample)) for k in m.k]  # noqa: E731
    A = [k_num(terms[i]) for i in act] + [k_num(cons[c]) for c in act_c]
    b = [num.w - float(terms[i].l0.xreplace(sample)) + _ACTIVE_TOL for i in act] + [-float(cons[c].l0.xreplace(sample)) + _ACTIVE_TOL for c in act_c]
    is_lower = end == "lower"
    c = [0.0] * n
    c[j] = 1.0 if is_lower else -1.0
    res = linprog(c, A_ub=A or None, b_ub=b or None, bounds=[(-_BIG, _BIG)] * n, method="highs")
    if res.status != 0 or abs(res.x[j]) > _BIG / 10:
        return (g_value, None)
    hj = res.x[j]
    # symbolic: the tight log constraints at that h
    tight = tuple(i for i, row in zip(act, A[: len(act)]) if sum(a * x for a, x in zip(row, res.x)) + float(terms[i].l0.xreplace(sample)) >= num.w - 10 * _ACTIVE_TOL)
    tight_c = tuple(cc for cc, row in zip(act_c, A[len(act):]) if sum(a * x for a, x in zip(row, res.x)) + float(cons[cc].l0.xreplace(sample)) >= -10 * _ACTIVE_TOL)
    xs = sp.symbols(f"x0:{n}")
    eqs = [sum(k * x for k, x in zip(terms[i].k, xs)) + terms[i].l0 - log_power for i in tight]
    eqs += [sum(k * x for k, x in zip(cons[cc].k, xs)) + cons[cc].l0 for cc in tight_c]
    sol = sp.linsolve(eqs, xs) if eqs else sp.EmptySet
    h_value = None
    if sol and sol != sp.EmptySet:
        (vals,) = list(sol)
        cand = _tidy(vals[j])
        if not (cand.free_symbols & set(xs)) and abs(float(cand.xreplace(sample)) - hj) < 1e-5:
            h_value = cand
    return (g_value, h_value)


def _verify(result: Balance, best: _BranchSolution, solved, cons, decisions, point, n) -> None:
    """Recompute the branch LPs at ``point`` and compare with the symbolic answer; raise on mismatch."""

    def close(expr, number, tol=_VERIFY_TOL):
        return abs(float(expr.xreplace(point)) - number) <= tol * max(1.0, abs(number))

    here = _numeric(best.terms, cons, point, n)
    problems = []
    if not close(result.rate, here.z):
        problems.append(f"rate {result.rate} = {float(result.rate.xreplace(point)):.6g} vs LP {here.z:.6g}")
    if not close(result.log_power, here.w):
        problems.append(f"log power {result.log_power} = {float(result.log_power.xreplace(point)):.6g} vs LP {here.w:.6g}")
    others = [_numeric(b.terms, cons, point, n) for b in solved if b is not best]
    # the optimal set here: the union of the faces of the branches tied with the best one at this point
    tied_here = [here] + [o for o in others if abs(o.z - here.z) <= 1e-6 and abs(o.w - here.w) <= 1e-6]
    union = _union_faces(tied_here, here, n)
    for j, v in enumerate(decisions):
        lo, hi = union[j].lower, union[j].upper
        if v in result.exponents:
            if not union[j].pinned or not close(result.exponents[v], 0.5 * (lo + hi)):
                problems.append(f"exponent of {v}: {result.exponents[v]} vs LP range [{lo:.6g}, {hi:.6g}] "
                                f"over {len(tied_here)} tied branch(es)")
            elif not close(result.log_powers[v], here.h[j]):
                problems.append(f"log power of {v}: {result.log_powers[v]} vs LP {here.h[j]}")
        elif v in result.valleys:
            valley = result.valleys[v]
            for end, number in (("lower", lo), ("upper", hi)):
                expr = getattr(valley, end)
                if expr is not None and not close(expr, number, _VALLEY_TOL):
                    problems.append(f"valley {end} end of {v}: {expr} vs LP {number:.6g}")
    for other in others:
        if other.z < here.z - 1e-6 or (abs(other.z - here.z) <= 1e-6 and other.w < here.w - 1e-6):
            problems.append(f"another Min branch is better here: (z, w) = ({other.z:.6g}, {other.w:.6g})")
    for cond in result.conditions:
        if not bool(cond.subs(point)):
            problems.append(f"derived condition {cond} fails")
    if problems:
        shown = {str(k): round(v, 6) for k, v in point.items()}
        raise BalanceError(f"symbolic balance disagrees with the LP at {shown}: " + "; ".join(problems))
