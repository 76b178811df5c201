"""Atomic file output: all-or-nothing, and ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from lrwb.numerics.io import atomic_write


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

    from lrwb.numerics.io import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    # A dotted name must keep its dot (with_suffix would have cut "v1.5" to "v1").
    paths = save_figure(fig, tmp_path / "fig_v1.5")
    assert [p.name for p in paths] == ["fig_v1.5.png", "fig_v1.5.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"
    assert not plt.fignum_exists(fig.number)


def test_csv_cells_are_plain_numbers():
    """NumPy scalars are written as Python numbers (repr of float/int round-trips), never ``np.float64(…)``."""
    import numpy as np

    from lrwb.numerics.io import csv_cell

    assert csv_cell(np.float64(0.1)) == "0.1" and float(csv_cell(np.float64(1 / 3))) == 1 / 3
    assert csv_cell(np.int64(7)) == "7" and csv_cell(np.bool_(True)) == "True" and csv_cell(None) == ""
    assert csv_cell(np.float32(0.5)) == "0.5" and csv_cell(float("nan")) == "nan"
    with pytest.raises(ValueError, match="expected a number"):
        csv_cell(np.array([1.0, 2.0]))


def test_write_csv_round_trips_and_quotes_text(tmp_path):
    import csv

    import numpy as np

    from lrwb.numerics.io import write_csv

    values = np.linspace(0.0, 1.0, 7) ** 3  # floats with long reprs
    path = write_csv(tmp_path / "t.csv", ["name", "x", "n"], [("a,b", v, np.int64(i)) for i, v in enumerate(values)])
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["name", "x", "n"] and all(r[0] == "a,b" for r in rows[1:])
    # exact round trip: repr(float) is the shortest string that parses back to the same double
    assert [float(r[1]) for r in rows[1:]] == values.tolist() and [int(r[2]) for r in rows[1:]] == list(range(7))
    with pytest.raises(ValueError, match="2 cells, the header 3"):
        write_csv(tmp_path / "bad.csv", ["a", "b", "c"], [(1, 2)])
    assert not (tmp_path / "bad.csv").exists(), "a bad row leaves no file behind"
