"""Claims and sanity checks (lrwb.experiments.claims): the tolerance rules, the verdict recomputed from the
numbers, the dict form a manifest stores and its validation."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from lrwb.experiments.claims import EXPONENT_TOLERANCE, Claim, SanityCheck, claims_markdown


def test_claim_constructors_and_nan_guard():
    assert Claim.within("e", "c", 0.5, 0.54, 0.05).passed
    assert not Claim.within("e", "c", 0.5, 0.56, 0.05).passed
    assert Claim.relative("e", "c", 2.0, 2.09, 0.05).passed and not Claim.relative("e", "c", 2.0, 2.11, 0.05).passed
    assert Claim.at_most("e", "c", 1.0, 0.99).passed and not Claim.at_least("e", "c", 1.0, 0.99).passed
    with pytest.raises(ValueError, match="nan"):
        Claim.within("e", "c", 0.5, float("nan"), 0.05)
    c = Claim.within("e", "c", 0.5, 0.52, 0.05, note="n")
    assert Claim.from_dict(json.loads(json.dumps(c.as_dict()))) == c
    assert "| e | c | 0.5 | 0.52 | ±0.05 | pass |" in claims_markdown([c])


def test_verdict_is_computed_from_the_rule_not_stored():
    """An edited manifest cannot turn a miss into a pass: from_dict recomputes the verdict from the numbers."""
    miss = Claim.within("e", "c", 0.5, 0.60, 0.05)
    record = json.loads(json.dumps(miss.as_dict()))
    assert record["passed"] is False and record["kind"] == "within" and record["tol"] == 0.05
    record["passed"] = True
    assert not Claim.from_dict(record).passed
    record["measured"] = 0.53  # the numbers decide: |0.53 − 0.5| ≤ 0.05
    assert Claim.from_dict(record).passed
    # the dataclass has no verdict field to set
    assert "passed" not in Claim.__dataclass_fields__


@pytest.mark.parametrize("change, message", [
    ({"verdict": "pass"}, "unknown keys"),
    ({"kind": "roughly"}, "kind"),
    ({"derived": "0.5"}, "expected a real number"),
    ({"measured": True}, "expected a real number"),
    ({"tol": -0.1}, "≥ 0"),
    ({"claim": 3}, "expected a string"),
    ({"category": "vibe"}, "category"),
    ({"is_exponent": "yes"}, "true or false"),
    ({"kind": "at_most"}, "one-sided"),  # at_most with tol 0.05: the bound belongs in derived
])
def test_from_dict_rejects_bad_records(change, message):
    record = {**Claim.within("e", "c", 0.5, 0.52, 0.05).as_dict(), **change}
    with pytest.raises(ValueError, match=message):
        Claim.from_dict(record)


def test_from_dict_needs_the_rule():
    record = Claim.within("e", "c", 0.5, 0.52, 0.05).as_dict()
    with pytest.raises(ValueError, match="lacks"):
        Claim.from_dict({k: v for k, v in record.items() if k != "tol"})


def test_exponent_claims_follow_one_tolerance_rule():
    # conventions.md: ±0.05 on exponents; 0.549 vs 0.5 passes, 0.551 fails.
    assert Claim.exponent("e", "ζ", 0.5, 0.549).passed and not Claim.exponent("e", "ζ", 0.5, 0.551).passed
    assert Claim.exponent("e", "ζ", 0.5, 0.55).tol == EXPONENT_TOLERANCE
    # A wider band only with a stated, measured finite-size correction: tol = 0.05 + correction.
    widened = Claim.exponent("e", "ζ", 0.5, 0.57, correction=0.03, note="local slopes vs 1/log T: drift 0.03")
    assert widened.passed and widened.tol == pytest.approx(0.08)
    with pytest.raises(ValueError, match="how it was measured"):
        Claim.exponent("e", "ζ", 0.5, 0.57, correction=0.03)
    record = Claim.exponent("e", "ζ", 0.5, 0.52).as_dict()
    with pytest.raises(ValueError, match="the rule is"):
        Claim.from_dict({**record, "tol": 0.1})  # an exponent claim cannot loosen its own band
    assert Claim.from_dict(record) == Claim.exponent("e", "ζ", 0.5, 0.52)


def test_sanity_checks_round_trip_as_their_own_category():
    s = SanityCheck.at_most("e", "optimum / feasible baseline", 1.0, 0.9, note="baseline is feasible")
    back = Claim.from_dict(json.loads(json.dumps(s.as_dict())))
    assert isinstance(back, SanityCheck) and back == s and back.is_sanity and back.as_dict()["category"] == "sanity"
    assert Claim.from_dict(asdict(s)) == s  # dataclasses.asdict carries the category as well
    assert type(Claim.from_dict(Claim.at_most("e", "c", 1.0, 0.9).as_dict())) is Claim
    with pytest.raises(ValueError, match="not an exponent claim"):
        SanityCheck("e", "c", 0.5, 0.5, "within", 0.05, is_exponent=True)
    table = claims_markdown([Claim.within("e", "c", 0.5, 0.52, 0.05), s])
    assert "| e | optimum / feasible baseline | 1 | 0.9 | ≤ 1 | ok | baseline is feasible |" in table
    assert table.index("Sanity checks") > table.index("| e | c |")
