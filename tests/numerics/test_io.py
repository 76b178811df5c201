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


def test_save_figure_writes_png_and_pdf_and_closes(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from numerics.io import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    # A dotted name must keep its dot (with_suffix would have cut "v1.5" to "v1").
    paths = save_figure(fig, tmp_path / "fig_v1.5")
    assert [p.name for p in paths] == ["fig_v1.5.png", "fig_v1.5.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"
    assert not plt.fignum_exists(fig.number)
