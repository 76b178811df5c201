"""Shared test helper: every CSV the workbench writes must parse as numbers (issue #11 §7: no ``np.float64(…)``).

A column is text when its first non-empty cell does not parse as a float (names like ``phase``, ``model``);
every other cell must be empty or parse as a float. NumPy reprs (``np.float64(0.1)``) parse in neither way.
"""

from __future__ import annotations

import csv
from pathlib import Path

_TEXT_BOOLS = {"True", "False"}


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_numeric_csv(path) -> tuple[list[str], list[dict[str, object]]]:
    """(header, rows) of ``path`` with numeric columns converted to float (empty cells to None); asserts that no
    cell holds a NumPy repr and that each numeric column parses throughout."""
    with open(path, newline="") as handle:
        table = list(csv.reader(handle))
    assert table, f"{path}: empty CSV"
    header, body = table[0], table[1:]
    for i, row in enumerate(body):
        assert len(row) == len(header), f"{path} row {i + 1}: {len(row)} cells, header has {len(header)}"
        bad = [cell for cell in row if "np." in cell or "float64" in cell or "int64" in cell]
        assert not bad, f"{path} row {i + 1}: NumPy repr(s) {bad}"
    numeric = []
    for j, name in enumerate(header):
        first = next((row[j] for row in body if row[j] != ""), "")
        if first == "" or (_is_number(first) and first not in _TEXT_BOOLS):
            numeric.append(j)
    rows = []
    for i, row in enumerate(body):
        out: dict[str, object] = {}
        for j, (name, cell) in enumerate(zip(header, row)):
            if j in numeric:
                assert cell == "" or _is_number(cell), f"{path} row {i + 1}, column {name}: {cell!r} is not a number"
                out[name] = None if cell == "" else float(cell)
            else:
                out[name] = cell
        rows.append(out)
    return header, rows


def assert_csvs_parse(files) -> int:
    """Check every ``*.csv`` among ``files`` with :func:`read_numeric_csv`; return how many were checked."""
    paths = [Path(f) for f in files if str(f).endswith(".csv")]
    for path in paths:
        read_numeric_csv(path)
    return len(paths)
