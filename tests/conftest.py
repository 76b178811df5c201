"""Shared test configuration: markers, the data root (bundled with the package) and the full data set."""

from __future__ import annotations

import os
from pathlib import Path

# Single-threaded BLAS, as the CLI uses (lrwb/app/cli/__init__.py): small problems, 2-core CI.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def pytest_collection_modifyitems(config, items):
    """GPU tests skip cleanly when no CUDA device is present (CI never has one)."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (none present)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The data root the readers use: ``$LRWB_DATA`` if set, else the copy bundled with the package (always
    there: data tests never skip). It holds ``multipower/`` and ``lr-scheduling/`` in the shared/data layout."""
    from lrwb.numerics.data import data_root

    return data_root()


@pytest.fixture(scope="session")
def full_data() -> Path | None:
    """The full data set ``../shared/data`` when it is beside the repository (CI has it), else ``None``."""
    path = SHARED / "data"
    return path if (path / "multipower").is_dir() and (path / "lr-scheduling").is_dir() else None
