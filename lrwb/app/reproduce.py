"""``lrwb reproduce``: run every registered experiment, cache what finished, and collect the claims.

Each experiment runs in ``OUT/<name>/`` and, once it returns, a ``manifest.json`` is written there (last, and
atomically) holding its cache key, claims, files with their SHA-256, runtime and Markdown summary. A later run
reuses the manifest only when it validates (:func:`read_manifest`): the exact layout of this version (no
unknown keys, the right types), every listed file confined to the experiment's folder (no ``..``, no absolute
path, no symlink out of it) and unchanged (its SHA-256), and the key matches. Anything else (bad JSON, a
truncated CSV, a replaced PNG, an edited claim) means: recompute that experiment, never crash and never reuse.
The verdicts are not trusted either: each cached claim's verdict is recomputed from its stored derived and
measured values and its tolerance rule (:func:`_claim_from_manifest`).

The cache key hashes the experiment's name, the mode (quick/full), the device and the *code version*
(:func:`code_version`): the source of the experiment's module and of every ``lrwb`` module it
imports, transitively (read from the modules' import statements, lazy imports inside functions included),
plus the bundled data's record and ``$LRWB_DATA`` when :mod:`lrwb.numerics.data` is among
them. Editing a helper recomputes exactly the experiments that import it.

One ``reproduce`` at a time per output folder: a second one into the same folder stops at once with
:class:`OutputFolderBusy` (the lock is ``OUT/.lrwb-reproduce.lock``, released by the OS when its holder exits,
so a crashed run leaves no stale lock). Holding the lock, a run deletes the temporary files (``.*.tmp``) that an
interrupted run left behind. The report covers every experiment present in the folder: those not selected by
``--only`` are shown from their manifests (marked stale when their key no longer matches or the manifest does
not validate).

:func:`load` reads a results folder back (its experiments, claims, sanity checks, files and CSV data), validated
as the cache validates it.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import functools
import hashlib
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Callable

import numpy as np

from lrwb import experiments
from lrwb.experiments.claims import Claim, counted, sanity_checks
from lrwb.numerics.io import atomic_write

__all__ = [
    "ExperimentRecord",
    "ReproduceRun",
    "InvalidManifest",
    "OutputFolderBusy",
    "code_version",
    "module_closure",
    "cache_key",
    "read_manifest",
    "load_manifest",
    "run_experiment",
    "write_formulas",
    "reproduce",
    "select_experiments",
    "load",
    "read_csv_columns",
    "LoadedResults",
    "LoadedExperiment",
]

_NAMESPACE = "lrwb"
MANIFEST = "manifest.json"
LOCK = ".lrwb-reproduce.lock"
#: bumped when the manifest layout changes (old manifests are then recomputed, not misread).
#: 2: claims carry their rule (kind, tol) and category; the verdict is recomputed on read-back.
#: 3: files map to their SHA-256; the layout is validated exactly.
MANIFEST_VERSION = 3
_MANIFEST_FIELDS = {"manifest_version": int, "name": str, "title": str, "source": str, "budget_s": (int, float),
                    "key": str, "claims": list, "files": dict, "runtime_s": (int, float), "markdown": str}


class InvalidManifest(ValueError):
    """A manifest that does not validate (the experiment is then recomputed); the message says why."""


class OutputFolderBusy(ValueError):
    """Another ``reproduce`` holds the output folder's lock."""


