"""The public API of lrwb.numerics.analysis: its __all__ resolves and its docstring example runs."""

from __future__ import annotations

import doctest

import lrwb.numerics.analysis as analysis


def test_all_names_resolve():
    assert analysis.__all__ and all(hasattr(analysis, name) for name in analysis.__all__)
    assert analysis.local_slopes.__module__ == "lrwb.numerics.analysis.slopes"  # the one implementation


def test_package_doctest_runs():
    result = doctest.testmod(analysis)
    assert result.attempted > 0 and result.failed == 0
