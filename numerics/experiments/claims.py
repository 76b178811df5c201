"""One checked claim of a paper: what the theory derives, what the numerics measure, the tolerance, the verdict.

Every experiment's result exposes ``claims`` (a tuple of :class:`Claim`); ``lrwb reproduce`` collects them
into the report's verdict table. Three constructors cover the verdict kinds the spec uses
(``conventions.md``, Tolerances):

- :meth:`Claim.within`:    |measured − derived| ≤ tol               (fitted exponents, ±0.05)
- :meth:`Claim.relative`:  |measured − derived| ≤ tol · |derived|   (FSL vs exact 5%, margins)
- :meth:`Claim.at_most`:   measured ≤ bound                         (residuals, ratios, "beats the baseline")

The tolerance is stored as text next to the numbers, so the report shows it beside every measured value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["Claim", "claims_markdown", "EXPONENT_TOLERANCE"]

#: conventions.md (Tolerances, pinned): fitted exponents vs derived ones, ±0.05 at CI horizons.
EXPONENT_TOLERANCE = 0.05


def _finite(value: float, what: str) -> float:
    value = float(value)
    if math.isnan(value):
        # A NaN measurement is a failed check, never a silent pass; the caller names it.
        raise ValueError(f"{what} = nan: a claim needs a number (check the experiment that produced it)")
    return value


@dataclass(frozen=True)
class Claim:
    """A paper's claim checked by one experiment.

    Attributes:
        experiment: the registered experiment name that checked it.
        claim: what is claimed, short (``"ζ_T optimal, easy (b=2)"``).
        derived: the value from ``theory/`` (or the paper's number when the claim is a reported value).
        measured: the value the numerics produced.
        tolerance: the rule, as shown in the report (``"±0.05"``, ``"≤ 5%"``, ``"≤ 1e-06"``).
        passed: the verdict.
        source: the paper and figure/equation/section the claim comes from.
        note: anything a reader needs to judge the verdict (regime, horizon, a known correction).
    """

    experiment: str
    claim: str
    derived: float
    measured: float
    tolerance: str
    passed: bool
    source: str = ""
    note: str = ""

    @classmethod
    def within(cls, experiment: str, claim: str, derived: float, measured: float, tol: float, **kw) -> Claim:
        """Absolute check |measured − derived| ≤ tol."""
        d, m = _finite(derived, f"{claim}: derived"), _finite(measured, f"{claim}: measured")
        return cls(experiment, claim, d, m, f"±{tol:g}", abs(m - d) <= tol, **kw)

    @classmethod
    def relative(cls, experiment: str, claim: str, derived: float, measured: float, tol: float, **kw) -> Claim:
        """Relative check |measured − derived| ≤ tol·|derived|."""
        d, m = _finite(derived, f"{claim}: derived"), _finite(measured, f"{claim}: measured")
        return cls(experiment, claim, d, m, f"±{100 * tol:g}%", abs(m - d) <= tol * abs(d), **kw)

    @classmethod
    def at_most(cls, experiment: str, claim: str, bound: float, measured: float, **kw) -> Claim:
        """One-sided check measured ≤ bound (the bound is reported as the derived value)."""
        b, m = _finite(bound, f"{claim}: bound"), _finite(measured, f"{claim}: measured")
        return cls(experiment, claim, b, m, f"≤ {b:.4g}", m <= b, **kw)

    @classmethod
    def at_least(cls, experiment: str, claim: str, bound: float, measured: float, **kw) -> Claim:
        """One-sided check measured ≥ bound."""
        b, m = _finite(bound, f"{claim}: bound"), _finite(measured, f"{claim}: measured")
        return cls(experiment, claim, b, m, f"≥ {b:.4g}", m >= b, **kw)

    def as_dict(self) -> dict:
        """Plain-JSON form (floats, strings, bool) for the reproduce cache and the report."""
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict) -> Claim:
        """Inverse of :meth:`as_dict` (unknown keys are an error: a stale cache is recomputed, not guessed)."""
        return cls(**record)


def claims_markdown(claims) -> str:
    """A Markdown verdict table: claim, derived, measured, tolerance, verdict, source."""
    lines = ["| experiment | claim | derived | measured | tolerance | verdict | source |",
             "|---|---|---|---|---|---|---|"]
    for c in claims:
        lines.append(f"| {c.experiment} | {c.claim} | {c.derived:.4g} | {c.measured:.4g} | {c.tolerance} | "
                     f"{'pass' if c.passed else 'FAIL'} | {c.source} |")
    return "\n".join(lines)