@dataclass(frozen=True)
class ExperimentRecord:
    """What one experiment produced (fresh or from the cache), as the report needs it.

    Attributes:
        name, title, source, budget_s: from the registry.
        key: the cache key it was computed under.
        claims: its checks: claims and sanity checks (:class:`~lrwb.experiments.claims.SanityCheck`),
            verdicts recomputed when read from a manifest.
        files: written paths relative to the output directory.
        runtime_s: wall time of the experiment when it was computed (not of a cache hit).
        markdown: the experiment's own summary (tables).
        cached: True when this run reused the manifest.
        error: the traceback's last line when the experiment raised (then no claims and not cached).
        file_hashes: SHA-256 of each file of ``files`` (same order), stored in the manifest.
        stale: why the record is not current (not selected by ``--only`` and its key no longer matches, or its
            manifest does not validate); empty for a record of this run or a valid cache hit.
    """

    name: str
    title: str
    source: str
    budget_s: float
    key: str
    claims: tuple[Claim, ...]
    files: tuple[str, ...]
    runtime_s: float
    markdown: str
    cached: bool = False
    error: str = ""
    file_hashes: tuple[str, ...] = ()
    stale: str = ""

    @property
    def passed(self) -> bool:
        """No error, every claim and every sanity check passed."""
        return not self.error and all(c.passed for c in self.claims)

    @property
    def counted(self) -> tuple[Claim, ...]:
        """Its claims (counted in the report), without the sanity checks."""
        return counted(self.claims)

    @property
    def sanity(self) -> tuple[Claim, ...]:
        """Its sanity checks (reported apart, not counted)."""
        return sanity_checks(self.claims)

    @property
    def over_budget(self) -> bool:
        return not self.cached and not self.stale and self.runtime_s > self.budget_s

    def manifest(self) -> dict:
        return {"manifest_version": MANIFEST_VERSION, "name": self.name, "title": self.title, "source": self.source,
                "budget_s": self.budget_s, "key": self.key, "claims": [_claim_to_manifest(c) for c in self.claims],
                "files": dict(zip(self.files, self.file_hashes)), "runtime_s": self.runtime_s,
                "markdown": self.markdown}


@dataclass(frozen=True)
class ReproduceRun:
    """The outcome of :func:`reproduce`: one record per experiment plus the report files."""

    out_dir: Path
    records: tuple[ExperimentRecord, ...]
    wall_s: float
    files: tuple[str, ...] = field(default=())

    @property
    def claims(self) -> tuple[Claim, ...]:
        """Every experiment's claims (counted), without the sanity checks."""
        return tuple(c for r in self.records for c in r.counted)

    @property
    def sanity(self) -> tuple[Claim, ...]:
        """Every experiment's sanity checks (hold by construction; reported apart, not counted)."""
        return tuple(c for r in self.records for c in r.sanity)

    @property
    def counts(self) -> dict[str, int]:
        claims, sanity = self.claims, self.sanity
        passed = sum(c.passed for c in claims)
        sane = sum(c.passed for c in sanity)
        return {"experiments": len(self.records), "errors": sum(bool(r.error) for r in self.records),
                "cached": sum(r.cached for r in self.records), "claims": len(claims), "passed": passed,
                "failed": len(claims) - passed, "sanity": len(sanity), "sanity_passed": sane,
                "sanity_failed": len(sanity) - sane, "stale": sum(bool(r.stale) for r in self.records)}

    def summary(self) -> str:
        n = self.counts
        line = (f"{n['claims']} claims checked: {n['passed']} passed, {n['failed']} failed; "
                f"{n['sanity']} sanity checks: {n['sanity_passed']} ok, {n['sanity_failed']} failed "
                f"({n['experiments']} experiments, {n['cached']} from cache")
        if n["stale"]:
            line += f", {n['stale']} stale (not rerun: see the report)"
        if n["errors"]:
            line += f", {n['errors']} raised an error"
        return line + f"; {self.wall_s:.1f} s)"


# ------------------------------------------------------------------------------------------------------------
# claims in the manifest: the verdict is recomputed from the stored numbers and rule, never read back


# The two functions below are the only places claims enter and leave a manifest.
def _claim_to_manifest(claim: Claim) -> dict:
    return claim.as_dict()


def _claim_from_manifest(d: dict) -> Claim:
    """A claim (or sanity check) read back from a manifest by :meth:`Claim.from_dict`: its verdict recomputed
    by its rule from the stored derived and measured values (a stored ``passed`` is never believed)."""
    if not isinstance(d, dict):
        raise InvalidManifest(f"a claim is a {type(d).__name__}, not an object")
    try:
        return Claim.from_dict(d)
    except (ValueError, TypeError) as err:
        raise InvalidManifest(f"claim {d.get('claim')!r}: {err}") from None


def _check_fields(d: dict, spec: dict, what: str) -> None:
    keys = set(d)
    if keys != set(spec):
        unknown, missing = sorted(keys - set(spec)), sorted(set(spec) - keys)
        raise InvalidManifest(f"{what}: unknown keys {unknown}, missing keys {missing}")
    for name, kind in spec.items():
        value = d[name]
        # bool is an int in Python: only a field meant to be bool may hold one
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise InvalidManifest(f"{what}: {name} is a {type(value).__name__}, expected {kind}")


