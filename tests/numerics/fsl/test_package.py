"""The package's public API: ``__all__`` re-exports exactly the public names of its modules, lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import lrwb.numerics.fsl as package


def test_all_is_the_union_of_the_modules_all():
    expected = []
    for module in package._EXPORTS:
        expected += importlib.import_module(f"lrwb.numerics.fsl.{module}").__all__
    assert package.__all__ == expected and len(set(expected)) == len(expected)


def test_every_exported_name_is_the_modules_object():
    for module, names in package._EXPORTS.items():
        source = importlib.import_module(f"lrwb.numerics.fsl.{module}")
        for name in names:
            assert getattr(package, name) is getattr(source, name), name
    assert set(package.__all__) <= set(dir(package))


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        package.no_such_name  # noqa: B018


def test_importing_the_package_imports_no_module_of_it():
    code = ("import sys, lrwb.numerics.fsl; "
            "print(sorted(m for m in sys.modules if m.startswith('lrwb.numerics.fsl.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_package_docstring_carries_an_example():  # tests/test_doctests.py runs it
    assert ">>>" in package.__doc__
