"""``lrwb reproduce``: caching, resumption, error isolation, reports — on tiny stand-in experiments.

The real experiments are tested in their own files; here two cheap registered functions exercise the runner.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from numerics import experiments, reproduce as rep  # noqa: E402
from numerics.cli import main  # noqa: E402
from numerics.experiments.claims import EXPONENT_TOLERANCE, Claim, SanityCheck, claims_markdown  # noqa: E402
from numerics.io import atomic_savefig, atomic_write  # noqa: E402
from numerics.report import markdown_table_html  # noqa: E402

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
    claims = (Claim.within("dummy_exp", "slope", 0.5, 0.52, 0.05, source="test"),
              Claim.at_most("dummy_exp", "residual", 1e-6, 1e-3, source="test"),
              SanityCheck.at_most("dummy_exp", "optimum / feasible baseline", 1.0, 0.9, note="baseline is feasible"))
    return _Result(claims, (str(out_dir / "dummy.csv"), str(out_dir / "dummy.png")), 0.01)


def _broken(out_dir: Path, quick: bool = True):
    """A stand-in experiment that raises."""
    CALLS.append("broken")
    raise RuntimeError("deliberately broken")


@pytest.fixture
def registered(monkeypatch):
    experiments.names()  # load the real modules first, so the stand-ins are added on top
    monkeypatch.setitem(experiments._REGISTRY, "dummy_exp",
                        experiments.ExperimentSpec("dummy_exp", _dummy, "Dummy", "test", 5.0))
    monkeypatch.setitem(experiments._REGISTRY, "broken_exp",
                        experiments.ExperimentSpec("broken_exp", _broken, "Broken", "test", 5.0))
    # formulas.tex needs the whole registry (5–10 s); the runner's caching of it is tested separately.
    monkeypatch.setattr(rep, "write_formulas", lambda out: Path(out) / "formulas.tex")
    CALLS.clear()
    return monkeypatch


def test_claim_constructors_and_nan_guard():
    assert Claim.within("e", "c", 0.5, 0.54, 0.05).passed
    assert not Claim.within("e", "c", 0.5, 0.56, 0.05).passed
    assert Claim.relative("e", "c", 2.0, 2.09, 0.05).passed and not Claim.relative("e", "c", 2.0, 2.11, 0.05).passed
    assert Claim.at_most("e", "c", 1.0, 0.99).passed and not Claim.at_least("e", "c", 1.0, 0.99).passed
    with pytest.raises(ValueError, match="nan"):
        Claim.within("e", "c", 0.5, float("nan"), 0.05)
    c = Claim.within("e", "c", 0.5, 0.52, 0.05, note="n")
    assert Claim.from_dict(json.loads(json.dumps(c.as_dict()))) == c
    assert "| e | c | 0.5 | 0.52 | ±0.05 | pass |" in claims_markdown([c])


def test_verdict_is_computed_from_the_rule_not_stored():
    """An edited manifest cannot turn a miss into a pass: from_dict recomputes the verdict from the numbers."""
    miss = Claim.within("e", "c", 0.5, 0.60, 0.05)
    record = json.loads(json.dumps(miss.as_dict()))
    assert record["passed"] is False and record["kind"] == "within" and record["tol"] == 0.05
    record["passed"] = True
    assert not Claim.from_dict(record).passed
    record["measured"] = 0.53  # the numbers decide: |0.53 − 0.5| ≤ 0.05
    assert Claim.from_dict(record).passed
    # the dataclass has no verdict field to set
    assert "passed" not in Claim.__dataclass_fields__


@pytest.mark.parametrize("change, message", [
    ({"verdict": "pass"}, "unknown keys"),
    ({"kind": "roughly"}, "kind"),
    ({"derived": "0.5"}, "expected a real number"),
    ({"measured": True}, "expected a real number"),
    ({"tol": -0.1}, "≥ 0"),
    ({"claim": 3}, "expected a string"),
    ({"category": "vibe"}, "category"),
    ({"is_exponent": "yes"}, "true or false"),
    ({"kind": "at_most"}, "one-sided"),  # at_most with tol 0.05: the bound belongs in derived
])
def test_from_dict_rejects_bad_records(change, message):
    record = {**Claim.within("e", "c", 0.5, 0.52, 0.05).as_dict(), **change}
    with pytest.raises(ValueError, match=message):
        Claim.from_dict(record)


def test_from_dict_needs_the_rule():
    record = Claim.within("e", "c", 0.5, 0.52, 0.05).as_dict()
    with pytest.raises(ValueError, match="lacks"):
        Claim.from_dict({k: v for k, v in record.items() if k != "tol"})


def test_exponent_claims_follow_one_tolerance_rule():
    # conventions.md: ±0.05 on exponents; 0.549 vs 0.5 passes, 0.551 fails.
    assert Claim.exponent("e", "ζ", 0.5, 0.549).passed and not Claim.exponent("e", "ζ", 0.5, 0.551).passed
    assert Claim.exponent("e", "ζ", 0.5, 0.55).tol == EXPONENT_TOLERANCE
    # A wider band only with a stated, measured finite-size correction: tol = 0.05 + correction.
    widened = Claim.exponent("e", "ζ", 0.5, 0.57, correction=0.03, note="local slopes vs 1/log T: drift 0.03")
    assert widened.passed and widened.tol == pytest.approx(0.08)
    with pytest.raises(ValueError, match="how it was measured"):
        Claim.exponent("e", "ζ", 0.5, 0.57, correction=0.03)
    record = Claim.exponent("e", "ζ", 0.5, 0.52).as_dict()
    with pytest.raises(ValueError, match="the rule is"):
        Claim.from_dict({**record, "tol": 0.1})  # an exponent claim cannot loosen its own band
    assert Claim.from_dict(record) == Claim.exponent("e", "ζ", 0.5, 0.52)


def test_sanity_checks_round_trip_as_their_own_category():
    s = SanityCheck.at_most("e", "optimum / feasible baseline", 1.0, 0.9, note="baseline is feasible")
    back = Claim.from_dict(json.loads(json.dumps(s.as_dict())))
    assert isinstance(back, SanityCheck) and back == s and back.is_sanity and back.as_dict()["category"] == "sanity"
    assert Claim.from_dict(asdict(s)) == s  # dataclasses.asdict carries the category as well
    assert type(Claim.from_dict(Claim.at_most("e", "c", 1.0, 0.9).as_dict())) is Claim
    with pytest.raises(ValueError, match="not an exponent claim"):
        SanityCheck("e", "c", 0.5, 0.5, "within", 0.05, is_exponent=True)
    table = claims_markdown([Claim.within("e", "c", 0.5, 0.52, 0.05), s])
    assert "| e | optimum / feasible baseline | 1 | 0.9 | ≤ 1 | ok | baseline is feasible |" in table
    assert table.index("Sanity checks") > table.index("| e | c |")


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
                            "sanity": 1, "sanity_passed": 1, "sanity_failed": 0}
    manifest = json.loads((tmp_path / "dummy_exp" / "manifest.json").read_text())
    assert manifest["files"] == ["dummy_exp/dummy.csv", "dummy_exp/dummy.png"]
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
    base = rep.code_version("numerics.experiments.plrf_fig2")
    assert base == rep.code_version("numerics.experiments.plrf_fig2")
    assert base != rep.code_version("numerics.experiments.plrf_fig3")
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
    import theory.export as export

    monkeypatch.setattr(export, "latex_document", lambda results: calls.append(1) or "\\documentclass{article}")
    rep.write_formulas(tmp_path)
    rep.write_formulas(tmp_path)
    assert calls == [1] and (tmp_path / "formulas.tex").read_text().startswith("\\documentclass")
    (tmp_path / ".formulas.key").write_text("stale\n")
    rep.write_formulas(tmp_path)
    assert calls == [1, 1]


def test_markdown_table_html_renders_pipe_tables():
    out = markdown_table_html("intro <b>\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<p>intro &lt;b&gt;</p>" in out and "<th>a</th>" in out and "<td>2</td>" in out
    assert out.count("<tr>") == 2, "the |---| separator row is not a table row"


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
