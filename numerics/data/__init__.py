"""The real loss curves shipped inside the package, and where the readers look for data.

Layout (the same as the full data set, ``shared/data``, so every reader takes either root)::

    multipower/LICENSE
    multipower/loss_curve_repo/csv_{25,100,400}/<run>.csv.gz     all 27 runs, every column (step,lr,loss)
    lr-scheduling/LICENSE
    lr-scheduling/data/<run>.json.gz                             every top-level run (no sub-folders), reduced
    README.md, BUNDLE.json                                       attribution; provenance (sha256 per file)

An lr-scheduling run keeps only what :func:`lrwb.numerics.lawfit.curves.load_lr_scheduling` reads: the config fields of
:data:`LR_SCHEDULING_CONFIG` and the histories ``train`` (``iter``, ``train_loss``, ``train_lr``) and ``val``
(``iter``, ``val_loss``); the numbers are the original JSON numbers, so a loader returns the same values from
either root. The sub-folders (``grad_norm/``, ``horizon_transfer/``) and the ``ema``/``wa`` curves are not
bundled: for them set ``$LRWB_DATA`` to the full data set.

:func:`data_root` — ``$LRWB_DATA`` if set, else :func:`bundled_root` (found by :mod:`importlib.resources`).
:func:`build_bundle` — the reduction that made the bundle from the full data set (rerun it to refresh).
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import hashlib
import importlib.resources
import json
import os
from pathlib import Path

__all__ = ["LR_SCHEDULING_CONFIG", "LR_SCHEDULING_HISTORY", "BUNDLE_MANIFEST", "data_root", "bundled_root",
           "is_bundled", "build_bundle", "reduce_lr_scheduling_run", "missing_data_error"]

#: config fields of an lr-scheduling run that the readers use (lrwb.numerics.lawfit.curves._run_info)
LR_SCHEDULING_CONFIG = ("n_layer", "n_head", "n_embd", "batch_size", "acc_steps", "scheduler",
                        "wsd_exponential_decay", "decay_type", "dataset", "lr", "iterations", "warmup_steps",
                        "wsd_fract_decay", "wsd_final_lr_scale", "resume_from")
#: history columns kept, per history (lrwb.numerics.lawfit.curves._history)
LR_SCHEDULING_HISTORY = {"train": ("iter", "train_loss", "train_lr"), "val": ("iter", "val_loss")}
BUNDLE_MANIFEST = "BUNDLE.json"
DATA_ENV = "LRWB_DATA"

_extracted: contextlib.ExitStack | None = None


def bundled_root() -> Path:
    """The bundled data folder, through :mod:`importlib.resources` (extracted once if the package is zipped)."""
    global _extracted
    resource = importlib.resources.files(__name__)
    if isinstance(resource, Path):
        return resource
    if _extracted is None:  # a zipped install: extract for the life of the process
        _extracted = contextlib.ExitStack()
        atexit.register(_extracted.close)
    return Path(_extracted.enter_context(importlib.resources.as_file(resource)))


def data_root() -> Path:
    """Where the readers look for ``multipower/`` and ``lr-scheduling/``: ``$LRWB_DATA`` if set, else the bundle."""
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else bundled_root()


def is_bundled(path) -> bool:
    """True when ``path`` lies inside the bundled data folder."""
    try:
        Path(path).resolve().relative_to(bundled_root().resolve())
    except ValueError:
        return False
    return True


def missing_data_error(what: str, path) -> FileNotFoundError:
    """The error for data that is not there; inside the bundle it says how to get the full data set."""
    if is_bundled(path):
        return FileNotFoundError(
            f"{what} {path} is not in the data bundled with lr-workbench (it holds the 27 multipower runs and the "
            f"top-level lr-scheduling runs, no sub-folders); set {DATA_ENV} to the full data set (a folder laid out "
            "like shared/data: multipower/loss_curve_repo/csv_*/, lr-scheduling/data/...)")
    hint = f" ({DATA_ENV} = {os.environ[DATA_ENV]})" if os.environ.get(DATA_ENV) else ""
    return FileNotFoundError(f"{what} {path} not found{hint}")


# ------------------------------------------------------------------------------------------------------------
# building the bundle from the full data set


def reduce_lr_scheduling_run(data: dict) -> dict:
    """One lr-scheduling W&B export reduced to what the readers use (see :data:`LR_SCHEDULING_CONFIG`)."""
    config = {k: data["config"][k] for k in LR_SCHEDULING_CONFIG if k in data["config"]}
    history = {which: {col: data["history"][which][col] for col in cols if col in data["history"][which]}
               for which, cols in LR_SCHEDULING_HISTORY.items() if which in data["history"]}
    return {"config": config, "history": history}


def _gzip_bytes(raw: bytes) -> bytes:
    # mtime 0 and no file name: the same input gives the same bytes (a rebuild can be compared byte for byte)
    return gzip.compress(raw, compresslevel=9, mtime=0)


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def bundle_files(src) -> dict[str, bytes]:
    """The bundle's data files built from the full data set ``src``: relative path -> gzipped bytes."""
    src = Path(src)
    out = {}
    for csv in sorted((src / "multipower" / "loss_curve_repo").glob("csv_*/*.csv")):
        out[str(csv.relative_to(src)) + ".gz"] = _gzip_bytes(csv.read_bytes())
    for run in sorted((src / "lr-scheduling" / "data").glob("*.json")):
        reduced = reduce_lr_scheduling_run(json.loads(run.read_text(encoding="utf-8")))
        text = json.dumps(reduced, separators=(",", ":"), ensure_ascii=False)
        out[str(run.relative_to(src)) + ".gz"] = _gzip_bytes(text.encode("utf-8"))
    return out


def build_bundle(src, dst=None) -> dict:
    """Write the bundle (data files, both LICENSE files, ``BUNDLE.json``) from the full data set ``src`` into
    ``dst`` (default: this package's folder); return the provenance record written to ``BUNDLE.json``."""
    from lrwb.numerics.io import atomic_write

    src, dst = Path(src), Path(dst) if dst is not None else bundled_root()
    files = bundle_files(src)
    if not files:
        raise FileNotFoundError(f"{src}: no multipower CSVs or lr-scheduling JSONs; expected the shared/data layout")
    record = {"bundle_version": 1, "files": {}}
    for rel, raw in files.items():
        with atomic_write(dst / rel, "wb") as handle:
            handle.write(raw)
        original = src / rel.removesuffix(".gz")
        # the original is the same path without ".gz"
        record["files"][rel] = {"sha256": _sha256(raw), "source_sha256": _sha256(original.read_bytes())}
    for licence in ("multipower/LICENSE", "lr-scheduling/LICENSE"):
        with atomic_write(dst / licence, "wb") as handle:
            handle.write((src / licence).read_bytes())
    with atomic_write(dst / BUNDLE_MANIFEST) as handle:
        json.dump(record, handle, indent=0, sort_keys=True)
        handle.write("\n")
    return record

