"""The docstring examples of lrwb.numerics.control (package and modules) run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["lrwb.numerics.control", "lrwb.numerics.control.adjoint", "lrwb.numerics.control.lr",
           "lrwb.numerics.control.baselines", "lrwb.numerics.control.momentum", "lrwb.numerics.control.batch"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
