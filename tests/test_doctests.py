"""The docstring examples of every ``lrwb`` module run, and pass (``doctest.testmod``, ELLIPSIS and
NORMALIZE_WHITESPACE): an example in the docs is a test, never a comment that can drift."""

from __future__ import annotations

import doctest
import importlib

import pytest

from tests.test_architecture import modules

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: Modules whose examples take long (none yet): marked slow, run with ``pytest -m slow``.
SLOW: set[str] = set()


@pytest.mark.parametrize("name", [pytest.param(m, marks=pytest.mark.slow) if m in SLOW else m
                                  for m in sorted(modules())])
def test_docstring_examples_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=OPTIONS, verbose=False, report=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed " \
                               f"(run: python -m pytest tests/test_doctests.py -k {name} -rA, or doctest.testmod)"


#: The public entry points a user starts with: each carries an example (so this file tests them).
ENTRY_POINTS = ["lrwb", "lrwb.theory", "lrwb.numerics", "lrwb.app", "lrwb.theory.results", "lrwb.theory.results.registry",
                "lrwb.theory.result.Result.evaluate", "lrwb.theory.result.Result.latex", "lrwb.experiments.names",
                "lrwb.experiments.run", "lrwb.app.reproduce.reproduce", "lrwb.app.reproduce.load"]


@pytest.mark.parametrize("dotted", ENTRY_POINTS)
def test_entry_points_have_examples(dotted):
    module_name, obj = dotted, None
    while module_name not in modules():
        module_name, _, attr = module_name.rpartition(".")
        obj = attr if obj is None else f"{attr}.{obj}"
    target = importlib.import_module(module_name)
    for attr in (obj.split(".") if obj else ()):
        target = getattr(target, attr)
    assert ">>>" in (target.__doc__ or ""), f"{dotted} has no docstring example"
