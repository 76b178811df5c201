"""Resource guards: memory sizes, the limit and its override, the error that names size and limit."""

from __future__ import annotations


import pytest

from lrwb.numerics import resources


@pytest.mark.parametrize("n, text", [(512, "512 B"), (2048, "2 KiB"), (3 * 2**30, "3 GiB"), (1.5 * 2**40, "1.5 TiB")])
def test_format_bytes(n, text):
    assert resources.format_bytes(n) == text


@pytest.mark.parametrize("text", ["x", "0", "-1", "nan", "inf"])
def test_parse_gib_rejects_non_sizes(text):
    with pytest.raises(ValueError, match="MEM"):
        resources.parse_gib(text, "MEM")


def test_check_memory_names_estimate_limit_and_source():
    with resources.memory_limit_override(1.0):
        assert resources.memory_limit() == (2**30, "--max-memory")
        resources.check_memory(2**29, "half a GiB")
        with pytest.raises(resources.ResourceError, match=r"2 GiB of memory, above the limit of 1 GiB \(--max-memory\)"):
            resources.check_memory(2 * 2**30, "two GiB")
        with pytest.raises(resources.ResourceError):  # an overflowed estimate is refused, never let through
            resources.check_memory(float("inf"), "inf")


def test_entry_points_carry_a_docstring_example():
    """Each public factory / entry point shows its use; tests/test_doctests.py runs every example."""
    import importlib

    module = importlib.import_module("lrwb.numerics.resources")
    for name in ("format_bytes",):
        assert ">>>" in (getattr(module, name).__doc__ or ""), name
