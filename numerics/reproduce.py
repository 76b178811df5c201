"""``lrwb reproduce``: run every registered experiment, cache what finished, and collect the claims.

Each experiment runs in ``OUT/<name>/`` and, once it returns, a ``manifest.json`` is written there (last, and
atomically) holding its cache key, claims, files, runtime and Markdown summary. A later run reuses the manifest
when the key matches and every listed file still exists, so an interrupted run resumes where it stopped and
never trusts a half-finished experiment (the experiments themselves write every file atomically).

The cache key hashes the experiment's name, the mode (quick/full), the device and the *code version*: the
source of ``theory/`` and ``numerics/`` minus the CLI, the report and the other experiments' modules, so editing
one experiment recomputes only that experiment, while editing the dynamics recomputes everything.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from numerics import experiments
from numerics.experiments.claims import Claim, counted, sanity_checks
from numerics.io import atomic_write

__all__ = [
    "ExperimentRecord",
    "ReproduceRun",
    "code_version",
    "cache_key",
    "load_manifest",
    "run_experiment",
    "write_formulas",
    "reproduce",
    "select_experiments",
]

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"
#: bumped when the manifest layout changes (old manifests are then recomputed, not misread).
#: 2: claims carry their rule (kind, tol) and category; the verdict is recomputed on read-back.
MANIFEST_VERSION = 2


@dataclass(frozen=True)
class ExperimentRecord:
    """What one experiment produced (fresh or from the cache), as the report needs it.

    Attributes:
        name, title, source, budget_s: from the registry.
        key: the cache key it was computed under.
        claims: its checks: claims and sanity checks (:class:`~numerics.experiments.claims.SanityCheck`).
        files: written paths relative to the output directory.
        runtime_s: wall time of the experiment when it was computed (not of a cache hit).
        markdown: the experiment's own summary (tables).
        cached: True when this run reused the manifest.
        error: the traceback's last line when the experiment raised (then no claims and not cached).
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
        return not self.cached and self.runtime_s > self.budget_s

    def manifest(self) -> dict:
        return {"manifest_version": MANIFEST_VERSION, "name": self.name, "title": self.title, "source": self.source,
                "budget_s": self.budget_s, "key": self.key, "claims": [c.as_dict() for c in self.claims],
                "files": list(self.files), "runtime_s": self.runtime_s, "markdown": self.markdown}


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
                "sanity_failed": len(sanity) - sane}

    def summary(self) -> str:
        n = self.counts
        line = (f"{n['claims']} claims checked: {n['passed']} passed, {n['failed']} failed; "
                f"{n['sanity']} sanity checks: {n['sanity_passed']} ok, {n['sanity_failed']} failed "
                f"({n['experiments']} experiments, {n['cached']} from cache")
        if n["errors"]:
            line += f", {n['errors']} raised an error"
        return line + f"; {self.wall_s:.1f} s)"


