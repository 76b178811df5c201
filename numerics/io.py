"""Crash-safe file output: every file the workbench writes goes through :func:`atomic_write`.

A reader (or an interrupted run) never sees a half-written file: we write to a temporary file in the
same directory and ``os.replace`` it onto the target, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import numbers
import os
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator, Sequence

import numpy as np

__all__ = ["atomic_write", "save_figure", "atomic_savefig", "csv_cell", "csv_text", "write_csv"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; rename it onto ``path`` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    # mkstemp creates 0600; give the file the permissions a plain open() would (0666 minus the umask).
    os.chmod(tmp, 0o666 & ~_current_umask())
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            # name the file being written (ENOSPC from write/fsync carries no file name)
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        raise


def save_figure(fig, stem: str | os.PathLike, dpi: int = 120) -> list[Path]:
    """Write ``fig`` as ``stem.png`` and ``stem.pdf`` (each through :func:`atomic_savefig`), close it, and
    return the two paths — every reproduced figure ships as a raster and a vector file."""
    import matplotlib.pyplot as plt

    stem = Path(stem)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")]
    for path in paths:
        atomic_savefig(fig, path, dpi=dpi)
    plt.close(fig)
    return paths


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_savefig(fig, path: str | os.PathLike, **kwargs) -> None:
    """``fig.savefig`` through :func:`atomic_write` (format taken from the target's suffix)."""
    target = Path(path)
    fmt = kwargs.pop("format", target.suffix.lstrip(".") or "png")
    with atomic_write(target, "wb") as handle:
        fig.savefig(handle, format=fmt, **kwargs)


def csv_cell(value) -> str:
    """One CSV cell as text: NumPy scalars as plain Python numbers (``repr(float(x))``, the shortest string that
    round-trips, never ``np.float64(…)``), ints as ints, bools as ``True``/``False``, ``None`` as empty.

    Raises:
        ValueError: for an array or other non-scalar (a cell holds one value).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    raise ValueError(f"CSV cell {value!r} ({type(value).__name__}): expected a number, a string, a bool or None")


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A CSV document (``\\n`` line ends; cells via :func:`csv_cell`, quoted by :mod:`csv` where needed).

    Raises:
        ValueError: when a row's length differs from the header's.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(rows):
        cells = [csv_cell(v) for v in row]
        if len(cells) != len(header):
            raise ValueError(f"CSV row {i} has {len(cells)} cells, the header {len(header)}: {list(header)}")
        writer.writerow(cells)
    return buffer.getvalue()


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write ``rows`` under ``header`` to ``path`` as CSV (:func:`csv_text`), atomically; return the path."""
    text = csv_text(header, rows)  # built first: a bad row leaves no file behind
    with atomic_write(path, newline="") as handle:
        handle.write(text)
    return Path(path)
