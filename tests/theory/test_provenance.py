"""Provenance of every registered result (issue 12 §1): a "corrected" verdict says what it corrects, and a
formula the papers do not print is cited as derived here, never as the paper's."""

import re

import pytest

from lrwb.theory.results import derived_here, registry


def test_formulas_reconstructed_in_the_spec_are_cited_as_derived_here():
    for result in registry():
        if "[derived" in result.source:  # the spec's mark: reconstructed by derivation, not read in a paper
            assert result.source.startswith("derived here (from "), (result.name, result.source)


def test_results_the_papers_do_not_state_cite_no_paper_as_their_source():
    for result in registry():
        if result.verdict.startswith("derived") or "not in the spec" in result.verdict:
            assert result.source.startswith("derived here"), (result.name, result.source)


def test_corrected_verdicts_name_what_they_correct():
    where = re.compile(r"^corrected \([^)]*(plrf\.md|fsl\.md) §\d")
    corrected = [r for r in registry() if r.verdict.startswith("corrected")]
    assert corrected  # the registry corrects the spec in several places (fsl.md §3 allocations, momentum)
    for result in corrected:
        assert where.match(result.verdict), (result.name, result.verdict)


def test_derived_here_moves_the_spec_part_first():
    assert derived_here("Paper, Fig. 4; plrf.md §4 [derived]") == \
        "derived here (from plrf.md §4 [derived]; compare Paper, Fig. 4)"
    with pytest.raises(ValueError, match="no \\[derived\\] part"):
        derived_here("Paper, Table 1")