# ------------------------------------------------------------------------------------------------------------
# manifests


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _confined(out_dir: Path, name: str, rel: str) -> Path:
    """``out_dir/rel`` if it is a regular file inside ``out_dir/name`` (after resolving symlinks); else raise."""
    if not isinstance(rel, str) or not rel or PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).is_absolute() \
            or PureWindowsPath(rel).drive:
        raise InvalidManifest(f"file {rel!r} is not a relative path")
    parts = PurePosixPath(rel.replace("\\", "/")).parts
    if ".." in parts or parts[0] != name or len(parts) < 2:
        raise InvalidManifest(f"file {rel!r} is not inside the experiment folder {name}/")
    folder = (out_dir / name).resolve()
    path = out_dir.joinpath(*parts)
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InvalidManifest(f"file {rel!r} is missing") from None
    try:
        real.relative_to(folder)
    except ValueError:
        raise InvalidManifest(f"file {rel!r} leads outside the experiment folder {name}/ (to {real})") from None
    if not real.is_file():
        raise InvalidManifest(f"file {rel!r} is not a regular file")
    return real


def read_manifest(exp_dir: Path) -> tuple[dict, tuple[Claim, ...]]:
    """The validated manifest of ``exp_dir`` and its claims (verdicts recomputed); raises
    :class:`InvalidManifest` (or FileNotFoundError when there is none) saying what is wrong.

    Valid: JSON object with exactly the fields of this version and their types, the folder's own name,
    claims that rebuild from their rule, and every file inside the folder with its stored SHA-256."""
    exp_dir = Path(exp_dir)
    path = exp_dir / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{path}: no manifest")
    try:
        return _read_manifest(exp_dir, path)
    except InvalidManifest:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OSError, RecursionError) as err:
        # whatever else a damaged manifest provokes (a NUL in a path, an unreadable file) is the same verdict
        raise InvalidManifest(f"{path}: {type(err).__name__}: {err}") from None


def _read_manifest(exp_dir: Path, path: Path) -> tuple[dict, tuple[Claim, ...]]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise InvalidManifest(f"{path}: unreadable ({err})") from None
    if not isinstance(record, dict):
        raise InvalidManifest(f"{path}: a {type(record).__name__}, not an object")
    if record.get("manifest_version") != MANIFEST_VERSION:
        raise InvalidManifest(f"{path}: manifest_version {record.get('manifest_version')!r}, "
                              f"this version reads {MANIFEST_VERSION}")
    _check_fields(record, _MANIFEST_FIELDS, str(path))
    if record["name"] != exp_dir.name:
        raise InvalidManifest(f"{path}: name {record['name']!r} is not the folder's ({exp_dir.name!r})")
    claims = tuple(_claim_from_manifest(c) for c in record["claims"])
    for rel, digest in record["files"].items():
        if not isinstance(digest, str) or len(digest) != 64:
            raise InvalidManifest(f"{path}: file {rel!r} has no SHA-256")
        real = _confined(exp_dir.parent, exp_dir.name, rel)
        if _sha256_file(real) != digest:
            raise InvalidManifest(f"{path}: file {rel!r} changed since it was written (SHA-256 differs)")
    return record, claims


def load_manifest(exp_dir: Path, key: str) -> dict | None:
    """The manifest in ``exp_dir`` if it validates (:func:`read_manifest`) and was written under ``key``."""
    try:
        record, _ = read_manifest(exp_dir)
    except (FileNotFoundError, InvalidManifest):
        return None
    return record if record["key"] == key else None


def _record_from_manifest(entry, record: dict, claims, *, cached: bool, stale: str = "") -> ExperimentRecord:
    return ExperimentRecord(entry.name, entry.title, entry.source, entry.budget_s, record["key"], claims,
                            tuple(record["files"]), float(record["runtime_s"]), record["markdown"], cached=cached,
                            file_hashes=tuple(record["files"].values()), stale=stale)


# ------------------------------------------------------------------------------------------------------------
# the code version: the experiment's module and the project modules it imports, transitively


def _package_dirs(root: Path | None) -> dict[str, Path]:
    """Where the namespace's top packages live: the installed ones (``root=None``), or a source tree ``root``
    laid out as the repository is (``lrwb/``, ``theory/``, ``numerics/``; the mapping in pyproject.toml)."""
    if root is None:
        import lrwb.numerics
        import lrwb.theory

        return {"lrwb": Path(__file__).resolve().parents[1], "lrwb.theory": Path(lrwb.theory.__file__).parent,
                "lrwb.numerics": Path(lrwb.numerics.__file__).parent}
    return {"lrwb": root / "lrwb", "lrwb.theory": root / "theory", "lrwb.numerics": root / "numerics"}


