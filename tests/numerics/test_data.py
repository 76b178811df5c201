"""The real-curve data bundled with the package (numerics/data): complete, intact, equal to the full data set,
found without anything beside the repository, and overridden by ``$LRWB_DATA`` (issue 11 §1)."""

from __future__ import annotations

import builtins
import gzip
import hashlib
import io
import json
import os
import warnings
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from lrwb.numerics.lawfit import curves
from lrwb.numerics.data import (BUNDLE_MANIFEST, LR_SCHEDULING_CONFIG, build_bundle, bundle_files, bundled_root,
                           data_root, reduce_lr_scheduling_run)
from tests.conftest import REPO, SHARED

BUNDLE_LIMIT_BYTES = 3_000_000  # issue 11: keep the repository small (the bundle is ~2.1 MB)
#: the models of lr-scheduling's top-level folder that have cosine (fit) and WSD (predict) runs
LR_SCHEDULING_MODELS = 11


def _bundle_data_files() -> list[Path]:
    root = bundled_root()
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(".gz"))


def test_bundle_is_complete_small_and_matches_its_record():
    root = bundled_root()
    record = json.loads((root / BUNDLE_MANIFEST).read_text())
    files = {str(p.relative_to(root).as_posix()) for p in _bundle_data_files()}
    assert files == set(record["files"]), "BUNDLE.json must list exactly the bundled data files"
    for rel, entry in record["files"].items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == entry["sha256"], rel
    multipower = [f for f in files if f.startswith("multipower/")]
    lr_scheduling = [f for f in files if f.startswith("lr-scheduling/")]
    assert len(multipower) == 27 and {PurePosixPath(f).parent.name for f in multipower} == {"csv_25", "csv_100",
                                                                                          "csv_400"}
    assert all(PurePosixPath(f).parent.as_posix() == "lr-scheduling/data" for f in lr_scheduling)
    for licence in ("multipower/LICENSE", "lr-scheduling/LICENSE"):
        assert (root / licence).read_text().startswith("MIT License"), licence
    readme = (root / "README.md").read_text()
    assert "Luo et al. 2025" in readme and "Schaipp et al" in readme and "LRWB_DATA" in readme
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert size < BUNDLE_LIMIT_BYTES, f"bundled data is {size / 1e6:.2f} MB"


