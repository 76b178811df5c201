"""``lrwb reproduce``: caching, resumption, error isolation, reports — on tiny stand-in experiments.

The real experiments are tested in their own files; here two cheap registered functions exercise the runner.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lrwb import experiments
from lrwb.app import reproduce as rep  # noqa: E402
from lrwb.app.cli import main  # noqa: E402
from lrwb.experiments.claims import Claim, SanityCheck  # noqa: E402
from lrwb.numerics.io import atomic_savefig, atomic_write  # noqa: E402
from lrwb.app.report import report_html  # noqa: E402

CALLS: list[str] = []


@dataclass(frozen=True)
class _Result:
    claims: tuple
    files: tuple
    runtime_s: float

    def markdown(self) -> str:
        return "| x | y |\n|---|---|\n| 1 | 2 |"


def _dummy(out_dir: Path, quick: bool = True) -> _Result:
    """A stand-in experiment: one CSV, one figure, a passing and a failing claim, a sanity check."""
    CALLS.append("dummy")
    with atomic_write(out_dir / "dummy.csv") as handle:
        handle.write("x,y\n1,2\n")
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    atomic_savefig(fig, out_dir / "dummy.png")
    plt.close(fig)
    claims = (Claim.within("dummy_exp", "slope of T^{b/a-1}", 0.5, 0.52, 0.05, source="test"),
              Claim.at_most("dummy_exp", "residual", 1e-6, 1e-3, source="test"),
              SanityCheck.at_most("dummy_exp", "optimum / feasible baseline", 1.0, 0.9, note="baseline is feasible"))
    return _Result(claims, (str(out_dir / "dummy.csv"), str(out_dir / "dummy.png")), 0.01)


def _broken(out_dir: Path, quick: bool = True):
    """A stand-in experiment that raises."""
    CALLS.append("broken")
    raise RuntimeError("deliberately broken")


def _dummy2(out_dir: Path, quick: bool = True) -> _Result:
    """A second stand-in experiment (one CSV, one failing claim)."""
    CALLS.append("dummy2")
    with atomic_write(out_dir / "two.csv") as handle:
        handle.write("x\n3\n")
    return _Result((Claim.at_least("dummy2_exp", "margin", 1.0, 0.5, source="test"),), (str(out_dir / "two.csv"),),
                   0.01)


@pytest.fixture
def registered(monkeypatch):
    experiments.names()  # load the real modules first, so the stand-ins are added on top
    monkeypatch.setitem(experiments._REGISTRY, "dummy_exp",
                        experiments.ExperimentSpec("dummy_exp", _dummy, "Dummy", "test", 5.0))
    monkeypatch.setitem(experiments._REGISTRY, "dummy2_exp",
                        experiments.ExperimentSpec("dummy2_exp", _dummy2, "Dummy two", "test", 5.0))
    monkeypatch.setitem(experiments._REGISTRY, "broken_exp",
                        experiments.ExperimentSpec("broken_exp", _broken, "Broken", "test", 5.0))
    # formulas.tex needs the whole registry (5–10 s); the runner's caching of it is tested separately.
    monkeypatch.setattr(rep, "write_formulas", lambda out: Path(out) / "formulas.tex")
    CALLS.clear()
    return monkeypatch









def test_registry_validates_names_and_budgets():
    with pytest.raises(ValueError, match="identifier"):
        experiments.experiment("bad name")
    with pytest.raises(ValueError, match="budget_s"):
        experiments.experiment("ok_name", budget_s=0)
    with pytest.raises(ValueError, match="unknown"):
        experiments.spec("no_such_experiment")


def test_run_caches_and_reuses(registered, tmp_path):
    first = rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy"]
    assert first.counts == {"experiments": 1, "errors": 0, "cached": 0, "claims": 2, "passed": 1, "failed": 1,
                            "sanity": 1, "sanity_passed": 1, "sanity_failed": 0, "stale": 0}
    manifest = json.loads((tmp_path / "dummy_exp" / "manifest.json").read_text())
    assert list(manifest["files"]) == ["dummy_exp/dummy.csv", "dummy_exp/dummy.png"]
    assert manifest["files"]["dummy_exp/dummy.csv"] == hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    second = rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy"], "a valid cache entry must not be recomputed"
    assert second.records[0].cached and second.claims == first.claims and second.sanity == first.sanity
    rep.reproduce(tmp_path, only="dummy_exp", progress=False, force=True)
    assert CALLS == ["dummy", "dummy"]


def test_cache_invalidated_by_code_change_and_missing_file(registered, tmp_path):
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    (tmp_path / "dummy_exp" / "dummy.csv").unlink()  # as if an interrupted run lost a file
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy", "dummy"]
    registered.setattr(rep, "code_version", lambda module=None: "a different version")
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy", "dummy", "dummy"]


def test_edited_manifest_cannot_pass_a_claim(registered, tmp_path):
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    path = tmp_path / "dummy_exp" / "manifest.json"
    manifest = json.loads(path.read_text())
    for c in manifest["claims"]:
        c["passed"] = True  # a hand edit of the stored verdicts
    path.write_text(json.dumps(manifest))
    cached = rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy"] and cached.records[0].cached
    assert cached.counts["failed"] == 1, "the verdict is recomputed from derived, measured and the rule"
    manifest["claims"][0]["kind"] = "roughly"  # a record that does not parse is recomputed, not guessed
    path.write_text(json.dumps(manifest))
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy", "dummy"]


def test_code_version_tracks_own_experiment_only():
    base = rep.code_version("lrwb.experiments.plrf_fig2")
    assert base == rep.code_version("lrwb.experiments.plrf_fig2")
    assert base != rep.code_version("lrwb.experiments.plrf_fig3")
    assert rep.cache_key("x", True, "cpu", base) != rep.cache_key("x", False, "cpu", base)


def test_broken_experiment_is_isolated_and_not_cached(registered, tmp_path):
    outcome = rep.reproduce(tmp_path, only="broken_exp,dummy_exp", progress=False)
    broken, dummy = outcome.records
    assert "deliberately broken" in broken.error and not broken.claims
    assert dummy.claims and not (tmp_path / "broken_exp" / "manifest.json").exists()
    rep.reproduce(tmp_path, only="broken_exp,dummy_exp", progress=False)
    assert CALLS.count("broken") == 2 and CALLS.count("dummy") == 1


def test_reports_show_verdicts_and_inline_figures(registered, tmp_path):
    outcome = rep.reproduce(tmp_path, only="dummy_exp,broken_exp", progress=False)
    md = (tmp_path / "report.md").read_text()
    page = (tmp_path / "report.html").read_text()
    assert "2 claims checked: 1 passed, 1 failed" in md and "1 sanity checks, not counted: 1 ok, 0 failed" in md
    assert "| dummy_exp | residual | 1e-06 | 0.001 | ≤ 1e-06 | FAIL | test |" in md
    # the sanity check sits in its own section, after the verdict table, not in it
    sanity_row = "| dummy_exp | optimum / feasible baseline | 1 | 0.9 | ≤ 1 | ok | baseline is feasible |"
    assert md.index("## Sanity checks") > md.index("## Verdicts") and md.index(sanity_row) > md.index("## Sanity")
    assert "<h2>Sanity checks (not counted)</h2>" in page and "optimum / feasible baseline" in page
    assert "![dummy.png](dummy_exp/dummy.png)" in md
    assert "data:image/png;base64," in page and "<td class='FAIL'>FAIL</td>" in page
    assert "deliberately broken" in page
    assert not list(tmp_path.rglob("*.tmp")), "no temporary files may be left behind"
    assert {Path(f).name for f in outcome.files} == {"formulas.tex", "report.md", "report.html"}


def test_cli_exit_codes_and_errors(registered, tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path), "--only", "dummy_exp", "--no-progress"]) == 0
    assert "2 claims checked: 1 passed, 1 failed; 1 sanity checks: 1 ok, 0 failed" in capsys.readouterr().out
    assert main(["reproduce", "--out", str(tmp_path), "--only", "dummy_exp", "--no-progress", "--strict"]) == 1
    assert main(["reproduce", "--out", str(tmp_path), "--only", "broken_exp", "--no-progress"]) == 1
    assert main(["reproduce", "--out", str(tmp_path), "--only", "nope"]) == 2
    assert "unknown experiment" in capsys.readouterr().err
    assert main(["reproduce", "--list"]) == 0
    assert "plrf_fig2" in capsys.readouterr().out


def test_cuda_request_without_gpu_is_a_clear_error(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible")
    with pytest.raises(ValueError, match="CUDA"):
        rep.reproduce(tmp_path, device="cuda", progress=False)


def test_formulas_written_once_per_theory_version(tmp_path, monkeypatch):
    calls = []
    import lrwb.theory.export as export

    monkeypatch.setattr(export, "latex_document", lambda results: calls.append(1) or "\\documentclass{article}")
    rep.write_formulas(tmp_path)
    rep.write_formulas(tmp_path)
    assert calls == [1] and (tmp_path / "formulas.tex").read_text().startswith("\\documentclass")
    (tmp_path / ".formulas.key").write_text("stale\n")
    rep.write_formulas(tmp_path)
    assert calls == [1, 1]
    (tmp_path / "formulas.tex").write_text("edited")  # a changed output is rebuilt, not trusted
    rep.write_formulas(tmp_path)
    assert calls == [1, 1, 1]
    # the MathML twin of formulas.tex: every derived result, rendered in report.html
    entries = json.loads((tmp_path / rep.FORMULAS_MATHML).read_text())
    from lrwb.theory.results import registry

    assert [e["name"] for e in entries] == [r.name for r in registry()]
    assert all(e["mathml"].startswith("<math display='block'>") and "\\" not in e["mathml"] for e in entries)
    page = report_html(rep.ReproduceRun(tmp_path, (), 0.0))
    assert f"Derived formulas ({len(entries)})" in page and page.count("<math display='block'>") == len(entries)
    assert "<mfrac>" in page and "\\frac" not in page



def test_docs_budget_table_lists_every_experiment_with_its_budget():
    # docs/reproduce.md is written from one measured run (report.budget_table_markdown); it must stay in step
    # with the registry: every experiment listed, with the budget it is registered with.
    page = (Path(__file__).resolve().parents[2] / "docs" / "reproduce.md").read_text()
    for name in experiments.names():
        row = next((line for line in page.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"docs/reproduce.md has no budget row for {name}"
        assert f"| {experiments.spec(name).budget_s:.0f} s |" in row, f"budget of {name} differs from the registry"
    total = sum(experiments.spec(n).budget_s for n in experiments.names())
    assert total < 600, f"quick budgets add up to {total:.0f} s, over the 10-minute target"


# ------------------------------------------------------------------------------------------------------------
# the cache must not lie (issue 11 §5)


def _rec(run, name: str = "dummy_exp"):
    return next(r for r in run.records if r.name == name)


def _manifest_path(root: Path, name: str = "dummy_exp") -> Path:
    return root / name / "manifest.json"


def _edit_manifest(root: Path, edit, name: str = "dummy_exp") -> None:
    path = _manifest_path(root, name)
    record = json.loads(path.read_text())
    edit(record)
    path.write_text(json.dumps(record))


@pytest.mark.parametrize("damage", ["truncated_csv", "random_png"])
def test_changed_file_is_recomputed_not_reused(registered, tmp_path, damage):
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    if damage == "truncated_csv":
        (tmp_path / "dummy_exp" / "dummy.csv").write_text("x,y\n1,")
    else:
        (tmp_path / "dummy_exp" / "dummy.png").write_bytes(bytes(range(256)) * 4)
    again = rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy", "dummy"] and not again.records[0].cached
    assert (tmp_path / "dummy_exp" / "dummy.csv").read_text() == "x,y\n1,2\n"
    page = (tmp_path / "report.html").read_text()
    assert base64.b64encode(bytes(range(256)) * 4).decode()[:40] not in page


def _unknown_top_key(r):
    r["extra"] = 1


def _unknown_claim_key(r):
    r["claims"][0]["confidence"] = 0.9


def _missing_claim_key(r):
    del r["claims"][0]["measured"]


def _wrong_runtime_type(r):
    r["runtime_s"] = "fast"


def _wrong_derived_type(r):
    r["claims"][0]["derived"] = "0.5"


def _bool_as_number(r):
    r["claims"][0]["measured"] = True


def _unknown_category(r):
    r["claims"][0]["category"] = "maybe"


def _old_version(r):
    r["manifest_version"] = 1


def _no_version(r):
    del r["manifest_version"]


def _files_as_list(r):
    r["files"] = list(r["files"])


def _hash_not_a_hash(r):
    r["files"]["dummy_exp/dummy.csv"] = 42


def _other_name(r):
    r["name"] = "dummy2_exp"


def _unknown_rule(r):
    r["claims"][0]["kind"] = "vibes"


def _tolerance_as_text(r):
    r["claims"][0]["tol"] = "0.05"


def _negative_tolerance(r):
    r["claims"][0]["tol"] = -1.0


def _claims_not_a_list(r):
    r["claims"] = {"0": r["claims"][0]}


MANIFEST_EDITS = [_unknown_top_key, _unknown_claim_key, _missing_claim_key, _wrong_runtime_type, _wrong_derived_type,
                  _bool_as_number, _unknown_category, _old_version, _no_version, _files_as_list, _hash_not_a_hash,
                  _other_name, _unknown_rule, _tolerance_as_text, _negative_tolerance, _claims_not_a_list]


@pytest.mark.parametrize("edit", MANIFEST_EDITS, ids=lambda f: f.__name__.strip("_"))
def test_manifest_that_does_not_validate_is_recomputed(registered, tmp_path, edit):
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    _edit_manifest(tmp_path, edit)
    again = rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy", "dummy"] and not again.records[0].cached and not again.records[0].error
    # and the rewritten manifest is valid again: a third run reuses it
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy", "dummy"]


@pytest.mark.parametrize("content", [b"{not json", b"", b"[1, 2]", b"\xff\xfe\x00garbage", b'{"manifest_version": NaN}',
                                     b"[" * 100000])
def test_unreadable_manifest_is_recomputed(registered, tmp_path, content):
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    _manifest_path(tmp_path).write_bytes(content)
    again = rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy", "dummy"] and not again.records[0].cached


def test_nan_in_a_claim_is_recomputed(registered, tmp_path):
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    path = _manifest_path(tmp_path)
    text = path.read_text()
    record = json.loads(text)
    old = json.dumps(record["claims"][0]["measured"])
    path.write_text(text.replace(f'"measured": {old}', '"measured": NaN', 1))
    assert "NaN" in path.read_text()
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert CALLS == ["dummy", "dummy"]


@pytest.mark.parametrize("where", ["dotdot", "absolute", "inner_dotdot", "other_experiment", "symlink_out", "nul",
                                   "backslash_dotdot"])
def test_manifest_files_are_confined_to_the_experiment_folder(registered, tmp_path, where):
    out = tmp_path / "out"
    rep.reproduce(out, only="dummy_exp,dummy2_exp", progress=False)
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    digest = hashlib.sha256(b"SECRET-CONTENT").hexdigest()
    if where == "symlink_out":
        (out / "dummy_exp" / "link.csv").symlink_to(secret)
        rel = "dummy_exp/link.csv"
    else:
        rel = {"dotdot": "../secret.txt", "absolute": str(secret), "inner_dotdot": "dummy_exp/../../secret.txt",
               "other_experiment": "dummy2_exp/two.csv", "nul": "dummy_exp/a\x00b",
               "backslash_dotdot": "dummy_exp\\..\\..\\secret.txt"}[where]
        if where == "other_experiment":
            digest = hashlib.sha256(b"x\n3\n").hexdigest()

    def add(record):
        record["files"][rel] = digest  # the right hash: only the confinement rule can refuse it

    _edit_manifest(out, add)
    CALLS.clear()
    again = rep.reproduce(out, only="dummy_exp", progress=False)
    assert CALLS == ["dummy"] and rel not in _rec(again).files and not _rec(again).cached
    assert "SECRET-CONTENT" not in (out / "report.html").read_text() + (out / "report.md").read_text()
    assert rep.load_manifest(out / "dummy_exp", _rec(again).key) is not None


def test_stale_temporaries_are_cleaned(registered, tmp_path):
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    orphans = [tmp_path / ".report.md.k2j4h5g6.tmp", tmp_path / "dummy_exp" / ".dummy.csv.a1b2c3d4.tmp"]
    for orphan in orphans:
        orphan.write_text("half-written")
    keep = tmp_path / "dummy_exp" / "notes.tmp"  # not an atomic_write temporary: not ours to delete
    keep.write_text("mine")
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    assert not any(o.exists() for o in orphans) and keep.read_text() == "mine"


_HOLDER = """
import sys, time
from pathlib import Path
from lrwb import experiments
from lrwb.app import reproduce