def _module_path(module: str, root: Path | None) -> Path | None:
    parts = module.split(".")
    dirs = _package_dirs(root)
    top = ".".join(parts[:2]) if ".".join(parts[:2]) in dirs else parts[0]
    if top not in dirs:
        return None
    base = dirs[top].joinpath(*parts[len(top.split(".")):])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_project(module: str) -> bool:
    return module.split(".")[0] == _NAMESPACE


def _imported_modules(path: Path, module: str, root: Path) -> set[str]:
    """Project modules imported anywhere in ``path`` (module ``module``): ``import x.y``, ``from x import y``
    (y a sub-module or a name), relative imports; lazy imports inside functions count too."""
    stat = path.stat()
    return _imported_modules_cached(path, stat.st_mtime_ns, stat.st_size, module, root)


@functools.lru_cache(maxsize=1024)
def _imported_modules_cached(path: Path, mtime_ns: int, size: int, module: str, root: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    out = set()
    for name in found:
        if not _is_project(name):
            continue
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
            prefix = ".".join(parts[:i])
            if _module_path(prefix, root) is not None:
                out.add(prefix)
    return frozenset(out)


def module_closure(module: str, root: Path | None = None) -> dict[str, Path]:
    """``module`` and every ``lrwb`` module it imports, transitively: dotted name -> file.

    Project modules are looked up under ``root`` (default: the installed packages); ``module`` itself may
    live elsewhere (found by :mod:`importlib`)."""
    root = Path(root) if root is not None else None
    start = _module_path(module, root) if _is_project(module) else None
    if start is None:
        start = _source_file(module)
    closure = {module: start}
    todo = [module]
    parents = module.split(".")
    for i in range(1, len(parents)):
        prefix = ".".join(parents[:i])
        if _is_project(prefix) and _module_path(prefix, root) is not None:
            closure[prefix] = _module_path(prefix, root)
            todo.append(prefix)
    while todo:
        name = todo.pop()
        for dep in _imported_modules(closure[name], name, root):
            if dep not in closure:
                closure[dep] = _module_path(dep, root)
                todo.append(dep)
    return closure


def _source_file(module: str) -> Path:
    """The source file of an imported or importable module (``__main__`` of a script included)."""
    loaded = sys.modules.get(module)
    candidate = getattr(loaded, "__file__", None)
    if candidate is None:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):  # __main__ of ``python -c`` has no spec
            spec = None
        candidate = spec.origin if spec is not None else None
    if not candidate or not Path(candidate).is_file():
        raise ValueError(f"module {module!r} has no source file (an experiment defined interactively)")
    return Path(candidate)


def _hash_files(paths: dict[str, Path]) -> str:
    """SHA-256 over (name, content) of ``paths`` (name -> file), in name order."""
    digest = hashlib.sha256()
    for name in sorted(paths):
        digest.update(name.encode() + b"\0")
        digest.update(paths[name].read_bytes())
    return digest.hexdigest()


def _all_modules(root: Path | None) -> dict[str, Path]:
    """Every module of the namespace: package-relative name -> file."""
    return {f"{pkg}:{p.relative_to(d).as_posix()}": p for pkg, d in _package_dirs(root).items()
            for p in d.rglob("*.py") if "__pycache__" not in p.parts
            and not (pkg == "lrwb" and p.relative_to(d).parts[0] in ("theory", "numerics"))}


def code_version(experiment_module: str | None = None, root: Path | None = None) -> str:
    """SHA-256 of the code an experiment depends on: its module and the closure of its project imports
    (:func:`module_closure`), plus ``numerics/data/BUNDLE.json`` (the bundled data's hashes) and ``$LRWB_DATA``
    when :mod:`lrwb.numerics.data` is imported. ``None``: every module of ``theory/`` and ``numerics/``. An experiment
    without a source file gets a version of its own each time (never reused)."""
    root = Path(root) if root is not None else None
    if experiment_module is None:
        modules = _all_modules(root)
    else:
        try:
            modules = module_closure(experiment_module, root)
        except ValueError:
            # no source to hash (defined in a REPL or ``python -c``): a version no later run can match
            nonce = f"uncacheable {experiment_module} {os.getpid()} {time.time_ns()}"
            return hashlib.sha256(nonce.encode()).hexdigest()
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(name.encode() + b"\0")
        digest.update(modules[name].read_bytes())
    if "lrwb.numerics.data" in modules:  # the data it reads: the bundle's record, or the folder $LRWB_DATA names
        bundle = _package_dirs(root)["lrwb.numerics"] / "data" / "BUNDLE.json"
        digest.update(bundle.read_bytes() if bundle.is_file() else b"")
        digest.update(f"LRWB_DATA={os.environ.get('LRWB_DATA', '')}".encode())
    return digest.hexdigest()


