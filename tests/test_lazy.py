"""lrwb.lazy: every package's API is listed, loaded on first use, and is exactly its modules' objects."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

#: packages that re-export their modules' ``__all__`` through lazy_exports: package -> its ``_EXPORTS`` table
REEXPORTING = ["lrwb.numerics.fsl", "lrwb.numerics.lawfit"]
#: every package built on lazy_exports, with a module it must NOT import when imported itself
LAZY = {"lrwb": "lrwb.theory", "lrwb.theory": "lrwb.theory.plrf", "lrwb.numerics": "lrwb.numerics.dynamics",
        "lrwb.app": "lrwb.app.cli", "lrwb.numerics.fsl": "lrwb.numerics.fsl.engine",
        "lrwb.numerics.lawfit": "lrwb.numerics.lawfit.laws"}


@pytest.mark.parametrize("name", REEXPORTING)
def test_all_is_the_union_of_the_modules_all(name):
    package = importlib.import_module(name)
    expected = []
    for module in package._EXPORTS:
        expected += importlib.import_module(f"{name}.{module}").__all__
    assert package.__all__ == expected and len(set(expected)) == len(expected)


@pytest.mark.parametrize("name", REEXPORTING)
def test_every_exported_name_is_the_modules_object(name):
    package = importlib.import_module(name)
    for module, names in package._EXPORTS.items():
        source = importlib.import_module(f"{name}.{module}")
        for export in names:
            assert getattr(package, export) is getattr(source, export), export
    assert set(package.__all__) <= set(dir(package))


@pytest.mark.parametrize("name", sorted(LAZY))
def test_every_listed_name_resolves_and_unknown_names_raise(name):
    package = importlib.import_module(name)
    for export in package.__all__:
        assert getattr(package, export) is not None, export
    with pytest.raises(AttributeError, match=rf"module '{name}' has no attribute 'no_such_name'; it exports"):
        package.no_such_name  # noqa: B018


@pytest.mark.parametrize("name, heavy", sorted(LAZY.items()))
def test_importing_the_package_imports_none_of_its_modules(name, heavy):
    code = f"import sys, {name}; print({heavy!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