@experiments.experiment("held_exp", budget_s=5)
def held(out_dir, quick=True):
    '''Holds the output folder until the release file appears.'''
    out_dir.mkdir(parents=True, exist_ok=True)
    (Path(sys.argv[1]) / "started").write_text("1")
    while not (Path(sys.argv[1]) / "release").exists():
        time.sleep(0.05)
    return None

reproduce.write_formulas = lambda out: Path(out) / "formulas.tex"  # the registry is not needed here
try:
    reproduce.reproduce(sys.argv[1], only="held_exp", progress=False)
except Exception:
    pass  # held() returns no result: recorded as an error; only the lock matters here
print("holder done", flush=True)
"""


def test_second_run_into_the_same_folder_stops_with_a_clear_message(registered, tmp_path, capsys):
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    out.mkdir()
    repo = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], cwd=repo, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # the holder imports numpy/sympy first (seconds on a loaded machine)
        while not (out / "started").exists():
            assert holder.poll() is None, holder.communicate()
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.05)
        with pytest.raises(rep.OutputFolderBusy, match=rf"another lrwb reproduce \(pid {holder.pid}\)"):
            rep.reproduce(out, only="dummy_exp", progress=False)
        assert main(["reproduce", "--out", str(out), "--only", "dummy_exp", "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is writing into this folder" in err[0] and "Traceback" not in err[0]
        assert CALLS == [], "the second run must do no work"
    finally:
        (out / "release").write_text("1")
        stdout, stderr = holder.communicate(timeout=120)
    assert "holder done" in stdout, stderr
    rep.reproduce(out, only="dummy_exp", progress=False)  # the lock went with its process
    assert CALLS == ["dummy"]


def _copy_sources(dest: Path) -> Path:
    import shutil

    repo = Path(__file__).resolve().parents[2]
    for package in ("lrwb", "theory", "numerics"):
        shutil.copytree(repo / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.gz", "data"))
    return dest


def test_code_version_follows_the_imports(tmp_path):
    root = _copy_sources(tmp_path)
    closure = rep.module_closure("lrwb.experiments.plrf_fig1b", root)
    assert "lrwb.experiments.plrf_fig2" in closure and "lrwb.experiments.plrf_fig3" not in closure
    assert "lrwb.app.reproduce" not in closure and "lrwb.app.cli" not in closure
    names = ("plrf_fig1b", "plrf_fig2", "plrf_fig3", "plrf_fig5")
    before = {n: rep.code_version(f"lrwb.experiments.{n}", root) for n in names}
    with open(root / "lrwb" / "experiments" / "plrf_fig2.py", "a") as handle:
        handle.write("\n# an edit\n")
    after = {n: rep.code_version(f"lrwb.experiments.{n}", root) for n in names}
    # fig1b and fig5 import fit_loss_exponent from fig2: an edit there recomputes them; fig3 does not import it
    assert {n for n in names if after[n] != before[n]} == {"plrf_fig1b", "plrf_fig2", "plrf_fig5"}
    with open(root / "lrwb" / "app" / "report.py", "a") as handle:  # not imported by any experiment
        handle.write("\n# an edit\n")
    assert {n: rep.code_version(f"lrwb.experiments.{n}", root) for n in names} == after
    with open(root / "numerics" / "stability.py", "a") as handle:  # imported (transitively) by all four
        handle.write("\n# an edit\n")
    assert all(rep.code_version(f"lrwb.experiments.{n}", root) != after[n] for n in names)


def test_only_into_a_full_folder_reports_every_experiment(registered, tmp_path):
    full = rep.reproduce(tmp_path, only="dummy_exp,dummy2_exp", progress=False)
    assert full.counts["claims"] == 3
    part = rep.reproduce(tmp_path, only="dummy2_exp", progress=False)
    assert {r.name for r in part.records} == {"dummy_exp", "dummy2_exp"} and part.counts["claims"] == 3
    assert _rec(part).cached and not _rec(part).stale
    # dummy_exp's code changes: not rerun by --only dummy2_exp, so shown from its manifest, marked stale
    real_key = rep.cache_key
    registered.setattr(rep, "cache_key",
                       lambda name, quick, device, version: real_key(name, quick, device, version + name[:6]))
    CALLS.clear()
    part = rep.reproduce(tmp_path, only="dummy2_exp", progress=False)
    assert CALLS == ["dummy2"]
    stale = _rec(part)
    assert "cache key differs" in stale.stale and not _rec(part, "dummy2_exp").stale and part.counts["stale"] == 1
    assert part.counts["claims"] == 3 and part.counts["failed"] == 2  # the failing claims are not hidden
    md = (tmp_path / "report.md").read_text()
    assert "| dummy_exp | residual | 1e-06 | 0.001 | ≤ 1e-06 | FAIL (stale) | test |" in md
    assert "| dummy_exp | 5 s | 0.0 s | stale |" in md.replace(f"{stale.runtime_s:.1f} s", "0.0 s")
    assert "<td class='stale'>FAIL (stale)</td>" in (tmp_path / "report.html").read_text()
    # a manifest that no longer validates: listed as stale, without claims
    (tmp_path / "dummy_exp" / "dummy.csv").write_text("x,y\n")
    part = rep.reproduce(tmp_path, only="dummy2_exp", progress=False)
    assert "does not validate" in _rec(part).stale and not _rec(part).claims
    assert part.counts["claims"] == 1 and "dummy_exp" in (tmp_path / "report.md").read_text()


def test_logs_have_no_progress_bars_when_stderr_is_not_a_terminal(registered, tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path), "--only", "dummy_exp"]) == 0  # progress on by default
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    # one plain line per experiment, then one per failed claim
    assert lines[0].startswith("dummy_exp ") and "1/2 claims passed" in lines[0]
    assert lines[1:] == ["FAIL dummy_exp: residual: derived 1e-06, measured 0.001 (tolerance ≤ 1e-06)"]


def test_experiment_writing_outside_its_folder_is_an_error(registered, tmp_path):
    def outside(out_dir: Path, quick: bool = True) -> _Result:
        target = out_dir.parent / "stray.csv"
        target.write_text("x\n")
        return _Result((), (str(target),), 0.0)

    registered.setitem(experiments._REGISTRY, "outside_exp",
                       experiments.ExperimentSpec("outside_exp", outside, "Outside", "test", 5.0))
    outcome = rep.reproduce(tmp_path, only="outside_exp", progress=False)
    assert "outside its folder" in outcome.records[0].error
    assert not (tmp_path / "outside_exp" / "manifest.json").exists()


# ------------------------------------------------------------------------------------------------------------
# report.html renders the mathematics and links the data (issue 11 §7)


def test_report_html_renders_tex_and_links_every_data_file(registered, tmp_path):
    rep.reproduce(tmp_path, only="dummy_exp,dummy2_exp", progress=False)
    page = (tmp_path / "report.html").read_text()
    md = (tmp_path / "report.md").read_text()
    assert "slope of T^{b/a-1}" in md  # Markdown keeps the TeX source
    assert "T^{b/a-1}" not in page and "slope of T<sup>b/a-1</sup>" in page
    for rel in ("dummy_exp/dummy.csv", "dummy2_exp/two.csv"):
        assert f"[{Path(rel).name}]({rel})" in md and f"<a href='{rel}'>{Path(rel).name}</a>" in page
    assert "<a href='formulas.tex'>formulas.tex</a>" in page



def test_readme_examples_do_not_overwrite_each_others_files():
    import re
    import shlex

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    written: list[str] = []
    for line in readme.splitlines():
        if not line.startswith("lrwb "):
            continue
        words = shlex.split(line.split("#")[0])
        for flag in ("--out", "--json", "--figure"):
            for i, word in enumerate(words[:-1]):
                if word == flag:
                    written.append(words[i + 1].rstrip("/"))
                    if words[1] == "design" and flag == "--out":  # design writes a .json sidecar beside the CSV
                        written.append(re.sub(r"\.csv$", ".json", words[i + 1]))
    assert len(written) >= 8, written  # the command-line section's examples were found
    duplicates = sorted({w for w in written if written.count(w) > 1})
    assert not duplicates, f"README examples write the same file twice: {duplicates}"


def test_code_version_of_a_data_reader_follows_the_data(monkeypatch):
    monkeypatch.delenv("LRWB_DATA", raising=False)
    assert "lrwb.numerics.data" in rep.module_closure("lrwb.experiments.real_curves")
    bundled = rep.code_version("lrwb.experiments.real_curves")
    plrf = rep.code_version("lrwb.experiments.plrf_fig3")
    monkeypatch.setenv("LRWB_DATA", "/somewhere/else")
    assert rep.code_version("lrwb.experiments.real_curves") != bundled  # other data: not the cached result
    assert rep.code_version("lrwb.experiments.plrf_fig3") == plrf  # reads no data


# ------------------------------------------------------------------------------------------------------------
# reading a results folder back: load(OUT)


def test_load_returns_claims_sanity_files_and_data(registered, tmp_path):
    run = rep.reproduce(tmp_path, only="dummy_exp,dummy2_exp", progress=False)
    results = rep.load(tmp_path)
    # the report's order (the registry's: same module, then by name), not the order of --only
    assert results.names() == tuple(r.name for r in run.records) == ("dummy2_exp", "dummy_exp")
    dummy = results["dummy_exp"]
    assert dummy.title == "Dummy" and dummy.source == "test" and dummy.budget_s == 5.0
    assert dummy.key == _rec(run).key and dummy.markdown == _rec(run).markdown
    assert dummy.claims == _rec(run).counted and dummy.sanity == _rec(run).sanity
    assert [c.passed for c in dummy.claims] == [True, False] and not dummy.passed
    assert results.claims == run.claims and results.sanity == run.sanity
    assert dummy.files == (tmp_path / "dummy_exp" / "dummy.csv", tmp_path / "dummy_exp" / "dummy.png")
    assert dummy.file("dummy.png") == dummy.file("dummy.png").resolve() == tmp_path / "dummy_exp" / "dummy.png"
    columns = dummy.data("dummy.csv")
    assert list(columns) == ["x", "y"] and columns["x"].tolist() == [1.0] and columns["y"].tolist() == [2.0]
    assert dummy.data("dummy")["y"].dtype == float  # by stem too
    assert results["dummy2_exp"].data("two.csv")["x"].tolist() == [3.0]
    with pytest.raises(ValueError, match="not a CSV"):
        dummy.data("dummy.png")
    with pytest.raises(KeyError, match="'nope' is not among its files; files: dummy.csv, dummy.png"):
        dummy.file("nope")
    with pytest.raises(KeyError, match="no experiment 'broken_exp'; present: dummy2_exp, dummy_exp"):
        results["broken_exp"]


def test_load_recomputes_verdicts_and_skips_folders_without_a_manifest(registered, tmp_path):
    rep.reproduce(tmp_path, only="dummy_exp,broken_exp", progress=False)
    (tmp_path / "broken_exp").mkdir(exist_ok=True)  # as an interrupted experiment leaves it: files, no manifest
    (tmp_path / "broken_exp" / "partial.csv").write_text("x\n")
    assert rep.load(tmp_path).names() == ("dummy_exp",)

    def edit(r):
        for c in r["claims"]:
            c["passed"] = not c["passed"]  # stored verdicts are never believed
        r["claims"][0]["measured"] = 0.60  # the numbers decide: |0.60 − 0.5| > 0.05

    _edit_manifest(tmp_path, edit)
    assert [c.passed for c in rep.load(tmp_path)["dummy_exp"].claims] == [False, False]


@pytest.mark.parametrize("damage, why", [
    (lambda root: (root / "dummy_exp" / "dummy.csv").write_text("x,y\n1,"), "changed since it was written"),
    (lambda root: _edit_manifest(root, _unknown_top_key), "unknown keys"),
    (lambda root: _edit_manifest(root, _unknown_rule), "kind"),
    (lambda root: _manifest_path(root).write_text("{"), "unreadable"),
])
def test_load_rejects_a_manifest_that_does_not_validate_naming_its_folder(registered, tmp_path, damage, why):
    rep.reproduce(tmp_path, only="dummy_exp", progress=False)
    damage(tmp_path)
    with pytest.raises(rep.InvalidManifest, match=why) as err:
        rep.load(tmp_path)
    assert str(tmp_path / "dummy_exp") in str(err.value) and "--only dummy_exp" in str(err.value)


def test_load_of_a_missing_or_empty_folder_says_how_to_write_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        rep.load(tmp_path / "absent")
    (tmp_path / "points").mkdir()  # a folder that is not an experiment's
    with pytest.raises(FileNotFoundError, match="no experiment results"):
        rep.load(tmp_path)


def test_csv_columns_are_numbers_bools_or_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('schedule,T,passed,loss\n"wsd:1,0.2,0",100,True,0.5\ncosine:1,200,False,\n')
    columns = rep.read_csv_columns(path)
    assert columns["schedule"].tolist() == ["wsd:1,0.2,0", "cosine:1"]  # a quoted comma stays in its cell
    assert columns["T"].tolist() == [100.0, 200.0] and columns["passed"].tolist() == [True, False]
    assert columns["loss"][0] == 0.5 and np.isnan(columns["loss"][1])  # an empty cell is NaN, never 0
    path.write_text("x,y\n1\n")
    with pytest.raises(ValueError, match="line 2: 1 cells, the header has 2"):
        rep.read_csv_columns(path)
    path.write_text("")
    with pytest.raises(ValueError, match="empty CSV"):
        rep.read_csv_columns(path)