def test_pyproject_ships_the_bundle_and_the_core_dependencies():
    tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11 (the project machines run 3.11)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = " ".join(project["project"]["dependencies"])
    assert "numba" in deps and "dask[distributed]" in deps
    assert project["project"]["optional-dependencies"]["fast"] == []  # the old extra still installs
    patterns = project["tool"]["setuptools"]["package-data"]["lrwb.numerics.data"]
    root = bundled_root()
    shipped = [p for p in root.rglob("*") if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    for path in shipped:  # every data file is matched by a package-data glob (a wheel would carry it)
        rel = PurePosixPath(path.relative_to(root).as_posix())
        assert any(rel.match(p) and len(rel.parts) == len(PurePosixPath(p).parts) for p in patterns), rel


def test_bundle_equals_the_full_data_set(full_data):
    """Where the full data set is beside the repository (CI, the project machines): rebuilding the bundle from it
    gives the same bytes, and every reader returns the same values from either root. Without it, the bundle's
    recorded source hashes are all that can be checked (test above)."""
    if full_data is None:
        warnings.warn("../shared/data absent: the bundle was checked against its own record only", stacklevel=1)
        return
    root = bundled_root()
    record = json.loads((root / BUNDLE_MANIFEST).read_text())
    rebuilt = bundle_files(full_data)
    assert set(rebuilt) == set(record["files"])
    for rel, raw in rebuilt.items():
        assert raw == (root / rel).read_bytes(), f"{rel}: rebuild differs (run python -m lrwb.numerics.data)"
        source = full_data / rel.removesuffix(".gz")
        assert hashlib.sha256(source.read_bytes()).hexdigest() == record["files"][rel]["source_sha256"], rel
    for size in curves.MULTIPOWER_SIZES:
        _assert_same_curves(curves.load_multipower(full_data / "multipower", size),
                            curves.load_multipower(root / "multipower", size))
    for loss in ("val", "train"):
        full = curves.lr_scheduling_models(full_data / "lr-scheduling", loss=loss)
        bundled = curves.lr_scheduling_models(root / "lr-scheduling", loss=loss)
        assert list(full) == list(bundled) and len(full) == LR_SCHEDULING_MODELS
        for key in full:
            assert (full[key].fit, full[key].predict) == (bundled[key].fit, bundled[key].predict)
            _assert_same_curves(full[key].curves, bundled[key].curves)
            for name, info in full[key].infos.items():
                other = bundled[key].infos[name]
                assert {**info.__dict__, "path": ""} == {**other.__dict__, "path": ""}, name


def _assert_same_curves(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        for what in ("lr", "steps", "loss"):
            np.testing.assert_array_equal(getattr(a[name], what), getattr(b[name], what), err_msg=f"{name}.{what}")
        assert a[name].warmup == b[name].warmup


@pytest.fixture
def nothing_beside_the_repository(monkeypatch):
    """``LRWB_DATA`` unset and ``../shared`` unreadable: any attempt to open, list or stat a path under it fails."""
    monkeypatch.delenv("LRWB_DATA", raising=False)
    shared = str(SHARED.resolve())

    def guard(target):
        if isinstance(target, (str, bytes, os.PathLike)):
            path = os.fsdecode(os.fspath(target))
            if os.path.abspath(path).startswith(shared + os.sep) or os.path.abspath(path) == shared:
                raise FileNotFoundError(f"{path}: ../shared is hidden in this test")

    def wrap(func):
        def guarded(target, *args, **kwargs):
            guard(target)
            return func(target, *args, **kwargs)

        return guarded

    for owner, name in ((builtins, "open"), (io, "open"), (os, "stat"), (os, "lstat"), (os, "scandir"),
                        (os, "listdir"), (gzip, "open")):
        monkeypatch.setattr(owner, name, wrap(getattr(owner, name)))
    with pytest.raises(FileNotFoundError, match="hidden"):  # the guard works
        (SHARED / "data" / "README.md").read_text()
    return monkeypatch


def test_data_paths_need_nothing_beside_the_repository(nothing_beside_the_repository, tmp_path, capsys):
    assert data_root() == bundled_root() == curves.default_data_root()
    root = curves.default_data_root()
    runs = {size: curves.load_multipower(root / "multipower", size) for size in curves.MULTIPOWER_SIZES}
    assert all(len(r) == 9 for r in runs.values())
    models = curves.lr_scheduling_models(root / "lr-scheduling")
    assert len(models) == LR_SCHEDULING_MODELS
    m = curves.select_lr_scheduling_model(models, "L8H6E384")
    assert len(m.fit) == 3 and len(m.predict) == 3
    # the real_curves experiment and lrwb fit with their default data root
    from lrwb.app.cli import main
    from lrwb.experiments.real_curves import real_curves

    result = real_curves(tmp_path / "rc", sizes=(25,), models=("slimpajama_L8H6E384B50x2",),
                         variants=(("momentum", "converged"),))
    assert {f.source for f in result.fits} == {"25M", "slimpajama_L8H6E384B50x2"}
    assert main(["fit", "lr-scheduling:L8H6E384", "--law", "momentum", "--no-figures", "--out",
                 str(tmp_path / "fit")]) == 0
    assert (tmp_path / "fit" / "fit.json").is_file()
    # notebook 04 finds its data the same way (no path of its own)
    notebook = (REPO / "notebooks" / "04_fit_real_curves.ipynb").read_text()
    assert "curves.default_data_root()" in notebook and "shared" not in notebook.replace("shared/data", "")


def test_docs_and_notebooks_do_not_point_at_shared():
    for path in [*sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "notebooks").glob("*.ipynb")),
                 REPO / "README.md"]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "shared/data" not in text, f"{path.name} still needs ../shared"


