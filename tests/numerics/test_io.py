"""Atomic file output: all-or-nothing, and ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from numerics.io import atomic_write


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "out.csv"
    with atomic_write(target) as handle:
        handle.write("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("half-written")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"], "the temporary file must be removed"


def test_atomic_write_uses_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "f.txt") as handle:
            handle.write("x")
    finally:
        os.umask(old)
    # A plain open() would give 0644 under umask 022 (mkstemp alone gives 0600).
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644