def cache_key(name: str, quick: bool, device: str, version: str) -> str:
    """The key a finished experiment is cached under (first 16 hex digits of a SHA-256)."""
    payload = json.dumps({"name": name, "quick": bool(quick), "device": device, "code": version}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _relative_files(files, out_dir: Path, name: str) -> tuple[str, ...]:
    """Written paths relative to ``out_dir``; every file must lie inside the experiment's folder."""
    root, folder = Path(out_dir).resolve(), (Path(out_dir) / name).resolve()
    out = []
    for f in files:
        path = Path(f).resolve()
        try:
            path.relative_to(folder)
        except ValueError:
            raise ValueError(f"experiment {name} wrote {f}, outside its folder {folder}; an experiment writes "
                             "only into the out_dir it is given") from None
        out.append(path.relative_to(root).as_posix())
    return tuple(out)


class _BudgetTicker:
    """A progress bar for one experiment: elapsed seconds against its budget, ticking from a thread.

    Experiments do not report their own progress, so the bar shows how much of the budget is used."""

    def __init__(self, name: str, budget_s: float, enabled: bool):
        self._bar = None
        self._stop = threading.Event()
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=round(budget_s), desc=f"  {name}", unit="s", leave=False,
                             bar_format="{desc}: {bar} {n:.0f}/{total:.0f} s budget")
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def _tick(self):
        start = time.perf_counter()
        while not self._stop.wait(0.5):
            if self._bar is not None:
                self._bar.n = min(time.perf_counter() - start, self._bar.total)
                self._bar.refresh()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self._bar is not None:
            self._bar.close()


def run_experiment(name: str, out_dir: Path, *, quick: bool = True, device: str = "cpu", force: bool = False,
                   progress: bool = False) -> ExperimentRecord:
    """Run one registered experiment into ``out_dir/name`` unless a valid cached manifest exists.

    An exception inside the experiment is caught and recorded (``error``), so one broken experiment does not
    stop the others; nothing is cached for it."""
    entry = experiments.spec(name)
    key = cache_key(name, quick, device, code_version(entry.module))
    exp_dir = Path(out_dir) / name
    if not force:
        try:
            record, claims = read_manifest(exp_dir)
        except (FileNotFoundError, InvalidManifest):
            record = None
        if record is not None and record["key"] == key:
            return _record_from_manifest(entry, record, claims, cached=True)
    # the old manifest goes first: an interrupted recomputation must not leave it describing replaced files
    with contextlib.suppress(FileNotFoundError):
        (exp_dir / MANIFEST).unlink()
    start = time.perf_counter()
    try:
        with _BudgetTicker(name, entry.budget_s, progress):
            result = experiments.run(name, exp_dir, quick=quick, device=device)
        claims = tuple(result.claims)
        markdown = result.markdown()
        files = _relative_files(result.files, Path(out_dir), name)
        hashes = tuple(_sha256_file(Path(out_dir) / f) for f in files)
    except Exception as err:  # noqa: BLE001 - recorded and reported, the other experiments still run
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        return ExperimentRecord(name, entry.title, entry.source, entry.budget_s, key, (), (),
                                time.perf_counter() - start, "", error=last)
    record = ExperimentRecord(name, entry.title, entry.source, entry.budget_s, key, claims, files,
                              time.perf_counter() - start, markdown, file_hashes=hashes)
    with atomic_write(exp_dir / MANIFEST) as handle:
        json.dump(record.manifest(), handle, indent=1, ensure_ascii=False)
    return record


