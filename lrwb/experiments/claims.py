"""One checked claim of a paper: what the theory derives, what the numerics measure, the rule, the verdict.

Every experiment's result exposes ``claims`` (a tuple of :class:`Claim` and :class:`SanityCheck`); ``lrwb
reproduce`` collects them into the report. The verdict is never stored: it is computed from ``derived``,
``measured`` and a machine-readable rule (``kind``, ``tol``), so a record read back from a manifest (even an
edited one) gets the verdict its numbers earn. The rule kinds (``conventions.md``, Tolerances):

- ``within``:   |measured − derived| ≤ tol            (:meth:`Claim.within`; exponents: :meth:`Claim.exponent`)
- ``relative``: |measured − derived| ≤ tol · |derived| (:meth:`Claim.relative`: FSL vs exact 5%, margins)
- ``at_most``:  measured ≤ derived                    (:meth:`Claim.at_most`: residuals, bounds; tol = 0)
- ``at_least``: measured ≥ derived                    (:meth:`Claim.at_least`; tol = 0)

Two categories:

- a **claim** compares a value derived in ``theory/`` (or a paper's printed number) with an independent
  measurement; claims are counted (passed / failed) in the report. Fitted exponents follow one rule: ±0.05
  (:data:`EXPONENT_TOLERANCE`), widened only by a stated, measured finite-size correction
  (``Claim.exponent(..., correction=c)``: tol = 0.05 + c, and the note must say how c was measured);
- a **sanity check** (:class:`SanityCheck`, same rules) holds by construction or has no independent derived
  value (a feasible baseline the optimiser could return, an identity of the computation, an arbitrary
  threshold). A failing one points at a bug; it is shown in its own report section and not counted as a claim.

Dict form (:meth:`Claim.as_dict` / :meth:`Claim.to_dict`; :meth:`Claim.from_dict` inverts it and recomputes
the verdict). Keys and JSON types:

====================  =========  ==============================================================
key                   type       meaning
====================  =========  ==============================================================
``experiment``        str        registered experiment name (non-empty)
``claim``             str        what is claimed, short (non-empty)
``derived``           number     theory's value, or the bound of a one-sided rule (not NaN)
``measured``          number     the numerics' value (not NaN)
``kind``              str        ``within`` | ``relative`` | ``at_most`` | ``at_least``
``tol``               number     ≥ 0; 0 for the one-sided kinds
``is_exponent``       bool       a fitted exponent: tol = 0.05 + ``correction`` (claims only)
``correction``        number     ≥ 0, the measured finite-size correction (0 unless ``is_exponent``)
``category``          str        ``claim`` | ``sanity`` (selects the class on read-back)
``source``            str        paper and figure/equation/section
``note``              str        regime, horizon, how a correction was measured, ...
``tolerance``         str        output only: the rule as text (``±0.05``); ignored on input
``passed``            bool       output only: the verdict; ignored on input (recomputed)
====================  =========  ==============================================================

Unknown keys, missing required keys (``experiment`` … ``tol``) and wrong types raise :class:`ValueError`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

# conventions.md (Tolerances, pinned): fitted exponents vs derived ones, ±0.05 at CI horizons; declared once in
# lrwb.numerics.conventions, re-exported here for the experiments.
from lrwb.numerics.conventions import EXPONENT_TOLERANCE

__all__ = ["Claim", "SanityCheck", "claims_markdown", "sanity_markdown", "counted", "sanity_checks", "KINDS",
           "EXPONENT_TOLERANCE"]


#: the rule kinds a claim or sanity check can use
KINDS = ("within", "relative", "at_most", "at_least")
_ONE_SIDED = ("at_most", "at_least")
#: keys :meth:`Claim.as_dict` writes that are computed, not read back
_OUTPUT_KEYS = ("tolerance", "passed")


def _number(value, what: str) -> float:
    """A real number (int/float/NumPy scalar, not bool, not NaN) as float; else ValueError naming ``what``."""
    if isinstance(value, bool) or not hasattr(value, "__float__") or isinstance(value, (str, bytes)):
        raise ValueError(f"{what} = {value!r} ({type(value).__name__}): expected a real number")
    out = float(value)
    if math.isnan(out):
        # A NaN measurement is a failed computation, never a silent pass; the caller names it.
        raise ValueError(f"{what} = nan: a claim needs a number (check the experiment that produced it)")
    return out


@dataclass(frozen=True)
class Claim:
    """A paper's claim checked by one experiment; the verdict :attr:`passed` is computed from the rule.

    Attributes:
        experiment: the registered experiment name that checked it.
        claim: what is claimed, short (``"ζ_T optimal, easy (b=2)"``).
        derived: the value from ``theory/`` (or the paper's number), or the bound of a one-sided rule.
        measured: the value the numerics produced.
        kind: the rule, one of :data:`KINDS`.
        tol: the rule's tolerance (absolute for ``within``, a fraction for ``relative``, 0 for one-sided).
        is_exponent: a fitted exponent; then kind is ``within`` and tol = :data:`EXPONENT_TOLERANCE` + correction.
        correction: the measured finite-size correction that widens an exponent's band (stated in ``note``).
        source: the paper and figure/equation/section the claim comes from.
        note: anything a reader needs to judge the verdict (regime, horizon, how a correction was measured).
    """

    experiment: str
    claim: str
    derived: float
    measured: float
    kind: str
    tol: float = 0.0
    is_exponent: bool = False
    correction: float = 0.0
    source: str = ""
    note: str = ""
    #: ``claim`` (counted in the report) or ``sanity`` (:class:`SanityCheck`); set by the class, so that
    #: ``dataclasses.asdict`` carries it too
    category: str = field(default="claim", init=False)

    def __post_init__(self):
        for name in ("experiment", "claim", "kind", "source", "note"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} = {getattr(self, name)!r}: expected a string")
        if not self.experiment or not self.claim:
            raise ValueError(f"experiment = {self.experiment!r}, claim = {self.claim!r}: both must be non-empty")
        if self.kind not in KINDS:
            raise ValueError(f"kind = {self.kind!r} ({self.claim}): expected one of {', '.join(KINDS)}")
        if not isinstance(self.is_exponent, bool):
            raise ValueError(f"is_exponent = {self.is_exponent!r} ({self.claim}): expected true or false")
        object.__setattr__(self, "derived", _number(self.derived, f"{self.claim}: derived"))
        object.__setattr__(self, "measured", _number(self.measured, f"{self.claim}: measured"))
        tol = _number(self.tol, f"{self.claim}: tol")
        correction = _number(self.correction, f"{self.claim}: correction")
        if not (0.0 <= tol < math.inf) or not (0.0 <= correction < math.inf):
            raise ValueError(f"{self.claim}: tol = {tol!r}, correction = {correction!r}: both must be finite and ≥ 0")
        if self.kind in _ONE_SIDED and tol != 0.0:
            raise ValueError(f"{self.claim}: tol = {tol!r} with kind {self.kind!r}: a one-sided rule has tol = 0 "
                             "(put the bound in derived)")
        if self.is_exponent:
            if self.kind != "within":
                raise ValueError(f"{self.claim}: an exponent claim has kind 'within', got {self.kind!r}")
            if abs(tol - (EXPONENT_TOLERANCE + correction)) > 1e-12:
                raise ValueError(f"{self.claim}: exponent tol = {tol!r}; the rule is ±{EXPONENT_TOLERANCE} plus the "
                                 f"stated finite-size correction ({correction!r}) = {EXPONENT_TOLERANCE + correction!r}")
            if correction > 0 and not self.note.strip():
                raise ValueError(f"{self.claim}: a finite-size correction of {correction!r} needs a note saying how "
                                 "it was measured")
        elif correction != 0.0:
            raise ValueError(f"{self.claim}: correction = {correction!r} applies to exponent claims only")
        object.__setattr__(self, "tol", tol)
        object.__setattr__(self, "correction", correction)

    # -- constructors -------------------------------------------------------------------------------------
    @classmethod
    def within(cls, experiment: str, claim: str, derived: float, measured: float, tol: float, **kw) -> Claim:
        """Absolute rule |measured − derived| ≤ tol (not for fitted exponents: see :meth:`exponent`)."""
        return cls(experiment, claim, derived, measured, "within", tol, **kw)

    @classmethod
    def exponent(cls, experiment: str, claim: str, derived: float, measured: float, *, correction: float = 0.0,
                 **kw) -> Claim:
        """A fitted exponent: |measured − derived| ≤ 0.05 + correction, where ``correction`` is a measured
        finite-size correction stated in ``note`` (conventions.md: one rule for every exponent)."""
        return cls(experiment, claim, derived, measured, "within", EXPONENT_TOLERANCE + float(correction),
                   is_exponent=True, correction=correction, **kw)

    @classmethod
    def relative(cls, experiment: str, claim: str, derived: float, measured: float, tol: float, **kw) -> Claim:
        """Relative rule |measured − derived| ≤ tol·|derived|."""
        return cls(experiment, claim, derived, measured, "relative", tol, **kw)

    @classmethod
    def at_most(cls, experiment: str, claim: str, bound: float, measured: float, **kw) -> Claim:
        """One-sided rule measured ≤ bound (the bound is reported as the derived value)."""
        return cls(experiment, claim, bound, measured, "at_most", 0.0, **kw)

    @classmethod
    def at_least(cls, experiment: str, claim: str, bound: float, measured: float, **kw) -> Claim:
        """One-sided rule measured ≥ bound."""
        return cls(experiment, claim, bound, measured, "at_least", 0.0, **kw)

    # -- the verdict --------------------------------------------------------------------------------------
    @property
    def passed(self) -> bool:
        """The verdict of the rule on (derived, measured); computed on every access."""
        d, m = self.derived, self.measured
        if self.kind == "within":
            return abs(m - d) <= self.tol
        if self.kind == "relative":
            return abs(m - d) <= self.tol * abs(d)
        if self.kind == "at_most":
            return m <= d
        return m >= d

    @property
    def tolerance(self) -> str:
        """The rule as the report shows it (``±0.05``, ``±5%``, ``≤ 1e-06``, ``≥ 0.99``)."""
        if self.kind == "within":
            return f"±{self.tol:g}"
        if self.kind == "relative":
            return f"±{100 * self.tol:g}%"
        return f"{'≤' if self.kind == 'at_most' else '≥'} {self.derived:.4g}"

    @property
    def is_sanity(self) -> bool:
        return self.category == "sanity"

    # -- dict form ----------------------------------------------------------------------------------------
    def as_dict(self) -> dict:
        """Plain-JSON form for the reproduce cache and the report: the fields, ``category`` and the computed
        ``tolerance`` and ``passed`` (the module docstring lists the schema)."""
        return {**asdict(self), "tolerance": self.tolerance, "passed": self.passed}

    to_dict = as_dict

    @classmethod
    def from_dict(cls, record: dict) -> Claim:
        """Inverse of :meth:`as_dict`: a :class:`Claim` or :class:`SanityCheck` (by ``category``) with the
        verdict recomputed; ``tolerance`` and ``passed`` in ``record`` are ignored. Unknown keys, missing keys
        and wrong types raise ValueError (a stale or edited cache is recomputed, not guessed)."""
        if not isinstance(record, dict):
            raise ValueError(f"a claim record must be a dict, got {type(record).__name__}")
        names = [f.name for f in fields(Claim) if f.init]
        allowed = set(names) | {"category", *_OUTPUT_KEYS}
        unknown = sorted(set(record) - allowed)
        if unknown:
            raise ValueError(f"claim record has unknown keys {unknown}; allowed: {sorted(allowed)}")
        required = ("experiment", "claim", "derived", "measured", "kind", "tol")
        missing = [k for k in required if k not in record]
        if missing:
            raise ValueError(f"claim record lacks {missing} (required: {', '.join(required)})")
        category = record.get("category", "claim")
        target = {"claim": Claim, "sanity": SanityCheck}.get(category)
        if target is None:
            raise ValueError(f"category = {category!r}: expected 'claim' or 'sanity'")
        if cls is not Claim and target is not cls:
            raise ValueError(f"category = {category!r} cannot be read as a {cls.__name__}")
        return target(**{k: v for k, v in record.items() if k in names})


@dataclass(frozen=True)
class SanityCheck(Claim):
    """A check that holds by construction or has no independent derived value (same rules as :class:`Claim`).

    Reported in its own section and not counted among the claims; ``note`` should say why it is not a claim.
    """

    category: str = field(default="sanity", init=False)

    def __post_init__(self):
        super().__post_init__()
        if self.is_exponent:
            raise ValueError(f"{self.claim}: a sanity check is not an exponent claim (is_exponent = True)")


def counted(checks) -> tuple[Claim, ...]:
    """The claims among ``checks`` (what the report counts as passed/failed)."""
    return tuple(c for c in checks if not c.is_sanity)


def sanity_checks(checks) -> tuple[SanityCheck, ...]:
    """The sanity checks among ``checks``."""
    return tuple(c for c in checks if c.is_sanity)


def claims_markdown(claims) -> str:
    """A Markdown verdict table of the claims (claim, derived, measured, tolerance, verdict, source), then the
    sanity checks (reference, measured, rule, result) when there are any."""
    lines = ["| experiment | claim | derived | measured | tolerance | verdict | source |",
             "|---|---|---|---|---|---|---|"]
    for c in counted(claims):
        lines.append(f"| {c.experiment} | {c.claim} | {c.derived:.4g} | {c.measured:.4g} | {c.tolerance} | "
                     f"{'pass' if c.passed else 'FAIL'} | {c.source} |")
    sanity = sanity_markdown(claims)
    return "\n".join(lines) + (f"\n\nSanity checks (not counted):\n\n{sanity}" if sanity else "")


def sanity_markdown(checks) -> str:
    """A Markdown table of the sanity checks among ``checks`` ("" when none): reference, measured, rule,
    result, why it is not a claim."""
    rows = sanity_checks(checks)
    if not rows:
        return ""
    lines = ["| experiment | sanity check | reference | measured | rule | result | why not a claim |",
             "|---|---|---|---|---|---|---|"]
    for c in rows:
        lines.append(f"| {c.experiment} | {c.claim} | {c.derived:.4g} | {c.measured:.4g} | {c.tolerance} | "
                     f"{'ok' if c.passed else 'FAIL'} | {c.note} |")
    return "\n".join(lines)