def _hash_files(paths) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(_PACKAGE_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_version(experiment_module: str | None = None) -> str:
    """SHA-256 of the code an experiment depends on.

    All ``.py`` files of ``theory/`` and ``numerics/`` except ``numerics/cli/``, this module, the report writer and
    the experiment modules other than ``experiment_module`` (a dotted name; ``None``: no experiment module).
    """
    own = None
    if experiment_module is not None:
        own = _PACKAGE_ROOT.joinpath(*experiment_module.split(".")).with_suffix(".py")
    skipped = {_PACKAGE_ROOT / "numerics" / "reproduce.py", _PACKAGE_ROOT / "numerics" / "report.py"}
    files = []
    for package in ("theory", "numerics"):
        for path in (_PACKAGE_ROOT / package).rglob("*.py"):
            parts = path.relative_to(_PACKAGE_ROOT).parts
            if path in skipped or parts[:2] == ("numerics", "cli"):
                continue
            if parts[:2] == ("numerics", "experiments") and parts[-1] not in ("__init__.py", "claims.py") \
                    and path != own:
                continue
            files.append(path)
    return _hash_files(files)


def cache_key(name: str, quick: bool, device: str, version: str) -> str:
    """The key a finished experiment is cached under (first 16 hex digits of a SHA-256)."""
    payload = json.dumps({"name": name, "quick": bool(quick), "device": device, "code": version}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def load_manifest(exp_dir: Path, key: str) -> dict | None:
    """The manifest in ``exp_dir`` if it was written under ``key`` and all its files exist; else ``None``."""
    path = Path(exp_dir) / MANIFEST
    try:
        record = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if record.get("manifest_version") != MANIFEST_VERSION or record.get("key") != key:
        return None
    root = Path(exp_dir).parent
    if not all((root / f).is_file() for f in record.get("files", [])):
        return None
    try:  # claims are rebuilt from their rule; a record that does not parse is recomputed, not guessed
        [Claim.from_dict(c) for c in record.get("claims", [])]
    except (ValueError, TypeError):
        return None
    return record


def _relative_files(files, root: Path) -> tuple[str, ...]:
    out = []
    for f in files:
        path = Path(f).resolve()
        try:
            out.append(str(path.relative_to(root.resolve())))
        except ValueError:
            out.append(str(path))  # written outside the output directory: keep it absolute
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
    cached = None if force else load_manifest(exp_dir, key)
    if cached is not None:
        return ExperimentRecord(name, entry.title, entry.source, entry.budget_s, key,
                                tuple(Claim.from_dict(c) for c in cached["claims"]), tuple(cached["files"]),
                                float(cached["runtime_s"]), cached["markdown"], cached=True)
    start = time.perf_counter()
    try:
        with _BudgetTicker(name, entry.budget_s, progress):
            result = experiments.run(name, exp_dir, quick=quick, device=device)
        claims = tuple(result.claims)
        markdown = result.markdown()
        files = _relative_files(result.files, Path(out_dir))
    except Exception as err:  # noqa: BLE001 - recorded and reported, the other experiments still run
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        return ExperimentRecord(name, entry.title, entry.source, entry.budget_s, key, (), (),
                                time.perf_counter() - start, "", error=last)
    record = ExperimentRecord(name, entry.title, entry.source, entry.budget_s, key, claims, files,
                              time.perf_counter() - start, markdown)
    with atomic_write(exp_dir / MANIFEST) as handle:
        json.dump(record.manifest(), handle, indent=1, ensure_ascii=False)
    return record


def write_formulas(out_dir: Path) -> Path:
    """``OUT/formulas.tex``: every derived result as LaTeX; skipped when theory/ is unchanged since the last write."""
    target = Path(out_dir) / "formulas.tex"
    stamp = Path(out_dir) / ".formulas.key"
    key = _hash_files(list((_PACKAGE_ROOT / "theory").rglob("*.py")))[:16]
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == key:
        return target
    from theory import export
    from theory.results import registry

    with atomic_write(target) as handle:
        handle.write(export.latex_document(list(registry())))
    with atomic_write(stamp) as handle:
        handle.write(key + "\n")
    return target


def select_experiments(only: str | None) -> tuple[str, ...]:
    """All registered names, or the comma-separated subset ``only`` (unknown names are an error)."""
    available = experiments.names()
    if not only:
        return available
    chosen = tuple(n.strip() for n in only.split(",") if n.strip())
    unknown = [n for n in chosen if n not in available]
    if unknown or not chosen:
        raise ValueError(f"--only {only!r}: unknown experiment(s) {unknown}; valid names: {', '.join(available)}")
    return chosen


def reproduce(out_dir="results", *, quick: bool = True, only: str | None = None, device: str = "cpu",
              force: bool = False, progress: bool = True,
              on_record: Callable[[ExperimentRecord], None] | None = None) -> ReproduceRun:
    """Run (or reuse) every selected experiment, then write ``formulas.tex``, ``report.md`` and ``report.html``.

    Args:
        out_dir: output directory (created).
        quick: CI-sized horizons (each experiment within its ``budget_s`` on 2 cores) or paper scale.
        only: comma-separated experiment names (default: all, in report order).
        device: ``cpu`` or ``cuda`` (passed to experiments that take a device; ``cuda`` must be available).
        force: recompute even when a valid cached result exists.
        progress: show an overall progress bar and a per-experiment budget bar (tqdm).
        on_record: called with each finished record (the CLI prints a line per experiment).
    """
    from numerics import report

    if device not in ("cpu", "cuda"):
        raise ValueError(f"--device {device!r} must be 'cpu' or 'cuda'")
    if device == "cuda":
        _require_cuda()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = select_experiments(only)
    start = time.perf_counter()
    records = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(names), desc="reproduce", unit="exp")
    try:
        for name in names:
            if bar is not None:
                bar.set_postfix_str(name)
            record = run_experiment(name, out, quick=quick, device=device, force=force, progress=progress)
            records.append(record)
            if on_record is not None:
                on_record(record)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    formulas = write_formulas(out)
    run = ReproduceRun(out, tuple(records), time.perf_counter() - start)
    files = report.write_reports(run, quick=quick, device=device)
    return ReproduceRun(out, run.records, time.perf_counter() - start, tuple(str(p) for p in (formulas, *files)))


def _require_cuda() -> None:
    try:
        import torch
    except ImportError:
        raise ValueError("--device cuda needs PyTorch (pip install 'lr-workbench[torch]')") from None
    if not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA GPU is visible to PyTorch (torch.cuda.is_available() is False); "
                         "use --device cpu")