def present_record(name: str, out_dir: Path, *, quick: bool = True, device: str = "cpu") -> ExperimentRecord | None:
    """The record of an experiment found in ``out_dir`` but not run now: from its manifest when it validates
    (``stale`` set when its key no longer matches the code, mode or device), a stale record without claims
    when it does not; ``None`` when the folder has no manifest."""
    entry = experiments.spec(name)
    exp_dir = Path(out_dir) / name
    try:
        record, claims = read_manifest(exp_dir)
    except FileNotFoundError:
        return None
    except InvalidManifest as err:
        return ExperimentRecord(name, entry.title, entry.source, entry.budget_s, "", (), (), 0.0, "",
                                stale=f"its manifest does not validate ({err}); rerun it")
    key = cache_key(name, quick, device, code_version(entry.module))
    if record["key"] == key:
        return _record_from_manifest(entry, record, claims, cached=True)
    return _record_from_manifest(entry, record, claims, cached=False,
                                 stale="computed by other code, mode or device (cache key differs); rerun it")


# ------------------------------------------------------------------------------------------------------------
# reading a results folder back


@dataclass(frozen=True)
class LoadedExperiment:
    """One experiment of a results folder, as its manifest describes it (validated like the cache).

    Attributes:
        name, title, source, budget_s: what the registry said when it ran.
        key: the cache key it was computed under.
        claims: its counted claims, each verdict recomputed from the stored numbers and rule.
        sanity: its sanity checks (verdicts recomputed too).
        files: the files it wrote (absolute paths, each checked against its stored SHA-256).
        runtime_s: its wall time when it was computed.
        markdown: its own summary (tables).
    """

    name: str
    title: str
    source: str
    budget_s: float
    key: str
    claims: tuple[Claim, ...]
    sanity: tuple[Claim, ...]
    files: tuple[Path, ...]
    runtime_s: float
    markdown: str

    @property
    def passed(self) -> bool:
        """Every claim and every sanity check passed."""
        return all(c.passed for c in self.claims + self.sanity)

    def file(self, name: str) -> Path:
        """The written file called ``name`` (its file name, e.g. ``"fig2_losses.csv"``, or its stem)."""
        matches = [f for f in self.files if name in (f.name, f.stem)]
        if len(matches) != 1:
            listed = ", ".join(f.name for f in self.files) or "none"
            what = "is ambiguous" if matches else "is not among its files"
            raise KeyError(f"{self.name}: file {name!r} {what}; files: {listed}")
        return matches[0]

    def data(self, name: str) -> dict[str, np.ndarray]:
        """The columns of the CSV file ``name`` (its file name or stem): header name -> array, in file order.

        A column whose non-empty cells all parse as numbers is a float array (an empty cell is NaN); a column
        of ``True``/``False`` is a bool array; any other column is an array of strings."""
        tables = [f for f in self.files if f.suffix.lower() == ".csv" and name in (f.name, f.stem)]
        path = tables[0] if len(tables) == 1 else self.file(name)  # the stem of a CSV: that CSV, not its figure
        if path.suffix.lower() != ".csv":
            raise ValueError(f"{self.name}: file {path.name!r} is not a CSV file; data() reads CSV files only")
        return read_csv_columns(path)


def read_csv_columns(path) -> dict[str, np.ndarray]:
    """The columns of a CSV file written by :func:`lrwb.numerics.io.write_csv`: header name -> array."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    if not table:
        raise ValueError(f"{path}: empty CSV file (expected a header row)")
    header, body = table[0], table[1:]
    for number, row in enumerate(body, 2):
        if len(row) != len(header):
            raise ValueError(f"{path} line {number}: {len(row)} cells, the header has {len(header)}")
    columns = {}
    for j, column in enumerate(header):
        cells = [row[j] for row in body]
        filled = [c for c in cells if c != ""]
        if filled and all(c in ("True", "False") for c in filled) and len(filled) == len(cells):
            columns[column] = np.array([c == "True" for c in cells], dtype=bool)
            continue
        try:
            columns[column] = np.array([float(c) if c != "" else np.nan for c in cells], dtype=float)
        except ValueError:
            columns[column] = np.array(cells, dtype=str)
    return columns


@dataclass(frozen=True)
class LoadedResults:
    """A results folder read back by :func:`load`: its experiments, in report order."""

    out_dir: Path
    experiments: tuple[LoadedExperiment, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.experiments)

    def __getitem__(self, name: str) -> LoadedExperiment:
        for entry in self.experiments:
            if entry.name == name:
                return entry
        raise KeyError(f"{self.out_dir}: no experiment {name!r}; present: {', '.join(self.names()) or 'none'}")

    def __iter__(self):
        return iter(self.experiments)

    def __len__(self) -> int:
        return len(self.experiments)

    @property
    def claims(self) -> tuple[Claim, ...]:
        """Every experiment's counted claims (without the sanity checks)."""
        return tuple(c for e in self.experiments for c in e.claims)

    @property
    def sanity(self) -> tuple[Claim, ...]:
        """Every experiment's sanity checks."""
        return tuple(c for e in self.experiments for c in e.sanity)