def test_a_request_beyond_the_bundle_says_how_to_get_the_full_data(monkeypatch):
    monkeypatch.delenv("LRWB_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"not in the data bundled.*set LRWB_DATA to the full data set"):
        curves.load_lr_scheduling(curves.default_data_root() / "lr-scheduling", folder="horizon_transfer")


def test_lrwb_data_overrides_the_bundle_and_reads_the_original_formats(monkeypatch, tmp_path):
    """A folder in the original layout and formats (plain CSV, full W&B JSON with keys the bundle drops) named by
    ``$LRWB_DATA`` is read instead of the bundle, with the same values."""
    bundle = bundled_root()
    csv_dir = tmp_path / "multipower" / "loss_curve_repo" / "csv_25"
    csv_dir.mkdir(parents=True)
    for name in ("cosine_24000", "wsdcon_9"):
        (csv_dir / f"{name}.csv").write_bytes(
            gzip.decompress((bundle / "multipower/loss_curve_repo/csv_25" / f"{name}.csv.gz").read_bytes()))
    runs_dir = tmp_path / "lr-scheduling" / "data"
    runs_dir.mkdir(parents=True)
    for packed in (bundle / "lr-scheduling" / "data").glob("*nlayers8_nhead6*.json.gz"):
        run = json.loads(gzip.decompress(packed.read_bytes()))
        run["config"]["unused_field"] = "kept in the original export"
        run["history"]["ema"] = {"iter": [1], "val_loss_ema": [9.9]}
        run["summary"] = {"x": 1}
        (runs_dir / packed.name.removesuffix(".gz")).write_text(json.dumps(run))
        assert reduce_lr_scheduling_run(run) == json.loads(gzip.decompress(packed.read_bytes()))
    monkeypatch.setenv("LRWB_DATA", str(tmp_path))
    assert curves.default_data_root() == tmp_path
    plain = curves.load_multipower(curves.default_data_root() / "multipower", 25)
    assert set(plain) == {"cosine_24000", "wsdcon_9"}
    _assert_same_curves(plain, curves.load_multipower(bundle / "multipower", 25, ["cosine_24000", "wsdcon_9"]))
    model_key = "slimpajama_L8H6E384B50x2"
    mine = curves.lr_scheduling_models(curves.default_data_root() / "lr-scheduling")[model_key]
    theirs = curves.lr_scheduling_models(bundle / "lr-scheduling")[model_key]
    assert mine.fit == theirs.fit and mine.predict == theirs.predict
    _assert_same_curves(mine.curves, theirs.curves)
    assert all(Path(c.source.split(" ")[0]).suffix == ".json" for c in mine.curves.values())
    # outside the bundle, a missing folder is a plain not-found naming LRWB_DATA
    with pytest.raises(FileNotFoundError, match="not found .LRWB_DATA = "):
        curves.load_multipower(curves.default_data_root() / "multipower", 100)


def test_build_bundle_writes_licences_and_record(tmp_path):
    src = tmp_path / "src"
    (src / "multipower" / "loss_curve_repo" / "csv_25").mkdir(parents=True)
    (src / "lr-scheduling" / "data").mkdir(parents=True)
    (src / "multipower" / "LICENSE").write_text("MIT License\nA")
    (src / "lr-scheduling" / "LICENSE").write_text("MIT License\nB")
    csv = src / "multipower" / "loss_curve_repo" / "csv_25" / "constant_24000.csv"
    csv.write_text("step,lr,loss\n2176,0.0003,4.0\n")
    run = {"config": {k: 1 for k in LR_SCHEDULING_CONFIG} | {"other": 2}, "name": "x",
           "history": {"train": {"iter": [1], "train_loss": [3.0], "train_lr": [1e-3], "train_perplexity": [20]},
                       "val": {"iter": [1], "val_loss": [3.1], "val_acc": [0.1]}, "ema": {}}}
    (src / "lr-scheduling" / "data" / "r.json").write_text(json.dumps(run))
    record = build_bundle(src, tmp_path / "dst")
    assert set(record["files"]) == {"multipower/loss_curve_repo/csv_25/constant_24000.csv.gz",
                                    "lr-scheduling/data/r.json.gz"}
    reduced = json.loads(gzip.decompress((tmp_path / "dst/lr-scheduling/data/r.json.gz").read_bytes()))
    assert reduced == {"config": {k: 1 for k in LR_SCHEDULING_CONFIG},
                       "history": {"train": {"iter": [1], "train_loss": [3.0], "train_lr": [1e-3]},
                                   "val": {"iter": [1], "val_loss": [3.1]}}}
    assert (tmp_path / "dst/lr-scheduling/LICENSE").read_text() == "MIT License\nB"
    assert build_bundle(src, tmp_path / "again") == record  # deterministic (gzip without a time stamp)
    assert (tmp_path / "again/lr-scheduling/data/r.json.gz").read_bytes() == \
        (tmp_path / "dst/lr-scheduling/data/r.json.gz").read_bytes()