def load(out_dir) -> LoadedResults:
    """Read the results folder of ``lrwb reproduce --out OUT`` back: every experiment that has a manifest.

    Each manifest is validated as the cache validates it (:func:`read_manifest`: exact layout, files confined
    to the experiment's folder and unchanged since they were written) and each verdict is recomputed from the
    stored numbers and rule; a manifest that does not validate raises :class:`InvalidManifest` naming its
    folder. Sub-folders without a manifest (an experiment that raised or was interrupted) are left out. The
    cache key is not compared with the current code: the folder is read as it is.

    >>> load("no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: results folder no/such/folder does not exist (write one with: lrwb reproduce --out no/such/folder)

    Typical use (docs/reproduce.md)::

        results = load("results")
        fig2 = results["plrf_fig2"]
        [c for c in fig2.claims if not c.passed]
        columns = fig2.data("plrf_fig2_final_losses.csv")   # header name -> numpy array
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise FileNotFoundError(f"results folder {out} does not exist (write one with: lrwb reproduce --out {out})")
    loaded = {}
    for exp_dir in sorted(p for p in out.iterdir() if p.is_dir() and (p / MANIFEST).exists()):
        try:
            record, claims = read_manifest(exp_dir)
        except InvalidManifest as err:
            message = str(err) if str(exp_dir) in str(err) else f"{exp_dir}: {err}"
            raise InvalidManifest(f"results folder {out}: experiment {exp_dir.name} does not validate "
                                  f"({message}); rerun it with lrwb reproduce --out {out} --only {exp_dir.name}"
                                  ) from None
        loaded[exp_dir.name] = LoadedExperiment(
            record["name"], record["title"], record["source"], float(record["budget_s"]), record["key"],
            counted(claims), sanity_checks(claims), tuple(out.joinpath(*PurePosixPath(f).parts) for f in record["files"]),
            float(record["runtime_s"]), record["markdown"])
    if not loaded:
        raise FileNotFoundError(f"results folder {out} holds no experiment results (no {out}/*/{MANIFEST}); "
                                f"write them with: lrwb reproduce --out {out}")
    rank = {name: i for i, name in enumerate(experiments.names())}  # report order; unregistered ones last
    order = sorted(loaded, key=lambda name: (rank.get(name, len(rank)), name))
    return LoadedResults(out, tuple(loaded[name] for name in order))


FORMULAS_MATHML = "formulas_mathml.json"


def write_formulas(out_dir: Path) -> Path:
    """``OUT/formulas.tex`` (every derived result as LaTeX) and ``OUT/formulas_mathml.json`` (the same results as
    MathML, for report.html); rebuilt unless ``theory/`` and the MathML writer are unchanged since the last write
    and both files still hash to what was written (the stamp ``.formulas.key`` holds the key and the hashes)."""
    out_dir = Path(out_dir)
    target, mathml_file = out_dir / "formulas.tex", out_dir / FORMULAS_MATHML
    stamp = out_dir / ".formulas.key"
    dirs = _package_dirs(None)
    sources = {f"theory:{p.relative_to(dirs['lrwb.theory']).as_posix()}": p for p in dirs["lrwb.theory"].rglob("*.py")}
    sources["lrwb.app.report"] = Path(__file__).with_name("report.py")
    key = _hash_files(sources)[:16]
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if stamp.read_text().split() == [key, _sha256_file(target), _sha256_file(mathml_file)]:
            return target
    from lrwb.theory import export
    from lrwb.theory.results import registry

    from lrwb.app.report import formula_entries

    results = list(registry())
    with atomic_write(target) as handle:
        handle.write(export.latex_document(results))
    with atomic_write(mathml_file) as handle:
        json.dump(formula_entries(results), handle, indent=0, ensure_ascii=False)
    with atomic_write(stamp) as handle:
        handle.write(f"{key} {_sha256_file(target)} {_sha256_file(mathml_file)}\n")
    return target


def select_experiments(only: str | None) -> tuple[str, ...]:
    """All registered names, or the comma-separated subset ``only`` (unknown names are an error)."""
    available = experiments.names()
    if only is None:
        return available
    chosen = tuple(n.strip() for n in only.split(",") if n.strip())
    if not chosen:
        raise ValueError(f"--only {only!r} names no experiment; expected NAME[,NAME] from: {', '.join(available)}")
    unknown = [n for n in chosen if n not in available]
    if unknown or not chosen:
        raise ValueError(f"--only {only!r}: unknown experiment(s) {unknown}; valid names: {', '.join(available)}")
    return chosen


@contextlib.contextmanager
def _output_lock(out: Path):
    """Hold ``out/.lrwb-reproduce.lock`` (an OS file lock, released when the process ends) or raise
    :class:`OutputFolderBusy` at once: two runs into one folder would both do all the work and race on it."""
    path = out / LOCK
    handle = open(path, "a+")
    try:
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise OutputFolderBusy(f"--out {out}: another lrwb reproduce (pid {holder}) is writing into this folder; "
                                   "wait for it to finish or choose another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def _clean_temporaries(out: Path) -> list[Path]:
    """Delete the ``.*.tmp`` files (lrwb.numerics.io.atomic_write's) an interrupted run left under ``out``."""
    removed = []
    for folder, dirs, files in os.walk(out, followlinks=False):
        for name in files:
            path = Path(folder) / name
            if name.startswith(".") and name.endswith(".tmp") and not path.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed


def reproduce(out_dir="results", *, quick: bool = True, only: str | None = None, device: str = "cpu",
              force: bool = False, progress: bool = True,
              on_record: Callable[[ExperimentRecord], None] | None = None) -> ReproduceRun:
    """Run (or reuse) every selected experiment, then write ``formulas.tex``, ``report.md`` and ``report.html``.

    The report covers every registered experiment present in ``out_dir``, selected or not (see
    :func:`present_record`). A second concurrent run into the same ``out_dir`` raises :class:`OutputFolderBusy`.

    Args:
        out_dir: output directory (created).
        quick: CI-sized horizons (each experiment within its ``budget_s`` on 2 cores) or paper scale.
        only: comma-separated experiment names (default: all, in report order).
        device: ``cpu`` or ``cuda`` (passed to experiments that take a device; ``cuda`` must be available).
        force: recompute even when a valid cached result exists.
        progress: show an overall progress bar and a per-experiment budget bar (tqdm) when stderr is a
            terminal; never elsewhere (a log gets one plain line per experiment from ``on_record``).
        on_record: called with each finished record (the CLI prints a line per experiment).

    Typical use: ``run = reproduce("results", only="plrf_fig2"); print(run.summary())``, then
    :func:`load` to read the folder back later. Bad arguments fail before any work:

    >>> reproduce("results", device="tpu")
    Traceback (most recent call last):
    ...
    ValueError: --device 'tpu' must be 'cpu' or 'cuda'
    """
    from lrwb.app import report

    if device not in ("cpu", "cuda"):
        raise ValueError(f"--device {device!r} must be 'cpu' or 'cuda'")
    if device == "cuda":
        _require_cuda()
    names = select_experiments(only)
    progress = bool(progress) and _stderr_is_terminal()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _output_lock(out):
        _clean_temporaries(out)
        start = time.perf_counter()
        fresh = {}
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(names), desc="reproduce", unit="exp")
        try:
            for name in names:
                if bar is not None:
                    bar.set_postfix_str(name)
                record = run_experiment(name, out, quick=quick, device=device, force=force, progress=progress)
                fresh[name] = record
                if on_record is not None:
                    on_record(record)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        records = []
        for name in experiments.names():  # report order; experiments not run now but present in the folder too
            record = fresh.get(name) or present_record(name, out, quick=quick, device=device)
            if record is not None:
                records.append(record)
        formulas = write_formulas(out)
        run = ReproduceRun(out, tuple(records), time.perf_counter() - start)
        files = report.write_reports(run, quick=quick, device=device)
        return ReproduceRun(out, run.records, time.perf_counter() - start,
                            tuple(str(p) for p in (formulas, *files)))


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def _require_cuda() -> None:
    try:
        import torch
    except ImportError:
        raise ValueError("--device cuda needs PyTorch (pip install 'lr-workbench[torch]')") from None
    if not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA GPU is visible to PyTorch (torch.cuda.is_available() is False); "
                         "use --device cpu")
